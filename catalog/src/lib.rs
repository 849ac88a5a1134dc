//! Basalt's catalog: SQL types and values with their text formats and
//! encodings, table and index definitions stored transactionally in a system
//! heap, and the rows of the `pg_catalog` views that clients read.

pub mod array;
pub mod cast;
pub mod enums;
pub mod infoschema;
pub mod interval;
pub mod json;
pub mod numeric;
pub mod store;
pub mod system;
pub mod types;
pub mod tz;

pub use interval::Interval;
pub use numeric::Numeric;
pub use store::{Catalog, ColumnDef, Identity, IndexDef, Schema, TableDef};
pub use types::{DataType, Value};
