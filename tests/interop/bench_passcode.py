"""The load side of `cargo xtask bench`'s passcode CPU row (xtask/src/bench_passcode.rs).

Usage: python bench_passcode.py < request.json > figures.json
The request names the edge's base URL, a username prefix (a second pass needs new users:
a TOTP code is accepted once), the application's client_id and client_secret, the
admin token, the workerd pids to watch, a user count and a warm-up count. The script seeds
that many users with one known TOTP secret, then for each user opens a prompt
(/prompt/v1/start, not measured) and sends, one at a time, a wrong passcode and then the
right one to /prompt/v1/passcode. Around each passcode request, and around one
GET /healthz per user (the baseline: workerd's cost for the most trivial request), it reads
the CPU time of the workerd processes from /proc/PID/task/*/schedstat (nanoseconds on
CPU, all threads). It also records each measured request's window on CLOCK_MONOTONIC, so
xtask can attribute `perf` samples (taken with the same clock) to requests.
Request JWTs are signed with PyJWT (HS512) and codes computed with pyotp, as a relying app
and an authenticator would. Output: per-request CPU and wall times in milliseconds.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import warnings

import jwt
import pyotp

TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def cpu_ns(pids):
    total = 0
    for pid in pids:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total


def post(url, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def main():
    warnings.filterwarnings("ignore")  # PyJWT: Duo's 40-byte HS512 keys are "short".
    req = json.load(sys.stdin)
    base, pids = req["base"], req["pids"]
    client_id, secret = req["client_id"], req["client_secret"]
    prefix = req.get("prefix", "bench")
    users = [f"{prefix}-{i:03d}" for i in range(req["users"])]
    status, body = post(f"{base}/internal/v1/seed", {
        "realm": "demo",
        "applications": [{"client_id": client_id, "client_secret": secret, "name": "Bench"}],
        "users": [{"username": name, "devices": [{
            "id": f"DPBENCH{i:013d}", "name": "phone",
            "totp": {"secret_base32": TOTP_SECRET, "algorithm": "SHA1", "digits": 6, "period": 30},
        }]} for i, name in enumerate(users)],
    }, req["admin_token"])
    if status != 200:
        raise SystemExit(f"seed: {status} {body}")
    host = base.split("://", 1)[1]
    totp = pyotp.TOTP(TOTP_SECRET)
    samples = {"valid_cpu_ms": [], "invalid_cpu_ms": [], "wall_ms": [], "healthz_cpu_ms": [],
               "windows": []}
    for i, user in enumerate(users):
        now = int(time.time())
        request = jwt.encode({
            "response_type": "code", "scope": "openid", "client_id": client_id, "iss": client_id,
            "aud": f"https://{host}", "redirect_uri": "http://localhost/bench-callback",
            "state": "bench-state-0123456789abcdef", "duo_uname": user, "exp": now + 300,
        }, secret, algorithm="HS512")
        status, body = post(f"{base}/prompt/v1/start", {"client_id": client_id, "request": request})
        if status != 200:
            raise SystemExit(f"start for {user}: {status} {body}")
        session = body["session"]
        # Baseline: what workerd spends on the most trivial request (GET /healthz).
        before = cpu_ns(pids)
        opened = time.monotonic_ns()
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            response.read()
        closed = time.monotonic_ns()
        if i >= req["warmup"]:
            samples["healthz_cpu_ms"].append((cpu_ns(pids) - before) / 1e6)
            samples["windows"].append(["healthz", opened, closed])
        good = totp.now()
        wrong = "111111" if good == "000000" else "000000"
        for passcode, expected, key in ((wrong, 401, "invalid_cpu_ms"), (good, 200, "valid_cpu_ms")):
            before = cpu_ns(pids)
            started = time.perf_counter()
            opened = time.monotonic_ns()
            status, body = post(f"{base}/prompt/v1/passcode", {"session": session, "passcode": passcode})
            closed = time.monotonic_ns()
            took = time.perf_counter() - started
            cpu = cpu_ns(pids) - before
            if status != expected:
                raise SystemExit(f"passcode for {user}: expected {expected}, got {status} {body}")
            if i >= req["warmup"]:
                samples[key].append(cpu / 1e6)
                samples["wall_ms"].append(took * 1e3)
                samples["windows"].append([key.split("_")[0], opened, closed])
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
