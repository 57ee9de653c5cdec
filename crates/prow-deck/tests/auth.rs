//! Rerun/abort wired to the real `prow-deck-auth` layer: CSRF nonce cookie and token on pages,
//! 403 without the token, 401 when login is needed, `allow_anyone` without login.

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::*;
use http::{HeaderMap, Method, Request, StatusCode};
use prow_api::RerunAuthConfig;
use prow_deck::{DeckAuth, DeckOptions};
use tower::ServiceExt as _;

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn auth(cfg: prow_config::Config, oauth: bool) -> Arc<dyn DeckAuth> {
    let acfg = prow_deck_auth::AuthConfig {
        oauth: oauth.then(|| prow_deck_auth::OAuthConfig {
            client_id: "client".into(),
            client_secret: "secret".into(),
            redirect_url: "http://deck.example.com/github-login/redirect".into(),
            scopes: Vec::new(),
            final_redirect_url: String::new(),
        }),
        cookie_secret: Some(vec![7u8; 32]),
        allow_insecure: true,
        github_web_base: "http://github.example.com".into(),
        github_api_base: "http://api.github.example.com".into(),
    };
    Arc::new(prow_deck_auth::Auth::new(acfg, None, getter(cfg)).unwrap())
}

/// GETs `/` and returns (cookie header to send back, CSRF token from the page).
async fn csrf(app: &axum::Router) -> (String, String) {
    let (status, headers, page) = call(app, Method::GET, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!cookie.is_empty(), "the page hands out a CSRF nonce cookie");
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page.find(marker).expect("csrf meta tag") + marker.len();
    let token = page[start..].split('"').next().unwrap().to_owned();
    (cookie, token)
}

#[tokio::test]
async fn csrf_then_login_required() {
    let cfg = config();
    let opts = DeckOptions {
        rerun_creates_job: true,
        ..Default::default()
    };
    let s = deck_with(cfg.clone(), opts, Some(auth(cfg, true)), no_storage()).await;
    let app = s.deck.router();
    let (status, _, body) = call(&app, Method::POST, "/rerun?prowjob=pj-1", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("CSRF"));
    let (cookie, token) = csrf(&app).await;
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-1",
        &[("cookie", &cookie), ("x-csrf-token", "wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-1",
        &[("cookie", &cookie), ("x-csrf-token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("You need to log in to rerun jobs"));
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/abort?prowjob=pj-3",
        &[("cookie", &cookie), ("x-csrf-token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The auth routes are mounted.
    let (status, _, _) = call(&app, Method::GET, "/github-login?dest=%2F", &[]).await;
    assert!(status.is_redirection(), "{status}");
}

#[tokio::test]
async fn allow_anyone_needs_no_login() {
    let mut cfg = config();
    cfg.prow.deck.rerun_auth_configs.insert(
        "*".into(),
        RerunAuthConfig {
            allow_anyone: true,
            ..Default::default()
        },
    );
    let opts = DeckOptions {
        rerun_creates_job: true,
        ..Default::default()
    };
    let s = deck_with(cfg.clone(), opts, Some(auth(cfg, false)), no_storage()).await;
    let app = s.deck.router();
    let (cookie, token) = csrf(&app).await;
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-1",
        &[("cookie", &cookie), ("x-csrf-token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/abort?prowjob=pj-4",
        &[("cookie", &cookie), ("x-csrf-token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        s.store.get("pj-4").await.unwrap().status.description,
        "Successfully aborted pj-4."
    );
}

#[tokio::test]
async fn spyglass_and_auth_routers_merge_without_conflicts() {
    let cfg = config();
    let sg = prow_spyglass::Spyglass::new(getter(cfg.clone()), no_storage(), None).router();
    let store: Arc<dyn prow_jobstore::JobStore> =
        Arc::new(prow_jobstore::memory::MemoryStore::new("default"));
    let deck = prow_deck::Deck::new(
        prow_deck::DeckDeps {
            store,
            config: getter(cfg.clone()),
            plugins: None,
            tide: None,
            plugin_help: None,
            storage: no_storage(),
            auth: Some(auth(cfg, true)),
            spyglass: Some(sg),
        },
        DeckOptions::default(),
    );
    // Overlapping routes would panic here.
    let app = deck.router();
    let (status, _, _) = call(&app, Method::GET, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, Method::GET, "/pr", &[]).await;
    assert_ne!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&app, Method::GET, "/view/gs/bucket/logs/job/1", &[]).await;
    assert_ne!(status, StatusCode::NOT_FOUND, "spyglass serves /view/");
}
