//! SQL types and values: PostgreSQL type OIDs, text input and output in
//! PostgreSQL's formats, and the on-disk row encoding (null bitmap, then each
//! non-null value: fixed-width little-endian, or u32 length + bytes).

pub use crate::array::Array;
pub use crate::interval::Interval;
pub use crate::json::Json;
use crate::numeric::Numeric;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// numeric(precision, scale); None = unconstrained.
    Numeric(Option<(u32, u32)>),
    Text,
    Varchar(Option<u32>),
    Char(u32),
    Bytea,
    Date,
    Timestamp,
    TimestampTz,
    Oid,
    Name,
    Interval,
    Uuid,
    Time,
    Json,
    Jsonb,
    /// The catalogs' one-byte `"char"` (relkind, typtype, ...): text
    /// values of one byte.
    QChar,
    /// The catalogs' int2vector and oidvector (pg_index.indkey, ...):
    /// text values of numbers separated by spaces, read as arrays (from
    /// subscript 0) by unnest, ANY and subscripts.
    Int2Vector,
    OidVector,
    /// The record information_schema._pg_expandarray returns: (x, n), an
    /// element and its 1-based position, held as a two-item array.
    ExpandRecord,
    /// An enum type (CREATE TYPE ... AS ENUM), by its OID.
    Enum(u32),
    /// An array of the element type (any number of dimensions).
    Array(ElemType),
    /// The type of an undecorated string literal before context decides.
    Unknown,
}

/// The element type of an array type, in a `Copy` form: the element's type
/// code and modifiers as `DataType::encode` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElemType(u8, u32, u32);

/// (element type OID, array type OID) of the built-in types.
const ARRAY_OIDS: &[(u32, u32)] = &[
    (16, 1000),
    (21, 1005),
    (23, 1007),
    (20, 1016),
    (700, 1021),
    (701, 1022),
    (1700, 1231),
    (25, 1009),
    (1043, 1015),
    (1042, 1014),
    (17, 1001),
    (1082, 1182),
    (1114, 1115),
    (1184, 1185),
    (26, 1028),
    (19, 1003),
    (18, 1002),
    (22, 1006),
    (30, 1013),
    (1186, 1187),
    (2950, 2951),
    (1083, 1183),
    (114, 199),
    (3802, 3807),
];

impl DataType {
    pub fn oid(&self) -> u32 {
        match self {
            DataType::Bool => 16,
            DataType::Int2 => 21,
            DataType::Int4 => 23,
            DataType::Int8 => 20,
            DataType::Float4 => 700,
            DataType::Float8 => 701,
            DataType::Numeric(_) => 1700,
            DataType::Text => 25,
            DataType::Varchar(_) => 1043,
            DataType::Char(_) => 1042,
            DataType::Bytea => 17,
            DataType::Date => 1082,
            DataType::Timestamp => 1114,
            DataType::TimestampTz => 1184,
            DataType::Oid => 26,
            DataType::Name => 19,
            DataType::QChar => 18,
            DataType::Int2Vector => 22,
            DataType::OidVector => 30,
            DataType::ExpandRecord => 2249,
            DataType::Interval => 1186,
            DataType::Uuid => 2950,
            DataType::Time => 1083,
            DataType::Json => 114,
            DataType::Jsonb => 3802,
            DataType::Enum(oid) => *oid,
            DataType::Array(_) => self.element().map(|e| e.array_oid()).unwrap_or(1009),
            DataType::Unknown => 25,
        }
    }

    /// The array type whose elements are of this type (an array type is
    /// its own: PostgreSQL has no arrays of arrays, only more dimensions).
    pub fn array_of(&self) -> DataType {
        if let DataType::Array(_) = self {
            return *self;
        }
        let t = if *self == DataType::Unknown {
            DataType::Text
        } else {
            *self
        };
        let (c, a, b) = t.code();
        DataType::Array(ElemType(c, a, b))
    }

    /// The element type of an array type.
    pub fn element(&self) -> Option<DataType> {
        match self {
            DataType::Array(ElemType(c, a, b)) => DataType::decode(*c, *a, *b),
            _ => None,
        }
    }

    /// pg_type.typarray: the OID of the array type over this one.
    pub fn array_oid(&self) -> u32 {
        if let DataType::Enum(e) = self {
            return crate::enums::array_oid(*e).unwrap_or(0);
        }
        let oid = self.oid();
        ARRAY_OIDS
            .iter()
            .find(|(e, _)| *e == oid)
            .map(|(_, a)| *a)
            .unwrap_or(0)
    }

    pub fn from_oid(oid: u32) -> Option<DataType> {
        Some(match oid {
            16 => DataType::Bool,
            21 => DataType::Int2,
            23 => DataType::Int4,
            20 => DataType::Int8,
            700 => DataType::Float4,
            701 => DataType::Float8,
            1700 => DataType::Numeric(None),
            25 => DataType::Text,
            1043 => DataType::Varchar(None),
            1042 => DataType::Char(1),
            17 => DataType::Bytea,
            1082 => DataType::Date,
            1114 => DataType::Timestamp,
            1184 => DataType::TimestampTz,
            26 => DataType::Oid,
            19 => DataType::Name,
            18 => DataType::QChar,
            22 => DataType::Int2Vector,
            30 => DataType::OidVector,
            1186 => DataType::Interval,
            2950 => DataType::Uuid,
            1083 => DataType::Time,
            705 => DataType::Unknown,
            114 => DataType::Json,
            3802 => DataType::Jsonb,
            _ => match ARRAY_OIDS.iter().find(|(_, a)| *a == oid) {
                Some((e, _)) => DataType::from_oid(*e)?.array_of(),
                None => match crate::enums::of_array_oid(oid) {
                    Some(e) => DataType::Enum(e).array_of(),
                    None => {
                        crate::enums::type_name(oid)?;
                        DataType::Enum(oid)
                    }
                },
            },
        })
    }

    /// typmod as PostgreSQL stores it in pg_attribute.atttypmod.
    pub fn typmod(&self) -> i32 {
        match self {
            DataType::Numeric(Some((p, s))) => (((*p as i32) << 16) | *s as i32) + 4,
            DataType::Varchar(Some(n)) => *n as i32 + 4,
            DataType::Char(n) => *n as i32 + 4,
            DataType::Array(_) => self.element().map(|e| e.typmod()).unwrap_or(-1),
            _ => -1,
        }
    }

    /// Byte length as in pg_type.typlen (-1 = variable).
    pub fn typlen(&self) -> i16 {
        match self {
            DataType::Bool => 1,
            DataType::Int2 => 2,
            DataType::Int4 | DataType::Float4 | DataType::Date | DataType::Oid => 4,
            DataType::Int8 | DataType::Float8 | DataType::Timestamp | DataType::TimestampTz => 8,
            DataType::Name => 64,
            DataType::QChar => 1,
            DataType::Enum(_) => 4,
            DataType::Interval | DataType::Uuid => 16,
            DataType::Time => 8,
            _ => -1,
        }
    }

    /// Name as `format_type` prints it.
    pub fn display_name(&self) -> String {
        match self {
            DataType::Bool => "boolean".into(),
            DataType::Int2 => "smallint".into(),
            DataType::Int4 => "integer".into(),
            DataType::Int8 => "bigint".into(),
            DataType::Float4 => "real".into(),
            DataType::Float8 => "double precision".into(),
            DataType::Numeric(None) => "numeric".into(),
            DataType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            DataType::Text => "text".into(),
            DataType::Varchar(None) => "character varying".into(),
            DataType::Varchar(Some(n)) => format!("character varying({n})"),
            DataType::Char(n) => format!("character({n})"),
            DataType::Bytea => "bytea".into(),
            DataType::Date => "date".into(),
            DataType::Timestamp => "timestamp without time zone".into(),
            DataType::TimestampTz => "timestamp with time zone".into(),
            DataType::Oid => "oid".into(),
            DataType::Name => "name".into(),
            DataType::QChar => "\"char\"".into(),
            DataType::Int2Vector => "int2vector".into(),
            DataType::OidVector => "oidvector".into(),
            DataType::ExpandRecord => "record".into(),
            DataType::Interval => "interval".into(),
            DataType::Uuid => "uuid".into(),
            DataType::Time => "time without time zone".into(),
            DataType::Json => "json".into(),
            DataType::Jsonb => "jsonb".into(),
            DataType::Enum(oid) => crate::enums::type_name(*oid).unwrap_or_else(|| "enum".into()),
            DataType::Array(_) => match self.element() {
                Some(e) => format!("{}[]", e.display_name()),
                None => "anyarray".into(),
            },
            DataType::Unknown => "unknown".into(),
        }
    }

    /// pg_type.typname.
    pub fn type_name(&self) -> &'static str {
        match self {
            DataType::Bool => "bool",
            DataType::Int2 => "int2",
            DataType::Int4 => "int4",
            DataType::Int8 => "int8",
            DataType::Float4 => "float4",
            DataType::Float8 => "float8",
            DataType::Numeric(_) => "numeric",
            DataType::Text => "text",
            DataType::Varchar(_) => "varchar",
            DataType::Char(_) => "bpchar",
            DataType::Bytea => "bytea",
            DataType::Date => "date",
            DataType::Timestamp => "timestamp",
            DataType::TimestampTz => "timestamptz",
            DataType::Oid => "oid",
            DataType::Name => "name",
            DataType::QChar => "char",
            DataType::Int2Vector => "int2vector",
            DataType::OidVector => "oidvector",
            DataType::ExpandRecord => "record",
            DataType::Interval => "interval",
            DataType::Uuid => "uuid",
            DataType::Time => "time",
            DataType::Json => "json",
            DataType::Jsonb => "jsonb",
            DataType::Enum(_) => "anyenum",
            DataType::Array(_) => match self.element().map(|e| e.oid()) {
                Some(16) => "_bool",
                Some(21) => "_int2",
                Some(23) => "_int4",
                Some(20) => "_int8",
                Some(700) => "_float4",
                Some(701) => "_float8",
                Some(1700) => "_numeric",
                Some(1043) => "_varchar",
                Some(1042) => "_bpchar",
                Some(17) => "_bytea",
                Some(1082) => "_date",
                Some(1114) => "_timestamp",
                Some(1184) => "_timestamptz",
                Some(26) => "_oid",
                Some(19) => "_name",
                Some(1186) => "_interval",
                Some(2950) => "_uuid",
                Some(1083) => "_time",
                Some(114) => "_json",
                Some(3802) => "_jsonb",
                _ => "_text",
            },
            DataType::Unknown => "unknown",
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            DataType::Int2
                | DataType::Int4
                | DataType::Int8
                | DataType::Float4
                | DataType::Float8
                | DataType::Numeric(_)
                | DataType::Oid
        )
    }
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Oid
        )
    }
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            DataType::Text
                | DataType::Varchar(_)
                | DataType::Char(_)
                | DataType::Name
                | DataType::QChar
                | DataType::Unknown
        )
    }

    fn code(&self) -> (u8, u32, u32) {
        match self {
            DataType::Bool => (1, 0, 0),
            DataType::Int2 => (2, 0, 0),
            DataType::Int4 => (3, 0, 0),
            DataType::Int8 => (4, 0, 0),
            DataType::Float4 => (5, 0, 0),
            DataType::Float8 => (6, 0, 0),
            DataType::Numeric(None) => (7, 0, 0),
            DataType::Numeric(Some((p, s))) => (8, *p, *s),
            DataType::Text => (9, 0, 0),
            DataType::Varchar(None) => (10, 0, 0),
            DataType::Varchar(Some(n)) => (11, *n, 0),
            DataType::Char(n) => (12, *n, 0),
            DataType::Bytea => (13, 0, 0),
            DataType::Date => (14, 0, 0),
            DataType::Timestamp => (15, 0, 0),
            DataType::TimestampTz => (16, 0, 0),
            DataType::Oid => (17, 0, 0),
            DataType::Name => (18, 0, 0),
            DataType::QChar => (26, 0, 0),
            DataType::Int2Vector => (27, 0, 0),
            DataType::OidVector => (28, 0, 0),
            DataType::ExpandRecord => (29, 0, 0),
            DataType::Unknown => (19, 0, 0),
            DataType::Interval => (20, 0, 0),
            DataType::Uuid => (21, 0, 0),
            DataType::Time => (22, 0, 0),
            DataType::Json => (23, 0, 0),
            DataType::Jsonb => (24, 0, 0),
            DataType::Enum(oid) => (25, *oid, 0),
            DataType::Array(ElemType(c, a, b)) => (c + 100, *a, *b),
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let (c, a, b) = self.code();
        out.push(c);
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
    }

    pub fn decode(c: u8, a: u32, b: u32) -> Option<DataType> {
        Some(match c {
            1 => DataType::Bool,
            2 => DataType::Int2,
            3 => DataType::Int4,
            4 => DataType::Int8,
            5 => DataType::Float4,
            6 => DataType::Float8,
            7 => DataType::Numeric(None),
            8 => DataType::Numeric(Some((a, b))),
            9 => DataType::Text,
            10 => DataType::Varchar(None),
            11 => DataType::Varchar(Some(a)),
            12 => DataType::Char(a),
            13 => DataType::Bytea,
            14 => DataType::Date,
            15 => DataType::Timestamp,
            16 => DataType::TimestampTz,
            17 => DataType::Oid,
            18 => DataType::Name,
            26 => DataType::QChar,
            27 => DataType::Int2Vector,
            28 => DataType::OidVector,
            29 => DataType::ExpandRecord,
            19 => DataType::Unknown,
            20 => DataType::Interval,
            21 => DataType::Uuid,
            22 => DataType::Time,
            23 => DataType::Json,
            24 => DataType::Jsonb,
            25 => DataType::Enum(a),
            c @ 101..=199 => {
                DataType::decode(c - 100, a, b)?;
                DataType::Array(ElemType(c - 100, a, b))
            }
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    Numeric(Numeric),
    Text(String),
    Bytea(Vec<u8>),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Interval(Interval),
    Uuid([u8; 16]),
    Time(chrono::NaiveTime),
    Array(Box<Array>),
    /// json: the text as written (validated).
    Json(String),
    /// A label of an enum type, by its OID (see `enums`).
    Enum(u32),
    Jsonb(Box<Json>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int2(v) => Some(*v as i64),
            Value::Int4(v) => Some(*v as i64),
            Value::Int8(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int2(v) => Some(*v as f64),
            Value::Int4(v) => Some(*v as f64),
            Value::Int8(v) => Some(*v as f64),
            Value::Float4(v) => Some(*v as f64),
            Value::Float8(v) => Some(*v),
            Value::Numeric(d) => Some(d.to_f64()),
            _ => None,
        }
    }

    pub fn as_numeric(&self) -> Option<Numeric> {
        match self {
            Value::Int2(v) => Some(Numeric::from(*v as i64)),
            Value::Int4(v) => Some(Numeric::from(*v as i64)),
            Value::Int8(v) => Some(Numeric::from(*v)),
            Value::Numeric(d) => Some(d.clone()),
            Value::Float4(f) => Numeric::from_f64(*f as f64),
            Value::Float8(f) => Numeric::from_f64(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Total order used by ORDER BY, DISTINCT, GROUP BY and comparisons
    /// between values of comparable types. NULL sorts last.
    pub fn cmp_total(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Greater,
            (_, Null) => Ordering::Less,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.cmp(b),
            (Bytea(a), Bytea(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (TimestampTz(a), TimestampTz(b)) => a.cmp(b),
            (Timestamp(a), TimestampTz(b)) => crate::tz::from_local(a).cmp(b),
            (TimestampTz(a), Timestamp(b)) => a.cmp(&crate::tz::from_local(b)),
            (Date(a), Timestamp(b)) => a.and_hms_opt(0, 0, 0).expect("midnight").cmp(b),
            (Timestamp(a), Date(b)) => a.cmp(&b.and_hms_opt(0, 0, 0).expect("midnight")),
            (Interval(a), Interval(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Array(a), Array(b)) => a.cmp(b),
            (Jsonb(a), Jsonb(b)) => a.cmp(b),
            (Enum(a), Enum(b)) => match (crate::enums::label(*a), crate::enums::label(*b)) {
                (Some(x), Some(y)) => x.1.total_cmp(&y.1),
                _ => a.cmp(b),
            },
            (Json(a), Json(b)) => a.cmp(b),
            (a, b) => {
                if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                    return x.cmp(&y);
                }
                let float =
                    matches!(a, Float4(_) | Float8(_)) || matches!(b, Float4(_) | Float8(_));
                if !float {
                    if let (Some(x), Some(y)) = (a.as_numeric(), b.as_numeric()) {
                        return x.cmp_total(&y);
                    }
                }
                match (a.as_f64(), b.as_f64()) {
                    // PostgreSQL orders NaN above every other number.
                    (Some(x), Some(y)) => x
                        .partial_cmp(&y)
                        .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan())),
                    _ => a.to_string().cmp(&b.to_string()),
                }
            }
        }
    }

    /// The type a value naturally has (literals, results).
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Unknown,
            Value::Bool(_) => DataType::Bool,
            Value::Int2(_) => DataType::Int2,
            Value::Int4(_) => DataType::Int4,
            Value::Int8(_) => DataType::Int8,
            Value::Float4(_) => DataType::Float4,
            Value::Float8(_) => DataType::Float8,
            Value::Numeric(_) => DataType::Numeric(None),
            Value::Text(_) => DataType::Text,
            Value::Bytea(_) => DataType::Bytea,
            Value::Date(_) => DataType::Date,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::TimestampTz(_) => DataType::TimestampTz,
            Value::Interval(_) => DataType::Interval,
            Value::Uuid(_) => DataType::Uuid,
            Value::Time(_) => DataType::Time,
            Value::Array(a) => a.elem.array_of(),
            Value::Json(_) => DataType::Json,
            Value::Enum(l) => crate::enums::label(*l)
                .map(|(t, _, _)| DataType::Enum(t))
                .unwrap_or(DataType::Text),
            Value::Jsonb(_) => DataType::Jsonb,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp_total(other) == Ordering::Equal
    }
}
impl Eq for Value {}
impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Bool(b) => b.hash(state),
            Value::Text(s) => s.hash(state),
            Value::Bytea(b) => b.hash(state),
            Value::Date(d) => d.hash(state),
            Value::Timestamp(t) => t.hash(state),
            Value::TimestampTz(t) => t.naive_utc().hash(state),
            Value::Interval(i) => i.hash(state),
            Value::Uuid(u) => u.hash(state),
            Value::Time(t) => t.hash(state),
            Value::Json(s) => s.hash(state),
            Value::Enum(l) => l.hash(state),
            Value::Jsonb(j) => j.to_string().hash(state),
            Value::Array(a) => {
                a.dims.hash(state);
                for v in &a.items {
                    v.hash(state);
                }
            }
            v => {
                // Numbers that compare equal must hash equal across types.
                if let Some(i) = v.as_i64() {
                    Numeric::hash_i64(i, state)
                } else if let Value::Numeric(d) = v {
                    d.hash_into(state)
                } else if let Some(f) = v.as_f64() {
                    if f.fract() == 0.0 && f.abs() < 1e15 {
                        Numeric::hash_i64(f as i64, state)
                    } else {
                        f.to_bits().hash(state)
                    }
                }
            }
        }
    }
}

/// The timestamps that stand for 'infinity' and '-infinity': the latest
/// and earliest whole microseconds chrono holds (so they survive storage).
pub fn ts_infinity(positive: bool) -> NaiveDateTime {
    static BOUNDS: std::sync::OnceLock<(NaiveDateTime, NaiveDateTime)> = std::sync::OnceLock::new();
    let (lo, hi) = BOUNDS.get_or_init(|| {
        let whole = |t: NaiveDateTime| {
            chrono::DateTime::from_timestamp_micros(t.and_utc().timestamp_micros())
                .map(|d| d.naive_utc())
                .unwrap_or(t)
        };
        (whole(NaiveDateTime::MIN), whole(NaiveDateTime::MAX))
    });
    if positive {
        *hi
    } else {
        *lo
    }
}

/// PostgreSQL's float output: shortest text that reads back to the same value.
pub fn format_float(f: f64, single: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let s = if single {
        format!("{}", f as f32)
    } else {
        format!("{f}")
    };
    // Rust prints 1e21 as "1000000000000000000000"; PostgreSQL switches to
    // exponent form when the exponent is < -4 or >= the precision (15/6+).
    let abs = f.abs();
    let limit = if single { 1e6 } else { 1e15 };
    if abs != 0.0 && (abs >= limit * 10.0 || abs < 1e-4) {
        let e = if single {
            format!("{:e}", f as f32)
        } else {
            format!("{f:e}")
        };
        // "1.5e20" → "1.5e+20"; "1e-5" → "1e-05"
        if let Some((m, ex)) = e.split_once('e') {
            let (sign, digits) = if let Some(d) = ex.strip_prefix('-') {
                ('-', d)
            } else {
                ('+', ex)
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
    }
    s
}

pub fn format_timestamp(t: &NaiveDateTime) -> String {
    let base = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = t.and_utc().timestamp_subsec_micros();
    if micros == 0 {
        base
    } else {
        let frac = format!("{micros:06}");
        format!("{base}.{}", frac.trim_end_matches('0'))
    }
}

impl fmt::Display for Value {
    /// PostgreSQL's text output format for each type.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{}", if *b { "t" } else { "f" }),
            Value::Int2(v) => write!(f, "{v}"),
            Value::Int4(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Float4(v) => write!(f, "{}", format_float(*v as f64, true)),
            Value::Float8(v) => write!(f, "{}", format_float(*v, false)),
            Value::Numeric(d) => write!(f, "{d}"),
            Value::Text(s) => write!(f, "{s}"),
            Value::Bytea(b) => {
                write!(f, "\\x")?;
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            Value::Date(d) if *d == NaiveDate::MAX => f.write_str("infinity"),
            Value::Date(d) if *d == NaiveDate::MIN => f.write_str("-infinity"),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Timestamp(t) if *t == ts_infinity(true) => f.write_str("infinity"),
            Value::Timestamp(t) if *t == ts_infinity(false) => f.write_str("-infinity"),
            Value::TimestampTz(t) if t.naive_utc() == ts_infinity(true) => f.write_str("infinity"),
            Value::TimestampTz(t) if t.naive_utc() == ts_infinity(false) => {
                f.write_str("-infinity")
            }
            Value::Timestamp(t) => write!(f, "{}", format_timestamp(t)),
            Value::TimestampTz(t) => {
                let n = t.naive_utc();
                let off = crate::tz::offset_at(&n);
                write!(
                    f,
                    "{}{}",
                    format_timestamp(&(n + off)),
                    crate::tz::offset_text(&off)
                )
            }
            Value::Interval(i) => write!(f, "{i}"),
            Value::Time(t) => {
                let micros = time_micros(t) % 1_000_000;
                write!(f, "{}", t.format("%H:%M:%S"))?;
                if micros != 0 {
                    let frac = format!("{micros:06}");
                    write!(f, ".{}", frac.trim_end_matches('0'))?;
                }
                Ok(())
            }
            Value::Array(a) => write!(f, "{a}"),
            Value::Json(s) => f.write_str(s),
            Value::Enum(l) => match crate::enums::label(*l) {
                Some((_, _, name)) => f.write_str(&name),
                None => write!(f, "{l}"),
            },
            Value::Jsonb(j) => write!(f, "{j}"),
            Value::Uuid(u) => {
                for (k, b) in u.iter().enumerate() {
                    if matches!(k, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Encodes a row of values for the heap. `types` gives each column's type.
pub fn encode_row(values: &[Value], out: &mut Vec<u8>) {
    let n = values.len();
    out.extend_from_slice(&(n as u16).to_le_bytes());
    let bm_start = out.len();
    out.resize(bm_start + n.div_ceil(8), 0);
    for (i, v) in values.iter().enumerate() {
        if v.is_null() {
            out[bm_start + i / 8] |= 1 << (i % 8);
            continue;
        }
        encode_value(v, out);
    }
}

/// Appends one non-NULL value's heap encoding.
fn encode_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push(*b as u8),
        Value::Int2(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Int4(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Int8(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Float4(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Float8(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Numeric(d) => d.encode(out),
        Value::Text(s) | Value::Json(s) => {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Jsonb(j) => {
            let s = j.to_string();
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Enum(l) => out.extend_from_slice(&l.to_le_bytes()),
        Value::Bytea(b) => {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        Value::Date(d) => out.extend_from_slice(&(d.num_days_from_ce()).to_le_bytes()),
        Value::Timestamp(t) => out.extend_from_slice(&t.and_utc().timestamp_micros().to_le_bytes()),
        Value::TimestampTz(t) => out.extend_from_slice(&t.timestamp_micros().to_le_bytes()),
        Value::Interval(i) => {
            out.extend_from_slice(&i.micros.to_le_bytes());
            out.extend_from_slice(&i.days.to_le_bytes());
            out.extend_from_slice(&i.months.to_le_bytes());
        }
        Value::Uuid(u) => out.extend_from_slice(u),
        Value::Time(t) => out.extend_from_slice(&time_micros(t).to_le_bytes()),
        Value::Array(a) => {
            // u32 length of the rest; dimension count and (lower, length)
            // pairs; item count; NULL bitmap; the items.
            let len_at = out.len();
            out.extend_from_slice(&[0; 4]);
            out.push(a.dims.len() as u8);
            for (lo, n) in &a.dims {
                out.extend_from_slice(&lo.to_le_bytes());
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.extend_from_slice(&(a.items.len() as u32).to_le_bytes());
            let bm = out.len();
            out.resize(bm + a.items.len().div_ceil(8), 0);
            for (i, v) in a.items.iter().enumerate() {
                if v.is_null() {
                    out[bm + i / 8] |= 1 << (i % 8);
                } else {
                    encode_value(v, out);
                }
            }
            let len = (out.len() - len_at - 4) as u32;
            out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
        }
    }
}

/// Microseconds since midnight.
pub fn time_micros(t: &chrono::NaiveTime) -> i64 {
    use chrono::Timelike;
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() as i64 / 1000) % 1_000_000
}

/// The time `us` microseconds after midnight (wrapping around a day).
pub fn time_from_micros(us: i64) -> Option<chrono::NaiveTime> {
    let us = us.rem_euclid(86_400_000_000);
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(
        (us / 1_000_000) as u32,
        ((us % 1_000_000) * 1000) as u32,
    )
}

use chrono::Datelike;

/// Decodes a heap row; `types` must be the table's column types. Columns
/// added after the row was written read as NULL.
pub fn decode_row(types: &[DataType], b: &[u8]) -> Option<Vec<Value>> {
    decode_row_some(types, b, &[])
}

/// Decodes a heap row, but only the columns `want` marks (every column
/// past its end is wanted): the others come
/// back NULL without being read into values (a query that uses 3 of a
/// table's 16 columns skips the rest, its long texts above all).
pub fn decode_row_some(types: &[DataType], b: &[u8], want: &[bool]) -> Option<Vec<Value>> {
    let n = u16::from_le_bytes(b.get(0..2)?.try_into().ok()?) as usize;
    let bm = b.get(2..2 + n.div_ceil(8))?;
    let mut p = 2 + n.div_ceil(8);
    let mut out = Vec::with_capacity(types.len());
    for (i, ty) in types.iter().enumerate() {
        if i >= n || bm[i / 8] & (1 << (i % 8)) != 0 {
            out.push(Value::Null);
            continue;
        }
        if want.get(i).copied().unwrap_or(true) {
            out.push(decode_value(ty, b, &mut p)?);
        } else {
            skip_value(ty, b, &mut p)?;
            out.push(Value::Null);
        }
    }
    Some(out)
}

/// Moves `p` past one non-NULL value without building it.
fn skip_value(ty: &DataType, b: &[u8], p: &mut usize) -> Option<()> {
    match ty {
        DataType::Text
        | DataType::Varchar(_)
        | DataType::Char(_)
        | DataType::Name
        | DataType::QChar
        | DataType::Int2Vector
        | DataType::OidVector
        | DataType::Unknown
        | DataType::Bytea
        | DataType::Json
        | DataType::Jsonb
        | DataType::Array(_) => {
            let l = u32::from_le_bytes(b.get(*p..*p + 4)?.try_into().ok()?) as usize;
            *p += 4;
            b.get(*p..*p + l)?;
            *p += l;
            Some(())
        }
        ty => decode_value(ty, b, p).map(|_| ()),
    }
}

/// Decodes one non-NULL value at `*p`, moving `p` past it.
fn decode_value(ty: &DataType, b: &[u8], p: &mut usize) -> Option<Value> {
    let take = |p: &mut usize, k: usize| -> Option<&[u8]> {
        let s = b.get(*p..*p + k)?;
        *p += k;
        Some(s)
    };
    Some(match ty {
        DataType::Bool => Value::Bool(take(p, 1)?[0] != 0),
        DataType::Int2 => Value::Int2(i16::from_le_bytes(take(p, 2)?.try_into().ok()?)),
        DataType::Int4 => Value::Int4(i32::from_le_bytes(take(p, 4)?.try_into().ok()?)),
        DataType::Int8 | DataType::Oid => {
            Value::Int8(i64::from_le_bytes(take(p, 8)?.try_into().ok()?))
        }
        DataType::Float4 => Value::Float4(f32::from_le_bytes(take(p, 4)?.try_into().ok()?)),
        DataType::Float8 => Value::Float8(f64::from_le_bytes(take(p, 8)?.try_into().ok()?)),
        DataType::Numeric(_) => Value::Numeric(Numeric::decode(b, p)?),
        DataType::Text
        | DataType::Varchar(_)
        | DataType::Char(_)
        | DataType::Name
        | DataType::QChar
        | DataType::Int2Vector
        | DataType::OidVector
        | DataType::Unknown => {
            let l = u32::from_le_bytes(take(p, 4)?.try_into().ok()?) as usize;
            Value::Text(String::from_utf8(take(p, l)?.to_vec()).ok()?)
        }
        DataType::Bytea => {
            let l = u32::from_le_bytes(take(p, 4)?.try_into().ok()?) as usize;
            Value::Bytea(take(p, l)?.to_vec())
        }
        DataType::Enum(_) => Value::Enum(u32::from_le_bytes(take(p, 4)?.try_into().ok()?)),
        DataType::Json | DataType::Jsonb => {
            let l = u32::from_le_bytes(take(p, 4)?.try_into().ok()?) as usize;
            let s = String::from_utf8(take(p, l)?.to_vec()).ok()?;
            if *ty == DataType::Json {
                Value::Json(s)
            } else {
                Value::Jsonb(Box::new(Json::parse(&s).ok()?))
            }
        }
        DataType::Date => Value::Date(NaiveDate::from_num_days_from_ce_opt(i32::from_le_bytes(
            take(p, 4)?.try_into().ok()?,
        ))?),
        DataType::Timestamp => Value::Timestamp(
            DateTime::from_timestamp_micros(i64::from_le_bytes(take(p, 8)?.try_into().ok()?))?
                .naive_utc(),
        ),
        DataType::TimestampTz => Value::TimestampTz(DateTime::from_timestamp_micros(
            i64::from_le_bytes(take(p, 8)?.try_into().ok()?),
        )?),
        DataType::Uuid => Value::Uuid(take(p, 16)?.try_into().ok()?),
        DataType::Time => Value::Time(time_from_micros(i64::from_le_bytes(
            take(p, 8)?.try_into().ok()?,
        ))?),
        DataType::Interval => {
            let b = take(p, 16)?;
            Value::Interval(Interval {
                micros: i64::from_le_bytes(b[0..8].try_into().ok()?),
                days: i32::from_le_bytes(b[8..12].try_into().ok()?),
                months: i32::from_le_bytes(b[12..16].try_into().ok()?),
            })
        }
        // Never stored: only a query's rows hold it.
        DataType::ExpandRecord => return None,
        DataType::Array(_) => {
            let len = u32::from_le_bytes(take(p, 4)?.try_into().ok()?) as usize;
            let end = *p + len;
            let nd = take(p, 1)?[0] as usize;
            let mut dims = Vec::with_capacity(nd);
            for _ in 0..nd {
                let lo = i32::from_le_bytes(take(p, 4)?.try_into().ok()?);
                let n = i32::from_le_bytes(take(p, 4)?.try_into().ok()?);
                dims.push((lo, n));
            }
            let n = u32::from_le_bytes(take(p, 4)?.try_into().ok()?) as usize;
            let bm = take(p, n.div_ceil(8))?.to_vec();
            let elem = ty.element()?;
            let mut items = Vec::with_capacity(n);
            for i in 0..n {
                if bm[i / 8] & (1 << (i % 8)) != 0 {
                    items.push(Value::Null);
                } else {
                    items.push(decode_value(&elem, b, p)?);
                }
            }
            if *p != end {
                return None;
            }
            Value::Array(Box::new(Array { elem, dims, items }))
        }
    })
}

/// Appends the memcomparable encoding of a value to an index key: byte order
/// of the encoding equals the value order, NULLs last.
pub fn encode_key(v: &Value, out: &mut Vec<u8>) {
    if v.is_null() {
        out.push(2);
        return;
    }
    out.push(1);
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push(*b as u8),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => {
            let i = v.as_i64().expect("integer");
            out.extend_from_slice(&((i as u64) ^ (1 << 63)).to_be_bytes());
        }
        Value::Float4(_) | Value::Float8(_) => {
            let f = v.as_f64().expect("float");
            let bits = f.to_bits();
            let k = if f.is_sign_negative() {
                !bits
            } else {
                bits ^ (1 << 63)
            };
            out.extend_from_slice(&k.to_be_bytes());
        }
        Value::Numeric(d) => d.encode_key(out),
        Value::Text(s) => encode_bytes_key(s.as_bytes(), out),
        Value::Bytea(b) => encode_bytes_key(b, out),
        Value::Date(d) => {
            out.extend_from_slice(&((d.num_days_from_ce() as u32) ^ (1 << 31)).to_be_bytes())
        }
        Value::Timestamp(t) => out.extend_from_slice(
            &((t.and_utc().timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes(),
        ),
        Value::TimestampTz(t) => {
            out.extend_from_slice(&((t.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes())
        }
        Value::Interval(i) => {
            out.extend_from_slice(&((i.span() as u128) ^ (1 << 127)).to_be_bytes())
        }
        Value::Uuid(u) => out.extend_from_slice(u),
        Value::Time(t) => out.extend_from_slice(&(time_micros(t) as u64).to_be_bytes()),
        Value::Json(s) => encode_bytes_key(s.as_bytes(), out),
        Value::Enum(l) => {
            // By sort order (a float): its bits made to sort as unsigned.
            let bits = crate::enums::label(*l)
                .map(|(_, s, _)| s.to_bits())
                .unwrap_or(*l);
            let k = if bits & 0x8000_0000 != 0 {
                !bits
            } else {
                bits ^ 0x8000_0000
            };
            out.extend_from_slice(&k.to_be_bytes());
        }
        Value::Jsonb(j) => encode_json_key(j, out),
        Value::Array(a) => {
            // Items in turn, then a 0 that sorts below any item's first byte
            // (1 for a value, 2 for NULL): a prefix sorts first.
            for v in &a.items {
                encode_key(v, out);
            }
            out.push(0);
        }
    }
}

/// jsonb in its btree order (see `Json::cmp`): a rank byte, then sizes
/// before members so that bigger containers sort later.
fn encode_json_key(j: &Json, out: &mut Vec<u8>) {
    use crate::json::Number;
    match j {
        Json::Null => out.push(0),
        Json::String(s) => {
            out.push(1);
            encode_bytes_key(s.as_bytes(), out);
        }
        Json::Number(n) => {
            out.push(2);
            match n {
                Number::Dec(d) => d.encode_key(out),
                Number::Big(_) => encode_key(&Value::Float8(n.as_f64()), out),
            }
        }
        Json::Bool(b) => out.extend_from_slice(&[3, *b as u8]),
        Json::Array(a) => {
            out.push(4);
            out.extend_from_slice(&(a.len() as u32).to_be_bytes());
            for v in a {
                encode_json_key(v, out);
            }
        }
        Json::Object(m) => {
            out.push(5);
            out.extend_from_slice(&(m.len() as u32).to_be_bytes());
            for (k, v) in m {
                out.extend_from_slice(&(k.len() as u32).to_be_bytes());
                out.extend_from_slice(k.as_bytes());
                encode_json_key(v, out);
            }
        }
    }
}

/// Whether `decode_key` gives back every value of this type exactly as
/// stored (an index-only scan may then read it from the index).
pub fn key_decodable(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Bool
            | DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Float4
            | DataType::Float8
            | DataType::Text
            | DataType::Varchar(_)
            | DataType::Bytea
            | DataType::Date
            | DataType::Timestamp
            | DataType::TimestampTz
            | DataType::Uuid
            | DataType::Time
    )
}

/// Reads one value of type `ty` written by `encode_key` at `*p`, moving
/// past it (None: not a key of that type, or a type `key_decodable`
/// refuses).
pub fn decode_key(ty: &DataType, b: &[u8], p: &mut usize) -> Option<Value> {
    let tag = *b.get(*p)?;
    *p += 1;
    if tag == 2 {
        return Some(Value::Null);
    }
    let mut fixed = |n: usize| -> Option<&[u8]> {
        let s = b.get(*p..*p + n)?;
        *p += n;
        Some(s)
    };
    let u64_at = |s: &[u8]| u64::from_be_bytes(s.try_into().expect("8 bytes"));
    Some(match ty {
        DataType::Bool => Value::Bool(fixed(1)?[0] != 0),
        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
            let i = (u64_at(fixed(8)?) ^ (1 << 63)) as i64;
            match ty {
                DataType::Int2 => Value::Int2(i16::try_from(i).ok()?),
                DataType::Int4 => Value::Int4(i32::try_from(i).ok()?),
                _ => Value::Int8(i),
            }
        }
        DataType::Float4 | DataType::Float8 => {
            let k = u64_at(fixed(8)?);
            let bits = if k & (1 << 63) != 0 {
                k ^ (1 << 63)
            } else {
                !k
            };
            let f = f64::from_bits(bits);
            match ty {
                DataType::Float4 => Value::Float4(f as f32),
                _ => Value::Float8(f),
            }
        }
        DataType::Text | DataType::Varchar(_) | DataType::Bytea => {
            let mut out = Vec::new();
            loop {
                let c = *b.get(*p)?;
                *p += 1;
                if c != 0 {
                    out.push(c);
                    continue;
                }
                let next = *b.get(*p)?;
                *p += 1;
                match next {
                    0 => break,
                    0xff => out.push(0),
                    _ => return None,
                }
            }
            match ty {
                DataType::Bytea => Value::Bytea(out),
                _ => Value::Text(String::from_utf8(out).ok()?),
            }
        }
        DataType::Date => {
            let k = u32::from_be_bytes(fixed(4)?.try_into().ok()?) ^ (1 << 31);
            Value::Date(chrono::NaiveDate::from_num_days_from_ce_opt(k as i32)?)
        }
        DataType::Timestamp => {
            let us = (u64_at(fixed(8)?) ^ (1 << 63)) as i64;
            Value::Timestamp(chrono::DateTime::from_timestamp_micros(us)?.naive_utc())
        }
        DataType::TimestampTz => {
            let us = (u64_at(fixed(8)?) ^ (1 << 63)) as i64;
            Value::TimestampTz(chrono::DateTime::from_timestamp_micros(us)?)
        }
        DataType::Uuid => Value::Uuid(fixed(16)?.try_into().ok()?),
        DataType::Time => Value::Time(time_from_micros(u64_at(fixed(8)?) as i64)?),
        _ => return None,
    })
}

fn encode_bytes_key(b: &[u8], out: &mut Vec<u8>) {
    for &c in b {
        if c == 0 {
            out.extend_from_slice(&[0, 0xff]);
        } else {
            out.push(c);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodable_keys_come_back_as_stored() {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let ts = date.and_hms_micro_opt(13, 4, 5, 678_901).unwrap();
        let vals = [
            (DataType::Bool, Value::Bool(true)),
            (DataType::Int2, Value::Int2(-7)),
            (DataType::Int4, Value::Int4(i32::MIN)),
            (DataType::Int8, Value::Int8(i64::MAX)),
            (DataType::Float4, Value::Float4(-1.5)),
            (DataType::Float8, Value::Float8(-0.0)),
            (DataType::Float8, Value::Float8(f64::INFINITY)),
            (DataType::Text, Value::Text("a\0b\u{e9}".into())),
            (DataType::Varchar(Some(3)), Value::Text(String::new())),
            (DataType::Bytea, Value::Bytea(vec![0, 0, 255, 1])),
            (DataType::Date, Value::Date(date)),
            (DataType::Timestamp, Value::Timestamp(ts)),
            (DataType::TimestampTz, Value::TimestampTz(ts.and_utc())),
            (DataType::Uuid, Value::Uuid([9; 16])),
            (DataType::Time, Value::Time(ts.time())),
            (DataType::Int4, Value::Null),
        ];
        let mut key = Vec::new();
        for (_, v) in &vals {
            encode_key(v, &mut key);
        }
        let mut p = 0;
        for (ty, v) in &vals {
            assert!(key_decodable(ty));
            let back = decode_key(ty, &key, &mut p).expect("decodes");
            assert_eq!(format!("{back:?}"), format!("{v:?}"));
        }
        assert_eq!(p, key.len());
    }

    #[test]
    fn key_order_matches_value_order() {
        let vals = [
            Value::Numeric(Numeric::parse("-100.5").unwrap()),
            Value::Numeric(Numeric::parse("-3").unwrap()),
            Value::Numeric(Numeric::parse("-0.25").unwrap()),
            Value::Numeric(Numeric::parse("0").unwrap()),
            Value::Numeric(Numeric::parse("0.001").unwrap()),
            Value::Numeric(Numeric::parse("0.01").unwrap()),
            Value::Numeric(Numeric::parse("1").unwrap()),
            Value::Numeric(Numeric::parse("1.5").unwrap()),
            Value::Numeric(Numeric::parse("10").unwrap()),
            Value::Numeric(Numeric::parse("99.99").unwrap()),
            Value::Numeric(Numeric::parse("100").unwrap()),
        ];
        let keys: Vec<Vec<u8>> = vals
            .iter()
            .map(|v| {
                let mut k = vec![];
                encode_key(v, &mut k);
                k
            })
            .collect();
        for w in keys.windows(2) {
            assert!(w[0] < w[1]);
        }
        let ints = [i64::MIN, -5, 0, 3, i64::MAX];
        let k: Vec<Vec<u8>> = ints
            .iter()
            .map(|i| {
                let mut k = vec![];
                encode_key(&Value::Int8(*i), &mut k);
                k
            })
            .collect();
        for w in k.windows(2) {
            assert!(w[0] < w[1]);
        }
    }

    #[test]
    fn row_roundtrip() {
        let types = [
            DataType::Int4,
            DataType::Text,
            DataType::Numeric(None),
            DataType::Bool,
            DataType::Timestamp,
        ];
        let row = vec![
            Value::Int4(7),
            Value::Null,
            Value::Numeric(Numeric::parse("12.340").unwrap()),
            Value::Bool(true),
            Value::Timestamp(
                NaiveDate::from_ymd_opt(2024, 2, 29)
                    .unwrap()
                    .and_hms_micro_opt(1, 2, 3, 4500)
                    .unwrap(),
            ),
        ];
        let mut b = vec![];
        encode_row(&row, &mut b);
        let back = decode_row(&types, &b).unwrap();
        assert_eq!(format!("{:?}", back), format!("{:?}", row));
        assert_eq!(back[4].to_string(), "2024-02-29 01:02:03.0045");
        assert_eq!(Value::Float8(0.1).to_string(), "0.1");
        assert_eq!(Value::Float8(1e20).to_string(), "1e+20");
    }
}
