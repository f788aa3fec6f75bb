"""garbage: 20 kinds of malformed input to a TLS port, one connection each

Load: each kind of garbage below on its own connection (x3 with --quick
off: 5 connections per kind), handshake deadline 3 s.
Legit: an HTTPS request every 50 ms on another service.
Asserts: every connection is closed by the daemon within 8 s, each with a
logged reason (a line of its session other than "established" and
DISCONNECT); 100 % legit success; the daemon and its worker survive.
"""
import os
import socket
import struct
import time

import stresslib as sl

DEADLINE_S = 3


def rec(ctype, body, ver=b"\x03\x01"):
    return bytes([ctype]) + ver + struct.pack(">H", len(body)) + body


def kinds():
    hello = sl.client_hello()
    hs = hello[5:]                      # the handshake message
    return [
        ("random-1k", os.urandom(1024)),
        ("http-get", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        ("sslv2-hello", bytes.fromhex("802b0103010012000000100100800700c0"
                                      "030080060040020080040080") + os.urandom(16)),
        ("truncated-record", hello[:5] + hs[:10]),
        ("oversized-record", rec(22, os.urandom(18500))),
        ("bad-hs-length", rec(22, b"\x01\xff\xff\xff" + hs[4:])),
        ("zero-length-hs", rec(22, b"")),
        ("zero-length-appdata", rec(23, b"")),
        ("alert-before-hello", rec(21, b"\x02\x28")),
        ("ccs-before-hello", rec(20, b"\x01")),
        ("appdata-before-hello", rec(23, os.urandom(64))),
        ("bad-content-type", rec(0x63, os.urandom(40))),
        ("record-version-ffff", rec(22, hs, b"\xff\xff")),
        ("hello-random-body", rec(22, b"\x01\x00\x01\x00" + os.urandom(256))),
        ("hello-no-ciphers", rec(22, b"\x01\x00\x00\x2a\x03\x03" + os.urandom(32)
                                  + b"\x00\x00\x00\x01\x00\x00\x00")),
        ("zeros-4k", bytes(4096)),
        ("heartbeat-record", rec(24, b"\x01\x40\x00" + os.urandom(16))),
        ("hello-then-garbage", hello + os.urandom(512)),
        ("fragmented-1byte-stall", b"".join(rec(22, hs[i:i + 1])
                                            for i in range(40))),
        ("empty-half-close", b""),
    ]


def one(port, payload, timeout=10):
    """Sends payload, half-closes if empty; (local port, seconds to close
    or None, bytes received)."""
    s = socket.create_connection(("127.0.0.1", port), 5)
    lp = s.getsockname()[1]
    t0 = time.monotonic()
    got = 0
    try:
        if payload:
            s.sendall(payload)
        else:
            s.shutdown(socket.SHUT_WR)
        s.settimeout(timeout)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
        dt = time.monotonic() - t0
    except (ConnectionResetError, BrokenPipeError):
        dt = time.monotonic() - t0
    except socket.timeout:
        dt = None
    s.close()
    return lp, dt, got


def run(ctx):
    reps = 1 if ctx.quick else 5
    ks = kinds()
    row = sl.Row("garbage", "%d kinds x %d" % (len(ks), reps))
    web = sl.Backend(ctx.group, ctx.tmp, "http")
    d = ctx.daemon([
        "tls 127.0.0.1:0 server 127.0.0.1:%d -o tlsproxy_handshake_timeout=%ds"
        % (web.port, DEADLINE_S),
        "web 127.0.0.1:0 server 127.0.0.1:%d" % web.port])
    w = d.worker_pid()
    rss0 = sl.rss_kib(w)
    probe = sl.Probe("https", d.port_of("web"))
    port = d.port_of("tls")
    results = []
    for r in range(reps):
        for name, payload in ks:
            results.append((name,) + one(port, payload))
    st = probe.stop()
    row.legit(st)
    # the reasons: the last DISCONNECT comes a moment after the close
    last = results[-1][1]
    sl.poll(lambda: d.grep(r"DISCONNECT \[127\.0\.0\.1\]:%d " % last), 5)
    closed = unexplained = 0
    seen = {}
    for name, lp, dt, got in results:
        why = sl.end_reason(d, lp)
        if dt is not None and dt <= 8:
            closed += 1
        if not why:
            unexplained += 1
        seen.setdefault(name, (dt, why, got))
    for name, (dt, why, got) in seen.items():
        row.note("%-22s closed after %s s, %d bytes back; reason: %s"
                 % (name, "%.2f" % dt if dt is not None else "never", got, why))
    row.attackers = "%d/%d closed, %d w/o reason" % (
        closed, len(results), unexplained)
    row.rss = "%s -> %s" % (sl.mib(rss0), sl.mib(sl.rss_kib(w)))
    row.check(closed == len(results), "every connection closed within 8 s "
              "(%d of %d)" % (closed, len(results)))
    row.check(unexplained == 0, "every close has a logged reason "
              "(%d without)" % unexplained)
    row.check(st["ok"] == st["n"] and st["n"] > 0,
              "legit HTTPS 100%% (%d/%d)" % (st["ok"], st["n"]))
    row.check(d.alive() and d.worker_pid() == w, "same worker, daemon alive")
    return row
