# SPDX-License-Identifier: Apache-2.0
"""What the module logs: one line per authentication outcome, at the level
the outcome deserves, with its reason and the session's short hash (the
first 12 hex digits of SHA-256 of the cookie value), never the cookie or a
token; at debug every decision is explained (the Require check and what the
session held, the 401 instead of a sign-in redirect)."""
import hashlib
import re
import time

import pytest

import flowlib as fl
from harness import client

LINE = re.compile(r"\[auth_workos:(\w+)\].*?(WOS\d{5}): (.*)$")


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "logs")
    h.start(fl.site(h, fl.server_conf(emulator, creds)))
    return h


def short_hash(cookie):
    return hashlib.sha256(cookie.encode()).hexdigest()[:12]


def request(site, path, cookie=None, api=True):
    """One request; returns (response, the module's log lines for it)."""
    site.new_log_lines()           # skip what came before
    r = client.request(site, "GET", path, headers=client.API if api else client.BROWSER,
                       cookie=f"{fl.SESSION}={cookie}" if cookie else None)
    deadline = time.time() + 5
    lines = []
    while time.time() < deadline:
        lines += [m.groups() for m in map(LINE.search, site.new_log_lines()) if m]
        if any(tag in OUTCOME_TAGS for _, tag, _ in lines):
            break
        time.sleep(0.05)
    return r, lines


OUTCOME_TAGS = {"WOS00103", "WOS00104", "WOS00105", "WOS00106", "WOS00107", "WOS00108"}


def outcome(lines):
    found = [(lvl, tag, text) for lvl, tag, text in lines if tag in OUTCOME_TAGS]
    assert len(found) == 1, f"expected one outcome line, got {lines}"
    return found[0]


def no_secret(lines, *secrets):
    for _, _, text in lines:
        for s in secrets:
            assert s not in text


def test_valid_session_is_a_debug_line_with_the_hash(site, make_session):
    s = make_session("ada@example.com")
    r, lines = request(site, "/private/env.cgi", s.cookie)
    assert r.status_code == 200
    assert outcome(lines) == ("debug", "WOS00103",
                              f"session {short_hash(s.cookie)}: valid session")
    no_secret(lines, s.cookie, s.token, s.auth["refresh_token"])


def test_no_cookie_is_a_debug_line_and_the_401_is_explained(site):
    r, lines = request(site, "/private/env.cgi")
    assert r.status_code == 401
    assert outcome(lines) == ("debug", "WOS00104", "session -: no session cookie")
    assert ("debug", "WOS00110",
            "no usable session: 401 (not a browser navigation, so no sign-in redirect)") in lines


def test_garbage_cookie_is_an_info_line_with_its_reason(site):
    cookie = "Fe26.2**" + "A" * 40
    r, lines = request(site, "/private/env.cgi", cookie)
    assert r.status_code == 401
    level, tag, text = outcome(lines)
    assert (level, tag) == ("info", "WOS00105")
    assert text.startswith(f"session {short_hash(cookie)}: ")
    assert len(text) > len(f"session {short_hash(cookie)}: ") + 5, "no reason given"
    no_secret(lines, cookie)


def test_refresh_is_a_debug_line_marked_refreshed(site, make_session):
    s = make_session("ada@example.com", expired=True)
    r, lines = request(site, "/private/env.cgi", s.cookie)
    assert r.status_code == 200
    level, tag, text = outcome(lines)
    assert (level, tag) == ("debug", "WOS00103")
    assert text.startswith(f"session {short_hash(s.cookie)}: ") and text.endswith("(refreshed)")
    no_secret(lines, s.cookie, s.token, s.auth["refresh_token"])


def test_ended_session_is_an_info_line(site, make_session, emulator):
    s = make_session("ada@example.com", expired=True)
    with emulator.faulted(endpoint="refresh", error="invalid_grant"):
        r, lines = request(site, "/private/env.cgi", s.cookie)
    assert r.status_code == 401
    level, tag, text = outcome(lines)
    assert (level, tag) == ("info", "WOS00106")
    assert text.startswith(f"session {short_hash(s.cookie)}: ") and "invalid_grant" in text
    no_secret(lines, s.cookie, s.token, s.auth["refresh_token"])


@pytest.mark.expect_log(r"WOS00107")
def test_refresh_outage_is_a_warning(site, make_session, emulator):
    s = make_session("ada@example.com", expired=True)
    with emulator.faulted(endpoint="refresh", status=503, count=50):
        r, lines = request(site, "/private/env.cgi", s.cookie)
    assert r.status_code == 503
    level, tag, text = outcome(lines)
    assert (level, tag) == ("warn", "WOS00107")
    assert text.startswith(f"session {short_hash(s.cookie)}: ")
    no_secret(lines, s.cookie, s.token, s.auth["refresh_token"])


@pytest.mark.expect_log(r"AH01631: user user_01GRACE0+: authorization failure")
def test_require_decision_is_explained_at_debug(site, make_session):
    s = make_session("grace@example.com")
    r, lines = request(site, "/admin/env.cgi", s.cookie)
    assert r.status_code == 403
    assert outcome(lines)[1] == "WOS00103"
    (decision,) = [text for _, tag, text in lines if tag == "WOS00302"]
    assert re.fullmatch(r"Require workos-role admin: denied for " + re.escape(s.user["id"])
                        + r" \(role member, roles \[member\]\)", decision), decision
    no_secret(lines, s.cookie, s.token, s.auth["refresh_token"])
