//! `wip`: keeps `do-not-merge/work-in-progress` on pull requests that are drafts or whose title
//! starts with `WIP` (Prow's `pkg/plugins/wip`).

use std::sync::LazyLock;

use async_trait::async_trait;
use prow_config::PluginsConfig;
use prow_github::events::PullRequestEvent;
use regex::Regex;

use crate::event::EventKind;
use crate::help::{OrgRepo, PluginHelp};
use crate::labels::WORK_IN_PROGRESS;
use crate::{Plugin, PluginContext, PluginResult};

// Prow: `(?i)^\W?WIP\W`; Go's `\W` is ASCII-only, so spell the class out.
static TITLE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^[^0-9A-Za-z_]?WIP[^0-9A-Za-z_]").ok());

/// Whether the PR should carry the label.
pub fn needs_label(title: &str, draft: bool) -> bool {
    draft || TITLE_RE.as_ref().is_some_and(|re| re.is_match(title))
}

/// The plugin.
pub struct WipPlugin;

#[async_trait]
impl Plugin for WipPlugin {
    fn name(&self) -> &'static str {
        "wip"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::PullRequest]
    }

    fn help(&self, _cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        PluginHelp::new(format!(
            "The wip (Work In Progress) plugin applies the '{WORK_IN_PROGRESS}' Label to pull requests whose title starts with 'WIP' or are in the 'draft' stage, and removes it from pull requests when they remove the title prefix or become ready for review. The '{WORK_IN_PROGRESS}' Label is typically used to block a pull request from merging while it is still in progress."
        ))
    }

    async fn handle_pull_request(
        &self,
        ctx: &PluginContext,
        pe: &PullRequestEvent,
    ) -> PluginResult {
        if !matches!(
            pe.action.as_str(),
            "opened" | "reopened" | "edited" | "ready_for_review" | "converted_to_draft"
        ) {
            return Ok(());
        }
        let pr = &pe.pull_request;
        let (org, repo) = crate::plugins::base_org_repo(pe);
        let labels = ctx.github.get_issue_labels(&org, &repo, pr.number).await?;
        let has = labels.iter().any(|l| l.name == WORK_IN_PROGRESS);
        let needs = needs_label(&pr.title, pr.draft);
        if needs && !has {
            ctx.github
                .add_labels(&org, &repo, pr.number, &[WORK_IN_PROGRESS.to_owned()])
                .await?;
        } else if !needs && has {
            ctx.github
                .remove_label(&org, &repo, pr.number, WORK_IN_PROGRESS)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_rule() {
        for (title, draft, want) in [
            ("WIP: foo", false, true),
            ("[WIP] foo", false, true),
            ("wip foo", false, true),
            ("(wip) foo", false, true),
            ("WIP", false, false),
            ("WIPE out", false, false),
            ("foo WIP: bar", false, false),
            ("Fix it", true, true),
            ("Fix it", false, false),
        ] {
            assert_eq!(needs_label(title, draft), want, "{title:?} draft={draft}");
        }
    }
}
