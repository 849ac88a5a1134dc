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
            let mut row = vec![Value::Null; c.table.columns.len()];
            // Columns not listed get their DEFAULT (else NULL).
            for (i, e) in &c.defaults {
                row[*i] = crate::eval::eval(e, &[], &cx.eval)?;
            }
            for (i, f) in fields.into_iter().enumerate() {
                let col = &c.table.columns[c.columns[i]];
                row[c.columns[i]] = match f {
                    None => Value::Null,
                    Some(s) => {
                        cast_keep_type(basalt_catalog::cast::from_text(&s, &col.ty)?, &col.ty)?
                    }
                };
            }
            self.insert_row(&c.table, &row, cx, buf)?;
            c.rows += 1;
            *added += 1;
        }
        Ok(())
    }

    /// End of COPY data: the last line, then commit if autocommit.
    pub fn copy_done(&mut self, mut c: CopyIn) -> Result<ExecResult> {
        if !c.partial.is_empty() {
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

/// Splits one COPY line into fields (None = NULL).
pub fn parse_copy_line(line: &str, o: &CopyOptions) -> Vec<Option<String>> {
    let mut out = Vec::new();
    match o.format {
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

pub(crate) fn copy_format_row(r: &[Value], o: &CopyOptions) -> Vec<u8> {
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
                if s.contains(o.delimiter)
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
