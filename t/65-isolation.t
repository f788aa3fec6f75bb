#!/bin/sh
# t/65-isolation.t - the worker really is confined: /proc/PID/status
# (uid, capabilities, no_new_privs, seccomp), no key file open, a
# forbidden syscall kills it and the supervisor names the call and
# restarts it, SIGKILL is survived within a second, and the printed
# policy is the reviewed one.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# --print-policy is the golden file (minus the sanitizer-only group).
"$TLSWARDD" --print-policy | awk '
	/^# sanitizer runtime/ { skip = 1; next }
	skip && /^$/ { skip = 0 }
	!skip' > "$T/policy"
# the awk above keeps the blank line that ended the group; normalise
cat -s "$T/policy" > "$T/policy.n"
cat -s "$TESTDATA/seccomp.policy" > "$T/golden.n"
diff -u "$T/golden.n" "$T/policy.n" > "$T/policy.diff"
ok $? "--print-policy matches t/data/seccomp.policy"
[ -s "$T/policy.diff" ] && diag "$(cat "$T/policy.diff")"

status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

daemon_setup
backend_start http
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
daemon_start || { daemon_log; tap_done; exit 1; }
port=$(port_of web)
w=$(worker_pid)
is "$(curl -sk --max-time 5 "https://127.0.0.1:$port/")" "hello" "the worker serves"

uid=$(status_field "$w" Uid | awk '{print $1 $2 $3 $4}')
if [ "$(id -u)" = 0 ]; then
	nobody=$(id -u nobody)
	is "$uid" "$nobody$nobody$nobody$nobody" "worker runs as nobody (real, effective, saved, fs uid)"
else
	skip "worker uid change" "not started as root"
fi
is "$(status_field "$w" Groups)" "" "worker has no supplementary groups"
for f in CapInh CapPrm CapEff CapBnd CapAmb; do
	is "$(status_field "$w" $f)" 0000000000000000 "worker $f is empty"
done
is "$(status_field "$w" NoNewPrivs)" 1 "worker has no_new_privs"
is "$(status_field "$w" Seccomp)" 2 "worker is under a seccomp filter"
keys=$(for fd in /proc/"$w"/fd/*; do readlink "$fd"; done | grep -c '\.pem$')
is "$keys" 0 "worker holds no key or certificate file open"
sup=$(status_field "$DPID" CapEff)
diag "supervisor CapEff: $sup"

# SIGKILL: a new worker serves again within a second.
kill -KILL "$w"
t0=$(date +%s%N)
served=
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]; do
	if [ "$(curl -sk --max-time 1 "https://127.0.0.1:$port/" 2>/dev/null)" = hello ]; then
		served=$(( ($(date +%s%N) - t0) / 1000000 ))
		break
	fi
	sleep 0.05
done
ok $(( ${served:-9999} <= 1000 ? 0 : 1 )) "after SIGKILL a new worker serves within a second (${served:-never} ms)"
wait_log "worker $w killed by signal 9" 3
ok $? "the supervisor logs how the worker died"
wait_log 'restarting the worker in [0-9]+ ms' 3
ok $? "and that it restarts it"
w2=$(worker_pid)
ok $(( w2 != w ? 0 : 1 )) "a new worker process ($w -> $w2)"

# A forbidden system call (test-hook builds only).
if "$TLSWARDD" -V | grep -q 'test hooks'; then
	kill -USR2 "$DPID"
	wait_log "worker $w2 killed by the seccomp filter" 5
	ok $? "a forbidden system call kills the worker"
	like "$(cat "$DLOG")" 'worker made forbidden system call openat \([0-9]+\)' \
	    "the supervisor names the system call"
	wait_log "worker [0-9]+ started" 1
	sleep 1
	is "$(curl -sk --max-time 3 "https://127.0.0.1:$port/")" "hello" "the restarted worker serves"
else
	skip "forbidden system call" "needs a build with --enable-test-hooks"
	skip "names the system call" "needs a build with --enable-test-hooks"
	skip "the restarted worker serves" "needs a build with --enable-test-hooks"
fi
daemon_stop
ok $? "SIGTERM stops the daemon"

# log mode: the filter logs instead of killing (a diagnosis aid)
sed -i 's/^tlsproxy_sandbox = .*/tlsproxy_sandbox = log/' "$CONF/main.cf"
daemon_start || daemon_log
w=$(worker_pid)
is "$(status_field "$w" Seccomp)" 2 "log mode: a filter is installed"
like "$(cat "$DLOG")" 'sandbox log' "log mode: the worker says so"
daemon_stop
tap_done
