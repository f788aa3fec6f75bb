#!/bin/sh
# t/87-nonroot.t - the container deployment without a container engine:
# tlswardd started as a non-root user with no capabilities and
# no_new_privs (what runAsNonRoot, capabilities drop ALL and
# allowPrivilegeEscalation=false give it), with the image's own
# configuration (etc/container/main.cf and services.cf) in a read-only
# directory and the key and certificate in a "secret" directory it can
# only read. It serves TLS with every layer an unprivileged process can
# apply (no_new_privs, seccomp, landlock), logs to stderr, answers
# "tlsward status"/"reload" as its own user, takes a rotated key from the
# secret directory on reload, and drains on SIGTERM.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
fp() {
	openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
fp_file() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }

if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || skip_all "no setpriv (util-linux)"
	USER_NAME=nobody
	GROUP_NAME=$(id -gn nobody)
	# what the pod's securityContext gives the process (setpriv execs
	# the command: the pid stays the daemon's)
	AS_USER="setpriv --reuid=$USER_NAME --regid=$GROUP_NAME --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs"
else
	USER_NAME=$(id -un)
	GROUP_NAME=$(id -gn)
	AS_USER=
fi
# shellcheck disable=SC2086
as_user() { $AS_USER "$@"; }
chmod 755 "$T"

# The "secret": a key and certificate the user can read but not change.
mkdir "$T/keys" "$T/secrets" "$T/run" "$T/etc"
"$TLSWARD" -c "$T/keys" new-server-key localhost > "$T/k.out" 2>&1
cp "$(sed -n 's/^New self-signed certificate: //p' "$T/k.out")" "$T/secrets/tls.crt"
cp "$(sed -n 's/^New private key: //p' "$T/k.out")" "$T/secrets/tls.key"
chgrp "$GROUP_NAME" "$T/secrets" "$T/secrets"/*
chmod 0440 "$T/secrets"/*
chmod 0550 "$T/secrets"
# the writable volume for the admin socket
chown "$USER_NAME:$GROUP_NAME" "$T/run"

# The image's configuration, with the mount points moved into $T.
backend_start http
sed -e "s|/run/secrets/tlsward|$T/secrets|" -e "s|/run/tlsward|$T/run|" \
    "$TOP_SRCDIR/etc/container/main.cf" > "$T/etc/main.cf"
sed -e "s|\*:8443|127.0.0.1:0|" -e "s|127.0.0.1:8080|127.0.0.1:$BPORT|" \
    "$TOP_SRCDIR/etc/container/services.cf" > "$T/etc/services.cf"
chmod 0444 "$T/etc"/*
chmod 0555 "$T/etc"
out=$(as_user touch "$T/etc/x" 2>&1)
ok "$([ $? != 0 ]; echo $?)" "the configuration directory is read-only for $USER_NAME"
out=$(as_user sh -c ": > '$T/secrets/tls.key'" 2>&1)
ok "$([ $? != 0 ]; echo $?)" "the secret files are read-only for $USER_NAME"

DLOG=$T/daemon.log
# shellcheck disable=SC2086
$AS_USER "$TLSWARDD" -f -c "$T/etc" > "$T/stdout" 2> "$DLOG" &
DPID=$!
tap_pid "$DPID"
if ! wait_log 'worker [0-9]+ started|not starting|could not start' 10 ||
    ! grep -q 'worker [0-9]* started' "$DLOG"; then
	diag "tlswardd did not start:" "$(cat "$DLOG")"
	tap_done; exit 1
fi
ok 0 "tlswardd starts as $USER_NAME with the image's configuration"
is "$(wc -c < "$T/stdout")" 0 "it logs to stderr only"
like "$(cat "$DLOG")" '^tlswardd: worker: serving 1 service' "stderr has the log lines"
port=$(port_of https)
is "$(curl -sk --max-time 5 "https://127.0.0.1:$port/")" "hello" "it serves TLS"
is "$(fp "$port")" "$(fp_file "$T/secrets/tls.crt")" "with the certificate from the secret directory"

w=$(worker_pid)
uid=$(id -u "$USER_NAME")
for p in "$DPID" "$w"; do
	[ "$p" = "$DPID" ] && who=supervisor || who=worker
	is "$(status_field "$p" Uid | awk '{print $1 $2 $3 $4}')" "$uid$uid$uid$uid" "$who runs as $USER_NAME"
	is "$(status_field "$p" CapEff)" 0000000000000000 "$who has no effective capabilities"
	is "$(status_field "$p" NoNewPrivs)" 1 "$who has no_new_privs"
done
for f in CapPrm CapBnd CapAmb; do
	is "$(status_field "$w" $f)" 0000000000000000 "worker $f is empty"
done
is "$(status_field "$w" Seccomp)" 2 "worker is under its seccomp filter"
like "$(cat "$DLOG")" 'sandbox enforce' "in mode enforce"
abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))' 2>/dev/null)
if [ "${abi:--1}" -ge 1 ] 2>/dev/null; then
	unlike "$(cat "$DLOG")" 'no landlock' "landlock applied (the kernel has ABI $abi; no fallback was logged)"
else
	skip "landlock applied" "this kernel has no landlock"
fi
keys=$(for fd in /proc/"$w"/fd/*; do readlink "$fd"; done | grep -c "$T/secrets")
is "$keys" 0 "the worker holds no file of the secret directory open"

# The admin socket: the daemon's own user (and root) only.
is "$(stat -c '%a %U' "$T/run/admin.sock")" "600 $USER_NAME" "the admin socket is 0600 and the daemon user's"
out=$(as_user "$TLSWARD" -c "$T/etc" status); rc=$?
is "$rc" 0 "tlsward status as $USER_NAME (the probes' command)"
like "$out" "service https \(server, listen 127\.0\.0\.1:0\)" "status lists the service"
as_user "$TLSWARD" -c "$T/etc" status -q
ok $? "status -q (liveness/readiness) succeeds"

# Key rotation in the container: new files appear in the secret
# directory (the kubelet swaps them atomically), then tlsward reload.
sleep 1	# key file names carry the time to the second
"$TLSWARD" -c "$T/keys" new-server-key localhost > "$T/k2.out" 2>&1
chmod 0750 "$T/secrets"
cp "$(sed -n 's/^New self-signed certificate: //p' "$T/k2.out")" "$T/secrets/.tls.crt"
cp "$(sed -n 's/^New private key: //p' "$T/k2.out")" "$T/secrets/.tls.key"
chgrp "$GROUP_NAME" "$T/secrets"/.tls.*
chmod 0440 "$T/secrets"/.tls.*
mv "$T/secrets/.tls.crt" "$T/secrets/tls.crt"
mv "$T/secrets/.tls.key" "$T/secrets/tls.key"
chmod 0550 "$T/secrets"
out=$(as_user "$TLSWARD" -c "$T/etc" reload); rc=$?
is "$rc" 0 "tlsward reload as $USER_NAME after the secret changed"
is "$out" "tlswardd: configuration reloaded (generation 2)" "it reports the new generation"
is "$(fp "$port")" "$(fp_file "$T/secrets/tls.crt")" "new sessions get the rotated certificate"
is "$(worker_pid)" "$w" "without a new worker"

kill -TERM "$DPID"
for i in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
is "$?" 0 "SIGTERM: drained and exited 0"
like "$(cat "$DLOG")" 'worker: all sessions finished' "the drain is logged"
tap_done
