//! Database and Session: the embedded API. `Database::open(dir)` opens the
//! storage and catalog; a `Session` runs statements with PostgreSQL's
//! transaction semantics: autocommit outside a block, BEGIN/COMMIT/ROLLBACK,
//! an aborted block that answers 25P02 until it ends, a snapshot per
//! statement (READ COMMITTED) with a command id per statement.

use crate::activity::{Backend, Registry};
use crate::copy::copy_format_row;
use crate::error::{ExecError, Result};
use crate::eval::EvalCtx;
use crate::exec::{self, Ctx, Row};
use crate::txn::{Txn, TxnSettings};
use basalt_catalog::{Catalog, DataType, Schema, TableDef, Value};
use basalt_planner::{CopyOptions, Field, Plan, Statement};
use basalt_storage::{Snapshot, Storage, StorageOptions};
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
    /// Per-table counters (pg_stat_user_tables).
    pub table_stats: crate::stats::StatsRegistry,
    /// Column statistics gathered by ANALYZE (pg_stats).
    pub statistics: crate::analyze::Statistics,
    /// Statements run, by kind (/metrics).
    pub statement_counts: crate::stats::StatementCounts,
}

impl Database {
    pub fn open(
        dir: &Path,
        opts: StorageOptions,
        settings: Vec<(String, String)>,
    ) -> Result<Arc<Database>> {
        let st = Storage::open(dir, opts)?;
        let catalog = Catalog::new(st.clone())?;
        let db = Arc::new(Database {
            st,
            catalog,
            settings,
            next_pid: AtomicI32::new(1000),
            registry: Arc::new(Registry::default()),
            table_stats: Default::default(),
            statistics: crate::analyze::Statistics::load(dir),
            statement_counts: Default::default(),
        });
        // Temporary schemas left by sessions of a previous run go.
        let leftover: Vec<(u32, String)> = db
            .catalog
            .committed_schema()?
            .schemas
            .iter()
            .filter(|s| {
                s.name
                    .starts_with(basalt_catalog::store::TEMP_SCHEMA_PREFIX)
            })
            .map(|s| (s.database, s.name.clone()))
            .collect();
        for (database, n) in leftover {
            let mut s = db.session();
            s.set_database_oid(database);
            for r in s.execute_sql(&format!("DROP SCHEMA \"{n}\" CASCADE")) {
                r?;
            }
        }
        Ok(db)
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
            no_xids: Arc::new(Vec::new()),
            pending_stats: Default::default(),
            autovacuum: false,
            session_user: basalt_catalog::store::BOOTSTRAP_SUPERUSER,
            current_role: basalt_catalog::store::BOOTSTRAP_SUPERUSER,
            instrument: None,
            seq_last: Default::default(),
            check_cache: Default::default(),
            index_cache: Default::default(),
            zone: Default::default(),
            pending_settings: Default::default(),
            pending_notifies: Default::default(),
            cursors: Default::default(),
            cte_rows: Default::default(),
            sql_prepared: HashMap::new(),
            database: basalt_catalog::store::DATABASE_OID,
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
    /// COPY in binary format (the Copy responses say so).
    pub copy_binary: bool,
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
    fn copy_start(&mut self, ncols: usize, binary: bool) -> Result<()>;
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
    /// The end-of-data line `\.` (binary: the trailer) has come: what
    /// follows is ignored.
    pub ended: bool,
    /// Binary format: the file header has been read.
    pub binary_header: bool,
    /// The DEFAULTs of the columns not listed, evaluated for each row.
    pub defaults: Vec<(usize, basalt_planner::Expr)>,
}

pub struct Session {
    pub db: Arc<Database>,
    pub(crate) txn: Option<Txn>,
    pub(crate) settings: HashMap<String, String>,
    /// Raised to interrupt the running statement (see `backend` for why).
    pub cancel: Arc<AtomicBool>,
    pub pid: i32,
    pub backend: Arc<Backend>,
    pub(crate) tcfg: TxnSettings,
    /// An xid txid_current() had to assign in the middle of a statement
    /// (evaluation only reads the session); joins the transaction after it.
    pub(crate) lazy_xid: std::cell::Cell<Option<basalt_storage::Xid>>,
    /// An empty xid set, shared by the transactions that never write.
    pub(crate) no_xids: Arc<Vec<basalt_storage::Xid>>,
    /// Per-table counts of the running transaction (added to the shared
    /// ones when it ends).
    pub(crate) pending_stats: crate::stats::Local,
    /// This session is the autovacuum worker's.
    pub autovacuum: bool,
    /// The role that logged in, and the current role (SET ROLE).
    pub(crate) session_user: u32,
    pub(crate) current_role: u32,
    /// Set while EXPLAIN ANALYZE runs its statement.
    pub(crate) instrument: Option<crate::exec::Instrument>,
    /// Each sequence's last value in this session (currval), and the last
    /// nextval of any (lastval).
    pub(crate) seq_last: std::cell::RefCell<(HashMap<u32, i64>, Option<i64>)>,
    /// Statements prepared with SQL PREPARE.
    pub(crate) sql_prepared: HashMap<String, crate::prepared::SqlPrepared>,
    /// The OID of the database this session is connected to.
    pub database: u32,
    /// CHECK constraints bound, by the constraints' text.
    pub(crate) check_cache: std::cell::RefCell<CheckCache>,
    pub(crate) index_cache: std::cell::RefCell<crate::ixkeys::IndexExprCache>,
    /// set_config calls of the running statement: (name, value, local).
    pub(crate) pending_settings: std::cell::RefCell<Vec<(String, String, bool)>>,
    /// Open cursors (DECLARE), by name.
    pub(crate) cursors: crate::cursor::Cursors,
    /// pg_notify calls of the running statement: (channel, payload).
    pub(crate) pending_notifies: std::cell::RefCell<Vec<(String, String)>>,
    /// The RETURNING rows of the running statement's data-modifying WITH
    /// queries, by work table.
    cte_rows: std::cell::RefCell<HashMap<usize, Arc<Vec<Row>>>>,
    /// The TimeZone setting last seen, and its zone.
    zone: std::cell::RefCell<(String, Option<basalt_catalog::tz::Zone>)>,
}

/// Bound CHECK expressions by (checks, column names and types): a table whose
/// columns moved or changed type binds them again.
pub(crate) type CheckCache =
    HashMap<(Vec<(String, String)>, Vec<String>), std::rc::Rc<Vec<(String, basalt_planner::Expr)>>>;

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.finish(false);
        self.drop_temp_objects();
        let _ = self.finish(false);
        self.db.st.locks.release_session(self.pid);
        self.db.registry.unregister(self.pid);
    }
}

pub(crate) fn setting_key(n: &str) -> String {
    n.to_lowercase()
}

impl Session {
    pub fn in_transaction_block(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.explicit)
    }
    pub fn in_failed_transaction(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.aborted)
    }

    /// The schema this session sees now.
    pub fn schema(&self) -> Result<Arc<Schema>> {
        if self.txn.as_ref().is_some_and(|t| t.ddl) {
            // Our own uncommitted DDL: read the catalog in our snapshot.
            return Ok(self
                .db
                .catalog
                .schema_for(self.database, &self.snapshot(), true)?);
        }
        Ok(self.db.catalog.committed_schema_for(self.database)?)
    }

    /// Connects this session to the database named (before its first
    /// statement): 3D000 if there is none, 55000 if it takes no
    /// connections.
    pub fn set_database(&mut self, name: &str) -> Result<()> {
        let schema = self.db.catalog.committed_schema()?;
        let Some(d) = schema.database_by_name(name) else {
            return Err(ExecError::coded(
                "3D000",
                format!("database \"{name}\" does not exist"),
            ));
        };
        if !d.allow_conn {
            return Err(ExecError::coded(
                "55000",
                format!("database \"{name}\" is not currently accepting connections"),
            ));
        }
        self.set_database_oid(d.oid);
        Ok(())
    }

    /// Puts this session in a database known to exist.
    pub fn set_database_oid(&mut self, oid: u32) {
        self.database = oid;
        self.backend.database.store(oid, Ordering::Relaxed);
    }

    /// The name of the database this session is connected to.
    pub fn database_name(&self) -> String {
        self.schema()
            .map(|s| s.database_name())
            .unwrap_or_else(|_| "postgres".into())
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

    /// Makes this thread work in this session's time zone: timestamptz
    /// values are parsed and shown in it (see `basalt_catalog::tz`). Called
    /// at each entry point, and by the server before it decodes parameters
    /// or encodes rows.
    pub fn enter(&self) {
        self.enter_zone();
        // The enum types this session sees, for values shown and read.
        basalt_catalog::enums::set(self.schema().ok().and_then(|s| s.enum_registry.clone()));
    }

    /// The time zone part of `enter`.
    fn enter_zone(&self) {
        {
            // The session's own TimeZone, else the server's (no allocation
            // unless it changed).
            let s: &str = match self.settings.get("timezone") {
                Some(v) => v,
                None => self
                    .db
                    .settings
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("timezone"))
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("UTC"),
            };
            let mut z = self.zone.borrow_mut();
            if z.0 != s {
                *z = (s.to_string(), basalt_catalog::tz::Zone::parse(s));
            }
            basalt_catalog::tz::set(z.1);
        }
    }

    pub fn plan(
        &mut self,
        stmt: &basalt_parser::Statement,
        param_types: &[DataType],
    ) -> Result<(Statement, Vec<DataType>)> {
        self.enter_zone();
        let schema = self.schema()?;
        basalt_catalog::enums::set(schema.enum_registry.clone());
        let est = crate::selectivity::DbEstimates(&self.db);
        let path = self.search_path(&schema);
        // The session's value, else the server's (all default on).
        let on = |n: &str| {
            let v = self.raw_setting(n).or_else(|| {
                self.db
                    .settings
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.clone())
            });
            v.and_then(|v| basalt_catalog::cast::parse_bool(&v))
                .unwrap_or(true)
        };
        let flags = basalt_planner::PlannerFlags {
            seqscan: on("enable_seqscan"),
            indexscan: on("enable_indexscan"),
            hashjoin: on("enable_hashjoin"),
            nestloop: on("enable_nestloop"),
        };
        Ok(basalt_planner::plan_statement(
            &schema,
            &est,
            stmt,
            param_types,
            &path,
            self.temp_namespace(&schema),
            flags,
        )?)
    }

    pub(crate) fn temp_schema_name(&self) -> String {
        format!("{}{}", basalt_catalog::store::TEMP_SCHEMA_PREFIX, self.pid)
    }

    /// This session's temporary schema, once it has made one.
    pub(crate) fn temp_namespace(&self, schema: &basalt_catalog::Schema) -> Option<u32> {
        schema.namespace_oid(&self.temp_schema_name())
    }

    /// Drops this session's temporary schema and everything in it.
    fn drop_temp_objects(&mut self) {
        let Ok(schema) = self.schema() else {
            return;
        };
        if self.temp_namespace(&schema).is_some() {
            let sql = format!("DROP SCHEMA \"{}\" CASCADE", self.temp_schema_name());
            let _ = self.execute_sql(&sql);
        }
    }

    /// An object named in text ('name', 'schema.name', '"Name"'), found
    /// in its schema or along the search path.
    pub(crate) fn find_named<T>(
        &self,
        schema: &basalt_catalog::Schema,
        text: &str,
        find: impl Fn(u32, &str) -> Option<T>,
    ) -> Option<T> {
        let parts: Vec<String> = text
            .split('.')
            .map(|p| {
                let p = p.trim();
                match p.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                    Some(q) => q.to_string(),
                    None => p.to_lowercase(),
                }
            })
            .collect();
        match parts.as_slice() {
            [n] => self
                .temp_namespace(schema)
                .into_iter()
                .chain(std::iter::once(basalt_catalog::store::NS_PG_CATALOG))
                .chain(self.search_path(schema))
                .find_map(|o| find(o, n)),
            [.., s, n] => find(schema.namespace_oid(s)?, n),
            [] => None,
        }
    }

    /// The schemas of search_path that exist, in order (`$user` is the
    /// schema named as the current user, if there is one).
    pub(crate) fn search_path(&self, schema: &basalt_catalog::Schema) -> Vec<u32> {
        let setting = self
            .setting("search_path")
            .unwrap_or_else(|| "\"$user\", public".into());
        let user = schema.role_name(self.current_role);
        setting
            .split(',')
            .map(|p| {
                let p = p.trim();
                match p.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                    Some(q) => q.replace("\"\"", "\""),
                    None => p.to_lowercase(),
                }
            })
            .filter_map(|n| {
                let n = if n == "$user" { user.clone() } else { n };
                schema.namespace_oid(&n)
            })
            .filter(|&o| o != basalt_catalog::store::NS_PG_CATALOG)
            .collect()
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
        self.enter();
        if self.in_failed_transaction() && !is_txn_end(stmt) {
            return Err(ExecError::InFailedTransaction);
        }
        let mut sink = sink;
        let s: Option<&mut dyn RowSink> = match sink {
            Some(ref mut s) => Some(&mut **s),
            None => None,
        };
        if let Some(r) = self.prepared_sql(stmt, s) {
            if r.is_err() {
                self.on_error();
            }
            return r;
        }
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
        self.db.statement_counts.count(stmt);
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
        let mut res = self.execute_in_txn(stmt, params, sink);
        let pending = std::mem::take(&mut *self.pending_settings.borrow_mut());
        for (n, v, local) in pending {
            if res.is_ok() {
                if let Err(e) = self.set_in_txn(&n, Some(&v), local) {
                    res = Err(e);
                }
            }
        }
        self.adopt_notifies(res.is_ok());
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
            Err(e) => Err(self.statement_error(e)),
        }
    }

    /// Builds the context one statement runs in (snapshot, schema,
    /// parameters, settings, subqueries) and runs `f` in it.
    pub(crate) fn with_ctx<R>(
        &self,
        params: &[Value],
        f: impl FnOnce(&Ctx<'_>) -> Result<R>,
    ) -> Result<R> {
        let snap = self.snapshot();
        let schema = self.schema()?;
        self.ctx_in(&snap, &schema, params, &[], f)
    }

    /// Runs `f` in a context over a given snapshot and schema; `outer` holds
    /// the enclosing queries' current rows (innermost first) for a subquery.
    pub(crate) fn ctx_in<R>(
        &self,
        snap: &Snapshot,
        schema: &Arc<Schema>,
        params: &[Value],
        outer: &[Row],
        f: impl FnOnce(&Ctx<'_>) -> Result<R>,
    ) -> Result<R> {
        let settings = || self.all_settings();
        // A set_config earlier in the statement counts already.
        let getset = |n: &str| {
            let pending = self
                .pending_settings
                .borrow()
                .iter()
                .rev()
                .find(|(k, _, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v, _)| v.clone());
            pending.or_else(|| self.setting(n))
        };
        // Uncorrelated subqueries run once per statement (PostgreSQL's
        // InitPlans): the same rows for every outer row, and a FOR UPDATE
        // SKIP LOCKED inside one picks its rows once.
        let once: std::cell::RefCell<HashMap<usize, Option<Vec<Row>>>> = Default::default();
        let sub = |p: &Plan, o: &[Row]| {
            let key = p as *const Plan as usize;
            if let Some(Some(rows)) = once.borrow().get(&key) {
                return Ok(rows.clone());
            }
            let correlated = match once.borrow().get(&key) {
                Some(None) => true,
                Some(Some(_)) => false,
                None => p.is_correlated(),
            };
            let rows = self.run_subquery(snap, schema, params, o, p)?;
            once.borrow_mut()
                .insert(key, (!correlated).then(|| rows.clone()));
            Ok(rows)
        };
        let sets: std::cell::RefCell<HashMap<usize, std::rc::Rc<crate::eval::InSet>>> =
            Default::default();
        let in_set = |p: &Plan, row: &[Value]| -> Result<std::rc::Rc<crate::eval::InSet>> {
            let key = p as *const Plan as usize;
            if let Some(s) = sets.borrow().get(&key) {
                return Ok(s.clone());
            }
            let mut o = Vec::with_capacity(outer.len() + 1);
            o.push(row.to_vec());
            o.extend(outer.iter().cloned());
            let rows = sub(p, &o)?;
            let set = std::rc::Rc::new(crate::eval::InSet::of(rows));
            // Kept for the statement when the subquery is uncorrelated.
            if matches!(once.borrow().get(&key), Some(Some(_))) {
                sets.borrow_mut().insert(key, set.clone());
            }
            Ok(set)
        };
        let cx = Ctx {
            st: &self.db.st,
            snap,
            eval: EvalCtx {
                params,
                now: self.statement_time(),
                settings: &getset,
                subquery: &sub,
                in_set: &in_set,
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
                assign_xid: &|| self.top_xid(true),
            },
            live_view: &|name| self.live_view(name),
            table_stats: &self.pending_stats,
            table_fn: &|name, args| self.table_function(name, args),
            work_tables: std::cell::RefCell::new(self.cte_rows.borrow().clone()),
            instrument: self.instrument.clone(),
            scan_columns: Default::default(),
        };
        f(&cx)
    }

    /// Runs a subquery in its statement's snapshot.
    pub(crate) fn run_subquery(
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

    pub(crate) fn statement_time(&self) -> chrono::DateTime<chrono::Utc> {
        self.txn
            .as_ref()
            .map(|t| t.start)
            .unwrap_or_else(chrono::Utc::now)
    }

    /// Runs a query plan, handing each row to `f` as it is produced;
    /// returns the number of rows.
    pub(crate) fn for_each_row(
        &self,
        plan: &Plan,
        params: &[Value],
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        self.with_ctx(params, |cx| {
            *cx.scan_columns.borrow_mut() = crate::colmask::scan_columns(plan);
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
    pub(crate) fn run_query(&self, plan: &Plan, params: &[Value]) -> Result<Vec<Row>> {
        self.with_ctx(params, |cx| {
            *cx.scan_columns.borrow_mut() = crate::colmask::scan_columns(plan);
            let mut it = exec::build(plan, cx)?;
            exec::collect(it.as_mut(), cx)
        })
    }

    pub(crate) fn execute_in_txn(
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
        self.check_privileges(stmt)?;
        self.lock_statement_tables(stmt)?;
        match stmt {
            Statement::WithDml { pre, main } => {
                let r = (|| {
                    for (id, st) in pre {
                        let rows = self.execute_in_txn(st, params, None)?.rows;
                        self.cte_rows.borrow_mut().insert(*id, Arc::new(rows));
                    }
                    self.execute_in_txn(main, params, sink)
                })();
                self.cte_rows.borrow_mut().clear();
                r
            }
            Statement::Query(q) if sink.is_some() => {
                let sink = sink.expect("checked");
                sink.describe(&q.fields)?;
                let n = self.for_each_row(&q.plan, params, |row| sink.row(row))?;
                // The sink has described and sent the rows already.
                Ok(ExecResult {
                    tag: format!("SELECT {n}"),
                    ..Default::default()
                })
            }
            Statement::Query(q) => {
                let rows = self.run_query(&q.plan, params)?;
                Ok(ExecResult {
                    tag: format!("SELECT {}", rows.len()),
                    fields: Some(q.fields.clone()),
                    rows,
                    ..Default::default()
                })
            }
            Statement::Insert {
                table,
                source,
                returning,
                on_conflict,
            } => self.insert(
                table,
                source,
                returning.as_ref(),
                on_conflict.as_ref(),
                params,
            ),
            Statement::Update {
                target,
                assignments,
                returning,
            } => self.update(target, assignments, returning.as_ref(), params),
            Statement::Delete { target, returning } => {
                self.delete(target, returning.as_ref(), params)
            }
            Statement::CreateTable {
                def,
                if_not_exists,
                query,
                sequences,
            } => self.create_table(def, *if_not_exists, sequences, query.as_deref(), params),
            Statement::AlterTable { table, action } => self.alter_table(table, action, params),
            Statement::CreateSequence { def, if_not_exists } => {
                self.create_sequence(def, *if_not_exists)
            }
            Statement::DropSequence { seqs, missing } => self.drop_sequences(seqs, missing),
            Statement::DropTable {
                tables,
                missing,
                cascade,
            } => {
                let xid = self.ddl_lock()?;
                let schema = self.schema()?;
                let cid = self.cid();
                let mut notices = Vec::new();
                let dropped = |oid: u32| tables.iter().any(|d| d.oid == oid);
                // What depends on them: other tables' foreign keys, views.
                let mut deps: Vec<String> = Vec::new();
                let mut fk_owners: Vec<Arc<basalt_catalog::TableDef>> = Vec::new();
                for t in tables {
                    for c in schema.tables.iter().filter(|c| !dropped(c.oid)) {
                        for fk in c.fks.iter().filter(|f| f.table == t.oid) {
                            deps.push(format!("constraint {} on table {}", fk.name, c.name));
                            if !fk_owners.iter().any(|o| o.oid == c.oid) {
                                fk_owners.push(c.clone());
                            }
                        }
                    }
                }
                let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                let views: Vec<_> = schema
                    .views
                    .iter()
                    .filter(|v| {
                        basalt_planner::bind::view_relations(&v.sql)
                            .iter()
                            .any(|r| names.contains(&r.as_str()))
                    })
                    .cloned()
                    .collect();
                deps.extend(views.iter().map(|v| format!("view {}", v.name)));
                if !deps.is_empty() && !*cascade {
                    let t = &tables[0];
                    return Err(ExecError::Coded {
                        code: "2BP01",
                        msg: format!(
                            "cannot drop table {} because other objects depend on it",
                            t.name
                        ),
                        detail: Some(
                            deps.iter()
                                .map(|d| format!("{d} depends on table {}", t.name))
                                .collect::<Vec<_>>()
                                .join("\n"),
                        ),
                    });
                }
                if !deps.is_empty() {
                    notices.push(if deps.len() == 1 {
                        format!("drop cascades to {}", deps[0])
                    } else {
                        format!("drop cascades to {} other objects", deps.len())
                    });
                }
                for o in fk_owners {
                    let mut d = (*o).clone();
                    d.fks.retain(|f| !dropped(f.table));
                    self.db.catalog.replace_table(xid, cid, &schema, &d)?;
                }
                for v in views {
                    self.db.catalog.delete_view(xid, cid, &schema, v.oid)?;
                }
                for t in tables {
                    self.db.catalog.delete_table(xid, cid, &schema, t.oid)?;
                    // Sequences of its serial and identity columns go too.
                    for sq in &schema.sequences {
                        if sq.owned_by.is_some_and(|(o, _)| o == t.oid) {
                            self.db.catalog.delete_sequence(xid, cid, &schema, sq.oid)?;
                        }
                    }
                    let txn = self.txn.as_mut().expect("in txn");
                    txn.drop_on_commit.push(t.filenode);
                    txn.drop_on_commit
                        .extend(t.indexes.iter().map(|i| i.filenode));
                }
                for m in missing {
                    notices.push(format!("table \"{m}\" does not exist, skipping"));
                }
                Ok(ExecResult {
                    tag: "DROP TABLE".into(),
                    notices,
                    ..Default::default()
                })
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
                    txn.drop_on_commit
                        .extend(t.indexes.iter().map(|i| i.filenode));
                    txn.drop_on_abort.push(def.filenode);
                    txn.drop_on_abort
                        .extend(def.indexes.iter().map(|i| i.filenode));
                }
                ok("TRUNCATE TABLE")
            }
            Statement::AddIndex {
                table,
                name,
                columns,
                exprs,
                predicate,
                unique,
                primary,
                if_not_exists,
            } => self.add_index(
                table,
                name,
                (columns, exprs, predicate.as_deref()),
                *unique,
                *primary,
                *if_not_exists,
            ),
            Statement::DropIndex { table, index } => {
                let xid = self.ddl_lock()?;
                let schema = self.schema()?;
                let cid = self.cid();
                let mut def = (**table).clone();
                let ix = def.indexes.remove(*index);
                self.db.catalog.replace_table(xid, cid, &schema, &def)?;
                self.txn
                    .as_mut()
                    .expect("in txn")
                    .drop_on_commit
                    .push(ix.filenode);
                ok("DROP INDEX")
            }
            Statement::Set { name, value, local } => {
                self.set_in_txn(name, value.as_deref(), *local)
            }
            Statement::Show { name } => {
                let k = setting_key(name);
                if k == "all" {
                    let rows = self
                        .all_settings()
                        .into_iter()
                        .map(|(n, v)| {
                            vec![Value::Text(n), Value::Text(v), Value::Text(String::new())]
                        })
                        .collect::<Vec<_>>();
                    let fields = ["name", "setting", "description"]
                        .iter()
                        .map(|n| Field {
                            name: n.to_string(),
                            ty: DataType::Text,
                            source: None,
                        })
                        .collect();
                    return Ok(ExecResult {
                        tag: "SHOW".into(),
                        fields: Some(fields),
                        rows,
                        ..Default::default()
                    });
                }
                // SHOW TRANSACTION ISOLATION LEVEL is the SQL standard's spelling.
                let fname = if k == "transaction isolation level" {
                    "transaction_isolation".to_string()
                } else {
                    k
                };
                let v = self
                    .setting(&fname)
                    .ok_or_else(|| ExecError::UnknownSetting(name.clone()))?;
                Ok(ExecResult {
                    tag: "SHOW".into(),
                    fields: Some(vec![Field {
                        name: fname,
                        ty: DataType::Text,
                        source: None,
                    }]),
                    rows: vec![vec![Value::Text(v)]],
                    ..Default::default()
                })
            }
            Statement::CopyFrom {
                table,
                columns,
                options,
                defaults,
            } => {
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
                        ended: false,
                        binary_header: false,
                        defaults: defaults.clone(),
                        ncols: columns.len(),
                    }),
                    ..Default::default()
                })
            }
            Statement::CopyTo { query, options } if sink.is_some() => {
                let sink = sink.expect("checked");
                let binary = options.format == basalt_planner::CopyFormat::Binary;
                sink.copy_start(query.fields.len(), binary)?;
                let types: Vec<_> = query.fields.iter().map(|f| f.ty).collect();
                // Binary: the file header goes in one message with the
                // first row (or the trailer), as PostgreSQL sends it.
                let mut pending = crate::copy::copy_prologue(&query.fields, options);
                if !binary {
                    if let Some(h) = pending.take() {
                        sink.copy_line(&h)?;
                    }
                }
                let n = self.for_each_row(&query.plan, params, |row| {
                    let line = copy_format_row(row, options, &types);
                    match pending.take() {
                        Some(mut h) => {
                            h.extend_from_slice(&line);
                            sink.copy_line(&h)
                        }
                        None => sink.copy_line(&line),
                    }
                })?;
                if let Some(t) = crate::copy::copy_epilogue(options) {
                    let mut h = pending.take().unwrap_or_default();
                    h.extend_from_slice(&t);
                    sink.copy_line(&h)?;
                }
                Ok(ExecResult {
                    tag: format!("COPY {n}"),
                    ..Default::default()
                })
            }
            Statement::CopyTo { query, options } => {
                let rows = self.run_query(&query.plan, params)?;
                let types: Vec<_> = query.fields.iter().map(|f| f.ty).collect();
                let mut out = Vec::new();
                out.extend(crate::copy::copy_prologue(&query.fields, options));
                out.extend(rows.iter().map(|r| copy_format_row(r, options, &types)));
                out.extend(crate::copy::copy_epilogue(options));
                if options.format == basalt_planner::CopyFormat::Binary && out.len() >= 2 {
                    let rest = out.split_off(1);
                    let first = rest[0].clone();
                    out[0].extend_from_slice(&first);
                    out.extend(rest.into_iter().skip(1));
                }
                Ok(ExecResult {
                    tag: format!("COPY {}", rows.len()),
                    copy_out: Some(out),
                    copy_binary: options.format == basalt_planner::CopyFormat::Binary,
                    fields: Some(query.fields.clone()),
                    ..Default::default()
                })
            }
            Statement::Checkpoint => {
                self.db.st.checkpoint_requested()?;
                ok("CHECKPOINT")
            }
            Statement::DeclareCursor {
                name,
                query,
                hold,
                scroll,
            } => self.declare_cursor(name, query, *hold, *scroll, params),
            Statement::Fetch {
                cursor,
                dir,
                move_only,
            } => self.fetch(cursor, *dir, *move_only),
            Statement::CloseCursor(c) => self.close_cursor(c.as_deref()),
            Statement::Listen(c) => self.listen(crate::notify::ListenAction::Listen(c.clone())),
            Statement::Unlisten(Some(c)) => {
                self.listen(crate::notify::ListenAction::Unlisten(c.clone()))
            }
            Statement::Unlisten(None) => self.listen(crate::notify::ListenAction::UnlistenAll),
            Statement::Notify { channel, payload } => {
                self.queue_notify(channel, payload)?;
                ok("NOTIFY")
            }
            Statement::Vacuum {
                full,
                verbose,
                analyze,
                tables,
            } => {
                let opts = crate::VacuumOptions {
                    full: *full,
                    verbose: *verbose,
                    analyze: *analyze,
                    auto: false,
                };
                self.vacuum(tables, opts)
            }
            Statement::Analyze { tables } => self.analyze(tables),
            Statement::Backup {
                to,
                incremental_from,
            } => self.backup(to, incremental_from.as_deref()),
            Statement::Reindex { table, indexes } => self.reindex(table, indexes),
            Statement::Database(d) => self.database_ddl(d),
            Statement::AlterSequence { def, name, restart } => {
                self.alter_sequence(def.as_ref(), name, *restart)
            }
            Statement::CreateRole {
                name,
                opts,
                if_not_exists,
            } => self.create_role(name, opts, *if_not_exists),
            Statement::AlterRole { name, opts, rename } => {
                self.alter_role(name, opts, rename.as_deref())
            }
            Statement::DropRole { names, if_exists } => self.drop_role(names, *if_exists),
            Statement::Grant {
                revoke,
                privs,
                target,
                grantees,
            } => self.grant(*revoke, *privs, target, grantees),
            Statement::AlterOwner { table, owner } => self.alter_owner(table, owner),
            Statement::SetRole { role, session } => self.set_role(role.as_deref(), *session),
            Statement::Explain {
                stmt,
                analyze,
                json,
                buffers,
            } => self.explain(stmt, *analyze, *json, *buffers, params),
            Statement::CreateView {
                namespace,
                name,
                sql,
                columns,
                types,
                or_replace,
            } => self.create_view(*namespace, name, sql, columns, types, *or_replace),
            Statement::CreateSchema {
                name,
                owner,
                if_not_exists,
            } => self.create_schema(name, owner.as_deref(), *if_not_exists),
            Statement::Enum(d) => self.enum_ddl(d),
            Statement::AlterTableSteps(steps) => {
                let mut notices = Vec::new();
                for sql in steps {
                    let parsed = basalt_parser::parse(sql)
                        .map_err(|e| basalt_planner::PlanError::Syntax(e.0))?;
                    for p in &parsed {
                        let (st, _) = self.plan(p, &[])?;
                        let r = self.execute_in_txn(&st, params, None)?;
                        notices.extend(r.notices);
                        if let Some(t) = self.txn.as_mut() {
                            t.cid += 1;
                        }
                    }
                }
                Ok(ExecResult {
                    tag: "ALTER TABLE".into(),
                    notices,
                    ..Default::default()
                })
            }
            Statement::DropSchema {
                schemas,
                missing,
                cascade,
            } => self.drop_schema(schemas, missing, *cascade),
            Statement::DropView { views, missing } => self.drop_view(views, missing),
            Statement::NoOp { tag, notice } => Ok(ExecResult {
                tag: tag.clone(),
                notices: notice.iter().cloned().collect(),
                ..Default::default()
            }),
            Statement::LockTable { .. } => {
                if !self.in_transaction_block() {
                    return Err(ExecError::NoActiveSqlTransaction(
                        "LOCK TABLE can only be used in transaction blocks".into(),
                    ));
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

    pub(crate) fn cid(&self) -> u32 {
        self.txn.as_ref().map(|t| t.cid).unwrap_or(0)
    }
}

fn is_txn_end(s: &basalt_parser::Statement) -> bool {
    matches!(s, basalt_parser::Statement::Sql(x) if matches!(**x, sqlparser::ast::Statement::Commit { .. } | sqlparser::ast::Statement::Rollback { .. }))
}
