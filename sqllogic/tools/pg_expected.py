#!/usr/bin/env python3
"""Rewrites the expected results of every `query` record of an .slt file
with what a real PostgreSQL returns, so a new test file is checked against
PostgreSQL rather than written by hand:

    sqllogic/tools/pg_expected.py sqllogic/slt/joins.slt [PORT]

Runs the whole file in order (statements too) in one psql session on
127.0.0.1, user postgres, database postgres. Values are printed as the slt runner
prints them: NULL, (empty) for an empty string, one row per line. A record
whose query fails is reported and left as it was."""
import subprocess, sys

path = sys.argv[1]
port = sys.argv[2] if len(sys.argv) > 2 else "55432"
SEP = "\x1f"


def run_all(sqls):
    """Runs the statements in one psql session (PREPARE, SET and temporary
    objects carry over); returns (rows, error) for each."""
    script = []
    for i, q in enumerate(sqls):
        script.append(f"\\echo @@REC {i}")
        script.append(q.rstrip().rstrip(";") + ";")
    script.append("\\echo @@REC end")
    p = subprocess.run(
        # Line-buffered, so errors (stderr) fall between their records' output.
        ["stdbuf", "-oL", "psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-X", "-q",
         "-A", "-t", "-F", SEP, "-P", "null=\x1e"],
        input="\n".join(script) + "\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**__import__("os").environ, "PGOPTIONS": "-c client_min_messages=error"})
    out = p.stdout.replace("\r", "")
    results = []
    parts = out.split("@@REC ")
    by_index = {}
    for part in parts[1:]:
        head, _, body = part.partition("\n")
        by_index[head.strip()] = body
    for i in range(len(sqls)):
        body = by_index.get(str(i), "")
        rows, err = [], None
        for line in body.split("\n"):
            if line == "":
                continue
            if line.startswith("ERROR:") or (line.startswith("psql:") and "ERROR:" in line):
                err = line.split("ERROR:", 1)[1].strip()
                continue
            if line.startswith(("DETAIL:", "HINT:", "LINE ", "CONTEXT:")) or line.strip() == "^":
                continue
            if err is not None:
                continue
            vals = ["NULL" if v == "\x1e" else ("(empty)" if v == "" else v) for v in line.split(SEP)]
            rows.append(" ".join(vals))
        results.append((rows, err))
    return results


lines = open(path).read().split("\n")
# First pass: the records' SQL, in order.
records = []
i = 0
while i < len(lines):
    if lines[i].startswith("statement") or lines[i].startswith("query"):
        i += 1
        sql = []
        while i < len(lines) and lines[i] != "----" and lines[i].strip() != "":
            sql.append(lines[i])
            i += 1
        records.append("\n".join(sql))
    else:
        i += 1
results = iter(run_all(records))
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
        rows, err = next(results)
        if head.startswith("statement"):
            if (err is None) != head.startswith("statement ok"):
                print(f"statement {'failed' if err else 'succeeded'}: {text}\n  {err}", file=sys.stderr)
            want = head[len("statement error"):].strip()
            if err is not None and want and want not in err:
                print(f"error differs: {text}\n  PostgreSQL: {err}\n  expected: {want}", file=sys.stderr)
            continue
        if i < len(lines) and lines[i] == "----":
            i += 1
            while i < len(lines) and lines[i].strip() != "":
                i += 1
        if err is not None:
            print(f"query failed: {text}\n  {err}", file=sys.stderr)
            rows = []
        out.append("----")
        out.extend(rows)
        continue
    out.append(line)
    i += 1
text = "\n".join(out)
open(path, "w").write(text if text.endswith("\n") else text + "\n")
