//! The storage engine as one object: opening a data directory (creating it,
//! or recovering it by redo from the last checkpoint), transactions
//! (begin/commit/abort with group commit), checkpoints, and OID allocation.
//!
//! Control file (`global/pg_control`): format version, redo LSN of the last
//! checkpoint, next xid, next OID, CRC. It is replaced atomically (write,
//! fsync, rename, fsync dir) only after everything the checkpoint promises is
//! on disk. See storage/README.md, "Checkpoints and recovery".

use crate::buffer::BufferPool;
use crate::clog::{Clog, XidStatus};
use crate::error::{Result, StorageError};
use crate::lock::{LockManager, WaitCtx};
use crate::smgr::{RelId, Smgr};
use crate::txn::{Pid, TxnManager, Xid, FIRST_XID};
use crate::wal::{Lsn, Wal, WalRecord};
use parking_lot::{Mutex, MutexGuard, RwLock};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

const CONTROL_VERSION: u32 = 1;
const CONTROL_MAGIC: &[u8; 8] = b"BSLTCTRL";
/// OIDs below this are reserved for built-in objects.
pub const FIRST_USER_OID: u32 = 16384;
const OID_BATCH: u32 = 64;
const UNIQUE_STRIPES: usize = 256;

#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// Buffer pool size in 8 KiB pages.
    pub shared_buffers: usize,
    pub synchronous_commit: bool,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            shared_buffers: 16384,
            synchronous_commit: true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Control {
    pub redo: Lsn,
    pub next_xid: Xid,
    pub next_oid: u32,
}

/// Upper bounds (seconds) of the commit latency histogram's buckets.
pub const COMMIT_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// How long durable commits took (record insert to flush), as a histogram.
#[derive(Default)]
pub struct CommitLatency {
    /// Count per bucket of COMMIT_BUCKETS, then the overflow bucket.
    pub buckets: [AtomicU64; 13],
    pub sum_micros: AtomicU64,
}

impl CommitLatency {
    fn observe(&self, d: std::time::Duration) {
        let s = d.as_secs_f64();
        let i = COMMIT_BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(COMMIT_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct EngineStats {
    pub commit_latency: CommitLatency,
    pub commits: AtomicU64,
    pub rollbacks: AtomicU64,
    pub deadlocks: AtomicU64,
    pub checkpoints: AtomicU64,
    /// Checkpoints asked for (CHECKPOINT, backups, shutdown), among all.
    pub checkpoints_req: AtomicU64,
    /// Milliseconds spent writing and syncing in checkpoints.
    pub checkpoint_write_ms: AtomicU64,
    pub checkpoint_sync_ms: AtomicU64,
    pub buffers_checkpoint: AtomicU64,
    pub last_checkpoint_unix: AtomicU64,
}

pub struct Storage {
    pub dir: PathBuf,
    pub smgr: Arc<Smgr>,
    pub pool: BufferPool,
    pub wal: Arc<Wal>,
    pub clog: Clog,
    /// Sequences' last values (outside transactions).
    pub seqs: crate::sequence::Sequences,
    pub txns: TxnManager,
    pub locks: LockManager,
    pub ssi: crate::ssi::Ssi,
    pub stats: EngineStats,
    /// True when this open created the data directory.
    pub created: bool,
    next_oid: Mutex<(u32, u32)>,
    pub(crate) insert_hint: Mutex<HashMap<RelId, u32>>,
    /// Free space map: heap pages VACUUM found room on (kept in memory; a
    /// restart forgets it until the next VACUUM).
    pub(crate) fsm: Mutex<HashMap<RelId, std::collections::BTreeSet<u32>>>,
    /// Heap pages whose tuples every snapshot sees (see vismap.rs).
    pub(crate) vismap: crate::vismap::VisMap,
    tree_locks: Mutex<HashMap<RelId, Arc<RwLock<()>>>>,
    unique_locks: Vec<Mutex<()>>,
    /// Held shared from a commit record's insert until its clog update, and
    /// exclusively while a checkpoint picks its redo point.
    commit_lock: RwLock<()>,
    checkpoint_lock: Mutex<()>,
    pub(crate) backup_lock: Mutex<()>,
    synchronous_commit: AtomicBool,
}

fn read_control(dir: &Path) -> Result<Option<Control>> {
    let p = dir.join("global").join("pg_control");
    let b = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if b.len() != 36 || &b[..8] != CONTROL_MAGIC {
        return Err(StorageError::Corrupt("pg_control: bad header".into()));
    }
    let crc = u32::from_le_bytes(b[32..36].try_into().expect("4"));
    if crc32c::crc32c(&b[..32]) != crc {
        return Err(StorageError::Corrupt("pg_control: bad checksum".into()));
    }
    let version = u32::from_le_bytes(b[8..12].try_into().expect("4"));
    if version != CONTROL_VERSION {
        return Err(StorageError::Corrupt(format!(
            "pg_control: unsupported version {version}"
        )));
    }
    Ok(Some(Control {
        redo: u64::from_le_bytes(b[12..20].try_into().expect("8")),
        next_xid: u64::from_le_bytes(b[20..28].try_into().expect("8")),
        next_oid: u32::from_le_bytes(b[28..32].try_into().expect("4")),
    }))
}

pub(crate) fn write_control(dir: &Path, c: &Control) -> Result<()> {
    let g = dir.join("global");
    std::fs::create_dir_all(&g)?;
    let mut b = Vec::with_capacity(36);
    b.extend_from_slice(CONTROL_MAGIC);
    b.extend_from_slice(&CONTROL_VERSION.to_le_bytes());
    b.extend_from_slice(&c.redo.to_le_bytes());
    b.extend_from_slice(&c.next_xid.to_le_bytes());
    b.extend_from_slice(&c.next_oid.to_le_bytes());
    b.extend_from_slice(&crc32c::crc32c(&b).to_le_bytes());
    let tmp = g.join("pg_control.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&b)?;
    f.sync_all()?;
    std::fs::rename(&tmp, g.join("pg_control"))?;
    std::fs::File::open(&g)?.sync_all()?;
    Ok(())
}

impl Storage {
    /// Opens (or creates) a data directory, recovering it if it was not shut
    /// down cleanly. Recovery always ends with a checkpoint.
    pub fn open(dir: &Path, opts: StorageOptions) -> Result<Arc<Storage>> {
        std::fs::create_dir_all(dir)?;
        let control = read_control(dir)?;
        let created = control.is_none();
        let control = control.unwrap_or(Control {
            redo: 0,
            next_xid: FIRST_XID,
            next_oid: FIRST_USER_OID,
        });
        let smgr = Arc::new(Smgr::new(dir.to_path_buf())?);
        let pool = BufferPool::new(opts.shared_buffers, smgr.clone());
        let clog = Clog::load(dir)?;
        let seqs = crate::sequence::Sequences::load(dir)?;
        let wal_dir = dir.join("pg_wal");
        std::fs::create_dir_all(&wal_dir)?;

        // Redo.
        let t0 = Instant::now();
        let mut reader = Wal::read_from(&wal_dir, control.redo)?;
        let mut next_xid = control.next_xid;
        let mut next_oid = control.next_oid;
        let mut nrec = 0u64;
        let target = crate::restore::RecoveryTarget::load(dir)?;
        let mut stopped_at = None;
        while let Some(r) = reader.next_record()? {
            if let Some(t) = &target {
                if t.stops_before(&r) {
                    tracing::info!(
                        lsn = %crate::wal::lsn_text(r.start),
                        "recovery target reached: stopping before {:?}",
                        t
                    );
                    stopped_at = Some(r.start);
                    break;
                }
            }
            nrec += 1;
            next_xid = next_xid.max(r.rec.xid() + 1);
            if let WalRecord::SeqSet {
                seq,
                last,
                is_called,
                ..
            } = &r.rec
            {
                seqs.redo(*seq, *last, *is_called);
            }
            Self::redo(&pool, &smgr, &clog, &r.rec, r.end, &mut next_oid)?;
        }
        if let Some(d) = &reader.damage {
            if stopped_at.is_none() {
                tracing::warn!(
                    "redo stopped at a damaged record: {d}; later records are discarded"
                );
            }
        }
        let end = stopped_at.unwrap_or_else(|| reader.position());
        if nrec > 0 {
            tracing::info!(
                records = nrec,
                from = control.redo,
                to = end,
                ms = t0.elapsed().as_millis() as u64,
                "redo done"
            );
        }
        let wal = Arc::new(Wal::open(wal_dir, end, control.redo)?);
        pool.set_wal(wal.clone());
        let st = Arc::new(Storage {
            dir: dir.to_path_buf(),
            smgr,
            pool,
            wal,
            clog,
            seqs,
            txns: TxnManager::new(next_xid),
            locks: LockManager::new(),
            ssi: crate::ssi::Ssi::new(),
            stats: EngineStats::default(),
            created,
            next_oid: Mutex::new((next_oid, next_oid)),
            insert_hint: Mutex::new(HashMap::new()),
            fsm: Mutex::new(HashMap::new()),
            vismap: Default::default(),
            tree_locks: Mutex::new(HashMap::new()),
            unique_locks: (0..UNIQUE_STRIPES).map(|_| Mutex::new(())).collect(),
            commit_lock: RwLock::new(()),
            checkpoint_lock: Mutex::new(()),
            backup_lock: Mutex::new(()),
            synchronous_commit: AtomicBool::new(opts.synchronous_commit),
        });
        st.checkpoint()?;
        if target.is_some() {
            crate::restore::RecoveryTarget::clear(dir)?;
        }
        Ok(st)
    }

    fn redo(
        pool: &BufferPool,
        smgr: &Smgr,
        clog: &Clog,
        rec: &WalRecord,
        end: Lsn,
        next_oid: &mut u32,
    ) -> Result<()> {
        match rec {
            WalRecord::HeapInsert { rel, blk, .. }
            | WalRecord::HeapSetXmax { rel, blk, .. }
            | WalRecord::HeapPrune { rel, blk, .. }
            | WalRecord::HeapUnused { rel, blk, .. } => {
                let mut pg = pool.write_for_redo(*rel, *blk)?;
                if pg.page().lsn() >= end {
                    return Ok(());
                }
                Storage::redo_heap(&mut pg, rec)?;
                pg.mark_dirty(end);
            }
            WalRecord::BtInsert { rel, blk, .. } | WalRecord::BtDelete { rel, blk, .. } => {
                let mut pg = pool.write_for_redo(*rel, *blk)?;
                if pg.page().lsn() >= end {
                    return Ok(());
                }
                if pg.page().is_new() {
                    return Err(StorageError::Corrupt(format!(
                        "B-tree redo on a new page {rel}/{blk}"
                    )));
                }
                Storage::redo_btree(&mut pg, rec)?;
                pg.mark_dirty(end);
            }
            WalRecord::PageImages { pages } => {
                for (rel, blk, img) in pages {
                    let mut pg = pool.write_for_redo(*rel, *blk)?;
                    if pg.page().lsn() >= end {
                        continue;
                    }
                    pg.buf_mut().copy_from_slice(&img[..]);
                    pg.mark_dirty(end);
                }
            }
            WalRecord::Commit { xid, subxids, .. } => {
                for x in subxids {
                    clog.set(*x, XidStatus::Committed);
                }
                clog.set(*xid, XidStatus::Committed)
            }
            WalRecord::Abort { xid } => clog.set(*xid, XidStatus::Aborted),
            WalRecord::Checkpoint { next_oid: n, .. } | WalRecord::NextOid { next_oid: n } => {
                *next_oid = (*next_oid).max(*n)
            }
            WalRecord::DropRel { rel } => {
                pool.drop_rel(*rel);
                smgr.unlink(*rel)?;
            }
            WalRecord::Pad | WalRecord::SeqSet { .. } => {}
        }
        Ok(())
    }

    pub fn set_synchronous_commit(&self, on: bool) {
        self.synchronous_commit.store(on, Ordering::Relaxed);
    }

    /// Starts a transaction (or subtransaction) of backend `pid`: a new xid
    /// in the running set.
    pub fn begin(&self, pid: Pid) -> Xid {
        self.txns.assign(pid)
    }

    /// Commits `xid` with its committed subtransactions `subxids`, atomically
    /// (one commit record). The record is made durable (unless
    /// synchronous_commit is off) before the commit is visible or acknowledged.
    pub fn commit(&self, xid: Xid, subxids: &[Xid], sync: Option<bool>) -> Result<()> {
        let t0 = Instant::now();
        let res = (|| {
            let _g = self.commit_lock.read();
            let time = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0);
            let end = self.wal.insert(&WalRecord::Commit {
                xid,
                subxids: subxids.to_vec(),
                time,
            })?;
            if sync.unwrap_or_else(|| self.synchronous_commit.load(Ordering::Relaxed)) {
                self.wal.flush(end)?;
            }
            for x in subxids {
                self.clog.set(*x, XidStatus::Committed);
            }
            self.clog.set(xid, XidStatus::Committed);
            Ok(())
        })();
        if res.is_err() {
            // The commit record may or may not be durable: we cannot tell the
            // client it committed, and we must not let others see it either.
            tracing::error!(
                xid,
                "commit failed; the transaction's outcome is decided by recovery"
            );
        } else {
            self.stats.commits.fetch_add(1, Ordering::Relaxed);
            self.stats.commit_latency.observe(t0.elapsed());
        }
        let mut all = Vec::with_capacity(subxids.len() + 1);
        all.push(xid);
        all.extend_from_slice(subxids);
        self.locks.release_rows(&all);
        self.txns.end(&all);
        res
    }

    /// Aborts these xids (a transaction with its subtransactions, or a
    /// rolled-back subtransaction and those under it).
    pub fn abort(&self, xids: &[Xid]) -> Result<()> {
        let mut res = Ok(());
        for &xid in xids {
            if let Err(e) = self.wal.insert(&WalRecord::Abort { xid }) {
                res = Err(e);
            }
            self.clog.set(xid, XidStatus::Aborted);
        }
        self.locks.release_rows(xids);
        self.txns.end(xids);
        res
    }

    /// Counts a top-level rollback.
    pub fn count_rollback(&self) {
        self.stats.rollbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// Allocates an OID (also used as a relation's file number). OIDs are
    /// reserved in the WAL in batches, so none is reused after a crash.
    pub fn new_oid(&self) -> Result<u32> {
        let mut g = self.next_oid.lock();
        if g.0 >= g.1 {
            let upto = g.0 + OID_BATCH;
            let end = self.wal.insert(&WalRecord::NextOid { next_oid: upto })?;
            self.wal.flush(end)?;
            g.1 = upto;
        }
        let o = g.0;
        g.0 += 1;
        Ok(o)
    }

    /// Checkpoint: choose the redo point, write every dirty page, fsync the
    /// files, save the clog, then record the checkpoint in the control file.
    pub fn checkpoint(&self) -> Result<()> {
        self.checkpoint_info().map(|_| ())
    }

    /// A checkpoint someone asked for (CHECKPOINT, shutdown), counted apart
    /// from timed ones.
    pub fn checkpoint_requested(&self) -> Result<()> {
        self.stats.checkpoints_req.fetch_add(1, Ordering::Relaxed);
        self.checkpoint()
    }

    /// Checkpoint; returns its redo LSN, next xid and next OID (what a
    /// backup's control file records).
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn checkpoint_info(&self) -> Result<(Lsn, Xid, u32)> {
        let _ck = self.checkpoint_lock.lock();
        // The sequences as of the redo point: later SeqSet records replay
        // over this snapshot.
        let (redo, seqs) = self.seqs.snapshot(|| {
            let _commits = self.commit_lock.write();
            self.wal.start_checkpoint()
        });
        let t0 = Instant::now();
        let pages = self.pool.flush_all()?;
        let t1 = Instant::now();
        self.smgr.sync_all()?;
        self.stats
            .checkpoint_write_ms
            .fetch_add((t1 - t0).as_millis() as u64, Ordering::Relaxed);
        self.stats
            .checkpoint_sync_ms
            .fetch_add(t1.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.stats
            .buffers_checkpoint
            .fetch_add(pages as u64, Ordering::Relaxed);
        self.clog.save(&self.dir)?;
        crate::sequence::Sequences::save(&self.dir, &seqs)?;
        let next_oid = self.next_oid.lock().1;
        let next_xid = self.txns.next_xid();
        let end = self.wal.insert(&WalRecord::Checkpoint {
            redo,
            next_xid,
            next_oid,
        })?;
        self.wal.flush(end)?;
        write_control(
            &self.dir,
            &Control {
                redo,
                next_xid,
                next_oid,
            },
        )?;
        self.wal.remove_old_segments(redo)?;
        self.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.stats
            .last_checkpoint_unix
            .store(now, Ordering::Relaxed);
        tracing::debug!(redo, pages, "checkpoint complete");
        Ok((redo, next_xid, next_oid))
    }

    pub(crate) fn tree_lock(&self, rel: RelId) -> Arc<RwLock<()>> {
        self.tree_locks.lock().entry(rel).or_default().clone()
    }

    /// Serialises uniqueness checks of one key of one index (check, then
    /// insert) across transactions.
    pub fn unique_lock(&self, rel: RelId, key: &[u8]) -> MutexGuard<'_, ()> {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ rel as u64;
        for b in key {
            h = (h ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
        self.unique_locks[(h % UNIQUE_STRIPES as u64) as usize].lock()
    }

    /// Creates an empty heap relation file.
    pub fn create_heap(&self, rel: RelId) -> Result<()> {
        self.smgr.open(rel)?;
        Ok(())
    }

    /// Removes a relation once the dropping transaction has committed.
    pub fn drop_relation(&self, rel: RelId) -> Result<()> {
        self.pool.drop_rel(rel);
        self.insert_hint.lock().remove(&rel);
        self.fsm.lock().remove(&rel);
        self.tree_locks.lock().remove(&rel);
        let end = self.wal.insert(&WalRecord::DropRel { rel })?;
        self.wal.flush(end)?;
        self.smgr.unlink(rel)
    }

    pub fn nblocks(&self, rel: RelId) -> Result<u32> {
        self.smgr.nblocks(rel)
    }

    /// Waits for a transaction to end (row and unique-key waits), as the
    /// backend in `w` (recorded for deadlock detection and pg_locks).
    pub fn wait_for_xid(&self, xid: Xid, w: Option<&WaitCtx<'_>>) -> Result<()> {
        let never = AtomicBool::new(false);
        let internal = WaitCtx::internal(&never);
        crate::lock::wait_xid(&self.locks, &self.txns, xid, w.unwrap_or(&internal))
    }

    /// Bytes available to us and in total on the data directory's file
    /// system (statvfs), if it can be asked.
    pub fn disk_space(&self) -> Option<(u64, u64)> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(self.dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: statvfs writes into the zeroed struct we pass; path is a
        // valid NUL-terminated string.
        let mut v: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(path.as_ptr(), &mut v) } != 0 {
            return None;
        }
        let frag = v.f_frsize as u64;
        Some((v.f_bavail as u64 * frag, v.f_blocks as u64 * frag))
    }

    pub fn relation_size(&self, rel: RelId) -> u64 {
        self.smgr
            .nblocks(rel)
            .map(|n| n as u64 * crate::page::PAGE_SIZE as u64)
            .unwrap_or(0)
    }
}
