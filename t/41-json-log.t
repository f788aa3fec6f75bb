#!/bin/sh
# t/41-json-log.t - tlsproxy_session_log_format = json: one JSON record
# per session (server role, a handshake failure, a client certificate,
# SNI and ALPN, a hand-off), each line parsed with Python's json module
# and its members and types checked; a hostile SNI (quotes, backslashes,
# control bytes, bytes that are not UTF-8) is escaped, not passed
# through; a service left at postfix keeps the tlsproxy(8) lines.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup
HOCLIENT="python3 $TOP_SRCDIR/t/tools/hoclient.py"
CHECK="python3 $TOP_SRCDIR/t/tools/jsonlog_check.py"
export TOP_SRCDIR

P=$T/pki
mkdir "$P"
mkca ca "tlsward test CA"
mkleaf client ca 'client "quoted" back' client.test
chmod -R a+rX "$T"

records() { $CHECK "$DLOG"; }
match() { $CHECK "$DLOG" "$@"; }

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	echo 'tlsproxy_session_log_format = json' >> "$CONF/main.cf"
	services "web 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_alpn=h2,http/1.1" \
	    "ask 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_ask_ccert=yes -o tlsproxy_tls_CAfile=$P/ca.crt" \
	    "tls13 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_tls_protocols=>=TLSv1.3" \
	    "classic 127.0.0.1:0 server 127.0.0.1:$EPORT -o tlsproxy_session_log_format=postfix" \
	    "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600"
	daemon_start || { daemon_log; return; }

	is "$(tls_line "$(port_of web)" one -servername www.example.test -alpn http/1.1)" one "$1: a session with SNI and ALPN"
	is "$(tls_line "$(port_of ask)" two -cert "$P/client.crt" -key "$P/client.key")" two "$1: a session with a client certificate"
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of tls13)" -tls1_2 >/dev/null 2>&1
	evil=$(printf 'a"b\\c\001d\033e\177f\303\251g\377h')
	is "$(tls_line "$(port_of web)" three -servername "$evil")" three "$1: a session with a hostile SNI"
	is "$(tls_line "$(port_of classic)" four)" four "$1: a session of a postfix-format service"
	is "$($HOCLIENT "$CONF/handoff.sock" sessions 1 2>&1)" "ok 1/1" "$1: a hand-off session"
	wait_log "service=classic: DISCONNECT" 5
	n=0
	while [ "$n" -lt 50 ] && [ "$(records | sed -n 's/^records=//p')" != 5 ]; do
		sleep 0.1; n=$((n + 1))
	done

	out=$(records); rc=$?
	ok $rc "$1: every record parses as JSON with the documented members and types"
	[ $rc -eq 0 ] || diag "$out"
	like "$out" '^records=5$' "$1: one record per session of a json service"
	is "$(match service=web end=closed sni=www.example.test alpn=http/1.1 protocol=TLSv1.3 \
	    client_cert_subject=null forward="127.0.0.1:$EPORT" bytes_in=4 bytes_out=4 client_addr=127.0.0.1 role=server)" 1 \
	    "$1: server role: SNI, ALPN, protocol, forward, bytes each way, no client certificate"
	is "$(match service=ask end=closed sni=null alpn=null 'client_cert_subject=CN=client \"quoted\" back')" 1 \
	    "$1: the client certificate's subject (RFC 2253, with its escapes)"
	is "$(match service=tls13 end=tls_error protocol=null cipher=null bytes_in=0 bytes_out=0 \
	    'error:="TLS handshake: error:0A000102:SSL routines::unsupported protocol"')" 1 \
	    "$1: the failed handshake: end tls_error, no protocol, the error"
	is "$(match service=web 'sni:="a\"b\\c\u0001d\u001be\u007ff\u00e9g\ufffdh"' bytes_in=6)" 1 \
	    "$1: the hostile SNI: every byte escaped, valid UTF-8 kept, the rest U+FFFD"
	is "$(match service=handoff role=control end=closed client_addr=198.51.100.0 client_port=1000 \
	    forward=null protocol=TLSv1.3 bytes_in=7 bytes_out=7)" 1 \
	    "$1: the hand-off: the request's peer, no forward target"
	grep 'tlswardd: {' "$DLOG" | grep -qF '"sni":"a\"b\\c\u0001d\u001be\u007ff'"$(printf '\303\251')"'g\ufffdh"'
	ok $? "$1: the line itself: quote, backslash, control bytes escaped, UTF-8 as is"
	unlike "$(cat "$DLOG")" 'service=(web|ask|tls13|handoff): (DISCONNECT|.*established)' \
	    "$1: no tlsproxy(8)-style session lines for json services"
	like "$(cat "$DLOG")" 'service=classic: Anonymous TLS connection established' \
	    "$1: the postfix-format service keeps its lines"
	unlike "$(cat "$DLOG")" 'forbidden system call|killed|ERROR: AddressSanitizer' "$1: no worker died"
	daemon_stop
}

backend_start echo; EPORT=$BPORT
run_mode enforce
run_mode off

# a bad value is refused by the check, with the parameter named
rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
daemon_setup
services "web 127.0.0.1:0 server 127.0.0.1:1 -o tlsproxy_session_log_format=xml"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $((rc == 0)) "tlswardd -t refuses tlsproxy_session_log_format=xml"
like "$out" 'tlsproxy_session_log_format: want postfix or json, not "xml"' "... naming the parameter and the value"
out=$(tw check 2>&1); rc=$?
ok $((rc == 0)) "tlsward check refuses it too"
like "$out" 'service web: parameter tlsproxy_session_log_format: want postfix or json, not "xml"' "... with the same words"
tap_done
