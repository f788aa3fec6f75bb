#!/bin/sh
# t/78-postfix-load.t - the postfix role holds 2,000 concurrent
# postscreen-style TLS sessions at once (t/tools/pfload.py: each one a
# Postfix side that passes a TCP socket and echoes, and a TLS client on
# that socket), on the event loops, with the sandbox enforcing: none is
# refused, every handshake succeeds, every session ends.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
N=2000
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge $((N * 4 + 200)) ] ||
    skip_all "needs $((N * 4 + 200)) open files (ulimit -n is $(ulimit -n))"

daemon_setup
services "tlsproxy unix:$T/pf.sock postfix -"
daemon_start || { daemon_log; tap_done; exit 1; }
out=$(python3 "$TOP_SRCDIR/t/tools/pfload.py" "$T/pf.sock" $N 90 2>&1)
is "$(printf '%s\n' "$out" | sed -n 1p)" "held $N of $N" "$N sessions held at the same time"
is "$(printf '%s\n' "$out" | sed -n 2p)" "failed 0" "none failed"
[ "$(printf '%s\n' "$out" | sed -n 2p)" = "failed 0" ] || diag "$out"
for i in $(seq 100); do
	[ "$(grep -c 'service=tlsproxy: DISCONNECT' "$DLOG")" -ge $N ] && break
	sleep 0.1
done
st=$(tw status -s "$T/admin.sock" --json)
is "$(printf '%s' "$st" | python3 -c 'import json,sys; s=json.load(sys.stdin)["services"][0]; print(s["sessions"], s["refused"], s["handshakes"]["ok"], s["active"])')" \
    "$N 0 $N 0" "status: $N sessions, 0 refused, $N handshakes, none left active"
like "$(printf '%s' "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"]["refused"])')" '^0$' \
    "the event loops refused nothing"
unlike "$(cat "$DLOG")" 'warning|error' "nothing went wrong in the log"
daemon_stop
tap_done
