#!/bin/sh
# t/46-alpn.t - ALPN: a server role advertises tlsproxy_tls_alpn (curl
# --http2 through tlswardd to an h2c nginx backend speaks HTTP/2), a
# client offering only unknown protocols gets what
# tlsproxy_tls_alpn_mismatch says (continue without ALPN, or the
# no_application_protocol alert), a service without a list negotiates
# nothing, and a client role offers tlsproxy_client_alpn to an openssl
# s_server -alpn peer. The protocol shows in the established line.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed"

# --- nginx, h2c (HTTP/2 without TLS), all its files under $T ---------
NPORT=$(free_port)
mkdir -p "$T/nginx/logs" "$T/nginx/tmp" "$T/nginx/html"
echo "hello over h2" > "$T/nginx/html/index.html"
cat > "$T/nginx/nginx.conf" <<EOT
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 64; }
http {
	access_log $T/nginx/logs/access.log;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$NPORT http2;
		root $T/nginx/html;
	}
}
EOT
chmod 755 "$T" "$T/nginx" "$T/nginx/html"; chmod 644 "$T/nginx/html/index.html"
"$NGINX" -p "$T/nginx" -e "$T/nginx/logs/error.log" -c "$T/nginx/nginx.conf" &
tap_pid $!
for _i in $(seq 50); do
	curl -s --http2-prior-knowledge "http://127.0.0.1:$NPORT/" >/dev/null 2>&1 && break
	sleep 0.1
done

# --- an openssl s_server for the client role ---------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/s.key" -out "$T/s.crt" -days 2 -subj /CN=peer.test 2>/dev/null
SPORT=$(free_port)
sleep 30 | openssl s_server -accept "127.0.0.1:$SPORT" -cert "$T/s.crt" -key "$T/s.key" \
    -alpn http/1.1,foo -naccept 1 > "$T/s_server.out" 2>&1 &
tap_pid $!

# a certificate chosen by SNI (tls_server_sni_maps): the handshake moves
# to that name's context, which must select ALPN as well
. "$TOP_SRCDIR/t/lib-tls.sh"
P=$T/pki; mkdir "$P"
mkca ca "ALPN Test CA"
mkleaf alpnsni ca alpn.example alpn.example
mkdir "$CONF/sni"
cat "$P/alpnsni.key" "$P/alpnsni.crt" "$P/ca.crt" > "$CONF/sni/alpn.pem"
chmod 600 "$CONF/sni/alpn.pem"

daemon_setup
services "h2 127.0.0.1:0 server 127.0.0.1:$NPORT -o tlsproxy_tls_alpn=h2,http/1.1" \
    "cont 127.0.0.1:0 server 127.0.0.1:$NPORT -o tlsproxy_tls_alpn=h2" \
    "strict 127.0.0.1:0 server 127.0.0.1:$NPORT -o tlsproxy_tls_alpn=h2 -o tlsproxy_tls_alpn_mismatch=refuse" \
    "none 127.0.0.1:0 server 127.0.0.1:$NPORT" \
    "sni 127.0.0.1:0 server 127.0.0.1:$NPORT -o tlsproxy_tls_alpn=h2 -o tls_server_sni_maps=inline:{alpn.example=sni/alpn.pem}" \
    "handoff unix:handoff.sock control - -o tlsproxy_tls_alpn=h2,http/1.1" \
    "out 127.0.0.1:0 client 127.0.0.1:$SPORT -o tlsproxy_client_security_level=encrypt -o tlsproxy_client_alpn=h2,http/1.1"
daemon_start || { daemon_log; exit 1; }

out=$(curl -sk --http2 --max-time 10 -w '\nversion=%{http_version}\n' "https://127.0.0.1:$(port_of h2)/")
like "$out" 'hello over h2' "curl --http2 through tlswardd to an h2c nginx: the page"
like "$out" 'version=2' "... over HTTP/2 (h2 negotiated by ALPN)"
out=$(curl -sk --http1.1 --max-time 10 -w '\nversion=%{http_version}\n' "https://127.0.0.1:$(port_of none)/" 2>&1)
unlike "$out" 'hello over h2' "without tlsproxy_tls_alpn curl speaks HTTP/1.1, which the h2c backend cannot serve"

out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of cont)" -alpn foo,bar 2>&1)
like "$out" 'No ALPN negotiated' "only unknown protocols, mismatch continue: the handshake goes on without ALPN"
like "$out" 'New, TLSv1\.3' "... and completes"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of strict)" -alpn foo,bar 2>&1)
like "$out" 'no application protocol' "only unknown protocols, mismatch refuse: the no_application_protocol alert"
wait_log 'service=strict: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: .*no application protocol' 5
ok $? "... and the refusal is logged"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of strict)" -alpn foo,h2 2>&1 | tr -d "\000")
like "$out" 'ALPN protocol: h2' "mismatch refuse: a client that offers h2 among others gets it"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of sni)" -servername alpn.example -alpn h2 2>&1 | tr -d "\000")
like "$out" 'subject=CN = alpn\.example' "SNI chose the name's certificate"
like "$out" 'ALPN protocol: h2' "... and ALPN still selects h2 there"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of none)" -alpn h2 2>&1 | tr -d "\000")
like "$out" 'No ALPN negotiated' "a service without tlsproxy_tls_alpn negotiates nothing"

out=$(printf 'hello\n' | timeout 10 python3 "$TOP_SRCDIR/t/tools/plain_client.py" "$(port_of out)" 2>&1)
wait_file "$T/s_server.out" 'ALPN protocols advertised by the client' 5
like "$(cat "$T/s_server.out")" 'ALPN protocols advertised by the client: h2, http/1\.1' "client role: tlsproxy_client_alpn is offered"
wait_log 'service=out: .*established to 127\.0\.0\.1:[0-9]+: .*alpn=http/1\.1' 5
ok $? "client role: the protocol the server chose is in the established line"
like "$(cat "$DLOG")" 'service=h2: .*established from \[127\.0\.0\.1\]:[0-9]+: .*, alpn=h2' "server role: alpn=h2 in the established line"
unlike "$(cat "$DLOG")" 'service=(none|cont): .*alpn=' "no alpn= where nothing was negotiated"

# a server-role hand-off: the protocol is in the outcome report
out=$(TOP_SRCDIR=$TOP_SRCDIR python3 - "$CONF/handoff.sock" <<'PY' 2>&1
import os, socket, ssl, sys, threading
sys.path.insert(0, os.path.join(os.environ["TOP_SRCDIR"], "contrib"))
import handoff_client
a, b = socket.socketpair()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["foo", "http/1.1"])
res = {}
def peer():
    t = ctx.wrap_socket(b)
    res["alpn"] = t.selected_alpn_protocol()
    t.close()
th = threading.Thread(target=peer); th.start()
conn, outcome = handoff_client.handoff(sys.argv[1], a, "server", "[192.0.2.5]:25")
th.join(10)
print("report_alpn=%s peer_alpn=%s" % (outcome.get("alpn", "-"), res.get("alpn")))
PY
)
is "$out" "report_alpn=http/1.1 peer_alpn=http/1.1" "hand-off: the negotiated protocol is in the outcome report"
unlike "$(cat "$DLOG")" "Sanitizer|runtime error|LeakSanitizer" "no sanitizer report in the daemon log"
daemon_stop
unlike "$(cat "$DLOG")" "Sanitizer|runtime error" "no sanitizer report when it stops (leaks)"

# configuration errors name the parameter
services "bad 127.0.0.1:0 server 127.0.0.1:$NPORT -o tlsproxy_tls_alpn_mismatch=maybe"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t refuses a bad tlsproxy_tls_alpn_mismatch"
like "$out" 'tlsproxy_tls_alpn_mismatch: want continue or refuse' "... naming it"
tap_done
