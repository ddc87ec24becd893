// Bypass codes end to end against the real edge in workerd: issued through
// `/internal/v1/bypass_codes`, then typed in headless Chromium into the hosted prompt
// ("Other options" → "Enter a bypass code") and exchanged by the official Node SDK for an
// id_token whose factor is `bypass_code`; the same code again is refused. A user without
// devices signs in with a code alone, and no code is ever in the SQLite files in clear.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client as DuoClient } from '@duosecurity/duo_universal';

import { NAVIGATION_TIMEOUT, PromptPage } from './pages.mjs';
import { call } from './push.mjs';
import { seedUser } from './seed.mjs';
import { filesUnder, required, launchChromium } from './env.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const WWW_URL = required('TESSERA_WWW_URL');
const CLIENT_ID = required('TESSERA_CLIENT_ID');
const CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
const STATE_DIR = required('TESSERA_STATE_DIR');
const EDGE_HTTPS = new URL(required('TESSERA_EDGE_HTTPS_URL'));
const CA = readFileSync(required('TESSERA_CA'));
const REDIRECT_URI = new URL('/duo-callback', WWW_URL).href;
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

const unique = (prefix) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** The official Node SDK, as the relying app uses it, for the edge the browser talks to. */
function duoClient() {
  return new DuoClient({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiHost: new URL(EDGE_URL).host,
    redirectUrl: REDIRECT_URI,
  });
}

/** The SDK for the code exchange, over HTTPS (it speaks nothing else) trusting only the local CA. */
function exchangeClient() {
  const client = new DuoClient({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiHost: EDGE_HTTPS.host,
    redirectUrl: REDIRECT_URI,
  });
  assert.ok(client.axios?.defaults?.httpsAgent instanceof https.Agent, 'the SDK keeps its agent here');
  client.axios.defaults.httpsAgent = new https.Agent({ ca: CA });
  return client;
}

/** The hosted prompt's address for `username`, with a request the SDK signed. */
async function hostedPromptUrl(username, state) {
  const url = new URL(await duoClient().createAuthUrl(username, state));
  const query = new URLSearchParams({
    response_type: 'code', client_id: url.searchParams.get('client_id'), request: url.searchParams.get('request'),
  });
  return `${EDGE_URL}/oauth/v1/authorize?${query}`;
}


/** Issues bypass codes to a demo user; returns the response body. */
async function issue(username, params) {
  const response = await call('/internal/v1/bypass_codes', {
    headers: ADMIN,
    json: { realm: 'demo', username, ...params },
  });
  assert.equal(response.status, 200, `issuing to ${username}: ${response.text}`);
  return response.json;
}

async function list(username) {
  const query = new URLSearchParams({ realm: 'demo', username });
  const response = await call(`/internal/v1/bypass_codes?${query}`, { method: 'GET', headers: ADMIN });
  assert.equal(response.status, 200, response.text);
  return response;
}

/** `/prompt/v1/start` for `username` with a request the SDK signed. */
async function start(username) {
  const url = new URL(await duoClient().createAuthUrl(username, randomBytes(24).toString('hex')));
  return call('/prompt/v1/start', { json: { client_id: CLIENT_ID, request: url.searchParams.get('request') } });
}

const passcode = (session, code) => call('/prompt/v1/passcode', { json: { session, passcode: code } });

/** Creates a demo user without devices. */
async function seedDeviceless(username) {
  const response = await call('/internal/v1/seed', {
    headers: ADMIN,
    json: { realm: 'demo', users: [{ username, devices: [] }] },
  });
  assert.equal(response.status, 200, response.text);
}

describe('bypass codes against real workerd', () => {
  let browser;

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  /**
   * Opens the hosted prompt for `username`, picks the bypass code under "Other options",
   * types `typed` and submits; `expectOpen`: the prompt opens on the bypass code (the
   * method this browser used last) instead. Returns the page and its prompt (the caller
   * closes the context).
   */
  async function typeBypassCode(context, username, typed, expectOpen = false) {
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    page.on('pageerror', (error) => console.error(`[bypass] page error: ${error.message}`));
    // The relying app's callback is not under test: answer it here.
    await page.route(`${REDIRECT_URI}**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' }));
    const state = randomBytes(24).toString('hex');
    await page.goto(await hostedPromptUrl(username, state));
    const prompt = new PromptPage(page);
    const opened = await prompt.openBypassCode();
    assert.equal(opened, expectOpen, opened ? 'opened on the bypass code' : 'opened elsewhere');
    await prompt.submitBypassCode(typed);
    return { page, state, prompt };
  }

  test('issued by the admin endpoint, typed in the hosted prompt, good once', async () => {
    const username = unique('bypass');
    await seedUser(EDGE_URL, ADMIN_TOKEN, username);
    const issued = await issue(username, { count: 2 });
    assert.equal(issued.codes.length, 2);
    for (const code of issued.codes) assert.match(code, /^\d{9}$/);
    assert.equal(issued.bypass_codes.length, 2);
    assert.equal(issued.bypass_codes[0].reuse_count, 1);
    const [code] = issued.codes;

    const started = await start(username);
    assert.equal(started.status, 200, started.text);
    assert.deepEqual(started.json.methods.map((m) => m.method), ['passcode', 'bypass_code'], 'offered last');

    const context = await browser.newContext();
    try {
      const { page, state } = await typeBypassCode(context, username, `${code.slice(0, 3)} ${code.slice(3, 6)} ${code.slice(6)}`);
      await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI), { timeout: NAVIGATION_TIMEOUT });
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('state'), state);
      const token = await exchangeClient().exchangeAuthorizationCodeFor2FAResult(back.searchParams.get('duo_code'), username);
      assert.equal(token.auth_context.factor, 'bypass_code');
      assert.equal(token.auth_context.reason, 'valid_passcode');
      assert.equal(token.auth_context.result, 'success');

      // The same code again: refused in the prompt, one attempt counted.
      const again = await typeBypassCode(context, username, code, true);
      await again.prompt.alertMatching(/Incorrect passcode\. 9 attempts left\./);
      assert.ok(!again.page.url().startsWith(REDIRECT_URI), 'no redirect');
    } finally {
      await context.close();
    }
    const left = (await list(username)).json.bypass_codes;
    assert.deepEqual(left.map((info) => info.bypass_code_id), [issued.bypass_codes[1].bypass_code_id]);
  });

  test('a user without devices signs in with a code alone; reuse_count and refusals', async () => {
    const username = unique('bypass-only');
    await seedDeviceless(username);
    const before = await start(username);
    assert.equal(before.json?.error?.code, 'enrollment_required', before.text);
    const { codes } = await issue(username, { count: 1, reuse_count: 2, valid_secs: 3600 });
    const listed = (await list(username)).json.bypass_codes;
    assert.equal(listed[0].reuse_count, 2);
    assert.ok(Math.abs(listed[0].expiration - (Date.now() / 1000 + 3600)) < 120, JSON.stringify(listed));
    for (const use of [1, 2]) {
      const started = await start(username);
      assert.equal(started.status, 200, started.text);
      assert.deepEqual(started.json.methods, [{ method: 'bypass_code' }]);
      assert.equal(started.json.default_method, 'bypass_code');
      const done = await passcode(started.json.session, codes[0].replace(/(\d{3})(\d{3})/, '$1-$2-'));
      assert.equal(done.status, 200, `use ${use}: ${done.text}`);
    }
    const after = await start(username);
    assert.equal(after.json?.error?.code, 'enrollment_required', 'no codes left, no devices');
    // Replaced by default; kept with preserve_existing.
    const first = await issue(username, { count: 3 });
    await issue(username, { count: 2 });
    assert.equal((await list(username)).json.bypass_codes.length, 2);
    await issue(username, { count: 2, preserve_existing: true });
    assert.equal((await list(username)).json.bypass_codes.length, 4);
    const started = await start(username);
    const replaced = await passcode(started.json.session, first.codes[0]);
    assert.equal(replaced.json?.error?.code, 'invalid_passcode', replaced.text);
  });

  test('no bypass code is in the SQLite files in clear, nor in the list', async () => {
    const username = unique('bypass-at-rest');
    await seedUser(EDGE_URL, ADMIN_TOKEN, username);
    const { codes } = await issue(username, { count: 10, reuse_count: 3 });
    // One code is redeemed (its row is rewritten), the others stay as issued.
    const started = await start(username);
    const done = await passcode(started.json.session, codes[0]);
    assert.equal(done.status, 200, done.text);
    const listing = await list(username);
    assert.equal(listing.json.bypass_codes.length, 10);
    for (const code of codes) assert.ok(!listing.text.includes(code), 'the list never shows a code');
    const files = filesUnder(join(STATE_DIR, 'wrangler'));
    assert.ok(files.some((path) => /\.sqlite/.test(path)), `SQLite files found: ${files.length}`);
    const contents = files.map((path) => readFileSync(path));
    const containing = (needle) => contents.filter((bytes) => bytes.includes(Buffer.from(needle))).length;
    assert.ok(containing(username) > 0, 'the scan sees the account rows');
    assert.ok(containing(listing.json.bypass_codes[0].bypass_code_id) > 0, 'the scan sees the bypass_code rows');
    for (const code of codes) assert.equal(containing(code), 0, `code ${code} is not stored in clear`);
  });
});
