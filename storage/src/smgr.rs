//! Storage manager: one file per relation under `base/`, addressed by a
//! filenode number, read and written a whole page at a time with pread/pwrite.
//! A read past the end of a file yields a zero (new) page. Files touched since
//! the last checkpoint are remembered so the checkpoint can fsync them.

use crate::error::{Result, StorageError};
use crate::page::{self, PageBuf, PAGE_SIZE};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub type RelId = u32;

pub struct RelFile {
    file: File,
    /// Number of blocks, counting blocks that exist only in the buffer pool.
    pub nblocks: AtomicU32,
}

pub struct Smgr {
    dir: PathBuf,
    files: Mutex<HashMap<RelId, Arc<RelFile>>>,
    dirty: Mutex<HashSet<RelId>>,
}

impl Smgr {
    pub fn new(dir: PathBuf) -> Result<Smgr> {
        std::fs::create_dir_all(dir.join("base"))?;
        Ok(Smgr {
            dir,
            files: Mutex::new(HashMap::new()),
            dirty: Mutex::new(HashSet::new()),
        })
    }

    fn path(&self, rel: RelId) -> PathBuf {
        self.dir.join("base").join(rel.to_string())
    }

    pub fn open(&self, rel: RelId) -> Result<Arc<RelFile>> {
        let mut files = self.files.lock();
        if let Some(f) = files.get(&rel) {
            return Ok(f.clone());
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.path(rel))?;
        let len = file.metadata()?.len();
        let rf = Arc::new(RelFile {
            file,
            nblocks: AtomicU32::new((len / PAGE_SIZE as u64) as u32),
        });
        files.insert(rel, rf.clone());
        Ok(rf)
    }

    pub fn nblocks(&self, rel: RelId) -> Result<u32> {
        Ok(self.open(rel)?.nblocks.load(Ordering::Acquire))
    }

    /// Reserves a new block number at the end of the relation.
    pub fn extend(&self, rel: RelId) -> Result<u32> {
        Ok(self.open(rel)?.nblocks.fetch_add(1, Ordering::AcqRel))
    }

    /// Makes sure the relation counts at least `blk + 1` blocks (redo).
    pub fn ensure_block(&self, rel: RelId, blk: u32) -> Result<()> {
        self.open(rel)?.nblocks.fetch_max(blk + 1, Ordering::AcqRel);
        Ok(())
    }

    pub fn read(&self, rel: RelId, blk: u32, buf: &mut PageBuf) -> Result<()> {
        let f = self.open(rel)?;
        let off = blk as u64 * PAGE_SIZE as u64;
        let mut done = 0;
        while done < PAGE_SIZE {
            let n = f.file.read_at(&mut buf[done..], off + done as u64)?;
            if n == 0 {
                buf[done..].fill(0);
                break;
            }
            done += n;
        }
        if !page::verify_checksum(buf, blk) {
            return Err(StorageError::Corrupt(format!(
                "invalid page in block {blk} of relation base/{rel}"
            )));
        }
        Ok(())
    }

    /// Writes a page; the caller has flushed the WAL up to the page's LSN.
    pub fn write(&self, rel: RelId, blk: u32, buf: &PageBuf) -> Result<()> {
        let f = self.open(rel)?;
        let mut copy = *buf;
        page::set_checksum(&mut copy, blk);
        f.file.write_all_at(&copy, blk as u64 * PAGE_SIZE as u64)?;
        self.dirty.lock().insert(rel);
        Ok(())
    }

    /// fsyncs every file written since the last call.
    pub fn sync_all(&self) -> Result<()> {
        let rels: Vec<RelId> = self.dirty.lock().drain().collect();
        for rel in rels {
            let f = { self.files.lock().get(&rel).cloned() };
            if let Some(f) = f {
                f.file.sync_data()?;
            }
        }
        Ok(())
    }

    /// Removes a relation's file (DROP, TRUNCATE after commit). The caller has
    /// dropped its pages from the buffer pool.
    pub fn unlink(&self, rel: RelId) -> Result<()> {
        self.files.lock().remove(&rel);
        self.dirty.lock().remove(&rel);
        match std::fs::remove_file(self.path(rel)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn exists(&self, rel: RelId) -> bool {
        self.path(rel).exists()
    }

    /// Total bytes on disk of one relation.
    pub fn size_bytes(&self, rel: RelId) -> u64 {
        std::fs::metadata(self.path(rel))
            .map(|m| m.len())
            .unwrap_or(0)
    }
}
