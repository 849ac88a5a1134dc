//! SAVEPOINT, RELEASE and ROLLBACK TO: savepoints are subtransactions. A
//! level gets its own xid at its first write; RELEASE makes its changes
//! its parent's (its xid commits with the top level), ROLLBACK TO aborts
//! the xids of every level from the savepoint in, which also releases the
//! row locks they took, and drops relations created since.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use crate::txn::Savepoint;
use basalt_storage::Xid;
use std::sync::Arc;

impl Session {
    /// SAVEPOINT name.
    pub(crate) fn savepoint(&mut self, name: &str) -> Result<ExecResult> {
        if !self.in_transaction_block() {
            return Err(ExecError::NoActiveSqlTransaction(
                "SAVEPOINT can only be used in transaction blocks".into(),
            ));
        }
        let t = self.txn.as_mut().expect("in a block");
        t.savepoints.push(Savepoint {
            name: name.to_string(),
            xid: None,
            drop_on_commit: t.drop_on_commit.len(),
            drop_on_abort: t.drop_on_abort.len(),
            notify_mark: t.notify.mark(),
        });
        Ok(ExecResult {
            tag: "SAVEPOINT".into(),
            ..Default::default()
        })
    }

    fn find_savepoint(&self, name: &str, what: &str) -> Result<usize> {
        let Some(t) = self.txn.as_ref().filter(|t| t.explicit) else {
            return Err(ExecError::NoActiveSqlTransaction(format!(
                "{what} can only be used in transaction blocks"
            )));
        };
        t.savepoints
            .iter()
            .rposition(|s| s.name == name)
            .ok_or_else(|| {
                ExecError::NoSuchSavepoint(format!("savepoint \"{name}\" does not exist"))
            })
    }

    /// RELEASE [SAVEPOINT] name: its changes become its parent's.
    pub(crate) fn release_savepoint(&mut self, name: &str) -> Result<ExecResult> {
        let i = self.find_savepoint(name, "RELEASE SAVEPOINT")?;
        let t = self.txn.as_mut().expect("in a block");
        t.savepoints.truncate(i);
        Ok(ExecResult {
            tag: "RELEASE".into(),
            ..Default::default()
        })
    }

    /// ROLLBACK TO [SAVEPOINT] name: undoes everything since the savepoint
    /// (its subtransactions abort) and leaves the savepoint in place. Also
    /// ends an aborted state.
    pub(crate) fn rollback_to_savepoint(&mut self, name: &str) -> Result<ExecResult> {
        let i = self.find_savepoint(name, "ROLLBACK TO SAVEPOINT")?;
        let st = self.db.st.clone();
        let t = self.txn.as_mut().expect("in a block");
        let gone: Vec<Xid> = t.savepoints[i..].iter().filter_map(|s| s.xid).collect();
        if !gone.is_empty() {
            let _ = st.abort(&gone);
            let own = Arc::make_mut(&mut t.own);
            own.retain(|x| !gone.contains(x));
        }
        let (dc, da) = (
            t.savepoints[i].drop_on_commit,
            t.savepoints[i].drop_on_abort,
        );
        t.drop_on_commit.truncate(dc);
        let mark = t.savepoints[i].notify_mark;
        t.notify.truncate(mark);
        for r in t.drop_on_abort.split_off(da) {
            let _ = st.drop_relation(r);
        }
        t.savepoints.truncate(i + 1);
        t.savepoints[i].xid = None;
        t.aborted = false;
        if t.ddl {
            self.db.catalog.invalidate();
        }
        Ok(ExecResult {
            tag: "ROLLBACK".into(),
            ..Default::default()
        })
    }
}
