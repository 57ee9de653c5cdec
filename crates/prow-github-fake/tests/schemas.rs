//! Fidelity: REST responses and webhook payloads validate against GitHub's own OpenAPI
//! description (`shared/corpus/github-api/api.github.com.json`), and webhook payloads carry the
//! fields of the real examples in `shared/corpus/github-webhooks/payload-examples`.

mod common;

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use prow_github_fake::{Delivery, router};
use serde_json::{Value, json};
use tower::ServiceExt;

/// OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a `null` alternative.
fn convert(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                convert(child);
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                m.remove("nullable");
                match m.get("type").cloned() {
                    Some(Value::String(t)) => {
                        m.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = m.get_mut("enum") {
                            e.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(m));
                        m.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(convert),
        _ => {}
    }
}

/// GitHub's component schemas, compiled once into a single validator whose properties are the
/// schema names in use (`name` or `name[]` for arrays); instances are checked as `{key: value}`.
struct Schemas {
    validator: jsonschema::Validator,
    names: BTreeSet<String>,
}

impl Schemas {
    fn load(names: &[&str]) -> Schemas {
        let path = common::corpus().join("github-api/api.github.com.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).expect("OpenAPI JSON");
        let mut components = doc["components"].clone();
        convert(&mut components);
        let mut properties = serde_json::Map::new();
        for name in names {
            assert!(
                components["schemas"].get(*name).is_some(),
                "no schema {name}"
            );
            let target = json!({"$ref": format!("#/components/schemas/{name}")});
            properties.insert(
                format!("{name}[]"),
                json!({"type": "array", "items": target.clone()}),
            );
            properties.insert((*name).to_owned(), target);
        }
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": properties,
            "components": components,
        });
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"));
        Schemas {
            validator,
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    /// Validation errors of `instance` against `#/components/schemas/{name}` (or an array of
    /// them when `array`).
    fn check(&self, name: &str, instance: &Value, array: bool) -> Vec<String> {
        assert!(self.names.contains(name), "schema {name} not loaded");
        let key = format!("{name}{}", if array { "[]" } else { "" });
        let wrapped = json!({ key.clone(): instance });
        self.validator
            .iter_errors(&wrapped)
            .take(10)
            .map(|e| format!("{key}: {e} at {}", e.instance_path()))
            .collect()
    }
}

struct Api {
    app: Router,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("token {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("router answers");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, value)
    }
}

const BOT: &str = "test-token-prow-bot";
const ALICE: &str = "test-token-alice";
const CAROL: &str = "test-token-carol";
const R: &str = "/repos/acme/widgets";

/// Webhook schemas for every event/action the fake emits.
const WEBHOOKS: [&str; 25] = [
    "webhook-issue-comment-created",
    "webhook-issue-comment-edited",
    "webhook-issue-comment-deleted",
    "webhook-issues-opened",
    "webhook-issues-edited",
    "webhook-issues-closed",
    "webhook-issues-reopened",
    "webhook-issues-labeled",
    "webhook-issues-unlabeled",
    "webhook-issues-assigned",
    "webhook-issues-unassigned",
    "webhook-pull-request-opened",
    "webhook-pull-request-edited",
    "webhook-pull-request-closed",
    "webhook-pull-request-reopened",
    "webhook-pull-request-labeled",
    "webhook-pull-request-unlabeled",
    "webhook-pull-request-assigned",
    "webhook-pull-request-review-requested",
    "webhook-pull-request-review-request-removed",
    "webhook-pull-request-synchronize",
    "webhook-pull-request-review-submitted",
    "webhook-pull-request-review-comment-created",
    "webhook-push",
    "webhook-status",
];

/// REST response schemas the test validates against.
const REST_SCHEMAS: [&str; 29] = [
    "issue-comment",
    "label",
    "issue",
    "issue-event",
    "pull-request",
    "pull-request-review",
    "pull-request-review-comment",
    "status",
    "content-file",
    "file-commit",
    "private-user",
    "full-repository",
    "diff-entry",
    "commit",
    "combined-commit-status",
    "git-ref",
    "git-tree",
    "content-directory",
    "branch-with-protection",
    "short-branch",
    "team",
    "team-full",
    "simple-user",
    "pull-request-merge-result",
    "basic-error",
    "branch-protection",
    "repository-collaborator-permission",
    "team-membership",
    "milestone",
];

fn webhook_schema(d: &Delivery, payload: &Value) -> String {
    match d.event_type.as_str() {
        "push" | "status" => format!("webhook-{}", d.event_type),
        other => format!(
            "webhook-{}-{}",
            other.replace('_', "-"),
            payload["action"]
                .as_str()
                .unwrap_or_default()
                .replace('_', "-")
        ),
    }
}

/// Drives every kind of change over HTTP, validating each response and, at the end, every
/// webhook the changes produced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_responses_and_webhooks_match_github_schemas() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let api = Api {
        app: router(fake.clone()),
    };
    let schemas = Schemas::load(&[REST_SCHEMAS.as_slice(), WEBHOOKS.as_slice()].concat());
    // The validator is not vacuous.
    assert!(
        !schemas
            .check("issue", &json!({"number": "one"}), false)
            .is_empty()
    );
    assert!(!schemas.check("webhook-push", &json!({}), false).is_empty());
    let mut failures: Vec<String> = Vec::new();
    let mut check = |schemas: &Schemas,
                     what: &str,
                     name: &str,
                     status: StatusCode,
                     body: &Value,
                     array: bool| {
        if !status.is_success() {
            failures.push(format!("{what}: HTTP {status}: {body}"));
            return;
        }
        failures.extend(
            schemas
                .check(name, body, array)
                .into_iter()
                .map(|e| format!("{what}: {e}")),
        );
    };

    // Conversation and labels.
    let (s, c) = api
        .call(
            "POST",
            &format!("{R}/issues/2/comments"),
            ALICE,
            Some(json!({"body": "/lgtm"})),
        )
        .await;
    check(&schemas, "create comment", "issue-comment", s, &c, false);
    let id = c["id"].as_u64().unwrap_or_default();
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/issues/comments/{id}"),
            ALICE,
            Some(json!({"body": "/lgtm cancel"})),
        )
        .await;
    check(&schemas, "edit comment", "issue-comment", s, &v, false);
    let (s, v) = api
        .call("GET", &format!("{R}/issues/2/comments"), ALICE, None)
        .await;
    check(&schemas, "list comments", "issue-comment", s, &v, true);
    let (s, _) = api
        .call("DELETE", &format!("{R}/issues/comments/{id}"), ALICE, None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/issues/2/labels"),
            BOT,
            Some(json!({"labels": ["lgtm", "size/S"]})),
        )
        .await;
    check(&schemas, "add labels", "label", s, &v, true);
    let (s, v) = api
        .call(
            "DELETE",
            &format!("{R}/issues/2/labels/size%2FS"),
            BOT,
            None,
        )
        .await;
    check(&schemas, "remove label", "label", s, &v, true);
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/issues/1/labels"),
            BOT,
            Some(json!(["triage/accepted"])),
        )
        .await;
    check(&schemas, "add issue labels", "label", s, &v, true);
    let (s, v) = api
        .call(
            "DELETE",
            &format!("{R}/issues/1/labels/triage%2Faccepted"),
            BOT,
            None,
        )
        .await;
    check(&schemas, "remove issue label", "label", s, &v, true);
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/issues/1/assignees"),
            BOT,
            Some(json!({"assignees": ["alice"]})),
        )
        .await;
    check(&schemas, "assign", "issue", s, &v, false);
    let (s, v) = api
        .call(
            "DELETE",
            &format!("{R}/issues/1/assignees"),
            BOT,
            Some(json!({"assignees": ["alice"]})),
        )
        .await;
    check(&schemas, "unassign", "issue", s, &v, false);

    // Issue lifecycle.
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/issues"),
            CAROL,
            Some(json!({"title": "New bug", "body": "It broke"})),
        )
        .await;
    check(&schemas, "create issue", "issue", s, &v, false);
    let n = v["number"].as_u64().unwrap_or_default();
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/issues/{n}"),
            CAROL,
            Some(json!({"title": "Newer bug"})),
        )
        .await;
    check(&schemas, "edit issue", "issue", s, &v, false);
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/issues/{n}"),
            BOT,
            Some(json!({"state": "closed", "state_reason": "not_planned"})),
        )
        .await;
    check(&schemas, "close issue", "issue", s, &v, false);
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/issues/{n}"),
            BOT,
            Some(json!({"state": "open"})),
        )
        .await;
    check(&schemas, "reopen issue", "issue", s, &v, false);
    let (s, v) = api.call("GET", &format!("{R}/issues"), BOT, None).await;
    check(&schemas, "list issues", "issue", s, &v, true);
    let (s, v) = api
        .call("GET", &format!("{R}/issues/1/events"), BOT, None)
        .await;
    check(&schemas, "issue events", "issue-event", s, &v, true);

    // Pull request activity.
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/pulls/2/requested_reviewers"),
            BOT,
            Some(json!({"reviewers": ["bob"]})),
        )
        .await;
    check(&schemas, "request review", "pull-request", s, &v, false);
    let (s, v) = api
        .call(
            "DELETE",
            &format!("{R}/pulls/2/requested_reviewers"),
            BOT,
            Some(json!({"reviewers": ["bob"]})),
        )
        .await;
    check(&schemas, "unrequest review", "pull-request", s, &v, false);
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/issues/2/assignees"),
            BOT,
            Some(json!({"assignees": ["bob"]})),
        )
        .await;
    check(&schemas, "assign pr", "issue", s, &v, false);
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/pulls/2"),
            BOT,
            Some(json!({"title": "Make widgets much shinier", "body": "Now more."})),
        )
        .await;
    check(&schemas, "edit pr", "pull-request", s, &v, false);
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/pulls/2/reviews"),
            ALICE,
            Some(json!({"event": "APPROVE", "body": "nice", "comments": [{"path": "docs/shiny.md", "line": 1, "body": "so shiny"}]})),
        )
        .await;
    check(
        &schemas,
        "create review",
        "pull-request-review",
        s,
        &v,
        false,
    );
    let (s, v) = api
        .call("GET", &format!("{R}/pulls/2/reviews"), ALICE, None)
        .await;
    check(&schemas, "list reviews", "pull-request-review", s, &v, true);
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/pulls/2/comments"),
            ALICE,
            Some(json!({"path": "src/widget.go", "line": 3, "body": "why?"})),
        )
        .await;
    check(
        &schemas,
        "create review comment",
        "pull-request-review-comment",
        s,
        &v,
        false,
    );
    let (s, v) = api
        .call("GET", &format!("{R}/pulls/2/comments"), ALICE, None)
        .await;
    check(
        &schemas,
        "list review comments",
        "pull-request-review-comment",
        s,
        &v,
        true,
    );
    let head = fake
        .pull_request("acme", "widgets", 2)
        .map(|p| p.head.sha)
        .unwrap_or_default();
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/statuses/{head}"),
            BOT,
            Some(json!({"state": "success", "context": "ci/test", "description": "ok", "target_url": "https://prow.example.com/log"})),
        )
        .await;
    check(&schemas, "create status", "status", s, &v, false);

    // Contents API push to the PR head (push + synchronize).
    let (s, v) = api
        .call(
            "GET",
            &format!("{R}/contents/docs/shiny.md?ref=shiny"),
            BOT,
            None,
        )
        .await;
    check(&schemas, "get file", "content-file", s, &v, false);
    let blob = v["sha"].as_str().unwrap_or_default().to_owned();
    let (s, v) = api
        .call(
            "PUT",
            &format!("{R}/contents/docs/shiny.md"),
            BOT,
            Some(json!({"message": "Shinier docs", "content": "U2hpbmllciEK", "sha": blob, "branch": "shiny"})),
        )
        .await;
    check(&schemas, "put file", "file-commit", s, &v, false);

    // A second pull request: open, close, reopen.
    let (s, v) = api
        .call(
            "POST",
            &format!("{R}/pulls"),
            BOT,
            Some(json!({"title": "Backport", "head": "release-1.0", "base": "main"})),
        )
        .await;
    check(&schemas, "create pr", "pull-request", s, &v, false);
    let n = v["number"].as_u64().unwrap_or_default();
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/pulls/{n}"),
            BOT,
            Some(json!({"state": "closed"})),
        )
        .await;
    check(&schemas, "close pr", "pull-request", s, &v, false);
    let (s, v) = api
        .call(
            "PATCH",
            &format!("{R}/pulls/{n}"),
            BOT,
            Some(json!({"state": "open"})),
        )
        .await;
    check(&schemas, "reopen pr", "pull-request", s, &v, false);
    let (s, v) = api.call("GET", &format!("{R}/pulls"), BOT, None).await;
    // Lists return full pull requests (a superset of `pull-request-simple`).
    check(&schemas, "list prs", "pull-request", s, &v, true);

    // Reads.
    for (what, path, schema, array) in [
        ("get user", "/user".to_owned(), "private-user", false),
        ("get repo", R.to_owned(), "full-repository", false),
        ("get pr", format!("{R}/pulls/2"), "pull-request", false),
        ("get issue", format!("{R}/issues/1"), "issue", false),
        ("pr files", format!("{R}/pulls/2/files"), "diff-entry", true),
        ("pr commits", format!("{R}/pulls/2/commits"), "commit", true),
        ("commit", format!("{R}/commits/main"), "commit", false),
        (
            "combined status",
            format!("{R}/commits/{head}/status"),
            "combined-commit-status",
            false,
        ),
        (
            "statuses",
            format!("{R}/commits/{head}/statuses"),
            "status",
            true,
        ),
        (
            "git ref",
            format!("{R}/git/ref/heads/main"),
            "git-ref",
            false,
        ),
        (
            "git refs",
            format!("{R}/git/refs/heads/main"),
            "git-ref",
            false,
        ),
        (
            "tree",
            format!("{R}/git/trees/main?recursive=1"),
            "git-tree",
            false,
        ),
        (
            "directory",
            format!("{R}/contents/src"),
            "content-directory",
            false,
        ),
        (
            "branch",
            format!("{R}/branches/main"),
            "branch-with-protection",
            false,
        ),
        ("branches", format!("{R}/branches"), "short-branch", true),
        (
            "protected branch",
            format!("{R}/branches/release-1.0"),
            "branch-with-protection",
            false,
        ),
        (
            "branch protection",
            format!("{R}/branches/release-1.0/protection"),
            "branch-protection",
            false,
        ),
        (
            "collaborator permission",
            format!("{R}/collaborators/alice/permission"),
            "repository-collaborator-permission",
            false,
        ),
        (
            "team membership",
            "/orgs/acme/teams/maintainers/memberships/alice".to_owned(),
            "team-membership",
            false,
        ),
        ("labels", format!("{R}/labels"), "label", true),
        ("label", format!("{R}/labels/kind%2Fbug"), "label", false),
        ("teams", "/orgs/acme/teams".to_owned(), "team", true),
        (
            "team",
            "/orgs/acme/teams/maintainers".to_owned(),
            "team-full",
            false,
        ),
        (
            "team members",
            "/orgs/acme/teams/maintainers/members".to_owned(),
            "simple-user",
            true,
        ),
        (
            "org members",
            "/orgs/acme/members".to_owned(),
            "simple-user",
            true,
        ),
        (
            "collaborators",
            format!("{R}/collaborators"),
            "simple-user",
            true,
        ),
    ] {
        let (s, v) = api.call("GET", &path, BOT, None).await;
        check(&schemas, what, schema, s, &v, array);
    }

    let (s, v) = api
        .call(
            "PUT",
            &format!("{R}/pulls/2/merge"),
            BOT,
            Some(json!({"merge_method": "merge"})),
        )
        .await;
    check(&schemas, "merge", "pull-request-merge-result", s, &v, false);
    let (s, v) = api.call("GET", &format!("{R}/issues/999"), BOT, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    failures.extend(schemas.check("basic-error", &v, false));

    // Every webhook produced on the way.
    let deliveries = common::drain(&mut rx);
    let mut seen = BTreeSet::new();
    for d in &deliveries {
        let payload: Value = serde_json::from_slice(&d.body).expect("JSON payload");
        let name = webhook_schema(d, &payload);
        failures.extend(schemas.check(&name, &payload, false));
        seen.insert(name);
    }
    for e in WEBHOOKS {
        assert!(seen.contains(e), "no {e} delivery; saw {seen:?}");
    }
    assert!(
        failures.is_empty(),
        "{} schema violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every key of `example` (recursively, objects only; arrays compared by their first element)
/// that `ours` lacks.
fn missing_keys(example: &Value, ours: &Value, path: &str, out: &mut Vec<String>) {
    match (example, ours) {
        (Value::Object(e), Value::Object(o)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match o.get(k) {
                    None => out.push(p),
                    Some(ov) => missing_keys(ev, ov, &p, out),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) => {
            if let (Some(e0), Some(o0)) = (e.first(), o.first()) {
                missing_keys(e0, o0, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Our payloads have every field of GitHub's real example payload for the same event and action
/// (except fields of features the fake does not simulate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_payloads_have_the_fields_of_real_examples() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let bot = fake.client("prow-bot");
    let alice = fake.client("alice");
    use prow_github::GitHub;
    alice
        .create_comment("acme", "widgets", 1, "/assign")
        .await
        .expect("comment");
    bot.add_labels("acme", "widgets", 1, &["lgtm".into()])
        .await
        .expect("label issue");
    bot.add_labels("acme", "widgets", 2, &["lgtm".into()])
        .await
        .expect("label pr");
    bot.remove_label("acme", "widgets", 2, "lgtm")
        .await
        .expect("unlabel pr");
    bot.assign_issue("acme", "widgets", 1, &["alice".into()])
        .await
        .expect("assign");
    let head = fake
        .pull_request("acme", "widgets", 2)
        .expect("pr")
        .head
        .sha;
    bot.create_status(
        "acme",
        "widgets",
        &head,
        &prow_github::Status {
            state: "pending".into(),
            context: "ci".into(),
            ..Default::default()
        },
    )
    .await
    .expect("status");
    alice
        .create_review(
            "acme",
            "widgets",
            2,
            &prow_github::DraftReview {
                body: "looks good".into(),
                event: "APPROVE".into(),
                commit_id: None,
            },
        )
        .await
        .expect("review");
    fake.push_files(
        "dave",
        "acme",
        "widgets",
        "shiny",
        [("x.txt".to_owned(), Some("x\n".to_owned()))].into(),
        "more",
    )
    .expect("push");
    let c = alice
        .create_comment("acme", "widgets", 2, "first")
        .await
        .expect("comment");
    alice
        .edit_comment("acme", "widgets", c.id, "second")
        .await
        .expect("edit");
    alice
        .delete_comment("acme", "widgets", c.id)
        .await
        .expect("delete");
    bot.request_review("acme", "widgets", 2, &["bob".into()])
        .await
        .expect("request");
    bot.unassign_issue("acme", "widgets", 1, &["alice".into()])
        .await
        .expect("unassign");
    bot.remove_label("acme", "widgets", 1, "lgtm")
        .await
        .expect("unlabel issue");
    let n = fake
        .open_pull_request(
            "carol",
            "acme",
            "widgets",
            prow_github_fake::NewPullRequest {
                title: "Docs".into(),
                body: String::new(),
                base: "main".into(),
                head: "docs".into(),
                draft: false,
                files: [("docs.md".to_owned(), Some("docs\n".to_owned()))].into(),
            },
        )
        .expect("open");
    bot.close_issue("acme", "widgets", n, None)
        .await
        .expect("close pr");
    bot.reopen_issue("acme", "widgets", n)
        .await
        .expect("reopen pr");
    bot.close_issue("acme", "widgets", 1, None)
        .await
        .expect("close");

    let root = common::corpus().join("github-webhooks/payload-examples");
    // Fields tied to features the fake does not model.
    let ignored = ["installation", "enterprise"];
    let mut problems = Vec::new();
    let mut compared = 0;
    for d in common::drain(&mut rx) {
        let ours: Value = serde_json::from_slice(&d.body).expect("JSON");
        let action = ours["action"].as_str().unwrap_or_default();
        let file = match d.event_type.as_str() {
            "push" => root.join("push/with-new-branch.payload.json"),
            "status" => root.join("status/payload.json"),
            e => root.join(format!("{e}/{action}.payload.json")),
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let example: Value = serde_json::from_str(&text).expect("example JSON");
        let mut missing = Vec::new();
        missing_keys(&example, &ours, "", &mut missing);
        missing.retain(|m| !ignored.iter().any(|i| m.contains(i)));
        if !missing.is_empty() {
            problems.push(format!("{} {action}: missing {missing:?}", d.event_type));
        }
        compared += 1;
    }
    assert!(
        compared >= 8,
        "only {compared} payloads had a corpus example"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
