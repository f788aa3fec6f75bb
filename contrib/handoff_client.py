#!/usr/bin/env python3
"""handoff_client.py - a tlsward hand-off client in plain Python (stdlib).

Shows the whole protocol of tlsward-handoff(7) in a few lines: connect to
the control socket, send the request, read "ok", pass the peer's socket
with SCM_RIGHTS (socket.send_fds, Python 3.9+), read the report; from then
on the control connection is the plaintext side of the TLS session.

As a program it does the client role: it connects to HOST:PORT in
plaintext, has tlswardd start TLS there, prints the report on stderr,
sends its standard input over TLS, half-closes, and prints what comes
back:

    echo hello | handoff_client.py /path/handoff HOST PORT \
        [--level fingerprint --fingerprint AB:CD:...] [--servername NAME]
Exit status: 0 done, 1 refused or TLS failed (reason on stderr).
"""
import argparse
import socket
import sys


class HandoffError(Exception):
    """A refusal ("refused CODE TEXT") or a failed handshake."""

    def __init__(self, code, text):
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


def _readline(conn):
    """One LF-terminated line, read byte by byte: nothing after it is
    consumed (plaintext from the peer may follow the report at once)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        b = conn.recv(1)
        if not b:
            raise HandoffError("closed", "the daemon closed the connection")
        line += b
    return line[:-1].decode("ascii", "replace")


def _refused(line):
    code, _, text = line[len("refused "):].partition(" ")
    return HandoffError(code, text)


def handoff(path, peer_sock, role, peer, timeout=30, **fields):
    """Hands peer_sock to tlswardd; returns (control socket, report dict).
    fields: profile, handshake_timeout, idle_timeout, servername, level,
    fingerprint (a list), report (default True)."""
    report = fields.pop("report", True)
    lines = ["version=1", f"role={role}", f"peer={peer}"]
    for name, value in fields.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v is not None:
                lines.append(f"{name}={v}")
    lines.append("report=" + ("yes" if report else "no"))
    for line in lines:
        if "\n" in line or not line.isprintable() or not line.isascii():
            raise ValueError(f"bad request line {line!r}")

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect(path)
        conn.sendall(("\n".join(lines) + "\n\n").encode("ascii"))
        answer = _readline(conn)
        if answer != "ok":
            raise _refused(answer) if answer.startswith("refused ") else \
                HandoffError("protocol", f"unexpected answer {answer!r}")
        socket.send_fds(conn, [b"F"], [peer_sock.fileno()])
        outcome = {}
        while report:
            line = _readline(conn)
            if not line:
                break
            if line.startswith("refused ") and not outcome:
                raise _refused(line)
            name, _, value = line.partition("=")
            outcome[name] = value
        if report and outcome.get("status") != "ok":
            raise HandoffError("handshake", outcome.get("reason", "?"))
        conn.settimeout(None)
        return conn, outcome
    except BaseException:
        conn.close()
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("socket")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--level")
    ap.add_argument("--fingerprint", action="append")
    ap.add_argument("--servername")
    ap.add_argument("--profile")
    a = ap.parse_args()

    peer = socket.create_connection((a.host, a.port), timeout=30)
    try:
        conn, outcome = handoff(a.socket, peer, "client",
                                f"[{a.host}]:{a.port}", level=a.level,
                                fingerprint=a.fingerprint,
                                servername=a.servername, profile=a.profile)
    except (HandoffError, OSError) as e:
        print(f"handoff_client: {e}", file=sys.stderr)
        return 1
    peer.close()    # tlswardd has its own copy
    for k, v in outcome.items():
        print(f"{k}={v}", file=sys.stderr)
    conn.sendall(sys.stdin.buffer.read())
    conn.shutdown(socket.SHUT_WR)
    while True:
        data = conn.recv(65536)
        if not data:
            break
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
