# SPDX-License-Identifier: Apache-2.0
"""The status handler (SetHandler workos-status): counters shared by every
child, counted exactly per outcome, the same numbers in JSON and in the
Prometheus text format, kept across a graceful restart; GET only."""
import re
import time

import pytest
import requests

import flowlib as fl
from harness import client
from test_module_jwks import served_pids

STATUS = "/workos-status"
KEYS = ["authenticated", "anonymous", "invalid", "ended", "unavailable", "no_keys", "denied",
        "cache_hits", "refreshed", "refresh_calls", "refresh_failed_invalid_grant",
        "refresh_failed_rejected", "refresh_failed_unavailable", "refresh_failed_module_refused",
        "jwks_fetches",
        "jwks_fetch_failures", "sign_ins", "sign_in_failures", "sign_outs", "org_switches",
        "shared_cache_failures", "shared_cache_outages", "shared_cache_local_calls",
        "idle_timeouts", "sessions_revoked"]
SHARED_FIGURES = ["bytes", "capacity", "entries", "hits", "misses", "stores", "evictions",
                  "expired", "too_large"]
# The Prometheus series of each JSON key, as README.md lists them.
SERIES = {
    **{k: f'workos_requests_total{{outcome="{k}"}}'
       for k in ("authenticated", "anonymous", "invalid", "ended", "unavailable", "no_keys")},
    "denied": "workos_denied_total",
    "cache_hits": "workos_session_cache_hits_total",
    "refreshed": "workos_refreshed_total",
    "refresh_calls": "workos_refresh_calls_total",
    **{f"refresh_failed_{r}": f'workos_refresh_failed_total{{reason="{r}"}}'
       for r in ("invalid_grant", "rejected", "unavailable", "module_refused")},
    "jwks_fetches": "workos_jwks_fetches_total",
    "jwks_fetch_failures": "workos_jwks_fetch_failures_total",
    "sign_ins": "workos_sign_ins_total",
    "sign_in_failures": "workos_sign_in_failures_total",
    "sign_outs": "workos_sign_outs_total",
    "org_switches": "workos_org_switches_total",
    "shared_cache_failures": "workos_shared_cache_failures_total",
    "shared_cache_outages": "workos_shared_cache_outages_total",
    "shared_cache_local_calls": "workos_shared_cache_local_calls_total",
    "idle_timeouts": "workos_idle_timeouts_total",
    "sessions_revoked": "workos_sessions_revoked_total",
}


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "status", mpm="prefork")
    conf = (fl.site(h, fl.server_conf(emulator, creds))
            + f'<Location "{STATUS}">\n    SetHandler workos-status\n'
              "    Require ip 127.0.0.1\n</Location>\n")
    h.start(conf)
    return h


def stats(h):
    r = requests.get(h.url + STATUS, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    # The shared session cache's figures: test_shared_session_cache.py checks them.
    assert list(body.pop("shared_session_cache")) == SHARED_FIGURES
    assert list(body) == KEYS
    return body


def delta(before, after):
    return {k: after[k] - before[k] for k in KEYS if after[k] != before[k]}


def get(h, path, cookie=None, api=True):
    return client.request(h, "GET", path, headers=client.API if api else client.BROWSER,
                          cookie=f"{fl.SESSION}={cookie}" if cookie else None)


def test_every_counter_starts_at_zero_and_is_listed(site):
    # The server has answered nothing before: reading the counters moves none.
    assert stats(site) == dict.fromkeys(KEYS, 0)
    assert stats(site) == dict.fromkeys(KEYS, 0)


def test_anonymous_requests_counted_across_children(site):
    before = stats(site)
    offset = site.access_size()
    for _ in range(30):     # a new connection each: several prefork children answer
        assert get(site, "/private/env.cgi").status_code == 401
    assert delta(before, stats(site)) == {"anonymous": 30}
    assert len(served_pids(site, offset, "/private/env.cgi")) >= 2


def test_garbage_cookie_counted_invalid(site):
    before = stats(site)
    assert get(site, "/private/env.cgi", cookie="Fe26.2**garbage").status_code == 401
    assert delta(before, stats(site)) == {"invalid": 1}


def test_authenticated_and_cache_hits(site, make_session, emulator):
    s = make_session("ada@example.com")
    before = stats(site)
    jwks_before = emulator.counters()["jwks"]
    with requests.Session() as keepalive:     # one connection: one child, its cache
        for _ in range(10):
            r = keepalive.get(site.url + "/private/env.cgi", headers=client.API,
                              cookies={fl.SESSION: s.cookie}, timeout=10)
            assert r.status_code == 200
    d = delta(before, stats(site))
    fetched = emulator.counters()["jwks"] - jwks_before
    assert d.pop("authenticated") == 10
    assert d.pop("cache_hits") == 9
    assert d.pop("jwks_fetches", 0) == fetched
    assert d == {}


@pytest.mark.expect_log(r"AH01631: user user_01GRACE0+: authorization failure")
def test_denied_by_require(site, make_session):
    s = make_session("grace@example.com")
    before = stats(site)
    assert get(site, "/admin/env.cgi", cookie=s.cookie).status_code == 403
    d = delta(before, stats(site))
    assert d.pop("denied") == 1
    assert d.pop("authenticated") == 1
    d.pop("cache_hits", None)
    assert d == {}


def test_refresh_counted(site, make_session, emulator):
    old = make_session("ada@example.com", expired=True)
    before = stats(site)
    r = get(site, "/private/env.cgi", cookie=old.cookie)
    assert r.status_code == 200
    assert delta(before, stats(site)) == {"authenticated": 1, "refreshed": 1, "refresh_calls": 1}


@pytest.mark.parametrize("fault,key", [
    ({"error": "invalid_grant"}, "refresh_failed_invalid_grant"),
    ({"error": "sso_required"}, "refresh_failed_rejected"),
])
def test_refresh_failures_by_reason(site, make_session, emulator, fault, key):
    old = make_session("ada@example.com", expired=True)
    with emulator.faulted(endpoint="refresh", **fault):
        before = stats(site)
        assert get(site, "/private/env.cgi", cookie=old.cookie).status_code == 401
        assert delta(before, stats(site)) == {"ended": 1, key: 1, "refresh_calls": 1}


@pytest.mark.expect_log(r"WOS00107")
def test_refresh_unavailable(site, make_session, emulator):
    old = make_session("ada@example.com", expired=True)
    with emulator.faulted(endpoint="refresh", status=503, count=50):
        before = stats(site)
        r = get(site, "/private/env.cgi", cookie=old.cookie)
        assert r.status_code == 503
        d = delta(before, stats(site))
    assert d.pop("unavailable") == 1
    assert d.pop("refresh_failed_unavailable") == 1
    assert d.pop("refresh_calls") == 1
    assert d == {}


def test_sign_in_sign_out_switch(site, browser, emulator):
    before = stats(site)
    s = fl.sign_in(browser, emulator, "/private/env.cgi", "grace@example.com")
    assert s.done.status_code == 302
    r = browser.switch(fl.admin_org("grace@example.com"))
    assert r.status_code == 302
    r = browser.nav(fl.LOGOUT)
    assert r.status_code == 302
    d = delta(before, stats(site))
    assert d.pop("sign_ins") == 1
    assert d.pop("org_switches") == 1
    assert d.pop("sign_outs") == 1
    assert d.pop("refresh_calls") == 1          # the switch is a refresh into the org
    assert d.pop("anonymous", 0) <= 1           # the first visit, before signing in
    assert set(d) <= {"jwks_fetches"}


def test_refused_callback_counted(site):
    before = stats(site)
    r = get(site, fl.CALLBACK + "?code=x&state=forged", api=False)
    assert r.status_code == 400
    assert delta(before, stats(site)) == {"sign_in_failures": 1}


def parse_prometheus(text):
    values, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind == "counter" or name.startswith("workos_shared_session_cache_")
            typed.add(name)
            continue
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-z_]+)(\{[a-z_]+="[a-z_]+"\})? (\d+)', line)
        assert m, line
        assert m.group(1) in typed, f"{m.group(1)} has no # TYPE line before it"
        values[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return values


@pytest.mark.parametrize("how", ["query", "accept"])
def test_prometheus_format_matches_json(site, how):
    # Moves of our own, so that run alone too these three counters are non-zero
    # and differ: any of them read under another key's series fails.
    before = stats(site)
    for _ in range(3):
        assert get(site, "/private/env.cgi").status_code == 401
    assert get(site, "/private/env.cgi", cookie="Fe26.2**garbage").status_code == 401
    for _ in range(2):
        assert get(site, fl.CALLBACK + "?code=x&state=forged", api=False).status_code == 400
    body = stats(site)
    assert delta(before, body) == {"anonymous": 3, "invalid": 1, "sign_in_failures": 2}
    if how == "query":
        r = requests.get(site.url + STATUS + "?format=prometheus", timeout=10)
    else:
        r = requests.get(site.url + STATUS, headers={"Accept": "text/plain"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    prom = parse_prometheus(r.text)
    after = stats(site)
    assert body == after, "counters moved while reading"
    assert sorted(k for k in prom if not k.startswith("workos_shared_session_cache_")) \
        == sorted(SERIES.values())
    assert {k: prom[SERIES[k]] for k in KEYS} == body


def test_only_get(site):
    r = requests.post(site.url + STATUS, data="x", timeout=10)
    assert r.status_code == 405
    assert "GET" in r.headers.get("Allow", "")


def test_counters_survive_a_graceful_restart(site):
    assert get(site, "/private/env.cgi").status_code == 401    # non-zero even run alone
    before = stats(site)
    assert before["anonymous"] > 0
    old = set(site.child_pids())
    site.graceful()
    # Once the old generation is gone, only a new child can answer.
    deadline = time.time() + 30
    while old & set(site.child_pids()):
        assert time.time() < deadline, "children of the old generation did not exit"
        time.sleep(0.1)
    assert stats(site) == before
