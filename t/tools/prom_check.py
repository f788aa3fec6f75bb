#!/usr/bin/env python3
"""prom_check.py - a strict parser of the Prometheus text exposition
format (0.0.4) for t/53-metrics.t (stdlib only).

  prom_check.py FILE
      Checks every line: "# HELP name text", "# TYPE name type" or
      'name{label="value",...} value'; names and labels well formed,
      label values escaped (only \\\\ \\" \\n), every family with exactly
      one HELP and one TYPE before its samples, its samples together,
      no series twice, counters named *_total, histogram series
      _bucket (le ascending, counts not decreasing, +Inf last and equal
      to _count) _sum and _count, every name tlsward_*. Prints
      "ok FAMILIES SERIES" or each problem ("BAD: ..."), exit 1.
  prom_check.py FILE NAME [LABEL=VALUE ...]
      Prints the sum of the samples of NAME whose labels include those
      given (an integer when it is one), or "none".
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_value(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", s):
        raise Bad("bad value %r" % s)
    return float(s)


def parse_labels(s, i):
    """s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad("bad label name at %d" % i)
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad("no =\" after label %s" % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad("unterminated label value")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise Bad("bad escape \\%s" % nxt)
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Bad("raw newline in a label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise Bad("label %s twice" % name)
        labels[name] = "".join(val)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise Bad("expected , or } at %d" % i)


def parse_sample(line):
    m = NAME.match(line)
    if not m:
        raise Bad("bad metric name")
    name = m.group(0)
    i = m.end()
    labels = {}
    if line[i:i + 1] == "{":
        labels, i = parse_labels(line, i)
    if line[i:i + 1] != " ":
        raise Bad("no space before the value")
    rest = line[i + 1:].split(" ")
    if len(rest) not in (1, 2):
        raise Bad("extra fields")
    value = parse_value(rest[0])
    if len(rest) == 2 and not re.fullmatch(r"-?[0-9]+", rest[1]):
        raise Bad("bad timestamp")
    return name, labels, value


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) in (
                "histogram", "summary"):
            return name[:-len(suffix)]
    return name


def parse(text):
    if not text.endswith("\n"):
        raise Bad("the last line does not end with a newline")
    helps, types, samples, order = {}, {}, [], []
    seen = set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) < 4 or parts[1] not in ("HELP", "TYPE") or \
                        not NAME.fullmatch(parts[2]):
                    raise Bad("a comment that is not HELP or TYPE")
                fam = parts[2]
                d = helps if parts[1] == "HELP" else types
                if fam in d:
                    raise Bad("second %s for %s" % (parts[1], fam))
                if parts[1] == "TYPE" and parts[3] not in TYPES:
                    raise Bad("unknown type %s" % parts[3])
                if fam in order:
                    raise Bad("%s for %s after its samples" % (parts[1], fam))
                d[fam] = parts[3]
                continue
            name, labels, value = parse_sample(line)
            fam = family_of(name, types)
            if fam not in helps or fam not in types:
                raise Bad("%s without HELP and TYPE before it" % name)
            if order and order[-1] != fam and fam in order:
                raise Bad("samples of %s not together" % fam)
            if not order or order[-1] != fam:
                order.append(fam)
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise Bad("series twice")
            seen.add(key)
            samples.append((name, labels, value))
        except Bad as e:
            raise Bad("line %d: %s: %r" % (n, e, line))
    return helps, types, samples


def check(types, samples):
    bad = []
    for fam, t in types.items():
        if not fam.startswith("tlsward_"):
            bad.append("%s: not tlsward_*" % fam)
        if t == "counter" and not fam.endswith("_total"):
            bad.append("%s: a counter not named *_total" % fam)
    for name, labels, value in samples:
        fam = family_of(name, types)
        if types[fam] == "counter" and (value < 0 or math.isnan(value)):
            bad.append("%s: a counter below 0" % name)
        if types[fam] == "histogram" and name == fam:
            bad.append("%s: a bare histogram sample" % name)
    # histograms: per series (labels but le)
    hist = {}
    for name, labels, value in samples:
        fam = family_of(name, types)
        if types[fam] != "histogram":
            continue
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        h = hist.setdefault((fam, rest), {"b": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            if "le" not in labels:
                bad.append("%s: bucket without le" % name)
                continue
            h["b"].append((parse_value(labels["le"]), value))
        elif name.endswith("_sum"):
            h["sum"] = value
        else:
            h["count"] = value
    for (fam, rest), h in hist.items():
        les = [le for le, _ in h["b"]]
        counts = [c for _, c in h["b"]]
        if les != sorted(les) or len(set(les)) != len(les):
            bad.append("%s%s: le not ascending" % (fam, rest))
        if counts != sorted(counts):
            bad.append("%s%s: bucket counts decrease" % (fam, rest))
        if not les or les[-1] != float("inf"):
            bad.append("%s%s: no +Inf bucket" % (fam, rest))
        elif h["count"] is None or h["sum"] is None:
            bad.append("%s%s: no _sum or _count" % (fam, rest))
        elif counts[-1] != h["count"]:
            bad.append("%s%s: +Inf bucket %s != _count %s" % (
                fam, rest, counts[-1], h["count"]))
    return bad


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        helps, types, samples = parse(text)
    except Bad as e:
        print("BAD: %s" % e)
        return 1
    if len(sys.argv) > 2:
        want = dict(a.split("=", 1) for a in sys.argv[3:])
        vals = [v for n, l, v in samples if n == sys.argv[2] and
                all(l.get(k) == w for k, w in want.items())]
        if not vals:
            print("none")
        else:
            s = sum(vals)
            print(int(s) if s == int(s) else s)
        return 0
    bad = check(types, samples)
    for b in bad:
        print("BAD: %s" % b)
    if bad:
        return 1
    print("ok %d %d" % (len(types), len(samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
