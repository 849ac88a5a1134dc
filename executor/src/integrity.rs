//! basalt_check_integrity([table]): checks every page checksum of each
//! table's and index's file on disk, heap page and tuple header sanity,
//! B-tree order, and index ↔ heap consistency (every index entry names a
//! tuple with its key; every visible row has its entry in every index), and
//! returns one row per problem found, as amcheck reports.

use crate::error::{ExecError, Result};
use crate::exec::Row;
use crate::session::Session;
use basalt_catalog::types::decode_row;
use basalt_catalog::{TableDef, Value};
use basalt_storage::check::SlotContent;
use basalt_storage::{StorageError, TableLockMode, Tid};
use std::collections::HashSet;
use std::sync::Arc;

impl Session {
    /// Set-returning functions of the server (`FROM name(args)`).
    pub(crate) fn table_function(&self, name: &str, args: &[Value]) -> Result<Vec<Row>> {
        if name == "__sequence_state" {
            // A sequence's state: never used, it shows its start.
            let oid = args.first().and_then(|v| v.as_i64()).unwrap_or(-1) as u32;
            let schema = self.schema()?;
            let Some(q) = schema.sequences.iter().find(|q| q.oid == oid) else {
                return Ok(vec![]);
            };
            let (last, called) = match self.db.st.seqs.state(oid) {
                Some(s) => (s.last, s.is_called),
                None => (q.start, false),
            };
            return Ok(vec![vec![
                Value::Int8(last),
                Value::Int8(0),
                Value::Bool(called),
            ]]);
        }
        self.require_superuser(&format!("must be superuser to call {name}"))?;
        match name {
            "basalt_check_integrity" => self.check_integrity(args.first()),
            "basalt_verify_backup" => {
                let dir = match args.first() {
                    Some(Value::Text(d)) => d.clone(),
                    _ => return Ok(vec![]),
                };
                let p = std::path::Path::new(&dir);
                let p = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    self.db.st.dir.join(p)
                };
                Ok(basalt_storage::backup::verify(&p)
                    .into_iter()
                    .map(|(f, s, d)| vec![Value::Text(f), Value::Text(s), Value::Text(d)])
                    .collect())
            }
            _ => Err(ExecError::Internal(format!("no table function {name}"))),
        }
    }

    fn check_integrity(&self, table: Option<&Value>) -> Result<Vec<Row>> {
        let schema = self.schema()?;
        let tables: Vec<Arc<TableDef>> = match table {
            None | Some(Value::Null) => schema.tables.clone(),
            Some(Value::Text(n)) => {
                vec![self
                    .find_named(&schema, n, |ns, x| schema.table(ns, x).cloned())
                    .ok_or_else(|| {
                        ExecError::Plan(basalt_planner::PlanError::UndefinedTable(n.clone()))
                    })?]
            }
            Some(v) => {
                let oid = v.as_i64().unwrap_or(-1);
                schema
                    .tables
                    .iter()
                    .filter(|t| t.oid as i64 == oid)
                    .cloned()
                    .collect()
            }
        };
        let mut out = Vec::new();
        for t in &tables {
            // Keep the table from being dropped meanwhile.
            self.db.st.locks.lock_table(
                t.oid,
                TableLockMode::AccessShare,
                &self.wait_ctx(),
                basalt_storage::WaitPolicy::Block,
            )?;
            self.check_table(t, &mut out)?;
        }
        Ok(out)
    }

    fn check_table(&self, t: &TableDef, out: &mut Vec<Row>) -> Result<()> {
        let st = &self.db.st;
        let mut report = |rel: &str, kind: &str, blk: Option<u32>, problem: String| {
            out.push(vec![
                Value::Text(rel.to_string()),
                Value::Text(kind.into()),
                blk.map(|b| Value::Int8(b as i64)).unwrap_or(Value::Null),
                Value::Text(problem),
            ]);
        };
        let mut bad_blocks = HashSet::new();
        for (blk, m) in st.verify_checksums(t.filenode)? {
            bad_blocks.insert(blk);
            report(&t.name, "table", Some(blk), m);
        }
        for blk in 0..st.nblocks(t.filenode)? {
            if bad_blocks.contains(&blk) {
                continue;
            }
            match st.heap_check_page(t.filenode, blk) {
                Ok(ps) => ps
                    .into_iter()
                    .for_each(|p| report(&t.name, "table", Some(blk), p)),
                Err(StorageError::Corrupt(m)) => {
                    bad_blocks.insert(blk);
                    report(&t.name, "table", Some(blk), m)
                }
                Err(e) => return Err(e.into()),
            }
        }
        // The snapshot precedes the index walks: a row it sees committed
        // before them, so its entries are there.
        let snap = st.txns.snapshot(basalt_storage::INVALID_XID, 0);
        let types = t.types();
        let mut index_entries: Vec<HashSet<(Vec<u8>, Tid)>> = Vec::new();
        for ix in &t.indexes {
            for (blk, m) in st.verify_checksums(ix.filenode)? {
                report(&ix.name, "index", Some(blk), m);
            }
            let (problems, entries) = st.btree_check(ix.filenode)?;
            for (blk, m) in problems {
                report(&ix.name, "index", Some(blk), m);
            }
            for (key, tid) in &entries {
                if bad_blocks.contains(&tid.blk) {
                    continue;
                }
                let slot = match st.heap_slot(t.filenode, *tid) {
                    Ok(s) => s,
                    Err(StorageError::Corrupt(_)) => continue,
                    Err(e) => return Err(e.into()),
                };
                match slot {
                    SlotContent::Empty => {}
                    SlotContent::OutOfRange => report(
                        &ix.name,
                        "index",
                        None,
                        format!(
                            "entry points to ({},{}), which does not exist in the table",
                            tid.blk, tid.slot
                        ),
                    ),
                    SlotContent::Tuple(_, data) => {
                        let matches = match decode_row(&types, &data) {
                            Some(r) => {
                                Some(self.index_entry_outside(t, ix, &r)?.as_ref() == Some(key))
                            }
                            None => None,
                        };
                        if matches != Some(true) {
                            report(
                                &ix.name,
                                "index",
                                None,
                                format!(
                                    "entry for ({},{}) does not match the row's key",
                                    tid.blk, tid.slot
                                ),
                            );
                        }
                    }
                }
            }
            index_entries.push(entries.into_iter().collect());
        }
        let mut rows = Vec::new();
        for blk in 0..st.nblocks(t.filenode)? {
            if bad_blocks.contains(&blk) {
                continue;
            }
            rows.clear();
            match st.heap_page_visible(t.filenode, blk, &snap, &mut rows) {
                Ok(()) => {}
                Err(StorageError::Corrupt(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            for (tid, data) in &rows {
                let Some(row) = decode_row(&types, data) else {
                    report(
                        &t.name,
                        "table",
                        Some(blk),
                        format!("row ({},{}) cannot be decoded", tid.blk, tid.slot),
                    );
                    continue;
                };
                for (ix, set) in t.indexes.iter().zip(&index_entries) {
                    // Rows outside a partial index have no entry.
                    let Some(key) = self.index_entry_outside(t, ix, &row)? else {
                        continue;
                    };
                    if !set.contains(&(key, *tid)) {
                        report(
                            &ix.name,
                            "index",
                            None,
                            format!(
                                "row ({},{}) of \"{}\" has no entry",
                                tid.blk, tid.slot, t.name
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }
}
