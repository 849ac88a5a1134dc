//! json and jsonb functions and operators: field and path access, the
//! jsonb containment, existence, concatenation and deletion operators,
//! the builders and converters (to_json, json_build_object, ...), and the
//! set-returning functions (jsonb_each, jsonb_array_elements, ...).
//!
//! `json` keeps its input text, so its accessors return members as
//! written; `jsonb` works on the parsed tree.

use crate::error::{ExecError, Result};
use basalt_catalog::cast::ValueError;
use basalt_catalog::json::{self, raw_members, Json};
use basalt_catalog::Value;

fn jsonb(j: Json) -> Value {
    Value::Jsonb(Box::new(j))
}

fn invalid(msg: impl Into<String>) -> ExecError {
    ExecError::Value(ValueError::InvalidParameter(msg.into()))
}

/// The tree of a json or jsonb value.
pub fn tree(v: &Value) -> Result<Json> {
    match v {
        Value::Jsonb(j) => Ok((**j).clone()),
        Value::Json(s) | Value::Text(s) => {
            Json::parse(s).map_err(|e| ExecError::Value(ValueError::Json(e.0)))
        }
        other => Ok(to_jsonb(other)),
    }
}

/// to_jsonb: a SQL value as jsonb.
pub fn to_jsonb(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) | Value::Numeric(_) => {
            Json::Number(json::parse_number(&v.to_string()))
        }
        Value::Float4(_) | Value::Float8(_) => {
            let f = v.as_f64().unwrap_or(f64::NAN);
            if f.is_finite() {
                Json::Number(json::parse_number(&v.to_string()))
            } else {
                Json::String(v.to_string())
            }
        }
        Value::Jsonb(j) => (**j).clone(),
        Value::Json(s) => Json::parse(s).unwrap_or(Json::String(s.clone())),
        Value::Array(a) => array_tree(&a.dims, &a.items),
        other => Json::String(datetime_text(other).unwrap_or_else(|| other.to_string())),
    }
}

fn array_tree(dims: &[(i32, i32)], items: &[Value]) -> Json {
    match dims {
        [] => Json::Array(vec![]),
        [_] => Json::Array(items.iter().map(to_jsonb).collect()),
        [_, rest @ ..] => {
            let inner: usize = rest.iter().map(|d| d.1 as usize).product();
            Json::Array(
                items
                    .chunks(inner.max(1))
                    .map(|c| array_tree(rest, c))
                    .collect(),
            )
        }
    }
}

/// Dates and times as JSON writes them (ISO 8601 with a `T`).
fn datetime_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Timestamp(_) => v.to_string().replacen(' ', "T", 1),
        Value::TimestampTz(_) => {
            let s = v.to_string().replacen(' ', "T", 1);
            format!("{}:00", s)
        }
        _ => return None,
    })
}

/// to_json: a SQL value as json text, in PostgreSQL's layout (arrays
/// without spaces).
pub fn to_json_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Json(s) => s.clone(),
        Value::Array(a) => {
            fn level(dims: &[(i32, i32)], items: &[Value], out: &mut String) {
                out.push('[');
                match dims {
                    [] => {}
                    [_] => {
                        for (i, v) in items.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            out.push_str(&to_json_text(v));
                        }
                    }
                    [_, rest @ ..] => {
                        let inner: usize = rest.iter().map(|d| d.1 as usize).product();
                        for (i, c) in items.chunks(inner.max(1)).enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            level(rest, c, out);
                        }
                    }
                }
                out.push(']');
            }
            let mut out = String::new();
            level(&a.dims, &a.items, &mut out);
            out
        }
        Value::Float4(_) | Value::Float8(_) => {
            let f = v.as_f64().unwrap_or(f64::NAN);
            if f.is_finite() {
                v.to_string()
            } else {
                quoted(&v.to_string())
            }
        }
        Value::Bool(_) | Value::Int2(_) | Value::Int4(_) | Value::Int8(_) | Value::Numeric(_) => {
            to_jsonb(v).to_string()
        }
        Value::Jsonb(j) => j.to_string(),
        other => quoted(&datetime_text(other).unwrap_or_else(|| other.to_string())),
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    json::write_string(&mut out, s);
    out
}

fn text_array(v: &Value) -> Result<Vec<Option<String>>> {
    Ok(match crate::arrays::as_array(v)? {
        Some(a) => a
            .items
            .iter()
            .map(|x| (!x.is_null()).then(|| x.to_string()))
            .collect(),
        None => vec![],
    })
}

/// A member of a json text by key or index, as written.
fn raw_member(s: &str, key: Option<&str>, idx: Option<i64>) -> Option<String> {
    let m = raw_members(s)?;
    let is_object = s.trim_start().starts_with('{');
    match (key, idx) {
        (Some(k), _) if is_object => m
            .iter()
            .rev()
            .find(|(mk, _)| mk.as_deref() == Some(k))
            .map(|(_, r)| r.to_string()),
        (_, Some(i)) if !is_object => {
            let k = if i < 0 { m.len() as i64 + i } else { i };
            usize::try_from(k)
                .ok()
                .and_then(|k| m.get(k))
                .map(|(_, r)| r.to_string())
        }
        _ => None,
    }
}

/// `->>` of json text: strings unquoted, null as NULL.
fn raw_as_text(raw: &str) -> Result<Value> {
    Ok(match tree(&Value::Json(raw.to_string()))? {
        Json::Null => Value::Null,
        Json::String(s) => Value::Text(s),
        _ => Value::Text(raw.to_string()),
    })
}

/// Runs a json function or operator; None when `name` is not one.
pub fn call(name: &str, a: &[Value]) -> Option<Result<Value>> {
    Some(match name {
        "to_json" => Ok(if a[0].is_null() {
            Value::Null
        } else {
            Value::Json(to_json_text(&a[0]))
        }),
        "to_jsonb" => Ok(if a[0].is_null() {
            Value::Null
        } else {
            jsonb(to_jsonb(&a[0]))
        }),
        "json_build_object" | "jsonb_build_object" => build_object(name, a),
        // A whole row (row_to_json(t)): compact, as PostgreSQL writes records.
        "__json_row" | "__json_agg_row" => Ok(Value::Json(format!(
            "{}{{{}}}",
            if name == "__json_agg_row" {
                RECORD_MARK.to_string()
            } else {
                String::new()
            },
            a.chunks(2)
                .map(|kv| format!("{}:{}", quoted(&kv[0].to_string()), to_json_text(&kv[1])))
                .collect::<Vec<_>>()
                .join(",")
        ))),
        "__jsonb_row" => Ok(jsonb(Json::object(
            a.chunks(2)
                .map(|kv| (kv[0].to_string(), to_jsonb(&kv[1])))
                .collect(),
        ))),
        "json_build_array" => Ok(Value::Json(format!(
            "[{}]",
            a.iter().map(to_json_text).collect::<Vec<_>>().join(", ")
        ))),
        "jsonb_build_array" => Ok(jsonb(Json::Array(a.iter().map(to_jsonb).collect()))),
        _ => {
            if a.iter().any(|v| v.is_null()) && !matches!(name, "jsonb_set" | "jsonb_strip_nulls") {
                return name_is_json(name).then_some(Ok(Value::Null));
            }
            return strict(name, a);
        }
    })
}

fn name_is_json(name: &str) -> bool {
    name.starts_with("__json") || name.starts_with("json_") || name.starts_with("jsonb_")
}

fn strict(name: &str, a: &[Value]) -> Option<Result<Value>> {
    let r = (|| -> Result<Value> {
        Ok(match name {
            "__json_field" | "__json_field_text" | "__json_index" | "__json_index_text" => {
                let text = name.ends_with("_text");
                let (key, idx) = if name.starts_with("__json_field") {
                    (Some(a[1].to_string()), None)
                } else {
                    (None, a[1].as_i64())
                };
                if let Value::Json(s) = &a[0] {
                    return match raw_member(s, key.as_deref(), idx) {
                        None => Ok(Value::Null),
                        Some(r) if text => raw_as_text(&r),
                        Some(r) => Ok(Value::Json(r)),
                    };
                }
                let j = tree(&a[0])?;
                let m = match (key, idx) {
                    (Some(k), _) => j.get(&k),
                    (_, Some(i)) => j.index(i),
                    _ => None,
                };
                match m {
                    None => Value::Null,
                    Some(m) if text => m.as_text().map(Value::Text).unwrap_or(Value::Null),
                    Some(m) => jsonb(m.clone()),
                }
            }
            "__json_path"
            | "__json_path_text"
            | "jsonb_extract_path"
            | "jsonb_extract_path_text"
            | "json_extract_path"
            | "json_extract_path_text" => {
                let path: Vec<Option<String>> = if name.starts_with("__") {
                    text_array(&a[1])?
                } else {
                    a[1..].iter().map(|v| Some(v.to_string())).collect()
                };
                let text = name.ends_with("_text");
                if let Value::Json(s) = &a[0] {
                    let mut cur = s.clone();
                    for step in &path {
                        let Some(step) = step else {
                            return Ok(Value::Null);
                        };
                        let next = raw_member(&cur, Some(step), step.trim().parse().ok());
                        match next {
                            Some(n) => cur = n,
                            None => return Ok(Value::Null),
                        }
                    }
                    return if text {
                        raw_as_text(&cur)
                    } else {
                        Ok(Value::Json(cur))
                    };
                }
                let j = tree(&a[0])?;
                match j.path(&path) {
                    None => Value::Null,
                    Some(m) if text => m.as_text().map(Value::Text).unwrap_or(Value::Null),
                    Some(m) => jsonb(m.clone()),
                }
            }
            "__jsonb_contains" => Value::Bool(tree(&a[0])?.contains(&tree(&a[1])?)),
            "__jsonb_exists" | "__jsonb_exists_any" | "__jsonb_exists_all" => {
                let j = tree(&a[0])?;
                let has = |k: &str| match &j {
                    Json::Object(_) => j.get(k).is_some(),
                    Json::Array(v) => v.iter().any(|x| matches!(x, Json::String(s) if s == k)),
                    Json::String(s) => s == k,
                    _ => false,
                };
                Value::Bool(match name {
                    "__jsonb_exists" => has(&a[1].to_string()),
                    "__jsonb_exists_any" => text_array(&a[1])?.iter().flatten().any(|k| has(k)),
                    _ => text_array(&a[1])?.iter().flatten().all(|k| has(k)),
                })
            }
            "__jsonb_concat" => jsonb(concat(tree(&a[0])?, tree(&a[1])?)),
            "__jsonb_delete" => {
                let k = a[1].to_string();
                jsonb(match tree(&a[0])? {
                    Json::Object(m) => {
                        Json::Object(m.into_iter().filter(|(x, _)| *x != k).collect())
                    }
                    Json::Array(v) => Json::Array(
                        v.into_iter()
                            .filter(|x| !matches!(x, Json::String(s) if *s == k))
                            .collect(),
                    ),
                    _ => return Err(invalid("cannot delete from scalar")),
                })
            }
            "__jsonb_delete_keys" => {
                let keys: Vec<String> = text_array(&a[1])?.into_iter().flatten().collect();
                jsonb(match tree(&a[0])? {
                    Json::Object(m) => {
                        Json::Object(m.into_iter().filter(|(x, _)| !keys.contains(x)).collect())
                    }
                    Json::Array(v) => Json::Array(
                        v.into_iter()
                            .filter(|x| !matches!(x, Json::String(s) if keys.contains(s)))
                            .collect(),
                    ),
                    _ => return Err(invalid("cannot delete from scalar")),
                })
            }
            "__jsonb_delete_index" => {
                let i = a[1].as_i64().unwrap_or(0);
                jsonb(match tree(&a[0])? {
                    Json::Array(mut v) => {
                        let k = if i < 0 { v.len() as i64 + i } else { i };
                        if let Ok(k) = usize::try_from(k) {
                            if k < v.len() {
                                v.remove(k);
                            }
                        }
                        Json::Array(v)
                    }
                    Json::Object(_) => {
                        return Err(invalid("cannot delete from object using integer index"))
                    }
                    _ => return Err(invalid("cannot delete from scalar")),
                })
            }
            "__jsonb_delete_path" => {
                let path = text_array(&a[1])?;
                let mut j = tree(&a[0])?;
                if matches!(j, Json::Array(_) | Json::Object(_)) {
                    delete_path(&mut j, &path);
                    jsonb(j)
                } else {
                    return Err(invalid("cannot delete path in scalar"));
                }
            }
            "jsonb_typeof" | "json_typeof" => Value::Text(tree(&a[0])?.type_name().into()),
            "jsonb_array_length" | "json_array_length" => match tree(&a[0])? {
                Json::Array(v) => Value::Int4(v.len() as i32),
                Json::Object(_) => return Err(invalid("cannot get array length of a non-array")),
                _ => return Err(invalid("cannot get array length of a scalar")),
            },
            "jsonb_pretty" => Value::Text(tree(&a[0])?.pretty()),
            "jsonb_strip_nulls" | "json_strip_nulls" => {
                if a[0].is_null() {
                    return Ok(Value::Null);
                }
                let j = strip_nulls(tree(&a[0])?);
                if name == "json_strip_nulls" {
                    Value::Json(j.to_string())
                } else {
                    jsonb(j)
                }
            }
            "jsonb_set" => {
                if a[..3].iter().any(|v| v.is_null()) {
                    return Ok(Value::Null);
                }
                let create = a.get(3).map(|v| crate::eval::truthy(v)).unwrap_or(true);
                let path = text_array(&a[1])?;
                let mut j = tree(&a[0])?;
                set_path(&mut j, &path, tree(&a[2])?, create)?;
                jsonb(j)
            }
            _ => return Err(ExecError::Internal(format!("no json function {name}"))),
        })
    })();
    if name_is_json(name) || name == "jsonb_pretty" {
        Some(r)
    } else {
        None
    }
}

fn build_object(name: &str, a: &[Value]) -> Result<Value> {
    if a.len() % 2 != 0 {
        return Err(invalid("argument list must have even number of elements"));
    }
    let mut pairs = Vec::new();
    for kv in a.chunks(2) {
        if kv[0].is_null() {
            return Err(invalid("argument 1: key must not be null"));
        }
        pairs.push((kv[0].to_string(), &kv[1]));
    }
    Ok(if name == "json_build_object" {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{} : {}", quoted(k), to_json_text(v)))
            .collect();
        Value::Json(format!("{{{}}}", body.join(", ")))
    } else {
        jsonb(Json::object(
            pairs.into_iter().map(|(k, v)| (k, to_jsonb(v))).collect(),
        ))
    })
}

/// jsonb `||`: objects merge (right wins), arrays append, a scalar is a
/// one-element array.
fn concat(l: Json, r: Json) -> Json {
    match (l, r) {
        (Json::Object(mut a), Json::Object(b)) => {
            a.extend(b);
            Json::object(a)
        }
        (Json::Array(mut a), Json::Array(b)) => {
            a.extend(b);
            Json::Array(a)
        }
        (Json::Array(mut a), s) => {
            a.push(s);
            Json::Array(a)
        }
        (s, Json::Array(b)) => {
            let mut a = vec![s];
            a.extend(b);
            Json::Array(a)
        }
        (a, b) => Json::Array(vec![a, b]),
    }
}

fn strip_nulls(j: Json) -> Json {
    match j {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .filter(|(_, v)| *v != Json::Null)
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Json::Array(v) => Json::Array(v.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn delete_path(j: &mut Json, path: &[Option<String>]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(step) = first else {
        return;
    };
    match j {
        Json::Object(m) => {
            if let Some(pos) = m.iter().position(|(k, _)| k == step) {
                if rest.is_empty() {
                    m.remove(pos);
                } else {
                    delete_path(&mut m[pos].1, rest);
                }
            }
        }
        Json::Array(v) => {
            let Ok(i) = step.trim().parse::<i64>() else {
                return;
            };
            let k = if i < 0 { v.len() as i64 + i } else { i };
            if let Ok(k) = usize::try_from(k) {
                if k < v.len() {
                    if rest.is_empty() {
                        v.remove(k);
                    } else {
                        delete_path(&mut v[k], rest);
                    }
                }
            }
        }
        _ => {}
    }
}

fn set_path(j: &mut Json, path: &[Option<String>], new: Json, create: bool) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        *j = new;
        return Ok(());
    };
    let Some(step) = first else {
        return Err(invalid("path element at position 1 is null"));
    };
    match j {
        Json::Object(m) => match m.iter().position(|(k, _)| k == step) {
            Some(pos) => set_path(&mut m[pos].1, rest, new, create)?,
            None if create && rest.is_empty() => {
                let mut pairs = std::mem::take(m);
                pairs.push((step.clone(), new));
                *j = Json::object(pairs);
            }
            None => {}
        },
        Json::Array(v) => {
            let i: i64 = step.trim().parse().map_err(|_| {
                invalid(format!(
                    "path element at position 1 is not an integer: \"{step}\""
                ))
            })?;
            let k = if i < 0 { v.len() as i64 + i } else { i };
            match usize::try_from(k).ok().filter(|k| *k < v.len()) {
                Some(k) => set_path(&mut v[k], rest, new, create)?,
                None if create && rest.is_empty() => {
                    if k < 0 {
                        v.insert(0, new);
                    } else {
                        v.push(new);
                    }
                }
                None => {}
            }
        }
        _ => return Err(invalid("cannot set path in scalar")),
    }
    Ok(())
}

/// The rows of a json set-returning function (one column; for the
/// each-functions, `.key` and `.value` name the two columns). None when
/// `name` is not one.
pub fn srf(name: &str, a: &[Value]) -> Option<Result<Vec<Value>>> {
    let (base, part) = match name.split_once('.') {
        Some((b, p)) => (b, Some(p)),
        None => (name, None),
    };
    if !matches!(
        base,
        "jsonb_array_elements"
            | "jsonb_array_elements_text"
            | "json_array_elements"
            | "json_array_elements_text"
            | "jsonb_object_keys"
            | "json_object_keys"
            | "jsonb_each"
            | "jsonb_each_text"
            | "json_each"
            | "json_each_text"
    ) {
        return None;
    }
    Some((|| -> Result<Vec<Value>> {
        let Some(v) = a.first().filter(|v| !v.is_null()) else {
            return Ok(vec![]);
        };
        let is_json = base.starts_with("json_");
        let text = base.ends_with("_text");
        // json keeps members as written.
        if let (true, Value::Json(s)) = (is_json, v) {
            let members = raw_members(s)
                .ok_or_else(|| invalid(format!("cannot call {base} on a non-array or scalar")))?;
            let mut out = Vec::with_capacity(members.len());
            for (k, raw) in members {
                out.push(match (base, part) {
                    (_, Some("key")) | ("json_object_keys", _) => {
                        Value::Text(k.unwrap_or_default())
                    }
                    _ if text => raw_as_text(raw)?,
                    _ => Value::Json(raw.to_string()),
                });
            }
            return Ok(out);
        }
        let j = tree(v)?;
        let member = |m: &Json| -> Value {
            if text {
                m.as_text().map(Value::Text).unwrap_or(Value::Null)
            } else {
                jsonb(m.clone())
            }
        };
        Ok(match (base, j) {
            (b, Json::Array(items)) if b.contains("array_elements") => {
                items.iter().map(member).collect()
            }
            (b, Json::Object(m)) if b.contains("object_keys") => {
                m.into_iter().map(|(k, _)| Value::Text(k)).collect()
            }
            (b, Json::Object(m)) if b.contains("each") => m
                .iter()
                .map(|(k, v)| {
                    if part == Some("key") {
                        Value::Text(k.clone())
                    } else {
                        member(v)
                    }
                })
                .collect(),
            (b, j) => {
                let what = match j {
                    Json::Array(_) => "an array",
                    Json::Object(_) => "an object",
                    _ => "a scalar",
                };
                return Err(invalid(if b.contains("array_elements") {
                    format!("cannot extract elements from {what}")
                } else if b.contains("each") {
                    format!("cannot call {b} on a non-object")
                } else {
                    format!("cannot call {b} on {what}")
                }));
            }
        })
    })())
}

/// json_agg / jsonb_agg of the collected values.
pub fn agg(jsonb_out: bool, vals: &[Value]) -> Value {
    if jsonb_out {
        jsonb(Json::Array(vals.iter().map(to_jsonb).collect()))
    } else {
        // PostgreSQL starts each record or array after the first on a new
        // line.
        let mut out = String::from("[");
        for (i, v) in vals.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match v {
                Value::Json(t) if t.starts_with(RECORD_MARK) => {
                    if i > 0 {
                        out.push_str("\n ");
                    }
                    out.push_str(&t[RECORD_MARK.len_utf8()..]);
                }
                Value::Array(_) => {
                    if i > 0 {
                        out.push_str("\n ");
                    }
                    out.push_str(&to_json_text(v));
                }
                v => out.push_str(&to_json_text(v)),
            }
        }
        out.push(']');
        Value::Json(out)
    }
}

/// Marks a record's json inside json_agg (which lays records out apart);
/// only `json_agg(t)` makes such values, and it removes the mark.
pub const RECORD_MARK: char = '\u{1}';

/// json_object_agg / jsonb_object_agg of the collected pairs.
pub fn object_agg(jsonb_out: bool, pairs: &[(Value, Value)]) -> Result<Value> {
    if pairs.iter().any(|(k, _)| k.is_null()) {
        return Err(invalid("field name must not be null"));
    }
    Ok(if jsonb_out {
        jsonb(Json::object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), to_jsonb(v)))
                .collect(),
        ))
    } else {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{} : {}", quoted(&k.to_string()), to_json_text(v)))
            .collect();
        Value::Json(if body.is_empty() {
            "{}".into()
        } else {
            format!("{{ {} }}", body.join(", "))
        })
    })
}
