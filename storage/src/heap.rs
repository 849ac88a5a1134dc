//! MVCC heap: tuples on slotted pages, each behind a 32-byte header
//! (xmin, xmax, cmin, cmax, link to the newer version, flags). A TID names a
//! slot; a slot is reused only after VACUUM removed every index entry that
//! pointed at it (see vacuum.rs). Every change is WAL-logged before its page
//! is unlatched.
//!
//! Update protocol: (1) take the row by setting xmax = our xid with the
//! LOCK_ONLY flag, (2) insert the new version, (3) point the old version at it
//! and clear LOCK_ONLY. Between steps the old version stays visible to others
//! and writers who meet it wait for our transaction. When the new version fits
//! on the old version's page, all three happen under one latch.

use crate::buffer::PageRefMut;
use crate::clog::XidStatus;
use crate::engine::Storage;
use crate::error::{Result, StorageError};
use crate::lock::{RowMode, WaitCtx, WaitPolicy};
use crate::page::{Page, PageKind, PAGE_SIZE, PD_PRUNABLE};
use crate::smgr::RelId;
use crate::txn::{Snapshot, Xid, INVALID_XID};
use crate::wal::WalRecord;

pub const TUPLE_HEADER: usize = 32;
pub const MAX_TUPLE: usize = 8000;

pub const F_UPDATED: u16 = 1;
pub const F_LOCK_ONLY: u16 = 2;
/// The xmax holds the row in `RowMode::Update` strength (FOR UPDATE, DELETE,
/// an UPDATE of a key column); without it, NoKeyUpdate.
pub const F_KEY_EXCL: u16 = 4;

/// Who writes or locks a row, and how they wait for others.
pub struct RowWriter<'a> {
    /// The xid the change is made under (a subtransaction's, if one is open).
    pub xid: Xid,
    pub cid: u32,
    /// Every xid of this transaction (sorted): rows they hold are ours.
    pub own: &'a [Xid],
    pub wait: Option<&'a WaitCtx<'a>>,
    pub policy: WaitPolicy,
}

impl RowWriter<'_> {
    fn is_own(&self, x: Xid) -> bool {
        x == self.xid || self.own.binary_search(&x).is_ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tid {
    pub blk: u32,
    pub slot: u16,
}

impl Tid {
    pub fn to_bytes(self) -> [u8; 6] {
        let mut b = [0u8; 6];
        b[..4].copy_from_slice(&self.blk.to_be_bytes());
        b[4..].copy_from_slice(&self.slot.to_be_bytes());
        b
    }
    pub fn from_bytes(b: &[u8]) -> Tid {
        Tid {
            blk: u32::from_be_bytes(b[..4].try_into().expect("4")),
            slot: u16::from_be_bytes(b[4..6].try_into().expect("2")),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TupleHeader {
    pub xmin: Xid,
    pub xmax: Xid,
    pub cmin: u32,
    pub cmax: u32,
    pub next: Tid,
    pub flags: u16,
}

impl TupleHeader {
    pub fn read(b: &[u8]) -> TupleHeader {
        TupleHeader {
            xmin: u64::from_le_bytes(b[0..8].try_into().expect("8")),
            xmax: u64::from_le_bytes(b[8..16].try_into().expect("8")),
            cmin: u32::from_le_bytes(b[16..20].try_into().expect("4")),
            cmax: u32::from_le_bytes(b[20..24].try_into().expect("4")),
            next: Tid {
                blk: u32::from_le_bytes(b[24..28].try_into().expect("4")),
                slot: u16::from_le_bytes(b[28..30].try_into().expect("2")),
            },
            flags: u16::from_le_bytes(b[30..32].try_into().expect("2")),
        }
    }
    pub fn write(&self, b: &mut [u8]) {
        b[0..8].copy_from_slice(&self.xmin.to_le_bytes());
        b[8..16].copy_from_slice(&self.xmax.to_le_bytes());
        b[16..20].copy_from_slice(&self.cmin.to_le_bytes());
        b[20..24].copy_from_slice(&self.cmax.to_le_bytes());
        b[24..28].copy_from_slice(&self.next.blk.to_le_bytes());
        b[28..30].copy_from_slice(&self.next.slot.to_le_bytes());
        b[30..32].copy_from_slice(&self.flags.to_le_bytes());
    }
}

/// A new tuple's bytes: header (inserted by `xid` in command `cid`) and data.
fn new_tuple(xid: Xid, cid: u32, data: &[u8]) -> Result<Vec<u8>> {
    let len = TUPLE_HEADER + data.len();
    if len > MAX_TUPLE {
        return Err(StorageError::TupleTooLarge(len));
    }
    let mut tuple = vec![0u8; len];
    TupleHeader {
        xmin: xid,
        xmax: INVALID_XID,
        cmin: cid,
        cmax: 0,
        next: Tid { blk: 0, slot: 0 },
        flags: 0,
    }
    .write(&mut tuple);
    tuple[TUPLE_HEADER..].copy_from_slice(data);
    Ok(tuple)
}

/// A row version fetched through an index entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// Visible to the snapshot: its data (without header).
    Visible(Vec<u8>),
    /// Not visible to this snapshot, but maybe to others.
    Invisible,
    /// Visible to no snapshot now or later: its index entries can go.
    Dead,
}

/// What happened when a writer went for a row.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// Done; for an update, the TID of the new version.
    Ok(Tid),
    /// A concurrent transaction that committed updated the row; the TID of
    /// its newer version.
    Updated(Tid),
    /// A concurrent transaction that committed deleted the row.
    Deleted,
    /// This transaction already changed the row in this or a later command.
    SelfModified,
    /// Another transaction holds the row and the policy was SKIP LOCKED.
    Locked,
}

impl Storage {
    fn xid_committed(&self, xid: Xid) -> bool {
        self.clog.get(xid) == XidStatus::Committed
    }

    /// MVCC visibility of a tuple header to a snapshot.
    pub fn visible(&self, h: &TupleHeader, snap: &Snapshot) -> bool {
        if snap.is_own(h.xmin) {
            if h.cmin >= snap.cid {
                return false;
            }
        } else if !(snap.ended_before(h.xmin) && self.xid_committed(h.xmin)) {
            return false;
        }
        if h.xmax == INVALID_XID || h.flags & F_LOCK_ONLY != 0 {
            return true;
        }
        if snap.is_own(h.xmax) {
            return h.cmax >= snap.cid;
        }
        !(snap.ended_before(h.xmax) && self.xid_committed(h.xmax))
    }

    /// Logs a change made to a latched page (a full-page image instead when
    /// it is the page's first change since the checkpoint) and marks the page
    /// dirty at the record's end. Heap and B-tree changes both use it.
    pub(crate) fn log_page_change(
        &self,
        page: &mut PageRefMut<'_>,
        rec: WalRecord,
        rel: RelId,
        blk: u32,
    ) -> Result<()> {
        let lsn = page.page().lsn();
        let end = self
            .wal
            .insert_page_change(lsn, &rec, || WalRecord::PageImages {
                pages: vec![(rel, blk, Box::new(*page.buf()))],
            })?;
        page.mark_dirty(end);
        Ok(())
    }

    /// Inserts a tuple (header built here) and returns its TID.
    pub fn heap_insert(&self, rel: RelId, xid: Xid, cid: u32, data: &[u8]) -> Result<Tid> {
        let tuple = new_tuple(xid, cid, data)?;
        self.insert_tuple(rel, tuple)
    }

    /// Inserts a copy of a version with its header (VACUUM FULL); its link
    /// to a newer version points at itself until `heap_relink`.
    pub fn heap_insert_version(&self, rel: RelId, h: &TupleHeader, data: &[u8]) -> Result<Tid> {
        let mut tuple = new_tuple(h.xmin, h.cmin, data)?;
        TupleHeader {
            next: Tid { blk: 0, slot: 0 },
            ..*h
        }
        .write(&mut tuple);
        self.insert_tuple(rel, tuple)
    }

    /// Sets the link of the version at `tid` to `h.next` (with `h`'s xmax,
    /// cmax and flags).
    pub fn heap_relink(&self, rel: RelId, tid: Tid, h: &TupleHeader) -> Result<()> {
        let mut page = self.pool.write(rel, tid.blk)?;
        self.set_xmax(&mut page, rel, tid, *h, h.xmax, h.cmax, h.next, h.flags)
    }

    fn insert_tuple(&self, rel: RelId, mut tuple: Vec<u8>) -> Result<Tid> {
        let nblocks = self.smgr.nblocks(rel)?;
        let hint = self
            .insert_hint
            .lock()
            .get(&rel)
            .copied()
            .or(nblocks.checked_sub(1));
        if let Some(blk) = hint.filter(|&b| b < nblocks) {
            let mut page = self.pool.write(rel, blk)?;
            if let Some(tid) = self.place_or_prune(&mut page, rel, blk, &mut tuple)? {
                return Ok(tid);
            }
        }
        // Pages VACUUM found room on, before growing the file.
        while let Some(blk) = self.fsm_take(rel, tuple.len()) {
            if blk >= nblocks {
                continue;
            }
            let mut page = self.pool.write(rel, blk)?;
            if let Some(tid) = self.place_or_prune(&mut page, rel, blk, &mut tuple)? {
                self.insert_hint.lock().insert(rel, blk);
                return Ok(tid);
            }
        }
        let (blk, mut page) = self.pool.extend(rel)?;
        page.page_mut().init(PageKind::Heap, 0);
        let tid = self
            .place_tuple(&mut page, rel, blk, &mut tuple)?
            .expect("a tuple fits an empty page");
        self.insert_hint.lock().insert(rel, blk);
        Ok(tid)
    }

    /// Places the tuple on a latched page, pruning the page first if it is
    /// full and holds versions that may have died.
    fn place_or_prune(
        &self,
        page: &mut PageRefMut<'_>,
        rel: RelId,
        blk: u32,
        tuple: &mut [u8],
    ) -> Result<Option<Tid>> {
        if let Some(tid) = self.place_tuple(page, rel, blk, tuple)? {
            return Ok(Some(tid));
        }
        if self.prune_latched(page, rel, blk, None)?.pruned > 0 {
            return self.place_tuple(page, rel, blk, tuple);
        }
        Ok(None)
    }

    fn place_tuple(
        &self,
        page: &mut PageRefMut<'_>,
        rel: RelId,
        blk: u32,
        tuple: &mut [u8],
    ) -> Result<Option<Tid>> {
        if page.page().is_new() {
            page.page_mut().init(PageKind::Heap, 0);
        }
        let fresh = page.page().nslots() == 0;
        if page.page().free_space() < tuple.len() + crate::page::SLOT_SIZE {
            return Ok(None);
        }
        self.vismap.clear(rel, blk);
        let slot = page.page_mut().add_item(tuple).expect("checked free space");
        let tid = Tid {
            blk,
            slot: slot as u16,
        };
        // A fresh tuple's `next` points at itself.
        let mut pm = page.page_mut();
        let item = pm.item_mut(slot).expect("just placed");
        let mut h = TupleHeader::read(item);
        h.next = tid;
        h.write(item);
        let rec = WalRecord::HeapInsert {
            rel,
            blk,
            slot: slot as u16,
            tuple: page.page().item(slot).expect("placed").to_vec(),
        };
        if fresh {
            // Redo of the first insert re-initialises the page, so a torn
            // write of it is repaired without a full image.
            let end = self.wal.insert(&rec)?;
            page.mark_dirty(end);
        } else {
            self.log_page_change(page, rec, rel, blk)?;
        }
        Ok(Some(tid))
    }

    /// The tuple at `tid` if it is visible to the snapshot (data without header).
    pub fn heap_fetch(&self, rel: RelId, tid: Tid, snap: &Snapshot) -> Result<Option<Vec<u8>>> {
        Ok(
            match self.heap_fetch_classify(rel, tid, snap, &mut || INVALID_XID, None)? {
                Fetched::Visible(d) => Some(d),
                Fetched::Invisible | Fetched::Dead => None,
            },
        )
    }

    /// SSI: the concurrent transaction whose change to this version the
    /// snapshot does not see (its deleter or updater when the version is
    /// visible; its inserter when not), unless that transaction aborted.
    pub fn ssi_writer(&self, h: &TupleHeader, snap: &Snapshot, visible: bool) -> Option<Xid> {
        let x = if visible {
            if h.xmax == INVALID_XID || h.flags & F_LOCK_ONLY != 0 || snap.is_own(h.xmax) {
                return None;
            }
            h.xmax
        } else {
            if snap.is_own(h.xmin) || snap.ended_before(h.xmin) {
                return None;
            }
            h.xmin
        };
        let aborted = self.clog.get(x) == XidStatus::Aborted
            || (!self.xid_committed(x) && !self.txns.is_running(x));
        (!aborted).then_some(x)
    }

    /// Like `heap_fetch`, and tells a version no snapshot can ever see (its
    /// inserter aborted, or its deleter committed below the horizon) from one
    /// this snapshot merely does not see. `horizon` is asked only for a
    /// version the snapshot does not see.
    pub fn heap_fetch_classify(
        &self,
        rel: RelId,
        tid: Tid,
        snap: &Snapshot,
        horizon: &mut dyn FnMut() -> Xid,
        ssi: Option<&mut Vec<Xid>>,
    ) -> Result<Fetched> {
        if tid.blk >= self.smgr.nblocks(rel)? {
            return Ok(Fetched::Dead);
        }
        let page = self.pool.read(rel, tid.blk)?;
        let p = page.page();
        let Some(item) = p.item(tid.slot as usize) else {
            return Ok(Fetched::Dead);
        };
        let h = TupleHeader::read(item);
        let vis = self.visible(&h, snap);
        if let Some(w) = ssi {
            if let Some(x) = self.ssi_writer(&h, snap, vis) {
                w.push(x);
            }
        }
        if vis {
            return Ok(Fetched::Visible(item[TUPLE_HEADER..].to_vec()));
        }
        let horizon = horizon();
        let dead = (h.xmin < horizon && !self.xid_committed(h.xmin))
            || (h.xmax != INVALID_XID
                && h.flags & F_LOCK_ONLY == 0
                && h.xmax < horizon
                && self.xid_committed(h.xmax));
        Ok(if dead {
            Fetched::Dead
        } else {
            Fetched::Invisible
        })
    }

    /// The header and data at `tid`, visible or not.
    pub fn heap_fetch_raw(&self, rel: RelId, tid: Tid) -> Result<Option<(TupleHeader, Vec<u8>)>> {
        if tid.blk >= self.smgr.nblocks(rel)? {
            return Ok(None);
        }
        let page = self.pool.read(rel, tid.blk)?;
        Ok(page
            .page()
            .item(tid.slot as usize)
            .map(|i| (TupleHeader::read(i), i[TUPLE_HEADER..].to_vec())))
    }

    /// The visible tuples of one block, for sequential scans.
    pub fn heap_page_visible(
        &self,
        rel: RelId,
        blk: u32,
        snap: &Snapshot,
        out: &mut Vec<(Tid, Vec<u8>)>,
    ) -> Result<()> {
        self.heap_page_visible_ssi(rel, blk, snap, out, None)
    }

    /// Like `heap_page_visible`; for a serializable reader, `ssi` collects
    /// the concurrent writers of the versions it met (see `ssi_writer`).
    pub fn heap_page_visible_ssi(
        &self,
        rel: RelId,
        blk: u32,
        snap: &Snapshot,
        out: &mut Vec<(Tid, Vec<u8>)>,
        mut ssi: Option<&mut Vec<Xid>>,
    ) -> Result<()> {
        let page = self.pool.read(rel, blk)?;
        let p: Page<'_> = page.page();
        for slot in 0..p.nslots() {
            if let Some(item) = p.item(slot) {
                let h = TupleHeader::read(item);
                let vis = self.visible(&h, snap);
                if let Some(w) = ssi.as_deref_mut() {
                    if let Some(x) = self.ssi_writer(&h, snap, vis) {
                        w.push(x);
                    }
                }
                if vis {
                    out.push((
                        Tid {
                            blk,
                            slot: slot as u16,
                        },
                        item[TUPLE_HEADER..].to_vec(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Follows the update chain from `tid` to the newest version whose
    /// updater committed; returns it, or None if that chain ends in a delete.
    pub fn heap_latest(&self, rel: RelId, mut tid: Tid) -> Result<Option<(Tid, Vec<u8>)>> {
        loop {
            let Some((h, data)) = self.heap_fetch_raw(rel, tid)? else {
                return Ok(None);
            };
            if h.xmax == INVALID_XID || h.flags & F_LOCK_ONLY != 0 || !self.xid_committed(h.xmax) {
                return Ok(Some((tid, data)));
            }
            if h.flags & F_UPDATED != 0 && h.next != tid {
                tid = h.next;
            } else {
                return Ok(None);
            }
        }
    }

    /// Takes the row at `tid` in `mode` for `w`: waits for (or, by policy,
    /// gives up on) a running transaction holding it in a conflicting mode,
    /// and reports a committed concurrent change. On Ok the page is returned
    /// write-latched; the caller records the lock or change under that latch.
    fn take_row<'a>(
        &'a self,
        rel: RelId,
        tid: Tid,
        w: &RowWriter<'_>,
        mode: RowMode,
    ) -> Result<std::result::Result<(PageRefMut<'a>, TupleHeader), WriteOutcome>> {
        loop {
            let page = self.pool.write(rel, tid.blk)?;
            let Some(h) = page.page().item(tid.slot as usize).map(TupleHeader::read) else {
                return Ok(Err(WriteOutcome::Deleted));
            };
            let mut blocker = None;
            if h.xmax != INVALID_XID {
                if w.is_own(h.xmax) {
                    if h.flags & F_LOCK_ONLY == 0 {
                        return Ok(Err(WriteOutcome::SelfModified));
                    }
                } else if self.txns.is_running(h.xmax) {
                    let held = if h.flags & F_KEY_EXCL != 0 {
                        RowMode::Update
                    } else {
                        RowMode::NoKeyUpdate
                    };
                    if mode.conflicts(held) {
                        blocker = Some(h.xmax);
                    }
                } else if h.flags & F_LOCK_ONLY == 0 && self.xid_committed(h.xmax) {
                    if h.flags & F_UPDATED != 0 && h.next != tid {
                        return Ok(Err(WriteOutcome::Updated(h.next)));
                    }
                    return Ok(Err(WriteOutcome::Deleted));
                }
            }
            if blocker.is_none() && mode != RowMode::KeyShare {
                blocker = self.locks.row_conflict(rel, tid, mode, w.own);
            }
            let Some(x) = blocker else {
                return Ok(Ok((page, h)));
            };
            drop(page);
            match w.policy {
                WaitPolicy::NoWait => return Err(StorageError::RowLockNotAvailable),
                WaitPolicy::SkipLocked => return Ok(Err(WriteOutcome::Locked)),
                WaitPolicy::Block => {}
            }
            self.wait_for_xid(x, w.wait)?;
        }
    }

    fn set_xmax(
        &self,
        page: &mut PageRefMut<'_>,
        rel: RelId,
        tid: Tid,
        mut h: TupleHeader,
        xmax: Xid,
        cmax: u32,
        next: Tid,
        flags: u16,
    ) -> Result<()> {
        h.xmax = xmax;
        h.cmax = cmax;
        h.next = next;
        h.flags = flags;
        self.vismap.clear(rel, tid.blk);
        let mut pm = page.page_mut();
        h.write(pm.item_mut(tid.slot as usize).expect("row exists"));
        if flags & F_LOCK_ONLY == 0 {
            let f = pm.flags() | PD_PRUNABLE;
            pm.set_flags(f);
        }
        let rec = WalRecord::HeapSetXmax {
            rel,
            blk: tid.blk,
            slot: tid.slot,
            xmax,
            cmax,
            next_blk: next.blk,
            next_slot: next.slot,
            flags,
        };
        self.log_page_change(page, rec, rel, tid.blk)
    }

    pub fn heap_delete(&self, rel: RelId, tid: Tid, w: &RowWriter<'_>) -> Result<WriteOutcome> {
        match self.take_row(rel, tid, w, RowMode::Update)? {
            Err(o) => Ok(o),
            Ok((mut page, h)) => {
                self.set_xmax(&mut page, rel, tid, h, w.xid, w.cid, tid, F_KEY_EXCL)?;
                Ok(WriteOutcome::Ok(tid))
            }
        }
    }

    /// Locks a row for this transaction without changing it (SELECT FOR
    /// UPDATE / NO KEY UPDATE / SHARE / KEY SHARE).
    pub fn heap_lock(
        &self,
        rel: RelId,
        tid: Tid,
        w: &RowWriter<'_>,
        mode: RowMode,
    ) -> Result<WriteOutcome> {
        match self.take_row(rel, tid, w, mode)? {
            Err(o) => Ok(o),
            Ok((mut page, h)) => {
                let own_excl = h.xmax != INVALID_XID && w.is_own(h.xmax);
                if mode.is_shared() {
                    if !own_excl {
                        self.locks.add_row_lock(rel, tid, w.xid, mode);
                    }
                } else {
                    let had_key = own_excl && h.flags & F_KEY_EXCL != 0;
                    let key = if mode == RowMode::Update || had_key {
                        F_KEY_EXCL
                    } else {
                        0
                    };
                    if !(own_excl && h.xmax == w.xid && (had_key || key == 0)) {
                        self.set_xmax(
                            &mut page,
                            rel,
                            tid,
                            h,
                            w.xid,
                            w.cid,
                            tid,
                            F_LOCK_ONLY | key,
                        )?;
                    }
                }
                Ok(WriteOutcome::Ok(tid))
            }
        }
    }

    /// Writes a new version of the row at `tid`. `key_change`: the update
    /// changes a key column (it then conflicts with FOR KEY SHARE).
    pub fn heap_update(
        &self,
        rel: RelId,
        tid: Tid,
        w: &RowWriter<'_>,
        data: &[u8],
        key_change: bool,
    ) -> Result<WriteOutcome> {
        let (xid, cid) = (w.xid, w.cid);
        let mut tuple = new_tuple(xid, cid, data)?;
        let mode = if key_change {
            RowMode::Update
        } else {
            RowMode::NoKeyUpdate
        };
        let key = if key_change { F_KEY_EXCL } else { 0 };
        let (mut page, h) = match self.take_row(rel, tid, w, mode)? {
            Err(o) => return Ok(o),
            Ok(x) => x,
        };
        if page.page().free_space() < tuple.len() + crate::page::SLOT_SIZE {
            // Make room on this page if dead versions hold it (the row we
            // update is live and keeps its slot).
            self.prune_latched(&mut page, rel, tid.blk, None)?;
        }
        if page.page().free_space() >= tuple.len() + crate::page::SLOT_SIZE {
            // Same page: insert the new version and link the old one under one latch.
            let new = self
                .place_tuple(&mut page, rel, tid.blk, &mut tuple)?
                .expect("checked free space");
            self.set_xmax(&mut page, rel, tid, h, xid, cid, new, F_UPDATED | key)?;
            return Ok(WriteOutcome::Ok(new));
        }
        // Other page: lock the row first so nobody else takes it meanwhile.
        self.set_xmax(&mut page, rel, tid, h, xid, cid, tid, F_LOCK_ONLY | key)?;
        drop(page);
        let new = self.heap_insert(rel, xid, cid, data)?;
        let mut page = self.pool.write(rel, tid.blk)?;
        let h = TupleHeader::read(page.page().item(tid.slot as usize).expect("row exists"));
        self.set_xmax(&mut page, rel, tid, h, xid, cid, new, F_UPDATED | key)?;
        Ok(WriteOutcome::Ok(new))
    }

    /// Whether a tuple blocks a new unique key: Some(xid) to wait for, or
    /// Ok(true) if it is live (or inserted by us and not deleted by us).
    pub fn tuple_conflicts(
        &self,
        rel: RelId,
        tid: Tid,
        own: &[Xid],
        has_key: &dyn Fn(&[u8]) -> bool,
    ) -> Result<std::result::Result<bool, Xid>> {
        let Some((h, data)) = self.heap_fetch_raw(rel, tid)? else {
            return Ok(Ok(false));
        };
        if !has_key(&data) {
            return Ok(Ok(false));
        }
        let mine = |x: Xid| own.binary_search(&x).is_ok();
        if !mine(h.xmin) {
            if self.txns.is_running(h.xmin) {
                return Ok(Err(h.xmin));
            }
            if !self.xid_committed(h.xmin) {
                return Ok(Ok(false));
            }
        }
        if h.xmax == INVALID_XID || h.flags & F_LOCK_ONLY != 0 {
            return Ok(Ok(true));
        }
        if mine(h.xmax) {
            return Ok(Ok(false));
        }
        if self.txns.is_running(h.xmax) {
            return Ok(Err(h.xmax));
        }
        Ok(Ok(!self.xid_committed(h.xmax)))
    }

    /// Redo of a heap record on a page (called by recovery).
    pub(crate) fn redo_heap(page: &mut PageRefMut<'_>, rec: &WalRecord) -> Result<()> {
        if page.page().is_new() {
            page.page_mut().init(PageKind::Heap, 0);
        }
        match rec {
            WalRecord::HeapInsert { slot, tuple, .. } => {
                if !page.page_mut().put_item_at_slot(*slot as usize, tuple) {
                    return Err(StorageError::Corrupt(
                        "heap redo: tuple does not fit".into(),
                    ));
                }
            }
            WalRecord::HeapSetXmax {
                slot,
                xmax,
                cmax,
                next_blk,
                next_slot,
                flags,
                ..
            } => {
                let mut pm = page.page_mut();
                let item = pm
                    .item_mut(*slot as usize)
                    .ok_or_else(|| StorageError::Corrupt("heap redo: missing tuple".into()))?;
                let mut h = TupleHeader::read(item);
                h.xmax = *xmax;
                h.cmax = *cmax;
                h.next = Tid {
                    blk: *next_blk,
                    slot: *next_slot,
                };
                h.flags = *flags;
                h.write(item);
                if *flags & F_LOCK_ONLY == 0 {
                    let f = pm.flags() | PD_PRUNABLE;
                    pm.set_flags(f);
                }
            }
            WalRecord::HeapPrune { slots, .. } => {
                let mut pm = page.page_mut();
                for &s in slots {
                    pm.set_slot_dead(s as usize);
                }
                pm.compact();
            }
            WalRecord::HeapUnused { slots, .. } => {
                let mut pm = page.page_mut();
                for &s in slots {
                    pm.set_slot_unused(s as usize);
                }
                pm.compact();
            }
            _ => unreachable!("not a heap record"),
        }
        Ok(())
    }
}

const _: () = assert!(MAX_TUPLE < PAGE_SIZE);

impl Storage {
    /// Every tuple of one block with its header, visible or not (index builds).
    pub fn heap_page_all(
        &self,
        rel: RelId,
        blk: u32,
        out: &mut Vec<(Tid, TupleHeader, Vec<u8>)>,
    ) -> Result<()> {
        let page = self.pool.read(rel, blk)?;
        let p = page.page();
        for slot in 0..p.nslots() {
            if let Some(item) = p.item(slot) {
                out.push((
                    Tid {
                        blk,
                        slot: slot as u16,
                    },
                    TupleHeader::read(item),
                    item[TUPLE_HEADER..].to_vec(),
                ));
            }
        }
        Ok(())
    }

    /// Whether a tuple might still be visible to some transaction (not
    /// inserted by an aborted one, not deleted by a committed one).
    pub fn tuple_maybe_live(&self, h: &TupleHeader) -> bool {
        if self.clog.get(h.xmin) == XidStatus::Aborted
            || (!self.txns.is_running(h.xmin) && !self.xid_committed(h.xmin))
        {
            return false;
        }
        !(h.xmax != INVALID_XID && h.flags & F_LOCK_ONLY == 0 && self.xid_committed(h.xmax))
    }
}
