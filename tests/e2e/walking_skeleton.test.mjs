// The walking skeleton, end to end: the demo app (www), the prompt (Leptos Wasm from the
// edge), the edge worker in real workerd, and the reference authenticator (tessera-device).
// Started by `cargo xtask test`, which runs the stack and sets the environment below.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';

import { LoginPage, NAVIGATION_TIMEOUT, PromptPage, Screenshots, SignedInPage } from './pages.mjs';
import { required, launchChromium } from './env.mjs';

const WWW_URL = required('TESSERA_WWW_URL');
const DEVICE_BIN = required('TESSERA_DEVICE_BIN');
const DEVICE_STATE = required('TESSERA_DEVICE_STATE');
const ALICE_PASSWORD = required('TESSERA_ALICE_PASSWORD');
const SIGNED_IN = 'Signed in as alice (factor: duo_mobile_passcode)';

/** The current passcode from alice's authenticator, exactly as a person would read it. */
function currentCode() {
  const out = execFileSync(DEVICE_BIN, ['code'], {
    env: { ...process.env, TESSERA_DEVICE_STATE: DEVICE_STATE },
    encoding: 'utf8',
  });
  assert.match(out, /^\d{6}\n$/, 'tessera-device code prints six digits and a newline');
  return out.trim();
}

/** A well-formed 6-digit code that is not `code`. */
function otherCode(code) {
  return String((Number(code) + 500_001) % 1_000_000).padStart(6, '0');
}

describe('walking skeleton: password, then a passcode in the embedded prompt', () => {
  let browser;
  // The passcode accepted in the first test; the second test replays it.
  let usedCode;

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  async function signInToPrompt(shots) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(NAVIGATION_TIMEOUT);
    const login = new LoginPage(page, WWW_URL);
    await login.goto();
    await shots.take(page, 'login');
    await login.signIn('alice', ALICE_PASSWORD);
    const prompt = new PromptPage(page);
    await prompt.waitForPasscodeScreen();
    await shots.take(page, 'prompt');
    return { context, page, prompt };
  }

  test('a wrong passcode is refused with attempts left, the current one signs alice in', async () => {
    const shots = new Screenshots(process.env.TESSERA_SCREENSHOTS, 'skeleton-1');
    const { context, page, prompt } = await signInToPrompt(shots);
    try {
      await prompt.submitPasscode(otherCode(currentCode()));
      const refusal = await prompt.alertMatching(/Incorrect passcode/);
      assert.match(refusal, /attempts left/);
      await shots.take(page, 'wrong-passcode');

      usedCode = currentCode();
      await Promise.all([
        page.waitForURL((url) => url.pathname.startsWith('/duo-callback'), { timeout: NAVIGATION_TIMEOUT }),
        prompt.submitPasscode(usedCode),
      ]);
      await new SignedInPage(page).waitForSignedIn(SIGNED_IN);
      assert.ok(new URL(page.url()).href.startsWith(WWW_URL), 'back on the demo app');
      await shots.take(page, 'signed-in');
    } catch (error) {
      await shots.take(page, 'failure').catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  });

  test('the same passcode cannot be used twice', async (t) => {
    if (!usedCode) {
      t.skip('needs the passcode accepted by the previous test');
      return;
    }
    const shots = new Screenshots(process.env.TESSERA_SCREENSHOTS, 'skeleton-2');
    const { context, page, prompt } = await signInToPrompt(shots);
    try {
      const before = page.url();
      await prompt.submitPasscode(usedCode);
      const refusal = await prompt.alertMatching(/already used/);
      assert.match(refusal, /already used/);
      await shots.take(page, 'reused-passcode');
      // Still on the prompt: a refusal never navigates.
      await page.waitForTimeout(500);
      assert.equal(page.url(), before);
      assert.ok(await prompt.passcode.isVisible(), 'the passcode field is still there');
    } catch (error) {
      await shots.take(page, 'failure').catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  });
});

describe('local HTTPS for Duo SDK clients', () => {
  test('the edge answers /healthz over TLS with the local CA', async () => {
    const base = required('TESSERA_EDGE_HTTPS_URL');
    const caFile = required('TESSERA_CA');
    const ca = readFileSync(caFile);
    const { status, body } = await new Promise((resolve, reject) => {
      const req = request(new URL('/healthz', base), { ca, timeout: 10_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(body), { status: 'ok' });
  });
});
