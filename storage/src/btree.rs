//! B-tree index over memcomparable byte keys. Block 0 is the meta page
//! (root block number); other pages are leaves or internal nodes with a
//! right-sibling link and level in their special area. Leaf items are
//! `key ++ tid` (the 6-byte TID makes every item unique); internal items are
//! `child(4) ++ separator`, and item 0's separator counts as minus infinity.
//!
//! Concurrency: each index has a tree lock. Searches and inserts that fit in
//! their leaf hold it shared (pages are latched one at a time); a split takes
//! it exclusive, so the structure never changes under a shared holder. Keys
//! only ever move right, so a scan that resumes from the last leaf it read
//! and filters keys after the last one it returned misses nothing.
//! WAL: an insert that fits logs BtInsert; a split logs every page it changed
//! in one PageImages record, so recovery never sees half a split.

use crate::buffer::PageRefMut;
use crate::engine::Storage;
use crate::error::{Result, StorageError};
use crate::heap::Tid;
use crate::page::{Page, PageKind, PageMut, PAGE_SIZE};
use crate::smgr::RelId;
use crate::wal::WalRecord;

const NO_SIBLING: u32 = u32::MAX;
pub const MAX_KEY: usize = 2000;

fn special(page: &Page<'_>) -> (u32, u32) {
    let s = page.special_area();
    (
        u32::from_le_bytes(s[0..4].try_into().expect("4")),
        u32::from_le_bytes(s[4..8].try_into().expect("4")),
    )
}

fn special_bytes(right: u32, level: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&right.to_le_bytes());
    b[4..].copy_from_slice(&level.to_le_bytes());
    b
}

fn child_of(item: &[u8]) -> u32 {
    u32::from_le_bytes(item[..4].try_into().expect("4"))
}

/// A page's right sibling, if it has one (integrity checks).
pub(crate) fn right_sibling(p: &Page<'_>) -> Option<u32> {
    let (r, _) = special(p);
    (r != NO_SIBLING).then_some(r)
}

/// Index of the child to follow for `key` in an internal page.
fn internal_search(p: &Page<'_>, key: &[u8]) -> usize {
    // Last item whose separator <= key; item 0 always qualifies.
    let (mut lo, mut hi) = (1usize, p.nslots());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let sep = &p.item(mid).expect("dense")[4..];
        if sep <= key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo - 1
}

/// First position in a leaf whose item is >= key.
fn leaf_lower_bound(p: &Page<'_>, key: &[u8]) -> usize {
    let (mut lo, mut hi) = (0usize, p.nslots());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if p.item(mid).expect("dense") < key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Rebuilds a leaf without the items at `positions` (ascending), which
/// also reclaims their space.
fn remove_items(pg: &mut PageRefMut<'_>, positions: &[u16]) -> Result<()> {
    let p = pg.page();
    let kind = p.kind();
    let special = p.special_area().to_vec();
    let keep: Vec<Vec<u8>> = (0..p.nslots())
        .filter(|i| positions.binary_search(&(*i as u16)).is_err())
        .map(|i| p.item(i).map(|x| x.to_vec()).unwrap_or_default())
        .collect();
    let refs: Vec<&[u8]> = keep.iter().map(|v| v.as_slice()).collect();
    let kind = if kind == PageKind::BtreeLeaf as u16 {
        PageKind::BtreeLeaf
    } else {
        return Err(StorageError::Corrupt(
            "B-tree delete on a non-leaf page".into(),
        ));
    };
    if !pg.page_mut().rebuild(kind, &special, &refs) {
        return Err(StorageError::Corrupt(
            "B-tree delete: items do not fit".into(),
        ));
    }
    Ok(())
}

/// Bounds on the key part of leaf items (without the TID).
#[derive(Debug, Clone, Default)]
pub struct KeyRange {
    /// (bound, inclusive): inclusive keeps keys >= bound; exclusive keeps keys
    /// > bound that do not start with it (so a prefix bound excludes all its
    /// extensions).
    pub lo: Option<(Vec<u8>, bool)>,
    /// (bound, inclusive): inclusive keeps keys < bound or starting with it.
    pub hi: Option<(Vec<u8>, bool)>,
}

impl KeyRange {
    pub fn eq(prefix: Vec<u8>) -> KeyRange {
        KeyRange {
            lo: Some((prefix.clone(), true)),
            hi: Some((prefix, true)),
        }
    }
    fn above_lo(&self, k: &[u8]) -> bool {
        match &self.lo {
            None => true,
            Some((b, true)) => k >= b.as_slice(),
            Some((b, false)) => k > b.as_slice() && !k.starts_with(b),
        }
    }
    fn below_hi(&self, k: &[u8]) -> bool {
        match &self.hi {
            None => true,
            Some((b, true)) => k < b.as_slice() || k.starts_with(b),
            Some((b, false)) => k < b.as_slice(),
        }
    }
    /// Whether the range holds key `k`.
    pub fn contains(&self, k: &[u8]) -> bool {
        self.above_lo(k) && self.below_hi(k)
    }
}

/// A resumable scan over a key range, one leaf at a time.
pub struct BtreeScan {
    rel: RelId,
    range: KeyRange,
    blk: u32,
    last: Option<Vec<u8>>,
    done: bool,
    /// The leaf the last batch came from, with its LSN then (`btree_kill`).
    leaf: Option<(u32, u64)>,
}

impl Storage {
    /// Creates an empty index: meta page and an empty root leaf.
    pub fn btree_create(&self, rel: RelId) -> Result<()> {
        let (b0, mut meta) = self.pool.extend(rel)?;
        let (b1, mut root) = self.pool.extend(rel)?;
        assert_eq!((b0, b1), (0, 1), "new index relation");
        meta.page_mut().init(PageKind::BtreeMeta, 8);
        meta.page_mut()
            .special_area_mut()
            .copy_from_slice(&special_bytes(1, 0));
        root.page_mut().init(PageKind::BtreeLeaf, 8);
        root.page_mut()
            .special_area_mut()
            .copy_from_slice(&special_bytes(NO_SIBLING, 0));
        let rec = WalRecord::PageImages {
            pages: vec![
                (rel, 0, Box::new(*meta.buf())),
                (rel, 1, Box::new(*root.buf())),
            ],
        };
        let end = self.wal.insert(&rec)?;
        meta.mark_dirty(end);
        root.mark_dirty(end);
        Ok(())
    }

    fn btree_root(&self, rel: RelId) -> Result<u32> {
        let meta = self.pool.read(rel, 0)?;
        let p = meta.page();
        if p.kind() != PageKind::BtreeMeta as u16 {
            return Err(StorageError::Corrupt(format!(
                "index {rel} has no meta page"
            )));
        }
        Ok(special(&p).0)
    }

    /// The leftmost leaf.
    pub(crate) fn btree_leftmost(&self, rel: RelId) -> Result<u32> {
        self.btree_descend(rel, b"", None)
    }

    /// Descends to the leaf for `key`, returning the path of internal blocks.
    fn btree_descend(&self, rel: RelId, key: &[u8], path: Option<&mut Vec<u32>>) -> Result<u32> {
        let mut blk = self.btree_root(rel)?;
        let mut path = path;
        loop {
            let pg = self.pool.read(rel, blk)?;
            let p = pg.page();
            if p.kind() == PageKind::BtreeLeaf as u16 {
                return Ok(blk);
            }
            if p.kind() != PageKind::BtreeInternal as u16 || p.nslots() == 0 {
                return Err(StorageError::Corrupt(format!(
                    "index {rel} block {blk}: not a B-tree page"
                )));
            }
            let i = internal_search(&p, key);
            if let Some(path) = path.as_deref_mut() {
                path.push(blk);
            }
            blk = child_of(p.item(i).expect("dense"));
        }
    }

    /// Inserts `key ++ tid` into the index.
    pub fn btree_insert(&self, rel: RelId, key: &[u8], tid: Tid) -> Result<()> {
        if key.len() > MAX_KEY {
            return Err(StorageError::KeyTooLarge(key.len()));
        }
        let mut item = Vec::with_capacity(key.len() + 6);
        item.extend_from_slice(key);
        item.extend_from_slice(&tid.to_bytes());
        let lock = self.tree_lock(rel);
        {
            let _shared = lock.read();
            let blk = self.btree_descend(rel, &item, None)?;
            let mut pg = self.pool.write(rel, blk)?;
            if pg.page().free_space() >= item.len() + crate::page::SLOT_SIZE {
                return self.leaf_insert(&mut pg, rel, blk, &item);
            }
        }
        let _excl = lock.write();
        let mut path = Vec::new();
        let blk = self.btree_descend(rel, &item, Some(&mut path))?;
        let mut pg = self.pool.write(rel, blk)?;
        if pg.page().free_space() >= item.len() + crate::page::SLOT_SIZE {
            return self.leaf_insert(&mut pg, rel, blk, &item);
        }
        drop(pg);
        self.split_insert(rel, blk, path, item)
    }

    fn leaf_insert(
        &self,
        pg: &mut PageRefMut<'_>,
        rel: RelId,
        blk: u32,
        item: &[u8],
    ) -> Result<()> {
        let pos = leaf_lower_bound(&pg.page(), item);
        pg.page_mut()
            .insert_item_at(pos, item)
            .expect("checked free space");
        let rec = WalRecord::BtInsert {
            rel,
            blk,
            pos: pos as u16,
            item: item.to_vec(),
        };
        self.log_page_change(pg, rec, rel, blk)
    }

    /// Splits page `blk` to make room for `item`, then inserts the separator into the parent,
    /// recursively. Runs under the exclusive tree lock.
    fn split_insert(&self, rel: RelId, blk: u32, mut path: Vec<u32>, item: Vec<u8>) -> Result<()> {
        let mut images: Vec<(u32, Box<[u8; PAGE_SIZE]>)> = Vec::new();
        let mut guards: Vec<PageRefMut<'_>> = Vec::new();
        let mut cur_blk = blk;
        let mut cur_item = item;
        loop {
            let mut pg = self.pool.write(rel, cur_blk)?;
            let is_leaf = pg.page().kind() == PageKind::BtreeLeaf as u16;
            let cmp_key = |it: &[u8]| -> Vec<u8> {
                if is_leaf {
                    it.to_vec()
                } else {
                    it[4..].to_vec()
                }
            };
            if pg.page().free_space() >= cur_item.len() + crate::page::SLOT_SIZE {
                let pos = if is_leaf {
                    leaf_lower_bound(&pg.page(), &cur_item)
                } else {
                    internal_search(&pg.page(), &cur_item[4..]) + 1
                };
                pg.page_mut()
                    .insert_item_at(pos, &cur_item)
                    .expect("checked free space");
                images.push((cur_blk, Box::new(*pg.buf())));
                guards.push(pg);
                break;
            }
            // Gather all items plus the new one, in order.
            let p = pg.page();
            let (right_link, level) = special(&p);
            let mut items: Vec<Vec<u8>> = (0..p.nslots())
                .map(|i| p.item(i).expect("dense").to_vec())
                .collect();
            let pos = if is_leaf {
                leaf_lower_bound(&p, &cur_item)
            } else {
                internal_search(&p, &cur_item[4..]) + 1
            };
            items.insert(pos, cur_item.clone());
            let total: usize = items.iter().map(|i| i.len() + 4).sum();
            let mut acc = 0;
            let mut mid = 0;
            for (i, it) in items.iter().enumerate() {
                acc += it.len() + 4;
                if acc >= total / 2 {
                    mid = (i + 1).min(items.len() - 1).max(1);
                    break;
                }
            }
            let kind = if is_leaf {
                PageKind::BtreeLeaf
            } else {
                PageKind::BtreeInternal
            };
            let (rblk, mut rpg) = self.pool.extend(rel)?;
            let sep = cmp_key(&items[mid]);
            {
                let left_refs: Vec<&[u8]> = items[..mid].iter().map(|v| v.as_slice()).collect();
                let right_refs: Vec<&[u8]> = items[mid..].iter().map(|v| v.as_slice()).collect();
                if !pg
                    .page_mut()
                    .rebuild(kind, &special_bytes(rblk, level), &left_refs)
                    || !PageMut(rpg.buf_mut()).rebuild(
                        kind,
                        &special_bytes(right_link, level),
                        &right_refs,
                    )
                {
                    return Err(StorageError::Corrupt(
                        "B-tree split: items do not fit".into(),
                    ));
                }
            }
            images.push((cur_blk, Box::new(*pg.buf())));
            images.push((rblk, Box::new(*rpg.buf())));
            guards.push(pg);
            guards.push(rpg);
            let mut parent_item = Vec::with_capacity(sep.len() + 4);
            parent_item.extend_from_slice(&rblk.to_le_bytes());
            parent_item.extend_from_slice(&sep);
            match path.pop() {
                Some(parent) => {
                    cur_blk = parent;
                    cur_item = parent_item;
                }
                None => {
                    // The root split: a new root above both halves.
                    let (nroot, mut root) = self.pool.extend(rel)?;
                    let mut left_item = cur_blk.to_le_bytes().to_vec();
                    left_item.extend_from_slice(b"");
                    root.page_mut().init(PageKind::BtreeInternal, 8);
                    root.page_mut()
                        .special_area_mut()
                        .copy_from_slice(&special_bytes(NO_SIBLING, level + 1));
                    root.page_mut().append_item(&left_item).expect("empty page");
                    root.page_mut()
                        .append_item(&parent_item)
                        .expect("empty page");
                    images.push((nroot, Box::new(*root.buf())));
                    guards.push(root);
                    let mut meta = self.pool.write(rel, 0)?;
                    meta.page_mut()
                        .special_area_mut()
                        .copy_from_slice(&special_bytes(nroot, 0));
                    images.push((0, Box::new(*meta.buf())));
                    guards.push(meta);
                    break;
                }
            }
        }
        let rec = WalRecord::PageImages {
            pages: images.into_iter().map(|(b, img)| (rel, b, img)).collect(),
        };
        let end = self.wal.insert(&rec)?;
        for g in guards.iter_mut() {
            g.mark_dirty(end);
        }
        Ok(())
    }

    pub fn btree_scan(&self, rel: RelId, range: KeyRange) -> Result<BtreeScan> {
        let lock = self.tree_lock(rel);
        let _shared = lock.read();
        let start: &[u8] = range.lo.as_ref().map(|(b, _)| b.as_slice()).unwrap_or(b"");
        let blk = self.btree_descend(rel, start, None)?;
        Ok(BtreeScan {
            rel,
            range,
            blk,
            last: None,
            done: false,
            leaf: None,
        })
    }

    /// The next batch of (key without tid, tid) in the range; empty at the end.
    pub fn btree_next(&self, scan: &mut BtreeScan) -> Result<Vec<(Vec<u8>, Tid)>> {
        let mut out = Vec::new();
        while !scan.done && out.is_empty() {
            let pg = self.pool.read(scan.rel, scan.blk)?;
            let p = pg.page();
            let start = match &scan.last {
                Some(last) => {
                    let mut i = leaf_lower_bound(&p, last);
                    if i < p.nslots() && p.item(i).expect("dense") == last.as_slice() {
                        i += 1;
                    }
                    i
                }
                None => match &scan.range.lo {
                    Some((b, _)) => leaf_lower_bound(&p, b),
                    None => 0,
                },
            };
            let mut last_item = None;
            for i in start..p.nslots() {
                let it = p.item(i).expect("dense");
                let k = &it[..it.len() - 6];
                if !scan.range.below_hi(k) {
                    scan.done = true;
                    break;
                }
                last_item = Some(it);
                if scan.range.above_lo(k) {
                    out.push((k.to_vec(), Tid::from_bytes(&it[it.len() - 6..])));
                }
            }
            if let Some(it) = last_item {
                scan.last = Some(it.to_vec());
            }
            if !out.is_empty() {
                scan.leaf = Some((scan.blk, p.lsn()));
            }
            if !scan.done {
                let (right, _) = special(&p);
                if right == NO_SIBLING {
                    scan.done = true;
                } else {
                    scan.blk = right;
                    // Keys on the right sibling are all greater than `last`.
                    scan.last = None;
                }
            }
        }
        Ok(out)
    }

    /// Removes entries (`key ++ tid` items) of the scan's last batch whose
    /// row versions no snapshot can see any more, so later scans skip them
    /// without a heap visit. Each is checked again under the leaf's latch:
    /// VACUUM may have freed the slot and a new version taken it since the
    /// scan looked (that version's own entry is inserted into this leaf
    /// only after the latch is released), so an entry goes only if its slot
    /// is empty or holds a version no snapshot can see.
    pub fn btree_kill(
        &self,
        rel: RelId,
        heap: RelId,
        scan: &BtreeScan,
        items: &[Vec<u8>],
    ) -> Result<()> {
        let Some((blk, _)) = scan.leaf else {
            return Ok(());
        };
        let lock = self.tree_lock(rel);
        let _shared = lock.read();
        let mut pg = self.pool.write(rel, blk)?;
        let horizon = self.txns.horizon();
        let mut positions: Vec<u16> = Vec::new();
        for it in items {
            let i = leaf_lower_bound(&pg.page(), it);
            if !(i < pg.page().nslots() && pg.page().item(i) == Some(it.as_slice())) {
                continue;
            }
            let tid = Tid::from_bytes(&it[it.len() - 6..]);
            let dead = match self.heap_slot(heap, tid)? {
                crate::check::SlotContent::Empty => true,
                crate::check::SlotContent::Tuple(h, _) => self.tuple_removable(&h, horizon),
                crate::check::SlotContent::OutOfRange => false,
            };
            if dead {
                positions.push(i as u16);
            }
        }
        positions.sort_unstable();
        positions.dedup();
        if positions.is_empty() {
            return Ok(());
        }
        remove_items(&mut pg, &positions)?;
        let rec = WalRecord::BtDelete {
            rel,
            blk,
            positions,
        };
        self.log_page_change(&mut pg, rec, rel, blk)
    }

    /// VACUUM: removes every entry whose TID `dead` names, leaf by leaf from
    /// the left. Splits only move entries right, into pages linked after the
    /// one split, so the walk meets every entry that existed when it began.
    pub fn btree_bulk_delete(&self, rel: RelId, dead: &dyn Fn(Tid) -> bool) -> Result<u64> {
        let lock = self.tree_lock(rel);
        let mut blk = {
            let _shared = lock.read();
            self.btree_descend(rel, b"", None)?
        };
        let mut removed = 0u64;
        loop {
            let _shared = lock.read();
            let mut pg = self.pool.write(rel, blk)?;
            if pg.page().kind() != PageKind::BtreeLeaf as u16 {
                return Err(StorageError::Corrupt(format!(
                    "index {rel} block {blk}: expected a B-tree leaf"
                )));
            }
            let (right, _) = special(&pg.page());
            let positions: Vec<u16> = {
                let p = pg.page();
                (0..p.nslots())
                    .filter(|&i| {
                        let it = p.item(i).expect("dense");
                        it.len() >= 6 && dead(Tid::from_bytes(&it[it.len() - 6..]))
                    })
                    .map(|i| i as u16)
                    .collect()
            };
            if !positions.is_empty() {
                removed += positions.len() as u64;
                remove_items(&mut pg, &positions)?;
                let rec = WalRecord::BtDelete {
                    rel,
                    blk,
                    positions,
                };
                self.log_page_change(&mut pg, rec, rel, blk)?;
            }
            if right == NO_SIBLING {
                return Ok(removed);
            }
            blk = right;
        }
    }

    pub(crate) fn redo_btree(page: &mut PageRefMut<'_>, rec: &WalRecord) -> Result<()> {
        if let WalRecord::BtDelete { positions, .. } = rec {
            return remove_items(page, positions);
        }
        if let WalRecord::BtInsert { pos, item, .. } = rec {
            if page
                .page_mut()
                .insert_item_at(*pos as usize, item)
                .is_none()
            {
                return Err(StorageError::Corrupt(
                    "B-tree redo: item does not fit".into(),
                ));
            }
        }
        Ok(())
    }
}
