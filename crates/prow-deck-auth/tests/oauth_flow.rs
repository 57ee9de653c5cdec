//! The whole GitHub login against the GitHub simulator served on 127.0.0.1: `/github-login` →
//! the simulator's authorize page → its code redirect → `/github-login/redirect` (token
//! exchange + `/user`) → session cookies; then `/pr`, `/pr-data.js`, logout, CSRF, and the
//! refusals (wrong state, missing session, tampered cookies).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use prow_deck_auth::{Auth, AuthConfig, ConfigGetter, OAuthConfig};
use prow_github::GitHub as _;
use prow_github_fake::FakeGitHub;
use tower::ServiceExt as _;

const SEED: &str = r#"
users:
  - {login: bot, type: Bot, token: bot-token}
  - {login: alice}
  - {login: bob}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    labels: [lgtm, approved]
    files: {README.md: "hi\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Add gears, head: gears, labels: [approved], files: {g.txt: "g\n"}}
  - {repo: acme/widgets, number: 2, author: bob, title: Not alice, head: bobs, files: {b.txt: "b\n"}}
oauth_apps:
  - {client_id: deck-client, client_secret: deck-secret, name: Prow Deck}
"#;

/// A browser's cookie store, enough for this flow.
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn absorb(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(header::SET_COOKIE) {
            let s = v.to_str().expect("ascii cookie");
            let c = cookie::Cookie::parse(s.to_string()).expect("valid Set-Cookie");
            let removed = c.max_age().is_some_and(|a| a.is_zero() || a.is_negative());
            if removed || c.value().is_empty() {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_string(), c.value().to_string());
            }
        }
    }

    fn header_map(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if !self.cookies.is_empty() {
            let v = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            h.insert(
                header::COOKIE,
                HeaderValue::from_str(&v).expect("cookie header"),
            );
        }
        h
    }

    async fn send(
        &mut self,
        app: &axum::Router,
        method: &str,
        uri: &str,
        extra: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in self.header_map().iter() {
            req = req.header(k, v);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).expect("request"))
            .await
            .expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        self.absorb(&headers);
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }
}

fn location(h: &HeaderMap) -> String {
    h.get(header::LOCATION)
        .expect("Location header")
        .to_str()
        .expect("ascii")
        .to_string()
}

fn config() -> ConfigGetter {
    let mut c = prow_config::Config::default();
    c.prow.tide.queries = serde_json::from_value(serde_json::json!([
        {"repos": ["acme/widgets"], "labels": ["lgtm", "approved"], "missingLabels": ["do-not-merge/hold"]}
    ]))
    .expect("tide queries");
    let c = Arc::new(c);
    Arc::new(move || c.clone())
}

struct World {
    fake: FakeGitHub,
    base: String,
    auth: Auth,
    app: axum::Router,
    http: reqwest::Client,
}

async fn world() -> World {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(prow_github_fake::serve(
        listener,
        fake.clone(),
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let cfg = AuthConfig {
        oauth: Some(OAuthConfig {
            client_id: "deck-client".into(),
            client_secret: "deck-secret".into(),
            redirect_url: "http://deck.example.com/github-login/redirect".into(),
            scopes: vec!["repo".into()],
            final_redirect_url: String::new(),
        }),
        cookie_secret: Some(vec![42u8; 32]),
        allow_insecure: true,
        github_web_base: base.clone(),
        github_api_base: base.clone(),
    };
    let auth = Auth::new(cfg, Some(Arc::new(fake.client("bot"))), config()).expect("auth");
    let app = auth.router();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    World {
        fake,
        base,
        auth,
        app,
        http,
    }
}

/// Runs `/github-login` and the simulator's sign-in as `login`; returns the callback path+query.
async fn sign_in_at_github(w: &World, b: &mut Browser, login: &str, dest: &str) -> String {
    let (st, h, _) = b
        .send(
            &w.app,
            "GET",
            &format!("/github-login?dest={dest}"),
            &[],
            "",
        )
        .await;
    assert_eq!(st, StatusCode::FOUND);
    assert!(b.cookies.contains_key("oauth-session"), "{:?}", b.cookies);
    let authorize = location(&h);
    assert!(
        authorize.starts_with(&format!("{}/login/oauth/authorize?", w.base)),
        "{authorize}"
    );
    let url = reqwest::Url::parse(&authorize).expect("authorize url");
    let params: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], "deck-client");
    assert_eq!(params["scope"], "repo");
    assert_eq!(
        params["redirect_uri"],
        format!("http://deck.example.com/github-login/redirect?dest={dest}")
    );
    // The simulator's sign-in page offers one button per user.
    let page = w
        .http
        .get(&authorize)
        .send()
        .await
        .expect("authorize page")
        .text()
        .await
        .expect("text");
    assert!(page.contains(&format!("id=\"login-{login}\"")), "{page}");
    let mut form: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| ["client_id", "redirect_uri", "state", "scope"].contains(&k.as_str()))
        .collect();
    form.push(("login".into(), login.into()));
    let resp = w
        .http
        .post(format!("{}/login/oauth/authorize", w.base))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status(), reqwest::StatusCode::FOUND);
    let cb = resp
        .headers()
        .get("location")
        .expect("callback location")
        .to_str()
        .expect("ascii")
        .to_string();
    let cb = reqwest::Url::parse(&cb).expect("callback url");
    assert_eq!(cb.path(), "/github-login/redirect");
    format!("{}?{}", cb.path(), cb.query().unwrap_or_default())
}

#[tokio::test]
async fn oauth_round_trip_pr_dashboard_and_logout() {
    let w = world().await;
    let mut b = Browser::default();

    // Logged out: /pr asks to log in, /pr-data.js says so.
    let (st, _, html) = b.send(&w.app, "GET", "/pr", &[], "").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"need-login\""), "{html}");
    assert!(
        html.contains("<a id=\"login\" href=\"/github-login?dest=pr\">"),
        "{html}"
    );
    let (_, _, js) = b.send(&w.app, "GET", "/pr-data.js", &[], "").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&js).unwrap()["Login"],
        false
    );

    let callback = sign_in_at_github(&w, &mut b, "alice", "pr").await;
    let (st, h, body) = b.send(&w.app, "GET", &callback, &[], "").await;
    assert_eq!(st, StatusCode::FOUND, "{body}");
    assert_eq!(location(&h), "/pr");
    assert_eq!(
        b.cookies.get("github_login").map(String::as_str),
        Some("alice")
    );
    assert!(b.cookies.contains_key("access-token-session"));
    assert!(
        !b.cookies.contains_key("oauth-session"),
        "state cookie cleared"
    );
    let login_cookie = h
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("github_login="))
        .expect("github_login set")
        .to_string();
    assert!(login_cookie.contains("HttpOnly"), "{login_cookie}");
    assert!(login_cookie.contains("SameSite=Lax"), "{login_cookie}");
    assert!(login_cookie.contains("Max-Age=2592000"), "{login_cookie}");
    let session_cookie = h
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("access-token-session="))
        .expect("session set")
        .to_string();
    assert!(session_cookie.contains("HttpOnly"));
    assert!(
        !session_cookie.contains("gho_"),
        "token is encrypted: {session_cookie}"
    );

    let user = w.auth.user(&b.header_map()).expect("logged in");
    assert_eq!(user.login, "alice");
    assert!(!user.token.is_empty());

    // The page now shows the user and the query form.
    let (_, _, html) = b.send(&w.app, "GET", "/pr", &[], "").await;
    assert_no_inline_code(&html);
    assert!(
        html.contains("<script src=\"/auth-static/pr.js\" defer></script>"),
        "{html}"
    );
    for (file, ct) in [("pr.js", "text/javascript"), ("auth.css", "text/css")] {
        let (st, h, text) = b
            .send(&w.app, "GET", &format!("/auth-static/{file}"), &[], "")
            .await;
        assert_eq!(st, StatusCode::OK, "{file}");
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with(ct));
        assert!(text.len() > 100, "{file}: {text}");
    }
    assert!(html.contains("<span id=\"user\">@alice</span>"), "{html}");
    assert!(html.contains("<meta name=\"csrf-token\""), "{html}");
    assert!(html.contains("id=\"prs\""));

    // Give PR 1 a failing status so the Tide diff lists it.
    let pr = w
        .fake
        .client("alice")
        .get_pull_request("acme", "widgets", 1)
        .await
        .expect("pr");
    w.fake
        .client("bot")
        .create_status(
            "acme",
            "widgets",
            &pr.head.sha,
            &prow_github::Status {
                state: "failure".into(),
                context: "unit".into(),
                description: Some("broke".into()),
                target_url: Some("https://prow.example.com/view/1".into()),
            },
        )
        .await
        .expect("status");

    let (st, h, js) = b
        .send(&w.app, "GET", "/pr-data.js?var=prData", &[], "")
        .await;
    assert_eq!(st, StatusCode::OK, "{js}");
    assert_eq!(
        h.get(header::CONTENT_TYPE).unwrap(),
        "application/javascript"
    );
    assert!(
        h.get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("no-cache")
    );
    let json = js
        .strip_prefix("var prData = ")
        .and_then(|s| s.strip_suffix(';'))
        .expect("var wrapper");
    let data: serde_json::Value = serde_json::from_str(json).expect("json");
    assert_eq!(data["Login"], true);
    assert!(
        data["Query"]
            .as_str()
            .unwrap()
            .starts_with("is:pr state:open author:alice"),
        "{data}"
    );
    let prs = data["PullRequestsWithContexts"].as_array().expect("prs");
    assert_eq!(prs.len(), 1, "only alice's PR: {data}");
    let p = &prs[0];
    assert_eq!(p["PullRequest"]["Number"], 1);
    assert_eq!(p["PullRequest"]["Title"], "Add gears");
    assert_eq!(p["PullRequest"]["Author"]["Login"], "alice");
    assert_eq!(
        p["PullRequest"]["Repository"]["NameWithOwner"],
        "acme/widgets"
    );
    assert!(
        p["PullRequest"]["URL"]
            .as_str()
            .unwrap()
            .ends_with("/acme/widgets/pull/1")
    );
    assert_eq!(
        p["PullRequest"]["Labels"]["Nodes"][0]["Label"]["Name"],
        "approved"
    );
    assert_eq!(p["Contexts"][0]["Context"], "unit");
    assert_eq!(p["Contexts"][0]["State"], "FAILURE");
    let tq = &p["TideQueries"][0];
    assert_eq!(tq["MissingLabels"], serde_json::json!(["lgtm"]));
    assert_eq!(tq["FailingContexts"], serde_json::json!(["unit"]));
    assert_eq!(tq["Matches"], false);

    // A query override naming a repo is used as is.
    let (_, _, js) = b
        .send(
            &w.app,
            "GET",
            "/pr-data.js?query=is%3Apr%20repo%3Aacme%2Fwidgets%20author%3Abob",
            &[],
            "",
        )
        .await;
    let data: serde_json::Value = serde_json::from_str(&js).expect("json");
    assert_eq!(data["Query"], "is:pr repo:acme/widgets author:bob");
    assert_eq!(
        data["PullRequestsWithContexts"][0]["PullRequest"]["Number"],
        2
    );

    // POST needs the CSRF token.
    let (st, _, body) = b
        .send(
            &w.app,
            "POST",
            "/pr-data.js",
            &[("content-type", "application/x-www-form-urlencoded")],
            "query=is%3Apr",
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let token = w.auth.csrf_token(&b.header_map()).expect("csrf token");
    let (st, _, body) = b
        .send(
            &w.app,
            "POST",
            "/pr-data.js",
            &[("x-csrf-token", token.as_str())],
            "",
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let form = format!("gorilla.csrf.Token={}", token);
    let (st, _, _) = b
        .send(
            &w.app,
            "POST",
            "/pr-data.js",
            &[("content-type", "application/x-www-form-urlencoded")],
            &form,
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    // Logout forgets the session.
    let (st, h, _) = b
        .send(&w.app, "GET", "/github-logout?dest=pr", &[], "")
        .await;
    assert_eq!(st, StatusCode::FOUND);
    assert_eq!(location(&h), "/pr");
    assert!(!b.cookies.contains_key("access-token-session"));
    assert!(!b.cookies.contains_key("github_login"));
    assert!(w.auth.user(&b.header_map()).is_none());
}

#[tokio::test]
async fn callback_refusals() {
    let w = world().await;

    // Wrong state.
    let mut b = Browser::default();
    let callback = sign_in_at_github(&w, &mut b, "alice", "").await;
    let tampered = callback.replace("state=", "state=00");
    let (st, _, html) = b.send(&w.app, "GET", &tampered, &[], "").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("Invalid OAuth state"), "{html}");
    assert!(w.auth.user(&b.header_map()).is_none());

    // No oauth-session cookie (another browser).
    let mut other = Browser::default();
    let (st, _, html) = other.send(&w.app, "GET", &callback, &[], "").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("missing or expired"), "{html}");

    // The right state still works once; the code is then spent.
    let (st, h, _) = b.send(&w.app, "GET", &callback, &[], "").await;
    assert_eq!(st, StatusCode::FOUND);
    assert_eq!(location(&h), "/");
    assert_eq!(w.auth.user(&b.header_map()).expect("user").login, "alice");

    // GitHub-side denial.
    let mut c = Browser::default();
    let cb = sign_in_at_github(&w, &mut c, "bob", "").await;
    let state = cb
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let (st, _, html) = c
        .send(
            &w.app,
            "GET",
            &format!("/github-login/redirect?error=access_denied&state={state}"),
            &[],
            "",
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("access_denied"));

    // A bad code is reported, not a panic.
    let (st, _, html) = c
        .send(
            &w.app,
            "GET",
            &format!("/github-login/redirect?code=nope&state={state}"),
            &[],
            "",
        )
        .await;
    assert_eq!(st, StatusCode::BAD_GATEWAY, "{html}");
    assert!(html.contains("bad_verification_code"), "{html}");
}

#[tokio::test]
async fn cookies_do_not_travel_between_secrets_and_resist_tampering() {
    let w = world().await;
    let mut b = Browser::default();
    let cb = sign_in_at_github(&w, &mut b, "alice", "").await;
    b.send(&w.app, "GET", &cb, &[], "").await;
    assert!(w.auth.user(&b.header_map()).is_some());

    let other = Auth::new(
        AuthConfig {
            oauth: Some(OAuthConfig {
                client_id: "deck-client".into(),
                client_secret: "deck-secret".into(),
                redirect_url: "http://deck.example.com/github-login/redirect".into(),
                ..Default::default()
            }),
            cookie_secret: Some(vec![7u8; 32]),
            allow_insecure: true,
            github_web_base: w.base.clone(),
            github_api_base: w.base.clone(),
        },
        None,
        config(),
    )
    .expect("auth");
    assert!(other.user(&b.header_map()).is_none(), "other secret");
    let token = w.auth.csrf_token(&b.header_map()).expect("token");
    assert!(other.check_csrf(&b.header_map(), Some(&token)).is_err());

    let mut t = Browser {
        cookies: b.cookies.clone(),
    };
    let v = t.cookies.get_mut("access-token-session").unwrap();
    let flipped = if v.ends_with('A') { 'B' } else { 'A' };
    v.pop();
    v.push(flipped);
    assert!(w.auth.user(&t.header_map()).is_none(), "tampered");
}

#[tokio::test]
async fn csrf_accept_and_refuse() {
    let w = world().await;
    let mut b = Browser::default();
    // Any response through the wrapped router hands out the nonce cookie, and the very first
    // page already embeds the matching token.
    let (_, _, html) = b.send(&w.app, "GET", "/pr", &[], "").await;
    assert!(b.cookies.contains_key("prow-csrf"));
    let h = b.header_map();
    let token = w.auth.csrf_token(&h).expect("token");
    assert!(
        html.contains(&format!("<meta name=\"csrf-token\" content=\"{token}\">")),
        "{html}"
    );
    assert!(w.auth.check_csrf(&h, Some(&token)).is_ok(), "form field");
    let mut with_header = h.clone();
    with_header.insert("x-csrf-token", HeaderValue::from_str(&token).unwrap());
    assert!(w.auth.check_csrf(&with_header, None).is_ok(), "header");
    assert!(w.auth.check_csrf(&h, None).is_err(), "missing token");
    assert!(w.auth.check_csrf(&h, Some("AAAA")).is_err(), "wrong token");
    assert!(
        w.auth.check_csrf(&HeaderMap::new(), Some(&token)).is_err(),
        "no cookie"
    );
    let e = w.auth.check_csrf(&h, None).unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);

    // A second browser's token does not fit the first browser's cookie.
    let mut b2 = Browser::default();
    b2.send(&w.app, "GET", "/pr", &[], "").await;
    let t2 = w.auth.csrf_token(&b2.header_map()).expect("token 2");
    assert_ne!(t2, token);
    assert!(w.auth.check_csrf(&h, Some(&t2)).is_err());

    // With a short secret CSRF is off and everything passes.
    let off = Auth::new(
        AuthConfig {
            cookie_secret: Some(vec![1u8; 16]),
            ..AuthConfig::default()
        },
        None,
        config(),
    )
    .expect("auth");
    assert!(!off.csrf_enabled());
    assert!(off.csrf_token(&h).is_none());
    assert!(off.check_csrf(&HeaderMap::new(), None).is_ok());
}

#[tokio::test]
async fn login_without_oauth_is_a_clear_page() {
    let auth = Auth::new(AuthConfig::default(), None, config()).expect("auth");
    let app = auth.router();
    let mut b = Browser::default();
    let (st, _, html) = b.send(&app, "GET", "/github-login?dest=pr", &[], "").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("not configured"), "{html}");
    let (st, _, html) = b.send(&app, "GET", "/pr", &[], "").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"no-oauth\""), "{html}");
}

#[tokio::test]
async fn cookies_are_secure_unless_allow_insecure() {
    let auth = Auth::new(
        AuthConfig {
            oauth: Some(OAuthConfig {
                client_id: "deck-client".into(),
                client_secret: "deck-secret".into(),
                redirect_url: "https://deck.example.com/github-login/redirect".into(),
                ..Default::default()
            }),
            cookie_secret: Some(vec![9u8; 32]),
            allow_insecure: false,
            ..AuthConfig::default()
        },
        None,
        config(),
    )
    .expect("auth");
    let app = auth.router();
    let mut b = Browser::default();
    let (st, h, _) = b.send(&app, "GET", "/github-login?dest=pr", &[], "").await;
    assert_eq!(st, StatusCode::FOUND);
    assert!(location(&h).starts_with("https://github.com/login/oauth/authorize?"));
    let set: Vec<&str> = h
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(set.len(), 2, "{set:?}");
    for c in set {
        assert!(c.contains("Secure"), "{c}");
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("Path=/"), "{c}");
    }
}

#[tokio::test]
async fn login_state_expires_after_ten_minutes() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let w = world().await;
    let now = Arc::new(AtomicU64::new(1_000_000));
    let n = now.clone();
    let auth = w
        .auth
        .clone()
        .with_clock(Arc::new(move || n.load(Ordering::SeqCst)));
    let w = World {
        app: auth.router(),
        auth,
        ..w
    };
    let mut b = Browser::default();
    let cb = sign_in_at_github(&w, &mut b, "alice", "pr").await;
    now.fetch_add(11 * 60, Ordering::SeqCst);
    let (st, _, html) = b.send(&w.app, "GET", &cb, &[], "").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("session expired"), "{html}");
    assert!(w.auth.user(&b.header_map()).is_none());
}

/// No inline `<script>` body, `<style>` element, `style=` or `on…=` attribute: a CSP without
/// `'unsafe-inline'` would block them.
fn assert_no_inline_code(html: &str) {
    let lower = html.to_ascii_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag_end = i + lower[i..].find('>').expect("closed tag");
        assert!(
            lower[i..tag_end].contains(" src="),
            "inline script in {html}"
        );
        assert!(
            lower[tag_end + 1..].starts_with("</script>"),
            "script with a body in {html}"
        );
    }
    assert!(!lower.contains("<style"), "inline style element in {html}");
    assert!(!lower.contains(" style="), "style attribute in {html}");
    assert!(!lower.contains(" onclick="), "inline handler in {html}");
}

/// Set-Cookie lines of a response.
fn set_cookies(h: &HeaderMap) -> Vec<String> {
    h.get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn cookies_are_secure_whenever_https_is_known_even_with_allow_insecure() {
    let app = |redirect_url: &str| {
        Auth::new(
            AuthConfig {
                oauth: Some(OAuthConfig {
                    client_id: "deck-client".into(),
                    client_secret: "deck-secret".into(),
                    redirect_url: redirect_url.into(),
                    ..Default::default()
                }),
                cookie_secret: Some(vec![9u8; 32]),
                allow_insecure: true,
                ..AuthConfig::default()
            },
            None,
            config(),
        )
        .expect("auth")
        .router()
    };
    // (redirect URL, extra request headers, Secure expected)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: [Case; 4] = [
        ("http://deck.example.com/github-login/redirect", &[], false),
        ("https://deck.example.com/github-login/redirect", &[], true),
        (
            "/github-login/redirect",
            &[("x-forwarded-proto", "https")],
            true,
        ),
        (
            "/github-login/redirect",
            &[("forwarded", "for=192.0.2.7;proto=https")],
            true,
        ),
    ];
    for (url, extra, secure) in cases {
        let mut b = Browser::default();
        let (st, h, _) = b
            .send(&app(url), "GET", "/github-login?dest=pr", extra, "")
            .await;
        assert_eq!(st, StatusCode::FOUND);
        let set = set_cookies(&h);
        // The OAuth state cookie and the CSRF nonce cookie.
        assert_eq!(set.len(), 2, "{set:?}");
        for c in &set {
            assert_eq!(c.contains("; Secure"), secure, "{url} {extra:?}: {c}");
            assert!(c.contains("HttpOnly"), "{c}");
            assert!(c.contains("SameSite=Lax"), "{c}");
        }
        let (_, h, _) = b.send(&app(url), "GET", "/github-logout", extra, "").await;
        for c in set_cookies(&h) {
            assert_eq!(c.contains("; Secure"), secure, "{url} {extra:?}: {c}");
            assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
        }
    }
}
