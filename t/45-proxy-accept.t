#!/bin/sh
# t/45-proxy-accept.t - tlsproxy_proxy_accept: a listener behind a load
# balancer takes the PROXY header (v2 from a real HAProxy with
# send-proxy-v2, v1 and v2 from a script, header and ClientHello in one
# segment) only from tlsproxy_proxy_trusted_networks, within
# tlsproxy_proxy_header_timeout; the header's source is the client's
# address in tlswardd's log, for the per-source limits and in the header
# sent on to the backend. Untrusted sources, garbage, the wrong version
# and a silent balancer are refused, logged, and closed.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

command -v haproxy >/dev/null || skip_all "haproxy is not installed"
ppclient() { python3 "$TOP_SRCDIR/t/tools/ppclient.py" "$@"; }
# raw PORT HEX [SECONDS]: sends HEX, prints what comes back until EOF
# (or the time is up) as "eof after N bytes" or "open"
raw() {
	python3 - "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(bytes.fromhex(sys.argv[2]))
end = time.time() + float(sys.argv[3] if len(sys.argv) > 3 else 5)
n = 0
while time.time() < end:
    try:
        d = s.recv(4096)
    except socket.timeout:
        continue
    except ConnectionResetError:
        d = b""
    if not d:
        print("eof after %d bytes" % n); sys.exit(0)
    n += len(d)
print("open")
PY
}
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

REC=$T/rec.txt; : > "$REC"
python3 "$TOP_SRCDIR/t/tools/pprecord.py" "$T/rport" "$REC" &
tap_pid $!
wait_file "$T/rport" . 5
RPORT=$(cat "$T/rport")

backend_start echo; EPORT=$BPORT
TLSP=$(free_port)
daemon_setup
LB="-o tlsproxy_proxy_trusted_networks=127.0.0.1/32 -o tlsproxy_proxy_send=v2 -o tlsproxy_proxy_header_timeout=2s"
cat "$CONF"/key-*.pem "$CONF"/cert-*.pem > "$CONF/lh.pem"
chmod 600 "$CONF/lh.pem"
services "lb 127.0.0.1:0 server 127.0.0.1:$RPORT -o tlsproxy_proxy_accept=any $LB" \
    "lbsni 127.0.0.1:0 server 127.0.0.1:$RPORT -o tlsproxy_proxy_accept=any $LB -o tls_server_sni_maps=inline:{localhost=lh.pem} -o tlsproxy_sni_refuse_unknown=yes" \
    "lb2 127.0.0.1:0 server 127.0.0.1:$RPORT -o tlsproxy_proxy_accept=v2 $LB -o tlsproxy_source_session_limit=1" \
    "strict 127.0.0.1:0 server 127.0.0.1:$RPORT -o tlsproxy_proxy_accept=any -o tlsproxy_proxy_trusted_networks=192.0.2.0/24" \
    "tls 127.0.0.1:$TLSP server 127.0.0.1:$EPORT" \
    "cin 127.0.0.1:0 client 127.0.0.1:$TLSP -o tlsproxy_client_security_level=encrypt -o tlsproxy_proxy_accept=v1 -o tlsproxy_proxy_trusted_networks=127.0.0.0/8"
daemon_start || { daemon_log; exit 1; }
LBP=$(port_of lb) LB2P=$(port_of lb2)

# --- HAProxy in front, sending v2 -------------------------------------
HAP=$(free_port)
cat > "$T/haproxy.cfg" <<EOT
global
	maxconn 100
defaults
	mode tcp
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend fe
	bind 127.0.0.1:$HAP
	default_backend be
backend be
	server tw 127.0.0.1:$LBP send-proxy-v2 proxy-v2-options crc32c
EOT
haproxy -f "$T/haproxy.cfg" -db > "$T/haproxy.log" 2>&1 &
tap_pid $!
for _i in $(seq 50); do
	python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$HAP),timeout=1)" 2>/dev/null && break
	sleep 0.1
done
out=$(ppclient "$HAP" --src 127.0.0.7 --line via-haproxy)
like "$out" 'got=via-haproxy' "HAProxy send-proxy-v2 in front: the session works"
like "$(tail -n 1 "$REC")" '^v2 PROXY fam=0x11 src=127\.0\.0\.7:[0-9]+ ' "the backend's header carries the client HAProxy saw (127.0.0.7)"
wait_log 'service=lb: .*established from \[127\.0\.0\.7\]' 5
like "$(cat "$DLOG")" "service=lb: PROXY v2 from \[127\.0\.0\.1\]:[0-9]+: client \[127\.0\.0\.7\]:[0-9]+" "the log names the balancer and the client"
like "$(cat "$DLOG")" 'service=lb: Anonymous TLS connection established from \[127\.0\.0\.7\]:[0-9]+' "the established line names the real client"

# --- v1 from a script, in the same segment as the ClientHello ---------
out=$(ppclient "$LBP" --pre 'PROXY TCP4 192.0.2.9 127.0.0.1 5555 443\r\n' --line v1-same-segment)
like "$out" 'got=v1-same-segment' "v1 header and ClientHello in one segment: nothing of the TLS data is lost"
like "$(tail -n 1 "$REC")" '^v2 PROXY fam=0x11 src=192\.0\.2\.9:5555 dst=127\.0\.0\.1:443 ' "v1's addresses reach the backend (192.0.2.9:5555 -> 127.0.0.1:443)"
out=$(ppclient "$(port_of lbsni)" --pre 'PROXY TCP4 192.0.2.77 127.0.0.1 6666 443\r\n' --sni nope.example.com --line sni)
like "$out" 'error=' "behind a balancer, an unknown SNI name is refused"
wait_log 'sess=[0-9]+ service=lbsni peer=\[192\.0\.2\.77\]:6666: TLS SNI nope\.example\.com not matched: refused' 5
ok $? "... and the refusal names the client the PROXY header gave, not the balancer"
out=$(ppclient "$LBP" --pre 'PROXY UNKNOWN\r\n' --line unknown)
like "$out" 'got=unknown' "v1 UNKNOWN: the connection's own addresses stand"
like "$(tail -n 1 "$REC")" '^v2 PROXY fam=0x11 src=127\.0\.0\.1:[0-9]+ ' "... and reach the backend"

# --- a balancer's health check: a LOCAL header, then close --------------
n0=$(grep -c 'TLS handshake' "$DLOG")
python3 - "$LBP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
# v2 LOCAL: signature, version 2 command LOCAL, family UNSPEC, length 0
s.sendall(bytes.fromhex("0d0a0d0a000d0a515549540a20000000"))
s.close()
PY
python3 - "$LBP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"PROXY UNKNOWN\r\n")
s.close()
PY
wait_log 'service=lb: PROXY v1 LOCAL from' 5
sleep 0.5
is "$(grep -c 'TLS handshake' "$DLOG")" "$n0" \
    "a health check (LOCAL or UNKNOWN header, then close) is not logged as a failed handshake"

# --- the client role behind a balancer: header, then plaintext ---------
out=$(python3 - "$(port_of cin)" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"PROXY TCP4 192.0.2.20 127.0.0.1 7777 25\r\nplain-after-header\n")
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    got += d
print(got.decode(errors="replace").strip())
PY
)
is "$out" "plain-after-header" "client role: the plaintext after a v1 header goes out over TLS and back"
wait_log 'service=cin: PROXY v1 from \[127\.0\.0\.1\]:[0-9]+: client \[192\.0\.2\.20\]:7777' 5
ok $? "client role: the header's client is logged"

# --- refusals ---------------------------------------------------------
out=$(ppclient "$LB2P" --pre 'PROXY TCP4 192.0.2.9 127.0.0.1 5555 443\r\n' --line no)
like "$out" '^error=' "a v2-only listener refuses a v1 header"
wait_log 'service=lb2: .*PROXY v1 header, but only v2 is accepted' 5
ok $? "... and logs why"

out=$(ppclient "$(port_of strict)" --pre 'PROXY TCP4 192.0.2.9 127.0.0.1 5555 443\r\n' --line no)
like "$out" '^error=' "a source outside tlsproxy_proxy_trusted_networks is refused"
wait_log 'service=strict: \[127\.0\.0\.1\]:[0-9]+: PROXY header refused: source not in tlsproxy_proxy_trusted_networks' 5
ok $? "... and logged with its real address"

out=$(raw "$LBP" "$(hex 'GET / HTTP/1.0\r\n\r\n')")
like "$out" '^eof after 0 bytes' "garbage instead of a header: closed"
wait_log 'service=lb: \[127\.0\.0\.1\]:[0-9]+: not a PROXY header \(first byte 0x47\)' 5
ok $? "... and logged"

out=$(raw "$LBP" "$(hex 'PROXY TCP4 192.0.2')" 6)
like "$out" '^eof after 0 bytes' "a header that never ends: closed at the deadline"
wait_log 'service=lb: \[127\.0\.0\.1\]:[0-9]+: proxy header timeout' 5
ok $? "... logged as a proxy header timeout"

out=$(raw "$LBP" "$(printf 'PROXY TCP4 %0120d' 0 | od -An -v -tx1 | tr -d ' \n')")
like "$out" '^eof after 0 bytes' "a v1 line over 107 bytes: closed"
wait_log 'service=lb: .*PROXY v1 header: no CRLF in 107 bytes' 5
ok $? "... and logged"

# a v2 header claiming 65535 bytes: refused at its 16th byte
out=$(raw "$LBP" "0d0a0d0a000d0a515549540a2111ffff")
like "$out" '^eof after 0 bytes' "a v2 length over the bound: closed"
wait_log 'service=lb: .*PROXY v2 header: 65535 bytes, more than' 5
ok $? "... and logged"

# --- per-source limits count the header's source ----------------------
V2HDR=0d0a0d0a000d0a515549540a2111000cc000020a7f000001d90301bb	# 192.0.2.10:55555
python3 - "$LB2P" "$V2HDR" > "$T/hold.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex(sys.argv[2]))
time.sleep(30)
PY
HOLD=$!
tap_pid $HOLD
wait_log 'service=lb2: PROXY v2 from .* client \[192\.0\.2\.10\]:55555' 5
out=$(ppclient "$LB2P" --pre-hex "$V2HDR" --line over)
like "$out" '^error=' "tlsproxy_source_session_limit applies to the header's source"
wait_log 'service=lb2: \[192\.0\.2\.10\]:55555: refused: sessions at the limit of 1 from 192\.0\.2\.10/32' 5
ok $? "... logged with that source"
out=$(ppclient "$LB2P" --pre-hex 0d0a0d0a000d0a515549540a2111000cc000020b7f000001d90301bb --line other)
like "$out" 'got=other' "another source behind the same balancer is not limited"
kill "$HOLD" 2>/dev/null

unlike "$(cat "$DLOG")" "Sanitizer|runtime error|LeakSanitizer" "no sanitizer report in the daemon log"
daemon_stop
unlike "$(cat "$DLOG")" "Sanitizer|runtime error" "no sanitizer report when it stops (leaks)"

# configuration errors: refused by tlswardd -t, naming the parameter
bad() {	# bad OPTIONS REGEX NAME
	services "x 127.0.0.1:0 $1"
	out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
	ok $((rc == 0)) "tlswardd -t refuses $3"
	like "$out" "$2" "... saying: $2"
}
bad "server 127.0.0.1:1 -o tlsproxy_proxy_accept=v2" 'tlsproxy_proxy_accept = v2 needs tlsproxy_proxy_trusted_networks' \
    "accepting PROXY headers from anyone"
bad "server 127.0.0.1:1 -o tlsproxy_proxy_accept=v3 -o tlsproxy_proxy_trusted_networks=127.0.0.1" 'tlsproxy_proxy_accept: want none, v1, v2 or any' \
    "an unknown tlsproxy_proxy_accept"
bad "server 127.0.0.1:1 -o tlsproxy_proxy_send=yes" 'tlsproxy_proxy_send: want none, v1 or v2' "an unknown tlsproxy_proxy_send"
bad "server 127.0.0.1:1 -o tlsproxy_proxy_accept=any -o tlsproxy_proxy_trusted_networks=10.0.0.1/8" 'tlsproxy_proxy_trusted_networks: .*host bits' \
    "a malformed trusted network"
bad "client 127.0.0.1:1 -o tlsproxy_client_security_level=may -o tlsproxy_proxy_send=v1" 'tlsproxy_proxy_send is for server-role listeners only' \
    "tlsproxy_proxy_send on a client role"
services "h unix:h.sock control -" "prof - server - -o tlsproxy_proxy_send=v2"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t refuses tlsproxy_proxy_send on a hand-off profile"
like "$out" 'service prof: tlsproxy_proxy_send is for server-role listeners only' "... naming the service"
tap_done
