"""Verifies a Tessera EdDSA id_token the way a standard OpenID Connect relying party does,
with PyJWT (another ecosystem's library, not ours), for tests/e2e/oidc.test.mjs.

Usage: python oidc_verify.py < request.json > answer.json
The request names the issuer (`https://localhost:18443`), the client_id (audience), the
expected nonce (or null), the id_token and ca (the local CA's PEM path). The script
fetches `{issuer}/.well-known/openid-configuration`, checks its `issuer`, reads
`jwks_uri`, picks the key by the token's `kid` with `PyJWKClient`, and decodes the token
with `algorithms=["EdDSA"]`, the audience and issuer, requiring exp/iat/iss/aud/sub;
then compares the nonce.
Answer: {"ok": true, "kid": ..., "claims": {...}, "jwks_kids": [...]} or
{"ok": false, "exception": "<class>", "error": "<text>", "jwks_kids": [...]}.
"""
import json
import ssl
import sys
import urllib.request

import jwt


def main():
    req = json.load(sys.stdin)
    context = ssl.create_default_context(cafile=req["ca"])
    discovery_url = req["issuer"] + "/.well-known/openid-configuration"
    with urllib.request.urlopen(discovery_url, context=context, timeout=30) as response:
        discovery = json.load(response)
    if discovery["issuer"] != req["issuer"]:
        raise SystemExit(f"discovery names issuer {discovery['issuer']!r}")
    jwks_uri = discovery["jwks_uri"]
    if "EdDSA" not in discovery["id_token_signing_alg_values_supported"]:
        raise SystemExit("discovery does not offer EdDSA")
    jwks_client = jwt.PyJWKClient(jwks_uri, cache_jwk_set=False, ssl_context=context)
    kids = [key.key_id for key in jwks_client.get_signing_keys()]
    answer = {"jwks_kids": kids, "jwks_uri": jwks_uri}
    try:
        key = jwks_client.get_signing_key_from_jwt(req["id_token"])
        claims = jwt.decode(
            req["id_token"],
            key,
            algorithms=["EdDSA"],
            audience=req["client_id"],
            issuer=req["issuer"],
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        if req.get("nonce") is not None and claims.get("nonce") != req["nonce"]:
            raise jwt.InvalidTokenError(f"nonce {claims.get('nonce')!r} does not match")
        header = jwt.get_unverified_header(req["id_token"])
        answer.update({"ok": True, "kid": key.key_id, "typ": header.get("typ"), "claims": claims})
    except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
        answer.update({"ok": False, "exception": type(error).__name__, "error": str(error)})
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
