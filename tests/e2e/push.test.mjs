// Push end to end against the real stack: the prompt API driven with fetch as the prompt
// drives it, the real `tessera-device` binary as the authenticator (activation, WebSocket,
// signed answers), and forged or replayed messages built independently in `push.mjs`.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import {
  Device,
  REALM,
  call,
  deviceAuthorization,
  exchange,
  issueActivation,
  notifications,
  now,
  postApproval,
  pushCancel,
  pushFeedback,
  pushStart,
  pushStatus,
  required,
  signedApproval,
  startPrompt,
  unique,
  userWithDevice,
} from './push.mjs';

const LIFETIME = Number(required('TESSERA_PUSH_LIFETIME_SECONDS'));

/** Starts a prompt and a push for `username`; returns the session and the push. */
async function startedPush(username, extra = {}) {
  const prompt = await startPrompt(username);
  const pushed = await pushStart(prompt.session, extra);
  assert.equal(pushed.status, 200, pushed.text);
  return { session: prompt.session, prompt: prompt, push: pushed.json };
}

function assertError(response, status, code) {
  assert.equal(response.status, status, response.text);
  assert.equal(response.json?.error?.code, code, response.text);
  assert.equal(typeof response.json.error.message, 'string');
}

describe('Verified Push', () => {
  test('a push reaches the connected device at once, approve --code signs in, the code redeems', async () => {
    const username = unique('vp');
    const device = await userWithDevice(username);
    const prompt = await startPrompt(username);
    const { device_id: deviceId } = device.account();
    assert.deepEqual(prompt.methods[0], { method: 'verified_push', device_name: `${username}'s phone`, device_id: deviceId });
    assert.equal(prompt.default_method, 'verified_push');
    assert.ok(prompt.methods.some((m) => m.method === 'passcode'), 'the activated device also gives passcodes');

    const watcher = await device.watch();
    try {
      const sentAt = performance.now();
      const pushed = await pushStart(prompt.session);
      assert.equal(pushed.status, 200, pushed.text);
      const { txid, verification_code: code, expires_at: expiresAt, device_name: deviceName } = pushed.json;
      assert.match(code, /^\d{3}$/);
      assert.equal(deviceName, `${username}'s phone`);
      assert.ok(Math.abs(expiresAt - (now() + LIFETIME)) <= 2, `expires_at ${expiresAt}`);

      const delivered = await watcher.next();
      assert.ok(delivered.at - sentAt < 2000, `delivered after ${delivered.at - sentAt} ms`);
      const push = delivered.message;
      assert.equal(push.txid, txid);
      assert.equal(push.application, 'Tessera Demo');
      assert.equal(push.username, username);
      assert.equal(push.verified, true);
      assert.equal(push.code_length, 3);
      assert.equal(push.expires_at, expiresAt);
      assert.ok(Math.abs(push.time - now()) <= 2);
      assert.equal(push.code, undefined, 'the device is never told the code');

      // A long poll is pending until the device answers, then returns at once.
      const pending = await pushStatus(prompt.session, txid, 0);
      assert.deepEqual(pending.json, { state: 'pending' });
      const poll = pushStatus(prompt.session, txid, 20_000);
      await sleep(300);
      const approvedAt = performance.now();
      const approved = device.run('approve', '--code', code);
      assert.equal(approved.status, 0, approved.stderr);
      assert.match(approved.stdout, /Approved Tessera Demo/);
      const status = await poll;
      assert.ok(performance.now() - approvedAt < 3000);
      assert.equal(status.status, 200, status.text);
      assert.equal(status.json.state, 'approved');
      const completion = status.json.completion;
      assert.ok(completion.code && completion.state && completion.redirect.includes('duo_code='));

      const token = await exchange(completion.code);
      assert.equal(token.status, 200, JSON.stringify(token.json));
      const claims = JSON.parse(Buffer.from(token.json.id_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.preferred_username ?? claims.sub, username);
      assert.equal(JSON.stringify(claims).includes('verified_duo_push'), true, JSON.stringify(claims));

      // The completion is handed out once; the device heard the push is over.
      const again = await pushStatus(prompt.session, txid, 0);
      assertError(again, 404, 'transaction_not_found');
    } finally {
      watcher.stop();
    }
  });

  test('a push sent while no device is connected waits and is delivered on connect', async () => {
    const username = unique('late');
    const device = await userWithDevice(username);
    const { push } = await startedPush(username);
    const watcher = await device.watch();
    try {
      const delivered = await watcher.next();
      assert.equal(delivered.message.txid, push.txid);
    } finally {
      watcher.stop();
    }
  });

  test('a wrong code ends the push as wrong_code and counts as a failure', async () => {
    const username = unique('wrong');
    const device = await userWithDevice(username);
    const { session, push } = await startedPush(username);
    const wrong = push.verification_code === '000' ? '111' : '000';
    const refused = device.run('approve', '--code', wrong);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /does not match/);
    const status = await pushStatus(session, push.txid, 0);
    assert.equal(status.json.state, 'wrong_code');
    assert.equal(status.json.error.code, 'invalid_passcode');
    const firstLeft = status.json.error.attempts_left;
    assert.ok(Number.isInteger(firstLeft));

    // A second wrong code on a new push: one attempt fewer.
    const second = await pushStart(session);
    const wrong2 = second.json.verification_code === '000' ? '111' : '000';
    assert.equal(device.run('approve', '--code', wrong2).status, 2);
    const status2 = await pushStatus(session, second.json.txid, 0);
    assert.equal(status2.json.error.attempts_left, firstLeft - 1);
    // The right code afterwards is refused: the push is over.
    assert.equal(device.run('approve', '--code', second.json.verification_code, '--txid', second.json.txid).status, 2);
  });

  test('approve without the code is refused by the CLI, plain push is refused by policy', async () => {
    const username = unique('nocode');
    const device = await userWithDevice(username);
    const { session, push } = await startedPush(username);
    const missing = device.run('approve');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--code/);
    assertError(await pushStart(session, { method: 'push' }), 400, 'method_unavailable');
    assert.deepEqual((await pushStatus(session, push.txid)).json, { state: 'pending' });
  });

  test('nobody answers: the push expires, the long poll says so, a late answer is refused', async () => {
    const username = unique('timeout');
    const device = await userWithDevice(username);
    const { session, push } = await startedPush(username);
    const started = performance.now();
    let status = await pushStatus(session, push.txid, 25_000);
    while (status.json?.state === 'pending' && performance.now() - started < (LIFETIME + 10) * 1000) {
      status = await pushStatus(session, push.txid, 25_000);
    }
    assert.equal(status.json.state, 'expired', status.text);
    assert.equal(status.json.error.code, 'transaction_not_found');
    assert.ok(performance.now() - started >= (LIFETIME - 2) * 1000, 'not before the lifetime');
    const late = device.run('approve', '--code', push.verification_code, '--txid', push.txid);
    assert.equal(late.status, 2);
  });

  test('cancel withdraws the push from the device and refuses a late approval', async () => {
    const username = unique('cancel');
    const device = await userWithDevice(username);
    const watcher = await device.watch();
    try {
      const { session, push } = await startedPush(username);
      assert.equal((await watcher.next()).message.txid, push.txid);
      const cancelled = await pushCancel(session, push.txid);
      assert.equal(cancelled.status, 204, cancelled.text);
      assert.deepEqual((await watcher.next()).message, { withdrawn: push.txid });
      assert.equal((await pushStatus(session, push.txid)).json.state, 'cancelled');
      assert.equal(device.run('approve', '--code', push.verification_code, '--txid', push.txid).status, 2);
    } finally {
      watcher.stop();
    }
  });
});

describe('deny and fraud', () => {
  test('deny: denied, then "No, report it" records fraud, mutes pushes and notifies', async () => {
    const username = unique('deny');
    const device = await userWithDevice(username);
    const { session, push } = await startedPush(username);
    const denied = device.run('deny');
    assert.equal(denied.status, 0, denied.stderr);
    const status = await pushStatus(session, push.txid, 5000);
    assert.equal(status.json.state, 'denied');
    assert.equal(status.json.error.code, 'access_denied');
    // "Yes, it was me": nothing changes, another push may be sent.
    assert.equal((await pushFeedback(session, push.txid, true)).status, 204);
    const second = await pushStart(session);
    assert.equal(second.status, 200, second.text);
    assert.equal(device.run('deny', '--txid', second.json.txid).status, 0);
    assert.equal((await pushFeedback(session, second.json.txid, false)).status, 204);
    assert.equal((await pushStatus(session, second.json.txid)).json.state, 'fraud');
    assertError(await pushStart(session), 429, 'push_muted');
    const reports = (await notifications()).filter((n) => n.username === username);
    assert.equal(reports.length, 1, JSON.stringify(reports));
    assert.equal(reports[0].via, 'prompt');
    assert.equal(reports[0].txid, second.json.txid);
    assert.equal(reports[0].application, 'Tessera Demo');
  });

  test('deny --fraud: fraud state, pushes muted afterwards, administrators notified', async () => {
    const username = unique('fraud');
    const device = await userWithDevice(username);
    const { session, push } = await startedPush(username);
    const reported = device.run('deny', '--fraud');
    assert.equal(reported.status, 0, reported.stderr);
    assert.match(reported.stdout, /reported as fraud/);
    const status = await pushStatus(session, push.txid, 5000);
    assert.equal(status.json.state, 'fraud');
    assert.equal(status.json.error.code, 'push_muted');
    assertError(await pushStart(session), 429, 'push_muted');
    const fresh = await startPrompt(username);
    assertError(await pushStart(fresh.session), 429, 'push_muted');
    const reports = (await notifications()).filter((n) => n.username === username);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].via, 'device');
    assert.equal(reports[0].realm, REALM);
    assert.ok(reports[0].muted_until > now());
  });
});

describe('signed answers', () => {
  test('a replayed approval is refused', async () => {
    const username = unique('replay');
    const device = await userWithDevice(username);
    const { session, push } = await startedPush(username);
    const sent = device.run('approve', '--code', push.verification_code, '--show-request');
    assert.equal(sent.status, 0, sent.stderr);
    const { authorization, approval } = JSON.parse(sent.stdout);
    assert.equal((await pushStatus(session, push.txid)).json.state, 'approved');
    assertError(await postApproval(authorization, approval), 403, 'approval_refused');
    // Nor does it answer a new push: the signature covers the transaction id.
    const second = await pushStart(session);
    assertError(await postApproval(authorization, { ...approval, txid: second.json.txid }), 403, 'approval_refused');
    assert.equal((await pushStatus(session, second.json.txid)).json.state, 'pending');
  });

  test("two devices: the push goes to one; the other device's key cannot answer it", async () => {
    const username = unique('two');
    const phone = await userWithDevice(username, 'phone');
    const { activation_link: link } = await issueActivation(username);
    const tablet = new Device('tablet');
    assert.equal(tablet.activate(link, `${username}'s tablet`).status, 0);
    const phoneAccount = phone.account();
    const tabletAccount = tablet.account();
    assert.notEqual(phoneAccount.device_id, tabletAccount.device_id);

    const prompt = await startPrompt(username);
    const offered = prompt.methods.filter((m) => m.method === 'verified_push').map((m) => m.device_id);
    assert.deepEqual(offered, [phoneAccount.device_id, tabletAccount.device_id]);
    const pushed = await pushStart(prompt.session, { device_id: tabletAccount.device_id });
    assert.equal(pushed.status, 200, pushed.text);
    assert.equal(pushed.json.device_name, `${username}'s tablet`);
    const { txid, verification_code: code } = pushed.json;

    // The phone sees nothing pending and cannot answer by id.
    const none = phone.run('approve', '--code', code);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /No push is pending/);
    assert.equal(phone.run('approve', '--code', code, '--txid', txid).status, 2);

    // The phone's key signing as the tablet: the request signature fails.
    const seed = phoneAccount.signing_seed;
    const asTablet = { realm: REALM, username, deviceId: tabletAccount.device_id };
    const forged = signedApproval(seed, { txid, code, deviceId: tabletAccount.device_id });
    const forgedHeader = deviceAuthorization(seed, asTablet, 'POST', '/device/v1/approval');
    assertError(await postApproval(forgedHeader, forged), 401, 'unauthorized');
    // A valid phone request carrying an approval that claims the tablet.
    const phoneHeader = deviceAuthorization(
      seed,
      { realm: REALM, username, deviceId: phoneAccount.device_id },
      'POST',
      '/device/v1/approval',
    );
    assertError(await postApproval(phoneHeader, forged), 403, 'approval_refused');
    // Nor the tablet's listing with the phone's key.
    const listing = await call('/device/v1/pushes', {
      method: 'GET',
      headers: { authorization: deviceAuthorization(seed, asTablet, 'GET', '/device/v1/pushes') },
    });
    assertError(listing, 401, 'unauthorized');
    assert.equal((await pushStatus(prompt.session, txid)).json.state, 'pending');

    // The tablet answers.
    const tabletWatch = await tablet.watch();
    try {
      assert.equal((await tabletWatch.next()).message.txid, txid);
    } finally {
      tabletWatch.stop();
    }
    assert.equal(tablet.run('approve', '--code', code).status, 0);
    assert.equal((await pushStatus(prompt.session, txid)).json.state, 'approved');
  });

  test('device requests without a valid signature are refused', async () => {
    const username = unique('unsigned');
    const device = await userWithDevice(username);
    const account = device.account();
    const listing = (authorization) => call('/device/v1/pushes', { method: 'GET', headers: authorization ? { authorization } : {} });
    assertError(await listing(), 401, 'unauthorized');
    assertError(await listing('Tessera-Device garbage'), 401, 'unauthorized');
    const who = { realm: REALM, username, deviceId: account.device_id };
    const good = deviceAuthorization(account.signing_seed, who, 'GET', '/device/v1/pushes');
    const ok = await listing(good);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { pushes: [] });
    // Signed for another path, or too old.
    assertError(await listing(deviceAuthorization(account.signing_seed, who, 'GET', '/device/v1/approval')), 401, 'unauthorized');
    assertError(await listing(deviceAuthorization(account.signing_seed, { ...who, time: now() - 600 }, 'GET', '/device/v1/pushes')), 401, 'unauthorized');
  });
});

describe('push fatigue', () => {
  test('more pushes than the per-user limit are refused with rate_limited', async () => {
    const username = unique('fatigue');
    await userWithDevice(username);
    const prompt = await startPrompt(username);
    for (let i = 0; i < 10; i += 1) {
      const pushed = await pushStart(prompt.session);
      assert.equal(pushed.status, 200, `push ${i + 1}: ${pushed.text}`);
    }
    const refused = await pushStart(prompt.session);
    assertError(refused, 429, 'rate_limited');
    assert.match(refused.json.error.message, /Too many push requests/);
  });
});

describe('activation codes', () => {
  test('single use', async () => {
    const username = unique('once');
    const { activation_link: link, activation_code: code, expires_at: expiresAt } = await issueActivation(username);
    assert.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    assert.ok(expiresAt > now());
    assert.equal(new Device().activate(link).status, 0);
    const again = new Device().activate(link);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /invalid_activation/);
  });

  test('expiry', async () => {
    const username = unique('expiry');
    const { activation_link: link } = await issueActivation(username, { lifetime: 1 });
    await sleep(2100);
    const late = new Device().activate(link);
    assert.equal(late.status, 2);
    assert.match(late.stderr, /invalid_activation/);
  });

  test('wrong realm (and wrong user) refused; the right one still works', async () => {
    const username = unique('realm');
    const { activation_link: link } = await issueActivation(username);
    const device = new Device();
    const otherRealm = device.run('activate', link, '--realm', 'elsewhere');
    assert.equal(otherRealm.status, 2);
    assert.match(otherRealm.stderr, /invalid_activation/);
    const otherUser = device.run('activate', link, '--username', unique('someone'));
    assert.equal(otherUser.status, 2);
    assert.equal(device.activate(link).status, 0);
    assert.equal(device.account().username, username);
    // The activated device gives working passcodes too.
    assert.match(device.ok('code'), /^\d{6}\n$/);
  });
});
