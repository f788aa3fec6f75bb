#!/usr/bin/env python3
"""t/tools/idhttp.py ADDR PORT PORTFILE NAME - an HTTP backend for the
forward-target tests: listens on ADDR:PORT (PORT 0: any; SO_REUSEADDR,
so it can come back on its port after it was killed), writes the port
to PORTFILE (atomically) once it listens, and answers every request
with "NAME\\n" and a close."""
import os
import socket
import sys
import threading


def serve(c, name):
    with c:
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = c.recv(4096)
            if not d:
                return
            buf += d
        body = name.encode() + b"\n"
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n%s" % (len(body), body))


def main():
    addr, port, pfile, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[4]
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind((addr, port))
    lsn.listen(64)
    with open(pfile + ".tmp", "w") as f:
        f.write("%d\n" % lsn.getsockname()[1])
    os.rename(pfile + ".tmp", pfile)
    while True:
        c, _ = lsn.accept()
        threading.Thread(target=serve, args=(c, name), daemon=True).start()


if __name__ == "__main__":
    main()
