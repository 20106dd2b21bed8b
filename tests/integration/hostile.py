# SPDX-License-Identifier: Apache-2.0
"""Shared by the hostile-input suite (test_hostile_*.py): what every hostile
request must (not) lead to, seals and tokens built byte by byte, and a
per-test watch on the error log.

The promises checked on every answer: an API client is refused with 401 and
the module's challenge, a browser is sent to the emulator's sign-in page (or
gets a 4xx page), an outage is a 503 with Retry-After; never a 500, never an
identity, never a redirect off-site. After every test the log lines written
during it (httpd at `LogLevel info auth_workos:trace8`) must hold no crash, no
sanitizer report and none of the secrets the module was given or the tests
sent (API key, cookie passwords, cookies, tokens)."""
import hashlib
import hmac
import http.client
import json
import os
import re
import time
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness import client
from harness import httpd as hd
from harness.cookies import b64url

# The module at its most talkative, core httpd at info: secrets must not show
# at any level.
LOGLEVEL = "LogLevel info auth_workos:trace8\n"
CRASH = re.compile(r"exit signal|Segmentation|AddressSanitizer|LeakSanitizer|"
                   r"runtime error:|SIGSEGV|SIGABRT|double free")
CHALLENGE = 'WorkOS realm="WorkOS"'
SESSION = "wos-session"
STATE_PREFIX = "wos-mod-state-"

# Sent with every hostile request: whatever happens, no backend may see them.
FORGED = {"X-WorkOS-User-Id": "user_01FORGEDFORGEDFORGEDFORGED",
          "X-WorkOS-User-Email": "forged@evil.example",
          "X_WorkOS_Role": "forged-admin",
          "Remote-User": "forged-remote@evil.example"}
FORGED_VALUES = list(FORGED.values())


# ---- the log watch ------------------------------------------------------------

# Values the module must not log but httpd's access log may hold: the
# authorization code travels in the callback URL, which %r logs.
ERROR_LOG_ONLY = {}


def secret_for_error_log(label, value):
    ERROR_LOG_ONLY[value] = label
    return value


@pytest.fixture(autouse=True)
def log_watch(secrets):
    """Every log line written during the test: no crash, no secret."""
    start = {}
    for h in hd.INSTANCES:
        for path in h.log_files():
            start[path] = path.stat().st_size if path.exists() else 0
    yield
    problems = []
    for h in list(hd.INSTANCES):
        for path in h.log_files():
            text, _ = h.read_from(path, start.get(path, 0))
            watched = dict(secrets.items)
            if path != h.access_log:
                watched.update(ERROR_LOG_ONLY)
            for line in text.splitlines():
                if CRASH.search(line):
                    problems.append(f"{h.dir.name}/{path.name}: crash: {line[:300]}")
                for value, label in watched.items():
                    if value in line:
                        problems.append(f"{h.dir.name}/{path.name}: the {label} is logged")
    if problems:
        pytest.fail("log watch:\n" + "\n".join(sorted(set(problems))[:40]), pytrace=False)


# ---- answers ------------------------------------------------------------------

def deleted(resp):
    """Names of the cookies a response deletes."""
    return {n for n, _, a in client.set_cookies(resp) if client.is_deletion(a)}


def stored_sessions(resp):
    """Session cookies (or chunks) a response stores, not deletes."""
    return [n for n, _, a in client.set_cookies(resp)
            if (n == SESSION or n.startswith(SESSION + ".")) and not client.is_deletion(a)]


def no_leak(resp, sent=()):
    """Neither an identity nor anything we sent comes back in the body."""
    body = resp.text
    for value in list(sent) + FORGED_VALUES:
        if value and len(value) >= 12:
            assert value not in body, "a sent value is echoed in the answer"
    assert "REMOTE_USER" not in body and "WORKOS_USER_ID" not in body


def refused_api(resp, clears=(), sent=()):
    """401 with the module's challenge, exactly `clears` deleted, no session set."""
    assert resp.status_code == 401, f"{resp.status_code}: {resp.text[:300]}"
    assert resp.headers.get("WWW-Authenticate") == CHALLENGE
    assert "Location" not in resp.headers
    assert deleted(resp) == set(clears), f"deleted {sorted(deleted(resp))}"
    assert stored_sessions(resp) == []
    no_leak(resp, sent)


def to_sign_in(resp, site, emulator, clears=(), sent=()):
    """302 to the emulator's authorize page with this site's callback, a new
    sign-in state cookie, exactly `clears` deleted, no session set."""
    assert resp.status_code == 302, f"{resp.status_code}: {resp.text[:300]}"
    base, params = client.location_query(resp)
    assert base == f"{emulator.url}/user_management/authorize", base
    assert params["client_id"] == emulator.client_id
    assert params["redirect_uri"] == f"{site.url}/auth/callback"
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43
    states = [n for n, _, a in client.set_cookies(resp)
              if n.startswith(STATE_PREFIX) and not client.is_deletion(a)]
    assert len(states) == 1, client.set_cookies(resp)
    assert deleted(resp) == set(clears), f"deleted {sorted(deleted(resp))}"
    assert stored_sessions(resp) == []
    no_leak(resp, sent)


def unavailable(resp, retry_after="5", sent=()):
    """503 with Retry-After, the session cookie neither cleared nor replaced."""
    assert resp.status_code == 503, f"{resp.status_code}: {resp.text[:300]}"
    assert resp.headers.get("Retry-After") == retry_after
    assert "Location" not in resp.headers
    assert deleted(resp) == set()
    assert stored_sessions(resp) == []
    no_leak(resp, sent)


def served_as(resp, email):
    """200 from the CGI as exactly this user, and no forged value in its env."""
    env = client.cgi_env(resp)
    assert env["WORKOS_USER_EMAIL"] == email
    assert env["REMOTE_USER"] == env["WORKOS_USER_ID"]     # the id, by default
    text = json.dumps(env)
    for value in FORGED_VALUES:
        assert value not in text
    return env


def cookie_request(site, path, cookie, kind, extra=None):
    """GET with a raw Cookie header (or none) as an API client or a browser,
    always carrying the forged identity headers."""
    base = client.API if kind == "api" else client.BROWSER
    headers = dict(base, **FORGED, **(extra or {}))
    if cookie is not None:
        headers["Cookie"] = cookie
    return client.request(site, "GET", path, headers=headers)


def raw_request(site, path, header_pairs, method="GET"):
    """A request with exactly these (possibly repeated) headers, via
    http.client; returns a requests-like object for the helpers above."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in header_pairs:
            conn.putheader(name, value)
        conn.putheader("Connection", "close")
        conn.endheaders()
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


class RawHeaders:
    """Response headers as both requests' case-insensitive mapping and
    urllib3's getlist (what harness.client.set_cookies reads)."""

    def __init__(self, pairs):
        self.pairs = pairs

    def getlist(self, name):
        return [v for k, v in self.pairs if k.lower() == name.lower()]

    def get(self, name, default=None):
        values = self.getlist(name)
        return values[0] if values else default

    def __getitem__(self, name):
        values = self.getlist(name)
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name):
        return bool(self.getlist(name))


class RawResponse:
    """Enough of requests.Response for the assertions in this module."""

    def __init__(self, status, pairs, body):
        self.status_code = status
        self.headers = RawHeaders(pairs)
        self.raw = self
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


# ---- seals, byte by byte ------------------------------------------------------

def _key(password, salt):
    return hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), 1, 32)


def encrypt(password, esalt, iv, data):
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    enc = Cipher(algorithms.AES(_key(password, esalt)), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def forge_seal(password, payload, **over):
    """An Fe26.2 seal of payload (bytes, str or JSON-able) whose fields can be
    replaced one by one (prefix, pwid, esalt, iv, ct, exp, hsalt, mac, suffix;
    iv/ct as text) and whose MAC is computed over whatever the body became,
    unless `mac` is given: the module must refuse these on form, not on MAC."""
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload, separators=(",", ":"))
    if isinstance(payload, str):
        payload = payload.encode()
    esalt = over.get("esalt", os.urandom(32).hex())
    hsalt = over.get("hsalt", os.urandom(32).hex())
    iv = os.urandom(16)
    key_salt = esalt if re.fullmatch(r"[0-9a-f]{64}", esalt) else os.urandom(32).hex()
    ct = encrypt(password, key_salt, iv, payload)
    fields = [over.get("prefix", "Fe26.2"), over.get("pwid", "1"), esalt,
              over.get("iv", b64url(iv)), over.get("ct", b64url(ct)), over.get("exp", "")]
    if "ct_bytes" in over:
        fields[4] = b64url(over["ct_bytes"](ct))
    body = "*".join(fields)
    mac = over.get("mac") or b64url(hmac.new(_key(password, hsalt), body.encode(),
                                             hashlib.sha256).digest())
    return f"{body}*{hsalt}*{mac}{over.get('suffix', '~2')}"


def flip(text, index):
    c = text[index]
    return text[:index] + ("B" if c != "B" else "C") + text[index + 1:]


def seal_part(seal, i, fn):
    body, suffix = (seal[:-2], "~2") if seal.endswith("~2") else (seal, "")
    parts = body.split("*")
    parts[i] = fn(parts[i])
    return "*".join(parts) + suffix


# ---- tokens from keys of our own -----------------------------------------------

def jwt_encode(header, claims, sign):
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    c = b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{h}.{c}.{b64url(sign(f'{h}.{c}'.encode()))}"


def es256_token(header, claims):
    key = ec.generate_private_key(ec.SECP256R1())

    def sign(data):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return jwt_encode(dict(header, alg="ES256"), claims, sign)


class RsaKey:
    """An RSA key of any size, its JWK, and RS256 tokens signed with it."""

    def __init__(self, bits, kid):
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def jwk(self, kid=None):
        nums = self.key.public_key().public_numbers()

        def uint(n):
            return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {"kty": "RSA", "kid": kid or self.kid, "use": "sig", "alg": "RS256",
                "n": uint(nums.n), "e": uint(nums.e)}

    def token(self, claims, kid=None):
        def sign(data):
            return self.key.sign(data, rsa_padding.PKCS1v15(), hashes.SHA256())

        return jwt_encode({"alg": "RS256", "kid": kid or self.kid, "typ": "JWT"}, claims, sign)


def future_claims(claims, ttl=600):
    now = int(time.time())
    return dict(claims, iat=now, exp=now + ttl)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
