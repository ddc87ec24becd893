// The prompt as people use it, in headless Chromium against the real stack: completed
// with the keyboard alone (hosted mode), embedded in a host page whose CSS attacks it
// (`* { all: unset !important }` and more), and every screen, in English and Arabic,
// audited by axe-core (WCAG 2.2 A/AA rules) with screenshots at desktop and phone width.
// Started by `cargo xtask test` (or `cargo xtask e2e prompt`).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { Client as DuoClient } from '@duosecurity/duo_universal';

import {
  NAVIGATION_TIMEOUT, PROMPT_TIMEOUT, PreviewPage, Screenshots, serveHostPages,
} from './pages.mjs';
import { seedUser, totp } from './seed.mjs';
import { required, launchChromium } from './env.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const WWW_URL = required('TESSERA_WWW_URL');
const CLIENT_ID = required('TESSERA_CLIENT_ID');
const CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
const REDIRECT_URI = new URL('/duo-callback', WWW_URL).href;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Every screen `Tessera.preview` can show (prompt/src/preview_data.rs). */
const SCREENS = [
  'loading', 'passcode', 'passcode-error', 'bypass', 'push-sending', 'verified-push', 'push',
  'push-denied', 'push-reported', 'push-expired', 'push-fraud', 'push-wrong-code',
  'unavailable', 'remember', 'success', 'locked', 'location', 'enrollment', 'timeout',
  'failed', 'misconfigured',
];

/**
 * A signed authorize request for `username`, built by the official Node Duo SDK as a
 * relying app would, for the edge the browser talks to (its `aud` names that host).
 */
async function authorizeRequest(username, state, app = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }) {
  const client = new DuoClient({
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    apiHost: new URL(EDGE_URL).host,
    redirectUrl: REDIRECT_URI,
  });
  const url = new URL(await client.createAuthUrl(username, state));
  return { clientId: url.searchParams.get('client_id'), request: url.searchParams.get('request') };
}

function newState() {
  return randomBytes(24).toString('hex');
}

async function newUser(prefix) {
  const username = `${prefix}-${randomBytes(4).toString('hex')}`;
  const secret = await seedUser(EDGE_URL, ADMIN_TOKEN, username);
  return { username, secret };
}

function alphanumerics(length) {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(length), (byte) => letters[byte % letters.length]).join('');
}

/** A second application of the demo realm whose registered origin is `origin`. */
async function seedApplication(origin) {
  const app = {
    clientId: `DI${alphanumerics(18)}`,
    clientSecret: alphanumerics(40),
  };
  const response = await fetch(new URL('/internal/v1/seed', EDGE_URL), {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      realm: 'demo',
      applications: [{
        client_id: app.clientId,
        client_secret: app.clientSecret,
        name: 'Hostile Host',
        origins: [origin],
      }],
    }),
  });
  assert.equal(response.status, 200, `seeding the application: ${await response.text()}`);
  return app;
}

/** axe-core on the whole page (it enters open shadow roots); one line per violation. */
async function audit(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const result = await globalThis.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/** Prints the page's errors and console messages, so a failure says what the page saw. */
function watch(page, name) {
  page.on('pageerror', (error) => console.error(`[${name}] page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      console.error(`[${name}] console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) =>
    console.error(`[${name}] request failed: ${request.url()} ${request.failure()?.errorText}`));
}

describe('the prompt in Chromium', () => {
  let browser;

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  test('keyboard only: the hosted prompt is completed with Tab, typing and Enter', async () => {
    const { username, secret } = await newUser('keyboard');
    const state = newState();
    const { clientId, request } = await authorizeRequest(username, state);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    watch(page, 'keyboard');
    // The relying app's callback is not under test: answer it here.
    await page.route(`${REDIRECT_URI}**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' }));
    try {
      const query = new URLSearchParams({ response_type: 'code', client_id: clientId, request });
      await page.goto(`${EDGE_URL}/oauth/v1/authorize?${query}`);
      const input = page.getByLabel('Passcode', { exact: true });
      await input.waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });

      // From the top of the page, the first Tab reaches the passcode field.
      await page.keyboard.press('Tab');
      assert.equal(await input.evaluate((el) => el.matches(':focus')), true, 'Tab lands on the passcode');
      // The focus is visible (an outline of at least 2px).
      const outline = await input.evaluate((el) => getComputedStyle(el).outlineWidth);
      assert.ok(parseFloat(outline) >= 2, `visible focus: outline ${outline}`);

      // A wrong code first: the alert is announced and the focus returns to a fresh field.
      const wrong = String((Number(totp(secret)) + 500_001) % 1_000_000).padStart(6, '0');
      await page.keyboard.type(wrong);
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: /attempts left/ }).waitFor({ timeout: PROMPT_TIMEOUT });
      await page.waitForFunction(() => {
        const root = document.querySelector('[data-tessera-prompt]').shadowRoot;
        return root.activeElement?.id === 'tessera-passcode';
      });

      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(REDIRECT_URI), { timeout: NAVIGATION_TIMEOUT }),
        (async () => {
          await page.keyboard.type(totp(secret));
          await page.keyboard.press('Enter');
        })(),
      ]);
      const back = new URL(page.url());
      assert.ok(back.searchParams.get('duo_code'), 'the redirect carries duo_code');
      assert.equal(back.searchParams.get('state'), state);
    } finally {
      await context.close();
    }
  });

  test('embedded in a page whose CSS attacks it, the prompt renders and completes', async () => {
    const { username, secret } = await newUser('hostile');
    const state = newState();
    const pages = new Map();
    const server = await serveHostPages(pages);
    const app = await seedApplication(server.origin);
    const { clientId, request } = await authorizeRequest(username, state, app);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    const shots = new Screenshots(process.env.TESSERA_SCREENSHOTS, 'prompt-hostile');
    watch(page, 'hostile');
    // Served by the test on an origin registered for its own application.
    const pageUrl = `${server.origin}/hostile`;
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hostile host page</title>
<style>
  * { all: unset !important; }
  *, *::before, *::after { color: #f0f !important; background: #0f0 !important;
    font: 3px/1 serif !important; letter-spacing: 1em !important; visibility: hidden !important;
    direction: rtl !important; text-transform: uppercase !important;
    outline: none !important; pointer-events: none !important; }
  div, section, input, button, label, form, p { display: inline !important; position: static !important; }
  head, style, script { display: none !important; }
</style></head>
<body><h1>A page that styles everything</h1><div id="tessera-prompt"></div>
<script src="${EDGE_URL}/prompt/v1/embed.js"></script>
<script>
  Tessera.mount(document.getElementById('tessera-prompt'), {
    clientId: ${JSON.stringify(clientId)}, request: ${JSON.stringify(request)}, lang: 'en',
    onComplete: function (result) { window.tesseraResult = result; },
  });
</script></body></html>`;
    pages.set('/hostile', html);
    try {
      await page.goto(pageUrl);
      const input = page.locator('#tessera-prompt').getByLabel('Passcode', { exact: true });
      await input.waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
      await page.waitForFunction(() => {
        const root = document.querySelector('[data-tessera-prompt]').shadowRoot;
        return getComputedStyle(root.querySelector('section.tessera')).maxInlineSize !== 'none';
      });
      const looks = await page.evaluate(() => {
        const host = document.querySelector('[data-tessera-prompt]');
        const root = host.shadowRoot;
        const style = (selector) => getComputedStyle(root.querySelector(selector));
        return {
          host: getComputedStyle(host).display,
          visibility: style('input').visibility,
          labelSize: style('label').fontSize,
          labelColor: style('label').color,
          opacity: style('section.tessera').opacity,
          direction: style('section.tessera').direction,
          button: style('button[type=submit]').display,
          events: style('input').pointerEvents,
          titleSize: style('h2').fontSize,
          wide: root.querySelector('section.tessera').getBoundingClientRect().width >= 320,
        };
      });
      assert.deepEqual(looks, {
        host: 'block',
        visibility: 'visible',
        labelSize: '16px',
        labelColor: 'rgb(31, 35, 40)',
        opacity: '1',
        direction: 'ltr',
        button: 'block',
        events: 'auto',
        titleSize: '20px',
        wide: true,
      });
      await shots.take(page, 'passcode');

      await input.click();
      await input.fill(totp(secret));
      await page.locator('#tessera-prompt').getByRole('button', { name: 'Verify', exact: true }).click();
      const result = await page.waitForFunction(() => window.tesseraResult, null, { timeout: PROMPT_TIMEOUT });
      const { code, state: returned } = await result.jsonValue();
      assert.ok(code && code.length > 20, 'a one-time code reached the page');
      assert.equal(returned, state);
      assert.equal(page.url(), pageUrl, 'with onComplete the page stays where it is');
      await shots.take(page, 'done');
    } finally {
      await context.close();
      await server.close();
    }
  });

  for (const lang of ['en', 'ar']) {
    test(`every screen in ${lang} passes axe-core, with screenshots at desktop and phone width`, async () => {
      const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(NAVIGATION_TIMEOUT);
      const shots = new Screenshots(process.env.TESSERA_SCREENSHOTS, `prompt-${lang}`);
      watch(page, `preview ${lang}`);
      const failures = [];
      const server = await serveHostPages(new Map([['/preview', PreviewPage.html(EDGE_URL)]]));
      try {
        const preview = new PreviewPage(page, `${server.origin}/preview`);
        await preview.open();
        for (const screen of SCREENS) {
          await page.setViewportSize({ width: 1024, height: 800 });
          await preview.show(screen, lang);
          const dir = await page.locator('#preview section.tessera').getAttribute('dir');
          assert.equal(dir, lang === 'ar' ? 'rtl' : 'ltr', screen);
          const violations = await audit(page);
          if (violations.length) failures.push(`${screen}: ${violations.join('; ')}`);
          await shots.take(page, screen);
          await page.setViewportSize({ width: 375, height: 740 });
          // Nothing overflows sideways at phone width.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${screen} overflows by ${overflow}px at 375px`);
          await shots.take(page, `${screen}-phone`);
        }
      } finally {
        await context.close();
        await server.close();
      }
      assert.deepEqual(failures, []);
    });
  }
});
