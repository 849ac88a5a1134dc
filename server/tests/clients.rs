//! The client suite (tests/clients/run.py): psycopg 3, psycopg2, asyncpg,
//! SQLAlchemy, Django, node-postgres, pgjdbc, tokio-postgres and sqlx
//! against this build's `basalt`, and against a real PostgreSQL 15 started
//! beside it when its binaries are installed, in one run. The runner
//! installs the clients (pip, npm, Debian's pgjdbc, cargo) into
//! ~/.cache/basalt-clients first.

use std::path::Path;
use std::process::Command;

#[test]
fn client_suite_against_basalt_and_postgresql() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root");
    let mut cmd = Command::new("python3");
    cmd.arg(repo.join("tests/clients/run.py"))
        .arg("--basalt")
        .arg(env!("CARGO_BIN_EXE_basalt"));
    let pg = Path::new("/usr/lib/postgresql/15/bin");
    if pg.join("postgres").exists() {
        cmd.arg("--pg").arg(pg);
    } else {
        eprintln!(
            "PostgreSQL 15 server binaries not installed: the suite runs against basalt only"
        );
    }
    if let Ok(only) = std::env::var("BASALT_CLIENTS") {
        cmd.arg("--only").arg(only);
    }
    let out = cmd.output().expect("python3 runs tests/clients/run.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "client suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
