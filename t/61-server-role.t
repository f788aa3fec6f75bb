#!/bin/sh
# t/61-server-role.t - the server role with real TLS clients (curl,
# openssl s_client, gnutls-cli), RSA and ECDSA certificates at once,
# protocols, and the log lines; with the sandbox enforcing and off.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	sed -i 's/^smtpd_tls_loglevel = 1$/smtpd_tls_loglevel = 2/' "$CONF/main.cf"	# CONNECT lines
	# a second, ECDSA pair beside the RSA one
	tw new-server-key -a ecdsa localhost >/dev/null 2>&1
	tw deploy-server-cert "$(ls "$CONF"/eccert-*.pem)" "$(ls "$CONF"/eckey-*.pem)" >/dev/null 2>&1
	# a chain file: key and certificate in one PEM file
	cat "$(ls "$CONF"/key-*.pem)" "$(ls "$CONF"/cert-*.pem)" > "$CONF/chain.pem"
	chmod 600 "$CONF/chain.pem"
	services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
	    "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
	    "tls13 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_protocols=>=TLSv1.3" \
	    "chain 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_chain_files=chain.pem" \
	    "dhe 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_dh1024_param_file=$DHFILE" \
	    "quiet 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_session_log=no -o tlsproxy_tls_protocols=>=TLSv1.3" \
	    "greet 127.0.0.1:0 server 127.0.0.1:$GPORT"
	daemon_start || { daemon_log; return; }
	web=$(port_of web) echo=$(port_of echo) t13=$(port_of tls13)

	out=$(curl -sk --max-time 10 "https://127.0.0.1:$web/")
	is "$out" "hello" "$1: curl through the server role"

	out=$( (printf 'ping\n'; sleep 2) | timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$echo" 2>/dev/null)
	is "$out" "ping" "$1: openssl s_client through the server role"

	out=$( (printf 'gnutls\n'; sleep 1) | timeout 10 gnutls-cli --insecure --logfile=/dev/null -p "$echo" 127.0.0.1 2>/dev/null | tail -n 1)
	is "$out" "gnutls" "$1: gnutls-cli through the server role"

	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$echo" -sigalgs ECDSA+SHA256 2>&1)
	like "$out" 'Peer signature type: ECDSA' "$1: an ECDSA client gets the ECDSA certificate"
	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$echo" -sigalgs RSA-PSS+SHA256 2>&1)
	like "$out" 'Peer signature type: RSA-PSS' "$1: an RSA client gets the RSA certificate"

	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$t13" -tls1_2 2>&1); rc=$?
	ok $((rc == 0)) "$1: TLS 1.2 refused where protocols say >=TLSv1.3"
	out=$( (printf 'v13\n'; sleep 2) | timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$t13" -tls1_3 2>/dev/null)
	is "$out" "v13" "$1: TLS 1.3 accepted there"

	out=$( (printf 'chained\n'; sleep 2) | timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$(port_of chain)" 2>/dev/null)
	is "$out" "chained" "$1: a certificate from tlsproxy_tls_chain_files"
	out=$( (printf 'dhe\n'; sleep 2) | timeout 10 openssl s_client -no_ign_eof -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256 -connect "127.0.0.1:$(port_of dhe)" 2>&1)
	like "$out" 'Server Temp Key: DH, 2048 bits' "$1: TLS 1.2 DHE with the configured DH parameters"

	# a backend that speaks first: its greeting (and the TLS 1.3 ticket
	# that waits for it) reaches a client that sends nothing
	out=$(sleep 2 | timeout 10 openssl s_client -quiet -tls1_3 -connect "127.0.0.1:$(port_of greet)" 2>/dev/null)
	like "$out" '^220 plaintext greeting' "$1: TLS 1.3: a backend that speaks first is heard by a silent client"
	out=$(sleep 2 | timeout 10 openssl s_client -quiet -tls1_2 -connect "127.0.0.1:$(port_of greet)" 2>/dev/null)
	like "$out" '^220 plaintext greeting' "$1: TLS 1.2: the same"

	# tlsproxy_session_log = no: a session that succeeds leaves no line,
	# one that fails is logged as ever
	q=$(port_of quiet)
	out=$( (printf 'quiet\n'; sleep 2) | timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$q" 2>/dev/null)
	is "$out" "quiet" "$1: tlsproxy_session_log=no: the session works"
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$q" -tls1_2 >/dev/null 2>&1
	wait_log 'service=quiet: .*TLS handshake' 5
	wait_log 'DISCONNECT .* in=[0-9]+ out=[0-9]+' 5
	log=$(cat "$DLOG")
	unlike "$log" 'service=quiet: .*(established|in=6 out=6)' "$1: tlsproxy_session_log=no: no line for the session that succeeded"
	like "$log" 'service=quiet: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: ' "$1: tlsproxy_session_log=no: the failed one is logged with its reason"
	like "$log" 'service=quiet: DISCONNECT \[127\.0\.0\.1\]:[0-9]+ in=0 out=0' "$1: ... and its DISCONNECT line"
	like "$log" 'service=web: CONNECT from \[127\.0\.0\.1\]:[0-9]+' "$1: CONNECT logged (loglevel 2)"
	like "$log" 'Anonymous TLS connection established from \[127\.0\.0\.1\]:[0-9]+: TLSv1\.3 with cipher TLS_[A-Z0-9_]+ \([0-9]+/[0-9]+ bits\) key-exchange [A-Za-z0-9]+ server-signature (RSA-PSS|ECDSA) \([0-9]+ bits\) server-digest SHA[0-9]+' \
	    "$1: the established line as tlsproxy(8) writes it"
	like "$log" 'service=tls13: .*TLS handshake: .*(unsupported protocol|no protocols available|version)' \
	    "$1: the refused TLS 1.2 handshake is logged with the reason"
	like "$log" 'DISCONNECT \[127\.0\.0\.1\]:[0-9]+ in=5 out=5 time=' "$1: DISCONNECT with byte counts"
	daemon_stop
	ok $? "$1: SIGTERM stops the daemon"
	like "$(tail -n 1 "$DLOG")" 'stopped' "$1: it says it stopped"
}

# RFC 7919 ffdhe2048: instant, unlike generating new parameters
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$T/dh.pem" 2>/dev/null
DHFILE=$T/dh.pem
chmod 755 "$T"; chmod 644 "$DHFILE"
backend_start http; HPORT=$BPORT
backend_start echo; EPORT=$BPORT
backend_start record "$T/greet.got"; GPORT=$BPORT
run_mode enforce
run_mode off
tap_done
