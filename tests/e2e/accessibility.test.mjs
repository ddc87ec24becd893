// Accessibility of the sign-in journey, audited by axe-core in the same headless Chromium
// (WCAG 2.1 A and AA rules). axe looks inside the prompt's open shadow root.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { LoginPage, NAVIGATION_TIMEOUT, PromptPage } from './pages.mjs';
import { launchChromium } from './env.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const WWW_URL = process.env.TESSERA_WWW_URL;
const ALICE_PASSWORD = process.env.TESSERA_ALICE_PASSWORD;

/** Runs axe on the page and returns the violations, one readable line each. */
async function audit(page) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s)`);
  });
  return violations;
}

describe('accessibility (axe-core, WCAG 2.1 AA)', () => {
  let browser;
  let context;
  let page;

  before(async () => {
    assert.ok(WWW_URL && ALICE_PASSWORD, 'run with `cargo xtask test`');
    browser = await launchChromium();
    // The pages' CSP forbids inline scripts; the audit script is ours, not the page's.
    context = await browser.newContext({ bypassCSP: true });
    page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
  });

  test('the sign-in form has no violations', async () => {
    const login = new LoginPage(page, WWW_URL);
    await login.goto();
    assert.deepEqual(await audit(page), []);
  });

  test('the prompt, and its error state, have no violations', async () => {
    const login = new LoginPage(page, WWW_URL);
    await login.goto();
    await login.signIn('alice', ALICE_PASSWORD);
    const prompt = new PromptPage(page);
    await prompt.waitForPasscodeScreen();
    assert.deepEqual(await audit(page), []);
    // Malformed input is refused without counting as a failure, and shows the alert.
    await prompt.submitPasscode('12');
    await prompt.alertMatching(/6-digit/);
    assert.deepEqual(await audit(page), []);
  });
});
