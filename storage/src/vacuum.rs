//! Reclaiming dead row versions: pruning and VACUUM.
//!
//! A version is dead when no snapshot can ever see it: its inserter aborted,
//! or its deleter (updater) committed below the horizon (`TxnManager::horizon`).
//!
//! Pruning (any writer that finds a page full, and VACUUM's first pass) turns
//! dead tuples into dead stubs and compacts the page: the space is back at
//! once, but the slot stays taken because index entries may still name it
//! (a fetch through one finds nothing and the scan kills the entry).
//!
//! VACUUM then (1) prunes every page and collects the dead stubs, (2) removes
//! every index entry that names one of them, (3) makes exactly those stubs
//! unused, so new tuples may take their slots, and records pages with room in
//! the free space map that inserts consult before extending the file. A slot
//! is reused only after step 2, so no index entry names a reused slot except
//! one a scan read before step 2; the tuple now in that slot was inserted
//! after the scan's snapshot was taken and is invisible to it, and the scan
//! kills the entry only if the slot is still empty or dead (`btree_kill`);
//! a unique check that meets such an entry compares the row's key. See
//! storage/README.md, "VACUUM".

use crate::buffer::PageRefMut;
use crate::clog::XidStatus;
use crate::engine::Storage;
use crate::error::Result;
use crate::heap::{Tid, TupleHeader, F_LOCK_ONLY};
use crate::page::{PageKind, PAGE_SIZE, PD_PRUNABLE};
use crate::smgr::RelId;
use crate::txn::{Xid, INVALID_XID};
use crate::wal::WalRecord;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// Pages with at least this much free space go into the free space map.
const FSM_MIN_FREE: usize = PAGE_SIZE / 5;
/// Dead TIDs collected before the indexes are cleaned (about 6 MiB).
const MAX_DEAD: usize = 1 << 20;

/// What pruning one page found.
#[derive(Debug, Default, Clone, Copy)]
pub struct PruneOutcome {
    /// Tuples turned into dead stubs now.
    pub pruned: usize,
    /// Tuples some snapshot may still see.
    pub live: usize,
    /// Deleted or updated by a committed transaction that some snapshot
    /// still considers running: not removable yet.
    pub recently_dead: usize,
}

/// VACUUM's phases, as pg_stat_progress_vacuum names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum VacuumPhase {
    Initializing = 0,
    ScanningHeap = 1,
    VacuumingIndexes = 2,
    VacuumingHeap = 3,
    CleaningUpIndexes = 4,
    PerformingFinalCleanup = 5,
}

impl VacuumPhase {
    pub fn name(self) -> &'static str {
        match self {
            VacuumPhase::Initializing => "initializing",
            VacuumPhase::ScanningHeap => "scanning heap",
            VacuumPhase::VacuumingIndexes => "vacuuming indexes",
            VacuumPhase::VacuumingHeap => "vacuuming heap",
            VacuumPhase::CleaningUpIndexes => "cleaning up indexes",
            VacuumPhase::PerformingFinalCleanup => "performing final cleanup",
        }
    }
}

/// A running VACUUM's progress, read by pg_stat_progress_vacuum.
#[derive(Debug, Default)]
pub struct VacuumProgress {
    pub relid: AtomicU64,
    pub phase: AtomicU8,
    pub heap_blks_total: AtomicU64,
    pub heap_blks_scanned: AtomicU64,
    pub heap_blks_vacuumed: AtomicU64,
    pub index_vacuum_count: AtomicU64,
    pub num_dead_tuples: AtomicU64,
}

impl VacuumProgress {
    pub fn phase(&self) -> VacuumPhase {
        match self.phase.load(Ordering::Relaxed) {
            1 => VacuumPhase::ScanningHeap,
            2 => VacuumPhase::VacuumingIndexes,
            3 => VacuumPhase::VacuumingHeap,
            4 => VacuumPhase::CleaningUpIndexes,
            5 => VacuumPhase::PerformingFinalCleanup,
            _ => VacuumPhase::Initializing,
        }
    }
    fn set_phase(&self, p: VacuumPhase) {
        self.phase.store(p as u8, Ordering::Relaxed);
    }
}

/// What one VACUUM of a table did.
#[derive(Debug, Default, Clone)]
pub struct VacuumStats {
    pub pages: u64,
    /// Pages that had something pruned or made unused.
    pub pages_changed: u64,
    pub tuples_removed: u64,
    pub live_tuples: u64,
    pub recently_dead: u64,
    pub index_scans: u64,
    pub index_entries_removed: u64,
    /// Free bytes in the heap after the vacuum.
    pub free_bytes: u64,
    pub horizon: Xid,
    /// Pages marked all-visible in the visibility map.
    pub all_visible_pages: u64,
}

impl Storage {
    /// Whether no snapshot, now or later, can see a version (with `horizon`
    /// from `TxnManager::horizon`, taken before this call).
    pub fn tuple_removable(&self, h: &TupleHeader, horizon: Xid) -> bool {
        match self.clog.get(h.xmin) {
            XidStatus::Committed => {}
            XidStatus::Aborted => return true,
            // Below the horizon and not committed: it was running at a crash.
            XidStatus::InProgress => return h.xmin < horizon,
        }
        h.xmax != INVALID_XID
            && h.flags & F_LOCK_ONLY == 0
            && h.xmax < horizon
            && self.clog.get(h.xmax) == XidStatus::Committed
    }

    /// Whether every tuple on a (latched) heap page is seen by every
    /// snapshot now and later: inserted by a transaction committed below
    /// `horizon`, not deleted (a lock or an aborted deleter is no
    /// deletion), and no dead stub left for an index entry to name.
    fn page_visible_to_all(&self, p: &crate::page::Page<'_>, horizon: Xid) -> bool {
        if p.is_new() || p.kind() != PageKind::Heap as u16 {
            return false;
        }
        (0..p.nslots()).all(|slot| {
            if p.slot_is_dead(slot) {
                return false;
            }
            let Some(item) = p.item(slot) else {
                return true;
            };
            let h = TupleHeader::read(item);
            h.xmin < horizon
                && self.clog.get(h.xmin) == XidStatus::Committed
                && (h.xmax == INVALID_XID
                    || h.flags & F_LOCK_ONLY != 0
                    || self.clog.get(h.xmax) == XidStatus::Aborted)
        })
    }

    /// Prunes a write-latched heap page. Without a horizon (a writer looking
    /// for room) it does so only if the page was marked prunable.
    pub(crate) fn prune_latched(
        &self,
        page: &mut PageRefMut<'_>,
        rel: RelId,
        blk: u32,
        horizon: Option<Xid>,
    ) -> Result<PruneOutcome> {
        let mut out = PruneOutcome::default();
        {
            let p = page.page();
            if p.is_new() || p.kind() != PageKind::Heap as u16 {
                return Ok(out);
            }
            if horizon.is_none() && p.flags() & PD_PRUNABLE == 0 {
                return Ok(out);
            }
        }
        let horizon = horizon.unwrap_or_else(|| self.txns.horizon());
        let mut dead = Vec::new();
        let mut still_prunable = false;
        {
            let p = page.page();
            for slot in 0..p.nslots() {
                let Some(item) = p.item(slot) else { continue };
                let h = TupleHeader::read(item);
                if self.tuple_removable(&h, horizon) {
                    dead.push(slot as u16);
                    continue;
                }
                let deleted = h.xmax != INVALID_XID
                    && h.flags & F_LOCK_ONLY == 0
                    && self.clog.get(h.xmax) != XidStatus::Aborted;
                if deleted {
                    still_prunable = true;
                    if self.clog.get(h.xmax) == XidStatus::Committed {
                        out.recently_dead += 1;
                        continue;
                    }
                }
                out.live += 1;
            }
        }
        let mut pm = page.page_mut();
        let f = pm.flags();
        pm.set_flags(if still_prunable {
            f | PD_PRUNABLE
        } else {
            f & !PD_PRUNABLE
        });
        if dead.is_empty() {
            return Ok(out);
        }
        for &s in &dead {
            pm.set_slot_dead(s as usize);
        }
        pm.compact();
        out.pruned = dead.len();
        self.log_page_change(
            page,
            WalRecord::HeapPrune {
                rel,
                blk,
                slots: dead,
            },
            rel,
            blk,
        )?;
        Ok(out)
    }

    /// Records that `blk` of `rel` has room for new tuples.
    pub(crate) fn fsm_record(&self, rel: RelId, blk: u32) {
        self.fsm.lock().entry(rel).or_default().insert(blk);
    }

    /// A page the free space map says has room (it is forgotten: a caller
    /// that finds it full moves on to the next).
    pub(crate) fn fsm_take(&self, rel: RelId, _need: usize) -> Option<u32> {
        let mut g = self.fsm.lock();
        let set = g.get_mut(&rel)?;
        let blk = set.pop_first();
        if set.is_empty() {
            g.remove(&rel);
        }
        blk
    }

    /// VACUUM of one heap and its indexes (see the module comment).
    /// `check` is called between pages (cancellation).
    pub fn vacuum_rel(
        &self,
        heap: RelId,
        indexes: &[RelId],
        progress: &VacuumProgress,
        check: &mut dyn FnMut() -> Result<()>,
    ) -> Result<VacuumStats> {
        let horizon = self.txns.horizon();
        let nblocks = self.smgr.nblocks(heap)?;
        let mut st = VacuumStats {
            horizon,
            ..Default::default()
        };
        progress.relid.store(heap as u64, Ordering::Relaxed);
        progress
            .heap_blks_total
            .store(nblocks as u64, Ordering::Relaxed);
        progress.set_phase(VacuumPhase::ScanningHeap);
        let mut dead: Vec<Tid> = Vec::new();
        self.fsm.lock().remove(&heap);
        for blk in 0..nblocks {
            check()?;
            let mut pg = self.pool.write(heap, blk)?;
            let r = self.prune_latched(&mut pg, heap, blk, Some(horizon))?;
            st.pages += 1;
            st.tuples_removed += r.pruned as u64;
            st.live_tuples += r.live as u64;
            st.recently_dead += r.recently_dead as u64;
            let p = pg.page();
            let before = dead.len();
            for slot in 0..p.nslots() {
                if p.slot_is_dead(slot) {
                    dead.push(Tid {
                        blk,
                        slot: slot as u16,
                    });
                }
            }
            if r.pruned > 0 || dead.len() > before {
                st.pages_changed += 1;
            } else if p.free_space() >= FSM_MIN_FREE {
                self.fsm_record(heap, blk);
            }
            drop(pg);
            progress
                .heap_blks_scanned
                .store(blk as u64 + 1, Ordering::Relaxed);
            progress
                .num_dead_tuples
                .store(dead.len() as u64, Ordering::Relaxed);
            if dead.len() >= MAX_DEAD {
                self.vacuum_dead(heap, indexes, &mut dead, progress, &mut st, check)?;
                progress.set_phase(VacuumPhase::ScanningHeap);
            }
        }
        if !dead.is_empty() {
            self.vacuum_dead(heap, indexes, &mut dead, progress, &mut st, check)?;
        }
        progress.set_phase(VacuumPhase::PerformingFinalCleanup);
        let nblocks = self.smgr.nblocks(heap)?;
        for blk in 0..nblocks {
            // Latched shared: no change can come between the check and
            // the mark (changes clear it under the exclusive latch).
            let pg = self.pool.read(heap, blk)?;
            st.free_bytes += pg.page().free_space() as u64;
            if self.page_visible_to_all(&pg.page(), horizon) {
                self.vismap.set(heap, blk);
                st.all_visible_pages += 1;
            }
        }
        Ok(st)
    }

    /// Phases 2 and 3: index entries naming `dead` go, then the stubs
    /// become unused.
    fn vacuum_dead(
        &self,
        heap: RelId,
        indexes: &[RelId],
        dead: &mut Vec<Tid>,
        progress: &VacuumProgress,
        st: &mut VacuumStats,
        check: &mut dyn FnMut() -> Result<()>,
    ) -> Result<()> {
        progress.set_phase(VacuumPhase::VacuumingIndexes);
        dead.sort_unstable();
        for &ix in indexes {
            check()?;
            st.index_entries_removed +=
                self.btree_bulk_delete(ix, &|t| dead.binary_search(&t).is_ok())?;
        }
        st.index_scans += 1;
        progress.index_vacuum_count.fetch_add(1, Ordering::Relaxed);
        progress.set_phase(VacuumPhase::VacuumingHeap);
        let mut i = 0;
        while i < dead.len() {
            let blk = dead[i].blk;
            let mut j = i;
            while j < dead.len() && dead[j].blk == blk {
                j += 1;
            }
            let mut pg = self.pool.write(heap, blk)?;
            let slots: Vec<u16> = dead[i..j]
                .iter()
                .map(|t| t.slot)
                .filter(|&s| pg.page().slot_is_dead(s as usize))
                .collect();
            if !slots.is_empty() {
                let mut pm = pg.page_mut();
                for &s in &slots {
                    pm.set_slot_unused(s as usize);
                }
                pm.compact();
                self.log_page_change(
                    &mut pg,
                    WalRecord::HeapUnused {
                        rel: heap,
                        blk,
                        slots,
                    },
                    heap,
                    blk,
                )?;
            }
            if pg.page().free_space() >= FSM_MIN_FREE {
                self.fsm_record(heap, blk);
            }
            progress.heap_blks_vacuumed.fetch_add(1, Ordering::Relaxed);
            i = j;
        }
        dead.clear();
        Ok(())
    }

    /// Copies every version some snapshot may still see from `from` into
    /// the empty heap `to`, compactly, keeping headers and update links
    /// (VACUUM FULL; the caller holds the table exclusively). Returns the
    /// copied versions as (new TID, header, data) for index builds, and how
    /// many versions were left behind.
    #[allow(clippy::type_complexity)]
    pub fn heap_rewrite(
        &self,
        from: RelId,
        to: RelId,
        check: &mut dyn FnMut() -> Result<()>,
    ) -> Result<(Vec<(Tid, TupleHeader, Vec<u8>)>, u64)> {
        let horizon = self.txns.horizon();
        let mut map = std::collections::HashMap::new();
        let mut copied = Vec::new();
        let mut removed = 0u64;
        for blk in 0..self.smgr.nblocks(from)? {
            check()?;
            let mut tuples = Vec::new();
            self.heap_page_all(from, blk, &mut tuples)?;
            for (old, h, data) in tuples {
                if self.tuple_removable(&h, horizon) {
                    removed += 1;
                    continue;
                }
                let new = self.heap_insert_version(to, &h, &data)?;
                map.insert(old, new);
                copied.push((old, new, h, data));
            }
        }
        // Links to newer versions name their new places (or the version
        // itself when its successor was not copied).
        let mut out = Vec::with_capacity(copied.len());
        for (old, new, mut h, data) in copied {
            let next = if h.next != old {
                map.get(&h.next).copied().unwrap_or(new)
            } else {
                new
            };
            if next != new {
                h.next = next;
                self.heap_relink(to, new, &h)?;
            } else {
                h.next = new;
            }
            out.push((new, h, data));
        }
        Ok((out, removed))
    }
}
