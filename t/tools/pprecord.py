#!/usr/bin/env python3
"""t/tools/pprecord.py - a backend that reads the PROXY protocol header
tlswardd sends, byte for byte, and then echoes.

Usage: pprecord.py PORTFILE OUTFILE
Listens on 127.0.0.1:0, writes the port to PORTFILE. For each
connection, reads the header strictly (v1: a line of at most 107 bytes
ending in CRLF; v2: the 16-byte block and exactly the length it names),
appends one line describing it to OUTFILE, then echoes everything else
(so the client sees that nothing of the header reached it, and nothing
of its data was lost). A header that breaks the specification is
recorded as "bad: REASON" and the connection closed.

Line format:
  v1 TCP4 src=A:P dst=A:P | v1 UNKNOWN
  v2 PROXY|LOCAL fam=0xNN [src=A:P dst=A:P] [ALPN=x] [AUTHORITY=x]
     [SSL client=0xNN verify=N [VERSION=x] [CN=x] [CIPHER=x]] [TLV0xNN=len]
"""
import ipaddress
import socket
import struct
import sys
import threading

SIG2 = b"\r\n\r\n\x00\r\nQUIT\n"
lock = threading.Lock()


def need(conn, n):
    buf = b""
    while len(buf) < n:
        d = conn.recv(n - len(buf))
        if not d:
            raise ValueError("EOF inside the header after %d bytes" % len(buf))
        buf += d
    return buf


def v1(conn, first):
    line = first
    while not line.endswith(b"\r\n"):
        if len(line) >= 107:
            raise ValueError("v1 line longer than 107 bytes")
        line += need(conn, 1)
    f = line[:-2].decode("ascii").split(" ")
    if f[0] != "PROXY":
        raise ValueError("v1 signature")
    if f[1] == "UNKNOWN":
        return "v1 UNKNOWN"
    if len(f) != 6 or f[1] not in ("TCP4", "TCP6"):
        raise ValueError("v1 fields: %r" % f)
    for a in f[2:4]:
        ip = ipaddress.ip_address(a)
        if (ip.version == 4) != (f[1] == "TCP4") or str(ip) != a:
            raise ValueError("v1 address %r" % a)
    for p in f[4:6]:
        if not p.isdigit() or (p != "0" and p[0] == "0") or int(p) > 65535:
            raise ValueError("v1 port %r" % p)
    return "v1 %s src=%s:%s dst=%s:%s" % (f[1], f[2], f[4], f[3], f[5])


def tlvs(b, out, ssl_level=False):
    names = {0x01: "ALPN", 0x02: "AUTHORITY", 0x21: "VERSION", 0x22: "CN",
             0x23: "CIPHER"}
    while b:
        if len(b) < 3:
            raise ValueError("TLV stub of %d bytes" % len(b))
        t, n = b[0], struct.unpack("!H", b[1:3])[0]
        if n > len(b) - 3:
            raise ValueError("TLV 0x%02x overruns" % t)
        v, b = b[3:3 + n], b[3 + n:]
        if t == 0x20 and not ssl_level:
            if n < 5:
                raise ValueError("SSL TLV of %d bytes" % n)
            out.append("SSL client=0x%02x verify=%d" %
                       (v[0], struct.unpack("!I", v[1:5])[0]))
            tlvs(v[5:], out, True)
        elif t in names and (t > 0x20) == ssl_level:
            out.append("%s=%s" % (names[t], v.decode("ascii")))
        else:
            out.append("TLV0x%02x=%d" % (t, n))


def v2(conn, first):
    hdr = first + need(conn, 16 - len(first))
    if hdr[:12] != SIG2:
        raise ValueError("v2 signature")
    vc, fam, n = hdr[12], hdr[13], struct.unpack("!H", hdr[14:16])[0]
    if vc >> 4 != 2 or vc & 15 > 1:
        raise ValueError("v2 version/command 0x%02x" % vc)
    body = need(conn, n)
    out = ["v2 %s fam=0x%02x" % ("PROXY" if vc & 15 else "LOCAL", fam)]
    if fam == 0x11:
        s, d = body[0:4], body[4:8]
        sp, dp = struct.unpack("!HH", body[8:12])
        out.append("src=%s:%d dst=%s:%d" % (ipaddress.ip_address(s), sp,
                                             ipaddress.ip_address(d), dp))
        rest = body[12:]
    elif fam == 0x21:
        s, d = body[0:16], body[16:32]
        sp, dp = struct.unpack("!HH", body[32:36])
        out.append("src=%s:%d dst=%s:%d" % (ipaddress.ip_address(s), sp,
                                             ipaddress.ip_address(d), dp))
        rest = body[36:]
    elif fam == 0x00:
        rest = body
    else:
        raise ValueError("v2 family 0x%02x" % fam)
    tlvs(rest, out)
    return " ".join(out)


def serve(conn):
    with conn:
        try:
            first = need(conn, 1)
            if first == b"P":
                desc = v1(conn, first)
            elif first == b"\r":
                desc = v2(conn, first)
            else:
                desc = "bad: no PROXY header (0x%02x)" % first[0]
        except (ValueError, UnicodeDecodeError) as e:
            desc = "bad: %s" % e
        with lock, open(sys.argv[2], "a") as f:
            f.write(desc + "\n")
        if desc.startswith("bad"):
            return
        while True:
            try:
                d = conn.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            conn.sendall(d)
        conn.shutdown(socket.SHUT_WR)


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
