//! End-to-end through the embedded API: DDL, DML, queries, errors, recovery.

use basalt_executor::Database;
use basalt_storage::StorageOptions;

fn q(s: &mut basalt_executor::Session, sql: &str) -> Vec<String> {
    let mut out = vec![];
    for r in s.execute_sql(sql) {
        let r = r.unwrap_or_else(|e| panic!("{sql}: {e}"));
        for row in r.rows {
            out.push(
                row.iter()
                    .map(|v| {
                        if v.is_null() {
                            "NULL".into()
                        } else {
                            v.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    out
}

#[test]
fn sql_roundtrip_and_recovery() {
    let dir = std::env::temp_dir().join(format!("basalt-exec-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let db = Database::open(
            &dir,
            StorageOptions {
                shared_buffers: 64,
                synchronous_commit: true,
            },
            vec![],
        )
        .unwrap();
        let mut s = db.session();
        q(&mut s, "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2) DEFAULT 0)");
        q(
            &mut s,
            "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.25), (3, 'c', DEFAULT)",
        );
        q(&mut s, "CREATE TABLE u (tid int, v text)");
        q(
            &mut s,
            "INSERT INTO u SELECT id, name || '!' FROM t WHERE id < 3",
        );
        assert_eq!(
            q(&mut s, "SELECT id, name, amount FROM t ORDER BY id DESC"),
            vec!["3|c|0.00", "2|b|2.25", "1|a|1.50"]
        );
        assert_eq!(
            q(
                &mut s,
                "SELECT t.name, u.v FROM t LEFT JOIN u ON u.tid = t.id ORDER BY 1"
            ),
            vec!["a|a!", "b|b!", "c|NULL"]
        );
        assert_eq!(
            q(&mut s, "SELECT count(*), sum(amount), max(name) FROM t"),
            vec!["3|3.75|c"]
        );
        q(&mut s, "UPDATE t SET amount = amount + 1 WHERE id = 2");
        assert_eq!(q(&mut s, "SELECT amount FROM t WHERE id = 2"), vec!["3.25"]);
        let e = s
            .execute_sql("INSERT INTO t VALUES (1, 'dup', 0)")
            .pop()
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("t_pkey"), "{e}");
        q(&mut s, "BEGIN");
        assert!(s.execute_sql("SELECT 1/0").pop().unwrap().is_err());
        assert!(s.execute_sql("SELECT 1").pop().unwrap().is_err());
        q(&mut s, "ROLLBACK");
        q(&mut s, "DELETE FROM t WHERE id = 3");
        for i in 10..2000 {
            q(&mut s, &format!("INSERT INTO t VALUES ({i}, 'n{i}', {i})"));
        }
        db.st.wal.flush(db.st.wal.insert_lsn()).unwrap();
    }
    let db = Database::open(
        &dir,
        StorageOptions {
            shared_buffers: 64,
            synchronous_commit: true,
        },
        vec![],
    )
    .unwrap();
    let mut s = db.session();
    assert_eq!(q(&mut s, "SELECT count(*) FROM t"), vec!["1992"]);
    assert_eq!(
        q(&mut s, "SELECT name FROM t WHERE id = 1500"),
        vec!["n1500"]
    );
    assert_eq!(q(&mut s, "SELECT amount FROM t WHERE id = 2"), vec!["3.25"]);
    let _ = std::fs::remove_dir_all(&dir);
}
