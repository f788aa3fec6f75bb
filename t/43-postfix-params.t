#!/bin/sh
# t/43-postfix-params.t - tlsward and Postfix 3.7 on the same main.cf,
# compared with Debian's postfix package (its postconf(1) only; no Postfix
# runs): every name "postconf -d" prints is known (no "unknown parameter"
# warning, for Debian's stock main.cf either) while names neither knows
# are still warned about; every default of a parameter tlsward knows is
# Postfix's, but the deviations conf_params.c lists; myhostname, mydomain,
# $data_directory and $mail_name expand as in Postfix.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v postconf >/dev/null ||
    { echo "1..0 # SKIP postconf(1) is not installed (Debian package postfix)"; exit 77; }
pc() { postconf -c "$CONF" "$@" 2>/dev/null; }
: > "$CONF/main.cf"
# Debian's stock master.cf: postconf -d then also prints the parameters
# of its transports (bsmtp_*, uucp_*, ...), 1043 names in all
for m in /usr/share/postfix/master.cf.dist /etc/postfix/master.cf; do
	[ -r "$m" ] && { cp "$m" "$CONF/master.cf"; break; }
done
case $(pc -h mail_version) in
3.7.*) ;;
*) echo "1..0 # SKIP Postfix $(pc -h mail_version) is not 3.7"; exit 77 ;;
esac

# ---------------------------------------------------------------- names
pc -d > "$T/postconf-d"
[ -s "$T/postconf-d" ] || { echo "1..0 # SKIP postconf -d printed nothing"; exit 77; }
# every name with Postfix's default as its value: tlsward knows them all
cp "$T/postconf-d" "$CONF/main.cf"
out=$(tw check 2>&1)
is "$(printf '%s\n' "$out" | grep -c 'unknown parameter')" 0 \
    "all $(wc -l < "$T/postconf-d") names of postconf -d: none is unknown to tlsward"

# Debian's stock main.cf (as the package installs it), and a copy of the
# one the package made here, if any
stock=/usr/share/postfix/main.cf.debian
if [ -r "$stock" ]; then
	cp "$stock" "$CONF/main.cf"
	[ -r /etc/postfix/main.cf ] && cat /etc/postfix/main.cf >> "$CONF/main.cf"
	out=$(tw check 2>&1)
	is "$(printf '%s\n' "$out" | grep 'unknown parameter')" "" \
	    "Debian's stock main.cf: no unknown-parameter warning"
	printf 'smtpd_tls_cert_flie = /x\nno_such_parameter = 1\n' >> "$CONF/main.cf"
	out=$(tw check 2>&1)
	is "$(printf '%s\n' "$out" | sed -n 's/.*unknown parameter //p' | sort | tr '\n' ' ')" \
	    "no_such_parameter smtpd_tls_cert_flie " \
	    "a typo and an invented name are still warned about, and only they"
else
	skip "Debian's stock main.cf" "$stock is missing"
	skip "unknown names beside the stock main.cf" "$stock is missing"
fi

# ---------------------------------------------------------------- defaults
: > "$CONF/main.cf"
tw config -d > "$T/tlsward-d" 2>&1
# parameter = value lines of tlsward that postconf -d has too
bad=$(while IFS= read -r line; do
	name=${line%% =*}
	want=$(grep -m1 "^$name =" "$T/postconf-d") || continue	# tlswardd's own
	case $name in	# the deviations listed in conf_params.c
	config_directory|smtpd_starttls_timeout|\
	smtp_tls_dane_insecure_mx_policy) continue ;;
	# Postfix prints its level expression; compared evaluated below
	smtp_tls_fingerprint_digest|smtpd_tls_fingerprint_digest) continue ;;
	esac
	[ "$line" = "$want" ] || printf '%s (postconf: %s)\n' "$line" "$want"
done < "$T/tlsward-d")
is "$bad" "" "every default tlsward shares with Postfix is postconf -d's, but the listed deviations"
n=$(while IFS= read -r line; do grep -q "^${line%% =*} =" "$T/postconf-d" && echo x; done < "$T/tlsward-d" | wc -l)
ok $((n > 100 ? 0 : 1)) "compared $n parameters (more than 100)"

is "$(tw config -d myhostname)" "$(pc -d myhostname)" "myhostname: the same default (gethostname, .localdomain)"
for lv in "" 2 3.6 3.7; do
	if [ -n "$lv" ]; then
		printf 'compatibility_level = %s\n' "$lv" > "$CONF/main.cf"
	else
		: > "$CONF/main.cf"
	fi
	is "$(tw config -x smtpd_tls_fingerprint_digest smtp_tls_fingerprint_digest)" \
	    "$(pc -x smtpd_tls_fingerprint_digest smtp_tls_fingerprint_digest)" \
	    "fingerprint digests at compatibility_level ${lv:-unset}: as Postfix evaluates them"
done
: > "$CONF/main.cf"
is "$(tw config -d mydomain)" "$(pc -d mydomain)" "mydomain: the same default"
printf 'mydomain = example.org\n' > "$CONF/main.cf"
is "$(tw config -x myhostname)" "$(pc -x myhostname)" "myhostname with mydomain set: as Postfix"
printf 'myhostname = mx.sub.example.net\n' > "$CONF/main.cf"
is "$(tw config -x mydomain)" "$(pc -x mydomain)" "mydomain from myhostname: as Postfix"

# expansion of Postfix's names in a main.cf
cat > "$CONF/main.cf" <<'EOF'
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
smtpd_tls_cert_file = ${queue_directory}/cert.pem
EOF
for p in smtpd_banner smtp_tls_session_cache_database smtpd_tls_cert_file tls_random_exchange_name; do
	is "$(tw config -x "$p")" "$(pc -x "$p")" "\$$p expands as postconf -x does"
done

tap_done
