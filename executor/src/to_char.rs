//! to_char: PostgreSQL's template formatting of timestamps, dates,
//! intervals and numbers (the patterns of the "Data Type Formatting
//! Functions" chapter: YYYY, MM, Mon, Day, HH24, MI, SS, MS, US, AM, TZ, ...
//! with the FM and TH modifiers; 9, 0, '.', ',', D, G, S, MI, PL, SG, PR
//! and FM for numbers).

use crate::error::{ExecError, Result};
use basalt_catalog::Numeric;
use basalt_catalog::Value;
use chrono::{Datelike, NaiveDateTime, Timelike};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub fn to_char(v: &Value, fmt: &str) -> Result<Value> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Timestamp(t) => Value::Text(datetime(t, None, fmt)),
        Value::TimestampTz(t) => {
            let n = t.naive_utc();
            let off = basalt_catalog::tz::offset_at(&n);
            Value::Text(datetime(&(n + off), Some(off.local_minus_utc()), fmt))
        }
        Value::Date(d) => Value::Text(datetime(
            &d.and_hms_opt(0, 0, 0).expect("midnight"),
            None,
            fmt,
        )),
        Value::Interval(i) => {
            // Fields as an interval has them: hours may exceed 24.
            let secs = i.micros.div_euclid(1_000_000);
            let base = chrono::NaiveDate::from_ymd_opt(1, 1, 1)
                .expect("valid")
                .and_hms_opt(0, 0, 0)
                .expect("valid");
            let t = base + chrono::Duration::microseconds(i.micros.rem_euclid(86_400_000_000));
            let mut s = datetime(&t, None, fmt);
            let h = secs / 3600;
            if h >= 24 {
                s = s.replace(&format!("{:02}", t.hour()), &format!("{h:02}"));
            }
            Value::Text(s)
        }
        v => match v.as_numeric().filter(|n| n.is_finite()) {
            Some(d) => Value::Text(number(d, fmt)),
            None => {
                return Err(ExecError::coded(
                    "42883",
                    format!(
                        "function to_char({}, unknown) does not exist",
                        v.data_type().display_name()
                    ),
                ))
            }
        },
    })
}

/// Case of a name pattern: MONTH, Month or month.
fn cased(name: &str, pat: &str) -> String {
    let mut c = pat.chars();
    let first = c.next().is_some_and(|c| c.is_uppercase());
    let second = c.next().is_some_and(|c| c.is_uppercase());
    if first && second {
        name.to_uppercase()
    } else if first {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

fn ordinal(n: i64) -> &'static str {
    if (11..=13).contains(&(n % 100)) {
        return "th";
    }
    match n % 10 {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    }
}

fn datetime(t: &NaiveDateTime, offset: Option<i32>, fmt: &str) -> String {
    // Patterns, longest first within each family.
    const PATS: &[&str] = &[
        "HH24", "HH12", "HH", "MI", "SS", "MS", "US", "SSSSS", "SSSS", "A.M.", "a.m.", "P.M.",
        "p.m.", "AM", "am", "PM", "pm", "Y,YYY", "YYYY", "YYY", "YY", "Y", "IYYY", "IYY", "IY",
        "I", "MONTH", "Month", "month", "MON", "Mon", "mon", "MM", "DAY", "Day", "day", "DY", "Dy",
        "dy", "DDD", "DD", "D", "IDDD", "ID", "W", "WW", "IW", "CC", "J", "Q", "RM", "rm", "TZH",
        "TZM", "TZ", "tz", "OF",
    ];
    let mut out = String::new();
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < fmt.len() {
        // Quoted literal text.
        if b[i] == b'"' {
            i += 1;
            while i < fmt.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < fmt.len() {
                    i += 1;
                }
                let ch = fmt[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
            continue;
        }
        let mut fm = false;
        let mut j = i;
        if fmt[j..].starts_with("FM") || fmt[j..].starts_with("fm") {
            fm = true;
            j += 2;
        }
        // SSSSS before SS, IDDD before ID/DDD: pick the longest match.
        // Case matters for names (Month, month); other patterns may be
        // written in either case (yyyy, dd).
        let pat = PATS
            .iter()
            .filter(|p| fmt[j..].starts_with(**p))
            .max_by_key(|p| p.len())
            .or_else(|| {
                let up = fmt[j..].to_uppercase();
                PATS.iter()
                    .filter(|p| {
                        p.chars().all(|c| !c.is_ascii_lowercase())
                            && !matches!(
                                **p,
                                "MONTH"
                                    | "MON"
                                    | "DAY"
                                    | "DY"
                                    | "AM"
                                    | "PM"
                                    | "A.M."
                                    | "P.M."
                                    | "RM"
                                    | "TZ"
                            )
                            && up.starts_with(**p)
                    })
                    .max_by_key(|p| p.len())
            });
        let Some(pat) = pat else {
            if fm {
                i = j;
                continue;
            }
            let ch = fmt[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        };
        j += pat.len();
        let num = |n: i64, width: usize| -> String {
            if fm {
                n.to_string()
            } else {
                format!("{n:0width$}")
            }
        };
        let pad_name = |s: String, width: usize| -> String {
            if fm {
                s
            } else {
                format!("{s:<width$}")
            }
        };
        let h12 = {
            let h = t.hour() % 12;
            if h == 0 {
                12
            } else {
                h
            }
        };
        let (n, text): (Option<i64>, String) = match *pat {
            "HH24" => (Some(t.hour() as i64), num(t.hour() as i64, 2)),
            "HH12" | "HH" => (Some(h12 as i64), num(h12 as i64, 2)),
            "MI" => (Some(t.minute() as i64), num(t.minute() as i64, 2)),
            "SS" => (Some(t.second() as i64), num(t.second() as i64, 2)),
            "MS" => (None, num((t.nanosecond() / 1_000_000) as i64, 3)),
            "US" => (None, num((t.nanosecond() / 1000) as i64, 6)),
            "SSSS" | "SSSSS" => (None, t.num_seconds_from_midnight().to_string()),
            "AM" | "PM" => (None, if t.hour() < 12 { "AM" } else { "PM" }.into()),
            "am" | "pm" => (None, if t.hour() < 12 { "am" } else { "pm" }.into()),
            "A.M." | "P.M." => (None, if t.hour() < 12 { "A.M." } else { "P.M." }.into()),
            "a.m." | "p.m." => (None, if t.hour() < 12 { "a.m." } else { "p.m." }.into()),
            "YYYY" => (Some(t.year() as i64), num(t.year() as i64, 4)),
            "Y,YYY" => (None, format!("{},{:03}", t.year() / 1000, t.year() % 1000)),
            "YYY" => (None, num((t.year() % 1000) as i64, 3)),
            "YY" => (None, num((t.year() % 100) as i64, 2)),
            "Y" => (None, (t.year() % 10).to_string()),
            "IYYY" => (None, num(t.iso_week().year() as i64, 4)),
            "IYY" => (None, num((t.iso_week().year() % 1000) as i64, 3)),
            "IY" => (None, num((t.iso_week().year() % 100) as i64, 2)),
            "I" => (None, (t.iso_week().year() % 10).to_string()),
            "MONTH" | "Month" | "month" => {
                (None, pad_name(cased(MONTHS[t.month0() as usize], pat), 9))
            }
            "MON" | "Mon" | "mon" => (None, cased(&MONTHS[t.month0() as usize][..3], pat)),
            "MM" => (Some(t.month() as i64), num(t.month() as i64, 2)),
            "DAY" | "Day" | "day" => (
                None,
                pad_name(
                    cased(DAYS[t.weekday().num_days_from_sunday() as usize], pat),
                    9,
                ),
            ),
            "DY" | "Dy" | "dy" => (
                None,
                cased(&DAYS[t.weekday().num_days_from_sunday() as usize][..3], pat),
            ),
            "DDD" => (Some(t.ordinal() as i64), num(t.ordinal() as i64, 3)),
            "IDDD" => {
                let w = t.iso_week().week() as i64;
                let d = (w - 1) * 7 + t.weekday().number_from_monday() as i64;
                (Some(d), num(d, 3))
            }
            "DD" => (Some(t.day() as i64), num(t.day() as i64, 2)),
            "D" => (
                Some(t.weekday().number_from_sunday() as i64),
                t.weekday().number_from_sunday().to_string(),
            ),
            "ID" => (None, t.weekday().number_from_monday().to_string()),
            "W" => (None, ((t.day() - 1) / 7 + 1).to_string()),
            "WW" => (None, num(((t.ordinal() - 1) / 7 + 1) as i64, 2)),
            "IW" => (
                Some(t.iso_week().week() as i64),
                num(t.iso_week().week() as i64, 2),
            ),
            "CC" => {
                let c = (t.year() as i64 + 99) / 100;
                (Some(c), num(c, 2))
            }
            "J" => (
                None,
                (t.date().num_days_from_ce() as i64 + 1_721_425).to_string(),
            ),
            "Q" => (None, (t.month0() / 3 + 1).to_string()),
            "RM" | "rm" => {
                const R: [&str; 12] = [
                    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
                ];
                let r = R[t.month0() as usize];
                let r = if *pat == "rm" {
                    r.to_lowercase()
                } else {
                    r.to_string()
                };
                (None, pad_name(r, 4))
            }
            "TZ" | "tz" => {
                let s = match offset {
                    Some(o) => {
                        basalt_catalog::tz::abbrev_at(&(*t - chrono::Duration::seconds(o as i64)))
                    }
                    None => String::new(),
                };
                (None, if *pat == "tz" { s.to_lowercase() } else { s })
            }
            "TZH" => {
                let o = offset.unwrap_or(0);
                (
                    None,
                    format!("{}{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 3600),
                )
            }
            "TZM" => (
                None,
                format!("{:02}", offset.unwrap_or(0).abs() % 3600 / 60),
            ),
            "OF" => {
                let s = match offset {
                    Some(o) => basalt_catalog::tz::offset_text(
                        &chrono::FixedOffset::east_opt(o).expect("valid offset"),
                    ),
                    None => "+00".into(),
                };
                (None, s)
            }
            _ => (None, String::new()),
        };
        out.push_str(&text);
        // TH / th: an ordinal suffix on the number just written.
        if let Some(n) = n {
            if fmt[j..].starts_with("TH") {
                out.push_str(&ordinal(n).to_uppercase());
                j += 2;
            } else if fmt[j..].starts_with("th") {
                out.push_str(ordinal(n));
                j += 2;
            }
        }
        i = j;
    }
    out
}

/// Numbers: digit positions 9 (blank when not needed) and 0 (always),
/// a decimal point (. or D), group separators (, or G), and the sign
/// patterns S, MI, PL, SG, PR; FM trims the padding.
fn number(d: Numeric, fmt: &str) -> String {
    let upper = fmt.to_uppercase();
    let fm = upper.contains("FM");
    let pat: String = upper.replace("FM", "");
    let int_digits = pat
        .split(['.', 'D'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| *c == '9' || *c == '0')
        .count();
    let frac_digits = pat
        .split_once(['.', 'D'])
        .map(|(_, f)| f.chars().filter(|c| *c == '9' || *c == '0').count())
        .unwrap_or(0);
    let neg = d.is_negative() && !d.is_zero();
    let s = d
        .abs()
        .round(frac_digits as i32)
        .map(|r| r.to_string())
        .unwrap_or_default();
    let (ip, fp) = s.split_once('.').unwrap_or((&s, ""));
    let ip = if ip == "0" { "" } else { ip };
    if ip.len() > int_digits {
        // Too many digits: PostgreSQL fills the field with '#'.
        let hashes: String = pat
            .chars()
            .map(|c| match c {
                '9' | '0' => '#',
                c => c,
            })
            .collect();
        return if fm { hashes } else { format!(" {hashes}") };
    }
    // Integer part: right-aligned into the 9/0 positions.
    let int_pat: Vec<char> = pat.split(['.', 'D']).next().unwrap_or("").chars().collect();
    let mut digits = ip.chars().rev().peekable();
    let mut int_out: Vec<char> = Vec::new();
    let mut seen_zero_at = None;
    for (k, c) in int_pat.iter().enumerate() {
        if *c == '0' && seen_zero_at.is_none() {
            seen_zero_at = Some(k);
        }
    }
    // Walk the integer pattern from the right.
    let npos = int_pat.len();
    for (k, c) in int_pat.iter().enumerate().rev() {
        match c {
            '9' | '0' => match digits.next() {
                Some(dg) => int_out.push(dg),
                None => {
                    let zero_here = seen_zero_at.is_some_and(|z| k >= z);
                    int_out.push(if zero_here { '0' } else { ' ' });
                }
            },
            ',' | 'G' => {
                // A separator between digits that exist; blank otherwise.
                let more = digits.peek().is_some()
                    || seen_zero_at.is_some_and(|z| k > z)
                    || int_out.last().is_some_and(|c| c.is_ascii_digit())
                        && int_pat[..k].iter().any(|c| *c == '0');
                int_out.push(if more { ',' } else { ' ' });
            }
            _ => {}
        }
        let _ = npos;
    }
    int_out.reverse();
    let mut int_str: String = int_out.into_iter().collect();
    // A lone blank units position shows 0 when there is a fraction
    // pattern (PostgreSQL prints " .50" only for a '9' there, "0.50" for 0).
    if ip.is_empty() && frac_digits == 0 && int_str.trim().is_empty() {
        int_str.pop();
        int_str.push('0');
    }
    let frac_str: String = if pat.contains(['.', 'D']) {
        let fpat: Vec<char> = pat
            .split_once(['.', 'D'])
            .map(|(_, f)| f.chars().filter(|c| *c == '9' || *c == '0').collect())
            .unwrap_or_default();
        let mut f: String = fp.to_string();
        if fm {
            // FM trims trailing zeros in 9 positions.
            while f.ends_with('0') && fpat.get(f.len() - 1).is_some_and(|c| *c == '9') {
                f.pop();
            }
        }
        format!(".{f}")
    } else {
        String::new()
    };
    let sign_pat = pat.contains('S')
        || pat.contains("MI")
        || pat.contains("PL")
        || pat.contains("SG")
        || pat.contains("PR");
    let body = format!("{int_str}{frac_str}");
    let out = if !sign_pat {
        // Default: a leading '-' or blank just before the first digit.
        let trimmed = body.trim_start();
        let pad = body.len() - trimmed.len();
        format!(
            "{}{}{}",
            " ".repeat(pad),
            if neg { '-' } else { ' ' },
            trimmed
        )
    } else if pat.contains("PR") {
        let trimmed = body.trim_start();
        let pad = " ".repeat(body.len() - trimmed.len());
        if neg {
            format!("{pad}<{trimmed}>")
        } else {
            format!(" {body} ")
        }
    } else if pat.starts_with('S') {
        let trimmed = body.trim_start();
        format!(
            "{}{}{}",
            " ".repeat(body.len() - trimmed.len()),
            if neg { '-' } else { '+' },
            trimmed
        )
    } else if pat.ends_with('S') {
        format!("{body}{}", if neg { '-' } else { '+' })
    } else if pat.contains("MI") {
        format!("{body}{}", if neg { '-' } else { ' ' })
    } else if pat.contains("PL") {
        format!("{body}{}", if neg { ' ' } else { '+' })
    } else {
        format!("{body}{}", if neg { '-' } else { '+' })
    };
    if fm {
        out.trim().to_string()
    } else {
        out
    }
}

fn bad_format(msg: String) -> ExecError {
    ExecError::coded("22007", msg)
}

/// to_date / to_timestamp: reads `text` by the pattern `fmt` (YYYY YY MM
/// DD DDD HH24 HH12 HH MI SS MS US AM PM Mon Month Dy Day J, FM, quoted
/// text; other pattern characters skip one input character, and blanks
/// in the input are skipped as PostgreSQL does).
pub fn parse_datetime(text: &str, fmt: &str) -> Result<NaiveDateTime> {
    let inp: Vec<char> = text.chars().collect();
    let f: Vec<char> = fmt.chars().collect();
    let (mut i, mut k) = (0usize, 0usize);
    let (mut year, mut month, mut day) = (None::<i32>, None::<u32>, None::<u32>);
    let (mut hour, mut minute, mut second, mut micros) = (0u32, 0u32, 0u32, 0u32);
    let mut doy = None::<u32>;
    let mut julian = None::<i64>;
    let mut pm = None::<bool>;
    let upper = fmt.to_uppercase();
    let up: Vec<char> = upper.chars().collect();
    let starts = |k: usize, p: &str| -> bool {
        up.len() >= k + p.len() && up[k..k + p.len()].iter().copied().eq(p.chars())
    };
    // Digits (at most `max`), with an optional sign for years.
    let num = |i: &mut usize, max: usize, what: &str| -> Result<i64> {
        while *i < inp.len() && inp[*i] == ' ' {
            *i += 1;
        }
        let neg = *i < inp.len() && inp[*i] == '-' && what == "year";
        if neg {
            *i += 1;
        }
        let start = *i;
        while *i < inp.len() && *i - start < max && inp[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start {
            return Err(bad_format(format!(
                "invalid value \"{}\" for \"{what}\"",
                inp[start..].iter().take(max).collect::<String>()
            )));
        }
        let v: i64 = inp[start..*i]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        Ok(if neg { -v } else { v })
    };
    let word = |i: &mut usize, names: &[&str], abbrev: bool| -> Option<usize> {
        let rest: String = inp[*i..].iter().collect::<String>().to_lowercase();
        for (n, name) in names.iter().enumerate() {
            let lower = name.to_lowercase();
            let w = if abbrev { &lower[..3] } else { lower.as_str() };
            if rest.starts_with(w) {
                *i += w.chars().count();
                return Some(n);
            }
        }
        None
    };
    while k < f.len() {
        if starts(k, "FM") || starts(k, "FX") {
            k += 2;
            continue;
        }
        if f[k] == '"' {
            k += 1;
            while k < f.len() && f[k] != '"' {
                if i < inp.len() {
                    i += 1;
                }
                k += 1;
            }
            k += 1;
            continue;
        }
        let field = [
            "YYYY", "HH24", "HH12", "MONTH", "MON", "DDD", "DAY", "YYY", "A.M.", "P.M.", "MS",
            "US", "YY", "MM", "DD", "HH", "MI", "SS", "AM", "PM", "DY", "Y", "J",
        ]
        .into_iter()
        .find(|p| starts(k, p));
        let Some(p) = field else {
            // A separator in the pattern: skips one non-alphanumeric input
            // character (or none when the input has a digit there).
            if f[k] == ' ' {
                while i < inp.len() && inp[i] == ' ' {
                    i += 1;
                }
            } else if i < inp.len() && !inp[i].is_alphanumeric() {
                i += 1;
            }
            k += 1;
            continue;
        };
        k += p.len();
        match p {
            "YYYY" => year = Some(num(&mut i, 4, "year")? as i32),
            "YYY" => year = Some(num(&mut i, 3, "year")? as i32 + 2000),
            "YY" => {
                let y = num(&mut i, 2, "year")? as i32;
                year = Some(if y < 70 { 2000 + y } else { 1900 + y });
            }
            "Y" => year = Some(num(&mut i, 1, "year")? as i32 + 2000),
            "MM" => month = Some(num(&mut i, 2, "month")? as u32),
            "DD" => day = Some(num(&mut i, 2, "day")? as u32),
            "DDD" => doy = Some(num(&mut i, 3, "day of year")? as u32),
            "J" => julian = Some(num(&mut i, 8, "julian day")?),
            "HH24" | "HH12" | "HH" => hour = num(&mut i, 2, "hour")? as u32,
            "MI" => minute = num(&mut i, 2, "minute")? as u32,
            "SS" => second = num(&mut i, 2, "second")? as u32,
            "MS" => {
                let s = i;
                let v = num(&mut i, 3, "millisecond")? as u32;
                micros = v * 10u32.pow(3 - (i - s).min(3) as u32) * 1000;
            }
            "US" => {
                let s = i;
                let v = num(&mut i, 6, "microsecond")? as u32;
                micros = v * 10u32.pow(6 - (i - s).min(6) as u32);
            }
            "AM" | "PM" | "A.M." | "P.M." => {
                let rest: String = inp[i..].iter().take(4).collect::<String>().to_uppercase();
                if rest.starts_with("A.M.") || rest.starts_with("P.M.") {
                    pm = Some(rest.starts_with('P'));
                    i += 4;
                } else if rest.starts_with("AM") || rest.starts_with("PM") {
                    pm = Some(rest.starts_with('P'));
                    i += 2;
                } else {
                    return Err(bad_format(format!("invalid value \"{rest}\" for \"{p}\"")));
                }
            }
            "MONTH" | "MON" => {
                let n = word(&mut i, &MONTHS, p == "MON").ok_or_else(|| {
                    bad_format(format!(
                        "invalid value \"{}\" for \"{}\"",
                        inp[i..].iter().take(9).collect::<String>(),
                        &fmt[k - p.len()..k]
                    ))
                })?;
                month = Some(n as u32 + 1);
                if p == "MONTH" {
                    while i < inp.len() && inp[i].is_alphabetic() {
                        i += 1;
                    }
                }
            }
            "DAY" | "DY" => {
                word(&mut i, &DAYS, p == "DY").ok_or_else(|| {
                    bad_format(format!(
                        "invalid value \"{}\" for \"{}\"",
                        inp[i..].iter().take(9).collect::<String>(),
                        &fmt[k - p.len()..k]
                    ))
                })?;
            }
            _ => {}
        }
    }
    if let Some(pm) = pm {
        if hour > 12 || hour == 0 {
            return Err(bad_format(format!(
                "hour \"{hour}\" is invalid for the 12-hour clock"
            )));
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let date = if let Some(j) = julian {
        chrono::NaiveDate::from_num_days_from_ce_opt((j - 1_721_425) as i32)
    } else if let (Some(d), None, None) = (doy, month, day) {
        chrono::NaiveDate::from_yo_opt(year.unwrap_or(1), d)
    } else {
        chrono::NaiveDate::from_ymd_opt(year.unwrap_or(1), month.unwrap_or(1), day.unwrap_or(1))
    };
    let range = || {
        ExecError::coded(
            "22008",
            format!("date/time field value out of range: \"{text}\""),
        )
    };
    let date = date.ok_or_else(range)?;
    let time =
        chrono::NaiveTime::from_hms_micro_opt(hour, minute, second, micros).ok_or_else(range)?;
    Ok(date.and_time(time))
}

/// to_number(text, fmt): the digits, sign and decimal point the pattern
/// places (9 0 . D , G S MI PL PR, other characters skipped).
pub fn parse_number(text: &str, fmt: &str) -> Result<Numeric> {
    let mut digits = String::new();
    let mut neg = false;
    let upper = fmt.to_uppercase();
    let has_point = upper.contains(['.', 'D']);
    let mut seen_point = false;
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '.' if has_point && !seen_point => {
                seen_point = true;
                digits.push('.');
            }
            '-' | '<' => neg = true,
            _ => {}
        }
    }
    if digits.is_empty() || digits == "." {
        return Err(ExecError::coded(
            "22P02",
            format!("invalid input syntax for type numeric: \"{text}\""),
        ));
    }
    let n = Numeric::parse(&digits).ok_or_else(|| {
        ExecError::coded(
            "22P02",
            format!("invalid input syntax for type numeric: \"{text}\""),
        )
    })?;
    Ok(if neg { n.neg() } else { n })
}
