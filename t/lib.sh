# t/lib.sh - helpers for the shell tests (sourced; TAP output).
#
# Each test: . "$TOP_SRCDIR/t/lib.sh"; tap_setup; ... ok/is/like ...; tap_done
# Provides $T (a private temp dir removed on exit), $CONF (a config dir in
# it with an empty main.cf), and tw (runs $TLSWARD -c $CONF "$@").
# Runs standalone too: TLSWARD defaults to ./cli/tlsward.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${TLSWARD:=$TOP_BUILDDIR/cli/tlsward}"
: "${TESTDATA:=$TOP_SRCDIR/t/data}"
export LC_ALL=C TZ=UTC
unset TLSWARD_CONFIG_DIR

_tap_n=0
_tap_fail=0
_tap_pids=

tap_setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/tlsward-test.XXXXXX")
	CONF=$T/conf
	mkdir "$CONF"
	: > "$CONF/main.cf"
	trap tap_cleanup EXIT
}

# Kills only the pids this test registered with tap_pid, removes $T.
tap_cleanup() {
	for p in $_tap_pids; do kill "$p" 2>/dev/null; done
	[ -n "${T:-}" ] && rm -rf "$T"
}
tap_pid() { _tap_pids="$_tap_pids $1"; }

tw() { "$TLSWARD" -c "$CONF" "$@"; }

# new_key OUT [ARGS...]: tw new-server-key ARGS > OUT. Key file names
# carry the time to the second and are never overwritten, so a run in
# the same second as an earlier one fails with "already exists": that,
# and only that, is retried (up to 2 seconds).
new_key() {
	_nk_out=$1
	shift
	for _nk_try in 1 2 3 4 5 6 7 8 9 10; do
		tw new-server-key "$@" > "$_nk_out" 2>&1 && return 0
		grep -q 'already exists' "$_nk_out" || return 1
		sleep 0.2
	done
	return 1
}

ok() {	# ok CONDITION-STATUS NAME : pass when the status is 0
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"
	else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
is() {	# is GOT WANT NAME
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '# got:  %s\n# want: %s\n' "$1" "$2" | sed '2,$s/^/# /;s/^# # /# /'
		_tap_fail=$((_tap_fail + 1))
	fi
}
like() {	# like TEXT REGEX NAME (grep -E)
	_tap_n=$((_tap_n + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '%s\n' "$1" | sed 's/^/# got: /'
		echo "# want match: $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}
unlike() {	# unlike TEXT REGEX NAME
	_tap_n=$((_tap_n + 1))
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		echo "not ok $_tap_n - $3"
		printf '%s\n' "$1" | sed 's/^/# got: /'
		_tap_fail=$((_tap_fail + 1))
	else echo "ok $_tap_n - $3"; fi
}
skip() {	# skip NAME REASON: one skipped test point
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# Snapshot of a directory: names, modes and content hashes, for
# "nothing changed" assertions.
dir_state() { (cd "$1" && find . -printf '%p %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_fail" -eq 0 ]
}
