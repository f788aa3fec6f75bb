#!/bin/sh
# t/67-listeners.t - listener and target kinds: IPv6, UNIX-domain
# listeners with mode/owner/group, UNIX-domain forward targets; and the
# daemon detaching with a pid file.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# a plaintext echo backend on a UNIX socket
python3 - "$T/backend.sock" <<'PY' &
import os, socket, sys, threading
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path + ".tmp"); os.rename(path + ".tmp", path); srv.listen(8)
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
tap_pid $!
for i in $(seq 50); do [ -S "$T/backend.sock" ] && break; sleep 0.1; done
backend_start http

daemon_setup
services "v6 [::1]:0 server 127.0.0.1:$BPORT" \
    "sock unix:$T/tls.sock server unix:$T/backend.sock -o tlsproxy_listen_mode=0660 -o tlsproxy_listen_group=nogroup" \
    "rel unix:rel.sock server unix:$T/backend.sock" \
    "ho unix:$T/ho.sock control -"
if ! python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	services "sock unix:$T/tls.sock server unix:$T/backend.sock -o tlsproxy_listen_mode=0660 -o tlsproxy_listen_group=nogroup" \
	    "rel unix:rel.sock server unix:$T/backend.sock" \
	    "ho unix:$T/ho.sock control -"
	NOV6=1
fi
daemon_start || { daemon_log; tap_done; exit 1; }

if [ -z "${NOV6:-}" ]; then
	is "$(curl -sk --max-time 5 "https://[::1]:$(port_of v6)/")" "hello" "an IPv6 listener"
else
	skip "an IPv6 listener" "no IPv6 loopback here"
fi
is "$(stat -c '%a %G' "$T/tls.sock")" "660 nogroup" "a UNIX listener gets its mode and group"
ok "$([ -S "$CONF/rel.sock" ]; echo $?)" "a relative unix: path is under the configuration directory"
is "$(stat -c %a "$T/ho.sock")" 600 "a hand-off socket is 0600 unless its mode is set"
# The worker runs as nobody: the backend socket must be reachable by it.
out=$( (printf 'over unix\n'; sleep 1) | timeout 10 openssl s_client -quiet -no_ign_eof -unix "$T/tls.sock" 2>/dev/null)
if [ "$(id -u)" = 0 ]; then
	is "$out" "" "a backend socket the worker may not use: nothing relayed"
	wait_log "connect to unix:$T/backend.sock: Permission denied" 3
	ok $? "... and the reason is logged"
	chmod 755 "$T"; chmod 666 "$T/backend.sock"
fi
out=$( (printf 'over unix\n'; sleep 1) | timeout 10 openssl s_client -quiet -no_ign_eof -unix "$T/tls.sock" 2>/dev/null)
is "$out" "over unix" "TLS on a UNIX listener to a UNIX backend"

# Peers that close at once after their request (curl): every session
# ends, none keeps retrying its close_notify on a dead socket.
pids=
for i in $(seq 30); do
	curl -sk --max-time 5 --unix-socket "$T/tls.sock" https://localhost/ >/dev/null 2>&1 &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
wait_log_count() { n=0; while [ "$(grep -c 'service=sock: DISCONNECT' "$DLOG")" -lt "$1" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done; }
wait_log_count 32
is "$(grep -c 'service=sock: DISCONNECT' "$DLOG")" 32 "30 early-closing peers: every session ended"
w=$(worker_pid)
c0=$(awk '{print $14 + $15}' "/proc/$w/stat"); sleep 1; c1=$(awk '{print $14 + $15}' "/proc/$w/stat")
ok $(( c1 - c0 < 10 ? 0 : 1 )) "... and the worker is idle afterwards ($((c1 - c0)) ticks in 1 s)"
daemon_stop

# a stale socket file is replaced; a regular file is not
: > "$T/plainfile"
services "x unix:$T/plainfile server unix:$T/backend.sock"
out=$(timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1); rc=$?
is "$rc" 1 "a listen path that is a regular file: exit 1"
like "$out" "listen unix:$T/plainfile: exists and is not a socket" "...named"
services "sock unix:$T/tls.sock server unix:$T/backend.sock -o tlsproxy_listen_group=nosuchgroupxyz"
out=$(timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1); rc=$?
like "$out" 'tlsproxy_listen_group: no such group "nosuchgroupxyz"' "an unknown group is named"

# detaching: pid file, then SIGTERM removes it
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
sed -i "s|^tlsproxy_pid_file =.*|tlsproxy_pid_file = $T/tlswardd.pid|" "$CONF/main.cf"
"$TLSWARDD" -c "$CONF"; rc=$?
is "$rc" 0 "without -f the daemon detaches (exit 0)"
for i in $(seq 50); do [ -s "$T/tlswardd.pid" ] && break; sleep 0.1; done
pid=$(cat "$T/tlswardd.pid" 2>/dev/null)
tap_pid "$pid"
ok "$(kill -0 "$pid" 2>/dev/null; echo $?)" "the pid file names the running daemon"
is "$(stat -c %a "$T/tlswardd.pid")" 644 "the pid file is 0644"
kill -TERM "$pid"
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
ok "$(kill -0 "$pid" 2>/dev/null; [ $? != 0 ]; echo $?)" "SIGTERM stops the detached daemon"
ok "$([ ! -e "$T/tlswardd.pid" ]; echo $?)" "and removes its pid file"
tap_done
