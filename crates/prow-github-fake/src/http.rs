//! GitHub's REST routes, `POST /graphql` and git smart HTTP over the fake's state.
//!
//! Handlers only translate HTTP to the operations in `core` (the same ones [`crate::FakeClient`]
//! calls) and back: authentication, JSON bodies, status codes, pagination `Link` headers, ETags
//! and GitHub's error shape.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use prow_github::{GitHubError, MergeDetails, Status};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::FakeGitHub;
use crate::core::{
    Core, FileWrite, IssuePatch, NewIssue, NewPr, NewReviewComment, PrPatch, R, ReviewInput,
};

const DOCS: &str = "https://docs.github.com/rest";
const DEFAULT_PER_PAGE: usize = 30;
/// The largest request body the simulator buffers (413 beyond): room for a comment GitHub
/// would refuse as too long (so callers see GitHub's 422, not a 413) and for file writes
/// through the contents API.
pub const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;
const MAX_PER_PAGE: usize = 100;

/// The authenticated user of a request.
#[derive(Debug, Clone)]
struct Actor(String);

/// A [`GitHubError`] as GitHub's JSON error response.
struct ApiError(GitHubError);

impl From<GitHubError> for ApiError {
    fn from(e: GitHubError) -> Self {
        ApiError(e)
    }
}

fn error_response(status: StatusCode, message: &str) -> Response {
    let mut body = json!({"message": message, "documentation_url": DOCS, "status": status.as_u16().to_string()});
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        body["errors"] = json!([{"message": message, "code": "custom"}]);
    }
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self.0 {
            GitHubError::NotFound(_) => (StatusCode::NOT_FOUND, "Not Found".to_owned()),
            GitHubError::Unauthorized(_) => {
                (StatusCode::UNAUTHORIZED, "Bad credentials".to_owned())
            }
            GitHubError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            GitHubError::RateLimited { .. } => {
                (StatusCode::FORBIDDEN, "API rate limit exceeded".to_owned())
            }
            GitHubError::UnmergeablePr(m) => (StatusCode::METHOD_NOT_ALLOWED, m.clone()),
            GitHubError::ModifiedHead(m) => (StatusCode::CONFLICT, m.clone()),
            GitHubError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
            GitHubError::Status { status, message } => (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                message.clone(),
            ),
            other => (StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        };
        error_response(status, &message)
    }
}

type Res = Result<Response, ApiError>;

/// Runs a core operation off the async executor.
async fn blocking<T, F>(fake: &FakeGitHub, op: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Core) -> R<T> + Send + 'static,
{
    let core = fake.core().clone();
    tokio::task::spawn_blocking(move || op(&core))
        .await
        .map_err(|e| {
            ApiError(GitHubError::Status {
                status: 500,
                message: format!("internal error: {e}"),
            })
        })?
        .map_err(ApiError)
}

fn ok(v: Value) -> Res {
    Ok(axum::Json(v).into_response())
}

fn created(v: Value) -> Res {
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

fn no_content() -> Res {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A yes/no endpoint: `204` for yes, a 404 carrying `no` otherwise.
fn yes_or_404(yes: bool, no: &str) -> Res {
    if yes {
        no_content()
    } else {
        Err(GitHubError::NotFound(no.into()).into())
    }
}

/// `204` once an operation without a result is done.
fn done(_: ()) -> Res {
    no_content()
}

/// Numbers in paths; anything else is a 404 like on GitHub.
fn number(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError(GitHubError::NotFound(format!("{s} is not a number"))))
}

/// Decodes a JSON body; an empty body is the default value.
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|_| {
        ApiError(GitHubError::Status {
            status: 400,
            message: "Problems parsing JSON".into(),
        })
    })?;
    serde_json::from_value(value).map_err(|e| {
        ApiError(GitHubError::Unprocessable(format!(
            "Invalid request.\n\n{e}"
        )))
    })
}

/// One page of `items` with GitHub's `Link` header (`per_page` ≤ 100, default 30; `page` from 1).
fn paginate(
    items: Vec<Value>,
    uri: &Uri,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Res {
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_PER_PAGE)
        .min(MAX_PER_PAGE);
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let mut resp = axum::Json(Value::Array(slice)).into_response();

    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_default();
    let others: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page=") && !kv.starts_with("per_page="))
        .map(str::to_owned)
        .collect();
    let link_to = |p: usize| {
        let mut params = others.clone();
        params.push(format!("per_page={per_page}"));
        params.push(format!("page={p}"));
        format!("<{host}{}?{}>", uri.path(), params.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page.min(last + 1) - 1)));
    }
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

/// The pieces every list handler needs for [`paginate`].
struct ListCtx {
    uri: Uri,
    headers: HeaderMap,
    query: HashMap<String, String>,
}

/// Extracted like the `Uri`, `HeaderMap` and `Query` extractors it stands for (a malformed query
/// string is the same 400 rejection).
impl<S: Send + Sync> FromRequestParts<S> for ListCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(ListCtx {
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            query,
        })
    }
}

impl ListCtx {
    fn respond(&self, items: Vec<Value>) -> Res {
        paginate(items, &self.uri, &self.headers, &self.query)
    }
}

// ---- middleware ----

/// `Authorization: token <t>` / `Bearer <t>` → [`Actor`]; 401 otherwise.
async fn authenticate(State(fake): State<FakeGitHub>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
                .then(|| token.trim().to_owned())
        });
    let login = token.and_then(|t| fake.core().login_for_token(&t));
    match login {
        Some(login) => {
            req.extensions_mut().insert(Actor(login));
            next.run(req).await
        }
        None => error_response(StatusCode::UNAUTHORIZED, "Bad credentials"),
    }
}

/// Constant rate-limit headers, a request id, and ETag / `If-None-Match` → 304 for GETs.
async fn api_headers(req: Request, next: Next) -> Response {
    let is_get = req.method() == axum::http::Method::GET;
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let mut resp = next.run(req).await;
    let reset = (chrono::Utc::now().timestamp() + 3600).to_string();
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", "5000".to_owned()),
        ("x-ratelimit-remaining", "4999".to_owned()),
        ("x-ratelimit-used", "1".to_owned()),
        ("x-ratelimit-resource", "core".to_owned()),
        ("x-ratelimit-reset", reset),
        ("x-github-request-id", uuid::Uuid::new_v4().to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    if !is_get || resp.status() != StatusCode::OK {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return error_response(StatusCode::INTERNAL_SERVER_ERROR, "cannot buffer response");
    };
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&bytes)));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    if if_none_match.is_some_and(|inm| {
        inm.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        })
    }) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// GitHub's 422 for a body over its limit, naming the `resource` (`IssueComment`, `Issue`,
/// `PullRequest`…); other results pass through.
fn validated(resource: &str, res: Res) -> Res {
    match res {
        Err(ApiError(e)) if e == crate::core::body_too_long_error() => {
            let body = json!({
                "message": "Validation Failed",
                "errors": [{
                    "resource": resource,
                    "code": "custom",
                    "field": "body",
                    "message": crate::core::BODY_TOO_LONG,
                }],
                "documentation_url": DOCS,
                "status": "422",
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response())
        }
        other => other,
    }
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "Not Found")
}

// ---- router ----

/// GitHub's REST routes (also under `/api/v3`), `POST /graphql` (also `/api/graphql`) and git
/// smart HTTP (`/{org}/{repo}.git`), over `fake`.
pub fn router(fake: FakeGitHub) -> Router {
    let api = api_routes()
        .route_layer(middleware::from_fn_with_state(fake.clone(), authenticate))
        .with_state(fake.clone());
    let git = Router::new()
        .route("/{owner}/{repo}/info/refs", get(git_info_refs))
        .route("/{owner}/{repo}/git-upload-pack", post(git_upload_pack))
        .with_state(fake.clone());
    let graphql_ghe = Router::new()
        .route("/api/graphql", post(graphql))
        .route_layer(middleware::from_fn_with_state(fake.clone(), authenticate))
        .with_state(fake.clone());
    Router::new()
        .merge(api.clone())
        .nest("/api/v3", api)
        .merge(graphql_ghe)
        .merge(crate::oauth::routes(fake.clone()))
        .merge(git)
        .fallback(not_found)
        .layer(middleware::from_fn(api_headers))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY))
}

fn api_routes() -> Router<FakeGitHub> {
    let repo = "/repos/{owner}/{repo}";
    Router::new()
        .route("/user", get(get_user))
        .route("/users/{login}", get(get_named_user))
        .route("/rate_limit", get(rate_limit))
        .route("/graphql", post(graphql))
        .route("/orgs/{org}/members", get(list_members))
        .route("/orgs/{org}/members/{user}", get(check_member))
        .route("/orgs/{org}/teams", get(list_teams))
        .route("/orgs/{org}/teams/{slug}", get(get_team))
        .route("/orgs/{org}/teams/{slug}/members", get(list_team_members))
        .route(
            "/orgs/{org}/teams/{slug}/memberships/{user}",
            get(team_membership),
        )
        .route(repo, get(get_repo))
        .route(&format!("{repo}/git/ref/{{*git_ref}}"), get(get_ref_exact))
        .route(&format!("{repo}/git/refs"), post(create_ref))
        .route(
            &format!("{repo}/git/refs/{{*git_ref}}"),
            get(get_ref).patch(update_ref).delete(delete_ref),
        )
        .route(&format!("{repo}/git/trees/{{*tree}}"), get(get_tree))
        .route(&format!("{repo}/commits/{{*rest}}"), get(commit_routes))
        .route(
            &format!("{repo}/statuses/{{sha}}"),
            post(create_status).get(list_statuses_legacy),
        )
        .route(&format!("{repo}/contents"), get(get_root_contents))
        .route(
            &format!("{repo}/contents/{{*path}}"),
            get(get_contents).put(put_contents).delete(delete_contents),
        )
        .route(&format!("{repo}/branches"), get(list_branches))
        .route(&format!("{repo}/branches/{{*branch}}"), get(get_branch))
        .route(&format!("{repo}/collaborators"), get(list_collaborators))
        .route(
            &format!("{repo}/collaborators/{{user}}"),
            get(check_collaborator),
        )
        .route(
            &format!("{repo}/collaborators/{{user}}/permission"),
            get(collaborator_permission),
        )
        .route(
            &format!("{repo}/labels"),
            get(list_labels).post(create_label),
        )
        .route(
            &format!("{repo}/labels/{{name}}"),
            get(get_label).delete(delete_label),
        )
        .route(
            &format!("{repo}/issues"),
            get(list_issues).post(create_issue),
        )
        .route(
            &format!("{repo}/issues/comments/{{id}}"),
            get(get_comment).patch(edit_comment).delete(delete_comment),
        )
        .route(
            &format!("{repo}/issues/{{number}}"),
            get(get_issue).patch(update_issue),
        )
        .route(
            &format!("{repo}/issues/{{number}}/comments"),
            get(list_comments).post(create_comment),
        )
        .route(
            &format!("{repo}/issues/{{number}}/events"),
            get(list_events),
        )
        .route(
            &format!("{repo}/issues/{{number}}/labels"),
            get(list_issue_labels)
                .post(add_labels)
                .put(set_labels)
                .delete(remove_all_labels),
        )
        .route(
            &format!("{repo}/issues/{{number}}/labels/{{name}}"),
            axum::routing::delete(remove_label),
        )
        .route(
            &format!("{repo}/issues/{{number}}/assignees"),
            post(assign).delete(unassign),
        )
        .route(&format!("{repo}/pulls"), get(list_pulls).post(create_pull))
        .route(
            &format!("{repo}/pulls/{{number}}"),
            get(get_pull).patch(update_pull),
        )
        .route(&format!("{repo}/pulls/{{number}}/files"), get(pull_files))
        .route(
            &format!("{repo}/pulls/{{number}}/commits"),
            get(pull_commits),
        )
        .route(
            &format!("{repo}/pulls/{{number}}/merge"),
            get(check_merged).put(merge_pull),
        )
        .route(
            &format!("{repo}/pulls/{{number}}/reviews"),
            get(list_reviews).post(create_review),
        )
        .route(
            &format!("{repo}/pulls/{{number}}/comments"),
            get(list_review_comments).post(create_review_comment),
        )
        .route(
            &format!("{repo}/pulls/{{number}}/requested_reviewers"),
            post(request_reviewers).delete(unrequest_reviewers),
        )
}

/// Serves [`router`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    fake: FakeGitHub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(fake))
        .with_graceful_shutdown(shutdown)
        .await
}

type RepoPath = Path<(String, String)>;
type RepoItemPath = Path<(String, String, String)>;
type Act = axum::Extension<Actor>;

/// A handler on a numbered issue, pull request or comment without a body: core
/// `op(actor, owner, repo, number)`, answered by `$render`.
macro_rules! item_op {
    ($name:ident => $op:ident, $render:ident) => {
        async fn $name(
            State(f): State<FakeGitHub>,
            axum::Extension(Actor(me)): Act,
            Path((o, r, n)): RepoItemPath,
        ) -> Res {
            let n = number(&n)?;
            $render(blocking(&f, move |c| c.$op(&me, &o, &r, n)).await?)
        }
    };
}

/// A handler on a numbered issue, pull request or comment with a JSON body of type `$body`
/// (decoded after the number, so a bad number stays a 404); `$run` sees the named bindings.
macro_rules! item_with_body {
    ($name:ident($f:ident, $me:ident, $o:ident, $r:ident, $n:ident, $b:ident: $body:ty) $run:block) => {
        async fn $name(
            State($f): State<FakeGitHub>,
            axum::Extension(Actor($me)): Act,
            Path(($o, $r, $n)): RepoItemPath,
            $b: Bytes,
        ) -> Res {
            let $n = number(&$n)?;
            let $b: $body = body(&$b)?;
            $run
        }
    };
}

/// A list handler over a repository: core `op(actor, owner, repo)`, paginated.
macro_rules! repo_list {
    ($name:ident => $op:ident) => {
        async fn $name(
            State(f): State<FakeGitHub>,
            axum::Extension(Actor(me)): Act,
            Path((o, r)): RepoPath,
            l: ListCtx,
        ) -> Res {
            let items = blocking(&f, move |c| c.$op(&me, &o, &r)).await?;
            l.respond(items)
        }
    };
}

/// A list handler over a numbered issue or pull request: core `op(actor, owner, repo, number)`,
/// paginated.
macro_rules! item_list {
    ($name:ident => $op:ident) => {
        async fn $name(
            State(f): State<FakeGitHub>,
            axum::Extension(Actor(me)): Act,
            Path((o, r, n)): RepoItemPath,
            l: ListCtx,
        ) -> Res {
            let n = number(&n)?;
            let items = blocking(&f, move |c| c.$op(&me, &o, &r, n)).await?;
            l.respond(items)
        }
    };
}

// ---- users, orgs, teams ----

async fn get_user(State(f): State<FakeGitHub>, axum::Extension(Actor(me)): Act) -> Res {
    ok(blocking(&f, move |c| c.authenticated_user(&me)).await?)
}

async fn get_named_user(State(f): State<FakeGitHub>, Path(login): Path<String>) -> Res {
    ok(blocking(&f, move |c| c.get_user(&login)).await?)
}

async fn rate_limit() -> Res {
    let reset = chrono::Utc::now().timestamp() + 3600;
    let core = json!({"limit": 5000, "used": 1, "remaining": 4999, "reset": reset});
    ok(json!({"resources": {"core": core, "graphql": core, "search": core}, "rate": core}))
}

async fn list_members(State(f): State<FakeGitHub>, Path(org): Path<String>, l: ListCtx) -> Res {
    let items = blocking(&f, move |c| c.list_members(&org)).await?;
    l.respond(items)
}

async fn check_member(
    State(f): State<FakeGitHub>,
    Path((org, user)): Path<(String, String)>,
) -> Res {
    let member = blocking(&f, move |c| c.is_member(&org, &user)).await?;
    yes_or_404(member, "not a member")
}

async fn list_teams(State(f): State<FakeGitHub>, Path(org): Path<String>, l: ListCtx) -> Res {
    let items = blocking(&f, move |c| c.list_teams(&org)).await?;
    l.respond(items)
}

async fn get_team(State(f): State<FakeGitHub>, Path((org, slug)): Path<(String, String)>) -> Res {
    ok(blocking(&f, move |c| c.get_team(&org, &slug)).await?)
}

async fn list_team_members(
    State(f): State<FakeGitHub>,
    Path((org, slug)): Path<(String, String)>,
    l: ListCtx,
) -> Res {
    let items = blocking(&f, move |c| c.list_team_members(&org, &slug)).await?;
    l.respond(items)
}

async fn team_membership(
    State(f): State<FakeGitHub>,
    Path((org, slug, user)): Path<(String, String, String)>,
) -> Res {
    ok(blocking(&f, move |c| c.team_membership(&org, &slug, &user)).await?)
}

async fn collaborator_permission(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, u)): RepoItemPath,
) -> Res {
    ok(blocking(&f, move |c| c.collaborator_permission(&me, &o, &r, &u)).await?)
}

// ---- repositories and git data ----

async fn get_repo(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
) -> Res {
    ok(blocking(&f, move |c| c.get_repo(&me, &o, &r)).await?)
}

async fn get_ref_exact(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, g)): RepoItemPath,
) -> Res {
    ok(blocking(&f, move |c| c.get_ref(&me, &o, &r, &g, false)).await?)
}

async fn get_ref(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, g)): RepoItemPath,
) -> Res {
    ok(blocking(&f, move |c| c.get_ref(&me, &o, &r, &g, true)).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RefCreate {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
}

async fn create_ref(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    b: Bytes,
) -> Res {
    let b: RefCreate = body(&b)?;
    created(blocking(&f, move |c| c.create_ref(&me, &o, &r, &b.git_ref, &b.sha)).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RefUpdate {
    sha: String,
    force: bool,
}

async fn update_ref(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, g)): RepoItemPath,
    b: Bytes,
) -> Res {
    let b: RefUpdate = body(&b)?;
    ok(blocking(&f, move |c| c.update_ref(&me, &o, &r, &g, &b.sha, b.force)).await?)
}

async fn delete_ref(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, g)): RepoItemPath,
) -> Res {
    blocking(&f, move |c| c.delete_ref(&me, &o, &r, &g)).await?;
    no_content()
}

async fn get_tree(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, t)): RepoItemPath,
    Query(q): Query<HashMap<String, String>>,
) -> Res {
    // GitHub treats any value of `recursive` as true.
    let recursive = q.contains_key("recursive");
    ok(blocking(&f, move |c| c.get_tree(&me, &o, &r, &t, recursive)).await?)
}

/// `/commits/{ref}`, `/commits/{ref}/status` and `/commits/{ref}/statuses` (refs may contain
/// slashes, so one wildcard route dispatches).
async fn commit_routes(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, rest)): RepoItemPath,
    l: ListCtx,
) -> Res {
    if let Some(git_ref) = rest.strip_suffix("/status") {
        let g = git_ref.to_owned();
        return ok(blocking(&f, move |c| c.combined_status(&me, &o, &r, &g)).await?);
    }
    if let Some(git_ref) = rest.strip_suffix("/statuses") {
        let g = git_ref.to_owned();
        let items = blocking(&f, move |c| c.list_statuses(&me, &o, &r, &g)).await?;
        return l.respond(items);
    }
    ok(blocking(&f, move |c| c.get_commit(&me, &o, &r, &rest)).await?)
}

async fn create_status(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, sha)): RepoItemPath,
    b: Bytes,
) -> Res {
    let status: Status = body(&b)?;
    created(blocking(&f, move |c| c.create_status(&me, &o, &r, &sha, &status)).await?)
}

async fn list_statuses_legacy(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, g)): RepoItemPath,
    l: ListCtx,
) -> Res {
    let items = blocking(&f, move |c| c.list_statuses(&me, &o, &r, &g)).await?;
    l.respond(items)
}

async fn get_root_contents(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    Query(q): Query<HashMap<String, String>>,
) -> Res {
    let git_ref = q.get("ref").cloned();
    ok(blocking(&f, move |c| {
        c.get_contents(&me, &o, &r, "", git_ref.as_deref())
    })
    .await?)
}

async fn get_contents(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, p)): RepoItemPath,
    Query(q): Query<HashMap<String, String>>,
) -> Res {
    let git_ref = q.get("ref").cloned();
    ok(blocking(&f, move |c| {
        c.get_contents(&me, &o, &r, &p, git_ref.as_deref())
    })
    .await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Person {
    name: String,
    email: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContentsWrite {
    message: String,
    content: String,
    sha: Option<String>,
    branch: Option<String>,
    author: Option<Person>,
}

async fn put_contents(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, p)): RepoItemPath,
    b: Bytes,
) -> Res {
    let b: ContentsWrite = body(&b)?;
    let compact: String = b.content.chars().filter(|c| !c.is_whitespace()).collect();
    let content = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| GitHubError::Unprocessable("content is not valid Base64".into()))?;
    let write = FileWrite {
        message: b.message,
        content: Some(content),
        branch: b.branch,
        sha: b.sha,
        author: b.author.map(|a| (a.name, a.email)),
    };
    let (was_created, v) = blocking(&f, move |c| c.write_file(&me, &o, &r, &p, write)).await?;
    if was_created { created(v) } else { ok(v) }
}

async fn delete_contents(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, p)): RepoItemPath,
    b: Bytes,
) -> Res {
    let b: ContentsWrite = body(&b)?;
    let write = FileWrite {
        message: b.message,
        content: None,
        branch: b.branch,
        sha: b.sha,
        author: b.author.map(|a| (a.name, a.email)),
    };
    ok(blocking(&f, move |c| c.write_file(&me, &o, &r, &p, write))
        .await?
        .1)
}

repo_list!(list_branches => list_branches);

async fn get_branch(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, b)): RepoItemPath,
) -> Res {
    // Branch names may contain `/`, so `/protection` arrives inside the wildcard.
    if let Some(branch) = b.strip_suffix("/protection") {
        let branch = branch.to_owned();
        return match blocking(&f, move |c| c.get_branch_protection(&me, &o, &r, &branch)).await {
            // GitHub names the reason for a protected-branch 404 (unknown repos stay "Not Found").
            Err(ApiError(GitHubError::NotFound(m))) if m == crate::core::NOT_PROTECTED => {
                Ok(error_response(StatusCode::NOT_FOUND, &m))
            }
            other => ok(other?),
        };
    }
    ok(blocking(&f, move |c| c.get_branch(&me, &o, &r, &b)).await?)
}

repo_list!(list_collaborators => list_collaborators);

async fn check_collaborator(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, u)): RepoItemPath,
) -> Res {
    let yes = blocking(&f, move |c| c.is_collaborator(&me, &o, &r, &u)).await?;
    yes_or_404(yes, "not a collaborator")
}

// ---- labels ----

repo_list!(list_labels => list_repo_labels);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LabelCreate {
    name: String,
    color: Option<String>,
    description: Option<String>,
}

async fn create_label(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    b: Bytes,
) -> Res {
    let b: LabelCreate = body(&b)?;
    created(
        blocking(&f, move |c| {
            c.create_label(&me, &o, &r, &b.name, b.color.as_deref(), b.description)
        })
        .await?,
    )
}

async fn get_label(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n)): RepoItemPath,
) -> Res {
    ok(blocking(&f, move |c| c.get_label(&me, &o, &r, &n)).await?)
}

async fn delete_label(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n)): RepoItemPath,
) -> Res {
    blocking(&f, move |c| c.delete_label(&me, &o, &r, &n)).await?;
    no_content()
}

/// Label lists come as `["a"]`, `{"labels": ["a"]}` or `{"labels": [{"name": "a"}]}`.
fn label_names(bytes: &Bytes) -> Result<Vec<String>, ApiError> {
    let v: Value = body(bytes)?;
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(m) => match m.get("labels") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    list.iter()
        .map(|l| match l {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => o
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ApiError(GitHubError::Unprocessable("label without name".into()))),
            _ => Err(ApiError(GitHubError::Unprocessable(
                "labels must be strings".into(),
            ))),
        })
        .collect()
}

item_list!(list_issue_labels => get_issue_labels);

async fn add_labels(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n)): RepoItemPath,
    b: Bytes,
) -> Res {
    let n = number(&n)?;
    let labels = label_names(&b)?;
    ok(Value::Array(
        blocking(&f, move |c| c.add_labels(&me, &o, &r, n, &labels)).await?,
    ))
}

async fn set_labels(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n)): RepoItemPath,
    b: Bytes,
) -> Res {
    let n = number(&n)?;
    let labels = label_names(&b)?;
    ok(Value::Array(
        blocking(&f, move |c| c.set_labels(&me, &o, &r, n, &labels)).await?,
    ))
}

item_op!(remove_all_labels => remove_all_labels, done);

async fn remove_label(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n, name)): Path<(String, String, String, String)>,
) -> Res {
    let n = number(&n)?;
    ok(Value::Array(
        blocking(&f, move |c| c.remove_label(&me, &o, &r, n, &name)).await?,
    ))
}

// ---- issues and comments ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IssueCreate {
    title: Option<Value>,
    body: Option<String>,
    labels: Vec<Value>,
    assignees: Vec<String>,
    assignee: Option<String>,
}

fn value_to_label(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

async fn list_issues(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    l: ListCtx,
) -> Res {
    let state = l
        .query
        .get("state")
        .cloned()
        .unwrap_or_else(|| "open".into());
    let labels: Vec<String> = l
        .query
        .get("labels")
        .map(|l| {
            l.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let items = blocking(&f, move |c| c.list_issues(&me, &o, &r, &state, &labels)).await?;
    l.respond(items)
}

async fn create_issue(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    b: Bytes,
) -> Res {
    let b: IssueCreate = body(&b)?;
    let title = match b.title {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut assignees = b.assignees;
    assignees.extend(b.assignee);
    let new = NewIssue {
        title,
        body: b.body,
        labels: b.labels.iter().filter_map(value_to_label).collect(),
        assignees,
    };
    validated(
        "Issue",
        blocking(&f, move |c| c.create_issue(&me, &o, &r, new))
            .await
            .and_then(created),
    )
}

item_op!(get_issue => get_issue, ok);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IssueUpdate {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    state_reason: Option<String>,
    labels: Option<Vec<Value>>,
    assignees: Option<Vec<String>>,
}

item_with_body!(update_issue(f, me, o, r, n, b: IssueUpdate) {
    let patch = IssuePatch {
        title: b.title,
        body: b.body,
        state: b.state,
        state_reason: b.state_reason,
        labels: b
            .labels
            .map(|l| l.iter().filter_map(value_to_label).collect()),
        assignees: b.assignees,
    };
    validated("Issue", blocking(&f, move |c| c.update_issue(&me, &o, &r, n, patch)).await.and_then(ok))
});

item_list!(list_comments => list_issue_comments);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CommentBody {
    body: String,
}

item_with_body!(create_comment(f, me, o, r, n, b: CommentBody) {
    validated("IssueComment", blocking(&f, move |c| c.create_comment(&me, &o, &r, n, &b.body)).await.and_then(created))
});

item_op!(get_comment => get_comment, ok);

item_with_body!(edit_comment(f, me, o, r, id, b: CommentBody) {
    validated("IssueComment", blocking(&f, move |c| c.edit_comment(&me, &o, &r, id, &b.body)).await.and_then(ok))
});

item_op!(delete_comment => delete_comment, done);

item_list!(list_events => list_issue_events);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssigneesBody {
    assignees: Vec<String>,
}

item_with_body!(assign(f, me, o, r, n, b: AssigneesBody) {
    created(blocking(&f, move |c| c.assign(&me, &o, &r, n, &b.assignees)).await?)
});

item_with_body!(unassign(f, me, o, r, n, b: AssigneesBody) {
    ok(blocking(&f, move |c| c.unassign(&me, &o, &r, n, &b.assignees)).await?)
});

// ---- pull requests ----

async fn list_pulls(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    l: ListCtx,
) -> Res {
    let state = l
        .query
        .get("state")
        .cloned()
        .unwrap_or_else(|| "open".into());
    let (base, head) = (l.query.get("base").cloned(), l.query.get("head").cloned());
    let items = blocking(&f, move |c| {
        c.list_pulls(&me, &o, &r, &state, base.as_deref(), head.as_deref())
    })
    .await?;
    l.respond(items)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PullCreate {
    title: String,
    body: Option<String>,
    head: String,
    base: String,
    draft: bool,
}

async fn create_pull(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r)): RepoPath,
    b: Bytes,
) -> Res {
    let b: PullCreate = body(&b)?;
    let new = NewPr {
        title: b.title,
        body: b.body,
        head: b.head,
        base: b.base,
        draft: b.draft,
    };
    validated(
        "PullRequest",
        blocking(&f, move |c| c.create_pull(&me, &o, &r, new))
            .await
            .and_then(created),
    )
}

item_op!(get_pull => get_pull, ok);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PullUpdate {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    base: Option<String>,
}

item_with_body!(update_pull(f, me, o, r, n, b: PullUpdate) {
    let patch = PrPatch {
        title: b.title,
        body: b.body,
        state: b.state,
        base: b.base,
    };
    validated("PullRequest", blocking(&f, move |c| c.update_pull(&me, &o, &r, n, patch)).await.and_then(ok))
});

item_list!(pull_files => pull_files);

item_list!(pull_commits => pull_commits);

async fn check_merged(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n)): RepoItemPath,
) -> Res {
    let n = number(&n)?;
    yes_or_404(
        blocking(&f, move |c| c.is_merged(&me, &o, &r, n)).await?,
        "not merged",
    )
}

async fn merge_pull(
    State(f): State<FakeGitHub>,
    axum::Extension(Actor(me)): Act,
    Path((o, r, n)): RepoItemPath,
    b: Bytes,
) -> Res {
    let n = number(&n)?;
    let details: MergeDetailsBody = body(&b)?;
    let details = MergeDetails {
        commit_title: details.commit_title,
        commit_message: details.commit_message,
        sha: details.sha,
        merge_method: details.merge_method,
    };
    ok(blocking(&f, move |c| c.merge_pull(&me, &o, &r, n, &details)).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MergeDetailsBody {
    commit_title: Option<String>,
    commit_message: Option<String>,
    sha: Option<String>,
    merge_method: Option<String>,
}

item_list!(list_reviews => list_reviews);

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReviewCommentBody {
    body: String,
    path: String,
    position: Option<u64>,
    line: Option<u64>,
    side: Option<String>,
    commit_id: Option<String>,
    in_reply_to: Option<u64>,
}

impl From<ReviewCommentBody> for NewReviewComment {
    fn from(b: ReviewCommentBody) -> Self {
        NewReviewComment {
            body: b.body,
            path: b.path,
            position: b.position,
            line: b.line,
            side: b.side,
            commit_id: b.commit_id,
            in_reply_to: b.in_reply_to,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReviewBody {
    body: Option<String>,
    event: Option<String>,
    commit_id: Option<String>,
    comments: Vec<ReviewCommentBody>,
}

item_with_body!(create_review(f, me, o, r, n, b: ReviewBody) {
    let input = ReviewInput {
        body: b.body.unwrap_or_default(),
        event: b.event.unwrap_or_default(),
        commit_id: b.commit_id,
        comments: b.comments.into_iter().map(Into::into).collect(),
    };
    validated("PullRequestReview", blocking(&f, move |c| c.create_review(&me, &o, &r, n, input)).await.and_then(ok))
});

item_list!(list_review_comments => list_review_comments);

item_with_body!(create_review_comment(f, me, o, r, n, b: ReviewCommentBody) {
    validated(
        "PullRequestReviewComment",
        blocking(&f, move |c| c.create_review_comment(&me, &o, &r, n, b.into()))
            .await
            .and_then(created),
    )
});

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReviewersBody {
    reviewers: Vec<String>,
    team_reviewers: Vec<String>,
}

item_with_body!(request_reviewers(f, me, o, r, n, b: ReviewersBody) {
    created(
        blocking(&f, move |c| {
            c.request_reviewers(&me, &o, &r, n, &b.reviewers, &b.team_reviewers)
        })
        .await?,
    )
});

item_with_body!(unrequest_reviewers(f, me, o, r, n, b: ReviewersBody) {
    ok(blocking(&f, move |c| {
        c.unrequest_reviewers(&me, &o, &r, n, &b.reviewers, &b.team_reviewers)
    })
    .await?)
});

// ---- GraphQL ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GraphQlBody {
    query: String,
    variables: Value,
}

async fn graphql(State(f): State<FakeGitHub>, axum::Extension(Actor(me)): Act, b: Bytes) -> Res {
    let b: GraphQlBody = body(&b)?;
    ok(blocking(&f, move |c| {
        Ok(crate::graphql::execute(c, &me, &b.query, &b.variables))
    })
    .await?)
}

// ---- git smart HTTP (read-only, unauthenticated, like cloning a public repository) ----

fn git_repo(fake: &FakeGitHub, owner: &str, repo: &str) -> Option<crate::git::Repo> {
    let name = repo.strip_suffix(".git").unwrap_or(repo);
    fake.core().git_repo(owner, name)
}

/// Runs `git upload-pack` with `args` on `stdin`.
fn upload_pack(
    repo: &crate::git::Repo,
    args: &[&str],
    stdin: &[u8],
    protocol: Option<String>,
) -> Result<Vec<u8>, String> {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(repo.git_binary());
    cmd.arg("upload-pack")
        .args(args)
        .arg(repo.dir())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = protocol {
        cmd.env("GIT_PROTOCOL", p);
    }
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let writer = child.stdin.take().map(|mut pipe| {
        let data = stdin.to_vec();
        std::thread::spawn(move || pipe.write_all(&data))
    });
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn git_protocol(headers: &HeaderMap) -> Option<String> {
    headers
        .get("git-protocol")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
}

async fn git_info_refs(
    State(f): State<FakeGitHub>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if q.get("service").map(String::as_str) != Some("git-upload-pack") {
        return error_response(
            StatusCode::FORBIDDEN,
            "only git-upload-pack (fetch/clone) is served",
        );
    }
    let Some(repo) = git_repo(&f, &owner, &repo) else {
        return error_response(StatusCode::NOT_FOUND, "Not Found");
    };
    let protocol = git_protocol(&headers);
    let result = tokio::task::spawn_blocking(move || {
        upload_pack(
            &repo,
            &["--stateless-rpc", "--advertise-refs"],
            &[],
            protocol,
        )
    })
    .await;
    match result {
        Ok(Ok(refs)) => {
            // Smart HTTP prefixes the advertisement with a service pkt-line and a flush.
            let mut body = b"001e# service=git-upload-pack\n0000".to_vec();
            body.extend(refs);
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/x-git-upload-pack-advertisement",
                    ),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                body,
            )
                .into_response()
        }
        Ok(Err(e)) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn git_upload_pack(
    State(f): State<FakeGitHub>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    b: Bytes,
) -> Response {
    let Some(repo) = git_repo(&f, &owner, &repo) else {
        return error_response(StatusCode::NOT_FOUND, "Not Found");
    };
    let gzipped = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    let input = if gzipped {
        let mut out = Vec::new();
        if flate2::read::GzDecoder::new(&b[..])
            .read_to_end(&mut out)
            .is_err()
        {
            return error_response(StatusCode::BAD_REQUEST, "bad gzip body");
        }
        out
    } else {
        b.to_vec()
    };
    let protocol = git_protocol(&headers);
    let result = tokio::task::spawn_blocking(move || {
        upload_pack(&repo, &["--stateless-rpc"], &input, protocol)
    })
    .await;
    match result {
        Ok(Ok(out)) => (
            [(header::CONTENT_TYPE, "application/x-git-upload-pack-result")],
            out,
        )
            .into_response(),
        Ok(Err(e)) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
