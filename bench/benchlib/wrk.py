# SPDX-License-Identifier: Apache-2.0
"""wrk runs and their parsed results. Request headers go through a small Lua
file (mode 0600) so that session cookies and tokens stay off command lines."""
import re
import subprocess
from pathlib import Path

from .tools import BenchError

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def lua_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header_script(workdir, name, headers):
    """A wrk script that only sets headers (no per-request Lua, so no slowdown)."""
    path = Path(workdir) / f"wrk-{name}.lua"
    lines = [f"wrk.headers[{lua_quote(k)}] = {lua_quote(v)}" for k, v in headers.items()]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return path


def ms(value, unit):
    return float(value) * UNITS[unit]


def parse(text):
    """Throughput, latency percentiles (ms) and error counts from wrk --latency."""
    res = {"rps": None, "p50": None, "p75": None, "p90": None, "p99": None,
           "requests": 0, "seconds": None, "non2xx": 0, "socket_errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        res["rps"] = float(m.group(1))
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$",
                                       text, re.M):
        res[f"p{pct}"] = ms(value, unit)
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if m:
        res["requests"] = int(m.group(1))
        res["seconds"] = ms(m.group(2), m.group(3)) / 1e3
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                  text)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
    return res


def on(loc, seconds, opts):
    """One run against a location with the benchmark's wrk options (on the
    CPUs of opts.wrk_cpus when set)."""
    return run(loc.url, loc.script, seconds, opts.wrk_threads, opts.conns,
               getattr(opts, "wrk_cpus", None))


def run(url, script, seconds, threads, conns, cpus=None):
    """One wrk run; raises when wrk fails or any answer was not 2xx/3xx."""
    cmd = (["taskset", "-c", cpus] if cpus else []) + [
        "wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    res = parse(out.stdout)
    if out.returncode != 0 or res["rps"] is None:
        raise BenchError(f"wrk failed on {url}: {out.stderr.strip()[-300:]}")
    if res["non2xx"]:
        raise BenchError(f"wrk got {res['non2xx']} answers other than 2xx/3xx from {url}: "
                         "the benchmark would measure error pages")
    return res
