//! LISTEN/NOTIFY against the real binary: notifications reach an idle
//! listener without it sending anything, wait while it is inside a
//! transaction block, go only to listeners of the same database and
//! channel, and are sent at commit only.

mod common;

use basalt_sqllogic::client::{Client, Message};
use common::{Server, TempDir};
use std::time::{Duration, Instant};

/// (pid, channel, payload) of a NotificationResponse.
fn notification(m: &Message) -> (i32, String, String) {
    assert_eq!(
        m.tag, b'A',
        "expected a notification, got {:?}",
        m.tag as char
    );
    let pid = i32::from_be_bytes([m.body[0], m.body[1], m.body[2], m.body[3]]);
    let mut parts = m.body[4..].split(|b| *b == 0);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).to_string();
    (pid, next(), next())
}

/// Waits (up to 10 s) for the server to send `c` something, then reads it.
fn next_unprompted(c: &mut Client) -> Message {
    let t0 = Instant::now();
    while !c.ready_to_read().unwrap() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no notification came"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    c.read().unwrap()
}

/// Nothing arrives for `c` in 300 ms.
fn quiet(c: &mut Client) {
    std::thread::sleep(Duration::from_millis(300));
    assert!(!c.ready_to_read().unwrap(), "unexpected message");
}

fn ok(c: &mut Client, sql: &str) -> Vec<Message> {
    let msgs = c.query_messages(sql).unwrap();
    assert!(
        msgs.iter().all(|m| m.tag != b'E'),
        "{sql}: {:?}",
        msgs.iter()
            .filter(|m| m.tag == b'E')
            .map(|m| basalt_sqllogic::client::error_fields(&m.body).to_string())
            .collect::<Vec<_>>()
    );
    msgs
}

#[test]
fn notifications_reach_idle_listeners_at_commit() {
    let dir = TempDir::new("notify");
    let srv = Server::start(&dir.0, &[]);
    let mut listener = common::wire_client(srv.port);
    let mut other = common::wire_client(srv.port);
    let mut sender = common::wire_client(srv.port);
    ok(&mut listener, "LISTEN jobs");
    ok(&mut other, "LISTEN other_channel");

    // An idle listener hears a plain NOTIFY without asking.
    ok(&mut sender, "NOTIFY jobs, 'first'");
    let n = notification(&next_unprompted(&mut listener));
    assert_eq!(n, (sender.backend_pid(), "jobs".into(), "first".into()));
    quiet(&mut other);

    // Sent at commit, in order, duplicates folded; a rollback sends nothing.
    ok(&mut sender, "BEGIN");
    ok(&mut sender, "SELECT pg_notify('jobs', 'a')");
    ok(&mut sender, "NOTIFY jobs, 'a'");
    ok(&mut sender, "SAVEPOINT s");
    ok(&mut sender, "NOTIFY jobs, 'undone'");
    ok(&mut sender, "ROLLBACK TO s");
    ok(&mut sender, "NOTIFY jobs, 'b'");
    quiet(&mut listener);
    ok(&mut sender, "COMMIT");
    assert_eq!(notification(&next_unprompted(&mut listener)).2, "a");
    assert_eq!(notification(&next_unprompted(&mut listener)).2, "b");
    ok(&mut sender, "BEGIN; NOTIFY jobs, 'never'; ROLLBACK");
    quiet(&mut listener);

    // A listener inside a transaction block hears nothing until it ends;
    // then the notification comes before its ReadyForQuery.
    ok(&mut listener, "BEGIN");
    ok(&mut sender, "NOTIFY jobs, 'later'");
    quiet(&mut listener);
    let msgs = ok(&mut listener, "COMMIT");
    let a = msgs
        .iter()
        .position(|m| m.tag == b'A')
        .expect("notification");
    assert_eq!(notification(&msgs[a]).2, "later");
    assert!(a < msgs.len() - 1 && msgs.last().unwrap().tag == b'Z');

    // A session hears its own notifications, after its command.
    let msgs = ok(&mut listener, "NOTIFY jobs, 'self'");
    let n = notification(msgs.iter().find(|m| m.tag == b'A').unwrap());
    assert_eq!(n, (listener.backend_pid(), "jobs".into(), "self".into()));

    // LISTEN in a rolled-back transaction never takes effect; UNLISTEN
    // stops delivery.
    ok(&mut other, "BEGIN; LISTEN jobs; ROLLBACK");
    ok(&mut listener, "UNLISTEN jobs");
    ok(&mut sender, "NOTIFY jobs, 'nobody'");
    quiet(&mut other);
    quiet(&mut listener);

    // Notifications stay within their database.
    ok(&mut sender, "CREATE DATABASE elsewhere");
    let mut far = Client::connect("127.0.0.1", srv.port, "postgres", "elsewhere", None).unwrap();
    ok(&mut far, "LISTEN other_channel");
    ok(&mut sender, "NOTIFY other_channel");
    assert_eq!(
        notification(&next_unprompted(&mut other)).1,
        "other_channel"
    );
    quiet(&mut far);

    // Bad channel names are refused and the connection lives on.
    let msgs = sender.query_messages("SELECT pg_notify('', 'x')").unwrap();
    let e = msgs.iter().find(|m| m.tag == b'E').expect("an error");
    assert_eq!(basalt_sqllogic::client::error_fields(&e.body).code, "22023");
    ok(&mut sender, "SELECT 1");
}
