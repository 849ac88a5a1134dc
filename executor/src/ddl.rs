//! CREATE TABLE and CREATE INDEX (with the index built from the rows that
//! may be live, checking uniqueness among them), views, and sequences
//! (nextval, currval, setval, lastval).

use crate::error::{ExecError, Result};
use crate::session::{ExecResult, Session};
use basalt_catalog::store::SequenceDef;
use basalt_catalog::{IndexDef, TableDef, Value};
use basalt_storage::StorageError;
use std::collections::HashMap;
use std::sync::Arc;

impl Session {
    pub(crate) fn create_table(
        &mut self,
        def: &TableDef,
        if_not_exists: bool,
        sequences: &[SequenceDef],
        query: Option<&basalt_planner::Query>,
        params: &[Value],
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let mut schema = self.schema()?;
        // CREATE TEMP TABLE: into this session's temporary schema, made now
        // if it is not there yet.
        let mut temp_def;
        let mut temp_seqs;
        let (def, sequences) = if def.namespace == basalt_catalog::store::NS_TEMP {
            let ns = match self.temp_namespace(&schema) {
                Some(ns) => ns,
                None => {
                    let sd = basalt_catalog::store::SchemaDef {
                        oid: self.db.st.new_oid()?,
                        name: self.temp_schema_name(),
                        owner: basalt_catalog::store::BOOTSTRAP_SUPERUSER,
                        database: self.database,
                    };
                    self.db.catalog.put_schema(xid, self.cid(), &schema, &sd)?;
                    schema = self.schema()?;
                    sd.oid
                }
            };
            temp_def = def.clone();
            temp_def.namespace = ns;
            temp_seqs = sequences.to_vec();
            for s in &mut temp_seqs {
                s.namespace = ns;
            }
            (&temp_def, temp_seqs.as_slice())
        } else {
            (def, sequences)
        };
        if schema.relation(def.namespace, &def.name).is_some()
            || schema.view(def.namespace, &def.name).is_some()
        {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: "CREATE TABLE".into(),
                    notices: vec![format!(
                        "relation \"{}\" already exists, skipping",
                        def.name
                    )],
                    ..Default::default()
                });
            }
            return Err(basalt_planner::PlanError::DuplicateTable(def.name.clone()).into());
        }
        for ix in &def.indexes {
            if schema.relation(def.namespace, &ix.name).is_some() {
                return Err(basalt_planner::PlanError::DuplicateTable(ix.name.clone()).into());
            }
        }
        let st = self.db.st.clone();
        let mut d = def.clone();
        d.oid = st.new_oid()?;
        for f in &mut d.fks {
            if f.table == 0 {
                f.table = d.oid;
            }
        }
        d.filenode = st.new_oid()?;
        d.owner = self.current_role;
        st.create_heap(d.filenode)?;
        for ix in &mut d.indexes {
            ix.oid = st.new_oid()?;
            ix.filenode = st.new_oid()?;
            st.btree_create(ix.filenode)?;
        }
        self.db.catalog.insert_table(xid, self.cid(), &d)?;
        for sq in sequences {
            if schema.relation(def.namespace, &sq.name).is_some()
                || schema.sequence(def.namespace, &sq.name).is_some()
            {
                return Err(basalt_planner::PlanError::DuplicateTable(sq.name.clone()).into());
            }
            let mut sq = sq.clone();
            sq.oid = st.new_oid()?;
            sq.owner = self.current_role;
            sq.owned_by = sq.owned_by.map(|(_, c)| (d.oid, c));
            self.db
                .catalog
                .put_sequence(xid, self.cid(), &schema, &sq)?;
        }
        let txn = self.txn.as_mut().expect("in txn");
        txn.drop_on_abort.push(d.filenode);
        txn.drop_on_abort
            .extend(d.indexes.iter().map(|i| i.filenode));
        if let Some(q) = query {
            // CREATE TABLE AS: the query's rows go in as they come (the
            // query cannot see the new table).
            let n = self.with_ctx(params, |cx| {
                *cx.scan_columns.borrow_mut() = crate::colmask::scan_columns(&q.plan);
                let mut it = crate::exec::build(&q.plan, cx)?;
                let mut buf = Vec::new();
                let mut n = 0u64;
                while let Some(r) = it.next(cx)? {
                    let r = crate::dml::coerce_row(&d, r)?;
                    self.insert_row(&d, &r, cx, &mut buf)?;
                    n += 1;
                }
                Ok(n)
            })?;
            return Ok(ExecResult {
                tag: format!("SELECT {n}"),
                ..Default::default()
            });
        }
        Ok(ExecResult {
            tag: "CREATE TABLE".into(),
            ..Default::default()
        })
    }

    pub(crate) fn add_index(
        &mut self,
        table: &Arc<TableDef>,
        name: &str,
        (columns, exprs, predicate): (&[usize], &[String], Option<&str>),
        unique: bool,
        primary: bool,
        if_not_exists: bool,
    ) -> Result<ExecResult> {
        let tag = if primary || (!if_not_exists && name.ends_with("_pkey")) {
            "ALTER TABLE"
        } else {
            "CREATE INDEX"
        };
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if schema.relation(table.namespace, name).is_some() {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: tag.into(),
                    notices: vec![format!("relation \"{name}\" already exists, skipping")],
                    ..Default::default()
                });
            }
            return Err(basalt_planner::PlanError::DuplicateTable(name.into()).into());
        }
        let st = self.db.st.clone();
        let ix = IndexDef {
            oid: st.new_oid()?,
            name: name.to_string(),
            filenode: self.new_index_file()?,
            columns: columns.to_vec(),
            exprs: exprs.to_vec(),
            predicate: predicate.map(str::to_string),
            unique,
            primary,
        };
        // Build: every tuple that may be live gets an entry; uniqueness is
        // checked among them.
        let types = table.types();
        self.with_ctx(&[], |cx| {
            let mut seen: HashMap<Vec<u8>, ()> = HashMap::new();
            for blk in 0..st.nblocks(table.filenode)? {
                let mut tuples = Vec::new();
                st.heap_page_all(table.filenode, blk, &mut tuples)?;
                for (tid, h, data) in tuples {
                    if !st.tuple_maybe_live(&h) {
                        continue;
                    }
                    let row = basalt_catalog::types::decode_row(&types, &data)
                        .ok_or_else(|| StorageError::Corrupt("bad row".into()))?;
                    if primary {
                        for &c in columns {
                            if row[c].is_null() {
                                return Err(ExecError::NotNull {
                                    column: table.columns[c].name.clone(),
                                    table: table.name.clone(),
                                    detail: crate::dml::failing_row(&row),
                                });
                            }
                        }
                    }
                    let Some(vals) = self.index_values(table, &ix, &row, cx)? else {
                        continue;
                    };
                    let key = crate::ixkeys::key_bytes(&vals);
                    let live = h.xmax == 0
                        || h.flags & basalt_storage::heap::F_LOCK_ONLY != 0
                        || !st
                            .clog
                            .get(h.xmax)
                            .eq(&basalt_storage::clog::XidStatus::Committed);
                    if unique
                        && live
                        && !vals.iter().any(|v| v.is_null())
                        && seen.insert(key.clone(), ()).is_some()
                    {
                        return Err(ExecError::UniqueBuild {
                            index: name.to_string(),
                            detail: format!(
                                "Key ({})=({}) is duplicated.",
                                crate::ixkeys::key_names(table, &ix),
                                crate::ixkeys::values_text(&vals)
                            ),
                        });
                    }
                    st.btree_insert(ix.filenode, &key, tid)?;
                }
            }
            Ok(())
        })?;
        let mut def = (**table).clone();
        if primary {
            for &c in columns {
                def.columns[c].not_null = true;
            }
        }
        def.indexes.push(ix);
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &def)?;
        Ok(ExecResult {
            tag: tag.into(),
            ..Default::default()
        })
    }

    /// CREATE [OR REPLACE] VIEW.
    pub(crate) fn create_view(
        &mut self,
        ns: u32,
        name: &str,
        sql: &str,
        columns: &[String],
        types: &[basalt_catalog::DataType],
        or_replace: bool,
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if schema.relation(ns, name).is_some() {
            return Err(basalt_planner::PlanError::DuplicateTable(name.into()).into());
        }
        let old = schema.view(ns, name).cloned();
        if old.is_some() && !or_replace {
            return Err(basalt_planner::PlanError::DuplicateTable(name.into()).into());
        }
        if let Some(o) = &old {
            if o.owner != self.current_role && !self.is_superuser()? {
                return Err(ExecError::denied(format!("must be owner of view {name}")));
            }
        }
        let v = basalt_catalog::store::ViewDef {
            oid: match &old {
                Some(o) => o.oid,
                None => self.db.st.new_oid()?,
            },
            name: name.to_string(),
            namespace: ns,
            owner: old.as_ref().map(|o| o.owner).unwrap_or(self.current_role),
            sql: sql.to_string(),
            columns: columns.to_vec(),
            column_types: types.to_vec(),
        };
        self.db.catalog.put_view(xid, self.cid(), &schema, &v)?;
        Ok(ExecResult {
            tag: "CREATE VIEW".into(),
            ..Default::default()
        })
    }

    /// ALTER TABLE RENAME TO, RENAME COLUMN, ADD COLUMN (existing rows
    /// get the column's default, written as new row versions).
    pub(crate) fn alter_table(
        &mut self,
        t: &Arc<TableDef>,
        action: &basalt_planner::AlterAction,
        params: &[Value],
    ) -> Result<ExecResult> {
        use basalt_planner::AlterAction;
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let mut def = (**t).clone();
        match action {
            AlterAction::RenameTable(to) => def.name = to.clone(),
            AlterAction::RenameColumn { column, to } => {
                // Stored expressions name the column: rename it there too.
                let old = def.columns[*column].name.clone();
                let ren = |sql: &mut String| {
                    if let Some(s) = basalt_planner::bind::rename_column_in_sql(sql, &old, to) {
                        *sql = s;
                    }
                };
                for c in &mut def.checks {
                    ren(&mut c.1);
                }
                for ix in &mut def.indexes {
                    ix.exprs.iter_mut().for_each(ren);
                    if let Some(p) = &mut ix.predicate {
                        ren(p);
                    }
                }
                def.columns[*column].name = to.clone()
            }
            AlterAction::AddColumn { column, .. } => def.columns.push(column.clone()),
            AlterAction::AddCheck { name, sql } => def.checks.push((name.clone(), sql.clone())),
            AlterAction::Comment { sub, text } => {
                def.comments.retain(|c| c.0 != *sub);
                if let Some(t) = text {
                    def.comments.push((*sub, t.clone()));
                }
            }
            AlterAction::AddForeignKey(fk) => {
                let mut fk = fk.clone();
                if fk.table == 0 {
                    fk.table = def.oid;
                }
                def.fks.push(fk)
            }
            AlterAction::SetDefault { column, default } => {
                def.columns[*column].default = default.clone()
            }
            AlterAction::AddIdentity {
                column,
                identity,
                sequence,
                default,
            } => {
                if schema
                    .relation(sequence.namespace, &sequence.name)
                    .is_some()
                    || schema
                        .sequence(sequence.namespace, &sequence.name)
                        .is_some()
                {
                    return Err(
                        basalt_planner::PlanError::DuplicateTable(sequence.name.clone()).into(),
                    );
                }
                let mut sq = sequence.clone();
                sq.oid = self.db.st.new_oid()?;
                sq.owner = self.current_role;
                self.db
                    .catalog
                    .put_sequence(xid, self.cid(), &schema, &sq)?;
                let c = &mut def.columns[*column];
                c.identity = Some(*identity);
                c.default = Some(default.clone());
            }
            AlterAction::SetNotNull { column, not_null } => {
                def.columns[*column].not_null = *not_null
            }
            AlterAction::DropConstraint { name, cascade } => {
                def.checks.retain(|c| c.0 != *name);
                def.fks.retain(|f| f.name != *name);
                if let Some(i) = def.indexes.iter().position(|ix| ix.name == *name) {
                    let cols = def.indexes[i].columns.clone();
                    self.drop_referencing_fks(
                        &schema,
                        t,
                        |fk| fk.ref_cols == cols,
                        *cascade,
                        || format!("constraint {name} on table {}", t.name),
                    )?;
                    let ix = def.indexes.remove(i);
                    self.txn
                        .as_mut()
                        .expect("in txn")
                        .drop_on_commit
                        .push(ix.filenode);
                }
            }
            AlterAction::DropColumn { column, cascade } => {
                let c = *column;
                let cname = t.columns[c].name.clone();
                self.drop_referencing_fks(
                    &schema,
                    t,
                    |fk| fk.ref_cols.contains(&c),
                    *cascade,
                    || format!("column {cname} of table {}", t.name),
                )?;
                def = self.without_column(&def, c)?;
                // A serial column's sequence goes with it.
                for sq in &schema.sequences {
                    if sq.owned_by == Some((t.oid, c as i16 + 1)) {
                        self.db
                            .catalog
                            .delete_sequence(xid, self.cid(), &schema, sq.oid)?;
                    }
                }
                return self.rewrite_table(t, def, params, move |mut row, _| {
                    row.remove(c);
                    Ok(row)
                });
            }
            AlterAction::AlterType { column, ty, using } => {
                let c = *column;
                def.columns[c].ty = *ty;
                let ty = *ty;
                let using = using.clone();
                return self.rewrite_table(t, def, params, move |mut row, cx| {
                    let v = match &using {
                        Some(e) => crate::eval::eval(e, &row, &cx.eval)?,
                        None => std::mem::replace(&mut row[c], Value::Null),
                    };
                    row[c] = basalt_catalog::cast::cast(v, &ty)?;
                    Ok(row)
                });
            }
        }
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &def)?;
        if let AlterAction::SetNotNull {
            column,
            not_null: true,
        } = action
        {
            self.validate_not_null(&def, *column, params)?;
        }
        if let AlterAction::AddCheck { .. } | AlterAction::AddForeignKey(_) = action {
            self.validate_new_constraint(&def, action, params)?;
        }
        if let AlterAction::AddColumn {
            fill: Some(fill), ..
        } = action
        {
            let target = basalt_planner::Target {
                table: Arc::new(def.clone()),
                scan: basalt_planner::Plan::SeqScan {
                    table: Arc::new(def.clone()),
                    filter: None,
                },
                pred: None,
                from: None,
            };
            let asg = vec![(def.columns.len() - 1, fill.clone())];
            self.with_ctx(params, |cx| self.modify_rows(&target, Some(&asg), None, cx))
                .map_err(|e| match e {
                    ExecError::NotNull { column, table, .. } => {
                        ExecError::NotNullAdded { column, table }
                    }
                    e => e,
                })?;
        }
        Ok(ExecResult {
            tag: if matches!(action, AlterAction::Comment { .. }) {
                "COMMENT"
            } else {
                "ALTER TABLE"
            }
            .into(),
            ..Default::default()
        })
    }

    /// SET NOT NULL: no existing row may hold NULL there.
    fn validate_not_null(&mut self, def: &TableDef, column: usize, params: &[Value]) -> Result<()> {
        let def = Arc::new(def.clone());
        let scan_plan = basalt_planner::Plan::SeqScan {
            table: def.clone(),
            filter: None,
        };
        self.with_ctx(params, |cx| {
            let mut scan = crate::exec::TableScan::new(&scan_plan, cx)?;
            while let Some((_, row)) = scan.next_row(cx)? {
                if row[column].is_null() {
                    return Err(ExecError::NotNullAdded {
                        column: def.columns[column].name.clone(),
                        table: def.name.clone(),
                    });
                }
            }
            Ok(())
        })
    }

    /// Other tables' foreign keys to `t` that `hit` selects: an error
    /// naming `what` (2BP01), or with CASCADE they are dropped.
    fn drop_referencing_fks(
        &mut self,
        schema: &basalt_catalog::Schema,
        t: &TableDef,
        hit: impl Fn(&basalt_catalog::store::ForeignKey) -> bool,
        cascade: bool,
        what: impl Fn() -> String,
    ) -> Result<()> {
        let xid = self.xid();
        for other in schema.tables.iter().filter(|o| o.oid != t.oid) {
            let deps: Vec<&basalt_catalog::store::ForeignKey> = other
                .fks
                .iter()
                .filter(|f| f.table == t.oid && hit(f))
                .collect();
            let Some(first) = deps.first() else {
                continue;
            };
            if !cascade {
                return Err(ExecError::Coded {
                    code: "2BP01",
                    msg: format!("cannot drop {} because other objects depend on it", what()),
                    detail: Some(format!(
                        "constraint {} on table {} depends on {}",
                        first.name,
                        other.name,
                        what()
                    )),
                });
            }
            let mut od = (**other).clone();
            od.fks.retain(|f| !(f.table == t.oid && hit(f)));
            self.db
                .catalog
                .replace_table(xid, self.cid(), schema, &od)?;
        }
        Ok(())
    }

    /// `def` without column `c`: indexes, foreign keys and CHECKs that use
    /// it go; later columns move down one.
    fn without_column(&self, def: &TableDef, c: usize) -> Result<TableDef> {
        let mut d = def.clone();
        let name = d.columns.remove(c).name;
        let shift = |v: &mut Vec<usize>| {
            for x in v.iter_mut() {
                if *x > c && *x < basalt_catalog::store::EXPR_KEY {
                    *x -= 1;
                }
            }
        };
        d.indexes.retain(|ix| !ix.columns.contains(&c));
        // Indexes whose expressions or predicate named the column go too.
        let bare = basalt_catalog::Schema::default();
        let mut cols_only = d.clone();
        cols_only.indexes.clear();
        d.indexes.retain(|ix| {
            ix.exprs
                .iter()
                .all(|e| basalt_planner::bind::bind_table_expr(&bare, &cols_only, e).is_ok())
                && ix
                    .predicate
                    .as_ref()
                    .is_none_or(|p| basalt_planner::bind_check(&bare, &cols_only, p).is_ok())
        });
        for ix in &mut d.indexes {
            shift(&mut ix.columns);
        }
        d.fks.retain(|f| !f.cols.contains(&c));
        for f in &mut d.fks {
            shift(&mut f.cols);
            if f.table == d.oid {
                f.ref_cols.retain(|x| *x != c);
                shift(&mut f.ref_cols);
            }
        }
        // A CHECK that no longer binds named the column.
        let checks = std::mem::take(&mut d.checks);
        for (n, sql) in checks {
            if basalt_planner::bind::bind_check(&basalt_catalog::Schema::default(), &d, &sql)
                .is_ok()
            {
                d.checks.push((n, sql));
            }
        }
        d.comments.retain(|cm| cm.0 != c as i32 + 1);
        for cm in &mut d.comments {
            if cm.0 > c as i32 + 1 {
                cm.0 -= 1;
            }
        }
        let _ = name;
        Ok(d)
    }

    /// Rewrites a table (DROP COLUMN, ALTER COLUMN TYPE): every row visible
    /// now goes, converted by `map`, into a new heap with new indexes under
    /// the definition `new`; the old files go at commit. Holds an ACCESS
    /// EXCLUSIVE lock on the table, as PostgreSQL does.
    fn rewrite_table(
        &mut self,
        old: &Arc<TableDef>,
        mut new: TableDef,
        params: &[Value],
        map: impl Fn(Vec<Value>, &crate::exec::Ctx<'_>) -> Result<Vec<Value>>,
    ) -> Result<ExecResult> {
        self.lock_table(
            old.oid,
            basalt_storage::TableLockMode::AccessExclusive,
            false,
            &old.name,
        )?;
        let xid = self.xid();
        let schema = self.schema()?;
        let st = self.db.st.clone();
        new.filenode = st.new_oid()?;
        st.create_heap(new.filenode)?;
        for ix in &mut new.indexes {
            ix.filenode = st.new_oid()?;
            st.btree_create(ix.filenode)?;
        }
        {
            let txn = self.txn.as_mut().expect("in txn");
            txn.drop_on_abort.push(new.filenode);
            txn.drop_on_abort
                .extend(new.indexes.iter().map(|i| i.filenode));
        }
        let scan_plan = basalt_planner::Plan::SeqScan {
            table: old.clone(),
            filter: None,
        };
        let new = Arc::new(new);
        self.with_ctx(params, |cx| {
            let mut rows = Vec::new();
            let mut scan = crate::exec::TableScan::new(&scan_plan, cx)?;
            while let Some((_, row)) = scan.next_row(cx)? {
                rows.push(map(row, cx)?);
            }
            let mut buf = Vec::new();
            for row in rows {
                self.insert_row(&new, &row, cx, &mut buf)?;
            }
            Ok(())
        })
        .map_err(|e| match e {
            ExecError::NotNull { column, table, .. } => ExecError::NotNullAdded { column, table },
            e => e,
        })?;
        self.db
            .catalog
            .replace_table(xid, self.cid(), &schema, &new)?;
        let txn = self.txn.as_mut().expect("in txn");
        txn.drop_on_commit.push(old.filenode);
        txn.drop_on_commit
            .extend(old.indexes.iter().map(|i| i.filenode));
        Ok(ExecResult {
            tag: "ALTER TABLE".into(),
            ..Default::default()
        })
    }

    /// Every existing row must satisfy a constraint ALTER TABLE adds.
    fn validate_new_constraint(
        &mut self,
        def: &TableDef,
        action: &basalt_planner::AlterAction,
        params: &[Value],
    ) -> Result<()> {
        use basalt_planner::AlterAction;
        let def = Arc::new(def.clone());
        let scan_plan = basalt_planner::Plan::SeqScan {
            table: def.clone(),
            filter: None,
        };
        let checked = self.with_ctx(params, |cx| {
            let mut scan = crate::exec::TableScan::new(&scan_plan, cx)?;
            while let Some((_, row)) = scan.next_row(cx)? {
                match action {
                    AlterAction::AddCheck { .. } => self.check_constraints(&def, &row, cx)?,
                    _ => self.check_foreign_keys(&def, &row, None, cx)?,
                }
            }
            Ok(())
        });
        match (checked, action) {
            (Err(ExecError::CheckViolation { .. }), AlterAction::AddCheck { name, .. }) => {
                Err(ExecError::Coded {
                    code: "23514",
                    msg: format!(
                        "check constraint \"{name}\" of relation \"{}\" is violated by some row",
                        def.name
                    ),
                    detail: None,
                })
            }
            (r, _) => r,
        }
    }

    pub(crate) fn create_sequence(
        &mut self,
        def: &SequenceDef,
        if_not_exists: bool,
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let ns = def.namespace;
        if schema.relation(ns, &def.name).is_some()
            || schema.view(ns, &def.name).is_some()
            || schema.sequence(ns, &def.name).is_some()
        {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: "CREATE SEQUENCE".into(),
                    notices: vec![format!(
                        "relation \"{}\" already exists, skipping",
                        def.name
                    )],
                    ..Default::default()
                });
            }
            return Err(basalt_planner::PlanError::DuplicateTable(def.name.clone()).into());
        }
        let mut sq = def.clone();
        sq.oid = self.db.st.new_oid()?;
        sq.owner = self.current_role;
        self.db
            .catalog
            .put_sequence(xid, self.cid(), &schema, &sq)?;
        Ok(ExecResult {
            tag: "CREATE SEQUENCE".into(),
            ..Default::default()
        })
    }

    pub(crate) fn drop_sequences(
        &mut self,
        seqs: &[u32],
        missing: &[String],
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        for &oid in seqs {
            if let Some(sq) = schema.sequences.iter().find(|s| s.oid == oid) {
                if sq.owner != self.current_role && !self.is_superuser()? {
                    return Err(ExecError::denied(format!(
                        "must be owner of sequence {}",
                        sq.name
                    )));
                }
            }
            self.db
                .catalog
                .delete_sequence(xid, self.cid(), &schema, oid)?;
        }
        Ok(ExecResult {
            tag: "DROP SEQUENCE".into(),
            notices: missing
                .iter()
                .map(|m| format!("sequence \"{m}\" does not exist, skipping"))
                .collect(),
            ..Default::default()
        })
    }

    /// nextval, currval, setval and lastval: `target` is the sequence's
    /// OID (found by the planner) or its name.
    /// ALTER SEQUENCE: the new definition in the catalog, and RESTART's
    /// value (the next nextval returns it).
    pub(crate) fn alter_sequence(
        &mut self,
        def: Option<&SequenceDef>,
        name: &str,
        restart: Option<i64>,
    ) -> Result<ExecResult> {
        let Some(def) = def else {
            return Ok(ExecResult {
                tag: "ALTER SEQUENCE".into(),
                notices: vec![format!("relation \"{name}\" does not exist, skipping")],
                ..Default::default()
            });
        };
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if def.owner != self.current_role && !self.is_superuser()? {
            return Err(ExecError::denied(format!(
                "must be owner of sequence {}",
                def.name
            )));
        }
        self.db
            .catalog
            .put_sequence(xid, self.cid(), &schema, def)?;
        if let Some(v) = restart {
            let p = basalt_storage::sequence::SeqParams {
                start: def.start,
                increment: def.increment,
                min: def.min,
                max: def.max,
                cycle: def.cycle,
            };
            let st = &self.db.st;
            st.seqs.setval(&st.wal, def.oid, &def.name, &p, v, false)?;
        }
        Ok(ExecResult {
            tag: "ALTER SEQUENCE".into(),
            ..Default::default()
        })
    }

    pub(crate) fn sequence_function(&self, name: &str, args: &[Value]) -> Result<Value> {
        use basalt_storage::sequence::SeqParams;
        if name == "lastval" {
            return match self.seq_last.borrow().1 {
                Some(v) => Ok(Value::Int8(v)),
                None => Err(ExecError::ObjectNotInPrerequisiteState(
                    "lastval is not yet defined in this session".into(),
                )),
            };
        }
        let schema = self.schema()?;
        let sq = match args.first() {
            Some(Value::Null) | None => return Ok(Value::Null),
            Some(Value::Text(n)) => self
                .find_named(&schema, n, |ns, x| schema.sequence(ns, x).cloned())
                .ok_or_else(|| basalt_planner::PlanError::UndefinedTable(n.clone()))?,
            Some(v) => {
                let oid = v.as_i64().unwrap_or(-1);
                schema
                    .sequences
                    .iter()
                    .find(|s| s.oid as i64 == oid)
                    .cloned()
                    .ok_or_else(|| {
                        ExecError::Internal(format!("could not open relation with OID {oid}"))
                    })?
            }
        };
        let p = SeqParams {
            start: sq.start,
            increment: sq.increment,
            min: sq.min,
            max: sq.max,
            cycle: sq.cycle,
        };
        let st = &self.db.st;
        match name {
            "nextval" => {
                let v = st.seqs.nextval(&st.wal, sq.oid, &sq.name, &p)?;
                let mut last = self.seq_last.borrow_mut();
                last.0.insert(sq.oid, v);
                last.1 = Some(v);
                Ok(Value::Int8(v))
            }
            "currval" => match self.seq_last.borrow().0.get(&sq.oid) {
                Some(v) => Ok(Value::Int8(*v)),
                None => Err(ExecError::ObjectNotInPrerequisiteState(format!(
                    "currval of sequence \"{}\" is not yet defined in this session",
                    sq.name
                ))),
            },
            _ => {
                let v = match args.get(1) {
                    Some(Value::Null) | None => return Ok(Value::Null),
                    Some(v) => v.as_i64().unwrap_or(0),
                };
                let called = !matches!(args.get(2), Some(Value::Bool(false)));
                st.seqs.setval(&st.wal, sq.oid, &sq.name, &p, v, called)?;
                if called {
                    let mut last = self.seq_last.borrow_mut();
                    last.0.insert(sq.oid, v);
                }
                Ok(Value::Int8(v))
            }
        }
    }

    /// DROP VIEW.
    pub(crate) fn create_schema(
        &mut self,
        name: &str,
        owner: Option<&str>,
        if_not_exists: bool,
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        if schema.namespace_oid(name).is_some() {
            if if_not_exists {
                return Ok(ExecResult {
                    tag: "CREATE SCHEMA".into(),
                    notices: vec![format!("schema \"{name}\" already exists, skipping")],
                    ..Default::default()
                });
            }
            return Err(ExecError::coded(
                "42P06",
                format!("schema \"{name}\" already exists"),
            ));
        }
        if name.starts_with("pg_") {
            return Err(ExecError::coded(
                "42939",
                format!("unacceptable schema name \"{name}\""),
            ));
        }
        let owner = match owner {
            Some(r) => match schema.role(r) {
                Some(r) => r.oid,
                None => {
                    return Err(ExecError::coded(
                        "42704",
                        format!("role \"{r}\" does not exist"),
                    ))
                }
            },
            None => self.current_role,
        };
        if !self.is_superuser()? && owner != self.current_role {
            return Err(ExecError::denied(format!(
                "must be able to SET ROLE \"{}\"",
                schema.role_name(owner)
            )));
        }
        let def = basalt_catalog::store::SchemaDef {
            oid: self.db.st.new_oid()?,
            name: name.to_string(),
            owner,
            database: self.database,
        };
        self.db.catalog.put_schema(xid, self.cid(), &schema, &def)?;
        Ok(ExecResult {
            tag: "CREATE SCHEMA".into(),
            ..Default::default()
        })
    }

    /// DROP SCHEMA: an empty schema, or with CASCADE the tables, views and
    /// sequences in it too.
    pub(crate) fn drop_schema(
        &mut self,
        oids: &[u32],
        missing: &[String],
        cascade: bool,
    ) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let mut notices = Vec::new();
        for &ns in oids {
            let Some(def) = schema.schemas.iter().find(|s| s.oid == ns).cloned() else {
                // public: it may be dropped in PostgreSQL; here it stays.
                return Err(ExecError::coded(
                    "0A000",
                    format!(
                        "dropping schema {} is not supported",
                        schema.namespace_name(ns)
                    ),
                ));
            };
            if def.owner != self.current_role
                && !self.is_superuser()?
                && def.name != self.temp_schema_name()
            {
                return Err(ExecError::denied(format!(
                    "must be owner of schema {}",
                    def.name
                )));
            }
            let tables: Vec<_> = schema.tables.iter().filter(|t| t.namespace == ns).collect();
            let views: Vec<_> = schema.views.iter().filter(|v| v.namespace == ns).collect();
            let seqs: Vec<_> = schema
                .sequences
                .iter()
                .filter(|v| v.namespace == ns)
                .collect();
            let mut objects: Vec<String> = tables
                .iter()
                .map(|t| format!("table {}.{}", def.name, t.name))
                .collect();
            objects.extend(
                views
                    .iter()
                    .map(|v| format!("view {}.{}", def.name, v.name)),
            );
            objects.extend(
                seqs.iter()
                    .filter(|q| q.owned_by.is_none())
                    .map(|q| format!("sequence {}.{}", def.name, q.name)),
            );
            if !objects.is_empty() && !cascade {
                return Err(ExecError::Coded {
                    code: "2BP01",
                    msg: format!(
                        "cannot drop schema {} because other objects depend on it",
                        def.name
                    ),
                    detail: Some(
                        objects
                            .iter()
                            .map(|o| format!("{o} depends on schema {}", def.name))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                });
            }
            if !objects.is_empty() {
                notices.push(if objects.len() == 1 {
                    format!("drop cascades to {}", objects[0])
                } else {
                    format!("drop cascades to {} other objects", objects.len())
                });
            }
            let cid = self.cid();
            for v in views {
                self.db.catalog.delete_view(xid, cid, &schema, v.oid)?;
            }
            for q in seqs {
                self.db.catalog.delete_sequence(xid, cid, &schema, q.oid)?;
            }
            // Foreign keys from tables elsewhere to tables here go too.
            let here: Vec<u32> = tables.iter().map(|t| t.oid).collect();
            for other in schema.tables.iter().filter(|o| o.namespace != ns) {
                if other.fks.iter().any(|f| here.contains(&f.table)) {
                    let mut od = (**other).clone();
                    od.fks.retain(|f| !here.contains(&f.table));
                    self.db.catalog.replace_table(xid, cid, &schema, &od)?;
                }
            }
            for t in tables {
                self.db.catalog.delete_table(xid, cid, &schema, t.oid)?;
                let txn = self.txn.as_mut().expect("in txn");
                txn.drop_on_commit.push(t.filenode);
                txn.drop_on_commit
                    .extend(t.indexes.iter().map(|i| i.filenode));
            }
            self.db.catalog.delete_schema(xid, cid, &schema, ns)?;
        }
        notices.extend(
            missing
                .iter()
                .map(|m| format!("schema \"{m}\" does not exist, skipping")),
        );
        Ok(ExecResult {
            tag: "DROP SCHEMA".into(),
            notices,
            ..Default::default()
        })
    }

    pub(crate) fn drop_view(&mut self, views: &[u32], missing: &[String]) -> Result<ExecResult> {
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        for oid in views {
            let Some(v) = schema.views.iter().find(|v| v.oid == *oid).cloned() else {
                continue;
            };
            if v.owner != self.current_role && !self.is_superuser()? {
                return Err(ExecError::denied(format!(
                    "must be owner of view {}",
                    v.name
                )));
            }
            self.db
                .catalog
                .delete_view(xid, self.cid(), &schema, *oid)?;
        }
        Ok(ExecResult {
            tag: "DROP VIEW".into(),
            notices: missing
                .iter()
                .map(|m| format!("view \"{m}\" does not exist, skipping"))
                .collect(),
            ..Default::default()
        })
    }
}

impl Session {
    /// CREATE TYPE ... AS ENUM, ALTER TYPE and DROP TYPE.
    pub(crate) fn enum_ddl(&mut self, d: &basalt_planner::EnumDdl) -> Result<ExecResult> {
        use basalt_catalog::enums::{EnumDef, EnumLabel};
        use basalt_planner::EnumDdl;
        let xid = self.ddl_lock()?;
        let schema = self.schema()?;
        let cid = self.cid();
        let find = |oid: u32| -> Result<EnumDef> {
            schema
                .enums
                .iter()
                .find(|e| e.oid == oid)
                .map(|e| (**e).clone())
                .ok_or_else(|| ExecError::coded("42704", "type does not exist"))
        };
        let not_label =
            |l: &str| ExecError::coded("22023", format!("\"{l}\" is not an existing enum label"));
        let mut notices = Vec::new();
        let tag = match d {
            EnumDdl::Create {
                namespace,
                name,
                labels,
            } => {
                if schema
                    .enums
                    .iter()
                    .any(|e| e.namespace == *namespace && e.name == *name)
                    || schema.table(*namespace, name).is_some()
                {
                    return Err(ExecError::coded(
                        "42710",
                        format!("type \"{name}\" already exists"),
                    ));
                }
                let mut ls = Vec::with_capacity(labels.len());
                for (i, l) in labels.iter().enumerate() {
                    ls.push(EnumLabel {
                        oid: self.db.st.new_oid()?,
                        sort: (i + 1) as f32,
                        name: l.clone(),
                    });
                }
                let def = EnumDef {
                    oid: self.db.st.new_oid()?,
                    name: name.clone(),
                    namespace: *namespace,
                    owner: self.current_role,
                    labels: ls,
                    array_oid: self.db.st.new_oid()?,
                };
                self.db.catalog.put_enum(xid, cid, &schema, &def)?;
                "CREATE TYPE"
            }
            EnumDdl::AddValue {
                oid,
                label,
                place,
                if_not_exists,
            } => {
                let mut def = find(*oid)?;
                if def.labels.iter().any(|l| l.name == *label) {
                    if *if_not_exists {
                        notices.push(format!("enum label \"{label}\" already exists, skipping"));
                        return Ok(ExecResult {
                            tag: "ALTER TYPE".into(),
                            notices,
                            ..Default::default()
                        });
                    }
                    return Err(ExecError::coded(
                        "42710",
                        format!("enum label \"{label}\" already exists"),
                    ));
                }
                // A sort order between the neighbours (existing labels keep
                // theirs, so stored values keep their order).
                let at = match place {
                    None => def.labels.len(),
                    Some((before, n)) => {
                        let i = def
                            .labels
                            .iter()
                            .position(|l| l.name == *n)
                            .ok_or_else(|| not_label(n))?;
                        if *before {
                            i
                        } else {
                            i + 1
                        }
                    }
                };
                let lo = at.checked_sub(1).map(|i| def.labels[i].sort);
                let hi = def.labels.get(at).map(|l| l.sort);
                let sort = match (lo, hi) {
                    (Some(a), Some(b)) => (a + b) / 2.0,
                    (Some(a), None) => a + 1.0,
                    (None, Some(b)) => b - 1.0,
                    (None, None) => 1.0,
                };
                def.labels.insert(
                    at,
                    EnumLabel {
                        oid: self.db.st.new_oid()?,
                        sort,
                        name: label.clone(),
                    },
                );
                self.db.catalog.put_enum(xid, cid, &schema, &def)?;
                "ALTER TYPE"
            }
            EnumDdl::RenameValue { oid, from, to } => {
                let mut def = find(*oid)?;
                if def.labels.iter().any(|l| l.name == *to) {
                    return Err(ExecError::coded(
                        "42710",
                        format!("enum label \"{to}\" already exists"),
                    ));
                }
                let l = def
                    .labels
                    .iter_mut()
                    .find(|l| l.name == *from)
                    .ok_or_else(|| not_label(from))?;
                l.name = to.clone();
                self.db.catalog.put_enum(xid, cid, &schema, &def)?;
                "ALTER TYPE"
            }
            EnumDdl::Rename { oid, to } => {
                let mut def = find(*oid)?;
                def.name = to.clone();
                self.db.catalog.put_enum(xid, cid, &schema, &def)?;
                "ALTER TYPE"
            }
            EnumDdl::Drop {
                oids,
                missing,
                cascade,
            } => {
                for &oid in oids {
                    let def = find(oid)?;
                    let users: Vec<String> = schema
                        .tables
                        .iter()
                        .flat_map(|t| {
                            t.columns.iter().filter_map(move |c| {
                                let uses = c.ty == basalt_catalog::DataType::Enum(oid)
                                    || c.ty.element() == Some(basalt_catalog::DataType::Enum(oid));
                                uses.then(|| format!("column {} of table {}", c.name, t.name))
                            })
                        })
                        .collect();
                    if let Some(u) = users.first() {
                        return Err(ExecError::Coded {
                            code: if *cascade { "0A000" } else { "2BP01" },
                            msg: format!(
                                "cannot drop type {} because other objects depend on it",
                                def.name
                            ),
                            detail: Some(format!("{u} depends on type {}", def.name)),
                        });
                    }
                    self.db.catalog.delete_enum(xid, cid, &schema, oid)?;
                }
                notices.extend(
                    missing
                        .iter()
                        .map(|m| format!("type \"{m}\" does not exist, skipping")),
                );
                "DROP TYPE"
            }
        };
        Ok(ExecResult {
            tag: tag.into(),
            notices,
            ..Default::default()
        })
    }
}
