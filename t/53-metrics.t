#!/bin/sh
# t/53-metrics.t - the metrics endpoint (tlsproxy_metrics_listen): curl
# scrapes it, a strict parser of the exposition format checks every
# line, the counters move as real sessions run (openssl s_client), the
# certificate expiry is the certificate's notAfter, reloads (good and
# bad) and a worker restart are counted; hostile clients (a 1 MiB
# header, one byte a second, garbage, many idle connections) are
# bounded and closed while the daemon serves on. Sandbox enforcing.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup
PROM="python3 $TOP_SRCDIR/t/tools/prom_check.py"
MC="python3 $TOP_SRCDIR/t/tools/mhttp_client.py"

scrape() { curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" > "$T/$1"; }
val() { _f=$1; shift; $PROM "$T/$_f" "$@"; }

# a certificate whose subject needs escaping in a label value
P=$T/pki
mkdir "$P"
mkca ca "tlsward test CA"
mkleaf odd ca 'odd "q" back' odd.test
chmod -R a+rX "$T"

backend_start echo; EPORT=$BPORT
: > "$CONF/main.cf"
daemon_setup
echo 'tlsproxy_metrics_listen = 127.0.0.1:0' >> "$CONF/main.cf"
services "web 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "t13 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_protocols=>=TLSv1.3" \
    "odd 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_cert_file=$P/odd.crt -o tlsproxy_tls_key_file=$P/odd.key"
daemon_start || { daemon_log; tap_done; }
MPORT=$(sed -n 's/.*metrics: listening on \[127\.0\.0\.1\]:\([0-9]*\)$/\1/p' "$DLOG" | tail -n 1)
ok "$([ -n "$MPORT" ]; echo $?)" "the endpoint's listener is announced"

scrape s1; ok $? "curl scrapes /metrics"
out=$($PROM "$T/s1"); rc=$?
ok $rc "every line of the exposition is well formed (strict parser)"
[ $rc -eq 0 ] || diag "$out"
hdr=$(curl -s -D - -o /dev/null --max-time 10 "http://127.0.0.1:$MPORT/metrics" | tr -d '\r')
like "$hdr" '^Content-Type: text/plain; version=0\.0\.4' "the exposition's content type"
like "$hdr" '^Connection: close' "the connection is closed after the answer"
is "$(val s1 tlsward_sessions_total service=web)" 0 "no session yet"
is "$(val s1 tlsward_reloads_total result=ok).$(val s1 tlsward_worker_restarts_total)" 0.0 "no reload, no restart yet"
is "$(val s1 tlsward_config_generation)" 1 "generation 1"
is "$(val s1 tlsward_event_loop_threads | grep -c '^[1-9]')" 1 "event-loop threads are counted"

# the certificate in use, as its notAfter in Unix time
cert=$(ls "$CONF"/cert-*.pem | head -n 1)
na=$(date -u -d "$(openssl x509 -noout -enddate -in "$cert" | sed 's/^notAfter=//')" +%s)
is "$(val s1 tlsward_certificate_expiry_timestamp_seconds service=web)" "$na" "the certificate's expiry is its notAfter"
na=$(date -u -d "$(openssl x509 -noout -enddate -in "$P/odd.crt" | sed 's/^notAfter=//')" +%s)
is "$(val s1 tlsward_certificate_expiry_timestamp_seconds service=odd 'subject=CN=odd \"q\" back' algorithm=EC bits=256)" "$na" \
    "a subject with quotes and backslashes: escaped in the label, parsed back intact"
grep -qF 'subject="CN=odd \\\"q\\\" back"' "$T/s1"
ok $? "... as \\\\ and \\\" in the exposition"

# sessions: three good ones, one refused handshake
for i in 1 2 3; do tls_line "$(port_of web)" "hello$i" >/dev/null; done
echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of t13)" -tls1_2 >/dev/null 2>&1
wait_log 'service=t13: DISCONNECT' 5
sleep 0.5
scrape s2
out=$($PROM "$T/s2"); rc=$?
ok $rc "after sessions: still well formed"
[ $rc -eq 0 ] || diag "$out"
is "$(val s2 tlsward_sessions_total service=web)" 3 "sessions_total moved by 3"
is "$(val s2 tlsward_sessions_active service=web)" 0 "no session active"
is "$(val s2 tlsward_handshakes_total service=web result=ok)" 3 "three handshakes ok"
is "$(val s2 tlsward_handshakes_total service=t13 result=failed)" 1 "one failed"
is "$(val s2 tlsward_handshake_failures_total service=t13 reason=protocol)" 1 "... for a protocol reason"
is "$(val s2 tlsward_sessions_ended_total service=web end=closed)" 3 "three ended closed"
is "$(val s2 tlsward_sessions_ended_total service=t13 end=tls_error)" 1 "one ended with a TLS error"
is "$(val s2 tlsward_tls_received_bytes_total service=web).$(val s2 tlsward_tls_sent_bytes_total service=web)" 21.21 "bytes each way (3 x 7)"
is "$(val s2 tlsward_handshake_duration_seconds_count service=web)" 3 "the histogram counts the three handshakes"
is "$(val s2 tlsward_handshake_duration_seconds_bucket service=web le=+Inf)" 3 "... +Inf bucket"
s=$(val s2 tlsward_handshake_duration_seconds_sum service=web)
ok "$(python3 -c "import sys; sys.exit(not 0 < float('$s') < 30)"; echo $?)" "... and a plausible sum ($s s)"

# reloads: a good one, a bad one; then the worker is killed
kill -HUP "$DPID"; wait_log 'reload: done \(generation 2\)' 10
cp "$CONF/services.cf" "$T/services.good"
echo 'broken line' >> "$CONF/services.cf"
kill -HUP "$DPID"; wait_log 'reload: 1 error' 10
cp "$T/services.good" "$CONF/services.cf"
sleep 0.5
scrape s3
is "$(val s3 tlsward_reloads_total result=ok).$(val s3 tlsward_reloads_total result=failed)" 1.1 "reloads counted by result"
is "$(val s3 tlsward_config_generation)" 2 "generation 2"
is "$(val s3 tlsward_sessions_total service=web)" 3 "the counters survive a reload"
kill -KILL "$(worker_pid)"
wait_log 'worker [0-9]+ started.*' 5
n=0; while [ $n -lt 50 ] && [ "$(grep -c 'worker [0-9]* started' "$DLOG")" -lt 2 ]; do sleep 0.1; n=$((n + 1)); done
sleep 0.5
scrape s4; ok $? "the new worker serves the endpoint"
is "$(val s4 tlsward_worker_restarts_total)" 1 "the restart is counted"
is "$(val s4 tlsward_reloads_total result=ok)" 1 "... and the reloads are still known"

# not /metrics, not GET, not HTTP
is "$($MC "$MPORT" send 'GET /other HTTP/1.0\r\n\r\n')" "HTTP/1.0 404 Not Found" "another path: 404"
is "$($MC "$MPORT" send 'POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n')" "HTTP/1.0 405 Method Not Allowed" "another method: 405"
is "$($MC "$MPORT" send '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\n\n')" "HTTP/1.0 400 Bad Request" "garbage: 400"
is "$($MC "$MPORT" send 'GET /metrics\r\n\r\n')" "HTTP/1.0 400 Bad Request" "HTTP/0.9: 400"
like "$(curl -s -I --max-time 10 "http://127.0.0.1:$MPORT/metrics" | tr -d '\r')" '^HTTP/1\.0 200 OK' "HEAD: 200"

# hostile clients
out=$($MC "$MPORT" huge)
like "$out" '^answer=(431|none) closed_after=[0-5]\.' "a 1 MiB header: refused (431) and closed at once ($out)"
out=$($MC "$MPORT" slow)
like "$out" '^closed_after=[4-7]\.' "one byte a second: closed at the 5 s deadline ($out)"
$MC "$MPORT" many 40 > "$T/many" &
mpid=$!; tap_pid $mpid
sleep 2
is "$(tls_line "$(port_of web)" during)" during "TLS sessions go on while the endpoint is flooded"
scrape s4b; ok $? "a scrape while 16 idle connections hold every slot: served (the oldest idle one makes way)"
wait $mpid
out=$(cat "$T/many")
like "$out" '^open=40 closed_at_once=(2[4-9]|3[0-9]|40) all_closed_after=[4-7]\.' "40 idle connections: those over 16 closed at once, the rest at the deadline ($out)"
scrape s5; ok $? "the endpoint still serves"
is "$(val s5 tlsward_sessions_total service=web)" 1 "... counting the session since the restart"
unlike "$(cat "$DLOG")" 'forbidden system call|seccomp|AddressSanitizer' "no worker died but the one killed"
daemon_stop

# without the parameter there is no endpoint; a bad value is an error
sed -i '/tlsproxy_metrics_listen/d' "$CONF/main.cf"
daemon_start || daemon_log
unlike "$(cat "$DLOG")" 'metrics: listening' "no endpoint by default"
daemon_stop

# on a UNIX socket (relative: under the configuration directory)
echo 'tlsproxy_metrics_listen = unix:metrics.sock' >> "$CONF/main.cf"
daemon_start || daemon_log
like "$(cat "$DLOG")" "metrics: listening on unix:$CONF/metrics.sock" "a UNIX socket endpoint is announced"
is "$(stat -c %a "$CONF/metrics.sock")" 660 "... with mode 0660"
curl -sf --max-time 10 --unix-socket "$CONF/metrics.sock" http://localhost/metrics > "$T/u1"
ok $? "curl scrapes it"
out=$($PROM "$T/u1"); rc=$?
ok $rc "... a well-formed exposition ($out)"
# a reload that drops the parameter closes the endpoint
sed -i '/tlsproxy_metrics_listen/d' "$CONF/main.cf"
kill -HUP "$DPID"; wait_log 'reload: done \(generation 2\)' 10
curl -sf --max-time 5 --unix-socket "$CONF/metrics.sock" http://localhost/metrics > /dev/null 2>&1
ok $((! $?)) "after a reload without it, the endpoint is gone"
daemon_stop
echo 'tlsproxy_metrics_listen = nowhere' >> "$CONF/main.cf"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t refuses a bad tlsproxy_metrics_listen"
like "$out" 'parameter tlsproxy_metrics_listen: bad address "nowhere"' "... naming the parameter"
out=$(tw check 2>&1); rc=$?
ok $((rc == 0)) "tlsward check refuses it too"
like "$out" 'parameter tlsproxy_metrics_listen: bad address "nowhere"' "... with the same words"
sed -i '/tlsproxy_metrics_listen/d' "$CONF/main.cf"
services "web 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_metrics_listen=127.0.0.1:0"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlsproxy_metrics_listen is daemon-wide: -o is refused"
tap_done
