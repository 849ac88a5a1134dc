//! ANALYZE: samples a table's rows and keeps per-column statistics (null
//! fraction, average width, distinct count, most common values with their
//! frequencies, histogram bounds, correlation) as PostgreSQL's pg_statistic
//! does, shown by pg_stats. Statistics live in memory and in
//! `global/pg_statistic`, rewritten whole (write, fsync, rename) by every
//! ANALYZE and read when the database opens.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use basalt_catalog::types::decode_row;
use basalt_catalog::{TableDef, Value};
use basalt_storage::{StorageError, TableLockMode};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// PostgreSQL's default_statistics_target: MCV list length, histogram buckets.
const STATS_TARGET: usize = 100;
/// Rows sampled: 300 × the statistics target, as PostgreSQL does.
const SAMPLE_ROWS: usize = 300 * STATS_TARGET;

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    pub null_frac: f64,
    pub avg_width: i32,
    /// Positive: distinct values; negative: minus the fraction of rows (it
    /// grows with the table), as in pg_statistic.stadistinct.
    pub n_distinct: f64,
    /// Most common values as text, with their frequencies.
    pub mcv: Vec<(String, f64)>,
    pub histogram: Vec<String>,
    pub correlation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableStatistics {
    pub reltuples: f64,
    pub relpages: u32,
    /// Column number (0-based) → its statistics.
    pub columns: Vec<(usize, ColumnStats)>,
}

/// Every analyzed table's statistics (table OID → statistics).
#[derive(Default)]
pub struct Statistics {
    tables: RwLock<HashMap<u32, Arc<TableStatistics>>>,
}

impl Statistics {
    pub fn get(&self, oid: u32) -> Option<Arc<TableStatistics>> {
        self.tables.read().get(&oid).cloned()
    }

    pub fn all(&self) -> Vec<(u32, Arc<TableStatistics>)> {
        let mut v: Vec<_> = self
            .tables
            .read()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }

    fn path(dir: &Path) -> std::path::PathBuf {
        dir.join("global").join("pg_statistic")
    }

    /// Reads the statistics file, if there is a valid one (statistics are
    /// only hints: a damaged file is ignored and ANALYZE writes it again).
    pub fn load(dir: &Path) -> Statistics {
        let s = Statistics::default();
        let Ok(text) = std::fs::read_to_string(Self::path(dir)) else {
            return s;
        };
        let Some((body, crc)) = text.rsplit_once("\ncrc ") else {
            return s;
        };
        if crc.trim().parse::<u32>().ok() != Some(crc32c::crc32c(body.as_bytes())) {
            tracing::warn!("pg_statistic has a bad checksum; ignoring it");
            return s;
        }
        let mut m = HashMap::new();
        for line in body.lines() {
            if let Some((oid, t)) = decode_table(line) {
                m.insert(oid, Arc::new(t));
            }
        }
        *s.tables.write() = m;
        s
    }

    fn save(&self, dir: &Path, keep: &dyn Fn(u32) -> bool) -> std::io::Result<()> {
        let mut body = String::new();
        let mut tables = self.tables.write();
        tables.retain(|oid, _| keep(*oid));
        for (oid, t) in tables.iter() {
            body.push_str(&encode_table(*oid, t));
            body.push('\n');
        }
        drop(tables);
        let crc = crc32c::crc32c(body.as_bytes());
        let p = Self::path(dir);
        let tmp = p.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        write!(f, "{body}\ncrc {crc}\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, &p)?;
        Ok(())
    }
}

// One line per table: oid, reltuples, relpages, then per column its fields
// separated by \x1f, with lists joined by \x1e. Values are text; none of
// these separators can appear in them unescaped, as they are escaped here.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\x1e', "\\r")
        .replace('\x1f', "\\u")
        .replace('\x1d', "\\g")
}
fn unesc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\x1e'),
            Some('u') => out.push('\x1f'),
            Some('g') => out.push('\x1d'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

fn encode_table(oid: u32, t: &TableStatistics) -> String {
    let mut s = format!("{oid}\x1d{}\x1d{}", t.reltuples, t.relpages);
    for (col, c) in &t.columns {
        let mcv: Vec<String> = c.mcv.iter().map(|(v, _)| esc(v)).collect();
        let mcf: Vec<String> = c.mcv.iter().map(|(_, f)| f.to_string()).collect();
        let hist: Vec<String> = c.histogram.iter().map(|v| esc(v)).collect();
        s.push_str(&format!(
            "\x1d{col}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}",
            c.null_frac,
            c.avg_width,
            c.n_distinct,
            mcv.join("\x1e"),
            mcf.join("\x1e"),
            hist.join("\x1e"),
            c.correlation.map(|x| x.to_string()).unwrap_or_default()
        ));
    }
    s
}

fn decode_table(line: &str) -> Option<(u32, TableStatistics)> {
    let mut parts = line.split('\x1d');
    let oid = parts.next()?.parse().ok()?;
    let reltuples = parts.next()?.parse().ok()?;
    let relpages = parts.next()?.parse().ok()?;
    let list = |s: &str| -> Vec<String> {
        if s.is_empty() {
            vec![]
        } else {
            s.split('\x1e').map(unesc).collect()
        }
    };
    let mut columns = Vec::new();
    for p in parts {
        let f: Vec<&str> = p.split('\x1f').collect();
        if f.len() != 8 {
            return None;
        }
        let vals = list(f[4]);
        let freqs: Vec<f64> = list(f[5]).iter().filter_map(|x| x.parse().ok()).collect();
        if vals.len() != freqs.len() {
            return None;
        }
        columns.push((
            f[0].parse().ok()?,
            ColumnStats {
                null_frac: f[1].parse().ok()?,
                avg_width: f[2].parse().ok()?,
                n_distinct: f[3].parse().ok()?,
                mcv: vals.into_iter().zip(freqs).collect(),
                histogram: list(f[6]),
                correlation: if f[7].is_empty() {
                    None
                } else {
                    f[7].parse().ok()
                },
            },
        ));
    }
    Some((
        oid,
        TableStatistics {
            reltuples,
            relpages,
            columns,
        },
    ))
}

/// A small deterministic generator for sampling (xorshift64*).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn width(v: &Value) -> usize {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int2(_) => 2,
        Value::Int4(_) | Value::Float4(_) | Value::Date(_) => 4,
        Value::Int8(_) | Value::Float8(_) | Value::Timestamp(_) | Value::TimestampTz(_) => 8,
        Value::Text(s) => s.len() + if s.len() < 127 { 1 } else { 4 },
        Value::Bytea(b) => b.len() + if b.len() < 127 { 1 } else { 4 },
        Value::Numeric(n) => 3 + n.to_string().len() / 2,
        Value::Interval(_) | Value::Uuid(_) => 16,
        Value::Time(_) => 8,
        Value::Array(a) => 24 + a.items.iter().map(width).sum::<usize>(),
        Value::Json(s) => s.len() + 4,
        Value::Enum(_) => 4,
        Value::Jsonb(j) => j.to_string().len() + 4,
    }
}

/// Statistics of one column from its sampled values (in physical order),
/// for a table of `total` rows.
fn column_stats(values: &[Value], total: f64) -> ColumnStats {
    let n = values.len();
    let nulls = values.iter().filter(|v| v.is_null()).count();
    let null_frac = if n == 0 { 0.0 } else { nulls as f64 / n as f64 };
    let mut nonnull: Vec<(usize, &Value)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .collect();
    let nn = nonnull.len();
    let avg_width = nonnull
        .iter()
        .map(|(_, v)| width(v))
        .sum::<usize>()
        .checked_div(nn)
        .unwrap_or(0) as i32;
    nonnull.sort_by(|a, b| a.1.cmp_total(b.1));
    // Groups of equal values: (first index in sorted order, count).
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for i in 0..nn {
        match groups.last_mut() {
            Some((s, c)) if nonnull[*s].1.cmp_total(nonnull[i].1).is_eq() => *c += 1,
            _ => groups.push((i, 1)),
        }
    }
    let d = groups.len();
    let f1 = groups.iter().filter(|g| g.1 == 1).count();
    let total_nonnull = total * (1.0 - null_frac);
    let whole = (nn as f64) >= total_nonnull - 0.5;
    let n_distinct = if d == 0 {
        0.0
    } else if f1 == d && !whole {
        -(1.0 - null_frac)
    } else if whole {
        if d as f64 > 0.1 * total_nonnull.max(1.0) && f1 == d {
            -(1.0 - null_frac)
        } else {
            d as f64
        }
    } else {
        // Haas and Stokes' estimator, as PostgreSQL uses.
        let (nf, f1f, df) = (nn as f64, f1 as f64, d as f64);
        let est = (nf * df / (nf - f1f + f1f * nf / total_nonnull.max(nf))).round();
        let est = est.clamp(df, total_nonnull.max(df));
        if est > 0.1 * total_nonnull {
            -(est / total.max(1.0))
        } else {
            est
        }
    };
    // Most common values: all of them when every value repeats and they fit,
    // else those clearly above the average frequency.
    let mut by_count: Vec<(usize, usize)> = groups.clone();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mcv_groups: Vec<(usize, usize)> = if d <= STATS_TARGET && f1 == 0 {
        by_count.clone()
    } else {
        let avg = nn as f64 / d.max(1) as f64;
        by_count
            .iter()
            .copied()
            .filter(|g| g.1 > 1 && g.1 as f64 > 1.25 * avg)
            .take(STATS_TARGET)
            .collect()
    };
    let mcv: Vec<(String, f64)> = mcv_groups
        .iter()
        .map(|(s, c)| (nonnull[*s].1.to_string(), *c as f64 / n as f64))
        .collect();
    // Histogram over the values not in the MCV list.
    let in_mcv: std::collections::HashSet<usize> = mcv_groups.iter().map(|g| g.0).collect();
    let rest: Vec<&Value> = groups
        .iter()
        .filter(|g| !in_mcv.contains(&g.0))
        .flat_map(|(s, c)| nonnull[*s..*s + *c].iter().map(|x| x.1))
        .collect();
    let distinct_rest = groups.len() - in_mcv.len();
    let histogram = if distinct_rest < 2 {
        vec![]
    } else {
        let buckets = STATS_TARGET.min(distinct_rest - 1).max(1);
        let m = rest.len();
        let mut h: Vec<String> = (0..=buckets)
            .map(|i| rest[i * (m - 1) / buckets].to_string())
            .collect();
        h.dedup();
        h
    };
    // Correlation between physical order and value order (ranks).
    let correlation = if nn < 2 {
        None
    } else {
        let mut rank = vec![0f64; values.len()];
        for (r, (pos, _)) in nonnull.iter().enumerate() {
            rank[*pos] = r as f64;
        }
        let xs: Vec<f64> = nonnull.iter().map(|(p, _)| *p as f64).collect::<Vec<_>>();
        let mut pos_sorted = xs.clone();
        pos_sorted.sort_by(|a, b| a.total_cmp(b));
        // x: physical rank among non-nulls; y: value rank.
        let phys_rank: HashMap<usize, f64> = pos_sorted
            .iter()
            .enumerate()
            .map(|(i, p)| (*p as usize, i as f64))
            .collect();
        let pairs: Vec<(f64, f64)> = nonnull
            .iter()
            .map(|(p, _)| (phys_rank[p], rank[*p]))
            .collect();
        let k = pairs.len() as f64;
        let mx = pairs.iter().map(|p| p.0).sum::<f64>() / k;
        let my = pairs.iter().map(|p| p.1).sum::<f64>() / k;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (x, y) in &pairs {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
            syy += (y - my) * (y - my);
        }
        if sxx == 0.0 || syy == 0.0 {
            Some(1.0)
        } else {
            Some(sxy / (sxx * syy).sqrt())
        }
    };
    ColumnStats {
        null_frac,
        avg_width,
        n_distinct,
        mcv,
        histogram,
        correlation,
    }
}

impl Session {
    /// ANALYZE of the given tables (all when none), optionally of some
    /// columns only.
    pub(crate) fn analyze(&mut self, tables: &[(Arc<TableDef>, Vec<usize>)]) -> Result<ExecResult> {
        let list: Vec<(Arc<TableDef>, Vec<usize>)> = if tables.is_empty() {
            self.schema()?
                .tables
                .iter()
                .map(|t| (t.clone(), vec![]))
                .collect()
        } else {
            tables.to_vec()
        };
        let auto = self.autovacuum;
        let mut notices = Vec::new();
        for (t, cols) in &list {
            if !self.may_maintain(t)? {
                notices.push(format!(
                    "WARNING: permission denied to analyze \"{}\", skipping it",
                    t.name
                ));
                continue;
            }
            match self.lock_table(t.oid, TableLockMode::ShareUpdateExclusive, auto, &t.name) {
                Ok(()) => {}
                Err(ExecError::LockNotAvailable(_)) if auto => continue,
                Err(e) => return Err(e),
            }
            let Some(t) = self.schema()?.table_by_oid(t.oid).cloned() else {
                continue;
            };
            self.analyze_table(&t, cols, auto)?;
        }
        Ok(ExecResult {
            tag: "ANALYZE".into(),
            notices,
            ..Default::default()
        })
    }

    /// Samples `t` and stores its statistics (of `cols`, or every column).
    pub(crate) fn analyze_table(&mut self, t: &TableDef, cols: &[usize], auto: bool) -> Result<()> {
        let st = self.db.st.clone();
        let snap = st.txns.snapshot(basalt_storage::INVALID_XID, 0);
        let nblocks = st.nblocks(t.filenode)?;
        // Blocks to read: all, or an even spread of SAMPLE_ROWS of them.
        let blocks: Vec<u32> = if nblocks as usize <= SAMPLE_ROWS {
            (0..nblocks).collect()
        } else {
            (0..SAMPLE_ROWS)
                .map(|i| (i as u64 * nblocks as u64 / SAMPLE_ROWS as u64) as u32)
                .collect()
        };
        let types = t.types();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ t.oid as u64);
        let mut sample: Vec<(u64, Vec<Value>)> = Vec::new();
        let mut seen = 0u64;
        let mut buf = Vec::new();
        for &blk in &blocks {
            if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(StorageError::Cancelled.into());
            }
            buf.clear();
            st.heap_page_visible(t.filenode, blk, &snap, &mut buf)?;
            for (_, data) in &buf {
                let row = decode_row(&types, data)
                    .ok_or_else(|| StorageError::Corrupt(format!("bad row in {}", t.name)))?;
                // Reservoir sampling keeps a uniform sample of SAMPLE_ROWS.
                if sample.len() < SAMPLE_ROWS {
                    sample.push((seen, row));
                } else {
                    let j = rng.below(seen + 1) as usize;
                    if j < SAMPLE_ROWS {
                        sample[j] = (seen, row);
                    }
                }
                seen += 1;
            }
        }
        drop(snap);
        sample.sort_by_key(|s| s.0);
        let total = if blocks.len() as u32 == nblocks {
            seen as f64
        } else {
            (seen as f64 / blocks.len().max(1) as f64 * nblocks as f64).round()
        };
        let wanted: Vec<usize> = if cols.is_empty() {
            (0..t.columns.len()).collect()
        } else {
            cols.to_vec()
        };
        let mut columns = Vec::new();
        for c in wanted {
            let vals: Vec<Value> = sample.iter().map(|(_, r)| r[c].clone()).collect();
            columns.push((c, column_stats(&vals, total)));
        }
        // Columns not analyzed this time keep their earlier statistics.
        if let Some(old) = self.db.statistics.get(t.oid) {
            for (c, s) in &old.columns {
                if c < &t.columns.len() && !columns.iter().any(|x| x.0 == *c) {
                    columns.push((*c, s.clone()));
                }
            }
        }
        columns.sort_by_key(|c| c.0);
        self.db.statistics.tables.write().insert(
            t.oid,
            Arc::new(TableStatistics {
                reltuples: total,
                relpages: nblocks,
                columns,
            }),
        );
        let schema = self.db.catalog.committed_schema()?;
        self.db
            .statistics
            .save(&st.dir, &|oid| schema.table_by_oid(oid).is_some())
            .map_err(|e| ExecError::Storage(StorageError::Io(e)))?;
        self.db
            .table_stats
            .table(t.oid)
            .analyzed(auto, total as u64);
        Ok(())
    }

    /// pg_stats: one row per analyzed column.
    pub(crate) fn pg_stats_rows(&self) -> Vec<Vec<Value>> {
        let Ok(schema) = self.db.catalog.committed_schema() else {
            return vec![];
        };
        let arr = |v: &[String]| -> Value {
            if v.is_empty() {
                return Value::Null;
            }
            let items: Vec<String> = v.iter().map(|s| array_item(s)).collect();
            Value::Text(format!("{{{}}}", items.join(",")))
        };
        let mut out = Vec::new();
        for (oid, ts) in self.db.statistics.all() {
            let Some(t) = schema.table_by_oid(oid) else {
                continue;
            };
            for (c, s) in &ts.columns {
                let Some(col) = t.columns.get(*c) else {
                    continue;
                };
                let vals: Vec<String> = s.mcv.iter().map(|m| m.0.clone()).collect();
                let freqs: Vec<String> = s.mcv.iter().map(|m| format!("{}", m.1 as f32)).collect();
                out.push(vec![
                    Value::Text(schema.namespace_name(t.namespace)),
                    Value::Text(t.name.clone()),
                    Value::Text(col.name.clone()),
                    Value::Bool(false),
                    Value::Float4(s.null_frac as f32),
                    Value::Int4(s.avg_width),
                    Value::Float4(s.n_distinct as f32),
                    arr(&vals),
                    if freqs.is_empty() {
                        Value::Null
                    } else {
                        Value::Text(format!("{{{}}}", freqs.join(",")))
                    },
                    arr(&s.histogram),
                    s.correlation
                        .map(|c| Value::Float4(c as f32))
                        .unwrap_or(Value::Null),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        out
    }
}

/// An array element as PostgreSQL's array output writes it (quoted when it
/// has to be).
fn array_item(s: &str) -> String {
    let needs = s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.chars()
            .any(|c| matches!(c, ',' | '{' | '}' | '"' | '\\' | ' ' | '\t' | '\n'));
    if !needs {
        return s.to_string();
    }
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_statistics() {
        // 1000 rows: 10% null, values 0..9 repeating, in physical order.
        let vals: Vec<Value> = (0..1000)
            .map(|i| {
                if i % 10 == 0 {
                    Value::Null
                } else {
                    Value::Int4(i / 100)
                }
            })
            .collect();
        let s = column_stats(&vals, 1000.0);
        assert!((s.null_frac - 0.1).abs() < 1e-9);
        assert_eq!(s.n_distinct, 10.0);
        assert_eq!(s.mcv.len(), 10);
        assert!((s.mcv.iter().map(|m| m.1).sum::<f64>() - 0.9).abs() < 1e-9);
        assert!(s.histogram.is_empty());
        assert!(s.correlation.unwrap() > 0.99);
        // Unique values in reverse order: n_distinct -1, a histogram, and
        // correlation -1.
        let vals: Vec<Value> = (0..500).rev().map(Value::Int4).collect();
        let s = column_stats(&vals, 5000.0);
        assert_eq!(s.n_distinct, -1.0);
        assert!(s.mcv.is_empty());
        assert_eq!(s.histogram.len(), 101);
        assert_eq!(s.histogram[0], "0");
        assert_eq!(s.histogram[100], "499");
        assert!(s.correlation.unwrap() < -0.99);
    }

    #[test]
    fn file_round_trip() {
        let t = TableStatistics {
            reltuples: 12.0,
            relpages: 3,
            columns: vec![(
                1,
                ColumnStats {
                    null_frac: 0.5,
                    avg_width: 7,
                    n_distinct: -0.25,
                    mcv: vec![("a,\x1e\\b".into(), 0.5), ("c\nd".into(), 0.25)],
                    histogram: vec!["x".into(), "y".into()],
                    correlation: Some(0.5),
                },
            )],
        };
        let line = encode_table(42, &t);
        assert_eq!(decode_table(&line), Some((42, t)));
    }
}
