# SPDX-License-Identifier: Apache-2.0
"""The session cookie: seals written by the Node SDK, iron-session, sealtool
and an independent Python iron implementation are accepted; every kind of
broken, tampered, foreign or undecodable cookie is refused (302 for a
browser, 401 for an API client) with a Set-Cookie that clears it, never a
500; the cookie directives show in that Set-Cookie; chunked cookies; a
custom cookie name; password rotation."""
import time

import pytest

from harness.client import api, browser, cgi_env, cleared, set_cookies
from harness.cookies import now_ms, sdk_session
from harness.emulator import org_id
from hostile import flip, seal_part

ACME = org_id("Acme")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    auth = ("AuthType WorkOS", "Require valid-user")
    loc = h.cgi_location
    conf = (wos_server_conf
            + loc("/c/", *auth)
            + loc("/attrs/", *auth, "WorkOSCookieDomain example.test", "WorkOSCookiePath /attrs/",
                  "WorkOSCookieSameSite Strict", "WorkOSCookieSecure Off")
            + loc("/ssnone/", *auth, "WorkOSCookieSameSite None", "WorkOSCookieSecure On")
            + loc("/sslax/", *auth, "WorkOSCookieSameSite Lax")
            + loc("/ssnone-insecure/", *auth, "WorkOSCookieSameSite None", "WorkOSCookieSecure Off")
            + loc("/named/", *auth, "WorkOSCookieName app_session")
            + loc("/rot/", *auth, "WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD "
                  "env:WOS_IT_OLD_PASSWORD")
            + loc("/old-only/", *auth, "WorkOSCookiePassword env:WOS_IT_OLD_PASSWORD"))
    return h.start(conf)


def ok_as(r, email):
    env = cgi_env(r)
    assert env["WORKOS_USER_EMAIL"] == email
    assert env["REMOTE_USER"] == env["WORKOS_USER_ID"]
    return env


# ---- accepted --------------------------------------------------------------

def test_cookie_sealed_by_sealtool_is_accepted(site, make_session):
    s = make_session("ada@example.com")
    ok_as(api(site, "/c/env.cgi", session=s), "ada@example.com")


def test_cookie_sealed_by_the_node_sdk_is_accepted(site, make_session):
    s = make_session("grace@example.com", org=ACME, how="node")
    env = ok_as(api(site, "/c/env.cgi", session=s), "grace@example.com")
    assert env["WORKOS_ORGANIZATION_ID"] == ACME
    assert env["WORKOS_USER_FIRST_NAME"] == "Grace"


def test_cookie_sealed_by_iron_session_with_expiry_is_accepted(site, emulator, sealer, secrets):
    auth = emulator.session("linus@example.com")
    secrets.add("access token", auth["access_token"])
    secrets.add("refresh token", auth["refresh_token"])
    cookie = sealer.node("iron", data=sdk_session(auth), ttl=3600)
    assert cookie.split("*")[5] != ""       # iron-session wrote an expiry
    ok_as(api(site, "/c/env.cgi", cookie=f"wos-session={cookie}"), "linus@example.com")


def test_cookie_sealed_by_independent_python_iron_is_accepted(site, make_session):
    s = make_session("ada@example.com", how="python")
    ok_as(api(site, "/c/env.cgi", session=s), "ada@example.com")


def test_seal_without_version_suffix_is_read_as_the_session(site, emulator, sealer, secrets):
    auth = emulator.session("ada@example.com")
    secrets.add("access token", auth["access_token"])
    cookie = sealer.iron(sdk_session(auth), suffix="")
    ok_as(api(site, "/c/env.cgi", cookie=f"wos-session={cookie}"), "ada@example.com")


def test_cookie_among_other_cookies(site, make_session):
    s = make_session("ada@example.com")
    r = api(site, "/c/env.cgi", cookie=f"a=1; wos-session={s.cookie}; b=2")
    ok_as(r, "ada@example.com")


# ---- refused ---------------------------------------------------------------

def bad_cookies(s, sealer, emulator, old_password):
    """name -> cookie value that must not yield a session."""
    good = s.cookie
    data = sdk_session(s.auth)
    other_user = dict(data, user=dict(data["user"], id="user_01SOMEONEELSE000000000000"))
    kid = emulator.keys()["current_kid"]
    none_token = emulator.sign({"alg": "none", "typ": "JWT"}, s.claims, key="none")
    pem = emulator.keys()["public_pem"]
    hs_token = emulator.sign({"alg": "HS256", "kid": kid, "typ": "JWT"}, s.claims,
                             key="hs256:" + pem)
    rogue = emulator.sign({"alg": "RS256", "kid": kid, "typ": "JWT"}, s.claims, key="rogue")
    tampered_token = s.token[:-10] + ("A" * 10 if not s.token.endswith("A" * 10) else "B" * 10)
    for t in (none_token, hs_token, rogue, tampered_token):
        sealer.secrets.add("forged token", t)
    return {
        "tampered-ciphertext": seal_part(good, 4, lambda p: flip(p, len(p) // 2)),
        "tampered-iv": seal_part(good, 3, lambda p: flip(p, 3)),
        "tampered-mac": seal_part(good, 7, lambda p: flip(p, 5)),
        "tampered-salt": seal_part(good, 2, lambda p: flip(p, 0)),
        "wrong-password": sealer.iron(data, password="x" * 40),
        "old-password-not-configured": sealer.iron(data, password=old_password),
        "truncated-half": good[: len(good) // 2],
        "truncated-end": good[:-7],
        "garbage": "not-a-seal-at-all",
        "empty": "",
        "star-soup": "Fe26.2*" + "*" * 10,
        "wrong-version": "Fe26.1" + good[6:],
        "extra-part": good[:-2] + "*extra~2",
        "huge": "A" * 30000,
        "expired-seal": sealer.iron(data, exp_ms=now_ms() - 120_000),
        "not-json": sealer.iron("this is not json"),
        "json-array": sealer.iron("[1,2,3]"),
        "json-string": sealer.iron('"session"'),
        "no-access-token": sealer.iron({k: v for k, v in data.items() if k != "accessToken"}),
        "no-user": sealer.iron({k: v for k, v in data.items() if k != "user"}),
        "token-not-a-jwt": sealer.iron(dict(data, accessToken="a.b.c")),
        "token-number": sealer.iron(dict(data, accessToken=12345)),
        "user-id-differs-from-sub": sealer.iron(other_user),
        "alg-none-token": sealer.iron(dict(data, accessToken=none_token)),
        "hs256-with-public-key": sealer.iron(dict(data, accessToken=hs_token)),
        "signed-by-rogue-key-with-real-kid": sealer.iron(dict(data, accessToken=rogue)),
        "token-signature-tampered": sealer.iron(dict(data, accessToken=tampered_token)),
    }


@pytest.fixture(scope="module")
def bad(make_session, sealer, emulator, creds):
    s = make_session("ada@example.com", org=ACME)
    return bad_cookies(s, sealer, emulator, creds.old_password)


BAD_NAMES = ["tampered-ciphertext", "tampered-iv", "tampered-mac", "tampered-salt",
             "wrong-password", "old-password-not-configured", "truncated-half", "truncated-end",
             "garbage", "empty", "star-soup", "wrong-version", "extra-part", "huge",
             "expired-seal", "not-json", "json-array", "json-string", "no-access-token",
             "no-user", "token-number"]
# A seal that opens with the password is ours: its token, whatever is wrong with
# it, is not believed, and not a reason to sign out either. WorkOS decides (a
# refresh with the session's refresh token), and its answer is what is served.
REFRESHED_NAMES = ["token-not-a-jwt", "user-id-differs-from-sub", "alg-none-token",
                   "hs256-with-public-key", "signed-by-rogue-key-with-real-kid",
                   "token-signature-tampered"]


def test_bad_cookie_list_is_complete(bad):
    assert sorted(bad) == sorted(BAD_NAMES + REFRESHED_NAMES)


@pytest.mark.parametrize("kind", ["api", "browser"])
@pytest.mark.parametrize("name", REFRESHED_NAMES)
def test_bad_token_in_a_valid_seal_is_refreshed(site, make_session, sealer, emulator, creds,
                                               name, kind):
    s = make_session("ada@example.com", org=ACME)      # a refresh token of its own
    cookie = bad_cookies(s, sealer, emulator, creds.old_password)[name]
    before = emulator.counters()["authenticate_refresh"]
    r = (api if kind == "api" else browser)(site, "/c/env.cgi", cookie=f"wos-session={cookie}")
    ok_as(r, "ada@example.com")
    new = [v for n, v, a in set_cookies(r) if n == "wos-session" and v]
    assert len(new) == 1 and cleared(r) is None
    sealer.secrets.add("cookie set by the module", new[0])
    assert emulator.counters()["authenticate_refresh"] == before + 1


def assert_default_clear(r):
    attrs = cleared(r)
    assert attrs is not None, f"no Set-Cookie clearing wos-session: {set_cookies(r)}"
    assert attrs.get("path") == "/"
    assert attrs.get("httponly") is True
    assert attrs.get("secure") is True
    assert attrs.get("samesite", "").lower() == "lax"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_cookie_api_gets_401_and_the_cookie_cleared(site, bad, name):
    r = api(site, "/c/env.cgi", cookie=f"wos-session={bad[name]}")
    assert r.status_code == 401, r.text[:200]
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="WorkOS"'
    if name != "empty":
        assert_default_clear(r)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_cookie_browser_is_sent_to_sign_in_and_the_cookie_cleared(site, emulator, bad, name):
    r = browser(site, "/c/env.cgi", cookie=f"wos-session={bad[name]}")
    assert r.status_code == 302, r.text[:200]
    assert r.headers["Location"].startswith(f"{emulator.url}/user_management/authorize?")
    if name != "empty":
        assert_default_clear(r)


def test_duplicate_session_cookie_is_refused(site, make_session):
    a, b = make_session("ada@example.com"), make_session("grace@example.com")
    r = api(site, "/c/env.cgi", cookie=f"wos-session={a.cookie}; wos-session={b.cookie}")
    assert r.status_code == 401


# ---- cookie attributes -----------------------------------------------------

def test_cookie_directives_show_in_the_clearing_set_cookie(site):
    r = api(site, "/attrs/env.cgi", cookie="wos-session=garbage-value")
    assert r.status_code == 401
    attrs = cleared(r)
    assert attrs is not None, set_cookies(r)
    assert attrs.get("path") == "/attrs/"
    assert attrs.get("domain") in ("example.test", ".example.test")
    assert attrs.get("samesite", "").lower() == "strict"
    assert "secure" not in attrs
    assert attrs.get("httponly") is True


@pytest.mark.parametrize("path,samesite", [("/ssnone/", "none"), ("/sslax/", "lax"),
                                           # browsers drop SameSite=None without Secure
                                           ("/ssnone-insecure/", "none")])
def test_samesite_values(site, path, samesite):
    attrs = cleared(api(site, path + "env.cgi", cookie="wos-session=garbage-value"))
    assert attrs is not None
    assert attrs.get("samesite", "").lower() == samesite
    assert attrs.get("secure") is True


def test_custom_cookie_name(site, make_session):
    s = make_session("ada@example.com")
    assert api(site, "/named/env.cgi", session=s).status_code == 401
    ok_as(api(site, "/named/env.cgi", cookie=f"app_session={s.cookie}"), "ada@example.com")
    r = api(site, "/named/env.cgi", cookie="app_session=garbage-value")
    assert r.status_code == 401
    assert cleared(r, "app_session") is not None
    assert cleared(r, "wos-session") is None


# ---- rotation --------------------------------------------------------------

def test_password_rotation(site, make_session, creds):
    new = make_session("ada@example.com")
    old = make_session("grace@example.com", password=creds.old_password)
    ok_as(api(site, "/rot/env.cgi", session=new), "ada@example.com")
    ok_as(api(site, "/rot/env.cgi", session=old), "grace@example.com")
    assert api(site, "/c/env.cgi", session=old).status_code == 401
    assert api(site, "/old-only/env.cgi", session=new).status_code == 401
    ok_as(api(site, "/old-only/env.cgi", session=old), "grace@example.com")


# ---- chunks ----------------------------------------------------------------

def chunks(value, size=3800):
    return [value[i:i + size] for i in range(0, len(value), size)]


@pytest.fixture(scope="module")
def many(make_session):
    s = make_session("many@example.com")
    assert len(s.claims["permissions"]) == 400
    assert len(s.cookie) > 3800 * 2
    return s


def test_chunked_cookie_is_assembled(site, many):
    parts = chunks(many.cookie)
    assert 2 < len(parts) <= 16
    header = "; ".join(f"wos-session.{i}={p}" for i, p in enumerate(parts))
    env = ok_as(api(site, "/c/env.cgi", cookie=header), "many@example.com")
    assert env["WORKOS_PERMISSIONS"].split(",") == many.claims["permissions"]


def test_chunks_in_any_order_are_assembled_by_index(site, many):
    parts = chunks(many.cookie)
    header = "; ".join(f"wos-session.{i}={p}" for i, p in reversed(list(enumerate(parts))))
    ok_as(api(site, "/c/env.cgi", cookie=header), "many@example.com")


def test_chunked_cookie_with_a_gap_is_refused_and_cleared(site, many):
    parts = chunks(many.cookie)
    header = "; ".join(f"wos-session.{i}={p}" for i, p in enumerate(parts) if i != 1)
    r = api(site, "/c/env.cgi", cookie=header)
    assert r.status_code == 401
    names = {n for n, _, a in set_cookies(r) if cleared(r, n) is not None}
    assert "wos-session.0" in names
    assert f"wos-session.{len(parts) - 1}" in names


def test_session_expiry_variable_is_the_token_exp(site, make_session):
    s = make_session("ada@example.com", ttl=600)
    env = ok_as(api(site, "/c/env.cgi", session=s), "ada@example.com")
    assert int(env["WORKOS_ACCESS_TOKEN_EXPIRES"]) == s.claims["exp"]
    assert abs(s.claims["exp"] - (time.time() + 600)) < 30
