//! The session time zone (the TimeZone setting): timestamptz values are
//! shown in it, read in it when they carry no offset, and converted
//! to and from timestamp and date through it.
//!
//! The zone belongs to the session, but values are formatted and parsed
//! in code that has no session at hand (Display, casts); so the session
//! sets it for the thread that works for it, at each entry point, before
//! anything is parsed or shown.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use std::cell::Cell;

/// A time zone: a named one from the tz database, or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

thread_local! {
    static ZONE: Cell<Option<Zone>> = const { Cell::new(None) };
}

/// Sets the zone of the session this thread now works for (None: UTC).
pub fn set(z: Option<Zone>) {
    ZONE.with(|c| c.set(z));
}

/// The zone set for this thread (None: UTC).
pub fn current() -> Option<Zone> {
    ZONE.with(|c| c.get())
}

impl Zone {
    /// A TimeZone setting's value: a tz database name (any case), UTC
    /// and its aliases, or an ISO offset such as `+05:30` or `-8`.
    pub fn parse(s: &str) -> Option<Zone> {
        let t = s.trim();
        if let Some(off) = parse_offset(t) {
            return Some(Zone::Fixed(off));
        }
        match t.to_ascii_uppercase().as_str() {
            "UTC" | "GMT" | "Z" | "ZULU" | "UCT" | "ETC/UTC" | "ETC/GMT" | "UNIVERSAL" => {
                return Some(Zone::Fixed(FixedOffset::east_opt(0)?))
            }
            _ => {}
        }
        chrono_tz::Tz::from_str_insensitive(t).ok().map(Zone::Named)
    }

    /// The offset from UTC at a UTC instant.
    pub fn offset_at(&self, utc: &NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Named(tz) => tz.offset_from_utc_datetime(utc).fix(),
            Zone::Fixed(f) => *f,
        }
    }

    /// The instant a local wall-clock time names (in a gap, the time
    /// after it; when ambiguous, the earlier).
    pub fn to_utc(&self, local: &NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Fixed(f) => (*local - f.fix()).and_utc(),
            Zone::Named(tz) => match tz.from_local_datetime(local) {
                chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
                chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
                chrono::LocalResult::None => {
                    // Spring-forward gap: read it with the offset before it.
                    let before = *local - chrono::Duration::hours(3);
                    let off = tz.offset_from_local_datetime(&before).earliest();
                    match off {
                        Some(o) => (*local - o.fix()).and_utc(),
                        None => local.and_utc(),
                    }
                }
            },
        }
    }
}

/// `+05:30`, `-8`, `+0530`: an ISO offset (east of UTC positive).
fn parse_offset(t: &str) -> Option<FixedOffset> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if rest.len() == 4 => (rest[..2].parse().ok()?, rest[2..].parse().ok()?),
        None => (rest.parse().ok()?, 0),
    };
    if h > 15 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// The offset of the session zone at a UTC instant (UTC when none is set).
pub fn offset_at(utc: &NaiveDateTime) -> FixedOffset {
    match current() {
        Some(z) => z.offset_at(utc),
        None => FixedOffset::east_opt(0).expect("zero offset"),
    }
}

/// The session zone's abbreviation at a UTC instant ("EST", "IST"), or
/// its offset when it has none.
pub fn abbrev_at(utc: &NaiveDateTime) -> String {
    match current() {
        Some(Zone::Named(tz)) => {
            let a = tz.offset_from_utc_datetime(utc).to_string();
            if a.starts_with(['+', '-']) {
                offset_text(&offset_at(utc))
            } else {
                a
            }
        }
        Some(Zone::Fixed(f)) => offset_text(&f),
        None => "UTC".into(),
    }
}

/// Local wall-clock time in the session zone of a UTC instant.
pub fn to_local(t: &DateTime<Utc>) -> NaiveDateTime {
    let n = t.naive_utc();
    n + offset_at(&n)
}

/// The instant a local time in the session zone names.
pub fn from_local(local: &NaiveDateTime) -> DateTime<Utc> {
    match current() {
        Some(z) => z.to_utc(local),
        None => local.and_utc(),
    }
}

/// An offset as PostgreSQL prints it after a timestamp: `+00`, `-05`,
/// `+05:30`.
pub fn offset_text(off: &FixedOffset) -> String {
    let s = off.local_minus_utc();
    let sign = if s < 0 { '-' } else { '+' };
    let a = s.abs();
    let (h, m, sec) = (a / 3600, (a % 3600) / 60, a % 60);
    match (m, sec) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{sec:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        let ny = Zone::parse("America/New_York").unwrap();
        let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(offset_text(&ny.offset_at(&t)), "-05");
        assert_eq!(ny.to_utc(&t).naive_utc().to_string(), "2024-01-15 17:00:00");
        assert_eq!(
            offset_text(&Zone::parse("+05:30").unwrap().offset_at(&t)),
            "+05:30"
        );
        assert!(Zone::parse("Mars/Olympus").is_none());
        assert_eq!(Zone::parse("utc"), Zone::parse("GMT"));
    }
}
