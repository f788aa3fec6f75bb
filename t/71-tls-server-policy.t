#!/bin/sh
# t/71-tls-server-policy.t - server role protocols and ciphers by level
# (protocols/ciphers/exclude_ciphers at may, the mandatory_* ones at
# encrypt), cipher grades through tls_*_cipherlist, tls_preempt_cipherlist,
# eecdh grades and curves, session ids and tickets; openssl s_client,
# gnutls-cli and curl as clients. Sandbox enforcing and off.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-tls.sh"
tap_setup

# sc PORT [s_client args]: s_client's report of one empty session
sc() { _p=$1; shift; echo | timeout 10 openssl s_client -connect "127.0.0.1:$_p" "$@" 2>&1; }
through() { tls_line "$@"; }
# sess13 PORT [args]: s_client's report of a TLS 1.3 session that sends
# a line to the echo backend and lasts two seconds (the tickets come
# with the first data); tickets13: their number
sess13() {
	_p=$1; shift
	(echo; sleep 2) | timeout 10 openssl s_client -tls1_3 -connect "127.0.0.1:$_p" "$@" 2>&1
}
tickets13() { sess13 "$@" | grep -c 'Post-Handshake New Session Ticket arrived'; }

A128=ECDHE-RSA-AES128-GCM-SHA256
A256=ECDHE-RSA-AES256-GCM-SHA384
LOW="-o tls_medium_cipherlist=DEFAULT:@SECLEVEL=0"	# lets TLS 1.1 in
HIGH="-o tls_high_cipherlist=$A256"

run_mode() {
	SANDBOX=$1
	rm -rf "$CONF"; mkdir "$CONF"; : > "$CONF/main.cf"
	daemon_setup
	e="server 127.0.0.1:$EPORT"
	enc="-o tlsproxy_tls_security_level=encrypt"
	services "any 127.0.0.1:0 $e -o tlsproxy_tls_protocols=>=TLSv1 $LOW" \
	    "v12 127.0.0.1:0 $e -o tlsproxy_tls_protocols=>=TLSv1.2 $LOW" \
	    "mand 127.0.0.1:0 $e $enc -o tlsproxy_tls_protocols=>=TLSv1 -o tlsproxy_tls_mandatory_protocols=>=TLSv1.2 $LOW" \
	    "may13 127.0.0.1:0 $e -o tlsproxy_tls_protocols=>=TLSv1.3 -o tlsproxy_tls_mandatory_protocols=>=TLSv1" \
	    "high 127.0.0.1:0 $e -o tlsproxy_tls_ciphers=high $HIGH" \
	    "mhigh 127.0.0.1:0 $e $enc -o tlsproxy_tls_ciphers=medium -o tlsproxy_tls_mandatory_ciphers=high $HIGH" \
	    "excl 127.0.0.1:0 $e -o tlsproxy_tls_exclude_ciphers=AES128" \
	    "exclweb 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_tls_exclude_ciphers=AES128" \
	    "mexcl 127.0.0.1:0 $e $enc -o tlsproxy_tls_mandatory_exclude_ciphers=AES256" \
	    "mexclmay 127.0.0.1:0 $e -o tlsproxy_tls_mandatory_exclude_ciphers=AES256" \
	    "pref 127.0.0.1:0 $e -o tls_preempt_cipherlist=yes -o tls_medium_cipherlist=$A128:$A256" \
	    "nopref 127.0.0.1:0 $e -o tls_medium_cipherlist=$A128:$A256" \
	    "strong 127.0.0.1:0 $e -o tlsproxy_tls_eecdh_grade=strong" \
	    "ultra 127.0.0.1:0 $e -o tlsproxy_tls_eecdh_grade=ultra" \
	    "auto 127.0.0.1:0 $e -o tls_eecdh_auto_curves=secp521r1" \
	    "nosid 127.0.0.1:0 $e -o tlsproxy_tls_always_issue_session_ids=no" \
	    "notkt 127.0.0.1:0 $e -o smtpd_tls_session_cache_timeout=0" \
	    "nocipher 127.0.0.1:0 $e -o tls_session_ticket_cipher=" \
	    "tkt 127.0.0.1:0 $e -o smtpd_tls_session_cache_timeout=600" \
	    "tk3 127.0.0.1:0 $e -o tlsproxy_tls_ticket_count=3" \
	    "tk0 127.0.0.1:0 $e -o tlsproxy_tls_ticket_count=0"
	daemon_start || { daemon_log; return; }
	old="-tls1_1 -cipher DEFAULT@SECLEVEL=0"

	# protocols
	is "$(through "$(port_of any)" tls11 $old)" tls11 "$1: a TLS 1.1 client where protocols allow it"
	is "$(through "$(port_of v12)" tls11 $old)" "" "$1: a TLS 1.1-only client refused with protocols >=TLSv1.2"
	is "$(through "$(port_of v12)" tls12 -tls1_2)" tls12 "$1: TLS 1.2 accepted there"
	is "$(through "$(port_of mand)" tls11 $old)" "" "$1: encrypt: mandatory_protocols >=TLSv1.2 refuses TLS 1.1"
	is "$(through "$(port_of may13)" tls12 -tls1_2)" "" "$1: may: protocols >=TLSv1.3 refuses TLS 1.2 (mandatory_protocols unused)"
	# grades and exclusions (TLS 1.2: TLS 1.3 suites are not graded)
	is "$(through "$(port_of high)" g128 -tls1_2 -cipher $A128)" "" "$1: grade high = tls_high_cipherlist: another cipher refused"
	is "$(through "$(port_of high)" g256 -tls1_2 -cipher $A256)" g256 "$1: grade high: its cipher accepted"
	is "$(through "$(port_of mhigh)" m128 -tls1_2 -cipher $A128)" "" "$1: encrypt: mandatory_ciphers high applies"
	is "$(through "$(port_of excl)" x128 -tls1_2 -cipher $A128)" "" "$1: exclude_ciphers AES128 refuses the client's only cipher"
	is "$(through "$(port_of excl)" x256 -tls1_2 -cipher $A256)" x256 "$1: exclude_ciphers AES128 accepts AES256"
	is "$(through "$(port_of mexcl)" me256 -tls1_2 -cipher $A256)" "" "$1: encrypt: mandatory_exclude_ciphers applies"
	is "$(through "$(port_of mexclmay)" mm256 -tls1_2 -cipher $A256)" mm256 "$1: may: mandatory_exclude_ciphers does not"
	gn="timeout 10 gnutls-cli --insecure --logfile=/dev/null -p $(port_of excl)"
	out=$(feed gnutls128 $gn --priority NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM 127.0.0.1 |
	    grep -c gnutls128)
	is "$out" 0 "$1: gnutls-cli with only AES-128-GCM refused by exclude_ciphers"
	out=$(feed gnutls256 $gn --priority NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM 127.0.0.1)
	is "$out" gnutls256 "$1: gnutls-cli with AES-256-GCM accepted"
	out=$(timeout 10 curl -sk --max-time 5 --tlsv1.2 --tls-max 1.2 --ciphers $A128 "https://127.0.0.1:$(port_of exclweb)/")
	is "$out" "" "$1: curl with only $A128 refused"
	out=$(timeout 10 curl -sk --max-time 5 --tlsv1.2 --tls-max 1.2 --ciphers $A256 "https://127.0.0.1:$(port_of exclweb)/")
	is "$out" hello "$1: curl with $A256 accepted"
	# whose preference
	like "$(sc "$(port_of pref)" -tls1_2 -cipher $A256:$A128)" "Cipher is $A128" "$1: tls_preempt_cipherlist = yes: the server's order"
	like "$(sc "$(port_of nopref)" -tls1_2 -cipher $A256:$A128)" "Cipher is $A256" "$1: tls_preempt_cipherlist = no: the client's order"
	# curves
	like "$(sc "$(port_of strong)")" 'Server Temp Key: ECDH, prime256v1' "$1: eecdh_grade strong: tls_eecdh_strong_curve"
	like "$(sc "$(port_of ultra)")" 'Server Temp Key: ECDH, secp384r1' "$1: eecdh_grade ultra: tls_eecdh_ultra_curve"
	like "$(sc "$(port_of auto)")" 'Server Temp Key: ECDH, secp521r1' "$1: eecdh_grade auto: tls_eecdh_auto_curves"
	like "$(sc "$(port_of any)" -tls1_2)" 'Server Temp Key: X25519' "$1: the default curves prefer X25519"
	# session ids and tickets
	like "$(sc "$(port_of any)" -tls1_2 -no_ticket)" 'Session-ID: [0-9A-F]{64}' "$1: always_issue_session_ids yes: TLS 1.2 session id"
	like "$(sc "$(port_of nosid)" -tls1_2 -no_ticket)" 'Session-ID: *$' "$1: always_issue_session_ids no: none"
	like "$(sc "$(port_of any)" -tls1_2)" 'session ticket lifetime hint: 3600 ' "$1: tickets live smtpd_tls_session_cache_timeout (default 3600s)"
	like "$(sc "$(port_of tkt)" -tls1_2)" 'session ticket lifetime hint: 600 ' "$1: smtpd_tls_session_cache_timeout 600s"
	unlike "$(sc "$(port_of notkt)" -tls1_2)" 'session ticket lifetime hint' "$1: timeout 0: no tickets"
	unlike "$(sc "$(port_of nocipher)" -tls1_2)" 'session ticket lifetime hint' "$1: empty tls_session_ticket_cipher: no tickets"
	sc "$(port_of any)" -tls1_2 -sess_out "$T/sess" >/dev/null
	like "$(sc "$(port_of any)" -tls1_2 -sess_in "$T/sess")" '^Reused, TLSv1\.2' "$1: a ticket resumes the session"
	sc "$(port_of notkt)" -tls1_2 -sess_out "$T/sess2" >/dev/null
	like "$(sc "$(port_of notkt)" -tls1_2 -sess_in "$T/sess2")" '^New, TLSv1\.2' "$1: without tickets nothing resumes"
	# TLS 1.3 tickets per handshake (tlsproxy_tls_ticket_count)
	is "$(tickets13 "$(port_of any)")" 1 "$1: TLS 1.3: one ticket per handshake by default (as Postfix)"
	is "$(tickets13 "$(port_of tk3)")" 3 "$1: tlsproxy_tls_ticket_count 3: three"
	is "$(tickets13 "$(port_of tk0)")" 0 "$1: tlsproxy_tls_ticket_count 0: none"
	tickets13 "$(port_of any)" -sess_out "$T/sess13" >/dev/null
	out=$(sess13 "$(port_of any)" -sess_in "$T/sess13")
	like "$out" '^Reused, TLSv1\.3' "$1: TLS 1.3: the ticket resumes the session"
	like "$out" 'Post-Handshake New Session Ticket arrived' "$1: TLS 1.3: a resumed session gets a fresh ticket"
	rm -f "$T/sess13b"
	tickets13 "$(port_of tk0)" -sess_out "$T/sess13b" >/dev/null
	ok "$([ ! -s "$T/sess13b" ]; echo $?)" "$1: TLS 1.3 with no tickets: the client has no session to resume"

	wait_log 'service=excl: .*no shared cipher' 5
	log=$(cat "$DLOG")
	like "$log" 'service=v12: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: .*unsupported protocol' "$1: the refused protocol is logged"
	like "$log" 'service=excl: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: .*no shared cipher' "$1: the refused cipher is logged"
	daemon_stop
}

backend_start echo; EPORT=$BPORT
backend_start http; HPORT=$BPORT
run_mode enforce
run_mode off

# A client that offers at most TLS 1.1 under Postfix's default protocols
# (which allow it) is refused as a protocol version, not as a missing
# signature algorithm; and loglevel 2's handshake lines name the session.
sed -i '/^smtpd_tls_protocols\|^tlsproxy_tls_protocols/d' "$CONF/main.cf"
services "old 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_tls_loglevel=2"
daemon_start || daemon_log
out=$(openssl s_client -tls1_1 -connect "127.0.0.1:$(port_of old)" </dev/null 2>&1)
like "$out" 'alert protocol version' "a TLS 1.1-only client gets a protocol_version alert"
wait_log 'service=old: .*TLS handshake' 5
like "$(cat "$DLOG")" 'service=old: \[127\.0\.0\.1\]:[0-9]+: TLS handshake: .*unsupported protocol' \
    "and is logged as an unsupported protocol"
unlike "$(cat "$DLOG")" 'no suitable signature algorithm' "not as a missing signature algorithm"
curl -sk --max-time 5 "https://127.0.0.1:$(port_of old)/" >/dev/null
wait_log 'sess=[0-9]+ service=old: SSL_accept: SSLv3/TLS write finished' 5
like "$(grep 'SSL_accept:' "$DLOG" | head -n 1)" '^tlswardd: sess=[1-9][0-9]* service=old: SSL_accept: ' \
    "loglevel 2: SSL_accept lines carry sess=N"
unlike "$(grep 'SSL_accept:' "$DLOG")" 'sess=0 |^tlswardd: service=' "every one of them"
daemon_stop
tap_done
