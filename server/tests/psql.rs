//! psql's describe commands against the real binary: `\d t`, `\dt`, `\l`
//! print what PostgreSQL 15 prints for the same table.

mod common;

use common::{have, Server, TempDir};

#[test]
fn describe_commands() {
    if !have("psql") {
        eprintln!("psql not installed; skipping psql test");
        return;
    }
    let dir = TempDir::new("psql");
    let server = Server::start(&dir.0.join("data"), &[]);
    server
        .psql("CREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL, amount numeric(10,2) DEFAULT 0)")
        .unwrap();
    let out = server
        .psql_cmd()
        .args(["-X", "-c", "\\d t"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = r#"                        Table "public.t"
 Column |         Type          | Collation | Nullable | Default 
--------+-----------------------+-----------+----------+---------
 id     | integer               |           | not null | 
 name   | character varying(20) |           | not null | 
 amount | numeric(10,2)         |           |          | 0
Indexes:
    "t_pkey" PRIMARY KEY, btree (id)
"#;
    assert_eq!(
        text.trim_end(),
        expected.trim_end(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dt = server.psql("\\dt").unwrap();
    assert_eq!(dt, "public|t|table|postgres");
    let l = server.psql("\\l").unwrap();
    assert!(
        l.lines().any(|r| r.starts_with("postgres|postgres|UTF8|")),
        "{l}"
    );
}
