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
