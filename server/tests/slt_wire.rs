//! Runs every sqllogic/slt/*.slt file over the wire against a started
//! `basalt` (one fresh data directory per file). With `BASALT_SLT_PG_PORT`
//! set (a PostgreSQL on 127.0.0.1 that trusts user `postgres`), runs each
//! file against that PostgreSQL too, in a fresh database: that is how the
//! expected results are checked against the real thing.

mod common;

use basalt_sqllogic::client::Client;
use basalt_sqllogic::{run_file, slt_files};
use common::{Server, TempDir};

#[test]
fn slt_files_over_the_wire() {
    let dir = TempDir::new("slt-wire");
    let mut failures = Vec::new();
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files found");
    for (i, f) in files.iter().enumerate() {
        let server = Server::start(&dir.0.join(format!("d{i}")), &[]);
        let mut c = Client::connect("127.0.0.1", server.port, "postgres", "postgres", None)
            .expect("connect to basalt");
        match run_file(&mut c, f) {
            Ok(n) => eprintln!("basalt: {}: {n} records ok", f.display()),
            Err(e) => failures.push(format!("basalt: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn slt_files_against_postgresql() {
    let Some(port) = std::env::var("BASALT_SLT_PG_PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
    else {
        eprintln!("BASALT_SLT_PG_PORT not set; not checking the slt files against PostgreSQL");
        return;
    };
    let mut failures = Vec::new();
    for f in slt_files() {
        let db = format!(
            "basalt_slt_{}",
            f.file_stem().unwrap().to_string_lossy().replace('-', "_")
        );
        let mut admin = Client::connect("127.0.0.1", port, "postgres", "postgres", None)
            .expect("connect to PostgreSQL");
        admin
            .simple_query(&format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
        admin
            .simple_query(&format!("CREATE DATABASE {db}"))
            .unwrap();
        let mut c = Client::connect("127.0.0.1", port, "postgres", &db, None).unwrap();
        match run_file(&mut c, &f) {
            Ok(n) => eprintln!("postgresql: {}: {n} records ok", f.display()),
            Err(e) => failures.push(format!("postgresql: {e}")),
        }
        drop(c);
        admin
            .simple_query(&format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
