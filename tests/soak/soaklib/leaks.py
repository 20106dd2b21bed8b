# SPDX-License-Identifier: Apache-2.0
"""What a soak can leave behind: SysV IPC objects (what ipcs -a lists, read
from /proc/sysvipc), /dev/shm entries, shared mappings and RSS of httpd's
parent, told apart from other users' on a shared machine by the PIDs of our
own httpd."""
import os
import subprocess
import threading
import time
from pathlib import Path

from harness import httpd as hd

RSS_PER_RESTART_KB = 64        # a module leaking per generation in the parent shows here


def sysv_objects():
    """{("shm"|"sem"|"msg", id): fields} as ipcs -a lists them (from /proc/sysvipc)."""
    out = {}
    for kind in ("shm", "sem", "msg"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        head = lines[0].split()
        for line in lines[1:]:
            f = dict(zip(head, line.split()))
            ident = f.get("shmid") or f.get("semid") or f.get("msqid")
            out[(kind, int(ident))] = f
    return out


def sem_pids(semid):
    """PIDs of the last operation on each semaphore of a set (ipcs -s -i)."""
    try:
        out = subprocess.run(["ipcs", "-s", "-i", str(semid)], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    pids = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 5 and f[0].isdigit():
            pids.add(int(f[4]))
    return pids


def ours(kind, ident, fields, pids):
    """True when a SysV object was created or last used by one of our processes."""
    if kind == "shm":
        return int(fields.get("cpid", 0)) in pids or int(fields.get("lpid", 0)) in pids
    if kind == "sem":
        return bool(sem_pids(ident) & pids)
    return int(fields.get("lspid", 0)) in pids or int(fields.get("lrpid", 0)) in pids


def dev_shm():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def shm_in_use(name):
    """True when a live process maps or holds open /dev/shm/name."""
    target = f"/dev/shm/{name}"
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if target in (proc / "maps").read_text():
                return True
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) == target:
                    return True
        except OSError:
            continue
    return False


def shared_mappings(pid):
    """(count, bytes) of the shared memory mappings of a process."""
    n = size = 0
    try:
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            f = line.split()
            if f[1].endswith("s"):
                a, b = f[0].split("-")
                n += 1
                size += int(b, 16) - int(a, 16)
    except OSError:
        pass
    return n, size


def vmrss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PidWatch(threading.Thread):
    """Every process of our httpd's process group seen during the run, so that
    SysV objects left behind can be told from other users' on a shared machine."""

    def __init__(self, pgid):
        super().__init__(daemon=True)
        self.pgid, self.pids, self.stop_evt = pgid, {pgid}, threading.Event()

    def run(self):
        while not self.stop_evt.is_set():
            self.pids.update(hd.group_members(self.pgid))
            self.stop_evt.wait(0.2)

    def stop(self):
        self.stop_evt.set()
        self.join(timeout=5)
        self.pids.update(hd.group_members(self.pgid))


def check_leaks(ipc0, shm0, pids, facts, checks, site):
    time.sleep(0.5)
    ipc1, shm1 = sysv_objects(), dev_shm()
    new = {k: f for k, f in ipc1.items() if k not in ipc0}
    leaked = [f"{k[0]} {k[1]}" for k, f in new.items() if ours(*k, f, pids)]
    foreign = [f"{k[0]} {k[1]}" for k, f in new.items() if not ours(*k, f, pids)]
    checks.check(not leaked, "no SysV shared memory, semaphore or queue left by httpd "
                 "(ipcs before start and after stop)", ", ".join(leaked))
    shm_new = sorted(shm1 - shm0)
    orphans = [n for n in shm_new if not shm_in_use(n)]
    checks.check(not orphans, "no /dev/shm entry left behind", ", ".join(orphans))
    (m0, _, sem0), (m1, _, sem1) = facts["start"], facts["graceful"]
    checks.check(m0 == m1, "the parent maps as much shared memory after the graceful "
                 "restarts as after start", f"{m0} -> {m1} (count, bytes)")
    checks.check(sem0 == sem1, "httpd holds as many SysV objects after the graceful "
                 "restarts as after start", f"{sem0} -> {sem1}")
    rss0, rss1 = facts["start"][1], facts["graceful"][1]
    per = (rss1 - rss0) / max(1, facts["restarts"])
    checks.check(per <= RSS_PER_RESTART_KB, f"the parent's RSS grows by at most "
                 f"{RSS_PER_RESTART_KB} KB per graceful restart",
                 f"{rss0} -> {rss1} KB, {per:+.0f} KB per restart")
    run_left = sorted(p.name for p in (site.httpd.dir / "run").iterdir()
                      if p.name != "sanitizer")
    return {"ipc_foreign": foreign, "shm_foreign": [n for n in shm_new if n not in orphans],
            "leaked": leaked, "run_left": run_left}
