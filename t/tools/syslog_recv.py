#!/usr/bin/env python3
"""t/tools/syslog_recv.py PATH OUT - a stand-in syslog daemon: binds a
UNIX datagram socket at PATH and appends every datagram to OUT as one
line (bytes that are not printable ASCII as \\xNN, so garbage shows).
Runs until killed; creates OUT once it listens."""
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "ab", buffering=0) as f:
    while True:
        d = s.recv(65536).rstrip(b"\n\0")
        line = "".join(chr(c) if 32 <= c < 127 else "\\x%02x" % c for c in d)
        f.write(line.encode() + b"\n")
