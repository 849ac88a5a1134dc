//! pg_dump of a Basalt database (tables with serial and identity columns,
//! primary, unique, check and foreign keys, an index, a view, sequences,
//! comments, data), restored with psql into a fresh database of the same
//! server: the same rows, schema and sequence positions come back.

mod common;

use common::{have, Server, TempDir};

#[test]
fn plain_dump_restores_into_a_fresh_database() {
    if !have("pg_dump") || !have("psql") {
        eprintln!("pg_dump or psql not installed; skipping pg_dump test");
        return;
    }
    let dir = TempDir::new("pg-dump");
    let server = Server::start(&dir.0.join("data"), &[]);
    for sql in [
        "CREATE TABLE parent (id serial PRIMARY KEY, code varchar(10) UNIQUE NOT NULL, price numeric(10,2), note text, made timestamptz DEFAULT now())",
        "CREATE TABLE child (cid int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, pid int REFERENCES parent(id) ON DELETE CASCADE, qty smallint CHECK (qty > 0), tags text[], doc jsonb, d date)",
        "CREATE INDEX child_d ON child (d)",
        "CREATE VIEW expensive AS SELECT id, code FROM parent WHERE price > 10",
        "CREATE SEQUENCE ticket START 5 INCREMENT 2",
        "COMMENT ON TABLE parent IS 'the parents'",
        "INSERT INTO parent (code, price, note) SELECT 'c' || g, g * 1.5, CASE WHEN g % 3 = 0 THEN NULL ELSE 'it''s ' || g END FROM generate_series(1, 200) g",
        "INSERT INTO child (pid, qty, tags, doc, d) SELECT g % 200 + 1, g % 7 + 1, ARRAY['a', 'b' || g], jsonb_build_object('n', g), DATE '2024-01-01' + g FROM generate_series(1, 500) g",
        "SELECT nextval('ticket'), nextval('ticket')",
    ] {
        server.psql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let dump = dir.0.join("dump.sql");
    let out = server
        .tool("pg_dump")
        .args(["-f"])
        .arg(&dump)
        .arg("postgres")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.psql("CREATE DATABASE restored").unwrap();
    let out = server
        .psql_cmd()
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "restored", "-f"])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let in_db = |db: &str, sql: &str| {
        let out = server
            .psql_cmd()
            .args(["-XAtq", "-d", db, "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    for t in ["parent", "child", "expensive"] {
        let q = digest(t);
        assert_eq!(in_db("postgres", &q), in_db("restored", &q), "{t}");
    }
    // Schema: columns, constraints, indexes, identity, defaults.
    let shape =
        "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity \
                 FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2";
    assert_eq!(in_db("postgres", shape), in_db("restored", shape));
    let cons = "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint ORDER BY 1";
    assert_eq!(in_db("postgres", cons), in_db("restored", cons));
    let idx = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1";
    assert_eq!(in_db("postgres", idx), in_db("restored", idx));
    assert_eq!(
        in_db(
            "restored",
            "SELECT obj_description('parent'::regclass, 'pg_class')"
        ),
        "the parents\n"
    );
    // Sequences continue where they were.
    for q in [
        "SELECT nextval('ticket')",
        "SELECT nextval('parent_id_seq')",
        "INSERT INTO child (pid, qty) VALUES (1, 1) RETURNING cid",
    ] {
        assert_eq!(in_db("postgres", q), in_db("restored", q), "{q}");
    }
    // Custom format, restored with pg_restore.
    let custom = dir.0.join("dump.custom");
    let out = server
        .tool("pg_dump")
        .args(["-Fc", "-f"])
        .arg(&custom)
        .arg("postgres")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.psql("CREATE DATABASE restored_fc").unwrap();
    let out = server
        .tool("pg_restore")
        .args(["-d", "restored_fc", "--exit-on-error"])
        .arg(&custom)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for t in ["parent", "child", "expensive"] {
        let q = digest(t);
        assert_eq!(in_db("restored", &q), in_db("restored_fc", &q), "{t}");
    }
    // Identity stays GENERATED ALWAYS.
    let out = server
        .psql_cmd()
        .args([
            "-XAtq",
            "-d",
            "restored",
            "-c",
            "INSERT INTO child (cid, pid, qty) VALUES (9999, 1, 1)",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot insert a non-DEFAULT value"));
}

/// A query giving a table's row count and a digest of its rows.
fn digest(table: &str) -> String {
    format!(
        "SELECT count(*), md5(string_agg(row_to_json(t)::text, ',' ORDER BY row_to_json(t)::text)) FROM {table} t"
    )
}
