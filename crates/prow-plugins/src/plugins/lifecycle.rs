//! `lifecycle`: `/close`, `/close not-planned`, `/reopen` and `/[remove-]lifecycle <state>`
//! (Prow's `pkg/plugins/lifecycle`).

use async_trait::async_trait;
use prow_commands::lifecycle::{self as cmd, CloseKind, LifecycleState};
use prow_config::PluginsConfig;
use prow_github::{GitHubError, has_label};

use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::{LIFECYCLE_ACTIVE, LIFECYCLE_FROZEN, LIFECYCLE_ROTTEN, LIFECYCLE_STALE};
use crate::respond::format_response_raw;
use crate::{Plugin, PluginContext, PluginResult};

const LIFECYCLE_LABELS: [&str; 4] = [
    LIFECYCLE_ACTIVE,
    LIFECYCLE_FROZEN,
    LIFECYCLE_STALE,
    LIFECYCLE_ROTTEN,
];

/// The plugin.
pub struct LifecyclePlugin;

#[async_trait]
impl Plugin for LifecyclePlugin {
    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::GenericComment]
    }

    fn help(&self, _cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        let mut h = PluginHelp::new(
            "Close, reopen, flag and/or unflag an issue or PR as frozen/stale/rotten",
        );
        h.add_command(Command::new(
            "/close [not-planned]",
            "Closes an issue or PR.",
            false,
            "Authors and collaborators on the repository can trigger this command.",
            &["/close", "/close not-planned"],
        ));
        h.add_command(Command::new(
            "/reopen",
            "Reopens an issue or PR",
            false,
            "Authors and collaborators on the repository can trigger this command.",
            &["/reopen"],
        ));
        h.add_command(Command::new(
            "/[remove-]lifecycle <frozen|stale|rotten>",
            "Flags an issue or PR as frozen/stale/rotten",
            false,
            "Anyone can trigger this command.",
            &["/lifecycle frozen", "/remove-lifecycle stale"],
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
        if cmds.reopen && e.issue_state == "closed" {
            reopen(ctx, e).await?;
        }
        if let Some(kind) = cmds.close
            && e.issue_state == "open"
        {
            close(ctx, e, kind).await?;
        }
        for (remove, state) in cmds.labels {
            lifecycle_label(ctx, e, remove, state).await?;
        }
        Ok(())
    }
}

async fn reply(ctx: &PluginContext, e: &GenericCommentEvent, msg: &str) -> PluginResult {
    let body = format_response_raw(&e.body, &e.html_url, &e.user.login, msg);
    ctx.github
        .create_comment(e.org(), e.repo_name(), e.number, &body)
        .await?;
    Ok(())
}

async fn is_collaborator(ctx: &PluginContext, e: &GenericCommentEvent) -> bool {
    match ctx
        .github
        .is_collaborator(e.org(), e.repo_name(), &e.user.login)
        .await
    {
        Ok(b) => b,
        Err(err) => {
            tracing::error!(error = %err, "failed IsCollaborator");
            false
        }
    }
}

async fn reopen(ctx: &PluginContext, e: &GenericCommentEvent) -> PluginResult {
    let is_author = e.issue_author.login == e.user.login;
    if !is_author && !is_collaborator(ctx, e).await {
        return reply(
            ctx,
            e,
            "You can't reopen an issue/PR unless you authored it or you are a collaborator.",
        )
        .await;
    }
    let what = if e.is_pr { "PR" } else { "Issue" };
    match ctx
        .github
        .reopen_issue(e.org(), e.repo_name(), e.number)
        .await
    {
        Ok(()) => {
            let done = if e.is_pr {
                "Reopened this PR."
            } else {
                "Reopened this issue."
            };
            reply(ctx, e, done).await
        }
        // GitHub refuses (422) e.g. when the head branch of a PR is gone.
        Err(GitHubError::Unprocessable(msg)) => {
            reply(ctx, e, &format!("Failed to re-open {what}: {msg}")).await
        }
        Err(err) => Err(err.into()),
    }
}

async fn close(ctx: &PluginContext, e: &GenericCommentEvent, kind: CloseKind) -> PluginResult {
    let (org, repo) = (e.org(), e.repo_name());
    let is_author = e.issue_author.login == e.user.login;
    let collaborator = is_collaborator(ctx, e).await;
    let active = match ctx.github.get_issue_labels(org, repo, e.number).await {
        Ok(labels) => !has_label(&labels, LIFECYCLE_STALE) && !has_label(&labels, LIFECYCLE_ROTTEN),
        Err(err) => {
            tracing::info!(error = %err, "cannot determine if issue is active");
            true
        }
    };
    if !is_author && !collaborator && active {
        return reply(
            ctx,
            e,
            "You can't close an active issue/PR unless you authored it or you are a collaborator.",
        )
        .await;
    }
    if e.is_pr {
        if kind == CloseKind::NotPlanned {
            return reply(ctx, e, "PRs cannot be closed as Not Planned.").await;
        }
        ctx.github
            .close_issue(org, repo, e.number, None)
            .await
            .map_err(|err| crate::PluginError::Other(format!("Error closing PR: {err}")))?;
        return reply(ctx, e, "Closed this PR.").await;
    }
    let text = match kind {
        CloseKind::NotPlanned => {
            ctx.github
                .close_issue(org, repo, e.number, Some("not_planned"))
                .await
                .map_err(|err| {
                    crate::PluginError::Other(format!(
                        "Error closing issue as \"Not Planned\": {err}"
                    ))
                })?;
            "Closing this issue, marking it as \"Not Planned\"."
        }
        CloseKind::Completed => {
            ctx.github
                .close_issue(org, repo, e.number, None)
                .await
                .map_err(|err| crate::PluginError::Other(format!("Error closing issue: {err}")))?;
            "Closing this issue."
        }
    };
    reply(ctx, e, text).await
}

async fn lifecycle_label(
    ctx: &PluginContext,
    e: &GenericCommentEvent,
    remove: bool,
    state: LifecycleState,
) -> PluginResult {
    let (org, repo) = (e.org(), e.repo_name());
    let lbl = state.label();
    if e.is_pr && lbl == LIFECYCLE_FROZEN && !remove {
        return reply(
            ctx,
            e,
            &format!("The `{LIFECYCLE_FROZEN}` label cannot be applied to Pull Requests."),
        )
        .await;
    }
    let labels = match ctx.github.get_issue_labels(org, repo, e.number).await {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(error = %err, "failed to get labels");
            Vec::new()
        }
    };
    let has = has_label(&labels, &lbl);
    if has && remove {
        ctx.github.remove_label(org, repo, e.number, &lbl).await?;
        return Ok(());
    }
    if !has && !remove {
        for other in LIFECYCLE_LABELS {
            if other != lbl
                && has_label(&labels, other)
                && let Err(err) = ctx.github.remove_label(org, repo, e.number, other).await
            {
                tracing::error!(error = %err, label = other, "GitHub failed to remove label");
            }
        }
        if let Err(err) =
            crate::plugins::add_label(ctx.github.as_ref(), org, repo, e.number, &lbl).await
        {
            tracing::error!(error = %err, label = %lbl, "GitHub failed to add label");
        }
    }
    Ok(())
}
