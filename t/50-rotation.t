#!/bin/sh
# t/50-rotation.t - the key rotation story of the README, end to end:
# enable-server -> new-server-key -> output-server-tlsa (old and new key)
# -> deploy-server-cert; and new-server-cert keeping the key (same TLSA).
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
command -v openssl >/dev/null || skip_all "openssl(1) is needed to check results"

param() { sed -n "s/^$1 = //p" "$CONF/main.cf"; }
spki() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1; }

echo 'myhostname = mail.example.com' > "$CONF/main.cf"
tw enable-server >/dev/null 2>&1
ok $? "enable-server deploys a first key"
old_key=$(param smtpd_tls_key_file)
old_cert=$(param smtpd_tls_cert_file)

# 1. new key, not deployed yet
sleep 1	# file names carry the time to the second
out=$(tw new-server-key 2>&1); rc=$?
is "$rc" 0 "new-server-key: exit 0"
new_key=$(ls "$CONF"/key-*.pem | grep -v "$old_key")
new_cert=$(ls "$CONF"/cert-*.pem | grep -v "$old_cert")
is "$(echo "$new_key" | wc -w)" 1 "new-server-key made one new key"
is "$(param smtpd_tls_key_file)" "$old_key" "new-server-key does not deploy"

# 2. TLSA records for the current and the new key, to publish together
tlsa=$(tw output-server-tlsa rsa "$new_key"); rc=$?
is "$rc" 0 "output-server-tlsa for both keys: exit 0"
like "$tlsa" "_25\._tcp\.mail\.example\.com\. IN TLSA 3 1 1 $(spki "$old_key")" \
    "TLSA record of the deployed key"
like "$tlsa" "_25\._tcp\.mail\.example\.com\. IN TLSA 3 1 1 $(spki "$new_key")" \
    "TLSA record of the new key"

# 3. (publish, wait for stale records to expire) then deploy
tw deploy-server-cert "$new_cert" "$new_key" >/dev/null 2>&1
ok $? "deploy-server-cert: exit 0"
is "$(param smtpd_tls_key_file)" "$new_key" "the new key is deployed"
is "$(param smtpd_tls_cert_file)" "$new_cert" "the new certificate is deployed"
tlsa=$(tw output-server-tlsa); rc=$?
is "$tlsa" "; $new_key
_25._tcp.mail.example.com. IN TLSA 3 1 1 $(spki "$new_key")" \
    "after deployment the default TLSA output shows only the new key"

# 4. renewal that keeps the key: same TLSA record
sleep 1
tw new-server-cert mail.example.com www.example.com >/dev/null 2>&1
ok $? "new-server-cert: exit 0"
renewed_key=$(ls -t "$CONF"/key-*.pem | head -n 1)
renewed_cert=$(ls -t "$CONF"/cert-*.pem | head -n 1)
is "$(spki "$renewed_key")" "$(spki "$new_key")" "new-server-cert keeps the deployed key"
like "$(openssl x509 -in "$renewed_cert" -noout -text)" 'DNS:mail.example.com, DNS:www.example.com' \
    "new-server-cert: new names"
tw deploy-server-cert "$renewed_cert" "$renewed_key" >/dev/null 2>&1
ok $? "deploying the renewed certificate"
is "$(tw output-server-tlsa | tail -n 1)" \
    "_25._tcp.mail.example.com. IN TLSA 3 1 1 $(spki "$new_key")" \
    "TLSA record unchanged by the renewal"

tw check >/dev/null 2>&1
ok $? "check passes after the rotation"
tap_done
