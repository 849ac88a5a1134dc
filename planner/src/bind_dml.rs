//! Binding of INSERT (with ON CONFLICT), UPDATE (with FROM) and DELETE
//! (with USING), their targets, defaults and RETURNING lists.

use super::*;

impl Binder<'_> {
    pub(super) fn insert(&mut self, ins: &ast::Insert) -> Result<Statement> {
        let name = match &ins.table {
            ast::TableObject::TableName(n) => n,
            _ => return not_supported("INSERT INTO a table function"),
        };
        let table = self
            .lookup_table(&object_parts(name))?
            .ok_or_else(|| PlanError::UndefinedTable(name.to_string()))?;
        let targets: Vec<usize> = if ins.columns.is_empty() {
            (0..table.columns.len()).collect()
        } else {
            let mut v = Vec::new();
            for c in &ins.columns {
                let n = object_parts(c).last().cloned().unwrap_or_default();
                let i = table.column_index(&n).ok_or_else(|| {
                    PlanError::UndefinedColumn(format!("{n}\" of relation \"{}", table.name))
                })?;
                if v.contains(&i) {
                    return Err(PlanError::DuplicateColumn(n));
                }
                v.push(i);
            }
            v
        };
        let Some(src) = &ins.source else {
            return not_supported("INSERT without VALUES or SELECT");
        };
        // OVERRIDING SYSTEM VALUE lets values into GENERATED ALWAYS identity
        // columns; OVERRIDING USER VALUE replaces those given for any
        // identity column by the column's sequence.
        let overriding = basalt_parser::insert_overriding(&ins.optimizer_hints);
        let refuse = |col: &ColumnDef| -> Result<()> {
            if col.identity == Some(Identity::Always) && overriding.is_none() {
                return Err(identity_always(col, true));
            }
            Ok(())
        };
        // VALUES rows are bound with the target column types as context, so
        // literals and parameters take the column's type.
        let (src_plan, src_types, width) = match (
            &*src.body,
            src.order_by.is_none() && src.limit_clause.is_none(),
        ) {
            (ast::SetExpr::Values(vals), true) => {
                let mut rows = Vec::new();
                for r in &vals.rows {
                    if r.content.len() > targets.len() {
                        return Err(PlanError::Syntax(
                            "INSERT has more expressions than target columns".into(),
                        ));
                    }
                    let mut row = Vec::new();
                    for (i, e) in r.content.iter().enumerate() {
                        let col = &table.columns[targets[i]];
                        if is_default_keyword(e) {
                            row.push(self.default_expr(col)?);
                            continue;
                        }
                        refuse(col)?;
                        let (x, t) = self.expr(e, &Scope::default())?;
                        row.push(self.assign_coerce(x, t, col)?);
                    }
                    // Fewer expressions than columns: the rest get defaults.
                    for &ti in &targets[r.content.len()..] {
                        row.push(self.default_expr(&table.columns[ti])?);
                    }
                    rows.push(row);
                }
                let types: Vec<DataType> = targets.iter().map(|&i| table.columns[i].ty).collect();
                (Plan::Values { rows }, types, targets.len())
            }
            _ => {
                let q = self.query(src, &Scope::default())?;
                if q.fields.len() > targets.len() {
                    return Err(PlanError::Syntax(
                        "INSERT has more expressions than target columns".into(),
                    ));
                }
                let types = q.fields.iter().map(|f| f.ty).collect::<Vec<_>>();
                let w = q.fields.len();
                for &ti in &targets[..w] {
                    refuse(&table.columns[ti])?;
                }
                (q.plan, types, w)
            }
        };
        // Build the full row: target columns from the source, others default.
        let mut exprs = Vec::with_capacity(table.columns.len());
        for (ci, col) in table.columns.iter().enumerate() {
            match targets.iter().position(|&t| t == ci) {
                Some(p) if p < width && !(overriding == Some(false) && col.identity.is_some()) => {
                    let e = self.assign_coerce(Expr::Column(p), src_types[p], col)?;
                    exprs.push(e);
                }
                _ => exprs.push(self.default_expr(col)?),
            }
        }
        let source = Plan::Project {
            input: Box::new(src_plan),
            exprs,
        };
        let returning = self.returning(&table, ins.returning.as_deref())?;
        let on_conflict = match &ins.on {
            None => None,
            Some(ast::OnInsert::OnConflict(oc)) => Some(self.on_conflict(&table, ins, oc)?),
            Some(_) => return not_supported("ON DUPLICATE KEY UPDATE"),
        };
        Ok(Statement::Insert {
            table,
            source,
            returning,
            on_conflict,
        })
    }

    /// ON CONFLICT [(cols) | ON CONSTRAINT name] DO NOTHING | DO UPDATE
    /// SET ... [WHERE ...].
    pub(super) fn on_conflict(
        &mut self,
        table: &Arc<TableDef>,
        ins: &ast::Insert,
        oc: &ast::OnConflict,
    ) -> Result<OnConflict> {
        let no_match = || {
            PlanError::InvalidColumnReference(
                "there is no unique or exclusion constraint matching the ON CONFLICT specification"
                    .into(),
            )
        };
        let indexes = match &oc.conflict_target {
            None => {
                if matches!(oc.action, ast::OnConflictAction::DoUpdate(_)) {
                    return Err(PlanError::Syntax(
                        "ON CONFLICT DO UPDATE requires inference specification or constraint name"
                            .into(),
                    ));
                }
                (0..table.indexes.len())
                    .filter(|&i| table.indexes[i].unique)
                    .collect()
            }
            Some(ast::ConflictTarget::Columns(cols)) => {
                let mut want = Vec::new();
                for c in cols {
                    let n = ident(c);
                    want.push(
                        table
                            .column_index(&n)
                            .ok_or_else(|| PlanError::UndefinedColumn(n.clone()))?,
                    );
                }
                want.sort();
                let found: Vec<usize> = (0..table.indexes.len())
                    .filter(|&i| {
                        let ix = &table.indexes[i];
                        let mut c = ix.columns.clone();
                        c.sort();
                        ix.unique && ix.predicate.is_none() && c == want
                    })
                    .collect();
                if found.is_empty() {
                    return Err(no_match());
                }
                found
            }
            Some(ast::ConflictTarget::OnConstraint(n)) => {
                let name = object_parts(n).last().cloned().unwrap_or_default();
                match table
                    .indexes
                    .iter()
                    .position(|i| i.name == name && i.unique)
                {
                    Some(i) => vec![i],
                    None => {
                        return Err(PlanError::UndefinedObject(format!(
                            "constraint \"{name}\" for table \"{}\" does not exist",
                            table.name
                        )))
                    }
                }
            }
        };
        let update = match &oc.action {
            ast::OnConflictAction::DoNothing => None,
            ast::OnConflictAction::DoUpdate(du) => {
                // The existing row (by the table's name or alias), then the
                // proposed one as `excluded`.
                let alias = match &ins.table_alias {
                    Some(a) => ident(&a.alias),
                    None => table.name.clone(),
                };
                let scope = table_scope(table, &alias).concat(&table_scope(table, "excluded"));
                let mut asg = Vec::new();
                for a in &du.assignments {
                    let col_name = match &a.target {
                        ast::AssignmentTarget::ColumnName(n) => {
                            object_parts(n).last().cloned().unwrap_or_default()
                        }
                        _ => return not_supported("multi-column assignment"),
                    };
                    let ci = table.column_index(&col_name).ok_or_else(|| {
                        PlanError::UndefinedColumn(format!(
                            "{col_name}\" of relation \"{}",
                            table.name
                        ))
                    })?;
                    let col = table.columns[ci].clone();
                    if is_default_keyword(&a.value) {
                        asg.push((ci, self.default_expr(&col)?));
                        continue;
                    }
                    if col.identity == Some(Identity::Always) {
                        return Err(identity_always(&col, false));
                    }
                    let (x, t) = self.expr(&a.value, &scope)?;
                    asg.push((ci, self.assign_coerce(x, t, &col)?));
                }
                let pred = match &du.selection {
                    Some(w) => Some(self.bool_expr(w, &scope)?),
                    None => None,
                };
                Some((asg, pred))
            }
        };
        Ok(OnConflict { indexes, update })
    }

    pub(super) fn default_expr(&mut self, col: &ColumnDef) -> Result<Expr> {
        match &col.default {
            None => Ok(Expr::Literal(Value::Null)),
            Some(text) => {
                let e = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
                    .try_with_sql(text)
                    .and_then(|mut p| p.parse_expr())
                    .map_err(|e| PlanError::Syntax(e.to_string()))?;
                let (x, t) = self.expr(&e, &Scope::default())?;
                self.assign_coerce(x, t, col)
            }
        }
    }

    /// Assignment coercion to a column's type (with its typmod).
    pub(super) fn assign_coerce(&mut self, e: Expr, t: DataType, col: &ColumnDef) -> Result<Expr> {
        if let Expr::Literal(v) = &e {
            return Ok(Expr::Literal(cast::cast(v.clone(), &col.ty)?));
        }
        if let Expr::Param(i) = e {
            if self.params[i] == DataType::Unknown {
                self.params[i] = col.ty;
            }
        }
        let ok = t == col.ty
            || t == DataType::Unknown
            || (t.is_numeric() && col.ty.is_numeric())
            || (t.is_string() && col.ty.is_string())
            || comparable(&t, &col.ty);
        if !ok {
            return Err(PlanError::DatatypeMismatch(format!(
                "column \"{}\" is of type {} but expression is of type {}",
                col.name,
                col.ty.display_name(),
                t.display_name()
            )));
        }
        Ok(Expr::Cast(Box::new(e), col.ty))
    }

    pub(super) fn returning(
        &mut self,
        table: &Arc<TableDef>,
        items: Option<&[ast::SelectItem]>,
    ) -> Result<Option<Query>> {
        self.returning_in(items, &table_scope(table, &table.name))
    }

    /// RETURNING over `scope` (the target's columns, then those of FROM).
    pub(super) fn returning_in(
        &mut self,
        items: Option<&[ast::SelectItem]>,
        scope: &Scope,
    ) -> Result<Option<Query>> {
        let Some(items) = items else { return Ok(None) };
        let (exprs, fields) = self.projection(items, scope)?;
        Ok(Some(Query {
            plan: Plan::Project {
                input: Box::new(Plan::Single),
                exprs,
            },
            fields,
        }))
    }

    /// The target of UPDATE or DELETE and the scope its WHERE clause sees.
    /// With FROM / USING relations: WHERE conditions
    /// on the target alone drive its scan, those on the other relations
    /// alone join them, equalities between the two match rows by hash, and
    /// the rest is checked on each match. The scope is the target's columns
    /// followed by the other relations'.
    pub(super) fn target(
        &mut self,
        name: &ast::ObjectName,
        alias: Option<&ast::TableAlias>,
        selection: Option<&ast::Expr>,
        from: &[ast::TableWithJoins],
    ) -> Result<(Target, Scope)> {
        let table = self
            .lookup_table(&object_parts(name))?
            .ok_or_else(|| PlanError::UndefinedTable(name.to_string()))?;
        let alias = alias
            .map(|a| ident(&a.name))
            .unwrap_or_else(|| table.name.clone());
        let tscope = table_scope(&table, &alias);
        if from.is_empty() {
            let pred = match selection {
                Some(e) => Some(self.bool_expr(e, &tscope)?),
                None => None,
            };
            let scan = self.access_path(&table, pred.clone());
            let target = Target {
                table,
                scan,
                pred,
                from: None,
            };
            return Ok((target, tscope));
        }
        let mut acc: Option<(FromRels, Scope)> = None;
        for twj in from {
            let (r, sc) = self.from_joins(twj, &Scope::default())?;
            acc = Some(match acc {
                None => (r, sc),
                Some((mut lr, ls)) => {
                    lr.append(r);
                    (lr, ls.concat(&sc))
                }
            });
        }
        let (rels, fscope) = acc.expect("FROM has an item");
        let (tw, fw) = (tscope.cols.len(), fscope.cols.len());
        let full = tscope.concat(&fscope);
        let pred = match selection {
            Some(e) => Some(self.bool_expr(e, &full)?),
            None => None,
        };
        let (mut own, mut theirs, mut keys, mut rest) = (vec![], vec![], vec![], vec![]);
        for c in pred.iter().flat_map(|p| conjuncts(p)) {
            if refs_only(c, 0, tw) {
                own.push(c.clone());
            } else if refs_only(c, tw, tw + fw) {
                theirs.push(shift(c, tw));
            } else {
                if let Expr::Binary(BinOp::Eq, a, b) = c {
                    if refs_only(a, 0, tw) && refs_only(b, tw, tw + fw) && !is_const(b) {
                        keys.push(((**a).clone(), shift(b, tw)));
                        continue;
                    }
                    if refs_only(b, 0, tw) && refs_only(a, tw, tw + fw) && !is_const(a) {
                        keys.push(((**b).clone(), shift(a, tw)));
                        continue;
                    }
                }
                rest.push(c.clone());
            }
        }
        let plan = join_rels(self, rels, &sources(&fscope), and_all(theirs));
        let own = and_all(own);
        let scan = self.access_path(&table, own.clone());
        Ok((
            Target {
                table,
                scan,
                pred: own,
                from: Some(Box::new(FromJoin {
                    plan,
                    width: fw,
                    keys,
                    residual: and_all(rest),
                })),
            },
            full,
        ))
    }

    pub(super) fn update(&mut self, u: &ast::Update) -> Result<Statement> {
        let (name, alias) = match &u.table.relation {
            ast::TableFactor::Table { name, alias, .. } => (name, alias.as_ref()),
            _ => return not_supported("UPDATE of this kind of table"),
        };
        if !u.table.joins.is_empty() {
            return not_supported("UPDATE of a join");
        }
        let from: &[ast::TableWithJoins] = match &u.from {
            None => &[],
            Some(
                ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f),
            ) => f,
        };
        let (target, scope) = self.target(name, alias, u.selection.as_ref(), from)?;
        let mut assignments = Vec::new();
        for a in &u.assignments {
            let col_name = match &a.target {
                ast::AssignmentTarget::ColumnName(n) => {
                    object_parts(n).last().cloned().unwrap_or_default()
                }
                _ => return not_supported("multi-column assignment"),
            };
            let ci = target.table.column_index(&col_name).ok_or_else(|| {
                PlanError::UndefinedColumn(format!(
                    "{col_name}\" of relation \"{}",
                    target.table.name
                ))
            })?;
            let col = target.table.columns[ci].clone();
            let e = if is_default_keyword(&a.value) {
                self.default_expr(&col)?
            } else if col.identity == Some(Identity::Always) {
                return Err(identity_always(&col, false));
            } else {
                let (x, t) = self.expr(&a.value, &scope)?;
                self.assign_coerce(x, t, &col)?
            };
            assignments.push((ci, e));
        }
        let returning = self.returning_in(u.returning.as_deref(), &scope)?;
        Ok(Statement::Update {
            target,
            assignments,
            returning,
        })
    }

    pub(super) fn delete(&mut self, d: &ast::Delete) -> Result<Statement> {
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
        };
        if from.len() != 1 || !from[0].joins.is_empty() {
            return not_supported("DELETE from several tables");
        }
        let (name, alias) = match &from[0].relation {
            ast::TableFactor::Table { name, alias, .. } => (name, alias.as_ref()),
            _ => return not_supported("DELETE from this kind of table"),
        };
        let using = d.using.as_deref().unwrap_or(&[]);
        let (target, scope) = self.target(name, alias, d.selection.as_ref(), using)?;
        let returning = self.returning_in(d.returning.as_deref(), &scope)?;
        Ok(Statement::Delete { target, returning })
    }
}

/// The bare word DEFAULT in a VALUES row or SET list.
fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
}

/// 428C9: a value given for a GENERATED ALWAYS identity column by an
/// INSERT (`insert`) or UPDATE.
fn identity_always(col: &ColumnDef, insert: bool) -> PlanError {
    let name = &col.name;
    PlanError::Detailed {
        code: "428C9",
        msg: if insert {
            format!("cannot insert a non-DEFAULT value into column \"{name}\"")
        } else {
            format!("column \"{name}\" can only be updated to DEFAULT")
        },
        detail: format!("Column \"{name}\" is an identity column defined as GENERATED ALWAYS."),
        hint: insert.then(|| "Use OVERRIDING SYSTEM VALUE to override.".into()),
    }
}
