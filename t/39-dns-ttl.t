#!/bin/sh
# t/39-dns-ttl.t - forward names looked up again when their DNS answer
# expires. The test runs in network and mount namespaces of its own: a
# small DNS server (t/tools/dns_stub.py) on the namespace's 127.0.0.1:53
# answers from a zone file the test rewrites, and resolv.conf,
# nsswitch.conf and /etc/hosts are the test's. Shown, with
# tlsproxy_forward_resolve_interval = 12s: a name with TTL 7 is looked
# up every 7 s, one with TTL 1 every 5 s (the floor), one with TTL 3600
# every 12 s (the interval caps); DNS is not asked about a name that
# /etc/hosts has, which is looked up every 12 s; the TTL is learned right after the start, so a name with a
# short TTL that moves is followed within its TTL, not the interval;
# when the name server stops answering, a reload does not wait for it.
if [ -z "$TW_T39_NS" ]; then
	if [ "$(id -u)" = 0 ] &&
	    unshare -n -m --propagation private true 2>/dev/null; then
		TW_T39_NS=1 exec unshare -n -m --propagation private \
		    "${SHELL:-/bin/sh}" "$0" "$@"
	fi
	TW_T39_NS=none
fi
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/lib-daemon.sh"
tap_setup

[ "$TW_T39_NS" = 1 ] ||
    skip_all "needs root and network and mount namespaces (unshare -n -m)"
command -v curl >/dev/null || skip_all "curl is not installed"
ip link set lo up || skip_all "cannot bring up lo in the namespace"

# The namespace's resolver: our stub on 127.0.0.1:53, short timeouts.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' > "$T/resolv.conf"
printf 'hosts: files dns\n' > "$T/nsswitch.conf"
printf '127.0.0.1 localhost\n127.0.0.1 hostsonly.tlsward.test\n' > "$T/hosts"
for f in resolv.conf nsswitch.conf hosts; do
	mount --bind "$T/$f" "/etc/$f" || skip_all "cannot bind-mount /etc/$f"
done
zone() { printf '%s\n' "$@" > "$T/zone.new" && mv "$T/zone.new" "$T/zone"; }
zone "short.tlsward.test A 1 127.0.0.1" "mid.tlsward.test A 7 127.0.0.1" \
    "long.tlsward.test A 3600 127.0.0.1"
python3 "$TOP_SRCDIR/t/tools/dns_stub.py" 127.0.0.1 53 "$T/zone" \
    "$T/dns.log" "$T/dns.ready" &
tap_pid $!
wait_file "$T/dns.ready" 'ready' 5 || skip_all "the DNS stub did not start"
is "$(getent hosts mid.tlsward.test | awk '{ print $1 }')" \
    127.0.0.1 "the namespace resolves through the DNS stub"

python3 "$TOP_SRCDIR/t/tools/idhttp.py" 127.0.0.1 0 "$T/a.port" A &
tap_pid $!
wait_file "$T/a.port" '^[0-9]+$' 5
P=$(cat "$T/a.port")
python3 "$TOP_SRCDIR/t/tools/idhttp.py" 127.0.0.2 "$P" "$T/b.port" B &
tap_pid $!
wait_file "$T/b.port" '^[0-9]+$' 5
get() { curl -sk --max-time 8 "https://127.0.0.1:$(port_of "$1")/"; }

daemon_setup
echo "tlsproxy_forward_resolve_interval = 12s" >> "$CONF/main.cf"
services "short 127.0.0.1:0 server short.tlsward.test:$P" \
    "mid 127.0.0.1:0 server mid.tlsward.test:$P" \
    "long 127.0.0.1:0 server long.tlsward.test:$P" \
    "hostsonly 127.0.0.1:0 server hostsonly.tlsward.test:$P"
: > "$T/dns.log"
daemon_start -v || { daemon_log; tap_done; exit 1; }
t0=$(date +%s%N)
is "$(get short)" "A" "short.tlsward.test (TTL 1) is 127.0.0.1: backend A"
wait_log 'service mid: forward mid\.tlsward\.test:[0-9]+: DNS TTL 7 s, next look-up in [67] s' 5
ok $? "the TTL of mid.tlsward.test is learned after the start (logged with -v)"

# A short TTL is followed: the name moves, within the floor of 5 s.
zone "short.tlsward.test A 1 127.0.0.2" "mid.tlsward.test A 7 127.0.0.1" \
    "long.tlsward.test A 3600 127.0.0.1"
wait_log 'service short: forward short\.tlsward\.test:[0-9]+: new addresses' 9
ok $? "short.tlsward.test moves to 127.0.0.2: followed"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok $(( ms < 8000 ? 0 : 1 )) "... within 8 s of the start, not the 12 s interval ($ms ms)"
is "$(get short)" "B" "... and the next session goes to backend B"

# Let 26 s of look-ups pass, then read the stub's log for the gaps
# between the rounds of look-ups of each name.
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 26500 ]; do sleep 0.5; done
gaps() {	# gaps NAME: the seconds between its rounds, one decimal
	python3 - "$T/dns.log" "$1" <<'PY'
import sys
times = [float(l.split()[0]) for l in open(sys.argv[1])
         if l.split()[1].rstrip(".").lower() == sys.argv[2]]
rounds = []
for t in times:
    if not rounds or t - rounds[-1] > 1.0:
        rounds.append(t)
print(" ".join("%.1f" % (b - a) for a, b in zip(rounds, rounds[1:])))
PY
}
# in_range "GAPS" LO HI: 0 if there are at least MIN gaps, all in range.
in_range() {
	python3 -c 'import sys
g = [float(x) for x in sys.argv[1].split()]
sys.exit(0 if len(g) >= int(sys.argv[4]) and
         all(float(sys.argv[2]) <= x <= float(sys.argv[3]) for x in g) else 1)' "$@"
}
g=$(gaps mid.tlsward.test)
in_range "$g" 6.5 8.5 3
ok $? "TTL 7: looked up every 7 s (gaps: $g)"
g=$(gaps short.tlsward.test)
in_range "$g" 4.5 6.5 4
ok $? "TTL 1: looked up every 5 s, not more often (gaps: $g)"
g=$(gaps long.tlsward.test)
in_range "$g" 11.5 13.5 2
ok $? "TTL 3600: looked up every 12 s, the interval (gaps: $g)"
is "$(grep -c ' hostsonly\.tlsward\.test ' "$T/dns.log")" 0 \
    "a name /etc/hosts has (and nsswitch asks files first): no DNS query"
like "$(cat "$DLOG")" 'service hostsonly: forward hostsonly\.tlsward\.test:[0-9]+: no DNS TTL, next look-up in 12 s' \
    "... it is looked up every 12 s, the interval"
is "$(get hostsonly)" "A" "... and it is served from /etc/hosts"
unlike "$(cat "$DLOG")" 'reload|AddressSanitizer|runtime error' \
    "no reload, no sanitizer report"

# The name server stops answering: a reload takes the addresses the
# resolver thread has; it does not wait for DNS.
zone DROP
tw status >/dev/null
t1=$(date +%s%N)
out=$(tw reload 2>&1); rc=$?
ms=$(( ($(date +%s%N) - t1) / 1000000 ))
is "$rc" 0 "DNS stops answering: tlsward reload succeeds ($out)"
ok $(( ms < 1500 ? 0 : 1 )) "... at once, with the resolver's addresses: no look-up ($ms ms)"
is "$(get mid)$(get short)" "AB" "... and the services keep their addresses"
sleep 3
like "$(grep -c ' dropped$' "$T/dns.log")" '^[1-9]' "... while the resolver thread's look-ups go unanswered"
is "$(get mid)" "A" "... they keep them then too"

daemon_stop
ok $? "the daemon stops"
[ "$_tap_fail" = 0 ] || { daemon_log; diag "dns log:" "$(cat "$T/dns.log")"; }
tap_done
