# SPDX-License-Identifier: Apache-2.0
"""Chunked session cookies: the 400-permission user's session (well over
12 KB) is split into wos-session.0..N within the chunk size, read back whole,
refreshed whole; moving between a chunked and an unchunked session deletes
the names the new one does not use. httpd runs with LimitRequestFieldSize
65536 (the harness's base configuration) for such Cookie headers."""
import pytest

import flowlib as fl
from harness import client

MANY = "many@example.com"


def test_site_takes_large_cookie_headers(site):
    assert "LimitRequestFieldSize 65536" in (site.dir / "conf" / "httpd.conf").read_text()


def chunk_names(resp):
    return sorted((n for n, _, _ in fl.session_cookies(resp)),
                  key=lambda n: (len(n), n))


def check_chunks(resp, size):
    """The response stores the session as .0..N-1, each within size; N returned."""
    cookies = fl.session_cookies(resp)
    names = [n for n, _, _ in cookies]
    n = len(names)
    assert n >= 2 and sorted(names) == sorted(f"{fl.SESSION}.{i}" for i in range(n)), names
    for name, value, attrs in cookies:
        assert 0 < len(value) <= size, f"{name}: {len(value)} bytes"
        assert len(name) + 1 + len(value) <= 4096      # what browsers store per cookie
        assert attrs["path"] == "/" and attrs.get("httponly") is True
    return n


def all_permissions(env):
    want = fl.membership(MANY)["permissions"]
    assert len(want) == 400
    assert env["WORKOS_PERMISSIONS"].split(",") == want


@pytest.mark.parametrize("chunk_size", [None, 1500])
def test_large_session_is_chunked_and_read_back(httpd_factory, emulator, creds, secrets,
                                                chunk_size):
    h = fl.new_httpd(httpd_factory, f"chunking-{chunk_size}")
    extra = [f"WorkOSCookieChunkSize {chunk_size}"] if chunk_size else []
    h.start(fl.site(h, fl.server_conf(emulator, creds, *extra)))
    b = fl.Browser(h, secrets, creds.password)
    s = fl.sign_in(b, emulator, "/private/env.cgi", MANY)
    assert s.done.status_code == 302
    n = check_chunks(s.done, chunk_size or 3800)
    value = fl.assembled(s.done)
    assert len(value) > 12 * 1024
    assert n == -(-len(value) // (chunk_size or 3800))     # as few chunks as fit
    sess = fl.unseal_session(value, creds.password)
    assert len(fl.jwt_claims(sess["accessToken"])["permissions"]) == 400
    assert fl.session_deletions(s.done) == []             # nothing was there before
    r = b.nav("/private/env.cgi")
    assert len(r.request.headers["Cookie"]) > 12 * 1024
    env = fl.check_identity(r, MANY)
    all_permissions(env)
    assert fl.session_cookies(r) == []
    # The real SDK accepts the reassembled value.
    a = fl.sdk_authenticate(emulator, creds.password, value)
    assert a["authenticated"] is True and len(a["permissions"]) == 400
    h.stop()


def test_missing_chunk_is_no_session(site, browser, emulator):
    fl.sign_in(browser, emulator, "/private/env.cgi", MANY)
    names = browser.jar.names(fl.SESSION + ".")
    assert len(names) >= 2
    pairs = [f"{n}={browser.jar.value(n)}" for n in names if n != f"{fl.SESSION}.1"]
    r = browser.api("/private/env.cgi", cookie="; ".join(pairs))
    assert r.status_code == 401
    assert fl.session_cookies(r) == []
    deleted = set(fl.session_deletions(r))
    assert deleted >= {n for n in names if n != f"{fl.SESSION}.1"}
    assert deleted <= set(names)


def test_chunking_starts_deletes_the_unchunked_name(site, browser, emulator, creds):
    fl.sign_in(browser, emulator, "/private/env.cgi", "ada@example.com")
    assert browser.jar.names(fl.SESSION) == [fl.SESSION]
    s = fl.sign_in(browser, emulator, fl.LOGIN, MANY)
    assert fl.session_deletions(s.done) == [fl.SESSION]
    check_chunks(s.done, 3800)
    assert fl.SESSION not in browser.jar.names()
    all_permissions(fl.check_identity(browser.nav("/private/env.cgi"), MANY))


def test_shrinking_deletes_the_stale_chunks(site, browser, emulator):
    fl.sign_in(browser, emulator, "/private/env.cgi", MANY)
    chunks = browser.jar.names(fl.SESSION + ".")
    assert len(chunks) >= 2
    s = fl.sign_in(browser, emulator, fl.LOGIN, "ada@example.com")
    assert [n for n, _, _ in fl.session_cookies(s.done)] == [fl.SESSION]
    assert fl.session_deletions(s.done) == sorted(chunks)
    assert browser.jar.names(fl.SESSION) == [fl.SESSION]
    fl.check_identity(browser.nav("/private/env.cgi"), "ada@example.com")


def test_chunked_session_is_refreshed_whole(site, emulator, make_session, creds, secrets):
    old = make_session(MANY, expired=True)
    assert len(old.cookie) > 12 * 1024
    # Sent chunked the way the module would have written it (3800 per chunk).
    parts = [old.cookie[i:i + 3800] for i in range(0, len(old.cookie), 3800)]
    header = "; ".join(f"{fl.SESSION}.{i}={p}" for i, p in enumerate(parts))
    before = emulator.counters()["authenticate_refresh"]
    r = client.request(site, "GET", "/private/env.cgi", headers=client.BROWSER, cookie=header)
    env = fl.check_identity(r, MANY)
    all_permissions(env)
    assert emulator.counters()["authenticate_refresh"] == before + 1
    check_chunks(r, 3800)
    value = fl.assembled(r)
    secrets.add("cookie", value)
    new = fl.unseal_session(value, creds.password)
    assert new["refreshToken"] != old.auth["refresh_token"]
    assert env["WORKOS_ACCESS_TOKEN_EXPIRES"] == str(fl.jwt_claims(new["accessToken"])["exp"])


def test_logout_deletes_every_chunk(site, browser, emulator):
    fl.sign_in(browser, emulator, "/private/env.cgi", MANY)
    chunks = browser.jar.names(fl.SESSION + ".")
    r = browser.nav(fl.LOGOUT)
    assert r.status_code == 302
    assert fl.session_deletions(r) == sorted(chunks)
    assert browser.jar.names(fl.SESSION) == []
