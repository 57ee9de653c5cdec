//! What Deck and crier need: the OAuth web flow (also nested under a prefix, as `prow local`
//! serves it), permission and team-membership routes, and the inspection helpers (status write
//! history, comments by a user).

use std::collections::HashMap;
use std::time::Duration;

use prow_github::{GitHub, Status};
use prow_github_fake::{FakeGitHub, router};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, name: Alice}
  - {login: carol}
orgs:
  - login: acme
    members: [alice]
    teams: [{slug: maintainers, members: [alice]}]
repos:
  - {name: acme/widgets, files: {README.md: "hi\n"}}
  - {name: acme/secret, private: true, files: {README.md: "s\n"}}
pull_requests:
  - {repo: acme/widgets, number: 1, author: carol, title: One, head: one, files: {one.txt: "1\n"}}
oauth_apps:
  - {client_id: deck-id, client_secret: deck-secret, name: Prow Deck}
"#;

const REDIRECT: &str = "http://deck.example.com/github-login/redirect";

struct Server {
    base: String,
    _stop: oneshot::Sender<()>,
}

/// Serves `app` on loopback; stops when dropped.
async fn start(app: axum::Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Server { base, _stop: stop }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// Signs in as `login` through the authorize page and returns the one-time code.
async fn sign_in(base: &str, login: &str, state: &str) -> String {
    let http = http();
    let page = http
        .get(format!("{base}/login/oauth/authorize"))
        .query(&[
            ("client_id", "deck-id"),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("scope", "read:org"),
        ])
        .send()
        .await
        .expect("authorize page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Sign in to Prow Deck as:"), "{html}");
    assert!(html.contains(&format!("id=\"login-{login}\"")), "{html}");
    // The form posts to a relative action, so it works under any prefix.
    assert!(html.contains("action=\"authorize\""), "{html}");

    let resp = http
        .post(format!("{base}/login/oauth/authorize"))
        .form(&[
            ("client_id", "deck-id"),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("scope", "read:org"),
            ("login", login),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned();
    let url = reqwest::Url::parse(&location).expect("redirect URL");
    assert!(location.starts_with(REDIRECT), "{location}");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some(state));
    q.get("code").cloned().expect("code")
}

async fn exchange(base: &str, code: &str, secret: &str, json_accept: bool) -> reqwest::Response {
    let mut req = http()
        .post(format!("{base}/login/oauth/access_token"))
        .form(&[
            ("client_id", "deck-id"),
            ("client_secret", secret),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ]);
    if json_accept {
        req = req.header("Accept", "application/json");
    }
    req.send().await.expect("token request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_web_flow_issues_a_token_acting_as_the_user() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let server = start(router(fake.clone())).await;
    let base = &server.base;

    let code = sign_in(base, "alice", "st@te/1").await;
    // A wrong secret neither succeeds nor spends the code.
    let bad: Value = exchange(base, &code, "nope", true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bad["error"], "incorrect_client_credentials");

    let resp = exchange(base, &code, "deck-secret", true).await;
    assert_eq!(resp.status().as_u16(), 200);
    let tok: Value = resp.json().await.unwrap();
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["scope"], "read:org");
    let token = tok["access_token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("gho_"), "{token}");

    // The token is alice on REST and GraphQL.
    let me: Value = http()
        .get(format!("{base}/user"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "alice");
    let viewer: Value = http()
        .post(format!("{base}/graphql"))
        .header("Authorization", format!("bearer {token}"))
        .json(&json!({"query": "query { viewer { login } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(viewer["data"]["viewer"]["login"], "alice");

    // The code is single-use: GitHub answers 200 with an error document.
    let again = exchange(base, &code, "deck-secret", true).await;
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["error"], "bad_verification_code");
    assert!(again["error_description"].as_str().is_some());

    // Without Accept: application/json the answer is form-encoded.
    let code = sign_in(base, "carol", "s2").await;
    let text = exchange(base, &code, "deck-secret", false)
        .await
        .text()
        .await
        .unwrap();
    let form: HashMap<String, String> = reqwest::Url::parse(&format!("http://x/?{text}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(form.get("token_type").map(String::as_str), Some("bearer"));
    assert!(
        form.get("access_token")
            .is_some_and(|t| t.starts_with("gho_"))
    );

    // Unknown apps get no sign-in page.
    let unknown = http()
        .get(format!("{base}/login/oauth/authorize?client_id=other"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_works_nested_under_a_prefix_and_with_runtime_apps() {
    let fake = FakeGitHub::from_seed_yaml("users: [{login: dave}]").expect("seed");
    fake.register_oauth_app("deck-id", "deck-secret", Some("Prow Deck"));
    let app = axum::Router::new().nest("/fake-github", router(fake.clone()));
    let server = start(app).await;
    let base = format!("{}/fake-github", server.base);
    let code = sign_in(&base, "dave", "x").await;
    let tok: Value = exchange(&base, &code, "deck-secret", true)
        .await
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().expect("token");
    let me: Value = http()
        .get(format!("{base}/user"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "dave");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_and_team_membership_routes() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let server = start(router(fake.clone())).await;
    let get = |path: String| {
        let url = format!("{}{path}", server.base);
        async move {
            let resp = http()
                .get(url)
                .header("Authorization", "token t-bot")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = get("/repos/acme/widgets/collaborators/alice/permission".into()).await;
    assert_eq!((s, v["permission"].clone()), (200, json!("write")));
    assert_eq!(v["user"]["login"], "alice");
    let (_, v) = get("/repos/acme/widgets/collaborators/carol/permission".into()).await;
    assert_eq!(v["permission"], "read");
    let (_, v) = get("/repos/acme/secret/collaborators/carol/permission".into()).await;
    assert_eq!(v["permission"], "none");
    let (s, _) = get("/repos/acme/widgets/collaborators/nobody/permission".into()).await;
    assert_eq!(s, 404);

    let (s, v) = get("/orgs/acme/teams/maintainers/memberships/alice".into()).await;
    assert_eq!(
        (s, v["state"].clone(), v["role"].clone()),
        (200, json!("active"), json!("member"))
    );
    let (s, _) = get("/orgs/acme/teams/maintainers/memberships/carol".into()).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn status_history_and_comments_by_user() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let bot = fake.client("prow-bot");
    let head = fake.pull_request("acme", "widgets", 1).unwrap().head.sha;
    let main = fake.branch_sha("acme", "widgets", "main").unwrap();
    let st = |state: &str, ctx: &str| Status {
        state: state.into(),
        target_url: None,
        description: None,
        context: ctx.into(),
    };
    bot.create_status("acme", "widgets", &head, &st("pending", "ci/a"))
        .await
        .unwrap();
    bot.create_status("acme", "widgets", &main, &st("success", "ci/b"))
        .await
        .unwrap();
    bot.create_status("acme", "widgets", &head, &st("success", "ci/a"))
        .await
        .unwrap();
    bot.create_status("acme", "widgets", &head, &st("success", "ci/a"))
        .await
        .unwrap();
    let history: Vec<(String, String, String)> = fake
        .status_history("acme", "widgets")
        .into_iter()
        .map(|(sha, s)| (sha, s.context, s.state))
        .collect();
    let t = |sha: &str, c: &str, s: &str| (sha.to_owned(), c.to_owned(), s.to_owned());
    assert_eq!(
        history,
        [
            t(&head, "ci/a", "pending"),
            t(&main, "ci/b", "success"),
            t(&head, "ci/a", "success"),
            t(&head, "ci/a", "success"),
        ]
    );
    assert!(fake.status_history("acme", "nope").is_empty());

    bot.create_comment("acme", "widgets", 1, "from the bot")
        .await
        .unwrap();
    fake.client("alice")
        .create_comment("acme", "widgets", 1, "from alice")
        .await
        .unwrap();
    let bodies: Vec<String> = fake
        .comments_by("acme", "widgets", 1, "PROW-BOT")
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(bodies, ["from the bot"]);
    assert_eq!(fake.merge_state("acme", "widgets", 1), Some((false, None)));
}
