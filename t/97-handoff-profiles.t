#!/bin/sh
# t/97-handoff-profiles.t - hand-off profiles (services.cf entries with
# listen "-") and the machine-readable refusals: unknown-profile (no
# such name, a listener's name, the wrong role), level-not-permitted
# (weaker than the profile; verify without trust anchors),
# no-certificate (a control service without one), and a profile that
# brings the certificate such a control service lacks.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
export TOP_SRCDIR

# ask ROLE FIELD=VALUE...: one request; prints the answer line
cat > "$T/ask.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
req = "version=1\nrole=%s\npeer=[192.0.2.1]:25\n" % sys.argv[2]
req += "".join(a + "\n" for a in sys.argv[3:]) + "\n"
s.sendall(req.encode())
ans = b""
while not ans.endswith(b"\n"):
    d = s.recv(1)
    if not d: break
    ans += d
print(ans.decode().rstrip())
PY
ask() { python3 "$T/ask.py" "$CONF/$@"; }

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	services \
	    "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600" \
	    "bare unix:bare.sock control - -o tlsproxy_tls_cert_file= -o tlsproxy_tls_key_file=" \
	    "smtpin - server - -o tlsproxy_tls_security_level=encrypt" \
	    "strict - client - -o tlsproxy_client_security_level=encrypt" \
	    "web 127.0.0.1:0 server 127.0.0.1:9"
	daemon_start || { daemon_log; return; }

	is "$(ask handoff.sock server profile=nope)" 'refused unknown-profile no profile "nope"' "$1: unknown profile"
	is "$(ask handoff.sock server profile=web)" 'refused unknown-profile no profile "web"' "$1: a listener is not a profile"
	is "$(ask handoff.sock server profile=strict)" 'refused unknown-profile profile strict is for the client role' "$1: a profile of the other role"
	is "$(ask handoff.sock client profile=strict level=may)" 'refused level-not-permitted level may is weaker than the profile'"'"'s encrypt' \
	    "$1: a level weaker than the profile's"
	is "$(ask handoff.sock client profile=strict level=encrypt)" 'ok' "$1: the profile's own level"
	like "$(ask handoff.sock client level=verify servername=mx.example.org)" '^refused level-not-permitted level verify needs trust anchors' \
	    "$1: verify without trust anchors"
	like "$(ask handoff.sock client level=fingerprint fingerprint=AA:BB)" '^refused bad-request fingerprint: "AA:BB" is not a .*fingerprint.*32 hex byte pairs' \
	    "$1: a fingerprint of the wrong length for fingerprint_digest"
	is "$(ask bare.sock server)" 'refused no-certificate service bare has no server certificate (tlsproxy_tls_cert_file, tlsproxy_tls_eccert_file or tlsproxy_tls_chain_files)' \
	    "$1: a control service without a certificate: no-certificate"
	is "$(ask bare.sock server profile=smtpin)" 'ok' "$1: ... but a profile with one works through it"
	is "$(ask bare.sock client)" 'ok' "$1: ... and its client role needs no certificate"
	wait_log 'profile=smtpin level=encrypt' 5
	like "$(cat "$DLOG")" 'service=bare: hand-off from pid=[0-9]+ uid=[0-9]+: role=server peer=\[192\.0\.2\.1\]:25 profile=smtpin level=encrypt' \
	    "$1: the log names the profile and level"
	is "$(python3 "$TOP_SRCDIR/t/tools/hoclient.py" "$CONF/bare.sock" sessions 2 --extra profile=smtpin 2>&1)" "ok 2/2" \
	    "$1: server-role sessions through the profile"
	daemon_stop
}
run_mode enforce
run_mode off

# services.cf rules for profiles
rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
daemon_setup
services "p - server 127.0.0.1:25"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1)
like "$out" 'a hand-off profile \(listen "-"\) forwards nowhere' "services.cf: a profile with a forward target is refused"
services "c - control -"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1)
like "$out" 'a control service needs a listen address' "services.cf: a control service needs a listener"
tap_done
