#!/bin/sh
# t/59-source-limits.t - per-source limits (tlsproxy_source_*): the
# sessions one client network may have open and the connections it may
# open per second, per service; other sources are served meanwhile,
# exempt networks are not limited, refusals are logged once per source
# per 10 s and counted in tlsward status.
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

# src.py PORT SPEC...: each SPEC "ADDR:N" opens N TCP connections from
# ADDR (a 127/8 address) and sends the start of a record (the handshake
# then waits for the rest); after 0.5 s prints per SPEC "ADDR:KEPT/REFUSED":
# how many the proxy kept open and how many it closed at once.
cat > "$T/src.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
groups = []
for spec in sys.argv[2:]:
    addr, n = spec.split(":")
    socks = []
    for i in range(int(n)):
        s = socket.socket()
        s.bind((addr, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(bytes.fromhex("16030100"))
        socks.append(s)
    groups.append((addr, socks))
time.sleep(0.5)
out = []
for addr, socks in groups:
    refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            refused += s.recv(1) == b""
        except BlockingIOError:
            pass
        except ConnectionResetError:
            refused += 1
    out.append("%s:%d/%d" % (addr, len(socks) - refused, refused))
print(" ".join(out))
PY
daemon_setup
backend_start http; HPORT=$BPORT
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_source_session_limit=2 -o tlsproxy_source_limit_exceptions=127.0.0.9,[::1]/128" \
    "net 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_source_session_limit=2 -o tlsproxy_source_ipv4_prefix=24" \
    "rate 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_source_rate_limit=3" \
    "free 127.0.0.1:0 server 127.0.0.1:$HPORT"
daemon_start || { daemon_log; tap_done; exit 1; }
web=$(port_of web) net=$(port_of net) rate=$(port_of rate) free=$(port_of free)

out=$(python3 "$T/src.py" "$web" 127.0.0.2:4 127.0.0.3:2 127.0.0.9:5)
is "$out" "127.0.0.2:2/2 127.0.0.3:2/0 127.0.0.9:5/0" \
    "session limit 2: a source's third and fourth connections are refused, another source and an exempt one are served"
log=$(cat "$DLOG")
like "$log" 'service web: refused connection from \[127\.0\.0\.2\]:[0-9]+: sessions at the limit of 2 from 127\.0\.0\.2/32 \(tlsproxy_source_session_limit\)' \
    "the refusal is logged with the source, the limit and the parameter"
is "$(grep -c 'service web: refused connection from \[127\.0\.0\.2\]' "$DLOG")" 1 \
    "once per source, not per connection"

# Two event loops accept in parallel: which of the /24's three
# connections is refused depends on the order they are taken in.
out=$(python3 "$T/src.py" "$net" 127.0.1.2:1 127.0.1.3:2 127.0.2.2:2)
is "$(echo "$out" | python3 -c 'import re, sys
v = [tuple(map(int, m)) for m in re.findall(r":(\d+)/(\d+)", sys.stdin.read())]
print("%d/%d %d/%d" % (v[0][0] + v[1][0], v[0][1] + v[1][1], v[2][0], v[2][1]))')" "2/1 2/0" \
    "tlsproxy_source_ipv4_prefix=24: two addresses of one /24 share its limit (2 kept, 1 refused); another /24 has its own ($out)"
like "$(cat "$DLOG")" 'service net: refused connection from \[127\.0\.1\.[23]\]:[0-9]+: .* from 127\.0\.1\.0/24' \
    "the log names the network"

# rate 3 a second (the service has no session limit).
sleep_to_second() { python3 -c 'import time; time.sleep(1.05 - time.time() % 1)'; }
sleep_to_second
out=$(python3 "$T/src.py" "$rate" 127.0.3.2:5)
is "$out" "127.0.3.2:3/2" "rate limit 3: of five connections in one second two are refused"
sleep_to_second
out=$(python3 "$T/src.py" "$rate" 127.0.3.2:2)
is "$out" "127.0.3.2:2/0" "the next second the source may connect again"
like "$(cat "$DLOG")" 'service rate: refused connection from \[127\.0\.3\.2\]:[0-9]+: connections this second at the limit of 3 from 127\.0\.3\.2/32 \(tlsproxy_source_rate_limit\)' \
    "the rate refusal is logged"

# Many sources, no limit reached; and no limit at all on "free".
specs=
for i in $(seq 10 59); do specs="$specs 127.0.4.$i:1"; done
out=$(python3 "$T/src.py" "$web" $specs | tr ' ' '\n' | grep -c ':1/0$')
is "$out" 50 "50 sources with one session each are all served"
out=$(python3 "$T/src.py" "$free" 127.0.0.2:6)
is "$out" "127.0.0.2:6/0" "a service without limits is not limited"

# A real TLS client is served while its source is under the limit.
out=$(curl -sk --max-time 5 "https://127.0.0.1:$web/")
is "$out" "hello" "a TLS client under the limit is served"

tw status --json > "$T/status.json"
is "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (s["name"], s["refused_source"]) for s in d["services"]))' "$T/status.json")" \
    "web=2 net=1 rate=2 free=0" "tlsward status counts the refusals per service"
like "$(tw status)" '  sessions:    [0-9]+ active, [0-9]+ since start, 0 refused, 2 over per-source limits' \
    "and says so in text"

# Bad values are refused at start, naming the parameter.
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_source_limit_exceptions=10.0.0.1/8"
out=$("$TLSWARDD" -c "$CONF" -t 2>&1); rc=$?
ok $(( rc != 0 ? 0 : 1 )) "a network with host bits set: -t fails"
like "$out" 'tlsproxy_source_limit_exceptions: "10\.0\.0\.1/8": host bits set' "and says which"
services "web 127.0.0.1:0 server 127.0.0.1:$HPORT -o tlsproxy_source_ipv4_prefix=33"
like "$("$TLSWARDD" -c "$CONF" -t 2>&1)" 'tlsproxy_source_ipv4_prefix: want a number from 0 to 32' \
    "a prefix past 32 is refused"
kill -0 "$DPID"
ok $? "the daemon still runs"
daemon_stop
tap_done
