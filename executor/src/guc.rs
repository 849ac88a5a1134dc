//! PostgreSQL's user-settable parameters that Basalt accepts beyond the
//! ones it acts on elsewhere (settings.rs): SET, SHOW, RESET and
//! pg_settings know them, with PostgreSQL 15's defaults, so that clients,
//! tools and scripts that set them (pg_dump's preamble, ORMs, benchmark
//! scripts) run. The planner's method switches (enable_seqscan,
//! enable_indexscan, enable_indexonlyscan, enable_hashjoin,
//! enable_nestloop) are honoured; the others change nothing here.

/// How a parameter's value is checked and shown.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// on/off (true, yes, 1, ...); shown as on or off.
    Bool,
    /// An integer, perhaps with a unit (8MB, 10s).
    Int,
    /// A number.
    Real,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// Any string.
    Str,
}

/// (name, PostgreSQL 15's default, kind).
pub(crate) const GUCS: &[(&str, &str, Kind)] = &[
    ("array_nulls", "on", Kind::Bool),
    (
        "backslash_quote",
        "safe_encoding",
        Kind::Enum(&["safe_encoding", "on", "off"]),
    ),
    ("check_function_bodies", "on", Kind::Bool),
    ("commit_delay", "0", Kind::Int),
    ("commit_siblings", "5", Kind::Int),
    (
        "constraint_exclusion",
        "partition",
        Kind::Enum(&["partition", "on", "off"]),
    ),
    ("cpu_index_tuple_cost", "0.005", Kind::Real),
    ("cpu_operator_cost", "0.0025", Kind::Real),
    ("cpu_tuple_cost", "0.01", Kind::Real),
    ("cursor_tuple_fraction", "0.1", Kind::Real),
    ("default_statistics_target", "100", Kind::Int),
    ("default_table_access_method", "heap", Kind::Enum(&["heap"])),
    ("default_tablespace", "", Kind::Str),
    (
        "default_text_search_config",
        "pg_catalog.english",
        Kind::Str,
    ),
    (
        "default_toast_compression",
        "pglz",
        Kind::Enum(&["pglz", "lz4"]),
    ),
    ("effective_cache_size", "4GB", Kind::Int),
    ("effective_io_concurrency", "1", Kind::Int),
    ("enable_async_append", "on", Kind::Bool),
    ("enable_bitmapscan", "on", Kind::Bool),
    ("enable_gathermerge", "on", Kind::Bool),
    ("enable_hashagg", "on", Kind::Bool),
    ("enable_hashjoin", "on", Kind::Bool),
    ("enable_incremental_sort", "on", Kind::Bool),
    ("enable_indexonlyscan", "on", Kind::Bool),
    ("enable_indexscan", "on", Kind::Bool),
    ("enable_material", "on", Kind::Bool),
    ("enable_memoize", "on", Kind::Bool),
    ("enable_mergejoin", "on", Kind::Bool),
    ("enable_nestloop", "on", Kind::Bool),
    ("enable_parallel_append", "on", Kind::Bool),
    ("enable_parallel_hash", "on", Kind::Bool),
    ("enable_partition_pruning", "on", Kind::Bool),
    ("enable_partitionwise_aggregate", "off", Kind::Bool),
    ("enable_partitionwise_join", "off", Kind::Bool),
    ("enable_seqscan", "on", Kind::Bool),
    ("enable_sort", "on", Kind::Bool),
    ("enable_tidscan", "on", Kind::Bool),
    ("escape_string_warning", "on", Kind::Bool),
    (
        "force_parallel_mode",
        "off",
        Kind::Enum(&["off", "on", "regress"]),
    ),
    ("from_collapse_limit", "8", Kind::Int),
    ("geqo", "on", Kind::Bool),
    ("geqo_threshold", "12", Kind::Int),
    ("gin_fuzzy_search_limit", "0", Kind::Int),
    ("gin_pending_list_limit", "4MB", Kind::Int),
    ("hash_mem_multiplier", "2", Kind::Real),
    ("idle_session_timeout", "0", Kind::Int),
    ("jit", "on", Kind::Bool),
    ("jit_above_cost", "100000", Kind::Real),
    ("jit_inline_above_cost", "500000", Kind::Real),
    ("jit_optimize_above_cost", "500000", Kind::Real),
    ("join_collapse_limit", "8", Kind::Int),
    ("lc_messages", "C.UTF-8", Kind::Str),
    ("lc_monetary", "C.UTF-8", Kind::Str),
    ("lc_numeric", "C.UTF-8", Kind::Str),
    ("lc_time", "C.UTF-8", Kind::Str),
    ("lo_compat_privileges", "off", Kind::Bool),
    ("log_duration", "off", Kind::Bool),
    ("log_min_messages", "warning", Kind::Str),
    ("log_parameter_max_length", "-1", Kind::Int),
    ("log_statement_sample_rate", "1", Kind::Real),
    ("logical_decoding_work_mem", "64MB", Kind::Int),
    ("max_parallel_maintenance_workers", "2", Kind::Int),
    ("max_parallel_workers", "8", Kind::Int),
    ("max_parallel_workers_per_gather", "2", Kind::Int),
    ("min_parallel_index_scan_size", "512kB", Kind::Int),
    ("min_parallel_table_scan_size", "8MB", Kind::Int),
    ("parallel_leader_participation", "on", Kind::Bool),
    ("parallel_setup_cost", "1000", Kind::Real),
    ("parallel_tuple_cost", "0.1", Kind::Real),
    (
        "plan_cache_mode",
        "auto",
        Kind::Enum(&["auto", "force_generic_plan", "force_custom_plan"]),
    ),
    ("quote_all_identifiers", "off", Kind::Bool),
    ("random_page_cost", "4", Kind::Real),
    ("seq_page_cost", "1", Kind::Real),
    (
        "session_replication_role",
        "origin",
        Kind::Enum(&["origin", "replica", "local"]),
    ),
    ("synchronize_seqscans", "on", Kind::Bool),
    ("tcp_keepalives_count", "0", Kind::Int),
    ("tcp_keepalives_idle", "0", Kind::Int),
    ("tcp_keepalives_interval", "0", Kind::Int),
    ("tcp_user_timeout", "0", Kind::Int),
    ("temp_buffers", "8MB", Kind::Int),
    ("temp_file_limit", "-1", Kind::Int),
    ("temp_tablespaces", "", Kind::Str),
    ("track_activities", "on", Kind::Bool),
    ("track_counts", "on", Kind::Bool),
    ("track_io_timing", "off", Kind::Bool),
    ("transform_null_equals", "off", Kind::Bool),
    ("vacuum_cost_delay", "0", Kind::Real),
    ("vacuum_cost_limit", "200", Kind::Int),
    ("vacuum_freeze_min_age", "50000000", Kind::Int),
    ("vacuum_freeze_table_age", "150000000", Kind::Int),
    ("xmloption", "content", Kind::Enum(&["content", "document"])),
];

/// The parameter's entry, by lower-case name.
pub(crate) fn find(name: &str) -> Option<&'static (&'static str, &'static str, Kind)> {
    GUCS.iter().find(|g| g.0 == name)
}

/// The value as stored and shown (None: not a value of its kind).
pub(crate) fn check(kind: Kind, v: &str) -> Option<String> {
    let t = v.trim();
    match kind {
        Kind::Bool => {
            basalt_catalog::cast::parse_bool(t).map(|b| if b { "on" } else { "off" }.into())
        }
        Kind::Int => {
            let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let unit = &t[digits.len()..];
            let ok_unit = matches!(
                unit,
                "" | "B" | "kB" | "MB" | "GB" | "TB" | "us" | "ms" | "s" | "min" | "h" | "d"
            );
            (digits.trim().parse::<i64>().is_ok() && ok_unit).then(|| t.to_string())
        }
        Kind::Real => t.parse::<f64>().ok().map(|_| t.to_string()),
        Kind::Enum(words) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(t))
            .map(|w| w.to_string()),
        Kind::Str => Some(v.to_string()),
    }
}
