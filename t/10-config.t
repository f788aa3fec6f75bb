#!/bin/sh
# t/10-config.t - "tlsward config": printing as postconf does (all, -n, -d,
# -x, -n -x, names; "name =" for empty values; sorted) and editing with -e
# and -X (byte-for-byte preservation proven with diff, mode preserved,
# one atomic rewrite, new main.cf 0644).
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$TOP_SRCDIR/t/lib.sh"
tap_setup

# --- printing -----------------------------------------------------------

out=$(tw config); rc=$?
is "$rc" 0 "config on an empty main.cf exits 0"
is "$(printf '%s\n' "$out" | LC_ALL=C sort -c 2>&1 && echo sorted)" sorted \
	"output is sorted by name"
is "$(printf '%s\n' "$out" | grep -c ' $')" 0 "no trailing white space"
like "$out" '^smtpd_tls_cert_file =$' "empty value printed as 'name ='"
like "$out" '^tlsproxy_tls_cert_file = \$smtpd_tls_cert_file$' \
	"defaults are printed unexpanded"
like "$out" '^smtpd_tls_protocols = >=TLSv1$' "Postfix default verbatim"
like "$out" "^config_directory = $CONF\$" "config_directory is the -c directory"
is "$(printf '%s\n' "$out" | grep -vc '^[A-Za-z0-9_]* =\( .*\)\{0,1\}$')" 0 \
	"every line is 'name = value' or 'name ='"
is "$out" "$(tw config -d)" "an empty main.cf shows exactly the defaults"
ok "$([ "$(printf '%s\n' "$out" | wc -l)" -gt 140 ]; echo $?)" \
	"... all built-in parameters"
is "$(tw config -n)" "" "-n on an empty main.cf prints nothing"

cat > "$CONF/main.cf" <<'EOF'
# test configuration
smtpd_tls_cert_file = /etc/tlsward/cert.pem
smtpd_use_tls = yes
zz_custom = hello
  world
myhostname = mail.example.com
smtpd_tls_security_level = ${smtpd_use_tls?may}
smtpd_use_tls = no
EOF

is "$(tw config -n)" "myhostname = mail.example.com
smtpd_tls_cert_file = /etc/tlsward/cert.pem
smtpd_tls_security_level = \${smtpd_use_tls?may}
smtpd_use_tls = no
zz_custom = hello world" "-n: what main.cf sets, sorted, later wins, joined"

is "$(tw config -n -x)" "myhostname = mail.example.com
smtpd_tls_cert_file = /etc/tlsward/cert.pem
smtpd_tls_security_level = may
smtpd_use_tls = no
zz_custom = hello world" "-n -x: expanded"
is "$(tw config -nx smtpd_tls_security_level)" \
	"smtpd_tls_security_level = may" "-nx combined in one argument"

like "$(tw config)" '^zz_custom = hello world$' \
	"unknown parameters set in main.cf are listed"
is "$(tw config smtpd_use_tls tlsproxy_tls_cert_file mydomain)" \
	"smtpd_use_tls = no
tlsproxy_tls_cert_file = \$smtpd_tls_cert_file
mydomain = example.com" "names: in the order given, raw"
is "$(tw config -x tlsproxy_tls_cert_file tlsproxy_tls_key_file tls_random_exchange_name)" \
	"tlsproxy_tls_cert_file = /etc/tlsward/cert.pem
tlsproxy_tls_key_file = /etc/tlsward/cert.pem
tls_random_exchange_name = /var/lib/postfix/prng_exch" "names with -x"
is "$(tw config -n tlsproxy_tls_cert_file smtpd_use_tls)" \
	"smtpd_use_tls = no" "-n with names: only those set"
is "$(tw config -d smtpd_use_tls smtpd_tls_cert_file)" "smtpd_use_tls = no
smtpd_tls_cert_file =" "-d: built-in defaults, not main.cf"
is "$(tw config -d | grep -c zz_custom)" 0 "-d lists no unknown parameter"
is "$(tw config -d -x tlsproxy_tls_key_file)" "tlsproxy_tls_key_file =" \
	"-d -x: defaults expanded against nothing"
is "$(tw config zz_custom)" "zz_custom = hello world" \
	"an unknown parameter set in main.cf can be asked for"
is "$(TLSWARD_CONFIG_DIR=$CONF "$TLSWARD" config -n smtpd_use_tls)" \
	"smtpd_use_tls = no" "\$TLSWARD_CONFIG_DIR selects the directory"

# --- editing ------------------------------------------------------------

printf '%s\r\n' '# CRLF comment' > "$CONF/main.cf"
cat >> "$CONF/main.cf" <<'EOF'
#
   # indented comment

smtpd_tls_cert_file=/old/cert.pem
smtpd_tls_key_file = /old/key.pem
	# comment inside a continued setting
   continued
smtpd_use_tls = yes   
smtpd_tls_cert_file = /duplicate.pem
  dup continuation
# the end
EOF
chmod 640 "$CONF/main.cf"
cp "$CONF/main.cf" "$T/orig.cf"

tw config -e 'smtpd_tls_cert_file = /new/cert.pem' 'smtpd_tls_loglevel=1' \
	'smtpd_tls_security_level = may'
is "$?" 0 "-e: exit 0"
# Expected: line 5 replaced, the duplicate and its continuation gone, new
# names appended; every other byte as before.
{ sed -n '1,4p' "$T/orig.cf"
  echo 'smtpd_tls_cert_file = /new/cert.pem'
  sed -n '6,9p' "$T/orig.cf"
  sed -n '12p' "$T/orig.cf"
  echo 'smtpd_tls_loglevel = 1'
  echo 'smtpd_tls_security_level = may'; } > "$T/want.cf"
diff "$T/want.cf" "$CONF/main.cf" > "$T/diff" 2>&1
ok "$?" "-e: byte-for-byte result (diff)"
[ -s "$T/diff" ] && diag "$(cat "$T/diff")"
is "$(stat -c %a "$CONF/main.cf")" 640 "-e: mode preserved"
is "$(ls -A "$CONF")" main.cf "-e: no temporary file left"
is "$(tw config -x tlsproxy_tls_key_file)" \
	"tlsproxy_tls_key_file = /old/key.pem continued" "-e: result reads back"

cp "$CONF/main.cf" "$T/before-x.cf"
tw config -X smtpd_tls_key_file smtpd_use_tls not_there
is "$?" 0 "-X: exit 0"
{ sed -n '1,5p' "$T/before-x.cf"
  sed -n '7p' "$T/before-x.cf"
  sed -n '10,$p' "$T/before-x.cf"; } > "$T/want.cf"
diff "$T/want.cf" "$CONF/main.cf" > "$T/diff" 2>&1
ok "$?" "-X: removes settings with their continuation lines, nothing else"
[ -s "$T/diff" ] && diag "$(cat "$T/diff")"
is "$(stat -c %a "$CONF/main.cf")" 640 "-X: mode preserved"

cp "$CONF/main.cf" "$T/before-noop.cf"
tw config -X not_there_either
is "$?" 0 "-X of an unset name: exit 0"
cmp -s "$T/before-noop.cf" "$CONF/main.cf"
ok "$?" "-X of an unset name: file unchanged"

tw config -e 'smtpd_use_tls = $enable_it' 'enable_it = yes'
is "$?" 0 "-e: values are checked after expansion, together"
is "$(tw config -x smtpd_use_tls)" "smtpd_use_tls = yes" "-e: expanded value"
tw config -e 'zz_free = anything goes' 'zz_empty='
is "$(tw config -n zz_free zz_empty)" "zz_free = anything goes
zz_empty =" "-e: unknown names are accepted; empty value written 'name ='"
is "$(tail -n 1 "$CONF/main.cf")" "zz_empty =" "-e: file has 'name ='"

printf 'a = 1' > "$CONF/main.cf"
tw config -e 'b = 2'
is "$(od -An -c "$CONF/main.cf" | tr -s ' ')" " a = 1 \n b = 2 \n" \
	"-e: a missing final newline is added before the append"

rm "$CONF/main.cf"
(umask 077; tw config -e 'smtpd_use_tls = yes')
is "$?" 0 "-e without a main.cf: exit 0"
is "$(stat -c %a "$CONF/main.cf")" 644 "-e: a new main.cf is 0644"
is "$(cat "$CONF/main.cf")" "smtpd_use_tls = yes" "-e: new main.cf content"

tap_done
