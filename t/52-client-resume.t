#!/bin/sh
# t/52-client-resume.t - the client-role session cache: repeated
# connections through a client-role service, and repeated client-role
# hand-offs with one policy, resume with openssl s_server (-www answers
# each request with "New, " or "Reused, "), TLS 1.3 and TLS 1.2; a
# different policy (another service, level, SNI or fingerprint) to the
# same server never gets another's session; the cache off resumes
# nothing; a reload starts afresh. "tlsward status" (text and --json)
# and the metrics count the cache per service: entries, hits, misses,
# expired.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup
HOPY="python3 $TOP_SRCDIR/contrib/handoff_client.py"

P=$T/pki
mkdir "$P"
mkca ca "Test CA"
mkleaf srv ca localhost localhost other.example
SP=$(free_port)
openssl s_server -www -accept "127.0.0.1:$SP" -key "$P/srv.key" \
    -cert "$P/srv.crt" > "$T/s_server.out" 2>&1 < /dev/null &
tap_pid $!
for i in $(seq 50); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' "$SP" 2>/dev/null && break
	sleep 0.1
done

# get SERVICE: one request through a client-role service; New or Reused
get() {
	printf 'GET / HTTP/1.0\r\n\r\n' | plain_client "$(port_of "$1")" |
	    sed -n 's/^\(New\|Reused\), .*/\1/p' | head -n 1
}
# ho LEVEL [args]: one request through a client-role hand-off
ho() {
	_l=$1
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' | $HOPY "$CONF/handoff.sock" 127.0.0.1 "$SP" \
	    --level "$_l" "$@" 2>/dev/null | sed -n 's/^\(New\|Reused\), .*/\1/p' | head -n 1
}
# seq_of SERVICE N: N requests, their answers on one line
seq_of() {
	_r=
	for _k in $(seq "$2"); do _r="$_r $(get "$1")"; done
	echo $_r
}

# csc SERVICE: the service's session_cache object of the JSON status
csc() {
	tw status --json | python3 -c 'import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        c = s.get("session_cache")
        print(c and (c["timeout_s"], c["entries"], c["hits"], c["misses"], c["expired"]))' "$1"
}
PROM="python3 $TOP_SRCDIR/t/tools/prom_check.py"

daemon_setup
echo 'tlsproxy_metrics_listen = 127.0.0.1:0' >> "$CONF/main.cf"
cp "$P/ca.crt" "$CONF/ca.crt"
V="-o tlsproxy_client_security_level=verify -o tlsproxy_client_CAfile=ca.crt"
services "verify 127.0.0.1:0 client 127.0.0.1:$SP $V -o tlsproxy_client_verify_cert_match=localhost" \
    "enc 127.0.0.1:0 client 127.0.0.1:$SP -o tlsproxy_client_security_level=encrypt" \
    "sni 127.0.0.1:0 client localhost:$SP -o tlsproxy_client_security_level=encrypt" \
    "tls12 127.0.0.1:0 client 127.0.0.1:$SP -o tlsproxy_client_security_level=encrypt -o tlsproxy_client_protocols=<=TLSv1.2" \
    "off 127.0.0.1:0 client 127.0.0.1:$SP -o tlsproxy_client_security_level=encrypt -o tlsproxy_client_session_cache_timeout=0" \
    "short 127.0.0.1:0 client 127.0.0.1:$SP -o tlsproxy_client_security_level=encrypt -o tlsproxy_client_session_cache_timeout=1s" \
    "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600 -o tlsproxy_client_CAfile=ca.crt"
daemon_start || { daemon_log; tap_done; exit 1; }
MPORT=$(sed -n 's/.*metrics: listening on \[127\.0\.0\.1\]:\([0-9]*\)$/\1/p' "$DLOG" | tail -n 1)
metric() { curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" > "$T/m" && $PROM "$T/m" "$@"; }
is "$(csc verify)" "(3600, 0, 0, 0, 0)" "status: before any connection the cache of a client service is empty"

is "$(seq_of verify 4)" "New Reused Reused Reused" "level verify, TLS 1.3: the first connection is new, the next ones resume"
is "$(seq_of enc 3)" "New Reused Reused" "another service (level encrypt) to the same server: its own session, not verify's"
is "$(seq_of sni 2)" "New Reused" "another SNI (localhost) to the same server: its own session"
is "$(seq_of tls12 3)" "New Reused Reused" "TLS 1.2: resumes too"
is "$(seq_of off 3)" "New New New" "tlsproxy_client_session_cache_timeout = 0: no resumption"
is "$(csc verify)" "(3600, 1, 3, 1, 0)" "status --json: verify holds one session; 3 hits, 1 miss"
is "$(csc tls12)" "(3600, 1, 2, 1, 0)" "... TLS 1.2: one session; 2 hits, 1 miss"
is "$(csc off)" "(0, 0, 0, 0, 0)" "... the cache off: timeout 0, nothing counted"
out=$(tw status)
like "$out" '^  session cache: 3600 s timeout; 1 entry; 3 hits, 1 miss; 0 expired, 0 evicted$' "status (text): the verify service's cache line"
like "$out" '^  session cache: off$' "status (text): the cache off"
is "$(seq_of short 1)" "New" "a timeout of 1s: new"
sleep 2
is "$(seq_of short 1)" "New" "... 2 s later the cached session has expired: new again"
is "$(csc short)" "(1, 1, 0, 2, 1)" "status: one expired, two misses, the new session held"
ok "$(metric >/dev/null; echo $?)" "the metrics parse (strict)"
is "$(metric tlsward_client_session_cache_hits_total service=verify)" 3 "metrics: verify's hits"
is "$(metric tlsward_client_session_cache_misses_total service=verify)" 1 "metrics: verify's misses"
is "$(metric tlsward_client_session_cache_entries service=tls12)" 1 "metrics: tls12's entries"
is "$(metric tlsward_client_session_cache_expired_total service=short)" 1 "metrics: short's expired"
is "$(metric tlsward_client_session_cache_hits_total service=off)" 0 "metrics: the cache off counts nothing"
wait_log 'service=verify: Verified TLS connection established to' 5
n=$(grep -c 'service=verify: Verified TLS connection established' "$DLOG")
is "$n" 4 "every verify session, resumed or not, is logged Verified"

# hand-offs: same policy resumes, another level, name or fingerprint not
fp=$(openssl x509 -in "$P/srv.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
is "$(ho encrypt)" New "hand-off, level encrypt: new"
is "$(ho encrypt)" Reused "... the same request again: resumed"
is "$(ho verify --servername localhost)" New "hand-off, level verify: not the encrypt session"
is "$(ho verify --servername localhost)" Reused "... the same request again: resumed"
is "$(ho verify --servername other.example)" New "another verify name: not resumed"
is "$(ho fingerprint --fingerprint "$fp")" New "level fingerprint: new"
is "$(ho fingerprint --fingerprint "$fp")" Reused "... again: resumed"
wrong=$(echo "$fp" | sed 's/^../00/')
out=$(printf 'x\n' | $HOPY "$CONF/handoff.sock" 127.0.0.1 "$SP" --level fingerprint --fingerprint "$wrong" 2>&1)
like "$out" 'fingerprint mismatch' "another fingerprint does not resume the good one's session: it is checked, and fails"
out=$(printf 'x\n' | $HOPY "$CONF/handoff.sock" 127.0.0.1 "$SP" --level verify --servername wrong.example 2>&1)
like "$out" 'name mismatch' "a name the certificate lacks fails, cache or not"
is "$(ho verify --servername wrong.example)" "" "... every time (no session was stored for it)"
is "$(csc handoff)" "(3600, 4, 3, 4, 0)" "status: hand-offs, counted under their service: four sessions held, 3 hits, 4 misses (the refused ones count nothing)"

# a reload: a new generation starts with an empty cache
tw reload >/dev/null
is "$(seq_of verify 2)" "New Reused" "after a reload: new, then resumed"

daemon_stop
unlike "$(cat "$DLOG")" 'AddressSanitizer|runtime error|LeakSanitizer' "no sanitizer report"
tap_done
