//! Authentication and TLS with the real `psql` (libpq): SCRAM-SHA-256 when a
//! password is set, TLS when a certificate is configured, `sslmode=require`.

mod common;

use common::{have, Server, TempDir};

fn data_file(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn scram_password_and_tls() {
    if !have("psql") {
        eprintln!("psql not installed; skipping auth test");
        return;
    }
    let dir = TempDir::new("auth");
    let cert = data_file("server.crt");
    let key = data_file("server.key");
    let server = Server::start_env(
        &dir.0.join("data"),
        &[
            "-c",
            &format!("ssl_cert_file={cert}"),
            "-c",
            &format!("ssl_key_file={key}"),
        ],
        &[("BASALT_PASSWORD", "s3cret pw")],
    );

    // SCRAM over plaintext, with channel binding left to libpq's default.
    assert_eq!(
        server
            .psql_conn("password='s3cret pw' sslmode=disable", "SELECT 1")
            .unwrap(),
        "1"
    );
    let err = server
        .psql_conn("password=wrong sslmode=disable", "SELECT 1")
        .unwrap_err();
    assert!(
        err.contains("password authentication failed for user \"postgres\""),
        "{err}"
    );
    // TLS: sslmode=require gets an encrypted session and SCRAM on top.
    let info = server
        .psql_conn("password='s3cret pw' sslmode=require", "\\conninfo")
        .unwrap();
    assert!(info.contains("SSL connection (protocol: TLSv1."), "{info}");
    let err = server
        .psql_conn("password=nope sslmode=require", "SELECT 1")
        .unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    // sslmode=verify-full checks the certificate against its CA.
    assert_eq!(
        server
            .psql_conn(
                &format!("password='s3cret pw' sslmode=verify-full sslrootcert={cert} host=localhost hostaddr=127.0.0.1"),
                "SELECT 3",
            )
            .unwrap(),
        "3"
    );
}

#[test]
fn no_password_trusts_loopback_and_no_tls_refuses_require() {
    if !have("psql") {
        eprintln!("psql not installed; skipping auth test");
        return;
    }
    let dir = TempDir::new("auth-trust");
    let server = Server::start(&dir.0.join("data"), &[]);
    assert_eq!(
        server.psql_conn("sslmode=disable", "SELECT 1").unwrap(),
        "1"
    );
    // sslmode=prefer falls back to plaintext.
    assert_eq!(server.psql_conn("sslmode=prefer", "SELECT 1").unwrap(), "1");
    let err = server.psql_conn("sslmode=require", "SELECT 1").unwrap_err();
    assert!(err.contains("server does not support SSL"), "{err}");
    let err = server
        .psql_conn("sslmode=disable dbname=nosuchdb", "SELECT 1")
        .unwrap_err();
    assert!(
        err.contains("database \"nosuchdb\" does not exist"),
        "{err}"
    );
    // Startup options are applied as settings.
    assert_eq!(
        server
            .psql_conn("sslmode=disable options='-c extra_float_digits=2' application_name=tester", "SELECT current_setting('extra_float_digits') || ' ' || current_setting('application_name')")
            .unwrap(),
        "2 tester"
    );
}

/// Roles log in with their own SCRAM passwords (stored only as verifiers);
/// a wrong password, a role that may not log in, and a role without a
/// password on a server that asks for passwords are refused; privileges
/// hold over the wire; max_connections is enforced with 53300.
#[test]
fn roles_log_in_with_their_passwords() {
    if !have("psql") {
        eprintln!("psql not installed; skipping roles test");
        return;
    }
    let dir = TempDir::new("roles");
    let server = Server::start_env(
        &dir.0.join("data"),
        &["-c", "max_connections=4"],
        &[("BASALT_PASSWORD", "boss")],
    );
    let admin = "password=boss sslmode=disable";
    for sql in [
        "CREATE ROLE alice LOGIN PASSWORD 'wonder land'",
        "CREATE ROLE nobody NOLOGIN PASSWORD 'x'",
        "CREATE USER nopass",
        "CREATE TABLE t (id int)",
        "INSERT INTO t VALUES (1)",
    ] {
        server.psql_conn(admin, sql).unwrap();
    }
    let stored = server
        .psql_conn(
            admin,
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'",
        )
        .unwrap();
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    assert!(!stored.contains("wonder"));
    assert_eq!(
        server
            .psql_conn(
                admin,
                "SELECT rolpassword FROM pg_roles WHERE rolname = 'alice'"
            )
            .unwrap(),
        "********"
    );
    let alice = "user=alice password='wonder land' sslmode=disable";
    assert_eq!(
        server.psql_conn(alice, "SELECT current_user").unwrap(),
        "alice"
    );
    let err = server.psql_conn(alice, "SELECT * FROM t").unwrap_err();
    assert!(err.contains("permission denied for table t"), "{err}");
    server
        .psql_conn(admin, "GRANT SELECT ON t TO alice")
        .unwrap();
    assert_eq!(
        server.psql_conn(alice, "SELECT count(*) FROM t").unwrap(),
        "1"
    );
    let err = server
        .psql_conn("user=alice password=wrong sslmode=disable", "SELECT 1")
        .unwrap_err();
    assert!(
        err.contains("password authentication failed for user \"alice\""),
        "{err}"
    );
    let err = server
        .psql_conn("user=nobody password=x sslmode=disable", "SELECT 1")
        .unwrap_err();
    assert!(
        err.contains("role \"nobody\" is not permitted to log in"),
        "{err}"
    );
    let err = server
        .psql_conn("user=nopass password=any sslmode=disable", "SELECT 1")
        .unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    let err = server
        .psql_conn("user=ghost password=any sslmode=disable", "SELECT 1")
        .unwrap_err();
    assert!(err.contains("role \"ghost\" does not exist"), "{err}");
    // A user changes its own password.
    server
        .psql_conn(alice, "ALTER ROLE alice PASSWORD 'new one'")
        .unwrap();
    assert_eq!(
        server
            .psql_conn("user=alice password='new one' sslmode=disable", "SELECT 1")
            .unwrap(),
        "1"
    );
    let err = server
        .psql_conn(
            "user=alice password='new one' sslmode=disable",
            "ALTER ROLE alice SUPERUSER",
        )
        .unwrap_err();
    assert!(
        err.contains("must be superuser to alter superusers"),
        "{err}"
    );
    // max_connections: with four sessions busy, a fifth is refused (53300).
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let port = server.port;
            std::thread::spawn(move || {
                std::process::Command::new("psql")
                    .args(["-XAtq", "-d"])
                    .arg(format!(
                        "host=127.0.0.1 port={port} user=postgres password=boss sslmode=disable"
                    ))
                    .args(["-c", "SELECT pg_sleep(2)"])
                    .output()
                    .unwrap()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let err = server.psql_conn(admin, "SELECT 1").unwrap_err();
    assert!(err.contains("too many clients already"), "{err}");
    for b in busy {
        assert!(b.join().unwrap().status.success());
    }
    assert_eq!(server.psql_conn(admin, "SELECT 1").unwrap(), "1");
}

/// A role whose password was set under password_encryption = md5 (or given
/// as an `md5...` hash, as pg_dumpall writes it) logs in by MD5 challenge;
/// a wrong password is refused with 28P01; a rename clears the hash.
#[test]
fn md5_passwords_log_in_by_md5_challenge() {
    if !have("psql") {
        eprintln!("psql not installed; skipping md5 test");
        return;
    }
    let dir = TempDir::new("md5");
    let server = Server::start_env(&dir.0.join("data"), &[], &[("BASALT_PASSWORD", "boss")]);
    let admin = "password=boss sslmode=disable";
    let hashed = format!("md5{}", "9f1a1bfd6da2eda9e1f1d61e2a0b1f44");
    for sql in [
        "SET password_encryption = 'md5'; CREATE ROLE m5 LOGIN PASSWORD 'five'".to_string(),
        format!("CREATE ROLE given LOGIN PASSWORD '{hashed}'"),
    ] {
        server.psql_conn(admin, &sql).unwrap();
    }
    assert_eq!(
        server
            .psql_conn(
                admin,
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'm5'"
            )
            .unwrap(),
        // md5('five' || 'm5')
        "md5f3cb7f441a4644b3bd6d448ad82f526d"
    );
    assert_eq!(
        server
            .psql_conn(
                "user=m5 password=five sslmode=disable",
                "SELECT current_user"
            )
            .unwrap(),
        "m5"
    );
    let err = server
        .psql_conn("user=m5 password=six sslmode=disable", "SELECT 1")
        .unwrap_err();
    assert!(
        err.contains("password authentication failed for user \"m5\""),
        "{err}"
    );
    assert_eq!(
        server
            .psql_conn(
                admin,
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'given'"
            )
            .unwrap(),
        hashed
    );
    server
        .psql_conn(admin, "ALTER ROLE m5 RENAME TO m6")
        .unwrap();
    assert_eq!(
        server
            .psql_conn(
                admin,
                "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'm6'"
            )
            .unwrap(),
        "t"
    );
}
