//! Row estimates for choosing plans. The statistics live with the executor
//! (ANALYZE's pg_stats, live-row counts); the planner sees them through
//! [`Estimates`], and estimates every other node from its inputs the way
//! PostgreSQL's planner does where it can.

use crate::plan::{Expr, Plan};
use basalt_catalog::{TableDef, Value};

/// PostgreSQL's DEFAULT_NUM_DISTINCT: distinct values assumed for a column
/// nothing is known about (fewer if the relation has fewer rows).
pub const DEFAULT_NUM_DISTINCT: f64 = 200.0;
/// Selectivity of a condition nothing is known about.
pub const DEFAULT_SEL: f64 = 1.0 / 3.0;

/// What the planner may ask about tables' contents.
pub trait Estimates {
    /// Estimated number of rows in a table.
    fn table_rows(&self, t: &TableDef) -> f64;
    /// Fraction of a table's rows that satisfy `pred` (columns numbered as
    /// the table's).
    fn selectivity(&self, t: &TableDef, pred: &Expr) -> f64;
    /// Distinct non-null values of column `col`, if statistics know it.
    fn distinct(&self, t: &TableDef, col: usize) -> Option<f64>;
}

/// Estimates when there are no statistics at all: 1,000 rows a table and
/// PostgreSQL's default selectivities.
pub struct NoEstimates;

impl Estimates for NoEstimates {
    fn table_rows(&self, _t: &TableDef) -> f64 {
        1000.0
    }
    fn selectivity(&self, _t: &TableDef, _pred: &Expr) -> f64 {
        DEFAULT_SEL
    }
    fn distinct(&self, _t: &TableDef, _col: usize) -> Option<f64> {
        None
    }
}

/// Distinct values of a table's column among `rows` rows: the statistics'
/// figure, all rows for a single-column unique index, else the default.
pub fn column_distinct(est: &dyn Estimates, t: &TableDef, col: usize, rows: f64) -> f64 {
    let unique = t.indexes.iter().any(|ix| {
        ix.unique && ix.predicate.is_none() && ix.columns.len() == 1 && ix.columns[0] == col
    });
    let nd = if unique {
        est.table_rows(t)
    } else {
        est.distinct(t, col).unwrap_or(DEFAULT_NUM_DISTINCT)
    };
    nd.min(rows).max(1.0)
}

/// Estimated rows a plan produces.
pub fn plan_rows(est: &dyn Estimates, p: &Plan) -> f64 {
    let r = match p {
        Plan::Single => 1.0,
        Plan::SeqScan { table, filter } | Plan::IndexScan { table, filter, .. } => {
            let rows = est.table_rows(table);
            match filter {
                Some(f) => rows * est.selectivity(table, f),
                None => rows,
            }
        }
        Plan::System { .. } => 100.0,
        Plan::Values { rows } => rows.len() as f64,
        Plan::Function { .. } | Plan::Series { .. } => 1000.0,
        Plan::Filter { input, pred } => match &**input {
            Plan::SeqScan {
                table,
                filter: None,
            } => est.table_rows(table) * est.selectivity(table, pred),
            other => plan_rows(est, other) * DEFAULT_SEL,
        },
        Plan::ProjectSet { input, .. } => plan_rows(est, input) * 10.0,
        Plan::Project { input, .. }
        | Plan::Window { input, .. }
        | Plan::Sort { input, .. }
        | Plan::WithTid { input }
        | Plan::LockRows { input, .. }
        | Plan::LockJoinRows { input, .. } => plan_rows(est, input),
        Plan::Join {
            left, right, on, ..
        } => {
            let n = plan_rows(est, left) * plan_rows(est, right);
            if on.is_some() {
                n * DEFAULT_SEL
            } else {
                n
            }
        }
        Plan::HashJoin { left, right, .. }
        | Plan::IndexJoin { left, right, .. }
        | Plan::MergeJoin { left, right, .. } => plan_rows(est, left).max(plan_rows(est, right)),
        Plan::LateralJoin { left, right, .. } => plan_rows(est, left) * plan_rows(est, right),
        Plan::Aggregate { input, group, .. } => {
            if group.is_empty() {
                1.0
            } else {
                (plan_rows(est, input) / 10.0).min(DEFAULT_NUM_DISTINCT.powi(group.len() as i32))
            }
        }
        Plan::Limit { input, limit, .. } | Plan::LimitTies { input, limit, .. } => {
            let n = plan_rows(est, input);
            match limit {
                Some(Expr::Literal(v)) => match v {
                    Value::Null => n,
                    v => v.as_f64().map_or(n, |l| n.min(l)),
                },
                _ => n,
            }
        }
        Plan::Distinct { input } | Plan::DistinctOn { input, .. } => plan_rows(est, input) / 2.0,
        Plan::Union { inputs, .. } => inputs.iter().map(|i| plan_rows(est, i)).sum(),
        Plan::SetOp { left, .. } => plan_rows(est, left),
        Plan::RecursiveUnion { base, .. } => plan_rows(est, base) * 10.0,
        Plan::WorkTable { .. } => 100.0,
    };
    r.max(1.0)
}
