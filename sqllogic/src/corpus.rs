//! SQLite's sqllogictest format and result rules, for the corpus under
//! `../shared/sqllogictest/sqlite/`: `statement ok|error`, `query <types>
//! [nosort|rowsort|valuesort] [label]`, `skipif`/`onlyif <label>`, `halt`,
//! `hash-threshold`; values formatted by their column's type letter (`I`
//! integer, `R` `%.3f`, `T` text with `(empty)` and `@` for bytes outside
//! printable ASCII, `NULL`), and results given as values or as
//! `N values hashing to <md5>`. Records run under one label (`postgresql`).

use crate::{Answer, Db};
use md5::{Digest, Md5};

/// Counts for one file, as the baseline TSV reports them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// Records that apply to the label.
    pub records: usize,
    pub passed: usize,
    pub failed: usize,
    /// The file stopped at a `halt` that applies.
    pub halted: bool,
    /// The first few failures: (line, SQL, why).
    pub failures: Vec<(usize, String, String)>,
}

enum Kind {
    StatementOk,
    StatementError,
    Query { types: String, sort: String },
}

/// One value formatted by its column's type letter.
fn format_value(v: &Option<String>, ty: char) -> String {
    let Some(s) = v else {
        return "NULL".into();
    };
    match ty {
        'I' => match s.as_str() {
            "t" | "true" => "1".into(),
            "f" | "false" => "0".into(),
            _ => match s.parse::<i64>() {
                Ok(i) => i.to_string(),
                Err(_) => match s.parse::<f64>() {
                    Ok(f) => (f.trunc() as i64).to_string(),
                    Err(_) => "0".into(),
                },
            },
        },
        'R' => match s.parse::<f64>() {
            Ok(f) => format!("{f:.3}"),
            Err(_) => match s.as_str() {
                "t" | "true" => "1.000".into(),
                "f" | "false" => "0.000".into(),
                _ => "0.000".into(),
            },
        },
        _ => {
            if s.is_empty() {
                "(empty)".into()
            } else {
                s.chars()
                    .map(|c| if (' '..='~').contains(&c) { c } else { '@' })
                    .collect()
            }
        }
    }
}

/// Checks a query's answer against the expected lines.
fn check_query(ans: Answer, types: &str, sort: &str, expected: &[&str]) -> Result<(), String> {
    let rows = match ans {
        Err(e) => return Err(format!("error: {e}")),
        Ok(None) => return Err("no rows returned".into()),
        Ok(Some(r)) => r,
    };
    let letters: Vec<char> = types.chars().collect();
    let mut formatted: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, v)| format_value(v, letters.get(i).copied().unwrap_or('T')))
                .collect()
        })
        .collect();
    if let Some(r) = formatted.first() {
        if r.len() != letters.len() {
            return Err(format!("{} columns, expected {}", r.len(), letters.len()));
        }
    }
    let values: Vec<String> = match sort {
        "rowsort" => {
            formatted.sort();
            formatted.into_iter().flatten().collect()
        }
        "valuesort" => {
            let mut v: Vec<String> = formatted.into_iter().flatten().collect();
            v.sort();
            v
        }
        _ => formatted.into_iter().flatten().collect(),
    };
    if let [one] = expected {
        if let Some((n, hash)) = one.split_once(" values hashing to ") {
            let mut h = Md5::new();
            for v in &values {
                h.update(v.as_bytes());
                h.update(b"\n");
            }
            let got: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            let n: usize = n.trim().parse().unwrap_or(usize::MAX);
            return if n == values.len() && got == hash.trim() {
                Ok(())
            } else {
                Err(format!(
                    "{} values hashing to {got}, expected {one}",
                    values.len()
                ))
            };
        }
    }
    let want: Vec<String> = expected.iter().map(|s| s.trim_end().to_string()).collect();
    if values == want {
        Ok(())
    } else {
        Err(format!("got {values:?}, expected {want:?}"))
    }
}

/// Runs a corpus file under `label`; failures do not stop the file.
pub fn run(db: &mut dyn Db, text: &str, label: &str) -> Tally {
    let mut t = Tally::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        // A record: condition lines, its head, SQL, maybe results.
        let start = i;
        let mut skip = false;
        let mut head: Option<&str> = None;
        while i < lines.len() {
            let l = lines[i].trim_end();
            if l.is_empty() || l.starts_with('#') {
                if head.is_none() && l.is_empty() {
                    i += 1;
                    continue;
                }
                if l.starts_with('#') {
                    i += 1;
                    continue;
                }
                break;
            }
            let mut words = l.split_whitespace();
            match words.next() {
                Some("skipif") => {
                    if words.next() == Some(label) {
                        skip = true;
                    }
                    i += 1;
                }
                Some("onlyif") => {
                    if words.next() != Some(label) {
                        skip = true;
                    }
                    i += 1;
                }
                _ => {
                    head = Some(l);
                    i += 1;
                    break;
                }
            }
        }
        let Some(head) = head else {
            continue;
        };
        let head_line = i;
        let mut words = head.split_whitespace();
        let kind = match words.next() {
            Some("halt") => {
                if !skip {
                    t.halted = true;
                    return t;
                }
                continue;
            }
            Some("hash-threshold") => continue,
            Some("statement") => match words.next() {
                Some("ok") => Kind::StatementOk,
                _ => Kind::StatementError,
            },
            Some("query") => Kind::Query {
                types: words.next().unwrap_or("").to_string(),
                sort: words.next().unwrap_or("nosort").to_string(),
            },
            _ => {
                // Not a record head: skip to the next blank line.
                while i < lines.len() && !lines[i].trim().is_empty() {
                    i += 1;
                }
                let _ = start;
                continue;
            }
        };
        let mut sql = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() && lines[i].trim_end() != "----" {
            sql.push(lines[i]);
            i += 1;
        }
        let mut expected = Vec::new();
        if i < lines.len() && lines[i].trim_end() == "----" {
            i += 1;
            while i < lines.len() && !lines[i].trim().is_empty() {
                expected.push(lines[i]);
                i += 1;
            }
        }
        if skip {
            continue;
        }
        t.records += 1;
        let sql = sql.join("\n");
        let ans = db.run(&sql);
        let res = match kind {
            Kind::StatementOk => ans.map(|_| ()).map_err(|e| format!("error: {e}")),
            Kind::StatementError => match ans {
                Err(_) => Ok(()),
                Ok(_) => Err("expected an error".into()),
            },
            Kind::Query { types, sort } => check_query(ans, &types, &sort, &expected),
        };
        match res {
            Ok(()) => t.passed += 1,
            Err(why) => {
                t.failed += 1;
                if t.failures.len() < 20 {
                    t.failures.push((head_line, sql, why));
                }
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in database answering from a table of canned answers.
    struct Canned(Vec<(&'static str, Answer)>);
    impl Db for Canned {
        fn run(&mut self, sql: &str) -> Answer {
            self.0
                .iter()
                .find(|(q, _)| *q == sql)
                .map(|(_, a)| a.clone())
                .unwrap_or(Err("unknown".into()))
        }
    }

    fn row(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|x| x.map(|s| s.to_string())).collect()
    }

    #[test]
    fn rules() {
        let text = "\
hash-threshold 8

statement ok
CREATE TABLE t(a INTEGER, b TEXT)

onlyif mysql
statement ok
MYSQL ONLY

skipif postgresql
query I nosort
SKIPPED

query IRT rowsort
SELECT a, a, b FROM t
----
1
1.000
(empty)
2
2.500
x@y

query I valuesort
SELECT a FROM t
----
2 values hashing to 6d2d9fb9f4a1d1f7ad8ea8abd4e59f8a

statement error
BAD

query T nosort
SELECT b FROM t
----
wrong

onlyif mssql
halt

halt

statement ok
NEVER
";
        let mut db = Canned(vec![
            ("CREATE TABLE t(a INTEGER, b TEXT)", Ok(None)),
            (
                "SELECT a, a, b FROM t",
                Ok(Some(vec![
                    row(&[Some("2"), Some("2.5"), Some("x\u{7}y")]),
                    row(&[Some("1"), Some("1"), Some("")]),
                ])),
            ),
            (
                "SELECT a FROM t",
                Ok(Some(vec![row(&[Some("2")]), row(&[Some("1")])])),
            ),
            ("BAD", Err("syntax".into())),
            ("SELECT b FROM t", Ok(Some(vec![row(&[None])]))),
        ]);
        let t = run(&mut db, text, "postgresql");
        assert!(t.halted);
        assert_eq!(
            (t.records, t.passed, t.failed),
            (5, 3, 2),
            "{:?}",
            t.failures
        );
        // The hash line is wrong on purpose: md5("1\n2\n") is what counts.
        let mut h = Md5::new();
        h.update(b"1\n2\n");
        let good: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let fixed = text.replace("6d2d9fb9f4a1d1f7ad8ea8abd4e59f8a", &good);
        let t = run(&mut db, &fixed, "postgresql");
        assert_eq!(
            (t.records, t.passed, t.failed),
            (5, 4, 1),
            "{:?}",
            t.failures
        );
        assert!(t.failures[0].2.contains("wrong"));
    }

    #[test]
    fn formats() {
        assert_eq!(format_value(&None, 'I'), "NULL");
        assert_eq!(format_value(&Some("t".into()), 'I'), "1");
        assert_eq!(format_value(&Some("-3.7".into()), 'I'), "-3");
        assert_eq!(format_value(&Some("2".into()), 'R'), "2.000");
        assert_eq!(format_value(&Some("".into()), 'T'), "(empty)");
    }
}
