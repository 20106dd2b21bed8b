# SPDX-License-Identifier: Apache-2.0
"""The AuthKit emulator: its control plane, its WorkOS endpoints, and its
faithfulness to the real @workos-inc/node SDK (tests/compat/emulator_sdk.mjs).

Self-contained: starts its own emulator on a free loopback port and stops it
at the end. Expected values come from tests/emulator/users.json (read here
independently), from RFC 7515/7636 computations done here with hashlib and
python3-cryptography, or from the SDK's own results.

Run: cd /work/main && /usr/bin/python3 -m pytest -q tests/integration/test_emulator_sdk.py
"""

import base64
import hashlib
import hmac
import html.parser
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(ROOT, "tests", "emulator", "emulator.py")
SDK_SCRIPT = os.path.join(ROOT, "tests", "compat", "emulator_sdk.mjs")
USERS = json.load(open(os.path.join(ROOT, "tests", "emulator", "users.json"), encoding="utf-8"))
CLIENT_ID, API_KEY = "client_test", "sk_test_emulator"
REDIRECT = "http://127.0.0.1:9/callback"
ACME = next(o["id"] for o in USERS["organizations"] if o["name"] == "Acme")
GLOBEX = next(o["id"] for o in USERS["organizations"] if o["name"] == "Globex")
USER = {u["email"]: u for u in USERS["users"]}


# ---------------------------------------------------------------- fixtures

def start_emulator(*extra):
    proc = subprocess.Popen(["/usr/bin/python3", EMULATOR, "--port", "0", "--quiet", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.fullmatch(r"READY (\d+)\n", line)
    if not match:
        proc.kill()
        pytest.fail(f"emulator did not start: {line!r} {proc.stderr.read()}")
    return proc, int(match.group(1))


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.fixture(scope="module")
def emu():
    proc, port = start_emulator()
    base = f"http://127.0.0.1:{port}"
    yield base
    assert stop(proc) == 0
    stderr = proc.stderr.read()
    assert "Traceback" not in stderr, stderr


@pytest.fixture(autouse=True)
def clean(emu):
    requests.post(f"{emu}/__emulator/reset", json={}).raise_for_status()
    yield


# ---------------------------------------------------------------- helpers

def b64d(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token):
    h, c, s = token.split(".")
    return json.loads(b64d(h)), json.loads(b64d(c)), b64d(s)


def jwk_public_key(jwk):
    n = int.from_bytes(b64d(jwk["n"]), "big")
    e = int.from_bytes(b64d(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def rs256_verifies(token, public_key):
    signing_input, _, sig = token.rpartition(".")
    try:
        public_key.verify(b64d(sig), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def jwks(emu):
    r = requests.get(f"{emu}/sso/jwks/{CLIENT_ID}")
    assert r.status_code == 200
    return r.json()["keys"]


def verify_with_jwks(emu, token):
    """True when some published key with the token's kid verifies it."""
    kid = jwt_parts(token)[0].get("kid")
    return any(rs256_verifies(token, jwk_public_key(k)) for k in jwks(emu) if k["kid"] == kid)


def ctl(emu, path, body=None, method="POST"):
    r = requests.request(method, f"{emu}/__emulator/{path}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def counters(emu):
    return ctl(emu, "counters", method="GET")


def authenticate(emu, **params):
    return requests.post(f"{emu}/user_management/authenticate",
                         json={"client_id": CLIENT_ID, "client_secret": API_KEY, **params})


def refresh(emu, token, **extra):
    return authenticate(emu, grant_type="refresh_token", refresh_token=token, **extra)


def authorize_url(emu, **params):
    q = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
         "provider": "authkit", "state": "st-1", **params}
    return f"{emu}/user_management/authorize?" + urllib.parse.urlencode(q)


class FormParser(html.parser.HTMLParser):
    """Collects the sign-in form: action, hidden inputs, buttons with their text."""

    def __init__(self):
        super().__init__()
        self.action, self.hidden, self.buttons, self._button = None, {}, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a["value"]
        elif tag == "button":
            self._button = dict(a, text="")

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.buttons.append(self._button)
            self._button = None


def open_sign_in(emu, **params):
    r = requests.get(authorize_url(emu, **params))
    assert r.status_code == 200, r.text
    form = FormParser()
    form.feed(r.text)
    return form, r.text


def sign_in(emu, email, cancel=False, **params):
    """Go through the hosted page; the parsed callback query."""
    form, _ = open_sign_in(emu, **params)
    data = dict(form.hidden, **({"cancel": "1"} if cancel else {"email": email}))
    r = requests.post(urllib.parse.urljoin(emu, form.action), data=data, allow_redirects=False)
    assert r.status_code == 302, r.text
    location = r.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def code_for(emu, email, **params):
    return sign_in(emu, email, **params)["code"]


def mint(emu, email="ada@example.com", **extra):
    return ctl(emu, "session", {"email": email, **extra})


# ---------------------------------------------------------------- process

def test_ready_line_and_sigterm_exit_cleanly():
    proc, port = start_emulator()
    assert requests.get(f"http://127.0.0.1:{port}/__emulator/health").json() == {"ok": True}
    assert stop(proc) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/__emulator/health", timeout=2)


def test_sigint_and_cli_options():
    proc, port = start_emulator("--client-id", "client_other", "--api-key", "sk_other",
                                "--token-ttl", "42", "--issuer", "https://issuer.test")
    base = f"http://127.0.0.1:{port}"
    try:
        assert requests.get(f"{base}/sso/jwks/client_other").status_code == 200
        assert requests.get(f"{base}/sso/jwks/{CLIENT_ID}").status_code == 404
        body = ctl(base, "session", {"email": "ada@example.com"})
        _, claims, _ = jwt_parts(body["access_token"])
        assert claims["iss"] == "https://issuer.test"
        assert claims["exp"] - claims["iat"] == 42
        r = requests.post(f"{base}/user_management/authenticate", json={
            "grant_type": "refresh_token", "client_id": "client_other",
            "client_secret": "sk_other", "refresh_token": body["refresh_token"]})
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_refuses_non_loopback_host():
    r = subprocess.run(["/usr/bin/python3", EMULATOR, "--port", "0", "--host", "0.0.0.0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "loopback" in r.stderr


# ---------------------------------------------------------------- JWKS

def test_jwks_shape_and_x5c_match(emu):
    keys = jwks(emu)
    assert len(keys) == 1
    k = keys[0]
    assert (k["alg"], k["kty"], k["use"], k["e"]) == ("RS256", "RSA", "sig", "AQAB")
    assert re.fullmatch(r"sso_oidc_key_pair_[0-9A-HJKMNP-TV-Z]{26}", k["kid"])
    der = base64.b64decode(k["x5c"][0])
    cert = x509.load_der_x509_certificate(der)
    assert cert.public_key().public_numbers() == jwk_public_key(k).public_numbers()
    assert jwk_public_key(k).key_size == 2048
    assert k["x5t#S256"] == b64e(hashlib.sha256(der).digest())
    info = ctl(emu, "keys", method="GET")
    assert info["current_kid"] == k["kid"]
    pem_key = serialization.load_pem_public_key(info["public_pem"].encode())
    assert pem_key.public_numbers() == jwk_public_key(k).public_numbers()


def test_jwks_unknown_client_is_404_and_counted(emu):
    assert requests.get(f"{emu}/sso/jwks/client_nope").status_code == 404
    jwks(emu)
    jwks(emu)
    assert counters(emu)["jwks"] == 3


# ---------------------------------------------------------------- sign-in page

def test_sign_in_page_lists_every_user(emu):
    form, text = open_sign_in(emu)
    by_user = {b["data-user"]: b for b in form.buttons if "data-user" in b}
    assert set(by_user) == set(USER)
    for email, user in USER.items():
        assert by_user[email]["text"] == f"Sign in as {user['first_name']} {user['last_name']}"
        assert by_user[email]["value"] == email
    cancel = [b for b in form.buttons if b.get("id") == "cancel"]
    assert len(cancel) == 1 and cancel[0]["text"] == "Cancel"
    for word in ("Acme", "Globex", "role admin", "posts:write", "support@example.com"):
        assert word in text
    assert counters(emu)["authorize"] == 1


@pytest.mark.parametrize("params", [
    {"client_id": "client_nope"},
    {"response_type": "token"},
    {"redirect_uri": ""},
    {"redirect_uri": "javascript:alert(1)"},
    {"code_challenge": "abc", "code_challenge_method": "plain"},
    {"code_challenge": "abc", "code_challenge_method": None},
    {"provider": None},
])
def test_authorize_rejects_bad_requests_without_redirecting(emu, params):
    q = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
         "provider": "authkit", "state": "s"}
    q.update(params)
    q = {k: v for k, v in q.items() if v is not None}
    r = requests.get(f"{emu}/user_management/authorize?" + urllib.parse.urlencode(q),
                     allow_redirects=False)
    assert r.status_code == 400
    assert "Location" not in r.headers


def test_sign_in_redirect_keeps_query_and_state(emu):
    form, _ = open_sign_in(emu, redirect_uri=REDIRECT + "?next=%2Fa", state="x y&z")
    r = requests.post(urllib.parse.urljoin(emu, form.action),
                      data=dict(form.hidden, email="ada@example.com"), allow_redirects=False)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    assert q["next"] == "/a" and q["state"] == "x y&z" and q["code"]
    # the pending sign-in is single use
    again = requests.post(urllib.parse.urljoin(emu, form.action),
                          data=dict(form.hidden, email="ada@example.com"), allow_redirects=False)
    assert again.status_code == 400


def test_cancel_redirects_with_access_denied(emu):
    q = sign_in(emu, None, cancel=True, state="c1")
    assert q["error"] == "access_denied" and q["state"] == "c1" and q["error_description"]
    assert "code" not in q


def test_organization_id_selects_membership_or_denies(emu):
    code = code_for(emu, "grace@example.com", organization_id=GLOBEX)
    body = authenticate(emu, grant_type="authorization_code", code=code).json()
    assert body["organization_id"] == GLOBEX
    q = sign_in(emu, "linus@example.com", organization_id=ACME)
    assert q["error"] == "access_denied" and "code" not in q


# ---------------------------------------------------------------- authenticate: code

def expected_claims(email, org_id):
    user = USER[email]
    m = next(m for m in user["memberships"] if m["organization_id"] == org_id)
    return {"sub": user["id"], "org_id": org_id, "role": m["role"], "roles": m["roles"],
            "permissions": m["permissions"], "entitlements": m["entitlements"],
            "feature_flags": m["feature_flags"]}


def test_code_exchange_body_and_token(emu):
    code = code_for(emu, "ada@example.com")
    r = authenticate(emu, grant_type="authorization_code", code=code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"user", "organization_id", "access_token", "refresh_token",
                         "authentication_method"}
    ada = USER["ada@example.com"]
    assert body["user"] == {
        "object": "user", "id": ada["id"], "email": ada["email"], "email_verified": True,
        "first_name": "Ada", "last_name": "Lovelace", "profile_picture_url": None,
        "last_sign_in_at": body["user"]["last_sign_in_at"], "created_at": ada["created_at"],
        "updated_at": ada["updated_at"], "external_id": None, "metadata": ada["metadata"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["user"]["last_sign_in_at"])
    assert body["organization_id"] == ACME
    assert body["authentication_method"] == "Password"
    header, claims, _ = jwt_parts(body["access_token"])
    assert header == {"alg": "RS256", "kid": jwks(emu)[0]["kid"], "typ": "JWT"}
    assert verify_with_jwks(emu, body["access_token"])
    for name, value in expected_claims("ada@example.com", ACME).items():
        assert claims[name] == value, name
    assert claims["iss"] == f"{emu}/user_management/{CLIENT_ID}"
    assert re.fullmatch(r"session_[0-9A-Z]{26}", claims["sid"])
    assert "aud" not in claims and "act" not in claims
    now = time.time()
    assert abs(claims["iat"] - now) < 30 and claims["exp"] - claims["iat"] == 300
    assert claims["auth_time"] <= claims["iat"]
    assert counters(emu)["authenticate_code"] == 1


def test_code_exchange_accepts_form_encoding(emu):
    code = code_for(emu, "linus@example.com")
    r = requests.post(f"{emu}/user_management/authenticate", data={
        "grant_type": "authorization_code", "client_id": CLIENT_ID,
        "client_secret": API_KEY, "code": code})
    assert r.status_code == 200
    assert jwt_parts(r.json()["access_token"])[1]["permissions"] == []


def test_code_single_use_and_errors_counted(emu):
    code = code_for(emu, "ada@example.com")
    assert authenticate(emu, grant_type="authorization_code", code=code).status_code == 200
    r = authenticate(emu, grant_type="authorization_code", code=code)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant" and r.json()["error_description"]
    assert authenticate(emu, grant_type="authorization_code", code="nope").status_code == 400
    c = counters(emu)
    assert (c["authenticate_code"], c["authenticate_errors"]) == (3, 2)


def test_wrong_secret_is_401_and_wrong_client_is_refused(emu):
    code = code_for(emu, "ada@example.com")
    r = authenticate(emu, grant_type="authorization_code", code=code, client_secret="sk_bad")
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    r = authenticate(emu, grant_type="authorization_code", code=code, client_id="client_x")
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = requests.post(f"{emu}/user_management/authenticate", json={
        "grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code})
    assert r.status_code == 400  # no secret and no PKCE
    assert authenticate(emu, grant_type="authorization_code", code=code).status_code == 200


def test_unknown_grant_type(emu):
    r = authenticate(emu, grant_type="password")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_pkce_s256(emu):
    verifier = b64e(os.urandom(32))
    challenge = b64e(hashlib.sha256(verifier.encode()).digest())
    code = code_for(emu, "ada@example.com", code_challenge=challenge, code_challenge_method="S256")
    for wrong in ({}, {"code_verifier": b64e(os.urandom(32))}, {"code_verifier": challenge}):
        r = authenticate(emu, grant_type="authorization_code", code=code, **wrong)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", wrong
    r = requests.post(f"{emu}/user_management/authenticate", json={  # public client
        "grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code,
        "code_verifier": verifier})
    assert r.status_code == 200, r.text


def test_verifier_without_challenge_is_refused(emu):
    code = code_for(emu, "ada@example.com")
    r = authenticate(emu, grant_type="authorization_code", code=code, code_verifier="x" * 43)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


# ---------------------------------------------------------------- authenticate: refresh

def test_refresh_rotates_and_is_strictly_single_use(emu):
    first = mint(emu)
    r = refresh(emu, first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    sid = jwt_parts(first["access_token"])[1]["sid"]
    assert jwt_parts(second["access_token"])[1]["sid"] == sid
    assert jwt_parts(second["access_token"])[1]["jti"] != jwt_parts(first["access_token"])[1]["jti"]
    replay = refresh(emu, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "Invalid refresh token."}
    assert refresh(emu, second["refresh_token"]).status_code == 200
    c = counters(emu)
    assert (c["authenticate_refresh"], c["authenticate_errors"]) == (3, 1)


def test_refresh_grace_window_returns_same_pair(emu):
    ctl(emu, "config", {"grace": 5})
    first = mint(emu)
    a = refresh(emu, first["refresh_token"]).json()
    b = refresh(emu, first["refresh_token"]).json()
    assert a == b
    assert refresh(emu, a["refresh_token"]).status_code == 200
    ctl(emu, "reset", {})  # overrides gone: strict again
    c = mint(emu)
    refresh(emu, c["refresh_token"])
    assert refresh(emu, c["refresh_token"]).status_code == 400


def test_concurrent_refresh_has_one_winner(emu):
    token = mint(emu)["refresh_token"]
    statuses = []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        statuses.append(refresh(emu, token).status_code)
    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [400] * 7


def test_refresh_switches_organization(emu):
    first = mint(emu)
    assert jwt_parts(first["access_token"])[1]["org_id"] == ACME
    r = refresh(emu, first["refresh_token"], organization_id=GLOBEX)
    body = r.json()
    assert body["organization_id"] == GLOBEX
    claims = jwt_parts(body["access_token"])[1]
    for name, value in expected_claims("ada@example.com", GLOBEX).items():
        assert claims[name] == value, name
    # the new organization sticks on the next plain refresh
    again = refresh(emu, body["refresh_token"]).json()
    assert jwt_parts(again["access_token"])[1]["org_id"] == GLOBEX


def test_refresh_to_foreign_organization_is_403_and_keeps_token(emu):
    first = mint(emu, "linus@example.com")
    r = refresh(emu, first["refresh_token"], organization_id=ACME)
    assert r.status_code == 403
    assert r.json()["code"] == "organization_membership_not_found" and r.json()["message"]
    assert refresh(emu, first["refresh_token"]).status_code == 200


def test_refresh_wrong_secret(emu):
    first = mint(emu)
    r = refresh(emu, first["refresh_token"], client_secret="nope")
    assert r.status_code == 401
    assert refresh(emu, first["refresh_token"]).status_code == 200


# ---------------------------------------------------------------- logout

def test_logout_revokes_and_redirects(emu):
    first = mint(emu)
    sid = jwt_parts(first["access_token"])[1]["sid"]
    r = requests.get(f"{emu}/user_management/sessions/logout",
                     params={"session_id": sid, "return_to": "http://127.0.0.1:9/bye"},
                     allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "http://127.0.0.1:9/bye"
    assert refresh(emu, first["refresh_token"]).json()["error"] == "invalid_grant"
    other = mint(emu)
    r = requests.get(f"{emu}/user_management/sessions/logout",
                     params={"session_id": jwt_parts(other["access_token"])[1]["sid"]})
    assert r.status_code == 200 and "signed out" in r.text
    assert requests.get(f"{emu}/user_management/sessions/logout").status_code == 400
    assert counters(emu)["logout"] == 3


# ---------------------------------------------------------------- minted sessions

def test_minted_session_is_an_authenticate_body(emu):
    body = mint(emu, "grace@example.com", organization_id=GLOBEX)
    assert body["organization_id"] == GLOBEX
    assert body["user"]["email"] == "grace@example.com"
    assert verify_with_jwks(emu, body["access_token"])
    claims = jwt_parts(body["access_token"])[1]
    for name, value in expected_claims("grace@example.com", GLOBEX).items():
        assert claims[name] == value, name
    r = requests.post(f"{emu}/__emulator/session", json={"email": "linus@example.com",
                                                         "organization_id": ACME})
    assert r.status_code == 400
    assert requests.post(f"{emu}/__emulator/session", json={"email": "x@y"}).status_code == 400


def test_minted_expired_and_custom_ttl(emu):
    body = mint(emu, expired=True)
    claims = jwt_parts(body["access_token"])[1]
    assert claims["exp"] < time.time() and claims["iat"] < claims["exp"]
    assert claims["auth_time"] <= claims["iat"]
    assert verify_with_jwks(emu, body["access_token"])
    fresh = refresh(emu, body["refresh_token"]).json()
    assert jwt_parts(fresh["access_token"])[1]["exp"] > time.time()
    short = jwt_parts(mint(emu, token_ttl=5)["access_token"])[1]
    assert short["exp"] - short["iat"] == 5


def test_impersonated_user(emu):
    body = mint(emu, "impersonated@example.com")
    expected = USER["impersonated@example.com"]["impersonator"]
    assert body["impersonator"] == expected
    assert jwt_parts(body["access_token"])[1]["act"] == {"sub": expected["email"]}


def test_many_permissions_user(emu):
    claims = jwt_parts(mint(emu, "many@example.com")["access_token"])[1]
    assert len(claims["permissions"]) == 400
    assert claims["permissions"] == USER["many@example.com"]["memberships"][0]["permissions"]


def test_user_without_organization(emu):
    body = mint(emu, "solo@example.com")
    assert "organization_id" not in body
    claims = jwt_parts(body["access_token"])[1]
    assert not {"org_id", "role", "permissions"} & set(claims)


# ---------------------------------------------------------------- config, reset

def test_config_token_ttl_and_extra_keys(emu):
    extra = {"kty": "RSA", "kid": "extra-1", "n": "AQAB", "e": "AQAB"}
    out = ctl(emu, "config", {"token_ttl": 60, "jwks_extra_keys": [extra]})
    assert out["token_ttl"] == 60
    claims = jwt_parts(mint(emu)["access_token"])[1]
    assert claims["exp"] - claims["iat"] == 60
    assert [k["kid"] for k in jwks(emu)][-1] == "extra-1"
    r = requests.post(f"{emu}/__emulator/config", json={"token_ttl": -1})
    assert r.status_code == 400
    assert requests.post(f"{emu}/__emulator/config", json={"nope": 1}).status_code == 400


def test_reset_clears_counters_faults_overrides_but_not_keys(emu):
    kid = jwks(emu)[0]["kid"]
    ctl(emu, "fault", {"endpoint": "jwks", "status": 500})
    ctl(emu, "config", {"token_ttl": 10})
    assert requests.get(f"{emu}/sso/jwks/{CLIENT_ID}").status_code == 500
    ctl(emu, "reset", {})
    assert set(counters(emu).values()) == {0}
    assert jwks(emu)[0]["kid"] == kid
    claims = jwt_parts(mint(emu)["access_token"])[1]
    assert claims["exp"] - claims["iat"] == 300
    ctl(emu, "reset", {"keys": True})
    assert jwks(emu)[0]["kid"] != kid


# ---------------------------------------------------------------- faults

def test_fault_status_retry_after_and_count(emu):
    ctl(emu, "fault", {"endpoint": "jwks", "status": 503, "retry_after": 5, "count": 2})
    for _ in range(2):
        r = requests.get(f"{emu}/sso/jwks/{CLIENT_ID}")
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert requests.get(f"{emu}/sso/jwks/{CLIENT_ID}").status_code == 200
    assert counters(emu)["jwks"] == 3


def test_fault_forever_until_deleted(emu):
    ctl(emu, "fault", {"endpoint": "authenticate", "status": 429, "retry_after": 3})
    for _ in range(3):
        r = refresh(emu, "whatever")
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    ctl(emu, "fault", method="DELETE")
    assert refresh(emu, "whatever").json()["error"] == "invalid_grant"
    c = counters(emu)
    assert (c["authenticate_refresh"], c["authenticate_errors"]) == (4, 4)


def test_fault_endpoint_specificity(emu):
    ctl(emu, "fault", {"endpoint": "code", "status": 502})
    assert refresh(emu, mint(emu)["refresh_token"]).status_code == 200
    assert authenticate(emu, grant_type="authorization_code", code="x").status_code == 502
    ctl(emu, "fault", {"endpoint": "all", "status": 500})
    assert requests.get(f"{emu}/sso/jwks/{CLIENT_ID}").status_code == 500
    assert authenticate(emu, grant_type="authorization_code", code="x").status_code == 502


def test_fault_faulted_calls_do_not_spend_tokens(emu):
    token = mint(emu)["refresh_token"]
    ctl(emu, "fault", {"endpoint": "refresh", "status": 503, "count": 1})
    assert refresh(emu, token).status_code == 503
    assert refresh(emu, token).status_code == 200


@pytest.mark.parametrize("error,status,shape", [
    ("invalid_grant", 400, "error"),
    ("sso_required", 400, "error"),
    ("mfa_enrollment", 403, "code"),
    ("email_verification_required", 403, "code"),
])
def test_fault_error_shapes(emu, error, status, shape):
    ctl(emu, "fault", {"endpoint": "refresh", "error": error, "count": 1})
    r = refresh(emu, mint(emu)["refresh_token"])
    assert r.status_code == status
    assert r.json()[shape] == error


def test_fault_custom_body_and_status(emu):
    ctl(emu, "fault", {"endpoint": "jwks", "status": 200, "body": '{"keys":[{"kty":', "count": 1})
    r = requests.get(f"{emu}/sso/jwks/{CLIENT_ID}")
    assert r.status_code == 200 and r.content == b'{"keys":[{"kty":'
    ctl(emu, "fault", {"endpoint": "refresh", "status": 418, "body": {"x": 1}, "count": 1})
    r = refresh(emu, "t")
    assert (r.status_code, r.json()) == (418, {"x": 1})


def test_fault_drop_closes_without_answer(emu):
    ctl(emu, "fault", {"endpoint": "jwks", "drop": True, "count": 1})
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{emu}/sso/jwks/{CLIENT_ID}", timeout=5)
    assert requests.get(f"{emu}/sso/jwks/{CLIENT_ID}").status_code == 200
    assert counters(emu)["jwks"] == 2


def test_fault_delay(emu):
    ctl(emu, "fault", {"endpoint": "jwks", "delay_ms": 400, "count": 1})
    start = time.monotonic()
    r = requests.get(f"{emu}/sso/jwks/{CLIENT_ID}")
    assert time.monotonic() - start >= 0.4
    assert r.status_code == 200 and r.json()["keys"]
    start = time.monotonic()
    requests.get(f"{emu}/sso/jwks/{CLIENT_ID}")
    assert time.monotonic() - start < 0.4


@pytest.mark.parametrize("size", [5000, 1 << 20, 100])
def test_fault_size(emu, size):
    ctl(emu, "fault", {"endpoint": "jwks", "size": size, "count": 1})
    r = requests.get(f"{emu}/sso/jwks/{CLIENT_ID}")
    assert r.status_code == 200 and len(r.content) == size
    doc = json.loads(r.content)
    assert isinstance(doc, dict)
    if size > 5000:
        assert doc["keys"][0]["kid"] == jwks(emu)[0]["kid"]


def test_authenticate_logged_before_its_answer(emu):
    """A test reads the log as soon as the module has its answer: the call must be in it
    by then. The answer here is 16 MB to a client that reads nothing yet, so the
    emulator's thread stays in the middle of sending it; the entry must already be there."""
    ctl(emu, "fault", {"endpoint": "refresh", "size": 16 << 20, "status": 200, "count": 1})
    body = json.dumps({"grant_type": "refresh_token", "client_id": CLIENT_ID,
                       "refresh_token": "rt_logged_first"}).encode()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    try:
        s.connect(("127.0.0.1", int(emu.rsplit(":", 1)[1])))
        s.sendall(b"POST /user_management/authenticate HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        assert s.recv(12) == b"HTTP/1.1 200"        # answering has begun
        deadline, logged = time.monotonic() + 5, []
        while not logged and time.monotonic() < deadline:
            logged = [c for c in ctl(emu, "requests", method="GET")["requests"]
                      if c["params"].get("refresh_token") == "rt_logged_first"]
            time.sleep(0.05)
        assert [c["status"] for c in logged] == [200]
    finally:
        s.close()


def test_fault_endless_stream(emu):
    ctl(emu, "fault", {"endpoint": "jwks", "endless": True, "count": 1})
    with socket.create_connection(("127.0.0.1", int(emu.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(f"GET /sso/jwks/{CLIENT_ID} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = b""
        while len(got) < 3 << 20:
            chunk = s.recv(65536)
            assert chunk, "the endless body ended"
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"content-length" not in head.lower()
    assert body.startswith(b'{"keys":[],"padding":"xxx')
    assert requests.get(f"{emu}/sso/jwks/{CLIENT_ID}").status_code == 200


@pytest.mark.parametrize("spec", [
    {"endpoint": "nope", "status": 500},
    {"status": 500},
    {"endpoint": "jwks", "count": 0},
    {"endpoint": "jwks", "status": 42},
    {"endpoint": "jwks", "delay_ms": "slow"},
    {"endpoint": "jwks", "size": -5},
    {"endpoint": "refresh", "error": 7},
])
def test_fault_bad_specs_refused(emu, spec):
    assert requests.post(f"{emu}/__emulator/fault", json=spec).status_code == 400


# ---------------------------------------------------------------- keys and signing

def test_rotate_serves_new_and_previous(emu):
    old_kid = jwks(emu)[0]["kid"]
    before = mint(emu)["access_token"]
    new_kid = ctl(emu, "rotate", {})["kid"]
    assert new_kid != old_kid
    assert [k["kid"] for k in jwks(emu)] == [new_kid, old_kid]
    assert verify_with_jwks(emu, before)
    after = mint(emu)["access_token"]
    assert jwt_parts(after)[0]["kid"] == new_kid and verify_with_jwks(emu, after)
    assert ctl(emu, "keys", method="GET")["previous_kid"] == old_kid
    third = ctl(emu, "rotate", {"drop_previous": True})["kid"]
    assert [k["kid"] for k in jwks(emu)] == [third]
    assert not verify_with_jwks(emu, after)


def sign(emu, **spec):
    return ctl(emu, "sign", spec)["token"]


def test_sign_current_verifies_with_published_key(emu):
    claims = {"sub": "user_x", "custom": [1, 2]}
    token = sign(emu, key="current", claims=claims)
    header, got, _ = jwt_parts(token)
    assert got == claims
    assert header == {"alg": "RS256", "kid": jwks(emu)[0]["kid"], "typ": "JWT"}
    pem = serialization.load_pem_public_key(ctl(emu, "keys", method="GET")["public_pem"].encode())
    assert rs256_verifies(token, pem) and verify_with_jwks(emu, token)


def test_sign_rogue_does_not_verify(emu):
    kid = jwks(emu)[0]["kid"]
    rogue = sign(emu, key="rogue", claims={"sub": "x"})
    assert jwt_parts(rogue)[0]["kid"] == "rogue"
    assert not verify_with_jwks(emu, rogue)
    disguised = sign(emu, key="rogue", claims={"sub": "x"}, header={"kid": kid})
    assert jwt_parts(disguised)[0]["kid"] == kid
    assert not verify_with_jwks(emu, disguised)


def test_sign_none_and_hs256(emu):
    none = sign(emu, key="none", claims={"sub": "x"})
    assert none.endswith(".") and jwt_parts(none)[0]["alg"] == "none"
    hs = sign(emu, key="hs256:s3cret", claims={"sub": "x"})
    signing_input, _, sig = hs.rpartition(".")
    assert jwt_parts(hs)[0]["alg"] == "HS256"
    assert hmac.compare_digest(b64d(sig), hmac.new(b"s3cret", signing_input.encode(),
                                                   hashlib.sha256).digest())
    assert not verify_with_jwks(emu, hs)


def test_sign_raw_header_claims_and_user_base(emu):
    raw_h = '{"alg":"RS256","alg":"none","kid":"k"}'
    raw_c = '{"sub":"a","sub":"b"}'
    token = sign(emu, key="current", raw_header=raw_h, raw_claims=raw_c)
    h, c, _ = token.split(".")
    assert b64d(h).decode() == raw_h and b64d(c).decode() == raw_c
    based = sign(emu, key="current", user="grace@example.com", claims={"role": "x", "jti": None})
    claims = jwt_parts(based)[1]
    assert claims["sub"] == USER["grace@example.com"]["id"] and claims["org_id"] == ACME
    assert claims["role"] == "x" and "jti" not in claims
    assert verify_with_jwks(emu, based)
    header_override = sign(emu, key="current", claims={}, header={"typ": None, "x": 1})
    assert jwt_parts(header_override)[0] == {"alg": "RS256", "kid": jwks(emu)[0]["kid"], "x": 1}


def test_sign_previous_and_bad_keys(emu):
    assert requests.post(f"{emu}/__emulator/sign",
                         json={"key": "previous", "claims": {}}).status_code == 400
    old_kid = jwks(emu)[0]["kid"]
    ctl(emu, "rotate", {})
    prev = sign(emu, key="previous", claims={"sub": "x"})
    assert jwt_parts(prev)[0]["kid"] == old_kid and verify_with_jwks(emu, prev)
    assert requests.post(f"{emu}/__emulator/sign",
                         json={"key": "bogus", "claims": {}}).status_code == 400
    assert requests.post(f"{emu}/__emulator/sign", json={"key": "current"}).status_code == 400


# ---------------------------------------------------------------- request log

def test_request_log_never_keeps_the_secret(emu):
    refresh(emu, "tok-1", organization_id=GLOBEX, ip_address="127.0.0.9", user_agent="ua/1")
    entry = ctl(emu, "requests", method="GET")["requests"][-1]
    assert entry["grant_type"] == "refresh_token" and entry["status"] == 400
    assert entry["params"]["organization_id"] == GLOBEX
    assert entry["params"]["ip_address"] == "127.0.0.9"
    assert entry["params"]["client_secret_ok"] is True
    assert API_KEY not in json.dumps(entry)


# ---------------------------------------------------------------- the real SDK

def test_real_node_sdk_against_emulator(emu):
    r = subprocess.run(["/usr/bin/node", SDK_SCRIPT, emu], capture_output=True, text=True,
                       timeout=180, cwd=ROOT)
    lines = r.stdout.splitlines()
    result_lines = [l for l in lines if l.startswith("RESULT ")]
    assert len(result_lines) == 1, r.stdout + r.stderr
    result = json.loads(result_lines[0][len("RESULT "):])
    failures = [c for c in result["checks"] if not c["ok"]]
    assert failures == [], "\n".join(c["name"] + ": " + c["error"] for c in failures)
    assert r.returncode == 0
    assert result["passed"] == len(result["checks"]) >= 25
    assert sum(1 for l in lines if l.startswith("ok - ")) == result["passed"]
    # The emulator counted exactly what the SDK side saw itself send.
    c = counters(emu)
    assert {k: c[k] for k in result["observed"]} == result["observed"]
    # The SDK checks call no sessions endpoint; the emulator's counts of those stay 0.
    assert {k: v for k, v in c.items() if k not in result["observed"]} \
        == {"sessions_list": 0, "sessions_revoke": 0}
    c = result["observed"]
    assert c["logout"] == 1 and c["jwks"] >= 5
    assert c["authenticate_code"] >= 10 and c["authenticate_refresh"] >= 15
    assert c["authenticate_errors"] >= 10
