//! SQL-level prepared statements: PREPARE name [(types)] AS statement,
//! EXECUTE name [(args)], DEALLOCATE [PREPARE] name | ALL. A statement is
//! planned when first executed and kept until the catalog changes; then it
//! is planned again, and (as in PostgreSQL) fails with 0A000 if its result
//! columns changed.

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, RowSink, Session};
use basalt_catalog::{cast, DataType};
use basalt_planner::{Field, Statement};
use sqlparser::ast;

/// A statement prepared with SQL PREPARE.
pub(crate) struct SqlPrepared {
    stmt: basalt_parser::Statement,
    param_types: Vec<DataType>,
    /// Catalog version, plan, and the result columns of the first plan.
    plan: Option<(u64, Statement)>,
    fields: Option<Vec<Field>>,
    /// The PREPARE statement's text and time (pg_prepared_statements).
    pub(crate) sql: String,
    pub(crate) at: chrono::DateTime<chrono::Utc>,
}

impl SqlPrepared {
    pub(crate) fn param_types(&self) -> &[DataType] {
        &self.param_types
    }
}

fn fields_of(s: &Statement) -> Option<Vec<Field>> {
    match s {
        Statement::Query(q) => Some(q.fields.clone()),
        _ => None,
    }
}

impl Session {
    /// Runs PREPARE, EXECUTE or DEALLOCATE; None for other statements.
    pub(crate) fn prepared_sql(
        &mut self,
        stmt: &basalt_parser::Statement,
        sink: Option<&mut dyn RowSink>,
    ) -> Option<Result<ExecResult>> {
        let basalt_parser::Statement::Sql(s) = stmt else {
            return None;
        };
        Some(match &**s {
            ast::Statement::Prepare {
                name,
                data_types,
                statement,
            } => self.sql_prepare(&basalt_planner::bind::ident(name), data_types, statement),
            ast::Statement::Execute {
                name: Some(name),
                parameters,
                ..
            } => {
                let n = name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(basalt_planner::bind::ident)
                    .unwrap_or_default();
                self.sql_execute(&n, parameters, sink)
            }
            ast::Statement::Deallocate { name, .. } => {
                let n = basalt_planner::bind::ident(name);
                if n == "all" {
                    self.sql_prepared.clear();
                } else if self.sql_prepared.remove(&n).is_none() {
                    return Some(Err(ExecError::UndefinedPrepared(format!(
                        "prepared statement \"{n}\" does not exist"
                    ))));
                }
                Ok(ExecResult {
                    tag: "DEALLOCATE".into(),
                    ..Default::default()
                })
            }
            _ => return None,
        })
    }

    fn sql_prepare(
        &mut self,
        name: &str,
        types: &[ast::DataType],
        statement: &ast::Statement,
    ) -> Result<ExecResult> {
        if self.sql_prepared.contains_key(name) {
            return Err(ExecError::DuplicatePrepared(format!(
                "prepared statement \"{name}\" already exists"
            )));
        }
        let param_types = types
            .iter()
            .map(basalt_planner::bind::convert_type)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let stmt = basalt_parser::Statement::Sql(Box::new(statement.clone()));
        // Planned now so that errors show at PREPARE, as in PostgreSQL.
        let (planned, types) = self.plan(&stmt, &param_types)?;
        let version = self.catalog_version();
        self.sql_prepared.insert(
            name.to_string(),
            SqlPrepared {
                stmt,
                param_types: types,
                fields: fields_of(&planned),
                plan: Some((version, planned)),
                sql: self.backend.activity.lock().query.clone(),
                at: chrono::Utc::now(),
            },
        );
        Ok(ExecResult {
            tag: "PREPARE".into(),
            ..Default::default()
        })
    }

    fn sql_execute(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        sink: Option<&mut dyn RowSink>,
    ) -> Result<ExecResult> {
        let Some(p) = self.sql_prepared.get(name) else {
            return Err(ExecError::UndefinedPrepared(format!(
                "prepared statement \"{name}\" does not exist"
            )));
        };
        if args.len() != p.param_types.len() {
            return Err(basalt_planner::PlanError::Syntax(format!(
                "wrong number of parameters for prepared statement \"{name}\"\nDETAIL:  Expected {} parameters but got {}.",
                p.param_types.len(),
                args.len()
            ))
            .into());
        }
        let types = p.param_types.clone();
        // The arguments are expressions without columns: evaluate them by
        // a SELECT of them.
        let mut params = Vec::with_capacity(args.len());
        if !args.is_empty() {
            let q = format!(
                "SELECT {}",
                args.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let parsed = basalt_parser::parse(&q)
                .map_err(|e| basalt_planner::PlanError::Syntax(e.to_string()))?;
            let (plan, _) = self.plan(&parsed[0], &[])?;
            let r = self.execute_to(&plan, &[], None)?;
            let row = r.rows.into_iter().next().unwrap_or_default();
            for (v, t) in row.into_iter().zip(&types) {
                params.push(cast::cast(v, t)?);
            }
        }
        let version = self.catalog_version();
        let fresh = matches!(&self.sql_prepared[name].plan, Some((v, _)) if *v == version);
        if !fresh {
            let stmt = self.sql_prepared[name].stmt.clone();
            let (planned, _) = self.plan(&stmt, &types)?;
            let p = self.sql_prepared.get_mut(name).expect("checked above");
            if p.fields.is_some()
                && fields_of(&planned)
                    .map(|f| f.iter().map(|x| (x.name.clone(), x.ty)).collect::<Vec<_>>())
                    != p.fields
                        .as_ref()
                        .map(|f| f.iter().map(|x| (x.name.clone(), x.ty)).collect::<Vec<_>>())
            {
                return Err(basalt_planner::PlanError::NotSupported(
                    "cached plan must not change result type".into(),
                )
                .into());
            }
            p.plan = Some((version, planned));
        }
        let plan = self.sql_prepared[name]
            .plan
            .as_ref()
            .map(|(_, s)| s.clone())
            .expect("planned above");
        self.execute_to(&plan, &params, sink)
    }
}
