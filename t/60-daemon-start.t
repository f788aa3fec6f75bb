#!/bin/sh
# t/60-daemon-start.t - tlswardd options, -t, and every startup error is
# one clear message naming the file, line, parameter or service.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

out=$("$TLSWARDD" -V); rc=$?
is "$rc" 0 "-V: exit 0"
like "$out" '^tlswardd [0-9.]+ \(OpenSSL 3' "-V prints the version"
out=$("$TLSWARDD" --help); rc=$?
is "$rc" 0 "--help: exit 0"
like "$out" '-t +check the configuration' "--help describes -t"
out=$("$TLSWARDD" -h 2>/dev/null); rc=$?
is "$rc" 0 "-h: exit 0 (help, not a usage error)"
like "$out" '^usage: tlswardd' "-h prints the usage on stdout"
out=$("$TLSWARDD" -Z 2>&1); rc=$?
is "$rc" 2 "unknown option: exit 2"
out=$("$TLSWARDD" extra 2>&1); rc=$?
is "$rc" 2 "extra argument: exit 2"

daemon_setup
backend_start echo
check() {	# check NAME REGEX : -t fails with a message matching REGEX
	out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
	is "$rc" 1 "-t with $1: exit 1"
	like "$out" "$2" "-t with $1: the message names it"
}

out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 1 "no services.cf: exit 1"
like "$out" 'services.cf.*No such file' "no services.cf: named"

services "https 127.0.0.1:0 server 127.0.0.1:$BPORT"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 0 "-t on a good configuration: exit 0"
like "$out" 'configuration OK' "-t says OK"

services "https 127.0.0.1:0 server" 
check "a short services.cf line" 'services.cf:1: want: name listen role forward'
services "# comment" "" "https 127.0.0.1:0 proxy 127.0.0.1:1"
check "an unknown role" 'services.cf:3: unknown role "proxy"'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT" "https 127.0.0.1:0 server 127.0.0.1:$BPORT"
check "a duplicate service name" 'services.cf:2: duplicate service name "https"'
services "hand unix:$T/handoff control 127.0.0.1:25"
check "a control service with a forward target" 'services.cf:1: a control service forwards nowhere'
services "https nonsense server 127.0.0.1:$BPORT"
check "a bad listen address" 'services.cf:1: bad address "nonsense"'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_protocols=TLSv9"
check "a bad -o protocol list" 'service https: parameter tlsproxy_tls_protocols: invalid protocol "TLSv9"'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_ciphers=superb"
check "a bad -o cipher grade" 'service https: parameter tlsproxy_tls_ciphers: invalid cipher grade "superb"'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_security_level="
check "security level none" 'service https: the TLS security level is none'
like "$out" 'tlsward enable-server' "security level none: says which command sets it up"
like "$out" '^tlswardd: error: service https: the TLS security level' "-t reports errors as errors, not warnings"
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_cert_file= -o tlsproxy_tls_key_file="
check "no certificate" 'service https: no server certificate'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_cert_file=/nonexistent.pem"
check "a missing certificate file" 'service https: parameter tlsproxy_tls_cert_file: cannot open /nonexistent.pem'
other=$(ls "$CONF"/cert-*.pem | head -n 1)
tw new-server-key -a ecdsa >/dev/null 2>&1	# eckey-*: no name clash
newkey=$(ls "$CONF"/eckey-*.pem | head -n 1)
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_key_file=$newkey -o tlsproxy_tls_cert_file=$other"
check "a key that does not match the certificate" 'does not match the certificate'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_max_threads=9"
check "-o of a daemon-wide parameter" 'service https: -o tlsproxy_max_threads: a daemon-wide parameter; set it in main.cf'
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT"
echo 'tlsproxy_min_threads = 0' >> "$CONF/main.cf"
check "tlsproxy_min_threads = 0" 'tlsproxy_min_threads: want a number from 1'
sed -i '/tlsproxy_min_threads = 0/d' "$CONF/main.cf"
echo 'tlsproxy_sandbox = strict' >> "$CONF/main.cf"
check "an unknown sandbox mode" 'tlsproxy_sandbox: "strict"'
sed -i '/tlsproxy_sandbox = strict/d' "$CONF/main.cf"
echo 'bad line' >> "$CONF/main.cf"
check "a malformed main.cf" 'main.cf:[0-9]+: missing "="'
sed -i '/^bad line$/d' "$CONF/main.cf"

# A start with the same errors does not start.
services "https 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_cert_file="
out=$(timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1); rc=$?
is "$rc" 1 "start with no certificate: exit 1"
like "$out" 'no server certificate' "start with no certificate: says why"

# Listening on a port that is taken.
python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
open(sys.argv[1],"w").write(str(s.getsockname()[1])); time.sleep(30)' "$T/taken" &
tap_pid $!
for i in $(seq 50); do [ -s "$T/taken" ] && break; sleep 0.1; done
services "https 127.0.0.1:$(cat "$T/taken") server 127.0.0.1:$BPORT"
out=$(timeout 10 "$TLSWARDD" -c "$CONF" -f 2>&1); rc=$?
is "$rc" 1 "a listen port in use: exit 1"
like "$out" "service https: listen 127.0.0.1:[0-9]+: Address already in use" \
    "a listen port in use: named"

tap_done
