#!/bin/sh
# t/68-daemon-process.t - tlswardd as a process among others: the pid
# file exists when the starting command returns; descriptors inherited
# from the starting shell are closed in the supervisor and the worker;
# syslog lines keep their ident across reloads (the ident used to point
# into a freed configuration); without a syslog daemon the log stays on
# stderr and says so; under the journal (JOURNAL_STREAM) stderr lines
# carry "<N>" levels. The syslog parts run in a private mount namespace
# whose /dev is a tmpfs, with or without a stand-in /dev/log.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

daemon_setup
backend_start http
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
sed -i "s|^tlsproxy_pid_file =.*|tlsproxy_pid_file = $T/tlswardd.pid|" "$CONF/main.cf"
echo "syslog_name = tlswardd-t68" >> "$CONF/main.cf"

# stop_bg: daemon_stop for the background daemon named by the pid file.
stop_bg() { DPID=$(cat "$T/tlswardd.pid" 2>/dev/null) && daemon_stop; }
# fd_links PID: where the process's descriptors point, one a line.
fd_links() { for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null; }

# 1. foreground: an inherited descriptor does not survive the start.
exec 7> "$T/inherited.7"
daemon_start || { daemon_log; tap_done; exit 1; }
exec 7>&-
w=$(worker_pid)
unlike "$(fd_links "$DPID")" "inherited\.7" "the supervisor closed the descriptor it inherited (fd 7)"
unlike "$(fd_links "$w")" "inherited\.7" "the worker has no inherited descriptor either"
# a worker dies with its supervisor even when it cannot read the socket
# that tells it (stopped here; wedged in real life): parent-death signal
kill -STOP "$w"
kill -KILL "$DPID"
for _i in $(seq 20); do kill -0 "$w" 2>/dev/null || break; sleep 0.1; done
kill -0 "$w" 2>/dev/null
is "$?" 1 "a stopped worker is killed when its supervisor dies"
kill -KILL "$w" 2>/dev/null
daemon_start || { daemon_log; tap_done; exit 1; }
daemon_stop

# Everything below detaches and logs to syslog: a fresh /dev per case.
if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
	skip "syslog and pid file cases" "needs root and mount namespaces"
	tap_done
	exit
fi
# in_ns LOG CMD...: runs CMD in a mount namespace with a tmpfs /dev that
# has null, zero, random, urandom and, if LOG is "log", a stand-in syslog
# daemon on /dev/log writing to $T/syslog (its pid in $T/recv.pid).
in_ns() {
	unshare -m --propagation private sh -c '
	    mount -t tmpfs -o mode=755 tmpfs /dev || exit 1
	    mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5
	    mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9
	    ln -s /proc/self/fd /dev/fd
	    if [ "$1" = log ]; then
		python3 "$TOP_SRCDIR/t/tools/syslog_recv.py" /dev/log "$T/syslog" &
		echo $! > "$T/recv.pid"
		for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
	    fi
	    shift
	    exec "$@"' sh "$@"
}
export T TOP_SRCDIR

# 2. with a syslog daemon: the pid file is there when tlswardd returns.
: > "$T/syslog"
in_ns log "$TLSWARDD" -c "$CONF" 2> "$T/start.err"
rc=$?
tap_pid "$(cat "$T/recv.pid")"
is "$rc" 0 "tlswardd detached and its starting process exited 0"
ok "$([ -s "$T/tlswardd.pid" ]; echo $?)" "the pid file exists as soon as the starting process returns"
pid=$(cat "$T/tlswardd.pid" 2>/dev/null)
ok "$(kill -0 "$pid" 2>/dev/null; echo $?)" "the pid file names the running daemon"
wait_file "$T/syslog" 'worker [0-9]+ started' || diag "syslog:" "$(cat "$T/syslog")"

# 3. reloads keep the ident; a changed syslog_name is taken.
for i in 1 2 3; do
	out=$(tw reload -s "$T/admin.sock" 2>&1) || diag "reload $i: $out"
done
wait_file "$T/syslog" 'reload: done \(generation 4\)' || diag "syslog:" "$(tail "$T/syslog")"
bad=$(grep -Ev '^<[0-9]+>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} tlswardd-t68/tlswardd\[[0-9]+\]: ' "$T/syslog")
is "$bad" "" "every syslog line after three reloads carries the ident tlswardd-t68/tlswardd (syslog_name/tlswardd, as Postfix names its programs)"
like "$(grep -c 'reload: done' "$T/syslog")" '^3$' "the three reloads were logged through syslog"
sed -i 's/^syslog_name = .*/syslog_name = tlswardd-renamed/' "$CONF/main.cf"
tw reload -s "$T/admin.sock" >/dev/null 2>&1
wait_file "$T/syslog" 'tlswardd-renamed/tlswardd\[[0-9]+\]: ' 5
like "$(tail -n 3 "$T/syslog")" 'tlswardd-renamed/tlswardd\[[0-9]+\]: ' "a reload that changes syslog_name changes the ident"
unlike "$(cat "$T/start.err")" 'worker|no syslog' "nothing on stderr after detaching when syslog works"
stop_bg
kill "$(cat "$T/recv.pid")" 2>/dev/null

# 4. no syslog daemon: said on stderr, and the log stays there.
sed -i 's/^syslog_name = .*/syslog_name = tlswardd-t68/' "$CONF/main.cf"
rm -f "$T/tlswardd.pid"
in_ns nolog "$TLSWARDD" -c "$CONF" 2> "$T/nolog.err"
is "$?" 0 "without /dev/log tlswardd still starts"
wait_file "$T/nolog.err" 'worker [0-9]+ started'
like "$(cat "$T/nolog.err")" '^tlswardd: warning: no syslog daemon \(/dev/log: No such file or directory\): logging to standard error$' \
    "a missing /dev/log is said on stderr"
like "$(cat "$T/nolog.err")" 'tlswardd: worker [0-9]+ started' "and the log goes on to stderr"
stop_bg

# 4b. a pid file that cannot be written fails the start, and says so.
sed -i "s|^tlsproxy_pid_file =.*|tlsproxy_pid_file = $T/no/such/dir/tlswardd.pid|" "$CONF/main.cf"
in_ns nolog "$TLSWARDD" -c "$CONF" 2> "$T/nopid.err"
is "$?" 1 "a pid file that cannot be written: the start fails (exit 1)"
like "$(cat "$T/nopid.err")" 'fatal: not starting: no pid file \(tlsproxy_pid_file\)' "the daemon says why"
like "$(cat "$T/nopid.err")" 'error: the daemon stopped before it was ready' "and the starting process too"
sed -i "s|^tlsproxy_pid_file =.*|tlsproxy_pid_file = $T/tlswardd.pid|" "$CONF/main.cf"

# 5. the journal: JOURNAL_STREAM names our stderr, so lines get "<N>".
: > "$T/journal.err"
ino=$(stat -c '%d:%i' "$T/journal.err")
JOURNAL_STREAM=$ino "$TLSWARDD" -c "$CONF" -f 2>> "$T/journal.err" &
jp=$!
tap_pid "$jp"
wait_file "$T/journal.err" 'worker [0-9]+ started'
like "$(cat "$T/journal.err")" '^<6>tlswardd: worker [0-9]+ started' "info lines carry <6> for the journal"
kill -HUP "$jp"
echo 'garbage here' >> "$CONF/services.cf"
kill -HUP "$jp"
wait_file "$T/journal.err" 'reload: [0-9]+ error' 5
like "$(cat "$T/journal.err")" '^<[34]>tlswardd: (warning|error): ' "warnings and errors carry <4> or <3>"
unlike "$(grep -v '^<[0-7]>' "$T/journal.err")" . "every line has a level prefix"
kill -TERM "$jp"; wait "$jp" 2>/dev/null
: > "$T/plain.err"
JOURNAL_STREAM=1:1 "$TLSWARDD" -c "$CONF" -t 2> "$T/plain.err"
unlike "$(cat "$T/plain.err")" '^<' "a JOURNAL_STREAM that is not our stderr adds no prefix"
tap_done
