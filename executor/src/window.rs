//! Window functions: the input rows, each with one more column per window
//! call. For each call the rows are ordered by (PARTITION BY, ORDER BY);
//! within a partition, peers are rows equal in the ORDER BY. Ranking and
//! offset functions read positions; aggregates and first/last/nth_value
//! read the frame (RANGE frames end at the last peer, as PostgreSQL's
//! default `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW` does).

use crate::error::{ExecError, Result};
use crate::eval::eval;
use crate::exec::{agg_final, agg_init, agg_step, compare_keys, Ctx, Row};
use basalt_catalog::Value;
use basalt_planner::{FrameBound, WindowCall, WindowFunc};
use std::cmp::Ordering;

/// The rows with the window columns appended, in the order of the last
/// call's window.
pub(crate) fn window_rows(
    mut rows: Vec<Row>,
    calls: &[WindowCall],
    cx: &Ctx<'_>,
) -> Result<Vec<Row>> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut results: Vec<Vec<Value>> = Vec::with_capacity(calls.len());
    for c in calls {
        let (vals, ord) = one_call(&rows, c, cx)?;
        results.push(vals);
        order = ord;
    }
    let mut out = Vec::with_capacity(rows.len());
    for i in order {
        let mut r = std::mem::take(&mut rows[i]);
        for v in &results {
            r.push(v[i].clone());
        }
        out.push(r);
    }
    Ok(out)
}

fn one_call(rows: &[Row], c: &WindowCall, cx: &Ctx<'_>) -> Result<(Vec<Value>, Vec<usize>)> {
    let n = rows.len();
    let mut part = Vec::with_capacity(n);
    let mut keys = Vec::with_capacity(n);
    let mut args = Vec::with_capacity(n);
    // FILTER (WHERE ...) of an aggregate: the rows it feeds in.
    let mut pass = Vec::with_capacity(n);
    for r in rows {
        pass.push(match c.agg.as_ref().and_then(|a| a.filter.as_ref()) {
            Some(f) => crate::eval::truthy(&eval(f, r, &cx.eval)?),
            None => true,
        });
        part.push(
            c.partition
                .iter()
                .map(|e| eval(e, r, &cx.eval))
                .collect::<Result<Vec<_>>>()?,
        );
        keys.push(
            c.order
                .iter()
                .map(|k| eval(&k.expr, r, &cx.eval))
                .collect::<Result<Vec<_>>>()?,
        );
        args.push(
            c.args
                .iter()
                .map(|e| eval(e, r, &cx.eval))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| {
        part[a]
            .iter()
            .zip(&part[b])
            .map(|(x, y)| x.cmp_total(y))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
            .then_with(|| compare_keys(&c.order, &keys[a], &keys[b]))
            .then(a.cmp(&b))
    });
    let mut out = vec![Value::Null; n];
    let mut i = 0;
    while i < n {
        cx.check_cancel()?;
        let mut j = i + 1;
        while j < n && part[idx[j]] == part[idx[i]] {
            j += 1;
        }
        partition(&idx[i..j], &keys, &args, &pass, c, &mut out)?;
        i = j;
    }
    Ok((out, idx))
}

/// One partition (`p`: row numbers in window order).
fn partition(
    p: &[usize],
    keys: &[Vec<Value>],
    args: &[Vec<Value>],
    pass: &[bool],
    c: &WindowCall,
    out: &mut [Value],
) -> Result<()> {
    let n = p.len();
    // Peer groups: [start, end) of the group each position is in.
    let mut group_start = vec![0; n];
    let mut group_end = vec![n; n];
    let mut dense = vec![0i64; n];
    let mut g = 0;
    let mut d = 0;
    for k in 1..=n {
        if k == n || keys[p[k]] != keys[p[g]] {
            for x in g..k {
                group_start[x] = g;
                group_end[x] = k;
                dense[x] = d;
            }
            g = k;
            d += 1;
        }
    }
    let arg = |k: usize, a: usize| args[p[k]].get(a).cloned().unwrap_or(Value::Null);
    let int_arg = |k: usize, a: usize, default: i64| -> Result<Option<i64>> {
        match args[p[k]].get(a) {
            None => Ok(Some(default)),
            Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                ExecError::Internal("window function argument must be an integer".into())
            }),
        }
    };
    // Where each peer group starts, by group number (GROUPS offsets).
    let mut group_starts: Vec<usize> = Vec::new();
    for k in 0..n {
        if k == 0 || group_start[k] == k {
            group_starts.push(k);
        }
    }
    // RANGE offsets: a row's distance from row k along the one ORDER BY
    // key, in the sort's direction (NULLs at their end of the order).
    let key_of = |j: usize| keys[p[j]].first().and_then(|v| v.as_f64());
    let (desc, nulls_first) = c
        .order
        .first()
        .map(|o| (o.desc, o.nulls_first))
        .unwrap_or((false, false));
    let dist = |j: usize, from: f64| -> f64 {
        match key_of(j) {
            Some(x) if desc => from - x,
            Some(x) => x - from,
            None if nulls_first => f64::NEG_INFINITY,
            None => f64::INFINITY,
        }
    };
    // The frame of position k: [lo, hi) within the partition.
    let frame = |k: usize| -> (usize, usize) {
        let f = &c.frame;
        let at = |b: FrameBound, start: bool| -> i64 {
            match b {
                FrameBound::UnboundedPreceding => 0,
                FrameBound::UnboundedFollowing => n as i64,
                FrameBound::Preceding(o) | FrameBound::Following(o) if f.groups => {
                    let g = dense[k]
                        + if matches!(b, FrameBound::Following(_)) {
                            o
                        } else {
                            -o
                        };
                    if g < 0 {
                        0
                    } else if g as usize >= group_starts.len() {
                        n as i64
                    } else if start {
                        group_starts[g as usize] as i64
                    } else {
                        group_end[group_starts[g as usize]] as i64
                    }
                }
                FrameBound::Preceding(o) | FrameBound::Following(o) if !f.rows => {
                    let Some(from) = key_of(k) else {
                        // A NULL key's frame is its peers.
                        return if start { group_start[k] } else { group_end[k] } as i64;
                    };
                    let off = if matches!(b, FrameBound::Following(_)) {
                        o
                    } else {
                        -o
                    } as f64;
                    // The distance grows along the partition: binary search.
                    let first = |pred: &dyn Fn(usize) -> bool| {
                        let (mut lo, mut hi) = (0usize, n);
                        while lo < hi {
                            let mid = (lo + hi) / 2;
                            if pred(mid) {
                                lo = mid + 1;
                            } else {
                                hi = mid;
                            }
                        }
                        lo as i64
                    };
                    if start {
                        first(&|j| dist(j, from) < off)
                    } else {
                        first(&|j| dist(j, from) <= off)
                    }
                }
                FrameBound::Preceding(o) => k as i64 - o + i64::from(!start),
                FrameBound::Following(o) => k as i64 + o + i64::from(!start),
                FrameBound::CurrentRow if f.rows => k as i64 + i64::from(!start),
                FrameBound::CurrentRow if start => group_start[k] as i64,
                FrameBound::CurrentRow => group_end[k] as i64,
            }
        };
        let lo = at(f.start, true).clamp(0, n as i64) as usize;
        let hi = at(f.end, false).clamp(0, n as i64) as usize;
        (lo, hi.max(lo))
    };
    match c.func {
        WindowFunc::RowNumber => {
            for k in 0..n {
                out[p[k]] = Value::Int8(k as i64 + 1);
            }
        }
        WindowFunc::Rank => {
            for k in 0..n {
                out[p[k]] = Value::Int8(group_start[k] as i64 + 1);
            }
        }
        WindowFunc::DenseRank => {
            for k in 0..n {
                out[p[k]] = Value::Int8(dense[k] + 1);
            }
        }
        WindowFunc::PercentRank => {
            for k in 0..n {
                let r = if n <= 1 {
                    0.0
                } else {
                    group_start[k] as f64 / (n - 1) as f64
                };
                out[p[k]] = Value::Float8(r);
            }
        }
        WindowFunc::CumeDist => {
            for k in 0..n {
                out[p[k]] = Value::Float8(group_end[k] as f64 / n as f64);
            }
        }
        WindowFunc::Ntile => {
            for k in 0..n {
                let Some(b) = int_arg(k, 0, 1)? else {
                    out[p[k]] = Value::Null;
                    continue;
                };
                if b <= 0 {
                    return Err(ExecError::Internal(
                        "argument of ntile must be greater than zero".into(),
                    ));
                }
                // The first n % b buckets hold one row more.
                let b = b as usize;
                let (size, extra) = (n / b, n % b);
                let big = extra * (size + 1);
                let bucket = if k < big {
                    k / (size + 1)
                } else {
                    extra + (k - big) / size.max(1)
                };
                out[p[k]] = Value::Int4(bucket as i32 + 1);
            }
        }
        WindowFunc::Lag | WindowFunc::Lead => {
            for k in 0..n {
                let Some(off) = int_arg(k, 1, 1)? else {
                    out[p[k]] = Value::Null;
                    continue;
                };
                let at = if c.func == WindowFunc::Lag {
                    k as i64 - off
                } else {
                    k as i64 + off
                };
                out[p[k]] = if at >= 0 && (at as usize) < n {
                    arg(at as usize, 0)
                } else {
                    arg(k, 2)
                };
            }
        }
        WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
            for k in 0..n {
                let (lo, hi) = frame(k);
                let pos = match c.func {
                    WindowFunc::FirstValue => Some(lo),
                    WindowFunc::LastValue => hi.checked_sub(1),
                    _ => match int_arg(k, 1, 1)? {
                        Some(m) if m > 0 => Some(lo + m as usize - 1),
                        Some(_) => {
                            return Err(ExecError::Internal(
                                "argument of nth_value must be greater than zero".into(),
                            ))
                        }
                        None => None,
                    },
                };
                out[p[k]] = match pos {
                    Some(x) if x < hi => arg(x, 0),
                    _ => Value::Null,
                };
            }
        }
        WindowFunc::Agg(_) => {
            let a = c
                .agg
                .as_ref()
                .expect("an aggregate window call has its call");
            // Frames that start at the partition's start grow as k moves:
            // add rows to one running state. Others are summed afresh.
            let running = c.frame.start == FrameBound::UnboundedPreceding;
            let mut st = agg_init(a);
            let mut upto = 0;
            for k in 0..n {
                let (lo, hi) = frame(k);
                if running && lo == 0 && hi >= upto {
                    while upto < hi {
                        if pass[p[upto]] {
                            agg_step(a, &mut st, &args[p[upto]])?;
                        }
                        upto += 1;
                    }
                    out[p[k]] = agg_final(a, st.clone())?;
                } else {
                    let mut s = agg_init(a);
                    for x in lo..hi {
                        if pass[p[x]] {
                            agg_step(a, &mut s, &args[p[x]])?;
                        }
                    }
                    out[p[k]] = agg_final(a, s)?;
                }
            }
        }
    }
    Ok(())
}
