# SPDX-License-Identifier: Apache-2.0
"""bench/run keeps working: the smallest run, end to end.

The benchmark is run by hand on a quiet machine, so nothing else would notice
when a change to the harness or the emulator breaks it (a positional argument
that became another parameter did once). This runs it with one round of one
second per location and a two-size sweep. Its numbers mean nothing here; what
is checked is that every location answered as bench/run requires (200 with
credentials, 401 without, no refresh measured, nothing non-2xx) and that the
report holds every part the issues ask for."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

TOP = Path(__file__).resolve().parents[2]
OPENIDC_SO = Path("/usr/lib/apache2/modules/mod_auth_openidc.so")


def sanitized(build):
    out = subprocess.run(["ldd", str(build / "mod_auth_workos.so")], capture_output=True,
                         text=True, timeout=30).stdout
    return "libasan" in out or "libubsan" in out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    build = Path(os.environ.get("WOS_BUILDDIR", TOP / "build"))
    if sanitized(build):
        pytest.skip("bench/run measures the release build, not the ASan+UBSan one")
    for need in ("wrk", "valgrind"):
        assert shutil.which(need), f"{need} is missing: run scripts/install-deps"
    assert OPENIDC_SO.exists(), "libapache2-mod-auth-openidc is missing: run scripts/install-deps"
    out = tmp_path_factory.mktemp("bench") / "results.txt"
    cmd = [sys.executable, str(TOP / "bench" / "run"), "--quick", "--rounds", "1",
           "--seconds", "1", "--warmup", "1", "--conns", "4", "--threads", "8",
           "--rss-requests", "2000", "--storm-sessions", "4", "--storm-concurrency", "2",
           "--instr-requests", "3", "--sweep", "1,20", "--sweep-rounds", "1",
           "--sweep-control", "20",
           "--no-isolate", "--time-limit", "500", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=560,
                         env=dict(os.environ, WOS_BUILDDIR=str(build)))
    assert res.returncode == 0, f"bench/run failed:\n{res.stderr[-3000:]}"
    return out.read_text()


def test_every_location_is_measured(report):
    rows = re.findall(r"^\s+(\d+)\s+\S.*?\s+\d+\s+\d+\.\d+\s+\d+\.\d+", report, re.M)
    assert {str(n) for n in range(1, 13)} <= set(rows), report


def test_goals_of_the_issues_are_reported(report):
    for ratio in ("(2)/(1) req/s", "(2)/(4) req/s", "(11)/(4) req/s", "(11)/(10) req/s",
                  "p99(11)/p99(10)", "(12)/(2) req/s"):
        assert f"ratio {ratio}" in report, ratio


def test_refresh_storm_refreshed_every_session(report):
    assert "answered 200 with a new session cookie: 4/4" in report, report


def test_sweep_covers_each_size(report):
    assert "Many sessions (issue 20)" in report, report
    sweep = report[report.index("Many sessions (issue 20)"):]
    for n in ("1", "20"):
        assert re.search(rf"^\| {n} \| [^|]+ \| \d+ \| \d+ \| \d\.\d{{3}} \|", sweep, re.M), sweep


def test_sweep_control_at_its_size(report):
    """The control (no authentication against itself, in the same turns) is
    reported for the size asked, with a ratio for each round."""
    m = re.search(r"^Control, 20 sessions: .*\n  ratio of the medians (\d\.\d{3}); rounds "
                  r"(\d\.\d{3})$", report, re.M)
    assert m, report
    assert float(m.group(1)) > 0 and float(m.group(2)) > 0, report
    assert not re.search(r"^Control, 1 ", report, re.M), report


def test_sweep_control_missing_is_said():
    """A control size that is not one of the sweep's sizes is reported as not
    measured, not left out in silence."""
    sys.path.insert(0, str(TOP / "bench"))
    keep, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        from benchlib.sweep import render
    finally:
        sys.dont_write_bytecode = keep
    opts = SimpleNamespace(wrk_threads=2, conns=32, sweep_seconds=24, sweep_rounds=1,
                           sweep_control=100)
    row = {"n": 1, "settings": "defaults", "none": 10.0, "wos": 9.0, "ratio": 0.9,
           "control": None, "verified": 0, "rss": [], "evicted": 0,
           "table": {"bytes": 1, "capacity": 1, "entries": 1},
           "all": {"none": [10.0], "wos": [9.0]}}
    out = render([row], opts)
    assert "Control: not measured (100 sessions, --sweep-control, is not one of the sizes)" \
        in out, out
    assert "Control:" not in render([row], SimpleNamespace(**dict(vars(opts),
                                                                 sweep_control=0)))


def test_sweep_instructions_cover_each_case(report):
    """Callgrind's table of the sweep: a row per case, with both counts."""
    sys.path.insert(0, str(TOP / "bench"))
    keep, sys.dont_write_bytecode = sys.dont_write_bytecode, True   # no __pycache__ in bench/
    try:
        from benchlib.sweep import SCENARIOS
    finally:
        sys.dont_write_bytecode = keep
    for label, *_ in SCENARIOS:
        assert re.search(rf"^\| {re.escape(label)} \| [\d,]+ \| [\d,]+ \|", report, re.M), \
            (label, report)


def test_pairs_reports_each_size():
    """bench/pairs, the paired form of the sweep: a row per size, its median
    between the quartiles; bad sizes refused with a usage error."""
    build = Path(os.environ.get("WOS_BUILDDIR", TOP / "build"))
    if sanitized(build):
        pytest.skip("bench/pairs measures the release build, not the ASan+UBSan one")
    env = dict(os.environ, WOS_BUILDDIR=str(build))
    cmd = [sys.executable, str(TOP / "bench" / "pairs"), "--sizes", "1,20", "--pairs", "2",
           "--seconds", "1", "--conns", "4", "--threads", "8"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, f"bench/pairs failed:\n{res.stderr[-3000:]}"
    for n in ("1", "20"):
        m = re.search(rf"^\| {n} \| (\d\.\d{{3}}) \| (\d\.\d{{3}}) \| (\d\.\d{{3}}) \|$",
                      res.stdout, re.M)
        assert m, res.stdout
        median, q1, q3 = (float(x) for x in m.groups())
        assert 0 < q1 <= median <= q3, res.stdout
    bad = subprocess.run(cmd[:2] + ["--sizes", "1,x"], capture_output=True, text=True,
                         timeout=60, env=env)
    assert bad.returncode == 2 and "--sizes" in bad.stderr, bad.stderr


def test_tablewalk_times_lookups():
    """bench/tablewalk: a row per table it is given, a time per lookup in it;
    a size that is not ENTRIES:MEGABYTES refused with a usage error."""
    build = Path(os.environ.get("WOS_BUILDDIR", TOP / "build"))
    tool = build / "bench" / "tablewalk"
    assert tool.exists(), f"{tool} is missing: run scripts/build"
    res = subprocess.run([str(tool), "100:1", "2000:2"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    for entries, mb in (("100", "1"), ("2000", "2")):
        m = re.search(rf"^\| {entries} \| {mb} MB \| (\d+) \| (\d+) to (\d+) \|$", res.stdout, re.M)
        assert m, res.stdout
        median, low, high = (int(x) for x in m.groups())
        assert 0 < low <= median <= high, res.stdout
    for bad in ("100", "100:x", "0:1", "100:0", "100:1x"):
        res = subprocess.run([str(tool), bad], capture_output=True, text=True, timeout=60)
        assert res.returncode == 2 and "usage" in res.stderr and not res.stdout, (bad, res)
