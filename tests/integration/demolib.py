# SPDX-License-Identifier: Apache-2.0
"""Starting and stopping `demo/run` for the tests (test_demo_*.py): its own
ports, scratch directory and build, its output in the scratch directory,
stopped with its whole process group."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
DEMO = TOP / "demo" / "run"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(build, run, port, emu_port):
    env = dict(os.environ, WOS_SKIP_INSTALL="1", WOS_BUILDDIR=str(build),
               WOS_DEMO_RUNDIR=str(run), WOS_DEMO_PORT=str(port),
               WOS_EMULATOR_PORT=str(emu_port))
    for k in ("WORKOS_CLIENT_ID", "WORKOS_API_KEY", "WORKOS_COOKIE_PASSWORD",
              "WORKOS_API_BASE_URL", "WORKOS_ISSUER", "WOS_DEMO_LISTEN", "MAKEFLAGS"):
        env.pop(k, None)
    return env


class Demo:
    """One `demo/run` in the background."""

    def __init__(self, build):
        # Not under pytest's 0700 tmp root: httpd's children (www-data when
        # run as root) must reach the CGI daemon's socket in here.
        self.run = Path(tempfile.mkdtemp(prefix="wos-demo-"))
        self.run.chmod(0o755)
        self.port, self.emu_port = free_port(), free_port()
        self.build = build
        self.env = demo_env(build, self.run, self.port, self.emu_port)
        self.out = open(self.run / "demo.out", "w")
        self.proc = subprocess.Popen([str(DEMO)], cwd=TOP, env=self.env, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if not self.wait_ready():
            self.stop()
            raise AssertionError("demo did not come up:\n" + self.output())

    @property
    def url(self):
        return f"http://localhost:{self.port}"

    def output(self):
        return (self.run / "demo.out").read_text()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            if "Ctrl-C to stop" in self.output():
                return True
            time.sleep(0.2)
        return False

    def httpd_pid(self):
        return int((self.run / "httpd.pid").read_text())

    def error_log(self):
        p = self.run / "error.log"
        return p.read_text() if p.exists() else ""

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.out.close()

    def remove(self):
        shutil.rmtree(self.run, ignore_errors=True)


COMPAT = TOP / "tests" / "compat"


def run_flow(script, *args, timeout=240, env=None):
    """A browser walk (tests/compat/<script>, one JSON line per step) against a
    demo: {"steps": {name: record}, "stdout", "stderr"}."""
    out = subprocess.run(["/usr/bin/node", str(COMPAT / script), *map(str, args)], cwd=COMPAT,
                         capture_output=True, text=True, timeout=timeout,
                         env=dict(os.environ, **(env or {})))
    steps = {}
    for line in out.stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        steps[rec["step"]] = rec
    return {"steps": steps, "stdout": out.stdout, "stderr": out.stderr}
