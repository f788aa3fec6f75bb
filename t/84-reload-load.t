#!/bin/sh
# t/84-reload-load.t - key rotation under load: while clients keep
# making new TLS connections and long transfers run, the key is rotated
# 20 times with "tlsward new-server-key" + "deploy-server-cert" +
# "tlsward reload". No connection may fail, no transfer may be corrupted,
# handshakes that start a second after a reload must present the new
# certificate, and the worker's memory must not grow with reloads.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

ROTATIONS=20

fp_file() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
now() { date +%s.%N; }

daemon_setup
cat >> "$CONF/main.cf" <<EOT
tlsproxy_admin_socket = $T/admin.sock
tlsproxy_min_threads = 8
EOT
backend_start echo
services "web 127.0.0.1:0 server 127.0.0.1:$BPORT"
daemon_start || { daemon_log; tap_done; exit 1; }
port=$(port_of web)
w=$(worker_pid)
echo "0 0 0 $(fp_file "$(sed -n 's/^smtpd_tls_cert_file = //p' "$CONF/main.cf")")" > "$T/rotations"

# The load: 4 threads of short sessions (connect, handshake, echo 1-8 KB,
# close) and 2 threads of long transfers (a few MB each, in 16 KB steps,
# each spanning several reloads); every byte is checked. Bounded: it
# stops at $T/stop or after 120 s.
python3 - "$port" "$T/stop" "$T/load" <<'PY' &
import hashlib, os, random, socket, ssl, sys, threading, time
port, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t_end = time.time() + 120
lock = threading.Lock()
log = open(out, "w")

def running():
    return not os.path.exists(stop) and time.time() < t_end

def record(line):
    with lock:
        log.write(line + "\n")
        log.flush()

def connect():
    raw = socket.create_connection(("127.0.0.1", port), timeout=15)
    return ctx.wrap_socket(raw, server_hostname="localhost")

def echo(s, data):
    s.sendall(data)
    got = bytearray()
    while len(got) < len(data):
        chunk = s.recv(len(data) - len(got))
        if not chunk:
            break
        got += chunk
    return bytes(got) == data

def short(seed):
    rnd = random.Random(seed)
    while running():
        t0 = time.time()
        try:
            s = connect()
            fp = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
            good = echo(s, rnd.randbytes(rnd.randint(1024, 8192)))
            s.close()
            record("short %.6f %s %s" % (t0, fp, "ok" if good else "corrupt"))
        except Exception as e:
            record("short %.6f - fail:%s" % (t0, repr(e).replace(" ", "_")))

def long(seed):
    rnd = random.Random(seed)
    while running():
        t0 = time.time()
        total, good = 0, True
        try:
            s = connect()
            for i in range(200):	# 200 x 16 KB = 3.2 MB, ~4 s
                if not running():
                    break
                good = echo(s, rnd.randbytes(16384)) and good
                total += 16384
                time.sleep(0.02)
            s.close()
            record("long %.6f %.6f %d %s" % (t0, time.time(), total, "ok" if good else "corrupt"))
        except Exception as e:
            record("long %.6f %.6f %d fail:%s" % (t0, time.time(), total, repr(e).replace(" ", "_")))

ts = [threading.Thread(target=short, args=(i,)) for i in range(4)]
ts += [threading.Thread(target=long, args=(100 + i,)) for i in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
PY
load=$!
tap_pid "$load"
sleep 1

rotated=0
reload_fail=0
for i in $(seq "$ROTATIONS"); do
	new_key "$T/newkey.out" localhost || diag "new key $i: $(cat "$T/newkey.out")"
	key=$(sed -n 's/^New private key: //p' "$T/newkey.out")
	cert=$(sed -n 's/^New self-signed certificate: //p' "$T/newkey.out")
	tw deploy-server-cert "$cert" "$key" >/dev/null 2>&1 || { diag "deploy $i failed"; break; }
	t0=$(now)
	out=$(tw reload 2>&1) || { reload_fail=$((reload_fail + 1)); diag "reload $i: $out"; }
	t1=$(now)
	echo "$i $t0 $t1 $(fp_file "$cert")" >> "$T/rotations"
	rotated=$i
	[ "$i" = 5 ] && rss5=$(rss "$w")
	sleep 0.4
done
rss20=$(rss "$w")
sleep 1.5	# handshakes more than a second after the last reload
: > "$T/stop"
for i in $(seq 150); do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
is "$rotated" "$ROTATIONS" "the key was rotated $ROTATIONS times"
is "$reload_fail" 0 "every tlsward reload succeeded"
is "$(worker_pid)" "$w" "the same worker served throughout (nothing restarted)"

# Analysis: failures, corruption, and which certificate each handshake got.
python3 - "$T/load" "$T/rotations" > "$T/verdict" <<'PY'
import sys
rot = [l.split() for l in open(sys.argv[2])]
rot = [(int(i), float(t0), float(t1), fp) for i, t0, t1, fp in rot]
short = [l.split() for l in open(sys.argv[1]) if l.startswith("short ")]
long_ = [l.split() for l in open(sys.argv[1]) if l.startswith("long ")]
fails = [l for l in short if l[3] != "ok"] + [l for l in long_ if l[4].startswith("fail")]
corrupt = [l for l in short + long_ if l[-1] == "corrupt"]
# the rotation in force at time t: the last one whose reload returned
# at least a second before t (and the next one's reload not begun)
late = strict = checked = 0
for l in short:
    if l[3] != "ok":
        continue
    t, fp = float(l[1]), l[2]
    cur = [r for r in rot if r[2] + 1.0 <= t]
    nxt = [r for r in rot if r[1] <= t]
    if cur and nxt and cur[-1] == nxt[-1]:
        checked += 1
        late += fp != cur[-1][3]
    after = [r for r in rot if r[2] <= t]
    if after and after[-1] == nxt[-1] and fp != after[-1][3]:
        strict += 1
seen = sum(1 for r in rot[1:] if any(l[2] == r[3] for l in short if l[3] == "ok"))
spanning = sum(1 for l in long_ if l[4] == "ok" and
               sum(1 for r in rot[1:] if float(l[1]) < r[1] and r[2] < float(l[2])) >= 2)
print("short", len(short))
print("long", len(long_))
print("bytes", sum(int(l[3]) for l in long_))
print("fail", len(fails))
for l in fails[:5]:
    print("#", " ".join(l))
print("corrupt", len(corrupt))
print("checked", checked)
print("late", late)
print("strict", strict)
print("seen", seen)
print("spanning", spanning)
PY
v() { sed -n "s/^$1 //p" "$T/verdict"; }
diag "$(v short) short sessions, $(v long) long transfers ($(v bytes) bytes) during $rotated rotations"
grep '^#' "$T/verdict" | sed 's/^# //' | while read -r l; do diag "failure: $l"; done
ok $(( $(v short) >= 100 ? 0 : 1 )) "continuous new connections ($(v short))"
is "$(v fail)" 0 "zero failed connections"
is "$(v corrupt)" 0 "zero corrupted transfers"
ok $(( $(v spanning) >= 1 ? 0 : 1 )) "long transfers ran across reloads ($(v spanning) spanned two or more)"
is "$(v seen)" "$ROTATIONS" "each of the $ROTATIONS new certificates was presented"
ok $(( $(v checked) >= 20 ? 0 : 1 )) "handshakes checked against the certificate in force ($(v checked))"
is "$(v late)" 0 "every handshake a second or more after a reload presents the new certificate"
diag "handshakes that started after tlsward reload returned and still got the old certificate: $(v strict)"

diag "worker VmRSS: $rss5 kB after 5 reloads, $rss20 kB after $rotated"
if ldd "$TLSWARDD" 2>/dev/null | grep -q 'libasan'; then
	skip "worker memory does not grow with reloads" "AddressSanitizer's quarantine holds freed memory"
else
	growth=$((rss20 - rss5))
	ok $(( growth < 4096 ? 0 : 1 )) "worker memory does not grow with reloads (${growth} kB over $((rotated - 5)) reloads)"
fi
daemon_stop
ok $? "the daemon stops"
tap_done
