//! Isolation tests in the style of PostgreSQL's src/test/isolation: each
//! spec (tests/isolation/specs/*.spec) names sessions and their steps, and
//! permutations that interleave them. The runner plays each permutation over
//! real connections, one per session, and writes what happened: each step,
//! its rows or error, `<waiting ...>` when a step blocks on a lock (seen in
//! pg_stat_activity as wait_event_type = 'Lock', as PostgreSQL's tester
//! does) and `<... completed>` when it later finishes.
//!
//! The expected outputs (tests/isolation/expected/*.out) were produced by
//! this runner against PostgreSQL 15. Set BASALT_ISOLATION_PG_PORT to also
//! run every spec against a PostgreSQL on that port (both must match the
//! expected file); add BASALT_ISOLATION_WRITE=1 to rewrite the expected
//! files from PostgreSQL.

mod common;

use basalt_sqllogic::client::{data_row, error_fields, Client};
use common::{Server, TempDir};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Step {
    name: String,
    session: usize,
    sql: String,
}

struct Session {
    setup: Vec<String>,
    teardown: Vec<String>,
}

struct Spec {
    setup: Vec<String>,
    teardown: Vec<String>,
    sessions: Vec<Session>,
    steps: Vec<Step>,
    permutations: Vec<Vec<String>>,
}

/// Parses PostgreSQL's spec syntax: `setup { sql }`, `teardown { sql }`,
/// `session name` followed by its `setup`, `step name { sql }` and
/// `teardown`, and `permutation step ...`. `#` starts a comment.
fn parse_spec(text: &str) -> Spec {
    let mut toks: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == '#' {
            while chars.peek().is_some_and(|&c| c != '\n') {
                chars.next();
            }
        } else if c == '{' {
            chars.next();
            let mut depth = 1;
            let mut body = String::new();
            for c in chars.by_ref() {
                if c == '{' {
                    depth += 1;
                } else if c == '}' {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                body.push(c);
            }
            toks.push(format!("{{{}", body.trim()));
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let w: String = chars.by_ref().take_while(|&c| c != '"').collect();
            toks.push(w);
        } else {
            let mut w = String::new();
            while chars
                .peek()
                .is_some_and(|c| !c.is_whitespace() && *c != '{')
            {
                w.push(chars.next().unwrap());
            }
            toks.push(w);
        }
    }
    let body = |t: &str| t.strip_prefix('{').expect("a { block }").to_string();
    let mut spec = Spec {
        setup: vec![],
        teardown: vec![],
        sessions: vec![],
        steps: vec![],
        permutations: vec![],
    };
    let mut i = 0;
    while i < toks.len() {
        match toks[i].as_str() {
            "setup" => {
                let b = body(&toks[i + 1]);
                match spec.sessions.last_mut() {
                    Some(s) => s.setup.push(b),
                    None => spec.setup.push(b),
                }
                i += 2;
            }
            "teardown" => {
                let b = body(&toks[i + 1]);
                match spec.sessions.last_mut() {
                    Some(s) => s.teardown.push(b),
                    None => spec.teardown.push(b),
                }
                i += 2;
            }
            "session" => {
                spec.sessions.push(Session {
                    setup: vec![],
                    teardown: vec![],
                });
                i += 2;
            }
            "step" => {
                spec.steps.push(Step {
                    name: toks[i + 1].clone(),
                    session: spec.sessions.len() - 1,
                    sql: body(&toks[i + 2]),
                });
                i += 3;
            }
            "permutation" => {
                let mut p = Vec::new();
                i += 1;
                while i < toks.len()
                    && !matches!(
                        toks[i].as_str(),
                        "permutation" | "setup" | "teardown" | "session" | "step"
                    )
                {
                    p.push(toks[i].clone());
                    i += 1;
                }
                spec.permutations.push(p);
            }
            other => panic!("spec: unexpected {other:?}"),
        }
    }
    spec
}

fn connect(port: u16) -> Client {
    common::wire_client(port)
}

/// Formats one query's answer: rows (header, values, count) or the error.
fn format_result(msgs: &[basalt_sqllogic::client::Message], out: &mut String) {
    let mut header: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    for m in msgs {
        match m.tag {
            b'T' => {
                let n = u16::from_be_bytes([m.body[0], m.body[1]]) as usize;
                let mut pos = 2;
                let mut names = Vec::new();
                for _ in 0..n {
                    let end = m.body[pos..].iter().position(|&b| b == 0).unwrap() + pos;
                    names.push(String::from_utf8_lossy(&m.body[pos..end]).to_string());
                    pos = end + 1 + 18;
                }
                header = Some(names);
                rows.clear();
            }
            b'D' => rows.push(data_row(&m.body).expect("DataRow")),
            b'C' => {
                if let Some(h) = header.take() {
                    let _ = writeln!(out, "{}", h.join("|"));
                    for r in &rows {
                        let vals: Vec<&str> =
                            r.iter().map(|v| v.as_deref().unwrap_or("")).collect();
                        let _ = writeln!(out, "{}", vals.join("|"));
                    }
                    let n = rows.len();
                    let _ = writeln!(out, "({n} row{})\n", if n == 1 { "" } else { "s" });
                }
            }
            b'E' => {
                let e = error_fields(&m.body);
                let _ = writeln!(out, "ERROR:  {}", e.message);
            }
            _ => {}
        }
    }
}

/// Whether the session with backend `pid` waits for a lock, as seen from
/// the control connection.
fn is_blocked(ctl: &mut Client, pid: i32) -> bool {
    let msgs = ctl
        .query_messages(&format!(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = {pid}"
        ))
        .expect("poll pg_stat_activity");
    msgs.iter()
        .filter(|m| m.tag == b'D')
        .any(|m| data_row(&m.body).expect("row")[0].as_deref() == Some("Lock"))
}

/// How long a step must stay blocked before it is reported as waiting.
const SETTLE: Duration = Duration::from_millis(250);
const STEP_LIMIT: Duration = Duration::from_secs(60);

/// Waits until the step on `c` has answered (true) or has been blocked on
/// a lock for SETTLE (false).
fn settle(c: &mut Client, pid: i32, ctl: &mut Client) -> bool {
    let start = Instant::now();
    let mut blocked_since: Option<Instant> = None;
    loop {
        if c.ready_to_read().expect("socket") {
            return true;
        }
        assert!(start.elapsed() < STEP_LIMIT, "a step ran for over a minute");
        if is_blocked(ctl, pid) {
            let since = *blocked_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= SETTLE {
                return false;
            }
        } else {
            blocked_since = None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_spec(spec: &Spec, port: u16) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Parsed test spec with {} sessions",
        spec.sessions.len()
    );
    let mut ctl = connect(port);
    for perm in &spec.permutations {
        let _ = writeln!(out, "\nstarting permutation: {}", perm.join(" "));
        for s in &spec.setup {
            let mut o = String::new();
            format_result(&ctl.query_messages(s).expect("setup"), &mut o);
            out.push_str(&o);
        }
        let mut conns: Vec<Client> = spec.sessions.iter().map(|_| connect(port)).collect();
        for (i, s) in spec.sessions.iter().enumerate() {
            for sql in &s.setup {
                conns[i].query_messages(sql).expect("session setup");
            }
        }
        // Steps sent and not yet answered, in the order they blocked.
        let mut waiting: Vec<usize> = Vec::new();
        for name in perm {
            let si = spec
                .steps
                .iter()
                .position(|s| &s.name == name)
                .unwrap_or_else(|| panic!("no step {name}"));
            let step = &spec.steps[si];
            assert!(
                !waiting
                    .iter()
                    .any(|&w| spec.steps[w].session == step.session),
                "step {name}: its session is still waiting"
            );
            let c = &mut conns[step.session];
            c.send_query(&step.sql).expect("send step");
            let pid = c.backend_pid();
            let _ = write!(out, "step {}: {}", step.name, step.sql);
            if settle(&mut conns[step.session], pid, &mut ctl) {
                out.push('\n');
                let msgs = conns[step.session].read_until_ready().expect("result");
                format_result(&msgs, &mut out);
            } else {
                out.push_str(" <waiting ...>\n");
                waiting.push(si);
            }
            // Earlier steps this one may have let through.
            let mut still = Vec::new();
            for w in std::mem::take(&mut waiting) {
                if w == si {
                    still.push(w);
                    continue;
                }
                let ws = &spec.steps[w];
                let wpid = conns[ws.session].backend_pid();
                if settle(&mut conns[ws.session], wpid, &mut ctl) {
                    let _ = writeln!(out, "step {}: <... completed>", ws.name);
                    let msgs = conns[ws.session].read_until_ready().expect("result");
                    format_result(&msgs, &mut out);
                } else {
                    still.push(w);
                }
            }
            waiting = still;
        }
        assert!(
            waiting.is_empty(),
            "steps still waiting at the end of a permutation"
        );
        for (i, s) in spec.sessions.iter().enumerate() {
            for sql in &s.teardown {
                conns[i].query_messages(sql).expect("session teardown");
            }
        }
        drop(conns);
        for s in &spec.teardown {
            ctl.query_messages(s).expect("teardown");
        }
    }
    out
}

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/isolation")
}

#[test]
fn isolation_specs_match_postgresql() {
    let pg_port: Option<u16> = std::env::var("BASALT_ISOLATION_PG_PORT")
        .ok()
        .and_then(|p| p.parse().ok());
    let rewrite = std::env::var("BASALT_ISOLATION_WRITE").is_ok();
    let only = std::env::var("BASALT_ISOLATION_ONLY").ok();
    let dir = TempDir::new("isolation");
    let srv = Server::start(&dir.0, &[]);
    let mut specs: Vec<PathBuf> = std::fs::read_dir(spec_dir().join("specs"))
        .expect("specs dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .filter(|p| {
            only.as_ref()
                .is_none_or(|o| p.file_stem().is_some_and(|s| s.to_string_lossy() == *o))
        })
        .collect();
    specs.sort();
    assert!(only.is_some() || specs.len() >= 15, "at least 15 specs");
    let mut failed = Vec::new();
    for path in &specs {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let spec = parse_spec(&std::fs::read_to_string(path).expect("read spec"));
        let expected_path = spec_dir().join("expected").join(format!("{name}.out"));
        if let Some(p) = pg_port {
            let pg = run_spec(&spec, p);
            if rewrite {
                std::fs::write(&expected_path, &pg).expect("write expected");
            }
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
            if pg != expected {
                eprintln!("--- {name}: PostgreSQL differs from the expected file:\n{pg}");
                failed.push(format!("{name} (PostgreSQL)"));
            }
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("missing {}", expected_path.display()));
        let got = run_spec(&spec, srv.port);
        if got != expected {
            eprintln!("--- {name}: Basalt's output:\n{got}\n--- expected:\n{expected}");
            failed.push(name);
        } else {
            eprintln!("ok {name}");
        }
    }
    assert!(failed.is_empty(), "isolation specs that differ: {failed:?}");
}
