//! Operators: a pull-based tree of row iterators built from a plan. Scans
//! stream a page (or a leaf of index entries) at a time, so memory does not
//! grow with the table; sorts, aggregates and hash-join build sides hold
//! their inputs in memory.

use crate::error::{ExecError, Result};
use crate::eval::{eval, truthy, EvalCtx};
use basalt_catalog::cast;
use basalt_catalog::types::{decode_row, encode_key};
use basalt_catalog::Numeric;
use basalt_catalog::{DataType, TableDef, Value};
use basalt_planner::{AggCall, AggFunc, Expr, IndexBounds, JoinKind, Plan, SortKey};
use basalt_storage::ssi::Sid;
use basalt_storage::{
    BtreeScan, Fetched, KeyRange, RowMode, RowWriter, Snapshot, Storage, StorageError, Tid,
    WaitCtx, WaitPolicy, WriteOutcome, Xid,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub type Row = Vec<Value>;

/// A set-returning function of the server, by name and arguments.
pub type TableFn<'a> = dyn Fn(&str, &[Value]) -> Result<Vec<Row>> + 'a;

pub struct Ctx<'a> {
    pub st: &'a Storage,
    pub snap: &'a Snapshot,
    pub eval: EvalCtx<'a>,
    pub schema: &'a basalt_catalog::Schema,
    /// Server and session settings, for the pg_settings view (computed on use).
    pub settings: &'a dyn Fn() -> Vec<(String, String)>,
    pub cancel: &'a AtomicBool,
    pub txn: TxnCtx<'a>,
    /// Rows of the views computed from the server's live state
    /// (pg_stat_activity, pg_locks); None for other names.
    pub live_view: &'a dyn Fn(&str) -> Option<Vec<Row>>,
    /// This session's pending per-table counts.
    pub table_stats: &'a crate::stats::Local,
    /// Runs a set-returning function of the server (`Plan::Function`).
    pub table_fn: &'a TableFn<'a>,
    /// The rows of each WITH RECURSIVE work table in the current round.
    pub work_tables: std::cell::RefCell<HashMap<usize, Arc<Vec<Row>>>>,
    /// EXPLAIN ANALYZE: where each node's measurements go.
    pub instrument: Option<Instrument>,
    /// The columns each table scan of the statement's plan decodes (see
    /// `colmask`), by scan node address; scans not listed decode all.
    pub scan_columns: std::cell::RefCell<HashMap<usize, std::rc::Rc<Vec<bool>>>>,
}

/// What a statement needs of its transaction to write and lock rows.
pub struct TxnCtx<'a> {
    /// The xid rows are written and locked under (None: not assigned).
    pub xid: Option<Xid>,
    pub wait: WaitCtx<'a>,
    pub iso: crate::txn::Isolation,
    /// SERIALIZABLE: this transaction in the SSI graph.
    pub sid: Option<Sid>,
    /// Assigns the transaction an xid in mid-statement (a FOR UPDATE inside
    /// a subquery of a read-only statement).
    pub assign_xid: &'a dyn Fn() -> Option<Xid>,
}

impl Ctx<'_> {
    /// A row writer for this statement's transaction (its xid must be assigned).
    pub fn writer(&self, policy: WaitPolicy) -> Result<RowWriter<'_>> {
        Ok(RowWriter {
            xid: self
                .txn
                .xid
                .or_else(|| (self.txn.assign_xid)())
                .ok_or_else(|| ExecError::Internal("no transaction id assigned".into()))?,
            cid: self.snap.cid,
            own: &self.snap.own,
            wait: Some(&self.txn.wait),
            policy,
        })
    }

    /// REPEATABLE READ and above: a row changed since the snapshot cannot be written.
    pub fn serialization_check(&self, o: &WriteOutcome) -> Result<()> {
        if self.txn.iso >= crate::txn::Isolation::RepeatableRead {
            match o {
                WriteOutcome::Updated(_) => {
                    return Err(ExecError::SerializationFailure(
                        "could not serialize access due to concurrent update".into(),
                    ))
                }
                WriteOutcome::Deleted => {
                    return Err(ExecError::SerializationFailure(
                        "could not serialize access due to concurrent delete".into(),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl Ctx<'_> {
    pub fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(StorageError::Cancelled.into());
        }
        Ok(())
    }
}

pub trait RowIter {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>>;
}

/// A scan of one table with an optional filter; remembers the TID of the
/// row it returned last (UPDATE and DELETE use it).
pub struct TableScan {
    table: Arc<TableDef>,
    types: Vec<DataType>,
    /// The columns to decode (None: all).
    want: Option<std::rc::Rc<Vec<bool>>>,
    filter: Option<Expr>,
    mode: ScanMode,
    buf: VecDeque<(Tid, Vec<u8>)>,
    /// Index-only: the index's key columns (table position, type) when
    /// they hold every column wanted; entries on all-visible heap pages
    /// are then answered from their keys.
    index_only: Option<Vec<(usize, DataType)>>,
    /// Index-only: keys of entries answered without the heap.
    from_index: VecDeque<(Tid, Vec<u8>)>,
    /// Index-only: entries that had to be looked up in the heap.
    heap_fetches: u64,
    /// Under EXPLAIN ANALYZE: where the heap fetches are reported.
    node: Option<(Instrument, usize)>,
    pub last_tid: Option<Tid>,
    stats: crate::stats::Local,
    /// Rows returned so far, added to the table's counters on drop.
    returned: u64,
}

impl Drop for TableScan {
    fn drop(&mut self) {
        use crate::stats::{count, IDX_TUP_FETCH, SEQ_TUP_READ};
        if let (Some((ins, key)), Some(_)) = (&self.node, &self.index_only) {
            ins.lock().entry(*key).or_default().heap_fetches += self.heap_fetches;
        }
        match self.mode {
            ScanMode::Seq { .. } => count(&self.stats, self.table.oid, SEQ_TUP_READ, self.returned),
            ScanMode::Index { ix_oid, .. } => {
                count(&self.stats, self.table.oid, IDX_TUP_FETCH, self.returned);
                count(&self.stats, ix_oid, IDX_TUP_FETCH, self.returned);
            }
        }
    }
}

enum ScanMode {
    Seq {
        next_blk: u32,
        nblocks: u32,
    },
    Index {
        rel: u32,
        /// The index's OID, for its own counters (pg_stat_user_indexes).
        ix_oid: u32,
        scan: Option<BtreeScan>,
        range: KeyRange,
        unique_eq: bool,
        done: bool,
        seen: HashSet<Tid>,
        /// Entries of the current leaf not yet looked up in the heap.
        pending: VecDeque<(Vec<u8>, Tid)>,
        /// Index items of dead versions met on the current leaf.
        dead: Vec<Vec<u8>>,
    },
}

impl TableScan {
    pub fn new(plan: &Plan, cx: &Ctx<'_>) -> Result<TableScan> {
        match plan {
            Plan::SeqScan { table, filter } => {
                if let Some(sid) = cx.txn.sid {
                    cx.st.ssi.read_rel(sid, table.filenode)?;
                }
                Ok(TableScan {
                    types: table.types(),
                    want: None,
                    table: table.clone(),
                    filter: filter.clone(),
                    mode: ScanMode::Seq {
                        next_blk: 0,
                        nblocks: cx.st.nblocks(table.filenode)?,
                    },
                    buf: VecDeque::new(),
                    index_only: None,
                    from_index: VecDeque::new(),
                    heap_fetches: 0,
                    node: None,
                    last_tid: None,
                    stats: {
                        crate::stats::count(cx.table_stats, table.oid, crate::stats::SEQ_SCAN, 1);
                        cx.table_stats.clone()
                    },
                    returned: 0,
                })
            }
            Plan::IndexScan { .. } => Self::probe(plan, &[], cx),
            _ => Err(ExecError::Internal("not a table scan".into())),
        }
    }

    /// An index scan whose bounds are evaluated on `row` (the outer row of
    /// an index nested loop; empty for a plain index scan).
    pub fn probe(plan: &Plan, row: &[Value], cx: &Ctx<'_>) -> Result<TableScan> {
        match plan {
            Plan::IndexScan {
                table,
                index,
                bounds,
                filter,
            } => {
                let ix = &table.indexes[*index];
                let range = key_range(table, &ix.columns, bounds, row, cx)?;
                let unique_eq = ix.unique && bounds.eq.len() == ix.columns.len();
                if let (Some(sid), Some(r)) = (cx.txn.sid, &range) {
                    cx.st.ssi.read_range(sid, ix.filenode, r.clone())?;
                }
                Ok(TableScan {
                    types: table.types(),
                    want: None,
                    table: table.clone(),
                    filter: filter.clone(),
                    mode: ScanMode::Index {
                        rel: ix.filenode,
                        ix_oid: ix.oid,
                        scan: None,
                        done: range.is_none(),
                        range: range.unwrap_or_default(),
                        unique_eq,
                        seen: HashSet::new(),
                        pending: VecDeque::new(),
                        dead: Vec::new(),
                    },
                    buf: VecDeque::new(),
                    index_only: None,
                    from_index: VecDeque::new(),
                    heap_fetches: 0,
                    node: None,
                    last_tid: None,
                    stats: {
                        crate::stats::count(cx.table_stats, table.oid, crate::stats::IDX_SCAN, 1);
                        crate::stats::count(cx.table_stats, ix.oid, crate::stats::IDX_SCAN, 1);
                        cx.table_stats.clone()
                    },
                    returned: 0,
                })
            }
            _ => Err(ExecError::Internal("not a table scan".into())),
        }
    }

    pub fn table(&self) -> &Arc<TableDef> {
        &self.table
    }

    /// Sets the columns to decode (`want`, from `colmask`) of the scan
    /// made for `plan`, and, when an index scan needs only its index's key
    /// columns, lets it answer from the index where the heap page is
    /// all-visible (not under SERIALIZABLE, whose read tracking wants the
    /// tuples).
    pub fn set_columns(&mut self, plan: &Plan, cx: &Ctx<'_>) {
        let key = plan as *const Plan as usize;
        self.want = cx.scan_columns.borrow().get(&key).cloned();
        if let Some(ins) = &cx.instrument {
            self.node = Some((ins.clone(), key));
        }
        let allowed = (cx.eval.settings)("enable_indexonlyscan")
            .and_then(|v| basalt_catalog::cast::parse_bool(&v))
            .unwrap_or(true);
        self.index_only = match (plan, &self.want) {
            (Plan::IndexScan { table, index, .. }, Some(want))
                if cx.txn.sid.is_none() && allowed =>
            {
                index_only_columns(table, *index, want)
            }
            _ => None,
        };
    }

    /// A row from an index entry's key: its columns in place, the others
    /// NULL (not wanted).
    fn row_from_key(&self, cols: &[(usize, DataType)], key: &[u8]) -> Result<Row> {
        let mut row = vec![Value::Null; self.types.len()];
        let mut p = 0;
        for (c, ty) in cols {
            row[*c] = basalt_catalog::types::decode_key(ty, key, &mut p).ok_or_else(|| {
                StorageError::Corrupt(format!("bad index key of {}", self.table.name))
            })?;
        }
        Ok(row)
    }

    /// Starts an index scan (`plan`, whose bounds are over `row`) again
    /// from the start, for the bounds' values on `row`: an index nested
    /// loop's probe for one outer row.
    pub fn rescan(&mut self, plan: &Plan, row: &[Value], cx: &Ctx<'_>) -> Result<()> {
        let Plan::IndexScan {
            table,
            index,
            bounds,
            ..
        } = plan
        else {
            return Err(ExecError::Internal("rescan of a scan not by index".into()));
        };
        let ix = &table.indexes[*index];
        let new_range = key_range(table, &ix.columns, bounds, row, cx)?;
        if let (Some(sid), Some(r)) = (cx.txn.sid, &new_range) {
            cx.st.ssi.read_range(sid, ix.filenode, r.clone())?;
        }
        let heap = self.table.filenode;
        let ScanMode::Index {
            rel,
            ix_oid,
            scan,
            range,
            done,
            seen,
            pending,
            dead,
            ..
        } = &mut self.mode
        else {
            return Err(ExecError::Internal("rescan of a scan not by index".into()));
        };
        if !dead.is_empty() {
            if let Some(sc) = scan.as_ref() {
                cx.st.btree_kill(*rel, heap, sc, dead)?;
            }
            dead.clear();
        }
        *scan = None;
        *done = new_range.is_none();
        *range = new_range.unwrap_or_default();
        seen.clear();
        pending.clear();
        self.buf.clear();
        self.from_index.clear();
        self.last_tid = None;
        crate::stats::count(cx.table_stats, self.table.oid, crate::stats::IDX_SCAN, 1);
        crate::stats::count(cx.table_stats, *ix_oid, crate::stats::IDX_SCAN, 1);
        Ok(())
    }

    fn refill(&mut self, cx: &Ctx<'_>) -> Result<bool> {
        let heap = self.table.filenode;
        match &mut self.mode {
            ScanMode::Seq { next_blk, nblocks } => {
                while self.buf.is_empty() {
                    if *next_blk >= *nblocks {
                        return Ok(false);
                    }
                    cx.check_cancel()?;
                    let mut v = Vec::new();
                    match cx.txn.sid {
                        None => cx.st.heap_page_visible(heap, *next_blk, cx.snap, &mut v)?,
                        Some(sid) => {
                            let mut w = Vec::new();
                            cx.st.heap_page_visible_ssi(
                                heap,
                                *next_blk,
                                cx.snap,
                                &mut v,
                                Some(&mut w),
                            )?;
                            if !w.is_empty() {
                                cx.st.ssi.conflict_out(sid, &w)?;
                            }
                        }
                    }
                    *next_blk += 1;
                    self.buf.extend(v);
                }
                Ok(true)
            }
            ScanMode::Index {
                rel,
                ix_oid: _,
                scan,
                range,
                unique_eq,
                done,
                seen,
                pending,
                dead,
            } => {
                // Heap tuples are fetched one entry at a time, so a scan
                // stopped early (LIMIT) reads only what it returned.
                while self.buf.is_empty() && self.from_index.is_empty() {
                    if pending.is_empty() {
                        // Entries of versions no snapshot can see: drop them
                        // (while the scan is still on their leaf) so later
                        // lookups of hot rows stay short.
                        if !dead.is_empty() {
                            if let Some(sc) = scan.as_ref() {
                                cx.st.btree_kill(*rel, heap, sc, dead)?;
                            }
                            dead.clear();
                        }
                        if *done {
                            return Ok(false);
                        }
                        cx.check_cancel()?;
                        if scan.is_none() {
                            *scan = Some(cx.st.btree_scan(*rel, range.clone())?);
                        }
                        let entries = cx.st.btree_next(scan.as_mut().expect("opened"))?;
                        if entries.is_empty() {
                            *done = true;
                            return Ok(false);
                        }
                        // Newest versions sit last among equal keys: for a
                        // unique equality lookup, check them first and stop
                        // at the live one.
                        if *unique_eq {
                            pending.extend(entries.into_iter().rev());
                        } else {
                            pending.extend(entries);
                        }
                    }
                    while let Some((key, tid)) = pending.pop_front() {
                        if !seen.insert(tid) {
                            continue;
                        }
                        if self.index_only.is_some() {
                            if cx.st.page_all_visible(heap, tid.blk) {
                                self.from_index.push_back((tid, key));
                                if *unique_eq {
                                    *done = true;
                                    pending.clear();
                                }
                                break;
                            }
                            self.heap_fetches += 1;
                        }
                        let mut ssi_w = cx.txn.sid.map(|_| Vec::new());
                        let mut h = || cx.st.txns.horizon();
                        let fetched = cx.st.heap_fetch_classify(
                            heap,
                            tid,
                            cx.snap,
                            &mut h,
                            ssi_w.as_mut(),
                        )?;
                        if let (Some(sid), Some(w)) = (cx.txn.sid, &ssi_w) {
                            if matches!(fetched, Fetched::Visible(_)) {
                                cx.st.ssi.read_tuples(sid, heap, &[tid]);
                            }
                            if !w.is_empty() {
                                cx.st.ssi.conflict_out(sid, w)?;
                            }
                        }
                        match fetched {
                            Fetched::Visible(d) => {
                                self.buf.push_back((tid, d));
                                if *unique_eq {
                                    *done = true;
                                    pending.clear();
                                    if !dead.is_empty() {
                                        let sc = scan.as_ref().expect("opened");
                                        cx.st.btree_kill(*rel, heap, sc, dead)?;
                                        dead.clear();
                                    }
                                }
                                break;
                            }
                            Fetched::Invisible => {}
                            Fetched::Dead => {
                                let mut item = key;
                                item.extend_from_slice(&tid.to_bytes());
                                dead.push(item);
                            }
                        }
                    }
                }
                Ok(true)
            }
        }
    }

    pub fn next_row(&mut self, cx: &Ctx<'_>) -> Result<Option<(Tid, Row)>> {
        loop {
            if self.buf.is_empty() && self.from_index.is_empty() && !self.refill(cx)? {
                return Ok(None);
            }
            let (tid, row) = match (self.from_index.pop_front(), &self.index_only) {
                (Some((tid, key)), Some(cols)) => (tid, self.row_from_key(cols, &key)?),
                _ => {
                    let (tid, data) = self.buf.pop_front().expect("refilled");
                    let row = match &self.want {
                        None => decode_row(&self.types, &data),
                        Some(w) => basalt_catalog::types::decode_row_some(&self.types, &data, w),
                    }
                    .ok_or_else(|| {
                        StorageError::Corrupt(format!("bad row in {}", self.table.name))
                    })?;
                    (tid, row)
                }
            };
            if let Some(f) = &self.filter {
                if !truthy(&eval(f, &row, &cx.eval)?) {
                    continue;
                }
            }
            self.last_tid = Some(tid);
            self.returned += 1;
            return Ok(Some((tid, row)));
        }
    }
}

impl RowIter for TableScan {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        Ok(self.next_row(cx)?.map(|(_, r)| r))
    }
}

/// A table scan's rows with their TID appended (as int8).
struct WithTid(TableScan);

pub fn tid_value(t: Tid) -> Value {
    Value::Int8(((t.blk as i64) << 16) | t.slot as i64)
}

fn value_tid(v: &Value) -> Option<Tid> {
    match v {
        Value::Int8(n) => Some(Tid {
            blk: (*n >> 16) as u32,
            slot: (*n & 0xffff) as u16,
        }),
        _ => None,
    }
}

impl RowIter for WithTid {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        Ok(self.0.next_row(cx)?.map(|(t, mut r)| {
            r.push(tid_value(t));
            r
        }))
    }
}

fn row_mode(s: basalt_planner::RowLockStrength) -> RowMode {
    match s {
        basalt_planner::RowLockStrength::KeyShare => RowMode::KeyShare,
        basalt_planner::RowLockStrength::Share => RowMode::Share,
        basalt_planner::RowLockStrength::NoKeyUpdate => RowMode::NoKeyUpdate,
        basalt_planner::RowLockStrength::Update => RowMode::Update,
    }
}

fn wait_policy(w: basalt_planner::LockWaitPolicy) -> WaitPolicy {
    match w {
        basalt_planner::LockWaitPolicy::Block => WaitPolicy::Block,
        basalt_planner::LockWaitPolicy::NoWait => WaitPolicy::NoWait,
        basalt_planner::LockWaitPolicy::SkipLocked => WaitPolicy::SkipLocked,
    }
}

/// Locks one tuple for a locking query; the error for NOWAIT names the table.
fn lock_tuple(
    cx: &Ctx<'_>,
    w: &RowWriter<'_>,
    table: &TableDef,
    tid: Tid,
    mode: RowMode,
) -> Result<WriteOutcome> {
    match cx.st.heap_lock(table.filenode, tid, w, mode) {
        Err(StorageError::RowLockNotAvailable) => Err(ExecError::LockNotAvailable(format!(
            "could not obtain lock on row in relation \"{}\"",
            table.name
        ))),
        r => {
            let o = r?;
            cx.serialization_check(&o)?;
            Ok(o)
        }
    }
}

/// SELECT ... FOR UPDATE/SHARE over joins: locks every target's tuple of
/// each joined row; a target changed concurrently is replaced in the row by
/// its newest version and the WHERE clause checked again.
struct LockJoinRows<'p> {
    input: Box<dyn RowIter + 'p>,
    targets: Vec<(basalt_planner::LockTarget, Vec<DataType>)>,
    mode: RowMode,
    policy: WaitPolicy,
    pred: Option<&'p Expr>,
}

impl RowIter for LockJoinRows<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        let w = cx.writer(self.policy)?;
        'rows: loop {
            let Some(mut row) = self.input.next(cx)? else {
                return Ok(None);
            };
            for (t, types) in &self.targets {
                // NULL: the outer side of a LEFT JOIN found no row here.
                let Some(mut tid) = value_tid(&row[t.tid_col]) else {
                    continue;
                };
                loop {
                    match lock_tuple(cx, &w, &t.table, tid, self.mode)? {
                        WriteOutcome::Ok(_) => break,
                        WriteOutcome::Locked
                        | WriteOutcome::SelfModified
                        | WriteOutcome::Deleted => continue 'rows,
                        WriteOutcome::Updated(next) => {
                            let Some((nt, data)) = cx.st.heap_latest(t.table.filenode, next)?
                            else {
                                continue 'rows;
                            };
                            let r = decode_row(types, &data)
                                .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
                            for (i, v) in r.into_iter().enumerate() {
                                row[t.offset + i] = v;
                            }
                            row[t.tid_col] = tid_value(nt);
                            if let Some(p) = self.pred {
                                if !truthy(&eval(p, &row, &cx.eval)?) {
                                    continue 'rows;
                                }
                            }
                            tid = nt;
                        }
                    }
                }
            }
            return Ok(Some(row));
        }
    }
}

/// SELECT ... FOR UPDATE/SHARE: locks each row's tuple as it passes.
struct LockRows<'p> {
    input: Box<dyn RowIter + 'p>,
    table: Arc<TableDef>,
    types: Vec<DataType>,
    tid_col: usize,
    mode: RowMode,
    policy: WaitPolicy,
    pred: Option<&'p Expr>,
    exprs: &'p [Expr],
}

impl RowIter for LockRows<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        let heap = self.table.filenode;
        let w = cx.writer(self.policy)?;
        'rows: loop {
            let Some(mut row) = self.input.next(cx)? else {
                return Ok(None);
            };
            let mut tid = value_tid(&row[self.tid_col])
                .ok_or_else(|| ExecError::Internal("LockRows: no TID".into()))?;
            loop {
                match lock_tuple(cx, &w, &self.table, tid, self.mode)? {
                    WriteOutcome::Ok(_) => return Ok(Some(row)),
                    WriteOutcome::Locked | WriteOutcome::SelfModified | WriteOutcome::Deleted => {
                        continue 'rows
                    }
                    WriteOutcome::Updated(next) => {
                        let Some((t, data)) = cx.st.heap_latest(heap, next)? else {
                            continue 'rows;
                        };
                        let r = decode_row(&self.types, &data)
                            .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
                        if let Some(p) = self.pred {
                            if !truthy(&eval(p, &r, &cx.eval)?) {
                                continue 'rows;
                            }
                        }
                        let mut out = Vec::with_capacity(self.exprs.len() + 1);
                        for e in self.exprs {
                            out.push(eval(e, &r, &cx.eval)?);
                        }
                        out.push(tid_value(t));
                        row = out;
                        tid = t;
                    }
                }
            }
        }
    }
}

/// Encodes index-scan bounds; None when a bound is NULL (nothing matches).
/// The key columns (table position, type) of index `index` when they
/// include every column `want` asks for and each decodes from the key
/// exactly: an index-only scan can answer from the index then.
pub(crate) fn index_only_columns(
    table: &TableDef,
    index: usize,
    want: &[bool],
) -> Option<Vec<(usize, DataType)>> {
    let ix = table.indexes.get(index)?;
    if !ix.exprs.is_empty() || ix.predicate.is_some() {
        return None;
    }
    let cols: Vec<(usize, DataType)> = ix
        .columns
        .iter()
        .map(|&c| Some((c, table.columns.get(c)?.ty)))
        .collect::<Option<_>>()?;
    let covered = want
        .iter()
        .enumerate()
        .all(|(i, &w)| !w || ix.columns.contains(&i));
    (covered
        && cols
            .iter()
            .all(|(_, t)| basalt_catalog::types::key_decodable(t)))
    .then_some(cols)
}

/// The key range of index bounds, evaluated on `row` (an index nested
/// loop's outer row; empty for a plain scan). None when a bound is NULL:
/// nothing matches.
fn key_range(
    table: &TableDef,
    cols: &[usize],
    b: &IndexBounds,
    row: &[Value],
    cx: &Ctx<'_>,
) -> Result<Option<KeyRange>> {
    let mut prefix = Vec::new();
    for (i, e) in b.eq.iter().enumerate() {
        let v = eval(e, row, &cx.eval)?;
        // Expression keys' bounds already have the expression's type.
        let v = match table.columns.get(cols[i]) {
            Some(c) => crate::eval::cast_keep_type(v, &c.ty)?,
            None => v,
        };
        if v.is_null() {
            return Ok(None);
        }
        encode_key(&v, &mut prefix);
    }
    let next_ty = cols
        .get(b.eq.len())
        .and_then(|&c| table.columns.get(c))
        .map(|c| c.ty);
    let bound = |e: &Expr| -> Result<Option<Vec<u8>>> {
        let v = eval(e, row, &cx.eval)?;
        let v = match next_ty {
            Some(t) => crate::eval::cast_keep_type(v, &t)?,
            None => v,
        };
        if v.is_null() {
            return Ok(None);
        }
        let mut k = prefix.clone();
        encode_key(&v, &mut k);
        Ok(Some(k))
    };
    // A side without a bound is still limited to the equality prefix.
    // (NULLs sort last: an open upper bound on a column still excludes them.)
    let side = |bnd: &Option<(Expr, bool)>| -> Result<Option<Option<(Vec<u8>, bool)>>> {
        Ok(match bnd {
            Some((e, inc)) => bound(e)?.map(|k| Some((k, *inc))),
            None if !prefix.is_empty() => Some(Some((prefix.clone(), true))),
            None => Some(None),
        })
    };
    let (Some(lo), Some(hi)) = (side(&b.lo)?, side(&b.hi)?) else {
        return Ok(None);
    };
    Ok(Some(KeyRange { lo, hi }))
}

/// Merge join over inputs sorted on their keys: each left row meets the
/// run of right rows with its key (rows with a NULL key meet none).
struct MergeJoin<'p> {
    left: Box<dyn RowIter + 'p>,
    keys: &'p [(Expr, Expr)],
    /// Ascending, NULLs last: the order both inputs come in.
    sort: Vec<SortKey>,
    /// The right rows in order, with their keys.
    right: Vec<(Vec<Value>, Row)>,
    /// Right rows that met a left row (for FULL).
    matched: Vec<bool>,
    /// The first right row whose key is not below the current left key.
    at: usize,
    kind: JoinKind,
    residual: Option<&'p Expr>,
    left_width: usize,
    right_width: usize,
    out: VecDeque<Row>,
    left_done: bool,
    /// FULL: the next right row to check for having met none.
    tail: usize,
}

impl RowIter for MergeJoin<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        use std::cmp::Ordering;
        loop {
            if let Some(r) = self.out.pop_front() {
                return Ok(Some(r));
            }
            if self.left_done {
                // FULL: right rows that met nothing, padded on the left.
                while self.tail < self.right.len() {
                    let i = self.tail;
                    self.tail += 1;
                    if !self.matched[i] {
                        let mut row = vec![Value::Null; self.left_width];
                        row.extend(self.right[i].1.iter().cloned());
                        return Ok(Some(row));
                    }
                }
                return Ok(None);
            }
            let Some(lr) = self.left.next(cx)? else {
                self.left_done = true;
                if self.kind != JoinKind::Full {
                    self.tail = self.right.len();
                }
                continue;
            };
            cx.check_cancel()?;
            let lk = self
                .keys
                .iter()
                .map(|(k, _)| eval(k, &lr, &cx.eval))
                .collect::<Result<Vec<_>>>()?;
            let mut any = false;
            if !lk.iter().any(Value::is_null) {
                while self.at < self.right.len()
                    && compare_keys(&self.sort, &self.right[self.at].0, &lk) == Ordering::Less
                {
                    self.at += 1;
                }
                let mut i = self.at;
                while i < self.right.len()
                    && compare_keys(&self.sort, &self.right[i].0, &lk) == Ordering::Equal
                {
                    let mut row = Vec::with_capacity(lr.len() + self.right_width);
                    row.extend_from_slice(&lr);
                    row.extend(self.right[i].1.iter().cloned());
                    if match self.residual {
                        Some(p) => truthy(&eval(p, &row, &cx.eval)?),
                        None => true,
                    } {
                        any = true;
                        self.matched[i] = true;
                        self.out.push_back(row);
                    }
                    i += 1;
                }
            }
            if !any && matches!(self.kind, JoinKind::Left | JoinKind::Full) {
                let mut row = lr;
                row.extend(std::iter::repeat_n(Value::Null, self.right_width));
                self.out.push_back(row);
            }
        }
    }
}

/// Index nested loop: for each left row, the right index scan restarted
/// at the key the row gives.
struct IndexJoin<'p> {
    left: Box<dyn RowIter + 'p>,
    right: &'p Plan,
    /// The right scan, made at the first probe and restarted for each.
    scan: Option<TableScan>,
    kind: JoinKind,
    residual: Option<&'p Expr>,
    right_width: usize,
    /// The left row being probed for, and whether it has matched.
    current: Option<(Row, bool)>,
}

impl RowIter for IndexJoin<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        loop {
            if let (Some((lr, matched)), Some(scan)) = (&mut self.current, &mut self.scan) {
                let started = cx.instrument.as_ref().map(|_| std::time::Instant::now());
                let mut found = None;
                let mut fetched = 0;
                while let Some(r) = scan.next(cx)? {
                    fetched += 1;
                    let mut row = Vec::with_capacity(lr.len() + r.len());
                    row.extend_from_slice(lr);
                    row.extend(r);
                    if match self.residual {
                        Some(p) => truthy(&eval(p, &row, &cx.eval)?),
                        None => true,
                    } {
                        found = Some(row);
                        break;
                    }
                }
                if let (Some(ins), Some(t)) = (&cx.instrument, started) {
                    let mut m = ins.lock();
                    let s = m.entry(self.right as *const Plan as usize).or_default();
                    s.total += t.elapsed();
                    s.rows += fetched;
                    s.first.get_or_insert(t.elapsed());
                }
                if let Some(row) = found {
                    *matched = true;
                    return Ok(Some(row));
                }
                let (lr, matched) = self.current.take().expect("probing");
                if !matched && self.kind == JoinKind::Left {
                    let mut row = lr;
                    row.extend(std::iter::repeat_n(Value::Null, self.right_width));
                    return Ok(Some(row));
                }
            }
            let Some(lr) = self.left.next(cx)? else {
                return Ok(None);
            };
            match &mut self.scan {
                Some(scan) => scan.rescan(self.right, &lr, cx)?,
                None => {
                    let mut s = TableScan::probe(self.right, &lr, cx)?;
                    s.set_columns(self.right, cx);
                    self.scan = Some(s);
                }
            }
            if let Some(ins) = &cx.instrument {
                ins.lock()
                    .entry(self.right as *const Plan as usize)
                    .or_default()
                    .loops += 1;
            }
            self.current = Some((lr, false));
        }
    }
}

struct VecIter(std::vec::IntoIter<Row>);
impl RowIter for VecIter {
    fn next(&mut self, _cx: &Ctx<'_>) -> Result<Option<Row>> {
        Ok(self.0.next())
    }
}

struct FilterIter<'p> {
    input: Box<dyn RowIter + 'p>,
    pred: &'p Expr,
}
impl RowIter for FilterIter<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        let mut n = 0u32;
        while let Some(r) = self.input.next(cx)? {
            if truthy(&eval(self.pred, &r, &cx.eval)?) {
                return Ok(Some(r));
            }
            // Long runs of rejected rows still notice a cancel or timeout.
            n = n.wrapping_add(1);
            if n % 4096 == 0 {
                cx.check_cancel()?;
            }
        }
        Ok(None)
    }
}

struct ProjectIter<'p> {
    input: Box<dyn RowIter + 'p>,
    exprs: &'p [Expr],
}
impl RowIter for ProjectIter<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        match self.input.next(cx)? {
            Some(r) => Ok(Some(
                self.exprs
                    .iter()
                    .map(|e| eval(e, &r, &cx.eval))
                    .collect::<Result<Vec<_>>>()?,
            )),
            None => Ok(None),
        }
    }
}

/// FETCH ... WITH TIES over sorted rows.
struct LimitTiesIter<'p> {
    input: Box<dyn RowIter + 'p>,
    skip: u64,
    left: Option<u64>,
    keys: &'p [SortKey],
    /// The sort keys of the last row within the limit.
    last: Option<Vec<Value>>,
}
impl RowIter for LimitTiesIter<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        while self.skip > 0 {
            if self.input.next(cx)?.is_none() {
                return Ok(None);
            }
            self.skip -= 1;
        }
        let Some(r) = self.input.next(cx)? else {
            return Ok(None);
        };
        let key = |r: &Row| -> Result<Vec<Value>> {
            self.keys
                .iter()
                .map(|k| eval(&k.expr, r, &cx.eval))
                .collect()
        };
        match &mut self.left {
            Some(0) => {
                // Past the limit: only rows tied with the last one.
                let k = key(&r)?;
                let tied = self
                    .last
                    .as_ref()
                    .is_some_and(|l| l.iter().zip(&k).all(|(a, b)| a.cmp_total(b).is_eq()));
                if tied {
                    Ok(Some(r))
                } else {
                    self.left = Some(u64::MAX);
                    Ok(None)
                }
            }
            Some(u64::MAX) => Ok(None),
            Some(l) => {
                *l -= 1;
                if *l == 0 {
                    self.last = Some(key(&r)?);
                }
                Ok(Some(r))
            }
            None => Ok(Some(r)),
        }
    }
}

struct LimitIter<'p> {
    input: Box<dyn RowIter + 'p>,
    skip: u64,
    left: Option<u64>,
}
impl RowIter for LimitIter<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        if self.left == Some(0) {
            return Ok(None);
        }
        while self.skip > 0 {
            if self.input.next(cx)?.is_none() {
                return Ok(None);
            }
            self.skip -= 1;
        }
        let r = self.input.next(cx)?;
        if r.is_some() {
            if let Some(l) = &mut self.left {
                *l -= 1;
            }
        }
        Ok(r)
    }
}

struct NestedLoop<'p> {
    left: Box<dyn RowIter + 'p>,
    right: Vec<Row>,
    kind: JoinKind,
    on: Option<&'p Expr>,
    left_width: usize,
    right_width: usize,
    cur: Option<(Row, usize, bool)>,
    /// FULL JOIN: which right rows have matched, and then the position of
    /// the next unmatched one to emit once the left side is done.
    right_matched: Vec<bool>,
    tail: Option<usize>,
}
impl RowIter for NestedLoop<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        loop {
            if let Some(i) = &mut self.tail {
                return Ok(unmatched_right(
                    &self.right,
                    &self.right_matched,
                    i,
                    self.left_width,
                ));
            }
            if self.cur.is_none() {
                match self.left.next(cx)? {
                    Some(l) => self.cur = Some((l, 0, false)),
                    None if self.kind == JoinKind::Full => {
                        self.tail = Some(0);
                        continue;
                    }
                    None => return Ok(None),
                }
            }
            cx.check_cancel()?;
            let (l, i, matched) = self.cur.as_mut().expect("set above");
            while *i < self.right.len() {
                if *i % 4096 == 4095 {
                    cx.check_cancel()?;
                }
                let mut row = l.clone();
                row.extend(self.right[*i].iter().cloned());
                *i += 1;
                let ok = match self.on {
                    Some(p) => truthy(&eval(p, &row, &cx.eval)?),
                    None => true,
                };
                if ok {
                    *matched = true;
                    if self.kind == JoinKind::Full {
                        self.right_matched[*i - 1] = true;
                    }
                    return Ok(Some(row));
                }
            }
            let (l, _, matched) = self.cur.take().expect("set above");
            if !matched && self.kind != JoinKind::Inner {
                let mut row = l;
                row.extend(std::iter::repeat_n(Value::Null, self.right_width));
                return Ok(Some(row));
            }
        }
    }
}

/// The next right row (from `*at`) that no left row matched, NULL-padded
/// on the left, for the end of a FULL JOIN.
fn unmatched_right(
    rows: &[Row],
    matched: &[bool],
    at: &mut usize,
    left_width: usize,
) -> Option<Row> {
    while *at < rows.len() {
        let i = *at;
        *at += 1;
        if !matched[i] {
            let mut row: Row = std::iter::repeat_n(Value::Null, left_width).collect();
            row.extend(rows[i].iter().cloned());
            return Some(row);
        }
    }
    None
}

struct HashJoinIter<'p> {
    left: Box<dyn RowIter + 'p>,
    /// Key → indexes into `rows`.
    table: HashMap<Vec<Value>, Vec<usize>>,
    rows: Vec<Row>,
    left_keys: Vec<&'p Expr>,
    residual: Option<&'p Expr>,
    kind: JoinKind,
    left_width: usize,
    right_width: usize,
    pending: VecDeque<Row>,
    right_matched: Vec<bool>,
    tail: Option<usize>,
}
impl RowIter for HashJoinIter<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            if let Some(i) = &mut self.tail {
                return Ok(unmatched_right(
                    &self.rows,
                    &self.right_matched,
                    i,
                    self.left_width,
                ));
            }
            let Some(l) = self.left.next(cx)? else {
                if self.kind == JoinKind::Full {
                    self.tail = Some(0);
                    continue;
                }
                return Ok(None);
            };
            let key = self
                .left_keys
                .iter()
                .map(|e| eval(e, &l, &cx.eval))
                .collect::<Result<Vec<_>>>()?;
            let mut matched = false;
            let semi = matches!(self.kind, JoinKind::Semi | JoinKind::Anti);
            if !key.iter().any(|v| v.is_null()) {
                if let Some(ids) = self.table.get(&key) {
                    for &id in ids {
                        let mut row = l.clone();
                        row.extend(self.rows[id].iter().cloned());
                        let ok = match self.residual {
                            Some(p) => truthy(&eval(p, &row, &cx.eval)?),
                            None => true,
                        };
                        if ok && semi {
                            matched = true;
                            break;
                        }
                        if ok {
                            matched = true;
                            if self.kind == JoinKind::Full {
                                self.right_matched[id] = true;
                            }
                            self.pending.push_back(row);
                        }
                    }
                }
            }
            match self.kind {
                // Left columns only: a match (semi), or none (anti).
                JoinKind::Semi if matched => return Ok(Some(l)),
                JoinKind::Anti if !matched => return Ok(Some(l)),
                JoinKind::Semi | JoinKind::Anti | JoinKind::Inner => {}
                JoinKind::Left | JoinKind::Full if !matched => {
                    let mut row = l;
                    row.extend(std::iter::repeat_n(Value::Null, self.right_width));
                    return Ok(Some(row));
                }
                _ => {}
            }
        }
    }
}

/// generate_series(start, stop[, step]) over integers, numerics, or
/// timestamps with an interval step.
/// The rows of a set-returning function for one input row: a list, or a
/// numeric or time series made as it is read (generate_series(1, 10000000)
/// holds one value at a time).
enum SrfRows {
    List(std::vec::IntoIter<Value>),
    Series {
        next: Option<Value>,
        end: Value,
        step: Value,
        up: bool,
    },
    Ordinality,
}

impl SrfRows {
    fn next(&mut self) -> Option<Value> {
        match self {
            SrfRows::List(it) => it.next(),
            SrfRows::Ordinality => None,
            SrfRows::Series {
                next,
                end,
                step,
                up,
            } => {
                let x = next.take()?;
                let o = x.cmp_total(end);
                if (*up && o == std::cmp::Ordering::Greater)
                    || (!*up && o == std::cmp::Ordering::Less)
                {
                    return None;
                }
                *next = crate::eval::arith(basalt_planner::BinOp::Add, &x, step).ok();
                Some(x)
            }
        }
    }
}

/// ProjectSet: each input row with its set-returning functions' rows side
/// by side (the shorter padded with NULL), made one row at a time.
struct ProjectSetIter<'p> {
    input: Box<dyn RowIter + 'p>,
    calls: &'p [(String, Vec<Expr>)],
    /// The input row, its functions' rows, and how many rows it gave.
    cur: Option<(Row, Vec<SrfRows>, i64)>,
}

impl RowIter for ProjectSetIter<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        loop {
            if let Some((r, lists, n)) = self.cur.as_mut() {
                if *n % 4096 == 4095 {
                    cx.check_cancel()?;
                }
                let vals: Vec<Option<Value>> = lists.iter_mut().map(|l| l.next()).collect();
                // Ordinality yields nothing itself: the row exists while a
                // function still has one.
                if vals.iter().any(Option::is_some) {
                    *n += 1;
                    let mut row = r.clone();
                    row.extend(vals.into_iter().zip(lists.iter()).map(|(v, l)| match l {
                        SrfRows::Ordinality => Value::Int8(*n),
                        _ => v.unwrap_or(Value::Null),
                    }));
                    return Ok(Some(row));
                }
                self.cur = None;
            }
            let Some(r) = self.input.next(cx)? else {
                return Ok(None);
            };
            let mut lists = Vec::with_capacity(self.calls.len());
            for (name, args) in self.calls {
                if name == "__ordinality" {
                    lists.push(SrfRows::Ordinality);
                    continue;
                }
                let vals = args
                    .iter()
                    .map(|e| eval(e, &r, &cx.eval))
                    .collect::<Result<Vec<_>>>()?;
                lists.push(if name == "unnest" {
                    SrfRows::List(
                        match crate::arrays::as_array(&vals[0])? {
                            Some(a) => a.into_owned().items,
                            None => vec![],
                        }
                        .into_iter(),
                    )
                } else if let Some(rows) = crate::json::srf(name, &vals) {
                    SrfRows::List(rows?.into_iter())
                } else if name == "regexp_matches" {
                    SrfRows::List(regexp_matches(&vals)?.into_iter())
                } else if name == "generate_subscripts" {
                    SrfRows::List(crate::arrays::subscripts_of(&vals)?.into_iter())
                } else if name == "_pg_expandarray" {
                    SrfRows::List(crate::arrays::expand_records(&vals)?.into_iter())
                } else {
                    series(&vals)?
                });
            }
            self.cur = Some((r, lists, 0));
        }
    }
}

/// generate_series(start, stop [, step]) as rows made when read.
fn series(a: &[Value]) -> Result<SrfRows> {
    if a.iter().any(|v| v.is_null()) {
        return Ok(SrfRows::List(vec![].into_iter()));
    }
    let step = match a.get(2) {
        Some(s) => s.clone(),
        None => match &a[0] {
            Value::Int8(_) => Value::Int8(1),
            Value::Numeric(_) => Value::Numeric(Numeric::ONE),
            _ => Value::Int4(1),
        },
    };
    let zero = match &step {
        Value::Interval(i) => i.span() == 0,
        v => v.as_f64() == Some(0.0),
    };
    if zero {
        return Err(ExecError::Internal("step size cannot equal zero".into()));
    }
    let up = match &step {
        Value::Interval(i) => i.span() > 0,
        v => v.as_f64().unwrap_or(1.0) > 0.0,
    };
    Ok(SrfRows::Series {
        next: Some(a[0].clone()),
        end: a[1].clone(),
        step,
        up,
    })
}

/// generate_series in FROM: its rows, made as they are read.
struct SeriesIter(SrfRows, u64);

impl RowIter for SeriesIter {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        self.1 += 1;
        if self.1 % 4096 == 0 {
            cx.check_cancel()?;
        }
        Ok(self.0.next().map(|v| vec![v]))
    }
}

/// regexp_matches(s, pattern [, flags]): a text[] of the groups per match;
/// all matches with flag g, else the first.
fn regexp_matches(a: &[Value]) -> Result<Vec<Value>> {
    if a.iter().take(2).any(|v| v.is_null()) {
        return Ok(vec![]);
    }
    let flags = a.get(2).map(|v| v.to_string()).unwrap_or_default();
    let re = crate::regex::Regex::new(&a[1].to_string(), flags.contains('i'))
        .map_err(ExecError::InvalidRegex)?;
    let text = a[0].to_string();
    let mut all = re.captures_all(&text);
    if !flags.contains('g') {
        all.truncate(1);
    }
    Ok(all
        .into_iter()
        .map(|groups| {
            Value::Array(Box::new(basalt_catalog::types::Array::from_items(
                DataType::Text,
                groups
                    .into_iter()
                    .map(|g| g.map(Value::Text).unwrap_or(Value::Null))
                    .collect(),
            )))
        })
        .collect())
}

/// A LIMIT or OFFSET count (None: no limit).
fn limit_count(e: &Option<Expr>, cx: &Ctx<'_>) -> Result<Option<u64>> {
    match e {
        None => Ok(None),
        Some(e) => match eval(e, &[], &cx.eval)? {
            Value::Null => Ok(None),
            v => {
                let n = v.as_i64().unwrap_or(0);
                if n < 0 {
                    return Err(ExecError::Internal("LIMIT must not be negative".into()));
                }
                Ok(Some(n as u64))
            }
        },
    }
}

pub fn collect(it: &mut dyn RowIter, cx: &Ctx<'_>) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    while let Some(r) = it.next(cx)? {
        out.push(r);
    }
    Ok(out)
}

/// What EXPLAIN ANALYZE measures of one plan node: rows out, times built
/// (loops), time to the first row and in all.
#[derive(Default, Clone, Copy, Debug)]
pub struct NodeStats {
    pub rows: u64,
    pub loops: u64,
    /// An index-only scan's heap lookups (pages not all-visible).
    pub heap_fetches: u64,
    pub first: Option<std::time::Duration>,
    pub total: std::time::Duration,
}

/// Per-node measurements, keyed by the address of the plan node.
pub type Instrument = Arc<parking_lot::Mutex<HashMap<usize, NodeStats>>>;

/// A plan node's iterator, measured for EXPLAIN ANALYZE.
struct Instrumented<'p> {
    inner: Box<dyn RowIter + 'p>,
    key: usize,
    ins: Instrument,
    start: std::time::Instant,
}
impl RowIter for Instrumented<'_> {
    fn next(&mut self, cx: &Ctx<'_>) -> Result<Option<Row>> {
        let t = std::time::Instant::now();
        let r = self.inner.next(cx);
        let took = t.elapsed();
        let mut m = self.ins.lock();
        let s = m.entry(self.key).or_default();
        s.total += took;
        if let Ok(Some(_)) = &r {
            s.rows += 1;
            if s.first.is_none() {
                s.first = Some(self.start.elapsed());
            }
        }
        r
    }
}

/// Builds the iterator tree for a plan (measuring each node under EXPLAIN
/// ANALYZE).
pub fn build<'p>(plan: &'p Plan, cx: &Ctx<'_>) -> Result<Box<dyn RowIter + 'p>> {
    let Some(ins) = &cx.instrument else {
        return build_node(plan, cx);
    };
    let start = std::time::Instant::now();
    let inner = build_node(plan, cx)?;
    let key = plan as *const Plan as usize;
    {
        let mut m = ins.lock();
        let s = m.entry(key).or_default();
        s.loops += 1;
        s.total += start.elapsed();
    }
    Ok(Box::new(Instrumented {
        inner,
        key,
        ins: ins.clone(),
        start,
    }))
}

fn build_node<'p>(plan: &'p Plan, cx: &Ctx<'_>) -> Result<Box<dyn RowIter + 'p>> {
    Ok(match plan {
        Plan::Single => Box::new(VecIter(vec![vec![]].into_iter())),
        Plan::SeqScan { .. } | Plan::IndexScan { .. } => {
            let mut scan = TableScan::new(plan, cx)?;
            scan.set_columns(plan, cx);
            Box::new(scan)
        }
        Plan::WithTid { input } => Box::new(WithTid(TableScan::new(input, cx)?)),
        Plan::LockRows {
            input,
            table,
            tid_col,
            strength,
            wait,
            pred,
            exprs,
        } => Box::new(LockRows {
            input: build(input, cx)?,
            types: table.types(),
            table: table.clone(),
            tid_col: *tid_col,
            mode: row_mode(*strength),
            policy: wait_policy(*wait),
            pred: pred.as_ref(),
            exprs,
        }),
        Plan::LockJoinRows {
            input,
            targets,
            strength,
            wait,
            pred,
        } => Box::new(LockJoinRows {
            input: build(input, cx)?,
            targets: targets
                .iter()
                .map(|t| (t.clone(), t.table.types()))
                .collect(),
            mode: row_mode(*strength),
            policy: wait_policy(*wait),
            pred: pred.as_ref(),
        }),
        Plan::System { name, filter } => {
            let rows = match (cx.live_view)(name) {
                Some(r) => r,
                None => basalt_catalog::system::rows(name, cx.schema, &(cx.settings)()),
            };
            let rows = match filter {
                Some(f) => {
                    let mut keep = Vec::new();
                    for r in rows {
                        if truthy(&eval(f, &r, &cx.eval)?) {
                            keep.push(r);
                        }
                    }
                    keep
                }
                None => rows,
            };
            Box::new(VecIter(rows.into_iter()))
        }
        Plan::Function { name, args } => {
            let vals = args
                .iter()
                .map(|a| eval(a, &[], &cx.eval))
                .collect::<Result<Vec<_>>>()?;
            Box::new(VecIter((cx.table_fn)(name, &vals)?.into_iter()))
        }
        Plan::Series {
            start,
            stop,
            step,
            ty,
        } => {
            let mut args = vec![
                cast::cast(eval(start, &[], &cx.eval)?, ty)?,
                cast::cast(eval(stop, &[], &cx.eval)?, ty)?,
            ];
            if let Some(e) = step {
                // The binder cast the step (an interval for timestamps).
                args.push(eval(e, &[], &cx.eval)?);
            }
            Box::new(SeriesIter(series(&args)?, 0))
        }
        Plan::Values { rows } => {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(
                    r.iter()
                        .map(|e| eval(e, &[], &cx.eval))
                        .collect::<Result<Vec<_>>>()?,
                );
            }
            Box::new(VecIter(out.into_iter()))
        }
        Plan::Filter { input, pred } => Box::new(FilterIter {
            input: build(input, cx)?,
            pred,
        }),
        Plan::Project { input, exprs } => Box::new(ProjectIter {
            input: build(input, cx)?,
            exprs,
        }),
        Plan::Join {
            left,
            right,
            kind,
            on,
            left_width,
            right_width,
        } => {
            let mut r = build(right, cx)?;
            let right = collect(r.as_mut(), cx)?;
            Box::new(NestedLoop {
                left: build(left, cx)?,
                right_matched: vec![
                    false;
                    if *kind == JoinKind::Full {
                        right.len()
                    } else {
                        0
                    }
                ],
                right,
                kind: *kind,
                on: on.as_ref(),
                left_width: *left_width,
                right_width: *right_width,
                cur: None,
                tail: None,
            })
        }
        Plan::LateralJoin {
            left,
            right,
            kind,
            on,
            right_width,
        } => {
            let mut l = build(left, cx)?;
            let mut out = Vec::new();
            while let Some(lr) = l.next(cx)? {
                cx.check_cancel()?;
                let mut outer = Vec::with_capacity(cx.eval.outer.len() + 1);
                outer.push(lr.clone());
                outer.extend(cx.eval.outer.iter().cloned());
                let rows = (cx.eval.subquery)(right, &outer)?;
                let mut matched = false;
                for r in rows {
                    let mut row = lr.clone();
                    row.extend(r);
                    let ok = match on {
                        Some(p) => truthy(&eval(p, &row, &cx.eval)?),
                        None => true,
                    };
                    if ok {
                        matched = true;
                        out.push(row);
                    }
                }
                if !matched && *kind == JoinKind::Left {
                    let mut row = lr;
                    row.extend(std::iter::repeat_n(Value::Null, *right_width));
                    out.push(row);
                }
            }
            Box::new(VecIter(out.into_iter()))
        }
        Plan::MergeJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width,
            right_width,
        } => {
            // The right side in memory (with its keys), the left streamed.
            let mut r = build(right, cx)?;
            let mut rows = Vec::new();
            while let Some(row) = r.next(cx)? {
                let key = keys
                    .iter()
                    .map(|(_, rk)| eval(rk, &row, &cx.eval))
                    .collect::<Result<Vec<_>>>()?;
                rows.push((key, row));
            }
            let n = rows.len();
            Box::new(MergeJoin {
                left: build(left, cx)?,
                keys,
                sort: keys
                    .iter()
                    .map(|(k, _)| SortKey {
                        expr: k.clone(),
                        desc: false,
                        nulls_first: false,
                    })
                    .collect(),
                right: rows,
                matched: vec![false; n],
                at: 0,
                kind: *kind,
                residual: residual.as_ref(),
                left_width: *left_width,
                right_width: *right_width,
                out: VecDeque::new(),
                left_done: false,
                tail: 0,
            })
        }
        Plan::IndexJoin {
            left,
            right,
            kind,
            residual,
            right_width,
            ..
        } => Box::new(IndexJoin {
            left: build(left, cx)?,
            right,
            scan: None,
            kind: *kind,
            residual: residual.as_ref(),
            right_width: *right_width,
            current: None,
        }),
        Plan::HashJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width,
            right_width,
        } => {
            let mut r = build(right, cx)?;
            let mut table: HashMap<Vec<Value>, Vec<usize>> = HashMap::new();
            let mut rows = Vec::new();
            while let Some(row) = r.next(cx)? {
                let key = keys
                    .iter()
                    .map(|(_, rk)| eval(rk, &row, &cx.eval))
                    .collect::<Result<Vec<_>>>()?;
                if key.iter().any(|v| v.is_null()) {
                    // Never matches; a FULL JOIN still emits it.
                    if *kind == JoinKind::Full {
                        rows.push(row);
                    }
                    continue;
                }
                table.entry(key).or_default().push(rows.len());
                rows.push(row);
            }
            Box::new(HashJoinIter {
                left: build(left, cx)?,
                table,
                right_matched: vec![
                    false;
                    if *kind == JoinKind::Full {
                        rows.len()
                    } else {
                        0
                    }
                ],
                rows,
                left_keys: keys.iter().map(|(l, _)| l).collect(),
                residual: residual.as_ref(),
                kind: *kind,
                left_width: *left_width,
                right_width: *right_width,
                pending: VecDeque::new(),
                tail: None,
            })
        }
        Plan::DistinctOn { input, cols } => {
            let mut it = build(input, cx)?;
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            while let Some(r) = it.next(cx)? {
                let key: Vec<Value> = cols.iter().map(|&c| r[c].clone()).collect();
                if seen.insert(key) {
                    out.push(r);
                }
            }
            Box::new(VecIter(out.into_iter()))
        }
        Plan::ProjectSet { input, calls } => Box::new(ProjectSetIter {
            input: build(input, cx)?,
            calls,
            cur: None,
        }),
        Plan::Window { input, calls } => {
            let mut it = build(input, cx)?;
            let rows = collect(it.as_mut(), cx)?;
            Box::new(VecIter(
                crate::window::window_rows(rows, calls, cx)?.into_iter(),
            ))
        }
        Plan::Aggregate {
            input,
            group,
            aggs,
            sets,
        } => {
            let mut it = build(input, cx)?;
            if sets.is_empty() {
                Box::new(VecIter(
                    aggregate(it.as_mut(), group, aggs, cx)?.into_iter(),
                ))
            } else {
                // Each grouping set over the same rows; the columns a set
                // leaves out are NULL (an empty set is one total row).
                let rows = collect(it.as_mut(), cx)?;
                let mut out = Vec::new();
                for set in sets {
                    let g: Vec<Expr> = set.iter().map(|&i| group[i].clone()).collect();
                    let mut src = VecIter(rows.clone().into_iter());
                    for r in aggregate(&mut src, &g, aggs, cx)? {
                        let mut row = vec![Value::Null; group.len()];
                        for (k, &i) in set.iter().enumerate() {
                            row[i] = r[k].clone();
                        }
                        row.extend(r[set.len()..].iter().cloned());
                        for (j, a) in aggs.iter().enumerate() {
                            if a.func == AggFunc::Grouping {
                                let mut bits = 0i32;
                                for arg in &a.args {
                                    let p = match arg {
                                        Expr::Literal(Value::Int4(p)) => *p as usize,
                                        _ => usize::MAX,
                                    };
                                    bits = (bits << 1) | i32::from(!set.contains(&p));
                                }
                                row[group.len() + j] = Value::Int4(bits);
                            }
                        }
                        out.push(row);
                    }
                }
                Box::new(VecIter(out.into_iter()))
            }
        }
        Plan::Sort { input, keys } => {
            let mut it = build(input, cx)?;
            let mut rows = collect(it.as_mut(), cx)?;
            sort_rows(&mut rows, keys, cx)?;
            Box::new(VecIter(rows.into_iter()))
        }
        Plan::Limit {
            input,
            limit,
            offset,
        } => {
            let num = |e: &Option<Expr>| limit_count(e, cx);
            Box::new(LimitIter {
                input: build(input, cx)?,
                skip: num(offset)?.unwrap_or(0),
                left: num(limit)?,
            })
        }
        Plan::LimitTies {
            input,
            limit,
            offset,
            keys,
        } => {
            let num = |e: &Option<Expr>| limit_count(e, cx);
            let left = num(limit)?;
            Box::new(LimitTiesIter {
                input: build(input, cx)?,
                skip: num(offset)?.unwrap_or(0),
                left: if left == Some(0) {
                    Some(u64::MAX)
                } else {
                    left
                },
                keys,
                last: None,
            })
        }
        Plan::Distinct { input } => {
            let mut it = build(input, cx)?;
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            while let Some(r) = it.next(cx)? {
                if seen.insert(r.clone()) {
                    out.push(r);
                }
            }
            Box::new(VecIter(out.into_iter()))
        }
        Plan::RecursiveUnion {
            id,
            base,
            recursive,
            all,
        } => {
            let mut it = build(base, cx)?;
            let mut seen: HashSet<Row> = HashSet::new();
            let mut out = Vec::new();
            let mut work = Vec::new();
            while let Some(r) = it.next(cx)? {
                if *all || seen.insert(r.clone()) {
                    work.push(r.clone());
                    out.push(r);
                }
            }
            while !work.is_empty() {
                cx.check_cancel()?;
                cx.work_tables
                    .borrow_mut()
                    .insert(*id, Arc::new(std::mem::take(&mut work)));
                let mut it = build(recursive, cx)?;
                while let Some(r) = it.next(cx)? {
                    if *all || seen.insert(r.clone()) {
                        work.push(r.clone());
                        out.push(r);
                    }
                }
            }
            cx.work_tables.borrow_mut().remove(id);
            Box::new(VecIter(out.into_iter()))
        }
        Plan::WorkTable { id, .. } => {
            let rows = cx.work_tables.borrow().get(id).cloned().unwrap_or_default();
            Box::new(VecIter(rows.as_ref().clone().into_iter()))
        }
        Plan::SetOp {
            left,
            right,
            intersect,
            all,
        } => {
            let mut it = build(right, cx)?;
            let mut counts: HashMap<Row, usize> = HashMap::new();
            while let Some(r) = it.next(cx)? {
                *counts.entry(r).or_default() += 1;
            }
            let mut it = build(left, cx)?;
            let mut out = Vec::new();
            let mut emitted: HashSet<Row> = HashSet::new();
            while let Some(r) = it.next(cx)? {
                let n = counts.get(&r).copied().unwrap_or(0);
                let keep = match (*intersect, *all) {
                    // ALL: each right row matches (INTERSECT) or cancels
                    // (EXCEPT) one left row.
                    (true, true) => n > 0,
                    (false, true) => n == 0,
                    (true, false) => n > 0 && !emitted.contains(&r),
                    (false, false) => n == 0 && !emitted.contains(&r),
                };
                if *all && n > 0 {
                    if let Some(c) = counts.get_mut(&r) {
                        *c -= 1;
                    }
                }
                if keep {
                    if !*all {
                        emitted.insert(r.clone());
                    }
                    out.push(r);
                }
            }
            Box::new(VecIter(out.into_iter()))
        }
        Plan::Union { inputs, all } => {
            let mut out = Vec::new();
            for p in inputs {
                let mut it = build(p, cx)?;
                out.extend(collect(it.as_mut(), cx)?);
            }
            if !all {
                let mut seen = HashSet::new();
                out.retain(|r| seen.insert(r.clone()));
            }
            Box::new(VecIter(out.into_iter()))
        }
    })
}

/// Order of two rows' sort-key values under `keys` (direction, NULLs).
pub(crate) fn compare_keys(keys: &[SortKey], a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for (i, k) in keys.iter().enumerate() {
        let (x, y) = (&a[i], &b[i]);
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            _ => {
                let o = x.cmp_total(y);
                if k.desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

pub fn sort_rows(rows: &mut [Row], keys: &[SortKey], cx: &Ctx<'_>) -> Result<()> {
    // Precompute keys (they are expressions over the row).
    let mut keyed: Vec<(Vec<Value>, usize)> = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        keyed.push((
            keys.iter()
                .map(|k| eval(&k.expr, r, &cx.eval))
                .collect::<Result<Vec<_>>>()?,
            i,
        ));
    }
    keyed.sort_by(|a, b| compare_keys(keys, &a.0, &b.0).then(a.1.cmp(&b.1)));
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let mut taken: Vec<Option<Row>> = rows.iter_mut().map(|r| Some(std::mem::take(r))).collect();
    for (dst, src) in order.into_iter().enumerate() {
        rows[dst] = taken[src].take().expect("each row once");
    }
    Ok(())
}

#[derive(Clone)]
pub(crate) enum AggState {
    Count(i64),
    Sum(Option<Value>),
    Avg(Option<Value>, i64),
    MinMax(Option<Value>),
    Bool(Option<bool>),
    Str(Option<String>),
    /// Ordered-set aggregates: the fraction, and the values to order.
    Vals(Option<f64>, Vec<Value>),
    /// array_agg, json_agg: the values in order, NULLs too.
    List(Vec<Value>),
    /// json_object_agg: the (key, value) pairs in order.
    Pairs(Vec<(Value, Value)>),
    /// variance and stddev of numerics: count, sum, sum of squares.
    NumMoments(i64, Numeric, Numeric),
    /// ... of floats, as PostgreSQL accumulates them (Youngs-Cramer):
    /// count, sum, sum of squared deviations.
    FltMoments(f64, f64, f64),
    /// Two-argument statistics: N, Sx, Sy, Sxx, Syy, Sxy.
    Regr([f64; 6]),
    Bits(Option<i64>),
}

pub(crate) fn agg_init(a: &AggCall) -> AggState {
    match a.func {
        AggFunc::Count | AggFunc::CountStar => AggState::Count(0),
        AggFunc::Sum => AggState::Sum(None),
        AggFunc::Avg => AggState::Avg(None, 0),
        AggFunc::Min | AggFunc::Max => AggState::MinMax(None),
        AggFunc::BoolAnd | AggFunc::BoolOr => AggState::Bool(None),
        AggFunc::StringAgg => AggState::Str(None),
        AggFunc::ArrayAgg | AggFunc::JsonAgg | AggFunc::JsonbAgg => AggState::List(Vec::new()),
        AggFunc::JsonObjectAgg | AggFunc::JsonbObjectAgg => AggState::Pairs(Vec::new()),
        AggFunc::PercentileCont | AggFunc::PercentileDisc => AggState::Vals(None, Vec::new()),
        AggFunc::Mode => AggState::List(Vec::new()),
        AggFunc::Grouping => AggState::Count(0),
        AggFunc::Variance { .. } if matches!(a.ty, DataType::Numeric(_)) => {
            AggState::NumMoments(0, Numeric::ZERO, Numeric::ZERO)
        }
        AggFunc::Variance { .. } => AggState::FltMoments(0.0, 0.0, 0.0),
        AggFunc::Regr(_) => AggState::Regr([0.0; 6]),
        AggFunc::BitAnd | AggFunc::BitOr => AggState::Bits(None),
    }
}

fn widen(v: Value) -> Value {
    match v {
        Value::Int2(i) => Value::Int8(i as i64),
        Value::Int4(i) => Value::Int8(i as i64),
        Value::Int8(i) => Value::Numeric(Numeric::from(i)),
        v => v,
    }
}

pub(crate) fn agg_step(a: &AggCall, st: &mut AggState, args: &[Value]) -> Result<()> {
    match (a.func, &mut *st) {
        (AggFunc::Grouping, _) => return Ok(()),
        (AggFunc::Regr(_), AggState::Regr(m)) => {
            // (y, x); a row with either NULL is skipped.
            let (Some(y), Some(x)) = (
                args.first().and_then(|v| v.as_f64()),
                args.get(1).and_then(|v| v.as_f64()),
            ) else {
                return Ok(());
            };
            let [n, sx, sy, sxx, syy, sxy] = m;
            *n += 1.0;
            *sx += x;
            *sy += y;
            if *n > 1.0 {
                let tx = x * *n - *sx;
                let ty = y * *n - *sy;
                let scale = 1.0 / (*n * (*n - 1.0));
                *sxx += tx * tx * scale;
                *syy += ty * ty * scale;
                *sxy += tx * ty * scale;
            }
            return Ok(());
        }
        (AggFunc::Mode, AggState::List(vals)) => {
            if let Some(v) = args.first().filter(|v| !v.is_null()) {
                vals.push(v.clone());
            }
            return Ok(());
        }
        _ => {}
    }
    if let AggState::Vals(frac, vals) = st {
        // NULL values are skipped; the fraction is the same for every row.
        if let Some(f) = args.first().and_then(|v| v.as_f64()) {
            if !(0.0..=1.0).contains(&f) {
                return Err(ExecError::Coded {
                    code: "22003",
                    msg: format!("percentile value {f} is not between 0 and 1"),
                    detail: None,
                });
            }
            *frac = Some(f);
        }
        if let Some(v) = args.get(1).filter(|v| !v.is_null()) {
            vals.push(v.clone());
        }
        return Ok(());
    }
    if let AggState::List(vals) = st {
        vals.push(args.first().cloned().unwrap_or(Value::Null));
        return Ok(());
    }
    if let AggState::Pairs(pairs) = st {
        pairs.push((
            args.first().cloned().unwrap_or(Value::Null),
            args.get(1).cloned().unwrap_or(Value::Null),
        ));
        return Ok(());
    }
    if a.func != AggFunc::CountStar && args.first().is_none_or(|v| v.is_null()) {
        return Ok(());
    }
    match st {
        AggState::Vals(..) | AggState::List(_) | AggState::Pairs(_) => {
            unreachable!("handled above")
        }
        AggState::Count(n) => *n += 1,
        AggState::Sum(Some(Value::Numeric(acc))) if matches!(args[0], Value::Numeric(_)) => {
            // The common case, added in place.
            let Value::Numeric(v) = &args[0] else {
                unreachable!("matched")
            };
            *acc = acc.add(v).map_err(crate::eval::numeric_error)?;
        }
        AggState::Sum(s) => {
            let v = widen(args[0].clone());
            *s = Some(match s.take() {
                None => v,
                Some(x) => crate::eval::arith(basalt_planner::BinOp::Add, &x, &v)?,
            });
        }
        AggState::Avg(Some(Value::Numeric(acc)), n) if matches!(args[0], Value::Numeric(_)) => {
            let Value::Numeric(v) = &args[0] else {
                unreachable!("matched")
            };
            *acc = acc.add(v).map_err(crate::eval::numeric_error)?;
            *n += 1;
        }
        AggState::Avg(s, n) => {
            let v = match &args[0] {
                Value::Float4(_) | Value::Float8(_) => {
                    Value::Float8(args[0].as_f64().unwrap_or(0.0))
                }
                v => Value::Numeric(v.as_numeric().unwrap_or_default()),
            };
            *s = Some(match s.take() {
                None => v,
                Some(x) => crate::eval::arith(basalt_planner::BinOp::Add, &x, &v)?,
            });
            *n += 1;
        }
        AggState::MinMax(m) => {
            let v = &args[0];
            let replace = match m {
                None => true,
                Some(cur) => {
                    let o = v.cmp_total(cur);
                    // Among equal intervals ('1 mon', '30 days') PostgreSQL
                    // keeps the later value.
                    let tie = o == std::cmp::Ordering::Equal && matches!(v, Value::Interval(_));
                    tie || (a.func == AggFunc::Min && o == std::cmp::Ordering::Less)
                        || (a.func == AggFunc::Max && o == std::cmp::Ordering::Greater)
                }
            };
            if replace {
                *m = Some(v.clone());
            }
        }
        AggState::Bool(b) => {
            let v = crate::eval::truthy(&args[0]);
            *b = Some(match (*b, a.func) {
                (None, _) => v,
                (Some(x), AggFunc::BoolAnd) => x && v,
                (Some(x), _) => x || v,
            });
        }
        AggState::NumMoments(n, sum, sumsq) => {
            let v = crate::eval::numeric_of(&args[0]).unwrap_or_default();
            *n += 1;
            *sum = sum.add(&v).map_err(crate::eval::numeric_error)?;
            let sq = v.mul(&v).map_err(crate::eval::numeric_error)?;
            *sumsq = sumsq.add(&sq).map_err(crate::eval::numeric_error)?;
        }
        AggState::FltMoments(n, sx, sxx) => {
            let x = args[0].as_f64().unwrap_or(f64::NAN);
            *n += 1.0;
            *sx += x;
            if *n > 1.0 {
                let t = x * *n - *sx;
                *sxx += t * t / (*n * (*n - 1.0));
            }
        }
        AggState::Bits(b) => {
            let v = args[0].as_i64().unwrap_or(0);
            *b = Some(match (*b, a.func) {
                (None, _) => v,
                (Some(x), AggFunc::BitAnd) => x & v,
                (Some(x), _) => x | v,
            });
        }
        AggState::Regr(_) => {}
        AggState::Str(s) => {
            let sep = args.get(1).map(|v| v.to_string()).unwrap_or_default();
            let v = args[0].to_string();
            *s = Some(match s.take() {
                None => v,
                Some(x) => format!("{x}{sep}{v}"),
            });
        }
    }
    Ok(())
}

pub(crate) fn agg_final(a: &AggCall, st: AggState) -> Result<Value> {
    match (a.func, st) {
        // Without grouping sets every GROUP BY expression is in the set.
        (AggFunc::Grouping, _) => Ok(Value::Int4(0)),
        (AggFunc::Mode, AggState::List(mut vals)) => {
            vals.sort_by(|x, y| x.cmp_total(y));
            let mut best: Option<(usize, usize)> = None; // (start, count)
            let mut i = 0;
            while i < vals.len() {
                let mut j = i + 1;
                while j < vals.len() && vals[j].cmp_total(&vals[i]).is_eq() {
                    j += 1;
                }
                if best.is_none_or(|(_, n)| j - i > n) {
                    best = Some((i, j - i));
                }
                i = j;
            }
            Ok(best
                .map(|(i, _)| vals.swap_remove(i))
                .unwrap_or(Value::Null))
        }
        (_, st) => agg_final_state(a, st),
    }
}

fn agg_final_state(a: &AggCall, st: AggState) -> Result<Value> {
    Ok(match st {
        AggState::NumMoments(n, sum, sumsq) => {
            let (pop, sqrt) = match a.func {
                AggFunc::Variance { pop, sqrt } => (pop, sqrt),
                _ => (false, false),
            };
            if n == 0 || (!pop && n == 1) {
                return Ok(Value::Null);
            }
            let e = crate::eval::numeric_error;
            let nn = Numeric::from(n);
            let num = nn
                .mul(&sumsq)
                .map_err(e)?
                .sub(&sum.mul(&sum).map_err(e)?)
                .map_err(e)?;
            if num.cmp_total(&Numeric::ZERO) != std::cmp::Ordering::Greater {
                return Ok(Value::Numeric(Numeric::ZERO));
            }
            let den = if pop {
                nn.mul(&nn).map_err(e)?
            } else {
                nn.mul(&Numeric::from(n - 1)).map_err(e)?
            };
            let v = num.div(&den).map_err(e)?;
            Value::Numeric(if sqrt {
                v.sqrt_to(v.scale() as i32).map_err(e)?
            } else {
                v
            })
        }
        AggState::FltMoments(n, _, sxx) => {
            let (pop, sqrt) = match a.func {
                AggFunc::Variance { pop, sqrt } => (pop, sqrt),
                _ => (false, false),
            };
            if n == 0.0 || (!pop && n == 1.0) {
                return Ok(Value::Null);
            }
            let v = if pop { sxx / n } else { sxx / (n - 1.0) };
            Value::Float8(if sqrt { v.sqrt() } else { v })
        }
        AggState::Regr([n, sx, sy, sxx, syy, sxy]) => {
            use basalt_planner::RegrKind as K;
            let AggFunc::Regr(k) = a.func else {
                return Ok(Value::Null);
            };
            if k == K::Count {
                return Ok(Value::Int8(n as i64));
            }
            let f = |x: f64| Ok(Value::Float8(x));
            if n < 1.0 || (k == K::CovarSamp && n < 2.0) {
                return Ok(Value::Null);
            }
            return match k {
                K::Count => unreachable!("above"),
                K::Sxx => f(sxx),
                K::Syy => f(syy),
                K::Sxy => f(sxy),
                K::AvgX => f(sx / n),
                K::AvgY => f(sy / n),
                K::CovarPop => f(sxy / n),
                K::CovarSamp => f(sxy / (n - 1.0)),
                K::Corr if sxx == 0.0 || syy == 0.0 => Ok(Value::Null),
                K::Corr => f(sxy / (sxx * syy).sqrt()),
                K::R2 if sxx == 0.0 => Ok(Value::Null),
                K::R2 if syy == 0.0 => f(1.0),
                K::R2 => f(sxy * sxy / (sxx * syy)),
                K::Slope if sxx == 0.0 => Ok(Value::Null),
                K::Slope => f(sxy / sxx),
                K::Intercept if sxx == 0.0 => Ok(Value::Null),
                K::Intercept => f((sy - sx * sxy / sxx) / n),
            };
        }
        AggState::Bits(b) => match b {
            None => Value::Null,
            Some(v) => crate::eval::cast_keep_type(Value::Int8(v), &a.ty)?,
        },
        AggState::Count(n) => Value::Int8(n),
        AggState::Sum(s) => match s {
            None => Value::Null,
            Some(v) => crate::eval::cast_keep_type(v, &a.ty)?,
        },
        AggState::Avg(s, n) => match s {
            None => Value::Null,
            Some(Value::Float8(f)) => Value::Float8(f / n as f64),
            Some(v) => crate::eval::arith(
                basalt_planner::BinOp::Div,
                &v,
                &Value::Numeric(Numeric::from(n)),
            )?,
        },
        AggState::MinMax(m) => m.unwrap_or(Value::Null),
        AggState::Bool(b) => b.map(Value::Bool).unwrap_or(Value::Null),
        AggState::Str(s) => s.map(Value::Text).unwrap_or(Value::Null),
        AggState::Pairs(pairs) => {
            if pairs.is_empty() {
                return Ok(Value::Null);
            }
            crate::json::object_agg(a.func == AggFunc::JsonbObjectAgg, &pairs)?
        }
        AggState::List(vals) => {
            if vals.is_empty() {
                return Ok(Value::Null);
            }
            if matches!(a.func, AggFunc::JsonAgg | AggFunc::JsonbAgg) {
                return Ok(crate::json::agg(a.func == AggFunc::JsonbAgg, &vals));
            }
            let v = crate::arrays::call("__array", &vals).unwrap_or(Ok(Value::Null))?;
            basalt_catalog::cast::cast(v, &a.ty)?
        }
        AggState::Vals(f, mut vals) => {
            let (Some(f), false) = (f, vals.is_empty()) else {
                return Ok(Value::Null);
            };
            vals.sort_by(|x, y| x.cmp_total(y));
            let n = vals.len();
            if a.func == AggFunc::PercentileDisc {
                let k = ((f * n as f64).ceil() as usize).clamp(1, n) - 1;
                return Ok(vals.swap_remove(k));
            }
            // Linear between the two values around position f × (n - 1).
            let pos = f * (n - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let w = pos - lo as f64;
            match (&vals[lo], &vals[hi]) {
                (Value::Interval(x), Value::Interval(y)) => {
                    let d = y.checked_sub(x).and_then(|d| d.mul(w));
                    match d.and_then(|d| x.checked_add(&d)) {
                        Some(v) => Value::Interval(v),
                        None => return Err(ExecError::Internal("interval out of range".into())),
                    }
                }
                (x, y) => {
                    let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                    Value::Float8(x + (y - x) * w)
                }
            }
        }
    })
}

fn aggregate(
    input: &mut dyn RowIter,
    group: &[Expr],
    aggs: &[AggCall],
    cx: &Ctx<'_>,
) -> Result<Vec<Row>> {
    // Per group: the aggregates' states, the argument lists seen (DISTINCT),
    // and for `agg(x ORDER BY y)` the (sort keys, arguments) to feed in
    // order at the end.
    type Sorted = Vec<(Vec<Value>, Vec<Value>)>;
    let mut groups: HashMap<Vec<Value>, (Vec<AggState>, Vec<HashSet<Vec<Value>>>, Vec<Sorted>)> =
        HashMap::new();
    let mut order: Vec<Vec<Value>> = Vec::new();
    let fresh = || {
        (
            aggs.iter().map(agg_init).collect::<Vec<_>>(),
            aggs.iter().map(|_| HashSet::new()).collect::<Vec<_>>(),
            aggs.iter().map(|_| Vec::new()).collect::<Vec<_>>(),
        )
    };
    // One buffer for the group key and one for an aggregate's arguments,
    // reused row after row (the key is copied only for a new group).
    let mut key: Vec<Value> = Vec::with_capacity(group.len());
    let mut args: Vec<Value> = Vec::new();
    while let Some(r) = input.next(cx)? {
        key.clear();
        for e in group {
            key.push(eval(e, &r, &cx.eval)?);
        }
        if !groups.contains_key(&key) {
            order.push(key.clone());
            groups.insert(key.clone(), fresh());
        }
        let entry = groups.get_mut(&key).expect("inserted above");
        for (i, a) in aggs.iter().enumerate() {
            if let Some(f) = &a.filter {
                if !crate::eval::truthy(&eval(f, &r, &cx.eval)?) {
                    continue;
                }
            }
            args.clear();
            for e in &a.args {
                args.push(eval(e, &r, &cx.eval)?);
            }
            if a.distinct && !entry.1[i].insert(args.clone()) {
                continue;
            }
            if a.order.is_empty() {
                agg_step(a, &mut entry.0[i], &args)?;
            } else {
                let keys = a
                    .order
                    .iter()
                    .map(|k| eval(&k.expr, &r, &cx.eval))
                    .collect::<Result<Vec<_>>>()?;
                entry.2[i].push((keys, std::mem::take(&mut args)));
            }
        }
    }
    if group.is_empty() && groups.is_empty() {
        order.push(vec![]);
        groups.insert(vec![], fresh());
    }
    for (states, _, sorted) in groups.values_mut() {
        for (i, a) in aggs.iter().enumerate() {
            if a.order.is_empty() {
                continue;
            }
            let mut rows = std::mem::take(&mut sorted[i]);
            rows.sort_by(|x, y| compare_keys(&a.order, &x.0, &y.0));
            for (_, args) in rows {
                agg_step(a, &mut states[i], &args)?;
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for key in order {
        let (states, _, _) = groups.remove(&key).expect("every key has a group");
        let mut row = key;
        for (a, s) in aggs.iter().zip(states) {
            row.push(agg_final(a, s)?);
        }
        out.push(row);
    }
    Ok(out)
}
