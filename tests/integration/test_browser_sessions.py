# SPDX-License-Identifier: Apache-2.0
"""The demo's "Your sessions" section, as a person uses it: `demo/run`
brings up the AuthKit emulator and httpd with conf/demo.conf
(WorkOSSessionsURI /auth/sessions), and headless Chromium signs one user in
on three browsers, sees them listed on /app/, signs one out, then signs out
everywhere else; the emulator confirms the revocations. Each step is one test."""
import pytest
import requests

import demolib
from test_browser_demo import build_dir

STEPS = ["lists-both-browsers", "signed-out-the-other-browser", "signed-out-everywhere-else",
         "this-browser-still-signed-in"]


@pytest.fixture(scope="module")
def flow():
    demo = demolib.Demo(build_dir())
    try:
        walk = demolib.run_flow("sessions_flow.mjs", demo.url, timeout=240)
        revocations = requests.get(f"http://127.0.0.1:{demo.emu_port}/__emulator/revocations",
                                   timeout=10).json()["revocations"]
        yield dict(walk, run=demo.run, revocations=revocations)
    finally:
        demo.stop()
        demo.remove()


@pytest.mark.parametrize("step", STEPS)
def test_step(flow, step):
    rec = flow["steps"].get(step)
    assert rec is not None, "step not reached\n" + flow["stdout"] + flow["stderr"]
    assert rec["ok"], rec


def test_the_emulator_saw_the_revocations(flow):
    """One revoke for the other browser, one for the third: both through the
    API (the module), none of the signed-in browser's own."""
    steps = flow["steps"]
    assert [r["via"] for r in flow["revocations"]] == ["api", "api"], flow["revocations"]
    kept = steps["signed-out-everywhere-else"]["rows"][0]["id"]
    assert kept not in {r["session_id"] for r in flow["revocations"]}
    assert steps["signed-out-the-other-browser"]["revoked"] == flow["revocations"][0]["session_id"]


def test_demo_error_log_is_clean(flow):
    errors = [line for line in (flow["run"] / "error.log").read_text().splitlines()
              if any(f":{lvl}]" in line for lvl in ("error", "crit", "alert", "emerg"))
              or "exit signal" in line]
    assert errors == []
