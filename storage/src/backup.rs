//! Online backups (full and incremental), WAL archiving, and restore with
//! point-in-time recovery. See storage/README.md, "Backup and restore".
//!
//! A backup begins with a checkpoint; its redo LSN is the backup's start.
//! The relation files are then copied while clients keep writing: a page
//! copied half-written is repaired by replaying the WAL from the start, as
//! every page changed after a checkpoint's redo point gets a full image in
//! the log on its first change. The WAL from the start to the end of the
//! copy (held back from removal meanwhile) goes into the backup, with a
//! control file whose redo point is the start, so the backup opens like a
//! crashed data directory and recovers to a consistent state. The manifest
//! (every file with its size and CRC-32C, and its own checksum) is written
//! last: a directory without a valid manifest is not a backup.
//!
//! Restore is in restore.rs.
//!
//! An incremental backup copies only pages whose LSN is past its base's
//! start (the base's pages are older and unchanged), as `<file>.incr`.
//! WAL archiving copies each finished segment to `archive_dir` before it
//! may be removed; restore adds archived segments, and a recovery target
//! (`global/recovery_target`) stops redo before the first commit after a
//! time, or at an LSN.

use crate::engine::{write_control, Control, Storage};
use crate::error::{Result, StorageError};
use crate::page::{Page, PAGE_SIZE};
use crate::wal::{lsn_text, parse_lsn, Lsn, SEGMENT_SIZE};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "backup_manifest";
const MANIFEST_HEADER: &str = "basalt backup manifest 1";
pub(crate) const INCR_MAGIC: &[u8; 8] = b"BSLTINCR";

fn backup_error(code: &'static str, msg: String) -> StorageError {
    StorageError::Backup { code, msg }
}

/// An I/O error on `path`, with PostgreSQL's SQLSTATE for file access.
fn file_error(e: std::io::Error, what: &str, path: &Path) -> StorageError {
    let code = match e.kind() {
        std::io::ErrorKind::PermissionDenied => "42501",
        std::io::ErrorKind::NotFound => "58P01",
        std::io::ErrorKind::AlreadyExists => "58P02",
        _ => "58030",
    };
    backup_error(
        code,
        format!("could not {what} \"{}\": {e}", path.display()),
    )
}

/// What a backup's manifest says.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// "full" or "incremental".
    pub kind: String,
    /// For an incremental backup: its base's directory and start LSN.
    pub base: Option<(String, Lsn)>,
    pub start_lsn: Lsn,
    pub end_lsn: Lsn,
    /// Microseconds since the Unix epoch.
    pub start_time: i64,
    pub end_time: i64,
    pub archive_dir: Option<String>,
    /// (path relative to the backup, size, CRC-32C)
    pub files: Vec<(String, u64, u32)>,
}

impl Manifest {
    fn encode(&self) -> String {
        let mut s = format!("{MANIFEST_HEADER}\nkind {}\n", self.kind);
        if let Some((b, lsn)) = &self.base {
            s.push_str(&format!("base-start-lsn {}\nbase {}\n", lsn_text(*lsn), b));
        }
        s.push_str(&format!(
            "start-lsn {}\nend-lsn {}\nstart-time {}\nend-time {}\n",
            lsn_text(self.start_lsn),
            lsn_text(self.end_lsn),
            self.start_time,
            self.end_time
        ));
        if let Some(a) = &self.archive_dir {
            s.push_str(&format!("archive-dir {a}\n"));
        }
        for (p, size, crc) in &self.files {
            s.push_str(&format!("file {size} {crc:08x} {p}\n"));
        }
        let crc = crc32c::crc32c(s.as_bytes());
        s.push_str(&format!("manifest-crc {crc:08x}\n"));
        s
    }

    fn parse(text: &str) -> std::result::Result<Manifest, String> {
        let body_end = text
            .rfind("manifest-crc ")
            .ok_or("the manifest has no checksum line")?;
        let (body, tail) = text.split_at(body_end);
        let want = u32::from_str_radix(tail["manifest-crc ".len()..].trim(), 16)
            .map_err(|_| "the manifest's checksum line is malformed")?;
        if crc32c::crc32c(body.as_bytes()) != want {
            return Err("the manifest's checksum does not match its contents".into());
        }
        let mut lines = body.lines();
        if lines.next() != Some(MANIFEST_HEADER) {
            return Err("not a Basalt backup manifest (or an unsupported version)".into());
        }
        let mut m = Manifest {
            kind: String::new(),
            base: None,
            start_lsn: 0,
            end_lsn: 0,
            start_time: 0,
            end_time: 0,
            archive_dir: None,
            files: vec![],
        };
        let mut base_lsn = None;
        let bad = |l: &str| format!("malformed manifest line: {l}");
        for l in lines {
            let (k, v) = l.split_once(' ').ok_or_else(|| bad(l))?;
            match k {
                "kind" => m.kind = v.to_string(),
                "base-start-lsn" => base_lsn = Some(parse_lsn(v).ok_or_else(|| bad(l))?),
                "base" => m.base = Some((v.to_string(), base_lsn.ok_or_else(|| bad(l))?)),
                "start-lsn" => m.start_lsn = parse_lsn(v).ok_or_else(|| bad(l))?,
                "end-lsn" => m.end_lsn = parse_lsn(v).ok_or_else(|| bad(l))?,
                "start-time" => m.start_time = v.parse().map_err(|_| bad(l))?,
                "end-time" => m.end_time = v.parse().map_err(|_| bad(l))?,
                "archive-dir" => m.archive_dir = Some(v.to_string()),
                "file" => {
                    let mut it = v.splitn(3, ' ');
                    let size = it
                        .next()
                        .and_then(|x| x.parse().ok())
                        .ok_or_else(|| bad(l))?;
                    let crc = it
                        .next()
                        .and_then(|x| u32::from_str_radix(x, 16).ok())
                        .ok_or_else(|| bad(l))?;
                    let p = it.next().ok_or_else(|| bad(l))?;
                    if p.starts_with('/') || p.split('/').any(|c| c == "..") {
                        return Err(bad(l));
                    }
                    m.files.push((p.to_string(), size, crc));
                }
                _ => return Err(bad(l)),
            }
        }
        if m.kind != "full" && m.kind != "incremental" {
            return Err("the manifest names no backup kind".into());
        }
        if (m.kind == "incremental") != m.base.is_some() {
            return Err("an incremental backup must name its base (and only it)".into());
        }
        Ok(m)
    }

    /// Reads and checks a backup's manifest.
    pub fn read(dir: &Path) -> std::result::Result<Manifest, String> {
        let p = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&p)
            .map_err(|e| format!("could not read \"{}\": {e}", p.display()))?;
        Manifest::parse(&text)
    }
}

/// Checks every file a backup's manifest lists: (file, status, detail),
/// status "ok", "missing", "size mismatch" or "checksum mismatch". A
/// manifest that does not verify is one row with status "invalid".
pub fn verify(dir: &Path) -> Vec<(String, String, String)> {
    let m = match Manifest::read(dir) {
        Ok(m) => m,
        Err(e) => return vec![(MANIFEST.into(), "invalid".into(), e)],
    };
    let mut out = vec![(
        MANIFEST.into(),
        "ok".into(),
        format!(
            "{} backup, start {}, end {}, {} files",
            m.kind,
            lsn_text(m.start_lsn),
            lsn_text(m.end_lsn),
            m.files.len()
        ),
    )];
    for (p, size, crc) in &m.files {
        let (status, detail) = match file_crc(&dir.join(p)) {
            Err(e) => ("missing", e.to_string()),
            Ok((n, _)) if n != *size => {
                ("size mismatch", format!("{n} bytes, manifest says {size}"))
            }
            Ok((_, c)) if c != *crc => (
                "checksum mismatch",
                format!("CRC {c:08x}, manifest says {crc:08x}"),
            ),
            Ok(_) => ("ok", String::new()),
        };
        out.push((p.clone(), status.into(), detail));
    }
    out
}

fn file_crc(p: &Path) -> std::io::Result<(u64, u32)> {
    let mut f = std::fs::File::open(p)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, mut crc) = (0u64, 0u32);
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok((n, crc));
        }
        crc = crc32c::crc32c_append(crc, &buf[..k]);
        n += k as u64;
    }
}

/// Copies bytes [from, to) of `src` to the same offsets of a new `dst`,
/// whose bytes before `from` are zeros (a hole in the file); returns the
/// size and CRC-32C of `dst`.
fn copy_range(src: &Path, dst: &Path, from: u64, to: u64) -> Result<(u64, u32)> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(src).map_err(|e| file_error(e, "open file", src))?;
    let out = std::fs::File::create(dst).map_err(|e| file_error(e, "create file", dst))?;
    let to = to.min(
        f.metadata()
            .map_err(|e| file_error(e, "stat file", src))?
            .len(),
    );
    let mut crc = crc32c::crc32c(&vec![0u8; from.min(to) as usize]);
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = from;
    while pos < to {
        let k = ((to - pos) as usize).min(buf.len());
        f.read_exact_at(&mut buf[..k], pos)
            .map_err(|e| file_error(e, "read file", src))?;
        out.write_all_at(&buf[..k], pos)
            .map_err(|e| file_error(e, "write file", dst))?;
        crc = crc32c::crc32c_append(crc, &buf[..k]);
        pos += k as u64;
    }
    out.set_len(to.max(from.min(to)))
        .and_then(|_| out.sync_all())
        .map_err(|e| file_error(e, "write file", dst))?;
    Ok((to, crc))
}

/// Copies `src` to `dst` (fsynced); returns its size and CRC-32C.
fn copy_file(src: &Path, dst: &Path) -> Result<(u64, u32)> {
    let limit = u64::MAX;
    let mut f = std::fs::File::open(src).map_err(|e| file_error(e, "open file", src))?;
    let mut out = std::fs::File::create(dst).map_err(|e| file_error(e, "create file", dst))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, mut crc) = (0u64, 0u32);
    loop {
        let want = (limit - n).min(buf.len() as u64) as usize;
        let k = f
            .read(&mut buf[..want])
            .map_err(|e| file_error(e, "read file", src))?;
        if k == 0 {
            break;
        }
        out.write_all(&buf[..k])
            .map_err(|e| file_error(e, "write file", dst))?;
        crc = crc32c::crc32c_append(crc, &buf[..k]);
        n += k as u64;
    }
    out.sync_all()
        .map_err(|e| file_error(e, "fsync file", dst))?;
    Ok((n, crc))
}

fn write_file(dst: &Path, data: &[u8]) -> Result<(u64, u32)> {
    let mut out = std::fs::File::create(dst).map_err(|e| file_error(e, "create file", dst))?;
    out.write_all(data)
        .and_then(|_| out.sync_all())
        .map_err(|e| file_error(e, "write file", dst))?;
    Ok((data.len() as u64, crc32c::crc32c(data)))
}

fn sync_dir(d: &Path) -> Result<()> {
    std::fs::File::open(d)
        .and_then(|f| f.sync_all())
        .map_err(|e| file_error(e, "fsync directory", d))
}

/// Relation files of a data directory (base/<number>).
pub(crate) fn relation_files(base: &Path) -> Result<Vec<u32>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(base).map_err(|e| file_error(e, "read directory", base))? {
        let e = e.map_err(|e| file_error(e, "read directory", base))?;
        if let Some(n) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) {
            v.push(n);
        }
    }
    v.sort_unstable();
    Ok(v)
}

/// Now in microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// A backup that was taken (basalt_backups).
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRecord {
    pub path: String,
    pub manifest: Manifest,
    pub bytes: u64,
}

const BACKUPS_FILE: &str = "basalt_backups";

impl Storage {
    /// Takes a backup into `dest` (which must not exist or be empty):
    /// full, or incremental on top of the backup in `base`.
    pub fn backup(
        &self,
        dest: &Path,
        base: Option<&Path>,
        archive_dir: Option<&Path>,
    ) -> Result<BackupRecord> {
        let _one = self
            .backup_lock
            .try_lock()
            .ok_or_else(|| backup_error("55000", "another backup is already in progress".into()))?;
        let base_manifest = match base {
            None => None,
            Some(b) => {
                let m = Manifest::read(b).map_err(|e| {
                    backup_error(
                        "58030",
                        format!("base backup \"{}\" is not valid: {e}", b.display()),
                    )
                })?;
                Some((std::fs::canonicalize(b).unwrap_or(b.to_path_buf()), m))
            }
        };
        let created = match std::fs::read_dir(dest) {
            Ok(mut d) => {
                if d.next().is_some() {
                    return Err(backup_error(
                        "58P02",
                        format!("directory \"{}\" exists but is not empty", dest.display()),
                    ));
                }
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dest)
                    .map_err(|e| file_error(e, "create directory", dest))?;
                true
            }
            Err(e) => return Err(file_error(e, "open directory", dest)),
        };
        let res = self.backup_into(dest, base_manifest.as_ref(), archive_dir);
        if res.is_err() {
            // Leave nothing behind that could pass for a backup.
            if created {
                let _ = std::fs::remove_dir_all(dest);
            } else if let Ok(d) = std::fs::read_dir(dest) {
                for e in d.flatten() {
                    let _ = std::fs::remove_dir_all(e.path())
                        .or_else(|_| std::fs::remove_file(e.path()));
                }
            }
        }
        res
    }

    fn backup_into(
        &self,
        dest: &Path,
        base: Option<&(PathBuf, Manifest)>,
        archive_dir: Option<&Path>,
    ) -> Result<BackupRecord> {
        let start_time = now_micros();
        // Keep every segment from the current redo point on, then checkpoint.
        self.wal.hold_segments(Some(self.wal.redo_ptr()));
        let res = (|| {
            self.stats
                .checkpoints_req
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (start_lsn, next_xid, next_oid) = self.checkpoint_info()?;
            self.wal.hold_segments(Some(start_lsn));
            for d in ["base", "global", "pg_wal"] {
                let p = dest.join(d);
                std::fs::create_dir_all(&p).map_err(|e| file_error(e, "create directory", &p))?;
            }
            let mut files = Vec::new();
            let since = base.map(|(_, m)| m.start_lsn);
            for rel in relation_files(&self.dir.join("base"))? {
                let src = self.dir.join("base").join(rel.to_string());
                match since {
                    None => {
                        let name = format!("base/{rel}");
                        match copy_file(&src, &dest.join(&name)) {
                            Ok((n, c)) => files.push((name, n, c)),
                            // Dropped meanwhile: redo drops it again.
                            Err(StorageError::Backup { code: "58P01", .. }) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Some(since) => {
                        let name = format!("base/{rel}.incr");
                        if let Some(data) = incremental_pages(&src, since)? {
                            let (n, c) = write_file(&dest.join(&name), &data)?;
                            files.push((name, n, c));
                        }
                    }
                }
            }
            for (src, name) in [
                (self.dir.join("pg_xact"), "pg_xact"),
                (self.dir.join("pg_sequence"), "pg_sequence"),
                (
                    self.dir.join("global").join("pg_statistic"),
                    "global/pg_statistic",
                ),
            ] {
                if src.exists() {
                    let (n, c) = copy_file(&src, &dest.join(name))?;
                    files.push((name.to_string(), n, c));
                }
            }
            write_control(
                dest,
                &Control {
                    redo: start_lsn,
                    next_xid,
                    next_oid,
                },
            )?;
            let (n, c) = file_crc(&dest.join("global").join("pg_control"))
                .map_err(|e| file_error(e, "read file", dest))?;
            files.push(("global/pg_control".into(), n, c));
            // The WAL written while the files were copied.
            let end_lsn = self.wal.insert_lsn();
            self.wal.flush(end_lsn)?;
            let (first, last) = (start_lsn / SEGMENT_SIZE, end_lsn / SEGMENT_SIZE);
            for seg in first..=last {
                let name = format!("pg_wal/{seg:016X}");
                let src = self.dir.join(&name);
                if src.exists() {
                    // Only the part from the start to the end of the backup
                    // (the rest of the file reads as zeros, the log's end).
                    let page = PAGE_SIZE as u64;
                    let from = if seg == first {
                        (start_lsn % SEGMENT_SIZE) / page * page
                    } else {
                        0
                    };
                    let to = if seg == last {
                        (end_lsn % SEGMENT_SIZE).div_ceil(page) * page
                    } else {
                        SEGMENT_SIZE
                    };
                    let (n, c) = copy_range(&src, &dest.join(&name), from, to)?;
                    files.push((name, n, c));
                }
            }
            for d in ["base", "global", "pg_wal", ""] {
                sync_dir(&dest.join(d))?;
            }
            let m = Manifest {
                kind: if base.is_some() {
                    "incremental"
                } else {
                    "full"
                }
                .into(),
                base: base.map(|(p, m)| (p.display().to_string(), m.start_lsn)),
                start_lsn,
                end_lsn,
                start_time,
                end_time: now_micros(),
                archive_dir: archive_dir.map(|a| a.display().to_string()),
                files,
            };
            let tmp = dest.join(format!("{MANIFEST}.tmp"));
            write_file(&tmp, m.encode().as_bytes())?;
            std::fs::rename(&tmp, dest.join(MANIFEST))
                .map_err(|e| file_error(e, "rename file", &tmp))?;
            sync_dir(dest)?;
            let bytes = m.files.iter().map(|f| f.1).sum();
            Ok(BackupRecord {
                path: std::fs::canonicalize(dest)
                    .unwrap_or(dest.to_path_buf())
                    .display()
                    .to_string(),
                manifest: m,
                bytes,
            })
        })();
        self.wal.hold_segments(None);
        let rec = res?;
        self.record_backup(&rec)?;
        tracing::info!(
            path = %rec.path,
            kind = %rec.manifest.kind,
            start = %lsn_text(rec.manifest.start_lsn),
            end = %lsn_text(rec.manifest.end_lsn),
            bytes = rec.bytes,
            "backup complete"
        );
        Ok(rec)
    }

    fn record_backup(&self, r: &BackupRecord) -> Result<()> {
        let p = self.dir.join("global").join(BACKUPS_FILE);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)?;
        writeln!(f, "{}", r.path.replace(['\n', '\t'], " "))?;
        f.sync_all()?;
        Ok(())
    }

    /// Backups taken from this data directory that are still where they
    /// were written, oldest first.
    pub fn backups(&self) -> Vec<BackupRecord> {
        let p = self.dir.join("global").join(BACKUPS_FILE);
        let Ok(text) = std::fs::read_to_string(p) else {
            return vec![];
        };
        text.lines()
            .filter_map(|path| {
                let m = Manifest::read(Path::new(path)).ok()?;
                let bytes = m.files.iter().map(|f| f.1).sum();
                Some(BackupRecord {
                    path: path.to_string(),
                    manifest: m,
                    bytes,
                })
            })
            .collect()
    }

    /// Copies finished WAL segments to the archive; returns how many.
    pub fn archive_wal(&self, archive_dir: &Path) -> Result<usize> {
        std::fs::create_dir_all(archive_dir)
            .map_err(|e| file_error(e, "create directory", archive_dir))?;
        let segs = self.wal.segments_to_archive()?;
        for (name, path) in &segs {
            let tmp = archive_dir.join(format!("{name}.tmp"));
            copy_file(path, &tmp)?;
            let dst = archive_dir.join(name);
            std::fs::rename(&tmp, &dst).map_err(|e| file_error(e, "rename file", &tmp))?;
            sync_dir(archive_dir)?;
            self.wal.mark_archived(name)?;
            tracing::debug!(segment = %name, "WAL segment archived");
        }
        Ok(segs.len())
    }
}

/// The pages of a relation file changed after `since` (page LSN past it,
/// or a page that does not verify, which the WAL will repair), as an
/// `.incr` file: magic, block count, number of pages, their block numbers,
/// then the pages. None if the file is gone.
fn incremental_pages(src: &Path, since: Lsn) -> Result<Option<Vec<u8>>> {
    let data = match std::fs::read(src) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(e, "read file", src)),
    };
    let nblocks = data.len() / PAGE_SIZE;
    let mut blocks = Vec::new();
    for b in 0..nblocks {
        let page: &[u8; PAGE_SIZE] = data[b * PAGE_SIZE..(b + 1) * PAGE_SIZE]
            .try_into()
            .expect("page size");
        if page.iter().all(|&x| x == 0) {
            continue;
        }
        if Page(page).lsn() > since || !crate::page::verify_checksum(page, b as u32) {
            blocks.push(b as u32);
        }
    }
    let mut out = Vec::with_capacity(20 + blocks.len() * (4 + PAGE_SIZE));
    out.extend_from_slice(INCR_MAGIC);
    out.extend_from_slice(&(nblocks as u32).to_le_bytes());
    out.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
    for b in &blocks {
        out.extend_from_slice(&b.to_le_bytes());
    }
    for b in &blocks {
        let b = *b as usize;
        out.extend_from_slice(&data[b * PAGE_SIZE..(b + 1) * PAGE_SIZE]);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip_and_tamper() {
        let m = Manifest {
            kind: "incremental".into(),
            base: Some(("/b/full".into(), 0x1_0000_0028)),
            start_lsn: 0x2_0000_0000,
            end_lsn: 0x2_0000_0100,
            start_time: 1,
            end_time: 2,
            archive_dir: Some("/arch".into()),
            files: vec![("base/16384.incr".into(), 100, 0xdead_beef)],
        };
        let text = m.encode();
        assert_eq!(Manifest::parse(&text), Ok(m));
        let tampered = text.replace("100 deadbeef", "101 deadbeef");
        assert!(Manifest::parse(&tampered).unwrap_err().contains("checksum"));
        assert!(Manifest::parse("").is_err());
    }
}
