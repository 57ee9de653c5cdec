//! `help`: `/help`, `/remove-help`, `/good-first-issue`, `/remove-good-first-issue` on open
//! issues, with a guidelines comment (Prow's `pkg/plugins/help`).

use async_trait::async_trait;
use prow_commands::help as cmd;
use prow_config::PluginsConfig;
use prow_github::has_label;

use crate::config::Help;
use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::{GOOD_FIRST_ISSUE, HELP_WANTED};
use crate::respond::format_response_raw;
use crate::{Plugin, PluginContext, PluginResult};

/// Text identifying the bot's `/help` comment (pruned on `/remove-help`).
pub const HELP_MSG_PRUNE_MATCH: &str =
    "This request has been marked as needing help from a contributor.";
/// Text identifying the bot's `/good-first-issue` comment.
pub const GOOD_FIRST_ISSUE_MSG_PRUNE_MATCH: &str =
    "This request has been marked as suitable for new contributors.";

/// The `/help` guidelines message.
pub fn help_msg(h: &Help) -> String {
    if h.help_guidelines_summary.is_empty() {
        format!(
            "\n\tThis request has been marked as needing help from a contributor.\n\nPlease ensure the request meets the requirements listed [here]({}).\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-help` command.\n",
            h.help_guidelines_url
        )
    } else {
        format!(
            "\n\tThis request has been marked as needing help from a contributor.\n\n### Guidelines\n{}\n\nFor more details on the requirements of such an issue, please see [here]({}) and ensure that they are met.\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-help` command.\n",
            h.help_guidelines_summary, h.help_guidelines_url
        )
    }
}

/// The `/good-first-issue` guidelines message.
pub fn good_first_issue_msg(h: &Help) -> String {
    if h.help_guidelines_summary.is_empty() {
        format!(
            "\n\tThis request has been marked as suitable for new contributors.\n\nPlease ensure the request meets the requirements listed [here]({}#good-first-issue).\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-good-first-issue` command.\n",
            h.help_guidelines_url
        )
    } else {
        format!(
            "\n\tThis request has been marked as suitable for new contributors.\n\n### Guidelines\n{}\n\nFor more details on the requirements of such an issue, please see [here]({}#good-first-issue) and ensure that they are met.\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-good-first-issue` command.\n",
            h.help_guidelines_summary, h.help_guidelines_url
        )
    }
}

/// What the plugin does for one comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpAction {
    /// Remove `help wanted` (and `good first issue` if present), pruning the bot's comments.
    RemoveHelp {
        /// `good first issue` is present too.
        also_good_first_issue: bool,
    },
    /// Comment, add `good first issue` (and `help wanted` if missing).
    AddGoodFirstIssue {
        /// `help wanted` must be added too.
        add_help: bool,
    },
    /// Comment and add `help wanted`.
    AddHelp,
    /// Remove `good first issue`, pruning the bot's comment.
    RemoveGoodFirstIssue,
}

/// Prow's precedence: the first applicable command given the current labels.
pub fn decide(cmds: cmd::HelpCommands, has_help: bool, has_gfi: bool) -> Option<HelpAction> {
    if has_help && cmds.remove_help {
        Some(HelpAction::RemoveHelp {
            also_good_first_issue: has_gfi,
        })
    } else if !has_gfi && cmds.good_first_issue {
        Some(HelpAction::AddGoodFirstIssue {
            add_help: !has_help,
        })
    } else if !has_help && cmds.help {
        Some(HelpAction::AddHelp)
    } else if has_gfi && cmds.remove_good_first_issue {
        Some(HelpAction::RemoveGoodFirstIssue)
    } else {
        None
    }
}

/// The plugin.
pub struct HelpPlugin;

#[async_trait]
impl Plugin for HelpPlugin {
    fn name(&self) -> &'static str {
        "help"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::GenericComment]
    }

    fn help(&self, _cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        let mut h = PluginHelp::new(format!(
            "The help plugin provides commands that add or remove the '{HELP_WANTED}' and the '{GOOD_FIRST_ISSUE}' labels from issues."
        ));
        h.add_command(Command::new(
            "/[remove-](help|good-first-issue)",
            &format!("Applies or removes the '{HELP_WANTED}' and '{GOOD_FIRST_ISSUE}' labels to an issue."),
            false,
            "Anyone can trigger this command on a PR.",
            &["/help", "/remove-help", "/good-first-issue", "/remove-good-first-issue"],
        ));
        h
    }

    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        e: &GenericCommentEvent,
    ) -> PluginResult {
        if e.is_pr || e.issue_state != "open" || e.action != CommentAction::Created {
            return Ok(());
        }
        let cmds = cmd::parse(&e.body);
        if !(cmds.help || cmds.remove_help || cmds.good_first_issue || cmds.remove_good_first_issue)
        {
            return Ok(());
        }
        let guidelines = crate::config::help(&ctx.plugins)?;
        let (org, repo) = (e.org(), e.repo_name());
        let labels = match ctx.github.get_issue_labels(org, repo, e.number).await {
            Ok(l) => l,
            Err(err) => {
                tracing::error!(error = %err, "failed to get issue labels");
                Vec::new()
            }
        };
        let has_help = has_label(&labels, HELP_WANTED);
        let has_gfi = has_label(&labels, GOOD_FIRST_ISSUE);
        let gh = ctx.github.as_ref();
        let add = |label: &'static str| async move {
            if let Err(err) = crate::plugins::add_label(gh, org, repo, e.number, label).await {
                tracing::error!(error = %err, label, "GitHub failed to add label");
            }
        };
        let remove = |label: &'static str| async move {
            if let Err(err) = gh.remove_label(org, repo, e.number, label).await {
                tracing::error!(error = %err, label, "GitHub failed to remove label");
            }
        };
        let comment = |msg: String| async move {
            let body = format_response_raw(&e.body, &e.issue_html_url, &e.user.login, &msg);
            if let Err(err) = gh.create_comment(org, repo, e.number, &body).await {
                tracing::error!(error = %err, "failed to create comment");
            }
        };
        match decide(cmds, has_help, has_gfi) {
            Some(HelpAction::RemoveHelp {
                also_good_first_issue,
            }) => {
                remove(HELP_WANTED).await;
                let pruner = ctx.pruner()?;
                pruner
                    .prune(|c| c.body.contains(HELP_MSG_PRUNE_MATCH))
                    .await;
                if also_good_first_issue {
                    remove(GOOD_FIRST_ISSUE).await;
                    pruner
                        .prune(|c| c.body.contains(GOOD_FIRST_ISSUE_MSG_PRUNE_MATCH))
                        .await;
                }
            }
            Some(HelpAction::AddGoodFirstIssue { add_help }) => {
                comment(good_first_issue_msg(&guidelines)).await;
                add(GOOD_FIRST_ISSUE).await;
                if add_help {
                    add(HELP_WANTED).await;
                }
            }
            Some(HelpAction::AddHelp) => {
                comment(help_msg(&guidelines)).await;
                add(HELP_WANTED).await;
            }
            Some(HelpAction::RemoveGoodFirstIssue) => {
                remove(GOOD_FIRST_ISSUE).await;
                ctx.pruner()?
                    .prune(|c| c.body.contains(GOOD_FIRST_ISSUE_MSG_PRUNE_MATCH))
                    .await;
            }
            None => {}
        }
        Ok(())
    }
}
