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

/// Table OID → its counters.
#[derive(Default)]
pub struct StatsRegistry {
    tables: RwLock<HashMap<u32, Arc<TableStats>>>,
}

impl StatsRegistry {
    pub fn table(&self, oid: u32) -> Arc<TableStats> {
        if let Some(t) = self.tables.read().get(&oid) {
            return t.clone();
        }
        self.tables.write().entry(oid).or_default().clone()
    }
}
