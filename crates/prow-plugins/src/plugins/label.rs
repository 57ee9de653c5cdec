//! `label`: `/kind`, `/area`, `/priority`, … `/label`, and their `/remove-` forms, with
//! additional and restricted labels (Prow's `pkg/plugins/label`, spec §5.5).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use prow_commands::label as cmd;
use prow_commands::text::strip_html_comments;
use prow_commands::truncation_note;
use prow_config::PluginsConfig;
use prow_github::events::PullRequestEvent;
use prow_github::has_label;

use crate::config::{Label, RestrictedLabel};
use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::TRIAGE_ACCEPTED;
use crate::respond::format_response_raw;
use crate::{Plugin, PluginContext, PluginResult};

const DEFAULT_LABELS: [&str; 3] = ["kind", "priority", "area"];
/// Categories whose `needs-<category>` label comes back when the last one is removed.
const NEEDS_LABELS: [&str; 4] = ["kind", "priority", "sig", "triage"];

/// The plugin.
pub struct LabelPlugin;

/// The label changes a comment asks for, before permission checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelRequest {
    /// Labels to add (lower case).
    pub add: Vec<String>,
    /// Labels to remove (lower case).
    pub remove: Vec<String>,
    /// `/label x` commands naming labels that are neither additional nor restricted.
    pub not_configured: Vec<String>,
}

/// Turns the parsed commands into a request: `/label` only accepts configured labels, and
/// removing the last `<category>/*` label re-adds `needs-<category>` when the repo has it.
pub fn plan(
    cmds: &cmd::LabelCommands,
    label_cfg: &Label,
    restricted: &BTreeMap<String, RestrictedLabel>,
    repo_labels: &BTreeSet<String>,
    issue_labels: &[String],
) -> LabelRequest {
    let additional: BTreeSet<String> = label_cfg
        .additional_labels
        .iter()
        .map(|l| l.to_lowercase())
        .collect();
    let configured = |l: &str| restricted.contains_key(l) || additional.contains(l);
    let mut req = LabelRequest {
        add: cmds.add.clone(),
        remove: cmds.remove.clone(),
        not_configured: Vec::new(),
    };
    for (custom, out) in [(&cmds.custom_add, 0), (&cmds.custom_remove, 1)] {
        for c in custom {
            if configured(&c.label) {
                if out == 0 {
                    req.add.push(c.label.clone());
                } else {
                    req.remove.push(c.label.clone());
                }
            } else {
                req.not_configured.push(c.command_text.clone());
            }
        }
    }
    for category in NEEDS_LABELS {
        let needs = format!("needs-{category}");
        if !repo_labels.contains(&needs) {
            continue;
        }
        let removed = with_category(&req.remove, category);
        if removed.is_empty() || !with_category(&req.add, category).is_empty() {
            continue;
        }
        if with_category(issue_labels, category).is_subset(&removed) {
            req.add.push(needs);
        }
    }
    req
}

fn with_category(labels: &[String], category: &str) -> BTreeSet<String> {
    let prefix = format!("{category}/");
    labels
        .iter()
        .filter(|l| l.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Why a user may not set a restricted label, or `None` if they may.
async fn cannot_set_reason(
    ctx: &PluginContext,
    org: &str,
    user: &str,
    label: &str,
    restricted: &BTreeMap<String, RestrictedLabel>,
) -> Result<Option<String>, crate::PluginError> {
    let Some(rl) = restricted.get(label) else {
        return Ok(None);
    };
    if rl
        .allowed_users
        .iter()
        .any(|u| u.eq_ignore_ascii_case(user))
    {
        return Ok(None);
    }
    for team in &rl.allowed_teams {
        let members = ctx.github.list_team_members(org, team).await?;
        if members.iter().any(|m| m.login.eq_ignore_ascii_case(user)) {
            return Ok(None);
        }
    }
    Ok(Some(restricted_message(label, rl)))
}

/// The refusal text for a restricted label.
pub fn restricted_message(label: &str, rl: &RestrictedLabel) -> String {
    let mut msg = format!(
        "The label(s) `{label}` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user."
    );
    if !rl.allowed_teams.is_empty() {
        msg.push_str(&format!(
            " Must be a member of one of these teams: {}",
            rl.allowed_teams.join(", ")
        ));
    } else if !rl.allowed_users.is_empty() {
        // Prow means to pick 20 random users but ranges over indices, so it lists the first 20.
        let users: Vec<&str> = rl
            .allowed_users
            .iter()
            .take(20)
            .map(String::as_str)
            .collect();
        msg.push_str(&format!(
            " Consider assigning one of the following members: {}",
            users.join(",")
        ));
    }
    msg
}

#[async_trait]
impl Plugin for LabelPlugin {
    fn name(&self) -> &'static str {
        "label"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::PullRequest, EventKind::GenericComment]
    }

    fn help(&self, cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        let mut labels: Vec<String> = DEFAULT_LABELS.iter().map(|s| (*s).to_owned()).collect();
        if let Ok(l) = crate::config::label(cfg) {
            labels.extend(l.additional_labels);
        }
        let formatted: Vec<String> = labels.iter().map(|l| format!("\"{l}/*\"")).collect();
        let config_text = match formatted.split_last() {
            Some((last, rest)) => format!(
                "The label plugin will work on {} and {} labels.",
                rest.join(", "),
                last
            ),
            None => String::new(),
        };
        let mut h = PluginHelp::new(
            "The label plugin provides commands that add or remove certain types of labels. Labels of the following types can be manipulated: 'area/*', 'committee/*', 'kind/*', 'language/*', 'priority/*', 'sig/*', 'triage/*', and 'wg/*'. More labels can be configured to be used via the /label command. Restricted labels are only able to be added by the teams and users present in their configuration, and those users can be automatically assigned when another label is added using the assign_on config.",
        );
        h.config.insert(String::new(), config_text);
        h.add_command(Command::new(
            "/[remove-](area|committee|kind|language|priority|sig|triage|wg|label) <target>",
            "Applies or removes a label from one of the recognized types of labels.",
            false,
            "Anyone can trigger this command on issues and PRs. `triage/accepted` can only be added by org members. Restricted labels are only able to be added by teams and users in their configuration.",
            &["/kind bug", "/remove-area prow", "/sig testing", "/language zh", "/label foo-bar-baz"],
        ));
        h
    }

    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        e: &GenericCommentEvent,
    ) -> PluginResult {
        if e.action != CommentAction::Created {
            return Ok(());
        }
        let cmds = cmd::parse(&e.body);
        if cmds.is_empty() {
            return Ok(());
        }
        let label_cfg = crate::config::label(&ctx.plugins)?;
        let (org, repo, user) = (e.org(), e.repo_name(), e.user.login.as_str());
        let gh = ctx.github.as_ref();
        let repo_labels: BTreeSet<String> = gh
            .get_repo_labels(org, repo)
            .await?
            .into_iter()
            .map(|l| l.name.to_lowercase())
            .collect();
        let labels = gh.get_issue_labels(org, repo, e.number).await?;
        let issue_labels: Vec<String> = labels.iter().map(|l| l.name.clone()).collect();
        let restricted = label_cfg.restricted_labels_for(org, repo);
        let req = plan(&cmds, &label_cfg, &restricted, &repo_labels, &issue_labels);

        let quoted_body = strip_html_comments(&e.body);
        let respond = |msg: String| {
            let body = format_response_raw(&quoted_body, &e.html_url, user, &msg);
            async move {
                gh.create_comment(org, repo, e.number, &body)
                    .await
                    .map(drop)
            }
        };

        let mut no_such_in_repo = Vec::new();
        let mut not_on_issue = Vec::new();
        let mut non_member_triage_accepted = false;
        for l in &req.add {
            if has_label(&labels, l) {
                continue;
            }
            if !repo_labels.contains(l) {
                no_such_in_repo.push(l.clone());
                continue;
            }
            if l == TRIAGE_ACCEPTED {
                match gh.is_member(org, user).await {
                    Ok(true) => {}
                    Ok(false) => {
                        non_member_triage_accepted = true;
                        continue;
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "error in IsMember({org})");
                        continue;
                    }
                }
            }
            match cannot_set_reason(ctx, org, user, l, &restricted).await {
                Ok(None) => {
                    if let Err(err) = crate::plugins::add_label(gh, org, repo, e.number, l).await {
                        tracing::error!(error = %err, label = %l, "GitHub failed to add the label");
                    }
                }
                Ok(Some(reason)) => {
                    if let Err(err) = respond(reason).await {
                        tracing::error!(error = %err, "failed to comment");
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, label = %l, "failed to check if user can set label")
                }
            }
        }
        for l in &req.remove {
            if !has_label(&labels, l) {
                not_on_issue.push(l.clone());
                continue;
            }
            if !repo_labels.contains(l) {
                continue;
            }
            match cannot_set_reason(ctx, org, user, l, &restricted).await {
                Ok(None) => {
                    if let Err(err) = gh.remove_label(org, repo, e.number, l).await {
                        tracing::error!(error = %err, label = %l, "GitHub failed to remove the label");
                    }
                }
                Ok(Some(reason)) => {
                    if let Err(err) = respond(reason).await {
                        tracing::error!(error = %err, "failed to comment");
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, label = %l, "failed to check if user can set label")
                }
            }
        }

        let summary = if !req.not_configured.is_empty() {
            let mut supported = label_cfg.additional_labels.clone();
            supported.extend(restricted.keys().cloned());
            Some(format!(
                "The label(s) `{}` cannot be applied. These labels are supported: `{}`. Is this label configured under `labels -> additional_labels` or `labels -> restricted_labels` in `plugin.yaml`?",
                req.not_configured.join(", "),
                supported.join(", ")
            ))
        } else if !no_such_in_repo.is_empty() {
            Some(format!(
                "The label(s) `{}` cannot be applied, because the repository doesn't have them.",
                no_such_in_repo.join(", ")
            ))
        } else if !not_on_issue.is_empty() {
            Some(format!(
                "Those labels are not set on the issue: `{}`",
                not_on_issue.join(", ")
            ))
        } else if non_member_triage_accepted {
            Some(format!(
                "The label `{TRIAGE_ACCEPTED}` cannot be applied. Only GitHub organization members can add the label."
            ))
        } else {
            None
        };
        // Commands past the per-comment bound were dropped: say so once, in the summary.
        let note = cmds.truncated.then(|| truncation_note("label commands"));
        let msg = match (summary, note) {
            (Some(m), Some(n)) => format!("{m}\n\n{n}"),
            (Some(m), None) | (None, Some(m)) => m,
            (None, None) => return Ok(()),
        };
        respond(msg).await?;
        Ok(())
    }

    async fn handle_pull_request(
        &self,
        ctx: &PluginContext,
        pe: &PullRequestEvent,
    ) -> PluginResult {
        if pe.action != "labeled" {
            return Ok(());
        }
        let Some(added) = &pe.label else {
            return Ok(());
        };
        let label_cfg = crate::config::label(&ctx.plugins)?;
        let (org, repo) = (
            pe.repository.owner.login.as_str(),
            pe.repository.name.as_str(),
        );
        for rl in label_cfg.restricted_labels_for(org, repo).values() {
            for on in &rl.assign_on {
                if on.label.eq_ignore_ascii_case(&added.name) {
                    tracing::info!(label = %rl.label, "assigning users for restricted label");
                    if let Err(err) = ctx
                        .github
                        .assign_issue(org, repo, pe.pull_request.number, &rl.allowed_users)
                        .await
                    {
                        tracing::error!(error = %err, label = %rl.label, "GitHub failed to assign reviewers for the label");
                    }
                }
            }
        }
        Ok(())
    }
}
