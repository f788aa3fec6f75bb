#!/bin/sh
# t/12-config-fuzz.t - builds the libFuzzer target for the configuration
# engine (t/fuzz/fuzz_config.c + common/: main.cf parsing, expansion,
# typed values, services.cf, main.cf editing) with clang and runs it for
# a bounded time (FUZZ_SECONDS, default 20) from a small seed corpus.
# Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang not installed (Debian package clang)"
secs=${FUZZ_SECONDS:-20}
C=$TOP_SRCDIR/common

"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -DTLSWARD_CONFDIR='"/nonexistent"' \
    -I"$TOP_BUILDDIR" -I"$C" "$TOP_SRCDIR/t/fuzz/fuzz_config.c" \
    "$C/conf.c" "$C/conf_expand.c" "$C/conf_params.c" "$C/conf_types.c" \
    "$C/conf_edit.c" "$C/services.c" "$C/util.c" "$C/log.c" "$C/fileio.c" \
    -lcrypto -o "$T/fuzz_config" > "$T/build.log" 2>&1 ||
	skip_all "cannot build a libFuzzer target: $(head -n 1 "$T/build.log")"
ok 0 "the fuzz target builds"

# Seeds: main.cf, NUL, services.cf, NUL, a value to set with an edit.
mkdir "$T/corpus"
printf 'myhostname = mx.example.org\nmydomain = example.org\ntlsproxy_tls_cert_file = ${config_directory}/cert.pem\nx = $y\ny = $x\n  continued\ntlsproxy_tls_protocols = >=TLSv1.2, !SSLv3\nsmtpd_tls_session_cache_timeout = 1h\n\000https 127.0.0.1:8443 server 127.0.0.1:8080 -o tlsproxy_tls_security_level=may\nrelay [::1]:10465 client mail.example.net:465\n -o a=b\nhand unix:private/x control -\n\000/etc/x.pem' > "$T/corpus/full"
printf '# comment\r\na = ${b?{$c}:{d}} $(e) ${f:g}\r\n\tmore\r\nb = yes\r\nc = 100d\r\n\000p - server -\r\n\000 spaced value ' > "$T/corpus/crlf"
printf 'tlsproxy_watchdog_timeout = $tlsproxy_watchdog_timeout\n\000' > "$T/corpus/loop"
(cd "$T" && ./fuzz_config -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus > fuzz.log 2>&1)
rc=$?
ok $rc "the configuration engine survives ${secs}s of fuzzing"
[ $rc -eq 0 ] || diag "$(tail -n 30 "$T/fuzz.log")"
like "$(cat "$T/fuzz.log")" 'stat::number_of_executed_units: [0-9]{4,}' "thousands of inputs were tried"
tap_done
