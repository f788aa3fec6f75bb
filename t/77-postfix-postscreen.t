#!/bin/sh
# t/77-postfix-postscreen.t - tlswardd as the tlsproxy(8) of a real
# Postfix (a scratch instance, t/lib-postfix.sh): postscreen hands the
# remote client's socket over after STARTTLS, the client sees tlsward's
# certificate, postscreen's deep test passes (PASS NEW), the message is
# delivered on the next connection (PASS OLD, smtpd's own TLS), and
# Postfix's own tlsproxy never runs. With tlswardd stopped postscreen
# answers 454 and goes on; once it is back, STARTTLS works again;
# postfix reload, stop and start leave the socket alone; a reload with a
# new key while clients keep coming loses none and serves the next client
# the new key.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
. "$TOP_SRCDIR/t/lib-postfix.sh"
tap_setup
pf_usable || skip_all "needs root and Debian's postfix and swaks"

daemon_setup
pf_setup || { echo "1..0 # SKIP cannot set up a Postfix instance"; exit 0; }
pf_start || { diag "$(pf_log)"; ok 1 "the scratch Postfix starts"; tap_done; exit 1; }
services "tlsproxy unix:$PF/spool/private/tlsproxy postfix -"
daemon_start || { daemon_log; tap_done; exit 1; }

# fp_starttls SOURCE: the fingerprint the server presents after STARTTLS
fp_starttls() {
	openssl s_client -starttls smtp -name client.test -bind "$1:0" \
	    -connect "127.0.0.1:$PF_PORT" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
fp_file() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
mail_from() {	# mail_from SOURCE: one message by swaks with STARTTLS
	swaks --server "127.0.0.1:$PF_PORT" --local-interface "$1" --tls \
	    --helo client.test --from a@example.com --to user@mx.test \
	    --header "Subject: via $1" 2>&1
}
cert=$(sed -n 's/^smtpd_tls_cert_file = //p' "$CONF/main.cf")

is "$(fp_starttls 127.0.0.2)" "$(fp_file "$cert")" "after postscreen's STARTTLS the client sees tlsward's certificate"
out=$(mail_from 127.0.0.3)
like "$out" '220 2\.0\.0 Ready to start TLS' "swaks: STARTTLS accepted by postscreen"
like "$out" '450 4\.3\.2 Service currently unavailable' "the deep test ends as Postfix ends it (450 at RCPT)"
out=$(mail_from 127.0.0.3)
like "$out" '250 2\.0\.0 Ok: queued as' "the next connection delivers the message"
for i in $(seq 50); do grep -q 'status=sent' "$PF/maillog" && break; sleep 0.1; done
log=$(pf_log)
like "$log" 'postscreen\[[0-9]+\]: PASS NEW \[127\.0\.0\.3\]' "postscreen: PASS NEW"
like "$log" 'postscreen\[[0-9]+\]: PASS OLD \[127\.0\.0\.3\]' "postscreen: PASS OLD"
like "$log" 'virtual\[[0-9]+\]: .*to=<user@mx\.test>.*status=sent \(delivered to mailbox\)' "delivered"
like "$(cat "$PF/mail/box" 2>/dev/null)" 'Subject: via 127\.0\.0\.3' "the message is in the mailbox"
unlike "$log" 'postfix/tlsproxy' "Postfix's own tlsproxy never ran"
unlike "$log" 'warning: .*private/tlsproxy' "postscreen had no trouble with the socket"
wait_log 'service=tlsproxy: DISCONNECT \[127\.0\.0\.3\]' 5
like "$(cat "$DLOG")" 'service=tlsproxy: Anonymous TLS connection established from \[127\.0\.0\.3\]:[0-9]+: TLSv1\.3' \
    "tlswardd logs the session as tlsproxy(8) would"

# postfix reload (master.cf has no tlsproxy: master leaves the socket)
postfix -c "$PF/etc" reload >/dev/null 2>&1
sleep 1
ok "$([ -S "$PF/spool/private/tlsproxy" ]; echo $?)" "postfix reload leaves tlswardd's socket alone"
is "$(fp_starttls 127.0.0.7)" "$(fp_file "$cert")" "and STARTTLS through postscreen still works"
pf_stop
pf_start || diag "$(pf_log | tail -n 5)"
ok "$([ -S "$PF/spool/private/tlsproxy" ]; echo $?)" "postfix stop and start leave it alone too"
for i in 1 2 3 4 5; do
	got=$(fp_starttls 127.0.0.8)
	[ -n "$got" ] && break
	sleep 0.5
done
is "$got" "$(fp_file "$cert")" "and STARTTLS through the restarted postscreen works"

# tlswardd stopped: postscreen says 454 and goes on in plaintext
daemon_stop
out=$(mail_from 127.0.0.4)
like "$out" '454 4\.7\.0 TLS not available due to local problem' "tlswardd stopped: postscreen answers 454"
like "$(pf_log)" 'postscreen\[[0-9]+\]: warning: connect to private/tlsproxy service: (No such file or directory|Connection refused)' \
    "and Postfix logs why"
# back: STARTTLS works again, with a new key after a reload
daemon_start || daemon_log
is "$(fp_starttls 127.0.0.5)" "$(fp_file "$cert")" "tlswardd back: STARTTLS through postscreen works again"
new_key "$T/nk.out" localhost || diag "$(cat "$T/nk.out")"
tw deploy-server-cert "$(sed -n 's/^New self-signed certificate: //p' "$T/nk.out")" \
    "$(sed -n 's/^New private key: //p' "$T/nk.out")" >/dev/null 2>&1
cert2=$(sed -n 's/^smtpd_tls_cert_file = //p' "$CONF/main.cf")
# the reload happens while postscreen clients keep coming
( for i in $(seq 2 21); do fp_starttls "127.0.1.$i"; done > "$T/during" ) &
during=$!
sleep 0.5
kill -HUP "$DPID"
wait_log 'reload: done' 10
wait "$during"
is "$(grep -cE '^[0-9A-F:]{95}$' "$T/during")" 20 "20 STARTTLS sessions during the reload all completed"
ok "$([ "$cert2" != "$cert" ]; echo $?)" "a new certificate is deployed"
is "$(fp_starttls 127.0.0.6)" "$(fp_file "$cert2")" "after a reload postscreen's next client gets the new certificate"
daemon_stop
tap_done
