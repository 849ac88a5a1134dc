//! The one place errors become SQLSTATEs. No `_ =>` arm over our own enums,
//! so a new error variant needs a code to compile.

use crate::ExecError;
use basalt_catalog::cast::ValueError;
use basalt_planner::PlanError;
use basalt_storage::StorageError;

impl ExecError {
    /// The SQLSTATE a client sees for this error.
    pub fn sqlstate(&self) -> &'static str {
        sqlstate(self)
    }
}

fn sqlstate(e: &ExecError) -> &'static str {
    match e {
        ExecError::Parse(_) => "42601",
        ExecError::Plan(p) => match p {
            PlanError::UndefinedTable(_) | PlanError::MissingFromEntry(_) => "42P01",
            PlanError::DuplicateTable(_) => "42P07",
            PlanError::UndefinedColumn(_) | PlanError::UndefinedColumnMsg(_) => "42703",
            PlanError::AmbiguousColumn(_) | PlanError::AmbiguousColumnMsg(_) => "42702",
            PlanError::DuplicateColumn(_) | PlanError::DuplicateColumnMsg(_) => "42701",
            PlanError::DatatypeMismatch(_) => "42804",
            PlanError::UndefinedFunction(_) => "42883",
            PlanError::Grouping(_) => "42803",
            PlanError::Windowing(_) => "42P20",
            PlanError::Syntax(_) => "42601",
            PlanError::NotSupported(_) => "0A000",
            PlanError::Coded(c, _) => c,
            PlanError::Detailed { code, .. } => code,
            PlanError::UndefinedObject(_) => "42704",
            PlanError::InvalidTableDefinition(_) => "42P16",
            PlanError::InvalidColumnReference(_) => "42P10",
            PlanError::InvalidForeignKey(_) => "42830",
            PlanError::InvalidGrant(_) => "0LP01",
            PlanError::Value(v) => value_state(v),
        },
        ExecError::Storage(s) => match s {
            StorageError::Io(_) => "58030",
            StorageError::Corrupt(_) => "XX001",
            StorageError::Backup { code, .. } => code,
            StorageError::UniqueViolation => "23505",
            StorageError::SerializationFailure => "40001",
            StorageError::TupleTooLarge(_) => "54000",
            StorageError::KeyTooLarge(_) => "54000",
            StorageError::Cancelled => "57014",
            StorageError::LockTimeout | StorageError::RowLockNotAvailable => "55P03",
            StorageError::Deadlock(_) => "40P01",
            StorageError::SerializationRw => "40001",
            StorageError::Sequence(basalt_storage::sequence::SeqError::OutOfBounds(..)) => "22003",
            StorageError::Sequence(_) => "2200H",
        },
        ExecError::Value(v) => value_state(v),
        ExecError::NotNull { .. } | ExecError::NotNullAdded { .. } => "23502",
        ExecError::CheckViolation { .. } => "23514",
        ExecError::ForeignKeyViolation { .. } => "23503",
        ExecError::UniqueViolation { .. } | ExecError::UniqueBuild { .. } => "23505",
        ExecError::InFailedTransaction => "25P02",
        ExecError::UnknownSetting(_) => "42704",
        ExecError::InvalidSetting(..) => "22023",
        ExecError::CantChangeSetting(_) => "55P02",
        ExecError::CardinalityViolation(_) => "21000",
        ExecError::InvalidRegex(_) => "2201B",
        ExecError::BadCopyData(_) => "22P04",
        ExecError::ReadOnly(_) => "25006",
        ExecError::Internal(_) => "XX000",
        ExecError::ObjectNotInPrerequisiteState(_) => "55000",
        ExecError::UndefinedPrepared(_) => "26000",
        ExecError::DuplicatePrepared(_) => "42P05",
        ExecError::ActiveSqlTransaction(_) => "25001",
        ExecError::NoActiveSqlTransaction(_) => "25P01",
        ExecError::NoSuchSavepoint(_) => "3B001",
        ExecError::LockNotAvailable(_) => "55P03",
        ExecError::SerializationFailure(_) => "40001",
        ExecError::StatementTimeout => "57014",
        ExecError::Terminated => "57P01",
        ExecError::StalePlan => "0A000",
        ExecError::Coded { code, .. } => code,
    }
}

fn value_state(v: &ValueError) -> &'static str {
    match v {
        ValueError::InvalidText { .. } => "22P02",
        ValueError::OutOfRange(_) => "22003",
        ValueError::NumericOverflow => "22003",
        ValueError::DatetimeRange(_) => "22008",
        ValueError::StringTooLong(_) => "22001",
        ValueError::DivisionByZero => "22012",
        ValueError::CannotCast { .. } => "42846",
        ValueError::BadEncoding => "22021",
        ValueError::Malformed { .. } => "22P02",
        ValueError::ArraySubscript(_) => "2202E",
        ValueError::Json(_) => "22P02",
        ValueError::InvalidParameter(_) => "22023",
        ValueError::InvalidEnum { .. } => "22P02",
    }
}
