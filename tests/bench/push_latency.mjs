// Push latency on the local stack (run by `cargo xtask bench`, never asserted):
//   deliver  POST /prompt/v1/push sent → the push's JSON line printed by
//            `tessera-device watch --no-prompt` (WebSocket from the Account object)
//   approve  POST /device/v1/approval sent (signed here, as the device signs) → the
//            prompt's long poll (/prompt/v1/push/status, wait_ms 20000) returns `approved`
// Prints one JSON line: {"runs": N, "deliver_ms": [...], "approve_ms": [...]}.

import assert from 'node:assert/strict';

import {
  REALM,
  deviceAuthorization,
  postApproval,
  pushStart,
  pushStatus,
  signedApproval,
  startPrompt,
  unique,
  userWithDevice,
} from '../e2e/push.mjs';

const RUNS = Number(process.env.TESSERA_BENCH_PUSHES ?? 100);
const WARMUP = 5;

const username = unique('bench');
const device = await userWithDevice(username);
const account = device.account();
const who = { realm: REALM, username, deviceId: account.device_id };
const watcher = await device.watch();
const deliver = [];
const approve = [];
try {
  for (let i = 0; i < RUNS + WARMUP; i += 1) {
    const prompt = await startPrompt(username);
    const sent = performance.now();
    const pushed = await pushStart(prompt.session);
    assert.equal(pushed.status, 200, pushed.text);
    const delivered = await watcher.next();
    assert.equal(delivered.message.txid, pushed.json.txid);
    const poll = pushStatus(prompt.session, pushed.json.txid, 20_000);
    // Let the long poll reach the object before answering.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const approval = signedApproval(account.signing_seed, {
      txid: pushed.json.txid,
      code: pushed.json.verification_code,
      deviceId: account.device_id,
    });
    const answeredAt = performance.now();
    const answered = await postApproval(deviceAuthorization(account.signing_seed, who, 'POST', '/device/v1/approval'), approval);
    assert.equal(answered.status, 200, answered.text);
    const status = await poll;
    const done = performance.now();
    assert.equal(status.json.state, 'approved', status.text);
    if (i >= WARMUP) {
      deliver.push(delivered.at - sent);
      approve.push(done - answeredAt);
    }
  }
} finally {
  watcher.stop();
}
console.log(JSON.stringify({ runs: RUNS, deliver_ms: deliver, approve_ms: approve }));
