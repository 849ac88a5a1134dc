//! Transaction ids, the set of running transactions, and snapshots.
//! Transaction ids are 64-bit and never wrap. A snapshot sees a transaction's
//! changes iff it committed before the snapshot was taken: `xid < xmax`, not in
//! `running`, and committed in the clog. Commit order: WAL record, (flush),
//! clog, then removal from the running set, so no snapshot can see a
//! transaction as finished before the clog says how it finished.

use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub type Xid = u64;
pub const INVALID_XID: Xid = 0;
pub const FIRST_XID: Xid = 3;

#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The transaction taking the snapshot (INVALID_XID if it has none yet).
    pub xid: Xid,
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

struct Inner {
    next_xid: Xid,
    running: BTreeSet<Xid>,
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
                running: BTreeSet::new(),
            }),
            ended: Condvar::new(),
            xmins: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    pub fn assign(&self) -> Xid {
        let mut g = self.inner.lock();
        let x = g.next_xid;
        g.next_xid += 1;
        g.running.insert(x);
        x
    }

    pub fn next_xid(&self) -> Xid {
        self.inner.lock().next_xid
    }

    pub fn end(&self, xid: Xid) {
        let mut g = self.inner.lock();
        g.running.remove(&xid);
        drop(g);
        self.ended.notify_all();
    }

    pub fn is_running(&self, xid: Xid) -> bool {
        self.inner.lock().running.contains(&xid)
    }

    pub fn snapshot(&self, xid: Xid, cid: u32) -> Snapshot {
        let g = self.inner.lock();
        let running: Vec<Xid> = g.running.iter().copied().filter(|&x| x != xid).collect();
        let xmin = running
            .first()
            .copied()
            .unwrap_or(g.next_xid)
            .min(if xid != INVALID_XID { xid } else { Xid::MAX });
        *self.xmins.lock().entry(xmin).or_insert(0) += 1;
        Snapshot {
            xid,
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
        let run = g.running.first().copied().unwrap_or(g.next_xid);
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
        g.running.first().copied().unwrap_or(g.next_xid)
    }

    /// Blocks until `xid` has ended. Returns false if `cancel` was raised.
    pub fn wait_for(&self, xid: Xid, cancel: Option<&AtomicBool>) -> bool {
        let mut g = self.inner.lock();
        while g.running.contains(&xid) {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return false;
            }
            self.ended.wait_for(&mut g, Duration::from_millis(50));
        }
        true
    }

    pub fn running_count(&self) -> usize {
        self.inner.lock().running.len()
    }
}
