//! `POST /graphql`: a table of recognised queries, not a GraphQL engine.
//!
//! Each [`Resolver`] says whether it understands a query (by looking at its text with whitespace
//! removed) and builds the `data` object for it from the fake's state. Answered today:
//!
//! * `search(type: ISSUE, first: N, after: $cursor, query: $query)` — Tide's and Deck's
//!   pull-request search. Arguments may be literals or variables. The selection set is **not**
//!   interpreted: every node carries the full field set Tide and Deck read (see
//!   `core/search.rs`), and `rateLimit` is always included (`viewer` too when the document asks
//!   for it). Cursors are opaque strings; `first` is required and at most 100, as on GitHub.
//! * `viewer { login }` (optionally with `rateLimit`).
//! * `rateLimit { … }` alone.
//!
//! **Extension point:** to support another query, write a `fn(&Core, actor, query, variables) ->
//! Result<Value, Vec<String>>` and add it to [`RESOLVERS`]. Unknown queries get a GraphQL error.

use base64::Engine;
use serde_json::{Value, json};

use crate::core::Core;

/// Builds `data` from (core, acting login, query text, variables), or the error messages.
pub(crate) type ResolveFn = fn(&Core, &str, &str, &Value) -> Result<Value, Vec<String>>;

/// One supported query shape.
pub(crate) struct Resolver {
    /// For logs and error messages.
    pub name: &'static str,
    /// Whether this resolver handles the query; gets the query with all whitespace removed.
    pub matches: fn(&str) -> bool,
    /// Builds `data` from (core, acting login, query text, variables), or the GraphQL error
    /// messages.
    pub resolve: ResolveFn,
}

/// The queries the fake answers, tried in order.
pub(crate) const RESOLVERS: &[Resolver] = &[
    Resolver {
        name: "search",
        matches: |q| q.contains("search("),
        resolve: search,
    },
    Resolver {
        name: "viewer",
        matches: |q| q.contains("viewer{login"),
        resolve: viewer,
    },
    Resolver {
        name: "rateLimit",
        matches: |q| q.contains("rateLimit{"),
        resolve: rate_limit,
    },
];

/// `query { viewer { login } }`.
fn viewer(core: &Core, actor: &str, query: &str, _vars: &Value) -> Result<Value, Vec<String>> {
    let mut data = json!({"viewer": viewer_json(core, actor)?});
    if query.contains("rateLimit") {
        data["rateLimit"] = rate_limit_json();
    }
    Ok(data)
}

fn viewer_json(core: &Core, actor: &str) -> Result<Value, Vec<String>> {
    let user = core
        .authenticated_user(actor)
        .map_err(|e| vec![e.to_string()])?;
    Ok(json!({"login": user.get("login").cloned().unwrap_or(Value::Null)}))
}

/// `query { rateLimit { cost remaining … } }`: constant, like the REST headers.
fn rate_limit(_: &Core, _: &str, _: &str, _: &Value) -> Result<Value, Vec<String>> {
    Ok(json!({"rateLimit": rate_limit_json()}))
}

fn rate_limit_json() -> Value {
    let reset = chrono::Utc::now() + chrono::Duration::hours(1);
    json!({
        "cost": 1,
        "remaining": 4999,
        "limit": 5000,
        "used": 1,
        "resetAt": crate::render::ts(reset),
    })
}

/// An argument value as written in the query document.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// `$name`.
    Var(String),
    /// A literal (string, number, boolean, null or enum name as a string).
    Lit(Value),
}

/// The arguments of the first `field(…)` in `query`, e.g. `search(type: ISSUE, first: 100,
/// after: $cursor, query: $q)`; `None` if the field is not there. Only scalar literals and
/// variables are understood (all `search` takes).
fn field_args(query: &str, field: &str) -> Result<Option<Vec<(String, Arg)>>, String> {
    let bytes = query.as_bytes();
    let mut from = 0;
    let open = loop {
        let Some(pos) = query[from..].find(field).map(|p| p + from) else {
            return Ok(None);
        };
        from = pos + field.len();
        let before_ok = pos == 0 || {
            let b = bytes[pos - 1];
            !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        };
        let rest = query[from..].trim_start();
        if before_ok && rest.starts_with('(') {
            break query.len() - rest.len() + 1;
        }
    };
    let mut args = Vec::new();
    let mut chars = query[open..].char_indices().peekable();
    let text = &query[open..];
    loop {
        while chars
            .peek()
            .is_some_and(|(_, c)| c.is_whitespace() || *c == ',')
        {
            chars.next();
        }
        let Some(&(start, c)) = chars.peek() else {
            return Err(format!("unterminated arguments of {field}"));
        };
        if c == ')' {
            return Ok(Some(args));
        }
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                end = i + c.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let name = text[start..end].to_owned();
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if name.is_empty() || chars.next().map(|(_, c)| c) != Some(':') {
            return Err(format!("cannot parse the arguments of {field}"));
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let value = match chars.peek().map(|(_, c)| *c) {
            Some('"') => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next().map(|(_, c)| c) {
                        Some('"') => break,
                        Some('\\') => match chars.next().map(|(_, c)| c) {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(other) => s.push(other),
                            None => return Err(format!("unterminated string in {field}")),
                        },
                        Some(c) => s.push(c),
                        None => return Err(format!("unterminated string in {field}")),
                    }
                }
                Arg::Lit(Value::String(s))
            }
            Some(_) => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-' | '.') {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if let Some(var) = word.strip_prefix('$') {
                    Arg::Var(var.to_owned())
                } else if let Ok(n) = word.parse::<i64>() {
                    Arg::Lit(json!(n))
                } else {
                    match word.as_str() {
                        "" => {
                            return Err(format!(
                                "unsupported argument value for {name} in {field}"
                            ));
                        }
                        "null" => Arg::Lit(Value::Null),
                        "true" => Arg::Lit(Value::Bool(true)),
                        "false" => Arg::Lit(Value::Bool(false)),
                        _ => Arg::Lit(Value::String(word)),
                    }
                }
            }
            None => return Err(format!("unterminated arguments of {field}")),
        };
        args.push((name, value));
    }
}

/// The value of argument `name`, with variables substituted (missing ones are `null`).
fn arg(args: &[(String, Arg)], vars: &Value, name: &str) -> Value {
    match args.iter().find(|(n, _)| n == name).map(|(_, a)| a) {
        Some(Arg::Var(v)) => vars.get(v).cloned().unwrap_or(Value::Null),
        Some(Arg::Lit(v)) => v.clone(),
        None => Value::Null,
    }
}

const MAX_PAGE: u64 = 100;

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("cursor:")?
        .parse()
        .ok()
}

/// `search(type: ISSUE, first:, after:, query:)` (plus `viewer` and `rateLimit` when the same
/// document asks for them). See [`crate::search`] for the query syntax.
fn search(core: &Core, actor: &str, query: &str, vars: &Value) -> Result<Value, Vec<String>> {
    let one = |m: String| vec![m];
    let args = field_args(query, "search")
        .map_err(one)?
        .ok_or_else(|| one("no search field".into()))?;
    for (name, _) in &args {
        if !matches!(name.as_str(), "type" | "first" | "after" | "query") {
            return Err(one(format!(
                "the fake GitHub does not support the argument {name} of search"
            )));
        }
    }
    match arg(&args, vars, "type") {
        Value::String(t) if t == "ISSUE" => {}
        other => {
            return Err(one(format!(
                "the fake GitHub only supports search(type: ISSUE), got {other}"
            )));
        }
    }
    let first = match arg(&args, vars, "first") {
        Value::Null => {
            return Err(one(
                "You must provide a `first` or `last` value to properly paginate the `search` connection.".into(),
            ));
        }
        v => v
            .as_u64()
            .ok_or_else(|| one(format!("first must be a non-negative integer, got {v}")))?,
    };
    if first > MAX_PAGE {
        return Err(one(format!(
            "Requesting {first} records on the `search` connection exceeds the `first` limit of {MAX_PAGE} records."
        )));
    }
    let offset = match arg(&args, vars, "after") {
        Value::Null => 0,
        Value::String(c) => decode_cursor(&c)
            .ok_or_else(|| one(format!("`{c}` does not appear to be a valid cursor.")))?,
        other => return Err(one(format!("after must be a string, got {other}"))),
    };
    let text = match arg(&args, vars, "query") {
        Value::String(q) => q,
        other => return Err(one(format!("search needs a query string, got {other}"))),
    };
    let parsed = crate::search::parse(&text).map_err(one)?;
    let first = usize::try_from(first).unwrap_or(0);
    let page = core.search(actor, &parsed, first, offset);
    let returned = page.nodes.len();
    let end = offset + returned;
    let mut data = json!({
        "rateLimit": rate_limit_json(),
        "search": {
            "issueCount": page.total,
            "pageInfo": {
                "hasNextPage": end < page.total,
                "endCursor": (returned > 0).then(|| encode_cursor(end)),
                "hasPreviousPage": offset > 0,
                "startCursor": (returned > 0).then(|| encode_cursor(offset + 1)),
            },
            "nodes": page.nodes,
        }
    });
    let compact: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("viewer{") {
        data["viewer"] = viewer_json(core, actor)?;
    }
    Ok(data)
}

/// Answers a GraphQL request with GitHub's envelope: `{"data": …}` or `{"data": null,
/// "errors": [{"message": …}]}` (always HTTP 200, like GitHub).
pub(crate) fn execute(core: &Core, actor: &str, query: &str, variables: &Value) -> Value {
    let compact: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    for r in RESOLVERS {
        if (r.matches)(&compact) {
            tracing::debug!(resolver = r.name, "graphql query");
            return match (r.resolve)(core, actor, query, variables) {
                Ok(data) => json!({"data": data}),
                Err(errors) => json!({
                    "data": null,
                    "errors": errors.into_iter().map(|m| json!({"message": m})).collect::<Vec<_>>()
                }),
            };
        }
    }
    json!({
        "data": null,
        "errors": [{"message": "the fake GitHub does not support this GraphQL query", "type": "UNSUPPORTED"}]
    })
}
