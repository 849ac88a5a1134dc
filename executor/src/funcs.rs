//! Built-in scalar functions (the ones the planner types in
//! `function_type`): strings, math, time, and the catalog helpers psql calls.

use crate::error::{ExecError, Result};
use crate::eval::EvalCtx;
use basalt_catalog::cast::ValueError;
use basalt_catalog::Numeric;
use basalt_catalog::{DataType, Value};
use std::cmp::Ordering;

fn text(v: &Value) -> String {
    v.to_string()
}

/// pg_constraint rows for PRIMARY KEY / UNIQUE take their index's OID plus
/// this (see catalog::system).
const CONSTRAINT_OID_OFFSET: u32 = 1_000_000;

use basalt_catalog::system::index_def;

/// Parses an array's text form (`{a,"b c",NULL}`) into its elements.
pub fn parse_array(s: &str) -> Result<Vec<Option<String>>> {
    let bad = || {
        ExecError::Value(ValueError::InvalidText {
            ty: "array".into(),
            text: s.to_string(),
        })
    };
    let inner = s
        .trim()
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(bad)?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut cur = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => cur.push(chars.next().ok_or_else(bad)?),
                    Some(c) => cur.push(c),
                    None => return Err(bad()),
                }
            }
        }
        loop {
            match chars.peek() {
                Some(',') | None => break,
                Some(_) if quoted => {
                    if !chars.next().is_some_and(|c| c.is_whitespace()) {
                        return Err(bad());
                    }
                }
                Some(_) => {
                    let c = chars.next().unwrap_or_default();
                    if c == '\\' {
                        cur.push(chars.next().ok_or_else(bad)?);
                    } else {
                        cur.push(c);
                    }
                }
            }
        }
        let v = if quoted {
            cur
        } else {
            cur.trim_end().to_string()
        };
        out.push(if !quoted && v.eq_ignore_ascii_case("NULL") {
            None
        } else {
            Some(v)
        });
        if chars.next().is_none() {
            return Ok(out);
        }
    }
}

/// An array's text form, quoting elements as PostgreSQL does.
pub fn format_array(elems: &[Option<String>]) -> String {
    let parts: Vec<String> = elems
        .iter()
        .map(|e| match e {
            None => "NULL".to_string(),
            Some(v)
                if v.is_empty()
                    || v.eq_ignore_ascii_case("NULL")
                    || v.chars().any(|c| {
                        matches!(c, ',' | '{' | '}' | '"' | '\\') || c.is_whitespace()
                    }) =>
            {
                format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Some(v) => v.clone(),
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

pub fn call(name: &str, a: Vec<Value>, cx: &EvalCtx<'_>) -> Result<Value> {
    if let Some(r) = (cx.admin)(name, &a) {
        return r;
    }
    if let Some(r) = crate::arrays::call(name, &a) {
        return r;
    }
    if let Some(r) = crate::json::call(name, &a) {
        return r;
    }
    // Functions that are not strict (NULL in, maybe non-NULL out).
    match name {
        "coalesce" => return Ok(a.into_iter().find(|v| !v.is_null()).unwrap_or(Value::Null)),
        "nullif" => {
            return Ok(
                if a.len() == 2
                    && !a[0].is_null()
                    && !a[1].is_null()
                    && a[0].cmp_total(&a[1]) == Ordering::Equal
                {
                    Value::Null
                } else {
                    a.into_iter().next().unwrap_or(Value::Null)
                },
            )
        }
        "greatest" | "least" => {
            let mut best: Option<Value> = None;
            for v in a.into_iter().filter(|v| !v.is_null()) {
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let o = v.cmp_total(&b);
                        if (name == "greatest" && o == Ordering::Greater)
                            || (name == "least" && o == Ordering::Less)
                        {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            return Ok(best.unwrap_or(Value::Null));
        }
        "concat" => {
            return Ok(Value::Text(
                a.iter().filter(|v| !v.is_null()).map(text).collect(),
            ))
        }
        "concat_ws" => {
            let sep = a.first().map(text).unwrap_or_default();
            return Ok(Value::Text(
                a.iter()
                    .skip(1)
                    .filter(|v| !v.is_null())
                    .map(text)
                    .collect::<Vec<_>>()
                    .join(&sep),
            ));
        }
        "obj_description" | "col_description" => {
            let oid = a.first().and_then(|v| v.as_i64()).unwrap_or(-1);
            let sub = if name == "col_description" {
                a.get(1).and_then(|v| v.as_i64()).unwrap_or(-1) as i32
            } else {
                0
            };
            return Ok(cx
                .schema
                .tables
                .iter()
                .find(|t| t.oid as i64 == oid)
                .and_then(|t| t.comments.iter().find(|c| c.0 == sub))
                .map(|c| Value::Text(c.1.clone()))
                .unwrap_or(Value::Null));
        }
        "shobj_description" | "pg_get_expr" => {
            if name == "pg_get_expr" {
                return Ok(match a.into_iter().next() {
                    Some(Value::Text(e)) => Value::Text(qualify_nextval(&e, cx)),
                    other => other.unwrap_or(Value::Null),
                });
            }
            return Ok(Value::Null);
        }
        "now"
        | "statement_timestamp"
        | "transaction_timestamp"
        | "clock_timestamp"
        | "pg_postmaster_start_time" => {
            return Ok(Value::TimestampTz(if name == "clock_timestamp" {
                chrono::Utc::now()
            } else {
                cx.now
            }))
        }
        "current_date" => return Ok(Value::Date(basalt_catalog::tz::to_local(&cx.now).date())),
        // current_time is timetz in PostgreSQL; Basalt gives the local time.
        "current_time" | "localtime" => {
            return Ok(Value::Time(basalt_catalog::tz::to_local(&cx.now).time()))
        }
        "version" => {
            return Ok(Value::Text(format!(
                "PostgreSQL 15.0 (Basalt {}) on x86_64-pc-linux-gnu, compiled by rustc, 64-bit",
                env!("CARGO_PKG_VERSION")
            )))
        }
        "current_database" => return Ok(Value::Text(cx.schema.database_name())),
        "current_schema" => return Ok(Value::Text("public".into())),
        "pg_backend_pid" => return Ok(Value::Int4(cx.backend_pid)),
        "random" => {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(cx.now.timestamp_nanos_opt().unwrap_or(0) as u64);
            return Ok(Value::Float8(
                (h.finish() >> 11) as f64 / (1u64 << 53) as f64,
            ));
        }
        "pi" => return Ok(Value::Float8(std::f64::consts::PI)),
        "pg_is_in_recovery" => return Ok(Value::Bool(false)),
        _ => {}
    }
    // format_type takes a NULL typmod as "none".
    if name == "format_type" && a.len() == 2 && a[1].is_null() && !a[0].is_null() {
        return call(name, vec![a[0].clone(), Value::Int4(-1)], cx);
    }
    if a.iter().any(|v| v.is_null()) {
        return Ok(Value::Null);
    }
    let f = |i: usize| a.get(i).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    let i = |i: usize| {
        a.get(i)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .unwrap_or(0)
    };
    let s = |i: usize| a.get(i).map(text).unwrap_or_default();
    Ok(match name {
        "current_setting" => match (cx.settings)(&s(0)) {
            Some(v) => Value::Text(v),
            // current_setting(name, missing_ok => true)
            None if a.get(1).is_some_and(crate::eval::truthy) => Value::Null,
            None => return Err(ExecError::UnknownSetting(s(0))),
        },
        "pg_table_is_visible" | "pg_type_is_visible" | "has_database_privilege" => {
            Value::Bool(true)
        }
        "pg_encoding_to_char" => Value::Text(if i(0) == 6 {
            "UTF8".into()
        } else {
            "SQL_ASCII".into()
        }),
        "format_type" => {
            let ty = DataType::from_oid(i(0) as u32);
            let typmod = i(1) as i32;
            match ty {
                Some(DataType::Numeric(_)) if typmod >= 4 => {
                    let m = typmod - 4;
                    Value::Text(format!("numeric({},{})", m >> 16, m & 0xffff))
                }
                Some(DataType::Varchar(_)) if typmod >= 4 => {
                    Value::Text(format!("character varying({})", typmod - 4))
                }
                Some(DataType::Char(_)) if typmod >= 4 => {
                    Value::Text(format!("character({})", typmod - 4))
                }
                Some(DataType::Char(_)) => Value::Text("character".into()),
                // An enum outside the search path is qualified, as
                // PostgreSQL's format_type does (pg_dump's search_path is
                // empty).
                Some(t @ (DataType::Enum(_) | DataType::Array(_)))
                    if matches!(t.element().unwrap_or(t), DataType::Enum(_)) =>
                {
                    let enum_oid = match t.element().unwrap_or(t) {
                        DataType::Enum(o) => o,
                        _ => 0,
                    };
                    let def = cx.schema.enums.iter().find(|d| d.oid == enum_oid);
                    let mut name = t.display_name();
                    if let Some(d) = def {
                        let ns = cx.schema.namespace_name(d.namespace);
                        let path = (cx.settings)("search_path").unwrap_or_default();
                        let visible = path
                            .split(',')
                            .map(|p| p.trim().trim_matches('"'))
                            .any(|p| p == ns);
                        if !visible {
                            name = format!("{ns}.{name}");
                        }
                    }
                    Value::Text(name)
                }
                Some(t) => Value::Text(t.display_name()),
                None => Value::Text("???".into()),
            }
        }
        "lower" => Value::Text(s(0).to_lowercase()),
        "upper" => Value::Text(s(0).to_uppercase()),
        "initcap" => {
            let mut out = String::new();
            let mut start = true;
            for c in s(0).chars() {
                if c.is_alphanumeric() {
                    if start {
                        out.extend(c.to_uppercase());
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    start = false;
                } else {
                    out.push(c);
                    start = true;
                }
            }
            Value::Text(out)
        }
        "length" | "char_length" | "character_length" => match &a[0] {
            Value::Bytea(b) => Value::Int4(b.len() as i32),
            v => Value::Int4(
                text(v)
                    .trim_end_matches(if matches!(v, Value::Text(_)) {
                        '\0'
                    } else {
                        ' '
                    })
                    .chars()
                    .count() as i32,
            ),
        },
        "octet_length" => Value::Int4(match &a[0] {
            Value::Bytea(b) => b.len() as i32,
            v => text(v).len() as i32,
        }),
        "md5" => Value::Text(md5_hex(s(0).as_bytes())),
        "btrim" | "ltrim" | "rtrim" => {
            let chars: Vec<char> = if a.len() > 1 {
                s(1).chars().collect()
            } else {
                vec![' ']
            };
            let t = s(0);
            Value::Text(match name {
                "btrim" => t.trim_matches(|c| chars.contains(&c)).to_string(),
                "ltrim" => t.trim_start_matches(|c| chars.contains(&c)).to_string(),
                _ => t.trim_end_matches(|c| chars.contains(&c)).to_string(),
            })
        }
        "substr" => {
            let chars: Vec<char> = s(0).chars().collect();
            let start = i(1);
            let (from, to) = if a.len() > 2 {
                let len = i(2);
                if len < 0 {
                    return Err(ExecError::Internal(
                        "negative substring length not allowed".into(),
                    ));
                }
                (start, start.saturating_add(len))
            } else {
                (start, i64::MAX)
            };
            let from = (from.max(1) - 1) as usize;
            let to = (to.max(1) - 1).min(chars.len() as i64) as usize;
            Value::Text(if from < to {
                chars[from..to].iter().collect()
            } else {
                String::new()
            })
        }
        "left" | "right" => {
            let chars: Vec<char> = s(0).chars().collect();
            let n = i(1);
            let k = if n >= 0 {
                (n as usize).min(chars.len())
            } else {
                chars.len().saturating_sub((-n) as usize)
            };
            Value::Text(if name == "left" {
                chars[..k].iter().collect()
            } else {
                chars[chars.len() - k..].iter().collect()
            })
        }
        "strpos" => Value::Int4(
            s(0).find(&s(1))
                .map(|p| s(0)[..p].chars().count() as i32 + 1)
                .unwrap_or(0),
        ),
        "replace" => Value::Text(s(0).replace(&s(1), &s(2))),
        "repeat" => Value::Text(s(0).repeat(i(1).max(0) as usize)),
        "reverse" => Value::Text(s(0).chars().rev().collect()),
        "starts_with" => Value::Bool(s(0).starts_with(&s(1))),
        "split_part" => {
            let n = i(2);
            let parts: Vec<String> = s(0).split(&s(1)).map(|x| x.to_string()).collect();
            Value::Text(if n >= 1 {
                parts.get(n as usize - 1).cloned().unwrap_or_default()
            } else {
                String::new()
            })
        }
        "lpad" | "rpad" => {
            let t: Vec<char> = s(0).chars().collect();
            let n = i(1).max(0) as usize;
            let fill: Vec<char> = if a.len() > 2 {
                s(2).chars().collect()
            } else {
                vec![' ']
            };
            if t.len() >= n || fill.is_empty() {
                Value::Text(t[..n.min(t.len())].iter().collect())
            } else {
                let pad: String = fill.iter().cycle().take(n - t.len()).collect();
                let body: String = t.iter().collect();
                Value::Text(if name == "lpad" {
                    pad + &body
                } else {
                    body + &pad
                })
            }
        }
        "chr" => Value::Text(
            char::from_u32(i(0) as u32)
                .map(|c| c.to_string())
                .unwrap_or_default(),
        ),
        "ascii" => Value::Int4(s(0).chars().next().map(|c| c as i32).unwrap_or(0)),
        // 'text' with quotes doubled; E'...' when it holds a backslash.
        "quote_literal" | "quote_nullable" => {
            let v = s(0);
            let q = v.replace('\'', "''");
            Value::Text(if v.contains('\\') {
                format!("E'{}'", q.replace('\\', "\\\\"))
            } else {
                format!("'{q}'")
            })
        }
        "quote_ident" => {
            let t = s(0);
            if t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !t.is_empty()
            {
                Value::Text(t)
            } else {
                Value::Text(format!("\"{}\"", t.replace('"', "\"\"")))
            }
        }
        "translate" => {
            let from: Vec<char> = s(1).chars().collect();
            let to: Vec<char> = s(2).chars().collect();
            Value::Text(
                s(0).chars()
                    .filter_map(|c| match from.iter().position(|x| *x == c) {
                        Some(p) => to.get(p).copied(),
                        None => Some(c),
                    })
                    .collect(),
            )
        }
        "abs" => match &a[0] {
            Value::Int2(x) => Value::Int2(
                x.checked_abs()
                    .ok_or(ValueError::OutOfRange("smallint".into()))?,
            ),
            Value::Int4(x) => Value::Int4(
                x.checked_abs()
                    .ok_or(ValueError::OutOfRange("integer".into()))?,
            ),
            Value::Int8(x) => Value::Int8(
                x.checked_abs()
                    .ok_or(ValueError::OutOfRange("bigint".into()))?,
            ),
            Value::Numeric(d) => Value::Numeric(d.abs()),
            Value::Float4(x) => Value::Float4(x.abs()),
            v => Value::Float8(v.as_f64().unwrap_or(f64::NAN).abs()),
        },
        "ceil" | "ceiling" | "floor" | "round" | "trunc" | "sign" => match &a[0] {
            Value::Float4(_) | Value::Float8(_) => {
                let x = f(0);
                let r = match name {
                    "ceil" | "ceiling" => x.ceil(),
                    "floor" => x.floor(),
                    "round" => x.round_ties_even(),
                    "trunc" => x.trunc(),
                    _ => x.signum(),
                };
                if matches!(a[0], Value::Float4(_)) {
                    Value::Float4(r as f32)
                } else {
                    Value::Float8(r)
                }
            }
            v => {
                let d = crate::eval::numeric_of(v).unwrap_or_default();
                let places = if a.len() > 1 { i(1) as i32 } else { 0 };
                Value::Numeric(
                    match name {
                        "ceil" | "ceiling" => Ok(d.ceil()),
                        "floor" => Ok(d.floor()),
                        "round" => d.round(places),
                        "trunc" => d.trunc(places),
                        _ => Ok(d.signum()),
                    }
                    .map_err(crate::eval::numeric_error)?,
                )
            }
        },
        "mod" => crate::eval::arith(basalt_planner::BinOp::Mod, &a[0], &a[1])?,
        "div" => {
            let q = crate::eval::arith(basalt_planner::BinOp::Div, &a[0], &a[1])?;
            match q {
                Value::Numeric(d) => {
                    Value::Numeric(d.trunc(0).map_err(crate::eval::numeric_error)?)
                }
                v => v,
            }
        }
        "sqrt" | "exp" | "ln" | "log" | "log10" | "power" | "pow"
            if a.iter().any(|v| matches!(v, Value::Numeric(_)))
                && !a
                    .iter()
                    .any(|v| matches!(v, Value::Float4(_) | Value::Float8(_))) =>
        {
            let n = |k: usize| crate::eval::numeric_of(&a[k]).unwrap_or_default();
            let r = match (name, a.len()) {
                ("sqrt", _) => n(0).sqrt(),
                ("exp", _) => n(0).exp(),
                ("ln", _) => n(0).ln(),
                ("log" | "log10", 1) => n(0).log(&Numeric::from(10i64)),
                ("log", _) => n(1).log(&n(0)),
                _ => n(0).pow(&n(1)),
            };
            Value::Numeric(r.map_err(|e| match e {
                basalt_catalog::numeric::NumericError::Domain(m) if m.contains("logarithm") => {
                    ExecError::coded("2201E", m)
                }
                e => crate::eval::numeric_error(e),
            })?)
        }
        "sqrt" => {
            if f(0) < 0.0 {
                return Err(ExecError::coded(
                    "2201F",
                    "cannot take square root of a negative number",
                ));
            }
            Value::Float8(f(0).sqrt())
        }
        "cbrt" => Value::Float8(f(0).cbrt()),
        "exp" => Value::Float8(f(0).exp()),
        "ln" | "log" | "log10" => {
            for k in 0..a.len() {
                if f(k) == 0.0 {
                    return Err(ExecError::coded("2201E", "cannot take logarithm of zero"));
                }
                if f(k) < 0.0 {
                    return Err(ExecError::coded(
                        "2201E",
                        "cannot take logarithm of a negative number",
                    ));
                }
            }
            Value::Float8(match (name, a.len()) {
                ("ln", _) => f(0).ln(),
                (_, 2) => f(1).log(f(0)),
                _ => f(0).log10(),
            })
        }
        "to_hex" => Value::Text(format!("{:x}", i(0))),
        "regexp_replace" => {
            let flags = if a.len() > 3 { s(3) } else { String::new() };
            let re = crate::regex::Regex::new(&s(1), flags.contains('i'))
                .map_err(ExecError::InvalidRegex)?;
            // PostgreSQL writes back-references \1; the regex crate ${1}.
            let mut repl = String::new();
            let r = s(2);
            let mut it = r.chars().peekable();
            while let Some(c) = it.next() {
                match (c, it.peek()) {
                    ('\\', Some(d)) if d.is_ascii_digit() => {
                        repl.push_str(&format!("${{{d}}}"));
                        it.next();
                    }
                    ('\\', Some('&')) => {
                        repl.push_str("${0}");
                        it.next();
                    }
                    ('$', _) => repl.push_str("$$"),
                    (c, _) => repl.push(c),
                }
            }
            let text = s(0);
            Value::Text(if flags.contains('g') {
                re.replace_all(&text, repl.as_str())
            } else {
                re.replace(&text, repl.as_str())
            })
        }
        "power" | "pow" => {
            let (x, y) = (f(0), f(1));
            if x == 0.0 && y < 0.0 {
                return Err(ExecError::coded(
                    "2201F",
                    "zero raised to a negative power is undefined",
                ));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(ExecError::coded(
                    "2201F",
                    "a negative number raised to a non-integer power yields a complex result",
                ));
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(ExecError::coded("22003", "value out of range: overflow"));
            }
            Value::Float8(r)
        }
        "degrees" => Value::Float8(f(0).to_degrees()),
        "radians" => Value::Float8(f(0).to_radians()),
        "sin" => Value::Float8(f(0).sin()),
        "cos" => Value::Float8(f(0).cos()),
        "tan" => Value::Float8(f(0).tan()),
        "pg_size_pretty" => {
            let b = i(0);
            Value::Text(if b < 10 * 1024 {
                format!("{b} bytes")
            } else if b < 10 * 1024 * 1024 {
                format!("{} kB", (b + 512) / 1024)
            } else if b < 10 * 1024 * 1024 * 1024 {
                format!("{} MB", (b + 512 * 1024) / (1024 * 1024))
            } else {
                format!("{} GB", (b + 512 * 1024 * 1024) / (1024 * 1024 * 1024))
            })
        }
        "extract" | "date_part" => {
            let field = s(0).to_lowercase();
            // PostgreSQL gives seconds and epochs six decimals.
            let scaled = |f: f64, scale: u32| -> Result<Value> {
                let d = Numeric::from_f64(f)
                    .ok_or_else(|| ExecError::Internal("extract: value out of range".into()))?;
                Ok(Value::Numeric(
                    d.round(scale as i32).map_err(crate::eval::numeric_error)?,
                ))
            };
            let dt = match &a[1] {
                Value::Time(t) => {
                    use chrono::Timelike;
                    let us = basalt_catalog::types::time_micros(t);
                    return Ok(Value::Numeric(match field.as_str() {
                        "hour" => t.hour().into(),
                        "minute" => t.minute().into(),
                        "second" => Numeric::new(us % 60_000_000, 6),
                        "milliseconds" => Numeric::new(us % 60_000_000, 3),
                        "microseconds" => (us % 60_000_000).into(),
                        "epoch" => Numeric::new(us, 6),
                        other => {
                            return Err(ExecError::Internal(format!(
                                "unit \"{other}\" not supported for type time without time zone"
                            )))
                        }
                    }));
                }
                Value::Date(d) => d.and_hms_opt(0, 0, 0).expect("midnight"),
                Value::Timestamp(t) => *t,
                // The epoch of a timestamptz is absolute; its fields are
                // those of the session's local time.
                Value::TimestampTz(t) if field == "epoch" => t.naive_utc(),
                Value::TimestampTz(t) if field == "timezone" => {
                    let off = basalt_catalog::tz::offset_at(&t.naive_utc());
                    return Ok(Value::Numeric(off.local_minus_utc().into()));
                }
                Value::TimestampTz(t) => basalt_catalog::tz::to_local(t),
                Value::Interval(iv) => {
                    let f = iv.field(&field).ok_or_else(|| {
                        ExecError::Internal(format!(
                            "unit \"{field}\" not supported for type interval"
                        ))
                    })?;
                    return match field.as_str() {
                        "epoch" | "second" => scaled(f, 6),
                        "milliseconds" => scaled(f, 3),
                        _ => Ok(Value::Numeric(Numeric::from(f as i64))),
                    };
                }
                _ => {
                    return Err(ExecError::Internal(
                        "extract needs a date, timestamp or interval".into(),
                    ))
                }
            };
            use chrono::{Datelike, Timelike};
            let micros_in_minute = dt.second() as i64 * 1_000_000 + dt.nanosecond() as i64 / 1000;
            let n: Numeric = match field.as_str() {
                "year" => dt.year().into(),
                "month" => dt.month().into(),
                "day" => dt.day().into(),
                "hour" => dt.hour().into(),
                "minute" => dt.minute().into(),
                "second" => Numeric::new(micros_in_minute, 6),
                "milliseconds" => Numeric::new(micros_in_minute, 3),
                "microseconds" => micros_in_minute.into(),
                "dow" => dt.weekday().num_days_from_sunday().into(),
                "isodow" => dt.weekday().number_from_monday().into(),
                "doy" => dt.ordinal().into(),
                "epoch" => Numeric::new(dt.and_utc().timestamp_micros(), 6),
                "quarter" => ((dt.month() - 1) / 3 + 1).into(),
                "week" => dt.iso_week().week().into(),
                "isoyear" => dt.iso_week().year().into(),
                "decade" => dt.year().div_euclid(10).into(),
                "century" => ((dt.year() + if dt.year() > 0 { 99 } else { 0 }) / 100).into(),
                "millennium" => ((dt.year() + if dt.year() > 0 { 999 } else { 0 }) / 1000).into(),
                other => {
                    return Err(ExecError::Internal(format!(
                        "unit \"{other}\" not recognized"
                    )))
                }
            };
            Value::Numeric(n)
        }
        "age" => {
            let ts = |v: &Value| match v {
                Value::Date(d) => Some(d.and_hms_opt(0, 0, 0).expect("midnight")),
                Value::Timestamp(t) => Some(*t),
                Value::TimestampTz(t) => Some(basalt_catalog::tz::to_local(t)),
                _ => None,
            };
            let (x, y) = if a.len() == 1 {
                let today = cx.now.date_naive().and_hms_opt(0, 0, 0).expect("midnight");
                (Some(today), ts(&a[0]))
            } else {
                (ts(&a[0]), ts(&a[1]))
            };
            match (x, y) {
                (Some(x), Some(y)) => Value::Interval(
                    basalt_catalog::Interval::age(x, y)
                        .ok_or_else(|| ExecError::Internal("interval out of range".into()))?,
                ),
                _ => return Err(ExecError::Internal("age needs timestamps".into())),
            }
        }
        "similar_to_escape" => {
            // SQL's SIMILAR TO pattern as a POSIX regex matching the whole
            // string: % is .*, _ is ., the escape character quotes.
            let esc = s(1).chars().next();
            let mut re = String::from("^(?:");
            let pat = s(0);
            let mut it = pat.chars().peekable();
            let mut in_class = false;
            while let Some(c) = it.next() {
                if Some(c) == esc {
                    if let Some(n) = it.next() {
                        if n.is_alphanumeric() {
                            re.push(n);
                        } else {
                            re.push('\\');
                            re.push(n);
                        }
                    }
                    continue;
                }
                match c {
                    '[' => {
                        in_class = true;
                        re.push(c)
                    }
                    ']' => {
                        in_class = false;
                        re.push(c)
                    }
                    '%' if !in_class => re.push_str(".*"),
                    '_' if !in_class => re.push('.'),
                    '.' | '^' | '$' | '\\' if !in_class => {
                        re.push('\\');
                        re.push(c)
                    }
                    c => re.push(c),
                }
            }
            re.push_str(")$");
            Value::Text(re)
        }
        "justify_hours" | "justify_days" | "justify_interval" => match &a[0] {
            Value::Interval(i) => Value::Interval(match name {
                "justify_hours" => i.justify_hours(),
                "justify_days" => i.justify_days(),
                _ => i.justify_interval(),
            }),
            _ => return Err(ExecError::Internal(format!("{name} needs an interval"))),
        },
        "date_trunc" => {
            use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
            let unit = s(0).to_lowercase();
            let tr = |t: NaiveDateTime| -> Option<NaiveDateTime> {
                let d = t.date();
                Some(match unit.as_str() {
                    "year" => NaiveDate::from_ymd_opt(d.year(), 1, 1)?.and_hms_opt(0, 0, 0)?,
                    "month" => {
                        NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.and_hms_opt(0, 0, 0)?
                    }
                    "day" => d.and_hms_opt(0, 0, 0)?,
                    "week" => {
                        (d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64))
                            .and_hms_opt(0, 0, 0)?
                    }
                    "quarter" => NaiveDate::from_ymd_opt(d.year(), (d.month() - 1) / 3 * 3 + 1, 1)?
                        .and_hms_opt(0, 0, 0)?,
                    "decade" => NaiveDate::from_ymd_opt(d.year().div_euclid(10) * 10, 1, 1)?
                        .and_hms_opt(0, 0, 0)?,
                    "century" => {
                        let y = d.year();
                        let c = if y > 0 { (y - 1) / 100 * 100 + 1 } else { y };
                        NaiveDate::from_ymd_opt(c, 1, 1)?.and_hms_opt(0, 0, 0)?
                    }
                    "millennium" => {
                        let y = d.year();
                        let m = if y > 0 { (y - 1) / 1000 * 1000 + 1 } else { y };
                        NaiveDate::from_ymd_opt(m, 1, 1)?.and_hms_opt(0, 0, 0)?
                    }
                    "hour" => d.and_hms_opt(t.hour(), 0, 0)?,
                    "minute" => d.and_hms_opt(t.hour(), t.minute(), 0)?,
                    "second" => d.and_hms_opt(t.hour(), t.minute(), t.second())?,
                    "milliseconds" => d.and_hms_micro_opt(
                        t.hour(),
                        t.minute(),
                        t.second(),
                        t.nanosecond() / 1_000_000 * 1000,
                    )?,
                    "microseconds" => t,
                    _ => return None,
                })
            };
            let bad = || {
                ExecError::Internal(format!("unit \"{unit}\" not recognized for type timestamp"))
            };
            match &a[1] {
                Value::Timestamp(t) => Value::Timestamp(tr(*t).ok_or_else(bad)?),
                Value::TimestampTz(t) => Value::TimestampTz(basalt_catalog::tz::from_local(
                    &tr(basalt_catalog::tz::to_local(t)).ok_or_else(bad)?,
                )),
                Value::Date(d) => Value::TimestampTz(basalt_catalog::tz::from_local(
                    &tr(d.and_hms_opt(0, 0, 0).expect("midnight")).ok_or_else(bad)?,
                )),
                Value::Interval(iv) => {
                    // Fields below the unit become zero.
                    let (m, dd, us) = (iv.months, iv.days, iv.micros);
                    let h = 3_600_000_000i64;
                    let r = match unit.as_str() {
                        "millennium" => (m / 12000 * 12000, 0, 0),
                        "century" => (m / 1200 * 1200, 0, 0),
                        "decade" => (m / 120 * 120, 0, 0),
                        "year" => (m / 12 * 12, 0, 0),
                        "quarter" => (m / 3 * 3, 0, 0),
                        "month" => (m, 0, 0),
                        "day" => (m, dd, 0),
                        "hour" => (m, dd, us / h * h),
                        "minute" => (m, dd, us / 60_000_000 * 60_000_000),
                        "second" => (m, dd, us / 1_000_000 * 1_000_000),
                        "milliseconds" => (m, dd, us / 1000 * 1000),
                        "microseconds" => (m, dd, us),
                        _ => {
                            return Err(ExecError::coded(
                                "22023",
                                format!("unit \"{unit}\" not supported for type interval"),
                            ))
                        }
                    };
                    Value::Interval(basalt_catalog::Interval::new(r.0, r.1, r.2))
                }
                _ => return Err(bad()),
            }
        }
        "to_char" => crate::to_char::to_char(&a[0], &s(1))?,
        "to_date" => Value::Date(crate::to_char::parse_datetime(&s(0), &s(1))?.date()),
        "to_timestamp" if a.len() == 2 => Value::TimestampTz(basalt_catalog::tz::from_local(
            &crate::to_char::parse_datetime(&s(0), &s(1))?,
        )),
        "to_timestamp" => {
            let secs = f(0);
            if !secs.is_finite() {
                return Ok(Value::TimestampTz(if secs > 0.0 {
                    chrono::DateTime::<chrono::Utc>::MAX_UTC
                } else {
                    chrono::DateTime::<chrono::Utc>::MIN_UTC
                }));
            }
            let us = (secs * 1e6).round();
            Value::TimestampTz(
                chrono::DateTime::from_timestamp_micros(us as i64)
                    .ok_or_else(|| ExecError::coded("22008", "timestamp out of range"))?,
            )
        }
        "to_number" => Value::Numeric(crate::to_char::parse_number(&s(0), &s(1))?),
        "make_date" | "make_timestamp" | "make_timestamptz" => {
            let range = || {
                ExecError::coded(
                    "22008",
                    format!(
                        "date field value out of range: {}-{:02}-{:02}",
                        i(0),
                        i(1),
                        i(2)
                    ),
                )
            };
            let d = chrono::NaiveDate::from_ymd_opt(i(0) as i32, i(1) as u32, i(2) as u32)
                .ok_or_else(range)?;
            if name == "make_date" {
                Value::Date(d)
            } else {
                let secs = f(5);
                let t = chrono::NaiveTime::from_hms_micro_opt(
                    i(3) as u32,
                    i(4) as u32,
                    secs.trunc() as u32,
                    ((secs.fract() * 1e6).round() as u32).min(999_999),
                )
                .filter(|_| (0.0..60.0).contains(&secs))
                .ok_or_else(|| {
                    ExecError::coded(
                        "22008",
                        format!(
                            "time field value out of range: {}:{:02}:{:02}",
                            i(3),
                            i(4),
                            secs
                        ),
                    )
                })?;
                let dt = d.and_time(t);
                if name == "make_timestamp" {
                    Value::Timestamp(dt)
                } else if a.len() > 6 {
                    let z = basalt_catalog::tz::Zone::parse(&s(6)).ok_or_else(|| {
                        ExecError::coded("22023", format!("time zone \"{}\" not recognized", s(6)))
                    })?;
                    let prev = basalt_catalog::tz::current();
                    basalt_catalog::tz::set(Some(z));
                    let v = basalt_catalog::tz::from_local(&dt);
                    basalt_catalog::tz::set(prev);
                    Value::TimestampTz(v)
                } else {
                    Value::TimestampTz(basalt_catalog::tz::from_local(&dt))
                }
            }
        }
        "make_time" => {
            let secs = f(2);
            Value::Time(
                chrono::NaiveTime::from_hms_micro_opt(
                    i(0) as u32,
                    i(1) as u32,
                    secs.trunc() as u32,
                    ((secs.fract() * 1e6).round() as u32).min(999_999),
                )
                .filter(|_| (0.0..60.0).contains(&secs))
                .ok_or_else(|| ExecError::coded("22008", "time field value out of range"))?,
            )
        }
        "make_interval" => {
            let g = |k: usize| a.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
            let secs = a.get(6).and_then(|v| v.as_f64()).unwrap_or(0.0);
            let months = g(0) * 12 + g(1);
            let days = g(2) * 7 + g(3);
            let micros = (g(4) * 3600 + g(5) * 60) as f64 * 1e6 + (secs * 1e6).round();
            Value::Interval(basalt_catalog::Interval::new(
                i32::try_from(months)
                    .map_err(|_| ExecError::coded("22008", "interval out of range"))?,
                i32::try_from(days)
                    .map_err(|_| ExecError::coded("22008", "interval out of range"))?,
                micros as i64,
            ))
        }
        "int_and" | "int_or" | "int_xor" | "int_shl" | "int_shr" | "int_not" => {
            let (x, y) = (i(0), i(1));
            let r = match name {
                "int_and" => x & y,
                "int_or" => x | y,
                "int_xor" => x ^ y,
                "int_not" => !x,
                // PostgreSQL shifts by the count modulo the type's width.
                _ => {
                    let bits = match a[0] {
                        Value::Int2(_) => 16,
                        Value::Int4(_) => 32,
                        _ => 64,
                    };
                    let n = (y.rem_euclid(bits)) as u32;
                    match (name, &a[0]) {
                        ("int_shl", Value::Int2(v)) => v.wrapping_shl(n) as i64,
                        ("int_shl", Value::Int4(v)) => v.wrapping_shl(n) as i64,
                        ("int_shl", _) => x.wrapping_shl(n),
                        (_, Value::Int2(v)) => (v >> n) as i64,
                        (_, Value::Int4(v)) => (v >> n) as i64,
                        _ => x >> n,
                    }
                }
            };
            match a[0] {
                Value::Int2(_) => Value::Int2(r as i16),
                Value::Int4(_) => Value::Int4(r as i32),
                _ => Value::Int8(r),
            }
        }
        "substring_regex" | "regexp_match" => {
            let flags = if name == "regexp_match" && a.len() > 2 {
                s(2)
            } else {
                String::new()
            };
            let re = crate::regex::Regex::new(&s(1), flags.contains('i'))
                .map_err(ExecError::InvalidRegex)?;
            match re.captures(&s(0)) {
                None => Value::Null,
                Some(groups) if name == "substring_regex" => groups
                    .into_iter()
                    .next()
                    .flatten()
                    .map(Value::Text)
                    .unwrap_or(Value::Null),
                Some(groups) => Value::Array(Box::new(basalt_catalog::types::Array::from_items(
                    basalt_catalog::DataType::Text,
                    groups
                        .into_iter()
                        .map(|g| g.map(Value::Text).unwrap_or(Value::Null))
                        .collect(),
                ))),
            }
        }
        "encode" => {
            let b = match &a[0] {
                Value::Bytea(b) => b.clone(),
                v => v.to_string().into_bytes(),
            };
            Value::Text(match s(1).to_lowercase().as_str() {
                "hex" => b.iter().map(|x| format!("{x:02x}")).collect(),
                "base64" => {
                    use base64::Engine;
                    // PostgreSQL breaks base64 lines at 76 characters.
                    let t = base64::engine::general_purpose::STANDARD.encode(&b);
                    t.as_bytes()
                        .chunks(76)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                        .join("\n")
                }
                "escape" => b
                    .iter()
                    .map(|&x| match x {
                        b'\\' => "\\\\".to_string(),
                        0 | 0x80..=0xff => format!("\\{x:03o}"),
                        x => (x as char).to_string(),
                    })
                    .collect(),
                f => {
                    return Err(ExecError::coded(
                        "22023",
                        format!("unrecognized encoding: \"{f}\""),
                    ))
                }
            })
        }
        "decode" => {
            let t = s(0);
            Value::Bytea(match s(1).to_lowercase().as_str() {
                "hex" => {
                    let h: Vec<u8> = t.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                    if h.len() % 2 != 0 {
                        return Err(ExecError::coded(
                            "22023",
                            "invalid hexadecimal data: odd number of digits",
                        ));
                    }
                    h.chunks(2)
                        .map(|c| {
                            u8::from_str_radix(std::str::from_utf8(c).unwrap_or("zz"), 16)
                                .map_err(|_| ExecError::coded("22023", "invalid hexadecimal digit"))
                        })
                        .collect::<Result<Vec<u8>>>()?
                }
                "base64" => {
                    use base64::Engine;
                    let clean: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .map_err(|_| ExecError::coded("22023", "invalid base64 sequence"))?
                }
                "escape" => basalt_catalog::cast::from_text(&t, &basalt_catalog::DataType::Bytea)
                    .map_err(ExecError::Value)
                    .and_then(|v| match v {
                        Value::Bytea(b) => Ok(b),
                        _ => Err(ExecError::coded("22023", "invalid escape data")),
                    })?,
                f => {
                    return Err(ExecError::coded(
                        "22023",
                        format!("unrecognized encoding: \"{f}\""),
                    ))
                }
            })
        }
        "sha256" | "sha384" | "sha512" => {
            let b = match &a[0] {
                Value::Bytea(b) => b.clone(),
                v => v.to_string().into_bytes(),
            };
            let alg = match name {
                "sha256" => &ring::digest::SHA256,
                "sha384" => &ring::digest::SHA384,
                _ => &ring::digest::SHA512,
            };
            Value::Bytea(ring::digest::digest(alg, &b).as_ref().to_vec())
        }
        "pg_get_serial_sequence" => {
            // The sequence a column owns, schema-qualified.
            let tname = s(0);
            let (ns, tn) = match tname.rsplit_once('.') {
                Some((n, t)) => (
                    Some(n.trim_matches('"').to_string()),
                    t.trim_matches('"').to_string(),
                ),
                None => (None, tname.trim_matches('"').to_string()),
            };
            let t = cx.schema.tables.iter().find(|t| {
                t.name == tn
                    && ns
                        .as_ref()
                        .is_none_or(|n| cx.schema.namespace_name(t.namespace) == *n)
            });
            let Some(t) = t else {
                return Err(ExecError::coded(
                    "42P01",
                    format!("relation \"{tname}\" does not exist"),
                ));
            };
            let col = s(1);
            let Some(c) = t.columns.iter().position(|c| c.name == col) else {
                return Err(ExecError::coded(
                    "42703",
                    format!("column \"{col}\" of relation \"{}\" does not exist", t.name),
                ));
            };
            cx.schema
                .sequences
                .iter()
                .find(|q| q.owned_by == Some((t.oid, c as i16 + 1)))
                .map_or(Value::Null, |q| {
                    Value::Text(format!(
                        "{}.{}",
                        basalt_catalog::system::quote_ident(&cx.schema.namespace_name(q.namespace)),
                        basalt_catalog::system::quote_ident(&q.name)
                    ))
                })
        }
        "basalt_rtrim_blank" => Value::Text(s(0).trim_end_matches(' ').to_string()),
        "basalt_truncate" => Value::Text(s(0).chars().take(i(1).max(0) as usize).collect()),
        "overlay" => {
            // overlay(s placing r from n [for m])
            let src: Vec<char> = s(0).chars().collect();
            let rep = s(1);
            let from = (i(2).max(1) - 1) as usize;
            let count = if a.len() > 3 {
                i(3).max(0) as usize
            } else {
                rep.chars().count()
            };
            let mut out: String = src.iter().take(from).collect();
            out.push_str(&rep);
            out.extend(src.iter().skip(from + count));
            Value::Text(out)
        }
        "timezone" => {
            // ts AT TIME ZONE zone: timestamptz → local time there;
            // timestamp → the instant that local time there names.
            let zname = s(0);
            let z = basalt_catalog::tz::Zone::parse(&zname).ok_or_else(|| {
                ExecError::coded("22023", format!("time zone \"{zname}\" not recognized"))
            })?;
            match &a[1] {
                Value::TimestampTz(t) => {
                    let n = t.naive_utc();
                    Value::Timestamp(n + z.offset_at(&n))
                }
                Value::Timestamp(t) => Value::TimestampTz(z.to_utc(t)),
                Value::Date(d) => {
                    Value::TimestampTz(z.to_utc(&d.and_hms_opt(0, 0, 0).expect("midnight")))
                }
                other => {
                    return Err(ExecError::coded(
                        "42883",
                        format!(
                            "function timezone(unknown, {}) does not exist",
                            other.data_type().display_name()
                        ),
                    ))
                }
            }
        }
        "inet_server_addr" => Value::Text("127.0.0.1".into()),
        "gen_random_uuid" => {
            // Version 4: random but for the version and variant bits.
            use ring::rand::SecureRandom;
            let mut u = [0u8; 16];
            ring::rand::SystemRandom::new()
                .fill(&mut u)
                .map_err(|_| ExecError::Internal("no randomness for gen_random_uuid".into()))?;
            u[6] = (u[6] & 0x0f) | 0x40;
            u[8] = (u[8] & 0x3f) | 0x80;
            Value::Uuid(u)
        }
        "pg_get_statisticsobjdef_columns" => Value::Null,
        "pg_relation_is_publishable" => Value::Bool(false),
        "pg_function_is_visible" => Value::Bool(true),
        // acldefault(kind, owner): the privileges an object of that kind
        // has before any GRANT or REVOKE (as aclitem[] text).
        "acldefault" => {
            let owner = cx.schema.role_name(i(1) as u32);
            let items = match s(0).as_str() {
                "r" => format!("{owner}=arwdDxt/{owner}"),
                "s" => format!("{owner}=rwU/{owner}"),
                "n" => format!("{owner}=UC/{owner}"),
                "d" => format!("=Tc/{owner},{owner}=CTc/{owner}"),
                "f" => format!("=X/{owner},{owner}=X/{owner}"),
                "T" => format!("=U/{owner},{owner}=U/{owner}"),
                "c" => format!("{owner}=arwx/{owner}"),
                _ => String::new(),
            };
            Value::Text(format!("{{{items}}}"))
        }
        "pg_partition_ancestors" | "pg_partition_root" => {
            match a[0].as_i64().or_else(|| s(0).parse().ok()) {
                Some(o) => Value::Int8(o),
                None => match cx.schema.tables.iter().find(|t| t.name == s(0)) {
                    Some(t) => Value::Int8(t.oid as i64),
                    None => Value::Null,
                },
            }
        }
        "to_regclass" => {
            let parts: Vec<String> = s(0)
                .split('.')
                .map(|p| {
                    if p.starts_with('"') {
                        p.trim_matches('"').to_string()
                    } else {
                        p.to_lowercase()
                    }
                })
                .collect();
            let sc = cx.schema;
            let (ns, name) = match parts.as_slice() {
                [n] => (None, n.as_str()),
                [s, n] => (sc.namespace_oid(s), n.as_str()),
                _ => return Ok(Value::Null),
            };
            // A qualified name in its schema; else the search path's.
            let path = (cx.settings)("search_path").unwrap_or_default();
            let namespaces: Vec<u32> = match (parts.len(), ns) {
                (1, _) => path
                    .split(',')
                    .filter_map(|p| sc.namespace_oid(p.trim().trim_matches('"')))
                    .collect(),
                (_, Some(n)) => vec![n],
                _ => vec![],
            };
            let found = namespaces
                .iter()
                .find_map(|&n| {
                    sc.relation(n, name)
                        .map(|(t, i)| i.map_or(t.oid, |i| t.indexes[i].oid))
                        .or_else(|| sc.view(n, name).map(|v| v.oid))
                        .or_else(|| sc.sequence(n, name).map(|q| q.oid))
                })
                .or_else(|| basalt_catalog::system::catalog_oid(name));
            found.map_or(Value::Null, |o| Value::Int8(o as i64))
        }
        "to_regtype" => {
            let text = s(0);
            let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_data_type())
                .ok()
                .and_then(|t| basalt_planner::bind::convert_type(&t).ok());
            let bare = text.rsplit('.').next().unwrap_or("").trim_matches('"');
            match parsed {
                Some(t) if !matches!(t, DataType::Enum(_)) && t.oid() != 0 => {
                    Value::Int8(t.oid() as i64)
                }
                _ => match cx.schema.enums.iter().find(|e| e.name == bare) {
                    Some(e) => Value::Int8(e.oid as i64),
                    None => Value::Null,
                },
            }
        }
        "to_regnamespace" => match cx.schema.namespace_oid(s(0).trim_matches('"')) {
            Some(o) => Value::Int8(o as i64),
            None => Value::Null,
        },
        "to_regrole" => match cx.schema.role(s(0).trim_matches('"')) {
            Some(r) => Value::Int8(r.oid as i64),
            None => Value::Null,
        },
        // Basalt has no functions, operators or collations to name.
        "to_regproc" | "to_regprocedure" | "to_regoper" | "to_regoperator" | "to_regcollation" => {
            Value::Null
        }
        "__vector_array" => return crate::arrays::vector_array(&a),
        "__like_escape" => {
            // A pattern with escape character `e` (none if empty) in the
            // default backslash form.
            let esc = s(1).chars().next();
            let mut out = String::new();
            let pat = s(0);
            let mut chars = pat.chars().peekable();
            while let Some(c) = chars.next() {
                if Some(c) == esc {
                    match chars.next() {
                        Some(n) => {
                            out.push('\\');
                            out.push(n);
                        }
                        None => {
                            return Err(ExecError::coded(
                                "22025",
                                "LIKE pattern must not end with escape character",
                            ))
                        }
                    }
                } else if c == '\\' {
                    out.push_str("\\\\");
                } else {
                    out.push(c);
                }
            }
            Value::Text(out)
        }
        "__regclass_name" => {
            let oid = i(0) as u32;
            let sc = cx.schema;
            let name = sc
                .tables
                .iter()
                .find_map(|t| {
                    if t.oid == oid {
                        return Some(t.name.clone());
                    }
                    t.indexes
                        .iter()
                        .find(|x| x.oid == oid)
                        .map(|x| x.name.clone())
                })
                .or_else(|| {
                    sc.views
                        .iter()
                        .find(|v| v.oid == oid)
                        .map(|v| v.name.clone())
                })
                .or_else(|| {
                    sc.sequences
                        .iter()
                        .find(|q| q.oid == oid)
                        .map(|q| q.name.clone())
                })
                .or_else(|| {
                    basalt_catalog::system::catalog_name(oid).map(|n| format!("pg_catalog.{n}"))
                });
            Value::Text(name.unwrap_or_else(|| oid.to_string()))
        }
        "__regtype_name" => Value::Text(match DataType::from_oid(i(0) as u32) {
            Some(t) => t.display_name(),
            None => i(0).to_string(),
        }),
        // The built-in tablespaces live in the data directory.
        "pg_tablespace_location" => Value::Text(String::new()),
        "pg_get_ruledef"
        | "pg_get_triggerdef"
        | "pg_get_function_result"
        | "pg_get_function_arguments"
        | "pg_get_function_identity_arguments" => Value::Null,
        "pg_get_viewdef" => {
            // By OID or by (possibly qualified) name; the defining query
            // as stored, ending in a semicolon as PostgreSQL's does.
            let view = match &a[0] {
                Value::Text(n) => {
                    let name = n.rsplit('.').next().unwrap_or(n).trim_matches('"');
                    cx.schema.views.iter().find(|v| v.name == name)
                }
                v => {
                    let oid = v.as_i64().unwrap_or(-1) as u32;
                    cx.schema.views.iter().find(|v| v.oid == oid)
                }
            };
            view.map_or(Value::Null, |v| {
                let sql = qualify_relations(v.sql.trim().trim_end_matches(';'), v.namespace, cx);
                Value::Text(format!(" {sql};"))
            })
        }
        // pg_get_indexdef(index, column, pretty): that key column's
        // definition; column 0 (or none): the CREATE INDEX.
        "pg_get_indexdef" if a.len() >= 2 && i(1) != 0 => {
            let oid = i(0) as u32;
            let key = cx.schema.tables.iter().find_map(|t| {
                let ix = t.indexes.iter().find(|x| x.oid == oid)?;
                let c = *ix.columns.get(i(1) as usize - 1)?;
                Some(match t.columns.get(c) {
                    Some(col) => basalt_catalog::system::quote_ident(&col.name),
                    None => ix
                        .exprs
                        .get(c - basalt_catalog::store::EXPR_KEY)
                        .cloned()
                        .unwrap_or_default(),
                })
            });
            key.map_or(Value::Null, Value::Text)
        }
        "pg_get_indexdef" => {
            index_def(cx.schema, i(0) as u32, false).map_or(Value::Null, Value::Text)
        }
        "pg_get_constraintdef" => basalt_catalog::system::constraint_def(cx.schema, i(0) as u32)
            .or_else(|| {
                index_def(
                    cx.schema,
                    (i(0) as u32).wrapping_sub(CONSTRAINT_OID_OFFSET),
                    true,
                )
            })
            .map(|d| qualify_references(&d, cx))
            .map(|d| {
                // pretty: a CHECK without its doubled parentheses.
                match (
                    a.get(1).is_some_and(crate::eval::truthy),
                    d.strip_prefix("CHECK (("),
                ) {
                    (true, Some(rest))
                        if rest.ends_with("))") && balanced(&rest[..rest.len() - 2]) =>
                    {
                        format!("CHECK ({}", &rest[..rest.len() - 1])
                    }
                    _ => d,
                }
            })
            .map_or(Value::Null, Value::Text),
        other => {
            return Err(ExecError::Internal(format!(
                "function {other} is not implemented"
            )))
        }
    })
}

/// Whether schema `ns` is on the session's search_path (its names need
/// no qualification then, as PostgreSQL's deparsing decides).
fn on_search_path(ns: &str, cx: &crate::eval::EvalCtx<'_>) -> bool {
    let path = (cx.settings)("search_path").unwrap_or_default();
    ns == "pg_catalog"
        || path.split(',').any(|p| {
            let p = p.trim().trim_matches('"');
            p == ns
        })
}

/// A stored view query with each table it names qualified by its schema
/// when that schema is not on the search_path (pg_dump sets an empty one).
fn qualify_relations(sql: &str, view_ns: u32, cx: &crate::eval::EvalCtx<'_>) -> String {
    use sqlparser::ast::{visit_relations_mut, Ident, ObjectNamePart};
    let Ok(mut stmts) = basalt_parser::sqlparser::parser::Parser::parse_sql(
        &basalt_parser::sqlparser::dialect::PostgreSqlDialect {},
        sql,
    ) else {
        return sql.to_string();
    };
    let schema = cx.schema;
    let _ = visit_relations_mut(&mut stmts, |name| {
        if let [ObjectNamePart::Identifier(id)] = name.0.as_slice() {
            let n = id.value.to_lowercase();
            let ns = [view_ns, basalt_catalog::store::NS_PUBLIC]
                .into_iter()
                .chain(schema.schemas.iter().map(|s| s.oid))
                .find(|&ns| {
                    schema.relation(ns, &n).is_some()
                        || schema.view(ns, &n).is_some()
                        || schema.sequence(ns, &n).is_some()
                });
            if let Some(ns) = ns {
                let nsname = schema.namespace_name(ns);
                if !on_search_path(&nsname, cx) {
                    name.0
                        .insert(0, ObjectNamePart::Identifier(Ident::new(nsname)));
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    stmts
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A foreign key's `REFERENCES table(...)` with the table's schema when
/// that is not on the search_path.
fn qualify_references(def: &str, cx: &crate::eval::EvalCtx<'_>) -> String {
    let Some((head, rest)) = def.split_once(" REFERENCES ") else {
        return def.to_string();
    };
    let Some((table, tail)) = rest.split_once('(') else {
        return def.to_string();
    };
    let bare = table.trim().trim_matches('"');
    if table.contains('.') {
        return def.to_string();
    }
    match cx.schema.tables.iter().find(|t| t.name == bare) {
        Some(t) => {
            let ns = cx.schema.namespace_name(t.namespace);
            if on_search_path(&ns, cx) {
                def.to_string()
            } else {
                format!("{head} REFERENCES {ns}.{table}({tail}")
            }
        }
        None => def.to_string(),
    }
}

/// A default's `nextval('seq'::regclass)` with the sequence's schema when
/// that is not on the search_path.
fn qualify_nextval(expr: &str, cx: &crate::eval::EvalCtx<'_>) -> String {
    let Some(rest) = expr.strip_prefix("nextval('") else {
        return expr.to_string();
    };
    let Some((seq, tail)) = rest.split_once('\'') else {
        return expr.to_string();
    };
    if seq.contains('.') {
        return expr.to_string();
    }
    match cx.schema.sequences.iter().find(|q| q.name == seq) {
        Some(q) => {
            let ns = cx.schema.namespace_name(q.namespace);
            if on_search_path(&ns, cx) {
                expr.to_string()
            } else {
                format!("nextval('{ns}.{seq}'{tail}")
            }
        }
        None => expr.to_string(),
    }
}

/// Whether every parenthesis in `s` closes one opened before it, and all
/// are closed.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The 32 lowercase hex digits of MD5(data).
pub fn md5_hex(data: &[u8]) -> String {
    format!("{:032x}", md5_digest(data))
}

/// MD5 (RFC 1321), for md5() and MD5 passwords.
pub(crate) fn md5_digest(data: &[u8]) -> u128 {
    let s: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) =
        (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = data.to_vec();
    let bitlen = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bitlen.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().expect("4")))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(s[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&a0.to_le_bytes());
    out[4..8].copy_from_slice(&b0.to_le_bytes());
    out[8..12].copy_from_slice(&c0.to_le_bytes());
    out[12..].copy_from_slice(&d0.to_le_bytes());
    u128::from_be_bytes(out)
}
