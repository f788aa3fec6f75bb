"""hosilent: hand-off clients that connect and send nothing

Load: 300 silent connections to the hand-off (control) socket, then
1,000 (300 only with --quick), each held while legit hand-offs run.
Legit: 20 server-role hand-offs one after another (10 s timeout each,
at most 45 s of them) (request, descriptor,
report, TLS handshake, data both ways), latency from connect to done.
Asserts: every legit hand-off succeeds, p99 < 100 ms (issue 15 item 5's
target; today's code is expected to miss it).
"""
import os
import time

import stresslib as sl

P99_MAX_S = 0.100


def one_level(ctx, d, ho, n, legit):
    release = os.path.join(ctx.tmp, "release.%d" % n)
    a = sl.attack(ctx.group, "hold", "unix:" + ho, n, 120,
                  env={"RELEASE": release})
    held = sl.attack_line(a)
    time.sleep(0.5)
    res = []
    end = time.monotonic() + 45     # bounded: a stuck pool costs 10 s each
    for i in range(legit):
        if time.monotonic() > end:
            break
        ok, dt, err = sl.handoff_once(ho, i, 10)
        res.append((0, ok, dt, err))
    open(release, "w").close()
    sl.attack_result(a)
    return held["held"] if held else 0, sl.stats(res)


def run(ctx):
    levels = [300] if ctx.quick else [300, 1000]
    legit = 10 if ctx.quick else 20
    row = sl.Row("hosilent", "%s silent hand-off clients" %
                 "/".join(map(str, levels)))
    ho = os.path.join(ctx.tmp, "ho.sock")
    d = ctx.daemon(["handoff unix:%s control - "
                    "-o tlsproxy_handshake_timeout=60s "
                    "-o tlsproxy_idle_timeout=60s" % ho])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    base = sl.stats([(0,) + sl.handoff_once(ho, i) for i in range(10)])
    row.note("legit hand-off with no silent clients: p50 %s ms, p99 %s ms"
             % (sl.ms(base["p50"]), sl.ms(base["p99"])))
    got = []
    allres = {"n": 0, "ok": 0}
    for n in levels:
        held, st = one_level(ctx, d, ho, n, legit)
        got.append("%d held: p50 %s p99 %s ms" % (held, sl.ms(st["p50"]),
                                                  sl.ms(st["p99"])))
        row.check(st["ok"] == st["n"], "%d silent: every legit hand-off "
                  "succeeded (%d/%d) %s" % (n, st["ok"], st["n"],
                                             st["errors"][:2]))
        row.check(st["p99"] is not None and st["p99"] < P99_MAX_S,
                  "%d silent: legit hand-off p99 < 100 ms (got %s ms)"
                  % (n, sl.ms(st["p99"])))
        allres["n"] += st["n"]
        allres["ok"] += st["ok"]
        last = st
    row.legit({"n": allres["n"], "ok": allres["ok"], "p50": last["p50"],
               "p99": last["p99"]})
    row.attackers = "; ".join(got)
    row.rss = "%s -> %s" % (sl.mib(rss0), sl.mib(sl.rss_kib(w)))
    refused = d.grep(r"refused|overloaded")
    row.note("refusals logged: %d%s" % (len(refused), (" e.g. " + refused[0][1])
                                         if refused else ""))
    row.note("pool: " + " ".join(l for l in d.status().splitlines()
                                  if "hand-off pool" in l))
    row.check(d.alive() and d.worker_pid() == w, "same worker, daemon alive")
    return row
