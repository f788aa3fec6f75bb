#!/bin/sh
# t/86-status.t - "tlsward status": per service the active sessions,
# sessions since start, handshakes ok and failed by reason, bytes each
# way, certificates with expiry and days left; the event loops and the
# hand-off pool; --json; -q and
# the exit status a probe relies on (a hung worker fails it).
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

jq_() {	# jq_ EXPR: evaluates a Python expression on the JSON status as d
	python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" < "$T/status.json"
}

daemon_setup
echo "tlsproxy_admin_socket = $T/admin.sock" >> "$CONF/main.cf"
backend_start http
HPORT=$BPORT
backend_start echo
EPORT=$BPORT
cert=$(sed -n 's/^smtpd_tls_cert_file = //p' "$CONF/main.cf")
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_handshake_timeout=1s" \
    "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "strict 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_req_ccert=yes -o tlsproxy_tls_CAfile=$cert"
daemon_start || { daemon_log; tap_done; exit 1; }
web=$(port_of web)
echo=$(port_of echo)
# certificate: no client certificate where one is required
curl -sk --max-time 5 "https://127.0.0.1:$(port_of strict)/" >/dev/null 2>&1

# Some traffic with known outcomes on "web".
for i in 1 2 3; do curl -sk --max-time 5 "https://127.0.0.1:$web/" >/dev/null; done
python3 - "$web" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
# protocol: plaintext HTTP to a TLS port
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET / HTTP/1.0\r\n\r\n")
s.settimeout(5)
try:
    s.recv(100)
except OSError:
    pass
s.close()
# peer closed: connect, then leave before the handshake
s = socket.create_connection(("127.0.0.1", port)); s.close()
# timeout: connect and say nothing past the 1s handshake limit
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
try:
    s.recv(100)
except OSError:
    pass
s.close()
PY
# cipher: a client that only offers an ECDSA suite to an RSA-only server
curl -sk --max-time 5 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 "https://127.0.0.1:$web/" >/dev/null 2>&1
# a session held open on "echo"
python3 - "$echo" "$T/held" "$T/release" <<'PY' &
import os, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="x")
s.sendall(b"x" * 1000)
got = b""
while len(got) < 1000:
    got += s.recv(1000)
open(sys.argv[2], "w").close()
t0 = time.monotonic()
while not os.path.exists(sys.argv[3]) and time.monotonic() - t0 < 30:
    time.sleep(0.05)
s.close()
PY
tap_pid $!
for i in $(seq 50); do [ -e "$T/held" ] && break; sleep 0.1; done
for i in $(seq 50); do [ "$(grep -c 'service=web: DISCONNECT' "$DLOG")" -ge 7 ] && break; sleep 0.1; done

out=$(tw status); rc=$?
is "$rc" 0 "tlsward status: exit 0"
like "$out" "^tlswardd [0-9.]+: pid $DPID, up [0-9]+s, configuration $CONF\$" "the daemon line"
like "$out" "worker: pid $(worker_pid), generation 1, 0 restarts; 0 reloads \(last: none\)" "the worker line"
like "$out" 'hand-off pool: [0-9]+ busy, [0-9]+ idle, 256 max threads; 0 queued \(limit 128\)' "the hand-off pool line"
like "$out" 'events: [0-9]+ loops?, [1-9][0-9]* sessions? \(limit [0-9]+\); 0 refused' "the event loops line"
like "$out" 'service web \(server, listen 127\.0\.0\.1:0\)' "a line per service"
like "$out" '  sessions:    0 active, 7 since start, 0 refused' "web: sessions"
like "$out" '  handshakes:  3 ok, 4 failed \(timeout 1, protocol 1, cipher 1, certificate 0, peer closed 1, other 0\)' \
    "web: handshakes by outcome"
like "$out" '  endings:     3 closed; failed: handshake timeout 1, connect timeout 0, request timeout 0, idle timeout 0, lifetime 0, peer closed 1, tls error 2, connect failed 0, other 0' \
    "web: session endings by kind"
like "$out" '  sessions:    1 active, 1 since start, 0 refused' "echo: the session in flight is active"
like "$out" '  certificate: CN=localhost, RSA 2048 bits, expires [0-9-]+T[0-9:]+Z \([0-9]+ days left\)' \
    "the certificate in use, with its expiry"

tw status --json > "$T/status.json"; rc=$?
is "$rc" 0 "--json: exit 0"
ok "$(python3 -m json.tool "$T/status.json" >/dev/null; echo $?)" "--json is valid JSON"
is "$(jq_ 'sorted(d.keys())')" "['daemon', 'events', 'pool', 'services', 'tickets', 'worker']" "top-level objects"
is "$(jq_ '[s["name"] for s in d["services"]]')" "['web', 'echo', 'strict']" "services in services.cf order"
is "$(jq_ 'd["services"][2]["handshakes"]["failed"]["certificate"], d["services"][2]["handshakes"]["ok"]')" "(1, 0)" \
    "a missing client certificate counts as a certificate failure"
is "$(jq_ 'd["services"][0]["handshakes"]')" \
    "{'ok': 3, 'failed': {'timeout': 1, 'protocol': 1, 'cipher': 1, 'certificate': 0, 'peer_closed': 1, 'other': 0}}" \
    "handshake counters as numbers"
is "$(jq_ 'd["services"][0]["endings"]["closed"], d["services"][0]["endings"]["failed"]["tls_error"], d["services"][0]["endings"]["failed"]["handshake_timeout"]')" \
    "(3, 2, 1)" "endings as numbers"
is "$(jq_ 'd["services"][1]["active"], d["services"][1]["sessions"]')" "(1, 1)" "active and total sessions"
is "$(jq_ 'd["pool"]["max"], d["pool"]["queue_limit"], d["pool"]["busy"]')" "(256, 128, 0)" \
    "hand-off pool: max threads, queue limit, no hand-off session busy"
is "$(jq_ 'd["events"]["sessions"] >= 1, d["events"]["threads"] >= 1, d["events"]["max_sessions"] > 100, d["events"]["refused"]')" \
    "(True, True, True, 0)" "event loops: the held session, loops, the session limit, nothing refused"
is "$(jq_ 'd["daemon"]["pid"], d["worker"]["pid"]')" "($DPID, $(worker_pid))" "daemon and worker pids"

# bytes: the sums of the DISCONNECT lines
sum() { sed -n "s/.*service=$1: DISCONNECT .* in=\([0-9]*\) out=\([0-9]*\) .*/\1 \2/p" "$DLOG" |
    awk '{ i += $1; o += $2 } END { printf "(%d, %d)", i, o }'; }
is "$(jq_ 'd["services"][0]["bytes"]["in"], d["services"][0]["bytes"]["out"]')" "$(sum web)" \
    "bytes in and out add up to the sessions' log lines"

# the certificate: expiry from the file, days left from now
want=$(python3 - "$(openssl x509 -in "$cert" -noout -enddate | sed 's/notAfter=//')" <<'PY'
import sys, time, calendar
t = calendar.timegm(time.strptime(sys.argv[1], "%b %d %H:%M:%S %Y %Z"))
print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), (t - int(time.time())) // 86400)
PY
)
got=$(jq_ '" ".join(str(x) for x in (d["services"][0]["certificates"][0]["not_after"], d["services"][0]["certificates"][0]["days_left"]))')
is "$got" "$want" "not_after and days_left match the certificate file"
is "$(jq_ 'd["services"][0]["certificates"][0]["subject"], d["services"][0]["certificates"][0]["algorithm"], d["services"][0]["certificates"][0]["bits"]')" \
    "('CN=localhost', 'RSA', 2048)" "subject, key algorithm and size"

# An ECDSA pair next to the RSA one: both are listed.
new_key "$T/ec.out" -a ecdsa localhost
tw deploy-server-cert "$(sed -n 's/^New self-signed certificate: //p' "$T/ec.out")" \
    "$(sed -n 's/^New private key: //p' "$T/ec.out")" >/dev/null 2>&1
tw reload >/dev/null
tw status --json > "$T/status.json"
is "$(jq_ 'sorted(c["algorithm"] + " " + str(c["bits"]) for c in d["services"][0]["certificates"])')" \
    "['EC 256', 'RSA 2048']" "RSA and ECDSA certificates are both reported"
is "$(jq_ 'd["services"][0]["handshakes"]["ok"], d["daemon"]["reloads"], d["daemon"]["last_reload"]')" \
    "(3, 1, 'ok')" "counters survive a reload; the reload is counted"

: > "$T/release"
active() { tw status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["services"][1]["active"])'; }
for i in $(seq 50); do [ "$(active)" = 0 ] && break; sleep 0.1; done
is "$(active)" 0 "a finished session is no longer active"

out=$(tw status -q); rc=$?
is "$rc:$out" "0:" "-q: no output, exit 0"
out=$(tw status -s "$T/admin.sock" | head -n 1)
like "$out" '^tlswardd ' "-s names the socket"

# A hung worker: status still answers for the daemon, and fails.
w=$(worker_pid)
kill -STOP "$w"
out=$(tw status 2>&1); rc=$?
kill -CONT "$w"
is "$rc" 1 "a worker that does not answer: exit 1"
like "$out" 'tlsward: the worker is not serving' "and says so"
sleep 0.3
tw status -q
ok $? "once it answers again, status succeeds"
daemon_stop

out=$(tw status 2>&1); rc=$?
is "$rc" 1 "no daemon: exit 1"
like "$out" 'cannot reach tlswardd' "no daemon: said so"
echo "tlsproxy_admin_socket =" >> "$CONF/main.cf"
like "$(tw status 2>&1)" 'tlsproxy_admin_socket is empty' "no admin socket configured: said so"
is "$(tw status --bogus 2>&1; echo "rc=$?")" "$(printf '%s\n%s' "$("$TLSWARD" status --bogus 2>&1 | head -n 1)" "usage: tlsward [-c DIR] [-v] status [--json] [-q] [-s socket]")
rc=2" "a bad option: usage, exit 2" 
tap_done
