#!/bin/sh
# t/40-check.t - tlsward check: main.cf findings, then the server keys and
# certificates the daemon would load: readability, key permissions, key
# and certificate match, chain order, validity dates, chain files. One
# finding per line ("error: ..." / "warning: ..."), a summary line, exit 0
# only without errors.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to make fixtures"

K=$T/keys
mkdir "$K"
setcf() { printf '%s\n' 'myhostname = mail.example.com' "$@" > "$CONF/main.cf"; }
run() { out=$(tw "$@" check 2>"$T/err"); rc=$?; }

# Fixtures, all made here: a CA, an intermediate, a leaf (1 year), a leaf
# that expires in 10 days, and (with faketime) expired and future ones.
printf 'basicConstraints=critical,CA:TRUE\n' > "$K/ca.ext"
printf 'basicConstraints=CA:FALSE\n' > "$K/leaf.ext"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/ca.key" \
    -subj '/CN=Test Root' -days 400 -addext basicConstraints=critical,CA:TRUE -out "$K/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/int.key" \
    -subj '/CN=Test Intermediate' -out "$K/int.csr" 2>/dev/null
openssl x509 -req -in "$K/int.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -set_serial 2 \
    -days 400 -extfile "$K/ca.ext" -out "$K/int.pem" 2>/dev/null
leaf() {	# leaf NAME DAYS [faketime-date]: $K/NAME.key + $K/NAME.pem
	openssl req -new -newkey rsa:2048 -nodes -keyout "$K/$1.key" -subj "/CN=$1.example" \
	    -out "$K/$1.csr" 2>/dev/null
	${3:+faketime -f "$3"} openssl x509 -req -in "$K/$1.csr" -CA "$K/int.pem" -CAkey "$K/int.key" \
	    -set_serial 3 -days "$2" -extfile "$K/leaf.ext" -out "$K/$1.pem" 2>/dev/null
	chmod 600 "$K/$1.key"
}
leaf good 365
leaf soon 10
openssl verify -CAfile "$K/ca.pem" -untrusted "$K/int.pem" "$K/good.pem" >/dev/null 2>&1
ok $? "fixture: leaf -> intermediate -> root"
cat "$K/good.pem" "$K/int.pem" > "$K/good-chain.pem"

# ------------------------------------------------------------ nothing configured
setcf
run
is "$rc" 0 "empty: exit 0"
is "$out" "warning: no server certificate is configured (smtpd_tls_cert_file, smtpd_tls_eccert_file and smtpd_tls_chain_files are empty): services in the server role cannot offer TLS
check: 0 errors, 1 warning" "empty: one warning, summary"
is "$(cat "$T/err")" "" "empty: nothing on stderr"

# ------------------------------------------------------------ good pairs
tw new-server-key -a ecdsa >/dev/null 2>&1
eckey=$(ls "$CONF"/eckey-*.pem); eccert=$(ls "$CONF"/eccert-*.pem)
setcf "smtpd_tls_cert_file = $K/good-chain.pem" "smtpd_tls_key_file = $K/good.key" \
    "smtpd_tls_eccert_file = $eccert" "smtpd_tls_eckey_file = $eckey"
run
is "$rc" 0 "good rsa chain + ecdsa pair: exit 0"
is "$out" "check: 0 errors, 0 warnings" "good: summary only"
run -v
like "$out" "^ok: $K/good-chain\.pem: rsa key matches /CN=good\.example, valid until [0-9-]+ [0-9:]+ UTC; 2 certificates in the chain\$" "good -v: ok line for the rsa chain"
like "$out" "^ok: $eccert: ecdsa key matches /CN=mail\.example\.com, valid until 2[0-9]{3}-" "good -v: ok line for the ecdsa pair"

# The daemon reads tlsproxy_tls_*: an explicit setting wins and is named.
setcf "smtpd_tls_cert_file = $K/good-chain.pem" "smtpd_tls_key_file = $K/good.key" \
    "tlsproxy_tls_cert_file = $K/soon.pem"
run
is "$rc" 1 "tlsproxy_tls_cert_file overrides: checked"
like "$out" "^error: $K/soon\.pem: the first certificate does not match the private key $K/good\.key\$" "tlsproxy_tls_cert_file overrides: mismatch found"

# ------------------------------------------------------------ main.cf findings
setcf 'foo = bar' 'smtpd_tls_loglevel = many' 'x = $y' 'y = $x'
run
is "$rc" 1 "main.cf errors: exit 1"
like "$out" "^warning: $CONF/main\.cf:2: unknown parameter foo\$" "unknown parameter: warning with file:line"
like "$out" "^error: $CONF/main\.cf:3: parameter smtpd_tls_loglevel: " "bad value: error with file:line"
like "$out" "^error: .*expansion loop" "expansion loop: error"
like "$out" "^check: [1-9][0-9]* errors?, [1-9][0-9]* warnings?\$" "main.cf errors: summary"
printf 'no equals sign here\n' > "$CONF/main.cf"
run
is "$rc" 1 "malformed main.cf: exit 1"
like "$out" "^error: $CONF/main\.cf:1: " "malformed main.cf: error with file:line"
like "$out" "^check: 1 error, 0 warnings\$" "malformed main.cf: summary"

# ------------------------------------------------------------ pair problems
problem() {	# problem NAME SEVERITY PATTERN SETTINGS...
	name=$1 sev=$2 pat=$3; shift 3
	setcf "$@"
	run
	is "$rc" "$([ "$sev" = error ] && echo 1 || echo 0)" "$name: exit status"
	like "$out" "^$sev: $pat" "$name: $sev line"
}
problem "missing cert file" error "cannot open $K/nope\.pem: No such file or directory\$" \
    "smtpd_tls_cert_file = $K/nope.pem" "smtpd_tls_key_file = $K/good.key"
problem "missing key file" error "cannot open $K/nokey\.pem: No such file or directory\$" \
    "smtpd_tls_cert_file = $K/good.pem" "smtpd_tls_key_file = $K/nokey.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:x -out "$K/enc.pem" 2>/dev/null
problem "encrypted key" error "$K/enc\.pem: private key is encrypted" \
    "smtpd_tls_cert_file = $K/good.pem" "smtpd_tls_key_file = $K/enc.pem"
problem "key of another cert" error "$K/good\.pem: the first certificate does not match the private key $K/soon\.key\$" \
    "smtpd_tls_cert_file = $K/good.pem" "smtpd_tls_key_file = $K/soon.key"
cat "$K/int.pem" "$K/good.pem" > "$K/badorder.pem"
problem "leaf not first" error "$K/badorder\.pem: the first certificate does not match the private key $K/good\.key \(a later one does: put the server certificate first\)" \
    "smtpd_tls_cert_file = $K/badorder.pem" "smtpd_tls_key_file = $K/good.key"
like "$out" "error: $K/badorder\.pem: certificate 1 \(/CN=Test Intermediate\) is not issued by the next one, certificate 2 \(/CN=good\.example\)" "leaf not first: chain order error"
cat "$K/good.pem" "$K/ca.pem" > "$K/gap.pem"
problem "missing intermediate" error "$K/gap\.pem: certificate 1 \(/CN=good\.example\) is not issued by the next one, certificate 2 \(/CN=Test Root\)" \
    "smtpd_tls_cert_file = $K/gap.pem" "smtpd_tls_key_file = $K/good.key"
cat "$K/good.pem" "$K/int.pem" "$K/ca.pem" > "$K/full.pem"
problem "full chain with the root" "check" "0 errors, 0 warnings\$" \
    "smtpd_tls_cert_file = $K/full.pem" "smtpd_tls_key_file = $K/good.key"
problem "expires in 10 days" warning "$K/soon\.pem: certificate 1 \(/CN=soon\.example\) expires on [0-9-]+ [0-9:]+ UTC, in (9|10) days\$" \
    "smtpd_tls_cert_file = $K/soon.pem" "smtpd_tls_key_file = $K/soon.key"
chmod 640 "$K/soon.key"
problem "key readable by the group" warning "$K/soon\.key: private key file is accessible by group or others \(mode 0640\); chmod 600 it\$" \
    "smtpd_tls_cert_file = $K/soon.pem" "smtpd_tls_key_file = $K/soon.key"
problem "cert without key" error "smtpd_tls_cert_file is set but smtpd_tls_key_file is empty\$" \
    "smtpd_tls_cert_file = $K/good.pem" "smtpd_tls_key_file ="
problem "eckey without eccert" error "smtpd_tls_eckey_file is set but smtpd_tls_eccert_file is empty\$" \
    "smtpd_tls_eckey_file = $eckey"
problem "RSA key in the ECDSA slot" warning "$K/good\.key: holds an rsa key where an ecdsa key is expected\$" \
    "smtpd_tls_eccert_file = $K/good.pem" "smtpd_tls_eckey_file = $K/good.key"
problem "DSA cert setting" warning "smtpd_tls_dcert_file is ignored: DSA keys are not supported\$" \
    "smtpd_tls_cert_file = $K/good.pem" "smtpd_tls_key_file = $K/good.key" "smtpd_tls_dcert_file = $K/good.pem"

if command -v faketime >/dev/null && [ "$(faketime -f '2020-01-01 00:00:00' date -u +%Y 2>/dev/null)" = 2020 ]; then
	leaf old 30 '2020-01-01 00:00:00'
	leaf future 30 '2099-01-01 00:00:00'
	problem "expired" error "$K/old\.pem: certificate 1 \(/CN=old\.example\) expired on 2020-01-31 00:00:00 UTC\$" \
	    "smtpd_tls_cert_file = $K/old.pem" "smtpd_tls_key_file = $K/old.key"
	problem "not yet valid" error "$K/future\.pem: certificate 1 \(/CN=future\.example\) is not valid before 2099-01-01 00:00:00 UTC\$" \
	    "smtpd_tls_cert_file = $K/future.pem" "smtpd_tls_key_file = $K/future.key"
else
	skip "expired certificate" "faketime(1) is not usable here"
	skip "not yet valid certificate" "faketime(1) is not usable here"
fi

# ------------------------------------------------------------ chain files
cat "$K/good.key" "$K/good.pem" "$K/int.pem" > "$K/bundle.pem"
cat "$K/good.pem" "$K/int.pem" "$K/good.key" > "$K/bundle-keylast.pem"
cat "$K/good.key" "$K/good.pem" "$K/int.pem" "$eckey" "$eccert" > "$K/bundle2.pem"
cat "$K/good.pem" "$K/good.key" "$eckey" "$eccert" > "$K/bundle-certfirst.pem"
cat "$K/soon.key" "$K/good.pem" > "$K/bundle-mismatch.pem"
chmod 600 "$K"/bundle*.pem
problem "chain file" "check" "0 errors, 0 warnings\$" "smtpd_tls_chain_files = $K/bundle.pem"
problem "chain file with two keys" "check" "0 errors, 0 warnings\$" "smtpd_tls_chain_files = $K/bundle2.pem"
problem "key, certificate and chain in three files (Postfix)" "check" "0 errors, 0 warnings\$" \
    "smtpd_tls_chain_files = $K/good.key, $K/good.pem, $K/int.pem"
problem "two chain files" "check" "0 errors, 0 warnings\$" "smtpd_tls_chain_files = $K/bundle.pem, $eckey, $eccert"
run -v
is "$(printf '%s\n' "$out" | grep -c '^ok: .* key matches ')" 2 "two chain files: two ok lines with -v"
problem "chain file: key last" error "$K/bundle-keylast\.pem: certificate 1 comes before any private key" \
    "smtpd_tls_chain_files = $K/bundle-keylast.pem"
problem "chain file: certificate before the keys" error "$K/bundle-certfirst\.pem: certificate 1 comes before any private key" \
    "smtpd_tls_chain_files = $K/bundle-certfirst.pem"
problem "chain file: mismatch" error "$K/bundle-mismatch\.pem: certificate 1 does not match the rsa private key before it \(in $K/bundle-mismatch\.pem\)" \
    "smtpd_tls_chain_files = $K/bundle-mismatch.pem"
problem "chain file: missing" error "cannot open $K/none\.pem: No such file or directory\$" \
    "smtpd_tls_chain_files = $K/none.pem"
problem "chain file: no key" error "$K/good-chain\.pem: certificate 1 comes before any private key" \
    "smtpd_tls_chain_files = $K/good-chain.pem"
problem "chain files: a key without its certificate" error "$K/good\.key: the rsa private key is not followed by its certificate" \
    "smtpd_tls_chain_files = $K/good.key"
chmod 644 "$eccert"
problem "chain files: a certificate file may be readable" "check" "0 errors, 0 warnings\$" \
    "smtpd_tls_chain_files = $eckey, $eccert"
problem "chain files win over the pair" warning "smtpd_tls_cert_file and smtpd_tls_key_file are ignored: smtpd_tls_chain_files takes precedence\$" \
    "smtpd_tls_chain_files = $K/bundle.pem" "smtpd_tls_cert_file = $K/good.pem" "smtpd_tls_key_file = $K/good.key"

# ------------------------------------------------------------ usage
out=$(tw check extra 2>&1); rc=$?
is "$rc" 2 "check with an argument: exit 2"
like "$out" 'usage: tlsward \[-c DIR\] \[-v\] check' "check with an argument: usage"
out=$(tw check -x 2>&1); rc=$?
is "$rc" 2 "check with an option: exit 2"

tap_done
