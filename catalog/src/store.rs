//! The catalog of tables, columns and indexes, stored as rows of an ordinary
//! MVCC heap (filenode 1), so DDL is transactional: a table definition is one
//! row, and ALTER replaces it with a new version. Committed definitions are
//! cached by catalog version; a transaction that has changed the catalog reads
//! it through its own snapshot instead. DDL statements are serialised by a
//! catalog lock held until the transaction ends.

use crate::types::DataType;
use basalt_storage::txn::Snapshot;
use basalt_storage::{Result, Storage, StorageError, Tid, WriteOutcome, Xid};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub const CATALOG_REL: u32 = 1;
pub const NS_PG_CATALOG: u32 = 11;
pub const NS_PUBLIC: u32 = 2200;
pub const NS_INFORMATION_SCHEMA: u32 = 13000;
pub const BOOTSTRAP_SUPERUSER: u32 = 10;
pub const DATABASE_OID: u32 = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
    /// DEFAULT expression as SQL text.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub oid: u32,
    pub name: String,
    pub filenode: u32,
    pub columns: Vec<usize>,
    pub unique: bool,
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub filenode: u32,
    pub columns: Vec<ColumnDef>,
    pub indexes: Vec<IndexDef>,
}

impl TableDef {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
    pub fn types(&self) -> Vec<DataType> {
        self.columns.iter().map(|c| c.ty).collect()
    }
    pub fn primary_key(&self) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.primary)
    }
}

struct W(Vec<u8>);
impl W {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn b(&mut self, v: bool) {
        self.0.push(v as u8);
    }
}
struct R<'a>(&'a [u8], usize);
impl R<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.0.get(self.1..self.1 + n)?;
        self.1 += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn b(&mut self) -> Option<bool> {
        Some(self.u8()? != 0)
    }
}

const DEF_VERSION: u8 = 1;

impl TableDef {
    pub fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![DEF_VERSION]);
        w.u32(self.oid);
        w.str(&self.name);
        w.u32(self.namespace);
        w.u32(self.filenode);
        w.u32(self.columns.len() as u32);
        for c in &self.columns {
            w.str(&c.name);
            c.ty.encode(&mut w.0);
            w.b(c.not_null);
            w.b(c.default.is_some());
            if let Some(d) = &c.default {
                w.str(d);
            }
        }
        w.u32(self.indexes.len() as u32);
        for i in &self.indexes {
            w.u32(i.oid);
            w.str(&i.name);
            w.u32(i.filenode);
            w.u32(i.columns.len() as u32);
            for c in &i.columns {
                w.u32(*c as u32);
            }
            w.b(i.unique);
            w.b(i.primary);
        }
        w.0
    }

    pub fn deserialize(b: &[u8]) -> Option<TableDef> {
        let mut r = R(b, 0);
        if r.u8()? != DEF_VERSION {
            return None;
        }
        let oid = r.u32()?;
        let name = r.str()?;
        let namespace = r.u32()?;
        let filenode = r.u32()?;
        let nc = r.u32()?;
        let mut columns = Vec::new();
        for _ in 0..nc {
            let name = r.str()?;
            let (c, a, bb) = (r.u8()?, r.u32()?, r.u32()?);
            let ty = DataType::decode(c, a, bb)?;
            let not_null = r.b()?;
            let default = if r.b()? { Some(r.str()?) } else { None };
            columns.push(ColumnDef {
                name,
                ty,
                not_null,
                default,
            });
        }
        let ni = r.u32()?;
        let mut indexes = Vec::new();
        for _ in 0..ni {
            let oid = r.u32()?;
            let name = r.str()?;
            let filenode = r.u32()?;
            let n = r.u32()?;
            let mut cols = Vec::new();
            for _ in 0..n {
                cols.push(r.u32()? as usize);
            }
            let unique = r.b()?;
            let primary = r.b()?;
            indexes.push(IndexDef {
                oid,
                name,
                filenode,
                columns: cols,
                unique,
                primary,
            });
        }
        Some(TableDef {
            oid,
            name,
            namespace,
            filenode,
            columns,
            indexes,
        })
    }
}

/// A consistent set of table definitions.
#[derive(Default, Debug)]
pub struct Schema {
    pub tables: Vec<Arc<TableDef>>,
    by_name: HashMap<(u32, String), usize>,
    tids: HashMap<u32, Tid>,
}

impl Schema {
    pub fn table(&self, namespace: u32, name: &str) -> Option<&Arc<TableDef>> {
        self.by_name
            .get(&(namespace, name.to_string()))
            .map(|&i| &self.tables[i])
    }
    pub fn table_by_oid(&self, oid: u32) -> Option<&Arc<TableDef>> {
        self.tables.iter().find(|t| t.oid == oid)
    }
    /// A relation (table or index) by name in a namespace: (table, index position).
    pub fn relation(&self, namespace: u32, name: &str) -> Option<(&Arc<TableDef>, Option<usize>)> {
        if let Some(t) = self.table(namespace, name) {
            return Some((t, None));
        }
        for t in &self.tables {
            if t.namespace == namespace {
                if let Some(i) = t.indexes.iter().position(|i| i.name == name) {
                    return Some((t, Some(i)));
                }
            }
        }
        None
    }
}

pub struct Catalog {
    st: Arc<Storage>,
    version: AtomicU64,
    cache: RwLock<Option<(u64, Arc<Schema>)>>,
}

impl Catalog {
    pub fn new(st: Arc<Storage>) -> Result<Catalog> {
        st.create_heap(CATALOG_REL)?;
        Ok(Catalog {
            st,
            version: AtomicU64::new(1),
            cache: RwLock::new(None),
        })
    }

    pub fn storage(&self) -> &Arc<Storage> {
        &self.st
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn load(&self, snap: &Snapshot) -> Result<Schema> {
        let mut rows = Vec::new();
        for blk in 0..self.st.nblocks(CATALOG_REL)? {
            self.st
                .heap_page_visible(CATALOG_REL, blk, snap, &mut rows)?;
        }
        let mut s = Schema::default();
        for (tid, data) in rows {
            let def = TableDef::deserialize(&data)
                .ok_or_else(|| StorageError::Corrupt("catalog row".into()))?;
            s.by_name
                .insert((def.namespace, def.name.clone()), s.tables.len());
            s.tids.insert(def.oid, tid);
            s.tables.push(Arc::new(def));
        }
        Ok(s)
    }

    /// The committed schema (cached), or, for a transaction that has changed
    /// the catalog, the schema as that transaction sees it.
    pub fn schema(&self, snap: &Snapshot, own_changes: bool) -> Result<Arc<Schema>> {
        if own_changes {
            return Ok(Arc::new(self.load(snap)?));
        }
        self.committed_schema()
    }

    /// The committed schema, from the cache unless DDL committed since.
    pub fn committed_schema(&self) -> Result<Arc<Schema>> {
        let v = self.version();
        if let Some((cv, s)) = self.cache.read().as_ref() {
            if *cv == v {
                return Ok(s.clone());
            }
        }
        let fresh = self.st.txns.snapshot(basalt_storage::INVALID_XID, 0);
        let s = Arc::new(self.load(&fresh)?);
        *self.cache.write() = Some((v, s.clone()));
        Ok(s)
    }

    /// Called after a transaction that changed the catalog committed or aborted.
    pub fn invalidate(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn insert_table(&self, xid: Xid, cid: u32, def: &TableDef) -> Result<()> {
        self.st
            .heap_insert(CATALOG_REL, xid, cid, &def.serialize())?;
        Ok(())
    }

    pub fn replace_table(&self, xid: Xid, cid: u32, schema: &Schema, def: &TableDef) -> Result<()> {
        let tid = *schema
            .tids
            .get(&def.oid)
            .ok_or_else(|| StorageError::Corrupt("catalog: missing table".into()))?;
        match self.st.heap_update(
            CATALOG_REL,
            tid,
            &writer(xid, cid, &[xid]),
            &def.serialize(),
            false,
        )? {
            WriteOutcome::Ok(_) => Ok(()),
            _ => Err(StorageError::SerializationFailure),
        }
    }

    pub fn delete_table(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        let tid = *schema
            .tids
            .get(&oid)
            .ok_or_else(|| StorageError::Corrupt("catalog: missing table".into()))?;
        match self
            .st
            .heap_delete(CATALOG_REL, tid, &writer(xid, cid, &[xid]))?
        {
            WriteOutcome::Ok(_) => Ok(()),
            _ => Err(StorageError::SerializationFailure),
        }
    }
}

/// Catalog rows are written under the DDL lock, so nobody else holds them.
fn writer(xid: Xid, cid: u32, own: &[Xid]) -> basalt_storage::RowWriter<'_> {
    basalt_storage::RowWriter {
        xid,
        cid,
        own,
        wait: None,
        policy: basalt_storage::WaitPolicy::Block,
    }
}
