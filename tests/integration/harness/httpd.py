# SPDX-License-Identifier: Apache-2.0
"""One Debian apache2 on 127.0.0.1: its generated configuration, start and
stop (no process left behind), `apache2 -t`, and reading its logs.

Every instance ever created stays in INSTANCES so that the per-test log
guard in conftest.py can read what each one logged during a test."""
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

APACHE2 = "/usr/sbin/apache2"
MODDIR = Path("/usr/lib/apache2/modules")
TOP = Path(__file__).resolve().parents[3]
CGI_SRC = Path(__file__).resolve().parents[1] / "cgi"

INSTANCES = []

# Lines that fail a test whatever it expected.
FATAL = re.compile(r"exit signal|AddressSanitizer|LeakSanitizer|runtime error:|"
                   r"^sanitizer report ")
# httpd 2.4 writes "[module:level]" (or "[level]" for some core lines).
SEVERE = re.compile(r"\[(?:[\w.-]+:)?(error|crit|alert|emerg)\]")


def build_dir():
    """Where mod_auth_workos.so and tests/tools/sealtool were built."""
    env = os.environ.get("WOS_BUILDDIR")
    if env:
        return Path(env)
    return TOP if (TOP / "mod_auth_workos.so").exists() else TOP / "build"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, alive, timeout=20.0):
    """True once 127.0.0.1:port accepts; False if alive() turns false or time runs out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not alive():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def group_members(pgid):
    """PIDs of live (non-zombie) processes in process group pgid."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


SAN_SUPP = TOP / "tests" / "sanitizers"


def sanitizer_runtimes(module):
    """The ASan (and UBSan) runtimes a module built with --enable-sanitizers
    links, as ldd resolves them; [] for a normal build."""
    try:
        out = subprocess.run(["ldd", str(module)], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    asan = re.search(r"libasan\.so\.\d+ => (\S+)", out)
    if not asan:
        return []
    ubsan = re.search(r"libubsan\.so\.\d+ => (\S+)", out)
    return [asan.group(1)] + ([ubsan.group(1)] if ubsan else [])


def sanitizer_env(module, report_dir):
    """apache2 is not instrumented: the runtimes must be preloaded. ASan and
    LeakSanitizer write each process's reports to report_dir/sanitizer.<pid>;
    UBSan's runtime writes to stderr, i.e. the error log, whatever log_path
    says (the path setter it calls is libasan's). The log guard fails on both."""
    runtimes = sanitizer_runtimes(module)
    if not runtimes:
        return {}
    report_dir.mkdir(parents=True, exist_ok=True)
    report_dir.chmod(0o777)         # children write there as www-data
    log = f"log_path={report_dir}/sanitizer"
    return {"LD_PRELOAD": " ".join(runtimes),
            "ASAN_OPTIONS": f"{log}:detect_leaks=1:verify_asan_link_order=0",
            "LSAN_OPTIONS": f"suppressions={SAN_SUPP}/lsan.supp:print_suppressions=0",
            # Goes on after a finding where the build lets it (the module is built
            # with -fno-sanitize-recover: its own findings end the process).
            "UBSAN_OPTIONS": f"{log}:print_stacktrace=1:halt_on_error=0"}


MODULES = ["authz_core", "authn_core", "authz_user", "authz_host", "mime", "dir", "alias",
           "headers", "env", "setenvif", "include", "proxy", "proxy_http", "socache_shmcb"]

MPM_TUNING = {
    "prefork": ("StartServers 4\nMinSpareServers 4\nMaxSpareServers 8\n"
                "ServerLimit 16\nMaxRequestWorkers 16\n"),
    "event": ("StartServers 2\nServerLimit 4\nThreadsPerChild 8\nMaxRequestWorkers 32\n"
              "MinSpareThreads 8\nMaxSpareThreads 32\n"),
}


class Httpd:
    """An apache2 in its own directory: conf/, htdocs/, cgi/, run/, logs/."""

    def __init__(self, workdir, mpm=None, env=None, with_module=True):
        self.dir = Path(workdir)
        self.mpm = mpm or os.environ.get("WOS_IT_MPM", "prefork")
        self.env = dict(os.environ, **(env or {}))
        self.with_module = with_module
        self.port = free_port()
        self.proc = None
        self.stopping = False
        self.checked = {}           # log file -> offset already checked
        for sub in ("conf", "htdocs", "cgi", "run", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "htdocs" / "index.html").write_text("<html><body>hello</body></html>\n")
        for script in CGI_SRC.iterdir():
            shutil.copy(script, self.dir / "cgi" / script.name)
            (self.dir / "cgi" / script.name).chmod(0o755)
        for path in [self.dir, *self.dir.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        # Children run as www-data and dump core (of a crash) here.
        self.core_dir = self.dir / "run" / "cores"
        self.core_dir.mkdir()
        self.core_dir.chmod(0o1777)
        self.san_dir = self.dir / "run" / "sanitizer"
        san = sanitizer_env(self.module_path, self.san_dir) if with_module else {}
        self.env.update(san)
        self.sanitized = bool(san)
        self.error_log = self.dir / "logs" / "error.log"
        self.access_log = self.dir / "logs" / "access.log"
        self.stderr_log = self.dir / "logs" / "stderr.log"
        INSTANCES.append(self)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def module_path(self):
        return build_dir() / "mod_auth_workos.so"

    # ---- configuration -------------------------------------------------

    def load_modules(self):
        mods = [f"mpm_{self.mpm}", *MODULES, "cgi" if self.mpm == "prefork" else "cgid"]
        lines = [f'LoadModule {m}_module "{MODDIR}/mod_{m}.so"' for m in mods]
        if self.with_module:
            lines.append(f'LoadModule auth_workos_module "{self.module_path}"')
        return "\n".join(lines)

    def base_config(self):
        d = self.dir
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        loglevel = "LogLevel warn auth_workos:debug" if self.with_module else "LogLevel warn"
        cgid = f'ScriptSock "{d}/run/cgid.sock"\n' if self.mpm != "prefork" else ""
        # Makes children that switched to www-data dumpable again: a crash
        # leaves a core for crash_report(), and the UBSan runtime, which reads
        # its options from /proc/self/environ at its first report, can read
        # UBSAN_OPTIONS (print_stacktrace) there.
        user += f'CoreDumpDirectory "{self.core_dir}"\n'
        return f"""# generated by tests/integration/harness/httpd.py
ServerRoot "{d}"
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1
PidFile "{d}/run/httpd.pid"
DefaultRuntimeDir "{d}/run"
Mutex file:{d}/run default
ErrorLog "{self.error_log}"
{loglevel}
LogFormat "%h %t \\"%r\\" %>s pid=%P" wos
CustomLog "{self.access_log}" wos
{user}{self.load_modules()}
{MPM_TUNING[self.mpm]}{cgid}TypesConfig /etc/mime.types
DocumentRoot "{d}/htdocs"
DirectoryIndex index.html
Timeout 30
LimitRequestFieldSize 65536
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{d}/htdocs">
    Require all granted
</Directory>
<Directory "{d}/cgi">
    Options +ExecCGI
    SetHandler cgi-script
    Require all granted
</Directory>
"""

    def write_config(self, body, name="httpd.conf"):
        path = self.dir / "conf" / name
        path.write_text(self.base_config() + "\n" + body + "\n")
        path.chmod(0o644)
        return path

    # ---- URL space helpers for test configurations ---------------------

    def cgi_location(self, path, *directives):
        """<Location path> served by the test CGI scripts (path/env.cgi, ...)."""
        return (f'ScriptAlias "{path}" "{self.dir}/cgi/"\n'
                + location(path, *directives))

    def proxy_location(self, path, backend_url, *directives):
        """<Location path> proxied to backend_url + path."""
        return (f'ProxyPass "{path}" "{backend_url}{path}"\n'
                + location(path, *directives))

    def static_location(self, path, *directives):
        return f'Alias "{path}" "{self.dir}/htdocs/"\n' + location(path, *directives)

    # ---- processes -----------------------------------------------------

    def configtest(self, body):
        """`apache2 -t` on a configuration: (exit status, combined output)."""
        conf = self.write_config(body, name="configtest.conf")
        out = subprocess.run([APACHE2, "-t", "-d", str(self.dir), "-f", str(conf)],
                             env=self.env, capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr

    def start(self, body):
        if self.proc:
            self.stop()
        conf = self.write_config(body)
        pidfile = self.dir / "run" / "httpd.pid"
        if pidfile.exists():
            pidfile.unlink()
        with open(self.stderr_log, "ab") as err:
            self.proc = subprocess.Popen(
                [APACHE2, "-d", str(self.dir), "-f", str(conf), "-DFOREGROUND"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                start_new_session=True, preexec_fn=allow_cores)
        if not wait_port(self.port, lambda: self.proc.poll() is None) or not self._pidfile():
            self.stop()
            raise RuntimeError(f"apache2 did not start on port {self.port}:\n"
                               + self.tail(self.stderr_log) + self.tail(self.error_log))
        return self

    def _pidfile(self, timeout=10.0):
        """The parent writes its pidfile once children can be forked."""
        path = self.dir / "run" / "httpd.pid"
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            if path.exists() and path.read_text().strip():
                return True
            time.sleep(0.05)
        return False

    def begin_stop(self):
        """Sends the stop signal without waiting (stop() then waits): servers
        stopped together exit in parallel. The stop is graceful (SIGWINCH):
        - sanitized children run LeakSanitizer as they exit, and httpd's SIGTERM
          path SIGKILLs (losing the reports of) children still at it after a
          few seconds;
        - on SIGTERM, an event child of Debian's apache2 2.4.71 that has just
          served its connections crashes now and then (SIGSEGV in its main
          thread, in mod_mpm_event calling apr_os_sock_get, with no module of
          ours loaded: 2 in 381 start-request-stop cycles, 0 in 600 graceful)."""
        if self.proc is not None and self.proc.poll() is None and not self.stopping:
            self.proc.send_signal(signal.SIGWINCH)
            self.stopping = True

    def stop(self):
        """A graceful stop (SIGWINCH, see begin_stop) to the parent; anything
        of its process group still alive is killed."""
        self.begin_stop()
        proc, self.proc, self.stopping = self.proc, None, False
        if proc is None:
            return
        pgid = proc.pid
        if proc.poll() is None:
            try:
                proc.wait(timeout=60 if self.sanitized else 15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        deadline = time.time() + 5
        while group_members(pgid) and time.time() < deadline:
            time.sleep(0.1)
        for pid in group_members(pgid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def graceful(self, timeout=60.0):
        """apache2 -k graceful by signal; returns once the parent has read its
        configuration again ("resuming normal operations": AH00489 from event,
        AH00163 from prefork). Children of the old generation may still be
        finishing their connections then."""
        pid = int((self.dir / "run" / "httpd.pid").read_text())
        before = self.log_size()
        os.kill(pid, signal.SIGUSR1)
        deadline = time.time() + timeout
        while not re.search(r"AH00489|AH00163", self.log_since(before)):
            assert time.time() < deadline, "httpd did not resume after the graceful restart"
            time.sleep(0.1)

    def child_pids(self):
        """Live processes of this httpd other than the parent."""
        if not self.proc:
            return []
        return [p for p in group_members(self.proc.pid) if p != self.proc.pid]

    # ---- logs ----------------------------------------------------------

    def log_files(self):
        return [self.error_log, self.stderr_log, self.access_log]

    @staticmethod
    def read_from(path, offset):
        """(new text from offset, new end offset)."""
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return "", offset
        return data.decode("utf-8", "replace"), offset + len(data)

    def new_log_lines(self, advance=True):
        """Error-log and stderr lines not yet checked by the log guard."""
        lines = []
        for path in (self.error_log, self.stderr_log):
            text, end = self.read_from(path, self.checked.get(path, 0))
            lines.extend(text.splitlines())
            if advance:
                self.checked[path] = end
        # Any sanitizer report file at all is a finding, whatever it says.
        reports = sorted(self.san_dir.glob("sanitizer.*")) if self.san_dir.is_dir() else []
        for path in reports:
            text, end = self.read_from(path, self.checked.get(path, 0))
            if path not in self.checked and not text:
                text = "(empty)"
            lines.extend(f"sanitizer report {path.name}: {line}" for line in text.splitlines())
            if advance:
                self.checked[path] = end
        return lines

    def log_text(self):
        return self.read_from(self.error_log, 0)[0]

    def log_size(self):
        return self.error_log.stat().st_size if self.error_log.exists() else 0

    def log_since(self, offset):
        return self.read_from(self.error_log, offset)[0]

    def wait_log(self, offset, pattern, timeout=15.0):
        """The error log since @offset once @pattern (a regex) is in it, or
        what it holds at @timeout: lines written in log_transaction come after
        the client has its answer."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(offset)
            if re.search(pattern, text) or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def access_since(self, offset):
        return self.read_from(self.access_log, offset)[0]

    def access_size(self):
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    @staticmethod
    def tail(path, n=40):
        try:
            lines = Path(path).read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return f"--- {path} ---\n" + "\n".join(lines[-n:]) + "\n"


def location(path, *directives):
    body = "".join(f"    {d}\n" for d in directives)
    return f'<Location "{path}">\n{body}</Location>\n'


def allow_cores():
    """In the forked apache2, before exec: cores as large as the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def crash_report(h, limit=6000):
    """Backtraces (gdb) of the cores h's processes left, so that a crash in a
    test run says where it happened; "" when there is none. The kernel names
    them by kernel.core_pattern ("core" or "core.<pid>" on Debian)."""
    out = []
    for core in sorted(h.core_dir.glob("core*")):
        try:
            bt = subprocess.run(
                ["gdb", "-batch", "-nx", "-ex", "bt 30", "-ex", "thread apply all bt 30",
                 APACHE2, str(core)],
                capture_output=True, text=True, timeout=120).stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            bt = f"(no backtrace: {e})"
        frames = "\n".join(l for l in bt.splitlines() if l.startswith(("#", "Thread", "Program")))
        out.append(f"{h.dir.name}: {core.name}:\n{frames[:limit]}")
        core.rename(core.with_name("reported-" + core.name))
    return "\n".join(out)


def bad_lines(lines, allowed=()):
    """Lines a test must fail on: fatal ones always, severe ones unless allowed."""
    bad = []
    for line in lines:
        if FATAL.search(line):
            bad.append(line)
        elif SEVERE.search(line) and not any(re.search(p, line) for p in allowed):
            bad.append(line)
    return bad
