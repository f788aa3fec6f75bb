#!/usr/bin/env python3
"""t/tools/ocsp_responder.py - an OCSP responder on loopback for tests.

Usage: ocsp_responder.py PORTFILE ARGSFILE LOGFILE

Listens on 127.0.0.1:0 (openssl ocsp -port binds every address, so it
is not used as the server), writes the port to PORTFILE, and answers
each HTTP POST of an OCSP request with what openssl ocsp's responder
makes of it: "openssl ocsp -reqin REQ -respout RESP" plus the arguments
in ARGSFILE (one per line: -index, -CA, -rsigner, -rkey, -ndays ...),
read afresh for each request, so that a test can revoke (the index is
read each time), change the signer or make short-lived answers without
restarting. ARGSFILE with the lines "raw" and FILE answers FILE's bytes
(something that is not an OCSP response). Each request is noted in LOGFILE. Runs until killed.
"""
import http.server
import os
import subprocess
import sys
import tempfile

PORTFILE, ARGSFILE, LOGFILE = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = self.rfile.read(n) if 0 < n < 65536 else b""
        with open(ARGSFILE) as f:
            args = [a for a in f.read().split("\n") if a]
        body = b""
        with tempfile.TemporaryDirectory() as d:
            rq, rs = os.path.join(d, "req"), os.path.join(d, "resp")
            with open(rq, "wb") as f:
                f.write(req)
            if len(args) == 2 and args[0] == "raw":
                with open(args[1], "rb") as f:
                    body = f.read()
            else:
                subprocess.run(["openssl", "ocsp", "-reqin", rq,
                                "-respout", rs] + args,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=20)
                if os.path.exists(rs):
                    with open(rs, "rb") as f:
                        body = f.read()
        with open(LOGFILE, "a") as f:
            f.write("request %d bytes, answer %d bytes\n" % (len(req), len(body)))
        self.send_response(200 if body else 500)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
