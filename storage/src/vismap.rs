//! The visibility map: which heap pages hold only tuples every snapshot,
//! now and later, sees. An index-only scan returns an index entry's key
//! without reading the heap when its page is marked.
//!
//! VACUUM marks a page (while it holds the page latched, so no change slips
//! in between its check and the mark) when every tuple on it was inserted
//! by a transaction committed below the horizon and is not deleted, and no
//! dead stub is left. Any insert or xmax change clears the page's mark
//! under the page's write latch, before the change is visible: an inserter
//! clears it before it adds the index entries for the new tuple, so a scan
//! that finds such an entry finds the mark gone; a deleter clears it before
//! its transaction commits, so a snapshot that can see the deletion sees
//! the mark gone.
//!
//! The map lives in memory, like the free space map: a restart (or crash)
//! forgets it, and scans visit the heap until the next VACUUM marks pages
//! again. Being only ever too conservative, it needs no WAL.

use crate::engine::Storage;
use crate::smgr::RelId;
use std::sync::atomic::{AtomicU64, Ordering};

/// One bit per heap page, by relation.
#[derive(Default)]
pub struct VisMap {
    rels: parking_lot::RwLock<std::collections::HashMap<RelId, Vec<AtomicU64>>>,
}

impl VisMap {
    /// Whether page `blk` of `rel` is marked all-visible.
    pub fn all_visible(&self, rel: RelId, blk: u32) -> bool {
        let g = self.rels.read();
        g.get(&rel)
            .and_then(|v| v.get(blk as usize / 64))
            .is_some_and(|w| w.load(Ordering::SeqCst) & (1 << (blk % 64)) != 0)
    }

    /// Clears the mark of a page about to change.
    pub fn clear(&self, rel: RelId, blk: u32) {
        let g = self.rels.read();
        if let Some(w) = g.get(&rel).and_then(|v| v.get(blk as usize / 64)) {
            w.fetch_and(!(1 << (blk % 64)), Ordering::SeqCst);
        }
    }

    /// Marks a page all-visible (its caller holds it latched).
    pub fn set(&self, rel: RelId, blk: u32) {
        let i = blk as usize / 64;
        {
            let g = self.rels.read();
            if let Some(w) = g.get(&rel).and_then(|v| v.get(i)) {
                w.fetch_or(1 << (blk % 64), Ordering::SeqCst);
                return;
            }
        }
        let mut g = self.rels.write();
        let v = g.entry(rel).or_default();
        while v.len() <= i {
            v.push(AtomicU64::new(0));
        }
        v[i].fetch_or(1 << (blk % 64), Ordering::SeqCst);
    }

    /// Forgets a relation (dropped, truncated or rewritten).
    pub fn forget(&self, rel: RelId) {
        self.rels.write().remove(&rel);
    }

    /// Marked pages of a relation (pg_class.relallvisible).
    pub fn count(&self, rel: RelId) -> u32 {
        self.rels.read().get(&rel).map_or(0, |v| {
            v.iter()
                .map(|w| w.load(Ordering::Relaxed).count_ones())
                .sum()
        })
    }
}

impl Storage {
    /// Whether page `blk` of heap `rel` is known to hold only tuples
    /// visible to every snapshot.
    pub fn page_all_visible(&self, rel: RelId, blk: u32) -> bool {
        self.vismap.all_visible(rel, blk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_per_page_and_cleared() {
        let vm = VisMap::default();
        assert!(!vm.all_visible(7, 3));
        vm.clear(7, 3);
        vm.set(7, 3);
        vm.set(7, 200);
        assert!(vm.all_visible(7, 3) && vm.all_visible(7, 200));
        assert!(!vm.all_visible(7, 4) && !vm.all_visible(8, 3));
        assert_eq!(vm.count(7), 2);
        vm.clear(7, 3);
        assert!(!vm.all_visible(7, 3) && vm.all_visible(7, 200));
        vm.forget(7);
        assert!(!vm.all_visible(7, 200));
    }
}
