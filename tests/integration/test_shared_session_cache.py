# SPDX-License-Identifier: Apache-2.0
"""The verified-session cache shared by every child (WorkOSSessionCacheSize),
through a real prefork httpd: many sessions, each sent on connections that
distinct children serve, cost one verification each (the status page's
cache_hits counter proves it); without the shared cache each child verifies
on its own; a graceful restart starts a new table that works the same; the
token still reaches the locations that pass it; and configtest refuses sizes
it cannot have."""
import http.client
import json
import resource
import subprocess

import pytest
import requests

from harness import httpd as hd
from harness.client import API

AUTH = ("AuthType WorkOS", "Require valid-user")
STATUS = "/workos-status"
SESSIONS = 10
CHILDREN = 4            # StartServers of the harness's prefork settings


def conf(h, base, extra=""):
    return (base + extra
            + h.cgi_location("/c/", *AUTH)
            + h.cgi_location("/tok/", *AUTH, "WorkOSPassAccessToken On")
            + f'<Location "{STATUS}">\n    SetHandler workos-status\n'
              "    Require ip 127.0.0.1\n</Location>\n")


@pytest.fixture(scope="module")
def shared(httpd_factory, wos_server_conf):
    h = httpd_factory("shared", mpm="prefork")
    return h.start(conf(h, wos_server_conf))


@pytest.fixture(scope="module")
def unshared(httpd_factory, wos_server_conf):
    h = httpd_factory("unshared", mpm="prefork")
    return h.start(conf(h, wos_server_conf, "WorkOSSessionCacheSize 0\n"))


def stats(h):
    r = requests.get(h.url + STATUS, timeout=10)
    assert r.status_code == 200
    return r.json()


def over_children(h, sessions, path="/c/env.cgi"):
    """Every session's cookie on each of CHILDREN keep-alive connections held
    open together, so that each is served by a child of its own (a prefork
    child serves one connection at a time). Returns the PIDs that served and
    the CGI environments."""
    conns = [http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
             for _ in range(CHILDREN)]
    pids, envs = set(), []
    try:
        for s in sessions:
            for conn in conns:
                conn.request("GET", path, headers=dict(API, Cookie=f"wos-session={s.cookie}"))
                resp = conn.getresponse()
                body = resp.read()
                assert resp.status == 200, body[:300]
                doc = json.loads(body)
                pids.add(doc["ppid"])
                envs.append((s, doc["env"]))
    finally:
        for conn in conns:
            conn.close()
    return pids, envs


def sessions(make_session, n=SESSIONS):
    emails = ["ada@example.com", "grace@example.com"]
    return [make_session(emails[i % 2]) for i in range(n)]


def verifications(before, after):
    """Authenticated requests that the caches did not answer."""
    return ((after["authenticated"] - before["authenticated"])
            - (after["cache_hits"] - before["cache_hits"]))


def test_one_verification_per_session_across_children(shared, make_session):
    ss = sessions(make_session)
    before = stats(shared)
    pids, envs = over_children(shared, ss)
    after = stats(shared)
    assert len(pids) == CHILDREN
    assert after["authenticated"] - before["authenticated"] == SESSIONS * CHILDREN
    assert verifications(before, after) == SESSIONS
    for s, env in envs:
        assert env["WORKOS_USER_EMAIL"] == s.auth["user"]["email"]
        assert env["WORKOS_SESSION_ID"] == s.claims["sid"]


def test_status_page_shows_the_table(shared, make_session):
    """Its size, fill and counters, the same in JSON and Prometheus."""
    ss = sessions(make_session, 3)
    before = stats(shared)["shared_session_cache"]
    over_children(shared, ss)
    table = stats(shared)["shared_session_cache"]
    assert table["bytes"] == 16 * 1024 * 1024
    assert 21000 <= table["capacity"] <= table["bytes"] // 768
    assert table["stores"] - before["stores"] == 3
    assert table["entries"] - before["entries"] == 3
    # Each other child finds each session once in the table (then in its own cache).
    assert table["hits"] - before["hits"] == 3 * (CHILDREN - 1)
    assert table["evictions"] == table["too_large"] == 0
    prom = requests.get(shared.url + STATUS + "?format=prometheus", timeout=10).text
    for name in ("bytes", "capacity", "entries"):
        assert f"# TYPE workos_shared_session_cache_{name} gauge" in prom
        assert f"\nworkos_shared_session_cache_{name} {table[name]}\n" in prom
    assert f"\nworkos_shared_session_cache_stores_total {table['stores']}\n" in prom


@pytest.fixture(scope="module")
def threaded(httpd_factory, wos_server_conf):
    h = httpd_factory("threaded", mpm="event")
    return h.start(conf(h, wos_server_conf))


def test_event_mpm_shares_too(threaded, make_session):
    """Threads of several children at once: still one verification per session
    (which child serves which connection is the MPM's choice here)."""
    ss = sessions(make_session, 6)
    before = stats(threaded)
    over_children(threaded, ss)
    after = stats(threaded)
    assert after["authenticated"] - before["authenticated"] == 6 * CHILDREN
    assert verifications(before, after) == 6


@pytest.fixture(scope="module")
def no_process_cache(httpd_factory, wos_server_conf):
    h = httpd_factory("no-process-cache", mpm="prefork")
    return h.start(conf(h, wos_server_conf, "WorkOSSessionCache 0\n"))


def test_process_cache_off_shared_still_answers(no_process_cache, make_session):
    """WorkOSSessionCache 0 turns off only each process's cache."""
    ss = sessions(make_session, 3)
    before = stats(no_process_cache)
    over_children(no_process_cache, ss)
    after = stats(no_process_cache)
    assert verifications(before, after) == 3
    table = after["shared_session_cache"]
    assert table["hits"] - before["shared_session_cache"]["hits"] == 3 * (CHILDREN - 1)


def test_without_the_shared_cache_each_child_verifies(unshared, make_session):
    ss = sessions(make_session, 4)
    before = stats(unshared)
    pids, _ = over_children(unshared, ss)
    after = stats(unshared)
    assert len(pids) == CHILDREN
    assert verifications(before, after) == 4 * CHILDREN
    assert after["shared_session_cache"]["capacity"] == 0


def test_token_passed_on_from_a_shared_entry(shared, make_session):
    """An entry verified in one child has no token; another child that passes
    the token on gets it from the cookie, without verifying again."""
    ss = sessions(make_session, 3)
    before = stats(shared)
    over_children(shared, ss)                           # verified once each
    _, envs = over_children(shared, ss, "/tok/env.cgi")
    after = stats(shared)
    assert verifications(before, after) == 3
    for s, env in envs:
        assert env["WORKOS_ACCESS_TOKEN"] == s.auth["access_token"]


def test_graceful_restart_starts_a_working_table(shared, make_session):
    ss = sessions(make_session, 4)
    over_children(shared, ss)
    shared.graceful()
    before = stats(shared)
    pids, _ = over_children(shared, ss)
    after = stats(shared)
    assert len(pids) == CHILDREN
    # A new generation's table and hash key: verified once more, then shared.
    assert verifications(before, after) == 4


@pytest.mark.parametrize("value, says", [
    ("10", "holds fewer than 16 entries"),
    ("16M 100", "multiple of 8 from 128 to 65536"),
    ("lots", "is not a size in bytes"),
    ("65G", "more than the largest size"),
])
def test_configtest_refuses_bad_sizes(httpd_factory, wos_server_conf, value, says):
    h = httpd_factory(f"bad-size-{value}")
    rc, out = h.configtest(wos_server_conf + f"WorkOSSessionCacheSize {value}\n")
    assert rc != 0
    assert says in out


def test_configtest_refuses_it_in_a_virtual_host(httpd_factory, wos_server_conf):
    h = httpd_factory("vhost-size")
    rc, out = h.configtest(wos_server_conf + "<VirtualHost 127.0.0.1:80>\n"
                           "WorkOSSessionCacheSize 1M\n</VirtualHost>\n")
    assert rc != 0
    assert "WorkOSSessionCacheSize cannot occur within <VirtualHost>" in out


def test_configtest_says_when_the_memory_cannot_be_had(httpd_factory, wos_server_conf):
    """4 GB asked for under a 2 GB address-space limit: WOS02001, not a crash at start."""
    h = httpd_factory("no-memory")
    if hd.sanitizer_runtimes(h.module_path):
        pytest.skip("AddressSanitizer reserves terabytes of address space: no RLIMIT_AS")
    path = h.write_config(wos_server_conf + "WorkOSSessionCacheSize 4G\n",
                          name="configtest.conf")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    out = subprocess.run([hd.APACHE2, "-t", "-d", str(h.dir), "-f", str(path)], env=h.env,
                         capture_output=True, text=True, timeout=60, preexec_fn=limit)
    assert out.returncode != 0
    assert "WOS02001" in out.stdout + out.stderr
    ok = subprocess.run([hd.APACHE2, "-t", "-d", str(h.dir), "-f", str(path)], env=h.env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
