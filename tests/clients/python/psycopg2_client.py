"""psycopg2 against the server the runner started (text results only: psycopg2
has no binary result format)."""

import io
import select
import threading
import time

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from harness import (DB, HOST, MD5_PASSWORD, MD5_USER, PASSWORD, PORT, ROOTCERT, STREAM_ROWS,
                     TYPES, USER, as_json, check, eq, finish, max_rss_mb)

psycopg2.extras.register_uuid()


def connect(**kw):
    args = dict(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DB,
                sslmode="disable")
    args.update(kw)
    return psycopg2.connect(**args)


conn = connect()
conn.autocommit = True


def q(sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


@check
def scram_login():
    c = connect()
    eq(c.cursor().connection.info.user, USER)
    c.close()


@check
def md5_login():
    c = connect(user=MD5_USER, password=MD5_PASSWORD)
    cur = c.cursor()
    cur.execute("SELECT current_user")
    eq(cur.fetchone()[0], MD5_USER)
    c.close()


@check
def tls_require():
    c = connect(sslmode="verify-ca", sslrootcert=ROOTCERT)
    eq(c.info.ssl_in_use, True)
    c.close()


@check
def session_parameters():
    eq(conn.get_parameter_status("client_encoding"), "UTF8")
    eq(conn.get_parameter_status("standard_conforming_strings"), "on")
    eq(conn.get_parameter_status("DateStyle"), "ISO, MDY")
    assert conn.server_version >= 100000, conn.server_version
    conn.set_client_encoding("utf-8")
    eq(q("SHOW client_encoding")[0][0], "UTF8")
    q("SET TimeZone = 'UTC'")
    eq(conn.get_parameter_status("TimeZone"), "UTC")


@check
def types_text():
    for ty, lit, want in TYPES:
        got = q(f"SELECT ({lit})::{ty}")[0][0]
        if ty == "bytea":
            got = bytes(got)
        if ty == "json":
            got = as_json(got)
        eq(got, want, f"{ty} result")
        param = psycopg2.extras.Json(want) if ty in ("json", "jsonb") else want
        if ty == "bytea":
            param = psycopg2.Binary(want)
        back = q(f"SELECT (%s)::{ty}", [param])[0][0]
        if ty == "bytea":
            back = bytes(back)
        eq(back, want, f"{ty} parameter")


@check
def transactions_and_savepoints():
    q("DROP TABLE IF EXISTS tx")
    q("CREATE TABLE tx (v int)")
    c = connect()
    cur = c.cursor()
    cur.execute("INSERT INTO tx VALUES (1)")
    cur.execute("SAVEPOINT a")
    cur.execute("INSERT INTO tx VALUES (2)")
    cur.execute("ROLLBACK TO SAVEPOINT a")
    cur.execute("INSERT INTO tx VALUES (3)")
    cur.execute("RELEASE SAVEPOINT a")
    c.commit()
    cur.execute("INSERT INTO tx VALUES (4)")
    c.rollback()
    with c:
        with c.cursor() as cur2:
            cur2.execute("INSERT INTO tx VALUES (5)")
    c.close()
    eq(q("SELECT v FROM tx ORDER BY v"), [(1,), (3,), (5,)])


@check
def errors_carry_sqlstate():
    q("DROP TABLE IF EXISTS uq")
    q("CREATE TABLE uq (id int PRIMARY KEY)")
    q("INSERT INTO uq VALUES (1)")
    for sql, cls, code in [("INSERT INTO uq VALUES (1)", psycopg2.errors.UniqueViolation, "23505"),
                           ("SELECT 1/0", psycopg2.errors.DivisionByZero, "22012"),
                           ("SELECT nope FROM uq", psycopg2.errors.UndefinedColumn, "42703")]:
        try:
            q(sql)
        except cls as e:
            eq(e.pgcode, code)
            assert e.diag.message_primary
        else:
            raise AssertionError(sql)
        eq(q("SELECT 1"), [(1,)])
    c = connect()
    cur = c.cursor()
    try:
        cur.execute("SELECT 1/0")
    except psycopg2.errors.DivisionByZero:
        pass
    try:
        cur.execute("SELECT 1")
    except psycopg2.errors.InFailedSqlTransaction as e:
        eq(e.pgcode, "25P02")
    c.rollback()
    cur.execute("SELECT 2")
    eq(cur.fetchone()[0], 2)
    c.close()


@check
def copy_expert_text_and_csv():
    q("DROP TABLE IF EXISTS cp")
    q("CREATE TABLE cp (id int, name text)")
    with conn.cursor() as cur:
        cur.copy_from(io.StringIO("1\tone\n2\t\\N\n"), "cp", columns=("id", "name"))
        cur.copy_expert("COPY cp FROM STDIN WITH (FORMAT csv, HEADER, NULL 'none')",
                        io.StringIO("id,name\n3,\"th,ree\"\n4,none\n"))
        eq(q("SELECT count(*), count(name) FROM cp"), [(4, 2)])
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT * FROM cp ORDER BY id) TO STDOUT WITH CSV HEADER", out)
        eq(out.getvalue(), "id,name\n1,one\n2,\n3,\"th,ree\"\n4,\n")
        out = io.StringIO()
        cur.copy_to(out, "cp", columns=("id",))
        eq(sorted(out.getvalue().split()), ["1", "2", "3", "4"])


@check
def cancel_is_57014():
    c = connect()
    threading.Timer(0.5, c.cancel).start()
    try:
        c.cursor().execute("SELECT pg_sleep(20)")
    except psycopg2.errors.QueryCanceled as e:
        eq(e.pgcode, "57014")
    else:
        raise AssertionError("not cancelled")
    c.rollback()
    cur = c.cursor()
    cur.execute("SELECT 3")
    eq(cur.fetchone()[0], 3)
    c.close()


@check
def stream_million_rows_named_cursor():
    before = max_rss_mb()
    c = connect()
    cur = c.cursor(name="big")
    cur.itersize = 10000
    cur.execute("SELECT g, md5(g::text) FROM generate_series(1, %s) g", [STREAM_ROWS])
    n = 0
    for _row in cur:
        n += 1
    eq(n, STREAM_ROWS)
    cur.close()
    c.close()
    grew = max_rss_mb() - before
    assert grew < 100, f"client memory grew {grew:.0f} MB"


@check
def listen_notify():
    listener = connect()
    listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    listener.cursor().execute("LISTEN p2")
    q("NOTIFY p2, 'one'")
    deadline = time.time() + 10
    while not listener.notifies and time.time() < deadline:
        if select.select([listener], [], [], 1) != ([], [], []):
            listener.poll()
    n = listener.notifies.pop(0)
    eq((n.channel, n.payload), ("p2", "one"))
    listener.close()


@check
def server_side_prepare():
    q("DROP TABLE IF EXISTS pr")
    q("CREATE TABLE pr (id int, v text)")
    q("PREPARE ins (int, text) AS INSERT INTO pr VALUES ($1, $2)")
    for i in range(5):
        q("EXECUTE ins (%s, %s)", [i, str(i)])
    eq(q("SELECT count(*) FROM pr"), [(5,)])
    q("DEALLOCATE ins")
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(cur, "INSERT INTO pr VALUES %s", [(10 + i, "x") for i in range(100)])
    eq(q("SELECT count(*) FROM pr"), [(105,)])


finish()
