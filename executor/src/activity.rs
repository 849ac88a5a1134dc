//! Backends as operators see them: one `Backend` per session, registered in
//! the database while the session lives. It carries what pg_stat_activity
//! shows (state, query, transaction and statement start), the interrupt flag
//! that cancel requests, statement timeouts and pg_terminate_backend raise,
//! and the reason it was raised. A watchdog thread enforces
//! statement_timeout by raising the flag when a statement's deadline passes.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Why a backend's interrupt flag was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Interrupt {
    None = 0,
    Cancel = 1,
    StatementTimeout = 2,
    Terminate = 3,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityState {
    /// "active", "idle", "idle in transaction", "idle in transaction (aborted)".
    pub state: &'static str,
    pub query: String,
    pub query_start: Option<chrono::DateTime<chrono::Utc>>,
    pub xact_start: Option<chrono::DateTime<chrono::Utc>>,
    pub state_change: Option<chrono::DateTime<chrono::Utc>>,
    pub application_name: String,
    pub client_addr: Option<String>,
    pub client_port: Option<i32>,
    pub backend_xid: Option<u64>,
    pub backend_xmin: Option<u64>,
    /// The session user (0 until set: the bootstrap superuser).
    pub user_oid: u32,
    pub user_name: String,
    /// "autovacuum worker" for autovacuum's session; else a client backend.
    pub autovacuum: bool,
}

type Hook = Box<dyn Fn() + Send + Sync>;

pub struct Backend {
    pub pid: i32,
    pub interrupt: Arc<AtomicBool>,
    reason: AtomicU8,
    /// Statement deadline in ms since `Registry::epoch` (0: none).
    deadline_ms: AtomicU64,
    pub backend_start: chrono::DateTime<chrono::Utc>,
    pub activity: Mutex<ActivityState>,
    /// Set by the server: wakes a backend blocked reading its socket so it
    /// notices it was terminated.
    pub on_terminate: Mutex<Option<Hook>>,
    /// The VACUUM this backend runs, if any (pg_stat_progress_vacuum).
    pub vacuum: Mutex<Option<Arc<basalt_storage::VacuumProgress>>>,
    /// The OID of the database the session is connected to.
    pub database: std::sync::atomic::AtomicU32,
    /// LISTEN channels and undelivered notifications.
    pub listener: crate::notify::Listener,
}

impl Backend {
    pub fn raise(&self, why: Interrupt) {
        // Terminate wins over a cancel already pending.
        let cur = self.reason.load(Ordering::Acquire);
        if cur != Interrupt::Terminate as u8 {
            self.reason.store(why as u8, Ordering::Release);
        }
        self.interrupt.store(true, Ordering::Release);
        if why == Interrupt::Terminate {
            if let Some(h) = self.on_terminate.lock().as_ref() {
                h();
            }
        }
    }

    pub fn reason(&self) -> Interrupt {
        match self.reason.load(Ordering::Acquire) {
            1 => Interrupt::Cancel,
            2 => Interrupt::StatementTimeout,
            3 => Interrupt::Terminate,
            _ => Interrupt::None,
        }
    }

    pub fn terminated(&self) -> bool {
        self.reason() == Interrupt::Terminate
    }

    /// Clears a pending cancel or timeout (a new statement starts). A
    /// termination stays.
    pub fn clear(&self) {
        if !self.terminated() {
            self.reason.store(0, Ordering::Release);
            self.interrupt.store(false, Ordering::Release);
        }
    }
}

pub struct Registry {
    backends: Mutex<HashMap<i32, Weak<Backend>>>,
    started: AtomicU64,
    epoch: Instant,
    watchdog: Mutex<bool>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            backends: Mutex::new(HashMap::new()),
            started: AtomicU64::new(0),
            epoch: Instant::now(),
            watchdog: Mutex::new(false),
        }
    }
}

impl Registry {
    pub fn register(self: &Arc<Self>, pid: i32) -> Arc<Backend> {
        let now = chrono::Utc::now();
        let b = Arc::new(Backend {
            pid,
            interrupt: Arc::new(AtomicBool::new(false)),
            reason: AtomicU8::new(0),
            deadline_ms: AtomicU64::new(0),
            backend_start: now,
            activity: Mutex::new(ActivityState {
                state: "idle",
                state_change: Some(now),
                ..Default::default()
            }),
            on_terminate: Mutex::new(None),
            vacuum: Mutex::new(None),
            database: std::sync::atomic::AtomicU32::new(basalt_catalog::store::DATABASE_OID),
            listener: Default::default(),
        });
        self.backends.lock().insert(pid, Arc::downgrade(&b));
        self.started.fetch_add(1, Ordering::Relaxed);
        b
    }

    /// Sessions started since the server started.
    pub fn sessions_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    pub fn unregister(&self, pid: i32) {
        self.backends.lock().remove(&pid);
    }

    pub fn get(&self, pid: i32) -> Option<Arc<Backend>> {
        self.backends.lock().get(&pid).and_then(|w| w.upgrade())
    }

    pub fn all(&self) -> Vec<Arc<Backend>> {
        let mut v: Vec<Arc<Backend>> = self
            .backends
            .lock()
            .values()
            .filter_map(|w| w.upgrade())
            .collect();
        v.sort_by_key(|b| b.pid);
        v
    }

    /// Arms (Some) or disarms (None) a backend's statement timeout.
    pub fn set_deadline(self: &Arc<Self>, b: &Backend, after: Option<Duration>) {
        match after {
            None => b.deadline_ms.store(0, Ordering::Release),
            Some(d) => {
                let at = (self.epoch.elapsed() + d).as_millis() as u64;
                b.deadline_ms.store(at.max(1), Ordering::Release);
                self.start_watchdog();
            }
        }
    }

    /// One thread for all backends: raises StatementTimeout on each
    /// backend whose deadline has passed. Started at the first armed timeout.
    fn start_watchdog(self: &Arc<Self>) {
        let mut started = self.watchdog.lock();
        if *started {
            return;
        }
        *started = true;
        let weak = Arc::downgrade(self);
        let _ = std::thread::Builder::new()
            .name("basalt-timeouts".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(5));
                let Some(reg) = weak.upgrade() else { return };
                let now = reg.epoch.elapsed().as_millis() as u64;
                for b in reg.all() {
                    let d = b.deadline_ms.load(Ordering::Acquire);
                    if d != 0 && now >= d {
                        b.deadline_ms.store(0, Ordering::Release);
                        b.raise(Interrupt::StatementTimeout);
                    }
                }
            });
    }
}

impl crate::session::Session {
    /// Tells the server's views of this backend what it is doing.
    pub fn report_activity(&self, state: &'static str, query: Option<&str>) {
        let now = chrono::Utc::now();
        let mut a = self.backend.activity.lock();
        if a.state != state {
            a.state = state;
            a.state_change = Some(now);
        }
        if let Some(q) = query {
            a.query = q.to_string();
            a.query_start = Some(now);
        }
    }

    /// Rows of pg_stat_activity and pg_locks, from live state.
    pub(crate) fn live_view(&self, name: &str) -> Option<Vec<Vec<Value>>> {
        match name {
            "pg_stat_activity" => Some(self.activity_rows()),
            "pg_locks" => Some(self.lock_rows()),
            "pg_stat_database" => Some(self.database_stats()),
            "pg_stat_wal" => Some(self.wal_stats()),
            "basalt_buffer_pool" => Some(self.buffer_pool_stats()),
            "basalt_health" => Some(self.health_rows()),
            "pg_stat_user_tables" | "pg_stat_all_tables" => Some(self.table_stats_rows()),
            "pg_stat_bgwriter" => Some(self.bgwriter_stats()),
            "pg_stat_checkpointer" => Some(self.checkpointer_stats()),
            "pg_statio_user_tables" | "pg_statio_all_tables" => Some(self.statio_rows()),
            "pg_stat_user_indexes" | "pg_stat_all_indexes" => Some(self.index_stats_rows()),
            "pg_stats" => Some(self.pg_stats_rows()),
            "pg_stat_progress_vacuum" => Some(self.vacuum_progress_rows()),
            "basalt_backups" => Some(self.backups_rows()),
            "pg_cursors" | "pg_prepared_statements" => Some(self.session_object_rows(name)),
            _ => None,
        }
    }

    fn activity_rows(&self) -> Vec<Vec<Value>> {
        let st = &self.db.st;
        let text = |s: &str| Value::Text(s.to_string());
        let ts = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(Value::TimestampTz).unwrap_or(Value::Null)
        };
        let mut out = Vec::new();
        let superuser = self.is_superuser().unwrap_or(false);
        let schema = self.schema().ok();
        for b in self.db.registry.all() {
            let dboid = b.database.load(Ordering::Relaxed);
            let dbname = schema
                .as_ref()
                .and_then(|s| s.database_by_oid(dboid))
                .map(|d| d.name.clone())
                .unwrap_or_default();
            let mut a = b.activity.lock().clone();
            let user_oid = if a.user_oid == 0 {
                basalt_catalog::store::BOOTSTRAP_SUPERUSER
            } else {
                a.user_oid
            };
            // Other users' sessions show no query to a non-superuser.
            if !superuser && user_oid != self.current_role && b.pid != self.pid {
                a.query = "<insufficient privilege>".into();
                a.client_addr = None;
            }
            let (wtype, wevent) = match st.locks.waiting(b.pid) {
                Some(w) => (
                    text("Lock"),
                    text(match w.target {
                        basalt_storage::lock::WaitTarget::Xid(_) => "transactionid",
                        basalt_storage::lock::WaitTarget::Lock(
                            basalt_storage::LockTag::Relation(_),
                            _,
                        ) => "relation",
                        basalt_storage::lock::WaitTarget::Lock(
                            basalt_storage::LockTag::Advisory { .. },
                            _,
                        ) => "advisory",
                    }),
                ),
                None if a.state == "idle" || a.state.starts_with("idle in") => {
                    (text("Client"), text("ClientRead"))
                }
                None => (Value::Null, Value::Null),
            };
            out.push(vec![
                Value::Int8(dboid as i64),
                text(&dbname),
                Value::Int4(b.pid),
                Value::Null,
                Value::Int8(user_oid as i64),
                text(if a.user_name.is_empty() {
                    "postgres"
                } else {
                    &a.user_name
                }),
                text(&a.application_name),
                a.client_addr.as_deref().map(text).unwrap_or(Value::Null),
                Value::Null,
                a.client_port.map(Value::Int4).unwrap_or(Value::Null),
                Value::TimestampTz(b.backend_start),
                ts(a.xact_start),
                ts(a.query_start),
                ts(a.state_change),
                wtype,
                wevent,
                text(a.state),
                a.backend_xid
                    .map(|x| text(&x.to_string()))
                    .unwrap_or(Value::Null),
                a.backend_xmin
                    .map(|x| text(&x.to_string()))
                    .unwrap_or(Value::Null),
                Value::Null,
                text(&a.query),
                text(if a.autovacuum {
                    "autovacuum worker"
                } else {
                    "client backend"
                }),
            ]);
        }
        out
    }

    fn lock_rows(&self) -> Vec<Vec<Value>> {
        let st = &self.db.st;
        let text = |s: &str| Value::Text(s.to_string());
        let db = Value::Int8(self.database as i64);
        let mut out = Vec::new();
        // (locktype, relation, classid, objid, objsubid, xid, pid, mode, granted, wait)
        type Lock<'a> = (
            &'a str,
            Option<u32>,
            Option<u32>,
            Option<u32>,
            Option<i16>,
            Option<u64>,
            i32,
            &'a str,
            bool,
            Option<chrono::DateTime<chrono::Utc>>,
        );
        let row = |l: Lock<'_>| {
            let (locktype, rel, classid, objid, objsubid, xid, pid, mode, granted, wait) = l;
            let oid = |o: Option<u32>| o.map(|r| Value::Int8(r as i64)).unwrap_or(Value::Null);
            vec![
                text(locktype),
                if rel.is_some() || classid.is_some() {
                    db.clone()
                } else {
                    Value::Null
                },
                oid(rel),
                Value::Null,
                Value::Null,
                Value::Null,
                xid.map(|x| text(&x.to_string())).unwrap_or(Value::Null),
                oid(classid),
                oid(objid),
                objsubid.map(Value::Int2).unwrap_or(Value::Null),
                text(&format!("{pid}/1")),
                Value::Int4(pid),
                text(mode),
                Value::Bool(granted),
                Value::Bool(false),
                wait.map(Value::TimestampTz).unwrap_or(Value::Null),
            ]
        };
        let now = std::time::Instant::now();
        let utc = chrono::Utc::now();
        for l in st.locks.table_locks() {
            let wait = l.wait_start.map(|s| {
                utc - chrono::Duration::from_std(now.duration_since(s)).unwrap_or_default()
            });
            use basalt_storage::LockTag;
            out.push(row(match l.tag {
                Some(LockTag::Relation(r)) if r == crate::txn::DDL_LOCK_REL => (
                    "object",
                    None,
                    Some(1259),
                    Some(0),
                    Some(0),
                    None,
                    l.pid,
                    l.mode,
                    l.granted,
                    wait,
                ),
                Some(LockTag::Relation(r)) => (
                    "relation",
                    Some(r),
                    None,
                    None,
                    None,
                    None,
                    l.pid,
                    l.mode,
                    l.granted,
                    wait,
                ),
                Some(LockTag::Advisory { key, pair }) => (
                    "advisory",
                    None,
                    Some((key >> 32) as u32),
                    Some(key as u32),
                    Some(if pair { 2 } else { 1 }),
                    None,
                    l.pid,
                    l.mode,
                    l.granted,
                    wait,
                ),
                None => (
                    "transactionid",
                    None,
                    None,
                    None,
                    None,
                    l.xid,
                    l.pid,
                    l.mode,
                    l.granted,
                    wait,
                ),
            }));
        }
        for (x, pid) in st.txns.running_xids() {
            out.push(row((
                "transactionid",
                None,
                None,
                None,
                None,
                Some(x),
                pid,
                "ExclusiveLock",
                true,
                None,
            )));
        }
        out
    }

    /// Functions that act on the server: pg_cancel_backend,
    /// pg_terminate_backend, pg_sleep. None for any other name.
    pub(crate) fn admin_function(
        &self,
        name: &str,
        args: &[Value],
    ) -> Option<crate::Result<Value>> {
        let pid_arg = || match args.first() {
            Some(Value::Int4(p)) => Some(*p),
            Some(Value::Int8(p)) => i32::try_from(*p).ok(),
            Some(Value::Int2(p)) => Some(*p as i32),
            _ => None,
        };
        match name {
            "set_config" => {
                // Applied when the statement ends (it needs the session
                // mutably); the new value is the result now.
                let (Some(n), Some(v)) = (args.first(), args.get(1)) else {
                    return Some(Ok(Value::Null));
                };
                if n.is_null() {
                    return Some(Err(crate::ExecError::coded(
                        "22004",
                        "SET requires parameter name",
                    )));
                }
                let local = args.get(2).is_some_and(crate::eval::truthy);
                let v = if v.is_null() {
                    String::new()
                } else {
                    v.to_string()
                };
                self.pending_settings
                    .borrow_mut()
                    .push((n.to_string(), v.clone(), local));
                Some(Ok(Value::Text(v)))
            }
            "nextval" | "currval" | "setval" | "lastval" => {
                Some(self.sequence_function(name, args))
            }
            "pg_cancel_backend" | "pg_terminate_backend" => {
                let Some(pid) = pid_arg() else {
                    return Some(Ok(Value::Null));
                };
                let Some(b) = self.db.registry.get(pid) else {
                    return Some(Ok(Value::Bool(false)));
                };
                b.raise(if name == "pg_cancel_backend" {
                    Interrupt::Cancel
                } else {
                    Interrupt::Terminate
                });
                Some(Ok(Value::Bool(true)))
            }
            "txid_current" | "pg_current_xact_id" => Some(Ok(self
                .top_xid(true)
                .map(|x| Value::Int8(x as i64))
                .unwrap_or(Value::Null))),
            "txid_current_if_assigned" | "pg_current_xact_id_if_assigned" => Some(Ok(self
                .top_xid(false)
                .map(|x| Value::Int8(x as i64))
                .unwrap_or(Value::Null))),
            "txid_status" | "pg_xact_status" => {
                let x = match args.first() {
                    Some(Value::Int8(x)) => *x as u64,
                    Some(Value::Int4(x)) => *x as u64,
                    _ => return Some(Ok(Value::Null)),
                };
                let st = &self.db.st;
                if x >= st.txns.next_xid() {
                    return Some(Err(crate::ExecError::InvalidSetting(
                        "transaction ID".into(),
                        format!("{x} is in the future"),
                    )));
                }
                let s = if st.txns.is_running(x) {
                    "in progress"
                } else if st.clog.get(x) == basalt_storage::clog::XidStatus::Committed {
                    "committed"
                } else {
                    "aborted"
                };
                Some(Ok(Value::Text(s.into())))
            }
            n if n.starts_with("pg_advisory") || n.starts_with("pg_try_advisory") => {
                Some(self.advisory(n, args))
            }
            "__listening_channels" => Some(Ok(Value::Array(Box::new(
                basalt_catalog::types::Array::from_items(
                    basalt_catalog::DataType::Text,
                    self.backend
                        .listener
                        .channels()
                        .into_iter()
                        .map(Value::Text)
                        .collect(),
                ),
            )))),
            "pg_notify" => {
                let channel = match args.first() {
                    Some(v) if !v.is_null() => v.to_string(),
                    _ => String::new(),
                };
                let payload = match args.get(1) {
                    Some(v) if !v.is_null() => v.to_string(),
                    _ => String::new(),
                };
                Some(
                    self.queue_notify(&channel, &payload)
                        .map(|_| Value::Text(String::new())),
                )
            }
            "pg_sleep" => {
                let secs = match args.first() {
                    Some(Value::Float8(f)) => *f,
                    Some(Value::Int4(i)) => *i as f64,
                    Some(Value::Int8(i)) => *i as f64,
                    Some(Value::Numeric(n)) => n.to_string().parse().unwrap_or(0.0),
                    _ => 0.0,
                };
                let end = Instant::now() + Duration::from_secs_f64(secs.clamp(0.0, 1e7));
                while Instant::now() < end {
                    if self.cancel.load(Ordering::Relaxed) {
                        return Some(Err(basalt_storage::StorageError::Cancelled.into()));
                    }
                    std::thread::sleep(
                        end.saturating_duration_since(Instant::now())
                            .min(Duration::from_millis(5)),
                    );
                }
                // void prints as an empty string.
                Some(Ok(Value::Text(String::new())))
            }
            "pg_relation_size" | "pg_total_relation_size" | "pg_table_size" | "pg_indexes_size" => {
                Some(self.relation_size_fn(name, args))
            }
            "pg_switch_wal" => Some(
                self.require_superuser("must be superuser to call pg_switch_wal")
                    .and_then(|_| {
                        self.db
                            .st
                            .wal
                            .switch_segment()
                            .map(|l| Value::Text(basalt_storage::wal::lsn_text(l)))
                            .map_err(Into::into)
                    }),
            ),
            "pg_current_wal_lsn" | "pg_current_wal_insert_lsn" => Some(Ok(Value::Text(
                basalt_storage::wal::lsn_text(self.db.st.wal.insert_lsn()),
            ))),
            "pg_current_wal_flush_lsn" => Some(Ok(Value::Text(basalt_storage::wal::lsn_text(
                self.db.st.wal.flushed_lsn(),
            )))),
            "has_table_privilege" | "has_schema_privilege" => {
                Some(self.has_privilege_fn(name, args))
            }
            "current_user" => Some(Ok(Value::Text(self.current_user_name()))),
            "session_user" => Some(Ok(Value::Text(self.session_user_name()))),
            "pg_get_userbyid" => Some(Ok(match args.first().and_then(|v| v.as_i64()) {
                None => Value::Null,
                Some(oid) => {
                    let name = self
                        .db
                        .catalog
                        .committed_schema()
                        .ok()
                        .and_then(|s| s.role_by_oid(oid as u32).map(|r| r.name.clone()));
                    Value::Text(name.unwrap_or_else(|| format!("unknown (OID={oid})")))
                }
            })),
            "pg_database_size" => Some(self.database_size(args.first())),
            _ => None,
        }
    }

    /// pg_database_size(name or OID): the files of the database's tables
    /// and indexes (pages still only in the buffer pool count too).
    fn database_size(&self, arg: Option<&Value>) -> crate::Result<Value> {
        let all = self.db.catalog.committed_schema()?;
        let db = match arg {
            None | Some(Value::Null) => return Ok(Value::Null),
            Some(Value::Text(n)) => all.database_by_name(n),
            Some(v) => all.database_by_oid(v.as_i64().unwrap_or(-1) as u32),
        };
        let Some(db) = db else {
            return Err(crate::ExecError::coded(
                "3D000",
                match arg {
                    Some(Value::Text(n)) => format!("database \"{n}\" does not exist"),
                    _ => "database with the given OID does not exist".into(),
                },
            ));
        };
        let st = &self.db.st;
        let schema = self.db.catalog.committed_schema_for(db.oid)?;
        let mut total: u64 = 0;
        for t in &schema.tables {
            total += st.relation_size(t.filenode);
            total += t
                .indexes
                .iter()
                .map(|i| st.relation_size(i.filenode))
                .sum::<u64>();
        }
        // The catalog is counted with the built-in database `postgres`.
        if db.oid == basalt_catalog::store::DATABASE_OID {
            total += st.relation_size(basalt_catalog::store::CATALOG_REL);
        }
        Ok(Value::Int8(total as i64))
    }

    /// pg_relation_size and friends: sizes of a table's or index's files, by
    /// OID or name.
    fn relation_size_fn(&self, name: &str, args: &[Value]) -> crate::Result<Value> {
        let schema = self.schema()?;
        let target = match args.first() {
            None | Some(Value::Null) => return Ok(Value::Null),
            Some(Value::Text(s)) => self
                .find_named(&schema, s, |ns, n| {
                    schema.relation(ns, n).map(|(t, i)| (t.clone(), i))
                })
                .ok_or_else(|| {
                    crate::ExecError::Plan(basalt_planner::PlanError::UndefinedTable(s.clone()))
                })?,
            Some(v) => {
                let oid = v.as_i64().unwrap_or(-1);
                let found = schema.tables.iter().find_map(|t| {
                    if t.oid as i64 == oid {
                        return Some((t.clone(), None));
                    }
                    t.indexes
                        .iter()
                        .position(|i| i.oid as i64 == oid)
                        .map(|i| (t.clone(), Some(i)))
                });
                match found {
                    Some(f) => f,
                    None => return Ok(Value::Null),
                }
            }
        };
        let st = &self.db.st;
        let size = |filenode: u32| st.relation_size(filenode) as i64;
        let (t, ix) = target;
        let indexes: i64 = t.indexes.iter().map(|i| size(i.filenode)).sum();
        Ok(Value::Int8(match (name, ix) {
            (_, Some(i)) if name != "pg_indexes_size" => size(t.indexes[i].filenode),
            (_, Some(_)) => 0,
            ("pg_indexes_size", None) => indexes,
            ("pg_total_relation_size", None) => size(t.filenode) + indexes,
            _ => size(t.filenode),
        }))
    }
}

use basalt_catalog::Value;

impl crate::session::Session {
    /// pg_[try_]advisory_[xact_]lock[_shared], pg_advisory_unlock[_shared],
    /// pg_advisory_unlock_all.
    fn advisory(&self, name: &str, args: &[Value]) -> crate::Result<Value> {
        use basalt_storage::{LockTag, TableLockMode, WaitPolicy};
        let st = &self.db.st;
        if name == "pg_advisory_unlock_all" {
            st.locks.unlock_all_session(self.pid);
            return Ok(Value::Text(String::new()));
        }
        let int = |v: &Value| -> Option<i64> {
            match v {
                Value::Int2(x) => Some(*x as i64),
                Value::Int4(x) => Some(*x as i64),
                Value::Int8(x) => Some(*x),
                _ => None,
            }
        };
        let tag = match args {
            [k] => match int(k) {
                Some(k) => LockTag::Advisory {
                    key: k as u64,
                    pair: false,
                },
                None => return Ok(Value::Null),
            },
            [a, b] => match (int(a), int(b)) {
                (Some(a), Some(b)) => LockTag::Advisory {
                    key: ((a as u32 as u64) << 32) | (b as u32 as u64),
                    pair: true,
                },
                _ => return Ok(Value::Null),
            },
            _ => return Ok(Value::Null),
        };
        let mode = if name.ends_with("_shared") {
            TableLockMode::Share
        } else {
            TableLockMode::Exclusive
        };
        if name.starts_with("pg_advisory_unlock") {
            return Ok(Value::Bool(st.locks.unlock_session(self.pid, tag, mode)));
        }
        let try_only = name.starts_with("pg_try_");
        let session = !name.contains("_xact_");
        let w = self.wait_ctx();
        let policy = if try_only {
            WaitPolicy::NoWait
        } else {
            WaitPolicy::Block
        };
        let got = st.locks.lock(tag, mode, &w, policy, session)?;
        Ok(if try_only {
            Value::Bool(got)
        } else {
            Value::Text(String::new())
        })
    }
}
