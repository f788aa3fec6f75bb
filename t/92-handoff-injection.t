#!/bin/sh
# t/92-handoff-injection.t - the STARTTLS command-injection class.
# Plaintext a client pipelines after STARTTLS must never be taken as if
# it came over TLS: (1) "STARTTLS\r\nRSET\r\n" in one packet to the demo
# responder: the responder drops what it read ahead, the first answer
# over TLS is the one to EHLO; (2) plaintext still in the socket when it
# is handed over: tlswardd reads it as TLS (the handshake fails) and
# relays nothing.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
: "${SMTPDEMO:=$TOP_BUILDDIR/contrib/smtp-starttls-demo}"
[ -x "$SMTPDEMO" ] || skip_all "contrib/smtp-starttls-demo not built"
export TOP_SRCDIR

cat > "$T/inject.py" <<'PY'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb", buffering=0)
def reply(fp):
    lines = []
    while True:
        l = fp.readline()
        lines.append(l.decode().rstrip())
        if len(l) < 4 or l[3:4] != b"-":
            return lines
reply(f)
s.sendall(b"EHLO attacker.example\r\n"); reply(f)
s.sendall(b"STARTTLS\r\nRSET\r\n")          # one packet
print("plain:", reply(f)[0])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost")
tf = t.makefile("rb", buffering=0)
t.sendall(b"EHLO attacker.example\r\n")
print("tls:", reply(tf)[0])
t.sendall(b"QUIT\r\n")
print("tls:", reply(tf)[0])
PY

cat > "$T/insocket.py" <<'PY'
import socket, ssl, sys, threading
sys.path.insert(0, sys.argv[2])
import handoff_client
a, b = socket.socketpair()
a.settimeout(10)
a.sendall(b"RSET\r\n")          # plaintext still in the socket
res = {}
def peer():
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        ctx.wrap_socket(a, server_hostname="localhost")
        res["peer"] = "handshake ok"
    except Exception as e:
        res["peer"] = "handshake failed"
th = threading.Thread(target=peer, daemon=True); th.start()
try:
    conn, out = handoff_client.handoff(sys.argv[1], b, "server", "[192.0.2.9]:25")
    print("report ok", out)
    print("relayed:", conn.recv(100))
except handoff_client.HandoffError as e:
    print("refused/failed:", e.code, e.text)
b.close()                       # tlswardd has (had) its own copy
th.join(20)
print("peer:", res.get("peer"))
PY

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600"
	daemon_start || { daemon_log; return; }
	rm -rf "$T/spool" "$T/demo.port"; mkdir "$T/spool"
	"$SMTPDEMO" --listen 127.0.0.1:0 --handoff "$CONF/handoff.sock" \
	    --spool "$T/spool" --port-file "$T/demo.port" 2>"$T/demo.log" &
	demo=$!
	tap_pid $demo
	for i in $(seq 50); do [ -s "$T/demo.port" ] && break; sleep 0.1; done

	out=$(python3 "$T/inject.py" "$(cat "$T/demo.port")" 2>&1)
	like "$out" 'plain: 220 2\.0\.0 Ready to start TLS' "$1: STARTTLS answered in plaintext"
	like "$out" 'tls: 250-demo\.invalid' "$1: the first answer over TLS is EHLO's, not the injected RSET's"
	unlike "$out" 'tls: 250 2\.0\.0 Ok' "$1: no answer to the injected RSET ever comes over TLS"
	like "$out" 'tls: 221 ' "$1: the session goes on normally"
	like "$(cat "$T/demo.log")" 'discarding 6 bytes sent after STARTTLS' "$1: the responder says what it dropped"

	out=$(python3 "$T/insocket.py" "$CONF/handoff.sock" "$TOP_SRCDIR/contrib" 2>&1)
	like "$out" 'refused/failed: handshake ' "$1: plaintext left in the socket fails the handshake (report)"
	unlike "$out" 'relayed:' "$1: nothing is relayed"
	like "$out" 'peer: handshake failed' "$1: the peer sees a failed handshake"
	kill $demo 2>/dev/null
	daemon_stop
}
run_mode enforce
run_mode off
tap_done
