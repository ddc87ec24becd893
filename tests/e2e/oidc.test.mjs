// OpenID Connect for standard clients and the remaining Duo quirks, end to end against the
// local HTTPS edge in workerd:
// - an application that chose EdDSA id_tokens completes the prompt and the token exchange;
//   PyJWT (tests/interop/oidc_verify.py, another ecosystem's library) verifies the token
//   through discovery and the JWKS, enforcing alg, iss, aud and nonce;
// - key rotation: a token signed before `POST /internal/v1/rotate-keys` still verifies
//   during the overlap; after it, its key is gone from the JWKS and the token fails;
// - multipart/form-data bodies (as Duo's PHP client sends) on /oauth/v1/health_check and
//   /oauth/v1/token, encoded by Node's own FormData;
// - a client assertion's jti is single-use.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { seedUser, totp } from './seed.mjs';
import { required } from './env.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const EDGE_HTTPS = new URL(required('TESSERA_EDGE_HTTPS_URL'));
const API_HOST = EDGE_HTTPS.host;
const ISSUER = `https://${API_HOST}`;
const CA_FILE = required('TESSERA_CA');
const CA = readFileSync(CA_FILE);
const DUO_CLIENT_ID = required('TESSERA_CLIENT_ID');
const DUO_CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
const PYTHON = required('TESSERA_PYTHON');
const WWW_URL = required('TESSERA_WWW_URL');
const REDIRECT_URI = new URL('/oidc-callback', WWW_URL).href;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const VERIFY_SCRIPT = fileURLToPath(new URL('../interop/oidc_verify.py', import.meta.url));

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (n) => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
const now = () => Math.floor(Date.now() / 1000);
const b64u = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An application of its own that chose EdDSA id_tokens. */
const EDDSA_APP = { client_id: `DI${alnum(18)}`, client_secret: alnum(40) };

function hs512(claims, secret) {
  const input = `${b64u({ alg: 'HS512', typ: 'JWT' })}.${b64u(claims)}`;
  return `${input}.${createHmac('sha512', Buffer.from(secret, 'utf8')).update(input).digest('base64url')}`;
}

function assertion(app, path, jti = randomBytes(16).toString('hex')) {
  return hs512(
    { iss: app.client_id, sub: app.client_id, aud: `https://${API_HOST}${path}`, exp: now() + 300, jti, iat: now() },
    app.client_secret,
  );
}

/** One HTTPS request to the edge, trusting only the local CA. `body` may be a string,
 * URLSearchParams or FormData (encoded by Node's own fetch machinery). */
async function edge(method, path, { body, headers = {} } = {}) {
  let payload;
  const sent = { ...headers };
  if (body instanceof FormData || body instanceof URLSearchParams) {
    const encoded = new Response(body);
    sent['content-type'] = encoded.headers.get('content-type');
    payload = Buffer.from(await encoded.arrayBuffer());
  } else if (body !== undefined) {
    payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    sent['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, EDGE_HTTPS), { method, headers: sent, ca: CA, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json, contentType: sent['content-type'] });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function admin(path, body) {
  const response = await fetch(new URL(path, EDGE_URL), {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Prompt (start + passcode) for a fresh user at `app`; returns the authorization code. */
async function signIn(app, nonce) {
  const username = `oidc-${randomBytes(4).toString('hex')}`;
  const secret = await seedUser(EDGE_URL, ADMIN_TOKEN, username);
  const request = hs512(
    {
      response_type: 'code', scope: 'openid', client_id: app.client_id, redirect_uri: REDIRECT_URI,
      state: randomBytes(24).toString('hex'), duo_uname: username, exp: now() + 300,
      iss: app.client_id, aud: ISSUER, use_duo_code_attribute: false, ...(nonce ? { nonce } : {}),
    },
    app.client_secret,
  );
  const start = await edge('POST', '/prompt/v1/start', { body: { client_id: app.client_id, request } });
  assert.equal(start.status, 200, `start: ${start.text}`);
  const done = await edge('POST', '/prompt/v1/passcode', { body: { session: start.json.session, passcode: totp(secret) } });
  assert.equal(done.status, 200, `passcode: ${done.text}`);
  assert.equal(new URL(done.json.redirect).searchParams.get('code'), done.json.code);
  return { username, code: done.json.code };
}

function tokenFields(app, code) {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: app.client_id,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion(app, '/oauth/v1/token'),
  };
}

/** A full sign-in at the EdDSA application; returns the id_token and the username. */
async function eddsaToken(nonce) {
  const { username, code } = await signIn(EDDSA_APP, nonce);
  const reply = await edge('POST', '/oauth/v1/token', { body: new URLSearchParams(tokenFields(EDDSA_APP, code)) });
  assert.equal(reply.status, 200, `token: ${reply.text}`);
  assert.deepEqual(Object.keys(reply.json).sort(), ['access_token', 'expires_in', 'id_token', 'token_type']);
  return { idToken: reply.json.id_token, username };
}

function pyjwtVerify(idToken, { nonce = null, clientId = EDDSA_APP.client_id } = {}) {
  const out = execFileSync(PYTHON, [VERIFY_SCRIPT], {
    input: JSON.stringify({ issuer: ISSUER, client_id: clientId, nonce, id_token: idToken, ca: CA_FILE }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8')).kid;

async function jwksKids() {
  const reply = await edge('GET', '/.well-known/jwks.json');
  assert.equal(reply.status, 200, reply.text);
  return reply.json.keys.map((key) => key.kid);
}

describe('OpenID Connect with EdDSA id_tokens (PyJWT through discovery + JWKS)', () => {
  test('seed an application that chose EdDSA', async () => {
    const seeded = await admin('/internal/v1/seed', {
      realm: 'demo',
      applications: [{ ...EDDSA_APP, name: 'Standard OIDC client', id_token_format: 'eddsa' }],
    });
    assert.equal(seeded.status, 200, JSON.stringify(seeded.json));
  });

  test('discovery names the host the client used', async () => {
    const reply = await edge('GET', '/.well-known/openid-configuration');
    assert.equal(reply.status, 200);
    assert.equal(reply.json.issuer, ISSUER);
    assert.equal(reply.json.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
    assert.ok(reply.json.id_token_signing_alg_values_supported.includes('EdDSA'));
  });

  test('PyJWT verifies the id_token; a wrong audience or nonce is refused', async () => {
    const nonce = randomBytes(12).toString('hex');
    const { idToken, username } = await eddsaToken(nonce);
    const verified = pyjwtVerify(idToken, { nonce });
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.typ, 'JWT');
    assert.equal(verified.claims.sub, username);
    assert.equal(verified.claims.iss, ISSUER);
    assert.equal(verified.claims.aud, EDDSA_APP.client_id);
    assert.equal(verified.claims.nonce, nonce);
    assert.deepEqual(verified.claims.amr, ['mfa', 'otp']);
    assert.equal(verified.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
    assert.equal(verified.kid, kidOf(idToken));

    const wrongAudience = pyjwtVerify(idToken, { nonce, clientId: DUO_CLIENT_ID });
    assert.equal(wrongAudience.ok, false);
    assert.equal(wrongAudience.exception, 'InvalidAudienceError');
    const wrongNonce = pyjwtVerify(idToken, { nonce: 'another nonce' });
    assert.equal(wrongNonce.ok, false);
    assert.match(wrongNonce.error, /nonce/);
  });

  test('rotation: the old key verifies during the overlap, then leaves the JWKS', async () => {
    const { idToken: before } = await eddsaToken();
    const oldKid = kidOf(before);
    const overlap = 12;
    const rotated = await admin('/internal/v1/rotate-keys', { overlap_seconds: overlap });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
    assert.ok(rotated.json.retiring.includes(oldKid));
    const newKid = rotated.json.current;
    assert.notEqual(newKid, oldKid);
    assert.deepEqual((await jwksKids()).slice(0, 2), [newKid, oldKid]);

    const during = pyjwtVerify(before);
    assert.equal(during.ok, true, `during the overlap: ${JSON.stringify(during)}`);
    assert.equal(during.kid, oldKid);
    const { idToken: after } = await eddsaToken();
    assert.equal(kidOf(after), newKid, 'new tokens use the new key');

    while (now() <= rotated.json.drop_at) await sleep(500);
    assert.deepEqual(await jwksKids(), [newKid]);
    const dropped = pyjwtVerify(before);
    assert.equal(dropped.ok, false, JSON.stringify(dropped));
    assert.equal(dropped.exception, 'PyJWKClientError');
    assert.ok(!dropped.jwks_kids.includes(oldKid));
    assert.equal(pyjwtVerify(after).ok, true, 'the new key still verifies');
  });
});

describe('Duo quirks: multipart bodies (PHP client) and single-use assertions', () => {
  const DUO = { client_id: DUO_CLIENT_ID, client_secret: DUO_CLIENT_SECRET };

  const form = (fields) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.set(name, value);
    return data;
  };

  test('health check and token exchange with multipart/form-data bodies', async () => {
    const health = await edge('POST', '/oauth/v1/health_check', {
      body: form({ client_id: DUO.client_id, client_assertion: assertion(DUO, '/oauth/v1/health_check') }),
    });
    assert.match(health.contentType, /^multipart\/form-data; boundary=/);
    assert.equal(health.status, 200, health.text);
    assert.equal(health.json.stat, 'OK');

    const { code, username } = await signIn(DUO);
    const token = await edge('POST', '/oauth/v1/token', { body: form(tokenFields(DUO, code)) });
    assert.equal(token.status, 200, token.text);
    const [, payload] = token.json.id_token.split('.');
    assert.equal(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).preferred_username, username);
  });

  test('a client assertion is refused the second time', async () => {
    const once = assertion(DUO, '/oauth/v1/health_check');
    const body = () => new URLSearchParams({ client_id: DUO.client_id, client_assertion: once });
    const first = await edge('POST', '/oauth/v1/health_check', { body: body() });
    assert.equal(first.status, 200, first.text);
    const replay = await edge('POST', '/oauth/v1/health_check', { body: body() });
    assert.equal(replay.status, 400);
    assert.deepEqual(
      { stat: replay.json.stat, code: replay.json.code, message: replay.json.message },
      { stat: 'FAIL', code: 40002, message: 'invalid_client' },
    );

    // At the token endpoint: invalid_client, and the code stays usable with a fresh assertion.
    const { code } = await signIn(DUO);
    const fields = tokenFields(DUO, code);
    const used = await edge('POST', '/oauth/v1/health_check', {
      body: new URLSearchParams({ client_id: DUO.client_id, client_assertion: fields.client_assertion }),
    });
    assert.equal(used.status, 400, 'a token assertion is not a health-check one');
    const exchanged = await edge("POST", "/oauth/v1/token", { body: new URLSearchParams(fields) });
    assert.equal(exchanged.status, 200, `first use: ${exchanged.text}`);
    const again = await edge('POST', '/oauth/v1/token', { body: new URLSearchParams(fields) });
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_client');
  });
});
