"""t/stress/stresslib.py - what the stress scenarios share (on demand,
run by t/stress/run; loopback only, stdlib only).

  Daemon    a tlswardd of our own in a temp directory: configuration,
            start (optionally under prlimit/taskset), a timestamped log
            (every line the daemon writes, with the seconds since start),
            ports, the worker's pid, RSS and CPU ticks, stop.
  Backend   t/tools/echo.py in one of its modes, or a blackhole listener.
  Probe     legit traffic in a thread: HTTPS requests or echo round trips
            through one established session, with success and latency.
  Row       one line of the result table.

Every process a scenario starts is registered with Daemon/Group and
killed by its pid at the end; nothing is killed by name.
"""
import hashlib
import os
import re
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP_SRCDIR, "contrib"))


def raise_nofile():
    """This process may use as many descriptors as the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def pct(values, p):
    """The p-th percentile (nearest rank) of values; None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def ms(x):
    return "-" if x is None else ("%.1f" % (x * 1000.0))


def poll(cond, timeout, step=0.05):
    """Waits until cond() is true; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def client_ctx(tls13=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def client_hello():
    """The bytes of one valid ClientHello (python's ssl, via memory BIOs)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Row:
    """One scenario's line in the table, with notes printed under it."""

    def __init__(self, name, load):
        self.name, self.load = name, load
        self.ok = self.total = 0
        self.p50 = self.p99 = None
        self.attackers = "-"
        self.rss = "-"
        self.checks = []        # (description, passed)
        self.notes = []

    def legit(self, stats):
        self.ok, self.total = stats["ok"], stats["n"]
        self.p50, self.p99 = stats["p50"], stats["p99"]

    def check(self, passed, what):
        self.checks.append((what, bool(passed)))
        return passed

    def note(self, text):
        self.notes.append(text)

    @property
    def passed(self):
        return bool(self.checks) and all(p for _, p in self.checks)

    def cells(self):
        succ = "-" if not self.total else "%.1f%% (%d/%d)" % (
            100.0 * self.ok / self.total, self.ok, self.total)
        return [self.name, self.load, succ, ms(self.p50), ms(self.p99),
                self.attackers, self.rss, "PASS" if self.passed else "FAIL"]


class Group:
    """Processes a scenario started; stop() kills each by its pid."""

    def __init__(self):
        self.procs = []

    def add(self, p):
        self.procs.append(p)
        return p

    def popen(self, argv, **kw):
        return self.add(subprocess.Popen(argv, **kw))

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


class Backend:
    """t/tools/echo.py MODE on 127.0.0.1:port (port in .port)."""

    def __init__(self, group, tmp, mode, *args, cpu=None):
        pf = os.path.join(tmp, "bport.%s.%d" % (mode, len(group.procs)))
        argv = [sys.executable, os.path.join(TOP_SRCDIR, "t/tools/echo.py"),
                pf, mode] + list(args)
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        self.proc = group.popen(argv)
        if not poll(lambda: os.path.exists(pf), 10):
            raise RuntimeError("backend %s did not start" % mode)
        self.port = int(open(pf).read())


class Blackhole:
    """A listener with listen(0) whose accept queue we fill: a connect to
    it then never completes (SYNs are dropped)."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(0)
        self.port = self.srv.getsockname()[1]
        self.fill = []
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fill.append(s)
        time.sleep(0.2)

    def close(self):
        for s in self.fill:
            s.close()
        self.srv.close()


def closed_port():
    """A loopback port nothing listens on (bound, never listening)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


class Daemon:
    """tlswardd -c TMP/conf -f, its log read line by line and stamped."""

    def __init__(self, opts, tmp, services, main_extra=(), prefix=()):
        self.opts, self.tmp = opts, tmp
        self.conf = os.path.join(tmp, "conf")
        self.admin = os.path.join(tmp, "admin.sock")
        os.makedirs(self.conf, exist_ok=True)
        open(os.path.join(self.conf, "main.cf"), "w").close()
        r = subprocess.run([opts.tlsward, "-c", self.conf, "enable-server",
                            "localhost"], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("enable-server: " + r.stdout + r.stderr)
        with open(os.path.join(self.conf, "main.cf"), "a") as f:
            f.write("compatibility_level = 3.6\ntlsproxy_user = nobody\n"
                    "tlsproxy_pid_file =\ntlsproxy_admin_socket = %s\n"
                    "tlsproxy_drain_timeout = 2s\n" % self.admin)
            for line in main_extra:
                f.write(line + "\n")
        self.write_services(services)
        self.prefix = list(prefix)
        self.lines = []         # (seconds since start, text)
        self.lock = threading.Lock()
        self.proc = None

    def write_services(self, services):
        with open(os.path.join(self.conf, "services.cf"), "w") as f:
            f.write("\n".join(services) + "\n")

    def start(self):
        self.logf = open(os.path.join(self.tmp, "daemon.log"), "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.prefix + [self.opts.tlswardd, "-c", self.conf, "-f"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.wait_log(r"worker \d+ started|not starting|could not",
                             15) or self.worker_pid() is None:
            raise RuntimeError("tlswardd did not start:\n" + self.text())
        return self

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            t = time.monotonic() - self.t0
            with self.lock:
                self.lines.append((t, line))
            self.logf.write("%9.3f %s\n" % (t, line))
        self.logf.flush()

    def now(self):
        return time.monotonic() - self.t0

    def count(self):
        with self.lock:
            return len(self.lines)

    def grep(self, regex, since=0):
        r = re.compile(regex)
        with self.lock:
            return [(t, l) for t, l in self.lines[since:] if r.search(l)]

    def wait_log(self, regex, timeout, since=0, n=1):
        return poll(lambda: len(self.grep(regex, since)) >= n, timeout)

    def text(self, tail=60):
        with self.lock:
            return "\n".join(l for _, l in self.lines[-tail:])

    def port_of(self, name):
        got = self.grep(r"service %s: listening on \[.*\]:(\d+)$" % name)
        return int(got[-1][1].rsplit(":", 1)[1]) if got else None

    def worker_pid(self):
        got = self.grep(r"worker \d+ started$")
        return int(got[-1][1].split()[-2]) if got else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def reload(self):
        return subprocess.run([self.opts.tlsward, "-c", self.conf, "reload"],
                              capture_output=True, text=True, timeout=30)

    def status(self):
        r = subprocess.run([self.opts.tlsward, "-c", self.conf, "status"],
                           capture_output=True, text=True, timeout=30)
        return r.stdout

    def active_sessions(self):
        m = re.search(r"events: \d+ loops, (\d+) sessions", self.status())
        return int(m.group(1)) if m else None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.logf.close()
        self.proc = None


def rss_kib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def mib(kib):
    return "-" if kib is None else "%.0f" % (kib / 1024.0)


def cpu_ticks(pid):
    """utime + stime of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


HZ = os.sysconf("SC_CLK_TCK")


# ---- legit traffic -------------------------------------------------------

def https_get(port, ctx, timeout=10):
    """One HTTPS request to the http backend through the proxy: (ok, s)."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                got = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    got += d
        return got.endswith(b"hello\n"), time.monotonic() - t0
    except (OSError, ssl.SSLError):
        return False, time.monotonic() - t0


def handoff_once(path, i, timeout=10):
    """One server-role hand-off with a TLS client on the other end and a
    ping/pong both ways: (ok, seconds, error text)."""
    import handoff_client
    t0 = time.monotonic()
    a, b = socket.socketpair()
    box = {}

    def hs():
        try:
            a.settimeout(timeout)
            box["tls"] = client_ctx(True).wrap_socket(
                a, server_hostname="localhost")
        except Exception as e:      # reported below
            box["err"] = e
    t = threading.Thread(target=hs)
    t.start()
    conn = None
    try:
        conn, outcome = handoff_client.handoff(
            path, b, "server", "[192.0.2.9]:%d" % (1000 + i % 60000),
            timeout=timeout)
        b.close()
        t.join(timeout)
        if "tls" not in box:
            raise box.get("err", TimeoutError("TLS handshake"))
        tls = box["tls"]
        conn.settimeout(timeout)
        conn.sendall(b"ping\n")
        got = b""
        while len(got) < 5:
            d = tls.recv(100)
            if not d:
                break
            got += d
        tls.sendall(b"pong\n")
        back = b""
        while len(back) < 5:
            d = conn.recv(100)
            if not d:
                break
            back += d
        tls.close()
        ok = got == b"ping\n" and back == b"pong\n"
        return ok, time.monotonic() - t0, "" if ok else "data"
    except Exception as e:          # this session's failure only
        return False, time.monotonic() - t0, "%s: %s" % (type(e).__name__, e)
    finally:
        t.join(1)
        if conn is not None:
            conn.close()
        a.close()
        b.close()


class Probe:
    """Legit traffic in a thread until stop(): kind "https" (a request
    every interval), "echo" (round trips of 64 bytes through one session
    established before the attack), "handoff" or "transfer" (1 MiB
    checksummed echo transfers; target: an echo service's port)."""

    def __init__(self, kind, target, interval=0.05):
        self.kind, self.target, self.interval = kind, target, interval
        self.results = []       # (start time, ok, seconds, error)
        self.stopping = threading.Event()
        self.ctx = client_ctx()
        self.setup_error = None
        if kind == "echo":
            raw = socket.create_connection(("127.0.0.1", target), 10)
            self.sess = self.ctx.wrap_socket(raw, server_hostname="localhost")
            self.sess.settimeout(10)
            self._rtt()                 # warm
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _rtt(self):
        msg = os.urandom(32).hex().encode()
        t0 = time.monotonic()
        self.sess.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = self.sess.recv(4096)
            if not d:
                raise EOFError("session closed")
            got += d
        if got != msg:
            raise ValueError("echo mismatch")
        return time.monotonic() - t0

    def _run(self):
        i = 0
        while not self.stopping.is_set():
            t0 = time.monotonic()
            if self.kind == "https":
                ok, dt = https_get(self.target, self.ctx)
                err = ""
            elif self.kind == "handoff":
                ok, dt, err = handoff_once(self.target, i)
            elif self.kind == "transfer":
                r = echo_transfer(self.target, 1 << 20, i, 60)
                ok, dt = r["ok"], r["t_end"] - r["t_start"]
                err = "" if ok else "got %d: %s" % (r["got"], r["end"])
            else:
                try:
                    dt, ok, err = self._rtt(), True, ""
                except Exception as e:
                    dt, ok, err = time.monotonic() - t0, False, str(e)
            self.results.append((t0, ok, dt, err))
            i += 1
            if self.kind == "echo" and not ok:
                break       # the session is gone; no more round trips
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - t0)))

    def stop(self):
        self.stopping.set()
        self.thread.join(30)
        if self.kind == "echo":
            self.sess.close()
        return stats(self.results)


def stats(results):
    lat = [dt for _, ok, dt, _ in results if ok]
    return {"n": len(results), "ok": len(lat), "p50": pct(lat, 50),
            "p99": pct(lat, 99),
            "errors": sorted({e for _, ok, _, e in results if not ok and e})}


# ---- checksummed echo transfers -------------------------------------------

def echo_transfer(port, size, seed, timeout=120, threads=False):
    """Sends size pseudo-random bytes through the proxy's echo service and
    reads them back, both directions at once, from one thread with a
    non-blocking socket (threads=True: a sender thread and a reader
    thread on the same SSL object, which OpenSSL does not support; kept
    to show what such a client sees). Returns a dict: ok, got (bytes
    back), sha_ok, end (how the stream ended), port (our local port, to
    find the session in the log), t_start/t_end/t_last (monotonic times
    of the start, the end and the last byte received), max_gap (longest
    wait between two received chunks), sent."""
    import select
    data = hashlib.shake_256(b"%d" % seed).digest(size)
    r = {"ok": False, "got": 0, "sha_ok": False, "end": "", "port": None,
         "t_start": time.monotonic(), "t_last": None, "max_gap": 0.0,
         "send_err": "", "sent": 0, "size": size}
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout)
        r["port"] = raw.getsockname()[1]
        s = client_ctx().wrap_socket(raw, server_hostname="localhost",
                                     suppress_ragged_eofs=False)
    except (OSError, ssl.SSLError) as e:
        r["end"] = "connect/handshake: %s" % e
        r["t_end"] = time.monotonic()
        return r
    h = hashlib.sha256()
    got = sent = 0
    last = time.monotonic()
    view = memoryview(data)
    th = None
    if threads:
        s.settimeout(timeout)

        def sender():
            try:
                for off in range(0, size, 65536):
                    s.sendall(view[off:off + 65536])
            except (OSError, ssl.SSLError) as e:
                r["send_err"] = "%s: %s" % (type(e).__name__, e)
        th = threading.Thread(target=sender, daemon=True)
        th.start()
        sent = size
    else:
        s.setblocking(False)
    try:
        while got < size:
            if not threads:
                want_w = sent < size
                rl, wl, _ = select.select([s], [s] if want_w else [], [],
                                          timeout)
                if not rl and not wl and s.pending() == 0:
                    raise socket.timeout("no progress in %d s" % timeout)
                if want_w:
                    try:
                        sent += s.send(view[sent:sent + 65536])
                    except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                        pass
            try:
                d = s.recv(262144)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            now = time.monotonic()
            if not d:
                r["end"] = "close_notify"
                break
            r["max_gap"] = max(r["max_gap"], now - last)
            last = now
            r["t_last"] = now
            got += len(d)
            h.update(d)
        else:
            r["end"] = "complete"
    except ssl.SSLEOFError as e:
        r["end"] = "truncated (EOF without close_notify: %s)" % e
        r["tcp_after"] = tcp_state(s)
    except (OSError, ssl.SSLError) as e:
        r["end"] = "%s: %s" % (type(e).__name__, e)
        r["tcp_after"] = tcp_state(s)
    r["t_end"] = time.monotonic()
    if th:
        th.join(5)
    try:
        s.close()
    except OSError:
        pass
    r["got"], r["sent"] = got, sent
    r["sha_ok"] = got == size and h.digest() == hashlib.sha256(data).digest()
    r["ok"] = r["sha_ok"]
    return r


def tcp_state(s):
    """What the kernel holds for the socket under an SSL object that just
    reported an end: did TCP really end? (MSG_PEEK, nothing consumed)"""
    try:
        raw = socket.socket(fileno=os.dup(s.fileno()))
    except OSError as e:
        return "(fd gone: %s)" % e
    try:
        d = raw.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        return "TCP EOF (FIN received)" if not d else \
            "TCP still open, %d+ bytes unread" % len(d)
    except BlockingIOError:
        return "TCP still open, nothing pending (no FIN)"
    except OSError as e:
        return "TCP error %s" % e
    finally:
        raw.close()


def tlspeer_transfer(tlspeer, tmp, port, size, seed, timeout=120):
    """The same transfer with the project's C test peer (one thread, one
    SSL object, poll): stdin -> TLS, TLS -> stdout, close_notify at stdin
    EOF. Returns the dict of echo_transfer (port None: tlspeer does not
    say it; t_last unknown)."""
    data = hashlib.shake_256(b"%d" % seed).digest(size)
    fin = os.path.join(tmp, "in.%d" % seed)
    fout = os.path.join(tmp, "out.%d" % seed)
    with open(fin, "wb") as f:
        f.write(data)
    r = {"t_start": time.monotonic(), "port": None, "t_last": None,
         "max_gap": 0.0, "send_err": "", "sent": size, "size": size}
    with open(fin, "rb") as i, open(fout, "wb") as o:
        p = subprocess.run([tlspeer, "-c", "127.0.0.1:%d" % port, "-t",
                            str(timeout)], stdin=i, stdout=o,
                           stderr=subprocess.PIPE, text=True)
    r["t_end"] = time.monotonic()
    out = open(fout, "rb").read()
    os.unlink(fin)
    os.unlink(fout)
    r["got"] = len(out)
    r["sha_ok"] = r["ok"] = out == data
    r["end"] = "tlspeer exit %d%s" % (p.returncode, (": " + " | ".join(
        p.stderr.strip().splitlines()[1:3])) if p.returncode else "")
    return r


def session_lines(daemon, port):
    """Every log line of the session whose peer was 127.0.0.1:port."""
    first = daemon.grep(r"\[127\.0\.0\.1\]:%d\b" % port)
    ids = {m.group(1) for _, l in first
           for m in [re.search(r"sess=(\d+) ", l)] if m}
    if not ids:
        return first
    return daemon.grep(r"sess=(%s) " % "|".join(sorted(ids)))


END_RE = re.compile(r"\]:\d+: (?!.*established)(.*)$")


def end_reason(daemon, port):
    """The logged reason a session from 127.0.0.1:port ended (the line
    between its start and its DISCONNECT), or None."""
    for _, l in session_lines(daemon, port):
        if "DISCONNECT" in l or "connection established" in l:
            continue
        m = END_RE.search(l)
        if m:
            return m.group(1)
    return None


class TempDir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="tlsward-stress-%s." % name)

    def cleanup(self, keep):
        if not keep:
            subprocess.run(["rm", "-rf", self.path])


# ---- attacker processes (t/stress/attack.py) ------------------------------

def attack(group, *args, env=None, cpu=None):
    """Starts attack.py ARGS; read its JSON with attack_result()."""
    argv = [sys.executable, os.path.join(HERE, "attack.py")] + \
        [str(a) for a in args]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    e = dict(os.environ)
    e.update(env or {})
    return group.popen(argv, stdout=subprocess.PIPE, text=True, env=e)


def attack_line(p):
    """The next JSON line an attacker prints (None at its end)."""
    import json
    line = p.stdout.readline()
    return json.loads(line) if line.strip() else None


def attack_result(p, timeout=300):
    import json
    out, _ = p.communicate(timeout=timeout)
    lines = [l for l in out.splitlines() if l.strip()]
    return json.loads(lines[-1]) if lines else {}
