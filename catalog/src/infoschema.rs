//! The information_schema views ORMs and tools read (schemata, tables,
//! columns, views, sequences, table_constraints, key_column_usage,
//! referential_constraints, check_constraints, constraint_column_usage),
//! with PostgreSQL 15's columns, built from the catalog like the pg_catalog
//! views in system.rs. They are named `information_schema.<view>` here; the
//! planner finds them by that qualified name.

use crate::store::{FkAction, Identity, Schema, TableDef};
use crate::types::{DataType, Value};
use DataType::*;

/// The columns of an information_schema view (`name` without the schema).
pub fn columns(name: &str) -> Option<Vec<(&'static str, DataType)>> {
    let id = Name;
    let chr = Text;
    let card = Int4;
    Some(match name {
        "schemata" => vec![
            ("catalog_name", id),
            ("schema_name", id),
            ("schema_owner", id),
            ("default_character_set_catalog", id),
            ("default_character_set_schema", id),
            ("default_character_set_name", id),
            ("sql_path", chr),
        ],
        "tables" => vec![
            ("table_catalog", id),
            ("table_schema", id),
            ("table_name", id),
            ("table_type", chr),
            ("self_referencing_column_name", id),
            ("reference_generation", chr),
            ("user_defined_type_catalog", id),
            ("user_defined_type_schema", id),
            ("user_defined_type_name", id),
            ("is_insertable_into", chr),
            ("is_typed", chr),
            ("commit_action", chr),
        ],
        "columns" => vec![
            ("table_catalog", id),
            ("table_schema", id),
            ("table_name", id),
            ("column_name", id),
            ("ordinal_position", card),
            ("column_default", chr),
            ("is_nullable", chr),
            ("data_type", chr),
            ("character_maximum_length", card),
            ("character_octet_length", card),
            ("numeric_precision", card),
            ("numeric_precision_radix", card),
            ("numeric_scale", card),
            ("datetime_precision", card),
            ("interval_type", chr),
            ("interval_precision", card),
            ("character_set_catalog", id),
            ("character_set_schema", id),
            ("character_set_name", id),
            ("collation_catalog", id),
            ("collation_schema", id),
            ("collation_name", id),
            ("domain_catalog", id),
            ("domain_schema", id),
            ("domain_name", id),
            ("udt_catalog", id),
            ("udt_schema", id),
            ("udt_name", id),
            ("scope_catalog", id),
            ("scope_schema", id),
            ("scope_name", id),
            ("maximum_cardinality", card),
            ("dtd_identifier", id),
            ("is_self_referencing", chr),
            ("is_identity", chr),
            ("identity_generation", chr),
            ("identity_start", chr),
            ("identity_increment", chr),
            ("identity_maximum", chr),
            ("identity_minimum", chr),
            ("identity_cycle", chr),
            ("is_generated", chr),
            ("generation_expression", chr),
            ("is_updatable", chr),
        ],
        "views" => vec![
            ("table_catalog", id),
            ("table_schema", id),
            ("table_name", id),
            ("view_definition", chr),
            ("check_option", chr),
            ("is_updatable", chr),
            ("is_insertable_into", chr),
            ("is_trigger_updatable", chr),
            ("is_trigger_deletable", chr),
            ("is_trigger_insertable_into", chr),
        ],
        "sequences" => vec![
            ("sequence_catalog", id),
            ("sequence_schema", id),
            ("sequence_name", id),
            ("data_type", chr),
            ("numeric_precision", card),
            ("numeric_precision_radix", card),
            ("numeric_scale", card),
            ("start_value", chr),
            ("minimum_value", chr),
            ("maximum_value", chr),
            ("increment", chr),
            ("cycle_option", chr),
        ],
        "table_constraints" => vec![
            ("constraint_catalog", id),
            ("constraint_schema", id),
            ("constraint_name", id),
            ("table_catalog", id),
            ("table_schema", id),
            ("table_name", id),
            ("constraint_type", chr),
            ("is_deferrable", chr),
            ("initially_deferred", chr),
            ("enforced", chr),
            ("nulls_distinct", chr),
        ],
        "key_column_usage" => vec![
            ("constraint_catalog", id),
            ("constraint_schema", id),
            ("constraint_name", id),
            ("table_catalog", id),
            ("table_schema", id),
            ("table_name", id),
            ("column_name", id),
            ("ordinal_position", card),
            ("position_in_unique_constraint", card),
        ],
        "referential_constraints" => vec![
            ("constraint_catalog", id),
            ("constraint_schema", id),
            ("constraint_name", id),
            ("unique_constraint_catalog", id),
            ("unique_constraint_schema", id),
            ("unique_constraint_name", id),
            ("match_option", chr),
            ("update_rule", chr),
            ("delete_rule", chr),
        ],
        "check_constraints" => vec![
            ("constraint_catalog", id),
            ("constraint_schema", id),
            ("constraint_name", id),
            ("check_clause", chr),
        ],
        "constraint_column_usage" => vec![
            ("table_catalog", id),
            ("table_schema", id),
            ("table_name", id),
            ("column_name", id),
            ("constraint_catalog", id),
            ("constraint_schema", id),
            ("constraint_name", id),
        ],
        _ => return None,
    })
}

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}
fn n(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |v| Value::Int4(v as i32))
}
fn yes(b: bool) -> Value {
    t(if b { "YES" } else { "NO" })
}

/// The SQL-standard name of a type, as information_schema shows it.
fn data_type(ty: &DataType) -> String {
    match ty {
        Varchar(_) => "character varying".into(),
        Char(_) => "character".into(),
        Numeric(_) => "numeric".into(),
        Array(_) => "ARRAY".into(),
        Enum(_) => "USER-DEFINED".into(),
        other => other.display_name(),
    }
}

/// The primary key and unique constraints of a table: (name, columns,
/// primary).
fn keys(tb: &TableDef) -> impl Iterator<Item = (&str, &[usize], bool)> {
    tb.indexes
        .iter()
        .filter(|i| (i.primary || i.unique) && i.exprs.is_empty() && i.predicate.is_none())
        .map(|i| (i.name.as_str(), i.columns.as_slice(), i.primary))
}

/// The name of a NOT NULL constraint, as PostgreSQL 15 shows them.
fn not_null_name(tb: &TableDef, col: usize) -> String {
    format!("{}_{}_{}_not_null", tb.namespace, tb.oid, col + 1)
}

fn rule(a: FkAction) -> &'static str {
    match a {
        FkAction::NoAction => "NO ACTION",
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    }
}

/// The rows of an information_schema view of the database `s` shows.
pub fn rows(name: &str, s: &Schema) -> Vec<Vec<Value>> {
    let db = s.database_name();
    let cat = || t(&db);
    let ns = |oid: u32| t(&s.namespace_name(oid));
    let mut out = Vec::new();
    match name {
        "schemata" => {
            for (oid, name) in s.namespaces() {
                let owner = s
                    .schemas
                    .iter()
                    .find(|d| d.oid == oid)
                    .map_or(crate::store::BOOTSTRAP_SUPERUSER, |d| d.owner);
                let owner = if crate::store::builtin_public_db(oid).is_some() {
                    crate::store::PG_DATABASE_OWNER
                } else {
                    owner
                };
                out.push(vec![
                    cat(),
                    t(&name),
                    t(&s.role_name(owner)),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        "tables" => {
            for tb in &s.tables {
                let temp = s
                    .namespace_name(tb.namespace)
                    .starts_with(crate::store::TEMP_SCHEMA_PREFIX);
                out.push(vec![
                    cat(),
                    ns(tb.namespace),
                    t(&tb.name),
                    t(if temp {
                        "LOCAL TEMPORARY"
                    } else {
                        "BASE TABLE"
                    }),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    t("YES"),
                    t("NO"),
                    if temp { t("PRESERVE") } else { Value::Null },
                ]);
            }
            for v in &s.views {
                out.push(vec![
                    cat(),
                    ns(v.namespace),
                    t(&v.name),
                    t("VIEW"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    t("NO"),
                    t("NO"),
                    Value::Null,
                ]);
            }
        }
        "columns" => {
            // Tables' columns, then views' (in name order, as the rows are
            // sorted by the query anyway).
            use std::borrow::Cow;
            let mut rels: Vec<(u32, u32, &str, Cow<[crate::ColumnDef]>, bool)> = s
                .tables
                .iter()
                .map(|t| {
                    let cols = Cow::Borrowed(t.columns.as_slice());
                    (t.oid, t.namespace, t.name.as_str(), cols, false)
                })
                .collect();
            rels.extend(s.views.iter().map(|v| {
                let cols = Cow::Owned(v.column_defs());
                (v.oid, v.namespace, v.name.as_str(), cols, true)
            }));
            for (tb_oid, tb_ns, tb_name, cols, is_view) in &rels {
                for (i, c) in cols.iter().enumerate() {
                    let ty = &c.ty;
                    let (char_len, octets) = match ty {
                        Varchar(Some(l)) | Char(l) => (Some(*l as i64), Some(*l as i64 * 4)),
                        Varchar(None) | Text => (None, Some(1_073_741_824)),
                        _ => (None, None),
                    };
                    let (prec, radix, scale) = match ty {
                        Int2 => (Some(16), Some(2), Some(0)),
                        Int4 => (Some(32), Some(2), Some(0)),
                        Int8 => (Some(64), Some(2), Some(0)),
                        Float4 => (Some(24), Some(2), None),
                        Float8 => (Some(53), Some(2), None),
                        Numeric(Some((p, sc))) => (Some(*p as i64), Some(10), Some(*sc as i64)),
                        Numeric(None) => (None, Some(10), None),
                        _ => (None, None, None),
                    };
                    let dt_prec = match ty {
                        Date => Some(0),
                        Timestamp | TimestampTz | Time | Interval => Some(6),
                        _ => None,
                    };
                    let udt = match ty {
                        Enum(_) => ty.display_name(),
                        _ => ty.type_name().to_string(),
                    };
                    let seq = c.identity.and_then(|_| {
                        s.sequences
                            .iter()
                            .find(|q| q.owned_by == Some((*tb_oid, i as i16 + 1)))
                    });
                    let idv = |f: &dyn Fn(&crate::store::SequenceDef) -> String| {
                        seq.map_or(Value::Null, |q| t(&f(q)))
                    };
                    out.push(vec![
                        cat(),
                        ns(*tb_ns),
                        t(tb_name),
                        t(&c.name),
                        Value::Int4(i as i32 + 1),
                        match (&c.default, c.identity) {
                            (Some(d), None) => t(d),
                            _ => Value::Null,
                        },
                        yes(!c.not_null),
                        t(&data_type(ty)),
                        n(char_len),
                        n(octets),
                        n(prec),
                        n(radix),
                        n(scale),
                        n(dt_prec),
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        cat(),
                        t(match ty {
                            Enum(_) => "public",
                            _ => "pg_catalog",
                        }),
                        t(&udt),
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        t(&(i + 1).to_string()),
                        t("NO"),
                        yes(c.identity.is_some()),
                        match c.identity {
                            Some(Identity::Always) => t("ALWAYS"),
                            Some(Identity::ByDefault) => t("BY DEFAULT"),
                            None => Value::Null,
                        },
                        idv(&|q| q.start.to_string()),
                        idv(&|q| q.increment.to_string()),
                        idv(&|q| q.max.to_string()),
                        idv(&|q| q.min.to_string()),
                        match seq {
                            Some(q) => yes(q.cycle),
                            None if c.identity.is_some() => t("NO"),
                            None => t("NO"),
                        },
                        t("NEVER"),
                        Value::Null,
                        yes(!is_view),
                    ]);
                }
            }
        }
        "views" => {
            for v in &s.views {
                out.push(vec![
                    cat(),
                    ns(v.namespace),
                    t(&v.name),
                    t(&format!(" {};", v.sql.trim().trim_end_matches(';'))),
                    t("NONE"),
                    t("NO"),
                    t("NO"),
                    t("NO"),
                    t("NO"),
                    t("NO"),
                ]);
            }
        }
        "sequences" => {
            // Not the sequences of identity columns (PostgreSQL leaves them
            // out).
            let identity = |q: &crate::store::SequenceDef| {
                q.owned_by.is_some_and(|(tab, col)| {
                    s.table_by_oid(tab)
                        .and_then(|tb| tb.columns.get((col as usize).wrapping_sub(1)))
                        .is_some_and(|c| c.identity.is_some())
                })
            };
            for q in s.sequences.iter().filter(|q| !identity(q)) {
                let prec = match q.ty {
                    Int2 => 16,
                    Int4 => 32,
                    _ => 64,
                };
                out.push(vec![
                    cat(),
                    ns(q.namespace),
                    t(&q.name),
                    t(&q.ty.display_name()),
                    Value::Int4(prec),
                    Value::Int4(2),
                    Value::Int4(0),
                    t(&q.start.to_string()),
                    t(&q.min.to_string()),
                    t(&q.max.to_string()),
                    t(&q.increment.to_string()),
                    yes(q.cycle),
                ]);
            }
        }
        "table_constraints" => {
            for tb in &s.tables {
                let row = |name: &str, kind: &str, nulls: Value| {
                    vec![
                        cat(),
                        ns(tb.namespace),
                        t(name),
                        cat(),
                        ns(tb.namespace),
                        t(&tb.name),
                        t(kind),
                        t("NO"),
                        t("NO"),
                        t("YES"),
                        nulls,
                    ]
                };
                for (name, _, primary) in keys(tb) {
                    out.push(match primary {
                        true => row(name, "PRIMARY KEY", Value::Null),
                        false => row(name, "UNIQUE", t("YES")),
                    });
                }
                for fk in &tb.fks {
                    out.push(row(&fk.name, "FOREIGN KEY", Value::Null));
                }
                for (name, _) in &tb.checks {
                    out.push(row(name, "CHECK", Value::Null));
                }
                for (i, c) in tb.columns.iter().enumerate() {
                    if c.not_null {
                        out.push(row(&not_null_name(tb, i), "CHECK", Value::Null));
                    }
                }
            }
        }
        "key_column_usage" => {
            for tb in &s.tables {
                let row = |cname: &str, col: usize, pos: usize, in_unique: Option<i64>| {
                    vec![
                        cat(),
                        ns(tb.namespace),
                        t(cname),
                        cat(),
                        ns(tb.namespace),
                        t(&tb.name),
                        t(&tb.columns[col].name),
                        Value::Int4(pos as i32 + 1),
                        n(in_unique),
                    ]
                };
                for (name, cols, _) in keys(tb) {
                    for (p, &c) in cols.iter().enumerate() {
                        if c < tb.columns.len() {
                            out.push(row(name, c, p, None));
                        }
                    }
                }
                for fk in &tb.fks {
                    for (p, &c) in fk.cols.iter().enumerate() {
                        // Where the referenced column sits in the key it names.
                        let in_unique = s
                            .table_by_oid(fk.table)
                            .and_then(|r| keys(r).find(|k| k.1 == fk.ref_cols.as_slice()))
                            .and_then(|k| k.1.iter().position(|&x| Some(&x) == fk.ref_cols.get(p)))
                            .map(|x| x as i64 + 1);
                        out.push(row(&fk.name, c, p, in_unique));
                    }
                }
            }
        }
        "referential_constraints" => {
            for tb in &s.tables {
                for fk in &tb.fks {
                    let target = s.table_by_oid(fk.table);
                    let key = target.and_then(|r| {
                        keys(r)
                            .find(|k| k.1 == fk.ref_cols.as_slice())
                            .map(|k| (r.namespace, k.0.to_string()))
                    });
                    out.push(vec![
                        cat(),
                        ns(tb.namespace),
                        t(&fk.name),
                        key.as_ref().map_or(Value::Null, |_| cat()),
                        key.as_ref().map_or(Value::Null, |k| ns(k.0)),
                        key.as_ref().map_or(Value::Null, |k| t(&k.1)),
                        t("NONE"),
                        t(rule(fk.on_update)),
                        t(rule(fk.on_delete)),
                    ]);
                }
            }
        }
        "check_constraints" => {
            for tb in &s.tables {
                for (k, (name, _)) in tb.checks.iter().enumerate() {
                    // pg_get_constraintdef's text without its CHECK.
                    let def = crate::system::constraint_def(
                        s,
                        crate::system::check_constraint_oid(tb.oid, k),
                    )
                    .unwrap_or_default();
                    let clause = def.strip_prefix("CHECK ").unwrap_or(&def);
                    out.push(vec![cat(), ns(tb.namespace), t(name), t(clause)]);
                }
                for (i, c) in tb.columns.iter().enumerate() {
                    if c.not_null {
                        out.push(vec![
                            cat(),
                            ns(tb.namespace),
                            t(&not_null_name(tb, i)),
                            t(&format!("{} IS NOT NULL", c.name)),
                        ]);
                    }
                }
            }
        }
        "constraint_column_usage" => {
            // The columns each constraint uses; for a foreign key, those of
            // the referenced table.
            for tb in &s.tables {
                let mut row = |on: &TableDef, col: usize, cname: &str| {
                    if let Some(c) = on.columns.get(col) {
                        out.push(vec![
                            cat(),
                            ns(on.namespace),
                            t(&on.name),
                            t(&c.name),
                            cat(),
                            ns(tb.namespace),
                            t(cname),
                        ]);
                    }
                };
                for (name, cols, _) in keys(tb) {
                    for &c in cols {
                        row(tb, c, name);
                    }
                }
                for (name, sql) in &tb.checks {
                    for (c, col) in tb.columns.iter().enumerate() {
                        if crate::system::sql_mentions(sql, &col.name) {
                            row(tb, c, name);
                        }
                    }
                }
                for fk in &tb.fks {
                    if let Some(r) = s.table_by_oid(fk.table) {
                        for &c in &fk.ref_cols {
                            row(r, c, &fk.name);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out
}
