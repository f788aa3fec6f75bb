#!/bin/sh
# t/72-tls-client-verify.t - the client role's security levels against
# openssl s_server: fingerprint (certificate or public-key digest),
# verify (CA + the forward host's name), secure (CA + nexthop,
# dot-nexthop), may and encrypt with trust anchors, scert_verifydepth,
# CApath, SNI, mutual TLS with a client certificate; the right peer is
# accepted and the wrong one refused before anything is relayed.
# Sandbox enforcing and off.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup

# ---- a test PKI (EC keys: quick), made for this run only
P=$T/pki
mkdir "$P"
mkca ca "tlsward test CA"
mkca other "other CA"
mkleaf good ca localhost localhost
mkleaf wrong ca wrong.test wrong.test
mkleaf sub ca mx.localhost mx.localhost
mkleaf stranger other localhost localhost
mkleaf client ca client.test client.test
mkdir "$P/capath"
cp "$P/ca.crt" "$P/capath/ca.pem"
chmod -R a+rX "$T"

fp_cert() { openssl x509 -noout -fingerprint "-$2" -in "$1" | sed 's/.*=//'; }
fp_pkey_raw() {	# lower case, no colons: also accepted
	openssl x509 -noout -pubkey -in "$1" | openssl pkey -pubin -outform DER |
	    openssl dgst "-$2" -binary | od -An -v -tx1 | tr -d ' \n'
}

# s_server NAME [args]: a TLS server with certificate NAME, serving one
# connection after another; its port in $SPORT, what it got in $T/NAME.out
s_server() {
	_n=$1; shift
	SPORT=$(free_port)
	openssl s_server -quiet -accept "$SPORT" -cert "$P/$_n.crt" \
	    -key "$P/$_n.key" "$@" <&3 > "$T/$_n.out" 2>&1 &
	tap_pid $!
	for _i in $(seq 50); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$SPORT),1)" \
		    2>/dev/null && break
		sleep 0.1
	done
	eval "PORT_$_n=$SPORT"
}

# send SERVICE [TAG]: a marker through a client service; 0 when it
# arrived (waiting up to 3 s for it), else 1. send_no: 0 when it did not
# (a refused session has ended before the client gets its EOF).
arrived() { grep -q "$1" "$T"/*.out "$T/plain.got" 2>/dev/null; }
send_marker() {
	_m="to-$1-$SANDBOX${2:-}"
	printf '%s\n' "$_m" | plain_client "$(port_of "$1")" >/dev/null
}
send() {
	send_marker "$@"
	for _i in $(seq 30); do arrived "$_m" && return 0; sleep 0.1; done
	return 1
}
send_no() { send_marker "$@"; sleep 0.3; ! arrived "$_m"; }

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	ca="-o tlsproxy_client_CAfile=$P/ca.crt"
	c="127.0.0.1:0 client"
	lv() { echo "-o tlsproxy_client_security_level=$1"; }
	services "vgood $c localhost:$PORT_good $(lv verify) $ca" \
	    "vother $c localhost:$PORT_stranger $(lv verify) $ca" \
	    "vwrong $c localhost:$PORT_wrong $(lv verify) $ca" \
	    "vlit $c localhost:$PORT_wrong $(lv verify) $ca -o tlsproxy_client_verify_cert_match=wrong.test" \
	    "vsub $c localhost:$PORT_sub $(lv verify) $ca" \
	    "vpath $c localhost:$PORT_good $(lv verify) -o tlsproxy_client_CApath=$P/capath" \
	    "vdepth $c localhost:$PORT_good $(lv verify) $ca -o tlsproxy_client_scert_verifydepth=0" \
	    "sgood $c localhost:$PORT_good $(lv secure) $ca" \
	    "ssub $c localhost:$PORT_sub $(lv secure) $ca" \
	    "swrong $c localhost:$PORT_wrong $(lv secure) $ca" \
	    "fcert $c localhost:$PORT_good $(lv fingerprint) -o tlsproxy_client_fingerprint_cert_match=$(fp_cert "$P/wrong.crt" sha256),$(fp_cert "$P/good.crt" sha256)" \
	    "fpkey $c localhost:$PORT_stranger $(lv fingerprint) -o tlsproxy_client_fingerprint_cert_match=$(fp_pkey_raw "$P/stranger.crt" sha256)" \
	    "fbad $c localhost:$PORT_good $(lv fingerprint) -o tlsproxy_client_fingerprint_cert_match=$(fp_cert "$P/stranger.crt" sha256)" \
	    "fsha1 $c localhost:$PORT_good $(lv fingerprint) -o tlsproxy_client_fingerprint_digest=sha1 -o tlsproxy_client_fingerprint_cert_match=$(fp_cert "$P/good.crt" sha1)" \
	    "maytrust $c localhost:$PORT_good $(lv may) $ca" \
	    "encother $c localhost:$PORT_stranger $(lv encrypt) $ca -o tlsproxy_client_loglevel=1" \
	    "mtls $c localhost:$PORT_mtls $(lv verify) $ca -o tlsproxy_client_cert_file=$P/client.crt -o tlsproxy_client_key_file=$P/client.key" \
	    "mtlsnone $c localhost:$PORT_mtls $(lv verify) $ca" \
	    "maypl $c 127.0.0.1:$PLAINPORT $(lv may)" \
	    "vpl $c localhost:$PLAINPORT $(lv verify) $ca"
	daemon_start || { daemon_log; return; }

	for s in vgood vlit vpath sgood ssub fcert fpkey fsha1 maytrust encother mtls; do
		send $s; ok $? "$1: $s: the right peer gets the data"
	done
	for s in vother vwrong vsub vdepth swrong fbad mtlsnone maypl vpl; do
		send_no $s; ok $? "$1: $s: the wrong peer gets nothing"
	done

	wait_log 'service=vpl: .*DISCONNECT' 5
	log=$(cat "$DLOG")
	v='Verified TLS connection established to localhost:[0-9]+: TLSv1\.3 with cipher'
	like "$log" "service=vgood: $v .*subject_CN=localhost, issuer_CN=tlsward test CA" "$1: verify: Verified, with subject and issuer"
	like "$log" "service=vlit: $v .*subject_CN=wrong\\.test" "$1: verify_cert_match names a literal host name"
	like "$log" "service=vpath: $v" "$1: verify with trust anchors from CApath"
	like "$log" "service=sgood: $v" "$1: secure: nexthop matches"
	like "$log" "service=ssub: $v .*subject_CN=mx\\.localhost" "$1: secure: dot-nexthop matches a name below the next hop"
	like "$log" "service=fcert: $v" "$1: fingerprint: the certificate's digest (a list of two)"
	like "$log" "service=fpkey: $v .*issuer_CN=other CA" "$1: fingerprint: the public key's digest, no CA needed"
	like "$log" "service=fsha1: $v" "$1: fingerprint with fingerprint_digest sha1"
	like "$log" 'service=maytrust: Trusted TLS connection established to localhost:[0-9]+' "$1: may with trust anchors: Trusted"
	like "$log" 'service=encother: Untrusted TLS connection established to .*not trusted: unable to get local issuer certificate' \
	    "$1: encrypt: an untrusted peer is used, and said to be Untrusted"
	like "$log" "service=mtls: $v" "$1: mutual TLS with the client certificate"
	f='\[127\.0\.0\.1\]:[0-9]+: certificate verification failed:'
	like "$log" "service=vother: $f unable to get local issuer certificate at depth 0 \\(CN=localhost\\)" "$1: verify: another CA, refused and logged"
	like "$log" "service=vwrong: $f name mismatch: the certificate \\(CN=wrong\\.test\\) matches none of: localhost\$" "$1: verify: wrong name, refused and logged"
	like "$log" "service=vsub: $f name mismatch: .*matches none of: localhost\$" "$1: verify: hostname does not match names below it"
	like "$log" "service=vdepth: $f certificate chain too long at depth 1" "$1: scert_verifydepth 0: only a trust anchor itself"
	like "$log" "service=swrong: $f name mismatch: .*matches none of: localhost, \\.localhost\$" "$1: secure: wrong name, refused and logged"
	like "$log" "service=fbad: $f fingerprint mismatch: neither the sha256 fingerprint $(fp_cert "$P/good.crt" sha256) nor pkey_fingerprint [0-9A-F:]+ is in" \
	    "$1: fingerprint: a wrong digest, refused and logged with the peer's"
	like "$log" 'service=mtlsnone: .*(certificate required|handshake failure|alert)' "$1: mutual TLS without a client certificate: the server's refusal is logged"
	like "$log" 'service=maypl: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: .*wrong version number' "$1: may in front of a plaintext server: closed, and why"
	like "$log" 'service=vpl: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: ' "$1: verify in front of a plaintext server: closed"
	is "$(grep -c "to-maypl\|to-vpl" "$T/plain.got" 2>/dev/null)" 0 "$1: no plaintext reached the plaintext server"

	# a reload builds the policies again (inside the sandbox)
	kill -HUP "$DPID"
	wait_log 'generation 2\)' 10
	ok $? "$1: SIGHUP reloads"
	send vgood -reloaded; ok $? "$1: after the reload: verify accepts the right peer"
	send_no vwrong -reloaded; ok $? "$1: after the reload: verify refuses the wrong name"
	send fcert -reloaded; ok $? "$1: after the reload: fingerprint accepts the right peer"
	unlike "$(cat "$DLOG")" 'forbidden system call|killed' "$1: no worker died"
	daemon_stop
}

# A plaintext "server" that records what it receives.
backend_start record "$T/plain.got"; PLAINPORT=$BPORT

# s_server ends a connection at EOF on its own stdin: give it a FIFO that
# this shell holds open (no data, no EOF, no helper process).
mkfifo "$T/hold"
exec 3<>"$T/hold"
cp "$P/good.crt" "$P/mtls.crt"; cp "$P/good.key" "$P/mtls.key"
s_server good -servername localhost -servername_fatal -cert2 "$P/good.crt" -key2 "$P/good.key"
s_server wrong
s_server sub
s_server stranger
s_server mtls -Verify 1 -CAfile "$P/ca.crt"
run_mode enforce
run_mode off
tap_done
