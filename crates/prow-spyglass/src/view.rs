//! Building one build's page: list artifacts, pick lenses, render each lens, assemble the
//! header (job, build, state, history links) and the artifact list.

use std::io::Read as _;
use std::sync::Arc;

use askama::Template;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState};
use prow_config::Config;
use prow_storage::{ObjectInfo, Storage};
use serde_json::Value;

use crate::buildlog::{self, BuildLogConfig, LogReader, MemLog, StorageLog};
use crate::html::{esc, human_bytes, path_escape, query_escape};
use crate::key::{StorageSrc, path_info};
use crate::lens::{ConfiguredLens, LensKind, configured_lenses};
use crate::{junit, links, metadata, podinfo};

/// Most artifacts listed at the bottom of the page.
pub const MAX_LISTED_ARTIFACTS: usize = 1000;

/// Everything a lens needs about one build.
pub struct BuildCtx {
    /// The bucket.
    pub storage: Arc<dyn Storage>,
    /// The build directory.
    pub src: StorageSrc,
    /// Artifacts, names relative to the build directory.
    pub artifacts: Vec<ObjectInfo>,
    /// `deck.spyglass.size_limit`.
    pub size_limit: u64,
    /// The config snapshot of this request.
    pub config: Arc<Config>,
    /// Now, for elapsed times of running jobs.
    pub now: DateTime<Utc>,
}

impl BuildCtx {
    /// Object key of an artifact.
    pub fn key(&self, name: &str) -> String {
        format!("{}/{}", self.src.path, name)
    }

    fn size_of(&self, name: &str) -> Option<u64> {
        self.artifacts
            .iter()
            .find(|a| a.key == name)
            .map(|a| a.size)
    }

    /// Read a whole artifact, refusing ones above `size_limit`; gzip-encoded objects are
    /// decoded (with the same limit on the decoded size).
    pub async fn read_small(&self, name: &str) -> Result<Bytes, String> {
        let limit = self.size_limit;
        if let Some(size) = self.size_of(name)
            && size > limit
        {
            return Err(format!(
                "{name} is {} which is more than the size limit of {}; open the raw file instead",
                human_bytes(size),
                human_bytes(limit)
            ));
        }
        let data = self
            .storage
            .get(&self.key(name))
            .await
            .map_err(|e| format!("reading {name}: {e}"))?;
        if prow_storage::upload::is_gzip(&data) && !name.ends_with(".gz") {
            return gunzip_limited(&data, limit).map_err(|e| format!("decompressing {name}: {e}"));
        }
        Ok(data)
    }

    async fn read_json(&self, name: &str) -> Result<Value, String> {
        let data = self.read_small(name).await?;
        if data.iter().all(u8::is_ascii_whitespace) {
            return Err(format!("{name} is empty"));
        }
        serde_json::from_slice(&data).map_err(|e| format!("{name} is not valid JSON: {e}"))
    }
}

/// Decompress at most `limit` bytes.
pub fn gunzip_limited(data: &[u8], limit: u64) -> std::io::Result<Bytes> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "decompressed size exceeds the limit of {}",
            human_bytes(limit)
        )));
    }
    Ok(Bytes::from(out))
}

/// The expander endpoint for one log, without the range parameters.
pub fn range_url(src: &StorageSrc, artifact: &str) -> String {
    format!(
        "/spyglass/buildlog/range?src={}&artifact={}",
        query_escape(&src.src()),
        query_escape(artifact)
    )
}

/// The raw-artifact endpoint.
pub fn raw_url(src: &StorageSrc, artifact: &str) -> String {
    format!(
        "/spyglass/raw?src={}&file={}",
        query_escape(&src.src()),
        query_escape(artifact)
    )
}

/// Open a log for range reads: directly, or decoded in memory when gzip-encoded.
pub async fn open_log(ctx: &BuildCtx, name: &str) -> Result<Box<dyn LogReader>, String> {
    let key = ctx.key(name);
    let attrs = ctx
        .storage
        .attributes(&key)
        .await
        .map_err(|e| format!("Failed to read log: {e}"))?;
    let gzip = attrs
        .content_encoding
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    if gzip {
        // Compressed objects cannot be read by range; small ones are decoded whole.
        if attrs.size > ctx.size_limit {
            return Err(format!(
                "{name} is gzip-compressed and {}, more than the size limit of {}; open the raw log instead",
                human_bytes(attrs.size),
                human_bytes(ctx.size_limit)
            ));
        }
        let data = ctx.read_small(name).await?;
        return Ok(Box::new(MemLog(data)));
    }
    Ok(Box::new(StorageLog {
        storage: ctx.storage.clone(),
        key,
        size: attrs.size,
    }))
}

async fn render_buildlog(ctx: &BuildCtx, files: &[String], cfg: Option<&Value>) -> String {
    let conf = BuildLogConfig::from_json(cfg);
    let mut out = String::from("<div class=\"buildlog\">");
    if let Some(w) = &conf.warning {
        out.push_str(&format!("<p class=\"lens-warning\">{}</p>", esc(w)));
    }
    for name in files {
        out.push_str(&format!(
            "<div class=\"log\" data-artifact=\"{}\"><div class=\"log-head\">",
            esc(name)
        ));
        if conf.show_raw_log {
            out.push_str(&format!(
                "<a class=\"raw\" href=\"{}\">Raw {}</a>",
                esc(&raw_url(&ctx.src, name)),
                esc(name)
            ));
        }
        let reader = match open_log(ctx, name).await {
            Ok(r) => r,
            Err(e) => {
                out.push_str(&format!(
                    "</div><p class=\"lens-error\">{}</p></div>",
                    esc(&e)
                ));
                continue;
            }
        };
        out.push_str(&format!(
            " <span class=\"muted\">{}</span></div>",
            human_bytes(reader.size())
        ));
        match buildlog::initial_groups(reader.as_ref(), &conf).await {
            Ok(groups) => {
                out.push_str(&format!(
                    "<div class=\"loglines\" id=\"{}-content\">",
                    esc(name)
                ));
                if groups.is_empty() {
                    out.push_str("<p class=\"muted\">The log is empty.</p>");
                }
                buildlog::render_groups(&mut out, name, &range_url(&ctx.src, name), &groups);
                out.push_str("</div>");
            }
            Err(e) => out.push_str(&format!(
                "<p class=\"lens-error\">Failed to read log: {}</p>",
                esc(&e.to_string())
            )),
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out
}

async fn render_junit(ctx: &BuildCtx, files: &[String], cfg: Option<&Value>) -> String {
    let (selectors, warnings) = junit::groups_from_config(cfg);
    let reads = files.iter().map(|f| async move {
        let parsed = match ctx.read_small(f).await {
            Ok(data) => tokio::task::spawn_blocking(move || junit::parse(&data))
                .await
                .unwrap_or_else(|e| Err(format!("parser failed: {e}"))),
            Err(e) => Err(e),
        };
        (f.clone(), parsed)
    });
    let parsed = futures::future::join_all(reads).await;
    let view = junit::JunitView::build(parsed, selectors);
    let mut out = String::new();
    for w in warnings {
        out.push_str(&format!("<p class=\"lens-warning\">{}</p>", esc(&w)));
    }
    out.push_str(&view.render());
    out
}

async fn read_opt(ctx: &BuildCtx, files: &[String], name: &str) -> Option<Result<Value, String>> {
    if files.iter().any(|f| f == name) {
        Some(ctx.read_json(name).await)
    } else {
        None
    }
}

async fn render_links(ctx: &BuildCtx, files: &[String]) -> String {
    let mut groups = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        let key = ctx.key(f);
        let size = ctx.size_of(f).unwrap_or(links::BYTES_LIMIT);
        let res = if size == 0 {
            Ok(Bytes::new())
        } else {
            ctx.storage
                .get_range(&key, 0..size.min(links::BYTES_LIMIT))
                .await
        };
        match res {
            Ok(data) => match links::parse(f, &data) {
                Ok(g) => groups.push(g),
                Err(e) => errors.push(format!("{f}: {e}")),
            },
            Err(e) => errors.push(format!("{f}: {e}")),
        }
    }
    let sp = &ctx.config.prow.deck.spyglass;
    links::render(
        groups,
        &errors,
        &gcs_browser_prefix(sp, "", "", &ctx.src.bucket),
    )
}

/// Render one lens's body for the given artifacts.
pub async fn render_lens(ctx: &BuildCtx, lens: &ConfiguredLens, files: &[String]) -> String {
    let cfg = lens.config.as_ref();
    match lens.kind {
        LensKind::Metadata => {
            let (s, f, p, i) = futures::join!(
                read_opt(ctx, files, "started.json"),
                read_opt(ctx, files, "finished.json"),
                read_opt(ctx, files, "prowjob.json"),
                read_opt(ctx, files, "podinfo.json"),
            );
            metadata::build(s, f, p, i, ctx.now).render()
        }
        LensKind::Buildlog => render_buildlog(ctx, files, cfg).await,
        LensKind::Junit => render_junit(ctx, files, cfg).await,
        LensKind::Podinfo => {
            let (info, pj) = futures::join!(
                read_opt(ctx, files, "podinfo.json"),
                read_opt(ctx, files, "prowjob.json")
            );
            match info {
                Some(Ok(info)) => {
                    let pj = pj.and_then(Result::ok);
                    podinfo::render(&info, pj.as_ref(), cfg)
                }
                Some(Err(e)) => format!("<p class=\"lens-error\">{}</p>", esc(&e)),
                None => "<p class=\"muted\">There is no podinfo.json file.</p>".into(),
            }
        }
        LensKind::Links => render_links(ctx, files).await,
    }
}

/// Prow's `GetGCSBrowserPrefix`: by `org/repo`, `org`, bucket, then the `*` defaults (the
/// legacy `gcs_browser_prefix` is the by-repo `*`).
pub fn gcs_browser_prefix(
    sp: &prow_config::prow::Spyglass,
    org: &str,
    repo: &str,
    bucket: &str,
) -> String {
    let by_repo = &sp.gcs_browser_prefixes;
    if !org.is_empty() {
        if let Some(p) = by_repo.get(&format!("{org}/{repo}")) {
            return p.clone();
        }
        if let Some(p) = by_repo.get(org) {
            return p.clone();
        }
    }
    if !bucket.is_empty()
        && let Some(p) = sp.gcs_browser_prefixes_by_bucket.get(bucket)
    {
        return p.clone();
    }
    if let Some(p) = by_repo.get("*") {
        return p.clone();
    }
    if !sp.gcs_browser_prefix.is_empty() {
        return sp.gcs_browser_prefix.clone();
    }
    sp.gcs_browser_prefixes_by_bucket
        .get("*")
        .cloned()
        .unwrap_or_default()
}

/// One lens section of the page.
pub struct LensSection {
    /// Anchor id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Whether to hide the title.
    pub hide_title: bool,
    /// Rendered body (trusted HTML built by this crate).
    pub body: String,
}

/// A link in the page header.
pub struct HeaderLink {
    /// Label.
    pub label: String,
    /// Target.
    pub href: String,
}

/// A row of the artifact list.
pub struct ArtifactRow {
    /// Name relative to the build directory.
    pub name: String,
    /// Human-readable size.
    pub size: String,
    /// Raw link.
    pub href: String,
}

/// The page.
#[derive(Template)]
#[template(path = "spyglass.html")]
pub struct PageTemplate {
    /// `<title>`.
    pub title: String,
    /// Job name.
    pub job: String,
    /// Build ID.
    pub build: String,
    /// State word (`success`, `failure`, `pending`, ...), empty when unknown.
    pub state: String,
    /// CSS class for the state.
    pub state_class: String,
    /// Header links.
    pub links: Vec<HeaderLink>,
    /// Extra links from started.json `metadata.links`.
    pub extra_links: Vec<HeaderLink>,
    /// Operator announcement (trusted HTML from the config).
    pub announcement: String,
    /// Notes for the operator (skipped lenses...).
    pub notes: Vec<String>,
    /// Lens sections.
    pub lenses: Vec<LensSection>,
    /// Artifacts.
    pub artifacts: Vec<ArtifactRow>,
    /// Artifacts not listed.
    pub artifacts_more: usize,
    /// The logged-in user, if known.
    pub user: Option<String>,
    /// This page's path, for the login link.
    pub dest: String,
    /// Source string.
    pub src: String,
}

/// CSS class of a state word.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "success" => "st-success",
        "failure" | "error" => "st-failure",
        "pending" | "triggered" | "scheduling" => "st-pending",
        "aborted" => "st-aborted",
        _ => "",
    }
}

/// State of the build from the ProwJob, else from finished.json / started.json.
pub fn build_state(pj: Option<&ProwJob>, finished: Option<&Value>, has_started: bool) -> String {
    if let Some(pj) = pj
        && pj.status.state != ProwJobState::Unset
    {
        return serde_json::to_value(pj.status.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
    }
    if let Some(f) = finished {
        let result = f.get("result").and_then(Value::as_str).unwrap_or_default();
        let passed = f
            .get("passed")
            .and_then(Value::as_bool)
            .unwrap_or(result == "SUCCESS");
        return if result == "ABORTED" {
            "aborted".into()
        } else if passed {
            "success".into()
        } else {
            "failure".into()
        };
    }
    if has_started {
        return "pending".into();
    }
    String::new()
}

/// Extra links from `started.json` `metadata.links` (`{name: {url, description}}`).
pub fn extra_links(started: &Value) -> Vec<HeaderLink> {
    let Some(links) = started
        .pointer("/metadata/links")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    links
        .iter()
        .filter_map(|(name, v)| {
            let url = v.get("url").and_then(Value::as_str)?;
            (url.starts_with("https://") || url.starts_with("http://")).then(|| HeaderLink {
                label: name.clone(),
                href: url.to_string(),
            })
        })
        .collect()
}

/// Inputs of [`assemble_page`] that come from outside the bucket.
pub struct PageInputs {
    /// The ProwJob of this build, when the job store has it.
    pub prowjob: Option<ProwJob>,
    /// Logged-in user.
    pub user: Option<String>,
}

/// Build the full page of a build.
pub async fn assemble_page(ctx: &BuildCtx, inputs: PageInputs) -> PageTemplate {
    let sp = &ctx.config.prow.deck.spyglass;
    let (lenses, mut notes) = configured_lenses(sp);
    let names: Vec<&str> = ctx.artifacts.iter().map(|a| a.key.as_str()).collect();
    let applicable: Vec<(&ConfiguredLens, Vec<String>)> = lenses
        .iter()
        .filter_map(|l| l.matching(&names).map(|m| (l, m)))
        .collect();
    let bodies = futures::future::join_all(
        applicable
            .iter()
            .map(|(l, files)| render_lens(ctx, l, files)),
    );
    let has = |n: &str| names.contains(&n);
    let small = async {
        let finished = if has("finished.json") {
            ctx.read_json("finished.json").await.ok()
        } else {
            None
        };
        let started = if has("started.json") {
            ctx.read_json("started.json").await.ok()
        } else {
            None
        };
        (finished, started)
    };
    let (bodies, (finished, started)) = futures::join!(bodies, small);
    let sections = applicable
        .iter()
        .zip(bodies)
        .map(|((l, _), body)| LensSection {
            id: format!("lens-{}-{}", l.kind.name(), l.index),
            title: l.kind.title().to_string(),
            hide_title: l.kind.hide_title(),
            body,
        })
        .collect::<Vec<_>>();

    let src = &ctx.src;
    let pj = inputs.prowjob.as_ref();
    let state = build_state(pj, finished.as_ref(), started.is_some());
    let (default_org, default_repo) = default_org_repo(&ctx.config);
    let info = path_info(src, &default_org, &default_repo);
    let mut links = Vec::new();
    if let Some(h) = &info.job_history {
        links.push(HeaderLink {
            label: "Job history".into(),
            href: path_escape(h),
        });
    }
    let (mut org, mut repo) = (String::new(), String::new());
    if let Some((o, r, n)) = &info.pr {
        org = o.clone();
        repo = r.clone();
        if !sp.hide_pr_history_link {
            let tpl = if sp.pr_history_link_template.is_empty() {
                "/pr-history?org={{.Org}}&repo={{.Repo}}&pr={{.Number}}"
            } else {
                sp.pr_history_link_template.as_str()
            };
            links.push(HeaderLink {
                label: "PR history".into(),
                href: tpl
                    .replace("{{.Org}}", &query_escape(o))
                    .replace("{{.Repo}}", &query_escape(r))
                    .replace("{{.Number}}", &n.to_string()),
            });
        }
    }
    if let Some(pj) = pj {
        if let Some(link) = pj
            .spec
            .refs
            .as_ref()
            .and_then(|r| r.pulls.first())
            .map(|p| p.link.clone())
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        {
            links.push(HeaderLink {
                label: "Pull request".into(),
                href: link,
            });
        }
        links.push(HeaderLink {
            label: "ProwJob YAML".into(),
            href: format!("/prowjob?prowjob={}", query_escape(pj.name())),
        });
    }
    let browser = gcs_browser_prefix(sp, &org, &repo, &src.bucket);
    if !browser.is_empty() && src.provider != prow_storage::Provider::File {
        let mut href = format!("{browser}{}", src.run_path());
        if !href.ends_with('/') {
            href.push('/');
        }
        links.push(HeaderLink {
            label: "Artifacts".into(),
            href,
        });
    } else {
        links.push(HeaderLink {
            label: "Artifacts".into(),
            href: "#artifacts".into(),
        });
    }
    let announcement = sp
        .announcement
        .replace("{{.ArtifactPath}}", &src.run_path())
        .replace("{{ .ArtifactPath }}", &src.run_path());
    if ctx.artifacts.is_empty() {
        notes.push("No artifacts were found for this build.".into());
    }
    let artifacts = ctx
        .artifacts
        .iter()
        .take(MAX_LISTED_ARTIFACTS)
        .map(|a| ArtifactRow {
            name: a.key.clone(),
            size: human_bytes(a.size),
            href: raw_url(src, &a.key),
        })
        .collect();
    PageTemplate {
        title: format!("{} #{}", src.job_name(), src.build_id()),
        job: src.job_name().to_string(),
        build: src.build_id().to_string(),
        state_class: state_class(&state).to_string(),
        state,
        links,
        extra_links: started.as_ref().map(extra_links).unwrap_or_default(),
        announcement,
        notes,
        lenses: sections,
        artifacts,
        artifacts_more: ctx.artifacts.len().saturating_sub(MAX_LISTED_ARTIFACTS),
        user: inputs.user,
        dest: src.view_path(),
        src: src.src(),
    }
}

/// `default_org`/`default_repo` of the `*` default decoration config (Prow's
/// `GuessDefaultDecorationConfig("", "")`).
pub fn default_org_repo(cfg: &Config) -> (String, String) {
    let plank = &cfg.prow.plank;
    let gcs = plank
        .default_decoration_config_entries
        .iter()
        .filter(|e| {
            matches!(e.org_repo.as_str(), "" | "*") && matches!(e.cluster.as_str(), "" | "*")
        })
        .filter_map(|e| e.config.as_ref())
        .chain(plank.default_decoration_configs.get("*"))
        .filter_map(|d| d.gcs_configuration.as_ref())
        .next();
    gcs.map(|g| (g.default_org.clone(), g.default_repo.clone()))
        .unwrap_or_default()
}

/// Look a build up in the job store by job name and build ID.
pub async fn find_prowjob(
    store: &dyn prow_jobstore::JobStore,
    job: &str,
    build: &str,
) -> Option<ProwJob> {
    let mut params = prow_jobstore::ListParams::with_labels(&format!(
        "{}={build}",
        prow_api::labels::PROW_BUILD_ID
    ))
    .ok()?;
    params.job_name = Some(job.to_string());
    match store.list(&params).await {
        Ok(list) => list
            .items
            .into_iter()
            .rev()
            .find(|j| j.spec.job == job && j.status.build_id == build),
        Err(e) => {
            tracing::debug!(error = %e, job, build, "spyglass: job store lookup failed");
            None
        }
    }
}

/// Group artifacts by lens for the `/spyglass/lens` endpoint.
pub fn lens_by_name(config: &Config, name: &str, index: Option<usize>) -> Option<ConfiguredLens> {
    let (lenses, _) = configured_lenses(&config.prow.deck.spyglass);
    let kind = LensKind::from_name(name)?;
    lenses
        .into_iter()
        .filter(|l| l.kind == kind)
        .find(|l| index.is_none_or(|i| l.index == i))
        .or_else(|| {
            // Not configured at that index: use the lens with default settings.
            let (defaults, _) = configured_lenses(&prow_config::prow::Spyglass::default());
            defaults.into_iter().find(|l| l.kind == kind)
        })
}
