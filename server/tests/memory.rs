//! Bounded memory: a table many times larger than `shared_buffers` is
//! loaded by COPY, read whole (rows and COPY TO stream to the client, never
//! held in the server) and updated, while the server's peak RSS stays small.

mod common;

use common::{dir_size, have, peak_rss_kib, Server, TempDir};
use std::io::Write;
use std::process::Stdio;

const ROWS: usize = 400_000;

#[test]
fn big_table_with_tiny_buffer_pool_keeps_rss_bounded() {
    if !have("psql") {
        eprintln!("psql not installed; skipping memory test");
        return;
    }
    let dir = TempDir::new("memory");
    let server = Server::start(&dir.0.join("data"), &["-c", "shared_buffers=1MB"]);
    let base = peak_rss_kib(server.pid()).unwrap_or(0);
    server
        .psql("CREATE TABLE big (id int PRIMARY KEY, pad text, g int)")
        .unwrap();

    // Load by COPY FROM STDIN.
    let pad = "x".repeat(120);
    let mut data = Vec::with_capacity(ROWS * 140);
    for i in 0..ROWS {
        writeln!(data, "{i}\t{pad}\t{}", i % 1000).unwrap();
    }
    let mut copy = server
        .psql_cmd()
        .args([
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "COPY big FROM STDIN",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    copy.stdin.take().unwrap().write_all(&data).unwrap();
    let out = copy.wait_with_output().unwrap();
    assert!(out.status.success(), "COPY failed");
    drop(data);
    let on_disk = dir_size(&dir.0.join("data").join("base"));
    assert!(
        on_disk >= 50 << 20,
        "table should be ≥ 50× shared_buffers, is {on_disk} bytes"
    );

    // Scan: an aggregate, every row to the client, and COPY TO STDOUT.
    assert_eq!(
        server.psql("SELECT count(*), sum(g) FROM big").unwrap(),
        format!("{ROWS}|{}", (0..ROWS).map(|i| i % 1000).sum::<usize>())
    );
    for sql in ["SELECT * FROM big", "COPY big TO STDOUT"] {
        let out = server
            .psql_cmd()
            .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "{sql} failed");
        assert_eq!(
            out.stdout.iter().filter(|&&b| b == b'\n').count(),
            ROWS,
            "{sql}"
        );
    }

    // Update every row: old and new versions both stay on disk.
    assert_eq!(server.psql("UPDATE big SET g = g + 1").unwrap(), "");
    assert_eq!(
        server
            .psql("SELECT count(*), min(g), max(g) FROM big")
            .unwrap(),
        format!("{ROWS}|1|1000")
    );

    let peak = peak_rss_kib(server.pid()).unwrap();
    eprintln!(
        "table {} MiB on disk, shared_buffers 1 MiB, RSS at start {} MiB, peak {} MiB",
        on_disk >> 20,
        base >> 10,
        peak >> 10
    );
    assert!(
        peak < base + 40 * 1024,
        "peak RSS {peak} KiB grew more than 40 MiB over the start ({base} KiB)"
    );
}
