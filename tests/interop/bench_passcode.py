"""The load side of `cargo xtask bench`'s passcode CPU row (xtask/src/bench_passcode.rs).

Usage: python bench_passcode.py < request.json > figures.json
The request names the edge's base URL, the application's client_id and client_secret, the
admin token, the workerd pids to watch, a user count, a warm-up count and, when `perf
record` watches workerd, its control and ack FIFOs. The script seeds that many users with
one known TOTP secret, then for each user opens a prompt (/prompt/v1/start, not measured)
and sends, one at a time, a wrong passcode and then the right one to /prompt/v1/passcode,
and one GET /healthz (the baseline: workerd's cost for the most trivial request).

After the warm-up, users alternate. For one, the script reads the CPU time of the workerd
processes from /proc/PID/task/*/schedstat (nanoseconds on CPU, all threads) around each
request. For the next, it enables perf (which is started disabled) for that user's
requests only and records each request's window on CLOCK_MONOTONIC, so xtask can attribute
perf's samples (taken with the same clock) to requests. Interleaved, both kinds of figure
come from the same minutes of the machine's life; perf's sampling, which slows the process
it watches, never touches a schedstat reading. Without perf, every user is read by schedstat.
Request JWTs are signed with PyJWT (HS512) and codes computed with pyotp, as a relying app
and an authenticator would. Output: per-request CPU and wall times in milliseconds, and the
sampled requests' windows.
"""
import json
import os
import select
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


class Perf:
    """`perf record --control fifo:CTL,ACK`: enable and disable, each acknowledged."""

    def __init__(self, control):
        # perf holds both FIFOs open, so neither open blocks; a missing perf fails here.
        self.ctl = os.open(control["ctl"], os.O_WRONLY | os.O_NONBLOCK)
        self.ack = os.open(control["ack"], os.O_RDONLY | os.O_NONBLOCK)

    def command(self, word):
        os.write(self.ctl, f"{word}\n".encode())
        ready, _, _ = select.select([self.ack], [], [], 10)
        if not ready or not os.read(self.ack, 16).startswith(b"ack"):
            raise SystemExit(f"perf did not acknowledge {word!r}")


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
    users = [f"bench-{i:03d}" for i in range(req["users"])]
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
    perf = Perf(req["perf_control"]) if req.get("perf_control") else None
    samples = {"valid_cpu_ms": [], "invalid_cpu_ms": [], "wall_ms": [], "healthz_cpu_ms": [],
               "windows": []}
    for i, user in enumerate(users):
        measured = i >= req["warmup"]
        sampled = measured and perf is not None and (i - req["warmup"]) % 2 == 1
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
        if sampled:
            perf.command("enable")

        def record(kind, cpu, opened, closed):
            if sampled:
                samples["windows"].append([kind, opened, closed])
            elif measured:
                samples[f"{kind}_cpu_ms"].append(cpu / 1e6)

        # Baseline: what workerd spends on the most trivial request (GET /healthz).
        before = cpu_ns(pids)
        opened = time.monotonic_ns()
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            response.read()
        closed = time.monotonic_ns()
        record("healthz", cpu_ns(pids) - before, opened, closed)
        good = totp.now()
        wrong = "111111" if good == "000000" else "000000"
        for passcode, expected, kind in ((wrong, 401, "invalid"), (good, 200, "valid")):
            before = cpu_ns(pids)
            started = time.perf_counter()
            opened = time.monotonic_ns()
            status, body = post(f"{base}/prompt/v1/passcode", {"session": session, "passcode": passcode})
            closed = time.monotonic_ns()
            took = time.perf_counter() - started
            cpu = cpu_ns(pids) - before
            if status != expected:
                raise SystemExit(f"passcode for {user}: expected {expected}, got {status} {body}")
            record(kind, cpu, opened, closed)
            if measured and not sampled:
                samples["wall_ms"].append(took * 1e3)
        if sampled:
            perf.command("disable")
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
