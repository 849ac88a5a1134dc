//! LISTEN, UNLISTEN and NOTIFY (and pg_notify). As in PostgreSQL they are
//! transactional: a transaction's LISTEN/UNLISTEN take effect and its
//! notifications are sent when it commits, in the order they were made,
//! duplicates (same channel and payload) folded into one; a rollback (or a
//! ROLLBACK TO past them) forgets them. Committed notifications go to the
//! queue of every backend of the same database listening on the channel;
//! the server delivers a backend's queue between transactions.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use parking_lot::Mutex;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};

/// PostgreSQL's limit (NAMEDATALEN - 1) for channel names.
const MAX_CHANNEL: usize = 63;
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7999;

/// A notification as the client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The notifying backend.
    pub pid: i32,
    pub channel: String,
    pub payload: String,
}

/// A backend's channels and its undelivered notifications.
#[derive(Default)]
pub struct Listener {
    /// Fast check on the commit path: the backend listens on something.
    listening: AtomicBool,
    state: Mutex<ListenState>,
}

#[derive(Default)]
struct ListenState {
    channels: BTreeSet<String>,
    queue: VecDeque<Notification>,
}

impl Listener {
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Takes the notifications waiting for delivery.
    pub fn take(&self) -> Vec<Notification> {
        if !self.is_listening() {
            // UNLISTEN * also drops what was queued; nothing can arrive.
            return vec![];
        }
        self.state.lock().queue.drain(..).collect()
    }

    pub fn channels(&self) -> Vec<String> {
        self.state.lock().channels.iter().cloned().collect()
    }

    fn offer(&self, n: &Notification) {
        let mut s = self.state.lock();
        if s.channels.contains(&n.channel) {
            s.queue.push_back(n.clone());
        }
    }

    fn apply(&self, a: &ListenAction) {
        let mut s = self.state.lock();
        match a {
            ListenAction::Listen(c) => {
                s.channels.insert(c.clone());
            }
            ListenAction::Unlisten(c) => {
                s.channels.remove(c);
            }
            ListenAction::UnlistenAll => s.channels.clear(),
        }
        if s.channels.is_empty() {
            s.queue.clear();
        }
        self.listening
            .store(!s.channels.is_empty(), Ordering::Release);
    }
}

#[derive(Debug, Clone)]
pub(crate) enum ListenAction {
    Listen(String),
    Unlisten(String),
    UnlistenAll,
}

/// What a transaction will do at commit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pending {
    pub notifies: Vec<(String, String)>,
    pub actions: Vec<ListenAction>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.notifies.is_empty() && self.actions.is_empty()
    }

    /// The lengths a ROLLBACK TO returns to.
    pub fn mark(&self) -> (usize, usize) {
        (self.notifies.len(), self.actions.len())
    }

    pub fn truncate(&mut self, (n, a): (usize, usize)) {
        self.notifies.truncate(n);
        self.actions.truncate(a);
    }
}

fn check_channel(channel: &str) -> Result<()> {
    if channel.is_empty() {
        return Err(ExecError::coded("22023", "channel name cannot be empty"));
    }
    if channel.len() > MAX_CHANNEL {
        return Err(ExecError::coded("22023", "channel name too long"));
    }
    Ok(())
}

impl Session {
    pub(crate) fn listen(&mut self, action: ListenAction) -> Result<ExecResult> {
        let tag = match &action {
            ListenAction::Listen(c) => {
                check_channel(c)?;
                "LISTEN"
            }
            _ => "UNLISTEN",
        };
        if let Some(t) = self.txn.as_mut() {
            t.notify.actions.push(action);
        }
        Ok(ExecResult {
            tag: tag.into(),
            ..Default::default()
        })
    }

    /// NOTIFY and pg_notify: queued until the statement ends, then for
    /// the transaction's commit.
    pub(crate) fn queue_notify(&self, channel: &str, payload: &str) -> Result<()> {
        check_channel(channel)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(ExecError::coded("22023", "payload string too long"));
        }
        self.pending_notifies
            .borrow_mut()
            .push((channel.to_string(), payload.to_string()));
        Ok(())
    }

    /// After a statement that succeeded: its notifications join the
    /// transaction's, duplicates dropped.
    pub(crate) fn adopt_notifies(&mut self, ok: bool) {
        let new = std::mem::take(&mut *self.pending_notifies.borrow_mut());
        if !ok || new.is_empty() {
            return;
        }
        let Some(t) = self.txn.as_mut() else { return };
        for n in new {
            if !t.notify.notifies.contains(&n) {
                t.notify.notifies.push(n);
            }
        }
    }

    /// At commit: applies LISTEN/UNLISTEN and sends the notifications.
    pub(crate) fn commit_notifies(&self, p: Pending) {
        for a in &p.actions {
            self.backend.listener.apply(a);
        }
        if p.notifies.is_empty() {
            return;
        }
        let db = self.database;
        let listeners: Vec<_> = self
            .db
            .registry
            .all()
            .into_iter()
            .filter(|b| {
                b.listener.is_listening()
                    && b.database.load(std::sync::atomic::Ordering::Relaxed) == db
            })
            .collect();
        for (channel, payload) in p.notifies {
            let n = Notification {
                pid: self.pid,
                channel,
                payload,
            };
            for b in &listeners {
                b.listener.offer(&n);
            }
        }
    }

    /// Notifications committed for this session and not yet delivered.
    pub fn take_notifications(&self) -> Vec<Notification> {
        self.backend.listener.take()
    }

    /// Whether notifications can arrive while the session is idle.
    pub fn is_listening(&self) -> bool {
        self.backend.listener.is_listening()
    }
}
