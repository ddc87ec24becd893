// Push through the real prompt in headless Chromium: the Verified Push screen shows the
// code, the real `tessera-device` answers it, and the browser lands signed in. Keyboard
// only where the person acts in the browser (resend, "No, report it"); the demo app's own
// sign-in for alice, whose push device xtask activated through the real endpoint.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { Client as DuoClient } from '@duosecurity/duo_universal';

import {
  LoginPage,
  NAVIGATION_TIMEOUT,
  PROMPT_TIMEOUT,
  Screenshots,
  SignedInPage,
} from './pages.mjs';
import { Device, notifications, unique, userWithDevice } from './push.mjs';
import { required, launchChromium } from './env.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const WWW_URL = required('TESSERA_WWW_URL');
const CLIENT_ID = required('TESSERA_CLIENT_ID');
const CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
const DEVICE_STATE = required('TESSERA_DEVICE_STATE');
const ALICE_PASSWORD = required('TESSERA_ALICE_PASSWORD');
const REDIRECT_URI = 'https://rp.example/duo-callback';

/** A signed authorize request for `username`, built by the official Node Duo SDK. */
async function authorizeUrl(username, state) {
  const client = new DuoClient({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiHost: new URL(EDGE_URL).host,
    redirectUrl: REDIRECT_URI,
  });
  const url = new URL(await client.createAuthUrl(username, state));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: url.searchParams.get('client_id'),
    request: url.searchParams.get('request'),
  });
  return `${EDGE_URL}/oauth/v1/authorize?${query}`;
}

/** The id (or test id) of the focused element, looking inside shadow roots. */
function focusedId(page) {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    return element?.id || element?.dataset?.testid || element?.tagName || '';
  });
}

/** Presses Tab until the element with `id` has the focus (at most `limit` presses). */
async function tabTo(page, id, limit = 20) {
  for (let presses = 0; presses < limit; presses += 1) {
    if ((await focusedId(page)) === id) return;
    await page.keyboard.press('Tab');
  }
  assert.equal(await focusedId(page), id, `Tab reaches #${id}`);
}

/** The next `/prompt/v1/push` answer the page receives, as JSON. */
async function nextPush(page) {
  const response = await page.waitForResponse(
    (r) => r.url().endsWith('/prompt/v1/push') && r.request().method() === 'POST',
    { timeout: PROMPT_TIMEOUT },
  );
  assert.equal(response.status(), 200, await response.text());
  return response.json();
}

describe('push in the prompt (Chromium, real edge, real authenticator)', () => {
  let browser;
  const shots = new Screenshots(process.env.TESSERA_SCREENSHOTS, 'prompt-push');

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  test('alice in the demo app: Verified Push shows the code, tessera-device approves it, she is signed in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    try {
      const login = new LoginPage(page, WWW_URL);
      await login.goto();
      const pushed = nextPush(page);
      await login.signIn('alice', ALICE_PASSWORD);
      const push = await pushed;
      assert.match(push.verification_code, /^\d{3}$/, 'a 3-digit Verified Push code');
      const code = page.locator('[data-testid=verification-code]');
      await code.waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
      assert.equal((await code.innerText()).replace(/\D/g, ''), push.verification_code);
      await page.locator('[data-testid=push-countdown]').waitFor({ state: 'visible' });
      await shots.take(page, 'verified-push');

      const alice = new Device('alice');
      alice.state = DEVICE_STATE;
      alice.ok('approve', '--code', push.verification_code);
      await new SignedInPage(page).waitForSignedIn('Signed in as alice (factor: verified_duo_push)');
      await shots.take(page, 'signed-in');
    } finally {
      await context.close();
    }
  });

  test('keyboard only: "Send another push" by Tab and Enter, the new code is approved, the redirect carries the code', async () => {
    const username = unique('kbpush');
    const device = await userWithDevice(username);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    await page.route(`${REDIRECT_URI}**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' }));
    try {
      const state = randomBytes(24).toString('hex');
      const first = nextPush(page);
      await page.goto(await authorizeUrl(username, state));
      const firstPush = await first;
      await page.locator('[data-testid=verification-code]').waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });

      await tabTo(page, 'tessera-resend');
      const second = nextPush(page);
      await page.keyboard.press('Enter');
      const secondPush = await second;
      assert.notEqual(secondPush.txid, firstPush.txid, 'a new transaction');
      await page.waitForFunction(
        (expected) => {
          const root = document.querySelector('[data-tessera-prompt]')?.shadowRoot;
          const shown = root?.querySelector('[data-testid=verification-code]')?.textContent ?? '';
          return shown.replace(/\D/g, '') === expected;
        },
        secondPush.verification_code,
        { timeout: PROMPT_TIMEOUT },
      );

      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(REDIRECT_URI), { timeout: NAVIGATION_TIMEOUT }),
        Promise.resolve().then(() => device.ok('approve', '--code', secondPush.verification_code)),
      ]);
      const back = new URL(page.url());
      assert.ok(back.searchParams.get('duo_code'), 'the redirect carries duo_code');
      assert.equal(back.searchParams.get('state'), state);
    } finally {
      await context.close();
    }
  });

  test('denied on the device: "Was this request from you?" → "No, report it" by keyboard records fraud', async () => {
    const username = unique('fraudkb');
    const device = await userWithDevice(username);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    try {
      const pushed = nextPush(page);
      await page.goto(await authorizeUrl(username, randomBytes(24).toString('hex')));
      await pushed;
      await page.locator('[data-testid=verification-code]').waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });

      device.ok('deny');
      await page.locator('#tessera-was-it-you').waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
      await shots.take(page, 'was-it-you');
      await tabTo(page, 'tessera-feedback-no');
      const feedback = page.waitForResponse(
        (r) => r.url().endsWith('/prompt/v1/push/feedback'),
        { timeout: PROMPT_TIMEOUT },
      );
      await page.keyboard.press('Enter');
      assert.equal((await feedback).status(), 204);
      await page.locator('[data-testid=push-screen][data-phase=answered]').waitFor({ timeout: PROMPT_TIMEOUT });
      await shots.take(page, 'reported');

      const outbox = await notifications();
      assert.ok(
        outbox.some((n) => JSON.stringify(n).includes(username)),
        'the fraud report reached the administrators\' outbox',
      );
    } finally {
      await context.close();
    }
  });
});
