#!/usr/bin/env python3
"""jsonlog_check.py - checks the JSON access log records in a tlswardd
log (for t/41-json-log.t; stdlib only).

  jsonlog_check.py LOG
      Every line that holds a record ("tlswardd: {" on standard error)
      must parse with the json module as one object with exactly the
      documented members and types. Prints "records=N"; a bad record
      prints "BAD: why: line" and the exit status is 1.
  jsonlog_check.py LOG KEY=TEXT|KEY:=JSON ...
      Prints how many good records match all: KEY=TEXT compares the
      member's text (null, a number, the string), KEY:=JSON compares
      with a JSON value.
"""
import json
import re
import sys

STR_OR_NULL = ("sni", "alpn", "protocol", "cipher", "client_cert_subject",
               "forward")
ENDS = {"other", "closed", "handshake_timeout", "connect_timeout",
        "request_timeout", "idle_timeout", "lifetime", "peer_closed",
        "tls_error", "connect_failed"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check(rec):
    need = {"time", "session", "service", "role", "client_addr",
            "client_port", "bytes_in", "bytes_out", "duration_seconds",
            "end"} | set(STR_OR_NULL)
    keys = set(rec)
    if rec.get("end") != "closed":
        need.add("error")
    if keys != need:
        return "members %s, want %s" % (sorted(keys), sorted(need))
    if not isinstance(rec["time"], str) or not TIME.match(rec["time"]):
        return "time %r" % (rec["time"],)
    for k in ("session", "bytes_in", "bytes_out"):
        if type(rec[k]) is not int or rec[k] < 0:
            return "%s %r is not a count" % (k, rec[k])
    if rec["client_port"] is not None and (type(rec["client_port"]) is not int
                                           or not 0 <= rec["client_port"] <= 65535):
        return "client_port %r" % (rec["client_port"],)
    if type(rec["duration_seconds"]) not in (int, float) or \
            rec["duration_seconds"] < 0:
        return "duration_seconds %r" % (rec["duration_seconds"],)
    for k in ("service", "role", "client_addr", "end"):
        if not isinstance(rec[k], str):
            return "%s %r is not a string" % (k, rec[k])
    for k in STR_OR_NULL:
        if rec[k] is not None and not isinstance(rec[k], str):
            return "%s %r is not a string or null" % (k, rec[k])
    if rec["end"] not in ENDS:
        return "end %r" % (rec["end"],)
    if "error" in rec and not isinstance(rec["error"], str):
        return "error %r" % (rec["error"],)
    return None


def wanted(args):
    """KEY=TEXT (the member's text: null, a number, a string) or KEY:=JSON
    (equal to the JSON value) -> a predicate on a record."""
    tests = []
    for a in args:
        if ":=" in a:
            k, v = a.split(":=", 1)
            tests.append((k, json.loads(v), True))
        else:
            k, v = a.split("=", 1)
            tests.append((k, v, False))

    def text(v):
        return "null" if v is None else str(v)

    return lambda rec: all(
        k in rec and (rec[k] == v if exact else text(rec[k]) == v)
        for k, v, exact in tests)


def main():
    bad = 0
    recs = []
    with open(sys.argv[1], "rb") as f:
        for raw in f:
            i = raw.find(b"tlswardd: {")
            if i < 0:
                continue
            text = raw[i + len(b"tlswardd: "):].rstrip(b"\n")
            try:
                rec = json.loads(text.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                print("BAD: %s: %r" % (e, text))
                bad += 1
                continue
            why = check(rec) if isinstance(rec, dict) else "not an object"
            if why is not None:
                print("BAD: %s: %r" % (why, text))
                bad += 1
                continue
            recs.append(rec)
    if len(sys.argv) > 2:
        print(len([r for r in recs if wanted(sys.argv[2:])(r)]))
        return 0
    print("records=%d" % len(recs))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
