//! Commit log: two bits of status per transaction id (in progress, committed,
//! aborted). Kept in memory, written whole to `pg_xact` at each checkpoint and
//! rebuilt past it by replaying Commit/Abort records. A transaction id below
//! `next_xid` that is not running and not marked committed is treated as
//! aborted (it was running at a crash). See storage/README.md, "MVCC".

use crate::error::{Result, StorageError};
use parking_lot::RwLock;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XidStatus {
    InProgress = 0,
    Committed = 1,
    Aborted = 2,
}

pub struct Clog {
    bits: RwLock<Vec<u8>>,
}

const MAGIC: &[u8; 8] = b"BSLTXACT";

impl Clog {
    pub fn new() -> Clog {
        Clog {
            bits: RwLock::new(Vec::new()),
        }
    }

    pub fn get(&self, xid: u64) -> XidStatus {
        let bits = self.bits.read();
        let i = (xid / 4) as usize;
        if i >= bits.len() {
            return XidStatus::InProgress;
        }
        match (bits[i] >> ((xid % 4) * 2)) & 3 {
            1 => XidStatus::Committed,
            2 => XidStatus::Aborted,
            _ => XidStatus::InProgress,
        }
    }

    pub fn set(&self, xid: u64, st: XidStatus) {
        let mut bits = self.bits.write();
        let i = (xid / 4) as usize;
        if i >= bits.len() {
            let n = (i + 1).max(bits.len() * 2).max(1024);
            bits.resize(n, 0);
        }
        let sh = (xid % 4) * 2;
        bits[i] = (bits[i] & !(3 << sh)) | ((st as u8) << sh);
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let data = self.bits.read().clone();
        let tmp = dir.join("pg_xact.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&(data.len() as u64).to_le_bytes())?;
        f.write_all(&crc32c::crc32c(&data).to_le_bytes())?;
        f.write_all(&data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join("pg_xact"))?;
        Ok(())
    }

    pub fn load(dir: &Path) -> Result<Clog> {
        let p = dir.join("pg_xact");
        if !p.exists() {
            return Ok(Clog::new());
        }
        let b = std::fs::read(&p)?;
        if b.len() < 20 || &b[..8] != MAGIC {
            return Err(StorageError::Corrupt("pg_xact header".into()));
        }
        let n = u64::from_le_bytes(b[8..16].try_into().expect("8")) as usize;
        let crc = u32::from_le_bytes(b[16..20].try_into().expect("4"));
        let data = b[20..].to_vec();
        if data.len() != n || crc32c::crc32c(&data) != crc {
            return Err(StorageError::Corrupt("pg_xact checksum".into()));
        }
        Ok(Clog {
            bits: RwLock::new(data),
        })
    }
}

impl Default for Clog {
    fn default() -> Self {
        Self::new()
    }
}
