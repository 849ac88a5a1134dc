//! tokio-postgres against the server the runner started.

use basalt_client_suite::{check, env, eq, finish, rss_mb, tls_config, CheckResult, STREAM_ROWS};
use futures_util::{pin_mut, SinkExt, StreamExt, TryStreamExt};
use tokio_postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutStream};
use tokio_postgres::types::Type;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, SimpleQueryMessage};

fn config() -> Config {
    let mut c = Config::new();
    c.host(env("PGHOST"))
        .port(env("PGPORT").parse().expect("PGPORT"))
        .user(env("PGUSER"))
        .password(env("PGPASSWORD"))
        .dbname(env("PGDATABASE"));
    c
}

async fn connect(c: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, conn) = c.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

fn code(e: &tokio_postgres::Error) -> String {
    e.code().map(|c| c.code().to_string()).unwrap_or_default()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let db = connect(&config()).await.expect("connect");

    check("scram_login", async {
        let c = connect(&config()).await?;
        let u: String = c.query_one("SELECT current_user::text", &[]).await?.get(0);
        eq(u, env("PGUSER"), "user")
    })
    .await;

    check("md5_login", async {
        let mut cfg = config();
        cfg.user(env("CLIENT_MD5_USER")).password(env("CLIENT_MD5_PASSWORD"));
        let c = connect(&cfg).await?;
        let u: String = c.query_one("SELECT current_user::text", &[]).await?.get(0);
        eq(u, env("CLIENT_MD5_USER"), "user")
    })
    .await;

    check("wrong_password_28P01", async {
        let mut cfg = config();
        cfg.password("wrong");
        match connect(&cfg).await {
            Ok(_) => Err("logged in".into()),
            Err(e) => eq(code(&e), "28P01".into(), "sqlstate"),
        }
    })
    .await;

    check("tls_verified", async {
        let mut cfg = config();
        cfg.host("localhost").ssl_mode(tokio_postgres::config::SslMode::Require);
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config());
        let (c, conn) = cfg.connect(tls).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let v: i32 = c.query_one("SELECT 1", &[]).await?.get(0);
        eq(v, 1, "value")
    })
    .await;

    check("types_binary", async {
        let r = db
            .query_one(
                "SELECT true, (-32768)::int2, 2147483647, (-9223372036854775808)::int8, 1.5::float4, \
                 -2.25e100::float8, 'héllo'::text, '\\x00ff10'::bytea, '2024-02-29'::date, \
                 '13:45:06.789'::time, '2001-02-03 04:05:06.123456'::timestamp, \
                 '2001-02-03 04:05:06+00'::timestamptz, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, \
                 '{\"a\": [1, null]}'::jsonb, '{1,2,3}'::int4[], '{a,\"b c\",NULL}'::text[], \
                 'ab'::varchar(5), NULL::int4",
                &[],
            )
            .await?;
        eq(r.get::<_, bool>(0), true, "bool")?;
        eq(r.get::<_, i16>(1), -32768, "int2")?;
        eq(r.get::<_, i32>(2), 2147483647, "int4")?;
        eq(r.get::<_, i64>(3), i64::MIN, "int8")?;
        eq(r.get::<_, f32>(4), 1.5, "float4")?;
        eq(r.get::<_, f64>(5), -2.25e100, "float8")?;
        eq(r.get::<_, String>(6), "héllo".into(), "text")?;
        eq(r.get::<_, Vec<u8>>(7), vec![0, 255, 16], "bytea")?;
        eq(
            r.get::<_, chrono::NaiveDate>(8),
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            "date",
        )?;
        eq(
            r.get::<_, chrono::NaiveTime>(9),
            chrono::NaiveTime::from_hms_milli_opt(13, 45, 6, 789).unwrap(),
            "time",
        )?;
        eq(
            r.get::<_, chrono::NaiveDateTime>(10),
            chrono::NaiveDate::from_ymd_opt(2001, 2, 3)
                .unwrap()
                .and_hms_micro_opt(4, 5, 6, 123456)
                .unwrap(),
            "timestamp",
        )?;
        eq(
            r.get::<_, chrono::DateTime<chrono::Utc>>(11).timestamp(),
            981173106,
            "timestamptz",
        )?;
        eq(
            r.get::<_, uuid::Uuid>(12).to_string(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into(),
            "uuid",
        )?;
        eq(
            r.get::<_, serde_json::Value>(13),
            serde_json::json!({"a": [1, null]}),
            "jsonb",
        )?;
        eq(r.get::<_, Vec<i32>>(14), vec![1, 2, 3], "int4[]")?;
        eq(
            r.get::<_, Vec<Option<String>>>(15),
            vec![Some("a".into()), Some("b c".into()), None],
            "text[]",
        )?;
        eq(r.get::<_, String>(16), "ab".into(), "varchar")?;
        eq(r.get::<_, Option<i32>>(17), None, "null")
    })
    .await;

    check("types_text_simple_query", async {
        let msgs = db
            .simple_query("SELECT 1.50::numeric, '1 day 02:00:00'::interval, '2001-02-03 04:05:06+00'::timestamptz AT TIME ZONE 'UTC', true, NULL::text")
            .await?;
        let row = msgs
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .ok_or("no row")?;
        eq(row.get(0), Some("1.50"), "numeric")?;
        eq(row.get(1), Some("1 day 02:00:00"), "interval")?;
        eq(row.get(2), Some("2001-02-03 04:05:06"), "timestamp")?;
        eq(row.get(3), Some("t"), "bool")?;
        eq(row.get(4), None, "null")
    })
    .await;

    check("parameters_roundtrip", async {
        let u = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")?;
        let j = serde_json::json!({"k": ["v"]});
        let ts = chrono::DateTime::from_timestamp(1_600_000_000, 123_000).unwrap();
        let r = db
            .query_one(
                "SELECT $1::int8, $2::text, $3::bytea, $4::uuid, $5::jsonb, $6::timestamptz, $7::float8, $8::int4[], $9::bool",
                &[&(1i64 << 40), &"x ✓", &vec![1u8, 2], &u, &j, &ts, &0.1f64, &vec![3i32, 4], &false],
            )
            .await?;
        eq(r.get::<_, i64>(0), 1 << 40, "int8")?;
        eq(r.get::<_, String>(1), "x ✓".into(), "text")?;
        eq(r.get::<_, Vec<u8>>(2), vec![1, 2], "bytea")?;
        eq(r.get::<_, uuid::Uuid>(3), u, "uuid")?;
        eq(r.get::<_, serde_json::Value>(4), j, "jsonb")?;
        eq(r.get::<_, chrono::DateTime<chrono::Utc>>(5), ts, "timestamptz")?;
        eq(r.get::<_, f64>(6), 0.1, "float8")?;
        eq(r.get::<_, Vec<i32>>(7), vec![3, 4], "int4[]")?;
        eq(r.get::<_, bool>(8), false, "bool")
    })
    .await;

    check("prepared_statements", async {
        db.batch_execute("DROP TABLE IF EXISTS prep; CREATE TABLE prep (id int PRIMARY KEY, name text)")
            .await?;
        let ins = db.prepare("INSERT INTO prep VALUES ($1, $2)").await?;
        eq(ins.params().to_vec(), vec![Type::INT4, Type::TEXT], "parameter types")?;
        for i in 0..50 {
            db.execute(&ins, &[&i, &format!("n{i}")]).await?;
        }
        let sel = db.prepare("SELECT name FROM prep WHERE id = $1").await?;
        eq(sel.columns()[0].name(), "name", "column")?;
        let n: String = db.query_one(&sel, &[&7i32]).await?.get(0);
        eq(n, "n7".into(), "row")
    })
    .await;

    check("transactions_and_savepoints", async {
        let mut c = connect(&config()).await?;
        c.batch_execute("DROP TABLE IF EXISTS tx; CREATE TABLE tx (v int)").await?;
        let mut t = c.transaction().await?;
        t.execute("INSERT INTO tx VALUES (1)", &[]).await?;
        {
            let sp = t.savepoint("s").await?;
            sp.execute("INSERT INTO tx VALUES (2)", &[]).await?;
            sp.rollback().await?;
        }
        {
            let sp = t.transaction().await?;
            sp.execute("INSERT INTO tx VALUES (3)", &[]).await?;
            sp.commit().await?;
        }
        t.commit().await?;
        let t = c.transaction().await?;
        t.execute("INSERT INTO tx VALUES (4)", &[]).await?;
        t.rollback().await?;
        let v: Vec<i32> = c
            .query("SELECT v FROM tx ORDER BY v", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        eq(v, vec![1, 3], "rows")
    })
    .await;

    check("errors_carry_sqlstate", async {
        db.batch_execute(
            "DROP TABLE IF EXISTS uq; CREATE TABLE uq (id int PRIMARY KEY); INSERT INTO uq VALUES (1)",
        )
        .await?;
        for (sql, want) in [
            ("INSERT INTO uq VALUES (1)", "23505"),
            ("SELEC 1", "42601"),
            ("SELECT 1/0", "22012"),
            ("SELECT * FROM nowhere", "42P01"),
        ] {
            match db.execute(sql, &[]).await {
                Ok(_) => return Err(format!("{sql} succeeded").into()),
                Err(e) => eq(code(&e), want.to_string(), sql)?,
            }
            let one: i32 = db.query_one("SELECT 1", &[]).await?.get(0);
            eq(one, 1, "usable")?;
        }
        let e = db.execute("INSERT INTO uq VALUES (1)", &[]).await.unwrap_err();
        let dbe = e.as_db_error().ok_or("not a server error")?;
        eq(dbe.constraint(), Some("uq_pkey"), "constraint")?;
        eq(dbe.table(), Some("uq"), "table")
    })
    .await;

    check("copy_text_csv_binary", async {
        db.batch_execute("DROP TABLE IF EXISTS cp; CREATE TABLE cp (id int, name text, amount float8)")
            .await?;
        let sink = db.copy_in("COPY cp FROM STDIN").await?;
        pin_mut!(sink);
        sink.send(bytes::Bytes::from_static(b"1\tone\t1.5\n2\t\\N\t\\N\n")).await?;
        eq(sink.finish().await?, 2, "text rows")?;
        let sink = db
            .copy_in("COPY cp FROM STDIN (FORMAT csv, HEADER, DELIMITER '|')")
            .await?;
        pin_mut!(sink);
        sink.send(bytes::Bytes::from_static(b"id|name|amount\n3|\"th|ree\"|3\n")).await?;
        eq(sink.finish().await?, 1, "csv rows")?;
        let sink = db.copy_in("COPY cp FROM STDIN (FORMAT binary)").await?;
        let w = BinaryCopyInWriter::new(sink, &[Type::INT4, Type::TEXT, Type::FLOAT8]);
        pin_mut!(w);
        for i in 10..1010i32 {
            w.as_mut()
                .write(&[&i, &format!("b{i}"), &(i as f64 / 2.0)])
                .await?;
        }
        eq(w.finish().await?, 1000, "binary rows")?;
        let n: i64 = db.query_one("SELECT count(*) FROM cp", &[]).await?.get(0);
        eq(n, 1003, "count")?;
        let out = db
            .copy_out("COPY (SELECT id, name FROM cp WHERE id <= 3 ORDER BY id) TO STDOUT (FORMAT csv)")
            .await?;
        let chunks: Vec<bytes::Bytes> = out.try_collect().await?;
        let text: Vec<u8> = chunks.concat();
        eq(
            String::from_utf8(text)?,
            "1,one\n2,\n3,th|ree\n".into(),
            "csv out",
        )?;
        let out = db
            .copy_out("COPY (SELECT id, amount FROM cp WHERE id BETWEEN 10 AND 12 ORDER BY id) TO STDOUT (FORMAT binary)")
            .await?;
        let rows = BinaryCopyOutStream::new(out, &[Type::INT4, Type::FLOAT8]);
        let rows: Vec<_> = rows.try_collect().await?;
        let got: Vec<(i32, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        eq(got, vec![(10, 5.0), (11, 5.5), (12, 6.0)], "binary out")
    })
    .await;

    check("cancel_is_57014", async {
        let c = connect(&config()).await?;
        let token = c.cancel_token();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            token.cancel_query(NoTls).await
        });
        let r = c.execute("SELECT pg_sleep(20)", &[]).await;
        canceller.await??;
        match r {
            Ok(_) => return Err("not cancelled".into()),
            Err(e) => eq(code(&e), "57014".into(), "sqlstate")?,
        }
        let v: i32 = c.query_one("SELECT 4", &[]).await?.get(0);
        eq(v, 4, "usable")
    })
    .await;

    check("stream_million_rows", async {
        let before = rss_mb();
        let c = connect(&config()).await?;
        let params: [i64; 1] = [STREAM_ROWS];
        let rows = c
            .query_raw("SELECT g, 'row ' || g FROM generate_series(1, $1::int8) g", params.iter())
            .await?;
        pin_mut!(rows);
        let (mut n, mut sum) = (0i64, 0i64);
        while let Some(r) = rows.next().await {
            let r = r?;
            n += 1;
            sum += r.get::<_, i64>(0);
        }
        eq(n, STREAM_ROWS, "rows")?;
        eq(sum, STREAM_ROWS * (STREAM_ROWS + 1) / 2, "sum")?;
        let grew = rss_mb() - before;
        if grew > 100.0 {
            return Err(format!("client memory grew {grew:.0} MB").into());
        }
        Ok(())
    })
    .await;

    check("stream_portal_row_limit", async {
        let mut c = connect(&config()).await?;
        let t = c.transaction().await?;
        let stmt = t
            .prepare("SELECT g FROM generate_series(1, 1000000) g")
            .await?;
        let portal = t.bind(&stmt, &[]).await?;
        let (mut n, mut batches) = (0usize, 0usize);
        loop {
            let rows = t.query_portal(&portal, 10000).await?;
            if rows.is_empty() {
                break;
            }
            n += rows.len();
            batches += 1;
        }
        t.commit().await?;
        eq(n, 1_000_000, "rows")?;
        eq(batches, 100, "batches")
    })
    .await;

    check("listen_notify", async {
        let (client, mut conn) = config().connect(NoTls).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
            while let Some(Ok(m)) = stream.next().await {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        client.batch_execute("LISTEN rust_chan").await?;
        db.batch_execute("NOTIFY rust_chan, 'hi'").await?;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let m = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .map_err(|_| "no notification")?;
            if let Some(AsyncMessage::Notification(n)) = m {
                eq(n.channel(), "rust_chan", "channel")?;
                eq(n.payload(), "hi", "payload")?;
                return Ok(());
            }
        }
    })
    .await;

    finish()
}

#[allow(dead_code)]
fn _uses(_: CheckResult) {}
