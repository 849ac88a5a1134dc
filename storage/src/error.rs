//! The storage error type. SQLSTATEs are chosen in server/src/sqlstate.rs.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("data corrupted: {0}")]
    Corrupt(String),
    #[error("duplicate key value violates unique constraint")]
    UniqueViolation,
    #[error("could not serialize access due to concurrent update")]
    SerializationFailure,
    #[error("row is too big: size {0}, maximum size 8000")]
    TupleTooLarge(usize),
    #[error("index row size {0} exceeds maximum 2000")]
    KeyTooLarge(usize),
    #[error("canceling statement due to user request")]
    Cancelled,
    #[error("canceling statement due to lock timeout")]
    LockTimeout,
    /// The detail says who waits for what along the cycle, as PostgreSQL's does.
    #[error("deadlock detected")]
    Deadlock(String),
    #[error("could not obtain lock on row")]
    RowLockNotAvailable,
    #[error("could not serialize access due to read/write dependencies among transactions")]
    SerializationRw,
    /// A backup or archive failure, with its SQLSTATE.
    #[error("{msg}")]
    Backup { code: &'static str, msg: String },
    #[error("{0}")]
    Sequence(#[from] crate::sequence::SeqError),
}

pub type Result<T> = std::result::Result<T, StorageError>;
