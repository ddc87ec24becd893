"""The Python side of `cargo xtask bench`: the operations of shared/benches/core.rs done by
pyotp, PyJWT and duo_client, in nanoseconds per operation (best of 5 timeit repeats).

Usage: python bench.py > figures.json
"""
import hashlib
import hmac
import json
import timeit
import warnings

import duo_client.client
import jwt
import pyotp

NOW = 1_700_000_000
SECRET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"


def per_op(fn, number=2000):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e9


def main():
    # Duo secrets are 40 bytes; PyJWT warns about HS512 keys under 64 bytes.
    warnings.filterwarnings("ignore")
    figures = {}
    totp = pyotp.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    code = totp.at(NOW)
    figures["totp_verify"] = per_op(lambda: totp.verify(code, for_time=NOW, valid_window=1))

    claims = {"iss": "DIABCDEFGHIJKLMNOPQR", "sub": "DIABCDEFGHIJKLMNOPQR",
              "aud": "https://localhost:8443/oauth/v1/token", "exp": NOW + 300, "jti": "0123456789abcdef"}
    token = jwt.encode(claims, SECRET, algorithm="HS512")
    figures["hs512_sign"] = per_op(lambda: jwt.encode(claims, SECRET, algorithm="HS512"))
    figures["hs512_verify"] = per_op(lambda: jwt.decode(
        token, SECRET, algorithms=["HS512"], options={"verify_exp": False, "verify_aud": False}))

    skey = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT"
    date = "Tue, 14 Nov 2023 22:13:20 -0000"
    params = duo_client.client.normalize_params({"username": "alice", "factor": "push", "device": "auto"})
    args = ("DIXXXXXXXXXXXXXXXXXX", skey, "POST", "api-abcdef12.example.com", "/auth/v2/auth", date, 2, params)
    expected = duo_client.client.sign(*args)
    figures["request_signature_verify"] = per_op(
        lambda: hmac.compare_digest(duo_client.client.sign(*args), expected))

    # Ed25519 verification of a message the size of a canonical push approval (~110 bytes).
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    private = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    public = private.public_key()
    message = b"tessera-approval-v1\0" + bytes(90)
    signature = private.sign(message)
    figures["ed25519_verify"] = per_op(lambda: public.verify(signature, message))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
