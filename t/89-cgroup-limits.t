#!/bin/sh
# t/89-cgroup-limits.t - tlsproxy_max_sessions = 0 and
# tlsproxy_event_threads = 0 follow the memory and CPU limits of the
# daemon's control group, as a container or a unit with MemoryMax= sets
# them, so that a pod refuses connections instead of being OOM-killed.
# The worker reads a fake cgroup tree ($TLSWARD_TEST_CGROUP_ROOT, only
# in builds with test hooks); "tlsward status" shows what it took:
# memory.max 268435456 -> 3,584 sessions, cpu.max "150000 100000" -> 2
# loops; "max" for both -> the open-files limit and a loop per CPU; a
# set tlsproxy_max_sessions above the memory's stays, with a warning; a
# small limit refuses what is past it. (t/unit/test_cgroup checks the
# reading of v1 and v2 trees.)
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
"$TLSWARDD" -V | grep -q 'test hooks' ||
	skip_all "needs a build with --enable-test-hooks"

CG=$T/cgroup
mkdir "$CG"
echo "0::/" > "$CG/cgroup"
TLSWARD_TEST_CGROUP_ROOT=$CG
export TLSWARD_TEST_CGROUP_ROOT
cpus=$(nproc)

daemon_setup
backend_start echo
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT"

# events: N loops, N sessions (limit N); N refused
events() { tw status | sed -n 's/^events: \([0-9]*\) loops, [0-9]* sessions (limit \([0-9]*\)); \([0-9]*\) refused.*/\1 \2 \3/p'; }
restart() {
	daemon_stop
	daemon_start || { daemon_log; tap_done; exit 1; }
}

echo 268435456 > "$CG/memory.max"
echo "150000 100000" > "$CG/cpu.max"
daemon_start || { daemon_log; tap_done; exit 1; }
set -- $(events)
want=$(( cpus < 2 ? cpus : 2 ))
is "$1" "$want" "cpu.max 150000 100000: $want event loops (1.5 CPUs rounded up, at most $cpus)"
is "$2" 3584 "memory.max 256 MiB: at most 3584 sessions"
like "$(cat "$DLOG")" 'at most 3584 sessions \(the cgroup memory limit, 256 MiB, at 64 KiB each\)' \
    "the log says where the limit comes from"

echo max > "$CG/memory.max"
echo "max 100000" > "$CG/cpu.max"
restart
set -- $(events)
is "$1" "$cpus" "cpu.max max: one loop per CPU ($cpus)"
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then
	ok "$([ "$2" -gt 3584 ]; echo $?)" "memory.max max: the open-files limit's ($2)"
else
	is "$2" $(( (hard - 64) / 2 )) "memory.max max: the open-files limit's ((hard $hard - 64) / 2)"
fi

echo 268435456 > "$CG/memory.max"
echo "tlsproxy_max_sessions = 5000" >> "$CONF/main.cf"
restart
set -- $(events)
is "$2" 5000 "a set tlsproxy_max_sessions above the memory's is kept"
like "$(cat "$DLOG")" 'tlsproxy_max_sessions 5000: more than the 3584 sessions the cgroup memory limit \(256 MiB\)' \
    "with a warning"

# 2 MiB: the minimum of 16 sessions; 20 silent connections, 4 refused.
sed -i '/^tlsproxy_max_sessions/d' "$CONF/main.cf"
echo 2097152 > "$CG/memory.max"
restart
port=$(port_of https)
python3 - "$port" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for i in range(20)]
time.sleep(3)
PY
tap_pid $!
wait_log 'refused' 5
set -- $(events)
is "$2 $3" "16 4" "memory.max 2 MiB: 16 sessions, the 4 more connections refused"
daemon_stop
tap_done
