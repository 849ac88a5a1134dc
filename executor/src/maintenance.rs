//! VACUUM [FULL] and the autovacuum worker's pass over the tables.
//!
//! Lazy VACUUM holds SHARE UPDATE EXCLUSIVE on its table (readers and writers
//! carry on; DDL and another VACUUM wait) and reclaims dead versions in place
//! (storage/src/vacuum.rs). VACUUM FULL holds ACCESS EXCLUSIVE, copies the
//! versions some snapshot may still see into a new file, builds the indexes
//! again, and drops the old files when its transaction commits, which gives
//! the space back to the file system.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use basalt_catalog::types::decode_row;
use basalt_catalog::{IndexDef, TableDef};
use basalt_storage::{StorageError, TableLockMode, VacuumProgress};
use std::sync::Arc;

/// What to do to each table.
#[derive(Debug, Clone, Copy, Default)]
pub struct VacuumOptions {
    pub full: bool,
    pub verbose: bool,
    pub analyze: bool,
    /// Run by the autovacuum worker (counted as autovacuum; skips a table
    /// another session holds instead of waiting).
    pub auto: bool,
}

impl Session {
    /// VACUUM of the given tables, or of every table when none is named.
    pub(crate) fn vacuum(
        &mut self,
        tables: &[(Arc<TableDef>, Vec<usize>)],
        opts: VacuumOptions,
    ) -> Result<ExecResult> {
        if self.in_transaction_block() {
            return Err(ExecError::ActiveSqlTransaction(
                "VACUUM cannot run inside a transaction block".into(),
            ));
        }
        let opts = VacuumOptions {
            auto: opts.auto || self.autovacuum,
            ..opts
        };
        let tables: Vec<(Arc<TableDef>, Vec<usize>)> = if tables.is_empty() {
            self.schema()?
                .tables
                .iter()
                .map(|t| (t.clone(), vec![]))
                .collect()
        } else {
            tables.to_vec()
        };
        let mut infos = Vec::new();
        for (t, cols) in &tables {
            if !self.may_maintain(t)? {
                if !opts.auto {
                    infos.push(format!(
                        "WARNING: permission denied to vacuum \"{}\", skipping it",
                        t.name
                    ));
                }
                continue;
            }
            let mode = if opts.full {
                TableLockMode::AccessExclusive
            } else {
                TableLockMode::ShareUpdateExclusive
            };
            match self.lock_table(t.oid, mode, opts.auto, &t.name) {
                Ok(()) => {}
                Err(ExecError::LockNotAvailable(_)) if opts.auto => continue,
                Err(e) => return Err(e),
            }
            // The table may have changed (or gone) while we waited.
            let Some(t) = self.schema()?.table_by_oid(t.oid).cloned() else {
                continue;
            };
            if opts.full {
                self.vacuum_full(&t, opts, &mut infos)?;
            } else {
                self.vacuum_lazy(&t, opts, &mut infos)?;
            }
            if opts.analyze {
                self.analyze_table(&t, cols, opts.auto)?;
            }
        }
        Ok(ExecResult {
            tag: "VACUUM".into(),
            notices: infos,
            ..Default::default()
        })
    }

    fn vacuum_lazy(
        &mut self,
        t: &Arc<TableDef>,
        opts: VacuumOptions,
        infos: &mut Vec<String>,
    ) -> Result<()> {
        let st = self.db.st.clone();
        let progress = Arc::new(VacuumProgress::default());
        progress
            .relid
            .store(t.oid as u64, std::sync::atomic::Ordering::Relaxed);
        *self.backend.vacuum.lock() = Some(progress.clone());
        let indexes: Vec<u32> = t.indexes.iter().map(|i| i.filenode).collect();
        let mut check = cancel_check(self.cancel.clone());
        let res = st.vacuum_rel(t.filenode, &indexes, &progress, &mut check);
        *self.backend.vacuum.lock() = None;
        let vs = res?;
        self.db
            .table_stats
            .table(t.oid)
            .vacuumed(opts.auto, vs.live_tuples, vs.recently_dead);
        tracing::info!(
            table = %t.name,
            auto = opts.auto,
            pages = vs.pages,
            removed = vs.tuples_removed,
            live = vs.live_tuples,
            recently_dead = vs.recently_dead,
            index_entries_removed = vs.index_entries_removed,
            "vacuum done"
        );
        if opts.verbose {
            let name = qualified(&*self.schema()?, t);
            infos.push(format!("INFO: vacuuming \"{name}\""));
            infos.push(format!(
                "INFO: finished vacuuming \"{name}\": index scans: {}\n\
                 pages: 0 removed, {} remain, {} scanned (100.00% of total)\n\
                 tuples: {} removed, {} remain, {} are dead but not yet removable\n\
                 removable cutoff: {}\n\
                 index entries: {} removed\n\
                 free space: {} bytes",
                vs.index_scans,
                vs.pages,
                vs.pages,
                vs.tuples_removed,
                vs.live_tuples + vs.recently_dead,
                vs.recently_dead,
                vs.horizon,
                vs.index_entries_removed,
                vs.free_bytes
            ));
        }
        Ok(())
    }

    fn vacuum_full(
        &mut self,
        t: &Arc<TableDef>,
        opts: VacuumOptions,
        infos: &mut Vec<String>,
    ) -> Result<()> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let st = self.db.st.clone();
        let mut def = (**t).clone();
        def.filenode = st.new_oid()?;
        st.create_heap(def.filenode)?;
        self.txn
            .as_mut()
            .expect("in txn")
            .drop_on_abort
            .push(def.filenode);
        let mut check = cancel_check(self.cancel.clone());
        let old_pages = st.nblocks(t.filenode)?;
        let (copied, removed) = st.heap_rewrite(t.filenode, def.filenode, &mut check)?;
        let types = t.types();
        let rows = copied
            .iter()
            .map(|(tid, _, data)| {
                decode_row(&types, data)
                    .map(|r| (*tid, r))
                    .ok_or_else(|| StorageError::Corrupt(format!("bad row in {}", t.name)))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let table = def.clone();
        for ix in &mut def.indexes {
            self.rebuild_index(&table, ix, &rows)?;
        }
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &def)?;
        let txn = self.txn.as_mut().expect("in txn");
        txn.drop_on_commit.push(t.filenode);
        txn.drop_on_commit
            .extend(t.indexes.iter().map(|i| i.filenode));
        let new_pages = st.nblocks(def.filenode)?;
        self.db
            .table_stats
            .table(t.oid)
            .vacuumed(opts.auto, rows.len() as u64, 0);
        if opts.verbose {
            let name = format!("{}.{}", self.schema()?.namespace_name(t.namespace), t.name);
            infos.push(format!("INFO: vacuuming \"{name}\""));
            infos.push(format!(
                "INFO: \"{name}\": found {removed} removable, {} nonremovable row versions in {old_pages} pages; now {new_pages} pages",
                rows.len()
            ));
        }
        Ok(())
    }
}

impl Session {
    /// REINDEX: builds the indexes again into new files from the rows some
    /// snapshot may still see; the old files go when the transaction
    /// commits. Holds SHARE on the table (reads go on, writes wait).
    pub(crate) fn reindex(&mut self, t: &Arc<TableDef>, which: &[usize]) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let st = self.db.st.clone();
        let types = t.types();
        let mut rows = Vec::new();
        for blk in 0..st.nblocks(t.filenode)? {
            let mut tuples = Vec::new();
            st.heap_page_all(t.filenode, blk, &mut tuples)?;
            for (tid, h, data) in tuples {
                if !st.tuple_maybe_live(&h) {
                    continue;
                }
                let row = decode_row(&types, &data)
                    .ok_or_else(|| StorageError::Corrupt(format!("bad row in {}", t.name)))?;
                rows.push((tid, row));
            }
        }
        let mut def = (**t).clone();
        let table = def.clone();
        let mut old = Vec::new();
        for &i in which {
            let ix = &mut def.indexes[i];
            old.push(ix.filenode);
            self.rebuild_index(&table, ix, &rows)?;
        }
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &def)?;
        self.txn
            .as_mut()
            .expect("in txn")
            .drop_on_commit
            .extend(old);
        Ok(ExecResult {
            tag: "REINDEX".into(),
            ..Default::default()
        })
    }

    /// BACKUP DATABASE TO 'dir' [INCREMENTAL FROM 'base']. Relative paths
    /// are taken from the data directory, as COPY's are in PostgreSQL.
    pub(crate) fn backup(&mut self, to: &str, base: Option<&str>) -> Result<ExecResult> {
        if self.in_transaction_block() {
            return Err(ExecError::ActiveSqlTransaction(
                "BACKUP DATABASE cannot run inside a transaction block".into(),
            ));
        }
        let st = self.db.st.clone();
        let path = |p: &str| {
            let p = std::path::Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                st.dir.join(p)
            }
        };
        let archive = self.archive_dir();
        let rec = st.backup(&path(to), base.map(path).as_deref(), archive.as_deref())?;
        let m = &rec.manifest;
        Ok(ExecResult {
            tag: "BACKUP".into(),
            notices: vec![format!(
                "INFO: {} backup written to \"{}\": {} files, {} bytes, WAL from {} to {}",
                m.kind,
                rec.path,
                m.files.len(),
                rec.bytes,
                basalt_storage::wal::lsn_text(m.start_lsn),
                basalt_storage::wal::lsn_text(m.end_lsn)
            )],
            ..Default::default()
        })
    }

    /// The WAL archive directory when archive_mode is on.
    pub(crate) fn archive_dir(&self) -> Option<std::path::PathBuf> {
        let get = |k: &str| {
            self.db
                .settings
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let on = get("archive_mode").and_then(|v| basalt_catalog::cast::parse_bool(&v))?;
        let dir = get("archive_dir").filter(|d| !d.is_empty())?;
        on.then(|| {
            let p = std::path::PathBuf::from(dir);
            if p.is_absolute() {
                p
            } else {
                self.db.st.dir.join(p)
            }
        })
    }

    /// basalt_backups: every backup taken from this data directory that is
    /// still where it was written.
    pub(crate) fn backups_rows(&self) -> Vec<Vec<basalt_catalog::Value>> {
        use basalt_catalog::Value;
        let ts = |us: i64| {
            chrono::DateTime::from_timestamp_micros(us)
                .map(Value::TimestampTz)
                .unwrap_or(Value::Null)
        };
        self.db
            .st
            .backups()
            .into_iter()
            .map(|b| {
                let m = &b.manifest;
                vec![
                    Value::Text(b.path.clone()),
                    Value::Text(m.kind.clone()),
                    m.base
                        .as_ref()
                        .map(|(p, _)| Value::Text(p.clone()))
                        .unwrap_or(Value::Null),
                    Value::Text(basalt_storage::wal::lsn_text(m.start_lsn)),
                    Value::Text(basalt_storage::wal::lsn_text(m.end_lsn)),
                    ts(m.start_time),
                    ts(m.end_time),
                    Value::Int8(m.files.len() as i64),
                    Value::Int8(b.bytes as i64),
                ]
            })
            .collect()
    }
}

/// Cancellation of a long maintenance pass, checked between pages.
fn cancel_check(
    cancel: Arc<std::sync::atomic::AtomicBool>,
) -> impl FnMut() -> std::result::Result<(), StorageError> {
    move || {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StorageError::Cancelled);
        }
        Ok(())
    }
}

impl Session {
    /// Gives `ix` a new, empty file (dropped if the transaction aborts)
    /// and fills it from `rows`.
    fn rebuild_index(
        &mut self,
        table: &TableDef,
        ix: &mut IndexDef,
        rows: &[(basalt_storage::Tid, Vec<basalt_catalog::Value>)],
    ) -> Result<()> {
        ix.filenode = self.new_index_file()?;
        build_index(self, table, ix, rows)
    }

    /// A new, empty B-tree file, removed if the transaction aborts.
    pub(crate) fn new_index_file(&mut self) -> Result<u32> {
        let st = self.db.st.clone();
        let filenode = st.new_oid()?;
        st.btree_create(filenode)?;
        self.txn
            .as_mut()
            .expect("in txn")
            .drop_on_abort
            .push(filenode);
        Ok(filenode)
    }
}

/// Inserts every row's entry into a new, empty index, in key order.
fn build_index(
    s: &Session,
    table: &TableDef,
    ix: &IndexDef,
    rows: &[(basalt_storage::Tid, Vec<basalt_catalog::Value>)],
) -> Result<()> {
    let mut entries: Vec<(Vec<u8>, basalt_storage::Tid)> = Vec::with_capacity(rows.len());
    for (tid, r) in rows {
        if let Some(k) = s.index_entry_outside(table, ix, r)? {
            entries.push((k, *tid));
        }
    }
    entries.sort();
    for (i, (key, tid)) in entries.iter().enumerate() {
        if i % 1024 == 0 && s.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StorageError::Cancelled.into());
        }
        s.db.st.btree_insert(ix.filenode, key, *tid)?;
    }
    Ok(())
}

/// "database.schema.table", as VACUUM VERBOSE names a table.
fn qualified(schema: &basalt_catalog::Schema, t: &TableDef) -> String {
    format!("postgres.{}.{}", schema.namespace_name(t.namespace), t.name)
}
