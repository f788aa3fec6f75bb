#!/usr/bin/env python3
"""t/tools/fatal_alert.py - does a TLS server's fatal alert survive the
bytes a client had already sent?

Usage: fatal_alert.py PORT
Sends a malformed ClientHello (its length says more than follows) and,
in the same segment, a record that makes it fail; 0.3 s later two more
records 0.1 s apart, as a client that already sent its Finished and its
request keeps writing. Prints "SEND ALERT END SECONDS": SEND is "sent"
or the error of those later sends (a server that closed at once answers
the first with a reset, and the second fails), ALERT the hex of what
came back, END "eof" or the error that ended reading, SECONDS how long
reading took.
"""
import socket
import sys
import time

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
body = bytes([1, 0, 0, 40, 3, 3]) + bytes(10)
hello = bytes([22, 3, 1, 0, len(body)]) + body
s.sendall(hello + bytes([23, 3, 3, 0, 16]) + b"x" * 16)
time.sleep(0.3)
try:
    s.sendall(bytes([23, 3, 3, 0, 16]) + b"y" * 16)
    time.sleep(0.1)
    s.sendall(bytes([23, 3, 3, 0, 16]) + b"z" * 16)
    sent = "sent"
except OSError as e:
    sent = type(e).__name__
got = b""
t0 = time.monotonic()
try:
    while True:
        d = s.recv(100)
        if not d:
            end = "eof"
            break
        got += d
except OSError as e:
    end = type(e).__name__
print(sent, got.hex() or "-", end, "%.1f" % (time.monotonic() - t0))
