#!/bin/sh
# t/02-docs.t - the manual pages describe what the code has: every
# parameter of tlswardd's own (marked "tlswardd" in the parameter table)
# is documented by name in tlsward.cf(5) with its default, and every
# tlsward subcommand has its section in tlsward(1).
. "$TOP_SRCDIR/t/lib.sh"
tap_setup

MAN5=$TOP_SRCDIR/doc/tlsward.cf.5
MAN1=$TOP_SRCDIR/doc/tlsward.1
# name default, for each entry after a "/* tlswardd */" line
awk '/\/\* tlswardd \*\// { own = 1; next }
     own && /\{ "/ { split($0, q, "\""); print q[2], q[4]; own = 0 }' \
    "$TOP_SRCDIR/common/conf_params.c" > "$T/own"
n=$(wc -l < "$T/own")
ok "$([ "$n" -ge 20 ]; echo $?)" "the parameter table marks $n parameters as tlswardd's own"
while read -r name def; do
	# on a .B/.BR line of its own or of a group: ".BR a ", " b " (def)"
	line=$(grep -E "^\.BR? (.* )?$name \"" "$MAN5" | head -n 1)
	ok "$([ -n "$line" ]; echo $?)" "tlsward.cf(5) documents $name"
	[ -z "$def" ] && continue
	# a default that names a Postfix twin may be given for the group
	twin=$(printf '%s' "$def" | sed -n 's/^\(\$smtpd*_tls_\).*/\1*/p')
	case $line in
	*"($def"*) ok 0 "tlsward.cf(5) gives $name's default ($def)" ;;
	*"($twin"*) [ -n "$twin" ]; ok $? "tlsward.cf(5) gives $name's default ($def as $twin)" ;;
	*) ok 1 "tlsward.cf(5) gives $name's default ($def)" ;;
	esac
done < "$T/own"

for c in enable-client enable-server new-server-key new-server-cert \
    deploy-server-cert output-server-csr output-server-tlsa \
    all-default-client all-default-server config check status reload \
    handoff fetch-ocsp rotate-ticket-keys; do
	# a .TP entry whose tag (.B, .BR or .BI) starts with the name
	grep -A1 '^\.TP' "$MAN1" | grep -Eq "^\.B[RI]? \"?$c( |\"|$)"
	ok $? "tlsward(1) has an entry for $c"
done

# No shipped example is an open relay: a server-role entry, commented
# out or not, never forwards to a loopback SMTP port that trusts the
# proxy's address (25, 587), in the sample files or the man pages.
for f in etc/services.cf etc/container/services.cf doc/tlsward.cf.5 \
    doc/tlswardd.8 README; do
	bad=$(sed 's/^#//' "$TOP_SRCDIR/$f" | awk '$3 == "server" &&
	    $4 ~ /^(127\.[0-9.]+|localhost|\[::1\]):(25|587)$/')
	is "$bad" "" "$f: no server-role example forwards to a trusting SMTP port"
done
like "$(cat "$MAN5")" 'open relay' "tlsward.cf(5) says why not"

# No control character but tab in the pages and the README (a "\f" that
# a script wrote as a form feed renders as garbage).
for f in "$TOP_SRCDIR"/doc/*.[1-8] "$TOP_SRCDIR/README" "$TOP_SRCDIR/NEWS"; do
	bad=$(LC_ALL=C grep -c "$(printf '[\001-\010\013-\037]')" "$f")
	is "$bad" "0" "$(basename "$f"): no control characters"
done
tap_done
