# SPDX-License-Identifier: Apache-2.0
"""The harness itself: a real apache2 (prefork and event) starts from a
generated configuration, serves files and the test CGI, and stops without
leaving a process behind; the emulator and the echo backend answer; the log
guard and the secret scan catch what they must; the three ways of sealing a
cookie agree with each other."""
import json
import os
import re
import signal
import socket
import time

import pytest
import requests

from harness import httpd as hd
from harness.backend import headers_of
from harness.cookies import Secrets, iron_seal, iron_unseal


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_httpd_starts_serves_cgi_and_stops_cleanly(httpd_factory, mpm):
    h = httpd_factory(f"plain-{mpm}", mpm=mpm, with_module=False)
    h.start(h.cgi_location("/c/", "Require all granted"))
    r = requests.get(h.url + "/", timeout=10)
    assert (r.status_code, r.text) == (200, "<html><body>hello</body></html>\n")
    r = requests.get(h.url + "/c/env.cgi", headers={"X-Probe": "1"}, timeout=10)
    assert r.status_code == 200
    env = r.json()["env"]
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["HTTP_X_PROBE"] == "1"
    assert env["SERVER_PORT"] == str(h.port)
    assert requests.get(h.url + "/nothing-here", timeout=10).status_code == 404
    children = h.child_pids()
    assert children, "the MPM started no children"
    pgid = h.proc.pid
    h.stop()
    assert hd.group_members(pgid) == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", h.port), timeout=1).close()


def test_httpd_start_failure_is_reported(httpd_factory):
    h = httpd_factory("broken", with_module=False)
    with pytest.raises(RuntimeError, match="NoSuchDirective"):
        h.start("NoSuchDirective on\n")
    assert not h.running()


def test_configtest_reports_status_and_message(httpd_factory):
    h = httpd_factory("configtest", with_module=False)
    assert h.configtest("")[0] == 0
    rc, out = h.configtest("KeepAlive maybe\n")
    assert rc != 0 and "KeepAlive" in out


def test_emulator_answers_and_counts(emulator):
    assert emulator.http.get(emulator.url + "/__emulator/health", timeout=5).json() == {"ok": True}
    emulator.reset()
    assert emulator.counters()["jwks"] == 0
    keys = emulator.jwks()["keys"]
    assert keys and all(k["alg"] == "RS256" for k in keys)
    assert emulator.counters()["jwks"] == 1


def test_backend_echoes_request_headers(backend):
    r = requests.get(backend.url + "/x?y=1", headers={"X-Echo-Me": "v1"}, timeout=5)
    assert r.json()["path"] == "/x?y=1"
    assert headers_of(r)["x-echo-me"] == ["v1"]


def test_log_guard_classifies_lines():
    err = "[Mon Nov 23 10:00:00.1 2026] [auth_workos:error] [pid 1:tid 1] WOS00108: no keys"
    crit = "[Mon Nov 23 10:00:00.1 2026] [core:crit] [pid 1] boom"
    notice = "[Mon Nov 23 10:00:00.1 2026] [core:notice] [pid 1] AH00094: Command line"
    crash = "[Mon Nov 23 10:00:00.1 2026] [core:notice] [pid 1] AH00052: child pid 7 exit signal Segmentation fault (11)"
    asan = "==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x1"
    ubsan = "src/wos_x.c:10:5: runtime error: signed integer overflow"
    assert hd.bad_lines([notice]) == []
    assert hd.bad_lines([err, crit]) == [err, crit]
    assert hd.bad_lines([err, crit], allowed=[r"WOS00108"]) == [crit]
    assert hd.bad_lines([crash, asan, ubsan], allowed=[r".*"]) == [crash, asan, ubsan]


def test_a_crashed_child_leaves_a_core_and_its_backtrace(httpd_factory):
    """A child that dies of SIGSEGV: the log guard's line, and a core that
    crash_report() turns into gdb frames (the guard adds them to its failure)."""
    h = httpd_factory("crash", mpm="prefork", with_module=False)
    h.start("")
    assert requests.get(h.url + "/", timeout=10).status_code == 200
    victim = h.child_pids()[0]
    os.kill(victim, signal.SIGSEGV)
    deadline = time.time() + 10
    while not list(h.core_dir.glob("core*")) and time.time() < deadline:
        time.sleep(0.1)
    h.stop()
    lines = h.new_log_lines()     # read here, so that the guard does not fail this test
    assert any(f"child pid {victim} exit signal Segmentation fault" in l
               for l in hd.bad_lines(lines)), lines
    report = hd.crash_report(h)
    assert re.search(r"^#0 ", report, re.M), report
    assert "core" in report.splitlines()[0]
    assert hd.crash_report(h) == ""          # each core is reported once


def test_secret_scan_finds_values_and_seal_parts(tmp_path):
    s = Secrets()
    seal = iron_seal("p" * 32, {"a": 1})
    s.add("cookie", seal)
    s.add("api key", "sk_test_abcdefghijklmnop")
    s.add("short", "abc")     # too short to scan for without false alarms
    log = tmp_path / "error.log"
    mac = seal[:-2].split("*")[7]
    log.write_text(f"line one\nleaked sk_test_abcdefghijklmnop here\nmac {mac}\nabc\n")
    found = s.scan([log])
    assert ("api key", "error.log", 2) in found
    assert ("cookie (seal part 7)", "error.log", 3) in found
    assert all(n != 4 for _, _, n in found)


def test_python_iron_and_node_iron_session_agree(sealer):
    """The test's own iron code and iron-session open each other's seals."""
    data = {"user": {"id": "user_1", "email": "a@example.com"}, "n": [1, 2, 3]}
    from_node = sealer.node("iron", data=data, ttl=0)
    assert from_node.startswith("Fe26.2*1*") and from_node.endswith("~2")
    assert json.loads(iron_unseal(sealer.password, from_node)) == data
    with pytest.raises(ValueError):
        iron_unseal("x" * 40, from_node)
    ours = iron_seal(sealer.password, data)
    assert sealer.unseal(ours) == data


def test_sealtool_seals_what_the_node_sdk_would(emulator, sealer):
    """sealtool seal-auth and the Node SDK seal the same session object."""
    auth = emulator.session("ada@example.com")
    by_tool = json.loads(iron_unseal(sealer.password, sealer.seal_auth(auth)))
    by_sdk = json.loads(iron_unseal(sealer.password, sealer.node("sdk", auth=auth)))
    assert by_tool == by_sdk
    assert by_sdk["user"]["firstName"] == "Ada"
    assert by_sdk["accessToken"] == auth["access_token"]
