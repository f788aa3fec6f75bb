#!/usr/bin/env python3
"""bench/pfbench.py - load for a tlsproxy(8)-protocol socket, playing
postscreen(8): greeting, request (flags 1), status, a TCP socket passed
by SCM_RIGHTS, a TLS 1.3 client on that socket, one line echoed by the
Postfix side. Used by bench/postfix-compare.

  pfbench.py SOCKET run CONC SECONDS   CONC sessions at a time for
                                       SECONDS; prints "sessions N",
                                       "failed N", "p50_ms X", "p99_ms X"
                                       (STARTTLS round trip: connect to
                                       the socket .. TLS handshake done)
  pfbench.py SOCKET idle N             opens N sessions and holds them;
                                       prints "ready N" and waits for a
                                       line on stdin, then closes them
"""
import array
import asyncio
import socket
import ssl
import sys
import time

REQ = (b"remote_endpoint\0[127.0.0.1]:40000\0flags\0" b"1\0timeout\0"
       b"300\0timeout\0" b"300\0serverid\0smtpd\0\0")
GREETING = b"protocol\0tlsproxy_protocol\0\0"
STATUS_OK = b"status\0" b"1\0\0"


async def recv_exact(s, n):
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < n:
        c = await loop.sock_recv(s, n - len(data))
        if not c:
            raise OSError("closed")
        data += c
    return data


async def one(path, ctx, hold=None, up=None):
    """One session; returns its round trip in seconds. With hold, it
    stays open (after up() is called) until hold is set."""
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.setblocking(False)
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    lsn.setblocking(False)
    try:
        await loop.sock_connect(u, path)
        if await recv_exact(u, len(GREETING)) != GREETING:
            raise OSError("bad greeting")
        await loop.sock_sendall(u, REQ)
        if await recv_exact(u, len(STATUS_OK)) != STATUS_OK:
            raise OSError("status is not 1")
        conn = asyncio.ensure_future(asyncio.open_connection(
            "127.0.0.1", lsn.getsockname()[1], ssl=ctx,
            server_hostname="localhost"))
        c, _ = await loop.sock_accept(lsn)
        u.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                             array.array("i", [c.fileno()]))])
        c.close()
        r, w = await conn
        rtt = time.monotonic() - t0
        w.write(b"PING\n")
        line = await recv_exact(u, 5)
        await loop.sock_sendall(u, line)
        if await r.readline() != b"PING\n":
            raise OSError("wrong echo")
        if hold is not None:
            up()
            await hold.wait()
        w.close()
        return rtt
    finally:
        lsn.close()
        u.close()


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


async def run(path, conc, secs):
    ctx = client_ctx()
    end = time.monotonic() + secs
    rtts, fails = [], []

    async def worker():
        while time.monotonic() < end:
            try:
                rtts.append(await one(path, ctx))
            except (OSError, ssl.SSLError) as e:
                fails.append(str(e))
    await asyncio.gather(*[worker() for _ in range(conc)])
    rtts.sort()
    q = lambda p: rtts[min(len(rtts) - 1, int(p * len(rtts)))] * 1000 \
        if rtts else 0
    print("sessions %d" % len(rtts))
    print("failed %d" % len(fails))
    print("p50_ms %.2f" % q(0.50))
    print("p99_ms %.2f" % q(0.99))


async def idle(path, n):
    ctx = client_ctx()
    hold, all_up = asyncio.Event(), asyncio.Event()
    count = [0]

    def up():
        count[0] += 1
        if count[0] == n:
            all_up.set()
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one(path, ctx, hold, up)))
        if i % 50 == 49:
            await asyncio.sleep(0.02)
    try:
        await asyncio.wait_for(all_up.wait(), 120)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(1)
    print("ready %d" % count[0], flush=True)
    await asyncio.get_running_loop().run_in_executor(None,
                                                     sys.stdin.readline)
    hold.set()
    await asyncio.wait(tasks, timeout=30)


if __name__ == "__main__":
    if sys.argv[2] == "run":
        asyncio.run(run(sys.argv[1], int(sys.argv[3]), float(sys.argv[4])))
    else:
        asyncio.run(idle(sys.argv[1], int(sys.argv[3])))
