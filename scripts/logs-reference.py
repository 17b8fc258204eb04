#!/usr/bin/env python3
"""One-pass reference for the offline log check, to measure against.

Reads a snapshot's logs.jsonl once and does the work of the repo's log
budgets (budgets.yaml: log-volume, log-levels, log-redaction) the plain
way: decode each entry, keep the {env="prod"} streams in the window,
sum bytes over 5m and lines over 1h by service, parse the line as JSON
for its level, and match the six redaction patterns. Prints the counts.

Usage: scripts/logs-reference.py LOGS.jsonl EVALUATED_AT_UNIX_NS
"""
import json
import re
import sys
from collections import Counter

PATTERNS = {
    "aws_access_key": r"AKIA[0-9A-Z]{16}",
    "bearer_token": r"(?i)bearer [a-z0-9._-]{20,}",
    "password_assignment": r"(?i)password\s*[=:]\s*\S+",
    "private_key_block": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "jwt": r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    "email": r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}",
}


def main():
    path, at = sys.argv[1], int(sys.argv[2])
    after_1h, after_5m = at - 3600 * 10**9, at - 300 * 10**9
    pats = [(name, re.compile(p)) for name, p in PATTERNS.items()]
    volume, total, levels, matches = Counter(), Counter(), Counter(), Counter()
    loads = json.loads
    with open(path, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            e = loads(raw)
            labels = e["labels"]
            if labels.get("env") != "prod":
                continue
            ts = int(e["ts"])
            if not (after_1h < ts <= at):
                continue
            svc, line = labels.get("service", ""), e["line"]
            if ts > after_5m:
                volume[svc] += len(line.encode())
            total[svc] += 1
            try:
                body = loads(line)
                level = body.get("level") if isinstance(body, dict) else None
                levels[(svc, level if isinstance(level, str) else "")] += 1
            except ValueError:
                pass
            for name, p in pats:
                if p.search(line):
                    matches[(svc, name)] += 1
    print("bytes 5m", dict(volume))
    print("lines 1h", dict(total), "all", sum(total.values()))
    print("levels", dict(levels))
    print("matches", dict(matches))


if __name__ == "__main__":
    main()
