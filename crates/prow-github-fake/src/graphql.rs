//! `POST /graphql`: a table of recognised queries, not a GraphQL engine.
//!
//! Each [`Resolver`] says whether it understands a query (by looking at its text with whitespace
//! removed) and builds the `data` object for it from the fake's state. **Extension point:** to
//! support another query, e.g. Tide's `search(type: ISSUE, query: $query, …)` with its
//! `... on PullRequest { … }` selection, write a `fn(&Core, actor, variables) -> Result<Value,
//! Vec<String>>` (the `core::Core` lock and `render` helpers give access to pull requests,
//! labels, statuses and commits) and add it to [`RESOLVERS`] before the catch-all.

use serde_json::{Value, json};

use crate::core::Core;

/// One supported query shape.
pub(crate) struct Resolver {
    /// For logs and error messages.
    pub name: &'static str,
    /// Whether this resolver handles the query; gets the query with all whitespace removed.
    pub matches: fn(&str) -> bool,
    /// Builds `data`, or the GraphQL error messages.
    pub resolve: fn(&Core, &str, &Value) -> Result<Value, Vec<String>>,
}

/// The queries the fake answers, tried in order.
pub(crate) const RESOLVERS: &[Resolver] = &[Resolver {
    name: "viewer",
    matches: |q| q.contains("viewer{login"),
    resolve: viewer,
}];

/// `query { viewer { login } }`.
fn viewer(core: &Core, actor: &str, _vars: &Value) -> Result<Value, Vec<String>> {
    let user = core
        .authenticated_user(actor)
        .map_err(|e| vec![e.to_string()])?;
    Ok(json!({"viewer": {"login": user.get("login").cloned().unwrap_or(Value::Null)}}))
}

/// Answers a GraphQL request with GitHub's envelope: `{"data": …}` or `{"data": null,
/// "errors": [{"message": …}]}` (always HTTP 200, like GitHub).
pub(crate) fn execute(core: &Core, actor: &str, query: &str, variables: &Value) -> Value {
    let compact: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    for r in RESOLVERS {
        if (r.matches)(&compact) {
            tracing::debug!(resolver = r.name, "graphql query");
            return match (r.resolve)(core, actor, variables) {
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
