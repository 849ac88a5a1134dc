//! The pg_catalog views clients read (psql's \d, \dt, \l; pgbench; drivers),
//! computed from the stored table definitions when they are scanned.

use crate::store::{Schema, BOOTSTRAP_SUPERUSER, NS_PG_CATALOG};
use crate::types::{DataType, Value};

use DataType::*;

/// Column names and types of a system view, or None if there is no such view.
pub fn columns(name: &str) -> Option<Vec<(&'static str, DataType)>> {
    if let Some(v) = name.strip_prefix("information_schema.") {
        return crate::infoschema::columns(v);
    }
    if let Some(cols) = empty_catalog(name) {
        return Some(cols);
    }
    Some(match name {
        "pg_namespace" => vec![
            ("oid", Oid),
            ("nspname", Name),
            ("nspowner", Oid),
            ("nspacl", Text),
        ],
        "pg_class" => vec![
            ("oid", Oid),
            ("relname", Name),
            ("relnamespace", Oid),
            ("reltype", Oid),
            ("relowner", Oid),
            ("relam", Oid),
            ("relfilenode", Oid),
            ("reltablespace", Oid),
            ("relpages", Int4),
            ("reltuples", Float4),
            ("relhasindex", Bool),
            ("relisshared", Bool),
            ("relpersistence", QChar),
            ("relkind", QChar),
            ("relnatts", Int2),
            ("relchecks", Int2),
            ("relhasrules", Bool),
            ("relhastriggers", Bool),
            ("relhassubclass", Bool),
            ("relrowsecurity", Bool),
            ("relforcerowsecurity", Bool),
            ("relispopulated", Bool),
            ("relreplident", QChar),
            ("relispartition", Bool),
            ("reloftype", Oid),
            ("relacl", Text),
            ("reloptions", Text),
            ("reltoastrelid", Oid),
            ("relallvisible", Int4),
            ("relpartbound", Text),
            ("relrewrite", Oid),
            ("relfrozenxid", Oid),
            ("relminmxid", Oid),
        ],
        "pg_attribute" => vec![
            ("attrelid", Oid),
            ("attname", Name),
            ("atttypid", Oid),
            ("attlen", Int2),
            ("attnum", Int2),
            ("atttypmod", Int4),
            ("attnotnull", Bool),
            ("atthasdef", Bool),
            ("attidentity", QChar),
            ("attgenerated", QChar),
            ("attisdropped", Bool),
            ("attcollation", Oid),
            // Filled in by `extend_rows`.
            ("attstorage", QChar),
            ("attcompression", QChar),
            ("attstattarget", Int4),
            ("attndims", Int4),
            ("attbyval", Bool),
            ("attalign", QChar),
            ("attinhcount", Int4),
            ("attislocal", Bool),
            ("atthasmissing", Bool),
            ("attacl", Text),
            ("attoptions", DataType::Text.array_of()),
            ("attfdwoptions", DataType::Text.array_of()),
            ("attmissingval", Text),
        ],
        "pg_type" => vec![
            ("oid", Oid),
            ("typname", Name),
            ("typnamespace", Oid),
            ("typowner", Oid),
            ("typlen", Int2),
            ("typtype", QChar),
            ("typcategory", QChar),
            ("typrelid", Oid),
            ("typelem", Oid),
            ("typarray", Oid),
            ("typbasetype", Oid),
            ("typtypmod", Int4),
            ("typnotnull", Bool),
            ("typinput", Text),
            ("typcollation", Oid),
            ("typisdefined", Bool),
            ("typdelim", QChar),
            // Filled in by `extend_rows`.
            ("typacl", Text),
            ("typstorage", QChar),
            ("typbyval", Bool),
            ("typispreferred", Bool),
            ("typsubscript", Text),
            ("typoutput", Text),
            ("typreceive", Text),
            ("typsend", Text),
            ("typmodin", Text),
            ("typmodout", Text),
            ("typanalyze", Text),
            ("typalign", QChar),
            ("typndims", Int4),
            ("typdefaultbin", Text),
            ("typdefault", Text),
        ],
        "pg_index" => vec![
            ("indexrelid", Oid),
            ("indrelid", Oid),
            ("indnatts", Int2),
            ("indisunique", Bool),
            ("indisprimary", Bool),
            ("indisexclusion", Bool),
            ("indimmediate", Bool),
            ("indisclustered", Bool),
            ("indisvalid", Bool),
            ("indisready", Bool),
            ("indislive", Bool),
            ("indisreplident", Bool),
            ("indkey", Int2Vector),
            // Filled in by `extend_rows`.
            ("indnkeyatts", Int2),
            ("indcheckxmin", Bool),
            ("indnullsnotdistinct", Bool),
            ("indoption", Int2Vector),
            ("indcollation", OidVector),
            ("indclass", OidVector),
            ("indexprs", Text),
            ("indpred", Text),
        ],
        "pg_sequence" => vec![
            ("seqrelid", Oid),
            ("seqtypid", Oid),
            ("seqstart", Int8),
            ("seqincrement", Int8),
            ("seqmax", Int8),
            ("seqmin", Int8),
            ("seqcache", Int8),
            ("seqcycle", Bool),
        ],
        // Basalt has no user-defined functions: pg_proc is empty, but
        // its columns are there for the queries that read it.
        "pg_proc" => vec![
            ("oid", Oid),
            ("proname", Name),
            ("pronamespace", Oid),
            ("proowner", Oid),
            ("prolang", Oid),
            ("procost", Float4),
            ("prorows", Float4),
            ("provariadic", Oid),
            ("prosupport", Oid),
            ("prokind", QChar),
            ("prosecdef", Bool),
            ("proleakproof", Bool),
            ("proisstrict", Bool),
            ("proretset", Bool),
            ("provolatile", QChar),
            ("proparallel", QChar),
            ("pronargs", Int2),
            ("pronargdefaults", Int2),
            ("prorettype", Oid),
            ("proargtypes", Text),
            ("proallargtypes", Text),
            ("proargmodes", Text),
            ("proargnames", Text),
            ("proargdefaults", Text),
            ("protrftypes", Text),
            ("prosrc", Text),
            ("probin", Text),
            ("prosqlbody", Text),
            ("proconfig", Text),
            ("proacl", Text),
        ],
        "pg_extension" => vec![
            ("oid", Oid),
            ("extname", Name),
            ("extowner", Oid),
            ("extnamespace", Oid),
            ("extrelocatable", Bool),
            ("extversion", Text),
            ("extconfig", Text),
            ("extcondition", Text),
        ],
        "pg_depend" => vec![
            ("classid", Oid),
            ("objid", Oid),
            ("objsubid", Int4),
            ("refclassid", Oid),
            ("refobjid", Oid),
            ("refobjsubid", Int4),
            ("deptype", QChar),
        ],
        "pg_tablespace" => vec![
            ("oid", Oid),
            ("spcname", Name),
            ("spcowner", Oid),
            ("spcacl", Text),
            ("spcoptions", Text),
        ],
        "pg_database" => vec![
            ("oid", Oid),
            ("datname", Name),
            ("datdba", Oid),
            ("encoding", Int4),
            ("datcollate", Text),
            ("datctype", Text),
            ("datistemplate", Bool),
            ("datallowconn", Bool),
            ("datconnlimit", Int4),
            ("datacl", Text),
            ("datlocprovider", QChar),
            ("daticulocale", Text),
            // Filled in by `extend_rows`.
            ("dattablespace", Oid),
            ("datfrozenxid", Oid),
            ("datminmxid", Oid),
            ("datcollversion", Text),
        ],
        "pg_roles" => vec![
            ("rolname", Name),
            ("rolsuper", Bool),
            ("rolinherit", Bool),
            ("rolcreaterole", Bool),
            ("rolcreatedb", Bool),
            ("rolcanlogin", Bool),
            ("rolreplication", Bool),
            ("rolconnlimit", Int4),
            ("rolpassword", Text),
            ("rolvaliduntil", TimestampTz),
            ("rolbypassrls", Bool),
            ("rolconfig", Text),
            ("oid", Oid),
        ],
        "pg_authid" => vec![
            ("oid", Oid),
            ("rolname", Name),
            ("rolsuper", Bool),
            ("rolinherit", Bool),
            ("rolcreaterole", Bool),
            ("rolcreatedb", Bool),
            ("rolcanlogin", Bool),
            ("rolreplication", Bool),
            ("rolbypassrls", Bool),
            ("rolconnlimit", Int4),
            ("rolpassword", Text),
            ("rolvaliduntil", TimestampTz),
        ],
        "pg_user" => vec![
            ("usename", Name),
            ("usesysid", Oid),
            ("usecreatedb", Bool),
            ("usesuper", Bool),
            ("userepl", Bool),
            ("usebypassrls", Bool),
            ("passwd", Text),
            ("valuntil", TimestampTz),
            ("useconfig", Text),
        ],
        "pg_auth_members" => vec![
            ("oid", Oid),
            ("roleid", Oid),
            ("member", Oid),
            ("grantor", Oid),
            ("admin_option", Bool),
        ],
        "pg_inherits" => vec![
            ("inhrelid", Oid),
            ("inhparent", Oid),
            ("inhseqno", Int4),
            ("inhdetachpending", Bool),
        ],
        "pg_partitioned_table" => {
            vec![
                ("partrelid", Oid),
                ("partstrat", QChar),
                ("partnatts", Int2),
            ]
        }
        "pg_am" => vec![
            ("oid", Oid),
            ("amname", Name),
            ("amtype", QChar),
            // Filled in by `extend_rows`.
            ("amhandler", Oid),
        ],
        "pg_description" => vec![
            ("objoid", Oid),
            ("classoid", Oid),
            ("objsubid", Int4),
            ("description", Text),
        ],
        "pg_attrdef" => vec![
            ("oid", Oid),
            ("adrelid", Oid),
            ("adnum", Int2),
            ("adbin", Text),
        ],
        "pg_constraint" => vec![
            ("oid", Oid),
            ("conname", Name),
            ("connamespace", Oid),
            ("contype", QChar),
            ("conrelid", Oid),
            ("conindid", Oid),
            ("confrelid", Oid),
            ("conkey", Int2.array_of()),
            ("condeferrable", Bool),
            ("condeferred", Bool),
            ("convalidated", Bool),
            ("contypid", Oid),
            ("conparentid", Oid),
            ("confupdtype", QChar),
            ("confdeltype", QChar),
            ("confmatchtype", QChar),
            ("conislocal", Bool),
            ("coninhcount", Int4),
            ("connoinherit", Bool),
            ("confkey", Int2.array_of()),
            ("conbin", Text),
        ],
        "pg_collation" => vec![
            ("oid", Oid),
            ("collname", Name),
            ("collnamespace", Oid),
            ("collowner", Oid),
            ("collprovider", QChar),
            ("collisdeterministic", Bool),
            ("collencoding", Int4),
            ("collcollate", Text),
            ("collctype", Text),
        ],
        "pg_policy" => vec![
            ("oid", Oid),
            ("polname", Name),
            ("polrelid", Oid),
            ("polcmd", QChar),
            ("polpermissive", Bool),
            ("polroles", Text),
            ("polqual", Text),
            ("polwithcheck", Text),
        ],
        "pg_statistic_ext" => vec![
            ("oid", Oid),
            ("stxrelid", Oid),
            ("stxname", Name),
            ("stxnamespace", Oid),
            ("stxowner", Oid),
            ("stxstattarget", Int4),
            ("stxkeys", Text),
            ("stxkind", Text),
        ],
        "pg_publication" => vec![
            ("oid", Oid),
            ("pubname", Name),
            ("pubowner", Oid),
            ("puballtables", Bool),
            ("pubinsert", Bool),
            ("pubupdate", Bool),
            ("pubdelete", Bool),
            ("pubtruncate", Bool),
            ("pubviaroot", Bool),
        ],
        "pg_publication_namespace" => {
            vec![("oid", Oid), ("pnpubid", Oid), ("pnnspid", Oid)]
        }
        "pg_publication_rel" => vec![
            ("oid", Oid),
            ("prpubid", Oid),
            ("prrelid", Oid),
            ("prqual", Text),
            ("prattrs", Text),
        ],
        "pg_trigger" => vec![
            ("oid", Oid),
            ("tgrelid", Oid),
            ("tgparentid", Oid),
            ("tgname", Name),
            ("tgfoid", Oid),
            ("tgtype", Int2),
            ("tgenabled", QChar),
            ("tgisinternal", Bool),
            ("tgconstrrelid", Oid),
            ("tgconstrindid", Oid),
            ("tgconstraint", Oid),
        ],
        "pg_rewrite" => vec![
            ("oid", Oid),
            ("rulename", Name),
            ("ev_class", Oid),
            ("ev_type", QChar),
            ("ev_enabled", QChar),
            ("is_instead", Bool),
        ],
        // No range types: asyncpg's type introspection joins it.
        "pg_range" => vec![
            ("rngtypid", Oid),
            ("rngsubtype", Oid),
            ("rngmultitypid", Oid),
            ("rngcollation", Oid),
            ("rngsubopc", Oid),
            ("rngcanonical", Text),
            ("rngsubdiff", Text),
        ],
        "pg_enum" => vec![
            ("oid", Oid),
            ("enumtypid", Oid),
            ("enumsortorder", Float4),
            ("enumlabel", Name),
        ],
        "pg_indexes" => vec![
            ("schemaname", Name),
            ("tablename", Name),
            ("indexname", Name),
            ("tablespace", Name),
            ("indexdef", Text),
        ],
        "pg_tables" => vec![
            ("schemaname", Name),
            ("tablename", Name),
            ("tableowner", Name),
            ("tablespace", Name),
            ("hasindexes", Bool),
            ("hasrules", Bool),
            ("hastriggers", Bool),
            ("rowsecurity", Bool),
        ],
        // Computed from the server's live state by the executor.
        "pg_stat_activity" => vec![
            ("datid", Oid),
            ("datname", Name),
            ("pid", Int4),
            ("leader_pid", Int4),
            ("usesysid", Oid),
            ("usename", Name),
            ("application_name", Text),
            ("client_addr", Text),
            ("client_hostname", Text),
            ("client_port", Int4),
            ("backend_start", TimestampTz),
            ("xact_start", TimestampTz),
            ("query_start", TimestampTz),
            ("state_change", TimestampTz),
            ("wait_event_type", Text),
            ("wait_event", Text),
            ("state", Text),
            ("backend_xid", Text),
            ("backend_xmin", Text),
            ("query_id", Int8),
            ("query", Text),
            ("backend_type", Text),
        ],
        "pg_stat_database" => vec![
            ("datid", Oid),
            ("datname", Name),
            ("numbackends", Int4),
            ("xact_commit", Int8),
            ("xact_rollback", Int8),
            ("blks_read", Int8),
            ("blks_hit", Int8),
            ("tup_returned", Int8),
            ("tup_fetched", Int8),
            ("tup_inserted", Int8),
            ("tup_updated", Int8),
            ("tup_deleted", Int8),
            ("conflicts", Int8),
            ("temp_files", Int8),
            ("temp_bytes", Int8),
            ("deadlocks", Int8),
            ("checksum_failures", Int8),
            ("checksum_last_failure", TimestampTz),
            ("blk_read_time", Float8),
            ("blk_write_time", Float8),
            ("session_time", Float8),
            ("active_time", Float8),
            ("idle_in_transaction_time", Float8),
            ("sessions", Int8),
            ("sessions_abandoned", Int8),
            ("sessions_fatal", Int8),
            ("sessions_killed", Int8),
            ("stats_reset", TimestampTz),
        ],
        "pg_stat_wal" => vec![
            ("wal_records", Int8),
            ("wal_fpi", Int8),
            ("wal_bytes", Numeric(None)),
            ("wal_buffers_full", Int8),
            ("wal_write", Int8),
            ("wal_sync", Int8),
            ("wal_write_time", Float8),
            ("wal_sync_time", Float8),
            ("stats_reset", TimestampTz),
        ],
        "pg_stat_user_tables" | "pg_stat_all_tables" => vec![
            ("relid", Oid),
            ("schemaname", Name),
            ("relname", Name),
            ("seq_scan", Int8),
            ("seq_tup_read", Int8),
            ("idx_scan", Int8),
            ("idx_tup_fetch", Int8),
            ("n_tup_ins", Int8),
            ("n_tup_upd", Int8),
            ("n_tup_del", Int8),
            ("n_tup_hot_upd", Int8),
            ("n_live_tup", Int8),
            ("n_dead_tup", Int8),
            ("n_mod_since_analyze", Int8),
            ("n_ins_since_vacuum", Int8),
            ("last_vacuum", TimestampTz),
            ("last_autovacuum", TimestampTz),
            ("last_analyze", TimestampTz),
            ("last_autoanalyze", TimestampTz),
            ("vacuum_count", Int8),
            ("autovacuum_count", Int8),
            ("analyze_count", Int8),
            ("autoanalyze_count", Int8),
        ],
        "pg_stat_user_indexes" | "pg_stat_all_indexes" => vec![
            ("relid", Oid),
            ("indexrelid", Oid),
            ("schemaname", Name),
            ("relname", Name),
            ("indexrelname", Name),
            ("idx_scan", Int8),
            ("idx_tup_read", Int8),
            ("idx_tup_fetch", Int8),
        ],
        "pg_stat_bgwriter" => vec![
            ("checkpoints_timed", Int8),
            ("checkpoints_req", Int8),
            ("checkpoint_write_time", Float8),
            ("checkpoint_sync_time", Float8),
            ("buffers_checkpoint", Int8),
            ("buffers_clean", Int8),
            ("maxwritten_clean", Int8),
            ("buffers_backend", Int8),
            ("buffers_backend_fsync", Int8),
            ("buffers_alloc", Int8),
            ("stats_reset", TimestampTz),
        ],
        "pg_stat_checkpointer" => vec![
            ("num_timed", Int8),
            ("num_requested", Int8),
            ("restartpoints_timed", Int8),
            ("restartpoints_req", Int8),
            ("restartpoints_done", Int8),
            ("write_time", Float8),
            ("sync_time", Float8),
            ("buffers_written", Int8),
            ("stats_reset", TimestampTz),
        ],
        "pg_statio_user_tables" | "pg_statio_all_tables" => vec![
            ("relid", Oid),
            ("schemaname", Name),
            ("relname", Name),
            ("heap_blks_read", Int8),
            ("heap_blks_hit", Int8),
            ("idx_blks_read", Int8),
            ("idx_blks_hit", Int8),
            ("toast_blks_read", Int8),
            ("toast_blks_hit", Int8),
            ("tidx_blks_read", Int8),
            ("tidx_blks_hit", Int8),
        ],
        "basalt_health" => vec![
            ("check", Text),
            ("status", Text),
            ("value", Text),
            ("threshold", Text),
            ("detail", Text),
        ],
        "basalt_buffer_pool" => vec![
            ("size_pages", Int8),
            ("size_bytes", Int8),
            ("used_pages", Int8),
            ("dirty_pages", Int8),
            ("hits", Int8),
            ("reads", Int8),
            ("writes", Int8),
            ("hit_ratio", Float8),
        ],
        "pg_locks" => vec![
            ("locktype", Text),
            ("database", Oid),
            ("relation", Oid),
            ("page", Int4),
            ("tuple", Int2),
            ("virtualxid", Text),
            ("transactionid", Text),
            ("classid", Oid),
            ("objid", Oid),
            ("objsubid", Int2),
            ("virtualtransaction", Text),
            ("pid", Int4),
            ("mode", Text),
            ("granted", Bool),
            ("fastpath", Bool),
            ("waitstart", TimestampTz),
        ],
        // A sequence read as a relation (SELECT last_value FROM seq).
        "__sequence_state" => vec![("last_value", Int8), ("log_cnt", Int8), ("is_called", Bool)],
        // Set-returning functions (FROM basalt_check_integrity(...)).
        "basalt_check_integrity" => vec![
            ("relation", Name),
            ("kind", Text),
            ("blkno", Int8),
            ("problem", Text),
        ],
        "basalt_verify_backup" => vec![("file", Text), ("status", Text), ("detail", Text)],
        "basalt_backups" => vec![
            ("path", Text),
            ("kind", Text),
            ("base", Text),
            ("start_lsn", Text),
            ("end_lsn", Text),
            ("started", TimestampTz),
            ("finished", TimestampTz),
            ("files", Int8),
            ("bytes", Int8),
        ],
        "pg_stats" => vec![
            ("schemaname", Name),
            ("tablename", Name),
            ("attname", Name),
            ("inherited", Bool),
            ("null_frac", Float4),
            ("avg_width", Int4),
            ("n_distinct", Float4),
            ("most_common_vals", Text),
            ("most_common_freqs", Text),
            ("histogram_bounds", Text),
            ("correlation", Float4),
            ("most_common_elems", Text),
            ("most_common_elem_freqs", Text),
            ("elem_count_histogram", Text),
        ],
        "pg_stat_progress_vacuum" => vec![
            ("pid", Int4),
            ("datid", Oid),
            ("datname", Name),
            ("relid", Oid),
            ("phase", Text),
            ("heap_blks_total", Int8),
            ("heap_blks_scanned", Int8),
            ("heap_blks_vacuumed", Int8),
            ("index_vacuum_count", Int8),
            ("max_dead_tuples", Int8),
            ("num_dead_tuples", Int8),
        ],
        "pg_settings" => vec![
            ("name", Text),
            ("setting", Text),
            ("unit", Text),
            ("category", Text),
            ("short_desc", Text),
            ("extra_desc", Text),
            ("context", Text),
            ("vartype", Text),
            ("source", Text),
            ("min_val", Text),
            ("max_val", Text),
            ("enumvals", Text.array_of()),
            ("boot_val", Text),
            ("reset_val", Text),
            ("sourcefile", Text),
            ("sourceline", Int4),
            ("pending_restart", Bool),
        ],
        "pg_cursors" => vec![
            ("name", Text),
            ("statement", Text),
            ("is_holdable", Bool),
            ("is_binary", Bool),
            ("is_scrollable", Bool),
            ("creation_time", TimestampTz),
        ],
        "pg_prepared_statements" => vec![
            ("name", Text),
            ("statement", Text),
            ("prepare_time", TimestampTz),
            ("parameter_types", Text),
            ("from_sql", Bool),
            ("generic_plans", Int8),
            ("custom_plans", Int8),
        ],
        "pg_available_extensions" => vec![
            ("name", Name),
            ("default_version", Text),
            ("installed_version", Text),
            ("comment", Text),
        ],
        _ => return None,
    })
}

fn o(v: u32) -> Value {
    Value::Int8(v as i64)
}
fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}
fn b(v: bool) -> Value {
    Value::Bool(v)
}

const BUILTIN_TYPES: &[DataType] = &[
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric(None),
    Text,
    Varchar(None),
    Char(1),
    Bytea,
    Date,
    Timestamp,
    TimestampTz,
    Oid,
    Name,
    Interval,
    Uuid,
    Time,
    Json,
    Jsonb,
];

/// The rows of a system view. `settings` feeds pg_settings.
pub fn rows(name: &str, s: &Schema, settings: &[(String, String)]) -> Vec<Vec<Value>> {
    if let Some(v) = name.strip_prefix("information_schema.") {
        return crate::infoschema::rows(v, s);
    }
    let mut out = base_rows(name, s, settings);
    extend_rows(name, &mut out);
    // Array columns built as their text form become arrays.
    if let Some(cols) = columns(name) {
        let arrays: Vec<(usize, DataType)> = cols
            .iter()
            .enumerate()
            .filter(|(_, (_, t))| matches!(t, DataType::Array(_)))
            .map(|(i, (_, t))| (i, *t))
            .collect();
        if !arrays.is_empty() {
            for r in &mut out {
                for (i, t) in &arrays {
                    if let Some(Value::Text(txt)) = r.get(*i) {
                        r[*i] = crate::cast::from_text(txt, t).unwrap_or(Value::Null);
                    }
                }
            }
        }
    }
    out
}

/// Catalogs of things Basalt does not have (foreign data, operators,
/// casts, languages, text search, publications, ...): no rows, but their
/// columns, for the tools (pg_dump) that read them.
fn empty_catalog(name: &str) -> Option<Vec<(&'static str, DataType)>> {
    let text = |names: &[&'static str]| names.iter().map(|n| (*n, Text)).collect::<Vec<_>>();
    let oids = |names: &[&'static str]| names.iter().map(|n| (*n, Oid)).collect::<Vec<_>>();
    let mut v = match name {
        "pg_foreign_table" => oids(&["ftrelid", "ftserver"]),
        "pg_foreign_server" => oids(&["oid", "srvowner", "srvfdw"]),
        "pg_foreign_data_wrapper" => oids(&["oid", "fdwowner", "fdwhandler", "fdwvalidator"]),
        "pg_user_mapping" => oids(&["oid", "umuser", "umserver"]),
        "pg_init_privs" => oids(&["objoid", "classoid"]),
        "pg_transform" => oids(&["oid", "trftype", "trflang", "trffromsql", "trftosql"]),
        "pg_opclass" => oids(&[
            "oid",
            "opcmethod",
            "opcnamespace",
            "opcowner",
            "opcfamily",
            "opcintype",
            "opckeytype",
        ]),
        "pg_opfamily" => oids(&["oid", "opfmethod", "opfnamespace", "opfowner"]),
        "pg_operator" => oids(&[
            "oid",
            "oprnamespace",
            "oprowner",
            "oprleft",
            "oprright",
            "oprresult",
            "oprcom",
            "oprnegate",
            "oprcode",
            "oprrest",
            "oprjoin",
        ]),
        "pg_amop" => oids(&[
            "oid",
            "amopfamily",
            "amoplefttype",
            "amoprighttype",
            "amopopr",
            "amopmethod",
            "amopsortfamily",
        ]),
        "pg_amproc" => oids(&[
            "oid",
            "amprocfamily",
            "amproclefttype",
            "amprocrighttype",
            "amproc",
        ]),
        "pg_cast" => oids(&["oid", "castsource", "casttarget", "castfunc"]),
        "pg_range" => oids(&[
            "rngtypid",
            "rngsubtype",
            "rngmultitypid",
            "rngcollation",
            "rngsubopc",
            "rngcanonical",
            "rngsubdiff",
        ]),
        "pg_ts_template" => oids(&["oid", "tmplnamespace", "tmplinit", "tmpllexize"]),
        "pg_ts_parser" => oids(&[
            "oid",
            "prsnamespace",
            "prsstart",
            "prstoken",
            "prsend",
            "prsheadline",
            "prslextype",
        ]),
        "pg_ts_dict" => oids(&["oid", "dictnamespace", "dictowner", "dicttemplate"]),
        "pg_ts_config" => oids(&["oid", "cfgnamespace", "cfgowner", "cfgparser"]),
        "pg_ts_config_map" => oids(&["mapcfg", "mapdict"]),
        "pg_subscription" => oids(&["oid", "subdbid", "subowner"]),
        "pg_subscription_rel" => oids(&["srsubid", "srrelid"]),
        "pg_publication_rel" => oids(&["oid", "prpubid", "prrelid"]),
        "pg_publication_namespace" => oids(&["oid", "pnpubid", "pnnspid"]),
        "pg_partitioned_table" => oids(&["partrelid", "partdefid"]),
        "pg_largeobject_metadata" => oids(&["oid", "lomowner"]),
        "pg_language" => oids(&[
            "oid",
            "lanowner",
            "lanplcallfoid",
            "laninline",
            "lanvalidator",
        ]),
        "pg_event_trigger" => oids(&["oid", "evtowner", "evtfoid"]),
        "pg_default_acl" => oids(&["oid", "defaclrole", "defaclnamespace"]),
        "pg_conversion" => oids(&["oid", "connamespace", "conowner", "conproc"]),
        "pg_seclabels" => oids(&["objoid", "classoid", "objnamespace"]),
        "pg_seclabel" | "pg_shseclabel" => oids(&["objoid", "classoid"]),
        "pg_aggregate" => oids(&["aggfnoid", "aggtransfn", "aggfinalfn", "aggtranstype"]),
        "pg_statistic_ext_data" => oids(&["stxoid"]),
        "pg_db_role_setting" => oids(&["setdatabase", "setrole"]),
        _ => return None,
    };
    v.extend(match name {
        "pg_foreign_table" => text(&["ftoptions"]),
        "pg_foreign_server" => text(&["srvname", "srvtype", "srvversion", "srvacl", "srvoptions"]),
        "pg_foreign_data_wrapper" => text(&["fdwname", "fdwacl", "fdwoptions"]),
        "pg_user_mapping" => text(&["umoptions"]),
        "pg_init_privs" => vec![("objsubid", Int4), ("privtype", QChar), ("initprivs", Text)],
        "pg_opclass" => vec![("opcname", Name), ("opcdefault", Bool)],
        "pg_opfamily" => vec![("opfname", Name)],
        "pg_operator" => vec![
            ("oprname", Name),
            ("oprkind", QChar),
            ("oprcanmerge", Bool),
            ("oprcanhash", Bool),
        ],
        "pg_amop" => vec![("amopstrategy", Int2), ("amoppurpose", Text)],
        "pg_amproc" => vec![("amprocnum", Int2)],
        "pg_cast" => text(&["castcontext", "castmethod"]),
        "pg_ts_template" => vec![("tmplname", Name)],
        "pg_ts_parser" => vec![("prsname", Name)],
        "pg_ts_dict" => vec![("dictname", Name), ("dictinitoption", Text)],
        "pg_ts_config" => vec![("cfgname", Name)],
        "pg_ts_config_map" => vec![("maptokentype", Int4), ("mapseqno", Int4)],
        "pg_subscription" => vec![
            ("subname", Name),
            ("subenabled", Bool),
            ("subbinary", Bool),
            ("substream", Bool),
            ("subtwophasestate", Text),
            ("subdisableonerr", Bool),
            ("subconninfo", Text),
            ("subslotname", Name),
            ("subsynccommit", Text),
            ("subpublications", Text),
        ],
        "pg_subscription_rel" => text(&["srsubstate", "srsublsn"]),
        "pg_publication_rel" => text(&["prqual", "prattrs"]),
        "pg_partitioned_table" => vec![
            ("partstrat", QChar),
            ("partnatts", Int2),
            ("partclass", Oid.array_of()),
        ],
        "pg_largeobject_metadata" => text(&["lomacl"]),
        "pg_language" => vec![
            ("lanname", Name),
            ("lanispl", Bool),
            ("lanpltrusted", Bool),
            ("lanacl", Text),
        ],
        "pg_event_trigger" => vec![
            ("evtname", Name),
            ("evtevent", Name),
            ("evtenabled", QChar),
            ("evttags", Text.array_of()),
        ],
        "pg_default_acl" => text(&["defaclobjtype", "defaclacl"]),
        "pg_conversion" => vec![
            ("conname", Name),
            ("conforencoding", Int4),
            ("contoencoding", Int4),
            ("condefault", Bool),
        ],
        "pg_seclabels" => vec![
            ("objsubid", Int4),
            ("objtype", Text),
            ("objname", Text),
            ("provider", Text),
            ("label", Text),
        ],
        "pg_seclabel" | "pg_shseclabel" => {
            vec![("objsubid", Int4), ("provider", Text), ("label", Text)]
        }
        "pg_aggregate" => text(&["aggkind", "agginitval"]),
        "pg_db_role_setting" => vec![("setconfig", Text.array_of())],
        _ => vec![],
    });
    Some(v)
}

/// The OID of a pg_catalog table by name, as 'pg_class'::regclass gives
/// it (PostgreSQL's fixed OIDs).
pub fn catalog_oid(name: &str) -> Option<u32> {
    Some(match name {
        "pg_class" => 1259,
        "pg_attribute" => 1249,
        "pg_type" => 1247,
        "pg_proc" => 1255,
        "pg_namespace" => 2615,
        "pg_constraint" => 2606,
        "pg_index" => 2610,
        "pg_database" => 1262,
        "pg_authid" => 1260,
        "pg_tablespace" => 1213,
        "pg_depend" => 2608,
        "pg_description" => 2609,
        "pg_attrdef" => 2604,
        "pg_rewrite" => 2618,
        "pg_trigger" => 2620,
        "pg_sequence" => 2224,
        "pg_am" => 2601,
        "pg_collation" => 3456,
        "pg_extension" => 3079,
        "pg_inherits" => 2611,
        "pg_statistic_ext" => 3381,
        "pg_policy" => 3256,
        "pg_publication" => 6104,
        "pg_enum" => 3501,
        "pg_foreign_table" => 3118,
        "pg_event_trigger" => 3466,
        "pg_largeobject" => 2613,
        "pg_largeobject_metadata" => 2995,
        "pg_init_privs" => 3394,
        "pg_transform" => 3576,
        "pg_opclass" => 2616,
        "pg_opfamily" => 2753,
        "pg_operator" => 2617,
        "pg_amop" => 2602,
        "pg_amproc" => 2603,
        "pg_cast" => 2605,
        "pg_range" => 3541,
        "pg_ts_template" => 3764,
        "pg_ts_parser" => 3601,
        "pg_ts_dict" => 3600,
        "pg_ts_config" => 3602,
        "pg_subscription" => 6100,
        "pg_publication_rel" => 6106,
        "pg_publication_namespace" => 6237,
        "pg_partitioned_table" => 3350,
        "pg_language" => 2612,
        "pg_foreign_server" => 1417,
        "pg_foreign_data_wrapper" => 2328,
        "pg_user_mapping" => 1418,
        "pg_default_acl" => 826,
        "pg_conversion" => 2607,
        "pg_aggregate" => 2600,
        "pg_db_role_setting" => 2964,
        _ => return None,
    })
}

/// The name of a pg_catalog table by its fixed OID.
pub fn catalog_name(oid: u32) -> Option<&'static str> {
    [
        "pg_class",
        "pg_attribute",
        "pg_type",
        "pg_proc",
        "pg_namespace",
        "pg_constraint",
        "pg_index",
        "pg_database",
        "pg_tablespace",
        "pg_depend",
        "pg_description",
        "pg_attrdef",
        "pg_sequence",
        "pg_extension",
    ]
    .into_iter()
    .find(|n| catalog_oid(n) == Some(oid))
}

/// The columns appended to some views' rows, computed from the others
/// (storage, alignment) or PostgreSQL's defaults.
fn extend_rows(name: &str, rows: &mut [Vec<Value>]) {
    match name {
        "pg_attribute" => {
            for r in rows {
                let len = match r[3] {
                    Value::Int2(l) => l,
                    _ => -1,
                };
                let ty = match r[2] {
                    Value::Int8(o) => DataType::from_oid(o as u32),
                    _ => None,
                };
                let dims = ty.is_some_and(|t| t.element().is_some()) as i32;
                let align = match len {
                    1 => "c",
                    2 => "s",
                    4 => "i",
                    8 => "d",
                    _ => "i",
                };
                let numeric = ty.is_some_and(|t| matches!(t, DataType::Numeric(_)));
                r.extend([
                    t(match (len, numeric) {
                        (_, true) => "m",
                        (-1, _) => "x",
                        _ => "p",
                    }),
                    t(""),
                    Value::Int4(-1),
                    Value::Int4(dims),
                    b(len > 0 && len <= 8),
                    t(align),
                    Value::Int4(0),
                    b(true),
                    b(false),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        "pg_database" => {
            for r in rows {
                // dattablespace: pg_default; no xid wraparound horizon.
                r.extend([o(1663), o(0), o(1), Value::Null]);
            }
        }
        "pg_am" => {
            for r in rows {
                // amhandler: heap_tableam_handler, bthandler, ...
                r.push(o(0));
            }
        }
        "pg_type" => {
            for r in rows {
                // typacl: the default; typstorage by length.
                let varlena = matches!(r[4], Value::Int2(-1));
                let numeric = matches!(r[0], Value::Int8(1700));
                r.push(Value::Null);
                r.push(t(match (numeric, varlena) {
                    (true, _) => "m",
                    (_, true) => "x",
                    _ => "p",
                }));
                let len = match r[4] {
                    Value::Int2(n) => n,
                    _ => -1,
                };
                let input = match &r[13] {
                    Value::Text(s) => s.clone(),
                    _ => String::new(),
                };
                let base = input.strip_suffix("in").unwrap_or(&input).to_string();
                let preferred = matches!(r[0], Value::Int8(25 | 701 | 26 | 16 | 1184 | 1186));
                r.extend([
                    b(matches!(len, 1 | 2 | 4 | 8)),
                    b(preferred),
                    t(if matches!(r[8], Value::Int8(e) if e != 0) {
                        "array_subscript_handler"
                    } else {
                        "-"
                    }),
                    t(&format!("{base}out")),
                    t(&format!("{base}recv")),
                    t(&format!("{base}send")),
                    t("-"),
                    t("-"),
                    t("-"),
                    t(match len {
                        1 | 64 => "c",
                        2 => "s",
                        8 => "d",
                        _ => "i",
                    }),
                    Value::Int4(0),
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        "pg_index" => {
            for r in rows {
                let n = match r[2] {
                    Value::Int2(n) => n,
                    _ => 0,
                };
                let zeros = vec!["0"; n as usize].join(" ");
                // base_rows left the key's operator classes last.
                let classes = if r.len() > 13 { r.pop() } else { None };
                r.extend([
                    Value::Int2(n),
                    b(false),
                    b(false),
                    t(&zeros),
                    t(&zeros),
                    classes.unwrap_or_else(|| t(&zeros)),
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        _ => {}
    }
}

fn base_rows(name: &str, s: &Schema, settings: &[(String, String)]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    match name {
        "pg_namespace" => {
            for (oid, n) in s.namespaces() {
                let n = n.as_str();
                let owner = s
                    .schemas
                    .iter()
                    .find(|d| d.oid == oid)
                    .map_or(BOOTSTRAP_SUPERUSER, |d| d.owner);
                let acl = if s.namespace_acl_stored(oid) {
                    t(&crate::store::acl_text(&s.namespace_acl(oid), &|r| {
                        s.role_name(r)
                    }))
                } else {
                    Value::Null
                };
                let owner = if crate::store::builtin_public_db(oid).is_some() {
                    crate::store::PG_DATABASE_OWNER
                } else {
                    owner
                };
                out.push(vec![o(oid), t(n), o(owner), acl]);
            }
        }
        "pg_sequence" => {
            for q in &s.sequences {
                out.push(vec![
                    o(q.oid),
                    o(q.ty.oid()),
                    Value::Int8(q.start),
                    Value::Int8(q.increment),
                    Value::Int8(q.max),
                    Value::Int8(q.min),
                    Value::Int8(q.cache),
                    b(q.cycle),
                ]);
            }
        }
        "pg_depend" => {
            // A column default that calls nextval depends on its sequence
            // (pg_dump then creates the default after the sequence).
            for tb in &s.tables {
                for (i, c) in tb.columns.iter().enumerate() {
                    let Some(seq) = c
                        .default
                        .as_deref()
                        .and_then(|d| d.strip_prefix("nextval('"))
                        .and_then(|d| d.split('\'').next())
                    else {
                        continue;
                    };
                    let seq = seq.rsplit('.').next().unwrap_or(seq);
                    if let Some(q) = s.sequences.iter().find(|q| q.name == seq) {
                        out.push(vec![
                            o(2604),
                            o(tb.oid * 100 + i as u32),
                            Value::Int4(0),
                            o(1259),
                            o(q.oid),
                            Value::Int4(0),
                            t("n"),
                        ]);
                    }
                }
            }
            // A view depends on the tables and views its query names (so
            // pg_dump creates it after them).
            for v in &s.views {
                let named = s.tables.iter().map(|t| (t.oid, &t.name)).chain(
                    s.views
                        .iter()
                        .filter(|w| w.oid != v.oid)
                        .map(|w| (w.oid, &w.name)),
                );
                for (oid, name) in named {
                    if sql_mentions(&v.sql, name) {
                        out.push(vec![
                            o(1259),
                            o(v.oid),
                            Value::Int4(0),
                            o(1259),
                            o(oid),
                            Value::Int4(0),
                            t("n"),
                        ]);
                    }
                }
            }
            // A sequence's owning column: automatic for serial, internal
            // for identity columns.
            for q in &s.sequences {
                let Some((tab, col)) = q.owned_by else {
                    continue;
                };
                let identity = s
                    .table_by_oid(tab)
                    .and_then(|tb| tb.columns.get((col as usize).wrapping_sub(1)))
                    .is_some_and(|c| c.identity.is_some());
                out.push(vec![
                    o(1259),
                    o(q.oid),
                    Value::Int4(0),
                    o(1259),
                    o(tab),
                    Value::Int4(col as i32),
                    t(if identity { "i" } else { "a" }),
                ]);
            }
        }
        "pg_tablespace" => {
            for (oid, name) in [(1663, "pg_default"), (1664, "pg_global")] {
                out.push(vec![
                    o(oid),
                    t(name),
                    o(BOOTSTRAP_SUPERUSER),
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        "pg_description" => {
            // The public schema's comment, as initdb gives it.
            for (oid, _) in s.namespaces() {
                if crate::store::builtin_public_db(oid).is_some() {
                    out.push(vec![
                        o(oid),
                        o(2615),
                        Value::Int4(0),
                        t("standard public schema"),
                    ]);
                }
            }
            for tb in &s.tables {
                for (k, c) in &tb.comments {
                    out.push(vec![o(tb.oid), o(1259), Value::Int4(*k), t(c)]);
                }
            }
        }
        "pg_class" => {
            #[allow(clippy::too_many_arguments)]
            let row = |oid: u32,
                       name: &str,
                       namespace: u32,
                       owner: u32,
                       kind: &str,
                       natts: usize,
                       am: u32,
                       filenode: u32,
                       hasidx: bool,
                       relacl: Value| {
                vec![
                    o(oid),
                    t(name),
                    o(namespace),
                    o(0),
                    o(owner),
                    o(am),
                    o(filenode),
                    o(0),
                    Value::Int4(0),
                    Value::Float4(-1.0),
                    b(hasidx),
                    b(false),
                    t(
                        if s.namespace_name(namespace)
                            .starts_with(crate::store::TEMP_SCHEMA_PREFIX)
                        {
                            "t"
                        } else {
                            "p"
                        },
                    ),
                    t(kind),
                    Value::Int2(natts as i16),
                    Value::Int2(0),
                    b(kind == "v"),
                    b(false),
                    b(false),
                    b(false),
                    b(false),
                    b(true),
                    t(if kind == "v" { "n" } else { "d" }),
                    b(false),
                    o(0),
                    relacl,
                    Value::Null,
                    o(0),
                    Value::Int4(0),
                    Value::Null,
                    o(0),
                    o(0),
                    o(0),
                ]
            };
            for tb in &s.tables {
                let relacl = match &tb.acl {
                    Some(acl) => t(&crate::store::acl_text(acl, &|r| s.role_name(r))),
                    None => Value::Null,
                };
                let mut r = row(
                    tb.oid,
                    &tb.name,
                    tb.namespace,
                    tb.owner,
                    "r",
                    tb.columns.len(),
                    2,
                    tb.filenode,
                    !tb.indexes.is_empty(),
                    relacl,
                );
                // relchecks, and relhastriggers for a table with foreign
                // keys either way (PostgreSQL's are triggers): psql's \d
                // lists those constraints only then.
                r[15] = Value::Int2(tb.checks.len() as i16);
                r[17] = b(!tb.fks.is_empty()
                    || s.tables
                        .iter()
                        .any(|o| o.fks.iter().any(|f| f.table == tb.oid)));
                out.push(r);
                for ix in &tb.indexes {
                    out.push(row(
                        ix.oid,
                        &ix.name,
                        tb.namespace,
                        tb.owner,
                        "i",
                        ix.columns.len(),
                        403,
                        ix.filenode,
                        false,
                        Value::Null,
                    ));
                }
            }
            for q in &s.sequences {
                out.push(row(
                    q.oid,
                    &q.name,
                    q.namespace,
                    q.owner,
                    "S",
                    3,
                    0,
                    q.oid,
                    false,
                    Value::Null,
                ));
            }
            for v in &s.views {
                out.push(row(
                    v.oid,
                    &v.name,
                    v.namespace,
                    v.owner,
                    "v",
                    v.columns.len(),
                    0,
                    0,
                    false,
                    Value::Null,
                ));
            }
        }
        "pg_attribute" => {
            let column_row = |rel: u32, i: usize, c: &crate::ColumnDef| {
                vec![
                    o(rel),
                    t(&c.name),
                    o(c.ty.oid()),
                    Value::Int2(c.ty.typlen()),
                    Value::Int2(i as i16 + 1),
                    Value::Int4(c.ty.typmod()),
                    b(c.not_null),
                    b(c.default.is_some() && c.identity.is_none()),
                    t(c.identity.map_or("", |k| k.code())),
                    t(""),
                    b(false),
                    o(if c.ty.is_string() { 100 } else { 0 }),
                ]
            };
            for v in &s.views {
                for (i, c) in v.column_defs().iter().enumerate() {
                    out.push(column_row(v.oid, i, c));
                }
            }
            for tb in &s.tables {
                for (i, c) in tb.columns.iter().enumerate() {
                    out.push(column_row(tb.oid, i, c));
                }
                for ix in &tb.indexes {
                    for (i, &c) in ix.columns.iter().enumerate() {
                        // An expression key: named after its function, typed
                        // as text here.
                        let expr_col;
                        let col = match tb.columns.get(c) {
                            Some(col) => col,
                            None => {
                                let e = ix.exprs.get(c - crate::store::EXPR_KEY);
                                let name = e
                                    .and_then(|e| e.split('(').next())
                                    .filter(|n| !n.is_empty() && !n.contains(' '))
                                    .unwrap_or("expr");
                                expr_col = crate::ColumnDef {
                                    name: name.to_lowercase(),
                                    ty: DataType::Text,
                                    not_null: false,
                                    default: None,
                                    identity: None,
                                };
                                &expr_col
                            }
                        };
                        out.push(vec![
                            o(ix.oid),
                            t(&col.name),
                            o(col.ty.oid()),
                            Value::Int2(col.ty.typlen()),
                            Value::Int2(i as i16 + 1),
                            Value::Int4(col.ty.typmod()),
                            b(false),
                            b(false),
                            t(""),
                            t(""),
                            b(false),
                            o(0),
                        ]);
                    }
                }
            }
        }
        "pg_type" => {
            let arrays: Vec<DataType> = BUILTIN_TYPES.iter().map(|t| t.array_of()).collect();
            for ty in BUILTIN_TYPES.iter().chain(&arrays) {
                let elem = ty.element();
                out.push(vec![
                    o(ty.oid()),
                    t(ty.type_name()),
                    o(NS_PG_CATALOG),
                    o(BOOTSTRAP_SUPERUSER),
                    Value::Int2(ty.typlen()),
                    t("b"),
                    t(match ty {
                        Array(_) => "A",
                        t if t.is_numeric() => "N",
                        t if t.is_string() => "S",
                        Bool => "B",
                        Date | Timestamp | TimestampTz | Time => "D",
                        Interval => "T",
                        _ => "U",
                    }),
                    o(0),
                    o(elem.map(|e| e.oid()).unwrap_or(0)),
                    o(if elem.is_some() { 0 } else { ty.array_oid() }),
                    o(0),
                    Value::Int4(-1),
                    b(false),
                    t(&if elem.is_some() {
                        "array_in".to_string()
                    } else {
                        format!("{}in", ty.type_name())
                    }),
                    o(if ty.is_string() || elem.is_some_and(|e| e.is_string()) {
                        100
                    } else {
                        0
                    }),
                    b(true),
                    t(","),
                ]);
            }
            for e in &s.enums {
                out.push(vec![
                    o(e.array_oid),
                    t(&format!("_{}", e.name)),
                    o(e.namespace),
                    o(e.owner),
                    Value::Int2(-1),
                    t("b"),
                    t("A"),
                    o(0),
                    o(e.oid),
                    o(0),
                    o(0),
                    Value::Int4(-1),
                    b(false),
                    t("array_in"),
                    o(0),
                    b(true),
                    t(","),
                ]);
                out.push(vec![
                    o(e.oid),
                    t(&e.name),
                    o(e.namespace),
                    o(e.owner),
                    Value::Int2(4),
                    t("e"),
                    t("E"),
                    o(0),
                    o(0),
                    o(e.array_oid),
                    o(0),
                    Value::Int4(-1),
                    b(false),
                    t("enum_in"),
                    o(0),
                    b(true),
                    t(","),
                ]);
            }
        }
        "pg_opclass" => {
            // The btree default operator class of each built-in type.
            let mut seen = std::collections::BTreeSet::new();
            for ty in OPCLASS_TYPES {
                let (oid, name, intype) = opclass_of(*ty);
                if seen.insert(oid) {
                    out.push(vec![
                        o(oid),
                        o(403),
                        o(NS_PG_CATALOG),
                        o(BOOTSTRAP_SUPERUSER),
                        o(oid),
                        o(intype),
                        o(0),
                        t(name),
                        b(true),
                    ]);
                }
            }
        }
        "pg_index" => {
            for tb in &s.tables {
                for ix in &tb.indexes {
                    let key: Vec<String> = ix
                        .columns
                        .iter()
                        .map(|&c| {
                            if c >= crate::store::EXPR_KEY {
                                0
                            } else {
                                c + 1
                            }
                            .to_string()
                        })
                        .collect();
                    // Each key's default operator class (for extend_rows).
                    let classes: Vec<String> = ix
                        .columns
                        .iter()
                        .map(|&c| {
                            let ty = tb.columns.get(c).map_or(DataType::Text, |col| col.ty);
                            opclass_of(ty).0.to_string()
                        })
                        .collect();
                    out.push(vec![
                        o(ix.oid),
                        o(tb.oid),
                        Value::Int2(ix.columns.len() as i16),
                        b(ix.unique),
                        b(ix.primary),
                        b(false),
                        b(true),
                        b(false),
                        b(true),
                        b(true),
                        b(true),
                        b(false),
                        t(&key.join(" ")),
                        t(&classes.join(" ")),
                    ]);
                }
            }
        }
        "pg_database" => {
            for d in &s.databases {
                out.push(vec![
                    o(d.oid),
                    t(&d.name),
                    o(d.owner),
                    Value::Int4(6),
                    t("C.UTF-8"),
                    t("C.UTF-8"),
                    b(d.is_template),
                    b(d.allow_conn),
                    Value::Int4(d.conn_limit),
                    Value::Null,
                    t("c"),
                    Value::Null,
                ]);
            }
        }
        "pg_roles" | "pg_user" | "pg_authid" => {
            for r in &s.roles {
                // Bootstrap-superuser-like attributes of PostgreSQL's
                // `postgres` role.
                let boot = r.oid == BOOTSTRAP_SUPERUSER;
                let pw = |shown: bool| match (&r.password, shown) {
                    (None, _) => Value::Null,
                    (Some(p), true) => t(p),
                    (Some(_), false) => t("********"),
                };
                out.push(match name {
                    "pg_roles" => vec![
                        t(&r.name),
                        b(r.superuser),
                        b(r.inherit),
                        b(r.createrole),
                        b(r.createdb),
                        b(r.login),
                        b(boot),
                        Value::Int4(r.connlimit),
                        pw(false),
                        Value::Null,
                        b(boot),
                        Value::Null,
                        o(r.oid),
                    ],
                    "pg_authid" => vec![
                        o(r.oid),
                        t(&r.name),
                        b(r.superuser),
                        b(r.inherit),
                        b(r.createrole),
                        b(r.createdb),
                        b(r.login),
                        b(boot),
                        b(boot),
                        Value::Int4(r.connlimit),
                        pw(true),
                        Value::Null,
                    ],
                    _ => {
                        if !r.login {
                            continue;
                        }
                        vec![
                            t(&r.name),
                            o(r.oid),
                            b(r.createdb),
                            b(r.superuser),
                            b(boot),
                            b(boot),
                            pw(false),
                            Value::Null,
                            Value::Null,
                        ]
                    }
                });
            }
        }
        "pg_collation" => {
            for (oid, name, prov) in [(100, "default", "d"), (950, "C", "c"), (951, "POSIX", "c")] {
                let coll = if oid == 100 { Value::Null } else { t(name) };
                out.push(vec![
                    o(oid),
                    t(name),
                    o(NS_PG_CATALOG),
                    o(BOOTSTRAP_SUPERUSER),
                    t(prov),
                    b(true),
                    Value::Int4(-1),
                    coll.clone(),
                    coll,
                ]);
            }
        }
        "pg_am" => {
            out.push(vec![o(2), t("heap"), t("t")]);
            out.push(vec![o(403), t("btree"), t("i")]);
        }
        "pg_constraint" => {
            for tb in &s.tables {
                for ix in tb.indexes.iter().filter(|i| {
                    (i.primary || i.unique) && i.exprs.is_empty() && i.predicate.is_none()
                }) {
                    let key: Vec<String> = ix.columns.iter().map(|c| (c + 1).to_string()).collect();
                    out.push(vec![
                        o(ix.oid + 1_000_000),
                        t(&ix.name),
                        o(tb.namespace),
                        t(if ix.primary { "p" } else { "u" }),
                        o(tb.oid),
                        o(ix.oid),
                        o(0),
                        t(&format!("{{{}}}", key.join(","))),
                        b(false),
                        b(false),
                        b(true),
                        o(0),
                        o(0),
                        t(" "),
                        t(" "),
                        t(" "),
                        b(true),
                        Value::Int4(0),
                        b(true),
                        Value::Null,
                        Value::Null,
                    ]);
                }
                let key = |cols: &[usize]| {
                    let k: Vec<String> = cols.iter().map(|c| (c + 1).to_string()).collect();
                    t(&format!("{{{}}}", k.join(",")))
                };
                for (k, (name, sql)) in tb.checks.iter().enumerate() {
                    let cols: Vec<usize> = (0..tb.columns.len())
                        .filter(|&c| sql_mentions(sql, &tb.columns[c].name))
                        .collect();
                    out.push(vec![
                        o(check_constraint_oid(tb.oid, k)),
                        t(name),
                        o(tb.namespace),
                        t("c"),
                        o(tb.oid),
                        o(0),
                        o(0),
                        key(&cols),
                        b(false),
                        b(false),
                        b(true),
                        o(0),
                        o(0),
                        t(" "),
                        t(" "),
                        t(" "),
                        b(true),
                        Value::Int4(0),
                        b(false),
                        Value::Null,
                        t(sql),
                    ]);
                }
                for (k, fk) in tb.fks.iter().enumerate() {
                    let target = s.table_by_oid(fk.table);
                    let index = target
                        .and_then(|r| {
                            r.indexes
                                .iter()
                                .find(|i| i.unique && i.columns == fk.ref_cols)
                        })
                        .map_or(0, |i| i.oid);
                    let code = |a: crate::store::FkAction| {
                        t(match a {
                            crate::store::FkAction::NoAction => "a",
                            crate::store::FkAction::Restrict => "r",
                            crate::store::FkAction::Cascade => "c",
                            crate::store::FkAction::SetNull => "n",
                            crate::store::FkAction::SetDefault => "d",
                        })
                    };
                    out.push(vec![
                        o(fk_constraint_oid(tb.oid, k)),
                        t(&fk.name),
                        o(tb.namespace),
                        t("f"),
                        o(tb.oid),
                        o(index),
                        o(fk.table),
                        key(&fk.cols),
                        b(false),
                        b(false),
                        b(true),
                        o(0),
                        o(0),
                        code(fk.on_update),
                        code(fk.on_delete),
                        t("s"),
                        b(true),
                        Value::Int4(0),
                        b(true),
                        key(&fk.ref_cols),
                        Value::Null,
                    ]);
                }
            }
        }
        "pg_attrdef" => {
            for tb in &s.tables {
                for (i, c) in tb.columns.iter().enumerate() {
                    if let (Some(d), None) = (&c.default, c.identity) {
                        out.push(vec![
                            o(tb.oid * 100 + i as u32),
                            o(tb.oid),
                            Value::Int2(i as i16 + 1),
                            t(d),
                        ]);
                    }
                }
            }
        }
        "pg_tables" => {
            for tb in &s.tables {
                out.push(vec![
                    t(&s.namespace_name(tb.namespace)),
                    t(&tb.name),
                    t("postgres"),
                    Value::Null,
                    b(!tb.indexes.is_empty()),
                    b(false),
                    b(false),
                    b(false),
                ]);
            }
        }
        "pg_enum" => {
            for e in &s.enums {
                for l in &e.labels {
                    out.push(vec![o(l.oid), o(e.oid), Value::Float4(l.sort), t(&l.name)]);
                }
            }
        }
        "pg_indexes" => {
            for tb in &s.tables {
                for ix in &tb.indexes {
                    out.push(vec![
                        t(&s.namespace_name(tb.namespace)),
                        t(&tb.name),
                        t(&ix.name),
                        Value::Null,
                        index_def(s, ix.oid, false)
                            .map(|d| t(&d))
                            .unwrap_or(Value::Null),
                    ]);
                }
            }
        }
        "pg_settings" => {
            for (k, v) in settings {
                let (context, vartype) = setting_kind(k, v);
                out.push(vec![
                    t(k),
                    t(v),
                    Value::Null,
                    t("Basalt"),
                    Value::Null,
                    Value::Null,
                    t(context),
                    t(vartype),
                    t("default"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    t(v),
                    t(v),
                    Value::Null,
                    Value::Null,
                    b(false),
                ]);
            }
        }
        _ => {}
    }
    out
}

/// Types with a btree operator class of their own in pg_opclass.
const OPCLASS_TYPES: &[DataType] = &[
    DataType::Bool,
    DataType::Int2,
    DataType::Int4,
    DataType::Int8,
    DataType::Float4,
    DataType::Float8,
    DataType::Numeric(None),
    DataType::Text,
    DataType::Char(1),
    DataType::Bytea,
    DataType::Date,
    DataType::Timestamp,
    DataType::TimestampTz,
    DataType::Oid,
    DataType::Name,
    DataType::Interval,
    DataType::Uuid,
    DataType::Time,
    DataType::Jsonb,
    DataType::QChar,
];

/// A type's default btree operator class: (OID, name, input type), with
/// PostgreSQL's OIDs; varchar uses text's, every enum enum_ops, every
/// array array_ops.
fn opclass_of(ty: DataType) -> (u32, &'static str, u32) {
    match ty {
        DataType::Bool => (424, "bool_ops", 16),
        DataType::Int2 => (1979, "int2_ops", 21),
        DataType::Int4 => (1978, "int4_ops", 23),
        DataType::Int8 => (3124, "int8_ops", 20),
        DataType::Float4 => (1970, "float4_ops", 700),
        DataType::Float8 => (1971, "float8_ops", 701),
        DataType::Numeric(_) => (3125, "numeric_ops", 1700),
        DataType::Char(_) => (426, "bpchar_ops", 1042),
        DataType::Bytea => (428, "bytea_ops", 17),
        DataType::Date => (3122, "date_ops", 1082),
        DataType::Timestamp => (3128, "timestamp_ops", 1114),
        DataType::TimestampTz => (3127, "timestamptz_ops", 1184),
        DataType::Oid => (1981, "oid_ops", 26),
        DataType::Name => (1986, "name_ops", 19),
        DataType::Interval => (3123, "interval_ops", 1186),
        DataType::Uuid => (2968, "uuid_ops", 2950),
        DataType::Time => (1996, "time_ops", 1083),
        DataType::Jsonb => (4033, "jsonb_ops", 3802),
        DataType::QChar => (429, "char_ops", 18),
        DataType::Enum(_) => (3046, "enum_ops", 3500),
        DataType::Array(_) => (397, "array_ops", 2277),
        _ => (3126, "text_ops", 25),
    }
}

/// pg_settings' context (when a parameter can change) and vartype.
fn setting_kind(name: &str, value: &str) -> (&'static str, &'static str) {
    let n = name.to_ascii_lowercase();
    let context = match n.as_str() {
        "shared_buffers"
        | "port"
        | "listen_addresses"
        | "max_connections"
        | "data_directory"
        | "password_file"
        | "metrics_port"
        | "metrics_listen_address"
        | "wal_level"
        | "max_wal_senders"
        | "max_prepared_transactions"
        | "wal_buffers" => "postmaster",
        "checkpoint_timeout" | "wal_writer_delay" | "max_wal_size" | "fsync" | "log_format"
        | "ssl" | "ssl_cert_file" | "ssl_key_file" | "autovacuum" | "archive_command"
        | "archive_mode" => "sighup",
        "block_size"
        | "max_identifier_length"
        | "max_index_keys"
        | "max_function_args"
        | "server_version"
        | "server_version_num"
        | "server_encoding"
        | "integer_datetimes"
        | "lc_collate"
        | "lc_ctype"
        | "segment_size"
        | "wal_block_size"
        | "data_checksums"
        | "in_hot_standby" => "internal",
        "log_statement"
        | "log_min_duration_statement"
        | "lc_messages"
        | "session_replication_role"
        | "log_min_messages" => "superuser",
        _ => "user",
    };
    let vartype = if matches!(value, "on" | "off") {
        "bool"
    } else if value.parse::<i64>().is_ok() {
        "integer"
    } else if value.parse::<f64>().is_ok() {
        "real"
    } else {
        "string"
    };
    (context, vartype)
}

/// CREATE INDEX text of an index (or the PRIMARY KEY / UNIQUE clause of the
/// constraint it backs), as pg_get_indexdef / pg_get_constraintdef give it.
/// The OID pg_constraint shows for a table's k-th CHECK constraint.
pub fn check_constraint_oid(table: u32, k: usize) -> u32 {
    0x8000_0000 | (table & 0x00FF_FFFF) << 6 | (k as u32 & 63)
}

/// The OID pg_constraint shows for a table's k-th foreign key.
pub fn fk_constraint_oid(table: u32, k: usize) -> u32 {
    0xC000_0000 | (table & 0x00FF_FFFF) << 6 | (k as u32 & 63)
}

/// Whether SQL text names a column (as a whole word, or quoted).
pub(crate) fn sql_mentions(sql: &str, col: &str) -> bool {
    let quoted = format!("\"{col}\"");
    sql.contains(&quoted)
        || sql
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w.eq_ignore_ascii_case(col))
}

/// pg_get_constraintdef of a CHECK or FOREIGN KEY constraint by the OID
/// pg_constraint shows for it.
pub fn constraint_def(schema: &Schema, oid: u32) -> Option<String> {
    if oid & 0x8000_0000 == 0 {
        return None;
    }
    let fk = oid & 0x4000_0000 != 0;
    let k = (oid & 63) as usize;
    let low = (oid >> 6) & 0x00FF_FFFF;
    let t = schema.tables.iter().find(|t| t.oid & 0x00FF_FFFF == low)?;
    if !fk {
        let (_, sql) = t.checks.get(k)?;
        return Some(format!("CHECK (({sql}))"));
    }
    let f = t.fks.get(k)?;
    let target = schema.table_by_oid(f.table)?;
    let names = |tb: &crate::TableDef, cols: &[usize]| {
        cols.iter()
            .filter_map(|&c| tb.columns.get(c).map(|c| quote_ident(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ns = schema.namespace_name(target.namespace);
    let rel = if ns == "public" {
        quote_ident(&target.name)
    } else {
        format!("{}.{}", quote_ident(&ns), quote_ident(&target.name))
    };
    let action = |a: crate::store::FkAction| match a {
        crate::store::FkAction::NoAction => None,
        crate::store::FkAction::Restrict => Some("RESTRICT"),
        crate::store::FkAction::Cascade => Some("CASCADE"),
        crate::store::FkAction::SetNull => Some("SET NULL"),
        crate::store::FkAction::SetDefault => Some("SET DEFAULT"),
    };
    let mut out = format!(
        "FOREIGN KEY ({}) REFERENCES {rel}({})",
        names(t, &f.cols),
        names(target, &f.ref_cols)
    );
    if let Some(a) = action(f.on_update) {
        out.push_str(&format!(" ON UPDATE {a}"));
    }
    if let Some(a) = action(f.on_delete) {
        out.push_str(&format!(" ON DELETE {a}"));
    }
    Some(out)
}

pub fn index_def(schema: &Schema, oid: u32, constraint: bool) -> Option<String> {
    schema.tables.iter().find_map(|t| {
        let ix = t.indexes.iter().find(|i| i.oid == oid)?;
        let cols: Vec<String> = ix
            .columns
            .iter()
            .map(|&c| match t.columns.get(c) {
                Some(col) => quote_ident(&col.name),
                None => {
                    let e = ix
                        .exprs
                        .get(c - crate::store::EXPR_KEY)
                        .cloned()
                        .unwrap_or_default();
                    // A function call stands alone; other expressions
                    // are parenthesized, as pg_get_indexdef writes them.
                    if e.ends_with(')') && e.split('(').next().is_some_and(|f| !f.contains(' ')) {
                        e
                    } else {
                        format!("({e})")
                    }
                }
            })
            .collect();
        Some(if constraint {
            format!(
                "{} ({})",
                if ix.primary { "PRIMARY KEY" } else { "UNIQUE" },
                cols.join(", ")
            )
        } else {
            format!(
                "CREATE {}INDEX {} ON {}.{} USING btree ({}){}",
                if ix.unique { "UNIQUE " } else { "" },
                quote_ident(&ix.name),
                schema.namespace_name(t.namespace),
                quote_ident(&t.name),
                cols.join(", "),
                match &ix.predicate {
                    // PostgreSQL parenthesizes operator expressions only.
                    Some(p) if p.contains(' ') => format!(" WHERE ({p})"),
                    Some(p) => format!(" WHERE {p}"),
                    None => String::new(),
                }
            )
        })
    })
}

/// An identifier quoted only when PostgreSQL would quote it.
pub fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}
