// Test fixtures shared by the end-to-end files: users of their own (so no test shares
// another's replay or lockout state) and RFC 6238 codes for their devices.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Encode(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.replace(/=+$/, '')) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit TOTP (SHA-1, 30 s) of `secretBase32` for the step of `unixSeconds`. */
export function totp(secretBase32, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const digest = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const code = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

/**
 * Creates `username` in the demo realm with one TOTP device, through the edge's seed
 * endpoint. Returns the device's base32 secret.
 */
export async function seedUser(edgeUrl, adminToken, username) {
  const secret = base32Encode(randomBytes(20));
  const body = {
    realm: 'demo',
    applications: [],
    users: [
      {
        username,
        devices: [
          {
            id: `DP${randomBytes(9).toString('hex').toUpperCase()}`,
            name: `${username}'s phone`,
            totp: { secret_base32: secret, algorithm: 'SHA1', digits: 6, period: 30 },
          },
        ],
      },
    ],
  };
  const response = await fetch(new URL('/internal/v1/seed', edgeUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `seeding ${username}: ${await response.text()}`);
  return secret;
}
