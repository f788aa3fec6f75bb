#!/usr/bin/env python3
"""t/tools/ppclient.py - a TLS client for the PROXY protocol and ALPN
tests: optionally from a chosen loopback source address, optionally with
raw bytes (a PROXY header) sent before TLS in the same segment as the
ClientHello; sends one line, prints the negotiated ALPN protocol and the
line that comes back.

Usage: ppclient.py PORT [--src ADDR] [--pre TEXT|--pre-hex HEX]
         [--sni NAME] [--alpn P1,P2] [--cert F --key F] [--line TEXT]
Prints "alpn=X" (or "alpn=-") and then "got=LINE"; on a TLS or socket
error "error=..." and exit status 1.
"""
import argparse
import socket
import ssl
import sys


def pump_out(sock, out, pre=b""):
    data = pre + out.read()
    if data:
        sock.sendall(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--src", default=None)
    ap.add_argument("--pre", default=None)
    ap.add_argument("--pre-hex", default=None)
    ap.add_argument("--sni", default=None)
    ap.add_argument("--alpn", default=None)
    ap.add_argument("--cert", default=None)
    ap.add_argument("--key", default=None)
    ap.add_argument("--line", default="ping")
    a = ap.parse_args()
    pre = b""
    if a.pre is not None:
        pre = a.pre.encode().decode("unicode_escape").encode("latin-1")
    if a.pre_hex is not None:
        pre = bytes.fromhex(a.pre_hex)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    sock = socket.socket()
    sock.settimeout(10)
    if a.src:
        sock.bind((a.src, 0))
    try:
        sock.connect(("127.0.0.1", a.port))
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname=a.sni)
        first = True
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pump_out(sock, out, pre if first else b"")
                first = False
                d = sock.recv(65536)
                if not d:
                    raise ConnectionError("closed during the handshake")
                inc.write(d)
        print("alpn=%s" % (obj.selected_alpn_protocol() or "-"))
        obj.write((a.line + "\n").encode())
        pump_out(sock, out)
        got = b""
        while not got.endswith(b"\n"):
            try:
                got += obj.read(65536)
            except ssl.SSLWantReadError:
                pump_out(sock, out)
                d = sock.recv(65536)
                if not d:
                    break
                inc.write(d)
        print("got=%s" % got.decode(errors="replace").rstrip("\n"))
    except (OSError, ssl.SSLError, ConnectionError) as e:
        print("error=%s" % e)
        sys.exit(1)


main()
