//! Restore and point-in-time recovery: `basalt restore` builds a data
//! directory from a full backup, incremental backups on top of it and
//! archived WAL, and leaves a recovery target that the server's redo stops
//! at. See backup.rs for what a backup holds.

use crate::backup::{relation_files, verify, Manifest, INCR_MAGIC};
use crate::error::{Result, StorageError};
use crate::page::PAGE_SIZE;
use crate::wal::{lsn_text, parse_lsn, Lsn, ReadRecord, WalRecord, SEGMENT_SIZE};
use std::path::{Path, PathBuf};

/// Applies an `.incr` file to the relation file `dst`.
fn apply_incremental(incr: &[u8], dst: &Path) -> std::result::Result<(), String> {
    use std::os::unix::fs::FileExt;
    let bad = || format!("malformed incremental file for \"{}\"", dst.display());
    if incr.len() < 16 || &incr[..8] != INCR_MAGIC {
        return Err(bad());
    }
    let nblocks = u32::from_le_bytes(incr[8..12].try_into().expect("4")) as u64;
    let count = u32::from_le_bytes(incr[12..16].try_into().expect("4")) as usize;
    if incr.len() != 16 + count * (4 + PAGE_SIZE) {
        return Err(bad());
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dst)
        .map_err(|e| format!("could not open \"{}\": {e}", dst.display()))?;
    f.set_len(nblocks * PAGE_SIZE as u64)
        .map_err(|e| e.to_string())?;
    let pages = &incr[16 + count * 4..];
    for i in 0..count {
        let b = u32::from_le_bytes(incr[16 + i * 4..20 + i * 4].try_into().expect("4")) as u64;
        if b >= nblocks {
            return Err(bad());
        }
        f.write_all_at(
            &pages[i * PAGE_SIZE..(i + 1) * PAGE_SIZE],
            b * PAGE_SIZE as u64,
        )
        .map_err(|e| e.to_string())?;
    }
    f.sync_all().map_err(|e| e.to_string())
}

/// Where point-in-time recovery stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RecoveryTarget {
    /// Before the first commit after this time (µs since the Unix epoch).
    Time(i64),
    /// Before the first record that ends past this LSN.
    Lsn(Lsn),
}

impl RecoveryTarget {
    fn path(dir: &Path) -> PathBuf {
        dir.join("global").join("recovery_target")
    }

    pub fn load(dir: &Path) -> Result<Option<RecoveryTarget>> {
        let text = match std::fs::read_to_string(Self::path(dir)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bad = || StorageError::Corrupt(format!("recovery_target: cannot parse {text:?}"));
        let (k, v) = text.trim().split_once(' ').ok_or_else(bad)?;
        Ok(Some(match k {
            "time" => RecoveryTarget::Time(v.parse().map_err(|_| bad())?),
            "lsn" => RecoveryTarget::Lsn(parse_lsn(v).ok_or_else(bad)?),
            _ => return Err(bad()),
        }))
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let text = match self {
            RecoveryTarget::Time(t) => format!("time {t}\n"),
            RecoveryTarget::Lsn(l) => format!("lsn {}\n", lsn_text(*l)),
        };
        std::fs::create_dir_all(dir.join("global"))?;
        std::fs::write(Self::path(dir), text)
    }

    pub fn clear(dir: &Path) -> Result<()> {
        match std::fs::remove_file(Self::path(dir)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub fn stops_before(&self, r: &ReadRecord) -> bool {
        match self {
            RecoveryTarget::Time(t) => matches!(r.rec, WalRecord::Commit { time, .. } if time > *t),
            RecoveryTarget::Lsn(l) => r.end > *l,
        }
    }
}

/// What `basalt restore` does.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    pub from: PathBuf,
    pub incrementals: Vec<PathBuf>,
    pub to: PathBuf,
    pub target: Option<RecoveryTarget>,
    /// Archived WAL to add (default: the archive the backup names).
    pub archive: Option<PathBuf>,
    /// Add no archived WAL: recover to the end of the (last) backup.
    pub no_archive: bool,
}

/// Builds a data directory from a full backup, incremental backups on top
/// of it in order, and archived WAL; a recovery target makes the server
/// stop redo there when it starts. Returns a summary for the operator.
pub fn restore(o: &RestoreOptions) -> std::result::Result<String, String> {
    let mut chain = Vec::new();
    for (i, dir) in std::iter::once(&o.from).chain(&o.incrementals).enumerate() {
        let rows = verify(dir);
        if let Some(bad) = rows.iter().find(|r| r.1 != "ok") {
            return Err(format!(
                "backup \"{}\" does not verify: {}: {} {}",
                dir.display(),
                bad.0,
                bad.1,
                bad.2
            ));
        }
        let m = Manifest::read(dir)?;
        let want = if i == 0 { "full" } else { "incremental" };
        if m.kind != want {
            return Err(format!(
                "\"{}\" is a {} backup, expected a {want} one",
                dir.display(),
                m.kind
            ));
        }
        if let (Some((_, base_lsn)), Some((_, prev))) = (&m.base, chain.last()) {
            let prev: &Manifest = prev;
            if *base_lsn != prev.start_lsn {
                return Err(format!(
                    "incremental backup \"{}\" is not based on \"{}\" (base start {}, that backup starts at {})",
                    dir.display(),
                    chain.last().map(|c: &(PathBuf, Manifest)| c.0.display().to_string()).unwrap_or_default(),
                    lsn_text(*base_lsn),
                    lsn_text(prev.start_lsn)
                ));
            }
        }
        chain.push((dir.clone(), m));
    }
    if let Ok(mut d) = std::fs::read_dir(&o.to) {
        if d.next().is_some() {
            return Err(format!(
                "directory \"{}\" exists but is not empty",
                o.to.display()
            ));
        }
    }
    let io = |what: &str, p: &Path, e: std::io::Error| {
        format!("could not {what} \"{}\": {e}", p.display())
    };
    for d in ["base", "global", "pg_wal"] {
        std::fs::create_dir_all(o.to.join(d))
            .map_err(|e| io("create directory", &o.to.join(d), e))?;
    }
    let (full_dir, full) = &chain[0];
    for (p, _, _) in &full.files {
        std::fs::copy(full_dir.join(p), o.to.join(p))
            .map_err(|e| io("copy", &full_dir.join(p), e))?;
    }
    for (dir, m) in &chain[1..] {
        let mut keep = std::collections::HashSet::new();
        for (p, _, _) in &m.files {
            if let Some(rel) = p
                .strip_prefix("base/")
                .and_then(|r| r.strip_suffix(".incr"))
            {
                keep.insert(rel.to_string());
                let data = std::fs::read(dir.join(p)).map_err(|e| io("read", &dir.join(p), e))?;
                apply_incremental(&data, &o.to.join("base").join(rel))?;
            }
        }
        // Relations gone since the base.
        for rel in relation_files(&o.to.join("base")).map_err(|e| e.to_string())? {
            if !keep.contains(&rel.to_string()) {
                let p = o.to.join("base").join(rel.to_string());
                std::fs::remove_file(&p).map_err(|e| io("remove", &p, e))?;
            }
        }
        let wal = o.to.join("pg_wal");
        std::fs::remove_dir_all(&wal).map_err(|e| io("remove", &wal, e))?;
        std::fs::create_dir_all(&wal).map_err(|e| io("create directory", &wal, e))?;
        let _ = std::fs::remove_file(o.to.join("global").join("pg_statistic"));
        for (p, _, _) in &m.files {
            if !p.starts_with("base/") {
                std::fs::copy(dir.join(p), o.to.join(p))
                    .map_err(|e| io("copy", &dir.join(p), e))?;
            }
        }
    }
    let last = &chain.last().expect("a full backup").1;
    let mut archived = 0;
    let archive = o
        .archive
        .clone()
        .or(last.archive_dir.as_ref().map(PathBuf::from));
    if let Some(a) = archive.filter(|a| a.exists() && !o.no_archive) {
        let first = last.start_lsn / SEGMENT_SIZE;
        for e in std::fs::read_dir(&a).map_err(|e| io("read directory", &a, e))? {
            let e = e.map_err(|e| io("read directory", &a, e))?;
            let name = e.file_name().to_string_lossy().to_string();
            match u64::from_str_radix(&name, 16) {
                Ok(n) if name.len() == 16 && n >= first => {
                    std::fs::copy(e.path(), o.to.join("pg_wal").join(&name))
                        .map_err(|err| io("copy", &e.path(), err))?;
                    archived += 1;
                }
                _ => {}
            }
        }
    }
    if let Some(t) = &o.target {
        t.save(&o.to).map_err(|e| io("write", &o.to, e))?;
    }
    Ok(format!(
        "restored {} backup(s) into \"{}\" (consistent from {}), {} archived WAL segment(s) added{}; start the server on it to recover",
        chain.len(),
        o.to.display(),
        lsn_text(last.end_lsn),
        archived,
        match o.target {
            Some(RecoveryTarget::Time(t)) => format!(
                ", recovery stops before the first commit after {}",
                chrono::DateTime::from_timestamp_micros(t)
                    .map(|d| d.to_rfc3339())
                    .unwrap_or_else(|| t.to_string())
            ),
            Some(RecoveryTarget::Lsn(l)) => format!(", recovery stops at {}", lsn_text(l)),
            None => String::new(),
        }
    ))
}
