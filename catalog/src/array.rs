//! Arrays: PostgreSQL's one- and many-dimensional arrays of any base type,
//! with their text form (`{1,2,NULL}`, `{{1,2},{3,4}}`, `[0:1]={a,b}`) and
//! element-wise comparison.

use crate::cast::{self, ValueError};
use crate::types::{DataType, Value};
use std::cmp::Ordering;
use std::fmt;

/// An array value: items in row-major order, one (lower bound, length)
/// pair per dimension. An empty array has no dimensions.
#[derive(Debug, Clone)]
pub struct Array {
    pub elem: DataType,
    pub dims: Vec<(i32, i32)>,
    pub items: Vec<Value>,
}

/// PostgreSQL's limit on array dimensions (MAXDIM).
pub const MAX_DIMS: usize = 6;

impl Array {
    /// A one-dimensional array with lower bound 1 (empty if `items` is).
    pub fn from_items(elem: DataType, items: Vec<Value>) -> Array {
        let dims = if items.is_empty() {
            vec![]
        } else {
            vec![(1, items.len() as i32)]
        };
        Array { elem, dims, items }
    }

    pub fn ndims(&self) -> usize {
        self.dims.len()
    }

    /// Element-wise order: items in turn (NULL above every value), then
    /// the number of items, then the dimensions.
    pub fn cmp(&self, other: &Array) -> Ordering {
        for (a, b) in self.items.iter().zip(&other.items) {
            let o = a.cmp_total(b);
            if o != Ordering::Equal {
                return o;
            }
        }
        self.items
            .len()
            .cmp(&other.items.len())
            .then_with(|| self.dims.cmp(&other.dims))
    }

    /// Text input (`array_in`): elements are read with the element type's
    /// text input.
    pub fn parse(s: &str, elem: &DataType) -> Result<Array, ValueError> {
        let bad = || ValueError::Malformed {
            what: "array literal".into(),
            text: s.to_string(),
        };
        let mut p = Parser {
            b: s.as_bytes(),
            i: 0,
        };
        p.ws();
        // Optional explicit bounds: [lo:hi][lo:hi]=
        let mut bounds = Vec::new();
        while p.peek() == Some(b'[') {
            p.i += 1;
            let lo = p.int().ok_or_else(bad)?;
            let (lo, hi) = if p.peek() == Some(b':') {
                p.i += 1;
                (lo, p.int().ok_or_else(bad)?)
            } else {
                (1, lo)
            };
            if p.peek() != Some(b']') || hi < lo - 1 {
                return Err(bad());
            }
            p.i += 1;
            bounds.push((lo, hi - lo + 1));
        }
        if !bounds.is_empty() {
            p.ws();
            if p.peek() != Some(b'=') {
                return Err(bad());
            }
            p.i += 1;
            p.ws();
        }
        if p.peek() != Some(b'{') {
            return Err(bad());
        }
        let mut shape: Vec<Option<i32>> = Vec::new();
        let mut raw: Vec<Option<String>> = Vec::new();
        p.level(0, &mut shape, &mut raw).ok_or_else(bad)?;
        p.ws();
        if p.i != p.b.len() {
            return Err(bad());
        }
        let lens: Vec<i32> = shape.iter().map(|l| l.unwrap_or(0)).collect();
        let dims: Vec<(i32, i32)> = if raw.is_empty() {
            vec![]
        } else if bounds.is_empty() {
            lens.iter().map(|&l| (1, l)).collect()
        } else {
            if bounds.len() != lens.len() || bounds.iter().zip(&lens).any(|(b, l)| b.1 != *l) {
                return Err(bad());
            }
            bounds
        };
        if dims.len() > MAX_DIMS {
            return Err(bad());
        }
        let items = raw
            .into_iter()
            .map(|r| match r {
                None => Ok(Value::Null),
                Some(t) => cast::from_text(&t, elem),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Array {
            elem: *elem,
            dims,
            items,
        })
    }

    /// The sub-array or element at `idx` (one index per leading dimension,
    /// as `a[i][j]`); out-of-range indexes give NULL, as in PostgreSQL.
    pub fn subscript(&self, idx: &[i32]) -> Value {
        if idx.is_empty() || idx.len() > self.dims.len() {
            return Value::Null;
        }
        let mut off = 0usize;
        for (k, &i) in idx.iter().enumerate() {
            let (lo, len) = self.dims[k];
            if i < lo || i >= lo + len {
                return Value::Null;
            }
            off = off * len as usize + (i - lo) as usize;
        }
        if idx.len() == self.dims.len() {
            return self.items.get(off).cloned().unwrap_or(Value::Null);
        }
        // Fewer indexes than dimensions: PostgreSQL returns NULL too.
        Value::Null
    }

    /// `a[lo:hi]` on the first dimension (either bound may be open).
    pub fn slice(&self, lo: Option<i32>, hi: Option<i32>) -> Array {
        let Some(&(l, n)) = self.dims.first() else {
            return self.clone();
        };
        let lo = lo.unwrap_or(l).max(l);
        let hi = hi.unwrap_or(l + n - 1).min(l + n - 1);
        if hi < lo {
            return Array::from_items(self.elem, vec![]);
        }
        let inner: usize = self.dims[1..].iter().map(|d| d.1 as usize).product();
        let from = (lo - l) as usize * inner;
        let to = (hi - l + 1) as usize * inner;
        let mut dims = self.dims.clone();
        dims[0] = (1, hi - lo + 1);
        Array {
            elem: self.elem,
            dims,
            items: self.items[from..to].to_vec(),
        }
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.i += 1;
        }
    }
    fn int(&mut self) -> Option<i32> {
        let start = self.i;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// One `{...}` at nesting `depth`; records each level's length in
    /// `shape` (all sub-arrays of a level must agree) and the raw items.
    fn level(
        &mut self,
        depth: usize,
        shape: &mut Vec<Option<i32>>,
        raw: &mut Vec<Option<String>>,
    ) -> Option<()> {
        if depth >= MAX_DIMS {
            return None;
        }
        self.i += 1; // '{'
        if shape.len() <= depth {
            shape.push(None);
        }
        let mut n = 0i32;
        let mut nested: Option<bool> = None;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            // `{}` is only allowed as the whole (empty) array.
            return (depth == 0 && raw.is_empty()).then_some(());
        }
        loop {
            self.ws();
            let is_sub = self.peek() == Some(b'{');
            if *nested.get_or_insert(is_sub) != is_sub {
                return None;
            }
            if is_sub {
                self.level(depth + 1, shape, raw)?;
            } else {
                if shape.len() > depth + 1 {
                    return None;
                }
                raw.push(self.item()?);
            }
            n += 1;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    break;
                }
                _ => return None,
            }
        }
        if nested == Some(false) && shape.len() > depth + 1 {
            return None;
        }
        match shape[depth] {
            Some(l) if l != n => None,
            _ => {
                shape[depth] = Some(n);
                Some(())
            }
        }
    }

    fn item(&mut self) -> Option<Option<String>> {
        let mut out = Vec::new();
        if self.peek() == Some(b'"') {
            self.i += 1;
            loop {
                match self.peek()? {
                    b'"' => {
                        self.i += 1;
                        break;
                    }
                    b'\\' => {
                        out.push(*self.b.get(self.i + 1)?);
                        self.i += 2;
                    }
                    c => {
                        out.push(c);
                        self.i += 1;
                    }
                }
            }
            return Some(Some(String::from_utf8(out).ok()?));
        }
        let mut escaped_end = 0;
        loop {
            match self.peek()? {
                b',' | b'}' => break,
                b'{' | b'"' => return None,
                b'\\' => {
                    out.push(*self.b.get(self.i + 1)?);
                    self.i += 2;
                    escaped_end = out.len();
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        while out.len() > escaped_end && out.last().is_some_and(|c| is_space(*c)) {
            out.pop();
        }
        if out.is_empty() {
            return None;
        }
        let s = String::from_utf8(out).ok()?;
        if escaped_end == 0 && s.eq_ignore_ascii_case("NULL") {
            return Some(None);
        }
        Some(Some(s))
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// One element as `array_out` writes it: quoted when empty, `NULL`, or
/// holding a delimiter, brace, quote, backslash or white space.
pub fn write_item(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    let quote = s.is_empty()
        || s.eq_ignore_ascii_case("NULL")
        || s.bytes()
            .any(|c| matches!(c, b',' | b'{' | b'}' | b'"' | b'\\') || is_space(c));
    if !quote {
        return f.write_str(s);
    }
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dims.is_empty() {
            return f.write_str("{}");
        }
        if self.dims.iter().any(|d| d.0 != 1) {
            for (lo, len) in &self.dims {
                write!(f, "[{}:{}]", lo, lo + len - 1)?;
            }
            f.write_str("=")?;
        }
        let mut k = 0;
        self.write_level(f, 0, &mut k)
    }
}

impl Array {
    fn write_level(&self, f: &mut fmt::Formatter<'_>, depth: usize, k: &mut usize) -> fmt::Result {
        f.write_str("{")?;
        for i in 0..self.dims[depth].1 {
            if i > 0 {
                f.write_str(",")?;
            }
            if depth + 1 < self.dims.len() {
                self.write_level(f, depth + 1, k)?;
            } else {
                match self.items.get(*k) {
                    None | Some(Value::Null) => f.write_str("NULL")?,
                    Some(v) => write_item(f, &v.to_string())?,
                }
                *k += 1;
            }
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str, ty: DataType) -> String {
        Array::parse(s, &ty).unwrap().to_string()
    }

    #[test]
    fn text_form() {
        assert_eq!(rt("{1, 2 ,NULL}", DataType::Int4), "{1,2,NULL}");
        assert_eq!(rt("{}", DataType::Int4), "{}");
        assert_eq!(rt("{{1,2},{3,4}}", DataType::Int4), "{{1,2},{3,4}}");
        assert_eq!(rt("[0:1]={7,8}", DataType::Int4), "[0:1]={7,8}");
        assert_eq!(
            rt(r#"{"a b","",x,"NULL",null,"q\"t"}"#, DataType::Text),
            r#"{"a b","",x,"NULL",NULL,"q\"t"}"#
        );
        assert!(Array::parse("{{1},{2,3}}", &DataType::Int4).is_err());
        assert!(Array::parse("{1,{2}}", &DataType::Int4).is_err());
        assert!(Array::parse("1,2", &DataType::Int4).is_err());
        assert!(Array::parse("{a}", &DataType::Int4).is_err());
        let a = Array::parse("{{1,2,3},{4,5,6}}", &DataType::Int4).unwrap();
        assert_eq!(a.subscript(&[2, 3]), Value::Int4(6));
        assert!(a.subscript(&[3, 1]).is_null());
        assert_eq!(a.slice(Some(2), None).to_string(), "{{4,5,6}}");
    }
}
