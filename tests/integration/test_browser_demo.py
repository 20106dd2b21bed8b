# SPDX-License-Identifier: Apache-2.0
"""The demo, as a person uses it: `demo/run` brings up the AuthKit emulator and
httpd with conf/demo.conf, and headless Chromium (Debian's, driven by
playwright-core from npm) signs in, is refused /admin/ as a member, switches
organization, opens /admin/ as an admin there, signs out, and is asked to sign
in again. Each step is one test."""
import json
import os
import signal
import socket
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
COMPAT = TOP / "tests" / "compat"
STEPS = ["redirected-to-sign-in", "signed-in", "identity-is-the-user", "member-denied-admin",
         "switched-organization", "admin-allowed-after-switch", "signed-out",
         "asked-to-sign-in-again"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_dir():
    env = os.environ.get("WOS_BUILDDIR")
    if env:
        return Path(env)
    return TOP if (TOP / "mod_auth_workos.so").exists() else TOP / "build"


def admin_org_of(email):
    """The organization in which the emulator's demo user is an admin."""
    data = json.loads((TOP / "tests" / "emulator" / "users.json").read_text())
    users = data.get("users", data) if isinstance(data, dict) else data
    for user in users:
        if user.get("email") == email:
            for m in user.get("memberships", []):
                if m.get("role") == "admin":
                    return m["organization_id"]
    raise AssertionError(f"no admin membership for {email} in users.json")


def wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def browser_run():
    # Not under pytest's 0700 tmp root: httpd's children (www-data when run as
    # root) must reach the CGI daemon's socket in here.
    run = Path(tempfile.mkdtemp(prefix="wos-demo-"))
    run.chmod(0o755)
    port, emu = free_port(), free_port()
    env = dict(os.environ, WOS_SKIP_INSTALL="1", WOS_BUILDDIR=str(build_dir()),
               WOS_DEMO_RUNDIR=str(run), WOS_DEMO_PORT=str(port), WOS_EMULATOR_PORT=str(emu))
    for k in ("WORKOS_CLIENT_ID", "WORKOS_API_KEY", "WORKOS_COOKIE_PASSWORD",
              "WORKOS_API_BASE_URL"):
        env.pop(k, None)
    log = open(run / "demo.out", "w")
    demo = subprocess.Popen([str(TOP / "demo" / "run")], cwd=TOP, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_port(port, demo), "demo did not come up:\n" + (run / "demo.out").read_text()
        user = "grace@example.com"
        flow = subprocess.run(
            ["/usr/bin/node", str(COMPAT / "browser_flow.mjs"), f"http://localhost:{port}",
             str(run)],
            cwd=COMPAT, capture_output=True, text=True, timeout=180,
            env=dict(os.environ, WOS_BROWSER_USER=user, WOS_BROWSER_SWITCH_ORG=admin_org_of(user)))
        steps = {}
        for line in flow.stdout.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            steps[rec["step"]] = rec
        yield {"steps": steps, "stdout": flow.stdout, "stderr": flow.stderr, "run": run}
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(run, ignore_errors=True)


@pytest.mark.parametrize("step", STEPS)
def test_browser_step(browser_run, step):
    rec = browser_run["steps"].get(step)
    assert rec is not None, ("step not reached\n" + browser_run["stdout"] + browser_run["stderr"])
    assert rec["ok"], rec


def test_demo_error_log_is_clean(browser_run):
    errors = [line for line in (browser_run["run"] / "error.log").read_text().splitlines()
              if any(f":{lvl}]" in line or f"[{lvl}]" in line
                     for lvl in ("error", "crit", "alert", "emerg"))
              or "exit signal" in line]
    # httpd logs every authorization refusal at error level: the member denied /admin/.
    errors = [line for line in errors if "AH01631" not in line]
    assert errors == []
