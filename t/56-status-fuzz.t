#!/bin/sh
# t/56-status-fuzz.t - builds the libFuzzer target for the admin socket's
# texts (t/fuzz/fuzz_status.c: the status reply as "tlsward status" reads
# and prints it, text and JSON, and the %XX encoding with its round trip)
# and runs it for a bounded time (FUZZ_SECONDS, default 20) from a real
# daemon's reply. Skipped without clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
S=$TOP_SRCDIR
fuzz_build fuzz_status -I"$S/common" -I"$S/cli" "$S/t/fuzz/fuzz_status.c" \
    "$S/cli/status_fmt.c" "$S/common/util.c" "$S/common/log.c" -lcrypto

mkdir "$T/corpus"
cat > "$T/corpus/reply" <<'EOT'
daemon version=0.1.0 pid=4242 uptime_s=3725 config=/etc/tlsward worker_restarts=1 reloads=2 last_reload=ok
worker pid=4243 generation=3 services=2
events threads=2 sessions=5 max_sessions=3584 refused=0
pool threads=4 busy=1 idle=3 max=256 queued=0 queue_limit=128
tickets keys=3 source=file path=/etc/tlsward/ticket-keys key_name=0a1b2c3d key_age_s=3725 key_position=3 issued=900 decrypted=300 refused=4
service name=web role=server listen=127.0.0.1:443 active=5 sessions=1200 refused=0 refused_source=3 hs_ok=1150 hs_timeout=20 hs_protocol=5 hs_cipher=1 hs_certificate=0 hs_peer_closed=24 hs_other=0 end_other=0 end_closed=1100 end_handshake_timeout=20 end_idle_timeout=2 end_tls_error=6 bytes_in=123456 bytes_out=654321 ocsp_sent=1100
service name=out role=client listen=127.0.0.1:25 active=0 sessions=8 refused=0 refused_source=0 hs_ok=8 bytes_in=1 bytes_out=2 ocsp_sent=0 csc_timeout_s=3600 csc_entries=1 csc_hits=7 csc_misses=1 csc_expired=0 csc_evicted=0
service name=off role=client listen=127.0.0.1:26 csc_timeout_s=0 csc_entries=0
cert service=web subject=CN%3dwww.example.org algorithm=RSA bits=2048 not_after=2027-03-01T00:00:00Z days_left=84 ocsp=stapled ocsp_status=good ocsp_this_update=2026-12-07T00:00:00Z ocsp_next_update=2026-12-14T00:00:00Z ocsp_expires_in_s=590000
cert service=web subject=CN%3dwww.example.org algorithm=EC bits=256 not_after=2027-03-01T00:00:00Z days_left=84 ocsp=expired ocsp_status=revoked ocsp_this_update=2026-12-01T00:00:00Z ocsp_next_update=2026-12-02T00:00:00Z ocsp_expires_in_s=-432000
cert service=out subject=CN%3dclient algorithm=EC bits=256 not_after=2027-03-01T00:00:00Z days_left=84 ocsp=none
forward service=web target=app1.example.org:8080 state=down addresses=2 retry_in_s=7
forward service=web target=unix:/run/app.sock state=up addresses=1 retry_in_s=0
EOT
printf 'error this tlswardd serves the configuration in /etc/x, not /etc/y\nfailed errors=1\n' > "$T/corpus/error"
printf 'daemon name=%%zz%%4 x=%%41%%\n' > "$T/corpus/pct"
printf 'tickets keys=0 source=memory issued=0\ncert service= ocsp=expired ocsp_expires_in_s=-99999999999999999999\n' > "$T/corpus/odd"
FUZZ_ARGS=-close_fd_mask=3 fuzz_run fuzz_status "the status reply reader" 4
tap_done
