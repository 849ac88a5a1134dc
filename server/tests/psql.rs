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

/// `\d` of tables with constraints both ways, of a sequence and of an
/// index, as psql prints them against PostgreSQL 15 (outputs taken from
/// PostgreSQL for the same DDL).
#[test]
fn describe_constraints_sequences_indexes() {
    if !have("psql") {
        eprintln!("psql not installed; skipping psql test");
        return;
    }
    let dir = TempDir::new("psql-describe");
    let server = Server::start(&dir.0.join("data"), &[]);
    for sql in [
        "CREATE TABLE is_parent (id serial PRIMARY KEY, code varchar(10) UNIQUE NOT NULL, price numeric(10,2), note text, made timestamptz DEFAULT now())",
        "CREATE TABLE is_child (cid int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, pid int REFERENCES is_parent(id) ON DELETE CASCADE, qty smallint CHECK (qty > 0), flag boolean, amount double precision, d date)",
        "CREATE SEQUENCE is_seq START 5 INCREMENT 2",
    ] {
        server.psql(sql).unwrap();
    }
    let describe = |what: &str| {
        let out = server
            .psql_cmd()
            .args(["-X", "-c", &format!("\\d {what}")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    let child = r#"                             Table "public.is_child"
 Column |       Type       | Collation | Nullable |           Default            
--------+------------------+-----------+----------+------------------------------
 cid    | integer          |           | not null | generated always as identity
 pid    | integer          |           |          | 
 qty    | smallint         |           |          | 
 flag   | boolean          |           |          | 
 amount | double precision |           |          | 
 d      | date             |           |          | 
Indexes:
    "is_child_pkey" PRIMARY KEY, btree (cid)
Check constraints:
    "is_child_qty_check" CHECK (qty > 0)
Foreign-key constraints:
    "is_child_pid_fkey" FOREIGN KEY (pid) REFERENCES is_parent(id) ON DELETE CASCADE"#;
    assert_eq!(describe("is_child"), child);
    let parent = r#"                                     Table "public.is_parent"
 Column |           Type           | Collation | Nullable |                Default                
--------+--------------------------+-----------+----------+---------------------------------------
 id     | integer                  |           | not null | nextval('is_parent_id_seq'::regclass)
 code   | character varying(10)    |           | not null | 
 price  | numeric(10,2)            |           |          | 
 note   | text                     |           |          | 
 made   | timestamp with time zone |           |          | now()
Indexes:
    "is_parent_pkey" PRIMARY KEY, btree (id)
    "is_parent_code_key" UNIQUE CONSTRAINT, btree (code)
Referenced by:
    TABLE "is_child" CONSTRAINT "is_child_pid_fkey" FOREIGN KEY (pid) REFERENCES is_parent(id) ON DELETE CASCADE"#;
    assert_eq!(describe("is_parent"), parent);
    let seq = r#"                           Sequence "public.is_seq"
  Type  | Start | Minimum |       Maximum       | Increment | Cycles? | Cache 
--------+-------+---------+---------------------+-----------+---------+-------
 bigint |     5 |       1 | 9223372036854775807 |         2 | no      |     1"#;
    assert_eq!(describe("is_seq"), seq);
    let index = r#"    Index "public.is_parent_pkey"
 Column |  Type   | Key? | Definition 
--------+---------+------+------------
 id     | integer | yes  | id
primary key, btree, for table "public.is_parent""#;
    assert_eq!(describe("is_parent_pkey"), index);
    // The other listings run without error.
    for cmd in [
        "\\d+ is_parent",
        "\\df",
        "\\dx",
        "\\db",
        "\\dp",
        "\\ds",
        "\\di",
        "\\dn+",
        "\\l+",
    ] {
        let out = server.psql_cmd().args(["-X", "-c", cmd]).output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `COPY t (some columns) FROM STDIN`: the other columns get their
/// defaults (a serial key from its sequence), and a `\.` line ends the data.
#[test]
fn copy_fills_in_defaults_of_unlisted_columns() {
    if !have("psql") {
        eprintln!("psql not installed; skipping psql test");
        return;
    }
    let dir = TempDir::new("psql-copy-defaults");
    let server = Server::start(&dir.0.join("data"), &[]);
    server
        .psql("CREATE TABLE cpd (id serial PRIMARY KEY, v text, n int DEFAULT 7)")
        .unwrap();
    let mut child = server
        .psql_cmd()
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "COPY cpd (v) FROM STDIN",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a\nb\n\\.\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        server.psql("SELECT id, v, n FROM cpd ORDER BY id").unwrap(),
        "1|a|7\n2|b|7"
    );
}
