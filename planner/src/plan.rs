//! Plans are data: bound expressions and operator trees that the executor
//! runs. Every expression has been type-checked; column references are
//! positions in the input row.

use basalt_catalog::{DataType, TableDef, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
    Concat,
    /// Regular expression match: (case-insensitive, negated).
    Regex(bool, bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column(usize),
    Literal(Value),
    /// 0-based parameter number.
    Param(usize),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    IsNull(Box<Expr>, bool),
    /// IS [NOT] DISTINCT FROM: (left, right, negated)
    IsDistinct(Box<Expr>, Box<Expr>, bool),
    Cast(Box<Expr>, DataType),
    Func(String, Vec<Expr>),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        ci: bool,
    },
    /// A column of an enclosing query's current row, in a correlated
    /// subquery: depth 1 is the query just outside.
    Outer {
        depth: usize,
        col: usize,
    },
    /// A scalar subquery, run for each row it is evaluated on (it may
    /// refer to that row through `Outer`).
    Subquery(Box<Plan>),
    Exists(Box<Plan>, bool),
    InSubquery(Box<Expr>, Box<Plan>, bool),
    /// ARRAY(subquery): the rows' single column as an array (in text form).
    ArraySubquery(Box<Plan>),
    /// `x op ANY(array)` (all = false) or `x op ALL(array)`, the array in
    /// text form; elements are read as the type of `x`.
    AnyArray {
        expr: Box<Expr>,
        op: BinOp,
        array: Box<Expr>,
        all: bool,
    },
}

impl Expr {
    /// Calls `f` on this expression and every expression inside it (not
    /// descending into subquery plans).
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        f(self);
        match self {
            Expr::Binary(_, a, b) | Expr::IsDistinct(a, b, _) => {
                a.visit_mut(f);
                b.visit_mut(f);
            }
            Expr::Not(a)
            | Expr::Neg(a)
            | Expr::IsNull(a, _)
            | Expr::Cast(a, _)
            | Expr::InSubquery(a, _, _) => a.visit_mut(f),
            Expr::Func(_, args) => args.iter_mut().for_each(|a| a.visit_mut(f)),
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                if let Some(o) = operand {
                    o.visit_mut(f);
                }
                for (c, r) in whens {
                    c.visit_mut(f);
                    r.visit_mut(f);
                }
                if let Some(e) = else_ {
                    e.visit_mut(f);
                }
            }
            Expr::InList { expr, list, .. } => {
                expr.visit_mut(f);
                list.iter_mut().for_each(|a| a.visit_mut(f));
            }
            Expr::Like { expr, pattern, .. } => {
                expr.visit_mut(f);
                pattern.visit_mut(f);
            }
            Expr::AnyArray { expr, array, .. } => {
                expr.visit_mut(f);
                array.visit_mut(f);
            }
            Expr::Column(_)
            | Expr::Outer { .. }
            | Expr::Literal(_)
            | Expr::Param(_)
            | Expr::Subquery(_)
            | Expr::ArraySubquery(_)
            | Expr::Exists(..) => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    CountStar,
    Sum,
    Avg,
    Min,
    Max,
    BoolAnd,
    BoolOr,
    StringAgg,
    /// array_agg(x): every value, NULLs too.
    ArrayAgg,
    JsonAgg,
    JsonbAgg,
    JsonObjectAgg,
    JsonbObjectAgg,
    /// percentile_cont(f) WITHIN GROUP (ORDER BY x): args are f, x.
    PercentileCont,
    /// percentile_disc(f) WITHIN GROUP (ORDER BY x): args are f, x.
    PercentileDisc,
    /// mode() WITHIN GROUP (ORDER BY x): the most frequent x (the first
    /// in order among ties).
    Mode,
    /// grouping(a, ...): args are the GROUP BY positions (literals); the
    /// bits of those the current grouping set leaves out.
    Grouping,
    /// variance/var_samp/var_pop/stddev/stddev_samp/stddev_pop.
    Variance {
        pop: bool,
        sqrt: bool,
    },
    /// The two-argument statistics over (y, x).
    Regr(RegrKind),
    BitAnd,
    BitOr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegrKind {
    Count,
    Sxx,
    Syy,
    Sxy,
    AvgX,
    AvgY,
    CovarPop,
    CovarSamp,
    Corr,
    R2,
    Slope,
    Intercept,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    pub func: AggFunc,
    pub args: Vec<Expr>,
    pub distinct: bool,
    pub ty: DataType,
    /// `agg(x ORDER BY y)`: the order the values are fed in.
    pub order: Vec<SortKey>,
    /// `agg(x) FILTER (WHERE c)`: only rows where c is true are fed in.
    pub filter: Option<Expr>,
}

/// A window function: ranking, offset, or an aggregate over a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile,
    Lag,
    Lead,
    FirstValue,
    LastValue,
    NthValue,
    Agg(AggFunc),
}

/// One end of a window frame (offsets are row counts, for ROWS frames).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(i64),
    CurrentRow,
    Following(i64),
    UnboundedFollowing,
}

/// ROWS or RANGE (with peers: rows equal in the window's ORDER BY) frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowFrame {
    pub rows: bool,
    /// GROUPS: offsets count peer groups (`rows` is false).
    pub groups: bool,
    pub start: FrameBound,
    pub end: FrameBound,
}

/// A window function call `func(args) OVER (PARTITION BY .. ORDER BY ..)`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    pub func: WindowFunc,
    pub args: Vec<Expr>,
    pub partition: Vec<Expr>,
    pub order: Vec<SortKey>,
    pub frame: WindowFrame,
    /// The aggregate's call (for WindowFunc::Agg): its type and arguments.
    pub agg: Option<AggCall>,
    pub ty: DataType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    /// FULL [OUTER] JOIN: unmatched rows of both sides, padded with NULLs.
    /// (RIGHT JOIN is planned as a LEFT JOIN with the sides swapped.)
    Full,
    /// EXISTS as a join: each left row once if some right row matches;
    /// only the left columns (hash joins only).
    Semi,
    /// NOT EXISTS as a join: the left rows no right row matches.
    Anti,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: bool,
}

/// Bounds of an index scan: equality on a prefix of the index columns, then
/// optionally a range on the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexBounds {
    pub eq: Vec<Expr>,
    pub lo: Option<(Expr, bool)>,
    pub hi: Option<(Expr, bool)>,
}

impl IndexBounds {
    /// The bounds as conditions on the index's key expressions `keys`
    /// (`key = v` for each equality, then `>`/`>=` and `<`/`<=` on the
    /// next key), each bound value passed through `value` first.
    pub fn conditions(&self, keys: &[Expr], value: &dyn Fn(&Expr) -> Expr) -> Vec<Expr> {
        let mut conds: Vec<Expr> = self
            .eq
            .iter()
            .zip(keys)
            .map(|(v, k)| Expr::Binary(BinOp::Eq, Box::new(k.clone()), Box::new(value(v))))
            .collect();
        if let Some(next) = keys.get(self.eq.len()) {
            if let Some((v, incl)) = &self.lo {
                let op = if *incl { BinOp::GtEq } else { BinOp::Gt };
                conds.push(Expr::Binary(op, Box::new(next.clone()), Box::new(value(v))));
            }
            if let Some((v, incl)) = &self.hi {
                let op = if *incl { BinOp::LtEq } else { BinOp::Lt };
                conds.push(Expr::Binary(op, Box::new(next.clone()), Box::new(value(v))));
            }
        }
        conds
    }
}

/// The planner method switches (enable_seqscan, enable_indexscan,
/// enable_hashjoin, enable_nestloop): a method switched off is used only
/// when nothing else can do the work, as PostgreSQL's disable cost does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerFlags {
    pub seqscan: bool,
    pub indexscan: bool,
    pub hashjoin: bool,
    pub nestloop: bool,
}

impl Default for PlannerFlags {
    fn default() -> Self {
        PlannerFlags {
            seqscan: true,
            indexscan: true,
            hashjoin: true,
            nestloop: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// One row with no columns (SELECT without FROM).
    Single,
    SeqScan {
        table: Arc<TableDef>,
        filter: Option<Expr>,
    },
    IndexScan {
        table: Arc<TableDef>,
        index: usize,
        bounds: IndexBounds,
        filter: Option<Expr>,
    },
    /// A pg_catalog view, computed when scanned.
    System {
        name: String,
        filter: Option<Expr>,
    },
    Values {
        rows: Vec<Vec<Expr>>,
    },
    /// A set-returning function of the server (basalt_check_integrity,
    /// basalt_verify_backup); its columns are `system::columns(name)`.
    Function {
        name: String,
        args: Vec<Expr>,
    },
    /// generate_series(start, stop[, step]) over integers.
    Series {
        start: Expr,
        stop: Expr,
        step: Option<Expr>,
        ty: basalt_catalog::DataType,
    },
    Filter {
        input: Box<Plan>,
        pred: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
    },
    Join {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        on: Option<Expr>,
        left_width: usize,
        right_width: usize,
    },
    /// LATERAL: `right` runs once per left row, reading it as its
    /// enclosing row (`Expr::Outer` depth 1); Inner or Left.
    LateralJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        on: Option<Expr>,
        right_width: usize,
    },
    /// Equi-join on keys: (left key exprs, right key exprs) plus a residual.
    HashJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        keys: Vec<(Expr, Expr)>,
        residual: Option<Expr>,
        left_width: usize,
        right_width: usize,
    },
    /// Merge join: both inputs sorted ascending (NULLs last) on their key
    /// expressions; rows with equal keys meet; Inner, Left or Full.
    MergeJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        keys: Vec<(Expr, Expr)>,
        residual: Option<Expr>,
        left_width: usize,
        right_width: usize,
    },
    /// Index nested loop: for each left row, `right` (an IndexScan whose
    /// bounds are expressions over the left row) is probed, and the joined
    /// rows that pass `residual` come out; Inner or Left.
    IndexJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        residual: Option<Expr>,
        left_width: usize,
        right_width: usize,
    },
    Aggregate {
        input: Box<Plan>,
        group: Vec<Expr>,
        aggs: Vec<AggCall>,
        /// GROUPING SETS / ROLLUP / CUBE: the sets of `group` positions to
        /// group by in turn (the others are NULL in that set's rows).
        /// Empty: group by all of `group`.
        sets: Vec<Vec<usize>>,
    },
    /// Set-returning functions in a SELECT list (generate_series): each
    /// input row repeated once per value of the longest call, with one
    /// more column per call (NULL where a shorter call has run out).
    ProjectSet {
        input: Box<Plan>,
        calls: Vec<(String, Vec<Expr>)>,
    },
    /// Window functions: each input row with one more column per call.
    Window {
        input: Box<Plan>,
        calls: Vec<WindowCall>,
    },
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
    },
    Limit {
        input: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    /// FETCH FIRST n ROWS WITH TIES: after `offset` rows, `limit` rows and
    /// then every row equal to the last in the sort `keys` (its input is
    /// the Sort).
    LimitTies {
        input: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
        keys: Vec<SortKey>,
    },
    Distinct {
        input: Box<Plan>,
    },
    /// DISTINCT ON: the first row (in input order) of each set of rows
    /// equal in columns `cols`.
    DistinctOn {
        input: Box<Plan>,
        cols: Vec<usize>,
    },
    Union {
        inputs: Vec<Plan>,
        all: bool,
    },
    /// INTERSECT [ALL] (intersect) or EXCEPT [ALL] of two queries' rows
    /// (NULLs equal, as for DISTINCT).
    SetOp {
        left: Box<Plan>,
        right: Box<Plan>,
        intersect: bool,
        all: bool,
    },
    /// WITH RECURSIVE: the rows of `base`, then of `recursive` run again
    /// and again over the rows the previous round added (which it reads as
    /// `WorkTable { id }`) until a round adds none. Without `all`,
    /// duplicate rows are dropped.
    RecursiveUnion {
        id: usize,
        base: Box<Plan>,
        recursive: Box<Plan>,
        all: bool,
    },
    /// The rows the current round of RecursiveUnion `id` works on.
    WorkTable {
        id: usize,
        width: usize,
    },
    /// The scan's rows with each row's TID appended as one more column (an
    /// int8: block << 16 | slot), for LockRows above.
    WithTid {
        input: Box<Plan>,
    },
    /// SELECT ... FOR UPDATE/SHARE: locks the tuple of each input row (its
    /// TID in column `tid_col`). A row changed by a committed concurrent
    /// transaction is re-read at its newest version, `pred` re-checked and
    /// the row recomputed from it by `exprs` (READ COMMITTED), or fails with
    /// 40001 (REPEATABLE READ and SERIALIZABLE).
    LockRows {
        input: Box<Plan>,
        table: Arc<TableDef>,
        tid_col: usize,
        strength: RowLockStrength,
        wait: LockWaitPolicy,
        pred: Option<Expr>,
        exprs: Vec<Expr>,
    },
    /// SELECT ... FOR UPDATE/SHARE over joins: locks, for each joined row,
    /// the tuple of every target table (a NULL TID, from the outer side of a
    /// LEFT JOIN, is skipped). A target changed by a committed concurrent
    /// transaction is re-read at its newest version in place and `pred`
    /// re-checked (READ COMMITTED), or fails with 40001.
    LockJoinRows {
        input: Box<Plan>,
        targets: Vec<LockTarget>,
        strength: RowLockStrength,
        wait: LockWaitPolicy,
        pred: Option<Expr>,
    },
}

/// A table whose rows a LockJoinRows locks: its TID column and where its
/// columns start in the joined row.
#[derive(Debug, Clone, PartialEq)]
pub struct LockTarget {
    pub table: Arc<TableDef>,
    pub tid_col: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLockStrength {
    KeyShare,
    Share,
    NoKeyUpdate,
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWaitPolicy {
    Block,
    NoWait,
    SkipLocked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: DataType,
    /// (table oid, column number) when the field is a plain table column.
    pub source: Option<(u32, i16)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub plan: Plan,
    pub fields: Vec<Field>,
}

/// DDL of enum types.
#[derive(Debug, Clone, PartialEq)]
pub enum EnumDdl {
    Create {
        namespace: u32,
        name: String,
        labels: Vec<String>,
    },
    /// ALTER TYPE ADD VALUE [IF NOT EXISTS] 'x' [BEFORE | AFTER 'y'];
    /// `place` is (before?, neighbour).
    AddValue {
        oid: u32,
        label: String,
        place: Option<(bool, String)>,
        if_not_exists: bool,
    },
    RenameValue {
        oid: u32,
        from: String,
        to: String,
    },
    Rename {
        oid: u32,
        to: String,
    },
    Drop {
        oids: Vec<u32>,
        missing: Vec<String>,
        cascade: bool,
    },
}

/// What ALTER TABLE changes.
#[derive(Debug, Clone, PartialEq)]
pub enum AlterAction {
    RenameTable(String),
    RenameColumn {
        column: usize,
        to: String,
    },
    /// The new column, and the value existing rows get (its DEFAULT).
    AddColumn {
        column: basalt_catalog::ColumnDef,
        fill: Option<Expr>,
    },
    /// ADD CONSTRAINT ... CHECK: existing rows must satisfy it.
    AddCheck {
        name: String,
        sql: String,
    },
    /// ADD CONSTRAINT ... FOREIGN KEY: existing rows must satisfy it.
    AddForeignKey(basalt_catalog::store::ForeignKey),
    /// COMMENT ON TABLE (sub 0) or COLUMN (its number); None removes it.
    Comment {
        sub: i32,
        text: Option<String>,
    },
    /// DROP COLUMN: the table is rewritten without it; indexes and
    /// constraints on it go too (and, with CASCADE, other tables' foreign
    /// keys to it).
    DropColumn {
        column: usize,
        cascade: bool,
    },
    /// ALTER COLUMN TYPE: the table is rewritten with each value converted
    /// (by `using`, an expression over the old row, or by a cast).
    AlterType {
        column: usize,
        ty: DataType,
        using: Option<Expr>,
    },
    /// ALTER COLUMN SET DEFAULT (SQL text) / DROP DEFAULT (None).
    SetDefault {
        column: usize,
        default: Option<String>,
    },
    /// ALTER COLUMN ADD GENERATED ... AS IDENTITY: the column's sequence is
    /// made and it defaults to it.
    AddIdentity {
        column: usize,
        identity: basalt_catalog::Identity,
        sequence: basalt_catalog::store::SequenceDef,
        default: String,
    },
    /// ALTER COLUMN SET NOT NULL (existing rows are checked) / DROP NOT NULL.
    SetNotNull {
        column: usize,
        not_null: bool,
    },
    /// DROP CONSTRAINT: a CHECK, a FOREIGN KEY, or the index of a PRIMARY
    /// KEY / UNIQUE constraint.
    DropConstraint {
        name: String,
        cascade: bool,
    },
}

/// SET list of an UPDATE: (column, new value).
pub type Assignments = Vec<(usize, Expr)>;

/// INSERT ... ON CONFLICT: which unique indexes decide a conflict (all of
/// them when empty, for DO NOTHING), and for DO UPDATE the assignments and
/// condition, evaluated over the existing row followed by the row proposed
/// for insertion (`excluded`).
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    pub indexes: Vec<usize>,
    pub update: Option<(Assignments, Option<Expr>)>,
}

/// A DML statement's target scan: rows of the table matching a predicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub table: Arc<TableDef>,
    /// SeqScan or IndexScan over `table` (with the WHERE clause as filter).
    pub scan: Plan,
    /// The WHERE clause alone, re-checked on a newer row version.
    pub pred: Option<Expr>,
    /// UPDATE ... FROM / DELETE ... USING: the other relations, joined to
    /// each target row.
    pub from: Option<Box<FromJoin>>,
}

/// The relations of UPDATE ... FROM or DELETE ... USING: their rows
/// (`width` columns), matched to a target row by equal `keys` (target-side
/// expression, FROM-side expression) and the `residual` condition over the
/// target row followed by the FROM row. A target row with no match is left
/// alone; with several, the first is used.
#[derive(Debug, Clone, PartialEq)]
pub struct FromJoin {
    pub plan: Plan,
    pub width: usize,
    pub keys: Vec<(Expr, Expr)>,
    pub residual: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TxnMode {
    Isolation(String),
    ReadOnly(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CopyOptions {
    pub format: CopyFormat,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
    /// CSV out: the columns (by position) always quoted.
    pub force_quote: Vec<usize>,
}

/// Role attributes given to CREATE/ALTER ROLE (None: not mentioned).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleOptions {
    pub superuser: Option<bool>,
    pub login: Option<bool>,
    pub createdb: Option<bool>,
    pub createrole: Option<bool>,
    pub inherit: Option<bool>,
    pub connlimit: Option<i32>,
    /// Some(None): PASSWORD NULL.
    pub password: Option<Option<String>>,
}

/// What GRANT/REVOKE applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum GrantTarget {
    Tables(Vec<Arc<TableDef>>),
    /// Schema OIDs.
    Schemas(Vec<u32>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Query(Query),
    /// A statement whose WITH clause holds INSERT, UPDATE or DELETE: each
    /// of those runs first, in order, its RETURNING rows becoming work
    /// table `id` (`Plan::WorkTable`) that `main` reads.
    WithDml {
        pre: Vec<(usize, Statement)>,
        main: Box<Statement>,
    },
    Insert {
        table: Arc<TableDef>,
        source: Plan,
        returning: Option<Query>,
        on_conflict: Option<OnConflict>,
    },
    Update {
        target: Target,
        assignments: Vec<(usize, Expr)>,
        returning: Option<Query>,
    },
    Delete {
        target: Target,
        returning: Option<Query>,
    },
    CreateTable {
        def: TableDef,
        if_not_exists: bool,
        /// CREATE TABLE ... AS query: the rows to fill it with.
        query: Option<Box<Query>>,
        /// Sequences of serial and identity columns (owned_by: (0, attnum)
        /// until the table has its OID).
        sequences: Vec<basalt_catalog::store::SequenceDef>,
    },
    /// ALTER TABLE RENAME [COLUMN] / ADD COLUMN.
    AlterTable {
        table: Arc<TableDef>,
        action: AlterAction,
    },
    CreateSequence {
        def: basalt_catalog::store::SequenceDef,
        if_not_exists: bool,
    },
    /// ALTER SEQUENCE: the sequence as it becomes (None: it did not exist,
    /// IF EXISTS named it), and the value RESTART sets.
    AlterSequence {
        def: Option<basalt_catalog::store::SequenceDef>,
        name: String,
        restart: Option<i64>,
    },
    /// DROP SEQUENCE: sequences by OID; names that did not exist.
    DropSequence {
        seqs: Vec<u32>,
        missing: Vec<String>,
    },
    DropTable {
        tables: Vec<Arc<TableDef>>,
        missing: Vec<String>,
        /// CASCADE: other tables' foreign keys to them, and views over
        /// them, go too.
        cascade: bool,
    },
    Truncate {
        tables: Vec<Arc<TableDef>>,
    },
    AddIndex {
        table: Arc<TableDef>,
        name: String,
        /// Key columns; `EXPR_KEY + j` for `exprs[j]`.
        columns: Vec<usize>,
        exprs: Vec<String>,
        predicate: Option<String>,
        unique: bool,
        primary: bool,
        if_not_exists: bool,
    },
    DropIndex {
        table: Arc<TableDef>,
        index: usize,
    },
    Begin(Vec<TxnMode>),
    /// COMMIT [AND CHAIN]
    Commit {
        chain: bool,
    },
    /// ROLLBACK [AND CHAIN]
    Rollback {
        chain: bool,
    },
    Savepoint(String),
    ReleaseSavepoint(String),
    RollbackToSavepoint(String),
    /// SET TRANSACTION (or, with `session`, SET SESSION CHARACTERISTICS AS
    /// TRANSACTION).
    SetTransaction {
        modes: Vec<TxnMode>,
        session: bool,
    },
    /// LOCK TABLE: mode 1 (ACCESS SHARE) to 8 (ACCESS EXCLUSIVE).
    LockTable {
        tables: Vec<Arc<TableDef>>,
        mode: u8,
        nowait: bool,
    },
    Set {
        name: String,
        value: Option<String>,
        local: bool,
    },
    Show {
        name: String,
    },
    CopyFrom {
        table: Arc<TableDef>,
        columns: Vec<usize>,
        options: CopyOptions,
        /// The DEFAULTs of the columns the COPY does not list.
        defaults: Vec<(usize, Expr)>,
    },
    CopyTo {
        query: Query,
        options: CopyOptions,
    },
    Checkpoint,
    /// DECLARE name [SCROLL] CURSOR [WITH HOLD] FOR query; `scroll` is
    /// false for NO SCROLL.
    DeclareCursor {
        name: String,
        query: Query,
        hold: bool,
        scroll: bool,
    },
    /// FETCH / MOVE.
    Fetch {
        cursor: String,
        dir: basalt_parser::FetchDir,
        move_only: bool,
    },
    /// CLOSE name / CLOSE ALL (None).
    CloseCursor(Option<String>),
    /// LISTEN channel.
    Listen(String),
    /// UNLISTEN channel; None for UNLISTEN *.
    Unlisten(Option<String>),
    /// NOTIFY channel [, payload].
    Notify {
        channel: String,
        payload: String,
    },
    /// Tables with the columns named for ANALYZE (empty: all).
    Vacuum {
        full: bool,
        verbose: bool,
        analyze: bool,
        tables: Vec<(Arc<TableDef>, Vec<usize>)>,
    },
    Analyze {
        tables: Vec<(Arc<TableDef>, Vec<usize>)>,
    },
    Backup {
        to: String,
        incremental_from: Option<String>,
    },
    /// CREATE, DROP and ALTER DATABASE, as parsed.
    Database(basalt_parser::DatabaseDdl),
    /// CREATE [OR REPLACE] VIEW: the query's text and output column names.
    CreateView {
        namespace: u32,
        name: String,
        sql: String,
        columns: Vec<String>,
        /// The columns' types.
        types: Vec<DataType>,
        or_replace: bool,
    },
    /// ALTER TABLE with several actions: each as its own ALTER TABLE
    /// (SQL text), planned and run in turn in the same transaction, so
    /// later actions see what earlier ones did.
    AlterTableSteps(Vec<String>),
    /// CREATE TYPE ... AS ENUM, ALTER TYPE, DROP TYPE.
    Enum(EnumDdl),
    /// CREATE SCHEMA [IF NOT EXISTS] name [AUTHORIZATION role].
    CreateSchema {
        name: String,
        owner: Option<String>,
        if_not_exists: bool,
    },
    /// DROP SCHEMA: schemas by OID; names not found (IF EXISTS); with
    /// CASCADE the objects in them go too.
    DropSchema {
        schemas: Vec<u32>,
        missing: Vec<String>,
        cascade: bool,
    },
    /// DROP VIEW: views by OID; names that did not exist (IF EXISTS).
    DropView {
        views: Vec<u32>,
        missing: Vec<String>,
    },
    /// EXPLAIN [ANALYZE] of a query or DML statement.
    Explain {
        stmt: Box<Statement>,
        analyze: bool,
        /// FORMAT JSON (else text).
        json: bool,
        /// BUFFERS: shared buffer hits and reads (with ANALYZE).
        buffers: bool,
    },
    /// CREATE ROLE / CREATE USER (USER: LOGIN unless told otherwise).
    CreateRole {
        name: String,
        opts: RoleOptions,
        if_not_exists: bool,
    },
    /// ALTER ROLE name [WITH options] | RENAME TO new.
    AlterRole {
        name: String,
        opts: RoleOptions,
        rename: Option<String>,
    },
    DropRole {
        names: Vec<String>,
        if_exists: bool,
    },
    /// GRANT/REVOKE privileges ON tables or schemas TO/FROM roles
    /// (None: PUBLIC).
    Grant {
        revoke: bool,
        privs: u32,
        target: GrantTarget,
        grantees: Vec<Option<String>>,
    },
    /// ALTER TABLE t OWNER TO role.
    AlterOwner {
        table: Arc<TableDef>,
        owner: String,
    },
    /// SET ROLE name / SET SESSION AUTHORIZATION name (None: back to the
    /// session user, as RESET ROLE and ... DEFAULT do).
    SetRole {
        role: Option<String>,
        session: bool,
    },
    /// REINDEX: the table and which of its indexes (all for REINDEX TABLE).
    Reindex {
        table: Arc<TableDef>,
        indexes: Vec<usize>,
    },
    /// A statement accepted and ignored, with the command tag to answer.
    NoOp {
        tag: String,
        notice: Option<String>,
    },
}

impl Plan {
    /// Whether this plan, run as a subquery, refers to a row of a query
    /// enclosing it (an `Outer` reaching past it). An uncorrelated subquery
    /// gives the same rows for every outer row, so it runs once per
    /// statement, as PostgreSQL's InitPlans do.
    pub fn is_correlated(&self) -> bool {
        plan_reaches_out(self, 0)
    }
}

/// Whether `p`, nested `level` subqueries deep inside the subquery being
/// asked about, has an `Outer` reaching past that subquery.
fn plan_reaches_out(p: &Plan, level: usize) -> bool {
    let e = |x: &Expr| expr_reaches_out(x, level);
    let opt = |x: &Option<Expr>| x.as_ref().is_some_and(e);
    match p {
        Plan::Single => false,
        Plan::SeqScan { filter, .. } | Plan::System { filter, .. } => opt(filter),
        Plan::IndexScan { bounds, filter, .. } => {
            opt(filter)
                || bounds.eq.iter().any(e)
                || bounds.lo.as_ref().is_some_and(|(x, _)| e(x))
                || bounds.hi.as_ref().is_some_and(|(x, _)| e(x))
        }
        Plan::Values { rows } => rows.iter().flatten().any(e),
        Plan::Series {
            start, stop, step, ..
        } => e(start) || e(stop) || opt(step),
        Plan::Function { args, .. } => args.iter().any(e),
        Plan::Filter { input, pred } => e(pred) || plan_reaches_out(input, level),
        Plan::Project { input, exprs } => exprs.iter().any(e) || plan_reaches_out(input, level),
        Plan::Join {
            left, right, on, ..
        } => opt(on) || plan_reaches_out(left, level) || plan_reaches_out(right, level),
        Plan::LateralJoin {
            left, right, on, ..
        } => opt(on) || plan_reaches_out(left, level) || plan_reaches_out(right, level + 1),
        Plan::HashJoin {
            left,
            right,
            keys,
            residual,
            ..
        } => {
            keys.iter().any(|(a, b)| e(a) || e(b))
                || opt(residual)
                || plan_reaches_out(left, level)
                || plan_reaches_out(right, level)
        }
        Plan::IndexJoin {
            left,
            right,
            residual,
            ..
        } => opt(residual) || plan_reaches_out(left, level) || plan_reaches_out(right, level),
        Plan::MergeJoin {
            left,
            right,
            keys,
            residual,
            ..
        } => {
            keys.iter().any(|(a, b)| e(a) || e(b))
                || opt(residual)
                || plan_reaches_out(left, level)
                || plan_reaches_out(right, level)
        }
        Plan::Aggregate {
            input, group, aggs, ..
        } => {
            group.iter().any(e)
                || aggs.iter().any(|a| {
                    a.args.iter().any(e)
                        || a.order.iter().any(|k| e(&k.expr))
                        || a.filter.as_ref().is_some_and(e)
                })
                || plan_reaches_out(input, level)
        }
        Plan::ProjectSet { input, calls } => {
            calls.iter().any(|(_, a)| a.iter().any(e)) || plan_reaches_out(input, level)
        }
        Plan::Window { input, calls } => {
            calls.iter().any(|c| {
                c.args.iter().any(e)
                    || c.partition.iter().any(e)
                    || c.order.iter().any(|k| e(&k.expr))
            }) || plan_reaches_out(input, level)
        }
        Plan::Sort { input, keys } => {
            keys.iter().any(|k| e(&k.expr)) || plan_reaches_out(input, level)
        }
        Plan::Limit {
            input,
            limit,
            offset,
        } => opt(limit) || opt(offset) || plan_reaches_out(input, level),
        Plan::LimitTies {
            input,
            limit,
            offset,
            keys,
        } => {
            opt(limit)
                || opt(offset)
                || keys.iter().any(|k| e(&k.expr))
                || plan_reaches_out(input, level)
        }
        Plan::Distinct { input } | Plan::DistinctOn { input, .. } | Plan::WithTid { input } => {
            plan_reaches_out(input, level)
        }
        Plan::Union { inputs, .. } => inputs.iter().any(|i| plan_reaches_out(i, level)),
        Plan::SetOp { left, right, .. }
        | Plan::RecursiveUnion {
            base: left,
            recursive: right,
            ..
        } => plan_reaches_out(left, level) || plan_reaches_out(right, level),
        Plan::WorkTable { .. } => false,
        Plan::LockRows {
            input, pred, exprs, ..
        } => opt(pred) || exprs.iter().any(e) || plan_reaches_out(input, level),
        Plan::LockJoinRows { input, pred, .. } => opt(pred) || plan_reaches_out(input, level),
    }
}

fn expr_reaches_out(x: &Expr, level: usize) -> bool {
    let mut found = false;
    x.clone().visit_mut(&mut |y| match y {
        Expr::Outer { depth, .. } if *depth > level => found = true,
        Expr::Subquery(p)
        | Expr::ArraySubquery(p)
        | Expr::Exists(p, _)
        | Expr::InSubquery(_, p, _)
            if plan_reaches_out(p, level + 1) =>
        {
            found = true
        }
        _ => {}
    });
    found
}
