//! A session's transaction: isolation level and access mode, the snapshot
//! (per statement in READ COMMITTED, per transaction above it), xids (the
//! top-level one and one per subtransaction that writes), savepoints, the
//! locks it waits with, and the end of it all (commit with its committed
//! subtransactions, or abort). See storage/src/lock.rs for locks and
//! storage/src/ssi.rs for SERIALIZABLE.

use crate::activity::Interrupt;
use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use basalt_planner::TxnMode;
use basalt_storage::ssi::Sid;
use basalt_storage::{Snapshot, StorageError, WaitCtx, Xid};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Relation id of the lock every DDL statement takes (one at a time).
pub(crate) const DDL_LOCK_REL: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isolation {
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    pub fn parse(s: &str) -> Option<Isolation> {
        let s = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        Some(
            match s.split_whitespace().collect::<Vec<_>>().join(" ").as_str() {
                "read uncommitted" | "read committed" => Isolation::ReadCommitted,
                "repeatable read" => Isolation::RepeatableRead,
                "serializable" => Isolation::Serializable,
                _ => return None,
            },
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read committed",
            Isolation::RepeatableRead => "repeatable read",
            Isolation::Serializable => "serializable",
        }
    }
}

pub(crate) struct Savepoint {
    pub name: String,
    /// This level's xid, once it has written.
    pub xid: Option<Xid>,
    pub drop_on_commit: usize,
    pub drop_on_abort: usize,
    /// The transaction's LISTEN/NOTIFY queue lengths when it was set.
    pub notify_mark: (usize, usize),
}

pub(crate) struct Txn {
    /// Top-level xid, assigned at the first write.
    pub xid: Option<Xid>,
    /// The top-level xid and the xids of live subtransactions, sorted.
    pub own: Arc<Vec<Xid>>,
    pub cid: u32,
    pub explicit: bool,
    pub aborted: bool,
    pub ddl: bool,
    pub drop_on_commit: Vec<u32>,
    pub drop_on_abort: Vec<u32>,
    pub start: chrono::DateTime<chrono::Utc>,
    pub iso: Isolation,
    pub read_only: bool,
    /// REPEATABLE READ / SERIALIZABLE: the snapshot of the whole transaction.
    pub snap: Option<Snapshot>,
    /// SERIALIZABLE: the transaction in the SSI graph.
    pub sid: Option<Sid>,
    /// A statement other than BEGIN/SET has run (SET TRANSACTION ISOLATION
    /// LEVEL must come first).
    pub started: bool,
    pub savepoints: Vec<Savepoint>,
    /// Session settings as they were before the block's first SET: a
    /// rollback puts them back (SET is transactional, as in PostgreSQL).
    pub settings_backup: Option<(HashMap<String, String>, TxnSettings)>,
    /// SET LOCAL: each such setting's value to return to at commit.
    pub local_prev: Vec<(String, Option<String>)>,
    /// LISTEN/UNLISTEN/NOTIFY to carry out at commit.
    pub notify: crate::notify::Pending,
}

/// Settings a session consults on every statement, parsed once when set.
#[derive(Debug, Clone)]
pub(crate) struct TxnSettings {
    pub statement_timeout: Option<Duration>,
    pub lock_timeout: Option<Duration>,
    pub deadlock_timeout: Duration,
    pub idle_in_transaction_timeout: Option<Duration>,
    /// None: the server's setting.
    pub synchronous_commit: Option<bool>,
    pub default_isolation: Isolation,
    pub default_read_only: bool,
    /// log_statement: which statements are logged before they run.
    pub log_statement: LogStatement,
    /// log_min_duration_statement: statements at least this slow are
    /// logged with their duration (None: off).
    pub log_min_duration: Option<Duration>,
}

/// PostgreSQL's log_statement levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogStatement {
    None,
    Ddl,
    Mod,
    All,
}

impl Default for TxnSettings {
    fn default() -> Self {
        TxnSettings {
            statement_timeout: None,
            lock_timeout: None,
            deadlock_timeout: Duration::from_secs(1),
            idle_in_transaction_timeout: None,
            synchronous_commit: None,
            default_isolation: Isolation::ReadCommitted,
            default_read_only: false,
            log_statement: LogStatement::None,
            log_min_duration: None,
        }
    }
}

/// A time setting as PostgreSQL reads it: a number in milliseconds, or
/// with a unit (us, ms, s, min, h, d). 0 (or negative) means off.
pub(crate) fn parse_ms(v: &str) -> Option<Option<Duration>> {
    let d = basalt_catalog::cast::parse_duration(v, Duration::from_millis(1))?;
    Some((!d.is_zero()).then_some(d))
}

/// PostgreSQL's defaults of the transaction settings, for RESET when the
/// server was given none.
pub(crate) fn builtin_default(name: &str) -> &'static str {
    match name {
        "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => "0",
        "deadlock_timeout" => "1s",
        "synchronous_commit" => "on",
        "default_transaction_isolation" | "transaction_isolation" => "read committed",
        "default_transaction_read_only" | "transaction_read_only" => "off",
        "log_statement" => "none",
        "log_min_duration_statement" => "-1",
        "search_path" => "\"$user\", public",
        "timezone" => "UTC",
        _ => "",
    }
}

impl TxnSettings {
    /// Applies one setting (name lower-cased); Err(()) when the value is bad.
    pub fn apply(&mut self, name: &str, v: &str) -> std::result::Result<(), ()> {
        match name {
            "statement_timeout" => self.statement_timeout = parse_ms(v).ok_or(())?,
            "lock_timeout" => self.lock_timeout = parse_ms(v).ok_or(())?,
            "idle_in_transaction_session_timeout" => {
                self.idle_in_transaction_timeout = parse_ms(v).ok_or(())?
            }
            "deadlock_timeout" => {
                self.deadlock_timeout = parse_ms(v).ok_or(())?.unwrap_or(Duration::from_millis(1))
            }
            "synchronous_commit" => {
                self.synchronous_commit = Some(match v.to_ascii_lowercase().as_str() {
                    "on" | "true" | "yes" | "1" | "local" | "remote_write" | "remote_apply" => true,
                    "off" | "false" | "no" | "0" => false,
                    _ => return Err(()),
                })
            }
            "default_transaction_isolation" => {
                self.default_isolation = Isolation::parse(v).ok_or(())?
            }
            "default_transaction_read_only" => {
                self.default_read_only = basalt_catalog::cast::parse_bool(v).ok_or(())?
            }
            "log_statement" => {
                self.log_statement = match v.trim().to_ascii_lowercase().as_str() {
                    "none" => LogStatement::None,
                    "ddl" => LogStatement::Ddl,
                    "mod" => LogStatement::Mod,
                    "all" => LogStatement::All,
                    _ => return Err(()),
                }
            }
            "log_min_duration_statement" => {
                // -1 turns it off; 0 logs every statement.
                self.log_min_duration = if v.trim() == "-1" {
                    None
                } else if v.trim() == "0" {
                    Some(Duration::ZERO)
                } else {
                    Some(parse_ms(v).ok_or(())?.unwrap_or(Duration::ZERO))
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Session {
    /// The wait context of this session's lock waits.
    pub(crate) fn wait_ctx(&self) -> WaitCtx<'_> {
        WaitCtx {
            pid: self.pid,
            interrupt: &self.cancel,
            lock_timeout: self.tcfg.lock_timeout,
            deadlock_timeout: self.tcfg.deadlock_timeout,
        }
    }

    pub(crate) fn ensure_txn(&mut self) {
        if self.txn.is_none() {
            let start = chrono::Utc::now();
            self.txn = Some(Txn {
                xid: None,
                own: self.no_xids.clone(),
                cid: 0,
                explicit: false,
                aborted: false,
                ddl: false,
                drop_on_commit: vec![],
                drop_on_abort: vec![],
                start,
                iso: self.tcfg.default_isolation,
                read_only: self.tcfg.default_read_only,
                snap: None,
                sid: None,
                started: false,
                savepoints: vec![],
                settings_backup: None,
                local_prev: vec![],
                notify: Default::default(),
            });
            self.backend.activity.lock().xact_start = Some(start);
        }
    }

    /// The xid this transaction writes under now: the innermost open
    /// savepoint's (assigned at its first write), else the top-level one.
    pub(crate) fn xid(&mut self) -> Xid {
        self.ensure_txn();
        let st = self.db.st.clone();
        let pid = self.pid;
        let t = self.txn.as_mut().expect("ensured");
        let mut fresh = Vec::new();
        let top = *t.xid.get_or_insert_with(|| {
            let x = st.begin(pid);
            fresh.push(x);
            x
        });
        let mut cur = top;
        if let Some(sp) = t.savepoints.last_mut() {
            cur = *sp.xid.get_or_insert_with(|| {
                let x = st.begin(pid);
                fresh.push(x);
                x
            });
        }
        if !fresh.is_empty() {
            let own = Arc::make_mut(&mut t.own);
            own.extend(&fresh);
            own.sort_unstable();
            if let Some(sid) = t.sid {
                for x in &fresh {
                    st.ssi.add_xid(sid, *x);
                }
            }
            self.backend.activity.lock().backend_xid = Some(top);
        }
        cur
    }

    /// Makes an xid assigned by txid_current() the transaction's own.
    pub(crate) fn adopt_lazy_xid(&mut self) {
        let Some(x) = self.lazy_xid.take() else {
            return;
        };
        let st = self.db.st.clone();
        let Some(t) = self.txn.as_mut() else {
            let _ = st.abort(&[x]);
            return;
        };
        if t.xid.is_some() {
            let _ = st.abort(&[x]);
            return;
        }
        t.xid = Some(x);
        let own = Arc::make_mut(&mut t.own);
        own.push(x);
        own.sort_unstable();
        if let Some(sid) = t.sid {
            st.ssi.add_xid(sid, x);
        }
        self.backend.activity.lock().backend_xid = Some(x);
    }

    /// The top-level xid, assigning one if `assign` (txid_current()).
    pub(crate) fn top_xid(&self, assign: bool) -> Option<Xid> {
        if let Some(x) = self.txn.as_ref().and_then(|t| t.xid) {
            return Some(x);
        }
        if let Some(x) = self.lazy_xid.get() {
            return Some(x);
        }
        if !assign {
            return None;
        }
        let x = self.db.st.begin(self.pid);
        self.lazy_xid.set(Some(x));
        Some(x)
    }

    /// The snapshot a statement runs in.
    pub(crate) fn snapshot(&self) -> Snapshot {
        match &self.txn {
            Some(t) => match &t.snap {
                Some(s) => {
                    let mut s = s.clone();
                    s.cid = t.cid;
                    s.own = t.own.clone();
                    s
                }
                None => self.db.st.txns.snapshot_own(t.own.clone(), t.cid),
            },
            None => self.db.st.txns.snapshot(0, 0),
        }
    }

    /// A statement is about to run: REPEATABLE READ and SERIALIZABLE take
    /// their transaction snapshot at the first one.
    pub(crate) fn statement_begins(&mut self) {
        let st = self.db.st.clone();
        let Some(t) = self.txn.as_mut() else { return };
        t.started = true;
        if t.iso >= Isolation::RepeatableRead && t.snap.is_none() {
            t.snap = Some(st.txns.snapshot_own(t.own.clone(), t.cid));
            // Read-only transactions take part too: a reader can be the
            // first link of a dangerous structure (the read-only anomaly).
            if t.iso == Isolation::Serializable {
                let sid = st.ssi.begin();
                for x in t.own.iter() {
                    st.ssi.add_xid(sid, *x);
                }
                t.sid = Some(sid);
            }
            self.backend.activity.lock().backend_xmin = t.snap.as_ref().map(|s| s.xmin);
        }
    }

    /// Ends the transaction (commit unless `commit` is false or it failed),
    /// releasing its locks.
    pub(crate) fn finish(&mut self, commit: bool) -> Result<()> {
        let Some(mut t) = self.txn.take() else {
            return Ok(());
        };
        let notify = std::mem::take(&mut t.notify);
        let st = self.db.st.clone();
        let mut res = Ok(());
        let committing = commit && !t.aborted;
        if !committing {
            if let Some((settings, tcfg)) = t.settings_backup.clone() {
                self.restore_settings(settings, tcfg);
            }
        } else {
            for (k, prev) in t.local_prev.iter().rev() {
                self.restore_setting(k, prev.clone());
            }
        }
        if committing {
            if let Some(sid) = t.sid {
                res = st.ssi.pre_commit(sid).map_err(ExecError::from);
            }
        }
        if let Some(xid) = t.xid {
            if committing && res.is_ok() {
                let subs: Vec<Xid> = t.own.iter().copied().filter(|&x| x != xid).collect();
                res = st
                    .commit(xid, &subs, self.tcfg.synchronous_commit)
                    .map_err(ExecError::from);
                if res.is_ok() {
                    for r in &t.drop_on_commit {
                        let _ = st.drop_relation(*r);
                    }
                }
            } else {
                let _ = st.abort(&t.own);
                st.count_rollback();
                for r in &t.drop_on_abort {
                    let _ = st.drop_relation(*r);
                }
            }
            if t.ddl {
                self.db.catalog.invalidate();
            }
        } else if committing && res.is_ok() {
            // A transaction that wrote nothing commits without a record.
            st.stats
                .commits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            st.count_rollback();
        }
        if let Some(sid) = t.sid {
            st.ssi.end(sid, committing && res.is_ok());
        }
        st.locks.release_all(self.pid);
        self.end_cursors(committing && res.is_ok());
        if committing && res.is_ok() && !notify.is_empty() {
            self.commit_notifies(notify);
        }
        self.db
            .table_stats
            .flush(&self.pending_stats, committing && res.is_ok());
        {
            let mut a = self.backend.activity.lock();
            a.xact_start = None;
            a.backend_xid = None;
            a.backend_xmin = None;
        }
        res
    }

    /// An error in a transaction block: as PostgreSQL does, the work is
    /// undone and locks released at once, while the block stays open (and
    /// failed) until ROLLBACK, or ROLLBACK TO a savepoint. Inside a
    /// savepoint only the innermost subtransaction aborts now.
    pub(crate) fn abort_in_block(&mut self) {
        let st = self.db.st.clone();
        let Some(t) = self.txn.as_mut() else { return };
        if t.aborted {
            return;
        }
        t.aborted = true;
        if let Some(sp) = t.savepoints.last_mut() {
            if let Some(x) = sp.xid.take() {
                let _ = st.abort(&[x]);
                Arc::make_mut(&mut t.own).retain(|&o| o != x);
            }
            return;
        }
        if t.xid.is_some() {
            // Counted as a rollback when the block ends.
            let _ = st.abort(&t.own);
            for r in t.drop_on_abort.drain(..) {
                let _ = st.drop_relation(r);
            }
            t.drop_on_commit.clear();
            if t.ddl {
                self.db.catalog.invalidate();
                t.ddl = false;
            }
        }
        t.xid = None;
        t.own = self.no_xids.clone();
        if let Some(sid) = t.sid.take() {
            st.ssi.end(sid, false);
        }
        st.locks.release_all(self.pid);
    }

    /// SET [LOCAL] inside the transaction machinery: remembers what a
    /// rollback (or, for LOCAL, the end of the transaction) must put back.
    pub(crate) fn set_in_txn(
        &mut self,
        name: &str,
        value: Option<&str>,
        local: bool,
    ) -> Result<ExecResult> {
        let mut r = ExecResult {
            tag: "SET".into(),
            ..Default::default()
        };
        let k = name.to_lowercase();
        let in_block = self.in_transaction_block();
        if local && !in_block {
            r.notices
                .push("WARNING: SET LOCAL can only be used in transaction blocks".into());
            return Ok(r);
        }
        if in_block {
            let before = self.raw_setting(&k);
            let (settings, tcfg) = self.settings_snapshot();
            let t = self.txn.as_mut().expect("in a block");
            if t.settings_backup.is_none() {
                t.settings_backup = Some((settings, tcfg));
            }
            match t.local_prev.iter_mut().find(|(n, _)| *n == k) {
                // A session-level SET after SET LOCAL: commit keeps it.
                Some(p) if !local => p.1 = value.map(str::to_string),
                Some(_) => {}
                None if local => t.local_prev.push((k.clone(), before)),
                None => {}
            }
        }
        r.parameter_status = self.set_setting(name, value)?;
        Ok(r)
    }

    /// COMMIT / ROLLBACK [AND CHAIN]: ends the block; AND CHAIN starts a
    /// new one with the same characteristics. COMMIT of a failed block
    /// rolls back.
    pub(crate) fn end_block(&mut self, commit: bool, chain: bool) -> Result<ExecResult> {
        let what = if commit { "COMMIT" } else { "ROLLBACK" };
        let mut r = ExecResult {
            tag: what.into(),
            ..Default::default()
        };
        if !self.in_transaction_block() {
            if chain {
                return Err(ExecError::NoActiveSqlTransaction(format!(
                    "{what} AND CHAIN can only be used in transaction blocks"
                )));
            }
            r.notices
                .push("WARNING: there is no transaction in progress".into());
        }
        let kept = self.txn.as_ref().map(|t| (t.iso, t.read_only));
        if commit && self.in_failed_transaction() {
            r.tag = "ROLLBACK".into();
            self.finish(false)?;
        } else {
            self.finish(commit)?;
        }
        if let (true, Some((iso, ro))) = (chain, kept) {
            self.ensure_txn();
            let t = self.txn.as_mut().expect("ensured");
            t.explicit = true;
            t.iso = iso;
            t.read_only = ro;
        }
        Ok(r)
    }

    /// BEGIN [ISOLATION LEVEL ...] [READ ONLY | READ WRITE].
    pub(crate) fn begin(&mut self, modes: &[TxnMode]) -> Result<ExecResult> {
        let mut r = ExecResult {
            tag: "BEGIN".into(),
            ..Default::default()
        };
        if self.in_transaction_block() {
            r.notices
                .push("WARNING: there is already a transaction in progress".into());
            return Ok(r);
        }
        self.ensure_txn();
        self.txn.as_mut().expect("ensured").explicit = true;
        self.apply_modes(modes)?;
        Ok(r)
    }

    fn apply_modes(&mut self, modes: &[TxnMode]) -> Result<()> {
        let t = self.txn.as_mut().expect("in a transaction");
        for m in modes {
            match m {
                TxnMode::Isolation(l) => {
                    let iso = Isolation::parse(l).ok_or_else(|| {
                        ExecError::InvalidSetting("transaction_isolation".into(), l.clone())
                    })?;
                    if t.started && iso != t.iso {
                        return Err(ExecError::ActiveSqlTransaction(
                            "SET TRANSACTION ISOLATION LEVEL must be called before any query"
                                .into(),
                        ));
                    }
                    t.iso = iso;
                }
                TxnMode::ReadOnly(ro) => {
                    if !ro && t.read_only && t.started {
                        return Err(ExecError::ActiveSqlTransaction(
                            "transaction read-write mode must be set before any query".into(),
                        ));
                    }
                    t.read_only = *ro;
                }
            }
        }
        Ok(())
    }

    /// SET TRANSACTION ... / SET SESSION CHARACTERISTICS AS TRANSACTION ...
    pub(crate) fn set_transaction(
        &mut self,
        modes: &[TxnMode],
        session: bool,
    ) -> Result<ExecResult> {
        let mut r = ExecResult {
            tag: "SET".into(),
            ..Default::default()
        };
        if session {
            for m in modes {
                match m {
                    TxnMode::Isolation(l) => {
                        self.set_setting("default_transaction_isolation", Some(l))?;
                    }
                    TxnMode::ReadOnly(ro) => {
                        self.set_setting(
                            "default_transaction_read_only",
                            Some(if *ro { "on" } else { "off" }),
                        )?;
                    }
                }
            }
            return Ok(r);
        }
        if !self.in_transaction_block() {
            r.notices
                .push("WARNING: SET TRANSACTION can only be used in transaction blocks".into());
            return Ok(r);
        }
        self.apply_modes(modes)?;
        Ok(r)
    }

    /// The statement logging settings (log_statement, log_min_duration_statement).
    pub fn log_settings(&self) -> (LogStatement, Option<Duration>) {
        (self.tcfg.log_statement, self.tcfg.log_min_duration)
    }

    /// idle_in_transaction_session_timeout, if set.
    pub fn idle_in_transaction_timeout(&self) -> Option<Duration> {
        self.tcfg.idle_in_transaction_timeout
    }

    pub(crate) fn isolation(&self) -> Isolation {
        self.txn
            .as_ref()
            .map(|t| t.iso)
            .unwrap_or(self.tcfg.default_isolation)
    }

    pub(crate) fn read_only(&self) -> bool {
        self.txn
            .as_ref()
            .map(|t| t.read_only)
            .unwrap_or(self.tcfg.default_read_only)
    }

    /// What a failed statement tells the client: an interrupted one says
    /// why (cancel, statement timeout, termination); a deadlock is counted
    /// for pg_stat_database.
    pub(crate) fn statement_error(&self, e: ExecError) -> ExecError {
        if matches!(e, ExecError::Storage(StorageError::Deadlock(_))) {
            self.db
                .st
                .stats
                .deadlocks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if !matches!(e, ExecError::Storage(StorageError::Cancelled)) {
            return e;
        }
        match self.backend.reason() {
            Interrupt::StatementTimeout => ExecError::StatementTimeout,
            Interrupt::Terminate => ExecError::Terminated,
            _ => e,
        }
    }
}

impl Session {
    /// The xid this transaction writes under now, if it has one.
    pub(crate) fn cur_xid(&self) -> Option<Xid> {
        let t = self.txn.as_ref()?;
        match t.savepoints.last() {
            Some(sp) => sp.xid,
            None => t.xid,
        }
    }
}
