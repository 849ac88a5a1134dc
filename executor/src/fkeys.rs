//! FOREIGN KEY enforcement. A referencing row's key must be held by a live
//! row of the referenced table, which is then locked FOR KEY SHARE so it
//! cannot be deleted (or its key changed) until this transaction ends.
//! Deleting a referenced row, or changing its key, acts on the referencing
//! rows: an error (NO ACTION, RESTRICT), the same change (CASCADE), or
//! NULLs (SET NULL). A NULL in a referencing key matches nothing and is
//! allowed (MATCH SIMPLE).

use crate::error::{ExecError, Result};
use crate::exec::{Ctx, TableScan};
use crate::session::Session;
use basalt_catalog::store::{FkAction, ForeignKey};
use basalt_catalog::{TableDef, Value};
use basalt_planner::{BinOp, Expr, IndexBounds, Plan, Target};
use basalt_storage::{RowMode, WaitPolicy, WriteOutcome};
use std::sync::Arc;

fn key_text(row: &[Value], cols: &[usize]) -> String {
    cols.iter()
        .map(|&c| row[c].to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn col_names(t: &TableDef, cols: &[usize]) -> String {
    cols.iter()
        .map(|&c| t.columns[c].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Session {
    /// The foreign keys of `table` hold for `row` (`old`: the version an
    /// UPDATE replaces; an unchanged key needs no check).
    pub(crate) fn check_foreign_keys(
        &self,
        table: &TableDef,
        row: &[Value],
        old: Option<&[Value]>,
        cx: &Ctx<'_>,
    ) -> Result<()> {
        for fk in &table.fks {
            if fk.cols.iter().any(|&c| row[c].is_null()) {
                continue;
            }
            if let Some(o) = old {
                if fk.cols.iter().all(|&c| o[c] == row[c]) {
                    continue;
                }
            }
            let Some(parent) = cx.schema.table_by_oid(fk.table).cloned() else {
                continue;
            };
            if !self.referenced_row_locked(&parent, fk, row, cx)? {
                return Err(ExecError::ForeignKeyViolation {
                    table: table.name.clone(),
                    constraint: fk.name.clone(),
                    msg: format!(
                        "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                        table.name, fk.name
                    ),
                    detail: format!(
                        "Key ({})=({}) is not present in table \"{}\".",
                        col_names(table, &fk.cols),
                        key_text(row, &fk.cols),
                        parent.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// Finds the referenced row holding `row`'s key and locks it FOR KEY
    /// SHARE; false when there is none.
    fn referenced_row_locked(
        &self,
        parent: &TableDef,
        fk: &ForeignKey,
        row: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<bool> {
        let st = &self.db.st;
        let mut sorted = fk.ref_cols.clone();
        sorted.sort();
        let Some(ix) = parent.indexes.iter().find(|ix| {
            let mut c = ix.columns.clone();
            c.sort();
            ix.unique && ix.predicate.is_none() && c == sorted
        }) else {
            return Ok(false);
        };
        // The key in the index's column order.
        let mut vals = vec![Value::Null; parent.columns.len()];
        for (&c, &p) in fk.cols.iter().zip(&fk.ref_cols) {
            vals[p] = basalt_catalog::cast::cast(row[c].clone(), &parent.columns[p].ty)?;
        }
        let key = crate::dml::index_key(&vals, &ix.columns);
        for _ in 0..100 {
            match self.live_holder(parent, ix, &key, None, cx)? {
                Ok(None) => return Ok(false),
                Err(x) => st.wait_for_xid(x, Some(&cx.txn.wait))?,
                Ok(Some(tid)) => {
                    let w = cx.writer(WaitPolicy::Block)?;
                    match st.heap_lock(parent.filenode, tid, &w, RowMode::KeyShare)? {
                        WriteOutcome::Ok(_) | WriteOutcome::SelfModified => return Ok(true),
                        // Changed meanwhile: look again.
                        _ => continue,
                    }
                }
            }
        }
        Ok(false)
    }

    /// After a row of `table` was deleted (`new` None) or updated: the
    /// rows that referenced its key get their foreign keys' actions.
    pub(crate) fn referencing_actions(
        &self,
        table: &TableDef,
        old: &[Value],
        new: Option<&[Value]>,
        cx: &Ctx<'_>,
    ) -> Result<()> {
        for child in &cx.schema.tables {
            for fk in child.fks.iter().filter(|f| f.table == table.oid) {
                if let Some(n) = new {
                    if fk.ref_cols.iter().all(|&c| old[c] == n[c]) {
                        continue;
                    }
                }
                if fk.ref_cols.iter().any(|&c| old[c].is_null()) {
                    continue;
                }
                let target = referencing_target(child, fk, old);
                let action = if new.is_some() {
                    fk.on_update
                } else {
                    fk.on_delete
                };
                match action {
                    FkAction::NoAction | FkAction::Restrict => {
                        let mut scan = TableScan::new(&target.scan, cx)?;
                        if scan.next_row(cx)?.is_some() {
                            return Err(ExecError::ForeignKeyViolation {
                                table: table.name.clone(),
                                constraint: fk.name.clone(),
                                msg: format!(
                                    "update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
                                    table.name, fk.name, child.name
                                ),
                                detail: format!(
                                    "Key ({})=({}) is still referenced from table \"{}\".",
                                    col_names(table, &fk.ref_cols),
                                    key_text(old, &fk.ref_cols),
                                    child.name
                                ),
                            });
                        }
                    }
                    FkAction::Cascade => match new {
                        None => {
                            self.modify_rows(&target, None, None, cx)?;
                        }
                        Some(n) => {
                            let asg: Vec<(usize, Expr)> = fk
                                .cols
                                .iter()
                                .zip(&fk.ref_cols)
                                .map(|(&c, &p)| (c, Expr::Literal(n[p].clone())))
                                .collect();
                            self.modify_rows(&target, Some(&asg), None, cx)?;
                        }
                    },
                    FkAction::SetNull => {
                        let asg: Vec<(usize, Expr)> = fk
                            .cols
                            .iter()
                            .map(|&c| (c, Expr::Literal(Value::Null)))
                            .collect();
                        self.modify_rows(&target, Some(&asg), None, cx)?;
                    }
                    FkAction::SetDefault => {
                        // Each column's DEFAULT (NULL without one); the rows
                        // are then checked against the parent like any update.
                        let mut asg: Vec<(usize, Expr)> = Vec::new();
                        for &c in &fk.cols {
                            let col = &child.columns[c];
                            let e = match &col.default {
                                Some(sql) => {
                                    let (x, _) = basalt_planner::bind::bind_table_expr(
                                        cx.schema, child, sql,
                                    )?;
                                    Expr::Cast(Box::new(x), col.ty)
                                }
                                None => Expr::Literal(Value::Null),
                            };
                            asg.push((c, e));
                        }
                        // Defaults that are the key going away leave the rows
                        // referring to nothing: PostgreSQL's check fails.
                        let defaults: Vec<Value> = asg
                            .iter()
                            .map(|(_, e)| crate::eval::eval(e, &[], &cx.eval))
                            .collect::<Result<_>>()?;
                        let same = defaults
                            .iter()
                            .zip(&fk.ref_cols)
                            .all(|(d, &p)| !d.is_null() && *d == old[p]);
                        if same && new.is_none_or(|n| fk.ref_cols.iter().any(|&p| n[p] != old[p])) {
                            let mut scan = TableScan::new(&target.scan, cx)?;
                            if scan.next_row(cx)?.is_some() {
                                return Err(ExecError::ForeignKeyViolation {
                                    table: child.name.clone(),
                                    constraint: fk.name.clone(),
                                    msg: format!(
                                        "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                                        child.name, fk.name
                                    ),
                                    detail: format!(
                                        "Key ({})=({}) is not present in table \"{}\".",
                                        col_names(child, &fk.cols),
                                        defaults.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
                                        table.name
                                    ),
                                });
                            }
                        }
                        self.modify_rows(&target, Some(&asg), None, cx)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The rows of `child` whose key `fk` references `old`'s: an index scan
/// when an index starts with the key columns, else a filtered table scan.
fn referencing_target(child: &Arc<TableDef>, fk: &ForeignKey, old: &[Value]) -> Target {
    let pred = fk
        .cols
        .iter()
        .zip(&fk.ref_cols)
        .map(|(&c, &p)| {
            Expr::Binary(
                BinOp::Eq,
                Box::new(Expr::Column(c)),
                Box::new(Expr::Literal(
                    basalt_catalog::cast::cast(old[p].clone(), &child.columns[c].ty)
                        .unwrap_or(Value::Null),
                )),
            )
        })
        .reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b)))
        .expect("a foreign key has columns");
    let index = child.indexes.iter().position(|ix| {
        ix.predicate.is_none()
            && ix.columns.len() >= fk.cols.len()
            && ix.columns[..fk.cols.len()] == fk.cols[..]
    });
    let scan = match index {
        Some(index) => Plan::IndexScan {
            table: child.clone(),
            index,
            bounds: IndexBounds {
                eq: fk
                    .cols
                    .iter()
                    .zip(&fk.ref_cols)
                    .map(|(&c, &p)| {
                        Expr::Literal(
                            basalt_catalog::cast::cast(old[p].clone(), &child.columns[c].ty)
                                .unwrap_or(Value::Null),
                        )
                    })
                    .collect(),
                lo: None,
                hi: None,
            },
            filter: Some(pred.clone()),
        },
        None => Plan::SeqScan {
            table: child.clone(),
            filter: Some(pred.clone()),
        },
    };
    Target {
        table: child.clone(),
        scan,
        pred: Some(pred),
        from: None,
    }
}
