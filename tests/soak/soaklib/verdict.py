# SPDX-License-Identifier: Apache-2.0
"""The assertions: every answer of every phase against what its class must
get, fault by fault, and the error log."""
import datetime
import re
from pathlib import Path

from . import log
from .wrk import CLASSES, FLAT

# Error-log lines that are a finding whatever happened (crashes, sanitizers).
CRASH = re.compile(r"exit signal|AH00052|AH0006[01]|[Ss]egmentation fault|seg fault|"
                   r"AddressSanitizer|LeakSanitizer|runtime error:|double free|"
                   r"free\(\): |malloc\(\): |stack smashing")
SEVERE = re.compile(r"\[(?:[\w.-]+:)?(error|crit|alert|emerg)\]")
TAG = re.compile(r"\b(AH\d{5}|WOS\d{5})\b")


class Checks:
    """Every assertion the soak makes, in order; the last line counts them."""

    def __init__(self):
        self.items = []

    def check(self, ok, what, detail=""):
        self.items.append((bool(ok), what, detail))
        if not ok:
            log(f"FAIL: {what}" + (f" ({detail})" if detail else ""))
        return ok

    @property
    def failed(self):
        return sum(1 for ok, _, _ in self.items if not ok)

    @property
    def passed(self):
        return sum(1 for ok, _, _ in self.items if ok)

    def render(self):
        lines = [("PASS " if ok else "FAIL ") + what + (f": {d}" if d else "")
                 for ok, what, d in self.items]
        return "\n".join(lines)


def ms(us):
    return us / 1000.0


def check_phases(phases, checks, opts):
    for ph in phases:
        for cls, r in ph.results.items():
            spec = CLASSES[cls]
            allowed = spec["fault"] if ph.kind == "fault" else spec["normal"]
            got = r["statuses"]
            other = {k: v for k, v in got.items() if k not in allowed}
            label = f"{ph.name}/{cls}"
            checks.check(r["requests"] > 0 and sum(got.values()) == r["requests"],
                         f"{label}: answers were received ({r['requests']} requests)")
            checks.check(not other, f"{label}: only {sorted(allowed)} answered",
                         f"also {other}" if other else "")
            sock = {k: r.get(f"err_{k}", 0) for k in ("connect", "read", "write", "timeout")}
            checks.check(not any(sock.values()), f"{label}: no socket errors or timeouts",
                         ", ".join(f"{k} {v}" for k, v in sock.items() if v))
            checks.check(r.get("bad_body", 0) == 0, f"{label}: every 200 carries the page",
                         f"{r.get('bad_body', 0)} did not")
            if 503 in allowed:
                checks.check(r.get("no_retry_after", 0) == 0,
                             f"{label}: every 503 has Retry-After",
                             f"{r.get('no_retry_after', 0)} without")
            if cls == "valid":
                checks.check(r.get("refreshed", 0) == 0 and r.get("cleared", 0) == 0,
                             f"{label}: valid sessions are left as they are (no Set-Cookie)")
            if cls in ("expiring", "expired"):
                checks.check(r.get("cleared", 0) == 0, f"{label}: no session is cleared",
                             f"{r.get('cleared', 0)} cleared")
                checks.check(r.get("unmatched", 0) == 0,
                             f"{label}: every new cookie is matched to its session",
                             f"{r.get('unmatched', 0)} without X-Soak-Slot")
        check_fault_specifics(ph, checks, opts)


def check_fault_specifics(ph, checks, opts):
    exp = ph.results.get("expired")
    if ph.kind == "fault":
        n503 = exp["statuses"].get(503, 0)
        checks.check(n503 > 0 and n503 == exp["requests"],
                     f"{ph.name}/expired: expired sessions get 503 while WorkOS is {ph.name}",
                     f"{n503} of {exp['requests']}")
        if ph.fault == "429":
            checks.check(exp.get("retry_after_max") == 7,
                         f"{ph.name}/expired: WorkOS's Retry-After (7) is passed on",
                         f"Retry-After {exp.get('retry_after_min')}..{exp.get('retry_after_max')}")
        if ph.fault != "unreachable" and ph.fault != "unreachable+graceful":
            checks.check(ph.counters.get("jwks", 0) == 0,
                         f"{ph.name}: valid sessions are served from cached keys (no JWKS "
                         "fetch)", f"{ph.counters.get('jwks', 0)} fetches")
        if ph.before is not None and ph.before.close == ph.close:
            for cls in FLAT:
                b, d = ph.before.results[cls], ph.results[cls]
                limit = max(opts.flat_factor * ms(b["p99_us"]), ms(b["p99_us"]) + opts.flat_slack)
                checks.check(ms(d["p99_us"]) <= limit,
                             f"{ph.name}/{cls}: latency stays flat (p99 {ms(d['p99_us']):.1f} ms "
                             f"<= {limit:.1f} ms)",
                             f"before {ms(b['p99_us']):.1f} ms")
    elif ph.before is not None and ph.before.kind == "fault":
        slots = ph.slots["expired"]
        checks.check(ph.recovered.get("expired") == slots,
                     f"{ph.name}/expired: every expired session recovered (200 with a new "
                     "cookie)", f"{ph.recovered.get('expired')} of {slots}")
    if ph.kind != "fault" and ph.fresh:
        checks.check(ph.recovered.get("expired") == ph.slots["expired"],
                     f"{ph.name}/expired: every expired session was refreshed",
                     f"{ph.recovered.get('expired')} of {ph.slots['expired']}")


def check_log(site, checks, phases, opts):
    text = site.httpd.log_text() + read_text(site.httpd.stderr_log)
    lines = text.splitlines()
    crashes = [ln for ln in lines if CRASH.search(ln)]
    checks.check(not crashes, "error log: no crash (exit signal, AH00052, segfault, "
                 "sanitizer report)", "; ".join(crashes[:5]))
    # Without keys (WOS00108) is what the answers of the outage after a graceful
    # restart already show (and fail on): not counted twice.
    windows = [(ph.t0, ph.t1 + 1) for ph in phases if ph.fault == "unreachable+graceful"]
    severe, nokeys = [], 0
    for ln in lines:
        if not SEVERE.search(ln):
            continue
        t = log_time(ln)
        if "WOS00108" in ln and t and any(a <= t <= b for a, b in windows):
            nokeys += 1
        else:
            severe.append(ln)
    for ph in phases:
        if ph.fault == "unreachable+graceful" and nokeys:
            ph.notes.append(f"{nokeys} error-log lines WOS00108 (no usable signing key)")
    checks.check(not severe, "error log: no [error], [crit], [alert] or [emerg] line",
                 f"{len(severe)}: " + "; ".join(severe[:3]) if severe else "")
    want = opts.gracefuls + (0 if opts.no_outage_graceful else 1)
    got = sum(1 for ln in lines if "AH00493" in ln)
    checks.check(got == want, f"error log: {want} graceful restarts done (AH00493)",
                 f"{got} seen")
    resumed = sum(1 for ln in lines if "AH00489" in ln)
    checks.check(resumed == want + 1, "error log: httpd resumed after each restart (AH00489)",
                 f"{resumed} of {want + 1}")
    found = site.secrets.scan([site.httpd.error_log, site.httpd.stderr_log,
                               site.workdir / "emulator.log"])
    checks.check(not found, "no secret (API key, password, cookie, token) in any log",
                 "; ".join(f"{label} in {f}:{n}" for label, f, n in found[:5]))
    tags = {}
    for ln in lines:
        m = TAG.search(ln)
        if m:
            tags[m.group(1)] = tags.get(m.group(1), 0) + 1
    return tags


def log_time(line):
    """Epoch seconds of an error-log line ("[Mon Nov 23 12:26:38.703552 2026] ..."), or None."""
    m = re.match(r"\[(\w{3} \w{3} +\d+ [\d:.]+ \d{4})\]", line)
    if not m:
        return None
    try:
        return datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S.%f %Y").timestamp()
    except ValueError:
        return None


def read_text(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
