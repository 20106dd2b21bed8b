# SPDX-License-Identifier: Apache-2.0
"""Rotation: of the cookie password (WorkOSCookiePassword new old: the old one
still opens cookies, every cookie written uses the new one) and of WorkOS's
signing key (a token with a new kid makes the module refetch the JWKS once)."""
import pytest

import flowlib as fl
from harness import client
from harness.cookies import iron_unseal, jwt_claims, jwt_header


SITE_ROTATION = True


def get(h, cookie):
    return client.request(h, "GET", "/private/env.cgi", headers=client.BROWSER,
                          cookie=f"{fl.SESSION}={cookie}")


def test_cookie_sealed_with_the_old_password_is_accepted(site, make_session, creds):
    s = make_session("grace@example.com", password=creds.old_password)
    with pytest.raises(ValueError):
        iron_unseal(creds.password, s.cookie)          # really the old password's
    r = get(site, s.cookie)
    env = fl.check_identity(r, "grace@example.com")
    assert env["WORKOS_SESSION_ID"] == s.claims["sid"]
    assert fl.session_cookies(r) == []


def test_refresh_reseals_with_the_first_password_only(site, emulator, make_session, creds,
                                                      secrets):
    s = make_session("ada@example.com", expired=True, password=creds.old_password)
    r = get(site, s.cookie)
    fl.check_identity(r, "ada@example.com")
    value = fl.assembled(r)
    secrets.add("cookie", value)
    new = fl.unseal_session(value, creds.password)
    assert new["refreshToken"] != s.auth["refresh_token"]
    assert jwt_claims(new["accessToken"])["sid"] == s.claims["sid"]
    with pytest.raises(ValueError, match="bad MAC"):
        iron_unseal(creds.old_password, value)
    # The SDK configured with the new password accepts it too.
    assert fl.sdk_authenticate(emulator, creds.password, value)["authenticated"] is True


def test_cookie_under_an_unknown_password_is_refused(site, emulator, make_session):
    s = make_session("ada@example.com", password="an-unrelated-password-" + "z" * 20)
    r = get(site, s.cookie)
    assert r.status_code == 302
    assert client.location_query(r)[0] == emulator.url + "/user_management/authorize"
    assert client.cleared(r, fl.SESSION) is not None


def test_without_rotation_the_old_password_is_refused(httpd_factory, emulator, creds,
                                                      make_session):
    h = fl.new_httpd(httpd_factory, "no-rotation")
    h.start(fl.site(h, fl.server_conf(emulator, creds)))
    s = make_session("ada@example.com", password=creds.old_password)
    r = client.request(h, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={s.cookie}")
    assert r.status_code == 401 and client.cleared(r, fl.SESSION) is not None
    h.stop()


def test_signing_key_rotation_refetches_the_jwks_once(httpd_factory, emulator, make_session,
                                                      creds):
    h = fl.new_httpd(httpd_factory, "keys")
    h.start(fl.site(h, fl.server_conf(emulator, creds)))
    emulator.reset()
    first_kid = emulator.keys()["current_kid"]
    before = make_session("ada@example.com")
    assert jwt_header(before.token)["kid"] == first_kid
    fl.check_identity(get(h, before.cookie), "ada@example.com")
    assert emulator.counters()["jwks"] == 1

    new_kid = emulator.rotate()["kid"]
    assert new_kid != first_kid
    after = make_session("grace@example.com")
    assert jwt_header(after.token)["kid"] == new_kid
    fl.check_identity(get(h, after.cookie), "grace@example.com")
    assert emulator.counters()["jwks"] == 2
    # Every child now knows the new key (from the shared cache), and the old
    # key, still published, keeps working: no further fetch.
    for _ in range(8):
        fl.check_identity(get(h, after.cookie), "grace@example.com")
        fl.check_identity(get(h, before.cookie), "ada@example.com")
    assert emulator.counters()["jwks"] == 2
    h.stop()


def test_token_with_an_unpublished_kid_is_not_believed(httpd_factory, emulator, creds, sealer,
                                                       secrets):
    """The other side of refetching: a kid nobody publishes is not believed.
    Inside a seal of ours it is no sign-out either: WorkOS decides (a
    refresh), and the refreshed session is what is served and stored."""
    h = fl.new_httpd(httpd_factory, "keys-rogue")
    h.start(fl.site(h, fl.server_conf(emulator, creds)))
    auth = emulator.session("ada@example.com")
    claims = jwt_claims(auth["access_token"])
    rogue = emulator.sign({}, claims, key="rogue")
    secrets.add("forged token", rogue)
    cookie = sealer.seal_auth(dict(auth, access_token=rogue))
    before = emulator.counters()["authenticate_refresh"]
    r = client.request(h, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={cookie}")
    fl.check_identity(r, "ada@example.com")
    assert emulator.counters()["authenticate_refresh"] == before + 1
    value = fl.assembled(r)
    secrets.add("cookie set by the module", value)
    new = fl.unseal_session(value, creds.password)
    assert new["accessToken"] != rogue
    assert jwt_header(new["accessToken"])["kid"] == emulator.keys()["current_kid"]
    assert client.cleared(r, fl.SESSION) is None
    h.stop()
