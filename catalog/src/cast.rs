//! Conversions between values: text input for every type (PostgreSQL's
//! accepted spellings), numeric widening and narrowing with range checks, and
//! type-modifier enforcement (varchar(n), char(n), numeric(p,s)).

use crate::numeric::Numeric;
use crate::types::{DataType, Value};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ValueError {
    #[error("invalid input syntax for type {ty}: \"{text}\"")]
    InvalidText { ty: String, text: String },
    #[error("{0} out of range")]
    OutOfRange(String),
    #[error("numeric field overflow")]
    NumericOverflow,
    #[error("value too long for type {0}")]
    StringTooLong(String),
    #[error("division by zero")]
    DivisionByZero,
    #[error("cannot cast type {from} to {to}")]
    CannotCast { from: String, to: String },
    #[error("invalid byte sequence for encoding \"UTF8\"")]
    BadEncoding,
    #[error("malformed {what}: \"{text}\"")]
    Malformed { what: String, text: String },
    #[error("{0}")]
    ArraySubscript(String),
    /// Not JSON; the detail says why.
    #[error("invalid input syntax for type json")]
    Json(String),
    /// 22023
    #[error("{0}")]
    InvalidParameter(String),
    #[error("invalid input value for enum {ty}: \"{text}\"")]
    InvalidEnum { ty: String, text: String },
    /// 22008: a well-formed date or time with a field out of range.
    #[error("date/time field value out of range: \"{0}\"")]
    DatetimeRange(String),
}

/// Why date/time text did not read: a field out of range when it has a
/// date's or time's shape (digits and separators), else bad syntax.
fn datetime_error(ty: &DataType, text: &str) -> ValueError {
    let t = text.trim();
    let shaped = !t.is_empty()
        && t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | ' ' | 'T' | '+' | '/'))
        && t.contains(['-', ':', '/']);
    if shaped {
        ValueError::DatetimeRange(text.to_string())
    } else {
        invalid(ty, text)
    }
}

fn invalid(ty: &DataType, text: &str) -> ValueError {
    ValueError::InvalidText {
        ty: ty.display_name_base(),
        text: text.to_string(),
    }
}

impl DataType {
    /// Base type name used in error messages ("integer", "numeric", ...).
    pub fn display_name_base(&self) -> String {
        match self {
            DataType::Numeric(_) => "numeric".into(),
            DataType::Varchar(_) => "character varying".into(),
            DataType::Char(_) => "character".into(),
            DataType::Bool => "boolean".into(),
            DataType::Time => "time".into(),
            t => t.display_name(),
        }
    }
}

/// A time setting as PostgreSQL reads it: a number with a unit (us, ms, s,
/// min, h, d), or a bare number in units of `bare`. Negative values read as
/// zero (PostgreSQL's "off" for the timeouts).
pub fn parse_duration(s: &str, bare: std::time::Duration) -> Option<std::time::Duration> {
    let s = s.trim().trim_matches('\'');
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let unit_secs = match unit.trim() {
        "" => bare.as_secs_f64(),
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    std::time::Duration::try_from_secs_f64((n * unit_secs).max(0.0)).ok()
}

/// A size setting as PostgreSQL reads it: "128MB", "1GB", "8kB", "512B", or
/// a bare number of 8 kB pages.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let idx = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(idx);
    let n: u64 = n.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" => 8192,
        "b" => 1,
        "kb" => 1 << 10,
        "mb" => 1 << 20,
        "gb" => 1 << 30,
        "tb" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    match s.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Some(crate::types::ts_infinity(true)),
        "-infinity" => return Some(crate::types::ts_infinity(false)),
        "epoch" => return DateTime::from_timestamp(0, 0).map(|d| d.naive_utc()),
        w @ ("now" | "today" | "tomorrow" | "yesterday") => {
            let now = crate::tz::to_local(&Utc::now());
            return Some(match w {
                "now" => now,
                _ => {
                    let d = now.date()
                        + chrono::Duration::days(match w {
                            "tomorrow" => 1,
                            "yesterday" => -1,
                            _ => 0,
                        });
                    d.and_time(NaiveTime::MIN)
                }
            });
        }
        _ => {}
    }
    // A date, then optionally a time after a blank or a 'T'.
    let (date, time) = match s.find([' ', 'T', 't']) {
        Some(p) => (&s[..p], s[p + 1..].trim()),
        None => (s, ""),
    };
    let d = parse_date_part(date)?;
    if time.is_empty() {
        return d.and_hms_opt(0, 0, 0);
    }
    // A zone on a timestamp without time zone is ignored, as in PostgreSQL.
    let t = parse_time(time).or_else(|| {
        let p = time.rfind(['+', '-'])?;
        parse_offset(&time[p..])?;
        parse_time(time[..p].trim())
    })?;
    Some(d.and_time(t))
}

/// A date as PostgreSQL reads it in ISO order: YYYY-MM-DD (also with
/// slashes), or YYYYMMDD.
fn parse_date_part(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .ok()
        .or_else(|| {
            (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
                .flatten()
        })
}

/// A UTC offset written after a time: +HH, +HHMM, +HH:MM, +HH:MM:SS.
fn parse_offset(z: &str) -> Option<i32> {
    let (sign, rest) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = if rest.contains(':') {
        rest.split(':').collect()
    } else {
        match rest.len() {
            1 | 2 => vec![rest],
            4 => vec![&rest[..2], &rest[2..]],
            6 => vec![&rest[..2], &rest[2..4], &rest[4..]],
            _ => return None,
        }
    };
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse::<i32>().ok());
    let (h, m, sec) = (n(0)?, n(1)?, n(2)?);
    if h > 15 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

pub fn parse_timestamptz(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Some(crate::types::ts_infinity(true).and_utc()),
        "-infinity" => return Some(crate::types::ts_infinity(false).and_utc()),
        "epoch" => return DateTime::from_timestamp(0, 0),
        "now" => return Some(Utc::now()),
        _ => {}
    }
    if let Some(head) = t.strip_suffix(['Z', 'z']) {
        return parse_timestamp(head).map(|n| n.and_utc());
    }
    // An offset after the time: the last '+' or '-' past the date.
    if let Some(p) = t.rfind(['+', '-']).filter(|&p| p > 10) {
        if let (Some(secs), Some(n)) = (parse_offset(t[p..].trim()), parse_timestamp(t[..p].trim()))
        {
            return Some((n - chrono::Duration::seconds(secs as i64)).and_utc());
        }
    }
    // A zone named after the time: '2024-01-15 12:00 America/New_York'.
    if let Some((head, zone)) = t.rsplit_once(' ') {
        let zone = zone.trim();
        if zone.eq_ignore_ascii_case("utc") || zone.eq_ignore_ascii_case("gmt") {
            if let Some(n) = parse_timestamp(head.trim()) {
                return Some(n.and_utc());
            }
        }
        if let (Some(z), Some(n)) = (crate::tz::Zone::parse(zone), parse_timestamp(head.trim())) {
            return Some(z.to_utc(&n));
        }
    }
    // No zone given: the session time zone.
    parse_timestamp(t).map(|n| crate::tz::from_local(&n))
}

fn parse_bytea(s: &str) -> Option<Vec<u8>> {
    if let Some(hex) = s.strip_prefix("\\x") {
        let hex: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if hex.len() % 2 != 0 {
            return None;
        }
        return hex
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
            .collect();
    }
    // Escape format: backslash-octal and doubled backslashes.
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if i + 1 < b.len() && b[i + 1] == b'\\' {
                out.push(b'\\');
                i += 2;
            } else if i + 3 < b.len() + 0
                && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
            {
                out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 4]).ok()?, 8).ok()?);
                i += 4;
            } else {
                return None;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

fn check_int(v: i64, ty: &DataType) -> Result<Value, ValueError> {
    match ty {
        DataType::Int2 => i16::try_from(v)
            .map(Value::Int2)
            .map_err(|_| ValueError::OutOfRange("smallint".into())),
        DataType::Int4 => i32::try_from(v)
            .map(Value::Int4)
            .map_err(|_| ValueError::OutOfRange("integer".into())),
        _ => Ok(Value::Int8(v)),
    }
}

/// Rounds and checks a numeric against numeric(p, s): 22003 when it has
/// more than p - s digits before the point (infinities never fit).
pub fn apply_numeric_typmod(d: Numeric, typmod: Option<(u32, u32)>) -> Result<Numeric, ValueError> {
    let Some((p, s)) = typmod else { return Ok(d) };
    if d.is_nan() {
        return Ok(d);
    }
    if d.is_infinite() {
        return Err(ValueError::NumericOverflow);
    }
    if d.scale() as u32 == s && d.int_digits() <= p.saturating_sub(s) as i64 {
        return Ok(d);
    }
    let r = d.round(s as i32).map_err(|_| ValueError::NumericOverflow)?;
    if r.int_digits() > p.saturating_sub(s) as i64 {
        return Err(ValueError::NumericOverflow);
    }
    Ok(r)
}

/// time input: `HH:MM[:SS[.frac]]` (24:00:00 is not supported).
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let t = s.trim();
    NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()
}

/// uuid input: 32 hex digits, optionally braced and with hyphens after any
/// group of four (PostgreSQL's accepted forms).
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut digits = 0;
    let mut hi = None;
    for c in t.chars() {
        if c == '-' {
            if digits == 0 || digits % 4 != 0 {
                return None;
            }
            continue;
        }
        let d = c.to_digit(16)? as u8;
        digits += 1;
        match hi.take() {
            None => hi = Some(d),
            Some(h) => {
                *out.get_mut(n)? = h << 4 | d;
                n += 1;
            }
        }
    }
    (n == 16 && hi.is_none() && !t.ends_with('-')).then_some(out)
}

/// Converts a value to a type, as CAST does (and assignment, for typmods).
pub fn cast(v: Value, to: &DataType) -> Result<Value, ValueError> {
    // A value already of the type (the planner casts operands to the type
    // an operator works in): nothing to do.
    match (&v, to) {
        (Value::Null, _)
        | (Value::Numeric(_), DataType::Numeric(None))
        | (Value::Int8(_), DataType::Int8)
        | (Value::Int4(_), DataType::Int4)
        | (Value::Int2(_), DataType::Int2)
        | (Value::Float8(_), DataType::Float8)
        | (Value::Float4(_), DataType::Float4)
        | (Value::Bool(_), DataType::Bool)
        | (Value::Date(_), DataType::Date)
        | (Value::Timestamp(_), DataType::Timestamp)
        | (Value::TimestampTz(_), DataType::TimestampTz)
        | (Value::Text(_), DataType::Text) => return Ok(v),
        _ => {}
    }
    let to = *to;
    Ok(match (v, to) {
        (Value::Text(s), t) => from_text(&s, &t)?,
        (Value::Json(s), DataType::Json) => Value::Json(s),
        (Value::Json(s), DataType::Jsonb) => from_text(&s, &to)?,
        (Value::Jsonb(j), DataType::Json) => Value::Json(j.to_string()),
        (v @ Value::Jsonb(_), DataType::Jsonb) => v,
        (v @ Value::Enum(_), DataType::Enum(_)) => v,
        (Value::Jsonb(j), t) if t.is_numeric() || t == DataType::Bool => {
            let v = match (*j, t) {
                (crate::json::Json::Number(n), t) if t != DataType::Bool => match n {
                    crate::json::Number::Dec(d) => Value::Numeric(d),
                    crate::json::Number::Big(b) => Value::Float8(b.parse().unwrap_or(f64::NAN)),
                },
                (crate::json::Json::Bool(b), DataType::Bool) => Value::Bool(b),
                (j, t) => {
                    return Err(ValueError::InvalidParameter(format!(
                        "cannot cast jsonb {} to type {}",
                        j.type_name(),
                        t.display_name()
                    )))
                }
            };
            cast(v, &t)?
        }
        (Value::Array(a), DataType::Array(_)) => {
            let elem = to.element().unwrap_or(DataType::Text);
            if a.elem == elem {
                Value::Array(a)
            } else {
                let items = a
                    .items
                    .into_iter()
                    .map(|v| cast(v, &elem))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Array(Box::new(crate::array::Array {
                    elem,
                    dims: a.dims,
                    items,
                }))
            }
        }
        (v @ Value::Bool(_), DataType::Bool) => v,
        (Value::Bool(b), DataType::Int4) => Value::Int4(b as i32),
        (Value::Int4(i), DataType::Bool) => Value::Bool(i != 0),
        (v, t) if t.is_integer() && v.as_i64().is_some() => {
            check_int(v.as_i64().expect("checked"), &t)?
        }
        (Value::Float4(f), t) if t.is_integer() => float_to_int(f as f64, &t)?,
        (Value::Float8(f), t) if t.is_integer() => float_to_int(f, &t)?,
        (Value::Numeric(d), t) if t.is_integer() => {
            if !d.is_finite() {
                return Err(ValueError::InvalidParameter(format!(
                    "cannot convert {} to {}",
                    if d.is_nan() { "NaN" } else { "infinity" },
                    t.display_name()
                )));
            }
            check_int(
                d.to_i64_round()
                    .ok_or_else(|| ValueError::OutOfRange(t.display_name()))?,
                &t,
            )?
        }
        (v, DataType::Float8) if v.as_f64().is_some() => {
            Value::Float8(v.as_f64().expect("checked"))
        }
        (v, DataType::Float4) if v.as_f64().is_some() => {
            Value::Float4(v.as_f64().expect("checked") as f32)
        }
        (Value::Float4(f), DataType::Numeric(tm)) => float_to_numeric(f as f64, tm)?,
        (Value::Float8(f), DataType::Numeric(tm)) => float_to_numeric(f, tm)?,
        (v, DataType::Numeric(tm)) if v.as_numeric().is_some() => {
            Value::Numeric(apply_numeric_typmod(v.as_numeric().expect("checked"), tm)?)
        }
        // A boolean cast to text is 'true'/'false' (its output form is t/f).
        (Value::Bool(b), DataType::Text | DataType::Varchar(_)) => {
            Value::Text(if b { "true" } else { "false" }.into())
        }
        (v, DataType::Text | DataType::Name | DataType::Unknown) => Value::Text(v.to_string()),
        (v, DataType::Int2Vector | DataType::OidVector) => Value::Text(v.to_string()),
        // "char": the first byte (an empty string stays empty).
        (v, DataType::QChar) => {
            let t = v.to_string();
            let end = t.char_indices().nth(1).map_or(t.len(), |(i, _)| i);
            Value::Text(t[..end].to_string())
        }
        (v, t @ (DataType::Varchar(_) | DataType::Char(_))) => from_text(&v.to_string(), &t)?,
        (v @ Value::Date(_), DataType::Date) => v,
        (Value::Date(d), DataType::Timestamp) => Value::Timestamp(d.and_time(NaiveTime::MIN)),
        (Value::Date(d), DataType::TimestampTz) => {
            Value::TimestampTz(crate::tz::from_local(&d.and_time(NaiveTime::MIN)))
        }
        (Value::Timestamp(t), DataType::Date) => Value::Date(t.date()),
        (v @ Value::Timestamp(_), DataType::Timestamp) => v,
        (Value::Timestamp(t), DataType::TimestampTz) => {
            Value::TimestampTz(crate::tz::from_local(&t))
        }
        (Value::TimestampTz(t), DataType::Timestamp) => Value::Timestamp(crate::tz::to_local(&t)),
        (Value::TimestampTz(t), DataType::Date) => Value::Date(crate::tz::to_local(&t).date()),
        (v @ Value::TimestampTz(_), DataType::TimestampTz) => v,
        (v @ Value::Bytea(_), DataType::Bytea) => v,
        (v @ Value::Interval(_), DataType::Interval) => v,
        (v @ Value::Uuid(_), DataType::Uuid) => v,
        (v @ Value::Time(_), DataType::Time) => v,
        (Value::Timestamp(t), DataType::Time) => Value::Time(t.time()),
        (Value::TimestampTz(t), DataType::Time) => Value::Time(crate::tz::to_local(&t).time()),
        (Value::Interval(i), DataType::Time) => Value::Time(
            crate::types::time_from_micros(i.micros)
                .ok_or(ValueError::OutOfRange("time".into()))?,
        ),
        (Value::Time(t), DataType::Interval) => Value::Interval(crate::interval::Interval::new(
            0,
            0,
            crate::types::time_micros(&t),
        )),
        (v, t) => {
            return Err(ValueError::CannotCast {
                from: v.data_type().display_name(),
                to: t.display_name(),
            });
        }
    })
}

fn float_to_int(f: f64, t: &DataType) -> Result<Value, ValueError> {
    if !f.is_finite() || f.round().abs() > 9.2e18 {
        return Err(ValueError::OutOfRange(t.display_name()));
    }
    // PostgreSQL rounds half to even for float → int (rint).
    check_int(f.round_ties_even() as i64, t)
}

fn float_to_numeric(f: f64, tm: Option<(u32, u32)>) -> Result<Value, ValueError> {
    let d = if f.is_finite() {
        Numeric::parse(&crate::types::format_float(f, false)).ok_or(ValueError::NumericOverflow)?
    } else {
        Numeric::from_f64(f).ok_or(ValueError::NumericOverflow)?
    };
    Ok(Value::Numeric(apply_numeric_typmod(d, tm)?))
}

/// Text input of a type.
pub fn from_text(s: &str, ty: &DataType) -> Result<Value, ValueError> {
    Ok(match ty {
        DataType::Bool => Value::Bool(parse_bool(s).ok_or_else(|| invalid(ty, s))?),
        DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Oid => {
            let t = s.trim();
            match t.parse::<i64>() {
                Ok(v) => check_int(v, ty)?,
                Err(_) => {
                    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
                    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ValueError::OutOfRange(ty.display_name()));
                    }
                    return Err(invalid(ty, s));
                }
            }
        }
        DataType::Float4 | DataType::Float8 => {
            let t = s.trim().to_ascii_lowercase();
            let f = match t.as_str() {
                "nan" => f64::NAN,
                "infinity" | "inf" | "+infinity" => f64::INFINITY,
                "-infinity" | "-inf" => f64::NEG_INFINITY,
                _ => t.parse::<f64>().map_err(|_| invalid(ty, s))?,
            };
            if *ty == DataType::Float4 {
                Value::Float4(f as f32)
            } else {
                Value::Float8(f)
            }
        }
        DataType::Numeric(tm) => {
            let d = Numeric::parse(s).ok_or_else(|| invalid(ty, s))?;
            Value::Numeric(apply_numeric_typmod(d, *tm)?)
        }
        DataType::Text | DataType::Name | DataType::Unknown | DataType::Varchar(None) => {
            Value::Text(s.to_string())
        }
        DataType::QChar => {
            let end = s.char_indices().nth(1).map_or(s.len(), |(i, _)| i);
            Value::Text(s[..end].to_string())
        }
        DataType::Int2Vector | DataType::OidVector => {
            for w in s.split_whitespace() {
                w.parse::<i64>().map_err(|_| invalid(ty, s))?;
            }
            Value::Text(s.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        DataType::Varchar(Some(n)) => {
            if s.chars().count() > *n as usize {
                let trimmed = s.trim_end_matches(' ');
                if trimmed.chars().count() > *n as usize {
                    return Err(ValueError::StringTooLong(ty.display_name()));
                }
                Value::Text(s.chars().take(*n as usize).collect())
            } else {
                Value::Text(s.to_string())
            }
        }
        DataType::Char(n) => {
            let len = s.chars().count();
            let n = *n as usize;
            if len > n {
                if s.trim_end_matches(' ').chars().count() > n {
                    return Err(ValueError::StringTooLong(ty.display_name()));
                }
                Value::Text(s.chars().take(n).collect())
            } else {
                let mut t = s.to_string();
                t.extend(std::iter::repeat_n(' ', n - len));
                Value::Text(t)
            }
        }
        DataType::Bytea => Value::Bytea(parse_bytea(s).ok_or_else(|| invalid(ty, s))?),
        DataType::Date => {
            let t = s.trim();
            Value::Date(match t.to_ascii_lowercase().as_str() {
                "infinity" | "+infinity" => NaiveDate::MAX,
                "-infinity" => NaiveDate::MIN,
                _ => parse_date_part(t)
                    .or_else(|| parse_timestamp(t).map(|x| x.date()))
                    .ok_or_else(|| datetime_error(ty, s))?,
            })
        }
        DataType::Timestamp => {
            Value::Timestamp(parse_timestamp(s).ok_or_else(|| datetime_error(ty, s))?)
        }
        DataType::Uuid => Value::Uuid(parse_uuid(s).ok_or_else(|| invalid(ty, s))?),
        DataType::Time => Value::Time(parse_time(s).ok_or_else(|| datetime_error(ty, s))?),
        DataType::Interval => Value::Interval(
            crate::interval::Interval::parse(s, None).ok_or_else(|| invalid(ty, s))?,
        ),
        DataType::TimestampTz => {
            Value::TimestampTz(parse_timestamptz(s).ok_or_else(|| datetime_error(ty, s))?)
        }
        DataType::Enum(oid) => {
            Value::Enum(
                crate::enums::parse(*oid, s).ok_or_else(|| ValueError::InvalidEnum {
                    ty: ty.display_name(),
                    text: s.to_string(),
                })?,
            )
        }
        DataType::Json => {
            crate::json::Json::parse(s).map_err(|e| ValueError::Json(e.0))?;
            Value::Json(s.to_string())
        }
        DataType::Jsonb => Value::Jsonb(Box::new(
            crate::json::Json::parse(s).map_err(|e| ValueError::Json(e.0))?,
        )),
        DataType::Array(_) => Value::Array(Box::new(crate::array::Array::parse(
            s,
            &ty.element().unwrap_or(DataType::Text),
        )?)),
        DataType::ExpandRecord => {
            Value::Array(Box::new(crate::array::Array::parse(s, &DataType::Int4)?))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts() {
        assert_eq!(from_text("42", &DataType::Int4).unwrap(), Value::Int4(42));
        assert!(matches!(
            from_text("abc", &DataType::Int4),
            Err(ValueError::InvalidText { .. })
        ));
        assert!(matches!(
            from_text("99999999999", &DataType::Int4),
            Err(ValueError::OutOfRange(_))
        ));
        assert_eq!(
            from_text("1.005", &DataType::Numeric(Some((5, 2))))
                .unwrap()
                .to_string(),
            "1.01"
        );
        assert_eq!(
            from_text("ab", &DataType::Char(4)).unwrap().to_string(),
            "ab  "
        );
        assert!(from_text("abcdef", &DataType::Varchar(Some(3))).is_err());
        assert!(matches!(
            from_text("1000", &DataType::Numeric(Some((4, 2)))),
            Err(ValueError::NumericOverflow)
        ));
        assert_eq!(
            cast(Value::Float8(2.5), &DataType::Int4).unwrap(),
            Value::Int4(2)
        );
        assert_eq!(
            from_text("\\x0aff", &DataType::Bytea).unwrap().to_string(),
            "\\x0aff"
        );
    }
}
