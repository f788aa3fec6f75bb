#!/usr/bin/env python3
"""dns_stub.py ADDR PORT ZONE LOG READY - a tiny authoritative DNS server
over UDP for tests. ZONE has lines "NAME A|AAAA TTL ADDRESS", read again
for every query. A name in ZONE without a record of the asked type gets
an empty answer (NODATA); other names NXDOMAIN; a line "DROP" makes it
answer nothing at all (a dead name server). Every query is logged to
LOG as "TIME NAME TYPE" (TIME in seconds, monotonic), "dropped" after
it when it was not answered. READY is written
once the socket is bound. Malformed queries are dropped."""
import socket
import struct
import sys
import time

TYPES = {1: "A", 28: "AAAA"}


def read_zone(path):
    zone = {}
    try:
        for line in open(path):
            f = line.split()
            if f == ["DROP"]:
                zone["DROP"] = True
            elif len(f) == 4:
                zone.setdefault((f[0].lower(), f[1]), []).append(
                    (int(f[2]), f[3]))
    except OSError:
        pass
    return zone


def parse_query(q):
    """(id, flags, name, qtype, end of the question) or None."""
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if qd != 1 or flags & 0x8000:
        return None
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        n = q[i]
        if n > 63 or i + 1 + n > len(q):
            return None
        labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(q):
        return None
    qtype, = struct.unpack("!H", q[i + 1:i + 3])
    return qid, flags, ".".join(labels).lower(), qtype, i + 5


def answer(q, zone):
    p = parse_query(q)
    if p is None:
        return None, None
    qid, flags, name, qtype, end = p
    known = any(k[0] == name for k in zone if k != "DROP")
    recs = zone.get((name, TYPES.get(qtype, "?")), [])
    rcode = 0 if known else 3
    out = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode,
                      1, len(recs), 0, 0) + q[12:end]
    for ttl, addr in recs:
        fam = socket.AF_INET if qtype == 1 else socket.AF_INET6
        rd = socket.inet_pton(fam, addr)
        out += struct.pack("!HHHIH", 0xc00c, qtype, 1, ttl, len(rd)) + rd
    return out, (name, TYPES.get(qtype, str(qtype)))


def main():
    addr, port, zpath, log, ready = sys.argv[1:6]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    with open(ready, "w") as f:
        f.write("ready\n")
    while True:
        q, peer = s.recvfrom(4096)
        zone = read_zone(zpath)
        out, what = answer(q, zone)
        if out is None:
            continue
        with open(log, "a") as f:
            f.write("%.3f %s %s%s\n" % (time.monotonic(), what[0], what[1],
                                         " dropped" if "DROP" in zone else ""))
        if "DROP" not in zone:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
