//! Array functions and operators: constructors, subscripts and slices,
//! `||`, `@>`, `<@`, `&&`, and the array_* functions, with PostgreSQL's
//! NULL rules (several of them are not strict).

use crate::error::{ExecError, Result};
use basalt_catalog::array::Array;
use basalt_catalog::cast::ValueError;
use basalt_catalog::{DataType, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// The array in a value: a real array, or the text form of one (catalog
/// columns that PostgreSQL types as arrays are text here).
pub fn as_array(v: &Value) -> Result<Option<Cow<'_, Array>>> {
    Ok(match v {
        Value::Null => None,
        Value::Array(a) => Some(Cow::Borrowed(a)),
        Value::Text(s) => Some(Cow::Owned(Array::parse(s, &DataType::Text)?)),
        other => {
            return Err(ExecError::Value(ValueError::CannotCast {
                from: other.data_type().display_name(),
                to: "anyarray".into(),
            }))
        }
    })
}

fn arr(a: Array) -> Value {
    Value::Array(Box::new(a))
}

fn subscript_error(msg: &str) -> ExecError {
    ExecError::Value(ValueError::ArraySubscript(msg.into()))
}

fn int(v: &Value) -> Option<i32> {
    v.as_i64().map(|i| i as i32)
}

fn eq(a: &Value, b: &Value) -> bool {
    // IS NOT DISTINCT FROM: NULL matches NULL.
    a.cmp_total(b) == Ordering::Equal
}

/// Runs an array function; None when `name` is not one.
pub fn call(name: &str, a: &[Value]) -> Option<Result<Value>> {
    let r = match name {
        "__array" => construct(a),
        "__subscript" => subscript(a),
        "__slice" => slice(a),
        "array_length" | "array_upper" | "array_lower" | "cardinality" | "array_ndims"
        | "array_dims" => shape(name, a),
        "array_to_string" => to_string(a),
        "string_to_array" => Ok(from_string(a)),
        "array_append" | "array_prepend" | "array_cat" | "__array_concat" => concat(name, a),
        "__array_set" => set_element(a),
        "array_position" | "array_positions" => position(name, a),
        "array_remove" | "array_replace" => replace(name, a),
        "__array_contains" | "__array_contained" | "__array_overlap" => contains(name, a),
        _ => return None,
    };
    Some(r)
}

/// `a[i] = v` in UPDATE: the array with element i replaced; a subscript
/// past either end extends it with NULLs, and a NULL array becomes one
/// holding just v at i, as in PostgreSQL.
fn set_element(a: &[Value]) -> Result<Value> {
    let i = match &a[1] {
        Value::Null => {
            return Err(ExecError::coded(
                "22004",
                "array subscript in assignment must not be null",
            ))
        }
        v => v.as_i64().unwrap_or(0) as i32,
    };
    let mut x = match as_array(&a[0])? {
        Some(x) if !x.items.is_empty() => x.into_owned(),
        _ => {
            return Ok(arr(Array {
                elem: elem_of(&a[2]),
                dims: vec![(i, 1)],
                items: vec![a[2].clone()],
            }))
        }
    };
    if x.dims.len() > 1 {
        return Err(subscript_error(
            "assigning to one element of a multidimensional array is not supported",
        ));
    }
    let (lo, n) = x.dims[0];
    let hi = lo + n - 1;
    if i < lo {
        let pad = (lo - i) as usize;
        let mut items = vec![Value::Null; pad];
        items.append(&mut x.items);
        x.items = items;
        x.dims = vec![(i, x.items.len() as i32)];
    } else if i > hi {
        x.items
            .extend(std::iter::repeat_n(Value::Null, (i - hi) as usize));
        x.dims = vec![(lo, x.items.len() as i32)];
    }
    let lo = x.dims[0].0;
    x.items[(i - lo) as usize] = a[2].clone();
    Ok(arr(x))
}

/// ARRAY[...]: items of one type, or sub-arrays of matching dimensions.
fn construct(a: &[Value]) -> Result<Value> {
    let elem = a
        .iter()
        .find(|v| !v.is_null())
        .map(|v| match v {
            Value::Array(x) => x.elem,
            v => v.data_type(),
        })
        .unwrap_or(DataType::Text);
    if !a.iter().any(|v| matches!(v, Value::Array(_))) {
        return Ok(arr(Array::from_items(elem, a.to_vec())));
    }
    // Sub-arrays: one more dimension; all must have the same shape.
    let mut dims: Option<Vec<(i32, i32)>> = None;
    let mut items = Vec::new();
    for v in a {
        let Value::Array(x) = v else {
            return Err(subscript_error(
                "multidimensional arrays must have array expressions with matching dimensions",
            ));
        };
        match &dims {
            None => dims = Some(x.dims.clone()),
            Some(d) if *d != x.dims => {
                return Err(subscript_error(
                    "multidimensional arrays must have array expressions with matching dimensions",
                ))
            }
            _ => {}
        }
        items.extend(x.items.iter().cloned());
    }
    let inner = dims.unwrap_or_default();
    if items.is_empty() {
        return Ok(arr(Array::from_items(elem, vec![])));
    }
    let mut d = vec![(1, a.len() as i32)];
    d.extend(inner);
    Ok(arr(Array {
        elem,
        dims: d,
        items,
    }))
}

fn subscript(a: &[Value]) -> Result<Value> {
    let Some(x) = as_array(&a[0])? else {
        return Ok(Value::Null);
    };
    let mut idx = Vec::with_capacity(a.len() - 1);
    for v in &a[1..] {
        match int(v) {
            Some(i) => idx.push(i),
            None => return Ok(Value::Null),
        }
    }
    Ok(x.subscript(&idx))
}

/// `a[lo:hi]`: a[1] the array, a[2] and a[3] the bounds (NULL = open;
/// the planner passes a flag in a[4] when a bound was written).
fn slice(a: &[Value]) -> Result<Value> {
    let Some(x) = as_array(&a[0])? else {
        return Ok(Value::Null);
    };
    Ok(arr(x.slice(int(&a[1]), int(&a[2]))))
}

fn shape(name: &str, a: &[Value]) -> Result<Value> {
    let Some(x) = as_array(&a[0])? else {
        return Ok(Value::Null);
    };
    if name == "cardinality" {
        return Ok(Value::Int4(x.items.len() as i32));
    }
    if name == "array_ndims" {
        return Ok(if x.dims.is_empty() {
            Value::Null
        } else {
            Value::Int4(x.dims.len() as i32)
        });
    }
    if name == "array_dims" {
        if x.dims.is_empty() {
            return Ok(Value::Null);
        }
        return Ok(Value::Text(
            x.dims
                .iter()
                .map(|(lo, n)| format!("[{}:{}]", lo, lo + n - 1))
                .collect(),
        ));
    }
    let Some(d) = a.get(1).and_then(int) else {
        return Ok(Value::Null);
    };
    let Some(&(lo, n)) = usize::try_from(d - 1).ok().and_then(|k| x.dims.get(k)) else {
        return Ok(Value::Null);
    };
    Ok(Value::Int4(match name {
        "array_length" => n,
        "array_lower" => lo,
        _ => lo + n - 1,
    }))
}

fn to_string(a: &[Value]) -> Result<Value> {
    let (Some(x), Some(sep)) = (as_array(&a[0])?, a.get(1).filter(|v| !v.is_null())) else {
        return Ok(Value::Null);
    };
    let sep = sep.to_string();
    let null = a.get(2).filter(|v| !v.is_null()).map(|v| v.to_string());
    let parts: Vec<String> = x
        .items
        .iter()
        .filter_map(|v| {
            if v.is_null() {
                null.clone()
            } else {
                Some(v.to_string())
            }
        })
        .collect();
    Ok(Value::Text(parts.join(&sep)))
}

fn from_string(a: &[Value]) -> Value {
    if a[0].is_null() {
        return Value::Null;
    }
    let s = a[0].to_string();
    let null = a.get(2).filter(|v| !v.is_null()).map(|v| v.to_string());
    let parts: Vec<String> = match a.get(1) {
        Some(Value::Null) | None => s.chars().map(String::from).collect(),
        Some(sep) => {
            let sep = sep.to_string();
            if s.is_empty() {
                vec![]
            } else if sep.is_empty() {
                vec![s]
            } else {
                s.split(sep.as_str()).map(String::from).collect()
            }
        }
    };
    let items = parts
        .into_iter()
        .map(|p| {
            if null.as_deref() == Some(p.as_str()) {
                Value::Null
            } else {
                Value::Text(p)
            }
        })
        .collect();
    arr(Array::from_items(DataType::Text, items))
}

/// array_append, array_prepend, array_cat and `||` (either side may be an
/// element or an array; the planner puts the element/array choice in the
/// name for `||`).
fn concat(name: &str, a: &[Value]) -> Result<Value> {
    match name {
        "array_append" => {
            let x = as_array(&a[0])?;
            let mut x = match x {
                Some(x) => x.into_owned(),
                None => Array::from_items(elem_of(&a[1]), vec![]),
            };
            if x.dims.len() > 1 {
                return Err(subscript_error(
                    "argument must be empty or one-dimensional array",
                ));
            }
            x.items.push(a[1].clone());
            let lo = x.dims.first().map(|d| d.0).unwrap_or(1);
            x.dims = vec![(lo, x.items.len() as i32)];
            Ok(arr(x))
        }
        "array_prepend" => {
            let x = as_array(&a[1])?;
            let mut x = match x {
                Some(x) => x.into_owned(),
                None => Array::from_items(elem_of(&a[0]), vec![]),
            };
            if x.dims.len() > 1 {
                return Err(subscript_error(
                    "argument must be empty or one-dimensional array",
                ));
            }
            x.items.insert(0, a[0].clone());
            let lo = x.dims.first().map(|d| d.0).unwrap_or(1);
            x.dims = vec![(lo, x.items.len() as i32)];
            Ok(arr(x))
        }
        _ => {
            let (l, r) = (as_array(&a[0])?, as_array(&a[1])?);
            let (l, r) = match (l, r) {
                (None, None) => return Ok(Value::Null),
                (Some(l), None) => return Ok(arr(l.into_owned())),
                (None, Some(r)) => return Ok(arr(r.into_owned())),
                (Some(l), Some(r)) => (l, r),
            };
            if l.items.is_empty() {
                return Ok(arr(r.into_owned()));
            }
            if r.items.is_empty() {
                return Ok(arr(l.into_owned()));
            }
            let mut out = l.into_owned();
            if out.dims.len() == r.dims.len() {
                if out.dims[1..] != r.dims[1..] {
                    return Err(subscript_error("cannot concatenate incompatible arrays"));
                }
                out.dims[0].1 += r.dims[0].1;
            } else if out.dims.len() == r.dims.len() + 1 && out.dims[1..] == r.dims[..] {
                out.dims[0].1 += 1;
            } else if out.dims.len() + 1 == r.dims.len() && r.dims[1..] == out.dims[..] {
                let mut d = r.dims.clone();
                d[0].1 += 1;
                out.dims = d;
            } else {
                return Err(subscript_error("cannot concatenate incompatible arrays"));
            }
            out.items.extend(r.items.iter().cloned());
            Ok(arr(out))
        }
    }
}

fn elem_of(v: &Value) -> DataType {
    if v.is_null() {
        DataType::Text
    } else {
        v.data_type()
    }
}

fn position(name: &str, a: &[Value]) -> Result<Value> {
    let Some(x) = as_array(&a[0])? else {
        return Ok(Value::Null);
    };
    if x.dims.len() > 1 {
        return Err(ExecError::coded(
            "0A000",
            "searching for elements in multidimensional arrays is not supported",
        ));
    }
    let lo = x.dims.first().map(|d| d.0).unwrap_or(1);
    let want = &a[1];
    if name == "array_positions" {
        let hits = x
            .items
            .iter()
            .enumerate()
            .filter(|(_, v)| eq(v, want))
            .map(|(k, _)| Value::Int4(lo + k as i32))
            .collect();
        return Ok(arr(Array::from_items(DataType::Int4, hits)));
    }
    let start = match a.get(2) {
        Some(Value::Null) => return Ok(Value::Null),
        Some(v) => int(v).unwrap_or(lo),
        None => lo,
    };
    Ok(x.items
        .iter()
        .enumerate()
        .skip((start - lo).max(0) as usize)
        .find(|(_, v)| eq(v, want))
        .map(|(k, _)| Value::Int4(lo + k as i32))
        .unwrap_or(Value::Null))
}

fn replace(name: &str, a: &[Value]) -> Result<Value> {
    let Some(x) = as_array(&a[0])? else {
        return Ok(Value::Null);
    };
    let mut x = x.into_owned();
    if name == "array_remove" {
        if x.dims.len() > 1 {
            return Err(ExecError::coded(
                "0A000",
                "removing elements from multidimensional arrays is not supported",
            ));
        }
        x.items.retain(|v| !eq(v, &a[1]));
        let lo = x.dims.first().map(|d| d.0).unwrap_or(1);
        x.dims = if x.items.is_empty() {
            vec![]
        } else {
            vec![(lo, x.items.len() as i32)]
        };
    } else {
        for v in x.items.iter_mut() {
            if eq(v, &a[1]) {
                *v = a[2].clone();
            }
        }
    }
    Ok(arr(x))
}

/// `@>`, `<@` and `&&`: by element equality, NULL elements never match.
fn contains(name: &str, a: &[Value]) -> Result<Value> {
    let (Some(l), Some(r)) = (as_array(&a[0])?, as_array(&a[1])?) else {
        return Ok(Value::Null);
    };
    let has = |x: &Array, v: &Value| !v.is_null() && x.items.iter().any(|w| eq(w, v));
    Ok(Value::Bool(match name {
        "__array_contains" => r.items.iter().all(|v| has(&l, v)),
        "__array_contained" => l.items.iter().all(|v| has(&r, v)),
        _ => l.items.iter().any(|v| has(&r, v)),
    }))
}

/// generate_subscripts(array, dim [, reverse]): the subscripts of one
/// dimension.
pub(crate) fn subscripts_of(a: &[Value]) -> Result<Vec<Value>> {
    let Some(arr) = a.first().map(as_array).transpose()?.flatten() else {
        return Ok(vec![]);
    };
    let Some(dim) = a.get(1).and_then(int) else {
        return Ok(vec![]);
    };
    let reverse = matches!(a.get(2), Some(Value::Bool(true)));
    let Some(&(lower, len)) = usize::try_from(dim - 1).ok().and_then(|d| arr.dims.get(d)) else {
        return Ok(vec![]);
    };
    let mut v: Vec<Value> = (lower..lower + len).map(Value::Int4).collect();
    if reverse {
        v.reverse();
    }
    Ok(v)
}

/// An int2vector's or oidvector's text ("1 2 3") as an array from
/// subscript 0.
pub(crate) fn vector_array(a: &[Value]) -> Result<Value> {
    let Some(Value::Text(s)) = a.first() else {
        return Ok(Value::Null);
    };
    let oid = matches!(a.get(1), Some(Value::Bool(true)));
    let items: Vec<Value> = s
        .split_whitespace()
        .map(|w| {
            let n: i64 = w.parse().unwrap_or(0);
            if oid {
                Value::Int8(n)
            } else {
                Value::Int2(n as i16)
            }
        })
        .collect();
    let elem = if oid { DataType::Oid } else { DataType::Int2 };
    let dims = if items.is_empty() {
        vec![]
    } else {
        vec![(0, items.len() as i32)]
    };
    Ok(Value::Array(Box::new(Array { elem, dims, items })))
}

/// information_schema._pg_expandarray(a): (element, 1-based position)
/// records, each held as a two-item array.
pub(crate) fn expand_records(a: &[Value]) -> Result<Vec<Value>> {
    let Some(arr) = a.first().map(as_array).transpose()?.flatten() else {
        return Ok(vec![]);
    };
    Ok(arr
        .items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = match v.as_i64() {
                Some(n) => Value::Int4(n as i32),
                None => v.clone(),
            };
            Value::Array(Box::new(Array::from_items(
                DataType::Int4,
                vec![x, Value::Int4(i as i32 + 1)],
            )))
        })
        .collect())
}
