#!/usr/bin/env python3
"""t/tools/echo.py - plaintext test backend.

Usage: echo.py PORTFILE [MODE]
Listens on 127.0.0.1:0, writes the port to PORTFILE, serves connections
in threads until killed. Modes:
  echo  (default) write back everything read; at EOF from the client,
        shut down the write side after the last byte (half-close).
  http  answer any request with "HTTP/1.0 200 OK" and the body "hello\n".
  slowecho as echo, but with a 4 KiB receive buffer, reading 1 KiB at a
        time with a pause after each read, so the proxy's writes to it
        block again and again.
  silent read and discard, never answer, never close.
  flood write without end until the connection breaks.
  late  like an SMTP server that takes its time: after the number of
        seconds given as the third argument, greet with "220 late
        greeting", then echo.
  record greet with "220 plaintext greeting" and append everything read
        to the file named by the third argument (a plaintext server that
        must never see what a TLS client meant for a TLS server).
"""
import socket
import sys
import threading
import time


def echo(conn, size=65536, pause=0.0):
    with conn:
        while True:
            data = conn.recv(size)
            if not data:
                break
            conn.sendall(data)
            if pause:
                time.sleep(pause)
        conn.shutdown(socket.SHUT_WR)


def http(conn):
    with conn:
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
        body = b"hello\n"
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))


def slowecho(conn):
    echo(conn, 1024, 0.0005)


def silent(conn):
    while conn.recv(65536):
        pass


def flood(conn):
    chunk = b"x" * 65536
    try:
        while True:
            conn.sendall(chunk)
    except OSError:
        conn.close()


def record(conn):
    with conn, open(sys.argv[3], "ab") as f:
        conn.sendall(b"220 plaintext greeting\r\n")
        while True:
            try:
                d = conn.recv(4096)
            except ConnectionResetError:
                break
            if not d:
                break
            f.write(d)
            f.flush()


def late(conn):
    time.sleep(float(sys.argv[3]))
    try:
        conn.sendall(b"220 late greeting\r\n")
    except OSError:
        conn.close()
        return
    echo(conn)


def main():
    portfile = sys.argv[1]
    mode = {"echo": echo, "http": http, "silent": silent, "flood": flood,
            "record": record, "slowecho": slowecho, "late": late}[
        sys.argv[2] if len(sys.argv) > 2 else "echo"]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode is slowecho:    # accepted sockets inherit it
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=mode, args=(conn,), daemon=True).start()


main()
