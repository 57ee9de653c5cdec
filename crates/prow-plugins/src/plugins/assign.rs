//! `assign`: `/assign`, `/unassign`, `/cc`, `/uncc` with optional `@user` or `@org/team`
//! targets, defaulting to the commenter (Prow's `pkg/plugins/assign`).

use async_trait::async_trait;
use prow_commands::assign::{self as cmd, AssignKind};
use prow_commands::truncation_note;
use prow_config::PluginsConfig;

use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::respond::format_response_raw;
use crate::{Plugin, PluginContext, PluginError, PluginResult};

/// Reply when GitHub refuses some assignees.
pub fn assign_failure_message(org: &str, missing: &[String]) -> String {
    format!(
        "GitHub didn't allow me to assign the following users: {}.\n\nNote that only [{org} members](https://github.com/orgs/{org}/people) with read permissions, repo collaborators and people who have commented on this issue/PR can be assigned. Additionally, issues/PRs can only have 10 assignees at the same time.\nFor more information please see [the contributor guide](https://git.k8s.io/community/contributors/guide/first-contribution.md#issue-assignment-in-github)",
        missing.join(", ")
    )
}

/// Reply when GitHub refuses some review requests.
pub fn review_failure_message(org: &str, missing: &[String]) -> String {
    format!(
        "GitHub didn't allow me to request PR reviews from the following users: {}.\n\nNote that only [{org} members](https://github.com/orgs/{org}/people) and repo collaborators can review this PR, and authors cannot review their own PRs.",
        missing.join(", ")
    )
}

/// The plugin.
pub struct AssignPlugin;

#[async_trait]
impl Plugin for AssignPlugin {
    fn name(&self) -> &'static str {
        "assign"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::GenericComment]
    }

    fn help(&self, _cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        let mut h = PluginHelp::new(
            "The assign plugin assigns or requests reviews from users/teams. Specific users can be assigned with the command '/assign @user1' or have reviews requested of them with the command '/cc @user1'. If no users are specified, the commands default to targeting the user who created the command. Assignments and requested reviews can be removed in the same way that they are added by prefixing the commands with 'un'.",
        );
        h.add_command(Command::new(
            "/[un]assign [[@]<username>...|[@]<orgname/teamname>...]",
            "Assigns assignee(s) or team(s) to the PR",
            true,
            "Anyone can use the command, but the target user(s) must be an org member, a repo collaborator, or should have previously commented on the issue or PR.",
            &["/assign", "/unassign", "/assign @spongebob", "/assign spongebob patrick", "/assign @kubernetes/sig-foo-bar"],
        ));
        h.add_command(Command::new(
            "/[un]cc [[@]<username>...|[@]<orgname/teamname>...]",
            "Requests a review from the user(s) or team(s).",
            true,
            "Anyone can use the command, but the target user(s) must be a member of the org that owns the repository.",
            &["/cc", "/uncc", "/cc @spongebob", "/cc spongebob patrick", "/cc @kubernetes/sig-foo-bar"],
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
        let first = handle_kind(ctx, e, AssignKind::Assign).await;
        if !e.is_pr {
            return first;
        }
        let second = handle_kind(ctx, e, AssignKind::Cc).await;
        PluginError::aggregate(first.err().into_iter().chain(second.err()).collect())
    }
}

async fn handle_kind(
    ctx: &PluginContext,
    e: &GenericCommentEvent,
    kind: AssignKind,
) -> PluginResult {
    let changes = cmd::changes(&e.body, kind, &e.user.login);
    if changes.add.is_empty() && changes.remove.is_empty() {
        return Ok(());
    }
    let (org, repo) = (e.org(), e.repo_name());
    let gh = ctx.github.as_ref();
    if !changes.remove.is_empty() {
        match kind {
            AssignKind::Assign => {
                gh.unassign_issue(org, repo, e.number, &changes.remove)
                    .await?
            }
            AssignKind::Cc => {
                gh.unrequest_review(org, repo, e.number, &changes.remove)
                    .await?
            }
        }
    }
    let missing = if changes.add.is_empty() {
        Vec::new()
    } else {
        match kind {
            AssignKind::Assign => gh.assign_issue(org, repo, e.number, &changes.add).await?,
            AssignKind::Cc => gh.request_review(org, repo, e.number, &changes.add).await?,
        }
    };
    let failure = (!missing.is_empty()).then(|| match kind {
        AssignKind::Assign => assign_failure_message(org, &missing),
        AssignKind::Cc => review_failure_message(org, &missing),
    });
    // Logins past the per-comment bound were dropped: say so once.
    let note = changes.truncated.then(|| match kind {
        AssignKind::Assign => truncation_note("logins to assign or unassign"),
        AssignKind::Cc => truncation_note("logins to request or withdraw reviews from"),
    });
    let msg = match (failure, note) {
        (Some(m), Some(n)) => format!("{m}\n\n{n}"),
        (Some(m), None) | (None, Some(m)) => m,
        (None, None) => return Ok(()),
    };
    let body = format_response_raw(&e.body, &e.html_url, &e.user.login, &msg);
    gh.create_comment(org, repo, e.number, &body)
        .await
        .map_err(|err| PluginError::Other(format!("comment err: {err}")))?;
    Ok(())
}
