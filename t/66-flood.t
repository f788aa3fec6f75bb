#!/bin/sh
# t/66-flood.t - more connections than tlsproxy_max_sessions: the excess
# is refused at once and logged (rate-limited), the admitted sessions are
# served, the refusals counted in status, memory stays bounded, and
# service resumes when the load goes. After bursts of a thousand
# half-open handshakes the worker gives the memory back.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

daemon_setup
cat >> "$CONF/main.cf" <<EOT
tlsproxy_max_sessions = 3
tlsproxy_event_threads = 2
EOT
backend_start http
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_handshake_timeout=3s"
daemon_start || { daemon_log; tap_done; exit 1; }
port=$(port_of web)
w=$(worker_pid)
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
rss0=$(rss "$w")

# 6 silent connections: 3 are sessions (waiting for a ClientHello), 3 are
# refused at once.
python3 - "$port" > "$T/flood.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(6):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    socks.append(s)
    time.sleep(0.1)
time.sleep(1.0)     # well within the 3 s handshake timeout
closed_fast = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed_fast += 1
    except (BlockingIOError, ConnectionResetError):
        pass
print(closed_fast)
PY
is "$(cat "$T/flood.out")" 3 "past 3 sessions, three connections are closed at once"
wait_log 'refused connection from' 3
# rate-limited: one line a second, the next saying how many it left out
n=$(grep -c 'service web: refused connection from \[127\.0\.0\.1\]:[0-9]*: all 3 sessions in use' "$DLOG")
ok $(( n >= 1 && n <= 3 ? 0 : 1 )) "the refusals are logged, at most one a second ($n lines for 3)"

# a bounded storm: 300 connects that close at once
python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
t0 = time.monotonic()
for i in range(300):
    if time.monotonic() - t0 > 20:
        break
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.close()
    except OSError:
        pass
PY
sleep 4	# the stalled handshakes end (3 s)
ok "$(kill -0 "$DPID"; echo $?)" "the daemon survives the storm"
is "$(worker_pid)" "$w" "with the same worker"
is "$(curl -sk --max-time 5 "https://127.0.0.1:$port/")" "hello" "service resumes when the load goes"
left=x
for i in 1 2 3 4 5 6 7 8 9 10; do
	left=$(tw status --json | python3 -c 'import json, sys
d = json.load(sys.stdin)["events"]
print(d["sessions"], d["refused"] >= 3)')
	[ "$left" = "0 True" ] && break
	sleep 0.3
done
is "$left" "0 True" "no session is left behind, and the refusals are counted"
rss1=$(rss "$w")
diag "worker VmRSS: $rss0 kB before, $rss1 kB after"
ok $(( rss1 - rss0 < 32768 ? 0 : 1 )) "worker memory stays bounded (+$((rss1 - rss0)) kB)"
daemon_stop

# Bursts: the memory of a thousand handshakes in flight is given back to
# the system once they are gone (glibc would keep it in its arenas).
: > "$CONF/main.cf"
daemon_setup
echo "tlsproxy_event_threads = 2" >> "$CONF/main.cf"
daemon_start || { daemon_log; tap_done; exit 1; }
w=$(worker_pid)
sleep 0.5
idle=$(rss "$w")
out=$(python3 "$TOP_SRCDIR/t/tools/burst.py" "$(port_of web)" 1000 3)
is "$(echo $out)" "opened 1000 opened 1000 opened 1000" "three bursts of 1,000 half-open handshakes"
limit=$((2 * idle + 16384))
for _i in $(seq 100); do
	now=$(rss "$w")
	[ "$now" -le "$limit" ] && break
	sleep 0.1
done
if ldd "$TLSWARDD" 2>/dev/null | grep -qE "libasan|libtsan"; then
	skip "the worker gives memory back after bursts" "a sanitizer's allocator keeps freed memory (quarantine, shadow)"
else
	ok $(( now <= limit ? 0 : 1 )) "within 10 s the worker is back within 2x its idle size + 16 MiB (idle $idle KiB, now $now KiB)"
fi
daemon_stop
tap_done
