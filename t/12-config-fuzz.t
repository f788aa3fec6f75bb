#!/bin/sh
# t/12-config-fuzz.t - builds the libFuzzer target for the configuration
# engine (t/fuzz/fuzz_config.c + common/: main.cf parsing, expansion,
# typed values, services.cf, main.cf editing) with clang and runs it for
# a bounded time (FUZZ_SECONDS, default 20) from a small seed corpus.
# Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
C=$TOP_SRCDIR/common
fuzz_build fuzz_config -I"$C" \
    "$TOP_SRCDIR/t/fuzz/fuzz_config.c" "$C/conf.c" "$C/conf_expand.c" \
    "$C/conf_params.c" "$C/conf_pfnames.c" "$C/conf_instance.c" \
    "$C/conf_types.c" "$C/conf_edit.c" \
    "$C/services.c" "$C/util.c" "$C/log.c" "$C/fileio.c" -lcrypto

# Seeds: main.cf, NUL, services.cf, NUL, a value to set with an edit.
mkdir "$T/corpus"
printf 'myhostname = mx.example.org\nmydomain = example.org\ntlsproxy_tls_cert_file = ${config_directory}/cert.pem\nx = $y\ny = $x\n  continued\ntlsproxy_tls_protocols = >=TLSv1.2, !SSLv3\nsmtpd_tls_session_cache_timeout = 1h\n\000https 127.0.0.1:8443 server 127.0.0.1:8080 -o tlsproxy_tls_security_level=may\nrelay [::1]:10465 client mail.example.net:465\n -o a=b\nhand unix:private/x control -\n\000/etc/x.pem' > "$T/corpus/full"
printf '# comment\r\na = ${b?{$c}:{d}} $(e) ${f:g}\r\n\tmore\r\nb = yes\r\nc = 100d\r\n\000p - server -\r\n\000 spaced value ' > "$T/corpus/crlf"
printf 'tlsproxy_watchdog_timeout = $tlsproxy_watchdog_timeout\n\000' > "$T/corpus/loop"
fuzz_run fuzz_config "the configuration engine" 4
tap_done
