//! The table locks statements take (PostgreSQL's modes: ACCESS SHARE for
//! reads, ROW SHARE for FOR UPDATE, ROW EXCLUSIVE for writes, SHARE for
//! CREATE INDEX, ACCESS EXCLUSIVE for DDL, and LOCK TABLE's), held to the
//! end of the transaction; READ ONLY's refusals; and the check that a plan
//! still matches the tables it locked (else the caller plans again).

use crate::error::{ExecError, Result};
use crate::session::Session;
use crate::txn::DDL_LOCK_REL;
use basalt_catalog::TableDef;
use basalt_planner::{Plan, Statement};
use basalt_storage::{TableLockMode, WaitPolicy, Xid};
use std::sync::Arc;

impl Session {
    /// Takes a table lock for this transaction (held to its end).
    pub(crate) fn lock_table(
        &mut self,
        rel: u32,
        mode: TableLockMode,
        nowait: bool,
        name: &str,
    ) -> Result<()> {
        self.ensure_txn();
        let w = self.wait_ctx();
        let policy = if nowait {
            WaitPolicy::NoWait
        } else {
            WaitPolicy::Block
        };
        if !self.db.st.locks.lock_table(rel, mode, &w, policy)? {
            return Err(ExecError::LockNotAvailable(format!(
                "could not obtain lock on relation \"{name}\""
            )));
        }
        Ok(())
    }

    /// Takes the DDL lock (one DDL transaction at a time) and marks the
    /// transaction as changing the catalog.
    pub(crate) fn ddl_lock(&mut self) -> Result<Xid> {
        let xid = self.xid();
        self.lock_table(
            DDL_LOCK_REL,
            TableLockMode::AccessExclusive,
            false,
            "pg_class",
        )?;
        self.txn.as_mut().expect("in txn").ddl = true;
        Ok(xid)
    }
}

/// The tables a plan reads, with the lock each needs (LockRows: RowShare).
pub(crate) fn plan_tables<'p>(plan: &'p Plan, out: &mut Vec<(&'p Arc<TableDef>, TableLockMode)>) {
    match plan {
        Plan::SeqScan { table, .. } | Plan::IndexScan { table, .. } => {
            out.push((table, TableLockMode::AccessShare))
        }
        Plan::LockRows { input, table, .. } => {
            out.push((table, TableLockMode::RowShare));
            plan_tables(input, out);
        }
        Plan::LockJoinRows { input, targets, .. } => {
            plan_tables(input, out);
            for t in targets {
                out.push((&t.table, TableLockMode::RowShare));
            }
        }
        Plan::Single
        | Plan::System { .. }
        | Plan::Values { .. }
        | Plan::Series { .. }
        | Plan::Function { .. } => {}
        Plan::Filter { input, .. }
        | Plan::Project { input, .. }
        | Plan::Aggregate { input, .. }
        | Plan::Window { input, .. }
        | Plan::ProjectSet { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::LimitTies { input, .. }
        | Plan::Distinct { input }
        | Plan::DistinctOn { input, .. }
        | Plan::WithTid { input } => plan_tables(input, out),
        Plan::Join { left, right, .. }
        | Plan::HashJoin { left, right, .. }
        | Plan::IndexJoin { left, right, .. }
        | Plan::MergeJoin { left, right, .. }
        | Plan::LateralJoin { left, right, .. } => {
            plan_tables(left, out);
            plan_tables(right, out);
        }
        Plan::Union { inputs, .. } => inputs.iter().for_each(|p| plan_tables(p, out)),
        Plan::SetOp { left, right, .. }
        | Plan::RecursiveUnion {
            base: left,
            recursive: right,
            ..
        } => {
            plan_tables(left, out);
            plan_tables(right, out);
        }
        Plan::WorkTable { .. } => {}
    }
}

impl Session {
    /// Takes the table locks a statement needs (held to the end of the
    /// transaction), and refuses writes in a READ ONLY transaction.
    pub(crate) fn lock_statement_tables(&mut self, stmt: &Statement) -> Result<()> {
        use TableLockMode::*;
        let ro = self.read_only();
        let deny = |what: &str| {
            if ro {
                Err(ExecError::ReadOnly(what.into()))
            } else {
                Ok(())
            }
        };
        let mut want: Vec<(&Arc<TableDef>, TableLockMode)> = Vec::new();
        let mut nowait = false;
        match stmt {
            Statement::Query(q) => {
                plan_tables(&q.plan, &mut want);
                if want.iter().any(|w| w.1 == RowShare) {
                    deny("SELECT FOR UPDATE")?;
                    // Row locks are taken under an xid.
                    self.xid();
                }
            }
            Statement::CopyTo { query, .. } => plan_tables(&query.plan, &mut want),
            Statement::Insert { table, source, .. } => {
                deny("INSERT")?;
                want.push((table, RowExclusive));
                plan_tables(source, &mut want);
            }
            Statement::Update { target, .. } => {
                deny("UPDATE")?;
                want.push((&target.table, RowExclusive));
            }
            Statement::Delete { target, .. } => {
                deny("DELETE")?;
                want.push((&target.table, RowExclusive));
            }
            Statement::CopyFrom { table, .. } => {
                deny("COPY FROM")?;
                want.push((table, RowExclusive));
            }
            Statement::CreateTable { .. } => deny("CREATE TABLE")?,
            Statement::DropTable { tables, .. } => {
                deny("DROP TABLE")?;
                want.extend(tables.iter().map(|t| (t, AccessExclusive)));
            }
            Statement::Truncate { tables } => {
                deny("TRUNCATE TABLE")?;
                want.extend(tables.iter().map(|t| (t, AccessExclusive)));
            }
            Statement::AddIndex { table, .. } => {
                deny("CREATE INDEX")?;
                want.push((table, Share));
            }
            Statement::Reindex { table, .. } => {
                deny("REINDEX")?;
                want.push((table, Share));
            }
            Statement::DropIndex { table, .. } => {
                deny("DROP INDEX")?;
                want.push((table, AccessExclusive));
            }
            Statement::LockTable {
                tables,
                mode,
                nowait: nw,
            } => {
                if !self.in_transaction_block() {
                    return Err(ExecError::NoActiveSqlTransaction(
                        "LOCK TABLE can only be used in transaction blocks".into(),
                    ));
                }
                // PostgreSQL allows every mode in a read-only transaction
                // (only recovery restricts them).
                nowait = *nw;
                want.extend(tables.iter().map(|t| (t, lock_mode(*mode))));
            }
            _ => {}
        }
        if want.is_empty() {
            return Ok(());
        }
        want.sort_by_key(|w| (w.0.oid, std::cmp::Reverse(w.1)));
        want.dedup_by_key(|w| w.0.oid);
        for (t, mode) in &want {
            self.lock_table(t.oid, *mode, nowait, &t.name)?;
        }
        // A table changed by DDL that committed while we waited for its
        // lock (or since the plan was made): the plan must be made again.
        let schema = self.schema()?;
        for (t, _) in &want {
            match schema.table_by_oid(t.oid) {
                Some(now) if Arc::ptr_eq(now, t) || **now == ***t => {}
                _ => return Err(ExecError::StalePlan),
            }
        }
        Ok(())
    }
}

fn lock_mode(m: u8) -> TableLockMode {
    use TableLockMode::*;
    match m {
        1 => AccessShare,
        2 => RowShare,
        3 => RowExclusive,
        4 => ShareUpdateExclusive,
        5 => Share,
        6 => ShareRowExclusive,
        7 => Exclusive,
        _ => AccessExclusive,
    }
}
