//! Backups against the real binary: a full backup taken while transfers
//! run restores to a consistent database; an incremental backup on top of it
//! restores too; WAL archiving with `basalt restore --until` recovers to a
//! point in time between two commits; bad destinations and damaged backups
//! are refused.

mod common;

use basalt_sqllogic::client::{Client, Outcome};
use common::{Server, TempDir};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn rows(c: &mut Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, (String, String)> {
    let mut out = Vec::new();
    for o in c.simple_query(sql).expect(sql) {
        match o {
            Outcome::Error(e) => return Err((e.code, e.message)),
            Outcome::Rows(r) => out = r,
            _ => {}
        }
    }
    Ok(out)
}

fn one(c: &mut Client, sql: &str) -> String {
    rows(c, sql).expect(sql)[0][0].clone().unwrap_or_default()
}

fn restore(args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_basalt"))
        .arg("restore")
        .args(args)
        .output()
        .expect("run basalt restore");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

/// The accounts always sum to 100,000; transfers move money between them.
fn transfers(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut c = common::wire_client(port);
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let (a, b) = (n % 100 + 1, (n * 7 + 3) % 100 + 1);
            // Rows are taken in id order, so transfers never deadlock.
            let (first, d1, second, d2) = if a < b { (a, -5, b, 5) } else { (b, 5, a, -5) };
            rows(
                &mut c,
                &format!(
                    "BEGIN; UPDATE acct SET bal = bal + {d1} WHERE id = {first}; \
                     UPDATE acct SET bal = bal + {d2} WHERE id = {second}; \
                     INSERT INTO hist VALUES ({n}, {a}, {b}); COMMIT"
                ),
            )
            .unwrap();
            n += 1;
        }
        n
    })
}

fn check_restored(data: &Path, expect_hist_at_least: i64) -> (Server, Client) {
    let srv = Server::start(data, &["-c", "autovacuum=off"]);
    let mut c = common::wire_client(srv.port);
    assert_eq!(one(&mut c, "SELECT sum(bal) FROM acct"), "100000");
    assert_eq!(one(&mut c, "SELECT count(*) FROM acct"), "100");
    let hist: i64 = one(&mut c, "SELECT count(*) FROM hist").parse().unwrap();
    assert!(
        hist >= expect_hist_at_least,
        "{hist} < {expect_hist_at_least}"
    );
    assert!(rows(&mut c, "SELECT * FROM basalt_check_integrity()")
        .unwrap()
        .is_empty());
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM still WHERE length(pad) = 200"),
        "20000"
    );
    (srv, c)
}

#[test]
fn online_full_and_incremental_backups_restore() {
    let dir = TempDir::new("backup-src");
    let bk = TempDir::new("backup-dest");
    let srv = Server::start(&dir.0, &["-c", "autovacuum=off"]);
    let mut c = common::wire_client(srv.port);
    for sql in [
        "CREATE TABLE acct (id int PRIMARY KEY, bal int)",
        "INSERT INTO acct SELECT i, 1000 FROM generate_series(1, 100) i",
        "CREATE TABLE hist (n int, a int, b int)",
        "CREATE TABLE still (id int PRIMARY KEY, pad text)",
        "INSERT INTO still SELECT i, repeat('s', 200) FROM generate_series(1, 20000) i",
    ] {
        rows(&mut c, sql).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3).map(|_| transfers(srv.port, stop.clone())).collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let full = bk.0.join("full");
    rows(&mut c, &format!("BACKUP DATABASE TO '{}'", full.display())).unwrap();
    let hist_after_full: i64 = one(&mut c, "SELECT count(*) FROM hist").parse().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let incr = bk.0.join("incr");
    rows(
        &mut c,
        &format!(
            "BACKUP DATABASE TO '{}' INCREMENTAL FROM '{}'",
            incr.display(),
            full.display()
        ),
    )
    .unwrap();
    let hist_after_incr: i64 = one(&mut c, "SELECT count(*) FROM hist").parse().unwrap();
    stop.store(true, Ordering::Relaxed);
    let done: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(done > 20, "transfers ran: {done}");
    // The view lists both; each verifies.
    let listed = rows(
        &mut c,
        "SELECT kind, base IS NOT NULL, files > 0, bytes > 0 FROM basalt_backups ORDER BY started",
    )
    .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0][0].as_deref(), Some("full"));
    assert_eq!(listed[1][0].as_deref(), Some("incremental"));
    for d in [&full, &incr] {
        let bad = one(
            &mut c,
            &format!(
                "SELECT count(*) FROM basalt_verify_backup('{}') WHERE status <> 'ok'",
                d.display()
            ),
        );
        assert_eq!(bad, "0");
    }
    // The incremental one copied fewer relation pages than the full one
    // (the table nobody writes to is not in it).
    let (b0, b1) = (
        common::dir_size(&full.join("base")),
        common::dir_size(&incr.join("base")),
    );
    assert!(b1 < b0, "incremental {b1} vs full {b0}");

    // Restore the full one alone, and the full one plus the incremental one.
    let r1 = bk.0.join("restored-full");
    restore(&[
        "--from",
        full.to_str().unwrap(),
        "--to",
        r1.to_str().unwrap(),
    ])
    .unwrap();
    let (s1, mut c1) = check_restored(&r1, 1);
    let h1: i64 = one(&mut c1, "SELECT count(*) FROM hist").parse().unwrap();
    assert!(h1 <= hist_after_full);
    drop((c1, s1));
    let r2 = bk.0.join("restored-incr");
    restore(&[
        "--from",
        full.to_str().unwrap(),
        "--incremental",
        incr.to_str().unwrap(),
        "--to",
        r2.to_str().unwrap(),
    ])
    .unwrap();
    let (_s2, mut c2) = check_restored(&r2, hist_after_full);
    let h2: i64 = one(&mut c2, "SELECT count(*) FROM hist").parse().unwrap();
    assert!(
        h2 <= hist_after_incr && h2 >= h1,
        "{h1} {h2} {hist_after_incr}"
    );
    // The restored database takes writes.
    rows(&mut c2, "INSERT INTO hist VALUES (-1, 0, 0)").unwrap();

    // Refusals: a destination that is not empty, one that cannot be written,
    // an incremental backup on the wrong base, a damaged backup.
    let (code, msg) =
        rows(&mut c, &format!("BACKUP DATABASE TO '{}'", full.display())).unwrap_err();
    assert_eq!(code, "58P02", "{msg}");
    assert!(msg.contains("exists but is not empty"), "{msg}");
    let (code, _) = rows(&mut c, "BACKUP DATABASE TO '/proc/basalt-backup'").unwrap_err();
    assert!(!code.is_empty());
    assert!(!Path::new("/proc/basalt-backup").exists());
    let (code, _) = rows(&mut c, "BEGIN; BACKUP DATABASE TO '/tmp/x'").unwrap_err();
    assert_eq!(code, "25001");
    rows(&mut c, "ROLLBACK").unwrap();
    let err = restore(&[
        "--from",
        incr.to_str().unwrap(),
        "--to",
        bk.0.join("r3").to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(err.contains("expected a full one"), "{err}");
    let victim = std::fs::read_dir(incr.join("base"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let bad = rows(
        &mut c,
        &format!(
            "SELECT file, status FROM basalt_verify_backup('{}') WHERE status <> 'ok'",
            incr.display()
        ),
    )
    .unwrap();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0][1].as_deref(), Some("checksum mismatch"));
    let err = restore(&[
        "--from",
        full.to_str().unwrap(),
        "--incremental",
        incr.to_str().unwrap(),
        "--to",
        bk.0.join("r4").to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(err.contains("does not verify"), "{err}");
    assert!(!bk.0.join("r4").exists());
}

#[test]
fn point_in_time_recovery_between_two_commits() {
    let dir = TempDir::new("pitr-src");
    let bk = TempDir::new("pitr-dest");
    let archive = bk.0.join("archive");
    let srv = Server::start(
        &dir.0,
        &[
            "-c",
            "archive_mode=on",
            "-c",
            &format!("archive_dir={}", archive.display()),
        ],
    );
    let mut c = common::wire_client(srv.port);
    rows(
        &mut c,
        "CREATE TABLE events (id int PRIMARY KEY, what text)",
    )
    .unwrap();
    rows(&mut c, "INSERT INTO events VALUES (1, 'before the backup')").unwrap();
    let full = bk.0.join("full");
    rows(&mut c, &format!("BACKUP DATABASE TO '{}'", full.display())).unwrap();
    rows(&mut c, "INSERT INTO events VALUES (2, 'first')").unwrap();
    let between = one(&mut c, "SELECT now()::text");
    std::thread::sleep(std::time::Duration::from_millis(50));
    rows(&mut c, "INSERT INTO events VALUES (3, 'second')").unwrap();
    // Finish the segment so the archiver copies it.
    rows(&mut c, "SELECT pg_switch_wal()").unwrap();
    let seg_archived = || std::fs::read_dir(&archive).map(|d| d.count()).unwrap_or(0) > 0;
    let t0 = std::time::Instant::now();
    while !seg_archived() {
        assert!(t0.elapsed().as_secs() < 10, "no segment archived");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(c);
    drop(srv);
    let to = bk.0.join("restored");
    let msg = restore(&[
        "--from",
        full.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
        "--until",
        &between,
    ])
    .unwrap();
    assert!(msg.contains("archived WAL segment"), "{msg}");
    let srv = Server::start(&to, &["-c", "autovacuum=off"]);
    let mut c = common::wire_client(srv.port);
    let got = rows(&mut c, "SELECT id, what FROM events ORDER BY id").unwrap();
    assert_eq!(
        got,
        vec![
            vec![Some("1".into()), Some("before the backup".into())],
            vec![Some("2".into()), Some("first".into())],
        ]
    );
    // The recovered database goes on from there, and restarts cleanly.
    rows(&mut c, "INSERT INTO events VALUES (3, 'another second')").unwrap();
    drop(c);
    let mut srv = srv;
    srv.restart();
    let mut c = common::wire_client(srv.port);
    assert_eq!(
        one(&mut c, "SELECT what FROM events WHERE id = 3"),
        "another second"
    );
    assert_eq!(one(&mut c, "SELECT count(*) FROM events"), "3");
}
