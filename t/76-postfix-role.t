#!/bin/sh
# t/76-postfix-role.t - the "postfix" role speaks tlsproxy(8)'s protocol
# as postscreen(8) and smtpd(8) expect it (t/tools/pfclient.py plays
# them, byte for byte as observed from Postfix 3.7): the greeting, status
# 1, the passed socket, the server-role handshake, the plaintext relay;
# with flag 4 the 22-field context first. Requests it cannot serve get
# status 0, malformed ones a logged close, and neither disturbs the next
# session. services.cf refuses a postfix entry that forwards or listens
# on TCP.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
PFC="python3 $TOP_SRCDIR/t/tools/pfclient.py"

daemon_setup
cert=$(sed -n 's/^smtpd_tls_cert_file = //p' "$CONF/main.cf")
key=$(sed -n 's/^smtpd_tls_key_file = //p' "$CONF/main.cf")
services "pf unix:$T/pf.sock postfix -" \
    "off unix:$T/off.sock postfix - -o tlsproxy_tls_security_level=none" \
    "cc unix:$T/cc.sock postfix - -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_CAfile=$cert"
daemon_start || { daemon_log; tap_done; exit 1; }
is "$(stat -c %a "$T/pf.sock")" 666 "the socket is 0666 by default (Postfix's programs run as the mail owner)"

# postscreen: flags 1
out=$($PFC "$T/pf.sock" session 1 2>&1)
like "$out" '^greeting ok' "the greeting is exactly Postfix's (one write)"
like "$out" 'status 1' "flags 1: status 1"
like "$out" 'plaintext EHLO client.test' "the TLS client's EHLO arrives in plaintext"
like "$out" 'client got 250 hello' "and the answer reaches it through TLS"
unlike "$out" 'context' "no context without flag 4"
wait_log 'sess=[0-9]+ service=pf: DISCONNECT \[127\.0\.0\.1\]:44554' 5
like "$(cat "$DLOG")" 'service=pf: CONNECT from \[127\.0\.0\.1\]:44554 \(serverid=smtpd, flags=1\)' "logged: CONNECT from the remote endpoint"
like "$(cat "$DLOG")" 'service=pf: Anonymous TLS connection established from \[127\.0\.0\.1\]:44554: TLSv1\.3 with cipher' \
    "logged as tlsproxy(8) does"

# smtpd with -DUSE_TLSPROXY: flags 5, the context before any plaintext
out=$($PFC "$T/pf.sock" session 5 2>&1)
like "$out" 'context 22' "flags 5: a context of 22 attributes"
names=$(printf '%s\n' "$out" | sed -n '/^context/,/^plaintext/p' | sed '1d;$d' | cut -d= -f1 | tr '\n' ' ')
is "$names" "peer_CN issuer_CN peer_fingerprint peer_pubkey_fingerprint level peer_status cipher_protocol cipher_name cipher_usebits cipher_algbits key_exchange key_exchange_curve key_exchange_bits clnt_signature clnt_signature_curve clnt_signature_bits clnt_signature_digest srvr_signature srvr_signature_curve srvr_signature_bits srvr_signature_digest namaddr " \
    "in Postfix's order"
like "$out" 'level=0' "level 0 (the server role never sets it)"
like "$out" 'peer_status=0' "peer_status 0 without a client certificate"
like "$out" 'cipher_protocol=TLSv1\.3' "the protocol"
like "$out" 'key_exchange=X25519' "TLS 1.3: the key exchange"
like "$out" 'srvr_signature=RSA-PSS' "the server signature as Postfix names it"
like "$out" 'srvr_signature_bits=2048' "with the RSA key's bits"
like "$out" 'srvr_signature_digest=SHA256' "and digest"
like "$out" 'namaddr=\[127\.0\.0\.1\]:44554' "namaddr: the remote endpoint"
like "$out" 'client got 250 hello' "then the relay"

# a client certificate (the service trusts it: it is its own CA file)
out=$(PFC_CERT=$cert PFC_KEY=$key $PFC "$T/cc.sock" session 5 2>&1)
like "$out" 'peer_CN=localhost' "peer_CN: the client certificate's CN"
like "$out" 'issuer_CN=localhost' "issuer_CN"
fp=$(openssl x509 -in "$cert" -noout -fingerprint -sha256 | sed 's/.*=//')
like "$out" "peer_fingerprint=$fp\$" "peer_fingerprint: SHA-256 of the certificate, upper-case pairs joined by ':'"
pk=$(openssl x509 -in "$cert" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -c | sed 's/.*= //' | tr a-f A-F)
like "$out" "peer_pubkey_fingerprint=$pk\$" "peer_pubkey_fingerprint: of the public key"
like "$out" 'peer_status=5' "peer_status 5: PRESENT and TRUSTED"
like "$out" 'clnt_signature=RSA-PSS' "clnt_signature as Postfix names it"
like "$out" 'clnt_signature_bits=2048' "with the client key's bits"
like "$out" 'clnt_signature_digest=SHA256' "and digest"

# what cannot be served: status 0, logged
is "$($PFC "$T/pf.sock" status 6 | tail -n 1)" "status 0" "flags 6 (smtp connection reuse): status 0"
is "$($PFC "$T/pf.sock" status 3 | tail -n 1)" "status 0" "flags 3 (both roles): status 0"
is "$($PFC "$T/pf.sock" status 0 | tail -n 1)" "status 0" "flags 0: status 0"
is "$($PFC "$T/pf.sock" status 9 | tail -n 1)" "status 0" "flags 9 (an unknown bit): status 0"
is "$($PFC "$T/off.sock" status 1 | tail -n 1)" "status 0" "TLS disabled for the service: status 0"
wait_log 'service=off: .*TLS server role is disabled' 5
log=$(cat "$DLOG")
like "$log" 'service=pf: .*the TLS client role \(smtp connection reuse\) is not supported: request flags 0x6' "the client role's refusal is logged"
like "$log" 'service=pf: .*bad request flags: 0x3' "bad flags are logged"
like "$log" 'service=off: .*TLS server role is disabled: the TLS security level of service off is none' "a disabled role is logged with its reason"

# malformed requests: closed, logged, and the next session is served
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
req() { printf '%s' "$1" | tr '|' '\000' | od -An -v -tx1 | tr -d ' \n'; }
is "$($PFC "$T/pf.sock" raw "$(req 'flags|1|remote_endpoint|x|timeout|1|timeout|1|serverid|s||')" | tail -n 1)" closed \
    "attributes out of order: closed"
is "$($PFC "$T/pf.sock" raw "$(req 'remote_endpoint|x|flags|1|timeout|300|timeout|300|serverid|smtpd|extra|1||')" | tail -n 1)" closed \
    "an unknown attribute: closed"
is "$($PFC "$T/pf.sock" raw "$(req 'remote_endpoint|x|flags|one|timeout|300|timeout|300|serverid|smtpd||')" | tail -n 1)" closed \
    "a number that is not one: closed"
long=$(head -c 3000 /dev/zero | tr '\0' 'a')
is "$($PFC "$T/pf.sock" raw "$(hex "$long")" | tail -n 1)" closed "an endless name: closed"
is "$($PFC "$T/pf.sock" raw "$(req 'remote_endpoint|[127.0.0.1]:1|flags|1|time')" | tail -n 1)" closed \
    "a request cut short: closed"
wait_log 'service=pf: .*an unknown|extra attribute extra' 5
log=$(cat "$DLOG")
like "$log" 'service=pf: local: receive request attributes: unexpected attribute flags \(expecting remote_endpoint\)' "the order error is logged"
like "$log" 'service=pf: local: receive request attributes: extra attribute extra' "the unknown attribute is logged"
like "$log" 'service=pf: local: receive request attributes: attribute flags: "one" is not a number' "the bad number is logged"
like "$log" 'service=pf: local: receive request attributes: attribute name longer than 64 bytes' "the long name is logged"
like "$log" 'service=pf: local: receive request attributes: unexpected end-of-input' "the cut request is logged"
like "$($PFC "$T/pf.sock" session 1 2>&1)" 'client got 250 hello' "the next session is served as before"
w=$(worker_pid)
kill -0 "$w"
ok $? "by the same worker"
daemon_stop

# services.cf: what a postfix entry may be
services "pf 127.0.0.1:0 postfix -"
like "$("$TLSWARDD" -c "$CONF" -t 2>&1)" 'a postfix service listens on a UNIX socket' "a TCP listener is refused"
services "pf unix:$T/pf.sock postfix 127.0.0.1:25"
like "$("$TLSWARDD" -c "$CONF" -t 2>&1)" 'a postfix service forwards nowhere' "a forward target is refused"
tap_done
