#!/bin/sh
# t/47-watch.t - reload on certificate change (tlsproxy_watch_files): a
# certificate and key replaced by rename, by a Kubernetes-style "..data"
# symlink swap and by an in-place write reach new handshakes within 2 s;
# an unrelated file in the same directory reloads nothing; a broken
# replacement (a key that does not match) is refused and logged, the old
# certificate keeps serving, a session in flight survives, and fixing
# the files reloads; a file that did not exist yet (in a directory that
# did not exist yet) is picked up when it appears; with the parameter
# off, nothing reloads.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

P=$T/pki
mkdir "$P"
# mkcert NAME: a self-signed EC certificate and key, $P/NAME.crt/.key
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$P/$1.key" -out "$P/$1.crt" -days 2 -subj "/CN=$1" \
	    2>/dev/null
}
for c in c1 c2 c3 c4 c5 c6 c7 k1 k2; do mkcert $c; done

fp() {	# fp PORT: SHA-256 fingerprint of the certificate served
	timeout 5 openssl s_client -connect "127.0.0.1:$1" -servername localhost \
	    </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null |
	    sed 's/.*=//; s/://g'
}
fp_of() { openssl x509 -in "$P/$1.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g'; }
now_ms() { date +%s%3N; }
# wait_fp PORT NAME: handshakes until one presents $P/NAME.crt; prints
# when that handshake began (ms from the call); fails when none that
# began within 2 s did.
wait_fp() {
	_t0=$(now_ms) _want=$(fp_of "$2")
	while :; do
		_ts=$(now_ms)
		[ $((_ts - _t0)) -gt 2000 ] && return 1
		[ "$(fp "$1")" = "$_want" ] && { echo $((_ts - _t0)); return 0; }
		sleep 0.05
	done
}
nlog() { grep -c -- "$1" "$DLOG"; }	# nlog REGEX: lines of the log so far
# install SRC DST: a new file renamed over DST (mode 0600 from the start)
install_file() { (umask 077; cp "$1" "$2.tmp.$$") && mv -f "$2.tmp.$$" "$2"; }

# live/: files replaced by rename and in place
mkdir "$T/live"
install_file "$P/c1.crt" "$T/live/cert.pem"
install_file "$P/c1.key" "$T/live/key.pem"
# k8s/: a Secret volume as the kubelet writes it
mkdir -p "$T/k8s/..2026_12_07_01"
cp "$P/k1.crt" "$T/k8s/..2026_12_07_01/tls.crt"
cp "$P/k1.key" "$T/k8s/..2026_12_07_01/tls.key"
ln -s ..2026_12_07_01 "$T/k8s/..data"
ln -s ..data/tls.crt "$T/k8s/tls.crt"
ln -s ..data/tls.key "$T/k8s/tls.key"

daemon_setup
cat >> "$CONF/main.cf" <<EOT
smtpd_tls_cert_file = $T/live/cert.pem
smtpd_tls_key_file = $T/live/key.pem
EOT
backend_start echo
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT" \
    "k8s 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_cert_file=$T/k8s/tls.crt -o tlsproxy_tls_key_file=$T/k8s/tls.key"
daemon_start || { daemon_log; tap_done; exit 1; }
web=$(port_of web)
k8s=$(port_of k8s)
like "$(cat "$DLOG")" 'watching 4 TLS files for changes \(tlsproxy_watch_files\)' \
    "on by default: the four files are watched"
is "$(fp "$web")" "$(fp_of c1)" "the first certificate is served"
is "$(fp "$k8s")" "$(fp_of k1)" "the Secret's certificate is served"

# (a) rename over: the key first, then the certificate
install_file "$P/c2.key" "$T/live/key.pem"
install_file "$P/c2.crt" "$T/live/cert.pem"
ms=$(wait_fp "$web" c2)
ok $? "renamed over: new handshakes get the new certificate within 2 s (${ms:-no} ms)"
like "$(cat "$DLOG")" "reload: files changed: .*$T/live/(cert|key).pem" "the reload says which files changed"
wait_log 'reload: done \(generation 2\)' 5
ok $? "one reload for the two files (generation 2)"

# an unrelated file next to them, and an edit of main.cf: no reload
echo unrelated > "$T/live/notes.txt"
echo "# a comment" >> "$CONF/main.cf"
before=$(nlog 'reload: reading')
sleep 1.5
is "$(nlog 'reload: reading')" "$before" "other files in the directory (and main.cf) reload nothing"

# (b) Kubernetes: a new timestamped directory, "..data_tmp" renamed
# over "..data", the old directory removed
mkdir "$T/k8s/..2026_12_07_02"
cp "$P/k2.crt" "$T/k8s/..2026_12_07_02/tls.crt"
cp "$P/k2.key" "$T/k8s/..2026_12_07_02/tls.key"
ln -s ..2026_12_07_02 "$T/k8s/..data_tmp"
mv -T "$T/k8s/..data_tmp" "$T/k8s/..data"
rm -rf "$T/k8s/..2026_12_07_01"
ms=$(wait_fp "$k8s" k2)
ok $? "..data symlink swap: the new certificate within 2 s (${ms:-no} ms)"
is "$(fp "$web")" "$(fp_of c2)" "the other service is unchanged"
wait_log 'reload: done \(generation 3\)' 5
ok $? "one reload for the swap (generation 3)"

# (b2) then an in-place write into the new timestamped directory: the
# resolved path's directory is watched too
cat "$P/c3.key" > "$T/k8s/..2026_12_07_02/tls.key"
cat "$P/c3.crt" > "$T/k8s/..2026_12_07_02/tls.crt"
ms=$(wait_fp "$k8s" c3)
ok $? "in-place write behind the symlinks: within 2 s (${ms:-no} ms)"

# (c) in-place write (truncate and write) of the certificate, then the
# key: for a moment they do not match; the debounce reloads once, when
# both are written
n_done=$(nlog 'reload: done')
n_fail=$(nlog 'running configuration is unchanged')
cat "$P/c4.crt" > "$T/live/cert.pem"
cat "$P/c4.key" > "$T/live/key.pem"
ms=$(wait_fp "$web" c4)
ok $? "in-place write: the new certificate within 2 s (${ms:-no} ms)"
sleep 0.7
is "$(nlog 'reload: done')" "$((n_done + 1))" "one reload for the two writes"
is "$(nlog 'running configuration is unchanged')" "$n_fail" "and no failed one in between"

# (d) a broken replacement: a certificate whose key is not there
python3 - "$web" "$T/go" > "$T/inflight.out" 2>&1 <<'PY' &
import os, socket, ssl, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                    server_hostname="localhost")
def echo(msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += s.recv(len(msg) - len(got))
    return got == msg
print("before" if echo(b"before\n") else "corrupt", flush=True)
t0 = time.monotonic()
while not os.path.exists(go) and time.monotonic() - t0 < 20:
    time.sleep(0.05)
print("after" if echo(b"after the refused reload\n" * 100) else "corrupt", flush=True)
s.unwrap()
PY
inflight=$!
tap_pid "$inflight"
wait_file "$T/inflight.out" before 10
n_fail=$(nlog 'running configuration is unchanged')
gen=$(tw status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["worker"]["generation"])')
install_file "$P/c5.crt" "$T/live/cert.pem"
for i in $(seq 50); do
	[ "$(nlog 'running configuration is unchanged')" -gt "$n_fail" ] && break
	sleep 0.1
done
like "$(tail -n 3 "$DLOG")" 'reload: 1 error; the running configuration is unchanged' \
    "a key that does not match: the reload is refused and logged"
like "$(cat "$DLOG")" "reload: files changed: $T/live/cert.pem" "after the change was seen"
like "$(cat "$DLOG")" '(does not match|mismatch|key values)' "the mismatch is named"
is "$(fp "$web")" "$(fp_of c4)" "the old certificate keeps serving"
st=$(tw status --json | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["worker"]["generation"], d["daemon"]["last_reload"], d["daemon"]["watched_files"])')
is "$st" "$gen failed 4" "status: same generation, last reload failed, 4 files watched"
like "$(tw status)" 'files: 4 watched for changes' "the text status says so too"
: > "$T/go"
wait "$inflight"
is "$(cat "$T/inflight.out")" "before
after" "a session in flight survives"
# the missing half arrives: the next change retries, and succeeds
install_file "$P/c5.key" "$T/live/key.pem"
ms=$(wait_fp "$web" c5)
ok $? "the fixed pair is served within 2 s (${ms:-no} ms)"
st=$(tw status --json | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["daemon"]["last_reload"], d["daemon"]["reloads"])')
is "$st" "ok $(($(nlog 'reload: done')))" "status counts the watcher's reloads"

# (f) a configuration that names files that do not exist yet: refused
# by "tlsward reload", then picked up when they appear
cp "$CONF/main.cf" "$T/main.cf.good"
tw config -e "smtpd_tls_cert_file = $T/new/sub/cert.pem" \
    "smtpd_tls_key_file = $T/new/sub/key.pem" >/dev/null
out=$(tw reload 2>&1)
like "$out" "$T/new/sub/cert.pem" "tlsward reload: the missing file is named"
mkdir -p "$T/new/sub"
install_file "$P/c6.key" "$T/new/sub/key.pem"
install_file "$P/c6.crt" "$T/new/sub/cert.pem"
ms=$(wait_fp "$web" c6)
ok $? "files that appear later (in a new directory) are picked up within 2 s (${ms:-no} ms)"

# (e) off: nothing reloads
echo "tlsproxy_watch_files = no" >> "$CONF/main.cf"
tw reload >/dev/null
like "$(cat "$DLOG")" 'no longer watching the TLS files for changes \(tlsproxy_watch_files = no\)' \
    "tlsproxy_watch_files = no: the watcher stops"
before=$(nlog 'reload: reading')
install_file "$P/c7.key" "$T/new/sub/key.pem"
install_file "$P/c7.crt" "$T/new/sub/cert.pem"
sleep 2
is "$(fp "$web")" "$(fp_of c6)" "off: a replaced certificate is not loaded"
is "$(nlog 'reload: reading')" "$before" "off: no reload"
is "$(tw status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["daemon"]["watched_files"])')" 0 \
    "off: status shows no watched file"
tw reload >/dev/null
is "$(fp "$web")" "$(fp_of c7)" "off: tlsward reload still loads it"

daemon_stop
ok $? "the daemon stops"

# The parameter is daemon-wide, and a boolean.
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_watch_files=no"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1)
like "$out" 'service web: -o tlsproxy_watch_files: a daemon-wide parameter' "-o tlsproxy_watch_files is refused"
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
echo "tlsproxy_watch_files = sometimes" >> "$CONF/main.cf"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 1 "tlsproxy_watch_files = sometimes: an error"
like "$out" 'parameter tlsproxy_watch_files: .*sometimes' "naming the parameter and the value"

# A directory that cannot be watched (readable files in a directory the
# daemon's user may search but not read: inotify needs read access) is a
# warning; the daemon serves. Root may read everything: run as nobody.
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || { skip "unwatchable" "no setpriv"; skip "serves" "no setpriv"; tap_done; exit; }
	AS_USER="setpriv --reuid=nobody --regid=$(id -gn nobody) --clear-groups"
else
	AS_USER=
fi
chmod 755 "$T"
mkdir "$T/noread" "$T/conf2"
cp "$P/c1.crt" "$T/noread/cert.pem"
cp "$P/c1.key" "$T/noread/key.pem"
chmod 644 "$T/noread"/*
chmod 311 "$T/noread"
cat > "$T/conf2/main.cf" <<EOT
compatibility_level = 3.6
smtpd_tls_cert_file = $T/noread/cert.pem
smtpd_tls_key_file = $T/noread/key.pem
smtpd_tls_security_level = may
tlsproxy_sandbox = $SANDBOX
tlsproxy_pid_file =
tlsproxy_admin_socket =
EOT
echo "web 127.0.0.1:0 server 127.0.0.1:$BPORT" > "$T/conf2/services.cf"
chmod 755 "$T/conf2"
chmod 644 "$T/conf2"/*
# shellcheck disable=SC2086
$AS_USER "$TLSWARDD" -c "$T/conf2" -f > "$T/d2.log" 2>&1 &
d2=$!
tap_pid "$d2"
wait_file "$T/d2.log" 'worker [0-9]+ started|not starting|could not start' 10
like "$(cat "$T/d2.log")" "tlsproxy_watch_files: cannot watch directory $T/noread: Permission denied; reload by hand" \
    "a directory inotify may not watch: a warning naming it"
p2=$(sed -n 's/.*service web: listening on \[.*\]:\([0-9]*\)$/\1/p' "$T/d2.log")
is "$(fp "$p2")" "$(fp_of c1)" "and the daemon serves"
kill -TERM "$d2"
chmod 755 "$T/noread"	# for the cleanup, as any user
tap_done
