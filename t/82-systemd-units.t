#!/bin/sh
# t/82-systemd-units.t - etc/tlswardd.service (as this build made it from
# etc/tlswardd.service.in, with the configured paths) and
# etc/tlswardd.socket: systemd-analyze verify accepts them (with their
# binaries pointed at this build and their Documentation= man pages found
# in doc/), the offline security analysis rates them, and they say what
# the daemon needs (Type=notify, -f, ExecReload, the hardening list, a
# socket name a services.cf entry can take). t/03-install.t checks the
# installed units' paths.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
command -v systemd-analyze >/dev/null 2>&1 ||
	skip_all "no systemd-analyze (Debian package systemd)"

SVC=$TOP_BUILDDIR/etc/tlswardd.service
SOCK=$TOP_SRCDIR/etc/tlswardd.socket
[ -f "$SVC" ] || skip_all "$SVC not built"
# This build's programs instead of the installed ones.
here() {
	sed -E -e "s#=[^ ]*/tlswardd( |\$)#=$TLSWARDD\\1#" \
	    -e "s#=[^ ]*/tlsward( |\$)#=$TLSWARD\\1#" "$@"
}
mkdir -p "$T/units" "$T/man/man1" "$T/man/man5" "$T/man/man8"
here "$SVC" > "$T/units/tlswardd.service"
cp "$SOCK" "$T/units/tlswardd.socket"
ln -s "$TOP_SRCDIR/doc/tlsward.1" "$T/man/man1/"
ln -s "$TOP_SRCDIR/doc/tlsward.cf.5" "$T/man/man5/"
ln -s "$TOP_SRCDIR/doc/tlswardd.8" "$T/man/man8/"

out=$(cd "$T/units" && MANPATH=$T/man systemd-analyze verify tlswardd.service tlswardd.socket 2>&1)
rc=$?
is "$rc" 0 "systemd-analyze verify accepts both units"
[ -n "$out" ] && diag "$out"

if sec=$(cd "$T/units" && systemd-analyze security --offline=yes --man=no tlswardd.service 2>/dev/null); then
	level=$(echo "$sec" | sed -n 's/.*Overall exposure level for tlswardd.service: \([0-9.]*\).*/\1/p')
	diag "systemd-analyze security: exposure level $level"
	ok "$(awk -v l="$level" 'BEGIN { exit !(l != "" && l + 0 <= 5.0) }'; echo $?)" \
	    "offline security analysis: exposure level $level is at most 5.0 (OK)"
else
	skip "offline security analysis" "systemd-analyze security --offline needs systemd >= 250"
fi

key() { sed -n "s/^$1=//p" "$2"; }
is "$(key Type "$SVC")" notify "Type=notify"
like "$(key ExecStart "$SVC")" '/tlswardd -f( |$)' "ExecStart runs tlswardd in the foreground (-f)"
like "$(key ExecReload "$SVC")" '/tlsward .*reload$' "ExecReload is tlsward reload (reports errors)"
is "$(key KillMode "$SVC")" mixed "KillMode=mixed: SIGTERM to the supervisor, which drains"
for d in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
    ProtectKernelLogs=yes "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
    RestrictNamespaces=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
    SystemCallArchitectures=native; do
	ok "$(grep -qx "$d" "$SVC"; echo $?)" "hardening: $d"
done
caps=$(key CapabilityBoundingSet "$SVC" | tr ' ' '\n' | sort | tr '\n' ' ')
is "$caps" "CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_SETGID CAP_SETPCAP CAP_SETUID " \
    "CapabilityBoundingSet: only what the supervisor uses"
like "$(key RuntimeDirectory "$SVC")" '^tlswardd$' "RuntimeDirectory for the default admin socket"
like "$("$TLSWARD" -c "$T" config -d tlsproxy_admin_socket)" \
    '^tlsproxy_admin_socket = /run/tlswardd/admin-[0-9a-f]{12}\.sock$' \
    "which is where every instance's admin socket is by default"

name=$(key FileDescriptorName "$SOCK")
is "$name" https "the socket is named (FileDescriptorName=)"
like "$(cat "$SOCK")" "#[[:space:]]+$name[[:space:]]+systemd[[:space:]]+server" \
    "and its comment shows the services.cf entry that takes it"

# The ExecStartPre check is the daemon's -t: run it on a real config.
daemon_setup
backend_start http
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT"
pre=$(key ExecStartPre "$T/units/tlswardd.service" | sed -e "s|-c [^ ]*|-c $CONF|")
out=$($pre 2>&1)
is "$?" 0 "ExecStartPre (tlswardd -t) passes on a good configuration"
tap_done
