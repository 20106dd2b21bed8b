"""The processes the benchmark starts: the AuthKit emulator and apache2
instances, all on 127.0.0.1, each in its own session so that stop() leaves
nothing behind."""
import json
import os
import selectors
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from .tools import APACHE2, MODDIR, OPENIDC_SO, PYTHON, TOP, BenchError

EMULATOR = TOP / "tests" / "emulator" / "emulator.py"
BASE_MODULES = ["authz_core", "authn_core", "authz_user", "alias", "mime", "socache_shmcb"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, alive, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline and alive():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_group(proc, timeout=15):
    """SIGTERM to proc, SIGKILL to its whole process group if it lingers."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=5)


def proc_stat(pid):
    """(ppid, utime+stime in ticks) of a live process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def children_of(ppid):
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        st = proc_stat(entry.name)
        if st and st[0] == ppid:
            pids.append(int(entry.name))
    return sorted(pids)


class Emulator:
    """tests/emulator/emulator.py on a free port, with its control plane."""

    def __init__(self, logdir, client_id, api_key, token_ttl):
        self.log = open(Path(logdir) / "emulator.log", "ab")
        self.proc = subprocess.Popen(
            [PYTHON, str(EMULATOR), "--port", "0", "--host", "127.0.0.1", "--quiet",
             "--client-id", client_id, "--api-key", api_key, "--token-ttl", str(token_ttl)],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.client_id = client_id
        try:
            self.port = self._read_ready()
        except Exception:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def _read_ready(self, timeout=30.0):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline, buf = time.time() + timeout, b""
        while time.time() < deadline and b"\n" not in buf and self.proc.poll() is None:
            if sel.select(timeout=0.2):
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    break
                buf += chunk
        sel.close()
        words = buf.split(b"\n")[0].split()
        if len(words) != 2 or words[0] != b"READY":
            raise BenchError("the emulator did not say READY (see emulator.log)")
        return int(words[1])

    def stop(self):
        stop_group(self.proc, timeout=10)
        self.proc.stdout.close()
        self.log.close()

    def call(self, path, body=None, method=None):
        """JSON answer of GET (body None) or POST to a path of the emulator."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def ctl(self, name, body=None, method=None):
        return self.call(f"/__emulator/{name}", body, method)

    def session(self, email, token_ttl, expired=False):
        body = {"email": email, "token_ttl": token_ttl}
        if expired:
            body["expired"] = True
        return self.ctl("session", body)

    def jwks(self):
        return self.call(f"/sso/jwks/{self.client_id}")


class Httpd:
    """One apache2 (mpm_event, a fixed number of processes and threads) in its
    own directory: conf/, htdocs/, run/, logs/."""

    def __init__(self, workdir, name, env, processes, threads):
        self.dir = Path(workdir) / name
        self.name, self.env = name, env
        self.processes, self.threads = processes, threads
        self.port = free_port()
        self.proc = None
        for sub in ("conf", "run", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.error_log = self.dir / "logs" / "error.log"

    def mpm(self):
        """No process or thread is ever started or stopped while measuring."""
        p, t = self.processes, self.threads
        return (f"StartServers {p}\nServerLimit {p}\nThreadLimit {t}\nThreadsPerChild {t}\n"
                f"MaxRequestWorkers {p * t}\nMinSpareThreads 1\n"
                f"MaxSpareThreads {p * t}\nMaxConnectionsPerChild 0\n")

    def base_config(self, module, htdocs, as_user=True, port=None):
        d = self.dir
        user = "User www-data\nGroup www-data\n" if as_user and os.geteuid() == 0 else ""
        mods = [f'LoadModule {m}_module "{MODDIR}/mod_{m}.so"'
                for m in ["mpm_event", *BASE_MODULES]]
        mods += [f'LoadModule auth_workos_module "{module}"',
                 f'LoadModule auth_openidc_module "{OPENIDC_SO}"']
        return f"""# generated by bench/run
ServerRoot "{d}"
Listen 127.0.0.1:{port or self.port}
ServerName 127.0.0.1
PidFile "{d}/run/httpd.pid"
DefaultRuntimeDir "{d}/run"
Mutex file:{d}/run default
ErrorLog "{self.error_log}"
LogLevel warn
{user}{chr(10).join(mods)}
{self.mpm()}# Small files are read, not mapped: each munmap costs a TLB shootdown across
# CPUs, which on a virtual machine is about half of serving the page and the
# same for every location (it would only blur the differences measured).
EnableMMAP Off
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
Timeout 30
LimitRequestFieldSize 65536
TypesConfig /etc/mime.types
DocumentRoot "{htdocs}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{htdocs}">
    Require all granted
</Directory>
"""

    def write(self, text, name="httpd.conf"):
        path = self.dir / "conf" / name
        path.write_text(text)
        path.chmod(0o644)
        return path

    def configtest(self, text):
        """(exit status, output) of `apache2 -t` on a configuration."""
        conf = self.write(text, "configtest.conf")
        out = subprocess.run([APACHE2, "-t", "-d", str(self.dir), "-f", str(conf)],
                             env=self.env, capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr

    def start(self, text):
        conf = self.write(text)
        pidfile = self.dir / "run" / "httpd.pid"
        if pidfile.exists():
            pidfile.unlink()
        with open(self.dir / "logs" / "stderr.log", "ab") as err:
            self.proc = subprocess.Popen(
                [APACHE2, "-d", str(self.dir), "-f", str(conf), "-DFOREGROUND"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                start_new_session=True)
        alive = lambda: self.proc.poll() is None  # noqa: E731
        if not wait_port(self.port, alive) or not self._all_children(alive):
            self.stop()
            raise BenchError(f"apache2 ({self.name}) did not start; see {self.error_log}")

    def _all_children(self, alive, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline and alive():
            if len(self.children()) >= self.processes:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        proc, self.proc = self.proc, None
        stop_group(proc)

    def children(self):
        """The worker processes (the parent's children; event MPM has no others here)."""
        return children_of(self.proc.pid) if self.proc else []

    def pin(self, cpus):
        """Run the parent and every child thread on cpus (a taskset list); later
        children inherit it from the parent."""
        for pid in [self.proc.pid, *self.children()] if self.proc else []:
            out = subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise BenchError(f"taskset failed on httpd pid {pid}: {out.stderr.strip()}")

    def cpu_ticks(self):
        """CPU time of the parent and its children so far, in clock ticks."""
        pids = [self.proc.pid, *self.children()] if self.proc else []
        return sum((proc_stat(p) or (0, 0))[1] for p in pids)

    def mark_log(self):
        """Later severe_log_lines() skip what the log holds now."""
        self.log_mark = self.error_log.stat().st_size if self.error_log.exists() else 0

    def severe_log_lines(self):
        """Error-log lines at level error or above, and crashes, since mark_log()."""
        try:
            with open(self.error_log, "rb") as f:
                f.seek(getattr(self, "log_mark", 0))
                lines = f.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        keys = (":error]", ":crit]", ":alert]", ":emerg]", "exit signal")
        return [ln for ln in lines if any(k in ln for k in keys)]
