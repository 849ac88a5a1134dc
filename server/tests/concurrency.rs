//! Many clients writing at once against the real binary, each check bounded
//! in time: a bank (transfers under REPEATABLE READ and SERIALIZABLE with
//! retries; the total never changes, and a reader's snapshot always sums to
//! it), lost updates under READ COMMITTED, write skew under SERIALIZABLE,
//! deadlocks, and SIGKILL in the middle of the bank (every acknowledged
//! transfer present, the total intact).

mod common;

use basalt_sqllogic::client::{Client, Outcome};
use common::{Server, TempDir};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn connect(port: u16) -> Client {
    common::wire_client(port)
}

/// Runs `sql`; Err(SQLSTATE) if any statement failed.
fn run(c: &mut Client, sql: &str) -> Result<Vec<Outcome>, String> {
    let out = c.simple_query(sql).map_err(|e| format!("io: {e}"))?;
    for o in &out {
        if let Outcome::Error(e) = o {
            return Err(e.code.clone());
        }
    }
    Ok(out)
}

fn scalar(c: &mut Client, sql: &str) -> i64 {
    match run(c, sql).expect(sql).pop() {
        Some(Outcome::Rows(r)) => r[0][0].as_deref().expect("not null").parse().expect("int"),
        other => panic!("{sql}: {other:?}"),
    }
}

/// Cheap per-thread pseudo-random numbers.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const ACCOUNTS: i64 = 20;
const START: i64 = 1000;

fn setup_bank(port: u16) {
    let mut c = connect(port);
    run(&mut c, "DROP TABLE IF EXISTS acct").unwrap();
    run(
        &mut c,
        "CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL)",
    )
    .unwrap();
    run(
        &mut c,
        &format!("INSERT INTO acct SELECT g, {START} FROM generate_series(1, {ACCOUNTS}) g"),
    )
    .unwrap();
}

/// A started server with the bank and an empty ledger of transfers.
fn bank_with_ledger(name: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    let srv = Server::start(&dir.0, &[]);
    setup_bank(srv.port);
    let mut c = connect(srv.port);
    run(
        &mut c,
        "CREATE TABLE ledger (worker int, seq int, PRIMARY KEY (worker, seq))",
    )
    .unwrap();
    (dir, srv)
}

/// SIGKILLs the server under its workers, collects what each worker saw
/// acknowledged, restarts, and checks the bank's total survived.
fn kill_and_recover<T>(
    srv: &mut Server,
    workers: Vec<std::thread::JoinHandle<T>>,
) -> (Vec<(usize, T)>, Client) {
    srv.kill();
    let acked = workers
        .into_iter()
        .enumerate()
        .map(|(w, h)| (w, h.join().expect("worker")))
        .collect();
    srv.restart();
    let mut c = connect(srv.port);
    assert_eq!(
        scalar(&mut c, "SELECT sum(bal) FROM acct"),
        ACCOUNTS * START,
        "the total changed across the crash"
    );
    (acked, c)
}

/// One transfer under `iso`, retried on 40001 and 40P01. Returns the number
/// of retries, or None when the server went away.
fn transfer(c: &mut Client, iso: &str, rng: &mut Rng) -> Option<u64> {
    let a = rng.next(ACCOUNTS as u64) as i64 + 1;
    let mut b = rng.next(ACCOUNTS as u64) as i64 + 1;
    if a == b {
        b = a % ACCOUNTS + 1;
    }
    let amt = rng.next(50) as i64 + 1;
    let mut retries = 0;
    loop {
        let body = (|| -> Result<(), String> {
            run(c, &format!("BEGIN ISOLATION LEVEL {iso}"))?;
            let bal = match run(c, &format!("SELECT bal FROM acct WHERE id = {a}"))?.pop() {
                Some(Outcome::Rows(r)) => r[0][0]
                    .as_deref()
                    .unwrap_or("0")
                    .parse::<i64>()
                    .unwrap_or(0),
                _ => 0,
            };
            if bal >= amt {
                run(
                    c,
                    &format!("UPDATE acct SET bal = bal - {amt} WHERE id = {a}"),
                )?;
                run(
                    c,
                    &format!("UPDATE acct SET bal = bal + {amt} WHERE id = {b}"),
                )?;
            }
            run(c, "COMMIT")?;
            Ok(())
        })();
        match body {
            Ok(()) => return Some(retries),
            Err(code) if code == "40001" || code == "40P01" => {
                retries += 1;
                run(c, "ROLLBACK").ok()?;
            }
            Err(code) if code.starts_with("io") => return None,
            Err(code) => panic!("transfer failed with {code}"),
        }
    }
}

fn bank(iso: &'static str) {
    let dir = TempDir::new(&format!("bank-{}", iso.replace(' ', "-")));
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    setup_bank(port);
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let (stop, commits, retries) = (stop.clone(), commits.clone(), retries.clone());
            std::thread::spawn(move || {
                let mut c = connect(port);
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((i as u64 + 1) * 7919));
                while !stop.load(Ordering::Relaxed) {
                    let r = transfer(&mut c, iso, &mut rng).expect("server alive");
                    commits.fetch_add(1, Ordering::Relaxed);
                    retries.fetch_add(r, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // A reader: every snapshot must see the same total.
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = connect(port);
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                run(&mut c, "BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
                let a = scalar(&mut c, "SELECT sum(bal) FROM acct");
                let b = scalar(&mut c, "SELECT sum(bal) FROM acct WHERE id <= 10")
                    + scalar(&mut c, "SELECT sum(bal) FROM acct WHERE id > 10");
                run(&mut c, "COMMIT").unwrap();
                assert_eq!(a, ACCOUNTS * START, "a snapshot saw a half-done transfer");
                assert_eq!(
                    b,
                    ACCOUNTS * START,
                    "two statements of one snapshot disagree"
                );
                reads += 1;
            }
            reads
        })
    };
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let reads = reader.join().expect("reader");
    let mut c = connect(port);
    assert_eq!(
        scalar(&mut c, "SELECT sum(bal) FROM acct"),
        ACCOUNTS * START
    );
    assert_eq!(scalar(&mut c, "SELECT count(*) FROM acct WHERE bal < 0"), 0);
    let n = commits.load(Ordering::Relaxed);
    eprintln!(
        "{iso}: {n} transfers, {} retries, {reads} consistent reads",
        retries.load(Ordering::Relaxed)
    );
    assert!(n > 50, "too few transfers: {n}");
}

#[test]
fn bank_total_holds_under_repeatable_read() {
    bank("REPEATABLE READ");
}

#[test]
fn bank_total_holds_under_serializable() {
    bank("SERIALIZABLE");
}

#[test]
fn no_lost_updates_under_read_committed() {
    let dir = TempDir::new("lost-update");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    let mut c = connect(port);
    run(&mut c, "CREATE TABLE counter (id int PRIMARY KEY, n int)").unwrap();
    run(&mut c, "INSERT INTO counter VALUES (1, 0)").unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let acked = acked.clone();
            std::thread::spawn(move || {
                let mut c = connect(port);
                for _ in 0..150 {
                    if run(&mut c, "UPDATE counter SET n = n + 1 WHERE id = 1").is_ok() {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // And inside explicit transactions.
                for _ in 0..50 {
                    let r = run(
                        &mut c,
                        "BEGIN; UPDATE counter SET n = n + 1 WHERE id = 1; COMMIT",
                    );
                    if r.is_ok() {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let n = scalar(&mut c, "SELECT n FROM counter WHERE id = 1");
    assert_eq!(n as u64, acked.load(Ordering::Relaxed));
    assert_eq!(n, 8 * 200, "every increment was acknowledged");
}

#[test]
fn write_skew_is_refused_under_serializable() {
    let dir = TempDir::new("write-skew");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    let mut c = connect(port);
    run(
        &mut c,
        "CREATE TABLE doctors (shift int, name text, on_call bool)",
    )
    .unwrap();
    let mut refused = 0;
    for shift in 0..40 {
        run(
            &mut c,
            &format!("INSERT INTO doctors VALUES ({shift}, 'alice', true), ({shift}, 'bob', true)"),
        )
        .unwrap();
        // Both doctors try to go off call at the same moment.
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let go = |name: &'static str| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut c = connect(port);
                run(&mut c, "BEGIN ISOLATION LEVEL SERIALIZABLE").unwrap();
                let r = (|| {
                    let on = scalar(
                        &mut c,
                        &format!("SELECT count(*) FROM doctors WHERE shift = {shift} AND on_call"),
                    );
                    barrier.wait();
                    if on >= 2 {
                        run(
                            &mut c,
                            &format!(
                                "UPDATE doctors SET on_call = false WHERE shift = {shift} AND name = '{name}'"
                            ),
                        )?;
                    }
                    run(&mut c, "COMMIT").map(|_| ())
                })();
                if r.is_err() {
                    let _ = run(&mut c, "ROLLBACK");
                }
                r
            })
        };
        let (a, b) = (go("alice"), go("bob"));
        let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
        for r in [&ra, &rb] {
            if let Err(code) = r {
                assert_eq!(code, "40001", "only serialization failures are expected");
                refused += 1;
            }
        }
        let on = scalar(
            &mut c,
            &format!("SELECT count(*) FROM doctors WHERE shift = {shift} AND on_call"),
        );
        assert!(on >= 1, "shift {shift}: nobody is on call ({ra:?}, {rb:?})");
    }
    assert!(
        refused >= 40,
        "every round must refuse one of the two: {refused}"
    );
}

#[test]
fn deadlocks_are_broken_and_work_completes() {
    let dir = TempDir::new("deadlock");
    let srv = Server::start(&dir.0, &[]);
    let port = srv.port;
    let mut c = connect(port);
    run(&mut c, "CREATE TABLE pair (id int PRIMARY KEY, n int)").unwrap();
    run(&mut c, "INSERT INTO pair VALUES (1, 0), (2, 0), (3, 0)").unwrap();
    let deadlocks = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let (deadlocks, done) = (deadlocks.clone(), done.clone());
            std::thread::spawn(move || {
                let mut c = connect(port);
                run(&mut c, "SET deadlock_timeout = '20ms'").unwrap();
                // Opposite lock orders, and a three-way cycle for some.
                let order: [i32; 3] = match i % 3 {
                    0 => [1, 2, 3],
                    1 => [3, 2, 1],
                    _ => [2, 3, 1],
                };
                let mut ok = 0;
                while ok < 25 {
                    let r = (|| {
                        run(&mut c, "BEGIN")?;
                        for id in order {
                            run(
                                &mut c,
                                &format!("UPDATE pair SET n = n + 1 WHERE id = {id}"),
                            )?;
                        }
                        run(&mut c, "COMMIT")
                    })();
                    match r {
                        Ok(_) => ok += 1,
                        Err(code) => {
                            assert_eq!(code, "40P01", "unexpected failure");
                            deadlocks.fetch_add(1, Ordering::Relaxed);
                            run(&mut c, "ROLLBACK").unwrap();
                        }
                    }
                }
                done.fetch_add(ok, Ordering::Relaxed);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = done.load(Ordering::Relaxed) as i64;
    for id in 1..=3 {
        assert_eq!(
            scalar(&mut c, &format!("SELECT n FROM pair WHERE id = {id}")),
            total
        );
    }
    eprintln!(
        "{} deadlocks broken in {:?}",
        deadlocks.load(Ordering::Relaxed),
        t0.elapsed()
    );
    // Nothing is left waiting or locked.
    assert_eq!(
        scalar(&mut c, "SELECT count(*) FROM pg_locks WHERE NOT granted"),
        0
    );
}

#[test]
fn sigkill_during_serializable_bank_keeps_every_acknowledged_transfer() {
    let (_dir, mut srv) = bank_with_ledger("bank-crash");
    let port = srv.port;
    for cycle in 0..2 {
        let workers: Vec<_> = (0..6)
            .map(|w| {
                std::thread::spawn(move || {
                    let mut c = connect(port);
                    let mut acked: Vec<i32> = Vec::new();
                    let mut seq = cycle * 1_000_000;
                    loop {
                        seq += 1;
                        let a = (seq % ACCOUNTS as i32) + 1;
                        let b = ((seq * 7 + w) % ACCOUNTS as i32) + 1;
                        if a == b {
                            continue;
                        }
                        // A transfer, its ledger row, and a savepoint rolled back.
                        let sql = format!(
                            "BEGIN ISOLATION LEVEL SERIALIZABLE; \
                             UPDATE acct SET bal = bal - 1 WHERE id = {a}; \
                             SAVEPOINT s; UPDATE acct SET bal = bal - 1000 WHERE id = {b}; ROLLBACK TO SAVEPOINT s; \
                             UPDATE acct SET bal = bal + 1 WHERE id = {b}; \
                             INSERT INTO ledger VALUES ({w}, {seq}); COMMIT"
                        );
                        match c.simple_query(&sql) {
                            Err(_) => return acked,
                            Ok(out) => {
                                let failed = out.iter().any(|o| matches!(o, Outcome::Error(_)));
                                if failed {
                                    if c.simple_query("ROLLBACK").is_err() {
                                        return acked;
                                    }
                                } else {
                                    acked.push(seq);
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        let (acked, mut c) = kill_and_recover(&mut srv, workers);
        let mut n = 0;
        for (w, seqs) in &acked {
            for s in seqs {
                assert_eq!(
                    scalar(
                        &mut c,
                        &format!("SELECT count(*) FROM ledger WHERE worker = {w} AND seq = {s}")
                    ),
                    1,
                    "cycle {cycle}: acknowledged transfer {w}/{s} lost"
                );
                n += 1;
            }
        }
        assert!(n > 0, "cycle {cycle}: nothing was acknowledged");
        eprintln!("cycle {cycle}: {n} acknowledged transfers all present");
    }
}

#[test]
fn sigkill_with_synchronous_commit_off_loses_only_the_last_moments() {
    let (_dir, mut srv) = bank_with_ledger("async-crash");
    let port = srv.port;
    let t0 = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = connect(port);
                run(&mut c, "SET synchronous_commit = off").unwrap();
                let mut acked: Vec<(i32, Duration)> = Vec::new();
                for seq in 1.. {
                    let a = (seq % ACCOUNTS as i32) + 1;
                    let b = ((seq * 3 + w + 1) % ACCOUNTS as i32) + 1;
                    let sql = format!(
                        "BEGIN; UPDATE acct SET bal = bal - 1 WHERE id = {a}; \
                         UPDATE acct SET bal = bal + 1 WHERE id = {b}; \
                         INSERT INTO ledger VALUES ({w}, {seq}); COMMIT"
                    );
                    match c.simple_query(&sql) {
                        Err(_) => return acked,
                        Ok(out) if out.iter().any(|o| matches!(o, Outcome::Error(_))) => {
                            if c.simple_query("ROLLBACK").is_err() {
                                return acked;
                            }
                        }
                        Ok(_) => acked.push((seq, t0.elapsed())),
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    let killed_at = t0.elapsed();
    let (acked, mut c) = kill_and_recover(&mut srv, workers);
    let present = scalar(&mut c, "SELECT count(*) FROM ledger");
    let mut old = 0;
    for (w, seqs) in &acked {
        for (s, at) in seqs {
            // The WAL writer flushes every 200 ms: anything acknowledged a
            // second before the kill is durable.
            if killed_at.saturating_sub(*at) > Duration::from_secs(1) {
                old += 1;
                assert_eq!(
                    scalar(
                        &mut c,
                        &format!("SELECT count(*) FROM ledger WHERE worker = {w} AND seq = {s}")
                    ),
                    1,
                    "transfer {w}/{s}, acknowledged well before the crash, is lost"
                );
            }
        }
    }
    let total: usize = acked.iter().map(|(_, v)| v.len()).sum();
    eprintln!("synchronous_commit=off: {total} acknowledged, {present} present after the crash, {old} old ones all present");
    assert!(old > 0);
}
