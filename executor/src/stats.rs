//! Per-table activity counters behind pg_stat_user_tables: scans and the
//! rows they returned, rows inserted, updated and deleted, the live and dead
//! row estimates that drive autovacuum, and when VACUUM and ANALYZE last ran.
//! Counted in memory since the server started (PostgreSQL keeps them across
//! restarts; we do not yet). Scans add their row counts once, when they
//! finish; live/dead estimates change when the transaction ends, by how it
//! ended, and are reset from what VACUUM counted.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct TableStats {
    pub seq_scan: AtomicU64,
    pub seq_tup_read: AtomicU64,
    pub idx_scan: AtomicU64,
    pub idx_tup_fetch: AtomicU64,
    pub n_tup_ins: AtomicU64,
    pub n_tup_upd: AtomicU64,
    pub n_tup_del: AtomicU64,
    pub n_live_tup: AtomicI64,
    pub n_dead_tup: AtomicI64,
    pub n_mod_since_analyze: AtomicI64,
    pub n_ins_since_vacuum: AtomicI64,
    /// Microseconds since the Unix epoch; 0 = never.
    pub last_vacuum: AtomicU64,
    pub last_autovacuum: AtomicU64,
    pub last_analyze: AtomicU64,
    pub last_autoanalyze: AtomicU64,
    pub vacuum_count: AtomicU64,
    pub autovacuum_count: AtomicU64,
    pub analyze_count: AtomicU64,
    pub autoanalyze_count: AtomicU64,
}

/// Now, in microseconds since the Unix epoch.
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(1)
}

impl TableStats {
    /// VACUUM finished: the estimates become what it counted.
    pub fn vacuumed(&self, auto: bool, live: u64, dead: u64) {
        self.n_live_tup.store(live as i64, Ordering::Relaxed);
        self.n_dead_tup.store(dead as i64, Ordering::Relaxed);
        self.n_ins_since_vacuum.store(0, Ordering::Relaxed);
        let (at, n) = if auto {
            (&self.last_autovacuum, &self.autovacuum_count)
        } else {
            (&self.last_vacuum, &self.vacuum_count)
        };
        at.store(now_micros(), Ordering::Relaxed);
        n.fetch_add(1, Ordering::Relaxed);
    }

    /// ANALYZE finished, having counted `live` rows.
    pub fn analyzed(&self, auto: bool, live: u64) {
        self.n_live_tup.store(live as i64, Ordering::Relaxed);
        self.n_mod_since_analyze.store(0, Ordering::Relaxed);
        let (at, n) = if auto {
            (&self.last_autoanalyze, &self.autoanalyze_count)
        } else {
            (&self.last_analyze, &self.analyze_count)
        };
        at.store(now_micros(), Ordering::Relaxed);
        n.fetch_add(1, Ordering::Relaxed);
    }

    pub fn live(&self) -> u64 {
        self.n_live_tup.load(Ordering::Relaxed).max(0) as u64
    }
    pub fn dead(&self) -> u64 {
        self.n_dead_tup.load(Ordering::Relaxed).max(0) as u64
    }
}

impl TableStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Counts of one session's transaction, kept without atomics and added to
/// the shared counters when the transaction ends (as PostgreSQL's backends
/// keep pending statistics).
pub type Local = std::rc::Rc<std::cell::RefCell<HashMap<u32, [u64; 7]>>>;

pub const SEQ_SCAN: usize = 0;
pub const SEQ_TUP_READ: usize = 1;
pub const IDX_SCAN: usize = 2;
pub const IDX_TUP_FETCH: usize = 3;
pub const N_TUP_INS: usize = 4;
pub const N_TUP_UPD: usize = 5;
pub const N_TUP_DEL: usize = 6;

/// Adds `n` to counter `which` of table `oid` in a session's pending counts.
pub fn count(local: &Local, oid: u32, which: usize, n: u64) {
    if n > 0 {
        local.borrow_mut().entry(oid).or_default()[which] += n;
    }
}

/// Table OID → its counters.
#[derive(Default)]
pub struct StatsRegistry {
    tables: RwLock<HashMap<u32, Arc<TableStats>>>,
}

impl StatsRegistry {
    /// Adds a session's pending counts to the shared ones when its
    /// transaction ends: a committed one's inserts are live and its updates
    /// and deletes left dead versions; an aborted one's new versions are dead.
    pub fn flush(&self, local: &Local, committed: bool) {
        let mut pending = local.borrow_mut();
        for (oid, c) in pending.drain() {
            let t = self.table(oid);
            let (ins, upd, del) = (
                c[N_TUP_INS] as i64,
                c[N_TUP_UPD] as i64,
                c[N_TUP_DEL] as i64,
            );
            if ins + upd + del > 0 {
                if committed {
                    t.n_live_tup.fetch_add(ins - del, Ordering::Relaxed);
                    t.n_dead_tup.fetch_add(upd + del, Ordering::Relaxed);
                    t.n_mod_since_analyze
                        .fetch_add(ins + upd + del, Ordering::Relaxed);
                    t.n_ins_since_vacuum.fetch_add(ins, Ordering::Relaxed);
                } else {
                    t.n_dead_tup.fetch_add(ins + upd, Ordering::Relaxed);
                }
            }
            let all = [
                &t.seq_scan,
                &t.seq_tup_read,
                &t.idx_scan,
                &t.idx_tup_fetch,
                &t.n_tup_ins,
                &t.n_tup_upd,
                &t.n_tup_del,
            ];
            for (a, n) in all.iter().zip(c) {
                TableStats::add(a, n);
            }
        }
    }

    pub fn table(&self, oid: u32) -> Arc<TableStats> {
        if let Some(t) = self.tables.read().get(&oid) {
            return t.clone();
        }
        self.tables.write().entry(oid).or_default().clone()
    }
}

/// Statement kinds counted for /metrics (basalt_statements_total{kind}).
pub const STATEMENT_KINDS: [&str; 8] = [
    "select",
    "insert",
    "update",
    "delete",
    "copy",
    "transaction",
    "ddl",
    "utility",
];

/// Statements run since the server started, by kind.
#[derive(Default)]
pub struct StatementCounts([AtomicU64; 8]);

impl StatementCounts {
    pub fn count(&self, s: &basalt_planner::Statement) {
        use basalt_planner::Statement as S;
        let k = match s {
            S::Query(_) => 0,
            S::Insert { .. } => 1,
            S::Update { .. } => 2,
            S::Delete { .. } => 3,
            S::CopyFrom { .. } | S::CopyTo { .. } => 4,
            S::Begin(_)
            | S::Commit { .. }
            | S::Rollback { .. }
            | S::Savepoint(_)
            | S::ReleaseSavepoint(_)
            | S::RollbackToSavepoint(_)
            | S::SetTransaction { .. }
            | S::LockTable { .. } => 5,
            S::CreateTable { .. }
            | S::DropTable { .. }
            | S::Truncate { .. }
            | S::AddIndex { .. }
            | S::DropIndex { .. }
            | S::Reindex { .. }
            | S::CreateView { .. }
            | S::DropView { .. } => 6,
            _ => 7,
        };
        self.0[k].fetch_add(1, Ordering::Relaxed);
    }

    pub fn all(&self) -> Vec<(&'static str, u64)> {
        STATEMENT_KINDS
            .iter()
            .zip(&self.0)
            .map(|(k, n)| (*k, n.load(Ordering::Relaxed)))
            .collect()
    }
}
