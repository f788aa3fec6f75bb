#!/bin/sh
# t/23-output.t - output-server-tlsa and output-server-csr: exact TLSA
# lines (digest checked with openssl pkey | sha256sum), key selection
# (rsa/ecdsa/none/relative names, effective settings), CSR contents
# checked with openssl req -verify.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to check results"

spki() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1; }
setcf() { printf '%s\n' 'myhostname = mail.example.com' "$@" > "$CONF/main.cf"; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$CONF/rsa.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CONF/ec.pem" 2>/dev/null
openssl req -x509 -key "$CONF/rsa.pem" -subj /CN=x -days 10 -out "$T/rsacert.pem" 2>/dev/null
R=$(spki "$CONF/rsa.pem"); E=$(spki "$CONF/ec.pem")
like "$R" '^[0-9a-f]{64}$' "fixture: rsa SPKI digest"

# ------------------------------------------------------------ TLSA
setcf "smtpd_tls_key_file = $CONF/rsa.pem" 'smtpd_tls_eckey_file = ec.pem'
out=$(tw output-server-tlsa 2>"$T/err"); rc=$?
is "$rc" 0 "tlsa default: exit 0"
is "$out" "; $CONF/rsa.pem
_25._tcp.mail.example.com. IN TLSA 3 1 1 $R
; $CONF/ec.pem
_25._tcp.mail.example.com. IN TLSA 3 1 1 $E" "tlsa default: rsa then ecdsa, exact lines"
is "$(cat "$T/err")" "" "tlsa default: nothing on stderr"

out=$(tw output-server-tlsa -h mx.example.net. ecdsa); rc=$?
is "$out" "; $CONF/ec.pem
_25._tcp.mx.example.net. IN TLSA 3 1 1 $E" "tlsa -h with a trailing dot: not doubled"
out=$(tw output-server-tlsa -h mx.example.net rsa.pem none ""); rc=$?
is "$rc" 0 "tlsa relative file, none, empty: exit 0"
is "$out" "; $CONF/rsa.pem
_25._tcp.mx.example.net. IN TLSA 3 1 1 $R" "tlsa: relative name under CONF; none and empty skipped"

setcf 'smtpd_tls_eckey_file = none'
out=$(tw output-server-tlsa 2>&1); rc=$?
is "$rc" 1 "tlsa, no key configured: exit 1"
like "$out" 'fatal: no server key is configured \(smtpd_tls_key_file and smtpd_tls_eckey_file are empty or none\)' "tlsa, no key configured: explained"
out=$(tw output-server-tlsa none 2>&1); rc=$?
is "$rc" 1 "tlsa none: exit 1"
like "$out" 'fatal: no key to print TLSA records for' "tlsa none: explained"

setcf 'smtpd_tls_eckey_file = ec.pem'
out=$(tw output-server-tlsa); rc=$?
is "$out" "; $CONF/ec.pem
_25._tcp.mail.example.com. IN TLSA 3 1 1 $E" "tlsa: unset rsa skipped"

# The implicit default smtpd_tls_key_file = $smtpd_tls_cert_file.
cat "$CONF/rsa.pem" "$T/rsacert.pem" > "$CONF/combined.pem"
setcf 'smtpd_tls_cert_file = combined.pem'
out=$(tw output-server-tlsa rsa); rc=$?
is "$out" "; $CONF/combined.pem
_25._tcp.mail.example.com. IN TLSA 3 1 1 $R" "tlsa rsa: effective key file (\$smtpd_tls_cert_file)"

setcf 'smtpd_tls_key_file = missing.pem'
out=$(tw output-server-tlsa 2>&1); rc=$?
is "$rc" 1 "tlsa, configured key missing: exit 1"
like "$out" "fatal: cannot open $CONF/missing\.pem: No such file or directory" "tlsa, configured key missing: named"
unlike "$out" 'TLSA' "tlsa, error: no partial output"
setcf 'smtpd_tls_key_file = rsa.pem'
out=$(tw output-server-tlsa rsa ec.pem bogus.pem 2>&1); rc=$?
is "$rc" 1 "tlsa, one bad key: exit 1"
unlike "$out" 'IN TLSA' "tlsa, one bad key: no partial record set"
out=$(tw output-server-tlsa -h bad_host 2>&1); rc=$?
is "$rc" 1 "tlsa -h bad_host: exit 1"
like "$out" 'fatal: invalid host name: "bad_host"' "tlsa -h bad_host: named"
out=$(tw output-server-tlsa -h a..b 2>&1); rc=$?
is "$rc" 1 "tlsa -h a..b: exit 1"
out=$(tw output-server-tlsa -x 2>&1); rc=$?
is "$rc" 2 "tlsa unknown option: exit 2"
like "$out" 'usage: .*output-server-tlsa \[-h hostname\] \[keyfile \.\.\.\]' "tlsa unknown option: usage"

# ------------------------------------------------------------ CSR
csrcheck() {	# csrcheck NAME KEY CSR-FILE SAN-LINE
	txt=$(openssl req -in "$3" -noout -text -verify 2>&1)
	like "$txt" 'verify OK' "$1: signature verifies"
	like "$txt" 'Subject: *$' "$1: empty subject"
	like "$txt" 'Signature Algorithm: (sha256WithRSAEncryption|ecdsa-with-SHA256)' "$1: SHA-256"
	like "$txt" "$4" "$1: SANs"
	like "$txt" 'TLS Web Server Authentication, TLS Web Client Authentication' "$1: EKU"
	like "$txt" 'X509v3 Subject Key Identifier' "$1: SKI"
	unlike "$txt" 'Basic Constraints' "$1: no basicConstraints"
	is "$(openssl req -in "$3" -noout -pubkey | openssl pkey -pubin -pubout -outform DER | sha256sum | cut -d' ' -f1)" \
	    "$(spki "$2")" "$1: for the key"
}
setcf 'smtpd_tls_key_file = rsa.pem' "smtpd_tls_eckey_file = $CONF/ec.pem"
tw output-server-csr > "$T/csr.pem"; rc=$?
is "$rc" 0 "csr default: exit 0"
is "$(head -n 1 "$T/csr.pem")" "-----BEGIN CERTIFICATE REQUEST-----" "csr: PEM on stdout"
csrcheck "csr default (rsa key, myhostname)" "$CONF/rsa.pem" "$T/csr.pem" 'DNS:mail\.example\.com$'
tw output-server-csr -k ecdsa mx.example.com www.example.com. > "$T/csr.pem"
csrcheck "csr -k ecdsa, hosts" "$CONF/ec.pem" "$T/csr.pem" 'DNS:mx\.example\.com, DNS:www\.example\.com$'
tw output-server-csr -k ec.pem > "$T/csr.pem"
csrcheck "csr -k relative file" "$CONF/ec.pem" "$T/csr.pem" 'DNS:mail\.example\.com$'
setcf 'smtpd_tls_eckey_file = ec.pem'
tw output-server-csr > "$T/csr.pem"
csrcheck "csr default without rsa: the ecdsa key" "$CONF/ec.pem" "$T/csr.pem" 'DNS:mail\.example\.com$'

csrfail() {	# csrfail NAME RC PATTERN ARGS...
	name=$1 want=$2 pat=$3; shift 3
	out=$(tw output-server-csr "$@" 2>&1); rc=$?
	is "$rc" "$want" "$name: exit $want"
	like "$out" "$pat" "$name: explained"
	unlike "$out" 'BEGIN CERTIFICATE REQUEST' "$name: no CSR"
}
csrfail "csr -k rsa, none configured" 1 'fatal: -k rsa: no key is configured for that algorithm' -k rsa
csrfail "csr -k none" 1 'fatal: -k none: no key' -k none
csrfail "csr -k missing file" 1 "fatal: cannot open $CONF/nope\.pem" -k nope.pem
csrfail "csr -k a certificate" 1 "fatal: $T/rsacert\.pem: no private key" -k "$T/rsacert.pem"
csrfail "csr bad host" 1 'fatal: invalid host name: "x\*y"' 'x*y'
csrfail "csr unknown option" 2 'usage: .*output-server-csr \[-k keyfile\]' -q
setcf
csrfail "csr, no key configured" 1 'fatal: no server key is configured.*-k keyfile'

tap_done
