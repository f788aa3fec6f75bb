#!/usr/bin/env python3
"""t/tools/fatal_alert.py - does a TLS server's fatal alert survive the
bytes a client had already sent?

Usage: fatal_alert.py PORT
       fatal_alert.py --handoff SOCKET   (the server is tlswardd's
                                          hand-off socket: the server end
                                          of a loopback TCP connection is
                                          handed to it, role server)
Sends a malformed ClientHello (its length says more than follows) and,
in the same segment, a record that makes it fail; 0.3 s later two more
records 0.1 s apart, as a client that already sent its Finished and its
request keeps writing. Prints "SEND ALERT END SECONDS": SEND is "sent"
or the error of those later sends (a server that closed at once answers
the first with a reset, and the second fails), ALERT the hex of what
came back, END "eof" or the error that ended reading, SECONDS how long
reading took.
"""
import os
import socket
import sys
import threading
import time


def probe(s):
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
    return "%s %s %s %.1f" % (sent, got.hex() or "-", end,
                              time.monotonic() - t0)


def handed_off(path):
    """A loopback TCP connection whose server end goes to tlswardd by
    hand-off (in a thread: the report comes after the handshake)."""
    sys.path.insert(0, os.path.join(os.environ.get("TOP_SRCDIR", "."),
                                    "contrib"))
    import handoff_client
    ls = socket.create_server(("127.0.0.1", 0))
    c = socket.create_connection(ls.getsockname(), timeout=5)
    srv, _ = ls.accept()
    ls.close()

    def run():
        try:
            conn, _ = handoff_client.handoff(path, srv, "server",
                                             "[192.0.2.9]:4711", timeout=10)
            conn.close()
        except Exception:  # the handshake fails: that is the point
            pass
        srv.close()
    threading.Thread(target=run, daemon=True).start()
    return c


def main():
    if sys.argv[1] == "--handoff":
        s = handed_off(sys.argv[2])
    else:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                                     timeout=5)
    print(probe(s))


main()
