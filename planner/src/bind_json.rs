//! json and jsonb in expressions: the operators (`-> ->> #> #>> @> <@ ?
//! ?| ?& || - #-`), and the types of the json functions and of the json
//! set-returning functions.

use super::*;

fn is_json(t: &DataType) -> bool {
    matches!(t, DataType::Json | DataType::Jsonb)
}

/// The type of rows a json set-returning function gives (for the each-
/// functions, of their value column); None when `name` is not one.
pub(super) fn json_srf_type(name: &str) -> Option<DataType> {
    Some(match name {
        "jsonb_array_elements" | "jsonb_each" => DataType::Jsonb,
        "json_array_elements" | "json_each" => DataType::Json,
        "jsonb_array_elements_text"
        | "json_array_elements_text"
        | "jsonb_object_keys"
        | "json_object_keys"
        | "jsonb_each_text"
        | "json_each_text" => DataType::Text,
        _ => return None,
    })
}

impl Binder<'_> {
    /// A json operator; None when the operands are not json.
    pub(super) fn json_operator(
        &mut self,
        op: &ast::BinaryOperator,
        (x, xt): (Expr, DataType),
        (y, yt): (Expr, DataType),
    ) -> Result<Option<(Expr, DataType)>> {
        use ast::BinaryOperator as O;
        // An untyped literal on the left of a json-only operator is jsonb.
        let json_only = matches!(
            op,
            O::Arrow
                | O::LongArrow
                | O::HashArrow
                | O::HashLongArrow
                | O::Question
                | O::QuestionAnd
                | O::QuestionPipe
                | O::HashMinus
        );
        let (x, xt) = if xt == DataType::Unknown && (json_only || is_json(&yt)) {
            let to = if is_json(&yt) { yt } else { DataType::Jsonb };
            (self.coerce_to(x, xt, to)?, to)
        } else {
            (x, xt)
        };
        if !is_json(&xt) && !(is_json(&yt) && matches!(op, O::AtArrow | O::ArrowAt)) {
            return Ok(None);
        }
        let mismatch = || no_operator(&xt, op, &yt);
        let f = |n: &str, a: Vec<Expr>| Expr::Func(n.into(), a);
        let text_arr = DataType::Text.array_of();
        Ok(Some(match op {
            O::Arrow | O::LongArrow => {
                let text = *op == O::LongArrow;
                let (name, y) = if yt.is_integer() {
                    ("__json_index", self.coerce_to(y, yt, DataType::Int8)?)
                } else if yt.is_string() {
                    ("__json_field", self.coerce_to(y, yt, DataType::Text)?)
                } else {
                    return Err(mismatch());
                };
                if text {
                    (f(&format!("{name}_text"), vec![x, y]), DataType::Text)
                } else {
                    (f(name, vec![x, y]), xt)
                }
            }
            O::HashArrow | O::HashLongArrow => {
                if !(yt == DataType::Unknown || yt == text_arr || yt.is_string()) {
                    return Err(mismatch());
                }
                let y = self.coerce_to(y, yt, text_arr)?;
                if *op == O::HashLongArrow {
                    (f("__json_path_text", vec![x, y]), DataType::Text)
                } else {
                    (f("__json_path", vec![x, y]), xt)
                }
            }
            O::AtArrow | O::ArrowAt | O::StringConcat => {
                let both = |t: DataType| t == DataType::Jsonb || t == DataType::Unknown;
                if !(both(xt) && both(yt)) {
                    return Err(mismatch());
                }
                let x = self.coerce_to(x, xt, DataType::Jsonb)?;
                let y = self.coerce_to(y, yt, DataType::Jsonb)?;
                match op {
                    O::AtArrow => (f("__jsonb_contains", vec![x, y]), DataType::Bool),
                    O::ArrowAt => (f("__jsonb_contains", vec![y, x]), DataType::Bool),
                    _ => (f("__jsonb_concat", vec![x, y]), DataType::Jsonb),
                }
            }
            O::Question | O::QuestionPipe | O::QuestionAnd if xt == DataType::Jsonb => {
                let (name, to) = match op {
                    O::Question => ("__jsonb_exists", DataType::Text),
                    O::QuestionPipe => ("__jsonb_exists_any", text_arr),
                    _ => ("__jsonb_exists_all", text_arr),
                };
                let y = self.coerce_to(y, yt, to)?;
                (f(name, vec![x, y]), DataType::Bool)
            }
            O::Minus if xt == DataType::Jsonb => {
                let (name, y) = if yt.is_integer() {
                    (
                        "__jsonb_delete_index",
                        self.coerce_to(y, yt, DataType::Int8)?,
                    )
                } else if matches!(yt, DataType::Array(_)) {
                    ("__jsonb_delete_keys", self.coerce_to(y, yt, text_arr)?)
                } else if yt.is_string() {
                    ("__jsonb_delete", self.coerce_to(y, yt, DataType::Text)?)
                } else {
                    return Err(mismatch());
                };
                (f(name, vec![x, y]), DataType::Jsonb)
            }
            O::HashMinus if xt == DataType::Jsonb => {
                let y = self.coerce_to(y, yt, text_arr)?;
                (f("__jsonb_delete_path", vec![x, y]), DataType::Jsonb)
            }
            _ => return Err(mismatch()),
        }))
    }

    /// The json functions: their types, with untyped arguments made text
    /// (or jsonb where a jsonb goes). None when `name` is not one.
    pub(super) fn json_function(
        &mut self,
        name: &str,
        args: Vec<(Expr, DataType)>,
    ) -> Result<Option<(Expr, DataType)>> {
        let sig = || {
            PlanError::UndefinedFunction(format!(
                "function {name}({}) does not exist",
                args.iter()
                    .map(|a| a.1.display_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        let (ret, json_args): (DataType, &[usize]) = match name {
            "to_json" | "json_build_object" | "json_build_array" => (DataType::Json, &[]),
            "to_jsonb" | "jsonb_build_object" | "jsonb_build_array" => (DataType::Jsonb, &[]),
            "jsonb_typeof" | "jsonb_pretty" => (DataType::Text, &[0]),
            "json_typeof" => (DataType::Text, &[0]),
            "jsonb_array_length" | "json_array_length" => (DataType::Int4, &[0]),
            "jsonb_extract_path" => (DataType::Jsonb, &[0]),
            "json_extract_path" => (DataType::Json, &[0]),
            "jsonb_extract_path_text" | "json_extract_path_text" => (DataType::Text, &[0]),
            "jsonb_strip_nulls" => (DataType::Jsonb, &[0]),
            "json_strip_nulls" => (DataType::Json, &[0]),
            "jsonb_set" => (DataType::Jsonb, &[0, 2]),
            _ => return Ok(None),
        };
        if matches!(name, "to_json" | "to_jsonb") && args.len() != 1 {
            return Err(sig());
        }
        if name == "jsonb_set" && !(3..=4).contains(&args.len()) {
            return Err(sig());
        }
        let w = if name.starts_with("jsonb") {
            DataType::Jsonb
        } else {
            DataType::Json
        };
        let mut out = Vec::with_capacity(args.len());
        for (k, (x, t)) in args.iter().cloned().enumerate() {
            let x = if json_args.contains(&k) {
                if t == DataType::Unknown || t == w {
                    self.coerce_to(x, t, w)?
                } else if is_json(&t) && name.starts_with("jsonb") == (t == DataType::Jsonb) {
                    x
                } else {
                    return Err(sig());
                }
            } else if name == "jsonb_set" && k == 1 {
                self.coerce_to(x, t, DataType::Text.array_of())?
            } else if t == DataType::Unknown {
                self.coerce_to(x, t, DataType::Text)?
            } else {
                x
            };
            out.push(x);
        }
        Ok(Some((Expr::Func(name.into(), out), ret)))
    }
}
