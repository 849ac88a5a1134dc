//! Expression evaluation with PostgreSQL's semantics: three-valued logic,
//! NULL propagation, integer overflow checks (22003), division by zero
//! (22012), and the built-in functions the planner knows.

use crate::error::{ExecError, Result};
use basalt_catalog::cast::{self, ValueError};
use basalt_catalog::Numeric;
use basalt_catalog::{DataType, Value};
use basalt_planner::{BinOp, Expr};
use std::cmp::Ordering;

/// What evaluation needs besides the row.
/// Evaluates a function that acts on the server; None for other names.
pub type AdminFn<'a> = dyn Fn(&str, &[Value]) -> Option<Result<Value>> + 'a;

pub struct EvalCtx<'a> {
    pub params: &'a [Value],
    pub now: chrono::DateTime<chrono::Utc>,
    pub settings: &'a dyn Fn(&str) -> Option<String>,
    /// Runs a subquery plan; the rows given are the enclosing queries'
    /// current rows, innermost first (for `Expr::Outer`).
    pub subquery: &'a dyn Fn(&basalt_planner::Plan, &[Vec<Value>]) -> Result<Vec<Vec<Value>>>,
    /// The values of `x IN (subquery)`'s subquery, hashed: built once per
    /// statement for an uncorrelated one. Given the current row.
    pub in_set: &'a dyn Fn(&basalt_planner::Plan, &[Value]) -> Result<std::rc::Rc<InSet>>,
    /// This query's enclosing rows, innermost first, when it is a subquery.
    pub outer: &'a [Vec<Value>],
    /// The catalog, for pg_get_indexdef and friends.
    pub schema: &'a basalt_catalog::Schema,
    pub backend_pid: i32,
    /// Functions acting on the server (pg_cancel_backend, pg_sleep, ...).
    pub admin: &'a AdminFn<'a>,
}

/// A subquery's values for IN: hashed, with whether one was NULL.
#[derive(Default)]
pub struct InSet {
    pub vals: std::collections::HashSet<Value>,
    pub has_null: bool,
    pub rows: usize,
}

impl InSet {
    pub fn of(rows: Vec<Vec<Value>>) -> InSet {
        let mut s = InSet {
            rows: rows.len(),
            ..Default::default()
        };
        for r in rows {
            match r.into_iter().next() {
                Some(v) if !v.is_null() => {
                    s.vals.insert(v);
                }
                _ => s.has_null = true,
            }
        }
        s
    }
}

/// The row a subquery is evaluated on, then the rows enclosing it.
pub fn outer_rows(row: &[Value], cx: &EvalCtx<'_>) -> Vec<Vec<Value>> {
    let mut v = Vec::with_capacity(cx.outer.len() + 1);
    v.push(row.to_vec());
    v.extend(cx.outer.iter().cloned());
    v
}

fn overflow(t: &str) -> ExecError {
    ExecError::Value(ValueError::OutOfRange(t.into()))
}

fn int_result(v: Option<i64>, ty: &Value) -> Result<Value> {
    let v = v.ok_or_else(|| overflow(int_name(ty)))?;
    match ty {
        Value::Int2(_) => i16::try_from(v)
            .map(Value::Int2)
            .map_err(|_| overflow("smallint")),
        Value::Int4(_) => i32::try_from(v)
            .map(Value::Int4)
            .map_err(|_| overflow("integer")),
        _ => Ok(Value::Int8(v)),
    }
}

fn int_name(v: &Value) -> &'static str {
    match v {
        Value::Int2(_) => "smallint",
        Value::Int4(_) => "integer",
        _ => "bigint",
    }
}

/// Arithmetic with intervals: timestamp ± interval, interval ± interval,
/// timestamp - timestamp, interval × or ÷ a number. None: not such a pair.
fn datetime_arith(op: BinOp, a: &Value, b: &Value) -> Option<Result<Value>> {
    use basalt_catalog::Interval;
    let ts_overflow = || overflow("timestamp");
    let iv_overflow = || overflow("interval");
    let shift =
        |t: chrono::NaiveDateTime, i: &Interval, sub: bool| -> Result<chrono::NaiveDateTime> {
            let i = if sub {
                i.checked_neg().ok_or_else(iv_overflow)?
            } else {
                *i
            };
            i.add_to(t).ok_or_else(ts_overflow)
        };
    let sub = op == BinOp::Sub;
    Some(match (a, b) {
        (Value::Interval(x), Value::Interval(y)) => match op {
            BinOp::Add => x
                .checked_add(y)
                .map(Value::Interval)
                .ok_or_else(iv_overflow),
            BinOp::Sub => x
                .checked_sub(y)
                .map(Value::Interval)
                .ok_or_else(iv_overflow),
            _ => return None,
        },
        (Value::Date(d), Value::Interval(i)) => {
            shift(d.and_hms_opt(0, 0, 0).expect("midnight"), i, sub).map(Value::Timestamp)
        }
        (Value::Timestamp(t), Value::Interval(i)) => shift(*t, i, sub).map(Value::Timestamp),
        (Value::TimestampTz(t), Value::Interval(i)) => {
            shift(t.naive_utc(), i, sub).map(|x| Value::TimestampTz(x.and_utc()))
        }
        (Value::Time(t), Value::Interval(i)) => {
            let us = basalt_catalog::types::time_micros(t);
            let d = if sub { -i.micros } else { i.micros };
            basalt_catalog::types::time_from_micros(us + d)
                .map(Value::Time)
                .ok_or_else(|| overflow("time"))
        }
        (Value::Time(x), Value::Time(y)) if sub => Ok(Value::Interval(Interval::new(
            0,
            0,
            basalt_catalog::types::time_micros(x) - basalt_catalog::types::time_micros(y),
        ))),
        (
            Value::Interval(_),
            Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) | Value::Time(_),
        ) if op == BinOp::Add => return datetime_arith(op, b, a),
        (Value::Timestamp(x), Value::Timestamp(y)) if sub => Interval::between(*x, *y)
            .map(Value::Interval)
            .ok_or_else(iv_overflow),
        (Value::TimestampTz(x), Value::TimestampTz(y)) if sub => {
            Interval::between(x.naive_utc(), y.naive_utc())
                .map(Value::Interval)
                .ok_or_else(iv_overflow)
        }
        (Value::Interval(i), n) if n.as_f64().is_some() => {
            let f = n.as_f64().expect("number");
            match op {
                BinOp::Mul => i.mul(f).map(Value::Interval).ok_or_else(iv_overflow),
                BinOp::Div if f == 0.0 => Err(ValueError::DivisionByZero.into()),
                BinOp::Div => i.mul(1.0 / f).map(Value::Interval).ok_or_else(iv_overflow),
                _ => return None,
            }
        }
        (n, Value::Interval(_)) if n.as_f64().is_some() && op == BinOp::Mul => {
            return datetime_arith(op, b, a)
        }
        _ => return None,
    })
}

pub fn arith(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if let Some(v) = datetime_arith(op, a, b) {
        return v;
    }
    // date ± int, date - date
    match (a, b) {
        (Value::Date(d), i) if i.as_i64().is_some() => {
            let n = i.as_i64().expect("int");
            let r = if op == BinOp::Add {
                d.checked_add_signed(chrono::Duration::days(n))
            } else {
                d.checked_sub_signed(chrono::Duration::days(n))
            };
            return r.map(Value::Date).ok_or_else(|| overflow("date"));
        }
        (Value::Date(x), Value::Date(y)) if op == BinOp::Sub => {
            return Ok(Value::Int4((*x - *y).num_days() as i32))
        }
        _ => {}
    }
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Div => {
                if y == 0 {
                    return Err(ValueError::DivisionByZero.into());
                }
                x.checked_div(y)
            }
            BinOp::Mod => {
                if y == 0 {
                    return Err(ValueError::DivisionByZero.into());
                }
                Some(x.checked_rem(y).unwrap_or(0))
            }
            _ => unreachable!("arith op"),
        };
        // The result type is the wider operand's (the planner cast both).
        let wider = if matches!(a, Value::Int8(_)) || matches!(b, Value::Int8(_)) {
            Value::Int8(0)
        } else if matches!(a, Value::Int4(_)) || matches!(b, Value::Int4(_)) {
            Value::Int4(0)
        } else {
            Value::Int2(0)
        };
        return int_result(r, &wider);
    }
    let float = matches!(a, Value::Float4(_) | Value::Float8(_))
        || matches!(b, Value::Float4(_) | Value::Float8(_));
    if !float {
        if let (Some(x), Some(y)) = (numeric_of(a), numeric_of(b)) {
            let r = match op {
                BinOp::Add => x.add(&y),
                BinOp::Sub => x.sub(&y),
                BinOp::Mul => x.mul(&y),
                BinOp::Div => x.div(&y),
                BinOp::Mod => x.rem(&y),
                _ => unreachable!("arith op"),
            };
            return r.map(Value::Numeric).map_err(numeric_error);
        }
    }
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(ValueError::DivisionByZero.into());
            }
            x / y
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(ValueError::DivisionByZero.into());
            }
            x % y
        }
        _ => unreachable!("arith op"),
    };
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(overflow("double precision"));
    }
    Ok(
        if matches!(a, Value::Float4(_)) && matches!(b, Value::Float4(_)) {
            Value::Float4(r as f32)
        } else {
            Value::Float8(r)
        },
    )
}

/// A value as numeric, borrowed when it is one.
pub fn numeric_of(v: &Value) -> Option<std::borrow::Cow<'_, Numeric>> {
    match v {
        Value::Numeric(n) => Some(std::borrow::Cow::Borrowed(n)),
        v => v.as_numeric().map(std::borrow::Cow::Owned),
    }
}

/// A numeric operation's failure as PostgreSQL reports it.
pub fn numeric_error(e: basalt_catalog::numeric::NumericError) -> ExecError {
    use basalt_catalog::numeric::NumericError as E;
    match e {
        E::Overflow => ExecError::Value(ValueError::NumericOverflow),
        E::DivisionByZero => ExecError::Value(ValueError::DivisionByZero),
        E::Domain(m) => ExecError::coded("2201F", m),
    }
}

pub fn compare(op: BinOp, a: &Value, b: &Value) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    let o = a.cmp_total(b);
    Value::Bool(match op {
        BinOp::Eq => o == Ordering::Equal,
        BinOp::NotEq => o != Ordering::Equal,
        BinOp::Lt => o == Ordering::Less,
        BinOp::LtEq => o != Ordering::Greater,
        BinOp::Gt => o == Ordering::Greater,
        BinOp::GtEq => o != Ordering::Less,
        _ => unreachable!("comparison"),
    })
}

/// SQL LIKE with % and _ (backslash escapes), optionally case-insensitive.
pub fn like(s: &str, p: &str, ci: bool) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = if ci {
        (
            s.to_lowercase().chars().collect(),
            p.to_lowercase().chars().collect(),
        )
    } else {
        (s.chars().collect(), p.chars().collect())
    };
    fn m(s: &[char], p: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => {
                let rest = &p[1..];
                (0..=s.len()).any(|i| m(&s[i..], rest))
            }
            Some('_') => !s.is_empty() && m(&s[1..], &p[1..]),
            Some('\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && m(&s[1..], &p[2..]),
            Some(c) => !s.is_empty() && s[0] == *c && m(&s[1..], &p[1..]),
        }
    }
    m(&s, &p)
}

/// A small regex matcher for the patterns catalog queries use (^, $, ., *,
/// +, ?, character classes, alternation with |, groups).
pub fn regex_match(s: &str, pat: &str, ci: bool) -> Result<bool> {
    let re = crate::regex::Regex::new(pat, ci).map_err(ExecError::InvalidRegex)?;
    Ok(re.is_match(s))
}

pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

pub fn eval(e: &Expr, row: &[Value], cx: &EvalCtx<'_>) -> Result<Value> {
    Ok(match e {
        Expr::Column(i) => row
            .get(*i)
            .cloned()
            .ok_or_else(|| ExecError::Internal(format!("column {i} out of range")))?,
        Expr::Literal(v) => v.clone(),
        Expr::Param(i) => cx
            .params
            .get(*i)
            .cloned()
            .ok_or_else(|| ExecError::Internal(format!("there is no parameter ${}", i + 1)))?,
        Expr::Binary(op, a, b) => match op {
            BinOp::And => {
                let x = eval(a, row, cx)?;
                if matches!(x, Value::Bool(false)) {
                    return Ok(Value::Bool(false));
                }
                let y = eval(b, row, cx)?;
                match (x, y) {
                    (_, Value::Bool(false)) => Value::Bool(false),
                    (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            BinOp::Or => {
                let x = eval(a, row, cx)?;
                if matches!(x, Value::Bool(true)) {
                    return Ok(Value::Bool(true));
                }
                let y = eval(b, row, cx)?;
                match (x, y) {
                    (_, Value::Bool(true)) => Value::Bool(true),
                    (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                arith(*op, &eval(a, row, cx)?, &eval(b, row, cx)?)?
            }
            BinOp::Concat => {
                let (x, y) = (eval(a, row, cx)?, eval(b, row, cx)?);
                if x.is_null() || y.is_null() {
                    Value::Null
                } else {
                    Value::Text(format!("{x}{y}"))
                }
            }
            BinOp::Regex(ci, neg) => {
                let (x, y) = (eval(a, row, cx)?, eval(b, row, cx)?);
                if x.is_null() || y.is_null() {
                    Value::Null
                } else {
                    Value::Bool(regex_match(&x.to_string(), &y.to_string(), *ci)? != *neg)
                }
            }
            cmp => compare(*cmp, &eval(a, row, cx)?, &eval(b, row, cx)?),
        },
        Expr::Not(a) => match eval(a, row, cx)? {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Expr::Neg(a) => match eval(a, row, cx)? {
            Value::Null => Value::Null,
            Value::Int2(i) => Value::Int2(i.checked_neg().ok_or_else(|| overflow("smallint"))?),
            Value::Int4(i) => Value::Int4(i.checked_neg().ok_or_else(|| overflow("integer"))?),
            Value::Int8(i) => Value::Int8(i.checked_neg().ok_or_else(|| overflow("bigint"))?),
            Value::Float4(f) => Value::Float4(-f),
            Value::Float8(f) => Value::Float8(-f),
            Value::Numeric(d) => Value::Numeric(d.neg()),
            Value::Interval(i) => {
                Value::Interval(i.checked_neg().ok_or_else(|| overflow("interval"))?)
            }
            v => return Err(ExecError::Internal(format!("cannot negate {v:?}"))),
        },
        Expr::IsNull(a, neg) => Value::Bool(eval(a, row, cx)?.is_null() != *neg),
        Expr::IsDistinct(a, b, not) => {
            let (x, y) = (eval(a, row, cx)?, eval(b, row, cx)?);
            let distinct = match (x.is_null(), y.is_null()) {
                (true, true) => false,
                (true, false) | (false, true) => true,
                _ => x.cmp_total(&y) != Ordering::Equal,
            };
            Value::Bool(distinct != *not)
        }
        Expr::Cast(a, ty) => {
            let v = eval(a, row, cx)?;
            cast_keep_type(v, ty)?
        }
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            let op = match operand {
                Some(o) => Some(eval(o, row, cx)?),
                None => None,
            };
            for (c, r) in whens {
                let hit = match &op {
                    Some(v) => truthy(&compare(BinOp::Eq, v, &eval(c, row, cx)?)),
                    None => truthy(&eval(c, row, cx)?),
                };
                if hit {
                    return eval(r, row, cx);
                }
            }
            match else_ {
                Some(e) => eval(e, row, cx)?,
                None => Value::Null,
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row, cx)?;
            if v.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for i in list {
                let x = eval(i, row, cx)?;
                if x.is_null() {
                    saw_null = true;
                } else if v.cmp_total(&x) == Ordering::Equal {
                    return Ok(Value::Bool(!negated));
                }
            }
            if saw_null {
                Value::Null
            } else {
                Value::Bool(*negated)
            }
        }
        Expr::Like {
            expr,
            pattern,
            negated,
            ci,
        } => {
            let (x, p) = (eval(expr, row, cx)?, eval(pattern, row, cx)?);
            if x.is_null() || p.is_null() {
                Value::Null
            } else {
                Value::Bool(like(&x.to_string(), &p.to_string(), *ci) != *negated)
            }
        }
        Expr::Outer { depth, col } => cx
            .outer
            .get(depth.wrapping_sub(1))
            .and_then(|r| r.get(*col))
            .cloned()
            .ok_or_else(|| ExecError::Internal("outer reference out of range".into()))?,
        Expr::Subquery(plan) => {
            let rows = (cx.subquery)(plan, &outer_rows(row, cx))?;
            if rows.len() > 1 {
                return Err(ExecError::CardinalityViolation(
                    "more than one row returned by a subquery used as an expression".into(),
                ));
            }
            rows.into_iter()
                .next()
                .and_then(|r| r.into_iter().next())
                .unwrap_or(Value::Null)
        }
        Expr::ArraySubquery(plan) => {
            let rows = (cx.subquery)(plan, &outer_rows(row, cx))?;
            let items: Vec<Value> = rows
                .into_iter()
                .map(|r| r.into_iter().next().unwrap_or(Value::Null))
                .collect();
            crate::arrays::call("__array", &items).unwrap_or(Ok(Value::Null))?
        }
        Expr::AnyArray {
            expr,
            op,
            array,
            all,
        } => {
            let (x, arr) = (eval(expr, row, cx)?, eval(array, row, cx)?);
            if x.is_null() || arr.is_null() {
                return Ok(Value::Null);
            }
            let Some(elems) = crate::arrays::as_array(&arr)? else {
                return Ok(Value::Null);
            };
            let text_form = !matches!(arr, Value::Array(_));
            let ty = x.data_type();
            let mut saw_null = false;
            for y in elems.items.iter() {
                if y.is_null() {
                    saw_null = true;
                    continue;
                }
                let y = if text_form {
                    basalt_catalog::cast::cast(y.clone(), &ty)?
                } else {
                    y.clone()
                };
                let r = eval(
                    &Expr::Binary(
                        *op,
                        Box::new(Expr::Literal(x.clone())),
                        Box::new(Expr::Literal(y)),
                    ),
                    &[],
                    cx,
                )?;
                match r {
                    Value::Bool(true) if !*all => return Ok(Value::Bool(true)),
                    Value::Bool(false) if *all => return Ok(Value::Bool(false)),
                    Value::Null => saw_null = true,
                    _ => {}
                }
            }
            if saw_null {
                Value::Null
            } else {
                Value::Bool(*all)
            }
        }
        Expr::Exists(plan, negated) => {
            Value::Bool(!(cx.subquery)(plan, &outer_rows(row, cx))?.is_empty() != *negated)
        }
        Expr::InSubquery(x, plan, negated) => {
            let v = eval(x, row, cx)?;
            let set = (cx.in_set)(plan, row)?;
            // Over no rows, IN is false (NOT IN true) even for a NULL.
            if set.rows == 0 {
                return Ok(Value::Bool(*negated));
            }
            if v.is_null() {
                return Ok(Value::Null);
            }
            if set.vals.contains(&v) {
                Value::Bool(!negated)
            } else if set.has_null {
                Value::Null
            } else {
                Value::Bool(*negated)
            }
        }
        Expr::Func(name, args) => {
            let vals = args
                .iter()
                .map(|a| eval(a, row, cx))
                .collect::<Result<Vec<_>>>()?;
            crate::funcs::call(name, vals, cx)?
        }
    })
}

/// Casts, keeping integer values in the exact integer variant the type
/// names (the row encoding depends on it).
pub fn cast_keep_type(v: Value, ty: &DataType) -> Result<Value> {
    let v = cast::cast(v, ty)?;
    Ok(match (v, ty) {
        (Value::Int8(i), DataType::Int4) => {
            Value::Int4(i32::try_from(i).map_err(|_| overflow("integer"))?)
        }
        (Value::Int8(i), DataType::Int2) => {
            Value::Int2(i16::try_from(i).map_err(|_| overflow("smallint"))?)
        }
        (v, _) => v,
    })
}
