#!/bin/sh
# t/42-check-shared.t - "tlsward check" judges a configuration as
# "tlswardd -t" (and a start) does, with the same code: services.cf, the
# per-service parameters and overrides, the key material and every TLS
# context. Each error line of -t is an error line of check; both fail or
# both pass. Without a services.cf (a Postfix directory) check looks at
# main.cf and the keys only, and says so with -v.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

daemon_setup || skip_all "tlsward enable-server failed"

# same NAME WANT-STATUS [REGEX]: -t and check agree on the outcome, every
# error of -t is reported by check, and check has an error matching REGEX
same() {
	t_out=$("$TLSWARDD" -c "$CONF" -t 2>&1); t_rc=$?
	c_out=$(tw check 2>&1); c_rc=$?
	is "$t_rc" "$2" "$1: tlswardd -t exits $2"
	is "$c_rc" "$2" "$1: tlsward check exits $2"
	missing=$(printf '%s\n' "$t_out" | sed -n 's/^tlswardd: error: //p' |
	    grep -v "^$CONF: [0-9]* errors\?\$" | while IFS= read -r l; do
		printf '%s\n' "$c_out" | grep -qxF "error: $l" || printf '%s\n' "$l"
	done)
	is "$missing" "" "$1: check reports every error of -t, in the same words"
	[ -n "${3:-}" ] && like "$c_out" "^error: $3" "$1: the error names what is wrong"
	[ "$2" = 0 ] || like "$c_out" '^check: [1-9][0-9]* errors?, ' "$1: counted in the summary"
}

services "s 127.0.0.1:0 server 127.0.0.1:1"
same "a good configuration" 0

# the report of the issue: garbage in services.cf was "0 errors"
printf 'this is no service line\n' > "$CONF/services.cf"
same "garbage in services.cf" 1 "$CONF/services\\.cf:1: "

services "s 127.0.0.1:0 server 127.0.0.1:1 -o tlsproxy_tls_security_level=bogus"
same "a bad -o value" 1 'service s: parameter tlsproxy_tls_security_level: invalid security level "bogus"'

services "s 127.0.0.1:0 server 127.0.0.1:1 -o tlsproxy_user=root"
same "a daemon-wide -o" 1 'service s: -o tlsproxy_user: a daemon-wide parameter'

services "s 127.0.0.1:0 server 127.0.0.1:1 -o tlsproxy_tls_CAfile=$T/none.pem"
same "a missing CA file of one service" 1 "service s: parameter tlsproxy_tls_CAfile: cannot open $T/none\\.pem"

services "s 127.0.0.1:0 server 127.0.0.1:1 -o tlsproxy_tls_ciphers=high -o tlsproxy_tls_exclude_ciphers=ALL -o tlsproxy_tls_security_level=may"
same "a TLS context OpenSSL refuses" 1 'service s: parameter tlsproxy_tls_ciphers: cipher grade "high"'

services "c 127.0.0.1:0 client localhost:1 -o tlsproxy_client_security_level=dane"
same "a client level tlswardd cannot serve" 1 'service c: parameter tlsproxy_client_security_level: level dane needs DNSSEC'

services "s 127.0.0.1:0 server 127.0.0.1:1 -o tlsproxy_tls_security_level=verify"
same "a warning of the start is a warning of check" 0
like "$c_out" '^warning: service s: tlsproxy_tls_security_level = verify: the server role runs it as encrypt' \
    "the warning of -t is a warning line of check"

# main.cf: one finding, not two (check runs main.cf through the same code)
services "s 127.0.0.1:0 server 127.0.0.1:1"
echo 'no_such_parameter_anywhere = 1' >> "$CONF/main.cf"
same "an unknown main.cf parameter" 0
is "$(printf '%s\n' "$c_out" | grep -c 'unknown parameter no_such_parameter_anywhere')" 1 \
    "an unknown parameter is reported once"

# a Postfix directory: no services.cf
rm "$CONF/services.cf"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 1 "no services.cf: tlswardd -t refuses"
out=$(tw -v check 2>&1); rc=$?
is "$rc" 0 "no services.cf: tlsward check checks main.cf and keys (a Postfix directory)"
like "$out" "^ok: $CONF/services\\.cf does not exist: checking main\\.cf and the server keys only" \
    "no services.cf: -v says what was not checked"

tap_done
