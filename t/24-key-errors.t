#!/bin/sh
# t/24-key-errors.t - every way a key file or a key option can be wrong,
# through every subcommand that reads keys or makes them: a one-line
# fatal message that names the file or value at fault, a non-zero exit,
# and the configuration directory left exactly as it was.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to make fixtures"

B=$T/bad
mkdir "$B"
echo 'myhostname = mail.example.com' > "$CONF/main.cf"
tw new-server-key >/dev/null 2>&1
ok $? "fixture: a good pair"
cert=$(ls "$CONF"/cert-*.pem); key=$(ls "$CONF"/key-*.pem)

# Bad key files, made at run time (no private keys in the repository).
: > "$B/empty.pem"
mkdir "$B/dir.pem"
mkfifo "$B/fifo.pem"	# must fail at once, not wait for a writer
cp "$TESTDATA/pem-bad-garbage.pem" "$TESTDATA/pem-bad-base64.pem" "$TESTDATA/pem-bad-noend.pem" "$B/"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:x -out "$B/enc8.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$B/ec.pem" 2>/dev/null
openssl pkey -in "$B/ec.pem" -traditional -aes256 -passout pass:x -out "$B/enctrad.pem" 2>/dev/null
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -out "$B/dsaparam.pem" 2>/dev/null
openssl genpkey -paramfile "$B/dsaparam.pem" -out "$B/dsa.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$B/ed25519.pem" 2>/dev/null
openssl pkey -in "$key" -pubout -out "$B/public.pem"
grep -q 'Proc-Type: 4,ENCRYPTED' "$B/enctrad.pem"
ok $? "fixture: an encrypted traditional key"
grep -q 'BEGIN PRIVATE KEY' "$B/dsa.pem"
ok $? "fixture: a DSA key"

# fails NAME RC PATTERN ARGS...: tw ARGS fails with RC and one line.
fails() {
	name=$1 want=$2 pat=$3; shift 3
	before=$(dir_state "$CONF")
	out=$(tw "$@" 2>&1); rc=$?
	is "$rc" "$want" "$name: exit $want"
	like "$out" "$pat" "$name: message"
	[ "$want" = 1 ] && is "$(printf '%s\n' "$out" | wc -l)" 1 "$name: one line"
	is "$(dir_state "$CONF")" "$before" "$name: directory unchanged"
}

# ------------------------------------------------------------ key files
while read -r f msg; do
	p=$B/$f
	fails "tlsa $f" 1 "^tlsward: fatal: .*$msg" output-server-tlsa "$p"
	fails "csr $f" 1 "^tlsward: fatal: .*$msg" output-server-csr -k "$p"
	fails "deploy $f" 1 "^tlsward: fatal: .*$msg" deploy-server-cert "$cert" "$p"
done <<EOF
missing.pem	cannot open $B/missing\.pem: No such file or directory
dir.pem	cannot read $B/dir\.pem: Is a directory
fifo.pem	cannot read $B/fifo\.pem: not a regular file
empty.pem	$B/empty\.pem: file is empty; want a PEM private key
pem-bad-garbage.pem	$B/pem-bad-garbage\.pem: no PEM data; want a PEM private key
pem-bad-base64.pem	$B/pem-bad-base64\.pem: malformed PEM data \(bad base64 decode\)
pem-bad-noend.pem	$B/pem-bad-noend\.pem: malformed PEM data
enc8.pem	$B/enc8\.pem: private key is encrypted; tlsward needs an unencrypted key
enctrad.pem	$B/enctrad\.pem: private key is encrypted; tlsward needs an unencrypted key
dsa.pem	$B/dsa\.pem: unsupported key type DSA \(want RSA, EC, Ed25519 or Ed448\)
public.pem	$B/public\.pem: no private key \(found PUBLIC KEY instead\)
EOF
# Ed25519 keys are usable (as in *_tls_chain_files): TLSA and a CSR.
like "$(tw output-server-tlsa "$B/ed25519.pem" 2>&1)" 'IN TLSA 3 1 1 [0-9a-f]{64}$' "tlsa ed25519.pem: a 3 1 1 record"
tw output-server-csr -k "$B/ed25519.pem" > "$B/ed.csr" 2>&1
like "$(openssl req -in "$B/ed.csr" -noout -text 2>&1)" 'Signature Algorithm: ED25519' "csr ed25519.pem: an Ed25519-signed CSR"
fails "tlsa: a certificate as the key" 1 "fatal: $cert: no private key \(found CERTIFICATE instead\)" output-server-tlsa "$cert"
fails "deploy: certificate garbage" 1 "fatal: $B/pem-bad-garbage\.pem: no certificate; want a PEM certificate" deploy-server-cert "$B/pem-bad-garbage.pem" "$key"

if [ "$(id -u)" != 0 ]; then
	cp "$key" "$B/noread.pem"; chmod 000 "$B/noread.pem"
	fails "unreadable key" 1 "fatal: cannot open $B/noread\.pem: Permission denied" output-server-tlsa "$B/noread.pem"
else
	skip "unreadable key file" "root reads mode-000 files (the directory case covers read errors)"
fi

# A configured key that is broken is reported by every reader.
printf 'myhostname = mail.example.com\nsmtpd_tls_key_file = %s\n' "$B/enc8.pem" > "$CONF/main.cf"
fails "tlsa rsa: configured key encrypted" 1 "fatal: $B/enc8\.pem: private key is encrypted" output-server-tlsa
fails "csr: configured key encrypted" 1 "fatal: $B/enc8\.pem: private key is encrypted" output-server-csr
fails "new-server-cert: configured key encrypted" 1 "fatal: cannot reuse the deployed rsa key \(smtpd_tls_key_file\): $B/enc8\.pem: private key is encrypted" new-server-cert
echo 'myhostname = mail.example.com' > "$CONF/main.cf"

# ------------------------------------------------------------ key options
for c in new-server-key new-server-cert; do
	fails "$c -a dsa" 1 'fatal: unsupported algorithm: "dsa" \(want rsa or ecdsa\)' "$c" -a dsa
	fails "$c -a RSA" 1 'fatal: unsupported algorithm: "RSA"' "$c" -a RSA
	fails "$c -b 100" 1 'fatal: unsupported RSA key size: "100" \(want a number of bits from 2048 to 16384\)' "$c" -b 100
	fails "$c -b 16385" 1 'unsupported RSA key size: "16385"' "$c" -b 16385
	fails "$c -b 2048bits" 1 'unsupported RSA key size: "2048bits"' "$c" -b 2048bits
	fails "$c -a ecdsa -b nosuchcurve" 1 'fatal: unsupported EC curve: "nosuchcurve" \(want secp256r1, secp384r1 or secp521r1\)' "$c" -a ecdsa -b nosuchcurve
	fails "$c -a ecdsa -b 2048" 1 'unsupported EC curve: "2048"' "$c" -a ecdsa -b 2048
	fails "$c -b (missing)" 2 "usage: tlsward \[-c DIR\] \[-v\] $c \[-a algorithm\] \[-b bits\] \[hostname \.\.\.\]" "$c" -b
	fails "$c unknown option" 2 "usage: .* $c " "$c" -k x
done

# ------------------------------------------------------------ host names
l64=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
for h in a..b a_b.c "$l64.example" '*.example.com' 'a b' '' -a.b .a a.b..; do
	fails "new-server-key host \"$h\"" 1 "fatal: invalid host name: \"$(printf '%s' "$h" | sed 's/[].*[]/\\&/g')\"" new-server-key -- "$h"
done
fails "new-server-cert bad host" 1 'fatal: invalid host name: "a_b\.c"' new-server-cert ok.example a_b.c
fails "csr bad host" 1 'fatal: invalid host name: "a_b\.c"' output-server-csr -k "$key" a_b.c
long=$(printf '%.40s.%.30s.org' "$l64" "$l64")	# 75 characters, valid labels
fails "CN over 64 characters" 1 "fatal: host name \"$long\" is too long for the certificate's common name \(at most 64 characters\)" new-server-key "$long"

tap_done
