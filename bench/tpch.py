#!/usr/bin/env python3
"""TPC-H on any PostgreSQL-protocol server, through psql.

    bench/tpch.py load  --port P [--db D] --data DIR [--sf 1]   # schema, COPY, keys, ANALYZE
    bench/tpch.py run   --port P --out DIR [--sf 1] [--only 1,3] [--timeout 600]
    bench/tpch.py compare DIR_A DIR_B                  # same rows? (numbers to 2 decimals)

DIR for `load` holds the CSV files of `tpchgen-cli csv -s SF -o DIR` (one per
table, with a header row). `run` writes q01.out ... q22.out and times.tsv
(query, seconds or the error) into --out. The schema and queries are
../shared/tpch (override with --tpch). Q11's fraction is 0.0001 / SF."""
import argparse, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = ["region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]


DB = "postgres"


def psql(port, sql=None, file=None, timeout=None, fmt=True):
    cmd = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", DB, "-X", "-q",
           "-v", "ON_ERROR_STOP=1"]
    if fmt:
        cmd += ["-A", "-t", "-F", "|", "-P", "null=NULL"]
    if sql is not None:
        cmd += ["-c", sql]
    if file is not None:
        cmd += ["-f", file]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def statements(path):
    text = "\n".join(l for l in open(path).read().split("\n") if not l.strip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


def load(a):
    for s in statements(os.path.join(a.tpch, "schema.sql")):
        name = s.split()[2]
        psql(a.port, f"DROP TABLE IF EXISTS {name}")
        r = psql(a.port, s)
        if r.returncode:
            sys.exit(f"schema: {r.stderr}")
    for t in TABLES:
        t0 = time.time()
        path = os.path.join(a.data, f"{t}.csv")
        r = psql(a.port, f"\\copy {t} FROM '{path}' WITH (FORMAT csv, HEADER true)")
        if r.returncode:
            sys.exit(f"copy {t}: {r.stderr}")
        print(f"copy {t}: {time.time() - t0:.1f} s", flush=True)
    for s in statements(os.path.join(a.tpch, "indexes.sql")):
        t0 = time.time()
        r = psql(a.port, s)
        status = "ok" if r.returncode == 0 else r.stderr.strip()
        print(f"{s[:60]}: {time.time() - t0:.1f} s {status}", flush=True)
    t0 = time.time()
    r = psql(a.port, "VACUUM ANALYZE")
    print(f"VACUUM ANALYZE: {time.time() - t0:.1f} s {r.stderr.strip()}", flush=True)


def run(a):
    os.makedirs(a.out, exist_ok=True)
    only = {int(x) for x in a.only.split(",")} if a.only else None
    qdir = os.path.join(a.tpch, "queries")
    times = []
    for n in range(1, 23):
        if only and n not in only:
            continue
        sql = open(os.path.join(qdir, f"q{n:02d}.sql")).read()
        sql = sql.replace("__FRACTION__", repr(0.0001 / a.sf))
        t0 = time.time()
        try:
            r = psql(a.port, sql, timeout=a.timeout)
            took = time.time() - t0
            if r.returncode:
                res = "error: " + r.stderr.strip().replace("\n", " ")
            else:
                res = f"{took:.2f}"
                open(os.path.join(a.out, f"q{n:02d}.out"), "w").write(r.stdout)
        except subprocess.TimeoutExpired:
            res = f"timeout ({a.timeout} s)"
        times.append((n, res))
        print(f"q{n:02d}\t{res}", flush=True)
    with open(os.path.join(a.out, "times.tsv"), "w") as f:
        for n, res in times:
            f.write(f"q{n:02d}\t{res}\n")


def normalize(path):
    rows = []
    for line in open(path).read().split("\n"):
        if not line.strip():
            continue
        vals = []
        for v in line.split("|"):
            v = v.rstrip()
            try:
                if any(c in v for c in ".eE") or v.lstrip("-").isdigit():
                    v = f"{float(v):.2f}"
            except ValueError:
                pass
            vals.append(v)
        rows.append("|".join(vals))
    return rows


def compare(a):
    bad = 0
    for n in range(1, 23):
        fa, fb = (os.path.join(d, f"q{n:02d}.out") for d in (a.a, a.b))
        if not (os.path.exists(fa) and os.path.exists(fb)):
            print(f"q{n:02d}\tmissing")
            bad += 1
            continue
        ra, rb = normalize(fa), normalize(fb)
        if ra == rb:
            print(f"q{n:02d}\tsame ({len(ra)} rows)")
        else:
            bad += 1
            diff = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), min(len(ra), len(rb)))
            print(f"q{n:02d}\tDIFFERENT ({len(ra)} vs {len(rb)} rows; first at row {diff + 1}: "
                  f"{ra[diff] if diff < len(ra) else '-'} | {rb[diff] if diff < len(rb) else '-'})")
    sys.exit(1 if bad else 0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["load", "run", "compare"])
    p.add_argument("a", nargs="?")
    p.add_argument("b", nargs="?")
    p.add_argument("--port", type=int, default=5432)
    p.add_argument("--db", default="postgres")
    p.add_argument("--data")
    p.add_argument("--out")
    p.add_argument("--sf", type=float, default=1.0)
    p.add_argument("--only")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--tpch", default=os.path.join(HERE, "..", "..", "shared", "tpch"))
    a = p.parse_args()
    global DB
    DB = a.db
    {"load": load, "run": run, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()
