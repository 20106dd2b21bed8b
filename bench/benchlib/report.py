# SPDX-License-Identifier: Apache-2.0
"""The report: tables, the ratios the issue asks for, and the goals with
pass/fail (or n/a when a figure could not be measured)."""
import statistics

RSS_LIMIT_KB = 1024


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(value, spec=".2f", missing="n/a"):
    return missing if value is None else format(value, spec)


def ratios(tp):
    g = lambda n, k: tp.get(n, {}).get(k)  # noqa: E731
    return {"(2)/(1) req/s": ratio(g(2, "rps"), g(1, "rps")),
            "(2)/(4) req/s": ratio(g(2, "rps"), g(4, "rps")),
            "(3)/(4) req/s": ratio(g(3, "rps"), g(4, "rps")),
            "p99(2)/p99(1)": ratio(g(2, "p99"), g(1, "p99")),
            "(2)/(5) req/s": ratio(g(2, "rps"), g(5, "rps")),
            # the session formats against node: cache hits (6, 8) and without the cache (7, 9)
            "(6)/(2) req/s": ratio(g(6, "rps"), g(2, "rps")),
            "(8)/(2) req/s": ratio(g(8, "rps"), g(2, "rps")),
            "(7)/(3) req/s": ratio(g(7, "rps"), g(3, "rps")),
            "(9)/(3) req/s": ratio(g(9, "rps"), g(3, "rps")),
            # bearer tokens: (11) against mod_auth_openidc (4) and its baseline (10)
            "(11)/(4) req/s": ratio(g(11, "rps"), g(4, "rps")),
            "(11)/(10) req/s": ratio(g(11, "rps"), g(10, "rps")),
            "p99(11)/p99(10)": ratio(g(11, "p99"), g(10, "p99")),
            # issue 21: the inactivity timeout's cost on the cached hot path
            "(12)/(2) req/s": ratio(g(12, "rps"), g(2, "rps"))}


def rss_max_growth(rss):
    return max(after - before for _, before, after in rss["children"]) if rss else None


def goal(ok, text):
    return ("n/a " if ok is None else "PASS" if ok else "FAIL") + "  " + text


def goals(tp):
    """The throughput and latency goals of one pass."""
    r = ratios(tp)
    check = lambda v, ok: None if v is None else ok(v)  # noqa: E731
    return [
        goal(check(r["(2)/(1) req/s"], lambda v: v >= 0.95),
             f"(2) >= 0.95 x (1) throughput: {fmt(r['(2)/(1) req/s'], '.3f')}"),
        goal(check(r["(2)/(4) req/s"], lambda v: v >= 1.5),
             f"(2) >= 1.5 x (4) throughput: {fmt(r['(2)/(4) req/s'], '.3f')}"),
        goal(check(r["(3)/(4) req/s"], lambda v: v >= 1.0),
             f"(3) >= 1.0 x (4) throughput: {fmt(r['(3)/(4) req/s'], '.3f')}"),
        goal(check(r["p99(2)/p99(1)"], lambda v: v <= 1.10),
             f"p99 of (2) within 10 % of (1): {fmt(r['p99(2)/p99(1)'], '.3f')}"),
        # issue 16: bearer tokens
        goal(check(r["(11)/(4) req/s"], lambda v: v >= 1.5),
             f"(11) >= 1.5 x (4) throughput (bearer vs mod_auth_openidc): "
             f"{fmt(r['(11)/(4) req/s'], '.3f')}"),
        goal(check(r["(11)/(10) req/s"], lambda v: v >= 0.9),
             f"(11) >= 0.9 x (10) throughput (bearer vs none): "
             f"{fmt(r['(11)/(10) req/s'], '.3f')}"),
        goal(check(r["p99(11)/p99(10)"], lambda v: v <= 1.10),
             f"p99 of (11) within 10 % of (10): {fmt(r['p99(11)/p99(10)'], '.3f')}"),
        # issue 21: the inactivity timeout on the hot path
        goal(check(r["(12)/(2) req/s"], lambda v: v >= 0.95),
             f"(12) >= 0.95 x (2) throughput (WorkOSInactivityTimeout on): "
             f"{fmt(r['(12)/(2) req/s'], '.3f')}"),
    ]


def rss_goal(rss, rss_target):
    grow = rss_max_growth(rss)
    note = ""
    if rss and rss["requests"] < rss_target:
        note = f" (only {rss['requests']} requests: indicative)"
    return goal(None if grow is None else grow < RSS_LIMIT_KB,
                f"RSS growth per child under 1,000,000 requests < 1 MB: max "
                f"{fmt(grow, 'd')} kB{note}")


def throughput_table(locs, tp, rounds, name):
    httpd_cpus, wrk_cpus = tp.get("cpus") or (None, None)
    where = (f"httpd on CPUs {httpd_cpus}, wrk on CPUs {wrk_cpus}" if httpd_cpus
             else "httpd and wrk on all CPUs")
    lines = [f"Throughput and latency, {name} ({where}): medians of {rounds} interleaved rounds",
             f"  {'#':<2} {'location':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
             f"{'httpd us':>9} {'other CPU':>9}  req/s of each round"]
    for loc in locs:
        t = tp[loc.num]
        each = " ".join(f"{x:.0f}" for x in t["all_rps"])
        lines.append(f"  {loc.num:<2} {loc.label:<34} {t['rps']:>9.0f} {t['p50']:>8.2f} "
                     f"{t['p99']:>8.2f} {t['cpu_us']:>9.1f} {t['other_cpu']:>8.0f}%  {each}")
    errors = sum(t["socket_errors"] for k, t in tp.items() if k != "cpus")
    if errors:
        lines.append(f"  wrk socket errors over all runs: {errors}")
    base = tp.get(1, {}).get("cpu_us")
    for n in (2, 3, 4):
        if base is not None and n in tp:
            lines.append(f"  ({n}) - (1), httpd CPU per request: "
                         f"{tp[n]['cpu_us'] - base:+.1f} us")
    for n in (11, 4):
        if 10 in tp and n in tp:
            lines.append(f"  ({n}) - (10), httpd CPU per request: "
                         f"{tp[n]['cpu_us'] - tp[10]['cpu_us']:+.1f} us")
    if base is not None and 5 in tp:
        lines.append(f"  (1) - (5), httpd CPU per request: {base - tp[5]['cpu_us']:+.1f} us "
                     "(receiving the Cookie header; the (2)/(5) ratio is for scale, not a goal)")
    return lines


def rss_table(rss):
    if not rss:
        return ["Memory: not measured"]
    lines = [f"Memory: VmRSS per child before/after {rss['requests']} requests to location 2 "
             f"({rss['seconds']:.0f} s)",
             f"  {'pid':>8} {'before kB':>10} {'after kB':>10} {'growth kB':>10}"]
    for pid, before, after in rss["children"]:
        lines.append(f"  {pid:>8} {before:>10} {after:>10} {after - before:>10}")
    return lines


def storm_table(st):
    if not st:
        return ["Refresh storm: not measured"]
    others = ", ".join(f"{k}: {v}" for k, v in sorted(st["statuses"].items()) if k != 200)
    return [f"Refresh storm on location 2: {st['sessions']} distinct expired sessions, "
            f"{st['concurrency']} concurrent, each requested once",
            f"  {st['rps']:.0f} req/s ({st['seconds']:.2f} s), latency p50 {st['p50']:.1f} ms, "
            f"p99 {st['p99']:.1f} ms",
            f"  answered 200 with a new session cookie: {st['refreshed_ok']}/{st['sessions']}"
            + (f"; other answers {others}" if others else ""),
            f"  refreshes the emulator saw: {st['upstream_refreshes']} (one per session "
            f"expected), failed authenticate calls: {st['upstream_errors']}",
            f"  connections dropped by full listen queues meanwhile (TcpExt ListenDrops, "
            f"whole machine): {st['listen_drops']}"] + ([
            "  (dropped SYNs are retried after 1 s: the p99 and the rate then measure a "
            "listen queue, most likely the emulator's, not the module)"]
            if st["listen_drops"] else [])


def instr_table(method, instr, locs):
    if not instr:
        return [f"Instructions per request: not measured ({method})"]
    lines = [f"Instructions per request ({method})"]
    for loc in locs:
        if loc.num in instr:
            lines.append(f"  {loc.num:<2} {loc.label:<34} {instr[loc.num]:>12,.0f}")
    base = instr.get(1)
    for n in sorted(instr):
        if base is not None and n != 1:
            lines.append(f"  ({n}) - (1), the cost of authentication: "
                         f"{instr[n] - base:>12,.0f}")
    for n in (11, 4):
        if 10 in instr and n in instr:
            lines.append(f"  ({n}) - (10), the cost of a bearer token: "
                         f"{instr[n] - instr[10]:>12,.0f}")
    if 2 in instr and 12 in instr and instr[2]:
        lines.append(f"  (12) / (2), WorkOSInactivityTimeout on the hot path: "
                     f"{instr[12] / instr[2]:>8.3f}")
    return lines


def paired(tp):
    """The goal ratios round by round: location a against b measured seconds apart,
    so that a slow spell of the machine (other guests on the host) falls on both.
    For reading the spread; the goals use the ratio of the medians."""
    out = []
    for a, b, key, what in ((2, 1, "all_rps", "req/s"), (3, 4, "all_rps", "req/s"),
                            (2, 1, "all_p99", "p99"), (11, 4, "all_rps", "req/s"),
                            (11, 10, "all_rps", "req/s"), (11, 10, "all_p99", "p99")):
        if a in tp and b in tp and tp[a].get(key) and tp[b].get(key):
            rs = [x / y for x, y in zip(tp[a][key], tp[b][key]) if y]
            out.append(f"  ({a})/({b}) {what} round by round: median {statistics.median(rs):.3f}, "
                       f"range {min(rs):.3f} to {max(rs):.3f}")
    return out


def render(meta, locs, tp, rss, storm, instr, logs):
    lines = [f"mod_auth_workos benchmark, {meta['date']} ({meta['kind']})", ""]
    lines += [f"  {k}: {v}" for k, v in meta["about"].items()]
    lines += ["", "  httpd us: CPU time of httpd's processes per request (user + system, from",
              "  /proc), the server's own cost whatever share of the CPUs wrk takes"]
    for name, t in tp.items():
        lines += [""] + throughput_table(locs, t, meta["rounds"], name)
        lines += [f"  ratio {k:<16} {fmt(v, '.3f')}" for k, v in ratios(t).items()]
        lines += paired(t)
    lines += [""] + rss_table(rss) + [""] + storm_table(storm)
    lines += [""] + instr_table(meta["instr_method"], instr, locs)
    lines += ["", "Goals (issue 5; the bearer ones issue 16)"]
    for name, t in tp.items():
        lines += [f"  {g}  [{name}]" for g in goals(t)]
    lines += ["  " + rss_goal(rss, meta["rss_target"])]
    lines += ["", f"httpd error-log lines at level error or above: {logs}"]
    return "\n".join(lines) + "\n"
