//! Buffer pool: a fixed array of page frames (`shared_buffers`), a page table
//! from (relation, block) to frame, pin counts, and clock-sweep eviction.
//!
//! Invariants: a frame's tag changes only under the page-table mutex and only
//! while its pin count is zero; pins are taken under that same mutex, so a
//! frame with pin 0 seen under the mutex is latched by nobody. A dirty page is
//! written only after the WAL is flushed past its LSN. Pages are reached only
//! through guards (`PageRef`, `PageRefMut`): they hold a pin and a latch and
//! release both on drop. See storage/README.md, "Buffer pool".

use crate::error::{Result, StorageError};
use crate::page::{Page, PageBuf, PageMut, PAGE_SIZE};
use crate::smgr::{RelId, Smgr};
use crate::wal::Wal;
use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

pub type PageId = (RelId, u32);

struct Frame {
    data: RwLock<Box<PageBuf>>,
    /// Hits on this frame since it took its current page (added to its
    /// relation's count when the frame is given another page).
    hits: AtomicU64,
    pin: AtomicU32,
    usage: AtomicU8,
    dirty: AtomicBool,
    valid: AtomicBool,
}

struct Table {
    map: HashMap<PageId, usize>,
    tags: Vec<Option<PageId>>,
}

#[derive(Default)]
pub struct PoolStats {
    pub hits: AtomicU64,
    pub reads: AtomicU64,
    pub writes: AtomicU64,
    /// Per relation: (hits of pages since evicted, reads) (pg_statio_*);
    /// hits of pages in the pool are counted on their frames.
    per_rel: Mutex<HashMap<RelId, (u64, u64)>>,
}

pub struct BufferPool {
    frames: Vec<Frame>,
    table: Mutex<Table>,
    hand: AtomicUsize,
    smgr: Arc<Smgr>,
    wal: OnceLock<Arc<Wal>>,
    pub stats: PoolStats,
}

pub struct PageRef<'a> {
    pool: &'a BufferPool,
    frame: usize,
    guard: Option<RwLockReadGuard<'a, Box<PageBuf>>>,
}

pub struct PageRefMut<'a> {
    pool: &'a BufferPool,
    frame: usize,
    guard: Option<RwLockWriteGuard<'a, Box<PageBuf>>>,
}

impl Drop for PageRef<'_> {
    fn drop(&mut self) {
        self.guard.take();
        self.pool.frames[self.frame]
            .pin
            .fetch_sub(1, Ordering::AcqRel);
    }
}
impl Drop for PageRefMut<'_> {
    fn drop(&mut self) {
        self.guard.take();
        self.pool.frames[self.frame]
            .pin
            .fetch_sub(1, Ordering::AcqRel);
    }
}

impl PageRef<'_> {
    pub fn buf(&self) -> &PageBuf {
        self.guard.as_ref().expect("guard held until drop")
    }
    pub fn page(&self) -> Page<'_> {
        Page(self.buf())
    }
}

impl PageRefMut<'_> {
    pub fn buf(&self) -> &PageBuf {
        self.guard.as_ref().expect("guard held until drop")
    }
    pub fn buf_mut(&mut self) -> &mut PageBuf {
        self.guard.as_mut().expect("guard held until drop")
    }
    pub fn page(&self) -> Page<'_> {
        Page(self.buf())
    }
    pub fn page_mut(&mut self) -> PageMut<'_> {
        PageMut(self.buf_mut())
    }
    /// Records that the page was changed by the WAL record ending at `lsn`.
    pub fn mark_dirty(&mut self, lsn: u64) {
        PageMut(self.buf_mut()).set_lsn(lsn);
        self.pool.frames[self.frame]
            .dirty
            .store(true, Ordering::Release);
    }
}

enum Want {
    Read,
    Write,
    New,
}

enum Got<'a> {
    R(PageRef<'a>),
    W(PageRefMut<'a>),
}

impl BufferPool {
    pub fn new(nframes: usize, smgr: Arc<Smgr>) -> BufferPool {
        let nframes = nframes.max(16);
        let frames = (0..nframes)
            .map(|_| Frame {
                data: RwLock::new(Box::new([0u8; PAGE_SIZE])),
                hits: AtomicU64::new(0),
                pin: AtomicU32::new(0),
                usage: AtomicU8::new(0),
                dirty: AtomicBool::new(false),
                valid: AtomicBool::new(false),
            })
            .collect();
        BufferPool {
            frames,
            table: Mutex::new(Table {
                map: HashMap::with_capacity(nframes),
                tags: vec![None; nframes],
            }),
            hand: AtomicUsize::new(0),
            smgr,
            wal: OnceLock::new(),
            stats: PoolStats::default(),
        }
    }

    /// Attaches the WAL once recovery has opened it; before that (during redo)
    /// every record a dirty page depends on is already on disk.
    pub fn set_wal(&self, wal: Arc<Wal>) {
        let _ = self.wal.set(wal);
    }

    pub fn smgr(&self) -> &Arc<Smgr> {
        &self.smgr
    }

    /// Pages of `rel` found in the pool (hits) and read from disk.
    pub fn rel_io(&self, rel: RelId) -> (u64, u64) {
        let table = self.table.lock();
        let resident: u64 = table
            .tags
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some_and(|t| t.0 == rel))
            .map(|(i, _)| self.frames[i].hits.load(Ordering::Relaxed))
            .sum();
        drop(table);
        let (h, r) = self
            .stats
            .per_rel
            .lock()
            .get(&rel)
            .copied()
            .unwrap_or((0, 0));
        (h + resident, r)
    }

    pub fn capacity(&self) -> usize {
        self.frames.len()
    }

    /// (frames holding a page, frames dirty), read without the page table
    /// lock: a snapshot for monitoring, not an invariant.
    pub fn usage(&self) -> (usize, usize) {
        let used = self
            .frames
            .iter()
            .filter(|f| f.valid.load(Ordering::Relaxed))
            .count();
        let dirty = self
            .frames
            .iter()
            .filter(|f| f.dirty.load(Ordering::Relaxed))
            .count();
        (used, dirty)
    }

    pub fn read(&self, rel: RelId, blk: u32) -> Result<PageRef<'_>> {
        match self.get(rel, blk, Want::Read)? {
            Got::R(r) => Ok(r),
            Got::W(_) => unreachable!("read asked"),
        }
    }

    pub fn write(&self, rel: RelId, blk: u32) -> Result<PageRefMut<'_>> {
        match self.get(rel, blk, Want::Write)? {
            Got::W(w) => Ok(w),
            Got::R(_) => unreachable!("write asked"),
        }
    }

    /// A new zeroed block at the end of the relation, write-latched.
    pub fn extend(&self, rel: RelId) -> Result<(u32, PageRefMut<'_>)> {
        let blk = self.smgr.extend(rel)?;
        match self.get(rel, blk, Want::New)? {
            Got::W(w) => Ok((blk, w)),
            Got::R(_) => unreachable!("write asked"),
        }
    }

    /// The page for redo: reads it if it exists, else a zero page; extends the
    /// relation's block count as needed.
    pub fn write_for_redo(&self, rel: RelId, blk: u32) -> Result<PageRefMut<'_>> {
        self.smgr.ensure_block(rel, blk)?;
        match self.write(rel, blk) {
            Ok(p) => Ok(p),
            Err(StorageError::Corrupt(_)) => {
                // A torn page: a full-page image in the log will overwrite it.
                match self.get(rel, blk, Want::New)? {
                    Got::W(w) => Ok(w),
                    Got::R(_) => unreachable!(),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn get(&self, rel: RelId, blk: u32, want: Want) -> Result<Got<'_>> {
        let tag = (rel, blk);
        loop {
            let mut table = self.table.lock();
            if let Some(&fi) = table.map.get(&tag) {
                let f = &self.frames[fi];
                f.pin.fetch_add(1, Ordering::AcqRel);
                drop(table);
                let _ = f
                    .usage
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                        if u < 5 {
                            Some(u + 1)
                        } else {
                            None
                        }
                    });
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                f.hits.fetch_add(1, Ordering::Relaxed);
                let got = match want {
                    Want::Read => {
                        let g = f.data.read();
                        Got::R(PageRef {
                            pool: self,
                            frame: fi,
                            guard: Some(g),
                        })
                    }
                    Want::Write | Want::New => {
                        let mut g = f.data.write();
                        if matches!(want, Want::New) {
                            g.fill(0);
                        }
                        Got::W(PageRefMut {
                            pool: self,
                            frame: fi,
                            guard: Some(g),
                        })
                    }
                };
                if !f.valid.load(Ordering::Acquire) {
                    // The load that mapped this frame failed; try again.
                    drop(got);
                    continue;
                }
                return Ok(got);
            }
            // Miss: find a victim.
            let fi = match self.find_victim(&table) {
                Some(fi) => fi,
                None => {
                    drop(table);
                    std::thread::yield_now();
                    return Err(StorageError::Io(std::io::Error::other(
                        "no unpinned buffers available",
                    )));
                }
            };
            let f = &self.frames[fi];
            let mut g = f.data.try_write().expect("unpinned frame is unlatched");
            if f.dirty.load(Ordering::Acquire) {
                let lsn = Page(&g).lsn();
                if let Some(wal) = self.wal.get() {
                    if wal.flushed_lsn() < lsn {
                        drop(g);
                        drop(table);
                        wal.flush(lsn)?;
                        continue;
                    }
                }
                let old = table.tags[fi].expect("dirty frame has a tag");
                self.smgr.write(old.0, old.1, &g)?;
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
                f.dirty.store(false, Ordering::Release);
            }
            if let Some(old) = table.tags[fi].take() {
                table.map.remove(&old);
                let h = f.hits.swap(0, Ordering::Relaxed);
                if h > 0 {
                    self.stats.per_rel.lock().entry(old.0).or_default().0 += h;
                }
            }
            f.hits.store(0, Ordering::Relaxed);
            table.tags[fi] = Some(tag);
            table.map.insert(tag, fi);
            f.pin.store(1, Ordering::Release);
            f.usage.store(1, Ordering::Relaxed);
            f.valid.store(false, Ordering::Release);
            drop(table);
            if matches!(want, Want::New) {
                g.fill(0);
            } else {
                self.stats.reads.fetch_add(1, Ordering::Relaxed);
                self.stats.per_rel.lock().entry(rel).or_default().1 += 1;
                if let Err(e) = self.smgr.read(rel, blk, &mut g) {
                    let mut table = self.table.lock();
                    table.map.remove(&tag);
                    table.tags[fi] = None;
                    drop(g);
                    f.pin.fetch_sub(1, Ordering::AcqRel);
                    return Err(e);
                }
            }
            f.valid.store(true, Ordering::Release);
            return Ok(match want {
                Want::Read => Got::R(PageRef {
                    pool: self,
                    frame: fi,
                    guard: Some(RwLockWriteGuard::downgrade(g)),
                }),
                _ => Got::W(PageRefMut {
                    pool: self,
                    frame: fi,
                    guard: Some(g),
                }),
            });
        }
    }

    fn find_victim(&self, table: &Table) -> Option<usize> {
        let n = self.frames.len();
        for _ in 0..n * 6 {
            let i = self.hand.fetch_add(1, Ordering::Relaxed) % n;
            let f = &self.frames[i];
            if f.pin.load(Ordering::Acquire) > 0 {
                continue;
            }
            if table.tags[i].is_none() {
                return Some(i);
            }
            if false {
                continue;
            }
            let u = f.usage.load(Ordering::Relaxed);
            if u > 0 {
                f.usage.store(u - 1, Ordering::Relaxed);
                continue;
            }
            return Some(i);
        }
        None
    }

    /// Writes every dirty page (checkpoint). Pages dirtied meanwhile are left
    /// for the next checkpoint, whose redo point precedes those changes.
    pub fn flush_all(&self) -> Result<usize> {
        let mut n = 0;
        for fi in 0..self.frames.len() {
            let f = &self.frames[fi];
            if !f.dirty.load(Ordering::Acquire) {
                continue;
            }
            let tag = {
                let table = self.table.lock();
                match table.tags[fi] {
                    Some(t) => {
                        f.pin.fetch_add(1, Ordering::AcqRel);
                        t
                    }
                    None => continue,
                }
            };
            let res = (|| {
                let g = f.data.read();
                if !f.dirty.load(Ordering::Acquire) || !f.valid.load(Ordering::Acquire) {
                    return Ok(false);
                }
                let lsn = Page(&g).lsn();
                if let Some(wal) = self.wal.get() {
                    wal.flush(lsn)?;
                }
                self.smgr.write(tag.0, tag.1, &g)?;
                f.dirty.store(false, Ordering::Release);
                Ok::<bool, StorageError>(true)
            })();
            f.pin.fetch_sub(1, Ordering::AcqRel);
            if res? {
                n += 1;
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(n)
    }

    /// Forgets every page of a relation without writing it (DROP/TRUNCATE).
    pub fn drop_rel(&self, rel: RelId) {
        let mut table = self.table.lock();
        for fi in 0..self.frames.len() {
            if let Some((r, _)) = table.tags[fi] {
                if r == rel && self.frames[fi].pin.load(Ordering::Acquire) == 0 {
                    let t = table.tags[fi].take().expect("checked");
                    table.map.remove(&t);
                    self.frames[fi].dirty.store(false, Ordering::Release);
                }
            }
        }
    }

    pub fn dirty_count(&self) -> usize {
        self.frames
            .iter()
            .filter(|f| f.dirty.load(Ordering::Relaxed))
            .count()
    }
    pub fn used_count(&self) -> usize {
        self.table.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_keeps_data() {
        let dir = std::env::temp_dir().join(format!("basalt-buf-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let smgr = Arc::new(Smgr::new(dir.clone()).unwrap());
        let pool = BufferPool::new(16, smgr);
        for i in 0..100u32 {
            let (blk, mut p) = pool.extend(7).unwrap();
            assert_eq!(blk, i);
            p.page_mut().init(crate::page::PageKind::Heap, 0);
            p.page_mut().append_item(&i.to_le_bytes()).unwrap();
            p.mark_dirty(1);
        }
        for i in 0..100u32 {
            let p = pool.read(7, i).unwrap();
            assert_eq!(p.page().item(0).unwrap(), &i.to_le_bytes());
        }
        assert!(pool.used_count() <= 16);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
