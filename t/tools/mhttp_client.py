#!/usr/bin/env python3
"""mhttp_client.py - plain and hostile HTTP clients for the metrics
endpoint (t/53-metrics.t; stdlib only). Every mode prints one line.

  mhttp_client.py PORT send TEXT
      sends TEXT (Python escapes allowed, e.g. \\r\\n), half-closes
      nothing, prints the status line of the answer (or "closed").
  mhttp_client.py PORT huge
      a request whose header is 1 MiB; prints "answer=STATUS" or
      "answer=none" and "closed_after=S" (the server closed).
  mhttp_client.py PORT slow
      one byte of a request a second; prints "closed_after=S".
  mhttp_client.py PORT many N
      N connections at once that send nothing; prints "open=N
      closed_at_once=K all_closed_after=S".
"""
import socket
import sys
import time


def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s


def read_all(s, limit=20):
    s.settimeout(limit)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def status(data):
    return data.split(b"\r\n", 1)[0].decode("latin-1") if data else "closed"


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "send":
        s = conn(port)
        s.sendall(sys.argv[3].encode("latin-1").decode(
            "unicode_escape").encode("latin-1"))
        print(status(read_all(s)))
    elif mode == "huge":
        s = conn(port)
        t0 = time.time()
        answer = b""
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\nX-Big: ")
            chunk = b"a" * 65536
            for _ in range(16):
                s.sendall(chunk)
            s.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_all(s)
        print("answer=%s closed_after=%.1f" % (
            status(answer).split(" ")[1] if answer else "none",
            time.time() - t0))
    elif mode == "slow":
        s = conn(port)
        t0 = time.time()
        req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
        closed = None
        for b in req * 10:
            try:
                s.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed = time.time() - t0
                break
            s.settimeout(1.0)
            try:
                if s.recv(100) == b"":
                    closed = time.time() - t0
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = time.time() - t0
                break
            if time.time() - t0 > 20:
                break
        print("closed_after=%s" % ("%.1f" % closed if closed else "never"))
    elif mode == "many":
        n = int(sys.argv[3])
        socks = [conn(port) for _ in range(n)]
        t0 = time.time()
        time.sleep(1)
        at_once = 0
        for s in socks:
            s.settimeout(0.05)
            try:
                if s.recv(100) == b"":
                    at_once += 1
            except socket.timeout:
                pass
            except ConnectionResetError:
                at_once += 1
        for s in socks:
            read_all(s, 20)
        print("open=%d closed_at_once=%d all_closed_after=%.1f" % (
            n, at_once, time.time() - t0))


if __name__ == "__main__":
    main()
