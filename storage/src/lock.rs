//! Locks and waits. Owners are backends (`Pid`): a transaction's locks
//! belong to its backend until the transaction ends.
//!
//! - Table locks: PostgreSQL's eight modes and conflict table (LOCK TABLE,
//!   DDL, and the weak locks statements take on the tables they use).
//! - Shared row locks (FOR SHARE, FOR KEY SHARE), kept here by (relation,
//!   TID) and xid. Exclusive row locks live in the tuple's xmax instead (see
//!   heap.rs), so writers meet them on the page.
//! - The waits-for graph: every blocked backend records whom it waits for;
//!   after `deadlock_timeout` a waiter looks for a cycle through itself and,
//!   finding one, gives up with 40P01 (the others then proceed).
//!
//! Nothing here is durable: a crash ends every transaction, so every lock.

use crate::error::{Result, StorageError};
use crate::heap::Tid;
use crate::smgr::RelId;
use crate::txn::{Pid, Xid};
use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// PostgreSQL's table lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableLockMode {
    AccessShare = 1,
    RowShare = 2,
    RowExclusive = 3,
    ShareUpdateExclusive = 4,
    Share = 5,
    ShareRowExclusive = 6,
    Exclusive = 7,
    AccessExclusive = 8,
}

impl TableLockMode {
    pub fn name(self) -> &'static str {
        use TableLockMode::*;
        match self {
            AccessShare => "AccessShareLock",
            RowShare => "RowShareLock",
            RowExclusive => "RowExclusiveLock",
            ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            Share => "ShareLock",
            ShareRowExclusive => "ShareRowExclusiveLock",
            Exclusive => "ExclusiveLock",
            AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// Modes (as bits 1..=8) this one conflicts with.
    fn conflict_bits(self) -> u16 {
        use TableLockMode::*;
        let b = |ms: &[TableLockMode]| ms.iter().fold(0u16, |a, m| a | 1 << (*m as u16));
        match self {
            AccessShare => b(&[AccessExclusive]),
            RowShare => b(&[Exclusive, AccessExclusive]),
            RowExclusive => b(&[Share, ShareRowExclusive, Exclusive, AccessExclusive]),
            ShareUpdateExclusive => b(&[
                ShareUpdateExclusive,
                Share,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            Share => b(&[
                RowExclusive,
                ShareUpdateExclusive,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            ShareRowExclusive => b(&[
                RowExclusive,
                ShareUpdateExclusive,
                Share,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            Exclusive => b(&[
                RowShare,
                RowExclusive,
                ShareUpdateExclusive,
                Share,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            AccessExclusive => 0x1fe,
        }
    }

    pub fn conflicts(self, other: TableLockMode) -> bool {
        self.conflict_bits() & (1 << other as u16) != 0
    }
}

/// Row lock strengths (SELECT ... FOR KEY SHARE / SHARE / NO KEY UPDATE /
/// UPDATE). UPDATE takes NoKeyUpdate, or Update when it changes a key
/// column; DELETE takes Update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowMode {
    KeyShare,
    Share,
    NoKeyUpdate,
    Update,
}

impl RowMode {
    pub fn conflicts(self, other: RowMode) -> bool {
        use RowMode::*;
        match (self, other) {
            (Update, _) | (_, Update) => true,
            (KeyShare, _) | (_, KeyShare) => false,
            (Share, Share) => false,
            _ => true,
        }
    }

    pub fn is_shared(self) -> bool {
        matches!(self, RowMode::KeyShare | RowMode::Share)
    }

    pub fn sql_name(self) -> &'static str {
        match self {
            RowMode::KeyShare => "ForKeyShare",
            RowMode::Share => "ForShare",
            RowMode::NoKeyUpdate => "ForNoKeyUpdate",
            RowMode::Update => "ForUpdate",
        }
    }
}

/// What to do when a lock is not free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPolicy {
    Block,
    /// Fail at once (NOWAIT): 55P03.
    NoWait,
    /// Leave the row out (SKIP LOCKED).
    SkipLocked,
}

/// Who is waiting, and for how long they may.
pub struct WaitCtx<'a> {
    pub pid: Pid,
    /// Raised to interrupt the wait (cancel, statement timeout, terminate).
    pub interrupt: &'a AtomicBool,
    pub lock_timeout: Option<Duration>,
    pub deadlock_timeout: Duration,
}

impl WaitCtx<'_> {
    /// A context for internal waits: no lock timeout, 1 s deadlock check.
    pub fn internal(interrupt: &AtomicBool) -> WaitCtx<'_> {
        WaitCtx {
            pid: 0,
            interrupt,
            lock_timeout: None,
            deadlock_timeout: Duration::from_secs(1),
        }
    }
}

/// What a heavyweight lock is on: a relation, or an application-defined
/// advisory key (pg_advisory_lock(bigint), or (int, int) pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockTag {
    Relation(u32),
    Advisory { key: u64, pair: bool },
}

/// What a blocked backend waits for (pg_locks, pg_stat_activity).
#[derive(Debug, Clone, PartialEq)]
pub enum WaitTarget {
    Xid(Xid),
    Lock(LockTag, TableLockMode),
}

/// A backend's hold on a lock: how many times at transaction level (released
/// when the transaction ends) and at session level (advisory locks, released
/// by unlock or when the session ends).
#[derive(Debug, Clone)]
struct Holder {
    pid: Pid,
    mode: TableLockMode,
    xact: u32,
    session: u32,
}

#[derive(Debug, Clone)]
pub struct Waiting {
    pub target: WaitTarget,
    pub on: Vec<Pid>,
    pub since: Instant,
}

#[derive(Default)]
struct State {
    locks: HashMap<LockTag, Vec<Holder>>,
    held_by: HashMap<Pid, HashSet<LockTag>>,
    waits: HashMap<Pid, Waiting>,
    rows: HashMap<(RelId, Tid), Vec<(Xid, RowMode)>>,
    rows_by_xid: HashMap<Xid, Vec<(RelId, Tid)>>,
}

#[derive(Default)]
pub struct LockManager {
    state: Mutex<State>,
    released: Condvar,
    /// Shared row locks held now: writers skip the lookup when there are none.
    row_locks: AtomicUsize,
}

/// One held lock, as pg_locks lists it.
#[derive(Debug, Clone)]
pub struct LockInfo {
    pub pid: Pid,
    pub tag: Option<LockTag>,
    pub xid: Option<Xid>,
    pub mode: &'static str,
    pub granted: bool,
    pub wait_start: Option<Instant>,
}

/// The longest a waiter sleeps before it looks at its interrupt flag.
const WAIT_STEP: Duration = Duration::from_millis(20);

impl LockManager {
    pub fn new() -> LockManager {
        LockManager::default()
    }

    /// Takes a table lock for backend `w.pid` (held until `release_all`).
    /// Returns false (without waiting) under NoWait when it is not free.
    pub fn lock_table(
        &self,
        rel: u32,
        mode: TableLockMode,
        w: &WaitCtx<'_>,
        policy: WaitPolicy,
    ) -> Result<bool> {
        self.lock(LockTag::Relation(rel), mode, w, policy, false)
    }

    /// Takes a lock for backend `w.pid`: at transaction level (released by
    /// `release_all`) or, with `session`, until `unlock`/`release_session`.
    /// Returns false (without waiting) under NoWait when it is not free.
    pub fn lock(
        &self,
        tag: LockTag,
        mode: TableLockMode,
        w: &WaitCtx<'_>,
        policy: WaitPolicy,
        session: bool,
    ) -> Result<bool> {
        let start = Instant::now();
        let mut checked = false;
        let mut g = self.state.lock();
        loop {
            let blockers: Vec<Pid> = g
                .locks
                .get(&tag)
                .map(|hs| {
                    let mut v: Vec<Pid> = hs
                        .iter()
                        .filter(|h| h.pid != w.pid && mode.conflicts(h.mode))
                        .map(|h| h.pid)
                        .collect();
                    v.dedup();
                    v
                })
                .unwrap_or_default();
            if blockers.is_empty() {
                g.waits.remove(&w.pid);
                let hs = g.locks.entry(tag).or_default();
                let h = match hs.iter_mut().position(|h| h.pid == w.pid && h.mode == mode) {
                    Some(i) => &mut hs[i],
                    None => {
                        hs.push(Holder {
                            pid: w.pid,
                            mode,
                            xact: 0,
                            session: 0,
                        });
                        hs.last_mut().expect("pushed")
                    }
                };
                if session {
                    h.session += 1;
                } else {
                    h.xact += 1;
                }
                g.held_by.entry(w.pid).or_default().insert(tag);
                return Ok(true);
            }
            if policy != WaitPolicy::Block {
                return Ok(false);
            }
            let since = g.waits.get(&w.pid).map(|x| x.since).unwrap_or(start);
            g.waits.insert(
                w.pid,
                Waiting {
                    target: WaitTarget::Lock(tag, mode),
                    on: blockers,
                    since,
                },
            );
            if let Err(e) = self.check_wait(&g, w, start, &mut checked) {
                g.waits.remove(&w.pid);
                return Err(e);
            }
            let step = next_step(w, start, checked);
            self.released.wait_for(&mut g, step);
        }
    }

    /// Drops holds of `pid` that `keep` says to drop; wakes waiters.
    fn release_where(&self, pid: Pid, mut change: impl FnMut(&LockTag, &mut Holder)) {
        let mut g = self.state.lock();
        let Some(tags) = g.held_by.remove(&pid) else {
            return;
        };
        let mut still = HashSet::new();
        for tag in tags {
            if let Some(hs) = g.locks.get_mut(&tag) {
                for h in hs.iter_mut().filter(|h| h.pid == pid) {
                    change(&tag, h);
                }
                hs.retain(|h| h.xact > 0 || h.session > 0);
                if hs.iter().any(|h| h.pid == pid) {
                    still.insert(tag);
                }
                if hs.is_empty() {
                    g.locks.remove(&tag);
                }
            }
        }
        if !still.is_empty() {
            g.held_by.insert(pid, still);
        }
        drop(g);
        self.released.notify_all();
    }

    /// Releases the transaction-level locks of backend `pid` (its
    /// transaction ended); session-level advisory locks stay.
    pub fn release_all(&self, pid: Pid) {
        self.release_where(pid, |_, h| h.xact = 0);
    }

    /// Releases everything backend `pid` holds (the session ended).
    pub fn release_session(&self, pid: Pid) {
        self.release_where(pid, |_, h| {
            h.xact = 0;
            h.session = 0;
        });
    }

    /// pg_advisory_unlock_all: the session-level advisory locks of `pid`.
    pub fn unlock_all_session(&self, pid: Pid) {
        self.release_where(pid, |tag, h| {
            if matches!(tag, LockTag::Advisory { .. }) {
                h.session = 0;
            }
        });
    }

    /// Drops one session-level hold of `tag` in `mode`; false if there was none.
    pub fn unlock_session(&self, pid: Pid, tag: LockTag, mode: TableLockMode) -> bool {
        let mut found = false;
        self.release_where(pid, |t, h| {
            if !found && *t == tag && h.mode == mode && h.session > 0 {
                h.session -= 1;
                found = true;
            }
        });
        found
    }

    /// Raises errors for an interrupted, timed-out or deadlocked wait.
    fn check_wait(
        &self,
        g: &State,
        w: &WaitCtx<'_>,
        start: Instant,
        checked: &mut bool,
    ) -> Result<()> {
        if w.interrupt.load(Ordering::Relaxed) {
            return Err(StorageError::Cancelled);
        }
        let waited = start.elapsed();
        if w.lock_timeout.is_some_and(|t| waited >= t) {
            return Err(StorageError::LockTimeout);
        }
        if !*checked && waited >= w.deadlock_timeout {
            *checked = true;
            if let Some(cycle) = find_cycle(g, w.pid) {
                let detail = describe_cycle(g, &cycle);
                tracing::warn!(pid = w.pid, %detail, "deadlock detected; this backend gives up");
                return Err(StorageError::Deadlock(detail));
            }
        }
        Ok(())
    }

    /// Records that `w.pid` waits for `xid` (owned by `owner`).
    pub fn begin_xid_wait(&self, w: &WaitCtx<'_>, xid: Xid, owner: Pid) {
        self.state.lock().waits.insert(
            w.pid,
            Waiting {
                target: WaitTarget::Xid(xid),
                on: vec![owner],
                since: Instant::now(),
            },
        );
    }

    pub fn end_wait(&self, pid: Pid) {
        self.state.lock().waits.remove(&pid);
    }

    /// Called while waiting for an xid: interrupt, lock timeout, deadlock.
    pub fn check_xid_wait(
        &self,
        w: &WaitCtx<'_>,
        start: Instant,
        checked: &mut bool,
    ) -> Result<()> {
        let g = self.state.lock();
        self.check_wait(&g, w, start, checked)
    }

    /// What backend `pid` waits for, if anything.
    pub fn waiting(&self, pid: Pid) -> Option<Waiting> {
        self.state.lock().waits.get(&pid).cloned()
    }

    /// Shared row locks on a tuple held by others than `own`, that conflict
    /// with `mode`: the first such holder's xid.
    pub fn row_conflict(&self, rel: RelId, tid: Tid, mode: RowMode, own: &[Xid]) -> Option<Xid> {
        // Shared locks are added under the page latch the caller holds, so
        // one added before it took the latch is counted here.
        if self.row_locks.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let g = self.state.lock();
        g.rows.get(&(rel, tid)).and_then(|hs| {
            hs.iter()
                .find(|(x, m)| own.binary_search(x).is_err() && mode.conflicts(*m))
                .map(|(x, _)| *x)
        })
    }

    /// Records a shared row lock of `xid` (caller holds the page latch).
    pub fn add_row_lock(&self, rel: RelId, tid: Tid, xid: Xid, mode: RowMode) {
        let mut g = self.state.lock();
        let hs = g.rows.entry((rel, tid)).or_default();
        if let Some(h) = hs.iter_mut().find(|(x, _)| *x == xid) {
            h.1 = h.1.max(mode);
            return;
        }
        hs.push((xid, mode));
        g.rows_by_xid.entry(xid).or_default().push((rel, tid));
        self.row_locks.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops the shared row locks of these xids (they ended).
    pub fn release_rows(&self, xids: &[Xid]) {
        // Only this transaction's own backend adds its row locks, so none
        // can appear for these xids while we look.
        if self.row_locks.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut g = self.state.lock();
        if g.rows_by_xid.is_empty() {
            return;
        }
        for x in xids {
            let Some(keys) = g.rows_by_xid.remove(x) else {
                continue;
            };
            self.row_locks.fetch_sub(keys.len(), Ordering::SeqCst);
            for k in keys {
                if let Some(hs) = g.rows.get_mut(&k) {
                    hs.retain(|(h, _)| h != x);
                    if hs.is_empty() {
                        g.rows.remove(&k);
                    }
                }
            }
        }
    }

    /// Every table lock held or awaited (pg_locks).
    pub fn table_locks(&self) -> Vec<LockInfo> {
        let g = self.state.lock();
        let mut out = Vec::new();
        for (tag, hs) in &g.locks {
            for h in hs {
                out.push(LockInfo {
                    pid: h.pid,
                    tag: Some(*tag),
                    xid: None,
                    mode: h.mode.name(),
                    granted: true,
                    wait_start: None,
                });
            }
        }
        for (pid, w) in &g.waits {
            match w.target {
                WaitTarget::Lock(tag, mode) => out.push(LockInfo {
                    pid: *pid,
                    tag: Some(tag),
                    xid: None,
                    mode: mode.name(),
                    granted: false,
                    wait_start: Some(w.since),
                }),
                WaitTarget::Xid(x) => out.push(LockInfo {
                    pid: *pid,
                    tag: None,
                    xid: Some(x),
                    mode: "ShareLock",
                    granted: false,
                    wait_start: Some(w.since),
                }),
            }
        }
        out
    }
}

/// How long to sleep before the next check of a wait.
fn next_step(w: &WaitCtx<'_>, start: Instant, checked: bool) -> Duration {
    let waited = start.elapsed();
    let mut step = WAIT_STEP;
    if !checked {
        step = step.min(w.deadlock_timeout.saturating_sub(waited));
    }
    if let Some(t) = w.lock_timeout {
        step = step.min(t.saturating_sub(waited));
    }
    step.max(Duration::from_millis(1))
}

/// "Process A waits for ShareLock on transaction 7; blocked by process B."
/// for each backend on the cycle.
fn describe_cycle(g: &State, cycle: &[Pid]) -> String {
    let mut lines = Vec::new();
    for (i, p) in cycle.iter().enumerate() {
        let next = cycle[(i + 1) % cycle.len()];
        let what = match g.waits.get(p).map(|w| &w.target) {
            Some(WaitTarget::Xid(x)) => format!("ShareLock on transaction {x}"),
            Some(WaitTarget::Lock(LockTag::Relation(r), m)) => {
                format!("{} on relation {r} of database 5", m.name())
            }
            Some(WaitTarget::Lock(LockTag::Advisory { key, pair }, m)) => format!(
                "{} on advisory lock [5,{},{},{}]",
                m.name(),
                key >> 32,
                key & 0xffff_ffff,
                if *pair { 2 } else { 1 }
            ),
            None => "a lock".to_string(),
        };
        lines.push(format!(
            "Process {p} waits for {what}; blocked by process {next}."
        ));
    }
    lines.join("\n")
}

/// A cycle in the waits-for graph through `me`: the backends on it.
fn find_cycle(g: &State, me: Pid) -> Option<Vec<Pid>> {
    let mut stack: Vec<(Pid, Vec<Pid>)> = vec![(me, vec![me])];
    let mut seen = HashSet::new();
    while let Some((p, path)) = stack.pop() {
        let Some(w) = g.waits.get(&p) else { continue };
        for &q in &w.on {
            if q == me {
                return Some(path);
            }
            if seen.insert(q) {
                let mut np = path.clone();
                np.push(q);
                stack.push((q, np));
            }
        }
    }
    None
}

/// Waits for `xid` to end, as backend `w.pid`, recording the wait.
pub(crate) fn wait_xid(
    lm: &LockManager,
    txns: &crate::txn::TxnManager,
    xid: Xid,
    w: &WaitCtx<'_>,
) -> Result<()> {
    let Some(owner) = txns.owner(xid) else {
        return Ok(());
    };
    let start = Instant::now();
    let mut checked = false;
    lm.begin_xid_wait(w, xid, owner);
    let res = loop {
        if let Err(e) = lm.check_xid_wait(w, start, &mut checked) {
            break Err(e);
        }
        if txns.wait_end(xid, next_step(w, start, checked)) {
            break Ok(());
        }
    };
    lm.end_wait(w.pid);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_table_is_symmetric() {
        use TableLockMode::*;
        let all = [
            AccessShare,
            RowShare,
            RowExclusive,
            ShareUpdateExclusive,
            Share,
            ShareRowExclusive,
            Exclusive,
            AccessExclusive,
        ];
        for a in all {
            for b in all {
                assert_eq!(a.conflicts(b), b.conflicts(a), "{a:?} {b:?}");
            }
        }
        assert!(!RowExclusive.conflicts(RowExclusive));
        assert!(Share.conflicts(RowExclusive));
        assert!(!AccessShare.conflicts(Exclusive));
        let rows = [
            RowMode::KeyShare,
            RowMode::Share,
            RowMode::NoKeyUpdate,
            RowMode::Update,
        ];
        for a in rows {
            for b in rows {
                assert_eq!(a.conflicts(b), b.conflicts(a));
            }
        }
        assert!(!RowMode::KeyShare.conflicts(RowMode::NoKeyUpdate));
        assert!(RowMode::Share.conflicts(RowMode::NoKeyUpdate));
    }

    #[test]
    fn deadlock_between_two_table_waiters_is_found() {
        let lm = std::sync::Arc::new(LockManager::new());
        let stop = AtomicBool::new(false);
        let w = |pid| WaitCtx {
            pid,
            interrupt: &stop,
            lock_timeout: None,
            deadlock_timeout: Duration::from_millis(50),
        };
        lm.lock_table(1, TableLockMode::AccessExclusive, &w(10), WaitPolicy::Block)
            .unwrap();
        lm.lock_table(2, TableLockMode::AccessExclusive, &w(20), WaitPolicy::Block)
            .unwrap();
        let lm2 = lm.clone();
        let t = std::thread::spawn(move || {
            let stop = AtomicBool::new(false);
            let w = WaitCtx {
                pid: 20,
                interrupt: &stop,
                lock_timeout: None,
                deadlock_timeout: Duration::from_secs(30),
            };
            let r = lm2.lock_table(1, TableLockMode::AccessShare, &w, WaitPolicy::Block);
            lm2.release_all(20);
            r
        });
        std::thread::sleep(Duration::from_millis(30));
        let r = lm.lock_table(2, TableLockMode::AccessShare, &w(10), WaitPolicy::Block);
        assert!(matches!(r, Err(StorageError::Deadlock(_))), "{r:?}");
        lm.release_all(10);
        assert!(t.join().unwrap().is_ok());
    }
}
