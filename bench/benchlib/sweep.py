# SPDX-License-Identifier: Apache-2.0
"""Issue 20's sweep: what authentication costs as the number of distinct
active sessions grows (1, 100, 1,000, 10,000, 100,000). Each request of a run
carries one of N valid session cookies in turn; the same cookies go to the
unprotected location for the baseline. A dedicated httpd, with
mod_auth_workos as its only authentication module, serves the sweep:
with the default settings up to 10,000 sessions, and with
--sweep-cache-size (the size docs/scale.md recommends for 100,000 users)
above that. Before measuring, every session has been verified once (the
steady state of a site whose users are signed in). Reports medians of the
rounds, the ratio, VmRSS of each child and the shared segment's figures."""
import json
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

from . import client, wrk
from .instr import Callgrind
from .measure import SLICE
from .site import COOKIE, EMAIL, PAGE
from .tools import BenchError

STATUS = "/workos-status"
DEFAULT_ABOVE = 10_000          # up to this many sessions: the default settings
GOALS = {100: 0.95, 10_000: 0.90, 100_000: 0.85}


def cookies(site, n, path):
    """n distinct cookies of one minted session (sealtool --count: own salts
    and IV each), one a line, in a mode-0600 file; never on a command line."""
    auth = site.emu.session(EMAIL, token_ttl=site.token_ttl)
    path.touch(mode=0o600)
    with open(path, "w") as out:
        res = subprocess.run([str(site.sealtool), "seal-auth", "--password-env",
                              "WOS_BENCH_COOKIE_PASSWORD", "--count", str(n)],
                             input=json.dumps(auth), stdout=out, stderr=subprocess.PIPE,
                             text=True, env=site.env, timeout=600)
    if res.returncode != 0:
        raise BenchError(f"sealtool seal-auth --count failed: {res.stderr.strip()[:200]}")
    return path


def script(workdir, n, cookie_file, threads):
    """wrk Lua: each thread sends its share of the cookies in turn (all of
    them when there are fewer cookies than threads), from a random place."""
    path = workdir / f"wrk-sweep-{n}.lua"
    path.touch(mode=0o600)
    path.write_text(f"""
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local cookies, hdr, at = {{}}, {{}}, 0
function init(args)
  local share = {n} >= {threads}
  local i = 0
  for line in io.lines({wrk.lua_quote(str(cookie_file))}) do
    if not share or i % {threads} == id then
      cookies[#cookies + 1] = "{COOKIE}=" .. line
    end
    i = i + 1
  end
  -- each run (a slice of a round) starts at its own place in the list,
  -- so that short runs, too, go through all the sessions
  math.randomseed(os.time() * 16 + (id or 0))
  at = math.random(0, #cookies - 1)
end
function request()
  at = at % #cookies + 1
  hdr["Cookie"] = cookies[at]
  return wrk.format(nil, nil, hdr)
end
""")
    return path


def rss_kb(pid):
    """(VmRSS, of which shared memory) of a process: the shared cache's pages
    count in the RSS of every child that touched them, once in the machine."""
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields.get("RssShmem", "0 kB").split()[0])


def status(h):
    with urllib.request.urlopen(f"http://127.0.0.1:{h.port}{STATUS}", timeout=30) as r:
        return json.loads(r.read())


def start(site, name, extra):
    h = site.new_httpd(name, openidc=False)
    h.start(site.plain_config() + extra + f'<Location "{STATUS}">\n    SetHandler workos-status\n'
            "    Require all granted\n</Location>\n")
    return h


def warm(h, url, script_path, n, opts, log):
    """Until every session has been verified and stored once (the table's
    stores, or authenticated requests when it is off). Each wrk run goes
    round the cookies once from a random place only if it is long enough:
    it doubles until one is."""
    before = status(h)
    secs, deadline = max(opts.warmup, 2, n // 2000), time.time() + max(300, n / 100)
    while True:
        wrk.run(url, script_path, secs, opts.wrk_threads, opts.conns)
        now = status(h)
        stored = now["shared_session_cache"]["stores"] - before["shared_session_cache"]["stores"]
        seen = now["authenticated"] - before["authenticated"]
        if (stored if now["shared_session_cache"]["capacity"] else seen) >= n:
            return
        if time.time() > deadline:
            raise BenchError(f"warm-up of {n} sessions did not finish ({stored} stored)")
        log(f"sweep {n}: warming, {stored} of {n} sessions stored")
        secs *= 2


def one_round(urls, lua, opts):
    """{key: req/s} of one round: opts.sweep_seconds for each URL, in slices
    of SLICE seconds taken in turn (none, wos[, again], none, ...). The host's
    slow spells last seconds to tens of seconds; with one run per side they
    fell on one side only and moved a round's ratio by up to 20 %. What
    remains is each slice's own spread (about 5 % of a 2-s slice's req/s
    when wrk shares 2 CPUs with httpd, bench/README.md), which only more
    slices average out: hence 24 s, not 8, per side and round."""
    length = min(SLICE, opts.sweep_seconds)
    done = {key: [0, 0.0] for key in urls}
    for _ in range(max(1, round(opts.sweep_seconds / length))):
        for key, url in urls.items():
            res = wrk.run(url, lua, length, opts.wrk_threads, opts.conns)
            done[key][0] += res["requests"]
            done[key][1] += res["seconds"]
    return {key: requests / seconds for key, (requests, seconds) in done.items()}


def one_size(site, h, n, opts, log):
    cookie_file = cookies(site, n, site.workdir / f"cookies-{n}.txt")
    lua = script(site.workdir, n, cookie_file, opts.wrk_threads)
    base = f"http://127.0.0.1:{h.port}"
    none, wos = base + "/none/" + PAGE, base + "/wos/" + PAGE
    wrk.run(none, lua, max(opts.warmup, 1), opts.wrk_threads, opts.conns)
    warm(h, wos, lua, n, opts, log)
    before = status(h)
    urls = {"none": none, "wos": wos}
    if n == opts.sweep_control:
        urls["again"] = none        # the control: the baseline measured twice
    runs = {key: [] for key in urls}
    for r in range(opts.sweep_rounds):
        rps = one_round(urls, lua, opts)
        for key, value in rps.items():
            runs[key].append(value)
        log(f"sweep {n} sessions, round {r + 1}/{opts.sweep_rounds}: "
            + ", ".join(f"{key} {value:.0f}" for key, value in rps.items()) + " req/s")
    after = status(h)
    cookie_file.unlink()
    table = after["shared_session_cache"]
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"n": n, "none": med["none"], "wos": med["wos"], "ratio": med["wos"] / med["none"],
            "control": med["again"] / med["none"] if "again" in med else None,
            "all": runs, "rss": [rss_kb(p) for p in h.children()],
            "table": table, "evicted": table["evictions"]
            - before["shared_session_cache"]["evictions"],
            "verified": (after["authenticated"] - before["authenticated"])
            - (after["cache_hits"] - before["cache_hits"])}


def run(site, opts, log):
    """The sweep over opts.sweep sizes; each httpd is stopped when done."""
    out, h, current = [], None, None
    try:
        for n in opts.sweep:
            want = "default" if n <= DEFAULT_ABOVE else opts.sweep_cache_size
            if want != current:
                if h:
                    h.stop()
                extra = "" if want == "default" else f"WorkOSSessionCacheSize {want}\n"
                h, current = start(site, f"httpd-sweep-{len(out)}", extra), want
            log(f"sweep: {n} sessions ({want} cache settings)")
            res = one_size(site, h, n, opts, log)
            res["settings"] = "defaults" if want == "default" else \
                f"WorkOSSessionCacheSize {want}"
            out.append(res)
    finally:
        if h:
            h.stop()
    return out


# Instructions per request, steady state, 100 cookies on one connection: what
# a request costs when the per-process cache holds the sessions, when /wos/
# also sets a module directive (httpd then merges the module's per-directory
# settings, twice a request), when the process cache is full (as past 1,024
# sessions per process: the shared cache answers), and when it is full and
# there is no shared cache (as before issue 20). (label, sessions, server
# lines, lines in /wos/)
SCENARIOS = [
    ("1 session", 1, "", ""),
    ("100 sessions, process cache", 100, "", ""),
    ("100 sessions, process cache, WorkOSUnauthAction 401 in the location", 100, "",
     "WorkOSUnauthAction 401"),
    ("100 sessions, process cache full: shared cache hits", 100, "WorkOSSessionCache 16\n",
     ""),
    ("100 sessions, process cache full, no shared cache", 100,
     "WorkOSSessionCache 16\nWorkOSSessionCacheSize 0\n", ""),
]


def instructions(site, opts, log):
    """[(label, none, wos)] instructions per request under callgrind (apache2 -X)."""
    path = site.workdir / "cookies-instr.txt"
    lines = cookies(site, 100, path).read_text().split()
    path.unlink()
    out = []
    for i, (label, n, extra, wos_extra) in enumerate(SCENARIOS):
        hdrs = [{"Cookie": f"{COOKIE}={c}"} for c in lines[:n]]
        cg = Callgrind(site, f"callgrind-sweep-{i}", {}, extra, plain=True, wos_extra=wos_extra)
        try:
            port, count = cg.h.port, opts.instr_requests
            for p in ("/none/", "/wos/"):
                client.cycle(port, p + PAGE, hdrs, 2 * n + 10)     # every session seen
            cg.measure(lambda: time.sleep(1))
            idle, idle_secs = cg.measure(lambda: time.sleep(3))
            rate = idle / idle_secs
            row = [label]
            for p in ("/none/", "/wos/"):
                ir, secs = cg.measure(lambda: client.cycle(port, p + PAGE, hdrs, count))
                row.append(max(0.0, ir - rate * secs) / count)
            log(f"callgrind sweep: {label}: {row[1]:.0f} / {row[2]:.0f} instructions")
            out.append(tuple(row))
        finally:
            cg.stop()
    return out


def render_instructions(rows, opts):
    lines = ["", f"Instructions per request (callgrind, apache2 -X, {opts.instr_requests} "
             "keep-alive requests, cookies in turn, idle subtracted): independent of the "
             "machine's load",
             "",
             "| case | no auth | WorkOS | added | no auth / WorkOS |", "|---|---|---|---|---|"]
    for label, none, wos in rows:
        lines.append(f"| {label} | {none:,.0f} | {wos:,.0f} | {wos - none:,.0f} | "
                     f"{none / wos:.3f} |")
    return "\n".join(lines) + "\n"


def render(rows, opts):
    lines = [f"Many sessions (issue 20): wrk -t{opts.wrk_threads} -c{opts.conns}, "
             f"{opts.sweep_seconds} s per location and round in slices of "
             f"{min(SLICE, opts.sweep_seconds)} s taken in turn, each request one of N cookies in "
             f"turn, the same cookies to both locations, medians of {opts.sweep_rounds} "
             "rounds, every session verified once before measuring",
             "",
             "| sessions | settings | no auth req/s | WorkOS req/s | ratio | verified while "
             "measuring | RSS per child kB (of which shared memory) | shared segment: bytes, "
             "capacity, entries, "
             "evicted while measuring |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["table"]
        lines.append(f"| {r['n']:,} | {r['settings']} | {r['none']:.0f} | {r['wos']:.0f} | "
                     f"{r['ratio']:.3f} | {r['verified']} | "
                     f"{', '.join(f'{a} ({b})' for a, b in r['rss'])} | {t['bytes']:,}, "
                     f"{t['capacity']:,}, {t['entries']:,}, {r['evicted']} |")
    lines.append("")
    lines.append("req/s of each round (no auth / WorkOS), and each round's own ratio (its two "
                 "sides measured in alternate slices; for the spread, not the goals):")
    for r in rows:
        pairs = list(zip(r["all"]["none"], r["all"]["wos"]))
        own = [b / a for a, b in pairs]
        lines.append(f"  {r['n']:>7,}: " + " ".join(f"{a:.0f}/{b:.0f}" for a, b in pairs)
                     + "   ratios " + " ".join(f"{x:.3f}" for x in own)
                     + f", median {statistics.median(own):.3f}")
    control = next((r for r in rows if r["control"] is not None), None)
    if control:
        lines += ["", f"Control, {control['n']:,} sessions: no authentication measured a second "
                  "time in the same turns (none, WorkOS, none again): how far the method "
                  "strays with nothing to measure",
                  f"  ratio of the medians {control['control']:.3f}; rounds "
                  + " ".join(f"{b / a:.3f}" for a, b in zip(control["all"]["none"],
                                                             control["all"]["again"]))]
    elif opts.sweep_control:
        lines += ["", f"Control: not measured ({opts.sweep_control:,} sessions, "
                  "--sweep-control, is not one of the sizes)"]
    lines.append("")
    for n, want in GOALS.items():
        row = next((r for r in rows if r["n"] == n), None)
        verdict = "n/a " if row is None else "PASS" if row["ratio"] >= want else "FAIL"
        got = "not measured" if row is None else f"{row['ratio']:.3f} ({row['settings']})"
        lines.append(f"{verdict}  {n:,} sessions >= {want:.2f} x no authentication: {got}")
    return "\n".join(lines) + "\n"
