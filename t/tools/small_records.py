#!/usr/bin/env python3
"""t/tools/small_records.py - a TLS client that sends many small records.

Usage: small_records.py PORT COUNT SIZE BURST
Connects to 127.0.0.1:PORT with TLS (no verification) and sends COUNT
records of SIZE bytes each, in bursts of BURST records as fast as the
socket takes them (so several arrive in one TCP segment), reading the
echo in the same loop; a burst starts when the echo of the one before is
all back (a pause in which nothing new arrives: a relay that lost track
of data it has not read yet stalls there). Prints "<bytes back> <sha256
sent> <sha256 back>". Exit 1 after 10 s without progress.
"""
import hashlib
import select
import socket
import ssl
import sys

port, count, size, burst = [int(a) for a in sys.argv[1:5]]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
s.setblocking(False)
sent, back = hashlib.sha256(), hashlib.sha256()
want, got, i = count * size, 0, 0
while got < want:
    wr = [s] if i < count and got >= (i // burst) * burst * size else []
    r, w, _ = select.select([s], wr, [], 10)
    if not r and not w:
        break                   # no progress for 10 s
    if w:
        rec = bytes([48 + i % 10]) * size
        try:
            s.send(rec)         # one record
            sent.update(rec)
            i += 1
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            pass
    while True:
        try:
            d = s.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            break
        if not d:
            want = -1           # closed early
            break
        back.update(d)
        got += len(d)
print(got, sent.hexdigest(), back.hexdigest())
sys.exit(0 if got == count * size else 1)
