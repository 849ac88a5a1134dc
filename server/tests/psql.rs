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

/// psql's client-side commands over Basalt: `\copy` both ways, `\x`,
/// `\timing`, `\conninfo`, and the catalog queries of tab completion
/// (tables, columns, settings, databases, roles, cursors, prepared
/// statements, channels) answer without error.
#[test]
fn copy_expanded_timing_and_tab_completion_queries() {
    if !have("psql") {
        eprintln!("psql not installed; skipping psql test");
        return;
    }
    let dir = TempDir::new("psql-misc");
    let server = Server::start(&dir.0.join("data"), &[]);
    server
        .psql("CREATE TABLE tttt (x int, y text); CREATE TABLE ttuu (z int)")
        .unwrap();
    let csv = dir.0.join("in.csv");
    std::fs::write(&csv, "1,one\n2,\"t,wo\"\n").unwrap();
    let out = dir.0.join("out.csv");
    let script = format!(
        "\\copy tttt FROM '{}' WITH (FORMAT csv)\n\\copy (SELECT * FROM tttt ORDER BY x) TO '{}' WITH (FORMAT csv, HEADER)\n\\x\nSELECT x, y FROM tttt WHERE x = 2;\n\\x\n\\timing on\nSELECT count(*) FROM tttt;\n\\conninfo\n",
        csv.display(),
        out.display()
    );
    // One backslash command per line: the script goes in on stdin.
    let mut child = server
        .psql_cmd()
        .args(["-X", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("COPY 2"), "{text}");
    assert!(text.contains("Expanded display is on."), "{text}");
    assert!(text.contains("-[ RECORD 1 ]\nx | 2\ny | t,wo"), "{text}");
    assert!(text.contains("Timing is on."), "{text}");
    assert!(text.contains("Time: "), "{text}");
    assert!(
        text.contains("You are connected to database \"postgres\" as user \"postgres\""),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "x,y\n1,one\n2,\"t,wo\"\n"
    );
    // Tab completion's queries (PostgreSQL 15's psql).
    for (sql, want) in [
        (
            "SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND (c.relname) LIKE 'ttt%' AND pg_catalog.pg_table_is_visible(c.oid) UNION ALL SELECT NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'ttt%' AND n.nspname NOT LIKE E'pg\\\\_%' LIMIT 1000",
            "tttt|",
        ),
        (
            "SELECT pg_catalog.quote_ident(attname) FROM pg_catalog.pg_attribute a, pg_catalog.pg_class c WHERE c.oid = a.attrelid AND a.attnum > 0 AND NOT a.attisdropped AND substring(pg_catalog.quote_ident(attname),1,0)='' AND (pg_catalog.quote_ident(relname)='tttt' OR '\"' || relname || '\"'='tttt') AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1",
            "x\ny",
        ),
        (
            "SELECT name FROM pg_catalog.pg_settings WHERE context IN ('user', 'superuser') AND LOWER(name) LIKE LOWER('work_m%')",
            "work_mem",
        ),
        (
            "SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE 'postg%'",
            "postgres",
        ),
        (
            "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE 'postg%'",
            "postgres",
        ),
        ("SELECT name FROM pg_catalog.pg_cursors WHERE name LIKE 'x%'", ""),
        (
            "SELECT name FROM pg_catalog.pg_prepared_statements WHERE name LIKE 'x%'",
            "",
        ),
        (
            "SELECT channel FROM pg_catalog.pg_listening_channels() AS channel WHERE channel LIKE 'x%'",
            "",
        ),
        (
            "SELECT pg_catalog.quote_ident(name) FROM pg_catalog.pg_available_extensions WHERE substring(pg_catalog.quote_ident(name),1,0)='' AND installed_version IS NULL",
            "",
        ),
    ] {
        let r = server.psql(sql);
        assert_eq!(r.as_deref(), Ok(want), "{sql}");
    }
}
