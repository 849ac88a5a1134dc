//! Basalt's planner: binds parsed statements against the catalog, checks and
//! coerces types the way PostgreSQL does, and builds plans (data) for the
//! executor: index scans for equality and ranges on indexed columns, hash
//! joins for equi-joins in an order chosen by estimated cost, and the rest
//! as operator trees.

pub mod bind;
pub mod cost;
pub mod error;
mod joins;
mod order;
pub mod plan;

pub use bind::{bind_check, plan_statement, Binder};
pub use cost::{Estimates, NoEstimates};
pub use error::{PlanError, Result};
pub use plan::*;
