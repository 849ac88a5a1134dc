"""asyncpg against the server the runner started. asyncpg prepares every
statement and reads results in binary; it streams with portals and row
limits (cursors), copies in binary, and reads types from pg_type."""

import asyncio
import ssl

import asyncpg

from harness import (DB, HOST, MD5_PASSWORD, MD5_USER, PASSWORD, PORT, ROOTCERT, STREAM_ROWS,
                     TYPES, USER, as_json, check, eq, finish, max_rss_mb)

loop = asyncio.new_event_loop()


def run(coro):
    return loop.run_until_complete(asyncio.wait_for(coro, 120))


async def connect(**kw):
    args = dict(host=HOST, port=PORT, user=USER, password=PASSWORD, database=DB, ssl=False)
    args.update(kw)
    return await asyncpg.connect(**args)


conn = run(connect())


@check
def scram_login():
    async def go():
        c = await connect()
        eq(await c.fetchval("SELECT current_user"), USER)
        await c.close()
    run(go())


@check
def md5_login():
    async def go():
        c = await connect(user=MD5_USER, password=MD5_PASSWORD)
        eq(await c.fetchval("SELECT current_user"), MD5_USER)
        await c.close()
    run(go())


@check
def wrong_password():
    async def go():
        try:
            await connect(password="nope")
        except asyncpg.InvalidPasswordError as e:
            eq(e.sqlstate, "28P01")
            return
        raise AssertionError("logged in")
    run(go())


@check
def tls_verified():
    async def go():
        ctx = ssl.create_default_context(cafile=ROOTCERT)
        c = await connect(ssl=ctx, host="localhost")
        eq(await c.fetchval("SELECT 1"), 1)
        await c.close()
    run(go())


@check
def types_binary_roundtrip():
    async def go():
        for ty, lit, want in TYPES:
            got = await conn.fetchval(f"SELECT ({lit})::{ty}")
            if ty in ("json", "jsonb"):
                got = as_json(got)
            eq(got, want, f"{ty} result")
            param = want
            if ty in ("json", "jsonb"):
                import json
                param = json.dumps(want)
            back = await conn.fetchval(f"SELECT $1::{ty}", param)
            if ty in ("json", "jsonb"):
                back = as_json(back)
            eq(back, want, f"{ty} parameter")
        eq(await conn.fetchval("SELECT NULL::int"), None)
    run(go())


@check
def types_text_codec():
    async def go():
        c = await connect()
        # Text format for numeric and uuid, as an application may choose.
        await c.set_type_codec("numeric", encoder=str, decoder=str, schema="pg_catalog",
                               format="text")
        eq(await c.fetchval("SELECT 1.50::numeric"), "1.50")
        eq(await c.fetchval("SELECT $1::numeric + 1", "2.25"), "3.25")
        await c.close()
    run(go())


@check
def prepared_statements():
    async def go():
        await conn.execute("DROP TABLE IF EXISTS prep")
        await conn.execute("CREATE TABLE prep (id int PRIMARY KEY, name text)")
        ins = await conn.prepare("INSERT INTO prep VALUES ($1, $2)")
        for i in range(20):
            await ins.fetch(i, f"n{i}")
        sel = await conn.prepare("SELECT name FROM prep WHERE id = $1")
        eq([a.name for a in sel.get_attributes()], ["name"])
        eq(await sel.fetchval(7), "n7")
        await conn.executemany("INSERT INTO prep VALUES ($1, $2)", [(100 + i, "m") for i in range(50)])
        eq(await conn.fetchval("SELECT count(*) FROM prep"), 70)
    run(go())


@check
def transactions_and_savepoints():
    async def go():
        await conn.execute("DROP TABLE IF EXISTS tx")
        await conn.execute("CREATE TABLE tx (v int)")
        async with conn.transaction():
            await conn.execute("INSERT INTO tx VALUES (1)")
            try:
                async with conn.transaction():
                    await conn.execute("INSERT INTO tx VALUES (2)")
                    raise RuntimeError("undo")
            except RuntimeError:
                pass
        try:
            async with conn.transaction(isolation="serializable"):
                await conn.execute("INSERT INTO tx VALUES (3)")
                await conn.execute("SELECT 1/0")
        except asyncpg.DivisionByZeroError:
            pass
        eq([r["v"] for r in await conn.fetch("SELECT v FROM tx ORDER BY v")], [1])
    run(go())


@check
def errors_carry_sqlstate():
    async def go():
        await conn.execute("DROP TABLE IF EXISTS uq")
        await conn.execute("CREATE TABLE uq (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO uq VALUES (1)")
        for sql, cls in [("INSERT INTO uq VALUES (1)", asyncpg.UniqueViolationError),
                         ("SELEC 1", asyncpg.PostgresSyntaxError),
                         ("SELECT 1/0", asyncpg.DivisionByZeroError),
                         ("SELECT * FROM nowhere", asyncpg.UndefinedTableError)]:
            try:
                await conn.execute(sql)
            except cls:
                pass
            else:
                raise AssertionError(sql)
            eq(await conn.fetchval("SELECT 5"), 5)
        try:
            await conn.execute("INSERT INTO uq VALUES (1)")
        except asyncpg.UniqueViolationError as e:
            eq(e.sqlstate, "23505")
            eq(e.constraint_name, "uq_pkey")
            eq(e.table_name, "uq")
    run(go())


@check
def copy_binary_in_and_out():
    async def go():
        await conn.execute("DROP TABLE IF EXISTS cp")
        await conn.execute("CREATE TABLE cp (id int, name text, amount float8)")
        n = await conn.copy_records_to_table(
            "cp", records=[(i, f"r{i}", i / 4) for i in range(1000)] + [(1000, None, None)])
        eq(n, "COPY 1001")
        eq(await conn.fetchval("SELECT sum(id) FROM cp"), sum(range(1001)))
        import io
        buf = io.BytesIO()
        await conn.copy_from_query("SELECT id, name FROM cp WHERE id < 3 ORDER BY id",
                                   output=buf, format="csv", header=True)
        eq(buf.getvalue(), b"id,name\n0,r0\n1,r1\n2,r2\n")
        buf = io.BytesIO(b"2000\tt\t1.5\n2001\t\\N\t\\N\n")
        await conn.copy_to_table("cp", source=buf)
        eq(await conn.fetchval("SELECT count(*) FROM cp"), 1003)
        buf = io.BytesIO(b"x;y;z\n3000;'semi;colon';2\n")
        await conn.copy_to_table("cp", source=buf, format="csv", header=True, delimiter=";",
                                 quote="'")
        eq(await conn.fetchval("SELECT name FROM cp WHERE id = 3000"), "semi;colon")
    run(go())


@check
def cancel_is_57014():
    async def go():
        c = await connect()
        pid = await c.fetchval("SELECT pg_backend_pid()")
        task = loop.create_task(c.fetchval("SELECT pg_sleep(20)"))
        await asyncio.sleep(0.5)
        eq(await conn.fetchval("SELECT pg_cancel_backend($1)", pid), True)
        try:
            await task
        except asyncpg.QueryCanceledError as e:
            eq(e.sqlstate, "57014")
        else:
            raise AssertionError("not cancelled")
        # asyncpg's own timeout sends a CancelRequest too.
        try:
            await c.execute("SELECT pg_sleep(20)", timeout=0.5)
        except asyncio.TimeoutError:
            pass
        eq(await c.fetchval("SELECT 9"), 9)
        await c.close()
    run(go())


@check
def stream_million_rows_cursor():
    async def go():
        before = max_rss_mb()
        c = await connect()
        n = total = 0
        async with c.transaction():
            async for r in c.cursor("SELECT g FROM generate_series(1, $1::int) g", STREAM_ROWS,
                                    prefetch=5000):
                n += 1
                total += r[0]
        eq(n, STREAM_ROWS)
        eq(total, STREAM_ROWS * (STREAM_ROWS + 1) // 2)
        grew = max_rss_mb() - before
        assert grew < 100, f"client memory grew {grew:.0f} MB"
        await c.close()
    run(go())


@check
def listen_notify():
    async def go():
        got = asyncio.Queue()
        listener = await connect()
        await listener.add_listener("apg", lambda c, pid, ch, payload: got.put_nowait((ch, payload)))
        await conn.execute("NOTIFY apg, 'hi'")
        await conn.execute("SELECT pg_notify('apg', 'there')")
        eq(await asyncio.wait_for(got.get(), 10), ("apg", "hi"))
        eq(await asyncio.wait_for(got.get(), 10), ("apg", "there"))
        await listener.close()
    run(go())


@check
def introspected_types():
    async def go():
        await conn.execute("DROP TABLE IF EXISTS en")
        await conn.execute("DROP TYPE IF EXISTS mood")
        await conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        await conn.execute("CREATE TABLE en (m mood, tags text[])")
        await conn.execute("INSERT INTO en VALUES ($1, $2)", "happy", ["a", "b"])
        r = await conn.fetchrow("SELECT m, tags FROM en")
        eq((r["m"], r["tags"]), ("happy", ["a", "b"]))
    run(go())


finish()
