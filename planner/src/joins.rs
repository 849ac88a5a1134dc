//! Joins: WHERE conditions pushed down to the relations they filter, and
//! the order in which a FROM clause's inner joins run, chosen by estimated
//! cost (exhaustively for up to 10 relations, greedily beyond) so that no
//! intermediate result is larger than it needs to be.

use crate::bind::Binder;
use crate::cost::{column_distinct, plan_rows, DEFAULT_NUM_DISTINCT, DEFAULT_SEL};
use crate::plan::*;
use basalt_catalog::{DataType, TableDef};
use std::sync::Arc;

pub(crate) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        e => vec![e],
    }
}

/// An expression that does not depend on the row (literals, params, casts of them).
pub(crate) fn is_const(e: &Expr) -> bool {
    match e {
        Expr::Literal(_) | Expr::Param(_) | Expr::Outer { .. } => true,
        Expr::Cast(x, _) | Expr::Neg(x) => is_const(x),
        Expr::Binary(op, a, b) if !matches!(op, BinOp::And | BinOp::Or) => {
            is_const(a) && is_const(b)
        }
        Expr::Func(n, args) => n == "now" && args.is_empty(),
        _ => false,
    }
}

pub(crate) fn and_all(v: Vec<Expr>) -> Option<Expr> {
    v.into_iter()
        .reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b)))
}

/// Splits a WHERE clause over a join of `lw` + `rw` columns: conjuncts on
/// the left (except for a full join) or, for an inner join, the right alone
/// filter that input; the rest is returned to stay on the join.
pub(crate) fn push_into_join(
    b: &Binder<'_>,
    left: Plan,
    right: Plan,
    kind: JoinKind,
    pred: &Expr,
    lw: usize,
    rw: usize,
) -> (Plan, Plan, Vec<Expr>) {
    let (mut lp, mut rp, mut keep) = (Vec::new(), Vec::new(), Vec::new());
    for c in conjuncts(pred) {
        if kind != JoinKind::Full && refs_only(c, 0, lw) {
            lp.push(c.clone());
        } else if kind == JoinKind::Inner && refs_only(c, lw, lw + rw) {
            rp.push(shift(c, lw));
        } else {
            keep.push(c.clone());
        }
    }
    let left = match and_all(lp) {
        Some(p) => push_filter(b, left, p),
        None => left,
    };
    let right = match and_all(rp) {
        Some(p) => push_filter(b, right, p),
        None => right,
    };
    (left, right, keep)
}

/// Whether `p` gives its rows in ascending order (NULLs last) of `keys`:
/// an index scan whose leading columns they are, or a sort by them.
fn sorted_on(p: &Plan, keys: &[&Expr]) -> bool {
    match p {
        Plan::IndexScan {
            table,
            index,
            bounds,
            ..
        } => {
            let ix = &table.indexes[*index];
            // Equal leading columns leave the rest in order.
            let rest = &ix.columns[bounds.eq.len().min(ix.columns.len())..];
            ix.exprs.is_empty()
                && keys.len() <= rest.len()
                && keys
                    .iter()
                    .zip(rest)
                    .all(|(k, c)| matches!(k, Expr::Column(x) if x == c))
        }
        Plan::Sort { keys: sk, .. } => {
            keys.len() <= sk.len()
                && keys
                    .iter()
                    .zip(sk)
                    .all(|(k, s)| &&s.expr == k && !s.desc && !s.nulls_first)
        }
        Plan::Filter { input, .. } => sorted_on(input, keys),
        _ => false,
    }
}

/// `p` in ascending order of `keys`: as it is when it already comes so, a
/// table read through an index that leads with the keys, else sorted.
fn sort_on(p: Plan, keys: &[&Expr]) -> Plan {
    if sorted_on(&p, keys) {
        return p;
    }
    if let Plan::SeqScan { table, filter } = &p {
        let by_index = table.indexes.iter().position(|ix| {
            ix.predicate.is_none()
                && ix.exprs.is_empty()
                && keys.len() <= ix.columns.len()
                && keys
                    .iter()
                    .zip(&ix.columns)
                    .all(|(k, c)| matches!(k, Expr::Column(x) if x == c))
        });
        if let Some(index) = by_index {
            return Plan::IndexScan {
                table: table.clone(),
                index,
                bounds: IndexBounds {
                    eq: vec![],
                    lo: None,
                    hi: None,
                },
                filter: filter.clone(),
            };
        }
    }
    Plan::Sort {
        input: Box::new(p),
        keys: keys
            .iter()
            .map(|k| SortKey {
                expr: (*k).clone(),
                desc: false,
                nulls_first: false,
            })
            .collect(),
    }
}

/// Whether `j` is a hash join whose inputs both come in key order.
fn both_sorted(j: &Plan) -> bool {
    let Plan::HashJoin {
        left, right, keys, ..
    } = j
    else {
        return false;
    };
    let lk: Vec<&Expr> = keys.iter().map(|k| &k.0).collect();
    let rk: Vec<&Expr> = keys.iter().map(|k| &k.1).collect();
    sorted_on(left, &lk) && sorted_on(right, &rk)
}

/// A hash join as a merge join when both inputs already come in key order,
/// or when hash joins are switched off (sorting what is not in order);
/// other plans as they are.
pub(crate) fn merge_if_better(plan: Plan, hashjoin: bool) -> Plan {
    let Plan::HashJoin {
        left,
        right,
        kind,
        keys,
        residual,
        left_width,
        right_width,
    } = plan
    else {
        return plan;
    };
    let lk: Vec<&Expr> = keys.iter().map(|k| &k.0).collect();
    let rk: Vec<&Expr> = keys.iter().map(|k| &k.1).collect();
    let mergeable = matches!(kind, JoinKind::Inner | JoinKind::Left | JoinKind::Full);
    let sorted = sorted_on(&left, &lk) && sorted_on(&right, &rk);
    if !mergeable || (hashjoin && !sorted) {
        return Plan::HashJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width,
            right_width,
        };
    }
    let left = Box::new(sort_on(*left, &lk));
    let right = Box::new(sort_on(*right, &rk));
    Plan::MergeJoin {
        left,
        right,
        kind,
        keys,
        residual,
        left_width,
        right_width,
    }
}

/// The type of output column `c` of `p`, when it is a table's column
/// passed up unchanged.
fn column_type(p: &Plan, c: usize) -> Option<DataType> {
    match p {
        Plan::SeqScan { table, .. } | Plan::IndexScan { table, .. } => {
            table.columns.get(c).map(|x| x.ty)
        }
        Plan::Filter { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::LimitTies { input, .. } => column_type(input, c),
        Plan::Project { input, exprs } => match exprs.get(c)? {
            Expr::Column(i) => column_type(input, *i),
            _ => None,
        },
        Plan::Join {
            left,
            right,
            kind,
            left_width,
            ..
        }
        | Plan::HashJoin {
            left,
            right,
            kind,
            left_width,
            ..
        }
        | Plan::IndexJoin {
            left,
            right,
            kind,
            left_width,
            ..
        }
        | Plan::MergeJoin {
            left,
            right,
            kind,
            left_width,
            ..
        } => match (c < *left_width, kind) {
            (true, _) => column_type(left, c),
            (false, JoinKind::Semi | JoinKind::Anti) => None,
            (false, _) => column_type(right, c - left_width),
        },
        _ => None,
    }
}

/// A LEFT JOIN of `left` with a table, as an index nested loop when an
/// index of the table leads with a key column (equal, of the same type,
/// to a left column) and probing it once per left row costs less than
/// hashing the table; else the hash join it was.
fn left_index_join(
    b: &Binder<'_>,
    left: Plan,
    right: Plan,
    keys: Vec<(Expr, Expr)>,
    residual: Option<Expr>,
    lw: usize,
    rw: usize,
) -> Plan {
    let hash = |left: Plan, right: Plan, keys: Vec<(Expr, Expr)>, residual: Option<Expr>| {
        let j = Plan::HashJoin {
            left: Box::new(left),
            right: Box::new(right),
            kind: JoinKind::Left,
            keys,
            residual,
            left_width: lw,
            right_width: rw,
        };
        merge_if_better(j, b.flags.hashjoin)
    };
    let Plan::SeqScan {
        table,
        filter: None,
    } = &right
    else {
        return hash(left, right, keys, residual);
    };
    // (table column, left column) pairs usable as probe keys.
    let pairs: Vec<(usize, usize)> = keys
        .iter()
        .filter_map(|(l, r)| match (l, r) {
            (Expr::Column(lc), Expr::Column(rc))
                if column_type(&left, *lc).is_some()
                    && column_type(&left, *lc) == table.columns.get(*rc).map(|c| c.ty) =>
            {
                Some((*rc, *lc))
            }
            _ => None,
        })
        .collect();
    let mut best: Option<(usize, Vec<Expr>)> = None;
    for (ii, ix) in table.indexes.iter().enumerate() {
        if ix.predicate.is_some() || !ix.exprs.is_empty() {
            continue;
        }
        let eq: Vec<Expr> = ix
            .columns
            .iter()
            .map_while(|c| pairs.iter().find(|p| p.0 == *c).map(|p| Expr::Column(p.1)))
            .collect();
        if !eq.is_empty() && best.as_ref().is_none_or(|b| eq.len() > b.1.len()) {
            best = Some((ii, eq));
        }
    }
    let Some((index, eq)) = best else {
        return hash(left, right, keys, residual);
    };
    let all = b.est.table_rows(table);
    let first = table.indexes[index].columns[0];
    let fanout = all / column_distinct(b.est, table, first, all);
    let outer = plan_rows(b.est, &left);
    let probing = outer * (PROBE_COST + fanout * FETCH_COST);
    let hashing = all * 2.0 + outer;
    let prefer = !b.flags.hashjoin || !b.flags.seqscan;
    if !b.flags.nestloop || (probing >= hashing && !prefer) {
        return hash(left, right, keys, residual);
    }
    // Every key is checked again on the joined row, with the rest.
    let mut on: Vec<Expr> = keys
        .into_iter()
        .map(|(l, mut r)| {
            r.visit_mut(&mut |x| {
                if let Expr::Column(c) = x {
                    *c += lw;
                }
            });
            Expr::Binary(BinOp::Eq, Box::new(l), Box::new(r))
        })
        .collect();
    // Conditions on the table's columns alone filter its rows.
    let mut own = Vec::new();
    for c in residual.iter().flat_map(conjuncts) {
        if refs_only(c, lw, lw + rw) && !has_correlated_subquery(c) {
            own.push(shift(c, lw));
        } else {
            on.push(c.clone());
        }
    }
    Plan::IndexJoin {
        left: Box::new(left),
        right: Box::new(Plan::IndexScan {
            table: table.clone(),
            index,
            bounds: IndexBounds {
                eq,
                lo: None,
                hi: None,
            },
            filter: and_all(own),
        }),
        kind: JoinKind::Left,
        residual: and_all(on),
        left_width: lw,
        right_width: rw,
    }
}

/// A filter above `input`, if there is anything to filter by.
pub(crate) fn filter_over(input: Plan, preds: Vec<Expr>) -> Plan {
    match and_all(preds) {
        Some(pred) => Plan::Filter {
            input: Box::new(input),
            pred,
        },
        None => input,
    }
}

pub(crate) fn push_filter(b: &Binder<'_>, plan: Plan, pred: Expr) -> Plan {
    match plan {
        // WHERE over joins: conjuncts on one side filter that side's input
        // (so its scan can use an index), equalities between the sides make
        // a hash join, and the rest stays on the join.
        Plan::Join {
            left,
            right,
            kind,
            on,
            left_width: lw,
            right_width: rw,
        } => {
            let (left, right, keep) = push_into_join(b, *left, *right, kind, &pred, lw, rw);
            if kind == JoinKind::Inner {
                let mut all: Vec<Expr> = on
                    .iter()
                    .flat_map(|o| conjuncts(o).into_iter().cloned())
                    .collect();
                all.extend(keep);
                make_join(left, right, kind, and_all(all), lw, rw)
            } else {
                filter_over(make_join(left, right, kind, on, lw, rw), keep)
            }
        }
        Plan::HashJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width: lw,
            right_width: rw,
        } => {
            let (left, right, keep) = push_into_join(b, *left, *right, kind, &pred, lw, rw);
            if kind == JoinKind::Left {
                // The WHERE may have left few outer rows: probe by index.
                let j = left_index_join(b, left, right, keys, residual, lw, rw);
                return filter_over(j, keep);
            }
            if kind == JoinKind::Inner {
                let mut res: Vec<Expr> = residual.iter().cloned().collect();
                res.extend(keep);
                Plan::HashJoin {
                    left: Box::new(left),
                    right: Box::new(right),
                    kind,
                    keys,
                    residual: and_all(res),
                    left_width: lw,
                    right_width: rw,
                }
            } else {
                let j = Plan::HashJoin {
                    left: Box::new(left),
                    right: Box::new(right),
                    kind,
                    keys,
                    residual,
                    left_width: lw,
                    right_width: rw,
                };
                filter_over(j, keep)
            }
        }
        Plan::MergeJoin {
            left,
            right,
            kind,
            keys,
            residual,
            left_width: lw,
            right_width: rw,
        } => {
            let (left, right, keep) = push_into_join(b, *left, *right, kind, &pred, lw, rw);
            let inner = kind == JoinKind::Inner;
            let mut res: Vec<Expr> = residual.into_iter().collect();
            if inner {
                res.extend(keep.iter().cloned());
            }
            let j = Plan::MergeJoin {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                keys,
                residual: and_all(res),
                left_width: lw,
                right_width: rw,
            };
            if inner {
                j
            } else {
                filter_over(j, keep)
            }
        }
        // Through a projection that only reorders columns (join order).
        Plan::Project { input, exprs }
            if exprs.iter().all(|e| matches!(e, Expr::Column(_)))
                && !has_correlated_subquery(&pred) =>
        {
            let mut pred = pred;
            pred.visit_mut(&mut |x| {
                if let Expr::Column(c) = x {
                    *x = exprs[*c].clone();
                }
            });
            Plan::Project {
                input: Box::new(push_filter(b, *input, pred)),
                exprs,
            }
        }
        Plan::SeqScan {
            table,
            filter: None,
        } => b.access_path(&table, Some(pred)),
        Plan::System { name, filter: None } => Plan::System {
            name,
            filter: Some(pred),
        },
        p => Plan::Filter {
            input: Box::new(p),
            pred,
        },
    }
}

pub(crate) fn refs_only(e: &Expr, lo: usize, hi: usize) -> bool {
    let mut ok = true;
    e.clone().visit_mut(&mut |x| match x {
        Expr::Column(c) if *c < lo || *c >= hi => ok = false,
        // A subquery may refer to any column of the row it is evaluated on.
        Expr::Subquery(_) | Expr::Exists(..) | Expr::InSubquery(..) => ok = false,
        _ => {}
    });
    ok
}

pub(crate) fn shift(e: &Expr, by: usize) -> Expr {
    let mut e = e.clone();
    e.visit_mut(&mut |x| {
        if let Expr::Column(c) = x {
            *c -= by;
        }
    });
    e
}

/// A join, as a hash join when the ON clause has equalities between the sides.
pub(crate) fn make_join(
    left: Plan,
    right: Plan,
    kind: JoinKind,
    on: Option<Expr>,
    lw: usize,
    rw: usize,
) -> Plan {
    if let Some(on) = &on {
        let mut keys = Vec::new();
        let mut rest = Vec::new();
        for c in conjuncts(on) {
            if let Expr::Binary(BinOp::Eq, a, b) = c {
                if refs_only(a, 0, lw) && refs_only(b, lw, lw + rw) && !is_const(a) && !is_const(b)
                {
                    keys.push(((**a).clone(), shift(b, lw)));
                    continue;
                }
                if refs_only(b, 0, lw) && refs_only(a, lw, lw + rw) && !is_const(a) && !is_const(b)
                {
                    keys.push(((**b).clone(), shift(a, lw)));
                    continue;
                }
            }
            rest.push(c.clone());
        }
        if !keys.is_empty() {
            let residual = rest
                .into_iter()
                .reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b)));
            return Plan::HashJoin {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                keys,
                residual,
                left_width: lw,
                right_width: rw,
            };
        }
    }
    Plan::Join {
        left: Box::new(left),
        right: Box::new(right),
        kind,
        on,
        left_width: lw,
        right_width: rw,
    }
}

/// The branches of an OR (nested ORs flattened).
fn disjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary(BinOp::Or, a, b) => {
            let mut v = disjuncts(a);
            v.extend(disjuncts(b));
            v
        }
        e => vec![e],
    }
}

/// `(A AND B) OR (A AND C)` → `A`, `B OR C`: conditions common to every
/// branch of an OR move out of it, so a join condition repeated in each
/// branch can drive a hash join.
fn factor_or(e: Expr) -> Vec<Expr> {
    if !matches!(e, Expr::Binary(BinOp::Or, ..)) {
        return vec![e];
    }
    let branches: Vec<Vec<&Expr>> = disjuncts(&e).into_iter().map(conjuncts).collect();
    let common: Vec<Expr> = branches[0]
        .iter()
        .filter(|c| branches[1..].iter().all(|b| b.contains(c)))
        .map(|c| (*c).clone())
        .collect();
    if common.is_empty() {
        return vec![e];
    }
    let mut rest = Vec::new();
    for b in &branches {
        match and_all(
            b.iter()
                .filter(|c| !common.contains(c))
                .map(|c| (*c).clone())
                .collect(),
        ) {
            Some(x) => rest.push(x),
            // A branch that is only the common part: the OR is true.
            None => return common,
        }
    }
    let mut out = common;
    out.push(
        rest.into_iter()
            .reduce(|a, b| Expr::Binary(BinOp::Or, Box::new(a), Box::new(b)))
            .expect("an OR has branches"),
    );
    out
}

/// Whether an expression runs a subquery that reads the row it is
/// evaluated on (an uncorrelated one reads nothing of it, so the
/// expression may move to wherever its own columns are).
pub(crate) fn has_correlated_subquery(e: &Expr) -> bool {
    let mut found = false;
    e.clone().visit_mut(&mut |x| match x {
        Expr::Subquery(p)
        | Expr::ArraySubquery(p)
        | Expr::Exists(p, _)
        | Expr::InSubquery(_, p, _) => {
            if p.is_correlated() {
                found = true;
            }
        }
        _ => {}
    });
    found
}

/// The relations of a FROM clause that are joined by inner joins (or
/// commas), in the order written, and the ON conditions between them over
/// their columns side by side.
pub(crate) struct FromRels {
    /// Each relation's plan and its width (columns).
    pub rels: Vec<(Plan, usize)>,
    pub preds: Vec<Expr>,
}

impl FromRels {
    pub fn one(plan: Plan, width: usize) -> FromRels {
        FromRels {
            rels: vec![(plan, width)],
            preds: vec![],
        }
    }

    /// The relations of `other` joined after these; its conditions'
    /// columns move past this side's.
    pub fn append(&mut self, other: FromRels) {
        let by: usize = self.rels.iter().map(|r| r.1).sum();
        self.rels.extend(other.rels);
        self.preds.extend(other.preds.into_iter().map(|p| {
            let mut p = p;
            p.visit_mut(&mut |x| {
                if let Expr::Column(c) = x {
                    *c += by;
                }
            });
            p
        }));
    }
}

/// A join order: a relation, or two sub-orders joined (the right one is
/// the hash join's build side, or the nested loop's inner side).
#[derive(Clone)]
enum Tree {
    Leaf(usize),
    /// The right side is the hash join's build side, or, with `index`, a
    /// relation whose index is probed once per left row.
    Join(Box<Tree>, Box<Tree>, bool),
}

/// A relation an index nested loop can probe: an equality between one of
/// its table's columns that leads an index and a column of another
/// relation (of the same type).
struct Probe {
    /// The other relation.
    other: Mask,
    /// Rows of the table per key value.
    fanout: f64,
}

/// Cost of one probe of an index (a descent of the tree), in the units of
/// one row scanned or hashed.
const PROBE_COST: f64 = 8.0;
/// Cost of each row a probe fetches from the heap (scattered reads).
const FETCH_COST: f64 = 2.0;
/// What a switched-off method costs (PostgreSQL's disable_cost): chosen
/// only when nothing else can do the work.
const DISABLE_COST: f64 = 1.0e10;

type Mask = u128;

/// A condition joining two or more relations.
struct JoinPred {
    mask: Mask,
    expr: Expr,
    sel: f64,
    /// An equality whose sides come from different relations: a hash key.
    equi: bool,
}

struct Orderer {
    rows: Vec<f64>,
    preds: Vec<JoinPred>,
    /// Rows each relation's scan reads (before its filter).
    scan: Vec<f64>,
    /// How each relation can be probed by index.
    probes: Vec<Vec<Probe>>,
    /// Added to a hash join's cost when hash joins are switched off.
    hash_penalty: f64,
}

impl Orderer {
    /// Rows of the join of the relations in `m`.
    fn rows(&self, m: Mask) -> f64 {
        let mut r: f64 = (0..self.rows.len())
            .filter(|i| m & (1 << i) != 0)
            .map(|i| self.rows[i])
            .product();
        for p in &self.preds {
            if p.mask & m == p.mask {
                r *= p.sel;
            }
        }
        r.max(1.0)
    }

    fn connected(&self, a: Mask, b: Mask) -> (bool, bool) {
        let (mut any, mut equi) = (false, false);
        for p in &self.preds {
            if p.mask & (a | b) == p.mask && p.mask & a != 0 && p.mask & b != 0 {
                any = true;
                equi |= p.equi;
            }
        }
        (any, equi)
    }

    /// The cost of joining `a` (cost `ca`) and `b` (cost `cb`, its scan
    /// included), which goes on the right (built or materialized): the
    /// smaller one, and whether `b`, a single relation, is better probed by
    /// index once per row of `a` (then it is on the right, and not
    /// scanned).
    fn join_cost(&self, a: Mask, ca: f64, b: Mask, cb: f64) -> (f64, bool, bool) {
        let (ra, rb) = (self.rows(a), self.rows(b));
        let out = self.rows(a | b);
        let (_, equi) = self.connected(a, b);
        let (build, probe) = if rb <= ra { (rb, ra) } else { (ra, rb) };
        let work = if equi {
            build * 2.0 + probe
        } else {
            build * probe
        };
        let hash = ca + cb + work + out + self.hash_penalty;
        if b.count_ones() == 1 {
            let r = b.trailing_zeros() as usize;
            let best = self.probes[r]
                .iter()
                .filter(|p| p.other & a == p.other)
                .map(|p| p.fanout)
                .min_by(f64::total_cmp);
            if let Some(fanout) = best {
                let index = ca + ra * (PROBE_COST + fanout * FETCH_COST) + out;
                if index < hash {
                    return (index, true, true);
                }
            }
        }
        (hash, rb <= ra, false)
    }

    /// The cheapest left-deep order over all subsets (n ≤ 10).
    fn exhaustive(&self) -> Tree {
        let n = self.rows.len();
        let full: Mask = (1 << n) - 1;
        let mut best: Vec<Option<(f64, Tree)>> = vec![None; 1 << n];
        for i in 0..n {
            best[1 << i] = Some((self.scan[i], Tree::Leaf(i)));
        }
        for s in 1..=full {
            let Some((cs, ts)) = best[s as usize].clone() else {
                continue;
            };
            if s == full {
                break;
            }
            // Join a connected relation if there is one; a cross product
            // only when nothing connects.
            let outside: Vec<usize> = (0..n).filter(|i| s & (1 << i) == 0).collect();
            let linked: Vec<usize> = outside
                .iter()
                .copied()
                .filter(|&i| self.connected(s, 1 << i).0)
                .collect();
            let cands = if linked.is_empty() { outside } else { linked };
            for r in cands {
                let m = s | (1 << r);
                let (c, right_is_r, index) = self.join_cost(s, cs, 1 << r, self.scan[r]);
                if best[m as usize].as_ref().is_none_or(|b| c < b.0) {
                    let leaf = Box::new(Tree::Leaf(r));
                    let t = if right_is_r {
                        Tree::Join(Box::new(ts.clone()), leaf, index)
                    } else {
                        Tree::Join(leaf, Box::new(ts.clone()), false)
                    };
                    best[m as usize] = Some((c, t));
                }
            }
        }
        best[full as usize]
            .take()
            .expect("every subset is reachable")
            .1
    }

    /// Greedy: start from the smallest relation, then add the relation
    /// that keeps the result smallest, preferring connected ones.
    fn greedy(&self) -> Tree {
        let n = self.rows.len();
        let first = (0..n)
            .min_by(|&a, &b| self.rows[a].total_cmp(&self.rows[b]))
            .expect("at least one relation");
        let mut s: Mask = 1 << first;
        let mut tree = Tree::Leaf(first);
        let mut cost = self.scan[first];
        while s.count_ones() as usize != n {
            let outside: Vec<usize> = (0..n).filter(|i| s & (1 << i) == 0).collect();
            let linked: Vec<usize> = outside
                .iter()
                .copied()
                .filter(|&i| self.connected(s, 1 << i).0)
                .collect();
            let cands = if linked.is_empty() { outside } else { linked };
            let (r, c, (right_is_r, index)) = cands
                .into_iter()
                .map(|r| {
                    let (c, o, ix) = self.join_cost(s, cost, 1 << r, self.scan[r]);
                    (r, c, (o, ix))
                })
                .min_by(|a, b| {
                    self.rows(s | (1 << a.0))
                        .total_cmp(&self.rows(s | (1 << b.0)))
                        .then(a.1.total_cmp(&b.1))
                })
                .expect("a relation is left");
            let leaf = Box::new(Tree::Leaf(r));
            tree = if right_is_r {
                Tree::Join(Box::new(tree), leaf, index)
            } else {
                Tree::Join(leaf, Box::new(tree), false)
            };
            s |= 1 << r;
            cost = c;
        }
        tree
    }
}

/// Joins the relations of a FROM clause under the conjuncts `extra` (a
/// WHERE clause over the same columns): conditions on one relation filter
/// it, conditions across relations join them in the cheapest order found,
/// and the result has the columns in the order written. `sources` names
/// each column's table column, for its distinct values.
pub(crate) fn join_rels(
    b: &Binder<'_>,
    from: FromRels,
    sources: &[Option<(u32, i16)>],
    extra: Option<Expr>,
) -> Plan {
    let FromRels { rels, preds } = from;
    let mut all = preds;
    if let Some(e) = &extra {
        all.extend(conjuncts(e).into_iter().cloned());
    }
    let n = rels.len();
    if n > 128 {
        // Beyond what a mask holds: the written order.
        let mut it = rels.into_iter();
        let (mut plan, mut w) = it.next().expect("FROM has a relation");
        for (p, rw) in it {
            plan = make_join(plan, p, JoinKind::Inner, None, w, rw);
            w += rw;
        }
        return match and_all(all) {
            Some(p) => push_filter(b, plan, p),
            None => plan,
        };
    }
    let mut start = Vec::with_capacity(n);
    let mut acc = 0;
    for r in &rels {
        start.push(acc);
        acc += r.1;
    }
    let rel_of = |c: usize| start.partition_point(|&s| s <= c) - 1;
    let mask_of = |e: &Expr| -> Option<Mask> {
        if has_correlated_subquery(e) {
            return None;
        }
        let mut m: Mask = 0;
        e.clone().visit_mut(&mut |x| {
            if let Expr::Column(c) = x {
                m |= 1 << rel_of(*c);
            }
        });
        Some(m)
    };
    let all: Vec<Expr> = all.into_iter().flat_map(factor_or).collect();
    let mut local: Vec<Vec<Expr>> = vec![Vec::new(); n];
    let mut joining = Vec::new();
    let mut top = Vec::new();
    for c in all {
        match mask_of(&c) {
            Some(m) if m.count_ones() == 1 => {
                let i = m.trailing_zeros() as usize;
                local[i].push(shift(&c, start[i]));
            }
            Some(m) if m != 0 => {
                // An OR across relations still restricts each relation
                // that every branch restricts (PostgreSQL's
                // extract_restriction_or_clauses).
                if let Expr::Binary(BinOp::Or, ..) = &c {
                    let branches = disjuncts(&c);
                    for (i, l) in local.iter_mut().enumerate() {
                        if m & (1 << i) == 0 {
                            continue;
                        }
                        let own: Option<Vec<Expr>> = branches
                            .iter()
                            .map(|d| {
                                and_all(
                                    conjuncts(d)
                                        .into_iter()
                                        .filter(|x| mask_of(x) == Some(1 << i))
                                        .cloned()
                                        .collect(),
                                )
                            })
                            .collect();
                        if let Some(own) = own {
                            let or = own
                                .into_iter()
                                .reduce(|a, b| Expr::Binary(BinOp::Or, Box::new(a), Box::new(b)))
                                .expect("an OR has branches");
                            l.push(shift(&or, start[i]));
                        }
                    }
                }
                joining.push((m, c))
            }
            _ => top.push(c),
        }
    }
    if n == 1 {
        let (p, _) = rels.into_iter().next().expect("one relation");
        let p = match and_all(local.pop().expect("one relation")) {
            Some(f) => push_filter(b, p, f),
            None => p,
        };
        return filter_over(p, top);
    }
    let mut plans: Vec<Option<Plan>> = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    let mut bases = Vec::with_capacity(n);
    let mut scan = Vec::with_capacity(n);
    let widths: Vec<usize> = rels.iter().map(|r| r.1).collect();
    for ((p, _), l) in rels.into_iter().zip(local) {
        // A table (with its own conditions) can be probed by index instead.
        let base = match &p {
            Plan::SeqScan {
                table,
                filter: None,
            } => Some((table.clone(), and_all(l.clone()))),
            _ => None,
        };
        let p = match and_all(l) {
            Some(f) => push_filter(b, p, f),
            None => p,
        };
        rows.push(plan_rows(b.est, &p));
        scan.push(match &base {
            // A table read whole: the cost of switched-off sequential
            // scans (an index probe avoids it).
            Some((t, _)) if !b.flags.seqscan && matches!(p, Plan::SeqScan { .. }) => {
                b.est.table_rows(t) + DISABLE_COST
            }
            Some((t, _)) => b.est.table_rows(t),
            None => plan_rows(b.est, &p),
        });
        bases.push(base);
        plans.push(Some(p));
    }
    // Each written column's type, when it is a table's column.
    let types: Vec<Option<DataType>> = (0..sources.len().max(start[n - 1] + widths[n - 1]))
        .map(|c| {
            let (oid, att) = sources.get(c).copied().flatten()?;
            let t = b.schema.table_by_oid(oid)?;
            Some(t.columns.get((att as usize).checked_sub(1)?)?.ty)
        })
        .collect();
    // Distinct values of a column, for an equality's selectivity.
    let distinct = |c: usize| -> f64 {
        let r = rows[rel_of(c)];
        match sources.get(c).copied().flatten() {
            Some((oid, attnum)) if attnum > 0 => match b.schema.table_by_oid(oid) {
                Some(t) => column_distinct(b.est, t, attnum as usize - 1, r),
                None => r.min(DEFAULT_NUM_DISTINCT),
            },
            _ => r.min(DEFAULT_NUM_DISTINCT),
        }
    };
    let preds: Vec<JoinPred> = joining
        .into_iter()
        .map(|(mask, expr)| {
            let (sel, equi) = match &expr {
                Expr::Binary(BinOp::Eq, l, r) => {
                    let (ml, mr) = (mask_of(l).unwrap_or(0), mask_of(r).unwrap_or(0));
                    let equi = ml != 0 && mr != 0 && ml & mr == 0;
                    let nd = |e: &Expr| match e {
                        Expr::Column(c) => distinct(*c),
                        _ => DEFAULT_NUM_DISTINCT,
                    };
                    (1.0 / nd(l).max(nd(r)), equi)
                }
                _ => (DEFAULT_SEL, false),
            };
            JoinPred {
                mask,
                expr,
                sel,
                equi,
            }
        })
        .collect();
    let mut probes: Vec<Vec<Probe>> = (0..n).map(|_| Vec::new()).collect();
    for p in &preds {
        let Expr::Binary(BinOp::Eq, x, y) = &p.expr else {
            continue;
        };
        for (mine, theirs) in [(x, y), (y, x)] {
            let (Expr::Column(mc), Expr::Column(tc)) = (&**mine, &**theirs) else {
                continue;
            };
            let r = rel_of(*mc);
            let Some((table, _)) = &bases[r] else {
                continue;
            };
            let col = mc - start[r];
            if rel_of(*tc) == r
                || types.get(*tc).copied().flatten() != Some(table.columns[col].ty)
                || index_led_by(table, col).is_none()
            {
                continue;
            }
            let all = b.est.table_rows(table);
            probes[r].push(Probe {
                other: 1 << rel_of(*tc),
                fanout: all / column_distinct(b.est, table, col, all),
            });
        }
    }
    if !b.flags.nestloop {
        probes.iter_mut().for_each(Vec::clear);
    }
    let ord = Orderer {
        rows,
        preds,
        scan,
        probes,
        hash_penalty: if b.flags.hashjoin { 0.0 } else { DISABLE_COST },
    };
    let tree = if n <= 10 {
        ord.exhaustive()
    } else {
        ord.greedy()
    };
    let mut bt = BuildTree {
        plans,
        bases,
        widths: &widths,
        start: &start,
        preds: &ord.preds,
        types: &types,
        hashjoin: b.flags.hashjoin,
    };
    let (plan, layout, _) = bt.build(&tree);
    let total: usize = widths.iter().sum();
    // Each written column's position in the joined row.
    let mut pos = vec![0; total];
    let mut at = 0;
    for &r in &layout {
        for k in 0..widths[r] {
            pos[start[r] + k] = at + k;
        }
        at += widths[r];
    }
    let plan = if pos.iter().enumerate().all(|(i, &p)| i == p) {
        plan
    } else {
        Plan::Project {
            input: Box::new(plan),
            exprs: pos.into_iter().map(Expr::Column).collect(),
        }
    };
    filter_over(plan, top)
}

/// The first index of `table` whose leading key is column `col` (not
/// partial, not an expression index).
fn index_led_by(table: &TableDef, col: usize) -> Option<usize> {
    table.indexes.iter().position(|ix| {
        ix.predicate.is_none() && ix.exprs.is_empty() && ix.columns.first() == Some(&col)
    })
}

/// What turns a join order into a plan.
struct BuildTree<'a> {
    plans: Vec<Option<Plan>>,
    /// The relations that are tables, with their own conditions.
    bases: Vec<Option<(Arc<TableDef>, Option<Expr>)>>,
    widths: &'a [usize],
    start: &'a [usize],
    preds: &'a [JoinPred],
    types: &'a [Option<DataType>],
    hashjoin: bool,
}

impl BuildTree<'_> {
    /// The plan of a join order: its relations' layout (in output order)
    /// and their mask.
    fn build(&mut self, t: &Tree) -> (Plan, Vec<usize>, Mask) {
        match t {
            Tree::Leaf(i) => (
                self.plans[*i].take().expect("each relation once"),
                vec![*i],
                1 << i,
            ),
            Tree::Join(l, r, index) => {
                let (lp, mut layout, lm) = self.build(l);
                let probed = match (index, r.as_ref()) {
                    (true, Tree::Leaf(i)) => Some(*i),
                    _ => None,
                };
                let (rp, rl, rm) = match probed {
                    Some(i) => (Plan::Single, vec![i], 1 << i),
                    None => self.build(r),
                };
                let widths = self.widths;
                let lw: usize = layout.iter().map(|&i| widths[i]).sum();
                let rw: usize = rl.iter().map(|&i| widths[i]).sum();
                layout.extend(rl);
                // Written column → position in this join's row.
                let mut at = 0;
                let mut place = std::collections::HashMap::new();
                for &rel in &layout {
                    for k in 0..widths[rel] {
                        place.insert(self.start[rel] + k, at + k);
                    }
                    at += widths[rel];
                }
                let m = lm | rm;
                let on: Vec<Expr> = self
                    .preds
                    .iter()
                    .filter(|p| {
                        p.mask & m == p.mask && p.mask & lm != p.mask && p.mask & rm != p.mask
                    })
                    .map(|p| {
                        let mut e = p.expr.clone();
                        e.visit_mut(&mut |x| {
                            if let Expr::Column(c) = x {
                                *c = place[c];
                            }
                        });
                        e
                    })
                    .collect();
                if let Some(i) = probed {
                    // Both sides already in key order: merging them costs
                    // less than probing.
                    if let Some(rp) = self.plans[i].as_ref() {
                        let j = make_join(
                            lp.clone(),
                            rp.clone(),
                            JoinKind::Inner,
                            and_all(on.clone()),
                            lw,
                            rw,
                        );
                        if both_sorted(&j) {
                            self.plans[i] = None;
                            return (merge_if_better(j, true), layout, m);
                        }
                    }
                    let lp = match self.index_join(i, lp, &layout[..layout.len() - 1], &on) {
                        Ok(j) => return (j, layout, m),
                        Err(lp) => lp,
                    };
                    // No usable index after all: scan it.
                    let rp = self.plans[i].take().expect("each relation once");
                    let j = make_join(lp, rp, JoinKind::Inner, and_all(on), lw, rw);
                    return (merge_if_better(j, self.hashjoin), layout, m);
                }
                let j = make_join(lp, rp, JoinKind::Inner, and_all(on), lw, rw);
                (merge_if_better(j, self.hashjoin), layout, m)
            }
        }
    }

    /// Relation `r` probed by index once per row of `left` (whose
    /// relations are `left_rels`) under the join conditions `on` (over the
    /// joined row): by the index whose leading columns the equalities with
    /// left columns of the same type cover most. Every condition is checked
    /// again on the joined row. `left` back when no index serves.
    fn index_join(
        &mut self,
        r: usize,
        left: Plan,
        left_rels: &[usize],
        on: &[Expr],
    ) -> std::result::Result<Plan, Plan> {
        let Some((table, filter)) = self.bases[r].clone() else {
            return Err(left);
        };
        let lw: usize = left_rels.iter().map(|&i| self.widths[i]).sum();
        let rw = self.widths[r];
        // The type of each left position's column, when known.
        let mut left_types = Vec::with_capacity(lw);
        for &rel in left_rels {
            for k in 0..self.widths[rel] {
                left_types.push(self.types.get(self.start[rel] + k).copied().flatten());
            }
        }
        // (table column, the left position it equals).
        let mut keys: Vec<(usize, usize)> = Vec::new();
        for c in on {
            let Expr::Binary(BinOp::Eq, x, y) = c else {
                continue;
            };
            for (mine, theirs) in [(x, y), (y, x)] {
                if let (Expr::Column(mc), Expr::Column(tc)) = (&**mine, &**theirs) {
                    if (lw..lw + rw).contains(mc)
                        && *tc < lw
                        && left_types[*tc] == Some(table.columns[mc - lw].ty)
                    {
                        keys.push((mc - lw, *tc));
                    }
                }
            }
        }
        let mut best: Option<(usize, Vec<Expr>, bool)> = None;
        for (ii, ix) in table.indexes.iter().enumerate() {
            if ix.predicate.is_some() || !ix.exprs.is_empty() {
                continue;
            }
            let mut eq = Vec::new();
            for &col in &ix.columns {
                match keys.iter().find(|k| k.0 == col) {
                    Some(&(_, at)) => eq.push(Expr::Column(at)),
                    None => break,
                }
            }
            let full = ix.unique && eq.len() == ix.columns.len();
            let better = match &best {
                None => !eq.is_empty(),
                Some((_, e, f)) => (full && !f) || (full == *f && eq.len() > e.len()),
            };
            if better {
                best = Some((ii, eq, full));
            }
        }
        let Some((index, eq, _)) = best else {
            return Err(left);
        };
        // The scan it replaces is not needed.
        self.plans[r] = None;
        Ok(Plan::IndexJoin {
            left: Box::new(left),
            right: Box::new(Plan::IndexScan {
                table,
                index,
                bounds: IndexBounds {
                    eq,
                    lo: None,
                    hi: None,
                },
                filter,
            }),
            kind: JoinKind::Inner,
            residual: and_all(on.to_vec()),
            left_width: lw,
            right_width: rw,
        })
    }
}
