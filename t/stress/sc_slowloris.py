"""slowloris: connections that send part of a ClientHello and stall

Load: 2,000 connections (300 with --quick), each sending a record header
and 20 bytes of a ClientHello, then nothing; handshake deadline 3 s.
Legit: an HTTPS request every 50 ms on another service of the daemon.
Asserts: 100 % legit success; every stalled connection is closed between
2.5 and 6 s after it stalled; as many "handshake ... timeout" lines as
connections; the worker is the same.
"""
import stresslib as sl

DEADLINE_S = 3


def run(ctx):
    n = 300 if ctx.quick else 2000
    row = sl.Row("slowloris", "%d conns, deadline %ds" % (n, DEADLINE_S))
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    d = ctx.daemon([
        "slow 127.0.0.1:0 server 127.0.0.1:%d -o tlsproxy_handshake_timeout=%ds"
        % (web.port, DEADLINE_S),
        "web 127.0.0.1:0 server 127.0.0.1:%d" % web.port])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    since = d.count()
    probe = sl.Probe("https", d.port_of("web"))
    att = sl.attack(ctx.group, "slowloris", d.port_of("slow"), n, 20)
    res = sl.attack_result(att)
    st = probe.stop()
    row.legit(st)
    rss1 = sl.rss_kib(w)
    times = res.get("times", [])
    logged = len(d.grep(r"service=slow: .*timeout", since))
    reasons = sorted({l.split(": ", 3)[-1] for _, l in
                      d.grep(r"service=slow: \[", since)
                      if "DISCONNECT" not in l})
    row.attackers = "%d/%d closed, %s-%s s" % (
        res.get("closed", 0), n, "%.1f" % min(times) if times else "-",
        "%.1f" % max(times) if times else "-")
    row.rss = "%s -> %s" % (sl.mib(rss0), sl.mib(rss1))
    row.check(st["ok"] == st["n"] and st["n"] > 0,
              "legit HTTPS 100%% (%d/%d)" % (st["ok"], st["n"]))
    row.check(res.get("opened") == n, "all %d connections opened (%s)"
              % (n, res.get("opened")))
    row.check(res.get("closed") == res.get("opened"),
              "every stalled connection closed (%s of %s)"
              % (res.get("closed"), res.get("opened")))
    row.check(times and min(times) >= DEADLINE_S - 0.5 and
              max(times) <= DEADLINE_S + 3,
              "closed at the %d s deadline (2.5-6 s)" % DEADLINE_S)
    row.check(logged >= n, "each close logged with a timeout reason "
              "(%d lines)" % logged)
    row.check(d.worker_pid() == w and d.alive(), "same worker, daemon alive")
    row.note("logged reasons: %s" % "; ".join(
        "%s" % r for r in reasons[:5]))
    if st["errors"]:
        row.note("legit errors: %s" % st["errors"][:5])
    return row
