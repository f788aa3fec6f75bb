#!/bin/sh
# t/99-handoff-silent.t - hand-off clients that connect and send nothing
# hold no session thread: with 600 of them connected (more than
# tlsproxy_max_threads and tlsproxy_queue_limit together), legitimate
# hand-offs still complete at once, each within 2 s (they used to queue
# behind the silent ones' request deadline, or be refused as overloaded);
# no pool thread is busy with them, though they count as sessions; they
# are refused at their request deadline with a logged reason, none
# earlier.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
HOC="python3 $TOP_SRCDIR/t/tools/hoclient.py"
export TOP_SRCDIR
N=${HANDOFF_SILENT:-600}
DEADLINE=8

daemon_setup
services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600 -o tlsproxy_handshake_timeout=${DEADLINE}s"
daemon_start || { daemon_log; tap_done; exit 1; }
s=$CONF/handoff.sock

# N silent clients; each reports what it got and when it was closed
python3 - "$s" "$N" "$T/silent.ready" "$T/silent.out" <<'PY' &
import select, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
conns = []
for i in range(n):
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    conns.append(c)
t0 = time.monotonic()
open(sys.argv[3], "w").write("%d\n" % len(conns))
got = {c: b"" for c in conns}
closed = {}
while len(closed) < len(conns) and time.monotonic() - t0 < 60:
    rd, _, _ = select.select([c for c in conns if c not in closed], [], [], 1)
    for c in rd:
        try:
            d = c.recv(512)
        except OSError:
            d = b""
        if d:
            got[c] += d
        else:
            closed[c] = time.monotonic() - t0
with open(sys.argv[4], "w") as f:
    for c in conns:
        f.write("%r %.1f\n" % (got[c], closed.get(c, -1)))
PY
sp=$!
tap_pid "$sp"
wait_file "$T/silent.ready" . 30
is "$(cat "$T/silent.ready")" "$N" "$N silent clients connected"
sleep 0.5

# legitimate hand-offs, one after another, while the silent ones wait:
# each timed from its connect to the end of its data exchange
python3 - "$s" > "$T/legit.out" 2>&1 <<'PY'
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["TOP_SRCDIR"], "t", "tools"))
import hoclient
res, worst, good = [None] * 5, 0, 0
for i in range(5):
    t0 = time.monotonic()
    hoclient.one_session(sys.argv[1], i, [], 0, res)
    worst = max(worst, int((time.monotonic() - t0) * 1000))
    if res[i] == "ok":
        good += 1
    else:
        print("hand-off %d: %s" % (i, res[i]))
print("ok %d %d" % (good, worst))
PY
last=$(tail -n 1 "$T/legit.out")
okn=$(echo "$last" | awk '$1 == "ok" { print $2 }')
worst=$(echo "$last" | awk '$1 == "ok" { print $3 }')
[ -n "$worst" ] || { diag "$(cat "$T/legit.out")"; worst=99999; }
[ "$okn" = 5 ] || diag "$(cat "$T/legit.out")"
diag "legit hand-offs with $N silent clients: slowest ${worst} ms"
is "$okn" 5 "five legitimate hand-offs served"
ok $(( worst < 2000 ? 0 : 1 )) "each within 2 s (slowest ${worst} ms)"

st=$(tw status --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["pool"]["busy"], d["events"]["sessions"])')
is "${st% *}" 0 "no pool thread is busy with a silent client"
ok $(( ${st#* } >= N ? 0 : 1 )) "the silent clients count as sessions (${st#* })"

wait "$sp"
timeouts=$(grep -c "^b'refused timeout no complete request in time.n' " "$T/silent.out")
is "$timeouts" "$N" "every silent client is refused with timeout"
early=$(awk -v d=$DEADLINE '$NF < d - 2 { n++ } END { print n + 0 }' "$T/silent.out")
is "$early" 0 "none before its deadline"
for i in $(seq 100); do
	[ "$(grep -c 'refused: timeout: no complete request in time' "$DLOG")" -ge "$N" ] && break
	sleep 0.1
done
is "$(grep -c 'refused: timeout: no complete request in time' "$DLOG")" "$N" \
    "each is logged with its reason"
rt=$(tw status --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["services"][0]["endings"]["failed"]["request_timeout"])')
is "$rt" "$N" "and counted as request timeouts in tlsward status"
grep -q 'refused connection' "$DLOG" && diag "$(grep 'refused connection' "$DLOG" | head -n 3)"
daemon_stop
tap_done
