//! COPY FROM STDIN (lines parsed as they arrive, inserted in batches) and
//! the text and CSV line formats of COPY in both directions.

use crate::error::{ExecError, Result};
use crate::eval::cast_keep_type;
use crate::exec::Ctx;
use crate::session::{CopyIn, ExecResult, Session};
use basalt_catalog::Value;
use basalt_planner::{CopyFormat, CopyOptions};

impl Session {
    /// Feeds COPY data; complete lines are inserted in batches of about 256 KiB.
    pub fn copy_data(&mut self, c: &mut CopyIn, data: &[u8]) -> Result<()> {
        c.partial.extend_from_slice(data);
        if c.options.format == CopyFormat::Binary {
            if c.partial.len() < 256 * 1024 {
                return Ok(());
            }
            return self.copy_binary(c, false);
        }
        // Lines are inserted in batches: a client may send one row per
        // message, and each batch sets up its statement context once.
        if c.partial.len() < 256 * 1024 {
            return Ok(());
        }
        let Some(last_nl) = c.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let rest = c.partial.split_off(last_nl + 1);
        let chunk = std::mem::replace(&mut c.partial, rest);
        self.copy_lines(c, &chunk)
    }

    pub(crate) fn copy_lines(&mut self, c: &mut CopyIn, chunk: &[u8]) -> Result<()> {
        self.xid();
        self.with_ctx(&[], |cx| self.copy_lines_in(c, chunk, cx))
    }

    pub(crate) fn copy_lines_in(&self, c: &mut CopyIn, chunk: &[u8], cx: &Ctx<'_>) -> Result<()> {
        let text = std::str::from_utf8(chunk)
            .map_err(|_| ExecError::Value(basalt_catalog::cast::ValueError::BadEncoding))?;
        let mut buf = Vec::new();
        let mut added = 0u64;
        // Rows inserted before an error count too, as they were written.
        let res = self.copy_lines_loop(c, text, cx, &mut buf, &mut added);
        crate::stats::count(cx.table_stats, c.table.oid, crate::stats::N_TUP_INS, added);
        res
    }

    fn copy_lines_loop(
        &self,
        c: &mut CopyIn,
        text: &str,
        cx: &Ctx<'_>,
        buf: &mut Vec<u8>,
        added: &mut u64,
    ) -> Result<()> {
        for line in text.split_inclusive('\n') {
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !c.header_skipped {
                c.header_skipped = true;
                continue;
            }
            if c.ended {
                continue;
            }
            // End of data (text and CSV): anything after it is ignored, as
            // PostgreSQL does (pg_restore sends blank lines after it).
            if line == "\\." {
                c.ended = true;
                continue;
            }
            let fields = parse_copy_line(line, &c.options);
            if fields.len() != c.ncols {
                return Err(ExecError::BadCopyData(if fields.len() < c.ncols {
                    format!(
                        "missing data for column \"{}\"",
                        c.table.columns[c.columns[fields.len()]].name
                    )
                } else {
                    "extra data after last expected column".into()
                }));
            }
            let row = copy_row(c, fields, cx, |s: String, ty| {
                Ok(basalt_catalog::cast::from_text(&s, ty)?)
            })?;
            self.insert_row(&c.table, &row, cx, buf)?;
            c.rows += 1;
            *added += 1;
        }
        Ok(())
    }

    /// End of COPY data: the last line, then commit if autocommit.
    pub fn copy_done(&mut self, mut c: CopyIn) -> Result<ExecResult> {
        if c.options.format == CopyFormat::Binary {
            self.copy_binary(&mut c, true)?;
        } else if !c.partial.is_empty() {
            let rest = std::mem::take(&mut c.partial);
            self.copy_lines(&mut c, &rest)?;
        }
        if let Some(t) = self.txn.as_mut() {
            t.cid += 1;
        }
        if !self.in_transaction_block() {
            self.finish(true)?;
        }
        Ok(ExecResult {
            tag: format!("COPY {}", c.rows),
            ..Default::default()
        })
    }
}

/// A table row from one line's (or tuple's) fields: the listed columns
/// decoded by `decode` (None is NULL), the others their DEFAULT (else NULL).
fn copy_row<F>(
    c: &CopyIn,
    fields: Vec<Option<F>>,
    cx: &Ctx<'_>,
    decode: impl Fn(F, &basalt_catalog::DataType) -> Result<Value>,
) -> Result<Vec<Value>> {
    let mut row = vec![Value::Null; c.table.columns.len()];
    for (i, e) in &c.defaults {
        row[*i] = crate::eval::eval(e, &[], &cx.eval)?;
    }
    for (i, f) in fields.into_iter().enumerate() {
        let col = &c.table.columns[c.columns[i]];
        row[c.columns[i]] = match f {
            None => Value::Null,
            Some(f) => cast_keep_type(decode(f, &col.ty)?, &col.ty)?,
        };
    }
    Ok(row)
}

/// The signature that starts binary COPY data.
const BINARY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

fn bad_binary(m: &str) -> ExecError {
    ExecError::BadCopyData(m.to_string())
}

impl Session {
    /// Inserts the complete tuples of binary COPY data received so far
    /// (all of it, at the end).
    fn copy_binary(&mut self, c: &mut CopyIn, last: bool) -> Result<()> {
        self.xid();
        let data = std::mem::take(&mut c.partial);
        let used = self.with_ctx(&[], |cx| {
            let mut buf = Vec::new();
            let mut added = 0u64;
            let r = self.copy_binary_in(c, &data, cx, &mut buf, &mut added);
            crate::stats::count(cx.table_stats, c.table.oid, crate::stats::N_TUP_INS, added);
            r
        })?;
        c.partial = data[used..].to_vec();
        if last && !c.ended {
            return Err(bad_binary("unexpected EOF in COPY data"));
        }
        Ok(())
    }

    /// Reads tuples from `d`; answers how many bytes it used.
    fn copy_binary_in(
        &self,
        c: &mut CopyIn,
        d: &[u8],
        cx: &Ctx<'_>,
        buf: &mut Vec<u8>,
        added: &mut u64,
    ) -> Result<usize> {
        let i16_at = |p: usize| d.get(p..p + 2).map(|b| i16::from_be_bytes([b[0], b[1]]));
        let i32_at = |p: usize| {
            d.get(p..p + 4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let mut pos = 0;
        if !c.binary_header {
            let Some(ext) = i32_at(15) else {
                return Ok(0);
            };
            if !d.starts_with(BINARY_SIGNATURE) {
                return Err(bad_binary("COPY file signature not recognized"));
            }
            let flags = i32_at(11).unwrap_or(0);
            if flags & (1 << 16) != 0 {
                return Err(bad_binary("invalid COPY file header (WITH OIDS)"));
            }
            let end = 19 + ext.max(0) as usize;
            if d.len() < end {
                return Ok(0);
            }
            c.binary_header = true;
            pos = end;
        }
        while !c.ended {
            let Some(n) = i16_at(pos) else { break };
            if n == -1 {
                c.ended = true;
                return Ok(d.len());
            }
            if n as usize != c.ncols {
                return Err(bad_binary(&format!(
                    "row field count is {n}, expected {}",
                    c.ncols
                )));
            }
            // The whole tuple must be here.
            let mut p = pos + 2;
            let mut fields = Vec::with_capacity(c.ncols);
            for _ in 0..c.ncols {
                let Some(len) = i32_at(p) else { return Ok(pos) };
                p += 4;
                if len < 0 {
                    fields.push(None);
                    continue;
                }
                let Some(f) = d.get(p..p + len as usize) else {
                    return Ok(pos);
                };
                fields.push(Some(f));
                p += len as usize;
            }
            let row = copy_row(c, fields, cx, |b: &[u8], ty| {
                crate::pgbinary::decode_param(b, 1, *ty)
            })?;
            self.insert_row(&c.table, &row, cx, buf)?;
            c.rows += 1;
            *added += 1;
            pos = p;
        }
        Ok(if c.ended { d.len() } else { pos })
    }
}

/// What COPY TO sends before the rows: the header line, or the binary
/// file header.
pub(crate) fn copy_prologue(fields: &[basalt_planner::Field], o: &CopyOptions) -> Option<Vec<u8>> {
    if o.format == CopyFormat::Binary {
        let mut h = BINARY_SIGNATURE.to_vec();
        h.extend_from_slice(&0i32.to_be_bytes());
        h.extend_from_slice(&0i32.to_be_bytes());
        return Some(h);
    }
    if !o.header {
        return None;
    }
    // Names are quoted as needed, never forced.
    let plain = CopyOptions {
        force_quote: vec![],
        ..o.clone()
    };
    let names: Vec<String> = fields
        .iter()
        .map(|f| {
            let row = [Value::Text(f.name.clone())];
            let line = copy_format_row(&row, &plain, &[basalt_catalog::DataType::Text]);
            String::from_utf8_lossy(&line[..line.len() - 1]).to_string()
        })
        .collect();
    Some(format!("{}\n", names.join(&o.delimiter.to_string())).into_bytes())
}

/// What COPY TO sends after the rows: the binary trailer.
pub(crate) fn copy_epilogue(o: &CopyOptions) -> Option<Vec<u8>> {
    (o.format == CopyFormat::Binary).then(|| (-1i16).to_be_bytes().to_vec())
}

/// Splits one COPY line into fields (None = NULL).
pub fn parse_copy_line(line: &str, o: &CopyOptions) -> Vec<Option<String>> {
    let mut out = Vec::new();
    match o.format {
        // Binary data is not made of lines.
        CopyFormat::Binary => {}
        CopyFormat::Text => {
            for raw in line.split(o.delimiter) {
                if raw == o.null {
                    out.push(None);
                    continue;
                }
                let mut s = String::with_capacity(raw.len());
                let mut it = raw.chars().peekable();
                while let Some(ch) = it.next() {
                    if ch != '\\' {
                        s.push(ch);
                        continue;
                    }
                    match it.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some('b') => s.push('\u{8}'),
                        Some('f') => s.push('\u{c}'),
                        Some('v') => s.push('\u{b}'),
                        Some(c) => s.push(c),
                        None => {}
                    }
                }
                out.push(Some(s));
            }
        }
        CopyFormat::Csv => {
            let chars: Vec<char> = line.chars().collect();
            let mut i = 0;
            loop {
                let mut s = String::new();
                let mut quoted = false;
                if i < chars.len() && chars[i] == o.quote {
                    quoted = true;
                    i += 1;
                    while i < chars.len() {
                        if chars[i] == o.escape && i + 1 < chars.len() && chars[i + 1] == o.quote {
                            s.push(o.quote);
                            i += 2;
                        } else if chars[i] == o.quote {
                            i += 1;
                            break;
                        } else {
                            s.push(chars[i]);
                            i += 1;
                        }
                    }
                }
                while i < chars.len() && chars[i] != o.delimiter {
                    s.push(chars[i]);
                    i += 1;
                }
                out.push(if !quoted && s == o.null {
                    None
                } else {
                    Some(s)
                });
                if i >= chars.len() {
                    break;
                }
                i += 1;
            }
        }
    }
    out
}

pub(crate) fn copy_format_row(
    r: &[Value],
    o: &CopyOptions,
    types: &[basalt_catalog::DataType],
) -> Vec<u8> {
    if o.format == CopyFormat::Binary {
        let mut t = (r.len() as i16).to_be_bytes().to_vec();
        for (i, v) in r.iter().enumerate() {
            if v.is_null() {
                t.extend_from_slice(&(-1i32).to_be_bytes());
                continue;
            }
            let ty = types.get(i).copied().unwrap_or_else(|| v.data_type());
            let b = crate::pgbinary::encode_binary(v, ty);
            t.extend_from_slice(&(b.len() as i32).to_be_bytes());
            t.extend_from_slice(&b);
        }
        return t;
    }
    let mut line = String::new();
    for (i, v) in r.iter().enumerate() {
        if i > 0 {
            line.push(o.delimiter);
        }
        if v.is_null() {
            line.push_str(&o.null);
            continue;
        }
        let s = v.to_string();
        match o.format {
            // Encoded above.
            CopyFormat::Binary => line.push_str(&s),
            CopyFormat::Text => {
                for ch in s.chars() {
                    match ch {
                        '\\' => line.push_str("\\\\"),
                        '\n' => line.push_str("\\n"),
                        '\t' => line.push_str("\\t"),
                        '\r' => line.push_str("\\r"),
                        c if c == o.delimiter => {
                            line.push('\\');
                            line.push(c);
                        }
                        c => line.push(c),
                    }
                }
            }
            CopyFormat::Csv => {
                if o.force_quote.contains(&i)
                    || s.contains(o.delimiter)
                    || s.contains(o.quote)
                    || s.contains('\n')
                    || s.contains('\r')
                    || s.is_empty()
                {
                    line.push(o.quote);
                    line.push_str(&s.replace(o.quote, &format!("{}{}", o.escape, o.quote)));
                    line.push(o.quote);
                } else {
                    line.push_str(&s);
                }
            }
        }
    }
    line.push('\n');
    line.into_bytes()
}
