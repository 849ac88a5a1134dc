//! pgbench against the real binary: every initialization step (-I dtgGvpf,
//! --foreign-keys, --unlogged-tables, tablespaces, fillfactor), the
//! built-in scripts, and --partitions refused with a clear error.

mod common;

use common::{have, Server, TempDir};

fn pgbench(server: &Server, args: &[&str]) -> (bool, String) {
    let out = server
        .tool("pgbench")
        .args(args)
        .arg("postgres")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn initialization_steps_and_builtin_scripts() {
    if !have("pgbench") {
        eprintln!("pgbench not installed; skipping pgbench test");
        return;
    }
    let dir = TempDir::new("pgbench");
    let server = Server::start(&dir.0.join("data"), &[]);
    let count = |t: &str| server.psql(&format!("SELECT count(*) FROM {t}")).unwrap();
    for init in [
        vec!["-i", "-s", "1", "-I", "dtgvp"],
        vec!["-i", "-s", "1", "-I", "dtGvpf"],
        vec![
            "-i",
            "-s",
            "1",
            "--foreign-keys",
            "--unlogged-tables",
            "-F",
            "90",
        ],
        vec![
            "-i",
            "-s",
            "1",
            "--tablespace=pg_default",
            "--index-tablespace=pg_default",
        ],
    ] {
        let (ok, text) = pgbench(&server, &init);
        assert!(ok, "{init:?}: {text}");
        assert_eq!(count("pgbench_accounts"), "100000", "{init:?}");
        assert_eq!(count("pgbench_branches"), "1");
        assert_eq!(count("pgbench_tellers"), "10");
    }
    // The foreign keys of the last -I f are there and enforced.
    let (ok, text) = pgbench(&server, &["-i", "-s", "1", "-I", "dtgvpf"]);
    assert!(ok, "{text}");
    assert!(server
        .psql("INSERT INTO pgbench_accounts VALUES (999999, 77, 0, '')")
        .unwrap_err()
        .contains("foreign key"));
    for script in ["tpcb-like", "simple-update", "select-only"] {
        let (ok, text) = pgbench(&server, &["-b", script, "-t", "50", "-c", "2"]);
        assert!(
            ok && text.contains("number of failed transactions: 0"),
            "{script}: {text}"
        );
    }
    let (ok, text) = pgbench(&server, &["-i", "-s", "1", "--partitions", "4"]);
    assert!(!ok && text.contains("partitioning"), "{text}");
    assert!(text.contains("is not supported yet"), "{text}");
}
