// The official, unmodified Duo Universal SDKs against the local HTTPS edge: Python
// `duo_universal` (PyPI duo-universal, driven through tests/interop/duo_universal_flow.py)
// and Node `@duosecurity/duo_universal`. Each acts as the relying app: health check, auth
// URL, then (as the browser would) the prompt API with a seeded user's TOTP, then the
// SDK's own code exchange and id_token verification. Failure paths: wrong client secret,
// expired request JWT, reused code, wrong redirect URI. Started by `cargo xtask test`.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { Client as NodeDuoClient, DuoException } from '@duosecurity/duo_universal';

import { seedUser, totp } from './seed.mjs';
import { required } from './env.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const EDGE_HTTPS = new URL(required('TESSERA_EDGE_HTTPS_URL'));
const API_HOST = EDGE_HTTPS.host; // `localhost:18443`, as a relying app configures it
const CA_FILE = required('TESSERA_CA');
const CA = readFileSync(CA_FILE);
const CLIENT_ID = required('TESSERA_CLIENT_ID');
const CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
const PYTHON = required('TESSERA_PYTHON');
const WWW_URL = required('TESSERA_WWW_URL');

const REDIRECT_URI = new URL('/duo-callback', WWW_URL).href;
const OTHER_REDIRECT_URI = new URL('/other-callback', WWW_URL).href;
/** 40 alphanumerics, as the SDKs require, but not the application's secret. */
const WRONG_SECRET = `W${CLIENT_SECRET.slice(1)}` === CLIENT_SECRET
  ? `X${CLIENT_SECRET.slice(1)}`
  : `W${CLIENT_SECRET.slice(1)}`;
const TOKEN_ISSUER = `https://${API_HOST}/oauth/v1/token`;
const FLOW_SCRIPT = fileURLToPath(new URL('../interop/duo_universal_flow.py', import.meta.url));

// Duo's fixed error texts (PROTOCOL-DUO §1.1, §1.4).
const INVALID_CLIENT_DETAIL = 'The provided client_assertion was invalid.';
const INVALID_GRANT = 'invalid_grant';

/** One HTTPS request to the edge, trusting only the local CA. */
function edgeRequest(method, target, { json } = {}) {
  const url = new URL(target, EDGE_HTTPS);
  const body = json === undefined ? undefined : JSON.stringify(json);
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: CA, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function postJson(path, json) {
  const response = await edgeRequest('POST', path, { json });
  let parsed;
  try {
    parsed = JSON.parse(response.text);
  } catch {
    assert.fail(`POST ${path}: ${response.status} with a body that is not JSON: ${response.text}`);
  }
  return { status: response.status, body: parsed };
}

/** The `client_id` and `request` the hosted prompt page would read from the auth URL. */
function parseAuthUrl(authUrl) {
  const url = new URL(authUrl);
  assert.equal(url.origin, EDGE_HTTPS.origin, `auth URL ${authUrl} points at the HTTPS edge`);
  assert.equal(url.pathname, '/oauth/v1/authorize');
  assert.equal(url.searchParams.get('client_id'), CLIENT_ID);
  assert.equal(url.searchParams.get('response_type'), 'code');
  const request = url.searchParams.get('request');
  assert.ok(request, 'the auth URL carries a request JWT');
  return { clientId: url.searchParams.get('client_id'), request };
}

/**
 * What the browser does between the auth URL and the callback: load the prompt page, then
 * POST /prompt/v1/start and /prompt/v1/passcode with the user's current TOTP. Returns the
 * `duo_code` and `state` of the completion's redirect.
 */
async function completePrompt(authUrl, username, secret, redirectUri) {
  const page = await edgeRequest('GET', authUrl);
  assert.equal(page.status, 200, `GET the auth URL: ${page.text.slice(0, 300)}`);
  assert.match(page.text, /id="tessera-prompt"/, 'the hosted prompt page');

  const { clientId, request } = parseAuthUrl(authUrl);
  const start = await postJson('/prompt/v1/start', { client_id: clientId, request });
  assert.equal(start.status, 200, `start: ${JSON.stringify(start.body)}`);
  assert.equal(start.body.username, username);
  assert.ok(start.body.methods.some((m) => m.method === 'passcode'), 'passcode offered');

  const done = await postJson('/prompt/v1/passcode', {
    session: start.body.session,
    passcode: totp(secret),
  });
  assert.equal(done.status, 200, `passcode: ${JSON.stringify(done.body)}`);
  const redirect = new URL(done.body.redirect);
  assert.equal(`${redirect.origin}${redirect.pathname}`, redirectUri, 'back to the relying app');
  const duoCode = redirect.searchParams.get('duo_code');
  assert.ok(duoCode, `the redirect carries duo_code (use_duo_code_attribute): ${done.body.redirect}`);
  assert.equal(redirect.searchParams.get('code'), null);
  assert.equal(duoCode, done.body.code);
  return { duoCode, state: redirect.searchParams.get('state') };
}

function base64url(text) {
  return Buffer.from(text).toString('base64url');
}

function decodeJwt(jwt) {
  const [header, payload] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

/** JWS HS512 with the client secret's UTF-8 bytes as the key, as every Duo SDK signs. */
function signHs512(header, payload, secret) {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha512', Buffer.from(secret, 'utf8')).update(input).digest('base64url')}`;
}

function newState() {
  return randomBytes(24).toString('hex'); // 48 characters: within every SDK's 22..1024
}

// ---- the two relying apps, behind one shape -------------------------------------------

function runPython(command, request) {
  const out = execFileSync(PYTHON, [FLOW_SCRIPT, command], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

const python = {
  name: 'Python duo_universal (PyPI duo-universal 2.3.1)',
  prefix: 'py',
  config(secret = CLIENT_SECRET, redirectUri = REDIRECT_URI) {
    return { client_id: CLIENT_ID, client_secret: secret, host: API_HOST, redirect_uri: redirectUri, ca: CA_FILE };
  },
  async health(secret) {
    return runPython('health', this.config(secret));
  },
  async authUrl(username, state) {
    return runPython('auth-url', { ...this.config(), username, state }).url;
  },
  async exchange(code, username, { secret, redirectUri } = {}) {
    return runPython('exchange', { ...this.config(secret, redirectUri), code, username });
  },
  /** health_check raises DuoException(DuoException(body)): the edge's Duo-shaped body. */
  assertHealthRefused(result) {
    assert.equal(result.ok, false, `health check should fail: ${JSON.stringify(result)}`);
    assert.equal(result.exception, 'DuoException');
    assert.equal(result.error.stat, 'FAIL');
    assert.equal(result.error.code, 40002);
    assert.equal(result.error.message, 'invalid_client');
    assert.equal(result.error.message_detail, INVALID_CLIENT_DETAIL);
  },
  /** A non-200 token answer: DuoException(body). */
  assertExchangeRefused(result, error) {
    assert.equal(result.ok, false, `exchange should fail: ${JSON.stringify(result)}`);
    assert.equal(result.exception, 'DuoException');
    assert.equal(result.error.error, error, JSON.stringify(result.error));
    if (error === 'invalid_client') assert.equal(result.error.error_description, INVALID_CLIENT_DETAIL);
  },
};

function nodeSdkClient(secret = CLIENT_SECRET, redirectUrl = REDIRECT_URI) {
  const client = new NodeDuoClient({ clientId: CLIENT_ID, clientSecret: secret, apiHost: API_HOST, redirectUrl });
  // The SDK pins Duo's CAs in its own agent (dist: `this.axios = axios.create({ httpsAgent })`);
  // trust only the local CA instead (PROTOCOL-DUO §5).
  assert.ok(client.axios?.defaults?.httpsAgent instanceof https.Agent, 'the SDK keeps its agent here');
  client.axios.defaults.httpsAgent = new https.Agent({ ca: CA });
  return client;
}

async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

const node = {
  name: 'Node @duosecurity/duo_universal',
  prefix: 'node',
  async health(secret) {
    const result = await settle(nodeSdkClient(secret).healthCheck());
    return result.ok ? { ok: true, response: result.value } : result;
  },
  async authUrl(username, state) {
    return nodeSdkClient().createAuthUrl(username, state);
  },
  async exchange(code, username, { secret, redirectUri } = {}) {
    const result = await settle(
      nodeSdkClient(secret, redirectUri).exchangeAuthorizationCodeFor2FAResult(code, username),
    );
    return result.ok ? { ok: true, token: result.value } : result;
  },
  /** Non-2xx: DuoException("message: message_detail") wrapping the axios error. */
  assertHealthRefused(result) {
    assert.equal(result.ok, false, `health check should fail: ${JSON.stringify(result.response)}`);
    assert.ok(result.error instanceof DuoException, String(result.error));
    assert.equal(result.error.message, `invalid_client: ${INVALID_CLIENT_DETAIL}`);
    assert.equal(result.error.inner?.response?.status, 400);
    assert.equal(result.error.inner.response.data.code, 40002);
  },
  /** Non-2xx: DuoException("error: error_description"). */
  assertExchangeRefused(result, error) {
    assert.equal(result.ok, false, `exchange should fail: ${JSON.stringify(result.token)}`);
    assert.ok(result.error instanceof DuoException, String(result.error));
    assert.match(result.error.message, new RegExp(`^${error}: `));
    if (error === 'invalid_client') assert.equal(result.error.message, `invalid_client: ${INVALID_CLIENT_DETAIL}`);
    assert.equal(result.error.inner?.response?.status, 400);
    assert.equal(result.error.inner.response.data.error, error);
  },
};

function assertAllowToken(token, username) {
  assert.equal(token.preferred_username, username);
  assert.equal(token.auth_result?.result, 'allow');
  assert.equal(token.auth_context?.factor, 'duo_mobile_passcode');
  assert.equal(token.iss, TOKEN_ISSUER);
  assert.equal(token.aud, CLIENT_ID);
}

// ---- the cases, once per client ------------------------------------------------------------

for (const sdk of [python, node]) {
  describe(`official client: ${sdk.name}`, () => {
    const newUser = async (label) => {
      const username = `${sdk.prefix}-${label}-${randomBytes(4).toString('hex')}`;
      return { username, secret: await seedUser(EDGE_URL, ADMIN_TOKEN, username) };
    };

    test('health check passes with the right secret and is refused with a wrong one', async () => {
      const good = await sdk.health(CLIENT_SECRET);
      assert.equal(good.ok, true, `health check: ${JSON.stringify(good.error ?? good)}`);
      assert.equal(good.response.stat, 'OK');
      assert.ok(Number.isInteger(good.response.response.timestamp));
      assert.ok(Math.abs(good.response.response.timestamp - Date.now() / 1000) < 300);

      sdk.assertHealthRefused(await sdk.health(WRONG_SECRET));
    });

    test('auth URL, prompt API, exchange: a verified allow token; a wrong secret and a reused code are refused', async () => {
      const { username, secret } = await newUser('ok');
      const state = newState();
      const authUrl = await sdk.authUrl(username, state);
      const completion = await completePrompt(authUrl, username, secret, REDIRECT_URI);
      assert.equal(completion.state, state, 'state comes back unchanged');

      // A client with the wrong secret cannot redeem the code, and does not use it up.
      sdk.assertExchangeRefused(
        await sdk.exchange(completion.duoCode, username, { secret: WRONG_SECRET }),
        'invalid_client',
      );

      const result = await sdk.exchange(completion.duoCode, username);
      assert.equal(result.ok, true, `exchange: ${String(result.error?.message ?? JSON.stringify(result.error))}`);
      assertAllowToken(result.token, username);

      // Codes are single-use.
      sdk.assertExchangeRefused(await sdk.exchange(completion.duoCode, username), INVALID_GRANT);
    });

    test('a code exchanged with a different redirect_uri is refused and used up', async () => {
      const { username, secret } = await newUser('redirect');
      const authUrl = await sdk.authUrl(username, newState());
      const completion = await completePrompt(authUrl, username, secret, REDIRECT_URI);

      sdk.assertExchangeRefused(
        await sdk.exchange(completion.duoCode, username, { redirectUri: OTHER_REDIRECT_URI }),
        INVALID_GRANT,
      );
      // Per docs/api.md the mismatch uses the code up: the right client is refused too.
      sdk.assertExchangeRefused(await sdk.exchange(completion.duoCode, username), INVALID_GRANT);
    });

    test('an expired request JWT, signed exactly as this SDK signs, is refused by the edge', async () => {
      // Neither SDK builds a request with a past exp (Python clamps its expiry to >= 1 s,
      // Node always uses now + 300). Take the SDK's own request JWT, check that re-signing it
      // with node:crypto reproduces it byte for byte, then re-sign it with exp in the past.
      const { username } = await newUser('expired');
      const authUrl = await sdk.authUrl(username, newState());
      const { clientId, request } = parseAuthUrl(authUrl);
      const { header, payload } = decodeJwt(request);
      assert.equal(header.alg, 'HS512');
      assert.equal(signHs512(header, payload, CLIENT_SECRET), request, 'node:crypto reproduces the SDK JWT');

      const nowSeconds = Date.now() / 1000;
      assert.ok(payload.exp > nowSeconds, 'the SDK request is still valid');
      // Keep exp's type (float from Python, integer from Node): subtract whole seconds. Ten
      // minutes in the past is well beyond the edge's 60 s leeway.
      const expired = signHs512(header, { ...payload, exp: payload.exp - 900 }, CLIENT_SECRET);
      assert.ok(decodeJwt(expired).payload.exp < nowSeconds - 300);

      const refused = await postJson('/prompt/v1/start', { client_id: clientId, request: expired });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, 'invalid_request');

      const page = await edgeRequest(
        'GET',
        `/oauth/v1/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, request: expired })}`,
      );
      assert.equal(page.status, 400);
      assert.match(page.text, /role="alert"/);
      assert.equal(page.headers.location, undefined, 'a bad request is never redirected');

      // Control: the same user with the SDK's unexpired request is accepted.
      const accepted = await postJson('/prompt/v1/start', { client_id: clientId, request });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body.username, username);
    });
  });
}
