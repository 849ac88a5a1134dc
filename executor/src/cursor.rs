//! SQL cursors: DECLARE, FETCH, MOVE, CLOSE. A cursor's query runs at
//! DECLARE over the statement's snapshot and its rows go to a `RowStore`
//! (bounded memory, the rest on disk); FETCH reads them by position as
//! PostgreSQL's cursor positions go: 0 is before the first row, n + 1
//! after the last. A cursor lives until CLOSE or the end of its
//! transaction, WITH HOLD ones until CLOSE or the end of the session (or a
//! rollback of the transaction that declared them).

use crate::error::{ExecError, Result};
use crate::rowstore::RowStore;
use crate::session::{ExecResult, Session};
use basalt_parser::FetchDir;
use basalt_planner::{Field, Query, Statement};
use std::collections::HashMap;

pub(crate) struct Cursor {
    fields: Vec<Field>,
    rows: RowStore,
    pos: usize,
    hold: bool,
    scroll: bool,
    /// Declared by the running transaction (a rollback drops it).
    new: bool,
    /// The DECLARE statement's text and time (pg_cursors).
    sql: String,
    at: chrono::DateTime<chrono::Utc>,
}

pub(crate) type Cursors = HashMap<String, Cursor>;

impl Cursor {
    fn on_row(&self, len: usize) -> bool {
        self.pos >= 1 && self.pos <= len
    }

    /// One row on (or back); whether that lands on a row.
    fn step(&mut self, forward: bool, len: usize) -> bool {
        if forward {
            if self.pos > len {
                return false;
            }
            self.pos += 1;
        } else {
            if self.pos == 0 {
                return false;
            }
            self.pos -= 1;
        }
        self.on_row(len)
    }
}

fn no_cursor(name: &str) -> ExecError {
    ExecError::coded("34000", format!("cursor \"{name}\" does not exist"))
}

impl Session {
    pub(crate) fn declare_cursor(
        &mut self,
        name: &str,
        query: &Query,
        hold: bool,
        scroll: bool,
        params: &[basalt_catalog::Value],
    ) -> Result<ExecResult> {
        if !hold && !self.in_transaction_block() {
            return Err(ExecError::NoActiveSqlTransaction(
                "DECLARE CURSOR can only be used in transaction blocks".into(),
            ));
        }
        if self.cursors.contains_key(name) {
            return Err(ExecError::coded(
                "42P03",
                format!("cursor \"{name}\" already exists"),
            ));
        }
        let as_stmt = Statement::Query(query.clone());
        self.check_privileges(&as_stmt)?;
        self.lock_statement_tables(&as_stmt)?;
        let mut rows = RowStore::new(&self.db.st.dir);
        self.for_each_row(&query.plan, params, |r| rows.push(r))?;
        self.cursors.insert(
            name.to_string(),
            Cursor {
                fields: query.fields.clone(),
                rows,
                pos: 0,
                hold,
                scroll,
                new: true,
                sql: self.backend.activity.lock().query.clone(),
                at: chrono::Utc::now(),
            },
        );
        Ok(ExecResult {
            tag: "DECLARE CURSOR".into(),
            ..Default::default()
        })
    }

    /// The columns FETCH from this cursor returns (Describe).
    pub fn cursor_fields(&self, name: &str) -> Option<Vec<Field>> {
        self.cursors.get(name).map(|c| c.fields.clone())
    }

    pub(crate) fn fetch(
        &mut self,
        name: &str,
        dir: FetchDir,
        move_only: bool,
    ) -> Result<ExecResult> {
        let c = self.cursors.get_mut(name).ok_or_else(|| no_cursor(name))?;
        let len = c.rows.len();
        let backward = match dir {
            FetchDir::Backward(n) => n.is_none_or(|n| n > 0),
            FetchDir::Forward(Some(n)) => n < 0,
            FetchDir::Absolute(n) => (n as i128) < c.pos as i128 && n >= 0,
            FetchDir::Relative(n) => n < 0,
            FetchDir::Forward(None) => false,
        };
        if backward && !c.scroll {
            return Err(ExecError::Plan(basalt_planner::PlanError::Detailed {
                code: "55000",
                msg: "cursor can only scan forward".into(),
                detail: String::new(),
                hint: Some("Declare it with SCROLL option to enable backward scan.".into()),
            }));
        }
        let mut out = Vec::new();
        let mut count = 0u64;
        let mut keep = |c: &mut Cursor, count: &mut u64| -> Result<()> {
            *count += 1;
            if !move_only {
                out.extend(c.rows.get(c.pos - 1)?);
            }
            Ok(())
        };
        match dir {
            FetchDir::Forward(Some(0)) | FetchDir::Backward(Some(0)) | FetchDir::Relative(0) => {
                // The current row again.
                if c.on_row(len) {
                    keep(c, &mut count)?;
                }
            }
            FetchDir::Forward(n) | FetchDir::Backward(n) => {
                let fwd = matches!(dir, FetchDir::Forward(_)) == n.is_none_or(|n| n >= 0);
                let mut k = n.map_or(u64::MAX, |n| n.unsigned_abs());
                while k > 0 && c.step(fwd, len) {
                    keep(c, &mut count)?;
                    k -= 1;
                }
            }
            FetchDir::Absolute(n) | FetchDir::Relative(n) => {
                let target: i128 = match dir {
                    FetchDir::Absolute(n) if n >= 0 => n as i128,
                    FetchDir::Absolute(n) => len as i128 + 1 + n as i128,
                    _ => c.pos as i128 + n as i128,
                };
                c.pos = target.clamp(0, len as i128 + 1) as usize;
                if c.on_row(len) {
                    keep(c, &mut count)?;
                }
            }
        }
        let fields = c.fields.clone();
        Ok(ExecResult {
            tag: format!("{} {count}", if move_only { "MOVE" } else { "FETCH" }),
            fields: (!move_only).then_some(fields),
            rows: out,
            ..Default::default()
        })
    }

    pub(crate) fn close_cursor(&mut self, name: Option<&str>) -> Result<ExecResult> {
        let tag = match name {
            None => {
                self.cursors.clear();
                "CLOSE CURSOR ALL"
            }
            Some(n) => {
                self.cursors.remove(n).ok_or_else(|| no_cursor(n))?;
                "CLOSE CURSOR"
            }
        };
        Ok(ExecResult {
            tag: tag.into(),
            ..Default::default()
        })
    }

    /// At the end of a transaction: its cursors close, but WITH HOLD ones
    /// it committed.
    pub(crate) fn end_cursors(&mut self, committed: bool) {
        if self.cursors.is_empty() {
            return;
        }
        self.cursors.retain(|_, c| c.hold && (committed || !c.new));
        for c in self.cursors.values_mut() {
            c.new = false;
        }
    }

    /// pg_cursors and pg_prepared_statements rows.
    pub(crate) fn session_object_rows(&self, view: &str) -> Vec<Vec<basalt_catalog::Value>> {
        use basalt_catalog::Value;
        let mut rows: Vec<Vec<Value>> = match view {
            "pg_cursors" => self
                .cursors
                .iter()
                .map(|(n, c)| {
                    vec![
                        Value::Text(n.clone()),
                        Value::Text(c.sql.clone()),
                        Value::Bool(c.hold),
                        Value::Bool(false),
                        Value::Bool(c.scroll),
                        Value::TimestampTz(c.at),
                    ]
                })
                .collect(),
            _ => self
                .sql_prepared
                .iter()
                .map(|(n, p)| {
                    let types: Vec<String> =
                        p.param_types().iter().map(|t| t.display_name()).collect();
                    vec![
                        Value::Text(n.clone()),
                        Value::Text(p.sql.clone()),
                        Value::TimestampTz(p.at),
                        Value::Text(format!("{{{}}}", types.join(","))),
                        Value::Bool(true),
                        Value::Int8(0),
                        Value::Int8(0),
                    ]
                })
                .collect(),
        };
        rows.sort_by(|a, b| a[0].cmp_total(&b[0]));
        rows
    }
}
