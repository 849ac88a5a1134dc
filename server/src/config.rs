//! Settings with PostgreSQL's names. Precedence: `-c name=value` flags >
//! `BASALT_<NAME>` environment > `basalt.toml` (or `--config FILE`) > defaults.

use clap::Parser;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "basalt",
    version,
    about = "Basalt: a PostgreSQL-compatible database server"
)]
struct Args {
    /// Data directory (created on first start).
    #[arg(long = "data-dir", short = 'D')]
    data_dir: Option<String>,
    /// TCP port.
    #[arg(long, short = 'p')]
    port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    listen: Option<String>,
    /// Set a setting: -c name=value (repeatable).
    #[arg(short = 'c', value_name = "NAME=VALUE")]
    settings: Vec<String>,
    /// Settings file (TOML); defaults to basalt.toml in the data directory or cwd.
    #[arg(long)]
    config: Option<String>,
}

const DEFAULTS: &[(&str, &str)] = &[
    ("data_directory", "./basalt-data"),
    ("port", "5432"),
    ("listen_addresses", "127.0.0.1"),
    ("shared_buffers", "128MB"),
    ("max_connections", "100"),
    ("synchronous_commit", "on"),
    ("fsync", "on"),
    ("checkpoint_timeout", "5min"),
    ("wal_writer_delay", "200ms"),
    ("metrics_port", "0"),
    ("metrics_listen_address", "127.0.0.1"),
    ("max_wal_size", "1GB"),
    ("health_disk_degraded_pct", "10"),
    ("health_disk_unhealthy_pct", "5"),
    ("archive_mode", "off"),
    ("archive_dir", ""),
    ("autovacuum", "on"),
    ("autovacuum_naptime", "1min"),
    ("autovacuum_vacuum_threshold", "50"),
    ("autovacuum_vacuum_scale_factor", "0.2"),
    ("autovacuum_analyze_threshold", "50"),
    ("autovacuum_analyze_scale_factor", "0.1"),
    ("log_format", "text"),
    ("log_statement", "none"),
    ("log_min_duration_statement", "-1"),
    ("server_version", "15.0"),
    ("server_version_num", "150000"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("DateStyle", "ISO, MDY"),
    ("TimeZone", "UTC"),
    ("integer_datetimes", "on"),
    ("standard_conforming_strings", "on"),
    ("IntervalStyle", "postgres"),
    ("application_name", ""),
    ("search_path", "\"$user\", public"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_isolation", "read committed"),
    ("extra_float_digits", "1"),
    ("client_min_messages", "notice"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("max_identifier_length", "63"),
    ("block_size", "8192"),
    ("max_index_keys", "32"),
    ("max_function_args", "100"),
    ("lc_collate", "C.UTF-8"),
    ("lc_ctype", "C.UTF-8"),
    ("is_superuser", "on"),
    ("work_mem", "4MB"),
    ("maintenance_work_mem", "64MB"),
    ("bytea_output", "hex"),
    ("default_transaction_read_only", "off"),
    ("transaction_read_only", "off"),
    ("row_security", "on"),
    ("session_authorization", "postgres"),
    ("in_hot_standby", "off"),
    ("ssl", "off"),
    ("ssl_cert_file", ""),
    ("ssl_key_file", ""),
    ("password_encryption", "scram-sha-256"),
];

/// Settings that are not shown by SHOW / pg_settings.
const HIDDEN: &[&str] = &["password_file"];

pub struct Config {
    values: BTreeMap<String, String>,
}

impl Config {
    pub fn get(&self, name: &str) -> String {
        self.values
            .get(&name.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }
    pub fn get_opt(&self, name: &str) -> Option<String> {
        self.values.get(&name.to_lowercase()).cloned()
    }
    /// (display name, value) for SHOW and pg_settings.
    pub fn visible(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in &self.values {
            if HIDDEN.contains(&k.as_str()) {
                continue;
            }
            let disp = DEFAULTS
                .iter()
                .find(|(d, _)| d.to_lowercase() == *k)
                .map(|(d, _)| d.to_string())
                .unwrap_or(k.clone());
            out.push((disp, v.clone()));
        }
        out
    }
}

pub fn load() -> Result<Config, String> {
    let args = Args::parse();
    let mut values: BTreeMap<String, String> = DEFAULTS
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.to_string()))
        .collect();
    let known =
        |k: &str| DEFAULTS.iter().any(|(d, _)| d.to_lowercase() == k) || HIDDEN.contains(&k);
    // Flags first (to find the data directory and config file), applied last.
    let mut flags: Vec<(String, String)> = Vec::new();
    for s in &args.settings {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("-c expects name=value, got \"{s}\""))?;
        flags.push((k.trim().to_lowercase(), v.trim().to_string()));
    }
    if let Some(d) = &args.data_dir {
        flags.push(("data_directory".into(), d.clone()));
    }
    if let Some(p) = args.port {
        flags.push(("port".into(), p.to_string()));
    }
    if let Some(l) = &args.listen {
        flags.push(("listen_addresses".into(), l.clone()));
    }
    let env = |k: &str| std::env::var(format!("BASALT_{}", k.to_uppercase())).ok();
    let data_dir = flags
        .iter()
        .rev()
        .find(|(k, _)| k == "data_directory")
        .map(|(_, v)| v.clone())
        .or_else(|| env("data_directory"))
        .unwrap_or_else(|| "./basalt-data".into());
    let file = args.config.clone().or_else(|| {
        [format!("{data_dir}/basalt.toml"), "basalt.toml".to_string()]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
    });
    if let Some(f) = file {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?;
        let table: toml::Table = text.parse().map_err(|e| format!("{f}: {e}"))?;
        for (k, v) in table {
            let k = k.to_lowercase();
            if !known(&k) {
                return Err(format!("{f}: unrecognized configuration parameter \"{k}\""));
            }
            let v = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            values.insert(k, v);
        }
    }
    let names: Vec<String> = values
        .keys()
        .cloned()
        .chain(HIDDEN.iter().map(|s| s.to_string()))
        .collect();
    for k in names {
        if let Some(v) = env(&k) {
            values.insert(k, v);
        }
    }
    for (k, v) in flags {
        if !known(&k) {
            return Err(format!("unrecognized configuration parameter \"{k}\""));
        }
        values.insert(k, v);
    }
    Ok(Config { values })
}

/// "128MB", "8kB", "1GB", or a number of 8 kB pages as PostgreSQL takes it.
pub fn parse_bytes(s: &str) -> Option<u64> {
    basalt_catalog::cast::parse_size(s)
}

/// A duration setting in seconds ("30s", "5min", "1h", or a bare number of seconds).
pub fn parse_secs(s: &str) -> Option<u64> {
    basalt_catalog::cast::parse_duration(s, Duration::from_secs(1)).map(|d| d.as_secs())
}

/// A duration setting in milliseconds ("200ms", "1s", or a bare number of ms).
pub fn parse_ms(s: &str) -> Option<u64> {
    basalt_catalog::cast::parse_duration(s, Duration::from_millis(1)).map(|d| d.as_millis() as u64)
}
