"""psycopg 3 against the server the runner started."""

import threading
import time

import psycopg
from psycopg import errors, sql

from harness import (DB, HOST, MD5_PASSWORD, MD5_USER, PASSWORD, PORT, ROOTCERT, STREAM_ROWS,
                     TYPES, USER, as_json, check, eq, finish, max_rss_mb)


def connect(**kw):
    args = dict(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DB,
                sslmode="disable")
    args.update(kw)
    return psycopg.connect(**args)


conn = connect(autocommit=True)


@check
def scram_login():
    with connect() as c:
        eq(c.execute("SELECT current_user").fetchone()[0], USER)


@check
def md5_login():
    with connect(user=MD5_USER, password=MD5_PASSWORD) as c:
        eq(c.execute("SELECT current_user").fetchone()[0], MD5_USER)


@check
def wrong_password_is_28P01():
    try:
        connect(password="wrong")
    except psycopg.OperationalError as e:
        assert "password authentication failed" in str(e), e
        return
    raise AssertionError("logged in with a wrong password")


@check
def tls_verify_full():
    with connect(sslmode="verify-full", sslrootcert=ROOTCERT, host="localhost",
                 hostaddr="127.0.0.1") as c:
        assert c.pgconn.ssl_in_use
        eq(c.execute("SELECT 1").fetchone()[0], 1)


@check
def session_parameters():
    info = conn.info
    assert info.parameter_status("server_version")[:2].isdigit()
    eq(info.parameter_status("client_encoding"), "UTF8")
    eq(info.parameter_status("standard_conforming_strings"), "on")
    eq(info.parameter_status("integer_datetimes"), "on")
    conn.execute("SET TimeZone = 'Europe/Paris'")
    eq(info.parameter_status("TimeZone"), "Europe/Paris")
    conn.execute("SET DateStyle = 'ISO, DMY'")
    eq(info.parameter_status("DateStyle"), "ISO, DMY")
    conn.execute("SET application_name = 'psycopg-suite'")
    eq(info.parameter_status("application_name"), "psycopg-suite")
    conn.execute("SET IntervalStyle = 'postgres'")
    eq(conn.execute("SHOW IntervalStyle").fetchone()[0], "postgres")
    eq(conn.execute("SHOW extra_float_digits").fetchone()[0], "1")
    conn.execute("SET search_path = public")
    eq(conn.execute("SHOW search_path").fetchone()[0], "public")
    conn.execute("RESET ALL")


def roundtrip(binary):
    with conn.cursor(binary=binary) as cur:
        for ty, lit, want in TYPES:
            got = cur.execute(f"SELECT ({lit})::{ty}").fetchone()[0]
            if ty == "json":
                got = as_json(got)
            eq(got, want, f"{ty} result")
            if ty in ("json", "jsonb"):
                param = psycopg.types.json.Jsonb(want) if ty == "jsonb" else \
                    psycopg.types.json.Json(want)
            else:
                param = want
            mark = "%b" if binary else "%s"
            back = cur.execute(f"SELECT {mark}::{ty}", [param]).fetchone()[0]
            if ty == "json":
                back = as_json(back)
            eq(back, want, f"{ty} parameter")
        eq(cur.execute("SELECT NULL::int").fetchone()[0], None)


@check
def types_text():
    roundtrip(False)


@check
def types_binary():
    roundtrip(True)


@check
def prepared_statements():
    conn.execute("DROP TABLE IF EXISTS prep")
    conn.execute("CREATE TABLE prep (id int PRIMARY KEY, name text)")
    with conn.cursor() as cur:
        for i in range(20):
            cur.execute("INSERT INTO prep VALUES (%s, %s)", [i, f"n{i}"], prepare=True)
        for i in range(20):
            eq(cur.execute("SELECT name FROM prep WHERE id = %s", [i], prepare=True)
               .fetchone()[0], f"n{i}")
        cur.executemany("INSERT INTO prep VALUES (%s, %s)", [(100 + i, "m") for i in range(50)])
        eq(cur.execute("SELECT count(*) FROM prep").fetchone()[0], 70)


@check
def transactions_and_savepoints():
    conn.execute("DROP TABLE IF EXISTS tx")
    conn.execute("CREATE TABLE tx (v int)")
    with conn.transaction():
        conn.execute("INSERT INTO tx VALUES (1)")
        try:
            with conn.transaction():
                conn.execute("INSERT INTO tx VALUES (2)")
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        with conn.transaction():
            conn.execute("INSERT INTO tx VALUES (3)")
    try:
        with conn.transaction():
            conn.execute("INSERT INTO tx VALUES (4)")
            conn.execute("SELECT 1/0")
    except errors.DivisionByZero:
        pass
    eq([r[0] for r in conn.execute("SELECT v FROM tx ORDER BY v")], [1, 3])
    with connect() as c:
        c.execute("INSERT INTO tx VALUES (5)")
        c.rollback()
        c.execute("INSERT INTO tx VALUES (6)")
        c.commit()
    eq(conn.execute("SELECT count(*) FROM tx WHERE v IN (5, 6)").fetchone()[0], 1)


@check
def errors_carry_sqlstate():
    conn.execute("DROP TABLE IF EXISTS uq")
    conn.execute("CREATE TABLE uq (id int PRIMARY KEY)")
    conn.execute("INSERT INTO uq VALUES (1)")
    cases = [
        ("INSERT INTO uq VALUES (1)", errors.UniqueViolation, "23505"),
        ("SELEC 1", errors.SyntaxError, "42601"),
        ("SELECT * FROM no_such_table", errors.UndefinedTable, "42P01"),
        ("SELECT 1/0", errors.DivisionByZero, "22012"),
        ("SELECT 'x'::int", errors.InvalidTextRepresentation, "22P02"),
        ("INSERT INTO uq VALUES (NULL)", errors.NotNullViolation, "23502"),
    ]
    for q, cls, code in cases:
        try:
            conn.execute(q)
        except cls as e:
            eq(e.sqlstate, code, q)
            assert e.diag.message_primary, q
        else:
            raise AssertionError(f"{q} succeeded")
        eq(conn.execute("SELECT 42").fetchone()[0], 42)
    with connect() as c:
        try:
            c.execute("SELECT 1/0")
        except errors.DivisionByZero:
            pass
        try:
            c.execute("SELECT 1")
        except errors.InFailedSqlTransaction as e:
            eq(e.sqlstate, "25P02")
        c.rollback()
        eq(c.execute("SELECT 1").fetchone()[0], 1)


@check
def copy_text_csv_binary():
    conn.execute("DROP TABLE IF EXISTS cp")
    conn.execute("CREATE TABLE cp (id int, name text, amount numeric, at date)")
    with conn.cursor() as cur:
        with cur.copy("COPY cp FROM STDIN") as cp:
            cp.write("1\tone\t1.5\t2024-01-01\n2\t\\N\t\\N\t\\N\n")
        with cur.copy("COPY cp FROM STDIN (FORMAT csv, HEADER true, DELIMITER ';', "
                      "NULL 'nil', QUOTE '''')") as cp:
            cp.write("id;name;amount;at\n3;'three; with semi';3.25;2024-03-03\n4;nil;nil;nil\n")
        with cur.copy("COPY cp (id, name, amount, at) FROM STDIN (FORMAT binary)") as cp:
            cp.set_types(["int4", "text", "numeric", "date"])
            import datetime
            import decimal
            cp.write_row((5, "five", decimal.Decimal("5.5"), datetime.date(2024, 5, 5)))
            cp.write_row((6, None, None, None))
        eq(cur.execute("SELECT count(*), count(name), sum(amount) FROM cp").fetchone(),
           (6, 3, __import__("decimal").Decimal("10.25")))
        eq(cur.execute("SELECT name FROM cp WHERE id = 3").fetchone()[0], "three; with semi")
        out = b""
        with cur.copy("COPY (SELECT id, name FROM cp WHERE id <= 2 ORDER BY id) TO STDOUT") as cp:
            for block in cp:
                out += bytes(block)
        eq(out, b"1\tone\n2\t\\N\n")
        out = b""
        with cur.copy("COPY (SELECT id, name FROM cp WHERE id IN (1, 3) ORDER BY id) TO STDOUT "
                      "WITH (FORMAT csv, HEADER, FORCE_QUOTE *)") as cp:
            for block in cp:
                out += bytes(block)
        eq(out, b'id,name\n"1","one"\n"3","three; with semi"\n')
        with cur.copy("COPY (SELECT id, amount FROM cp WHERE id = 5) TO STDOUT "
                      "(FORMAT binary)") as cp:
            cp.set_types(["int4", "numeric"])
            rows = list(cp.rows())
        eq(rows, [(5, __import__("decimal").Decimal("5.5"))])


@check
def cancel_is_57014():
    with connect() as c:
        def later():
            time.sleep(0.5)
            c.cancel()
        threading.Thread(target=later).start()
        t0 = time.time()
        try:
            c.execute("SELECT pg_sleep(20)")
        except errors.QueryCanceled as e:
            eq(e.sqlstate, "57014")
        else:
            raise AssertionError("not cancelled")
        assert time.time() - t0 < 10
        c.rollback()
        eq(c.execute("SELECT 7").fetchone()[0], 7)


@check
def stream_million_rows_server_cursor():
    before = max_rss_mb()
    n = total = 0
    with connect() as c:
        with c.cursor(name="big") as cur:
            cur.itersize = 5000
            cur.execute("SELECT g, 'row ' || g FROM generate_series(1, %s) g", [STREAM_ROWS])
            for row in cur:
                n += 1
                total += row[0]
    eq(n, STREAM_ROWS)
    eq(total, STREAM_ROWS * (STREAM_ROWS + 1) // 2)
    grew = max_rss_mb() - before
    assert grew < 100, f"client memory grew {grew:.0f} MB"


@check
def stream_million_rows_single_row_mode():
    n = 0
    with connect() as c:
        with c.cursor() as cur:
            for row in cur.stream("SELECT g FROM generate_series(1, %s) g", [STREAM_ROWS]):
                n += 1
    eq(n, STREAM_ROWS)


@check
def listen_notify():
    with connect(autocommit=True) as listener, connect(autocommit=True) as sender:
        listener.execute("LISTEN suite_channel")
        sender.execute("NOTIFY suite_channel, 'hello'")
        sender.execute("SELECT pg_notify('suite_channel', 'second')")
        got = []
        for n in listener.notifies(timeout=10, stop_after=2):
            got.append((n.channel, n.payload, n.pid))
        spid = sender.info.backend_pid
        eq(got, [("suite_channel", "hello", spid), ("suite_channel", "second", spid)])


@check
def listen_notify_over_tls():
    tls = dict(sslmode="verify-full", sslrootcert=ROOTCERT, host="localhost", hostaddr="127.0.0.1",
               autocommit=True)
    with connect(**tls) as listener, connect(autocommit=True) as sender:
        assert listener.pgconn.ssl_in_use
        listener.execute("LISTEN tls_channel")

        def later():
            time.sleep(0.3)
            sender.execute("NOTIFY tls_channel, 'idle delivery'")
        threading.Thread(target=later).start()
        got = [(n.channel, n.payload) for n in listener.notifies(timeout=10, stop_after=1)]
        eq(got, [("tls_channel", "idle delivery")])
        eq(listener.execute("SELECT 1").fetchone()[0], 1)


@check
def information_schema():
    conn.execute("DROP TABLE IF EXISTS isc")
    conn.execute("CREATE TABLE isc (id serial PRIMARY KEY, label varchar(20) NOT NULL)")
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable, character_maximum_length "
        "FROM information_schema.columns WHERE table_name = 'isc' ORDER BY ordinal_position"
    ).fetchall()
    eq(rows, [("id", "integer", "NO", None), ("label", "character varying", "NO", 20)])
    eq(conn.execute("SELECT constraint_type FROM information_schema.table_constraints "
                    "WHERE table_name = 'isc' AND constraint_type = 'PRIMARY KEY'").fetchall(),
       [("PRIMARY KEY",)])
    q = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("isc"))
    eq(conn.execute(q).fetchone()[0], 0)


finish()
