# SPDX-License-Identifier: Apache-2.0
"""Instructions per request for locations 2 and 3 (and 1 and 4 for scale):
`perf stat -e instructions` on the running children where the CPU exposes
the counter, else callgrind on a single-process `apache2 -X`, zeroing and
dumping the counters around a fixed number of keep-alive requests. Both
subtract an idle baseline measured the same way."""
import os
import pwd
import re
import shutil
import subprocess
import time

from . import client, wrk
from .servers import children_of, stop_group, wait_port
from .tools import APACHE2, BenchError


# ---- perf -----------------------------------------------------------------

def perf_count(pids, seconds, event, during=None):
    """Events counted on pids for `seconds`, while during() runs (if given)."""
    cmd = ["perf", "stat", "-x", ",", "-e", event, "-p", ",".join(map(str, pids)),
           "--", "sleep", str(seconds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    res = during() if during else None
    _, err = proc.communicate(timeout=seconds + 60)
    m = re.search(r"^([\d.]+),", err, re.M)
    if not m:
        raise BenchError(f"perf stat gave no count: {err.strip()[-200:]}")
    return float(m.group(1)), res


def perf_per_request(locs, opts, log):
    """{location: instructions per request} from perf stat on each location's children."""
    out = {}
    for loc in locs:
        pids = [loc.httpd.proc.pid, *loc.httpd.children()]
        window = opts.instr_seconds + 2
        idle, _ = perf_count(pids, window, opts.perf_event)
        busy, res = perf_count(pids, window, opts.perf_event,
                               lambda: wrk.on(loc, opts.instr_seconds, opts))
        out[loc.num] = (busy - idle) / res["requests"]
        log(f"perf: location {loc.num}: {out[loc.num]:.0f} {opts.perf_event}/request")
    return out


# ---- callgrind --------------------------------------------------------------

class Callgrind:
    """apache2 -X under callgrind, run as www-data when we are root (httpd would
    switch users itself, and vgdb's pipes must belong to the process's user)."""

    def __init__(self, site, name, config_kw, extra="", plain=False, wos_extra=""):
        """plain: site.plain_config(wos_extra), mod_auth_workos alone (config_kw unused)."""
        self.site = site
        self.h = site.new_httpd(name, processes=1, threads=4, openidc=not plain)
        self.out = self.h.dir / "cg"
        self.out.mkdir()
        self.prefix = ["runuser", "-u", "www-data", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            ids = pwd.getpwnam("www-data")
            for d in (self.h.dir / "run", self.h.dir / "logs", self.out):
                os.chown(d, ids.pw_uid, ids.pw_gid)
        self.h.as_user = False
        conf = self.h.write_config((site.plain_config(wos_extra) if plain else
                                    site.config(self.h, **config_kw)) + extra)
        cmd = [*self.prefix, "valgrind", "--tool=callgrind", "--vgdb=yes",
               f"--vgdb-prefix={self.out}/vgdb", f"--callgrind-out-file={self.out}/cg.out",
               APACHE2, "-X", "-d", str(self.h.dir), "-f", str(conf)]
        with open(self.h.dir / "logs" / "valgrind.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, env=site.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)
        if not wait_port(self.h.port, lambda: self.proc.poll() is None, timeout=180):
            self.stop()
            raise BenchError(f"apache2 -X under callgrind did not start ({self.h.dir}/logs)")

    def control(self, flag):
        cmd = [*self.prefix, "callgrind_control", f"--vgdb-prefix={self.out}/vgdb", flag,
               str(self.valgrind_pid())]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                             env=self.site.env)
        if out.returncode != 0 or "OK" not in out.stdout:
            raise BenchError(f"callgrind_control {flag} failed: {out.stderr.strip()[-200:]}")

    def valgrind_pid(self):
        """The process running apache2 (runuser forks it as its child)."""
        if not self.prefix:
            return self.proc.pid
        kids = children_of(self.proc.pid)
        if not kids:
            raise BenchError("callgrind: apache2 is not running under runuser")
        return int(kids[0])

    def measure(self, action):
        """(instructions, seconds) spent by the server while action() runs."""
        self.control("-z")
        t0 = time.perf_counter()
        action()
        secs = time.perf_counter() - t0
        before = set(self.out.glob("cg.out.*"))
        self.control("-d")
        return self.read_dump(before), secs

    def read_dump(self, before, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for path in set(self.out.glob("cg.out.*")) - before:
                m = re.search(r"^summary:\s+(\d+)", path.read_text(), re.M)
                if m:
                    return int(m.group(1))
            time.sleep(0.2)
        raise BenchError("callgrind wrote no dump")

    def stop(self):
        stop_group(self.proc, timeout=60)


def callgrind_per_request(site, locs, opts, log):
    """{location: instructions per request} from callgrind, idle rate subtracted."""
    groups = {}
    for loc in locs:
        twin = site.twin is not None and loc.httpd is site.twin
        groups.setdefault(twin, []).append(loc)
    out = {}
    for twin, members in groups.items():
        kw = {"nocache_global": True} if twin else {"nocache_location": site.nocache == "location"}
        cg = Callgrind(site, "callgrind-nocache" if twin else "callgrind", kw)
        try:
            out.update(callgrind_group(cg, members, opts, log))
        finally:
            cg.stop()
    return out


def callgrind_group(cg, locs, opts, log):
    port, n = cg.h.port, opts.instr_requests
    for loc in locs:
        client.sequential(port, loc.path, loc.headers, 20)
    cg.measure(lambda: time.sleep(1))        # the rest of start-up, discarded
    idle_ir, idle_secs = cg.measure(lambda: time.sleep(3))
    rate = idle_ir / idle_secs
    out = {}
    for loc in locs:
        ir, secs = cg.measure(lambda: client.sequential(port, loc.path, loc.headers, n))
        out[loc.num] = max(0.0, ir - rate * secs) / n
        log(f"callgrind: location {loc.num}: {out[loc.num]:.0f} instructions/request "
            f"({n} requests, idle {rate:.0f}/s subtracted)")
    return out


def per_request(method, site, locs, opts, log):
    if method == "perf":
        return perf_per_request(locs, opts, log)
    if not shutil.which("callgrind_control"):
        raise BenchError("callgrind_control is missing (package valgrind)")
    return callgrind_per_request(site, locs, opts, log)

