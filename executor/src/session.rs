//! Database and Session: the embedded API. `Database::open(dir)` opens the
//! storage and catalog; a `Session` runs statements with PostgreSQL's
//! transaction semantics: autocommit outside a block, BEGIN/COMMIT/ROLLBACK,
//! an aborted block that answers 25P02 until it ends, a snapshot per
//! statement (READ COMMITTED) with a command id per statement.

use crate::activity::{Backend, Registry};
use crate::error::{ExecError, Result};
use crate::eval::{cast_keep_type, eval, EvalCtx};
use crate::exec::{self, Ctx, Row, TableScan};
use crate::txn::{Isolation, Txn, TxnSettings};
use basalt_catalog::types::{encode_key, encode_row};
use basalt_catalog::{Catalog, DataType, IndexDef, Schema, TableDef, Value};
use basalt_planner::{CopyFormat, CopyOptions, Field, Plan, Query, Statement, Target};
use basalt_storage::{
    KeyRange, Snapshot, Storage, StorageError, StorageOptions, Tid, WaitPolicy, WriteOutcome,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

pub struct Database {
    pub st: Arc<Storage>,
    pub catalog: Catalog,
    /// Server-wide settings (name, value) shown by SHOW and pg_settings.
    pub settings: Vec<(String, String)>,
    next_pid: AtomicI32,
    /// Every live session's backend (pg_stat_activity, cancel, terminate).
    pub registry: Arc<Registry>,
}

impl Database {
    pub fn open(
        dir: &Path,
        opts: StorageOptions,
        settings: Vec<(String, String)>,
    ) -> Result<Arc<Database>> {
        let st = Storage::open(dir, opts)?;
        let catalog = Catalog::new(st.clone())?;
        Ok(Arc::new(Database {
            st,
            catalog,
            settings,
            next_pid: AtomicI32::new(1000),
            registry: Arc::new(Registry::default()),
        }))
    }

    pub fn session(self: &Arc<Self>) -> Session {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let backend = self.registry.register(pid);
        let mut tcfg = TxnSettings::default();
        for (k, v) in &self.settings {
            let _ = tcfg.apply(&k.to_lowercase(), v);
        }
        // The server's synchronous_commit is the storage default.
        tcfg.synchronous_commit = None;
        Session {
            db: self.clone(),
            txn: None,
            settings: HashMap::new(),
            cancel: backend.interrupt.clone(),
            pid,
            backend,
            tcfg,
            lazy_xid: std::cell::Cell::new(None),
        }
    }
}

/// What a statement returns to the client.
#[derive(Debug, Default)]
pub struct ExecResult {
    pub tag: String,
    pub fields: Option<Vec<Field>>,
    pub rows: Vec<Row>,
    pub notices: Vec<String>,
    /// Set by COPY FROM STDIN: the server then streams data to `copy_data`.
    pub copy_in: Option<CopyIn>,
    /// Set by COPY TO STDOUT: the lines to send.
    pub copy_out: Option<Vec<Vec<u8>>>,
    /// SET of a parameter the client tracks (ParameterStatus).
    pub parameter_status: Option<(String, String)>,
}

/// Settings a client is told about in ParameterStatus (at startup and when
/// they change), as PostgreSQL reports them.
pub const REPORTED_SETTINGS: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

/// Receives a query's rows as they are produced, so a large result is never
/// held whole in memory (the server writes each row to the socket).
pub trait RowSink {
    /// Called once, before the first row, with the result's columns.
    fn describe(&mut self, fields: &[Field]) -> Result<()>;
    fn row(&mut self, row: &Row) -> Result<()>;
    /// COPY TO STDOUT begins, with this many columns.
    fn copy_start(&mut self, ncols: usize) -> Result<()>;
    /// One line of COPY TO STDOUT data.
    fn copy_line(&mut self, line: &[u8]) -> Result<()>;
}

#[derive(Debug)]
pub struct CopyIn {
    pub table: Arc<TableDef>,
    pub columns: Vec<usize>,
    pub options: CopyOptions,
    pub partial: Vec<u8>,
    pub rows: u64,
    pub header_skipped: bool,
    pub ncols: usize,
}

pub struct Session {
    pub db: Arc<Database>,
    pub(crate) txn: Option<Txn>,
    settings: HashMap<String, String>,
    /// Raised to interrupt the running statement (see `backend` for why).
    pub cancel: Arc<AtomicBool>,
    pub pid: i32,
    pub backend: Arc<Backend>,
    pub(crate) tcfg: TxnSettings,
    /// An xid txid_current() had to assign in the middle of a statement
    /// (evaluation only reads the session); joins the transaction after it.
    pub(crate) lazy_xid: std::cell::Cell<Option<basalt_storage::Xid>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.finish(false);
        self.db.st.locks.release_session(self.pid);
        self.db.registry.unregister(self.pid);
    }
}

fn setting_key(n: &str) -> String {
    n.to_lowercase()
}

impl Session {
    pub fn in_transaction_block(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.explicit)
    }
    pub fn in_failed_transaction(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.aborted)
    }

    pub fn setting(&self, name: &str) -> Option<String> {
        let k = setting_key(name);
        match k.as_str() {
            "transaction_isolation" => return Some(self.isolation().name().to_string()),
            "transaction_read_only" => {
                return Some(if self.read_only() { "on" } else { "off" }.to_string())
            }
            _ => {}
        }
        if let Some(v) = self.settings.get(&k) {
            return Some(v.clone());
        }
        self.db
            .settings
            .iter()
            .find(|(n, _)| n.to_lowercase() == k)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                let d = crate::txn::builtin_default(&k);
                (!d.is_empty()).then(|| d.to_string())
            })
    }

    /// SET name = value (None: DEFAULT). Returns the ParameterStatus to
    /// send when the client tracks this setting.
    pub fn set_setting(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Result<Option<(String, String)>> {
        let k = setting_key(name);
        if k == "all" && value.is_none() {
            // RESET ALL: every session setting back to the server's.
            self.settings.clear();
            let mut tcfg = TxnSettings::default();
            for (k, v) in &self.db.settings {
                let _ = tcfg.apply(&k.to_lowercase(), v);
            }
            tcfg.synchronous_commit = None;
            self.tcfg = tcfg;
            return Ok(None);
        }
        const SESSION_ONLY: &[&str] = &[
            "transaction_isolation",
            "default_transaction_isolation",
            "search_path",
            "application_name",
            "extra_float_digits",
            "client_min_messages",
            "statement_timeout",
            "lock_timeout",
            "idle_in_transaction_session_timeout",
            "intervalstyle",
            "bytea_output",
            "row_security",
            "default_transaction_read_only",
            "transaction_read_only",
            "deadlock_timeout",
            "synchronous_commit",
            "work_mem",
            "maintenance_work_mem",
            "client_encoding",
            "datestyle",
            "timezone",
        ];
        const RESTART: &[&str] = &[
            "shared_buffers",
            "port",
            "listen_addresses",
            "max_connections",
            "data_directory",
            "ssl",
            "ssl_cert_file",
            "ssl_key_file",
            "password_file",
        ];
        const RELOAD: &[&str] = &[
            "checkpoint_timeout",
            "wal_writer_delay",
            "max_wal_size",
            "fsync",
            "log_format",
        ];
        if RESTART.contains(&k.as_str()) {
            return Err(ExecError::CantChangeSetting(format!(
                "parameter \"{k}\" cannot be changed without restarting the server"
            )));
        }
        if RELOAD.contains(&k.as_str()) {
            return Err(ExecError::CantChangeSetting(format!(
                "parameter \"{k}\" cannot be changed now"
            )));
        }
        if !SESSION_ONLY.contains(&k.as_str()) {
            return Err(match self.setting(&k) {
                Some(_) => {
                    ExecError::CantChangeSetting(format!("parameter \"{k}\" cannot be changed"))
                }
                None => ExecError::UnknownSetting(name.to_string()),
            });
        }
        let v = match value {
            Some(v) => v.to_string(),
            None => self
                .db
                .settings
                .iter()
                .find(|(n, _)| n.to_lowercase() == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| crate::txn::builtin_default(&k).to_string()),
        };
        if k == "client_encoding"
            && !matches!(v.to_uppercase().as_str(), "UTF8" | "UTF-8" | "UNICODE")
        {
            return Err(ExecError::InvalidSetting(name.to_string(), v));
        }
        if k == "timezone"
            && !matches!(
                v.to_uppercase().as_str(),
                "UTC" | "GMT" | "ETC/UTC" | "Z" | "+00" | "0"
            )
        {
            return Err(ExecError::InvalidSetting(name.to_string(), v));
        }
        let v = if k == "client_encoding" {
            "UTF8".to_string()
        } else {
            v
        };
        if k == "transaction_isolation" || k == "transaction_read_only" {
            let mode = if k == "transaction_isolation" {
                basalt_planner::TxnMode::Isolation(v.clone())
            } else {
                basalt_planner::TxnMode::ReadOnly(
                    basalt_catalog::cast::parse_bool(&v)
                        .ok_or_else(|| ExecError::InvalidSetting(name.to_string(), v.clone()))?,
                )
            };
            self.set_transaction(&[mode], false)?;
            return Ok(None);
        }
        if self.tcfg.apply(&k, &v).is_err() {
            return Err(ExecError::InvalidSetting(name.to_string(), v));
        }
        if k == "default_transaction_isolation" {
            let iso = Isolation::parse(&v).expect("checked by apply");
            self.settings.insert(k.clone(), iso.name().to_string());
            return Ok(None);
        }
        self.settings.insert(k.clone(), v.clone());
        Ok(REPORTED_SETTINGS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&k))
            .then(|| {
                let disp = self
                    .db
                    .settings
                    .iter()
                    .find(|(n, _)| n.to_lowercase() == k)
                    .map(|(n, _)| n.clone())
                    .unwrap_or(k.clone());
                (disp, v)
            }))
    }

    /// The session's own value of a setting (None: the server's).
    pub(crate) fn raw_setting(&self, k: &str) -> Option<String> {
        self.settings.get(k).cloned()
    }

    pub(crate) fn settings_snapshot(&self) -> (HashMap<String, String>, TxnSettings) {
        (self.settings.clone(), self.tcfg.clone())
    }

    pub(crate) fn restore_settings(
        &mut self,
        settings: HashMap<String, String>,
        tcfg: TxnSettings,
    ) {
        self.settings = settings;
        self.tcfg = tcfg;
    }

    /// Puts one setting back to a session value (None: the server's).
    pub(crate) fn restore_setting(&mut self, k: &str, prev: Option<String>) {
        match prev {
            Some(v) => {
                let _ = self.set_setting(k, Some(&v));
            }
            None => {
                let _ = self.set_setting(k, None);
                self.settings.remove(k);
            }
        }
    }

    pub fn all_settings(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .db
            .settings
            .iter()
            .map(|(n, val)| {
                (
                    n.clone(),
                    self.settings
                        .get(&n.to_lowercase())
                        .cloned()
                        .unwrap_or(val.clone()),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// The schema this session sees now.
    pub fn schema(&self) -> Result<Arc<Schema>> {
        let snap = self.snapshot();
        let own = self.txn.as_ref().is_some_and(|t| t.ddl);
        Ok(self.db.catalog.schema(&snap, own)?)
    }

    pub fn catalog_version(&self) -> u64 {
        self.db.catalog.version()
    }

    pub fn has_own_ddl(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.ddl)
    }

    /// Ends whatever transaction is open (connection closed).
    pub fn terminate(&mut self) {
        let _ = self.finish(false);
    }

    /// Parses, plans and runs a string of statements (simple query).
    pub fn execute_sql(&mut self, sql: &str) -> Vec<Result<ExecResult>> {
        self.report_activity("active", Some(sql));
        let stmts = match basalt_parser::parse(sql) {
            Ok(s) => s,
            Err(e) => {
                self.on_error();
                return vec![Err(e.into())];
            }
        };
        let mut out = Vec::new();
        for s in &stmts {
            let r = self.run_parsed(s, &[]);
            let failed = r.is_err();
            out.push(r);
            if failed {
                break;
            }
        }
        out
    }

    pub fn plan(
        &mut self,
        stmt: &basalt_parser::Statement,
        param_types: &[DataType],
    ) -> Result<(Statement, Vec<DataType>)> {
        let schema = self.schema()?;
        Ok(basalt_planner::plan_statement(&schema, stmt, param_types)?)
    }

    pub fn run_parsed(
        &mut self,
        stmt: &basalt_parser::Statement,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.run_parsed_to(stmt, params, None)
    }

    /// Plans and runs one parsed statement; a query's rows go to `sink` when
    /// one is given (else into the result).
    pub fn run_parsed_to(
        &mut self,
        stmt: &basalt_parser::Statement,
        params: &[Value],
        sink: Option<&mut dyn RowSink>,
    ) -> Result<ExecResult> {
        if self.in_failed_transaction() && !is_txn_end(stmt) {
            return Err(ExecError::InFailedTransaction);
        }
        let mut sink = sink;
        let mut tries = 0;
        let r = loop {
            let r = match self.plan(stmt, &[]) {
                Ok((p, _)) => {
                    let s: Option<&mut dyn RowSink> = match sink {
                        Some(ref mut s) => Some(&mut **s),
                        None => None,
                    };
                    self.execute_to(&p, params, s)
                }
                Err(e) => Err(e),
            };
            tries += 1;
            match r {
                Err(ExecError::StalePlan) if tries < 5 => continue,
                r => break r,
            }
        };
        if r.is_err() {
            self.on_error();
        }
        r
    }

    /// After an error: an implicit transaction rolls back; an explicit block
    /// becomes aborted.
    pub fn on_error(&mut self) {
        match &mut self.txn {
            Some(t) if t.explicit => self.abort_in_block(),
            Some(_) => {
                let _ = self.finish(false);
            }
            None => {}
        }
    }

    /// Runs a planned statement. Errors leave the transaction to `on_error`.
    pub fn execute(&mut self, stmt: &Statement, params: &[Value]) -> Result<ExecResult> {
        self.execute_to(stmt, params, None)
    }

    /// Runs a planned statement; a query's rows go to `sink` when one is
    /// given. Errors leave the transaction to `on_error`.
    pub fn execute_to(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        sink: Option<&mut dyn RowSink>,
    ) -> Result<ExecResult> {
        if self.in_failed_transaction()
            && !matches!(
                stmt,
                Statement::Commit { .. }
                    | Statement::Rollback { .. }
                    | Statement::RollbackToSavepoint(_)
            )
        {
            return Err(ExecError::InFailedTransaction);
        }
        if self.backend.terminated() {
            return Err(ExecError::Terminated);
        }
        match stmt {
            Statement::Begin(modes) => return self.begin(modes),
            Statement::Commit { chain } => return self.end_block(true, *chain),
            Statement::Rollback { chain } => return self.end_block(false, *chain),
            Statement::Savepoint(n) => return self.savepoint(n),
            Statement::ReleaseSavepoint(n) => return self.release_savepoint(n),
            Statement::RollbackToSavepoint(n) => return self.rollback_to_savepoint(n),
            Statement::SetTransaction { modes, session } => {
                return self.set_transaction(modes, *session)
            }
            _ => {}
        }
        let implicit = !self.in_transaction_block();
        self.ensure_txn();
        if !matches!(stmt, Statement::Set { .. } | Statement::Show { .. }) {
            self.statement_begins();
        }
        self.backend.clear();
        let timeout = self.tcfg.statement_timeout;
        if timeout.is_some() {
            self.db.registry.set_deadline(&self.backend, timeout);
        }
        let res = self.execute_in_txn(stmt, params, sink);
        self.adopt_lazy_xid();
        if timeout.is_some() {
            self.db.registry.set_deadline(&self.backend, None);
        }
        if let Some(t) = self.txn.as_mut() {
            t.cid += 1;
        }
        match res {
            Ok(r) => {
                if implicit && r.copy_in.is_none() {
                    self.finish(true)?;
                }
                Ok(r)
            }
            Err(e) => Err(self.interrupt_error(e)),
        }
    }

    /// Builds the context one statement runs in (snapshot, schema,
    /// parameters, settings, subqueries) and runs `f` in it.
    fn with_ctx<R>(&self, params: &[Value], f: impl FnOnce(&Ctx<'_>) -> Result<R>) -> Result<R> {
        let snap = self.snapshot();
        let schema = self.schema()?;
        self.ctx_in(&snap, &schema, params, &[], f)
    }

    /// Runs `f` in a context over a given snapshot and schema; `outer` holds
    /// the enclosing queries' current rows (innermost first) for a subquery.
    fn ctx_in<R>(
        &self,
        snap: &Snapshot,
        schema: &Arc<Schema>,
        params: &[Value],
        outer: &[Row],
        f: impl FnOnce(&Ctx<'_>) -> Result<R>,
    ) -> Result<R> {
        let settings = || self.all_settings();
        let getset = |n: &str| self.setting(n);
        let sub = |p: &Plan, o: &[Row]| self.run_subquery(snap, schema, params, o, p);
        let cx = Ctx {
            st: &self.db.st,
            snap,
            eval: EvalCtx {
                params,
                now: self.statement_time(),
                settings: &getset,
                subquery: &sub,
                outer,
                schema,
                backend_pid: self.pid,
                admin: &|n, a| self.admin_function(n, a),
            },
            schema,
            settings: &settings,
            cancel: &self.cancel,
            txn: crate::exec::TxnCtx {
                xid: self.cur_xid(),
                wait: self.wait_ctx(),
                iso: self.isolation(),
                sid: self.txn.as_ref().and_then(|t| t.sid),
            },
            live_view: &|name| self.live_view(name),
        };
        f(&cx)
    }

    /// Runs a subquery in its statement's snapshot.
    fn run_subquery(
        &self,
        snap: &Snapshot,
        schema: &Arc<Schema>,
        params: &[Value],
        outer: &[Row],
        plan: &Plan,
    ) -> Result<Vec<Row>> {
        self.ctx_in(snap, schema, params, outer, |cx| {
            let mut it = exec::build(plan, cx)?;
            exec::collect(it.as_mut(), cx)
        })
    }

    fn statement_time(&self) -> chrono::DateTime<chrono::Utc> {
        self.txn
            .as_ref()
            .map(|t| t.start)
            .unwrap_or_else(chrono::Utc::now)
    }

    /// Runs a query plan, handing each row to `f` as it is produced;
    /// returns the number of rows.
    fn for_each_row(
        &self,
        plan: &Plan,
        params: &[Value],
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        self.with_ctx(params, |cx| {
            let mut it = exec::build(plan, cx)?;
            let mut n = 0u64;
            while let Some(row) = it.next(cx)? {
                f(&row)?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Runs a query plan to completion and returns its rows.
    fn run_query(&self, plan: &Plan, params: &[Value]) -> Result<Vec<Row>> {
        self.with_ctx(params, |cx| {
            let mut it = exec::build(plan, cx)?;
            exec::collect(it.as_mut(), cx)
        })
    }

    fn execute_in_txn(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        sink: Option<&mut dyn RowSink>,
    ) -> Result<ExecResult> {
        let ok = |tag: &str| {
            Ok(ExecResult {
                tag: tag.into(),
                ..Default::default()
            })
        };
        self.lock_statement_tables(stmt)?;
        match stmt {
            Statement::Query(q) if sink.is_some() => {
                let sink = sink.expect("checked");
                sink.describe(&q.fields)?;
                let n = self.for_each_row(&q.plan, params, |row| sink.row(row))?;
                // The sink has described and sent the rows already.
                Ok(ExecResult { tag: format!("SELECT {n}"), ..Default::default() })
            }
            Statement::Query(q) => {
                let rows = self.run_query(&q.plan, params)?;
                Ok(ExecResult { tag: format!("SELECT {}", rows.len()), fields: Some(q.fields.clone()), rows, ..Default::default() })
            }
            Statement::Insert { table, source, returning } => self.insert(table, source, returning.as_ref(), params),
            Statement::Update { target, assignments, returning } => self.update(target, assignments, returning.as_ref(), params),
            Statement::Delete { target, returning } => self.delete(target, returning.as_ref(), params),
            Statement::CreateTable { def, if_not_exists } => self.create_table(def, *if_not_exists),
            Statement::DropTable { tables, missing } => {
                let xid = self.ddl_lock()?;
                let schema = self.schema()?;
                let cid = self.cid();
                let mut notices = Vec::new();
                for t in tables {
                    self.db.catalog.delete_table(xid, cid, &schema, t.oid)?;
                    let txn = self.txn.as_mut().expect("in txn");
                    txn.drop_on_commit.push(t.filenode);
                    txn.drop_on_commit.extend(t.indexes.iter().map(|i| i.filenode));
                }
                for m in missing {
                    notices.push(format!("table \"{m}\" does not exist, skipping"));
                }
                Ok(ExecResult { tag: "DROP TABLE".into(), notices, ..Default::default() })
            }
            Statement::Truncate { tables } => {
                let xid = self.ddl_lock()?;
                let schema = self.schema()?;
                let cid = self.cid();
                for t in tables {
                    let mut def = (**t).clone();
                    def.filenode = self.db.st.new_oid()?;
                    self.db.st.create_heap(def.filenode)?;
                    for ix in &mut def.indexes {
                        ix.filenode = self.db.st.new_oid()?;
                        self.db.st.btree_create(ix.filenode)?;
                    }
                    self.db.catalog.replace_table(xid, cid, &schema, &def)?;
                    let txn = self.txn.as_mut().expect("in txn");
                    txn.drop_on_commit.push(t.filenode);
                    txn.drop_on_commit.extend(t.indexes.iter().map(|i| i.filenode));
                    txn.drop_on_abort.push(def.filenode);
                    txn.drop_on_abort.extend(def.indexes.iter().map(|i| i.filenode));
                }
                ok("TRUNCATE TABLE")
            }
            Statement::AddIndex { table, name, columns, unique, primary, if_not_exists } => {
                self.add_index(table, name, columns, *unique, *primary, *if_not_exists)
            }
            Statement::DropIndex { table, index } => {
                let xid = self.ddl_lock()?;
                let schema = self.schema()?;
                let cid = self.cid();
                let mut def = (**table).clone();
                let ix = def.indexes.remove(*index);
                self.db.catalog.replace_table(xid, cid, &schema, &def)?;
                self.txn.as_mut().expect("in txn").drop_on_commit.push(ix.filenode);
                ok("DROP INDEX")
            }
            Statement::Set { name, value, local } => self.set_in_txn(name, value.as_deref(), *local),
            Statement::Show { name } => {
                let k = setting_key(name);
                if k == "all" {
                    let rows = self.all_settings().into_iter().map(|(n, v)| vec![Value::Text(n), Value::Text(v), Value::Text(String::new())]).collect::<Vec<_>>();
                    let fields = ["name", "setting", "description"].iter().map(|n| Field { name: n.to_string(), ty: DataType::Text, source: None }).collect();
                    return Ok(ExecResult { tag: "SHOW".into(), fields: Some(fields), rows, ..Default::default() });
                }
                let v = match k.as_str() {
                    "transaction isolation level" | "transaction_isolation" => Some(self.isolation().name().to_string()),
                    "transaction_read_only" => Some(if self.read_only() { "on" } else { "off" }.to_string()),
                    _ => self.setting(&k),
                }
                .ok_or_else(|| ExecError::UnknownSetting(name.clone()))?;
                let fname = if k == "transaction isolation level" { "transaction_isolation".to_string() } else { k.clone() };
                Ok(ExecResult {
                    tag: "SHOW".into(),
                    fields: Some(vec![Field { name: fname, ty: DataType::Text, source: None }]),
                    rows: vec![vec![Value::Text(v)]],
                    ..Default::default()
                })
            }
            Statement::CopyFrom { table, columns, options } => {
                self.xid();
                Ok(ExecResult {
                    tag: "COPY".into(),
                    copy_in: Some(CopyIn {
                        table: table.clone(),
                        columns: columns.clone(),
                        options: options.clone(),
                        partial: Vec::new(),
                        rows: 0,
                        header_skipped: !options.header,
                        ncols: columns.len(),
                    }),
                    ..Default::default()
                })
            }
            Statement::CopyTo { query, options } if sink.is_some() => {
                let sink = sink.expect("checked");
                sink.copy_start(query.fields.len())?;
                if options.header {
                    let h: Vec<String> = query.fields.iter().map(|f| f.name.clone()).collect();
                    sink.copy_line(format!("{}\n", h.join(&options.delimiter.to_string())).as_bytes())?;
                }
                let n = self.for_each_row(&query.plan, params, |row| {
                    sink.copy_line(&copy_format_row(row, options))
                })?;
                Ok(ExecResult { tag: format!("COPY {n}"), ..Default::default() })
            }
            Statement::CopyTo { query, options } => {
                let rows = self.run_query(&query.plan, params)?;
                let lines = rows.iter().map(|r| copy_format_row(r, options)).collect::<Vec<_>>();
                let mut out = Vec::new();
                if options.header {
                    let h: Vec<String> = query.fields.iter().map(|f| f.name.clone()).collect();
                    out.push(format!("{}\n", h.join(&options.delimiter.to_string())).into_bytes());
                }
                out.extend(lines);
                Ok(ExecResult { tag: format!("COPY {}", rows.len()), copy_out: Some(out), fields: Some(query.fields.clone()), ..Default::default() })
            }
            Statement::Checkpoint => {
                self.db.st.checkpoint()?;
                ok("CHECKPOINT")
            }
            Statement::Vacuum { .. } => Ok(ExecResult {
                tag: "VACUUM".into(),
                notices: vec!["VACUUM does not reclaim dead row versions yet in this version of Basalt; nothing was done".into()],
                ..Default::default()
            }),
            Statement::Analyze { .. } => Ok(ExecResult {
                tag: "ANALYZE".into(),
                notices: vec!["ANALYZE does not collect statistics yet in this version of Basalt; nothing was done".into()],
                ..Default::default()
            }),
            Statement::NoOp { tag, notice } => Ok(ExecResult { tag: tag.clone(), notices: notice.iter().cloned().collect(), ..Default::default() }),
            Statement::LockTable { .. } => {
                if !self.in_transaction_block() {
                    return Err(ExecError::NoActiveSqlTransaction("LOCK TABLE can only be used in transaction blocks".into()));
                }
                ok("LOCK TABLE")
            }
            Statement::Begin(_)
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint(_)
            | Statement::ReleaseSavepoint(_)
            | Statement::RollbackToSavepoint(_)
            | Statement::SetTransaction { .. } => unreachable!("handled in execute_to"),
        }
    }

    fn cid(&self) -> u32 {
        self.txn.as_ref().map(|t| t.cid).unwrap_or(0)
    }

    fn create_table(&mut self, def: &TableDef, if_not_exists: bool) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if schema.relation(def.namespace, &def.name).is_some() {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: "CREATE TABLE".into(),
                    notices: vec![format!(
                        "relation \"{}\" already exists, skipping",
                        def.name
                    )],
                    ..Default::default()
                });
            }
            return Err(basalt_planner::PlanError::DuplicateTable(def.name.clone()).into());
        }
        for ix in &def.indexes {
            if schema.relation(def.namespace, &ix.name).is_some() {
                return Err(basalt_planner::PlanError::DuplicateTable(ix.name.clone()).into());
            }
        }
        let st = self.db.st.clone();
        let mut d = def.clone();
        d.oid = st.new_oid()?;
        d.filenode = st.new_oid()?;
        st.create_heap(d.filenode)?;
        for ix in &mut d.indexes {
            ix.oid = st.new_oid()?;
            ix.filenode = st.new_oid()?;
            st.btree_create(ix.filenode)?;
        }
        self.db.catalog.insert_table(xid, self.cid(), &d)?;
        let txn = self.txn.as_mut().expect("in txn");
        txn.drop_on_abort.push(d.filenode);
        txn.drop_on_abort
            .extend(d.indexes.iter().map(|i| i.filenode));
        Ok(ExecResult {
            tag: "CREATE TABLE".into(),
            ..Default::default()
        })
    }

    fn add_index(
        &mut self,
        table: &Arc<TableDef>,
        name: &str,
        columns: &[usize],
        unique: bool,
        primary: bool,
        if_not_exists: bool,
    ) -> Result<ExecResult> {
        let tag = if primary || (!if_not_exists && name.ends_with("_pkey")) {
            "ALTER TABLE"
        } else {
            "CREATE INDEX"
        };
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if schema.relation(table.namespace, name).is_some() {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: tag.into(),
                    notices: vec![format!("relation \"{name}\" already exists, skipping")],
                    ..Default::default()
                });
            }
            return Err(basalt_planner::PlanError::DuplicateTable(name.into()).into());
        }
        let st = self.db.st.clone();
        let ix = IndexDef {
            oid: st.new_oid()?,
            name: name.to_string(),
            filenode: st.new_oid()?,
            columns: columns.to_vec(),
            unique,
            primary,
        };
        st.btree_create(ix.filenode)?;
        self.txn
            .as_mut()
            .expect("in txn")
            .drop_on_abort
            .push(ix.filenode);
        // Build: every tuple that may be live gets an entry; uniqueness is
        // checked among them.
        let types = table.types();
        let mut seen: HashMap<Vec<u8>, ()> = HashMap::new();
        for blk in 0..st.nblocks(table.filenode)? {
            let mut tuples = Vec::new();
            st.heap_page_all(table.filenode, blk, &mut tuples)?;
            for (tid, h, data) in tuples {
                if !st.tuple_maybe_live(&h) {
                    continue;
                }
                let row = basalt_catalog::types::decode_row(&types, &data)
                    .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
                if primary {
                    for &c in columns {
                        if row[c].is_null() {
                            return Err(ExecError::NotNull {
                                column: table.columns[c].name.clone(),
                                table: table.name.clone(),
                            });
                        }
                    }
                }
                let key = index_key(&row, columns);
                let live = h.xmax == 0
                    || h.flags & basalt_storage::heap::F_LOCK_ONLY != 0
                    || !st
                        .clog
                        .get(h.xmax)
                        .eq(&basalt_storage::clog::XidStatus::Committed);
                if unique
                    && live
                    && !columns.iter().any(|&c| row[c].is_null())
                    && seen.insert(key.clone(), ()).is_some()
                {
                    return Err(ExecError::UniqueBuild {
                        index: name.to_string(),
                        detail: format!(
                            "Key ({})=({}) is duplicated.",
                            col_names(table, columns),
                            key_text(&row, columns)
                        ),
                    });
                }
                st.btree_insert(ix.filenode, &key, tid)?;
            }
        }
        let mut def = (**table).clone();
        if primary {
            for &c in columns {
                def.columns[c].not_null = true;
            }
        }
        def.indexes.push(ix);
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &def)?;
        Ok(ExecResult {
            tag: tag.into(),
            ..Default::default()
        })
    }

    /// Checks NOT NULL, stores the row and its index entries.
    fn insert_row(
        &self,
        table: &TableDef,
        row: &[Value],
        cx: &Ctx<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<Tid> {
        check_not_null(table, row)?;
        buf.clear();
        encode_row(row, buf);
        let w = cx.writer(WaitPolicy::Block)?;
        let tid = self.db.st.heap_insert(table.filenode, w.xid, w.cid, buf)?;
        if let Some(sid) = cx.txn.sid {
            self.db.st.ssi.conflict_in(sid, table.filenode, None)?;
        }
        self.insert_index_entries(table, row, None, tid, cx)?;
        Ok(tid)
    }

    /// Adds `row`'s entries to every index of the table. `old` is the
    /// version an UPDATE replaces: a unique key it leaves unchanged needs no
    /// check (we hold that row, so no one else can hold its key).
    fn insert_index_entries(
        &self,
        table: &TableDef,
        row: &[Value],
        old: Option<&[Value]>,
        tid: Tid,
        cx: &Ctx<'_>,
    ) -> Result<()> {
        let st = &self.db.st;
        for ix in &table.indexes {
            let key = index_key(row, &ix.columns);
            if let Some(sid) = cx.txn.sid {
                st.ssi.conflict_in_key(sid, ix.filenode, &key)?;
            }
            let same_key = old.is_some_and(|o| {
                ix.columns
                    .iter()
                    .all(|&c| o[c].cmp_total(&row[c]) == std::cmp::Ordering::Equal)
            });
            if !ix.unique || same_key || ix.columns.iter().any(|&c| row[c].is_null()) {
                st.btree_insert(ix.filenode, &key, tid)?;
                continue;
            }
            loop {
                let guard = st.unique_lock(ix.filenode, &key);
                let mut wait = None;
                let mut scan = st.btree_scan(ix.filenode, KeyRange::eq(key.clone()))?;
                'outer: loop {
                    let batch = st.btree_next(&mut scan)?;
                    if batch.is_empty() {
                        break;
                    }
                    for (k, other) in batch {
                        if k != key || other == tid {
                            continue;
                        }
                        match st.tuple_conflicts(table.filenode, other, &cx.snap.own)? {
                            Ok(true) => {
                                return Err(ExecError::UniqueViolation {
                                    index: ix.name.clone(),
                                    detail: format!(
                                        "Key ({})=({}) already exists.",
                                        col_names(table, &ix.columns),
                                        key_text(row, &ix.columns)
                                    ),
                                })
                            }
                            Ok(false) => {}
                            Err(x) => {
                                wait = Some(x);
                                break 'outer;
                            }
                        }
                    }
                }
                match wait {
                    Some(x) => {
                        drop(guard);
                        st.wait_for_xid(x, Some(&cx.txn.wait))?;
                    }
                    None => {
                        st.btree_insert(ix.filenode, &key, tid)?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn returning_rows(
        &self,
        q: Option<&Query>,
        row: &[Value],
        cx: &Ctx<'_>,
        out: &mut Vec<Row>,
    ) -> Result<()> {
        if let Some(Query {
            plan: Plan::Project { exprs, .. },
            ..
        }) = q
        {
            out.push(
                exprs
                    .iter()
                    .map(|e| eval(e, row, &cx.eval))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Ok(())
    }

    fn insert(
        &mut self,
        table: &Arc<TableDef>,
        source: &Plan,
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.xid();
        self.with_ctx(params, |cx| self.insert_rows(table, source, returning, cx))
    }

    fn insert_rows(
        &self,
        table: &TableDef,
        source: &Plan,
        returning: Option<&Query>,
        cx: &Ctx<'_>,
    ) -> Result<ExecResult> {
        let mut it = exec::build(source, cx)?;
        let mut n = 0u64;
        let mut buf = Vec::new();
        let mut ret = Vec::new();
        while let Some(row) = it.next(cx)? {
            let row = coerce_row(table, row)?;
            self.insert_row(table, &row, cx, &mut buf)?;
            self.returning_rows(returning, &row, cx, &mut ret)?;
            n += 1;
        }
        Ok(ExecResult {
            tag: format!("INSERT 0 {n}"),
            fields: returning.map(|q| q.fields.clone()),
            rows: ret,
            ..Default::default()
        })
    }

    fn update(
        &mut self,
        target: &Target,
        assignments: &[(usize, basalt_planner::Expr)],
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.modify(target, Some(assignments), returning, params)
    }

    fn delete(
        &mut self,
        target: &Target,
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.modify(target, None, returning, params)
    }

    /// UPDATE (assignments given) or DELETE. A row changed by a transaction
    /// that committed after our snapshot is re-read at its newest version and
    /// the WHERE clause re-checked (READ COMMITTED, as EvalPlanQual does).
    fn modify(
        &mut self,
        target: &Target,
        assignments: Option<&[(usize, basalt_planner::Expr)]>,
        returning: Option<&Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        self.xid();
        self.with_ctx(params, |cx| {
            self.modify_rows(target, assignments, returning, cx)
        })
    }

    fn modify_rows(
        &self,
        target: &Target,
        assignments: Option<&[(usize, basalt_planner::Expr)]>,
        returning: Option<&Query>,
        cx: &Ctx<'_>,
    ) -> Result<ExecResult> {
        let w = cx.writer(WaitPolicy::Block)?;
        let sid = cx.txn.sid;
        let table = &target.table;
        let st = &self.db.st;
        let types = table.types();
        let mut scan = TableScan::new(&target.scan, cx)?;
        let mut n = 0u64;
        let mut buf = Vec::new();
        let mut ret = Vec::new();
        while let Some((tid0, row0)) = scan.next_row(cx)? {
            let (mut tid, mut row) = (tid0, row0);
            loop {
                let outcome = match assignments {
                    Some(asg) => {
                        let mut new = row.clone();
                        for (ci, e) in asg {
                            new[*ci] = eval(e, &row, &cx.eval)?;
                        }
                        let new = coerce_row(table, new)?;
                        check_not_null(table, &new)?;
                        buf.clear();
                        encode_row(&new, &mut buf);
                        let key_change = table.indexes.iter().filter(|ix| ix.unique).any(|ix| {
                            ix.columns
                                .iter()
                                .any(|&c| row[c].cmp_total(&new[c]) != std::cmp::Ordering::Equal)
                        });
                        match st.heap_update(table.filenode, tid, &w, &buf, key_change)? {
                            WriteOutcome::Ok(newtid) => {
                                if let Some(sid) = sid {
                                    st.ssi.conflict_in(sid, table.filenode, Some(tid))?;
                                }
                                self.insert_index_entries(table, &new, Some(&row), newtid, cx)?;
                                self.returning_rows(returning, &new, cx, &mut ret)?;
                                WriteOutcome::Ok(newtid)
                            }
                            o => o,
                        }
                    }
                    None => match st.heap_delete(table.filenode, tid, &w)? {
                        WriteOutcome::Ok(t) => {
                            if let Some(sid) = sid {
                                st.ssi.conflict_in(sid, table.filenode, Some(tid))?;
                            }
                            self.returning_rows(returning, &row, cx, &mut ret)?;
                            WriteOutcome::Ok(t)
                        }
                        o => o,
                    },
                };
                cx.serialization_check(&outcome)?;
                match outcome {
                    WriteOutcome::Ok(_) => {
                        n += 1;
                        break;
                    }
                    WriteOutcome::Deleted | WriteOutcome::SelfModified | WriteOutcome::Locked => {
                        break
                    }
                    WriteOutcome::Updated(next) => match st.heap_latest(table.filenode, next)? {
                        None => break,
                        Some((t, data)) => {
                            let r = basalt_catalog::types::decode_row(&types, &data)
                                .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
                            let still = match &target.pred {
                                Some(p) => crate::eval::truthy(&eval(p, &r, &cx.eval)?),
                                None => true,
                            };
                            if !still {
                                break;
                            }
                            tid = t;
                            row = r;
                        }
                    },
                }
            }
        }
        let verb = if assignments.is_some() {
            "UPDATE"
        } else {
            "DELETE"
        };
        Ok(ExecResult {
            tag: format!("{verb} {n}"),
            fields: returning.map(|q| q.fields.clone()),
            rows: ret,
            ..Default::default()
        })
    }

    /// Feeds COPY data; complete lines are inserted in batches of about 256 KiB.
    pub fn copy_data(&mut self, c: &mut CopyIn, data: &[u8]) -> Result<()> {
        c.partial.extend_from_slice(data);
        // Lines are inserted in batches: a client may send one row per
        // message, and each batch sets up its statement context once.
        if c.partial.len() < 256 * 1024 {
            return Ok(());
        }
        let Some(last_nl) = c.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let rest = c.partial.split_off(last_nl + 1);
        let chunk = std::mem::replace(&mut c.partial, rest);
        self.copy_lines(c, &chunk)
    }

    fn copy_lines(&mut self, c: &mut CopyIn, chunk: &[u8]) -> Result<()> {
        self.xid();
        self.with_ctx(&[], |cx| self.copy_lines_in(c, chunk, cx))
    }

    fn copy_lines_in(&self, c: &mut CopyIn, chunk: &[u8], cx: &Ctx<'_>) -> Result<()> {
        let text = std::str::from_utf8(chunk)
            .map_err(|_| ExecError::Value(basalt_catalog::cast::ValueError::BadEncoding))?;
        let mut buf = Vec::new();
        for line in text.split_inclusive('\n') {
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !c.header_skipped {
                c.header_skipped = true;
                continue;
            }
            if c.options.format == CopyFormat::Text && line == "\\." {
                continue;
            }
            let fields = parse_copy_line(line, &c.options);
            if fields.len() != c.ncols {
                return Err(ExecError::BadCopyData(if fields.len() < c.ncols {
                    format!(
                        "missing data for column \"{}\"",
                        c.table.columns[c.columns[fields.len()]].name
                    )
                } else {
                    "extra data after last expected column".into()
                }));
            }
            let mut row = vec![Value::Null; c.table.columns.len()];
            // Columns not listed get NULL (defaults are not evaluated for COPY yet).
            for (i, f) in fields.into_iter().enumerate() {
                let col = &c.table.columns[c.columns[i]];
                row[c.columns[i]] = match f {
                    None => Value::Null,
                    Some(s) => {
                        cast_keep_type(basalt_catalog::cast::from_text(&s, &col.ty)?, &col.ty)?
                    }
                };
            }
            self.insert_row(&c.table, &row, cx, &mut buf)?;
            c.rows += 1;
        }
        Ok(())
    }

    /// End of COPY data: the last line, then commit if autocommit.
    pub fn copy_done(&mut self, mut c: CopyIn) -> Result<ExecResult> {
        if !c.partial.is_empty() {
            let rest = std::mem::take(&mut c.partial);
            self.copy_lines(&mut c, &rest)?;
        }
        if let Some(t) = self.txn.as_mut() {
            t.cid += 1;
        }
        if !self.in_transaction_block() {
            self.finish(true)?;
        }
        Ok(ExecResult {
            tag: format!("COPY {}", c.rows),
            ..Default::default()
        })
    }
}

fn is_txn_end(s: &basalt_parser::Statement) -> bool {
    matches!(s, basalt_parser::Statement::Sql(x) if matches!(**x, sqlparser::ast::Statement::Commit { .. } | sqlparser::ast::Statement::Rollback { .. }))
}

fn check_not_null(table: &TableDef, row: &[Value]) -> Result<()> {
    match table
        .columns
        .iter()
        .zip(row)
        .find(|(c, v)| c.not_null && v.is_null())
    {
        Some((c, _)) => Err(ExecError::NotNull {
            column: c.name.clone(),
            table: table.name.clone(),
        }),
        None => Ok(()),
    }
}

fn coerce_row(table: &TableDef, row: Row) -> Result<Row> {
    row.into_iter()
        .zip(&table.columns)
        .map(|(v, c)| cast_keep_type(v, &c.ty))
        .collect()
}

pub fn index_key(row: &[Value], cols: &[usize]) -> Vec<u8> {
    let mut k = Vec::new();
    for &c in cols {
        encode_key(&row[c], &mut k);
    }
    k
}

fn col_names(t: &TableDef, cols: &[usize]) -> String {
    cols.iter()
        .map(|&c| t.columns[c].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_text(row: &[Value], cols: &[usize]) -> String {
    cols.iter()
        .map(|&c| row[c].to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits one COPY line into fields (None = NULL).
pub fn parse_copy_line(line: &str, o: &CopyOptions) -> Vec<Option<String>> {
    let mut out = Vec::new();
    match o.format {
        CopyFormat::Text => {
            for raw in line.split(o.delimiter) {
                if raw == o.null {
                    out.push(None);
                    continue;
                }
                let mut s = String::with_capacity(raw.len());
                let mut it = raw.chars().peekable();
                while let Some(ch) = it.next() {
                    if ch != '\\' {
                        s.push(ch);
                        continue;
                    }
                    match it.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some('b') => s.push('\u{8}'),
                        Some('f') => s.push('\u{c}'),
                        Some('v') => s.push('\u{b}'),
                        Some(c) => s.push(c),
                        None => {}
                    }
                }
                out.push(Some(s));
            }
        }
        CopyFormat::Csv => {
            let chars: Vec<char> = line.chars().collect();
            let mut i = 0;
            loop {
                let mut s = String::new();
                let mut quoted = false;
                if i < chars.len() && chars[i] == o.quote {
                    quoted = true;
                    i += 1;
                    while i < chars.len() {
                        if chars[i] == o.escape && i + 1 < chars.len() && chars[i + 1] == o.quote {
                            s.push(o.quote);
                            i += 2;
                        } else if chars[i] == o.quote {
                            i += 1;
                            break;
                        } else {
                            s.push(chars[i]);
                            i += 1;
                        }
                    }
                }
                while i < chars.len() && chars[i] != o.delimiter {
                    s.push(chars[i]);
                    i += 1;
                }
                out.push(if !quoted && s == o.null {
                    None
                } else {
                    Some(s)
                });
                if i >= chars.len() {
                    break;
                }
                i += 1;
            }
        }
    }
    out
}

fn copy_format_row(r: &[Value], o: &CopyOptions) -> Vec<u8> {
    let mut line = String::new();
    for (i, v) in r.iter().enumerate() {
        if i > 0 {
            line.push(o.delimiter);
        }
        if v.is_null() {
            line.push_str(&o.null);
            continue;
        }
        let s = v.to_string();
        match o.format {
            CopyFormat::Text => {
                for ch in s.chars() {
                    match ch {
                        '\\' => line.push_str("\\\\"),
                        '\n' => line.push_str("\\n"),
                        '\t' => line.push_str("\\t"),
                        '\r' => line.push_str("\\r"),
                        c if c == o.delimiter => {
                            line.push('\\');
                            line.push(c);
                        }
                        c => line.push(c),
                    }
                }
            }
            CopyFormat::Csv => {
                if s.contains(o.delimiter)
                    || s.contains(o.quote)
                    || s.contains('\n')
                    || s.contains('\r')
                    || s.is_empty()
                {
                    line.push(o.quote);
                    line.push_str(&s.replace(o.quote, &format!("{}{}", o.escape, o.quote)));
                    line.push(o.quote);
                } else {
                    line.push_str(&s);
                }
            }
        }
    }
    line.push('\n');
    line.into_bytes()
}
