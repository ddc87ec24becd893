// `cargo xtask bench`: navigation start → interactive method screen of the embedded
// prompt, in headless Chromium against the real stack (www + edge in workerd) on
// localhost. The prompt sets the `performance` mark `tessera:interactive` when its first
// method screen can be used; its `startTime` is measured from the navigation start.
// Prints one JSON line: {loads, median_ms, first_ms, min_ms, max_ms}. Not a test file.

import { LoginPage, NAVIGATION_TIMEOUT, PromptPage } from './pages.mjs';
import { launchChromium } from './env.mjs';

const WWW_URL = process.env.TESSERA_WWW_URL;
const PASSWORD = process.env.TESSERA_ALICE_PASSWORD;
const LOADS = Number(process.env.TESSERA_BENCH_LOADS || 20);

const browser = await launchChromium();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(NAVIGATION_TIMEOUT);
  const login = new LoginPage(page, WWW_URL);
  await login.goto();
  await login.signIn('alice', PASSWORD);
  const prompt = new PromptPage(page);
  const times = [];
  // The first load (Wasm not yet cached) is reported apart; the median is over reloads.
  for (let i = 0; i <= LOADS; i += 1) {
    if (i > 0) await page.reload();
    await prompt.waitForPasscodeScreen();
    const mark = await page.waitForFunction(() =>
      performance.getEntriesByName('tessera:interactive')[0]?.startTime);
    times.push(await mark.jsonValue());
  }
  const [first, ...rest] = times;
  rest.sort((a, b) => a - b);
  const median = rest.length % 2
    ? rest[(rest.length - 1) / 2]
    : (rest[rest.length / 2 - 1] + rest[rest.length / 2]) / 2;
  console.log(JSON.stringify({
    loads: rest.length,
    median_ms: median,
    first_ms: first,
    min_ms: rest[0],
    max_ms: rest[rest.length - 1],
  }));
} finally {
  await browser.close();
}
