#!/bin/sh
# t/80-socket-activation.t - systemd socket activation, for real, with
# systemd-socket-activate(1) (no running systemd needed): two named
# sockets (TCP and UNIX) taken by "systemd" entries of services.cf, the
# connection that triggered the start is served, a reload keeps them, an
# unused passed socket is reported, and a "systemd" entry without its
# socket is a clear startup error.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
command -v systemd-socket-activate >/dev/null 2>&1 ||
	skip_all "no systemd-socket-activate (Debian package systemd)"

daemon_setup
echo "tlsproxy_admin_socket = $T/admin.sock" >> "$CONF/main.cf"
backend_start http
chmod 755 "$T"	# the worker (nobody) connects to nothing here, but be safe

# activate NAMES LISTEN...: tlswardd under systemd-socket-activate, which
# binds the sockets, waits for a first connection, then execs tlswardd
# with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES (so $DPID is tlswardd). The
# first connection goes to the last UNIX socket given, from $T/poke.
activate() {
	_names=$1; shift
	DLOG=$T/daemon.log
	: > "$DLOG"
	_args=
	for _l in "$@"; do _args="$_args -l $_l"; done
	# shellcheck disable=SC2086
	systemd-socket-activate $_args --fdname="$_names" \
	    "$TLSWARDD" -c "$CONF" -f >> "$DLOG" 2>&1 &
	DPID=$!
	tap_pid "$DPID"
	_n=0
	while [ "$(grep -c '^Listening on' "$DLOG")" -lt $# ] && [ $_n -lt 50 ]; do
		sleep 0.1; _n=$((_n + 1))
	done
}

P1=$(free_port)
services "web systemd server 127.0.0.1:$BPORT" \
    "local systemd server 127.0.0.1:$BPORT" \
    "plain 127.0.0.1:0 server 127.0.0.1:$BPORT"
activate web:local "127.0.0.1:$P1" "$T/local.sock"
ok "$([ -S "$T/local.sock" ]; echo $?)" "systemd-socket-activate listens before tlswardd runs"
# This connection waits in the backlog until tlswardd takes the socket.
is "$(unix_get "$T/local.sock")" "hello" "the connection that triggered the start is served"
wait_log 'worker [0-9]+ started' 10
rc=$?
ok $rc "tlswardd started from socket activation"
[ $rc = 0 ] || daemon_log
like "$(cat "$DLOG")" 'service web: taking the socket systemd passed as "web"' "service web takes the socket named web"
like "$(cat "$DLOG")" 'service local: taking the socket systemd passed as "local"' "service local takes the socket named local"
is "$(port_of web)" "$P1" "the web service listens on the passed TCP socket's port"
like "$(cat "$DLOG")" "service local: listening on unix:$T/local.sock" "the UNIX socket's path is logged"
is "$(curl -sk --max-time 5 "https://127.0.0.1:$P1/")" "hello" "TLS on the passed TCP socket"
is "$(curl -sk --max-time 5 "https://127.0.0.1:$(port_of plain)/")" "hello" "an ordinary listener next to them"
unlike "$(cat "$DLOG")" 'no services.cf entry uses' "no unused socket reported"
w=$(worker_pid)
is "$(tr '\0' '\n' < "/proc/$w/environ" | grep -c '^LISTEN_')" 0 "the worker's environment has no LISTEN_ variables"

# A reload keeps the passed sockets (and takes a newly used one).
kill -HUP "$DPID"
wait_log 'reload: done' 10
ok $? "SIGHUP reload with systemd sockets"
is "$(curl -sk --max-time 5 "https://127.0.0.1:$P1/")" "hello" "the TCP socket serves after the reload"
is "$(unix_get "$T/local.sock")" "hello" "the UNIX socket serves after the reload"
daemon_stop
ok $? "SIGTERM stops it"

# Three sockets, two used: the third is reported by name, not fatal.
P1=$(free_port)
services "web systemd server 127.0.0.1:$BPORT" "local systemd server 127.0.0.1:$BPORT"
activate web:spare:local "127.0.0.1:$P1" "$T/spare.sock" "$T/local.sock"
is "$(unix_get "$T/local.sock")" "hello" "with an extra socket: served"
like "$(cat "$DLOG")" 'systemd passed a socket named "spare" \(fd 4\) that no services.cf entry uses' \
    "an unused passed socket is reported by name and descriptor"
daemon_stop

# A "systemd" entry whose socket was not passed: a clear startup error.
services "web systemd server 127.0.0.1:$BPORT" "other systemd server 127.0.0.1:$BPORT"
activate web "$T/only.sock"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$T/only.sock" 2>/dev/null
for i in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"; rc=$?
is "$rc" 1 "a systemd entry without its socket: exit 1"
like "$(cat "$DLOG")" 'service other: listen "systemd": systemd passed no socket named "other" \(FileDescriptorName= of the sockets passed: web\)' \
    "the error names the service and the sockets that were passed"

# Not socket-activated at all.
out=$(timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1); rc=$?
is "$rc" 1 "listen systemd without socket activation: exit 1"
like "$out" 'service web: listen "systemd": no socket was passed by systemd \(LISTEN_FDS is not set: tlswardd was not started by socket activation; use a \.socket unit with FileDescriptorName=web\)' \
    "the error says why"
out=$(LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=web timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1)
like "$out" 'LISTEN_PID \(1\) does not name this process' "LISTEN_PID for another process is not taken"
tap_done
