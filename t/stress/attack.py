#!/usr/bin/env python3
"""t/stress/attack.py - the hostile peers of the stress scenarios, each in
a process of its own (so the legit probes in the driver do not share a
Python interpreter lock with them). Prints one JSON object at the end.

  attack.py slowloris PORT N DEADLINE   N connections, a partial
        ClientHello each, then silence; per connection the seconds from
        its stall to the daemon's close (or none within DEADLINE).
  attack.py hsflood PORT SECONDS         full TLS handshakes in a loop.
  attack.py halfopen PORT N HOLD         N connections, a whole ClientHello
        each, nothing more; held HOLD seconds (or until READY file), closed.
  attack.py hog SECONDS                  burns a CPU for SECONDS (bounded).
  attack.py hold HOST:PORT|unix:PATH N SECONDS   N plain connections that
        say nothing, held SECONDS (or until the file $RELEASE exists).
  attack.py transfer PORT SIZE SEED [threads]   one checksummed echo
        transfer (stresslib.echo_transfer); prints its result.
  attack.py tlspeer PORT SIZE SEED TLSPEER TMPDIR   the same transfer
        with t/tools/tlspeer.
  attack.py zerowin PORT N SECONDS       N TLS sessions that ask nothing
        and never read; after SECONDS, which of them the daemon ended.
"""
import json
import os
import selectors
import socket
import ssl
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib  # noqa: E402


def nb_connect(addr, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(addr)
    except (BlockingIOError, InterruptedError):
        pass
    return s


def open_many(addr, n, family=socket.AF_INET, payload=b""):
    """n connected sockets (connect completes in the kernel's accept
    queue); sends payload on each. Returns (sockets, errors)."""
    socks, errs = [], 0
    sel = selectors.DefaultSelector()
    for i in range(n):
        try:
            s = nb_connect(addr, family)
        except OSError:
            errs += 1
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
        if i % 200 == 199:
            time.sleep(0.02)    # let the accept queue drain a little
    pending = len(socks)
    end = time.monotonic() + 20
    done = set()
    while pending and time.monotonic() < end:
        for key, _ in sel.select(1):
            s = key.fileobj
            sel.unregister(s)
            done.add(s)
            pending -= 1
    sel.close()
    good = []
    for s in socks:
        if s not in done or s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            s.close()
            errs += 1
            continue
        if payload:
            try:
                s.send(payload)
            except OSError:
                s.close()
                errs += 1
                continue
        good.append(s)
    return good, errs


def wait_closed(socks, deadline):
    """Per socket the seconds until it read EOF/reset; None if not."""
    t0 = time.monotonic()
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = {}
    while len(closed) < len(socks) and time.monotonic() - t0 < deadline:
        for key, _ in sel.select(0.5):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except (ConnectionResetError, BlockingIOError, OSError) as e:
                if isinstance(e, BlockingIOError):
                    continue
                d = b""
            if not d:
                closed[s] = time.monotonic() - t0
                sel.unregister(s)
    sel.close()
    return [closed.get(s) for s in socks]


def slowloris(port, n, deadline):
    hello = stresslib.client_hello()
    socks, errs = open_many(("127.0.0.1", port), n,
                            payload=hello[:5 + 20])   # header + 20 bytes
    t = wait_closed(socks, deadline)
    for s in socks:
        s.close()
    return {"opened": len(socks), "errors": errs,
            "closed": sum(1 for x in t if x is not None),
            "times": [x for x in t if x is not None]}


def hsflood(port, seconds):
    ctx = stresslib.client_ctx()
    ok = bad = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost"):
                    ok += 1
        except (OSError, ssl.SSLError):
            bad += 1
    return {"handshakes": ok, "failed": bad}


def halfopen(port, n, hold):
    hello = stresslib.client_hello()
    socks, errs = open_many(("127.0.0.1", port), n, payload=hello)
    time.sleep(hold)
    for s in socks:
        s.close()
    return {"opened": len(socks), "errors": errs}


def hold(target, n, seconds):
    if target.startswith("unix:"):
        addr, fam = target[5:], socket.AF_UNIX
    else:
        h, p = target.rsplit(":", 1)
        addr, fam = (h, int(p)), socket.AF_INET
    socks, errs = [], 0
    for _ in range(n):      # one at a time: a full backlog must not stall us
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(0.5)
        try:
            s.connect(addr)
            socks.append(s)
        except OSError:
            s.close()
            errs += 1
    print(json.dumps({"held": len(socks)}), flush=True)
    release = os.environ.get("RELEASE", "")
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (release and os.path.exists(release)):
        time.sleep(0.05)
    for s in socks:
        s.close()
    return {"held": len(socks), "errors": errs}


def zerowin(port, n, seconds):
    ctx = stresslib.client_ctx()
    socks = []
    for _ in range(n):
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.settimeout(10)
        raw.connect(("127.0.0.1", port))
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"GET /big HTTP/1.0\r\n\r\n")
        socks.append(s)
    print(json.dumps({"open": len(socks), "ports": [
        s.getsockname()[1] for s in socks]}), flush=True)
    time.sleep(seconds)
    return {"open": len(socks)}


def hog(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return {"loops": n}


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "slowloris":
        r = slowloris(int(args[0]), int(args[1]), float(args[2]))
    elif mode == "hsflood":
        r = hsflood(int(args[0]), float(args[1]))
    elif mode == "halfopen":
        r = halfopen(int(args[0]), int(args[1]), float(args[2]))
    elif mode == "hog":
        r = hog(float(args[0]))
    elif mode == "hold":
        r = hold(args[0], int(args[1]), float(args[2]))
    elif mode == "transfer":
        r = stresslib.echo_transfer(int(args[0]), int(args[1]), int(args[2]),
                                    threads=len(args) > 3 and args[3] == "threads")
    elif mode == "tlspeer":
        r = stresslib.tlspeer_transfer(args[3], args[4], int(args[0]),
                                       int(args[1]), int(args[2]))
    elif mode == "zerowin":
        r = zerowin(int(args[0]), int(args[1]), float(args[2]))
    else:
        sys.exit("attack.py: unknown mode " + mode)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    stresslib.raise_nofile()
    main()
