#!/bin/sh
# t/64-watchdog.t - per-session deadlines: a peer that connects and says
# nothing, one that sends half a ClientHello, one that stops reading, and
# a session past its lifetime are each torn down on time and logged,
# while other sessions are served meanwhile. A forward target that never
# answers the connect is bounded by tlsproxy_handshake_timeout. Each
# ending is logged and counted (tlsward status) under its own reason. Silence is bounded by
# tlsproxy_idle_timeout, not by Postfix's tlsproxy_watchdog_timeout: an
# SMTP server that greets after more than the watchdog's time is served,
# and a session ended by its idle limit gets a TLS close_notify first.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

cat > "$T/stall.py" <<'PY'
# stall.py PORT MODE: prints how many seconds until the proxy closed us
import socket, ssl, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
t0 = time.monotonic()
if mode == "half-hello":
    s.sendall(bytes.fromhex("160301020001"))    # a record header, then nothing
if mode == "no-read":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    t0 = time.monotonic()
    time.sleep(float(sys.argv[3]))                # never read
    print("%.1f" % (time.monotonic() - t0))
    sys.exit(0)
if mode == "chatty":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 20:
            s.sendall(b"tick\n")                  # progress every 0.3 s
            if not s.recv(100):
                break
            time.sleep(0.3)
    except (OSError, ssl.SSLError):
        pass
    print("%.1f" % (time.monotonic() - t0))
    sys.exit(0)
try:
    while s.recv(100):
        pass
except OSError:
    pass
print("%.1f" % (time.monotonic() - t0))
PY
secs_between() {	# secs_between VALUE LOW HIGH
	python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if float(sys.argv[2]) <= v <= float(sys.argv[3]) else 1)" "$@"
}

# blackhole.py PORTFILE: a listener whose accept queue is full and never
# drained, so further connects get no answer at all (SYNs are dropped).
cat > "$T/blackhole.py" <<'PY'
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
port = l.getsockname()[1]
fill = socket.create_connection(("127.0.0.1", port))  # the queue is full
open(sys.argv[1] + ".tmp", "w").write("%d\n" % port)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
PY
python3 "$T/blackhole.py" "$T/bh.port" &
tap_pid $!
wait_file "$T/bh.port" '^[0-9]+$' 5
BHPORT=$(cat "$T/bh.port")

daemon_setup
backend_start http; HPORT=$BPORT
backend_start flood; FPORT=$BPORT
backend_start echo; EPORT=$BPORT
services "slow 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_handshake_timeout=2s -o tlsproxy_idle_timeout=3s" \
    "flood 127.0.0.1:0 server 127.0.0.1:$FPORT -o tlsproxy_idle_timeout=2s" \
    "life 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_max_session_time=2s" \
    "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "hole 127.0.0.1:0 server 127.0.0.1:$BHPORT -o tlsproxy_handshake_timeout=2s"
daemon_start || { daemon_log; tap_done; exit 1; }

# The forward target never answers: the TLS client waits, the connect is
# bounded by the handshake timeout, counted from the end of the handshake.
(sleep 6) | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of hole)" \
    >/dev/null 2>&1 &
p5=$!

python3 "$T/stall.py" "$(port_of slow)" silent > "$T/silent.t" &
p1=$!
python3 "$T/stall.py" "$(port_of slow)" half-hello > "$T/half.t" &
p2=$!
python3 "$T/stall.py" "$(port_of flood)" no-read 8 > "$T/noread.t" &
p3=$!
python3 "$T/stall.py" "$(port_of life)" chatty > "$T/chatty.t" &
p4=$!
sleep 0.5
# Meanwhile another session is served at once.
t0=$(date +%s%N)
out=$(curl -sk --max-time 5 "https://127.0.0.1:$(port_of web)/")
t1=$(date +%s%N)
is "$out" "hello" "a normal session is served while four peers stall"
ok $(( (t1 - t0) / 1000000 < 1500 ? 0 : 1 )) "... and without waiting for them"
wait $p1 $p2 $p3 $p4

secs_between "$(cat "$T/silent.t")" 1.5 4
ok $? "a silent peer is closed after the 2 s handshake deadline ($(cat "$T/silent.t") s)"
secs_between "$(cat "$T/half.t")" 1.5 4
ok $? "half a ClientHello is closed after the handshake deadline ($(cat "$T/half.t") s)"
secs_between "$(cat "$T/chatty.t")" 1.5 4
ok $? "a busy session ends at its 2 s lifetime ($(cat "$T/chatty.t") s)"

wait_log 'service=flood: .*idle timeout' 10
log=$(cat "$DLOG")
like "$log" 'service=slow: \[127\.0\.0\.1\]:[0-9]+: handshake timeout' \
    "the handshake timeout is logged"
is "$(printf '%s\n' "$log" | grep -c 'service=slow: .*handshake timeout')" 2 \
    "both stalled handshakes are logged"
like "$log" 'service=flood: \[127\.0\.0\.1\]:[0-9]+: idle timeout' \
    "a peer that stops reading is ended by the idle deadline"
like "$log" 'service=life: \[127\.0\.0\.1\]:[0-9]+: session lifetime exceeded' \
    "the session lifetime is logged"
wait_log 'service=hole: .*DISCONNECT' 5
like "$(cat "$DLOG")" "service=hole: \\[127\\.0\\.0\\.1\\]:[0-9]+: connect timeout to 127\\.0\\.0\\.1:$BHPORT" \
    "a forward target that never answers: connect timeout, with the target"
like "$(grep 'service=hole: .*DISCONNECT' "$DLOG")" 'time=2\.[0-4][0-9]*s' \
    "after the 2 s handshake timeout"
wait $p5
tw status --json > "$T/status.json"
ends() {	# ends SERVICE: its failed endings, "reason=N" sorted, non-zero only
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = [v for v in d["services"] if v["name"] == sys.argv[2]][0]["endings"]
print(" ".join(sorted("%s=%s" % (k, n) for k, n in s["failed"].items() if int(n))), "closed=%s" % s["closed"])' "$T/status.json" "$1"
}
is "$(ends slow)" "handshake_timeout=2 closed=0" "status counts both stalled handshakes as handshake timeouts"
is "$(ends flood)" "idle_timeout=1 closed=0" "... the reader that stopped as an idle timeout"
is "$(ends life)" "lifetime=1 closed=0" "... the long session as its lifetime"
is "$(ends hole)" "connect_timeout=1 closed=0" "... the silent forward target as a connect timeout"
is "$(ends web)" " closed=1" "... and the served session as closed"
kill -0 "$DPID"
ok $? "the daemon is still running"
pid=$(worker_pid)
out=$(curl -sk --max-time 5 "https://127.0.0.1:$(port_of web)/")
is "$out" "hello" "and still serving"
is "$(worker_pid)" "$pid" "with the same worker"
daemon_stop

# Silence: Postfix's watchdog parameter does not cut an SMTP session.
cat > "$T/greet.py" <<'PY'
# greet.py PORT [line]: TLS in, prints the first line, then (without
# "line") waits for the end
# and prints "close_notify" or "truncated" with the seconds it took.
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
t0 = time.monotonic()
line = b""
try:
    while not line.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            break
        line += d
    print(line.decode().strip() or "(nothing)")
    if len(sys.argv) > 2:       # "line": the first line is all we want
        sys.exit(0)
    while s.recv(100):
        pass
    print("close_notify %.1f" % (time.monotonic() - t0))
except ssl.SSLEOFError:
    print("truncated %.1f" % (time.monotonic() - t0))
except OSError as e:
    print("error %s" % e)
PY
is "$("$TLSWARD" -c "$CONF" config -d tlsproxy_idle_timeout)" "tlsproxy_idle_timeout = 3600s" \
    "the idle limit's default (3600s) outlasts smtpd's 300 s and an IMAP IDLE's 29 min"
backend_start late 3; LPORT=$BPORT
echo "tlsproxy_watchdog_timeout = 1s" >> "$CONF/main.cf"
services "smtps 127.0.0.1:0 server 127.0.0.1:$LPORT" \
    "short 127.0.0.1:0 server 127.0.0.1:$LPORT -o tlsproxy_idle_timeout=1s"
daemon_start || { daemon_log; tap_done; exit 1; }
python3 "$T/greet.py" "$(port_of smtps)" line > "$T/late.out" &
pl=$!
python3 "$T/greet.py" "$(port_of short)" > "$T/short.out"
wait $pl
is "$(head -n 1 "$T/late.out")" "220 late greeting" \
    "a greeting after 3 s arrives although tlsproxy_watchdog_timeout is 1s"
is "$(head -n 1 "$T/short.out")" "(nothing)" "tlsproxy_idle_timeout=1s (per service, -o) ends a silent session"
like "$(tail -n 1 "$T/short.out")" '^close_notify (0\.9|1\.[0-9])$' \
    "after 1 s, with a TLS close_notify (not a truncation)"
like "$(cat "$DLOG")" 'service=short: \[127\.0\.0\.1\]:[0-9]+: idle timeout' "and logs the idle timeout"
daemon_stop
tap_done
