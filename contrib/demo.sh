#!/bin/sh
# contrib/demo.sh - "make demo": a working tlswardd in the foreground.
#
# Makes a scratch configuration directory, a key and self-signed
# certificate with "tlsward enable-server", a plaintext web backend on
# 127.0.0.1:$DEMO_BACKEND_PORT (python3 http.server), and a server
# listener on 127.0.0.1:$DEMO_PORT in front of it; then runs tlswardd -f
# until Ctrl-C.  In another terminal:  curl -k https://127.0.0.1:8443/
#
# Usage: demo.sh PATH-TO-tlsward PATH-TO-tlswardd DIR
set -eu
tw=$1 twd=$2 dir=$3
port=${DEMO_PORT:-8443}
bport=${DEMO_BACKEND_PORT:-8080}

rm -rf "$dir"
mkdir -p "$dir/www"
cat > "$dir/main.cf" <<EOT
# demo main.cf (see tlsward.cf(5))
myhostname = localhost
tlsproxy_pid_file =
compatibility_level = 3.6
# the demo's own admin socket: never a system instance's
tlsproxy_admin_socket = $dir/admin.sock
EOT
echo "hello from behind tlswardd" > "$dir/www/index.html"
printf 'https 127.0.0.1:%s server 127.0.0.1:%s\n' "$port" "$bport" \
    > "$dir/services.cf"

run() { echo "\$ tlsward -c $dir $*"; "$tw" -c "$dir" "$@"; echo; }
run enable-server localhost
run output-server-tlsa
run check

python3 -m http.server "$bport" --bind 127.0.0.1 --directory "$dir/www" \
    >/dev/null 2>&1 &
backend=$!
trap 'kill $backend 2>/dev/null' EXIT INT TERM
echo "backend: http://127.0.0.1:$bport/ (pid $backend)"
echo "try:     curl -k https://127.0.0.1:$port/"
echo "stop:    Ctrl-C"
echo
"$twd" -c "$dir" -t
"$twd" -c "$dir" -f
