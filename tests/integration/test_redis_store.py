# SPDX-License-Identifier: Apache-2.0
"""Several servers without caveats: the module's own redis store
(WorkOSCache redis:host:port) and the circuit breaker in front of every shared
store.

A real redis-server (and memcached) is started here on a free loopback port,
and two httpd instances (A and B, prefork, several children each) share it
with one AuthKit emulator. What is checked:
- exact single flight: 64 concurrent requests with one expired session, split
  over A and B, make exactly one refresh at WorkOS, in 20 rounds out of 20
  (every other round with a slow WorkOS); every answer is 200 with one and the
  same new session, and the store holds only hashed keys and sealed values;
- a hung store: redis (or memcached through mod_socache) paused with SIGSTOP
  under traffic: valid sessions keep being served, the requests that need the
  store (refreshes) all succeed and their p99 stays under
  2 x WorkOSCacheTimeout plus what the same requests take with a healthy
  store, none waits out the pause, the outage is logged once per server and
  counted on the status page; after SIGCONT the store is used again (a split
  burst makes one refresh, its result is in the store);
- redis restarted under traffic: the same, with a store that refuses
  connections for a while and then comes back empty.
The servers started here are always resumed and stopped."""
import hashlib
import signal
import threading
import time

import pytest
import requests

import flowlib as fl
from harness import client
from harness.httpd import MODDIR
from test_multi_server import Store, Traffic, count, get, refresh_lock_key, shared_refresh

# WorkOSCacheTimeout in these tests: roomy for a loaded machine, and still far
# below the pauses (PAUSE_SEC) that a request would wait out without it.
TIMEOUT_MS = 1000
PAUSE_SEC = 8
OPEN_SEC = 5                    # WOS_BREAKER_OPEN_MS
STATUS = "/workos-status"
# mod_socache_memcache reports its own failed calls.
MEMCACHE_FAILURES = (r"AH00790", r"AH00791", r"AH01587")


def site_conf(h, emulator, creds, cache):
    return (fl.site(h, cache + f"WorkOSCacheTimeout {TIMEOUT_MS}ms\n"
                    + fl.server_conf(emulator, creds))
            + f'<Location "{STATUS}">\n    SetHandler workos-status\n'
              "    Require ip 127.0.0.1\n</Location>\n")


def cache_conf(kind, port):
    if kind == "redis":
        return f"WorkOSCache redis:127.0.0.1:{port}\n"
    return (f'LoadModule socache_memcache_module "{MODDIR}/mod_socache_memcache.so"\n'
            f"MemcacheConnTTL 1\nWorkOSCache memcache:127.0.0.1:{port}\n")


class Pair:
    def __init__(self, kind, store, servers):
        self.kind, self.store, self.servers = kind, store, servers

    def stats(self):
        return [requests.get(h.url + STATUS, timeout=10).json() for h in self.servers]


def make_pair(kind, module_dir, httpd_factory, emulator, creds):
    store = Store(kind, module_dir / f"{kind}-store")
    store.start()
    servers = []
    try:
        for name in ("A", "B"):
            h = fl.new_httpd(httpd_factory, f"{kind}-{name}")
            h.start(site_conf(h, emulator, creds, cache_conf(kind, store.port)))
            servers.append(h)
        return Pair(kind, store, servers)
    except BaseException:
        close_pair(Pair(kind, store, servers))
        raise


def close_pair(pair):
    resume(pair.store)
    for h in pair.servers:
        h.stop()
    pair.store.close()


@pytest.fixture(scope="module")
def redis_pair(httpd_factory, emulator, creds, module_dir):
    pair = make_pair("redis", module_dir, httpd_factory, emulator, creds)
    yield pair
    close_pair(pair)


@pytest.fixture(scope="module")
def memcache_pair(httpd_factory, emulator, creds, module_dir):
    pair = make_pair("memcache", module_dir, httpd_factory, emulator, creds)
    yield pair
    close_pair(pair)


@pytest.fixture(autouse=True)
def no_faults(emulator):
    emulator.clear_fault()
    yield
    emulator.clear_fault()


def pause(store):
    store.proc.send_signal(signal.SIGSTOP)


def resume(store):
    if store.proc and store.proc.poll() is None:
        store.proc.send_signal(signal.SIGCONT)


def redis_keys(store):
    """Every key in the redis store, with its value (through the wire protocol)."""
    reply = store._redis("KEYS", "*")
    keys = [line.decode() for line in reply.split(b"\r\n")[1:]
            if line and not line.startswith((b"$", b"*"))]
    out = {}
    for k in keys:
        v = store._redis("GET", k)
        out[k] = v.split(b"\r\n", 1)[1][:-2].decode("latin-1") if v.startswith(b"$") \
            and not v.startswith(b"$-1") else None
    return out


def result_key(refresh_token, org=None):
    h = hashlib.sha256(f"{refresh_token}|{org or ''}".encode()).hexdigest()
    return f"wos:rf:{h}:res"


def refreshes_of(emulator, old):
    """WorkOS calls that spent this session's refresh token (other traffic aside)."""
    return sum(1 for c in fl.authenticate_calls(emulator, "refresh_token")
               if c["params"].get("refresh_token") == old.auth["refresh_token"])


def p99(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


# ---- exact single flight ----------------------------------------------------------------

ROUNDS = 20


def test_exact_single_flight_across_servers(redis_pair, emulator, make_session, creds,
                                            secrets, capsys, expect_log):
    """64 requests, one expired session, 32 on A and 32 on B: one refresh, 20 times out of 20."""
    # 32 requests at once are more than a server's 16 prefork workers: the rest queue.
    expect_log(r"AH00161: server reached MaxRequestWorkers")
    pair, n, rows = redis_pair, 64, []
    before_stats = pair.stats()
    for i in range(ROUNDS):
        delay = (0, 300)[i % 2]
        old = make_session("ada@example.com", expired=True)
        if delay:
            emulator.fault(endpoint="refresh", delay_ms=delay, count=1)
        before = emulator.counters()
        t0 = time.monotonic()
        results = fl.burst(pair.servers, old.cookie, n)
        took = time.monotonic() - t0
        after = emulator.counters()
        emulator.clear_fault()
        upstream = after["authenticate_refresh"] - before["authenticate_refresh"]
        rows.append((delay, upstream, took))
        new_rt = shared_refresh(results, old, creds, secrets)
        assert upstream == 1, f"round {i} (delay {delay} ms): {upstream} upstream refreshes"
        assert after["authenticate_errors"] == before["authenticate_errors"]
        # The lock is gone (released by its holder), the result stays for late requests.
        keys = redis_keys(pair.store)
        org = old.claims.get("org_id")          # a refresh stays in the token's organization
        assert refresh_lock_key(old.auth["refresh_token"], org) not in keys
        assert result_key(old.auth["refresh_token"], org) in keys
    # No server ever left the shared store in these rounds.
    for b, a in zip(before_stats, pair.stats()):
        assert a["shared_cache_failures"] == b["shared_cache_failures"]
        assert a["shared_cache_local_calls"] == b["shared_cache_local_calls"]
    with capsys.disabled():
        print(f"\n  redis store: {n} requests x {ROUNDS} rounds across 2 servers, "
              f"upstream refreshes per round: {[u for _, u, _ in rows]}; "
              f"round times (ms) {min(t for *_, t in rows) * 1000:.0f}.."
              f"{max(t for *_, t in rows) * 1000:.0f}")


def test_store_holds_hashed_keys_and_sealed_values(redis_pair, make_session, creds, secrets):
    old = make_session("grace@example.com", expired=True)
    r = get(redis_pair.servers[0], old.cookie)
    fl.check_identity(r, "grace@example.com")
    new = fl.unseal_session(fl.assembled(r), creds.password)
    keys = redis_keys(redis_pair.store)
    assert keys
    plain = [old.auth["refresh_token"], old.auth["access_token"], new["refreshToken"],
             new["accessToken"], "grace@example.com"]
    for k, v in keys.items():
        assert k.startswith("wos:")
        for secret in plain:
            assert secret not in k and secret not in (v or ""), (k, secret[:12])


# ---- a hung store ------------------------------------------------------------------------

class Refreshes:
    """Requests that need the store: each with an expired session of its own,
    round robin over the servers, from several threads, until stopped."""

    def __init__(self, servers, make_session, threads=4):
        self.servers, self.make_session = servers, make_session
        self.stop_evt = threading.Event()
        self.lock = threading.Lock()
        self.times, self.bad = [], []
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def one(self, h):
        s = self.make_session("linus@example.com", expired=True)
        t0 = time.monotonic()
        try:
            r = get(h, s.cookie)
            took = time.monotonic() - t0
            good = r.status_code == 200 and r.json()["env"]["WORKOS_USER_EMAIL"] == \
                "linus@example.com" and fl.assembled(r)
        except Exception as e:          # recorded, asserted by the test
            took, good, r = time.monotonic() - t0, False, e
        with self.lock:
            self.times.append(took)
            if not good:
                self.bad.append((h.dir.name, getattr(r, "status_code", r)))

    def run(self, i):
        n = i
        while not self.stop_evt.is_set():
            self.one(self.servers[n % len(self.servers)])
            n += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_evt.set()
        for t in self.threads:
            t.join(timeout=120)


def probe_each(pair, make_session):
    """One request that needs the store on each server, one after the other:
    the probe that closes an open breaker."""
    for h in pair.servers:
        s = make_session("ada@example.com", expired=True)
        fl.check_identity(get(h, s.cookie), "ada@example.com")


def baseline(pair, make_session, n=30):
    """What a refresh takes with a healthy store, under the same load as
    during the pause (WorkOS, httpd, CGI, the machine): the p99 of n."""
    with Refreshes(pair.servers, make_session) as r:
        while len(r.times) < n:
            time.sleep(0.05)
    assert r.bad == [], r.bad[:5]
    return p99(r.times)


def paused_store_scenario(pair, emulator, make_session, creds, secrets, capsys):
    a, b = pair.servers
    marks = [h.log_size() for h in pair.servers]
    before_stats = pair.stats()
    sessions = [(e, make_session(e)) for e in
                ("ada@example.com", "grace@example.com", "linus@example.com")]
    try:
        with Traffic(pair.servers, sessions) as traffic:
            upstream_s = baseline(pair, make_session)
            pause(pair.store)
            t_stop = time.monotonic()
            with Refreshes(pair.servers, make_session) as refreshes:
                time.sleep(PAUSE_SEC)
            resume(pair.store)
            t_cont = time.monotonic()
            # Shared again once a probe went through: the first request that needs
            # the store after one breaker interval probes it (requests that come
            # while the probe is out still use the local cache).
            time.sleep(OPEN_SEC + 1)
            probe_each(pair, make_session)
            old = make_session("grace@example.com", expired=True)
            shared_refresh(fl.burst(pair.servers, old.cookie, 16), old, creds, secrets,
                           "grace@example.com")
            after_resume = refreshes_of(emulator, old)
            time.sleep(0.3)
    finally:
        resume(pair.store)
    assert traffic.bad == [], traffic.bad[:10]
    during = sum(1 for t in traffic.ok if t_stop < t < t_cont)
    assert during >= 10, f"only {during} valid-session answers during the pause"
    assert refreshes.bad == [], refreshes.bad[:10]
    assert len(refreshes.times) >= 20, len(refreshes.times)
    bound = 2 * TIMEOUT_MS / 1000 + upstream_s
    worst, q99 = max(refreshes.times), p99(refreshes.times)
    assert q99 < bound, f"p99 {q99:.2f} s >= {bound:.2f} s"
    assert worst < PAUSE_SEC / 2, f"a request waited {worst:.1f} s of the {PAUSE_SEC} s pause"
    assert after_resume == 1, f"{after_resume} refreshes after the store came back"
    # Logged once per server (the breaker's state is shared by its processes),
    # and back once; counted on the status page.
    for h, m, b4, now in zip(pair.servers, marks, before_stats, pair.stats()):
        text = h.log_since(m)
        down = [line for line in text.splitlines() if "WOS00801:" in line]
        back = [line for line in text.splitlines() if "WOS00803:" in line]
        assert len(down) == 1, f"{h.dir.name}: outage logged {len(down)} times"
        assert "[auth_workos:warn]" in down[0] and f"{TIMEOUT_MS} ms" in down[0], down[0]
        assert len(back) == 1, f"{h.dir.name}: recovery logged {len(back)} times"
        assert now["shared_cache_outages"] - b4["shared_cache_outages"] == 1
        assert now["shared_cache_failures"] > b4["shared_cache_failures"]
        assert now["shared_cache_local_calls"] > b4["shared_cache_local_calls"]
    with capsys.disabled():
        print(f"\n  {pair.kind} paused {PAUSE_SEC} s (WorkOSCacheTimeout {TIMEOUT_MS} ms): "
              f"{len(refreshes.times)} refreshes, p99 {q99 * 1000:.0f} ms, max "
              f"{worst * 1000:.0f} ms (bound {bound * 1000:.0f} ms = 2 x timeout + "
              f"{upstream_s * 1000:.0f} ms, the p99 with a healthy store); "
              f"{during} valid-session answers during "
              f"the pause; after SIGCONT a split burst made {after_resume} refresh")


def test_paused_redis_costs_a_timeout_not_a_hang(redis_pair, emulator, make_session, creds,
                                                 secrets, capsys):
    paused_store_scenario(redis_pair, emulator, make_session, creds, secrets, capsys)
    # The burst after SIGCONT went through redis: its result is there.
    assert any(k.endswith(":res") for k in redis_keys(redis_pair.store))


def test_paused_memcached_through_socache(memcache_pair, emulator, make_session, creds,
                                          secrets, capsys, expect_log):
    expect_log(*MEMCACHE_FAILURES)
    paused_store_scenario(memcache_pair, emulator, make_session, creds, secrets, capsys)


# ---- redis restarted -------------------------------------------------------------------

def test_redis_restarted_under_traffic(redis_pair, emulator, make_session, creds, secrets,
                                       capsys):
    pair = redis_pair
    a, b = pair.servers
    marks = [h.log_size() for h in pair.servers]
    sessions = [(e, make_session(e)) for e in
                ("ada@example.com", "grace@example.com", "linus@example.com")]
    with Traffic(pair.servers, sessions) as traffic:
        with Refreshes(pair.servers, make_session, threads=2) as refreshes:
            time.sleep(1.0)
            pair.store.kill()
            t_down = time.monotonic()
            time.sleep(0.5)
            # While it is down, each server keeps single flight among its processes.
            old = make_session("ada@example.com", expired=True)
            shared_refresh(fl.burst([a], old.cookie, 16), old, creds, secrets)
            per_server = refreshes_of(emulator, old)
            time.sleep(max(0.0, 3.0 - (time.monotonic() - t_down)))
            pair.store.start()
            t_up = time.monotonic()
            time.sleep(OPEN_SEC + 1)
        probe_each(pair, make_session)
        old2 = make_session("grace@example.com", expired=True)
        shared_refresh(fl.burst(pair.servers, old2.cookie, 32), old2, creds, secrets,
                       "grace@example.com")
        after_restart = refreshes_of(emulator, old2)
        time.sleep(0.3)
    assert per_server == 1
    assert after_restart == 1, f"{after_restart} refreshes after the restart"
    assert result_key(old2.auth["refresh_token"], old2.claims.get("org_id")) \
        in redis_keys(pair.store)
    assert traffic.bad == [], traffic.bad[:10]
    assert refreshes.bad == [], refreshes.bad[:10]
    during = sum(1 for t in traffic.ok if t_down < t < t_up)
    assert during >= 3, during
    for h, m in zip(pair.servers, marks):
        assert count(h, "WOS00801:", m) == 1, h.dir.name
        assert count(h, "WOS00803:", m) == 1, h.dir.name
    with capsys.disabled():
        print(f"\n  redis restarted: {len(traffic.ok)} valid-session answers all 200 "
              f"({during} while down), {len(refreshes.times)} refreshes all 200 (max "
              f"{max(refreshes.times) * 1000:.0f} ms); burst on one server while down: "
              f"{per_server} refresh; split burst of 32 after the restart: {after_restart}")
