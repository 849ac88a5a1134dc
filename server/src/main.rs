//! `basalt`: the server binary. Reads settings (flags > BASALT_* environment >
//! basalt.toml > defaults), opens or creates the data directory, serves the
//! PostgreSQL protocol, checkpoints in the background, and on SIGTERM/SIGINT
//! checkpoints and exits.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod config;
mod sqlstate;
mod types;
mod wire;

use basalt_executor::Database;
use basalt_storage::StorageOptions;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() {
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
    let password = match cfg.get_opt("password_file") {
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
    let addr = format!("{}:{}", cfg.get("listen_addresses"), cfg.get("port"));
    let listener =
        TcpListener::bind(&addr).map_err(|e| format!("could not listen on {addr}: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    tracing::info!(%addr, "listening");
    // SAFETY: installing an async-signal-safe handler that only stores an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    let shared = Arc::new(wire::Shared {
        db: db.clone(),
        password,
        backends: Mutex::new(HashMap::new()),
        max_connections: cfg.get("max_connections").parse().unwrap_or(100),
    });
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
    while !STOP.load(Ordering::Relaxed) {
        match listener.accept() {
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
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => tracing::warn!("accept failed: {e}"),
        }
    }
    tracing::info!("shutting down: checkpoint");
    db.st
        .checkpoint()
        .map_err(|e| format!("shutdown checkpoint failed: {e}"))?;
    tracing::info!("shutdown complete");
    Ok(())
}
