//! Row estimates for EXPLAIN: the selectivity of a WHERE clause over a
//! table from its ANALYZE statistics (most common values, histogram,
//! distinct count, null fraction), with PostgreSQL's default selectivities
//! where the statistics say nothing, and expressions printed as
//! PostgreSQL's EXPLAIN prints them.

use crate::analyze::{ColumnStats, TableStatistics};
use crate::session::Database;
use basalt_catalog::{DataType, TableDef, Value};
use basalt_planner::{BinOp, Estimates, Expr, Plan};
use std::sync::Arc;

/// A table's estimated rows and pages, and its statistics: ANALYZE's row
/// count unless commits have counted live rows since, and for a table
/// never analyzed with nothing counted, PostgreSQL's guess of a page's
/// worth of rows per page.
pub(crate) fn table_rows(db: &Database, t: &TableDef) -> (f64, f64, Option<Arc<TableStatistics>>) {
    let pages = db.st.nblocks(t.filenode).unwrap_or(0) as f64;
    let stats = db.statistics.get(t.oid);
    let live = db.table_stats.table(t.oid).live() as f64;
    let rows = match &stats {
        Some(s) if live == 0.0 => s.reltuples,
        _ if live > 0.0 => live,
        _ => pages.max(1.0) * (8192.0 / (row_width(t, None) + 28.0)).floor(),
    };
    (rows, pages, stats)
}

/// Average row width from the statistics, or from the column types.
pub(crate) fn row_width(t: &TableDef, stats: Option<&TableStatistics>) -> f64 {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            stats
                .and_then(|s| s.columns.iter().find(|x| x.0 == i))
                .map(|x| x.1.avg_width as f64)
                .unwrap_or_else(|| type_width(&c.ty))
        })
        .sum()
}

/// The planner's view of the statistics.
pub(crate) struct DbEstimates<'a>(pub &'a Database);

impl Estimates for DbEstimates<'_> {
    fn table_rows(&self, t: &TableDef) -> f64 {
        table_rows(self.0, t).0
    }

    fn selectivity(&self, t: &TableDef, pred: &Expr) -> f64 {
        let (rows, _, stats) = table_rows(self.0, t);
        selectivity(pred, t, stats.as_deref(), rows)
    }

    fn distinct(&self, t: &TableDef, col: usize) -> Option<f64> {
        let (rows, _, stats) = table_rows(self.0, t);
        let stats = stats?;
        let cs = stats.columns.iter().find(|x| x.0 == col)?;
        Some(n_distinct(&cs.1, rows))
    }
}

pub(crate) const DEFAULT_EQ_SEL: f64 = 0.005;
pub(crate) const DEFAULT_INEQ_SEL: f64 = 1.0 / 3.0;

pub(crate) fn type_width(t: &DataType) -> f64 {
    match t {
        DataType::Bool => 1.0,
        DataType::Int2 => 2.0,
        DataType::Int4 | DataType::Float4 | DataType::Date | DataType::Oid => 4.0,
        DataType::Int8 | DataType::Float8 | DataType::Timestamp | DataType::TimestampTz => 8.0,
        _ => 32.0,
    }
}

pub(crate) fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Eq => "=",
        BinOp::NotEq => "<>",
        BinOp::Lt => "<",
        BinOp::LtEq => "<=",
        BinOp::Gt => ">",
        BinOp::GtEq => ">=",
        BinOp::And => "AND",
        BinOp::Or => "OR",
        BinOp::Concat => "||",
        BinOp::Regex(ci, neg) => match (ci, neg) {
            (false, false) => "~",
            (true, false) => "~*",
            (false, true) => "!~",
            (true, true) => "!~*",
        },
    }
}

/// An expression as PostgreSQL's EXPLAIN prints it, columns by name.
pub(crate) fn expr_text(e: &Expr, cols: &[String]) -> String {
    let t = |x: &Expr| expr_text(x, cols);
    match e {
        Expr::Column(i) => cols.get(*i).cloned().unwrap_or_else(|| format!("${i}")),
        Expr::Literal(Value::Null) => "NULL".into(),
        Expr::Literal(
            v @ (Value::Text(_) | Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_)),
        ) => {
            let ty = match v {
                Value::Text(_) => "text",
                Value::Date(_) => "date",
                Value::Timestamp(_) => "timestamp without time zone",
                _ => "timestamp with time zone",
            };
            format!("'{}'::{ty}", v.to_string().replace('\'', "''"))
        }
        Expr::Literal(v) => v.to_string(),
        Expr::Param(i) => format!("${}", i + 1),
        Expr::Binary(op, a, b) => format!("({} {} {})", t(a), op_text(*op), t(b)),
        Expr::Not(a) => format!("(NOT {})", t(a)),
        Expr::Neg(a) => format!("(- {})", t(a)),
        Expr::IsNull(a, neg) => format!("({} IS {}NULL)", t(a), if *neg { "NOT " } else { "" }),
        Expr::IsDistinct(a, b, neg) => {
            format!(
                "({} IS {}DISTINCT FROM {})",
                t(a),
                if *neg { "NOT " } else { "" },
                t(b)
            )
        }
        Expr::Cast(a, ty) => format!("({})::{}", t(a), ty.display_name()),
        Expr::Func(n, args) => {
            format!("{n}({})", args.iter().map(t).collect::<Vec<_>>().join(", "))
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => format!(
            "({} {}IN ({}))",
            t(expr),
            if *negated { "NOT " } else { "" },
            list.iter().map(t).collect::<Vec<_>>().join(", ")
        ),
        Expr::Like {
            expr,
            pattern,
            negated,
            ci,
        } => format!(
            "({} {}{} {})",
            t(expr),
            if *negated { "!" } else { "" },
            if *ci { "~~*" } else { "~~" },
            t(pattern)
        ),
        Expr::Subquery(_) | Expr::ArraySubquery(_) => "(SubPlan)".into(),
        Expr::Exists(..) => "(EXISTS SubPlan)".into(),
        Expr::InSubquery(a, _, neg) => {
            format!("({} {}IN (SubPlan))", t(a), if *neg { "NOT " } else { "" })
        }
        Expr::Case { .. } => "CASE ... END".into(),
        Expr::Outer { col, .. } => format!("outer.${col}"),
        Expr::AnyArray {
            expr,
            op,
            array,
            all,
        } => format!(
            "({} {} {}({}))",
            t(expr),
            op_text(*op),
            if *all { "ALL" } else { "ANY" },
            t(array)
        ),
    }
}

/// The AND-ed parts of a predicate.
pub(crate) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

/// The table a plan scans directly (through filters), for its statistics.
pub(crate) fn scanned_table(p: &Plan) -> Option<&Arc<TableDef>> {
    match p {
        Plan::SeqScan { table, .. } | Plan::IndexScan { table, .. } => Some(table),
        Plan::Filter { input, .. } => scanned_table(input),
        _ => None,
    }
}

/// Selectivity of `pred` over a table's rows.
pub(crate) fn selectivity(
    pred: &Expr,
    t: &TableDef,
    stats: Option<&TableStatistics>,
    rows: f64,
) -> f64 {
    let col = |c: usize| {
        stats
            .and_then(|s| s.columns.iter().find(|x| x.0 == c))
            .map(|x| &x.1)
    };
    let literal = |e: &Expr| match e {
        Expr::Literal(v) => Some(v.clone()),
        Expr::Cast(inner, _) => match &**inner {
            Expr::Literal(v) => Some(v.clone()),
            _ => None,
        },
        _ => None,
    };
    match pred {
        Expr::Binary(BinOp::And, a, b) => {
            selectivity(a, t, stats, rows) * selectivity(b, t, stats, rows)
        }
        Expr::Binary(BinOp::Or, a, b) => {
            let (x, y) = (
                selectivity(a, t, stats, rows),
                selectivity(b, t, stats, rows),
            );
            x + y - x * y
        }
        Expr::Not(a) => 1.0 - selectivity(a, t, stats, rows),
        Expr::IsNull(a, neg) => {
            let f = match &**a {
                Expr::Column(c) => col(*c).map(|s| s.null_frac).unwrap_or(DEFAULT_EQ_SEL),
                _ => DEFAULT_EQ_SEL,
            };
            if *neg {
                1.0 - f
            } else {
                f
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let one: f64 = list
                .iter()
                .map(|v| {
                    selectivity(
                        &Expr::Binary(BinOp::Eq, expr.clone(), Box::new(v.clone())),
                        t,
                        stats,
                        rows,
                    )
                })
                .sum::<f64>()
                .min(1.0);
            if *negated {
                1.0 - one
            } else {
                one
            }
        }
        Expr::Binary(op, a, b) => {
            let (c, v, op) = match (&**a, &**b) {
                (Expr::Column(c), other) => (*c, other, *op),
                (other, Expr::Column(c)) => (
                    *c,
                    other,
                    match op {
                        BinOp::Lt => BinOp::Gt,
                        BinOp::LtEq => BinOp::GtEq,
                        BinOp::Gt => BinOp::Lt,
                        BinOp::GtEq => BinOp::LtEq,
                        o => *o,
                    },
                ),
                _ => {
                    return match op {
                        BinOp::Eq => DEFAULT_EQ_SEL,
                        _ => DEFAULT_INEQ_SEL,
                    }
                }
            };
            let cs = col(c);
            let ty = t.columns.get(c).map(|x| x.ty);
            match op {
                BinOp::Eq => eq_sel(cs, literal(v).as_ref(), rows),
                BinOp::NotEq => {
                    1.0 - eq_sel(cs, literal(v).as_ref(), rows)
                        - cs.map(|s| s.null_frac).unwrap_or(0.0)
                }
                BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => match (cs, literal(v), ty) {
                    (Some(s), Some(v), Some(ty)) => {
                        range_sel(s, &v, &ty, matches!(op, BinOp::Lt | BinOp::LtEq))
                    }
                    _ => DEFAULT_INEQ_SEL,
                },
                _ => DEFAULT_INEQ_SEL,
            }
        }
        Expr::Like { .. } => DEFAULT_EQ_SEL,
        Expr::Literal(Value::Bool(b)) => f64::from(u8::from(*b)),
        _ => DEFAULT_INEQ_SEL,
    }
}

/// Distinct values of a column among `rows`.
pub(crate) fn n_distinct(s: &ColumnStats, rows: f64) -> f64 {
    if s.n_distinct > 0.0 {
        s.n_distinct
    } else {
        (-s.n_distinct * rows).max(1.0)
    }
}

pub(crate) fn eq_sel(s: Option<&ColumnStats>, v: Option<&Value>, rows: f64) -> f64 {
    let Some(s) = s else {
        return DEFAULT_EQ_SEL;
    };
    if let Some(v) = v {
        if v.is_null() {
            return 0.0;
        }
        let text = v.to_string();
        if let Some(m) = s.mcv.iter().find(|m| m.0 == text) {
            return m.1;
        }
    }
    let mcv_total: f64 = s.mcv.iter().map(|m| m.1).sum();
    let others = (n_distinct(s, rows) - s.mcv.len() as f64).max(1.0);
    ((1.0 - s.null_frac - mcv_total) / others).clamp(0.0, 1.0)
}

/// Fraction of rows below (or above) `v`, from the histogram and the MCVs.
pub(crate) fn range_sel(s: &ColumnStats, v: &Value, ty: &DataType, below: bool) -> f64 {
    let parse = |x: &str| basalt_catalog::cast::cast(Value::Text(x.to_string()), ty).ok();
    let mcv_total: f64 = s.mcv.iter().map(|m| m.1).sum();
    let mcv_below: f64 = s
        .mcv
        .iter()
        .filter_map(|m| parse(&m.0).map(|x| (x, m.1)))
        .filter(|(x, _)| x.cmp_total(v).is_lt())
        .map(|(_, f)| f)
        .sum();
    let bounds: Vec<Value> = s.histogram.iter().filter_map(|b| parse(b)).collect();
    let hist_frac = if bounds.len() >= 2 {
        let n = bounds.len() - 1;
        match bounds.iter().position(|b| b.cmp_total(v).is_gt()) {
            Some(0) => 0.0,
            None => 1.0,
            Some(i) => {
                // Linear inside the bucket for numbers; half a bucket otherwise.
                let within = match (bounds[i - 1].as_f64(), bounds[i].as_f64(), v.as_f64()) {
                    (Some(lo), Some(hi), Some(x)) if hi > lo => {
                        ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
                    }
                    _ => 0.5,
                };
                ((i - 1) as f64 + within) / n as f64
            }
        }
    } else {
        DEFAULT_INEQ_SEL
    };
    let rest = (1.0 - s.null_frac - mcv_total).max(0.0);
    let below_frac = mcv_below + hist_frac * rest;
    if below {
        below_frac
    } else {
        (1.0 - s.null_frac - below_frac).max(0.0)
    }
}
