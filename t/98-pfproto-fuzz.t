#!/bin/sh
# t/98-pfproto-fuzz.t - builds the libFuzzer target for the tlsproxy(8)
# protocol codec (t/fuzz/fuzz_pfproto.c + daemon/worker/pfattr.c and
# daemon/worker/pfproto.c) with clang and runs it for a bounded time
# (FUZZ_SECONDS, default 20) from postscreen's request and lists like
# it. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
D=$TOP_SRCDIR/daemon/worker
fuzz_build fuzz_pfproto -I"$D" -I"$TOP_SRCDIR/common" \
    "$TOP_SRCDIR/t/fuzz/fuzz_pfproto.c" "$D/pfattr.c" "$D/pfproto.c" \
    "$TOP_SRCDIR/common/util.c" "$TOP_SRCDIR/common/log.c" -lcrypto

mkdir "$T/corpus"
printf 'remote_endpoint\000[127.0.0.1]:44554\000flags\0001\000timeout\000300\000timeout\000300\000serverid\000smtpd\000\000' > "$T/corpus/postscreen"
printf 'remote_endpoint\000[::1]:25\000flags\0005\000timeout\00060\000timeout\0003600\000serverid\000smtpd\000\000' > "$T/corpus/smtpd"
printf 'protocol\000tlsproxy_protocol\000\000' > "$T/corpus/greeting"
printf 'status\0001\000\000' > "$T/corpus/status"
fuzz_run fuzz_pfproto "the codec" 4
tap_done
