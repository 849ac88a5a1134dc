// node-postgres (pg) against the server the runner started, with pg-cursor
// for streaming and pg-copy-streams for COPY. Prints `ok <check>` or
// `FAIL <check>: <why>` per check.
'use strict';

const path = require('path');
const fs = require('fs');
const cache = process.env.BASALT_CLIENTS_CACHE || path.join(require('os').homedir(), '.cache', 'basalt-clients');
const mods = path.join(cache, 'node', 'node_modules');
const { Client, Pool } = require(path.join(mods, 'pg'));
const Cursor = require(path.join(mods, 'pg-cursor'));
const copyStreams = require(path.join(mods, 'pg-copy-streams'));
const { pipeline } = require('stream/promises');
const { Readable, Writable } = require('stream');
const assert = require('assert');

const base = {
  host: process.env.PGHOST,
  port: Number(process.env.PGPORT),
  user: process.env.PGUSER,
  password: process.env.PGPASSWORD,
  database: process.env.PGDATABASE,
  ssl: false,
};
const STREAM_ROWS = 1000000;
let failures = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${String(e && e.stack || e).split('\n').slice(0, 3).join(' | ')}`);
  }
}

async function connect(extra = {}) {
  const c = new Client({ ...base, ...extra });
  await c.connect();
  return c;
}

async function main() {
  const db = await connect();

  await check('scram_login', async () => {
    const c = await connect();
    assert.strictEqual((await c.query('SELECT current_user AS u')).rows[0].u, base.user);
    await c.end();
  });

  await check('md5_login', async () => {
    const c = await connect({ user: process.env.CLIENT_MD5_USER, password: process.env.CLIENT_MD5_PASSWORD });
    assert.strictEqual((await c.query('SELECT current_user AS u')).rows[0].u, process.env.CLIENT_MD5_USER);
    await c.end();
  });

  await check('wrong_password_28P01', async () => {
    try {
      await connect({ password: 'wrong' });
    } catch (e) {
      assert.strictEqual(e.code, '28P01');
      return;
    }
    throw new Error('logged in with a wrong password');
  });

  await check('tls_verified', async () => {
    const c = await connect({
      host: 'localhost',
      ssl: { ca: fs.readFileSync(process.env.CLIENT_SSLROOTCERT), servername: 'localhost' },
    });
    assert.strictEqual((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    await c.end();
  });

  await check('types_text', async () => {
    const r = await db.query(`SELECT true AS b, (-32768)::int2 AS i2, 2147483647 AS i4,
      9007199254740993::int8 AS i8, 1.5::float4 AS f4, 2.25::float8 AS f8,
      12345678901234567890.5::numeric AS n, 'héllo'::text AS t, 'ab'::char(4) AS c,
      '\\x00ff'::bytea AS by, '2024-02-29'::date AS d, '2001-02-03 04:05:06.5+00'::timestamptz AS tz,
      '1 day 02:00:00'::interval AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
      '{"a": [1, null]}'::jsonb AS jb, '[1,2]'::json AS j, '{1,2,3}'::int[] AS ia,
      '{a,"b c",NULL}'::text[] AS ta, NULL::int AS nul`);
    const row = r.rows[0];
    assert.strictEqual(row.b, true);
    assert.strictEqual(row.i2, -32768);
    assert.strictEqual(row.i4, 2147483647);
    assert.strictEqual(row.i8, '9007199254740993');
    assert.strictEqual(row.f4, 1.5);
    assert.strictEqual(row.f8, 2.25);
    assert.strictEqual(row.n, '12345678901234567890.5');
    assert.strictEqual(row.t, 'héllo');
    assert.strictEqual(row.c, 'ab  ');
    assert.deepStrictEqual(row.by, Buffer.from([0, 255]));
    assert.ok(row.d instanceof Date);
    assert.strictEqual(row.tz.toISOString(), '2001-02-03T04:05:06.500Z');
    assert.strictEqual(row.iv.days, 1);
    assert.strictEqual(row.iv.hours, 2);
    assert.strictEqual(row.u, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.deepStrictEqual(row.jb, { a: [1, null] });
    assert.deepStrictEqual(row.j, [1, 2]);
    assert.deepStrictEqual(row.ia, [1, 2, 3]);
    assert.deepStrictEqual(row.ta, ['a', 'b c', null]);
    assert.strictEqual(row.nul, null);
  });

  await check('parameters_roundtrip', async () => {
    const vals = [true, 42, '123456789012345', 3.25, '1.10', 'text ✓', Buffer.from([1, 2, 3]),
      new Date('2020-01-02T03:04:05.678Z'), { k: ['v'] }, [1, 2], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'];
    const r = await db.query(
      'SELECT $1::bool AS a, $2::int4 AS b, $3::int8 AS c, $4::float8 AS d, $5::numeric AS e, ' +
      '$6::text AS f, $7::bytea AS g, $8::timestamptz AS h, $9::jsonb AS i, $10::int[] AS j, $11::uuid AS k',
      vals);
    const row = r.rows[0];
    assert.deepStrictEqual([row.a, row.b, row.c, row.d, row.e, row.f], [true, 42, '123456789012345', 3.25, '1.10', 'text ✓']);
    assert.deepStrictEqual(row.g, Buffer.from([1, 2, 3]));
    assert.strictEqual(row.h.toISOString(), '2020-01-02T03:04:05.678Z');
    assert.deepStrictEqual(row.i, { k: ['v'] });
    assert.deepStrictEqual(row.j, [1, 2]);
    assert.strictEqual(row.k, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  });

  await check('types_binary_results', async () => {
    const r = await db.query({
      text: "SELECT 7::int4 AS i, 'x'::text AS t, 2.5::float8 AS f, true AS b",
      binary: true,
    });
    const row = r.rows[0];
    assert.strictEqual(row.i, 7);
    assert.strictEqual(row.t, 'x');
    assert.strictEqual(row.f, 2.5);
    assert.strictEqual(row.b, true);
  });

  await check('prepared_statements', async () => {
    await db.query('DROP TABLE IF EXISTS prep');
    await db.query('CREATE TABLE prep (id int PRIMARY KEY, name text)');
    for (let i = 0; i < 20; i++) {
      await db.query({ name: 'ins', text: 'INSERT INTO prep VALUES ($1, $2)', values: [i, `n${i}`] });
    }
    const r = await db.query({ name: 'sel', text: 'SELECT name FROM prep WHERE id = $1', values: [7] });
    assert.strictEqual(r.rows[0].name, 'n7');
    const r2 = await db.query({ name: 'sel', text: 'SELECT name FROM prep WHERE id = $1', values: [8] });
    assert.strictEqual(r2.rows[0].name, 'n8');
    const cnt = await db.query({ text: 'SELECT count(*)::int AS n FROM prep', rowMode: 'array' });
    assert.deepStrictEqual(cnt.rows, [[20]]);
  });

  await check('transactions_and_savepoints', async () => {
    await db.query('DROP TABLE IF EXISTS tx');
    await db.query('CREATE TABLE tx (v int)');
    await db.query('BEGIN');
    await db.query('INSERT INTO tx VALUES (1)');
    await db.query('SAVEPOINT s');
    await db.query('INSERT INTO tx VALUES (2)');
    await db.query('ROLLBACK TO SAVEPOINT s');
    await db.query('COMMIT');
    await db.query('BEGIN');
    await db.query('INSERT INTO tx VALUES (3)');
    await db.query('ROLLBACK');
    const r = await db.query('SELECT array_agg(v ORDER BY v) AS a FROM tx');
    assert.deepStrictEqual(r.rows[0].a, [1]);
  });

  await check('errors_carry_sqlstate', async () => {
    await db.query('DROP TABLE IF EXISTS uq');
    await db.query('CREATE TABLE uq (id int PRIMARY KEY)');
    await db.query('INSERT INTO uq VALUES (1)');
    const cases = [['INSERT INTO uq VALUES (1)', '23505'], ['SELEC 1', '42601'],
      ['SELECT 1/0', '22012'], ['SELECT * FROM nowhere', '42P01']];
    for (const [sql, code] of cases) {
      try {
        await db.query(sql);
        throw new Error(`${sql} succeeded`);
      } catch (e) {
        assert.strictEqual(e.code, code, sql);
      }
      assert.strictEqual((await db.query('SELECT 1 AS x')).rows[0].x, 1);
    }
    try {
      await db.query('INSERT INTO uq VALUES (1)');
    } catch (e) {
      assert.strictEqual(e.constraint, 'uq_pkey');
      assert.strictEqual(e.table, 'uq');
      assert.ok(e.detail.includes('already exists'));
    }
    await db.query('BEGIN');
    await db.query('SELECT 1/0').catch(() => {});
    await db.query('SELECT 1').then(() => { throw new Error('ran in a failed transaction'); },
      (e) => assert.strictEqual(e.code, '25P02'));
    await db.query('ROLLBACK');
  });

  await check('copy_in_and_out', async () => {
    await db.query('DROP TABLE IF EXISTS cp');
    await db.query('CREATE TABLE cp (id int, name text)');
    const lines = [];
    for (let i = 0; i < 1000; i++) lines.push(`${i}\tname ${i}\n`);
    lines.push('1000\t\\N\n');
    await pipeline(Readable.from(lines), db.query(copyStreams.from('COPY cp FROM STDIN')));
    await pipeline(Readable.from(['id;name\n', "2000;'semi;colon'\n"]),
      db.query(copyStreams.from("COPY cp FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';', QUOTE '''')")));
    const r = await db.query('SELECT count(*)::int AS n, count(name)::int AS named FROM cp');
    assert.deepStrictEqual(r.rows[0], { n: 1002, named: 1001 });
    let out = '';
    await pipeline(db.query(copyStreams.to('COPY (SELECT id, name FROM cp WHERE id IN (1, 1000, 2000) ORDER BY id) TO STDOUT WITH CSV HEADER')),
      new Writable({ write(chunk, _e, cb) { out += chunk.toString(); cb(); } }));
    assert.strictEqual(out, 'id,name\n1,name 1\n1000,\n2000,semi;colon\n', JSON.stringify(out));
  });

  await check('cancel_is_57014', async () => {
    const c = await connect();
    const q = c.query('SELECT pg_sleep(20)').then(() => null, (e) => e);
    await new Promise((r) => setTimeout(r, 500));
    const killer = await connect();
    const k = await killer.query('SELECT pg_cancel_backend($1) AS ok', [c.processID]);
    assert.strictEqual(k.rows[0].ok, true);
    await killer.end();
    const e = await q;
    assert.ok(e, 'not cancelled');
    assert.strictEqual(e.code, '57014', String(e));
    assert.strictEqual((await c.query('SELECT 2 AS x')).rows[0].x, 2);
    await c.end();
  });

  await check('query_timeout_cancels', async () => {
    const c = await connect({ statement_timeout: 300 });
    try {
      await c.query('SELECT pg_sleep(5)');
      throw new Error('not cancelled');
    } catch (e) {
      assert.strictEqual(e.code, '57014');
    }
    await c.end();
  });

  await check('stream_million_rows_cursor', async () => {
    const before = process.memoryUsage().rss;
    const c = await connect();
    const cursor = c.query(new Cursor('SELECT g FROM generate_series(1, $1::int) g', [STREAM_ROWS]));
    let n = 0;
    let sum = 0;
    for (;;) {
      const rows = await cursor.read(5000);
      if (rows.length === 0) break;
      n += rows.length;
      for (const r of rows) sum += r.g;
    }
    await cursor.close();
    await c.end();
    assert.strictEqual(n, STREAM_ROWS);
    assert.strictEqual(sum, STREAM_ROWS * (STREAM_ROWS + 1) / 2);
    const grew = (process.memoryUsage().rss - before) / 1048576;
    assert.ok(grew < 150, `client memory grew ${grew.toFixed(0)} MB`);
  });

  await check('listen_notify', async () => {
    const listener = await connect();
    const got = [];
    const done = new Promise((resolve) => {
      listener.on('notification', (m) => { got.push([m.channel, m.payload]); if (got.length === 2) resolve(); });
    });
    await listener.query('LISTEN node_chan');
    await db.query("NOTIFY node_chan, 'one'");
    await db.query("SELECT pg_notify('node_chan', 'two')");
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('no notification')), 10000))]);
    assert.deepStrictEqual(got, [['node_chan', 'one'], ['node_chan', 'two']]);
    await listener.end();
  });

  await check('pool_and_session_parameters', async () => {
    const pool = new Pool({ ...base, max: 4, application_name: 'node-suite' });
    const rs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => pool.query('SELECT $1::int AS i, current_setting(\'application_name\') AS app', [i])));
    assert.deepStrictEqual(rs.map((r) => r.rows[0].i), [1, 2, 3, 4, 5, 6]);
    assert.strictEqual(rs[0].rows[0].app, 'node-suite');
    await pool.end();
  });

  await db.end();
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL main: ${e.stack}`); process.exit(1); });
