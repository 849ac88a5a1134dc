//! Serializable snapshot isolation (SSI), after Cahill et al. and
//! PostgreSQL's predicate.c: SERIALIZABLE transactions run on a snapshot as
//! REPEATABLE READ does, and additionally record what they read (SIREAD
//! locks: whole relations for sequential scans, index key ranges and tuples
//! for index scans). A read/write antidependency R →rw W is recorded when R
//! reads something a concurrent W writes, found from either side: W writes a
//! tuple, relation or index key R has read, or R meets a version W wrote
//! that its snapshot does not see. A transaction is aborted (40001) when it
//! would complete a dangerous structure T1 →rw T2 →rw T3 in which T3 commits
//! first: every non-serializable execution contains one.
//!
//! Only serializable transactions take part, as in PostgreSQL. Committed
//! transactions are kept until no transaction that overlapped them runs.

use crate::btree::KeyRange;
use crate::error::{Result, StorageError};
use crate::heap::Tid;
use crate::smgr::RelId;
use crate::txn::Xid;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};

/// A serializable transaction's id in the SSI graph.
pub type Sid = u64;

#[derive(Default)]
struct SerTxn {
    start: u64,
    commit: Option<u64>,
    ins: HashSet<Sid>,
    outs: HashSet<Sid>,
    doomed: bool,
    xids: Vec<Xid>,
    rels: Vec<RelId>,
    tuples: Vec<(RelId, Tid)>,
    ranges: Vec<RelId>,
}

#[derive(Default)]
struct State {
    seq: u64,
    next_sid: Sid,
    txns: HashMap<Sid, SerTxn>,
    by_xid: HashMap<Xid, Sid>,
    rel_readers: HashMap<RelId, HashSet<Sid>>,
    tuple_readers: HashMap<(RelId, Tid), HashSet<Sid>>,
    /// Index → (reader, key range read).
    range_readers: HashMap<RelId, Vec<(Sid, KeyRange)>>,
}

#[derive(Default)]
pub struct Ssi {
    state: Mutex<State>,
}

impl State {
    fn concurrent(&self, a: Sid, b: Sid) -> bool {
        let (Some(x), Some(y)) = (self.txns.get(&a), self.txns.get(&b)) else {
            return false;
        };
        x.commit.is_none_or(|c| c > y.start) && y.commit.is_none_or(|c| c > x.start)
    }

    /// Records R →rw W and looks for a dangerous structure through it.
    /// Returns the transaction to abort, if one must be.
    fn add_edge(&mut self, r: Sid, w: Sid, me: Sid) -> Option<Sid> {
        if r == w || !self.concurrent(r, w) {
            return None;
        }
        let new = self.txns.get_mut(&r)?.outs.insert(w);
        self.txns.get_mut(&w)?.ins.insert(r);
        if !new {
            return None;
        }
        // W as the pivot: R →rw W →rw T3.
        let outs: Vec<Sid> = self.txns[&w].outs.iter().copied().collect();
        for t3 in outs {
            if self.dangerous(r, w, t3) {
                return Some(self.victim(r, w, me));
            }
        }
        // R as the pivot: T1 →rw R →rw W.
        let ins: Vec<Sid> = self.txns[&r].ins.iter().copied().collect();
        for t1 in ins {
            if self.dangerous(t1, r, w) {
                return Some(self.victim(t1, r, me));
            }
        }
        None
    }

    /// T1 →rw T2 →rw T3 is dangerous when T3 committed before T2 and T1
    /// (T1 may be T3 itself: a simple write skew cycle).
    fn dangerous(&self, t1: Sid, t2: Sid, t3: Sid) -> bool {
        let c = |s: Sid| self.txns.get(&s).and_then(|t| t.commit);
        let Some(c3) = c(t3) else { return false };
        if t2 == t3 {
            return false;
        }
        c(t2).is_none_or(|c2| c2 > c3) && (t1 == t3 || c(t1).is_none_or(|c1| c1 > c3))
    }

    /// Which of T1, T2 to abort: the caller when it is one of them (it can be
    /// told now), else the pivot if it has not committed, else T1.
    fn victim(&mut self, t1: Sid, t2: Sid, me: Sid) -> Sid {
        let live = |s: Sid, st: &State| st.txns.get(&s).is_some_and(|t| t.commit.is_none());
        let v = if (me == t1 || me == t2) && live(me, self) {
            me
        } else if live(t2, self) {
            t2
        } else {
            t1
        };
        if let Some(t) = self.txns.get_mut(&v) {
            t.doomed = true;
        }
        v
    }

    fn remove(&mut self, sid: Sid) {
        let Some(t) = self.txns.remove(&sid) else {
            return;
        };
        for x in &t.xids {
            self.by_xid.remove(x);
        }
        for r in &t.rels {
            if let Some(s) = self.rel_readers.get_mut(r) {
                s.remove(&sid);
                if s.is_empty() {
                    self.rel_readers.remove(r);
                }
            }
        }
        for k in &t.tuples {
            if let Some(s) = self.tuple_readers.get_mut(k) {
                s.remove(&sid);
                if s.is_empty() {
                    self.tuple_readers.remove(k);
                }
            }
        }
        for ix in &t.ranges {
            if let Some(v) = self.range_readers.get_mut(ix) {
                v.retain(|(s, _)| *s != sid);
                if v.is_empty() {
                    self.range_readers.remove(ix);
                }
            }
        }
        for o in t.outs.iter().chain(t.ins.iter()) {
            if let Some(x) = self.txns.get_mut(o) {
                x.ins.remove(&sid);
                x.outs.remove(&sid);
            }
        }
    }

    fn result(&self, victim: Option<Sid>, me: Sid) -> Result<()> {
        match victim {
            Some(v) if v == me => Err(StorageError::SerializationRw),
            _ => Ok(()),
        }
    }
}

impl Ssi {
    pub fn new() -> Ssi {
        Ssi::default()
    }

    /// Registers a serializable transaction as its snapshot is taken.
    pub fn begin(&self) -> Sid {
        let mut g = self.state.lock();
        g.next_sid += 1;
        let sid = g.next_sid;
        let start = g.seq;
        g.txns.insert(
            sid,
            SerTxn {
                start,
                ..Default::default()
            },
        );
        sid
    }

    /// An xid (top level or subtransaction) of `sid` was assigned.
    pub fn add_xid(&self, sid: Sid, xid: Xid) {
        let mut g = self.state.lock();
        if let Some(t) = g.txns.get_mut(&sid) {
            t.xids.push(xid);
            g.by_xid.insert(xid, sid);
        }
    }

    fn check_doomed(g: &State, sid: Sid) -> Result<()> {
        if g.txns.get(&sid).is_some_and(|t| t.doomed) {
            return Err(StorageError::SerializationRw);
        }
        Ok(())
    }

    /// A sequential scan read all of `rel`.
    pub fn read_rel(&self, sid: Sid, rel: RelId) -> Result<()> {
        let mut g = self.state.lock();
        Self::check_doomed(&g, sid)?;
        if g.rel_readers.entry(rel).or_default().insert(sid) {
            if let Some(t) = g.txns.get_mut(&sid) {
                t.rels.push(rel);
            }
        }
        Ok(())
    }

    /// An index scan read the keys of `index` in `range`.
    pub fn read_range(&self, sid: Sid, index: RelId, range: KeyRange) -> Result<()> {
        let mut g = self.state.lock();
        Self::check_doomed(&g, sid)?;
        g.range_readers.entry(index).or_default().push((sid, range));
        if let Some(t) = g.txns.get_mut(&sid) {
            t.ranges.push(index);
        }
        Ok(())
    }

    /// An index scan read these tuples.
    pub fn read_tuples(&self, sid: Sid, rel: RelId, tids: &[Tid]) {
        let mut g = self.state.lock();
        for &tid in tids {
            if g.tuple_readers.entry((rel, tid)).or_default().insert(sid) {
                if let Some(t) = g.txns.get_mut(&sid) {
                    t.tuples.push((rel, tid));
                }
            }
        }
    }

    /// Reader `sid` met versions written by these xids that its snapshot
    /// does not see (a newer version, or a deletion): sid →rw writer.
    pub fn conflict_out(&self, sid: Sid, writers: &[Xid]) -> Result<()> {
        let mut g = self.state.lock();
        Self::check_doomed(&g, sid)?;
        for x in writers {
            if let Some(&w) = g.by_xid.get(x) {
                let v = g.add_edge(sid, w, sid);
                g.result(v, sid)?;
            }
        }
        Ok(())
    }

    /// Writer `sid` changed or deleted the tuple `tid` of `rel`, or inserted
    /// into `rel` (tid None): every concurrent reader of it →rw sid.
    pub fn conflict_in(&self, sid: Sid, rel: RelId, tid: Option<Tid>) -> Result<()> {
        let mut g = self.state.lock();
        Self::check_doomed(&g, sid)?;
        let mut readers: Vec<Sid> = g
            .rel_readers
            .get(&rel)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        if let Some(tid) = tid {
            if let Some(s) = g.tuple_readers.get(&(rel, tid)) {
                readers.extend(s.iter().copied());
            }
        }
        for r in readers {
            let v = g.add_edge(r, sid, sid);
            g.result(v, sid)?;
        }
        Ok(())
    }

    /// Writer `sid` inserted `key` into `index`: readers of a range holding it →rw sid.
    pub fn conflict_in_key(&self, sid: Sid, index: RelId, key: &[u8]) -> Result<()> {
        let mut g = self.state.lock();
        let readers: Vec<Sid> = match g.range_readers.get(&index) {
            None => return Ok(()),
            Some(v) => v
                .iter()
                .filter(|(_, r)| r.contains(key))
                .map(|(s, _)| *s)
                .collect(),
        };
        for r in readers {
            let v = g.add_edge(r, sid, sid);
            g.result(v, sid)?;
        }
        Ok(())
    }

    /// Before commit: fails if committing would complete a dangerous
    /// structure with this transaction as the pivot; else takes a commit
    /// sequence number.
    pub fn pre_commit(&self, sid: Sid) -> Result<()> {
        let mut g = self.state.lock();
        Self::check_doomed(&g, sid)?;
        let Some(t) = g.txns.get(&sid) else {
            return Ok(());
        };
        for &t3 in &t.outs {
            for &t1 in &t.ins {
                if g.dangerous(t1, sid, t3) {
                    return Err(StorageError::SerializationRw);
                }
            }
        }
        // As T1 of a committed pivot whose out-conflict committed first.
        for &t2 in &t.outs {
            let Some(p) = g.txns.get(&t2) else { continue };
            if p.commit.is_some() {
                for &t3 in &p.outs {
                    if t3 != sid && g.dangerous(sid, t2, t3) {
                        return Err(StorageError::SerializationRw);
                    }
                }
            }
        }
        g.seq += 1;
        let c = g.seq;
        if let Some(t) = g.txns.get_mut(&sid) {
            t.commit = Some(c);
        }
        Ok(())
    }

    /// The transaction ended: an aborted one leaves the graph at once, a
    /// committed one once no transaction that overlapped it is running.
    pub fn end(&self, sid: Sid, committed: bool) {
        let mut g = self.state.lock();
        if !committed || g.txns.get(&sid).is_some_and(|t| t.commit.is_none()) {
            g.remove(sid);
        }
        let oldest_active = g
            .txns
            .values()
            .filter(|t| t.commit.is_none())
            .map(|t| t.start)
            .min();
        let done: Vec<Sid> = g
            .txns
            .iter()
            .filter(|(_, t)| {
                t.commit
                    .is_some_and(|c| oldest_active.is_none_or(|a| c <= a))
            })
            .map(|(s, _)| *s)
            .collect();
        for s in done {
            g.remove(s);
        }
    }

    /// Serializable transactions currently tracked (for tests and views).
    pub fn tracked(&self) -> usize {
        self.state.lock().txns.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_skew_is_refused() {
        // T1 and T2 both read relation 1 and then each writes a row of it.
        let s = Ssi::new();
        let t1 = s.begin();
        let t2 = s.begin();
        s.add_xid(t1, 100);
        s.add_xid(t2, 101);
        s.read_rel(t1, 1).unwrap();
        s.read_rel(t2, 1).unwrap();
        s.conflict_in(t1, 1, None).unwrap(); // t2 →rw t1
        s.conflict_in(t2, 1, None).unwrap(); // t1 →rw t2
        s.pre_commit(t1).unwrap();
        s.end(t1, true);
        assert!(matches!(
            s.pre_commit(t2),
            Err(StorageError::SerializationRw)
        ));
        s.end(t2, false);
        assert_eq!(s.tracked(), 0);
    }

    #[test]
    fn serial_transactions_do_not_conflict() {
        let s = Ssi::new();
        let t1 = s.begin();
        s.read_rel(t1, 1).unwrap();
        s.conflict_in(t1, 1, None).unwrap();
        s.pre_commit(t1).unwrap();
        s.end(t1, true);
        let t2 = s.begin();
        s.read_rel(t2, 1).unwrap();
        s.conflict_in(t2, 1, None).unwrap();
        s.pre_commit(t2).unwrap();
        s.end(t2, true);
        assert_eq!(s.tracked(), 0);
    }
}
