//! Arrays in expressions: ARRAY[...] and ARRAY(subquery), subscripts and
//! slices, the array operators, and the argument types of the array
//! functions (their element arguments take the array's element type).

use super::*;

impl Binder<'_> {
    /// Gives an expression the type `to`: literals are converted now, an
    /// untyped parameter takes the type, anything else is cast when run.
    pub(super) fn coerce_to(&mut self, x: Expr, t: DataType, to: DataType) -> Result<Expr> {
        if t == to {
            return Ok(x);
        }
        Ok(match x {
            Expr::Literal(v) => Expr::Literal(cast::cast(v, &to)?),
            Expr::Param(i) if t == DataType::Unknown => {
                self.params[i] = to;
                Expr::Param(i)
            }
            other => Expr::Cast(Box::new(other), to),
        })
    }

    /// ARRAY[a, b, ...]: the items' common type; items that are arrays
    /// make one more dimension.
    pub(super) fn array_constructor(
        &mut self,
        elems: &[ast::Expr],
        scope: &Scope,
    ) -> Result<(Expr, DataType)> {
        if elems.is_empty() {
            return Err(PlanError::Coded(
                "42P18",
                "cannot determine type of empty array".into(),
            ));
        }
        let mut bound = Vec::with_capacity(elems.len());
        for e in elems {
            bound.push(self.expr(e, scope)?);
        }
        let nested = bound.iter().any(|(_, t)| matches!(t, DataType::Array(_)));
        let mut elem = DataType::Unknown;
        for (_, t) in &bound {
            let e = if nested {
                t.element().unwrap_or(DataType::Unknown)
            } else {
                *t
            };
            elem = common_type(elem, e).map_err(|_| {
                PlanError::DatatypeMismatch(format!(
                    "ARRAY types {} and {} cannot be matched",
                    elem.display_name(),
                    e.display_name()
                ))
            })?;
        }
        if elem == DataType::Unknown {
            elem = DataType::Text;
        }
        let item_ty = if nested { elem.array_of() } else { elem };
        let mut items = Vec::with_capacity(bound.len());
        for (x, t) in bound {
            items.push(self.coerce_to(x, t, item_ty)?);
        }
        let ty = elem.array_of();
        Ok((
            Expr::Cast(Box::new(Expr::Func("__array".into(), items)), ty),
            ty,
        ))
    }

    /// `x[i]`, `x[i][j]`, `x[lo:hi]` on an array (or the text form of one,
    /// whose elements take the type their use asks for).
    pub(super) fn subscripts(
        &mut self,
        x: Expr,
        ty: DataType,
        chain: &[ast::AccessExpr],
        scope: &Scope,
    ) -> Result<(Expr, DataType)> {
        let (mut x, mut ty) = devector(x, ty);
        let mut k = 0;
        while k < chain.len() {
            match &chain[k] {
                // name[i]: PostgreSQL's name is an array of characters from 0.
                ast::AccessExpr::Subscript(ast::Subscript::Index { index })
                    if ty == DataType::Name =>
                {
                    let (i, it) = self.expr(index, scope)?;
                    let i = self.int_index(i, it)?;
                    let from = Expr::Binary(
                        BinOp::Add,
                        Box::new(i),
                        Box::new(Expr::Literal(Value::Int4(1))),
                    );
                    x = Expr::Func(
                        "substr".into(),
                        vec![x, from, Expr::Literal(Value::Int4(1))],
                    );
                    ty = DataType::Text;
                    k += 1;
                }
                ast::AccessExpr::Subscript(ast::Subscript::Index { .. }) => {
                    let mut args = vec![x];
                    while let Some(ast::AccessExpr::Subscript(ast::Subscript::Index { index })) =
                        chain.get(k)
                    {
                        let (i, it) = self.expr(index, scope)?;
                        args.push(self.int_index(i, it)?);
                        k += 1;
                    }
                    x = Expr::Func("__subscript".into(), args);
                    ty = match ty {
                        DataType::Array(_) => ty.element().unwrap_or(DataType::Text),
                        _ => DataType::Unknown,
                    };
                }
                ast::AccessExpr::Subscript(ast::Subscript::Slice {
                    lower_bound,
                    upper_bound,
                    stride: None,
                }) => {
                    let mut args = vec![x];
                    for b in [lower_bound, upper_bound] {
                        args.push(match b {
                            Some(e) => {
                                let (i, it) = self.expr(e, scope)?;
                                self.int_index(i, it)?
                            }
                            None => Expr::Literal(Value::Null),
                        });
                    }
                    x = Expr::Func("__slice".into(), args);
                    if !matches!(ty, DataType::Array(_)) {
                        ty = DataType::Text.array_of();
                    }
                    k += 1;
                }
                // (_pg_expandarray(a)).x / .n
                ast::AccessExpr::Dot(ast::Expr::Identifier(f)) if ty == DataType::ExpandRecord => {
                    let pos = match ident(f).as_str() {
                        "x" => 1,
                        "n" => 2,
                        other => {
                            return Err(PlanError::UndefinedColumn(format!(
                                "column \"{other}\" not found in data type record"
                            )))
                        }
                    };
                    x = Expr::Func(
                        "__subscript".into(),
                        vec![x, Expr::Literal(Value::Int4(pos))],
                    );
                    ty = DataType::Int4;
                    k += 1;
                }
                other => return not_supported(format!("access {other}")),
            }
        }
        Ok((x, ty))
    }

    fn int_index(&mut self, i: Expr, t: DataType) -> Result<Expr> {
        if !(t.is_integer() || t == DataType::Unknown) {
            return Err(PlanError::DatatypeMismatch(format!(
                "array subscript must have type integer, not {}",
                t.display_name()
            )));
        }
        self.coerce_to(i, t, DataType::Int4)
    }

    /// `||`, `@>`, `<@` and `&&` when an operand is an array; None when
    /// neither is.
    pub(super) fn array_operator(
        &mut self,
        op: &ast::BinaryOperator,
        (x, xt): (Expr, DataType),
        (y, yt): (Expr, DataType),
    ) -> Result<Option<(Expr, DataType)>> {
        use ast::BinaryOperator as O;
        let (xa, ya) = (
            matches!(xt, DataType::Array(_)),
            matches!(yt, DataType::Array(_)),
        );
        if !xa && !ya {
            return Ok(None);
        }
        // An untyped literal beside an array is an array of its type.
        let (x, xt) = if xt == DataType::Unknown {
            (self.coerce_to(x, xt, yt)?, yt)
        } else {
            (x, xt)
        };
        let (y, yt) = if yt == DataType::Unknown {
            (self.coerce_to(y, yt, xt)?, xt)
        } else {
            (y, yt)
        };
        let (xa, ya) = (
            matches!(xt, DataType::Array(_)),
            matches!(yt, DataType::Array(_)),
        );
        let mismatch = || no_operator(&xt, op, &yt);
        let func = |n: &str, a: Vec<Expr>| Expr::Func(n.into(), a);
        Ok(Some(match op {
            O::StringConcat => match (xa, ya) {
                (true, true) => {
                    let (ex, ey) = (xt.element(), yt.element());
                    let e = common_type(ex.unwrap_or(DataType::Text), ey.unwrap_or(DataType::Text))
                        .map_err(|_| mismatch())?;
                    let at = e.array_of();
                    let x = self.coerce_to(x, xt, at)?;
                    let y = self.coerce_to(y, yt, at)?;
                    (func("__array_concat", vec![x, y]), at)
                }
                (true, false) => {
                    let e = xt.element().unwrap_or(DataType::Text);
                    let y = self.element_arg(y, yt, e).map_err(|_| mismatch())?;
                    (func("array_append", vec![x, y]), xt)
                }
                _ => {
                    let e = yt.element().unwrap_or(DataType::Text);
                    let x = self.element_arg(x, xt, e).map_err(|_| mismatch())?;
                    (func("array_prepend", vec![x, y]), yt)
                }
            },
            O::AtArrow | O::ArrowAt | O::PGOverlap if xa && ya => {
                let name = match op {
                    O::AtArrow => "__array_contains",
                    O::ArrowAt => "__array_contained",
                    _ => "__array_overlap",
                };
                if !comparable(
                    &xt.element().unwrap_or(DataType::Text),
                    &yt.element().unwrap_or(DataType::Text),
                ) {
                    return Err(mismatch());
                }
                (func(name, vec![x, y]), DataType::Bool)
            }
            _ => return Err(mismatch()),
        }))
    }

    /// An argument that must be an element of an array of `elem`.
    fn element_arg(&mut self, x: Expr, t: DataType, elem: DataType) -> Result<Expr> {
        if t != DataType::Unknown && t != elem && !comparable(&t, &elem) {
            return Err(PlanError::UndefinedFunction(format!(
                "{} is not an element of {}",
                t.display_name(),
                elem.array_of().display_name()
            )));
        }
        self.coerce_to(x, t, elem)
    }

    /// The array functions: their types, with element arguments coerced to
    /// the array's element type. None when `name` is not one.
    pub(super) fn array_function(
        &mut self,
        name: &str,
        mut args: Vec<(Expr, DataType)>,
    ) -> Result<Option<(Expr, DataType)>> {
        let sig: Vec<String> = args.iter().map(|a| a.1.display_name()).collect();
        let undefined = || {
            PlanError::UndefinedFunction(format!(
                "function {name}({}) does not exist",
                sig.join(", ")
            ))
        };
        let arity = |lo: usize, hi: usize, args: &[(Expr, DataType)]| -> Result<()> {
            if args.len() < lo || args.len() > hi {
                return Err(undefined());
            }
            Ok(())
        };
        // The array argument at `k`: an array, an untyped literal (taken
        // as an array of `hint`), or the text form of a catalog array.
        let array_at =
            |this: &mut Self, args: &mut [(Expr, DataType)], k: usize, hint: DataType| {
                let (x, t) = args[k].clone();
                let at = match t {
                    DataType::Array(_) => t,
                    DataType::Unknown => {
                        if hint == DataType::Unknown {
                            DataType::Text.array_of()
                        } else {
                            hint.array_of()
                        }
                    }
                    t if t.is_string() => t,
                    _ => return Err(undefined()),
                };
                args[k] = (this.coerce_to(x, t, at)?, at);
                Ok::<DataType, PlanError>(at)
            };
        let elem_of = |t: DataType| t.element().unwrap_or(DataType::Text);
        let ret = match name {
            "array_length" | "array_upper" | "array_lower" => {
                arity(2, 2, &args)?;
                array_at(self, &mut args, 0, DataType::Unknown)?;
                let (x, t) = args[1].clone();
                args[1] = (self.int_index(x, t)?, DataType::Int4);
                DataType::Int4
            }
            "cardinality" | "array_ndims" | "array_dims" => {
                arity(1, 1, &args)?;
                array_at(self, &mut args, 0, DataType::Unknown)?;
                if name == "array_dims" {
                    DataType::Text
                } else {
                    DataType::Int4
                }
            }
            "array_to_string" => {
                arity(2, 3, &args)?;
                array_at(self, &mut args, 0, DataType::Unknown)?;
                DataType::Text
            }
            "string_to_array" => {
                arity(2, 3, &args)?;
                DataType::Text.array_of()
            }
            "__array_set" => {
                // UPDATE ... SET a[i] = v: (array, subscript, value).
                arity(3, 3, &args)?;
                let hint = args[2].1;
                let at = array_at(self, &mut args, 0, hint)?;
                let (i, it) = args[1].clone();
                args[1] = (self.coerce_to(i, it, DataType::Int4)?, DataType::Int4);
                let (x, t) = args[2].clone();
                args[2] = (self.element_arg(x, t, elem_of(at))?, elem_of(at));
                at
            }
            "array_append" | "array_prepend" => {
                arity(2, 2, &args)?;
                let (ak, ek) = if name == "array_append" {
                    (0, 1)
                } else {
                    (1, 0)
                };
                let hint = args[ek].1;
                let at = array_at(self, &mut args, ak, hint)?;
                let (x, t) = args[ek].clone();
                args[ek] = (self.element_arg(x, t, elem_of(at))?, elem_of(at));
                at
            }
            "array_cat" => {
                arity(2, 2, &args)?;
                let hint = args[1].1.element().unwrap_or(DataType::Unknown);
                let a0 = array_at(self, &mut args, 0, hint)?;
                let a1 = array_at(self, &mut args, 1, elem_of(a0))?;
                let at = common_type(elem_of(a0), elem_of(a1))?.array_of();
                for a in args.iter_mut() {
                    let (x, t) = a.clone();
                    *a = (self.coerce_to(x, t, at)?, at);
                }
                at
            }
            "array_position" | "array_positions" | "array_remove" | "array_replace" => {
                let n = if name == "array_replace" { 3 } else { 2 };
                let hi = if name == "array_position" { 3 } else { n };
                arity(n, hi, &args)?;
                let hint = args[1].1;
                let at = array_at(self, &mut args, 0, hint)?;
                for k in 1..n {
                    let (x, t) = args[k].clone();
                    args[k] = (self.element_arg(x, t, elem_of(at))?, elem_of(at));
                }
                if let Some((x, t)) = args.get(2).cloned().filter(|_| n == 2) {
                    args[2] = (self.int_index(x, t)?, DataType::Int4);
                }
                match name {
                    "array_position" => DataType::Int4,
                    "array_positions" => DataType::Int4.array_of(),
                    _ => at,
                }
            }
            _ => return Ok(None),
        };
        let args = args
            .into_iter()
            .map(|(x, t)| {
                if t == DataType::Unknown {
                    Expr::Cast(Box::new(x), DataType::Text)
                } else {
                    x
                }
            })
            .collect();
        Ok(Some((Expr::Func(name.into(), args), ret)))
    }
}

/// An int2vector or oidvector read as an array (its subscripts start at
/// 0); any other expression as it is.
pub(super) fn devector(x: Expr, t: DataType) -> (Expr, DataType) {
    let elem = match t {
        DataType::Int2Vector => DataType::Int2,
        DataType::OidVector => DataType::Oid,
        _ => return (x, t),
    };
    (
        Expr::Func(
            "__vector_array".into(),
            vec![x, Expr::Literal(Value::Bool(elem == DataType::Oid))],
        ),
        elem.array_of(),
    )
}
