# SPDX-License-Identifier: Apache-2.0
"""Several servers sharing one cache through httpd's mod_socache_redis and
mod_socache_memcache: WorkOSCache socache:redis:host:port and memcache:host:port
(the module's own redis store, WorkOSCache redis:, is tested in
test_redis_store.py).

Each store runs as a real redis-server or memcached on a free loopback port
(started here with a scratch directory, stopped at the end), and two httpd
instances (A and B, prefork, several children each) share it with one AuthKit
emulator. What is checked:
- 16 concurrent requests with one expired session, split across A and B, all
  get 200 with the user's identity, and WorkOS sees at most 2 refreshes (the
  counts and times of several rounds are printed);
- the window the store's add leaves open, forced: A's refresh is slow at
  WorkOS, A's lock is deleted from the store, B refreshes the same token and
  wins; WorkOS refuses A's call (invalid_grant), and A answers 200 with B's
  result anyway;
- a session signed in on A works on B, and A's callback replayed on B is
  refused (the state is spent in the shared store);
- B uses the JWKS A fetched (the emulator's JWKS counter), and fetches its own
  once the store is empty;
- the store killed and restarted in the middle of traffic: no valid session
  sees an error, each server keeps single flight among its own processes
  while the store is down, the outage and the recovery are each logged once
  per server, and refreshes are shared across servers again afterwards."""
import hashlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

import flowlib as fl
from harness import client
from harness.httpd import MODDIR, free_port, wait_port

REDIS_SERVER = "/usr/bin/redis-server"
MEMCACHED = "/usr/bin/memcached"
# How long a failed store is left alone before a probe (WOS_BREAKER_OPEN_MS).
RETRY_SEC = 5


# ---- the stores -------------------------------------------------------------------

class Store:
    """A redis-server or memcached on 127.0.0.1, in the foreground, with a
    scratch directory; restartable on the same port."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o777)
        self.port = free_port()
        self.proc = None
        self.log = open(self.dir / f"{kind}.log", "ab")

    def argv(self):
        if self.kind == "redis":
            return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.dir),
                    "--daemonize", "no", "--protected-mode", "yes"]
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "32",
                *user]

    def start(self):
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        if not wait_port(self.port, lambda: self.proc.poll() is None, timeout=15):
            self.stop()
            raise RuntimeError(f"{self.kind} did not start on port {self.port}")

    def kill(self):
        """As a crash: SIGKILL, nothing saved."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def close(self):
        self.stop()
        self.log.close()

    # -- the wire protocols, for what the tests look at ------------------------------

    def _talk(self, payload, done):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(payload)
            buf = b""
            while not done(buf):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf

    def _redis(self, *args):
        cmd = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
        reply = self._talk(cmd, lambda b: b.endswith(b"\r\n") and (
            not b.startswith(b"$") or b.startswith(b"$-1") or
            len(b) >= b.index(b"\r\n") + 2 + int(b[1:b.index(b"\r\n")]) + 2))
        assert not reply.startswith(b"-"), reply
        return reply

    def _memcache(self, line, end=b"\r\n"):
        return self._talk(line.encode() + b"\r\n", lambda b: b.endswith(end))

    @staticmethod
    def socache_key(key):
        """The key mod_socache_redis/memcache use for a module key: namespace tag + hex."""
        return "auth_workos:" + key.encode().hex()

    def exists(self, key):
        k = self.socache_key(key)
        if self.kind == "redis":
            return self._redis("EXISTS", k) == b":1\r\n"
        return self._memcache(f"get {k}", end=b"END\r\n").startswith(b"VALUE ")

    def delete(self, key):
        k = self.socache_key(key)
        if self.kind == "redis":
            return self._redis("DEL", k) == b":1\r\n"
        return self._memcache(f"delete {k}") == b"DELETED\r\n"

    def flush(self):
        if self.kind == "redis":
            assert self._redis("FLUSHALL") == b"+OK\r\n"
        else:
            assert self._memcache("flush_all") == b"OK\r\n"


def refresh_lock_key(refresh_token, org=None):
    """src/wos_refresh.c: the lock entry of one refresh token (and organization)."""
    h = hashlib.sha256(f"{refresh_token}|{org or ''}".encode()).hexdigest()
    return f"wos:rf:{h}:lock"


def jwks_doc_key(emulator):
    """src/wos_keys.c: the shared JWKS document of one API base URL and client."""
    h = hashlib.sha256(f"{emulator.url}|{emulator.client_id}".encode()).hexdigest()[:32]
    return f"wos:jwks:{h}:doc"


# ---- two servers on one store ------------------------------------------------------

class Pair:
    def __init__(self, kind, store, servers, bodies):
        self.kind, self.store, self.servers, self.bodies = kind, store, servers, bodies

    @property
    def a(self):
        return self.servers[0]

    @property
    def b(self):
        return self.servers[1]

    def restart(self, h):
        h.start(self.bodies[h.dir.name])


def cache_conf(kind, port):
    """What a site adds for a shared store. A short connection TTL lets a
    process drop connections that went stale in a store restart."""
    if kind == "redis":
        return (f'LoadModule socache_redis_module "{MODDIR}/mod_socache_redis.so"\n'
                f"RedisConnPoolTTL 1\nWorkOSCache socache:redis:127.0.0.1:{port}\n")
    return (f'LoadModule socache_memcache_module "{MODDIR}/mod_socache_memcache.so"\n'
            f"MemcacheConnTTL 1\nWorkOSCache memcache:127.0.0.1:{port}\n")


@pytest.fixture(scope="module", params=["redis", "memcache"])
def pair(request, httpd_factory, emulator, creds, module_dir):
    kind = request.param
    store = Store(kind, module_dir / f"{kind}-store")
    store.start()
    servers, bodies = [], {}
    try:
        for name in ("A", "B"):
            h = fl.new_httpd(httpd_factory, f"{kind}-{name}")
            bodies[h.dir.name] = fl.site(h, cache_conf(kind, store.port)
                                         + fl.server_conf(emulator, creds))
            h.start(bodies[h.dir.name])
            servers.append(h)
        yield Pair(kind, store, servers, bodies)
    finally:
        for h in servers:
            h.stop()
        store.close()


@pytest.fixture(autouse=True)
def no_faults(emulator):
    emulator.clear_fault()
    yield
    emulator.clear_fault()


def get(h, cookie, api=True, path="/private/env.cgi"):
    return client.request(h, "GET", path, headers=client.API if api else client.BROWSER,
                          cookie=f"{fl.SESSION}={cookie}")


def shared_refresh(results, old, creds, secrets, email="ada@example.com"):
    """Every answer is 200 with the identity and one and the same new session;
    returns the new refresh token."""
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = [r.status_code for r in results]
    assert statuses == [200] * len(results), statuses
    tokens = set()
    for r in results:
        fl.check_identity(r, email)
        value = fl.assembled(r)
        assert value, "a refreshing answer without the new session cookie"
        secrets.add("cookie", value)
        tokens.add(fl.unseal_session(value, creds.password)["refreshToken"])
    assert len(tokens) == 1, f"{len(tokens)} different sessions handed out"
    token = tokens.pop()
    assert token != old.auth["refresh_token"]
    return token


def count(h, pattern, since=0):
    return sum(1 for line in h.log_since(since).splitlines() if pattern in line)


# ---- single flight across servers ------------------------------------------------

ROUNDS = 6


def test_refresh_burst_across_servers(pair, emulator, make_session, creds, secrets, capsys):
    """16 requests, one expired session, 8 on A and 8 on B: all 200, <= 2 refreshes."""
    n, rows = 16, []
    marks = [h.log_size() for h in pair.servers]
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
        refused = after["authenticate_errors"] - before["authenticate_errors"]
        rows.append((delay, upstream, refused, took))
        shared_refresh(results, old, creds, secrets)
        assert upstream <= 2, f"round {i}: {upstream} upstream refreshes"
        assert upstream >= 1
        # A second call can only have been refused (the token was spent) and recovered.
        assert refused == upstream - 1
    recovered = sum(count(h, "WOS00811:", m) for h, m in zip(pair.servers, marks))
    assert recovered == sum(up - 1 for _, up, _, _ in rows)
    with capsys.disabled():
        print(f"\n  {pair.kind}: {n} requests x {ROUNDS} rounds across 2 servers: "
              + "; ".join(f"delay {d} ms: {u} refresh(es) upstream, {t * 1000:.0f} ms"
                          for d, u, _, t in rows)
              + f"; recovered losers: {recovered}")


def test_lost_race_is_recovered_across_servers(pair, emulator, make_session, creds, secrets):
    """Both servers call WorkOS for one token (the window, forced); the one
    refused as spent answers with the other's result."""
    a, b = pair.a, pair.b
    old = make_session("grace@example.com", expired=True)
    # A plain refresh names the token's organization (as the SDKs do).
    lock = refresh_lock_key(old.auth["refresh_token"], old.claims.get("org_id"))
    marks = [h.log_size() for h in pair.servers]
    emulator.fault(endpoint="refresh", delay_ms=1500, count=1)
    before = emulator.counters()
    out = {}
    t = threading.Thread(target=lambda: out.update(a=get(a, old.cookie)))
    t.start()
    deadline = time.time() + 10
    while time.time() < deadline and not (
            pair.store.exists(lock)
            and emulator.counters()["authenticate_refresh"] == before["authenticate_refresh"] + 1):
        time.sleep(0.02)
    assert pair.store.exists(lock), "A did not take the lock in the shared store"
    # The window: B's check does not see A's lock.
    assert pair.store.delete(lock)
    rb = get(b, old.cookie)
    t.join(timeout=60)
    after = emulator.counters()

    assert after["authenticate_refresh"] - before["authenticate_refresh"] == 2
    assert after["authenticate_errors"] - before["authenticate_errors"] == 1
    calls = fl.authenticate_calls(emulator, "refresh_token")[-2:]     # in answer order
    assert [c["status"] for c in calls] == [200, 400]       # B won, then A was refused
    assert {c["params"]["refresh_token"] for c in calls} == {old.auth["refresh_token"]}
    token = shared_refresh([out["a"], rb], old, creds, secrets, "grace@example.com")
    assert token == fl.unseal_session(fl.assembled(rb), creds.password)["refreshToken"]
    assert count(a, "WOS00811:", marks[0]) == 1
    assert count(b, "WOS00811:", marks[1]) == 0
    assert not pair.store.exists(lock)


# ---- any server serves any user ----------------------------------------------------

def test_session_signed_in_on_a_works_on_b(pair, emulator, creds, secrets):
    browser = fl.Browser(pair.a, secrets, creds.password)
    s = fl.sign_in(browser, emulator, "/private/env.cgi", "grace@example.com")
    assert s.done.status_code == 302
    assert fl.local_path(pair.a, urllib.parse.urljoin(pair.a.url + "/",
                                                      s.done.headers["Location"])) \
        == "/private/env.cgi"
    value = browser.jar.session_value()
    assert value
    r = get(pair.b, value)
    fl.check_identity(r, "grace@example.com")
    assert fl.session_cookies(r) == [] and client.cleared(r, fl.SESSION) is None
    # The same on A, for comparison.
    fl.check_identity(get(pair.a, value), "grace@example.com")
    # A's callback replayed on B (state cookie included) is refused: the state
    # was spent in the shared store, and no code goes to WorkOS again.
    before = emulator.counters()["authenticate_code"]
    replay = client.request(pair.b, "GET", fl.local_path(pair.a, s.callback_url),
                            headers=client.BROWSER,
                            cookie=f"{s.state_name}={s.state_cookie}")
    assert replay.status_code == 400, replay.status_code
    assert fl.session_cookies(replay) == []
    assert emulator.counters()["authenticate_code"] == before


def test_b_uses_the_jwks_a_fetched(pair, emulator, make_session, capsys):
    session = make_session("ada@example.com")
    pair.store.flush()
    for h in pair.servers:          # no keys in any process
        pair.restart(h)
    before = emulator.counters()["jwks"]
    fl.check_identity(get(pair.a, session.cookie), "ada@example.com")
    assert emulator.counters()["jwks"] == before + 1
    assert pair.store.exists(jwks_doc_key(emulator))
    children = set()
    for _ in range(12):
        r = get(pair.b, session.cookie)
        fl.check_identity(r, "ada@example.com")
        children.add(r.json()["ppid"])
    children_b = len(children)
    if pair.b.mpm == "prefork":     # (with mod_cgid the CGI's parent is the cgid daemon)
        assert len(children) >= 2, "B's requests were not spread over several children"
    assert emulator.counters()["jwks"] == before + 1
    # The control: with the store emptied, B has to fetch for itself.
    pair.store.flush()
    pair.restart(pair.b)
    fl.check_identity(get(pair.b, session.cookie), "ada@example.com")
    assert emulator.counters()["jwks"] == before + 2
    with capsys.disabled():
        print(f"\n  {pair.kind}: JWKS fetched once by A and used by B's 12 requests "
              f"({children_b} distinct CGI parents); B alone with an empty store: one more fetch")


# ---- the store restarts in the middle of traffic ------------------------------------

STORE_FAILURES = {
    # mod_socache_redis / mod_socache_memcache report their own failed calls.
    "redis": (r"AH03478", r"AH03479"),
    "memcache": (r"AH00790", r"AH00791"),
}


class Traffic:
    """Valid sessions, round robin over the servers, until stopped."""

    def __init__(self, servers, sessions, threads=2):
        self.servers, self.sessions = servers, sessions
        self.stop_evt = threading.Event()
        self.lock = threading.Lock()
        self.ok, self.bad = [], []       # times of good answers; failures
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, i):
        n = i
        while not self.stop_evt.is_set():
            h = self.servers[n % len(self.servers)]
            email, s = self.sessions[n % len(self.sessions)]
            n += 1
            try:
                r = get(h, s.cookie)
                good = r.status_code == 200 and r.json()["env"]["WORKOS_USER_EMAIL"] == email \
                    and not fl.session_cookies(r) and client.cleared(r, fl.SESSION) is None
            except Exception as e:      # recorded, asserted at the end
                r, good = e, False
            with self.lock:
                if good:
                    self.ok.append(time.monotonic())
                else:
                    self.bad.append((h.dir.name, getattr(r, "status_code", r)))
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_evt.set()
        for t in self.threads:
            t.join(timeout=60)


def test_store_restart_in_the_middle_of_traffic(pair, emulator, make_session, creds, secrets,
                                                expect_log, capsys):
    expect_log(*STORE_FAILURES[pair.kind])
    a, b = pair.a, pair.b
    marks = [h.log_size() for h in pair.servers]
    sessions = [(e, make_session(e)) for e in
                ("ada@example.com", "grace@example.com", "linus@example.com")]
    with Traffic(pair.servers, sessions) as traffic:
        time.sleep(1.0)
        pair.store.kill()
        t_down = time.monotonic()
        time.sleep(0.3)

        # While it is down, each server keeps single flight among its processes.
        old = make_session("ada@example.com", expired=True)
        before = emulator.counters()["authenticate_refresh"]
        shared_refresh(fl.burst([a], old.cookie, 8), old, creds, secrets)
        per_server = emulator.counters()["authenticate_refresh"] - before
        assert per_server == 1

        # A sign-in on B needs the (now local) store for its state.
        browser = fl.Browser(b, secrets, creds.password)
        s = fl.sign_in(browser, emulator, "/private/env.cgi", "linus@example.com")
        assert s.done.status_code == 302
        fl.check_identity(browser.api("/private/env.cgi"), "linus@example.com")
        replay = browser.nav(fl.local_path(b, s.callback_url),
                             cookie=f"{s.state_name}={s.state_cookie}")
        assert replay.status_code == 400

        time.sleep(max(0.0, 3.0 - (time.monotonic() - t_down)))
        pair.store.start()
        t_up = time.monotonic()
        down_for = t_up - t_down
        # Processes try the store again after RETRY_SEC; idle connections expire.
        time.sleep(RETRY_SEC + 2)

        # Shared again: a split burst needs at most two refreshes upstream.
        old2 = make_session("grace@example.com", expired=True)
        before = emulator.counters()["authenticate_refresh"]
        shared_refresh(fl.burst(pair.servers, old2.cookie, 16), old2, creds, secrets,
                       "grace@example.com")
        after_restart = emulator.counters()["authenticate_refresh"] - before
        assert after_restart <= 2
        time.sleep(0.5)

    assert traffic.bad == [], traffic.bad[:10]
    during = sum(1 for t in traffic.ok if t_down < t < t_up)
    later = sum(1 for t in traffic.ok if t > t_up)
    assert during >= 3 and later >= 3, (during, later)
    for h, m in zip(pair.servers, marks):
        text = h.log_since(m)
        down = [line for line in text.splitlines() if "WOS00801:" in line]
        back = [line for line in text.splitlines() if "WOS00803:" in line]
        assert len(down) == 1, f"{h.dir.name}: outage logged {len(down)} times"
        assert "[auth_workos:warn]" in down[0] and f"{pair.kind}:127.0.0.1:" in down[0]
        assert len(back) == 1, f"{h.dir.name}: recovery logged {len(back)} times"
        assert "[auth_workos:notice]" in back[0]
    with capsys.disabled():
        print(f"\n  {pair.kind} restart: down {down_for:.1f} s, {len(traffic.ok)} valid-session "
              f"requests all 200 ({during} while down); burst on one server while down: "
              f"{per_server} refresh; "
              f"split burst after recovery: {after_restart} refresh(es)")
