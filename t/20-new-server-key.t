#!/bin/sh
# t/20-new-server-key.t - new-server-key: file names, modes, key types and
# sizes, the self-signed certificate's fields (checked with openssl(1)),
# the printed next steps, and no overwriting within one second.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to check results"

echo 'myhostname = mail.example.com' > "$CONF/main.cf"
cp "$CONF/main.cf" "$T/main.cf.orig"

spki() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1; }
certspki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -pubout -outform DER | sha256sum | cut -d' ' -f1; }
epoch() { date -u -d "$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)" +%s; }
only() { ls "$CONF" | grep -E "$1" ; }

# ------------------------------------------------------------ RSA default
day=$(date -u +%Y%m%d)
out=$(tw new-server-key 2>"$T/err"); rc=$?
is "$rc" 0 "rsa: exit 0"
is "$(cat "$T/err")" "" "rsa: nothing on stderr"
key=$(only '^key-'); cert=$(only '^cert-')
like "$key" "^key-[0-9]{8}-[0-9]{6}\.pem$" "rsa: key-YYYYMMDD-HHMMSS.pem"
is "${cert#cert-}" "${key#key-}" "rsa: cert-STAMP.pem with the same stamp"
like "$key" "^key-($day|$(date -u +%Y%m%d))-" "rsa: the stamp is today's UTC date"
is "$(stat -c %a "$CONF/$key")" 600 "rsa: key mode 0600"
is "$(stat -c %a "$CONF/$cert")" 644 "rsa: cert mode 0644"
is "$(head -n 1 "$CONF/$key")" "-----BEGIN PRIVATE KEY-----" "rsa: key is PKCS#8 PEM"
like "$(openssl pkey -in "$CONF/$key" -noout -text)" '^Private-Key: \(2048 bit' "rsa: 2048 bits"
txt=$(openssl x509 -in "$CONF/$cert" -noout -text)
like "$txt" 'Version: 3 \(0x2\)' "rsa cert: X.509 v3"
is "$(openssl x509 -in "$CONF/$cert" -noout -subject)" "subject=CN = mail.example.com" "rsa cert: subject CN = myhostname"
is "$(openssl x509 -in "$CONF/$cert" -noout -issuer)" "issuer=CN = mail.example.com" "rsa cert: issuer = subject"
like "$txt" 'Signature Algorithm: sha256WithRSAEncryption' "rsa cert: SHA-256 with RSA"
like "$txt" 'DNS:mail\.example\.com$' "rsa cert: SAN is myhostname"
like "$txt" 'TLS Web Server Authentication, TLS Web Client Authentication' "rsa cert: EKU serverAuth, clientAuth"
like "$(echo "$txt" | grep -A1 'Basic Constraints')" 'CA:FALSE' "rsa cert: CA:FALSE"
unlike "$txt" 'Basic Constraints: critical' "rsa cert: basicConstraints not critical"
like "$txt" 'Subject Key Identifier' "rsa cert: SKI"
is $(( ($(epoch "$CONF/$cert" enddate) - $(epoch "$CONF/$cert" startdate)) / 86400 )) 36525 "rsa cert: valid 36525 days"
now=$(date -u +%s); start=$(epoch "$CONF/$cert" startdate)
ok $([ $((now - start)) -ge 0 ] && [ $((now - start)) -lt 120 ]; echo $?) "rsa cert: valid from now"
is "$(certspki "$CONF/$cert")" "$(spki "$CONF/$key")" "rsa: cert is for the key"
openssl verify -CAfile "$CONF/$cert" "$CONF/$cert" >/dev/null 2>&1
ok $? "rsa cert: self-signature verifies"
cmp -s "$CONF/main.cf" "$T/main.cf.orig"
ok $? "rsa: main.cf unchanged (not deployed)"

# The next steps, with paths that can be pasted.
like "$out" "^    tlsward -c $CONF deploy-server-cert $CONF/$cert $CONF/$key\$" "guidance: deploy command"
like "$out" "^    tlsward -c $CONF reload\$" "guidance: then reload the running daemon"
like "$out" "^    tlsward -c $CONF output-server-csr -k $CONF/$key\$" "guidance: CSR command"
like "$out" "^    tlsward -c $CONF output-server-tlsa $CONF/$key\$" "guidance: TLSA command"
like "$out" "^    $CONF/$cert\$" "guidance: where to save a CA-signed chain"
like "$out" "server certificate first" "guidance: chain order"
like "$out" "stale records have" "guidance: wait for stale TLSA records"
cmd=$(printf '%s\n' "$out" | sed -n 's/^    tlsward -c [^ ]* deploy-server-cert /tw deploy-server-cert /p')
eval "$cmd" 2>/dev/null
ok $? "guidance: the printed deploy command works"
is "$(sed -n 's/^smtpd_tls_key_file = //p' "$CONF/main.cf")" "$CONF/$key" "guidance: the key is deployed"
cp "$T/main.cf.orig" "$CONF/main.cf"
rm -f "$CONF"/*.pem

# ------------------------------------------------------------ ECDSA
for curve in "" secp256r1 prime256v1 secp384r1 secp521r1; do
	want=${curve:-prime256v1}; [ "$want" = secp256r1 ] && want=prime256v1
	out=$(tw new-server-key -a ecdsa ${curve:+-b $curve} 2>&1); rc=$?
	is "$rc" 0 "ecdsa ${curve:-default}: exit 0"
	key=$(only '^eckey-'); cert=$(only '^eccert-')
	like "$key" "^eckey-[0-9]{8}-[0-9]{6}\.pem$" "ecdsa ${curve:-default}: eckey-STAMP.pem"
	is "${cert#eccert-}" "${key#eckey-}" "ecdsa ${curve:-default}: eccert-STAMP.pem"
	like "$(openssl pkey -in "$CONF/$key" -noout -text)" "ASN1 OID: $want" "ecdsa ${curve:-default}: curve $want"
	like "$(openssl x509 -in "$CONF/$cert" -noout -text)" 'Signature Algorithm: ecdsa-with-SHA256' "ecdsa ${curve:-default}: ecdsa-with-SHA256"
	is "$(stat -c %a "$CONF/$key")" 600 "ecdsa ${curve:-default}: key mode 0600"
	is "$(certspki "$CONF/$cert")" "$(spki "$CONF/$key")" "ecdsa ${curve:-default}: cert is for the key"
	rm -f "$CONF"/*.pem
done

# ------------------------------------------------------------ RSA bits
tw new-server-key -b 3072 >/dev/null 2>&1
ok $? "rsa -b 3072: exit 0"
like "$(openssl pkey -in "$CONF"/key-*.pem -noout -text)" '^Private-Key: \(3072 bit' "rsa -b 3072: 3072 bits"
rm -f "$CONF"/*.pem

# ------------------------------------------------------------ host names
tw new-server-key -a ecdsa mx.example.com. www.example.com a.example.net >/dev/null 2>&1
ok $? "hosts: exit 0"
cert=$(ls "$CONF"/eccert-*.pem)
is "$(openssl x509 -in "$cert" -noout -subject)" "subject=CN = mx.example.com" "hosts: CN = first host, trailing dot removed"
is "$(openssl x509 -in "$cert" -noout -ext subjectAltName | tail -n 1 | sed 's/^ *//')" \
    "DNS:mx.example.com, DNS:www.example.com, DNS:a.example.net" "hosts: all are SANs, in order"
rm -f "$CONF"/*.pem

out=$(tw new-server-key good.example bad_host.example 2>&1); rc=$?
is "$rc" 1 "bad host: exit 1"
like "$out" 'fatal: invalid host name: "bad_host\.example"' "bad host: named"
is "$(only '\.pem$')" "" "bad host: nothing written"

echo 'myhostname = bad_host.example' > "$CONF/main.cf"
out=$(tw new-server-key 2>&1); rc=$?
is "$rc" 1 "bad myhostname: exit 1"
like "$out" 'invalid host name: "bad_host\.example" \(the value of myhostname\)' "bad myhostname: named"
is "$(only '\.pem$')" "" "bad myhostname: nothing written"
cp "$T/main.cf.orig" "$CONF/main.cf"

# ------------------------------------------------------------ no overwrite
if command -v faketime >/dev/null && [ "$(faketime -f '2030-01-02 03:04:05' date -u +%Y 2>/dev/null)" = 2030 ]; then
	ft() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f '2030-01-02 03:04:05' "$@"; }
	ft "$TLSWARD" -c "$CONF" new-server-key >/dev/null 2>&1
	ok $? "frozen clock: first run"
	ok $([ -f "$CONF/key-20300102-030405.pem" ] && [ -f "$CONF/cert-20300102-030405.pem" ]; echo $?) \
	    "frozen clock: key-20300102-030405.pem and cert-20300102-030405.pem"
	before=$(dir_state "$CONF")
	out=$(ft "$TLSWARD" -c "$CONF" new-server-key 2>&1); rc=$?
	is "$rc" 1 "same second: second run fails"
	like "$out" "fatal: $CONF/key-20300102-030405\.pem already exists; not overwriting" "same second: clear error"
	is "$(dir_state "$CONF")" "$before" "same second: directory unchanged"
else
	# Occupy the certificate names of the next seconds ourselves.
	s=$(date -u +%s)
	for i in 0 1 2 3 4; do : > "$CONF/cert-$(date -u -d "@$((s + i))" +%Y%m%d-%H%M%S).pem"; done
	before=$(dir_state "$CONF")
	out=$(tw new-server-key 2>&1); rc=$?
	is "$rc" 1 "existing cert name: fails"
	like "$out" "fatal: $CONF/cert-[0-9-]*\.pem already exists; not overwriting" "existing cert name: clear error"
	is "$(dir_state "$CONF")" "$before" "existing cert name: directory unchanged"
	skip "frozen clock: file names" "faketime(1) is not usable here"
fi
rm -f "$CONF"/*.pem

# ------------------------------------------------------------ unwritable dir
if [ "$(id -u)" != 0 ]; then
	chmod 555 "$CONF"
	out=$(tw new-server-key 2>&1); rc=$?
	chmod 755 "$CONF"
	is "$rc" 1 "read-only directory: exit 1"
	like "$out" "fatal: cannot create $CONF/key-" "read-only directory: named"
else
	skip "read-only directory" "root can write anywhere"
fi
is "$(only '\.pem$')" "" "no files left behind"

tap_done
