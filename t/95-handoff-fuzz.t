#!/bin/sh
# t/95-handoff-fuzz.t - builds the libFuzzer target for the hand-off
# request parser (t/fuzz/fuzz_handoff.c + daemon/control.c) with clang
# and runs it for a bounded time (FUZZ_SECONDS, default 20) from a small
# seed corpus. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang not installed (Debian package clang)"
secs=${FUZZ_SECONDS:-20}

"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$TOP_BUILDDIR" -I"$TOP_SRCDIR/daemon" \
    "$TOP_SRCDIR/t/fuzz/fuzz_handoff.c" "$TOP_SRCDIR/daemon/control.c" \
    -o "$T/fuzz_handoff" > "$T/build.log" 2>&1 ||
	skip_all "cannot build a libFuzzer target: $(head -n 1 "$T/build.log")"
ok 0 "the fuzz target builds"

mkdir "$T/corpus"
printf 'version=1\nrole=server\npeer=[192.0.2.1]:25\nreport=yes\n\n' > "$T/corpus/server"
printf 'version=1\nrole=client\npeer=x\nservername=mx.example.org\nlevel=fingerprint\nfingerprint=AA:BB\nhandshake_timeout=10\nidle_timeout=300\nprofile=p\n\n' > "$T/corpus/client"
printf 'version=2\n\n' > "$T/corpus/version"
(cd "$T" && ./fuzz_handoff -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 \
    -print_final_stats=1 corpus > fuzz.log 2>&1)
rc=$?
ok $rc "the parser survives ${secs}s of fuzzing"
[ $rc -eq 0 ] || diag "$(tail -n 30 "$T/fuzz.log")"
like "$(cat "$T/fuzz.log")" 'stat::number_of_executed_units: [0-9]{4,}' "thousands of inputs were tried"
tap_done
