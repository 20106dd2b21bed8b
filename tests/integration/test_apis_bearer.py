"""WorkOSAcceptBearer: Authorization: Bearer <WorkOS access token> through a
real httpd. Tokens come from the AuthKit emulator (its sessions, and its
/__emulator/sign for forged ones); expected identities from users.json and
from decoding the tokens here. A bad token is a 401 with an RFC 6750
challenge, never a sign-in redirect nor the cookie's identity."""
import re
import time

import pytest
import requests

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client
from harness.cookies import jwt_claims

ADA, GRACE = "ada@example.com", "grace@example.com"
BEARER_401 = re.compile(r'Bearer realm="api", error="invalid_token"')


@pytest.fixture(scope="module")
def issuer(emulator):
    return jwt_claims(emulator.session(ADA)["access_token"])["iss"]


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds, issuer):
    h = fl.new_httpd(httpd_factory, "bearer")
    api = ("AuthType WorkOS", "AuthName api", "WorkOSAcceptBearer On", "WorkOSRemoteUser id")
    conf = (fl.server_conf(emulator, creds, f"WorkOSIssuer {issuer}")
            + h.cgi_location("/api/", *api, "Require valid-user")
            + h.cgi_location("/api-admin/", *api, "Require workos-permission users:manage")
            + h.cgi_location("/api-noskew/", *api, "WorkOSClockSkew 0", "Require valid-user")
            + h.cgi_location("/open/", *api, "WorkOSUnauthAction pass", "Require all granted")
            + h.cgi_location("/cookie-only/", "AuthType WorkOS", "Require valid-user"))
    h.start(conf)
    return h


def token_for(emulator, secrets, email=ADA, **kw):
    tok = emulator.session(email, **kw)["access_token"]
    secrets.add("access token", tok)
    return tok


def signed(emulator, secrets, email=ADA, claims=None, key="current", header=None,
           raw_header=None):
    body = {"user": email, "claims": claims or {}, "key": key, "header": header or {}}
    if raw_header is not None:
        body["raw_header"] = raw_header
    tok = emulator.ctl("sign", body)["token"]
    secrets.add("forged token", tok)
    return tok


def bearer(site, path, token, navigate=False, cookie=None):
    h = dict(client.BROWSER if navigate else client.API)
    h["Authorization"] = f"Bearer {token}"
    return client.get(site, path, headers=h, cookie=cookie)


def refused(r):
    assert r.status_code == 401, f"{r.status_code}: {r.text[:300]}"
    assert BEARER_401.search(r.headers.get("WWW-Authenticate", "")), r.headers
    assert "Location" not in r.headers
    assert client.set_cookies(r) == []


def test_valid_token(site, emulator, secrets):
    tok = token_for(emulator, secrets)
    claims = jwt_claims(tok)
    r = bearer(site, "/api/env.cgi", tok)
    assert r.status_code == 200, r.text[:300]
    env = client.cgi_env(r)
    assert env["REMOTE_USER"] == fl.user(ADA)["id"] == claims["sub"]
    assert env["AUTH_TYPE"] == "WorkOS"
    assert env["WORKOS_AUTH_SOURCE"] == "bearer"
    assert env["WORKOS_USER_ID"] == claims["sub"]
    assert env["WORKOS_SESSION_ID"] == claims["sid"]
    assert env["WORKOS_ORGANIZATION_ID"] == claims["org_id"] == fl.ACME
    assert env["WORKOS_PERMISSIONS"] == ",".join(claims["permissions"])
    assert env["WORKOS_ACCESS_TOKEN_EXPIRES"] == str(claims["exp"])
    assert "WORKOS_USER_EMAIL" not in env          # WorkOS tokens carry no email
    assert client.set_cookies(r) == []              # no cookie is written
    assert "Authorization" in r.headers.get("Vary", "")
    assert "no-store" in r.headers.get("Cache-Control", "")


def test_email_only_from_a_claim(site, emulator, secrets):
    tok = signed(emulator, secrets, claims={"email": "ada@example.com"})
    env = client.cgi_env(bearer(site, "/api/env.cgi", tok))
    assert env["WORKOS_USER_EMAIL"] == "ada@example.com"


def test_cached_token_still_checked_for_expiry(site, emulator, secrets):
    tok = token_for(emulator, secrets, GRACE, token_ttl=3)
    before = site.log_size()
    with requests.Session() as keepalive:      # one connection: one child
        for _ in range(2):
            r = keepalive.get(site.url + "/api-noskew/env.cgi", timeout=30,
                              headers=dict(client.API, Authorization=f"Bearer {tok}"))
            assert r.status_code == 200
    assert "valid bearer token (cached)" in site.log_since(before)
    while time.time() <= jwt_claims(tok)["exp"] + 1:
        time.sleep(0.5)
    refused(bearer(site, "/api-noskew/env.cgi", tok))


def test_expired_token(site, emulator, secrets):
    tok = token_for(emulator, secrets, expired=True)
    refused(bearer(site, "/api/env.cgi", tok))
    # A browser navigation with a bad token is not sent to sign in either.
    refused(bearer(site, "/api/env.cgi", tok, navigate=True))


def test_wrong_issuer(site, emulator, secrets, issuer):
    refused(bearer(site, "/api/env.cgi",
                   signed(emulator, secrets, claims={"iss": issuer + "x"})))
    refused(bearer(site, "/api/env.cgi", signed(emulator, secrets, claims={"iss": None})))


def test_wrong_key(site, emulator, secrets):
    refused(bearer(site, "/api/env.cgi", signed(emulator, secrets, key="rogue")))
    # the current kid, signed by another key
    kid = emulator.keys()["current_kid"]
    refused(bearer(site, "/api/env.cgi",
                   signed(emulator, secrets, key="rogue", header={"kid": kid})))


@pytest.mark.parametrize("game", ["none", "hs256", "rs512", "no-alg", "jku", "garbage"])
def test_alg_games(site, emulator, secrets, game):
    kid = emulator.keys()["current_kid"]
    if game == "none":
        tok = signed(emulator, secrets, key="none")
    elif game == "hs256":
        # HMAC keyed with the public JWK's text: the classic confusion attack.
        tok = signed(emulator, secrets, key="hs256:" + emulator.keys()["public_pem"])
    elif game == "rs512":
        tok = signed(emulator, secrets, header={"alg": "RS512"})
    elif game == "no-alg":
        tok = signed(emulator, secrets, raw_header='{"kid":"%s","typ":"JWT"}' % kid)
    elif game == "jku":
        tok = signed(emulator, secrets, header={"jku": "http://127.0.0.1:1/jwks"})
    else:
        tok = "not.a.jwt"
    refused(bearer(site, "/api/env.cgi", tok))


def test_malformed_header_is_invalid_request(site):
    r = client.get(site, "/api/env.cgi", headers=dict(client.API, Authorization="Bearer a b"))
    assert r.status_code == 401
    assert 'error="invalid_request"' in r.headers["WWW-Authenticate"]


def test_bad_bearer_never_falls_back_to_the_cookie(site, emulator, secrets, make_session):
    good_cookie = f"{fl.SESSION}={make_session(GRACE).cookie}"
    assert client.get(site, "/api/env.cgi", headers=client.API,
                      cookie=good_cookie).status_code == 200
    bad = token_for(emulator, secrets, expired=True)
    refused(bearer(site, "/api/env.cgi", bad, cookie=good_cookie))
    refused(bearer(site, "/open/env.cgi", bad, cookie=good_cookie))


def test_good_bearer_wins_and_the_cookie_is_not_touched(site, emulator, secrets):
    tok = token_for(emulator, secrets, ADA)
    r = bearer(site, "/api/env.cgi", tok, cookie=f"{fl.SESSION}=garbage-that-would-be-cleared")
    assert r.status_code == 200
    assert client.cgi_env(r)["REMOTE_USER"] == fl.user(ADA)["id"]
    assert client.set_cookies(r) == []


@pytest.mark.expect_log(r"AH01631: user user_01GRACE\w+: authorization failure")
def test_require_workos_permission(site, emulator, secrets):
    r = bearer(site, "/api-admin/env.cgi", token_for(emulator, secrets, ADA))
    assert r.status_code == 200
    r = bearer(site, "/api-admin/env.cgi", token_for(emulator, secrets, GRACE))
    assert r.status_code == 401
    assert 'Bearer realm="api", error="insufficient_scope"' in r.headers["WWW-Authenticate"]


def test_no_token_is_challenged_with_both_schemes(site):
    r = client.get(site, "/api/env.cgi", headers=client.API)
    assert r.status_code == 401
    challenges = r.raw.headers.getlist("WWW-Authenticate")
    assert 'WorkOS realm="api"' in challenges and 'Bearer realm="api"' in challenges


def test_optional_location_passes_anonymous_and_identifies_bearer(site, emulator, secrets):
    assert "REMOTE_USER" not in client.cgi_env(client.get(site, "/open/env.cgi",
                                                          headers=client.API))
    env = client.cgi_env(bearer(site, "/open/env.cgi", token_for(emulator, secrets)))
    assert env["WORKOS_AUTH_SOURCE"] == "bearer"


def test_bearer_off_ignores_the_token(site, emulator, secrets):
    r = bearer(site, "/cookie-only/env.cgi", token_for(emulator, secrets))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="WorkOS"'


def test_forged_auth_source_header_is_scrubbed(site, emulator, secrets):
    h = dict(client.API, Authorization="Bearer " + token_for(emulator, secrets))
    h["X-WorkOS-Auth-Source"] = "forged"
    env = client.cgi_env(client.get(site, "/api/env.cgi", headers=h))
    assert env["WORKOS_AUTH_SOURCE"] == "bearer" and "HTTP_X_WORKOS_AUTH_SOURCE" not in env


def test_configtest_refuses_bearer_without_issuer(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "bearer-configtest")
    conf = fl.server_conf(emulator, creds) + h.cgi_location(
        "/api/", "AuthType WorkOS", "WorkOSAcceptBearer On", "Require valid-user")
    rc, out = h.configtest(conf)
    assert rc != 0 and "WOS01606" in out and "needs WorkOSIssuer" in out, out
    rc, out = h.configtest(conf.replace("WorkOSAcceptBearer On",
                                        "WorkOSAcceptBearer On\n    WorkOSIssuer https://x"))
    assert rc == 0, out
