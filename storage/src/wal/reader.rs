//! Reading the log back: records in order from an LSN to the end of the
//! valid log (recovery, backup's WAL, archived segments), and LSNs as
//! PostgreSQL prints them.

use super::{seg_path, Lsn, ReadRecord, WalRecord, HDR, SEGMENT_SIZE};
use crate::error::Result;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

pub struct WalReader {
    pub(super) dir: PathBuf,
    pub(super) pos: Lsn,
    pub(super) seg: Option<(u64, Vec<u8>)>,
    /// Why reading stopped, when it stopped at bytes that are not a clean
    /// end of the log (a damaged record): names the file and offset.
    pub damage: Option<String>,
}

/// An LSN as PostgreSQL prints one: high/low 32 bits in hex.
pub fn lsn_text(lsn: Lsn) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xffff_ffff)
}

/// Parses "16/B374D848" or a plain decimal number.
pub fn parse_lsn(s: &str) -> Option<Lsn> {
    let s = s.trim();
    match s.split_once('/') {
        Some((hi, lo)) => {
            Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
        }
        None => s.parse().ok(),
    }
}

impl WalReader {
    pub fn position(&self) -> Lsn {
        self.pos
    }

    fn note_damage(&mut self, off: usize, what: &str) {
        let segno = self.pos / SEGMENT_SIZE;
        let data = &self.seg.as_ref().expect("loaded").1;
        let end = (off + HDR).min(data.len());
        if data[off..end].iter().all(|&b| b == 0) {
            return;
        }
        self.damage = Some(format!(
            "{what} in WAL record at {} (file pg_wal/{segno:016X}, offset {off})",
            lsn_text(self.pos)
        ));
    }

    /// The next valid record, or None at the end of the log.
    pub fn next_record(&mut self) -> Result<Option<ReadRecord>> {
        loop {
            let segno = self.pos / SEGMENT_SIZE;
            let off = (self.pos % SEGMENT_SIZE) as usize;
            if SEGMENT_SIZE as usize - off < HDR {
                self.pos = (segno + 1) * SEGMENT_SIZE;
                continue;
            }
            if self.seg.as_ref().map(|s| s.0) != Some(segno) {
                let p = seg_path(&self.dir, segno);
                let mut data = Vec::new();
                match File::open(&p) {
                    Ok(mut f) => {
                        f.read_to_end(&mut data)?;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
                self.seg = Some((segno, data));
            }
            let data = &self.seg.as_ref().expect("loaded").1;
            if data.len() < off + HDR {
                return Ok(None);
            }
            let h = &data[off..off + HDR];
            let len = u32::from_le_bytes(h[0..4].try_into().expect("4")) as usize;
            let crc = u32::from_le_bytes(h[4..8].try_into().expect("4"));
            let lsn = u64::from_le_bytes(h[8..16].try_into().expect("8"));
            let ty = h[16];
            if len < HDR
                || off + len > data.len()
                || off + len > SEGMENT_SIZE as usize
                || lsn != self.pos
            {
                self.note_damage(off, "invalid record header");
                return Ok(None);
            }
            let body = &data[off + HDR..off + len];
            let mut c = crc32c::crc32c(&lsn.to_le_bytes());
            c = crc32c::crc32c_append(c, &[ty]);
            c = crc32c::crc32c_append(c, body);
            if c != crc {
                self.note_damage(off, "checksum mismatch");
                return Ok(None);
            }
            let start = self.pos;
            self.pos += len as u64;
            let rec = match WalRecord::decode(ty, body) {
                Ok(r) => r,
                Err(_) => {
                    self.pos = start;
                    self.note_damage(off, "undecodable record");
                    return Ok(None);
                }
            };
            if rec == WalRecord::Pad {
                continue;
            }
            return Ok(Some(ReadRecord {
                start,
                end: self.pos,
                rec,
            }));
        }
    }
}
