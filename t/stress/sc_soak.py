"""soak: mixed traffic with a reload every 30 s and one worker kill

Load: for --soak-seconds (default 600; 90 with --quick): HTTPS requests
(every 100 ms), 1 MiB checksummed echo transfers back to back, and
server-role hand-offs (every 200 ms), all at once; `tlsward reload`
every 30 s; SIGKILL of the worker once, half-way.
Asserts: every reload succeeds; zero failed healthy sessions (a session
is healthy unless it was in flight while the killed worker was down);
the worker comes back. Printed: worker RSS after warm-up and at the end
(the first worker until the kill, then its successor).
"""
import os
import signal
import time

import stresslib as sl


def run(ctx):
    secs = ctx.opts.soak_seconds
    row = sl.Row("soak", "%ds mixed, reload/30s, 1 worker kill" % secs)
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    echo = sl.Backend(ctx.group, ctx.tmp, "echo")
    ho = os.path.join(ctx.tmp, "ho.sock")
    d = ctx.daemon(["web 127.0.0.1:0 server 127.0.0.1:%d" % web.port,
                    "echo 127.0.0.1:0 server 127.0.0.1:%d" % echo.port,
                    "handoff unix:%s control -" % ho])
    probes = [sl.Probe("https", d.port_of("web"), 0.1),
              sl.Probe("transfer", d.port_of("echo"), 0),
              sl.Probe("handoff", ho, 0.2)]
    t0 = time.monotonic()
    warm = min(20.0, secs / 6.0)
    time.sleep(warm)
    w1 = d.worker_pid()
    rss = [("worker 1 after %.0f s warm-up" % warm, sl.rss_kib(w1))]
    reloads, bad_reloads = 0, []
    next_reload = t0 + 30
    kill_at = t0 + secs / 2.0
    t_kill = t_up = None
    while time.monotonic() - t0 < secs:
        now = time.monotonic()
        if t_kill is None and now >= kill_at:
            since = d.count()
            rss.append(("worker 1 before the kill", sl.rss_kib(w1)))
            t_kill = time.monotonic()
            os.kill(w1, signal.SIGKILL)
            if d.wait_log(r"worker \d+ started$", 10, since):
                t_up = time.monotonic()
            w2 = d.worker_pid()
            time.sleep(min(10, secs / 10.0))
            rss.append(("worker 2 shortly after the restart", sl.rss_kib(w2)))
        if now >= next_reload:
            r = d.reload()
            reloads += 1
            if r.returncode:
                bad_reloads.append((r.stdout + r.stderr).strip())
            next_reload += 30
        time.sleep(0.2)
    wl = d.worker_pid()
    rss.append(("worker %s at the end" % ("2" if wl != w1 else "1"),
                sl.rss_kib(wl)))
    res = {}
    for p in probes:
        p.stop()
        res[p.kind] = p.results
    hit = t_up if t_up is not None else time.monotonic()

    def healthy(r):
        return t_kill is None or r[0] + r[2] < t_kill or r[0] > hit
    allr = [r for k in res for r in res[k]]
    good = [r for r in allr if healthy(r)]
    failed = [r for r in good if not r[1]]
    row.legit(sl.stats(good))
    row.attackers = "%s; %d reloads (%d failed); restart %s ms" % (
        ", ".join("%s %d/%d" % (k, sum(1 for r in v if r[1]), len(v))
                  for k, v in res.items()), reloads, len(bad_reloads),
        "%.0f" % ((t_up - t_kill) * 1000) if t_up else "-")
    row.rss = "%s -> %s" % (sl.mib(rss[0][1]), sl.mib(rss[-1][1]))
    row.note("RSS: " + "; ".join("%s %s MiB" % (a, sl.mib(b)) for a, b in rss))
    row.note("sessions in flight across the worker kill (not counted): %d, "
             "of which failed %d" % (len(allr) - len(good),
                                    sum(1 for r in allr if not healthy(r)
                                        and not r[1])))
    for k, v in res.items():
        st = sl.stats([r for r in v if healthy(r)])
        row.note("%s: %d healthy, p50 %s ms, p99 %s ms%s" % (
            k, st["n"], sl.ms(st["p50"]), sl.ms(st["p99"]),
            ("; errors: %s" % st["errors"][:3]) if st["errors"] else ""))
    row.check(not failed, "zero failed healthy sessions (%d of %d)"
              % (len(failed), len(good)))
    row.check(not bad_reloads and reloads >= (secs - 1) // 30,
              "%d reloads, all ok %s" % (reloads, bad_reloads[:1]))
    row.check(t_up is not None and d.alive(), "the worker came back after "
              "the kill, supervisor alive")
    warn = [l for _, l in d.grep(r"warning|error|panic|fatal")
            if "killed by signal 9" not in l]
    row.note("warnings in the log (not the kill): %d%s" % (
        len(warn), (": " + warn[0]) if warn else ""))
    return row
