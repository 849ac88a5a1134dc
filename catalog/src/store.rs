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
/// Stands for the session's temporary schema in a CREATE TEMP TABLE until
/// it runs (the schema is made then, if it is not there yet).
pub const NS_TEMP: u32 = u32::MAX;
/// Name prefix of the sessions' temporary schemas (pg_temp_<pid>).
pub const TEMP_SCHEMA_PREFIX: &str = "pg_temp_";
pub const BOOTSTRAP_SUPERUSER: u32 = 10;
pub const DATABASE_OID: u32 = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
    /// DEFAULT expression as SQL text (an identity column's is the
    /// nextval of its sequence, not shown as a default).
    pub default: Option<String>,
    /// GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY.
    pub identity: Option<Identity>,
}

/// How an identity column takes explicit values: ALWAYS refuses them
/// (unless OVERRIDING SYSTEM VALUE), BY DEFAULT takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Always,
    ByDefault,
}

impl Identity {
    /// pg_attribute.attidentity.
    pub fn code(self) -> &'static str {
        match self {
            Identity::Always => "a",
            Identity::ByDefault => "d",
        }
    }
}

/// In `IndexDef::columns`, keys at or above this are expressions:
/// `exprs[key - EXPR_KEY]`.
pub const EXPR_KEY: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub oid: u32,
    pub name: String,
    pub filenode: u32,
    /// Key columns (table column positions), or `EXPR_KEY + j` for the
    /// expression `exprs[j]`.
    pub columns: Vec<usize>,
    /// Expression keys as SQL text over the table's columns.
    pub exprs: Vec<String>,
    /// A partial index's WHERE, as SQL text: only rows where it holds
    /// have entries (and, for UNIQUE, must be unique).
    pub predicate: Option<String>,
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
    /// The owning role.
    pub owner: u32,
    /// Privileges granted (None: the default, all to the owner only).
    pub acl: Option<Vec<AclItem>>,
    /// CHECK constraints: (name, boolean expression over the row as SQL).
    pub checks: Vec<(String, String)>,
    /// FOREIGN KEY constraints of this (referencing) table.
    pub fks: Vec<ForeignKey>,
    /// COMMENT ON TABLE (0) and COLUMN (attribute number) texts.
    pub comments: Vec<(i32, String)>,
}

/// What a foreign key does to referencing rows when the referenced row is
/// deleted or its key updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    /// The referencing columns get their DEFAULT.
    SetDefault,
}

/// `FOREIGN KEY (cols) REFERENCES table (ref_cols)`; `table` 0 means this
/// table itself (until it has its OID).
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub name: String,
    pub cols: Vec<usize>,
    pub table: u32,
    pub ref_cols: Vec<usize>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

fn fk_action_code(a: FkAction) -> u8 {
    match a {
        FkAction::NoAction => 0,
        FkAction::Restrict => 1,
        FkAction::Cascade => 2,
        FkAction::SetNull => 3,
        FkAction::SetDefault => 4,
    }
}

fn fk_action(c: u8) -> Option<FkAction> {
    Some(match c {
        0 => FkAction::NoAction,
        1 => FkAction::Restrict,
        2 => FkAction::Cascade,
        3 => FkAction::SetNull,
        4 => FkAction::SetDefault,
        _ => return None,
    })
}

/// Privilege bits, with PostgreSQL's ACL letters.
pub mod privs {
    pub const SELECT: u32 = 1; // r
    pub const INSERT: u32 = 2; // a
    pub const UPDATE: u32 = 4; // w
    pub const DELETE: u32 = 8; // d
    pub const TRUNCATE: u32 = 16; // D
    pub const REFERENCES: u32 = 32; // x
    pub const TRIGGER: u32 = 64; // t
    pub const USAGE: u32 = 128; // U
    pub const CREATE: u32 = 256; // C
    pub const ALL_TABLE: u32 = 127;
    pub const ALL_SCHEMA: u32 = USAGE | CREATE;
    pub const LETTERS: [(u32, char); 9] = [
        (INSERT, 'a'),
        (SELECT, 'r'),
        (UPDATE, 'w'),
        (DELETE, 'd'),
        (TRUNCATE, 'D'),
        (REFERENCES, 'x'),
        (TRIGGER, 't'),
        (USAGE, 'U'),
        (CREATE, 'C'),
    ];
    /// The privilege's name as GRANT and error messages spell it.
    pub fn name(p: u32) -> &'static str {
        match p {
            SELECT => "SELECT",
            INSERT => "INSERT",
            UPDATE => "UPDATE",
            DELETE => "DELETE",
            TRUNCATE => "TRUNCATE",
            REFERENCES => "REFERENCES",
            TRIGGER => "TRIGGER",
            USAGE => "USAGE",
            _ => "CREATE",
        }
    }
}

/// One grant: `grantee` (0 = PUBLIC) holds `privs`, granted by `grantor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclItem {
    pub grantee: u32,
    pub grantor: u32,
    pub privs: u32,
}

/// ACL items as PostgreSQL prints them: {grantee=letters/grantor,...}.
pub fn acl_text(items: &[AclItem], name_of: &dyn Fn(u32) -> String) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|a| {
            let letters: String = privs::LETTERS
                .iter()
                .filter(|(b, _)| a.privs & b != 0)
                .map(|(_, c)| *c)
                .collect();
            let who = if a.grantee == 0 {
                String::new()
            } else {
                name_of(a.grantee)
            };
            format!("{who}={letters}/{}", name_of(a.grantor))
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// Adds (or with `revoke`, removes) privileges for a grantee in an ACL,
/// starting from the object's default ACL when it has none.
pub fn acl_change(
    acl: &Option<Vec<AclItem>>,
    default: &[AclItem],
    grantee: u32,
    grantor: u32,
    privs: u32,
    revoke: bool,
) -> Vec<AclItem> {
    let mut items = acl.clone().unwrap_or_else(|| default.to_vec());
    match items.iter_mut().find(|a| a.grantee == grantee) {
        Some(a) if revoke => a.privs &= !privs,
        Some(a) => a.privs |= privs,
        None if revoke => {}
        None => items.push(AclItem {
            grantee,
            grantor,
            privs,
        }),
    }
    items.retain(|a| a.privs != 0);
    items
}

/// A role (a user is a role that can log in).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDef {
    pub oid: u32,
    pub name: String,
    pub superuser: bool,
    pub login: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub inherit: bool,
    pub connlimit: i32,
    /// A SCRAM-SHA-256 verifier in PostgreSQL's format; never the password.
    pub password: Option<String>,
}

/// The role that stands for the database's owner (owner of `public`).
pub const PG_DATABASE_OWNER: u32 = 6171;

/// PostgreSQL 15's predefined roles (no login), by OID.
pub const PREDEFINED_ROLES: [(u32, &str); 12] = [
    (3373, "pg_monitor"),
    (3374, "pg_read_all_settings"),
    (3375, "pg_read_all_stats"),
    (3377, "pg_stat_scan_tables"),
    (4200, "pg_signal_backend"),
    (4544, "pg_checkpoint"),
    (4569, "pg_read_server_files"),
    (4570, "pg_write_server_files"),
    (4571, "pg_execute_server_program"),
    (PG_DATABASE_OWNER, "pg_database_owner"),
    (6181, "pg_read_all_data"),
    (6182, "pg_write_all_data"),
];

impl RoleDef {
    fn predefined(oid: u32, name: &str) -> RoleDef {
        RoleDef {
            oid,
            name: name.into(),
            superuser: false,
            login: false,
            createdb: false,
            createrole: false,
            inherit: true,
            connlimit: -1,
            password: None,
        }
    }

    /// The bootstrap superuser, `postgres` (OID 10), until ALTER ROLE
    /// stores a definition of it.
    pub fn bootstrap() -> RoleDef {
        RoleDef {
            oid: BOOTSTRAP_SUPERUSER,
            name: "postgres".into(),
            superuser: true,
            login: true,
            createdb: true,
            createrole: true,
            inherit: true,
            connlimit: -1,
            password: None,
        }
    }

    fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![ROLE_RECORD]);
        w.u32(self.oid);
        w.str(&self.name);
        for b in [
            self.superuser,
            self.login,
            self.createdb,
            self.createrole,
            self.inherit,
        ] {
            w.b(b);
        }
        w.u32(self.connlimit as u32);
        w.b(self.password.is_some());
        if let Some(p) = &self.password {
            w.str(p);
        }
        w.0
    }

    fn deserialize(b: &[u8]) -> Option<RoleDef> {
        let mut r = R(b, 0);
        if r.u8()? != ROLE_RECORD {
            return None;
        }
        Some(RoleDef {
            oid: r.u32()?,
            name: r.str()?,
            superuser: r.b()?,
            login: r.b()?,
            createdb: r.b()?,
            createrole: r.b()?,
            inherit: r.b()?,
            connlimit: r.u32()? as i32,
            password: if r.b()? { Some(r.str()?) } else { None },
        })
    }
}

/// A schema's privileges (stored once one is granted or revoked).
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceAcl {
    pub namespace: u32,
    pub acl: Vec<AclItem>,
}

impl NamespaceAcl {
    /// PostgreSQL 15's default for `public`: its owner pg_database_owner
    /// has USAGE and CREATE, PUBLIC has USAGE.
    pub fn default_for(namespace: u32) -> Vec<AclItem> {
        let owner = if namespace == NS_PUBLIC {
            PG_DATABASE_OWNER
        } else {
            BOOTSTRAP_SUPERUSER
        };
        let mut v = vec![AclItem {
            grantee: owner,
            grantor: owner,
            privs: privs::ALL_SCHEMA,
        }];
        if namespace == NS_PUBLIC {
            v.push(AclItem {
                grantee: 0,
                grantor: owner,
                privs: privs::USAGE,
            });
        }
        v
    }

    fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![NAMESPACE_RECORD]);
        w.u32(self.namespace);
        write_acl(&mut w, &self.acl);
        w.0
    }

    fn deserialize(b: &[u8]) -> Option<NamespaceAcl> {
        let mut r = R(b, 0);
        if r.u8()? != NAMESPACE_RECORD {
            return None;
        }
        Some(NamespaceAcl {
            namespace: r.u32()?,
            acl: read_acl(&mut r)?,
        })
    }
}

fn write_acl(w: &mut W, acl: &[AclItem]) {
    w.u32(acl.len() as u32);
    for a in acl {
        w.u32(a.grantee);
        w.u32(a.grantor);
        w.u32(a.privs);
    }
}

fn read_acl(r: &mut R<'_>) -> Option<Vec<AclItem>> {
    let n = r.u32()? as usize;
    let mut v = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        v.push(AclItem {
            grantee: r.u32()?,
            grantor: r.u32()?,
            privs: r.u32()?,
        });
    }
    Some(v)
}

/// A view: its defining query's SQL text and output column names; a query
/// that names it binds that text in its place.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewDef {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub owner: u32,
    pub sql: String,
    pub columns: Vec<String>,
    /// The columns' types (empty for views stored before types were kept).
    pub column_types: Vec<DataType>,
}

impl ViewDef {
    /// The view's columns as pg_attribute and information_schema show
    /// them (text where the type was not recorded).
    pub fn column_defs(&self) -> Vec<ColumnDef> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, name)| ColumnDef {
                name: name.clone(),
                ty: self.column_types.get(i).copied().unwrap_or(DataType::Text),
                not_null: false,
                default: None,
                identity: None,
            })
            .collect()
    }

    fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![VIEW_RECORD]);
        w.u32(self.oid);
        w.str(&self.name);
        w.u32(self.namespace);
        w.u32(self.owner);
        w.str(&self.sql);
        w.u32(self.columns.len() as u32);
        for c in &self.columns {
            w.str(c);
        }
        for t in &self.column_types {
            t.encode(&mut w.0);
        }
        w.0
    }

    fn deserialize(b: &[u8]) -> Option<ViewDef> {
        let mut r = R(b, 0);
        if r.u8()? != VIEW_RECORD {
            return None;
        }
        let (oid, name, namespace, owner, sql) = (r.u32()?, r.str()?, r.u32()?, r.u32()?, r.str()?);
        let n = r.u32()? as usize;
        let mut columns = Vec::with_capacity(n.min(1600));
        for _ in 0..n {
            columns.push(r.str()?);
        }
        // Types follow in records written since they were kept.
        let mut column_types = Vec::new();
        for _ in 0..n {
            let Some(c) = r.u8() else { break };
            let (Some(a), Some(b)) = (r.u32(), r.u32()) else {
                break;
            };
            column_types.push(DataType::decode(c, a, b).unwrap_or(DataType::Text));
        }
        if column_types.len() != n {
            column_types.clear();
        }
        Some(ViewDef {
            oid,
            name,
            namespace,
            owner,
            sql,
            columns,
            column_types,
        })
    }
}

/// A sequence: how it counts (its current value is kept by storage, outside
/// transactions) and the column that owns it, if any (serial, identity).
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceDef {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub owner: u32,
    pub ty: DataType,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// (table OID, column number from 1) of an owning column.
    pub owned_by: Option<(u32, i16)>,
}

impl SequenceDef {
    fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![SEQUENCE_RECORD]);
        w.u32(self.oid);
        w.str(&self.name);
        w.u32(self.namespace);
        w.u32(self.owner);
        self.ty.encode(&mut w.0);
        for v in [self.start, self.increment, self.min, self.max, self.cache] {
            w.0.extend_from_slice(&v.to_le_bytes());
        }
        w.0.push(u8::from(self.cycle));
        let (t, c) = self.owned_by.unwrap_or((0, 0));
        w.u32(t);
        w.0.extend_from_slice(&c.to_le_bytes());
        w.0
    }

    fn deserialize(b: &[u8]) -> Option<SequenceDef> {
        let mut r = R(b, 0);
        if r.u8()? != SEQUENCE_RECORD {
            return None;
        }
        let (oid, name, namespace, owner) = (r.u32()?, r.str()?, r.u32()?, r.u32()?);
        let ty = DataType::decode(r.u8()?, r.u32()?, r.u32()?)?;
        let mut i = || -> Option<i64> {
            let lo = r.u32()? as u64;
            let hi = r.u32()? as u64;
            Some((hi << 32 | lo) as i64)
        };
        let (start, increment, min, max, cache) = (i()?, i()?, i()?, i()?, i()?);
        let cycle = r.u8()? != 0;
        let t = r.u32()?;
        let c = (r.u8()? as u16 | (r.u8()? as u16) << 8) as i16;
        Some(SequenceDef {
            oid,
            name,
            namespace,
            owner,
            ty,
            start,
            increment,
            min,
            max,
            cache,
            cycle,
            owned_by: (t != 0).then_some((t, c)),
        })
    }
}

/// A schema made by CREATE SCHEMA (pg_catalog, public and
/// information_schema are built in).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDef {
    pub oid: u32,
    pub name: String,
    pub owner: u32,
    /// The database the schema belongs to.
    pub database: u32,
}

impl SchemaDef {
    fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![SCHEMA_RECORD]);
        w.u32(self.oid);
        w.str(&self.name);
        w.u32(self.owner);
        w.u32(self.database);
        w.0
    }

    fn deserialize(b: &[u8]) -> Option<SchemaDef> {
        let mut r = R(b, 0);
        if r.u8()? != SCHEMA_RECORD {
            return None;
        }
        let (oid, name, owner) = (r.u32()?, r.str()?, r.u32()?);
        // Rows written before databases existed belong to `postgres`.
        let database = if r.1 < r.0.len() {
            r.u32()?
        } else {
            DATABASE_OID
        };
        Some(SchemaDef {
            oid,
            name,
            owner,
            database,
        })
    }
}

/// A database: a set of schemas that sessions connect to by name. Roles,
/// the WAL, the buffer pool and transaction ids are shared by all of them,
/// as in PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseDef {
    pub oid: u32,
    pub name: String,
    pub owner: u32,
    pub is_template: bool,
    pub allow_conn: bool,
    pub conn_limit: i32,
    /// ALTER DATABASE ... SET: settings a session starts with.
    pub settings: Vec<(String, String)>,
}

/// The databases every cluster has: (OID, name, template, connections
/// allowed). Each has its own built-in `public` schema (see
/// `builtin_public`).
pub const BUILTIN_DATABASES: [(u32, &str, bool, bool); 3] = [
    (DATABASE_OID, "postgres", false, true),
    (TEMPLATE1_OID, "template1", true, true),
    (TEMPLATE0_OID, "template0", true, false),
];
pub const TEMPLATE1_OID: u32 = 1;
pub const TEMPLATE0_OID: u32 = 4;
/// The built-in `public` schemas of template1 and template0 (postgres's is
/// NS_PUBLIC).
pub const NS_PUBLIC_TEMPLATE1: u32 = 2201;
pub const NS_PUBLIC_TEMPLATE0: u32 = 2202;

/// The OID of a built-in database's built-in `public` schema.
pub fn builtin_public(db: u32) -> Option<u32> {
    match db {
        DATABASE_OID => Some(NS_PUBLIC),
        TEMPLATE1_OID => Some(NS_PUBLIC_TEMPLATE1),
        TEMPLATE0_OID => Some(NS_PUBLIC_TEMPLATE0),
        _ => None,
    }
}

/// The database a built-in `public` schema belongs to.
pub fn builtin_public_db(ns: u32) -> Option<u32> {
    BUILTIN_DATABASES
        .iter()
        .map(|d| d.0)
        .find(|&d| builtin_public(d) == Some(ns))
}

impl DatabaseDef {
    fn builtin(oid: u32, name: &str, is_template: bool, allow_conn: bool) -> DatabaseDef {
        DatabaseDef {
            oid,
            name: name.into(),
            owner: BOOTSTRAP_SUPERUSER,
            is_template,
            allow_conn,
            conn_limit: -1,
            settings: vec![],
        }
    }

    fn serialize(&self) -> Vec<u8> {
        let mut w = W(vec![DATABASE_RECORD]);
        w.u32(self.oid);
        w.str(&self.name);
        w.u32(self.owner);
        w.b(self.is_template);
        w.b(self.allow_conn);
        w.u32(self.conn_limit as u32);
        w.u32(self.settings.len() as u32);
        for (k, v) in &self.settings {
            w.str(k);
            w.str(v);
        }
        w.0
    }

    fn deserialize(b: &[u8]) -> Option<DatabaseDef> {
        let mut r = R(b, 0);
        if r.u8()? != DATABASE_RECORD {
            return None;
        }
        Some(DatabaseDef {
            oid: r.u32()?,
            name: r.str()?,
            owner: r.u32()?,
            is_template: r.b()?,
            allow_conn: r.b()?,
            conn_limit: r.u32()? as i32,
            settings: {
                let n = r.u32()? as usize;
                let mut v = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    v.push((r.str()?, r.str()?));
                }
                v
            },
        })
    }
}

/// First byte of a database record.
const DATABASE_RECORD: u8 = b'D';

/// First byte of an enum type record.
const ENUM_RECORD: u8 = b'E';

fn serialize_enum(e: &crate::enums::EnumDef) -> Vec<u8> {
    let mut w = W(vec![ENUM_RECORD]);
    w.u32(e.oid);
    w.str(&e.name);
    w.u32(e.namespace);
    w.u32(e.owner);
    w.u32(e.labels.len() as u32);
    for l in &e.labels {
        w.u32(l.oid);
        w.u32(l.sort.to_bits());
        w.str(&l.name);
    }
    w.u32(e.array_oid);
    w.0
}

fn deserialize_enum(b: &[u8]) -> Option<crate::enums::EnumDef> {
    let mut r = R(b, 0);
    if r.u8()? != ENUM_RECORD {
        return None;
    }
    let (oid, name, namespace, owner) = (r.u32()?, r.str()?, r.u32()?, r.u32()?);
    let n = r.u32()? as usize;
    let mut labels = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        labels.push(crate::enums::EnumLabel {
            oid: r.u32()?,
            sort: f32::from_bits(r.u32()?),
            name: r.str()?,
        });
    }
    let array_oid = if r.1 < r.0.len() { r.u32()? } else { 0 };
    Some(crate::enums::EnumDef {
        oid,
        name,
        namespace,
        owner,
        labels,
        array_oid,
    })
}

/// The built-in schemas: (OID, name).
pub const BUILTIN_SCHEMAS: [(u32, &str); 3] = [
    (NS_PG_CATALOG, "pg_catalog"),
    (NS_PUBLIC, "public"),
    (NS_INFORMATION_SCHEMA, "information_schema"),
];

/// First byte of a schema record.
const SCHEMA_RECORD: u8 = b'S';
/// First byte of a sequence record.
const SEQUENCE_RECORD: u8 = b'Q';
/// First byte of a view record.
const VIEW_RECORD: u8 = b'V';
/// First byte of a role record in the catalog heap.
const ROLE_RECORD: u8 = b'R';
/// First byte of a schema-privileges record.
const NAMESPACE_RECORD: u8 = b'N';
/// Marks the owner/ACL extension after a table definition.
const TABLE_ACL_EXT: u8 = b'A';
/// Marks the CHECK constraints after the owner/ACL extension.
const TABLE_CHECK_EXT: u8 = b'K';
/// Marks the foreign keys.
const TABLE_FK_EXT: u8 = b'F';
/// Marks the comments.
const TABLE_COMMENT_EXT: u8 = b'D';
/// Marks the expression keys and predicates of indexes.
const TABLE_INDEX_EXPR_EXT: u8 = b'X';
/// Marks the identity columns.
const TABLE_IDENTITY_EXT: u8 = b'I';

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
        w.0.push(TABLE_ACL_EXT);
        w.u32(self.owner);
        w.b(self.acl.is_some());
        if let Some(acl) = &self.acl {
            write_acl(&mut w, acl);
        }
        if !self.checks.is_empty() {
            w.0.push(TABLE_CHECK_EXT);
            w.u32(self.checks.len() as u32);
            for (n, e) in &self.checks {
                w.str(n);
                w.str(e);
            }
        }
        let special: Vec<(usize, &IndexDef)> = self
            .indexes
            .iter()
            .enumerate()
            .filter(|(_, i)| !i.exprs.is_empty() || i.predicate.is_some())
            .collect();
        if !special.is_empty() {
            w.0.push(TABLE_INDEX_EXPR_EXT);
            w.u32(special.len() as u32);
            for (at, ix) in special {
                w.u32(at as u32);
                w.u32(ix.exprs.len() as u32);
                for e in &ix.exprs {
                    w.str(e);
                }
                w.b(ix.predicate.is_some());
                if let Some(p) = &ix.predicate {
                    w.str(p);
                }
            }
        }
        if !self.comments.is_empty() {
            w.0.push(TABLE_COMMENT_EXT);
            w.u32(self.comments.len() as u32);
            for (k, c) in &self.comments {
                w.u32(*k as u32);
                w.str(c);
            }
        }
        if !self.fks.is_empty() {
            w.0.push(TABLE_FK_EXT);
            w.u32(self.fks.len() as u32);
            for f in &self.fks {
                w.str(&f.name);
                w.u32(f.cols.len() as u32);
                for c in &f.cols {
                    w.u32(*c as u32);
                }
                w.u32(f.table);
                w.u32(f.ref_cols.len() as u32);
                for c in &f.ref_cols {
                    w.u32(*c as u32);
                }
                w.0.push(fk_action_code(f.on_delete));
                w.0.push(fk_action_code(f.on_update));
            }
        }
        let identities: Vec<(usize, Identity)> = self
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.identity?)))
            .collect();
        if !identities.is_empty() {
            w.0.push(TABLE_IDENTITY_EXT);
            w.u32(identities.len() as u32);
            for (i, k) in identities {
                w.u32(i as u32);
                w.0.push(k.code().as_bytes()[0]);
            }
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
                identity: None,
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
                exprs: vec![],
                predicate: None,
                unique,
                primary,
            });
        }
        // Definitions written before roles existed end here.
        let (owner, acl) = if r.1 < r.0.len() {
            if r.u8()? != TABLE_ACL_EXT {
                return None;
            }
            let owner = r.u32()?;
            let acl = if r.b()? {
                Some(read_acl(&mut r)?)
            } else {
                None
            };
            (owner, acl)
        } else {
            (BOOTSTRAP_SUPERUSER, None)
        };
        let mut checks = Vec::new();
        let mut fks = Vec::new();
        let mut comments = Vec::new();
        while r.1 < r.0.len() {
            match r.u8()? {
                TABLE_COMMENT_EXT => {
                    let n = r.u32()? as usize;
                    for _ in 0..n.min(1 << 16) {
                        comments.push((r.u32()? as i32, r.str()?));
                    }
                }
                TABLE_INDEX_EXPR_EXT => {
                    let n = r.u32()? as usize;
                    for _ in 0..n.min(1 << 16) {
                        let at = r.u32()? as usize;
                        let k = r.u32()? as usize;
                        let mut exprs = Vec::with_capacity(k.min(64));
                        for _ in 0..k {
                            exprs.push(r.str()?);
                        }
                        let predicate = if r.b()? { Some(r.str()?) } else { None };
                        let ix = indexes.get_mut(at)?;
                        ix.exprs = exprs;
                        ix.predicate = predicate;
                    }
                }
                TABLE_CHECK_EXT => {
                    let n = r.u32()? as usize;
                    for _ in 0..n.min(1 << 16) {
                        checks.push((r.str()?, r.str()?));
                    }
                }
                TABLE_FK_EXT => {
                    let n = r.u32()? as usize;
                    for _ in 0..n.min(1 << 16) {
                        let name = r.str()?;
                        let k = r.u32()? as usize;
                        let mut cols = Vec::with_capacity(k.min(64));
                        for _ in 0..k {
                            cols.push(r.u32()? as usize);
                        }
                        let table = r.u32()?;
                        let k = r.u32()? as usize;
                        let mut ref_cols = Vec::with_capacity(k.min(64));
                        for _ in 0..k {
                            ref_cols.push(r.u32()? as usize);
                        }
                        let on_delete = fk_action(r.u8()?)?;
                        let on_update = fk_action(r.u8()?)?;
                        fks.push(ForeignKey {
                            name,
                            cols,
                            table,
                            ref_cols,
                            on_delete,
                            on_update,
                        });
                    }
                }
                TABLE_IDENTITY_EXT => {
                    let n = r.u32()? as usize;
                    for _ in 0..n.min(1 << 16) {
                        let at = r.u32()? as usize;
                        let k = match r.u8()? {
                            b'a' => Identity::Always,
                            b'd' => Identity::ByDefault,
                            _ => return None,
                        };
                        columns.get_mut(at)?.identity = Some(k);
                    }
                }
                _ => return None,
            }
        }
        Some(TableDef {
            oid,
            name,
            namespace,
            filenode,
            columns,
            indexes,
            owner,
            acl,
            checks,
            fks,
            comments,
        })
    }
}

/// A consistent set of table definitions, roles and schema privileges.
#[derive(Default, Debug)]
pub struct Schema {
    pub tables: Vec<Arc<TableDef>>,
    /// Stored roles (the bootstrap superuser is added unless stored).
    pub roles: Vec<Arc<RoleDef>>,
    pub namespace_acls: Vec<NamespaceAcl>,
    pub views: Vec<Arc<ViewDef>>,
    view_tids: HashMap<u32, Tid>,
    pub sequences: Vec<Arc<SequenceDef>>,
    seq_tids: HashMap<u32, Tid>,
    /// Schemas made by CREATE SCHEMA.
    pub schemas: Vec<Arc<SchemaDef>>,
    schema_tids: HashMap<u32, Tid>,
    /// Enum types, and the same indexed for values (see `enums::set`).
    pub enums: Vec<Arc<crate::enums::EnumDef>>,
    enum_tids: HashMap<u32, Tid>,
    pub enum_registry: Option<Arc<crate::enums::Registry>>,
    /// Every database (built-in ones added unless stored).
    pub databases: Vec<Arc<DatabaseDef>>,
    db_tids: HashMap<u32, Tid>,
    /// The database this schema shows (its objects only), or 0 for the
    /// whole cluster.
    pub database: u32,
    by_name: HashMap<(u32, String), usize>,
    tids: HashMap<u32, Tid>,
    /// Catalog rows of roles (by OID) and schema ACLs (by namespace OID).
    role_tids: HashMap<u32, Tid>,
    ns_tids: HashMap<u32, Tid>,
}

impl Schema {
    /// The built-in schemas this schema shows: pg_catalog,
    /// information_schema and its database's built-in `public`.
    fn builtin_namespaces(&self) -> impl Iterator<Item = (u32, &'static str)> + '_ {
        BUILTIN_SCHEMAS
            .iter()
            .copied()
            .filter(|(o, _)| *o != NS_PUBLIC)
            .chain(
                BUILTIN_DATABASES
                    .iter()
                    .filter(|d| self.database == 0 || d.0 == self.database)
                    .filter_map(|d| builtin_public(d.0))
                    .map(|o| (o, "public")),
            )
    }
    /// A schema's OID by name (built-in or made by CREATE SCHEMA).
    pub fn namespace_oid(&self, name: &str) -> Option<u32> {
        self.builtin_namespaces()
            .find(|(_, n)| *n == name)
            .map(|(o, _)| o)
            .or_else(|| self.schemas.iter().find(|s| s.name == name).map(|s| s.oid))
    }
    /// The built-in and created schemas this schema shows: (OID, name).
    pub fn namespaces(&self) -> Vec<(u32, String)> {
        let mut v: Vec<(u32, String)> = self
            .builtin_namespaces()
            .map(|(o, n)| (o, n.to_string()))
            .collect();
        v.extend(self.schemas.iter().map(|s| (s.oid, s.name.clone())));
        v
    }
    /// The database a schema belongs to (0 for pg_catalog and
    /// information_schema, which every database shows).
    pub fn namespace_database(&self, ns: u32) -> u32 {
        if ns == NS_PG_CATALOG || ns == NS_INFORMATION_SCHEMA {
            return 0;
        }
        builtin_public_db(ns)
            .or_else(|| {
                self.schemas
                    .iter()
                    .find(|s| s.oid == ns)
                    .map(|s| s.database)
            })
            .unwrap_or(0)
    }
    pub fn database_by_name(&self, name: &str) -> Option<&Arc<DatabaseDef>> {
        self.databases.iter().find(|d| d.name == name)
    }
    pub fn database_by_oid(&self, oid: u32) -> Option<&Arc<DatabaseDef>> {
        self.databases.iter().find(|d| d.oid == oid)
    }
    /// The name of the database this schema shows.
    pub fn database_name(&self) -> String {
        self.database_by_oid(self.database)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "postgres".into())
    }
    /// The owner of the database this schema shows (who is
    /// pg_database_owner here).
    pub fn database_owner(&self) -> u32 {
        self.database_by_oid(self.database)
            .map(|d| d.owner)
            .unwrap_or(BOOTSTRAP_SUPERUSER)
    }
    /// Whether a schema is a `public` made for a database by CREATE
    /// DATABASE or built in: owned by pg_database_owner, with its default
    /// privileges.
    fn is_public(&self, ns: u32) -> bool {
        builtin_public_db(ns).is_some()
            || self
                .schemas
                .iter()
                .any(|s| s.oid == ns && s.name == "public" && s.owner == PG_DATABASE_OWNER)
    }

    /// This schema narrowed to one database's objects (roles and the list
    /// of databases stay whole).
    pub fn for_database(&self, db: u32) -> Schema {
        let mine = |ns: u32| {
            let d = self.namespace_database(ns);
            d == db || d == 0
        };
        let schemas: Vec<Arc<SchemaDef>> = self
            .schemas
            .iter()
            .filter(|s| s.database == db)
            .cloned()
            .collect();
        let tables: Vec<Arc<TableDef>> = self
            .tables
            .iter()
            .filter(|t| mine(t.namespace))
            .cloned()
            .collect();
        let by_name = tables
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.namespace, t.name.clone()), i))
            .collect();
        let enums: Vec<_> = self
            .enums
            .iter()
            .filter(|e| mine(e.namespace))
            .cloned()
            .collect();
        Schema {
            tables,
            roles: self.roles.clone(),
            namespace_acls: self
                .namespace_acls
                .iter()
                .filter(|n| mine(n.namespace))
                .cloned()
                .collect(),
            views: self
                .views
                .iter()
                .filter(|v| mine(v.namespace))
                .cloned()
                .collect(),
            view_tids: self.view_tids.clone(),
            sequences: self
                .sequences
                .iter()
                .filter(|v| mine(v.namespace))
                .cloned()
                .collect(),
            seq_tids: self.seq_tids.clone(),
            schemas,
            schema_tids: self.schema_tids.clone(),
            enum_registry: (!enums.is_empty())
                .then(|| Arc::new(crate::enums::Registry::new(enums.clone()))),
            enums,
            enum_tids: self.enum_tids.clone(),
            databases: self.databases.clone(),
            db_tids: self.db_tids.clone(),
            database: db,
            by_name,
            tids: self.tids.clone(),
            role_tids: self.role_tids.clone(),
            ns_tids: self.ns_tids.clone(),
        }
    }
    /// A schema's name by OID.
    pub fn namespace_name(&self, oid: u32) -> String {
        BUILTIN_SCHEMAS
            .iter()
            .copied()
            .chain([
                (NS_PUBLIC_TEMPLATE1, "public"),
                (NS_PUBLIC_TEMPLATE0, "public"),
            ])
            .find(|(o, _)| *o == oid)
            .map(|(_, n)| n.to_string())
            .or_else(|| {
                self.schemas
                    .iter()
                    .find(|s| s.oid == oid)
                    .map(|s| s.name.clone())
            })
            .unwrap_or_else(|| oid.to_string())
    }
    pub fn sequence(&self, namespace: u32, name: &str) -> Option<&Arc<SequenceDef>> {
        self.sequences
            .iter()
            .find(|v| v.namespace == namespace && v.name == name)
    }
    pub fn view(&self, namespace: u32, name: &str) -> Option<&Arc<ViewDef>> {
        self.views
            .iter()
            .find(|v| v.namespace == namespace && v.name == name)
    }
    pub fn role(&self, name: &str) -> Option<&Arc<RoleDef>> {
        self.roles.iter().find(|r| r.name == name)
    }
    pub fn role_by_oid(&self, oid: u32) -> Option<&Arc<RoleDef>> {
        self.roles.iter().find(|r| r.oid == oid)
    }
    /// A role's name, or its OID as text if it is gone.
    pub fn role_name(&self, oid: u32) -> String {
        self.role_by_oid(oid)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| oid.to_string())
    }
    /// A schema's ACL (its default when none is stored).
    pub fn namespace_acl(&self, namespace: u32) -> Vec<AclItem> {
        self.namespace_acls
            .iter()
            .find(|n| n.namespace == namespace)
            .map(|n| n.acl.clone())
            .unwrap_or_else(|| match self.schemas.iter().find(|d| d.oid == namespace) {
                Some(_) if self.is_public(namespace) => NamespaceAcl::default_for(NS_PUBLIC),
                Some(d) => vec![AclItem {
                    grantee: d.owner,
                    grantor: d.owner,
                    privs: privs::ALL_SCHEMA,
                }],
                None => NamespaceAcl::default_for(namespace),
            })
    }
    /// Whether a stored schema ACL exists (pg_namespace.nspacl is NULL
    /// until then).
    pub fn namespace_acl_stored(&self, namespace: u32) -> bool {
        self.namespace_acls.iter().any(|n| n.namespace == namespace)
    }
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
    /// Each database's narrowed schema, by database OID: (version, schema).
    db_cache: RwLock<HashMap<u32, (u64, Arc<Schema>)>>,
}

impl Catalog {
    pub fn new(st: Arc<Storage>) -> Result<Catalog> {
        st.create_heap(CATALOG_REL)?;
        Ok(Catalog {
            st,
            version: AtomicU64::new(1),
            cache: RwLock::new(None),
            db_cache: RwLock::new(HashMap::new()),
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
            match data.first() {
                Some(&ROLE_RECORD) => {
                    let r = RoleDef::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog role row".into()))?;
                    s.role_tids.insert(r.oid, tid);
                    s.roles.push(Arc::new(r));
                }
                Some(&SEQUENCE_RECORD) => {
                    let v = SequenceDef::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog sequence row".into()))?;
                    s.seq_tids.insert(v.oid, tid);
                    s.sequences.push(Arc::new(v));
                }
                Some(&ENUM_RECORD) => {
                    let v = deserialize_enum(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog enum row".into()))?;
                    s.enum_tids.insert(v.oid, tid);
                    s.enums.push(Arc::new(v));
                }
                Some(&DATABASE_RECORD) => {
                    let v = DatabaseDef::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog database row".into()))?;
                    s.db_tids.insert(v.oid, tid);
                    s.databases.push(Arc::new(v));
                }
                Some(&SCHEMA_RECORD) => {
                    let v = SchemaDef::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog schema row".into()))?;
                    s.schema_tids.insert(v.oid, tid);
                    s.schemas.push(Arc::new(v));
                }
                Some(&VIEW_RECORD) => {
                    let v = ViewDef::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog view row".into()))?;
                    s.view_tids.insert(v.oid, tid);
                    s.views.push(Arc::new(v));
                }
                Some(&NAMESPACE_RECORD) => {
                    let n = NamespaceAcl::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog schema row".into()))?;
                    s.ns_tids.insert(n.namespace, tid);
                    s.namespace_acls.push(n);
                }
                _ => {
                    let def = TableDef::deserialize(&data)
                        .ok_or_else(|| StorageError::Corrupt("catalog row".into()))?;
                    s.by_name
                        .insert((def.namespace, def.name.clone()), s.tables.len());
                    s.tids.insert(def.oid, tid);
                    s.tables.push(Arc::new(def));
                }
            }
        }
        if !s.roles.iter().any(|r| r.oid == BOOTSTRAP_SUPERUSER) {
            s.roles.insert(0, Arc::new(RoleDef::bootstrap()));
        }
        for (oid, name) in PREDEFINED_ROLES {
            s.roles.push(Arc::new(RoleDef::predefined(oid, name)));
        }
        s.roles.sort_by_key(|r| r.oid);
        for (oid, name, tmpl, conn) in BUILTIN_DATABASES {
            if !s.databases.iter().any(|d| d.oid == oid) {
                s.databases
                    .push(Arc::new(DatabaseDef::builtin(oid, name, tmpl, conn)));
            }
        }
        s.databases.sort_by_key(|d| d.oid);
        if !s.enums.is_empty() {
            s.enum_registry = Some(Arc::new(crate::enums::Registry::new(s.enums.clone())));
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

    /// `schema` narrowed to one database.
    pub fn schema_for(&self, db: u32, snap: &Snapshot, own_changes: bool) -> Result<Arc<Schema>> {
        if own_changes {
            return Ok(Arc::new(self.load(snap)?.for_database(db)));
        }
        self.committed_schema_for(db)
    }

    /// The committed schema narrowed to one database (cached).
    pub fn committed_schema_for(&self, db: u32) -> Result<Arc<Schema>> {
        let v = self.version();
        if let Some((cv, s)) = self.db_cache.read().get(&db) {
            if *cv == v {
                return Ok(s.clone());
            }
        }
        let all = self.committed_schema()?;
        let s = Arc::new(all.for_database(db));
        let mut c = self.db_cache.write();
        if c.len() > 64 {
            c.retain(|_, (cv, _)| *cv == v);
        }
        c.insert(db, (v, s.clone()));
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

impl Catalog {
    /// Stores a role: a new one, or a new version of a stored one (the
    /// bootstrap superuser's first change inserts its row).
    pub fn put_role(&self, xid: Xid, cid: u32, schema: &Schema, r: &RoleDef) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.role_tids.get(&r.oid).copied(),
            &r.serialize(),
        )
    }

    pub fn put_view(&self, xid: Xid, cid: u32, schema: &Schema, v: &ViewDef) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.view_tids.get(&v.oid).copied(),
            &v.serialize(),
        )
    }

    pub fn put_sequence(&self, xid: Xid, cid: u32, schema: &Schema, v: &SequenceDef) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.seq_tids.get(&v.oid).copied(),
            &v.serialize(),
        )
    }

    pub fn put_enum(
        &self,
        xid: Xid,
        cid: u32,
        schema: &Schema,
        v: &crate::enums::EnumDef,
    ) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.enum_tids.get(&v.oid).copied(),
            &serialize_enum(v),
        )
    }

    pub fn delete_enum(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        match schema.enum_tids.get(&oid) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn put_schema(&self, xid: Xid, cid: u32, schema: &Schema, v: &SchemaDef) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.schema_tids.get(&v.oid).copied(),
            &v.serialize(),
        )
    }

    pub fn delete_schema(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        match schema.schema_tids.get(&oid) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn put_database(&self, xid: Xid, cid: u32, schema: &Schema, v: &DatabaseDef) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.db_tids.get(&v.oid).copied(),
            &v.serialize(),
        )
    }

    /// Deletes a database's row (its objects are deleted one by one by
    /// the caller). A built-in database has no row to delete.
    pub fn delete_database(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        match schema.db_tids.get(&oid) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn delete_namespace_acl(&self, xid: Xid, cid: u32, schema: &Schema, ns: u32) -> Result<()> {
        match schema.ns_tids.get(&ns) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn delete_sequence(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        match schema.seq_tids.get(&oid) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn delete_view(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        match schema.view_tids.get(&oid) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn delete_role(&self, xid: Xid, cid: u32, schema: &Schema, oid: u32) -> Result<()> {
        match schema.role_tids.get(&oid) {
            Some(tid) => self.delete_row(xid, cid, *tid),
            None => Ok(()),
        }
    }

    pub fn put_namespace_acl(
        &self,
        xid: Xid,
        cid: u32,
        schema: &Schema,
        n: &NamespaceAcl,
    ) -> Result<()> {
        self.put_row(
            xid,
            cid,
            schema.ns_tids.get(&n.namespace).copied(),
            &n.serialize(),
        )
    }

    fn put_row(&self, xid: Xid, cid: u32, old: Option<Tid>, data: &[u8]) -> Result<()> {
        match old {
            None => {
                self.st.heap_insert(CATALOG_REL, xid, cid, data)?;
                Ok(())
            }
            Some(tid) => {
                match self.st.heap_update(
                    CATALOG_REL,
                    tid,
                    &writer(xid, cid, &[xid]),
                    data,
                    false,
                )? {
                    WriteOutcome::Ok(_) => Ok(()),
                    _ => Err(StorageError::SerializationFailure),
                }
            }
        }
    }

    fn delete_row(&self, xid: Xid, cid: u32, tid: Tid) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_def_keeps_identity_columns() {
        let col = |name: &str, identity: Option<Identity>| ColumnDef {
            name: name.into(),
            ty: DataType::Int8,
            not_null: identity.is_some(),
            default: identity.map(|_| format!("nextval('t_{name}_seq'::regclass)")),
            identity,
        };
        let def = TableDef {
            oid: 16384,
            name: "t".into(),
            namespace: NS_PUBLIC,
            filenode: 16385,
            columns: vec![
                col("a", Some(Identity::Always)),
                col("b", None),
                col("c", Some(Identity::ByDefault)),
            ],
            indexes: vec![],
            owner: BOOTSTRAP_SUPERUSER,
            acl: None,
            checks: vec![],
            fks: vec![],
            comments: vec![],
        };
        let back = TableDef::deserialize(&def.serialize()).expect("decodes");
        assert_eq!(back, def);
        let mut plain = def.clone();
        plain.columns.iter_mut().for_each(|c| c.identity = None);
        assert_eq!(TableDef::deserialize(&plain.serialize()), Some(plain));
    }
}
