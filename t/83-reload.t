#!/bin/sh
# t/83-reload.t - reload (SIGHUP and "tlsward reload"): new sessions get
# the new key while a session in flight finishes on the old one;
# listeners added in services.cf open and removed ones close (their
# socket files go); every error of a bad configuration is reported and
# nothing changes; a worker restarted after a reload serves the new
# configuration; the admin socket is root's.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# fp PORT: SHA-256 fingerprint of the certificate the server presents.
fp() {
	openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//; s/://g' |
	    tr 'A-F' 'a-f'
}
fp_file() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
get() { curl -sk --max-time 5 "https://127.0.0.1:$1/"; }
listening() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)' "$1" 2>/dev/null; }

daemon_setup
echo "tlsproxy_admin_socket = $T/admin.sock" >> "$CONF/main.cf"
backend_start http
HPORT=$BPORT
backend_start echo
EPORT=$BPORT
chmod 755 "$T"
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "sock unix:$T/tls.sock server 127.0.0.1:$HPORT"
daemon_start || { daemon_log; tap_done; exit 1; }
web=$(port_of web)
echo=$(port_of echo)
cert1=$(sed -n 's/^smtpd_tls_cert_file = //p' "$CONF/main.cf")
is "$(fp "$web")" "$(fp_file "$cert1")" "the deployed certificate is served"

# the admin socket: root's only
is "$(stat -c '%a %u' "$T/admin.sock")" "600 $(id -u)" "the admin socket is mode 0600, owned by the daemon's user"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$TLSWARD" -c "$CONF" status 2>&1)
	is "$?" 1 "another user cannot ask for status"
	like "$out" "cannot reach tlswardd at $T/admin.sock: Permission denied \(root or the daemon's user only\)" "... and is told why"
else
	skip "another user cannot ask" "not root"; skip "... told why" "not root"
fi

# unchanged configuration: a reload keeps every listener
out=$(tw reload); rc=$?
is "$rc" 0 "tlsward reload: exit 0"
is "$out" "tlswardd: configuration reloaded (generation 2)" "tlsward reload reports the new generation"
is "$(port_of web)" "$web" "an unchanged listener keeps its port (the same socket)"
is "$(get "$web")" "hello" "and serves"

# A session in flight keeps the key it started with; new ones get the new.
python3 - "$echo" "$T/go" > "$T/inflight.out" 2>&1 <<'PY' &
import hashlib, os, socket, ssl, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                    server_hostname="localhost")
print(hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest(), flush=True)
def echo(msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += s.recv(len(msg) - len(got))
    return got == msg
first = echo(b"before the reload\n")
t0 = time.monotonic()
while not os.path.exists(go) and time.monotonic() - t0 < 20:
    time.sleep(0.05)
print("ok" if first and echo(b"after the reload\n" * 1000) else "corrupt", flush=True)
s.unwrap()
PY
inflight=$!
tap_pid "$inflight"
for i in $(seq 50); do [ -s "$T/inflight.out" ] && break; sleep 0.1; done
new_key "$T/newkey.out" localhost
key2=$(sed -n 's/^New private key: //p' "$T/newkey.out")
cert2=$(sed -n 's/^New self-signed certificate: //p' "$T/newkey.out")
tw deploy-server-cert "$cert2" "$key2" >/dev/null 2>&1
kill -HUP "$DPID"
wait_log 'reload: done \(generation 3\)' 10
ok $? "SIGHUP reloads (generation 3)"
is "$(fp "$web")" "$(fp_file "$cert2")" "a new session gets the new certificate"
: > "$T/go"
wait "$inflight"
is "$(sed -n 1p "$T/inflight.out")" "$(fp_file "$cert1")" "the session in flight had the old certificate"
is "$(sed -n 2p "$T/inflight.out")" "ok" "and finished its transfer across the reload"

# A kept UNIX listener takes a new mode, but only from a reload that is
# applied.
is "$(stat -c %a "$T/tls.sock")" 666 "the UNIX listener has the default mode"
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "sock unix:$T/tls.sock server 127.0.0.1:$HPORT -o tlsproxy_listen_mode=0640" \
    "broken"
tw reload >/dev/null 2>&1
is "$(stat -c %a "$T/tls.sock")" 666 "a refused reload does not change it"
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "sock unix:$T/tls.sock server 127.0.0.1:$HPORT -o tlsproxy_listen_mode=0640"
tw reload >/dev/null
is "$(stat -c %a "$T/tls.sock")" 640 "an applied reload does"
is "$(unix_get "$T/tls.sock")" hello "and it is the same listener, serving"

# Listeners follow services.cf: add one, remove one.
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "added 127.0.0.1:0 server 127.0.0.1:$HPORT"
out=$(tw reload); rc=$?
is "$rc" 0 "a reload that adds and removes listeners"
added=$(port_of added)
ok "$([ -n "$added" ]; echo $?)" "the added service logs its new listener"
is "$(get "$added")" "hello" "the added listener serves"
ok "$([ ! -e "$T/tls.sock" ]; echo $?)" "the removed UNIX listener's socket file is gone"
is "$(unix_get "$T/tls.sock")" "" "and nothing answers there"
is "$(get "$web")" "hello" "the kept listener still serves"
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" "echo 127.0.0.1:0 server 127.0.0.1:$EPORT"
tw reload >/dev/null
listening "$added"
ok "$([ $? != 0 ]; echo $?)" "a removed TCP listener is closed (connection refused)"

# Errors: all of them reported, nothing changes.
gen_before=$(tw status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["worker"]["generation"])')
held=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$held" &
tap_pid $!
for i in $(seq 50); do listening "$held" && break; sleep 0.1; done	# a loaded machine
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" "echo 127.0.0.1:0 server 127.0.0.1:$EPORT" \
    "new1 127.0.0.1:0 server 127.0.0.1:$HPORT" \
    "clash 127.0.0.1:$held server 127.0.0.1:$HPORT" \
    "bad1 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_handshake_timeout=soon" \
    "bad2 127.0.0.1:0 server bad..host.invalid:80"
out=$(tw reload 2>&1); rc=$?
is "$rc" 1 "a reload with errors: exit 1"
like "$out" "tlsward: error: service clash: listen 127.0.0.1:$held: Address already in use" "the listener that cannot be opened is named"
like "$out" 'tlsward: error: service bad1: parameter tlsproxy_handshake_timeout: ' "the bad parameter is named"
like "$out" 'tlsward: error: service bad2: forward bad\.\.host\.invalid:80: ' "the target that is no host name is named"
like "$out" 'tlsward: fatal: reload failed \(3 errors above\); tlswardd keeps serving the running configuration' "and the outcome"
like "$(cat "$DLOG")" 'reload: 3 errors; the running configuration is unchanged' "the daemon logs it"
unlike "$(cat "$DLOG")" 'service new1: listening' "a listener of the refused configuration was never announced"
is "$(get "$web")" "hello" "the running configuration still serves"
gen_after=$(tw status --json | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["worker"]["generation"], d["daemon"]["last_reload"], len(d["services"]))')
is "$gen_after" "$gen_before failed 2" "same generation and services; status says the last reload failed"

# A key that does not match its certificate: found before the worker sees it.
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT" "echo 127.0.0.1:0 server 127.0.0.1:$EPORT"
new_key "$T/newkey3.out" localhost
key3=$(sed -n 's/^New private key: //p' "$T/newkey3.out")
cp "$CONF/main.cf" "$T/main.cf.good"
tw config -e "smtpd_tls_key_file = $key3" >/dev/null
out=$(tw reload 2>&1); rc=$?
is "$rc" 1 "a key that does not match the certificate: reload refused"
like "$out" 'tlsward: error: .*(does not match|mismatch|key values)' "the mismatch is reported"
is "$(fp "$web")" "$(fp_file "$cert2")" "the previous certificate is still served"
cp "$T/main.cf.good" "$CONF/main.cf"
tw config -e "smtpd_tls_cert_file = $T/missing.pem" >/dev/null
refused=$(grep -c 'the running configuration is unchanged' "$DLOG")
kill -HUP "$DPID"
for i in $(seq 100); do
	[ "$(grep -c 'the running configuration is unchanged' "$DLOG")" -gt "$refused" ] && break
	sleep 0.1
done
like "$(tail -n 1 "$DLOG")" 'reload: 1 error; the running configuration is unchanged' \
    "SIGHUP with a missing certificate file: logged, unchanged"
like "$(cat "$DLOG")" "$T/missing.pem" "the missing file is named in the log"
cp "$T/main.cf.good" "$CONF/main.cf"

# The worker restarted after reloads serves the running configuration.
sleep 1	# key file names carry the time to the second
tw new-server-key localhost > "$T/newkey4.out" 2>&1
key4=$(sed -n 's/^New private key: //p' "$T/newkey4.out")
cert4=$(sed -n 's/^New self-signed certificate: //p' "$T/newkey4.out")
tw deploy-server-cert "$cert4" "$key4" >/dev/null 2>&1
tw reload >/dev/null
w=$(worker_pid)
kill -KILL "$w"
wait_log "worker $w killed by signal 9" 5
for i in $(seq 30); do [ "$(worker_pid)" != "$w" ] && break; sleep 0.1; done
sleep 0.3
is "$(fp "$web")" "$(fp_file "$cert4")" "a restarted worker serves the reloaded key"
is "$(port_of web)" "$web" "on the same listener"

daemon_stop
ok "$([ ! -e "$T/admin.sock" ]; echo $?)" "the admin socket is removed at exit"
out=$(tw reload 2>&1); rc=$?
is "$rc" 1 "tlsward reload without a daemon: exit 1"
like "$out" "tlsward: fatal: cannot reach tlswardd at $T/admin.sock: No such file or directory \(is a tlswardd running with the configuration in $CONF\?\)" \
    "and says why"
tap_done
