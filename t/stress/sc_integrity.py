"""integrity: parallel checksummed 8 MiB echo transfers on one loaded core

Issue 15 item 8. Load: 30 runs (5 with --quick; --integrity-runs N) of 4
parallel 8 MiB echo transfers (both directions at once, sha256 checked)
through a server-role service, with tlsproxy_watchdog_timeout = 3s and
tlsproxy_idle_timeout=3s as in the report; the daemon, the echo backend,
the clients and 2 CPU hogs (started and stopped here) all pinned onto
core 0 with taskset; the first half of the runs with the daemon at its
normal priority, the second half with the daemon under nice -n 15 (so
the hogs starve it). Then, on purpose, one transfer whose client is
stopped (SIGSTOP) for 4 s: what an idle timeout looks like to a client.
The clients rotate per run: python single-threaded non-blocking, the
project's t/tools/tlspeer (C), and python with a sender and a reader
thread on one SSL object (what a naive test client does).
Every transfer that comes back short is matched with its session's log
lines (by the client's port) and with the client's own timeline (last
byte received, longest gap between two reads).
Asserts: no transfer is short without a logged reason; no session is
ended by its idle timeout while data waited in the daemon (DAEMON-STALL:
ss(8) shows a backend socket of the daemon holding the same unread
bytes for the 2.5 s before the timeout, nothing queued towards the
client, and the socket gone with the session). Otherwise a short
transfer passes only as a legitimate idle timeout (the
log says "idle timeout" and the client saw nothing move for >= 2.5 s)
or
as a client artefact (the client library reported EOF while its TCP
socket was still open with no FIN: the end was the client's own); any
other loss fails.
"""
import os
import re
import time

import stresslib as sl

SIZE = 8 * 1024 * 1024
PAR = 4
CORE = 0
HOGS = 2        # the default of --integrity-hogs
before = 0


class SockSampler:
    """Every 0.5 s, `ss -tn` of the established connections to the
    service and to the backend (send and receive queues): which socket
    held the data while a transfer stood still."""

    def __init__(self, svc_port, backend_port):
        import threading
        self.svc_port, self.backend_port = svc_port, backend_port
        self.filt = "( sport = :%d or dport = :%d or sport = :%d )" % (
            svc_port, backend_port, backend_port)
        self.samples = []       # (monotonic time, [lines])
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        import subprocess
        while not self.stop_ev.is_set():
            try:
                out = subprocess.run(["ss", "-tnH", "state", "established",
                                      self.filt], capture_output=True,
                                     text=True, timeout=5).stdout
            except (OSError, subprocess.SubprocessError):
                return
            self.samples.append((time.monotonic(), out.splitlines()))
            self.samples = self.samples[-400:]
            self.stop_ev.wait(0.5)

    def stop(self):
        self.stop_ev.set()
        self.th.join(10)

    def rows(self, t_from, t_to):
        """[(time, [(recvq, sendq, local port, peer port)])] in the window."""
        out = []
        for t, lines in self.samples:
            if t_from <= t <= t_to:
                rs = []
                for l in lines:
                    f = l.split()
                    if len(f) >= 4:
                        rs.append((int(f[0]), int(f[1]),
                                   int(f[2].rsplit(":", 1)[1]),
                                   int(f[3].rsplit(":", 1)[1])))
                out.append((t, rs))
        return out

    def around(self, t_from, t_to, base):
        """Non-empty queues in [t_from, t_to], as text lines."""
        out = []
        for t, lines in self.samples:
            if t_from <= t <= t_to:
                busy = [" ".join(l.split()[:4]) for l in lines
                        if l.split()[0:2] != ["0", "0"]]
                out.append("ss %9.3f recvq sendq local peer: %s" % (
                    t - base, "; ".join(busy) if busy else "all queues empty"))
        return out


def daemon_stall(d, lines):
    """Was the session stuck with data waiting in the daemon? At an idle
    timeout logged at T: in every ss sample of [T-2.5 s, T-0.3 s], some
    daemon-side backend socket holds the same non-empty receive queue
    (unread by the daemon) and vanishes once the session is over, while
    the daemon's socket to this client has nothing queued to send (so no
    client backpressure explains it). Returns evidence text or None."""
    if sampler is None:
        return None
    idle = [t for t, l in lines if l.endswith(": idle timeout")]
    est = [l for _, l in lines if "established from" in l]
    if not idle or not est:
        return None
    m = re.search(r"from \[127\.0\.0\.1\]:(\d+)", est[0])
    cport = int(m.group(1)) if m else None
    T = d.t0 + idle[0]
    win = sampler.rows(T - 2.5, T - 0.3)
    after = sampler.rows(T + 0.2, T + 1.5)
    if len(win) < 2:
        return None
    bp, sp = sampler.backend_port, sampler.svc_port
    for _, rs in win:
        for rq, sq, lp, pp in rs:
            if lp == sp and pp == cport and sq > 0:
                return None         # the client is not reading: backpressure
    cands = None
    for _, rs in win:
        here = {(lp, rq) for rq, sq, lp, pp in rs if pp == bp and rq > 0}
        cands = here if cands is None else cands & here
    gone = {lp for _, rs in after for rq, sq, lp, pp in rs if pp == bp}
    stuck = [(lp, rq) for lp, rq in (cands or ()) if lp not in gone]
    if not stuck:
        return None
    return ("daemon stall: for %.1f s before the idle timeout the daemon's "
            "backend socket(s) %s held unread data (receive queue %s bytes, "
            "unchanged) while nothing was queued towards the client (port "
            "%s): data waited in the daemon and was not relayed" % (
                win[-1][0] - win[0][0], [lp for lp, _ in stuck],
                [rq for _, rq in stuck], cport))


def window_lines(d, r):
    """Without the client's port (tlspeer): the sessions that ended in
    the transfer's time window with fewer than SIZE bytes either way."""
    a, b = r["t_start"] - d.t0 - 0.5, r["t_end"] - d.t0 + 5   # a starved
    # daemon may write its DISCONNECT line seconds after the close_notify
    out = []
    for t, l in d.grep(r"DISCONNECT .* in=\d+ out=\d+"):
        if a <= t <= b and ("in=%d out=%d" % (SIZE, SIZE)) not in l:
            m = re.search(r"sess=(\d+) ", l)
            out += d.grep(r"sess=%s " % m.group(1)) if m else [(t, l)]
    return out


sampler = None     # the phase's SockSampler


def explain(d, r):
    """A short transfer's verdict and the evidence."""
    if r["port"]:
        lines = sl.session_lines(d, r["port"])
        why = sl.end_reason(d, r["port"])
    else:
        lines = window_lines(d, r)
        whys = [m.group(1) for _, l in lines
                for m in [sl.END_RE.search(l)] if m and "DISCONNECT" not in l]
        why = whys[0] if len(whys) == 1 else (whys and "; ".join(whys))
    base = d.t0
    ev = ["client: got %d of %d bytes, end=%s, start %.3f, last byte %s, "
          "end %.3f, longest gap between reads %.2f s%s" % (
              r["got"], r.get("size", SIZE), r["end"], r["t_start"] - base,
              "%.3f" % (r["t_last"] - base) if r["t_last"] else "-",
              r["t_end"] - base, r["max_gap"],
              "; send: " + r["send_err"] if r["send_err"] else "")]
    if sampler is not None:
        ev += sampler.around(r["t_end"] - 4.5, r["t_end"] + 0.5, base)
    if r.get("tcp_after"):
        ev.append("client: right after the error, the socket: %s"
                  % r["tcp_after"])
    ev += ["log %9.3f %s" % (t, l.split("tlswardd: ", 1)[-1])
           for t, l in lines]
    stall = (r["t_end"] - (r["t_last"] or r["t_start"]))
    st = daemon_stall(d, lines)
    if st:
        ev.insert(1, st)
        return "DAEMON-STALL", why, ev
    if why and "idle timeout" in why and (max(stall, r["max_gap"]) >= 2.5
                                          or not r["t_last"]):
        return "idle-timeout", why, ev
    if "nothing pending (no FIN)" in r.get("tcp_after", "") or \
            "bytes unread" in r.get("tcp_after", ""):
        # the client library said EOF while TCP was still open: the end
        # was the client's own (the daemon logs that the peer closed)
        return "client-artefact", why, ev
    return "LOSS", why, ev


KINDS = ("single", "tlspeer", "threads")


def tlspeer_path(ctx):
    """t/tools/tlspeer of the build tlswardd comes from (make check
    builds it; or: make t/tools/tlspeer)."""
    return os.path.join(os.path.dirname(os.path.dirname(
        ctx.opts.tlswardd)), "t/tools/tlspeer")


def client_args(ctx, kind, port, seed):
    """attack.py arguments for one transfer by a client of this kind:
    single (python, one thread, non-blocking), tlspeer (t/tools, C),
    threads (python, sender and reader threads on one SSL object)."""
    if kind == "tlspeer":
        return ("tlspeer", port, SIZE, seed, tlspeer_path(ctx), ctx.tmp)
    return ("transfer", port, SIZE, seed, kind)


def phase(ctx, row, label, runs, nice):
    """runs x PAR transfers through a new daemon (at nice NICE);
    returns (daemon, results, run times)."""
    echo = sl.Backend(ctx.group, ctx.tmp, "echo", cpu=CORE)
    d = ctx.daemon(["echo 127.0.0.1:0 server 127.0.0.1:%d "
                    "-o tlsproxy_idle_timeout=3s" % echo.port],
                   main_extra=["tlsproxy_watchdog_timeout = 3s"],
                   prefix=["taskset", "-c", str(CORE),
                           "nice", "-n", str(nice)])
    port = d.port_of("echo")
    results, t_run = [], []
    global sampler
    sampler = SockSampler(port, echo.port)
    hogs = [sl.attack(ctx.group, "hog", runs * 30 + 60, cpu=CORE)
            for _ in range(ctx.opts.integrity_hogs)]
    try:
        for i in range(runs):
            t0 = time.monotonic()
            kinds = KINDS if os.access(tlspeer_path(ctx), os.X_OK) else \
                ("single", "threads")
            kind = kinds[i % len(kinds)]
            ps = [sl.attack(ctx.group, *client_args(ctx, kind, port,
                                                     i * PAR + j), cpu=CORE)
                  for j in range(PAR)]
            for j, p in enumerate(ps):
                r = sl.attack_result(p, 600)
                r["run"], r["seed"], r["kind"] = i, i * PAR + j, kind
                results.append(r)
            t_run.append(time.monotonic() - t0)
            bad = [r for r in results[-PAR:] if not r.get("ok")]
            ctx.log("%s run %d/%d (%s): %.1f s, %d short" % (
                label, i + 1, runs, kind, t_run[-1], len(bad)))
    finally:
        for h in hogs:
            h.terminate()
            h.wait()
        sampler.stop()
    sl.poll(lambda: len(d.grep("DISCONNECT")) >= len(results), 10)
    return d, results, t_run


def paused_reader(ctx, d):
    """The mechanism on purpose: one transfer whose client is stopped
    (SIGSTOP, by its pid) for 4 s in the middle; what does it see?"""
    import signal
    # 32 MiB: more than the socket buffers on the way can hold
    p = sl.attack(ctx.group, "transfer", d.port_of("echo"), 4 * SIZE, 999)
    sl.poll(lambda: len(d.grep("service=echo: .*established")) >
            before, 10, 0.01)
    os.kill(p.pid, signal.SIGSTOP)
    time.sleep(4)
    os.kill(p.pid, signal.SIGCONT)
    return sl.attack_result(p, 60)


def run(ctx):
    runs = ctx.opts.integrity_runs or (6 if ctx.quick else 30)
    na = runs // 2
    row = sl.Row("integrity", "%d runs x %d x 8 MiB, 1 core + %d hogs"
                 % (runs, PAR, ctx.opts.integrity_hogs))
    all_results, t_all, kinds, per_kind = [], [], {}, {}
    ends = {}
    hi = ctx.opts.integrity_nice
    for label, n, nice in (("nice0", na, 0), ("nice%d" % hi, runs - na, hi)):
        d, results, t_run = phase(ctx, row, label, n, nice)
        extra = []
        if nice:
            global before
            before = len(d.grep("service=echo: .*established"))
            r = paused_reader(ctx, d)
            r["run"], r["seed"] = "paused", 999
            sl.poll(lambda: len(d.grep("DISCONNECT")) > before, 10)
            kind, why, ev = explain(d, r)
            row.note("reproduction, client stopped 4 s mid-transfer: %s (%s)"
                     "\n%s" % (kind, why, "\n".join(ev)))
            row.check(kind == "idle-timeout",
                      "a client stopped 4 s is ended by the idle timeout "
                      "and recognised as such")
        for r in results:
            if r.get("ok"):
                continue
            kind, why, ev = explain(d, r)
            kinds[kind] = kinds.get(kind, 0) + 1
            row.note("%s run %d transfer %d, client %s: %s (%s)\n%s" % (
                label, r["run"], r["seed"], r["kind"], kind, why,
                "\n".join(ev)))
        for _, l in d.grep(r"service=echo: \["):
            if "DISCONNECT" not in l and "established" not in l:
                k = l.split(": ")[-1]
                ends[k] = ends.get(k, 0) + 1
        for k in KINDS:
            rs = [r for r in results if r["kind"] == k]
            per_kind.setdefault(k, [0, 0])
            per_kind[k][0] += len(rs)
            per_kind[k][1] += sum(1 for r in rs if r.get("ok"))
        gaps = sorted(r["max_gap"] for r in results)
        row.note("%s: %d transfers, %d intact; longest gap between two "
                 "reads p50 %.2f s, max %.2f s; run time p50 %.1f s, max "
                 "%.1f s" % (label, len(results), sum(
                     1 for r in results if r.get("ok")), sl.pct(gaps, 50),
                     gaps[-1], sl.pct(t_run, 50), max(t_run)))
        all_results += results
        t_all += t_run
        d.stop()
    intact = sum(1 for r in all_results if r.get("ok"))
    row.note("logged session ends other than DISCONNECT (all phases, the "
             "paused reader included): %s" % (ends or "none"))
    row.legit({"n": len(all_results), "ok": intact, "p50": None, "p99": None})
    row.attackers = "%d intact, %d idle-timeout, %d daemon-stall, " \
        "%d client-artefact, %d LOSS" % (
            intact, kinds.get("idle-timeout", 0), kinds.get("DAEMON-STALL", 0),
            kinds.get("client-artefact", 0), kinds.get("LOSS", 0))
    row.note("intact per client kind: %s" % ", ".join(
        "%s %d/%d" % (k, v[1], v[0]) for k, v in per_kind.items()))
    row.check(kinds.get("LOSS", 0) == 0, "no short transfer without a "
              "logged reason (%d)" % kinds.get("LOSS", 0))
    row.check(kinds.get("DAEMON-STALL", 0) == 0, "no session idle-timed "
              "out while data waited in the daemon (%d)"
              % kinds.get("DAEMON-STALL", 0))
    return row
