#!/bin/sh
# t/93-handoff-client.t - the client role through the hand-off: a
# plaintext TCP connection to openssl s_server is handed over with level
# fingerprint; the right fingerprint passes (trust Verified, data
# arrives), a wrong one is refused with the reason reported back and
# nothing is sent. Through the Python example client and through
# "tlsward handoff" (libtlsward-client).
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
command -v bash >/dev/null 2>&1 || skip_all "bash needed (/dev/tcp)"
HOPY="python3 $TOP_SRCDIR/contrib/handoff_client.py"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }


run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	key=$(ls "$CONF"/key-*.pem) cert=$(ls "$CONF"/cert-*.pem)
	fp=$(openssl x509 -in "$cert" -noout -fingerprint -sha256 | sed 's/.*=//')
	wrong=$(echo "$fp" | sed 's/^../00/')
	services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600"
	daemon_start || { daemon_log; return; }
	sock=$CONF/handoff.sock

	SP=$(free_port)
	sleep 30 | openssl s_server -quiet -accept "$SP" -naccept 1 -key "$key" -cert "$cert" > "$T/s1.out" 2>&1 &
	tap_pid $!
	sleep 0.7
	out=$(echo "hello over tls" | $HOPY "$sock" 127.0.0.1 "$SP" --level fingerprint --fingerprint "$fp" 2>&1)
	ok $? "$1: python client, right fingerprint: hand-off succeeds"
	like "$out" 'status=ok' "$1: the report says ok"
	like "$out" 'trust=Verified' "$1: the peer is Verified by its fingerprint"
	like "$out" "peer_fingerprint=$fp" "$1: the report carries the peer fingerprint"
	like "$out" 'protocol=TLSv1\.3' "$1: TLS 1.3"
	sleep 0.3
	like "$(cat "$T/s1.out")" 'hello over tls' "$1: the data reached openssl s_server over TLS"

	SP=$(free_port)
	sleep 30 | openssl s_server -quiet -accept "$SP" -naccept 1 -key "$key" -cert "$cert" > "$T/s2.out" 2>&1 &
	tap_pid $!
	sleep 0.7
	out=$(echo "secret" | $HOPY "$sock" 127.0.0.1 "$SP" --level fingerprint --fingerprint "$wrong" 2>&1)
	is $? 1 "$1: wrong fingerprint: the client fails"
	like "$out" 'handshake: certificate verification failed: fingerprint mismatch' "$1: the reason is reported back"
	sleep 0.3
	unlike "$(cat "$T/s2.out")" 'secret' "$1: nothing reached the server"
	wait_log 'fingerprint mismatch' 5
	like "$(cat "$DLOG")" 'service=handoff: \[127\.0\.0\.1\]:[0-9]+: certificate verification failed: fingerprint mismatch' \
	    "$1: tlswardd logs the failure for the session"

	# tlsward handoff (the C library) with a descriptor from bash
	SP=$(free_port)
	sleep 30 | openssl s_server -quiet -accept "$SP" -naccept 1 -key "$key" -cert "$cert" > "$T/s3.out" 2>&1 &
	tap_pid $!
	sleep 0.7
	out=$(bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$SP"'
	    exec "$0" -c "$1" handoff --role client --fd 3 --peer "[127.0.0.1]:'"$SP"'" \
	    --level fingerprint --fingerprint "$2" -- \
	    sh -c "echo via tlsward handoff; echo \"\$TLSWARD_PROTOCOL \$TLSWARD_TRUST\" >&2; sleep 1"' \
	    "$TLSWARD" "$CONF" "$fp" 2>&1)
	ok $? "$1: tlsward handoff runs the command"
	like "$out" 'TLSv1\.3 Verified' "$1: the command sees the report in its environment"
	sleep 0.3
	like "$(cat "$T/s3.out")" 'via tlsward handoff' "$1: its output reached s_server over TLS"
	SP=$(free_port)
	sleep 30 | openssl s_server -quiet -accept "$SP" -naccept 1 -key "$key" -cert "$cert" > "$T/s4.out" 2>&1 &
	tap_pid $!
	sleep 0.7
	out=$(bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$SP"'; exec "$0" -c "$1" handoff --role client --fd 3 \
	    --level fingerprint --fingerprint "$2" -- echo not reached' "$TLSWARD" "$CONF" "$wrong" 2>&1)
	is $? 1 "$1: tlsward handoff with a wrong fingerprint exits 1"
	like "$out" 'tlsward: fatal: hand-off: TLS failed: certificate verification failed: fingerprint mismatch' \
	    "$1: ... and says why"
	daemon_stop
}
run_mode enforce
run_mode off
tap_done
