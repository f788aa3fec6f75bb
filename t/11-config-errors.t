#!/bin/sh
# t/11-config-errors.t - "tlsward config" failures: malformed main.cf
# (file:line), expansion loops (the chain), bad typed values via -e (file
# untouched), usage errors (exit 2), unknown names, a missing config
# directory, a read-only config directory (chattr +i, else a read-only
# tmpfs) and a full file system (tiny tmpfs). On every failure: exit 1
# or 2, one "tlsward: fatal:" line, main.cf unchanged, no temporary file.
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$TOP_SRCDIR/t/lib.sh"
tap_setup

_mounts=
_immutable=
cleanup() {
	for d in $_immutable; do chattr -i "$d" 2>/dev/null; done
	for m in $_mounts; do umount "$m" 2>/dev/null; done
	tap_cleanup
}
trap cleanup EXIT

skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $1"; }

# run ARGS...: runs tw, leaving $rc, $out (stdout) and $err (stderr).
run() {
	tw "$@" > "$T/out" 2> "$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# --- malformed main.cf -------------------------------------------------

printf '# ok\nsmtpd_use_tls = yes\n\nthis line is bad\n' > "$CONF/main.cf"
run config
is "$rc" 1 "malformed line: exit 1"
is "$err" "tlsward: fatal: $CONF/main.cf:4: missing \"=\" in \"this line is bad\"" \
	"malformed line: message names file:line"
is "$out" "" "malformed line: nothing on stdout"

printf '  orphan = 1\n' > "$CONF/main.cf"
run config -n
is "$err" "tlsward: fatal: $CONF/main.cf:1: continuation line without a parameter before it" \
	"continuation line first: message"

printf 'a = 1\nb-c = 2\n' > "$CONF/main.cf"
run config
is "$err" "tlsward: fatal: $CONF/main.cf:2: invalid parameter name \"b-c\"" \
	"invalid name in main.cf: message"

cp "$CONF/main.cf" "$T/keep.cf"
run config -e 'smtpd_use_tls = yes'
is "$rc" 1 "-e on a malformed main.cf: exit 1"
cmp -s "$T/keep.cf" "$CONF/main.cf"
ok "$?" "-e on a malformed main.cf: file unchanged"

# --- expansion loops ----------------------------------------------------

printf 'smtpd_tls_cert_file = $loop_a\nloop_a = ${loop_b}\nloop_b = $(smtpd_tls_cert_file)\n' \
	> "$CONF/main.cf"
run config -n
is "$rc" 0 "a loop is harmless without -x (raw values)"
run config -x tlsproxy_tls_cert_file
is "$rc" 1 "loop with -x: exit 1"
is "$err" "tlsward: fatal: parameter tlsproxy_tls_cert_file: expansion loop: tlsproxy_tls_cert_file -> smtpd_tls_cert_file -> loop_a -> loop_b -> smtpd_tls_cert_file" \
	"loop: message names the chain"
run config -nx
like "$err" "^tlsward: fatal: $CONF/main.cf:2: parameter loop_a: expansion loop: loop_a -> loop_b -> smtpd_tls_cert_file -> loop_a\$" \
	"loop with -nx: file:line and chain"
is "$out" "" "loop: nothing printed on stdout"

# --- bad values via -e ---------------------------------------------------

printf '# keep me\nsmtpd_use_tls = no\nx_word = maybe\n' > "$CONF/main.cf"
chmod 600 "$CONF/main.cf"
before=$(dir_state "$CONF")
bad_value() {	# bad_value ASSIGNMENT MESSAGE
	run config -e "$1"
	is "$rc" 1 "-e '$1': exit 1"
	is "$err" "tlsward: fatal: $2" "-e '$1': message"
	is "$(dir_state "$CONF")" "$before" "-e '$1': directory unchanged"
}
bad_value 'smtpd_use_tls = maybe' \
	'parameter smtpd_use_tls: invalid boolean value "maybe" (want yes or no)'
bad_value 'smtpd_use_tls = $x_word' \
	'parameter smtpd_use_tls: invalid boolean value "maybe" (want yes or no)'
bad_value 'tlsproxy_watchdog_timeout = 10 parsecs' \
	'parameter tlsproxy_watchdog_timeout: invalid time value "10 parsecs" (want a number >= 0 with an optional unit s, m, h, d or w)'
bad_value 'smtpd_tls_protocols = >=TLSv1.3, <=TLSv1.2' \
	'parameter smtpd_tls_protocols: protocol list ">=TLSv1.3, <=TLSv1.2" enables no protocol'
bad_value 'smtp_tls_security_level = paranoid' \
	'parameter smtp_tls_security_level: invalid security level "paranoid" (want none, may, encrypt, fingerprint, verify, secure, dane or dane-only)'
bad_value 'smtpd_tls_loglevel = -1' \
	'parameter smtpd_tls_loglevel: invalid integer value "-1" (want a decimal number >= 0)'
bad_value 'zz_self = $zz_self' \
	'parameter zz_self: expansion loop: zz_self -> zz_self'
bad_value 'bad-name = 1' \
	"$CONF/main.cf: invalid parameter name \"bad-name\""

run config -e 'smtpd_use_tls = yes' 'smtpd_tls_loglevel = lots'
is "$rc" 1 "one bad value among good ones: exit 1"
is "$(dir_state "$CONF")" "$before" "one bad value: nothing written"

run config -X 'bad name'
is "$rc" 1 "-X with an invalid name: exit 1"
is "$err" "tlsward: fatal: $CONF/main.cf: invalid parameter name \"bad name\"" \
	"-X with an invalid name: message"

# --- usage errors -------------------------------------------------------

usage_error() {	# usage_error NAME ARGS...
	name=$1; shift
	run "$@"
	is "$rc" 2 "$name: exit 2"
	like "$err" '^usage: tlsward \[-c DIR\] \[-v\] config ' "$name: usage line"
	is "$(dir_state "$CONF")" "$before" "$name: directory unchanged"
}
usage_error "unknown option" config -q
like "$err" '^tlsward: fatal: unknown option -q$' "unknown option: message"
usage_error "-e and -X" config -e -X a=1
usage_error "-e with -n" config -n -e a=1
usage_error "-n with -d" config -n -d
usage_error "-e without arguments" config -e
usage_error "-X without arguments" config -X
usage_error "-e without =" config -e smtpd_use_tls
like "$err" "^tlsward: fatal: -e smtpd_use_tls: missing \"=\"" \
	"-e without =: message"

# --- unknown names, missing directory -----------------------------------

run config smtpd_use_tls no_such_parameter
is "$rc" 1 "unknown parameter: exit 1"
is "$err" "tlsward: fatal: unknown parameter: no_such_parameter" \
	"unknown parameter: message"
is "$out" "" "unknown parameter: nothing printed"
run config -d x_word
is "$rc" 1 "-d: a name only main.cf sets is unknown"

"$TLSWARD" -c "$T/no-such-dir" config > "$T/out" 2> "$T/err"
is "$?" 1 "missing config directory: exit 1"
is "$(cat "$T/err")" "tlsward: fatal: cannot open configuration directory $T/no-such-dir: No such file or directory" \
	"missing config directory: message"
"$TLSWARD" -c "$T/no-such-dir" config -e 'a = 1' 2> /dev/null
is "$?" 0 "missing config directory, -e: created on first write (a fresh install)"
is "$(cat "$T/no-such-dir/main.cf" 2>&1)" "a = 1" "missing config directory: main.cf written there"

# --- read-only config directory -----------------------------------------

RO=$T/ro
mkdir "$RO"
printf 'smtpd_use_tls = no\n' > "$RO/main.cf"
ro_how=
if chattr +i "$RO" 2>/dev/null; then
	_immutable="$RO"
	ro_how="chattr +i"
elif mkdir "$T/rofs" && mount -t tmpfs -o size=64k tmpfs "$T/rofs" 2>/dev/null; then
	_mounts="$T/rofs $_mounts"
	cp "$RO/main.cf" "$T/rofs/main.cf"
	if mount -o remount,ro "$T/rofs" 2>/dev/null; then
		RO=$T/rofs
		ro_how="read-only tmpfs"
	fi
fi
if [ -n "$ro_how" ]; then
	ro_before=$(dir_state "$RO")
	"$TLSWARD" -c "$RO" config -e 'smtpd_use_tls = yes' > "$T/out" 2> "$T/err"
	is "$?" 1 "read-only directory ($ro_how): exit 1"
	like "$(cat "$T/err")" "^tlsward: fatal: cannot create a temporary file beside $RO/main.cf: " \
		"read-only directory: message names the file"
	is "$(dir_state "$RO")" "$ro_before" "read-only directory: unchanged"
	is "$("$TLSWARD" -c "$RO" config -n)" "smtpd_use_tls = no" \
		"read-only directory: still readable"
else
	skip "read-only directory: neither chattr +i nor a tmpfs mount works here"
fi

# --- full file system ---------------------------------------------------

FULL=$T/full
mkdir "$FULL"
if mount -t tmpfs -o size=8k,nr_inodes=64 tmpfs "$FULL" 2>/dev/null; then
	_mounts="$FULL $_mounts"
	printf '# small\nsmtpd_use_tls = no\n' > "$FULL/main.cf"
	dd if=/dev/zero of="$FULL/filler" bs=1024 count=64 2>/dev/null
	full_before=$(dir_state "$FULL")
	"$TLSWARD" -c "$FULL" config -e 'smtpd_use_tls = yes' \
		'smtpd_tls_cert_file = /a/long/enough/path/to/need/a/new/block.pem' \
		> "$T/out" 2> "$T/err"
	is "$?" 1 "full file system: exit 1"
	like "$(cat "$T/err")" "^tlsward: fatal: cannot write $FULL/\\.main\\.cf\\.tmp[^ ]*: No space left on device\$" \
		"full file system: message says why"
	is "$(dir_state "$FULL")" "$full_before" \
		"full file system: main.cf unchanged, no temporary file left"
	umount "$FULL" && _mounts=${_mounts#"$FULL "}
else
	skip "full file system: mount -t tmpfs is not permitted here"
fi

tap_done
