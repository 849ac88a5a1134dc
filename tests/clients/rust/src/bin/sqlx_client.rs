//! sqlx (PostgreSQL, tokio) against the server the runner started. sqlx
//! prepares every query and reads binary results.

use basalt_client_suite::{check, env, eq, finish, rss_mb, CheckResult, STREAM_ROWS};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgSslMode};
use sqlx::{Connection, Executor, PgConnection, Row};

fn options() -> PgConnectOptions {
    PgConnectOptions::new()
        .host(&env("PGHOST"))
        .port(env("PGPORT").parse().expect("PGPORT"))
        .username(&env("PGUSER"))
        .password(&env("PGPASSWORD"))
        .database(&env("PGDATABASE"))
        .ssl_mode(PgSslMode::Disable)
}

fn code(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.to_string())
        .unwrap_or_else(|| format!("not a server error: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut db = PgConnection::connect_with(&options()).await.expect("connect");

    check("scram_login", async {
        let mut c = PgConnection::connect_with(&options()).await?;
        let u: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&mut c).await?;
        eq(u, env("PGUSER"), "user")
    })
    .await;

    check("md5_login", async {
        let o = options()
            .username(&env("CLIENT_MD5_USER"))
            .password(&env("CLIENT_MD5_PASSWORD"));
        let mut c = PgConnection::connect_with(&o).await?;
        let u: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&mut c).await?;
        eq(u, env("CLIENT_MD5_USER"), "user")
    })
    .await;

    check("tls_verify_full", async {
        let o = options()
            .host("localhost")
            .ssl_mode(PgSslMode::VerifyFull)
            .ssl_root_cert(env("CLIENT_SSLROOTCERT"));
        let mut c = PgConnection::connect_with(&o).await?;
        let v: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut c).await?;
        eq(v, 1, "value")
    })
    .await;

    check("types_binary_roundtrip", async {
        let u = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")?;
        let ts = chrono::DateTime::from_timestamp(1_600_000_000, 123_000).unwrap();
        let d = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let j = serde_json::json!({"a": [1, null]});
        let r = sqlx::query(
            "SELECT $1::bool, $2::int2, $3::int4, $4::int8, $5::float4, $6::float8, $7::text, \
             $8::bytea, $9::date, $10::timestamptz, $11::uuid, $12::jsonb, $13::int4[], $14::text[], \
             '2001-02-03 04:05:06.5'::timestamp, '13:45:06'::time, NULL::int",
        )
        .bind(true)
        .bind(-32768i16)
        .bind(2147483647i32)
        .bind(i64::MIN)
        .bind(1.5f32)
        .bind(-2.25e100f64)
        .bind("héllo")
        .bind(vec![0u8, 255])
        .bind(d)
        .bind(ts)
        .bind(u)
        .bind(&j)
        .bind(vec![1i32, 2, 3])
        .bind(vec!["a".to_string(), "b c".to_string()])
        .fetch_one(&mut db)
        .await?;
        eq(r.try_get::<bool, _>(0)?, true, "bool")?;
        eq(r.try_get::<i16, _>(1)?, -32768, "int2")?;
        eq(r.try_get::<i32, _>(2)?, 2147483647, "int4")?;
        eq(r.try_get::<i64, _>(3)?, i64::MIN, "int8")?;
        eq(r.try_get::<f32, _>(4)?, 1.5, "float4")?;
        eq(r.try_get::<f64, _>(5)?, -2.25e100, "float8")?;
        eq(r.try_get::<String, _>(6)?, "héllo".into(), "text")?;
        eq(r.try_get::<Vec<u8>, _>(7)?, vec![0, 255], "bytea")?;
        eq(r.try_get::<chrono::NaiveDate, _>(8)?, d, "date")?;
        eq(r.try_get::<chrono::DateTime<chrono::Utc>, _>(9)?, ts, "timestamptz")?;
        eq(r.try_get::<uuid::Uuid, _>(10)?, u, "uuid")?;
        eq(r.try_get::<serde_json::Value, _>(11)?, j, "jsonb")?;
        eq(r.try_get::<Vec<i32>, _>(12)?, vec![1, 2, 3], "int4[]")?;
        eq(
            r.try_get::<Vec<String>, _>(13)?,
            vec!["a".to_string(), "b c".to_string()],
            "text[]",
        )?;
        eq(
            r.try_get::<chrono::NaiveDateTime, _>(14)?,
            chrono::NaiveDate::from_ymd_opt(2001, 2, 3)
                .unwrap()
                .and_hms_milli_opt(4, 5, 6, 500)
                .unwrap(),
            "timestamp",
        )?;
        eq(
            r.try_get::<chrono::NaiveTime, _>(15)?,
            chrono::NaiveTime::from_hms_opt(13, 45, 6).unwrap(),
            "time",
        )?;
        eq(r.try_get::<Option<i32>, _>(16)?, None, "null")
    })
    .await;

    check("text_protocol_simple_query", async {
        // A query without arguments through the simple protocol (text).
        let rows = (&mut db)
            .fetch_all(sqlx::raw_sql("SELECT 1::int4 AS a, 'x'::text AS b; SELECT 2::int4"))
            .await?;
        eq(rows.len(), 2, "rows")?;
        eq(rows[0].try_get::<i32, _>("a")?, 1, "a")?;
        eq(rows[0].try_get::<String, _>("b")?, "x".into(), "b")?;
        eq(rows[1].try_get::<i32, _>(0)?, 2, "second statement")
    })
    .await;

    check("transactions_and_savepoints", async {
        sqlx::raw_sql("DROP TABLE IF EXISTS tx; CREATE TABLE tx (v int)")
            .execute(&mut db)
            .await?;
        let mut t = db.begin().await?;
        sqlx::query("INSERT INTO tx VALUES (1)").execute(&mut *t).await?;
        {
            let mut sp = t.begin().await?;
            sqlx::query("INSERT INTO tx VALUES (2)").execute(&mut *sp).await?;
            sp.rollback().await?;
        }
        {
            let mut sp = t.begin().await?;
            sqlx::query("INSERT INTO tx VALUES (3)").execute(&mut *sp).await?;
            sp.commit().await?;
        }
        t.commit().await?;
        let v: Vec<i32> = sqlx::query_scalar("SELECT v FROM tx ORDER BY v")
            .fetch_all(&mut db)
            .await?;
        eq(v, vec![1, 3], "rows")
    })
    .await;

    check("errors_carry_sqlstate", async {
        sqlx::raw_sql(
            "DROP TABLE IF EXISTS uq; CREATE TABLE uq (id int PRIMARY KEY); INSERT INTO uq VALUES (1)",
        )
        .execute(&mut db)
        .await?;
        for (sql, want) in [
            ("INSERT INTO uq VALUES (1)", "23505"),
            ("SELEC 1", "42601"),
            ("SELECT 1/0", "22012"),
            ("SELECT * FROM nowhere", "42P01"),
        ] {
            match sqlx::query(sql).execute(&mut db).await {
                Ok(_) => return Err(format!("{sql} succeeded").into()),
                Err(e) => eq(code(&e), want.to_string(), sql)?,
            }
            let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut db).await?;
            eq(one, 1, "usable")?;
        }
        let e = sqlx::query("INSERT INTO uq VALUES (1)")
            .execute(&mut db)
            .await
            .unwrap_err();
        let dbe = e.as_database_error().ok_or("not a server error")?;
        eq(dbe.constraint(), Some("uq_pkey"), "constraint")?;
        eq(dbe.table(), Some("uq"), "table")
    })
    .await;

    check("copy_in_and_out", async {
        sqlx::raw_sql("DROP TABLE IF EXISTS cp; CREATE TABLE cp (id int, name text)")
            .execute(&mut db)
            .await?;
        let mut cp = db.copy_in_raw("COPY cp FROM STDIN (FORMAT csv, NULL 'null')").await?;
        let mut data = String::new();
        for i in 0..1000 {
            data.push_str(&format!("{i},name {i}\n"));
        }
        data.push_str("1000,null\n");
        cp.send(data.as_bytes()).await?;
        eq(cp.finish().await?, 1001, "rows in")?;
        let out: Vec<bytes::Bytes> = db
            .copy_out_raw("COPY (SELECT * FROM cp WHERE id >= 999 ORDER BY id) TO STDOUT")
            .await?
            .try_collect()
            .await?;
        eq(
            String::from_utf8(out.concat())?,
            "999\tname 999\n1000\t\\N\n".into(),
            "text out",
        )
    })
    .await;

    check("cancel_is_57014", async {
        let mut c = PgConnection::connect_with(&options()).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut c).await?;
        let killer = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let mut k = PgConnection::connect_with(&options()).await?;
            sqlx::query_scalar::<_, bool>("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .fetch_one(&mut k)
                .await
        });
        let r = sqlx::query("SELECT pg_sleep(20)").execute(&mut c).await;
        eq(killer.await??, true, "pg_cancel_backend")?;
        match r {
            Ok(_) => return Err("not cancelled".into()),
            Err(e) => eq(code(&e), "57014".into(), "sqlstate")?,
        }
        let v: i32 = sqlx::query_scalar("SELECT 6").fetch_one(&mut c).await?;
        eq(v, 6, "usable")
    })
    .await;

    check("stream_million_rows", async {
        let before = rss_mb();
        let mut c = PgConnection::connect_with(&options()).await?;
        let mut rows = sqlx::query("SELECT g, 'row ' || g FROM generate_series(1, $1::int8) g")
            .bind(STREAM_ROWS)
            .fetch(&mut c);
        let (mut n, mut sum) = (0i64, 0i64);
        while let Some(r) = rows.try_next().await? {
            n += 1;
            sum += r.try_get::<i64, _>(0)?;
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

    check("listen_notify", async {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options())
            .await?;
        let mut l = PgListener::connect_with(&pool).await?;
        l.listen("sqlx_chan").await?;
        sqlx::query("SELECT pg_notify('sqlx_chan', 'hello')")
            .execute(&pool)
            .await?;
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), l.recv())
            .await
            .map_err(|_| "no notification")??;
        eq(n.channel(), "sqlx_chan", "channel")?;
        eq(n.payload(), "hello", "payload")
    })
    .await;

    check("pool_and_prepared_cache", async {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options())
            .await?;
        let mut sum = 0i64;
        for i in 0..200i64 {
            let v: i64 = sqlx::query_scalar("SELECT $1::int8 * 2")
                .bind(i)
                .fetch_one(&pool)
                .await?;
            sum += v;
        }
        eq(sum, 2 * (0..200).sum::<i64>(), "sum")
    })
    .await;

    finish()
}

#[allow(dead_code)]
fn _uses(_: CheckResult) {}
