"""zerowindow: TLS clients that ask for an endless response, never read

Load: 100 sessions (20 with --quick) to a service whose backend writes
without end; the clients' receive buffers are 4 KiB and never read.
Idle timeout 3 s.
Legit: an HTTPS request every 50 ms on another service.
Asserts: each stuck session ends with a logged "idle timeout" within
8 s of its start (the log's own timing); 100 % legit success; the daemon
and its worker survive.
"""
import stresslib as sl

IDLE_S = 3


def run(ctx):
    n = 20 if ctx.quick else 100
    row = sl.Row("zerowindow", "%d never-reading sessions, idle %ds"
                 % (n, IDLE_S))
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    flood = sl.Backend(ctx.group, ctx.tmp, "flood")
    d = ctx.daemon([
        "big 127.0.0.1:0 server 127.0.0.1:%d -o tlsproxy_idle_timeout=%ds"
        % (flood.port, IDLE_S),
        "web 127.0.0.1:0 server 127.0.0.1:%d" % web.port])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    since = d.count()
    probe = sl.Probe("https", d.port_of("web"))
    att = sl.attack(ctx.group, "zerowin", d.port_of("big"), n, IDLE_S + 6)
    first = sl.attack_line(att)
    ports = first["ports"] if first else []
    sl.attack_result(att)
    st = probe.stop()
    row.legit(st)
    spans, reasons = [], {}
    for p in ports:
        lines = sl.session_lines(d, p)
        start = [t for t, l in lines if "established" in l]
        end = [(t, l) for t, l in lines if "DISCONNECT" not in l and
               "established" not in l]
        why = sl.end_reason(d, p) or "(none)"
        reasons[why] = reasons.get(why, 0) + 1
        if start and end and "idle timeout" in why:
            spans.append(end[0][0] - start[0])
    row.attackers = "%d/%d idle-timed out, %s-%s s" % (
        len(spans), n, "%.1f" % min(spans) if spans else "-",
        "%.1f" % max(spans) if spans else "-")
    row.rss = "%s -> %s" % (sl.mib(rss0), sl.mib(sl.rss_kib(w)))
    row.note("reasons: %s" % ", ".join("%s x%d" % kv for kv in reasons.items()))
    row.check(len(ports) == n, "%d sessions established (%d)" % (n, len(ports)))
    row.check(len(spans) == n and max(spans) <= IDLE_S + 5,
              "each ended by its idle timeout within %d s" % (IDLE_S + 5))
    row.check(st["ok"] == st["n"] and st["n"] > 0,
              "legit HTTPS 100%% (%d/%d)" % (st["ok"], st["n"]))
    row.check(d.alive() and d.worker_pid() == w, "same worker, daemon alive")
    row.note("daemon log lines during the scenario: %d" % (d.count() - since))
    return row
