//! Per-table activity counters behind pg_stat_user_tables: scans and the
//! rows they returned, rows inserted, updated and deleted. Counted in memory
//! since the server started (PostgreSQL keeps them across restarts; we do
//! not yet). Scans add their row counts once, when they finish.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Adds a session's pending counts to the shared ones.
    pub fn flush(&self, local: &Local) {
        let mut pending = local.borrow_mut();
        for (oid, c) in pending.drain() {
            let t = self.table(oid);
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
