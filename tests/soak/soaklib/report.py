# SPDX-License-Identifier: Apache-2.0
"""The results table."""
import os
import time

from .verdict import ms
from .wrk import FLAT


def fmt_statuses(st):
    return " ".join(f"{k}:{v}" for k, v in sorted(st.items())) or "-"


def render(opts, phases, facts, checks, seconds):
    o = opts
    lines = [f"# tests/soak/run ({'quick' if o.quick else 'full'}) "
             f"{time.strftime('%Y-%m-%d %H:%M:%S')}",
             f"machine: {os.cpu_count()} CPUs, load average "
             f"{open('/proc/loadavg').read().split()[0]} at the end; {seconds:.0f} s in all",
             f"build: {facts.get('build')}",
             f"httpd: mpm_event, {o.processes} children x {o.threads} threads, Mutex {o.mutex}; "
             f"WorkOSHTTPTimeout {o.http_timeout}, token lifetime {o.token_ttl} s",
             "wrk per class: " + ", ".join(f"{c} -c{n}" for c, n in o.conns.items()),
             "", "## Phases (statuses; socket errors connect/read/write; timeouts; "
             "latency in ms)", ""]
    head = (f"{'phase':<28}{'class':<10}{'requests':>9} {'statuses':<26}{'sock':>7}"
            f"{'tmo':>5}{'p50':>8}{'p99':>9}{'max':>9}{'new ck':>7}")
    lines += [head, "-" * len(head)]
    for ph in phases:
        for cls, r in ph.results.items():
            sock = f"{r.get('err_connect', 0)}/{r.get('err_read', 0)}/{r.get('err_write', 0)}"
            lines.append(f"{ph.name:<28}{cls:<10}{r['requests']:>9} "
                         f"{fmt_statuses(r['statuses']):<26}{sock:>7}{r.get('err_timeout', 0):>5}"
                         f"{ms(r['p50_us']):>8.2f}{ms(r['p99_us']):>9.2f}{ms(r['max_us']):>9.1f}"
                         f"{r.get('refreshed', 0):>7}")
        c = ph.counters
        lines.append(f"{'':<28}upstream: {c.get('authenticate_refresh', 0)} refresh calls "
                     f"({c.get('authenticate_errors', 0)} answered with an error), {c.get('jwks', 0)} JWKS "
                     f"fetches, {c.get('connections', 0)} connections"
                     + ("; " + "; ".join(ph.notes) if ph.notes else ""))
    lines += ["", "## Requests that do not need WorkOS: p50 / p99 ms before, during, after "
              "each fault", ""]
    head = f"{'fault':<28}{'class':<10}{'before':>18}{'during':>18}{'after':>18}"
    lines += [head, "-" * len(head)]
    by_before = {id(ph.before): ph for ph in phases if ph.before is not None}
    for ph in phases:
        if ph.kind != "fault":
            continue
        after = by_before.get(id(ph))
        for cls in FLAT:
            cells = []
            for p in (ph.before, ph, after):
                r = p.results[cls] if p else None
                cells.append(f"{ms(r['p50_us']):.2f} / {ms(r['p99_us']):.2f}" if r else "-")
            lines.append(f"{ph.name:<28}{cls:<10}" + "".join(f"{c:>18}" for c in cells))
    (m0, rss0, s0), (m1, rss1, s1) = facts["start"], facts["graceful"]
    lines += ["", "## Resources", "",
              f"parent after start: {m0[0]} shared mappings ({m0[1] // 1024} KB), "
              f"RSS {rss0} KB, {s0} SysV objects",
              f"parent after the graceful restarts: {m1[0]} shared mappings "
              f"({m1[1] // 1024} KB), RSS {rss1} KB ({(rss1 - rss0) / max(1, o.gracefuls):+.0f} "
              f"KB per restart), {s1} SysV objects",
              f"left after stop: SysV {facts['leaked'] or 'none'}; other users' new SysV "
              f"objects (ignored): {facts['ipc_foreign'] or 'none'}; /dev/shm in use by "
              f"others (ignored): {facts['shm_foreign'] or 'none'}; run/ holds "
              f"{facts['run_left'] or 'nothing'}",
              "error-log tags: " + ", ".join(f"{k} x{v}" for k, v in
                                             sorted(facts["tags"].items())),
              "", "## Checks", "", checks.render(), ""]
    return "\n".join(lines) + "\n"
