//! Decorrelation of `[NOT] EXISTS (subquery)` in WHERE: when the
//! subquery's conditions are equalities between its columns and the outer
//! query's, plus conditions on its own columns (and any others over both),
//! it becomes a hash semi join (anti join for NOT EXISTS) of the outer rows
//! with the subquery's rows, instead of a subquery run per outer row —
//! unless an index answers the correlation, when the per-row probe wins.

use super::*;

/// A WHERE conjunct turned into a semi or anti join.
pub(super) struct SemiJoin {
    pub plan: Plan,
    pub width: usize,
    pub keys: Vec<(Expr, Expr)>,
    pub residual: Option<Expr>,
    pub anti: bool,
}

/// The top-level AND conjuncts of an AST expression.
pub(super) fn ast_conjuncts(e: &ast::Expr) -> Vec<&ast::Expr> {
    match e {
        ast::Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::And,
            right,
        } => {
            let mut v = ast_conjuncts(left);
            v.extend(ast_conjuncts(right));
            v
        }
        ast::Expr::Nested(x) => ast_conjuncts(x),
        e => vec![e],
    }
}

impl Binder<'_> {
    /// `conjunct` as a semi/anti join against the outer query's `scope`,
    /// or None when it is not an EXISTS this can decorrelate.
    pub(super) fn exists_as_join(
        &mut self,
        conjunct: &ast::Expr,
        scope: &Scope,
    ) -> Result<Option<SemiJoin>> {
        // `x IN (SELECT y ...)`: EXISTS (SELECT ... AND y = x). (NOT IN
        // is left alone: its NULLs make it no anti join.)
        let mut in_key: Option<(&ast::Expr, &ast::Expr)> = None;
        let (q, anti) = match conjunct {
            ast::Expr::InSubquery {
                expr,
                subquery,
                negated: false,
            } => {
                let ast::SetExpr::Select(sel) = subquery.body.as_ref() else {
                    return Ok(None);
                };
                let [ast::SelectItem::UnnamedExpr(y)
                | ast::SelectItem::ExprWithAlias { expr: y, .. }] = sel.projection.as_slice()
                else {
                    return Ok(None);
                };
                in_key = Some((expr.as_ref(), y));
                (subquery, false)
            }
            ast::Expr::Exists { subquery, negated } => (subquery, *negated),
            ast::Expr::UnaryOp {
                op: ast::UnaryOperator::Not,
                expr,
            } => match expr.as_ref() {
                ast::Expr::Exists {
                    subquery,
                    negated: false,
                } => (subquery, true),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        // A plain SELECT ... FROM tables WHERE ...: nothing that depends on
        // the rows' number or grouping.
        if q.with.is_some() || q.order_by.is_some() || q.limit_clause.is_some() || q.fetch.is_some()
        {
            return Ok(None);
        }
        let ast::SetExpr::Select(sel) = q.body.as_ref() else {
            return Ok(None);
        };
        let plain_from = sel.from.iter().all(|f| {
            f.joins.is_empty() && matches!(f.relation, ast::TableFactor::Table { args: None, .. })
        });
        if sel.from.is_empty()
            || !plain_from
            || sel.distinct.is_some()
            || sel.having.is_some()
            || !matches!(&sel.group_by, ast::GroupByExpr::Expressions(v, _) if v.is_empty())
            || has_agg_query(sel, &[])
        {
            return Ok(None);
        }
        if sel.selection.is_none() && in_key.is_none() {
            return Ok(None);
        }
        // Bind with no enclosing queries: a column of neither side (of a
        // query further out) makes this give up.
        let saved_outer = std::mem::take(&mut self.outer);
        let saved_agg = self.agg.take();
        let r = self.exists_parts(sel, sel.selection.as_ref(), in_key, scope);
        self.outer = saved_outer;
        self.agg = saved_agg;
        let Some((plan, width, keys, residual)) = r.ok().flatten() else {
            return Ok(None);
        };
        Ok(Some(SemiJoin {
            plan,
            width,
            keys,
            residual,
            anti,
        }))
    }

    #[allow(clippy::type_complexity)]
    fn exists_parts(
        &mut self,
        sel: &ast::Select,
        w: Option<&ast::Expr>,
        in_key: Option<(&ast::Expr, &ast::Expr)>,
        scope: &Scope,
    ) -> Result<Option<(Plan, usize, Vec<(Expr, Expr)>, Option<Expr>)>> {
        let (rels, inner) = self.select_from(sel, &Scope::default())?;
        let both = scope.concat(&inner);
        let lw = scope.cols.len();
        let mut local = Vec::new();
        let mut keys = Vec::new();
        let mut residual = Vec::new();
        if let Some((x, y)) = in_key {
            // x over the outer row, y over the subquery's, of types that
            // compare as they are.
            let (Ok((oe, ot)), Ok((ie, it))) = (self.expr(x, scope), self.expr(y, &inner)) else {
                return Ok(None);
            };
            if ot != it || ot == DataType::Unknown {
                return Ok(None);
            }
            keys.push((oe, ie));
        }
        let conj = w.map(ast_conjuncts).unwrap_or_default();
        for c in conj {
            if has_subquery_ast(c) {
                return Ok(None);
            }
            // On the subquery's own columns.
            if let Ok(x) = self.bool_expr(c, &inner) {
                local.push(x);
                continue;
            }
            // inner = outer (either way round).
            if let ast::Expr::BinaryOp {
                left,
                op: ast::BinaryOperator::Eq,
                right,
            } = c
            {
                let pair = |this: &mut Self, i: &ast::Expr, o: &ast::Expr| {
                    let (ie, it) = this.expr(i, &inner).ok()?;
                    let (oe, ot) = this.expr(o, scope).ok()?;
                    (comparable(&it, &ot) && it != DataType::Unknown && ot != DataType::Unknown)
                        .then_some((oe, ie))
                };
                if let Some(p) = pair(self, left, right).or_else(|| pair(self, right, left)) {
                    keys.push(p);
                    continue;
                }
            }
            // Anything else over both sides is checked on each pair.
            match self.bool_expr(c, &both) {
                Ok(x) => residual.push(x),
                Err(_) => return Ok(None),
            }
        }
        if keys.is_empty() {
            return Ok(None);
        }
        // When an index leads with an inner key column, the subquery run per
        // outer row is a cheap index probe; hashing every inner row (as
        // whole rows, here) costs more. Keep the subquery then.
        let indexed = keys.iter().any(|(_, ie)| {
            let Expr::Column(c) = ie else {
                return false;
            };
            let Some((oid, att)) = inner.cols.get(*c).and_then(|sc| sc.source) else {
                return false;
            };
            self.schema.table_by_oid(oid).is_some_and(|t| {
                t.indexes.iter().any(|ix| {
                    ix.predicate.is_none() && ix.columns.first() == Some(&((att - 1) as usize))
                })
            })
        });
        if indexed {
            return Ok(None);
        }
        let local = local
            .into_iter()
            .reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b)));
        let width = inner.cols.len();
        let plan = join_rels(self, rels, &sources(&inner), local);
        let residual = residual
            .into_iter()
            .reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b)));
        let _ = lw;
        Ok(Some((plan, width, keys, residual)))
    }
}
