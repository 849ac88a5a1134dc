//! Crash test against the real binary: committing clients, SIGKILL mid-run,
//! restart; every acknowledged commit must be there and nothing else.
//! Uses `psql` as the client (skipped with a message if it is not installed).

mod common;

use common::{have, Server, TempDir};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn acknowledged_commits_survive_sigkill() {
    if !have("psql") {
        eprintln!("psql not installed; skipping crash test");
        return;
    }
    let dir = TempDir::new("crash");
    let mut server = Server::start(&dir.0.join("data"), &[]);
    let port = server.port;
    server
        .psql("CREATE TABLE acked (id int PRIMARY KEY, client int, pad text)")
        .unwrap();
    for cycle in 0..3 {
        let writers: Vec<_> = (0..4)
            .map(|c| {
                std::thread::spawn(move || {
                    // One psql process per client running many single-row transactions;
                    // echo lines tell us which commits were acknowledged.
                    let mut child = Command::new("psql")
                        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-XAtq"])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap();
                    let mut stdin = child.stdin.take().unwrap();
                    let script: String = (0..20_000)
                        .map(|i| {
                            let id = cycle * 100_000 + c * 10_000 + i;
                            format!("BEGIN; INSERT INTO acked VALUES ({id}, {c}, repeat('x', 200)); UPDATE acked SET pad = 'y' WHERE id = {id}; COMMIT;\n\\echo ok {id}\n")
                        })
                        .collect();
                    let _ = stdin.write_all(script.as_bytes());
                    drop(stdin);
                    let out = child.wait_with_output().unwrap();
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .filter_map(|l| l.strip_prefix("ok ").and_then(|n| n.trim().parse::<i64>().ok()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        server.kill();
        let mut acked: Vec<i64> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        acked.sort();
        server.restart();
        let present: Vec<i64> = server
            .psql("SELECT id FROM acked WHERE pad = 'y' ORDER BY id")
            .unwrap()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect();
        let half = server
            .psql("SELECT count(*) FROM acked WHERE pad <> 'y'")
            .unwrap();
        assert_eq!(
            half, "0",
            "cycle {cycle}: a half-applied transaction is visible"
        );
        for id in &acked {
            assert!(
                present.binary_search(id).is_ok(),
                "cycle {cycle}: acknowledged commit {id} lost"
            );
        }
        assert!(
            acked.len() < 4 * 20_000,
            "cycle {cycle}: the clients finished before the kill"
        );
        eprintln!(
            "cycle {cycle}: {} acknowledged, {} present",
            acked.len(),
            present.len()
        );
    }
}
