//! Transaction ids, the set of running transactions, and snapshots.
//! Transaction ids are 64-bit and never wrap. A snapshot sees a transaction's
//! changes iff it committed before the snapshot was taken: `xid < xmax`, not in
//! `running`, and committed in the clog. Commit order: WAL record, (flush),
//! clog, then removal from the running set, so no snapshot can see a
//! transaction as finished before the clog says how it finished.

use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub type Xid = u64;
pub const INVALID_XID: Xid = 0;
pub const FIRST_XID: Xid = 3;

#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The transaction taking the snapshot (INVALID_XID if it has none yet).
    pub xid: Xid,
    /// Every xid whose changes are this transaction's own: the top-level xid
    /// and its live subtransactions' (sorted; empty without an xid).
    pub own: Arc<Vec<Xid>>,
    /// Command id within that transaction: its changes made by earlier
    /// commands are visible, those of this command and later are not.
    pub cid: u32,
    pub xmin: Xid,
    pub xmax: Xid,
    pub running: Arc<Vec<Xid>>,
    /// Keeps `xmin` in the set of live snapshots' xmins while any clone of
    /// this snapshot exists (see `TxnManager::horizon`).
    _reg: Arc<SnapReg>,
}

type Xmins = Arc<Mutex<BTreeMap<Xid, usize>>>;

#[derive(Debug)]
struct SnapReg {
    xmins: Xmins,
    xmin: Xid,
}

impl Drop for SnapReg {
    fn drop(&mut self) {
        let mut m = self.xmins.lock();
        if let Some(n) = m.get_mut(&self.xmin) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.xmin);
            }
        }
    }
}

impl Snapshot {
    /// True when `xid` is this transaction's (top level or a live subtransaction).
    pub fn is_own(&self, xid: Xid) -> bool {
        xid != INVALID_XID && self.own.binary_search(&xid).is_ok()
    }

    /// True when `xid` had ended before this snapshot (committed or not).
    pub fn ended_before(&self, xid: Xid) -> bool {
        if xid >= self.xmax {
            return false;
        }
        if xid < self.xmin {
            return true;
        }
        self.running.binary_search(&xid).is_err()
    }
}

/// A backend (connection) id: owner of transactions and locks.
pub type Pid = i32;

struct Inner {
    next_xid: Xid,
    /// Running xids (top level and subtransactions) and their backends.
    running: BTreeMap<Xid, Pid>,
}

pub struct TxnManager {
    inner: Mutex<Inner>,
    /// xmin of every live snapshot, with counts (lock order: inner, then this).
    xmins: Xmins,
    ended: Condvar,
}

impl TxnManager {
    pub fn new(next_xid: Xid) -> TxnManager {
        TxnManager {
            inner: Mutex::new(Inner {
                next_xid: next_xid.max(FIRST_XID),
                running: BTreeMap::new(),
            }),
            ended: Condvar::new(),
            xmins: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// A new xid, running, owned by backend `pid` (a top-level transaction
    /// or a subtransaction: both stay running until they end).
    pub fn assign(&self, pid: Pid) -> Xid {
        let mut g = self.inner.lock();
        let x = g.next_xid;
        g.next_xid += 1;
        g.running.insert(x, pid);
        x
    }

    /// The backend running `xid`, if it is running.
    pub fn owner(&self, xid: Xid) -> Option<Pid> {
        self.inner.lock().running.get(&xid).copied()
    }

    /// Every running xid with its backend (pg_locks).
    pub fn running_xids(&self) -> Vec<(Xid, Pid)> {
        self.inner
            .lock()
            .running
            .iter()
            .map(|(x, p)| (*x, *p))
            .collect()
    }

    pub fn next_xid(&self) -> Xid {
        self.inner.lock().next_xid
    }

    /// Ends these xids together (a transaction and its subtransactions).
    pub fn end(&self, xids: &[Xid]) {
        let mut g = self.inner.lock();
        for x in xids {
            g.running.remove(x);
        }
        drop(g);
        self.ended.notify_all();
    }

    pub fn is_running(&self, xid: Xid) -> bool {
        self.inner.lock().running.contains_key(&xid)
    }

    pub fn snapshot(&self, xid: Xid, cid: u32) -> Snapshot {
        let own = if xid == INVALID_XID {
            vec![]
        } else {
            vec![xid]
        };
        self.snapshot_own(Arc::new(own), cid)
    }

    /// A snapshot for a transaction whose own xids are `own` (sorted).
    pub fn snapshot_own(&self, own: Arc<Vec<Xid>>, cid: u32) -> Snapshot {
        let xid = own.first().copied().unwrap_or(INVALID_XID);
        let g = self.inner.lock();
        let running: Vec<Xid> = g
            .running
            .keys()
            .copied()
            .filter(|x| own.binary_search(x).is_err())
            .collect();
        let xmin = running
            .first()
            .copied()
            .unwrap_or(g.next_xid)
            .min(if xid != INVALID_XID { xid } else { Xid::MAX });
        *self.xmins.lock().entry(xmin).or_insert(0) += 1;
        Snapshot {
            xid,
            own,
            cid,
            xmin,
            xmax: g.next_xid,
            running: Arc::new(running),
            _reg: Arc::new(SnapReg {
                xmins: self.xmins.clone(),
                xmin,
            }),
        }
    }

    /// Every transaction below this id has ended, and no live snapshot
    /// considers any of them running: a row version whose deleter committed
    /// below it is invisible to every snapshot, now and later.
    pub fn horizon(&self) -> Xid {
        let g = self.inner.lock();
        let run = g.running.keys().next().copied().unwrap_or(g.next_xid);
        let snap = self
            .xmins
            .lock()
            .keys()
            .next()
            .copied()
            .unwrap_or(g.next_xid);
        run.min(snap)
    }

    /// Oldest transaction id any running transaction may still need.
    pub fn oldest_running(&self) -> Xid {
        let g = self.inner.lock();
        g.running.keys().next().copied().unwrap_or(g.next_xid)
    }

    /// Blocks until `xid` has ended or `timeout` passed; true if it ended.
    pub fn wait_end(&self, xid: Xid, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut g = self.inner.lock();
        while g.running.contains_key(&xid) {
            if self.ended.wait_until(&mut g, deadline).timed_out() {
                return !g.running.contains_key(&xid);
            }
        }
        true
    }

    pub fn running_count(&self) -> usize {
        self.inner.lock().running.len()
    }
}
