#!/bin/sh
# t/13-pem-fuzz.t - builds the libFuzzer target for key and certificate
# loading (t/fuzz/fuzz_pem.c + common/pem.c) with clang and runs it for a
# bounded time (FUZZ_SECONDS, default 20) from seeds made with openssl:
# RSA and EC keys in PKCS#8 and traditional form, an encrypted key, and
# a two-certificate chain. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
C=$TOP_SRCDIR/common
fuzz_build fuzz_pem -I"$C" "$TOP_SRCDIR/t/fuzz/fuzz_pem.c" "$C/pem.c" \
    "$C/util.c" "$C/log.c" "$C/fileio.c" -lcrypto

# Seeds: key text, NUL, chain text.
S=$T/seed
mkdir "$S" "$T/corpus"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$S/ca.key" -out "$S/ca.pem" -subj /CN=ca -days 2 2>/dev/null &&
openssl req -newkey rsa:1024 -nodes -keyout "$S/rsa.key" -subj /CN=leaf \
    2>/dev/null | openssl x509 -req -CA "$S/ca.pem" -CAkey "$S/ca.key" \
    -days 2 -out "$S/leaf.pem" 2>/dev/null &&
openssl pkey -in "$S/rsa.key" -traditional -out "$S/rsa-trad.key" &&
openssl pkey -in "$S/ca.key" -aes128 -passout pass:x -out "$S/enc.key"
ok $? "seed keys and certificates made"
seed() {	# seed NAME KEYFILE CHAINFILE...
	n=$1 k=$2
	shift 2
	{ cat "$k"; printf '\000'; cat "$@"; } > "$T/corpus/$n"
}
seed rsa "$S/rsa.key" "$S/leaf.pem" "$S/ca.pem"
seed trad "$S/rsa-trad.key" "$S/leaf.pem"
seed ec "$S/ca.key" "$S/ca.pem"
seed enc "$S/enc.key" "$S/ca.pem" "$S/leaf.pem"

fuzz_run fuzz_pem "key and certificate loading" 3
tap_done
