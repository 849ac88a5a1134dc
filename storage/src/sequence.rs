//! Sequence state: each sequence's last value, outside transactions (a
//! value handed out is never handed out again, even if its transaction
//! aborts). Like PostgreSQL, nextval logs 32 values ahead in the WAL
//! (`SeqSet`), so a crash skips at most that many; the state is written
//! whole to `pg_sequence` at each checkpoint, as of its redo point, and redo
//! replays the records after it.

use crate::error::{Result, StorageError};
use crate::wal::{Wal, WalRecord};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 8] = b"BSLTSEQ1";
/// Values logged ahead of the one handed out (PostgreSQL's SEQ_LOG_VALS).
const LOG_AHEAD: i64 = 32;

/// How a sequence counts (from its definition in the catalog).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeqParams {
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeqState {
    pub last: i64,
    pub is_called: bool,
    /// Values up to here (in the direction of the increment) are covered
    /// by a WAL record.
    pub logged: i64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SeqError {
    #[error("nextval: reached maximum value of sequence \"{0}\" ({1})")]
    Max(String, i64),
    #[error("nextval: reached minimum value of sequence \"{0}\" ({1})")]
    Min(String, i64),
    #[error("setval: value {1} is out of bounds for sequence \"{0}\" ({2}..{3})")]
    OutOfBounds(String, i64, i64, i64),
}

#[derive(Default)]
pub struct Sequences {
    map: Mutex<HashMap<u32, SeqState>>,
}

impl Sequences {
    pub fn load(dir: &Path) -> Result<Sequences> {
        let p = dir.join("pg_sequence");
        let mut map = HashMap::new();
        if p.exists() {
            let b = std::fs::read(&p)?;
            if b.len() < 16 || &b[..8] != MAGIC {
                return Err(StorageError::Corrupt("pg_sequence header".into()));
            }
            let crc = u32::from_le_bytes(b[8..12].try_into().expect("4"));
            let n = u32::from_le_bytes(b[12..16].try_into().expect("4")) as usize;
            let body = &b[16..];
            if body.len() != n * 13 || crc32c::crc32c(body) != crc {
                return Err(StorageError::Corrupt("pg_sequence checksum".into()));
            }
            for e in body.chunks(13) {
                let seq = u32::from_le_bytes(e[0..4].try_into().expect("4"));
                let last = i64::from_le_bytes(e[4..12].try_into().expect("8"));
                map.insert(
                    seq,
                    SeqState {
                        last,
                        is_called: e[12] != 0,
                        logged: last,
                    },
                );
            }
        }
        Ok(Sequences {
            map: Mutex::new(map),
        })
    }

    /// The state as of now, taken by a checkpoint together with its redo
    /// point (`at` runs under the same lock, so no record falls between).
    pub fn snapshot<T>(&self, at: impl FnOnce() -> T) -> (T, HashMap<u32, SeqState>) {
        let m = self.map.lock();
        let t = at();
        (t, m.clone())
    }

    pub fn save(dir: &Path, snap: &HashMap<u32, SeqState>) -> Result<()> {
        let mut body = Vec::with_capacity(snap.len() * 13);
        let mut keys: Vec<&u32> = snap.keys().collect();
        keys.sort();
        for k in keys {
            let s = &snap[k];
            // What a restart may hand out next: values up to `logged`
            // count as used.
            body.extend_from_slice(&k.to_le_bytes());
            body.extend_from_slice(&s.logged.to_le_bytes());
            body.push(u8::from(s.is_called || s.logged != s.last));
        }
        let tmp = dir.join("pg_sequence.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&crc32c::crc32c(&body).to_le_bytes())?;
        f.write_all(&(snap.len() as u32).to_le_bytes())?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join("pg_sequence"))?;
        Ok(())
    }

    /// Redo of a `SeqSet` record: records after the checkpoint's redo
    /// point are newer than its snapshot, so each one simply applies.
    pub fn redo(&self, seq: u32, last: i64, is_called: bool) {
        self.map.lock().insert(
            seq,
            SeqState {
                last,
                is_called,
                logged: last,
            },
        );
    }

    /// The next value of sequence `seq` (named `name` in errors).
    pub fn nextval(&self, wal: &Wal, seq: u32, name: &str, p: &SeqParams) -> Result<i64> {
        let mut m = self.map.lock();
        let st = m.entry(seq).or_insert(SeqState {
            last: p.start,
            is_called: false,
            logged: p.start,
        });
        let next = if !st.is_called {
            st.last
        } else {
            match st.last.checked_add(p.increment) {
                Some(v) if v <= p.max && v >= p.min => v,
                _ if p.cycle => {
                    if p.increment > 0 {
                        p.min
                    } else {
                        p.max
                    }
                }
                _ if p.increment > 0 => {
                    return Err(StorageError::Sequence(SeqError::Max(name.into(), p.max)))
                }
                _ => return Err(StorageError::Sequence(SeqError::Min(name.into(), p.min))),
            }
        };
        let beyond = if p.increment > 0 {
            next > st.logged || !st.is_called
        } else {
            next < st.logged || !st.is_called
        };
        // A cycle wraps below what was logged: log again.
        let wrapped = st.is_called && (next - st.last).signum() != p.increment.signum();
        if beyond || wrapped {
            let ahead = next
                .saturating_add(p.increment.saturating_mul(LOG_AHEAD))
                .clamp(p.min, p.max);
            let lsn = wal.insert(&WalRecord::SeqSet {
                seq,
                last: ahead,
                is_called: true,
                reset: wrapped,
            })?;
            wal.flush(lsn)?;
            st.logged = ahead;
        }
        st.last = next;
        st.is_called = true;
        Ok(next)
    }

    /// setval: the sequence's last value becomes `v` (`is_called`: the
    /// next nextval returns the value after it, else `v` itself).
    pub fn setval(
        &self,
        wal: &Wal,
        seq: u32,
        name: &str,
        p: &SeqParams,
        v: i64,
        is_called: bool,
    ) -> Result<()> {
        if v < p.min || v > p.max {
            return Err(StorageError::Sequence(SeqError::OutOfBounds(
                name.into(),
                v,
                p.min,
                p.max,
            )));
        }
        let mut m = self.map.lock();
        let lsn = wal.insert(&WalRecord::SeqSet {
            seq,
            last: v,
            is_called,
            reset: true,
        })?;
        wal.flush(lsn)?;
        m.insert(
            seq,
            SeqState {
                last: v,
                is_called,
                logged: v,
            },
        );
        Ok(())
    }

    /// The current state, if the sequence has one yet.
    pub fn state(&self, seq: u32) -> Option<SeqState> {
        self.map.lock().get(&seq).copied()
    }

    /// A dropped sequence's state goes (its OID is never reused while the
    /// state could matter).
    pub fn forget(&self, seq: u32) {
        self.map.lock().remove(&seq);
    }
}
