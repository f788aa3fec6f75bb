#!/bin/sh
# t/54-proxyproto-fuzz.t - builds the libFuzzer target for the PROXY
# protocol codec (t/fuzz/fuzz_proxyproto.c + daemon/worker/proxyproto.c)
# with clang and runs it for a bounded time (FUZZ_SECONDS, default 20)
# from v1 and v2 headers. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
D=$TOP_SRCDIR/daemon/worker
fuzz_build fuzz_proxyproto -I"$D" \
    "$TOP_SRCDIR/t/fuzz/fuzz_proxyproto.c" "$D/proxyproto.c"

mkdir "$T/corpus"
printf 'PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n\026\003\001' > "$T/corpus/v1-tcp4"
printf 'PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n' > "$T/corpus/v1-tcp6"
printf 'PROXY UNKNOWN\r\n' > "$T/corpus/v1-unknown"
printf '\r\n\r\n\000\r\nQUIT\n\041\021\000\027\300\000\002\007\306\063\144\001\334\004\001\273\002\000\003a.b' > "$T/corpus/v2-tcp4"
printf '\r\n\r\n\000\r\nQUIT\n\040\000\000\000' > "$T/corpus/v2-local"
fuzz_run fuzz_proxyproto "the PROXY codec" 4
tap_done
