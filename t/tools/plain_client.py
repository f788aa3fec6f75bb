#!/usr/bin/env python3
"""t/tools/plain_client.py PORT - a plaintext client on 127.0.0.1:PORT:
sends stdin, half-closes, prints everything that comes back."""
import socket
import sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    try:
        d = s.recv(65536)
    except (ConnectionResetError, socket.timeout):
        break
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
