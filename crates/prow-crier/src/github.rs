//! The GitHub reporter (`github-reporter`, spec §6.2): one commit status per job and the single
//! failure-table comment per pull request.
//!
//! The decisions are pure functions ([`status_for`], [`parse_issue_comments`], [`create_comment`],
//! [`context_description_with_base_sha`]…) ported from Prow's `pkg/github/report`; the I/O shell
//! is [`GitHubReporter`], which serializes the comment's read-modify-write per pull request.
//!
//! Both writes are idempotent, so a report repeated after a crash (GitHub written, the state not
//! yet recorded in `prev_report_states`) changes nothing: the first status write per job and
//! process is preceded by a read of the commit's statuses, and a comment that already carries
//! the rows is left alone (see [`GitHubReporter`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use prow_api::labels;
use prow_api::{ProwJob, ProwJobState, ProwJobType, Refs};
use prow_config::prow::{GitHubReporter as GitHubReporterConfig, Plank};
use prow_github::{GitHub, GitHubError, IssueComment, Status};
use prow_jobstore::selector::Requirement;
use prow_jobstore::{JobStore, LabelSelector, ListParams};

use crate::{ConfigGetter, Reporter};

/// The reporter's name, the key in `status.prev_report_states`.
pub const REPORTER_NAME: &str = "github-reporter";

/// Hidden marker identifying the bot's test-report comment.
pub const COMMENT_TAG: &str = "<!-- test report -->";

/// Maximum length (bytes, as Go counts) of a status description.
const DESCRIPTION_MAX_LEN: usize = 140;
/// Separator Tide looks for to read the base SHA back.
pub const BASE_SHA_DELIMITER: &str = " BaseSHA:";
const ELIDE: &str = " ... ";

/// Types reported when `github_reporter.job_types_to_report` is unset.
const DEFAULT_TYPES: [ProwJobType; 2] = [ProwJobType::Presubmit, ProwJobType::Postsubmit];

/// The GitHub commit-status state for a job state (`None` for states GitHub has no word for).
pub fn github_state(state: ProwJobState) -> Option<&'static str> {
    match state {
        ProwJobState::Triggered | ProwJobState::Pending => Some("pending"),
        ProwJobState::Success => Some("success"),
        ProwJobState::Failure | ProwJobState::Aborted => Some("failure"),
        ProwJobState::Error => Some("error"),
        ProwJobState::Unset | ProwJobState::Scheduling => None,
    }
}

/// Cuts `s` to at most `max` bytes by eliding the middle with ` ... ` (Prow's `truncate`), on
/// character boundaries so multi-byte text never splits.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let half = max.saturating_sub(ELIDE.len()) / 2;
    let head = s.floor_char_boundary(half);
    let tail = s.ceil_char_boundary(s.len() - half);
    format!("{}{ELIDE}{}", &s[..head], &s[tail..])
}

/// Prow's `ContextDescriptionWithBaseSha`: the description left-padded with U+2001 (GitHub
/// collapses plain spaces) so the ` BaseSHA:<sha>` suffix sits at a stable position within 140
/// bytes, the human part elided in the middle when too long. No suffix without a base SHA.
pub fn context_description_with_base_sha(human: &str, base_sha: &str) -> String {
    let mut suffix = String::new();
    if !base_sha.is_empty() {
        suffix = format!("{BASE_SHA_DELIMITER}{base_sha}");
        // Same loop as Go's: the bound is re-evaluated as the suffix grows (3 bytes per pad).
        let mut i = 0usize;
        while i + human.len() + suffix.len() < DESCRIPTION_MAX_LEN {
            suffix.insert(0, '\u{2001}');
            i += 1;
        }
    }
    let room = DESCRIPTION_MAX_LEN.saturating_sub(suffix.len());
    truncate(human, room) + &suffix
}

/// The base SHA encoded in a status description by [`context_description_with_base_sha`]
/// (legacy ` Basesha:` accepted); empty when there is none.
pub fn base_sha_from_context_description(description: &str) -> String {
    for delim in [BASE_SHA_DELIMITER, " Basesha:"] {
        let parts: Vec<&str> = description.split(delim).collect();
        if parts.len() == 2 && parts[1].len() == 40 {
            return parts[1].to_owned();
        }
    }
    String::new()
}

/// Prow's `report.ShouldReport`: `spec.report` and the type is one of `valid_types`.
pub fn type_should_report(pj: &ProwJob, valid_types: &[ProwJobType]) -> bool {
    pj.spec.report && pj.spec.job_type.is_some_and(|t| valid_types.contains(&t))
}

/// The reporter-level filter (Prow's `github.Client.ShouldReport`): `spec.report`, presubmit or
/// postsubmit, no Gerrit report label, and the agent matches `report_agent` when set.
pub fn should_report(pj: &ProwJob, report_agent: Option<&str>) -> bool {
    if !pj.spec.report {
        return false;
    }
    if pj
        .label(labels::GERRIT_REPORT_LABEL)
        .is_some_and(|v| !v.is_empty())
    {
        return false;
    }
    if !matches!(
        pj.spec.job_type,
        Some(ProwJobType::Presubmit | ProwJobType::Postsubmit)
    ) {
        return false;
    }
    match report_agent {
        Some(agent) if !agent.is_empty() => {
            pj.spec.agent.as_ref().map_or("", |a| a.as_str()) == agent
        }
        _ => true,
    }
}

/// A status to write: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWrite {
    /// Owner.
    pub org: String,
    /// Repository.
    pub repo: String,
    /// Commit: the first pull's head, else the base SHA.
    pub sha: String,
    /// The status body.
    pub status: Status,
}

fn job_types(cfg: &GitHubReporterConfig) -> &[ProwJobType] {
    match &cfg.job_types_to_report {
        Some(t) if !t.is_empty() => t,
        _ => &DEFAULT_TYPES,
    }
}

/// The status Prow's `ReportStatusContext` writes for `pj`, or `None` when it writes none
/// (type not reported, batch job with several pulls, no refs, a state GitHub has no word for).
pub fn status_for(pj: &ProwJob, cfg: &GitHubReporterConfig) -> Option<StatusWrite> {
    if !type_should_report(pj, job_types(cfg)) {
        return None;
    }
    let refs = pj.spec.refs.as_ref()?;
    // Batch jobs (several pulls) are never reported as statuses.
    if refs.pulls.len() > 1 {
        return None;
    }
    let state = github_state(pj.status.state)?;
    let sha = refs
        .pulls
        .first()
        .map_or(refs.base_sha.clone(), |p| p.sha.clone());
    Some(StatusWrite {
        org: refs.org.clone(),
        repo: refs.repo.clone(),
        sha,
        status: Status {
            state: state.to_owned(),
            target_url: Some(pj.status.url.clone()),
            description: Some(context_description_with_base_sha(
                &pj.status.description,
                &refs.base_sha,
            )),
            context: pj.spec.context.clone(),
        },
    })
}

/// Errors on status writes that retrying cannot fix (force-pushed SHA, status limit reached);
/// Prow swallows them.
pub fn is_unrecoverable_status_error(e: &GitHubError) -> bool {
    let msg = e.to_string();
    e.is_not_found()
        || msg.contains("This SHA and context has reached the maximum number of statuses")
        || msg.contains("No commit found for SHA")
}

/// What to do with the bot's report comments (Prow's `parseIssueComments`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentPlan {
    /// Comments to delete (older duplicates, or the latest when a new one replaces it).
    pub deletes: Vec<u64>,
    /// Table rows of the comment to write (empty: write nothing).
    pub entries: Vec<String>,
    /// The comment to edit in place; `None` means create a new one.
    pub update_id: Option<u64>,
}

/// Reads the table rows out of the bot's previous report comments, drops rows of the contexts
/// `pjs` now report (and older duplicates), adds a row per failed job, and decides which comments
/// to delete and whether to edit the latest or post anew (a new failure, or nothing left, means
/// the latest comment is deleted).
pub fn parse_issue_comments(
    pjs: &[ProwJob],
    is_bot: impl Fn(&str) -> bool,
    comments: &[IssueComment],
) -> CommentPlan {
    let mut previous = Vec::new();
    let mut latest: Option<u64> = None;
    let mut entries: Vec<String> = Vec::new();
    for ic in comments {
        if !is_bot(&ic.user.login) || !ic.body.contains(COMMENT_TAG) {
            continue;
        }
        if let Some(l) = latest {
            previous.push(l);
        }
        latest = Some(ic.id);
        entries.extend(table_rows(&ic.body).map(str::to_owned));
    }
    let contexts: Vec<&str> = pjs.iter().map(|p| p.spec.context.as_str()).collect();
    let first_field = |e: &str| e.split(" | ").next().unwrap_or("").to_owned();
    let mut new_entries = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let name = first_field(e);
        // A later row for the same test supersedes this one.
        let superseded = entries[i + 1..].iter().any(|o| first_field(o) == name);
        if !superseded && !contexts.contains(&name.as_str()) {
            new_entries.push(e.clone());
        }
    }
    let mut new_failure = false;
    for pj in pjs {
        if pj.status.state == ProwJobState::Failure {
            new_entries.push(create_entry(pj));
            new_failure = true;
        }
    }
    let mut deletes = previous;
    if let Some(l) = latest
        && (new_failure || new_entries.is_empty())
    {
        deletes.push(l);
        latest = None;
    }
    CommentPlan {
        deletes,
        entries: new_entries,
        update_id: latest,
    }
}

/// The table rows of a report comment: the non-empty lines after a `---` line, up to the next
/// empty line (Prow's parsing, so tables written by Prow are read back too).
fn table_rows(body: &str) -> impl Iterator<Item = &str> {
    let mut tracking = false;
    body.split('\n').filter_map(move |line| {
        let line = line.trim();
        if line.starts_with("---") {
            tracking = true;
        } else if line.is_empty() {
            tracking = false;
        } else if tracking {
            return Some(line);
        }
        None
    })
}

/// The bot's latest report comment: the one [`parse_issue_comments`] would edit or replace.
fn latest_report_comment(
    comments: &[IssueComment],
    is_bot: impl Fn(&str) -> bool,
) -> Option<&IssueComment> {
    comments
        .iter()
        .rev()
        .find(|c| is_bot(&c.user.login) && c.body.contains(COMMENT_TAG))
}

/// Drops the writes of `plan`/`body` that GitHub already reflects, so a report repeated after a
/// crash (the comment written, the state not yet recorded in `prev_report_states`) neither
/// re-posts nor changes the comment.
///
/// Prow re-posts (delete + create) on every new failure so the author gets a notification. When
/// the latest comment already carries exactly the rows the new one would have, the failure is
/// not new: the previous attempt posted it. Then the latest comment stays (older duplicates are
/// still deleted). An edit to an identical body is dropped as well. A row carries the job's
/// context, SHA and URL, and the URL names the build, so two different runs never share a row.
fn skip_repeated_writes(
    plan: &mut CommentPlan,
    body: &mut Option<String>,
    latest: Option<&IssueComment>,
) {
    let (Some(latest), Some(new_body)) = (latest, body.as_deref()) else {
        // Only deletions: repeating them finds the comments gone already.
        return;
    };
    match plan.update_id {
        Some(id) => {
            if id == latest.id && latest.body == new_body {
                *body = None;
            }
        }
        None => {
            let mut have: Vec<&str> = table_rows(&latest.body).collect();
            let mut want: Vec<&str> = plan.entries.iter().map(String::as_str).collect();
            have.sort_unstable();
            want.sort_unstable();
            if have == want {
                plan.deletes.retain(|d| *d != latest.id);
                *body = None;
            }
        }
    }
}

/// One table row: `context | sha | [link](url) | required | \`rerun_command\``. `required` is
/// the negated `prow.k8s.io/is-optional` label for presubmits, else `unknown`.
pub fn create_entry(pj: &ProwJob) -> String {
    let mut required = "unknown".to_owned();
    if pj.spec.job_type == Some(ProwJobType::Presubmit)
        && let Some(v) = pj.label(labels::IS_OPTIONAL)
        && let Ok(optional) = prow_runtime::parse_go_bool(v)
    {
        required = (!optional).to_string();
    }
    let sha = pj
        .spec
        .refs
        .as_ref()
        .and_then(|r| r.pulls.first())
        .map_or("", |p| p.sha.as_str());
    [
        pj.spec.context.clone(),
        sha.to_owned(),
        format!("[link]({})", pj.status.url),
        required,
        format!("`{}`", pj.spec.rerun_command),
    ]
    .join(" | ")
}

/// A failure-comment template could not be rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("report template: {0}")]
pub struct TemplateError(pub String);

/// Parses a Go template (`plank.report_templates`, Slack's `report_template`).
pub fn parse_template(text: &str) -> Result<gtmpl::Template, TemplateError> {
    // gtmpl hangs or panics on some malformed text; refuse that first.
    prow_config::gotemplate::check_template_text(text).map_err(TemplateError)?;
    let mut t = gtmpl::Template::default();
    t.parse(text).map_err(|e| TemplateError(e.to_string()))?;
    Ok(t)
}

/// Renders a Go template against a ProwJob with Go's field names (`.Spec.Job`, `.Status.URL`…).
pub fn render_template(t: &gtmpl::Template, pj: &ProwJob) -> Result<String, TemplateError> {
    t.render(&gtmpl::Context::from(prow_controller::joburl::go_value(pj)))
        .map_err(|e| TemplateError(e.to_string()))
}

/// `plank.report_templates` for the job's repo: `org/repo`, else `org`, else `*` (the legacy
/// `report_template` is folded into `*` by config defaulting). `None` when unset or empty.
pub fn report_template_for_repo<'a>(plank: &'a Plank, refs: Option<&Refs>) -> Option<&'a str> {
    let get = |k: &str| plank.report_templates.get(k).map(String::as_str);
    let found = match refs {
        Some(r) => get(&format!("{}/{}", r.org, r.repo))
            .or_else(|| get(&r.org))
            .or_else(|| get("*")),
        None => get("*"),
    };
    found
        .or_else(|| (!plank.report_template.is_empty()).then_some(plank.report_template.as_str()))
        .filter(|t| !t.is_empty())
}

/// The comment body (Prow's `createComment`): the failure table, or `all tests **passed!**`
/// when there are no entries; the rendered report template (over the first job), the about-bot
/// footer and [`COMMENT_TAG`]. Empty when `pjs` is.
pub fn create_comment(
    template: Option<&gtmpl::Template>,
    pjs: &[ProwJob],
    entries: &[String],
) -> Result<String, TemplateError> {
    let Some(first) = pjs.first() else {
        return Ok(String::new());
    };
    let rendered = template.map(|t| render_template(t, first)).transpose()?;
    let author = first
        .spec
        .refs
        .as_ref()
        .and_then(|r| r.pulls.first())
        .map_or("", |p| p.author.as_str());
    let plural = if entries.len() > 1 { "s" } else { "" };
    let mut lines: Vec<String> = if entries.is_empty() {
        vec![format!("@{author}: all tests **passed!**"), String::new()]
    } else {
        vec![
            format!(
                "@{author}: The following test{plural} **failed**, say `/retest` to rerun all failed tests or `/retest-required` to rerun all mandatory failed tests:"
            ),
            String::new(),
            "Test name | Commit | Details | Required | Rerun command".to_owned(),
            "--- | --- | --- | --- | ---".to_owned(),
        ]
    };
    lines.extend(entries.iter().cloned());
    if let Some(r) = rendered {
        lines.push(String::new());
        lines.push(r);
    }
    lines.extend([
        String::new(),
        "<details>".to_owned(),
        String::new(),
        prow_plugins::respond::about_this_bot(),
        "</details>".to_owned(),
        COMMENT_TAG.to_owned(),
    ]);
    Ok(lines.join("\n"))
}

/// Whether `org`/`org/repo` of `refs` is listed in `idents`.
fn repo_listed(idents: &[String], refs: &Refs) -> bool {
    let full = format!("{}/{}", refs.org, refs.repo);
    idents.iter().any(|i| *i == refs.org || *i == full)
}

/// The latest completed, reporting job per job name of a pull request, when every job of that
/// pull request is complete (Prow's `pjsToReport` for `summary_comment_repos`); empty while any
/// job still runs.
pub fn summary_jobs(all: &[ProwJob]) -> Vec<ProwJob> {
    if all.iter().any(|j| !j.complete()) {
        return Vec::new();
    }
    let mut latest: BTreeMap<&str, &ProwJob> = BTreeMap::new();
    for j in all.iter().filter(|j| j.spec.report) {
        let newer = latest.get(j.spec.job.as_str()).is_none_or(|e| {
            j.metadata.creation_timestamp.as_ref().map(|t| t.0)
                > e.metadata.creation_timestamp.as_ref().map(|t| t.0)
        });
        if newer {
            latest.insert(&j.spec.job, j);
        }
    }
    latest.into_values().cloned().collect()
}

/// Per-pull-request locks: the comment edit is read-modify-write, so two jobs of the same pull
/// request must not interleave. Entries are dropped when nobody holds or waits for them.
#[derive(Default)]
struct KeyedLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(key.to_owned()).or_default().clone()
    }

    fn release(&self, key: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Two references: the map's and ours; nobody else is waiting.
        if Arc::strong_count(&lock) == 2 {
            m.remove(key);
        }
    }
}

/// Entries per generation of [`RecentStatuses`].
const RECENT_STATUSES_PER_GENERATION: usize = 4096;

/// The status this process last saw on GitHub for each job it reported (written, or found
/// already there), by job name. Bounded: two generations, the older dropped when the newer
/// fills, so recently used jobs stay (an approximate LRU) and a forgotten job only costs one
/// extra read.
#[derive(Default)]
struct RecentStatuses {
    current: HashMap<String, StatusWrite>,
    previous: HashMap<String, StatusWrite>,
}

impl RecentStatuses {
    fn get(&mut self, job: &str) -> Option<StatusWrite> {
        if let Some(w) = self.current.get(job) {
            return Some(w.clone());
        }
        let w = self.previous.remove(job)?;
        self.insert(job, w.clone());
        Some(w)
    }

    fn insert(&mut self, job: &str, w: StatusWrite) {
        if self.current.len() >= RECENT_STATUSES_PER_GENERATION && !self.current.contains_key(job) {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(job.to_owned(), w);
    }
}

/// Whether a combined status already shows `w` for its context: same state, description and
/// target URL (a missing text and an empty one are the same to GitHub).
fn status_already_set(combined: &prow_github::CombinedStatus, w: &StatusWrite) -> bool {
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    combined.statuses.iter().any(|s| {
        s.context == w.status.context
            && s.state == w.status.state
            && text(&s.description) == text(&w.status.description)
            && text(&s.target_url) == text(&w.status.target_url)
    })
}

/// The `github-reporter`: writes statuses and maintains the failure comment.
///
/// Status writes are idempotent across crashes: the first time this process reports a job it
/// reads the commit's combined status and skips the write when the context already shows exactly
/// what it would write. A previous process may have written it and died before recording the
/// state in `prev_report_states`, and every write is a new entry in the status history (GitHub
/// caps it at 1000 per context). Jobs this process already reported skip the read: it knows
/// what it wrote, so a retry of the same state (say, after the comment failed) writes nothing.
pub struct GitHubReporter {
    gh: Arc<dyn GitHub>,
    config: ConfigGetter,
    store: Arc<dyn JobStore>,
    report_agent: Option<String>,
    dry_run: bool,
    locks: KeyedLocks,
    bot: tokio::sync::OnceCell<String>,
    recent: Mutex<RecentStatuses>,
}

impl GitHubReporter {
    /// A reporter writing through `gh`. `store` is read for `summary_comment_repos`;
    /// `report_agent` restricts reporting to one agent; `dry_run` logs instead of writing.
    pub fn new(
        gh: Arc<dyn GitHub>,
        config: ConfigGetter,
        store: Arc<dyn JobStore>,
        report_agent: Option<String>,
        dry_run: bool,
    ) -> Self {
        GitHubReporter {
            gh,
            config,
            store,
            report_agent,
            dry_run,
            locks: KeyedLocks::default(),
            bot: tokio::sync::OnceCell::new(),
            recent: Mutex::default(),
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, RecentStatuses> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn bot_login(&self) -> Result<&str, GitHubError> {
        self.bot
            .get_or_try_init(|| async { self.gh.bot_user().await.map(|u| u.login) })
            .await
            .map(String::as_str)
    }

    async fn report_status(&self, pj: &ProwJob, cfg: &GitHubReporterConfig) -> anyhow::Result<()> {
        let Some(w) = status_for(pj, cfg) else {
            return Ok(());
        };
        if self.dry_run {
            tracing::info!(sha = %w.sha, context = %w.status.context, state = %w.status.state, "dry-run: would create status");
            return Ok(());
        }
        let job = pj.name();
        let known = self.recent().get(job);
        match known {
            Some(prev) if prev == w => {
                tracing::debug!(sha = %w.sha, context = %w.status.context, "status already written by this process");
                return Ok(());
            }
            // Steady state: this process wrote the job's previous status, no read needed.
            Some(_) => {}
            None => {
                if self.status_on_github(&w).await? {
                    tracing::info!(sha = %w.sha, context = %w.status.context, state = %w.status.state, "status already on GitHub; not writing it again");
                    self.recent().insert(job, w);
                    return Ok(());
                }
            }
        }
        match self
            .gh
            .create_status(&w.org, &w.repo, &w.sha, &w.status)
            .await
        {
            Ok(()) => {}
            Err(e) if is_unrecoverable_status_error(&e) => {
                tracing::debug!(error = %e, "status cannot be written; not retrying");
            }
            Err(e) => return Err(anyhow::Error::new(e).context("error setting status")),
        }
        self.recent().insert(job, w);
        Ok(())
    }

    /// Whether the commit already shows `w` (see [`GitHubReporter`]). A commit GitHub does not
    /// know reads as "no": the write then fails the same way and is dropped as unrecoverable.
    async fn status_on_github(&self, w: &StatusWrite) -> anyhow::Result<bool> {
        match self.gh.get_combined_status(&w.org, &w.repo, &w.sha).await {
            Ok(combined) => Ok(status_already_set(&combined, w)),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(anyhow::Error::new(e).context("error reading statuses")),
        }
    }

    async fn report_comment(
        &self,
        pjs: &[ProwJob],
        cfg: &prow_config::Config,
        must_create: bool,
    ) -> anyhow::Result<()> {
        let gcfg = &cfg.prow.github_reporter;
        let valid: Vec<ProwJob> = pjs
            .iter()
            .filter(|p| type_should_report(p, job_types(gcfg)) && p.complete())
            .cloned()
            .collect();
        let Some(refs) = valid.first().and_then(|p| p.spec.refs.clone()) else {
            return Ok(());
        };
        let [pull] = refs.pulls.as_slice() else {
            return Ok(());
        };
        let template = report_template_for_repo(&cfg.prow.plank, Some(&refs))
            .map(parse_template)
            .transpose()?;
        let (org, repo, number) = (&refs.org, &refs.repo, pull.number);
        let comments = self.gh.list_issue_comments(org, repo, number).await?;
        let bot = self.bot_login().await?.to_owned();
        let is_bot = |l: &str| l == bot || l.strip_suffix("[bot]") == Some(bot.as_str());
        let mut plan = parse_issue_comments(&valid, is_bot, &comments);
        let aborted = valid
            .iter()
            .any(|p| p.status.state == ProwJobState::Aborted);
        let mut body = if !plan.entries.is_empty() || (must_create && !aborted) {
            Some(create_comment(template.as_ref(), &valid, &plan.entries)?)
        } else {
            None
        };
        skip_repeated_writes(
            &mut plan,
            &mut body,
            latest_report_comment(&comments, is_bot),
        );
        if self.dry_run {
            tracing::info!(deletes = ?plan.deletes, update = ?plan.update_id, comment = ?body, "dry-run: would update report comment");
            return Ok(());
        }
        // The new comment goes up before the old ones are deleted: a crash in between leaves two
        // comments, which the repeated report merges (rows of all are read back) and cleans up,
        // where the other order could lose the old rows.
        if let Some(body) = body {
            match plan.update_id {
                Some(id) => self.gh.edit_comment(org, repo, id, &body).await?,
                None => {
                    self.gh.create_comment(org, repo, number, &body).await?;
                }
            }
        }
        for id in &plan.deletes {
            match self.gh.delete_comment(org, repo, *id).await {
                Ok(()) => {}
                // Already gone (e.g. deleted by a previous attempt): nothing to do.
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(anyhow::Error::new(e).context("error deleting comment")),
            }
        }
        Ok(())
    }

    async fn report_inner(&self, pj: &ProwJob) -> anyhow::Result<()> {
        let cfg = (self.config)();
        self.report_status(pj, &cfg.prow.github_reporter).await?;
        if pj.spec.job_type != Some(ProwJobType::Presubmit) {
            // Comments need exactly one pull; only presubmits have one.
            return Ok(());
        }
        let Some(refs) = pj.spec.refs.as_ref() else {
            return Ok(());
        };
        let [pull] = refs.pulls.as_slice() else {
            return Ok(());
        };
        if repo_listed(&cfg.prow.github_reporter.no_comment_repos, refs) {
            return Ok(());
        }
        let key = format!("{}/{}#{}", refs.org, refs.repo, pull.number);
        let lock = self.locks.get(&key);
        let result = {
            let _guard = lock.lock().await;
            let mut to_report = vec![pj.clone()];
            let summary = repo_listed(&cfg.prow.github_reporter.summary_comment_repos, refs);
            if summary {
                to_report = self.pull_jobs(pj).await?;
            }
            self.report_comment(&to_report, &cfg, summary).await
        };
        self.locks.release(&key, lock);
        result
    }

    async fn pull_jobs(&self, pj: &ProwJob) -> anyhow::Result<Vec<ProwJob>> {
        let sel = [labels::ORG, labels::REPO, labels::PULL]
            .into_iter()
            .map(|l| Requirement::Equals(l.to_owned(), pj.label(l).unwrap_or("").to_owned()))
            .collect();
        let list = self
            .store
            .list(&ListParams {
                labels: LabelSelector(sel),
                ..ListParams::all()
            })
            .await?;
        Ok(summary_jobs(&list.items))
    }
}

#[async_trait]
impl Reporter for GitHubReporter {
    fn name(&self) -> &'static str {
        REPORTER_NAME
    }

    fn should_report(&self, pj: &ProwJob) -> bool {
        should_report(pj, self.report_agent.as_deref())
    }

    async fn report(&self, pj: &ProwJob) -> anyhow::Result<()> {
        self.report_inner(pj).await
    }
}

#[cfg(test)]
mod tests;
