#!/bin/sh
# t/96-handoff-load.t - many concurrent hand-offs: 200 sessions held open
# at once all complete with their own data; when every session thread
# is busy and the queue is full, a hand-off client is told
# "refused overloaded" instead of a silent close.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
HOC="python3 $TOP_SRCDIR/t/tools/hoclient.py"
export TOP_SRCDIR
N=${HANDOFF_SESSIONS:-200}

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	echo "tlsproxy_max_threads = 260" >> "$CONF/main.cf"
	services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600 -o tlsproxy_handshake_timeout=60s -o tlsproxy_idle_timeout=60s"
	daemon_start || { daemon_log; return; }
	start=$(date +%s)
	out=$(timeout 170 $HOC "$CONF/handoff.sock" sessions "$N" --hold 1 2>&1)
	is "$(echo "$out" | tail -n 1)" "ok $N/$N" "$1: $N concurrent hand-offs, each with its own data"
	[ "$(echo "$out" | tail -n 1)" = "ok $N/$N" ] ||
		diag "$(echo "$out" | head -n 5)" \
		    "$(grep -E 'warning|fatal|panic|error' "$DLOG" | sort | uniq -c | sort -rn | head -n 10)"
	diag "$1: $N hand-offs in $(( $(date +%s) - start ))s"
	wait_log "sess=$N " 10
	is "$(grep -c 'TLS connection established from' "$DLOG")" "$N" "$1: $N sessions established"
	daemon_stop

	# two threads, no queue: the third concurrent client is refused
	sed -i '/tlsproxy_max_threads/d' "$CONF/main.cf"
	printf 'tlsproxy_max_threads = 2\ntlsproxy_min_threads = 1\ntlsproxy_queue_limit = 0\n' >> "$CONF/main.cf"
	daemon_start || { daemon_log; return; }
	$HOC "$CONF/handoff.sock" sessions 2 --hold 3 > "$T/hold.out" 2>&1 &
	hold=$!
	sleep 1.5
	out=$($HOC "$CONF/handoff.sock" nofd 2>&1)
	like "$out" "refused overloaded all session threads busy" "$1: a full pool answers refused overloaded"
	wait $hold
	is "$(tail -n 1 "$T/hold.out")" "ok 2/2" "$1: the sessions that were served are not disturbed"
	daemon_stop
}
run_mode enforce
run_mode off
tap_done
