#!/usr/bin/env python3
"""lakestream's own Python reference for syslog-1mb, in the approach of AWS's
"Kinesis Firehose Syslog to JSON" blueprint (one regex per record, a dict of
the fields, json.dumps, base64), written for the batch's lines: the
blueprint's single pattern expects a line to start with its BSD date, so it
would match none of them (each starts with <PRI>, and a quarter are RFC 5424).
Here a line is read as RFC 5424 or RFC 3164 after its priority, the priority
split into facility and severity, a BSD date made a full timestamp with
strptime, RFC 5424 structured data read into a dict, as lakestream's
firehose-syslog does. It prints one JSON line, as the references in
BENCH_REF do. Usage: syslog_python_approach.py EVENT.json"""
import base64, json, re, sys, time
from datetime import datetime

rfc5424 = re.compile(r'^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[.*?\])+)(?: (.*))?$')
rfc3164 = re.compile(r'^<(\d{1,3})>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: ?(.*)$')
element = re.compile(r'\[(\S+?)((?: [^=\s\]]+="(?:[^"\\]|\\.)*")*)\]')
param = re.compile(r' ([^=\s\]]+)="((?:[^"\\]|\\.)*)"')
YEAR = 2024


def nil(v):
    return None if v == "-" else v


def transform(line):
    line = line.rstrip("\n")
    m = rfc5424.match(line)
    if m:
        pri = int(m.group(1))
        sd = {}
        if m.group(8) != "-":
            for e in element.finditer(m.group(8)):
                sd[e.group(1)] = {k: v for k, v in param.findall(e.group(2))}
        return {"priority": pri, "facility": pri >> 3, "severity": pri & 7, "version": int(m.group(2)),
                "timestamp": nil(m.group(3)), "hostname": nil(m.group(4)), "app_name": nil(m.group(5)),
                "procid": nil(m.group(6)), "msgid": nil(m.group(7)), "structured_data": sd, "message": m.group(9)}
    m = rfc3164.match(line)
    if m:
        pri = int(m.group(1))
        ts = datetime.strptime("%d %s" % (YEAR, m.group(2)), "%Y %b %d %H:%M:%S")
        return {"priority": pri, "facility": pri >> 3, "severity": pri & 7, "timestamp": ts.isoformat() + "Z",
                "hostname": m.group(3), "app_name": m.group(4), "procid": m.group(5), "message": m.group(6)}
    return None


raw = open(sys.argv[1], "rb").read(); best = None
for _ in range(5):
    t0 = time.perf_counter(); ev = json.loads(raw); out = []
    for r in ev["records"]:
        o = transform(base64.b64decode(r["data"]).decode())
        if o is None: out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
        else: out.append({"recordId": r["recordId"], "result": "Ok", "data": base64.b64encode((json.dumps(o) + "\n").encode()).decode()})
    resp = json.dumps({"records": out}); dt = time.perf_counter() - t0; best = dt if best is None else min(best, dt)
n = len(ev["records"]); inb = sum(len(base64.b64decode(r["data"])) for r in ev["records"])
failed = sum(1 for r in out if r["result"] != "Ok")
print(json.dumps({"impl": "python-syslog-blueprint-approach", "records": n, "failed": failed, "input_bytes": inb,
                  "best_s": round(best, 4), "input_MBps": round(inb / best / 1e6, 1), "records_per_s": int(n / best)}))
