//! ORDER BY from an index: a sort whose input already comes in its order
//! from an index scan is dropped, and under a LIMIT a sorted table scan
//! becomes a scan of an index in that order, so the LIMIT stops it after
//! the rows it needs.

use crate::bind::index_bounds;
use crate::joins::conjuncts;
use crate::plan::*;

/// The plan with its top sort replaced by index order where it can be.
pub(crate) fn index_order(plan: Plan, limited: bool) -> Plan {
    match plan {
        Plan::Limit {
            input,
            limit,
            offset,
        } => Plan::Limit {
            input: Box::new(index_order(*input, true)),
            limit,
            offset,
        },
        Plan::Project { input, exprs } if matches!(*input, Plan::Sort { .. }) => Plan::Project {
            input: Box::new(index_order(*input, limited)),
            exprs,
        },
        Plan::Sort { input, keys } => match sorted_scan(&input, &keys, limited) {
            Some(p) => p,
            None => Plan::Sort { input, keys },
        },
        p => p,
    }
}

/// `input` (a projection of one table's scan) in the order of `keys`
/// without sorting, if an index gives that order.
fn sorted_scan(input: &Plan, keys: &[SortKey], limited: bool) -> Option<Plan> {
    let Plan::Project {
        input: below,
        exprs,
    } = input
    else {
        return None;
    };
    // The table columns the keys name; the index is ascending, NULLs last.
    let mut cols = Vec::with_capacity(keys.len());
    for k in keys {
        if k.desc || k.nulls_first {
            return None;
        }
        let Expr::Column(i) = &k.expr else {
            return None;
        };
        let Expr::Column(c) = exprs.get(*i)? else {
            return None;
        };
        cols.push(*c);
    }
    let (scan, filter) = match &**below {
        Plan::Filter { input, pred } => (&**input, Some(pred)),
        p => (p, None),
    };
    // Columns fixed by equality may sit anywhere in the keys; the rest
    // must be the index columns that follow the fixed prefix.
    let fits = |ix_cols: &[usize], fixed: usize| {
        let rest: Vec<usize> = cols
            .iter()
            .filter(|c| !ix_cols[..fixed].contains(c))
            .copied()
            .collect();
        ix_cols.get(fixed..fixed + rest.len()) == Some(rest.as_slice())
    };
    let replaced = match scan {
        Plan::IndexScan {
            table,
            index,
            bounds,
            ..
        } => fits(&table.indexes[*index].columns, bounds.eq.len()).then(|| scan.clone())?,
        Plan::SeqScan {
            table,
            filter: scan_filter,
        } if limited => {
            let conj = scan_filter.as_ref().map(conjuncts).unwrap_or_default();
            let (index, bounds) = table.indexes.iter().enumerate().find_map(|(ii, ix)| {
                if ix.predicate.is_some() || !ix.exprs.is_empty() {
                    return None;
                }
                let keys: Vec<Expr> = ix.columns.iter().map(|&c| Expr::Column(c)).collect();
                let bounds = index_bounds(&conj, &keys);
                fits(&ix.columns, bounds.eq.len()).then_some((ii, bounds))
            })?;
            Plan::IndexScan {
                table: table.clone(),
                index,
                bounds,
                filter: scan_filter.clone(),
            }
        }
        _ => return None,
    };
    let below = match filter {
        Some(pred) => Plan::Filter {
            input: Box::new(replaced),
            pred: pred.clone(),
        },
        None => replaced,
    };
    Some(Plan::Project {
        input: Box::new(below),
        exprs: exprs.clone(),
    })
}
