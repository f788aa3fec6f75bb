"""workerkill: SIGKILL of the worker during a steady load

Load: HTTPS requests from 3 threads back to back; after 3 s the worker
(its pid from the log's "worker N started") gets SIGKILL.
Measured: restart time (kill to the next "worker N started" line), the
first successful request after the kill, failures.
Asserts: a new worker within 2 s; no request that started after the new
worker was up fails; the supervisor lives on.
"""
import os
import signal
import time

import stresslib as sl


def run(ctx):
    after = 3 if ctx.quick else 8
    row = sl.Row("workerkill", "3 HTTPS loops, SIGKILL worker at 3s")
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    d = ctx.daemon(["web 127.0.0.1:0 server 127.0.0.1:%d" % web.port])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    probes = [sl.Probe("https", d.port_of("web"), 0) for _ in range(3)]
    time.sleep(3)
    since = d.count()
    t_kill = time.monotonic()
    k_log = d.now()
    os.kill(w, signal.SIGKILL)
    up = d.wait_log(r"worker \d+ started$", 10, since)
    t_up = None
    if up:
        t_up = d.grep(r"worker \d+ started$", since)[0][0]
    time.sleep(after)
    res = []
    for p in probes:
        p.stop()
        res += p.results
    row.legit(sl.stats(res))
    nw = d.worker_pid()
    restart = (t_up - k_log) if t_up is not None else None
    up_abs = t_kill + restart if restart is not None else None
    failed_before = [r for r in res if not r[1] and r[0] < t_kill]
    during = [r for r in res if not r[1] and r[0] >= t_kill and
              (up_abs is None or r[0] < up_abs)]
    failed_after = [r for r in res if not r[1] and up_abs is not None
                    and r[0] >= up_abs]
    first_ok = min((r[0] + r[2] for r in res if r[1] and r[0] >= t_kill),
                   default=None)
    row.attackers = "restart %s ms; failed: %d in flight/during, %d after" % (
        "%.0f" % (restart * 1000) if restart is not None else "-",
        len(failed_before) + len(during), len(failed_after))
    row.rss = "%s -> %s (new worker)" % (sl.mib(rss0), sl.mib(sl.rss_kib(nw)))
    if first_ok is not None:
        row.note("first successful request completed %.0f ms after the kill"
                 % ((first_ok - t_kill) * 1000))
    row.check(restart is not None and restart < 2,
              "a new worker within 2 s (%s)" % (
                  "%.3f s" % restart if restart is not None else "none"))
    row.check(not failed_after, "no failure after the restart (%d; %s)" % (
        len(failed_after), sorted({r[3] for r in failed_after})[:3]))
    row.check(nw != w and d.alive(), "a new worker (%s), supervisor alive"
              % nw)
    for _, l in d.grep(r"worker|exit|signal", since)[:4]:
        row.note("log: " + l.split("tlswardd: ", 1)[-1])
    return row
