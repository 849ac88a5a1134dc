//! Session settings: SET/SHOW/RESET with PostgreSQL's contexts (settings
//! only the server may change answer 55P02), the values a session reads
//! (its own, else the server's, else PostgreSQL's defaults for transaction
//! settings), and the parsed copies transactions consult (`TxnSettings`).

use crate::error::{ExecError, Result};
use crate::session::{setting_key, Session, REPORTED_SETTINGS};
use crate::txn::{Isolation, TxnSettings};
use std::collections::HashMap;

impl Session {
    pub fn setting(&self, name: &str) -> Option<String> {
        let k = setting_key(name);
        match k.as_str() {
            "transaction_isolation" => return Some(self.isolation().name().to_string()),
            "transaction_read_only" => {
                return Some(if self.read_only() { "on" } else { "off" }.to_string())
            }
            _ => {}
        }
        if let Some(v) = self.settings.get(&k) {
            return Some(v.clone());
        }
        self.db
            .settings
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&k))
            .map(|(_, v)| v.clone())
            .or_else(|| {
                let d = crate::txn::builtin_default(&k);
                (!d.is_empty()).then(|| d.to_string())
            })
            .or_else(|| crate::guc::find(&k).map(|g| g.1.to_string()))
    }

    /// SET name = value (None: DEFAULT). Returns the ParameterStatus to
    /// send when the client tracks this setting.
    pub fn set_setting(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Result<Option<(String, String)>> {
        let k = setting_key(name);
        if k == "all" && value.is_none() {
            // RESET ALL: every session setting back to the server's.
            self.settings.clear();
            let mut tcfg = TxnSettings::default();
            for (k, v) in &self.db.settings {
                let _ = tcfg.apply(&k.to_lowercase(), v);
            }
            tcfg.synchronous_commit = None;
            self.tcfg = tcfg;
            return Ok(None);
        }
        const SESSION_ONLY: &[&str] = &[
            "transaction_isolation",
            "default_transaction_isolation",
            "search_path",
            "application_name",
            "extra_float_digits",
            "client_min_messages",
            "statement_timeout",
            "lock_timeout",
            "idle_in_transaction_session_timeout",
            "intervalstyle",
            "bytea_output",
            "row_security",
            "default_transaction_read_only",
            "transaction_read_only",
            "deadlock_timeout",
            "log_statement",
            "log_min_duration_statement",
            "synchronous_commit",
            "work_mem",
            "maintenance_work_mem",
            "client_encoding",
            "datestyle",
            "timezone",
            "password_encryption",
        ];
        const RESTART: &[&str] = &[
            "shared_buffers",
            "port",
            "listen_addresses",
            "max_connections",
            "data_directory",
            "ssl",
            "ssl_cert_file",
            "ssl_key_file",
            "password_file",
            "metrics_port",
            "metrics_listen_address",
        ];
        const RELOAD: &[&str] = &[
            "checkpoint_timeout",
            "wal_writer_delay",
            "max_wal_size",
            "fsync",
            "log_format",
        ];
        if RESTART.contains(&k.as_str()) {
            return Err(ExecError::CantChangeSetting(format!(
                "parameter \"{k}\" cannot be changed without restarting the server"
            )));
        }
        if RELOAD.contains(&k.as_str()) {
            return Err(ExecError::CantChangeSetting(format!(
                "parameter \"{k}\" cannot be changed now"
            )));
        }
        // Strings always follow the standard here: setting it on (as
        // pg_dump does) is accepted, off is not supported.
        if k == "standard_conforming_strings" {
            return match value.map(basalt_catalog::cast::parse_bool) {
                None | Some(Some(true)) => Ok(None),
                Some(Some(false)) => Err(ExecError::coded(
                    "0A000",
                    "standard_conforming_strings = off is not supported",
                )),
                Some(None) => Err(ExecError::coded(
                    "22023",
                    format!("parameter \"{k}\" requires a Boolean value"),
                )),
            };
        }
        // A custom parameter (a dotted name, as extensions and
        // applications use): any string; RESET forgets the session's.
        if k.contains('.') {
            match value {
                Some(v) => {
                    self.settings.insert(k, v.to_string());
                }
                None => {
                    self.settings.insert(k, String::new());
                }
            }
            return Ok(None);
        }
        if let Some(&(_, default, kind)) = crate::guc::find(&k) {
            let v = match value {
                None => default.to_string(),
                Some(v) => crate::guc::check(kind, v).ok_or_else(|| match kind {
                    crate::guc::Kind::Bool => ExecError::coded(
                        "22023",
                        format!("parameter \"{k}\" requires a Boolean value"),
                    ),
                    _ => ExecError::InvalidSetting(name.to_string(), v.to_string()),
                })?,
            };
            self.settings.insert(k, v);
            return Ok(None);
        }
        if k == "password_encryption" {
            if let Some(v) = value
                .filter(|v| !["md5", "scram-sha-256"].contains(&v.to_ascii_lowercase().as_str()))
            {
                return Err(ExecError::InvalidSetting(name.to_string(), v.to_string()));
            }
        }
        if !SESSION_ONLY.contains(&k.as_str()) {
            return Err(match self.setting(&k) {
                Some(_) => {
                    ExecError::CantChangeSetting(format!("parameter \"{k}\" cannot be changed"))
                }
                None => ExecError::UnknownSetting(name.to_string()),
            });
        }
        let v = match value {
            Some(v) => v.to_string(),
            None => self
                .db
                .settings
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&k))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| crate::txn::builtin_default(&k).to_string()),
        };
        // Encoding names compare as PostgreSQL's clean_encoding_name does:
        // letters and digits only ('utf-8', "'UTF8'" and unicode are UTF8).
        let clean: String = v
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_uppercase();
        if k == "client_encoding" && !matches!(clean.as_str(), "UTF8" | "UNICODE") {
            return Err(ExecError::InvalidSetting(name.to_string(), v));
        }
        // TimeZone: a tz database name (shown as the database spells
        // it), UTC, or an ISO offset; LOCAL and DEFAULT mean the server's.
        let v = if k == "timezone" {
            let v = if v.eq_ignore_ascii_case("local") || v.eq_ignore_ascii_case("default") {
                self.db
                    .settings
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("timezone"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| "UTC".into())
            } else {
                v
            };
            match basalt_catalog::tz::Zone::parse(&v) {
                Some(basalt_catalog::tz::Zone::Named(tz)) => tz.name().to_string(),
                Some(_) if v.chars().all(|c| c.is_ascii_alphabetic() || c == '/') => {
                    v.to_uppercase()
                }
                Some(_) => v,
                None => return Err(ExecError::InvalidSetting("TimeZone".into(), v)),
            }
        } else {
            v
        };
        let v = if k == "client_encoding" {
            "UTF8".to_string()
        } else {
            v
        };
        if k == "transaction_isolation" || k == "transaction_read_only" {
            let mode = if k == "transaction_isolation" {
                basalt_planner::TxnMode::Isolation(v.clone())
            } else {
                basalt_planner::TxnMode::ReadOnly(
                    basalt_catalog::cast::parse_bool(&v)
                        .ok_or_else(|| ExecError::InvalidSetting(name.to_string(), v.clone()))?,
                )
            };
            self.set_transaction(&[mode], false)?;
            return Ok(None);
        }
        if self.tcfg.apply(&k, &v).is_err() {
            return Err(ExecError::InvalidSetting(name.to_string(), v));
        }
        if k == "default_transaction_isolation" {
            let iso = Isolation::parse(&v).expect("checked by apply");
            self.settings.insert(k.clone(), iso.name().to_string());
            return Ok(None);
        }
        self.settings.insert(k.clone(), v.clone());
        Ok(REPORTED_SETTINGS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&k))
            .then(|| {
                let disp = self
                    .db
                    .settings
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&k))
                    .map(|(n, _)| n.clone())
                    .unwrap_or(k.clone());
                (disp, v)
            }))
    }

    /// The session's own value of a setting (None: the server's).
    pub(crate) fn raw_setting(&self, k: &str) -> Option<String> {
        self.settings.get(k).cloned()
    }

    pub(crate) fn settings_snapshot(&self) -> (HashMap<String, String>, TxnSettings) {
        (self.settings.clone(), self.tcfg.clone())
    }

    pub(crate) fn restore_settings(
        &mut self,
        settings: HashMap<String, String>,
        tcfg: TxnSettings,
    ) {
        self.settings = settings;
        self.tcfg = tcfg;
    }

    /// Puts one setting back to a session value (None: the server's).
    pub(crate) fn restore_setting(&mut self, k: &str, prev: Option<String>) {
        match prev {
            Some(v) => {
                let _ = self.set_setting(k, Some(&v));
            }
            None => {
                let _ = self.set_setting(k, None);
                self.settings.remove(k);
            }
        }
    }

    pub fn all_settings(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .db
            .settings
            .iter()
            .map(|(n, val)| {
                (
                    n.clone(),
                    self.settings
                        .get(&n.to_lowercase())
                        .cloned()
                        .unwrap_or(val.clone()),
                )
            })
            .collect();
        for (n, d, _) in crate::guc::GUCS {
            if !v.iter().any(|(k, _)| k.eq_ignore_ascii_case(n)) {
                let val = self.settings.get(*n).cloned().unwrap_or(d.to_string());
                v.push((n.to_string(), val));
            }
        }
        v.sort();
        v
    }
}
