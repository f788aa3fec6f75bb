#!/bin/sh
# t/70-tls-ccert.t - the server role and client certificates: ask_ccert,
# req_ccert (only at encrypt), CAfile and CApath, ccert_verifydepth with
# Postfix's meaning, the trust words with the peer's subject and issuer
# CN, fingerprint_digest and loglevel; openssl s_client, gnutls-cli and
# curl as clients, with a test CA made here. Sandbox enforcing and off.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup

# ---- a test PKI (EC keys: quick), made for this run only
P=$T/pki
mkdir "$P"
mkca ca "tlsward test CA"
mkca other "other CA"
mkca inter "tlsward intermediate" ca
mkleaf client ca client.test client.test
mkleaf stranger other stranger.test stranger.test
mkleaf deep inter deep.test deep.test
mkleaf evil ca "evil$(printf '\033')[31mname" evil.test
mkdir "$P/capath"
cp "$P/ca.crt" "$P/capath/ca.pem"
chmod -R a+rX "$T"

# Postfix's fingerprints of a certificate, computed with openssl(1).
fp_cert() { openssl x509 -noout -fingerprint "-$2" -in "$1" | sed 's/.*=//'; }
fp_pkey() {
	openssl x509 -noout -pubkey -in "$1" | openssl pkey -pubin -outform DER |
	    openssl dgst "-$2" -binary | od -An -v -tx1 | tr -d ' \n' |
	    tr a-f A-F | sed 's/../&:/g; s/:$//'
}

send() { tls_line "$@"; }

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	o="-o tlsproxy_tls_CAfile=$P/ca.crt"
	services "ask 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_loglevel=0 $o" \
	    "req 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes $o" \
	    "reqpath 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes -o tlsproxy_tls_CApath=$P/capath" \
	    "reqmay 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_security_level=may -o tlsproxy_tls_req_ccert=yes $o" \
	    "depth1 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes -o tlsproxy_tls_ccert_verifydepth=1 $o" \
	    "depth2 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes -o tlsproxy_tls_ccert_verifydepth=2 $o" \
	    "log1 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_loglevel=1 $o" \
	    "sha1 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_loglevel=1 -o tlsproxy_tls_fingerprint_digest=sha1 $o" \
	    "log2 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_loglevel=2" \
	    "web 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes $o"
	daemon_start || { daemon_log; return; }
	good="-cert $P/client.crt -key $P/client.key"
	bad="-cert $P/stranger.crt -key $P/stranger.key"

	# ask_ccert: everyone gets through; the log says who they are
	is "$(send "$(port_of ask)" ask-good $good)" ask-good "$1: ask_ccert: a client with a CA-signed certificate"
	is "$(send "$(port_of ask)" ask-none)" ask-none "$1: ask_ccert: a client without a certificate"
	is "$(send "$(port_of ask)" ask-bad $bad)" ask-bad "$1: ask_ccert: a client with another CA's certificate"
	send "$(port_of ask)" ask-evil -cert "$P/evil.crt" -key "$P/evil.key" >/dev/null

	# req_ccert at encrypt: only a trusted certificate
	is "$(send "$(port_of req)" req-good $good)" req-good "$1: req_ccert: a trusted client certificate is accepted"
	is "$(send "$(port_of req)" req-none)" "" "$1: req_ccert: no client certificate, no session"
	is "$(send "$(port_of req)" req-bad $bad)" "" "$1: req_ccert: a certificate from another CA, no session"
	is "$(send "$(port_of reqpath)" path-good $good)" path-good "$1: req_ccert with tlsproxy_tls_CApath: accepted"
	is "$(send "$(port_of reqpath)" path-bad $bad)" "" "$1: req_ccert with tlsproxy_tls_CApath: wrong CA refused"
	# req_ccert at may: ignored with a warning (Postfix)
	is "$(send "$(port_of reqmay)" reqmay-none)" reqmay-none "$1: req_ccert at level may is not enforced"

	# gnutls-cli and curl with client certificates
	gn="timeout 10 gnutls-cli --insecure --logfile=/dev/null -p $(port_of req)"
	out=$(feed gnutls-good $gn --x509certfile="$P/client.crt" \
	    --x509keyfile="$P/client.key" 127.0.0.1)
	is "$out" gnutls-good "$1: gnutls-cli with a trusted client certificate"
	out=$(feed gnutls-none $gn 127.0.0.1 | grep -c gnutls-none)
	is "$out" 0 "$1: gnutls-cli without a client certificate is refused"
	out=$(timeout 10 curl -sk --max-time 5 --cert "$P/client.crt" --key "$P/client.key" \
	    "https://127.0.0.1:$(port_of web)/" 2>/dev/null)
	is "$out" hello "$1: curl with a trusted client certificate"
	out=$(timeout 10 curl -sk --max-time 5 "https://127.0.0.1:$(port_of web)/" 2>/dev/null)
	is "$out" "" "$1: curl without a client certificate is refused"

	# depth: leaf (0) - intermediate (1) - root from CAfile (2)
	chain="-cert $P/deep.crt -key $P/deep.key -cert_chain $P/inter.crt"
	is "$(send "$(port_of depth2)" depth2 $chain)" depth2 "$1: ccert_verifydepth 2 accepts leaf, intermediate and root"
	is "$(send "$(port_of depth1)" depth1 $chain)" "" "$1: ccert_verifydepth 1 refuses that chain"
	is "$(send "$(port_of depth1)" depth1-direct $good)" depth1-direct "$1: ccert_verifydepth 1 accepts a leaf signed by the root"

	send "$(port_of log1)" log1 $good >/dev/null
	send "$(port_of sha1)" sha1 $good >/dev/null
	send "$(port_of log2)" log2 >/dev/null
	wait_log 'service=log2: DISCONNECT' 5
	wait_log 'service=sha1: DISCONNECT' 5
	log=$(cat "$DLOG")
	like "$log" 'service=ask: Trusted TLS connection established from \[127\.0\.0\.1\]:[0-9]+: TLSv1\.3 with cipher .*, subject_CN=client\.test, issuer_CN=tlsward test CA$' \
	    "$1: Trusted, with the client's CN and its issuer's"
	like "$log" 'service=ask: Anonymous TLS connection established from' "$1: no certificate: Anonymous"
	like "$log" 'service=ask: Untrusted TLS connection established from .*subject_CN=stranger\.test, issuer_CN=other CA$' \
	    "$1: another CA's certificate: Untrusted"
	like "$log" 'service=req: \[127\.0\.0\.1\]:[0-9]+: certificate verification failed: no client certificate' \
	    "$1: refused without a certificate, and logged"
	like "$log" 'service=req: \[127\.0\.0\.1\]:[0-9]+: certificate verification failed: unable to get local issuer certificate at depth 0 \(CN=stranger\.test\)' \
	    "$1: refused with another CA's certificate, and logged"
	like "$log" 'service=ask: Trusted .*subject_CN=evil\?\[31mname, issuer_CN' "$1: control characters in a peer's CN are not logged"
	like "$log" 'warning: service reqmay: tlsproxy_tls_req_ccert = yes is ignored' "$1: req_ccert at may: warning"
	like "$log" 'service=depth1: .*certificate verification failed: certificate chain too long at depth 2' \
	    "$1: a chain deeper than ccert_verifydepth is named"
	like "$log" 'service=depth2: Trusted .*subject_CN=deep\.test, issuer_CN=tlsward intermediate' "$1: the deep chain is Trusted"
	unlike "$(grep 'service=ask: ' "$DLOG")" 'fingerprint=' "$1: loglevel 0: no fingerprints"
	like "$log" "service=log1: Trusted .*subject_CN=client\\.test, issuer_CN=tlsward test CA, fingerprint=$(fp_cert "$P/client.crt" sha256), pkey_fingerprint=$(fp_pkey "$P/client.crt" sha256)\$" \
	    "$1: loglevel 1: sha256 certificate and public-key fingerprints as Postfix prints them"
	like "$log" "service=sha1: Trusted .*, fingerprint=$(fp_cert "$P/client.crt" sha1), pkey_fingerprint=$(fp_pkey "$P/client.crt" sha1)\$" \
	    "$1: fingerprint_digest sha1"
	like "$log" 'service=log2: SSL_accept: ' "$1: loglevel 2: handshake progress"
	unlike "$(grep -v 'service=log2' "$DLOG")" 'SSL_accept: ' "$1: only there"
	like "$log" 'service=web: Trusted TLS connection established from .*subject_CN=client\.test' "$1: curl with a client certificate: Trusted"

	# a reload builds the trust anchors again (inside the sandbox)
	kill -HUP "$DPID"
	wait_log 'generation 2\)' 10
	ok $? "$1: SIGHUP reloads"
	is "$(send "$(port_of req)" req-again $good)" req-again "$1: after the reload: a trusted client certificate is accepted"
	is "$(send "$(port_of req)" req-bad-again $bad)" "" "$1: after the reload: another CA's is refused"
	unlike "$(cat "$DLOG")" 'forbidden system call|killed' "$1: no worker died"
	daemon_stop
}

backend_start echo; EPORT=$BPORT
backend_start http; HPORT=$BPORT
run_mode enforce
run_mode off
tap_done
