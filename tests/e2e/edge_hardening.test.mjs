// Edge hardening, end to end against the real edge in workerd (plain fetch, no browser):
// a table of malformed requests that must each be refused with a 4xx and a stable code,
// proof that none of them changed state, lockout under 50 concurrent wrong passcodes, and
// client-supplied location headers that change nothing. Every JWT is built here with
// node:crypto (HS512, key = the client secret's UTF-8 bytes, PROTOCOL-DUO.md §1).

import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { before, describe, test } from 'node:test';

import { seedUser, totp } from './seed.mjs';
import { required } from './env.mjs';
import { requestClaims } from './rp.mjs';

const EDGE_URL = required('TESSERA_EDGE_URL');
const WWW_URL = required('TESSERA_WWW_URL');
const CLIENT_ID = required('TESSERA_CLIENT_ID');
const CLIENT_SECRET = required('TESSERA_CLIENT_SECRET');
const ADMIN_TOKEN = required('TESSERA_ADMIN_TOKEN');
/** `{host}` as the edge derives it from the Host header that fetch sends. */
const HOST = new URL(EDGE_URL).host;
const REDIRECT_URI = `${WWW_URL}/duo-callback`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** An id of the right shape (20 alphanumerics) that is not registered. */
const UNKNOWN_CLIENT_ID = 'DIUNKNOWN00000000000';
const OTHER_SECRET = 'Z'.repeat(40);
const OVERSIZED = 'x'.repeat(64 * 1024 + 1);
const SPOOFED = {
  'x-forwarded-for': '203.0.113.7',
  'cf-connecting-ip': '203.0.113.7',
  'cf-ipcountry': 'KP',
  'true-client-ip': '203.0.113.7',
};

const now = () => Math.floor(Date.now() / 1000);
const b64u = (value) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const unique = (prefix) => `${prefix}-${randomBytes(6).toString('hex')}`;

/**
 * A compact JWS. Defaults to what the SDKs send: `{"alg":"HS512","typ":"JWT"}`, signed
 * with HMAC-SHA512 under the client secret. `hash: null` leaves the signature empty.
 */
function jwt(claims, { header = { alg: 'HS512', typ: 'JWT' }, key = CLIENT_SECRET, hash = 'sha512' } = {}) {
  const input = `${b64u(header)}.${b64u(claims)}`;
  const signature = hash ? createHmac(hash, Buffer.from(key, 'utf8')).update(input).digest('base64url') : '';
  return `${input}.${signature}`;
}

/** A client assertion for `path` (`/oauth/v1/token` or `/oauth/v1/health_check`). */
function assertionClaims(path, changes = {}) {
  const claims = {
    iss: CLIENT_ID,
    sub: CLIENT_ID,
    aud: `https://${HOST}${path}`,
    exp: now() + 300,
    jti: randomBytes(16).toString('hex'),
    iat: now(),
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

const assertion = (path, changes, options) => jwt(assertionClaims(path, changes), options);

/** Sends one request; `body` objects are sent as JSON unless a content type says otherwise. */
async function send({ method = 'POST', path, query, headers = {}, body, json }) {
  const url = new URL(EDGE_URL);
  const full = `${url.origin}${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
  const init = { method, headers: { ...headers }, redirect: 'manual' };
  if (json !== undefined) {
    init.headers['content-type'] ??= 'application/json';
    init.body = typeof json === 'string' ? json : JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(full, init);
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: parsed };
}

const start = (username, { changes, headers = {}, claims } = {}) =>
  send({
    path: '/prompt/v1/start',
    headers,
    json: { client_id: CLIENT_ID, request: jwt(claims ?? requestClaims(username, changes)) },
  });

const passcode = (session, code, headers = {}) =>
  send({ path: '/prompt/v1/passcode', headers, json: { session, passcode: code } });

/** Codes the device would accept now or soon: the current step and two either side. */
function liveCodes(secret) {
  const t = Date.now() / 1000;
  return new Set([-2, -1, 0, 1, 2].map((k) => totp(secret, t + 30 * k)));
}

/** `count` distinct well-formed 6-digit codes that the device will not accept. */
function wrongCodes(secret, count) {
  const live = liveCodes(secret);
  const codes = [];
  for (let n = 100_000; codes.length < count; n += 7_919) {
    const code = String(n % 1_000_000).padStart(6, '0');
    if (!live.has(code) && !codes.includes(code)) codes.push(code);
  }
  return codes;
}

/** Seeds `username` with one TOTP device whose id this file knows. */
async function seedKnownDevice(username) {
  const secret = Array.from(randomBytes(32), (byte) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[byte & 31]).join('');
  const deviceId = `DP${randomBytes(9).toString('hex').toUpperCase()}`;
  const response = await send({
    path: '/internal/v1/seed',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    json: {
      realm: 'demo',
      users: [{ username, devices: [{ id: deviceId, name: `${username}'s phone`, totp: { secret_base32: secret, algorithm: 'SHA1', digits: 6, period: 30 } }] }],
    },
  });
  assert.equal(response.status, 200, `seeding ${username}: ${response.text}`);
  return { secret, deviceId };
}

/** Redeems `code` at /oauth/v1/token with a correct client assertion, as the Node SDK does. */
const exchange = (code, redirectUri, headers = {}) =>
  send({
    path: '/oauth/v1/token',
    headers,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: CLIENT_ID,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion('/oauth/v1/token'),
    }),
  });

/** The session token's JSON (signed, not encrypted). */
const sessionPayload = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));

/** Checks one refusal: the status, the shape and the machine code. */
function assertRefusal(response, [status, kind, code], label) {
  const shown = `${label}: got ${response.status} ${response.text.slice(0, 300)}`;
  assert.ok(response.status < 500, `never a 5xx — ${shown}`);
  assert.equal(response.status, status, shown);
  assert.equal(response.headers.get('location'), null, `no redirect — ${shown}`);
  switch (kind) {
    case 'api': // Tessera's ErrorBody
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/, shown);
      assert.equal(response.json?.error?.code, code, shown);
      assert.equal(typeof response.json.error.message, 'string', shown);
      break;
    case 'oauth': // /oauth/v1/token errors
      assert.equal(response.json?.error, code, shown);
      assert.equal(typeof response.json.error_description, 'string', shown);
      break;
    case 'duo': // /oauth/v1/health_check failure, exactly Duo's keys
      assert.deepEqual(Object.keys(response.json ?? {}).sort(), ['code', 'message', 'message_detail', 'stat', 'timestamp'], shown);
      assert.equal(response.json.stat, 'FAIL', shown);
      assert.equal(response.json.code, 40002, shown);
      assert.equal(response.json.message, code, shown);
      assert.ok(Number.isInteger(response.json.timestamp), shown);
      break;
    case 'html': // /oauth/v1/authorize error page, never a redirect
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/, shown);
      assert.match(response.text, /role="alert"/, shown);
      assert.doesNotMatch(response.text, /tessera-prompt/, `no prompt on an error page — ${shown}`);
      break;
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

describe('edge hardening (real edge in workerd)', () => {
  // A: its flow must still work after the table. B: the table's passcode rows hit its
  // session; a wrong passcode must then still say 9 attempts left.
  const userA = unique('eh-state');
  const userB = unique('eh-victim');
  let deviceA;
  let secretB;
  let sessionB;
  // A throwaway user's session for the one row that, wrongly, reaches the account.
  let sessionE;
  let secretE;
  // Tokens already used once (their jti is recorded), and the key set before the table.
  let usedHealthAssertion;
  let usedTokenAssertion;
  let usedRequest;
  let jwksBefore;

  before(async () => {
    deviceA = await seedKnownDevice(userA);
    secretB = await seedUser(EDGE_URL, ADMIN_TOKEN, userB);
    const started = await start(userB);
    assert.equal(started.status, 200, `start for ${userB}: ${started.text}`);
    sessionB = started.json.session;
    const userE = unique('eh-array');
    secretE = await seedUser(EDGE_URL, ADMIN_TOKEN, userE);
    const startedE = await start(userE);
    assert.equal(startedE.status, 200, `start for ${userE}: ${startedE.text}`);
    sessionE = startedE.json.session;

    // Tokens whose jti is used once here, so the table can replay them.
    usedHealthAssertion = assertion('/oauth/v1/health_check');
    const health = await send({ path: '/oauth/v1/health_check', query: { client_id: CLIENT_ID, client_assertion: usedHealthAssertion } });
    assert.equal(health.status, 200, `first use of a health-check assertion: ${health.text}`);
    usedTokenAssertion = assertion('/oauth/v1/token');
    const token = await send({
      path: '/oauth/v1/token',
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: randomBytes(32).toString('base64url'), redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID, client_assertion_type: ASSERTION_TYPE, client_assertion: usedTokenAssertion,
      }),
    });
    assert.equal(token.json?.error, 'invalid_grant', `first use of a token assertion: ${token.text}`);
    usedRequest = jwt(requestClaims(userB, { jti: randomBytes(16).toString('hex') }));
    const first = await send({ path: '/prompt/v1/start', json: { client_id: CLIENT_ID, request: usedRequest } });
    assert.equal(first.status, 200, `first use of a request with a jti: ${first.text}`);
    jwksBefore = await send({ method: 'GET', path: '/.well-known/jwks.json' });
    assert.equal(jwksBefore.status, 200, jwksBefore.text);
  });

  test('malformed requests are refused with a 4xx and a stable code', async (t) => {
    const H = '/oauth/v1/health_check';
    const A = '/oauth/v1/authorize';
    const T = '/oauth/v1/token';
    const S = '/prompt/v1/start';
    const P = '/prompt/v1/passcode';
    const SEED = '/internal/v1/seed';
    const ROTATE = '/internal/v1/rotate-keys';
    const BYPASS = '/internal/v1/bypass_codes';
    const BOUNDARY = 'tessera-hardening-boundary';
    const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
    /** A multipart/form-data body of text fields, as curl (Duo's PHP client) writes it. */
    const multipartText = (fields, boundary = BOUNDARY) =>
      `${Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('')}--${boundary}--\r\n`;
    const hcFields = () => ({ client_id: CLIENT_ID, client_assertion: assertion(H) });
    const tokenFields = () => ({
      grant_type: 'authorization_code', code: 'bm90LWEtY29kZQ', redirect_uri: REDIRECT_URI, client_id: CLIENT_ID,
      client_assertion_type: ASSERTION_TYPE, client_assertion: assertion(T),
    });
    const FAIL = [400, 'duo', 'invalid_client'];
    const PAGE = [400, 'html'];
    const INVALID_REQUEST = [400, 'api', 'invalid_request'];
    const BAD_REQUEST = [400, 'api', 'bad_request'];
    const INVALID_SESSION = [401, 'api', 'invalid_session'];
    const INVALID_CLIENT = [400, 'oauth', 'invalid_client'];
    const INVALID_GRANT = [400, 'oauth', 'invalid_grant'];
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

    const good = requestClaims(userB);
    const goodRequest = jwt(good);
    const hc = (client_assertion, client_id = CLIENT_ID) => ({ path: H, query: { client_id, client_assertion } });
    const authorize = (request, client_id = CLIENT_ID) => ({ method: 'GET', path: A, query: { response_type: 'code', client_id, request } });
    const startWith = (request, client_id = CLIENT_ID) => ({ path: S, json: { client_id, request } });
    const tokenForm = (fields) => ({
      path: T,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'bm90LWEtY29kZQ',
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion(T),
        ...fields,
      }),
    });
    // B's session, with its payload rewritten to name user A but the MAC kept.
    const [payloadB, tagB] = sessionB.split('.');
    const tampered = `${b64u({ ...sessionPayload(sessionB), username: userA })}.${tagB}`;
    const flippedTag = `${payloadB}.${tagB.slice(0, 10)}${tagB[10] === 'A' ? 'B' : 'A'}${tagB.slice(11)}`;
    const forgedPayload = b64u({ ...sessionPayload(sessionB), username: userA });
    const forged = `${forgedPayload}.${createHmac('sha256', 'tessera').update(`tessera-session-v1.${forgedPayload}`).digest('base64url')}`;
    const multipart = () => {
      const form = new FormData();
      form.set('client_id', CLIENT_ID);
      form.set('request', goodRequest);
      return form;
    };

    /** [name, request, [status, kind, code], todo?] */
    const rows = [
      // /oauth/v1/health_check: every failure is Duo's 400 FAIL body.
      ['health_check: no client_id, no assertion', { path: H }, FAIL],
      ['health_check: truncated assertion', hc(assertion(H).slice(0, -20)), FAIL],
      ['health_check: garbage assertion', hc('not-a-jwt'), FAIL],
      ['health_check: alg none, no signature', hc(assertion(H, {}, { header: { alg: 'none', typ: 'JWT' }, hash: null })), FAIL],
      ['health_check: alg HS256 signed with the secret', hc(assertion(H, {}, { header: { alg: 'HS256', typ: 'JWT' }, hash: 'sha256' })), FAIL],
      ['health_check: RS256 header, HMAC signature (alg confusion)', hc(assertion(H, {}, { header: { alg: 'RS256', typ: 'JWT' } })), FAIL],
      ['health_check: signed with another secret', hc(assertion(H, {}, { key: OTHER_SECRET })), FAIL],
      ['health_check: expired exp', hc(assertion(H, { exp: now() - 3600 })), FAIL],
      ['health_check: exp is a garbage string', hc(assertion(H, { exp: 'tomorrow' })), FAIL],
      ['health_check: assertion for the token endpoint (wrong aud)', hc(assertion(T)), FAIL],
      ['health_check: unknown client_id', hc(assertion(H, { iss: UNKNOWN_CLIENT_ID, sub: UNKNOWN_CLIENT_ID }), UNKNOWN_CLIENT_ID), FAIL],
      ['health_check: multipart body signed with another secret', { path: H, body: (() => { const f = new FormData(); f.set('client_id', CLIENT_ID); f.set('client_assertion', assertion(H, {}, { key: OTHER_SECRET })); return f; })() }, FAIL],
      ['health_check: multipart without a boundary', { path: H, headers: { 'content-type': 'multipart/form-data' }, body: multipartText(hcFields()) }, FAIL],
      ['health_check: multipart cut before the closing boundary', { path: H, headers: { 'content-type': MULTIPART }, body: multipartText(hcFields()).slice(0, -40) }, FAIL],
      ['health_check: replayed assertion (jti already used)', hc(usedHealthAssertion), FAIL],
      ['health_check: assertion without a jti', hc(assertion(H, { jti: undefined })), FAIL],
      ['health_check: GET', { method: 'GET', path: H }, [405, 'api', 'method_not_allowed']],
      ['health_check: body over 64 KiB', { path: H, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=${CLIENT_ID}&pad=${OVERSIZED}` }, [413, 'api', 'payload_too_large']],

      // /oauth/v1/authorize: a 400 page with role="alert", never a redirect.
      ['authorize: no request parameter', { method: 'GET', path: A, query: { client_id: CLIENT_ID } }, PAGE],
      ['authorize: unknown client_id', authorize(goodRequest, UNKNOWN_CLIENT_ID), PAGE],
      ['authorize: client_id of the wrong length', authorize(goodRequest, 'DI123'), PAGE],
      ['authorize: garbage JWT', authorize('a.b.c'), PAGE],
      ['authorize: truncated JWT (no signature part)', authorize(goodRequest.slice(0, goodRequest.lastIndexOf('.'))), PAGE],
      ['authorize: alg none, no signature', authorize(jwt(good, { header: { alg: 'none' }, hash: null })), PAGE],
      ['authorize: alg HS256 signed with the secret', authorize(jwt(good, { header: { alg: 'HS256', typ: 'JWT' }, hash: 'sha256' })), PAGE],
      ['authorize: RS256 header, HMAC signature (alg confusion)', authorize(jwt(good, { header: { alg: 'RS256', typ: 'JWT' } })), PAGE],
      ['authorize: signed with another secret', authorize(jwt(good, { key: OTHER_SECRET })), PAGE],
      ['authorize: expired exp', authorize(jwt(requestClaims(userB, { exp: now() - 3600 }))), PAGE],
      ['authorize: exp is a garbage string', authorize(jwt(requestClaims(userB, { exp: 'soon' }))), PAGE],
      ['authorize: missing duo_uname', authorize(jwt(requestClaims(userB, { duo_uname: undefined }))), PAGE],
      ['authorize: missing state', authorize(jwt(requestClaims(userB, { state: undefined }))), PAGE],
      ['authorize: missing redirect_uri', authorize(jwt(requestClaims(userB, { redirect_uri: undefined }))), PAGE],
      ['authorize: missing response_type', authorize(jwt(requestClaims(userB, { response_type: undefined }))), PAGE],
      ['authorize: response_type=token', authorize(jwt(requestClaims(userB, { response_type: 'token' }))), PAGE],
      ['authorize: client_id claim differs from the query', authorize(jwt(requestClaims(userB, { client_id: UNKNOWN_CLIENT_ID }))), PAGE],
      ['authorize: state of 15 characters', authorize(jwt(requestClaims(userB, { state: 's'.repeat(15) }))), PAGE],
      ['authorize: javascript: redirect_uri', authorize(jwt(requestClaims(userB, { redirect_uri: 'javascript:alert(document.domain)//' }))), PAGE],
      ['authorize: aud of another host', authorize(jwt(requestClaims(userB, { aud: 'https://evil.example' }))), PAGE],
      ['authorize: control character in duo_uname', authorize(jwt(requestClaims(userB, { duo_uname: 'ali\u0000ce' }))), PAGE],
      ['authorize: request JWT whose jti was already used', authorize(usedRequest), PAGE],
      ['authorize: POST', { path: A, query: { client_id: CLIENT_ID, request: goodRequest } }, [405, 'api', 'method_not_allowed']],

      // /prompt/v1/start: ErrorBody.
      ['start: text/plain body', { path: S, headers: { 'content-type': 'text/plain' }, json: { client_id: CLIENT_ID, request: goodRequest } }, [415, 'api', 'unsupported_media_type']],
      ['start: multipart body', { path: S, body: multipart() }, [415, 'api', 'unsupported_media_type']],
      ['start: no content type', { path: S, body: new Blob([JSON.stringify({ client_id: CLIENT_ID, request: goodRequest })]) }, [415, 'api', 'unsupported_media_type']],
      ['start: invalid JSON', { path: S, json: '{"client_id":' }, BAD_REQUEST],
      ['start: a JSON string instead of an object', { path: S, json: JSON.stringify(goodRequest) }, BAD_REQUEST],
      // serde would fill a struct from a JSON array by position; the edge takes objects only.
      ['start: JSON array instead of an object', { path: S, json: [CLIENT_ID, goodRequest] }, BAD_REQUEST],
      ['start: missing request', { path: S, json: { client_id: CLIENT_ID } }, BAD_REQUEST],
      ['start: client_id is a number', { path: S, json: { client_id: 12345678901234567890, request: goodRequest } }, BAD_REQUEST],
      ['start: unknown client_id', startWith(goodRequest, UNKNOWN_CLIENT_ID), [401, 'api', 'unknown_client']],
      ['start: garbage JWT', startWith('garbage'), INVALID_REQUEST],
      ['start: alg none, no signature', startWith(jwt(good, { header: { alg: 'none' }, hash: null })), INVALID_REQUEST],
      ['start: alg HS256 signed with the secret', startWith(jwt(good, { header: { alg: 'HS256', typ: 'JWT' }, hash: 'sha256' })), INVALID_REQUEST],
      ['start: RS256 header, HMAC signature (alg confusion)', startWith(jwt(good, { header: { alg: 'RS256', typ: 'JWT' } })), INVALID_REQUEST],
      ['start: signed with another secret', startWith(jwt(good, { key: OTHER_SECRET })), INVALID_REQUEST],
      ['start: expired exp', startWith(jwt(requestClaims(userB, { exp: now() - 3600 }))), INVALID_REQUEST],
      ['start: exp is a garbage string', startWith(jwt(requestClaims(userB, { exp: 'never' }))), INVALID_REQUEST],
      ['start: missing duo_uname', startWith(jwt(requestClaims(userB, { duo_uname: undefined }))), INVALID_REQUEST],
      ['start: missing state', startWith(jwt(requestClaims(userB, { state: undefined }))), INVALID_REQUEST],
      ['start: client_id claim of another application', startWith(jwt(requestClaims(userB, { client_id: UNKNOWN_CLIENT_ID }))), INVALID_REQUEST],
      ['start: state of 15 characters', startWith(jwt(requestClaims(userB, { state: 's'.repeat(15) }))), INVALID_REQUEST],
      ['start: javascript: redirect_uri', startWith(jwt(requestClaims(userB, { redirect_uri: 'javascript:alert(1)' }))), INVALID_REQUEST],
      ['start: control characters in duo_uname', startWith(jwt(requestClaims(userB, { duo_uname: `${userB}\r\n\u0007` }))), INVALID_REQUEST],
      ['start: duo_uname of 257 characters', startWith(jwt(requestClaims(userB, { duo_uname: 'u'.repeat(257) }))), INVALID_REQUEST],
      ['start: unicode duo_uname of an unknown user', startWith(jwt(requestClaims(userB, { duo_uname: `ünïcødé-用户-${randomBytes(3).toString('hex')}` }))), [403, 'api', 'enrollment_required']],
      ['start: origin not registered', { ...startWith(goodRequest), headers: { origin: 'https://evil.example' } }, [403, 'api', 'origin_not_allowed']],
      ['start: body over 64 KiB', { path: S, json: { client_id: CLIENT_ID, request: OVERSIZED } }, [413, 'api', 'payload_too_large']],
      ['start: GET', { method: 'GET', path: S }, [405, 'api', 'method_not_allowed']],
      ['start: request JWT whose jti was already used', startWith(usedRequest), INVALID_REQUEST],

      // /prompt/v1/passcode against B's live session: none of these may count as a failure.
      ['passcode: letters', { path: P, json: { session: sessionB, passcode: 'abcdef' } }, BAD_REQUEST],
      ['passcode: 7 digits', { path: P, json: { session: sessionB, passcode: '1234567' } }, BAD_REQUEST],
      ['passcode: 5 digits', { path: P, json: { session: sessionB, passcode: '12345' } }, BAD_REQUEST],
      ['passcode: empty', { path: P, json: { session: sessionB, passcode: '' } }, BAD_REQUEST],
      ['passcode: non-ASCII digits', { path: P, json: { session: sessionB, passcode: '١٢٣٤٥٦' } }, BAD_REQUEST],
      ['passcode: digits with a space', { path: P, json: { session: sessionB, passcode: '12 456' } }, BAD_REQUEST],
      ['passcode: 9 digits and a letter', { path: P, json: { session: sessionB, passcode: '12345678x' } }, BAD_REQUEST],
      ['passcode: 10 digits', { path: P, json: { session: sessionB, passcode: '1234567890' } }, BAD_REQUEST],
      ['passcode: a bypass code with other separators', { path: P, json: { session: sessionB, passcode: '123.456.789' } }, BAD_REQUEST],
      ['passcode: a JSON number', { path: P, json: { session: sessionB, passcode: 123456 } }, BAD_REQUEST],
      ['passcode: missing passcode', { path: P, json: { session: sessionB } }, BAD_REQUEST],
      ['passcode: missing session', { path: P, json: { passcode: '123456' } }, BAD_REQUEST],
      ['passcode: text/plain body', { path: P, headers: { 'content-type': 'text/plain' }, json: { session: sessionB, passcode: '123456' } }, [415, 'api', 'unsupported_media_type']],
      ['passcode: invalid JSON', { path: P, json: `{"session":"${sessionB}","passcode":` }, BAD_REQUEST],
      ['passcode: session payload tampered (MAC kept)', { path: P, json: { session: tampered, passcode: '123456' } }, INVALID_SESSION],
      ['passcode: session MAC altered', { path: P, json: { session: flippedTag, passcode: '123456' } }, INVALID_SESSION],
      ['passcode: session forged with a guessed key', { path: P, json: { session: forged, passcode: '123456' } }, INVALID_SESSION],
      ['passcode: garbage session', { path: P, json: { session: 'garbage', passcode: '123456' } }, INVALID_SESSION],
      ['passcode: session over 4096 characters', { path: P, json: { session: `${payloadB}${'A'.repeat(4096)}.${tagB}`, passcode: '123456' } }, INVALID_SESSION],
      ['passcode: well-formed code from an unregistered origin', { path: P, headers: { origin: 'https://evil.example' }, json: { session: sessionB, passcode: wrongCodes(secretB, 1)[0] } }, [403, 'api', 'origin_not_allowed']],
      ['passcode: body over 64 KiB', { path: P, json: { session: sessionB, passcode: '123456', pad: OVERSIZED } }, [413, 'api', 'payload_too_large']],
      // An array body must not pass as a (counted) attempt.
      ['passcode: JSON array [session, passcode] (throwaway user)', { path: P, json: [sessionE, wrongCodes(secretE, 1)[0]] }, BAD_REQUEST],
      ['passcode: PUT', { method: 'PUT', path: P, json: { session: sessionB, passcode: '123456' } }, [405, 'api', 'method_not_allowed']],

      // /internal/v1/seed: no token, a wrong one, then invalid bodies (validated before any write).
      ['seed: no Authorization', { path: SEED, json: { realm: 'demo' } }, [401, 'api', 'unauthorized']],
      ['seed: wrong admin token', { path: SEED, headers: { authorization: `Bearer ${ADMIN_TOKEN}x` }, json: { realm: 'demo' } }, [401, 'api', 'unauthorized']],
      ['seed: admin token in a Basic header', { path: SEED, headers: { authorization: `Basic ${ADMIN_TOKEN}` }, json: { realm: 'demo' } }, [401, 'api', 'unauthorized']],
      ['seed: text/plain body', { path: SEED, headers: { ...admin, 'content-type': 'text/plain' }, json: { realm: 'demo' } }, [415, 'api', 'unsupported_media_type']],
      ['seed: invalid JSON', { path: SEED, headers: admin, json: '{"realm":' }, BAD_REQUEST],
      ['seed: users is not an array', { path: SEED, headers: admin, json: { realm: 'demo', users: 'all' } }, BAD_REQUEST],
      ['seed: client_secret of 39 characters', { path: SEED, headers: admin, json: { realm: 'demo', applications: [{ client_id: UNKNOWN_CLIENT_ID, client_secret: 'a'.repeat(39), name: 'x' }] } }, BAD_REQUEST],
      // Re-keys A's known device with an 8-digit TOTP: if it were stored, A's flow below would fail.
      ['seed: A\'s device with 8 digits', { path: SEED, headers: admin, json: { realm: 'demo', users: [{ username: userA, devices: [{ id: deviceA.deviceId, name: 'x', totp: { secret_base32: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 8, period: 30 } }] }] } }, BAD_REQUEST],
      ['seed: control character in a username', { path: SEED, headers: admin, json: { realm: 'demo', users: [{ username: 'bad\u0000name', devices: [] }] } }, BAD_REQUEST],
      ['seed: GET', { method: 'GET', path: SEED, headers: admin }, [405, 'api', 'method_not_allowed']],

      // /internal/v1/bypass_codes: every row names A, whose start below must still offer
      // the passcode alone (no row may have issued a code).
      ['bypass_codes: no Authorization', { path: BYPASS, json: { realm: 'demo', username: userA, count: 1 } }, [401, 'api', 'unauthorized']],
      ['bypass_codes: wrong admin token', { path: BYPASS, headers: { authorization: `Bearer ${ADMIN_TOKEN}x` }, json: { realm: 'demo', username: userA, count: 1 } }, [401, 'api', 'unauthorized']],
      ['bypass_codes: count 0', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 0 } }, BAD_REQUEST],
      ['bypass_codes: count 11', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 11 } }, BAD_REQUEST],
      ['bypass_codes: count and codes together', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 1, codes: '123456789' } }, BAD_REQUEST],
      ['bypass_codes: a code of 8 digits', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, codes: '12345678' } }, BAD_REQUEST],
      ['bypass_codes: the same code twice', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, codes: '123456789,123-456-789' } }, BAD_REQUEST],
      ['bypass_codes: negative reuse_count', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 1, reuse_count: -1 } }, BAD_REQUEST],
      ['bypass_codes: valid_secs as words', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 1, valid_secs: 'an hour' } }, BAD_REQUEST],
      ['bypass_codes: preserve_existing not a boolean', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 1, preserve_existing: 'maybe' } }, BAD_REQUEST],
      ['bypass_codes: count as an array', { path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: [1] } }, BAD_REQUEST],
      ['bypass_codes: missing username', { path: BYPASS, headers: admin, json: { realm: 'demo', count: 1 } }, BAD_REQUEST],
      ['bypass_codes: control character in the username', { path: BYPASS, headers: admin, json: { realm: 'demo', username: `${userA}\u0000`, count: 1 } }, BAD_REQUEST],
      ['bypass_codes: unknown user', { path: BYPASS, headers: admin, json: { realm: 'demo', username: unique('eh-nobody'), count: 1 } }, [404, 'api', 'not_found']],
      ['bypass_codes: text/plain body', { path: BYPASS, headers: { ...admin, 'content-type': 'text/plain' }, json: { realm: 'demo', username: userA, count: 1 } }, [415, 'api', 'unsupported_media_type']],
      ['bypass_codes: GET without a username', { method: 'GET', path: BYPASS, query: { realm: 'demo' }, headers: admin }, BAD_REQUEST],
      ['bypass_codes: GET of an unknown user', { method: 'GET', path: BYPASS, query: { realm: 'demo', username: unique('eh-nobody') }, headers: admin }, [404, 'api', 'not_found']],
      ['bypass_codes: PUT', { method: 'PUT', path: BYPASS, headers: admin, json: { realm: 'demo', username: userA, count: 1 } }, [405, 'api', 'method_not_allowed']],

      // /oauth/v1/token: OAuth error bodies.
      ['token: grant_type=password', tokenForm({ grant_type: 'password' }), INVALID_GRANT],
      ['token: no grant_type', (() => { const r = tokenForm({}); r.body.delete('grant_type'); return r; })(), INVALID_GRANT],
      ['token: wrong client_assertion_type', tokenForm({ client_assertion_type: 'urn:example:bogus' }), INVALID_CLIENT],
      ['token: missing code', (() => { const r = tokenForm({}); r.body.delete('code'); return r; })(), INVALID_GRANT],
      ['token: unknown code', tokenForm({ code: randomBytes(32).toString('base64url') }), INVALID_GRANT],
      ['token: assertion for health_check (wrong aud)', tokenForm({ client_assertion: assertion(H) }), INVALID_CLIENT],
      ['token: assertion with alg none', tokenForm({ client_assertion: assertion(T, {}, { header: { alg: 'none' }, hash: null }) }), INVALID_CLIENT],
      ['token: assertion signed with another secret', tokenForm({ client_assertion: assertion(T, {}, { key: OTHER_SECRET }) }), INVALID_CLIENT],
      ['token: expired assertion', tokenForm({ client_assertion: assertion(T, { exp: now() - 3600 }) }), INVALID_CLIENT],
      ['token: unknown client_id', tokenForm({ client_id: UNKNOWN_CLIENT_ID, client_assertion: assertion(T, { iss: UNKNOWN_CLIENT_ID, sub: UNKNOWN_CLIENT_ID }) }), INVALID_CLIENT],
      ['token: client_id differs from the assertion', tokenForm({ client_assertion: assertion(T, { iss: UNKNOWN_CLIENT_ID, sub: UNKNOWN_CLIENT_ID }) }), INVALID_CLIENT],
      ['token: JSON body', { path: T, json: { grant_type: 'authorization_code', code: 'x' } }, [415, 'oauth', 'invalid_request']],
      ['token: multipart body without an assertion', { path: T, body: (() => { const f = new FormData(); f.set('grant_type', 'authorization_code'); return f; })() }, INVALID_CLIENT],
      ['token: multipart without a boundary', { path: T, headers: { 'content-type': 'multipart/form-data' }, body: multipartText(tokenFields()) }, [400, 'oauth', 'invalid_request']],
      ['token: multipart with another boundary', { path: T, headers: { 'content-type': 'multipart/form-data; boundary=other' }, body: multipartText(tokenFields()) }, [400, 'oauth', 'invalid_request']],
      ['token: multipart boundary of 71 characters', { path: T, headers: { 'content-type': `multipart/form-data; boundary=${'b'.repeat(71)}` }, body: multipartText(tokenFields(), 'b'.repeat(71)) }, [400, 'oauth', 'invalid_request']],
      ['token: multipart cut before the closing boundary', { path: T, headers: { 'content-type': MULTIPART }, body: multipartText(tokenFields()).slice(0, -40) }, [400, 'oauth', 'invalid_request']],
      ['token: multipart file part', { path: T, headers: { 'content-type': MULTIPART }, body: multipartText(tokenFields()).replace('name="code"', 'name="code"; filename="code.txt"') }, [400, 'oauth', 'invalid_request']],
      ['token: multipart part without a name', { path: T, headers: { 'content-type': MULTIPART }, body: multipartText(tokenFields()).replace('name="code"', 'x="code"') }, [400, 'oauth', 'invalid_request']],
      ['token: multipart part of another media type', { path: T, headers: { 'content-type': MULTIPART }, body: multipartText(tokenFields()).replace('name="code"\r\n', 'name="code"\r\nContent-Type: application/json\r\n') }, [400, 'oauth', 'invalid_request']],
      ['token: multipart value that is not UTF-8', { path: T, headers: { 'content-type': MULTIPART }, body: Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="code"\r\n\r\n`), Buffer.from([0xff, 0xfe]), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]) }, [400, 'oauth', 'invalid_request']],
      ['token: replayed assertion (jti already used)', tokenForm({ client_assertion: usedTokenAssertion }), INVALID_CLIENT],
      ['token: assertion without a jti', tokenForm({ client_assertion: assertion(T, { jti: undefined }) }), INVALID_CLIENT],
      ['token: conflicting values in query and body', { ...tokenForm({}), query: { grant_type: 'client_credentials' } }, [400, 'oauth', 'invalid_request']],
      ['token: GET', { method: 'GET', path: T }, [405, 'api', 'method_not_allowed']],
      ['token: body over 64 KiB', { path: T, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=authorization_code&pad=${OVERSIZED}` }, [413, 'api', 'payload_too_large']],

      // OpenID Connect: key rotation is the admin's; the documents are read-only.
      ['rotate-keys: no Authorization', { path: ROTATE, json: { overlap_seconds: 0 } }, [401, 'api', 'unauthorized']],
      ['rotate-keys: wrong admin token', { path: ROTATE, headers: { authorization: `Bearer ${ADMIN_TOKEN}x` }, json: { overlap_seconds: 0 } }, [401, 'api', 'unauthorized']],
      ['rotate-keys: negative overlap', { path: ROTATE, headers: admin, json: { overlap_seconds: -1 } }, BAD_REQUEST],
      ['rotate-keys: overlap over a year', { path: ROTATE, headers: admin, json: { overlap_seconds: 31_536_001 } }, BAD_REQUEST],
      ['rotate-keys: overlap as a string', { path: ROTATE, headers: admin, json: { overlap_seconds: '0' } }, BAD_REQUEST],
      ['rotate-keys: unknown field', { path: ROTATE, headers: admin, json: { overlap: 0 } }, BAD_REQUEST],
      ['rotate-keys: text/plain body', { path: ROTATE, headers: { ...admin, 'content-type': 'text/plain' }, json: { overlap_seconds: 0 } }, [415, 'api', 'unsupported_media_type']],
      ['rotate-keys: GET', { method: 'GET', path: ROTATE, headers: admin }, [405, 'api', 'method_not_allowed']],
      ['jwks: POST', { path: '/.well-known/jwks.json', json: {} }, [405, 'api', 'method_not_allowed']],
      ['openid-configuration: POST', { path: '/.well-known/openid-configuration', json: {} }, [405, 'api', 'method_not_allowed']],

      // Unknown paths.
      ['unknown path', { method: 'GET', path: '/nope' }, [404, 'api', 'not_found']],
      ['unknown version', { path: '/oauth/v2/token' }, [404, 'api', 'not_found']],
      ['route with a trailing slash', { path: '/internal/v1/seed/', headers: admin }, [404, 'api', 'not_found']],
      ['route in upper case', { path: '/OAUTH/V1/TOKEN' }, [404, 'api', 'not_found']],
      ['asset name with an encoded slash', { method: 'GET', path: '/prompt/v1/..%2f..%2finternal%2fv1%2fseed' }, [404, 'api', 'not_found']],
      ['hidden asset name', { method: 'GET', path: '/prompt/v1/.env' }, [404, 'api', 'not_found']],
      ['missing asset', { method: 'GET', path: '/prompt/v1/missing.js' }, [404, 'api', 'not_found']],
    ];
    assert.ok(rows.length >= 40, `${rows.length} rows`);
    const names = new Set(rows.map(([name]) => name));
    assert.equal(names.size, rows.length, 'row names are unique');
    for (const [name, request, expected, todo] of rows) {
      await t.test(name, todo ? { todo } : {}, async () => {
        assertRefusal(await send(request), expected, name);
      });
    }
  });

  test('none of the malformed requests changed state', async () => {
    // A: start → passcode → Completion → token exchange, all untouched by the table.
    const started = await start(userA, { headers: { origin: WWW_URL } });
    assert.equal(started.status, 200, started.text);
    assert.equal(started.headers.get('access-control-allow-origin'), WWW_URL);
    assert.equal(started.json.username, userA);
    assert.deepEqual(started.json.methods, [{ method: 'passcode', device_name: `${userA}'s phone`, device_id: deviceA.deviceId }]);
    const { state, redirect_uri: redirectUri } = sessionPayload(started.json.session);

    const done = await passcode(started.json.session, totp(deviceA.secret), { origin: WWW_URL });
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(Object.keys(done.json).sort(), ['code', 'redirect', 'state']);
    assert.equal(done.json.state, state);
    const redirect = new URL(done.json.redirect);
    assert.equal(`${redirect.origin}${redirect.pathname}`, redirectUri);
    assert.equal(redirect.searchParams.get('duo_code'), done.json.code);
    assert.equal(redirect.searchParams.get('state'), state);

    const token = await exchange(done.json.code, redirectUri);
    assert.equal(token.status, 200, token.text);
    assert.deepEqual(Object.keys(token.json).sort(), ['access_token', 'expires_in', 'id_token', 'token_type']);
    assert.equal(token.json.expires_in, 3600);
    assert.equal(token.json.token_type, 'Bearer');
    const [header, payload, signature] = token.json.id_token.split('.');
    const expected = createHmac('sha512', Buffer.from(CLIENT_SECRET, 'utf8')).update(`${header}.${payload}`).digest();
    assert.ok(timingSafeEqual(Buffer.from(signature, 'base64url'), expected), 'id_token is HS512 under the client secret');
    assert.equal(JSON.parse(Buffer.from(header, 'base64url')).alg, 'HS512');
    const claims = JSON.parse(Buffer.from(payload, 'base64url'));
    assert.equal(claims.sub, userA);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.iss, `https://${HOST}/oauth/v1/token`);
    assert.equal(claims.auth_result.result, 'allow');
    // Single use.
    assertRefusal(await exchange(done.json.code, redirectUri), [400, 'oauth', 'invalid_grant'], 'code redeemed twice');

    // No refused rotation changed the published keys.
    const jwksAfter = await send({ method: 'GET', path: '/.well-known/jwks.json' });
    assert.deepEqual(jwksAfter.json, jwksBefore.json, 'the key set is unchanged');

    // B: every malformed passcode above was free; the first wrong one leaves 9.
    const wrong = await passcode(sessionB, wrongCodes(secretB, 1)[0]);
    assertRefusal(wrong, [401, 'api', 'invalid_passcode'], 'first wrong passcode for B');
    assert.equal(wrong.json.error.attempts_left, 9, wrong.text);
    assert.equal(wrong.json.error.message, 'Incorrect passcode. 9 attempts left.');
  });

  test('50 concurrent wrong passcodes lock the account exactly once, losing no failure', async () => {
    const user = unique('eh-lockout');
    const secret = await seedUser(EDGE_URL, ADMIN_TOKEN, user);
    const started = await start(user);
    assert.equal(started.status, 200, started.text);
    const session = started.json.session;

    const responses = await Promise.all(wrongCodes(secret, 50).map((code) => passcode(session, code)));
    for (const response of responses) assert.ok(response.status < 500, `${response.status} ${response.text}`);
    const codes = responses.map((r) => r.json?.error?.code);
    const invalid = responses.filter((r) => r.json?.error?.code === 'invalid_passcode');
    const locked = responses.filter((r) => r.json?.error?.code === 'locked_out');
    // account.rs: failures 1..9 answer invalid_passcode with 9..1 attempts left; the 10th
    // failure locks and answers locked_out (api.md: "10th consecutive failure, and every
    // try after it"), as does everything after it.
    assert.equal(invalid.length + locked.length, 50, `only the two codes: ${JSON.stringify(codes)}`);
    assert.equal(invalid.length, 9, `invalid_passcode count: ${JSON.stringify(codes)}`);
    assert.equal(locked.length, 41, `locked_out count: ${JSON.stringify(codes)}`);
    for (const r of invalid) assert.equal(r.status, 401);
    for (const r of locked) {
      assert.equal(r.status, 403);
      assert.equal(r.json.error.attempts_left, undefined, 'locked_out carries no attempts_left');
    }
    const left = invalid.map((r) => r.json.error.attempts_left);
    assert.equal(new Set(left).size, left.length, `no duplicate attempts_left (lost update): ${left}`);
    assert.deepEqual([...left].sort((a, b) => b - a), [9, 8, 7, 6, 5, 4, 3, 2, 1]);

    // The current code no longer helps, and a new prompt refuses at once.
    assertRefusal(await passcode(session, totp(secret)), [403, 'api', 'locked_out'], 'correct code after lockout');
    assertRefusal(await start(user), [403, 'api', 'locked_out'], 'start after lockout');
  });

  test('client-supplied location headers change nothing', async () => {
    const user = unique('eh-headers');
    const secret = await seedUser(EDGE_URL, ADMIN_TOKEN, user);
    const claims = requestClaims(user);
    const variants = [
      ['no extra headers', {}],
      ...Object.entries(SPOOFED).map(([name, value]) => [name, { [name]: value }]),
      ['all four', SPOOFED],
    ];
    const answers = [];
    for (const [label, headers] of variants) answers.push([label, await start(user, { claims, headers })]);

    const comparable = ({ status, headers, json }) => ({
      status,
      headers: [...headers].filter(([name]) => !['date', 'content-length'].includes(name)),
      body: { ...json, session: undefined, expires_at: undefined },
    });
    const [, baseline] = answers[0];
    assert.equal(baseline.status, 200, baseline.text);
    const baseSession = sessionPayload(baseline.json.session);
    for (const [label, answer] of answers) {
      assert.deepEqual(comparable(answer), comparable(baseline), `${label}: same answer`);
      assert.ok(Math.abs(answer.json.expires_at - baseline.json.expires_at) <= 2, `${label}: same expiry`);
      if (answer !== baseline) {
        assert.notEqual(answer.json.session, baseline.json.session, `${label}: a session of its own`);
      }
      const session = sessionPayload(answer.json.session);
      assert.deepEqual(
        { ...session, txid: undefined, expires_at: undefined },
        { ...baseSession, txid: undefined, expires_at: undefined },
        `${label}: the session holds the same request`,
      );
    }

    // Spoofed headers buy no separate failure budget: one lockout counter per user.
    const [wrongA, wrongB] = wrongCodes(secret, 2);
    const first = await passcode(answers.at(-1)[1].json.session, wrongA, SPOOFED);
    assertRefusal(first, [401, 'api', 'invalid_passcode'], 'wrong code with spoofed headers');
    assert.equal(first.json.error.attempts_left, 9);
    const second = await passcode(baseline.json.session, wrongB);
    assertRefusal(second, [401, 'api', 'invalid_passcode'], 'wrong code without them');
    assert.equal(second.json.error.attempts_left, 8);

    // The country comes only from request.cf, never from CF-IPCountry.
    const done = await passcode(answers.at(-1)[1].json.session, totp(secret), SPOOFED);
    assert.equal(done.status, 200, done.text);
    const token = await exchange(done.json.code, claims.redirect_uri, SPOOFED);
    assert.equal(token.status, 200, token.text);
    const idClaims = JSON.parse(Buffer.from(token.json.id_token.split('.')[1], 'base64url'));
    assert.notEqual(idClaims.auth_context.access_device.location.country, 'KP', 'CF-IPCountry is ignored');
  });
});
