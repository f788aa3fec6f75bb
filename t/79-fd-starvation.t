#!/bin/sh
# t/79-fd-starvation.t - descriptors run short on a hand-off listener:
# with an open-files limit of 200 and 300 clients holding connections,
# the worker neither spins nor floods the log (it used to log "accept:
# Too many open files" ~650,000 times a second, and the supervisor spent
# a core relaying them). Hand-off sessions count in tlsproxy_max_sessions
# (here the open-files limit's 68), so the clients past it are answered
# "refused overloaded" before descriptors run out; the refusal warning
# is said about once a second with a count of what it did not repeat;
# once the clients leave the daemon serves again with the same worker.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
command -v prlimit >/dev/null || skip_all "needs prlimit (util-linux)"

daemon_setup
echo "tlsproxy_admin_socket = $T/admin.sock" >> "$CONF/main.cf"
services "handoff unix:$T/ho.sock control -"
DLOG=$T/daemon.log
prlimit --nofile=200:200 "$TLSWARDD" -c "$CONF" -f > "$DLOG" 2>&1 &
DPID=$!
tap_pid "$DPID"
wait_log 'worker [0-9]+ started' 10 || { daemon_log; tap_done; exit 1; }
w=$(worker_pid)
ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }

python3 - "$T/ho.sock" "$T/held" "$T/release" <<'PY' &
import os, socket, sys, time
conns = []
def burst(n):
    for i in range(n):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sys.argv[1])
            conns.append(s)
        except OSError:
            s.close()
burst(300)
time.sleep(1.2)
burst(20)       # refused again, after the warning's second
open(sys.argv[2], "w").write("%d\n" % len(conns))
for i in range(200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
for s in conns:
    s.close()
PY
hp=$!
tap_pid "$hp"
for i in $(seq 100); do [ -s "$T/held" ] && break; sleep 0.1; done
sleep 0.5
t0=$(ticks "$w"); s0=$(ticks "$DPID")
sleep 3
t1=$(ticks "$w"); s1=$(ticks "$DPID")
hz=$(getconf CLK_TCK)
diag "held $(cat "$T/held") connections; worker used $((t1 - t0)) ticks, supervisor $((s1 - s0)) (of $((3 * hz)) in 3 s)"
ok $(( (t1 - t0) < hz ? 0 : 1 )) "the worker does not spin while out of descriptors ($((t1 - t0)) ticks in 3 s)"
ok $(( (s1 - s0) < hz ? 0 : 1 )) "nor does the supervisor ($((s1 - s0)) ticks in 3 s)"
n=$(grep -c 'refused connection from' "$DLOG")
like "$(grep 'refused connection from' "$DLOG" | head -n 1)" 'all 68 sessions in use' "the refusal is logged with its reason"
ok $(( n >= 1 && n <= 8 ? 0 : 1 )) "about once a second ($n lines)"
like "$(cat "$DLOG")" 'in use \([0-9]+ more suppressed\)' "with a count of what was not repeated"
python3 - "$T/ho.sock" > "$T/over" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
print(s.recv(200).decode().strip())
PY
is "$(cat "$T/over")" "refused overloaded all 68 sessions in use" "a client over the limit is told why"
: > "$T/release"
wait "$hp"
sleep 1
is "$(worker_pid)" "$w" "the same worker"
tw status -s "$T/admin.sock" >/dev/null 2>&1
is "$?" 0 "and the daemon answers again"
out=$(python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"version=9\n\n"); print(s.recv(200).decode().strip())' "$T/ho.sock" 2>&1)
like "$out" '^refused unsupported-version' "a new hand-off client is served (places given back; refused: a bad request)"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
tap_done
