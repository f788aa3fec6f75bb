#!/bin/sh
# t/55-session-fuzz.t - builds the libFuzzer target for a server-role
# session's TLS side (t/fuzz/fuzz_session.c: the service's real SSL_CTX
# loaded from a configuration directory, the event loops' socket BIO) and
# runs it for a bounded time (FUZZ_SECONDS, default 20) from ClientHellos
# of real clients (TLS 1.3 and 1.2, with SNI and ALPN). Skipped without
# clang or libFuzzer.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-fuzz.sh"
tap_setup
S=$TOP_SRCDIR
fuzz_build fuzz_session -I"$S/common" -I"$S/daemon" -I"$S/daemon/worker" \
    -I"$S/sandbox" "$S/t/fuzz/fuzz_session.c" "$S/daemon/worker/sockbio.c" \
    "$S"/daemon/loader.c "$S"/daemon/listen.c "$S"/daemon/systemd.c \
    "$S"/daemon/snapshot.c "$S"/daemon/runtime.c "$S"/daemon/tlsctx.c \
    "$S"/daemon/worker/tkring.c "$S"/daemon/worker/csc.c \
    "$S"/daemon/ocsp.c "$S"/daemon/tlsalpn.c "$S"/daemon/sni.c \
    "$S"/daemon/tlspolicy.c "$S"/daemon/tlsverify.c \
    "$S"/daemon/fingerprint.c "$S"/daemon/resolver.c \
    "$S"/daemon/worker/fwdtarget.c "$S"/common/*.c "$S"/sandbox/*.c \
    -lssl -lcrypto -lseccomp -lcap-ng -lpthread

# The service: a server role with an RSA and an ECDSA certificate.
tw enable-server localhost >/dev/null 2>&1
tw new-server-key -a ecdsa localhost >/dev/null 2>&1
tw deploy-server-cert "$(ls "$CONF"/eccert-*.pem)" "$(ls "$CONF"/eckey-*.pem)" >/dev/null 2>&1
cat >> "$CONF/main.cf" <<EOT
compatibility_level = 3.6
tlsproxy_user = nobody
tlsproxy_pid_file =
tlsproxy_admin_socket =
EOT
echo "web 127.0.0.1:0 server 127.0.0.1:9 -o tlsproxy_tls_alpn=h2,http/1.1" > "$CONF/services.cf"

# Seeds: what real clients send first.
mkdir "$T/corpus"
cat > "$T/hello.py" <<'PY'
# hello.py FILE CMD...: listens, runs CMD with {port} replaced, saves the
# first bytes the client sends.
import socket, subprocess, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
cmd = [a.replace("{port}", str(l.getsockname()[1])) for a in sys.argv[2:]]
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
c, _ = l.accept()
c.settimeout(5)
open(sys.argv[1], "wb").write(c.recv(65536))
c.close()
p.kill()
PY
python3 "$T/hello.py" "$T/corpus/tls13" openssl s_client -connect '127.0.0.1:{port}' -servername localhost -alpn h2,http/1.1
python3 "$T/hello.py" "$T/corpus/tls12" openssl s_client -connect '127.0.0.1:{port}' -tls1_2 -servername mx.example.org
python3 "$T/hello.py" "$T/corpus/curl" curl -sk --max-time 3 'https://127.0.0.1:{port}/'
is "$(ls "$T/corpus" | wc -l)" 3 "three ClientHellos as seeds"
(cd "$T" && TLSWARD_FUZZ_CONF=$CONF ./fuzz_session -runs=1 corpus/tls13 > "$T/one.log" 2>&1)
ok $? "the target loads the configuration and takes a ClientHello"
TLSWARD_FUZZ_CONF=$CONF; export TLSWARD_FUZZ_CONF
fuzz_run fuzz_session "the server session" 3
tap_done
