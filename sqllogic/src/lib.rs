//! A sqllogictest runner that drives `.slt` files in-process through the
//! executor, or over the wire (see `client`) against a started `basalt` or
//! a real PostgreSQL: `statement ok`, `statement error [SQLSTATE-free message part]`,
//! and `query <types> [rowsort]` with expected rows (NULL as `NULL`, empty
//! text as `(empty)`), values separated by spaces.

pub mod client;
pub mod corpus;

use basalt_executor::Session;

/// What a record's SQL produced: rows as text (None for NULL), a command,
/// or an error message.
pub type Answer = Result<Option<Vec<Vec<Option<String>>>>, String>;

/// Something that runs SQL: a session in-process, or a wire client.
pub trait Db {
    /// Runs one record's SQL and returns the last statement's answer.
    fn run(&mut self, sql: &str) -> Answer;
}

impl Db for Session {
    fn run(&mut self, sql: &str) -> Answer {
        match self.execute_sql(sql).pop() {
            None => Ok(None),
            Some(Err(e)) => Err(e.to_string()),
            Some(Ok(r)) if r.fields.is_some() => Ok(Some(
                r.rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|v| (!v.is_null()).then(|| v.to_string()))
                            .collect()
                    })
                    .collect(),
            )),
            Some(Ok(_)) => Ok(None),
        }
    }
}

impl Db for client::Client {
    fn run(&mut self, sql: &str) -> Answer {
        match self.simple_query(sql) {
            Err(e) => Err(format!("connection failed: {e}")),
            Ok(mut outs) => match outs.pop() {
                None => Ok(None),
                Some(client::Outcome::Rows(r)) => Ok(Some(r)),
                Some(client::Outcome::Command(_)) => Ok(None),
                Some(client::Outcome::Error(e)) => Err(e.message),
            },
        }
    }
}

/// Runs one .slt file; returns the number of records or the first failure.
pub fn run_file(db: &mut dyn Db, path: &std::path::Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut n = 0;
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        let head = lines[0];
        let (sql_lines, expected): (Vec<&str>, Vec<&str>) =
            match lines.iter().position(|l| *l == "----") {
                Some(p) => (lines[1..p].to_vec(), lines[p + 1..].to_vec()),
                None => (lines[1..].to_vec(), vec![]),
            };
        let sql = sql_lines.join("\n");
        let res = db.run(&sql);
        let loc = format!("{}: {}", path.display(), sql);
        if head.starts_with("statement ok") {
            res.map_err(|e| format!("{loc}: unexpected error: {e}"))?;
        } else if let Some(want) = head.strip_prefix("statement error") {
            match res {
                Ok(_) => return Err(format!("{loc}: expected an error")),
                Err(e) if !e.contains(want.trim()) => {
                    return Err(format!(
                        "{loc}: error \"{e}\" does not contain \"{}\"",
                        want.trim()
                    ))
                }
                Err(_) => {}
            }
        } else if head.starts_with("query") {
            let rows = res
                .map_err(|e| format!("{loc}: unexpected error: {e}"))?
                .ok_or_else(|| format!("{loc}: returned no rows"))?;
            let mut got: Vec<String> = rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| match v {
                            None => "NULL".to_string(),
                            Some(s) if s.is_empty() => "(empty)".to_string(),
                            Some(s) => s.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            if head.contains("rowsort") {
                got.sort();
                want.sort();
            }
            if got != want {
                return Err(format!("{loc}:\n expected: {want:?}\n      got: {got:?}"));
            }
        } else {
            return Err(format!("{}: unknown record \"{head}\"", path.display()));
        }
        n += 1;
    }
    Ok(n)
}

/// The .slt files under sqllogic/slt, sorted. The directory is found at
/// run time from the package being tested (`CARGO_MANIFEST_DIR`, which is
/// `sqllogic/` or a sibling of it), so a test binary built in another
/// checkout still reads this checkout's files.
pub fn slt_files() -> Vec<std::path::PathBuf> {
    let pkg = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let pkg = std::path::Path::new(&pkg);
    let dir = if pkg.join("slt").is_dir() {
        pkg.join("slt")
    } else {
        pkg.join("../sqllogic/slt")
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "slt"))
                // SLT_FILTER=name runs only the files whose name holds it.
                .filter(|p| {
                    std::env::var("SLT_FILTER").map_or(true, |f| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().contains(&f))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
