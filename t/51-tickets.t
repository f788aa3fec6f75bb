#!/bin/sh
# t/51-tickets.t - session tickets: the worker's key ring outlives a
# reload; two instances that share tlsproxy_tls_ticket_key_file resume
# each other's sessions (openssl s_client -sess_out / -sess_in); "tlsward
# rotate-ticket-keys" adds a key, keeps the newest, and a session whose
# key it retired no longer resumes; the file is 0600, refused when
# others may read it or someone else owns it or it is malformed, picked
# up by the file watcher, and never opened by the worker (which cannot
# read it). "tlsward status" (text and --json) and the metrics show the
# ring: how many keys, from where, the newest key's short name, age and
# place in the file, and the tickets issued, decrypted and refused.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# sess PORT OUT [IN] [s_client args]: one connection (that waits a
# second for its tickets), saving the session to OUT, resuming IN when
# given; prints New or Reused.
sess() {
	_p=$1 _o=$2 _i=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	sleep 1 | timeout 10 openssl s_client -connect "127.0.0.1:$_p" \
	    -sess_out "$_o" ${_i:+-sess_in "$_i"} "$@" 2>/dev/null |
	    sed -n 's/^\(New\|Reused\), .*/\1/p' | head -n 1
}

# tk EXPR: a Python expression on the "tickets" object of the JSON status
tk() {
	tw status --json | python3 -c 'import json, sys; t = json.load(sys.stdin)["tickets"]; print(eval(sys.argv[1]))' "$1"
}
# kname8 SESSFILE: the first 4 bytes of the ticket's key name, in hex
kname8() {
	openssl sess_id -in "$1" -noout -text 2>/dev/null |
	    sed -n '/TLS session ticket:/{n;s/^ *0000 - //;s/   .*//;p;}' | tr -d ' -' | cut -c1-8
}
PROM="python3 $TOP_SRCDIR/t/tools/prom_check.py"

daemon_setup
echo 'tlsproxy_metrics_listen = 127.0.0.1:0' >> "$CONF/main.cf"
backend_start echo
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
daemon_start || { daemon_log; tap_done; exit 1; }
web=$(port_of web)
MPORT=$(sed -n 's/.*metrics: listening on \[127\.0\.0\.1\]:\([0-9]*\)$/\1/p' "$DLOG" | tail -n 1)
metric() { curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" > "$T/m" && $PROM "$T/m" "$@"; }

# the worker's own keys
is "$(tk '(t["keys"], t["issued"], t["decrypted"], t["refused"])')" "(0, 0, 0, 0)" \
    "status before a handshake: no key yet, no ticket counted"
is "$(sess "$web" "$T/s13")" New "TLS 1.3: a first session is new"
is "$(tk '(t["keys"], t["source"], "path" in t)')" "(1, 'memory', False)" \
    "status --json: the worker made one key, in memory, no file"
is "$(tk 't["key_name"]')" "$(kname8 "$T/s13")" "... its short name is the start of the key name the ticket carries"
issued=$(tk 't["issued"]')
ok "$([ "$issued" -ge 1 ]; echo $?)" "... the tickets sent are counted as issued ($issued)"
is "$(sess "$web" "$T/x" "$T/s13")" Reused "... and resumes with its ticket"
is "$(tk '(t["decrypted"], t["refused"])')" "(1, 0)" "status: the resumption counts one ticket decrypted, none refused"
ok "$([ "$(tk 't["issued"]')" -gt "$issued" ]; echo $?)" "... and the resumed session's new ticket as issued"
out=$(tw status)
like "$out" '^session tickets: 1 key made in memory \(newest: name [0-9a-f]{8}, made [0-9]+s ago\); [0-9]+ issued, 1 decrypted, 0 refused$' \
    "status (text): the ring in one line"
ok "$(metric >/dev/null; echo $?)" "the metrics parse (strict)"
is "$(metric tlsward_ticket_keys source=memory).$(metric tlsward_ticket_keys source=file)" 1.0 "metrics: one key, from memory"
is "$(metric tlsward_tickets_decrypted_total).$(metric tlsward_tickets_refused_total)" 1.0 "metrics: tickets decrypted and refused"
ok "$([ "$(metric tlsward_tickets_issued_total)" -ge 2 ]; echo $?)" "metrics: tickets issued"
is "$(sess "$web" "$T/s12" "" -tls1_2)" New "TLS 1.2: a first session is new"
out=$(tw reload); rc=$?
is "$rc" 0 "tlsward reload"
is "$(sess "$web" "$T/x" "$T/s13")" Reused "TLS 1.3: a session resumes across a reload (the ring is kept)"
is "$(sess "$web" "$T/x" "$T/s12" -tls1_2)" Reused "TLS 1.2: the same"

# a key file: rotate-ticket-keys makes it (and reloads the daemon)
out=$(tw rotate-ticket-keys 2>&1); rc=$?
is "$rc" 1 "rotate-ticket-keys without tlsproxy_tls_ticket_key_file fails"
like "$out" 'tlsproxy_tls_ticket_key_file is not set' "... and says why"
tw config -e 'tlsproxy_tls_ticket_key_file = ticket-keys'
KF=$CONF/ticket-keys
out=$(tw rotate-ticket-keys 2>&1); rc=$?
is "$rc" 0 "rotate-ticket-keys creates the file"
like "$out" 'a new session ticket key; 1 key kept, 0 retired' "... with one key"
like "$out" 'tlswardd: configuration reloaded' "... and reloads the daemon"
is "$(stat -c '%a %u' "$KF")" "600 $(id -u)" "the key file is mode 0600, the daemon user's"
is "$(grep -vc '^#' "$KF")" 1 "one key line"
like "$(grep -v '^#' "$KF")" '^[A-Za-z0-9+/]{107}=$' "the line is 80 bytes in base64"
wait_log 'session ticket keys: 1 from .*ticket-keys' 5
ok $? "the worker took the file's key"
is "$(sess "$web" "$T/x" "$T/s13")" New "a session under the worker's own key does not resume under the file's"
is "$(tk 't["refused"]')" 1 "status: its ticket is counted as refused"
is "$(tk '(t["keys"], t["source"], t["path"], t["key_position"])')" "(1, 'file', '$KF', 1)" \
    "status --json: one key, from the file, the file's only key"
is "$(sess "$web" "$T/f1")" New "a new session under the file's key"
is "$(sess "$web" "$T/x" "$T/f1")" Reused "... resumes"

# the worker never opens it, and cannot read it
wp=$(worker_pid)
fds=$(ls -l "/proc/$wp/fd" 2>/dev/null | grep -c 'ticket-keys')
is "$fds" 0 "the worker has no descriptor of the key file"
is "$(stat -c %U "/proc/$wp")" nobody "the worker runs as nobody"
if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$KF" >/dev/null 2>&1
	is "$?" 1 "the worker's user cannot read the key file"
else
	skip "the worker's user cannot read the key file" "not root or no setpriv"
fi

# a second instance sharing the file resumes the first one's sessions;
# it has no admin socket: its file watcher picks up rotations
CONF2=$T/conf2
mkdir "$CONF2"
sed -e "s|^tlsproxy_admin_socket = .*|tlsproxy_admin_socket =|" \
    -e "s|^tlsproxy_tls_ticket_key_file = .*|tlsproxy_tls_ticket_key_file = $KF|" \
    "$CONF/main.cf" > "$CONF2/main.cf"
cp "$CONF/services.cf" "$CONF2/services.cf"
LOG2=$T/daemon2.log
"$TLSWARDD" -c "$CONF2" -f > "$LOG2" 2>&1 &
D2=$!
tap_pid "$D2"
wait_file "$LOG2" 'worker [0-9]+ started' 10
ok $? "a second instance starts with the same key file"
web2=$(sed -n 's/.*service web: listening on \[.*\]:\([0-9]*\)$/\1/p' "$LOG2" | tail -n 1)
is "$(sess "$web2" "$T/x" "$T/f1")" Reused "TLS 1.3: the second instance resumes the first one's session"
sess "$web" "$T/g12" "" -tls1_2 >/dev/null
is "$(sess "$web2" "$T/x" "$T/g12" -tls1_2)" Reused "TLS 1.2: the same"
is "$(sess "$web2" "$T/h1")" New "a session with the second instance"
is "$(sess "$web" "$T/x" "$T/h1")" Reused "... resumes with the first"

# rotation: the previous key still decrypts (and the ticket is renewed
# under the new one); two rotations later it is retired
out=$(tw rotate-ticket-keys 2>&1)
like "$out" '2 keys kept, 0 retired' "rotate: two keys"
wait_file "$LOG2" 'session ticket keys: 2 from' 10
ok $? "the second instance's file watcher reloads the rotated file"
is "$(sess "$web" "$T/x" "$T/f1")" Reused "a session under the previous key still resumes"
is "$(sess "$web2" "$T/x" "$T/f1")" Reused "... on both instances"
out=$(tw rotate-ticket-keys 2>&1)
like "$out" '2 keys kept, 1 retired' "rotate again: the oldest key is retired"
is "$(grep -vc '^#' "$KF")" 2 "two key lines"
is "$(sess "$web" "$T/x" "$T/f1")" New "a session under the retired key does not resume"
wait_file "$LOG2" 'session ticket keys: 2 from' 10
for i in $(seq 50); do
	[ "$(grep -c 'session ticket keys: 2 from' "$LOG2")" -ge 2 ] && break
	sleep 0.1
done
is "$(sess "$web2" "$T/x" "$T/f1")" New "... on the second instance either"
out=$(tw rotate-ticket-keys -n 1 2>&1)
like "$out" '1 key kept, 2 retired' "-n 1 keeps only the new key"
# three keys: the count, the newest is the file's last; a reload keeps
# the age of a key it already had
tw rotate-ticket-keys -n 3 >/dev/null 2>&1
out=$(tw rotate-ticket-keys -n 3 2>&1)
like "$out" '3 keys kept, 0 retired' "rotate -n 3 twice: three keys"
is "$(grep -vc '^#' "$KF")" 3 "three key lines"
is "$(tk '(t["keys"], t["source"], t["key_position"])')" "(3, 'file', 3)" \
    "status: three keys from the file, the newest its third"
sess "$web" "$T/k3" >/dev/null
is "$(tk 't["key_name"]')" "$(kname8 "$T/k3")" "... whose name the new tickets carry"
like "$(tw status)" "^session tickets: 3 keys from $KF \\(newest: key 3 of 3, name [0-9a-f]{8}, loaded [0-9]+s ago\\); " \
    "status (text): three keys from the file"
is "$(metric tlsward_ticket_keys source=file)" 3 "metrics: three keys, from the file"
sleep 2
tw reload >/dev/null 2>&1
ok "$([ "$(tk 't["key_age_s"]')" -ge 2 ]; echo $?)" "after a reload the key's age goes on (not reset)"
is "$(tk 't["keys"]')" 3 "... and the count is still three"
out=$(tw rotate-ticket-keys -n 3 2>&1)
like "$out" '3 keys kept, 1 retired' "rotate again: one retired"
is "$(tk '(t["keys"], t["key_age_s"] < 2)')" "(3, True)" "status: still three keys, the newest just loaded"
out=$(tw rotate-ticket-keys -n 0 2>&1); rc=$?
is "$rc" 1 "-n 0 is refused"

# bad files: every one is a clear error, and the running keys stay
cp -p "$KF" "$T/good-keys"
chmod 640 "$KF"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t refuses a group-readable key file"
like "$out" "tlsproxy_tls_ticket_key_file: .*ticket-keys: mode 0640" "... naming the file and its mode"
out=$(tw check 2>&1); rc=$?
ok $((rc == 0)) "tlsward check refuses it too"
like "$out" "ticket-keys: mode 0640" "... naming file and mode"
out=$(tw rotate-ticket-keys 2>&1); rc=$?
is "$rc" 1 "rotate-ticket-keys refuses it too"
chmod 600 "$KF"
chown nobody "$KF"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "a key file another user owns is refused"
like "$out" "ticket-keys: owned by uid $(id -u nobody)" "... saying so"
chown "$(id -u)" "$KF"
bad=$(($(wc -l < "$KF") + 2))	# the line number of the bad key
printf '%s\n' '# comment' 'bm90IGEga2V5Cg==' >> "$KF"
out=$(tw reload 2>&1); rc=$?
is "$rc" 1 "tlsward reload refuses a malformed key file"
like "$out" "ticket-keys:$bad: not a ticket key" "... naming file and line"
line=$(grep -v '^#' "$T/good-keys" | head -n 1)
printf '%s\n%s\n' "$line" "$line" > "$KF"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1)
like "$out" "ticket-keys:2: a second key with the name of an earlier one" "two keys with one name are refused"
printf '# nothing\n' > "$KF"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1)
like "$out" "ticket-keys: holds no ticket key" "a file without a key is refused"
rm -f "$KF"
ln -s "$T/good-keys" "$KF"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "a symbolic link is refused"
rm -f "$KF"
cp -p "$T/good-keys" "$KF"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
is "$rc" 0 "the good file passes tlswardd -t again"

# -o cannot set it per service (the ring is the worker's)
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT -o tlsproxy_tls_ticket_key_file=x"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "-o tlsproxy_tls_ticket_key_file is refused"
like "$out" "a daemon-wide parameter" "... as daemon-wide"

# back to the worker's own keys, rotated by time: with a timeout T of
# 3s a key encrypts for 3 s, then only decrypts (and the ticket is
# renewed under the next key)
kname() { openssl sess_id -in "$1" -noout -text 2>/dev/null | sed -n '/TLS session ticket:/{n;s/^ *0000 - //;s/   .*//;p;}'; }
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
tw config -X tlsproxy_tls_ticket_key_file
tw config -e 'smtpd_tls_session_cache_timeout = 3s'
tw reload >/dev/null 2>&1
ok $? "reload: no key file, a timeout of 3s"
# t1 makes the key (at T0, in whole seconds); each sess lasts a second
sess "$web" "$T/t1" >/dev/null
sess "$web" "$T/t2" >/dev/null
k1=$(kname "$T/t1")
is "$(kname "$T/t2")" "$k1" "two sessions within the period: one key"
sleep 1		# now past T0 + 3 s: the key no longer encrypts; t2 is 2 s old
is "$(sess "$web" "$T/t3" "$T/t2")" Reused "past the key's encryption period, its tickets still resume"
k3=$(kname "$T/t3")
ok $([ -n "$k3" ] && [ "$k3" != "$k1" ]; echo $?) "... and are renewed under a new key"
is "$(sess "$web" "$T/x" "$T/f1")" New "the file's keys are gone with the file"

daemon_stop
kill -TERM "$D2" 2>/dev/null
for i in $(seq 100); do kill -0 "$D2" 2>/dev/null || break; sleep 0.1; done
unlike "$(cat "$DLOG" "$LOG2")" 'AddressSanitizer|runtime error|LeakSanitizer' "no sanitizer report"
tap_done
