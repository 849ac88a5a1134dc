//! The autovacuum worker: every `autovacuum_naptime` it looks at each
//! table's dead and changed row estimates (pg_stat_user_tables) and runs
//! VACUUM or ANALYZE where PostgreSQL's formulas say so:
//!
//!   vacuum  when n_dead_tup          > autovacuum_vacuum_threshold  + autovacuum_vacuum_scale_factor  × reltuples
//!   analyze when n_mod_since_analyze > autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples
//!
//! It works through an ordinary session (so it shows in pg_stat_activity and
//! takes the same table locks) and skips a table another session holds.

use crate::session::Database;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct AutovacuumConfig {
    pub naptime: Duration,
    pub vacuum_threshold: f64,
    pub vacuum_scale_factor: f64,
    pub analyze_threshold: f64,
    pub analyze_scale_factor: f64,
}

impl AutovacuumConfig {
    /// From the server's settings; None when `autovacuum` is off.
    pub fn from_settings(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let on = get("autovacuum").unwrap_or_else(|| "on".into());
        if !basalt_catalog::cast::parse_bool(&on)
            .ok_or_else(|| format!("invalid value for parameter \"autovacuum\": \"{on}\""))?
        {
            return Ok(None);
        }
        let num = |name: &str, default: f64| -> Result<f64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| *x >= 0.0)
                    .ok_or_else(|| format!("invalid value for parameter \"{name}\": \"{v}\"")),
            }
        };
        let nap = get("autovacuum_naptime").unwrap_or_else(|| "1min".into());
        let naptime = basalt_catalog::cast::parse_duration(&nap, Duration::from_secs(1))
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!("invalid value for parameter \"autovacuum_naptime\": \"{nap}\"")
            })?;
        Ok(Some(AutovacuumConfig {
            naptime,
            vacuum_threshold: num("autovacuum_vacuum_threshold", 50.0)?,
            vacuum_scale_factor: num("autovacuum_vacuum_scale_factor", 0.2)?,
            analyze_threshold: num("autovacuum_analyze_threshold", 50.0)?,
            analyze_scale_factor: num("autovacuum_analyze_scale_factor", 0.1)?,
        }))
    }
}

/// Starts the worker thread; it stops when `stop` is set.
pub fn start(db: Arc<Database>, cfg: AutovacuumConfig, stop: &'static AtomicBool) {
    let spawned = std::thread::Builder::new()
        .name("autovacuum".into())
        .spawn(move || {
            let mut next = Instant::now() + cfg.naptime;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100).min(cfg.naptime));
                if Instant::now() < next {
                    continue;
                }
                run_pass(&db, &cfg);
                next = Instant::now() + cfg.naptime;
            }
        });
    if let Err(e) = spawned {
        tracing::error!("could not start the autovacuum worker: {e}");
    }
}

/// One look at every table; returns what it ran (for logs and tests).
pub fn run_pass(db: &Arc<Database>, cfg: &AutovacuumConfig) -> Vec<String> {
    let Ok(schema) = db.catalog.committed_schema() else {
        return vec![];
    };
    let mut done = Vec::new();
    let mut sessions: std::collections::HashMap<u32, crate::Session> = Default::default();
    for t in &schema.tables {
        let c = db.table_stats.table(t.oid);
        let reltuples = db
            .statistics
            .get(t.oid)
            .map(|s| s.reltuples)
            .unwrap_or(0.0)
            .max(c.live() as f64);
        let vacuum = c.dead() as f64 > cfg.vacuum_threshold + cfg.vacuum_scale_factor * reltuples;
        let changed = c.n_mod_since_analyze.load(Ordering::Relaxed).max(0) as f64;
        let analyze = changed > cfg.analyze_threshold + cfg.analyze_scale_factor * reltuples;
        if !vacuum && !analyze {
            continue;
        }
        // Each table's VACUUM runs in a session of the table's database.
        let database = match schema.namespace_database(t.namespace) {
            0 => basalt_catalog::store::DATABASE_OID,
            d => d,
        };
        let s = sessions.entry(database).or_insert_with(|| {
            let mut s = db.session();
            s.set_database_oid(database);
            s.autovacuum = true;
            s.backend.activity.lock().autovacuum = true;
            s
        });
        let name = format!(
            "\"{}\".\"{}\"",
            schema.namespace_name(t.namespace),
            t.name.replace('"', "\"\"")
        );
        let sql = match (vacuum, analyze) {
            (true, true) => format!("VACUUM (ANALYZE) {name}"),
            (true, false) => format!("VACUUM {name}"),
            _ => format!("ANALYZE {name}"),
        };
        for r in s.execute_sql(&sql) {
            if let Err(e) = r {
                tracing::warn!(table = %t.name, "autovacuum: {sql} failed: {e}");
            }
        }
        done.push(sql);
    }
    done
}
