#!/bin/sh
# t/30-enable.t - enable-client and enable-server: what they change, what
# they create, and that every refusal leaves the directory as it was.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to check results"

param() { sed -n "s/^$1 = //p" "$CONF/main.cf"; }

# ---- enable-client on a default configuration
printf '# my comment\n\nmyhostname = mail.example.com\n' > "$CONF/main.cf"
cp "$CONF/main.cf" "$T/before"
out=$(tw enable-client 2>&1); rc=$?
is "$rc" 0 "enable-client: exit 0"
is "$(param smtp_tls_security_level)" may "enable-client: security level may"
is "$(param smtp_tls_loglevel)" 1 "enable-client: loglevel 1"
is "$(param smtp_tls_session_cache_database)" \
    "btree:/var/lib/postfix/smtp_scache" "enable-client: cache path expanded (Postfix's data_directory)"
is "$(param tls_random_source)" "dev:/dev/urandom" "enable-client: random source"
is "$(head -n 3 "$CONF/main.cf")" "$(cat "$T/before")" \
    "enable-client: existing lines kept byte for byte"
is "$(stat -c %a "$CONF/main.cf")" 644 "main.cf mode kept"

# ---- a second run: no longer all default -> suggestions, no change
cp "$CONF/main.cf" "$T/before"
out=$(tw enable-client 2>&1); rc=$?
is "$rc" 0 "enable-client on a configured client: exit 0"
like "$out" 'not all at their defaults' "enable-client explains the refusal"
like "$out" 'smtp_tls_security_level = may' "enable-client names the setting"
cmp -s "$CONF/main.cf" "$T/before"; ok $? "enable-client refusal: main.cf unchanged"

# ---- data_directory and -r
printf 'data_directory = /srv/tw\n' > "$CONF/main.cf"
tw enable-client -r dev:/dev/random >/dev/null 2>&1
is "$(param smtp_tls_session_cache_database)" "btree:/srv/tw/smtp_scache" \
    "enable-client expands data_directory"
is "$(param tls_random_source)" "dev:/dev/random" "enable-client -r dev:/dev/random"

for bad in bogus dev:/etc/hostname dev:/nonexistent egd:/nonexistent egd:/etc/hostname; do
	: > "$CONF/main.cf"
	before=$(dir_state "$CONF")
	out=$(tw enable-client -r "$bad" 2>&1); rc=$?
	is "$rc" 1 "enable-client -r $bad: exit 1"
	like "$out" "fatal: -r $bad" "enable-client -r $bad: names the source"
	is "$(dir_state "$CONF")" "$before" "enable-client -r $bad: nothing changed"
done
out=$(tw enable-client extra 2>&1); rc=$?
is "$rc" 2 "enable-client with an argument: usage error"

# ---- enable-server, RSA default, myhostname from main.cf
printf '# server\nmyhostname = mx.example.org\n' > "$CONF/main.cf"
out=$(tw enable-server 2>&1); rc=$?
is "$rc" 0 "enable-server: exit 0"
cert=$(param smtpd_tls_cert_file)
key=$(param smtpd_tls_key_file)
like "$cert" "^$CONF/cert-[0-9]{8}-[0-9]{6}\.pem$" "enable-server: cert file name"
like "$key" "^$CONF/key-[0-9]{8}-[0-9]{6}\.pem$" "enable-server: key file name"
is "$(stat -c %a "$key")" 600 "enable-server: key mode 600"
is "$(stat -c %a "$cert")" 644 "enable-server: cert mode 644"
is "$(param smtpd_tls_security_level)" may "enable-server: security level may"
is "$(param smtpd_tls_received_header)" yes "enable-server: received header"
is "$(param smtpd_tls_loglevel)" 1 "enable-server: loglevel 1"
is "$(param tls_random_source)" "dev:/dev/urandom" "enable-server: random source"
text=$(openssl x509 -in "$cert" -noout -text)
like "$text" 'Subject: CN ?= ?mx.example.org' "enable-server: CN is myhostname"
like "$text" 'DNS:mx.example.org' "enable-server: SAN is myhostname"
like "$(openssl pkey -in "$key" -noout -text)" 'Private-Key: \(2048 bit' \
    "enable-server: RSA 2048"
a=$(openssl x509 -in "$cert" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
b=$(openssl pkey -in "$key" -pubout -outform DER | sha256sum)
is "$a" "$b" "enable-server: key matches certificate"

# ---- enable-server again: not all default
before=$(dir_state "$CONF")
out=$(tw enable-server 2>&1); rc=$?
is "$rc" 0 "enable-server on a configured server: exit 0"
like "$out" 'not all at their defaults' "enable-server explains the refusal"
is "$(dir_state "$CONF")" "$before" "enable-server refusal: nothing created or changed"

# ---- enable-server ECDSA with host names
rm -f "$CONF"/*.pem; : > "$CONF/main.cf"
out=$(tw enable-server -a ecdsa -b secp384r1 a.example.net b.example.net 2>&1); rc=$?
is "$rc" 0 "enable-server -a ecdsa: exit 0"
cert=$(param smtpd_tls_eccert_file)
key=$(param smtpd_tls_eckey_file)
like "$cert" "^$CONF/eccert-" "enable-server ecdsa: eccert file"
like "$key" "^$CONF/eckey-" "enable-server ecdsa: eckey file"
is "$(param smtpd_tls_cert_file)" "" "enable-server ecdsa: RSA pair not set"
like "$(openssl pkey -in "$key" -noout -text)" 'secp384r1' "enable-server ecdsa: curve"
text=$(openssl x509 -in "$cert" -noout -text)
like "$text" 'Subject: CN ?= ?a.example.net' "enable-server ecdsa: CN is the first host"
like "$text" 'DNS:a.example.net, DNS:b.example.net' "enable-server ecdsa: SANs in order"

# ---- refusals before anything is created
for args in "-a dsa" "-b 100" "-a ecdsa -b nosuchcurve" "bad_host.example" \
    "-r bogus" "good.example -bad-.example"; do
	: > "$CONF/main.cf"; rm -f "$CONF"/*.pem
	before=$(dir_state "$CONF")
	# shellcheck disable=SC2086
	out=$(tw enable-server $args 2>&1); rc=$?
	is "$rc" 1 "enable-server $args: exit 1"
	like "$out" 'fatal: ' "enable-server $args: one clear message"
	is "$(dir_state "$CONF")" "$before" "enable-server $args: nothing created"
done

# ---- main.cf cannot be replaced: the new key and cert are removed again
: > "$CONF/main.cf"; rm -f "$CONF"/*.pem
if chattr +i "$CONF/main.cf" 2>/dev/null; then
	before=$(dir_state "$CONF")
	out=$(tw enable-server 2>&1); rc=$?
	chattr -i "$CONF/main.cf"
	is "$rc" 1 "enable-server with an immutable main.cf: exit 1"
	like "$out" 'main.cf' "enable-server with an immutable main.cf: names main.cf"
	is "$(dir_state "$CONF")" "$before" "enable-server failure: key and cert removed"
else
	skip "enable-server failure cleanup" "chattr +i is not supported here"
fi

tap_done
