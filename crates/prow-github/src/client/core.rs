//! The request engine: credentials, dry-run gate, throttle, conditional requests, retries with
//! endpoint fallback, rate-limit waits, metrics and tracing. Every REST and GraphQL call goes
//! through [`Inner::send`].

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH, LINK,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::auth::{AppState, InstallationToken, TokenReader};
use super::cache::{Cached, EtagCache};
use super::errmap::{self, Route};
use super::metrics::GitHubMetrics;
use super::paths;
use super::ratelimit::{self, Throttle, Verdict};
use crate::{GitHubError, Result, User};

/// The REST API version every request pins.
pub(crate) const API_VERSION: &str = "2022-11-28";
/// Default `Accept`.
pub(crate) const ACCEPT_JSON: &str = "application/vnd.github+json";
/// `Accept` for raw file contents.
pub(crate) const ACCEPT_RAW: &str = "application/vnd.github.raw+json";
/// Header ghproxy uses to budget (throttle and report) requests per App installation.
const BUDGET_HEADER: &str = "X-PROW-GHCACHE-TOKEN-BUDGET-IDENTIFIER";
/// Header telling ghproxy when the credential expires.
const EXPIRY_HEADER: &str = "X-PROW-TOKEN-EXPIRES-AT";
/// Response header ghproxy sets to say how it served a request.
const CACHE_MODE_HEADER: &str = "x-cache-mode";
/// Upper bound on pages followed, against a server that links a page to itself forever.
const MAX_PAGES: usize = 1000;

/// Credentials configured on the client.
#[derive(Debug)]
pub(crate) enum Creds {
    Token(TokenReader),
    App(AppState),
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A path (with query) appended to each `--github-endpoint` in turn.
    Rest(String),
    /// One absolute URL (GraphQL).
    Url(String),
}

/// Which credential a request uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthFor<'a> {
    /// Installation token of this org under App auth; the token otherwise.
    Org(&'a str),
    /// The client's own identity (`GET /user`); with App auth the JWT.
    Identity,
    /// The App JWT (`/app/…` routes).
    AppJwt,
}

/// One logical request (retries included).
#[derive(Debug, Clone)]
pub(crate) struct Req<'a> {
    pub(crate) method: Method,
    pub(crate) target: Target,
    /// Templated path for metrics and spans.
    pub(crate) route: Cow<'static, str>,
    pub(crate) auth: AuthFor<'a>,
    /// Serialized JSON body.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) accept: &'static str,
    /// Whether a 404 is retried (see `max_404_retries`).
    pub(crate) retry_404: bool,
    /// Sent even in dry-run (App token minting, GraphQL queries).
    pub(crate) always_send: bool,
}

impl<'a> Req<'a> {
    /// A GET of `path` on behalf of `org`.
    pub(crate) fn get(org: &'a str, path: String, route: &'static str) -> Self {
        Req {
            method: Method::GET,
            target: Target::Rest(path),
            route: Cow::Borrowed(route),
            auth: AuthFor::Org(org),
            body: None,
            accept: ACCEPT_JSON,
            retry_404: true,
            always_send: false,
        }
    }

    pub(crate) fn no_404_retry(mut self) -> Self {
        self.retry_404 = false;
        self
    }

    fn what(&self) -> String {
        let target = match &self.target {
            Target::Rest(p) => p.as_str(),
            Target::Url(u) => u.as_str(),
        };
        format!("{} {target}", self.method)
    }
}

/// A final response (after retries). `dry_run` responses were never sent and carry no body.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) dry_run: bool,
    /// `METHOD path`, for error messages.
    pub(crate) what: String,
}

impl Resp {
    /// Maps a status outside `ok` to a typed error; dry-run responses pass.
    pub(crate) fn check(self, ok: &[u16], route: Route) -> Result<Resp> {
        if self.dry_run || ok.contains(&self.status) {
            Ok(self)
        } else {
            Err(errmap::error_for(
                self.status,
                &self.body,
                route,
                &self.what,
            ))
        }
    }

    /// Decodes the JSON body.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| GitHubError::Decode(format!("{}: {e}", self.what)))
    }

    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// The credential resolved for one logical request. `Debug` leaves out the header's token.
#[derive(Clone)]
struct Credential {
    header: String,
    /// `token_hash` metric label and ETag-cache identity.
    identity: String,
    /// Extra headers for ghproxy.
    extra: Vec<(&'static str, String)>,
    /// The installation whose token this is (App auth).
    installation: Option<u64>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("header", &"<redacted>")
            .field("identity", &self.identity)
            .field(
                "extra",
                &self.extra.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("installation", &self.installation)
            .finish()
    }
}

/// Shared client state.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// Endpoint bases without trailing slash.
    pub(crate) endpoints: Vec<String>,
    /// Their path parts (`/api/v3` or empty), for `Link` rewriting.
    pub(crate) endpoint_paths: Vec<String>,
    pub(crate) graphql_url: String,
    pub(crate) creds: Creds,
    pub(crate) cache: EtagCache,
    pub(crate) throttle: Option<Throttle>,
    pub(crate) metrics: GitHubMetrics,
    pub(crate) user_agent_label: String,
    pub(crate) dry_run: bool,
    pub(crate) max_retries: u32,
    pub(crate) max_404_retries: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_rate_limit_wait: Duration,
    pub(crate) bot: tokio::sync::OnceCell<User>,
}

fn is_mutating(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `reqwest::Error`'s own text hides the cause ("error sending request"); append the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Whether ghproxy says it served the request without spending a GitHub token.
fn served_free(headers: &HeaderMap) -> bool {
    matches!(
        headers.get(CACHE_MODE_HEADER).and_then(|v| v.to_str().ok()),
        Some("REVALIDATED" | "COALESCED")
    )
}

impl Inner {
    /// Sends `req` with retries; returns the final response whatever its status (callers map
    /// statuses with [`Resp::check`]). Errors are only transport failures, rate limits that did
    /// not clear and credential problems.
    pub(crate) async fn send(&self, req: Req<'_>) -> Result<Resp> {
        let what = req.what();
        if self.dry_run && is_mutating(&req.method) && !req.always_send {
            let body = req
                .body
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            tracing::info!(method = %req.method, path = %what, body = %body, "dry-run: not sending mutating GitHub request");
            return Ok(Resp {
                status: 0,
                headers: HeaderMap::new(),
                body: Bytes::new(),
                dry_run: true,
                what,
            });
        }
        let cred = self.credential(req.auth).await?;
        let span = tracing::debug_span!(
            "github_request",
            method = %req.method,
            path = %req.route,
            status = tracing::field::Empty
        );
        self.send_with(req, cred, what, span.clone())
            .instrument(span)
            .await
    }

    async fn send_with(
        &self,
        req: Req<'_>,
        cred: Credential,
        what: String,
        span: tracing::Span,
    ) -> Result<Resp> {
        let api_version = if matches!(req.target, Target::Url(_)) {
            "v4"
        } else {
            "v3"
        };
        let cache_key = match &req.target {
            Target::Rest(p) if req.method == Method::GET && self.cache.enabled() => {
                Some((cred.identity.clone(), p.clone()))
            }
            _ => None,
        };
        let cached = cache_key.as_ref().and_then(|k| self.cache.get(k));
        let attempts = self.max_retries.saturating_add(1);
        let mut backoff = self.initial_backoff;
        let mut endpoint = 0usize;
        let mut last: Option<Result<Resp>> = None;

        for attempt in 0..attempts {
            let more = attempt + 1 < attempts;
            let url = match &req.target {
                Target::Rest(p) => {
                    format!("{}{p}", self.endpoints[endpoint % self.endpoints.len()])
                }
                Target::Url(u) => u.clone(),
            };
            if let Some(throttle) = &self.throttle {
                let wait = throttle.reserve(&cred.identity);
                if !wait.is_zero() {
                    self.metrics.observe_wait(
                        &cred.identity,
                        req.method.as_str(),
                        api_version,
                        wait,
                    );
                    tokio::time::sleep(wait).await;
                }
            }
            let mut rb = self
                .http
                .request(req.method.clone(), &url)
                .header(AUTHORIZATION, &cred.header)
                .header(ACCEPT, req.accept)
                .header("X-GitHub-Api-Version", API_VERSION);
            for (k, v) in &cred.extra {
                rb = rb.header(*k, v);
            }
            if let Some(c) = &cached {
                rb = rb.header(IF_NONE_MATCH, &c.etag);
            }
            if let Some(body) = &req.body {
                rb = rb
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let start = Instant::now();
            let outcome = async {
                let r = rb.send().await?;
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                let body = r.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, body))
            }
            .await;

            let (status, mut headers, body) = match outcome {
                Ok(x) => x,
                Err(e) if e.is_timeout() => {
                    let took = start.elapsed();
                    self.metrics.observe_timeout(
                        &cred.identity,
                        &req.route,
                        &self.user_agent_label,
                        took,
                    );
                    // Not retried: a timed-out write may have been applied, and another full
                    // timeout per attempt would stall the caller for far too long.
                    return Err(GitHubError::Transport(format!(
                        "{what}: timed out after {took:?}"
                    )));
                }
                Err(e) => {
                    let msg = error_chain(&e);
                    tracing::debug!(url = %url, error = %msg, attempt, "GitHub request failed; trying the next endpoint");
                    last = Some(Err(GitHubError::Transport(format!("{what}: {msg}"))));
                    if matches!(req.target, Target::Rest(_)) {
                        endpoint += 1;
                    }
                    if more {
                        tokio::time::sleep(backoff).await;
                        backoff = backoff.saturating_mul(2);
                    }
                    continue;
                }
            };

            span.record("status", status);
            self.metrics.observe_request(
                &cred.identity,
                &req.route,
                status,
                &self.user_agent_label,
                start.elapsed(),
            );
            self.metrics.observe_rate_limit(
                &cred.identity,
                api_version,
                &headers,
                SystemTime::now(),
            );
            if let Some(throttle) = &self.throttle
                && (status == 304 || served_free(&headers))
            {
                throttle.refund(&cred.identity);
            }

            if status == 304
                && let Some(c) = &cached
            {
                // Revalidated: the cached body is current. Restore headers a 304 may omit.
                if let Some(link) = c
                    .link
                    .as_deref()
                    .and_then(|l| HeaderValue::from_str(l).ok())
                {
                    headers.entry(LINK).or_insert(link);
                }
                if let Some(ct) = c
                    .content_type
                    .as_deref()
                    .and_then(|l| HeaderValue::from_str(l).ok())
                {
                    headers.insert(CONTENT_TYPE, ct);
                }
                return Ok(Resp {
                    status: 200,
                    headers,
                    body: c.body.clone(),
                    dry_run: false,
                    what,
                });
            }

            match ratelimit::classify(
                status,
                &headers,
                &body,
                now_unix(),
                self.max_rate_limit_wait,
            ) {
                Verdict::NotLimited => {}
                Verdict::GiveUp { retry_after_secs } => {
                    tracing::warn!(path = %what, ?retry_after_secs, "GitHub rate limit; not waiting that long");
                    return Err(GitHubError::RateLimited { retry_after_secs });
                }
                Verdict::Retry(wait) => {
                    last = Some(Err(GitHubError::RateLimited {
                        retry_after_secs: Some(wait.as_secs()),
                    }));
                    if more {
                        tracing::info!(path = %what, wait = ?wait, "GitHub rate limit; waiting before retrying");
                        tokio::time::sleep(wait).await;
                    }
                    continue;
                }
            }

            let resp = Resp {
                status,
                headers,
                body,
                dry_run: false,
                what: what.clone(),
            };
            if status >= 500 {
                tracing::debug!(url = %url, status, attempt, "GitHub server error; retrying");
                last = Some(Ok(resp));
                if matches!(req.target, Target::Rest(_)) {
                    endpoint += 1;
                }
                if more {
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                }
                continue;
            }
            if status == 404 && req.retry_404 && attempt < self.max_404_retries && more {
                // GitHub is briefly inconsistent right after an event (PR opened, then 404).
                last = Some(Ok(resp));
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
                continue;
            }
            if status == 401
                && let (Creds::App(app), Some(id)) = (&self.creds, cred.installation)
            {
                app.forget_token(id);
            }
            if status == 200
                && let Some(key) = cache_key
                && let Some(etag) = resp.headers.get(ETAG).and_then(|v| v.to_str().ok())
            {
                let header = |n| {
                    resp.headers
                        .get(n)
                        .and_then(|v: &HeaderValue| v.to_str().ok())
                        .map(str::to_string)
                };
                self.cache.put(
                    key,
                    Cached {
                        etag: etag.to_string(),
                        body: resp.body.clone(),
                        link: header(LINK),
                        content_type: header(CONTENT_TYPE),
                    },
                );
            }
            return Ok(resp);
        }
        last.unwrap_or_else(|| Err(GitHubError::Transport(format!("{what}: no attempt made"))))
    }

    async fn credential(&self, auth: AuthFor<'_>) -> Result<Credential> {
        match (&self.creds, auth) {
            (Creds::Token(reader), _) => {
                let pat = reader.current()?;
                Ok(Credential {
                    header: format!("Bearer {}", pat.token),
                    identity: pat.hash,
                    extra: Vec::new(),
                    installation: None,
                })
            }
            (Creds::App(app), AuthFor::AppJwt | AuthFor::Identity) => Ok(self.jwt_credential(app)?),
            (Creds::App(app), AuthFor::Org(org)) => {
                if org.is_empty() {
                    return Err(GitHubError::Unauthorized(
                        "GitHub App auth needs the org a request is for".into(),
                    ));
                }
                let (id, token) = self.installation_token(app, org).await?;
                let identity = format!("{} - {org}", app.app_id);
                Ok(Credential {
                    header: format!("Bearer {}", token.token),
                    extra: vec![
                        (BUDGET_HEADER, identity.clone()),
                        (
                            EXPIRY_HEADER,
                            token
                                .expires_at
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ),
                    ],
                    identity,
                    installation: Some(id),
                })
            }
        }
    }

    fn jwt_credential(&self, app: &AppState) -> Result<Credential> {
        let now = now_unix();
        let jwt = app.jwt(now)?;
        let expires = chrono::DateTime::from_timestamp(now + 9 * 60, 0).unwrap_or_default();
        Ok(Credential {
            header: format!("Bearer {jwt}"),
            identity: app.app_id.clone(),
            extra: vec![
                (BUDGET_HEADER, app.app_id.clone()),
                (
                    EXPIRY_HEADER,
                    expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ),
            ],
            installation: None,
        })
    }

    /// The org's installation token, minted on first use and cached until shortly before expiry.
    async fn installation_token(
        &self,
        app: &AppState,
        org: &str,
    ) -> Result<(u64, InstallationToken)> {
        let id = match app.installation_for(org) {
            Some(id) => id,
            None => {
                let id = Box::pin(self.lookup_installation(app, org)).await?;
                app.remember_installation(org, id);
                id
            }
        };
        let slot = app.token_slot(id);
        let mut guard = slot.lock().await;
        if let Some(t) = guard.as_ref()
            && t.fresh(chrono::Utc::now())
        {
            return Ok((id, t.clone()));
        }
        let req = Req {
            method: Method::POST,
            target: Target::Rest(format!("/app/installations/{id}/access_tokens")),
            route: Cow::Borrowed("/app/installations/:id/access_tokens"),
            auth: AuthFor::AppJwt,
            body: None,
            accept: ACCEPT_JSON,
            retry_404: false,
            always_send: true,
        };
        let token: InstallationToken = Box::pin(self.send(req))
            .await?
            .check(&[201], Route::Default)?
            .json()?;
        tracing::debug!(org, installation = id, expires_at = %token.expires_at, "minted GitHub App installation token");
        *guard = Some(token.clone());
        Ok((id, token))
    }

    /// `GET /orgs/{org}/installation`, falling back to `/users/{org}/installation` for an App
    /// installed on a user account.
    async fn lookup_installation(&self, app: &AppState, org: &str) -> Result<u64> {
        #[derive(Deserialize)]
        struct Installation {
            id: u64,
        }
        let seg = paths::encode_segment(org);
        for (path, route) in [
            (
                format!("/orgs/{seg}/installation"),
                "/orgs/:orgname/installation",
            ),
            (
                format!("/users/{seg}/installation"),
                "/users/:username/installation",
            ),
        ] {
            let req = Req {
                auth: AuthFor::AppJwt,
                ..Req::get(org, path, route).no_404_retry()
            };
            let resp = self.send(req).await?;
            match resp.status {
                200 => return Ok(resp.json::<Installation>()?.id),
                404 => continue,
                status => {
                    return Err(errmap::error_for(
                        status,
                        &resp.body,
                        Route::Default,
                        &resp.what,
                    ));
                }
            }
        }
        Err(GitHubError::Unauthorized(format!(
            "GitHub App {} is not installed for {org}",
            app.app_id
        )))
    }

    /// [`Self::send`] where any status but 200 is an error.
    pub(crate) async fn send_ok(&self, req: Req<'_>) -> Result<Resp> {
        self.send(req).await?.check(&[200], Route::Default)
    }

    /// A GET decoded as JSON; non-200 is an error.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        org: &str,
        path: String,
        route: &'static str,
    ) -> Result<T> {
        self.send_ok(Req::get(org, path, route)).await?.json()
    }

    /// Every page of a paginated GET (`per_page=100`, following `Link: rel="next"`), as raw
    /// bodies in order.
    pub(crate) async fn get_pages(
        &self,
        org: &str,
        path: String,
        route: &'static str,
    ) -> Result<Vec<Resp>> {
        let mut next = Some(paths::with_query(&path, "per_page", "100"));
        let mut pages = Vec::new();
        while let Some(path) = next.take() {
            if pages.len() >= MAX_PAGES {
                tracing::warn!(path = %path, "stopping pagination after {MAX_PAGES} pages");
                break;
            }
            let resp = self.send_ok(Req::get(org, path.clone(), route)).await?;
            next = resp
                .headers
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(paths::next_link)
                .and_then(|l| paths::next_page_path(l, &self.endpoint_paths))
                .filter(|n| *n != path);
            pages.push(resp);
        }
        Ok(pages)
    }

    /// All items of a paginated list.
    pub(crate) async fn get_paged<T: DeserializeOwned>(
        &self,
        org: &str,
        path: String,
        route: &'static str,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for page in self.get_pages(org, path, route).await? {
            out.extend(page.json::<Vec<T>>()?);
        }
        Ok(out)
    }

    /// The client's identity, fetched once.
    pub(crate) async fn bot_user(&self) -> Result<User> {
        let user = self
            .bot
            .get_or_try_init(|| async {
                let (user, identity) = match &self.creds {
                    Creds::Token(reader) => {
                        let req = Req {
                            auth: AuthFor::Identity,
                            ..Req::get("", "/user".into(), "/user")
                        };
                        let user: User = self.send_ok(req).await?.json()?;
                        (user, reader.current()?.hash)
                    }
                    Creds::App(app) => {
                        #[derive(Deserialize)]
                        struct App {
                            #[serde(default)]
                            id: u64,
                            slug: String,
                            #[serde(default)]
                            name: Option<String>,
                            #[serde(default)]
                            html_url: String,
                        }
                        let req = Req {
                            auth: AuthFor::AppJwt,
                            ..Req::get("", "/app".into(), "/app")
                        };
                        let a: App = self.send_ok(req).await?.json()?;
                        let user = User {
                            login: format!("{}[bot]", a.slug),
                            id: a.id,
                            kind: "Bot".into(),
                            name: a.name,
                            email: None,
                            html_url: a.html_url,
                        };
                        (user, app.app_id.clone())
                    }
                };
                self.metrics.user_info(
                    &identity,
                    &user.login,
                    user.email.as_deref().unwrap_or_default(),
                );
                Ok::<_, GitHubError>(user)
            })
            .await?;
        Ok(user.clone())
    }

    /// Token for git over HTTPS on behalf of `org` (clonerefs, cherrypicker).
    pub(crate) async fn git_token(&self, org: &str) -> Result<String> {
        match &self.creds {
            Creds::Token(reader) => Ok(reader.current()?.token),
            Creds::App(app) => Ok(self.installation_token(app, org).await?.1.token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_debug_never_shows_the_authorization_header() {
        let c = Credential {
            header: "Bearer ghs-credential-token-value".into(),
            identity: "abc123".into(),
            extra: vec![("X-Extra", "x".into())],
            installation: Some(7),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("ghs-credential-token-value"), "{shown}");
        assert!(
            shown.contains("abc123") && shown.contains("redacted"),
            "{shown}"
        );
    }

    #[test]
    fn mutating_methods() {
        assert!(!is_mutating(&Method::GET));
        assert!(is_mutating(&Method::POST));
        assert!(is_mutating(&Method::PATCH));
        assert!(is_mutating(&Method::PUT));
        assert!(is_mutating(&Method::DELETE));
    }

    #[test]
    fn ghproxy_free_modes() {
        let mut h = HeaderMap::new();
        assert!(!served_free(&h));
        h.insert(CACHE_MODE_HEADER, HeaderValue::from_static("REVALIDATED"));
        assert!(served_free(&h));
        h.insert(CACHE_MODE_HEADER, HeaderValue::from_static("MISS"));
        assert!(!served_free(&h));
    }

    #[test]
    fn check_maps_and_passes_dry_run() {
        let resp = |status, dry_run| Resp {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from_static(br#"{"message":"Not Found"}"#),
            dry_run,
            what: "GET /x".into(),
        };
        assert!(resp(200, false).check(&[200], Route::Default).is_ok());
        assert!(resp(0, true).check(&[200], Route::Default).is_ok());
        assert_eq!(
            resp(404, false).check(&[200], Route::Default).err(),
            Some(GitHubError::NotFound("GET /x: Not Found".into()))
        );
    }
}
