#!/bin/sh
# t/94-handoff-misbehave.t - misbehaving hand-off clients: a client that
# connects and stalls, stalls mid-request, closes mid-request, sends
# garbage, an overlong line, no end, no descriptor, two, a regular
# file, a listening, an unconnected or a UDP socket, a wrong payload
# byte, a TLS peer that never speaks, a TLS peer whose handshake fails
# (it reads the alert, no reset). Each gets a refusal (or a logged
# close) within the deadline; good hand-offs meanwhile are not slowed.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
HOC="python3 $TOP_SRCDIR/t/tools/hoclient.py"
export TOP_SRCDIR

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600 -o tlsproxy_handshake_timeout=2s"
	daemon_start || { daemon_log; return; }
	s=$CONF/handoff.sock

	# stallers first, kept busy while good sessions run
	pids=
	for i in 1 2 3 4 5; do
		$HOC "$s" stall > "$T/stall.$i" 2>&1 &
		pids="$pids $!"
	done
	$HOC "$s" partial > "$T/partial" 2>&1 &
	pids="$pids $!"
	start=$(date +%s)
	out=$($HOC "$s" sessions 20 2>&1)
	is "$out" "ok 20/20" "$1: good hand-offs complete while others stall"
	for p in $pids; do wait "$p"; done
	end=$(date +%s)
	ok $(( end - start <= 6 ? 0 : 1 )) "$1: all of it within the deadline ($((end - start))s)"
	like "$(cat "$T/stall.1")" "got=b'refused timeout no complete request in time.n' closed_after=[23]\." \
	    "$1: a client that stalls is refused after the 2s deadline"
	like "$(cat "$T/partial")" "got=b'refused timeout " "$1: a client that stalls mid-request too"

	$HOC "$s" close-mid > /dev/null
	wait_log 'closed in the middle of the request' 5
	ok $? "$1: a client that closes mid-request: logged close"

	for m in garbage long-line no-end; do
		like "$($HOC "$s" $m)" "got=b'refused bad-request " "$1: $m: refused bad-request"
	done
	like "$($HOC "$s" nofd)" "got=b'refused bad-descriptor no descriptor.n'" "$1: no descriptor"
	like "$($HOC "$s" twofds)" "got=b'refused bad-descriptor 2 descriptors" "$1: two descriptors"
	like "$($HOC "$s" file)" "got=b'refused bad-descriptor not a socket.n'" "$1: a regular file"
	like "$($HOC "$s" listening)" "got=b'refused bad-descriptor a listening socket.n'" "$1: a listening socket"
	like "$($HOC "$s" unconnected)" "got=b'refused bad-descriptor not connected.n'" "$1: an unconnected socket"
	like "$($HOC "$s" udp)" "got=b'refused bad-descriptor not a TCP or UNIX stream socket.n'" "$1: a UDP socket"
	like "$($HOC "$s" wrongbyte)" "got=b'refused bad-descriptor want the byte" "$1: a wrong payload byte"

	# a TLS peer that never speaks: the request's handshake_timeout
	out=$($HOC "$s" nofd --extra handshake_timeout=1 2>&1)
	like "$out" "refused bad-descriptor" "$1: (sanity) extra request fields pass"
	out=$(python3 - "$s" "$TOP_SRCDIR/contrib" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[2]); import handoff_client
a, b = socket.socketpair()
t = time.monotonic()
try:
    handoff_client.handoff(sys.argv[1], b, "server", "[192.0.2.1]:1", handshake_timeout=1)
except handoff_client.HandoffError as e:
    print(e.code, e.text, "after %.1f" % (time.monotonic() - t))
PY
)
	like "$out" "^handshake handshake timeout after 1\." "$1: a silent TLS peer: failed report after handshake_timeout=1"
	# A fatal TLS error: the peer reads the alert and an orderly end,
	# and what it sent meanwhile is not answered with a reset.
	out=$(python3 "$TOP_SRCDIR/t/tools/fatal_alert.py" --handoff "$s")
	like "$out" '^sent 15030[0-3]0002020a eof ' \
	    "$1: after a fatal error the handed-off peer reads the alert, no reset ($out)"
	kill -0 "$DPID" 2>/dev/null
	ok $? "$1: the daemon still runs"
	is "$($HOC "$s" sessions 3 2>&1)" "ok 3/3" "$1: and still serves"
	daemon_stop
}
run_mode enforce
run_mode off
tap_done
