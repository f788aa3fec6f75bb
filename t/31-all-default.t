#!/bin/sh
# t/31-all-default.t - all-default-client / all-default-server: which
# settings count as "not default", silence, and usage errors.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup

out=$(tw all-default-client 2>&1); rc=$?
is "$rc" 0 "empty main.cf: client all default"
is "$out" "" "all-default-client is silent"
out=$(tw all-default-server 2>&1); rc=$?
is "$rc" 0 "empty main.cf: server all default"
is "$out" "" "all-default-server is silent"

out=$(tw all-default-server extra 2>&1); rc=$?
is "$rc" 2 "all-default-server with an argument: usage error"
out=$(tw all-default-client -x 2>&1); rc=$?
is "$rc" 2 "all-default-client with an option: usage error"

check() {	# check SIDE "SETTING" WANT-STATUS
	printf '%s\n' "$2" > "$CONF/main.cf"
	tw "all-default-$1" >/dev/null 2>&1
	is "$?" "$3" "all-default-$1 with '$2'"
}
for p in smtp_use_tls smtp_enforce_tls smtp_tls_enforce_peername \
    smtp_tls_security_level smtp_tls_cert_file smtp_tls_dcert_file \
    smtp_tls_eccert_file smtp_tls_chain_files; do
	check client "$p = no" 1
	check client "$p =" 0
	check server "$p = no" 0
done
for p in smtpd_use_tls smtpd_enforce_tls smtpd_tls_security_level \
    smtpd_tls_cert_file smtpd_tls_dcert_file smtpd_tls_eccert_file \
    smtpd_tls_chain_files; do
	check server "$p = x" 1
	check server "$p =" 0
	check client "$p = x" 0
done
# Unrelated TLS settings do not count.
check server "smtpd_tls_loglevel = 2" 0
check client "smtp_tls_loglevel = 2" 0
# Comments do not count.
check server "# smtpd_tls_cert_file = /etc/x.pem" 0

printf 'smtpd_tls_cert_file = x\nbroken line\n' > "$CONF/main.cf"
out=$(tw all-default-server 2>&1); rc=$?
is "$rc" 1 "malformed main.cf: exit 1"
like "$out" 'main.cf:2' "malformed main.cf: file:line in the message"

tap_done
