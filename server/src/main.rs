//! `basalt`: the server binary. Reads settings (flags > BASALT_* environment >
//! basalt.toml > defaults), opens or creates the data directory, serves the
//! PostgreSQL protocol, checkpoints in the background, and on SIGTERM/SIGINT
//! checkpoints and exits.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod auth;
mod config;
mod http;
mod wire;

use basalt_executor::Database;
use basalt_storage::StorageOptions;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("restore") {
        let args: Vec<String> = std::env::args().skip(2).collect();
        match restore(&args) {
            Ok(msg) => {
                println!("{msg}");
                return;
            }
            Err(e) => {
                eprintln!("basalt restore: {e}");
                std::process::exit(1);
            }
        }
    }
    let cfg = match config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("basalt: {e}");
            std::process::exit(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BASALT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if cfg.get("log_format") == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    if let Err(e) = run(cfg) {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}

/// `basalt restore --from <backup> [--incremental <dir> ...] --to <data dir>
/// [--until '<timestamp>' | --until-lsn <lsn>] [--archive <dir> | --no-archive]`.
fn restore(args: &[String]) -> Result<String, String> {
    use basalt_storage::restore::{RecoveryTarget, RestoreOptions};
    let mut o = RestoreOptions::default();
    let mut it = args.iter();
    let mut from = None;
    let mut to = None;
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--from" => from = Some(val()?),
            "--incremental" => o.incrementals.push(val()?.into()),
            "--to" => to = Some(val()?),
            "--archive" => o.archive = Some(val()?.into()),
            "--no-archive" => o.no_archive = true,
            "--until" => {
                let v = val()?;
                let t = basalt_catalog::cast::cast(
                    basalt_catalog::Value::Text(v.clone()),
                    &basalt_catalog::DataType::TimestampTz,
                )
                .map_err(|e| format!("--until {v}: {e}"))?;
                let basalt_catalog::Value::TimestampTz(t) = t else {
                    return Err(format!("--until {v}: not a timestamp"));
                };
                o.target = Some(RecoveryTarget::Time(t.timestamp_micros()));
            }
            "--until-lsn" => {
                let v = val()?;
                o.target = Some(RecoveryTarget::Lsn(
                    basalt_storage::wal::parse_lsn(&v)
                        .ok_or(format!("--until-lsn {v}: not an LSN"))?,
                ));
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    o.from = from.ok_or("--from <backup directory> is required")?.into();
    o.to = to.ok_or("--to <data directory> is required")?.into();
    basalt_storage::restore::restore(&o)
}

fn run(cfg: config::Config) -> Result<(), String> {
    let data_dir = std::path::PathBuf::from(cfg.get("data_directory"));
    let shared_buffers =
        config::parse_bytes(&cfg.get("shared_buffers")).ok_or("invalid shared_buffers")? / 8192;
    let sync = basalt_catalog::cast::parse_bool(&cfg.get("synchronous_commit")).unwrap_or(true);
    let db = Database::open(
        &data_dir,
        StorageOptions {
            shared_buffers: shared_buffers as usize,
            synchronous_commit: sync,
        },
        cfg.visible(),
    )
    .map_err(|e| format!("could not open data directory {}: {e}", data_dir.display()))?;
    if db.st.created {
        tracing::info!(dir = %data_dir.display(), "initialized a new data directory");
    }
    let secret = match cfg.get_opt("password_file").filter(|f| !f.is_empty()) {
        Some(f) => Some(
            std::fs::read_to_string(&f)
                .map_err(|e| format!("password_file {f}: {e}"))?
                .trim()
                .to_string(),
        ),
        None => std::env::var("BASALT_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty()),
    };
    let verifier = secret
        .map(|s| auth::Verifier::from_secret(&s))
        .transpose()?;
    let tls = tls_config(&cfg)?;
    let listeners = listen(&cfg)?;
    // SAFETY: installing an async-signal-safe handler that only stores an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    let shared = Arc::new(wire::Shared {
        db: db.clone(),
        verifier,
        tls,
        backends: Mutex::new(HashMap::new()),
        max_connections: cfg.get("max_connections").parse().unwrap_or(100),
    });
    let metrics_port: u16 = cfg
        .get("metrics_port")
        .parse()
        .map_err(|_| "invalid metrics_port".to_string())?;
    if metrics_port != 0 {
        http::start(db.clone(), &cfg.get("metrics_listen_address"), metrics_port)?;
    }
    let get = |k: &str| Some(cfg.get(k));
    if let Some(av) = basalt_executor::autovacuum::AutovacuumConfig::from_settings(&get)? {
        basalt_executor::autovacuum::start(db.clone(), av, &STOP);
    }
    // WAL archiver: finished segments go to archive_dir before removal.
    let archive_on = basalt_catalog::cast::parse_bool(&cfg.get("archive_mode")).unwrap_or(false);
    if archive_on {
        let dir = cfg.get("archive_dir");
        if dir.is_empty() {
            return Err("archive_mode is on but archive_dir is not set".into());
        }
        let dir = std::path::PathBuf::from(dir);
        let dir = if dir.is_absolute() {
            dir
        } else {
            data_dir.join(dir)
        };
        db.st.wal.set_archiving(true);
        let db = db.clone();
        std::thread::Builder::new()
            .name("archiver".into())
            .spawn(move || {
                while !STOP.load(Ordering::Relaxed) {
                    if let Err(e) = db.st.archive_wal(&dir) {
                        tracing::error!("WAL archiving failed: {e}");
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
            .map_err(|e| e.to_string())?;
    }
    // Background checkpointer: by time and by WAL volume.
    let ck_timeout = config::parse_secs(&cfg.get("checkpoint_timeout")).unwrap_or(300);
    let max_wal = config::parse_bytes(&cfg.get("max_wal_size")).unwrap_or(1 << 30);
    {
        let db = db.clone();
        std::thread::Builder::new()
            .name("checkpointer".into())
            .spawn(move || {
                let mut last = Instant::now();
                while !STOP.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(500));
                    let wal_since = db.st.wal.insert_lsn().saturating_sub(db.st.wal.redo_ptr());
                    if last.elapsed() >= Duration::from_secs(ck_timeout) || wal_since >= max_wal / 2
                    {
                        if let Err(e) = db.st.checkpoint() {
                            tracing::error!("checkpoint failed: {e}");
                        }
                        last = Instant::now();
                    }
                }
            })
            .map_err(|e| e.to_string())?;
    }
    // WAL writer: commits acknowledged before their flush
    // (synchronous_commit = off) become durable within wal_writer_delay.
    {
        let db = db.clone();
        let delay = config::parse_ms(&cfg.get("wal_writer_delay"))
            .unwrap_or(200)
            .max(1);
        std::thread::Builder::new()
            .name("walwriter".into())
            .spawn(move || {
                while !STOP.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(delay));
                    let wal = &db.st.wal;
                    let end = wal.insert_lsn();
                    if wal.flushed_lsn() < end {
                        if let Err(e) = wal.flush(end) {
                            tracing::error!("WAL writer: flush failed: {e}");
                        }
                    }
                }
            })
            .map_err(|e| e.to_string())?;
    }
    let mut fds: Vec<libc::pollfd> = listeners
        .iter()
        .map(|l| libc::pollfd {
            fd: l.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    while !STOP.load(Ordering::Relaxed) {
        // SAFETY: fds points to fds.len() initialized pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 200) };
        if n <= 0 {
            continue;
        }
        for l in &listeners {
            match l.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let shared = shared.clone();
                    let spawned = std::thread::Builder::new()
                        .name("backend".into())
                        .stack_size(8 << 20)
                        .spawn(move || {
                            if let Err(e) = wire::serve(&shared, stream) {
                                tracing::debug!("connection ended: {e}");
                            }
                        });
                    if let Err(e) = spawned {
                        tracing::error!("could not start a backend thread: {e}");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => tracing::warn!("accept failed: {e}"),
            }
        }
    }
    tracing::info!("shutting down: checkpoint");
    db.st
        .checkpoint_requested()
        .map_err(|e| format!("shutdown checkpoint failed: {e}"))?;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Binds every address of `listen_addresses` (comma-separated; `*` is all
/// IPv4 and IPv6 addresses, `localhost` the loopback ones).
fn listen(cfg: &config::Config) -> Result<Vec<TcpListener>, String> {
    let port = cfg.get("port");
    let mut addrs: Vec<String> = Vec::new();
    for a in cfg.get("listen_addresses").split(',').map(str::trim) {
        match a {
            "" => {}
            "*" => addrs.extend(["0.0.0.0".to_string(), "::".to_string()]),
            "localhost" => addrs.extend(["127.0.0.1".to_string(), "::1".to_string()]),
            a => addrs.push(a.to_string()),
        }
    }
    let mut out = Vec::new();
    for a in &addrs {
        let addr = if a.contains(':') {
            format!("[{a}]:{port}")
        } else {
            format!("{a}:{port}")
        };
        match TcpListener::bind(&addr) {
            Ok(l) => {
                l.set_nonblocking(true).map_err(|e| e.to_string())?;
                tracing::info!(%addr, "listening");
                out.push(l);
            }
            // "*" and "localhost" name IPv6 too; a host without it still serves IPv4.
            Err(e) if a == "::" || a == "::1" => tracing::warn!("could not listen on {addr}: {e}"),
            Err(e) => return Err(format!("could not listen on {addr}: {e}")),
        }
    }
    if out.is_empty() {
        return Err("listen_addresses names no address to listen on".into());
    }
    Ok(out)
}

/// TLS from `ssl_cert_file` / `ssl_key_file` (PEM), when both are set.
fn tls_config(cfg: &config::Config) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (cfg.get("ssl_cert_file"), cfg.get("ssl_key_file"));
    if cert.is_empty() && key.is_empty() {
        if basalt_catalog::cast::parse_bool(&cfg.get("ssl")).unwrap_or(false) {
            return Err("ssl is on but ssl_cert_file and ssl_key_file are not set".into());
        }
        return Ok(None);
    }
    if cert.is_empty() || key.is_empty() {
        return Err("TLS needs both ssl_cert_file and ssl_key_file".into());
    }
    let certs = CertificateDer::pem_file_iter(&cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("ssl_cert_file {cert}: {e}"))?;
    let key_der =
        PrivateKeyDer::from_pem_file(&key).map_err(|e| format!("ssl_key_file {key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| format!("TLS certificate and key: {e}"))?;
    tracing::info!(%cert, "TLS enabled");
    Ok(Some(Arc::new(config)))
}
