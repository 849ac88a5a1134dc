//! Helpers shared by the tests that start the real `basalt` binary and talk
//! to it with `psql`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port, never the same twice in this test process (tests
/// run in parallel threads: two could otherwise be handed one port between
/// probing it and the server binding it). Ports come from below Linux's
/// ephemeral range (32768-60999), so a client connection's local port can
/// never take one between the probe and the server's bind.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ ((std::process::id() as u64) << 20)
        | 1;
    loop {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let port = 12000 + (x % 20000) as u16;
        if given.contains(&port) {
            continue;
        }
        // ::1 may not exist here; only "in use" there counts.
        let v6_free = match std::net::TcpListener::bind(("::1", port)) {
            Ok(_) => true,
            Err(e) => e.kind() != std::io::ErrorKind::AddrInUse,
        };
        let free = v6_free && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free {
            given.push(port);
            return port;
        }
    }
}

pub fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// A scratch directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("basalt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `basalt` on a free loopback port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Server {
    pub fn start(data: &Path, args: &[&str]) -> Server {
        Self::start_env(data, args, &[])
    }

    /// Starts with extra environment variables (e.g. BASALT_PASSWORD).
    pub fn start_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = Server {
            child: spawn(data, port, args, &env),
            port,
            data: data.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("basalt exited during start-up: {st}");
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no shutdown checkpoint, no flush.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same data directory and port.
    pub fn restart(&mut self) {
        self.kill();
        let args: Vec<&str> = self.args.iter().map(|s| s.as_str()).collect();
        self.child = spawn(&self.data, self.port, &args, &self.env);
        self.wait_ready();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs SQL through `psql -XAtq` with ON_ERROR_STOP; stdout or stderr.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        output(
            self.psql_cmd()
                .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql]),
        )
    }

    /// A PostgreSQL client program (pg_dump, pg_restore, pgbench) with
    /// connection arguments for this server.
    #[allow(dead_code)]
    pub fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(name);
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]);
        c.env_remove("PGPASSWORD").env_remove("PGSSLMODE");
        c
    }

    /// `psql` with connection arguments for this server.
    pub fn psql_cmd(&self) -> Command {
        let mut c = Command::new("psql");
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ]);
        c.env_remove("PGPASSWORD").env_remove("PGSSLMODE");
        c
    }

    /// `psql` with a libpq connection string built from `extra` ("k=v ...").
    pub fn psql_conn(&self, extra: &str, sql: &str) -> Result<String, String> {
        let conninfo = format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres {extra}",
            self.port
        );
        output(
            Command::new("psql")
                .env_remove("PGPASSWORD")
                .env_remove("PGSSLMODE")
                .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-d", &conninfo, "-c", sql]),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Still running when the test failed? Its log says why, perhaps.
        let alive = matches!(self.child.try_wait(), Ok(None));
        self.kill();
        let path = log_path(&self.data);
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- basalt on port {} ({}) log, last lines:\n{}",
                self.port,
                if alive { "was running" } else { "had exited" },
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let _ = std::fs::remove_file(path);
    }
}

/// Where a test server's stderr goes: beside its data directory.
fn log_path(data: &Path) -> PathBuf {
    data.with_extension("log")
}

/// A command's trimmed stdout when it succeeds, else its stderr.
fn output(cmd: &mut Command) -> Result<String, String> {
    let t0 = Instant::now();
    loop {
        let out = cmd.output().map_err(|e| e.to_string())?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        // A server that has just started may not accept yet: try again.
        if err.contains("Connection refused") && t0.elapsed() < Duration::from_secs(5) {
            eprintln!("psql: connection refused; retrying");
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        return Err(err);
    }
}

fn spawn(data: &Path, port: u16, args: &[&str], env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_basalt"))
        .args([
            "--data-dir",
            data.to_str().expect("utf-8 path"),
            "--port",
            &port.to_string(),
        ])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path(data))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
        )
        .spawn()
        .expect("start basalt")
}

/// Peak resident set size of a process in KiB (VmHWM), Linux only.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Total size in bytes of the files under a directory.
pub fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A wire-protocol client for `postgres` on 127.0.0.1:`port`. A connection
/// refused or reset during start-up is retried for a while (a server that
/// has just started may still be settling), then the test fails.
pub fn wire_client(port: u16) -> basalt_sqllogic::client::Client {
    let t0 = Instant::now();
    loop {
        match basalt_sqllogic::client::Client::connect(
            "127.0.0.1",
            port,
            "postgres",
            "postgres",
            None,
        ) {
            Ok(c) => return c,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionRefused
                ) && t0.elapsed() < Duration::from_secs(5) =>
            {
                eprintln!("connect to port {port}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("connect to port {port}: {e}"),
        }
    }
}
