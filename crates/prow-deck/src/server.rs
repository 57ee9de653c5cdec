//! The Deck server: state, router and the thin HTTP handlers over the pure modules.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use prow_api::ProwJobState;
use prow_jobstore::StoreError;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auth::{AuthDecision, allows_anyone};
use crate::cache::JobCache;
use crate::filter::Visibility;
use crate::history::{self, HistoryError};
use crate::pages::{self, JobQuery, Layout};
use crate::pluginhelp::HelpCache;
use crate::rerun;
use crate::tide::{self, TideCache};
use crate::web::{self, Omit};
use crate::{DeckDeps, DeckOptions};

/// Rows the first paint of `/` renders by default.
pub const DEFAULT_PAGE_ROWS: usize = 200;
/// Most rows `/?limit=` may ask for.
pub const MAX_PAGE_ROWS: usize = 5000;
/// Seconds between the jobs page's refreshes.
pub const REFRESH_SECS: u64 = 30;

/// The largest request body any Deck route buffers (forms and small JSON only).
pub const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// Injected clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

struct Inner {
    deps: DeckDeps,
    opts: DeckOptions,
    cache: JobCache,
    tide: Option<TideCache>,
    help: Option<HelpCache>,
    clock: Clock,
}

/// A Deck instance: clone freely (it is an `Arc`).
#[derive(Clone)]
pub struct Deck {
    inner: Arc<Inner>,
}

impl Deck {
    /// A Deck over `deps`. Call [`Deck::start`] before serving so the job cache is filled.
    pub fn new(deps: DeckDeps, opts: DeckOptions) -> Self {
        let tide = deps.tide.clone().map(TideCache::new);
        let help = deps.plugin_help.clone().map(HelpCache::new);
        let mut opts = opts;
        if opts.github_host.is_empty() {
            opts.github_host = "github.com".into();
        }
        Deck {
            inner: Arc::new(Inner {
                deps,
                opts,
                cache: JobCache::new(),
                tide,
                help,
                clock: Arc::new(Utc::now),
            }),
        }
    }

    /// Replaces the clock (tests); must be called before the Deck is cloned.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.clock = clock;
        }
        self
    }

    /// The job cache (for benchmarks and tests).
    pub fn cache(&self) -> &JobCache {
        &self.inner.cache
    }

    /// Lists the store once, then follows its watch in a background task until `shutdown`.
    pub async fn start(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let store = self.inner.deps.store.clone();
        let version = self.inner.cache.initial_sync(store.as_ref()).await?;
        let cache = self.inner.cache.clone();
        tokio::spawn(
            async move { cache.run(store, version, shutdown).await }
                .instrument(tracing::info_span!("deck_job_cache")),
        );
        Ok(())
    }

    /// Deck's router, with the Spyglass and auth routers merged in. Request bodies over
    /// [`MAX_REQUEST_BODY`] are refused with 413.
    pub fn router(&self) -> Router {
        let mut r = Router::new()
            .route("/", get(jobs_page))
            .route("/prowjobs.js", get(prowjobs_js))
            .route("/data.js", get(data_js))
            .route("/badge.svg", get(badge))
            .route("/prowjob", get(prowjob_yaml))
            .route("/config", get(config_yaml))
            .route("/plugin-config", get(plugin_config_yaml))
            .route("/tide.js", get(tide_js))
            .route("/tide-history.js", get(tide_history_js))
            .route("/plugin-help.js", get(plugin_help_js))
            .route("/rerun", any(rerun_handler))
            .route("/abort", any(abort_handler))
            .route("/tide", get(tide_page))
            .route("/tide-history", get(tide_history_page))
            .route("/command-help", get(command_help_page))
            .route(
                "/plugin-help",
                get(|| async {
                    (
                        StatusCode::MOVED_PERMANENTLY,
                        [(header::LOCATION, "/command-help")],
                    )
                }),
            )
            .route("/plugins", get(plugins_page))
            .route("/configured-jobs", get(configured_jobs_index))
            .route("/configured-jobs/", get(configured_jobs_index))
            .route("/configured-jobs/{*rest}", get(configured_jobs))
            .route("/job-history/{*rest}", get(job_history_page))
            .route("/pr-history", get(pr_history_page))
            .route("/pr-history/", get(pr_history_page))
            .route("/github-link", get(github_link))
            .route("/git-provider-link", get(git_provider_link))
            .route("/favicon.ico", get(favicon))
            .route("/static/{file}", get(static_file))
            .with_state(self.clone());
        if let Some(auth) = &self.inner.deps.auth
            && let Some(ar) = auth.router()
        {
            r = r.merge(ar);
        }
        if let Some(sg) = &self.inner.deps.spyglass {
            r = r.merge(sg.clone());
        }
        let r = match &self.inner.deps.auth {
            Some(auth) => auth.wrap(r),
            None => r,
        };
        // Deck's forms (rerun, abort, PR status queries) are small; cap what any extractor
        // buffers well below axum's 2 MiB default.
        let r = r.layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY));
        // CSP, nosniff and no framing on every response; Spyglass's raw artifacts keep their
        // own sandbox policy (the layer only fills in missing headers).
        let r = prow_runtime::headers::with_security_headers(r, &[]);
        // Gzip for clients that ask (the job list JSON compresses ~10x).
        r.layer(tower_http::compression::CompressionLayer::new())
    }

    /// Starts the cache and serves the router on `listener` until `shutdown` (the in-process
    /// entry `prow local` uses).
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        self.start(shutdown.clone()).await?;
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }

    fn config(&self) -> Arc<prow_config::Config> {
        (self.inner.deps.config)()
    }

    fn visibility(&self) -> Visibility {
        Visibility::new(&self.inner.opts, &self.config())
    }

    fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    fn layout(&self, headers: &HeaderMap, uri: &Uri, title: &str, section: &str) -> Layout {
        let auth = self.inner.deps.auth.as_ref();
        let dest = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        Layout {
            title: title.to_owned(),
            section: section.to_owned(),
            login: auth.and_then(|a| a.login(headers)),
            csrf: auth.and_then(|a| a.csrf_token(headers)),
            dest: pages::url_encode(dest),
            banner: self.inner.opts.warning_banner.clone(),
        }
    }
}

type Params = Query<BTreeMap<String, String>>;

fn param<'a>(q: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    q.get(k).map(String::as_str).filter(|s| !s.is_empty())
}

async fn jobs_page(
    State(d): State<Deck>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Params,
) -> Response {
    let vis = d.visibility();
    let jq = JobQuery::from_params(&q);
    let m = jq.matcher();
    let limit = param(&q, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(match d.inner.opts.page_rows {
            0 => DEFAULT_PAGE_ROWS,
            n => n,
        })
        .clamp(1, MAX_PAGE_ROWS);
    let jobs = d.inner.cache.jobs();
    let now = d.now();
    let mut rows = Vec::new();
    let mut matched = 0usize;
    let mut total = 0usize;
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut shown_jobs = Vec::new();
    for cj in jobs.iter() {
        if !vis.shows_job(&cj.job) {
            continue;
        }
        total += 1;
        if !m.matches(&cj.job) {
            continue;
        }
        matched += 1;
        *counts.entry(cj.job.status.state.as_str()).or_default() += 1;
        if rows.len() < limit {
            let mut row = pages::job_row(&cj.job, &d.inner.opts.github_host, now);
            if row.link.is_empty() && d.inner.opts.spyglass && !cj.job.status.build_id.is_empty() {
                row.link = format!(
                    "/view/prowjob/{}/{}",
                    cj.job.spec.job, cj.job.status.build_id
                );
            }
            rows.push(row);
            shown_jobs.push(&cj.job);
        }
    }
    let filters = pages::filter_boxes(
        jobs.iter().map(|c| &c.job).filter(|j| vis.shows_job(j)),
        &jq,
    );
    let more_link = (matched > rows.len() && limit < MAX_PAGE_ROWS).then(|| {
        let mut parts: Vec<String> = q
            .iter()
            .filter(|(k, v)| k.as_str() != "limit" && !v.is_empty())
            .map(|(k, v)| format!("{}={}", pages::url_encode(k), pages::url_encode(v)))
            .collect();
        parts.push(format!("limit={}", (limit * 2).min(MAX_PAGE_ROWS)));
        format!("/?{}", parts.join("&"))
    });
    let page = pages::JobsPage {
        more_link,
        layout: d.layout(&headers, &uri, "Jobs", "jobs"),
        filters,
        histogram: pages::histogram(shown_jobs.into_iter()),
        rows,
        matched,
        total,
        counts: counts
            .into_iter()
            .filter(|(s, _)| !s.is_empty())
            .map(|(s, n)| (s.to_owned(), n))
            .collect(),
        limit,
        refresh_secs: match d.inner.opts.refresh_secs {
            0 => REFRESH_SECS,
            n => n,
        },
        github_host: d.inner.opts.github_host.clone(),
        spyglass: d.inner.opts.spyglass,
    };
    web::html(page.render())
}

async fn prowjobs_js(State(d): State<Deck>, Query(q): Params) -> Response {
    let vis = d.visibility();
    let omit = Omit::parse(q.get("omit").map(String::as_str).unwrap_or(""));
    let jq = JobQuery::from_params(&q);
    let m = jq.matcher();
    let limit = param(&q, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let jobs = d.inner.cache.jobs();
    let mut body = Vec::with_capacity(64 * 1024);
    body.extend_from_slice(b"{\"items\":[");
    let mut n = 0usize;
    let mut matched = 0usize;
    let mut total = 0usize;
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for cj in jobs.iter() {
        if !vis.shows_job(&cj.job) {
            continue;
        }
        total += 1;
        if !m.matches(&cj.job) {
            continue;
        }
        matched += 1;
        *counts.entry(cj.job.status.state.as_str()).or_default() += 1;
        if n >= limit {
            continue;
        }
        if n > 0 {
            body.push(b',');
        }
        if omit == Omit::all() {
            body.extend_from_slice(cj.slim_json());
        } else {
            let j = web::omit_fields(&cj.job, &omit);
            if let Err(e) = serde_json::to_writer(&mut body, &j) {
                return web::text(StatusCode::INTERNAL_SERVER_ERROR, format!("encoding: {e}"));
            }
        }
        n += 1;
    }
    body.extend_from_slice(b"]}");
    let mut resp = web::json_response(param(&q, "var"), Bytes::from(body));
    // Summary numbers for the jobs page's refresh; Prow's clients ignore them.
    let counts = counts
        .iter()
        .filter(|(s, _)| !s.is_empty())
        .map(|(s, n)| format!("{s}={n}"))
        .collect::<Vec<_>>()
        .join(",");
    for (name, value) in [
        ("X-Deck-Matched", matched.to_string()),
        ("X-Deck-Total", total.to_string()),
        ("X-Deck-Counts", counts),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

/// Prow's legacy `/data.js` job entry.
#[derive(serde::Serialize)]
struct LegacyJob<'a> {
    #[serde(rename = "type")]
    job_type: &'a str,
    refs: prow_api::Refs,
    refs_key: String,
    job: &'a str,
    build_id: &'a str,
    context: &'a str,
    started: String,
    finished: String,
    duration: String,
    state: &'a str,
    description: &'a str,
    url: &'a str,
    pod_name: &'a str,
    agent: &'a str,
    prow_job: &'a str,
}

/// Prow's `Refs.String()`: `base_ref:base_sha,N:sha,…`.
fn refs_key(r: &prow_api::Refs) -> String {
    let mut s = r.base_ref.clone();
    if !r.base_sha.is_empty() {
        s.push(':');
        s.push_str(&r.base_sha);
    }
    for p in &r.pulls {
        s.push_str(&format!(",{}:{}", p.number, p.sha));
    }
    s
}

async fn data_js(State(d): State<Deck>, Query(q): Params) -> Response {
    let vis = d.visibility();
    let jobs = d.inner.cache.jobs();
    let out: Vec<LegacyJob<'_>> = jobs
        .iter()
        .map(|c| &c.job)
        .filter(|j| vis.shows_job(j))
        .map(|j| {
            let (finished, duration) = match (j.status.start_time, j.status.completion_time) {
                (Some(s), Some(e)) => (
                    e.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    pages::format_duration((e - s).num_seconds()),
                ),
                _ => (String::new(), String::new()),
            };
            LegacyJob {
                job_type: j.spec.job_type.map(|t| t.as_str()).unwrap_or(""),
                refs: j.spec.refs.clone().unwrap_or_default(),
                refs_key: j.spec.refs.as_ref().map(refs_key).unwrap_or_default(),
                job: &j.spec.job,
                build_id: &j.status.build_id,
                context: &j.spec.context,
                started: j
                    .status
                    .start_time
                    .map(|s| s.timestamp().to_string())
                    .unwrap_or_else(|| "0".into()),
                finished,
                duration,
                state: j.status.state.as_str(),
                description: &j.status.description,
                url: &j.status.url,
                pod_name: &j.status.pod_name,
                agent: j.spec.agent.as_ref().map(|a| a.as_str()).unwrap_or(""),
                prow_job: j.name(),
            }
        })
        .collect();
    web::json_value(param(&q, "var"), &out)
}

async fn badge(State(d): State<Deck>, Query(q): Params) -> Response {
    let Some(wanted) = param(&q, "jobs") else {
        let mut r = web::text(StatusCode::BAD_REQUEST, "missing jobs query parameter");
        web::no_cache(&mut r);
        return r;
    };
    let vis = d.visibility();
    let jobs = d.inner.cache.jobs();
    let svg = crate::badge::render(
        jobs.iter().map(|c| &c.job).filter(|j| vis.shows_job(j)),
        wanted,
    );
    let mut r = ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response();
    web::no_cache(&mut r);
    r
}

async fn prowjob_yaml(State(d): State<Deck>, Query(q): Params) -> Response {
    let Some(name) = param(&q, "prowjob") else {
        return web::text(
            StatusCode::BAD_REQUEST,
            "request did not provide the 'prowjob' query parameter",
        );
    };
    match d.inner.deps.store.get(name).await {
        Ok(mut pj) if d.visibility().shows_job(&pj) => {
            pj.metadata.managed_fields = None;
            web::yaml_response("prowjob", &pj)
        }
        Ok(_) | Err(StoreError::NotFound(_)) => web::text(
            StatusCode::NOT_FOUND,
            format!("ProwJob not found: prowjobs.prow.k8s.io {name:?} not found"),
        ),
        Err(e) => web::text(StatusCode::NOT_FOUND, format!("ProwJob not found: {e}")),
    }
}

/// `config.yaml` as Prow serves it: core config and jobs in one document.
#[derive(serde::Serialize)]
struct FullConfig<'a> {
    #[serde(flatten)]
    prow: &'a prow_config::ProwConfig,
    #[serde(flatten)]
    jobs: &'a prow_config::JobConfig,
}

async fn config_yaml(State(d): State<Deck>, Query(q): Params) -> Response {
    let cfg = d.config();
    match param(&q, "key") {
        None => web::yaml_response(
            "config.yaml",
            &FullConfig {
                prow: &cfg.prow,
                jobs: &cfg.jobs,
            },
        ),
        Some("disabled-clusters") => {
            let mut l = cfg.prow.disabled_clusters.clone();
            l.sort();
            l.dedup();
            web::yaml_response("disabled-clusters.yaml", &l)
        }
        Some(k) => web::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("getting config for key {k} is not supported"),
        ),
    }
}

async fn plugin_config_yaml(State(d): State<Deck>) -> Response {
    match &d.inner.deps.plugins {
        Some(p) => web::yaml_response("plugins.yaml", &*p()),
        None => web::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Please use the --plugin-config flag to specify the location of the plugin config.",
        ),
    }
}

fn tide_period(cfg: &prow_config::Config) -> Duration {
    cfg.prow
        .deck
        .tide_update_period
        .map(|d| d.get())
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(10))
}

async fn tide_payload(d: &Deck) -> Result<serde_json::Value, String> {
    let cfg = d.config();
    let pools = match &d.inner.tide {
        Some(t) => t
            .pools(tide_period(&cfg))
            .await
            .map_err(|e| format!("{e:#}"))?,
        None => serde_json::Value::Array(Vec::new()),
    };
    Ok(tide::tide_js(&pools, &d.visibility(), &cfg))
}

async fn tide_js(State(d): State<Deck>, Query(q): Params) -> Response {
    match tide_payload(&d).await {
        Ok(v) => web::json_value(param(&q, "var"), &v),
        Err(e) => {
            tracing::warn!(error = %e, "fetching Tide pools");
            web::text(StatusCode::BAD_GATEWAY, format!("Tide unavailable: {e}"))
        }
    }
}

async fn tide_history_payload(
    d: &Deck,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let cfg = d.config();
    let hist = match &d.inner.tide {
        Some(t) => t
            .history(tide_period(&cfg))
            .await
            .map_err(|e| format!("{e:#}"))?,
        None => serde_json::Value::Object(Default::default()),
    };
    Ok(tide::filter_history(&hist, &d.visibility(), &cfg))
}

async fn tide_history_js(State(d): State<Deck>, Query(q): Params) -> Response {
    match tide_history_payload(&d).await {
        Ok(h) => web::json_value(param(&q, "var"), &serde_json::json!({ "History": h })),
        Err(e) => web::text(StatusCode::BAD_GATEWAY, format!("Tide unavailable: {e}")),
    }
}

async fn help_payload(d: &Deck) -> Result<serde_json::Value, String> {
    match &d.inner.help {
        Some(h) => h.help().await.map_err(|e| format!("{e:#}")),
        None => Err("no --hook-url configured".into()),
    }
}

async fn plugin_help_js(State(d): State<Deck>, Query(q): Params) -> Response {
    let help = help_payload(&d).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "getting plugin help from hook");
        serde_json::json!({})
    });
    web::json_value(param(&q, "var"), &help)
}

async fn tide_page(State(d): State<Deck>, headers: HeaderMap, uri: Uri) -> Response {
    let (error, queries, pools) = match tide_payload(&d).await {
        Ok(v) => (
            None,
            v["Queries"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            pages::pool_rows(v["Pools"].as_array().map(Vec::as_slice).unwrap_or(&[])),
        ),
        Err(e) => (Some(e), Vec::new(), Vec::new()),
    };
    web::html(
        pages::TidePage {
            layout: d.layout(&headers, &uri, "Tide", "tide"),
            error,
            queries,
            pools,
            github_host: d.inner.opts.github_host.clone(),
        }
        .render(),
    )
}

async fn tide_history_page(
    State(d): State<Deck>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Params,
) -> Response {
    let repo = param(&q, "repo").unwrap_or("").to_owned();
    let branch = param(&q, "branch").unwrap_or("").to_owned();
    let action = param(&q, "action")
        .or(param(&q, "state"))
        .unwrap_or("")
        .to_owned();
    let (error, hist) = match tide_history_payload(&d).await {
        Ok(h) => (None, h),
        Err(e) => (Some(e), Default::default()),
    };
    let (records, repos, branches, actions) = pages::history_rows(&hist, &repo, &branch, &action);
    web::html(
        pages::TideHistoryPage {
            layout: d.layout(&headers, &uri, "Tide history", "tide-history"),
            error,
            records,
            repos,
            branches,
            actions,
            repo,
            branch,
            action,
            github_host: d.inner.opts.github_host.clone(),
        }
        .render(),
    )
}

async fn command_help_page(
    State(d): State<Deck>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Params,
) -> Response {
    let repo = param(&q, "repo").unwrap_or("").to_owned();
    let (error, help) = match help_payload(&d).await {
        Ok(h) => (None, h),
        Err(e) => (Some(e), serde_json::json!({})),
    };
    let mut commands = crate::pluginhelp::commands(&help);
    if !repo.is_empty() {
        commands.retain(|c| {
            c.repos.iter().any(|r| {
                r == &repo || r == "all repos" || repo.split('/').next() == Some(r.as_str())
            })
        });
    }
    let repos = help["AllRepos"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    web::html(
        pages::CommandHelpPage {
            layout: d.layout(&headers, &uri, "Command help", "command-help"),
            error,
            commands,
            repos,
            repo,
        }
        .render(),
    )
}

async fn plugins_page(State(d): State<Deck>, headers: HeaderMap, uri: Uri) -> Response {
    let (error, help) = match help_payload(&d).await {
        Ok(h) => (None, h),
        Err(e) => (Some(e), serde_json::json!({})),
    };
    web::html(
        pages::PluginsPage {
            layout: d.layout(&headers, &uri, "Plugins", "plugins"),
            error,
            plugins: crate::pluginhelp::plugins(&help),
        }
        .render(),
    )
}

fn configured(d: &Deck, headers: &HeaderMap, uri: &Uri, org: &str, repo: &str) -> Response {
    let cfg = d.config();
    let vis = d.visibility();
    let (mut repos, mut jobs) = pages::configured_jobs(&cfg, org, repo);
    repos.retain(|r| !vis.repo_hidden(r) || vis.show_hidden || vis.hidden_only);
    jobs.retain(|j| !vis.repo_hidden(&j.repo) || vis.show_hidden || vis.hidden_only);
    let scope = [org, repo]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let mut resp = web::html(
        pages::ConfiguredJobsPage {
            layout: d.layout(headers, uri, "Configured jobs", ""),
            scope,
            repos,
            jobs,
        }
        .render(),
    );
    web::no_cache(&mut resp);
    resp
}

async fn configured_jobs_index(State(d): State<Deck>, headers: HeaderMap, uri: Uri) -> Response {
    configured(&d, &headers, &uri, "", "")
}

async fn configured_jobs(
    State(d): State<Deck>,
    headers: HeaderMap,
    uri: Uri,
    Path(rest): Path<String>,
) -> Response {
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] => configured(&d, &headers, &uri, "", ""),
        [org] => configured(&d, &headers, &uri, org, ""),
        [org, repo] => configured(&d, &headers, &uri, org, repo),
        _ => web::text(StatusCode::NOT_FOUND, "404 page not found"),
    }
}

fn history_error(e: HistoryError) -> Response {
    let status = match &e {
        HistoryError::BadRequest(_) => StatusCode::BAD_REQUEST,
        HistoryError::NotAllowed(_) => StatusCode::FORBIDDEN,
        HistoryError::NotFound(_) => StatusCode::NOT_FOUND,
        HistoryError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    web::text(status, e.to_string())
}

async fn job_history_page(
    State(d): State<Deck>,
    headers: HeaderMap,
    uri: Uri,
    Path(rest): Path<String>,
    Query(q): Params,
) -> Response {
    let url = match history::parse_job_history(&rest, q.get("buildId").map(String::as_str)) {
        Ok(u) => u,
        Err(e) => return history_error(e),
    };
    let span = tracing::info_span!("job_history", bucket = %url.bucket, root = %url.root);
    let cfg = d.config();
    let h = match history::job_history(&d.inner.deps.storage, &cfg, &url, d.now())
        .instrument(span)
        .await
    {
        Ok(h) => h,
        Err(e) => return history_error(e),
    };
    let base = uri.path().to_owned();
    let link = |id: Option<u64>| match id {
        Some(id) => format!("{base}?buildId={id}"),
        None => base.clone(),
    };
    web::html(
        pages::JobHistoryPage {
            layout: d.layout(&headers, &uri, &format!("Job history: {}", h.name), ""),
            shown: h.builds.len(),
            total: h.total,
            latest_link: h.latest.then(|| link(None)),
            newer_link: h.newer.map(link),
            older_link: h.older.map(|id| link(Some(id))),
            builds: h.builds.iter().map(pages::build_row).collect(),
            name: h.name,
            provider: h.provider,
            bucket: h.bucket,
        }
        .render(),
    )
}

async fn pr_history_page(
    State(d): State<Deck>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Params,
) -> Response {
    let (Some(org), Some(repo)) = (param(&q, "org"), param(&q, "repo")) else {
        return web::text(
            StatusCode::BAD_REQUEST,
            "failed to parse URL: no value provided for org or repo",
        );
    };
    let pr_raw = param(&q, "pr").unwrap_or("");
    let Ok(pr) = pr_raw.parse::<u64>() else {
        return web::text(
            StatusCode::BAD_REQUEST,
            format!("failed to parse URL: invalid PR number {pr_raw:?}"),
        );
    };
    let vis = d.visibility();
    if vis.repo_hidden(&format!("{org}/{repo}")) && !vis.show_hidden && !vis.hidden_only {
        return web::text(StatusCode::NOT_FOUND, "no such repo");
    }
    let cfg = d.config();
    let span = tracing::info_span!("pr_history", repo = %format!("{org}/{repo}"), pr);
    let h = match history::pr_history(
        &d.inner.deps.storage,
        &cfg,
        &d.inner.opts.github_host,
        org,
        repo,
        pr,
        d.now(),
    )
    .instrument(span)
    .await
    {
        Ok(h) => h,
        Err(e) => return history_error(e),
    };
    let commits = h
        .commits
        .iter()
        .map(|c| pages::CommitView {
            short: c.short.clone(),
            link: c.link.clone(),
            builds: c
                .builds
                .iter()
                .map(|(j, bs)| (j.clone(), bs.iter().map(pages::build_row).collect()))
                .collect(),
        })
        .collect();
    web::html(
        pages::PrHistoryPage {
            layout: d.layout(&headers, &uri, &format!("PR history: {}", h.name), ""),
            name: h.name,
            link: h.link,
            jobs: h.jobs,
            commits,
        }
        .render(),
    )
}

fn github_prefix(d: &Deck) -> String {
    let scheme = if d.inner.opts.allow_insecure {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{}/", d.inner.opts.github_host)
}

/// A 302 (Go's `http.Redirect` with `StatusFound`).
fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => web::text(StatusCode::BAD_REQUEST, "invalid redirect target"),
    }
}

/// Prow's `/github-link?dest=<path>`: 302 to the GitHub page.
async fn github_link(State(d): State<Deck>, Query(q): Params) -> Response {
    let dest = q.get("dest").map(String::as_str).unwrap_or("");
    found(&format!(
        "{}{}",
        github_prefix(&d),
        dest.trim_start_matches('/')
    ))
}

/// Prow's `/git-provider-link?target=commit|branch|pr|prcommit|author&repo=&…` (GitHub only).
async fn git_provider_link(State(d): State<Deck>, Query(q): Params) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let repo = get("repo").trim_matches('\'');
    let prefix = github_prefix(&d);
    let target = match get("target") {
        "commit" => format!("{prefix}{repo}/commit/{}", get("commit")),
        "branch" => format!("{prefix}{repo}/tree/{}", get("branch")),
        "pr" => format!("{prefix}{repo}/pull/{}", get("number")),
        "prcommit" => format!("{prefix}{repo}/pull/{}/{}", get("number"), get("commit")),
        "author" => format!("{prefix}{}", get("author")),
        _ => return web::text(StatusCode::NOT_FOUND, "unknown target"),
    };
    found(&target)
}

const DECK_CSS: &str = include_str!("../static/deck.css");
const JOBS_JS: &str = include_str!("../static/jobs.js");
const FAVICON: &str = include_str!("../static/favicon.svg");

async fn favicon(State(d): State<Deck>) -> Response {
    if let Some(b) = &d.config().prow.deck.branding
        && !b.favicon.is_empty()
    {
        return Redirect::temporary(&b.favicon).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

async fn static_file(Path(file): Path<String>) -> Response {
    let (ct, body) = match file.as_str() {
        "deck.css" => ("text/css; charset=utf-8", DECK_CSS),
        "jobs.js" => ("application/javascript; charset=utf-8", JOBS_JS),
        "favicon.svg" => ("image/svg+xml", FAVICON),
        _ => return web::text(StatusCode::NOT_FOUND, "404 page not found"),
    };
    // No cache-busting query in our URLs, so revalidate hourly rather than "forever".
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The outcome of authorizing a rerun/abort, as a response on refusal.
async fn authorize(
    d: &Deck,
    pj: &prow_api::ProwJob,
    headers: &HeaderMap,
    form_token: Option<&str>,
    verb: &str,
) -> Result<Option<String>, Response> {
    let cfg = d.config();
    match &d.inner.deps.auth {
        None => {
            if allows_anyone(&cfg, pj) {
                Ok(None)
            } else {
                Err(web::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!(
                        "Could not verify if allowed to {verb}: GitHub oauth must be configured to rerun jobs unless 'allow_anyone: true' is specified.."
                    ),
                ))
            }
        }
        Some(auth) => {
            if let Err(e) = auth.check_csrf(headers, form_token) {
                return Err(web::text(
                    StatusCode::FORBIDDEN,
                    format!("Forbidden - CSRF token invalid: {e}"),
                ));
            }
            match auth.authorize(pj, headers).await {
                AuthDecision::Allowed { login } => Ok(login),
                AuthDecision::NeedLogin => Err(web::text(
                    StatusCode::UNAUTHORIZED,
                    format!("You need to log in to {verb} jobs. Log in at /github-login"),
                )),
                AuthDecision::Denied { login } => Err(web::text(
                    StatusCode::FORBIDDEN,
                    format!("{login} is not allowed to {verb} {}", pj.spec.job),
                )),
                AuthDecision::Error(e) => Err(web::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Could not verify if allowed to {verb}: {e}."),
                )),
            }
        }
    }
}

async fn load_job(
    d: &Deck,
    q: &BTreeMap<String, String>,
    dot: &str,
) -> Result<prow_api::ProwJob, Response> {
    let Some(name) = param(q, "prowjob") else {
        return Err(web::text(
            StatusCode::BAD_REQUEST,
            format!("request did not provide the 'prowjob' query parameter{dot}"),
        ));
    };
    match d.inner.deps.store.get(name).await {
        Ok(pj) if d.visibility().shows_job(&pj) => Ok(pj),
        Ok(_) => Err(web::text(
            StatusCode::NOT_FOUND,
            format!("ProwJob not found: prowjobs.prow.k8s.io {name:?} not found{dot}"),
        )),
        Err(e) => Err(web::text(
            StatusCode::NOT_FOUND,
            format!("ProwJob not found: {e}{dot}"),
        )),
    }
}

/// The `gorilla.csrf.Token` field of a form-encoded request body.
fn form_token(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    rerun::csrf_form_token(ct, body)
}

async fn rerun_handler(
    State(d): State<Deck>,
    method: Method,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    let pj = match load_job(&d, &q, "").await {
        Ok(pj) => pj,
        Err(r) => return r,
    };
    let span = tracing::info_span!("rerun", prowjob = %pj.name(), job = %pj.spec.job);
    async move {
        let cfg = d.config();
        let latest = param(&q, "mode") == Some("latest");
        let mut new = match rerun::rerun_job(&cfg, &pj, latest, d.now()) {
            Ok(n) => n,
            Err(e) => return web::text(StatusCode::BAD_REQUEST, e),
        };
        match method {
            Method::GET => web::yaml_response("prowjob", &new),
            Method::POST => {
                if !d.inner.opts.rerun_creates_job {
                    return web::text(StatusCode::METHOD_NOT_ALLOWED, rerun::RERUN_DISABLED);
                }
                let token = form_token(&headers, &body);
                let user = match authorize(&d, &new, &headers, token.as_deref(), "rerun").await {
                    Ok(u) => u,
                    Err(r) => return r,
                };
                new.status.description = rerun::rerun_description(user.as_deref(), pj.name());
                match d.inner.deps.store.create(new).await {
                    Ok(created) => {
                        tracing::info!(user = ?user, new_prowjob = %created.name(), "rerun created");
                        web::text(StatusCode::OK, rerun::RERUN_OK)
                    }
                    Err(e) => web::text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("Error creating job: {e}"),
                    ),
                }
            }
            m => web::text(StatusCode::METHOD_NOT_ALLOWED, format!("bad verb {m}")),
        }
    }
    .instrument(span)
    .await
}

async fn abort_handler(
    State(d): State<Deck>,
    method: Method,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return web::text(StatusCode::METHOD_NOT_ALLOWED, format!("bad verb {method}"));
    }
    let pj = match load_job(&d, &q, ".").await {
        Ok(pj) => pj,
        Err(r) => return r,
    };
    let span = tracing::info_span!("abort", prowjob = %pj.name(), job = %pj.spec.job);
    async move {
        if !matches!(
            pj.status.state,
            ProwJobState::Triggered | ProwJobState::Pending
        ) {
            return web::text(
                StatusCode::BAD_REQUEST,
                format!(
                    "Cannot abort job with state: {:?}.",
                    pj.status.state.as_str()
                ),
            );
        }
        let token = form_token(&headers, &body);
        let user = match authorize(&d, &pj, &headers, token.as_deref(), "abort").await {
            Ok(u) => u,
            Err(r) => return r,
        };
        let desc = rerun::abort_description(user.as_deref(), pj.name());
        let res =
            prow_jobstore::update_status_retrying(d.inner.deps.store.as_ref(), pj.name(), |j| {
                // A job that finished meanwhile keeps its result.
                if matches!(
                    j.status.state,
                    ProwJobState::Triggered | ProwJobState::Pending
                ) {
                    j.status.state = ProwJobState::Aborted;
                    j.status.description.clone_from(&desc);
                }
            })
            .await;
        match res {
            Ok(_) => {
                tracing::info!(user = ?user, "{desc}");
                web::text(StatusCode::OK, rerun::ABORT_OK)
            }
            Err(e) => web::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Could not patch aborted job: {e}."),
            ),
        }
    }
    .instrument(span)
    .await
}
