//! Runs sqllogictest corpus files (SQLite's format and result rules, label
//! `postgresql`) against Basalt in-process (a fresh database per file) or
//! against a server over the wire (PostgreSQL or Basalt; user tables are
//! dropped before each file), and prints a line per file like
//! `BASELINE-postgresql15.tsv`, then the totals.
//!
//!   basalt-corpus [--port N] [--timeout 10s] [--failures] FILE...

use basalt_sqllogic::client::Client;
use basalt_sqllogic::corpus;
use basalt_sqllogic::Db;
use std::time::Instant;

fn drop_user_tables(c: &mut Client) {
    for _ in 0..3 {
        let Ok(Some(rows)) = c.run(
            "SELECT 'DROP ' || CASE WHEN c.relkind = 'v' THEN 'VIEW' ELSE 'TABLE' END || ' IF EXISTS ' || c.relname || ' CASCADE' \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')",
        ) else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        for r in rows {
            if let Some(Some(sql)) = r.first() {
                let _ = c.run(sql);
            }
        }
    }
}

fn main() {
    let mut port: Option<u16> = None;
    let mut timeout = "10s".to_string();
    let mut show_failures = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()),
            "--timeout" => timeout = args.next().unwrap_or(timeout),
            "--failures" => show_failures = true,
            f => files.push(std::path::PathBuf::from(f)),
        }
    }
    if files.is_empty() {
        eprintln!("usage: basalt-corpus [--port N] [--timeout 10s] [--failures] FILE...");
        std::process::exit(2);
    }
    println!("file\trecords\tpassed\tfailed\thalted\tseconds\tpass_pct");
    let (mut rec, mut pass, mut fail) = (0usize, 0usize, 0usize);
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                continue;
            }
        };
        let t0 = Instant::now();
        let tally = match port {
            Some(p) => {
                let mut c = match Client::connect("127.0.0.1", p, "postgres", "postgres", None) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("connect: {e}");
                        std::process::exit(1);
                    }
                };
                drop_user_tables(&mut c);
                let _ = c.run(&format!("SET statement_timeout = '{timeout}'"));
                let t = corpus::run(&mut c, &text, "postgresql");
                drop_user_tables(&mut c);
                t
            }
            None => {
                let dir =
                    std::env::temp_dir().join(format!("basalt-corpus-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                let db = basalt_executor::Database::open(
                    &dir,
                    basalt_storage::StorageOptions {
                        shared_buffers: 4096,
                        synchronous_commit: false,
                    },
                    vec![],
                )
                .expect("open a database");
                let mut s = db.session();
                let _ = s.run(&format!("SET statement_timeout = '{timeout}'"));
                let t = corpus::run(&mut s, &text, "postgresql");
                drop(s);
                drop(db);
                let _ = std::fs::remove_dir_all(&dir);
                t
            }
        };
        let secs = t0.elapsed().as_secs_f64();
        let pct = if tally.records == 0 {
            100.0
        } else {
            tally.passed as f64 * 100.0 / tally.records as f64
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{secs:.2}\t{pct:.2}",
            f.display(),
            tally.records,
            tally.passed,
            tally.failed,
            tally.halted
        );
        if show_failures {
            for (line, sql, why) in &tally.failures {
                let sql: String = sql.chars().take(200).collect();
                let why: String = why.chars().take(300).collect();
                eprintln!("  line {line}: {sql}\n    {why}");
            }
        }
        rec += tally.records;
        pass += tally.passed;
        fail += tally.failed;
    }
    let pct = if rec == 0 {
        100.0
    } else {
        pass as f64 * 100.0 / rec as f64
    };
    println!("TOTAL\t{rec}\t{pass}\t{fail}\t\t\t{pct:.2}");
}
