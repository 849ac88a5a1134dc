//! Regular expressions for `~`, `~*` and friends, compiled once per pattern
//! text and cached per thread (catalog queries repeat the same patterns).

use std::cell::RefCell;
use std::collections::HashMap;

pub struct Regex(regex::Regex);

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), regex::Regex>> = RefCell::new(HashMap::new());
}

impl Regex {
    pub fn new(pat: &str, ci: bool) -> Result<Regex, String> {
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if let Some(r) = c.get(&(pat.to_string(), ci)) {
                return Ok(Regex(r.clone()));
            }
            let r = regex::RegexBuilder::new(pat)
                .case_insensitive(ci)
                .build()
                .map_err(|e| format!("invalid regular expression: {e}"))?;
            if c.len() > 256 {
                c.clear();
            }
            c.insert((pat.to_string(), ci), r.clone());
            Ok(Regex(r))
        })
    }
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
    pub fn replace(&self, s: &str, rep: &str) -> String {
        self.0.replace(s, rep).into_owned()
    }
    /// The first match's parenthesized groups (or the whole match when
    /// there are none); None when nothing matches.
    pub fn captures(&self, s: &str) -> Option<Vec<Option<String>>> {
        let c = self.0.captures(s)?;
        if c.len() == 1 {
            return Some(vec![c.get(0).map(|m| m.as_str().to_string())]);
        }
        Some(
            (1..c.len())
                .map(|i| c.get(i).map(|m| m.as_str().to_string()))
                .collect(),
        )
    }
    /// Every match's groups (as `captures` gives one match's).
    pub fn captures_all(&self, s: &str) -> Vec<Vec<Option<String>>> {
        self.0
            .captures_iter(s)
            .map(|c| {
                if c.len() == 1 {
                    vec![c.get(0).map(|m| m.as_str().to_string())]
                } else {
                    (1..c.len())
                        .map(|i| c.get(i).map(|m| m.as_str().to_string()))
                        .collect()
                }
            })
            .collect()
    }
    pub fn replace_all(&self, s: &str, rep: &str) -> String {
        self.0.replace_all(s, rep).into_owned()
    }
}
