#!/bin/sh
# t/91-handoff-smtp.t - end to end with real SMTP clients: swaks --tls
# and openssl s_client -starttls smtp talk to contrib/smtp-starttls-demo,
# which hands each connection to tlswardd on STARTTLS. The message
# arrives intact in the spool, over TLS 1.3, and swaks saw TLS 1.3.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup
: "${SMTPDEMO:=$TOP_BUILDDIR/contrib/smtp-starttls-demo}"
[ -x "$SMTPDEMO" ] || skip_all "contrib/smtp-starttls-demo not built"
command -v swaks >/dev/null 2>&1 || skip_all "swaks not installed (Debian package swaks)"

# demo_start: the responder on port 0; sets $SPORT
demo_start() {
	rm -rf "$T/spool" "$T/demo.port"
	mkdir "$T/spool"
	"$SMTPDEMO" --listen 127.0.0.1:0 --handoff "$CONF/handoff.sock" \
	    --spool "$T/spool" --port-file "$T/demo.port" 2>>"$T/demo.log" &
	DEMOPID=$!
	tap_pid "$DEMOPID"
	for _i in $(seq 50); do [ -s "$T/demo.port" ] && break; sleep 0.1; done
	SPORT=$(cat "$T/demo.port")
}

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	services "handoff unix:handoff.sock control - -o tlsproxy_listen_mode=0600"
	daemon_start || { daemon_log; return; }
	demo_start

	# A message with a leading dot, long and empty lines, and 8-bit text.
	{
		printf 'Subject: hand-off test %s\r\n' "$1"
		printf 'From: a@example.org\r\nTo: b@example.org\r\n\r\n'
		printf '.a line that starts with a dot\r\n\r\n'
		head -c 990 /dev/zero | tr '\0' 'x'; printf '\r\n'
		printf 'gr\303\274\303\237e\r\n'
		seq 1 2000 | sed 's/$/\r/'
	} > "$T/msg.eml"
	swaks --server 127.0.0.1 --port "$SPORT" --tls --tls-protocol tlsv1_3 \
	    --from a@example.org --to b@example.org --data "@$T/msg.eml" \
	    --timeout 30 > "$T/swaks.out" 2>&1
	ok $? "$1: swaks --tls delivers through the hand-off"
	like "$(cat "$T/swaks.out")" 'TLS started with cipher TLSv1\.3:' "$1: swaks saw TLS 1.3"
	like "$(cat "$T/swaks.out")" '<~ *250 2\.0\.0 Ok: queued' "$1: swaks got the queued reply over TLS"
	eml=$(ls "$T"/spool/msg-*.eml 2>/dev/null | head -n 1)
	# swaks ends DATA with CRLF "." CRLF after the file, whose own last
	# line already ends with CRLF: one empty line more.
	{ cat "$T/msg.eml"; printf '\r\n'; } > "$T/want.eml"
	cmp "$eml" "$T/want.eml" >"$T/cmp.out" 2>&1 || { diag "$(cat "$T/cmp.out")"; od -c "$eml" | head -5 | while read -r l; do diag "$l"; done; false; }
	ok $? "$1: the spooled message is byte for byte what swaks sent"
	env=$(cat "${eml%.eml}.env" 2>/dev/null)
	like "$env" 'protocol=TLSv1\.3' "$1: the responder recorded TLS 1.3 from tlswardd's report"
	like "$env" 'from=<a@example\.org>' "$1: and the envelope"
	wait_log 'service=handoff: Anonymous TLS connection established from \[127\.0\.0\.1\]:[0-9]+: TLSv1\.3' 5
	ok $? "$1: tlswardd logged the session with the SMTP client's address"

	# openssl s_client -starttls smtp
	rm -f "$T"/spool/*
	{ sleep 1; printf 'EHLO client.example\r\nMAIL FROM:<c@example.org>\r\n'
	  sleep 0.3; printf 'RCPT TO:<d@example.org>\r\n'; sleep 0.3
	  printf 'DATA\r\n'; sleep 0.3; printf 'Subject: s_client\r\n\r\nhello\r\n.\r\n'
	  sleep 0.5; printf 'QUIT\r\n'; sleep 0.5; } |
	    openssl s_client -starttls smtp -connect "127.0.0.1:$SPORT" -quiet \
	    -ign_eof > "$T/s_client.out" 2>"$T/s_client.err"
	like "$(cat "$T/s_client.out")" '250 2\.0\.0 Ok: queued' "$1: openssl s_client -starttls smtp delivers"
	is "$(cat "$T"/spool/msg-*.eml 2>/dev/null)" "$(printf 'Subject: s_client\r\n\r\nhello\r')" \
	    "$1: the s_client message arrived intact"
	like "$(cat "$T/s_client.out")" '^250 8BITMIME' "$1: after TLS the responder no longer offers STARTTLS"

	kill "$DEMOPID" 2>/dev/null
	daemon_stop
}
run_mode enforce
run_mode off
tap_done
