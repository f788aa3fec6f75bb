# t/lib-daemon.sh - helpers for tests that run tlswardd (sourced after
# t/lib.sh). Everything listens on 127.0.0.1 port 0; the chosen ports are
# read from the daemon's log or the backend's port file.
#
#   daemon_setup         key + cert in $CONF via "tlsward enable-server"
#   backend_start MODE [FILE]  python echo/http/silent/flood/record server
#                        (record appends what it reads to FILE); $BPORT
#   services 'LINE' ...  writes $CONF/services.cf
#   daemon_start         starts tlswardd -f, waits until it serves; $DPID
#   port_of SERVICE      the port a service listens on
#   worker_pid           the current worker's pid
#   daemon_stop          SIGTERM and wait
#   wait_log REGEX [SECS]  waits until the daemon log matches
#   wait_file FILE REGEX [SECS]  the same for any file
#   free_port            a TCP port on 127.0.0.1 free just now
#   plain_client PORT    stdin to 127.0.0.1:PORT in plaintext, half-close,
#                        prints the answer
#   unix_get PATH        TLS GET over a UNIX socket, prints the body
# $SANDBOX (enforce|off) is written into main.cf by daemon_setup.
# In a ThreadSanitizer build a data race stops the process that has it
# (as ASan and UBSan errors do in theirs), so that it fails a test
# instead of leaving a report nobody reads; other builds ignore this.
TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS

: "${TLSWARDD:=$TOP_BUILDDIR/daemon/tlswardd}"
: "${TLSPEER:=$TOP_BUILDDIR/t/tools/tlspeer}"
: "${SANDBOX:=enforce}"
DLOG=

daemon_setup() {
	tw enable-server localhost >/dev/null 2>&1 || return 1
	# compatibility_level as a new installation (sha256 fingerprints)
	cat >> "$CONF/main.cf" <<EOT
compatibility_level = 3.6
tlsproxy_sandbox = $SANDBOX
tlsproxy_user = nobody
tlsproxy_pid_file =
tlsproxy_admin_socket = $T/admin.sock
EOT
}

backend_start() {
	rm -f "$T/bport.$1"
	python3 "$TOP_SRCDIR/t/tools/echo.py" "$T/bport.$1" "$@" &
	tap_pid $!
	for _i in $(seq 50); do
		[ -s "$T/bport.$1" ] && break
		sleep 0.1
	done
	BPORT=$(cat "$T/bport.$1")
}

services() { printf '%s\n' "$@" > "$CONF/services.cf"; }

wait_file() {	# wait_file FILE REGEX [SECONDS]
	_n=$(( ${3:-10} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
wait_log() { wait_file "$DLOG" "$@"; }	# wait_log REGEX [SECONDS]

daemon_start() {
	DLOG=$T/daemon.log
	: > "$DLOG"
	"$TLSWARDD" -c "$CONF" -f "$@" >> "$DLOG" 2>&1 &
	DPID=$!
	tap_pid "$DPID"
	if ! wait_log 'worker [0-9]+ started|not starting|could not start' 10 ||
	    ! grep -q 'worker [0-9]* started' "$DLOG"; then
		diag "tlswardd did not start:" "$(cat "$DLOG")"
		return 1
	fi
}

port_of() {
	sed -n "s/.*service $1: listening on \[.*\]:\([0-9]*\)$/\1/p" "$DLOG" | tail -n 1
}

worker_pid() {
	sed -n 's/.*worker \([0-9]*\) started$/\1/p' "$DLOG" | tail -n 1
}

daemon_stop() {
	kill -TERM "$DPID" 2>/dev/null
	for _i in $(seq 100); do
		kill -0 "$DPID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$DPID" 2>/dev/null
	return 1
}

# dump the daemon log into the TAP stream (for failures)
daemon_log() { [ -n "$DLOG" ] && diag "daemon log:" "$(tail -n 40 "$DLOG")"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
plain_client() { python3 "$TOP_SRCDIR/t/tools/plain_client.py" "$1"; }
unix_get() { python3 "$TOP_SRCDIR/t/tools/unix_get.py" "$1" 2>/dev/null; }
