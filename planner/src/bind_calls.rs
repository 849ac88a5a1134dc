//! Calls bound specially: window functions (OVER), set-returning
//! functions in a SELECT list, and sequence functions.

use super::*;

impl Binder<'_> {
    /// `name(args) OVER (...)` in a SELECT list: the call is collected for
    /// the Window node and stands for its result column.
    pub(super) fn window_call(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        distinct: bool,
        star: bool,
        over: &ast::WindowType,
        scope: &Scope,
    ) -> Result<(Expr, DataType)> {
        let Some(calls) = self.windows.take() else {
            return Err(PlanError::Windowing(format!(
                "window functions are not allowed {}",
                self.window_where
            )));
        };
        let r = self.window_call_inner(name, args, distinct, star, over, scope);
        let mut calls = calls;
        let r = r.map(|c| {
            let ty = c.ty;
            calls.push(c);
            (Expr::Column(WINDOW_BASE + calls.len() - 1), ty)
        });
        self.windows = Some(calls);
        r
    }

    /// The window an OVER clause means: its own spec, a named window, or
    /// a named window extended (`OVER (w ORDER BY x)`).
    pub(super) fn window_spec(&self, over: &ast::WindowType) -> Result<ast::WindowSpec> {
        let named = |n: &ast::Ident| -> Result<ast::WindowSpec> {
            let name = ident(n);
            self.named_windows
                .iter()
                .find(|(w, _)| *w == name)
                .map(|(_, s)| s.clone())
                .ok_or_else(|| {
                    PlanError::UndefinedObject(format!("window \"{name}\" does not exist"))
                })
        };
        match over {
            ast::WindowType::NamedWindow(n) => named(n),
            ast::WindowType::WindowSpec(spec) => match &spec.window_name {
                None => Ok(spec.clone()),
                Some(n) => {
                    let mut base = named(n)?;
                    if !spec.order_by.is_empty() {
                        base.order_by = spec.order_by.clone();
                    }
                    if spec.window_frame.is_some() {
                        base.window_frame = spec.window_frame.clone();
                    }
                    Ok(base)
                }
            },
        }
    }

    pub(super) fn window_call_inner(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        distinct: bool,
        star: bool,
        over: &ast::WindowType,
        scope: &Scope,
    ) -> Result<WindowCall> {
        let spec = self.window_spec(over)?;
        let spec = &spec;
        if distinct {
            return not_supported("DISTINCT is not implemented for window functions");
        }
        let mut bound = Vec::new();
        let mut types = Vec::new();
        for a in args {
            let (x, t) = self.expr(a, scope)?;
            bound.push(x);
            types.push(t);
        }
        let mut partition = Vec::new();
        for e in &spec.partition_by {
            partition.push(self.expr(e, scope)?.0);
        }
        let mut order = Vec::new();
        let mut order_types = Vec::new();
        for o in &spec.order_by {
            let desc = o.options.asc == Some(false);
            let (x, t) = self.expr(&o.expr, scope)?;
            order.push(SortKey {
                expr: x,
                desc,
                nulls_first: o.options.nulls_first.unwrap_or(desc),
            });
            order_types.push(t);
        }
        let bound_of = |b: &ast::WindowFrameBound, start: bool| -> Result<FrameBound> {
            let off = |e: &Option<Box<ast::Expr>>| -> Result<Option<i64>> {
                match e {
                    None => Ok(None),
                    Some(e) => e
                        .to_string()
                        .parse::<i64>()
                        .map(Some)
                        .map_err(|_| PlanError::NotSupported(format!("frame offset {e}"))),
                }
            };
            Ok(match b {
                ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                ast::WindowFrameBound::Preceding(e) => match off(e)? {
                    None => FrameBound::UnboundedPreceding,
                    Some(n) => FrameBound::Preceding(n),
                },
                ast::WindowFrameBound::Following(e) => match off(e)? {
                    None if start => {
                        return Err(PlanError::Syntax(
                            "frame start cannot be UNBOUNDED FOLLOWING".into(),
                        ))
                    }
                    None => FrameBound::UnboundedFollowing,
                    Some(n) => FrameBound::Following(n),
                },
            })
        };
        let frame = match &spec.window_frame {
            None => WindowFrame {
                rows: false,
                groups: false,
                start: FrameBound::UnboundedPreceding,
                end: FrameBound::CurrentRow,
            },
            Some(f) => {
                let (rows, groups) = match f.units {
                    ast::WindowFrameUnits::Rows => (true, false),
                    ast::WindowFrameUnits::Range => (false, false),
                    ast::WindowFrameUnits::Groups => (false, true),
                };
                let start = bound_of(&f.start_bound, true)?;
                let end = match &f.end_bound {
                    Some(b) => bound_of(b, false)?,
                    None => FrameBound::CurrentRow,
                };
                let offsets = matches!(start, FrameBound::Preceding(_) | FrameBound::Following(_))
                    || matches!(end, FrameBound::Preceding(_) | FrameBound::Following(_));
                if offsets && !rows {
                    if groups && order.is_empty() {
                        return Err(PlanError::Syntax(
                            "GROUPS mode requires an ORDER BY clause".into(),
                        ));
                    }
                    if !groups && (order.len() != 1 || !order_types[0].is_numeric()) {
                        if order.len() != 1 {
                            return Err(PlanError::Syntax(
                                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column".into(),
                            ));
                        }
                        return not_supported(format!(
                            "RANGE with offset PRECEDING/FOLLOWING over {}",
                            order_types[0].display_name()
                        ));
                    }
                }
                for b in [start, end] {
                    if let FrameBound::Preceding(n) | FrameBound::Following(n) = b {
                        if n < 0 {
                            return Err(PlanError::Coded(
                                "22013",
                                "frame starting offset must not be negative".into(),
                            ));
                        }
                    }
                }
                WindowFrame {
                    rows,
                    groups,
                    start,
                    end,
                }
            }
        };
        let first = || types.first().copied().unwrap_or(DataType::Int8);
        let need = |n: std::ops::RangeInclusive<usize>| -> Result<()> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(PlanError::UndefinedFunction(format!(
                    "function {name} with {} arguments does not exist",
                    args.len()
                )))
            }
        };
        let (func, ty, agg) = match name {
            "row_number" => (WindowFunc::RowNumber, DataType::Int8, None),
            "rank" => (WindowFunc::Rank, DataType::Int8, None),
            "dense_rank" => (WindowFunc::DenseRank, DataType::Int8, None),
            "percent_rank" => (WindowFunc::PercentRank, DataType::Float8, None),
            "cume_dist" => (WindowFunc::CumeDist, DataType::Float8, None),
            "ntile" => {
                need(1..=1)?;
                (WindowFunc::Ntile, DataType::Int4, None)
            }
            "lag" | "lead" => {
                need(1..=3)?;
                let t = first();
                if let Some(d) = bound.get_mut(2) {
                    *d = Expr::Cast(Box::new(d.clone()), t);
                }
                let f = if name == "lag" {
                    WindowFunc::Lag
                } else {
                    WindowFunc::Lead
                };
                (f, t, None)
            }
            "first_value" => {
                need(1..=1)?;
                (WindowFunc::FirstValue, first(), None)
            }
            "last_value" => {
                need(1..=1)?;
                (WindowFunc::LastValue, first(), None)
            }
            "nth_value" => {
                need(2..=2)?;
                (WindowFunc::NthValue, first(), None)
            }
            other => match is_agg_name(other) {
                Some(f) => {
                    let (f, ty) = agg_type(f, star || args.is_empty(), &types)?;
                    let call = AggCall {
                        func: f,
                        args: bound.clone(),
                        distinct: false,
                        ty,
                        order: vec![],
                        filter: None,
                    };
                    (WindowFunc::Agg(f), ty, Some(call))
                }
                None => {
                    return Err(PlanError::UndefinedFunction(format!(
                        "function {other} is not a window function"
                    )))
                }
            },
        };
        Ok(WindowCall {
            func,
            args: bound,
            partition,
            order,
            frame,
            agg,
            ty: if ty == DataType::Unknown {
                DataType::Text
            } else {
                ty
            },
        })
    }

    /// generate_series(...) in a SELECT list: collected for the ProjectSet
    /// node, standing for its column.
    pub(super) fn srf_call(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        scope: &Scope,
    ) -> Result<(Expr, DataType)> {
        let mut bound = Vec::new();
        let mut types = Vec::new();
        for a in args {
            let (x, t) = self.expr(a, scope)?;
            let (x, t) = super::bind_arrays::devector(x, t);
            bound.push(x);
            types.push(t);
        }
        if name == "pg_listening_channels" {
            let calls = self.srfs.as_mut().expect("checked by the caller");
            calls.push((
                "unnest".to_string(),
                vec![Expr::Func("__listening_channels".into(), vec![])],
            ));
            return Ok((Expr::Column(SRF_BASE + calls.len() - 1), DataType::Text));
        }
        if name == "_pg_expandarray" {
            if bound.len() != 1 || !matches!(types[0], DataType::Array(_)) {
                return Err(no_such_function("_pg_expandarray", &types));
            }
            let calls = self.srfs.as_mut().expect("checked by the caller");
            calls.push((name.to_string(), vec![bound[0].clone()]));
            return Ok((
                Expr::Column(SRF_BASE + calls.len() - 1),
                DataType::ExpandRecord,
            ));
        }
        if name == "generate_subscripts" {
            if !(2..=3).contains(&bound.len()) || !matches!(types[0], DataType::Array(_)) {
                return Err(no_such_function("generate_subscripts", &types));
            }
            let mut args = vec![bound[0].clone()];
            for (x, t) in bound.iter().zip(&types).skip(1) {
                let want = if args.len() == 1 {
                    DataType::Int4
                } else {
                    DataType::Bool
                };
                args.push(self.coerce_to(x.clone(), *t, want)?);
            }
            let calls = self.srfs.as_mut().expect("checked by the caller");
            calls.push((name.to_string(), args));
            return Ok((Expr::Column(SRF_BASE + calls.len() - 1), DataType::Int4));
        }
        if name == "regexp_matches" {
            if !(2..=3).contains(&bound.len()) {
                return Err(PlanError::UndefinedFunction(
                    "function regexp_matches takes two or three arguments".into(),
                ));
            }
            let args = bound
                .into_iter()
                .zip(types)
                .map(|(x, t)| self.coerce_to(x, t, DataType::Text))
                .collect::<Result<Vec<_>>>()?;
            let calls = self.srfs.as_mut().expect("checked by the caller");
            calls.push((name.to_string(), args));
            return Ok((
                Expr::Column(SRF_BASE + calls.len() - 1),
                DataType::Text.array_of(),
            ));
        }
        if let Some(ty) = bind_json::json_srf_type(name) {
            if name.contains("each") {
                return not_supported(format!("{name} in a SELECT list (use it in FROM)"));
            }
            let [x] = bound.as_slice() else {
                return Err(PlanError::UndefinedFunction(format!(
                    "function {name} takes one argument"
                )));
            };
            let want = if name.starts_with("jsonb") {
                DataType::Jsonb
            } else {
                DataType::Json
            };
            let x = self.coerce_to(x.clone(), types[0], want)?;
            let calls = self.srfs.as_mut().expect("checked by the caller");
            calls.push((name.to_string(), vec![x]));
            return Ok((Expr::Column(SRF_BASE + calls.len() - 1), ty));
        }
        if name == "unnest" {
            let (x, ty) = self.unnest_arg(bound, types)?;
            let calls = self.srfs.as_mut().expect("checked by the caller");
            calls.push((name.to_string(), vec![x]));
            return Ok((Expr::Column(SRF_BASE + calls.len() - 1), ty));
        }
        let (bound, ty) = series_args(bound, &types)?;
        let calls = self.srfs.as_mut().expect("checked by the caller");
        calls.push((name.to_string(), bound));
        Ok((Expr::Column(SRF_BASE + calls.len() - 1), ty))
    }

    /// unnest's one argument and the type of its rows.
    pub(super) fn unnest_arg(
        &mut self,
        bound: Vec<Expr>,
        types: Vec<DataType>,
    ) -> Result<(Expr, DataType)> {
        let (bound, types): (Vec<Expr>, Vec<DataType>) = bound
            .into_iter()
            .zip(types)
            .map(|(x, t)| super::bind_arrays::devector(x, t))
            .unzip();
        match (bound.as_slice(), types.as_slice()) {
            ([x], [t @ DataType::Array(_)]) => {
                Ok((x.clone(), t.element().unwrap_or(DataType::Text)))
            }
            ([x], [t]) if t.is_string() && *t != DataType::Unknown => {
                Ok((x.clone(), DataType::Text))
            }
            ([_], [DataType::Unknown]) => Err(PlanError::Coded(
                "42804",
                "could not determine polymorphic type because input has type unknown".into(),
            )),
            _ => Err(PlanError::UndefinedFunction(format!(
                "function unnest({}) does not exist",
                types
                    .iter()
                    .map(|t| t.display_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// nextval/currval/setval: a sequence named by a constant is found now
    /// (its OID goes in the call); a computed name is looked up when run.
    pub(super) fn sequence_call(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        scope: &Scope,
    ) -> Result<(Expr, DataType)> {
        let mut first = &args[0];
        while let ast::Expr::Cast { expr, .. } | ast::Expr::Nested(expr) = first {
            first = expr;
        }
        let target = match first {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(n) => {
                    let parts: Vec<String> = n
                        .split('.')
                        .map(|p| {
                            if p.contains('"') {
                                p.trim_matches('"').to_string()
                            } else {
                                p.to_lowercase()
                            }
                        })
                        .collect();
                    let base = parts.last().cloned().unwrap_or_default();
                    match self.resolve(&parts, |ns, x| self.schema.sequence(ns, x).cloned())? {
                        Some(sq) => Expr::Literal(Value::Int8(sq.oid as i64)),
                        None => return Err(PlanError::UndefinedTable(base)),
                    }
                }
                _ => self.expr(&args[0], scope)?.0,
            },
            _ => self.expr(&args[0], scope)?.0,
        };
        let mut bound = vec![target];
        for (i, a) in args[1..].iter().enumerate() {
            let (x, t) = self.expr(a, scope)?;
            let want = if i == 0 {
                DataType::Int8
            } else {
                DataType::Bool
            };
            bound.push(if t == want {
                x
            } else {
                Expr::Cast(Box::new(x), want)
            });
        }
        Ok((Expr::Func(name.to_string(), bound), DataType::Int8))
    }
}

/// generate_series's arguments cast to the series' type (the step of a
/// timestamp series to interval), and that type.
pub(crate) fn series_args(bound: Vec<Expr>, types: &[DataType]) -> Result<(Vec<Expr>, DataType)> {
    let int = |t: &DataType| t.is_integer() || *t == DataType::Unknown;
    let step_ok = |t: &DataType| matches!(t, DataType::Interval | DataType::Unknown);
    let ty = match types {
        [a, b] | [a, b, _] if int(a) && int(b) && types.iter().all(int) => {
            if types.contains(&DataType::Int8) {
                DataType::Int8
            } else {
                DataType::Int4
            }
        }
        [a, b] | [a, b, _]
            if (a.is_numeric() || *a == DataType::Unknown)
                && (b.is_numeric() || *b == DataType::Unknown)
                && types
                    .iter()
                    .all(|t| t.is_numeric() || *t == DataType::Unknown) =>
        {
            DataType::Numeric(None)
        }
        // A date goes to timestamptz, the preferred type, as in PostgreSQL.
        [DataType::Timestamp, _, s] if step_ok(s) => DataType::Timestamp,
        [DataType::TimestampTz | DataType::Date, _, s] if step_ok(s) => DataType::TimestampTz,
        [DataType::Unknown, DataType::Timestamp, s] if step_ok(s) => DataType::Timestamp,
        [DataType::Unknown, DataType::TimestampTz | DataType::Unknown, s] if step_ok(s) => {
            DataType::TimestampTz
        }
        _ => {
            return Err(PlanError::UndefinedFunction(format!(
                "function generate_series({}) does not exist",
                types
                    .iter()
                    .map(|t| t.display_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let bound = bound
        .into_iter()
        .zip(types)
        .enumerate()
        .map(|(i, (x, t))| {
            let want = if i == 2 && ty != DataType::Numeric(None) && !ty.is_integer() {
                DataType::Interval
            } else {
                ty
            };
            if *t == want {
                x
            } else {
                Expr::Cast(Box::new(x), want)
            }
        })
        .collect();
    Ok((bound, ty))
}

/// 42883 for a function that takes no such arguments.
fn no_such_function(name: &str, types: &[DataType]) -> PlanError {
    PlanError::UndefinedFunction(format!(
        "function {name}({}) does not exist",
        types
            .iter()
            .map(|t| t.display_name())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
