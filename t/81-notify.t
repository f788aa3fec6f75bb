#!/bin/sh
# t/81-notify.t - the sd_notify protocol, against a small datagram
# listener on a temporary NOTIFY_SOCKET: READY=1 once the worker serves,
# RELOADING=1 + MONOTONIC_USEC / READY=1 around reloads (good and bad),
# STATUS= lines, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 at
# SIGTERM; an abstract-namespace socket works too.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# notify_listener ADDR LOG: records each datagram as one line ("\n" in it
# become "|"), with a CLOCK_MONOTONIC time stamp in microseconds first.
notify_listener() {
	rm -f "$2"
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys, time
addr, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(log + ".ready", "w").close()
while True:
    d = s.recv(4096).decode()
    with open(log, "a") as f:
        f.write("%d %s\n" % (time.monotonic_ns() // 1000, d.replace("\n", "|")))
PY
	tap_pid $!
	for _i in $(seq 50); do [ -e "$2.ready" ] && break; sleep 0.1; done
}

# wait_msg REGEX [SECS]: waits until a recorded message matches.
wait_msg() {
	_n=$(( ${2:-10} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq -- "$1" "$NLOG" 2>/dev/null && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

daemon_setup
echo "tlsproxy_admin_socket = $T/admin.sock" >> "$CONF/main.cf"
echo "tlsproxy_drain_timeout = 5s" >> "$CONF/main.cf"
backend_start http
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"

NLOG=$T/notify.log
notify_listener "$T/notify.sock" "$NLOG"
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000
daemon_start || { daemon_log; tap_done; exit 1; }
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_msg 'READY=1' 5
ok $? "READY=1 is sent"
like "$(grep 'READY=1' "$NLOG" | head -n 1)" 'READY=1\|STATUS=serving 1 service \(worker [0-9]+, generation 1\)' \
    "with a one-line STATUS="
is "$(curl -sk --max-time 5 "https://127.0.0.1:$(port_of web)/")" "hello" "and the daemon serves"
w=$(worker_pid)
is "$(tr '\0' '\n' < "/proc/$w/environ" | grep -c '^NOTIFY_SOCKET=')" 0 "the worker does not inherit NOTIFY_SOCKET"

sleep 1.2
n=$(grep -c 'WATCHDOG=1' "$NLOG")
ok $(( n >= 3 ? 0 : 1 )) "WATCHDOG=1 at half of WATCHDOG_USEC ($n in about 1.2 s, every 0.2 s)"

# A good reload: RELOADING=1 with MONOTONIC_USEC, then READY=1.
: > "$T/mark"
lines=$(wc -l < "$NLOG")
kill -HUP "$DPID"
wait_log 'reload: done' 10
wait_msg 'READY=1.*generation 2' 5
ok $? "READY=1 after the reload, with the new generation in STATUS="
after=$(tail -n +"$((lines + 1))" "$NLOG" | grep -v '^[0-9]* WATCHDOG=1$')
like "$(echo "$after" | head -n 1)" '^[0-9]+ RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading the configuration$' \
    "RELOADING=1 with MONOTONIC_USEC comes first"
sent=$(echo "$after" | head -n 1 | sed 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/')
recv=$(echo "$after" | head -n 1 | cut -d' ' -f1)
d=$(( recv - sent ))
ok $(( d >= 0 && d < 2000000 ? 0 : 1 )) "MONOTONIC_USEC is CLOCK_MONOTONIC (received ${d} us after it)"
like "$(echo "$after" | sed -n 2p)" 'READY=1\|STATUS=serving 1 service \(worker [0-9]+, generation 2\)' \
    "then READY=1"

# A bad reload: RELOADING=1 ... READY=1 with the failure in STATUS=.
lines=$(wc -l < "$NLOG")
echo "broken line" >> "$CONF/services.cf"
out=$(tw reload 2>&1); rc=$?
is "$rc" 1 "tlsward reload of a broken services.cf: exit 1"
wait_msg 'STATUS=reload failed' 5
after=$(tail -n +"$((lines + 1))" "$NLOG" | grep -v '^[0-9]* WATCHDOG=1$')
like "$(echo "$after" | head -n 1)" 'RELOADING=1\|MONOTONIC_USEC=' "a failed reload starts with RELOADING=1 too"
like "$(echo "$after" | sed -n 2p)" 'READY=1\|STATUS=reload failed \(1 error\); still serving generation 2' \
    "and ends with READY=1 and the failure in STATUS="
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"

# SIGKILL the worker: STATUS= says so, and again when it serves.
kill -KILL "$w"
wait_msg "STATUS=worker $w died; restarting it in [0-9]+ ms" 5
ok $? "a worker crash is reported in STATUS="
wait_msg '^[0-9]+ STATUS=serving 1 service \(worker [0-9]+, generation 1\)$' 5
ok $? "and the restarted worker too"

lines=$(wc -l < "$NLOG")
daemon_stop
ok $? "SIGTERM stops the daemon"
wait_msg 'STOPPING=1' 5
like "$(tail -n +"$((lines + 1))" "$NLOG" | grep -v WATCHDOG | head -n 1)" 'STOPPING=1\|STATUS=draining sessions for up to 5s' \
    "STOPPING=1 with STATUS= on SIGTERM"

# The abstract namespace ("@name").
NLOG=$T/notify2.log
abstract="@tlsward-test-$$-$(date +%s%N)"
notify_listener "$abstract" "$NLOG"
export NOTIFY_SOCKET="$abstract"
daemon_start || daemon_log
unset NOTIFY_SOCKET
wait_msg 'READY=1' 5
ok $? "READY=1 over an abstract-namespace NOTIFY_SOCKET"
is "$(grep -c WATCHDOG "$NLOG")" 0 "no WATCHDOG=1 without WATCHDOG_USEC"
daemon_stop
tap_done
