"""Drives the official, unmodified Python Duo Universal SDK (PyPI duo-universal) against
a Tessera edge, for tests/e2e/duo_clients.test.mjs.

Usage: python duo_universal_flow.py COMMAND < request.json > answer.json
Every request names the SDK client: client_id, client_secret, host (`localhost:18443`,
no scheme), redirect_uri and ca (the local CA's PEM path, passed as `duo_certs`).
Commands:
  health    -> {"ok": true, "response": {...}} or {"ok": false, "error": ...}
  auth-url  (+ username, state) -> {"url": "..."}
  exchange  (+ code, username) -> {"ok": true, "token": {...}} or {"ok": false, "error": ...}
Failures report the SDK's DuoException: `error` is the innermost argument (the edge's
JSON body as a dict when the SDK wrapped one, else its text).
"""
import json
import sys
import warnings

import duo_universal
from jwt.warnings import InsecureKeyLengthWarning

# Duo's 40-character secrets are shorter than PyJWT's recommended HS512 key; not our concern.
warnings.simplefilter("ignore", InsecureKeyLengthWarning)


def client(req):
    return duo_universal.Client(req["client_id"], req["client_secret"], req["host"],
                                req["redirect_uri"], duo_certs=req["ca"])


def failure(error):
    """The SDK nests exceptions (health_check raises DuoException(DuoException(body)))."""
    inner = error
    while isinstance(inner, Exception) and inner.args:
        inner = inner.args[0]
    if isinstance(inner, Exception):
        inner = str(inner)
    elif not isinstance(inner, (dict, str)):
        inner = str(inner)
    return {"ok": False, "exception": type(error).__name__, "error": inner}


def health(req):
    try:
        return {"ok": True, "response": client(req).health_check()}
    except duo_universal.client.DuoException as error:
        return failure(error)


def auth_url(req):
    return {"url": client(req).create_auth_url(req["username"], req["state"])}


def exchange(req):
    try:
        token = client(req).exchange_authorization_code_for_2fa_result(
            req["code"], req["username"])
        return {"ok": True, "token": token}
    except duo_universal.client.DuoException as error:
        return failure(error)


COMMANDS = {"health": health, "auth-url": auth_url, "exchange": exchange}

if __name__ == "__main__":
    json.dump(COMMANDS[sys.argv[1]](json.load(sys.stdin)), sys.stdout)
