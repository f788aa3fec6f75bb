"""fdlimit: out of descriptors (prlimit --nofile=200:200)

Load: 300 plain connections to a server-role listener and 300 to a
hand-off (control) listener, held 10 s (5 s with --quick), all at once.
Measured during the hold: CPU ticks of the worker and the supervisor
(/proc/PID/stat utime+stime) and the daemon's log lines.
Asserts: each process uses < 20 % of a core during the hold; < 5 log
lines a second; after the clients leave, an HTTPS request and a hand-off
succeed within 5 s with the same worker.
"""
import os
import time

import stresslib as sl

N = 300


def run(ctx):
    hold = 5 if ctx.quick else 10
    row = sl.Row("fdlimit", "nofile 200; %d tcp + %d hand-off held %ds"
                 % (N, N, hold))
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    ho = os.path.join(ctx.tmp, "ho.sock")
    d = ctx.daemon([
        "web 127.0.0.1:0 server 127.0.0.1:%d -o tlsproxy_handshake_timeout=60s"
        % web.port,
        "handoff unix:%s control - -o tlsproxy_handshake_timeout=60s" % ho],
        prefix=["prlimit", "--nofile=200:200"])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    release = os.path.join(ctx.tmp, "release")
    env = {"RELEASE": release}
    a1 = sl.attack(ctx.group, "hold", "127.0.0.1:%d" % d.port_of("web"), N,
                   hold + 30, env=env)
    a2 = sl.attack(ctx.group, "hold", "unix:" + ho, N, hold + 30, env=env)
    h1, h2 = sl.attack_line(a1), sl.attack_line(a2)
    l0, t0w, t0s, c0 = d.count(), sl.cpu_ticks(w), sl.cpu_ticks(d.proc.pid), \
        time.monotonic()
    time.sleep(hold)
    l1, t1w, t1s, c1 = d.count(), sl.cpu_ticks(w), sl.cpu_ticks(d.proc.pid), \
        time.monotonic()
    open(release, "w").close()
    sl.attack_result(a1)
    sl.attack_result(a2)
    secs = c1 - c0
    wcpu = (t1w - t0w) / sl.HZ / secs
    scpu = (t1s - t0s) / sl.HZ / secs
    rate = (l1 - l0) / secs
    # recovery: both kinds of session within 5 s
    t_rel = time.monotonic()
    ctxs = sl.client_ctx()
    web_ok = sl.poll(lambda: sl.https_get(d.port_of("web"), ctxs, 2)[0], 5, 0.2)
    ho_ok = sl.poll(lambda: sl.handoff_once(ho, 1, 3)[0], 5, 0.2)
    rec = time.monotonic() - t_rel
    results = [sl.https_get(d.port_of("web"), ctxs) for _ in range(20)]
    row.legit(sl.stats([(0, ok, dt, "") for ok, dt in results]))
    row.attackers = "held %s+%s; worker %.0f%% CPU, supervisor %.0f%%, " \
        "%.1f log lines/s" % (h1 and h1["held"], h2 and h2["held"],
                             100 * wcpu, 100 * scpu, rate)
    row.rss = "%s -> %s" % (sl.mib(rss0), sl.mib(sl.rss_kib(w)))
    row.check(wcpu < 0.2, "worker CPU < 20%% of a core while starved "
              "(%.1f%%)" % (100 * wcpu))
    row.check(scpu < 0.2, "supervisor CPU < 20%% (%.1f%%)" % (100 * scpu))
    row.check(rate < 5, "log lines bounded (< 5/s; %d in %.1f s)"
              % (l1 - l0, secs))
    row.check(web_ok and ho_ok, "recovered: HTTPS %s, hand-off %s (%.1f s)"
              % (bool(web_ok), bool(ho_ok), rec))
    row.check(d.worker_pid() == w and d.alive(), "same worker, daemon alive")
    sample = d.grep(r"accept|descriptor|open files", l0)
    for _, l in sample[:4]:
        row.note("log: " + l.split("tlswardd: ", 1)[-1])
    return row
