//! Basalt's storage engine: 8 KiB checksummed pages in one file per relation,
//! a clock-sweep buffer pool, an MVCC heap, B-tree indexes over memcomparable
//! byte keys, a CRC-checked write-ahead log with group commit, a commit log,
//! checkpoints and crash recovery. It knows nothing of SQL types: a tuple is
//! bytes behind an MVCC header. See README.md beside this crate.

pub mod backup;
pub mod btree;
pub mod buffer;
pub mod check;
pub mod clog;
pub mod engine;
pub mod error;
pub mod heap;
pub mod lock;
pub mod page;
pub mod restore;
pub mod sequence;
pub mod smgr;
pub mod ssi;
pub mod txn;
pub mod vacuum;
pub mod vismap;
pub mod wal;

pub use btree::{BtreeScan, KeyRange};
pub use engine::{Storage, StorageOptions, FIRST_USER_OID};
pub use error::{Result, StorageError};
pub use heap::{Fetched, RowWriter, Tid, WriteOutcome};
pub use lock::{LockTag, RowMode, TableLockMode, WaitCtx, WaitPolicy};
pub use smgr::RelId;
pub use txn::{Pid, Snapshot, Xid, INVALID_XID};
pub use vacuum::{VacuumPhase, VacuumProgress, VacuumStats};
