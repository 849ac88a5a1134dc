//! Binding of role and privilege statements: CREATE/ALTER/DROP ROLE (and
//! USER), GRANT/REVOKE on tables and schemas, ALTER TABLE ... OWNER TO,
//! SET ROLE and SET SESSION AUTHORIZATION. Roles are looked up when the
//! statement runs; tables and schemas here.

use super::{ident, not_supported, object_parts, Binder};
use crate::error::{PlanError, Result};
use crate::plan::{GrantTarget, RoleOptions, Statement};
use basalt_catalog::store::privs;
use sqlparser::ast;

fn password(p: &ast::Password) -> Result<Option<String>> {
    match p {
        ast::Password::NullPassword => Ok(None),
        ast::Password::Password(ast::Expr::Value(v)) => match &v.value {
            ast::Value::SingleQuotedString(s) => Ok(Some(s.clone())),
            other => Err(PlanError::Syntax(format!(
                "syntax error at or near \"{other}\""
            ))),
        },
        ast::Password::Password(e) => Err(PlanError::Syntax(format!(
            "syntax error at or near \"{e}\""
        ))),
    }
}

fn connlimit(e: &ast::Expr) -> Result<i32> {
    e.to_string()
        .parse()
        .map_err(|_| PlanError::Syntax(format!("invalid connection limit: {e}")))
}

impl Binder<'_> {
    pub(super) fn create_role(&mut self, cr: &ast::CreateRole) -> Result<Statement> {
        if cr.names.len() != 1 {
            return not_supported("CREATE ROLE of several roles");
        }
        let name = object_parts(&cr.names[0]).join(".");
        let opts = RoleOptions {
            superuser: cr.superuser,
            login: cr.login,
            createdb: cr.create_db,
            createrole: cr.create_role,
            inherit: cr.inherit,
            connlimit: cr.connection_limit.as_ref().map(connlimit).transpose()?,
            password: cr.password.as_ref().map(password).transpose()?,
        };
        Ok(Statement::CreateRole {
            name,
            opts,
            if_not_exists: cr.if_not_exists,
        })
    }

    pub(super) fn alter_role(
        &mut self,
        name: &ast::Ident,
        op: &ast::AlterRoleOperation,
    ) -> Result<Statement> {
        let name = ident(name);
        let mut opts = RoleOptions::default();
        let mut rename = None;
        match op {
            ast::AlterRoleOperation::RenameRole { role_name } => rename = Some(ident(role_name)),
            ast::AlterRoleOperation::WithOptions { options } => {
                for o in options {
                    match o {
                        ast::RoleOption::SuperUser(b) => opts.superuser = Some(*b),
                        ast::RoleOption::Login(b) => opts.login = Some(*b),
                        ast::RoleOption::CreateDB(b) => opts.createdb = Some(*b),
                        ast::RoleOption::CreateRole(b) => opts.createrole = Some(*b),
                        ast::RoleOption::Inherit(b) => opts.inherit = Some(*b),
                        ast::RoleOption::ConnectionLimit(e) => opts.connlimit = Some(connlimit(e)?),
                        ast::RoleOption::Password(p) => opts.password = Some(password(p)?),
                        ast::RoleOption::BypassRLS(_)
                        | ast::RoleOption::Replication(_)
                        | ast::RoleOption::ValidUntil(_) => {}
                    }
                }
            }
            other => return not_supported(format!("ALTER ROLE {other}")),
        }
        Ok(Statement::AlterRole { name, opts, rename })
    }

    pub(super) fn drop_role(
        &mut self,
        names: &[ast::ObjectName],
        if_exists: bool,
    ) -> Result<Statement> {
        Ok(Statement::DropRole {
            names: names.iter().map(|n| object_parts(n).join(".")).collect(),
            if_exists,
        })
    }

    /// GRANT or REVOKE of table or schema privileges.
    pub(super) fn grant(
        &mut self,
        revoke: bool,
        privileges: &ast::Privileges,
        objects: Option<&ast::GrantObjects>,
        grantees: &[ast::Grantee],
    ) -> Result<Statement> {
        let Some(objects) = objects else {
            return not_supported("GRANT of role membership");
        };
        let (target, all_bits) = match objects {
            ast::GrantObjects::Tables(names) => {
                let mut tables = Vec::new();
                for n in names {
                    tables.push(
                        self.lookup_table(&object_parts(n))?
                            .ok_or_else(|| PlanError::UndefinedTable(n.to_string()))?,
                    );
                }
                (GrantTarget::Tables(tables), privs::ALL_TABLE)
            }
            ast::GrantObjects::AllTablesInSchema { schemas } => {
                let mut tables = Vec::new();
                for s in schemas {
                    let ns = self.namespace(s)?;
                    tables.extend(
                        self.schema
                            .tables
                            .iter()
                            .filter(|t| t.namespace == ns)
                            .cloned(),
                    );
                }
                (GrantTarget::Tables(tables), privs::ALL_TABLE)
            }
            ast::GrantObjects::Schemas(names) => {
                let mut v = Vec::new();
                for s in names {
                    v.push(self.namespace(s)?);
                }
                (GrantTarget::Schemas(v), privs::ALL_SCHEMA)
            }
            other => return not_supported(format!("GRANT ON {other}")),
        };
        let bits = match privileges {
            ast::Privileges::All { .. } => all_bits,
            ast::Privileges::Actions(actions) => {
                let mut b = 0;
                for a in actions {
                    let bit = match a {
                        ast::Action::Select { .. } => privs::SELECT,
                        ast::Action::Insert { .. } => privs::INSERT,
                        ast::Action::Update { .. } => privs::UPDATE,
                        ast::Action::Delete => privs::DELETE,
                        ast::Action::Truncate => privs::TRUNCATE,
                        ast::Action::References { .. } => privs::REFERENCES,
                        ast::Action::Trigger => privs::TRIGGER,
                        ast::Action::Usage => privs::USAGE,
                        ast::Action::Create { .. } => privs::CREATE,
                        other => return not_supported(format!("privilege {other}")),
                    };
                    if bit & all_bits == 0 {
                        return Err(PlanError::InvalidGrant(format!(
                            "invalid privilege type {} for {}",
                            privs::name(bit),
                            if all_bits == privs::ALL_SCHEMA {
                                "schema"
                            } else {
                                "relation"
                            }
                        )));
                    }
                    b |= bit;
                }
                b
            }
        };
        let mut names = Vec::new();
        for g in grantees {
            match (&g.grantee_type, &g.name) {
                (ast::GranteesType::Public, _) => names.push(None),
                (_, Some(ast::GranteeName::ObjectName(n))) => {
                    let n = object_parts(n).join(".");
                    if n == "public" {
                        names.push(None);
                    } else {
                        names.push(Some(n));
                    }
                }
                _ => return not_supported(format!("grantee {g}")),
            }
        }
        Ok(Statement::Grant {
            revoke,
            privs: bits,
            target,
            grantees: names,
        })
    }

    fn namespace(&self, n: &ast::ObjectName) -> Result<u32> {
        let name = object_parts(n).join(".");
        self.schema
            .namespace_oid(&name)
            .ok_or_else(|| PlanError::Coded("3F000", format!("schema \"{name}\" does not exist")))
    }

    pub(super) fn set_role(&mut self, set: &ast::Set) -> Option<Result<Statement>> {
        match set {
            ast::Set::SetRole { role_name, .. } => Some(Ok(Statement::SetRole {
                role: role_name.as_ref().map(ident).filter(|r| r != "none"),
                session: false,
            })),
            ast::Set::SetSessionAuthorization(p) => Some(Ok(Statement::SetRole {
                role: match &p.kind {
                    ast::SetSessionAuthorizationParamKind::Default => None,
                    ast::SetSessionAuthorizationParamKind::User(u) => Some(ident(u)),
                },
                session: true,
            })),
            _ => None,
        }
    }
}
