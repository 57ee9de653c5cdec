//! Server-rendered pages: view models built from jobs/config/Tide/plugin help (pure functions)
//! and their askama templates.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState};

/// What every page's header needs.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// `<title>`.
    pub title: String,
    /// Which nav entry is current.
    pub section: String,
    /// Logged-in login.
    pub login: Option<String>,
    /// CSRF token for `<meta name="csrf-token">`.
    pub csrf: Option<String>,
    /// Where the login link returns to (URL-encoded path).
    pub dest: String,
    /// A warning shown under the header ([`crate::DeckOptions::warning_banner`]).
    pub banner: Option<String>,
}

/// Percent-encodes a query value (like JavaScript's `encodeURIComponent`, `/` included).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `time.Duration.String()` rounded to seconds (`1h2m3s`, `45s`, `0s`).
pub fn format_duration(secs: i64) -> String {
    if secs <= 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// Filters of the jobs page and `/prowjobs.js` (the latter also takes Prow's `org`, `repo`
/// and `owner`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQuery {
    /// `type`.
    pub job_type: String,
    /// `repo`: `org/repo`, or (Prow's `/prowjobs.js` form) just the repo name.
    pub repo: String,
    /// `org` (exact).
    pub org: String,
    /// `author` / `owner`: a PR author.
    pub author: String,
    /// `job`: substring, or a glob when it has `*`, `?` or `[`.
    pub job: String,
    /// `state`.
    pub state: String,
    /// `cluster`.
    pub cluster: String,
}

impl JobQuery {
    /// From query parameters.
    pub fn from_params(q: &BTreeMap<String, String>) -> Self {
        let get = |k: &str| q.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
        let mut author = get("author");
        if author.is_empty() {
            author = get("owner");
        }
        JobQuery {
            job_type: get("type"),
            repo: get("repo"),
            org: get("org"),
            author,
            job: get("job"),
            state: get("state"),
            cluster: get("cluster"),
        }
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        *self == JobQuery::default()
    }

    /// Compiles the job-name matcher once per request.
    pub fn matcher(&self) -> JobMatcher<'_> {
        let glob = if self.job.contains(['*', '?', '[']) {
            globset::GlobBuilder::new(&self.job)
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        } else {
            None
        };
        JobMatcher { q: self, glob }
    }
}

/// A [`JobQuery`] ready to test jobs.
pub struct JobMatcher<'a> {
    q: &'a JobQuery,
    glob: Option<globset::GlobMatcher>,
}

impl JobMatcher<'_> {
    /// Whether `pj` passes every filter.
    pub fn matches(&self, pj: &ProwJob) -> bool {
        let q = self.q;
        let refs: Vec<&prow_api::Refs> = match &pj.spec.refs {
            Some(r) => vec![r],
            None => pj.spec.extra_refs.iter().collect(),
        };
        if !q.job_type.is_empty()
            && pj.spec.job_type.map(|t| t.as_str()).unwrap_or("") != q.job_type
        {
            return false;
        }
        if !q.state.is_empty() && pj.status.state.as_str() != q.state {
            return false;
        }
        if !q.cluster.is_empty() && pj.spec.cluster != q.cluster {
            return false;
        }
        if !q.org.is_empty() && !refs.iter().any(|r| r.org == q.org) {
            return false;
        }
        if !q.repo.is_empty() {
            let ok = if q.repo.contains('/') {
                refs.iter()
                    .any(|r| format!("{}/{}", r.org, r.repo) == q.repo)
            } else {
                refs.iter().any(|r| r.repo == q.repo)
            };
            if !ok {
                return false;
            }
        }
        if !q.author.is_empty()
            && !pj
                .spec
                .refs
                .iter()
                .flat_map(|r| r.pulls.iter())
                .any(|p| p.author == q.author)
        {
            return false;
        }
        if !q.job.is_empty() {
            let ok = match &self.glob {
                Some(g) => g.is_match(&pj.spec.job),
                None => pj.spec.job.contains(&q.job),
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// One PR in a row.
#[derive(Clone, Debug)]
pub struct RowPull {
    /// PR number.
    pub number: u64,
    /// Short head SHA.
    pub sha: String,
    /// PR link.
    pub link: String,
    /// Author.
    pub author: String,
}

/// One job row.
#[derive(Clone, Debug)]
pub struct JobRow {
    /// ProwJob name.
    pub name: String,
    /// State (wire spelling, `unknown` when unset).
    pub state: String,
    /// Status description.
    pub description: String,
    /// Job name.
    pub job: String,
    /// Link to the job's page (status.url).
    pub link: String,
    /// `presubmit`, …
    pub job_type: String,
    /// `org/repo`.
    pub repo: String,
    /// Repo link.
    pub repo_link: String,
    /// Base ref and short SHA (when no PRs).
    pub base: String,
    /// PRs under test.
    pub pulls: Vec<RowPull>,
    /// Start time for display.
    pub started: String,
    /// Start time, RFC 3339.
    pub started_iso: String,
    /// Duration (running jobs: so far).
    pub duration: String,
    /// Build cluster.
    pub cluster: String,
    /// Whether the abort button applies (triggered or pending).
    pub abortable: bool,
}

fn short(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// The row of one job.
pub fn job_row(pj: &ProwJob, github_host: &str, now: DateTime<Utc>) -> JobRow {
    let refs = pj.spec.refs.as_ref().or(pj.spec.extra_refs.first());
    let (repo, repo_link, base, pulls) = match refs {
        Some(r) => {
            let repo = format!("{}/{}", r.org, r.repo);
            let repo_link = if r.repo_link.is_empty() {
                format!("https://{github_host}/{repo}")
            } else {
                r.repo_link.clone()
            };
            let pulls = r
                .pulls
                .iter()
                .map(|p| RowPull {
                    number: p.number,
                    sha: short(&p.sha),
                    link: if p.link.is_empty() {
                        format!("https://{github_host}/{repo}/pull/{}", p.number)
                    } else {
                        p.link.clone()
                    },
                    author: p.author.clone(),
                })
                .collect();
            let base = if r.base_sha.is_empty() {
                r.base_ref.clone()
            } else {
                format!("{} ({})", r.base_ref, short(&r.base_sha))
            };
            (repo, repo_link, base, pulls)
        }
        None => (String::new(), String::new(), String::new(), Vec::new()),
    };
    let start = pj.status.start_time;
    let end = pj
        .status
        .completion_time
        .or_else(|| (!pj.status.state.is_final()).then_some(now));
    let duration = match (start, end) {
        (Some(s), Some(e)) => format_duration((e - s).num_seconds()),
        _ => String::new(),
    };
    let state = match pj.status.state {
        ProwJobState::Unset => "unknown".to_owned(),
        s => s.as_str().to_owned(),
    };
    JobRow {
        name: pj.name().to_owned(),
        abortable: matches!(
            pj.status.state,
            ProwJobState::Triggered | ProwJobState::Pending
        ),
        state,
        description: pj.status.description.clone(),
        job: pj.spec.job.clone(),
        link: pj.status.url.clone(),
        job_type: pj
            .spec
            .job_type
            .map(|t| t.as_str())
            .unwrap_or("")
            .to_owned(),
        repo,
        repo_link,
        base,
        pulls,
        started: start
            .map(|s| s.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default(),
        started_iso: start.map(|s| s.to_rfc3339()).unwrap_or_default(),
        duration,
        cluster: pj.spec.cluster.clone(),
    }
}

/// A filter control.
#[derive(Clone, Debug)]
pub struct FilterBox {
    /// Query parameter.
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// Choices.
    pub options: Vec<String>,
    /// Current value.
    pub selected: String,
    /// Free text (with suggestions) instead of a select.
    pub free_text: bool,
}

/// How many suggestions a free-text filter offers.
const MAX_SUGGESTIONS: usize = 300;

/// The filter controls, with choices from all visible jobs.
pub fn filter_boxes<'a>(jobs: impl Iterator<Item = &'a ProwJob>, q: &JobQuery) -> Vec<FilterBox> {
    let mut types = BTreeSet::new();
    let mut repos = BTreeSet::new();
    let mut authors = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut clusters = BTreeSet::new();
    for pj in jobs {
        if let Some(t) = pj.spec.job_type {
            types.insert(t.as_str());
        }
        if let Some(r) = pj.spec.refs.as_ref().or(pj.spec.extra_refs.first()) {
            if !repos.contains(&(r.org.as_str(), r.repo.as_str())) {
                repos.insert((r.org.as_str(), r.repo.as_str()));
            }
            for p in &r.pulls {
                if authors.len() < MAX_SUGGESTIONS {
                    authors.insert(p.author.as_str());
                }
            }
        }
        if names.len() < MAX_SUGGESTIONS {
            names.insert(pj.spec.job.as_str());
        }
        clusters.insert(pj.spec.cluster.as_str());
    }
    let own = |s: BTreeSet<&str>| -> Vec<String> {
        s.into_iter()
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    vec![
        FilterBox {
            name: "type",
            label: "Type",
            options: own(types),
            selected: q.job_type.clone(),
            free_text: false,
        },
        FilterBox {
            name: "repo",
            label: "Repo",
            options: repos.into_iter().map(|(o, r)| format!("{o}/{r}")).collect(),
            selected: q.repo.clone(),
            free_text: false,
        },
        FilterBox {
            name: "author",
            label: "Author",
            options: own(authors),
            selected: q.author.clone(),
            free_text: true,
        },
        FilterBox {
            name: "job",
            label: "Job",
            options: own(names),
            selected: q.job.clone(),
            free_text: true,
        },
        FilterBox {
            name: "state",
            label: "State",
            options: ProwJobState::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            selected: q.state.clone(),
            free_text: false,
        },
        FilterBox {
            name: "cluster",
            label: "Cluster",
            options: own(clusters),
            selected: q.cluster.clone(),
            free_text: false,
        },
    ]
}

/// Ten log-scale duration buckets (1 s … ~1 day) as percentages of the fullest one.
pub fn histogram<'a>(jobs: impl Iterator<Item = &'a ProwJob>) -> Vec<u32> {
    let mut buckets = [0u32; 10];
    let mut any = false;
    for pj in jobs {
        if let (Some(s), Some(e)) = (pj.status.start_time, pj.status.completion_time) {
            let secs = (e - s).num_seconds().max(1) as f64;
            // log10(86400) ≈ 4.94: spread 1 s .. 1 day over 10 buckets.
            let i = ((secs.log10() / 4.94) * 10.0).floor().clamp(0.0, 9.0) as usize;
            buckets[i] += 1;
            any = true;
        }
    }
    if !any {
        return Vec::new();
    }
    let max = buckets.iter().copied().max().unwrap_or(1).max(1);
    buckets.iter().map(|b| (b * 100 / max).max(2)).collect()
}

/// `/`.
#[derive(Template)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    pub layout: Layout,
    /// Link to the same view with more rows, when rows were cut.
    pub more_link: Option<String>,
    pub filters: Vec<FilterBox>,
    pub rows: Vec<JobRow>,
    pub matched: usize,
    pub total: usize,
    pub counts: Vec<(String, usize)>,
    pub histogram: Vec<u32>,
    pub limit: usize,
    pub refresh_secs: u64,
    pub github_host: String,
    /// Spyglass is on: jobs without a URL link to `/view/prowjob/<job>/<build>`.
    pub spyglass: bool,
}

/// A minified Tide PR.
#[derive(Clone, Debug)]
pub struct TidePr {
    pub number: u64,
    pub title: String,
}

/// One pool row.
#[derive(Clone, Debug)]
pub struct PoolRow {
    pub org: String,
    pub repo: String,
    pub branch: String,
    pub action: String,
    pub error: String,
    pub target: Vec<TidePr>,
    pub success: Vec<TidePr>,
    pub pending: Vec<TidePr>,
    pub missing: Vec<TidePr>,
    pub batch: Vec<TidePr>,
}

fn prs(v: &serde_json::Value, k: &str) -> Vec<TidePr> {
    v.get(k)
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .map(|p| TidePr {
                    number: p.get("Number").and_then(|n| n.as_u64()).unwrap_or(0),
                    title: p
                        .get("Title")
                        .and_then(|t| t.as_str())
                        .unwrap_or("")
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn vs(v: &serde_json::Value, k: &str) -> String {
    v.get(k).and_then(|s| s.as_str()).unwrap_or("").to_owned()
}

/// Rows from minified pools (the `/tide.js` `Pools`).
pub fn pool_rows(pools: &[serde_json::Value]) -> Vec<PoolRow> {
    pools
        .iter()
        .map(|p| PoolRow {
            org: vs(p, "Org"),
            repo: vs(p, "Repo"),
            branch: vs(p, "Branch"),
            action: vs(p, "Action"),
            error: vs(p, "Error"),
            target: prs(p, "Target"),
            success: prs(p, "SuccessPRs"),
            pending: prs(p, "PendingPRs"),
            missing: prs(p, "MissingPRs"),
            batch: prs(p, "BatchPending"),
        })
        .collect()
}

/// `/tide`.
#[derive(Template)]
#[template(path = "tide.html")]
pub struct TidePage {
    pub layout: Layout,
    pub error: Option<String>,
    pub queries: Vec<String>,
    pub pools: Vec<PoolRow>,
    pub github_host: String,
}

/// One Tide history record row.
#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub time: String,
    pub pool: String,
    pub org_repo: String,
    pub action: String,
    pub base_sha: String,
    pub targets: Vec<(u64, String)>,
    pub err: String,
}

/// Rows of `/tide-history`, newest first, filtered by repo/branch/action.
pub fn history_rows(
    hist: &serde_json::Map<String, serde_json::Value>,
    repo: &str,
    branch: &str,
    action: &str,
) -> (Vec<HistoryRow>, Vec<String>, Vec<String>, Vec<String>) {
    let (mut repos, mut branches, mut actions) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut rows = Vec::new();
    for (pool, records) in hist {
        let (org_repo, br) = pool.split_once(':').unwrap_or((pool.as_str(), ""));
        repos.insert(org_repo.to_owned());
        branches.insert(br.to_owned());
        for r in records.as_array().into_iter().flatten() {
            let act = vs(r, "action");
            actions.insert(act.clone());
            if (!repo.is_empty() && repo != org_repo)
                || (!branch.is_empty() && branch != br)
                || (!action.is_empty() && action != act)
            {
                continue;
            }
            rows.push(HistoryRow {
                time: vs(r, "time"),
                pool: pool.clone(),
                org_repo: org_repo.to_owned(),
                action: act,
                base_sha: short(&vs(r, "baseSHA")),
                targets: r
                    .get("target")
                    .and_then(|t| t.as_array())
                    .map(|a| {
                        a.iter()
                            .map(|p| {
                                (
                                    p.get("number").and_then(|n| n.as_u64()).unwrap_or(0),
                                    vs(p, "title"),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                err: vs(r, "err"),
            });
        }
    }
    // RFC 3339 strings of one zone sort chronologically.
    rows.sort_by(|a, b| b.time.cmp(&a.time));
    (
        rows,
        repos.into_iter().collect(),
        branches.into_iter().filter(|b| !b.is_empty()).collect(),
        actions.into_iter().filter(|a| !a.is_empty()).collect(),
    )
}

/// `/tide-history`.
#[derive(Template)]
#[template(path = "tide_history.html")]
pub struct TideHistoryPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub records: Vec<HistoryRow>,
    pub repos: Vec<String>,
    pub branches: Vec<String>,
    pub actions: Vec<String>,
    pub repo: String,
    pub branch: String,
    pub action: String,
    pub github_host: String,
}

/// `/command-help`.
#[derive(Template)]
#[template(path = "command_help.html")]
pub struct CommandHelpPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub commands: Vec<crate::pluginhelp::CommandRow>,
    pub repos: Vec<String>,
    pub repo: String,
}

/// `/plugins`.
#[derive(Template)]
#[template(path = "plugins.html")]
pub struct PluginsPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub plugins: Vec<crate::pluginhelp::PluginRow>,
}

/// One configured job.
#[derive(Clone, Debug)]
pub struct ConfiguredJob {
    pub name: String,
    pub job_type: String,
    pub repo: String,
    pub trigger: String,
    pub branches: String,
    pub cluster: String,
}

/// Repos with jobs (index) or the jobs of an org / repo.
pub fn configured_jobs(
    cfg: &prow_config::Config,
    org: &str,
    repo: &str,
) -> (Vec<String>, Vec<ConfiguredJob>) {
    let wanted = |org_repo: &str| -> bool {
        let (o, r) = org_repo.split_once('/').unwrap_or((org_repo, ""));
        o == org && (repo.is_empty() || r == repo)
    };
    if org.is_empty() {
        let mut orgs: BTreeSet<String> = cfg
            .jobs
            .all_repos()
            .into_iter()
            .map(|r| r.to_owned())
            .collect();
        orgs.extend(
            cfg.jobs
                .periodics
                .iter()
                .flat_map(|p| p.base.utility.extra_refs.iter())
                .map(|r| format!("{}/{}", r.org, r.repo)),
        );
        return (orgs.into_iter().collect(), Vec::new());
    }
    let branches = |b: &prow_config::Brancher| -> String {
        let mut s = Vec::new();
        if !b.branches.is_empty() {
            s.push(format!("only {}", b.branches.join(", ")));
        }
        if !b.skip_branches.is_empty() {
            s.push(format!("not {}", b.skip_branches.join(", ")));
        }
        s.join("; ")
    };
    let mut jobs = Vec::new();
    for (r, ps) in &cfg.jobs.presubmits {
        if !wanted(r) {
            continue;
        }
        for p in ps {
            jobs.push(ConfiguredJob {
                name: p.base.name.clone(),
                job_type: "presubmit".into(),
                repo: r.clone(),
                trigger: if p.always_run {
                    "always".into()
                } else {
                    p.rerun_command.clone()
                },
                branches: branches(&p.brancher),
                cluster: p.base.cluster.clone(),
            });
        }
    }
    for (r, ps) in &cfg.jobs.postsubmits {
        if !wanted(r) {
            continue;
        }
        for p in ps {
            jobs.push(ConfiguredJob {
                name: p.base.name.clone(),
                job_type: "postsubmit".into(),
                repo: r.clone(),
                trigger: "push".into(),
                branches: branches(&p.brancher),
                cluster: p.base.cluster.clone(),
            });
        }
    }
    for p in &cfg.jobs.periodics {
        if let Some(r) = p
            .base
            .utility
            .extra_refs
            .iter()
            .map(|r| format!("{}/{}", r.org, r.repo))
            .find(|r| wanted(r))
        {
            jobs.push(ConfiguredJob {
                name: p.base.name.clone(),
                job_type: "periodic".into(),
                repo: r,
                trigger: if p.cron.is_empty() {
                    format!("every {}", p.interval)
                } else {
                    format!("cron {}", p.cron)
                },
                branches: String::new(),
                cluster: p.base.cluster.clone(),
            });
        }
    }
    jobs.sort_by(|a, b| a.repo.cmp(&b.repo).then_with(|| a.name.cmp(&b.name)));
    (Vec::new(), jobs)
}

/// `/configured-jobs/…`.
#[derive(Template)]
#[template(path = "configured_jobs.html")]
pub struct ConfiguredJobsPage {
    pub layout: Layout,
    pub scope: String,
    pub repos: Vec<String>,
    pub jobs: Vec<ConfiguredJob>,
}

/// One build row of the history pages.
#[derive(Clone, Debug)]
pub struct BuildRow {
    pub id: String,
    pub link: String,
    pub result: String,
    pub state: String,
    pub started: String,
    pub duration: String,
    pub commit: String,
}

/// A history build as a row.
pub fn build_row(b: &crate::history::Build) -> BuildRow {
    let state = match b.result.as_str() {
        "SUCCESS" => "success",
        "FAILURE" => "failure",
        "ABORTED" => "aborted",
        "ERROR" => "error",
        "Pending" => "pending",
        _ => "unknown",
    };
    BuildRow {
        id: b.id.clone(),
        link: b.spyglass_link.clone(),
        result: b.result.clone(),
        state: state.into(),
        started: b
            .started
            .map(|s| s.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default(),
        duration: b.duration_secs.map(format_duration).unwrap_or_default(),
        commit: short(&b.commit),
    }
}

/// `/job-history/…`.
#[derive(Template)]
#[template(path = "job_history.html")]
pub struct JobHistoryPage {
    pub layout: Layout,
    pub name: String,
    pub provider: String,
    pub bucket: String,
    pub shown: usize,
    pub total: usize,
    pub latest_link: Option<String>,
    pub newer_link: Option<String>,
    pub older_link: Option<String>,
    pub builds: Vec<BuildRow>,
}

/// One commit of `/pr-history`.
#[derive(Clone, Debug)]
pub struct CommitView {
    pub short: String,
    pub link: String,
    pub builds: Vec<(String, Vec<BuildRow>)>,
}

/// `/pr-history`.
#[derive(Template)]
#[template(path = "pr_history.html")]
pub struct PrHistoryPage {
    pub layout: Layout,
    pub name: String,
    pub link: String,
    pub jobs: Vec<(String, String)>,
    pub commits: Vec<CommitView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(59), "59s");
        assert_eq!(format_duration(61), "1m1s");
        assert_eq!(format_duration(3723), "1h2m3s");
    }

    #[test]
    fn query_matching() {
        let mut pj = ProwJob::default();
        pj.spec.job = "pull-test-unit".into();
        pj.spec.job_type = Some(prow_api::ProwJobType::Presubmit);
        pj.spec.refs = Some(prow_api::Refs {
            org: "o".into(),
            repo: "r".into(),
            pulls: vec![prow_api::Pull {
                number: 1,
                author: "alice".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        let q = |pairs: &[(&str, &str)]| {
            JobQuery::from_params(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert!(q(&[]).matcher().matches(&pj));
        assert!(q(&[("repo", "o/r")]).matcher().matches(&pj));
        assert!(q(&[("repo", "r"), ("org", "o")]).matcher().matches(&pj));
        assert!(!q(&[("repo", "o/x")]).matcher().matches(&pj));
        assert!(q(&[("owner", "alice")]).matcher().matches(&pj));
        assert!(!q(&[("author", "bob")]).matcher().matches(&pj));
        assert!(q(&[("job", "test")]).matcher().matches(&pj));
        assert!(q(&[("job", "pull-*-unit")]).matcher().matches(&pj));
        assert!(!q(&[("job", "post-*")]).matcher().matches(&pj));
        assert!(q(&[("type", "presubmit")]).matcher().matches(&pj));
        assert!(!q(&[("state", "success")]).matcher().matches(&pj));
    }
}
