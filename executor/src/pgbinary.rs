//! Binary wire formats of values (results and Bind parameters).

use crate::ExecError;
use basalt_catalog::cast::{self, ValueError};
use basalt_catalog::Numeric;
use basalt_catalog::{DataType, Value};
use chrono::NaiveDate;

fn pg_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date")
}
const EPOCH_MICROS: i64 = 946_684_800_000_000;

pub fn encode_binary(v: &Value, ty: DataType) -> Vec<u8> {
    match (v, ty) {
        (Value::Bool(b), _) => vec![*b as u8],
        // int2vector / oidvector: as arrays (from subscript 0).
        (Value::Text(_), DataType::Int2Vector | DataType::OidVector) => {
            let oid = ty == DataType::OidVector;
            match crate::arrays::vector_array(&[v.clone(), Value::Bool(oid)]) {
                Ok(a) => {
                    let elem = if oid { DataType::Oid } else { DataType::Int2 };
                    encode_binary(&a, elem.array_of())
                }
                Err(_) => vec![],
            }
        }
        (v, DataType::Int2) if v.as_i64().is_some() => {
            (v.as_i64().unwrap_or(0) as i16).to_be_bytes().to_vec()
        }
        (v, DataType::Int4) if v.as_i64().is_some() => {
            (v.as_i64().unwrap_or(0) as i32).to_be_bytes().to_vec()
        }
        (v, DataType::Oid) if v.as_i64().is_some() => {
            (v.as_i64().unwrap_or(0) as u32).to_be_bytes().to_vec()
        }
        (v, DataType::Int8) if v.as_i64().is_some() => {
            v.as_i64().unwrap_or(0).to_be_bytes().to_vec()
        }
        (Value::Float4(f), _) => f.to_be_bytes().to_vec(),
        (Value::Float8(f), _) => f.to_be_bytes().to_vec(),
        (Value::Numeric(d), _) => numeric_binary(d),
        (Value::Bytea(b), _) => b.clone(),
        (Value::Date(d), _) => ((*d - pg_epoch()).num_days() as i32).to_be_bytes().to_vec(),
        (Value::Timestamp(t), _) => (t.and_utc().timestamp_micros() - EPOCH_MICROS)
            .to_be_bytes()
            .to_vec(),
        (Value::TimestampTz(t), _) => (t.timestamp_micros() - EPOCH_MICROS).to_be_bytes().to_vec(),
        (Value::Uuid(u), _) => u.to_vec(),
        (Value::Time(t), _) => basalt_catalog::types::time_micros(t).to_be_bytes().to_vec(),
        (Value::Interval(i), _) => {
            let mut b = i.micros.to_be_bytes().to_vec();
            b.extend_from_slice(&i.days.to_be_bytes());
            b.extend_from_slice(&i.months.to_be_bytes());
            b
        }
        (Value::Jsonb(j), _) => {
            // Version 1: the text form.
            let mut b = vec![1u8];
            b.extend_from_slice(j.to_string().as_bytes());
            b
        }
        (Value::Array(a), ty) => {
            // ndim, has-nulls flag, element OID, (length, lower bound) per
            // dimension, then each item as length + bytes (-1 for NULL).
            let elem = ty.element().unwrap_or(a.elem);
            let mut b = Vec::new();
            b.extend_from_slice(&(a.dims.len() as i32).to_be_bytes());
            b.extend_from_slice(&(a.items.iter().any(|v| v.is_null()) as i32).to_be_bytes());
            b.extend_from_slice(&elem.oid().to_be_bytes());
            for (lo, n) in &a.dims {
                b.extend_from_slice(&n.to_be_bytes());
                b.extend_from_slice(&lo.to_be_bytes());
            }
            for v in &a.items {
                if v.is_null() {
                    b.extend_from_slice(&(-1i32).to_be_bytes());
                } else {
                    let e = encode_binary(v, elem);
                    b.extend_from_slice(&(e.len() as i32).to_be_bytes());
                    b.extend_from_slice(&e);
                }
            }
            b
        }
        (v, _) => v.to_string().into_bytes(),
    }
}

/// An array's binary form (see `encode_binary`).
fn decode_array(data: &[u8], ty: DataType) -> Result<Value, ExecError> {
    let mut p = 0usize;
    let int = |p: &mut usize| -> Result<i32, ExecError> {
        let b = data.get(*p..*p + 4).ok_or_else(|| bad_binary(ty))?;
        *p += 4;
        Ok(i32::from_be_bytes(
            b.try_into().map_err(|_| bad_binary(ty))?,
        ))
    };
    let nd = int(&mut p)?;
    let _has_nulls = int(&mut p)?;
    let elem_oid = int(&mut p)? as u32;
    if !(0..=basalt_catalog::array::MAX_DIMS as i32).contains(&nd) {
        return Err(bad_binary(ty));
    }
    let elem = ty
        .element()
        .or_else(|| DataType::from_oid(elem_oid))
        .ok_or_else(|| bad_binary(ty))?;
    let mut dims = Vec::new();
    let mut count: usize = 1;
    for _ in 0..nd {
        let n = int(&mut p)?;
        let lo = int(&mut p)?;
        if n < 0 {
            return Err(bad_binary(ty));
        }
        count = count
            .checked_mul(n as usize)
            .ok_or_else(|| bad_binary(ty))?;
        dims.push((lo, n));
    }
    if nd == 0 || count == 0 {
        dims.clear();
        count = 0;
    }
    let mut items = Vec::with_capacity(count.min(data.len()));
    for _ in 0..count {
        let len = int(&mut p)?;
        if len < 0 {
            items.push(Value::Null);
            continue;
        }
        let start = p;
        let end = start
            .checked_add(len as usize)
            .filter(|e| *e <= data.len())
            .ok_or_else(|| bad_binary(ty))?;
        items.push(decode_param(&data[start..end], 1, elem)?);
        p = end;
    }
    if p != data.len() {
        return Err(bad_binary(ty));
    }
    Ok(Value::Array(Box::new(basalt_catalog::array::Array {
        elem,
        dims,
        items,
    })))
}

/// numeric's binary form: ndigits, weight, sign, dscale, base-10000 digits.
fn numeric_binary(d: &Numeric) -> Vec<u8> {
    let (weight, sign, dscale, digits) = d.to_nbase();
    let mut out = Vec::with_capacity(8 + 2 * digits.len());
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for g in digits {
        out.extend_from_slice(&g.to_be_bytes());
    }
    out
}

fn bad_binary(ty: DataType) -> ExecError {
    ExecError::Value(ValueError::InvalidText {
        ty: ty.display_name(),
        text: "<binary>".into(),
    })
}

pub fn decode_param(data: &[u8], format: i16, ty: DataType) -> Result<Value, ExecError> {
    if format == 0 {
        let s = std::str::from_utf8(data).map_err(|_| ExecError::Value(ValueError::BadEncoding))?;
        let ty = if ty == DataType::Unknown {
            DataType::Text
        } else {
            ty
        };
        return Ok(cast::from_text(s, &ty)?);
    }
    let arr = |n: usize| -> Result<&[u8], ExecError> {
        if data.len() == n {
            Ok(data)
        } else {
            Err(bad_binary(ty))
        }
    };
    Ok(match ty {
        DataType::Array(_) => decode_array(data, ty)?,
        DataType::Json | DataType::Jsonb => {
            let text = if ty == DataType::Jsonb {
                match data.split_first() {
                    Some((1, rest)) => rest,
                    _ => return Err(bad_binary(ty)),
                }
            } else {
                data
            };
            let s =
                std::str::from_utf8(text).map_err(|_| ExecError::Value(ValueError::BadEncoding))?;
            cast::from_text(s, &ty)?
        }
        DataType::Bool => Value::Bool(arr(1)?[0] != 0),
        DataType::Int2 => Value::Int2(i16::from_be_bytes(
            arr(2)?.try_into().map_err(|_| bad_binary(ty))?,
        )),
        DataType::Int4 => Value::Int4(i32::from_be_bytes(
            arr(4)?.try_into().map_err(|_| bad_binary(ty))?,
        )),
        DataType::Oid => {
            Value::Int8(u32::from_be_bytes(arr(4)?.try_into().map_err(|_| bad_binary(ty))?) as i64)
        }
        DataType::Int8 => Value::Int8(i64::from_be_bytes(
            arr(8)?.try_into().map_err(|_| bad_binary(ty))?,
        )),
        DataType::Float4 => Value::Float4(f32::from_be_bytes(
            arr(4)?.try_into().map_err(|_| bad_binary(ty))?,
        )),
        DataType::Float8 => Value::Float8(f64::from_be_bytes(
            arr(8)?.try_into().map_err(|_| bad_binary(ty))?,
        )),
        DataType::Bytea => Value::Bytea(data.to_vec()),
        DataType::Date => {
            let days = i32::from_be_bytes(arr(4)?.try_into().map_err(|_| bad_binary(ty))?);
            Value::Date(pg_epoch() + chrono::Duration::days(days as i64))
        }
        DataType::Timestamp | DataType::TimestampTz => {
            let us =
                i64::from_be_bytes(arr(8)?.try_into().map_err(|_| bad_binary(ty))?) + EPOCH_MICROS;
            let t = chrono::DateTime::from_timestamp_micros(us).ok_or_else(|| bad_binary(ty))?;
            if ty == DataType::Timestamp {
                Value::Timestamp(t.naive_utc())
            } else {
                Value::TimestampTz(t)
            }
        }
        DataType::Uuid => Value::Uuid(arr(16)?.try_into().map_err(|_| bad_binary(ty))?),
        DataType::Time => Value::Time(
            basalt_catalog::types::time_from_micros(i64::from_be_bytes(
                arr(8)?.try_into().map_err(|_| bad_binary(ty))?,
            ))
            .ok_or_else(|| bad_binary(ty))?,
        ),
        DataType::Interval => {
            let b = arr(16)?;
            Value::Interval(basalt_catalog::Interval {
                micros: i64::from_be_bytes(b[0..8].try_into().map_err(|_| bad_binary(ty))?),
                days: i32::from_be_bytes(b[8..12].try_into().map_err(|_| bad_binary(ty))?),
                months: i32::from_be_bytes(b[12..16].try_into().map_err(|_| bad_binary(ty))?),
            })
        }
        DataType::Numeric(_) => {
            if data.len() < 8 {
                return Err(bad_binary(ty));
            }
            let n = i16::from_be_bytes([data[0], data[1]]) as usize;
            let weight = i16::from_be_bytes([data[2], data[3]]) as i32;
            let sign = u16::from_be_bytes([data[4], data[5]]);
            let dscale = i16::from_be_bytes([data[6], data[7]]).max(0) as u32;
            if data.len() != 8 + 2 * n {
                return Err(bad_binary(ty));
            }
            let groups: Vec<i16> = (0..n)
                .map(|i| i16::from_be_bytes([data[8 + 2 * i], data[9 + 2 * i]]))
                .collect();
            Value::Numeric(
                Numeric::from_nbase(weight as i16, sign, dscale as u16, &groups)
                    .ok_or_else(|| bad_binary(ty))?,
            )
        }
        _ => Value::Text(
            String::from_utf8(data.to_vec())
                .map_err(|_| ExecError::Value(ValueError::BadEncoding))?,
        ),
    })
}
