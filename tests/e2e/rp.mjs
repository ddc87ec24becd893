// What the end-to-end tests send as the relying application: the claims of an authorize
// `request` JWT, exactly as the official Node SDK builds them.

import { randomBytes } from 'node:crypto';

import { required } from './env.mjs';

const CLIENT_ID = required('TESSERA_CLIENT_ID');
const HOST = new URL(required('TESSERA_EDGE_URL')).host;
const REDIRECT_URI = `${required('TESSERA_WWW_URL')}/duo-callback`;

const now = () => Math.floor(Date.now() / 1000);

/** Claims of an authorize `request` JWT for `username`, with `changes` applied (a value of
 * `undefined` removes the claim). */
export function requestClaims(username, changes = {}) {
  const claims = {
    response_type: 'code',
    scope: 'openid',
    exp: now() + 300,
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    state: randomBytes(24).toString('hex'),
    duo_uname: username,
    iss: CLIENT_ID,
    aud: `https://${HOST}`,
    use_duo_code_attribute: true,
    iat: now(),
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}
