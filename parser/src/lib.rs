//! SQL text in, statements out: sqlparser's PostgreSQL dialect, plus the
//! PostgreSQL statements it does not parse (CHECKPOINT, VACUUM in all its
//! forms, ANALYZE VERBOSE), recognised by their first token in our own
//! statement loop over the same parser, so comments and several statements in
//! one string work.

pub use sqlparser;
use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Sql(Box<ast::Statement>),
    Checkpoint,
    /// FETCH or (move_only) MOVE on a cursor.
    Fetch {
        cursor: String,
        dir: FetchDir,
        move_only: bool,
    },
    /// CLOSE name, or CLOSE ALL (None).
    CloseCursor(Option<String>),
    /// VACUUM [FULL] [VERBOSE] [ANALYZE] [tables]; options are recorded as
    /// given so the executor can say what it did.
    Vacuum {
        full: bool,
        verbose: bool,
        analyze: bool,
        tables: Vec<(String, Vec<String>)>,
    },
    Analyze {
        verbose: bool,
        tables: Vec<(String, Vec<String>)>,
    },
    /// REINDEX { TABLE | INDEX } name
    Reindex {
        index: bool,
        name: String,
    },
    Database(DatabaseDdl),
    /// ALTER SEQUENCE [IF EXISTS] name options (sqlparser has no ALTER
    /// SEQUENCE): the options as CREATE SEQUENCE takes them, RESTART
    /// [[WITH] n] (Some(None): back to START), OWNED BY table.column |
    /// NONE (Some(None)).
    AlterSequence {
        name: ast::ObjectName,
        if_exists: bool,
        data_type: Option<ast::DataType>,
        options: Vec<ast::SequenceOptions>,
        restart: Option<Option<ast::Expr>>,
        owned_by: Option<Option<ast::ObjectName>>,
    },
    /// BACKUP DATABASE TO 'dir' [INCREMENTAL FROM 'base dir']
    Backup {
        to: String,
        incremental_from: Option<String>,
    },
}

/// CREATE, DROP and ALTER DATABASE (sqlparser knows too little of them).
#[derive(Debug, Clone, PartialEq)]
pub enum DatabaseDdl {
    /// CREATE DATABASE name [WITH] [option [=] value] ...: options by
    /// lower-case name (`connection limit` as two words).
    Create {
        name: String,
        options: Vec<(String, String)>,
    },
    /// DROP DATABASE [IF EXISTS] name [[WITH] (FORCE)]
    Drop {
        name: String,
        if_exists: bool,
        force: bool,
    },
    Alter {
        name: String,
        action: AlterDatabase,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlterDatabase {
    Rename(String),
    Owner(String),
    /// [WITH] ALLOW_CONNECTIONS / CONNECTION LIMIT / IS_TEMPLATE ...
    Options(Vec<(String, String)>),
    /// SET name { TO | = } value (None: RESET name, or SET ... DEFAULT);
    /// RESET ALL is ("all", None).
    Set(String, Option<String>),
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl From<ParserError> for ParseError {
    fn from(e: ParserError) -> Self {
        let msg = match e {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
            ParserError::RecursionLimitExceeded => "statement is too deeply nested".into(),
        };
        ParseError(msg)
    }
}

/// Where FETCH and MOVE go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchDir {
    /// FORWARD n (NEXT is 1, a bare count n); None: ALL.
    Forward(Option<i64>),
    /// BACKWARD n (PRIOR is 1); None: ALL.
    Backward(Option<i64>),
    /// ABSOLUTE n (FIRST is 1, LAST is -1).
    Absolute(i64),
    /// RELATIVE n.
    Relative(i64),
}

/// Parses a string holding zero or more statements separated by semicolons.
pub fn parse(sql: &str) -> Result<Vec<Statement>, ParseError> {
    // CREATE TABLE ... AS query WITH [NO] DATA: sqlparser knows neither;
    // WITH NO DATA is the query with LIMIT 0.
    if let Some((head, no_data)) = strip_with_data(sql) {
        let mut stmts = parse(head)?;
        if no_data {
            if let [Statement::Sql(s)] = stmts.as_mut_slice() {
                if let ast::Statement::CreateTable(ct) = s.as_mut() {
                    if let Some(q) = ct.query.as_mut() {
                        q.limit_clause = Some(ast::LimitClause::LimitOffset {
                            limit: Some(ast::Expr::value(ast::Value::Number("0".into(), false))),
                            offset: None,
                            limit_by: vec![],
                        });
                    }
                }
            }
        }
        return Ok(stmts);
    }
    let dialect = PostgreSqlDialect {};
    // COPY options take PostgreSQL booleans (on/off); sqlparser wants true/false.
    let fixed;
    let sql = if sql
        .trim_start()
        .get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"))
    {
        fixed = fix_copy_booleans(sql);
        fixed.as_str()
    } else {
        sql
    };
    let mut p = Parser::new(&dialect).with_recursion_limit(200);
    let lower = if sql.len() < 1 << 20 {
        sql.to_ascii_lowercase()
    } else {
        String::new()
    };
    let subscript_set = lower.contains("update") && lower.contains('[');
    let identity = lower.contains("overriding") || lower.contains("identity");
    let symmetric = lower.contains("symmetric");
    let storage = lower.contains("unlogged") || lower.contains("tablespace");
    p = if lower.contains("key")
        || lower.contains("deferrable")
        || subscript_set
        || identity
        || symmetric
        || storage
    {
        let mut toks = sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .map_err(|e| ParseError(e.to_string()))?;
        mark_key_locks(&mut toks);
        strip_deferrable(&mut toks);
        if subscript_set {
            toks = subscript_assignments(toks);
        }
        if identity {
            identity_clauses(&mut toks);
        }
        if symmetric {
            between_symmetric(&mut toks);
        }
        if storage {
            storage_clauses(&mut toks);
        }
        p.with_tokens_with_locations(toks)
    } else {
        p.try_with_sql(sql)?
    };
    let mut out = Vec::new();
    loop {
        while p.consume_token(&Token::SemiColon) {}
        if p.peek_token().token == Token::EOF {
            break;
        }
        let stmt = parse_one(&mut p)?;
        out.push(stmt);
        if p.peek_token().token == Token::EOF {
            break;
        }
        if !p.consume_token(&Token::SemiColon) {
            let t = p.peek_token();
            return Err(ParseError(format!(
                "syntax error at or near \"{}\"",
                t.token
            )));
        }
    }
    Ok(out)
}

/// A single `CREATE TABLE ... AS ...` ending in `WITH [NO] DATA`: the text
/// before it, and whether it was NO DATA.
fn strip_with_data(sql: &str) -> Option<(&str, bool)> {
    let t = sql.trim_end().trim_end_matches(';').trim_end();
    // Cheap test first: this runs for every statement.
    if !t
        .get(t.len().saturating_sub(4)..)
        .is_some_and(|e| e.eq_ignore_ascii_case("data"))
    {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if !lower.trim_start().starts_with("create") || !lower.contains(" as ") {
        return None;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    let (no_data, k) = match words.as_slice() {
        [.., "with", "no", "data"] => (true, 3),
        [.., "with", "data"] => (false, 2),
        _ => return None,
    };
    // Cut at the start of the k-th word from the end.
    let mut cut = t.len();
    for _ in 0..k {
        cut = t[..cut].trim_end().rfind(char::is_whitespace)?;
    }
    Some((&t[..cut], no_data))
}

/// The lock clause of `FOR NO KEY UPDATE` / `FOR KEY SHARE` is marked by
/// `OF` naming one of these (sqlparser knows only FOR UPDATE and FOR SHARE);
/// the planner reads the strength from it.
pub const NO_KEY_UPDATE_MARK: &str = "basalt$no_key_update";
pub const KEY_SHARE_MARK: &str = "basalt$key_share";
/// The function name `BETWEEN SYMMETRIC a AND b` wraps `a` in (sqlparser
/// does not know SYMMETRIC); the planner tries both orders of the bounds.
pub const SYMMETRIC_MARK: &str = "\"basalt$symmetric\"";

/// `BETWEEN SYMMETRIC low AND high` → `BETWEEN "basalt$symmetric"(low) AND
/// high`; `BETWEEN ASYMMETRIC` is plain BETWEEN.
fn between_symmetric(toks: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    let is = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut i = 0;
    while i < toks.len() {
        if !is(&toks[i].token, "between") {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < toks.len() && matches!(toks[j].token, Token::Whitespace(_)) {
            j += 1;
        }
        if j >= toks.len() {
            break;
        }
        if is(&toks[j].token, "asymmetric") {
            toks.remove(j);
            i = j;
            continue;
        }
        if !is(&toks[j].token, "symmetric") {
            i = j;
            continue;
        }
        // The low bound runs to the first AND outside parentheses.
        let mut depth = 0i32;
        let mut k = j + 1;
        while k < toks.len() {
            match &toks[k].token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth -= 1,
                t if depth == 0 && is(t, "and") => break,
                _ => {}
            }
            k += 1;
        }
        if k >= toks.len() {
            break;
        }
        let span = toks[j].span;
        let mk = |t: Token| sqlparser::tokenizer::TokenWithSpan::new(t, span);
        toks.insert(k, mk(Token::RParen));
        toks.insert(
            k,
            mk(Token::Whitespace(sqlparser::tokenizer::Whitespace::Space)),
        );
        toks[j] = mk(Token::make_word("basalt$symmetric", Some('"')));
        toks.insert(j + 1, mk(Token::LParen));
        i = k + 3;
    }
}

/// `CREATE UNLOGGED TABLE` is a plain (logged) table here: more durable
/// than asked, never less. `[USING INDEX] TABLESPACE pg_default` (the one
/// tablespace, which pgbench and pg_dump name) is dropped.
fn storage_clauses(toks: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    let is = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.value.eq_ignore_ascii_case(w));
    let code: Vec<usize> = (0..toks.len())
        .filter(|&i| !matches!(toks[i].token, Token::Whitespace(_)))
        .collect();
    let mut drop: Vec<(usize, usize)> = Vec::new();
    for (k, &i) in code.iter().enumerate() {
        let next = |n: usize| code.get(k + n).map(|&j| &toks[j].token);
        if is(&toks[i].token, "unlogged")
            && k > 0
            && is(&toks[code[k - 1]].token, "create")
            && next(1).is_some_and(|t| is(t, "table"))
        {
            drop.push((i, i));
        }
        if is(&toks[i].token, "tablespace")
            && next(1).is_some_and(|t| is(t, "pg_default") || is(t, "pg_global"))
        {
            // With USING INDEX before it, those go too.
            let from = if k >= 2
                && is(&toks[code[k - 2]].token, "using")
                && is(&toks[code[k - 1]].token, "index")
            {
                code[k - 2]
            } else {
                i
            };
            drop.push((from, code[k + 1]));
        }
    }
    for (a, b) in drop.into_iter().rev() {
        toks.drain(a..=b);
    }
}

/// Optimizer-hint prefix that carries `OVERRIDING {SYSTEM | USER} VALUE`
/// (which sqlparser does not know) on an INSERT: the hint's text is
/// `overriding system` or `overriding user`.
pub const HINT_PREFIX: &str = "basalt";

/// What an INSERT's OVERRIDING clause says, read from its hints.
pub fn insert_overriding(hints: &[ast::OptimizerHint]) -> Option<bool> {
    hints
        .iter()
        .filter(|h| h.prefix == HINT_PREFIX)
        .find_map(|h| match h.text.as_str() {
            "overriding system" => Some(true),
            "overriding user" => Some(false),
            _ => None,
        })
}

/// `OVERRIDING {SYSTEM | USER} VALUE` in an INSERT becomes a hint after
/// its INSERT keyword. An identity column's sequence options, `AS IDENTITY
/// ( ... )`, are put in the one order sqlparser reads them in, and
/// `SEQUENCE NAME name` among them (pg_dump writes it) is dropped: the
/// sequence is named `<table>_<column>_seq`, as pg_dump's own are unless
/// renamed.
fn identity_clauses(toks: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    use sqlparser::tokenizer::Whitespace;
    let is = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let next_code = |toks: &[sqlparser::tokenizer::TokenWithSpan], mut i: usize| {
        while i < toks.len() && matches!(toks[i].token, Token::Whitespace(_)) {
            i += 1;
        }
        i
    };
    let mut i = 0;
    let mut last_insert = None;
    while i < toks.len() {
        let t = &toks[i].token;
        if is(t, "insert") {
            last_insert = Some(i);
        } else if is(t, "identity") {
            let open = next_code(toks, i + 1);
            if open < toks.len() && toks[open].token == Token::LParen {
                let mut depth = 0;
                let mut close = open;
                while close < toks.len() {
                    match toks[close].token {
                        Token::LParen => depth += 1,
                        Token::RParen => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    close += 1;
                }
                if close < toks.len() {
                    let span = toks[open].span;
                    let inner = identity_options(&toks[open + 1..close], span);
                    toks.splice(open + 1..close, inner);
                }
            }
        } else if is(t, "overriding") {
            let j = next_code(toks, i + 1);
            let k = next_code(toks, j + 1);
            if let (Some(at), true) = (last_insert, k < toks.len() && is(&toks[k].token, "value")) {
                let which = if is(&toks[j].token, "system") {
                    "system"
                } else if is(&toks[j].token, "user") {
                    "user"
                } else {
                    i += 1;
                    continue;
                };
                toks.drain(i..=k);
                let span = toks[at].span;
                let hint = format!("{HINT_PREFIX}+overriding {which}");
                toks.splice(
                    at + 1..at + 1,
                    [
                        Token::Whitespace(Whitespace::Space),
                        Token::Whitespace(Whitespace::MultiLineComment(hint)),
                    ]
                    .map(|t| sqlparser::tokenizer::TokenWithSpan::new(t, span)),
                );
                i += 2;
                continue;
            }
        }
        i += 1;
    }
}

/// The sequence options of `AS IDENTITY ( ... )` in sqlparser's order
/// (INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE), without SEQUENCE
/// NAME.
fn identity_options(
    toks: &[sqlparser::tokenizer::TokenWithSpan],
    span: sqlparser::tokenizer::Span,
) -> Vec<sqlparser::tokenizer::TokenWithSpan> {
    use sqlparser::tokenizer::Whitespace;
    let word = |t: &Token| match t {
        Token::Word(x) if x.quote_style.is_none() => x.value.to_ascii_lowercase(),
        _ => String::new(),
    };
    let code: Vec<&Token> = toks
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    // Each option: its rank and its tokens.
    let mut groups: Vec<(usize, Vec<Token>)> = Vec::new();
    let mut k = 0;
    while k < code.len() {
        let w = word(code[k]);
        let second = code.get(k + 1).map(|t| word(t)).unwrap_or_default();
        let rank = match (w.as_str(), second.as_str()) {
            ("increment", _) => Some(0),
            ("minvalue", _) | ("no", "minvalue") => Some(1),
            ("maxvalue", _) | ("no", "maxvalue") => Some(2),
            ("start", _) => Some(3),
            ("cache", _) => Some(4),
            ("cycle", _) | ("no", "cycle") => Some(5),
            ("sequence", "name") => Some(usize::MAX),
            _ => None,
        };
        match (rank, groups.last_mut()) {
            (Some(r), _) => groups.push((r, vec![code[k].clone()])),
            (None, Some(g)) => g.1.push(code[k].clone()),
            (None, None) => groups.push((6, vec![code[k].clone()])),
        }
        // NO MINVALUE and SEQUENCE NAME: the second word is the option's.
        if w == "no" || (w == "sequence" && second == "name") {
            k += 1;
            if let (Some(t), Some(g)) = (code.get(k), groups.last_mut()) {
                g.1.push((*t).clone());
            }
        }
        k += 1;
    }
    groups.retain(|g| g.0 != usize::MAX);
    groups.sort_by_key(|g| g.0);
    let mut out = Vec::new();
    for (_, g) in groups {
        for t in g {
            out.push(t);
            out.push(Token::Whitespace(Whitespace::Space));
        }
    }
    out.into_iter()
        .map(|t| sqlparser::tokenizer::TokenWithSpan::new(t, span))
        .collect()
}

/// `SET a[i] = v` (UPDATE, ON CONFLICT DO UPDATE), which sqlparser does not
/// read, becomes `SET a = __array_set(a, (i), (v))`.
fn subscript_assignments(
    toks: Vec<sqlparser::tokenizer::TokenWithSpan>,
) -> Vec<sqlparser::tokenizer::TokenWithSpan> {
    use sqlparser::tokenizer::{TokenWithSpan, Whitespace};
    let is_word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let code = |t: &Token| !matches!(t, Token::Whitespace(_));
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(toks.len() + 16);
    let mut i = 0;
    let mut in_set = false;
    let mut depth = 0i32;
    let mut set_depth = 0i32;
    let mut insert_target: Option<sqlparser::tokenizer::Word> = None;
    let mut on_conflict = false;
    while i < toks.len() {
        let t = &toks[i].token;
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        // INSERT INTO name [AS alias]: what ON CONFLICT DO UPDATE names
        // the target row by (an unqualified column is ambiguous there).
        if is_word(t, "into") {
            let words: Vec<&Token> = toks[i + 1..]
                .iter()
                .map(|x| &x.token)
                .filter(|x| code(x))
                .take(5)
                .collect();
            let mut name = None;
            let mut k = 0;
            while let Some(Token::Word(w)) = words.get(k) {
                name = Some(w.clone());
                if words.get(k + 1) == Some(&&Token::Period) {
                    k += 2;
                } else {
                    k += 1;
                    break;
                }
            }
            match (words.get(k), words.get(k + 1)) {
                (Some(Token::Word(a)), Some(Token::Word(alias)))
                    if a.value.eq_ignore_ascii_case("as") =>
                {
                    name = Some(alias.clone())
                }
                _ => {}
            }
            insert_target = name;
        }
        if is_word(t, "set") {
            in_set = true;
            set_depth = depth;
            // After DO UPDATE the target column is qualified.
            let prev: Vec<&Token> = out
                .iter()
                .rev()
                .map(|x| &x.token)
                .filter(|x| code(x))
                .take(2)
                .collect();
            on_conflict = prev.len() == 2 && is_word(prev[0], "update") && is_word(prev[1], "do");
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        if in_set
            && depth == set_depth
            && (is_word(t, "from")
                || is_word(t, "where")
                || is_word(t, "returning")
                || *t == Token::SemiColon)
        {
            in_set = false;
        }
        // At an assignment target: Word, then `[`.
        let next_code = |from: usize| (from..toks.len()).find(|&k| code(&toks[k].token));
        if in_set && depth == set_depth && matches!(t, Token::Word(_)) {
            if let Some(lb) = next_code(i + 1).filter(|&k| toks[k].token == Token::LBracket) {
                // The subscript, to its `]`; one plain subscript only.
                let mut k = lb + 1;
                let mut d = 0;
                let mut plain = true;
                while k < toks.len() {
                    match toks[k].token {
                        Token::LBracket | Token::LParen => d += 1,
                        Token::RBracket if d == 0 => break,
                        Token::RBracket | Token::RParen => d -= 1,
                        Token::Colon if d == 0 => plain = false,
                        _ => {}
                    }
                    k += 1;
                }
                let rb = k;
                let eq = next_code(rb + 1);
                if plain && rb < toks.len() && eq.is_some_and(|e| toks[e].token == Token::Eq) {
                    let eq = eq.expect("checked");
                    // The value: up to a top-level comma or the clause's end.
                    let mut v = eq + 1;
                    let mut d = 0;
                    while v < toks.len() {
                        let vt = &toks[v].token;
                        match vt {
                            Token::LParen | Token::LBracket => d += 1,
                            Token::RParen | Token::RBracket if d == 0 => break,
                            Token::RParen | Token::RBracket => d -= 1,
                            Token::Comma | Token::SemiColon if d == 0 => break,
                            _ if d == 0
                                && (is_word(vt, "from")
                                    || is_word(vt, "where")
                                    || is_word(vt, "returning")) =>
                            {
                                break
                            }
                            _ => {}
                        }
                        v += 1;
                    }
                    let span = toks[i].span;
                    let mk = |t: Token| TokenWithSpan { token: t, span };
                    let name = toks[i].clone();
                    out.push(name.clone());
                    out.push(mk(Token::Whitespace(Whitespace::Space)));
                    out.push(mk(Token::Eq));
                    out.push(mk(Token::Whitespace(Whitespace::Space)));
                    out.push(mk(Token::make_word("__array_set", None)));
                    out.push(mk(Token::LParen));
                    if let (true, Some(q)) = (on_conflict, &insert_target) {
                        out.push(mk(Token::Word(q.clone())));
                        out.push(mk(Token::Period));
                    }
                    out.push(name);
                    out.push(mk(Token::Comma));
                    out.push(mk(Token::LParen));
                    out.extend(toks[lb + 1..rb].iter().cloned());
                    out.push(mk(Token::RParen));
                    out.push(mk(Token::Comma));
                    out.push(mk(Token::LParen));
                    out.extend(toks[eq + 1..v].iter().cloned());
                    out.push(mk(Token::RParen));
                    out.push(mk(Token::RParen));
                    i = v;
                    continue;
                }
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// Rewrites `FOR NO KEY UPDATE [OF t]` to `FOR UPDATE OF <mark>` and
/// `FOR KEY SHARE [OF t]` to `FOR SHARE OF <mark>`.
fn mark_key_locks(toks: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    use sqlparser::tokenizer::Whitespace;
    let code: Vec<usize> = (0..toks.len())
        .filter(|&i| !matches!(toks[i].token, Token::Whitespace(_)))
        .collect();
    let is = |i: usize, w: &str| matches!(&toks[i].token, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut edits: Vec<(usize, usize, &str, &str)> = Vec::new();
    let mut k = 0;
    while k < code.len() {
        if is(code[k], "for") {
            if k + 3 < code.len()
                && is(code[k + 1], "no")
                && is(code[k + 2], "key")
                && is(code[k + 3], "update")
            {
                edits.push((code[k + 1], code[k + 3], "UPDATE", NO_KEY_UPDATE_MARK));
                k += 4;
                continue;
            }
            if k + 2 < code.len() && is(code[k + 1], "key") && is(code[k + 2], "share") {
                edits.push((code[k + 1], code[k + 2], "SHARE", KEY_SHARE_MARK));
                k += 3;
                continue;
            }
        }
        k += 1;
    }
    for (from, to, kw, mark) in edits.into_iter().rev() {
        // Drop a user's `OF name[, ...]` that follows: the query has one table.
        let mut end = to + 1;
        let mut j = end;
        while j < toks.len() && matches!(toks[j].token, Token::Whitespace(_)) {
            j += 1;
        }
        if j < toks.len()
            && matches!(&toks[j].token, Token::Word(x) if x.value.eq_ignore_ascii_case("of"))
        {
            j += 1;
            loop {
                while j < toks.len() && matches!(toks[j].token, Token::Whitespace(_)) {
                    j += 1;
                }
                if j < toks.len() && matches!(toks[j].token, Token::Word(_)) {
                    j += 1;
                    if j < toks.len() && matches!(toks[j].token, Token::Period | Token::Comma) {
                        j += 1;
                        continue;
                    }
                }
                break;
            }
            end = j;
        }
        let span = toks[from].span;
        let mk = |t: Token| sqlparser::tokenizer::TokenWithSpan::new(t, span);
        let repl = vec![
            mk(Token::make_keyword(kw)),
            mk(Token::Whitespace(Whitespace::Space)),
            mk(Token::make_keyword("OF")),
            mk(Token::Whitespace(Whitespace::Space)),
            mk(Token::make_word(mark, Some('"'))),
            mk(Token::Whitespace(Whitespace::Space)),
        ];
        toks.splice(from..end, repl);
    }
}

/// `[NOT] DEFERRABLE` in BEGIN / START TRANSACTION / SET TRANSACTION / SET
/// SESSION CHARACTERISTICS is accepted and has no effect (sqlparser does not
/// know it): a deferrable transaction runs as a plain serializable one.
fn strip_deferrable(toks: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut i = 0;
    let mut stmt_start = true;
    let mut txn_stmt = false;
    let mut first_words: Vec<String> = Vec::new();
    while i < toks.len() {
        let t = toks[i].token.clone();
        match &t {
            Token::Whitespace(_) => {}
            Token::SemiColon => {
                stmt_start = true;
                txn_stmt = false;
                first_words.clear();
            }
            _ => {
                if stmt_start || first_words.len() < 2 {
                    if let Token::Word(w) = &t {
                        first_words.push(w.value.to_ascii_lowercase());
                    }
                    stmt_start = false;
                    txn_stmt = matches!(
                        first_words.first().map(String::as_str),
                        Some("begin" | "start")
                    ) || (first_words.first().map(String::as_str) == Some("set")
                        && matches!(
                            first_words.get(1).map(String::as_str),
                            Some("transaction" | "session") | None
                        ));
                }
                if txn_stmt && word(&t, "deferrable") {
                    // Drop a NOT just before it too.
                    let mut j = i;
                    let mut from = i;
                    while j > 0 {
                        j -= 1;
                        match &toks[j].token {
                            Token::Whitespace(_) => continue,
                            tk if word(tk, "not") => from = j,
                            _ => {}
                        }
                        break;
                    }
                    // And the comma that joined it to the other modes.
                    let mut to = i;
                    let mut k = from;
                    while k > 0 && matches!(toks[k - 1].token, Token::Whitespace(_)) {
                        k -= 1;
                    }
                    if k > 0 && toks[k - 1].token == Token::Comma {
                        from = k - 1;
                    } else {
                        let mut k = i + 1;
                        while k < toks.len() && matches!(toks[k].token, Token::Whitespace(_)) {
                            k += 1;
                        }
                        if k < toks.len() && toks[k].token == Token::Comma {
                            to = k;
                        }
                    }
                    toks.drain(from..=to);
                    i = from;
                    continue;
                }
            }
        }
        i += 1;
    }
}

fn fix_copy_booleans(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let words: Vec<&str> = sql
        .split_inclusive(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == '(')
        .collect();
    let mut prev_opt = false;
    let mut prev = String::new();
    let mut force_quote = false;
    for w in words {
        let core =
            w.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == '(');
        let tail = &w[core.len()..];
        let lower = core.to_ascii_lowercase();
        if prev_opt && (lower == "on" || lower == "off") {
            out.push_str(if lower == "on" { "TRUE" } else { "FALSE" });
            out.push_str(tail);
        } else if force_quote && core == "*" {
            // FORCE_QUOTE *: every column (sqlparser wants a column list).
            out.push_str("(\"*\")");
            out.push_str(tail);
        } else {
            out.push_str(w);
        }
        if !core.is_empty() {
            prev_opt = matches!(lower.as_str(), "freeze" | "header");
            force_quote = lower == "force_quote" || (prev == "force" && lower == "quote");
            prev = lower;
        }
    }
    out
}

/// A cursor's name: folded to lower case unless quoted.
fn cursor_name(p: &mut Parser<'_>) -> Result<String, ParseError> {
    let id = p.parse_identifier()?;
    Ok(if id.quote_style.is_some() {
        id.value
    } else {
        id.value.to_lowercase()
    })
}

/// A signed integer count.
fn fetch_count(p: &mut Parser<'_>) -> Result<Option<i64>, ParseError> {
    let neg = p.consume_token(&Token::Minus);
    if !neg {
        let _ = p.consume_token(&Token::Plus);
    }
    match p.peek_token().token {
        Token::Number(n, _) => {
            p.next_token();
            let v: i64 = n
                .parse()
                .map_err(|_| ParseError(format!("syntax error at or near \"{n}\"")))?;
            Ok(Some(if neg { -v } else { v }))
        }
        _ if neg => Err(ParseError("syntax error at or near \"-\"".into())),
        _ => Ok(None),
    }
}

/// FETCH/MOVE [direction] [FROM | IN] cursor, as PostgreSQL's grammar has
/// them.
fn parse_fetch(p: &mut Parser<'_>) -> Result<Statement, ParseError> {
    let move_only = word_is(p, "MOVE");
    p.next_token();
    let word = |p: &Parser<'_>, w: &str| word_is(p, w);
    let dir = if p.parse_keyword(Keyword::NEXT) {
        FetchDir::Forward(Some(1))
    } else if p.parse_keyword(Keyword::PRIOR) {
        FetchDir::Backward(Some(1))
    } else if p.parse_keyword(Keyword::FIRST) {
        FetchDir::Absolute(1)
    } else if p.parse_keyword(Keyword::LAST) {
        FetchDir::Absolute(-1)
    } else if p.parse_keyword(Keyword::ABSOLUTE) {
        FetchDir::Absolute(
            fetch_count(p)?
                .ok_or_else(|| ParseError("syntax error: ABSOLUTE needs a count".into()))?,
        )
    } else if p.parse_keyword(Keyword::RELATIVE) {
        FetchDir::Relative(
            fetch_count(p)?
                .ok_or_else(|| ParseError("syntax error: RELATIVE needs a count".into()))?,
        )
    } else if p.parse_keyword(Keyword::ALL) {
        FetchDir::Forward(None)
    } else if word(p, "FORWARD") || word(p, "BACKWARD") {
        let fwd = word(p, "FORWARD");
        p.next_token();
        let n = if p.parse_keyword(Keyword::ALL) {
            None
        } else {
            Some(fetch_count(p)?.unwrap_or(1))
        };
        if fwd {
            FetchDir::Forward(n)
        } else {
            FetchDir::Backward(n)
        }
    } else {
        match fetch_count(p)? {
            Some(n) => FetchDir::Forward(Some(n)),
            None => FetchDir::Forward(Some(1)),
        }
    };
    let _ = p.parse_keyword(Keyword::FROM) || p.parse_keyword(Keyword::IN);
    let cursor = cursor_name(p)?;
    Ok(Statement::Fetch {
        cursor,
        dir,
        move_only,
    })
}

fn word_is(p: &Parser<'_>, w: &str) -> bool {
    matches!(&p.peek_token().token, Token::Word(x) if x.value.eq_ignore_ascii_case(w))
}

/// Tables up to the end of the statement, each with its optional column
/// list (VACUUM and ANALYZE).
fn rest_names(p: &mut Parser<'_>) -> Result<Vec<(String, Vec<String>)>, ParseError> {
    let mut names: Vec<(String, Vec<String>)> = Vec::new();
    loop {
        match p.peek_token().token {
            Token::EOF | Token::SemiColon => break,
            Token::Comma => {
                p.next_token();
            }
            Token::LParen => {
                p.next_token();
                let Some(last) = names.last_mut() else {
                    return Err(ParseError("syntax error at or near \"(\"".into()));
                };
                loop {
                    last.1.push(p.parse_identifier()?.value);
                    if p.consume_token(&Token::RParen) {
                        break;
                    }
                    p.expect_token(&Token::Comma)?;
                }
            }
            _ => {
                let n = p.parse_object_name(false)?;
                names.push((n.to_string(), vec![]));
            }
        }
    }
    Ok(names)
}

/// CREATE [TEMP] SEQUENCE with its options in any order (PostgreSQL takes
/// them so; sqlparser wants a fixed order).
fn parse_create_sequence(p: &mut Parser<'_>) -> Result<Statement, ParseError> {
    p.next_token(); // CREATE
    let temporary = word_is(p, "TEMP") || word_is(p, "TEMPORARY");
    if temporary {
        p.next_token();
    }
    p.next_token(); // SEQUENCE
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = p.parse_object_name(false)?;
    let mut data_type = None;
    let mut opts = Vec::new();
    let mut owned_by = None;
    loop {
        if p.parse_keyword(Keyword::AS) {
            data_type = Some(p.parse_data_type()?);
        } else if sequence_option(p, &mut opts)? {
        } else if p.parse_keywords(&[Keyword::OWNED, Keyword::BY]) {
            owned_by = Some(p.parse_object_name(false)?);
        } else {
            break;
        }
    }
    Ok(Statement::Sql(Box::new(ast::Statement::CreateSequence {
        temporary,
        if_not_exists,
        name,
        data_type,
        sequence_options: opts,
        owned_by,
    })))
}

/// One option CREATE and ALTER SEQUENCE share (INCREMENT, MIN/MAXVALUE,
/// START, CACHE, [NO] CYCLE), added to `opts`; false when none is next.
fn sequence_option(
    p: &mut Parser<'_>,
    opts: &mut Vec<ast::SequenceOptions>,
) -> Result<bool, ParseError> {
    use ast::SequenceOptions as O;
    if p.parse_keyword(Keyword::INCREMENT) {
        let by = p.parse_keyword(Keyword::BY);
        opts.push(O::IncrementBy(p.parse_expr()?, by));
    } else if p.parse_keyword(Keyword::MINVALUE) {
        opts.push(O::MinValue(Some(p.parse_expr()?)));
    } else if p.parse_keyword(Keyword::MAXVALUE) {
        opts.push(O::MaxValue(Some(p.parse_expr()?)));
    } else if p.parse_keyword(Keyword::START) {
        let with = p.parse_keyword(Keyword::WITH);
        opts.push(O::StartWith(p.parse_expr()?, with));
    } else if p.parse_keyword(Keyword::CACHE) {
        opts.push(O::Cache(p.parse_expr()?));
    } else if p.parse_keyword(Keyword::CYCLE) {
        opts.push(O::Cycle(false));
    } else if p.parse_keyword(Keyword::NO) {
        if p.parse_keyword(Keyword::MINVALUE) {
            opts.push(O::MinValue(None));
        } else if p.parse_keyword(Keyword::MAXVALUE) {
            opts.push(O::MaxValue(None));
        } else if p.parse_keyword(Keyword::CYCLE) {
            opts.push(O::Cycle(true));
        } else {
            return Err(ParseError(format!(
                "syntax error at or near \"{}\"",
                p.peek_token().token
            )));
        }
    } else {
        return Ok(false);
    }
    Ok(true)
}

fn parse_alter_sequence(p: &mut Parser<'_>) -> Result<Statement, ParseError> {
    p.next_token(); // ALTER
    p.next_token(); // SEQUENCE
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = p.parse_object_name(false)?;
    let mut data_type = None;
    let mut options = Vec::new();
    let mut restart = None;
    let mut owned_by = None;
    loop {
        if p.parse_keyword(Keyword::AS) {
            data_type = Some(p.parse_data_type()?);
        } else if sequence_option(p, &mut options)? {
        } else if word_is(p, "RESTART") {
            p.next_token();
            let with = p.parse_keyword(Keyword::WITH);
            restart = Some(match p.peek_token().token {
                Token::Number(..) | Token::Minus | Token::Plus => Some(p.parse_expr()?),
                _ if with => Some(p.parse_expr()?),
                _ => None,
            });
        } else if p.parse_keywords(&[Keyword::OWNED, Keyword::BY]) {
            owned_by = Some(if p.parse_keyword(Keyword::NONE) {
                None
            } else {
                Some(p.parse_object_name(false)?)
            });
        } else {
            break;
        }
    }
    if !matches!(p.peek_token().token, Token::EOF | Token::SemiColon) {
        return Err(ParseError(format!(
            "syntax error at or near \"{}\"",
            p.peek_token().token
        )));
    }
    Ok(Statement::AlterSequence {
        name,
        if_exists,
        data_type,
        options,
        restart,
        owned_by,
    })
}

/// An identifier as PostgreSQL folds it: lower case unless quoted.
fn ident(p: &mut Parser<'_>) -> Result<String, ParseError> {
    let i = p.parse_identifier()?;
    Ok(match i.quote_style {
        Some(_) => i.value,
        None => i.value.to_lowercase(),
    })
}

/// A database option's value: a word, a string, a (signed) number or
/// DEFAULT, as text.
fn option_value(p: &mut Parser<'_>) -> Result<String, ParseError> {
    let t = p.next_token();
    Ok(match t.token {
        Token::Word(w) if w.quote_style.is_none() => w.value.to_lowercase(),
        Token::Word(w) => w.value,
        Token::SingleQuotedString(s) => s,
        Token::Number(n, _) => n,
        Token::Minus => match p.next_token().token {
            Token::Number(n, _) => format!("-{n}"),
            other => return Err(ParseError(format!("syntax error at or near \"{other}\""))),
        },
        other => return Err(ParseError(format!("syntax error at or near \"{other}\""))),
    })
}

/// `[WITH] name [=] value ...` up to the end of the statement.
fn database_options(p: &mut Parser<'_>) -> Result<Vec<(String, String)>, ParseError> {
    let _ = p.parse_keyword(Keyword::WITH);
    let mut out = Vec::new();
    while !matches!(p.peek_token().token, Token::EOF | Token::SemiColon) {
        let mut name = ident(p)?;
        if name == "connection" {
            if !word_is(p, "LIMIT") {
                return Err(ParseError("syntax error: expected CONNECTION LIMIT".into()));
            }
            p.next_token();
            name = "connection limit".into();
        }
        let _ = p.consume_token(&Token::Eq);
        out.push((name, option_value(p)?));
    }
    Ok(out)
}

fn parse_database(p: &mut Parser<'_>) -> Result<Statement, ParseError> {
    let verb = p.next_token().token.to_string().to_uppercase();
    p.next_token(); // DATABASE
    let ddl = match verb.as_str() {
        "CREATE" => DatabaseDdl::Create {
            name: ident(p)?,
            options: database_options(p)?,
        },
        "DROP" => {
            let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let name = ident(p)?;
            let mut force = false;
            let _ = p.parse_keyword(Keyword::WITH);
            if p.consume_token(&Token::LParen) {
                loop {
                    match ident(p)?.as_str() {
                        "force" => force = true,
                        o => {
                            return Err(ParseError(format!(
                                "unrecognized DROP DATABASE option \"{o}\""
                            )))
                        }
                    }
                    if p.consume_token(&Token::RParen) {
                        break;
                    }
                    p.expect_token(&Token::Comma)?;
                }
            }
            DatabaseDdl::Drop {
                name,
                if_exists,
                force,
            }
        }
        _ => {
            let name = ident(p)?;
            let action = if p.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
                AlterDatabase::Rename(ident(p)?)
            } else if p.parse_keywords(&[Keyword::OWNER, Keyword::TO]) {
                AlterDatabase::Owner(match p.peek_token().token {
                    Token::Word(w)
                        if w.quote_style.is_none()
                            && w.value.eq_ignore_ascii_case("current_user") =>
                    {
                        p.next_token();
                        "\u{1}current_user".into()
                    }
                    _ => ident(p)?,
                })
            } else if p.parse_keyword(Keyword::SET) {
                let name = ident(p)?;
                if !p.parse_keyword(Keyword::TO) && !p.consume_token(&Token::Eq) {
                    return Err(ParseError("syntax error: expected TO or =".into()));
                }
                let mut vals = vec![];
                loop {
                    vals.push(option_value(p)?);
                    if !p.consume_token(&Token::Comma) {
                        break;
                    }
                }
                if vals.len() == 1 && vals[0] == "default" {
                    AlterDatabase::Set(name, None)
                } else {
                    AlterDatabase::Set(name, Some(vals.join(", ")))
                }
            } else if word_is(p, "RESET") {
                p.next_token();
                AlterDatabase::Set(ident(p)?, None)
            } else {
                AlterDatabase::Options(database_options(p)?)
            };
            DatabaseDdl::Alter { name, action }
        }
    };
    Ok(Statement::Database(ddl))
}

fn parse_one(p: &mut Parser<'_>) -> Result<Statement, ParseError> {
    if word_is(p, "FETCH") || word_is(p, "MOVE") {
        return parse_fetch(p);
    }
    if word_is(p, "CLOSE") {
        p.next_token();
        if p.parse_keyword(Keyword::ALL) {
            return Ok(Statement::CloseCursor(None));
        }
        return Ok(Statement::CloseCursor(Some(cursor_name(p)?)));
    }
    if word_is(p, "ALTER")
        && matches!(&p.peek_nth_token(1).token, Token::Word(w) if w.value.eq_ignore_ascii_case("SEQUENCE"))
    {
        return parse_alter_sequence(p);
    }
    if (word_is(p, "CREATE") || word_is(p, "DROP") || word_is(p, "ALTER"))
        && matches!(&p.peek_nth_token(1).token, Token::Word(w) if w.value.eq_ignore_ascii_case("DATABASE"))
    {
        return parse_database(p);
    }
    if word_is(p, "CREATE") {
        let w = |n: usize, s: &str| matches!(&p.peek_nth_token(n).token, Token::Word(x) if x.value.eq_ignore_ascii_case(s));
        if w(1, "SEQUENCE") || ((w(1, "TEMP") || w(1, "TEMPORARY")) && w(2, "SEQUENCE")) {
            return parse_create_sequence(p);
        }
    }
    if word_is(p, "CHECKPOINT") {
        p.next_token();
        return Ok(Statement::Checkpoint);
    }
    if word_is(p, "ABORT") {
        p.next_token();
        let _ = p.parse_keyword(Keyword::WORK) || p.parse_keyword(Keyword::TRANSACTION);
        return Ok(Statement::Sql(Box::new(ast::Statement::Rollback {
            chain: false,
            savepoint: None,
        })));
    }
    if word_is(p, "VACUUM") {
        p.next_token();
        let (mut full, mut verbose, mut analyze) = (false, false, false);
        if p.consume_token(&Token::LParen) {
            loop {
                let w = p.parse_identifier()?.value.to_lowercase();
                // An option may carry a boolean value: (ANALYZE on).
                let on = match p.peek_token().token {
                    Token::Comma | Token::RParen => true,
                    _ => {
                        let v = p.next_token().token.to_string().to_lowercase();
                        !matches!(v.as_str(), "false" | "off" | "0")
                    }
                };
                match w.as_str() {
                    "full" => full = on,
                    "verbose" => verbose = on,
                    "analyze" => analyze = on,
                    "freeze"
                    | "disable_page_skipping"
                    | "skip_locked"
                    | "index_cleanup"
                    | "process_toast"
                    | "truncate"
                    | "parallel" => {}
                    _ => return Err(ParseError(format!("unrecognized VACUUM option \"{w}\""))),
                }
                if p.consume_token(&Token::RParen) {
                    break;
                }
                p.expect_token(&Token::Comma)?;
            }
        } else {
            loop {
                if p.parse_keyword(Keyword::FULL) {
                    full = true;
                } else if p.parse_keyword(Keyword::VERBOSE) {
                    verbose = true;
                } else if p.parse_keyword(Keyword::ANALYZE) {
                    analyze = true;
                } else if word_is(p, "FREEZE") {
                    p.next_token();
                } else {
                    break;
                }
            }
        }
        let tables = rest_names(p)?;
        return Ok(Statement::Vacuum {
            full,
            verbose,
            analyze,
            tables,
        });
    }
    // CREATE USER / ALTER USER are CREATE ROLE ... LOGIN / ALTER ROLE in
    // PostgreSQL (sqlparser reads them as other dialects' statements).
    if word_is(p, "CREATE")
        && matches!(&p.peek_nth_token(1).token, Token::Word(w) if w.value.eq_ignore_ascii_case("USER"))
    {
        p.next_token();
        p.next_token();
        let mut cr = p.parse_create_role()?;
        cr.login = cr.login.or(Some(true));
        return Ok(Statement::Sql(Box::new(ast::Statement::CreateRole(cr))));
    }
    if word_is(p, "ALTER")
        && matches!(&p.peek_nth_token(1).token, Token::Word(w) if w.value.eq_ignore_ascii_case("USER"))
    {
        p.next_token();
        p.next_token();
        return Ok(Statement::Sql(Box::new(p.parse_alter_role()?)));
    }
    if word_is(p, "REINDEX") {
        p.next_token();
        if p.consume_token(&Token::LParen) {
            // Options such as (VERBOSE): accepted.
            while !p.consume_token(&Token::RParen) {
                if p.next_token().token == Token::EOF {
                    return Err(ParseError("syntax error at end of input".into()));
                }
            }
        }
        let index = if p.parse_keyword(Keyword::INDEX) {
            true
        } else if p.parse_keyword(Keyword::TABLE) {
            false
        } else {
            return Err(ParseError(
                "syntax error: expected REINDEX TABLE or REINDEX INDEX".into(),
            ));
        };
        let _ = word_is(p, "CONCURRENTLY") && {
            p.next_token();
            true
        };
        let name = p.parse_object_name(false)?.to_string();
        return Ok(Statement::Reindex { index, name });
    }
    if word_is(p, "BACKUP") {
        p.next_token();
        if !p.parse_keyword(Keyword::DATABASE) || !p.parse_keyword(Keyword::TO) {
            return Err(ParseError(
                "syntax error: expected BACKUP DATABASE TO '<directory>'".into(),
            ));
        }
        let to = p.parse_literal_string()?;
        let incremental_from = if word_is(p, "INCREMENTAL") {
            p.next_token();
            if !p.parse_keyword(Keyword::FROM) {
                return Err(ParseError(
                    "syntax error: expected INCREMENTAL FROM '<base directory>'".into(),
                ));
            }
            Some(p.parse_literal_string()?)
        } else {
            None
        };
        return Ok(Statement::Backup {
            to,
            incremental_from,
        });
    }
    if word_is(p, "ANALYZE") || word_is(p, "ANALYSE") {
        p.next_token();
        let verbose = p.parse_keyword(Keyword::VERBOSE);
        let tables = rest_names(p)?;
        return Ok(Statement::Analyze { verbose, tables });
    }
    Ok(Statement::Sql(Box::new(p.parse_statement()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_statements() {
        let s = parse("checkpoint; VACUUM ANALYZE pgbench_branches; vacuum (verbose, analyze) t; -- c\n select 1;").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[0], Statement::Checkpoint);
        assert_eq!(
            s[1],
            Statement::Vacuum {
                full: false,
                verbose: false,
                analyze: true,
                tables: vec![("pgbench_branches".into(), vec![])]
            }
        );
        assert!(matches!(
            s[2],
            Statement::Vacuum {
                verbose: true,
                analyze: true,
                ..
            }
        ));
        assert!(matches!(s[3], Statement::Sql(_)));
        assert_eq!(
            parse("analyze t (a, b), u").unwrap()[0],
            Statement::Analyze {
                verbose: false,
                tables: vec![
                    ("t".into(), vec!["a".into(), "b".into()]),
                    ("u".into(), vec![])
                ]
            }
        );
        assert!(parse("vacuum (bogus) t").is_err());
        assert_eq!(
            parse("backup database to '/b/2' incremental from '/b/1'").unwrap()[0],
            Statement::Backup {
                to: "/b/2".into(),
                incremental_from: Some("/b/1".into())
            }
        );
        assert!(parse("backup database '/x'").is_err());
        assert!(parse("").unwrap().is_empty());
        assert!(parse(" ; ").unwrap().is_empty());
        assert!(parse("selec 1").is_err());
    }
}
