//! The monitoring endpoint against the real binary: /health answers the
//! checks as JSON (200 when healthy, 503 when a check fails) and /metrics
//! answers Prometheus' text format with live counters.

mod common;

use common::{free_port, wire_client, Server, TempDir};
use std::io::{Read, Write};

fn get(port: u16, path: &str) -> (u16, String) {
    // The HTTP listener may come up just after the SQL port the start-up
    // waited for.
    let t0 = std::time::Instant::now();
    let mut s = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if t0.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("connect: {e}"),
        }
    };
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    let code = r
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    let body = r
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Checks each sample line is `name{labels} number` and returns the value
/// of `name` (first sample).
fn sample(metrics: &str, name: &str) -> f64 {
    let mut found = None;
    for line in metrics.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("name and value");
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let metric = key.split('{').next().unwrap();
        assert!(
            metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name: {line}"
        );
        if metric == name && found.is_none() {
            found = Some(v);
        }
    }
    found.unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
}

#[test]
fn health_and_metrics_answer_over_http() {
    let dir = TempDir::new("http");
    let mport = free_port();
    let srv = Server::start(
        &dir.0,
        &[
            "-c",
            &format!("metrics_port={mport}"),
            "-c",
            "max_connections=3",
        ],
    );
    let (code, body) = get(mport, "/health");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"status\":\"healthy\""), "{body}");
    assert!(body.contains("\"check\":\"disk_space\""), "{body}");

    let (code, m0) = get(mport, "/metrics");
    assert_eq!(code, 200);
    assert_eq!(sample(&m0, "pg_up"), 1.0);
    let commits0 = sample(&m0, "pg_stat_database_xact_commit");
    let mut c = wire_client(srv.port);
    c.simple_query("CREATE TABLE t (id int PRIMARY KEY)")
        .unwrap();
    c.simple_query("INSERT INTO t VALUES (1), (2)").unwrap();
    let (_, m1) = get(mport, "/metrics");
    assert!(sample(&m1, "pg_stat_database_xact_commit") > commits0);
    assert!(sample(&m1, "basalt_wal_bytes_total") > sample(&m0, "basalt_wal_bytes_total"));
    assert_eq!(sample(&m1, "pg_stat_user_tables_n_live_tup"), 2.0);

    // Two clients and the endpoint's own session reach max_connections: the
    // connections check fails and /health says 503.
    let _c2 = wire_client(srv.port);
    let (code, body) = get(mport, "/health");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("\"status\":\"unhealthy\""), "{body}");
    assert_eq!(get(mport, "/nope").0, 404);
}

/// A nearly full disk, simulated by raising the free-space threshold above
/// what the disk has: the disk check fails and /health says 503; /metrics
/// carries the commit latency histogram and statement counts.
#[test]
fn nearly_full_disk_turns_health_503() {
    let dir = TempDir::new("http-disk");
    let mport = free_port();
    let srv = Server::start(
        &dir.0,
        &[
            "-c",
            &format!("metrics_port={mport}"),
            "-c",
            "health_disk_unhealthy_pct=100.5",
        ],
    );
    let (code, body) = get(mport, "/health");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("\"status\":\"unhealthy\""), "{body}");
    let mut c = wire_client(srv.port);
    c.simple_query("CREATE TABLE t (id int)").unwrap();
    c.simple_query("INSERT INTO t VALUES (1)").unwrap();
    c.simple_query("SELECT * FROM t").unwrap();
    let (_, m) = get(mport, "/metrics");
    assert!(
        sample(&m, "basalt_commit_duration_seconds_count") >= 2.0,
        "{m}"
    );
    assert!(m.contains("basalt_commit_duration_seconds_bucket{le=\"+Inf\"}"));
    assert!(
        m.contains("basalt_statements_total{kind=\"insert\"} 1"),
        "{m}"
    );
    assert!(m.contains("pg_stat_activity_count{"), "{m}");
}
