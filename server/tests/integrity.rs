//! A byte flipped in a data file on disk: basalt_check_integrity() reports
//! the block, a read that meets it fails with XX001 naming the block and
//! file, and everything else keeps working.

mod common;

use basalt_sqllogic::client::{Client, Outcome};
use common::{Server, TempDir};

fn rows(c: &mut Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, (String, String)> {
    let mut out = Vec::new();
    for o in c.simple_query(sql).expect(sql) {
        match o {
            Outcome::Error(e) => return Err((e.code, e.message)),
            Outcome::Rows(r) => out = r,
            _ => {}
        }
    }
    Ok(out)
}

fn one(c: &mut Client, sql: &str) -> String {
    rows(c, sql).expect(sql)[0][0].clone().unwrap_or_default()
}

#[test]
fn flipped_byte_is_reported_and_contained() {
    let dir = TempDir::new("integrity");
    let mut srv = Server::start(&dir.0, &["-c", "autovacuum=off"]);
    let mut c = common::wire_client(srv.port);
    for sql in [
        "CREATE TABLE victim (id int PRIMARY KEY, pad text)",
        "INSERT INTO victim SELECT i, repeat('p', 100) FROM generate_series(1, 2000) i",
        "CREATE TABLE bystander (id int PRIMARY KEY)",
        "INSERT INTO bystander SELECT i FROM generate_series(1, 100) i",
        "UPDATE victim SET pad = 'short' WHERE id <= 10",
        "CHECKPOINT",
    ] {
        rows(&mut c, sql).expect(sql);
    }
    assert!(rows(&mut c, "SELECT * FROM basalt_check_integrity()")
        .unwrap()
        .is_empty());
    assert!(
        rows(&mut c, "SELECT * FROM basalt_check_integrity('victim')")
            .unwrap()
            .is_empty()
    );
    let filenode = one(
        &mut c,
        "SELECT relfilenode FROM pg_class WHERE relname = 'victim'",
    );
    drop(c);
    // After the CHECKPOINT every page is on disk: stop, then flip one byte
    // in the items of block 3.
    srv.kill();
    let path = dir.0.join("base").join(&filenode);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() >= 8192 * 5, "victim has {} bytes", bytes.len());
    bytes[8192 * 3 + 6000] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    srv.restart();
    let mut c = common::wire_client(srv.port);
    let found = rows(
        &mut c,
        "SELECT relation, kind, blkno, problem FROM basalt_check_integrity()",
    )
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0][0].as_deref(), Some("victim"));
    assert_eq!(found[0][1].as_deref(), Some("table"));
    assert_eq!(found[0][2].as_deref(), Some("3"));
    assert!(
        found[0][3]
            .as_deref()
            .unwrap()
            .contains("invalid page in block 3"),
        "{found:?}"
    );
    // A read that meets the page fails with data_corrupted, naming it.
    let (code, msg) = rows(&mut c, "SELECT count(*) FROM victim").unwrap_err();
    assert_eq!(code, "XX001");
    assert!(
        msg.contains(&format!("block 3 of relation base/{filenode}")),
        "{msg}"
    );
    // The connection, other rows reached by the index, and other tables work.
    assert_eq!(one(&mut c, "SELECT pad FROM victim WHERE id = 1"), "short");
    assert_eq!(one(&mut c, "SELECT count(*) FROM bystander"), "100");
    rows(&mut c, "INSERT INTO bystander VALUES (101)").unwrap();
    assert_eq!(one(&mut c, "SELECT count(*) FROM bystander"), "101");
    assert!(
        rows(&mut c, "SELECT * FROM basalt_check_integrity('bystander')")
            .unwrap()
            .is_empty()
    );
}
