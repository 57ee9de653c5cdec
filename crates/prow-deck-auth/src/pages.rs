//! HTML pages (`/pr`, error/message pages) and the `/pr-data.js` endpoint.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;

use crate::prstatus::{self, UserData};
use crate::{Auth, CSRF_FORM_FIELD, LOGIN_COOKIE, TOKEN_SESSION_COOKIE};

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    section: &'a str,
    csrf: Option<String>,
    login: Option<String>,
    dest: &'a str,
    heading: &'a str,
    message: &'a str,
    link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "pr.html")]
struct PrPage<'a> {
    title: &'a str,
    section: &'a str,
    csrf: Option<String>,
    login: Option<String>,
    dest: &'a str,
    oauth: bool,
    query: String,
}

fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, no_cache(), Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page rendering failed").into_response()
        }
    }
}

fn no_cache() -> [(header::HeaderName, HeaderValue); 3] {
    [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store, must-revalidate"),
        ),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
        (header::EXPIRES, HeaderValue::from_static("0")),
    ]
}

/// A full page with one message (errors of the login flow, mostly).
pub(crate) fn message(
    auth: &Auth,
    headers: &HeaderMap,
    status: StatusCode,
    heading: &str,
    text: &str,
    link: Option<(String, String)>,
) -> Response {
    render(
        status,
        &MessagePage {
            title: heading,
            section: "",
            csrf: auth.csrf_token(headers),
            login: auth.user(headers).map(|u| u.login),
            dest: "",
            heading,
            message: text,
            link,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PrParams {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    var: Option<String>,
}

/// `GET /pr`.
pub(crate) async fn pr_page(
    State(auth): State<Auth>,
    Query(p): Query<PrParams>,
    headers: HeaderMap,
) -> Response {
    render(
        StatusCode::OK,
        &PrPage {
            title: "PR dashboard",
            section: "pr",
            csrf: auth.csrf_token(&headers),
            login: auth.user(&headers).map(|u| u.login),
            dest: "pr",
            oauth: auth.oauth_enabled(),
            query: p.query.unwrap_or_default(),
        },
    )
}

const AUTH_CSS: &str = include_str!("../static/auth.css");
const PR_JS: &str = include_str!("../static/pr.js");

/// `GET /auth-static/{auth.css,pr.js}`: the pages' style and script as files, so the pages
/// need no inline code and Deck's Content-Security-Policy can forbid it.
pub(crate) async fn static_file(
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let (ct, body) = match file.as_str() {
        "auth.css" => ("text/css; charset=utf-8", AUTH_CSS),
        "pr.js" => ("text/javascript; charset=utf-8", PR_JS),
        _ => return (StatusCode::NOT_FOUND, "404 page not found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A prow-github client acting as the user (their OAuth token) against `github_api_base`.
/// Short retries: a person is waiting.
pub(crate) fn user_client(
    auth: &Auth,
    token: &str,
) -> Result<prow_github::Client, prow_github::client::BuildError> {
    let mut c = prow_github::ClientConfig::new(prow_github::Auth::Token(
        prow_github::client::TokenSource::Literal(token.to_string()),
    ));
    c.endpoints = vec![auth.inner.cfg.github_api_base.clone()];
    c.user_agent = format!("prow-deck/{}", env!("CARGO_PKG_VERSION"));
    c.max_retries = 1;
    c.max_404_retries = 0;
    c.initial_backoff = std::time::Duration::from_millis(200);
    c.max_rate_limit_wait = std::time::Duration::from_secs(5);
    c.request_timeout = std::time::Duration::from_secs(30);
    c.cache_entries = 0;
    prow_github::Client::new(c, None)
}

/// `var` must be a plain JS identifier path, so the wrapper cannot inject script.
fn valid_var(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
        && !v.starts_with(|c: char| c.is_ascii_digit())
}

fn json_response(data: &UserData, var: Option<&str>, extra: Option<CookieJar>) -> Response {
    let body = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    let (ctype, body) = match var.filter(|v| valid_var(v)) {
        Some(v) => ("application/javascript", format!("var {v} = {body};")),
        None => ("application/json", body),
    };
    let base = (
        StatusCode::OK,
        no_cache(),
        [(header::CONTENT_TYPE, HeaderValue::from_static(ctype))],
    );
    let jar = extra.unwrap_or_default();
    (base.0, jar, base.1, base.2, body).into_response()
}

fn error_response(status: StatusCode, msg: String) -> Response {
    (status, no_cache(), msg).into_response()
}

/// `GET /pr-data.js[?query=&var=]`.
pub(crate) async fn pr_data(
    State(auth): State<Auth>,
    Query(p): Query<PrParams>,
    headers: HeaderMap,
) -> Response {
    pr_data_inner(&auth, &headers, p.query, p.var).await
}

/// The `POST /pr-data.js` form: `query` and the CSRF field.
#[derive(Debug, Default)]
pub(crate) struct PrForm {
    query: Option<String>,
    csrf: Option<String>,
}

/// `POST /pr-data.js` (form `query`, CSRF token in the header or form).
pub(crate) async fn pr_data_post(
    State(auth): State<Auth>,
    Query(p): Query<PrParams>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: PrForm = parse_form(&body);
    if let Err(e) = auth.check_csrf(&headers, form.csrf.as_deref()) {
        return error_response(e.status(), e.to_string());
    }
    pr_data_inner(&auth, &headers, form.query.or(p.query), p.var).await
}

/// Form bodies are small; a malformed one simply carries no fields.
fn parse_form(body: &[u8]) -> PrForm {
    let mut f = PrForm::default();
    if let Ok(u) = reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(body))) {
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "query" => f.query = Some(v.into_owned()),
                CSRF_FORM_FIELD => f.csrf = Some(v.into_owned()),
                _ => {}
            }
        }
    }
    f
}

async fn pr_data_inner(
    auth: &Auth,
    headers: &HeaderMap,
    query: Option<String>,
    var: Option<String>,
) -> Response {
    let Some(user) = auth.user(headers) else {
        return json_response(&UserData::default(), var.as_deref(), None);
    };
    let cfg = (auth.inner.config)();
    let (repos, orgs) = prstatus::known_repos(&cfg);
    let q = prstatus::build_search_query(&user.login, query.as_deref(), &repos, &orgs);
    let span = tracing::info_span!("pr_data", user = %user.login);
    let secure = auth.cookies_secure(headers);
    tracing::Instrument::instrument(search_prs(auth, user, cfg, q, var, secure), span).await
}

async fn search_prs(
    auth: &Auth,
    user: crate::SessionUser,
    cfg: std::sync::Arc<prow_config::Config>,
    q: String,
    var: Option<String>,
    secure: bool,
) -> Response {
    let client = match user_client(auth, &user.token) {
        Ok(c) => c,
        Err(e) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("500 Internal server error creating githubClient: {e}"),
            );
        }
    };
    let mut prs = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..prstatus::MAX_PAGES {
        let vars = serde_json::json!({"query": q, "searchCursor": cursor});
        let data = match prow_github::GitHub::graphql(&client, "", prstatus::SEARCH_QUERY, vars)
            .await
        {
            Ok(d) => d,
            Err(prow_github::GitHubError::Unauthorized(_)) => {
                // The token was revoked: forget the session, like Prow.
                tracing::info!(user = %user.login, "GitHub refused the stored token; logging out");
                let jar = CookieJar::new()
                    .add(crate::removal(LOGIN_COOKIE, secure))
                    .add(crate::removal(TOKEN_SESSION_COOKIE, secure));
                return json_response(&UserData::default(), var.as_deref(), Some(jar));
            }
            Err(e) => {
                tracing::error!(user = %user.login, error = %e, "PR dashboard search failed");
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    format!("Error with querying user data: {e}"),
                );
            }
        };
        match prstatus::parse_search_page(&data) {
            Ok((mut page, next)) => {
                prs.append(&mut page);
                cursor = next;
            }
            Err(e) => {
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    format!("Error with querying user data: {e}"),
                );
            }
        }
        if cursor.is_none() {
            break;
        }
    }
    let data = UserData {
        login: true,
        query: q,
        pull_requests_with_contexts: prstatus::assemble(&cfg.prow.tide.queries, prs),
    };
    json_response(&data, var.as_deref(), None)
}
