#!/bin/sh
# t/90-handoff.t - the hand-off service: a control service on a UNIX
# socket (mode from tlsproxy_listen_mode), server-role hand-offs through
# the Python example client with a TLS 1.3 peer, the report, data both
# ways, the log lines, and the first refusals (version, request).
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
HOCLIENT="python3 $TOP_SRCDIR/t/tools/hoclient.py"
export TOP_SRCDIR

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0660"
	daemon_start || { daemon_log; return; }
	sock=$CONF/handoff.sock
	like "$(cat "$DLOG")" "service handoff: listening on unix:$sock" "$1: the control service listens"
	is "$(stat -c %a "$sock")" 660 "$1: socket mode from tlsproxy_listen_mode"

	out=$($HOCLIENT "$sock" sessions 3 2>&1)
	is "$out" "ok 3/3" "$1: three server-role hand-offs: TLS 1.3, data both ways"
	wait_log 'DISCONNECT \[198\.51\.100\.2\]:1002' 5
	like "$(cat "$DLOG")" 'service=handoff: hand-off from pid=[0-9]+ uid=[0-9]+: role=server peer=\[198\.51\.100\.0\]:1000 profile=handoff level=may' \
	    "$1: the hand-off is logged with the client's pid and uid"
	like "$(cat "$DLOG")" 'service=handoff: Anonymous TLS connection established from \[198\.51\.100\.1\]:1001: TLSv1\.3 with cipher' \
	    "$1: the established line names the request's peer"
	like "$(cat "$DLOG")" 'service=handoff: DISCONNECT \[198\.51\.100\.2\]:1002 in=[0-9]+ out=[0-9]+' \
	    "$1: DISCONNECT with byte counts"

	out=$(printf 'version=2\nrole=server\npeer=x\n\n' | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); print(s.recv(1000))' "$sock")
	like "$out" "^b'refused unsupported-version version 2: this daemon speaks version 1.n'\$" \
	    "$1: unknown version: refused unsupported-version"
	out=$($HOCLIENT "$sock" garbage)
	like "$out" "got=b'refused bad-request " "$1: binary garbage: refused bad-request"
	wait_log 'refused: bad-request' 5
	like "$(cat "$DLOG")" 'service=handoff: local: hand-off from pid=[0-9]+ uid=[0-9]+ refused: bad-request: ' \
	    "$1: the refusal is logged once with its reason"
	kill -0 "$DPID" 2>/dev/null
	ok $? "$1: the daemon still runs"
	daemon_stop
}
run_mode enforce
run_mode off
tap_done
