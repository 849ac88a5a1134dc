//! Which columns of each table scan a query uses: a scan decodes only
//! those (the others stay NULL, unread). Worked out from the plan's root,
//! whose every output column is needed, down through each node to the
//! columns its expressions and its parent read. Anything this does not
//! follow (subqueries, which may read the row through `Outer`; locking;
//! set operations) needs every column below it, so the answer errs toward
//! decoding more.

use basalt_planner::{Expr, JoinKind, Plan};
use std::collections::HashMap;
use std::rc::Rc;

/// The columns a node's parent reads from it: all, or some (by position).
#[derive(Clone)]
enum Need {
    All,
    Some(Vec<bool>),
}

impl Need {
    fn none() -> Need {
        Need::Some(Vec::new())
    }
    fn has(&self, i: usize) -> bool {
        match self {
            Need::All => true,
            Need::Some(v) => v.get(i).copied().unwrap_or(false),
        }
    }
    fn add(&mut self, i: usize) {
        if let Need::Some(v) = self {
            if v.len() <= i {
                v.resize(i + 1, false);
            }
            v[i] = true;
        }
    }
    /// Adds the columns `e` reads; a subquery in it needs them all.
    fn add_expr(&mut self, e: &Expr) {
        if !cols(e, &mut |i| self.add(i)) {
            *self = Need::All;
        }
    }
    /// Columns [from, from + width) as a need of their own, renumbered.
    fn slice(&self, from: usize, width: usize) -> Need {
        match self {
            Need::All => Need::All,
            Need::Some(_) => Need::Some((from..from + width).map(|i| self.has(i)).collect()),
        }
    }
}

/// Calls `f` with each column `e` reads; false when `e` holds a subquery
/// (which may read any column of the row).
fn cols(e: &Expr, f: &mut dyn FnMut(usize)) -> bool {
    match e {
        Expr::Column(i) => {
            f(*i);
            true
        }
        Expr::Literal(_) | Expr::Param(_) | Expr::Outer { .. } => true,
        Expr::Subquery(_) | Expr::Exists(..) | Expr::InSubquery(..) | Expr::ArraySubquery(_) => {
            false
        }
        Expr::Binary(_, a, b) | Expr::IsDistinct(a, b, _) => cols(a, f) && cols(b, f),
        Expr::Not(a) | Expr::Neg(a) | Expr::IsNull(a, _) | Expr::Cast(a, _) => cols(a, f),
        Expr::Func(_, args) => args.iter().all(|a| cols(a, f)),
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            operand.as_ref().is_none_or(|o| cols(o, f))
                && whens.iter().all(|(c, r)| cols(c, f) && cols(r, f))
                && else_.as_ref().is_none_or(|e| cols(e, f))
        }
        Expr::InList { expr, list, .. } => cols(expr, f) && list.iter().all(|a| cols(a, f)),
        Expr::Like { expr, pattern, .. } => cols(expr, f) && cols(pattern, f),
        Expr::AnyArray { expr, array, .. } => cols(expr, f) && cols(array, f),
    }
}

/// A node's output width, where it is known.
fn width(p: &Plan) -> Option<usize> {
    Some(match p {
        Plan::SeqScan { table, .. } | Plan::IndexScan { table, .. } => table.columns.len(),
        Plan::Filter { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Distinct { input }
        | Plan::DistinctOn { input, .. } => width(input)?,
        Plan::Project { exprs, .. } => exprs.len(),
        Plan::Join {
            kind,
            left_width,
            right_width,
            ..
        }
        | Plan::HashJoin {
            kind,
            left_width,
            right_width,
            ..
        }
        | Plan::IndexJoin {
            kind,
            left_width,
            right_width,
            ..
        }
        | Plan::MergeJoin {
            kind,
            left_width,
            right_width,
            ..
        } => {
            if matches!(kind, JoinKind::Semi | JoinKind::Anti) {
                *left_width
            } else {
                left_width + right_width
            }
        }
        Plan::Aggregate { group, aggs, .. } => group.len() + aggs.len(),
        Plan::Window { input, calls } => width(input)? + calls.len(),
        Plan::ProjectSet { input, calls } => width(input)? + calls.len(),
        _ => return None,
    })
}

/// The columns each table scan under `plan` must decode, by the scan
/// node's address (scans not listed decode every column).
pub fn scan_columns(plan: &Plan) -> HashMap<usize, Rc<Vec<bool>>> {
    let mut out = HashMap::new();
    walk(plan, Need::All, &mut out);
    out
}

/// What a join's parent reads, as columns of left ++ right: a semi or anti
/// join passes out only the left ones (the right ones are read by its
/// condition alone).
fn join_output(need: Need, kind: JoinKind, left_width: usize) -> Need {
    match (kind, need) {
        (JoinKind::Semi | JoinKind::Anti, Need::All) => Need::Some(vec![true; left_width]),
        (JoinKind::Semi | JoinKind::Anti, n) => n.slice(0, left_width),
        (_, n) => n,
    }
}

fn walk(p: &Plan, need: Need, out: &mut HashMap<usize, Rc<Vec<bool>>>) {
    match p {
        Plan::SeqScan { table, filter } | Plan::IndexScan { table, filter, .. } => {
            let mut n = need;
            if let Some(f) = filter {
                n.add_expr(f);
            }
            if let Plan::IndexScan { index, .. } = p {
                let ix = &table.indexes[*index];
                if !ix.exprs.is_empty() || ix.predicate.is_some() {
                    n = Need::All;
                }
                for &c in &ix.columns {
                    n.add(c);
                }
            }
            if let Need::Some(mut v) = n {
                v.resize(table.columns.len(), false);
                if v.iter().any(|b| !b) {
                    out.insert(p as *const Plan as usize, Rc::new(v));
                }
            }
        }
        Plan::Filter { input, pred } => {
            let mut n = need;
            n.add_expr(pred);
            walk(input, n, out);
        }
        Plan::Sort { input, keys } => {
            let mut n = need;
            for k in keys {
                n.add_expr(&k.expr);
            }
            walk(input, n, out);
        }
        Plan::Limit { input, .. } => walk(input, need, out),
        Plan::DistinctOn { input, cols } => {
            let mut n = need;
            for &c in cols {
                n.add(c);
            }
            walk(input, n, out);
        }
        Plan::Project { input, exprs } => {
            let mut n = Need::none();
            for (i, e) in exprs.iter().enumerate() {
                if need.has(i) {
                    n.add_expr(e);
                }
            }
            walk(input, n, out);
        }
        Plan::Aggregate {
            input, group, aggs, ..
        } => {
            let mut n = Need::none();
            for g in group {
                n.add_expr(g);
            }
            for a in aggs {
                a.args.iter().for_each(|e| n.add_expr(e));
                a.order.iter().for_each(|k| n.add_expr(&k.expr));
                if let Some(f) = &a.filter {
                    n.add_expr(f);
                }
            }
            walk(input, n, out);
        }
        Plan::Window { input, calls } => {
            let n = match width(input) {
                Some(w) => {
                    let mut n = need.slice(0, w);
                    for c in calls {
                        c.args.iter().for_each(|e| n.add_expr(e));
                        c.partition.iter().for_each(|e| n.add_expr(e));
                        c.order.iter().for_each(|k| n.add_expr(&k.expr));
                        if let Some(f) = c.agg.as_ref().and_then(|a| a.filter.as_ref()) {
                            n.add_expr(f);
                        }
                    }
                    n
                }
                None => Need::All,
            };
            walk(input, n, out);
        }
        Plan::ProjectSet { input, calls } => {
            let n = match width(input) {
                Some(w) => {
                    let mut n = need.slice(0, w);
                    for (_, args) in calls {
                        args.iter().for_each(|e| n.add_expr(e));
                    }
                    n
                }
                None => Need::All,
            };
            walk(input, n, out);
        }
        Plan::Join {
            left,
            right,
            kind,
            on,
            left_width,
            right_width,
        } => {
            let mut n = join_output(need, *kind, *left_width);
            if let Some(c) = on {
                n.add_expr(c);
            }
            walk(left, n.slice(0, *left_width), out);
            walk(right, n.slice(*left_width, *right_width), out);
        }
        Plan::HashJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width,
            right_width,
        }
        | Plan::MergeJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width,
            right_width,
        } => {
            let mut n = join_output(need, *kind, *left_width);
            if let Some(r) = residual {
                n.add_expr(r);
            }
            let mut l = n.slice(0, *left_width);
            let mut r = n.slice(*left_width, *right_width);
            for (lk, rk) in keys {
                l.add_expr(lk);
                r.add_expr(rk);
            }
            walk(left, l, out);
            walk(right, r, out);
        }
        Plan::IndexJoin {
            left,
            right,
            kind,
            residual,
            left_width,
            right_width,
        } => {
            let mut n = join_output(need, *kind, *left_width);
            if let Some(r) = residual {
                n.add_expr(r);
            }
            let mut l = n.slice(0, *left_width);
            // The probe's bounds read the left row.
            if let Plan::IndexScan { bounds, .. } = right.as_ref() {
                bounds.eq.iter().for_each(|e| l.add_expr(e));
            }
            walk(left, l, out);
            walk(right, n.slice(*left_width, *right_width), out);
        }
        // Everything else reads whole rows of its inputs (or has none).
        Plan::LateralJoin { left, right, .. } => {
            walk(left, Need::All, out);
            walk(right, Need::All, out);
        }
        Plan::Distinct { input } | Plan::WithTid { input } => walk(input, Need::All, out),
        Plan::Union { inputs, .. } => inputs.iter().for_each(|i| walk(i, Need::All, out)),
        Plan::SetOp { left, right, .. } => {
            walk(left, Need::All, out);
            walk(right, Need::All, out);
        }
        Plan::RecursiveUnion {
            base, recursive, ..
        } => {
            walk(base, Need::All, out);
            walk(recursive, Need::All, out);
        }
        Plan::LockRows { input, .. } | Plan::LockJoinRows { input, .. } => {
            walk(input, Need::All, out)
        }
        _ => {}
    }
}
