//! Sessions seen and controlled from outside, against the real binary:
//! cancel (wire CancelRequest and pg_cancel_backend), pg_terminate_backend,
//! idle_in_transaction_session_timeout, a client vanishing mid-transaction,
//! and what pg_stat_activity and pg_locks show while a session waits.

mod common;

use basalt_sqllogic::client::{Client, Outcome};
use common::{Server, TempDir};
use std::time::{Duration, Instant};

fn connect(port: u16) -> Client {
    common::wire_client(port)
}

/// The SQLSTATE of the first error, or "" when all went well.
fn code(c: &mut Client, sql: &str) -> String {
    match c.simple_query(sql) {
        Err(e) => format!("io: {e}"),
        Ok(out) => out
            .iter()
            .find_map(|o| match o {
                Outcome::Error(e) => Some(e.code.clone()),
                _ => None,
            })
            .unwrap_or_default(),
    }
}

fn value(c: &mut Client, sql: &str) -> Option<String> {
    match c.simple_query(sql).expect(sql).pop() {
        Some(Outcome::Rows(r)) => r.first().and_then(|row| row[0].clone()),
        other => panic!("{sql}: {other:?}"),
    }
}

/// Waits until `pred` holds (or panics after 10 s).
fn eventually(what: &str, mut pred: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !pred() {
        assert!(t0.elapsed() < Duration::from_secs(10), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn setup(port: u16) {
    let mut c = connect(port);
    assert_eq!(
        code(&mut c, "CREATE TABLE t (id int PRIMARY KEY, v int)"),
        ""
    );
    assert_eq!(code(&mut c, "INSERT INTO t VALUES (1, 0), (2, 0)"), "");
}

#[test]
fn cancel_stops_a_running_or_waiting_statement_and_the_connection_lives_on() {
    let dir = TempDir::new("cancel");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    setup(port);

    // A wire CancelRequest stops pg_sleep.
    let mut a = connect(port);
    a.send_query("SELECT pg_sleep(30)").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    a.cancel().unwrap();
    let t0 = Instant::now();
    let msgs = a.read_until_ready().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    let err = msgs.iter().find(|m| m.tag == b'E').expect("an error");
    let e = basalt_sqllogic::client::error_fields(&err.body);
    assert_eq!(e.code, "57014");
    assert_eq!(e.message, "canceling statement due to user request");
    assert_eq!(value(&mut a, "SELECT 1").as_deref(), Some("1"));

    // pg_cancel_backend stops a lock wait, seen first in the views.
    let mut holder = connect(port);
    assert_eq!(
        code(&mut holder, "BEGIN; UPDATE t SET v = 1 WHERE id = 1"),
        ""
    );
    let mut waiter = connect(port);
    let wpid = waiter.backend_pid();
    waiter
        .send_query("UPDATE t SET v = 2 WHERE id = 1")
        .unwrap();
    let mut obs = connect(port);
    eventually("the waiter shows as waiting on a lock", || {
        value(
            &mut obs,
            &format!("SELECT wait_event_type || '/' || wait_event || '/' || state FROM pg_stat_activity WHERE pid = {wpid}"),
        )
        .as_deref()
            == Some("Lock/transactionid/active")
    });
    assert_eq!(
        value(
            &mut obs,
            &format!("SELECT count(*) FROM pg_locks WHERE pid = {wpid} AND NOT granted AND locktype = 'transactionid'")
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        value(
            &mut obs,
            &format!("SELECT query FROM pg_stat_activity WHERE pid = {wpid}")
        )
        .as_deref(),
        Some("UPDATE t SET v = 2 WHERE id = 1")
    );
    assert_eq!(
        value(&mut obs, &format!("SELECT pg_cancel_backend({wpid})")).as_deref(),
        Some("t")
    );
    let msgs = waiter.read_until_ready().unwrap();
    let err = msgs.iter().find(|m| m.tag == b'E').expect("an error");
    assert_eq!(
        basalt_sqllogic::client::error_fields(&err.body).code,
        "57014"
    );
    assert_eq!(
        value(&mut waiter, "SELECT v FROM t WHERE id = 1").as_deref(),
        Some("0")
    );
    assert_eq!(code(&mut holder, "COMMIT"), "");
    assert_eq!(
        value(&mut waiter, "SELECT v FROM t WHERE id = 1").as_deref(),
        Some("1")
    );
}

#[test]
fn terminate_ends_the_session_and_releases_its_locks() {
    let dir = TempDir::new("terminate");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    setup(port);
    let mut victim = connect(port);
    let vpid = victim.backend_pid();
    assert_eq!(
        code(&mut victim, "BEGIN; UPDATE t SET v = 5 WHERE id = 1"),
        ""
    );
    let mut other = connect(port);
    other.send_query("UPDATE t SET v = 7 WHERE id = 1").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut admin = connect(port);
    assert_eq!(
        value(&mut admin, &format!("SELECT pg_terminate_backend({vpid})")).as_deref(),
        Some("t")
    );
    // The idle victim is told and disconnected; its update is rolled back
    // and the waiter goes on.
    let msgs = other.read_until_ready().unwrap();
    assert!(msgs.iter().all(|m| m.tag != b'E'));
    let m = victim.read().expect("a FATAL message");
    assert_eq!(m.tag, b'E');
    let e = basalt_sqllogic::client::error_fields(&m.body);
    assert_eq!(e.code, "57P01");
    assert!(victim.read().is_err(), "the connection is closed");
    assert_eq!(
        value(&mut admin, "SELECT v FROM t WHERE id = 1").as_deref(),
        Some("7")
    );
    eventually("the victim leaves pg_stat_activity", || {
        value(
            &mut admin,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {vpid}"),
        )
        .as_deref()
            == Some("0")
    });
}

#[test]
fn idle_in_transaction_timeout_and_vanished_clients_release_locks() {
    let dir = TempDir::new("idle");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    setup(port);

    let mut idle = connect(port);
    assert_eq!(
        code(
            &mut idle,
            "SET idle_in_transaction_session_timeout = '200ms'"
        ),
        ""
    );
    // Outside a transaction block, idling is fine.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        code(&mut idle, "BEGIN; UPDATE t SET v = 9 WHERE id = 2"),
        ""
    );
    std::thread::sleep(Duration::from_millis(600));
    let m = idle.read().expect("a FATAL message");
    let e = basalt_sqllogic::client::error_fields(&m.body);
    assert_eq!(e.code, "25P03");
    assert_eq!(
        e.message,
        "terminating connection due to idle-in-transaction timeout"
    );
    let mut c = connect(port);
    assert_eq!(code(&mut c, "SET lock_timeout = '2s'"), "");
    assert_eq!(code(&mut c, "UPDATE t SET v = 3 WHERE id = 2"), "");

    // A client that goes away in the middle of a transaction.
    let mut gone = connect(port);
    assert_eq!(
        code(&mut gone, "BEGIN; UPDATE t SET v = 4 WHERE id = 2"),
        ""
    );
    drop(gone);
    assert_eq!(code(&mut c, "UPDATE t SET v = 6 WHERE id = 2"), "");
    assert_eq!(
        value(&mut c, "SELECT v FROM t WHERE id = 2").as_deref(),
        Some("6")
    );
}

#[test]
fn statistics_views_count_live() {
    let dir = TempDir::new("stats");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    setup(port);
    let mut c = connect(port);
    let num = |c: &mut Client, sql: &str| -> f64 {
        value(c, sql).expect("a value").parse().expect("a number")
    };
    let db = "FROM pg_stat_database WHERE datname = current_database()";
    let commits0 = num(&mut c, &format!("SELECT xact_commit {db}"));
    let rollbacks0 = num(&mut c, &format!("SELECT xact_rollback {db}"));
    let wal0 = num(&mut c, "SELECT wal_bytes FROM pg_stat_wal");
    let hits0 = num(&mut c, "SELECT hits FROM basalt_buffer_pool");
    for i in 0..5 {
        assert_eq!(
            code(&mut c, &format!("INSERT INTO t VALUES ({}, 0)", 100 + i)),
            ""
        );
    }
    assert_eq!(code(&mut c, "BEGIN; UPDATE t SET v = 1; ROLLBACK"), "");
    assert!(num(&mut c, &format!("SELECT xact_commit {db}")) >= commits0 + 5.0);
    assert!(num(&mut c, &format!("SELECT xact_rollback {db}")) >= rollbacks0 + 1.0);
    assert!(num(&mut c, "SELECT wal_bytes FROM pg_stat_wal") > wal0);
    assert!(num(&mut c, "SELECT hits FROM basalt_buffer_pool") > hits0);
    assert!(num(&mut c, &format!("SELECT numbackends {db}")) >= 1.0);
    let ratio = num(&mut c, "SELECT hit_ratio FROM basalt_buffer_pool");
    assert!((0.0..=1.0).contains(&ratio));
    assert!(num(&mut c, "SELECT used_pages FROM basalt_buffer_pool") >= 1.0);
    let tbl = |c: &mut Client, col: &str| -> f64 {
        value(
            c,
            &format!("SELECT {col} FROM pg_stat_user_tables WHERE relname = 't'"),
        )
        .expect("t has a row")
        .parse()
        .expect("a number")
    };
    let seq0 = tbl(&mut c, "seq_scan");
    assert_eq!(code(&mut c, "SELECT count(*) FROM t"), "");
    assert_eq!(code(&mut c, "UPDATE t SET v = 3 WHERE id = 100"), "");
    assert_eq!(code(&mut c, "DELETE FROM t WHERE id = 101"), "");
    assert!(tbl(&mut c, "seq_scan") >= seq0 + 1.0);
    assert!(tbl(&mut c, "n_tup_ins") >= 7.0);
    assert!(tbl(&mut c, "n_tup_upd") >= 1.0);
    assert!(tbl(&mut c, "n_tup_del") >= 1.0);
    assert!(tbl(&mut c, "idx_scan") >= 2.0);
    assert_eq!(tbl(&mut c, "n_live_tup"), 6.0);
    let ix_scans: f64 = value(
        &mut c,
        "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 't_pkey'",
    )
    .expect("t_pkey has a row")
    .parse()
    .expect("a number");
    assert!(ix_scans >= 2.0);
    // I/O per table, checkpoints by kind, dead rows after an update, and
    // VACUUM's counters.
    let io: f64 = value(
        &mut c,
        "SELECT heap_blks_hit + heap_blks_read + idx_blks_hit FROM pg_statio_user_tables WHERE relname = 't'",
    )
    .expect("t has an I/O row")
    .parse()
    .expect("a number");
    assert!(io > 0.0);
    let req0: f64 = value(&mut c, "SELECT num_requested FROM pg_stat_checkpointer")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(code(&mut c, "CHECKPOINT"), "");
    let req1: f64 = value(&mut c, "SELECT checkpoints_req FROM pg_stat_bgwriter")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(req1, req0 + 1.0);
    assert!(tbl(&mut c, "n_dead_tup") >= 2.0);
    assert_eq!(code(&mut c, "VACUUM t"), "");
    assert_eq!(tbl(&mut c, "n_dead_tup"), 0.0);
    assert_eq!(tbl(&mut c, "vacuum_count"), 1.0);
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM pg_stat_progress_vacuum").as_deref(),
        Some("0")
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT setting FROM pg_settings WHERE name = 'autovacuum'"
        )
        .as_deref(),
        Some("on")
    );
    // basalt_health: an overall row and one per check.
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM basalt_health").as_deref(),
        Some("6")
    );
    let overall = value(
        &mut c,
        "SELECT status FROM basalt_health WHERE \"check\" = 'overall'",
    )
    .expect("overall");
    assert!(["healthy", "degraded", "unhealthy"].contains(&overall.as_str()));
    assert_eq!(
        value(
            &mut c,
            "SELECT status FROM basalt_health WHERE \"check\" = 'connections'"
        )
        .as_deref(),
        Some("healthy")
    );
    assert!(
        num(
            &mut c,
            "SELECT value::int FROM basalt_health WHERE \"check\" = 'connections'"
        ) >= 1.0
    );
    // A deadlock is counted.
    let d0 = num(&mut c, &format!("SELECT deadlocks {db}"));
    let mut a = connect(port);
    let mut b = connect(port);
    assert_eq!(
        code(
            &mut a,
            "SET deadlock_timeout = '20ms'; BEGIN; UPDATE t SET v = 1 WHERE id = 1"
        ),
        ""
    );
    assert_eq!(
        code(
            &mut b,
            "SET deadlock_timeout = '20ms'; BEGIN; UPDATE t SET v = 1 WHERE id = 2"
        ),
        ""
    );
    a.send_query("UPDATE t SET v = 2 WHERE id = 2").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let rb = code(&mut b, "UPDATE t SET v = 2 WHERE id = 1");
    let ra = a.read_until_ready().unwrap();
    let a_failed = ra.iter().any(|m| m.tag == b'E');
    assert!(
        rb == "40P01" || a_failed,
        "one of them is the deadlock victim"
    );
    let _ = code(&mut a, "ROLLBACK");
    let _ = code(&mut b, "ROLLBACK");
    assert!(num(&mut c, &format!("SELECT deadlocks {db}")) >= d0 + 1.0);
}

#[test]
fn temporary_tables_are_private_and_go_with_their_session() {
    let dir = TempDir::new("temp-tables");
    let mut srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    let mut a = connect(port);
    assert_eq!(code(&mut a, "CREATE TEMP TABLE scratch (x int)"), "");
    assert_eq!(code(&mut a, "INSERT INTO scratch VALUES (1), (2)"), "");
    assert_eq!(
        value(&mut a, "SELECT count(*) FROM scratch").as_deref(),
        Some("2")
    );

    // Another session does not find it by name.
    let mut b = connect(port);
    assert_eq!(code(&mut b, "SELECT * FROM scratch"), "42P01");
    assert_eq!(code(&mut b, "CREATE TEMP TABLE scratch (y text)"), "");
    assert_eq!(code(&mut b, "INSERT INTO scratch VALUES ('b')"), "");
    assert_eq!(
        value(&mut a, "SELECT count(*) FROM scratch").as_deref(),
        Some("2")
    );

    // When a session ends, its temporary tables and schema go.
    drop(a);
    eventually("a's temporary schema dropped", || {
        value(
            &mut b,
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pg_temp%'",
        )
        .as_deref()
            == Some("1")
    });

    // After a crash, the next start drops those left behind.
    srv.kill();
    srv.restart();
    let mut c = connect(srv.port);
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM pg_class WHERE relname = 'scratch'"
        )
        .as_deref(),
        Some("0")
    );
    assert_eq!(code(&mut c, "SELECT * FROM scratch"), "42P01");
}
