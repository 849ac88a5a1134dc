//! Crash test against the real binary: committing clients, SIGKILL mid-run,
//! restart; every acknowledged commit must be there and nothing else.
//! Uses `psql` as the client (skipped with a message if it is not installed).

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn psql(port: u16, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

#[test]
fn acknowledged_commits_survive_sigkill() {
    if Command::new("psql").arg("--version").output().is_err() {
        eprintln!("psql not installed; skipping crash test");
        return;
    }
    let dir = std::env::temp_dir().join(format!("basalt-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let mut server = start(&dir, port);
    psql(
        port,
        "CREATE TABLE acked (id int PRIMARY KEY, client int, pad text)",
    )
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
                    let script: String = (0..300)
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
        server.kill().unwrap();
        server.wait().unwrap();
        let mut acked: Vec<i64> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        acked.sort();
        server = start(&dir, port);
        let present: Vec<i64> = psql(port, "SELECT id FROM acked WHERE pad = 'y' ORDER BY id")
            .unwrap()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect();
        let half = psql(port, "SELECT count(*) FROM acked WHERE pad <> 'y'").unwrap();
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
        eprintln!(
            "cycle {cycle}: {} acknowledged, {} present",
            acked.len(),
            present.len()
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
