// Helpers for the push end-to-end tests and the push latency benchmark: the prompt API as
// the prompt calls it (fetch), the reference authenticator (`tessera-device`, the real
// binary) and, for the refusal tests, Tessera's signed formats rebuilt independently
// here with Node's Ed25519 (so a forged or replayed message is exactly what an attacker
// could send).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { required } from './env.mjs';
import { requestClaims } from './rp.mjs';

export { required };

export const EDGE_URL = required('TESSERA_EDGE_URL');
const WWW_URL = required('TESSERA_WWW_URL');
const CLIENT_ID = required('TESSERA_CLIENT_ID');
const CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
export const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
const DEVICE_BIN = required('TESSERA_DEVICE_BIN');
const HOST = new URL(EDGE_URL).host;
const REDIRECT_URI = `${WWW_URL}/duo-callback`;
export const REALM = 'demo';

export const now = () => Math.floor(Date.now() / 1000);
export const unique = (prefix) => `${prefix}-${randomBytes(5).toString('hex')}`;
const b64u = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function jwt(claims) {
  const input = `${b64u({ alg: 'HS512', typ: 'JWT' })}.${b64u(claims)}`;
  return `${input}.${createHmac('sha512', Buffer.from(CLIENT_SECRET, 'utf8')).update(input).digest('base64url')}`;
}

/** One JSON call; answers `{status, headers, json, text}`. */
export async function call(path, { method = 'POST', json, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  const response = await fetch(new URL(path, EDGE_URL), init);
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, json: parsed, text };
}

/** `/prompt/v1/start` for `username` with a request signed as the relying app does. */
export async function startPrompt(username) {
  const claims = requestClaims(username);
  const started = await call('/prompt/v1/start', { json: { client_id: CLIENT_ID, request: jwt(claims) } });
  assert.equal(started.status, 200, `start for ${username}: ${started.text}`);
  return started.json;
}

export const pushStart = (session, extra = {}) => call('/prompt/v1/push', { json: { session, ...extra } });
export const pushStatus = (session, txid, waitMs = 0) =>
  call('/prompt/v1/push/status', { json: { session, txid, wait_ms: waitMs } });
export const pushFeedback = (session, txid, wasMe) =>
  call('/prompt/v1/push/feedback', { json: { session, txid, was_me: wasMe } });
export const pushCancel = (session, txid) => call('/prompt/v1/cancel', { json: { session, txid } });

/** Redeems an authorization code at the token endpoint, as the SDKs do. */
export async function exchange(code) {
  const assertion = jwt({
    iss: CLIENT_ID,
    sub: CLIENT_ID,
    aud: `https://${HOST}/oauth/v1/token`,
    exp: now() + 300,
    jti: randomBytes(16).toString('hex'),
    iat: now(),
  });
  const response = await fetch(new URL('/oauth/v1/token', EDGE_URL), {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  return { status: response.status, json: await response.json() };
}

/** An activation link for `username` (created on first use) through the admin endpoint. */
export async function issueActivation(username, { realm = REALM, lifetime } = {}) {
  const json = { realm, username };
  if (lifetime !== undefined) json.lifetime_seconds = lifetime;
  const issued = await call('/internal/v1/activation', {
    json,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(issued.status, 200, `activation for ${username}: ${issued.text}`);
  return issued.json;
}

export async function notifications(realm = REALM) {
  const listed = await call(`/internal/v1/notifications?realm=${encodeURIComponent(realm)}`, {
    method: 'GET',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(listed.status, 200, listed.text);
  return listed.json.notifications;
}

/** A reference authenticator with a state file of its own. */
export class Device {
  constructor(name = 'device') {
    this.state = join(mkdtempSync(join(tmpdir(), 'tessera-push-')), `${name}.json`);
  }

  run(...args) {
    const result = spawnSync(DEVICE_BIN, args, {
      env: { ...process.env, TESSERA_DEVICE_STATE: this.state },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  }

  /** Runs and expects success. */
  ok(...args) {
    const result = this.run(...args);
    assert.equal(result.status, 0, `tessera-device ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  activate(link, name = 'test phone') {
    return this.run('activate', link, '--name', name);
  }

  /** The stored account: device id and signing seed (for the forgery tests). */
  account() {
    const state = JSON.parse(readFileSync(this.state, 'utf8'));
    assert.equal(state.accounts.length, 1);
    return state.accounts[0];
  }

  /** `watch --no-prompt`: resolves once connected; `next()` gives each delivery. */
  async watch() {
    const child = spawn(DEVICE_BIN, ['watch', '--no-prompt'], {
      env: { ...process.env, TESSERA_DEVICE_STATE: this.state },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const queue = [];
    const waiting = [];
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const item = { at: performance.now(), message: JSON.parse(line) };
        const waiter = waiting.shift();
        if (waiter) waiter(item);
        else queue.push(item);
      }
    });
    let stderr = '';
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch did not connect: ${stderr}`)), 15_000);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('connected')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`watch exited: ${stderr}`)));
    });
    return {
      next: (timeoutMs = 10_000) =>
        queue.length > 0
          ? Promise.resolve(queue.shift())
          : new Promise((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error('no delivery in time')), timeoutMs);
              waiting.push((item) => {
                clearTimeout(timer);
                resolve(item);
              });
            }),
      pending: () => queue.length,
      stop: () => child.kill(),
    };
  }
}

/** A user with one activated authenticator; returns the device. */
export async function userWithDevice(username, name = 'phone') {
  const device = new Device(name);
  const { activation_link: link } = await issueActivation(username);
  const activated = device.activate(link, `${username}'s ${name}`);
  assert.equal(activated.status, 0, activated.stderr);
  return device;
}

// ---- Tessera's signed formats, rebuilt independently (see shared/src/approval.rs and
// ---- shared/src/device_auth.rs).

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (s) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
const i64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

function ed25519Key(seedB64u) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedB64u, 'base64url')]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The `Authorization` header of a signed device request. */
export function deviceAuthorization(seed, { realm, username, deviceId, time = now() }, method, path) {
  const claims = { realm, username, device_id: deviceId, time };
  const message = Buffer.concat([
    Buffer.from('tessera-device-request-v1\0'),
    str(method),
    str(path),
    str(realm),
    str(username),
    str(deviceId),
    i64(time),
  ]);
  return `Tessera-Device ${b64u(claims)}.${sign(null, message, ed25519Key(seed)).toString('base64url')}`;
}

/** A signed approval (wire form). */
export function signedApproval(seed, { txid, decision = 'approve', code, time = now(), deviceId }) {
  const tag = { approve: 1, deny: 2, deny_fraud: 3 }[decision];
  const message = Buffer.concat([
    Buffer.from('tessera-approval-v1\0'),
    str(txid),
    Buffer.from([tag]),
    code === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), str(code)]),
    i64(time),
    str(deviceId),
  ]);
  const approval = { txid, decision, time, device_id: deviceId, signature: sign(null, message, ed25519Key(seed)).toString('base64url') };
  if (code !== undefined) approval.code = code;
  return approval;
}

export const postApproval = (authorization, approval) =>
  call('/device/v1/approval', { json: approval, headers: { authorization } });
