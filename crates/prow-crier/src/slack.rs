//! The Slack reporter (`slackreporter`, spec §6.3): config resolution and `ShouldReport` as pure
//! functions, the message rendered from `report_template`, and a small `chat.postMessage` client
//! with one bot token per Slack host (workspace).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use prow_api::{ProwJob, Refs, SlackReporterConfig};
use prow_config::prow::SlackReporter;

use crate::github::{parse_template, render_template};
use crate::{ConfigGetter, Reporter};

/// The reporter's name, the key in `status.prev_report_states`.
pub const REPORTER_NAME: &str = "slackreporter";
/// The host a config without `host` (and a token file without `host=`) stands for.
pub const DEFAULT_HOST: &str = "*";
/// Prow's default `report_template`.
pub const DEFAULT_REPORT_TEMPLATE: &str = "Job {{.Spec.Job}} of type {{.Spec.Type}} ended with state {{.Status.State}}. <{{.Status.URL}}|View logs>";
/// Slack's Web API base URL.
pub const DEFAULT_API_BASE: &str = "https://slack.com/api";

/// The global config for a job's repo: `org/repo`, else `org`, else `*` (Prow's
/// `GetSlackReporter`); a default (reporting nothing) when none is configured.
pub fn global_config(cfgs: &BTreeMap<String, SlackReporter>, refs: Option<&Refs>) -> SlackReporter {
    let found = match refs {
        None => cfgs.get("*"),
        Some(r) => cfgs
            .get(&format!("{}/{}", r.org, r.repo))
            .or_else(|| cfgs.get(&r.org))
            .or_else(|| cfgs.get("*")),
    };
    found.cloned().unwrap_or_default()
}

/// The refs Slack config is chosen by: `refs`, else the first extra refs.
fn config_refs(pj: &ProwJob) -> Option<&Refs> {
    pj.spec.refs.as_ref().or(pj.spec.extra_refs.first())
}

/// Job settings over defaults (Prow's `SlackReporterConfig.ApplyDefault`): job fields win when
/// set. A job's `job_states_to_report: []` without `report` means `report: false`.
pub fn apply_default(
    job: Option<&SlackReporterConfig>,
    def: Option<&SlackReporterConfig>,
) -> Option<SlackReporterConfig> {
    let job = job.map(|j| {
        let mut j = j.clone();
        if j.report.is_none() && j.job_states_to_report.as_ref().is_some_and(Vec::is_empty) {
            j.report = Some(false);
            j.job_states_to_report = None;
        }
        j
    });
    match (job, def) {
        (None, None) => None,
        (Some(j), None) => Some(j),
        (None, Some(d)) => Some(d.clone()),
        (Some(mut m), Some(d)) => {
            if m.channel.is_empty() {
                m.channel = d.channel.clone();
            }
            if m.host.is_empty() {
                m.host = d.host.clone();
            }
            if m.job_states_to_report.is_none() {
                m.job_states_to_report = d.job_states_to_report.clone();
            }
            if m.report_template.is_empty() {
                m.report_template = d.report_template.clone();
            }
            if m.report.is_none() {
                m.report = d.report;
            }
            Some(m)
        }
    }
}

fn job_config(pj: &ProwJob) -> Option<&SlackReporterConfig> {
    pj.spec
        .reporter_config
        .as_ref()
        .and_then(|r| r.slack.as_ref())
}

/// Prow's `ShouldReport`: the state is in the merged `job_states_to_report` (and `report` is not
/// false) and either the type is in the global `job_types_to_report` or the job names a channel.
pub fn should_report(pj: &ProwJob, cfgs: &BTreeMap<String, SlackReporter>) -> bool {
    let global = global_config(cfgs, config_refs(pj));
    let job = job_config(pj);
    let type_ok = pj
        .spec
        .job_type
        .is_some_and(|t| global.job_types_to_report.contains(&t));
    let job_ok = job.is_some_and(|j| !j.channel.is_empty());
    let Some(merged) = apply_default(job, Some(&global.config)) else {
        return false;
    };
    let Some(states) = &merged.job_states_to_report else {
        return false;
    };
    if merged.report == Some(false) {
        return false;
    }
    states.contains(&pj.status.state) && (type_ok || job_ok)
}

/// The merged config a message is sent with, `host` defaulted to `*` and an empty template to
/// Prow's default.
pub fn resolve(pj: &ProwJob, cfgs: &BTreeMap<String, SlackReporter>) -> SlackReporterConfig {
    let global = global_config(cfgs, config_refs(pj));
    let mut m = apply_default(job_config(pj), Some(&global.config)).unwrap_or_default();
    if m.host.is_empty() {
        m.host = DEFAULT_HOST.to_owned();
    }
    if m.report_template.is_empty() {
        m.report_template = DEFAULT_REPORT_TEMPLATE.to_owned();
    }
    m
}

/// One message to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    /// Workspace (token) key.
    pub host: String,
    /// Channel name or ID.
    pub channel: String,
    /// Rendered `report_template`.
    pub text: String,
}

/// The message for `pj` (the template rendered against the job).
pub fn message_for(
    pj: &ProwJob,
    cfgs: &BTreeMap<String, SlackReporter>,
) -> Result<SlackMessage, crate::github::TemplateError> {
    let cfg = resolve(pj, cfgs);
    let t = parse_template(&cfg.report_template)?;
    Ok(SlackMessage {
        host: cfg.host,
        channel: cfg.channel,
        text: render_template(&t, pj)?,
    })
}

/// Posting to Slack failed.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// No token was given for the host the config names.
    #[error("host '{0}' not supported")]
    UnknownHost(String),
    /// Transport failure.
    #[error("posting to Slack: {0}")]
    Http(#[from] reqwest::Error),
    /// Slack answered but refused (`ok: false` or a non-200 status).
    #[error("request failed: {0}")]
    Api(String),
}

/// `chat.postMessage` with a bearer token per host.
#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base: String,
    tokens: HashMap<String, String>,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("base", &self.base)
            .field("hosts", &self.tokens.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SlackClient {
    /// A client posting to `base` (e.g. [`DEFAULT_API_BASE`]) with `tokens` keyed by host
    /// (`*` for the default workspace).
    pub fn new(base: impl Into<String>, tokens: HashMap<String, String>) -> Self {
        SlackClient {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            base: base.into().trim_end_matches('/').to_owned(),
            tokens,
        }
    }

    /// Whether a token exists for `host`.
    pub fn has_host(&self, host: &str) -> bool {
        self.tokens.contains_key(host)
    }

    /// Posts `text` to `channel` on `host`, as Prow's bot (`username: prow`, `:prow:` icon).
    pub async fn post_message(
        &self,
        host: &str,
        channel: &str,
        text: &str,
    ) -> Result<(), SlackError> {
        let token = self
            .tokens
            .get(host)
            .ok_or_else(|| SlackError::UnknownHost(host.to_owned()))?;
        let resp = self
            .http
            .post(format!("{}/chat.postMessage", self.base))
            .bearer_auth(token)
            .form(&[
                ("username", "prow"),
                ("icon_emoji", ":prow:"),
                ("channel", channel),
                ("text", text),
            ])
            .send()
            .await?;
        let status = resp.status();
        let body = resp.text().await?;
        #[derive(serde::Deserialize)]
        struct ApiResponse {
            #[serde(default)]
            ok: bool,
            #[serde(default)]
            error: String,
        }
        let parsed: ApiResponse = serde_json::from_str(&body)
            .map_err(|e| SlackError::Api(format!("API returned invalid JSON ({body:?}): {e}")))?;
        if !status.is_success() || !parsed.ok {
            return Err(SlackError::Api(parsed.error));
        }
        Ok(())
    }
}

/// Parses `--slack-token-file` values: `path` (host `*`) or `host=path`.
pub fn parse_token_file_flag(v: &str) -> (String, String) {
    match v.split_once('=') {
        Some((h, p)) if !h.is_empty() && !h.contains('/') => (h.to_owned(), p.to_owned()),
        _ => (DEFAULT_HOST.to_owned(), v.to_owned()),
    }
}

/// The `slackreporter`.
pub struct SlackReporterImpl {
    client: Arc<SlackClient>,
    config: ConfigGetter,
    report_agent: Option<String>,
    dry_run: bool,
}

impl SlackReporterImpl {
    /// A reporter posting through `client`; `dry_run` logs the message instead.
    pub fn new(
        client: Arc<SlackClient>,
        config: ConfigGetter,
        report_agent: Option<String>,
        dry_run: bool,
    ) -> Self {
        SlackReporterImpl {
            client,
            config,
            report_agent,
            dry_run,
        }
    }
}

#[async_trait]
impl Reporter for SlackReporterImpl {
    fn name(&self) -> &'static str {
        REPORTER_NAME
    }

    fn should_report(&self, pj: &ProwJob) -> bool {
        if let Some(agent) = self.report_agent.as_deref().filter(|a| !a.is_empty())
            && pj.spec.agent.as_ref().map_or("", |a| a.as_str()) != agent
        {
            return false;
        }
        should_report(pj, &(self.config)().prow.slack_reporter_configs)
    }

    async fn report(&self, pj: &ProwJob) -> anyhow::Result<()> {
        let cfg = (self.config)();
        let msg = message_for(pj, &cfg.prow.slack_reporter_configs)?;
        if self.dry_run {
            tracing::info!(channel = %msg.channel, text = %msg.text, "dry-run: would post Slack message");
            return Ok(());
        }
        self.client
            .post_message(&msg.host, &msg.channel, &msg.text)
            .await
            .map_err(|e| anyhow::anyhow!("failed to write Slack message to {}: {e}", msg.channel))
    }
}

#[cfg(test)]
mod tests;
