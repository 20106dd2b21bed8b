#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A Flask app that keeps its WorkOS session as the Python SDK does
(workos-python src/workos/session.py): the sealed session is
Fernet(cookie_password).encrypt(json.dumps(data)) in the cookie `wos_session`;
authenticate() unseals it and verifies the access token (PyJWT, the JWKS of
the client); refresh() trades the refresh token at
/user_management/authenticate and seals the answer again. The SDK itself is
not installable here (no PyPI): its seal/unseal steps are reproduced with the
same library (python3-cryptography) and the same JWT library (python3-jwt).

Routes under --prefix: login, callback (the quick start's sign-in),
me (authenticate, refreshing an expired token as the quick start does),
logout (cookie deleted, browser sent to WorkOS's logout), adopt (tests only:
seal a given authenticate answer, as a sign-in would have).

    flask_app.py --port P --prefix /py --api URL --client-id ID --public-url URL
    (WOS_APP_API_KEY and WOS_APP_COOKIE_PASSWORD in the environment)
"""
import argparse
import json
import os
import sys
import urllib.parse

import jwt
import requests
from cryptography.fernet import Fernet
from flask import Flask, jsonify, make_response, redirect, request

COOKIE = "wos_session"


# ---- the SDK's helpers (session.py) ----------------------------------------

def seal_data(data, key):
    return Fernet(key).encrypt(json.dumps(data).encode()).decode("utf-8")


def unseal_data(sealed_data, key):
    return json.loads(Fernet(key).decrypt(sealed_data.encode("utf-8")).decode())


def seal_session_from_auth_response(access_token, refresh_token, user, impersonator,
                                    cookie_password):
    session_data = {"access_token": access_token, "refresh_token": refresh_token,
                    "user": user if user is not None else {}}
    if impersonator is not None:
        session_data["impersonator"] = impersonator
    return seal_data(session_data, cookie_password)


class Session:
    def __init__(self, cfg, sealed):
        self.cfg, self.sealed = cfg, sealed

    def decode(self, token):
        key = self.cfg.jwks.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=["RS256"], options={"verify_aud": False})

    def authenticate(self):
        if not self.sealed:
            return {"authenticated": False, "reason": "no_session_cookie_provided"}
        try:
            session = unseal_data(self.sealed, self.cfg.password)
        except Exception:
            return {"authenticated": False, "reason": "invalid_session_cookie"}
        if not session.get("access_token"):
            return {"authenticated": False, "reason": "invalid_session_cookie"}
        try:
            decoded = self.decode(session["access_token"])
        except jwt.exceptions.InvalidTokenError:
            return {"authenticated": False, "reason": "invalid_jwt"}
        return {"authenticated": True, "session_id": decoded["sid"],
                "organization_id": decoded.get("org_id"), "user": session.get("user"),
                "impersonator": session.get("impersonator")}

    def refresh(self):
        try:
            session = unseal_data(self.sealed, self.cfg.password)
        except Exception:
            return {"authenticated": False, "reason": "invalid_session_cookie"}
        if not session.get("refresh_token") or not session.get("user"):
            return {"authenticated": False, "reason": "invalid_session_cookie"}
        r = requests.post(self.cfg.api + "/user_management/authenticate", timeout=30,
                          json={"grant_type": "refresh_token", "client_id": self.cfg.client_id,
                                "client_secret": self.cfg.api_key,
                                "refresh_token": session["refresh_token"]})
        if r.status_code != 200:
            return {"authenticated": False, "reason": r.text}
        a = r.json()
        self.sealed = seal_session_from_auth_response(
            a["access_token"], a["refresh_token"], a.get("user"), a.get("impersonator"),
            self.cfg.password)
        decoded = self.decode(a["access_token"])
        return {"authenticated": True, "sealed_session": self.sealed,
                "session_id": decoded["sid"], "organization_id": decoded.get("org_id"),
                "user": a.get("user")}


# ---- the app -----------------------------------------------------------------

app = Flask(__name__)
cfg = argparse.Namespace()


def set_session(resp, sealed):
    resp.set_cookie(COOKIE, sealed, path="/", httponly=True, samesite="Lax")
    return resp


@app.route("/<prefix>/login")
def login(prefix):
    q = {"client_id": cfg.client_id, "redirect_uri": cfg.public_url + cfg.prefix + "/callback",
         "response_type": "code", "provider": "authkit", "state": "app"}
    return redirect(cfg.api + "/user_management/authorize?" + urllib.parse.urlencode(q))


@app.route("/<prefix>/callback")
def callback(prefix):
    r = requests.post(cfg.api + "/user_management/authenticate", timeout=30,
                      json={"grant_type": "authorization_code", "client_id": cfg.client_id,
                            "client_secret": cfg.api_key, "code": request.args["code"]})
    if r.status_code != 200:
        return jsonify({"error": r.text}), 401
    return adopt_answer(r.json(), redirect(cfg.prefix + "/me"))


def adopt_answer(a, resp):
    return set_session(resp, seal_session_from_auth_response(
        a["access_token"], a["refresh_token"], a.get("user"), a.get("impersonator"),
        cfg.password))


@app.route("/<prefix>/adopt", methods=["POST"])
def adopt(prefix):
    return adopt_answer(request.get_json(), make_response(jsonify({"ok": True})))


@app.route("/<prefix>/me")
def me(prefix):
    s = Session(cfg, request.cookies.get(COOKIE))
    a = s.authenticate()
    refreshed = False
    if not a["authenticated"] and a["reason"] == "invalid_jwt":
        a, refreshed = s.refresh(), True
    if not a["authenticated"]:
        return jsonify(a), 401
    resp = make_response(jsonify({"authenticated": True, "refreshed": refreshed,
                                  "session_id": a["session_id"], "user": a["user"],
                                  "organization_id": a["organization_id"],
                                  "refresh_token": unseal_data(s.sealed, cfg.password)
                                  ["refresh_token"]}))
    return set_session(resp, s.sealed) if refreshed else resp


@app.route("/<prefix>/logout")
def logout(prefix):
    a = Session(cfg, request.cookies.get(COOKIE)).authenticate()
    if not a["authenticated"]:
        return jsonify(a), 401
    q = urllib.parse.urlencode({"session_id": a["session_id"],
                                "return_to": cfg.public_url + "/bye"})
    resp = redirect(cfg.api + "/user_management/sessions/logout?" + q)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def main():
    p = argparse.ArgumentParser()
    for opt in ("--port", "--prefix", "--api", "--client-id", "--public-url"):
        p.add_argument(opt, required=True)
    p.parse_args(namespace=cfg)
    cfg.api_key = os.environ["WOS_APP_API_KEY"]
    cfg.password = os.environ["WOS_APP_COOKIE_PASSWORD"]
    cfg.jwks = jwt.PyJWKClient(f"{cfg.api}/sso/jwks/{cfg.client_id}")
    sys.stdout.flush()
    app.run(host="127.0.0.1", port=int(cfg.port), threaded=True)


if __name__ == "__main__":
    main()
