#!/usr/bin/env python3
"""The client suite: real drivers and ORMs against a started basalt and,
with --pg, against a real PostgreSQL started beside it, in one run.

    tests/clients/run.py --basalt target/debug/basalt [--pg /usr/lib/postgresql/15/bin]
                         [--only psycopg,asyncpg] [--no-install]

Installs the clients first (pip into a venv, npm, Debian's pgjdbc, a cargo
build of the Rust clients) under $BASALT_CLIENTS_CACHE (default
~/.cache/basalt-clients). Each client program prints `ok <check>` or
`FAIL <check>: <why>` lines; this prints the count per client and target
and exits non-zero when any check failed or a client did not finish.
"""

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CERT = os.path.join(HERE, "certs", "server.crt")
KEY = os.path.join(HERE, "certs", "server.key")
CA = os.path.join(HERE, "certs", "ca.crt")
CACHE = os.environ.get("BASALT_CLIENTS_CACHE") or os.path.expanduser("~/.cache/basalt-clients")
PER_CLIENT_TIMEOUT = 420

SUPER_PW = "super pw"
APP_PW = "app pw ✓"
MD5_PW = "md5 pw"


def log(*a):
    print(*a, flush=True)


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        # Leave room for a server that also binds ::1.
        try:
            s6 = socket.socket(socket.AF_INET6)
            s6.bind(("::1", port))
            s6.close()
        except OSError:
            continue
        return port


def stamp_ok(name, *files):
    """Whether `name` was installed from these very files (else None:
    returns the digest to write once installed)."""
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            h.update(fh.read())
    digest = h.hexdigest()
    path = os.path.join(CACHE, name + ".stamp")
    try:
        with open(path) as fh:
            if fh.read().strip() == digest:
                return True, path, digest
    except OSError:
        pass
    return False, path, digest


def run(cmd, **kw):
    log("+", " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def install_python():
    req = os.path.join(HERE, "python", "requirements.txt")
    ok, path, digest = stamp_ok("python", req)
    venv = os.path.join(CACHE, "venv")
    if ok and os.path.exists(os.path.join(venv, "bin", "python")):
        return
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", venv])
    run([os.path.join(venv, "bin", "pip"), "install", "-q", "-r", req])
    with open(path, "w") as fh:
        fh.write(digest)


def install_node():
    src = os.path.join(HERE, "node")
    ok, path, digest = stamp_ok("node", os.path.join(src, "package.json"),
                                os.path.join(src, "package-lock.json"))
    dst = os.path.join(CACHE, "node")
    if ok and os.path.isdir(os.path.join(dst, "node_modules")):
        return
    os.makedirs(dst, exist_ok=True)
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(src, f), dst)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=dst)
    with open(path, "w") as fh:
        fh.write(digest)


def jdbc_jar():
    jar = "/usr/share/java/postgresql.jar"
    if not os.path.exists(jar):
        run(["apt-get", "install", "-y", "-qq", "libpostgresql-jdbc-java"],
            stdout=subprocess.DEVNULL)
    return jar


def install_java():
    jar = jdbc_jar()
    src = os.path.join(HERE, "java", "JdbcClient.java")
    out = os.path.join(CACHE, "java")
    ok, path, digest = stamp_ok("java", src)
    if ok and os.path.exists(os.path.join(out, "JdbcClient.class")):
        return
    os.makedirs(out, exist_ok=True)
    run(["javac", "-cp", jar, "-d", out, src])
    with open(path, "w") as fh:
        fh.write(digest)


def install_rust():
    run(["cargo", "build", "-q", "--manifest-path", os.path.join(HERE, "rust", "Cargo.toml"),
         "--target-dir", os.path.join(CACHE, "rust-target")])


def python_client(script):
    return lambda: [os.path.join(CACHE, "venv", "bin", "python"),
                    os.path.join(HERE, "python", script)]


CLIENTS = {
    # name: (installer, command)
    "psycopg": (install_python, python_client("psycopg_client.py")),
    "psycopg2": (install_python, python_client("psycopg2_client.py")),
    "asyncpg": (install_python, python_client("asyncpg_client.py")),
    "sqlalchemy": (install_python, python_client("sqlalchemy_client.py")),
    "django": (install_python, python_client("django_client.py")),
    "node-postgres": (install_node, lambda: ["node", os.path.join(HERE, "node", "pg_client.js")]),
    "pgjdbc": (install_java, lambda: ["java", "-Xmx256m", "-cp",
                                      jdbc_jar() + ":" + os.path.join(CACHE, "java"),
                                      "JdbcClient"]),
    "tokio-postgres": (install_rust, lambda: [os.path.join(CACHE, "rust-target", "debug",
                                                           "tokio_postgres_client")]),
    "sqlx": (install_rust, lambda: [os.path.join(CACHE, "rust-target", "debug", "sqlx_client")]),
}


class Target:
    name = ""
    port = 0
    proc = None

    def psql(self, sql, db="postgres"):
        env = dict(os.environ, PGPASSWORD=SUPER_PW, PGSSLMODE="disable")
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "postgres", "-d", db, "-c", sql],
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: {sql}: {r.stderr}")
        return r.stdout

    def peak_rss(self):
        """The server process's peak resident set (VmHWM), for the record."""
        try:
            pid = self.proc.pid
            if isinstance(self, Postgres):
                return "(not measured: one process per connection)"
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    def wait_ready(self):
        t0 = time.time()
        while True:
            try:
                self.psql("SELECT 1")
                return
            except RuntimeError as e:
                if time.time() - t0 > 60 or (self.proc and self.proc.poll() is not None):
                    raise RuntimeError(f"{self.name} did not start: {e}")
                time.sleep(0.2)

    def prepare(self, clients):
        self.psql(f"CREATE ROLE app LOGIN SUPERUSER PASSWORD '{APP_PW}'")
        self.psql(f"SET password_encryption = 'md5'; CREATE ROLE app_md5 LOGIN PASSWORD '{MD5_PW}'")
        for c in clients:
            self.psql(f"CREATE DATABASE {db_name(c)} OWNER app")


class Basalt(Target):
    name = "basalt"

    def __init__(self, binary, tmp):
        self.port = free_port()
        self.log = os.path.join(tmp, "basalt.log")
        self.proc = subprocess.Popen(
            [binary, "--data-dir", os.path.join(tmp, "basalt-data"), "--port", str(self.port),
             "-c", f"ssl_cert_file={CERT}", "-c", f"ssl_key_file={KEY}",
             "-c", "max_connections=200"],
            env=dict(os.environ, BASALT_PASSWORD=SUPER_PW),
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.wait_ready()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Postgres(Target):
    name = "postgresql"

    def __init__(self, bindir, tmp):
        self.port = free_port()
        self.dir = os.path.join(tmp, "pg")
        as_pg = []
        if os.geteuid() == 0:
            # initdb refuses root: run the cluster as the postgres user.
            as_pg = ["runuser", "-u", "postgres", "--"]
            os.chmod(tmp, 0o755)
        os.makedirs(self.dir)
        if as_pg:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as fh:
            fh.write(SUPER_PW)
        if as_pg:
            shutil.chown(pwfile, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        subprocess.run(as_pg + [os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres",
                                "--pwfile", pwfile, "-A", "scram-sha-256", "-E", "UTF8",
                                "--locale=C.UTF-8"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "pg_hba.conf"), "w") as fh:
            fh.write("host all app_md5 127.0.0.1/32 md5\n"
                     "host all all 127.0.0.1/32 scram-sha-256\n"
                     "host all all ::1/128 scram-sha-256\n")
        for src, name in ((CERT, "server.crt"), (KEY, "server.key")):
            dst = os.path.join(data, name)
            shutil.copy(src, dst)
            os.chmod(dst, 0o600)
            if as_pg:
                shutil.chown(dst, "postgres", "postgres")
        self.log = os.path.join(self.dir, "log")
        self.proc = subprocess.Popen(
            as_pg + [os.path.join(bindir, "postgres"), "-D", data, "-p", str(self.port),
                     "-c", "listen_addresses=127.0.0.1", "-c", "ssl=on",
                     "-c", "unix_socket_directories=" + self.dir,
                     "-c", "max_connections=200", "-c", "fsync=on"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_ready()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def db_name(client):
    return "c_" + client.replace("-", "_")


def run_client(target, client, cmd):
    env = dict(os.environ,
               PGHOST="127.0.0.1", PGPORT=str(target.port), PGUSER="app", PGPASSWORD=APP_PW,
               PGDATABASE=db_name(client), CLIENT_MD5_USER="app_md5",
               CLIENT_MD5_PASSWORD=MD5_PW, CLIENT_SSLROOTCERT=CA, CLIENT_TARGET=target.name,
               PYTHONUNBUFFERED="1")
    for k in ("PGSSLMODE", "PGSERVICE", "PGOPTIONS"):
        env.pop(k, None)
    t0 = time.time()
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=PER_CLIENT_TIMEOUT, cwd=HERE)
        out, err, code = r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = f"timed out after {PER_CLIENT_TIMEOUT} s"
        code = -1
    oks = [l for l in out.splitlines() if l.startswith("ok ")]
    fails = [l for l in out.splitlines() if l.startswith("FAIL ")]
    secs = time.time() - t0
    healthy = bool(code == 0 and not fails and oks)
    status = "pass" if healthy else "FAIL"
    log(f"{target.name:11} {client:15} {status}  {len(oks):3} checks passed, "
        f"{len(fails)} failed  ({secs:.1f} s)")
    for l in fails:
        log("    " + l)
    if not healthy and (code != 0 or not oks):
        tail = "\n".join((err or "").strip().splitlines()[-25:])
        log(f"    exit {code}; stderr:\n" + "\n".join("      " + l for l in tail.splitlines()))
    return healthy, len(oks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--basalt", help="the basalt binary to start")
    ap.add_argument("--pg", help="PostgreSQL's bin directory, to run the suite against it too")
    ap.add_argument("--only", help="comma-separated clients")
    ap.add_argument("--no-install", action="store_true")
    a = ap.parse_args()
    clients = list(CLIENTS)
    if a.only:
        clients = [c for c in a.only.split(",") if c]
        for c in clients:
            if c not in CLIENTS:
                sys.exit(f"unknown client {c}; have {', '.join(CLIENTS)}")
    os.makedirs(CACHE, exist_ok=True)
    if not a.no_install:
        done = set()
        for c in clients:
            inst = CLIENTS[c][0]
            if inst not in done:
                inst()
                done.add(inst)
    tmp = tempfile.mkdtemp(prefix="basalt-clients-")
    targets = []
    ok = True
    try:
        if a.basalt:
            targets.append(Basalt(os.path.abspath(a.basalt), tmp))
        if a.pg:
            targets.append(Postgres(a.pg, tmp))
        if not targets:
            sys.exit("nothing to test: give --basalt and/or --pg")
        for t in targets:
            t.prepare(clients)
        for t in targets:
            total = 0
            for c in clients:
                healthy, n = run_client(t, c, CLIENTS[c][1]())
                ok &= healthy
                total += n
            log(f"{t.name:11} all clients     {total} checks passed; server peak RSS {t.peak_rss()}")
    finally:
        for t in targets:
            t.stop()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"logs kept in {tmp}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
