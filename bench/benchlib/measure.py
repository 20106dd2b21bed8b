# SPDX-License-Identifier: Apache-2.0
"""The measurements: answer checks, interleaved wrk rounds, RSS growth, the
refresh storm and the other CPU load seen while measuring."""
import os
import resource
import statistics
import time
from pathlib import Path

from . import client, wrk
from .servers import proc_stat
from .tools import BenchError

TICK = os.sysconf("SC_CLK_TCK")


# ---- answers --------------------------------------------------------------

def check(loc, body):
    """200 and the page with the credentials, unauth_status without them, and
    no Set-Cookie on an authenticated answer (so no refresh is being measured)."""
    status, got, headers = client.get(loc.httpd.port, loc.path, loc.headers)
    if status != 200 or got != body:
        raise BenchError(f"location {loc.num} ({loc.path}) answered {status} with its "
                         "credentials, not 200 and the page")
    if loc.headers and headers.get_all("Set-Cookie"):
        raise BenchError(f"location {loc.num} set a cookie on an authenticated request")
    status, _, _ = client.get(loc.httpd.port, loc.path)
    if status != loc.unauth_status:
        raise BenchError(f"location {loc.num} ({loc.path}) answered {status} without "
                         f"credentials, not {loc.unauth_status}")
    if loc.headers and loc.unauth_status != 200:
        bad = {k: v[:-8] + "AAAAAAAA" for k, v in loc.headers.items()}
        status, _, _ = client.get(loc.httpd.port, loc.path, bad)
        if status != 401:
            raise BenchError(f"location {loc.num} answered {status} to damaged credentials")


# ---- CPU used by processes other than ours ---------------------------------

class CpuWatch:
    """Share of the machine's CPU time used by processes other than the
    benchmark's own (httpd, emulator, wrk, this script) between start and stop."""

    def __init__(self, site):
        self.site = site

    @staticmethod
    def machine():
        """(busy, total) ticks of all CPUs; busy includes irq and softirq time,
        which the kernel also charges to the processes it interrupted."""
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        total = sum(fields[:8])
        return total - fields[3] - fields[4], total

    def ours(self):
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = os.times()
        secs = kids.ru_utime + kids.ru_stime + me.user + me.system
        ticks = sum(h.cpu_ticks() for h in self.site.instances if h.proc)
        return ticks + secs * TICK + self.emulator_ticks()

    def emulator_ticks(self):
        st = proc_stat(self.site.emu.proc.pid)
        return st[1] if st else 0

    def start(self):
        self.t0 = (self.machine(), self.ours())

    def stop(self):
        (busy0, total0), ours0 = self.t0
        (busy1, total1), ours1 = self.machine(), self.ours()
        if total1 <= total0:
            return 0.0
        return max(0.0, 100.0 * ((busy1 - busy0) - (ours1 - ours0)) / (total1 - total0))


# ---- throughput -----------------------------------------------------------

def passes(opts):
    """(name, httpd CPUs, wrk CPUs) of each throughput pass: the CPUs shared
    by all, then (with two CPUs or more) httpd and wrk each on CPUs of their
    own, so that wrk's share does not dilute the differences between locations."""
    n = os.cpu_count() or 1
    out = [("shared CPUs", None, None)]
    if opts.isolate and n >= 2:
        half = n // 2
        out.append(("isolated CPUs", f"0-{half - 1}", f"{half}-{n - 1}"))
    return out


def throughput(site, locs, opts, log, httpd_cpus=None, wrk_cpus=None):
    """Warm every location, then `rounds` interleaved wrk runs (1,2,3,4,5,1,...),
    with httpd and wrk on the CPUs given (None: all)."""
    everything = f"0-{(os.cpu_count() or 1) - 1}"
    for h in site.instances:
        h.pin(httpd_cpus or everything)
    opts.wrk_cpus = wrk_cpus
    try:
        return rounds(site, locs, opts, log)
    finally:
        opts.wrk_cpus = None
        for h in site.instances:
            h.pin(everything)


SLICE = 2                       # seconds: the locations take turns this often


def rounds(site, locs, opts, log):
    """opts.rounds rounds; in each, every location gets opts.seconds of wrk in
    slices of SLICE seconds taken in turn (1,2,3,...,12,1,2,...). The host's
    slow spells last seconds to tens of seconds: with one 8-second run per
    location they fell on some locations of a round and not others."""
    for loc in locs:
        wrk.on(loc, opts.warmup, opts)
    length = min(SLICE, opts.seconds)
    slices = max(1, round(opts.seconds / length))
    runs = {loc.num: [] for loc in locs}
    watch = CpuWatch(site)
    for r in range(opts.rounds):
        got = {loc.num: [] for loc in locs}
        for _ in range(slices):
            for loc in locs:
                watch.start()
                ticks = loc.httpd.cpu_ticks()
                res = wrk.on(loc, length, opts)
                res["ticks"] = loc.httpd.cpu_ticks() - ticks
                res["other_cpu"] = watch.stop()
                got[loc.num].append(res)
        for loc in locs:
            res = merge_slices(got[loc.num])
            runs[loc.num].append(res)
            log(f"round {r + 1}/{opts.rounds} location {loc.num}: {res['rps']:.0f} req/s, "
                f"p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms, "
                f"httpd {res['cpu_us']:.1f} us CPU/request, other CPU {res['other_cpu']:.0f}%")
    return {num: summarize(rs) for num, rs in runs.items()}


def merge_slices(parts):
    """One round of a location from its slices: requests over seconds, the
    median slice's latency percentiles, httpd CPU over requests."""
    requests = sum(p["requests"] for p in parts)
    return {"rps": requests / sum(p["seconds"] for p in parts),
            "p50": statistics.median(p["p50"] for p in parts),
            "p99": statistics.median(p["p99"] for p in parts),
            "cpu_us": sum(p["ticks"] for p in parts) / TICK * 1e6 / max(1, requests),
            "socket_errors": sum(p["socket_errors"] for p in parts),
            "other_cpu": max(p["other_cpu"] for p in parts)}


def summarize(rs):
    med = lambda key: statistics.median(r[key] for r in rs)  # noqa: E731
    return {"rps": med("rps"), "p50": med("p50"), "p99": med("p99"), "cpu_us": med("cpu_us"),
            "all_rps": [r["rps"] for r in rs], "all_p99": [r["p99"] for r in rs],
            "socket_errors": sum(r["socket_errors"] for r in rs),
            "other_cpu": max(r["other_cpu"] for r in rs)}


# ---- memory ---------------------------------------------------------------

def vmrss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def rss_growth(loc, total, rate, opts, log):
    """VmRSS of each child before and after `total` requests to loc (at about
    `rate` requests/s, to size the wrk runs)."""
    h = loc.httpd
    pids = h.children()
    before = {p: vmrss_kb(p) for p in pids}
    done, t0 = 0, time.time()
    while done < total:
        secs = int(min(60, max(2, (total - done) / rate + 1)))
        res = wrk.on(loc, secs, opts)
        done += res["requests"]
        rate = max(res["rps"], 100.0)
        log(f"RSS run: {done}/{total} requests")
    after = {p: vmrss_kb(p) for p in pids}
    if sorted(h.children()) != sorted(pids):
        raise BenchError("an httpd child was replaced during the RSS run")
    return {"requests": done, "seconds": time.time() - t0,
            "children": [(p, before[p], after[p]) for p in pids]}


# ---- refresh storm --------------------------------------------------------

def percentile(values, pct):
    vals = sorted(values)
    return vals[min(len(vals) - 1, int(round(pct / 100.0 * (len(vals) - 1))))]


def refresh_storm(site, loc, count, concurrency, log):
    """count distinct expired sessions, each requested once, concurrency at a
    time: every request must refresh (200 + a new cookie), once each upstream."""
    log(f"minting {count} expired sessions")
    cookie = loc.headers["Cookie"].split("=", 1)[0]
    headers = [{"Cookie": f"{cookie}={site.session(expired=True)[0]}"} for _ in range(count)]
    before, drops = site.emu.counters(), listen_drops()
    wall, results = client.storm(loc.httpd.port, loc.path, headers, concurrency)
    after, drops = site.emu.counters(), listen_drops() - drops
    ok = [r for r in results if r[0] == 200 and r[2]]
    lat = [r[1] for r in results]
    statuses = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    return {"sessions": count, "concurrency": concurrency, "seconds": wall,
            "rps": count / wall, "refreshed_ok": len(ok), "statuses": statuses,
            "p50": percentile(lat, 50), "p99": percentile(lat, 99),
            "upstream_refreshes": after["authenticate_refresh"] - before["authenticate_refresh"],
            "upstream_errors": after["authenticate_errors"] - before["authenticate_errors"],
            "listen_drops": drops}


def listen_drops():
    """TcpExt ListenDrops of the machine: SYNs dropped by full accept queues."""
    lines = [ln.split() for ln in Path("/proc/net/netstat").read_text().splitlines()
             if ln.startswith("TcpExt:")]
    return int(dict(zip(lines[0], lines[1])).get("ListenDrops", 0))
