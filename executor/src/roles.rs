//! Roles and privileges: CREATE/ALTER/DROP ROLE, GRANT/REVOKE, ownership,
//! SET ROLE, and the checks every statement passes before it runs, with
//! PostgreSQL's rules and messages (42501 insufficient_privilege).
//!
//! A session has a session user (who logged in) and a current role (SET
//! ROLE). Superusers pass every check. A table's owner holds every privilege
//! on it; others hold what its ACL grants them or PUBLIC. Passwords are kept
//! only as SCRAM-SHA-256 verifiers.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use basalt_catalog::store::{acl_change, privs, NamespaceAcl, RoleDef, BOOTSTRAP_SUPERUSER};
use basalt_catalog::{Schema, TableDef};
use basalt_planner::{GrantTarget, Plan, RoleOptions, Statement};
use basalt_storage::TableLockMode;
use std::sync::Arc;

fn done(tag: &str) -> Result<ExecResult> {
    Ok(ExecResult {
        tag: tag.into(),
        ..Default::default()
    })
}

/// Whether `p` is an MD5 password hash as PostgreSQL stores them.
pub fn is_md5_secret(p: &str) -> bool {
    p.len() == 35
        && p.starts_with("md5")
        && p[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A password as stored: a SCRAM verifier, or with password_encryption =
/// md5 PostgreSQL's `md5` hash of password and role name (either kept as
/// given when it already is one, as pg_dumpall's output has them), never
/// the clear text.
fn verifier_of(p: &str, role: &str, md5: bool) -> Result<String> {
    if p.starts_with("SCRAM-SHA-256$") {
        crate::scram::Verifier::from_secret(p).map_err(|e| ExecError::coded("22023", e))?;
        return Ok(p.to_string());
    }
    if is_md5_secret(p) {
        return Ok(p.to_string());
    }
    if p.is_empty() {
        return Err(ExecError::coded("22023", "empty password is not allowed"));
    }
    if md5 {
        return Ok(format!(
            "md5{}",
            crate::funcs::md5_hex(format!("{p}{role}").as_bytes())
        ));
    }
    crate::scram::Verifier::from_password(p)
        .map(|v| v.to_pg_format())
        .map_err(ExecError::Internal)
}

impl Session {
    /// Sets who logged in (the server, after authentication).
    pub fn set_session_user(&mut self, oid: u32) {
        self.session_user = oid;
        self.current_role = oid;
        let name = self.session_user_name();
        let mut a = self.backend.activity.lock();
        a.user_oid = oid;
        a.user_name = name;
    }

    fn is_superuser_oid(schema: &Schema, oid: u32) -> bool {
        oid == BOOTSTRAP_SUPERUSER || schema.role_by_oid(oid).is_some_and(|r| r.superuser)
    }

    /// Whether the current role is a superuser.
    pub(crate) fn is_superuser(&self) -> Result<bool> {
        if self.current_role == BOOTSTRAP_SUPERUSER {
            return Ok(true);
        }
        Ok(Self::is_superuser_oid(&*self.schema()?, self.current_role))
    }

    pub(crate) fn require_superuser(&self, msg: &str) -> Result<()> {
        if self.is_superuser()? {
            Ok(())
        } else {
            Err(ExecError::denied(msg))
        }
    }

    /// The current role's name (current_user).
    pub fn current_user_name(&self) -> String {
        if self.current_role == BOOTSTRAP_SUPERUSER {
            return "postgres".into();
        }
        self.db
            .catalog
            .committed_schema()
            .map(|s| s.role_name(self.current_role))
            .unwrap_or_default()
    }

    pub fn session_user_name(&self) -> String {
        self.db
            .catalog
            .committed_schema()
            .map(|s| s.role_name(self.session_user))
            .unwrap_or_default()
    }

    /// Whether the current role holds all of `bits` on table `t`.
    fn has_table_privs(&self, schema: &Schema, t: &TableDef, bits: u32) -> bool {
        let me = self.current_role;
        if t.owner == me || Self::is_superuser_oid(schema, me) {
            return true;
        }
        let held = t
            .acl
            .iter()
            .flatten()
            .filter(|a| a.grantee == me || a.grantee == 0)
            .fold(0, |acc, a| acc | a.privs);
        held & bits == bits
    }

    fn check_table_privs(&self, schema: &Schema, t: &TableDef, bits: u32) -> Result<()> {
        if self.has_table_privs(schema, t, bits) {
            Ok(())
        } else {
            Err(ExecError::denied(format!(
                "permission denied for table {}",
                t.name
            )))
        }
    }

    /// Ownership (or superuser) for DDL on a table.
    pub(crate) fn check_owner(&self, schema: &Schema, t: &TableDef) -> Result<()> {
        if t.owner == self.current_role || Self::is_superuser_oid(schema, self.current_role) {
            Ok(())
        } else {
            Err(ExecError::denied(format!(
                "must be owner of table {}",
                t.name
            )))
        }
    }

    /// Whether the current role may VACUUM or ANALYZE a table (its owner
    /// or a superuser); others get a warning and the table is skipped.
    pub(crate) fn may_maintain(&self, t: &TableDef) -> Result<bool> {
        let schema = self.schema()?;
        Ok(t.owner == self.current_role || Self::is_superuser_oid(&schema, self.current_role))
    }

    fn check_schema(&self, schema: &Schema, ns: u32, bits: u32) -> Result<()> {
        let me = self.current_role;
        if Self::is_superuser_oid(schema, me) {
            return Ok(());
        }
        let db_owner = schema.database_owner();
        let held = schema
            .namespace_acl(ns)
            .iter()
            .filter(|a| {
                a.grantee == me
                    || a.grantee == 0
                    || (a.grantee == basalt_catalog::store::PG_DATABASE_OWNER && db_owner == me)
            })
            .fold(0, |acc, a| acc | a.privs);
        if held & bits == bits {
            Ok(())
        } else {
            Err(ExecError::denied(format!(
                "permission denied for schema {}",
                schema.namespace_name(ns)
            )))
        }
    }

    /// has_table_privilege([role,] table, 'SELECT[, ...]') and
    /// has_schema_privilege([role,] schema, 'USAGE'|'CREATE').
    pub(crate) fn has_privilege_fn(
        &self,
        name: &str,
        args: &[basalt_catalog::Value],
    ) -> Result<basalt_catalog::Value> {
        use basalt_catalog::Value;
        if args.iter().any(|a| a.is_null()) {
            return Ok(Value::Null);
        }
        let schema = self.schema()?;
        let (role, obj, what) = match args {
            [o, w] => (self.current_role, o, w),
            [r, o, w] => {
                let oid = match r {
                    Value::Text(n) => Self::role_named(&schema, n)?.oid,
                    v => v.as_i64().unwrap_or(0) as u32,
                };
                (oid, o, w)
            }
            _ => {
                return Err(ExecError::coded(
                    "42883",
                    format!("function {name} does not exist"),
                ))
            }
        };
        let what = match what {
            Value::Text(t) => t.clone(),
            _ => return Ok(Value::Null),
        };
        let mut bits = 0;
        for given in what.split(',') {
            let upper = given.trim().to_uppercase();
            let given = given.trim();
            bits |= match upper.trim_end_matches(" WITH GRANT OPTION").trim() {
                "SELECT" => privs::SELECT,
                "INSERT" => privs::INSERT,
                "UPDATE" => privs::UPDATE,
                "DELETE" => privs::DELETE,
                "TRUNCATE" => privs::TRUNCATE,
                "REFERENCES" => privs::REFERENCES,
                "TRIGGER" => privs::TRIGGER,
                "USAGE" => privs::USAGE,
                "CREATE" => privs::CREATE,
                _ => {
                    return Err(ExecError::coded(
                        "22023",
                        format!("unrecognized privilege type: \"{given}\""),
                    ))
                }
            };
        }
        let superuser = Self::is_superuser_oid(&schema, role);
        let db_owner = schema.database_owner();
        let held = |acl: &[basalt_catalog::store::AclItem]| {
            acl.iter()
                .filter(|a| {
                    a.grantee == role
                        || a.grantee == 0
                        || (a.grantee == basalt_catalog::store::PG_DATABASE_OWNER
                            && db_owner == role)
                })
                .fold(0, |acc, a| acc | a.privs)
        };
        if name == "has_schema_privilege" {
            let ns = match obj {
                Value::Text(n) => match schema.namespace_oid(n) {
                    Some(o) => o,
                    None => {
                        return Err(ExecError::coded(
                            "3F000",
                            format!("schema \"{n}\" does not exist"),
                        ))
                    }
                },
                v => v.as_i64().unwrap_or(0) as u32,
            };
            // pg_catalog and information_schema are USAGE for everyone.
            let acl_bits = if ns != basalt_catalog::store::NS_PG_CATALOG
                && ns != basalt_catalog::store::NS_INFORMATION_SCHEMA
            {
                held(&schema.namespace_acl(ns))
            } else {
                privs::USAGE
            };
            // Several privileges listed: true if any is held, as in PostgreSQL.
            return Ok(Value::Bool(superuser || acl_bits & bits != 0));
        }
        let t = match obj {
            Value::Text(n) => self.find_named(&schema, n, |ns, x| schema.table(ns, x).cloned()),
            v => schema
                .table_by_oid(v.as_i64().unwrap_or(-1) as u32)
                .cloned(),
        };
        let Some(t) = t else {
            // System views are readable by everyone.
            return match obj {
                Value::Text(n)
                    if basalt_catalog::system::columns(n.rsplit('.').next().unwrap_or(n))
                        .is_some() =>
                {
                    Ok(Value::Bool(bits & privs::SELECT != 0 || superuser))
                }
                Value::Text(n) => Err(ExecError::Plan(basalt_planner::PlanError::UndefinedTable(
                    n.clone(),
                ))),
                _ => Ok(Value::Null),
            };
        };
        let ok = superuser || t.owner == role || held(t.acl.as_deref().unwrap_or(&[])) & bits != 0;
        Ok(Value::Bool(ok))
    }

    /// The privileges a statement needs, checked before it takes its locks.
    pub(crate) fn check_privileges(&self, stmt: &Statement) -> Result<()> {
        if self.current_role == BOOTSTRAP_SUPERUSER {
            return Ok(());
        }
        let schema = self.schema()?;
        if Self::is_superuser_oid(&schema, self.current_role) {
            return Ok(());
        }
        use privs::*;
        let reads = |plan: &Plan| -> Result<()> {
            let mut v = Vec::new();
            crate::locks::plan_tables(plan, &mut v);
            for (t, mode) in v {
                let bits = if mode == TableLockMode::RowShare {
                    SELECT | UPDATE
                } else {
                    SELECT
                };
                self.check_table_privs(&schema, t, bits)?;
            }
            Ok(())
        };
        match stmt {
            Statement::Explain { stmt, .. } => self.check_privileges(stmt),
            Statement::Query(q) => reads(&q.plan),
            Statement::CopyTo { query, .. } => reads(&query.plan),
            Statement::Insert {
                table,
                source,
                returning,
                on_conflict,
            } => {
                let mut bits = if returning.is_some() {
                    INSERT | SELECT
                } else {
                    INSERT
                };
                if on_conflict.as_ref().is_some_and(|o| o.update.is_some()) {
                    bits |= UPDATE;
                }
                self.check_table_privs(&schema, table, bits)?;
                reads(source)
            }
            Statement::Update {
                target, returning, ..
            } => {
                let select = target.pred.is_some() || returning.is_some();
                self.check_table_privs(
                    &schema,
                    &target.table,
                    UPDATE | if select { SELECT } else { 0 },
                )?;
                target.from.as_ref().map_or(Ok(()), |f| reads(&f.plan))
            }
            Statement::Delete { target, returning } => {
                let select = target.pred.is_some() || returning.is_some();
                self.check_table_privs(
                    &schema,
                    &target.table,
                    DELETE | if select { SELECT } else { 0 },
                )?;
                target.from.as_ref().map_or(Ok(()), |f| reads(&f.plan))
            }
            Statement::CopyFrom { table, .. } => self.check_table_privs(&schema, table, INSERT),
            Statement::Truncate { tables } => tables
                .iter()
                .try_for_each(|t| self.check_table_privs(&schema, t, TRUNCATE)),
            Statement::CreateTable { def, .. } => self.check_schema(&schema, def.namespace, CREATE),
            Statement::CreateView { namespace, .. } => {
                self.check_schema(&schema, *namespace, CREATE)
            }
            Statement::CreateSequence { def, .. } => {
                self.check_schema(&schema, def.namespace, CREATE)
            }
            Statement::DropTable { tables, .. } => {
                tables.iter().try_for_each(|t| self.check_owner(&schema, t))
            }
            Statement::AlterTable { table, .. } => self.check_owner(&schema, table),
            Statement::AddIndex { table, .. }
            | Statement::DropIndex { table, .. }
            | Statement::Reindex { table, .. }
            | Statement::AlterOwner { table, .. } => self.check_owner(&schema, table),
            Statement::LockTable { tables, mode, .. } => {
                for t in tables {
                    let ok = if *mode == 1 {
                        self.has_table_privs(&schema, t, SELECT)
                    } else {
                        [UPDATE, DELETE, TRUNCATE]
                            .iter()
                            .any(|b| self.has_table_privs(&schema, t, *b))
                    };
                    if !ok {
                        return Err(ExecError::denied(format!(
                            "permission denied for table {}",
                            t.name
                        )));
                    }
                }
                Ok(())
            }
            Statement::Checkpoint => Err(ExecError::denied(
                "must be superuser or have privileges of pg_checkpoint to do CHECKPOINT",
            )),
            Statement::Backup { .. } => Err(ExecError::denied(
                "must be superuser to run BACKUP DATABASE",
            )),
            _ => Ok(()),
        }
    }

    /// The role named, with the bootstrap superuser's defaults.
    fn role_named(schema: &Schema, name: &str) -> Result<Arc<RoleDef>> {
        schema
            .role(name)
            .cloned()
            .ok_or_else(|| ExecError::coded("42704", format!("role \"{name}\" does not exist")))
    }

    fn apply(&self, r: &mut RoleDef, o: &RoleOptions) -> Result<()> {
        if let Some(v) = o.superuser {
            r.superuser = v;
        }
        if let Some(v) = o.login {
            r.login = v;
        }
        if let Some(v) = o.createdb {
            r.createdb = v;
        }
        if let Some(v) = o.createrole {
            r.createrole = v;
        }
        if let Some(v) = o.inherit {
            r.inherit = v;
        }
        if let Some(v) = o.connlimit {
            r.connlimit = v;
        }
        if let Some(p) = &o.password {
            let md5 = self
                .setting("password_encryption")
                .is_some_and(|e| e.eq_ignore_ascii_case("md5"));
            r.password = p
                .as_deref()
                .map(|p| verifier_of(p, &r.name, md5))
                .transpose()?;
        }
        Ok(())
    }

    /// CREATE ROLE needs CREATEROLE (superuser to make a superuser).
    fn check_role_admin(&self, schema: &Schema, superuser_target: bool, verb: &str) -> Result<()> {
        let me = self.current_role;
        if Self::is_superuser_oid(schema, me) {
            return Ok(());
        }
        if superuser_target {
            return Err(ExecError::denied(format!(
                "must be superuser to {verb} superusers"
            )));
        }
        if schema.role_by_oid(me).is_some_and(|r| r.createrole) {
            return Ok(());
        }
        Err(ExecError::denied(format!(
            "permission denied to {verb} role"
        )))
    }

    pub(crate) fn create_role(
        &mut self,
        name: &str,
        o: &RoleOptions,
        if_not_exists: bool,
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        self.check_role_admin(&schema, o.superuser == Some(true), "create")?;
        if schema.role(name).is_some() {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: "CREATE ROLE".into(),
                    notices: vec![format!("role \"{name}\" already exists, skipping")],
                    ..Default::default()
                });
            }
            return Err(ExecError::coded(
                "42710",
                format!("role \"{name}\" already exists"),
            ));
        }
        if name.starts_with("pg_") {
            return Err(ExecError::coded(
                "42939",
                format!("role name \"{name}\" is reserved"),
            ));
        }
        let mut r = RoleDef {
            oid: self.db.st.new_oid()?,
            name: name.to_string(),
            superuser: false,
            login: false,
            createdb: false,
            createrole: false,
            inherit: true,
            connlimit: -1,
            password: None,
        };
        self.apply(&mut r, o)?;
        self.db.catalog.put_role(xid, self.cid(), &schema, &r)?;
        tracing::info!(role = %name, by = %self.current_user_name(), "role created");
        done("CREATE ROLE")
    }

    pub(crate) fn alter_role(
        &mut self,
        name: &str,
        o: &RoleOptions,
        rename: Option<&str>,
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let old = Self::role_named(&schema, name)?;
        let own_password_only = old.oid == self.current_role
            && rename.is_none()
            && o == &RoleOptions {
                password: o.password.clone(),
                ..Default::default()
            };
        if !own_password_only {
            self.check_role_admin(&schema, old.superuser || o.superuser == Some(true), "alter")?;
        }
        let mut r = (*old).clone();
        if old.oid == BOOTSTRAP_SUPERUSER && o.superuser == Some(false) {
            return Err(ExecError::denied(
                "permission denied to alter role\nDETAIL: The bootstrap user must have the SUPERUSER attribute.",
            ));
        }
        self.apply(&mut r, o)?;
        let mut notices = vec![];
        let tag = if let Some(new) = rename {
            if schema.role(new).is_some() {
                return Err(ExecError::coded(
                    "42710",
                    format!("role \"{new}\" already exists"),
                ));
            }
            if old.oid == self.session_user {
                return Err(ExecError::coded("0A000", "session user cannot be renamed"));
            }
            r.name = new.to_string();
            // The MD5 hash salts with the name: it no longer matches.
            if r.password.as_deref().is_some_and(is_md5_secret) {
                r.password = None;
                notices.push("MD5 password cleared because of role rename".to_string());
            }
            "ALTER ROLE"
        } else {
            "ALTER ROLE"
        };
        self.db.catalog.put_role(xid, self.cid(), &schema, &r)?;
        tracing::info!(role = %name, by = %self.current_user_name(), "role altered");
        let mut res = done(tag)?;
        res.notices = notices;
        Ok(res)
    }

    pub(crate) fn drop_role(&mut self, names: &[String], if_exists: bool) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let mut notices = Vec::new();
        for name in names {
            let Some(r) = schema.role(name).cloned() else {
                if if_exists {
                    notices.push(format!("role \"{name}\" does not exist, skipping"));
                    continue;
                }
                return Err(ExecError::coded(
                    "42704",
                    format!("role \"{name}\" does not exist"),
                ));
            };
            self.check_role_admin(&schema, r.superuser, "drop")?;
            if r.oid == self.current_role || r.oid == self.session_user {
                return Err(ExecError::coded("55006", "current user cannot be dropped"));
            }
            if r.oid == BOOTSTRAP_SUPERUSER
                || basalt_catalog::store::PREDEFINED_ROLES
                    .iter()
                    .any(|p| p.0 == r.oid)
            {
                return Err(ExecError::coded(
                    "55006",
                    format!(
                        "cannot drop role {name} because it is required by the database system"
                    ),
                ));
            }
            let mut deps = Vec::new();
            for n in &schema.namespace_acls {
                if n.acl.iter().any(|a| a.grantee == r.oid) {
                    deps.push(format!(
                        "privileges for schema {}",
                        schema.namespace_name(n.namespace)
                    ));
                }
            }
            for t in &schema.tables {
                if t.owner == r.oid {
                    deps.push(format!("owner of table {}", t.name));
                } else if t.acl.iter().flatten().any(|a| a.grantee == r.oid) {
                    deps.push(format!("privileges for table {}", t.name));
                }
            }
            if !deps.is_empty() {
                return Err(ExecError::Coded {
                    code: "2BP01",
                    msg: format!(
                        "role \"{name}\" cannot be dropped because some objects depend on it"
                    ),
                    detail: Some(deps.join("\n")),
                });
            }
            self.db
                .catalog
                .delete_role(xid, self.cid(), &schema, r.oid)?;
            tracing::info!(role = %name, by = %self.current_user_name(), "role dropped");
        }
        Ok(ExecResult {
            tag: "DROP ROLE".into(),
            notices,
            ..Default::default()
        })
    }

    pub(crate) fn grant(
        &mut self,
        revoke: bool,
        bits: u32,
        target: &GrantTarget,
        grantees: &[Option<String>],
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let mut oids = Vec::new();
        for g in grantees {
            oids.push(match g {
                None => 0,
                Some(n) => Self::role_named(&schema, n)?.oid,
            });
        }
        let me = self.current_role;
        match target {
            GrantTarget::Tables(tables) => {
                for t in tables {
                    let Some(cur) = schema.table_by_oid(t.oid) else {
                        continue;
                    };
                    self.check_owner(&schema, cur).map_err(|_| {
                        ExecError::denied(format!("permission denied for table {}", cur.name))
                    })?;
                    let mut def = (**cur).clone();
                    let default = [basalt_catalog::store::AclItem {
                        grantee: def.owner,
                        grantor: def.owner,
                        privs: privs::ALL_TABLE,
                    }];
                    for &g in &oids {
                        def.acl = Some(acl_change(&def.acl, &default, g, def.owner, bits, revoke));
                    }
                    self.db
                        .catalog
                        .replace_table(xid, self.cid(), &schema, &def)?;
                }
            }
            GrantTarget::Schemas(nss) => {
                for &ns in nss {
                    let schema_owner = schema.schemas.iter().find(|d| d.oid == ns).map(|d| d.owner);
                    if !Self::is_superuser_oid(&schema, me)
                        && me != BOOTSTRAP_SUPERUSER
                        && schema_owner != Some(me)
                    {
                        return Err(ExecError::denied(format!(
                            "permission denied for schema {}",
                            schema.namespace_name(ns)
                        )));
                    }
                    let mut acl = Some(schema.namespace_acl(ns));
                    let owner = if basalt_catalog::store::builtin_public_db(ns).is_some() {
                        basalt_catalog::store::PG_DATABASE_OWNER
                    } else {
                        schema_owner.unwrap_or(BOOTSTRAP_SUPERUSER)
                    };
                    for &g in &oids {
                        acl = Some(acl_change(&acl, &[], g, owner, bits, revoke));
                    }
                    let n = NamespaceAcl {
                        namespace: ns,
                        acl: acl.unwrap_or_default(),
                    };
                    self.db
                        .catalog
                        .put_namespace_acl(xid, self.cid(), &schema, &n)?;
                }
            }
        }
        done(if revoke { "REVOKE" } else { "GRANT" })
    }

    pub(crate) fn alter_owner(&mut self, t: &Arc<TableDef>, owner: &str) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let new = if owner == "\u{1}current_user" {
            self.current_role
        } else {
            Self::role_named(&schema, owner)?.oid
        };
        // A non-superuser owner may give the table only to itself.
        if !Self::is_superuser_oid(&schema, self.current_role) && new != self.current_role {
            return Err(ExecError::denied(format!(
                "must be able to SET ROLE \"{owner}\""
            )));
        }
        let mut def = (**t).clone();
        if let Some(acl) = def.acl.as_mut() {
            for a in acl.iter_mut() {
                if a.grantee == def.owner {
                    a.grantee = new;
                }
                if a.grantor == def.owner {
                    a.grantor = new;
                }
            }
        }
        def.owner = new;
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &def)?;
        done("ALTER TABLE")
    }

    /// SET ROLE / SET SESSION AUTHORIZATION (None: back to the session
    /// user). Only a superuser session may become another role.
    pub(crate) fn set_role(&mut self, role: Option<&str>, session: bool) -> Result<ExecResult> {
        let schema = self.schema()?;
        let target = match role {
            None => self.session_user,
            Some(n) => Self::role_named(&schema, n)?.oid,
        };
        if target != self.session_user && !Self::is_superuser_oid(&schema, self.session_user) {
            let n = role.unwrap_or_default();
            return Err(ExecError::denied(if session {
                "permission denied to set session authorization".to_string()
            } else {
                format!("permission denied to set role \"{n}\"")
            }));
        }
        self.current_role = target;
        done(if session || role.is_some() {
            "SET"
        } else {
            "RESET"
        })
    }
}
