#!/bin/sh
# t/21-new-server-cert.t - new-server-cert: reuse the deployed key of the
# algorithm (from the effective, expanded settings), re-encoded as PKCS#8;
# a new key when none is configured or the file is missing; an error when
# the deployed key is unusable.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to check results"

spki() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1; }
certspki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -pubout -outform DER | sha256sum | cut -d' ' -f1; }
newest() { ls -t "$CONF"/$1-*.pem 2>/dev/null | head -n 1; }
reset() { rm -f "$CONF"/*.pem; printf '%s\n' 'myhostname = mail.example.com' "$@" > "$CONF/main.cf"; }

mkdir "$T/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/keys/rsa8.pem" 2>/dev/null
openssl pkey -in "$T/keys/rsa8.pem" -traditional -out "$T/keys/rsa-trad.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/keys/ec.pem" 2>/dev/null
openssl req -x509 -key "$T/keys/rsa8.pem" -subj /CN=old.example -days 10 -out "$T/keys/rsa-cert.pem" 2>/dev/null
head -n 1 "$T/keys/rsa-trad.pem" | grep -q 'BEGIN RSA PRIVATE KEY'
ok $? "fixture: a traditional RSA key"

# ------------------------------------------------------------ nothing configured
reset
out=$(tw new-server-cert 2>"$T/err"); rc=$?
is "$rc" 0 "none configured: exit 0"
key=$(newest key)
ok $([ -n "$key" ] && [ -f "${key%/*}/cert-${key##*/key-}" ]; echo $?) "none configured: a new key and cert"
like "$(openssl pkey -in "$key" -noout -text)" '^Private-Key: \(2048 bit' "none configured: rsa 2048 by default"
like "$out" 'output-server-tlsa' "none configured: TLSA advice for the new key"

# ------------------------------------------------------------ deployed RSA key
cp "$T/keys/rsa-trad.pem" "$CONF/old-key.pem"
chmod 600 "$CONF/old-key.pem"
reset 'smtpd_tls_cert_file = /nonexistent/cert.pem' 'smtpd_tls_key_file = old-key.pem'
cp "$T/keys/rsa-trad.pem" "$CONF/old-key.pem"
cp "$CONF/main.cf" "$T/main.cf.orig"
out=$(tw new-server-cert new.example.org www.example.org 2>"$T/err"); rc=$?
is "$rc" 0 "deployed rsa: exit 0"
key=$(newest key); cert=$(newest cert)
is "$(spki "$key")" "$(spki "$T/keys/rsa8.pem")" "deployed rsa: the key is kept (relative name under CONF)"
is "$(head -n 1 "$key")" "-----BEGIN PRIVATE KEY-----" "deployed rsa: copy re-encoded as PKCS#8"
is "$(stat -c %a "$key")" 600 "deployed rsa: copy mode 0600"
is "$(certspki "$cert")" "$(spki "$key")" "deployed rsa: cert is for the key"
is "$(openssl x509 -in "$cert" -noout -subject)" "subject=CN = new.example.org" "deployed rsa: new CN"
like "$(openssl x509 -in "$cert" -noout -text)" 'DNS:new\.example\.org, DNS:www\.example\.org' "deployed rsa: new SANs"
like "$out" "a copy of the deployed key $CONF/old-key\.pem" "deployed rsa: says which key was copied"
like "$out" 'TLSA "3 1 1" records stay valid' "deployed rsa: TLSA records stay valid"
cmp -s "$CONF/main.cf" "$T/main.cf.orig"
ok $? "deployed rsa: main.cf unchanged"

# -b is ignored when a key is configured
rm -f "$CONF"/key-*.pem "$CONF"/cert-*.pem	# names carry the second
out=$(tw new-server-cert -b 4096 2>&1); rc=$?
is "$rc" 0 "deployed rsa, -b 4096: exit 0"
like "$(openssl pkey -in "$(newest key)" -noout -text)" '^Private-Key: \(2048 bit' "deployed rsa, -b 4096: the deployed 2048-bit key is kept"
rm -f "$CONF"/key-*.pem "$CONF"/cert-*.pem

# ------------------------------------------------------------ implicit key file
cat "$T/keys/rsa8.pem" "$T/keys/rsa-cert.pem" > "$CONF/combined.pem"
reset "smtpd_tls_cert_file = \${config_directory}/combined.pem"
cat "$T/keys/rsa8.pem" "$T/keys/rsa-cert.pem" > "$CONF/combined.pem"
tw new-server-cert >/dev/null 2>&1
ok $? "key_file = \$smtpd_tls_cert_file: exit 0"
is "$(spki "$(newest key)")" "$(spki "$T/keys/rsa8.pem")" "key_file = \$smtpd_tls_cert_file: the key in the cert file is reused"

# ------------------------------------------------------------ ECDSA
reset 'smtpd_tls_eckey_file = /keys/ec.pem'
sed -i "s|/keys/ec.pem|$T/keys/ec.pem|" "$CONF/main.cf"
tw new-server-cert -a ecdsa -b secp384r1 >/dev/null 2>&1
ok $? "deployed ecdsa: exit 0"
key=$(newest eckey)
is "$(spki "$key")" "$(spki "$T/keys/ec.pem")" "deployed ecdsa: the key is kept, -b ignored"
like "$(openssl x509 -in "$(newest eccert)" -noout -text)" 'ecdsa-with-SHA256' "deployed ecdsa: cert signed with it"
tw new-server-cert >/dev/null 2>&1
ok $? "rsa when only ecdsa is configured: exit 0"
key=$(newest key)
like "$(openssl pkey -in "$key" -noout -text)" '^Private-Key: \(2048 bit' "rsa when only ecdsa is configured: a new rsa key"

# ------------------------------------------------------------ missing file
reset 'smtpd_tls_key_file = gone.pem' 'smtpd_tls_cert_file = gone-cert.pem'
out=$(tw new-server-cert 2>&1 >/dev/null); rc=$?
is "$rc" 0 "missing key file: exit 0"
like "$out" "warning: smtpd_tls_key_file = $CONF/gone\.pem: no such file; making a new rsa key" "missing key file: warning"
ok $([ -n "$(newest key)" ]; echo $?) "missing key file: a new key"

# ------------------------------------------------------------ unusable keys
bad() {	# bad NAME PATTERN: configured key NAME is unusable
	before=$(dir_state "$CONF")
	out=$(tw new-server-cert 2>&1); rc=$?
	is "$rc" 1 "$1: exit 1"
	like "$out" "$2" "$1: explained"
	is "$(dir_state "$CONF")" "$before" "$1: nothing written"
}
reset 'smtpd_tls_key_file = broken.pem' 'smtpd_tls_cert_file = x.pem'
echo "not a key" > "$CONF/broken.pem"
bad "garbage key" "fatal: cannot reuse the deployed rsa key \(smtpd_tls_key_file\): $CONF/broken\.pem: no PEM data.*new-server-key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:x -out "$CONF/broken.pem" 2>/dev/null
bad "encrypted key" "fatal: cannot reuse the deployed rsa key \(smtpd_tls_key_file\): $CONF/broken\.pem: private key is encrypted"
cp "$T/keys/ec.pem" "$CONF/broken.pem"
bad "EC key as the rsa key" "fatal: cannot reuse the deployed rsa key: smtpd_tls_key_file = $CONF/broken\.pem holds an ecdsa key"
reset 'smtpd_tls_key_file = $nosuch_loop' 'nosuch_loop = $nosuch_loop'
bad "expansion loop" "fatal: .*loop"

out=$(tw new-server-cert -a dsa 2>&1); rc=$?
is "$rc" 1 "-a dsa: exit 1"
like "$out" 'fatal: unsupported algorithm: "dsa"' "-a dsa: explained"
out=$(tw new-server-cert -Z 2>&1); rc=$?
is "$rc" 2 "unknown option: exit 2"
like "$out" 'usage: tlsward .*new-server-cert' "unknown option: usage"

tap_done
