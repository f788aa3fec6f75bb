#!/bin/sh
# contrib/demo.sh - "make demo": show tlsward at work on a scratch
# configuration directory (./demo-conf under the build directory).
# Usage: demo.sh PATH-TO-tlsward DIR
set -eu
tw=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
printf '# demo main.cf\nmyhostname = mail.example.com\n' > "$dir/main.cf"
run() { echo "\$ tlsward -c $dir $*"; "$tw" -c "$dir" "$@"; echo; }
run enable-server
run enable-server -a ecdsa 2>&1 || true
run config -n
run output-server-tlsa
run check
echo "demo configuration left in $dir"
