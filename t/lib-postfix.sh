# t/lib-postfix.sh - a scratch Postfix instance for tests (sourced after
# t/lib.sh and t/lib-daemon.sh): its own configuration, queue, data and
# mailbox directories under $PF=$T/pf, loopback only, postscreen with a
# deep test on a free port, smtpd behind it with its own certificate,
# delivery by virtual(8) into $PF/mail/box, the log in $PF/maillog.
# Postfix's own tlsproxy is not in master.cf: tlswardd owns the socket.
#
#   pf_usable            0 when this machine can run one (root, postfix)
#   pf_setup             writes the instance; $PF_PORT is postscreen's
#   pf_start / pf_stop   postfix -c $PF/etc start / stop
#   pf_log               its log so far
# pf_setup registers pf_stop with the test's cleanup.

pf_usable() {
	[ "$(id -u)" = 0 ] && command -v postfix >/dev/null &&
	    command -v swaks >/dev/null && id postfix >/dev/null 2>&1 &&
	    getent group postdrop >/dev/null
}

pf_master_cf() {
	cat <<EOT
127.0.0.1:$PF_PORT inet n - n - 1 postscreen
smtpd     pass  - - n - - smtpd
tlsmgr    unix  - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
EOT
}

pf_main_cf() {
	cat <<EOT
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.test
mydestination =
maillog_file_prefixes = $PF
maillog_file = $PF/maillog
postscreen_access_list =
postscreen_pipelining_enable = yes
postscreen_greet_wait = 1s
postscreen_tls_security_level = may
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PF/etc/smtpd.pem
smtpd_tls_key_file = $PF/etc/smtpd.key
virtual_mailbox_domains = mx.test
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = static:box
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
smtpd_relay_restrictions = reject_unauth_destination
EOT
}

pf_setup() {
	PF=$T/pf
	chmod 755 "$T"
	mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/mail"
	chown postfix "$PF/data" "$PF/mail"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PF/etc/smtpd.key" \
	    -out "$PF/etc/smtpd.pem" -days 2 -subj /CN=smtpd.mx.test \
	    2>/dev/null || return 1
	PF_PORT=$(free_port)
	pf_main_cf > "$PF/etc/main.cf"
	pf_master_cf > "$PF/etc/master.cf"
	trap 'pf_stop; tap_cleanup' EXIT
}

pf_start() {
	postfix -c "$PF/etc" start >/dev/null 2>&1 || return 1
	for _i in $(seq 50); do
		[ -S "$PF/spool/public/pickup" ] && grep -q 'daemon started' \
		    "$PF/maillog" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
pf_stop() {	# and wait until its master has gone
	[ -n "${PF:-}" ] || return 0
	_m=$(tr -d ' ' < "$PF/spool/pid/master.pid" 2>/dev/null)
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	for _i in $(seq 50); do
		[ -n "$_m" ] && kill -0 "$_m" 2>/dev/null || return 0
		sleep 0.1
	done
}
pf_log() { cat "$PF/maillog" 2>/dev/null; }
