//! Sequences against the real binary: values handed out before a SIGKILL
//! (committed in rows, or returned to a rolled-back transaction) are never
//! handed out again after recovery, also across a checkpoint; setval and
//! serial columns survive a restart.

mod common;

use common::{have, Server, TempDir};

#[test]
fn sequence_values_never_repeat_after_sigkill() {
    if !have("psql") {
        eprintln!("psql not installed; skipping sequence test");
        return;
    }
    let dir = TempDir::new("sequences");
    let mut server = Server::start(&dir.0.join("data"), &[]);
    server
        .psql("CREATE TABLE items (id serial PRIMARY KEY, v text); CREATE SEQUENCE s INCREMENT BY 3 START 100")
        .unwrap();
    let mut seen: Vec<i64> = Vec::new();
    for round in 0..3 {
        // Rows that commit, a value lost in an aborted transaction, and
        // values of the free-standing sequence.
        let ids = server
            .psql("INSERT INTO items (v) SELECT 'x' FROM generate_series(1, 50) RETURNING id")
            .unwrap();
        seen.extend(ids.lines().map(|l| l.parse::<i64>().unwrap()));
        server
            .psql("BEGIN; INSERT INTO items (v) VALUES ('lost'); ROLLBACK")
            .unwrap();
        let vals = server
            .psql("SELECT nextval('s') FROM generate_series(1, 40)")
            .unwrap();
        let vals: Vec<i64> = vals.lines().map(|l| l.parse().unwrap()).collect();
        assert!(vals.windows(2).all(|w| w[1] == w[0] + 3), "{vals:?}");
        seen.extend(vals.iter().map(|v| -v));
        if round == 1 {
            server.psql("CHECKPOINT").unwrap();
        }
        server.kill();
        server.restart();
        let next_id: i64 = server
            .psql("INSERT INTO items (v) VALUES ('after') RETURNING id")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let max_id = seen.iter().copied().filter(|v| *v > 0).max().unwrap();
        assert!(
            next_id > max_id + 1,
            "id {next_id} after {max_id} (and one rolled back)"
        );
        seen.push(next_id);
        let next_s: i64 = server
            .psql("SELECT nextval('s')")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let max_s = -seen.iter().copied().filter(|v| *v < 0).min().unwrap();
        assert!(next_s > max_s, "nextval {next_s} after {max_s}");
        assert_eq!((next_s - 100) % 3, 0);
        seen.push(-next_s);
    }
    // Every committed row is there once.
    let count: i64 = server
        .psql("SELECT count(*) FROM items")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(count, 3 * 51);
    // setval survives a crash too.
    server.psql("SELECT setval('s', 5000)").unwrap();
    server.kill();
    server.restart();
    assert_eq!(server.psql("SELECT nextval('s')").unwrap().trim(), "5003");
    let e = server.psql("SELECT currval('items_id_seq')").unwrap_err();
    assert!(e.contains("not yet defined in this session"), "{e}");
}
