#!/bin/sh
# t/73-tls-policy-errors.t - TLS policy values that cannot be honoured
# are startup errors naming the parameter and the service ("tlswardd -t"
# exits 1; a start does not happen); values Postfix tolerates with a
# warning (a server at level verify, req_ccert at may, ...) are warned
# about and the configuration stands.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

daemon_setup
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 -subj "/CN=test CA" 2>/dev/null
echo 'no certificate in here' > "$T/junk.pem"
FP=$(openssl x509 -noout -fingerprint -sha256 -in "$T/ca.crt" | sed 's/.*=//')
FP1=$(openssl x509 -noout -fingerprint -sha1 -in "$T/ca.crt" | sed 's/.*=//')
S="s 127.0.0.1:0 server 127.0.0.1:1"
C="c 127.0.0.1:0 client localhost:1"
V="-o tlsproxy_client_security_level"

check() {	# check NAME REGEX: -t fails with a message matching REGEX
	out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
	is "$rc" 1 "$1: -t exits 1"
	like "$out" "$2" "$1: the message names parameter and service"
}
warns() {	# warns NAME REGEX: -t passes, with a warning matching REGEX
	out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
	is "$rc" 0 "$1: -t exits 0"
	like "$out" "warning: $2" "$1: warned about"
}

# values of the wrong type (the loader checks every parameter per service)
services "$S -o tlsproxy_tls_security_level=strict"
check "unknown server level" 'service s: parameter tlsproxy_tls_security_level: invalid security level "strict"'
services "$C $V=paranoid"
check "unknown client level" 'service c: parameter tlsproxy_client_security_level: invalid security level "paranoid"'
services "$C $V=may -o tlsproxy_client_protocols=>=TLSv1.4"
check "bad client protocol list" 'service c: parameter tlsproxy_client_protocols: invalid protocol ">=TLSv1.4"'
services "$S -o tlsproxy_tls_mandatory_protocols=!TLSv1.2:!TLSv1.3:!TLSv1:!TLSv1.1:!SSLv2:!SSLv3"
check "a protocol list that enables nothing" 'service s: parameter tlsproxy_tls_mandatory_protocols: protocol list .* enables no protocol'
services "$C $V=may -o tlsproxy_client_ciphers=strong"
check "unknown client cipher grade" 'service c: parameter tlsproxy_client_ciphers: invalid cipher grade "strong"'
services "$S -o tlsproxy_tls_eecdh_grade=extreme"
check "unknown eecdh grade" 'service s: parameter tlsproxy_tls_eecdh_grade: invalid eecdh grade "extreme"'
services "$C $V=fingerprint -o tlsproxy_client_fingerprint_digest=sha3"
check "unknown fingerprint digest" 'service c: parameter tlsproxy_client_fingerprint_digest: invalid digest "sha3"'
services "$S -o tlsproxy_tls_ccert_verifydepth=deep"
check "a verify depth that is no number" 'service s: parameter tlsproxy_tls_ccert_verifydepth: invalid integer value "deep"'
services "$S -o tlsproxy_tls_ticket_count=17"
check "more TLS 1.3 tickets than 16" 'service s: parameter tlsproxy_tls_ticket_count: want a number from 0 to 16'
services "$S -o tlsproxy_tls_ticket_count=-1"
check "a negative ticket count" 'service s: parameter tlsproxy_tls_ticket_count: invalid integer value "-1"'
services "$S -o tlsproxy_session_log=sometimes"
check "a session log switch that is not yes or no" 'service s: parameter tlsproxy_session_log: invalid boolean value "sometimes"'

# files
services "$C $V=verify -o tlsproxy_client_CAfile=$T/missing.pem"
check "unreadable client CAfile" "service c: parameter tlsproxy_client_CAfile: cannot open $T/missing.pem"
services "$S -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_CAfile=$T/junk.pem"
check "a server CAfile without certificates" "service s: parameter tlsproxy_tls_CAfile: $T/junk.pem: no certificate"
services "$S -o tlsproxy_tls_CApath=$T/nodir"
check "a missing CApath" "service s: parameter tlsproxy_tls_CApath: cannot open directory $T/nodir"

# values the TLS contexts cannot honour
services "$S -o tlsproxy_tls_exclude_ciphers=ALL"
check "exclusions that leave no cipher" 'service s: parameter tlsproxy_tls_ciphers: cipher grade "medium" \(tls_medium_cipherlist\) with the exclusions of \*exclude_ciphers gives no usable TLS 1.2 cipher'
services "$S -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_mandatory_ciphers=high -o tls_high_cipherlist=NOSUCHCIPHER"
check "a grade whose cipher list is unusable" 'service s: parameter tlsproxy_tls_mandatory_ciphers: cipher grade "high" \(tls_high_cipherlist\)'
services "$C $V=verify"
check "verify without trust anchors" 'service c: security level verify needs trust anchors: set tlsproxy_client_CAfile or tlsproxy_client_CApath'
services "c 127.0.0.1:0 client 127.0.0.1:1 $V=secure -o tlsproxy_client_CAfile=$T/ca.crt"
check "secure with an address and no names" 'service c: parameter tlsproxy_client_secure_cert_match: security level secure needs a name to check'
services "$C $V=fingerprint"
check "fingerprint without fingerprints" 'service c: parameter tlsproxy_client_fingerprint_cert_match: security level fingerprint needs at least one fingerprint'
services "$C $V=fingerprint -o tlsproxy_client_fingerprint_cert_match=$FP,12:XY"
check "a malformed fingerprint" 'service c: parameter tlsproxy_client_fingerprint_cert_match: sha256: "12:XY" is not a fingerprint'
services "$C $V=fingerprint -o tlsproxy_client_fingerprint_cert_match=$FP1"
check "a fingerprint of another digest" "service c: parameter tlsproxy_client_fingerprint_cert_match: sha256: \"$FP1\" is not a fingerprint of this digest \\(want 32 hex byte pairs"
services "$C $V=dane"
check "dane in the client role" 'service c: parameter tlsproxy_client_security_level: level dane needs DNSSEC-validated TLSA records'
services "$C $V=dane-only"
check "dane-only in the client role" 'service c: parameter tlsproxy_client_security_level: level dane-only needs'
services "$C $V=none"
check "level none in a client listener" 'service c: the TLS security level is none'
services "$S -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes"
check "req_ccert without trust anchors" 'service s: tlsproxy_tls_req_ccert needs trust anchors for client certificates: set tlsproxy_tls_CAfile or tlsproxy_tls_CApath'
services "$C $V=verify -o tlsproxy_client_CAfile=$T/ca.crt -o tls_append_default_CA=yes"
check "tls_append_default_CA = yes where trust anchors matter" 'service c: parameter tls_append_default_CA: yes is not supported'
services "$S -o tls_session_ticket_cipher=aes-128-cbc"
check "another ticket cipher" 'service s: parameter tls_session_ticket_cipher: "aes-128-cbc" is not supported'
services "$S -o tls_disable_workarounds=NO_SUCH_BUG"
check "an unknown work-around" 'service s: parameter tls_disable_workarounds: unknown option "NO_SUCH_BUG"'
services "$C $V=may -o tls_ssl_options=ENABLE_KTLS"
check "an option tlswardd does not offer" 'service c: parameter tls_ssl_options: unknown option "ENABLE_KTLS"'
services "$S" "$C"
echo 'smtp_tls_security_level = verify' >> "$CONF/main.cf"
check "a main.cf default that leaves a client service without CAs" 'service c: security level verify needs trust anchors'
sed -i '/^smtp_tls_security_level/d' "$CONF/main.cf"

# what Postfix tolerates, with a warning
services "$S -o tlsproxy_tls_security_level=verify"
warns "a server at level verify" 'service s: tlsproxy_tls_security_level = verify: the server role runs it as encrypt'
services "$S -o tlsproxy_tls_security_level=may -o tlsproxy_tls_req_ccert=yes"
warns "req_ccert at may" 'service s: tlsproxy_tls_req_ccert = yes is ignored'
services "$S -o tlsproxy_tls_eecdh_grade=none"
warns "eecdh grade none" 'service s: tlsproxy_tls_eecdh_grade = none is no longer supported'
services "$S -o tls_eecdh_auto_curves=X25519,nocurve"
warns "an unknown curve" 'service s: tls_eecdh_auto_curves: ignoring unknown curve "nocurve"'
services "$S -o tls_append_default_CA=yes"
warns "tls_append_default_CA = yes where they do not" 'service s: tls_append_default_CA = yes is ignored'
services "$S -o tlsproxy_tls_dcert_file=$T/ca.crt"
warns "a DSA certificate setting" 'service s: tlsproxy_tls_dcert_file is ignored'
services "$S -o tls_disable_workarounds=TLSEXT_PADDING,tls_d5_bug -o tls_ssl_options=NO_TICKET,PRIORITIZE_CHACHA"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1)
is "$?" 0 "known work-arounds and options are accepted"

# a start with such an error does not happen (sandbox enforcing and off)
for m in enforce off; do
	sed -i "s/^tlsproxy_sandbox = .*/tlsproxy_sandbox = $m/" "$CONF/main.cf"
	services "$C $V=verify"
	out=$(timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1); rc=$?
	is "$rc" 1 "$m: a start with verify and no trust anchors: exit 1"
	like "$out" 'service c: security level verify needs trust anchors' "$m: it says why"
done
tap_done
