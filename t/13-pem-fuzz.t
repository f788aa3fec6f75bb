#!/bin/sh
# t/13-pem-fuzz.t - builds the libFuzzer target for key and certificate
# loading (t/fuzz/fuzz_pem.c + common/pem.c) with clang and runs it for a
# bounded time (FUZZ_SECONDS, default 20) from seeds made with openssl:
# RSA and EC keys in PKCS#8 and traditional form, an encrypted key, and
# a two-certificate chain. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang not installed (Debian package clang)"
secs=${FUZZ_SECONDS:-20}
C=$TOP_SRCDIR/common

"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$TOP_BUILDDIR" -I"$C" \
    "$TOP_SRCDIR/t/fuzz/fuzz_pem.c" "$C/pem.c" "$C/util.c" "$C/log.c" \
    "$C/fileio.c" -lcrypto -o "$T/fuzz_pem" > "$T/build.log" 2>&1 ||
	skip_all "cannot build a libFuzzer target: $(head -n 1 "$T/build.log")"
ok 0 "the fuzz target builds"

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

(cd "$T" && ./fuzz_pem -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus > fuzz.log 2>&1)
rc=$?
ok $rc "key and certificate loading survives ${secs}s of fuzzing"
[ $rc -eq 0 ] || diag "$(tail -n 30 "$T/fuzz.log")"
like "$(cat "$T/fuzz.log")" 'stat::number_of_executed_units: [0-9]{3,}' "hundreds of inputs were tried"
tap_done
