//! The statistics and health views computed from live counters:
//! pg_stat_database, pg_stat_wal, pg_stat_user_tables, pg_stat_user_indexes,
//! pg_stat_bgwriter, basalt_buffer_pool and basalt_health. The session and
//! lock views (pg_stat_activity, pg_locks) live in activity.rs.

use basalt_catalog::Value;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl crate::session::Session {
    /// pg_stat_progress_vacuum: one row per running VACUUM.
    pub(crate) fn vacuum_progress_rows(&self) -> Vec<Vec<Value>> {
        let mut out = Vec::new();
        for b in self.db.registry.all() {
            let Some(p) = b.vacuum.lock().clone() else {
                continue;
            };
            let n =
                |a: &std::sync::atomic::AtomicU64| Value::Int8(a.load(Ordering::Relaxed) as i64);
            out.push(vec![
                Value::Int4(b.pid),
                Value::Int8(b.database.load(Ordering::Relaxed) as i64),
                Value::Text(self.database_name()),
                n(&p.relid),
                Value::Text(p.phase().name().into()),
                n(&p.heap_blks_total),
                n(&p.heap_blks_scanned),
                n(&p.heap_blks_vacuumed),
                n(&p.index_vacuum_count),
                Value::Int8(1 << 20),
                n(&p.num_dead_tuples),
            ]);
        }
        out
    }

    /// pg_stat_database: a row per database (and PostgreSQL's row for
    /// shared objects, datid 0, with its counters at zero). The counters
    /// are the cluster's: every database's row shows them.
    pub(crate) fn database_stats(&self) -> Vec<Vec<Value>> {
        let mut out = vec![];
        let Ok(schema) = self.schema() else {
            return out;
        };
        let backends = self.db.registry.all();
        for d in &schema.databases {
            let n = backends
                .iter()
                .filter(|b| b.database.load(Ordering::Relaxed) == d.oid)
                .count();
            let mut row = self.database_stats_row(d.oid, &d.name, n as i32);
            if out.is_empty() {
                out.push(row.remove(0));
            }
            out.extend(row);
        }
        out
    }

    fn database_stats_row(&self, oid: u32, name: &str, backends: i32) -> Vec<Vec<Value>> {
        let st = &self.db.st;
        let n = |a: &std::sync::atomic::AtomicU64| Value::Int8(a.load(Ordering::Relaxed) as i64);
        let zero = || Value::Int8(0);
        let mut db = vec![
            Value::Int8(oid as i64),
            Value::Text(name.into()),
            Value::Int4(backends),
            n(&st.stats.commits),
            n(&st.stats.rollbacks),
            n(&st.pool.stats.reads),
            n(&st.pool.stats.hits),
        ];
        db.extend((0..5).map(|_| zero())); // tup_*
        db.extend([zero(), zero(), zero()]); // conflicts, temp_files, temp_bytes
        db.push(n(&st.stats.deadlocks));
        db.push(zero()); // checksum_failures
        db.push(Value::Null);
        db.extend((0..5).map(|_| Value::Float8(0.0)));
        db.push(Value::Int8(self.db.registry.sessions_started() as i64));
        db.extend([zero(), zero(), zero()]);
        db.push(Value::Null);
        let mut shared = vec![Value::Int8(0), Value::Null, Value::Int4(0)];
        shared.extend((0..4).map(|_| zero()));
        shared.extend((0..9).map(|_| zero()));
        shared.push(zero());
        shared.push(Value::Null);
        shared.extend((0..5).map(|_| Value::Float8(0.0)));
        shared.extend((0..4).map(|_| zero()));
        shared.push(Value::Null);
        vec![shared, db]
    }

    pub(crate) fn wal_stats(&self) -> Vec<Vec<Value>> {
        let wal = &self.db.st.wal;
        let bytes = wal.bytes_written.load(Ordering::Relaxed);
        let syncs = wal.fsyncs.load(Ordering::Relaxed) as i64;
        vec![vec![
            Value::Int8(0),
            Value::Int8(0),
            Value::Numeric(bytes.into()),
            Value::Int8(0),
            Value::Int8(syncs),
            Value::Int8(syncs),
            Value::Float8(0.0),
            Value::Float8(0.0),
            Value::Null,
        ]]
    }

    /// pg_stat_user_tables. Live and dead row counts are estimates kept as
    /// transactions end and reset by VACUUM and ANALYZE.
    pub(crate) fn table_stats_rows(&self) -> Vec<Vec<Value>> {
        use crate::stats::TableStats as T;
        let Ok(schema) = self.schema() else {
            return vec![];
        };
        let mut out = Vec::new();
        for tb in &schema.tables {
            let c = self.db.table_stats.table(tb.oid);
            let g = |a: &std::sync::atomic::AtomicU64| T::get(a);
            let (ins, upd, del) = (g(&c.n_tup_ins), g(&c.n_tup_upd), g(&c.n_tup_del));
            let i = |v: u64| Value::Int8(v as i64);
            let si =
                |a: &std::sync::atomic::AtomicI64| Value::Int8(a.load(Ordering::Relaxed).max(0));
            let ts = |a: &std::sync::atomic::AtomicU64| match a.load(Ordering::Relaxed) {
                0 => Value::Null,
                us => chrono::DateTime::from_timestamp_micros(us as i64)
                    .map(Value::TimestampTz)
                    .unwrap_or(Value::Null),
            };
            out.push(vec![
                Value::Int8(tb.oid as i64),
                Value::Text(schema.namespace_name(tb.namespace)),
                Value::Text(tb.name.clone()),
                i(g(&c.seq_scan)),
                i(g(&c.seq_tup_read)),
                i(g(&c.idx_scan)),
                i(g(&c.idx_tup_fetch)),
                i(ins),
                i(upd),
                i(del),
                i(0),
                si(&c.n_live_tup),
                si(&c.n_dead_tup),
                si(&c.n_mod_since_analyze),
                si(&c.n_ins_since_vacuum),
                ts(&c.last_vacuum),
                ts(&c.last_autovacuum),
                ts(&c.last_analyze),
                ts(&c.last_autoanalyze),
                i(g(&c.vacuum_count)),
                i(g(&c.autovacuum_count)),
                i(g(&c.analyze_count)),
                i(g(&c.autoanalyze_count)),
            ]);
        }
        out
    }

    /// pg_stat_user_indexes: scans of each index and the rows they fetched.
    pub(crate) fn index_stats_rows(&self) -> Vec<Vec<Value>> {
        use crate::stats::TableStats as T;
        let Ok(schema) = self.schema() else {
            return vec![];
        };
        let mut out = Vec::new();
        for tb in &schema.tables {
            for ix in &tb.indexes {
                let c = self.db.table_stats.table(ix.oid);
                let fetched = T::get(&c.idx_tup_fetch) as i64;
                out.push(vec![
                    Value::Int8(tb.oid as i64),
                    Value::Int8(ix.oid as i64),
                    Value::Text(schema.namespace_name(tb.namespace)),
                    Value::Text(tb.name.clone()),
                    Value::Text(ix.name.clone()),
                    Value::Int8(T::get(&c.idx_scan) as i64),
                    Value::Int8(fetched),
                    Value::Int8(fetched),
                ]);
            }
        }
        out
    }

    pub(crate) fn bgwriter_stats(&self) -> Vec<Vec<Value>> {
        let st = &self.db.st;
        let n = |v: u64| Value::Int8(v as i64);
        let all = st.stats.checkpoints.load(Ordering::Relaxed);
        let req = st.stats.checkpoints_req.load(Ordering::Relaxed).min(all);
        let written = st.stats.buffers_checkpoint.load(Ordering::Relaxed);
        vec![vec![
            n(all - req),
            n(req),
            Value::Float8(st.stats.checkpoint_write_ms.load(Ordering::Relaxed) as f64),
            Value::Float8(st.stats.checkpoint_sync_ms.load(Ordering::Relaxed) as f64),
            n(written),
            n(0),
            n(0),
            n(st.pool
                .stats
                .writes
                .load(Ordering::Relaxed)
                .saturating_sub(written)),
            n(0),
            n(st.pool.stats.reads.load(Ordering::Relaxed)),
            Value::Null,
        ]]
    }

    /// pg_stat_checkpointer (PostgreSQL 17's split of pg_stat_bgwriter).
    pub(crate) fn checkpointer_stats(&self) -> Vec<Vec<Value>> {
        let b = self.bgwriter_stats().remove(0);
        vec![vec![
            b[0].clone(),
            b[1].clone(),
            Value::Int8(0),
            Value::Int8(0),
            Value::Int8(0),
            b[2].clone(),
            b[3].clone(),
            b[4].clone(),
            Value::Null,
        ]]
    }

    /// pg_statio_user_tables: pages of each table and its indexes found in
    /// the buffer pool (hit) or read from disk.
    pub(crate) fn statio_rows(&self) -> Vec<Vec<Value>> {
        let Ok(schema) = self.schema() else {
            return vec![];
        };
        let n = |v: u64| Value::Int8(v as i64);
        schema
            .tables
            .iter()
            .map(|t| {
                let (hh, hr) = self.db.st.pool.rel_io(t.filenode);
                let (ih, ir) = t.indexes.iter().fold((0, 0), |acc, i| {
                    let (h, r) = self.db.st.pool.rel_io(i.filenode);
                    (acc.0 + h, acc.1 + r)
                });
                let has_ix = !t.indexes.is_empty();
                vec![
                    Value::Int8(t.oid as i64),
                    Value::Text(schema.namespace_name(t.namespace)),
                    Value::Text(t.name.clone()),
                    n(hr),
                    n(hh),
                    if has_ix { n(ir) } else { Value::Null },
                    if has_ix { n(ih) } else { Value::Null },
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]
            })
            .collect()
    }

    /// basalt_health: an overall row, then one row per check, each
    /// healthy, degraded or unhealthy.
    pub(crate) fn health_rows(&self) -> Vec<Vec<Value>> {
        let st = &self.db.st;
        let mut checks: Vec<(&str, &str, String, String, String)> = Vec::new();
        let setting_u64 = |n: &str, parse: fn(&str) -> Option<u64>, d: u64| {
            self.setting(n).and_then(|v| parse(&v)).unwrap_or(d)
        };
        // Disk space on the data directory, against the free-space
        // thresholds (percent) health_disk_degraded_pct and _unhealthy_pct.
        let pct_setting = |n: &str, d: f64| {
            self.setting(n)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(d)
        };
        let (warn, fail) = (
            pct_setting("health_disk_degraded_pct", 10.0),
            pct_setting("health_disk_unhealthy_pct", 5.0),
        );
        match st.disk_space() {
            Some((avail, total)) if total > 0 => {
                let pct = avail as f64 * 100.0 / total as f64;
                let status = if pct < fail {
                    "unhealthy"
                } else if pct < warn {
                    "degraded"
                } else {
                    "healthy"
                };
                checks.push((
                    "disk_space",
                    status,
                    format!("{pct:.1}% free"),
                    format!("{warn}% free (degraded), {fail}% (unhealthy)"),
                    format!("{avail} of {total} bytes available"),
                ));
            }
            _ => checks.push((
                "disk_space",
                "degraded",
                "unknown".into(),
                String::new(),
                "statvfs failed".into(),
            )),
        }
        // WAL since the last checkpoint against max_wal_size.
        let wal = st.wal.insert_lsn().saturating_sub(st.wal.redo_ptr());
        let max_wal = setting_u64("max_wal_size", basalt_catalog::cast::parse_size, 1 << 30);
        checks.push((
            "wal_size",
            if wal > max_wal { "degraded" } else { "healthy" },
            format!("{wal} bytes"),
            format!("{max_wal} bytes (max_wal_size)"),
            "WAL written since the last checkpoint's redo point".into(),
        ));
        // Age of the last checkpoint against checkpoint_timeout.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let last = st.stats.last_checkpoint_unix.load(Ordering::Relaxed);
        let age = now.saturating_sub(last);
        let timeout = setting_u64("checkpoint_timeout", parse_secs, 300);
        checks.push((
            "checkpoint_age",
            if age > 2 * timeout {
                "degraded"
            } else {
                "healthy"
            },
            format!("{age} s"),
            format!("{} s (twice checkpoint_timeout)", 2 * timeout),
            "time since the last checkpoint completed".into(),
        ));
        // Buffer hit ratio, once there is enough traffic to judge.
        let hits = st.pool.stats.hits.load(Ordering::Relaxed);
        let reads = st.pool.stats.reads.load(Ordering::Relaxed);
        let ratio = if hits + reads == 0 {
            1.0
        } else {
            hits as f64 / (hits + reads) as f64
        };
        checks.push((
            "buffer_hit_ratio",
            if hits + reads > 10_000 && ratio < 0.9 {
                "degraded"
            } else {
                "healthy"
            },
            format!("{ratio:.4}"),
            "0.90".into(),
            format!("{hits} hits, {reads} reads"),
        ));
        // Connections against max_connections.
        let conns = self.db.registry.all().len() as u64;
        let max = setting_u64("max_connections", |v| v.parse().ok(), 100);
        checks.push((
            "connections",
            if conns >= max {
                "unhealthy"
            } else if conns * 10 >= max * 9 {
                "degraded"
            } else {
                "healthy"
            },
            conns.to_string(),
            format!("{max} (max_connections)"),
            "sessions connected now".into(),
        ));
        let overall = if checks.iter().any(|c| c.1 == "unhealthy") {
            "unhealthy"
        } else if checks.iter().any(|c| c.1 == "degraded") {
            "degraded"
        } else {
            "healthy"
        };
        let t = |s: &str| Value::Text(s.to_string());
        let mut out = vec![vec![
            t("overall"),
            t(overall),
            t(&format!("{} checks", checks.len())),
            Value::Null,
            t("the worst of the checks below"),
        ]];
        for (c, s, v, th, d) in checks {
            out.push(vec![t(c), t(s), t(&v), t(&th), t(&d)]);
        }
        out
    }

    pub(crate) fn buffer_pool_stats(&self) -> Vec<Vec<Value>> {
        let pool = &self.db.st.pool;
        let (used, dirty) = pool.usage();
        let hits = pool.stats.hits.load(Ordering::Relaxed);
        let reads = pool.stats.reads.load(Ordering::Relaxed);
        let ratio = if hits + reads == 0 {
            1.0
        } else {
            hits as f64 / (hits + reads) as f64
        };
        vec![vec![
            Value::Int8(pool.capacity() as i64),
            Value::Int8((pool.capacity() * basalt_storage::page::PAGE_SIZE) as i64),
            Value::Int8(used as i64),
            Value::Int8(dirty as i64),
            Value::Int8(hits as i64),
            Value::Int8(reads as i64),
            Value::Int8(pool.stats.writes.load(Ordering::Relaxed) as i64),
            Value::Float8(ratio),
        ]]
    }
}

/// "30s", "5min", "1h" or a number of seconds.
fn parse_secs(s: &str) -> Option<u64> {
    basalt_catalog::cast::parse_duration(s, Duration::from_secs(1)).map(|d| d.as_secs())
}
