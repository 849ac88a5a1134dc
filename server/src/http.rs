//! HTTP for monitoring on its own port (`metrics_port`; 0, the default,
//! turns it off; `metrics_listen_address`, loopback by default):
//! `GET /health` answers the checks of the `basalt_health` view as JSON,
//! 200 when all are healthy and 503 otherwise; `GET /metrics` answers the
//! statistics views in Prometheus' text format, under postgres_exporter's
//! names where it has one (`pg_stat_database_*`, `pg_up`) and `basalt_*`
//! otherwise. Each request reads the views through a short-lived session,
//! so the numbers are exactly what SQL shows.

use basalt_catalog::Value;
use basalt_executor::{Database, ExecResult};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Starts the HTTP thread; returns the address it listens on.
pub fn start(db: Arc<Database>, addr: &str, port: u16) -> Result<std::net::SocketAddr, String> {
    let l = TcpListener::bind((addr, port)).map_err(|e| format!("metrics_port {port}: {e}"))?;
    let local = l.local_addr().map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || {
            for s in l.incoming().flatten() {
                let db = db.clone();
                let _ = std::thread::Builder::new()
                    .name("http-conn".into())
                    .spawn(move || {
                        if let Err(e) = handle(&db, s) {
                            tracing::debug!("http: {e}");
                        }
                    });
            }
        })
        .map_err(|e| e.to_string())?;
    tracing::info!(%local, "serving /health and /metrics");
    Ok(local)
}

fn handle(db: &Arc<Database>, s: TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut rd = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    rd.read_line(&mut line)?;
    // Skip the headers.
    loop {
        let mut h = String::new();
        if rd.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (code, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/health") => {
            let (healthy, json) = health(db);
            (if healthy { 200 } else { 503 }, "application/json", json)
        }
        ("GET", "/metrics") => (200, "text/plain; version=0.0.4", metrics(db)),
        ("GET", _) => (404, "text/plain", "not found\n".to_string()),
        _ => (405, "text/plain", "method not allowed\n".to_string()),
    };
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut w = s;
    write!(
        w,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
}

/// Rows of one query through a short-lived session (empty on error).
fn rows(db: &Arc<Database>, sql: &str) -> Vec<Vec<Value>> {
    let mut s = db.session();
    match s.execute_sql(sql).pop() {
        Some(Ok(ExecResult { rows, .. })) => rows,
        _ => vec![],
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Text(t) => t.clone(),
        other => other.to_string(),
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// (all healthy, the JSON document).
fn health(db: &Arc<Database>) -> (bool, String) {
    let r = rows(
        db,
        "SELECT \"check\", status, value, threshold, detail FROM basalt_health",
    );
    let mut overall = "unhealthy".to_string();
    let mut checks = Vec::new();
    for row in &r {
        let f: Vec<String> = row.iter().map(text).collect();
        if f[0] == "overall" {
            overall = f[1].clone();
            continue;
        }
        checks.push(format!(
            "{{\"check\":{},\"status\":{},\"value\":{},\"threshold\":{},\"detail\":{}}}",
            json_str(&f[0]),
            json_str(&f[1]),
            json_str(&f[2]),
            json_str(&f[3]),
            json_str(&f[4])
        ));
    }
    (
        overall == "healthy",
        format!(
            "{{\"status\":{},\"checks\":[{}]}}\n",
            json_str(&overall),
            checks.join(",")
        ),
    )
}

/// One metric family: HELP, TYPE and samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, String)]) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
    for (labels, v) in samples {
        out.push_str(&format!("{name}{labels} {v}\n"));
    }
}

fn metrics(db: &Arc<Database>) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "pg_up",
        "gauge",
        "Whether the server answers.",
        &[(String::new(), "1".into())],
    );
    let num = |v: &Value| {
        let t = text(v);
        if t.is_empty() {
            "0".to_string()
        } else {
            t
        }
    };
    let dbs = rows(
        db,
        "SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, deadlocks \
         FROM pg_stat_database WHERE datname IS NOT NULL",
    );
    let cols = [
        (
            "numbackends",
            "gauge",
            "Sessions connected to the database.",
        ),
        ("xact_commit", "counter", "Transactions committed."),
        ("xact_rollback", "counter", "Transactions rolled back."),
        ("blks_read", "counter", "Pages read into the buffer pool."),
        (
            "blks_hit",
            "counter",
            "Page requests served from the buffer pool.",
        ),
        ("deadlocks", "counter", "Deadlocks detected."),
    ];
    for (i, (c, kind, help)) in cols.iter().enumerate() {
        let samples: Vec<(String, String)> = dbs
            .iter()
            .map(|r| (format!("{{datname=\"{}\"}}", text(&r[0])), num(&r[i + 1])))
            .collect();
        family(
            &mut out,
            &format!("pg_stat_database_{c}"),
            kind,
            help,
            &samples,
        );
    }
    let one = |sql: &str| rows(db, sql).into_iter().next().unwrap_or_default();
    let wal = one("SELECT wal_bytes, wal_sync FROM pg_stat_wal");
    if wal.len() == 2 {
        family(
            &mut out,
            "basalt_wal_bytes_total",
            "counter",
            "WAL bytes written.",
            &[(String::new(), num(&wal[0]))],
        );
        family(
            &mut out,
            "basalt_wal_fsyncs_total",
            "counter",
            "WAL fsyncs.",
            &[(String::new(), num(&wal[1]))],
        );
    }
    let bg = one("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter");
    if let Some(v) = bg.first() {
        family(
            &mut out,
            "basalt_checkpoints_total",
            "counter",
            "Checkpoints completed.",
            &[(String::new(), num(v))],
        );
    }
    let bp = one("SELECT size_pages, used_pages, dirty_pages, hits, reads FROM basalt_buffer_pool");
    if bp.len() == 5 {
        family(
            &mut out,
            "basalt_buffer_pool_pages",
            "gauge",
            "Buffer pool frames.",
            &[(String::new(), num(&bp[0]))],
        );
        family(
            &mut out,
            "basalt_buffer_pool_used_pages",
            "gauge",
            "Frames holding a page.",
            &[(String::new(), num(&bp[1]))],
        );
        family(
            &mut out,
            "basalt_buffer_pool_dirty_pages",
            "gauge",
            "Frames holding a changed page.",
            &[(String::new(), num(&bp[2]))],
        );
        family(
            &mut out,
            "basalt_buffer_hits_total",
            "counter",
            "Page requests served from the pool.",
            &[(String::new(), num(&bp[3]))],
        );
        family(
            &mut out,
            "basalt_buffer_reads_total",
            "counter",
            "Pages read from disk.",
            &[(String::new(), num(&bp[4]))],
        );
    }
    let tables = rows(
        db,
        "SELECT relname, n_dead_tup, n_live_tup FROM pg_stat_user_tables",
    );
    let dead: Vec<(String, String)> = tables
        .iter()
        .map(|r| (format!("{{relname=\"{}\"}}", text(&r[0])), num(&r[1])))
        .collect();
    family(
        &mut out,
        "pg_stat_user_tables_n_dead_tup",
        "gauge",
        "Estimated dead row versions.",
        &dead,
    );
    let live: Vec<(String, String)> = tables
        .iter()
        .map(|r| (format!("{{relname=\"{}\"}}", text(&r[0])), num(&r[2])))
        .collect();
    family(
        &mut out,
        "pg_stat_user_tables_n_live_tup",
        "gauge",
        "Estimated live rows.",
        &live,
    );
    for (col, help) in [
        ("vacuum_count", "Manual VACUUMs of the table."),
        ("autovacuum_count", "Autovacuum runs on the table."),
        ("analyze_count", "Manual ANALYZEs of the table."),
        ("autoanalyze_count", "Autoanalyze runs on the table."),
    ] {
        let samples: Vec<(String, String)> = rows(
            db,
            &format!("SELECT relname, {col} FROM pg_stat_user_tables"),
        )
        .iter()
        .map(|r| (format!("{{relname=\"{}\"}}", text(&r[0])), num(&r[1])))
        .collect();
        family(
            &mut out,
            &format!("pg_stat_user_tables_{col}"),
            "counter",
            help,
            &samples,
        );
    }
    let states: Vec<(String, String)> = rows(
        db,
        "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity GROUP BY 1 ORDER BY 1",
    )
    .iter()
    .map(|r| {
        (
            format!("{{datname=\"postgres\",state=\"{}\"}}", text(&r[0])),
            num(&r[1]),
        )
    })
    .collect();
    family(
        &mut out,
        "pg_stat_activity_count",
        "gauge",
        "Connections by state.",
        &states,
    );
    let kinds: Vec<(String, String)> = db
        .statement_counts
        .all()
        .into_iter()
        .map(|(k, n)| (format!("{{kind=\"{k}\"}}"), n.to_string()))
        .collect();
    family(
        &mut out,
        "basalt_statements_total",
        "counter",
        "Statements run, by kind.",
        &kinds,
    );
    // Commit latency: a cumulative histogram in seconds.
    let lat = &db.st.stats.commit_latency;
    let mut cum = 0u64;
    let mut samples = Vec::new();
    for (i, b) in basalt_storage::engine::COMMIT_BUCKETS.iter().enumerate() {
        cum += lat.buckets[i].load(std::sync::atomic::Ordering::Relaxed);
        samples.push((format!("_bucket{{le=\"{b}\"}}"), cum.to_string()));
    }
    cum += lat.buckets[12].load(std::sync::atomic::Ordering::Relaxed);
    samples.push(("_bucket{le=\"+Inf\"}".to_string(), cum.to_string()));
    let sum = lat.sum_micros.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6;
    samples.push(("_sum".to_string(), format!("{sum}")));
    samples.push(("_count".to_string(), cum.to_string()));
    family(
        &mut out,
        "basalt_commit_duration_seconds",
        "histogram",
        "Time to make a commit durable (WAL insert to flush).",
        &samples,
    );
    let health = rows(db, "SELECT \"check\", status FROM basalt_health");
    let samples: Vec<(String, String)> = health
        .iter()
        .map(|r| {
            let ok = text(&r[1]) == "healthy";
            (
                format!("{{check=\"{}\"}}", text(&r[0])),
                if ok { "1" } else { "0" }.into(),
            )
        })
        .collect();
    family(
        &mut out,
        "basalt_health_ok",
        "gauge",
        "1 when the health check passes.",
        &samples,
    );
    out
}
