#!/bin/sh
# t/58-ocsp.t - OCSP stapling and "tlsward fetch-ocsp", against openssl
# ocsp's responder on loopback (t/tools/ocsp_responder.py) and openssl
# s_client -status: fetch (default: every server certificate of the
# configuration; -o, -i), staple per certificate (RSA and ECDSA on one
# service, chain files, SNI entries, a named response file, stapling
# off), revoke,
# re-fetch and reload (the revocation is stapled), a response from
# another certificate, garbage, stale at load and stale while serving
# (not stapled, logged; tlswardd -t and tlsward check warn, naming the
# file), a client that does not ask; fetch-ocsp refuses a response it
# cannot verify, a certificate without AIA, an unreachable responder.
# "tlsward status" (text and --json) and the metrics show each
# certificate's staple (status, thisUpdate, nextUpdate, expired once
# past it) and count the staples sent.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed"
command -v faketime >/dev/null || skip_all "faketime(1) is needed"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY no_proxy NO_PROXY

P=$T/pki
mkdir "$P" "$P/newcerts"
# The responder first: its port goes into the certificates' AIA.
python3 "$TOP_SRCDIR/t/tools/ocsp_responder.py" "$P/oport" "$P/oargs" "$P/olog" &
RPID=$!
tap_pid "$RPID"
for i in $(seq 50); do [ -s "$P/oport" ] && break; sleep 0.1; done
OPORT=$(cat "$P/oport")
[ -n "$OPORT" ] || { diag "the OCSP responder did not start"; tap_done; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" \
    -out "$P/ca.pem" -days 90 -subj '/CN=OCSP test CA' \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
: > "$P/index.txt"
echo 1000 > "$P/serial"
cat > "$P/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $P/index.txt
new_certs_dir = $P/newcerts
serial = $P/serial
certificate = $P/ca.pem
private_key = $P/ca.key
default_md = sha256
default_days = 90
policy = any
unique_subject = no
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost
extendedKeyUsage = serverAuth
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OPORT/ocsp
[ snileaf ]
basicConstraints = CA:FALSE
subjectAltName = DNS:sni.example.com
extendedKeyUsage = serverAuth
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OPORT/ocsp
[ noaia ]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost
extendedKeyUsage = serverAuth
[ signer ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
EOF
mk() {	# mk NAME EXTENSIONS GENPKEY-ARGS...: $P/NAME.key, .crt, .pem (+ CA)
	_n=$1 _e=$2; shift 2
	openssl genpkey "$@" -out "$P/$_n.key" 2>/dev/null &&
	openssl req -new -key "$P/$_n.key" -subj "/CN=$_n.localhost" -out "$P/$_n.csr" 2>/dev/null &&
	openssl ca -batch -config "$P/ca.cnf" -extensions "$_e" -in "$P/$_n.csr" \
	    -out "$P/$_n.crt" 2>/dev/null &&
	cat "$P/$_n.crt" "$P/ca.pem" > "$P/$_n.pem"
}
EC='-algorithm EC -pkeyopt ec_paramgen_curve:P-256'
mk rsa leaf -algorithm RSA -pkeyopt rsa_keygen_bits:2048
mk ec leaf $EC
mk ch leaf $EC
mk sp leaf $EC
mk sn snileaf $EC
mk other leaf $EC
mk noaia noaia $EC
mk ocsp signer $EC
cat "$P/ch.key" "$P/ch.pem" > "$P/chain.pem"
cat "$P/sn.key" "$P/sn.pem" > "$P/sn.chain"
chmod 600 "$P"/*.key "$P/chain.pem" "$P/sn.chain"
for n in rsa ec ch sp sn other noaia ocsp; do
	[ -s "$P/$n.pem" ] || skip_all "openssl ca could not make the $n certificate"
done
serial() { openssl x509 -in "$P/$1.crt" -noout -serial | sed 's/.*=//'; }
responder() {	# responder SIGNER [ARGS...]: how the responder answers
	_s=$1; shift
	printf '%s\n' -index "$P/index.txt" -CA "$P/ca.pem" -rsigner "$P/$_s.crt" \
	    -rkey "$P/$_s.key" "$@" > "$P/oargs"
}
responder ocsp -ndays 1
requests() { wc -l < "$P/olog" 2>/dev/null || echo 0; }

daemon_setup
sed -i '/^smtpd_tls_cert_file\|^smtpd_tls_key_file\|^smtpd_tls_eccert_file\|^smtpd_tls_eckey_file/d' "$CONF/main.cf"
cat >> "$CONF/main.cf" <<EOF
smtpd_tls_cert_file = $P/rsa.pem
smtpd_tls_key_file = $P/rsa.key
smtpd_tls_eccert_file = $P/ec.pem
smtpd_tls_eckey_file = $P/ec.key
tlsproxy_metrics_listen = 127.0.0.1:0
# reloads here are the test's own (the file watcher would add its own
# when fetch-ocsp rewrites a response, and count the warnings twice)
tlsproxy_watch_files = no
EOF
backend_start http
HPORT=$BPORT
backend_start echo
services "https 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "web 127.0.0.1:0 server 127.0.0.1:$BPORT" \
    "chain 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_chain_files=$P/chain.pem" \
    "split 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_chain_files=$P/sp.key,$P/sp.crt,$P/ca.pem" \
    "sni 127.0.0.1:0 server 127.0.0.1:$BPORT -o tls_server_sni_maps=inline:{sni.example.com=$P/sn.chain}" \
    "named 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_ocsp_response_files=$P/named.der" \
    "off 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_ocsp_stapling=no"

# ------------------------------------------------- fetch-ocsp
out=$(tw fetch-ocsp "$P/noaia.pem" 2>&1); rc=$?
is "$rc" 1 "fetch-ocsp: a certificate without AIA: exit 1"
like "$out" "noaia.pem: certificate .*noaia.localhost names no OCSP responder" "... and says so, naming the file"
out=$(tw fetch-ocsp "$P/rsa.crt" 2>&1); rc=$?
is "$rc" 1 "fetch-ocsp: a certificate file without its issuer: exit 1"
like "$out" "rsa.crt: the issuer of .*rsa.localhost is not in the file" "... and says so"
out=$(tw fetch-ocsp -i "$P/ca.pem" "$P/rsa.crt" 2>&1); rc=$?
is "$rc" 0 "fetch-ocsp -i ISSUERFILE: the issuer from there"
like "$out" "^$P/rsa.crt.ocsp: good until " "... the response is stored beside the certificate"

n0=$(requests)
out=$(tw fetch-ocsp 2>"$T/err"); rc=$?
is "$rc" 0 "fetch-ocsp: every server certificate of the configuration: exit 0"
like "$out" "^$P/rsa.pem.ocsp: good until " "... the RSA certificate of main.cf"
like "$out" "^$P/ec.pem.ocsp: good until " "... the ECDSA certificate of main.cf"
like "$out" "^$P/chain.pem.ocsp: good until " "... the chain file of a service"
like "$out" "^$P/sp.crt.ocsp: good until " "... the certificate file of split chain files (the CA's file is skipped)"
like "$out" "^$P/sn.chain.ocsp: good until " "... the chain file of a tls_server_sni_maps entry"
is "$(echo "$out" | wc -l)" 5 "... each once (the services that share main.cf's add none)"
is "$(($(requests) - n0))" 5 "... one request each to the responder"
like "$(cat "$T/err")" "named sets tlsproxy_tls_ocsp_response_files: skipped" "... a service that names its files is left to -o, and said"
is "$(stat -c %a "$P/rsa.pem.ocsp")" 644 "a stored response is mode 0644"
out=$(openssl ocsp -respin "$P/ec.pem.ocsp" -issuer "$P/ca.pem" -cert "$P/ec.crt" -CAfile "$P/ca.pem" -no_nonce 2>&1)
like "$out" "ec.crt: good" "openssl ocsp verifies the stored response: good"
out=$(tw fetch-ocsp -o "$P/named.der" "$P/ec.pem" 2>&1); rc=$?
is "$rc" 0 "fetch-ocsp -o FILE: exit 0"
like "$out" "^$P/named.der: good until " "... the response is stored there"

sum=$(sha256sum < "$P/rsa.pem.ocsp")
responder other -ndays 1	# signed by a certificate not made for OCSP
out=$(tw fetch-ocsp "$P/rsa.pem" 2>&1); rc=$?
is "$rc" 1 "fetch-ocsp: a response the issuer did not authorise: exit 1"
like "$out" "rsa.pem: the answer of http://127.0.0.1:$OPORT/ocsp is refused: its signature does not verify" "... refused, saying why"
openssl x509 -in "$P/ca.pem" -outform DER -out "$P/ca.der"
printf 'raw\n%s\n' "$P/ca.der" > "$P/oargs"	# DER, but no OCSP response
out=$(tw fetch-ocsp "$P/rsa.pem" 2>&1); rc=$?
is "$rc" 1 "fetch-ocsp: a responder that answers something else: exit 1"
like "$out" "refused: not a DER OCSP response" "... refused, saying why"
is "$(sha256sum < "$P/rsa.pem.ocsp")" "$sum" "... and the stored response is untouched"
responder ocsp -ndays 1

# ------------------------------------------------- checks
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 0 "tlswardd -t: exit 0"
like "$out" "service web: OCSP response $P/rsa.pem.ocsp: stapling status good for .*rsa.localhost" "tlswardd -t: the RSA response will be stapled"
like "$out" "service web: OCSP response $P/ec.pem.ocsp: stapling status good for .*ec.localhost" "tlswardd -t: and the ECDSA one"
out=$(tw check 2>&1); rc=$?
is "$rc" 0 "tlsward check: exit 0"
unlike "$out" "warning: .*OCSP" "tlsward check: no OCSP warning"

# ------------------------------------------------- stapling
# status PORT SIGALGS [s_client args]: what s_client -status reports
status() {
	_p=$1 _s=$2; shift 2
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$_p" -status -sigalgs "$_s" "$@" 2>&1 |
	    grep -E 'OCSP response:|OCSP Response Status|Cert Status|^ *Serial Number: [0-9A-F]+$|Peer signature type'
}
RSA=RSA-PSS+SHA256
ECDSA=ECDSA+SHA256
# stcert SERVICE CN EXPR: EXPR (Python, on the certificate c and its
# service s) from the JSON status, for the certificate of SERVICE whose
# subject is CN=CN
stcert() {
	tw status --json > "$T/status.json" &&
	python3 -c 'import json, sys
for s in json.load(open(sys.argv[1]))["services"]:
    for c in s["certificates"]:
        if s["name"] == sys.argv[2] and c["subject"] == "CN=" + sys.argv[3]:
            print(eval(sys.argv[4]))' "$T/status.json" "$@"
}
# when FILE: the nextUpdate of the response in FILE, as Unix time
when() {
	date -u -d "$(openssl ocsp -respin "$1" -resp_text -noverify 2>/dev/null |
	    sed -n 's/^ *Next Update: //p' | head -n 1)" +%s
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
PROM="python3 $TOP_SRCDIR/t/tools/prom_check.py"
metric() { curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" > "$T/m" && $PROM "$T/m" "$@"; }
sent() { stcert "$1" "$2" 's["ocsp"]["sent"]'; }
if daemon_start; then
	web=$(port_of web)
	MPORT=$(sed -n 's/.*metrics: listening on \[127\.0\.0\.1\]:\([0-9]*\)$/\1/p' "$DLOG" | tail -n 1)
	like "$(cat "$DLOG")" "service web: OCSP response $P/rsa.pem.ocsp: stapling status good" "the daemon logs what it staples"

	# -------------------------------------------- status and metrics
	nu=$(when "$P/rsa.pem.ocsp")
	is "$(stcert web rsa.localhost 'c["ocsp"]["state"], c["ocsp"]["status"], c["ocsp"]["next_update"]')" \
	    "('stapled', 'good', '$(iso "$nu")')" "status --json: the RSA certificate's staple, good, with the response's nextUpdate"
	is "$(stcert web ec.localhost 'c["ocsp"]["state"], c["ocsp"]["next_update"]')" \
	    "('stapled', '$(iso "$(when "$P/ec.pem.ocsp")")')" "... the ECDSA certificate's its own"
	is "$(stcert sni sn.localhost 'c["ocsp"]["state"]')" stapled "... an SNI entry's certificate its own"
	is "$(stcert off rsa.localhost 'c["ocsp"]')" "{'state': 'none'}" "a service with stapling off: none"
	is "$(stcert named rsa.localhost 'c["ocsp"]["state"]')" none "... a named file about the other certificate: none for this one"
	is "$(sent web ec.localhost)" 0 "no staple sent yet"
	status "$web" $RSA >/dev/null
	status "$web" $ECDSA >/dev/null
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$web" >/dev/null 2>&1
	status "$(port_of off)" $RSA >/dev/null
	is "$(sent web ec.localhost)" 2 "two clients asked: two staples sent (not to the one that did not ask)"
	is "$(sent off rsa.localhost)" 0 "... none by the service with stapling off"
	out=$(tw status)
	like "$out" "^    OCSP staple: good, thisUpdate [-0-9T:]+Z, nextUpdate $(iso "$nu") \(expires in (23h [0-9]+m [0-9]+s|1d 0h 0m)\)$" \
	    "status (text): the staple under its certificate, with its time left"
	like "$out" "^  OCSP:        2 staples sent$" "status (text): the staples sent"
	is "$(echo "$out" | sed -n '/^service off /,/^$/p' | grep -c OCSP)" 0 "status (text): no OCSP line for the service with stapling off"
	ok "$(metric >/dev/null; echo $?)" "the metrics parse (strict)"
	is "$(metric tlsward_ocsp_staple_next_update_timestamp_seconds service=web subject=CN=rsa.localhost)" "$nu" \
	    "metrics: the staple's nextUpdate"
	is "$(metric tlsward_ocsp_staple_valid service=web subject=CN=rsa.localhost cert_status=good)" 1 "metrics: the staple is valid, good"
	is "$(metric tlsward_ocsp_staples_sent_total service=web)" 2 "metrics: the staples sent"
	is "$(metric tlsward_ocsp_staple_next_update_timestamp_seconds service=off)" none "metrics: no staple for the service with stapling off"

	out=$(status "$web" $RSA)
	like "$out" "Peer signature type: RSA" "RSA client: the RSA certificate"
	like "$out" "OCSP Response Status: successful" "RSA client: a response is stapled"
	like "$out" "Cert Status: good" "RSA client: status good"
	like "$out" "Serial Number: $(serial rsa)\$" "RSA client: the response is the RSA certificate's"
	out=$(status "$web" $ECDSA)
	like "$out" "Peer signature type: ECDSA" "ECDSA client: the ECDSA certificate"
	like "$out" "Cert Status: good" "ECDSA client: status good"
	like "$out" "Serial Number: $(serial ec)\$" "ECDSA client: the response is the ECDSA certificate's"
	out=$(status "$web" $ECDSA -tls1_2)
	like "$out" "Serial Number: $(serial ec)\$" "TLS 1.2 (CertificateStatus message): stapled too"
	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$web" -tls1_2 -status -tlsextdebug 2>&1)
	like "$out" 'TLS server extension "status request"' "TLS 1.2: a client that asks gets the status_request extension back"
	out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$web" -tls1_2 -tlsextdebug 2>&1)
	unlike "$out" 'status request|OCSP response' "a client that does not ask gets no status"
	like "$out" 'Verify return code|Cipher is' "... and its handshake finishes"
	out=$(status "$(port_of chain)" $ECDSA)
	like "$out" "Serial Number: $(serial ch)\$" "chain files: FILE.ocsp beside the chain file is stapled"
	out=$(status "$(port_of split)" $ECDSA)
	like "$out" "Serial Number: $(serial sp)\$" "split chain files: FILE.ocsp beside the certificate's file is stapled"
	out=$(status "$(port_of sni)" $ECDSA -servername sni.example.com)
	like "$out" "Serial Number: $(serial sn)\$" "SNI: the entry's certificate gets the response beside its chain file"
	out=$(status "$(port_of sni)" $ECDSA)
	like "$out" "Serial Number: $(serial ec)\$" "SNI: without the name, the default certificate its own"
	unlike "$(cat "$DLOG")" "service sni: OCSP .*not stapled" "SNI: each context is judged with its own responses (no warning)"
	out=$(status "$(port_of named)" $ECDSA)
	like "$out" "Serial Number: $(serial ec)\$" "tlsproxy_tls_ocsp_response_files: the named file is stapled"
	out=$(status "$(port_of named)" $RSA)
	like "$out" "OCSP response: no response sent" "... and only it (the RSA certificate has none there)"
	out=$(status "$(port_of off)" $RSA)
	like "$out" "OCSP response: no response sent" "tlsproxy_tls_ocsp_stapling = no: nothing stapled"
	# curl --cert-status verifies the staple itself
	https=$(port_of https)
	out=$(curl -s --max-time 10 --cert-status --cacert "$P/ca.pem" \
	    --resolve "localhost:$https:127.0.0.1" "https://localhost:$https/" 2>&1)
	is "$out" "hello" "curl --cert-status accepts the stapled response (ECDSA)"
	out=$(curl -s --max-time 10 --cert-status --cacert "$P/ca.pem" --tls-max 1.2 \
	    --ciphers ECDHE-RSA-AES128-GCM-SHA256 \
	    --resolve "localhost:$https:127.0.0.1" "https://localhost:$https/" 2>&1)
	is "$out" "hello" "... and the RSA certificate's"

	# -------------------------------------------- revoked
	openssl ca -config "$P/ca.cnf" -revoke "$P/rsa.crt" >/dev/null 2>&1
	out=$(tw fetch-ocsp "$P/rsa.pem" 2>&1); rc=$?
	is "$rc" 0 "after revocation: fetch-ocsp stores the answer"
	like "$out" "^$P/rsa.pem.ocsp: REVOKED since " "... and says the certificate is revoked"
	: > "$DLOG.mark"
	out=$(tw reload 2>&1)
	like "$out" "configuration reloaded" "reload"
	out=$(status "$web" $RSA)
	like "$out" "Cert Status: revoked" "the revocation is stapled"
	is "$(stcert web rsa.localhost 'c["ocsp"]["state"], c["ocsp"]["status"]')" "('stapled', 'revoked')" "status: the staple says revoked"
	curl -s --max-time 10 --cert-status --cacert "$P/ca.pem" --tls-max 1.2 \
	    --ciphers ECDHE-RSA-AES128-GCM-SHA256 \
	    --resolve "localhost:$https:127.0.0.1" "https://localhost:$https/" >/dev/null 2>&1
	is "$?" 91 "curl --cert-status refuses the revoked certificate (CURLE_SSL_INVALIDCERTSTATUS)"
	like "$(cat "$DLOG")" "warning: service web: OCSP response $P/rsa.pem.ocsp: certificate .*rsa.localhost is REVOKED" "... and logged"
	is "$(grep -c 'service web: .*rsa.localhost is REVOKED' "$DLOG")" 1 "... once (not by the supervisor's check too)"
	out=$(tw check 2>&1)
	like "$out" "warning: service web: OCSP response $P/rsa.pem.ocsp: certificate .* is REVOKED" "tlsward check warns about it"

	# -------------------------------------------- another certificate's
	tw fetch-ocsp -o "$P/rsa.pem.ocsp" "$P/other.pem" >/dev/null 2>&1
	tw reload >/dev/null 2>&1
	out=$(status "$web" $RSA)
	like "$out" "OCSP response: no response sent" "a response about another certificate is not stapled"
	like "$(cat "$DLOG")" "service web: OCSP response $P/rsa.pem.ocsp: not stapled: it is about none of the service's certificates" "... and is logged, naming the file"
	out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
	is "$rc" 0 "tlswardd -t: still exit 0 (a warning)"
	like "$out" "warning: service web: OCSP response $P/rsa.pem.ocsp: not stapled: it is about none" "tlswardd -t warns"
	out=$(tw check 2>&1); rc=$?
	is "$rc" 0 "tlsward check: exit 0"
	like "$out" "^warning: service web: OCSP response $P/rsa.pem.ocsp: not stapled: it is about none" "tlsward check warns, naming the file"

	# -------------------------------------------- garbage
	echo 'not a response' > "$P/rsa.pem.ocsp"
	tw reload >/dev/null 2>&1
	out=$(status "$web" $RSA)
	like "$out" "OCSP response: no response sent" "garbage is not stapled"
	is "$(stcert web rsa.localhost 'c["ocsp"]["state"]')" none "status: no staple for it"
	like "$(cat "$DLOG")" "OCSP response $P/rsa.pem.ocsp: not stapled: not a DER OCSP response" "... and is logged"
	out=$(tw check 2>&1)
	like "$out" "^warning: .*$P/rsa.pem.ocsp: not stapled: not a DER OCSP response" "tlsward check warns"
	out=$(status "$web" $ECDSA)
	like "$out" "Serial Number: $(serial ec)\$" "... while the ECDSA response is still stapled"

	# -------------------------------------------- stale
	openssl ocsp -issuer "$P/ca.pem" -cert "$P/ec.crt" -no_nonce -reqout "$P/ec.req" 2>/dev/null
	faketime -f -2d openssl ocsp -index "$P/index.txt" -CA "$P/ca.pem" -rsigner "$P/ocsp.crt" \
	    -rkey "$P/ocsp.key" -reqin "$P/ec.req" -respout "$P/ec.pem.ocsp" -ndays 1 >/dev/null 2>&1
	out=$(tw check 2>&1)
	like "$out" "^warning: service web: OCSP response $P/ec.pem.ocsp: not stapled: it is stale: its nextUpdate, .*, has passed" "a stale response: tlsward check warns"
	tw reload >/dev/null 2>&1
	out=$(status "$web" $ECDSA)
	like "$out" "OCSP response: no response sent" "a stale response is not stapled"
	like "$(cat "$DLOG")" "OCSP response $P/ec.pem.ocsp: not stapled: it is stale" "... and is logged"
	# good for about 10 more seconds: stapled, then no longer
	faketime -f -50s openssl ocsp -index "$P/index.txt" -CA "$P/ca.pem" -rsigner "$P/ocsp.crt" \
	    -rkey "$P/ocsp.key" -reqin "$P/ec.req" -respout "$P/ec.pem.ocsp" -nmin 1 >/dev/null 2>&1
	tw reload >/dev/null 2>&1
	out=$(status "$web" $ECDSA)
	like "$out" "Cert Status: good" "a response that goes stale soon: stapled while fresh"
	for i in $(seq 30); do
		out=$(status "$web" $ECDSA)
		echo "$out" | grep -q 'no response sent' && break
		sleep 1
	done
	like "$out" "OCSP response: no response sent" "... and no longer once its nextUpdate has passed"
	like "$(cat "$DLOG")" "service web: OCSP response $P/ec.pem.ocsp went stale at .*: no longer stapled" "... which is logged"
	is "$(stcert web ec.localhost 'c["ocsp"]["state"], c["ocsp"]["expires_in_s"] <= 0')" "('expired', True)" "status --json: the staple shows expired"
	like "$(tw status)" "^    OCSP staple: good, thisUpdate .*, nextUpdate .* \(EXPIRED [0-9]+s ago: no longer sent\)$" "status (text): EXPIRED, no longer sent"
	is "$(metric tlsward_ocsp_staple_valid service=web subject=CN=ec.localhost)" 0 "metrics: the staple is no longer valid"
	n=$(sent web ec.localhost)
	status "$web" $ECDSA >/dev/null
	is "$(sent web ec.localhost)" "$n" "... and a client that asks gets none: the sent counter stays"
	is "$(grep -c 'service web: .*ec.pem.ocsp went stale' "$DLOG")" 1 "... once"
	daemon_stop
else
	daemon_log
fi

# ------------------------------------------------- a named file that is missing
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_ocsp_response_files=$P/missing.der"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 0 "a named response file that is missing: tlswardd -t still exit 0"
like "$out" "warning: service web: OCSP response: .*$P/missing.der.*: not stapled" "... with a warning naming it"

# ------------------------------------------------- responder gone
kill "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
out=$(tw fetch-ocsp -t 2 "$P/ec.pem" 2>&1); rc=$?
is "$rc" 1 "fetch-ocsp: an unreachable responder: exit 1"
like "$out" "ec.pem: no answer from the OCSP responder http://127.0.0.1:$OPORT/ocsp" "... and says so"
tap_done
