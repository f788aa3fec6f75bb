#!/bin/sh
# t/63-client-role.t - the client role: local plaintext peers, TLS to the
# forward target (openssl s_server and a TLS test peer), SNI, and a failed
# handshake closes the session without relaying anything in plaintext.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
[ -x "$TLSPEER" ] || skip_all "t/tools/tlspeer not built"

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	key=$(ls "$CONF"/key-*.pem) cert=$(ls "$CONF"/cert-*.pem)
	sport=$(free_port)
	# s_server ends a connection at EOF on its own stdin: keep it open.
	sleep 30 | openssl s_server -quiet -accept "$sport" -naccept 1 -key "$key" -cert "$cert" \
	    -key2 "$key" -cert2 "$cert" -servername_fatal -servername localhost \
	    > "$T/s_server.out" 2>&1 &
	tap_pid $!
	# a server that speaks first (SMTP-like): the greeting follows the
	# handshake, which our Finished must complete
	gport=$(free_port)
	(printf 'greeting\n'; sleep 30) | openssl s_server -quiet -accept "$gport" -naccept 1 \
	    -key "$key" -cert "$cert" > /dev/null 2>&1 &
	tap_pid $!
	rm -f "$T/tport"
	"$TLSPEER" -s "$T/tport" -k "$key" -r "$cert" -t 30 < /dev/null > "$T/tlspeer.out" 2>"$T/tlspeer.err" &
	tap_pid $!
	for i in $(seq 50); do [ -s "$T/tport" ] && break; sleep 0.1; done
	services "toss 127.0.0.1:0 client localhost:$sport -o tlsproxy_client_security_level=encrypt" \
	    "topeer 127.0.0.1:0 client 127.0.0.1:$(cat "$T/tport") -o tlsproxy_client_security_level=may" \
	    "toplain 127.0.0.1:0 client 127.0.0.1:$PLAINPORT -o tlsproxy_client_security_level=may" \
	    "tofirst 127.0.0.1:0 client 127.0.0.1:$gport -o tlsproxy_client_security_level=may"
	daemon_start || { daemon_log; return; }

	# s_server refuses a handshake without SNI "localhost": the forward
	# host name is sent as SNI.
	printf 'to s_server\n' | plain_client "$(port_of toss)" >/dev/null
	sleep 0.5
	like "$(cat "$T/s_server.out")" 'to s_server' "$1: plaintext reaches openssl s_server over TLS, SNI = forward host"

	printf 'to the TLS peer\n' | plain_client "$(port_of topeer)" > "$T/pc.out"
	sleep 0.3
	is "$(cat "$T/tlspeer.out")" "to the TLS peer" "$1: plaintext arrives at the TLS server"
	wait_log 'service=topeer: .*TLS connection established to 127\.0\.0\.1:[0-9]+' 5
	like "$(cat "$DLOG")" 'service=topeer: Untrusted TLS connection established to 127\.0\.0\.1:[0-9]+: TLSv1\.3 with cipher' \
	    "$1: the client-role established line (unverified peer: Untrusted)"

	out=$(python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
try:
    print(s.recv(100).decode().strip())
except socket.timeout:
    print("timeout")' "$(port_of tofirst)")
	is "$out" "greeting" "$1: a server that speaks first is heard (the handshake completes at once)"

	# a plaintext server behind a client listener: handshake fails,
	# nothing is relayed in plaintext
	out=$(printf 'secret\n' | plain_client "$(port_of toplain)")
	is "$out" "" "$1: nothing comes back from a failed client handshake"
	sleep 0.3
	is "$(cat "$T/plain.got" 2>/dev/null | grep -c secret)" 0 "$1: no plaintext reached the plaintext server"
	wait_log 'service=toplain: .*TLS handshake' 5
	like "$(cat "$DLOG")" 'service=toplain: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: .*wrong version number' "$1: the failed handshake is logged with its reason"
	daemon_stop
}

# A plaintext "server" that records what it receives.
backend_start record "$T/plain.got"; PLAINPORT=$BPORT
run_mode enforce
run_mode off
tap_done
