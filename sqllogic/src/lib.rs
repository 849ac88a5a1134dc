//! A sqllogictest runner that drives `.slt` files in-process through the
//! executor: `statement ok`, `statement error [SQLSTATE-free message part]`,
//! and `query <types> [rowsort]` with expected rows (NULL as `NULL`, empty
//! text as `(empty)`), values separated by spaces.

use basalt_executor::Session;

pub fn run_file(session: &mut Session, path: &std::path::Path) -> Result<usize, String> {
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
        let res = session
            .execute_sql(&sql)
            .pop()
            .unwrap_or_else(|| Ok(Default::default()));
        let loc = format!("{}: {}", path.display(), sql);
        if head.starts_with("statement ok") {
            res.map_err(|e| format!("{loc}: unexpected error: {e}"))?;
        } else if let Some(want) = head.strip_prefix("statement error") {
            match res {
                Ok(_) => return Err(format!("{loc}: expected an error")),
                Err(e) if !e.to_string().contains(want.trim()) => {
                    return Err(format!(
                        "{loc}: error \"{e}\" does not contain \"{}\"",
                        want.trim()
                    ))
                }
                Err(_) => {}
            }
        } else if head.starts_with("query") {
            let r = res.map_err(|e| format!("{loc}: unexpected error: {e}"))?;
            let mut got: Vec<String> = r
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| {
                            if v.is_null() {
                                "NULL".to_string()
                            } else {
                                let s = v.to_string();
                                if s.is_empty() {
                                    "(empty)".into()
                                } else {
                                    s
                                }
                            }
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
