//! CREATE, ALTER and DROP DATABASE. A database is a set of schemas in the
//! one catalog: sessions see only their own database's objects (see
//! `Schema::for_database`), while roles, the WAL and the buffer pool are
//! the cluster's, as in PostgreSQL.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use basalt_catalog::store::{DatabaseDef, SchemaDef, PG_DATABASE_OWNER};
use basalt_catalog::Schema;
use basalt_parser::{AlterDatabase, DatabaseDdl};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn done(tag: &str, notices: Vec<String>) -> Result<ExecResult> {
    Ok(ExecResult {
        tag: tag.into(),
        notices,
        ..Default::default()
    })
}

fn parse_bool_option(name: &str, v: &str) -> Result<bool> {
    basalt_catalog::cast::parse_bool(v)
        .ok_or_else(|| ExecError::coded("22023", format!("{name} requires a Boolean value")))
}

fn parse_conn_limit(v: &str) -> Result<i32> {
    match v.parse::<i32>() {
        Ok(n) if n >= -1 => Ok(n),
        Ok(n) => Err(ExecError::coded(
            "22023",
            format!("invalid connection limit: {n}"),
        )),
        Err(_) => Err(ExecError::coded(
            "22023",
            format!("invalid connection limit: {v}"),
        )),
    }
}

fn missing(name: &str) -> ExecError {
    ExecError::coded("3D000", format!("database \"{name}\" does not exist"))
}

impl Session {
    pub(crate) fn database_ddl(&mut self, d: &DatabaseDdl) -> Result<ExecResult> {
        match d {
            DatabaseDdl::Create { name, options } => self.create_database(name, options),
            DatabaseDdl::Drop {
                name,
                if_exists,
                force,
            } => self.drop_database(name, *if_exists, *force),
            DatabaseDdl::Alter { name, action } => self.alter_database(name, action),
        }
    }

    fn create_database(&mut self, name: &str, options: &[(String, String)]) -> Result<ExecResult> {
        if self.in_transaction_block() {
            return Err(ExecError::ActiveSqlTransaction(
                "CREATE DATABASE cannot run inside a transaction block".into(),
            ));
        }
        let schema = self.schema()?;
        let me = schema.role_by_oid(self.current_role).cloned();
        let superuser = self.is_superuser()?;
        if !superuser && !me.as_ref().is_some_and(|r| r.createdb) {
            return Err(ExecError::denied("permission denied to create database"));
        }
        let mut def = DatabaseDef {
            oid: 0,
            name: name.to_string(),
            owner: self.current_role,
            is_template: false,
            allow_conn: true,
            conn_limit: -1,
            settings: vec![],
        };
        let mut template = "template1".to_string();
        for (k, v) in options {
            match k.as_str() {
                "owner" => {
                    if v != "default" {
                        def.owner = self.role_for_owner(&schema, v)?;
                    }
                }
                "template" => template = v.clone(),
                "encoding" => {
                    let e = v.to_lowercase().replace(['-', '_'], "");
                    if !matches!(e.as_str(), "utf8" | "unicode" | "default" | "6") {
                        return Err(ExecError::coded(
                            "0A000",
                            format!("encoding \"{v}\" is not supported: Basalt databases are UTF8"),
                        ));
                    }
                }
                "allow_connections" => def.allow_conn = parse_bool_option(k, v)?,
                "is_template" => def.is_template = parse_bool_option(k, v)?,
                "connection limit" => def.conn_limit = parse_conn_limit(v)?,
                "tablespace" => {
                    if v != "pg_default" && v != "default" {
                        return Err(ExecError::coded(
                            "42704",
                            format!("tablespace \"{v}\" does not exist"),
                        ));
                    }
                }
                // Collation and locale: Basalt compares text by bytes in
                // every database (pg_database shows C.UTF-8).
                "locale" | "lc_collate" | "lc_ctype" | "icu_locale" | "icu_rules"
                | "locale_provider" | "collation_version" | "strategy" | "oid" => {}
                other => {
                    return Err(ExecError::coded(
                        "42601",
                        format!("option \"{other}\" not recognized"),
                    ))
                }
            }
        }
        if schema.database_by_name(name).is_some() {
            return Err(ExecError::coded(
                "42P04",
                format!("database \"{name}\" already exists"),
            ));
        }
        let Some(tmpl) = schema.database_by_name(&template).cloned() else {
            return Err(ExecError::coded(
                "3D000",
                format!("template database \"{template}\" does not exist"),
            ));
        };
        if !tmpl.is_template && !superuser && tmpl.owner != self.current_role {
            return Err(ExecError::denied(format!(
                "permission denied to copy database \"{template}\""
            )));
        }
        // A new database starts as its template's copy; Basalt copies only
        // an empty template (its objects would need their files copied).
        let in_template = self.db.catalog.committed_schema_for(tmpl.oid)?;
        if !database_is_empty(&in_template) {
            return Err(ExecError::coded(
                "0A000",
                format!(
                    "template database \"{template}\" has objects in it; Basalt creates databases only from an empty template"
                ),
            ));
        }
        let others = self.sessions_in(tmpl.oid);
        if others > 0 {
            return Err(ExecError::Coded {
                code: "55006",
                msg: format!("source database \"{template}\" is being accessed by other users"),
                detail: Some(sessions_detail(others)),
            });
        }
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if schema.database_by_name(name).is_some() {
            return Err(ExecError::coded(
                "42P04",
                format!("database \"{name}\" already exists"),
            ));
        }
        def.oid = self.db.st.new_oid()?;
        let public = SchemaDef {
            oid: self.db.st.new_oid()?,
            name: "public".into(),
            owner: PG_DATABASE_OWNER,
            database: def.oid,
        };
        let cid = self.cid();
        self.db.catalog.put_database(xid, cid, &schema, &def)?;
        self.db.catalog.put_schema(xid, cid, &schema, &public)?;
        done("CREATE DATABASE", vec![])
    }

    /// A role named as a new owner: itself for a non-superuser.
    fn role_for_owner(&self, schema: &Schema, name: &str) -> Result<u32> {
        let oid = if name == "\u{1}current_user" || name == "current_user" {
            self.current_role
        } else {
            match schema.role(name) {
                Some(r) => r.oid,
                None => {
                    return Err(ExecError::coded(
                        "42704",
                        format!("role \"{name}\" does not exist"),
                    ))
                }
            }
        };
        if oid != self.current_role && !self.is_superuser()? {
            return Err(ExecError::denied(format!(
                "must be able to SET ROLE \"{}\"",
                schema.role_name(oid)
            )));
        }
        Ok(oid)
    }

    /// Sessions other than this one connected to a database.
    fn sessions_in(&self, db: u32) -> usize {
        self.db
            .registry
            .all()
            .iter()
            .filter(|b| b.pid != self.pid && b.database.load(Ordering::Relaxed) == db)
            .count()
    }

    /// Waits (up to 5 s, as PostgreSQL does) for other sessions to leave
    /// a database, terminating them first when `force`; 55006 if some stay.
    fn wait_for_sessions(&self, db: u32, name: &str, force: bool) -> Result<()> {
        if force {
            for b in self.db.registry.all() {
                if b.pid != self.pid && b.database.load(Ordering::Relaxed) == db {
                    b.raise(crate::activity::Interrupt::Terminate);
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let n = self.sessions_in(db);
            if n == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ExecError::Coded {
                    code: "55006",
                    msg: format!("database \"{name}\" is being accessed by other users"),
                    detail: Some(sessions_detail(n)),
                });
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(basalt_storage::StorageError::Cancelled.into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn drop_database(&mut self, name: &str, if_exists: bool, force: bool) -> Result<ExecResult> {
        if self.in_transaction_block() {
            return Err(ExecError::ActiveSqlTransaction(
                "DROP DATABASE cannot run inside a transaction block".into(),
            ));
        }
        let schema = self.schema()?;
        let Some(def) = schema.database_by_name(name).cloned() else {
            if if_exists {
                return done(
                    "DROP DATABASE",
                    vec![format!("database \"{name}\" does not exist, skipping")],
                );
            }
            return Err(missing(name));
        };
        if def.owner != self.current_role && !self.is_superuser()? {
            return Err(ExecError::denied(format!(
                "must be owner of database {name}"
            )));
        }
        if def.is_template {
            return Err(ExecError::coded("42809", "cannot drop a template database"));
        }
        if def.oid == self.database {
            return Err(ExecError::coded(
                "55006",
                "cannot drop the currently open database",
            ));
        }
        if def.oid == basalt_catalog::store::DATABASE_OID {
            return Err(ExecError::coded(
                "0A000",
                "dropping the built-in database \"postgres\" is not supported",
            ));
        }
        self.wait_for_sessions(def.oid, name, force)?;
        let xid = self.ddl_lock()?;
        let all = self
            .db
            .catalog
            .schema_for(def.oid, &self.snapshot(), true)?;
        let cid = self.cid();
        let cat = &self.db.catalog;
        for v in &all.views {
            cat.delete_view(xid, cid, &all, v.oid)?;
        }
        for q in &all.sequences {
            cat.delete_sequence(xid, cid, &all, q.oid)?;
        }
        for e in &all.enums {
            cat.delete_enum(xid, cid, &all, e.oid)?;
        }
        let mut files = Vec::new();
        for t in &all.tables {
            cat.delete_table(xid, cid, &all, t.oid)?;
            files.push(t.filenode);
            files.extend(t.indexes.iter().map(|i| i.filenode));
        }
        for s in &all.schemas {
            cat.delete_namespace_acl(xid, cid, &all, s.oid)?;
            cat.delete_schema(xid, cid, &all, s.oid)?;
        }
        cat.delete_database(xid, cid, &all, def.oid)?;
        self.txn
            .as_mut()
            .expect("in txn")
            .drop_on_commit
            .extend(files);
        done("DROP DATABASE", vec![])
    }

    fn alter_database(&mut self, name: &str, action: &AlterDatabase) -> Result<ExecResult> {
        let schema = self.schema()?;
        let Some(cur) = schema.database_by_name(name).cloned() else {
            return Err(missing(name));
        };
        let superuser = self.is_superuser()?;
        if cur.owner != self.current_role && !superuser {
            return Err(ExecError::denied(format!(
                "must be owner of database {name}"
            )));
        }
        let mut def = (*cur).clone();
        match action {
            AlterDatabase::Rename(to) => {
                if cur.oid == self.database {
                    return Err(ExecError::coded(
                        "0A000",
                        "current database cannot be renamed",
                    ));
                }
                if schema.database_by_name(to).is_some() {
                    return Err(ExecError::coded(
                        "42P04",
                        format!("database \"{to}\" already exists"),
                    ));
                }
                let me = schema.role_by_oid(self.current_role);
                if !superuser && !me.is_some_and(|r| r.createdb) {
                    return Err(ExecError::denied("permission denied to rename database"));
                }
                let n = self.sessions_in(cur.oid);
                if n > 0 {
                    return Err(ExecError::Coded {
                        code: "55006",
                        msg: format!("database \"{name}\" is being accessed by other users"),
                        detail: Some(sessions_detail(n)),
                    });
                }
                def.name = to.clone();
            }
            AlterDatabase::Owner(o) => def.owner = self.role_for_owner(&schema, o)?,
            AlterDatabase::Options(opts) => {
                for (k, v) in opts {
                    match k.as_str() {
                        "allow_connections" => def.allow_conn = parse_bool_option(k, v)?,
                        "is_template" => def.is_template = parse_bool_option(k, v)?,
                        "connection limit" => def.conn_limit = parse_conn_limit(v)?,
                        other => {
                            return Err(ExecError::coded(
                                "42601",
                                format!("option \"{other}\" not recognized"),
                            ))
                        }
                    }
                }
                if !def.allow_conn && def.oid == self.database {
                    return Err(ExecError::coded(
                        "0A000",
                        "cannot disallow connections for current database",
                    ));
                }
            }
            AlterDatabase::Set(k, v) => {
                let key = k.to_lowercase();
                match v {
                    None if key == "all" => def.settings.clear(),
                    None => def.settings.retain(|(n, _)| *n != key),
                    Some(v) => {
                        // Checked now, as PostgreSQL does, in a scratch session.
                        let mut probe = self.db.session();
                        probe.set_setting(&key, Some(v))?;
                        def.settings.retain(|(n, _)| *n != key);
                        def.settings.push((key, v.clone()));
                    }
                }
            }
        }
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        self.db
            .catalog
            .put_database(xid, self.cid(), &schema, &def)?;
        done("ALTER DATABASE", vec![])
    }

    /// The settings ALTER DATABASE ... SET gave this session's database,
    /// applied when a session connects (before its own startup options).
    pub fn apply_database_settings(&mut self) -> Vec<String> {
        let Ok(schema) = self.schema() else {
            return vec![];
        };
        let Some(d) = schema.database_by_oid(self.database).cloned() else {
            return vec![];
        };
        let mut warnings = vec![];
        for (k, v) in &d.settings {
            if let Err(e) = self.set_setting(k, Some(v)) {
                warnings.push(format!("invalid value for parameter \"{k}\": {e}"));
            }
        }
        warnings
    }

    /// 53300 when a database's connection limit is reached (superusers
    /// are not counted against it).
    pub fn check_connection_limit(&self) -> Result<()> {
        let schema = self.schema()?;
        let Some(d) = schema.database_by_oid(self.database) else {
            return Ok(());
        };
        if d.conn_limit >= 0
            && !self.is_superuser()?
            && self.sessions_in(d.oid) >= d.conn_limit as usize
        {
            return Err(ExecError::coded(
                "53300",
                format!("too many connections for database \"{}\"", d.name),
            ));
        }
        Ok(())
    }
}

fn sessions_detail(n: usize) -> String {
    if n == 1 {
        "There is 1 other session using the database.".into()
    } else {
        format!("There are {n} other sessions using the database.")
    }
}

/// Whether a database holds no objects but its `public` schema.
fn database_is_empty(s: &Schema) -> bool {
    s.tables.is_empty()
        && s.views.is_empty()
        && s.sequences.is_empty()
        && s.enums.is_empty()
        && s.schemas.iter().all(|d| d.name == "public")
}
