#!/bin/sh
# t/22-deploy.t - deploy-server-cert: checks that the certificate (chain)
# belongs to the key, then sets the pair for the key's algorithm in one
# main.cf edit, storing absolute paths; refuses when chain files are set
# (they would take precedence); never touches main.cf on an error.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to make fixtures"

param() { sed -n "s/^$1 = //p" "$CONF/main.cf"; }
K=$T/keys
mkdir "$K"

# A CA, an intermediate and two leaves (RSA and EC), made by openssl(1).
printf 'basicConstraints=critical,CA:TRUE\n' > "$K/ca.ext"
printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:mail.example.com\n' > "$K/leaf.ext"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$K/ca.key" -subj '/CN=Test Root' -days 30 \
    -addext basicConstraints=critical,CA:TRUE -out "$K/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$K/int.key" -subj '/CN=Test Intermediate' -out "$K/int.csr" 2>/dev/null
openssl x509 -req -in "$K/int.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" \
    -set_serial 2 -days 30 -extfile "$K/ca.ext" -out "$K/int.pem" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$K/leaf.key" \
    -subj /CN=mail.example.com -out "$K/leaf.csr" 2>/dev/null
openssl x509 -req -in "$K/leaf.csr" -CA "$K/int.pem" -CAkey "$K/int.key" \
    -set_serial 3 -days 30 -extfile "$K/leaf.ext" -out "$K/leaf.pem" 2>/dev/null
openssl verify -CAfile "$K/ca.pem" -untrusted "$K/int.pem" "$K/leaf.pem" >/dev/null 2>&1
ok $? "fixture: a leaf issued by an intermediate"
cat "$K/leaf.pem" "$K/int.pem" > "$K/chain.pem"
cat "$K/int.pem" "$K/leaf.pem" > "$K/badorder.pem"

cat > "$T/main.cf.orig" <<'EOF'
# tlsward test configuration
myhostname = mail.example.com

smtpd_tls_cert_file = /old/cert.pem
# the end
EOF
cp "$T/main.cf.orig" "$CONF/main.cf"
tw new-server-key >/dev/null 2>&1 && tw new-server-key -a ecdsa >/dev/null 2>&1
ok $? "fixture: new rsa and ecdsa pairs"
key=$(ls "$CONF"/key-*.pem); cert=$(ls "$CONF"/cert-*.pem)
eckey=$(ls "$CONF"/eckey-*.pem); eccert=$(ls "$CONF"/eccert-*.pem)

# ------------------------------------------------------------ RSA, absolute
out=$(tw deploy-server-cert "$cert" "$key" 2>&1); rc=$?
is "$rc" 0 "rsa: exit 0"
is "$(cat "$CONF/main.cf")" "# tlsward test configuration
myhostname = mail.example.com

smtpd_tls_cert_file = $cert
# the end
smtpd_tls_key_file = $key" "rsa: cert edited in place, key appended, comments kept"
like "$out" "deployed: smtpd_tls_cert_file = $cert, smtpd_tls_key_file = $key" "rsa: says what it set"

# ------------------------------------------------------------ ECDSA, relative
before=$(param smtpd_tls_cert_file)
tw deploy-server-cert "${eccert##*/}" "${eckey##*/}" >/dev/null 2>&1
ok $? "ecdsa with relative names: exit 0"
is "$(param smtpd_tls_eccert_file)" "$eccert" "ecdsa: eccert_file = absolute path under CONF"
is "$(param smtpd_tls_eckey_file)" "$eckey" "ecdsa: eckey_file = absolute path under CONF"
is "$(param smtpd_tls_cert_file)" "$before" "ecdsa: the rsa pair is untouched"

# ------------------------------------------------------------ chains, combined files
cp "$K/chain.pem" "$CONF/chain.pem"; cp "$K/leaf.key" "$CONF/leaf.key"; chmod 600 "$CONF/leaf.key"
tw deploy-server-cert chain.pem leaf.key >/dev/null 2>&1
ok $? "leaf + intermediate chain: exit 0"
is "$(param smtpd_tls_cert_file)" "$CONF/chain.pem" "chain: deployed"
cat "$K/leaf.key" "$K/chain.pem" > "$CONF/combined.pem"; chmod 600 "$CONF/combined.pem"
tw deploy-server-cert combined.pem combined.pem >/dev/null 2>&1
ok $? "key and chain in one file: exit 0"
is "$(param smtpd_tls_key_file)" "$CONF/combined.pem" "combined: deployed"

chmod 644 "$CONF/leaf.key"
out=$(tw deploy-server-cert chain.pem leaf.key 2>&1); rc=$?
is "$rc" 0 "key readable by others: still deployed"
like "$out" "warning: $CONF/leaf\.key: private key file is accessible by group or others \(mode 0644\)" "key readable by others: warning"

rm "$CONF/main.cf"
tw deploy-server-cert "$cert" "$key" >/dev/null 2>&1
ok $? "no main.cf yet: exit 0"
is "$(cat "$CONF/main.cf")" "smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key" "no main.cf yet: created with the pair"

# ------------------------------------------------------------ refusals
cp "$T/main.cf.orig" "$CONF/main.cf"
refuse() {	# refuse NAME WANT-RC PATTERN ARGS...
	name=$1 want=$2 pat=$3; shift 3
	before=$(dir_state "$CONF")
	out=$(tw deploy-server-cert "$@" 2>&1); rc=$?
	is "$rc" "$want" "$name: exit $want"
	like "$out" "$pat" "$name: explained"
	is "$(dir_state "$CONF")" "$before" "$name: directory and main.cf unchanged"
}
refuse "cert of another key" 1 "fatal: $cert: the certificate does not match the private key $eckey" "$cert" "$eckey"
cp "$K/badorder.pem" "$CONF/badorder.pem"
refuse "leaf not first" 1 "fatal: $CONF/badorder\.pem: the certificate of the key $CONF/leaf\.key is number 2 in the file; the server certificate must come first" badorder.pem leaf.key
refuse "missing key" 1 "fatal: cannot open $CONF/nokey\.pem: No such file or directory" "$cert" nokey.pem
refuse "missing cert" 1 "fatal: cannot open $CONF/nocert\.pem: No such file or directory" nocert.pem "$key"
refuse "key file is a certificate" 1 "fatal: $cert: no private key \(found CERTIFICATE instead\)" "$cert" "$cert"
refuse "cert file is a key" 1 "fatal: $key: no certificate; want a PEM certificate" "$key" "$key"
refuse "empty key name" 1 "fatal: the key file name is empty" "$cert" ""
refuse "no arguments" 2 "usage: tlsward \[-c DIR\] \[-v\] deploy-server-cert certfile keyfile"
refuse "one argument" 2 "usage: .*deploy-server-cert" "$cert"
refuse "three arguments" 2 "usage: .*deploy-server-cert" "$cert" "$key" extra
refuse "unknown option" 2 "usage: .*deploy-server-cert" -x "$cert" "$key"

# Chain files take precedence over the pair: deploying would change nothing.
printf 'smtpd_tls_chain_files = %s\n' "$CONF/combined.pem" >> "$CONF/main.cf"
refuse "smtpd_tls_chain_files set" 1 "fatal: smtpd_tls_chain_files is set \(\"$CONF/combined\.pem\"\); it takes precedence over the certificate and key file settings" "$cert" "$key"
cp "$T/main.cf.orig" "$CONF/main.cf"
printf 'tlsproxy_tls_chain_files = combined.pem\n' >> "$CONF/main.cf"
refuse "tlsproxy_tls_chain_files set" 1 "fatal: tlsproxy_tls_chain_files is set" "$cert" "$key"

printf 'this line is malformed\n' > "$CONF/main.cf"
refuse "malformed main.cf" 1 "main\.cf:1" "$cert" "$key"

tap_done
