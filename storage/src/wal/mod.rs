//! Write-ahead log: an append-only stream of CRC-checked records split into
//! 16 MiB segment files under `wal/`. An LSN is a byte position in the stream;
//! a page's LSN is the *end* of the last record that changed it, so "the WAL is
//! flushed to at least the page LSN" means the change is durable.
//!
//! Invariants: a record never crosses a segment boundary (a PAD record or, when
//! less than a header remains, zero bytes fill the gap); every record carries
//! its own start LSN, so stale bytes from an older use of a file are rejected;
//! recovery zeroes everything after the last valid record before new records
//! are written. Commits use group commit: one fdatasync covers every record
//! inserted before it started. See storage/README.md, "WAL".

use crate::error::{Result, StorageError};
use crate::page::{PageBuf, PAGE_SIZE};
use crate::smgr::RelId;
use parking_lot::{Condvar, Mutex};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

pub const SEGMENT_SIZE: u64 = 16 * 1024 * 1024;
pub const HDR: usize = 17;
/// Bytes buffered in memory before an insert writes them out (no fsync).
const WRITE_BEHIND: usize = 4 * 1024 * 1024;

pub type Lsn = u64;

#[derive(Debug, Clone, PartialEq)]
pub enum WalRecord {
    Pad,
    /// A tuple placed at (blk, slot) of a heap.
    HeapInsert {
        rel: RelId,
        blk: u32,
        slot: u16,
        tuple: Vec<u8>,
    },
    /// xmax/cmax/next-version/flags of the tuple at (blk, slot) changed.
    HeapSetXmax {
        rel: RelId,
        blk: u32,
        slot: u16,
        xmax: u64,
        cmax: u32,
        next_blk: u32,
        next_slot: u16,
        flags: u16,
    },
    /// Tuples at these slots were pruned (no snapshot can see them): each
    /// becomes a dead stub and the page is compacted.
    HeapPrune {
        rel: RelId,
        blk: u32,
        slots: Vec<u16>,
    },
    /// Dead stubs at these slots, whose index entries VACUUM removed, become
    /// unused; the page is compacted.
    HeapUnused {
        rel: RelId,
        blk: u32,
        slots: Vec<u16>,
    },
    /// An item inserted at position `pos` of a B-tree page.
    BtInsert {
        rel: RelId,
        blk: u32,
        pos: u16,
        item: Vec<u8>,
    },
    /// Items at these positions (ascending) removed from a B-tree leaf:
    /// entries of row versions no snapshot can see any more.
    BtDelete {
        rel: RelId,
        blk: u32,
        positions: Vec<u16>,
    },
    /// Whole page images, applied together (full-page writes, B-tree splits).
    PageImages {
        pages: Vec<(RelId, u32, Box<PageBuf>)>,
    },
    /// A transaction and its committed subtransactions commit, at `time`
    /// (microseconds since the Unix epoch; point-in-time recovery stops by it).
    Commit {
        xid: u64,
        subxids: Vec<u64>,
        time: i64,
    },
    Abort {
        xid: u64,
    },
    Checkpoint {
        redo: Lsn,
        next_xid: u64,
        next_oid: u32,
    },
    /// The relation's file is gone (after the dropping transaction committed).
    DropRel {
        rel: RelId,
    },
    /// OIDs below `next_oid` may be in use.
    NextOid {
        next_oid: u32,
    },
    /// Sequence `seq` has handed out values up to `last` (logged ahead of
    /// use), or was set to it (`reset`: setval, RESTART).
    SeqSet {
        seq: u32,
        last: i64,
        is_called: bool,
        reset: bool,
    },
}

const T_PAD: u8 = 0;
const T_HEAP_INSERT: u8 = 1;
const T_HEAP_SET_XMAX: u8 = 2;
const T_BT_INSERT: u8 = 3;
const T_PAGE_IMAGES: u8 = 4;
const T_COMMIT: u8 = 5;
const T_ABORT: u8 = 6;
const T_CHECKPOINT: u8 = 7;
const T_DROP_REL: u8 = 8;
const T_NEXT_OID: u8 = 9;
const T_BT_DELETE: u8 = 10;
const T_HEAP_PRUNE: u8 = 11;
const T_HEAP_UNUSED: u8 = 12;
const T_COMMIT_TS: u8 = 13;
const T_SEQ_SET: u8 = 14;

fn encode_slots(out: &mut Vec<u8>, rel: RelId, blk: u32, slots: &[u16]) {
    out.extend_from_slice(&rel.to_le_bytes());
    out.extend_from_slice(&blk.to_le_bytes());
    out.extend_from_slice(&(slots.len() as u32).to_le_bytes());
    for p in slots {
        out.extend_from_slice(&p.to_le_bytes());
    }
}

fn decode_slots(d: &mut Dec<'_>) -> Result<(RelId, u32, Vec<u16>)> {
    let rel = d.u32()?;
    let blk = d.u32()?;
    let n = d.u32()? as usize;
    let mut slots = Vec::with_capacity(n.min(PAGE_SIZE));
    for _ in 0..n {
        slots.push(d.u16()?);
    }
    Ok((rel, blk, slots))
}

struct Dec<'a>(&'a [u8], usize);
impl Dec<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.1 + n > self.0.len() {
            return Err(StorageError::Corrupt("short WAL record".into()));
        }
        let s = &self.0[self.1..self.1 + n];
        self.1 += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
}

impl WalRecord {
    fn type_byte(&self) -> u8 {
        match self {
            WalRecord::Pad => T_PAD,
            WalRecord::HeapInsert { .. } => T_HEAP_INSERT,
            WalRecord::HeapSetXmax { .. } => T_HEAP_SET_XMAX,
            WalRecord::BtInsert { .. } => T_BT_INSERT,
            WalRecord::BtDelete { .. } => T_BT_DELETE,
            WalRecord::HeapPrune { .. } => T_HEAP_PRUNE,
            WalRecord::HeapUnused { .. } => T_HEAP_UNUSED,
            WalRecord::PageImages { .. } => T_PAGE_IMAGES,
            WalRecord::Commit { .. } => T_COMMIT_TS,
            WalRecord::Abort { .. } => T_ABORT,
            WalRecord::Checkpoint { .. } => T_CHECKPOINT,
            WalRecord::DropRel { .. } => T_DROP_REL,
            WalRecord::NextOid { .. } => T_NEXT_OID,
            WalRecord::SeqSet { .. } => T_SEQ_SET,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            WalRecord::Pad => {}
            WalRecord::HeapInsert {
                rel,
                blk,
                slot,
                tuple,
            } => {
                out.extend_from_slice(&rel.to_le_bytes());
                out.extend_from_slice(&blk.to_le_bytes());
                out.extend_from_slice(&slot.to_le_bytes());
                out.extend_from_slice(&(tuple.len() as u32).to_le_bytes());
                out.extend_from_slice(tuple);
            }
            WalRecord::HeapSetXmax {
                rel,
                blk,
                slot,
                xmax,
                cmax,
                next_blk,
                next_slot,
                flags,
            } => {
                out.extend_from_slice(&rel.to_le_bytes());
                out.extend_from_slice(&blk.to_le_bytes());
                out.extend_from_slice(&slot.to_le_bytes());
                out.extend_from_slice(&xmax.to_le_bytes());
                out.extend_from_slice(&cmax.to_le_bytes());
                out.extend_from_slice(&next_blk.to_le_bytes());
                out.extend_from_slice(&next_slot.to_le_bytes());
                out.extend_from_slice(&flags.to_le_bytes());
            }
            WalRecord::BtInsert {
                rel,
                blk,
                pos,
                item,
            } => {
                out.extend_from_slice(&rel.to_le_bytes());
                out.extend_from_slice(&blk.to_le_bytes());
                out.extend_from_slice(&pos.to_le_bytes());
                out.extend_from_slice(&(item.len() as u32).to_le_bytes());
                out.extend_from_slice(item);
            }
            WalRecord::BtDelete {
                rel,
                blk,
                positions: slots,
            }
            | WalRecord::HeapPrune { rel, blk, slots }
            | WalRecord::HeapUnused { rel, blk, slots } => encode_slots(out, *rel, *blk, slots),
            WalRecord::PageImages { pages } => {
                out.extend_from_slice(&(pages.len() as u32).to_le_bytes());
                for (rel, blk, img) in pages {
                    out.extend_from_slice(&rel.to_le_bytes());
                    out.extend_from_slice(&blk.to_le_bytes());
                    out.extend_from_slice(&img[..]);
                }
            }
            WalRecord::Commit { xid, subxids, time } => {
                out.extend_from_slice(&xid.to_le_bytes());
                out.extend_from_slice(&time.to_le_bytes());
                out.extend_from_slice(&(subxids.len() as u32).to_le_bytes());
                for x in subxids {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
            WalRecord::Abort { xid } => out.extend_from_slice(&xid.to_le_bytes()),
            WalRecord::Checkpoint {
                redo,
                next_xid,
                next_oid,
            } => {
                out.extend_from_slice(&redo.to_le_bytes());
                out.extend_from_slice(&next_xid.to_le_bytes());
                out.extend_from_slice(&next_oid.to_le_bytes());
            }
            WalRecord::DropRel { rel } => out.extend_from_slice(&rel.to_le_bytes()),
            WalRecord::NextOid { next_oid } => out.extend_from_slice(&next_oid.to_le_bytes()),
            WalRecord::SeqSet {
                seq,
                last,
                is_called,
                reset,
            } => {
                out.extend_from_slice(&seq.to_le_bytes());
                out.extend_from_slice(&last.to_le_bytes());
                out.push(u8::from(*is_called) | u8::from(*reset) << 1);
            }
        }
    }

    fn decode(ty: u8, body: &[u8]) -> Result<WalRecord> {
        let mut d = Dec(body, 0);
        Ok(match ty {
            T_PAD => WalRecord::Pad,
            T_HEAP_INSERT => WalRecord::HeapInsert {
                rel: d.u32()?,
                blk: d.u32()?,
                slot: d.u16()?,
                tuple: d.bytes()?,
            },
            T_HEAP_SET_XMAX => WalRecord::HeapSetXmax {
                rel: d.u32()?,
                blk: d.u32()?,
                slot: d.u16()?,
                xmax: d.u64()?,
                cmax: d.u32()?,
                next_blk: d.u32()?,
                next_slot: d.u16()?,
                flags: d.u16()?,
            },
            T_BT_INSERT => WalRecord::BtInsert {
                rel: d.u32()?,
                blk: d.u32()?,
                pos: d.u16()?,
                item: d.bytes()?,
            },
            T_BT_DELETE => {
                let (rel, blk, positions) = decode_slots(&mut d)?;
                WalRecord::BtDelete {
                    rel,
                    blk,
                    positions,
                }
            }
            T_HEAP_PRUNE => {
                let (rel, blk, slots) = decode_slots(&mut d)?;
                WalRecord::HeapPrune { rel, blk, slots }
            }
            T_HEAP_UNUSED => {
                let (rel, blk, slots) = decode_slots(&mut d)?;
                WalRecord::HeapUnused { rel, blk, slots }
            }
            T_PAGE_IMAGES => {
                let n = d.u32()? as usize;
                let mut pages = Vec::with_capacity(n);
                for _ in 0..n {
                    let rel = d.u32()?;
                    let blk = d.u32()?;
                    let mut img = Box::new([0u8; PAGE_SIZE]);
                    img.copy_from_slice(d.take(PAGE_SIZE)?);
                    pages.push((rel, blk, img));
                }
                WalRecord::PageImages { pages }
            }
            T_COMMIT => {
                // Version 1 commit records carry no time.
                let xid = d.u64()?;
                let mut subxids = Vec::new();
                if d.1 < d.0.len() {
                    let n = d.u32()?;
                    for _ in 0..n {
                        subxids.push(d.u64()?);
                    }
                }
                WalRecord::Commit {
                    xid,
                    subxids,
                    time: 0,
                }
            }
            T_COMMIT_TS => {
                let xid = d.u64()?;
                let time = d.u64()? as i64;
                let n = d.u32()? as usize;
                let mut subxids = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    subxids.push(d.u64()?);
                }
                WalRecord::Commit { xid, subxids, time }
            }
            T_ABORT => WalRecord::Abort { xid: d.u64()? },
            T_CHECKPOINT => WalRecord::Checkpoint {
                redo: d.u64()?,
                next_xid: d.u64()?,
                next_oid: d.u32()?,
            },
            T_DROP_REL => WalRecord::DropRel { rel: d.u32()? },
            T_NEXT_OID => WalRecord::NextOid { next_oid: d.u32()? },
            T_SEQ_SET => {
                let seq = d.u32()?;
                let last = d.u64()? as i64;
                let flags = d.u8()?;
                WalRecord::SeqSet {
                    seq,
                    last,
                    is_called: flags & 1 != 0,
                    reset: flags & 2 != 0,
                }
            }
            t => {
                return Err(StorageError::Corrupt(format!(
                    "unknown WAL record type {t}"
                )))
            }
        })
    }

    /// Largest transaction id the record mentions (redo advances next_xid past it).
    pub fn xid(&self) -> u64 {
        match self {
            WalRecord::Commit { xid, subxids, .. } => subxids.iter().copied().fold(*xid, u64::max),
            WalRecord::Abort { xid } => *xid,
            WalRecord::HeapSetXmax { xmax, .. } => *xmax,
            WalRecord::HeapInsert { tuple, .. } if tuple.len() >= 8 => {
                u64::from_le_bytes(tuple[..8].try_into().expect("8"))
            }
            _ => 0,
        }
    }
}

fn seg_path(dir: &std::path::Path, segno: u64) -> PathBuf {
    dir.join(format!("{segno:016X}"))
}

struct Insert {
    /// Bytes not yet written to the segment files; buf[0] is at LSN `buf_start`.
    buf: Vec<u8>,
    buf_start: Lsn,
    /// Redo pointer of the latest checkpoint: a page whose LSN is older needs
    /// a full image on its next change.
    redo: Lsn,
}

struct Writer {
    seg: Option<(u64, File)>,
}

pub struct Wal {
    dir: PathBuf,
    insert: Mutex<Insert>,
    writer: Mutex<Writer>,
    written: AtomicU64,
    flushed: AtomicU64,
    flushed_cv: Condvar,
    flushed_mx: Mutex<()>,
    pub fsyncs: AtomicU64,
    pub bytes_written: AtomicU64,
    /// Segments from this LSN on are kept (a backup copying them); u64::MAX
    /// when nothing holds them.
    hold_from: AtomicU64,
    /// When WAL is archived: segments are removed only once archived
    /// (marked by `archive_status/<segment>.done`).
    archiving: std::sync::atomic::AtomicBool,
}

/// A record that was decoded from the log, with its start and end LSN.
pub struct ReadRecord {
    pub start: Lsn,
    pub end: Lsn,
    pub rec: WalRecord,
}

impl Wal {
    /// Opens the log for appending at `end` (the end of the last valid record,
    /// found by recovery). Everything after `end` is zeroed first.
    pub fn open(dir: PathBuf, end: Lsn, redo: Lsn) -> Result<Wal> {
        std::fs::create_dir_all(&dir)?;
        // Remove stale bytes after the end so they can never be read as records.
        let segno = end / SEGMENT_SIZE;
        let p = seg_path(&dir, segno);
        if p.exists() {
            let f = OpenOptions::new().write(true).open(&p)?;
            let off = end % SEGMENT_SIZE;
            let zeros = vec![0u8; (SEGMENT_SIZE - off) as usize];
            f.write_all_at(&zeros, off)?;
            f.sync_data()?;
        }
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if let Some(n) = entry
                .file_name()
                .to_str()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
            {
                if n > segno {
                    std::fs::remove_file(entry.path())?;
                }
            }
        }
        Ok(Wal {
            dir,
            insert: Mutex::new(Insert {
                buf: Vec::with_capacity(1 << 20),
                buf_start: end,
                redo,
            }),
            writer: Mutex::new(Writer { seg: None }),
            written: AtomicU64::new(end),
            flushed: AtomicU64::new(end),
            flushed_cv: Condvar::new(),
            flushed_mx: Mutex::new(()),
            fsyncs: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            hold_from: AtomicU64::new(u64::MAX),
            archiving: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Keeps segments from `lsn` on (None: releases the hold).
    pub fn hold_segments(&self, lsn: Option<Lsn>) {
        self.hold_from
            .store(lsn.unwrap_or(u64::MAX), Ordering::Release);
    }

    /// Turns WAL archiving on: finished segments stay until archived.
    pub fn set_archiving(&self, on: bool) {
        self.archiving.store(on, Ordering::Release);
    }

    /// Ends the current segment (pads it), so it can be archived; returns
    /// the LSN where the next segment starts. Does nothing at a segment start.
    pub fn switch_segment(&self) -> Result<Lsn> {
        let end = {
            let mut ins = self.insert.lock();
            let pos = ins.buf_start + ins.buf.len() as u64;
            let off = pos % SEGMENT_SIZE;
            if off == 0 {
                pos
            } else {
                let remaining = SEGMENT_SIZE - off;
                if remaining >= HDR as u64 {
                    let pad = vec![0u8; remaining as usize - HDR];
                    Self::put(&mut ins, pos, T_PAD, &pad);
                } else {
                    ins.buf.extend(std::iter::repeat_n(0u8, remaining as usize));
                }
                pos + remaining
            }
        };
        self.flush(end)?;
        Ok(end)
    }

    /// Finished segments not yet archived, oldest first (file name, path).
    pub fn segments_to_archive(&self) -> Result<Vec<(String, PathBuf)>> {
        let current = self.written.load(Ordering::Acquire) / SEGMENT_SIZE;
        let status = self.dir.join("archive_status");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let Ok(n) = u64::from_str_radix(&name, 16) else {
                continue;
            };
            if name.len() == 16 && n < current && !status.join(format!("{name}.done")).exists() {
                out.push((name, entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Records that a segment is safely in the archive.
    pub fn mark_archived(&self, name: &str) -> Result<()> {
        let status = self.dir.join("archive_status");
        std::fs::create_dir_all(&status)?;
        std::fs::write(status.join(format!("{name}.done")), b"")?;
        Ok(())
    }

    pub fn insert_lsn(&self) -> Lsn {
        let ins = self.insert.lock();
        ins.buf_start + ins.buf.len() as u64
    }

    pub fn flushed_lsn(&self) -> Lsn {
        self.flushed.load(Ordering::Acquire)
    }

    pub fn redo_ptr(&self) -> Lsn {
        self.insert.lock().redo
    }

    /// Sets the redo pointer to the current insert position and returns it
    /// (start of a checkpoint).
    pub fn start_checkpoint(&self) -> Lsn {
        let mut ins = self.insert.lock();
        let lsn = ins.buf_start + ins.buf.len() as u64;
        ins.redo = lsn;
        lsn
    }

    /// Appends a record; returns its end LSN.
    pub fn insert(&self, rec: &WalRecord) -> Result<Lsn> {
        let mut body = Vec::with_capacity(64);
        rec.encode_body(&mut body);
        let (end, buffered) = {
            let mut ins = self.insert.lock();
            let end = Self::append(&mut ins, rec.type_byte(), &body);
            (end, ins.buf.len())
        };
        if buffered > WRITE_BEHIND {
            self.write_out()?;
        }
        Ok(end)
    }

    /// Appends a record that changes one page whose current LSN is `page_lsn`.
    /// If the page has not been changed since the latest checkpoint's redo
    /// point, `image` is logged instead (a full-page image, after the change),
    /// so a torn write of the page can be repaired. The decision is made under
    /// the insert lock so it cannot race with a checkpoint starting.
    pub fn insert_page_change(
        &self,
        page_lsn: Lsn,
        rec: &WalRecord,
        image: impl FnOnce() -> WalRecord,
    ) -> Result<Lsn> {
        let mut body = Vec::with_capacity(64);
        rec.encode_body(&mut body);
        let (end, buffered) = {
            let mut ins = self.insert.lock();
            let end = if page_lsn <= ins.redo {
                let img = image();
                let mut b2 = Vec::with_capacity(PAGE_SIZE + 32);
                img.encode_body(&mut b2);
                Self::append(&mut ins, img.type_byte(), &b2)
            } else {
                Self::append(&mut ins, rec.type_byte(), &body)
            };
            (end, ins.buf.len())
        };
        if buffered > WRITE_BEHIND {
            self.write_out()?;
        }
        Ok(end)
    }

    fn append(ins: &mut Insert, ty: u8, body: &[u8]) -> Lsn {
        let len = (HDR + body.len()) as u64;
        assert!(len < SEGMENT_SIZE / 2, "WAL record too large");
        let mut pos = ins.buf_start + ins.buf.len() as u64;
        let remaining = SEGMENT_SIZE - pos % SEGMENT_SIZE;
        if remaining < len {
            if remaining >= HDR as u64 {
                let pad_body = vec![0u8; remaining as usize - HDR];
                Self::put(ins, pos, T_PAD, &pad_body);
            } else {
                ins.buf.extend(std::iter::repeat_n(0u8, remaining as usize));
            }
            pos += remaining;
        }
        Self::put(ins, pos, ty, body);
        pos + len
    }

    fn put(ins: &mut Insert, pos: Lsn, ty: u8, body: &[u8]) {
        let len = (HDR + body.len()) as u32;
        let mut crc = crc32c::crc32c(&pos.to_le_bytes());
        crc = crc32c::crc32c_append(crc, &[ty]);
        crc = crc32c::crc32c_append(crc, body);
        ins.buf.extend_from_slice(&len.to_le_bytes());
        ins.buf.extend_from_slice(&crc.to_le_bytes());
        ins.buf.extend_from_slice(&pos.to_le_bytes());
        ins.buf.push(ty);
        ins.buf.extend_from_slice(body);
    }

    /// Makes the log durable up to at least `upto`. Group commit: one
    /// caller at a time (the leader) writes everything inserted so far and
    /// fsyncs it; the others wait for that flush to finish and return if it
    /// covered them, so one fsync serves every commit that arrived while the
    /// previous one ran. Waiters are woken together, not handed the lock one
    /// by one.
    pub fn flush(&self, upto: Lsn) -> Result<()> {
        loop {
            if self.flushed.load(Ordering::Acquire) >= upto {
                return Ok(());
            }
            if let Some(mut w) = self.writer.try_lock() {
                if self.flushed.load(Ordering::Acquire) >= upto {
                    return Ok(());
                }
                let res = self.write_locked(&mut w).and_then(|end| {
                    if let Some((_, f)) = &w.seg {
                        f.sync_data()?;
                    }
                    Ok(end)
                });
                if let Ok(end) = res {
                    self.fsyncs.fetch_add(1, Ordering::Relaxed);
                    self.flushed.fetch_max(end, Ordering::AcqRel);
                }
                drop(w);
                let _g = self.flushed_mx.lock();
                self.flushed_cv.notify_all();
                return res.map(|_| ());
            }
            // A flush is running: wait for it to end, then look again.
            let mut g = self.flushed_mx.lock();
            if self.flushed.load(Ordering::Acquire) >= upto {
                return Ok(());
            }
            if self.writer.is_locked() {
                self.flushed_cv
                    .wait_for(&mut g, std::time::Duration::from_millis(20));
            }
        }
    }

    /// Writes buffered records to the segment files without fsync.
    pub fn write_out(&self) -> Result<()> {
        let mut w = self.writer.lock();
        let res = self.write_locked(&mut w);
        drop(w);
        // Flush waiters watch the writer lock: tell them it is free.
        let _g = self.flushed_mx.lock();
        self.flushed_cv.notify_all();
        res.map(|_| ())
    }

    fn write_locked(&self, w: &mut Writer) -> Result<Lsn> {
        let (data, start) = {
            let mut ins = self.insert.lock();
            let cap = ins.buf.capacity().max(1 << 16);
            let data = std::mem::replace(&mut ins.buf, Vec::with_capacity(cap));
            let start = ins.buf_start;
            ins.buf_start += data.len() as u64;
            (data, start)
        };
        let mut pos = start;
        let mut off = 0usize;
        while off < data.len() {
            let segno = pos / SEGMENT_SIZE;
            let seg_off = pos % SEGMENT_SIZE;
            let n = ((SEGMENT_SIZE - seg_off) as usize).min(data.len() - off);
            if w.seg.as_ref().map(|s| s.0) != Some(segno) {
                if let Some((_, f)) = w.seg.take() {
                    // Everything in the finished segment must be durable
                    // before a later flush reports a higher LSN.
                    f.sync_data()?;
                }
                w.seg = Some((segno, self.open_segment(segno)?));
            }
            let f = &w.seg.as_ref().expect("just opened").1;
            f.write_all_at(&data[off..off + n], seg_off)?;
            off += n;
            pos += n as u64;
        }
        self.bytes_written
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.written.fetch_max(pos, Ordering::AcqRel);
        Ok(pos)
    }

    fn open_segment(&self, segno: u64) -> Result<File> {
        let p = seg_path(&self.dir, segno);
        if p.exists() {
            return Ok(OpenOptions::new().read(true).write(true).open(&p)?);
        }
        // Pre-fill new segments with zeros so later fdatasyncs need no
        // metadata updates, then make the new file's name durable.
        let tmp = self.dir.join(format!("{segno:016X}.tmp"));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        let zeros = vec![0u8; 1 << 20];
        for i in 0..(SEGMENT_SIZE / (1 << 20)) {
            f.write_all_at(&zeros, i * (1 << 20))?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &p)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(f)
    }

    /// Reads records from `start` until the end of the valid log.
    pub fn read_from(dir: &std::path::Path, start: Lsn) -> Result<WalReader> {
        Ok(WalReader {
            dir: dir.to_path_buf(),
            pos: start,
            seg: None,
            damage: None,
        })
    }

    /// Removes segments that end at or before `lsn` (no longer needed for
    /// redo), except those a backup holds or that wait to be archived.
    pub fn remove_old_segments(&self, lsn: Lsn) -> Result<()> {
        let keep_from = lsn.min(self.hold_from.load(Ordering::Acquire)) / SEGMENT_SIZE;
        let archiving = self.archiving.load(Ordering::Acquire);
        let status = self.dir.join("archive_status");
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.len() != 16 {
                continue;
            }
            if let Ok(n) = u64::from_str_radix(&name, 16) {
                let done = status.join(format!("{name}.done"));
                if n < keep_from && (!archiving || done.exists()) {
                    let _ = std::fs::remove_file(entry.path());
                    let _ = std::fs::remove_file(done);
                }
            }
        }
        Ok(())
    }
}

mod reader;
pub use reader::{lsn_text, parse_lsn, WalReader};

#[cfg(test)]
mod tests;
