"""memory: worker RSS after bursts of half-open TLS connections

Load: 5 bursts (3 with --quick) of 2,000 connections (500 with --quick)
that each send a whole ClientHello, hold 3 s without answering the
server's flight, and close. After each burst, once the daemon counts no
session, the worker's VmRSS; then again 10 s after the last burst.
Asserts: 10 s after the last burst RSS <= 2 x idle baseline + 16 MiB
(issue 15 item 6's target; today's code is expected to miss it).
"""
import time

import stresslib as sl

HOLD_S = 3


def run(ctx):
    bursts, n = (3, 500) if ctx.quick else (5, 2000)
    row = sl.Row("memory", "%d bursts x %d half-open" % (bursts, n))
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    d = ctx.daemon([
        "tls 127.0.0.1:0 server 127.0.0.1:%d -o tlsproxy_handshake_timeout=30s"
        % web.port,
        "web 127.0.0.1:0 server 127.0.0.1:%d" % web.port])
    w = d.worker_pid()
    c = sl.client_ctx()
    for _ in range(20):
        sl.https_get(d.port_of("web"), c)
    base = sl.rss_kib(w)
    after = []
    opened = 0
    for b in range(bursts):
        a = sl.attack(ctx.group, "halfopen", d.port_of("tls"), n, HOLD_S)
        r = sl.attack_result(a)
        opened += r.get("opened", 0)
        sl.poll(lambda: d.active_sessions() == 0, 30, 0.2)
        after.append(sl.rss_kib(w))
    t_end = time.monotonic()
    res = [sl.https_get(d.port_of("web"), c) for _ in range(20)]
    row.legit(sl.stats([(0, ok, dt, "") for ok, dt in res]))
    time.sleep(max(0.0, 10 - (time.monotonic() - t_end)))
    final = sl.rss_kib(w)
    limit = 2 * base + 16 * 1024
    row.attackers = "%d/%d opened; after each burst: %s MiB" % (
        opened, bursts * n, " ".join(sl.mib(x) for x in after))
    row.rss = "%s -> %s (limit %s)" % (sl.mib(base), sl.mib(final),
                                       sl.mib(limit))
    row.check(final is not None and final <= limit,
              "RSS 10 s after the last burst <= 2 x %s + 16 MiB = %s MiB "
              "(got %s MiB)" % (sl.mib(base), sl.mib(limit), sl.mib(final)))
    row.check(d.alive() and d.worker_pid() == w, "same worker, daemon alive")
    row.note("RSS KiB: idle %d, after bursts %s, final %s" % (base, after, final))
    return row
