#!/bin/sh
# t/95-handoff-fuzz.t - builds the libFuzzer target for the hand-off
# request parser (t/fuzz/fuzz_handoff.c + daemon/worker/control.c) with clang
# and runs it for a bounded time (FUZZ_SECONDS, default 20) from a small
# seed corpus. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
fuzz_build fuzz_handoff -I"$TOP_SRCDIR/daemon/worker" \
    "$TOP_SRCDIR/t/fuzz/fuzz_handoff.c" "$TOP_SRCDIR/daemon/worker/control.c"

mkdir "$T/corpus"
printf 'version=1\nrole=server\npeer=[192.0.2.1]:25\nreport=yes\n\n' > "$T/corpus/server"
printf 'version=1\nrole=client\npeer=x\nservername=mx.example.org\nlevel=fingerprint\nfingerprint=AA:BB\nhandshake_timeout=10\nidle_timeout=300\nprofile=p\n\n' > "$T/corpus/client"
printf 'version=2\n\n' > "$T/corpus/version"
fuzz_run fuzz_handoff "the parser" 4
tap_done
