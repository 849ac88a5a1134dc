//! INSERT, UPDATE and DELETE: rows stored with their index entries (unique
//! keys checked under a per-key lock, waiting for a transaction that holds
//! the key), row versions taken with row locks, READ COMMITTED's re-check of
//! a row changed concurrently, REPEATABLE READ's serialization failures,
//! and the SSI conflicts a serializable writer creates.

use crate::error::{ExecError, Result};
use crate::eval::{cast_keep_type, eval};
use crate::exec::{self, Ctx, Row, TableScan};
use crate::session::{ExecResult, Session};
use basalt_catalog::types::{encode_key, encode_row};
use basalt_catalog::{TableDef, Value};
use basalt_planner::{OnConflict, Plan, Query, Target};
use basalt_storage::{KeyRange, StorageError, Tid, WaitPolicy, WriteOutcome};
use std::sync::Arc;

impl Session {
    /// The table's CHECK constraints hold for `row` (NULL counts as true).
    pub(crate) fn check_constraints(
        &self,
        table: &TableDef,
        row: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<()> {
        if table.checks.is_empty() {
            return Ok(());
        }
        let key = (
            table.checks.clone(),
            table
                .columns
                .iter()
                .map(|c| format!("{} {:?}", c.name, c.ty))
                .collect::<Vec<_>>(),
        );
        let bound = {
            let cached = self.check_cache.borrow().get(&key).cloned();
            match cached {
                Some(b) => b,
                None => {
                    let mut v = Vec::new();
                    for (n, sql) in &table.checks {
                        v.push((
                            n.clone(),
                            basalt_planner::bind_check(cx.schema, table, sql)?,
                        ));
                    }
                    let b = std::rc::Rc::new(v);
                    self.check_cache.borrow_mut().insert(key, b.clone());
                    b
                }
            }
        };
        for (name, e) in bound.iter() {
            if matches!(eval(e, row, &cx.eval)?, Value::Bool(false)) {
                return Err(ExecError::CheckViolation {
                    table: table.name.clone(),
                    constraint: name.clone(),
                    detail: failing_row(row),
                });
            }
        }
        Ok(())
    }

    /// Checks NOT NULL, stores the row and its index entries.
    pub(crate) fn insert_row(
        &self,
        table: &TableDef,
        row: &[Value],
        cx: &Ctx<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<Tid> {
        check_not_null(table, row)?;
        self.check_constraints(table, row, cx)?;
        self.check_foreign_keys(table, row, None, cx)?;
        buf.clear();
        encode_row(row, buf);
        let w = cx.writer(WaitPolicy::Block)?;
        let tid = self.db.st.heap_insert(table.filenode, w.xid, w.cid, buf)?;
        if let Some(sid) = cx.txn.sid {
            self.db.st.ssi.conflict_in(sid, table.filenode, None)?;
        }
        self.insert_index_entries(table, row, None, tid, cx)?;
        Ok(tid)
    }

    /// Adds `row`'s entries to every index of the table. `old` is the
    /// version an UPDATE replaces: a unique key it leaves unchanged needs no
    /// check (we hold that row, so no one else can hold its key).
    pub(crate) fn insert_index_entries(
        &self,
        table: &TableDef,
        row: &[Value],
        old: Option<&[Value]>,
        tid: Tid,
        cx: &Ctx<'_>,
    ) -> Result<()> {
        let st = &self.db.st;
        for ix in &table.indexes {
            let Some((key, has_null)) = self.index_key_nulls(table, ix, row, cx)? else {
                // Outside a partial index.
                continue;
            };
            if let Some(sid) = cx.txn.sid {
                st.ssi.conflict_in_key(sid, ix.filenode, &key)?;
            }
            let same_key = match old {
                Some(o) if ix.unique => {
                    self.index_entry(table, ix, o, cx)?.as_deref() == Some(key.as_slice())
                }
                _ => false,
            };
            if !ix.unique || same_key || has_null {
                st.btree_insert(ix.filenode, &key, tid)?;
                continue;
            }
            loop {
                let guard = st.unique_lock(ix.filenode, &key);
                match self.live_holder(table, ix, &key, Some(tid), cx)? {
                    Ok(Some(_)) => {
                        let vals = self.index_values(table, ix, row, cx)?.unwrap_or_default();
                        return Err(ExecError::UniqueViolation {
                            index: ix.name.clone(),
                            detail: format!(
                                "Key ({})=({}) already exists.",
                                crate::ixkeys::key_names(table, ix),
                                crate::ixkeys::values_text(&vals)
                            ),
                        });
                    }
                    Err(x) => {
                        drop(guard);
                        st.wait_for_xid(x, Some(&cx.txn.wait))?;
                    }
                    Ok(None) => {
                        st.btree_insert(ix.filenode, &key, tid)?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The live row holding `key` in unique index `ix` (other than `skip`),
    /// or the transaction to wait for when the holder is not yet decided.
    /// An entry may be stale (its slot reused by VACUUM for another row):
    /// only a version with this key counts.
    pub(crate) fn live_holder(
        &self,
        table: &TableDef,
        ix: &basalt_catalog::IndexDef,
        key: &[u8],
        skip: Option<Tid>,
        cx: &Ctx<'_>,
    ) -> Result<std::result::Result<Option<Tid>, basalt_storage::Xid>> {
        let st = &self.db.st;
        let types = table.types();
        let has_key = |data: &[u8]| {
            basalt_catalog::types::decode_row(&types, data).is_some_and(|r| {
                self.index_entry(table, ix, &r, cx)
                    .ok()
                    .flatten()
                    .is_some_and(|k| k == key)
            })
        };
        let mut scan = st.btree_scan(ix.filenode, KeyRange::eq(key.to_vec()))?;
        loop {
            let batch = st.btree_next(&mut scan)?;
            if batch.is_empty() {
                return Ok(Ok(None));
            }
            for (k, other) in batch {
                if k != key || Some(other) == skip {
                    continue;
                }
                match st.tuple_conflicts(table.filenode, other, &cx.snap.own, &has_key)? {
                    Ok(true) => return Ok(Ok(Some(other))),
                    Ok(false) => {}
                    Err(x) => return Ok(Err(x)),
                }
            }
        }
    }

    /// ON CONFLICT: the existing row a proposed row conflicts with in one
    /// of the arbiter indexes (waiting out undecided holders).
    fn find_conflict(
        &self,
        table: &TableDef,
        oc: &OnConflict,
        row: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<Option<Tid>> {
        for &ii in &oc.indexes {
            let ix = &table.indexes[ii];
            let Some((key, false)) = self.index_key_nulls(table, ix, row, cx)? else {
                continue;
            };
            loop {
                match self.live_holder(table, ix, &key, None, cx)? {
                    Ok(Some(t)) => return Ok(Some(t)),
                    Ok(None) => break,
                    Err(x) => self.db.st.wait_for_xid(x, Some(&cx.txn.wait))?,
                }
            }
        }
        Ok(None)
    }

    /// ON CONFLICT DO UPDATE of the existing row (its newest version):
    /// whether it was updated (the WHERE may skip it).
    #[allow(clippy::too_many_arguments)]
    fn conflict_update(
        &self,
        table: &TableDef,
        mut tid: Tid,
        proposed: &[Value],
        update: &(
            Vec<(usize, basalt_planner::Expr)>,
            Option<basalt_planner::Expr>,
        ),
        returning: Option<&Query>,
        done: &mut std::collections::HashSet<Tid>,
        cx: &Ctx<'_>,
        ret: &mut Vec<Row>,
    ) -> Result<bool> {
        let st = &self.db.st;
        let w = cx.writer(WaitPolicy::Block)?;
        let types = table.types();
        let twice = || {
            ExecError::CardinalityViolation(
                "ON CONFLICT DO UPDATE command cannot affect row a second time".into(),
            )
        };
        loop {
            let Some((t, data)) = st.heap_latest(table.filenode, tid)? else {
                return Ok(false);
            };
            if done.contains(&t) {
                return Err(twice());
            }
            let cur = basalt_catalog::types::decode_row(&types, &data)
                .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
            let mut both = cur.clone();
            both.extend(proposed.iter().cloned());
            if let Some(p) = &update.1 {
                if !crate::eval::truthy(&eval(p, &both, &cx.eval)?) {
                    return Ok(false);
                }
            }
            let mut new = cur.clone();
            for (ci, e) in &update.0 {
                new[*ci] = eval(e, &both, &cx.eval)?;
            }
            let new = coerce_row(table, new)?;
            check_not_null(table, &new)?;
            self.check_constraints(table, &new, cx)?;
            self.check_foreign_keys(table, &new, Some(&cur), cx)?;
            let mut buf = Vec::new();
            encode_row(&new, &mut buf);
            let key_change = self.unique_key_changed(table, &cur, &new, cx)?;
            let outcome = st.heap_update(table.filenode, t, &w, &buf, key_change)?;
            cx.serialization_check(&outcome)?;
            match outcome {
                WriteOutcome::Ok(newtid) => {
                    if let Some(sid) = cx.txn.sid {
                        st.ssi.conflict_in(sid, table.filenode, Some(t))?;
                    }
                    self.insert_index_entries(table, &new, Some(&cur), newtid, cx)?;
                    self.referencing_actions(table, &cur, Some(&new), cx)?;
                    self.returning_rows(returning, &new, cx, ret)?;
                    done.insert(newtid);
                    return Ok(true);
                }
                WriteOutcome::Updated(next) => tid = next,
                WriteOutcome::SelfModified => return Err(twice()),
                WriteOutcome::Deleted | WriteOutcome::Locked => return Ok(false),
            }
        }
    }

    pub(crate) fn returning_rows(
        &self,
        q: Option<&Query>,
        row: &[Value],
        cx: &Ctx<'_>,
        out: &mut Vec<Row>,
    ) -> Result<()> {
        if let Some(Query {
            plan: Plan::Project { exprs, .. },
            ..
        }) = q
        {
            out.push(
                exprs
                    .iter()
                    .map(|e| eval(e, row, &cx.eval))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Ok(())
    }

    pub(crate) fn insert(
        &mut self,
        table: &Arc<TableDef>,
        source: &Plan,
        returning: Option<&Query>,
        on_conflict: Option<&OnConflict>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.xid();
        self.with_ctx(params, |cx| {
            self.insert_rows(table, source, returning, on_conflict, cx)
        })
    }

    pub(crate) fn insert_rows(
        &self,
        table: &TableDef,
        source: &Plan,
        returning: Option<&Query>,
        on_conflict: Option<&OnConflict>,
        cx: &Ctx<'_>,
    ) -> Result<ExecResult> {
        let mut it = exec::build(source, cx)?;
        let mut n = 0u64;
        let mut buf = Vec::new();
        let mut ret = Vec::new();
        let mut done = std::collections::HashSet::new();
        while let Some(row) = it.next(cx)? {
            let row = coerce_row(table, row)?;
            if let Some(oc) = on_conflict {
                if let Some(tid) = self.find_conflict(table, oc, &row, cx)? {
                    if let Some(u) = &oc.update {
                        if self.conflict_update(
                            table, tid, &row, u, returning, &mut done, cx, &mut ret,
                        )? {
                            n += 1;
                        }
                    }
                    continue;
                }
            }
            let tid = self.insert_row(table, &row, cx, &mut buf)?;
            if on_conflict.is_some() {
                done.insert(tid);
            }
            self.returning_rows(returning, &row, cx, &mut ret)?;
            n += 1;
        }
        crate::stats::count(cx.table_stats, table.oid, crate::stats::N_TUP_INS, n);
        Ok(ExecResult {
            tag: format!("INSERT 0 {n}"),
            fields: returning.map(|q| q.fields.clone()),
            rows: ret,
            ..Default::default()
        })
    }

    pub(crate) fn update(
        &mut self,
        target: &Target,
        assignments: &[(usize, basalt_planner::Expr)],
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.modify(target, Some(assignments), returning, params)
    }

    pub(crate) fn delete(
        &mut self,
        target: &Target,
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.modify(target, None, returning, params)
    }

    /// UPDATE (assignments given) or DELETE. A row changed by a transaction
    /// that committed after our snapshot is re-read at its newest version and
    /// the WHERE clause re-checked (READ COMMITTED, as EvalPlanQual does).
    pub(crate) fn modify(
        &mut self,
        target: &Target,
        assignments: Option<&[(usize, basalt_planner::Expr)]>,
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.xid();
        self.with_ctx(params, |cx| {
            self.modify_rows(target, assignments, returning, cx)
        })
    }

    pub(crate) fn modify_rows(
        &self,
        target: &Target,
        assignments: Option<&[(usize, basalt_planner::Expr)]>,
        returning: Option<&Query>,
        cx: &Ctx<'_>,
    ) -> Result<ExecResult> {
        let w = cx.writer(WaitPolicy::Block)?;
        let sid = cx.txn.sid;
        let table = &target.table;
        let st = &self.db.st;
        let types = table.types();
        let from = match &target.from {
            Some(f) => Some(FromRows::new(f, cx)?),
            None => None,
        };
        let mut scan = TableScan::new(&target.scan, cx)?;
        let mut n = 0u64;
        let mut buf = Vec::new();
        let mut ret = Vec::new();
        while let Some((tid0, row0)) = scan.next_row(cx)? {
            let (mut tid, mut row) = (tid0, row0);
            loop {
                // With FROM/USING: the target row joined to its first match.
                let joined = match &from {
                    None => None,
                    Some(f) => match f.matching(&row, cx)? {
                        Some(j) => Some(j),
                        None => break,
                    },
                };
                let input = joined.as_deref().unwrap_or(&row);
                let outcome = match assignments {
                    Some(asg) => {
                        let mut new = row.clone();
                        for (ci, e) in asg {
                            new[*ci] = eval(e, input, &cx.eval)?;
                        }
                        let new = coerce_row(table, new)?;
                        check_not_null(table, &new)?;
                        self.check_constraints(table, &new, cx)?;
                        self.check_foreign_keys(table, &new, Some(&row), cx)?;
                        buf.clear();
                        encode_row(&new, &mut buf);
                        let key_change = self.unique_key_changed(table, &row, &new, cx)?;
                        match st.heap_update(table.filenode, tid, &w, &buf, key_change)? {
                            WriteOutcome::Ok(newtid) => {
                                if let Some(sid) = sid {
                                    st.ssi.conflict_in(sid, table.filenode, Some(tid))?;
                                }
                                self.insert_index_entries(table, &new, Some(&row), newtid, cx)?;
                                self.referencing_actions(table, &row, Some(&new), cx)?;
                                match &joined {
                                    Some(j) => {
                                        let mut r = new.clone();
                                        r.extend(j[row.len()..].iter().cloned());
                                        self.returning_rows(returning, &r, cx, &mut ret)?;
                                    }
                                    None => self.returning_rows(returning, &new, cx, &mut ret)?,
                                }
                                WriteOutcome::Ok(newtid)
                            }
                            o => o,
                        }
                    }
                    None => match st.heap_delete(table.filenode, tid, &w)? {
                        WriteOutcome::Ok(t) => {
                            if let Some(sid) = sid {
                                st.ssi.conflict_in(sid, table.filenode, Some(tid))?;
                            }
                            self.referencing_actions(table, &row, None, cx)?;
                            self.returning_rows(returning, input, cx, &mut ret)?;
                            WriteOutcome::Ok(t)
                        }
                        o => o,
                    },
                };
                cx.serialization_check(&outcome)?;
                match outcome {
                    WriteOutcome::Ok(_) => {
                        n += 1;
                        break;
                    }
                    WriteOutcome::Deleted | WriteOutcome::SelfModified | WriteOutcome::Locked => {
                        break
                    }
                    WriteOutcome::Updated(next) => match st.heap_latest(table.filenode, next)? {
                        None => break,
                        Some((t, data)) => {
                            let r = basalt_catalog::types::decode_row(&types, &data)
                                .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
                            let still = match &target.pred {
                                Some(p) => crate::eval::truthy(&eval(p, &r, &cx.eval)?),
                                None => true,
                            };
                            if !still {
                                break;
                            }
                            tid = t;
                            row = r;
                        }
                    },
                }
            }
        }
        let verb = if assignments.is_some() {
            crate::stats::count(cx.table_stats, table.oid, crate::stats::N_TUP_UPD, n);
            "UPDATE"
        } else {
            crate::stats::count(cx.table_stats, table.oid, crate::stats::N_TUP_DEL, n);
            "DELETE"
        };
        Ok(ExecResult {
            tag: format!("{verb} {n}"),
            fields: returning.map(|q| q.fields.clone()),
            rows: ret,
            ..Default::default()
        })
    }
}

/// The rows of UPDATE ... FROM / DELETE ... USING, hashed by their keys.
struct FromRows<'p> {
    f: &'p basalt_planner::FromJoin,
    by_key: std::collections::HashMap<Vec<Value>, Vec<Row>>,
}

impl<'p> FromRows<'p> {
    fn new(f: &'p basalt_planner::FromJoin, cx: &Ctx<'_>) -> Result<FromRows<'p>> {
        let mut it = exec::build(&f.plan, cx)?;
        let mut by_key: std::collections::HashMap<Vec<Value>, Vec<Row>> = Default::default();
        while let Some(r) = it.next(cx)? {
            let key = f
                .keys
                .iter()
                .map(|(_, e)| eval(e, &r, &cx.eval))
                .collect::<Result<Vec<_>>>()?;
            if key.iter().any(|v| v.is_null()) {
                continue;
            }
            by_key.entry(key).or_default().push(r);
        }
        Ok(FromRows { f, by_key })
    }

    /// The target row followed by its first matching FROM row.
    fn matching(&self, row: &[Value], cx: &Ctx<'_>) -> Result<Option<Row>> {
        let key = self
            .f
            .keys
            .iter()
            .map(|(e, _)| eval(e, row, &cx.eval))
            .collect::<Result<Vec<_>>>()?;
        let Some(cands) = self.by_key.get(&key) else {
            return Ok(None);
        };
        for c in cands {
            let mut j = row.to_vec();
            j.extend(c.iter().cloned());
            let ok = match &self.f.residual {
                Some(p) => crate::eval::truthy(&eval(p, &j, &cx.eval)?),
                None => true,
            };
            if ok {
                return Ok(Some(j));
            }
        }
        Ok(None)
    }
}

/// PostgreSQL's DETAIL for a row a constraint refuses.
pub(crate) fn failing_row(row: &[Value]) -> String {
    format!(
        "Failing row contains ({}).",
        row.iter()
            .map(|v| if v.is_null() {
                "null".to_string()
            } else {
                v.to_string()
            })
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub(crate) fn check_not_null(table: &TableDef, row: &[Value]) -> Result<()> {
    match table
        .columns
        .iter()
        .zip(row)
        .find(|(c, v)| c.not_null && v.is_null())
    {
        Some((c, _)) => Err(ExecError::NotNull {
            column: c.name.clone(),
            table: table.name.clone(),
            detail: failing_row(row),
        }),
        None => Ok(()),
    }
}

pub(crate) fn coerce_row(table: &TableDef, row: Row) -> Result<Row> {
    row.into_iter()
        .zip(&table.columns)
        .map(|(v, c)| cast_keep_type(v, &c.ty))
        .collect()
}

pub fn index_key(row: &[Value], cols: &[usize]) -> Vec<u8> {
    let mut k = Vec::new();
    for &c in cols {
        encode_key(&row[c], &mut k);
    }
    k
}
