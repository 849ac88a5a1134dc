//! What the Rust clients share: the connection settings the runner passes
//! and one line per check (`ok name` / `FAIL name: why`).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

pub static FAILURES: AtomicUsize = AtomicUsize::new(0);

pub const STREAM_ROWS: i64 = 1_000_000;

pub fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_default()
}

pub type CheckResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Runs one check (bounded to two minutes) and prints its line.
pub async fn check<F: Future<Output = CheckResult>>(name: &str, f: F) {
    let r = tokio::time::timeout(std::time::Duration::from_secs(120), f).await;
    match r {
        Ok(Ok(())) => println!("ok {name}"),
        Ok(Err(e)) => {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            println!("FAIL {name}: {}", e.to_string().replace('\n', " | "));
        }
        Err(_) => {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            println!("FAIL {name}: timed out");
        }
    }
}

pub fn finish() -> ! {
    std::process::exit(if FAILURES.load(Ordering::Relaxed) == 0 { 0 } else { 1 })
}

/// Fails with a message unless `got == want`.
pub fn eq<T: PartialEq + std::fmt::Debug>(got: T, want: T, what: &str) -> CheckResult {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}").into())
    }
}

/// The process's resident set, in MiB (Linux).
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// A rustls client config trusting the suite's certificate.
pub fn tls_config() -> rustls::ClientConfig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(env("CLIENT_SSLROOTCERT")).expect("CLIENT_SSLROOTCERT");
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.expect("a certificate")).expect("a usable certificate");
    }
    rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth()
}
