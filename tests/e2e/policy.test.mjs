// Policies, lockout, audit and secrets at rest, end to end against the real edge in
// workerd (plain fetch, no browser). Every test works in a realm of its own, so the
// realm-wide policies set here never touch the other files' users. The visitor's country
// and region are simulated per request with wrangler's `MF-CF-Blob` header, which
// replaces `request.cf` as Cloudflare would set it (TOOLCHAIN.md); headers a client can
// send (`CF-IPCountry`, `X-Forwarded-For`, `CF-Connecting-IP`, `True-Client-IP`) must
// change no location decision. The platform IP is simulated with `CF-Connecting-IP`, which
// wrangler dev passes through (see the authorized-networks test).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { totp } from './seed.mjs';
import { filesUnder, required } from './env.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const WWW_URL = required('TESSERA_WWW_URL');
const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
const STATE_DIR = required('TESSERA_STATE_DIR');
const EDGE_COMMAND = JSON.parse(required('TESSERA_EDGE_COMMAND'));
const REDIRECT_URI = `${WWW_URL}/duo-callback`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SANCTIONED = 'Access denied. Tessera does not provide services in your current location.';
const SPOOFED = {
  'x-forwarded-for': '203.0.113.7',
  'cf-connecting-ip': '203.0.113.7',
  'cf-ipcountry': 'NL',
  'true-client-ip': '203.0.113.7',
};

const now = () => Math.floor(Date.now() / 1000);
const b64u = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hex = (bytes) => randomBytes(bytes).toString('hex');
const base32Secret = () => Array.from(randomBytes(32), (byte) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[byte & 31]).join('');

/** `request.cf` as the platform would set it, through wrangler dev. */
function cf(country, region) {
  const blob = { colo: 'IKA', clientAcceptEncoding: '' };
  if (country !== undefined) blob.country = country;
  if (region !== undefined) blob.regionCode = region;
  return { 'mf-cf-blob': JSON.stringify(blob) };
}

/** A realm with one application of its own, on the edge at `edgeUrl`. */
function newRealm(edgeUrl = EDGE_URL) {
  return {
    edgeUrl,
    realm: `policy-${hex(6)}`,
    clientId: `DI${hex(9).toUpperCase()}`,
    secret: hex(20),
  };
}

async function send(edgeUrl, { method = 'POST', path, headers = {}, json, body }) {
  const init = { method, headers: { ...headers }, redirect: 'manual' };
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(new URL(path, edgeUrl), init);
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, text, json: parsed };
}

async function seed(realm, body) {
  const response = await send(realm.edgeUrl, {
    path: '/internal/v1/seed',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    json: { realm: realm.realm, ...body },
  });
  assert.equal(response.status, 200, `seeding: ${response.text}`);
}

/** Registers the realm's application with `policy` (replaced as a whole). */
const setApp = (realm, policy = {}, branding = {}) =>
  seed(realm, {
    applications: [{ client_id: realm.clientId, client_secret: realm.secret, name: 'Policy Test App', policy, branding }],
  });

/** Seeds `username` with one TOTP device; returns its secret. */
async function seedUser(realm, username, extra = {}) {
  const secret = base32Secret();
  const device = { id: `DP${hex(9).toUpperCase()}`, name: 'Phone', totp: { secret_base32: secret, algorithm: 'SHA1', digits: 6, period: 30 } };
  await seed(realm, { users: [{ username, devices: [device], ...extra }] });
  return secret;
}

function jwt(claims, key) {
  const input = `${b64u({ alg: 'HS512', typ: 'JWT' })}.${b64u(claims)}`;
  return `${input}.${createHmac('sha512', Buffer.from(key, 'utf8')).update(input).digest('base64url')}`;
}

function start(realm, username, { headers = {}, remembered } = {}) {
  const host = new URL(realm.edgeUrl).host;
  const claims = {
    response_type: 'code', scope: 'openid', exp: now() + 300, client_id: realm.clientId,
    redirect_uri: REDIRECT_URI, state: hex(24), duo_uname: username, iss: realm.clientId,
    aud: `https://${host}`, use_duo_code_attribute: true, iat: now(),
  };
  const json = { client_id: realm.clientId, request: jwt(claims, realm.secret) };
  if (remembered) json.remembered = remembered;
  return send(realm.edgeUrl, { path: '/prompt/v1/start', headers, json });
}

const passcode = (realm, session, code, headers = {}) =>
  send(realm.edgeUrl, { path: '/prompt/v1/passcode', headers, json: { session, passcode: code } });

/** Exchanges a code as the Node SDK does and returns the id_token's claims. */
async function exchange(realm, code) {
  const host = new URL(realm.edgeUrl).host;
  const assertion = jwt({
    iss: realm.clientId, sub: realm.clientId, aud: `https://${host}/oauth/v1/token`,
    exp: now() + 300, jti: hex(16), iat: now(),
  }, realm.secret);
  const response = await send(realm.edgeUrl, {
    path: '/oauth/v1/token',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: realm.clientId,
      client_assertion_type: ASSERTION_TYPE, client_assertion: assertion,
    }),
  });
  assert.equal(response.status, 200, response.text);
  return JSON.parse(Buffer.from(response.json.id_token.split('.')[1], 'base64url'));
}

async function audit(realm, username) {
  const query = new URLSearchParams({ realm: realm.realm, username });
  const response = await send(realm.edgeUrl, {
    method: 'GET',
    path: `/internal/v1/audit?${query}`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200, response.text);
  return response.json.events;
}

/** '' when the prompt offers methods, 'complete' for a final allow, else the error code. */
function outcome(response) {
  assert.ok(response.status < 500, `never a 5xx: ${response.text}`);
  if (response.status === 200) return response.json.completion ? 'complete' : '';
  return response.json?.error?.code;
}

/** `count` well-formed codes the device will not accept now. */
function wrongCodes(secret, count) {
  const t = Date.now() / 1000;
  const live = new Set([-2, -1, 0, 1, 2].map((k) => totp(secret, t + 30 * k)));
  const codes = [];
  for (let n = 100_000; codes.length < count; n += 7_919) {
    const code = String(n % 1_000_000).padStart(6, '0');
    if (!live.has(code)) codes.push(code);
  }
  return codes;
}

describe('policies at /prompt/v1/start against real workerd', () => {
  // Locked before the other tests run, checked last: the shortest automatic unlock is one
  // minute, and the other tests fill most of it.
  const unlock = newRealm();
  let unlockSecret;
  let lockedAt;
  before(async () => {
    await setApp(unlock, { lockout: { threshold: 2, auto_unlock_minutes: 1 } });
    unlockSecret = await seedUser(unlock, 'dana');
    const session = (await start(unlock, 'dana')).json.session;
    const [a, b] = wrongCodes(unlockSecret, 2);
    assert.equal(outcome(await passcode(unlock, session, a)), 'invalid_passcode');
    assert.equal(outcome(await passcode(unlock, session, b)), 'locked_out');
    lockedAt = Date.now();
  });

  test('location: sanctioned regions always denied with the exact message, rules per country, unknown and T1', async () => {
    const realm = newRealm();
    await seed(realm, { policy: { location: { countries: { FR: 'deny', IR: 'allow' }, default: 'allow', unknown: 'deny', anonymous: 'deny' } } });
    await setApp(realm);
    await seedUser(realm, 'alice');
    await seedUser(realm, 'bypassed', { status: 'bypass' });
    // [country, region, user, outcome, message]
    const cases = [
      ['IR', undefined, 'alice', 'location_denied', SANCTIONED],
      ['KP', undefined, 'alice', 'location_denied', SANCTIONED],
      ['CU', undefined, 'alice', 'location_denied', SANCTIONED],
      ['SY', undefined, 'alice', 'location_denied', SANCTIONED],
      ['UA', '43', 'alice', 'location_denied', SANCTIONED],
      ['UA', '40', 'alice', 'location_denied', SANCTIONED],
      ['UA', '14', 'alice', 'location_denied', SANCTIONED],
      ['UA', '09', 'alice', 'location_denied', SANCTIONED],
      ['IR', undefined, 'bypassed', 'location_denied', SANCTIONED],
      ['UA', '30', 'alice', '', undefined],
      ['T1', undefined, 'alice', 'location_denied', 'Access denied. Sign-ins through anonymous networks such as Tor are not allowed.'],
      [undefined, undefined, 'alice', 'location_denied', 'Access denied. Your current location could not be determined.'],
      ['XX', undefined, 'alice', 'location_denied', 'Access denied. Your current location could not be determined.'],
      ['FR', undefined, 'alice', 'location_denied', 'Access denied. Your organization does not allow sign-ins from your current location.'],
      ['NL', undefined, 'alice', '', undefined],
      ['NL', undefined, 'bypassed', 'complete', undefined],
    ];
    for (const [country, region, user, expected, message] of cases) {
      for (const spoof of [{}, SPOOFED]) {
        const label = `${country}/${region} ${user}${spoof === SPOOFED ? ' with spoofed headers' : ''}`;
        const response = await start(realm, user, { headers: { ...cf(country, region), ...spoof } });
        assert.equal(outcome(response), expected, `${label}: ${response.text}`);
        if (expected === 'location_denied') assert.equal(response.status, 403, label);
        if (message) assert.equal(response.json.error.message, message, label);
      }
    }
    // Client headers alone never make a country: from NL, a spoofed KP changes nothing.
    const spoofedKp = await start(realm, 'alice', { headers: { ...cf('NL'), 'cf-ipcountry': 'KP' } });
    assert.equal(outcome(spoofedKp), '');
    const rows = await audit(realm, 'alice');
    const sanctioned = rows.filter((row) => row.reason === 'sanctioned_region');
    assert.equal(sanctioned.length, 16, 'one audit row per sanctioned attempt');
    for (const row of sanctioned) {
      assert.equal(row.result, 'deny');
      assert.ok(['IR', 'KP', 'CU', 'SY', 'UA'].includes(row.country), JSON.stringify(row));
      assert.equal(row.client_id, realm.clientId);
      assert.equal(row.application, 'Policy Test App');
      assert.match(row.txid, /^[0-9a-f-]{36}$/);
      assert.ok(Math.abs(row.at - now()) < 120);
      assert.ok(row.ip, 'the platform IP is recorded');
    }
    assert.ok(rows.some((row) => row.reason === 'anonymous_network' && row.country === 'T1'));
  });

  test('authentication skip and deny; new users allowed, denied or enrolled', async () => {
    const realm = newRealm();
    await setApp(realm, { authentication: 'skip' });
    await seedUser(realm, 'alice');
    const skipped = await start(realm, 'alice', { headers: cf('NL') });
    assert.equal(outcome(skipped), 'complete', skipped.text);
    assert.deepEqual(skipped.json.methods, []);
    const claims = await exchange(realm, skipped.json.completion.code);
    assert.equal(claims.auth_context.reason, 'allowed_by_policy');
    assert.equal(claims.auth_context.result, 'success');

    await setApp(realm, { authentication: 'deny' });
    const denied = await start(realm, 'alice', { headers: cf('NL') });
    assert.equal(outcome(denied), 'access_denied');
    assert.equal(denied.status, 403);
    assert.equal(denied.json.completion, undefined);

    for (const [action, expected] of [['require_enrollment', 'enrollment_required'], ['allow', 'complete'], ['deny', 'access_denied']]) {
      await setApp(realm, { new_user: action });
      const response = await start(realm, `new-${hex(3)}`, { headers: cf('NL') });
      assert.equal(outcome(response), expected, `${action}: ${response.text}`);
      if (expected === 'complete') {
        const token = await exchange(realm, response.json.completion.code);
        assert.equal(token.auth_context.reason, 'allow_unenrolled_user');
      }
    }
  });

  // Locally the platform IP is simulated like the country: wrangler dev (Miniflare) passes a
  // client's `CF-Connecting-IP` through unchanged (Cloudflare overwrites it with the real
  // address), and sets the loopback address when there is none. The other client headers
  // must never count.
  test('authorized networks use the platform IP only', async () => {
    const realm = newRealm();
    await seedUser(realm, 'alice');
    const platform = (ip) => ({ ...cf('NL'), 'cf-connecting-ip': ip });
    const others = { 'x-forwarded-for': '198.51.100.7', 'true-client-ip': '198.51.100.7', 'x-real-ip': '198.51.100.7' };
    await setApp(realm, { authorized_networks: { networks: ['198.51.100.0/24', '2001:db8::/32'], action: 'allow_without_2fa' } });
    const inside = await start(realm, 'alice', { headers: platform('198.51.100.7') });
    assert.equal(outcome(inside), 'complete', inside.text);
    const claims = await exchange(realm, inside.json.completion.code);
    assert.equal(claims.auth_context.factor, 'trusted_network');
    assert.equal(claims.auth_context.reason, 'trusted_network');
    assert.equal(claims.auth_context.access_device.ip, '198.51.100.7');
    assert.equal(outcome(await start(realm, 'alice', { headers: platform('2001:db8::5') })), 'complete');
    // Other client headers naming an authorized address get nobody in.
    assert.equal(outcome(await start(realm, 'alice', { headers: { ...cf('NL'), ...others } })), '');
    assert.equal(outcome(await start(realm, 'alice', { headers: { ...platform('203.0.113.9'), ...others } })), '');

    await setApp(realm, { authorized_networks: { networks: ['198.51.100.0/24'], action: 'deny_others' } });
    const outside = await start(realm, 'alice', { headers: { ...cf('NL'), ...others } });
    assert.equal(outcome(outside), 'access_denied', outside.text);
    assert.equal(outside.json.error.message, 'Access denied. This application cannot be used from your current network.');
    assert.equal(outcome(await start(realm, 'alice', { headers: platform('198.51.100.20') })), '');
    const rows = await audit(realm, 'alice');
    assert.equal(rows[0].reason, 'network_not_authorized');
    assert.equal(rows[0].ip, '127.0.0.1', 'the audit row has the platform address, not X-Forwarded-For');
  });

  test('allowed methods filter the offer and the passcode endpoint', async () => {
    const realm = newRealm();
    const secret = await seedUser(realm, 'alice');
    await setApp(realm, { allowed_methods: ['verified_push', 'passcode'] });
    const offered = await start(realm, 'alice', { headers: cf('NL') });
    assert.deepEqual(offered.json.methods.map((m) => m.method), ['passcode']);
    assert.equal(offered.json.default_method, 'passcode');
    await setApp(realm, { allowed_methods: ['verified_push'] });
    const none = await start(realm, 'alice', { headers: cf('NL') });
    assert.equal(outcome(none), 'method_unavailable', none.text);
    const refused = await passcode(realm, offered.json.session, totp(secret));
    assert.equal(outcome(refused), 'method_unavailable', 'a policy change applies to an open prompt');
  });

  test('remembered device: offered after a passcode, honoured on the next start, per application', async () => {
    const realm = newRealm();
    const secret = await seedUser(realm, 'alice');
    await setApp(realm, { remembered_devices: { mode: 'remember', days: 30, scope: 'per_app' } }, {
      logo_url: 'https://example.com/logo.svg', accent_color: '#1a73e8',
      help_url: 'https://example.com/help', manage_devices_url: 'https://example.com/devices',
    });
    const first = await start(realm, 'alice', { headers: cf('NL') });
    assert.deepEqual(first.json.application, {
      name: 'Policy Test App', logo_url: 'https://example.com/logo.svg', accent_color: '#1a73e8',
      help_url: 'https://example.com/help', manage_devices_url: 'https://example.com/devices',
    });
    const done = await passcode(realm, first.json.session, totp(secret));
    assert.equal(done.status, 200, done.text);
    const { token, scope, expires_at: expiresAt } = done.json.remember;
    assert.equal(scope, 'application');
    assert.ok(Math.abs(expiresAt - (now() + 30 * 86_400)) < 120);

    const again = await start(realm, 'alice', { headers: cf('NL'), remembered: [token] });
    assert.equal(outcome(again), 'complete', again.text);
    const claims = await exchange(realm, again.json.completion.code);
    assert.equal(claims.auth_context.factor, 'remembered_device');
    assert.equal(claims.auth_context.reason, 'remembered_device');

    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.equal(outcome(await start(realm, 'alice', { headers: cf('NL'), remembered: [tampered] })), '');
    await seedUser(realm, 'bob');
    assert.equal(outcome(await start(realm, 'bob', { headers: cf('NL'), remembered: [token] })), '', 'not for another user');
    const other = { ...newRealm(), realm: realm.realm };
    await setApp(other, { remembered_devices: { mode: 'remember', days: 30, scope: 'per_app' } });
    assert.equal(outcome(await start(other, 'alice', { headers: cf('NL'), remembered: [token] })), '', 'not for another application');
    // Even a remembered device is refused in a sanctioned region.
    assert.equal(outcome(await start(realm, 'alice', { headers: cf('KP'), remembered: [token] })), 'location_denied');
    await setApp(realm, {});
    assert.equal(outcome(await start(realm, 'alice', { headers: cf('NL'), remembered: [token] })), '', 'policy off: not honoured');
  });

  test('user status: bypass, disabled, and active again', async () => {
    const realm = newRealm();
    await setApp(realm);
    await seedUser(realm, 'erin', { status: 'bypass' });
    const bypass = await start(realm, 'erin', { headers: cf('NL') });
    assert.equal(outcome(bypass), 'complete');
    assert.equal((await exchange(realm, bypass.json.completion.code)).auth_context.reason, 'bypass_user');
    await seed(realm, { users: [{ username: 'erin', status: 'disabled' }] });
    const disabled = await start(realm, 'erin', { headers: cf('NL') });
    assert.equal(outcome(disabled), 'user_disabled');
    await seed(realm, { users: [{ username: 'erin', status: 'active' }] });
    assert.equal(outcome(await start(realm, 'erin', { headers: cf('NL') })), '');
    const rows = await audit(realm, 'erin');
    assert.deepEqual(rows.map((row) => `${row.result}:${row.reason}`), ['deny:user_disabled', 'allow:bypass_user']);
    assert.equal(rows[1].factor, 'not_available');
    assert.equal(rows[1].country, 'NL');
  });

  test('secrets are encrypted at rest in the SQLite files', async () => {
    const realm = newRealm();
    await setApp(realm);
    const username = `at-rest-${hex(4)}`;
    const secret = await seedUser(realm, username);
    // The values are read back correctly (so they are stored), then the files are scanned.
    const started = await start(realm, username, { headers: cf('NL') });
    const done = await passcode(realm, started.json.session, totp(secret));
    assert.equal(done.status, 200, done.text);
    const files = filesUnder(join(STATE_DIR, 'wrangler'));
    const contents = files.map((path) => readFileSync(path));
    const containing = (needle) => contents.filter((bytes) => bytes.includes(Buffer.from(needle))).length;
    assert.ok(files.some((path) => /\.sqlite/.test(path)), `SQLite files found: ${files.length}`);
    assert.ok(containing(username) > 0, 'the scan sees the stored rows (the username is not secret)');
    assert.ok(containing(realm.clientId) > 0, 'the scan sees the application row');
    assert.equal(containing(secret), 0, 'the TOTP secret is not in plain text');
    assert.equal(containing(realm.secret), 0, 'the client secret is not in plain text');
  });

  test('lockout state survives a workerd restart (same state folder)', async () => {
    const dir = join(STATE_DIR, `restart-${hex(3)}`);
    const edge = await spawnEdge(dir);
    const realm = newRealm(edge.url);
    let secret;
    try {
      await setApp(realm, { lockout: { threshold: 3 } });
      secret = await seedUser(realm, 'frank');
      const session = (await start(realm, 'frank', { headers: cf('NL') })).json.session;
      const codes = wrongCodes(secret, 3);
      const answers = await Promise.all(codes.map((code) => passcode(realm, session, code)));
      assert.deepEqual(answers.map(outcome).sort(), ['invalid_passcode', 'invalid_passcode', 'locked_out']);
    } finally {
      await edge.stop();
    }
    const restarted = await spawnEdge(dir);
    try {
      const again = { ...realm, edgeUrl: restarted.url };
      const response = await start(again, 'frank', { headers: cf('NL') });
      assert.equal(outcome(response), 'locked_out', response.text);
      const rows = await audit(again, 'frank');
      assert.equal(rows.filter((row) => row.reason === 'invalid_passcode').length, 3);
      assert.equal(rows[0].reason, 'locked_out');
    } finally {
      await restarted.stop();
    }
  });

  test('automatic unlock after the configured minutes; a success resets the count', async () => {
    assert.equal(outcome(await start(unlock, 'dana', { headers: cf('NL') })), 'locked_out');
    const wait = lockedAt + 61_000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const open = await start(unlock, 'dana', { headers: cf('NL') });
    assert.equal(outcome(open), '', open.text);
    const [wrong] = wrongCodes(unlockSecret, 1);
    const first = await passcode(unlock, open.json.session, wrong);
    assert.equal(first.json.error.attempts_left, 1, 'the count started over after the unlock');
    const done = await passcode(unlock, open.json.session, totp(unlockSecret));
    assert.equal(done.status, 200, done.text);
    const second = await passcode(unlock, (await start(unlock, 'dana')).json.session, wrong);
    assert.equal(second.json.error.attempts_left, 1, 'a success reset the count');
  });
});

/** A free TCP port on loopback. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const running = new Set();
after(async () => {
  for (const edge of running) await edge.stop();
});

/**
 * Starts a second edge exactly as xtask starts the stack's (`TESSERA_EDGE_COMMAND`, with
 * its port and state folder filled in), and waits for /healthz.
 */
async function spawnEdge(stateDir) {
  const port = await freePort();
  const fill = (text) => text.replaceAll('@PORT@', String(port)).replaceAll('@STATE@', stateDir);
  const child = spawn(EDGE_COMMAND.program, EDGE_COMMAND.args.map(fill), {
    cwd: EDGE_COMMAND.cwd,
    env: { ...process.env, ...EDGE_COMMAND.env },
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const edge = {
    url: `http://localhost:${port}`,
    async stop() {
      if (!running.delete(edge)) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(edge);
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.status === 200) return edge;
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) {
      await edge.stop();
      throw new Error(`the second edge did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
