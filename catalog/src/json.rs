//! JSON: the parser shared by `json` and `jsonb`, and jsonb's value tree
//! with PostgreSQL's normal form (object keys unique and ordered by length,
//! then bytes; the last duplicate wins), output format and ordering.

use crate::numeric::Numeric;
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    /// Keys unique, in jsonb order (see `key_order`).
    Object(Vec<(String, Json)>),
}

/// A JSON number: a numeric when it fits in one, else its text.
#[derive(Debug, Clone)]
pub enum Number {
    Dec(Numeric),
    Big(String),
}

impl Number {
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Dec(d) => d.to_f64(),
            Number::Big(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
    fn cmp(&self, o: &Number) -> Ordering {
        match (self, o) {
            (Number::Dec(a), Number::Dec(b)) => a.cmp_total(b),
            _ => self.as_f64().total_cmp(&o.as_f64()),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, o: &Number) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Dec(d) => write!(f, "{d}"),
            Number::Big(s) => f.write_str(s),
        }
    }
}

/// jsonb's key order: shorter keys first, then by bytes.
pub fn key_order(a: &str, b: &str) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Why a text is not JSON (PostgreSQL's detail line).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError(pub String);

impl Json {
    /// Parses JSON text into jsonb's normal form.
    pub fn parse(s: &str) -> Result<Json, JsonError> {
        let mut p = Parser {
            b: s.as_bytes(),
            i: 0,
        };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != p.b.len() {
            return Err(p.unexpected());
        }
        Ok(v)
    }

    /// An object from pairs in any order (the last of equal keys wins).
    pub fn object(mut pairs: Vec<(String, Json)>) -> Json {
        // Stable sort keeps duplicates in input order; keep the last.
        pairs.sort_by(|a, b| key_order(&a.0, &b.0));
        let mut out: Vec<(String, Json)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Json::Object(out)
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m
                .binary_search_by(|(k, _)| key_order(k, key))
                .ok()
                .map(|i| &m[i].1),
            _ => None,
        }
    }

    /// Array element `i`; negative counts from the end.
    pub fn index(&self, i: i64) -> Option<&Json> {
        match self {
            Json::Array(a) => {
                let k = if i < 0 { a.len() as i64 + i } else { i };
                usize::try_from(k).ok().and_then(|k| a.get(k))
            }
            _ => None,
        }
    }

    /// The value at a path of keys / array indexes (`#>`).
    pub fn path(&self, path: &[Option<String>]) -> Option<&Json> {
        let mut cur = self;
        for step in path {
            let step = step.as_deref()?;
            cur = match cur {
                Json::Object(_) => cur.get(step)?,
                Json::Array(_) => cur.index(step.trim().parse().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// `->>`: strings without quotes, JSON null as SQL NULL (None).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Json::Null => None,
            Json::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// jsonb's btree order: Object > Array > Boolean > Number > String >
    /// Null; containers by size, then element by element.
    pub fn cmp(&self, o: &Json) -> Ordering {
        fn rank(j: &Json) -> u8 {
            match j {
                Json::Null => 0,
                Json::String(_) => 1,
                Json::Number(_) => 2,
                Json::Bool(_) => 3,
                Json::Array(_) => 4,
                Json::Object(_) => 5,
            }
        }
        match (self, o) {
            (Json::Bool(a), Json::Bool(b)) => a.cmp(b),
            (Json::Number(a), Json::Number(b)) => a.cmp(b),
            (Json::String(a), Json::String(b)) => a.cmp(b),
            (Json::Array(a), Json::Array(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| x.cmp(y))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            }),
            (Json::Object(a), Json::Object(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| key_order(&x.0, &y.0).then_with(|| x.1.cmp(&y.1)))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            }),
            _ => rank(self).cmp(&rank(o)),
        }
    }

    /// `@>`: every key/value of `o` is in `self`, every element of an
    /// array `o` in the array `self` (a scalar array contains its scalar).
    pub fn contains(&self, o: &Json) -> bool {
        match (self, o) {
            // Only at the top level does an array contain a bare scalar.
            (Json::Array(a), s) if !matches!(s, Json::Array(_) | Json::Object(_)) => {
                a.iter().any(|x| x == s)
            }
            _ => self.contains_nested(o),
        }
    }

    fn contains_nested(&self, o: &Json) -> bool {
        match (self, o) {
            (Json::Object(a), Json::Object(b)) => b.iter().all(|(k, v)| {
                a.binary_search_by(|(x, _)| key_order(x, k))
                    .ok()
                    .is_some_and(|i| a[i].1.contains_nested(v))
            }),
            (Json::Array(a), Json::Array(b)) => b.iter().all(|v| match v {
                Json::Array(_) | Json::Object(_) => a.iter().any(|x| x.contains_nested(v)),
                s => a.iter().any(|x| x == s),
            }),
            (a, b) => a == b,
        }
    }

    /// jsonb_pretty's layout.
    pub fn pretty(&self) -> String {
        self.pretty_indent(4)
    }

    /// Pretty layout with `n` spaces per level (EXPLAIN's JSON uses 2).
    pub fn pretty_indent(&self, n: usize) -> String {
        let mut s = String::new();
        self.write_pretty(&mut s, 0, n);
        s
    }

    fn write_pretty(&self, s: &mut String, depth: usize, n: usize) {
        let pad = |s: &mut String, d: usize| s.push_str(&" ".repeat(d * n));
        match self {
            Json::Array(a) if !a.is_empty() => {
                s.push_str("[\n");
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        s.push_str(",\n");
                    }
                    pad(s, depth + 1);
                    v.write_pretty(s, depth + 1, n);
                }
                s.push('\n');
                pad(s, depth);
                s.push(']');
            }
            Json::Object(m) if !m.is_empty() => {
                s.push_str("{\n");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        s.push_str(",\n");
                    }
                    pad(s, depth + 1);
                    write_string(s, k);
                    s.push_str(": ");
                    v.write_pretty(s, depth + 1, n);
                }
                s.push('\n');
                pad(s, depth);
                s.push('}');
            }
            other => s.push_str(&other.to_string()),
        }
    }
}

/// A JSON string literal with PostgreSQL's escapes.
pub fn write_string(out: &mut impl fmt::Write, s: &str) {
    let _ = out.write_char('"');
    for c in s.chars() {
        let _ = match c {
            '"' => out.write_str("\\\""),
            '\\' => out.write_str("\\\\"),
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            '\u{8}' => out.write_str("\\b"),
            '\u{c}' => out.write_str("\\f"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32),
            c => out.write_char(c),
        };
    }
    let _ = out.write_char('"');
}

impl fmt::Display for Json {
    /// jsonb's output: `{"a": 1, "b": [1, 2]}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Json::Number(n) => write!(f, "{n}"),
            Json::String(s) => {
                let mut out = String::with_capacity(s.len() + 2);
                write_string(&mut out, s);
                f.write_str(&out)
            }
            Json::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Json::Object(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    let mut key = String::with_capacity(k.len() + 2);
                    write_string(&mut key, k);
                    write!(f, "{key}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The members of a JSON text's top-level array or object as they are
/// written (for the `json` type, which keeps its input text): each with
/// its key (objects) and its text. None if the text is not JSON or is a
/// scalar.
pub fn raw_members(s: &str) -> Option<Vec<(Option<String>, &str)>> {
    let mut p = Parser {
        b: s.as_bytes(),
        i: 0,
    };
    p.ws();
    let open = p.peek()?;
    if open != b'[' && open != b'{' {
        return None;
    }
    p.i += 1;
    let mut out = Vec::new();
    p.ws();
    let close = if open == b'[' { b']' } else { b'}' };
    if p.peek() == Some(close) {
        return Some(out);
    }
    loop {
        p.ws();
        let key = if open == b'{' {
            let k = p.string().ok()?;
            p.ws();
            if p.peek() != Some(b':') {
                return None;
            }
            p.i += 1;
            p.ws();
            Some(k)
        } else {
            None
        };
        let start = p.i;
        p.value(1).ok()?;
        out.push((key, s.get(start..p.i)?));
        p.ws();
        match p.peek()? {
            b',' => p.i += 1,
            c if c == close => return Some(out),
            _ => return None,
        }
    }
}

/// Nesting limit (values are parsed, shown and compared recursively).
const MAX_DEPTH: usize = 1000;

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn unexpected(&self) -> JsonError {
        match self.peek() {
            None => JsonError("The input string ended unexpectedly.".into()),
            Some(_) => {
                let rest = String::from_utf8_lossy(&self.b[self.i..]);
                let tok: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let tok = if tok.is_empty() {
                    rest.chars().next().map(String::from).unwrap_or_default()
                } else {
                    tok
                };
                JsonError(format!("Token \"{tok}\" is invalid."))
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError("JSON nested too deep".into()));
        }
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut pairs = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Object(pairs));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.unexpected());
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(self.unexpected());
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    pairs.push((k, v));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::object(pairs));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
            }
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't' | b'f' | b'n') => {
                for (word, v) in [
                    ("true", Json::Bool(true)),
                    ("false", Json::Bool(false)),
                    ("null", Json::Null),
                ] {
                    let end = self.i + word.len();
                    if self.b.get(self.i..end) == Some(word.as_bytes())
                        && !self.b.get(end).is_some_and(|c| c.is_ascii_alphanumeric())
                    {
                        self.i = end;
                        return Ok(v);
                    }
                }
                Err(self.unexpected())
            }
            _ => Err(self.unexpected()),
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i - s
        };
        let int_start = self.i;
        if digits(self) == 0 || (self.b[int_start] == b'0' && self.i - int_start > 1) {
            self.i = start;
            return Err(self.unexpected());
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                self.i = start;
                return Err(self.unexpected());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                self.i = start;
                return Err(self.unexpected());
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0");
        Ok(Json::Number(parse_number(text)))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.peek() {
                None => return Err(JsonError("The input string ended unexpectedly.".into())),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out)
                        .map_err(|_| JsonError("invalid UTF-8 in string".into()));
                }
                Some(c) if c < 0x20 => {
                    return Err(JsonError(
                        "Character with value 0x0a must be escaped."
                            .replace("0a", &format!("{c:02x}")),
                    ))
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| JsonError("The input string ended unexpectedly.".into()))?;
                    self.i += 1;
                    let ch = match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(JsonError(
                                        "Unicode high surrogate must not follow a high surrogate."
                                            .into(),
                                    ));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(JsonError(
                                        "Unicode low surrogate must follow a high surrogate."
                                            .into(),
                                    ));
                                }
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            }
                            if cp == 0 {
                                return Err(JsonError(
                                    "\\u0000 cannot be converted to text.".into(),
                                ));
                            }
                            char::from_u32(cp).ok_or_else(|| {
                                JsonError(
                                    "Unicode low surrogate must follow a high surrogate.".into(),
                                )
                            })?
                        }
                        _ => {
                            return Err(JsonError(format!(
                                "Escape sequence \"\\{}\" is invalid.",
                                c as char
                            )))
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self
            .b
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| {
                JsonError("\"\\u\" must be followed by four hexadecimal digits.".into())
            })?;
        self.i += 4;
        Ok(h)
    }
}

/// A JSON number as numeric: exponents are applied (`1e2` is `100`).
pub fn parse_number(text: &str) -> Number {
    match Numeric::parse(text) {
        Some(d) => Number::Dec(d),
        None => Number::Big(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form() {
        let j =
            Json::parse(r#" {"b": 1, "aa": [true, null, "x\ny"], "b": 2.50, "a": {}} "#).unwrap();
        assert_eq!(
            j.to_string(),
            r#"{"a": {}, "b": 2.50, "aa": [true, null, "x\ny"]}"#
        );
        assert_eq!(Json::parse("1e2").unwrap().to_string(), "100");
        assert!(Json::parse("{\"a\" 1}").is_err());
        assert!(Json::parse("[1,]").is_err());
        assert!(Json::parse("01").is_err());
        assert_eq!(
            Json::parse(r#""\ud83d\ude00""#).unwrap(),
            Json::String("😀".into())
        );
        let big = Json::parse(r#"{"a": [1, 2, {"b": 3}], "c": "d"}"#).unwrap();
        assert!(big.contains(&Json::parse(r#"{"a": [{"b": 3}]}"#).unwrap()));
        assert!(!big.contains(&Json::parse(r#"{"a": [4]}"#).unwrap()));
        let raw = raw_members(r#"{"a": [1,  2], "b":3}"#).unwrap();
        assert_eq!(raw[0], (Some("a".into()), "[1,  2]"));
    }
}
