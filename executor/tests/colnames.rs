//! The names PostgreSQL gives unnamed select items (FigureColname): drivers
//! and ORMs read rows by these names. Expected names are PostgreSQL 15's
//! for the same query.

use basalt_executor::Database;
use basalt_storage::StorageOptions;

#[test]
fn select_items_are_named_as_postgresql_names_them() {
    let dir = std::env::temp_dir().join(format!("colnames-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Database::open(
        &dir,
        StorageOptions {
            shared_buffers: 64,
            synchronous_commit: false,
        },
        vec![],
    )
    .unwrap();
    let mut s = db.session();
    for r in s.execute_sql("CREATE TABLE t (a int, b text, d date)") {
        r.unwrap();
    }
    let q = "SELECT a, t.b, a::text, '1'::int, (a+1)::bigint, 1.5::numeric::int, \
             (SELECT max(a) FROM t), (SELECT max(a) AS m FROM t), (SELECT a+1 FROM t LIMIT 1), \
             EXISTS (SELECT 1), NOT EXISTS (SELECT 1), CASE WHEN true THEN 1 END, \
             CASE WHEN true THEN 1 END::text, coalesce(a, 0), nullif(a, 1), greatest(1, 2), \
             ARRAY[1], (ARRAY[1])[1], a + 1, -a, a IS NULL, extract(year from d), \
             substring(b from 1), position('x' in b), trim(b), date '2024-01-01', current_date, \
             count(*) OVER () FROM t LIMIT 0";
    let r = s.execute_sql(q).pop().unwrap().unwrap();
    let names: Vec<String> = r.fields.unwrap().iter().map(|f| f.name.clone()).collect();
    let want = "a|b|a|int4|int8|int4|max|m|?column?|exists|?column?|case|text|coalesce|nullif|\
                greatest|array|array|?column?|?column?|?column?|extract|substring|position|\
                btrim|date|current_date|count";
    assert_eq!(names.join("|"), want);
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
