#!/bin/sh
# t/01-usage.t - global options, subcommand dispatch, --help, exit statuses.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup

out=$("$TLSWARD" 2>&1); rc=$?
is "$rc" 2 "no subcommand: exit 2"
like "$out" '^usage: tlsward' "no subcommand: usage on stderr"

out=$(tw frobnicate 2>&1); rc=$?
is "$rc" 2 "unknown subcommand: exit 2"
like "$out" 'unknown subcommand: frobnicate' "unknown subcommand named"
for c in enable-client enable-server new-server-key new-server-cert \
    deploy-server-cert output-server-csr output-server-tlsa \
    all-default-client all-default-server config check fetch-ocsp; do
	like "$out" "  $c " "usage lists $c"
	h=$(tw "$c" --help 2>&1); rc=$?
	is "$rc" 0 "$c --help: exit 0"
	like "$h" "^usage: tlsward \[-c DIR\] \[-v\] $c" "$c --help: usage line"
done

out=$("$TLSWARD" --help); rc=$?
is "$rc" 0 "--help: exit 0"
like "$out" 'enable-server' "--help lists subcommands"

out=$("$TLSWARD" -V); rc=$?
is "$rc" 0 "-V: exit 0"
like "$out" '^tlsward [0-9]+\.[0-9]+\.[0-9]+ \(OpenSSL 3' "-V prints the version"

out=$("$TLSWARD" -Z all-default-server 2>&1); rc=$?
is "$rc" 2 "unknown global option: exit 2"

for c in enable-client enable-server new-server-key output-server-csr fetch-ocsp; do
	out=$(tw "$c" -Z 2>&1); rc=$?
	is "$rc" 2 "$c with an unknown option: exit 2"
	like "$out" "usage: tlsward .* $c" "$c with an unknown option: usage"
done

# Configuration directory: -c, else $TLSWARD_CONFIG_DIR, else built-in.
echo 'smtpd_use_tls = yes' > "$CONF/main.cf"
mkdir "$T/other"; : > "$T/other/main.cf"
TLSWARD_CONFIG_DIR=$CONF "$TLSWARD" all-default-server; rc=$?
is "$rc" 1 "TLSWARD_CONFIG_DIR selects the directory"
TLSWARD_CONFIG_DIR=$CONF "$TLSWARD" -c "$T/other" all-default-server; rc=$?
is "$rc" 0 "-c wins over TLSWARD_CONFIG_DIR"
out=$("$TLSWARD" -c "$T/nonexistent" all-default-server 2>&1); rc=$?
is "$rc" 1 "nonexistent config directory: exit 1"
like "$out" "$T/nonexistent" "nonexistent config directory named"

tap_done
