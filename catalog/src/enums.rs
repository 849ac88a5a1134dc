//! Enum types (CREATE TYPE ... AS ENUM): their labels, each with an OID
//! (what rows store) and a sort order (what comparisons use), as in
//! PostgreSQL's pg_enum.
//!
//! Values are shown, read and compared in code that has no catalog at
//! hand, so the session makes its schema's enums known to the thread that
//! works for it (see `set`), as it does with its time zone.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct EnumLabel {
    pub oid: u32,
    pub sort: f32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub owner: u32,
    /// In sort order.
    pub labels: Vec<EnumLabel>,
    /// The OID of the array type over it (`_name`).
    pub array_oid: u32,
}

/// The enums of a schema, indexed for lookups by label OID and by name.
#[derive(Debug, Default)]
pub struct Registry {
    pub types: Vec<Arc<EnumDef>>,
    by_label: HashMap<u32, (usize, usize)>,
}

impl Registry {
    pub fn new(types: Vec<Arc<EnumDef>>) -> Registry {
        let mut by_label = HashMap::new();
        for (ti, t) in types.iter().enumerate() {
            for (li, l) in t.labels.iter().enumerate() {
                by_label.insert(l.oid, (ti, li));
            }
        }
        Registry { types, by_label }
    }

    pub fn label(&self, oid: u32) -> Option<(&EnumDef, &EnumLabel)> {
        let &(t, l) = self.by_label.get(&oid)?;
        Some((&self.types[t], &self.types[t].labels[l]))
    }
}

thread_local! {
    static REGISTRY: RefCell<Option<Arc<Registry>>> = const { RefCell::new(None) };
}

/// Makes a schema's enums the ones this thread knows.
pub fn set(r: Option<Arc<Registry>>) {
    REGISTRY.with(|c| *c.borrow_mut() = r);
}

fn with<R>(f: impl FnOnce(&Registry) -> Option<R>) -> Option<R> {
    REGISTRY.with(|c| c.borrow().as_ref().and_then(|r| f(r)))
}

/// A label's (type OID, sort order, text).
pub fn label(oid: u32) -> Option<(u32, f32, String)> {
    with(|r| r.label(oid).map(|(t, l)| (t.oid, l.sort, l.name.clone())))
}

/// The array type OID over an enum type, and the enum type an array OID
/// is over.
pub fn array_oid(oid: u32) -> Option<u32> {
    with(|r| r.types.iter().find(|t| t.oid == oid).map(|t| t.array_oid))
}
pub fn of_array_oid(oid: u32) -> Option<u32> {
    with(|r| {
        r.types
            .iter()
            .find(|t| t.array_oid == oid && oid != 0)
            .map(|t| t.oid)
    })
}

/// An enum type's name.
pub fn type_name(oid: u32) -> Option<String> {
    with(|r| {
        r.types
            .iter()
            .find(|t| t.oid == oid)
            .map(|t| t.name.clone())
    })
}

/// An enum type by name (in the schemas `ns` lists, in order).
pub fn type_named(name: &str, ns: &[u32]) -> Option<u32> {
    with(|r| {
        ns.iter().find_map(|n| {
            r.types
                .iter()
                .find(|t| t.namespace == *n && t.name == name)
                .map(|t| t.oid)
        })
    })
}

/// Any enum type by name.
pub fn type_named_anywhere(name: &str) -> Option<u32> {
    with(|r| r.types.iter().find(|t| t.name == name).map(|t| t.oid))
}

/// The label OID of `text` in an enum type.
pub fn parse(type_oid: u32, text: &str) -> Option<u32> {
    with(|r| {
        r.types
            .iter()
            .find(|t| t.oid == type_oid)?
            .labels
            .iter()
            .find(|l| l.name == text)
            .map(|l| l.oid)
    })
}
