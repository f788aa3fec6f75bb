#!/bin/sh
# t/62-relay.t - no data loss: multi-megabyte transfers both ways at once
# with checksums, several sessions in parallel, and half-close (the TLS
# client's close_notify reaches the backend as EOF while the other
# direction keeps flowing); with the sandbox enforcing and off.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
[ -x "$TLSPEER" ] || skip_all "t/tools/tlspeer not built"

head -c 8388608 /dev/urandom > "$T/big"
want=$(sha256sum < "$T/big" | cut -d' ' -f1)
for i in 1 2 3 4; do head -c 2097152 /dev/urandom > "$T/p$i"; done

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	services "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
	    "slow 127.0.0.1:0 server 127.0.0.1:$SPORT"
	daemon_start || { daemon_log; return; }
	port=$(port_of echo)

	# 8 MiB each way at once: the backend echoes while we still send.
	"$TLSPEER" -c "127.0.0.1:$port" -t 60 < "$T/big" > "$T/out" 2>"$T/peer.err"
	ok $? "$1: 8 MiB both ways: both directions closed cleanly"
	is "$(sha256sum < "$T/out" | cut -d' ' -f1)" "$want" "$1: 8 MiB both ways: checksum"

	# many small records, several per segment, into a backend that reads
	# slowly: the relay holds decrypted data while more records wait in
	# OpenSSL's buffer and in the socket
	out=$(python3 "$TOP_SRCDIR/t/tools/small_records.py" "$(port_of slow)" 10000 200 1000)
	ok $? "$1: 10000 small records, in bursts, into a slow backend: all back in time"
	set -- "$1" $out
	is "$2" 2000000 "$1: small records: 2,000,000 bytes back"
	is "$4" "$3" "$1: small records: checksum"

	# four sessions in parallel
	pids=
	for i in 1 2 3 4; do
		"$TLSPEER" -c "127.0.0.1:$port" -t 60 < "$T/p$i" > "$T/o$i" 2>/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	bad=0
	for i in 1 2 3 4; do cmp -s "$T/p$i" "$T/o$i" || bad=$((bad + 1)); done
	is "$bad" 0 "$1: four parallel 2 MiB sessions: every byte back"

	# Many sessions at once: more threads than glibc's first arenas (its
	# lazy /sys and /proc reads would kill a confined worker).
	pids=
	for i in $(seq 40); do
		printf 'session %s\n' "$i" | "$TLSPEER" -c "127.0.0.1:$port" -t 60 > "$T/m$i" 2>/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	bad=0
	for i in $(seq 40); do [ "$(cat "$T/m$i")" = "session $i" ] || bad=$((bad + 1)); done
	is "$bad" 0 "$1: 40 concurrent sessions: every one answered"
	unlike "$(cat "$DLOG")" 'forbidden system call|killed' "$1: 40 concurrent sessions: the worker survives"

	# Sessions are not threads: 30 handshaken sessions held open, each
	# echoed once, and the worker still has its few threads (main,
	# acceptor, one loop per CPU, the hand-off pool's minimum of 4).
	out=$(python3 - "$port" "$(worker_pid)" <<'PY'
import socket, ssl, sys
port, pid = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
held = []
for i in range(30):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
    s.sendall(b"x%d\n" % i)
    if s.recv(64) != b"x%d\n" % i:
        print("bad echo"); sys.exit(1)
    held.append(s)
threads = [l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("Threads:")][0]
print(len(held), threads)
PY
)
	cpus=$(getconf _NPROCESSORS_ONLN)
	# ThreadSanitizer's runtime adds a thread of its own
	extra=6
	ldd "$TLSWARDD" 2>/dev/null | grep -q libtsan && extra=7
	is "${out% *}" 30 "$1: 30 sessions held open, each echoed"
	ok $([ "${out#* }" -le $((cpus + extra)) ] 2>/dev/null; echo $?) \
	    "$1: ... by a worker with ${out#* } threads (at most $((cpus + extra)): no thread per session)"

	# Half-close: the echo backend answers only after EOF, so the reply
	# arrives only if close_notify became shutdown(SHUT_WR) on the
	# backend side and the other direction stayed open.
	out=$(printf 'half\n' | "$TLSPEER" -c "127.0.0.1:$port" -t 20 2>/dev/null); rc=$?
	is "$out" "half" "$1: half-close: data after our close_notify still arrives"
	is "$rc" 0 "$1: half-close: the proxy ends with close_notify"

	# empty session: handshake, close_notify, nothing else
	out=$("$TLSPEER" -c "127.0.0.1:$port" -t 20 < /dev/null 2>/dev/null); rc=$?
	is "$rc.$out" "0." "$1: an empty session closes cleanly"

	wait_log 'DISCONNECT .* in=8388608 out=8388608' 5
	like "$(cat "$DLOG")" 'DISCONNECT \[127\.0\.0\.1\]:[0-9]+ in=8388608 out=8388608' \
	    "$1: DISCONNECT counts every byte"
	unlike "$(cat "$DLOG")" 'plaintext|TLS (read|write)|timeout' "$1: no session failed"
	daemon_stop
}

backend_start echo; EPORT=$BPORT
backend_start slowecho; SPORT=$BPORT
run_mode enforce
run_mode off
tap_done
