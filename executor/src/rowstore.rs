//! A result kept for later reading (a cursor's rows, a portal's rows between
//! row-limited Executes), in bounded memory: the first rows stay in memory
//! up to a budget, the rest go to an unlinked temporary file in the data
//! directory, like PostgreSQL's tuplestore. Rows read back by position.

use crate::error::{ExecError, Result};
use crate::exec::Row;
use basalt_catalog::{DataType, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Memory the rows kept in memory may take (estimated) before spilling.
const MEMORY_BUDGET: usize = 8 << 20;
/// How much a read of the file brings in at once.
const READ_CHUNK: usize = 256 << 10;

static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

pub struct RowStore {
    mem: Vec<Row>,
    mem_bytes: usize,
    dir: PathBuf,
    spill: Option<Spill>,
}

struct Spill {
    writer: BufWriter<File>,
    file: File,
    /// Where each spilled row starts, and where the file ends.
    offsets: Vec<u64>,
    end: u64,
    flushed: bool,
    /// The last chunk read: its file offset and bytes.
    chunk: (u64, Vec<u8>),
}

fn io_err(e: std::io::Error) -> ExecError {
    ExecError::Internal(format!("temporary file: {e}"))
}

/// Roughly what a value takes in memory.
fn value_bytes(v: &Value) -> usize {
    32 + match v {
        Value::Text(s) | Value::Json(s) => s.len(),
        Value::Bytea(b) => b.len(),
        Value::Array(a) => 48 * a.items.len(),
        Value::Jsonb(_) => 128,
        _ => 0,
    }
}

impl RowStore {
    /// A store whose overflow goes under `data_dir`.
    pub fn new(data_dir: &Path) -> RowStore {
        RowStore {
            mem: Vec::new(),
            mem_bytes: 0,
            dir: data_dir.join("pgsql_tmp"),
            spill: None,
        }
    }

    pub fn len(&self) -> usize {
        self.mem.len() + self.spill.as_ref().map_or(0, |s| s.offsets.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether rows went to disk.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }

    pub fn push(&mut self, row: &Row) -> Result<()> {
        if self.spill.is_none() {
            self.mem_bytes += 24 + row.iter().map(value_bytes).sum::<usize>();
            self.mem.push(row.clone());
            if self.mem_bytes > MEMORY_BUDGET {
                self.start_spill()?;
            }
            return Ok(());
        }
        let s = self.spill.as_mut().expect("checked");
        let mut rec = Vec::with_capacity(64);
        encode(row, &mut rec);
        s.writer.write_all(&rec).map_err(io_err)?;
        s.offsets.push(s.end);
        s.end += rec.len() as u64;
        s.flushed = false;
        Ok(())
    }

    /// The rows kept in memory stay; later ones go to the file.
    fn start_spill(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(io_err)?;
        let path = self.dir.join(format!(
            "rowstore.{}.{}",
            std::process::id(),
            NEXT_FILE.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err)?;
        // Unlinked at once: the space goes when the store is dropped, or
        // the server exits, whatever happens.
        let _ = std::fs::remove_file(&path);
        let writer = BufWriter::with_capacity(64 << 10, file.try_clone().map_err(io_err)?);
        self.spill = Some(Spill {
            writer,
            file,
            offsets: Vec::new(),
            end: 0,
            flushed: true,
            chunk: (0, Vec::new()),
        });
        Ok(())
    }

    /// Row `i` (0-based), if there is one.
    pub fn get(&mut self, i: usize) -> Result<Option<Row>> {
        if let Some(r) = self.mem.get(i) {
            return Ok(Some(r.clone()));
        }
        let Some(s) = self.spill.as_mut() else {
            return Ok(None);
        };
        let Some(&off) = s.offsets.get(i - self.mem.len()) else {
            return Ok(None);
        };
        if !s.flushed {
            s.writer.flush().map_err(io_err)?;
            s.flushed = true;
        }
        let rec = s.record(off)?;
        decode(&rec)
            .map(Some)
            .ok_or_else(|| ExecError::Internal("temporary file: a row does not decode".into()))
    }
}

impl Spill {
    /// The record at `off`, from the chunk read last when it holds it.
    fn record(&mut self, off: u64) -> Result<Vec<u8>> {
        let have = |c: &(u64, Vec<u8>), from: u64, len: u64| {
            from >= c.0 && from + len <= c.0 + c.1.len() as u64
        };
        if !have(&self.chunk, off, 4) {
            self.load(off, READ_CHUNK)?;
        }
        let at = (off - self.chunk.0) as usize;
        let len = u32::from_le_bytes(self.chunk.1[at..at + 4].try_into().expect("4 bytes")) as u64;
        if !have(&self.chunk, off, 4 + len) {
            self.load(off, READ_CHUNK.max(4 + len as usize))?;
        }
        let at = (off - self.chunk.0) as usize + 4;
        Ok(self.chunk.1[at..at + len as usize].to_vec())
    }

    fn load(&mut self, off: u64, want: usize) -> Result<()> {
        let n = want.min((self.end - off) as usize);
        let mut buf = vec![0u8; n];
        self.file.read_exact_at(&mut buf, off).map_err(io_err)?;
        self.chunk = (off, buf);
        Ok(())
    }
}

/// A record: its length, then each value's own type (so a decoded value is
/// the value stored, whatever the column says) and the row as the heap
/// encodes it.
fn encode(row: &Row, out: &mut Vec<u8>) {
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(row.len() as u16).to_le_bytes());
    for v in row {
        v.data_type().encode(out);
    }
    basalt_catalog::types::encode_row(row, out);
    let len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&len.to_le_bytes());
}

fn decode(b: &[u8]) -> Option<Row> {
    let n = u16::from_le_bytes(b.get(..2)?.try_into().ok()?) as usize;
    let mut types = Vec::with_capacity(n);
    let mut p = 2;
    for _ in 0..n {
        let c = *b.get(p)?;
        let x = u32::from_le_bytes(b.get(p + 1..p + 5)?.try_into().ok()?);
        let y = u32::from_le_bytes(b.get(p + 5..p + 9)?.try_into().ok()?);
        types.push(DataType::decode(c, x, y).unwrap_or(DataType::Text));
        p += 9;
    }
    basalt_catalog::types::decode_row(&types, &b[p..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_past_the_budget_spill_and_read_back() {
        let dir = std::env::temp_dir().join(format!("rowstore-{}", std::process::id()));
        let mut st = RowStore::new(&dir);
        let n = 200_000;
        for i in 0..n {
            st.push(&vec![
                Value::Int4(i),
                Value::Text(format!("row {i} {}", "x".repeat((i % 50) as usize))),
                if i % 7 == 0 {
                    Value::Null
                } else {
                    Value::Float8(i as f64 / 3.0)
                },
            ])
            .unwrap();
        }
        assert!(st.spilled());
        assert_eq!(st.len(), n as usize);
        // Forward, backward and at random.
        for i in (0..n).step_by(997).chain((0..n).rev().step_by(1009)) {
            let r = st.get(i as usize).unwrap().unwrap();
            assert_eq!(r[0], Value::Int4(i));
            assert_eq!(
                r[1],
                Value::Text(format!("row {i} {}", "x".repeat((i % 50) as usize)))
            );
            assert_eq!(r[2].is_null(), i % 7 == 0);
        }
        assert!(st.get(n as usize).unwrap().is_none());
        // Nothing is left behind in the directory.
        drop(st);
        let left = std::fs::read_dir(dir.join("pgsql_tmp")).unwrap().count();
        assert_eq!(left, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
