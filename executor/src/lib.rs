//! Basalt's executor: runs plans over the storage engine, and the embedded
//! API (`Database::open`, `Session::execute_sql`) that the server, the
//! sqllogictest runner and tests all use.

pub mod activity;
pub mod analyze;
pub mod arrays;
pub mod autovacuum;
mod colmask;
mod copy;
mod cursor;
mod databases;
mod ddl;
mod dml;
pub mod error;
pub mod eval;
pub mod exec;
mod explain;
mod fkeys;
pub mod funcs;
mod guc;
mod integrity;
mod ixkeys;
pub mod json;
mod locks;
mod maintenance;
pub mod notify;
pub mod pgbinary;
mod prepared;
pub mod regex;
pub mod roles;
pub mod rowstore;
mod savepoint;
pub mod scram;
mod selectivity;
pub mod session;
mod settings;
mod sqlstate;
pub mod stats;
mod to_char;
pub mod txn;
mod views;
mod window;

pub use error::{ExecError, Result};
pub use maintenance::VacuumOptions;
pub use session::{CopyIn, Database, ExecResult, RowSink, Session, REPORTED_SETTINGS};
