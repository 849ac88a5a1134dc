//! Planner errors; SQLSTATEs are chosen in executor/src/sqlstate.rs.

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("relation \"{0}\" does not exist")]
    UndefinedTable(String),
    #[error("missing FROM-clause entry for table \"{0}\"")]
    MissingFromEntry(String),
    #[error("relation \"{0}\" already exists")]
    DuplicateTable(String),
    #[error("column \"{0}\" does not exist")]
    UndefinedColumn(String),
    #[error("column reference \"{0}\" is ambiguous")]
    AmbiguousColumn(String),
    /// 42703 with a message of its own.
    #[error("{0}")]
    UndefinedColumnMsg(String),
    /// 42702 with a message of its own.
    #[error("{0}")]
    AmbiguousColumnMsg(String),
    #[error("column \"{0}\" specified more than once")]
    DuplicateColumn(String),
    /// 42701 with its own message.
    #[error("{0}")]
    DuplicateColumnMsg(String),
    #[error("{0}")]
    DatatypeMismatch(String),
    #[error("{0}")]
    UndefinedFunction(String),
    #[error("{0}")]
    Grouping(String),
    /// 42P20
    #[error("{0}")]
    Windowing(String),
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    NotSupported(String),
    #[error("{0}")]
    UndefinedObject(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("multiple primary keys for table \"{0}\" are not allowed")]
    InvalidTableDefinition(String),
    /// 42830
    #[error("{0}")]
    InvalidForeignKey(String),
    /// 42P10
    #[error("{0}")]
    InvalidColumnReference(String),
    /// Any other SQLSTATE, with its message.
    #[error("{1}")]
    Coded(&'static str, String),
    /// Any SQLSTATE, with a DETAIL and perhaps a HINT.
    #[error("{msg}")]
    Detailed {
        code: &'static str,
        msg: String,
        detail: String,
        hint: Option<String>,
    },
    #[error("{0}")]
    Value(#[from] basalt_catalog::cast::ValueError),
}

pub type Result<T> = std::result::Result<T, PlanError>;
