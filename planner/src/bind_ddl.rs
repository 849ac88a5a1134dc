//! Binding of CREATE TABLE (columns, keys, CHECK and FOREIGN KEY
//! constraints, serial and identity columns), DROP and ALTER TABLE.

use super::*;

impl Binder<'_> {
    pub(super) fn create_table(&mut self, ct: &ast::CreateTable) -> Result<Statement> {
        if ct.partition_by.is_some() || ct.partition_of.is_some() {
            return not_supported("partitioning (PARTITION BY, PARTITION OF)");
        }
        let parts = object_parts(&ct.name);
        let (namespace, name) = if ct.temporary {
            if parts.len() > 1 && !parts[parts.len() - 2].starts_with("pg_temp") {
                return Err(PlanError::Coded(
                    "42P16",
                    "cannot create temporary relation in non-temporary schema".into(),
                ));
            }
            if !matches!(ct.on_commit, None | Some(ast::OnCommit::PreserveRows)) {
                return not_supported("ON COMMIT DELETE ROWS / DROP");
            }
            (
                basalt_catalog::store::NS_TEMP,
                parts.last().cloned().unwrap_or_default(),
            )
        } else {
            self.creation_namespace(&parts)?
        };
        if let Some(q) = &ct.query {
            // CREATE TABLE ... AS: the columns are the query's.
            let q = self.query(q, &Scope::default())?;
            if ct.columns.iter().any(|c| !c.options.is_empty()) {
                return not_supported("column options in CREATE TABLE AS");
            }
            if ct.columns.len() > q.fields.len() {
                return Err(PlanError::Syntax(
                    "too many column names were specified".into(),
                ));
            }
            let mut columns: Vec<ColumnDef> = Vec::new();
            for (k, f) in q.fields.iter().enumerate() {
                let name = ct
                    .columns
                    .get(k)
                    .map(|c| ident(&c.name))
                    .unwrap_or_else(|| f.name.clone());
                if columns.iter().any(|c| c.name == name) {
                    return Err(PlanError::DuplicateColumn(name));
                }
                columns.push(ColumnDef {
                    name,
                    ty: output_type(f.ty),
                    not_null: false,
                    default: None,
                    identity: None,
                });
            }
            let def = TableDef {
                oid: 0,
                name,
                namespace,
                filenode: 0,
                columns,
                indexes: vec![],
                owner: basalt_catalog::store::BOOTSTRAP_SUPERUSER,
                acl: None,
                checks: vec![],
                fks: vec![],
                comments: vec![],
            };
            return Ok(Statement::CreateTable {
                def,
                if_not_exists: ct.if_not_exists,
                query: Some(Box::new(q)),
                sequences: vec![],
            });
        }
        let mut columns: Vec<ColumnDef> = Vec::new();
        let mut sequences = Vec::new();
        let mut checks: Vec<(String, ast::Expr)> = Vec::new();
        let mut fkeys: Vec<ast::ForeignKeyConstraint> = Vec::new();
        let mut pk: Option<Vec<usize>> = None;
        let mut uniques: Vec<Vec<usize>> = Vec::new();
        for c in &ct.columns {
            let cname = ident(&c.name);
            if columns.iter().any(|x| x.name == cname) {
                return Err(PlanError::DuplicateColumn(cname));
            }
            let ty = convert_type(&c.data_type)?;
            let mut col = ColumnDef {
                name: cname,
                ty,
                not_null: false,
                default: None,
                identity: None,
            };
            let serial = match &c.data_type {
                ast::DataType::Custom(n, _) => match n.to_string().to_lowercase().as_str() {
                    "serial" | "serial4" => Some(DataType::Int4),
                    "bigserial" | "serial8" => Some(DataType::Int8),
                    "smallserial" | "serial2" => Some(DataType::Int2),
                    _ => None,
                },
                _ => None,
            };
            // serial: an integer column defaulting to its own sequence.
            let schema = self.schema;
            let mut owned_seq =
                |col: &mut ColumnDef, ty: DataType, opts: &[ast::SequenceOptions]| -> Result<()> {
                    let seq_name = format!("{name}_{}_seq", col.name);
                    let mut def = sequence_def(&seq_name, ty, opts)?;
                    def.owned_by = Some((0, columns.len() as i16 + 1));
                    def.namespace = namespace;
                    col.ty = ty;
                    col.not_null = true;
                    col.default = Some(nextval_default(schema, namespace, &seq_name));
                    sequences.push(def);
                    Ok(())
                };
            if let Some(t) = serial {
                owned_seq(&mut col, t, &[])?;
            }
            for o in &c.options {
                match &o.option {
                    ast::ColumnOption::Generated {
                        generation_expr: None,
                        sequence_options,
                        generated_as,
                        ..
                    } => {
                        if !ty.is_integer() {
                            return Err(PlanError::Coded(
                                "22023",
                                "identity column type must be smallint, integer, or bigint".into(),
                            ));
                        }
                        if col.identity.is_some() {
                            return Err(PlanError::Syntax(format!(
                                "multiple identity specifications for column \"{}\" of table \"{name}\"",
                                col.name
                            )));
                        }
                        if col.default.is_some() || serial.is_some() {
                            return Err(PlanError::Syntax(format!(
                                "both default and identity specified for column \"{}\" of table \"{name}\"",
                                col.name
                            )));
                        }
                        owned_seq(&mut col, ty, sequence_options.as_deref().unwrap_or(&[]))?;
                        col.identity = Some(identity_kind(generated_as));
                    }
                    ast::ColumnOption::NotNull => col.not_null = true,
                    ast::ColumnOption::Null => col.not_null = false,
                    ast::ColumnOption::Default(_) if col.identity.is_some() => {
                        return Err(PlanError::Syntax(format!(
                            "both default and identity specified for column \"{}\" of table \"{name}\"",
                            col.name
                        )));
                    }
                    ast::ColumnOption::Default(e) => {
                        // Check that it binds (no columns allowed), keep the text.
                        let (_, t) = self.expr(e, &Scope::default())?;
                        if !(t == ty
                            || t == DataType::Unknown
                            || (t.is_numeric() && ty.is_numeric())
                            || (t.is_string() && ty.is_string())
                            || comparable(&t, &ty))
                        {
                            return Err(PlanError::DatatypeMismatch(format!(
                                "column \"{}\" is of type {} but default expression is of type {}",
                                col.name,
                                ty.display_name(),
                                t.display_name()
                            )));
                        }
                        col.default = Some(match literal_default(e, ty) {
                            Some(d) => d,
                            None => canonical_default(
                                &e.to_string(),
                                &self.schema.namespace_name(namespace),
                            ),
                        });
                    }
                    ast::ColumnOption::PrimaryKey(_) => {
                        if pk.is_some() {
                            return Err(PlanError::InvalidTableDefinition(name));
                        }
                        col.not_null = true;
                        pk = Some(vec![columns.len()]);
                    }
                    ast::ColumnOption::Unique(_) => uniques.push(vec![columns.len()]),
                    ast::ColumnOption::ForeignKey(fk) => {
                        let mut fk = fk.clone();
                        if fk.columns.is_empty() {
                            fk.columns = vec![c.name.clone()];
                        }
                        if fk.name.is_none() {
                            fk.name = o.name.clone();
                        }
                        fkeys.push(fk);
                    }
                    ast::ColumnOption::Check(ck) => {
                        let n = ck
                            .name
                            .as_ref()
                            .or(o.name.as_ref())
                            .map(ident)
                            .unwrap_or_else(|| format!("{name}_{}_check", col.name));
                        checks.push((n, unparenthesized(&ck.expr).clone()));
                    }
                    ast::ColumnOption::Collation(_) | ast::ColumnOption::Comment(_) => {}
                    other => return not_supported(format!("column option {other}")),
                }
            }
            columns.push(col);
        }
        let tmp = TableDef {
            oid: 0,
            name: name.clone(),
            namespace,
            filenode: 0,
            columns,
            indexes: vec![],
            owner: basalt_catalog::store::BOOTSTRAP_SUPERUSER,
            acl: None,
            checks: vec![],
            fks: vec![],
            comments: vec![],
        };
        for c in &ct.constraints {
            match c {
                ast::TableConstraint::ForeignKey(fk) => fkeys.push(fk.clone()),
                ast::TableConstraint::Check(ck) => {
                    let n = ck
                        .name
                        .as_ref()
                        .map(ident)
                        .unwrap_or_else(|| check_name(&tmp, &ck.expr));
                    checks.push((n, unparenthesized(&ck.expr).clone()));
                }
                ast::TableConstraint::PrimaryKey(p) => {
                    if pk.is_some() {
                        return Err(PlanError::InvalidTableDefinition(name));
                    }
                    pk = Some(self.index_columns(&tmp, p.columns.iter().map(|c| &c.column.expr))?);
                }
                ast::TableConstraint::Unique(u) => uniques
                    .push(self.index_columns(&tmp, u.columns.iter().map(|c| &c.column.expr))?),
                other => return not_supported(format!("constraint {other}")),
            }
        }
        let mut def = tmp;
        let mut idx = Vec::new();
        if let Some(cols) = pk {
            for &c in &cols {
                def.columns[c].not_null = true;
            }
            idx.push(basalt_catalog::IndexDef {
                oid: 0,
                name: format!("{name}_pkey"),
                filenode: 0,
                columns: cols,
                exprs: vec![],
                predicate: None,
                unique: true,
                primary: true,
            });
        }
        for u in uniques {
            let cn: Vec<&str> = u.iter().map(|&c| def.columns[c].name.as_str()).collect();
            idx.push(basalt_catalog::IndexDef {
                oid: 0,
                name: format!("{name}_{}_key", cn.join("_")),
                filenode: 0,
                columns: u,
                exprs: vec![],
                predicate: None,
                unique: true,
                primary: false,
            });
        }
        def.indexes = idx;
        for fk in &fkeys {
            let f = self.foreign_key(&def, fk)?;
            if def.fks.iter().any(|x| x.name == f.name) {
                return Err(PlanError::DuplicateTable(f.name));
            }
            def.fks.push(f);
        }
        let scope = table_scope(&def, &def.name);
        for (n, e) in checks {
            if contains_agg(&e) {
                return Err(PlanError::Grouping(
                    "aggregate functions are not allowed in check constraints".into(),
                ));
            }
            let (x, t) = self.expr(&e, &scope)?;
            self.to_bool(x, t, "CHECK")?;
            if def.checks.iter().any(|c| c.0 == n) {
                return Err(PlanError::DuplicateTable(n));
            }
            def.checks.push((n, e.to_string()));
        }
        Ok(Statement::CreateTable {
            def,
            if_not_exists: ct.if_not_exists,
            query: None,
            sequences,
        })
    }

    /// A FOREIGN KEY of `def` (the table being created, which may refer to
    /// itself): the referenced columns default to the primary key and must
    /// be those of a unique index, with comparable types.
    pub(super) fn foreign_key(
        &self,
        def: &TableDef,
        fk: &ast::ForeignKeyConstraint,
    ) -> Result<basalt_catalog::store::ForeignKey> {
        use basalt_catalog::store::FkAction;
        let parts = object_parts(&fk.foreign_table);
        let target_name = parts.last().cloned().unwrap_or_default();
        let self_ref = parts.len() == 1 && target_name == def.name;
        let parent: Arc<TableDef> = if self_ref {
            Arc::new(def.clone())
        } else {
            self.lookup_table(&parts)?
                .ok_or_else(|| PlanError::UndefinedTable(target_name.clone()))?
        };
        let col = |t: &TableDef, i: &ast::Ident| -> Result<usize> {
            let n = ident(i);
            t.column_index(&n).ok_or_else(|| {
                PlanError::UndefinedColumnMsg(format!(
                    "column \"{n}\" referenced in foreign key constraint does not exist"
                ))
            })
        };
        let cols: Vec<usize> = fk
            .columns
            .iter()
            .map(|i| col(def, i))
            .collect::<Result<_>>()?;
        let ref_cols: Vec<usize> = if fk.referred_columns.is_empty() {
            match parent.primary_key() {
                Some(pk) => pk.columns.clone(),
                None => {
                    return Err(PlanError::InvalidForeignKey(format!(
                        "there is no primary key for referenced table \"{}\"",
                        parent.name
                    )))
                }
            }
        } else {
            fk.referred_columns
                .iter()
                .map(|i| col(&parent, i))
                .collect::<Result<_>>()?
        };
        if cols.len() != ref_cols.len() {
            return Err(PlanError::InvalidForeignKey(
                "number of referencing and referenced columns for foreign key disagree".into(),
            ));
        }
        let mut sorted = ref_cols.clone();
        sorted.sort();
        let unique = parent.indexes.iter().any(|ix| {
            let mut c = ix.columns.clone();
            c.sort();
            ix.unique && ix.predicate.is_none() && c == sorted
        });
        if !unique {
            return Err(PlanError::InvalidForeignKey(format!(
                "there is no unique constraint matching given keys for referenced table \"{}\"",
                parent.name
            )));
        }
        for (&a, &b) in cols.iter().zip(&ref_cols) {
            let (ta, tb) = (def.columns[a].ty, parent.columns[b].ty);
            if !comparable(&ta, &tb) {
                return Err(PlanError::DatatypeMismatch(format!(
                    "foreign key constraint cannot be implemented\nDETAIL:  Key columns \"{}\" and \"{}\" are of incompatible types: {} and {}.",
                    def.columns[a].name, parent.columns[b].name, ta.display_name(), tb.display_name()
                )));
            }
        }
        let action = |a: &Option<ast::ReferentialAction>| -> Result<FkAction> {
            Ok(match a {
                None | Some(ast::ReferentialAction::NoAction) => FkAction::NoAction,
                Some(ast::ReferentialAction::Restrict) => FkAction::Restrict,
                Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
                Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
                Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
            })
        };
        let name = match &fk.name {
            Some(n) => ident(n),
            None => format!(
                "{}_{}_fkey",
                def.name,
                cols.iter()
                    .map(|&c| def.columns[c].name.as_str())
                    .collect::<Vec<_>>()
                    .join("_")
            ),
        };
        Ok(basalt_catalog::store::ForeignKey {
            name,
            cols,
            table: if self_ref { 0 } else { parent.oid },
            ref_cols,
            on_delete: action(&fk.on_delete)?,
            on_update: action(&fk.on_update)?,
        })
    }

    pub(super) fn index_columns<'e>(
        &self,
        t: &TableDef,
        cols: impl Iterator<Item = &'e ast::Expr>,
    ) -> Result<Vec<usize>> {
        let mut out = Vec::new();
        for e in cols {
            let n = match e {
                ast::Expr::Identifier(i) => ident(i),
                other => return not_supported(format!("index expression {other}")),
            };
            let i = t
                .column_index(&n)
                .ok_or_else(|| PlanError::UndefinedColumn(n.clone()))?;
            out.push(i);
        }
        Ok(out)
    }

    pub(super) fn drop(
        &mut self,
        ty: &ast::ObjectType,
        if_exists: bool,
        names: &[ast::ObjectName],
        cascade: bool,
    ) -> Result<Statement> {
        match ty {
            ast::ObjectType::Type => {
                let (oids, missing) = oids_named(names, if_exists, |n| {
                    self.resolve(n, |ns, x| {
                        self.schema
                            .enums
                            .iter()
                            .find(|e| e.namespace == ns && e.name == x)
                            .map(|e| e.oid)
                    })
                })
                .map_err(|e| match e {
                    PlanError::UndefinedTable(n) => {
                        PlanError::UndefinedObject(format!("type \"{n}\" does not exist"))
                    }
                    e => e,
                })?;
                Ok(Statement::Enum(EnumDdl::Drop {
                    oids,
                    missing,
                    cascade,
                }))
            }
            ast::ObjectType::Schema => {
                let (schemas, missing) = oids_named(names, if_exists, |n| {
                    let name = n.join(".");
                    if matches!(name.as_str(), "pg_catalog" | "information_schema") {
                        return Err(PlanError::Coded(
                            "2BP01",
                            format!("cannot drop schema {name} because it is required by the database system"),
                        ));
                    }
                    Ok(self.schema.namespace_oid(&name))
                })
                .map_err(|e| match e {
                    PlanError::UndefinedTable(n) => {
                        PlanError::Coded("3F000", format!("schema \"{n}\" does not exist"))
                    }
                    e => e,
                })?;
                Ok(Statement::DropSchema {
                    schemas,
                    missing,
                    cascade,
                })
            }
            ast::ObjectType::Table => {
                let mut tables = Vec::new();
                let mut missing = Vec::new();
                for n in names {
                    match self.lookup_table(&object_parts(n))? {
                        Some(t) => tables.push(t),
                        None if if_exists => missing.push(n.to_string()),
                        None => return Err(PlanError::UndefinedTable(n.to_string())),
                    }
                }
                Ok(Statement::DropTable {
                    tables,
                    missing,
                    cascade,
                })
            }
            ast::ObjectType::Index => {
                let n = &names[0];
                let parts = object_parts(n);
                let name = parts.last().cloned().unwrap_or_default();
                match self.resolve(&parts, |ns, n| {
                    self.schema
                        .relation(ns, n)
                        .and_then(|(t, i)| Some((t.clone(), i?)))
                })? {
                    Some((t, i)) => Ok(Statement::DropIndex { table: t, index: i }),
                    _ if if_exists => Ok(Statement::NoOp {
                        tag: "DROP INDEX".into(),
                        notice: Some(format!("index \"{name}\" does not exist, skipping")),
                    }),
                    _ => Err(PlanError::UndefinedObject(format!(
                        "index \"{name}\" does not exist"
                    ))),
                }
            }
            ast::ObjectType::Role | ast::ObjectType::User => self.drop_role(names, if_exists),
            ast::ObjectType::Sequence => {
                let (seqs, missing) = oids_named(names, if_exists, |n| {
                    self.resolve(n, |ns, x| self.schema.sequence(ns, x).map(|v| v.oid))
                })?;
                Ok(Statement::DropSequence { seqs, missing })
            }
            ast::ObjectType::View => {
                let (views, missing) = oids_named(names, if_exists, |n| {
                    self.resolve(n, |ns, x| self.schema.view(ns, x).map(|v| v.oid))
                })?;
                Ok(Statement::DropView { views, missing })
            }
            other => not_supported(format!("DROP {other}")),
        }
    }

    pub(super) fn alter_table(&mut self, at: &ast::AlterTable) -> Result<Statement> {
        let parts = object_parts(&at.name);
        // ALTER TABLE on a sequence or view (pg_dump's OWNER TO): the owner
        // it already has is accepted; another is not supported yet.
        if let [ast::AlterTableOperation::OwnerTo { new_owner }] = at.operations.as_slice() {
            if self.lookup_table(&parts)?.is_none() {
                let owner = self
                    .resolve(&parts, |ns, n| self.schema.sequence(ns, n).map(|q| q.owner))?
                    .or(self.resolve(&parts, |ns, n| self.schema.view(ns, n).map(|v| v.owner))?);
                if let Some(owner) = owner {
                    let want = match new_owner {
                        ast::Owner::Ident(i) => ident(i),
                        _ => self.schema.role_name(owner),
                    };
                    if want == self.schema.role_name(owner) {
                        return Ok(Statement::NoOp {
                            tag: "ALTER TABLE".into(),
                            notice: None,
                        });
                    }
                    return not_supported("changing the owner of a sequence or view");
                }
            }
        }
        let table = self
            .lookup_table(&parts)?
            .ok_or_else(|| PlanError::UndefinedTable(at.name.to_string()))?;
        if at.operations.len() > 1 {
            return Ok(Statement::AlterTableSteps(
                at.operations
                    .iter()
                    .map(|op| format!("ALTER TABLE {} {op}", at.name))
                    .collect(),
            ));
        }
        match &at.operations[0] {
            ast::AlterTableOperation::OwnerTo { new_owner } => Ok(Statement::AlterOwner {
                table,
                owner: match new_owner {
                    ast::Owner::Ident(i) => ident(i),
                    // Resolved when the statement runs.
                    _ => "\u{1}current_user".into(),
                },
            }),
            ast::AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                ast::TableConstraint::PrimaryKey(p) => {
                    if table.primary_key().is_some() {
                        return Err(PlanError::InvalidTableDefinition(table.name.clone()));
                    }
                    let columns =
                        self.index_columns(&table, p.columns.iter().map(|c| &c.column.expr))?;
                    let name = p
                        .name
                        .as_ref()
                        .map(ident)
                        .unwrap_or_else(|| format!("{}_pkey", table.name));
                    Ok(Statement::AddIndex {
                        table,
                        name,
                        columns,
                        exprs: vec![],
                        predicate: None,
                        unique: true,
                        primary: true,
                        if_not_exists: false,
                    })
                }
                ast::TableConstraint::Unique(u) => {
                    let columns =
                        self.index_columns(&table, u.columns.iter().map(|c| &c.column.expr))?;
                    let cn: Vec<&str> = columns
                        .iter()
                        .map(|&c| table.columns[c].name.as_str())
                        .collect();
                    let name = u
                        .name
                        .as_ref()
                        .map(ident)
                        .unwrap_or_else(|| format!("{}_{}_key", table.name, cn.join("_")));
                    Ok(Statement::AddIndex {
                        table,
                        name,
                        columns,
                        exprs: vec![],
                        predicate: None,
                        unique: true,
                        primary: false,
                        if_not_exists: false,
                    })
                }
                ast::TableConstraint::ForeignKey(fk) => {
                    let f = self.foreign_key(&table, fk)?;
                    if table.fks.iter().any(|x| x.name == f.name) {
                        return Err(PlanError::DuplicateTable(f.name));
                    }
                    Ok(Statement::AlterTable {
                        table,
                        action: AlterAction::AddForeignKey(f),
                    })
                }
                ast::TableConstraint::Check(ck) => {
                    let name = ck
                        .name
                        .as_ref()
                        .map(ident)
                        .unwrap_or_else(|| check_name(&table, &ck.expr));
                    if table.checks.iter().any(|c| c.0 == name) {
                        return Err(PlanError::DuplicateTable(name));
                    }
                    let scope = table_scope(&table, &table.name);
                    let (x, t) = self.expr(&ck.expr, &scope)?;
                    self.to_bool(x, t, "CHECK")?;
                    Ok(Statement::AlterTable {
                        table,
                        action: AlterAction::AddCheck {
                            name,
                            sql: unparenthesized(&ck.expr).to_string(),
                        },
                    })
                }
                other => not_supported(format!("ALTER TABLE ADD {other}")),
            },
            ast::AlterTableOperation::RenameTable { table_name } => {
                let (ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n)) =
                    table_name;
                let to = object_parts(n).last().cloned().unwrap_or_default();
                if self.schema.relation(table.namespace, &to).is_some()
                    || self.schema.view(table.namespace, &to).is_some()
                {
                    return Err(PlanError::DuplicateTable(to));
                }
                Ok(Statement::AlterTable {
                    table,
                    action: AlterAction::RenameTable(to),
                })
            }
            ast::AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let old = ident(old_column_name);
                let to = ident(new_column_name);
                let column = table
                    .column_index(&old)
                    .ok_or_else(|| PlanError::UndefinedColumn(old.clone()))?;
                if table.column_index(&to).is_some() {
                    return Err(PlanError::DuplicateColumnMsg(format!(
                        "column \"{to}\" of relation \"{}\" already exists",
                        table.name
                    )));
                }
                Ok(Statement::AlterTable {
                    table,
                    action: AlterAction::RenameColumn { column, to },
                })
            }
            ast::AlterTableOperation::AddColumn {
                if_not_exists,
                column_def: c,
                ..
            } => {
                let name = ident(&c.name);
                if table.column_index(&name).is_some() {
                    if *if_not_exists {
                        return Ok(alter_skipped(format!(
                            "column \"{name}\" of relation \"{}\" already exists, skipping",
                            table.name
                        )));
                    }
                    return Err(PlanError::DuplicateColumnMsg(format!(
                        "column \"{name}\" of relation \"{}\" already exists",
                        table.name
                    )));
                }
                let ty = convert_type(&c.data_type)?;
                let mut col = ColumnDef {
                    name,
                    ty,
                    not_null: false,
                    default: None,
                    identity: None,
                };
                for o in &c.options {
                    match &o.option {
                        ast::ColumnOption::NotNull => col.not_null = true,
                        ast::ColumnOption::Null => col.not_null = false,
                        ast::ColumnOption::Default(e) => {
                            self.expr(e, &Scope::default())?;
                            col.default = Some(e.to_string());
                        }
                        other => return not_supported(format!("ADD COLUMN with {other}")),
                    }
                }
                let fill = match col.default {
                    Some(_) => Some(self.default_expr(&col)?),
                    None if col.not_null => Some(Expr::Literal(Value::Null)),
                    None => None,
                };
                Ok(Statement::AlterTable {
                    table,
                    action: AlterAction::AddColumn { column: col, fill },
                })
            }
            ast::AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                drop_behavior,
                ..
            } => {
                let [c] = column_names.as_slice() else {
                    return not_supported("DROP COLUMN of several columns");
                };
                let name = ident(c);
                let Some(column) = table.column_index(&name) else {
                    if *if_exists {
                        return Ok(alter_skipped(format!(
                            "column \"{name}\" of relation \"{}\" does not exist, skipping",
                            table.name
                        )));
                    }
                    return Err(PlanError::UndefinedColumnMsg(format!(
                        "column \"{name}\" of relation \"{}\" does not exist",
                        table.name
                    )));
                };
                Ok(Statement::AlterTable {
                    table,
                    action: AlterAction::DropColumn {
                        column,
                        cascade: matches!(drop_behavior, Some(ast::DropBehavior::Cascade)),
                    },
                })
            }
            ast::AlterTableOperation::AlterColumn { column_name, op } => {
                let name = ident(column_name);
                let column = table.column_index(&name).ok_or_else(|| {
                    PlanError::UndefinedColumnMsg(format!(
                        "column \"{name}\" of relation \"{}\" does not exist",
                        table.name
                    ))
                })?;
                let action = match op {
                    ast::AlterColumnOperation::SetNotNull => AlterAction::SetNotNull {
                        column,
                        not_null: true,
                    },
                    ast::AlterColumnOperation::DropNotNull => {
                        if table
                            .primary_key()
                            .is_some_and(|ix| ix.columns.contains(&column))
                        {
                            return Err(PlanError::Coded(
                                "42P16",
                                format!("column \"{name}\" is in a primary key"),
                            ));
                        }
                        AlterAction::SetNotNull {
                            column,
                            not_null: false,
                        }
                    }
                    ast::AlterColumnOperation::SetDefault { value } => {
                        let (x, t) = self.expr(value, &Scope::default())?;
                        let want = table.columns[column].ty;
                        if t != DataType::Unknown && t != want && !cast_allowed(&t, &want) {
                            return Err(PlanError::DatatypeMismatch(format!(
                                "column \"{name}\" is of type {} but default expression is of type {}",
                                want.display_name(),
                                t.display_name()
                            )));
                        }
                        drop(x);
                        AlterAction::SetDefault {
                            column,
                            default: Some(
                                literal_default(value, table.columns[column].ty).unwrap_or_else(
                                    || {
                                        canonical_default(
                                            &value.to_string(),
                                            &self.schema.namespace_name(table.namespace),
                                        )
                                    },
                                ),
                            ),
                        }
                    }
                    ast::AlterColumnOperation::DropDefault => AlterAction::SetDefault {
                        column,
                        default: None,
                    },
                    ast::AlterColumnOperation::SetDataType {
                        data_type, using, ..
                    } => {
                        let ty = convert_type(data_type)?;
                        let old = table.columns[column].ty;
                        let using = match using {
                            Some(e) => {
                                let scope = table_scope(&table, &table.name);
                                let (x, t) = self.expr(e, &scope)?;
                                if t != ty && t != DataType::Unknown && !cast_allowed(&t, &ty) {
                                    return Err(PlanError::DatatypeMismatch(format!(
                                        "result of USING clause for column \"{name}\" cannot be cast automatically to type {}",
                                        ty.display_name()
                                    )));
                                }
                                Some(x)
                            }
                            None if old == ty || assignment_cast(&old, &ty) => None,
                            None => {
                                return Err(PlanError::DatatypeMismatch(format!(
                                    "column \"{name}\" cannot be cast automatically to type {}",
                                    ty.display_name()
                                )))
                            }
                        };
                        AlterAction::AlterType { column, ty, using }
                    }
                    ast::AlterColumnOperation::AddGenerated {
                        generated_as,
                        sequence_options,
                    } => {
                        let col = &table.columns[column];
                        if !col.ty.is_integer() {
                            return Err(PlanError::Coded(
                                "22023",
                                "identity column type must be smallint, integer, or bigint".into(),
                            ));
                        }
                        if !col.not_null {
                            return Err(PlanError::Coded(
                                "55000",
                                format!(
                                    "column \"{name}\" of relation \"{}\" must be declared NOT NULL before identity can be added",
                                    table.name
                                ),
                            ));
                        }
                        if col.identity.is_some() {
                            return Err(PlanError::Coded(
                                "55000",
                                format!(
                                    "column \"{name}\" of relation \"{}\" is already an identity column",
                                    table.name
                                ),
                            ));
                        }
                        if col.default.is_some() {
                            return Err(PlanError::Coded(
                                "55000",
                                format!(
                                    "column \"{name}\" of relation \"{}\" already has a default value",
                                    table.name
                                ),
                            ));
                        }
                        let mut seq = sequence_def(
                            &format!("{}_{name}_seq", table.name),
                            col.ty,
                            sequence_options.as_deref().unwrap_or(&[]),
                        )?;
                        seq.owned_by = Some((table.oid, column as i16 + 1));
                        seq.namespace = table.namespace;
                        let kind = match generated_as {
                            Some(g) => identity_kind(g),
                            None => Identity::Always,
                        };
                        AlterAction::AddIdentity {
                            column,
                            identity: kind,
                            default: nextval_default(&self.schema, seq.namespace, &seq.name),
                            sequence: seq,
                        }
                    }
                };
                Ok(Statement::AlterTable { table, action })
            }
            ast::AlterTableOperation::DropConstraint {
                if_exists,
                name,
                drop_behavior,
            } => {
                let name = ident(name);
                let exists = table.checks.iter().any(|c| c.0 == name)
                    || table.fks.iter().any(|f| f.name == name)
                    || table
                        .indexes
                        .iter()
                        .any(|i| i.name == name && (i.unique || i.primary));
                if !exists {
                    if *if_exists {
                        return Ok(alter_skipped(format!(
                            "constraint \"{name}\" of relation \"{}\" does not exist, skipping",
                            table.name
                        )));
                    }
                    return Err(PlanError::UndefinedObject(format!(
                        "constraint \"{name}\" of relation \"{}\" does not exist",
                        table.name
                    )));
                }
                Ok(Statement::AlterTable {
                    table,
                    action: AlterAction::DropConstraint {
                        name,
                        cascade: matches!(drop_behavior, Some(ast::DropBehavior::Cascade)),
                    },
                })
            }
            other => not_supported(format!("ALTER TABLE {other}")),
        }
    }
}

/// An ALTER TABLE ... IF [NOT] EXISTS that has nothing to do.
fn alter_skipped(notice: String) -> Statement {
    Statement::NoOp {
        tag: "ALTER TABLE".into(),
        notice: Some(notice),
    }
}

/// Conversions ALTER COLUMN TYPE makes without USING (PostgreSQL's
/// assignment casts).
fn assignment_cast(from: &DataType, to: &DataType) -> bool {
    (from.is_numeric() && to.is_numeric())
        || to.is_string()
        || (from.is_string() && to.is_string())
        || matches!(
            (from, to),
            (
                DataType::Date | DataType::Timestamp | DataType::TimestampTz,
                DataType::Date | DataType::Timestamp | DataType::TimestampTz
            ) | (DataType::Json, DataType::Jsonb)
                | (DataType::Jsonb, DataType::Json)
        )
        || matches!((from.element(), to.element()), (Some(a), Some(b)) if a == b || assignment_cast(&a, &b))
}

/// The OIDs of the objects DROP names, and (IF EXISTS) the names not found.
fn oids_named(
    names: &[ast::ObjectName],
    if_exists: bool,
    find: impl Fn(&[String]) -> Result<Option<u32>>,
) -> Result<(Vec<u32>, Vec<String>)> {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for n in names {
        let parts = object_parts(n);
        let name = parts.last().cloned().unwrap_or_default();
        match find(&parts)? {
            Some(oid) => found.push(oid),
            None if if_exists => missing.push(name),
            None => return Err(PlanError::UndefinedTable(name)),
        }
    }
    Ok((found, missing))
}

/// ALWAYS or BY DEFAULT, from sqlparser's GENERATED clause.
fn identity_kind(g: &ast::GeneratedAs) -> Identity {
    match g {
        ast::GeneratedAs::ByDefault => Identity::ByDefault,
        _ => Identity::Always,
    }
}

/// The DEFAULT of a serial or identity column: nextval of its sequence,
/// schema-qualified outside public.
fn nextval_default(schema: &Schema, namespace: u32, seq_name: &str) -> String {
    if namespace == basalt_catalog::store::NS_TEMP || schema.namespace_name(namespace) == "public" {
        format!("nextval('{seq_name}'::regclass)")
    } else {
        format!(
            "nextval('{}.{seq_name}'::regclass)",
            schema.namespace_name(namespace)
        )
    }
}

/// A constant DEFAULT (a string literal, or one cast to a type) as
/// PostgreSQL stores and shows it: the value in its type's canonical form,
/// cast (`'x'::character varying`), numbers and booleans bare.
fn literal_default(e: &ast::Expr, col_ty: DataType) -> Option<String> {
    let (s, ty) = match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => (s, col_ty),
            _ => return None,
        },
        ast::Expr::Cast {
            expr, data_type, ..
        } => match expr.as_ref() {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => (s, convert_type(data_type).ok()?),
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    };
    let value = basalt_catalog::cast::from_text(s, &ty).ok()?;
    // Numbers and booleans are folded to their constant, as PostgreSQL
    // does (a negative number keeps the quoted form).
    match value {
        Value::Bool(b) => return Some(b.to_string()),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) | Value::Numeric(_)
            if !value.to_string().starts_with('-') =>
        {
            return Some(value.to_string())
        }
        _ => {}
    }
    let name = match ty {
        DataType::Unknown | DataType::Enum(_) => return None,
        DataType::Varchar(_) => "character varying".to_string(),
        DataType::Char(_) => "bpchar".to_string(),
        DataType::Numeric(_) => "numeric".to_string(),
        t => t.display_name(),
    };
    let text = match value {
        Value::Text(_) => s.clone(),
        v => v.to_string(),
    };
    Some(format!("'{}'::{name}", text.replace('\'', "''")))
}

/// A DEFAULT as stored: `nextval('<schema>.seq'::REGCLASS)` (pg_dump's
/// form) as `nextval('seq'::regclass)` when the sequence is in the
/// table's own schema, like the defaults serial columns get.
fn canonical_default(text: &str, table_ns: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let (Some(rest), true) = (
        text.strip_prefix("nextval('"),
        lower.ends_with("'::regclass)"),
    ) else {
        return text.to_string();
    };
    let name = &rest[..rest.len() - "'::regclass)".len()];
    let name = name.strip_prefix(&format!("{table_ns}.")).unwrap_or(name);
    format!("nextval('{name}'::regclass)")
}

/// An expression without the parentheses around it (a CHECK written as
/// pg_dump writes it, `CHECK ((a > 0))`, is stored as `a > 0`).
fn unparenthesized(mut e: &ast::Expr) -> &ast::Expr {
    while let ast::Expr::Nested(inner) = e {
        e = inner;
    }
    e
}
