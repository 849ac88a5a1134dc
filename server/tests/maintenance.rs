//! Maintenance against the real binary: autovacuum keeps a table under
//! update churn from growing (and without it the table grows), VACUUM runs
//! beside concurrent writers without losing or duplicating a row, and
//! pruned and vacuumed pages survive a crash (redo).

mod common;

use basalt_sqllogic::client::{Client, Outcome};
use common::{Server, TempDir};
use std::time::{Duration, Instant};

fn run(c: &mut Client, sql: &str) {
    for o in c.simple_query(sql).expect(sql) {
        if let Outcome::Error(e) = o {
            panic!("{sql}: {} {}", e.code, e.message);
        }
    }
}

fn value(c: &mut Client, sql: &str) -> String {
    match c.simple_query(sql).expect(sql).pop() {
        Some(Outcome::Rows(r)) => r[0][0].clone().unwrap_or_default(),
        other => panic!("{sql}: {other:?}"),
    }
}

fn int(c: &mut Client, sql: &str) -> i64 {
    value(c, sql).parse().expect("an integer")
}

/// Rounds of updates to every row of a 2,000-row table; returns the
/// table's plus its index's size after each round.
fn churn(c: &mut Client, rounds: usize, pause: Duration) -> Vec<i64> {
    let mut sizes = Vec::new();
    for r in 0..rounds {
        for chunk in 0..10 {
            run(
                c,
                &format!(
                    "UPDATE churn SET v = v + 1, pad = repeat('x', {}) WHERE id % 10 = {chunk}",
                    50 + r % 7
                ),
            );
        }
        std::thread::sleep(pause);
        sizes.push(int(c, "SELECT pg_total_relation_size('churn')"));
    }
    sizes
}

fn setup(c: &mut Client) {
    run(
        c,
        "CREATE TABLE churn (id int PRIMARY KEY, v int, pad text)",
    );
    run(
        c,
        "INSERT INTO churn SELECT i, 0, repeat('x', 50) FROM generate_series(1, 2000) i",
    );
}

#[test]
fn autovacuum_bounds_a_churning_table() {
    let dir = TempDir::new("autovacuum-on");
    let srv = Server::start(
        &dir.0,
        &[
            "-c",
            "autovacuum_naptime=1s",
            "-c",
            "autovacuum_vacuum_scale_factor=0.05",
        ],
    );
    let mut c = common::wire_client(srv.port);
    setup(&mut c);
    let sizes = churn(&mut c, 24, Duration::from_millis(300));
    eprintln!("sizes with autovacuum: {sizes:?}");
    // The size levels off: over the last third it stays within 10% of the
    // peak of the first two thirds (an index page split or two may land
    // between vacuums). Without autovacuum those 8 rounds add over 40%.
    let early = *sizes[..16].iter().max().unwrap();
    let late = *sizes[16..].iter().max().unwrap();
    assert!(late * 10 <= early * 11, "kept growing: {sizes:?}");
    assert!(
        int(
            &mut c,
            "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'churn'"
        ) > 0
    );
    assert_eq!(
        value(&mut c, "SELECT last_autovacuum IS NOT NULL AND last_autoanalyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'churn'"),
        "t"
    );
    assert_eq!(int(&mut c, "SELECT count(*) FROM churn"), 2000);
    assert_eq!(int(&mut c, "SELECT sum(v) FROM churn"), 24 * 2000);
    assert_eq!(
        int(
            &mut c,
            "SELECT count(*) FROM pg_stats WHERE tablename = 'churn'"
        ),
        3
    );
}

#[test]
fn without_autovacuum_the_table_grows_and_vacuum_full_shrinks_it() {
    let dir = TempDir::new("autovacuum-off");
    let srv = Server::start(&dir.0, &["-c", "autovacuum=off"]);
    let mut c = common::wire_client(srv.port);
    setup(&mut c);
    assert_eq!(value(&mut c, "SHOW autovacuum"), "off");
    let sizes = churn(&mut c, 12, Duration::ZERO);
    eprintln!("sizes without autovacuum: {sizes:?}");
    assert!(sizes[11] > sizes[3], "did not grow: {sizes:?}");
    assert_eq!(
        int(
            &mut c,
            "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'churn'"
        ),
        0
    );
    run(&mut c, "VACUUM FULL churn");
    let after = int(&mut c, "SELECT pg_total_relation_size('churn')");
    assert!(after < sizes[11], "{after} vs {sizes:?}");
    assert_eq!(int(&mut c, "SELECT sum(v) FROM churn"), 12 * 2000);
    assert_eq!(int(&mut c, "SELECT count(*) FROM churn WHERE id = 1777"), 1);
}

/// VACUUM while writers update and insert: every row is found once, by a
/// sequential scan and by the index, and a crash right after recovers it.
#[test]
fn vacuum_beside_writers_then_crash() {
    let dir = TempDir::new("vacuum-concurrent");
    let mut srv = Server::start(&dir.0, &["-c", "autovacuum=off"]);
    let mut c = common::wire_client(srv.port);
    setup(&mut c);
    let port = srv.port;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = common::wire_client(port);
                let t0 = Instant::now();
                let mut n = 0;
                while t0.elapsed() < Duration::from_secs(4) {
                    run(
                        &mut c,
                        &format!("UPDATE churn SET v = v + 1 WHERE id % 2 = {w}"),
                    );
                    run(
                        &mut c,
                        &format!(
                            "INSERT INTO churn VALUES ({}, 0, 'new')",
                            10_000 + w * 100_000 + n
                        ),
                    );
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut vacuums = 0;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(4) {
        run(&mut c, "VACUUM churn");
        vacuums += 1;
        // Each row once, by either path.
        assert_eq!(
            int(&mut c, "SELECT count(*) - count(DISTINCT id) FROM churn"),
            0
        );
    }
    let inserted: i64 = writers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(vacuums > 1);
    let total = 2000 + inserted;
    assert_eq!(int(&mut c, "SELECT count(*) FROM churn"), total);
    assert_eq!(
        int(&mut c, "SELECT count(*) FROM churn WHERE id > 0"),
        total
    );
    for id in [1, 2, 1999, 2000] {
        assert_eq!(
            int(
                &mut c,
                &format!("SELECT count(*) FROM churn WHERE id = {id}")
            ),
            1
        );
    }
    run(&mut c, "VACUUM churn");
    let sum = int(&mut c, "SELECT sum(v) FROM churn");
    drop(c);
    srv.kill();
    srv.restart();
    let mut c = common::wire_client(srv.port);
    assert_eq!(int(&mut c, "SELECT count(*) FROM churn"), total);
    assert_eq!(int(&mut c, "SELECT sum(v) FROM churn"), sum);
    assert_eq!(int(&mut c, "SELECT count(*) FROM churn WHERE id = 2000"), 1);
}
