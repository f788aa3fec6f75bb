#!/usr/bin/env python3
"""t/tools/unix_get.py PATH - one HTTP/1.0 GET over TLS on a UNIX socket
(certificate not checked); prints the body. Reads until the daemon's
close_notify before it closes."""
import socket
import ssl
import sys

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.socket(socket.AF_UNIX)
raw.settimeout(10)
raw.connect(sys.argv[1])
s = ctx.wrap_socket(raw, server_hostname="localhost")
s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
data = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    data += c
print(data.split(b"\r\n\r\n", 1)[-1].decode().strip())
