//! Integrity checks (basalt_check_integrity): page checksums of the files on
//! disk, heap page and tuple header sanity, B-tree order and structure, and
//! the entries of an index (for the executor to match against the heap).
//! Like amcheck, they report problems instead of stopping at the first.

use crate::engine::Storage;
use crate::error::{Result, StorageError};
use crate::heap::{Tid, TupleHeader};
use crate::page::{PageBuf, PageKind, PAGE_SIZE};
use crate::smgr::RelId;
use crate::txn::INVALID_XID;

/// What a TID names in a heap.
#[derive(Debug, Clone)]
pub enum SlotContent {
    Tuple(TupleHeader, Vec<u8>),
    /// A dead stub (its tuple pruned) or an unused slot.
    Empty,
    /// Past the end of the page's slots or of the relation.
    OutOfRange,
}

impl Storage {
    /// Every block of the relation's file whose checksum does not verify
    /// (a block is read again before it is reported, in case a write was
    /// under way).
    pub fn verify_checksums(&self, rel: RelId) -> Result<Vec<(u32, String)>> {
        let mut out = Vec::new();
        let n = self.smgr.nblocks(rel)?;
        let mut buf: Box<PageBuf> = Box::new([0u8; PAGE_SIZE]);
        for blk in 0..n {
            let mut last = None;
            for attempt in 0..3 {
                match self.smgr.read(rel, blk, &mut buf) {
                    Ok(()) => {
                        last = None;
                        break;
                    }
                    Err(StorageError::Corrupt(m)) => last = Some(m),
                    Err(e) => return Err(e),
                }
                if attempt < 2 {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
            if let Some(m) = last {
                out.push((blk, m));
            }
        }
        Ok(out)
    }

    /// The content of a heap slot, visible or not.
    pub fn heap_slot(&self, rel: RelId, tid: Tid) -> Result<SlotContent> {
        if tid.blk >= self.smgr.nblocks(rel)? {
            return Ok(SlotContent::OutOfRange);
        }
        let pg = self.pool.read(rel, tid.blk)?;
        let p = pg.page();
        if tid.slot as usize >= p.nslots() {
            return Ok(SlotContent::OutOfRange);
        }
        Ok(match p.item(tid.slot as usize) {
            Some(it) if it.len() >= crate::heap::TUPLE_HEADER => SlotContent::Tuple(
                TupleHeader::read(it),
                it[crate::heap::TUPLE_HEADER..].to_vec(),
            ),
            Some(_) => SlotContent::OutOfRange,
            None => SlotContent::Empty,
        })
    }

    /// Walks a B-tree's leaves from the left: returns the structural problems
    /// (page kinds, key order within and across leaves) and every entry as
    /// (key without TID, TID).
    #[allow(clippy::type_complexity)]
    pub fn btree_check(&self, rel: RelId) -> Result<(Vec<(u32, String)>, Vec<(Vec<u8>, Tid)>)> {
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        let lock = self.tree_lock(rel);
        let _shared = lock.read();
        let mut blk = match self.btree_leftmost(rel) {
            Ok(b) => b,
            Err(StorageError::Corrupt(m)) => {
                problems.push((0, m));
                return Ok((problems, entries));
            }
            Err(e) => return Err(e),
        };
        let mut prev: Option<Vec<u8>> = None;
        let mut visited = 0u32;
        let nblocks = self.smgr.nblocks(rel)?;
        loop {
            visited += 1;
            if visited > nblocks {
                problems.push((blk, "right-sibling links form a cycle".into()));
                break;
            }
            let pg = match self.pool.read(rel, blk) {
                Ok(p) => p,
                Err(StorageError::Corrupt(m)) => {
                    problems.push((blk, m));
                    break;
                }
                Err(e) => return Err(e),
            };
            let p = pg.page();
            if p.kind() != PageKind::BtreeLeaf as u16 {
                problems.push((
                    blk,
                    format!("page kind {} where a leaf was expected", p.kind()),
                ));
                break;
            }
            for i in 0..p.nslots() {
                let Some(it) = p.item(i) else {
                    problems.push((blk, format!("item {i} is missing")));
                    continue;
                };
                if it.len() < 6 {
                    problems.push((blk, format!("item {i} is shorter than a TID")));
                    continue;
                }
                if let Some(pv) = &prev {
                    if pv.as_slice() >= it {
                        problems.push((blk, format!("item {i} is out of order")));
                    }
                }
                prev = Some(it.to_vec());
                entries.push((
                    it[..it.len() - 6].to_vec(),
                    Tid::from_bytes(&it[it.len() - 6..]),
                ));
            }
            let right = crate::btree::right_sibling(&p);
            match right {
                None => break,
                Some(r) if r >= nblocks => {
                    problems.push((blk, format!("right sibling {r} is past the end")));
                    break;
                }
                Some(r) => blk = r,
            }
        }
        Ok((problems, entries))
    }

    /// Verifies one heap page's tuple headers; returns the problems found.
    pub fn heap_check_page(&self, rel: RelId, blk: u32) -> Result<Vec<String>> {
        let pg = self.pool.read(rel, blk)?;
        let p = pg.page();
        let mut out = Vec::new();
        if p.is_new() {
            return Ok(out);
        }
        if p.kind() != PageKind::Heap as u16 {
            out.push(format!(
                "block {blk}: page kind {} is not a heap page",
                p.kind()
            ));
            return Ok(out);
        }
        if p.lower() > p.upper() || p.upper() > p.special() || p.special() > PAGE_SIZE {
            out.push(format!(
                "block {blk}: bad page bounds lower {} upper {} special {}",
                p.lower(),
                p.upper(),
                p.special()
            ));
            return Ok(out);
        }
        let next_xid = self.txns.next_xid();
        for slot in 0..p.nslots() {
            let (off, len) = p.slot(slot);
            if len == 0 {
                continue;
            }
            if off < p.upper() || off + len > p.special() {
                out.push(format!(
                    "block {blk} slot {slot}: item outside the item area"
                ));
                continue;
            }
            if len < crate::heap::TUPLE_HEADER {
                out.push(format!(
                    "block {blk} slot {slot}: tuple shorter than its header"
                ));
                continue;
            }
            let h = TupleHeader::read(p.item(slot).expect("len > 0"));
            if h.xmin == INVALID_XID || h.xmin >= next_xid {
                out.push(format!(
                    "block {blk} slot {slot}: xmin {} is not a valid transaction id",
                    h.xmin
                ));
            }
            if h.xmax >= next_xid {
                out.push(format!(
                    "block {blk} slot {slot}: xmax {} is in the future",
                    h.xmax
                ));
            }
        }
        Ok(out)
    }
}
