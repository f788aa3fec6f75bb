#!/bin/sh
# t/69-instances.t - two tlswardd instances on one host are never
# confused: each configuration directory gets its own default admin
# socket and pid file, and "tlsward reload" / "status" refuse to act on
# a daemon that serves another directory than the one -c names.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

A=$CONF
B=$T/confB
mkdir "$B"
daemon_setup
backend_start http
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
cp "$A/main.cf" "$B/main.cf"	# both name $T/admin.sock

# 1. the defaults: one admin socket and one pid file per directory (the
# built-in directory's plain names: t/unit/test_conf_parse).
dval() { "$TLSWARD" -c "$1" config -d "$2" | sed 's/^[^=]* = //'; }
sa=$(dval "$A" tlsproxy_admin_socket)
sb=$(dval "$B" tlsproxy_admin_socket)
like "$sa" '^/run/tlswardd/admin-[0-9a-f]{12}\.sock$' "a directory of its own gets a derived admin socket"
ok "$([ "$sa" != "$sb" ]; echo $?)" "two directories get two admin sockets"
is "$(dval "$A/." tlsproxy_admin_socket)" "$sa" "the same directory named differently is the same instance"
like "$(dval "$A" tlsproxy_pid_file)" '^/run/tlswardd-[0-9a-f]{12}\.pid$' "and a derived pid file"

# 2. a daemon for A; the CLI for B must not touch it.
daemon_start || { daemon_log; tap_done; exit 1; }
out=$("$TLSWARD" -c "$B" reload 2>&1)
rc=$?
is "$rc" 1 "reload for another configuration directory fails"
like "$out" "error: this tlswardd serves the configuration in $(cd "$A" && pwd -P), not $(cd "$B" && pwd -P)" \
    "and says which directory the daemon serves"
unlike "$(cat "$DLOG")" 'reload requested' "the daemon of A did not reload"
like "$(cat "$DLOG")" "refused \"reload\" for the configuration in $(cd "$B" && pwd -P)" "the daemon logs the refusal"
out=$("$TLSWARD" -c "$B" status 2>&1)
is "$?" 1 "status for another configuration directory fails"
like "$out" 'this tlswardd serves the configuration in' "and says why"
out=$(TLSWARD_CONFIG_DIR=$B "$TLSWARD" status -s "$T/admin.sock" 2>&1)
like "$out" 'this tlswardd serves the configuration in' "TLSWARD_CONFIG_DIR names the instance as -c does"
out=$("$TLSWARD" -c "$A" reload 2>&1)
is "$?" 0 "reload for the daemon's own directory works"
out=$(cd "$A" && "$TLSWARD" -c . status 2>&1)
is "$?" 0 "a relative -c naming the same directory is the same instance"
# -s alone names a socket, not a directory: no main.cf is read.
out=$(TLSWARD_CONFIG_DIR= "$TLSWARD" status -s "$T/admin.sock" 2>&1)
is "$?" 0 "status -s SOCKET without -c works (no configuration directory needed)"
like "$out" "configuration $(cd "$A" && pwd -P)" "and shows the daemon"
daemon_stop

# 3. two daemons on their derived sockets, side by side (root: /run).
if [ "$(id -u)" != 0 ]; then
	skip "two daemons on derived sockets" "needs root for /run/tlswardd"
	tap_done
	exit
fi
sed -i '/^tlsproxy_admin_socket/d' "$A/main.cf" "$B/main.cf"
sed -i 's/^tlsproxy_pid_file =.*/tlsproxy_pid_file = /' "$A/main.cf" "$B/main.cf"
cp "$A/services.cf" "$B/services.cf"
daemon_start || { daemon_log; tap_done; exit 1; }
PA=$DPID
LA=$T/a.log
mv "$DLOG" "$LA"	# A keeps writing to it; B gets a new daemon.log
CONF=$B daemon_start || { daemon_log; tap_done; exit 1; }
"$TLSWARD" -c "$B" reload >/dev/null 2>&1
like "$("$TLSWARD" -c "$A" status 2>&1)" "configuration $(cd "$A" && pwd -P)\$" "A's status reaches A"
is "$(grep -c 'reload requested' "$LA")" 0 "reloading B left A alone"
is "$(grep -c 'reload requested' "$DLOG")" 1 "and reloaded B"
ok "$([ -S "$sa" ] && [ -S "$sb" ]; echo $?)" "each daemon listens on its own derived socket"
daemon_stop
DPID=$PA
daemon_stop
ok "$([ ! -e "$sa" ] && [ ! -e "$sb" ]; echo $?)" "both sockets are gone after the daemons stop"
tap_done
