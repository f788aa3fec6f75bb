#!/bin/sh
# t/75-tls-records.t - TLS records the peer waits for leave when the
# session would wait, not with the next application data: the
# no_renegotiation alert, and a TLS 1.3 session ticket (held back for the
# first data, but only for a moment) to a client that sends nothing. After
# a fatal TLS error the alert is not destroyed by a reset: our side is
# shut, the peer's bytes are read and dropped until it closes, for a
# bounded time.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

MSG="python3 $TOP_SRCDIR/t/tools/sclient_msg.py"
secs_below() {	# secs_below VALUE LIMIT: VALUE is a number below LIMIT
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$@" 2>/dev/null
}

daemon_setup
backend_start silent; SPORT=$BPORT
services "web 127.0.0.1:0 server 127.0.0.1:$SPORT"
daemon_start || { daemon_log; tap_done; exit 1; }
web=$(port_of web)

# TLS 1.2 renegotiation is refused with a warning alert; the backend is
# silent, so nothing else would carry it.
t=$($MSG "$web" R 'Alert .*no_renegotiation' -tls1_2)
secs_below "$t" 2
ok $? "a renegotiation attempt gets no_renegotiation at once ($t s), not with the next data"

# A TLS 1.3 client that sends nothing still gets its session ticket.
t=$($MSG "$web" - '<<< TLS 1.3, Handshake .*NewSessionTicket' -tls1_3)
secs_below "$t" 2
ok $? "a TLS 1.3 client that sends nothing gets its session ticket ($t s)"
sess=$T/sess.pem
(sleep 1.5) | timeout 10 openssl s_client -connect "127.0.0.1:$web" -tls1_3 \
    -sess_out "$sess" >/dev/null 2>&1
out=$( (sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$web" -tls1_3 \
    -sess_in "$sess" 2>/dev/null | grep -E '^(Reused|New),')
like "$out" '^Reused,' "and resumes with it, though it never sent a byte"

# A fatal alert, then the bytes the client had already sent.
out=$(python3 "$TOP_SRCDIR/t/tools/fatal_alert.py" "$web")
like "$out" '^sent 15030[0-3]0002020a eof ' \
    "after a fatal error the client reads the alert and an orderly end, and its later send is not reset ($out)"

# The wait for the peer's close is bounded: a client that never closes.
cat > "$T/hold.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
body = bytes([1, 0, 0, 40, 3, 3]) + bytes(10)
s.sendall(bytes([22, 3, 1, 0, len(body)]) + body + bytes([23, 3, 3, 0, 1, 0]))
time.sleep(4)
PY
n0=$(grep -c 'DISCONNECT' "$DLOG")
python3 "$T/hold.py" "$web" &
hp=$!
for _i in $(seq 50); do
	[ "$(grep -c 'DISCONNECT' "$DLOG")" -gt "$n0" ] && break
	sleep 0.1
done
last=$(grep 'DISCONNECT' "$DLOG" | tail -n 1)
is "$(grep -c 'DISCONNECT' "$DLOG")" "$((n0 + 1))" "the session of a client that never closes ends"
like "$last" 'time=(0\.9|1\.[0-4])[0-9]*s' "after the 1 s linger, before the client gives up ($last)"
wait $hp

kill -0 "$DPID"
ok $? "the daemon still runs"
daemon_stop
tap_done
