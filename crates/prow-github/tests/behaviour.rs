//! Client behaviour against scripted loopback servers: caching, rate limits, endpoint fallback,
//! App auth, dry-run, error mapping, pagination, GraphQL, metrics.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prow_github::client::{GitHubMetrics, TokenSource};
use prow_github::{Auth, Client, DraftReview, GitHub, GitHubError, MergeDetails, Status};
use serde_json::{Value, json};

use common::{TOKEN, config, dead_endpoint, reply, serve};

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn repo_json(name: &str) -> String {
    json!({"id": 7, "name": name, "full_name": format!("o/{name}"), "default_branch": "main",
           "owner": {"login": "o", "id": 1, "type": "Organization"}})
    .to_string()
}

#[tokio::test]
async fn etag_revalidation_reuses_cached_body() {
    let srv = serve(|req, _| {
        if req.header("if-none-match") == Some("\"v1\"") {
            reply(304, &[("etag", "\"v1\"")], "")
        } else {
            reply(200, &[("etag", "\"v1\"")], repo_json("r"))
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let first = c.get_repo("o", "r").await.expect("first");
    let second = c.get_repo("o", "r").await.expect("second");
    assert_eq!(first, second);
    assert_eq!(first.default_branch, "main");
    let seen = srv.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("if-none-match"), None);
    assert_eq!(seen[1].header("if-none-match"), Some("\"v1\""));
}

#[tokio::test]
async fn etag_cache_keeps_pagination_links_on_304() {
    let srv = serve(|req, _| {
        let page2 = req.path.contains("page=2");
        let etag = if page2 { "\"p2\"" } else { "\"p1\"" };
        if req.header("if-none-match") == Some(etag) {
            return reply(304, &[("etag", etag)], "");
        }
        if page2 {
            reply(200, &[("etag", etag)], json!([{"name": "b"}]).to_string())
        } else {
            let link =
                "<https://api.github.com/repos/o/r/labels?per_page=100&page=2>; rel=\"next\"";
            reply(
                200,
                &[("etag", etag), ("link", link)],
                json!([{"name": "a"}]).to_string(),
            )
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let names = |ls: Vec<prow_github::Label>| ls.into_iter().map(|l| l.name).collect::<Vec<_>>();
    assert_eq!(
        names(c.get_repo_labels("o", "r").await.expect("first walk")),
        ["a", "b"]
    );
    assert_eq!(
        names(c.get_repo_labels("o", "r").await.expect("revalidated walk")),
        ["a", "b"]
    );
    assert_eq!(srv.seen().len(), 4);
}

#[tokio::test]
async fn secondary_rate_limit_waits_for_retry_after() {
    let srv = serve(|_, i| {
        if i == 0 {
            reply(
                403,
                &[("retry-after", "1"), ("x-ratelimit-remaining", "4000")],
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
            )
        } else {
            reply(200, &[], repo_json("r"))
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let repo = c.get_repo("o", "r").await.expect("succeeds after waiting");
    assert_eq!(repo.name, "r");
    assert_eq!(srv.seen().len(), 2);
}

#[tokio::test]
async fn primary_rate_limit_too_far_in_future_fails_fast() {
    let reset = (now_unix() + 3600).to_string();
    let srv = serve(move |_, _| {
        reply(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
                ("x-ratelimit-resource", "core"),
            ],
            r#"{"message":"API rate limit exceeded for user ID 1."}"#,
        )
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let err = c.get_repo("o", "r").await.expect_err("rate limited");
    match err {
        GitHubError::RateLimited {
            retry_after_secs: Some(s),
        } => assert!((3500..=3700).contains(&s), "{s}"),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        srv.seen().len(),
        1,
        "no retry when the reset is beyond the max wait"
    );
}

#[tokio::test]
async fn plain_403_is_forbidden_not_rate_limited() {
    let srv = serve(|_, _| {
        reply(
            403,
            &[("x-ratelimit-remaining", "4999")],
            r#"{"message":"Resource not accessible by integration"}"#,
        )
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let err = c
        .add_labels("o", "r", 1, &["lgtm".into()])
        .await
        .expect_err("forbidden");
    assert!(
        matches!(&err, GitHubError::Forbidden(m) if m.contains("Resource not accessible")),
        "{err:?}"
    );
    assert_eq!(srv.seen().len(), 1);
}

#[tokio::test]
async fn endpoint_fallback_on_refused_connection() {
    let dead = dead_endpoint().await;
    let srv = serve(|_, _| reply(200, &[], repo_json("r"))).await;
    let c = Client::new(config(vec![dead, srv.base.clone()]), None).expect("client");
    assert_eq!(
        c.get_repo("o", "r")
            .await
            .expect("second endpoint answers")
            .name,
        "r"
    );
    assert_eq!(srv.seen().len(), 1);
}

#[tokio::test]
async fn endpoint_fallback_on_server_error() {
    let proxy = serve(|_, _| reply(502, &[], "bad gateway")).await;
    let github = serve(|_, _| reply(200, &[], repo_json("r"))).await;
    let c =
        Client::new(config(vec![proxy.base.clone(), github.base.clone()]), None).expect("client");
    assert_eq!(
        c.get_repo("o", "r").await.expect("fallback answers").name,
        "r"
    );
    assert_eq!(proxy.seen().len(), 1);
    assert_eq!(github.seen().len(), 1);
}

#[tokio::test]
async fn persistent_server_errors_end_as_status_after_retries() {
    let srv = serve(|_, _| reply(500, &[], r#"{"message":"boom"}"#)).await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let err = c.get_issue("o", "r", 1).await.expect_err("500");
    assert_eq!(
        err,
        GitHubError::Status {
            status: 500,
            message: "GET /repos/o/r/issues/1: boom".into()
        }
    );
    assert_eq!(srv.seen().len(), 4, "1 attempt + max_retries (3)");
}

#[tokio::test]
async fn all_endpoints_down_is_transport_error() {
    let mut cfg = config(vec![dead_endpoint().await]);
    cfg.max_retries = 1;
    let err = Client::new(cfg, None)
        .expect("client")
        .get_repo("o", "r")
        .await
        .expect_err("down");
    assert!(matches!(err, GitHubError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn status_codes_map_to_typed_errors() {
    let srv = serve(|req, _| match req.path.as_str() {
        "/repos/o/r/issues/404" => reply(404, &[], r#"{"message":"Not Found"}"#),
        "/repos/o/r/issues/401" => reply(401, &[], r#"{"message":"Bad credentials"}"#),
        "/repos/o/r/issues/1/labels" => reply(
            422,
            &[],
            r#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"invalid","field":"name","message":"name is too long"}]}"#,
        ),
        "/repos/o/r/issues/1/labels/do-not-merge%2Fhold" => reply(404, &[], r#"{"message":"Label does not exist"}"#),
        _ => reply(418, &[], "{}"),
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    assert!(
        matches!(c.get_issue("o", "r", 404).await, Err(GitHubError::NotFound(m)) if m.contains("Not Found"))
    );
    assert!(
        matches!(c.get_issue("o", "r", 401).await, Err(GitHubError::Unauthorized(m)) if m.contains("Bad credentials"))
    );
    assert_eq!(
        c.add_labels("o", "r", 1, &["x".repeat(60)]).await,
        Err(GitHubError::Unprocessable(
            "Validation Failed: name is too long".into()
        ))
    );
    let err = c
        .remove_label("o", "r", 1, "do-not-merge/hold")
        .await
        .expect_err("not on issue");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn not_found_is_retried_only_when_configured() {
    let srv = serve(|_, _| reply(404, &[], r#"{"message":"Not Found"}"#)).await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.max_404_retries = 2;
    let c = Client::new(cfg, None).expect("client");
    assert!(
        c.get_pull_request("o", "r", 5)
            .await
            .expect_err("404")
            .is_not_found()
    );
    assert_eq!(
        srv.seen().len(),
        3,
        "GitHub is briefly inconsistent after events: 1 + 2 retries"
    );
    // A 404 that is an answer is not retried.
    assert!(!c.is_collaborator("o", "r", "bob").await.expect("answer"));
    assert!(
        c.get_file("o", "r", "OWNERS", None)
            .await
            .expect_err("missing")
            .is_not_found()
    );
    assert_eq!(srv.seen().len(), 5);
}

#[tokio::test]
async fn merge_statuses_map_to_merge_errors() {
    let srv = serve(|req, _| match req.path.as_str() {
        "/repos/o/r/pulls/1/merge" => {
            reply(405, &[], r#"{"message":"Pull Request is not mergeable"}"#)
        }
        "/repos/o/r/pulls/2/merge" => reply(
            409,
            &[],
            r#"{"message":"Head branch was modified. Review and try the merge again."}"#,
        ),
        "/repos/o/r/pulls/3/merge" => reply(
            200,
            &[],
            r#"{"sha":"abc","merged":true,"message":"Pull Request successfully merged"}"#,
        ),
        _ => reply(418, &[], "{}"),
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let details = MergeDetails {
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        merge_method: Some("squash".into()),
        commit_title: Some("Title (#3)".into()),
        commit_message: None,
    };
    assert_eq!(
        c.merge_pull_request("o", "r", 1, &details).await,
        Err(GitHubError::UnmergeablePr(
            "Pull Request is not mergeable".into()
        ))
    );
    assert_eq!(
        c.merge_pull_request("o", "r", 2, &details).await,
        Err(GitHubError::ModifiedHead(
            "Head branch was modified. Review and try the merge again.".into()
        ))
    );
    c.merge_pull_request("o", "r", 3, &details)
        .await
        .expect("merged");
    let seen = srv.seen();
    assert_eq!(seen[2].method, "PUT");
    assert_eq!(
        seen[2].json(),
        json!({"sha": "0123456789abcdef0123456789abcdef01234567", "merge_method": "squash", "commit_title": "Title (#3)"})
    );
}

#[tokio::test]
async fn pagination_follows_link_next_with_per_page_100() {
    let srv = serve(|req, _| {
        let page: u32 = req.path.split("page=").nth(2).and_then(|p| p.parse().ok()).unwrap_or(1);
        let items: Vec<Value> =
            (0..3).map(|i| json!({"id": page * 10 + i, "body": format!("c{page}-{i}")})).collect();
        let mut headers = vec![];
        let link;
        if page < 3 {
            // GitHub links use its own host and a numeric repository path.
            link = format!(
                "<https://api.github.com/repositories/99/issues/5/comments?per_page=100&page={}>; rel=\"next\", \
                 <https://api.github.com/repositories/99/issues/5/comments?per_page=100&page=3>; rel=\"last\"",
                page + 1
            );
            headers.push(("link", link.as_str()));
        }
        reply(200, &headers, Value::Array(items).to_string())
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let comments = c.list_issue_comments("o", "r", 5).await.expect("all pages");
    let ids: Vec<u64> = comments.iter().map(|c| c.id).collect();
    assert_eq!(ids, [10, 11, 12, 20, 21, 22, 30, 31, 32]);
    let paths: Vec<String> = srv.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/repos/o/r/issues/5/comments?per_page=100",
            "/repositories/99/issues/5/comments?per_page=100&page=2",
            "/repositories/99/issues/5/comments?per_page=100&page=3",
        ]
    );
}

#[tokio::test]
async fn enterprise_base_path_is_kept_across_pages() {
    let srv = serve(|req, _| {
        if req.path.starts_with("/api/v3/repos/o/r/pulls?") {
            reply(
                200,
                &[("link", "<https://ghe.example.com/api/v3/repositories/9/pulls?state=open&per_page=100&page=2>; rel=\"next\"")],
                json!([{"number": 1}]).to_string(),
            )
        } else if req.path == "/api/v3/repositories/9/pulls?state=open&per_page=100&page=2" {
            reply(200, &[], json!([{"number": 2}]).to_string())
        } else {
            reply(404, &[], r#"{"message":"Not Found"}"#)
        }
    })
    .await;
    let c = Client::new(config(vec![format!("{}/api/v3", srv.base)]), None).expect("client");
    let prs = c
        .list_open_pull_requests("o", "r")
        .await
        .expect("both pages");
    assert_eq!(prs.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        srv.seen()[0].path,
        "/api/v3/repos/o/r/pulls?state=open&per_page=100"
    );
}

#[tokio::test]
async fn combined_status_pages_are_merged() {
    let srv = serve(|req, _| {
        if req.path.contains("page=2") {
            reply(200, &[], json!({"sha": "s", "state": "pending", "total_count": 2, "statuses": [{"context": "b"}]}).to_string())
        } else {
            let link = format!("<{}>; rel=\"next\"", "https://api.github.com/repos/o/r/commits/main/status?per_page=100&page=2");
            reply(200, &[("link", &link)], json!({"sha": "s", "state": "pending", "total_count": 2, "statuses": [{"context": "a"}]}).to_string())
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let st = c
        .get_combined_status("o", "r", "main")
        .await
        .expect("status");
    assert_eq!(
        st.statuses
            .iter()
            .map(|s| s.context.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(st.sha, "s");
}

#[tokio::test]
async fn collaborator_and_membership_semantics() {
    let srv = serve(|req, _| match req.path.as_str() {
        "/repos/o/r/collaborators/alice" => reply(204, &[], ""),
        "/repos/o/r/collaborators/bob" => reply(404, &[], r#"{"message":"Not Found"}"#),
        "/orgs/o/members/alice" => reply(204, &[], ""),
        "/orgs/o/members/bob" => reply(404, &[], r#"{"message":"Not Found"}"#),
        // Non-member as seen by a non-member requester: a redirect that must not be followed.
        "/orgs/o/members/carol" => reply(302, &[("location", "/orgs/o/public_members/carol")], ""),
        "/orgs/o/public_members/carol" => reply(204, &[], ""),
        _ => reply(500, &[], "{}"),
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    assert!(c.is_collaborator("o", "r", "alice").await.expect("204"));
    assert!(!c.is_collaborator("o", "r", "bob").await.expect("404"));
    assert!(c.is_member("o", "alice").await.expect("204"));
    assert!(!c.is_member("o", "bob").await.expect("404"));
    assert!(!c.is_member("o", "carol").await.expect("302"));
    let before = srv.seen().len();
    assert!(
        c.is_member("alice", "Alice").await.expect("own account"),
        "an account is a member of itself"
    );
    assert_eq!(
        srv.seen().len(),
        before,
        "no request for the personal-account case"
    );
    assert!(!srv.seen().iter().any(|s| s.path.contains("public_members")));
}

#[tokio::test]
async fn dry_run_sends_no_mutating_request() {
    let srv = serve(|req, _| {
        if req.path == "/graphql" {
            reply(200, &[], r#"{"data":{"viewer":{"login":"bot"}}}"#)
        } else {
            reply(200, &[], repo_json("r"))
        }
    })
    .await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.dry_run = true;
    let c = Client::new(cfg, None).expect("client");
    assert!(c.is_dry_run());
    let comment = c
        .create_comment("o", "r", 1, "/lgtm")
        .await
        .expect("dry-run comment");
    assert_eq!(comment.body, "/lgtm");
    c.add_labels("o", "r", 1, &["lgtm".into()])
        .await
        .expect("dry-run labels");
    c.remove_label("o", "r", 1, "lgtm")
        .await
        .expect("dry-run unlabel");
    c.edit_comment("o", "r", 3, "x")
        .await
        .expect("dry-run edit");
    c.delete_comment("o", "r", 3).await.expect("dry-run delete");
    c.merge_pull_request("o", "r", 1, &MergeDetails::default())
        .await
        .expect("dry-run merge");
    c.close_issue("o", "r", 1, Some("not_planned"))
        .await
        .expect("dry-run close");
    c.delete_ref("o", "r", "heads/x")
        .await
        .expect("dry-run delete ref");
    let status = Status {
        state: "pending".into(),
        context: "ci".into(),
        ..Default::default()
    };
    c.create_status("o", "r", "abc", &status)
        .await
        .expect("dry-run status");
    assert_eq!(
        c.assign_issue("o", "r", 1, &["a".into()])
            .await
            .expect("dry-run assign"),
        Vec::<String>::new()
    );
    assert!(
        c.request_review("o", "r", 1, &["a".into()])
            .await
            .expect("dry-run review request")
            .is_empty()
    );
    let review = c
        .create_review(
            "o",
            "r",
            1,
            &DraftReview {
                body: "ok".into(),
                event: "APPROVE".into(),
                commit_id: None,
            },
        )
        .await
        .expect("dry-run review");
    assert_eq!(review.state, "APPROVED");
    let mutation = c
        .graphql(
            "o",
            "mutation { addStar(input: {starrableId: \"x\"}) { clientMutationId } }",
            Value::Null,
        )
        .await;
    assert_eq!(mutation.expect("dry-run mutation"), json!({}));
    assert!(
        c.request_json(
            Some("o"),
            prow_github::client::Method::POST,
            "/repos/o/r/labels",
            None
        )
        .await
        .expect("dry")
        .is_null()
    );
    // Reads and GraphQL queries still go out.
    assert_eq!(c.get_repo("o", "r").await.expect("read").name, "r");
    let data = c
        .graphql("o", "query { viewer { login } }", Value::Null)
        .await
        .expect("query");
    assert_eq!(data["viewer"]["login"], "bot");
    let seen = srv.seen();
    let methods: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(methods, [("GET", "/repos/o/r"), ("POST", "/graphql")]);
}

#[tokio::test]
async fn graphql_data_errors_and_rate_limit() {
    let srv = serve(|req, _| {
        let q = req.json()["query"].as_str().unwrap_or_default().to_string();
        if q.contains("broken") {
            reply(200, &[], r#"{"data":null,"errors":[{"message":"Field 'broken' doesn't exist on type 'Query'"},{"message":"second"}]}"#)
        } else if q.contains("expensive") {
            reply(200, &[], r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#)
        } else {
            reply(200, &[("x-ratelimit-remaining", "4990"), ("x-ratelimit-resource", "graphql")], r#"{"data":{"search":{"issueCount":3}}}"#)
        }
    })
    .await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.graphql_endpoint = Some(format!("{}/graphql", srv.base));
    let c = Client::new(cfg, None).expect("client");
    let vars = json!({"q": "is:pr label:lgtm"});
    let data = c
        .graphql(
            "o",
            "query($q: String!) { search(query: $q) { issueCount } }",
            vars.clone(),
        )
        .await
        .expect("data");
    assert_eq!(data, json!({"search": {"issueCount": 3}}));
    let sent = srv.seen()[0].json();
    assert_eq!(sent["variables"], vars);
    assert!(
        sent["query"]
            .as_str()
            .expect("query")
            .starts_with("query($q")
    );
    assert_eq!(
        c.graphql("o", "{ broken }", Value::Null).await,
        Err(GitHubError::GraphQl(vec![
            "Field 'broken' doesn't exist on type 'Query'".into(),
            "second".into()
        ]))
    );
    assert_eq!(
        c.graphql("o", "{ expensive }", Value::Null).await,
        Err(GitHubError::RateLimited {
            retry_after_secs: None
        })
    );
    assert!(
        srv.seen()[1].json().get("variables").is_none(),
        "null variables are omitted"
    );
}

#[tokio::test]
async fn request_headers_and_metrics() {
    let srv = serve(|_, _| {
        reply(
            200,
            &[
                ("x-ratelimit-remaining", "4321"),
                ("x-ratelimit-reset", "9999999999"),
                ("x-ratelimit-resource", "core"),
            ],
            repo_json("r"),
        )
    })
    .await;
    let registry = prometheus::Registry::new();
    let c = Client::new(config(vec![srv.base.clone()]), Some(&registry)).expect("client");
    c.get_repo("o", "r").await.expect("repo");
    c.get_issue("o", "r", 12345)
        .await
        .expect("decodes the repo body as an issue too");
    let seen = &srv.seen()[0];
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(seen.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(seen.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(seen.header("user-agent"), Some("prow-test/0.0.1"));

    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!("Bearer {TOKEN}").as_bytes()))
    };
    for want in [
        format!(
            r#"github_request_duration_count{{path="/repos/:owner/:repo",status="200",token_hash="{hash}",user_agent="prow-test"}} 1"#
        ),
        format!(
            r#"github_request_duration_count{{path="/repos/:owner/:repo/issues/:issueId",status="200",token_hash="{hash}",user_agent="prow-test"}} 1"#
        ),
        format!(
            r#"github_token_usage{{api_version="v3",ratelimit_resource="core",token_hash="{hash}"}} 4321"#
        ),
    ] {
        assert!(text.contains(&want), "missing {want} in\n{text}");
    }
    assert!(text.contains("github_token_reset{"), "{text}");
    assert!(
        !text.contains("12345"),
        "issue numbers must not become label values"
    );
}

#[tokio::test]
async fn shared_metrics_between_clients() {
    let srv = serve(|_, _| reply(200, &[], repo_json("r"))).await;
    let registry = prometheus::Registry::new();
    let metrics = GitHubMetrics::register(&registry).expect("register");
    let a = Client::with_metrics(config(vec![srv.base.clone()]), metrics.clone()).expect("a");
    let b = Client::with_metrics(config(vec![srv.base.clone()]), metrics).expect("b");
    a.get_repo("o", "r").await.expect("a");
    b.get_repo("o", "r2").await.expect("b");
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    assert!(
        text.contains("github_request_duration_count{path=\"/repos/:owner/:repo\",status=\"200\""),
        "{text}"
    );
    assert!(
        text.contains("} 2\n"),
        "both clients counted in one series:\n{text}"
    );
}

#[tokio::test]
async fn token_file_is_reread_when_it_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oauth");
    std::fs::write(&path, "first-token\n").expect("write");
    let srv = serve(|_, _| reply(200, &[], repo_json("r"))).await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.auth = Auth::Token(TokenSource::File(path.clone()));
    cfg.cache_entries = 0;
    let c = Client::new(cfg, None).expect("client");
    c.get_repo("o", "r").await.expect("first");
    std::fs::write(&path, "second-token").expect("rotate");
    let f = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_modified(SystemTime::now() + Duration::from_secs(60))
        .expect("bump mtime");
    c.get_repo("o", "r").await.expect("second");
    let auth: Vec<String> = srv
        .seen()
        .iter()
        .map(|s| s.header("authorization").unwrap_or_default().to_string())
        .collect();
    assert_eq!(auth, ["Bearer first-token", "Bearer second-token"]);
}

#[tokio::test]
async fn request_review_finds_invalid_reviewers_one_by_one() {
    let srv = serve(|req, _| {
        let body = req.json();
        let reviewers = body["reviewers"].as_array().cloned().unwrap_or_default();
        let bad = reviewers.iter().any(|r| r == "mallory");
        if bad {
            reply(
                422,
                &[],
                r#"{"message":"Reviews may only be requested from collaborators."}"#,
            )
        } else {
            reply(201, &[], json!({"number": 1}).to_string())
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let logins = vec![
        "alice".to_string(),
        "mallory".to_string(),
        "other-org/team".to_string(),
    ];
    let missing = c
        .request_review("o", "r", 1, &logins)
        .await
        .expect("partial success");
    assert_eq!(missing, ["other-org/team", "mallory"]);
    let bodies: Vec<Value> = srv.seen().iter().map(|s| s.json()).collect();
    assert_eq!(
        bodies,
        [
            json!({"reviewers": ["alice", "mallory"], "team_reviewers": []}),
            json!({"reviewers": ["alice"], "team_reviewers": []}),
            json!({"reviewers": ["mallory"], "team_reviewers": []}),
        ]
    );
}

#[tokio::test]
async fn assign_reports_logins_github_skipped() {
    let srv = serve(|_, _| {
        reply(
            201,
            &[],
            json!({"number": 1, "assignees": [{"login": "Alice"}]}).to_string(),
        )
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let missing = c
        .assign_issue("o", "r", 1, &["alice".into(), "bob".into()])
        .await
        .expect("assigned");
    assert_eq!(missing, ["bob"]);
    assert_eq!(srv.seen()[0].json(), json!({"assignees": ["alice", "bob"]}));
}

#[tokio::test]
async fn get_file_decodes_base64_and_fetches_large_files_raw() {
    let srv = serve(|req, _| {
        if req.path == "/repos/o/r/contents/docs/a%20b.md?ref=refs%2Fpull%2F1%2Fhead" {
            reply(
                200,
                &[],
                r#"{"type":"file","encoding":"base64","content":"aGVsbG8g\nd29ybGQ=\n"}"#,
            )
        } else if req.path == "/repos/o/r/contents/big.bin"
            && req.header("accept") == Some("application/vnd.github.raw+json")
        {
            let mut r = reply(200, &[], "RAW-BYTES");
            r.headers_mut().insert(
                "content-type",
                "application/vnd.github.raw".parse().expect("static"),
            );
            r
        } else if req.path == "/repos/o/r/contents/big.bin" {
            reply(
                200,
                &[],
                r#"{"type":"file","encoding":"none","content":"","size":2000000}"#,
            )
        } else {
            reply(404, &[], r#"{"message":"Not Found"}"#)
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    assert_eq!(
        c.get_file("o", "r", "docs/a b.md", Some("refs/pull/1/head"))
            .await
            .expect("b64"),
        b"hello world"
    );
    assert_eq!(
        c.get_file("o", "r", "big.bin", None).await.expect("raw"),
        b"RAW-BYTES"
    );
}

#[tokio::test]
async fn get_ref_handles_exact_and_prefix_answers() {
    let srv = serve(|req, _| match req.path.as_str() {
        "/repos/o/r/git/refs/heads/main" => {
            reply(200, &[], r#"{"ref":"refs/heads/main","object":{"sha":"aaa","type":"commit"}}"#)
        }
        "/repos/o/r/git/refs/heads/feat" => reply(
            200,
            &[],
            r#"[{"ref":"refs/heads/feat-1","object":{"sha":"bbb"}},{"ref":"refs/heads/feat-2","object":{"sha":"ccc"}}]"#,
        ),
        _ => reply(404, &[], r#"{"message":"Not Found"}"#),
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    assert_eq!(
        c.get_ref("o", "r", "heads/main").await.expect("exact"),
        "aaa"
    );
    assert_eq!(
        c.get_ref("o", "r", "refs/heads/main")
            .await
            .expect("refs/ prefix tolerated"),
        "aaa"
    );
    assert!(
        c.get_ref("o", "r", "heads/feat")
            .await
            .expect_err("prefix only")
            .is_not_found()
    );
}

#[tokio::test]
async fn client_side_throttle_refunds_revalidations() {
    // Burst 2 at 1 token/hour. The first (200) and second (304) requests spend the two tokens;
    // only because 304s are free (refunded) can the third and fourth go out without an hour's
    // wait. The timeout turns a missing refund into a failure instead of a hang.
    let srv = serve(|req, _| {
        if req.header("if-none-match").is_some() {
            reply(304, &[("etag", "\"e\"")], "")
        } else {
            reply(200, &[("etag", "\"e\"")], repo_json("r"))
        }
    })
    .await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.hourly_tokens = 1;
    cfg.allowed_burst = 2;
    let registry = prometheus::Registry::new();
    let c = Client::new(cfg, Some(&registry)).expect("client");
    for _ in 0..4 {
        tokio::time::timeout(Duration::from_secs(30), c.get_repo("o", "r"))
            .await
            .expect("free revalidations must not exhaust the budget")
            .expect("repo");
    }
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    assert!(
        !text.contains("github_request_wait_duration_seconds_count"),
        "no request waited:\n{text}"
    );
    assert_eq!(srv.seen().len(), 4);
}

#[tokio::test]
async fn client_side_throttle_delays_when_budget_is_spent() {
    let srv = serve(|_, _| reply(200, &[], repo_json("r"))).await;
    let mut cfg = config(vec![srv.base.clone()]);
    // 3600/h = one token per second, burst 1: the second request must wait for a token.
    cfg.hourly_tokens = 3600;
    cfg.allowed_burst = 1;
    cfg.cache_entries = 0;
    let registry = prometheus::Registry::new();
    let c = Client::new(cfg, Some(&registry)).expect("client");
    c.get_repo("o", "r").await.expect("first");
    c.get_repo("o", "r").await.expect("second");
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    assert!(
        text.contains("github_request_wait_duration_seconds_count{api=\"v3\",request_type=\"GET\""),
        "the second request waited for the bucket:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub App authentication.

struct AppKeys {
    _dir: tempfile::TempDir,
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
}

/// A throwaway RSA key pair made with the openssl CLI (test-only).
fn app_keys(traditional: bool) -> AppKeys {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("app.pem");
    let pubkey = dir.path().join("app.pub");
    let mut gen_cmd = std::process::Command::new("/usr/bin/openssl");
    gen_cmd.arg("genrsa");
    if traditional {
        // PKCS#1 `BEGIN RSA PRIVATE KEY`, the format GitHub hands out.
        gen_cmd.arg("-traditional");
    }
    let ok = gen_cmd
        .arg("-out")
        .arg(&key)
        .arg("2048")
        .output()
        .expect("run openssl genrsa");
    assert!(
        ok.status.success(),
        "openssl genrsa: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ok = std::process::Command::new("/usr/bin/openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&pubkey)
        .output()
        .expect("run openssl rsa");
    assert!(
        ok.status.success(),
        "openssl rsa: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    AppKeys {
        private_pem: std::fs::read(&key).expect("key"),
        public_pem: std::fs::read(&pubkey).expect("pub"),
        _dir: dir,
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: String,
}

fn verify_jwt(auth: Option<&str>, public_pem: &[u8]) -> Result<Claims, String> {
    let token = auth
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or("no bearer token")?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&["4242"]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| e.to_string())?;
    Ok(data.claims)
}

#[tokio::test]
async fn app_auth_mints_and_caches_installation_tokens_per_org() {
    let keys = app_keys(true);
    let public = keys.public_pem.clone();
    let minted = Arc::new(AtomicUsize::new(0));
    let minted_srv = minted.clone();
    let srv = serve(move |req, _| {
        let auth = req.header("authorization");
        let jwt_ok = || match verify_jwt(auth, &public) {
            Ok(c) if c.exp - c.iat == 600 && c.iss == "4242" => None,
            Ok(c) => Some(reply(401, &[], format!(r#"{{"message":"bad claims iat={} exp={}"}}"#, c.iat, c.exp))),
            Err(e) => Some(reply(401, &[], json!({"message": e}).to_string())),
        };
        match req.path.as_str() {
            "/orgs/org-a/installation" => jwt_ok().unwrap_or_else(|| reply(200, &[], r#"{"id": 11}"#)),
            // org-b is a user account: the org lookup 404s, the user lookup finds it.
            "/orgs/org-b/installation" => {
                jwt_ok().unwrap_or_else(|| reply(404, &[], r#"{"message":"Not Found"}"#))
            }
            "/users/org-b/installation" => jwt_ok().unwrap_or_else(|| reply(200, &[], r#"{"id": 22}"#)),
            "/orgs/nope/installation" | "/users/nope/installation" => {
                jwt_ok().unwrap_or_else(|| reply(404, &[], r#"{"message":"Not Found"}"#))
            }
            p if p.starts_with("/app/installations/") && p.ends_with("/access_tokens") && req.method == "POST" => {
                if let Some(err) = jwt_ok() {
                    return err;
                }
                let id = p.trim_start_matches("/app/installations/").trim_end_matches("/access_tokens");
                let n = minted_srv.fetch_add(1, Ordering::SeqCst);
                let expires = chrono::Utc::now() + chrono::Duration::hours(1);
                reply(201, &[], json!({"token": format!("ghs_inst{id}_{n}"), "expires_at": expires.to_rfc3339()}).to_string())
            }
            "/app" => jwt_ok().unwrap_or_else(|| reply(200, &[], r#"{"id": 4242, "slug": "my-prow-app", "name": "My Prow App"}"#)),
            p if p.starts_with("/repos/") => {
                let want = if p.starts_with("/repos/org-a/") { "Bearer ghs_inst11_" } else { "Bearer ghs_inst22_" };
                if auth.is_some_and(|a| a.starts_with(want)) {
                    reply(200, &[], repo_json("r"))
                } else {
                    reply(401, &[], json!({"message": format!("wrong token {auth:?}")}).to_string())
                }
            }
            _ => reply(404, &[], r#"{"message":"Not Found"}"#),
        }
    })
    .await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.auth = Auth::App {
        app_id: "4242".into(),
        private_key_pem: keys.private_pem.clone(),
    };
    let c = Client::new(cfg, None).expect("client with App auth");

    c.get_repo("org-a", "r").await.expect("org-a first");
    c.get_repo("org-a", "r2")
        .await
        .expect("org-a second (cached token)");
    c.get_repo("org-b", "r")
        .await
        .expect("org-b via user installation");
    assert_eq!(
        minted.load(Ordering::SeqCst),
        2,
        "one token per installation, reused across calls"
    );

    let calls: Vec<(String, String)> = srv
        .seen()
        .iter()
        .map(|s| (s.method.clone(), s.path.clone()))
        .collect();
    let expect = |m: &str, p: &str| (m.to_string(), p.to_string());
    assert_eq!(
        calls,
        [
            expect("GET", "/orgs/org-a/installation"),
            expect("POST", "/app/installations/11/access_tokens"),
            expect("GET", "/repos/org-a/r"),
            expect("GET", "/repos/org-a/r2"),
            expect("GET", "/orgs/org-b/installation"),
            expect("GET", "/users/org-b/installation"),
            expect("POST", "/app/installations/22/access_tokens"),
            expect("GET", "/repos/org-b/r"),
        ]
    );
    let repo_req = &srv.seen()[2];
    assert_eq!(
        repo_req.header("x-prow-ghcache-token-budget-identifier"),
        Some("4242 - org-a")
    );

    let bot = c.bot_user().await.expect("GET /app");
    assert_eq!(bot.login, "my-prow-app[bot]");
    assert_eq!(bot.kind, "Bot");
    assert_eq!(c.git_user().await.expect("git user"), "x-access-token");
    assert!(
        c.git_token("org-a")
            .await
            .expect("git token")
            .starts_with("ghs_inst11_")
    );

    let err = c.get_repo("nope", "r").await.expect_err("not installed");
    assert!(
        matches!(&err, GitHubError::Unauthorized(m) if m.contains("not installed")),
        "{err:?}"
    );
    // GraphQL without an org cannot pick an installation.
    assert!(matches!(
        c.graphql("", "{ viewer { login } }", Value::Null).await,
        Err(GitHubError::Unauthorized(_))
    ));
}

#[tokio::test]
async fn app_auth_accepts_pkcs8_keys_and_rejects_garbage() {
    let keys = app_keys(false);
    let public = keys.public_pem.clone();
    let srv = serve(
        move |req, _| match verify_jwt(req.header("authorization"), &public) {
            Ok(_) => reply(200, &[], r#"{"id": 4242, "slug": "pkcs8-app"}"#),
            Err(e) => reply(401, &[], json!({"message": e}).to_string()),
        },
    )
    .await;
    let mut cfg = config(vec![srv.base.clone()]);
    cfg.auth = Auth::App {
        app_id: "4242".into(),
        private_key_pem: keys.private_pem.clone(),
    };
    let c = Client::new(cfg.clone(), None).expect("PKCS#8 key accepted");
    assert_eq!(
        c.bot_user().await.expect("signed JWT verifies").login,
        "pkcs8-app[bot]"
    );
    assert_eq!(c.bot_user().await.expect("cached").login, "pkcs8-app[bot]");
    assert_eq!(srv.seen().len(), 1, "the bot identity is fetched once");

    cfg.auth = Auth::App {
        app_id: "4242".into(),
        private_key_pem: b"-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n"
            .to_vec(),
    };
    assert!(matches!(
        Client::new(cfg, None),
        Err(prow_github::client::BuildError::Auth(_))
    ));
}

#[tokio::test]
async fn token_auth_bot_user_is_get_user() {
    let srv = serve(|req, _| {
        if req.path == "/user" {
            reply(
                200,
                &[],
                r#"{"login":"k8s-ci-robot","id":20407524,"type":"User"}"#,
            )
        } else {
            reply(404, &[], "{}")
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    assert_eq!(c.bot_user().await.expect("user").login, "k8s-ci-robot");
    assert_eq!(c.git_user().await.expect("git user"), "k8s-ci-robot");
    assert_eq!(c.git_token("any").await.expect("pat"), TOKEN);
    assert_eq!(srv.seen().len(), 1);
}

#[tokio::test]
async fn bodies_over_githubs_limit_are_capped_before_they_are_sent() {
    use prow_github::limits::{MAX_BODY_CHARS, TRUNCATION_NOTE};
    let srv = serve(|req, _| {
        if req.method == "POST" && req.path.ends_with("/comments") {
            reply(201, &[], json!({"id": 1, "body": "ok"}).to_string())
        } else if req.path.ends_with("/reviews") {
            reply(200, &[], json!({"id": 2}).to_string())
        } else {
            reply(200, &[], "{}")
        }
    })
    .await;
    let c = Client::new(config(vec![srv.base.clone()]), None).expect("client");
    let long = "é".repeat(MAX_BODY_CHARS + 10);
    c.create_comment("o", "r", 1, &long).await.expect("create");
    c.edit_comment("o", "r", 9, &long).await.expect("edit");
    let review = DraftReview {
        body: long.clone(),
        event: "COMMENT".into(),
        ..Default::default()
    };
    c.create_review("o", "r", 1, &review).await.expect("review");
    // A body within the limit is sent as is.
    let exact = "é".repeat(MAX_BODY_CHARS);
    c.create_comment("o", "r", 1, &exact).await.expect("exact");
    let seen: Vec<_> = srv
        .seen()
        .into_iter()
        .filter(|s| s.method != "GET")
        .collect();
    assert_eq!(seen.len(), 4);
    for s in &seen[..3] {
        let body = s.json()["body"].as_str().expect("body").to_owned();
        assert_eq!(
            body.chars().count(),
            MAX_BODY_CHARS,
            "{} {}",
            s.method,
            s.path
        );
        assert!(body.ends_with(TRUNCATION_NOTE));
    }
    assert_eq!(seen[3].json()["body"], exact);
}
