//! Executor errors; SQLSTATEs are chosen in server/src/sqlstate.rs.

use basalt_catalog::cast::ValueError;
use basalt_parser::ParseError;
use basalt_planner::PlanError;
use basalt_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// 26000
    #[error("{0}")]
    UndefinedPrepared(String),
    /// 42P05
    #[error("{0}")]
    DuplicatePrepared(String),
    /// 55000
    #[error("{0}")]
    ObjectNotInPrerequisiteState(String),
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Value(#[from] ValueError),
    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NotNull {
        column: String,
        table: String,
        detail: String,
    },
    /// 23502 when a column added NOT NULL finds rows without a value.
    #[error("column \"{column}\" of relation \"{table}\" contains null values")]
    NotNullAdded { column: String, table: String },
    #[error("duplicate key value violates unique constraint \"{index}\"")]
    UniqueViolation { index: String, detail: String },
    /// 23503
    #[error("{msg}")]
    ForeignKeyViolation {
        msg: String,
        detail: String,
        /// The table the statement changed, and the constraint.
        table: String,
        constraint: String,
    },
    #[error("new row for relation \"{table}\" violates check constraint \"{constraint}\"")]
    CheckViolation {
        table: String,
        constraint: String,
        detail: String,
    },
    #[error("could not create unique index \"{index}\"")]
    UniqueBuild { index: String, detail: String },
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    InFailedTransaction,
    #[error("unrecognized configuration parameter \"{0}\"")]
    UnknownSetting(String),
    #[error("invalid value for parameter \"{0}\": \"{1}\"")]
    InvalidSetting(String, String),
    #[error("{0}")]
    CantChangeSetting(String),
    #[error("{0}")]
    CardinalityViolation(String),
    #[error("{0}")]
    InvalidRegex(String),
    #[error("{0}")]
    BadCopyData(String),
    #[error("cannot execute {0} in a read-only transaction")]
    ReadOnly(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    ActiveSqlTransaction(String),
    #[error("{0}")]
    NoActiveSqlTransaction(String),
    #[error("{0}")]
    NoSuchSavepoint(String),
    #[error("{0}")]
    LockNotAvailable(String),
    #[error("{0}")]
    SerializationFailure(String),
    #[error("canceling statement due to statement timeout")]
    StatementTimeout,
    #[error("terminating connection due to administrator command")]
    Terminated,
    /// A table the statement uses changed since it was planned; the caller
    /// plans it again (clients see it only if that keeps happening).
    #[error("cached plan must not change result type")]
    StalePlan,
    /// An error with its own SQLSTATE and optional DETAIL (privileges,
    /// roles).
    #[error("{msg}")]
    Coded {
        code: &'static str,
        msg: String,
        detail: Option<String>,
    },
}

impl ExecError {
    pub fn coded(code: &'static str, msg: impl Into<String>) -> ExecError {
        ExecError::Coded {
            code,
            msg: msg.into(),
            detail: None,
        }
    }

    /// 42501, as PostgreSQL reports a missing privilege.
    pub fn denied(msg: impl Into<String>) -> ExecError {
        Self::coded("42501", msg)
    }
}

impl ExecError {
    /// DETAIL line for the error response, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ExecError::UniqueViolation { detail, .. }
            | ExecError::UniqueBuild { detail, .. }
            | ExecError::ForeignKeyViolation { detail, .. }
            | ExecError::NotNull { detail, .. }
            | ExecError::CheckViolation { detail, .. } => Some(detail),
            ExecError::Storage(StorageError::Deadlock(detail)) => Some(detail),
            ExecError::Coded {
                detail: Some(d), ..
            } => Some(d),
            ExecError::Plan(basalt_planner::PlanError::Detailed { detail, .. }) => {
                (!detail.is_empty()).then_some(detail.as_str())
            }
            _ => None,
        }
    }

    /// HINT line for the error response, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            ExecError::Plan(basalt_planner::PlanError::Detailed { hint, .. }) => hint.as_deref(),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ExecError>;

impl crate::session::Session {
    /// The error fields PostgreSQL adds to a constraint violation: schema
    /// (s), table (t), column (c) and constraint (n) names, by field code.
    pub fn error_fields(&self, e: &ExecError) -> Vec<(u8, String)> {
        let Ok(schema) = self.schema() else {
            return vec![];
        };
        let by_name = |t: &str| schema.tables.iter().find(|d| d.name == t).cloned();
        let (table, col, constraint) = match e {
            ExecError::UniqueViolation { index, .. } => (
                schema
                    .tables
                    .iter()
                    .find(|t| t.indexes.iter().any(|i| &i.name == index))
                    .cloned(),
                None,
                Some(index.clone()),
            ),
            ExecError::NotNull { column, table, .. } => {
                (by_name(table), Some(column.clone()), None)
            }
            ExecError::CheckViolation {
                table, constraint, ..
            }
            | ExecError::ForeignKeyViolation {
                table, constraint, ..
            } => (by_name(table), None, Some(constraint.clone())),
            _ => return vec![],
        };
        let Some(t) = table else { return vec![] };
        let mut out = vec![
            (b's', schema.namespace_name(t.namespace)),
            (b't', t.name.clone()),
        ];
        out.extend(col.map(|c| (b'c', c)));
        out.extend(constraint.map(|n| (b'n', n)));
        out
    }
}
