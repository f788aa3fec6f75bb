#!/bin/sh
# t/48-lost-wakeup.t - a relaying session whose readiness event never
# comes is not stuck until its idle timeout: it re-arms its descriptors
# in the epoll set a second after its last progress (then at doubling
# gaps) and once more before the idle deadline ends it, so data that
# waits unreported is relayed. Needs a build with --enable-test-hooks:
# TLSWARD_TEST_LOSE_EVENTS=1 makes each relaying session ignore its first
# input event from the forward target, as a kernel that lost the wake-up
# would (seen under heavy CPU starvation; issue 15, item 8).
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
"$TLSWARDD" -V | grep -q 'test hooks' ||
	skip_all "needs a build with --enable-test-hooks"

cat > "$T/ping.py" <<'PY'
# ping.py PORT N: N round trips through one TLS session; prints the
# seconds each took ("-" for one that got no answer within 8 s)
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
s.settimeout(8)
out = []
for i in range(int(sys.argv[2])):
    msg = b"ping %d\n" % i
    t0 = time.monotonic()
    s.sendall(msg)
    got = b""
    try:
        while len(got) < len(msg):
            d = s.recv(100)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    out.append("%.1f" % (time.monotonic() - t0) if got == msg else "-")
print(" ".join(out))
PY

daemon_setup
backend_start echo
services "slow 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_idle_timeout=30s" \
    "quick 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_idle_timeout=1s"
TLSWARD_TEST_LOSE_EVENTS=1 daemon_start || { daemon_log; tap_done; exit 1; }

out=$(python3 "$T/ping.py" "$(port_of slow)" 2)
like "$out" '^(0\.9|1\.[0-9]) 0\.[0-2]$' \
    "the lost event's data comes with the probe a second later, the next at once ($out)"
out=$(python3 "$T/ping.py" "$(port_of quick)" 1)
like "$out" '^(0\.9|1\.[0-9])$' \
    "with a 1 s idle limit the last probe before the deadline finds it ($out)"
unlike "$(cat "$DLOG")" 'idle timeout' "no session was ended as idle"
daemon_stop
tap_done
