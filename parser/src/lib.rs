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
    /// VACUUM [FULL] [VERBOSE] [ANALYZE] [tables]; options are recorded as
    /// given so the executor can say what it did.
    Vacuum {
        full: bool,
        verbose: bool,
        analyze: bool,
        tables: Vec<String>,
    },
    Analyze {
        verbose: bool,
        tables: Vec<String>,
    },
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

/// Parses a string holding zero or more statements separated by semicolons.
pub fn parse(sql: &str) -> Result<Vec<Statement>, ParseError> {
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
    let mut p = Parser::new(&dialect)
        .with_recursion_limit(200)
        .try_with_sql(sql)?;
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

fn fix_copy_booleans(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let words: Vec<&str> = sql
        .split_inclusive(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == '(')
        .collect();
    let mut prev_opt = false;
    for w in words {
        let core =
            w.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == '(');
        let tail = &w[core.len()..];
        let lower = core.to_ascii_lowercase();
        if prev_opt && (lower == "on" || lower == "off") {
            out.push_str(if lower == "on" { "TRUE" } else { "FALSE" });
            out.push_str(tail);
        } else {
            out.push_str(w);
        }
        if !core.is_empty() {
            prev_opt = matches!(lower.as_str(), "freeze" | "header");
        }
    }
    out
}

fn word_is(p: &Parser<'_>, w: &str) -> bool {
    matches!(&p.peek_token().token, Token::Word(x) if x.value.eq_ignore_ascii_case(w))
}

/// Identifiers up to the end of the statement (table lists of VACUUM/ANALYZE).
fn rest_names(p: &mut Parser<'_>) -> Result<Vec<String>, ParseError> {
    let mut names = Vec::new();
    loop {
        match p.peek_token().token {
            Token::EOF | Token::SemiColon => break,
            Token::Comma => {
                p.next_token();
            }
            Token::LParen => {
                // Column list of ANALYZE t (a, b): accepted, not used yet.
                let mut depth = 0;
                loop {
                    match p.next_token().token {
                        Token::LParen => depth += 1,
                        Token::RParen => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        Token::EOF => {
                            return Err(ParseError("syntax error at end of input".into()))
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                let n = p.parse_object_name(false)?;
                names.push(n.to_string());
            }
        }
    }
    Ok(names)
}

fn parse_one(p: &mut Parser<'_>) -> Result<Statement, ParseError> {
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
                    _ => {}
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
                tables: vec!["pgbench_branches".into()]
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
        assert!(parse("").unwrap().is_empty());
        assert!(parse(" ; ").unwrap().is_empty());
        assert!(parse("selec 1").is_err());
    }
}
