//! Several databases in one server, against the real binary: each session
//! sees its own database's objects; CREATE/ALTER/DROP DATABASE with the
//! connections they affect; databases and their rows survive a crash.

mod common;

use basalt_sqllogic::client::{Client, Outcome};
use common::{Server, TempDir};
use std::time::{Duration, Instant};

fn connect_to(port: u16, db: &str) -> std::io::Result<Client> {
    Client::connect("127.0.0.1", port, "postgres", db, None)
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

fn values(c: &mut Client, sql: &str) -> Vec<String> {
    match c.simple_query(sql).expect(sql).pop() {
        Some(Outcome::Rows(r)) => r
            .into_iter()
            .map(|row| row[0].clone().unwrap_or_default())
            .collect(),
        other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn databases_keep_their_objects_apart_and_survive_a_crash() {
    let dir = TempDir::new("databases");
    let mut srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    let mut pg = common::wire_client(port);
    assert_eq!(
        code(&mut pg, "CREATE TABLE t (id int PRIMARY KEY, v text)"),
        ""
    );
    assert_eq!(code(&mut pg, "INSERT INTO t VALUES (1, 'in postgres')"), "");
    assert_eq!(code(&mut pg, "CREATE DATABASE app"), "");
    assert_eq!(code(&mut pg, "CREATE DATABASE app"), "42P04");
    assert_eq!(code(&mut pg, "BEGIN; CREATE DATABASE other"), "25001");
    assert_eq!(code(&mut pg, "ROLLBACK"), "");

    // The same names in another database are other objects.
    let mut app = connect_to(port, "app").unwrap();
    assert_eq!(values(&mut app, "SELECT current_database()"), ["app"]);
    assert_eq!(code(&mut app, "SELECT * FROM t"), "42P01");
    assert_eq!(
        code(&mut app, "CREATE TABLE t (id serial PRIMARY KEY, v text)"),
        ""
    );
    assert_eq!(code(&mut app, "CREATE SCHEMA s"), "");
    assert_eq!(code(&mut app, "CREATE TABLE s.u (x int)"), "");
    assert_eq!(
        code(&mut app, "INSERT INTO t (v) VALUES ('in app'), ('again')"),
        ""
    );
    assert_eq!(
        values(&mut app, "SELECT v FROM t ORDER BY id"),
        ["in app", "again"]
    );
    assert_eq!(values(&mut pg, "SELECT v FROM t"), ["in postgres"]);
    assert_eq!(
        values(
            &mut app,
            "SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1"
        ),
        ["t", "u"]
    );
    assert_eq!(
        values(
            &mut pg,
            "SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1"
        ),
        ["t"]
    );
    assert_eq!(
        values(
            &mut pg,
            "SELECT nspname FROM pg_namespace WHERE nspname = 's'"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        values(
            &mut pg,
            "SELECT datname FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        ),
        ["app"]
    );

    // A crash keeps both databases and their rows.
    drop(app);
    drop(pg);
    srv.kill();
    srv.restart();
    let mut pg = common::wire_client(port);
    let mut app = connect_to(port, "app").unwrap();
    assert_eq!(
        values(&mut app, "SELECT v FROM t ORDER BY id"),
        ["in app", "again"]
    );
    assert_eq!(values(&mut pg, "SELECT v FROM t"), ["in postgres"]);
    assert_eq!(
        values(&mut pg, "SELECT datname FROM pg_database ORDER BY 1"),
        ["app", "postgres", "template0", "template1"]
    );

    // Settings given by ALTER DATABASE apply to new sessions there.
    assert_eq!(
        code(&mut pg, "ALTER DATABASE app SET search_path = s, public"),
        ""
    );
    assert_eq!(
        code(&mut pg, "ALTER DATABASE app SET no_such_setting = 1"),
        "42704"
    );
    let mut app2 = connect_to(port, "app").unwrap();
    assert_eq!(values(&mut app2, "SHOW search_path"), ["s, public"]);
    assert_eq!(values(&mut app2, "SELECT count(*) FROM u"), ["0"]);
    drop(app2);

    // DROP DATABASE: not the current one; not while others are connected,
    // unless FORCE.
    assert_eq!(code(&mut app, "DROP DATABASE app"), "55006");
    let t0 = Instant::now();
    assert_eq!(code(&mut pg, "DROP DATABASE app"), "55006");
    assert!(
        t0.elapsed() >= Duration::from_secs(4),
        "waited for the other session first"
    );
    assert_eq!(code(&mut pg, "DROP DATABASE app WITH (FORCE)"), "");
    assert!(app.simple_query("SELECT 1").is_err() || code(&mut app, "SELECT 1") == "57P01");
    let e = connect_to(port, "app")
        .err()
        .expect("app is gone")
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
    assert_eq!(values(&mut pg, "SELECT v FROM t"), ["in postgres"]);
    assert_eq!(code(&mut pg, "DROP DATABASE template1"), "42809");
    let e = connect_to(port, "template0")
        .err()
        .expect("no connections")
        .to_string();
    assert!(e.contains("not currently accepting connections"), "{e}");
    // The dropped database's files went with it, and a new one of the same
    // name starts empty.
    assert_eq!(code(&mut pg, "CREATE DATABASE app"), "");
    let mut app = connect_to(port, "app").unwrap();
    assert_eq!(code(&mut app, "SELECT * FROM t"), "42P01");
    assert_eq!(
        values(&mut pg, "SELECT count(*) FROM basalt_check_integrity()"),
        ["0"]
    );
}
