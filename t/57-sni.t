#!/bin/sh
# t/57-sni.t - certificates by SNI (tls_server_sni_maps): texthash: and
# inline: tables; openssl s_client -servername and curl --resolve see
# the certificate of the exact name, of a ".parent" entry, of a wildcard
# certificate, RSA for one name and ECDSA for another; no SNI and an
# unknown name get the default certificate, or with
# tlsproxy_sni_refuse_unknown an unrecognized_name alert; a matched name
# is in the established line; hand-off (server role) and postfix
# services choose alike; tlsward status lists the certificates; a reload
# picks up a changed table; "tlswardd -t" and "tlsward check" reject bad
# entries naming the table file and line; inline: syntax as Postfix's.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup

P=$T/pki; mkdir "$P"
mkca ca "SNI Test CA"
mkleaf_rsa() {	# mkleaf_rsa NAME CN DNSNAME...: as mkleaf, RSA 2048
	_n=$1 _cn=$2; shift 2
	_san=$(printf 'DNS:%s,' "$@"); _san=${_san%,}
	openssl req -new -newkey rsa:2048 -nodes -keyout "$P/$_n.key" \
	    -out "$P/$_n.csr" -subj "/CN=$_cn" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$_san" > "$P/$_n.ext"
	openssl x509 -req -in "$P/$_n.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" \
	    -CAcreateserial -days 2 -out "$P/$_n.crt" -extfile "$P/$_n.ext" 2>/dev/null
}
mkleaf_rsa a a.example.com a.example.com
mkleaf b ca b.example.com b.example.com
mkleaf wild ca wild.example.net '*.wild.example.net' wild.example.net
mkleaf org ca example.org '*.example.org' example.org
mkleaf new ca new.example.com new.example.com
mkleaf aec ca a.example.com a.example.com
mkdir "$CONF/sni"
for n in a aec b wild org new; do	# key, certificate, issuer: one chain file
	cat "$P/$n.key" "$P/$n.crt" "$P/ca.crt" > "$CONF/sni/$n.pem"
done
# a key that does not match its certificate
cat "$P/b.key" "$P/a.crt" > "$CONF/sni/mismatch.pem"
chmod 600 "$CONF"/sni/*.pem

SANDBOX=enforce
daemon_setup
cat > "$CONF/sni.map" <<'EOT'
# name           chain files
a.example.com    sni/a.pem
B.Example.COM    sni/b.pem
wild.example.net sni/wild.pem
.wild.example.net
    sni/wild.pem
.example.org     sni/org.pem
EOT
echo 'tls_server_sni_maps = texthash:sni.map' >> "$CONF/main.cf"
backend_start http; HPORT=$BPORT
backend_start echo; EPORT=$BPORT
INL='inline:{a.example.com=sni/a.pem,{b.example.com=sni/b.pem}}'
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "inl 127.0.0.1:0 server 127.0.0.1:$EPORT -o tls_server_sni_maps=$INL" \
    "strict 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_sni_refuse_unknown=yes" \
    "plain 127.0.0.1:0 server 127.0.0.1:$EPORT -o tls_server_sni_maps=" \
    "handoff unix:handoff.sock control -" \
    "pf unix:$T/pf.sock postfix -"

out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 0 "tlswardd -t accepts the tables" || diag "$out"
like "$out" 'sni.map:2: the certificate expires in 1 day' "tlswardd -t warns of a certificate that expires soon, with file:line"
unlike "$out" 'does not cover names under wild' "a wildcard certificate covers its .parent entry"

daemon_start || { daemon_log; tap_done; exit; }
web=$(port_of web) inl=$(port_of inl) strict=$(port_of strict) plain=$(port_of plain)

# served NAME PORT [s_client args]: the subject CN and key size served
served() {
	_n=$1 _p=$2; shift 2
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$_p" \
	    -servername "$_n" -CAfile "$P/ca.crt" "$@" 2>&1 |
	    sed -n -e 's/^subject=.*CN *= *\([^,]*\).*/cn=\1/p' \
	        -e 's/^Server public key is \([0-9]*\) bit/bits=\1/p' \
	        -e 's/^ *Verify return code: \([0-9]*\).*/verify=\1/p' |
	    awk '!seen[$0]++' | tr '\n' ' '
}
DFLT='^cn=localhost bits=2048 '	# the default (self-signed) certificate
is "$(served a.example.com "$web" -verify_hostname a.example.com)" \
    "cn=a.example.com bits=2048 verify=0 " "exact name: its RSA certificate, verified for the name"
is "$(served b.example.com "$web" -verify_hostname b.example.com)" \
    "cn=b.example.com bits=256 verify=0 " "another name: its ECDSA certificate (a table key in capitals matches)"
is "$(served A.EXAMPLE.COM "$web")" "cn=a.example.com bits=2048 verify=0 " "the name the client sends is folded to lower case"
is "$(served wild.example.net "$web")" "cn=wild.example.net bits=256 verify=0 " "a wildcard certificate for its own name"
is "$(served x.wild.example.net "$web" -verify_hostname x.wild.example.net)" \
    "cn=wild.example.net bits=256 verify=0 " "a .parent entry: a subdomain gets the wildcard certificate, which verifies"
is "$(served deep.x.example.org "$web")" "cn=example.org bits=256 verify=0 " "a .parent entry matches names any depth under it"
like "$(served example.com "$web")" "$DFLT" "an unknown name: the default certificate"
like "$(served example.org.evil "$web")" "$DFLT" "a parent entry does not match a longer name that only starts with it"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$web" -noservername 2>&1 | sed -n 's/^subject=.*CN *= *//p')
is "$out" "localhost" "no SNI: the default certificate"
like "$(served b.example.com "$plain")" "$DFLT" "a service whose -o empties the table serves its default"
wait_log 'TLS SNI example.com not matched, using the default certificate' 5
ok $? "an unmatched name is logged (as Postfix does)"
like "$(cat "$DLOG")" 'service=web: Anonymous TLS connection established from \[127\.0\.0\.1\]:[0-9]+ to b\.example\.com: TLSv1\.3' "a matched name is in the established line (\"from ADDR to NAME\", as Postfix)"
unlike "$(cat "$DLOG")" 'established from \[127\.0\.0\.1\]:[0-9]+ to example\.com:' "an unmatched one is not"

# inline: table (per service, -o)
is "$(served a.example.com "$inl")" "cn=a.example.com bits=2048 verify=0 " "inline: table: first entry"
is "$(served b.example.com "$inl")" "cn=b.example.com bits=256 verify=0 " "inline: table: a braced entry"
like "$(served wild.example.net "$inl")" "$DFLT" "inline: table: a name only the other service's table has"
out=$(tls_line "$inl" "sni-echo" -servername b.example.com)
is "$out" "sni-echo" "data flows through a session moved to an SNI certificate"

# tlsproxy_sni_refuse_unknown = yes
is "$(served a.example.com "$strict")" "cn=a.example.com bits=2048 verify=0 " "refusing service: a known name is served"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$strict" -servername nope.example.com 2>&1); rc=$?
ok $((rc == 0)) "refusing service: an unknown name is refused"
like "$out" 'unrecognized name' "... with an unrecognized_name alert"
wait_log 'service=strict peer=\[127\.0\.0\.1\]:[0-9]+: TLS SNI nope\.example\.com not matched: refused' 5
ok $? "... and logged"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$strict" -servername 'bad..name' 2>&1); rc=$?
ok $((rc == 0)) "refusing service: an invalid name is refused too"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$strict" -noservername 2>&1 | sed -n 's/^subject=.*CN *= *//p')
is "$out" "localhost" "refusing service: no SNI still gets the default certificate"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$web" -servername 'bad..name' 2>&1 | sed -n 's/^subject=.*CN *= *//p')
is "$out" "localhost" "an invalid name: the default certificate"
wait_log 'TLS SNI "bad\.\.name" is invalid' 5
ok $? "... with a warning"

# TLS 1.2 and TLS 1.3 alike
is "$(served b.example.com "$web" -tls1_2)" "cn=b.example.com bits=256 verify=0 " "TLS 1.2: the SNI certificate"
is "$(served b.example.com "$web" -tls1_3)" "cn=b.example.com bits=256 verify=0 " "TLS 1.3: the SNI certificate"

# curl for two names
out=$(curl -s --max-time 10 --cacert "$P/ca.crt" --resolve "a.example.com:$web:127.0.0.1" "https://a.example.com:$web/")
is "$out" "hello" "curl --resolve a.example.com: verified and served"
out=$(curl -s --max-time 10 --cacert "$P/ca.crt" --resolve "b.example.com:$web:127.0.0.1" "https://b.example.com:$web/")
is "$out" "hello" "curl --resolve b.example.com: verified and served"
out=$(curl -s --max-time 10 --cacert "$P/ca.crt" --resolve "www.wild.example.net:$web:127.0.0.1" "https://www.wild.example.net:$web/")
is "$out" "hello" "curl --resolve www.wild.example.net: the wildcard certificate verifies"
curl -s --max-time 10 --cacert "$P/ca.crt" --resolve "other.example.com:$web:127.0.0.1" "https://other.example.com:$web/" >/dev/null
ok $((! $?)) "curl: an unknown name gets the default certificate, which does not verify for it"

# a server-role hand-off takes the same path: the peer that sends
# b.example.com verifies the certificate for that name
export TOP_SRCDIR
hoverify() {	# hoverify NAME: "ok CN" or why not
	python3 - "$CONF/handoff.sock" "$1" "$P/ca.crt" <<'EOT'
import os, socket, ssl, sys, threading
sys.path.insert(0, os.path.join(os.environ["TOP_SRCDIR"], "contrib"))
import handoff_client
path, name, ca = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
a, b = socket.socketpair()
a.settimeout(10)
box = {}
def peer():
    try:
        box["tls"] = ctx.wrap_socket(a, server_hostname=name)
    except Exception as e:
        box["err"] = e
t = threading.Thread(target=peer); t.start()
try:
    conn, outcome = handoff_client.handoff(path, b, "server", "[192.0.2.1]:1", timeout=10)
except Exception as e:
    box.setdefault("err", e)
b.close(); t.join(10)
if "tls" in box:
    cn = [v for f in box["tls"].getpeercert()["subject"] for k, v in f if k == "commonName"]
    print("ok", cn[0])
else:
    print("failed:", type(box.get("err")).__name__)
EOT
}
is "$(hoverify b.example.com)" "ok b.example.com" "hand-off, server role: the certificate of the SNI name, verified"
is "$(hoverify x.wild.example.net)" "ok wild.example.net" "hand-off, server role: a .parent entry"
like "$(hoverify unknown.example.com)" '^failed: SSLCertVerificationError' "hand-off, server role: an unknown name gets the default, which does not verify"

# tlsward status lists the SNI certificates with the service's own
tw status > "$T/status" 2>&1
section() { awk -v s="service $1 " 'index($0, s) == 1 { on = 1; print; next } /^service / { on = 0 } on' "$T/status"; }
like "$(section web)" 'certificate: CN=b\.example\.com, EC 256 bits' "tlsward status lists an SNI certificate"
like "$(section web)" 'certificate: CN=localhost, RSA 2048 bits' "... and the service's own"
like "$(section plain)" 'certificate: CN=localhost' "a service without the table: its own certificate"
unlike "$(section plain)" 'CN=b\.example\.com' "... not for a service without the table"

# the postfix role (tlsproxy(8)'s protocol) too, as in Postfix
PFC="python3 $TOP_SRCDIR/t/tools/pfclient.py"
out=$(PFC_SNI=b.example.com $PFC "$T/pf.sock" session 5 2>&1)
like "$out" 'srvr_signature=ECDSA' "postfix role: the ECDSA certificate of b.example.com signs"
like "$out" 'client got 250 hello' "... and the session relays"
out=$(PFC_SNI=unknown.example.com $PFC "$T/pf.sock" session 5 2>&1)
like "$out" 'srvr_signature=RSA-PSS' "postfix role: an unknown name gets the default (RSA) certificate"

# a reload picks up a changed table (and a new chain file)
like "$(served new.example.com "$web")" "$DFLT" "before the reload: new.example.com is unknown"
printf 'new.example.com sni/new.pem\n' >> "$CONF/sni.map"
sed -i 's|^a.example.com .*|a.example.com    sni/aec.pem, sni/a.pem|' "$CONF/sni.map"
out=$(tw reload 2>&1); rc=$?
is "$rc" 0 "tlsward reload" || diag "$out"
is "$(served new.example.com "$web" -verify_hostname new.example.com)" \
    "cn=new.example.com bits=256 verify=0 " "after the reload: the new entry is served"
# two chains for one name: the client's signature algorithms choose
out=$(served a.example.com "$web" -sigalgs ECDSA+SHA256)
like "$out" 'cn=a.example.com bits=256' "after the reload: an entry with an ECDSA and an RSA chain serves ECDSA to an ECDSA-only client"
out=$(served a.example.com "$web" -sigalgs RSA-PSS+SHA256)
like "$out" 'cn=a.example.com bits=2048' "... and RSA to an RSA-only client"

# a reload with a bad table is refused; the running one stays
cp "$CONF/sni.map" "$T/sni.good"
printf '*.example.com sni/a.pem\n' >> "$CONF/sni.map"
out=$(tw reload 2>&1); rc=$?
ok $((rc == 0)) "a reload with a bad entry is refused"
is "$(served new.example.com "$web")" "cn=new.example.com bits=256 verify=0 " "the running table stays"
cp "$T/sni.good" "$CONF/sni.map"
daemon_stop
ok $? "the daemon stops"

# "tlswardd -t" and "tlsward check": every entry judged. The table's
# syntax and files first (the loader) ...
cat > "$CONF/sni.map" <<'EOT'
a.example.com    sni/a.pem
*.example.com    sni/a.pem
gone.example.com sni/missing.pem
nofile.example.com
EOT
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t: bad entries fail the check"
like "$out" 'sni.map:2: "\*\.example\.com" is not a host name or \.domain' "a '*' key: rejected with file:line"
like "$out" 'sni.map:3: .*missing\.pem' "a chain file that does not exist: file:line"
like "$out" 'sni.map:4: want "key whitespace value"' "an entry without chain files: file:line"
# ... then what the files hold (the contexts, as the worker builds them)
cat > "$CONF/sni.map" <<'EOT'
a.example.com    sni/a.pem
z.example.com    sni/a.pem
m.example.com    sni/mismatch.pem
.example.net     sni/b.pem
EOT
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t: entries whose certificates do not fit fail the check"
like "$out" 'sni.map:2: the certificate .*a\.example\.com does not cover z\.example\.com' "a certificate that does not cover the name: file:line"
like "$out" 'sni.map:3.*(mismatch|does not match)' "a key that does not match its certificate: file:line"
like "$out" 'warning: .*sni.map:4: the certificate .*b\.example\.com does not cover names under example\.net' "a .parent entry without a wildcard: a warning"
out=$(tw check 2>&1); rc=$?
is "$rc" 1 "tlsward check: exit 1"
like "$out" 'error: .*sni.map:2: the certificate .* does not cover z\.example\.com' "tlsward check reports the same errors"

# inline: syntax as Postfix reads it
cp "$T/sni.good" "$CONF/sni.map"
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT -o tls_server_sni_maps=inline:{}" \
    "w2 127.0.0.1:0 server 127.0.0.1:$HPORT -o tls_server_sni_maps=inline:{a.example.com}" \
    "w3 127.0.0.1:0 server 127.0.0.1:$HPORT -o tls_server_sni_maps=hash:sni.map"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t: bad inline: tables fail"
like "$out" 'service web: parameter tls_server_sni_maps: inline:\{\}: empty table' "an empty inline: table"
like "$out" "service w2: .*inline: entry 1 .*missing '='" "an inline: entry without '='"
like "$out" 'service w3: .*only inline: and texthash: tables' "other table types are refused by name"
tap_done
