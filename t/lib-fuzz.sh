# t/lib-fuzz.sh - building and running a libFuzzer target in a shell test
# (sourced after t/lib.sh and tap_setup).
#
# fuzz_build NAME ARGS...   compiles ARGS (sources, -I, -D, -l) with clang
#                           -fsanitize=fuzzer,address,undefined into
#                           $T/NAME and passes one point; without clang or
#                           libFuzzer, or with FUZZ_SECONDS=0, the whole
#                           test is skipped, so call it before any other
#                           point.
# fuzz_run NAME WHAT DIGITS runs $T/NAME on the seeds in $T/corpus for
#                           FUZZ_SECONDS (20): one point for no crash, one
#                           for at least DIGITS-digit many inputs tried;
#                           FUZZ_ARGS adds libFuzzer options.

fuzz_build() {
	_fz_name=$1
	shift
	# The targets are built with their own sanitizers, whatever the
	# build's: one build's run is enough (.ci/run sets 0 in the others).
	[ "${FUZZ_SECONDS:-20}" = 0 ] &&
		skip_all "FUZZ_SECONDS=0 (the fuzz targets run in another build)"
	CLANG=${CLANG:-clang}
	command -v "$CLANG" >/dev/null 2>&1 ||
		skip_all "clang not installed (Debian package clang)"
	"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -I"$TOP_BUILDDIR" "$@" \
	    -o "$T/$_fz_name" > "$T/build.log" 2>&1 ||
		skip_all "cannot build a libFuzzer target: $(head -n 1 "$T/build.log")"
	ok 0 "the fuzz target builds"
}

fuzz_run() {
	_fz_secs=${FUZZ_SECONDS:-20}
	(cd "$T" && "./$1" -max_total_time="$_fz_secs" -timeout=5 \
	    -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_ARGS:-} corpus \
	    > fuzz.log 2>&1)
	_fz_rc=$?
	ok $_fz_rc "$2 survives ${_fz_secs}s of fuzzing"
	[ $_fz_rc -eq 0 ] || diag "$(tail -n 30 "$T/fuzz.log")"
	like "$(cat "$T/fuzz.log")" "stat::number_of_executed_units: [0-9]{$3,}" \
	    "at least 1$(printf '%0*d' $(($3 - 1)) 0) inputs were tried"
}
