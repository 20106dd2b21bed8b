# SPDX-License-Identifier: Apache-2.0
"""Paths, the build under test, and the tools the benchmark needs (installed
with apt-get when missing and allowed)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
APACHE2 = "/usr/sbin/apache2"
MODDIR = Path("/usr/lib/apache2/modules")
OPENIDC_SO = MODDIR / "mod_auth_openidc.so"
PYTHON = "/usr/bin/python3"


class BenchError(Exception):
    """A precondition or check failed: the run stops and says why."""


def build_dir():
    """$WOS_BUILDDIR, else build/ in the repository (scripts/build)."""
    env = os.environ.get("WOS_BUILDDIR")
    return Path(env).resolve() if env else TOP / "build"


def find_build():
    """(module .so, sealtool) of the build under test."""
    d = build_dir()
    so, tool = d / "mod_auth_workos.so", d / "tests" / "tools" / "sealtool"
    for path in (so, tool):
        if not path.exists():
            raise BenchError(f"{path} is missing: run scripts/build (or set WOS_BUILDDIR "
                             "to a built tree) first")
    return so, tool


def sanitized(so):
    """True when the module was built with --enable-sanitizers (numbers meaningless)."""
    out = subprocess.run(["ldd", str(so)], capture_output=True, text=True, timeout=30).stdout
    return "libasan" in out or "libubsan" in out


def apt_install(packages, log):
    """apt-get install; one `apt-get update` and a retry when that fails."""
    if os.geteuid() != 0:
        raise BenchError(f"missing {' '.join(packages)}: install them (apt-get install) "
                         "or run as root so bench/run can")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    log(f"installing {' '.join(packages)} with apt-get")
    if subprocess.run(cmd, env=env, capture_output=True, timeout=600).returncode == 0:
        return
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise BenchError(f"apt-get install {' '.join(packages)} failed:\n{out.stderr[-800:]}")


def perf_counts(event="instructions"):
    """True when `perf stat -e EVENT` counts in this machine (not in most VMs)."""
    if not shutil.which("perf"):
        return False
    try:
        out = subprocess.run(["perf", "stat", "-x", ",", "-e", event, "true"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and re.search(r"^[\d.]+,", out.stderr, re.M) is not None


def ensure_tools(log, perf_event):
    """wrk, mod_auth_openidc and an instruction counter; returns "perf" or "callgrind"."""
    missing = []
    if not shutil.which("wrk"):
        missing.append("wrk")
    if not OPENIDC_SO.exists():
        missing.append("libapache2-mod-auth-openidc")
    if not shutil.which("perf") and not shutil.which("valgrind"):
        missing.append("linux-perf")
    if missing:
        apt_install(missing, log)
    if perf_counts(perf_event):
        return "perf"
    if not shutil.which("valgrind"):
        apt_install(["valgrind"], log)
    return "callgrind"


def version_of(cmd, pattern):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "?"
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else "?"


def versions():
    """Versions of what is measured, for the report."""
    dpkg = ["dpkg-query", "-W", "-f", "${Version}"]
    return {
        "apache2": version_of([APACHE2, "-v"], r"Apache/(\S+)"),
        "mod_auth_openidc": version_of(dpkg + ["libapache2-mod-auth-openidc"], r"(\S+)"),
        "wrk": version_of(["wrk", "-v"], r"wrk (\S+)"),
        "tree": version_of(["git", "-C", str(TOP), "describe", "--always", "--dirty"],
                           r"(\S+)"),
    }
