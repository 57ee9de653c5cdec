//! `hold`: `/hold` adds and `/hold cancel`, `/unhold`, `/remove-hold` remove
//! `do-not-merge/hold` on pull requests (Prow's `pkg/plugins/hold`).

use async_trait::async_trait;
use prow_commands::hold::{self as cmd, HoldAction};
use prow_config::PluginsConfig;
use prow_github::has_label;

use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::HOLD;
use crate::{Plugin, PluginContext, PluginResult};

/// The plugin.
pub struct HoldPlugin;

/// What to do given the command and whether the label is present.
pub fn decide(action: HoldAction, has_label: bool) -> Option<HoldAction> {
    match (action, has_label) {
        (HoldAction::Add, false) => Some(HoldAction::Add),
        (HoldAction::Remove, true) => Some(HoldAction::Remove),
        _ => None,
    }
}

#[async_trait]
impl Plugin for HoldPlugin {
    fn name(&self) -> &'static str {
        "hold"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::GenericComment]
    }

    fn help(&self, _cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        let mut h = PluginHelp::new(format!(
            "The hold plugin allows anyone to add or remove the '{HOLD}' Label from a pull request in order to temporarily prevent the PR from merging without withholding approval."
        ));
        h.add_command(Command::new(
            "/[remove-][un]hold [cancel]",
            &format!("Adds or removes the `{HOLD}` Label which is used to indicate that the PR should not be automatically merged."),
            false,
            &format!("Anyone can use the /hold command to add or remove the '{HOLD}' Label."),
            &["/hold", "/hold cancel", "/unhold", "/remove-hold"],
        ));
        h
    }

    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        e: &GenericCommentEvent,
    ) -> PluginResult {
        if !e.is_pr || e.action != CommentAction::Created {
            return Ok(());
        }
        let Some(action) = cmd::parse(&e.body) else {
            return Ok(());
        };
        let (org, repo) = (e.org(), e.repo_name());
        let labels = ctx.github.get_issue_labels(org, repo, e.number).await?;
        match decide(action, has_label(&labels, HOLD)) {
            Some(HoldAction::Add) => {
                tracing::info!("adding {HOLD:?} label");
                ctx.github
                    .add_labels(org, repo, e.number, &[HOLD.to_owned()])
                    .await?;
            }
            Some(HoldAction::Remove) => {
                tracing::info!("removing {HOLD:?} label");
                ctx.github.remove_label(org, repo, e.number, HOLD).await?;
            }
            None => {}
        }
        Ok(())
    }
}
