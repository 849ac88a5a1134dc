//! Index entries of rows: the key of a row in an index, from its columns
//! and expression keys, and whether a partial index holds the row at all.
//! Expression keys and predicates are stored as SQL; they are bound once
//! per session and table layout, and cached.

use crate::error::Result;
use crate::eval::{eval, truthy};
use crate::exec::Ctx;
use crate::session::Session;
use basalt_catalog::store::EXPR_KEY;
use basalt_catalog::types::encode_key;
use basalt_catalog::{IndexDef, TableDef, Value};
use basalt_planner::Expr;
use std::rc::Rc;

/// An index's expression keys and predicate, bound.
pub(crate) struct BoundIndex {
    exprs: Vec<Expr>,
    pred: Option<Expr>,
}

/// Bound index expressions by (index OID, expressions, predicate, column
/// names and types).
pub(crate) type IndexExprCache =
    std::collections::HashMap<(u32, Vec<String>, Option<String>, Vec<String>), Rc<BoundIndex>>;

fn plain(ix: &IndexDef) -> bool {
    ix.exprs.is_empty() && ix.predicate.is_none()
}

impl Session {
    fn bound_index(&self, table: &TableDef, ix: &IndexDef, cx: &Ctx<'_>) -> Result<Rc<BoundIndex>> {
        let key = (
            ix.oid,
            ix.exprs.clone(),
            ix.predicate.clone(),
            table
                .columns
                .iter()
                .map(|c| format!("{} {:?}", c.name, c.ty))
                .collect(),
        );
        if let Some(b) = self.index_cache.borrow().get(&key) {
            return Ok(b.clone());
        }
        let mut exprs = Vec::with_capacity(ix.exprs.len());
        for sql in &ix.exprs {
            exprs.push(basalt_planner::bind::bind_table_expr(cx.schema, table, sql)?.0);
        }
        let pred = match &ix.predicate {
            Some(p) => Some(basalt_planner::bind_check(cx.schema, table, p)?),
            None => None,
        };
        let b = Rc::new(BoundIndex { exprs, pred });
        self.index_cache.borrow_mut().insert(key, b.clone());
        Ok(b)
    }

    /// The key values of `row` in `ix`; None when the row is outside a
    /// partial index.
    pub(crate) fn index_values(
        &self,
        table: &TableDef,
        ix: &IndexDef,
        row: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<Option<Vec<Value>>> {
        if plain(ix) {
            return Ok(Some(ix.columns.iter().map(|&c| row[c].clone()).collect()));
        }
        let b = self.bound_index(table, ix, cx)?;
        if let Some(p) = &b.pred {
            if !truthy(&eval(p, row, &cx.eval)?) {
                return Ok(None);
            }
        }
        ix.columns
            .iter()
            .map(|&c| match c.checked_sub(EXPR_KEY) {
                None => Ok(row[c].clone()),
                Some(j) => eval(&b.exprs[j], row, &cx.eval),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The index key of `row` in `ix` (None: outside a partial index).
    pub(crate) fn index_entry(
        &self,
        table: &TableDef,
        ix: &IndexDef,
        row: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<Option<Vec<u8>>> {
        if plain(ix) {
            return Ok(Some(crate::dml::index_key(row, &ix.columns)));
        }
        Ok(self
            .index_values(table, ix, row, cx)?
            .map(|vals| key_bytes(&vals)))
    }

    /// `index_entry` outside a statement (maintenance and checks).
    pub(crate) fn index_entry_outside(
        &self,
        table: &TableDef,
        ix: &IndexDef,
        row: &[Value],
    ) -> Result<Option<Vec<u8>>> {
        if plain(ix) {
            return Ok(Some(crate::dml::index_key(row, &ix.columns)));
        }
        self.with_ctx(&[], |cx| self.index_entry(table, ix, row, cx))
    }

    /// The key of `row` in `ix` and whether a key value is NULL (None:
    /// outside a partial index). Plain indexes read the row's columns
    /// without copying them: this runs for every row written.
    pub(crate) fn index_key_nulls(
        &self,
        table: &TableDef,
        ix: &IndexDef,
        row: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<Option<(Vec<u8>, bool)>> {
        if plain(ix) {
            let null = ix.columns.iter().any(|&c| row[c].is_null());
            return Ok(Some((crate::dml::index_key(row, &ix.columns), null)));
        }
        Ok(self
            .index_values(table, ix, row, cx)?
            .map(|vals| (key_bytes(&vals), vals.iter().any(|v| v.is_null()))))
    }

    /// Whether an UPDATE from `old` to `new` changes a unique index's key
    /// (or moves the row into or out of a partial one).
    pub(crate) fn unique_key_changed(
        &self,
        table: &TableDef,
        old: &[Value],
        new: &[Value],
        cx: &Ctx<'_>,
    ) -> Result<bool> {
        for ix in table.indexes.iter().filter(|ix| ix.unique) {
            let changed = if plain(ix) {
                ix.columns
                    .iter()
                    .any(|&c| old[c].cmp_total(&new[c]) != std::cmp::Ordering::Equal)
            } else {
                self.index_entry(table, ix, old, cx)? != self.index_entry(table, ix, new, cx)?
            };
            if changed {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

pub(crate) fn key_bytes(vals: &[Value]) -> Vec<u8> {
    let mut k = Vec::new();
    for v in vals {
        encode_key(v, &mut k);
    }
    k
}

/// The keys of an index as an error message names them: "a, lower(b)".
pub(crate) fn key_names(t: &TableDef, ix: &IndexDef) -> String {
    ix.columns
        .iter()
        .map(|&c| match c.checked_sub(EXPR_KEY) {
            None => t.columns[c].name.clone(),
            Some(j) => ix.exprs.get(j).cloned().unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Key values as an error message shows them: "1, x".
pub(crate) fn values_text(vals: &[Value]) -> String {
    vals.iter()
        .map(|v| {
            if v.is_null() {
                "null".to_string()
            } else {
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
