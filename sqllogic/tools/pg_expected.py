#!/usr/bin/env python3
"""Rewrites the expected results of every `query` record of an .slt file
with what a real PostgreSQL returns, so a new test file is checked against
PostgreSQL rather than written by hand:

    sqllogic/tools/pg_expected.py sqllogic/slt/joins.slt [PORT]

Runs the whole file in order (statements too) through psql on 127.0.0.1,
user postgres, database postgres. Values are printed as the slt runner
prints them: NULL, (empty) for an empty string, one row per line. A record
whose query fails is reported and left as it was."""
import subprocess, sys

path = sys.argv[1]
port = sys.argv[2] if len(sys.argv) > 2 else "55432"
SEP = "\x1f"


def run(sql):
    p = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-X", "-q", "-A", "-t",
         "-F", SEP, "-P", "null=\x1e", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    rows = []
    for line in p.stdout.split("\n"):
        if line == "":
            continue
        vals = ["NULL" if v == "\x1e" else ("(empty)" if v == "" else v) for v in line.split(SEP)]
        rows.append(" ".join(vals))
    return rows, None


lines = open(path).read().split("\n")
out = []
i = 0
while i < len(lines):
    line = lines[i]
    if line.startswith("statement") or line.startswith("query"):
        head = line
        i += 1
        sql = []
        while i < len(lines) and lines[i] != "----" and lines[i].strip() != "":
            sql.append(lines[i])
            i += 1
        text = "\n".join(sql)
        out.append(head)
        out.extend(sql)
        if head.startswith("statement"):
            rows, err = run(text)
            if (err is None) != head.startswith("statement ok"):
                print(f"statement {'failed' if err else 'succeeded'}: {text}\n  {err}", file=sys.stderr)
            want = head[len("statement error"):].strip()
            if err is not None and want and want not in err:
                print(f"error differs: {text}\n  PostgreSQL: {err}\n  expected: {want}", file=sys.stderr)
            # skip any expected-error text lines that follow (none for ok)
            continue
        # query: skip old results
        if i < len(lines) and lines[i] == "----":
            i += 1
            while i < len(lines) and lines[i].strip() != "":
                i += 1
        rows, err = run(text)
        if err is not None:
            print(f"query failed: {text}\n  {err}", file=sys.stderr)
            rows = []
        out.append("----")
        out.extend(rows)
        continue
    out.append(line)
    i += 1
open(path, "w").write("\n".join(out))
