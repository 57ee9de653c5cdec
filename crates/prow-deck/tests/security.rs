//! Browser hardening of Deck's router (with the auth and Spyglass routers merged): every
//! response carries the Content-Security-Policy, `nosniff` and no-framing headers; the pages
//! contain no inline script or style the policy would block; rerun/abort accept the CSRF token
//! in Prow's `gorilla.csrf.Token` form field.

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::*;
use http::{HeaderMap, Method, Request, StatusCode, header};
use prow_api::RerunAuthConfig;
use prow_deck::{DeckAuth, DeckOptions};
use prow_runtime::headers::PAGE_CSP;
use tower::ServiceExt as _;

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn auth(cfg: prow_config::Config) -> Arc<dyn DeckAuth> {
    let acfg = prow_deck_auth::AuthConfig {
        oauth: Some(prow_deck_auth::OAuthConfig {
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

/// Deck over the seeded jobs with login, CSRF, Tide and Spyglass.
async fn app(cfg: prow_config::Config) -> (Setup, axum::Router) {
    let store: Arc<dyn prow_jobstore::JobStore> =
        Arc::new(prow_jobstore::memory::MemoryStore::new("default"));
    for j in seed_jobs() {
        store.create(j).await.unwrap();
    }
    let sg = prow_spyglass::Spyglass::new(getter(cfg.clone()), no_storage(), None).router();
    let deck = prow_deck::Deck::new(
        prow_deck::DeckDeps {
            store: store.clone(),
            config: getter(cfg.clone()),
            plugins: None,
            tide: Some(Arc::new(FakeTide)),
            plugin_help: None,
            storage: no_storage(),
            auth: Some(auth(cfg)),
            spyglass: Some(sg),
        },
        DeckOptions {
            rerun_creates_job: true,
            spyglass: true,
            ..Default::default()
        },
    )
    .with_clock(Arc::new(|| t(1000)));
    let token = tokio_util::sync::CancellationToken::new();
    deck.start(token.clone()).await.unwrap();
    let router = deck.router();
    (Setup { store, deck, token }, router)
}

const HTML_PAGES: &[&str] = &[
    "/",
    "/tide",
    "/tide-history",
    "/command-help",
    "/plugins",
    "/pr",
    "/configured-jobs",
];

/// No inline `<script>` body, `<style>` element, `style=` or `on…=` attribute.
fn assert_no_inline_code(uri: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag_end = i + lower[i..].find('>').expect("closed tag");
        assert!(
            lower[i..tag_end].contains(" src="),
            "{uri}: inline script in {html}"
        );
        assert!(
            lower[tag_end + 1..].starts_with("</script>"),
            "{uri}: script with a body"
        );
    }
    assert!(!lower.contains("<style"), "{uri}: <style> in {html}");
    assert!(
        !lower.contains(" style="),
        "{uri}: style attribute in {html}"
    );
    for handler in [
        " onclick=",
        " onload=",
        " onerror=",
        " onsubmit=",
        " onchange=",
    ] {
        assert!(!lower.contains(handler), "{uri}: {handler} in {html}");
    }
}

#[tokio::test]
async fn every_response_has_the_security_headers() {
    let (_s, app) = app(config()).await;
    let mut uris: Vec<&str> = HTML_PAGES.to_vec();
    uris.extend([
        "/job-history/gs/bucket/logs/job",
        "/pr-history?org=acme&repo=alpha&pr=1",
        "/view/gs/bucket/logs/job/1",
        "/spyglass/static/spyglass.css",
        "/github-login?dest=%2F",
        "/static/deck.css",
        "/prowjobs.js",
        "/no-such-page",
    ]);
    for uri in uris {
        let (status, h, _) = call(&app, Method::GET, uri, &[], "").await;
        assert_eq!(
            h.get(header::CONTENT_SECURITY_POLICY)
                .map(|v| v.to_str().unwrap()),
            Some(PAGE_CSP),
            "{uri} ({status})"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
    }
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let (_s, app) = app(config()).await;
    for uri in HTML_PAGES {
        let (status, _, html) = call(&app, Method::GET, uri, &[], "").await;
        assert_eq!(status, StatusCode::OK, "{uri}: {html}");
        assert_no_inline_code(uri, &html);
    }
    // The jobs page's duration histogram is drawn (as SVG bars, not styled spans).
    let (_, _, html) = call(&app, Method::GET, "/", &[], "").await;
    assert!(html.contains("<svg class=\"hist\""), "{html}");
    assert!(html.contains("<rect "), "{html}");
}

/// GETs `/` and returns (cookie header to send back, CSRF token from the page).
async fn csrf(app: &axum::Router) -> (String, String) {
    let (_, headers, page) = call(app, Method::GET, "/", &[], "").await;
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page.find(marker).expect("csrf meta tag") + marker.len();
    let token = page[start..].split('"').next().unwrap().to_owned();
    (cookie, token)
}

#[tokio::test]
async fn rerun_and_abort_accept_the_gorilla_csrf_form_field() {
    let mut cfg = config();
    cfg.prow.deck.rerun_auth_configs.insert(
        "*".into(),
        RerunAuthConfig {
            allow_anyone: true,
            ..Default::default()
        },
    );
    let (s, app) = app(cfg).await;
    let (cookie, token) = csrf(&app).await;
    let form = "application/x-www-form-urlencoded";
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-1",
        &[("cookie", &cookie), ("content-type", form)],
        "gorilla.csrf.Token=wrong",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-1",
        &[("cookie", &cookie), ("content-type", form)],
        &format!("gorilla.csrf.Token={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/abort?prowjob=pj-4",
        &[("cookie", &cookie), ("content-type", form)],
        &format!("other=1&gorilla.csrf.Token={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        s.store.get("pj-4").await.unwrap().status.description,
        "Successfully aborted pj-4."
    );
    // A token in a non-form body is not a form field.
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-1",
        &[("cookie", &cookie), ("content-type", "text/plain")],
        &format!("gorilla.csrf.Token={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
