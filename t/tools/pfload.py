#!/usr/bin/env python3
"""t/tools/pfload.py SOCKET N SECONDS - N concurrent postscreen-style
sessions through a tlsproxy(8)-protocol socket, all held at once.

Each session: a Postfix side (greeting, request with flags 1, status 1,
a TCP socket passed by SCM_RIGHTS, then it echoes one line) and a TLS
client on the other end of that TCP socket (handshake, "PING i", the
echo back). Sessions start in batches of 100, as a busy postscreen's
would; once all N are up at the same time (or SECONDS have passed)
every connection is closed. Prints "held K of N", "failed F" and up to
5 failure reasons; exit 0 when all N were held at once.
"""
import array
import asyncio
import socket
import ssl
import sys

REQ = (b"remote_endpoint\0[127.0.0.1]:40000\0flags\0" b"1\0timeout\0"
       b"300\0timeout\0" b"300\0serverid\0smtpd\0\0")
GREETING = b"protocol\0tlsproxy_protocol\0\0"
STATUS_OK = b"status\0" b"1\0\0"


class Load:
    def __init__(self, path, n):
        self.path, self.n = path, n
        self.up = 0
        self.fails = []
        self.all_up = asyncio.Event()
        self.done = asyncio.Event()
        self.accepted = asyncio.Queue()

    async def recv_exact(self, s, n):
        loop = asyncio.get_running_loop()
        data = b""
        while len(data) < n:
            c = await loop.sock_recv(s, n - len(data))
            if not c:
                raise OSError("closed after %d bytes" % len(data))
            data += c
        return data

    async def postfix_side(self):
        loop = asyncio.get_running_loop()
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.setblocking(False)
        try:
            await loop.sock_connect(u, self.path)
            if await self.recv_exact(u, len(GREETING)) != GREETING:
                raise OSError("bad greeting")
            await loop.sock_sendall(u, REQ)
            if await self.recv_exact(u, len(STATUS_OK)) != STATUS_OK:
                raise OSError("status is not 1")
            c = await self.accepted.get()
            u.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                 array.array("i", [c.fileno()]))])
            c.close()
            line = b""
            while not line.endswith(b"\n"):
                d = await loop.sock_recv(u, 100)
                if not d:
                    raise OSError("plaintext side closed")
                line += d
            await loop.sock_sendall(u, line)
            await self.done.wait()
        except OSError as e:
            self.fails.append("postfix side: %s" % e)
        finally:
            u.close()

    async def tls_side(self, i, port, ctx):
        try:
            r, w = await asyncio.open_connection(
                "127.0.0.1", port, ssl=ctx, server_hostname="localhost")
            w.write(b"PING %d\n" % i)
            if await r.readline() != b"PING %d\n" % i:
                raise OSError("wrong echo")
            self.up += 1
            if self.up == self.n:
                self.all_up.set()
            await self.done.wait()
            w.close()
        except (OSError, ssl.SSLError) as e:
            self.fails.append("TLS side %d: %s" % (i, e))

    async def acceptor(self, lsn):
        loop = asyncio.get_running_loop()
        while True:
            c, _ = await loop.sock_accept(lsn)
            await self.accepted.put(c)


async def main(path, n, secs):
    ld = Load(path, n)
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(4096)
    lsn.setblocking(False)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    acc = asyncio.create_task(ld.acceptor(lsn))
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(ld.postfix_side()))
        tasks.append(asyncio.create_task(
            ld.tls_side(i, lsn.getsockname()[1], ctx)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(ld.all_up.wait(), secs)
    except asyncio.TimeoutError:
        pass
    held = ld.up
    ld.done.set()
    await asyncio.wait(tasks, timeout=30)
    acc.cancel()
    print("held %d of %d" % (held, n))
    print("failed %d" % len(ld.fails))
    for f in ld.fails[:5]:
        print("  " + f)
    return 0 if held == n else 1


sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))))
