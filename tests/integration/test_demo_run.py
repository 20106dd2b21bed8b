# SPDX-License-Identifier: Apache-2.0
"""The demo cannot be broken by the two things a newcomer does next: rebuilding
(`scripts/build`, which `tests/run` and `make check` also do) while the demo
serves, and starting `demo/run` a second time."""
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

import demolib

TOP = demolib.TOP
BUILD = TOP / "scripts" / "build"
# A source whose object carries the configured version (the User-Agent).
VERSIONED_SOURCE = TOP / "src" / "wos_http.c"


def build(**env):
    """scripts/build; its build directory."""
    out = subprocess.run([str(BUILD)], cwd=TOP, capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, **env))
    assert out.returncode == 0, out.stdout + out.stderr
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def build_dir():
    # The demo loads the module of the tree that scripts/build rebuilds.
    return build()


@pytest.fixture(scope="module")
def demo(build_dir):
    d = demolib.Demo(build_dir)
    yield d
    d.stop()
    d.remove()


class Poller(threading.Thread):
    """Requests through the module (the home page: AuthType WorkOS, pass) in a loop."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.statuses, self.errors = url, [], []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                r = requests.get(self.url + "/", timeout=30, headers={"Connection": "close"})
                self.statuses.append(r.status_code)
            except requests.RequestException as e:
                self.errors.append(repr(e))
            time.sleep(0.02)

    def stop(self):
        self.halt.set()
        self.join(timeout=60)


def test_rebuild_while_the_demo_serves(demo, build_dir):
    so = build_dir / "mod_auth_workos.so"
    before = so.stat()
    poller = Poller(demo.url)
    poller.start()
    try:
        # A rebuild whose module differs (another version string), as after an edit.
        VERSIONED_SOURCE.touch()
        assert build(MAKEFLAGS="PACKAGE_VERSION=0.0.0-rebuilt-by-test") == build_dir
        after, rebuilt = so.stat(), so.read_bytes()
        n = len(poller.statuses)
        deadline = time.time() + 60
        while len(poller.statuses) < n + 30 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        poller.stop()
        VERSIONED_SOURCE.touch()
        build()                                   # back to the configured version
    assert poller.errors == []
    assert len(poller.statuses) > 30
    assert set(poller.statuses) == {200}
    assert "exit signal" not in demo.error_log()
    # The new module is in place, as a new file.
    assert b"0.0.0-rebuilt-by-test" in rebuilt
    assert after.st_ino != before.st_ino, "the module file was rewritten in place"
    # An unchanged rebuild leaves the file alone.
    ino = so.stat().st_ino
    build()
    assert so.stat().st_ino == ino


def second_demo(demo, **change):
    env = dict(demolib.demo_env(demo.build, demo.run, demo.port, demo.emu_port), **change)
    return subprocess.run([str(demolib.DEMO)], cwd=TOP, env=env, capture_output=True,
                          text=True, timeout=120)


def site_files(demo):
    return sorted(str(p.relative_to(demo.run)) for p in (demo.run / "site").rglob("*"))


@pytest.mark.parametrize("case", ["same-directory", "other-directory", "emulator-port"])
def test_second_demo_refuses_and_the_first_keeps_serving(demo, case, tmp_path):
    pid, files = demo.httpd_pid(), site_files(demo)
    stamp = (demo.run / "site" / "htdocs" / "style.css").stat().st_mtime_ns
    other = tmp_path / "second"
    change = {"same-directory": {},
              "other-directory": {"WOS_DEMO_RUNDIR": str(other)},
              "emulator-port": {"WOS_DEMO_RUNDIR": str(other),
                                "WOS_DEMO_PORT": str(demolib.free_port())}}[case]
    out = second_demo(demo, **change)
    assert out.returncode == 1, out.stdout + out.stderr
    said = out.stderr
    expect = {"same-directory": "is already running from",
              "other-directory": f"port {demo.port} is already in use",
              "emulator-port": f"port {demo.emu_port} (the AuthKit emulator's) is already in use"}
    assert expect[case] in said, said
    assert "WOS_DEMO_PORT=" in said and "WOS_EMULATOR_PORT=" in said
    assert "nothing was started or changed" in said
    assert not other.exists()                       # touched nothing
    # The first one is untouched and serves.
    assert demo.httpd_pid() == pid and site_files(demo) == files
    assert (demo.run / "site" / "htdocs" / "style.css").stat().st_mtime_ns == stamp
    assert requests.get(demo.url + "/", timeout=30).status_code == 200
    assert demo.proc.poll() is None
