#!/usr/bin/env python3
"""t/tools/pfclient.py SOCKET MODE [ARG] - plays postscreen(8) or smtpd(8)
against a tlsproxy(8)-protocol socket, as Postfix 3.7 does on the wire.

Modes:
  session FLAGS   greeting check, request with FLAGS, status; then a TCP
                  connection whose accepted end is passed by SCM_RIGHTS,
                  a TLS client (Python ssl) on the other end that sends
                  "EHLO client.test"; with flag 4 the context list is read
                  and printed as name=value lines; the plaintext line is
                  answered "250 hello"; prints what the TLS client got.
  raw HEX         greeting, then the bytes HEX as the request and the
                  end of our output (shutdown); prints "status N" or
                  "closed".
  status FLAGS    greeting and a request with FLAGS; prints "status N".
Prints "greeting ok" first when the greeting is exactly Postfix's. With
PFC_CERT and PFC_KEY set, the TLS client presents that certificate;
with PFC_SNI set, it sends that name as SNI (else "localhost").
"""
import os
import socket
import ssl
import sys
import threading

GREETING = b"protocol\0tlsproxy_protocol\0\0"


def read_field(s):
    out = b""
    while True:
        c = s.recv(1)
        if not c:
            return None
        if c == b"\0":
            return out
        out += c


def read_list(s):
    """One attr0 list: a dict and the names in order; None at EOF."""
    d, names = {}, []
    while True:
        name = read_field(s)
        if name is None:
            return None, None
        if name == b"":
            return d, names
        val = read_field(s)
        if val is None:
            return None, None
        d[name] = val
        names.append(name)


def request(flags, endpoint="[127.0.0.1]:44554"):
    return (b"remote_endpoint\0" + endpoint.encode() + b"\0flags\0" +
            str(flags).encode() + b"\0timeout\0" + b"300\0timeout\0" +
            b"300\0serverid\0smtpd\0\0")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    g = s.recv(len(GREETING))
    print("greeting ok" if g == GREETING else "greeting bad %r" % g)
    return s


def tls_client(port, out):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if os.environ.get("PFC_CERT"):     # a client certificate
        ctx.load_cert_chain(os.environ["PFC_CERT"], os.environ["PFC_KEY"])
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=15)
        t = ctx.wrap_socket(raw, server_hostname=os.environ.get(
            "PFC_SNI", "localhost"))
        t.sendall(b"EHLO client.test\r\n")
        out.append(t.recv(100).decode().strip())
        t.close()
    except OSError as e:
        out.append("tls error: %s" % e)


def session(path, flags):
    s = connect(path)
    s.sendall(request(flags))
    st, _ = read_list(s)
    print("status %s" % (st or {}).get(b"status", b"none").decode())
    if not st or st.get(b"status") != b"1":
        return
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    got = []
    th = threading.Thread(target=tls_client, args=(lsn.getsockname()[1], got))
    th.start()
    conn, _ = lsn.accept()
    s.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                         bytes(memoryview(bytearray(
                             conn.fileno().to_bytes(4, sys.byteorder)))))])
    conn.close()
    if flags & 4:
        ctx, names = read_list(s)
        print("context %d" % len(names or []))
        for n in names or []:
            print("%s=%s" % (n.decode(), ctx[n].decode()))
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(100)
        if not c:
            break
        line += c
    print("plaintext %s" % line.decode().strip())
    s.sendall(b"250 hello\r\n")
    th.join(20)
    print("client got %s" % (got[0] if got else "nothing"))
    s.close()


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "session":
        session(path, int(sys.argv[3]))
        return
    s = connect(path)
    s.sendall(bytes.fromhex(sys.argv[3]) if mode == "raw" else
              request(int(sys.argv[3])))
    if mode == "raw":
        s.shutdown(socket.SHUT_WR)
    try:
        st, _ = read_list(s)
    except OSError:
        st = None
    print("closed" if st is None else
          "status %s" % st.get(b"status", b"?").decode())


main()
