#!/bin/sh
# t/44-proxy-send.t - tlsproxy_proxy_send: the server role puts a PROXY
# header (v1 or v2) in front of the connection to its backend, after the
# TLS handshake and before any client data. A recording backend parses
# it byte for byte (addresses, and v2's TLVs: ALPN, authority, SSL with
# version, cipher, client certificate CN and verification); a real
# Postfix smtpd with smtpd_upstream_proxy_protocol = haproxy logs the
# real client address.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
. "$TOP_SRCDIR/t/lib-postfix.sh"
tap_setup

ppclient() { python3 "$TOP_SRCDIR/t/tools/ppclient.py" "$@"; }

P=$T/pki; mkdir "$P"
mkca ca "Test CA"
mkleaf alice ca alice.example alice.example
chmod 755 "$T" "$P"; chmod 644 "$P"/*

REC=$T/rec.txt; : > "$REC"
rm -f "$T/rport"
python3 "$TOP_SRCDIR/t/tools/pprecord.py" "$T/rport" "$REC" &
tap_pid $!
wait_file "$T/rport" . 5
RPORT=$(cat "$T/rport")

USE_PF=0
if pf_usable; then
	pf_setup && USE_PF=1
fi
if [ "$USE_PF" = 1 ]; then
	# smtpd itself on a second port, behind tlswardd, taking its header
	SM_PORT=$(free_port)
	printf '127.0.0.1:%s inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy -o smtpd_tls_security_level=none\n' \
	    "$SM_PORT" >> "$PF/etc/master.cf"
fi

daemon_setup
services "v1 127.0.0.1:0 server 127.0.0.1:$RPORT -o tlsproxy_proxy_send=v1" \
    "v2 127.0.0.1:0 server 127.0.0.1:$RPORT -o tlsproxy_proxy_send=v2 -o tlsproxy_tls_alpn=h2,http/1.1 -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_CAfile=$P/ca.crt" \
    "plain 127.0.0.1:0 server 127.0.0.1:$RPORT" \
    ${SM_PORT:+"smtp1 127.0.0.1:0 server 127.0.0.1:$SM_PORT -o tlsproxy_proxy_send=v1"} \
    ${SM_PORT:+"smtp2 127.0.0.1:0 server 127.0.0.1:$SM_PORT -o tlsproxy_proxy_send=v2"}
daemon_start || { daemon_log; exit 1; }
P1=$(port_of v1) P2=$(port_of v2)

# v1: the client's address (127.0.0.7) and the listener's
out=$(ppclient "$P1" --src 127.0.0.7 --line v1data)
like "$out" 'got=v1data' "v1: the client's data follows the header, nothing lost"
rec=$(tail -n 1 "$REC")
like "$rec" "^v1 TCP4 src=127\.0\.0\.7:[0-9]+ dst=127\.0\.0\.1:$P1\$" "v1: TCP4 line with the client's address and the listener's ($rec)"

# v2 without a client certificate: SNI, ALPN, version, cipher; no CN
: > "$REC"
out=$(ppclient "$P2" --src 127.0.0.8 --sni www.example.test --alpn h2 --line v2data)
like "$out" 'alpn=h2' "v2: ALPN h2 negotiated"
like "$out" 'got=v2data' "v2: the data follows the header"
rec=$(cat "$REC")
like "$rec" "^v2 PROXY fam=0x11 src=127\.0\.0\.8:[0-9]+ dst=127\.0\.0\.1:$P2 " "v2: PROXY TCP4 with both addresses"
like "$rec" ' ALPN=h2 AUTHORITY=www\.example\.test ' "v2: ALPN and authority (SNI) TLVs"
like "$rec" ' SSL client=0x01 verify=1 VERSION=TLSv1\.3 CIPHER=TLS_[A-Z0-9_]+$' "v2: SSL TLV: TLS, no certificate, version and cipher ($rec)"
unlike "$rec" 'CN=' "v2: no CN without a client certificate"

# v2 with a verified client certificate: CERT_CONN and its CN
: > "$REC"
out=$(ppclient "$P2" --src 127.0.0.9 --cert "$P/alice.crt" --key "$P/alice.key" --line cert)
like "$out" 'got=cert' "v2 with a client certificate: data"
rec=$(cat "$REC")
like "$rec" ' SSL client=0x03 verify=0 VERSION=TLSv1\.3 CN=alice\.example CIPHER=' "v2: client certificate presented and verified, its CN ($rec)"
unlike "$rec" 'ALPN=|AUTHORITY=' "v2: no ALPN or authority TLV when none was negotiated or asked for"

# no tlsproxy_proxy_send: the backend gets no header
: > "$REC"
ppclient "$(port_of plain)" --line x >/dev/null 2>&1
wait_file "$REC" . 5
like "$(cat "$REC")" '^bad: no PROXY header' "without tlsproxy_proxy_send nothing is put in front"

if [ "$USE_PF" = 1 ] && pf_start; then
	for v in 1 2; do
		out=$(python3 - "$(port_of smtp$v)" "127.0.0.1$v" <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = socket.socket(); s.settimeout(10); s.bind((sys.argv[2], 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
t = ctx.wrap_socket(s)
f = t.makefile("rb")
print(f.readline().decode().strip())
t.sendall(b"EHLO client.test\r\n")
while True:
    l = f.readline().decode()
    if not l or l[3] == " ":
        break
t.sendall(b"QUIT\r\n"); print(f.readline().decode().strip())
PY
)
		like "$out" '^220 mx\.test' "smtpd behind v$v: greeting through tlswardd"
		wait_file "$PF/maillog" "connect from [^ ]*\[127\.0\.0\.1$v\]" 5
		like "$(pf_log)" "smtpd\[[0-9]+\]: connect from [^ ]*\[127\.0\.0\.1$v\]" \
		    "smtpd (smtpd_upstream_proxy_protocol=haproxy) logs the real client 127.0.0.1$v with v$v"
	done
	unlike "$(pf_log)" 'haproxy.*(error|warning|timeout)|lost connection after CONNECT' "smtpd: no PROXY protocol complaint"
else
	skip "smtpd behind tlswardd" "needs root, postfix and swaks"
fi

log=$(cat "$DLOG")
like "$log" 'service=v2: Verified TLS connection established from \[127\.0\.0\.9\]|service=v2: Trusted TLS connection established from \[127\.0\.0\.9\]' "the established line names the client"
like "$log" 'service=v2: .* established from \[127\.0\.0\.8\]:[0-9]+: .*, alpn=h2' "the established line carries the ALPN protocol"
unlike "$(cat "$DLOG")" "Sanitizer|runtime error|LeakSanitizer" "no sanitizer report in the daemon log"
daemon_stop
unlike "$(cat "$DLOG")" "Sanitizer|runtime error" "no sanitizer report when it stops (leaks)"
tap_done
