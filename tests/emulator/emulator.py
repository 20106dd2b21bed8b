#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A local stand-in for WorkOS AuthKit, for tests and the demo.

It speaks the parts of the WorkOS User Management API that mod_auth_workos
and the Node SDK use (JWKS, the hosted sign-in page, authenticate with a code
or a refresh token, logout) and adds a test control plane under
/__emulator/ (counters, faults, key rotation, minting and signing tokens).
See tests/emulator/README.md for the CLI and every control.

Only the Python standard library and python3-cryptography are used. The
server binds to loopback, prints "READY <port>" once it listens and exits
cleanly on SIGTERM or SIGINT. All state lives in one Emulator object guarded
by one lock; the HTTP handler only parses and routes.
"""

import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import html
import json
import os
import secrets
import signal
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
CODE_TTL = 600            # WorkOS authorization codes live 10 minutes
PENDING_TTL = 600         # an open sign-in page stays usable this long
MAX_BODY = 1 << 20        # request bodies above 1 MiB are refused
ENDLESS_CAP_SEC = 120     # an "endless" fault stops streaming after this
REQUEST_LOG_MAX = 200
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
OAUTH_ERRORS = {"invalid_grant", "sso_required", "invalid_client", "invalid_request",
                "unsupported_grant_type", "unauthorized_client"}
FAULT_ENDPOINTS = {"jwks", "authenticate", "refresh", "code", "sessions", "sessions_list",
                   "sessions_revoke", "all"}
COUNTER_NAMES = ("jwks", "authorize", "authenticate_code", "authenticate_refresh",
                 "authenticate_errors", "logout", "sessions_list", "sessions_revoke")
SESSIONS_PAGE_MAX = 100   # the list endpoint's largest limit


# ---------------------------------------------------------------- helpers

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_uint(n):
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def ulid():
    """A 26-character ULID: 48-bit milliseconds, 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def iso_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def opaque_token():
    return secrets.token_urlsafe(32)


def json_bytes(value):
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def merge_dropping_nulls(base, overrides):
    """base updated with overrides; an override of null removes the key."""
    out = dict(base)
    for key, value in (overrides or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


class ApiError(Exception):
    """An HTTP error answer: status, JSON body, extra headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def oauth_error(error, description, status=400):
    return ApiError(status, {"error": error, "error_description": description})


def bad_control(message):
    return ApiError(400, {"error": "invalid_request", "message": message})


# ---------------------------------------------------------------- keys

class SigningKey:
    """An RSA key pair with a WorkOS-style kid and a self-signed cert for x5c."""

    def __init__(self, kid=None):
        self.kid = kid or "sso_oidc_key_pair_" + ulid()
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public = self.private.public_key()
        self._cert_der = self._self_signed_cert()

    def _self_signed_cert(self):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AuthKit emulator")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.public).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365))
                .sign(self.private, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.DER)

    def jwk(self):
        numbers = self.public.public_numbers()
        return {"alg": "RS256", "kty": "RSA", "use": "sig", "kid": self.kid,
                "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e),
                "x5c": [base64.b64encode(self._cert_der).decode("ascii")],
                "x5t#S256": b64url(hashlib.sha256(self._cert_der).digest())}

    def public_pem(self):
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, data):
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def encode_jwt(header_text, claims_text, signer):
    """header_text/claims_text are exact JSON strings; signer(bytes) -> bytes."""
    signing_input = (b64url(header_text.encode("utf-8")) + "." +
                     b64url(claims_text.encode("utf-8")))
    return signing_input + "." + b64url(signer(signing_input.encode("ascii")))


# ---------------------------------------------------------------- users

class Directory:
    """The demo users and organizations from users.json."""

    USER_DEFAULTS = {"email_verified": True, "profile_picture_url": None, "external_id": None,
                     "metadata": {}, "created_at": "2024-01-01T00:00:00.000Z",
                     "updated_at": "2024-01-01T00:00:00.000Z", "memberships": []}

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.orgs = {o["id"]: o for o in doc.get("organizations", [])}
        self.users = [dict(copy.deepcopy(self.USER_DEFAULTS), **u) for u in doc["users"]]
        for user in self.users:
            for m in user["memberships"]:
                if m["organization_id"] not in self.orgs:
                    raise ValueError(f"{user['email']}: unknown organization")
                m.setdefault("roles", [m["role"]])
                for key in ("permissions", "entitlements", "feature_flags"):
                    m.setdefault(key, [])
        self.by_email = {u["email"]: u for u in self.users}
        self.by_id = {u["id"]: u for u in self.users}
        self.original = {u["id"]: copy.deepcopy(u["memberships"]) for u in self.users}

    def restore(self):
        """Undo role changes made through the control plane."""
        for user in self.users:
            user["memberships"] = copy.deepcopy(self.original[user["id"]])

    def set_role(self, email, org_id, role, permissions=None):
        """A role change in the dashboard: the membership's role, roles (and permissions)."""
        user = self.by_email.get(email)
        m = self.membership(user, org_id) if user else None
        if m is None:
            raise bad_control("unknown email, or not a member of organization_id")
        m["role"], m["roles"] = role, [role]
        if permissions is not None:
            m["permissions"] = list(permissions)
        return m

    @staticmethod
    def membership(user, org_id):
        """The user's membership in org_id; the first one when org_id is None."""
        for m in user["memberships"]:
            if org_id is None or m["organization_id"] == org_id:
                return m
        return None


# ---------------------------------------------------------------- state

class Emulator:
    """Everything the server knows. Every public method takes the lock."""

    def __init__(self, opts, directory):
        self.opts = opts
        self.dir = directory
        self.lock = threading.RLock()
        self.key = SigningKey()
        self.previous_key = None
        self.unpublished = set()   # kids that sign but the JWKS does not list yet
        self.rogue_key = SigningKey(kid="rogue")
        self.sessions, self.codes, self.refresh_tokens, self.pending = {}, {}, {}, {}
        self.last_sign_in = {}
        self._reset_test_state()

    def _reset_test_state(self):
        self.counters = {name: 0 for name in COUNTER_NAMES}
        self.faults = {}
        self.overrides = {}
        self.request_log = []
        self.authorize_log = []
        self.revocations = []
        self.dir.restore()

    # ---- configuration ------------------------------------------------

    def setting(self, name):
        with self.lock:
            if name in self.overrides:
                return self.overrides[name]
            return {"token_ttl": self.opts.token_ttl, "grace": self.opts.grace,
                    "jwks_extra_keys": [], "extra_claims": {}}[name]

    def issuer(self):
        return self.opts.issuer or f"{self.opts.public_url}/user_management/{self.opts.client_id}"

    def count(self, name):
        with self.lock:
            self.counters[name] += 1

    def log_request(self, entry):
        with self.lock:
            self.request_log.append(entry)
            del self.request_log[:-REQUEST_LOG_MAX]

    # ---- faults ---------------------------------------------------------

    def set_fault(self, spec):
        if not isinstance(spec, dict) or spec.get("endpoint") not in FAULT_ENDPOINTS:
            raise bad_control("endpoint must be one of " + ", ".join(sorted(FAULT_ENDPOINTS)))
        count = spec.get("count", -1)
        if not isinstance(count, int) or count == 0 or count < -1:
            raise bad_control("count must be -1 (forever) or a positive integer")
        status = spec.get("status", 500)
        if not (isinstance(status, int) and 100 <= status <= 599):
            raise bad_control("status must be an HTTP status code")
        for name in ("delay_ms", "size", "retry_after"):
            if name in spec and not (isinstance(spec[name], int) and spec[name] >= 0):
                raise bad_control(f"{name} must be a non-negative integer")
        if "error" in spec and not isinstance(spec["error"], str):
            raise bad_control("error must be a string")
        if "authkit_redirect_url" in spec and not isinstance(spec["authkit_redirect_url"], str):
            raise bad_control("authkit_redirect_url must be a string")
        with self.lock:
            self.faults[spec["endpoint"]] = dict(spec, count=count)

    def clear_faults(self):
        with self.lock:
            self.faults = {}

    def take_fault(self, endpoints):
        """The first active fault among endpoints (most specific first), consuming one use."""
        with self.lock:
            for name in endpoints:
                fault = self.faults.get(name)
                if fault is None:
                    continue
                if fault["count"] > 0:
                    fault["count"] -= 1
                    if fault["count"] == 0:
                        del self.faults[name]
                return dict(fault)
        return None

    # ---- keys -----------------------------------------------------------

    def jwks(self):
        with self.lock:
            keys = [k.jwk() for k in (self.key, self.previous_key)
                    if k and k.kid not in self.unpublished]
            return {"keys": keys + list(self.setting("jwks_extra_keys"))}

    def rotate(self, drop_previous, publish=True):
        """A new signing key; with publish False the JWKS lags behind (it goes on
        listing the keys it listed) until publish()."""
        new_key = SigningKey()
        with self.lock:
            if not publish:
                self.unpublished.add(new_key.kid)
            self.previous_key = None if drop_previous else self.key
            self.key = new_key
            return new_key.kid

    def publish(self):
        with self.lock:
            self.unpublished.clear()

    def keys_info(self):
        with self.lock:
            return {"current_kid": self.key.kid, "public_pem": self.key.public_pem(),
                    "previous_kid": self.previous_key.kid if self.previous_key else None}

    def reset(self, body):
        new_key = SigningKey() if body.get("keys") else None
        with self.lock:
            self._reset_test_state()
            if new_key:
                self.key, self.previous_key = new_key, None
                self.unpublished.clear()
            if body.get("sessions"):
                self.sessions, self.codes, self.refresh_tokens, self.pending = {}, {}, {}, {}

    # ---- tokens and sessions -------------------------------------------

    def access_claims(self, session, ttl=None, expired=False):
        now = int(time.time())
        ttl = self.setting("token_ttl") if ttl is None else ttl
        exp = now - 300 if expired else now + ttl
        claims = {"iss": self.issuer(), "sub": session["user_id"], "sid": session["id"],
                  "jti": ulid(), "iat": exp - ttl, "exp": exp,
                  "auth_time": min(session["auth_time"], exp - ttl)}
        user = self.dir.by_id[session["user_id"]]
        m = self.dir.membership(user, session["org_id"]) if session["org_id"] else None
        if m:
            claims.update({"org_id": m["organization_id"], "role": m["role"],
                           "roles": list(m["roles"]), "permissions": list(m["permissions"]),
                           "entitlements": list(m["entitlements"]),
                           "feature_flags": list(m["feature_flags"])})
        if user.get("impersonator"):
            claims["act"] = {"sub": user["impersonator"]["email"]}
        claims.update(self.setting("extra_claims"))   # a JWT template's custom claims
        return claims

    def sign_rs256(self, claims, key=None):
        key = key or self.key
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        return encode_jwt(json.dumps(header, separators=(",", ":")),
                          json.dumps(claims, separators=(",", ":")), key.sign)

    def user_object(self, user):
        fields = ("id", "email", "email_verified", "first_name", "last_name",
                  "profile_picture_url", "created_at", "updated_at", "external_id", "metadata")
        obj = {"object": "user"}
        obj.update({f: user[f] for f in fields})
        obj["last_sign_in_at"] = self.last_sign_in.get(user["id"], user["created_at"])
        return obj

    def new_session(self, user, org_id, public=False, ip_address=None, user_agent=None):
        session = {"id": "session_" + ulid(), "user_id": user["id"], "org_id": org_id,
                   "auth_time": int(time.time()), "public": public, "revoked": False,
                   "created_at": iso_now(), "ip_address": ip_address,
                   "user_agent": user_agent}
        with self.lock:
            self.sessions[session["id"]] = session
            self.last_sign_in[user["id"]] = iso_now()
        return session

    def issue(self, session, ttl=None, expired=False):
        """A fresh access token + registered refresh token: the authenticate 200 body."""
        with self.lock:
            user = self.dir.by_id[session["user_id"]]
            token = self.sign_rs256(self.access_claims(session, ttl, expired))
            refresh = opaque_token()
            self.refresh_tokens[refresh] = {"session_id": session["id"], "used_at": None,
                                            "result": None}
            body = {"user": self.user_object(user), "access_token": token,
                    "refresh_token": refresh,
                    "authentication_method": user.get("authentication_method", "Password")}
            if session["org_id"]:
                body["organization_id"] = session["org_id"]
            if user.get("impersonator"):
                body["impersonator"] = dict(user["impersonator"])
            return body

    def mint_session(self, req):
        user = self.dir.by_email.get(req.get("email"))
        if user is None:
            raise bad_control("unknown email")
        org_id = req.get("organization_id")
        if org_id is not None and self.dir.membership(user, org_id) is None:
            raise bad_control("the user is not a member of organization_id")
        m = self.dir.membership(user, org_id)
        ttl = req.get("token_ttl")
        if ttl is not None and (not isinstance(ttl, int) or ttl <= 0):
            raise bad_control("token_ttl must be a positive integer")
        session = self.new_session(user, m["organization_id"] if m else None,
                                   ip_address=req.get("ip_address"),
                                   user_agent=req.get("user_agent"))
        return self.issue(session, ttl=ttl, expired=bool(req.get("expired")))

    # ---- sign-in (authorize) -------------------------------------------

    def begin_authorize(self, q):
        """Validate an authorize request; returns (pending id, pending record)."""
        if q.get("client_id") != self.opts.client_id:
            raise ApiError(400, "Invalid client_id.")
        redirect = q.get("redirect_uri", "")
        parsed = urllib.parse.urlsplit(redirect)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ApiError(400, "Missing or invalid redirect_uri.")
        if q.get("response_type") != "code":
            raise ApiError(400, "response_type must be code.")
        if not (q.get("provider") or q.get("organization_id") or q.get("connection_id")):
            raise ApiError(400, "One of provider, organization_id or connection_id is required.")
        if q.get("provider") not in (None, "authkit"):
            raise ApiError(400, "Only provider=authkit is emulated.")
        if ("code_challenge" in q or "code_challenge_method" in q) and \
                (q.get("code_challenge_method") != "S256" or not q.get("code_challenge")):
            raise ApiError(400, "PKCE requires code_challenge with code_challenge_method=S256.")
        pending_id = opaque_token()
        record = {"redirect_uri": redirect, "state": q.get("state"),
                  "challenge": q.get("code_challenge"), "org_id": q.get("organization_id"),
                  "screen_hint": q.get("screen_hint"), "created": time.time()}
        with self.lock:
            self._expire(self.pending, PENDING_TTL)
            self.pending[pending_id] = record
        return pending_id, record

    @staticmethod
    def _expire(table, ttl):
        cutoff = time.time() - ttl
        for key in [k for k, v in table.items() if v["created"] < cutoff]:
            del table[key]

    def complete_authorize(self, form):
        """The sign-in form was submitted: the redirect URL back to the app."""
        with self.lock:
            record = self.pending.pop(form.get("authorization", ""), None)
        if record is None or record["created"] < time.time() - PENDING_TTL:
            raise ApiError(400, "This sign-in request is unknown, used or expired.")
        if form.get("cancel"):
            return redirect_with(record, {"error": "access_denied",
                                          "error_description": "The user cancelled the sign-in."})
        user = self.dir.by_email.get(form.get("email", ""))
        if user is None:
            raise ApiError(400, "Unknown user.")
        if record["org_id"] and self.dir.membership(user, record["org_id"]) is None:
            return redirect_with(record, {
                "error": "access_denied",
                "error_description": "The user is not a member of the requested organization."})
        m = self.dir.membership(user, record["org_id"])
        code = opaque_token()
        with self.lock:
            self._expire(self.codes, CODE_TTL)
            self.codes[code] = {"user_id": user["id"],
                                "org_id": m["organization_id"] if m else None,
                                "challenge": record["challenge"], "created": time.time(),
                                "auth_time": int(time.time())}
        return redirect_with(record, {"code": code})

    # ---- authenticate ---------------------------------------------------

    def check_client(self, params, allow_public):
        """401 for a wrong secret; a missing one only for PKCE/public clients."""
        secret = params.get("client_secret")
        if secret is not None and not hmac.compare_digest(str(secret).encode(),
                                                          self.opts.api_key.encode()):
            raise ApiError(401, {"message": "Unauthorized"})
        if params.get("client_id") != self.opts.client_id:
            raise oauth_error("invalid_client", "Invalid client_id.")
        if secret is None and not allow_public:
            raise oauth_error("invalid_client", "client_secret is required.")

    def authenticate_code(self, params):
        with self.lock:
            code = self.codes.get(params.get("code") or "")
            self.check_client(params, allow_public=bool(code and code["challenge"]))
            if code is None or code.get("used") or code["created"] < time.time() - CODE_TTL:
                raise oauth_error("invalid_grant", "The code has expired or is invalid.")
            verify_pkce(code["challenge"], params.get("code_verifier"))
            user = self.dir.by_id[code["user_id"]]
            session = self.new_session(user, code["org_id"],
                                       public=params.get("client_secret") is None,
                                       ip_address=params.get("ip_address"),
                                       user_agent=params.get("user_agent"))
            session["auth_time"] = code["auth_time"]
            body = self.issue(session)
            code["used"] = True
            return body

    def authenticate_refresh(self, params):
        with self.lock:
            record = self.refresh_tokens.get(params.get("refresh_token") or "")
            session = self.sessions.get(record["session_id"]) if record else None
            self.check_client(params, allow_public=bool(session and session["public"]))
            if record is None or session is None or session["revoked"]:
                raise oauth_error("invalid_grant", "Invalid refresh token.")
            if record["used_at"] is not None:
                return self._replay(record)
            org_id = params.get("organization_id") or session["org_id"]
            user = self.dir.by_id[session["user_id"]]
            if org_id and self.dir.membership(user, org_id) is None:
                raise ApiError(403, {"code": "organization_membership_not_found",
                                     "message": "The user is not a member of the organization."})
            session["org_id"] = org_id
            body = self.issue(session)
            record["used_at"], record["result"] = time.time(), body
            return body

    def _replay(self, record):
        """A used refresh token: the same rotated pair inside the grace window, else invalid."""
        grace = self.setting("grace")
        if grace > 0 and time.time() - record["used_at"] <= grace:
            return record["result"]
        raise oauth_error("invalid_grant", "Invalid refresh token.")

    # ---- logout ---------------------------------------------------------

    def logout(self, session_id):
        with self.lock:
            session = self.sessions.get(session_id)
            if session:
                session["revoked"] = True

    # ---- session management (list, revoke) -----------------------------

    @staticmethod
    def session_object(s):
        return {"object": "session", "id": s["id"], "user_id": s["user_id"],
                "ip_address": s["ip_address"], "user_agent": s["user_agent"],
                "organization_id": s["org_id"], "auth_method": "password",
                "status": "revoked" if s["revoked"] else "active",
                "expires_at": None, "ended_at": None, "created_at": s["created_at"],
                "updated_at": s["created_at"]}

    def list_sessions(self, user_id, limit, after):
        """A page of the user's sessions, newest first (ids are ULIDs: time-ordered)."""
        with self.lock:
            if user_id not in self.dir.by_id:
                raise ApiError(404, {"code": "entity_not_found", "message": "User not found."})
            mine = sorted((s for s in self.sessions.values() if s["user_id"] == user_id),
                          key=lambda s: s["id"], reverse=True)
            if after:
                mine = [s for s in mine if s["id"] < after]
            page = mine[:limit]
            more = len(mine) > limit
            return {"object": "list", "data": [self.session_object(s) for s in page],
                    "list_metadata": {"before": None,
                                      "after": page[-1]["id"] if more else None}}

    def revoke(self, session_id, via):
        with self.lock:
            session = self.sessions.get(session_id or "")
            if session is None:
                raise ApiError(404, {"code": "entity_not_found",
                                     "message": "Session not found."})
            session["revoked"] = True
            self.revocations.append({"session_id": session_id, "via": via,
                                     "time": time.time()})
            return self.session_object(session)

    def dashboard_revoke(self, req):
        """Revoke from the dashboard: one session_id, or every session of an email."""
        if req.get("session_id"):
            return [self.revoke(req["session_id"], "dashboard")["id"]]
        user = self.dir.by_email.get(req.get("email"))
        if user is None:
            raise bad_control("session_id or a known email is required")
        with self.lock:
            ids = [s["id"] for s in self.sessions.values()
                   if s["user_id"] == user["id"] and not s["revoked"]]
        return [self.revoke(i, "dashboard")["id"] for i in ids]

    # ---- sign (attack tokens) -------------------------------------------

    def sign_anything(self, req):
        key_name = req.get("key", "current")
        signer, header = self._signer(key_name)
        header = merge_dropping_nulls(header, req.get("header"))
        header_text = req.get("raw_header")
        if header_text is None:
            header_text = json.dumps(header, separators=(",", ":"))
        claims_text = req.get("raw_claims")
        if claims_text is None:
            claims_text = json.dumps(self._claims_for_sign(req), separators=(",", ":"))
        if not isinstance(header_text, str) or not isinstance(claims_text, str):
            raise bad_control("raw_header and raw_claims must be strings")
        return encode_jwt(header_text, claims_text, signer)

    def _signer(self, key_name):
        with self.lock:
            keys = {"current": self.key, "rogue": self.rogue_key, "previous": self.previous_key}
        if key_name in keys:
            if keys[key_name] is None:
                raise bad_control("there is no previous key (rotate first)")
            key = keys[key_name]
            return key.sign, {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        if key_name == "none":
            return (lambda data: b""), {"alg": "none", "typ": "JWT"}
        if isinstance(key_name, str) and key_name.startswith("hs256:"):
            secret = key_name[len("hs256:"):].encode("utf-8")
            with self.lock:
                kid = self.key.kid
            return ((lambda data: hmac.new(secret, data, hashlib.sha256).digest()),
                    {"alg": "HS256", "kid": kid, "typ": "JWT"})
        raise bad_control("key must be current, previous, rogue, none or hs256:<secret>")

    def _claims_for_sign(self, req):
        base = {}
        if req.get("user") is not None:
            user = self.dir.by_email.get(req["user"])
            if user is None:
                raise bad_control("unknown user")
            m = self.dir.membership(user, None)
            base = self.access_claims(self.new_session(user, m["organization_id"] if m else None))
        elif not isinstance(req.get("claims"), dict):
            raise bad_control("claims (an object) or user is required")
        return merge_dropping_nulls(base, req.get("claims"))


def redirect_with(record, params):
    """record's redirect_uri with params (and state) added to its query."""
    if record["state"] is not None:
        params = dict(params, state=record["state"])
    parts = urllib.parse.urlsplit(record["redirect_uri"])
    query = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(params)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def verify_pkce(challenge, verifier):
    if challenge is None:
        if verifier is not None:
            raise oauth_error("invalid_grant",
                              "code_verifier given but no code_challenge was sent.")
        return
    if not isinstance(verifier, str) or not verifier:
        raise oauth_error("invalid_grant", "code_verifier is required.")
    computed = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    if not hmac.compare_digest(computed.encode(), challenge.encode("utf-8", "replace")):
        raise oauth_error("invalid_grant", "code_verifier does not match code_challenge.")


# ---------------------------------------------------------------- fault answers

def fault_error_body(error):
    """Status and body for a fault's "error": OAuth shape or WorkOS code shape.
    invalid_client (the API key refused) is a 401, as WorkOS answers it."""
    if error == "invalid_client":
        return 401, {"error": error, "error_description": "Invalid client secret."}
    if error in OAUTH_ERRORS:
        text = {"invalid_grant": "Invalid refresh token.",
                "sso_required": "User must authenticate using one of the matching connections."}
        body = {"error": error, "error_description": text.get(error, "Request refused.")}
        if error == "sso_required":
            body["pending_authentication_token"] = opaque_token()
        return 400, body
    return 403, {"code": error, "message": f"Authentication requires: {error}.",
                 "pending_authentication_token": opaque_token()}


def padded_json(base_doc, size):
    """Exactly size bytes of valid JSON: base_doc plus a "padding" member."""
    head = json.dumps(base_doc, separators=(",", ":"))[:-1]
    head += ("," if base_doc else "") + '"padding":"'
    fill = size - len(head) - 2
    if fill >= 0:
        return (head + "x" * fill + '"}').encode()
    if size >= 2:  # too small for the document: an empty object and blanks
        return b"{}" + b" " * (size - 2)
    return b" " * max(size, 0)


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AuthKitEmulator/1.0"
    emu = None  # set on the subclass built in make_server

    # ---- plumbing -------------------------------------------------------

    def log_request(self, code="-", size="-"):
        if not self.emu.opts.quiet:
            path = urllib.parse.urlsplit(self.path).path  # never the query: codes, states
            sys.stderr.write(f"emulator: {self.command} {path} {code}\n")

    def send_bytes(self, status, body, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, value, headers=None):
        self.send_bytes(status, json_bytes(value), "application/json", headers)

    def send_html(self, status, text):
        self.send_bytes(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def redirect(self, location):
        self.send_bytes(302, b"", "text/plain", {"Location": location})

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            raise ApiError(413, {"message": "Request body too large."})
        return self.rfile.read(int(length))

    def _read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass
                return data
            data += self.rfile.read(size)
            self.rfile.readline()
            if len(data) > MAX_BODY:
                raise ApiError(413, {"message": "Request body too large."})

    def parse_params(self, raw):
        """JSON or form-encoded body as a dict of parameters."""
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            return dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        try:
            value = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            if ctype == "application/json":
                raise ApiError(400, {"error": "invalid_request",
                                     "error_description": "Body is not valid JSON."})
            return dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        if not isinstance(value, dict):
            raise ApiError(400, {"error": "invalid_request",
                                 "error_description": "Body must be a JSON object."})
        return value

    def query(self):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))

    # ---- dispatch -------------------------------------------------------

    def do_GET(self):
        self.dispatch(self.GET_ROUTES)

    def do_POST(self):
        self.dispatch(self.POST_ROUTES)

    def do_DELETE(self):
        self.dispatch(self.DELETE_ROUTES)

    def dispatch(self, routes):
        path = urllib.parse.urlsplit(self.path).path
        try:
            for prefix, handler in routes:
                if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
                    return handler(self, path)
            raise ApiError(404, {"message": "Not Found"})
        except ApiError as e:
            if isinstance(e.body, str):
                self.send_html(e.status, page("Error", f"<p>{html.escape(e.body)}</p>"))
            else:
                self.send_json(e.status, e.body, e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug here must still answer, and loudly
            traceback.print_exc()
            self.send_json(500, {"message": "Internal emulator error."})

    # ---- faults ---------------------------------------------------------

    def apply_fault(self, fault, base_doc):
        """Answer as the fault says: the status sent (0: dropped), None to proceed."""
        if fault is None:
            return None
        if fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault.get("drop"):
            self.close_connection = True
            return 0
        if fault.get("endless"):
            self.stream_endless()
            return 200
        headers = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else {}
        if fault.get("size") is not None:
            status = fault.get("status", 200)
            self.send_bytes(status, padded_json(base_doc, int(fault["size"])),
                            "application/json", headers)
            return status
        if not any(k in fault for k in ("status", "body", "error")):
            return None  # a pure delay
        status, body = self.fault_answer(fault)
        payload = body.encode("utf-8") if isinstance(body, str) else json_bytes(body)
        self.send_bytes(status, payload, "application/json", headers)
        return status

    def fault_answer(self, fault):
        if fault.get("error"):
            status, body = fault_error_body(fault["error"])
            if fault.get("authkit_redirect_url"):
                body["authkit_redirect_url"] = fault["authkit_redirect_url"]
        else:
            status = fault.get("status", 500)
            body = {"message": self.responses.get(status, ("Error",))[0]}
        return fault.get("status", status), fault.get("body", body)

    def stream_endless(self):
        """200 with no length that never finishes (until the client leaves or the cap)."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b'{"keys":[],"padding":"')
        chunk = b"x" * 65536
        deadline = time.time() + ENDLESS_CAP_SEC
        try:
            while time.time() < deadline and not self.server.stopping.is_set():
                self.wfile.write(chunk)
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # ---- WorkOS endpoints ----------------------------------------------

    def handle_jwks(self, path):
        self.emu.count("jwks")
        client_id = path[len("/sso/jwks/"):]
        doc = self.emu.jwks()
        if self.apply_fault(self.emu.take_fault(("jwks", "all")), doc) is not None:
            return
        if client_id != self.emu.opts.client_id:
            raise ApiError(404, {"message": "Not Found"})
        self.send_json(200, doc)

    def handle_authorize(self, path):
        self.emu.count("authorize")
        with self.emu.lock:
            self.emu.authorize_log.append(self.query())
            del self.emu.authorize_log[:-REQUEST_LOG_MAX]
        pending_id, record = self.emu.begin_authorize(self.query())
        self.send_html(200, sign_in_page(self.emu, pending_id, record))

    def handle_sign_in(self, path):
        form = dict(urllib.parse.parse_qsl(self.read_body().decode("utf-8", "replace")))
        self.redirect(self.emu.complete_authorize(form))

    # An authenticate call is logged (and counted as an error) as its status line
    # goes out, never after: a test reads the log as soon as the module answers.
    pending = None

    def send_response(self, code, message=None):
        self.record_authenticate(code)
        super().send_response(code, message)

    def record_authenticate(self, status):
        pending, self.pending = self.pending, None
        if pending is None:
            return
        if status != 200:
            self.emu.count("authenticate_errors")
        self.emu.log_request(request_record(*pending, status, self.headers,
                                            self.emu.opts.api_key))

    def handle_authenticate(self, path):
        params, grant, status = {}, None, 500
        self.pending = (params, grant)
        try:
            params = self.parse_params(self.read_body())
            grant = params.get("grant_type")
            self.pending = (params, grant)
            kind = {"authorization_code": "code", "refresh_token": "refresh"}.get(grant)
            if kind:
                self.emu.count("authenticate_" + kind)
            fault = self.emu.take_fault((kind, "authenticate", "all") if kind
                                        else ("authenticate", "all"))
            faulted = self.apply_fault(fault, {})
            if faulted is not None:
                status = faulted
                return
            if kind is None:
                raise oauth_error("unsupported_grant_type", "grant_type is not supported.")
            body = (self.emu.authenticate_code if kind == "code"
                    else self.emu.authenticate_refresh)(params)
            status = 200
            self.send_json(200, body)
        except ApiError as e:
            status = e.status
            raise
        finally:
            self.record_authenticate(status)   # not answered yet (an error, a drop)

    def handle_logout(self, path):
        self.emu.count("logout")
        q = self.query()
        if not q.get("session_id"):
            raise ApiError(400, "session_id is required.")
        self.emu.logout(q["session_id"])
        if q.get("return_to"):
            return self.redirect(q["return_to"])
        self.send_html(200, page("Signed out", "<p>You have been signed out.</p>"))

    def check_api_key(self):
        """The management endpoints take the API key as a bearer token."""
        auth = self.headers.get("Authorization", "")
        want = f"Bearer {self.emu.opts.api_key}"
        if not hmac.compare_digest(auth.encode(), want.encode()):
            raise ApiError(401, {"message": "Unauthorized"})

    def handle_sessions_list(self, path):
        # /user_management/users/{user_id}/sessions
        parts = path.split("/")
        if len(parts) != 5 or parts[4] != "sessions":
            raise ApiError(404, {"message": "Not Found"})
        self.emu.count("sessions_list")
        if self.apply_fault(self.emu.take_fault(("sessions_list", "sessions", "all")),
                            {}) is not None:
            return
        self.check_api_key()
        q = self.query()
        limit = q.get("limit", "10")
        if not limit.isdigit() or not 1 <= int(limit) <= SESSIONS_PAGE_MAX:
            raise ApiError(422, {"message": "limit must be from 1 to 100."})
        self.send_json(200, self.emu.list_sessions(urllib.parse.unquote(parts[3]),
                                                   int(limit), q.get("after")))

    def handle_sessions_revoke(self, path):
        self.emu.count("sessions_revoke")
        body = self.read_body()
        if self.apply_fault(self.emu.take_fault(("sessions_revoke", "sessions", "all")),
                            {}) is not None:
            return
        self.check_api_key()
        params = self.parse_params(body)
        if not isinstance(params.get("session_id"), str):
            raise ApiError(422, {"message": "session_id is required."})
        self.send_json(200, self.emu.revoke(params["session_id"], "api"))

    # ---- control plane --------------------------------------------------

    def control_body(self):
        return self.parse_params(self.read_body())

    def ctl_health(self, path):
        self.send_json(200, {"ok": True})

    def ctl_counters(self, path):
        with self.emu.lock:
            self.send_json(200, dict(self.emu.counters))

    def ctl_requests(self, path):
        with self.emu.lock:
            self.send_json(200, {"requests": list(self.emu.request_log)})

    def ctl_authorize_requests(self, path):
        with self.emu.lock:
            self.send_json(200, {"requests": list(self.emu.authorize_log)})

    def ctl_keys(self, path):
        self.send_json(200, self.emu.keys_info())

    def ctl_reset(self, path):
        self.emu.reset(self.control_body())
        self.send_json(200, {"ok": True})

    def ctl_fault(self, path):
        self.emu.set_fault(self.control_body())
        self.send_json(200, {"ok": True})

    def ctl_clear_fault(self, path):
        self.emu.clear_faults()
        self.send_json(200, {"ok": True})

    def ctl_config(self, path):
        body = self.control_body()
        checks = {"token_ttl": lambda v: isinstance(v, int) and v > 0,
                  "grace": lambda v: isinstance(v, (int, float)) and v >= 0,
                  "jwks_extra_keys": lambda v: isinstance(v, list),
                  "extra_claims": lambda v: isinstance(v, dict)}
        for name, value in body.items():
            if name not in checks or not checks[name](value):
                raise bad_control(f"bad or unknown setting: {name}")
        with self.emu.lock:
            self.emu.overrides.update(body)
            effective = {n: self.emu.setting(n) for n in checks}
        self.send_json(200, dict(effective, ok=True))

    def ctl_rotate(self, path):
        body = self.control_body()
        kid = self.emu.rotate(bool(body.get("drop_previous")), publish=body.get("publish", True))
        self.send_json(200, {"kid": kid})

    def ctl_publish(self, path):
        self.control_body()
        self.emu.publish()
        self.send_json(200, {"ok": True})

    def ctl_session(self, path):
        self.send_json(200, self.emu.mint_session(self.control_body()))

    def ctl_sign(self, path):
        self.send_json(200, {"token": self.emu.sign_anything(self.control_body())})

    def ctl_revoke(self, path):
        self.send_json(200, {"revoked": self.emu.dashboard_revoke(self.control_body())})

    def ctl_revocations(self, path):
        with self.emu.lock:
            self.send_json(200, {"revocations": list(self.emu.revocations)})

    def ctl_role(self, path):
        b = self.control_body()
        if not isinstance(b.get("role"), str):
            raise bad_control("role must be a string")
        with self.emu.lock:
            m = self.emu.dir.set_role(b.get("email"), b.get("organization_id"), b["role"],
                                      b.get("permissions"))
            self.send_json(200, dict(copy.deepcopy(m), ok=True))

    GET_ROUTES = [("/sso/jwks/", handle_jwks),
                  ("/user_management/authorize", handle_authorize),
                  ("/user_management/sessions/logout", handle_logout),
                  ("/__emulator/health", ctl_health),
                  ("/__emulator/counters", ctl_counters),
                  ("/__emulator/requests", ctl_requests),
                  ("/__emulator/authorize_requests", ctl_authorize_requests),
                  ("/__emulator/keys", ctl_keys),
                  ("/__emulator/revocations", ctl_revocations),
                  ("/user_management/users/", handle_sessions_list)]
    POST_ROUTES = [("/user_management/authenticate", handle_authenticate),
                   ("/authkit/sign-in", handle_sign_in),
                   ("/__emulator/reset", ctl_reset),
                   ("/__emulator/fault", ctl_fault),
                   ("/__emulator/config", ctl_config),
                   ("/__emulator/rotate", ctl_rotate),
                   ("/__emulator/publish", ctl_publish),
                   ("/__emulator/session", ctl_session),
                   ("/__emulator/sign", ctl_sign),
                   ("/__emulator/revoke", ctl_revoke),
                   ("/__emulator/role", ctl_role),
                   ("/user_management/sessions/revoke", handle_sessions_revoke)]
    DELETE_ROUTES = [("/__emulator/fault", ctl_clear_fault)]


def request_record(params, grant, status, headers, api_key):
    """What an authenticate call carried, for /__emulator/requests (secret not kept)."""
    shown = {k: v for k, v in params.items() if k != "client_secret"}
    if "client_secret" in params:
        shown["client_secret_ok"] = hmac.compare_digest(
            str(params["client_secret"]).encode(), api_key.encode())
    return {"endpoint": "authenticate", "grant_type": grant, "status": status,
            "params": shown, "content_type": headers.get("Content-Type"),
            "user_agent": headers.get("User-Agent"), "time": time.time()}


# ---------------------------------------------------------------- HTML

PAGE_STYLE = ("body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
              "padding:0 1rem;color:#222}li{list-style:none;margin:0 0 1rem;padding:.75rem;"
              "border:1px solid #ccc;border-radius:6px}.meta{color:#555;font-size:.9rem;"
              "margin-top:.4rem}button{font-size:1rem;padding:.4rem .8rem}ul{padding:0}")


def page(title, body):
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style></head>"
            f"<body><main><h1>{html.escape(title)}</h1>\n{body}\n</main></body></html>\n")


def describe_membership(emu, m):
    org = emu.dir.orgs[m["organization_id"]]["name"]
    perms = m["permissions"]
    shown = ", ".join(perms[:6]) + (f" and {len(perms) - 6} more" if len(perms) > 6 else "")
    return (f"{html.escape(org)} &middot; role {html.escape(m['role'])} &middot; "
            f"permissions: {html.escape(shown) or 'none'}")


def user_entry(emu, user):
    name = f"{user['first_name']} {user['last_name']}"
    email = html.escape(user["email"], quote=True)
    orgs = "<br>".join(describe_membership(emu, m) for m in user["memberships"]) or \
        "no organization"
    extra = ""
    if user.get("impersonator"):
        extra = (f"<br>impersonated by {html.escape(user['impersonator']['email'])}"
                 f" ({html.escape(user['impersonator'].get('reason') or '')})")
    return (f'<li><button type="submit" name="email" value="{email}" data-user="{email}">'
            f"Sign in as {html.escape(name)}</button>"
            f'<div class="meta">{email}<br>{orgs}{extra}</div></li>')


def sign_in_page(emu, pending_id, record):
    title = "Sign up" if record.get("screen_hint") == "sign-up" else "Sign in"
    note = ""
    if record["org_id"]:
        org = emu.dir.orgs.get(record["org_id"], {}).get("name", record["org_id"])
        note = f"<p>Signing in to organization {html.escape(org)}.</p>"
    users = "\n".join(user_entry(emu, u) for u in emu.dir.users)
    body = ("<p>Local AuthKit emulator: pick a demo user.</p>" + note +
            '<form method="post" action="/authkit/sign-in">'
            f'<input type="hidden" name="authorization" value="{pending_id}">'
            f"<ul>\n{users}\n</ul>"
            '<button type="submit" name="cancel" value="1" id="cancel">Cancel</button>'
            "</form>")
    return page(title, body)


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description="Local WorkOS AuthKit emulator (tests only).")
    ap.add_argument("--port", type=int, required=True, help="0 picks a free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--client-id", default="client_test")
    ap.add_argument("--api-key", default="sk_test_emulator")
    ap.add_argument("--token-ttl", type=int, default=300, help="access token lifetime, s")
    ap.add_argument("--grace", type=float, default=0,
                    help="refresh-token replay window, s (0: strictly single use)")
    ap.add_argument("--users", default=os.path.join(HERE, "users.json"))
    ap.add_argument("--issuer", default=None,
                    help="iss claim (default: PUBLIC_URL/user_management/CLIENT_ID)")
    ap.add_argument("--public-url", default=None, help="default http://HOST:PORT")
    ap.add_argument("--quiet", action="store_true", help="no request lines on stderr")
    opts = ap.parse_args(argv)
    if opts.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("the emulator binds to loopback only")
    return opts


class Server(ThreadingHTTPServer):
    # Bursts of refreshes (benchmarks, single-flight tests) overflow the default 5.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Clients hanging up mid-connection is normal here; anything else is a bug."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def make_server(opts):
    emu = Emulator(opts, Directory(opts.users))
    handler = type("BoundHandler", (Handler,), {"emu": emu})
    server = Server((opts.host, opts.port), handler)
    server.stopping = threading.Event()
    port = server.server_address[1]
    if opts.public_url is None:
        opts.public_url = f"http://{opts.host}:{port}"
    opts.public_url = opts.public_url.rstrip("/")
    return server, port


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    server, port = make_server(opts)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
    worker.start()
    print(f"READY {port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stopping.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
