#!/bin/sh
# t/49-backends.t - backends that move. The daemon runs in a mount
# namespace of its own where /etc/hosts is a file of this test and
# /etc/nsswitch.conf says "hosts: files", so a forward name resolves as
# the test decides, at once and without the network. Shown: a list of
# forward targets is parsed and checked (tlswardd -t); a name that does
# not resolve at start is a warning, its service refuses connections and
# serves once the name appears; a name that moves to another address is
# followed within tlsproxy_forward_resolve_interval, without a reload;
# of two targets, a dead first one is marked down and skipped, and used
# again after its backoff once it is back; a first target that never
# answers a connect is left after tlsproxy_forward_connect_timeout; a
# failed connect makes the daemon look the name up at once, and a
# restarted worker gets the latest addresses; a client role with two
# targets.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

unshare -m true 2>/dev/null || skip_all "no mount namespaces (unshare -m)"
command -v curl >/dev/null || skip_all "curl is not installed"

# The resolver stand-in. The test rewrites $T/hosts in place (same
# inode), so the daemon's bind mount of it sees every change.
printf '127.0.0.1 localhost\n' > "$T/hosts"
printf 'hosts: files\n' > "$T/nsswitch.conf"
cat > "$T/nsd" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "$T/hosts" /etc/hosts &&
    mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf && exec "\$0" "\$@"' \
    "$TLSWARDD" "\$@"
EOF
chmod +x "$T/nsd"
REAL_TLSWARDD=$TLSWARDD
TLSWARDD=$T/nsd
hosts() { printf '127.0.0.1 localhost\n%s\n' "$@" > "$T/hosts.new" &&
    cat "$T/hosts.new" > "$T/hosts"; }

idhttp() {	# idhttp ADDR PORT NAME: starts one, sets IDPID and IDPORT
	rm -f "$T/id.$3"
	python3 "$TOP_SRCDIR/t/tools/idhttp.py" "$1" "$2" "$T/id.$3" "$3" &
	IDPID=$!
	tap_pid $IDPID
	wait_file "$T/id.$3" '^[0-9]+$' 5
	IDPORT=$(cat "$T/id.$3")
}
get() { curl -sk --max-time 8 "https://127.0.0.1:$(port_of "$1")/"; }

# blackhole.py PORTFILE: a listener whose accept queue is full and never
# drained: connects to it get no answer at all (t/64 has the same).
cat > "$T/blackhole.py" <<'PY'
import os, socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
port = l.getsockname()[1]
fill = socket.create_connection(("127.0.0.1", port))
open(sys.argv[1] + ".tmp", "w").write("%d\n" % port)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
PY

daemon_setup
cat >> "$CONF/main.cf" <<EOT
tlsproxy_forward_resolve_interval = 2s
EOT

# -------------------------------------------------------- the syntax
check() { "$TLSWARDD" -c "$CONF" -t 2>&1; }
services "a 127.0.0.1:0 server 127.0.0.1:1,[::1]:2,unix:/run/x.sock"
out=$(check); rc=$?
is "$rc" 0 "three forward targets, comma-separated, are accepted ($out)"
services "a 127.0.0.1:0 server 127.0.0.1:1,,127.0.0.1:2"
out=$(check)
like "$out" 'services\.cf:1: bad forward list "127\.0\.0\.1:1,,127\.0\.0\.1:2": an empty target' \
    "an empty target in the list is an error with file and line"
services "a 127.0.0.1:0 server -,127.0.0.1:2"
like "$(check)" '"-" stands alone' "\"-\" in a list is an error"
services "a 127.0.0.1:0 server 127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,127.0.0.1:8,127.0.0.1:9"
like "$(check)" 'at most 8 forward targets' "nine targets are too many"
services "a 127.0.0.1:0 server nowhere.tlsward.test:80"
out=$(check); rc=$?
is "$rc" 0 "-t: a valid name that does not resolve is not an error"
like "$out" 'warning: service a: forward nowhere\.tlsward\.test:80: cannot resolve \(.*\); refusing connections to it, retrying every 2 s' \
    "... but a warning that names the service and the target"
services "a 127.0.0.1:0 server bad..name:80"
out=$(check); rc=$?
ok $(( rc != 0 ? 0 : 1 )) "-t: an invalid host name stays an error"
like "$out" 'service a: forward bad\.\.name:80' "... naming the target"
services "a 127.0.0.1:0 server 127.0.0.1:80 -o tlsproxy_forward_connect_timeout=0"
like "$(check)" 'tlsproxy_forward_connect_timeout must be more than 0' \
    "tlsproxy_forward_connect_timeout = 0 is an error"

# -------------------------------------------------------- the daemon
idhttp 127.0.0.1 0 A; APID=$IDPID; APORT=$IDPORT
idhttp 127.0.0.2 "$APORT" B; BPID=$IDPID
idhttp 127.0.0.1 0 C; CPORT=$IDPORT
python3 "$T/blackhole.py" "$T/bh.port" &
tap_pid $!
wait_file "$T/bh.port" '^[0-9]+$' 5
BHPORT=$(cat "$T/bh.port")
hosts "127.0.0.1 move.tlsward.test"
services "late 127.0.0.1:0 server late.tlsward.test:$CPORT" \
    "move 127.0.0.1:0 server move.tlsward.test:$APORT" \
    "pair 127.0.0.1:0 server 127.0.0.1:$APORT,127.0.0.1:$CPORT" \
    "hole 127.0.0.1:0 server 127.0.0.1:$BHPORT,127.0.0.1:$CPORT -o tlsproxy_forward_connect_timeout=1s"
daemon_start || { daemon_log; tap_done; exit 1; }

# A name that does not resolve at start.
like "$(cat "$DLOG")" 'warning: service late: forward late\.tlsward\.test:[0-9]+: cannot resolve \(.*\); refusing connections to it, retrying every 2 s' \
    "start: an unresolvable forward name is a warning, and the daemon serves"
is "$(get late)" "" "... its service refuses connections meanwhile"
wait_log 'service=late: .*the name does not resolve' 5
ok $? "... and logs why"
hosts "127.0.0.1 move.tlsward.test" "127.0.0.1 late.tlsward.test"
wait_log 'service late: forward late\.tlsward\.test:[0-9]+: resolves again' 8
ok $? "the name appears in the hosts file: logged within the retry period"
is "$(get late)" "C" "... and the service forwards to it, without a reload"

# A name that moves.
is "$(get move)" "A" "move.tlsward.test is 127.0.0.1: backend A"
hosts "127.0.0.2 move.tlsward.test" "127.0.0.1 late.tlsward.test"
wait_log 'service move: forward move\.tlsward\.test:[0-9]+: new addresses' 8
ok $? "it moves to 127.0.0.2: the new address is logged within the interval"
is "$(get move)" "B" "... and the next session goes to backend B"
unlike "$(cat "$DLOG")" 'reload' "... without a reload"

# Two targets: the first dies, comes back.
is "$(get pair)" "A" "two targets: the first one serves"
kill "$APID"; wait "$APID" 2>/dev/null
tdown=$(date +%s%N)
is "$(get pair)" "C" "the first one is gone: the second one serves"
like "$(cat "$DLOG")" "warning: service pair: forward target 127\\.0\\.0\\.1:$APORT down: connect to 127\\.0\\.0\\.1:$APORT: Connection refused; skipped for 10 s" \
    "... and the first is logged down, with the reason and the pause"
out=$(tw status)
like "$out" "forward:     127\\.0\\.0\\.1:$APORT down \\(tried again in [0-9]+ s\\), 1 address" \
    "tlsward status shows the first target down"
like "$out" "forward:     127\\.0\\.0\\.1:$CPORT up, 1 address" "... and the second one up"
is "$(tw status --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
s = [v for v in d["services"] if v["name"] == "pair"][0]
print(" ".join("%s=%s/%s" % (f["target"].split(":")[1] == sys.argv[1] and "first" or "second", f["state"], f["addresses"]) for f in s["forward"]))' "$APORT")" \
    "first=down/1 second=up/1" "... and in --json"
is "$(get pair)$(get pair)" "CC" "while it is down, sessions go to the second one"
tw reload >/dev/null 2>&1
wait_log 'worker: reloaded' 10
ok $? "a reload while it is down"
like "$(tw status)" "forward:     127\\.0\\.0\\.1:$APORT down \\(tried again in [0-9]+ s\\)" \
    "... keeps it down: the new generation has its health"
is "$(get pair)$(get pair)" "CC" "... sessions after the reload go to the second one"
is "$(grep -c "forward target 127\\.0\\.0\\.1:$APORT .*down" "$DLOG")" 1 \
    "... and the first one is not tried again during its pause, reload or not"
idhttp 127.0.0.1 "$APORT" A; APID=$IDPID
got=
while [ $(( ($(date +%s%N) - tdown) / 1000000 )) -lt 16000 ]; do
	got=$(get pair)
	[ "$got" = "A" ] && break
	sleep 0.3
done
ms=$(( ($(date +%s%N) - tdown) / 1000000 ))
is "$got" "A" "the first one is back: used again after the pause"
ok $(( ms >= 9800 ? 0 : 1 )) "... not before its 10 s pause ended ($ms ms after it went down)"
like "$(cat "$DLOG")" "service pair: forward target 127\\.0\\.0\\.1:$APORT up again" \
    "... and logged up again"

# A first target that never answers the connect.
t0=$(date +%s%N)
got=$(get hole)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$got" "C" "the first target never answers: the second one serves"
ok $(( ms >= 900 && ms < 4000 ? 0 : 1 )) "... after the 1 s connect timeout, not the 10 s handshake timeout ($ms ms)"
like "$(cat "$DLOG")" "service hole: forward target 127\\.0\\.0\\.1:$BHPORT down: connect to 127\\.0\\.0\\.1:$BHPORT: timed out" \
    "... and it is logged down as timed out"

daemon_stop
ok $? "the daemon stops"
unlike "$(cat "$DLOG")" 'AddressSanitizer|LeakSanitizer|runtime error' \
    "no sanitizer report"

# -------------------------------------------------------- on failure
# An hour between look-ups: only a failed connect makes the daemon look
# the name up again, and a new worker gets what the last look-up found.
sed -i 's/^tlsproxy_forward_resolve_interval = .*/tlsproxy_forward_resolve_interval = 1h/' \
    "$CONF/main.cf"
hosts "127.0.0.1 dyn.tlsward.test" "127.0.0.1 dyn2.tlsward.test"
# and a client role with two targets: SNI is the first target's host
key=$(ls "$CONF"/key-*.pem) cert=$(ls "$CONF"/cert-*.pem)
sport=$(free_port)
dead=$(free_port)
sleep 30 | openssl s_server -quiet -accept "127.0.0.1:$sport" -naccept 1 -key "$key" \
    -cert "$cert" -key2 "$key" -cert2 "$cert" -servername_fatal \
    -servername localhost \
    > "$T/s_server.out" 2>&1 &
tap_pid $!
services "dyn 127.0.0.1:0 server dyn.tlsward.test:$APORT" \
    "dyn2 127.0.0.1:0 server dyn2.tlsward.test:$APORT,127.0.0.1:$CPORT" \
    "cl 127.0.0.1:0 client localhost:$dead,localhost:$sport -o tlsproxy_client_security_level=encrypt"
daemon_start || { daemon_log; tap_done; exit 1; }
printf 'to s_server\n' | plain_client "$(port_of cl)" >/dev/null
wait_file "$T/s_server.out" 'to s_server' 5
ok $? "client role, first target dead: the plaintext reaches s_server over TLS (SNI localhost)"
like "$(cat "$DLOG")" "service=cl: .*TLS connection established to localhost:$sport:" \
    "... the established line names the target it reached"
like "$(cat "$DLOG")" "service cl: forward target localhost:$dead down: connect to localhost:$dead: Connection refused" \
    "... and the dead one is logged down"
is "$(get dyn)$(get dyn2)" "AA" "dyn.tlsward.test and dyn2.tlsward.test are 127.0.0.1: backend A"
hosts "127.0.0.2 dyn.tlsward.test" "127.0.0.2 dyn2.tlsward.test"
kill "$APID"; wait "$APID" 2>/dev/null
is "$(get dyn)" "" "it moves and A dies: the next session fails"
wait_log 'service dyn: forward dyn\.tlsward\.test:[0-9]+: new addresses' 8
ok $? "... the failure makes the daemon look the name up at once"
is "$(get dyn)" "B" "... and the next session goes to its new address"
is "$(get dyn2)" "C" "two targets, the first moves and A dies: the second one serves"
wait_log 'service dyn2: forward dyn2\.tlsward\.test:[0-9]+: new addresses' 8
ok $? "... the first one's name is looked up at once"
is "$(get dyn2)" "B" "... and it is tried again at its new address at once, not after its 10 s pause"
like "$(cat "$DLOG")" "service dyn2: forward target dyn2\\.tlsward\\.test:$APORT up again" \
    "... and logged up again"
wpid=$(worker_pid)
kill -KILL "$wpid"
wait_file "$DLOG" "worker [0-9]+ started" 10
n=0
while [ "$(worker_pid)" = "$wpid" ] && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
sleep 0.5
ok $(( $(worker_pid) != wpid ? 0 : 1 )) "the worker is killed and restarted"
is "$(get dyn)" "B" "... and the new worker has the new address, not the load's"
daemon_stop
ok $? "the daemon stops"
unlike "$(cat "$DLOG")" 'AddressSanitizer|LeakSanitizer|runtime error' \
    "no sanitizer report"
TLSWARDD=$REAL_TLSWARDD
tap_done
