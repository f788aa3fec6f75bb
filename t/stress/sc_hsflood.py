"""hsflood: full TLS handshakes from N client processes

Load: 4 processes (2 with --quick) doing full TLS handshakes in a loop
for 20 s (8 s with --quick) against one service.
Legit: 32-byte echo round trips every 20 ms through a session established
before the flood, on another service of the same daemon.
Asserts: no legit round trip fails; legit p99 < 50 ms (issue 15 item 7's
target; today's code is expected to miss it); the daemon survives.
"""
import time

import stresslib as sl

P99_MAX_S = 0.050


def run(ctx):
    procs, secs = (2, 8) if ctx.quick else (4, 20)
    row = sl.Row("hsflood", "%d procs x %ds handshakes" % (procs, secs))
    echo = sl.Backend(ctx.group, ctx.tmp, "echo")
    d = ctx.daemon([
        "flood 127.0.0.1:0 server 127.0.0.1:%d" % echo.port,
        "echo 127.0.0.1:0 server 127.0.0.1:%d" % echo.port])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    base = sl.Probe("echo", d.port_of("echo"), 0.02)
    time.sleep(2)
    b = base.stop()
    probe = sl.Probe("echo", d.port_of("echo"), 0.02)
    t0 = time.monotonic()
    atts = [sl.attack(ctx.group, "hsflood", d.port_of("flood"), secs)
            for _ in range(procs)]
    res = [sl.attack_result(a) for a in atts]
    dt = time.monotonic() - t0
    st = probe.stop()
    row.legit(st)
    hs = sum(r.get("handshakes", 0) for r in res)
    bad = sum(r.get("failed", 0) for r in res)
    row.attackers = "%d handshakes (%.0f/s), %d failed" % (hs, hs / dt, bad)
    row.rss = "%s -> %s" % (sl.mib(rss0), sl.mib(sl.rss_kib(w)))
    row.note("legit echo round trip before the flood: p50 %s ms, p99 %s ms"
             % (sl.ms(b["p50"]), sl.ms(b["p99"])))
    row.check(st["ok"] == st["n"] and st["n"] > 0,
              "no legit round trip failed (%d/%d)" % (st["ok"], st["n"]))
    row.check(st["p99"] is not None and st["p99"] < P99_MAX_S,
              "legit p99 < 50 ms during the flood (got %s ms)" % sl.ms(st["p99"]))
    row.check(d.alive() and d.worker_pid() == w, "same worker, daemon alive")
    return row
