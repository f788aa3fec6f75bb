#!/bin/sh
# t/74-chain-files.t - *_tls_chain_files as Postfix reads them: the files
# in order are one PEM stream, each private key followed by its
# certificate and that certificate's chain ("ec.key, ec.pem" is a good
# list); several keys in one file; RSA, ECDSA, Ed25519 and Ed448; at most
# one key per algorithm. The daemon serves them to openssl s_client (and
# presents them as a client to openssl s_server); tlswardd -t and tlsward
# check refuse a bad list with the same message, naming the file.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed"

K=$T/keys
mkdir "$K"
# A root and an intermediate (EC), and one leaf per algorithm under the
# intermediate: $K/ALG.key, $K/ALG.pem.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/ca.key" \
    -subj '/CN=chain root' -days 2 -addext basicConstraints=critical,CA:TRUE -out "$K/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/int.key" \
    -subj '/CN=chain intermediate' -out "$K/int.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\n' > "$K/ca.ext"
openssl x509 -req -in "$K/int.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -set_serial 2 -days 2 \
    -extfile "$K/ca.ext" -out "$K/int.pem" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$K/leaf.ext"
leaf() {	# leaf NAME GENPKEY-ARGS...
	_n=$1; shift
	openssl genpkey "$@" -out "$K/$_n.key" 2>/dev/null &&
	openssl req -new -key "$K/$_n.key" -subj "/CN=$_n.localhost" -out "$K/$_n.csr" 2>/dev/null &&
	openssl x509 -req -in "$K/$_n.csr" -CA "$K/int.pem" -CAkey "$K/int.key" -set_serial "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" \
	    -days 2 -extfile "$K/leaf.ext" -out "$K/$_n.pem" 2>/dev/null
}
leaf rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
leaf rsa2 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
leaf ec -algorithm EC -pkeyopt ec_paramgen_curve:P-256
leaf ed25519 -algorithm ED25519
leaf ed448 -algorithm ED448
chmod 600 "$K"/*.key
for a in rsa ec ed25519 ed448; do
	[ -s "$K/$a.pem" ] || skip_all "openssl cannot make $a certificates here"
done
# every key, each followed by its certificate and the intermediate
for a in rsa ec ed25519 ed448; do cat "$K/$a.key" "$K/$a.pem" "$K/int.pem"; done > "$K/all.pem"
chmod 600 "$K/all.pem"

setup() {	# setup 'main.cf line'...: a fresh configuration with those lines
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	# only what the test sets: no pair from enable-server
	sed -i '/^smtpd_tls_cert_file\|^smtpd_tls_key_file\|^smtpd_tls_eccert_file\|^smtpd_tls_eckey_file/d' "$CONF/main.cf"
	printf '%s\n' "$@" >> "$CONF/main.cf"
}
# refused NAME MESSAGE-REGEX: -t, check and a start all refuse, naming it
refused() {
	out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
	is "$rc" 1 "$1: tlswardd -t exits 1"
	like "$out" "$2" "$1: tlswardd -t says what is wrong with which file"
	out=$(tw check 2>&1); rc=$?
	is "$rc" 1 "$1: tlsward check exits 1"
	like "$out" "^error: .*$2" "$1: tlsward check says the same"
}
verify_ok() { grep -q 'Verify return code: 0 (ok)'; }

# ------------------------------------------------- Postfix's split form
setup "smtpd_tls_chain_files = $K/ec.key, $K/ec.pem, $K/int.pem"
services "ec 127.0.0.1:0 server 127.0.0.1:1"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 0 "key, certificate and chain in three files: tlswardd -t accepts them"
out=$(tw check 2>&1); rc=$?
is "$rc" 0 "the same: tlsward check accepts them"
like "$out" "check: 0 errors" "the same: no error"

# ------------------------------------------------- served to real peers
backend_start echo
setup "smtpd_tls_chain_files = $K/ec.key, $K/ec.pem, $K/int.pem"
services "split 127.0.0.1:0 server 127.0.0.1:$BPORT" \
    "all 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_chain_files=$K/all.pem" \
    "two 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_chain_files=$K/rsa.key,$K/rsa.pem,$K/int.pem,$K/ed25519.key,$K/ed25519.pem"
if daemon_start; then
	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of split)" \
	    -CAfile "$K/ca.pem" -verify_hostname localhost 2>&1)
	echo "$out" | verify_ok
	ok $? "split files: s_client verifies leaf + intermediate up to the root"
	like "$out" 'Peer signature type: ECDSA' "split files: the ECDSA key signs"
	out=$(tls_line "$(port_of split)" 'through')
	is "$out" "through" "split files: data goes through"
	p=$(port_of all)
	for sig in 'RSA-PSS+SHA256:RSA-PSS' 'ECDSA+SHA256:ECDSA' 'ed25519:ed25519' 'ed448:ed448'; do
		out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$p" -CAfile "$K/ca.pem" \
		    -sigalgs "${sig%%:*}" 2>&1)
		like "$out" "Peer signature type: ${sig#*:}" "four keys in one file: a ${sig#*:} client gets that key"
		echo "$out" | verify_ok
		ok $? "four keys in one file: ${sig#*:} certificate verifies with its chain"
	done
	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of two)" -sigalgs ed25519 -CAfile "$K/ca.pem" 2>&1)
	like "$out" 'Peer signature type: ed25519' "two keys over five files: the second key (Ed25519) is served"
	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of two)" -sigalgs RSA-PSS+SHA256 -CAfile "$K/ca.pem" 2>&1)
	echo "$out" | verify_ok
	ok $? "two keys over five files: the first key (RSA) with its chain"
	daemon_stop
else
	daemon_log
fi

# ------------------------------------------------- the client role
sport=$(free_port)
sleep 30 | openssl s_server -accept "$sport" -naccept 1 -key "$K/rsa.key" -cert "$K/rsa.pem" \
    -Verify 2 -CAfile "$K/ca.pem" -verify_return_error > "$T/s_server.out" 2>&1 &
tap_pid $!
setup "smtp_tls_chain_files = $K/ec.key, $K/ec.pem, $K/int.pem"
services "c 127.0.0.1:0 client localhost:$sport -o tlsproxy_client_security_level=encrypt"
if daemon_start; then
	for i in $(seq 30); do grep -q ACCEPT "$T/s_server.out" && break; sleep 0.1; done
	printf 'from the client role\n' | plain_client "$(port_of c)" >/dev/null
	sleep 0.5
	like "$(cat "$T/s_server.out")" 'subject=CN ?= ?ec\.localhost' "client role: s_server gets the certificate from smtp_tls_chain_files"
	like "$(cat "$T/s_server.out")" 'from the client role' "client role: and verifies it with the chain (data arrives)"
	daemon_stop
else
	daemon_log
fi

# ------------------------------------------------- what Postfix refuses
setup "smtpd_tls_chain_files = $K/ec.pem, $K/ec.key"
services "s 127.0.0.1:0 server 127.0.0.1:1"
refused "certificate before its key" "$K/ec\\.pem: certificate 1 comes before any private key"
setup "smtpd_tls_chain_files = $K/ec.key"
services "s 127.0.0.1:0 server 127.0.0.1:1"
refused "key without a certificate" "$K/ec\\.key: the ecdsa private key is not followed by its certificate"
setup "smtpd_tls_chain_files = $K/ec.key, $K/rsa.key, $K/rsa.pem"
services "s 127.0.0.1:0 server 127.0.0.1:1"
refused "key followed by a key" "$K/ec\\.key: the ecdsa private key is not followed by its certificate"
setup "smtpd_tls_chain_files = $K/rsa.key, $K/rsa.pem, $K/rsa2.key, $K/rsa2.pem"
services "s 127.0.0.1:0 server 127.0.0.1:1"
refused "two RSA keys" "$K/rsa2\\.key: a second rsa private key \\(the first is in $K/rsa\\.key\\)"
setup "smtpd_tls_chain_files = $K/ec.key, $K/rsa.pem"
services "s 127.0.0.1:0 server 127.0.0.1:1"
refused "key and certificate that do not match" "$K/rsa\\.pem: certificate 1 does not match the ecdsa private key before it \\(in $K/ec\\.key\\)"
setup "smtpd_tls_chain_files = $K/ca.pem"
services "s 127.0.0.1:0 server 127.0.0.1:1"
refused "a CA file in place of a chain" "$K/ca\\.pem: certificate 1 comes before any private key"
daemon_start >/dev/null 2>&1
like "$(cat "$DLOG")" "not starting|could not start" "a bad list: the daemon does not start"

tap_done
