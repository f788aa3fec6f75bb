#!/usr/bin/env python3
"""t/tools/burst.py - bursts of half-open TLS handshakes.

Usage: burst.py PORT N ROUNDS
Each round opens N connections to 127.0.0.1:PORT, sends a ClientHello on
each (the server answers and keeps the handshake's state), holds them
all for a second, then closes them all. Prints "opened N" per round.
"""
import socket
import ssl
import sys
import time

port, n, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for r in range(rounds):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        t = ctx.wrap_socket(s, do_handshake_on_connect=False)
        try:
            t.do_handshake()
        except ssl.SSLWantReadError:
            pass
        socks.append(t)
    time.sleep(1)
    for t in socks:
        t.close()
    print("opened", len(socks))
    sys.stdout.flush()
