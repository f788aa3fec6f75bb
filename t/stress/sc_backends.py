"""backends: a forward target that refuses and one that never answers

Load: 10 sessions (5 with --quick) to each of two services: one
forwarding to a closed loopback port, one to a listener with listen(0)
whose accept queue is full (the connect never completes). Handshake
timeout 3 s (the connect is bounded by it, as tlsward.cf(5) says).
Legit: an HTTPS request every 50 ms on a third service.
Asserts: every session ends within 3 s + 1.5 s of its start, each with a
logged reason naming the connect and its target ("connect to
127.0.0.1:PORT: ..."); 100 % legit success.
"""
import socket
import ssl
import threading
import time

import stresslib as sl

HS_S = 3


def client(port, out):
    t0 = time.monotonic()
    lp = None
    try:
        raw = socket.create_connection(("127.0.0.1", port), 10)
        lp = raw.getsockname()[1]
        s = sl.client_ctx().wrap_socket(raw, server_hostname="localhost")
        s.settimeout(30)
        s.sendall(b"hello\n")
        while s.recv(4096):
            pass
    except (OSError, ssl.SSLError):
        pass
    out.append((lp, time.monotonic() - t0))


def run(ctx):
    n = 5 if ctx.quick else 10
    row = sl.Row("backends", "%d refused + %d blackholed" % (n, n))
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    hole = sl.Blackhole()
    keep, dead = sl.closed_port()
    try:
        d = ctx.daemon([
            "refuse 127.0.0.1:0 server 127.0.0.1:%d "
            "-o tlsproxy_handshake_timeout=%ds" % (dead, HS_S),
            "hole 127.0.0.1:0 server 127.0.0.1:%d "
            "-o tlsproxy_handshake_timeout=%ds" % (hole.port, HS_S),
            "web 127.0.0.1:0 server 127.0.0.1:%d" % web.port])
        probe = sl.Probe("https", d.port_of("web"))
        res = {"refuse": [], "hole": []}
        ths = [threading.Thread(target=client, args=(d.port_of(k), res[k]))
               for k in res for _ in range(n)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(60)
        st = probe.stop()
    finally:
        hole.close()
        keep.close()
    row.legit(st)
    sl.poll(lambda: len(d.grep("DISCONNECT")) >= 2 * n + st["n"], 5)
    summary = []
    for k, target in (("refuse", dead), ("hole", hole.port)):
        times = [dt for _, dt in res[k]]
        whys = [sl.end_reason(d, lp) or "(none)" for lp, _ in res[k]]
        named = sum(1 for w in whys if "connect to 127.0.0.1:%d" % target in w)
        summary.append("%s %d/%d named, max %.1fs" % (k, named, n, max(times)))
        row.note("%s: ended after %.1f-%.1f s; reasons: %s" % (
            k, min(times), max(times), "; ".join(sorted(set(whys)))))
        row.check(max(times) <= HS_S + 1.5, "%s: every session ended within "
                  "%.1f s (max %.1f s)" % (k, HS_S + 1.5, max(times)))
        row.check(named == n, "%s: each logged as \"connect to 127.0.0.1:%d: "
                  "...\" (%d of %d)" % (k, target, named, n))
        for _, l in d.grep(r"service=%s: DISCONNECT" % k)[:1]:
            row.note("%s: e.g. %s" % (k, l.split("tlswardd: ", 1)[-1]))
    row.attackers = ", ".join(summary)
    row.check(st["ok"] == st["n"] and st["n"] > 0,
              "legit HTTPS 100%% (%d/%d)" % (st["ok"], st["n"]))
    row.check(d.alive(), "daemon alive")
    return row
