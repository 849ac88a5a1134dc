//! EXPLAIN's row estimates come from ANALYZE's statistics: the figures
//! below are those PostgreSQL 15 prints for the same table and queries
//! (costs differ: pages and plan choices are not PostgreSQL's).

use basalt_executor::Database;
use basalt_storage::StorageOptions;

fn plan(s: &mut basalt_executor::Session, sql: &str) -> Vec<String> {
    let mut out = vec![];
    for r in s.execute_sql(sql) {
        let r = r.unwrap_or_else(|e| panic!("{sql}: {e}"));
        out.extend(r.rows.iter().map(|row| row[0].to_string()));
    }
    out
}

/// A fresh database in a directory of its own under the temp dir.
fn open_db(name: &str) -> (std::path::PathBuf, std::sync::Arc<Database>) {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Database::open(
        &dir,
        StorageOptions {
            shared_buffers: 256,
            synchronous_commit: false,
        },
        vec![],
    )
    .unwrap();
    (dir, db)
}

fn rows_of(line: &str) -> u64 {
    let i = line.find("rows=").expect("an estimate") + 5;
    line[i..]
        .split(' ')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap()
}

#[test]
fn estimates_from_statistics() {
    let (dir, db) = open_db("basalt-explain");
    let mut s = db.session();
    plan(
        &mut s,
        "CREATE TABLE vt (id int PRIMARY KEY, g int, s text)",
    );
    plan(
        &mut s,
        "INSERT INTO vt SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 7 END, 'v' || (i % 3) FROM generate_series(1, 1000) i",
    );
    plan(&mut s, "ANALYZE vt");
    let p = plan(&mut s, "EXPLAIN SELECT * FROM vt WHERE g = 1");
    assert!(p[0].starts_with("Seq Scan on vt  (cost="), "{p:?}");
    assert_eq!(rows_of(&p[0]), 129);
    assert_eq!(p[1], "  Filter: (g = 1)");
    assert_eq!(
        rows_of(&plan(&mut s, "EXPLAIN SELECT * FROM vt WHERE s = 'v1'")[0]),
        334
    );
    assert_eq!(
        rows_of(&plan(&mut s, "EXPLAIN SELECT * FROM vt WHERE g IS NULL")[0]),
        100
    );
    assert_eq!(
        rows_of(&plan(&mut s, "EXPLAIN SELECT * FROM vt WHERE id > 250 AND g = 2")[0]),
        97
    );
    let p = plan(&mut s, "EXPLAIN SELECT * FROM vt WHERE id = 5");
    assert!(p[0].starts_with("Index Scan using vt_pkey on vt"), "{p:?}");
    assert_eq!(rows_of(&p[0]), 1);
    assert_eq!(p[1], "  Index Cond: (id = 5)");
    let r = rows_of(&plan(&mut s, "EXPLAIN SELECT * FROM vt WHERE id < 100")[0]);
    assert!((95..=105).contains(&r), "{r}");
    let p = plan(&mut s, "EXPLAIN SELECT g, count(*) FROM vt GROUP BY g");
    assert!(p[0].starts_with("HashAggregate"), "{p:?}");
    assert_eq!(rows_of(&p[0]), 7);
    assert_eq!(p[1], "  Group Key: g");
    assert!(p[2].starts_with("  ->  Seq Scan on vt"), "{p:?}");
    let p = plan(&mut s, "EXPLAIN SELECT * FROM vt ORDER BY s LIMIT 5");
    assert_eq!(rows_of(&p[0]), 5);
    let p = plan(&mut s, "EXPLAIN ANALYZE SELECT count(*) FROM vt");
    assert!(p[0].contains(" rows=1 loops=1)"), "{p:?}");
    assert!(
        p[1].contains("Seq Scan on vt") && p[1].contains(" rows=1000 loops=1)"),
        "{p:?}"
    );
    assert!(p.last().unwrap().starts_with("Execution Time:"));
    // ORDER BY ... LIMIT in index order: no sort, and the scan stops after
    // the ten rows the limit takes.
    let p = plan(
        &mut s,
        "EXPLAIN ANALYZE SELECT * FROM vt WHERE id > 100 ORDER BY id LIMIT 10",
    );
    assert!(
        p[0].starts_with("Limit") && p[0].contains(" rows=10 loops=1)"),
        "{p:?}"
    );
    assert!(p[1].contains("Index Scan using vt_pkey on vt"), "{p:?}");
    assert!(
        p[1].contains("(actual time=") && p[1].contains(" rows=10 loops=1)"),
        "{p:?}"
    );
    assert!(!p.iter().any(|l| l.contains("Sort")), "{p:?}");
    let p = plan(&mut s, "EXPLAIN SELECT * FROM vt ORDER BY id LIMIT 3");
    assert!(p[1].contains("Index Scan using vt_pkey on vt"), "{p:?}");
    let p = plan(&mut s, "EXPLAIN UPDATE vt SET g = 0 WHERE id = 3");
    assert!(p[0].starts_with("Update on vt"), "{p:?}");
    // Before any ANALYZE, a table's live-row count is the estimate.
    plan(&mut s, "CREATE TABLE fresh (id int)");
    plan(
        &mut s,
        "INSERT INTO fresh SELECT i FROM generate_series(1, 321) i",
    );
    assert_eq!(
        rows_of(&plan(&mut s, "EXPLAIN SELECT * FROM fresh")[0]),
        321
    );
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_format_and_buffers() {
    use basalt_catalog::json::Json;
    let (dir, db) = open_db("basalt-explain-json");
    let mut s = db.session();
    plan(&mut s, "CREATE TABLE j (a int PRIMARY KEY, b text)");
    plan(
        &mut s,
        "INSERT INTO j SELECT g, 'x' || g FROM generate_series(1, 500) g",
    );
    let out = plan(
        &mut s,
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT b, count(*) FROM j WHERE a < 10 GROUP BY b ORDER BY b",
    );
    assert_eq!(out.len(), 1, "one JSON document");
    let doc = Json::parse(&out[0]).expect("valid JSON");
    let top = doc.index(0).expect("an array of one plan");
    let plan_node = top.get("Plan").expect("Plan");
    assert_eq!(
        plan_node.get("Node Type"),
        Some(&Json::String("Sort".into()))
    );
    assert_eq!(
        plan_node.get("Sort Key"),
        Some(&Json::Array(vec![Json::String("b".into())]))
    );
    assert!(plan_node.get("Actual Rows").is_some());
    assert!(plan_node.get("Shared Hit Blocks").is_some(), "{}", out[0]);
    assert!(top.get("Execution Time").is_some());
    // The scan is nested under the aggregate, as the child of the sort.
    let agg = plan_node
        .get("Plans")
        .and_then(|p| p.index(0))
        .expect("a child");
    assert_eq!(
        agg.get("Node Type"),
        Some(&Json::String("Aggregate".into()))
    );
    let scan = agg.get("Plans").and_then(|p| p.index(0)).expect("a scan");
    assert_eq!(scan.get("Relation Name"), Some(&Json::String("j".into())));
    // BUFFERS without ANALYZE is an error, as in PostgreSQL 15.
    assert!(s
        .execute_sql("EXPLAIN (BUFFERS) SELECT * FROM j")
        .into_iter()
        .any(|r| r.is_err()));
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exists_becomes_a_semi_join_unless_an_index_answers_it() {
    let (dir, db) = open_db("basalt-explain-semi");
    let mut s = db.session();
    plan(&mut s, "CREATE TABLE so (id int PRIMARY KEY, k int)");
    plan(&mut s, "CREATE TABLE si (k int, v int)");
    let q = "EXPLAIN SELECT id FROM so WHERE EXISTS (SELECT 1 FROM si WHERE si.k = so.k)";
    let p = plan(&mut s, q).join("\n");
    assert!(p.contains("Hash Semi Join"), "{p}");
    let p = plan(&mut s, &q.replace("EXISTS", "NOT EXISTS")).join("\n");
    assert!(p.contains("Hash Anti Join"), "{p}");
    // x IN (correlated subquery) too.
    let p = plan(
        &mut s,
        "EXPLAIN SELECT id FROM so WHERE id IN (SELECT v FROM si WHERE si.k = so.k)",
    )
    .join("\n");
    assert!(
        p.contains("Hash Semi Join") && !p.contains("SubPlan"),
        "{p}"
    );
    // With an index on the inner key, the subquery probes it per row.
    plan(&mut s, "CREATE INDEX si_k ON si (k)");
    let p = plan(&mut s, q).join("\n");
    assert!(!p.contains("Semi Join") && p.contains("SubPlan"), "{p}");
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn few_outer_rows_probe_the_inner_index() {
    let (dir, db) = open_db("basalt-explain-index-join");
    let mut s = db.session();
    plan(&mut s, "CREATE TABLE jc (id int PRIMARY KEY, name text)");
    plan(
        &mut s,
        "CREATE TABLE jo (id int PRIMARY KEY, cid int, amt int)",
    );
    plan(
        &mut s,
        "INSERT INTO jc SELECT g, 'c' || g FROM generate_series(1, 20000) g",
    );
    plan(
        &mut s,
        "INSERT INTO jo SELECT g, g % 500 + 1, g FROM generate_series(1, 20000) g",
    );
    plan(&mut s, "ANALYZE jc");
    plan(&mut s, "ANALYZE jo");
    // Nine orders: their customers are looked up by key, not scanned.
    let q = "SELECT * FROM jo JOIN jc ON jc.id = jo.cid WHERE jo.id < 10";
    let p = plan(&mut s, &format!("EXPLAIN ANALYZE {q}"));
    assert!(p[0].starts_with("Nested Loop  (cost="), "{p:?}");
    assert!(
        p[1].starts_with("  ->  Index Scan using jo_pkey on jo"),
        "{p:?}"
    );
    assert_eq!(p[2], "        Index Cond: (id < 10)", "{p:?}");
    assert!(
        p[3].starts_with("  ->  Index Scan using jc_pkey on jc"),
        "{p:?}"
    );
    assert!(p[3].ends_with("rows=1 loops=9)"), "{p:?}");
    assert_eq!(p[4], "        Index Cond: (id = cid)", "{p:?}");
    assert!(!p.join("\n").contains("Seq Scan"), "{p:?}");
    // Every row of both: one pass over each is cheaper than 20,000 probes.
    let p = plan(
        &mut s,
        "EXPLAIN SELECT count(*) FROM jo JOIN jc ON jc.id = jo.cid",
    )
    .join("\n");
    assert!(p.contains("Hash Join") && !p.contains("Nested Loop"), "{p}");
    // An index on the other side's key serves the other direction.
    plan(&mut s, "CREATE INDEX jo_cid ON jo (cid)");
    let p = plan(
        &mut s,
        "EXPLAIN SELECT * FROM jc JOIN jo ON jo.cid = jc.id WHERE jc.id = 7",
    )
    .join("\n");
    assert!(p.contains("Index Scan using jo_cid on jo"), "{p}");
    assert!(p.contains("Index Cond: (cid = id)"), "{p}");
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The count of rows an index-only scan query returns, and its heap
/// fetches under EXPLAIN ANALYZE.
fn ios(s: &mut basalt_executor::Session, sql: &str) -> (i64, u64) {
    let r = s.execute_sql(sql).pop().unwrap().unwrap();
    let n = r.rows[0][0].to_string().parse().unwrap();
    let p = plan(s, &format!("EXPLAIN ANALYZE {sql}"));
    assert!(p[1].contains("Index Only Scan using vi_k on vi"), "{p:?}");
    let f = p
        .iter()
        .find_map(|l| l.trim().strip_prefix("Heap Fetches: "))
        .unwrap_or_else(|| panic!("{p:?}"))
        .parse()
        .unwrap();
    (n, f)
}

#[test]
fn index_only_scans_skip_all_visible_pages() {
    let (dir, db) = open_db("basalt-explain-ios");
    let mut s = db.session();
    plan(
        &mut s,
        "CREATE TABLE vi (id int PRIMARY KEY, k int, pad text)",
    );
    plan(&mut s, "CREATE INDEX vi_k ON vi (k)");
    plan(
        &mut s,
        "INSERT INTO vi SELECT g, g % 100, repeat('x', 100) FROM generate_series(1, 5000) g",
    );
    let q = "SELECT count(k) FROM vi WHERE k BETWEEN 10 AND 19";
    // Before VACUUM no page is known all-visible: every entry's tuple is
    // read from the heap.
    assert_eq!(ios(&mut s, q), (500, 500));
    plan(&mut s, "VACUUM vi");
    assert_eq!(ios(&mut s, q), (500, 0));
    // A change clears its page's mark: only that page's entries go to the
    // heap again.
    plan(&mut s, "UPDATE vi SET pad = 'y' WHERE id = 15");
    let (n, f) = ios(&mut s, q);
    assert_eq!(n, 500);
    assert!(f > 0 && f < 100, "{f}");
    // Rows another transaction inserted and has not committed, or deleted
    // after this snapshot was taken, are judged in the heap.
    let mut other = db.session();
    plan(&mut s, "VACUUM vi");
    plan(&mut s, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    assert_eq!(ios(&mut s, q).0, 500);
    plan(&mut other, "DELETE FROM vi WHERE k = 12");
    plan(&mut other, "BEGIN");
    plan(
        &mut other,
        "INSERT INTO vi SELECT g, 13, 'z' FROM generate_series(10001, 10050) g",
    );
    plan(&mut db.session(), "VACUUM vi");
    assert_eq!(ios(&mut s, q).0, 500);
    plan(&mut s, "COMMIT");
    assert_eq!(ios(&mut s, q).0, 450);
    plan(&mut other, "COMMIT");
    assert_eq!(ios(&mut s, q).0, 500);
    plan(&mut s, "VACUUM vi");
    assert_eq!(ios(&mut s, q), (500, 0));
    drop((s, other));
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scan_choice_follows_selectivity_and_the_method_switches() {
    let (dir, db) = open_db("basalt-explain-switches");
    let mut s = db.session();
    plan(&mut s, "CREATE TABLE sw (id int PRIMARY KEY, k int)");
    plan(&mut s, "CREATE TABLE sw2 (id int PRIMARY KEY, k int)");
    plan(
        &mut s,
        "INSERT INTO sw SELECT g, g % 50 FROM generate_series(1, 20000) g",
    );
    plan(&mut s, "INSERT INTO sw2 SELECT * FROM sw");
    plan(&mut s, "ANALYZE sw");
    plan(&mut s, "ANALYZE sw2");
    // Most of the table: read in order, not through the index.
    let wide = "EXPLAIN SELECT * FROM sw WHERE id > 100";
    assert!(plan(&mut s, wide)[0].starts_with("Seq Scan on sw"));
    assert!(plan(&mut s, "EXPLAIN SELECT * FROM sw WHERE id < 100")[0]
        .starts_with("Index Scan using sw_pkey on sw"));
    plan(&mut s, "SET enable_seqscan = off");
    assert!(plan(&mut s, wide)[0].starts_with("Index Scan using sw_pkey on sw"));
    plan(&mut s, "RESET enable_seqscan");
    plan(&mut s, "SET enable_indexscan = off");
    assert!(plan(&mut s, "EXPLAIN SELECT * FROM sw WHERE id = 7")[0].starts_with("Seq Scan on sw"));
    plan(&mut s, "RESET enable_indexscan");
    // Every row joined: hashed, unless hash joins are off.
    let join = "EXPLAIN SELECT count(*) FROM sw JOIN sw2 ON sw2.id = sw.k";
    assert!(plan(&mut s, join).join("\n").contains("Hash Join"));
    plan(&mut s, "SET enable_hashjoin = off");
    let p = plan(&mut s, join).join("\n");
    assert!(p.contains("Nested Loop") && p.contains("sw2_pkey"), "{p}");
    // Without nested loops either: sorted and merged.
    plan(&mut s, "SET enable_nestloop = off");
    let p = plan(&mut s, join).join("\n");
    assert!(
        p.contains("Merge Join") && p.contains("Merge Cond: (k = id)"),
        "{p}"
    );
    assert!(p.contains("Sort Key: k"), "{p}");
    // The other side comes in order from its primary key.
    assert!(p.contains("Scan using sw2_pkey on sw2"), "{p}");
    plan(&mut s, "RESET enable_nestloop");
    plan(&mut s, "RESET enable_hashjoin");
    // Both sides read in key order by their primary keys: merged as they
    // come, nothing sorted.
    let p = plan(
        &mut s,
        "EXPLAIN SELECT * FROM sw JOIN sw2 ON sw2.id = sw.id WHERE sw.id BETWEEN 100 AND 900 AND sw2.id BETWEEN 200 AND 1000",
    )
    .join("\n");
    assert!(p.contains("Merge Join") && !p.contains("Sort"), "{p}");
    // Few rows joined: probed by index, unless nested loops are off.
    let few = "EXPLAIN SELECT * FROM sw JOIN sw2 ON sw2.id = sw.k WHERE sw.id < 5";
    assert!(plan(&mut s, few).join("\n").contains("Nested Loop"));
    plan(&mut s, "SET enable_nestloop = off");
    assert!(plan(&mut s, few).join("\n").contains("Hash Join"));
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
