#!/bin/sh
# t/85-drain.t - stopping: SIGTERM stops accepting at once (new
# connections are refused), lets sessions in flight finish (the metrics
# endpoint answering meanwhile) and exits 0; at tlsproxy_drain_timeout
# the rest are closed and it exits 0; a second SIGTERM exits at once;
# SIGINT does the same in the foreground, and a terminal's Ctrl-C
# (SIGINT to the whole process group) does not cut the worker's sessions
# short.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# session PORT GOFILE: a TLS session through the echo backend; prints
# "up" once it works, then waits for GOFILE (max 30 s), sends 1 MB more
# and prints "ok" if it all came back, or "closed" if the daemon ended
# the session first.
cat > "$T/session.py" <<'PY'
import os, socket, ssl, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                    server_hostname="localhost")
def echo(data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        c = s.recv(65536)
        if not c:
            return False
        got += c
    return got == data
print("up" if echo(b"hello\n") else "bad", flush=True)
t0 = time.monotonic()
while not os.path.exists(go) and time.monotonic() - t0 < 30:
    time.sleep(0.05)
try:
    print("ok" if echo(os.urandom(1 << 20)) else "closed", flush=True)
except OSError:
    print("closed", flush=True)
PY
session() {
	python3 "$T/session.py" "$1" "$2" > "$3" 2>&1 &
	_s=$!
	tap_pid "$_s"
	for _i in $(seq 50); do [ -s "$3" ] && break; sleep 0.1; done
}
refused() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)' "$1" 2>/dev/null; [ $? != 0 ]; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
exited_within() {	# exited_within SECONDS: wait for $DPID, sets $rc
	_n=$(( $1 * 10 ))
	while [ $_n -gt 0 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.1; _n=$((_n - 1)); done
	kill -0 "$DPID" 2>/dev/null && return 1
	wait "$DPID"; rc=$?
	return 0
}

daemon_setup
cat >> "$CONF/main.cf" <<EOT
tlsproxy_admin_socket = $T/admin.sock
tlsproxy_drain_timeout = 10s
tlsproxy_idle_timeout = 60s
tlsproxy_metrics_listen = 127.0.0.1:0
EOT
backend_start echo
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"

# 1. SIGTERM: refuse new connections, finish the session, exit 0.
daemon_start || { daemon_log; tap_done; exit 1; }
port=$(port_of web)
session "$port" "$T/go1" "$T/s1"
is "$(sed -n 1p "$T/s1")" up "a session is in flight"
kill -TERM "$DPID"
wait_log 'stopping: draining sessions for up to 10s' 5
ok $? "SIGTERM: the daemon says it drains, and for how long"
for i in $(seq 20); do refused "$port" && break; sleep 0.1; done
refused "$port"
ok $? "new connections are refused while it drains"
ok "$([ ! -e "$T/admin.sock" ]; echo $?)" "the admin socket is closed while it drains"
kill -0 "$DPID" 2>/dev/null
ok $? "the daemon waits for the session"
mport=$(sed -n 's/.*metrics: listening on \[.*\]:\([0-9]*\)$/\1/p' "$DLOG" | tail -n 1)
like "$(curl -s --max-time 5 "http://127.0.0.1:$mport/metrics")" \
    'tlsward_sessions_active\{service="web"\} 1' \
    "the metrics endpoint still answers while it drains, with the session"
: > "$T/go1"
exited_within 5
ok $? "it exits once the session has finished"
is "$rc" 0 "with status 0"
is "$(sed -n 2p "$T/s1")" ok "the session's transfer completed during the drain"
like "$(cat "$DLOG")" 'worker: all sessions finished' "logged: all sessions finished"

# 2. The drain deadline: the rest are closed, exit 0.
sed -i 's/^tlsproxy_drain_timeout = .*/tlsproxy_drain_timeout = 2s/' "$CONF/main.cf"
daemon_start || daemon_log
port=$(port_of web)
session "$port" "$T/never" "$T/s2"
t0=$(ms)
kill -TERM "$DPID"
exited_within 12
ok $? "with a session that does not end, it exits at the deadline"
t=$(( $(ms) - t0 ))
ok $(( t >= 1800 && t < 6000 ? 0 : 1 )) "after about tlsproxy_drain_timeout (${t} ms for 2s)"
is "$rc" 0 "with status 0"
like "$(cat "$DLOG")" 'worker: drain deadline reached, closing 1 session' "logged: the deadline closed 1 session"
for i in $(seq 30); do [ -n "$(sed -n 2p "$T/s2")" ] && break; sleep 0.1; done
: > "$T/never"
for i in $(seq 50); do [ -n "$(sed -n 2p "$T/s2")" ] && break; sleep 0.1; done
is "$(sed -n 2p "$T/s2")" closed "the session was closed"

# 3. A second SIGTERM exits at once.
sed -i 's/^tlsproxy_drain_timeout = .*/tlsproxy_drain_timeout = 30s/' "$CONF/main.cf"
daemon_start || daemon_log
session "$(port_of web)" "$T/never3" "$T/s3"
w=$(worker_pid)
kill -TERM "$DPID"
wait_log 'stopping: draining' 5
sleep 0.3
t0=$(ms)
kill -TERM "$DPID"
exited_within 3
ok $? "a second SIGTERM: the daemon exits at once"
t=$(( $(ms) - t0 ))
ok $(( t < 2000 ? 0 : 1 )) "within two seconds (${t} ms) although 30s of drain were left"
is "$rc" 0 "with status 0"
like "$(cat "$DLOG")" 'stopping now: second signal' "logged"
ok "$(kill -0 "$w" 2>/dev/null; [ $? != 0 ]; echo $?)" "the worker is gone too"

# 3b. tlsproxy_stop_grace_time: after SIGTERM new connections are still
# served for that long (a load balancer may still send them), then the
# drain begins; a second SIGTERM during the grace period drains at once.
echo "tlsproxy_stop_grace_time = 5s" >> "$CONF/main.cf"
daemon_start || daemon_log
port=$(port_of web)
t0=$(ms)
kill -TERM "$DPID"
wait_log "still accepting for 5s" 5
ok $? "SIGTERM with a grace time: logged"
sleep 1
refused "$port"
ok "$([ $? != 0 ]; echo $?)" "1 s after SIGTERM a new connection is still accepted"
session "$port" "$T/gog" "$T/sg"
is "$(sed -n 1p "$T/sg")" up "and served"
: > "$T/gog"
exited_within 12
t=$(( $(ms) - t0 ))
ok $(( t >= 4900 ? 0 : 1 )) "the daemon stopped after the grace time (${t} ms)"
is "$rc" 0 "with status 0"
is "$(sed -n 2p "$T/sg")" ok "the session begun during the grace period completed"
daemon_start || daemon_log
t0=$(ms)
kill -TERM "$DPID"
wait_log 'still accepting' 5
kill -TERM "$DPID"
wait_log 'stopping: draining sessions' 5
for i in $(seq 20); do refused "$(port_of web)" && break; sleep 0.1; done
t=$(( $(ms) - t0 ))
ok $(( t < 1500 ? 0 : 1 )) "a second SIGTERM during the grace period drains at once (${t} ms)"
exited_within 5
sed -i '/^tlsproxy_stop_grace_time/d' "$CONF/main.cf"

# 4. SIGINT (foreground) drains like SIGTERM.
sed -i 's/^tlsproxy_drain_timeout = .*/tlsproxy_drain_timeout = 10s/' "$CONF/main.cf"
daemon_start || daemon_log
session "$(port_of web)" "$T/go4" "$T/s4"
kill -INT "$DPID"
wait_log 'stopping: draining sessions' 5
ok $? "SIGINT drains"
: > "$T/go4"
exited_within 5
is "$rc" 0 "and exits 0 once the session is done"
is "$(sed -n 2p "$T/s4")" ok "the session completed"

# 5. Ctrl-C in a terminal: SIGINT to the whole process group. The worker
# ignores it; the supervisor drains.
if command -v setsid >/dev/null 2>&1; then
	DLOG=$T/daemon5.log
	setsid "$TLSWARDD" -c "$CONF" -f > "$DLOG" 2>&1 &
	DPID=$!
	tap_pid "$DPID"
	wait_log 'worker [0-9]+ started' 10
	session "$(port_of web)" "$T/go5" "$T/s5"
	pg=$(ps -o pgid= -p "$DPID" | tr -d ' ')
	if [ "$pg" = "$DPID" ]; then
		kill -INT "-$pg"
		wait_log 'stopping: draining sessions' 5
		ok $? "SIGINT to the process group: the supervisor drains"
		sleep 0.3
		: > "$T/go5"
		exited_within 5
		is "$(sed -n 2p "$T/s5")" ok "SIGINT to the process group: the session still completes"
		unlike "$(cat "$DLOG")" 'worker [0-9]+ (killed|exited)' "the worker was not killed by it"
	else
		skip "SIGINT to the process group" "setsid did not make a new group"
		skip "the session completes" "setsid did not make a new group"
		skip "the worker survives it" "setsid did not make a new group"
		daemon_stop
	fi
else
	skip "SIGINT to the process group" "no setsid"
	skip "the session completes" "no setsid"
	skip "the worker survives it" "no setsid"
fi
tap_done
