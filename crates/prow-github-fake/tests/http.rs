//! Over HTTP on loopback: authentication, routes, pagination, ETags, error mapping, webhook
//! delivery to a receiver, git smart HTTP, and the `run` entry point.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use prow_github::events::{Event, parse};
use prow_github_fake::{FakeGitHub, FakeGitHubArgs, serve};
use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

const BOT: &str = "test-token-prow-bot";
const ALICE: &str = "test-token-alice";

/// A served fake and its base URL; the server stops when this is dropped.
struct Server {
    base: String,
    _stop: oneshot::Sender<()>,
}

async fn start(fake: &FakeGitHub) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let fake = fake.clone();
    tokio::spawn(async move {
        let _ = serve(listener, fake, async {
            let _ = stopped.await;
        })
        .await;
    });
    Server { base, _stop: stop }
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let resp = req.send().await.expect("request");
    let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
    let mut headers = HeaderMap::new();
    for (k, v) in resp.headers() {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_str().as_bytes()),
            axum::http::HeaderValue::from_bytes(v.as_bytes()),
        ) {
            headers.insert(name, value);
        }
    }
    let bytes = resp.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_identity() {
    let fake = common::example();
    let server = start(&fake).await;
    let http = client();
    let url = format!("{}/user", server.base);

    let (status, _, body) = send(http.get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Bad credentials");
    assert!(body["documentation_url"].is_string());
    let (status, _, _) = send(http.get(&url).header("authorization", "token wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(http.get(format!("{}/repos/acme/widgets", server.base))).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "every API route needs a token"
    );

    let (status, headers, body) = send(
        http.get(&url)
            .header("authorization", format!("token {BOT}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["login"].as_str(), body["type"].as_str()),
        (Some("prow-bot"), Some("Bot"))
    );
    assert_eq!(headers["x-ratelimit-remaining"], "4999");
    let (_, _, body) = send(
        http.get(&url)
            .header("authorization", format!("Bearer {ALICE}")),
    )
    .await;
    assert_eq!(body["login"], "alice");
    // GitHub Enterprise style base path and GraphQL endpoint.
    let (_, _, body) = send(
        http.get(format!("{}/api/v3/user", server.base))
            .bearer_auth(ALICE),
    )
    .await;
    assert_eq!(body["login"], "alice");
    let (status, _, body) = send(
        http.post(format!("{}/graphql", server.base))
            .bearer_auth(ALICE)
            .json(&json!({"query": "query { viewer { login } }"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": {"viewer": {"login": "alice"}}}));
    let (_, _, body) = send(
        http.post(format!("{}/api/graphql", server.base))
            .bearer_auth(BOT)
            .json(&json!({"query": "{ nope }"})),
    )
    .await;
    assert!(body["errors"][0]["message"].is_string());
    let (status, _, body) = send(
        http.get(format!("{}/no/such/route/here/at/all", server.base))
            .bearer_auth(BOT),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("Not Found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_paginate_with_link_headers() {
    let fake = common::example();
    let server = start(&fake).await;
    let http = client();
    let comments = format!("{}/repos/acme/widgets/issues/1/comments", server.base);
    for i in 0..7 {
        let (status, _, body) = send(
            http.post(&comments)
                .bearer_auth(ALICE)
                .json(&json!({"body": format!("comment {i}")})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["body"], format!("comment {i}"));
    }
    let (_, headers, body) =
        send(http.get(format!("{comments}?per_page=3")).bearer_auth(BOT)).await;
    let bodies: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["comment 0", "comment 1", "comment 2"]);
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.contains(&format!("<{comments}?per_page=3&page=2>; rel=\"next\"")),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{comments}?per_page=3&page=3>; rel=\"last\"")),
        "{link}"
    );

    let (_, headers, body) = send(
        http.get(format!("{comments}?per_page=3&page=3"))
            .bearer_auth(BOT),
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 1);
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.contains("rel=\"prev\"")
            && link.contains("rel=\"first\"")
            && !link.contains("rel=\"next\""),
        "{link}"
    );

    let (_, headers, body) = send(http.get(&comments).bearer_auth(BOT)).await;
    assert_eq!(body.as_array().unwrap().len(), 7);
    assert!(headers.get("link").is_none(), "one page needs no Link");

    // Conditional requests: an unchanged resource answers 304.
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = send(
        http.get(&comments)
            .bearer_auth(BOT)
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    send(
        http.post(&comments)
            .bearer_auth(ALICE)
            .json(&json!({"body": "one more"})),
    )
    .await;
    let (status, _, _) = send(
        http.get(&comments)
            .bearer_auth(BOT)
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_map_errors_like_github() {
    let fake = common::example();
    let server = start(&fake).await;
    let http = client();
    let repo = format!("{}/repos/acme/widgets", server.base);
    let get = |path: &str, token: &str| http.get(format!("{repo}{path}")).bearer_auth(token);

    assert_eq!(
        send(get("/branches/release-1.0", BOT)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(get("/branches/nope", BOT)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(get("/collaborators/carol", BOT)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(get("/collaborators/dave", BOT)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            http.get(format!("{}/orgs/acme/members/alice", server.base))
                .bearer_auth(BOT)
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(
            http.get(format!("{}/orgs/acme/members/dave", server.base))
                .bearer_auth(BOT)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (_, _, members) = send(
        http.get(format!(
            "{}/orgs/acme/teams/maintainers/members",
            server.base
        ))
        .bearer_auth(BOT),
    )
    .await;
    assert_eq!(members[0]["login"], "alice");
    assert_eq!(send(get("/issues/abc", BOT)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        send(get("/pulls/1", BOT)).await.0,
        StatusCode::NOT_FOUND,
        "issue 1 is not a pull request"
    );
    let (_, _, refs) = send(get("/git/refs/heads/", BOT)).await;
    assert!(
        refs.as_array().is_some_and(|a| a.len() == 3),
        "prefix match lists branches: {refs}"
    );

    // 403 for writes without push access, 400 for broken JSON, 422 for invalid input.
    let (status, _, _) = send(
        http.post(format!("{repo}/issues/1/labels"))
            .bearer_auth("test-token-dave")
            .json(&json!(["lgtm"])),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = send(
        http.post(format!("{repo}/issues/1/comments"))
            .bearer_auth(ALICE)
            .body("{not json"),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Problems parsing JSON"))
    );
    let (status, _, body) = send(
        http.post(format!("{repo}/issues"))
            .bearer_auth(ALICE)
            .json(&json!({"body": "no title"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["errors"].is_array());

    // Merge errors: 409 for a stale sha, 405 when not mergeable.
    let (status, _, _) = send(
        http.put(format!("{repo}/pulls/2/merge"))
            .bearer_auth(BOT)
            .json(&json!({"sha": "0000000000000000000000000000000000000000"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, body) = send(
        http.put(format!("{repo}/pulls/2/merge"))
            .bearer_auth(BOT)
            .json(&json!({"merge_method": "squash"})),
    )
    .await;
    assert_eq!(
        (status, body["merged"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(
        send(get("/pulls/2/merge", BOT)).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, _, _) = send(
        http.put(format!("{repo}/pulls/2/merge"))
            .bearer_auth(BOT)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_api_pull_requests_and_edits() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let server = start(&fake).await;
    let http = client();
    let repo = format!("{}/repos/acme/widgets", server.base);
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);

    // Create a file on a new branch-less path of main, then update it (needs its blob sha).
    let (status, _, body) = send(
        http.put(format!("{repo}/contents/docs/new.md"))
            .bearer_auth(BOT)
            .json(&json!({"message": "Add docs", "content": b64("v1\n")})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let blob = body["content"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        body["commit"]["sha"].as_str(),
        fake.branch_sha("acme", "widgets", "main").as_deref()
    );
    let (status, _, _) = send(
        http.put(format!("{repo}/contents/docs/new.md"))
            .bearer_auth(BOT)
            .json(&json!({"message": "Edit docs", "content": b64("v2\n")})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sha is required to replace a file"
    );
    let (status, _, _) = send(
        http.put(format!("{repo}/contents/docs/new.md"))
            .bearer_auth(BOT)
            .json(&json!({"message": "Edit docs", "content": b64("v2\n"), "sha": blob})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, file) = send(
        http.get(format!("{repo}/contents/docs/new.md?ref=main"))
            .bearer_auth(BOT),
    )
    .await;
    let content: String = file["content"]
        .as_str()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap(),
        b"v2\n"
    );

    // A branch via the git refs API, a commit on it, and a pull request from it.
    let main = fake.branch_sha("acme", "widgets", "main").unwrap();
    let (status, _, _) = send(
        http.post(format!("{repo}/git/refs"))
            .bearer_auth(BOT)
            .json(&json!({"ref": "refs/heads/topic", "sha": main})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = send(
        http.put(format!("{repo}/contents/topic.txt"))
            .bearer_auth(BOT)
            .json(&json!({"message": "Topic", "content": b64("t\n"), "branch": "topic"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, pr) = send(
        http.post(format!("{repo}/pulls"))
            .bearer_auth(ALICE)
            .json(&json!({"title": "Topic", "head": "acme:topic", "base": "main", "body": "b"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{pr}");
    let n = pr["number"].as_u64().unwrap();
    assert_eq!(pr["user"]["login"], "alice");
    let (status, _, _) = send(
        http.patch(format!("{repo}/pulls/{n}"))
            .bearer_auth(ALICE)
            .json(&json!({"title": "Topic!", "base": "release-1.0"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    send(
        http.patch(format!("{repo}/pulls/{n}"))
            .bearer_auth(ALICE)
            .json(&json!({"state": "closed"})),
    )
    .await;
    let (_, _, closed) = send(
        http.get(format!("{repo}/pulls?state=closed"))
            .bearer_auth(BOT),
    )
    .await;
    assert_eq!(closed.as_array().unwrap().len(), 1);
    assert_eq!(closed[0]["base"]["ref"], "release-1.0");

    let deliveries = common::drain(&mut rx);
    let kinds = common::kinds(&deliveries);
    let actions: Vec<String> = kinds.iter().map(|(e, a)| format!("{e}/{a}")).collect();
    assert_eq!(
        actions,
        vec![
            "push/",
            "push/",
            "push/",
            "push/",
            "pull_request/opened",
            "pull_request/edited",
            "pull_request/closed"
        ]
    );
    let Event::Push(created) = parse("push", &deliveries[2].body).unwrap() else {
        panic!()
    };
    assert!(
        created.created && created.commits.is_empty(),
        "a new branch at an existing commit lists no commits"
    );
    let Event::PullRequest(edited) = parse("pull_request", &deliveries[5].body).unwrap() else {
        panic!()
    };
    let changes = edited.changes.expect("changes");
    assert_eq!(changes["title"]["from"], "Topic");
    assert_eq!(changes["base"]["ref"]["from"], "main");
    assert_eq!(edited.pull_request.base.git_ref, "release-1.0");
}

/// A loopback webhook receiver recording every request; the first `fail_first` requests get 500.
async fn receiver(
    fail_first: usize,
) -> (
    String,
    mpsc::UnboundedReceiver<(HeaderMap, bytes::Bytes)>,
    oneshot::Sender<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let failures = Arc::new(Mutex::new(fail_first));
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: bytes::Bytes| {
            let tx = tx.clone();
            let failures = failures.clone();
            async move {
                let mut left = failures.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let _ = tx.send((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (url, rx, stop)
}

async fn received(
    rx: &mut mpsc::UnboundedReceiver<(HeaderMap, bytes::Bytes)>,
) -> (HeaderMap, bytes::Bytes) {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("delivery within 20s")
        .expect("receiver open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_ordered_and_match_the_tap() {
    let fake = common::example();
    let (url, mut deliveries, _stop) = receiver(1).await;
    let secret = "test-only-hmac-secret";
    fake.set_webhook(&url, secret);
    let mut tap = fake.subscribe();
    let server = start(&fake).await;
    let http = client();
    let comments = format!("{}/repos/acme/widgets/issues/2/comments", server.base);
    for i in 0..5 {
        send(
            http.post(&comments)
                .bearer_auth(ALICE)
                .json(&json!({"body": format!("/retest {i}")})),
        )
        .await;
    }
    // The first attempt failed with 500 and was retried; order is still preserved.
    for i in 0..5 {
        let (headers, body) = received(&mut deliveries).await;
        let tapped = common::next(&mut tap).await;
        assert_eq!(body, tapped.body, "webhook and tap carry the same bytes");
        assert_eq!(headers["x-github-event"], "issue_comment");
        assert_eq!(
            headers["x-github-delivery"].to_str().unwrap(),
            tapped.delivery_id
        );
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["user-agent"], "GitHub-Hookshot/fake");
        let signature = headers["x-hub-signature-256"].to_str().unwrap();
        assert!(prow_github::hmac::verify(
            secret.as_bytes(),
            &body,
            signature
        ));
        assert!(!prow_github::hmac::verify(b"other", &body, signature));
        let Event::IssueComment(e) = parse("issue_comment", &body).unwrap() else {
            panic!()
        };
        assert_eq!(e.comment.body, format!("/retest {i}"));
        assert_eq!(e.sender.login, "alice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_use_prow_secret_maps_per_repository() {
    let fake = common::example();
    let (url, mut deliveries, _stop) = receiver(0).await;
    let secrets = prow_github::hmac::HmacSecrets::parse(
        "'*':\n- value: global\nacme/widgets:\n- value: widgets-key\n",
    )
    .unwrap();
    fake.set_webhook_secrets(&url, secrets);
    use prow_github::GitHub;
    fake.client("alice")
        .create_comment("acme", "widgets", 1, "hello")
        .await
        .expect("comment");
    let (headers, body) = received(&mut deliveries).await;
    let sig = headers["x-hub-signature-256"].to_str().unwrap();
    assert!(prow_github::hmac::verify(b"widgets-key", &body, sig));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_clone_over_smart_http() {
    let fake = common::example();
    let server = start(&fake).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("widgets");
    let git = if std::path::Path::new("/usr/local/bin/git").is_file() {
        "/usr/local/bin/git"
    } else {
        "git"
    };
    let url = format!("{}/acme/widgets.git", server.base);
    let dest_arg = dest.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(git)
            .args(["clone", "--quiet", &url, &dest_arg])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
    })
    .await
    .expect("join")
    .expect("git runs");
    assert!(
        out.status.success(),
        "clone failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("OWNERS")).unwrap(),
        "approvers:\n  - alice\nreviewers:\n  - bob\n"
    );
    let head = std::process::Command::new(git)
        .args(["-C", &dest.to_string_lossy(), "rev-parse", "HEAD"])
        .output()
        .expect("rev-parse");
    assert_eq!(
        String::from_utf8_lossy(&head.stdout).trim(),
        fake.branch_sha("acme", "widgets", "main").unwrap()
    );
    // The local path works too.
    assert!(
        fake.git_dir("acme", "widgets")
            .unwrap()
            .join("HEAD")
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_until_shutdown_and_checks_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, common::example_seed()).expect("write seed");
    let args = FakeGitHubArgs {
        listen: "127.0.0.1:0".into(),
        seed: Some(seed.clone()),
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        hmac_secret_file: None,
    };
    let err = prow_github_fake::run(args, async {}).await.unwrap_err();
    assert!(err.to_string().contains("--hmac-secret-file"), "{err}");

    let secret = dir.path().join("hmac");
    std::fs::write(&secret, "test-only-secret\n").expect("write secret");
    let args = FakeGitHubArgs {
        listen: "127.0.0.1:0".into(),
        seed: Some(seed),
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        hmac_secret_file: Some(secret),
    };
    // An already-complete shutdown future makes the server stop right after starting.
    prow_github_fake::run(args, async {})
        .await
        .expect("runs and stops");

    let bad = FakeGitHubArgs {
        listen: "127.0.0.1:0".into(),
        seed: Some(dir.path().join("missing.yaml")),
        webhook_url: None,
        hmac_secret_file: None,
    };
    assert!(prow_github_fake::run(bad, async {}).await.is_err());
}

/// GitHub refuses issue, pull request and comment bodies over 65 536 characters with a 422
/// naming the resource and field; the simulator does the same for every writer, and the
/// in-process client cuts what it writes to fit, as the real client does.
#[tokio::test]
async fn bodies_over_githubs_limit_are_refused_like_github() {
    use prow_github::GitHub;
    use prow_github::limits::{MAX_BODY_CHARS, TRUNCATION_NOTE};
    let fake = common::example();
    let server = start(&fake).await;
    let http = client();
    let repo = format!("{}/repos/acme/widgets", server.base);
    // Characters, not bytes: 65 536 two-byte characters fit, one more does not.
    let fits = "é".repeat(MAX_BODY_CHARS);
    let over = format!("{fits}é");
    let expect_422 = |v: &Value, resource: &str| {
        assert_eq!(v["message"], "Validation Failed", "{v}");
        assert_eq!(
            v["errors"],
            json!([{"resource": resource, "code": "custom", "field": "body",
                    "message": "body is too long (maximum is 65536 characters)"}]),
            "{v}"
        );
    };

    let (s, _, v) = send(
        http.post(format!("{repo}/issues/1/comments"))
            .bearer_auth(ALICE)
            .json(&json!({"body": over})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    expect_422(&v, "IssueComment");
    let (s, _, created) = send(
        http.post(format!("{repo}/issues/1/comments"))
            .bearer_auth(ALICE)
            .json(&json!({"body": fits})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = created["id"].as_u64().expect("comment id");
    let (s, _, v) = send(
        http.patch(format!("{repo}/issues/comments/{id}"))
            .bearer_auth(ALICE)
            .json(&json!({"body": over})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    expect_422(&v, "IssueComment");

    let (s, _, v) = send(
        http.post(format!("{repo}/issues"))
            .bearer_auth(ALICE)
            .json(&json!({"title": "t", "body": over})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    expect_422(&v, "Issue");
    let (s, _, v) = send(
        http.patch(format!("{repo}/issues/1"))
            .bearer_auth(BOT)
            .json(&json!({"body": over})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    expect_422(&v, "Issue");
    let (s, _, v) = send(
        http.post(format!("{repo}/pulls"))
            .bearer_auth(BOT)
            .json(&json!({"title": "t", "head": "release-1.0", "base": "main", "body": over})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    expect_422(&v, "PullRequest");

    // Nothing refused was stored: only the comment that fit.
    let bodies: Vec<String> = fake
        .issue_comments("acme", "widgets", 1)
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(bodies.iter().filter(|b| b.len() > 60_000).count(), 1);

    // Fake-only helpers get the error the real client reports for GitHub's 422.
    let err = fake
        .open_pull_request(
            "alice",
            "acme",
            "widgets",
            prow_github_fake::NewPullRequest {
                title: "t".into(),
                body: over.clone(),
                head: "long-body".into(),
                base: "main".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        prow_github::GitHubError::Unprocessable(
            "Validation Failed: body is too long (maximum is 65536 characters)".into()
        )
    );

    // The in-process client cuts, like the real client, so the bot's reply is not lost.
    let bot = fake.client("prow-bot");
    let c = bot
        .create_comment("acme", "widgets", 1, &over)
        .await
        .expect("capped comment");
    assert_eq!(c.body.chars().count(), MAX_BODY_CHARS);
    assert!(c.body.ends_with(TRUNCATION_NOTE));
}
