"""Interoperability peers: third-party Python implementations answer one JSON request.

Usage: python peers.py COMMAND < request.json > answer.json
The Rust tests in shared/tests/it/interop.rs drive it; nothing here is Tessera code.
"""
import json
import sys
import urllib.parse

import duo_client.client
import duo_universal
import jwt
import pyotp


def totp_codes(req):
    """pyotp's TOTP values for each (secret, algorithm, digits, time)."""
    digests = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
    out = []
    for case in req["cases"]:
        import hashlib
        totp = pyotp.TOTP(case["secret_base32"], digits=case["digits"],
                          digest=getattr(hashlib, digests[case["algorithm"]]), interval=30)
        out.append(totp.at(case["time"]))
    return {"codes": out}


def duo_signatures(req):
    """Requests signed by duo_client's own `sign`, as its api_call prepares them."""
    import hashlib
    out = []
    for case in req["cases"]:
        version, method, params = case["version"], case["method"], case["params"]
        digestmod = hashlib.sha1 if case.get("digest") == "sha1" else hashlib.sha512
        body = ""
        if version == 5 and method in ("POST", "PUT", "PATCH"):
            body = duo_client.client.Client.canon_json(params)
            signed_params = {}
        else:
            signed_params = duo_client.client.normalize_params(params)
        auth = duo_client.client.sign(
            req["ikey"], req["skey"], method, req["host"], case["path"], req["date"], version,
            signed_params, body=body if version == 5 else None, digestmod=digestmod)
        if version == 5 and method in ("POST", "PUT", "PATCH"):
            wire_params, wire_body = [], body
        elif method in ("POST", "PUT", "PATCH"):
            wire_params = sorted(params.items())
            wire_body = urllib.parse.urlencode(params, doseq=True)
        else:
            wire_params, wire_body = sorted(params.items()), ""
        out.append({"authorization": auth, "params": wire_params, "body": wire_body})
    return {"requests": out}


def universal_request(req):
    """The authorize URL the official duo_universal client builds."""
    client = duo_universal.Client(req["client_id"], req["client_secret"], req["host"],
                                  req["redirect_uri"], use_duo_code_attribute=True)
    url = client.create_auth_url(req["username"], req["state"])
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    return {"url": url, "request": query["request"][0], "client_id": query["client_id"][0]}


def pyjwt_tokens(req):
    """Tokens PyJWT makes: the pinned algorithm and others that must be refused."""
    claims = req["claims"]
    return {
        "hs512": jwt.encode(claims, req["secret"], algorithm="HS512"),
        "hs256": jwt.encode(claims, req["secret"], algorithm="HS256"),
        "none": jwt.encode(claims, None, algorithm="none"),
    }


def pyjwt_verify(req):
    """Verifies an id_token as duo_universal does (PyJWT, HS512 only, 60 s leeway)."""
    try:
        claims = jwt.decode(req["token"], req["secret"], algorithms=["HS512"],
                            audience=req["client_id"], issuer=req["issuer"], leeway=60,
                            options={"require": ["exp", "iat"]})
    except jwt.PyJWTError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "preferred_username": claims.get("preferred_username")}


def pyjwt_eddsa_verify(req):
    """Verifies an EdDSA id_token as a standard OIDC client does with PyJWT: the key chosen
    by `kid` from the issuer's JWKS (`jwt.PyJWKSet` / `jwt.PyJWK`), EdDSA only."""
    try:
        kid = jwt.get_unverified_header(req["token"])["kid"]
        key = jwt.PyJWKSet.from_dict(req["jwks"])[kid]
        assert isinstance(key, jwt.PyJWK) and key.algorithm_name == "EdDSA"
        claims = jwt.decode(req["token"], key, algorithms=["EdDSA"], audience=req["client_id"],
                            issuer=req["issuer"], leeway=60,
                            options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        if claims.get("nonce") != req.get("nonce"):
            return {"ok": False, "error": "nonce"}
    except (jwt.PyJWTError, KeyError) as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "kid": kid, "sub": claims["sub"],
            "preferred_username": claims.get("preferred_username"), "amr": claims.get("amr")}


def pyjwt_eddsa_tokens(req):
    """An EdDSA token PyJWT signs with a key of its own, that key's public JWK, and an
    HS512 token naming the same `kid` with the JWK's `x` as the HMAC secret (the classic
    algorithm-confusion forgery)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from jwt.algorithms import OKPAlgorithm

    private = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": req["kid"], "use": "sig", "alg": "EdDSA"})
    headers = {"kid": req["kid"]}
    return {
        "jwk": jwk,
        "eddsa": jwt.encode(req["claims"], private, algorithm="EdDSA", headers=headers),
        # PyJWT warns that this HMAC key is short; the forgery is the point here.
        "hs512": _quietly(jwt.encode, req["claims"], jwk["x"], algorithm="HS512",
                          headers=headers),
    }


def _quietly(function, *args, **kwargs):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


COMMANDS = {f.__name__.replace("_", "-"): f for f in
            (totp_codes, duo_signatures, universal_request, pyjwt_tokens, pyjwt_verify,
             pyjwt_eddsa_verify, pyjwt_eddsa_tokens)}

if __name__ == "__main__":
    json.dump(COMMANDS[sys.argv[1]](json.load(sys.stdin)), sys.stdout)
