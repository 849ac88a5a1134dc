//! The binder: sqlparser AST + catalog schema → typed plans. Name resolution
//! follows PostgreSQL (unqualified names search pg_catalog then public;
//! identifiers are case-folded by the parser unless quoted), as do the rules
//! for typing literals: an undecorated string is `unknown` until context
//! gives it a type, integers are int4 (int8 or numeric when large).

#[path = "bind_arrays.rs"]
mod bind_arrays;
#[path = "bind_json.rs"]
mod bind_json;
#[path = "bind_calls.rs"]
mod calls;
#[path = "bind_ddl.rs"]
mod ddl;
#[path = "decorrelate.rs"]
mod decorrelate;
#[path = "bind_dml.rs"]
mod dml;
#[path = "roles.rs"]
mod roles;

use crate::cost::Estimates;
use crate::error::{PlanError, Result};
use crate::joins::{
    and_all, conjuncts, is_const, join_rels, make_join, refs_only, shift, FromRels,
};
use crate::plan::*;
use basalt_catalog::store::{NS_PG_CATALOG, NS_PUBLIC};
use basalt_catalog::{cast, system, ColumnDef, DataType, Identity, Schema, TableDef, Value};
use basalt_parser::Statement as PStmt;
use sqlparser::ast;
use std::sync::Arc;

#[derive(Debug, Clone)]
struct ScopeCol {
    table: Option<String>,
    name: String,
    ty: DataType,
    /// The table and attribute number behind the column (-1: the TID).
    source: Option<(u32, i16)>,
    /// The right copy of a column merged by JOIN ... USING: reachable only
    /// qualified, and not part of `*`.
    hidden: bool,
}

#[derive(Debug, Clone, Default)]
struct Scope {
    cols: Vec<ScopeCol>,
    /// The columns `*` expands to, where that is not every visible column
    /// in order (after JOIN ... USING, the merged columns come first).
    star: Option<Vec<usize>>,
}

impl Scope {
    fn star_cols(&self) -> Vec<usize> {
        match &self.star {
            Some(s) => s.clone(),
            None => (0..self.cols.len())
                .filter(|&i| !self.cols[i].hidden && self.cols[i].name != TID_COLUMN)
                .collect(),
        }
    }

    /// This scope's columns followed by `r`'s.
    fn concat(&self, r: &Scope) -> Scope {
        let star = (self.star.is_some() || r.star.is_some()).then(|| {
            let w = self.cols.len();
            let mut v = self.star_cols();
            v.extend(r.star_cols().into_iter().map(|i| i + w));
            v
        });
        let mut cols = self.cols.clone();
        cols.extend(r.cols.iter().cloned());
        Scope { cols, star }
    }
}

struct AggCtx {
    groups: Vec<ast::Expr>,
    /// The GROUP BY expressions bound over the input.
    group: Vec<Expr>,
    group_types: Vec<DataType>,
    input: Scope,
    aggs: Vec<AggCall>,
}

pub struct Binder<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) est: &'a dyn Estimates,
    /// Schemas searched for unqualified names, in order; the first is where
    /// CREATE puts unqualified objects.
    pub(crate) search_path: Vec<u32>,
    /// The session's temporary schema, searched before all others.
    pub(crate) temp_ns: Option<u32>,
    pub params: Vec<DataType>,
    agg: Option<AggCtx>,
    /// Scopes of the queries enclosing the one being bound, outermost
    /// first: a correlated subquery's column may resolve to one of them.
    outer: Vec<Scope>,
    /// FOR UPDATE/SHARE of the query being bound, taken by `select`:
    /// strength, wait policy, and the table named by OF (if any).
    locking: Option<(RowLockStrength, LockWaitPolicy, Option<String>)>,
    /// Set while binding the FROM of a locking join: table scans carry
    /// their rows' TIDs in a hidden column (see `TID_COLUMN`).
    tid_scans: bool,
    /// Tables (by alias) on the nullable side of a LEFT JOIN, while
    /// `tid_scans` is set: FOR UPDATE cannot lock them.
    nullable: Vec<String>,
    /// Common table expressions in scope (WITH), innermost last.
    ctes: Vec<CteDef>,
    /// Which scan and join methods may be chosen.
    pub(crate) flags: PlannerFlags,
    /// The statement's data-modifying WITH queries, with the work table
    /// each one's RETURNING rows fill.
    dml_ctes: Vec<(usize, Statement)>,
    /// Work tables numbered so far (WITH RECURSIVE).
    work_tables: usize,
    /// Window function calls of the SELECT list being bound (None where
    /// window functions are not allowed).
    windows: Option<Vec<WindowCall>>,
    /// The WINDOW clause of the SELECT being bound.
    named_windows: Vec<(String, ast::WindowSpec)>,
    /// Where a window function found now would be ("in WHERE", ...).
    window_where: &'static str,
    /// Set-returning calls of the SELECT list being bound (None where they
    /// are not allowed).
    srfs: Option<Vec<(String, Vec<Expr>)>>,
}

/// Set-returning results are bound as columns numbered from here.
const SRF_BASE: usize = 1 << 41;

/// Window results are bound as columns numbered from here, renumbered once
/// the width of the window's input is known.
const WINDOW_BASE: usize = 1 << 40;

/// A WITH query as FROM items see it: its plan (inlined where it is named)
/// and its columns.
struct CteDef {
    name: String,
    plan: Plan,
    fields: Vec<Field>,
    columns: Vec<String>,
    /// An INSERT, UPDATE or DELETE without RETURNING: it runs, but has no
    /// rows to read.
    no_rows: bool,
}

/// The largest share of a table an index scan is chosen to read (beyond
/// it a sequential scan costs less).
const INDEX_SCAN_MAX_SHARE: f64 = 0.2;

/// Name of the hidden column that carries a row's TID in a locking join;
/// no SQL identifier can name it, and `*` does not expand to it.
const TID_COLUMN: &str = "\u{1}ctid";

/// Plans one parsed statement. `params` are the parameter types the client
/// declared (Unknown where it left them open); the returned vector has the
/// types the statement gave them.
#[allow(clippy::too_many_arguments)]
pub fn plan_statement(
    schema: &Schema,
    est: &dyn Estimates,
    stmt: &PStmt,
    params: &[DataType],
    search_path: &[u32],
    temp_ns: Option<u32>,
    flags: PlannerFlags,
) -> Result<(Statement, Vec<DataType>)> {
    let mut b = Binder::new(schema, est, params);
    b.search_path = search_path.to_vec();
    b.temp_ns = temp_ns;
    b.flags = flags;
    let s = b.statement(stmt)?;
    let params = b
        .params
        .iter()
        .map(|t| {
            if *t == DataType::Unknown {
                DataType::Text
            } else {
                *t
            }
        })
        .collect();
    Ok((s, params))
}

/// A table's CHECK constraint bound over its row (`sql` as stored).
pub fn bind_check(schema: &Schema, table: &TableDef, sql: &str) -> Result<Expr> {
    let mut b = Binder::new(schema, &crate::cost::NoEstimates, &[]);
    let e = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| PlanError::Syntax(e.to_string()))?;
    let (x, t) = b.expr(&e, &table_scope(table, &table.name))?;
    b.to_bool(x, t, "CHECK")
}

/// The tables a view's query names (last name part, lower-cased as
/// written), for DROP TABLE's dependency check.
pub fn view_relations(sql: &str) -> Vec<String> {
    let Ok(q) = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_query())
    else {
        return vec![];
    };
    let mut out = Vec::new();
    let _ = ast::visit_relations(&q, |r| {
        if let Some(n) = object_parts(r).last() {
            out.push(n.clone());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    out
}

/// A stored expression (CHECK, index key or predicate) with a column
/// renamed; None if the text does not parse.
pub fn rename_column_in_sql(sql: &str, old: &str, new: &str) -> Option<String> {
    let mut e = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let _ = ast::visit_expressions_mut(&mut e, |x| {
        match x {
            ast::Expr::Identifier(i) if ident(i) == old => *i = ast::Ident::with_quote('"', new),
            ast::Expr::CompoundIdentifier(v) => {
                if let Some(last) = v.last_mut() {
                    if ident(last) == old {
                        *last = ast::Ident::with_quote('"', new);
                    }
                }
            }
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    Some(e.to_string())
}

/// An expression over a table's row, stored as SQL text (an index's
/// expression key).
pub fn bind_table_expr(schema: &Schema, table: &TableDef, sql: &str) -> Result<(Expr, DataType)> {
    let mut b = Binder::new(schema, &crate::cost::NoEstimates, &[]);
    let e = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| PlanError::Syntax(e.to_string()))?;
    let (x, t) = b.expr(&e, &table_scope(table, &table.name))?;
    Ok((x, output_type(t)))
}

/// An index's keys as expressions over the table's row: its columns, and
/// its expression keys bound. None if an expression no longer binds.
pub fn index_key_exprs(
    schema: &Schema,
    table: &TableDef,
    ix: &basalt_catalog::IndexDef,
) -> Option<Vec<Expr>> {
    ix.columns
        .iter()
        .map(|&c| match c.checked_sub(basalt_catalog::store::EXPR_KEY) {
            None => Some(Expr::Column(c)),
            Some(j) => Some(bind_table_expr(schema, table, ix.exprs.get(j)?).ok()?.0),
        })
        .collect()
}

/// Whether a query's conjuncts include every conjunct of a partial
/// index's predicate (then the index holds every row the query wants).
pub fn predicate_implied(
    schema: &Schema,
    table: &TableDef,
    ix: &basalt_catalog::IndexDef,
    conj: &[&Expr],
) -> bool {
    let Some(p) = &ix.predicate else {
        return true;
    };
    match bind_check(schema, table, p) {
        Ok(pe) => conjuncts(&pe).iter().all(|c| conj.contains(c)),
        Err(_) => false,
    }
}

pub fn ident(i: &ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// FORCE_QUOTE's columns as positions in the COPY's output.
fn force_quoted(names: &[String], fields: &[Field], o: &CopyOptions) -> Result<Vec<usize>> {
    if names.is_empty() {
        return Ok(vec![]);
    }
    if o.format != CopyFormat::Csv {
        return Err(PlanError::Coded(
            "0A000",
            "COPY FORCE_QUOTE requires CSV mode".into(),
        ));
    }
    if names.iter().any(|n| n == "*") {
        return Ok((0..fields.len()).collect());
    }
    names
        .iter()
        .map(|n| {
            fields.iter().position(|f| &f.name == n).ok_or_else(|| {
                PlanError::Coded(
                    "42703",
                    format!("FORCE_QUOTE column \"{n}\" not referenced by COPY"),
                )
            })
        })
        .collect()
}

/// An identifier cut to PostgreSQL's 63 bytes, as its lexer does.
fn name_ident(i: &ast::Ident) -> String {
    let mut s = ident(i);
    if s.len() > 63 {
        let mut end = 63;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn object_parts(n: &ast::ObjectName) -> Vec<String> {
    n.0.iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => ident(i),
            other => other.to_string(),
        })
        .collect()
}

fn not_supported<T>(what: impl std::fmt::Display) -> Result<T> {
    Err(PlanError::NotSupported(format!(
        "{what} is not supported yet"
    )))
}

pub fn convert_type(t: &ast::DataType) -> Result<DataType> {
    use ast::DataType as A;
    let len = |l: &Option<ast::CharacterLength>| -> Option<u32> {
        match l {
            Some(ast::CharacterLength::IntegerLength { length, .. }) => Some(*length as u32),
            _ => None,
        }
    };
    Ok(match t {
        A::Boolean | A::Bool => DataType::Bool,
        A::SmallInt(_) | A::Int2(_) => DataType::Int2,
        A::Int(_) | A::Integer(_) | A::Int4(_) => DataType::Int4,
        A::BigInt(_) | A::Int8(_) => DataType::Int8,
        A::Real | A::Float4 => DataType::Float4,
        A::DoublePrecision | A::Float8 | A::Double(_) => DataType::Float8,
        A::Float(p) => match p {
            ast::ExactNumberInfo::Precision(n) | ast::ExactNumberInfo::PrecisionAndScale(n, _)
                if *n <= 24 =>
            {
                DataType::Float4
            }
            _ => DataType::Float8,
        },
        A::Numeric(info) | A::Decimal(info) | A::Dec(info) => match info {
            ast::ExactNumberInfo::None => DataType::Numeric(None),
            ast::ExactNumberInfo::Precision(p) => DataType::Numeric(Some((*p as u32, 0))),
            ast::ExactNumberInfo::PrecisionAndScale(p, s) => {
                DataType::Numeric(Some((*p as u32, *s as u32)))
            }
        },
        A::Text | A::String(_) => DataType::Text,
        A::Varchar(l) | A::CharacterVarying(l) | A::CharVarying(l) => DataType::Varchar(len(l)),
        A::Char(l) | A::Character(l) => DataType::Char(len(l).unwrap_or(1)),
        A::Bytea => DataType::Bytea,
        A::Date => DataType::Date,
        A::Interval { .. } => DataType::Interval,
        A::Uuid => DataType::Uuid,
        A::Time(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => DataType::Time,
        A::Timestamp(_, tz) => match tz {
            ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz => DataType::TimestampTz,
            _ => DataType::Timestamp,
        },
        A::Custom(name, mods) => {
            let n = object_parts(name).last().cloned().unwrap_or_default();
            match n.as_str() {
                "int2" | "smallserial" | "serial2" => DataType::Int2,
                "int4" | "int" | "integer" | "serial" | "serial4" => DataType::Int4,
                "int8" | "bigserial" | "serial8" => DataType::Int8,
                "float4" => DataType::Float4,
                "float8" => DataType::Float8,
                "bool" => DataType::Bool,
                "text" => DataType::Text,
                "varchar" => DataType::Varchar(mods.first().and_then(|m| m.parse().ok())),
                "bpchar" => DataType::Char(mods.first().and_then(|m| m.parse().ok()).unwrap_or(1)),
                "timestamptz" => DataType::TimestampTz,
                "oid" | "regclass" | "regtype" | "regproc" | "regnamespace" | "regrole"
                | "regprocedure" | "regoper" | "regconfig" => DataType::Oid,
                // The catalogs' one-byte "char", aclitem and expression
                // trees read as text.
                "char" => DataType::QChar,
                "aclitem" | "pg_node_tree" => DataType::Text,
                "name" => DataType::Name,
                "numeric" => DataType::Numeric(None),
                "uuid" => DataType::Uuid,
                "json" => DataType::Json,
                "jsonb" => DataType::Jsonb,
                n if basalt_catalog::enums::type_named_anywhere(n).is_some() => {
                    DataType::Enum(basalt_catalog::enums::type_named_anywhere(n).expect("checked"))
                }
                n if n.starts_with('_') => {
                    let e = ast::DataType::Custom(
                        ast::ObjectName::from(vec![ast::Ident::new(&n[1..])]),
                        vec![],
                    );
                    match convert_type(&e) {
                        Ok(t) if !matches!(t, DataType::Array(_)) => t.array_of(),
                        _ => {
                            return Err(PlanError::UndefinedObject(format!(
                                "type \"{n}\" does not exist"
                            )))
                        }
                    }
                }
                _ => {
                    return Err(PlanError::UndefinedObject(format!(
                        "type \"{n}\" does not exist"
                    )))
                }
            }
        }
        A::Regclass => DataType::Oid,
        A::JSON => DataType::Json,
        A::JSONB => DataType::Jsonb,
        A::Array(
            ast::ArrayElemTypeDef::SquareBracket(e, _)
            | ast::ArrayElemTypeDef::AngleBracket(e)
            | ast::ArrayElemTypeDef::Parenthesis(e),
        ) => convert_type(e)?.array_of(),
        other => {
            return Err(PlanError::UndefinedObject(format!(
                "type \"{other}\" does not exist"
            )))
        }
    })
}

/// 42883 for an operator the operand types do not have.
pub(crate) fn no_operator(l: &DataType, op: impl std::fmt::Display, r: &DataType) -> PlanError {
    PlanError::UndefinedFunction(format!(
        "operator does not exist: {} {op} {}",
        l.display_name(),
        r.display_name()
    ))
}

/// A set-returning function in FROM: its calls as a ProjectSet over one
/// empty row; its columns (name, type), renamed by the alias's column list,
/// under the alias (else `fname`).
fn function_scan(
    calls: Vec<(String, Vec<Expr>)>,
    alias: Option<&ast::TableAlias>,
    fname: &str,
    cols: Vec<(String, DataType)>,
) -> (Plan, Scope) {
    let table = alias
        .map(|a| ident(&a.name))
        .unwrap_or_else(|| fname.to_string());
    let names: Vec<String> = alias
        .map(|a| a.columns.iter().map(|c| ident(&c.name)).collect())
        .unwrap_or_default();
    let cols = cols
        .into_iter()
        .enumerate()
        .map(|(k, (n, ty))| ScopeCol {
            table: Some(table.clone()),
            name: names.get(k).cloned().unwrap_or(n),
            ty,
            source: None,
            hidden: false,
        })
        .collect();
    (
        Plan::ProjectSet {
            input: Box::new(Plan::Values { rows: vec![vec![]] }),
            calls,
        },
        Scope { star: None, cols },
    )
}

/// (schema, name) of a possibly qualified name (a database part is ignored).
fn split_name(parts: &[String]) -> Result<(Option<&str>, &str)> {
    Ok(match parts {
        [n] => (None, n.as_str()),
        [s, n] => (Some(s.as_str()), n.as_str()),
        [_, s, n] => (Some(s.as_str()), n.as_str()),
        _ => return Err(PlanError::Syntax("improper qualified name".into())),
    })
}

fn is_agg_name(n: &str) -> Option<AggFunc> {
    Some(match n {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "avg" => AggFunc::Avg,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "bool_and" | "every" => AggFunc::BoolAnd,
        "bool_or" => AggFunc::BoolOr,
        "string_agg" => AggFunc::StringAgg,
        "array_agg" => AggFunc::ArrayAgg,
        "json_agg" => AggFunc::JsonAgg,
        "jsonb_agg" => AggFunc::JsonbAgg,
        "json_object_agg" => AggFunc::JsonObjectAgg,
        "jsonb_object_agg" => AggFunc::JsonbObjectAgg,
        "percentile_cont" => AggFunc::PercentileCont,
        "mode" => AggFunc::Mode,
        "grouping" => AggFunc::Grouping,
        "variance" | "var_samp" => AggFunc::Variance {
            pop: false,
            sqrt: false,
        },
        "var_pop" => AggFunc::Variance {
            pop: true,
            sqrt: false,
        },
        "stddev" | "stddev_samp" => AggFunc::Variance {
            pop: false,
            sqrt: true,
        },
        "stddev_pop" => AggFunc::Variance {
            pop: true,
            sqrt: true,
        },
        "regr_count" => AggFunc::Regr(crate::plan::RegrKind::Count),
        "regr_sxx" => AggFunc::Regr(crate::plan::RegrKind::Sxx),
        "regr_syy" => AggFunc::Regr(crate::plan::RegrKind::Syy),
        "regr_sxy" => AggFunc::Regr(crate::plan::RegrKind::Sxy),
        "regr_avgx" => AggFunc::Regr(crate::plan::RegrKind::AvgX),
        "regr_avgy" => AggFunc::Regr(crate::plan::RegrKind::AvgY),
        "covar_pop" => AggFunc::Regr(crate::plan::RegrKind::CovarPop),
        "covar_samp" => AggFunc::Regr(crate::plan::RegrKind::CovarSamp),
        "corr" => AggFunc::Regr(crate::plan::RegrKind::Corr),
        "regr_r2" => AggFunc::Regr(crate::plan::RegrKind::R2),
        "regr_slope" => AggFunc::Regr(crate::plan::RegrKind::Slope),
        "regr_intercept" => AggFunc::Regr(crate::plan::RegrKind::Intercept),
        "bit_and" => AggFunc::BitAnd,
        "bit_or" => AggFunc::BitOr,
        "percentile_disc" => AggFunc::PercentileDisc,
        _ => return None,
    })
}

/// True when an AST expression holds a subquery.
fn has_subquery_ast(e: &ast::Expr) -> bool {
    struct V;
    impl ast::Visitor for V {
        type Break = ();
        fn pre_visit_query(&mut self, _q: &ast::Query) -> std::ops::ControlFlow<()> {
            std::ops::ControlFlow::Break(())
        }
    }
    ast::Visit::visit(e, &mut V).is_break()
}

/// True when `e` calls an aggregate at its own level (aggregates inside a
/// subquery belong to the subquery).
fn contains_agg(e: &ast::Expr) -> bool {
    struct V {
        depth: usize,
    }
    impl ast::Visitor for V {
        type Break = ();
        fn pre_visit_query(&mut self, _q: &ast::Query) -> std::ops::ControlFlow<()> {
            self.depth += 1;
            std::ops::ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _q: &ast::Query) -> std::ops::ControlFlow<()> {
            self.depth -= 1;
            std::ops::ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, x: &ast::Expr) -> std::ops::ControlFlow<()> {
            if let ast::Expr::Function(f) = x {
                let name = f.name.to_string().to_lowercase();
                let base = name.rsplit('.').next().unwrap_or(&name);
                if self.depth == 0 && f.over.is_none() && is_agg_name(base).is_some() {
                    return std::ops::ControlFlow::Break(());
                }
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    ast::Visit::visit(e, &mut V { depth: 0 }).is_break()
}

fn numeric_rank(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int2 => 1,
        DataType::Int4 | DataType::Oid => 2,
        DataType::Int8 => 3,
        DataType::Numeric(_) => 4,
        DataType::Float4 => 5,
        DataType::Float8 => 6,
        _ => return None,
    })
}

fn arith_type(a: &DataType, b: &DataType) -> Option<DataType> {
    let (ra, rb) = (numeric_rank(a)?, numeric_rank(b)?);
    let r = ra.max(rb);
    Some(match r {
        1 => DataType::Int2,
        2 => DataType::Int4,
        3 => DataType::Int8,
        4 => DataType::Numeric(None),
        5 => {
            if ra == 5 && rb == 5 {
                DataType::Float4
            } else {
                DataType::Float8
            }
        }
        _ => DataType::Float8,
    })
}

/// The result type of arithmetic with intervals and timestamps (None:
/// not such an operation).
fn datetime_arith(op: BinOp, a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    let add_sub = matches!(op, BinOp::Add | BinOp::Sub);
    Some(match (a, b) {
        (Date | Timestamp, Interval) if add_sub => Timestamp,
        (Interval, Date | Timestamp) if op == BinOp::Add => Timestamp,
        (TimestampTz, Interval) if add_sub => TimestampTz,
        (Interval, TimestampTz) if op == BinOp::Add => TimestampTz,
        (Interval, Interval) if add_sub => Interval,
        (Time, Interval) if add_sub => Time,
        (Interval, Time) if op == BinOp::Add => Time,
        (Time, Time) if op == BinOp::Sub => Interval,
        (Timestamp, Timestamp) | (TimestampTz, TimestampTz) if op == BinOp::Sub => Interval,
        (Interval, n) if n.is_numeric() && matches!(op, BinOp::Mul | BinOp::Div) => Interval,
        (n, Interval) if n.is_numeric() && op == BinOp::Mul => Interval,
        _ => return None,
    })
}

/// Types that compare with each other without an explicit cast.
fn comparable(a: &DataType, b: &DataType) -> bool {
    let cat = |t: &DataType| -> u8 {
        match t {
            t if t.is_numeric() => 1,
            t if t.is_string() => 2,
            DataType::Date | DataType::Timestamp | DataType::TimestampTz => 3,
            DataType::Bool => 4,
            DataType::Bytea => 5,
            DataType::Interval => 6,
            DataType::Uuid => 7,
            DataType::Time => 8,
            DataType::Array(_) => 9,
            DataType::Jsonb => 10,
            // json has no comparison operators.
            DataType::Json => 11,
            _ => 0,
        }
    };
    if let (Some(x), Some(y)) = (a.element(), b.element()) {
        return comparable(&x, &y);
    }
    if *a == DataType::Json || *b == DataType::Json {
        return false;
    }
    if matches!(a, DataType::Enum(_)) || matches!(b, DataType::Enum(_)) {
        return a == b;
    }
    cat(a) == cat(b)
}

impl<'a> Binder<'a> {
    fn new(schema: &'a Schema, est: &'a dyn Estimates, params: &[DataType]) -> Binder<'a> {
        Binder {
            schema,
            est,
            search_path: vec![NS_PUBLIC],
            temp_ns: None,
            params: params.to_vec(),
            agg: None,
            outer: Vec::new(),
            locking: None,
            tid_scans: false,
            nullable: Vec::new(),
            ctes: Vec::new(),
            flags: PlannerFlags::default(),
            dml_ctes: Vec::new(),
            work_tables: 0,
            windows: None,
            named_windows: Vec::new(),
            window_where: "here",
            srfs: None,
        }
    }
}

impl Binder<'_> {
    // ---------- statements ----------

    fn statement(&mut self, s: &PStmt) -> Result<Statement> {
        match s {
            PStmt::Checkpoint => Ok(Statement::Checkpoint),
            PStmt::Fetch {
                cursor,
                dir,
                move_only,
            } => Ok(Statement::Fetch {
                cursor: cursor.clone(),
                dir: *dir,
                move_only: *move_only,
            }),
            PStmt::CloseCursor(c) => Ok(Statement::CloseCursor(c.clone())),
            PStmt::Vacuum {
                full,
                verbose,
                analyze,
                tables,
            } => {
                let tables = self.table_list(tables)?;
                Ok(Statement::Vacuum {
                    full: *full,
                    verbose: *verbose,
                    analyze: *analyze,
                    tables,
                })
            }
            PStmt::Analyze { tables, .. } => Ok(Statement::Analyze {
                tables: self.table_list(tables)?,
            }),
            PStmt::Backup {
                to,
                incremental_from,
            } => Ok(Statement::Backup {
                to: to.clone(),
                incremental_from: incremental_from.clone(),
            }),
            PStmt::Database(d) => Ok(Statement::Database(d.clone())),
            PStmt::AlterSequence {
                name,
                if_exists,
                data_type,
                options,
                restart,
                owned_by,
            } => self.alter_sequence(
                name,
                *if_exists,
                data_type.as_ref(),
                options,
                restart,
                owned_by,
            ),
            PStmt::Reindex { index, name } => {
                let parts: Vec<String> = name
                    .split('.')
                    .map(|p| p.trim_matches('"').to_lowercase())
                    .collect();
                if *index {
                    match self.resolve(&parts, |ns, n| {
                        self.schema
                            .relation(ns, n)
                            .and_then(|(t, i)| Some((t.clone(), i?)))
                    })? {
                        Some((t, i)) => Ok(Statement::Reindex {
                            table: t,
                            indexes: vec![i],
                        }),
                        _ => Err(PlanError::UndefinedTable(name.clone())),
                    }
                } else {
                    let t = self
                        .lookup_table(&parts)?
                        .ok_or_else(|| PlanError::UndefinedTable(name.clone()))?;
                    let indexes = (0..t.indexes.len()).collect();
                    Ok(Statement::Reindex { table: t, indexes })
                }
            }
            PStmt::Sql(s) => self.sql(s),
        }
    }

    fn table_list(
        &self,
        names: &[(String, Vec<String>)],
    ) -> Result<Vec<(Arc<TableDef>, Vec<usize>)>> {
        names
            .iter()
            .map(|(n, cols)| {
                let parts: Vec<String> = n
                    .split('.')
                    .map(|p| p.trim_matches('"').to_lowercase())
                    .collect();
                let t = self
                    .lookup_table(&parts)?
                    .ok_or_else(|| PlanError::UndefinedTable(n.clone()))?;
                let cols = cols
                    .iter()
                    .map(|c| {
                        t.column_index(c).ok_or_else(|| {
                            // Reads: column "c" of relation "t" does not exist.
                            PlanError::UndefinedColumn(format!("{c}\" of relation \"{}", t.name))
                        })
                    })
                    .collect::<Result<Vec<usize>>>()?;
                Ok((t, cols))
            })
            .collect()
    }

    /// `row_to_json(t)` and friends, with `t` a relation of the scope: the
    /// call over `__json[b]_row('col', t.col, ...)` (None otherwise).
    fn whole_row_json(&self, name: &str, f: &ast::Function, scope: &Scope) -> Option<ast::Expr> {
        if !matches!(
            name,
            "row_to_json" | "to_json" | "to_jsonb" | "json_agg" | "jsonb_agg"
        ) {
            return None;
        }
        let ast::FunctionArguments::List(l) = &f.args else {
            return None;
        };
        let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Identifier(rel)))] =
            l.args.as_slice()
        else {
            return None;
        };
        let rel_name = ident(rel);
        if scope.cols.iter().any(|c| c.name == rel_name && !c.hidden) {
            return None;
        }
        let cols: Vec<&ScopeCol> = scope
            .cols
            .iter()
            .filter(|c| {
                c.table.as_deref() == Some(rel_name.as_str()) && !c.hidden && c.name != TID_COLUMN
            })
            .collect();
        if cols.is_empty() {
            return None;
        }
        let jsonb = name.starts_with("jsonb") || name == "to_jsonb";
        let mut args = Vec::new();
        for c in cols {
            args.push(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(
                ast::Expr::value(ast::Value::SingleQuotedString(c.name.clone())),
            )));
            args.push(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(
                ast::Expr::CompoundIdentifier(vec![
                    rel.clone(),
                    ast::Ident::with_quote('"', c.name.clone()),
                ]),
            )));
        }
        let call = |fname: &str, args: Vec<ast::FunctionArg>| {
            let mut g = f.clone();
            g.name = ast::ObjectName::from(vec![ast::Ident::new(fname)]);
            g.args = ast::FunctionArguments::List(ast::FunctionArgumentList {
                duplicate_treatment: None,
                args,
                clauses: vec![],
            });
            ast::Expr::Function(g)
        };
        let row = call(
            match (jsonb, name) {
                (true, _) => "__jsonb_row",
                (false, "json_agg") => "__json_agg_row",
                _ => "__json_row",
            },
            args,
        );
        Some(match name {
            "json_agg" | "jsonb_agg" => {
                let mut g = f.clone();
                if let ast::FunctionArguments::List(l) = &mut g.args {
                    l.args = vec![ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(row))];
                }
                ast::Expr::Function(g)
            }
            _ => row,
        })
    }

    /// ALTER SEQUENCE: the options given change the sequence; the others
    /// keep their values.
    fn alter_sequence(
        &mut self,
        name: &ast::ObjectName,
        if_exists: bool,
        data_type: Option<&ast::DataType>,
        options: &[ast::SequenceOptions],
        restart: &Option<Option<ast::Expr>>,
        owned_by: &Option<Option<ast::ObjectName>>,
    ) -> Result<Statement> {
        let parts = object_parts(name);
        let Some(old) = self.resolve(&parts, |ns, n| self.schema.sequence(ns, n).cloned())? else {
            if if_exists {
                return Ok(Statement::AlterSequence {
                    def: None,
                    name: parts.join("."),
                    restart: None,
                });
            }
            return Err(PlanError::UndefinedTable(parts.join(".")));
        };
        let ty = match data_type {
            Some(t) => convert_type(t)?,
            None => old.ty,
        };
        let type_max = |t: DataType| match t {
            DataType::Int2 => Ok(i16::MAX as i64),
            DataType::Int4 => Ok(i32::MAX as i64),
            DataType::Int8 => Ok(i64::MAX),
            _ => Err(PlanError::DatatypeMismatch(
                "sequence type must be smallint, integer, or bigint".into(),
            )),
        };
        let (old_max, new_max) = (type_max(old.ty)?, type_max(ty)?);
        let num = |e: &ast::Expr| -> Result<i64> {
            let text = e.to_string().replace(' ', "");
            text.parse::<i64>()
                .map_err(|_| PlanError::Syntax(format!("invalid sequence option value {text}")))
        };
        let mut def = (*old).clone();
        def.ty = ty;
        // Bounds that were the old type's limits follow the new type.
        let mut min = Some(if old.min == -old_max - 1 {
            -new_max - 1
        } else {
            old.min
        });
        let mut max = Some(if old.max == old_max { new_max } else { old.max });
        for o in options {
            match o {
                ast::SequenceOptions::IncrementBy(e, _) => def.increment = num(e)?,
                ast::SequenceOptions::MinValue(e) => min = e.as_ref().map(num).transpose()?,
                ast::SequenceOptions::MaxValue(e) => max = e.as_ref().map(num).transpose()?,
                ast::SequenceOptions::StartWith(e, _) => def.start = num(e)?,
                ast::SequenceOptions::Cache(e) => def.cache = num(e)?,
                ast::SequenceOptions::Cycle(no) => def.cycle = !*no,
            }
        }
        if def.increment == 0 {
            return Err(PlanError::Syntax("INCREMENT must not be zero".into()));
        }
        def.min = min.unwrap_or(if def.increment > 0 { 1 } else { -new_max - 1 });
        def.max = max.unwrap_or(if def.increment > 0 { new_max } else { -1 });
        if def.min >= def.max {
            return Err(PlanError::Syntax(format!(
                "MINVALUE ({}) must be less than MAXVALUE ({})",
                def.min, def.max
            )));
        }
        let check = |what: &str, v: i64| -> Result<()> {
            if v < def.min || v > def.max {
                return Err(PlanError::Syntax(format!(
                    "{what} value ({v}) cannot be {} than {} ({})",
                    if v < def.min { "less" } else { "greater" },
                    if v < def.min { "MINVALUE" } else { "MAXVALUE" },
                    if v < def.min { def.min } else { def.max }
                )));
            }
            Ok(())
        };
        check("START", def.start)?;
        let restart = match restart {
            None => None,
            Some(None) => Some(def.start),
            Some(Some(e)) => {
                let v = num(e)?;
                check("RESTART", v)?;
                Some(v)
            }
        };
        match owned_by {
            None => {}
            Some(None) => def.owned_by = None,
            Some(Some(n)) => {
                let mut p = object_parts(n);
                let col = p.pop().unwrap_or_default();
                let t = self
                    .lookup_table(&p)?
                    .ok_or_else(|| PlanError::UndefinedTable(p.join(".")))?;
                let c = t.column_index(&col).ok_or_else(|| {
                    PlanError::UndefinedColumnMsg(format!(
                        "column \"{col}\" of relation \"{}\" does not exist",
                        t.name
                    ))
                })?;
                def.owned_by = Some((t.oid, c as i16 + 1));
            }
        }
        Ok(Statement::AlterSequence {
            def: Some(def),
            name: parts.join("."),
            restart,
        })
    }

    fn lookup_table(&self, parts: &[String]) -> Result<Option<Arc<TableDef>>> {
        self.resolve(parts, |ns, n| self.schema.table(ns, n).cloned())
    }

    /// An object named by a possibly qualified name: in the schema named,
    /// else in the first schema of the search path that has it.
    pub(crate) fn resolve<T>(
        &self,
        parts: &[String],
        find: impl Fn(u32, &str) -> Option<T>,
    ) -> Result<Option<T>> {
        let (ns, name) = split_name(parts)?;
        Ok(match ns {
            Some(s) => self.schema.namespace_oid(s).and_then(|o| find(o, name)),
            None => self
                .temp_ns
                .into_iter()
                .chain(std::iter::once(NS_PG_CATALOG))
                .chain(self.search_path.iter().copied())
                .find_map(|o| find(o, name)),
        })
    }

    /// current_schema: the first schema of the search path (NULL if none).
    fn current_schema(&self) -> (Expr, DataType) {
        let v = match self.search_path.first() {
            Some(o) => Value::Text(self.schema.namespace_name(*o)),
            None => Value::Null,
        };
        (Expr::Literal(v), DataType::Name)
    }

    /// Where CREATE puts an object: the schema named, else the first of
    /// the search path (3F000 when there is none).
    pub(crate) fn creation_namespace(&self, parts: &[String]) -> Result<(u32, String)> {
        let (ns, name) = split_name(parts)?;
        let oid = match ns {
            Some(s) => self.schema.namespace_oid(s).ok_or_else(|| {
                PlanError::Coded("3F000", format!("schema \"{s}\" does not exist"))
            })?,
            None => *self.search_path.first().ok_or_else(|| {
                PlanError::Coded("3F000", "no schema has been selected to create in".into())
            })?,
        };
        Ok((oid, name.to_string()))
    }

    fn sql(&mut self, s: &ast::Statement) -> Result<Statement> {
        use ast::Statement as S;
        match s {
            S::Query(q) => {
                let main = match &*q.body {
                    // WITH ... INSERT / UPDATE / DELETE.
                    ast::SetExpr::Insert(st)
                    | ast::SetExpr::Update(st)
                    | ast::SetExpr::Delete(st) => {
                        let saved = self.ctes.len();
                        let r = match &q.with {
                            Some(w) => self.push_ctes(w, &Scope::default()),
                            None => Ok(()),
                        }
                        .and_then(|_| self.sql(st));
                        self.ctes.truncate(saved);
                        r?
                    }
                    _ => Statement::Query(self.query(q, &Scope::default())?),
                };
                if self.dml_ctes.is_empty() {
                    return Ok(main);
                }
                Ok(Statement::WithDml {
                    pre: std::mem::take(&mut self.dml_ctes),
                    main: Box::new(main),
                })
            }
            S::Insert(ins) => self.insert(ins),
            S::Update(u) => self.update(u),
            S::Delete(d) => self.delete(d),
            S::CreateTable(ct) => self.create_table(ct),
            S::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => self.drop(object_type, *if_exists, names, *cascade),
            S::CreateType {
                name,
                representation: Some(ast::UserDefinedTypeRepresentation::Enum { labels }),
            } => {
                let (namespace, name) = self.creation_namespace(&object_parts(name))?;
                let labels: Vec<String> = labels.iter().map(|l| l.value.clone()).collect();
                for (i, l) in labels.iter().enumerate() {
                    if l.len() > 63 {
                        return Err(PlanError::Coded(
                            "22023",
                            format!("invalid enum label \"{l}\""),
                        ));
                    }
                    if labels[..i].contains(l) {
                        return Err(PlanError::Coded(
                            "42710",
                            format!("enum label \"{l}\" used more than once"),
                        ));
                    }
                }
                Ok(Statement::Enum(EnumDdl::Create {
                    namespace,
                    name,
                    labels,
                }))
            }
            S::CreateType { .. } => not_supported("CREATE TYPE other than AS ENUM"),
            S::AlterType(at) => {
                let parts = object_parts(&at.name);
                let oid = self
                    .resolve(&parts, |ns, n| {
                        self.schema
                            .enums
                            .iter()
                            .find(|e| e.namespace == ns && e.name == n)
                            .map(|e| e.oid)
                    })?
                    .ok_or_else(|| {
                        PlanError::UndefinedObject(format!("type \"{}\" does not exist", at.name))
                    })?;
                Ok(Statement::Enum(match &at.operation {
                    ast::AlterTypeOperation::AddValue(a) => EnumDdl::AddValue {
                        oid,
                        label: a.value.value.clone(),
                        place: a.position.as_ref().map(|p| match p {
                            ast::AlterTypeAddValuePosition::Before(n) => (true, n.value.clone()),
                            ast::AlterTypeAddValuePosition::After(n) => (false, n.value.clone()),
                        }),
                        if_not_exists: a.if_not_exists,
                    },
                    ast::AlterTypeOperation::RenameValue(r) => EnumDdl::RenameValue {
                        oid,
                        from: r.from.value.clone(),
                        to: r.to.value.clone(),
                    },
                    ast::AlterTypeOperation::Rename(r) => EnumDdl::Rename {
                        oid,
                        to: ident(&r.new_name),
                    },
                }))
            }
            S::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => {
                let (name, owner) = match schema_name {
                    ast::SchemaName::Simple(n) => (object_parts(n).join("."), None),
                    ast::SchemaName::UnnamedAuthorization(r) => (ident(r), Some(ident(r))),
                    ast::SchemaName::NamedAuthorization(n, r) => {
                        (object_parts(n).join("."), Some(ident(r)))
                    }
                };
                Ok(Statement::CreateSchema {
                    name,
                    owner,
                    if_not_exists: *if_not_exists,
                })
            }
            S::Truncate(t) => {
                let mut tables = Vec::new();
                for n in &t.table_names {
                    let parts = object_parts(&n.name);
                    tables.push(
                        self.lookup_table(&parts)?
                            .ok_or_else(|| PlanError::UndefinedTable(n.name.to_string()))?,
                    );
                }
                Ok(Statement::Truncate { tables })
            }
            S::AlterTable(at) => self.alter_table(at),
            S::CreateIndex(ci) => {
                let parts = object_parts(&ci.table_name);
                let table = self
                    .lookup_table(&parts)?
                    .ok_or_else(|| PlanError::UndefinedTable(ci.table_name.to_string()))?;
                // Keys: columns, or expressions over the row (stored as SQL).
                let scope = table_scope(&table, &table.name);
                let mut columns = Vec::new();
                let mut exprs = Vec::new();
                let mut key_names = Vec::new();
                for c in &ci.columns {
                    let mut e = &c.column.expr;
                    while let ast::Expr::Nested(x) = e {
                        e = x;
                    }
                    if let ast::Expr::Identifier(i) = e {
                        let n = ident(i);
                        let k = table
                            .column_index(&n)
                            .ok_or_else(|| PlanError::UndefinedColumn(n.clone()))?;
                        columns.push(k);
                        key_names.push(n);
                        continue;
                    }
                    if has_subquery_ast(e) || contains_agg(e) {
                        return Err(PlanError::Coded(
                            "0A000",
                            "cannot use subquery or aggregate in index expression".into(),
                        ));
                    }
                    self.expr(e, &scope)?;
                    columns.push(basalt_catalog::store::EXPR_KEY + exprs.len());
                    exprs.push(e.to_string());
                    key_names.push(match e {
                        ast::Expr::Function(f) => {
                            object_parts(&f.name).last().cloned().unwrap_or_default()
                        }
                        _ => "expr".into(),
                    });
                }
                let predicate = match &ci.predicate {
                    Some(p) => {
                        let (x, t) = self.expr(p, &scope)?;
                        self.to_bool(x, t, "WHERE")?;
                        Some(p.to_string())
                    }
                    None => None,
                };
                let name = match &ci.name {
                    Some(n) => object_parts(n).last().cloned().unwrap_or_default(),
                    None => {
                        let base = format!("{}_{}_idx", table.name, key_names.join("_"));
                        // A generated name already taken gets a number.
                        let mut name = base.clone();
                        let mut k = 0;
                        while self.schema.relation(table.namespace, &name).is_some() {
                            k += 1;
                            name = format!("{base}{k}");
                        }
                        name
                    }
                };
                Ok(Statement::AddIndex {
                    table,
                    name,
                    columns,
                    exprs,
                    predicate,
                    unique: ci.unique,
                    primary: false,
                    if_not_exists: ci.if_not_exists,
                })
            }
            S::StartTransaction { modes, .. } => Ok(Statement::Begin(txn_modes(modes))),
            S::Commit { chain, .. } => Ok(Statement::Commit { chain: *chain }),
            S::Rollback {
                savepoint: None,
                chain,
            } => Ok(Statement::Rollback { chain: *chain }),
            S::Rollback {
                savepoint: Some(n), ..
            } => Ok(Statement::RollbackToSavepoint(ident(n))),
            S::Savepoint { name } => Ok(Statement::Savepoint(ident(name))),
            S::ReleaseSavepoint { name } => Ok(Statement::ReleaseSavepoint(ident(name))),
            S::Declare { stmts } => {
                let [d] = stmts.as_slice() else {
                    return Err(PlanError::Coded("42601", "DECLARE names one cursor".into()));
                };
                let (Some(q), [name]) = (&d.for_query, d.names.as_slice()) else {
                    return Err(PlanError::Coded(
                        "0A000",
                        "DECLARE of variables is not supported (only cursors)".into(),
                    ));
                };
                let query = match self.sql(&S::Query(q.clone()))? {
                    Statement::Query(q) => q,
                    _ => {
                        return Err(PlanError::Coded(
                            "0A000",
                            "DECLARE CURSOR must not contain data-modifying statements in WITH"
                                .into(),
                        ))
                    }
                };
                Ok(Statement::DeclareCursor {
                    name: ident(name),
                    query,
                    hold: d.hold == Some(true),
                    scroll: d.scroll != Some(false),
                })
            }
            S::LISTEN { channel } => Ok(Statement::Listen(name_ident(channel))),
            S::UNLISTEN { channel } => Ok(Statement::Unlisten(
                (channel.quote_style.is_some() || channel.value != "*")
                    .then(|| name_ident(channel)),
            )),
            S::NOTIFY { channel, payload } => Ok(Statement::Notify {
                channel: name_ident(channel),
                payload: payload.clone().unwrap_or_default(),
            }),
            S::Lock(l) => {
                let mut tables = Vec::new();
                for t in &l.tables {
                    let tb = self
                        .lookup_table(&object_parts(&t.name))?
                        .ok_or_else(|| PlanError::UndefinedTable(t.name.to_string()))?;
                    tables.push(tb);
                }
                use ast::LockTableMode as M;
                let mode = match l.lock_mode {
                    Some(M::AccessShare) => 1,
                    Some(M::RowShare) => 2,
                    Some(M::RowExclusive) => 3,
                    Some(M::ShareUpdateExclusive) => 4,
                    Some(M::Share) => 5,
                    Some(M::ShareRowExclusive) => 6,
                    Some(M::Exclusive) => 7,
                    Some(M::AccessExclusive) | None => 8,
                };
                Ok(Statement::LockTable {
                    tables,
                    mode,
                    nowait: l.nowait,
                })
            }
            S::Set(set) => match self.set_role(set) {
                Some(r) => r,
                None => self.set(set),
            },
            S::Explain {
                statement,
                analyze,
                options,
                ..
            } => {
                let mut analyze = *analyze;
                let (mut json, mut buffers) = (false, false);
                for o in options.iter().flatten() {
                    let name = o.name.value.to_lowercase();
                    let on = o.arg.as_ref().is_none_or(|a| {
                        !matches!(a.to_string().to_lowercase().as_str(), "false" | "off" | "0")
                    });
                    match name.as_str() {
                        "analyze" => analyze = on,
                        "buffers" => buffers = on,
                        "costs" | "verbose" | "timing" | "summary" | "settings" | "wal" => {}
                        "format" => {
                            let f = o.arg.as_ref().map(|a| a.to_string().to_lowercase());
                            match f.as_deref() {
                                Some("text") => json = false,
                                Some("json") => json = true,
                                _ => {
                                    return not_supported(format!(
                                        "EXPLAIN format {}",
                                        f.unwrap_or_default()
                                    ))
                                }
                            }
                        }
                        other => {
                            return Err(PlanError::Syntax(format!(
                                "unrecognized EXPLAIN option \"{other}\""
                            )))
                        }
                    }
                }
                let inner = self.sql(statement)?;
                if !matches!(
                    inner,
                    Statement::Query(_)
                        | Statement::Insert { .. }
                        | Statement::Update { .. }
                        | Statement::Delete { .. }
                ) {
                    return not_supported("EXPLAIN of this statement");
                }
                if buffers && !analyze {
                    // PostgreSQL 15: BUFFERS needs ANALYZE.
                    return Err(PlanError::Coded(
                        "22023",
                        "EXPLAIN option BUFFERS requires ANALYZE".into(),
                    ));
                }
                Ok(Statement::Explain {
                    stmt: Box::new(inner),
                    analyze,
                    json,
                    buffers,
                })
            }
            S::CreateSequence {
                if_not_exists,
                name,
                data_type,
                sequence_options,
                temporary: false,
                ..
            } => {
                let (namespace, n) = self.creation_namespace(&object_parts(name))?;
                let ty = match data_type {
                    Some(t) => convert_type(t)?,
                    None => DataType::Int8,
                };
                let mut def = sequence_def(&n, ty, sequence_options)?;
                def.namespace = namespace;
                Ok(Statement::CreateSequence {
                    def,
                    if_not_exists: *if_not_exists,
                })
            }
            S::Comment {
                object_type,
                object_name,
                comment,
                if_exists,
            } => {
                let parts = object_parts(object_name);
                let (table_parts, column) = match object_type {
                    ast::CommentObject::Table | ast::CommentObject::View => (parts.clone(), None),
                    ast::CommentObject::Column if parts.len() >= 2 => {
                        (parts[..parts.len() - 1].to_vec(), parts.last().cloned())
                    }
                    // Comments on objects Basalt does not keep comments for
                    // (in dumps: the public schema, extensions) are accepted.
                    ast::CommentObject::Schema
                    | ast::CommentObject::Database
                    | ast::CommentObject::Extension => {
                        return Ok(Statement::NoOp {
                            tag: "COMMENT".into(),
                            notice: None,
                        })
                    }
                    other => return not_supported(format!("COMMENT ON {other}")),
                };
                let table = match self.lookup_table(&table_parts)? {
                    Some(t) => t,
                    None if *if_exists => {
                        return Ok(Statement::NoOp {
                            tag: "COMMENT".into(),
                            notice: None,
                        })
                    }
                    None => {
                        return Err(PlanError::UndefinedTable(
                            table_parts.last().cloned().unwrap_or_default(),
                        ))
                    }
                };
                let sub = match column {
                    None => 0,
                    Some(c) => {
                        table.column_index(&c).ok_or_else(|| {
                            PlanError::UndefinedColumnMsg(format!(
                                "column \"{c}\" of relation \"{}\" does not exist",
                                table.name
                            ))
                        })? as i32
                            + 1
                    }
                };
                Ok(Statement::AlterTable {
                    table,
                    action: AlterAction::Comment {
                        sub,
                        text: comment.clone(),
                    },
                })
            }
            S::CreateView(cv) => {
                if cv.materialized {
                    return not_supported("CREATE MATERIALIZED VIEW");
                }
                let (namespace, name) = self.creation_namespace(&object_parts(&cv.name))?;
                let q = self.query(&cv.query, &Scope::default())?;
                let mut columns: Vec<String> = q.fields.iter().map(|f| f.name.clone()).collect();
                if cv.columns.len() > columns.len() {
                    return Err(PlanError::Syntax(
                        "CREATE VIEW specifies more column names than columns".into(),
                    ));
                }
                for (i, c) in cv.columns.iter().enumerate() {
                    columns[i] = ident(&c.name);
                }
                let mut seen = std::collections::HashSet::new();
                for c in &columns {
                    if !seen.insert(c.clone()) {
                        return Err(PlanError::DuplicateColumn(c.clone()));
                    }
                }
                Ok(Statement::CreateView {
                    namespace,
                    name,
                    sql: cv.query.to_string(),
                    columns,
                    types: q.fields.iter().map(|f| output_type(f.ty)).collect(),
                    or_replace: cv.or_replace,
                })
            }
            S::CreateRole(cr) => self.create_role(cr),
            S::AlterRole { name, operation } => self.alter_role(name, operation),
            S::Grant(g) => self.grant(false, &g.privileges, g.objects.as_ref(), &g.grantees),
            S::Revoke(r) => self.grant(true, &r.privileges, r.objects.as_ref(), &r.grantees),
            S::Reset(r) if matches!(&r.reset, ast::Reset::ConfigurationParameter(n) if object_parts(n).join(".") == "role") => {
                Ok(Statement::SetRole {
                    role: None,
                    session: false,
                })
            }
            S::Reset(r) => Ok(Statement::Set {
                name: match &r.reset {
                    ast::Reset::ALL => "all".into(),
                    ast::Reset::ConfigurationParameter(n) => object_parts(n).join("."),
                },
                value: None,
                local: false,
            }),
            S::ShowVariable { variable } => {
                let parts: Vec<String> = variable.iter().map(ident).collect();
                // SHOW TRANSACTION ISOLATION LEVEL, SESSION AUTHORIZATION,
                // TIME ZONE; else a dotted (custom) parameter name.
                let spaced = matches!(
                    parts.first().map(String::as_str),
                    Some("transaction" | "session" | "time")
                );
                let name = parts.join(if spaced { " " } else { "." });
                Ok(Statement::Show { name })
            }
            S::Copy {
                source,
                to,
                target,
                options,
                legacy_options,
                ..
            } => self.copy(source, *to, target, options, legacy_options),
            S::Discard { .. } => Ok(Statement::NoOp {
                tag: "DISCARD ALL".into(),
                notice: None,
            }),
            other => not_supported(format!("statement \"{}\"", first_words(&other.to_string()))),
        }
    }

    fn set(&mut self, set: &ast::Set) -> Result<Statement> {
        match set {
            ast::Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            } => {
                let name = object_parts(variable).join(".");
                let local = matches!(scope, Some(ast::ContextModifier::Local));
                let value = values
                    .iter()
                    .map(|v| match v {
                        ast::Expr::Value(v) => match &v.value {
                            ast::Value::SingleQuotedString(s) => s.clone(),
                            ast::Value::Number(n, _) => n.to_string(),
                            ast::Value::Boolean(b) => {
                                if *b {
                                    "on".into()
                                } else {
                                    "off".into()
                                }
                            }
                            other => other.to_string(),
                        },
                        ast::Expr::Identifier(i) => i.value.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let value = if value.eq_ignore_ascii_case("default") {
                    None
                } else {
                    Some(value)
                };
                Ok(Statement::Set { name, value, local })
            }
            ast::Set::SetTimeZone { value, local } => {
                let v = match value {
                    ast::Expr::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.clone(),
                        o => o.to_string(),
                    },
                    o => o.to_string(),
                };
                Ok(Statement::Set {
                    name: "timezone".into(),
                    value: Some(v),
                    local: *local,
                })
            }
            ast::Set::SetNames { charset_name, .. } => Ok(Statement::Set {
                name: "client_encoding".into(),
                value: Some(charset_name.value.clone()),
                local: false,
            }),
            ast::Set::SetTransaction {
                modes,
                snapshot: None,
                session,
            } => Ok(Statement::SetTransaction {
                modes: txn_modes(modes),
                session: *session,
            }),
            ast::Set::SetTransaction { .. } => not_supported("SET TRANSACTION SNAPSHOT"),
            other => not_supported(format!("\"{other}\"")),
        }
    }

    fn copy(
        &mut self,
        source: &ast::CopySource,
        to: bool,
        target: &ast::CopyTarget,
        options: &[ast::CopyOption],
        legacy: &[ast::CopyLegacyOption],
    ) -> Result<Statement> {
        let mut o = CopyOptions {
            format: CopyFormat::Text,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
            quote: '"',
            escape: '"',
            force_quote: vec![],
        };
        // FORCE_QUOTE's columns, by name ("*": all).
        let mut force_quote: Vec<String> = vec![];
        let mut delim_set = false;
        let mut null_set = false;
        for opt in options {
            match opt {
                ast::CopyOption::Format(f) => match f.value.to_lowercase().as_str() {
                    "csv" => o.format = CopyFormat::Csv,
                    "text" => o.format = CopyFormat::Text,
                    "binary" => o.format = CopyFormat::Binary,
                    f => return not_supported(format!("COPY format \"{f}\"")),
                },
                ast::CopyOption::Delimiter(c) => {
                    o.delimiter = *c;
                    delim_set = true
                }
                ast::CopyOption::Null(s) => {
                    o.null = s.clone();
                    null_set = true
                }
                ast::CopyOption::Header(h) => o.header = *h,
                ast::CopyOption::Quote(c) => o.quote = *c,
                ast::CopyOption::Escape(c) => o.escape = *c,
                ast::CopyOption::Freeze(_) | ast::CopyOption::Encoding(_) => {}
                ast::CopyOption::ForceQuote(cols) => force_quote.extend(cols.iter().map(ident)),
                other => return not_supported(format!("COPY option {other}")),
            }
        }
        for opt in legacy {
            match opt {
                ast::CopyLegacyOption::Csv(csv) => {
                    o.format = CopyFormat::Csv;
                    for c in csv {
                        match c {
                            ast::CopyLegacyCsvOption::Header => o.header = true,
                            ast::CopyLegacyCsvOption::Quote(q) => o.quote = *q,
                            ast::CopyLegacyCsvOption::Escape(e) => o.escape = *e,
                            ast::CopyLegacyCsvOption::ForceQuote(cols) => {
                                force_quote.extend(cols.iter().map(ident))
                            }
                            _ => {}
                        }
                    }
                }
                ast::CopyLegacyOption::Delimiter(c) => {
                    o.delimiter = *c;
                    delim_set = true
                }
                ast::CopyLegacyOption::Null(s) => {
                    o.null = s.clone();
                    null_set = true
                }
                ast::CopyLegacyOption::Header => o.header = true,
                ast::CopyLegacyOption::Binary => o.format = CopyFormat::Binary,
                other => return not_supported(format!("COPY option {other}")),
            }
        }
        if o.format == CopyFormat::Binary {
            let clash = if delim_set {
                Some("DELIMITER")
            } else if null_set {
                Some("NULL")
            } else if o.header {
                Some("HEADER")
            } else {
                None
            };
            if let Some(what) = clash {
                return Err(PlanError::Coded(
                    "42601",
                    format!("cannot specify {what} in BINARY mode"),
                ));
            }
        }
        if o.format == CopyFormat::Csv {
            if !delim_set {
                o.delimiter = ',';
            }
            if !null_set {
                o.null = String::new();
            }
        }
        match (source, to, target) {
            (
                ast::CopySource::Table {
                    table_name,
                    columns,
                },
                false,
                ast::CopyTarget::Stdin,
            ) => {
                let (table, cols) = self.copy_table(table_name, columns)?;
                let mut defaults = Vec::new();
                for (i, c) in table.columns.iter().enumerate() {
                    if !cols.contains(&i) && c.default.is_some() {
                        defaults.push((i, self.default_expr(c)?));
                    }
                }
                Ok(Statement::CopyFrom {
                    table,
                    columns: cols,
                    options: o,
                    defaults,
                })
            }
            (
                ast::CopySource::Table {
                    table_name,
                    columns,
                },
                true,
                ast::CopyTarget::Stdout,
            ) => {
                let (table, cols) = self.copy_table(table_name, columns)?;
                let fields: Vec<Field> = cols
                    .iter()
                    .map(|&c| Field {
                        name: table.columns[c].name.clone(),
                        ty: table.columns[c].ty,
                        source: None,
                    })
                    .collect();
                let plan = Plan::Project {
                    input: Box::new(Plan::SeqScan {
                        table: table.clone(),
                        filter: None,
                    }),
                    exprs: cols.iter().map(|&c| Expr::Column(c)).collect(),
                };
                o.force_quote = force_quoted(&force_quote, &fields, &o)?;
                Ok(Statement::CopyTo {
                    query: Query { plan, fields },
                    options: o,
                })
            }
            (ast::CopySource::Query(q), true, ast::CopyTarget::Stdout) => {
                let query = self.query(q, &Scope::default())?;
                o.force_quote = force_quoted(&force_quote, &query.fields, &o)?;
                Ok(Statement::CopyTo { query, options: o })
            }
            _ if !force_quote.is_empty() => Err(PlanError::Coded(
                "0A000",
                "COPY FORCE_QUOTE cannot be used with COPY FROM".into(),
            )),
            _ => not_supported(
                "COPY to or from a file or program (use STDIN/STDOUT, or psql's \\copy)",
            ),
        }
    }

    /// The table of a COPY and the positions of its listed columns (all of
    /// them when none are listed).
    fn copy_table(
        &self,
        table_name: &ast::ObjectName,
        columns: &[ast::Ident],
    ) -> Result<(Arc<TableDef>, Vec<usize>)> {
        let table = self
            .lookup_table(&object_parts(table_name))?
            .ok_or_else(|| PlanError::UndefinedTable(table_name.to_string()))?;
        let cols = if columns.is_empty() {
            (0..table.columns.len()).collect()
        } else {
            columns
                .iter()
                .map(|c| {
                    table
                        .column_index(&ident(c))
                        .ok_or_else(|| PlanError::UndefinedColumn(ident(c)))
                })
                .collect::<Result<Vec<_>>>()?
        };
        Ok((table, cols))
    }

    // ---------- queries ----------

    fn query(&mut self, q: &ast::Query, outer: &Scope) -> Result<Query> {
        let saved = self.ctes.len();
        let r = self.with_query(q, outer);
        self.ctes.truncate(saved);
        r
    }

    /// A query with its WITH clause's queries in scope.
    fn with_query(&mut self, q: &ast::Query, outer: &Scope) -> Result<Query> {
        if let Some(with) = &q.with {
            self.push_ctes(with, outer)?;
        }
        self.query_body(q, outer)
    }

    /// A WITH clause's queries, put in scope in order. An INSERT, UPDATE
    /// or DELETE among them is planned to run before the statement, its
    /// RETURNING rows read as a work table.
    fn push_ctes(&mut self, with: &ast::With, outer: &Scope) -> Result<()> {
        {
            for cte in &with.cte_tables {
                let name = ident(&cte.alias.name);
                let columns: Vec<String> =
                    cte.alias.columns.iter().map(|c| ident(&c.name)).collect();
                if with
                    .cte_tables
                    .iter()
                    .filter(|c| ident(&c.alias.name) == name)
                    .count()
                    > 1
                {
                    return Err(PlanError::Syntax(format!(
                        "WITH query name \"{name}\" specified more than once"
                    )));
                }
                let def = match (&*cte.query.body, with.recursive) {
                    (
                        ast::SetExpr::Insert(st)
                        | ast::SetExpr::Update(st)
                        | ast::SetExpr::Delete(st),
                        _,
                    ) => {
                        if !self.outer.is_empty() || !outer.cols.is_empty() {
                            return Err(PlanError::NotSupported(
                                "WITH clause containing a data-modifying statement must be at the top level".into(),
                            ));
                        }
                        let stmt = self.sql(st)?;
                        let returning = match &stmt {
                            Statement::Insert { returning, .. }
                            | Statement::Update { returning, .. }
                            | Statement::Delete { returning, .. } => returning.clone(),
                            _ => None,
                        };
                        let id = self.work_tables;
                        self.work_tables += 1;
                        self.dml_ctes.push((id, stmt));
                        let fields = returning.map(|q| q.fields).unwrap_or_default();
                        CteDef {
                            name,
                            plan: Plan::WorkTable {
                                id,
                                width: fields.len(),
                            },
                            no_rows: fields.is_empty(),
                            fields,
                            columns,
                        }
                    }
                    (
                        ast::SetExpr::SetOperation {
                            op: ast::SetOperator::Union,
                            set_quantifier,
                            left,
                            right,
                        },
                        true,
                    ) => self.recursive_cte(name, columns, left, right, set_quantifier, outer)?,
                    _ => {
                        let body = self.query(&cte.query, outer)?;
                        CteDef {
                            name,
                            plan: body.plan,
                            fields: body.fields,
                            columns,
                            no_rows: false,
                        }
                    }
                };
                if !def.columns.is_empty() && def.columns.len() > def.fields.len() {
                    return Err(PlanError::Syntax(format!(
                        "WITH query \"{}\" has {} columns available but {} columns specified",
                        def.name,
                        def.fields.len(),
                        def.columns.len()
                    )));
                }
                self.ctes.push(def);
            }
        }
        Ok(())
    }

    /// A query's body, ORDER BY, LIMIT and locking (its WITH in scope).
    fn query_body(&mut self, q: &ast::Query, outer: &Scope) -> Result<Query> {
        let order: &[ast::OrderByExpr] = match &q.order_by {
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(v) => v,
                ast::OrderByKind::All(_) => return not_supported("ORDER BY ALL"),
            },
            None => &[],
        };
        let locking = match q.locks.as_slice() {
            [] => None,
            [l, ..] => {
                let marked = |m: &str| {
                    l.of.as_ref()
                        .is_some_and(|o| object_parts(o).last().is_some_and(|x| x == m))
                };
                let strength = match l.lock_type {
                    ast::LockType::Update if marked(basalt_parser::NO_KEY_UPDATE_MARK) => {
                        RowLockStrength::NoKeyUpdate
                    }
                    ast::LockType::Update => RowLockStrength::Update,
                    ast::LockType::Share if marked(basalt_parser::KEY_SHARE_MARK) => {
                        RowLockStrength::KeyShare
                    }
                    ast::LockType::Share => RowLockStrength::Share,
                };
                let wait = match l.nonblock {
                    None => LockWaitPolicy::Block,
                    Some(ast::NonBlock::Nowait) => LockWaitPolicy::NoWait,
                    Some(ast::NonBlock::SkipLocked) => LockWaitPolicy::SkipLocked,
                };
                let of = l
                    .of
                    .as_ref()
                    .and_then(|o| object_parts(o).last().cloned())
                    .filter(|o| {
                        o != basalt_parser::NO_KEY_UPDATE_MARK && o != basalt_parser::KEY_SHARE_MARK
                    });
                Some((strength, wait, of))
            }
        };
        if locking.is_some() && !matches!(&*q.body, ast::SetExpr::Select(_)) {
            return not_supported("FOR UPDATE/SHARE on this kind of query");
        }
        self.locking = locking;
        let mut query = match &*q.body {
            ast::SetExpr::Select(s) => {
                let r = self.select(s, order, outer);
                self.locking = None;
                r?
            }
            ast::SetExpr::Values(v) => {
                let mut rows = Vec::new();
                let mut types: Vec<DataType> = Vec::new();
                for r in &v.rows {
                    let mut row = Vec::new();
                    for (i, e) in r.content.iter().enumerate() {
                        let (x, t) = self.expr(e, outer)?;
                        if types.len() <= i {
                            types.push(t);
                        } else if types[i] == DataType::Unknown {
                            types[i] = t;
                        }
                        row.push(x);
                    }
                    rows.push(row);
                }
                let fields = types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Field {
                        name: format!("column{}", i + 1),
                        ty: if *t == DataType::Unknown {
                            DataType::Text
                        } else {
                            *t
                        },
                        source: None,
                    })
                    .collect::<Vec<_>>();
                let rows = rows
                    .into_iter()
                    .map(|r| {
                        r.into_iter()
                            .zip(&fields)
                            .map(|(e, f)| Expr::Cast(Box::new(e), f.ty))
                            .collect()
                    })
                    .collect();
                let mut q = Query {
                    plan: Plan::Values { rows },
                    fields,
                };
                self.order_limit_outputs(&mut q, order)?;
                q
            }
            ast::SetExpr::Query(inner) => {
                let mut q = self.query(inner, outer)?;
                self.order_limit_outputs(&mut q, order)?;
                q
            }
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let name = match op {
                    ast::SetOperator::Union => "UNION",
                    ast::SetOperator::Intersect => "INTERSECT",
                    ast::SetOperator::Except => "EXCEPT",
                    other => return not_supported(format!("{other}")),
                };
                let l = self.set_expr_query(left, outer)?;
                let r = self.set_expr_query(right, outer)?;
                if l.fields.len() != r.fields.len() {
                    return Err(PlanError::Syntax(format!(
                        "each {name} query must have the same number of columns"
                    )));
                }
                let all = matches!(set_quantifier, ast::SetQuantifier::All);
                let fields = l.fields.clone();
                let plan = match op {
                    ast::SetOperator::Union => Plan::Union {
                        inputs: vec![l.plan, r.plan],
                        all,
                    },
                    _ => Plan::SetOp {
                        left: Box::new(l.plan),
                        right: Box::new(r.plan),
                        intersect: matches!(op, ast::SetOperator::Intersect),
                        all,
                    },
                };
                let mut q = Query { plan, fields };
                self.order_limit_outputs(&mut q, order)?;
                q
            }
            other => {
                return not_supported(format!("query \"{}\"", first_words(&other.to_string())))
            }
        };
        if let Some(lc) = &q.limit_clause {
            let (limit, offset) = match lc {
                ast::LimitClause::LimitOffset { limit, offset, .. } => {
                    (limit.as_ref(), offset.as_ref().map(|o| &o.value))
                }
                ast::LimitClause::OffsetCommaLimit { offset, limit } => (Some(limit), Some(offset)),
            };
            let limit = match limit {
                Some(e) => Some(self.int_expr(e)?),
                None => None,
            };
            let offset = match offset {
                Some(e) => Some(self.int_expr(e)?),
                None => None,
            };
            query.plan = Plan::Limit {
                input: Box::new(query.plan),
                limit,
                offset,
            };
        }
        if let Some(f) = &q.fetch {
            let limit = match &f.quantity {
                Some(e) => Some(self.int_expr(e)?),
                None => Some(Expr::Literal(Value::Int8(1))),
            };
            if f.percent {
                return not_supported("FETCH FIRST ... PERCENT");
            }
            if f.with_ties {
                // The ties are found under the projection, on the sort's keys.
                let (inner, offset) = match std::mem::replace(&mut query.plan, Plan::Single) {
                    Plan::Limit {
                        input,
                        limit: None,
                        offset,
                    } => (*input, offset),
                    p => (p, None),
                };
                fn place(p: Plan, limit: Option<Expr>, offset: Option<Expr>) -> Result<Plan> {
                    match p {
                        Plan::Project { input, exprs } => Ok(Plan::Project {
                            input: Box::new(place(*input, limit, offset)?),
                            exprs,
                        }),
                        Plan::Sort { input, keys } => Ok(Plan::LimitTies {
                            keys: keys.clone(),
                            input: Box::new(Plan::Sort { input, keys }),
                            limit,
                            offset,
                        }),
                        _ => Err(PlanError::Syntax(
                            "WITH TIES cannot be specified without ORDER BY clause".into(),
                        )),
                    }
                }
                query.plan = place(inner, limit, offset)?;
            } else {
                query.plan = Plan::Limit {
                    input: Box::new(query.plan),
                    limit,
                    offset: None,
                };
            }
        }
        query.plan = crate::order::index_order(query.plan, false);
        Ok(query)
    }

    /// Binds a subquery that may refer to the columns of `scope` (the
    /// query it sits in) and of the queries around that.
    fn subquery(&mut self, q: &ast::Query, scope: &Scope) -> Result<Query> {
        let saved = self.agg.take();
        // Under GROUP BY the row a subquery sees is not the input row:
        // correlation with an aggregate query is not supported yet.
        let visible = if saved.is_some() {
            Scope::default()
        } else {
            scope.clone()
        };
        self.outer.push(visible);
        let r = self.query(q, &Scope::default());
        self.outer.pop();
        self.agg = saved;
        r
    }

    /// WITH RECURSIVE name AS (base UNION [ALL] recursive): the recursive
    /// term sees the name as the rows of the previous round, with the
    /// base's column types.
    fn recursive_cte(
        &mut self,
        name: String,
        columns: Vec<String>,
        base: &ast::SetExpr,
        recursive: &ast::SetExpr,
        quantifier: &ast::SetQuantifier,
        outer: &Scope,
    ) -> Result<CteDef> {
        let base = self.set_expr_query(base, outer)?;
        let id = self.work_tables;
        self.work_tables += 1;
        self.ctes.push(CteDef {
            name: name.clone(),
            plan: Plan::WorkTable {
                id,
                width: base.fields.len(),
            },
            fields: base.fields.clone(),
            columns: columns.clone(),
            no_rows: false,
        });
        let rec = self.set_expr_query(recursive, outer);
        self.ctes.pop();
        let rec = rec?;
        if rec.fields.len() != base.fields.len() {
            return Err(PlanError::Syntax(
                "each UNION query must have the same number of columns".into(),
            ));
        }
        // The recursive rows take the base's types.
        let mut plan = rec.plan;
        if rec
            .fields
            .iter()
            .zip(&base.fields)
            .any(|(r, b)| r.ty != b.ty)
        {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: rec
                    .fields
                    .iter()
                    .zip(&base.fields)
                    .enumerate()
                    .map(|(i, (r, b))| {
                        if r.ty == b.ty {
                            Expr::Column(i)
                        } else {
                            Expr::Cast(Box::new(Expr::Column(i)), b.ty)
                        }
                    })
                    .collect(),
            };
        }
        let all = matches!(quantifier, ast::SetQuantifier::All);
        Ok(CteDef {
            name,
            plan: Plan::RecursiveUnion {
                id,
                base: Box::new(base.plan),
                recursive: Box::new(plan),
                all,
            },
            fields: base.fields,
            columns,
            no_rows: false,
        })
    }

    fn set_expr_query(&mut self, s: &ast::SetExpr, outer: &Scope) -> Result<Query> {
        match s {
            ast::SetExpr::Select(sel) => self.select(sel, &[], outer),
            ast::SetExpr::Query(q) => self.query(q, outer),
            other => {
                let q = ast::Query {
                    with: None,
                    body: Box::new(other.clone()),
                    order_by: None,
                    limit_clause: None,
                    fetch: None,
                    locks: vec![],
                    for_clause: None,
                    settings: None,
                    format_clause: None,
                    pipe_operators: vec![],
                };
                self.query(&q, outer)
            }
        }
    }

    fn int_expr(&mut self, e: &ast::Expr) -> Result<Expr> {
        let (x, t) = self.expr(e, &Scope::default())?;
        if let Expr::Param(i) = x {
            self.params[i] = DataType::Int8;
        } else if !(t.is_integer() || t == DataType::Unknown || t.is_numeric()) {
            return Err(PlanError::DatatypeMismatch(format!(
                "argument of LIMIT must be type bigint, not type {}",
                t.display_name()
            )));
        }
        Ok(Expr::Cast(Box::new(x), DataType::Int8))
    }

    /// ORDER BY over the output columns of a query (UNION, VALUES).
    fn order_limit_outputs(&mut self, q: &mut Query, order: &[ast::OrderByExpr]) -> Result<()> {
        if order.is_empty() {
            return Ok(());
        }
        let scope = Scope {
            star: None,
            cols: q
                .fields
                .iter()
                .map(|f| ScopeCol {
                    table: None,
                    name: f.name.clone(),
                    ty: f.ty,
                    source: None,
                    hidden: false,
                })
                .collect(),
        };
        let mut keys = Vec::new();
        for o in order {
            let expr = match &o.expr {
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let n: usize = v
                        .value
                        .to_string()
                        .parse()
                        .map_err(|_| PlanError::Syntax("bad ORDER BY position".into()))?;
                    if n == 0 || n > q.fields.len() {
                        return Err(PlanError::UndefinedColumn(format!(
                            "ORDER BY position {n} is not in select list"
                        )));
                    }
                    Expr::Column(n - 1)
                }
                e => self.expr(e, &scope)?.0,
            };
            let desc = o.options.asc == Some(false);
            keys.push(SortKey {
                expr,
                desc,
                nulls_first: o.options.nulls_first.unwrap_or(desc),
            });
        }
        let plan = std::mem::replace(&mut q.plan, Plan::Single);
        q.plan = Plan::Sort {
            input: Box::new(plan),
            keys,
        };
        Ok(())
    }

    fn from_item(&mut self, f: &ast::TableFactor, outer: &Scope) -> Result<(Plan, Scope)> {
        match f {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let parts = object_parts(name);
                let alias_name = alias.as_ref().map(|a| ident(&a.name));
                let base = parts.last().cloned().unwrap_or_default();
                let is_sys = parts.len() == 1 || parts[parts.len() - 2] == "pg_catalog";
                if parts.len() == 1 {
                    if let Some(c) = self.ctes.iter().rev().find(|c| c.name == base) {
                        if c.no_rows {
                            return Err(PlanError::Coded(
                                "0A000",
                                format!("WITH query \"{base}\" does not have a RETURNING clause"),
                            ));
                        }
                        let tname = alias_name.clone().unwrap_or(base.clone());
                        // Names from the alias, then from WITH name (cols).
                        let mut names: Vec<String> = alias
                            .as_ref()
                            .map(|a| a.columns.iter().map(|c| ident(&c.name)).collect())
                            .unwrap_or_default();
                        names.extend(c.columns.iter().skip(names.len()).cloned());
                        let scope = derived_scope(&c.fields, Some(tname), &names);
                        return Ok((c.plan.clone(), scope));
                    }
                }
                if let Some(t) = self.lookup_table(&parts)? {
                    let alias = alias_name.as_deref().unwrap_or(&t.name).to_string();
                    let mut scope = table_scope(&t, &alias);
                    let mut plan = Plan::SeqScan {
                        table: t.clone(),
                        filter: None,
                    };
                    if self.tid_scans {
                        scope.cols.push(ScopeCol {
                            table: Some(alias),
                            name: TID_COLUMN.into(),
                            ty: DataType::Int8,
                            source: Some((t.oid, -1)),
                            hidden: false,
                        });
                        plan = Plan::WithTid {
                            input: Box::new(plan),
                        };
                    }
                    return Ok((plan, scope));
                }
                if let Some(v) = self.resolve(&parts, |ns, n| self.schema.view(ns, n).cloned())? {
                    return self.view(&v, alias_name.unwrap_or(base.clone()));
                }
                // A sequence reads as one row: last_value, log_cnt, is_called.
                if let Some(q) =
                    self.resolve(&parts, |ns, n| self.schema.sequence(ns, n).cloned())?
                {
                    let tname = alias_name.unwrap_or(base.clone());
                    let cols = system::columns("__sequence_state").unwrap_or_default();
                    let scope = columns_scope(&tname, &cols);
                    return Ok((
                        Plan::Function {
                            name: "__sequence_state".into(),
                            args: vec![Expr::Literal(Value::Int8(q.oid as i64))],
                        },
                        scope,
                    ));
                }
                // A pg_catalog view, or one of information_schema's (by its
                // qualified name).
                let view = if parts.len() == 2 && parts[0] == "information_schema" {
                    Some(format!("information_schema.{base}"))
                } else {
                    is_sys.then(|| base.clone())
                };
                if let Some(view) = view {
                    if let Some(cols) = system::columns(&view) {
                        let tname = alias_name.unwrap_or(base.clone());
                        let mut scope = columns_scope(&tname, &cols);
                        let plan = Plan::System {
                            name: view.clone(),
                            filter: None,
                        };
                        // A catalog table's tableoid system column (pg_dump
                        // reads it): not part of `*`.
                        if let Some(oid) = system::catalog_oid(&view) {
                            let n = cols.len();
                            scope.star = Some((0..n).collect());
                            scope.cols.push(ScopeCol {
                                table: Some(tname),
                                name: "tableoid".into(),
                                ty: DataType::Oid,
                                source: None,
                                hidden: false,
                            });
                            let mut exprs: Vec<Expr> = (0..n).map(Expr::Column).collect();
                            exprs.push(Expr::Literal(Value::Int8(oid as i64)));
                            return Ok((
                                Plan::Project {
                                    input: Box::new(plan),
                                    exprs,
                                },
                                scope,
                            ));
                        }
                        return Ok((plan, scope));
                    }
                }
                Err(PlanError::UndefinedTable(name.to_string()))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } if matches!(
                object_parts(name).last().map(String::as_str),
                Some("basalt_check_integrity" | "basalt_verify_backup")
            ) =>
            {
                let fname = object_parts(name).last().cloned().unwrap_or_default();
                let mut exprs = Vec::new();
                for a in &args.args {
                    let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                        return not_supported(format!("function argument {a}"));
                    };
                    let (x, t) = self.expr(e, outer)?;
                    exprs.push(if matches!(t, DataType::Unknown) {
                        Expr::Cast(Box::new(x), DataType::Text)
                    } else {
                        x
                    });
                }
                let max_args = 1;
                let min_args = if fname == "basalt_verify_backup" {
                    1
                } else {
                    0
                };
                if exprs.len() > max_args || exprs.len() < min_args {
                    return Err(PlanError::UndefinedFunction(format!(
                        "function {fname} with {} arguments does not exist",
                        exprs.len()
                    )));
                }
                let cols = system::columns(&fname).unwrap_or_default();
                let tname = alias
                    .as_ref()
                    .map(|a| ident(&a.name))
                    .unwrap_or(fname.clone());
                let scope = columns_scope(&tname, &cols);
                Ok((
                    Plan::Function {
                        name: fname,
                        args: exprs,
                    },
                    scope,
                ))
            }
            ast::TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_ordinality,
                ..
            } => self.unnest_scan(array_exprs, alias.as_ref(), *with_ordinality, outer),
            // pg_catalog.unnest(...) [WITH ORDINALITY]: the same.
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality,
                ..
            } if object_parts(name).last().map(String::as_str) == Some("pg_listening_channels")
                && args.args.is_empty() =>
            {
                // The session's LISTEN channels, one row each.
                let e = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
                    .try_with_sql("__listening_channels()")
                    .and_then(|mut p| p.parse_expr())
                    .map_err(|e| PlanError::Syntax(e.to_string()))?;
                let default_alias = ast::TableAlias {
                    explicit: false,
                    name: ast::Ident::new("pg_listening_channels"),
                    columns: vec![],
                    at: None,
                };
                let alias = alias.clone().unwrap_or(default_alias);
                self.unnest_scan(&[e], Some(&alias), *with_ordinality, outer)
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality,
                ..
            } if object_parts(name).last().map(String::as_str) == Some("unnest") => {
                let mut exprs = Vec::new();
                for a in &args.args {
                    let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                        return not_supported("named arguments to unnest");
                    };
                    exprs.push(e.clone());
                }
                self.unnest_scan(&exprs, alias.as_ref(), *with_ordinality, outer)
            }
            // pg_partition_ancestors(rel) [WITH ORDINALITY]: no table is
            // partitioned, so the relation alone (at depth 1).
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality,
                ..
            } if object_parts(name).last().map(String::as_str)
                == Some("pg_partition_ancestors") =>
            {
                let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))] =
                    args.args.as_slice()
                else {
                    return Err(PlanError::UndefinedFunction(
                        "function pg_partition_ancestors takes one argument".into(),
                    ));
                };
                let (x, t) = self.expr(e, outer)?;
                let x = self.coerce_to(x, t, DataType::Oid)?;
                let mut row = vec![x];
                let mut cols = vec![("relid".to_string(), DataType::Oid)];
                if *with_ordinality {
                    row.push(Expr::Literal(Value::Int8(1)));
                    cols.push(("ordinality".into(), DataType::Int8));
                }
                let (_, scope) =
                    function_scan(vec![], alias.as_ref(), "pg_partition_ancestors", cols);
                Ok((Plan::Values { rows: vec![row] }, scope))
            }
            // pg_options_to_table(options): the options of foreign objects,
            // which Basalt has none of.
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(_),
                ..
            } if object_parts(name).last().map(String::as_str) == Some("pg_options_to_table") => {
                let cols = vec![
                    ("option_name".to_string(), DataType::Text),
                    ("option_value".to_string(), DataType::Text),
                ];
                let (_, scope) = function_scan(vec![], alias.as_ref(), "pg_options_to_table", cols);
                Ok((Plan::Values { rows: vec![] }, scope))
            }
            other => self.from_item_rest(other, outer),
        }
    }

    /// unnest(a, b, ...) in FROM: the arrays side by side, the shorter
    /// ones padded with NULLs: a ProjectSet over one empty row.
    fn unnest_scan(
        &mut self,
        array_exprs: &[ast::Expr],
        alias: Option<&ast::TableAlias>,
        with_ordinality: bool,
        outer: &Scope,
    ) -> Result<(Plan, Scope)> {
        {
            {
                let mut calls = Vec::new();
                let mut types = Vec::new();
                for e in array_exprs {
                    let (x, t) = self.expr(e, outer)?;
                    let (x, t) = self.unnest_arg(vec![x], vec![t])?;
                    calls.push(("unnest".to_string(), vec![x]));
                    types.push(t);
                }
                if calls.is_empty() {
                    return Err(PlanError::UndefinedFunction(
                        "function unnest() does not exist".into(),
                    ));
                }
                let single = types.len() == 1;
                if with_ordinality {
                    calls.push(("__ordinality".to_string(), vec![]));
                    types.push(DataType::Int8);
                }
                // One array's column takes the alias, as a scalar function's does.
                let cols = types
                    .iter()
                    .enumerate()
                    .map(|(k, ty)| {
                        let name = match (alias, with_ordinality && k == types.len() - 1) {
                            (_, true) => "ordinality".into(),
                            (Some(a), false) if single => ident(&a.name),
                            _ => "unnest".into(),
                        };
                        (name, *ty)
                    })
                    .collect();
                Ok(function_scan(calls, alias, "unnest", cols))
            }
        }
    }

    /// The FROM items other than unnest.
    fn from_item_rest(&mut self, item: &ast::TableFactor, outer: &Scope) -> Result<(Plan, Scope)> {
        match item {
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } if object_parts(name)
                .last()
                .and_then(|n| bind_json::json_srf_type(n))
                .is_some() =>
            {
                // The json set-returning functions: a ProjectSet over one
                // empty row; the each-functions give key and value columns.
                let fname = object_parts(name).last().cloned().unwrap_or_default();
                let ty = bind_json::json_srf_type(&fname).unwrap_or(DataType::Text);
                let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))] =
                    args.args.as_slice()
                else {
                    return Err(PlanError::UndefinedFunction(format!(
                        "function {fname} takes one argument"
                    )));
                };
                let (x, t) = self.expr(e, outer)?;
                let want = if fname.starts_with("jsonb") {
                    DataType::Jsonb
                } else {
                    DataType::Json
                };
                let x = self.coerce_to(x, t, want)?;
                let (calls, cols): (Vec<(String, Vec<Expr>)>, Vec<(String, DataType)>) =
                    if fname.contains("each") {
                        (
                            vec![
                                (format!("{fname}.key"), vec![x.clone()]),
                                (format!("{fname}.value"), vec![x]),
                            ],
                            vec![("key".into(), DataType::Text), ("value".into(), ty)],
                        )
                    } else {
                        // A one-column function's column takes the alias.
                        let col = alias.as_ref().map(|a| ident(&a.name)).unwrap_or_else(|| {
                            if fname.contains("elements") {
                                "value".to_string()
                            } else {
                                fname.clone()
                            }
                        });
                        (vec![(fname.clone(), vec![x])], vec![(col, ty)])
                    };
                Ok(function_scan(calls, alias.as_ref(), &fname, cols))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } if object_parts(name).last().map(String::as_str) == Some("regexp_matches") => {
                // regexp_matches(s, re [, flags]) in FROM: one text[] row per
                // match.
                let mut bound = Vec::new();
                for a in &args.args {
                    let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                        return not_supported("named arguments to regexp_matches");
                    };
                    let (x, t) = self.expr(e, outer)?;
                    bound.push(self.coerce_to(x, t, DataType::Text)?);
                }
                if !(2..=3).contains(&bound.len()) {
                    return Err(PlanError::UndefinedFunction(
                        "function regexp_matches takes two or three arguments".into(),
                    ));
                }
                let col = alias
                    .as_ref()
                    .map(|a| ident(&a.name))
                    .unwrap_or_else(|| "regexp_matches".into());
                Ok(function_scan(
                    vec![("regexp_matches".into(), bound)],
                    alias.as_ref(),
                    "regexp_matches",
                    vec![(col, DataType::Text.array_of())],
                ))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } if object_parts(name).last().map(String::as_str) == Some("generate_series") => {
                let mut exprs = Vec::new();
                let mut types = Vec::new();
                for a in &args.args {
                    let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                        return not_supported(format!("function argument {a}"));
                    };
                    let (x, t) = self.expr(e, outer)?;
                    exprs.push(x);
                    types.push(t);
                }
                if !(2..=3).contains(&exprs.len()) {
                    return Err(PlanError::UndefinedFunction(
                        "function generate_series with this number of arguments does not exist"
                            .into(),
                    ));
                }
                let (exprs, ty) = calls::series_args(exprs, &types)?;
                let mut it = exprs.into_iter();
                let (start, stop) = (it.next(), it.next());
                let step = it.next();
                let (Some(start), Some(stop)) = (start, stop) else {
                    return not_supported("generate_series arguments");
                };
                let alias_name = alias.as_ref().map(|a| ident(&a.name));
                let col = alias
                    .as_ref()
                    .and_then(|a| a.columns.first().map(|c| ident(&c.name)))
                    .or(alias_name.clone())
                    .unwrap_or_else(|| "generate_series".into());
                let scope = Scope {
                    star: None,
                    cols: vec![ScopeCol {
                        table: Some(alias_name.unwrap_or_else(|| "generate_series".into())),
                        name: col,
                        ty,
                        source: None,
                        hidden: false,
                    }],
                };
                Ok((
                    Plan::Series {
                        start,
                        stop,
                        step,
                        ty,
                    },
                    scope,
                ))
            }
            ast::TableFactor::Derived {
                subquery,
                alias,
                lateral: false,
                ..
            } => {
                let q = self.query(subquery, outer)?;
                let scope = alias_scope(&q.fields, alias.as_ref());
                Ok((q.plan, scope))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => {
                let (rels, scope) = self.from_joins(table_with_joins, outer)?;
                Ok((join_rels(self, rels, &sources(&scope), None), scope))
            }
            other => not_supported(format!("FROM item \"{other}\"")),
        }
    }

    /// `left` joined to a LATERAL subquery that reads its columns.
    fn lateral(
        &mut self,
        left: FromRels,
        lscope: Scope,
        item: &ast::TableFactor,
        kind: JoinKind,
        on: Option<&ast::Expr>,
    ) -> Result<(FromRels, Scope)> {
        let (rplan, rscope) = match item {
            ast::TableFactor::Derived {
                subquery, alias, ..
            } => {
                let q = self.subquery(subquery, &lscope)?;
                let rscope = alias_scope(&q.fields, alias.as_ref());
                (q.plan, rscope)
            }
            // A function over columns on its left: bound as a subquery
            // would be, reading them as its enclosing row.
            _ => {
                let saved = self.agg.take();
                self.outer.push(lscope.clone());
                let r = self.from_item(item, &Scope::default());
                self.outer.pop();
                self.agg = saved;
                r?
            }
        };
        let joined = lscope.concat(&rscope);
        let on = match on {
            Some(e) => Some(self.bool_expr(e, &joined)?),
            None => None,
        };
        let lw = lscope.cols.len();
        let rw = rscope.cols.len();
        let lplan = join_rels(self, left, &sources(&lscope), None);
        let plan = Plan::LateralJoin {
            left: Box::new(lplan),
            right: Box::new(rplan),
            kind,
            on,
            right_width: rw,
        };
        Ok((FromRels::one(plan, lw + rw), joined))
    }

    /// A view in FROM: its stored query bound in its place (a derived
    /// table named after the view, with the view's column names).
    fn view(&mut self, v: &basalt_catalog::store::ViewDef, alias: String) -> Result<(Plan, Scope)> {
        let stmts = basalt_parser::parse(&v.sql).map_err(|e| PlanError::Syntax(e.to_string()))?;
        let Some(PStmt::Sql(stmt)) = stmts.into_iter().next() else {
            return Err(PlanError::Syntax(format!(
                "view \"{}\" has no query",
                v.name
            )));
        };
        let ast::Statement::Query(query) = *stmt else {
            return Err(PlanError::Syntax(format!(
                "view \"{}\" is not a query",
                v.name
            )));
        };
        let q = self.query(&query, &Scope::default())?;
        let scope = derived_scope(&q.fields, Some(alias), &v.columns);
        Ok((q.plan, scope))
    }

    /// The FROM clause: its items joined left to right (comma = cross join).
    fn select_from(&mut self, s: &ast::Select, outer: &Scope) -> Result<(FromRels, Scope)> {
        if s.from.is_empty() {
            return Ok((FromRels::one(Plan::Single, 0), outer.clone()));
        }
        let mut acc: Option<(FromRels, Scope)> = None;
        for twj in &s.from {
            if is_lateral(&twj.relation) && acc.is_some() {
                let (lr, ls) = acc.take().expect("checked");
                // FROM a, LATERAL (...): joined to everything before it.
                let (r, sc) = self.lateral(lr, ls, &twj.relation, JoinKind::Inner, None)?;
                if !twj.joins.is_empty() {
                    return not_supported("joins after a LATERAL item");
                }
                acc = Some((r, sc));
                continue;
            }
            let (r, sc) = self.from_joins(twj, outer)?;
            acc = Some(match acc {
                None => (r, sc),
                Some((mut lr, ls)) => {
                    lr.append(r);
                    (lr, ls.concat(&sc))
                }
            });
        }
        Ok(acc.expect("from is not empty"))
    }

    /// One FROM item with its joins: inner joins stay a set of relations
    /// (joined later, in an order chosen by cost); an outer join joins what
    /// is on its left first.
    fn from_joins(
        &mut self,
        twj: &ast::TableWithJoins,
        outer: &Scope,
    ) -> Result<(FromRels, Scope)> {
        let (plan, mut scope) = self.from_item(&twj.relation, outer)?;
        let mut rels = FromRels::one(plan, scope.cols.len());
        for j in &twj.joins {
            if is_lateral(&j.relation) {
                let (kind, on) = match &j.join_operator {
                    ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => {
                        (JoinKind::Inner, Some(c))
                    }
                    ast::JoinOperator::Left(c) | ast::JoinOperator::LeftOuter(c) => {
                        (JoinKind::Left, Some(c))
                    }
                    ast::JoinOperator::CrossJoin(_) => (JoinKind::Inner, None),
                    _ => return not_supported("this kind of join with LATERAL"),
                };
                let on = match on {
                    Some(ast::JoinConstraint::On(e)) => Some(e),
                    Some(ast::JoinConstraint::None) | None => None,
                    _ => return not_supported("LATERAL with USING or NATURAL"),
                };
                let (r, sc) = self.lateral(rels, scope, &j.relation, kind, on)?;
                rels = r;
                scope = sc;
                continue;
            }
            let (rplan, rscope) = self.from_item(&j.relation, outer)?;
            let (kind, constraint) = match &j.join_operator {
                ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => (Side::Inner, Some(c)),
                ast::JoinOperator::Left(c) | ast::JoinOperator::LeftOuter(c) => {
                    (Side::Left, Some(c))
                }
                ast::JoinOperator::Right(c) | ast::JoinOperator::RightOuter(c) => {
                    (Side::Right, Some(c))
                }
                ast::JoinOperator::FullOuter(c) => (Side::Full, Some(c)),
                ast::JoinOperator::CrossJoin(_) => (Side::Inner, None),
                other => {
                    return not_supported(
                        format!("join {other:?}")
                            .chars()
                            .take(60)
                            .collect::<String>(),
                    )
                }
            };
            if self.tid_scans {
                let tids = |s: &Scope| -> Vec<String> {
                    s.cols
                        .iter()
                        .filter(|c| c.name == TID_COLUMN)
                        .filter_map(|c| c.table.clone())
                        .collect()
                };
                if matches!(kind, Side::Left | Side::Full) {
                    self.nullable.extend(tids(&rscope));
                }
                if matches!(kind, Side::Right | Side::Full) {
                    self.nullable.extend(tids(&scope));
                }
            }
            let (lw, rw) = (scope.cols.len(), rscope.cols.len());
            let mut joined = scope.concat(&rscope);
            // USING and NATURAL: the pairs of columns to equate and merge.
            let using: Option<Vec<String>> = match constraint {
                Some(ast::JoinConstraint::Using(cols)) => Some(
                    cols.iter()
                        .map(|c| object_parts(c).last().cloned().unwrap_or_default())
                        .collect(),
                ),
                Some(ast::JoinConstraint::Natural) => Some(
                    scope
                        .star_cols()
                        .into_iter()
                        .map(|i| scope.cols[i].name.clone())
                        .filter(|n| {
                            rscope
                                .star_cols()
                                .iter()
                                .any(|&k| rscope.cols[k].name == *n)
                        })
                        .collect(),
                ),
                _ => None,
            };
            let mut pairs = Vec::new();
            let on = match (constraint, &using) {
                (Some(ast::JoinConstraint::On(e)), _) => Some(self.bool_expr(e, &joined)?),
                (_, Some(names)) => {
                    let mut pred: Option<Expr> = None;
                    for n in names {
                        let li = using_column(&scope, n, "left")?;
                        let ri = using_column(&rscope, n, "right")?;
                        let (lt, rt) = (scope.cols[li].ty, rscope.cols[ri].ty);
                        if !comparable(&lt, &rt) {
                            return Err(PlanError::DatatypeMismatch(format!(
                                "JOIN/USING types {} and {} cannot be matched",
                                lt.display_name(),
                                rt.display_name()
                            )));
                        }
                        pairs.push((li, ri, n.clone(), common_type(lt, rt)?));
                        let eq = Expr::Binary(
                            BinOp::Eq,
                            Box::new(Expr::Column(li)),
                            Box::new(Expr::Column(lw + ri)),
                        );
                        pred = Some(match pred {
                            None => eq,
                            Some(p) => Expr::Binary(BinOp::And, Box::new(p), Box::new(eq)),
                        });
                    }
                    pred
                }
                _ => None,
            };
            // The merged columns: the left copy (the right one for a RIGHT
            // JOIN, and COALESCE of both for a FULL JOIN, added at the end).
            let mut merged = Vec::new();
            for (li, ri, name, ty) in &pairs {
                match kind {
                    Side::Inner | Side::Left => {
                        joined.cols[lw + ri].hidden = true;
                        merged.push(*li);
                    }
                    Side::Right => {
                        joined.cols[*li].hidden = true;
                        merged.push(lw + ri);
                    }
                    Side::Full => {
                        joined.cols[*li].hidden = true;
                        joined.cols[lw + ri].hidden = true;
                        merged.push(joined.cols.len());
                        joined.cols.push(ScopeCol {
                            table: None,
                            name: name.clone(),
                            ty: *ty,
                            source: None,
                            hidden: false,
                        });
                    }
                }
            }
            if !pairs.is_empty() {
                let rest_l = scope
                    .star_cols()
                    .into_iter()
                    .filter(|i| !pairs.iter().any(|p| p.0 == *i));
                let rest_r = rscope
                    .star_cols()
                    .into_iter()
                    .filter(|i| !pairs.iter().any(|p| p.1 == *i))
                    .map(|i| i + lw);
                let mut star = merged.clone();
                star.extend(rest_l);
                star.extend(rest_r);
                joined.star = Some(star);
            }
            rels = match kind {
                Side::Inner => {
                    rels.append(FromRels::one(rplan, rw));
                    if let Some(on) = &on {
                        rels.preds.extend(conjuncts(on).into_iter().cloned());
                    }
                    rels
                }
                Side::Left | Side::Full => {
                    let left = join_rels(self, rels, &sources(&scope), None);
                    let jk = if kind == Side::Left {
                        JoinKind::Left
                    } else {
                        JoinKind::Full
                    };
                    let mut plan = crate::joins::merge_if_better(
                        make_join(left, rplan, jk, on, lw, rw),
                        self.flags.hashjoin,
                    );
                    if kind == Side::Full && !pairs.is_empty() {
                        let mut exprs: Vec<Expr> = (0..lw + rw).map(Expr::Column).collect();
                        for (li, ri, _, ty) in &pairs {
                            let side = |c: usize, t: DataType| {
                                let e = Expr::Column(c);
                                if t == *ty {
                                    e
                                } else {
                                    Expr::Cast(Box::new(e), *ty)
                                }
                            };
                            exprs.push(Expr::Func(
                                "coalesce".into(),
                                vec![
                                    side(*li, scope.cols[*li].ty),
                                    side(lw + ri, rscope.cols[*ri].ty),
                                ],
                            ));
                        }
                        plan = Plan::Project {
                            input: Box::new(plan),
                            exprs,
                        };
                    }
                    FromRels::one(plan, joined.cols.len())
                }
                Side::Right => {
                    // A LEFT JOIN with the sides swapped, then the columns
                    // put back in the written order.
                    let left = join_rels(self, rels, &sources(&scope), None);
                    let on = on.map(|mut e| {
                        e.visit_mut(&mut |x| {
                            if let Expr::Column(c) = x {
                                *c = if *c < lw { *c + rw } else { *c - lw };
                            }
                        });
                        e
                    });
                    let plan = crate::joins::merge_if_better(
                        make_join(rplan, left, JoinKind::Left, on, rw, lw),
                        self.flags.hashjoin,
                    );
                    let exprs = (0..lw)
                        .map(|i| Expr::Column(rw + i))
                        .chain((0..rw).map(Expr::Column))
                        .collect();
                    FromRels::one(
                        Plan::Project {
                            input: Box::new(plan),
                            exprs,
                        },
                        lw + rw,
                    )
                }
            };
            scope = joined;
        }
        Ok((rels, scope))
    }

    fn select(
        &mut self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
        outer: &Scope,
    ) -> Result<Query> {
        let locking = self.locking.take();
        // FROM; a locking query over joins scans its tables with their TIDs.
        let join_lock =
            locking.is_some() && (s.from.len() > 1 || s.from.iter().any(|f| !f.joins.is_empty()));
        let saved_tid_scans = std::mem::replace(&mut self.tid_scans, join_lock);
        let saved_nullable = std::mem::take(&mut self.nullable);
        let from = self.select_from(s, outer);
        self.tid_scans = saved_tid_scans;
        let nullable = std::mem::replace(&mut self.nullable, saved_nullable);
        let (from, scope) = from?;
        // WHERE, and the joins in the cheapest order. [NOT] EXISTS with
        // equalities to the outer row become semi (anti) joins.
        let mut where_pred = None;
        let mut semis = Vec::new();
        if let Some(w) = &s.selection {
            if contains_agg(w) {
                return Err(PlanError::Grouping(
                    "aggregate functions are not allowed in WHERE".into(),
                ));
            }
            let mut rest: Vec<&ast::Expr> = Vec::new();
            for c in decorrelate::ast_conjuncts(w) {
                match locking.is_none() {
                    true => match self.exists_as_join(c, &scope)? {
                        Some(j) => semis.push(j),
                        None => rest.push(c),
                    },
                    false => rest.push(c),
                }
            }
            let saved = std::mem::replace(&mut self.window_where, "in WHERE");
            let r = if semis.is_empty() {
                self.bool_expr(w, &scope).map(Some)
            } else {
                let mut acc: Option<Expr> = None;
                let mut res = Ok(());
                for c in rest {
                    match self.bool_expr(c, &scope) {
                        Ok(x) => {
                            acc = Some(match acc {
                                None => x,
                                Some(a) => Expr::Binary(BinOp::And, Box::new(a), Box::new(x)),
                            })
                        }
                        Err(e) => {
                            res = Err(e);
                            break;
                        }
                    }
                }
                res.map(|_| acc)
            };
            self.window_where = saved;
            where_pred = r?;
        }
        let mut plan = join_rels(self, from, &sources(&scope), where_pred.clone());
        let width = scope.cols.len();
        for j in semis {
            plan = Plan::HashJoin {
                left: Box::new(plan),
                right: Box::new(j.plan),
                kind: if j.anti {
                    JoinKind::Anti
                } else {
                    JoinKind::Semi
                },
                keys: j.keys,
                residual: j.residual,
                left_width: width,
                right_width: j.width,
            };
        }
        // FOR UPDATE over joins: lock each row's tuples as it leaves the
        // WHERE clause (all qualifying rows, even past a LIMIT).
        let mut locking = locking;
        if join_lock {
            let (strength, wait, of) = locking.take().expect("join_lock implies locking");
            let mut targets = Vec::new();
            for (i, c) in scope.cols.iter().enumerate() {
                if c.name != TID_COLUMN {
                    continue;
                }
                let alias = c.table.clone().unwrap_or_default();
                let Some(t) = c.source.and_then(|(oid, _)| self.schema.table_by_oid(oid)) else {
                    continue;
                };
                if of.as_ref().is_some_and(|o| *o != alias && *o != t.name) {
                    continue;
                }
                if nullable.contains(&alias) {
                    return not_supported(format!(
                        "{} cannot be applied to the nullable side of an outer join",
                        lock_name(strength)
                    ));
                }
                targets.push(LockTarget {
                    table: t.clone(),
                    tid_col: i,
                    offset: i - t.columns.len(),
                });
            }
            if let Some(o) = &of {
                if targets.is_empty() {
                    return Err(PlanError::MissingFromEntry(o.clone()));
                }
            }
            if has_agg_query(s, order) {
                return not_supported(format!(
                    "{} is not allowed with aggregate functions",
                    lock_name(strength)
                ));
            }
            if matches!(
                s.distinct,
                Some(ast::Distinct::Distinct) | Some(ast::Distinct::On(_))
            ) {
                return not_supported(format!(
                    "{} is not allowed with DISTINCT clause",
                    lock_name(strength)
                ));
            }
            plan = Plan::LockJoinRows {
                input: Box::new(plan),
                targets,
                strength,
                wait,
                pred: where_pred.clone(),
            };
        }
        // Aggregation?
        let group_items: Vec<ast::Expr> = match &s.group_by {
            ast::GroupByExpr::Expressions(v, _) => v.clone(),
            ast::GroupByExpr::All(_) => return not_supported("GROUP BY ALL"),
        };
        let (group_exprs, sets) = grouping_sets(&group_items);
        let has_agg = !group_exprs.is_empty()
            || s.having.is_some()
            || s.projection.iter().any(|i| match i {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } => contains_agg(e),
                _ => false,
            })
            || order.iter().any(|o| contains_agg(&o.expr));
        // Resolve GROUP BY items that name output columns or positions.
        let group_exprs: Vec<ast::Expr> = group_exprs
            .into_iter()
            .map(|g| resolve_output_ref(&g, &s.projection).unwrap_or(g))
            .collect();
        if has_agg {
            let mut group = Vec::new();
            let mut gtypes = Vec::new();
            for g in &group_exprs {
                let (x, t) = self.expr(g, &scope)?;
                group.push(x);
                gtypes.push(t);
            }
            self.agg = Some(AggCtx {
                groups: group_exprs.clone(),
                group,
                group_types: gtypes,
                input: scope.clone(),
                aggs: vec![],
            });
        }
        let saved_windows = self.windows.replace(Vec::new());
        let saved_srfs = self.srfs.replace(Vec::new());
        let mut named = Vec::new();
        for ast::NamedWindowDefinition(n, e) in &s.named_window {
            match e {
                ast::NamedWindowExpr::WindowSpec(spec) => named.push((ident(n), spec.clone())),
                ast::NamedWindowExpr::NamedWindow(r) => {
                    let r = ident(r);
                    let spec = named
                        .iter()
                        .find(|(w, _)| *w == r)
                        .map(|(_, s): &(String, ast::WindowSpec)| s.clone())
                        .ok_or_else(|| {
                            PlanError::UndefinedObject(format!("window \"{r}\" does not exist"))
                        })?;
                    named.push((ident(n), spec));
                }
            }
        }
        let saved_named = std::mem::replace(&mut self.named_windows, named);
        let res = self.select_rest(s, order, &scope);
        let calls = std::mem::replace(&mut self.windows, saved_windows).unwrap_or_default();
        let srfs = std::mem::replace(&mut self.srfs, saved_srfs).unwrap_or_default();
        self.named_windows = saved_named;
        let agg = self.agg.take();
        let (having, mut exprs, fields, sort_keys, distinct, distinct_on) = res?;
        // Window results: columns after the window's input row.
        let window_input = match &agg {
            Some(a) => a.group.len() + a.aggs.len(),
            None => scope.cols.len(),
        };
        // Set-returning results follow the window results.
        let srf_input = window_input + calls.len();
        if !calls.is_empty() || !srfs.is_empty() {
            for e in &mut exprs {
                e.visit_mut(&mut |x| {
                    if let Expr::Column(c) = x {
                        if *c >= SRF_BASE {
                            *c = *c - SRF_BASE + srf_input;
                        } else if *c >= WINDOW_BASE {
                            *c = *c - WINDOW_BASE + window_input;
                        }
                    }
                });
            }
        }
        // FOR UPDATE/SHARE: one plain table; its TID rides along to LockRows.
        let mut lock_node = None;
        if let Some((strength, wait, _)) = locking {
            let what = lock_name(strength);
            if agg.is_some() {
                let why = if group_exprs.is_empty() {
                    "aggregate functions"
                } else {
                    "GROUP BY clause"
                };
                return not_supported(format!("{what} is not allowed with {why}"));
            }
            if distinct {
                return not_supported(format!("{what} is not allowed with DISTINCT clause"));
            }
            let table = match &plan {
                Plan::SeqScan { table, .. } | Plan::IndexScan { table, .. } => table.clone(),
                _ => return not_supported(format!("{what} on a join or a non-table relation")),
            };
            plan = Plan::WithTid {
                input: Box::new(plan),
            };
            let proj = exprs.clone();
            exprs.push(Expr::Column(table.columns.len()));
            lock_node = Some((table, exprs.len() - 1, strength, wait, where_pred, proj));
        }
        if let Some(a) = agg {
            // The aggregate sits under HAVING and the projection.
            plan = Plan::Aggregate {
                input: Box::new(plan),
                group: a.group,
                aggs: a.aggs,
                sets,
            };
        }
        if let Some(pred) = having {
            plan = Plan::Filter {
                input: Box::new(plan),
                pred,
            };
        }
        if !calls.is_empty() {
            plan = Plan::Window {
                input: Box::new(plan),
                calls,
            };
        }
        if !srfs.is_empty() {
            plan = Plan::ProjectSet {
                input: Box::new(plan),
                calls: srfs,
            };
        }
        let visible = fields.len();
        let total = exprs.len();
        let mut plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
        if distinct {
            plan = Plan::Distinct {
                input: Box::new(plan),
            };
        }
        if !sort_keys.is_empty() {
            plan = Plan::Sort {
                input: Box::new(plan),
                keys: sort_keys,
            };
        }
        if let Some((table, tid_col, strength, wait, pred, exprs)) = lock_node {
            plan = Plan::LockRows {
                input: Box::new(plan),
                table,
                tid_col,
                strength,
                wait,
                pred,
                exprs,
            };
            return Ok(Query {
                plan: Plan::Project {
                    input: Box::new(plan),
                    exprs: (0..visible).map(Expr::Column).collect(),
                },
                fields,
            });
        }
        if let Some(cols) = distinct_on {
            plan = Plan::DistinctOn {
                input: Box::new(plan),
                cols,
            };
        }
        if total > visible {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: (0..visible).map(Expr::Column).collect(),
            };
        }
        Ok(Query { plan, fields })
    }

    #[allow(clippy::type_complexity)]
    fn select_rest(
        &mut self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
        scope: &Scope,
    ) -> Result<(
        Option<Expr>,
        Vec<Expr>,
        Vec<Field>,
        Vec<SortKey>,
        bool,
        Option<Vec<usize>>,
    )> {
        let (mut exprs, fields) = self.projection(&s.projection, scope)?;
        let having = match &s.having {
            Some(h) => Some(self.bool_expr(h, scope)?),
            None => None,
        };
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => false,
        };
        // DISTINCT ON: its expressions' positions among the outputs (added
        // hidden when not selected).
        let mut distinct_on = None;
        if let Some(ast::Distinct::On(on)) = &s.distinct {
            let mut pos = Vec::new();
            for e in on {
                let (x, _) = self.expr(e, scope)?;
                pos.push(match exprs.iter().position(|y| *y == x) {
                    Some(p) => p,
                    None => {
                        exprs.push(x);
                        exprs.len() - 1
                    }
                });
            }
            distinct_on = Some(pos);
        }
        let mut keys = Vec::new();
        for o in order {
            let desc = o.options.asc == Some(false);
            let nulls_first = o.options.nulls_first.unwrap_or(desc);
            // Output position, output alias, or an expression. A name two
            // different output columns carry is ambiguous (PostgreSQL's rule).
            if let ast::Expr::Identifier(id) = &o.expr {
                let n = ident(id);
                let hits: Vec<usize> = (0..fields.len()).filter(|&i| fields[i].name == n).collect();
                if hits.len() > 1 && hits.iter().any(|&i| exprs[i] != exprs[hits[0]]) {
                    return Err(PlanError::AmbiguousColumnMsg(format!(
                        "ORDER BY \"{n}\" is ambiguous"
                    )));
                }
            }
            let col = match &o.expr {
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let n: usize = v.value.to_string().parse().map_err(|_| PlanError::Syntax("bad ORDER BY position".into()))?;
                    if n == 0 || n > fields.len() {
                        return Err(PlanError::UndefinedColumn(format!("ORDER BY position {n} is not in select list")));
                    }
                    n - 1
                }
                ast::Expr::Identifier(id) if fields.iter().filter(|f| f.name == ident(id)).count() == 1 && scope.cols.iter().all(|c| c.name != ident(id)) || (fields.iter().any(|f| f.name == ident(id)) && s.projection.iter().any(|p| matches!(p, ast::SelectItem::ExprWithAlias { alias, .. } if ident(alias) == ident(id)))) => {
                    fields.iter().position(|f| f.name == ident(id)).expect("checked")
                }
                e => {
                    let (x, _) = self.expr(e, scope)?;
                    match exprs.iter().position(|y| *y == x) {
                        Some(p) => p,
                        None => {
                            if distinct {
                                return Err(PlanError::Syntax("for SELECT DISTINCT, ORDER BY expressions must appear in select list".into()));
                            }
                            exprs.push(x);
                            exprs.len() - 1
                        }
                    }
                }
            };
            keys.push(SortKey {
                expr: Expr::Column(col),
                desc,
                nulls_first,
            });
        }
        if let Some(on) = &distinct_on {
            // ORDER BY must start with the DISTINCT ON expressions (in any
            // order) until it has named them all.
            let mut left: Vec<usize> = on.clone();
            for k in &keys {
                if left.is_empty() {
                    break;
                }
                match k.expr {
                    Expr::Column(c) if on.contains(&c) => left.retain(|x| *x != c),
                    _ => return Err(PlanError::InvalidColumnReference(
                        "SELECT DISTINCT ON expressions must match initial ORDER BY expressions"
                            .into(),
                    )),
                }
            }
        }
        Ok((having, exprs, fields, keys, distinct, distinct_on))
    }

    fn projection(
        &mut self,
        items: &[ast::SelectItem],
        scope: &Scope,
    ) -> Result<(Vec<Expr>, Vec<Field>)> {
        let mut exprs = Vec::new();
        let mut fields = Vec::new();
        for item in items {
            match item {
                ast::SelectItem::Wildcard(_) => {
                    if self.agg.is_some() {
                        return Err(PlanError::Grouping("column must appear in the GROUP BY clause or be used in an aggregate function".into()));
                    }
                    if scope.cols.is_empty() {
                        return Err(PlanError::Syntax(
                            "SELECT * with no tables specified is not valid".into(),
                        ));
                    }
                    for i in scope.star_cols() {
                        let c = &scope.cols[i];
                        exprs.push(Expr::Column(i));
                        fields.push(Field {
                            name: c.name.clone(),
                            ty: c.ty,
                            source: c.source,
                        });
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            object_parts(n).last().cloned().unwrap_or_default()
                        }
                        other => return not_supported(format!("{other}")),
                    };
                    let mut any = false;
                    for (i, c) in scope.cols.iter().enumerate() {
                        if c.table.as_deref() == Some(q.as_str()) && c.name != TID_COLUMN {
                            any = true;
                            exprs.push(Expr::Column(i));
                            fields.push(Field {
                                name: c.name.clone(),
                                ty: c.ty,
                                source: c.source,
                            });
                        }
                    }
                    if !any {
                        return Err(PlanError::UndefinedTable(format!(
                            "missing FROM-clause entry for table \"{q}\""
                        )));
                    }
                }
                ast::SelectItem::UnnamedExpr(e) => {
                    let (x, t) = self.expr(e, scope)?;
                    let source = match &x {
                        Expr::Column(i) if self.agg.is_none() => {
                            scope.cols.get(*i).and_then(|c| c.source)
                        }
                        _ => None,
                    };
                    fields.push(Field {
                        name: column_name(e),
                        ty: output_type(t),
                        source,
                    });
                    exprs.push(x);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let (x, t) = self.expr(expr, scope)?;
                    fields.push(Field {
                        name: ident(alias),
                        ty: output_type(t),
                        source: None,
                    });
                    exprs.push(x);
                }
                other => return not_supported(format!("select item {other}")),
            }
        }
        Ok((exprs, fields))
    }

    /// Chooses an index scan when the predicate pins a prefix of an index
    /// to few enough rows that reading them through the index costs less
    /// than reading the whole table (or when sequential scans are
    /// switched off).
    pub(crate) fn access_path(&self, table: &Arc<TableDef>, pred: Option<Expr>) -> Plan {
        let Some(p) = pred else {
            if !self.flags.seqscan && self.flags.indexscan {
                if let Some(index) = table.indexes.iter().position(|ix| ix.predicate.is_none()) {
                    return Plan::IndexScan {
                        table: table.clone(),
                        index,
                        bounds: IndexBounds {
                            eq: vec![],
                            lo: None,
                            hi: None,
                        },
                        filter: None,
                    };
                }
            }
            return Plan::SeqScan {
                table: table.clone(),
                filter: None,
            };
        };
        if !self.flags.indexscan {
            return Plan::SeqScan {
                table: table.clone(),
                filter: Some(p),
            };
        }
        let conj = conjuncts(&p);
        let mut best: Option<(usize, IndexBounds, usize)> = None;
        for (ii, ix) in table.indexes.iter().enumerate() {
            if !predicate_implied(self.schema, table, ix, &conj) {
                continue;
            }
            let keys = match ix.exprs.is_empty() {
                true => ix.columns.iter().map(|&c| Expr::Column(c)).collect(),
                false => match index_key_exprs(self.schema, table, ix) {
                    Some(k) => k,
                    None => continue,
                },
            };
            let bounds = index_bounds(&conj, &keys);
            let score = bounds.eq.len() * 10
                + bounds.lo.is_some() as usize
                + bounds.hi.is_some() as usize
                + if bounds.eq.len() == ix.columns.len() && ix.unique {
                    100
                } else {
                    0
                };
            if score > 0 && best.as_ref().is_none_or(|b| score > b.2) {
                best = Some((ii, bounds, score));
            }
        }
        // The share of the table the index conditions keep: beyond a fifth,
        // scattered heap reads cost more than reading every page in order.
        let unique_eq = |ii: usize, b: &IndexBounds| {
            let ix = &table.indexes[ii];
            ix.unique && b.eq.len() == ix.columns.len()
        };
        if let Some((ii, bounds, _)) = &best {
            if self.flags.seqscan && !unique_eq(*ii, bounds) {
                let ix = &table.indexes[*ii];
                let keys: Vec<Expr> = match ix.exprs.is_empty() {
                    true => ix.columns.iter().map(|&c| Expr::Column(c)).collect(),
                    false => index_key_exprs(self.schema, table, ix).unwrap_or_default(),
                };
                let conds = bounds.conditions(&keys, &|v| v.clone());
                let sel = match and_all(conds) {
                    Some(c) if keys.len() == ix.columns.len() => self.est.selectivity(table, &c),
                    _ => 0.0,
                };
                if sel > INDEX_SCAN_MAX_SHARE {
                    best = None;
                }
            }
        }
        match best {
            Some((index, bounds, _)) => Plan::IndexScan {
                table: table.clone(),
                index,
                bounds,
                filter: Some(p),
            },
            None => Plan::SeqScan {
                table: table.clone(),
                filter: Some(p),
            },
        }
    }

    // ---------- expressions ----------

    fn bool_expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        let (x, t) = self.expr(e, scope)?;
        self.to_bool(x, t, "WHERE")
    }

    fn to_bool(&mut self, x: Expr, t: DataType, ctx: &str) -> Result<Expr> {
        match t {
            DataType::Bool => Ok(x),
            DataType::Unknown => {
                if let Expr::Param(i) = x {
                    self.params[i] = DataType::Bool;
                    return Ok(x);
                }
                Ok(Expr::Cast(Box::new(x), DataType::Bool))
            }
            other => Err(PlanError::DatatypeMismatch(format!(
                "argument of {ctx} must be type boolean, not type {}",
                other.display_name()
            ))),
        }
    }

    fn column_ref(&mut self, parts: &[String], scope: &Scope) -> Result<(Expr, DataType)> {
        match self.local_column_ref(parts, scope) {
            Err(e @ (PlanError::UndefinedColumn(_) | PlanError::MissingFromEntry(_))) => {
                let (tbl, name) = match parts {
                    [n] => (None, n.as_str()),
                    [t, n] | [_, t, n] => (Some(t.as_str()), n.as_str()),
                    _ => return Err(e),
                };
                for (d, s) in self.outer.iter().rev().enumerate() {
                    match resolve(s, tbl, name) {
                        Ok(col) => return Ok((Expr::Outer { depth: d + 1, col }, s.cols[col].ty)),
                        Err(PlanError::UndefinedColumn(_) | PlanError::MissingFromEntry(_)) => {}
                        Err(other) => return Err(other),
                    }
                }
                Err(e)
            }
            r => r,
        }
    }

    fn local_column_ref(&mut self, parts: &[String], scope: &Scope) -> Result<(Expr, DataType)> {
        let (tbl, name) = match parts {
            [n] => (None, n.as_str()),
            [t, n] => (Some(t.as_str()), n.as_str()),
            [_, t, n] => (Some(t.as_str()), n.as_str()),
            _ => {
                return Err(PlanError::Syntax(format!(
                    "improper qualified name (too many dotted names): {}",
                    parts.join(".")
                )))
            }
        };
        if let Some(a) = &self.agg {
            // Outside aggregates only grouped columns may be referenced.
            let input = a.input.clone();
            let idx = resolve(&input, tbl, name)?;
            for (gi, g) in a.groups.iter().enumerate() {
                if let Some(gparts) = ast_column_parts(g) {
                    let (gt, gn) = match gparts.as_slice() {
                        [n] => (None, n.as_str()),
                        [t, n] | [_, t, n] => (Some(t.as_str()), n.as_str()),
                        _ => continue,
                    };
                    if let Ok(gidx) = resolve(&input, gt, gn) {
                        if gidx == idx {
                            return Ok((Expr::Column(gi), a.group_types[gi]));
                        }
                    }
                }
            }
            // A column of a table whose primary key is grouped depends on
            // it (PostgreSQL's functional dependency): read through min()
            // over the group, which has the one value.
            let col = &input.cols[idx];
            if let Some((toid, _)) = col.source {
                let pk_grouped = self
                    .schema
                    .table_by_oid(toid)
                    .and_then(|t| t.primary_key())
                    .is_some_and(|pk| {
                        pk.columns.iter().all(|&c| {
                            a.group.iter().any(|g| {
                                matches!(g, Expr::Column(gi) if input.cols.get(*gi).is_some_and(|gc| {
                                    gc.source == Some((toid, c as i16 + 1)) && gc.table == col.table
                                }))
                            })
                        })
                    });
                if pk_grouped {
                    let ty = col.ty;
                    let call = AggCall {
                        func: AggFunc::Min,
                        args: vec![Expr::Column(idx)],
                        distinct: false,
                        ty,
                        order: vec![],
                        filter: None,
                    };
                    let a = self.agg.as_mut().expect("checked above");
                    let pos = match a.aggs.iter().position(|c| *c == call) {
                        Some(p) => p,
                        None => {
                            a.aggs.push(call);
                            a.aggs.len() - 1
                        }
                    };
                    return Ok((Expr::Column(a.groups.len() + pos), ty));
                }
            }
            let t = tbl.map(|t| format!("{t}.")).unwrap_or_default();
            return Err(PlanError::Grouping(format!(
                "column \"{t}{name}\" must appear in the GROUP BY clause or be used in an aggregate function"
            )));
        }
        let i = resolve(scope, tbl, name)?;
        Ok((Expr::Column(i), scope.cols[i].ty))
    }

    fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<(Expr, DataType)> {
        use ast::Expr as A;
        // Inside an aggregate query, a whole expression that is a GROUP BY item.
        if let Some(a) = &self.agg {
            if let Some(gi) = a.groups.iter().position(|g| g == e) {
                if !matches!(e, A::Identifier(_) | A::CompoundIdentifier(_)) {
                    return Ok((Expr::Column(gi), a.group_types[gi]));
                }
            }
        }
        match e {
            A::Identifier(i) => {
                if i.quote_style.is_none() {
                    match i.value.to_lowercase().as_str() {
                        "current_timestamp" => {
                            return Ok((Expr::Func("now".into(), vec![]), DataType::TimestampTz))
                        }
                        "localtimestamp" => {
                            return Ok((
                                Expr::Cast(
                                    Box::new(Expr::Func("now".into(), vec![])),
                                    DataType::Timestamp,
                                ),
                                DataType::Timestamp,
                            ))
                        }
                        "current_date" => {
                            return Ok((Expr::Func("current_date".into(), vec![]), DataType::Date))
                        }
                        "current_time" | "localtime" => {
                            return Ok((Expr::Func("current_time".into(), vec![]), DataType::Time))
                        }
                        "current_user" | "user" | "current_role" => {
                            return Ok((Expr::Func("current_user".into(), vec![]), DataType::Name))
                        }
                        "session_user" => {
                            return Ok((Expr::Func("session_user".into(), vec![]), DataType::Name))
                        }
                        "current_catalog" => {
                            return Ok((
                                Expr::Func("current_database".into(), vec![]),
                                DataType::Name,
                            ))
                        }
                        "current_schema" => return Ok(self.current_schema()),
                        _ => {}
                    }
                }
                self.column_ref(&[ident(i)], scope)
            }
            A::CompoundIdentifier(ids) => {
                self.column_ref(&ids.iter().map(ident).collect::<Vec<_>>(), scope)
            }
            A::Value(v) => self.literal(&v.value),
            A::Nested(inner) => self.expr(inner, scope),
            A::TypedString(ts) => {
                let ty = convert_type(&ts.data_type)?;
                let s = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                Ok((Expr::Literal(cast::from_text(&s, &ty)?), ty))
            }
            A::Cast {
                expr, data_type, ..
            } => {
                let ty = convert_type(data_type)?;
                if let (A::Array(a), DataType::Array(_)) = (expr.as_ref(), ty) {
                    if a.elem.is_empty() {
                        let elem = ty.element().unwrap_or(DataType::Text);
                        return Ok((
                            Expr::Literal(Value::Array(Box::new(
                                basalt_catalog::types::Array::from_items(elem, vec![]),
                            ))),
                            ty,
                        ));
                    }
                }
                let (x, t) = self.expr(expr, scope)?;
                if let Expr::Param(i) = x {
                    if self.params[i] == DataType::Unknown {
                        self.params[i] = ty;
                    }
                }
                // An explicit cast to varchar(n) or char(n) truncates.
                let x = match ty {
                    DataType::Varchar(Some(n)) | DataType::Char(n)
                        if t != DataType::Unknown || matches!(x, Expr::Literal(_)) =>
                    {
                        let text = match t {
                            DataType::Char(_) => text_of(x, t),
                            _ => self.coerce_to(x, t, DataType::Text)?,
                        };
                        let e = Expr::Func(
                            "basalt_truncate".into(),
                            vec![text, Expr::Literal(Value::Int4(n as i32))],
                        );
                        return Ok((Expr::Cast(Box::new(e), ty), ty));
                    }
                    _ => x,
                };
                if let (Expr::Literal(Value::Text(s)), true) = (
                    &x,
                    matches!(data_type, ast::DataType::Custom(n, _) if object_parts(n).last().is_some_and(|l| l == "regtype")),
                ) {
                    // 'type name'::regtype → the type's OID; an enum by
                    // its (possibly qualified) name.
                    let bare = s.rsplit('.').next().unwrap_or(s).trim_matches('"');
                    if let Some(e) = self.schema.enums.iter().find(|e| e.name == bare) {
                        return Ok((Expr::Literal(Value::Int8(e.oid as i64)), DataType::Oid));
                    }
                    let parsed =
                        sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
                            .try_with_sql(s)
                            .and_then(|mut p| p.parse_data_type())
                            .map_err(|_| {
                                PlanError::UndefinedObject(format!("type \"{s}\" does not exist"))
                            })?;
                    let t = convert_type(&parsed)?;
                    return Ok((Expr::Literal(Value::Int8(t.oid() as i64)), DataType::Oid));
                }
                // A column or expression cast to regclass or regtype shows
                // as the relation's or type's name (the OID's own text when
                // there is none).
                let reg = match data_type {
                    ast::DataType::Regclass => Some("regclass"),
                    ast::DataType::Custom(n, _) => match object_parts(n).last().map(String::as_str)
                    {
                        Some("regclass") => Some("regclass"),
                        Some("regtype") => Some("regtype"),
                        _ => None,
                    },
                    _ => None,
                };
                // 'name'::regnamespace: the schema's OID.
                if let (Expr::Literal(Value::Text(s)), true) = (
                    &x,
                    matches!(data_type, ast::DataType::Custom(n, _) if object_parts(n).last().is_some_and(|l| l == "regnamespace")),
                ) {
                    let name = s.trim_matches('"').to_string();
                    let oid = self
                        .schema
                        .namespace_oid(&name)
                        .or_else(|| s.trim().parse::<u32>().ok())
                        .ok_or_else(|| {
                            PlanError::Coded("3F000", format!("schema \"{name}\" does not exist"))
                        })?;
                    return Ok((Expr::Literal(Value::Int8(oid as i64)), DataType::Oid));
                }
                // $1::regclass: the client sends the name.
                if let (Some(reg), Expr::Param(i)) = (reg, &x) {
                    if matches!(self.params[*i], DataType::Unknown | DataType::Oid) {
                        self.params[*i] = DataType::Text;
                    }
                    return Ok((Expr::Func(format!("to_{reg}"), vec![x]), DataType::Oid));
                }
                if let (Some(reg), false) = (reg, matches!(x, Expr::Literal(_) | Expr::Param(_))) {
                    // A name (text) looked up: the object's OID.
                    if t.is_string() {
                        let x = self.coerce_to(x, t, DataType::Text)?;
                        return Ok((Expr::Func(format!("to_{reg}"), vec![x]), DataType::Oid));
                    }
                    let f = format!("__{reg}_name");
                    return Ok((Expr::Func(f, vec![x]), DataType::Text));
                }
                if let Expr::Literal(v) = &x {
                    // regclass literals: 'name'::regclass → the table's OID.
                    if matches!(data_type, ast::DataType::Regclass)
                        || matches!(data_type, ast::DataType::Custom(n, _) if object_parts(n).last().is_some_and(|l| l == "regclass"))
                    {
                        if let Value::Text(s) = v {
                            let parts: Vec<String> = s
                                .split('.')
                                .map(|p| p.trim_matches('"').to_lowercase())
                                .collect();
                            let catalog = match parts.as_slice() {
                                [n] | [_, n] if parts.len() == 1 || parts[0] == "pg_catalog" => {
                                    system::catalog_oid(n)
                                }
                                _ => None,
                            };
                            // An OID given as a number stands for itself.
                            if let Ok(oid) = s.trim().parse::<u32>() {
                                return Ok((Expr::Literal(Value::Int8(oid as i64)), DataType::Oid));
                            }
                            let oid = match self.lookup_table(&parts)? {
                                Some(t) => t.oid,
                                None if catalog.is_some() => catalog.expect("checked"),
                                None => match self.resolve(&parts, |ns, n| {
                                    self.schema
                                        .relation(ns, n)
                                        .and_then(|(t, i)| Some(t.indexes[i?].oid))
                                        .or_else(|| self.schema.view(ns, n).map(|v| v.oid))
                                        .or_else(|| self.schema.sequence(ns, n).map(|v| v.oid))
                                })? {
                                    Some(oid) => oid,
                                    _ => return Err(PlanError::UndefinedTable(s.clone())),
                                },
                            };
                            return Ok((Expr::Literal(Value::Int8(oid as i64)), DataType::Oid));
                        }
                    }
                    return Ok((Expr::Literal(cast::cast(v.clone(), &ty)?), ty));
                }
                if t != ty && !cast_allowed(&t, &ty) {
                    return Err(PlanError::UndefinedFunction(format!(
                        "cannot cast type {} to {}",
                        t.display_name(),
                        ty.display_name()
                    )));
                }
                if matches!(t, DataType::Char(_))
                    && matches!(ty, DataType::Text | DataType::Varchar(None))
                {
                    return Ok((Expr::Cast(Box::new(text_of(x, t)), ty), ty));
                }
                Ok((Expr::Cast(Box::new(x), ty), ty))
            }
            A::UnaryOp { op, expr } => {
                let (x, t) = self.expr(expr, scope)?;
                match op {
                    ast::UnaryOperator::Not => Ok((
                        Expr::Not(Box::new(self.to_bool(x, t, "NOT")?)),
                        DataType::Bool,
                    )),
                    ast::UnaryOperator::Minus => {
                        if let Expr::Literal(v) = &x {
                            let neg = match v {
                                Value::Int4(i) => Some(Value::Int4(-i)),
                                Value::Int8(i) if *i == 2147483648 => Some(Value::Int4(i32::MIN)),
                                Value::Int8(i) => Some(Value::Int8(-i)),
                                Value::Numeric(d) => {
                                    if d.to_string() == "9223372036854775808" {
                                        Some(Value::Int8(i64::MIN))
                                    } else {
                                        Some(Value::Numeric(d.neg()))
                                    }
                                }
                                Value::Float8(f) => Some(Value::Float8(-f)),
                                _ => None,
                            };
                            if let Some(n) = neg {
                                let t = n.data_type();
                                return Ok((Expr::Literal(n), t));
                            }
                        }
                        if !t.is_numeric() && t != DataType::Unknown && t != DataType::Interval {
                            return Err(PlanError::UndefinedFunction(format!(
                                "operator does not exist: - {}",
                                t.display_name()
                            )));
                        }
                        Ok((Expr::Neg(Box::new(x)), t))
                    }
                    ast::UnaryOperator::Plus => Ok((x, t)),
                    // |/ x, ||/ x, @ x, ~ x: sqrt, cbrt, abs, bitwise not.
                    ast::UnaryOperator::PGSquareRoot | ast::UnaryOperator::PGCubeRoot => {
                        let f = if *op == ast::UnaryOperator::PGSquareRoot {
                            "sqrt"
                        } else {
                            "cbrt"
                        };
                        let x = self.coerce_to(x, t, DataType::Float8)?;
                        Ok((Expr::Func(f.into(), vec![x]), DataType::Float8))
                    }
                    ast::UnaryOperator::PGAbs if t.is_numeric() || t == DataType::Unknown => {
                        let t = if t == DataType::Unknown {
                            DataType::Float8
                        } else {
                            t
                        };
                        Ok((
                            Expr::Func("abs".into(), vec![Expr::Cast(Box::new(x), t)]),
                            t,
                        ))
                    }
                    ast::UnaryOperator::BitwiseNot if t.is_integer() || t == DataType::Unknown => {
                        let t = if t == DataType::Unknown {
                            DataType::Int4
                        } else {
                            t
                        };
                        Ok((
                            Expr::Func("int_not".into(), vec![Expr::Cast(Box::new(x), t)]),
                            t,
                        ))
                    }
                    other => not_supported(format!("operator {other}")),
                }
            }
            A::BinaryOp { left, op, right } => self.binary(left, op, right, scope),
            A::Interval(iv) => {
                let text = match &*iv.value {
                    ast::Expr::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.clone(),
                        ast::Value::Number(n, _) => n.to_string(),
                        _ => return not_supported(format!("interval {iv}")),
                    },
                    _ => return not_supported(format!("interval {iv}")),
                };
                let unit = iv
                    .leading_field
                    .as_ref()
                    .map(|f| f.to_string().to_lowercase());
                let v =
                    basalt_catalog::Interval::parse(&text, unit.as_deref()).ok_or_else(|| {
                        PlanError::Value(cast::ValueError::InvalidText {
                            ty: "interval".into(),
                            text: text.clone(),
                        })
                    })?;
                Ok((Expr::Literal(Value::Interval(v)), DataType::Interval))
            }
            A::IsNull(x) | A::IsNotNull(x) => {
                let (b, _) = self.expr(x, scope)?;
                Ok((
                    Expr::IsNull(Box::new(b), matches!(e, A::IsNotNull(_))),
                    DataType::Bool,
                ))
            }
            A::IsTrue(x) | A::IsNotTrue(x) | A::IsFalse(x) | A::IsNotFalse(x) => {
                let (b, t) = self.expr(x, scope)?;
                let b = self.to_bool(b, t, "IS TRUE")?;
                let want = matches!(e, A::IsTrue(_) | A::IsNotTrue(_));
                let neg = matches!(e, A::IsNotTrue(_) | A::IsNotFalse(_));
                Ok((
                    Expr::IsDistinct(
                        Box::new(b),
                        Box::new(Expr::Literal(Value::Bool(want))),
                        !neg,
                    ),
                    DataType::Bool,
                ))
            }
            A::IsDistinctFrom(l, r) | A::IsNotDistinctFrom(l, r) => {
                let (l, r, _) = self.comparison_operands(l, r, scope, "IS DISTINCT FROM")?;
                Ok((
                    Expr::IsDistinct(
                        Box::new(l),
                        Box::new(r),
                        matches!(e, A::IsNotDistinctFrom(..)),
                    ),
                    DataType::Bool,
                ))
            }
            A::Between {
                expr,
                negated,
                low,
                high,
            } => {
                // BETWEEN SYMMETRIC (its low bound marked by the parser):
                // either order of the bounds.
                let symmetric = match low.as_ref() {
                    A::Function(f) if f.name.to_string() == basalt_parser::SYMMETRIC_MARK => {
                        match &f.args {
                            ast::FunctionArguments::List(l) => match l.args.as_slice() {
                                [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x))] => {
                                    Some(x)
                                }
                                _ => None,
                            },
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let low = match symmetric {
                    Some(x) => x,
                    None => low.as_ref(),
                };
                let (a, lo, _) = self.comparison_operands(expr, low, scope, ">=")?;
                let (_, hi, _) = self.comparison_operands(expr, high, scope, "<=")?;
                let between = |lo: Expr, hi: Expr| {
                    Expr::Binary(
                        BinOp::And,
                        Box::new(Expr::Binary(BinOp::GtEq, Box::new(a.clone()), Box::new(lo))),
                        Box::new(Expr::Binary(BinOp::LtEq, Box::new(a.clone()), Box::new(hi))),
                    )
                };
                let both = match symmetric {
                    Some(_) => Expr::Binary(
                        BinOp::Or,
                        Box::new(between(lo.clone(), hi.clone())),
                        Box::new(between(hi, lo)),
                    ),
                    None => between(lo, hi),
                };
                return Ok((
                    if *negated {
                        Expr::Not(Box::new(both))
                    } else {
                        both
                    },
                    DataType::Bool,
                ));
            }
            A::InList {
                expr,
                list,
                negated,
            } if row_items(expr).is_some() => {
                // (a, b) IN ((1, 2), (3, 4)): row equalities ORed.
                let x = row_items(expr).expect("checked");
                let mut any: Option<ast::Expr> = None;
                for item in list {
                    let Some(y) = row_items(item) else {
                        return Err(PlanError::DatatypeMismatch(
                            "IN list items must be rows of the same size as the row on the left"
                                .into(),
                        ));
                    };
                    if y.len() != x.len() {
                        return Err(PlanError::Syntax(
                            "unequal number of entries in row expressions".into(),
                        ));
                    }
                    let eq = row_comparison(&x, &ast::BinaryOperator::Eq, &y);
                    any = Some(match any {
                        None => eq,
                        Some(a) => ast::Expr::BinaryOp {
                            left: Box::new(a),
                            op: ast::BinaryOperator::Or,
                            right: Box::new(eq),
                        },
                    });
                }
                let e = any.unwrap_or(ast::Expr::value(ast::Value::Boolean(false)));
                let e = if *negated {
                    ast::Expr::UnaryOp {
                        op: ast::UnaryOperator::Not,
                        expr: Box::new(ast::Expr::Nested(Box::new(e))),
                    }
                } else {
                    e
                };
                self.expr(&e, scope)
            }
            A::InList {
                expr,
                list,
                negated,
            } => {
                let (x, t) = self.expr(expr, scope)?;
                let mut items = Vec::new();
                for i in list {
                    let (y, ty) = self.expr(i, scope)?;
                    let (_, y2, _) = self.unify_cmp(x.clone(), t, y, ty, "=")?;
                    items.push(y2);
                }
                Ok((
                    Expr::InList {
                        expr: Box::new(x),
                        list: items,
                        negated: *negated,
                    },
                    DataType::Bool,
                ))
            }
            A::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let (x, _) = self.expr(expr, scope)?;
                let q = self.subquery(subquery, scope);
                let q = q?;
                if q.fields.len() != 1 {
                    return Err(PlanError::Syntax("subquery has too many columns".into()));
                }
                Ok((
                    Expr::InSubquery(Box::new(x), Box::new(q.plan), *negated),
                    DataType::Bool,
                ))
            }
            A::Exists { subquery, negated } => {
                let q = self.subquery(subquery, scope);
                Ok((Expr::Exists(Box::new(q?.plan), *negated), DataType::Bool))
            }
            A::Subquery(q) => {
                let q = self.subquery(q, scope)?;
                if q.fields.len() != 1 {
                    return Err(PlanError::Syntax(
                        "subquery must return only one column".into(),
                    ));
                }
                let t = q.fields[0].ty;
                Ok((Expr::Subquery(Box::new(q.plan)), t))
            }
            A::SimilarTo {
                negated,
                expr,
                pattern,
                escape_char,
            } => {
                let (x, t) = self.expr(expr, scope)?;
                let (p, pt) = self.expr(pattern, scope)?;
                if !t.is_string() || !pt.is_string() {
                    return Err(PlanError::UndefinedFunction(format!(
                        "operator does not exist: {} ~ {}",
                        t.display_name(),
                        pt.display_name()
                    )));
                }
                let esc = match escape_char {
                    Some(v) => {
                        Expr::Literal(Value::Text(v.to_string().trim_matches('\'').to_string()))
                    }
                    None => Expr::Literal(Value::Text("\\".into())),
                };
                let re = Expr::Func("similar_to_escape".into(), vec![p, esc]);
                Ok((
                    Expr::Binary(BinOp::Regex(false, *negated), Box::new(x), Box::new(re)),
                    DataType::Bool,
                ))
            }
            A::Like {
                negated,
                expr,
                pattern,
                escape_char,
                any: false,
            }
            | A::ILike {
                negated,
                expr,
                pattern,
                escape_char,
                any: false,
            } => {
                let (x, t) = self.expr(expr, scope)?;
                let (p, pt) = self.expr(pattern, scope)?;
                // LIKE ... ESCAPE 'c': the pattern rewritten to the default
                // escape (backslash).
                let p = match escape_char {
                    Some(v) => {
                        let esc = v.to_string().trim_matches('\'').to_string();
                        if esc.chars().count() > 1 {
                            return Err(PlanError::Coded(
                                "22025",
                                "invalid escape string\nHINT: Escape string must be empty or one character."
                                    .into(),
                            ));
                        }
                        let p = self.coerce_to(p, pt, DataType::Text)?;
                        Expr::Func(
                            "__like_escape".into(),
                            vec![p, Expr::Literal(Value::Text(esc))],
                        )
                    }
                    None => p,
                };
                if !t.is_string() || !pt.is_string() {
                    return Err(PlanError::UndefinedFunction(format!(
                        "operator does not exist: {} ~~ {}",
                        t.display_name(),
                        pt.display_name()
                    )));
                }
                Ok((
                    Expr::Like {
                        expr: Box::new(x),
                        pattern: Box::new(p),
                        negated: *negated,
                        ci: matches!(e, A::ILike { .. }),
                    },
                    DataType::Bool,
                ))
            }
            A::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let op = match operand {
                    Some(o) => Some(self.expr(o, scope)?),
                    None => None,
                };
                let mut whens = Vec::new();
                let mut rt = DataType::Unknown;
                for cw in conditions {
                    let cond = match &op {
                        Some((ox, ot)) => {
                            let (w, wt) = self.expr(&cw.condition, scope)?;
                            self.unify_cmp(ox.clone(), *ot, w, wt, "=")?.1
                        }
                        None => self.bool_expr(&cw.condition, scope)?,
                    };
                    let (r, t) = self.expr(&cw.result, scope)?;
                    rt = common_type(rt, t)?;
                    whens.push((cond, r));
                }
                let else_ = match else_result {
                    Some(e) => {
                        let (x, t) = self.expr(e, scope)?;
                        rt = common_type(rt, t)?;
                        Some(Box::new(x))
                    }
                    None => None,
                };
                let rt = if rt == DataType::Unknown {
                    DataType::Text
                } else {
                    rt
                };
                let whens = whens
                    .into_iter()
                    .map(|(c, r)| (c, Expr::Cast(Box::new(r), rt)))
                    .collect();
                let else_ = else_.map(|e| Box::new(Expr::Cast(e, rt)));
                Ok((
                    Expr::Case {
                        operand: op.map(|(x, _)| Box::new(x)),
                        whens,
                        else_,
                    },
                    rt,
                ))
            }
            A::Function(f) => self.function(f, scope),
            A::Extract { field, expr, .. } => {
                let (x, _) = self.expr(expr, scope)?;
                Ok((
                    Expr::Func(
                        "extract".into(),
                        vec![
                            Expr::Literal(Value::Text(field.to_string().to_lowercase())),
                            x,
                        ],
                    ),
                    DataType::Numeric(None),
                ))
            }
            A::Position { expr, r#in } => {
                let (x, _) = self.expr(expr, scope)?;
                let (y, _) = self.expr(r#in, scope)?;
                Ok((
                    Expr::Func(
                        "strpos".into(),
                        vec![
                            Expr::Cast(Box::new(y), DataType::Text),
                            Expr::Cast(Box::new(x), DataType::Text),
                        ],
                    ),
                    DataType::Int4,
                ))
            }
            A::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return not_supported("TRIM with a list of characters");
                }
                let (x, _) = self.expr(expr, scope)?;
                let mut args = vec![Expr::Cast(Box::new(x), DataType::Text)];
                if let Some(w) = trim_what {
                    let (c, _) = self.expr(w, scope)?;
                    args.push(Expr::Cast(Box::new(c), DataType::Text));
                }
                let f = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                Ok((Expr::Func(f.into(), args), DataType::Text))
            }
            A::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let (x, _) = self.expr(expr, scope)?;
                let mut args = vec![Expr::Cast(Box::new(x), DataType::Text)];
                if let (Some(f), None) = (substring_from, substring_for) {
                    // substring(s FROM pattern): a text pattern is a regex.
                    let (p, pt) = self.expr(f, scope)?;
                    if pt == DataType::Unknown || pt.is_string() {
                        args.push(Expr::Cast(Box::new(p), DataType::Text));
                        return Ok((Expr::Func("substring_regex".into(), args), DataType::Text));
                    }
                }
                if let Some(f) = substring_from {
                    args.push(Expr::Cast(Box::new(self.expr(f, scope)?.0), DataType::Int8));
                } else {
                    args.push(Expr::Literal(Value::Int8(1)));
                }
                if let Some(f) = substring_for {
                    args.push(Expr::Cast(Box::new(self.expr(f, scope)?.0), DataType::Int8));
                }
                Ok((Expr::Func("substr".into(), args), DataType::Text))
            }
            A::Ceil { expr, field } | A::Floor { expr, field }
                if matches!(
                    field,
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)
                ) =>
            {
                let name = if matches!(e, A::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let (x, t) = self.expr(expr, scope)?;
                let rt = function_type(name, &[t])?;
                let x = if t == DataType::Unknown {
                    Expr::Cast(Box::new(x), rt)
                } else {
                    x
                };
                Ok((Expr::Func(name.into(), vec![x]), rt))
            }
            A::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                let mut args = vec![
                    Expr::Cast(Box::new(self.expr(expr, scope)?.0), DataType::Text),
                    Expr::Cast(Box::new(self.expr(overlay_what, scope)?.0), DataType::Text),
                    Expr::Cast(Box::new(self.expr(overlay_from, scope)?.0), DataType::Int8),
                ];
                if let Some(f) = overlay_for {
                    args.push(Expr::Cast(Box::new(self.expr(f, scope)?.0), DataType::Int8));
                }
                Ok((Expr::Func("overlay".into(), args), DataType::Text))
            }
            A::Collate { expr, .. } => self.expr(expr, scope),
            A::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                let (x, t) = self.expr(timestamp, scope)?;
                let (z, zt) = self.expr(time_zone, scope)?;
                let z = self.coerce_to(z, zt, DataType::Text)?;
                let (x, ret) = match t {
                    DataType::TimestampTz => (x, DataType::Timestamp),
                    DataType::Timestamp | DataType::Date => (x, DataType::TimestampTz),
                    DataType::Unknown => (
                        self.coerce_to(x, t, DataType::TimestampTz)?,
                        DataType::Timestamp,
                    ),
                    other => {
                        return Err(PlanError::UndefinedFunction(format!(
                            "function timezone(text, {}) does not exist",
                            other.display_name()
                        )))
                    }
                };
                Ok((Expr::Func("timezone".into(), vec![z, x]), ret))
            }
            A::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | A::AllOp {
                left,
                compare_op,
                right,
            } => {
                let all = matches!(e, A::AllOp { .. });
                let op_name = compare_op.to_string();
                let op = match compare_op {
                    ast::BinaryOperator::Eq => BinOp::Eq,
                    ast::BinaryOperator::NotEq => BinOp::NotEq,
                    ast::BinaryOperator::Lt => BinOp::Lt,
                    ast::BinaryOperator::LtEq => BinOp::LtEq,
                    ast::BinaryOperator::Gt => BinOp::Gt,
                    ast::BinaryOperator::GtEq => BinOp::GtEq,
                    other => return not_supported(format!("operator {other} with ANY/ALL")),
                };
                if let A::Subquery(q) = right.as_ref() {
                    if op == BinOp::Eq && !all {
                        let (x, _) = self.expr(left, scope)?;
                        let q = self.subquery(q, scope)?;
                        return Ok((
                            Expr::InSubquery(Box::new(x), Box::new(q.plan), false),
                            DataType::Bool,
                        ));
                    }
                    if op == BinOp::NotEq && all {
                        let (x, _) = self.expr(left, scope)?;
                        let q = self.subquery(q, scope)?;
                        return Ok((
                            Expr::InSubquery(Box::new(x), Box::new(q.plan), true),
                            DataType::Bool,
                        ));
                    }
                }
                let (x, xt) = self.expr(left, scope)?;
                // x op ANY/ALL (subquery) is x op ANY/ALL over the array of
                // the subquery's values: the same three-valued answer.
                let (a, at) = match right.as_ref() {
                    A::Subquery(q) => {
                        let q = self.subquery(q, scope)?;
                        if q.fields.len() != 1 {
                            return Err(PlanError::Syntax("subquery has too many columns".into()));
                        }
                        let t = output_type(q.fields[0].ty).array_of();
                        (
                            Expr::Cast(Box::new(Expr::ArraySubquery(Box::new(q.plan))), t),
                            t,
                        )
                    }
                    r => {
                        let (a, at) = self.expr(r, scope)?;
                        bind_arrays::devector(a, at)
                    }
                };
                let (x, a) = match at {
                    DataType::Array(_) => {
                        let e = at.element().unwrap_or(DataType::Text);
                        if xt != DataType::Unknown && !comparable(&xt, &e) {
                            return Err(no_operator(&xt, op_name, &e));
                        }
                        (self.coerce_to(x, xt, e)?, a)
                    }
                    DataType::Unknown => {
                        let xt = if xt == DataType::Unknown {
                            DataType::Text
                        } else {
                            xt
                        };
                        let x = self.coerce_to(x, DataType::Unknown, xt)?;
                        (x, self.coerce_to(a, at, xt.array_of())?)
                    }
                    t if t.is_string() => (self.coerce_to(x, xt, DataType::Text)?, a),
                    t => {
                        return Err(PlanError::DatatypeMismatch(format!(
                            "op ANY/ALL (array) requires array on right side, not {}",
                            t.display_name()
                        )))
                    }
                };
                Ok((
                    Expr::AnyArray {
                        expr: Box::new(x),
                        op,
                        array: Box::new(a),
                        all,
                    },
                    DataType::Bool,
                ))
            }
            A::CompoundFieldAccess { root, access_chain } => {
                // t.col[i]: the leading `.name` parts name the column.
                if let A::Identifier(first) = root.as_ref() {
                    let dots = access_chain
                        .iter()
                        .take_while(|a| matches!(a, ast::AccessExpr::Dot(A::Identifier(_))))
                        .count();
                    if dots > 0 {
                        let mut parts = vec![first.clone()];
                        for a in &access_chain[..dots] {
                            if let ast::AccessExpr::Dot(A::Identifier(i)) = a {
                                parts.push(i.clone());
                            }
                        }
                        let (x, t) = self.expr(&A::CompoundIdentifier(parts), scope)?;
                        return self.subscripts(x, t, &access_chain[dots..], scope);
                    }
                }
                let (x, t) = self.expr(root, scope)?;
                self.subscripts(x, t, access_chain, scope)
            }
            A::Array(a) => self.array_constructor(&a.elem, scope),
            A::Tuple(_) => not_supported("row constructors"),
            other => not_supported(format!("expression \"{other}\"")),
        }
    }

    fn literal(&mut self, v: &ast::Value) -> Result<(Expr, DataType)> {
        Ok(match v {
            ast::Value::Number(n, _) => {
                let s = n.to_string();
                if let Ok(i) = s.parse::<i32>() {
                    (Expr::Literal(Value::Int4(i)), DataType::Int4)
                } else if let Ok(i) = s.parse::<i64>() {
                    (Expr::Literal(Value::Int8(i)), DataType::Int8)
                } else {
                    let v = cast::from_text(&s, &DataType::Numeric(None))?;
                    (Expr::Literal(v), DataType::Numeric(None))
                }
            }
            ast::Value::SingleQuotedString(s)
            | ast::Value::EscapedStringLiteral(s)
            | ast::Value::UnicodeStringLiteral(s)
            | ast::Value::DollarQuotedString(ast::DollarQuotedString { value: s, .. }) => {
                (Expr::Literal(Value::Text(s.clone())), DataType::Unknown)
            }
            ast::Value::Boolean(b) => (Expr::Literal(Value::Bool(*b)), DataType::Bool),
            ast::Value::Null => (Expr::Literal(Value::Null), DataType::Unknown),
            ast::Value::Placeholder(p) => {
                let n: usize = p
                    .trim_start_matches('$')
                    .parse()
                    .map_err(|_| PlanError::Syntax(format!("bad parameter {p}")))?;
                if n == 0 || n > 65535 {
                    return Err(PlanError::Syntax(format!("there is no parameter {p}")));
                }
                if self.params.len() < n {
                    self.params.resize(n, DataType::Unknown);
                }
                (Expr::Param(n - 1), self.params[n - 1])
            }
            ast::Value::HexStringLiteral(h) => {
                let v = cast::from_text(&format!("\\x{h}"), &DataType::Bytea)?;
                (Expr::Literal(v), DataType::Bytea)
            }
            other => return not_supported(format!("literal {other}")),
        })
    }

    /// Binds two operands of a comparison and gives both one type.
    fn comparison_operands(
        &mut self,
        l: &ast::Expr,
        r: &ast::Expr,
        scope: &Scope,
        op: &str,
    ) -> Result<(Expr, Expr, DataType)> {
        let (a, at) = self.expr(l, scope)?;
        let (b, bt) = self.expr(r, scope)?;
        self.unify_cmp(a, at, b, bt, op)
    }

    fn unify_cmp(
        &mut self,
        a: Expr,
        at: DataType,
        b: Expr,
        bt: DataType,
        op: &str,
    ) -> Result<(Expr, Expr, DataType)> {
        let coerce = |this: &mut Self, x: Expr, to: DataType| -> Result<Expr> {
            match x {
                Expr::Literal(v) => Ok(Expr::Literal(cast::cast(v, &to)?)),
                Expr::Param(i) => {
                    this.params[i] = to;
                    Ok(Expr::Param(i))
                }
                other => Ok(Expr::Cast(Box::new(other), to)),
            }
        };
        match (at, bt) {
            (DataType::Unknown, DataType::Unknown) => Ok((
                coerce(self, a, DataType::Text)?,
                coerce(self, b, DataType::Text)?,
                DataType::Text,
            )),
            (DataType::Unknown, t) => Ok((coerce(self, a, t)?, b, t)),
            (t, DataType::Unknown) => Ok((a, coerce(self, b, t)?, t)),
            (x, y) if comparable(&x, &y) => Ok((a, b, x)),
            (x, y) => Err(no_operator(&x, op, &y)),
        }
    }

    fn binary(
        &mut self,
        l: &ast::Expr,
        op: &ast::BinaryOperator,
        r: &ast::Expr,
        scope: &Scope,
    ) -> Result<(Expr, DataType)> {
        use ast::BinaryOperator as O;
        // Row comparisons: (a, b) = (1, 2), (a, b) < (c, d).
        if let (Some(x), Some(y)) = (row_items(l), row_items(r)) {
            if matches!(op, O::Eq | O::NotEq | O::Lt | O::LtEq | O::Gt | O::GtEq) {
                if x.len() != y.len() {
                    return Err(PlanError::Syntax(
                        "unequal number of entries in row expressions".into(),
                    ));
                }
                let e = row_comparison(&x, op, &y);
                return self.expr(&e, scope);
            }
        }
        // OPERATOR(pg_catalog.~) and friends, as psql writes them.
        if let O::PGCustomBinaryOperator(parts) = op {
            let std_op = match parts.as_slice() {
                [ns, sym] if ns.eq_ignore_ascii_case("pg_catalog") => Some(sym.as_str()),
                [sym] => Some(sym.as_str()),
                _ => None,
            }
            .and_then(|sym| {
                Some(match sym {
                    "~" => O::PGRegexMatch,
                    "~*" => O::PGRegexIMatch,
                    "!~" => O::PGRegexNotMatch,
                    "!~*" => O::PGRegexNotIMatch,
                    "~~" => O::PGLikeMatch,
                    "!~~" => O::PGNotLikeMatch,
                    "~~*" => O::PGILikeMatch,
                    "!~~*" => O::PGNotILikeMatch,
                    "=" => O::Eq,
                    "<>" | "!=" => O::NotEq,
                    "<" => O::Lt,
                    "<=" => O::LtEq,
                    ">" => O::Gt,
                    ">=" => O::GtEq,
                    "+" => O::Plus,
                    "-" => O::Minus,
                    "*" => O::Multiply,
                    "/" => O::Divide,
                    "%" => O::Modulo,
                    "||" => O::StringConcat,
                    _ => return None,
                })
            });
            return match std_op {
                Some(o) => self.binary(l, &o, r, scope),
                None => not_supported(format!("operator OPERATOR({})", parts.join("."))),
            };
        }
        let cmp = |o: &O| -> Option<BinOp> {
            Some(match o {
                O::Eq => BinOp::Eq,
                O::NotEq => BinOp::NotEq,
                O::Lt => BinOp::Lt,
                O::LtEq => BinOp::LtEq,
                O::Gt => BinOp::Gt,
                O::GtEq => BinOp::GtEq,
                _ => return None,
            })
        };
        if let Some(b) = cmp(op) {
            let (x, y, _) = self.comparison_operands(l, r, scope, &op.to_string())?;
            return Ok((Expr::Binary(b, Box::new(x), Box::new(y)), DataType::Bool));
        }
        match op {
            O::And | O::Or => {
                let (x, xt) = self.expr(l, scope)?;
                let x = self.to_bool(x, xt, if *op == O::And { "AND" } else { "OR" })?;
                let (y, yt) = self.expr(r, scope)?;
                let y = self.to_bool(y, yt, if *op == O::And { "AND" } else { "OR" })?;
                let b = if *op == O::And { BinOp::And } else { BinOp::Or };
                Ok((Expr::Binary(b, Box::new(x), Box::new(y)), DataType::Bool))
            }
            O::StringConcat | O::AtArrow | O::ArrowAt | O::PGOverlap => {
                let (x, xt) = self.expr(l, scope)?;
                let (y, yt) = self.expr(r, scope)?;
                if let Some(r) = self.array_operator(op, (x.clone(), xt), (y.clone(), yt))? {
                    return Ok(r);
                }
                if let Some(r) = self.json_operator(op, (x.clone(), xt), (y.clone(), yt))? {
                    return Ok(r);
                }
                if *op != O::StringConcat {
                    return Err(no_operator(&xt, op, &yt));
                }
                Ok((
                    Expr::Binary(
                        BinOp::Concat,
                        Box::new(text_of(x, xt)),
                        Box::new(text_of(y, yt)),
                    ),
                    DataType::Text,
                ))
            }
            O::Arrow
            | O::LongArrow
            | O::HashArrow
            | O::HashLongArrow
            | O::Question
            | O::QuestionAnd
            | O::QuestionPipe
            | O::HashMinus => {
                let (x, xt) = self.expr(l, scope)?;
                let (y, yt) = self.expr(r, scope)?;
                match self.json_operator(op, (x, xt), (y, yt))? {
                    Some(r) => Ok(r),
                    None => Err(no_operator(&xt, op, &yt)),
                }
            }
            O::PGRegexMatch | O::PGRegexIMatch | O::PGRegexNotMatch | O::PGRegexNotIMatch => {
                let (x, _) = self.expr(l, scope)?;
                let (y, _) = self.expr(r, scope)?;
                let ci = matches!(op, O::PGRegexIMatch | O::PGRegexNotIMatch);
                let neg = matches!(op, O::PGRegexNotMatch | O::PGRegexNotIMatch);
                Ok((
                    Expr::Binary(BinOp::Regex(ci, neg), Box::new(x), Box::new(y)),
                    DataType::Bool,
                ))
            }
            O::PGLikeMatch | O::PGNotLikeMatch | O::PGILikeMatch | O::PGNotILikeMatch => {
                let (x, _) = self.expr(l, scope)?;
                let (y, _) = self.expr(r, scope)?;
                Ok((
                    Expr::Like {
                        expr: Box::new(x),
                        pattern: Box::new(y),
                        negated: matches!(op, O::PGNotLikeMatch | O::PGNotILikeMatch),
                        ci: matches!(op, O::PGILikeMatch | O::PGNotILikeMatch),
                    },
                    DataType::Bool,
                ))
            }
            O::BitwiseAnd
            | O::BitwiseOr
            | O::PGBitwiseXor
            | O::PGBitwiseShiftLeft
            | O::PGBitwiseShiftRight => {
                let (x, xt) = self.expr(l, scope)?;
                let (y, yt) = self.expr(r, scope)?;
                let int = |t: &DataType| t.is_integer() || *t == DataType::Unknown;
                if !int(&xt) || !int(&yt) {
                    return Err(no_operator(&xt, op, &yt));
                }
                let f = match op {
                    O::BitwiseAnd => "int_and",
                    O::BitwiseOr => "int_or",
                    O::PGBitwiseXor => "int_xor",
                    O::PGBitwiseShiftLeft => "int_shl",
                    _ => "int_shr",
                };
                let known = |t: DataType| {
                    if t == DataType::Unknown {
                        DataType::Int4
                    } else {
                        t
                    }
                };
                // Shifts keep the left operand's type; the others the wider.
                let rt = if matches!(op, O::PGBitwiseShiftLeft | O::PGBitwiseShiftRight) {
                    known(xt)
                } else {
                    arith_type(&known(xt), &known(yt)).unwrap_or(DataType::Int8)
                };
                let yt2 = if matches!(op, O::PGBitwiseShiftLeft | O::PGBitwiseShiftRight) {
                    DataType::Int4
                } else {
                    rt
                };
                Ok((
                    Expr::Func(
                        f.into(),
                        vec![Expr::Cast(Box::new(x), rt), Expr::Cast(Box::new(y), yt2)],
                    ),
                    rt,
                ))
            }
            O::PGExp => {
                // x ^ y is power(x, y).
                let (x, xt) = self.expr(l, scope)?;
                let (y, yt) = self.expr(r, scope)?;
                let rt = function_type("power", &[xt, yt])?;
                for t in [xt, yt] {
                    if !t.is_numeric() && t != DataType::Unknown {
                        return Err(no_operator(&xt, op, &yt));
                    }
                }
                Ok((
                    Expr::Func(
                        "power".into(),
                        vec![Expr::Cast(Box::new(x), rt), Expr::Cast(Box::new(y), rt)],
                    ),
                    rt,
                ))
            }
            O::Plus | O::Minus | O::Multiply | O::Divide | O::Modulo => {
                let (x, xt) = self.expr(l, scope)?;
                let (y, yt) = self.expr(r, scope)?;
                let b = match op {
                    O::Plus => BinOp::Add,
                    O::Minus => BinOp::Sub,
                    O::Multiply => BinOp::Mul,
                    O::Divide => BinOp::Div,
                    _ => BinOp::Mod,
                };
                // Unknown operands take the other side's type.
                let (xt2, yt2) = match (xt, yt) {
                    (DataType::Unknown, DataType::Unknown) => {
                        (DataType::Numeric(None), DataType::Numeric(None))
                    }
                    (DataType::Unknown, t) => (t, t),
                    (t, DataType::Unknown) => (t, t),
                    p => p,
                };
                let fix = |this: &mut Self, e: Expr, t: DataType, to: DataType| -> Result<Expr> {
                    Ok(match e {
                        Expr::Param(i) if t == DataType::Unknown => {
                            this.params[i] = to;
                            Expr::Param(i)
                        }
                        Expr::Literal(v) if t == DataType::Unknown => {
                            Expr::Literal(cast::cast(v, &to)?)
                        }
                        e => e,
                    })
                };
                if b == BinOp::Sub && xt == DataType::Jsonb {
                    if let Some(r) = self.json_operator(op, (x.clone(), xt), (y.clone(), yt))? {
                        return Ok(r);
                    }
                }
                let x = fix(self, x, xt, xt2)?;
                let y = fix(self, y, yt, yt2)?;
                // Mixed date/timestamp subtraction: the date side widens.
                let (x, y, xt2, yt2) = {
                    use DataType::{Date, Timestamp, TimestampTz};
                    let up = |e: Expr, t: DataType| Expr::Cast(Box::new(e), t);
                    match (xt2, yt2) {
                        (Timestamp, Date) if b == BinOp::Sub => {
                            (x, up(y, Timestamp), Timestamp, Timestamp)
                        }
                        (Date, Timestamp) if b == BinOp::Sub => {
                            (up(x, Timestamp), y, Timestamp, Timestamp)
                        }
                        (TimestampTz, Date | Timestamp) if b == BinOp::Sub => {
                            (x, up(y, TimestampTz), TimestampTz, TimestampTz)
                        }
                        (Date | Timestamp, TimestampTz) if b == BinOp::Sub => {
                            (up(x, TimestampTz), y, TimestampTz, TimestampTz)
                        }
                        p => (x, y, p.0, p.1),
                    }
                };
                if let Some(rt) = datetime_arith(b, &xt2, &yt2) {
                    return Ok((Expr::Binary(b, Box::new(x), Box::new(y)), rt));
                }
                // date ± integer, timestamp arithmetic
                if matches!(xt2, DataType::Date)
                    && yt2.is_integer()
                    && matches!(b, BinOp::Add | BinOp::Sub)
                {
                    return Ok((Expr::Binary(b, Box::new(x), Box::new(y)), DataType::Date));
                }
                if matches!(xt2, DataType::Date) && matches!(yt2, DataType::Date) && b == BinOp::Sub
                {
                    return Ok((Expr::Binary(b, Box::new(x), Box::new(y)), DataType::Int4));
                }
                let rt = arith_type(&xt2, &yt2).ok_or_else(|| no_operator(&xt, op, &yt))?;
                Ok((
                    Expr::Binary(
                        b,
                        Box::new(Expr::Cast(Box::new(x), rt)),
                        Box::new(Expr::Cast(Box::new(y), rt)),
                    ),
                    rt,
                ))
            }
            other => not_supported(format!("operator {other}")),
        }
    }

    fn function(&mut self, f: &ast::Function, scope: &Scope) -> Result<(Expr, DataType)> {
        let parts = object_parts(&f.name);
        let mut name = parts.last().cloned().unwrap_or_default();
        // A whole row as json: row_to_json(t), to_json[b](t), json[b]_agg(t)
        // name a table of the FROM list, not a column.
        if let Some(rewritten) = self.whole_row_json(&name, f, scope) {
            return self.expr(&rewritten, scope);
        }
        match name.as_str() {
            "current_timestamp" | "localtimestamp" => name = "now".into(),
            "current_user" | "user" | "current_role" => {
                return Ok((Expr::Func("current_user".into(), vec![]), DataType::Name))
            }
            "session_user" => {
                return Ok((Expr::Func("session_user".into(), vec![]), DataType::Name))
            }
            "enum_first" | "enum_last" | "enum_range" => {
                // By the argument's enum type (its value is not used).
                if let ast::FunctionArguments::List(l) = &f.args {
                    if let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a))] =
                        l.args.as_slice()
                    {
                        let (_, t) = self.expr(a, scope)?;
                        let DataType::Enum(oid) = t else {
                            return Err(PlanError::UndefinedFunction(format!(
                                "function {name}({}) does not exist",
                                t.display_name()
                            )));
                        };
                        let Some(def) = self.schema.enums.iter().find(|e| e.oid == oid) else {
                            return Err(PlanError::UndefinedObject(format!(
                                "type with OID {oid} does not exist"
                            )));
                        };
                        let labels: Vec<Value> =
                            def.labels.iter().map(|l| Value::Enum(l.oid)).collect();
                        return Ok(match name.as_str() {
                            "enum_range" => (
                                Expr::Literal(Value::Array(Box::new(
                                    basalt_catalog::types::Array::from_items(t, labels),
                                ))),
                                t.array_of(),
                            ),
                            "enum_first" => (
                                Expr::Literal(labels.first().cloned().unwrap_or(Value::Null)),
                                t,
                            ),
                            _ => (
                                Expr::Literal(labels.last().cloned().unwrap_or(Value::Null)),
                                t,
                            ),
                        });
                    }
                }
            }
            "pg_typeof" => {
                // The argument's type, known here (shown by name, without
                // its modifier).
                if let ast::FunctionArguments::List(l) = &f.args {
                    if let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a))] =
                        l.args.as_slice()
                    {
                        let (_, t) = self.expr(a, scope)?;
                        let t = DataType::from_oid(t.oid()).unwrap_or(t);
                        return Ok((Expr::Literal(Value::Text(t.display_name())), DataType::Text));
                    }
                }
            }
            _ => {}
        }
        let mut agg_order: &[ast::OrderByExpr] = &[];
        if name == "current_schema" && parts.len() <= 2 {
            return Ok(self.current_schema());
        }
        if name == "current_schemas" {
            // current_schemas(include_implicit): the search path's schemas.
            let implicit = matches!(&f.args, ast::FunctionArguments::List(l)
                if l.args.first().is_some_and(|a| a.to_string().eq_ignore_ascii_case("true")));
            let mut names: Vec<Value> = Vec::new();
            if implicit {
                names.push(Value::Text("pg_catalog".into()));
            }
            names.extend(
                self.search_path
                    .iter()
                    .map(|o| Value::Text(self.schema.namespace_name(*o))),
            );
            let ty = DataType::Name.array_of();
            return Ok((
                Expr::Literal(Value::Array(Box::new(
                    basalt_catalog::types::Array::from_items(DataType::Name, names),
                ))),
                ty,
            ));
        }
        let (args, distinct, star) = match &f.args {
            ast::FunctionArguments::None => (vec![], false, false),
            ast::FunctionArguments::List(l) => {
                for c in &l.clauses {
                    match c {
                        ast::FunctionArgumentClause::OrderBy(o) => agg_order = o,
                        other => return not_supported(format!("function argument clause {other}")),
                    }
                }
                let mut v = Vec::new();
                let mut star = false;
                // make_interval's arguments by name (years => 1, ...).
                const INTERVAL_ARGS: [&str; 7] =
                    ["years", "months", "weeks", "days", "hours", "mins", "secs"];
                for a in &l.args {
                    match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                            v.push(e.clone())
                        }
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => star = true,
                        ast::FunctionArg::Named {
                            name: n,
                            arg: ast::FunctionArgExpr::Expr(e),
                            ..
                        }
                        | ast::FunctionArg::ExprNamed {
                            name: ast::Expr::Identifier(n),
                            arg: ast::FunctionArgExpr::Expr(e),
                            ..
                        } if name == "make_interval" => {
                            let Some(pos) = INTERVAL_ARGS.iter().position(|x| *x == ident(n))
                            else {
                                return Err(PlanError::UndefinedFunction(format!(
                                    "function make_interval({} => ...) does not exist",
                                    ident(n)
                                )));
                            };
                            while v.len() <= pos {
                                v.push(ast::Expr::value(ast::Value::Number("0".into(), false)));
                            }
                            v[pos] = e.clone();
                        }
                        other => return not_supported(format!("function argument {other}")),
                    }
                }
                (
                    v,
                    matches!(
                        l.duplicate_treatment,
                        Some(ast::DuplicateTreatment::Distinct)
                    ),
                    star,
                )
            }
            ast::FunctionArguments::Subquery(q) if name == "array" => {
                let q = self.subquery(q, scope)?;
                if q.fields.len() != 1 {
                    return Err(PlanError::Syntax(
                        "subquery must return only one column".into(),
                    ));
                }
                let ty = output_type(q.fields[0].ty).array_of();
                return Ok((
                    Expr::Cast(Box::new(Expr::ArraySubquery(Box::new(q.plan))), ty),
                    ty,
                ));
            }
            ast::FunctionArguments::Subquery(_) => {
                return not_supported("subquery as function argument")
            }
        };
        if matches!(name.as_str(), "nextval" | "currval" | "setval") && !args.is_empty() {
            return self.sequence_call(&name, &args, scope);
        }
        if name == "lastval" && args.is_empty() {
            return Ok((Expr::Func("lastval".into(), vec![]), DataType::Int8));
        }
        if let Some(over) = &f.over {
            if f.filter.is_some() && is_agg_name(&name).is_none() {
                return Err(PlanError::Coded(
                    "0A000",
                    "FILTER is not implemented for non-aggregate window functions".into(),
                ));
            }
            let r = self.window_call(&name, &args, distinct, star, over, scope)?;
            if let Some(c) = &f.filter {
                let (x, t) = self.expr(c, scope)?;
                let pred = self.to_bool(x, t, "FILTER")?;
                if let Some(call) = self
                    .windows
                    .as_mut()
                    .and_then(|w| w.last_mut())
                    .and_then(|c| c.agg.as_mut())
                {
                    call.filter = Some(pred);
                }
            }
            return Ok(r);
        }
        if f.filter.is_some() && is_agg_name(&name).is_none() {
            return Err(PlanError::Syntax(format!(
                "FILTER specified, but {name} is not an aggregate function"
            )));
        }
        if (matches!(
            name.as_str(),
            "generate_series"
                | "unnest"
                | "regexp_matches"
                | "generate_subscripts"
                | "_pg_expandarray"
                | "pg_listening_channels"
        ) || bind_json::json_srf_type(&name).is_some())
            && self.srfs.is_some()
        {
            return self.srf_call(&name, &args, scope);
        }
        if let Some(func) = is_agg_name(&name) {
            let Some(ctx) = self.agg.take() else {
                return Err(PlanError::Grouping(
                    "aggregate functions are not allowed here".into(),
                ));
            };
            let input = ctx.input.clone();
            let mut bound = Vec::new();
            let mut types = Vec::new();
            // Ordered-set aggregates: the WITHIN GROUP value is the last argument.
            let mut args = args.clone();
            if matches!(
                func,
                AggFunc::PercentileCont | AggFunc::PercentileDisc | AggFunc::Mode
            ) {
                match f.within_group.as_slice() {
                    [o] if o.options.asc != Some(false) => args.push(o.expr.clone()),
                    [_] => return not_supported("WITHIN GROUP (ORDER BY ... DESC)"),
                    _ => {
                        return Err(PlanError::UndefinedFunction(format!(
                            "function {name} must have a WITHIN GROUP clause with one ORDER BY expression"
                        )))
                    }
                }
            }
            let mut order = Vec::new();
            let mut filter = None;
            let res = (|| {
                for a in &args {
                    let (x, t) = self.expr(a, &input)?;
                    bound.push(x);
                    types.push(t);
                }
                if let Some(c) = &f.filter {
                    let (x, t) = self.expr(c, &input)?;
                    filter = Some(self.to_bool(x, t, "FILTER")?);
                }
                for o in agg_order {
                    let desc = o.options.asc == Some(false);
                    order.push(SortKey {
                        expr: self.expr(&o.expr, &input)?.0,
                        desc,
                        nulls_first: o.options.nulls_first.unwrap_or(desc),
                    });
                }
                Ok::<(), PlanError>(())
            })();
            self.agg = Some(ctx);
            res?;
            if func == AggFunc::Grouping {
                // grouping(a, b): each argument by its GROUP BY position.
                let group = &self.agg.as_ref().expect("restored above").group;
                bound = bound
                    .iter()
                    .map(|x| {
                        group
                            .iter()
                            .position(|g| g == x)
                            .map(|p| Expr::Literal(Value::Int4(p as i32)))
                            .ok_or_else(|| {
                                PlanError::Grouping(
                                    "arguments to GROUPING must be grouping expressions of the associated query level".into(),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if bound.is_empty() || bound.len() > 31 {
                    return Err(PlanError::Syntax(
                        "GROUPING must have between 1 and 31 arguments".into(),
                    ));
                }
            }
            let (func, ty) = agg_type(func, star || args.is_empty(), &types)?;
            let ctx = self.agg.as_mut().expect("restored above");
            if distinct && !order.is_empty() {
                // PostgreSQL: with DISTINCT, ORDER BY must use the arguments.
                let ok = order.iter().all(|k| bound.contains(&k.expr));
                if !ok {
                    return Err(PlanError::InvalidColumnReference(
                        "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list".into(),
                    ));
                }
            }
            let call = AggCall {
                func,
                args: bound,
                distinct,
                ty,
                order,
                filter,
            };
            let idx = match ctx.aggs.iter().position(|c| *c == call) {
                Some(i) => i,
                None => {
                    ctx.aggs.push(call);
                    ctx.aggs.len() - 1
                }
            };
            return Ok((Expr::Column(ctx.groups.len() + idx), ty));
        }
        let mut bound = Vec::new();
        let mut types = Vec::new();
        for a in &args {
            let (x, t) = self.expr(a, scope)?;
            // Array functions read int2vector/oidvector as arrays.
            let (x, t) = if name.starts_with("array_") || name == "cardinality" {
                bind_arrays::devector(x, t)
            } else {
                (x, t)
            };
            bound.push(x);
            types.push(t);
        }
        if let Some(r) = self.array_function(
            &name,
            bound.iter().cloned().zip(types.iter().copied()).collect(),
        )? {
            return Ok(r);
        }
        if let Some(r) = self.json_function(
            &name,
            bound.iter().cloned().zip(types.iter().copied()).collect(),
        )? {
            return Ok(r);
        }
        let ret = function_type(&name, &types)?;
        // char(n)'s padding does not count in its length (bpchar's length).
        let strip = matches!(name.as_str(), "length" | "char_length" | "character_length");
        // Untyped parameters of functions that take numbers get their
        // argument types (as PostgreSQL infers them from the signature).
        let numeric_arg = match name.as_str() {
            "pg_cancel_backend" | "pg_terminate_backend" => Some(DataType::Int4),
            "pg_sleep" => Some(DataType::Float8),
            n if n.starts_with("pg_advisory") || n.starts_with("pg_try_advisory") => {
                Some(DataType::Int8)
            }
            _ => None,
        };
        // Text-typed arguments: unknown literals become text.
        let bound = bound
            .into_iter()
            .zip(&types)
            .map(|(x, t)| match (t, numeric_arg) {
                (DataType::Unknown, Some(want)) => {
                    if let Expr::Param(i) = x {
                        self.params[i] = want;
                    }
                    Expr::Cast(Box::new(x), want)
                }
                (t, _) => match t {
                    DataType::Unknown => Expr::Cast(Box::new(x), DataType::Text),
                    DataType::Char(_) if strip => text_of(x, *t),
                    _ => x,
                },
            })
            .collect();
        Ok((Expr::Func(name, bound), ret))
    }
}

fn common_type(a: DataType, b: DataType) -> Result<DataType> {
    Ok(match (a, b) {
        (DataType::Unknown, t) | (t, DataType::Unknown) => t,
        (x, y) if x == y => x,
        (x, y) if x.is_numeric() && y.is_numeric() => {
            arith_type(&x, &y).unwrap_or(DataType::Numeric(None))
        }
        (x, y) if x.is_string() && y.is_string() => DataType::Text,
        (x, y) if comparable(&x, &y) => y,
        (x, y) => {
            return Err(PlanError::DatatypeMismatch(format!(
                "CASE types {} and {} cannot be matched",
                x.display_name(),
                y.display_name()
            )))
        }
    })
}

fn cast_allowed(from: &DataType, to: &DataType) -> bool {
    if from == &DataType::Unknown || to.is_string() || from.is_string() {
        return true;
    }
    if from.is_numeric() && to.is_numeric() {
        return true;
    }
    if let (Some(a), Some(b)) = (from.element(), to.element()) {
        return a == b || cast_allowed(&a, &b);
    }
    if *from == DataType::Jsonb && (to.is_numeric() || *to == DataType::Bool) {
        return true;
    }
    matches!(
        (from, to),
        (DataType::Bool, DataType::Int4)
            | (DataType::Int4, DataType::Bool)
            | (
                DataType::Date | DataType::Timestamp | DataType::TimestampTz,
                DataType::Date | DataType::Timestamp | DataType::TimestampTz
            )
            | (DataType::Bytea, DataType::Bytea)
            | (DataType::Bool, DataType::Bool)
            | (
                DataType::Json | DataType::Jsonb,
                DataType::Json | DataType::Jsonb
            )
    )
}

/// Return types of the built-in scalar functions.
fn function_type(name: &str, args: &[DataType]) -> Result<DataType> {
    let first = args.first().copied().unwrap_or(DataType::Unknown);
    Ok(match name {
        "pg_get_statisticsobjdef_columns" => DataType::Text,
        "pg_relation_is_publishable" | "pg_function_is_visible" => DataType::Bool,
        "__regclass_name" | "__regtype_name" | "acldefault" | "quote_literal"
        | "quote_nullable" => DataType::Text,
        // No table is partitioned: a relation's only ancestor is itself.
        "pg_partition_ancestors" | "pg_partition_root" => DataType::Oid,
        "__listening_channels" => DataType::Text.array_of(),
        // The object's OID, or NULL when there is none.
        "to_regclass" | "to_regtype" | "to_regnamespace" | "to_regrole" | "to_regproc"
        | "to_regprocedure" | "to_regoper" | "to_regoperator" | "to_regcollation" => DataType::Oid,
        // Of functions, rules and triggers Basalt has none to describe.
        "pg_tablespace_location"
        | "pg_get_ruledef"
        | "pg_get_triggerdef"
        | "pg_get_function_result"
        | "pg_get_function_arguments"
        | "pg_get_function_identity_arguments" => DataType::Text,
        "current_user" | "session_user" => DataType::Name,
        "version"
        | "current_database"
        | "current_setting"
        | "pg_get_userbyid"
        | "format_type"
        | "pg_encoding_to_char"
        | "lower"
        | "upper"
        | "btrim"
        | "ltrim"
        | "rtrim"
        | "substr"
        | "replace"
        | "repeat"
        | "concat"
        | "concat_ws"
        | "left"
        | "right"
        | "md5"
        | "to_char"
        | "obj_description"
        | "col_description"
        | "shobj_description"
        | "pg_get_expr"
        | "quote_ident"
        | "initcap"
        | "reverse"
        | "lpad"
        | "rpad"
        | "pg_size_pretty"
        | "current_schema"
        | "pg_get_indexdef"
        | "pg_get_viewdef"
        | "pg_get_constraintdef"
        | "translate"
        | "regexp_replace"
        | "to_hex"
        | "split_part"
        | "chr"
        | "inet_server_addr" => {
            if name == "current_database" || name == "current_schema" {
                DataType::Name
            } else {
                DataType::Text
            }
        }
        "length" | "char_length" | "character_length" | "octet_length" | "strpos" | "ascii"
        | "pg_backend_pid" | "sign_int" => DataType::Int4,
        "pg_table_is_visible"
        | "pg_type_is_visible"
        | "has_table_privilege"
        | "has_schema_privilege"
        | "has_database_privilege"
        | "pg_is_in_recovery"
        | "pg_cancel_backend"
        | "pg_terminate_backend"
        | "pg_try_advisory_lock"
        | "pg_try_advisory_lock_shared"
        | "pg_try_advisory_xact_lock"
        | "pg_try_advisory_xact_lock_shared"
        | "pg_advisory_unlock"
        | "pg_advisory_unlock_shared"
        | "starts_with" => DataType::Bool,
        "pg_sleep"
        | "pg_notify"
        | "pg_advisory_lock"
        | "pg_advisory_lock_shared"
        | "pg_advisory_xact_lock"
        | "pg_advisory_xact_lock_shared"
        | "pg_advisory_unlock_all" => DataType::Text,
        "now"
        | "statement_timestamp"
        | "transaction_timestamp"
        | "clock_timestamp"
        | "pg_postmaster_start_time" => DataType::TimestampTz,
        "current_date" | "make_date" | "to_date" => DataType::Date,
        "make_time" | "current_time" | "localtime" => DataType::Time,
        "make_timestamp" => DataType::Timestamp,
        "make_timestamptz" | "to_timestamp" => DataType::TimestampTz,
        "make_interval" => DataType::Interval,
        "to_number" => DataType::Numeric(None),
        "substring_regex" | "encode" | "pg_get_serial_sequence" => DataType::Text,
        "__json_row" | "__json_agg_row" => DataType::Json,
        "__jsonb_row" => DataType::Jsonb,
        "regexp_match" => DataType::Text.array_of(),
        "decode" | "sha256" | "sha384" | "sha512" => DataType::Bytea,
        "overlay" => DataType::Text,
        // numeric in, numeric out (integers and unknowns go to float8,
        // PostgreSQL's preferred numeric type).
        "sqrt" | "exp" | "ln" | "log10" | "log" | "power" | "pow"
            if args.iter().any(|t| matches!(t, DataType::Numeric(_)))
                && !args
                    .iter()
                    .any(|t| matches!(t, DataType::Float4 | DataType::Float8)) =>
        {
            DataType::Numeric(None)
        }
        "random" | "pi" | "sqrt" | "exp" | "ln" | "log10" | "log" | "power" | "pow" | "cbrt"
        | "degrees" | "radians" | "sin" | "cos" | "tan" => DataType::Float8,
        "abs" | "ceil" | "ceiling" | "floor" | "round" | "trunc" | "sign" => {
            if first == DataType::Unknown {
                DataType::Numeric(None)
            } else if first.is_numeric() {
                if matches!(
                    name,
                    "ceil" | "ceiling" | "floor" | "round" | "trunc" | "sign"
                ) && first.is_integer()
                {
                    DataType::Numeric(None)
                } else {
                    first
                }
            } else {
                return Err(PlanError::UndefinedFunction(format!(
                    "function {name}({}) does not exist",
                    first.display_name()
                )));
            }
        }
        "mod" | "div" => {
            arith_type(&first, args.get(1).unwrap_or(&first)).unwrap_or(DataType::Numeric(None))
        }
        "coalesce" | "nullif" | "greatest" | "least" => {
            let mut t = DataType::Unknown;
            for a in args {
                t = common_type(t, *a)?;
            }
            if t == DataType::Unknown {
                DataType::Text
            } else {
                t
            }
        }
        "pg_relation_size"
        | "pg_total_relation_size"
        | "pg_table_size"
        | "pg_indexes_size"
        | "pg_database_size"
        | "txid_current"
        | "txid_current_if_assigned"
        | "pg_current_xact_id"
        | "pg_current_xact_id_if_assigned" => DataType::Int8,
        "txid_status"
        | "pg_xact_status"
        | "pg_switch_wal"
        | "pg_current_wal_lsn"
        | "pg_current_wal_insert_lsn"
        | "pg_current_wal_flush_lsn" => DataType::Text,
        // A date is truncated as a timestamptz, PostgreSQL's choice.
        "date_trunc" => match args.get(1).copied() {
            Some(DataType::Date) | Some(DataType::Unknown) => DataType::TimestampTz,
            Some(t) => t,
            None => DataType::Timestamp,
        },
        "timezone" => match args.get(1) {
            Some(DataType::TimestampTz) => DataType::Timestamp,
            _ => DataType::TimestampTz,
        },
        "extract" | "date_part" => DataType::Numeric(None),
        "age" | "justify_hours" | "justify_days" | "justify_interval" => DataType::Interval,
        "similar_to_escape" | "set_config" => DataType::Text,
        "gen_random_uuid" => DataType::Uuid,
        _ => {
            let sig: Vec<String> = args.iter().map(|a| a.display_name()).collect();
            return Err(PlanError::UndefinedFunction(format!(
                "function {name}({}) does not exist",
                sig.join(", ")
            )));
        }
    })
}

fn output_type(t: DataType) -> DataType {
    if t == DataType::Unknown {
        DataType::Text
    } else {
        t
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn txn_modes(modes: &[ast::TransactionMode]) -> Vec<TxnMode> {
    modes
        .iter()
        .map(|m| match m {
            ast::TransactionMode::IsolationLevel(l) => {
                TxnMode::Isolation(l.to_string().to_lowercase())
            }
            ast::TransactionMode::AccessMode(a) => {
                TxnMode::ReadOnly(matches!(a, ast::TransactionAccessMode::ReadOnly))
            }
        })
        .collect()
}

/// A sequence's definition from CREATE SEQUENCE options (or a serial or
/// identity column's), with PostgreSQL's defaults for the type.
fn sequence_def(
    name: &str,
    ty: DataType,
    opts: &[ast::SequenceOptions],
) -> Result<basalt_catalog::store::SequenceDef> {
    let type_max = match ty {
        DataType::Int2 => i16::MAX as i64,
        DataType::Int4 => i32::MAX as i64,
        DataType::Int8 => i64::MAX,
        _ => {
            return Err(PlanError::DatatypeMismatch(
                "sequence type must be smallint, integer, or bigint".into(),
            ))
        }
    };
    let num = |e: &ast::Expr| -> Result<i64> {
        let text = e.to_string().replace(' ', "");
        text.parse::<i64>()
            .map_err(|_| PlanError::Syntax(format!("invalid sequence option value {text}")))
    };
    let (mut inc, mut min, mut max, mut start, mut cache, mut cycle) =
        (1i64, None, None, None, 1i64, false);
    for o in opts {
        match o {
            ast::SequenceOptions::IncrementBy(e, _) => inc = num(e)?,
            ast::SequenceOptions::MinValue(e) => min = e.as_ref().map(num).transpose()?,
            ast::SequenceOptions::MaxValue(e) => max = e.as_ref().map(num).transpose()?,
            ast::SequenceOptions::StartWith(e, _) => start = Some(num(e)?),
            ast::SequenceOptions::Cache(e) => cache = num(e)?,
            // sqlparser's flag is NO CYCLE.
            ast::SequenceOptions::Cycle(no) => cycle = !*no,
        }
    }
    if inc == 0 {
        return Err(PlanError::Syntax("INCREMENT must not be zero".into()));
    }
    let min = min.unwrap_or(if inc > 0 { 1 } else { -type_max - 1 });
    let max = max.unwrap_or(if inc > 0 { type_max } else { -1 });
    let start = start.unwrap_or(if inc > 0 { min } else { max });
    if start < min || start > max {
        return Err(PlanError::Syntax(format!(
            "START value ({start}) cannot be {} than {} ({})",
            if start < min { "less" } else { "greater" },
            if start < min { "MINVALUE" } else { "MAXVALUE" },
            if start < min { min } else { max }
        )));
    }
    Ok(basalt_catalog::store::SequenceDef {
        oid: 0,
        name: name.to_string(),
        namespace: NS_PUBLIC,
        owner: 0,
        ty,
        start,
        increment: inc,
        min,
        max,
        cache,
        cycle,
        owned_by: None,
    })
}

/// An aggregate's resolved form and result type for its argument types
/// (`star`: count(*) or no arguments).
fn agg_type(func: AggFunc, star: bool, types: &[DataType]) -> Result<(AggFunc, DataType)> {
    Ok(match (func, types.first()) {
        (AggFunc::Count, _) if star => (AggFunc::CountStar, DataType::Int8),
        (AggFunc::Count | AggFunc::CountStar, _) => (AggFunc::Count, DataType::Int8),
        (AggFunc::Sum, Some(t)) => (
            AggFunc::Sum,
            match t {
                DataType::Int2 | DataType::Int4 => DataType::Int8,
                DataType::Float4 => DataType::Float4,
                DataType::Float8 => DataType::Float8,
                t if t.is_numeric() => DataType::Numeric(None),
                DataType::Unknown => DataType::Numeric(None),
                t => {
                    return Err(PlanError::UndefinedFunction(format!(
                        "function sum({}) does not exist",
                        t.display_name()
                    )))
                }
            },
        ),
        (AggFunc::Avg, Some(t)) => (
            AggFunc::Avg,
            match t {
                DataType::Float4 | DataType::Float8 => DataType::Float8,
                t if t.is_numeric() => DataType::Numeric(None),
                t => {
                    return Err(PlanError::UndefinedFunction(format!(
                        "function avg({}) does not exist",
                        t.display_name()
                    )))
                }
            },
        ),
        (AggFunc::Min | AggFunc::Max, Some(t)) => (
            func,
            if *t == DataType::Unknown {
                DataType::Text
            } else {
                *t
            },
        ),
        (AggFunc::BoolAnd | AggFunc::BoolOr, _) => (func, DataType::Bool),
        (AggFunc::StringAgg, _) => (func, DataType::Text),
        (AggFunc::ArrayAgg, Some(t)) => (func, output_type(*t).array_of()),
        (AggFunc::JsonAgg | AggFunc::JsonObjectAgg, _) => (func, DataType::Json),
        (AggFunc::JsonbAgg | AggFunc::JsonbObjectAgg, _) => (func, DataType::Jsonb),
        (AggFunc::PercentileCont, _) => match types.get(1) {
            Some(t) if t.is_numeric() || *t == DataType::Unknown => (func, DataType::Float8),
            Some(DataType::Interval) => (func, DataType::Interval),
            _ => {
                return Err(PlanError::UndefinedFunction(
                    "function percentile_cont does not exist for this type".into(),
                ))
            }
        },
        (AggFunc::PercentileDisc, _) => (func, types.get(1).copied().unwrap_or(DataType::Text)),
        (AggFunc::Grouping, _) => (func, DataType::Int4),
        (AggFunc::Variance { .. }, Some(t)) => (
            func,
            match t {
                DataType::Float4 | DataType::Float8 | DataType::Unknown => DataType::Float8,
                t if t.is_numeric() => DataType::Numeric(None),
                t => {
                    return Err(PlanError::UndefinedFunction(format!(
                        "function variance({}) does not exist",
                        t.display_name()
                    )))
                }
            },
        ),
        (AggFunc::Regr(k), _) => {
            if types.len() != 2
                || !types
                    .iter()
                    .all(|t| t.is_numeric() || *t == DataType::Unknown)
            {
                return Err(PlanError::UndefinedFunction(
                    "statistical aggregates take two numeric arguments".into(),
                ));
            }
            (
                func,
                if k == crate::plan::RegrKind::Count {
                    DataType::Int8
                } else {
                    DataType::Float8
                },
            )
        }
        (AggFunc::BitAnd | AggFunc::BitOr, Some(t)) if t.is_integer() => (func, *t),
        (AggFunc::BitAnd | AggFunc::BitOr, Some(t)) => {
            return Err(PlanError::UndefinedFunction(format!(
                "function bit_and({}) does not exist",
                t.display_name()
            )))
        }
        (AggFunc::Mode, Some(t)) => (
            func,
            if *t == DataType::Unknown {
                DataType::Text
            } else {
                *t
            },
        ),
        (f, None) => {
            return Err(PlanError::UndefinedFunction(
                format!("function {f:?}() does not exist").to_lowercase(),
            ))
        }
    })
}

/// GROUP BY items with ROLLUP, CUBE and GROUPING SETS: the distinct
/// grouping expressions, and the sets of their positions to group by (the
/// cross product of the items' sets, as PostgreSQL expands them; empty when
/// there are only plain expressions).
fn grouping_sets(items: &[ast::Expr]) -> (Vec<ast::Expr>, Vec<Vec<usize>>) {
    let mut exprs: Vec<ast::Expr> = Vec::new();
    let mut pos = |e: &ast::Expr| -> usize {
        match exprs.iter().position(|x| x == e) {
            Some(i) => i,
            None => {
                exprs.push(e.clone());
                exprs.len() - 1
            }
        }
    };
    let mut special = false;
    // Each item's list of sets.
    let mut factors: Vec<Vec<Vec<usize>>> = Vec::new();
    for it in items {
        let lists = |v: &Vec<Vec<ast::Expr>>, pos: &mut dyn FnMut(&ast::Expr) -> usize| {
            v.iter()
                .map(|l| l.iter().map(&mut *pos).collect::<Vec<usize>>())
                .collect::<Vec<_>>()
        };
        match it {
            ast::Expr::Rollup(v) => {
                special = true;
                let parts = lists(v, &mut pos);
                let mut sets = Vec::new();
                for n in (0..=parts.len()).rev() {
                    sets.push(parts[..n].concat());
                }
                factors.push(sets);
            }
            ast::Expr::Cube(v) => {
                special = true;
                let parts = lists(v, &mut pos);
                let n = parts.len();
                // PostgreSQL's order: larger sets first, then by position.
                let mut masks: Vec<u32> = (0..(1u32 << n)).collect();
                masks.sort_by_key(|m| (std::cmp::Reverse(m.count_ones()), m.reverse_bits()));
                factors.push(
                    masks
                        .into_iter()
                        .map(|m| {
                            (0..n)
                                .filter(|i| m & (1 << i) != 0)
                                .flat_map(|i| parts[i].clone())
                                .collect()
                        })
                        .collect(),
                );
            }
            ast::Expr::GroupingSets(v) => {
                special = true;
                factors.push(lists(v, &mut pos));
            }
            e => factors.push(vec![vec![pos(e)]]),
        }
    }
    if !special {
        return (exprs, vec![]);
    }
    let mut sets: Vec<Vec<usize>> = vec![vec![]];
    for f in factors {
        let mut next = Vec::new();
        for s in &sets {
            for x in &f {
                let mut c = s.clone();
                for i in x {
                    if !c.contains(i) {
                        c.push(*i);
                    }
                }
                next.push(c);
            }
        }
        sets = next;
    }
    (exprs, sets)
}

/// A CHECK constraint's default name: after its column when it mentions
/// just one, as PostgreSQL does, else after the table.
fn check_name(t: &TableDef, e: &ast::Expr) -> String {
    let text = e.to_string();
    let mentioned: Vec<&str> = t
        .columns
        .iter()
        .filter(|c| {
            text.split(|x: char| !x.is_alphanumeric() && x != '_')
                .any(|w| w == c.name)
        })
        .map(|c| c.name.as_str())
        .collect();
    match mentioned.as_slice() {
        [c] => format!("{}_{c}_check", t.name),
        _ => format!("{}_check", t.name),
    }
}

/// The kind of a join as written.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Inner,
    Left,
    Right,
    Full,
}

/// The column a JOIN ... USING (or NATURAL JOIN) names on one side.
fn using_column(s: &Scope, name: &str, side: &str) -> Result<usize> {
    let found: Vec<usize> = (0..s.cols.len())
        .filter(|&i| !s.cols[i].hidden && s.cols[i].name == name)
        .collect();
    match found.len() {
        1 => Ok(found[0]),
        0 => Err(PlanError::UndefinedColumnMsg(format!(
            "column \"{name}\" specified in USING clause does not exist in {side} table"
        ))),
        _ => Err(PlanError::AmbiguousColumnMsg(format!(
            "common column name \"{name}\" appears more than once in {side} table"
        ))),
    }
}

/// LATERAL items, and functions in FROM whose arguments name columns
/// (PostgreSQL makes those lateral implicitly).
fn is_lateral(f: &ast::TableFactor) -> bool {
    fn names_columns(e: &impl ast::Visit) -> bool {
        struct V;
        impl ast::Visitor for V {
            type Break = ();
            fn pre_visit_expr(&mut self, x: &ast::Expr) -> std::ops::ControlFlow<()> {
                match x {
                    ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) => {
                        std::ops::ControlFlow::Break(())
                    }
                    _ => std::ops::ControlFlow::Continue(()),
                }
            }
        }
        e.visit(&mut V).is_break()
    }
    match f {
        ast::TableFactor::Derived { lateral, .. } => *lateral,
        ast::TableFactor::UNNEST { array_exprs, .. } => names_columns(array_exprs),
        ast::TableFactor::Table { args: Some(a), .. } => names_columns(&a.args),
        _ => false,
    }
}

/// The scope of a query's output as a FROM item: named `table`, its
/// columns named by `names` where given, else by the query.
fn derived_scope(fields: &[Field], table: Option<String>, names: &[String]) -> Scope {
    Scope {
        star: None,
        cols: fields
            .iter()
            .enumerate()
            .map(|(i, f)| ScopeCol {
                table: table.clone(),
                name: names.get(i).cloned().unwrap_or_else(|| f.name.clone()),
                ty: f.ty,
                source: None,
                hidden: false,
            })
            .collect(),
    }
}

/// `derived_scope` named by a FROM item's alias `t (a, b, ...)`.
fn alias_scope(fields: &[Field], alias: Option<&ast::TableAlias>) -> Scope {
    let names: Vec<String> = alias
        .map(|a| a.columns.iter().map(|c| ident(&c.name)).collect())
        .unwrap_or_default();
    derived_scope(fields, alias.map(|a| ident(&a.name)), &names)
}

/// The table column behind each column of a scope, where there is one.
fn sources(s: &Scope) -> Vec<Option<(u32, i16)>> {
    s.cols.iter().map(|c| c.source).collect()
}

fn table_scope(t: &TableDef, alias: &str) -> Scope {
    Scope {
        star: None,
        cols: t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ScopeCol {
                table: Some(alias.to_string()),
                name: c.name.clone(),
                ty: c.ty,
                source: Some((t.oid, i as i16 + 1)),
                hidden: false,
            })
            .collect(),
    }
}

fn resolve(scope: &Scope, tbl: Option<&str>, name: &str) -> Result<usize> {
    let mut found = None;
    for (i, c) in scope.cols.iter().enumerate() {
        let visible = match tbl {
            None => !c.hidden,
            Some(t) => c.table.as_deref() == Some(t),
        };
        if c.name == name && visible {
            if found.is_some() {
                return Err(PlanError::AmbiguousColumn(name.to_string()));
            }
            found = Some(i);
        }
    }
    match found {
        Some(i) => Ok(i),
        None => {
            if let Some(t) = tbl {
                if !scope.cols.iter().any(|c| c.table.as_deref() == Some(t)) {
                    return Err(PlanError::MissingFromEntry(t.to_string()));
                }
                return Err(PlanError::UndefinedColumn(format!("{t}.{name}")));
            }
            Err(PlanError::UndefinedColumn(name.to_string()))
        }
    }
}

fn ast_column_parts(e: &ast::Expr) -> Option<Vec<String>> {
    match e {
        ast::Expr::Identifier(i) => Some(vec![ident(i)]),
        ast::Expr::CompoundIdentifier(v) => Some(v.iter().map(ident).collect()),
        ast::Expr::Nested(x) => ast_column_parts(x),
        _ => None,
    }
}

/// GROUP BY 1 or GROUP BY alias → the select item's expression.
fn resolve_output_ref(g: &ast::Expr, items: &[ast::SelectItem]) -> Option<ast::Expr> {
    match g {
        ast::Expr::Value(v) => {
            if let ast::Value::Number(n, _) = &v.value {
                let i: usize = n.to_string().parse().ok()?;
                match items.get(i.checked_sub(1)?)? {
                    ast::SelectItem::UnnamedExpr(e)
                    | ast::SelectItem::ExprWithAlias { expr: e, .. } => return Some(e.clone()),
                    _ => return None,
                }
            }
            None
        }
        ast::Expr::Identifier(id) => items.iter().find_map(|it| match it {
            ast::SelectItem::ExprWithAlias { expr, alias }
                if ident(alias) == ident(id) && !matches!(expr, ast::Expr::Identifier(_)) =>
            {
                Some(expr.clone())
            }
            _ => None,
        }),
        _ => None,
    }
}

/// The scope of a relation whose columns are (name, type) pairs.
fn columns_scope(table: &str, cols: &[(&str, DataType)]) -> Scope {
    Scope {
        star: None,
        cols: cols
            .iter()
            .map(|(n, t)| ScopeCol {
                table: Some(table.to_string()),
                name: n.to_string(),
                ty: *t,
                source: None,
                hidden: false,
            })
            .collect(),
    }
}

/// An expression as text: char(n) loses its trailing blanks on the way,
/// as bpchar's cast to text does.
fn text_of(x: Expr, t: DataType) -> Expr {
    match t {
        DataType::Char(_) => Expr::Func("basalt_rtrim_blank".into(), vec![x]),
        _ => Expr::Cast(Box::new(x), DataType::Text),
    }
}

/// The items of a row constructor: `(a, b)` or `ROW(a, b)`.
fn row_items(e: &ast::Expr) -> Option<Vec<ast::Expr>> {
    match e {
        ast::Expr::Tuple(v) => Some(v.clone()),
        ast::Expr::Nested(x) => row_items(x),
        ast::Expr::Function(f)
            if object_parts(&f.name).last().map(String::as_str) == Some("row") =>
        {
            match &f.args {
                ast::FunctionArguments::List(l) => l
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Some(x.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A row comparison as its column comparisons: = is all equal, <> any
/// unequal, and the orderings are decided by the first unequal pair.
fn row_comparison(x: &[ast::Expr], op: &ast::BinaryOperator, y: &[ast::Expr]) -> ast::Expr {
    use ast::BinaryOperator as O;
    let bin = |l: ast::Expr, op: O, r: ast::Expr| {
        ast::Expr::Nested(Box::new(ast::Expr::BinaryOp {
            left: Box::new(l),
            op,
            right: Box::new(r),
        }))
    };
    let pairs = x.iter().cloned().zip(y.iter().cloned());
    match op {
        O::Eq | O::NotEq => {
            let join = if *op == O::Eq { O::And } else { O::Or };
            pairs
                .map(|(a, b)| bin(a, op.clone(), b))
                .reduce(|a, b| bin(a, join.clone(), b))
                .unwrap_or(ast::Expr::value(ast::Value::Boolean(*op == O::Eq)))
        }
        _ => {
            let strict = match op {
                O::Lt | O::LtEq => O::Lt,
                _ => O::Gt,
            };
            // From the last pair back: x_i strict y_i OR (x_i = y_i AND rest).
            let n = x.len().min(y.len());
            if n == 0 {
                return ast::Expr::value(ast::Value::Boolean(matches!(op, O::LtEq | O::GtEq)));
            }
            let mut acc = bin(x[n - 1].clone(), op.clone(), y[n - 1].clone());
            for i in (0..n - 1).rev() {
                let first = bin(x[i].clone(), strict.clone(), y[i].clone());
                let eq = bin(x[i].clone(), O::Eq, y[i].clone());
                acc = bin(first, O::Or, bin(eq, O::And, acc));
            }
            acc
        }
    }
}

/// The column name PostgreSQL gives an unnamed select item.
fn column_name(e: &ast::Expr) -> String {
    figure_colname(e)
        .map(|(n, _)| n)
        .unwrap_or_else(|| "?column?".into())
}

/// PostgreSQL's FigureColname: a name and its strength (2: a column,
/// function or the like; 1: a type name from a cast or `case`), so that a
/// cast of a named expression keeps the name and a cast of anything else
/// takes the type's.
fn figure_colname(e: &ast::Expr) -> Option<(String, u8)> {
    use ast::Expr as A;
    let named = |n: &str| Some((n.to_string(), 2));
    match e {
        A::Identifier(i) => Some((ident(i), 2)),
        A::CompoundIdentifier(v) => v.last().map(|i| (ident(i), 2)),
        A::Function(f) => Some((object_parts(&f.name).last().cloned().unwrap_or_default(), 2)),
        A::Cast {
            expr, data_type, ..
        } => match figure_colname(expr) {
            Some((n, 2)) => Some((n, 2)),
            _ => convert_type(data_type)
                .ok()
                .map(|t| (t.element().unwrap_or(t).type_name().to_string(), 1)),
        },
        A::Nested(x) => figure_colname(x),
        A::Collate { expr, .. } => figure_colname(expr),
        A::Array(_) => named("array"),
        A::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(ast::Expr::Identifier(i))) => Some((ident(i), 2)),
            _ => figure_colname(root),
        },
        A::Case { .. } => Some(("case".into(), 1)),
        A::Exists { negated: false, .. } => named("exists"),
        A::Subquery(q) => match q.body.as_ref() {
            ast::SetExpr::Select(s) => match s.projection.first() {
                Some(ast::SelectItem::ExprWithAlias { alias, .. }) => Some((ident(alias), 2)),
                Some(ast::SelectItem::UnnamedExpr(x)) => {
                    figure_colname(x).filter(|(_, st)| *st == 2)
                }
                _ => None,
            },
            _ => None,
        },
        A::Extract { .. } => named("extract"),
        A::Substring { .. } => named("substring"),
        A::Position { .. } => named("position"),
        A::Overlay { .. } => named("overlay"),
        A::Trim { trim_where, .. } => named(match trim_where {
            Some(ast::TrimWhereField::Leading) => "ltrim",
            Some(ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }),
        A::Ceil { .. } => named("ceil"),
        A::Floor { .. } => named("floor"),
        A::AtTimeZone { .. } => named("timezone"),
        A::Tuple(_) => named("row"),
        A::Interval(_) => Some(("interval".into(), 1)),
        A::TypedString(ts) => convert_type(&ts.data_type)
            .ok()
            .map(|t| (t.element().unwrap_or(t).type_name().to_string(), 1)),
        _ => None,
    }
}

/// The bounds conjuncts give an index on `columns`: equalities on a
/// prefix, then a range on the next column.
pub(crate) fn index_bounds(conj: &[&Expr], keys: &[Expr]) -> IndexBounds {
    let mut bounds = IndexBounds {
        eq: vec![],
        lo: None,
        hi: None,
    };
    for col in keys {
        if let Some(v) = conj.iter().find_map(|c| eq_const(c, col)) {
            bounds.eq.push(v);
        } else {
            for c in conj {
                if let Some((op, v)) = cmp_const(c, col) {
                    match op {
                        BinOp::Gt => bounds.lo = Some((v, false)),
                        BinOp::GtEq => bounds.lo = Some((v, true)),
                        BinOp::Lt => bounds.hi = Some((v, false)),
                        BinOp::LtEq => bounds.hi = Some((v, true)),
                        _ => {}
                    }
                }
            }
            break;
        }
    }
    bounds
}

fn is_col(e: &Expr, key: &Expr) -> bool {
    e == key
}

fn eq_const(c: &Expr, col: &Expr) -> Option<Expr> {
    if let Expr::Binary(BinOp::Eq, a, b) = c {
        if is_col(a, col) && is_const(b) {
            return Some((**b).clone());
        }
        if is_col(b, col) && is_const(a) {
            return Some((**a).clone());
        }
    }
    None
}

fn cmp_const(c: &Expr, col: &Expr) -> Option<(BinOp, Expr)> {
    if let Expr::Binary(op @ (BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq), a, b) = c {
        if is_col(a, col) && is_const(b) {
            return Some((*op, (**b).clone()));
        }
        if is_col(b, col) && is_const(a) {
            let flipped = match op {
                BinOp::Lt => BinOp::Gt,
                BinOp::LtEq => BinOp::GtEq,
                BinOp::Gt => BinOp::Lt,
                _ => BinOp::LtEq,
            };
            return Some((flipped, (**a).clone()));
        }
    }
    None
}

fn lock_name(s: RowLockStrength) -> &'static str {
    match s {
        RowLockStrength::Update => "FOR UPDATE",
        RowLockStrength::NoKeyUpdate => "FOR NO KEY UPDATE",
        RowLockStrength::Share => "FOR SHARE",
        RowLockStrength::KeyShare => "FOR KEY SHARE",
    }
}

/// Whether a SELECT aggregates (GROUP BY, HAVING, or an aggregate call).
fn has_agg_query(s: &ast::Select, order: &[ast::OrderByExpr]) -> bool {
    let grouped = match &s.group_by {
        ast::GroupByExpr::Expressions(v, _) => !v.is_empty(),
        ast::GroupByExpr::All(_) => true,
    };
    grouped
        || s.having.is_some()
        || s.projection.iter().any(|i| match i {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                contains_agg(e)
            }
            _ => false,
        })
        || order.iter().any(|o| contains_agg(&o.expr))
}
