#!/usr/bin/env python3
"""t/tools/sclient_msg.py - how long until a TLS message arrives.

Usage: sclient_msg.py PORT CMD REGEX [s_client args...]
Runs openssl s_client -msg against 127.0.0.1:PORT with stdin kept open.
Once the handshake is done it types CMD (an s_client command letter: R
renegotiates, K sends a KeyUpdate; "-" types nothing) and prints the
seconds until REGEX shows in the -msg output after that point (from the
start for "-"), or "timeout" after 5 s. Nothing is sent but CMD, so a
message that only comes with application data or at the session's end
is a timeout.
"""
import re
import select
import subprocess
import sys
import time

port, cmd, pat = sys.argv[1], sys.argv[2], sys.argv[3].encode()
p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:" + port,
                      "-msg"] + sys.argv[4:], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
buf = b""
t0 = time.monotonic()
mark = 0 if cmd == "-" else None    # where to look for REGEX from
out = "timeout"
while time.monotonic() - t0 < 5:
    if select.select([p.stdout], [], [], 0.1)[0]:
        d = p.stdout.read1(65536)
        if not d:
            break
        buf += d
    if mark is None and b"Verify return code" in buf and b"---\n" in buf:
        p.stdin.write(cmd.encode() + b"\n")
        p.stdin.flush()
        t0, mark = time.monotonic(), len(buf)
    if mark is not None and re.search(pat, buf[mark:]):
        out = "%.2f" % (time.monotonic() - t0)
        break
p.kill()
p.wait()
print(out)
