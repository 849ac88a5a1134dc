//! EXPLAIN [ANALYZE]: the plan tree in PostgreSQL's text layout, with row
//! estimates from ANALYZE's statistics (pg_stats) or, for a table never
//! analyzed, from its live-row count, and PostgreSQL's default selectivities
//! where statistics say nothing. Costs follow PostgreSQL's unit costs
//! (seq_page_cost 1, random_page_cost 4, cpu_tuple_cost 0.01,
//! cpu_operator_cost 0.0025) over these estimates; the planner does not
//! choose plans by them yet.

use crate::analyze::TableStatistics;
use crate::error::Result;
use crate::exec::NodeStats;
use crate::session::{ExecResult, Session};
use basalt_catalog::{DataType, TableDef, Value};
use basalt_planner::{AggFunc, BinOp, Expr, Field, JoinKind, Plan, Statement};
use std::collections::HashMap;
use std::sync::Arc;

use crate::selectivity::{
    conjuncts, expr_text, n_distinct, row_width, scanned_table, selectivity, table_rows,
    DEFAULT_INEQ_SEL,
};
const CPU_TUPLE: f64 = 0.01;
const CPU_OP: f64 = 0.0025;

/// One node's estimate: rows out, row width, total cost.
#[derive(Clone, Copy)]
struct Est {
    rows: f64,
    width: f64,
    cost: f64,
}

struct Explainer<'a> {
    s: &'a Session,
    lines: Vec<String>,
    /// EXPLAIN ANALYZE: what each node did, by the address of its plan.
    actual: Option<HashMap<usize, NodeStats>>,
    /// The outer row's column names while the inner index scan of an index
    /// nested loop is shown (its bounds read that row).
    probe_cols: Option<Vec<String>>,
    /// The columns each scan decodes (as the executor works them out),
    /// which tells an index-only scan.
    scan_cols: HashMap<usize, std::rc::Rc<Vec<bool>>>,
    /// An index-only scan's heap fetches, to print after its filter.
    heap_fetches: Option<(usize, u64)>,
}

impl Explainer<'_> {
    fn table_rows(&self, t: &TableDef) -> (f64, f64, Option<Arc<TableStatistics>>) {
        table_rows(&self.s.db, t)
    }

    fn row_width(&self, t: &TableDef, stats: Option<&TableStatistics>) -> f64 {
        row_width(t, stats)
    }

    fn line(&mut self, depth: usize, head: &str, e: Est) -> usize {
        let prefix = if depth == 0 {
            String::new()
        } else {
            format!("{}->  ", " ".repeat(depth * 6 - 4))
        };
        self.lines.push(format!(
            "{prefix}{head}  (cost=0.00..{:.2} rows={} width={})",
            e.cost,
            e.rows.max(1.0).round() as u64,
            e.width.round() as u64
        ));
        self.lines.len() - 1
    }

    /// A node's line before its inputs are rendered; `relabel` fills in its
    /// estimate afterwards.
    fn open(&mut self, depth: usize, head: &str) -> usize {
        self.line(
            depth,
            head,
            Est {
                rows: 0.0,
                width: 0.0,
                cost: 0.0,
            },
        )
    }

    fn detail(&mut self, depth: usize, text: String) {
        let pad = if depth == 0 { 2 } else { depth * 6 + 2 };
        self.lines.push(format!("{}{text}", " ".repeat(pad)));
    }

    /// Renders `plan` at `depth` (with what it did, under ANALYZE);
    /// returns its estimate and output columns.
    fn node(&mut self, plan: &Plan, depth: usize) -> (Est, Vec<String>) {
        let at = self.lines.len();
        let r = self.node_lines(plan, depth);
        // A node without a line of its own (a projection) leaves its
        // input's figures.
        if let (Some(actual), Some(line)) = (&self.actual, self.lines.get_mut(at)) {
            if !line.contains("(actual") {
                match actual.get(&(plan as *const Plan as usize)) {
                    Some(a) if a.loops > 0 => {
                        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0 / a.loops as f64;
                        line.push_str(&format!(
                            " (actual time={:.3}..{:.3} rows={} loops={})",
                            a.first.map_or(0.0, ms),
                            ms(a.total.max(a.first.unwrap_or_default())),
                            a.rows / a.loops,
                            a.loops
                        ));
                    }
                    _ => line.push_str(" (never executed)"),
                }
            }
        }
        r
    }

    fn node_lines(&mut self, plan: &Plan, depth: usize) -> (Est, Vec<String>) {
        match plan {
            Plan::SeqScan { table, filter } => {
                let (rows, pages, stats) = self.table_rows(table);
                let sel = filter
                    .as_ref()
                    .map(|f| selectivity(f, table, stats.as_deref(), rows))
                    .unwrap_or(1.0);
                let e = Est {
                    rows: rows * sel,
                    width: self.row_width(table, stats.as_deref()),
                    cost: pages
                        + rows * CPU_TUPLE
                        + if filter.is_some() { rows * CPU_OP } else { 0.0 },
                };
                let cols: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                self.line(depth, &format!("Seq Scan on {}", table.name), e);
                if let Some(f) = filter {
                    self.detail(depth, format!("Filter: {}", expr_text(f, &cols)));
                }
                (e, cols)
            }
            Plan::IndexScan {
                table,
                index,
                bounds,
                filter,
            } => {
                let (rows, pages, stats) = self.table_rows(table);
                let ix = &table.indexes[*index];
                let cols: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                // The keys as expressions (expression keys bound again).
                let keys: Vec<Expr> = self
                    .s
                    .schema()
                    .ok()
                    .and_then(|s| basalt_planner::bind::index_key_exprs(&s, table, ix))
                    .unwrap_or_else(|| {
                        ix.columns
                            .iter()
                            .map(|&c| Expr::Column(c.min(table.columns.len().saturating_sub(1))))
                            .collect()
                    });
                // An index nested loop's probe: its bounds are over the
                // outer row, shown by those columns' names.
                let probe = self.probe_cols.take();
                let cond_cols: Vec<String> = match &probe {
                    Some(outer) => cols.iter().chain(outer).cloned().collect(),
                    None => cols.clone(),
                };
                let bound = |v: &Expr| match probe {
                    Some(_) => {
                        let mut v = v.clone();
                        v.visit_mut(&mut |x| {
                            if let Expr::Column(c) = x {
                                *c += table.columns.len();
                            }
                        });
                        v
                    }
                    None => v.clone(),
                };
                let conds = bounds.conditions(&keys, &bound);
                let mut sel: f64 = match probe {
                    // Each probe: one key value's share of the rows.
                    Some(_) => bounds
                        .eq
                        .iter()
                        .enumerate()
                        .map(|(k, _)| {
                            let nd = match keys[k] {
                                Expr::Column(c) => stats
                                    .as_deref()
                                    .and_then(|s| s.columns.iter().find(|x| x.0 == c))
                                    .map(|x| crate::selectivity::n_distinct(&x.1, rows)),
                                _ => None,
                            };
                            1.0 / nd.unwrap_or(200.0).max(1.0)
                        })
                        .product(),
                    None => conds
                        .iter()
                        .map(|c| selectivity(c, table, stats.as_deref(), rows))
                        .product(),
                };
                if ix.unique && bounds.eq.len() == ix.columns.len() {
                    sel = sel.min(1.0 / rows.max(1.0));
                }
                // The executor re-checks the whole WHERE clause; only the
                // conjuncts the index does not answer filter further.
                let cond_text: Vec<String> =
                    conds.iter().map(|c| expr_text(c, &cond_cols)).collect();
                let rest: Vec<&Expr> = filter
                    .as_ref()
                    .map(conjuncts)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| !cond_text.contains(&expr_text(c, &cols)))
                    .collect();
                let fsel: f64 = rest
                    .iter()
                    .map(|f| selectivity(f, table, stats.as_deref(), rows))
                    .product();
                let fetched = (rows * sel).max(1.0);
                // PostgreSQL's interpolation between scattered and ordered
                // heap access by the correlation of the first index column.
                let corr = stats
                    .as_deref()
                    .and_then(|s| s.columns.iter().find(|c| c.0 == ix.columns[0]))
                    .and_then(|c| c.1.correlation)
                    .unwrap_or(0.0);
                let max_io = fetched * 4.0;
                let min_io = (sel * pages).ceil().max(1.0);
                let io = max_io - corr * corr * (max_io - min_io);
                let e = Est {
                    rows: fetched * fsel,
                    width: self.row_width(table, stats.as_deref()),
                    cost: 4.0
                        + io
                        + fetched * (CPU_TUPLE + 0.005 + CPU_OP * (1 + rest.len()) as f64),
                };
                let allowed = self
                    .s
                    .setting("enable_indexonlyscan")
                    .and_then(|v| basalt_catalog::cast::parse_bool(&v))
                    .unwrap_or(true);
                let index_only = allowed
                    && self
                        .scan_cols
                        .get(&(plan as *const Plan as usize))
                        .and_then(|w| crate::exec::index_only_columns(table, *index, w))
                        .is_some();
                let kind = if index_only {
                    "Index Only Scan"
                } else {
                    "Index Scan"
                };
                self.line(
                    depth,
                    &format!("{kind} using {} on {}", ix.name, table.name),
                    e,
                );
                if !conds.is_empty() {
                    self.detail(depth, format!("Index Cond: {}", cond_text.join(" AND ")));
                }
                let fetches = self
                    .actual
                    .as_ref()
                    .and_then(|a| a.get(&(plan as *const Plan as usize)))
                    .map(|a| a.heap_fetches);
                if let (true, Some(n)) = (index_only, fetches) {
                    // After the filter line, as PostgreSQL prints it.
                    self.heap_fetches = Some((depth, n));
                }
                if !rest.is_empty() {
                    let text: Vec<String> = rest.iter().map(|f| expr_text(f, &cols)).collect();
                    let text = if text.len() == 1 {
                        text[0].clone()
                    } else {
                        format!("({})", text.join(" AND "))
                    };
                    self.detail(depth, format!("Filter: {text}"));
                }
                if let Some((d, n)) = self.heap_fetches.take() {
                    self.detail(d, format!("Heap Fetches: {n}"));
                }
                (e, cols)
            }
            Plan::Filter { input, pred } => {
                // Shown as PostgreSQL does: a filter on the node below.
                let at = self.lines.len();
                let (mut e, cols) = self.node(input, depth);
                e.rows *= DEFAULT_INEQ_SEL;
                e.cost += e.rows * CPU_OP;
                let cond = expr_text(pred, &cols);
                let pad = " ".repeat(if depth == 0 { 2 } else { depth * 6 + 2 });
                // One Filter line per node, as PostgreSQL prints it: a
                // filter over a filtered scan joins the scan's.
                let existing = self
                    .lines
                    .get(at + 1)
                    .and_then(|l| l.strip_prefix(&format!("{pad}Filter: ")))
                    .map(str::to_string);
                match existing {
                    Some(old) => {
                        self.lines[at + 1] = format!(
                            "{pad}Filter: ({} AND {})",
                            strip_parens(&old),
                            wrap_parens(&cond)
                        )
                    }
                    None => self.lines.insert(at + 1, format!("{pad}Filter: {cond}")),
                }
                (e, cols)
            }
            Plan::Project { input, exprs } => {
                let (e, cols) = self.node(input, depth);
                let out = exprs
                    .iter()
                    .map(|x| match x {
                        Expr::Column(i) => cols.get(*i).cloned().unwrap_or_default(),
                        _ => "?column?".into(),
                    })
                    .collect();
                (e, out)
            }
            Plan::Join {
                left,
                right,
                kind,
                on,
                ..
            } => {
                let at = self.open(depth, "Nested Loop");
                let (l, lc) = self.node(left, depth + 1);
                let (r, rc) = self.node(right, depth + 1);
                let cols: Vec<String> = lc.into_iter().chain(rc).collect();
                let sel = if on.is_some() { DEFAULT_INEQ_SEL } else { 1.0 };
                let mut rows = l.rows * r.rows * sel;
                match kind {
                    JoinKind::Left => rows = rows.max(l.rows),
                    JoinKind::Full => rows = rows.max(l.rows + r.rows),
                    JoinKind::Semi | JoinKind::Anti => rows = l.rows * 0.5,
                    JoinKind::Inner => {}
                }
                let e = Est {
                    rows,
                    width: l.width + r.width,
                    cost: l.cost + l.rows * r.cost + l.rows * r.rows * CPU_TUPLE,
                };
                self.relabel(
                    at,
                    depth,
                    match kind {
                        JoinKind::Left => "Nested Loop Left Join",
                        JoinKind::Full => "Nested Loop Full Join",
                        JoinKind::Semi => "Nested Loop Semi Join",
                        JoinKind::Anti => "Nested Loop Anti Join",
                        JoinKind::Inner => "Nested Loop",
                    },
                    e,
                );
                if let Some(on) = on {
                    let pad = if depth == 0 { 2 } else { depth * 6 + 2 };
                    self.lines.insert(
                        at + 1,
                        format!("{}Join Filter: {}", " ".repeat(pad), expr_text(on, &cols)),
                    );
                }
                (e, cols)
            }
            Plan::IndexJoin {
                left,
                right,
                kind,
                residual,
                ..
            } => {
                let at = self.open(depth, "Nested Loop");
                let (l, lc) = self.node(left, depth + 1);
                self.probe_cols = Some(lc.clone());
                let (r, rc) = self.node(right, depth + 1);
                self.probe_cols = None;
                let cols: Vec<String> = lc.iter().cloned().chain(rc).collect();
                let mut rows = l.rows * r.rows;
                if *kind == JoinKind::Left {
                    rows = rows.max(l.rows);
                }
                let e = Est {
                    rows,
                    width: l.width + r.width,
                    cost: l.cost + l.rows * r.cost + rows * CPU_TUPLE,
                };
                self.relabel(
                    at,
                    depth,
                    match kind {
                        JoinKind::Left => "Nested Loop Left Join",
                        _ => "Nested Loop",
                    },
                    e,
                );
                // What the probe does not answer is checked on the joined row.
                let keys: Vec<(usize, usize)> = match right.as_ref() {
                    Plan::IndexScan {
                        table,
                        index,
                        bounds,
                        ..
                    } => table.indexes[*index]
                        .columns
                        .iter()
                        .zip(&bounds.eq)
                        .filter_map(|(&c, b)| match b {
                            Expr::Column(o) => Some((*o, lc.len() + c)),
                            _ => None,
                        })
                        .collect(),
                    _ => vec![],
                };
                let shown: Vec<String> = residual
                    .as_ref()
                    .map(conjuncts)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| !is_probe_key(c, &keys))
                    .map(|c| expr_text(c, &cols))
                    .collect();
                if !shown.is_empty() {
                    let pad = if depth == 0 { 2 } else { depth * 6 + 2 };
                    self.lines.insert(
                        at + 1,
                        format!("{}Join Filter: {}", " ".repeat(pad), shown.join(" AND ")),
                    );
                }
                (e, cols)
            }
            Plan::MergeJoin {
                left,
                right,
                kind,
                keys,
                residual,
                ..
            } => {
                let at = self.open(depth, "Merge Join");
                let (l, lc) = self.node(left, depth + 1);
                let (r, rc) = self.node(right, depth + 1);
                let cols: Vec<String> = lc.iter().cloned().chain(rc.iter().cloned()).collect();
                let rows = (l.rows * r.rows / l.rows.max(r.rows).max(1.0)).max(match kind {
                    JoinKind::Left => l.rows,
                    JoinKind::Full => l.rows + r.rows,
                    _ => 1.0,
                });
                let e = Est {
                    rows,
                    width: l.width + r.width,
                    cost: l.cost + r.cost + (l.rows + r.rows) * CPU_OP + rows * CPU_TUPLE,
                };
                self.relabel(
                    at,
                    depth,
                    match kind {
                        JoinKind::Left => "Merge Left Join",
                        JoinKind::Full => "Merge Full Join",
                        _ => "Merge Join",
                    },
                    e,
                );
                let conds: Vec<String> = keys
                    .iter()
                    .map(|(a, b)| format!("({} = {})", expr_text(a, &lc), expr_text(b, &rc)))
                    .collect();
                let pad = " ".repeat(if depth == 0 { 2 } else { depth * 6 + 2 });
                let mut extra = vec![format!("{pad}Merge Cond: {}", conds.join(" AND "))];
                if let Some(f) = residual {
                    extra.push(format!("{pad}Join Filter: {}", expr_text(f, &cols)));
                }
                for (i, x) in extra.into_iter().enumerate() {
                    self.lines.insert(at + 1 + i, x);
                }
                (e, cols)
            }
            Plan::HashJoin {
                left,
                right,
                kind,
                keys,
                ..
            } => {
                let at = self.open(depth, "Hash Join");
                let (l, lc) = self.node(left, depth + 1);
                let hash_at = self.open(depth + 1, "Hash");
                let (r, rc) = self.node(right, depth + 2);
                self.relabel(hash_at, depth + 1, "Hash", r);
                let semi = matches!(kind, JoinKind::Semi | JoinKind::Anti);
                // Semi and anti joins give the left columns only.
                let cols: Vec<String> = if semi {
                    lc.clone()
                } else {
                    lc.iter().cloned().chain(rc.iter().cloned()).collect()
                };
                // Each left row meets 1/max(distinct) of the right rows.
                let rows = (l.rows * r.rows / l.rows.max(r.rows).max(1.0)).max(match kind {
                    JoinKind::Left => l.rows,
                    JoinKind::Full => l.rows + r.rows,
                    JoinKind::Inner | JoinKind::Semi | JoinKind::Anti => 1.0,
                });
                let rows = if semi { rows.min(l.rows) } else { rows };
                let e = Est {
                    rows,
                    width: if semi { l.width } else { l.width + r.width },
                    cost: l.cost + r.cost + (l.rows + r.rows) * CPU_OP * 2.0 + rows * CPU_TUPLE,
                };
                self.relabel(
                    at,
                    depth,
                    match kind {
                        JoinKind::Left => "Hash Left Join",
                        JoinKind::Full => "Hash Full Join",
                        JoinKind::Semi => "Hash Semi Join",
                        JoinKind::Anti => "Hash Anti Join",
                        JoinKind::Inner => "Hash Join",
                    },
                    e,
                );
                let conds: Vec<String> = keys
                    .iter()
                    .map(|(a, b)| format!("({} = {})", expr_text(a, &lc), expr_text(b, &rc)))
                    .collect();
                let pad = if depth == 0 { 2 } else { depth * 6 + 2 };
                self.lines.insert(
                    at + 1,
                    format!("{}Hash Cond: {}", " ".repeat(pad), conds.join(" AND ")),
                );
                (e, cols)
            }
            Plan::Aggregate {
                input, group, aggs, ..
            } => {
                let at = self.open(depth, "Aggregate");
                let (c, cols) = self.node(input, depth + 1);
                // Groups: the product of the key columns' distinct counts,
                // else PostgreSQL's default of 200.
                let table = scanned_table(input);
                let stats = table.and_then(|t| self.s.db.statistics.get(t.oid));
                let mut groups = 1.0;
                let mut width = 8.0 * aggs.len() as f64;
                for g in group {
                    let cs = match g {
                        Expr::Column(i) => stats
                            .as_ref()
                            .and_then(|s| s.columns.iter().find(|c| c.0 == *i)),
                        _ => None,
                    };
                    match cs {
                        Some((_, s)) => {
                            groups *= n_distinct(s, c.rows);
                            width += s.avg_width as f64;
                        }
                        None => {
                            groups *= 200.0;
                            width += 4.0;
                        }
                    }
                }
                let rows = if group.is_empty() {
                    1.0
                } else {
                    groups.min(c.rows).max(1.0)
                };
                let e = Est {
                    rows,
                    width,
                    cost: c.cost + c.rows * CPU_OP * (aggs.len().max(1)) as f64,
                };
                self.relabel(
                    at,
                    depth,
                    if group.is_empty() {
                        "Aggregate"
                    } else {
                        "HashAggregate"
                    },
                    e,
                );
                if !group.is_empty() {
                    let keys: Vec<String> = group.iter().map(|g| expr_text(g, &cols)).collect();
                    let pad = if depth == 0 { 2 } else { depth * 6 + 2 };
                    self.lines.insert(
                        at + 1,
                        format!("{}Group Key: {}", " ".repeat(pad), keys.join(", ")),
                    );
                }
                let mut out: Vec<String> = group.iter().map(|g| expr_text(g, &cols)).collect();
                out.extend(aggs.iter().map(|a| match a.func {
                    AggFunc::Count | AggFunc::CountStar => "count".to_string(),
                    AggFunc::ArrayAgg => "array_agg".to_string(),
                    AggFunc::JsonAgg => "json_agg".to_string(),
                    AggFunc::JsonbAgg => "jsonb_agg".to_string(),
                    AggFunc::JsonObjectAgg => "json_object_agg".to_string(),
                    AggFunc::JsonbObjectAgg => "jsonb_object_agg".to_string(),
                    AggFunc::StringAgg => "string_agg".to_string(),
                    f => format!("{f:?}").to_lowercase(),
                }));
                (e, out)
            }
            Plan::Sort { input, keys } => {
                let at = self.open(depth, "Sort");
                let (c, cols) = self.node(input, depth + 1);
                let n = c.rows.max(2.0);
                let e = Est {
                    cost: c.cost + 2.0 * CPU_OP * n * n.log2(),
                    ..c
                };
                self.relabel(at, depth, "Sort", e);
                let k: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        format!(
                            "{}{}",
                            expr_text(&k.expr, &cols),
                            if k.desc { " DESC" } else { "" }
                        )
                    })
                    .collect();
                let pad = if depth == 0 { 2 } else { depth * 6 + 2 };
                self.lines.insert(
                    at + 1,
                    format!("{}Sort Key: {}", " ".repeat(pad), k.join(", ")),
                );
                (e, cols)
            }
            Plan::Limit { input, limit, .. } | Plan::LimitTies { input, limit, .. } => {
                let at = self.open(depth, "Limit");
                let (c, cols) = self.node(input, depth + 1);
                let n = match limit {
                    Some(Expr::Literal(v)) => v.as_i64().map(|x| x as f64).unwrap_or(c.rows),
                    Some(Expr::Cast(inner, _)) => match &**inner {
                        Expr::Literal(v) => v.as_i64().map(|x| x as f64).unwrap_or(c.rows),
                        _ => c.rows * 0.1,
                    },
                    _ => c.rows * 0.1,
                };
                let rows = n.min(c.rows);
                let e = Est {
                    rows,
                    width: c.width,
                    cost: c.cost * (rows / c.rows.max(1.0)).min(1.0),
                };
                self.relabel(at, depth, "Limit", e);
                (e, cols)
            }
            Plan::Distinct { input } => {
                let at = self.open(depth, "HashAggregate");
                let (c, cols) = self.node(input, depth + 1);
                let e = Est {
                    rows: (c.rows / 10.0).max(1.0),
                    ..c
                };
                self.relabel(at, depth, "HashAggregate", e);
                (e, cols)
            }
            Plan::Union { inputs, all } => {
                let at = self.open(depth, "Append");
                let mut e = Est {
                    rows: 0.0,
                    width: 0.0,
                    cost: 0.0,
                };
                let mut cols = Vec::new();
                for p in inputs {
                    let (c, cc) = self.node(p, depth + 1);
                    e.rows += c.rows;
                    e.cost += c.cost;
                    e.width = e.width.max(c.width);
                    if cols.is_empty() {
                        cols = cc;
                    }
                }
                self.relabel(at, depth, if *all { "Append" } else { "HashAggregate" }, e);
                (e, cols)
            }
            Plan::SetOp {
                left,
                right,
                intersect,
                all,
            } => {
                let at = self.open(depth, "HashSetOp");
                let (l, cols) = self.node(left, depth + 1);
                let (r, _) = self.node(right, depth + 1);
                let e = Est {
                    rows: (l.rows / 2.0).max(1.0),
                    width: l.width,
                    cost: l.cost + r.cost + (l.rows + r.rows) * CPU_OP,
                };
                let head = format!(
                    "HashSetOp {}{}",
                    if *intersect { "Intersect" } else { "Except" },
                    if *all { " All" } else { "" }
                );
                self.relabel(at, depth, &head, e);
                (e, cols)
            }
            Plan::RecursiveUnion {
                base, recursive, ..
            } => {
                let at = self.open(depth, "Recursive Union");
                let (b, cols) = self.node(base, depth + 1);
                let (r, _) = self.node(recursive, depth + 1);
                let e = Est {
                    rows: b.rows + r.rows * 10.0,
                    width: b.width,
                    cost: b.cost + r.cost * 10.0,
                };
                self.relabel(at, depth, "Recursive Union", e);
                (e, cols)
            }
            Plan::Window { input, calls } => {
                let at = self.open(depth, "WindowAgg");
                let (i, mut cols) = self.node(input, depth + 1);
                let e = Est {
                    rows: i.rows,
                    width: i.width + 8.0 * calls.len() as f64,
                    cost: i.cost + i.rows * CPU_OP * calls.len() as f64,
                };
                self.relabel(at, depth, "WindowAgg", e);
                cols.extend((0..calls.len()).map(|k| format!("window{}", k + 1)));
                (e, cols)
            }
            Plan::LateralJoin {
                left, right, kind, ..
            } => {
                let head = if *kind == JoinKind::Left {
                    "Nested Loop Left Join"
                } else {
                    "Nested Loop"
                };
                let at = self.open(depth, head);
                let (l, mut cols) = self.node(left, depth + 1);
                let (r, rc) = self.node(right, depth + 1);
                cols.extend(rc);
                let e = Est {
                    rows: l.rows * r.rows,
                    width: l.width + r.width,
                    cost: l.cost + l.rows * r.cost,
                };
                self.relabel(at, depth, head, e);
                (e, cols)
            }
            Plan::ProjectSet { input, calls } => {
                let at = self.open(depth, "ProjectSet");
                let (i, mut cols) = self.node(input, depth + 1);
                let e = Est {
                    rows: i.rows * 1000.0,
                    width: i.width + 8.0 * calls.len() as f64,
                    cost: i.cost + i.rows * 10.0,
                };
                self.relabel(at, depth, "ProjectSet", e);
                cols.extend(calls.iter().map(|(n, _)| n.clone()));
                (e, cols)
            }
            Plan::DistinctOn { input, .. } => {
                let at = self.open(depth, "Unique");
                let (i, cols) = self.node(input, depth + 1);
                let e = Est {
                    rows: (i.rows / 2.0).max(1.0),
                    width: i.width,
                    cost: i.cost + i.rows * CPU_OP,
                };
                self.relabel(at, depth, "Unique", e);
                (e, cols)
            }
            Plan::WorkTable { width, .. } => {
                let e = Est {
                    rows: 200.0,
                    width: 4.0 * *width as f64,
                    cost: 4.0,
                };
                self.line(depth, "WorkTable Scan", e);
                (e, (0..*width).map(|i| format!("column{}", i + 1)).collect())
            }
            Plan::WithTid { input } => {
                let (e, mut cols) = self.node(input, depth);
                cols.push("ctid".into());
                (e, cols)
            }
            Plan::LockRows { input, .. } | Plan::LockJoinRows { input, .. } => {
                let at = self.open(depth, "LockRows");
                let (c, cols) = self.node(input, depth + 1);
                self.relabel(at, depth, "LockRows", c);
                (c, cols)
            }
            Plan::Single => {
                let e = Est {
                    rows: 1.0,
                    width: 0.0,
                    cost: 0.01,
                };
                self.line(depth, "Result", e);
                (e, vec![])
            }
            Plan::Values { rows } => {
                let e = Est {
                    rows: rows.len() as f64,
                    width: 4.0 * rows.first().map(|r| r.len()).unwrap_or(0) as f64,
                    cost: rows.len() as f64 * CPU_TUPLE,
                };
                self.line(depth, "Values Scan on \"*VALUES*\"", e);
                let n = rows.first().map(|r| r.len()).unwrap_or(0);
                (e, (1..=n).map(|i| format!("column{i}")).collect())
            }
            Plan::System { name, filter } => {
                let e = Est {
                    rows: 10.0,
                    width: 64.0,
                    cost: 1.0,
                };
                self.line(depth, &format!("Function Scan on {name}"), e);
                let cols: Vec<String> = basalt_catalog::system::columns(name)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| c.0.to_string())
                    .collect();
                if let Some(f) = filter {
                    self.detail(depth, format!("Filter: {}", expr_text(f, &cols)));
                }
                (e, cols)
            }
            Plan::Function { name, .. } => {
                let e = Est {
                    rows: 10.0,
                    width: 64.0,
                    cost: 1.0,
                };
                self.line(depth, &format!("Function Scan on {name}"), e);
                (e, vec![])
            }
            Plan::Series { start, stop, .. } => {
                let n = match (start, stop) {
                    (Expr::Literal(a), Expr::Literal(b)) => match (a.as_i64(), b.as_i64()) {
                        (Some(a), Some(b)) => (b - a + 1).max(0) as f64,
                        _ => 1000.0,
                    },
                    _ => 1000.0,
                };
                let e = Est {
                    rows: n,
                    width: 4.0,
                    cost: n * CPU_TUPLE,
                };
                self.line(depth, "Function Scan on generate_series", e);
                (e, vec!["generate_series".into()])
            }
        }
    }

    /// Rewrites the head line at `at` now that the node's estimate is known.
    fn relabel(&mut self, at: usize, depth: usize, head: &str, e: Est) {
        let n = self.lines.len();
        self.line(depth, head, e);
        let l = self.lines.remove(n);
        self.lines[at] = l;
    }
}

/// Whether `c` is one of the equalities (outer column, inner column) an
/// index nested loop probes by (shown in its Index Cond, not again as a
/// join filter).
fn is_probe_key(c: &Expr, keys: &[(usize, usize)]) -> bool {
    match c {
        Expr::Binary(BinOp::Eq, a, b) => match (&**a, &**b) {
            (Expr::Column(x), Expr::Column(y)) => {
                keys.contains(&(*x, *y)) || keys.contains(&(*y, *x))
            }
            _ => false,
        },
        _ => false,
    }
}

impl Session {
    /// EXPLAIN [ANALYZE] of a planned statement.
    pub(crate) fn explain(
        &mut self,
        stmt: &Statement,
        analyze: bool,
        json: bool,
        buffers: bool,
        params: &[Value],
    ) -> Result<ExecResult> {
        // ANALYZE runs the statement first, measuring every node.
        let mut run = None;
        // BUFFERS: the shared-buffer hits and reads of the relations the
        // statement touches, over its run.
        let rels = statement_relations(stmt);
        let io = |s: &Self| -> (u64, u64) {
            rels.iter().fold((0, 0), |acc, r| {
                let (h, rd) = s.db.st.pool.rel_io(*r);
                (acc.0 + h, acc.1 + rd)
            })
        };
        let io_before = if buffers { io(self) } else { (0, 0) };
        if analyze {
            let ins: crate::exec::Instrument = Default::default();
            self.instrument = Some(ins.clone());
            let t0 = std::time::Instant::now();
            let r = self.execute_in_txn(stmt, params, None);
            self.instrument = None;
            let r = r?;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let actual = std::mem::take(&mut *ins.lock());
            run = Some((r, ms, actual));
        }
        let mut x = Explainer {
            probe_cols: None,
            scan_cols: match stmt {
                Statement::Query(q) => crate::colmask::scan_columns(&q.plan),
                Statement::Insert { source, .. } => crate::colmask::scan_columns(source),
                _ => HashMap::new(),
            },
            heap_fetches: None,
            s: self,
            lines: Vec::new(),
            actual: run.as_mut().map(|r| std::mem::take(&mut r.2)),
        };
        match stmt {
            Statement::Query(q) => {
                x.node(&q.plan, 0);
            }
            Statement::Insert { table, source, .. } => {
                let (e, _) = x.node(source, 1);
                x.lines.insert(
                    0,
                    format!(
                        "Insert on {}  (cost=0.00..{:.2} rows=0 width=0)",
                        table.name,
                        e.cost + e.rows * CPU_TUPLE
                    ),
                );
            }
            Statement::Update { target, .. } | Statement::Delete { target, .. } => {
                let (e, _) = x.node(&target.scan, 1);
                let verb = if matches!(stmt, Statement::Update { .. }) {
                    "Update"
                } else {
                    "Delete"
                };
                x.lines.insert(
                    0,
                    format!(
                        "{verb} on {}  (cost=0.00..{:.2} rows=0 width=0)",
                        target.table.name,
                        e.cost + e.rows * CPU_TUPLE
                    ),
                );
            }
            _ => {}
        }
        let mut lines = x.lines;
        if buffers {
            let after = io(self);
            let (h, r) = (after.0 - io_before.0, after.1 - io_before.1);
            let mut b = format!("  Buffers: shared hit={h}");
            if r > 0 {
                b.push_str(&format!(" read={r}"));
            }
            if h == 0 && r == 0 {
                b = String::new();
            }
            if !b.is_empty() && !lines.is_empty() {
                // After the top node's own detail lines.
                let at = 1 + lines[1..]
                    .iter()
                    .take_while(|l| l.starts_with("  ") && !l.trim_start().starts_with("->"))
                    .count();
                lines.insert(at, b);
            }
        }
        if let Some((r, ms, _)) = run {
            // DML has no plan node of its own here: its count goes on the
            // first line.
            if let Some(first) = lines.first_mut() {
                if !first.contains("(actual") {
                    let rows = r
                        .tag
                        .rsplit(' ')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0u64);
                    first.push_str(&format!(" (actual rows={rows} loops=1)"));
                }
            }
            lines.push(format!("Execution Time: {ms:.3} ms"));
        }
        if json {
            return Ok(ExecResult {
                tag: "EXPLAIN".into(),
                fields: Some(vec![Field {
                    name: "QUERY PLAN".into(),
                    ty: DataType::Json,
                    source: None,
                }]),
                rows: vec![vec![Value::Json(lines_to_json(&lines))]],
                ..Default::default()
            });
        }
        Ok(ExecResult {
            tag: "EXPLAIN".into(),
            fields: Some(vec![Field {
                name: "QUERY PLAN".into(),
                ty: DataType::Text,
                source: None,
            }]),
            rows: lines.into_iter().map(|l| vec![Value::Text(l)]).collect(),
            ..Default::default()
        })
    }
}

/// The heap and index files of the tables a statement touches.
fn statement_relations(stmt: &Statement) -> Vec<u32> {
    let mut tables = Vec::new();
    match stmt {
        Statement::Query(q) => crate::locks::plan_tables(&q.plan, &mut tables),
        Statement::Insert { source, .. } => crate::locks::plan_tables(source, &mut tables),
        Statement::Update { target, .. } | Statement::Delete { target, .. } => {
            crate::locks::plan_tables(&target.scan, &mut tables)
        }
        _ => {}
    }
    let mut out: Vec<u32> = Vec::new();
    let mut add = |t: &TableDef| {
        out.push(t.filenode);
        out.extend(t.indexes.iter().map(|i| i.filenode));
    };
    for (t, _) in &tables {
        add(t);
    }
    if let Statement::Insert { table, .. } = stmt {
        add(table);
    }
    if let Statement::Update { target, .. } | Statement::Delete { target, .. } = stmt {
        add(&target.table);
    }
    out.sort();
    out.dedup();
    out
}

/// EXPLAIN's text lines as PostgreSQL's FORMAT JSON: nodes nest by their
/// indentation; each node's line gives its type, relation, index, costs
/// (and actual figures), its detail lines the keys under it.
fn lines_to_json(lines: &[String]) -> String {
    use basalt_catalog::json::{parse_number, Json};
    struct Node {
        depth: usize,
        fields: Vec<(String, Json)>,
        plans: Vec<Node>,
    }
    fn num(s: &str) -> Json {
        Json::Number(parse_number(s))
    }
    fn node_of(line: &str, depth: usize) -> Node {
        let text = line.trim_start().trim_start_matches("->").trim_start();
        let (head, rest) = text.split_once("  (").unwrap_or((text, ""));
        let mut fields: Vec<(String, Json)> = Vec::new();
        let (kind, rel, index) = if let Some((k, r)) = head.split_once(" on ") {
            match k.split_once(" using ") {
                Some((k2, ix)) => (k2.to_string(), Some(r.to_string()), Some(ix.to_string())),
                None => (k.to_string(), Some(r.to_string()), None),
            }
        } else {
            (head.to_string(), None, None)
        };
        let kind = match kind.as_str() {
            "HashAggregate" | "GroupAggregate" => {
                fields.push((
                    "Strategy".into(),
                    Json::String(
                        if kind.starts_with("Hash") {
                            "Hashed"
                        } else {
                            "Sorted"
                        }
                        .into(),
                    ),
                ));
                "Aggregate".to_string()
            }
            _ => kind,
        };
        let mut all = vec![("Node Type".to_string(), Json::String(kind))];
        all.append(&mut fields);
        all.push(("Parallel Aware".into(), Json::Bool(false)));
        all.push(("Async Capable".into(), Json::Bool(false)));
        if let Some(ix) = index {
            all.push(("Index Name".into(), Json::String(ix)));
        }
        if let Some(r) = rel {
            let (name, alias) = r.split_once(' ').unwrap_or((&r, &r));
            all.push(("Relation Name".into(), Json::String(name.to_string())));
            all.push(("Alias".into(), Json::String(alias.to_string())));
        }
        // (cost=a..b rows=r width=w) (actual time=x..y rows=r loops=l)
        let figures = rest.replace(['(', ')'], " ");
        let mut actual = false;
        for tok in figures.split_whitespace() {
            if tok == "actual" {
                actual = true;
                continue;
            }
            if tok == "never" {
                all.push(("Actual Loops".into(), num("0")));
                continue;
            }
            let Some((k, v)) = tok.split_once('=') else {
                continue;
            };
            match (k, actual) {
                ("cost", false) => {
                    let (a, b) = v.split_once("..").unwrap_or(("0", v));
                    all.push(("Startup Cost".into(), num(a)));
                    all.push(("Total Cost".into(), num(b)));
                }
                ("rows", false) => all.push(("Plan Rows".into(), num(v))),
                ("width", false) => all.push(("Plan Width".into(), num(v))),
                ("time", true) => {
                    let (a, b) = v.split_once("..").unwrap_or(("0", v));
                    all.push(("Actual Startup Time".into(), num(a)));
                    all.push(("Actual Total Time".into(), num(b)));
                }
                ("rows", true) => all.push(("Actual Rows".into(), num(v))),
                ("loops", true) => all.push(("Actual Loops".into(), num(v))),
                _ => {}
            }
        }
        Node {
            depth,
            fields: all,
            plans: vec![],
        }
    }
    fn detail(n: &mut Node, text: &str) {
        let Some((k, v)) = text.split_once(": ") else {
            return;
        };
        let val = match k {
            "Sort Key" | "Group Key" | "Output" => {
                Json::Array(v.split(", ").map(|s| Json::String(s.to_string())).collect())
            }
            "Buffers" => {
                // shared hit=N read=M
                for part in v.split_whitespace() {
                    if let Some((bk, bv)) = part.split_once('=') {
                        let key = match bk {
                            "hit" => "Shared Hit Blocks",
                            "read" => "Shared Read Blocks",
                            _ => continue,
                        };
                        n.fields.push((key.into(), num(bv)));
                    }
                }
                return;
            }
            "Rows Removed by Filter" => num(v),
            _ => Json::String(v.to_string()),
        };
        n.fields.push((k.to_string(), val));
    }
    // Build the tree: a node line has "->" (or is the first line); any
    // other line is a detail of the node above it, or a top-level figure.
    let mut stack: Vec<Node> = Vec::new();
    let mut top: Vec<(String, Json)> = Vec::new();
    let fold = |stack: &mut Vec<Node>, depth: usize| {
        while stack.len() > 1 && stack.last().is_some_and(|n| n.depth >= depth) {
            let n = stack.pop().expect("checked");
            stack.last_mut().expect("checked").plans.push(n);
        }
    };
    for (i, l) in lines.iter().enumerate() {
        let indent = l.len() - l.trim_start().len();
        if i == 0 {
            stack.push(node_of(l, 0));
        } else if l.trim_start().starts_with("->") {
            let depth = (indent + 4) / 6;
            fold(&mut stack, depth);
            stack.push(node_of(l, depth));
        } else if indent == 0 {
            if let Some((k, v)) = l.split_once(": ") {
                let v = v.trim_end_matches(" ms");
                top.push((k.to_string(), num(v)));
            }
        } else if let Some(n) = stack.last_mut() {
            detail(n, l.trim_start());
        }
    }
    fold(&mut stack, 1);
    fn to_json(n: Node, parent: Option<&str>) -> Json {
        let mut f = n.fields;
        if let Some(p) = parent {
            f.insert(1, ("Parent Relationship".into(), Json::String(p.into())));
        }
        if !n.plans.is_empty() {
            let kids = n
                .plans
                .into_iter()
                .enumerate()
                .map(|(i, k)| to_json(k, Some(if i == 0 { "Outer" } else { "Inner" })))
                .collect();
            f.push(("Plans".into(), Json::Array(kids)));
        }
        Json::Object(f)
    }
    let mut root = vec![(
        "Plan".to_string(),
        stack
            .pop()
            .map(|n| to_json(n, None))
            .unwrap_or(Json::Object(vec![])),
    )];
    root.extend(top);
    let mut out = String::new();
    write_explain_json(&Json::Array(vec![Json::Object(root)]), 0, &mut out);
    out
}

/// JSON as EXPLAIN writes it: two spaces a level, lists of plain values
/// on one line.
fn write_explain_json(j: &basalt_catalog::json::Json, depth: usize, out: &mut String) {
    use basalt_catalog::json::Json;
    let pad = |out: &mut String, d: usize| out.push_str(&"  ".repeat(d));
    match j {
        Json::Array(a)
            if !a.is_empty()
                && a.iter()
                    .all(|v| !matches!(v, Json::Array(_) | Json::Object(_))) =>
        {
            let items: Vec<String> = a.iter().map(|v| v.to_string()).collect();
            out.push_str(&format!("[{}]", items.join(", ")));
        }
        Json::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pad(out, depth + 1);
                write_explain_json(v, depth + 1, out);
            }
            out.push('\n');
            pad(out, depth);
            out.push(']');
        }
        Json::Object(m) if !m.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pad(out, depth + 1);
                out.push_str(&Json::String(k.clone()).to_string());
                out.push_str(": ");
                write_explain_json(v, depth + 1, out);
            }
            out.push('\n');
            pad(out, depth);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `(x)` → `x` when the parentheses wrap the whole text.
fn strip_parens(s: &str) -> &str {
    let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else {
        return s;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return s;
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        inner
    } else {
        s
    }
}

/// `x` → `(x)` unless parentheses already wrap the whole text.
fn wrap_parens(s: &str) -> String {
    if strip_parens(s).len() < s.len() {
        s.to_string()
    } else {
        format!("({s})")
    }
}
