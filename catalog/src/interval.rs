//! The `interval` type as PostgreSQL keeps it: months, days and
//! microseconds, each with its own sign (a month is not a fixed number of
//! days, nor a day of hours, across daylight-saving changes). Intervals
//! compare and hash by their span with 30-day months and 24-hour days, as
//! PostgreSQL's `interval_cmp` does, so '1 mon' = '30 days'.

use chrono::{Datelike, Months, NaiveDateTime};
use std::cmp::Ordering;
use std::fmt;

pub const USECS_PER_DAY: i64 = 86_400_000_000;
const USECS_PER_HOUR: i64 = 3_600_000_000;
const USECS_PER_MINUTE: i64 = 60_000_000;
const USECS_PER_SEC: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

impl Interval {
    pub fn new(months: i32, days: i32, micros: i64) -> Interval {
        Interval {
            months,
            days,
            micros,
        }
    }

    /// The span in microseconds with 30-day months (for ordering).
    pub fn span(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * USECS_PER_DAY as i128 + self.micros as i128
    }

    pub fn checked_add(&self, o: &Interval) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_add(o.months)?,
            days: self.days.checked_add(o.days)?,
            micros: self.micros.checked_add(o.micros)?,
        })
    }

    pub fn checked_neg(&self) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }

    pub fn checked_sub(&self, o: &Interval) -> Option<Interval> {
        self.checked_add(&o.checked_neg()?)
    }

    /// Multiplied by a factor: fractions of months spill into days (30 a
    /// month) and fractions of days into time, as in `interval_mul`.
    pub fn mul(&self, f: f64) -> Option<Interval> {
        if !f.is_finite() {
            return None;
        }
        let months = self.months as f64 * f;
        let days = self.days as f64 * f;
        let whole_months = months.trunc();
        let month_rem_days = (months - whole_months) * 30.0;
        let total_days = days + month_rem_days;
        let whole_days = total_days.trunc();
        let micros = self.micros as f64 * f + (total_days - whole_days) * USECS_PER_DAY as f64;
        if whole_months.abs() > i32::MAX as f64
            || whole_days.abs() > i32::MAX as f64
            || micros.abs() > i64::MAX as f64
        {
            return None;
        }
        Some(Interval {
            months: whole_months as i32,
            days: whole_days as i32,
            micros: micros.round() as i64,
        })
    }

    /// The interval added to a timestamp: months first (clamping the day to
    /// the month's end), then days, then time.
    pub fn add_to(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let t = if self.months >= 0 {
            t.checked_add_months(Months::new(self.months as u32))?
        } else {
            t.checked_sub_months(Months::new(self.months.unsigned_abs()))?
        };
        let t = t.checked_add_signed(chrono::Duration::days(self.days as i64))?;
        t.checked_add_signed(chrono::Duration::microseconds(self.micros))
    }

    /// `a - b` of two timestamps: whole days and the remaining time.
    pub fn between(a: NaiveDateTime, b: NaiveDateTime) -> Option<Interval> {
        let us = (a - b).num_microseconds()?;
        Some(Interval {
            months: 0,
            days: i32::try_from(us / USECS_PER_DAY).ok()?,
            micros: us % USECS_PER_DAY,
        })
    }

    /// `age(a, b)`: years, months and days between two timestamps, counted
    /// on the calendar (PostgreSQL's timestamp_age).
    pub fn age(a: NaiveDateTime, b: NaiveDateTime) -> Option<Interval> {
        let (hi, lo, neg) = if a >= b { (a, b, false) } else { (b, a, true) };
        let mut months = (hi.year() - lo.year()) * 12 + hi.month() as i32 - lo.month() as i32;
        let mut days = hi.day() as i32 - lo.day() as i32;
        let mut micros = (hi.time() - lo.time()).num_microseconds()?;
        if micros < 0 {
            micros += USECS_PER_DAY;
            days -= 1;
        }
        if days < 0 {
            // Borrow the length of the earlier timestamp's month.
            let first = lo.date().with_day(1)?;
            let next = first.checked_add_months(Months::new(1))?;
            days += (next - first).num_days() as i32;
            months -= 1;
        }
        let r = Interval {
            months,
            days,
            micros,
        };
        if neg {
            r.checked_neg()
        } else {
            Some(r)
        }
    }

    /// Whole days of time moved into days (justify_hours).
    pub fn justify_hours(&self) -> Interval {
        let mut r = *self;
        r.days += (r.micros / USECS_PER_DAY) as i32;
        r.micros %= USECS_PER_DAY;
        if r.days > 0 && r.micros < 0 {
            r.micros += USECS_PER_DAY;
            r.days -= 1;
        } else if r.days < 0 && r.micros > 0 {
            r.micros -= USECS_PER_DAY;
            r.days += 1;
        }
        r
    }

    /// 30-day periods moved into months (justify_days).
    pub fn justify_days(&self) -> Interval {
        let mut r = *self;
        r.months += r.days / 30;
        r.days %= 30;
        if r.months > 0 && r.days < 0 {
            r.days += 30;
            r.months -= 1;
        } else if r.months < 0 && r.days > 0 {
            r.days -= 30;
            r.months += 1;
        }
        r
    }

    /// Both adjustments with the signs made to agree (justify_interval).
    pub fn justify_interval(&self) -> Interval {
        let mut r = *self;
        r.days += (r.micros / USECS_PER_DAY) as i32;
        r.micros %= USECS_PER_DAY;
        r.months += r.days / 30;
        r.days %= 30;
        if r.months > 0 && (r.days < 0 || (r.days == 0 && r.micros < 0)) {
            r.days += 30;
            r.months -= 1;
        } else if r.months < 0 && (r.days > 0 || (r.days == 0 && r.micros > 0)) {
            r.days -= 30;
            r.months += 1;
        }
        if r.days > 0 && r.micros < 0 {
            r.micros += USECS_PER_DAY;
            r.days -= 1;
        } else if r.days < 0 && r.micros > 0 {
            r.micros -= USECS_PER_DAY;
            r.days += 1;
        }
        r
    }

    /// A field of the interval, for EXTRACT (None: not an interval field).
    pub fn field(&self, name: &str) -> Option<f64> {
        let t = self.micros;
        Some(match name {
            "epoch" => {
                (self.months / 12) as f64 * 365.25 * 86400.0
                    + (self.months % 12) as f64 * 30.0 * 86400.0
                    + self.days as f64 * 86400.0
                    + t as f64 / 1e6
            }
            "millennium" => (self.months / 12 / 1000) as f64,
            "century" => (self.months / 12 / 100) as f64,
            "decade" => (self.months / 12 / 10) as f64,
            "year" => (self.months / 12) as f64,
            "quarter" => ((self.months % 12) / 3 + 1) as f64,
            "month" => (self.months % 12) as f64,
            "day" => self.days as f64,
            "hour" => (t / USECS_PER_HOUR) as f64,
            "minute" => ((t % USECS_PER_HOUR) / USECS_PER_MINUTE) as f64,
            "second" => (t % USECS_PER_MINUTE) as f64 / 1e6,
            "milliseconds" => (t % USECS_PER_MINUTE) as f64 / 1e3,
            "microseconds" => (t % USECS_PER_MINUTE) as f64,
            _ => return None,
        })
    }

    /// Reads PostgreSQL's interval input: `1 year 2 mons 3 days 04:05:06`,
    /// `-1 day`, `1.5 hours`, `3 weeks ago`, `@ 1 minute`, `10:00`, `1-2`
    /// (years-months), ISO 8601 `P1Y2M3DT4H5M6S`, and a bare number, which
    /// is in `unit` if given (INTERVAL '90' DAY) or else seconds.
    pub fn parse(s: &str, unit: Option<&str>) -> Option<Interval> {
        let s = s.trim();
        if let Some(iso) = s.strip_prefix('P').or_else(|| s.strip_prefix('p')) {
            return parse_iso(iso);
        }
        let lower = s.to_lowercase();
        let mut words: Vec<&str> = lower.split_whitespace().collect();
        if words.first() == Some(&"@") {
            words.remove(0);
        }
        let ago = words.last() == Some(&"ago");
        if ago {
            words.pop();
        }
        if words.is_empty() {
            return None;
        }
        let mut acc = Acc::default();
        let mut i = 0;
        while i < words.len() {
            let w = words[i];
            if w.contains(':') {
                acc.time(w)?;
                i += 1;
                continue;
            }
            // "1-2": years-months.
            if let Some((y, m)) = w.split_once('-').filter(|(y, _)| !y.is_empty()) {
                if let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<i32>()) {
                    let sign = if w.starts_with('-') { -1 } else { 1 };
                    acc.months += (y.abs() * 12 + m) as f64 * sign as f64;
                    i += 1;
                    continue;
                }
            }
            // A number, possibly glued to its unit ("5d", "10min").
            let split = w
                .char_indices()
                .find(|(k, c)| c.is_alphabetic() && *k > 0)
                .map(|(k, _)| k);
            let (num, glued) = match split {
                Some(k) => (&w[..k], Some(&w[k..])),
                None => (w, None),
            };
            let n: f64 = num.parse().ok()?;
            let u = match glued {
                Some(u) => u,
                None => match words.get(i + 1) {
                    Some(next) if next.chars().all(|c| c.is_alphabetic()) => {
                        i += 1;
                        next
                    }
                    _ => unit.unwrap_or("second"),
                },
            };
            acc.unit(n, u)?;
            i += 1;
        }
        let r = acc.finish()?;
        if ago {
            r.checked_neg()
        } else {
            Some(r)
        }
    }
}

/// Fields being read, as floats until the fractions spill down.
#[derive(Default)]
struct Acc {
    months: f64,
    days: f64,
    micros: f64,
}

impl Acc {
    fn unit(&mut self, n: f64, u: &str) -> Option<()> {
        let u = match u {
            "ms" | "us" | "s" => u,
            _ => u.strip_suffix('s').unwrap_or(u),
        };
        match u {
            "microsecond" | "usec" | "us" => self.micros += n,
            "millisecond" | "msec" | "ms" => self.micros += n * 1e3,
            "second" | "sec" | "s" => self.micros += n * USECS_PER_SEC as f64,
            "minute" | "min" | "m" => self.micros += n * USECS_PER_MINUTE as f64,
            "hour" | "hr" | "h" => self.micros += n * USECS_PER_HOUR as f64,
            "day" | "d" => self.days += n,
            "week" | "w" => self.days += n * 7.0,
            "month" | "mon" => self.months += n,
            "year" | "yr" | "y" => self.months += n * 12.0,
            "decade" => self.months += n * 120.0,
            "century" | "centurie" => self.months += n * 1200.0,
            "millennium" | "millennia" => self.months += n * 12000.0,
            _ => return None,
        }
        Some(())
    }

    /// `[-]hh:mm[:ss[.frac]]`
    fn time(&mut self, w: &str) -> Option<()> {
        let (neg, w) = match w.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, w.strip_prefix('+').unwrap_or(w)),
        };
        let parts: Vec<&str> = w.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return None;
        }
        let h: f64 = parts[0].parse().ok()?;
        let m: f64 = parts[1].parse().ok()?;
        let s: f64 = match parts.get(2) {
            Some(s) => s.parse().ok()?,
            None => 0.0,
        };
        if m >= 60.0 || s >= 60.0 {
            return None;
        }
        let us = h * USECS_PER_HOUR as f64 + m * USECS_PER_MINUTE as f64 + s * 1e6;
        self.micros += if neg { -us } else { us };
        Some(())
    }

    fn finish(self) -> Option<Interval> {
        let months = self.months.trunc();
        let days = self.days + (self.months - months) * 30.0;
        let whole_days = days.trunc();
        let micros = self.micros + (days - whole_days) * USECS_PER_DAY as f64;
        if months.abs() > i32::MAX as f64 || whole_days.abs() > i32::MAX as f64 {
            return None;
        }
        Some(Interval {
            months: months as i32,
            days: whole_days as i32,
            micros: micros.round() as i64,
        })
    }
}

/// ISO 8601 durations after the `P`: `1Y2M3DT4H5M6S`, `3W`.
fn parse_iso(s: &str) -> Option<Interval> {
    let mut acc = Acc::default();
    let mut in_time = false;
    let mut num = String::new();
    for c in s.chars() {
        match c {
            '0'..='9' | '.' | '-' => num.push(c),
            'T' | 't' => in_time = true,
            u => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                let unit = match (u.to_ascii_uppercase(), in_time) {
                    ('Y', false) => "year",
                    ('M', false) => "month",
                    ('W', false) => "week",
                    ('D', false) => "day",
                    ('H', true) => "hour",
                    ('M', true) => "minute",
                    ('S', true) => "second",
                    _ => return None,
                };
                acc.unit(n, unit)?;
            }
        }
    }
    if !num.is_empty() {
        return None;
    }
    acc.finish()
}

impl PartialEq for Interval {
    fn eq(&self, o: &Interval) -> bool {
        self.span() == o.span()
    }
}
impl Eq for Interval {}
impl PartialOrd for Interval {
    fn partial_cmp(&self, o: &Interval) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Interval {
    fn cmp(&self, o: &Interval) -> Ordering {
        self.span().cmp(&o.span())
    }
}
impl std::hash::Hash for Interval {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.span().hash(state)
    }
}

impl fmt::Display for Interval {
    /// IntervalStyle `postgres`: `1 year 2 mons -3 days +04:05:06.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let mut is_before = false;
        let mut is_zero = true;
        let year = self.months / 12;
        let mon = self.months % 12;
        for (v, unit) in [(year, "year"), (mon, "mon"), (self.days, "day")] {
            if v == 0 {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            let sign = if is_before && v > 0 { "+" } else { "" };
            let plural = if v == 1 { "" } else { "s" };
            out.push_str(&format!("{sign}{v} {unit}{plural}"));
            is_before = v < 0;
            is_zero = false;
        }
        let t = self.micros;
        if is_zero || t != 0 {
            let minus = t < 0;
            let a = t.unsigned_abs();
            let h = a / USECS_PER_HOUR as u64;
            let m = (a % USECS_PER_HOUR as u64) / USECS_PER_MINUTE as u64;
            let s = (a % USECS_PER_MINUTE as u64) / USECS_PER_SEC as u64;
            let frac = a % USECS_PER_SEC as u64;
            if !is_zero {
                out.push(' ');
            }
            let sign = if minus {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            };
            out.push_str(&format!("{sign}{h:02}:{m:02}:{s:02}"));
            if frac != 0 {
                let f = format!("{frac:06}");
                out.push('.');
                out.push_str(f.trim_end_matches('0'));
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Interval::parse(s, None).expect(s).to_string()
    }

    #[test]
    fn input_and_output_as_postgresql() {
        assert_eq!(
            p("1 year 2 months 3 days 04:05:06"),
            "1 year 2 mons 3 days 04:05:06"
        );
        assert_eq!(p("90 days"), "90 days");
        assert_eq!(p("-1 day"), "-1 days");
        assert_eq!(p("1 day -02:00"), "1 day -02:00:00");
        assert_eq!(p("-1 day +02:00"), "-1 days +02:00:00");
        assert_eq!(p("1.5 days"), "1 day 12:00:00");
        assert_eq!(p("1.5 months"), "1 mon 15 days");
        assert_eq!(p("3 weeks"), "21 days");
        assert_eq!(p("2 hours ago"), "-02:00:00");
        assert_eq!(p("@ 1 minute"), "00:01:00");
        assert_eq!(p("0"), "00:00:00");
        assert_eq!(p("10:00"), "10:00:00");
        assert_eq!(p("00:00:01.25"), "00:00:01.25");
        assert_eq!(p("1-2"), "1 year 2 mons");
        assert_eq!(p("P1Y2M3DT4H5M6S"), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(p("5d"), "5 days");
        assert_eq!(
            Interval::parse("90", Some("day")).unwrap().to_string(),
            "90 days"
        );
        assert_eq!(
            Interval::parse("3", Some("month")).unwrap().to_string(),
            "3 mons"
        );
        assert!(Interval::parse("1 fortnight", None).is_none());
        assert!(Interval::parse("", None).is_none());
    }

    #[test]
    fn arithmetic_and_order() {
        let d = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let m = Interval::parse("1 month", None).unwrap();
        assert_eq!(
            m.add_to(d("2024-01-31 00:00:00")).unwrap(),
            d("2024-02-29 00:00:00")
        );
        assert_eq!(m, Interval::parse("30 days", None).unwrap());
        assert!(
            Interval::parse("1 day", None).unwrap() < Interval::parse("25 hours", None).unwrap()
        );
        assert_eq!(m.mul(1.5).unwrap().to_string(), "1 mon 15 days");
        assert_eq!(
            Interval::between(d("2024-03-02 03:00:00"), d("2024-03-01 00:00:00"))
                .unwrap()
                .to_string(),
            "1 day 03:00:00"
        );
        assert_eq!(
            Interval::age(d("2024-03-01 00:00:00"), d("2023-01-15 00:00:00"))
                .unwrap()
                .to_string(),
            "1 year 1 mon 17 days"
        );
    }
}
