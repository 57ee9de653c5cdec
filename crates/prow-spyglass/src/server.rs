//! HTTP handlers: thin shells over [`crate::view`], [`crate::buildlog`] and [`crate::key`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use prow_api::ProwJob;
use prow_storage::{Provider, Storage, StorageUrl};
use serde::Deserialize;
use tracing::Instrument;

use crate::Spyglass;
use crate::buildlog::{self, Direction, ExpandRequest, Skip};
use crate::html::esc;
use crate::key::{BucketPolicy, StorageSrc, ViewKey};
use crate::view::{self, BuildCtx, PageInputs};

/// Why a view could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ViewError {
    /// HTTP status.
    pub status: StatusCode,
    /// Plain-text explanation.
    pub message: String,
}

impl ViewError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ViewError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ViewError {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.message).into_response();
        no_cache(r.headers_mut());
        r
    }
}

/// A rendered view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewResponse {
    /// The HTML page.
    Page(String),
    /// Go to this path instead (ProwJob keys and symlinked build directories).
    Redirect(String),
}

fn no_cache(h: &mut HeaderMap) {
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
}

pub(crate) fn router(sg: Spyglass) -> Router {
    let r = Router::new()
        .route("/view/{*path}", get(view_handler))
        .route("/spyglass/buildlog/range", get(range_handler))
        .route("/spyglass/raw", get(raw_handler))
        .route(
            "/spyglass/lens/{lens}/{op}",
            get(lens_handler).post(lens_handler),
        )
        .route("/spyglass/static/{*file}", get(static_handler));
    // CSP (no inline code: the page's script and style are files), nosniff and no framing.
    prow_runtime::headers::with_security_headers(r.with_state(sg), &[])
}

impl Spyglass {
    fn policy(&self) -> (Arc<prow_config::Config>, BucketPolicy) {
        let cfg = (self.config)();
        let policy = BucketPolicy::from_config(&cfg);
        (cfg, policy)
    }

    fn open(&self, src: &StorageSrc) -> Result<Arc<dyn Storage>, ViewError> {
        (self.storage)(src.provider_name(), &src.bucket).map_err(|e| {
            ViewError::new(
                StatusCode::BAD_GATEWAY,
                format!("cannot open bucket {}: {e:#}", src.bucket),
            )
        })
    }

    /// Parse a `src` (what follows `/view/`) that must name a build directory.
    fn storage_src(&self, src: &str) -> Result<(Arc<prow_config::Config>, StorageSrc), ViewError> {
        let (cfg, policy) = self.policy();
        match policy.parse(src) {
            Ok(ViewKey::Storage(s)) => Ok((cfg, s)),
            Ok(ViewKey::ProwJob { .. }) => Err(ViewError::new(
                StatusCode::BAD_REQUEST,
                "a storage path is required here, not a prowjob key",
            )),
            Err(e) => Err(ViewError::new(e.status(), e.to_string())),
        }
    }

    fn ctx(
        &self,
        cfg: Arc<prow_config::Config>,
        src: StorageSrc,
        storage: Arc<dyn Storage>,
        artifacts: Vec<prow_storage::ObjectInfo>,
    ) -> BuildCtx {
        let limit = cfg.prow.deck.spyglass.size_limit;
        BuildCtx {
            storage,
            src,
            artifacts,
            size_limit: if limit > 0 { limit as u64 } else { 100_000_000 },
            config: cfg,
            now: (self.clock)(),
        }
    }

    async fn list_artifacts(
        &self,
        storage: &dyn Storage,
        src: &StorageSrc,
    ) -> Result<Vec<prow_storage::ObjectInfo>, ViewError> {
        let prefix = format!("{}/", src.path);
        let listing = storage.list(&prefix, None).await.map_err(|e| {
            let status = if e.is_not_found() {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_GATEWAY
            };
            ViewError::new(status, format!("error listing artifacts: {e}"))
        })?;
        Ok(listing
            .objects
            .into_iter()
            .filter_map(|mut o| {
                o.key = o.key.strip_prefix(&prefix)?.to_string();
                Some(o)
            })
            .collect())
    }

    /// Render the page for the part of the URL after `/view/` (the core of `GET /view/...`).
    pub async fn render_view(
        &self,
        path: &str,
        user: Option<String>,
    ) -> Result<ViewResponse, ViewError> {
        let span = tracing::info_span!(
            "spyglass_view",
            src = %path,
            job = tracing::field::Empty,
            build = tracing::field::Empty
        );
        async move {
            let (cfg, policy) = self.policy();
            let src = match policy.parse(path) {
                Err(e) => return Err(ViewError::new(e.status(), e.to_string())),
                Ok(ViewKey::ProwJob { job, build }) => {
                    return self.prowjob_redirect(&job, &build).await;
                }
                Ok(ViewKey::Storage(s)) => s,
            };
            let span = tracing::Span::current();
            span.record("job", src.job_name());
            span.record("build", src.build_id());
            let storage = self.open(&src)?;
            let (artifacts, prowjob) = futures::join!(
                self.list_artifacts(storage.as_ref(), &src),
                self.lookup(&src)
            );
            let artifacts = artifacts?;
            if artifacts.is_empty()
                && let Some(target) = resolve_symlink(storage.as_ref(), &src).await
            {
                return Ok(ViewResponse::Redirect(target));
            }
            if artifacts.is_empty() && prowjob.is_none() {
                return Err(ViewError::new(
                    StatusCode::NOT_FOUND,
                    format!("no artifacts found for {}", src.src()),
                ));
            }
            let ctx = self.ctx(cfg, src, storage, artifacts);
            let page = view::assemble_page(&ctx, PageInputs { prowjob, user }).await;
            page.render().map(ViewResponse::Page).map_err(|e| {
                ViewError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("error rendering spyglass page: {e}"),
                )
            })
        }
        .instrument(span)
        .await
    }

    async fn lookup(&self, src: &StorageSrc) -> Option<ProwJob> {
        let store = self.jobs.as_ref()?;
        view::find_prowjob(store.as_ref(), src.job_name(), src.build_id()).await
    }

    async fn prowjob_redirect(&self, job: &str, build: &str) -> Result<ViewResponse, ViewError> {
        let Some(store) = &self.jobs else {
            return Err(ViewError::new(
                StatusCode::NOT_FOUND,
                "prowjob keys need a job store, and none is configured",
            ));
        };
        let pj = view::find_prowjob(store.as_ref(), job, build)
            .await
            .ok_or_else(|| {
                ViewError::new(
                    StatusCode::NOT_FOUND,
                    format!("failed to get prow job {job}/{build}: not found"),
                )
            })?;
        prowjob_view_path(&pj)
            .map(ViewResponse::Redirect)
            .map_err(|e| ViewError::new(StatusCode::NOT_FOUND, e))
    }
}

/// Where a ProwJob's artifacts are, as a `/view/` path.
pub fn prowjob_view_path(pj: &ProwJob) -> Result<String, String> {
    let job = &pj.spec.job;
    let dc = pj.spec.decoration_config.as_ref().ok_or_else(|| {
        format!("failed to locate GCS upload bucket for {job}: job is undecorated")
    })?;
    let gcs = dc.gcs_configuration.as_ref().ok_or_else(|| {
        format!("failed to locate GCS upload bucket for {job}: missing GCS configuration")
    })?;
    let spec = prow_pod_utils::JobSpec::new(&pj.spec, &pj.status.build_id, pj.name());
    let paths = prow_pod_utils::gcs::paths_for_job(gcs, &spec, "").map_err(|e| e.to_string())?;
    let url = StorageUrl::parse(&gcs.bucket).map_err(|e| e.to_string())?;
    Ok(view_path_for(&url, &paths.job_base_path))
}

fn view_path_for(url: &StorageUrl, path: &str) -> String {
    let path = path.trim_matches('/');
    let full = url.bucket_key(path);
    let full = full.trim_matches('/');
    match url.provider() {
        Provider::File => format!(
            "/view/file/{}/{full}",
            url.bucket().trim_start_matches('/').trim_end_matches('/')
        )
        .replace("//", "/"),
        p => format!("/view/{}/{}/{full}", p.scheme(), url.bucket()),
    }
}

/// Prow's `ResolveSymlink`: `<dir>.txt` holding the URL of the real build directory (the
/// presubmit alias under `pr-logs/directory/<job>/<build>.txt`).
async fn resolve_symlink(storage: &dyn Storage, src: &StorageSrc) -> Option<String> {
    const LIMIT: u64 = 4096;
    let data = storage
        .get_range(&format!("{}.txt", src.path), 0..LIMIT)
        .await
        .ok()?;
    if data.len() as u64 >= LIMIT {
        return None;
    }
    let text = std::str::from_utf8(&data).ok()?.trim();
    let url = StorageUrl::parse(text).ok()?;
    if !text.contains("://") {
        return None;
    }
    Some(view_path_for(&url, ""))
}

async fn view_handler(
    State(sg): State<Spyglass>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = (sg.user)(&headers);
    match sg.render_view(&path, user).await {
        Ok(ViewResponse::Page(html)) => {
            let mut r = axum::response::Html(html).into_response();
            no_cache(r.headers_mut());
            r
        }
        Ok(ViewResponse::Redirect(to)) => Redirect::to(&to).into_response(),
        Err(e) => {
            tracing::debug!(error = %e.message, src = %path, "spyglass view failed");
            e.into_response()
        }
    }
}

/// Query of the expander endpoint.
#[derive(Debug, Deserialize)]
struct RangeQuery {
    src: String,
    artifact: String,
    start: u64,
    end: u64,
    line: Option<u64>,
    count: Option<u64>,
    dir: Option<String>,
    n: Option<usize>,
}

fn fragment(html: String) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    no_cache(r.headers_mut());
    r
}

impl Spyglass {
    async fn log_fragment(
        &self,
        src: &str,
        artifact: &str,
        req: ExpandRequest,
    ) -> Result<String, ViewError> {
        let (cfg, src) = self.storage_src(src)?;
        prow_storage::key::validate_key(&format!("{}/{artifact}", src.path))
            .map_err(|e| ViewError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let storage = self.open(&src)?;
        let conf = view::lens_by_name(&cfg, "buildlog", None)
            .map(|l| buildlog::BuildLogConfig::from_json(l.config.as_ref()))
            .unwrap_or_default();
        let ctx = self.ctx(cfg, src, storage, Vec::new());
        let reader = view::open_log(&ctx, artifact)
            .await
            .map_err(|e| ViewError::new(StatusCode::NOT_FOUND, e))?;
        let groups = buildlog::expand(reader.as_ref(), &req, &conf)
            .await
            .map_err(|e| match e {
                buildlog::ExpandError::BadRange { .. } => {
                    ViewError::new(StatusCode::BAD_REQUEST, e.to_string())
                }
                buildlog::ExpandError::Read(_) => {
                    ViewError::new(StatusCode::BAD_GATEWAY, e.to_string())
                }
            })?;
        let mut out = String::new();
        buildlog::render_groups(
            &mut out,
            artifact,
            &view::range_url(&ctx.src, artifact),
            &groups,
        );
        Ok(out)
    }
}

async fn range_handler(State(sg): State<Spyglass>, Query(q): Query<RangeQuery>) -> Response {
    let n = q.n.unwrap_or(20);
    let dir = match q.dir.as_deref().unwrap_or("all") {
        "down" => Direction::Down(n),
        "up" => Direction::Up(n),
        "all" => Direction::All,
        other => {
            return ViewError::new(StatusCode::BAD_REQUEST, format!("unknown dir {other:?}"))
                .into_response();
        }
    };
    let req = ExpandRequest {
        skip: Skip {
            start: q.start,
            end: q.end,
            first_line: q.line,
            count: q.count,
        },
        dir,
    };
    match sg.log_fragment(&q.src, &q.artifact, req).await {
        Ok(html) => fragment(html),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct RawQuery {
    src: String,
    file: String,
}

fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => "application/json",
        "xml" => "text/xml; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "gz" | "tgz" | "tar" | "zip" | "bin" => "application/octet-stream",
        _ => "text/plain; charset=utf-8",
    }
}

async fn raw_handler(State(sg): State<Spyglass>, Query(q): Query<RawQuery>) -> Response {
    let res = async {
        let (_, src) = sg.storage_src(&q.src)?;
        let key = format!("{}/{}", src.path, q.file);
        prow_storage::key::validate_key(&key)
            .map_err(|e| ViewError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let storage = sg.open(&src)?;
        let attrs = storage.attributes(&key).await.map_err(|e| {
            if e.is_not_found() {
                ViewError::new(StatusCode::NOT_FOUND, format!("{} not found", q.file))
            } else {
                ViewError::new(StatusCode::BAD_GATEWAY, e.to_string())
            }
        })?;
        Ok::<_, ViewError>((storage, key, attrs))
    }
    .await;
    let (storage, key, attrs) = match res {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    const CHUNK: u64 = 1 << 20;
    let size = attrs.size;
    let stream = futures::stream::unfold(0u64, move |pos| {
        let storage = storage.clone();
        let key = key.clone();
        async move {
            if pos >= size {
                return None;
            }
            let end = (pos + CHUNK).min(size);
            match storage.get_range(&key, pos..end).await {
                Ok(b) if b.is_empty() => None,
                Ok(b) => {
                    let next = pos + b.len() as u64;
                    Some((Ok::<_, prow_storage::StorageError>(b), next))
                }
                Err(e) => Some((Err(e), size)),
            }
        }
    });
    let ct = attrs
        .content_type
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| content_type_for(&q.file).to_string());
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(enc) = attrs.content_encoding.as_deref()
        && let Ok(v) = HeaderValue::from_str(enc)
    {
        h.insert(header::CONTENT_ENCODING, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    // Artifacts are untrusted: never let them run script in Deck's origin.
    prow_runtime::headers::set_raw_headers(h);
    r
}

/// Prow's lens request (`req` query parameter).
#[derive(Debug, Default, Deserialize)]
struct LensRequest {
    #[serde(default)]
    src: String,
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    artifacts: Vec<String>,
}

/// Prow's buildlog callback body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackRequest {
    #[serde(default)]
    artifact: String,
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    length: i64,
    #[serde(default)]
    start_line: u64,
    #[serde(default)]
    top: usize,
    #[serde(default)]
    bottom: usize,
}

#[derive(Debug, Deserialize)]
struct LensQuery {
    req: Option<String>,
}

async fn lens_handler(
    State(sg): State<Spyglass>,
    Path((lens, op)): Path<(String, String)>,
    Query(q): Query<LensQuery>,
    body: String,
) -> Response {
    let req: LensRequest = match q.req.as_deref().map(serde_json::from_str).transpose() {
        Ok(r) => r.unwrap_or_default(),
        Err(e) => {
            return ViewError::new(StatusCode::BAD_REQUEST, format!("bad req: {e}"))
                .into_response();
        }
    };
    let res = match op.as_str() {
        "initial" | "rerender" => sg.lens_body(&lens, &req).await,
        "callback"
            if crate::lens::LensKind::from_name(&lens) == Some(crate::lens::LensKind::Buildlog) =>
        {
            let cb: CallbackRequest = match serde_json::from_str(&body) {
                Ok(c) => c,
                Err(_) => return fragment("Failed to unmarshal request".into()),
            };
            // Prow's -1 length means "the whole artifact" (offset 0).
            let start = u64::try_from(cb.offset.max(0)).unwrap_or(0);
            let end = if cb.length < 0 {
                u64::MAX
            } else {
                start + u64::try_from(cb.length).unwrap_or(0) + 1
            };
            let dir = if cb.top > 0 {
                Direction::Down(cb.top)
            } else if cb.bottom > 0 {
                Direction::Up(cb.bottom)
            } else {
                Direction::All
            };
            let er = ExpandRequest {
                skip: Skip {
                    start,
                    end,
                    first_line: Some(cb.start_line + 1),
                    count: None,
                },
                dir,
            };
            sg.log_fragment(&req.src, &cb.artifact, er).await
        }
        "callback" => Ok(String::new()),
        other => Err(ViewError::new(
            StatusCode::NOT_FOUND,
            format!("unknown lens operation {other:?}"),
        )),
    };
    match res {
        Ok(html) => fragment(html),
        Err(e) => e.into_response(),
    }
}

impl Spyglass {
    async fn lens_body(&self, lens: &str, req: &LensRequest) -> Result<String, ViewError> {
        let (cfg, src) = self.storage_src(&req.src)?;
        let l = view::lens_by_name(&cfg, lens, req.index)
            .ok_or_else(|| ViewError::new(StatusCode::NOT_FOUND, format!("no lens {lens:?}")))?;
        let storage = self.open(&src)?;
        let artifacts = self.list_artifacts(storage.as_ref(), &src).await?;
        let names: Vec<&str> = artifacts.iter().map(|a| a.key.as_str()).collect();
        let files: Vec<String> = if req.artifacts.is_empty() {
            l.matching(&names).unwrap_or_default()
        } else {
            req.artifacts
                .iter()
                .filter(|a| names.contains(&a.as_str()))
                .cloned()
                .collect()
        };
        let ctx = self.ctx(cfg, src, storage, artifacts);
        let body = view::render_lens(&ctx, &l, &files).await;
        Ok(format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title>\
             <link rel=\"stylesheet\" href=\"/spyglass/static/spyglass.css\">\
             <script src=\"/spyglass/static/spyglass.js\" defer></script></head>\
             <body><main class=\"spyglass\">{body}</main></body></html>",
            esc(l.kind.title())
        ))
    }
}

const CSS: &str = include_str!("../static/spyglass.css");
const JS: &str = include_str!("../static/spyglass.js");

async fn static_handler(Path(file): Path<String>) -> Response {
    let (ct, body) = match file.as_str() {
        "spyglass.css" => ("text/css; charset=utf-8", CSS),
        "spyglass.js" => ("text/javascript; charset=utf-8", JS),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Timings of one first-screen request against a real HTTP server on loopback.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Size of the log.
    pub log_bytes: u64,
    /// Until the response headers arrived.
    pub time_to_first_byte: Duration,
    /// Until the whole page was received.
    pub full_page: Duration,
    /// Size of the page.
    pub page_bytes: usize,
    /// HTTP status.
    pub status: u16,
}

/// Serve a build whose `build-log.txt` is the file at `log` (hard-linked, or copied, into a
/// temporary `file://` bucket) and time `GET /view/...` over loopback HTTP.
pub async fn bench_first_screen(log: &std::path::Path) -> anyhow::Result<BenchReport> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::TempDir::new()?;
    let root = dir.path().join("bucket");
    let build = root.join("logs/bench-job/1");
    std::fs::create_dir_all(&build)?;
    let dest = build.join("build-log.txt");
    if std::fs::hard_link(log, &dest).is_err() {
        std::fs::copy(log, &dest)?;
    }
    std::fs::write(
        build.join("started.json"),
        br#"{"timestamp": 1700000000, "node": "bench"}"#,
    )?;
    std::fs::write(
        build.join("finished.json"),
        br#"{"timestamp": 1700000600, "passed": false, "result": "FAILURE"}"#,
    )?;
    let log_bytes = std::fs::metadata(&dest)?.len();
    let root_str = root
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("temporary directory is not UTF-8"))?
        .to_string();
    let mut cfg = prow_config::Config::default();
    cfg.prow
        .deck
        .additional_allowed_buckets
        .push(format!("file://{root_str}"));
    let cfg = Arc::new(cfg);
    let sg = Spyglass::new(
        Arc::new(move || cfg.clone()),
        Arc::new(|p: &str, b: &str| {
            Ok(prow_storage::open(
                &format!("{p}://{b}"),
                &prow_storage::Credentials::default(),
            )?)
        }),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, sg.router()).await;
    });
    let path = format!(
        "/view/file/{}/logs/bench-job/1",
        root_str.trim_start_matches('/')
    );
    let started = Instant::now();
    let mut conn = tokio::net::TcpStream::connect(addr).await?;
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut buf = Vec::new();
    let mut first = None;
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        first.get_or_insert_with(|| started.elapsed());
        buf.extend_from_slice(&chunk[..n]);
    }
    let full_page = started.elapsed();
    server.abort();
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(BenchReport {
        log_bytes,
        time_to_first_byte: first.unwrap_or(full_page),
        full_page,
        page_bytes: buf.len(),
        status,
    })
}
