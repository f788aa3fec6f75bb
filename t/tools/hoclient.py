#!/usr/bin/env python3
"""hoclient.py - hand-off test client for t/9x-handoff*.t (stdlib only).

  hoclient.py SOCKET sessions N [--hold S] [--extra name=value ...]
      N concurrent server-role hand-offs through contrib/handoff_client.py:
      each passes one end of a socketpair, runs a TLS 1.3 client on the
      other end, and checks data both ways; prints "ok K/N" (and every
      failure), exits 0 when all K = N. --hold keeps each session idle
      for S seconds before the exchange.
  hoclient.py SOCKET MODE [--extra name=value ...]
      one misbehaving client; prints what the daemon sent back (repr) and
      the seconds until it closed: "got=b'...' closed_after=1.2".
      MODE: stall, partial, close-mid, garbage, long-line, no-end, nofd,
      twofds, file, listening, unconnected, udp, wrongbyte
"""
import os
import socket
import ssl
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("TOP_SRCDIR", "."), "contrib"))
import handoff_client  # noqa: E402  (the example client under test)

REQ = b"version=1\nrole=server\npeer=[192.0.2.7]:4711\nreport=yes\n"


def tls_client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def one_session(path, i, extra, hold, results):
    a, b = socket.socketpair()
    try:
        a.settimeout(30)
        fields = dict(kv.split("=", 1) for kv in extra)
        # The peer starts its handshake at once, as a real one would;
        # the report arrives when the handshake is done.
        box = {}

        def handshake():
            try:
                box["tls"] = tls_client_ctx().wrap_socket(
                    a, server_hostname="localhost")
            except Exception as e:
                box["err"] = e
        t = threading.Thread(target=handshake)
        t.start()
        conn, outcome = handoff_client.handoff(
            path, b, "server", f"[198.51.100.{i % 250}]:{1000 + i}",
            timeout=30, **fields)
        b.close()
        conn.settimeout(30)
        t.join(30)
        if "tls" not in box:
            raise box.get("err", TimeoutError("TLS handshake"))
        tls = box["tls"]
        if hold:
            time.sleep(hold)
        msg = f"ping {i}\n".encode()
        conn.sendall(msg)          # plaintext in, TLS out
        got = b""
        while len(got) < len(msg):
            d = tls.recv(100)
            if not d:
                break
            got += d
        tls.sendall(f"pong {i}\n".encode())
        back = b""
        while not back.endswith(b"\n"):
            d = conn.recv(100)
            if not d:
                break
            back += d
        ok = got == msg and back == f"pong {i}\n".encode() and \
            outcome.get("protocol") == "TLSv1.3"
        results[i] = "ok" if ok else f"data got={got!r} back={back!r} {outcome}"
        conn.close()
        tls.close()
    except Exception as e:  # a failure of this session only
        results[i] = f"{type(e).__name__}: {e}"
    finally:
        a.close()
        b.close()


def sessions(path, n, extra, hold):
    results = [None] * n
    threads = [threading.Thread(target=one_session,
                                args=(path, i, extra, hold, results))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    good = sum(1 for r in results if r == "ok")
    for i, r in enumerate(results):
        if r != "ok":
            print(f"session {i}: {r}")
    print(f"ok {good}/{n}")
    return 0 if good == n else 1


def send_fds(conn, byte, fds):
    socket.send_fds(conn, [byte], fds)


def misbehave(path, mode, extra):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(60)
    conn.connect(path)
    req = REQ + b"".join(e.encode() + b"\n" for e in extra) + b"\n"
    keep = []
    start = time.monotonic()
    if mode == "stall":
        pass
    elif mode == "partial":
        conn.sendall(req[:20])
    elif mode == "close-mid":
        conn.sendall(req[:20])
        conn.close()
        print("closed")
        return 0
    elif mode == "garbage":
        conn.sendall(bytes(range(256)) * 4 + b"\n\n")
    elif mode == "long-line":
        conn.sendall(b"version=1\npeer=" + b"x" * 2000 + b"\n\n")
    elif mode == "no-end":
        conn.sendall(b"version=1\n" + b"report=yes\n" * 1000)
    else:
        try:
            conn.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass    # refused before the request: the answer is there
        answer = b""
        while not answer.endswith(b"\n"):
            d = conn.recv(1)
            if not d:
                break
            answer += d
        if answer != b"ok\n":
            print(f"got={answer!r} closed_after=0")
            return 1
        a, b = socket.socketpair()
        keep += [a, b]
        if mode == "nofd":
            conn.sendall(b"F")
        elif mode == "twofds":
            send_fds(conn, b"F", [a.fileno(), b.fileno()])
        elif mode == "wrongbyte":
            send_fds(conn, b"X", [b.fileno()])
        elif mode == "file":
            f = tempfile.TemporaryFile()
            keep.append(f)
            send_fds(conn, b"F", [f.fileno()])
        elif mode == "listening":
            ls = socket.socket()
            ls.bind(("127.0.0.1", 0))
            ls.listen(1)
            keep.append(ls)
            send_fds(conn, b"F", [ls.fileno()])
        elif mode == "unconnected":
            us = socket.socket()
            keep.append(us)
            send_fds(conn, b"F", [us.fileno()])
        elif mode == "udp":
            us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            keep.append(us)
            send_fds(conn, b"F", [us.fileno()])
        else:
            print(f"unknown mode {mode}")
            return 2
    got = b""
    while True:
        try:
            d = conn.recv(4096)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        got += d
    print(f"got={got!r} closed_after={time.monotonic() - start:.1f}")
    return 0


def main():
    path, mode = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    extra, hold, n = [], 0.0, 1
    while args:
        if args[0] == "--extra":
            extra.append(args[1])
        elif args[0] == "--hold":
            hold = float(args[1])
        elif mode == "sessions" and args[0].isdigit():
            n = int(args[0])
            args = args[1:]
            continue
        args = args[2:]
    if mode == "sessions":
        return sessions(path, n, extra, hold)
    return misbehave(path, mode, extra)


if __name__ == "__main__":
    sys.exit(main())
