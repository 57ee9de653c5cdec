//! `approve`: OWNERS-based approval with the `approved` label and the `[APPROVALNOTIFIER]`
//! comment (Prow's `pkg/plugins/approve`, spec §5.4). The decision and the comment text come
//! from `prow-owners`; this module gathers the PR history and applies the result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prow_config::PluginsConfig;
use prow_github::events::{PullRequestEvent, ReviewEvent};
use prow_github::{IssueComment, User};
use prow_owners::{
    ApprovalEvent, NotificationLinks, PullRequestContext, RepoRef, ReviewState, evaluate,
    is_approval_command, is_approval_notification, notification_needs_update, render_notification,
};

use crate::config::{Approve, approve_for};
use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::APPROVED;
use crate::{Plugin, PluginContext, PluginError, PluginResult};

/// The plugin.
pub struct ApprovePlugin;

/// The PR facts `handle` needs.
struct PrState<'a> {
    org: &'a str,
    repo: &'a str,
    branch: &'a str,
    number: u64,
    body: &'a str,
    author: &'a str,
    assignees: &'a [User],
    html_url: &'a str,
}

#[async_trait]
impl Plugin for ApprovePlugin {
    fn name(&self) -> &'static str {
        "approve"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[
            EventKind::PullRequest,
            EventKind::Review,
            EventKind::GenericComment,
        ]
    }

    fn help(&self, cfg: &PluginsConfig, repos: &[OrgRepo]) -> PluginHelp {
        let do_not = |b: bool| if b { "" } else { "do not " };
        let will_not = |b: bool| if b { "will " } else { "will not " };
        let mut h = PluginHelp::new(format!(
            "The approve plugin implements a pull request approval process that manages the '{APPROVED}' label and an approval notification comment. Approval is achieved when the set of users that have approved the PR is capable of approving every file changed by the PR. A user is able to approve a file if their username or an alias they belong to is listed in the 'approvers' section of an OWNERS file in the directory of the file or higher in the directory tree.\n<br>\n<br>Per-repo configuration may be used to require that PRs link to an associated issue before approval is granted. It may also be used to specify that the PR authors implicitly approve their own PRs.\n<br>For more information see <a href=\"https://docs.prow.k8s.io/docs/components/plugins/approve/approvers/\">here</a>."
        ));
        for r in repos {
            let Ok(opts) = approve_for(cfg, &r.org, &r.repo) else {
                continue;
            };
            h.config.insert(
                r.to_string(),
                format!(
                    "Pull requests {}require an associated issue.<br>Pull request authors {}implicitly approve their own PRs.<br>The /lgtm [cancel] command(s) {}act as approval.<br>A GitHub approved or changes requested review {}act as approval or cancel respectively.",
                    do_not(opts.issue_required),
                    do_not(opts.has_self_approval()),
                    will_not(opts.lgtm_acts_as_approve),
                    will_not(opts.consider_review_state())
                ),
            );
        }
        h.snippet = "approve:\n- repos:\n  - ORGANIZATION\n  - ORGANIZATION/REPOSITORY\n  require_self_approval: false\n  ignore_review_state: false\n".to_owned();
        h.add_command(Command::new(
            "/[remove-]approve [no-issue|cancel]",
            "Approves a pull request",
            true,
            "Users listed as 'approvers' in appropriate OWNERS files.",
            &["/approve", "/approve no-issue", "/remove-approve"],
        ));
        h
    }

    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        e: &GenericCommentEvent,
    ) -> PluginResult {
        if e.action != CommentAction::Created || !e.is_pr || e.issue_state == "closed" {
            return Ok(());
        }
        let opts = approve_for(&ctx.plugins, e.org(), e.repo_name())?;
        if ctx.bot.is_bot(&e.user.login) || !is_approval_command(&e.body, opts.lgtm_acts_as_approve)
        {
            return Ok(());
        }
        let pr = ctx
            .github
            .get_pull_request(e.org(), e.repo_name(), e.number)
            .await?;
        handle(
            ctx,
            &opts,
            &PrState {
                org: e.org(),
                repo: e.repo_name(),
                branch: &pr.base.git_ref,
                number: e.number,
                body: &e.issue_body,
                author: &e.issue_author.login,
                assignees: &e.assignees,
                html_url: &e.issue_html_url,
            },
        )
        .await
    }

    async fn handle_review(&self, ctx: &PluginContext, re: &ReviewEvent) -> PluginResult {
        if re.action != "submitted" && re.action != "dismissed" {
            return Ok(());
        }
        let reviewer = &re.review.user;
        if ctx.bot.is_bot(&reviewer.login) || reviewer.kind == "Bot" {
            return Ok(());
        }
        let (org, repo) = (
            re.repository.owner.login.as_str(),
            re.repository.name.as_str(),
        );
        let opts = approve_for(&ctx.plugins, org, repo)?;
        // Commands in the review body are handled through the generic comment.
        if is_approval_command(
            re.review.body.as_deref().unwrap_or_default(),
            opts.lgtm_acts_as_approve,
        ) {
            return Ok(());
        }
        let state = ReviewState::parse(&re.review.state);
        let is_approval_state = opts.consider_review_state()
            && matches!(
                state,
                ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed
            );
        if !is_approval_state {
            return Ok(());
        }
        let pr = &re.pull_request;
        handle(
            ctx,
            &opts,
            &PrState {
                org,
                repo,
                branch: &pr.base.git_ref,
                number: pr.number,
                body: pr.body.as_deref().unwrap_or_default(),
                author: &pr.user.login,
                assignees: &pr.assignees,
                html_url: &pr.html_url,
            },
        )
        .await
    }

    async fn handle_pull_request(
        &self,
        ctx: &PluginContext,
        pe: &PullRequestEvent,
    ) -> PluginResult {
        if !matches!(
            pe.action.as_str(),
            "opened" | "reopened" | "synchronize" | "labeled"
        ) {
            return Ok(());
        }
        if pe.action == "labeled" {
            let is_approved_label = pe.label.as_ref().is_some_and(|l| l.name == APPROVED);
            if !is_approved_label
                || ctx.bot.is_bot(&pe.sender.login)
                || pe.pull_request.state == "closed"
            {
                return Ok(());
            }
        }
        let (org, repo) = (
            pe.repository.owner.login.as_str(),
            pe.repository.name.as_str(),
        );
        let opts = approve_for(&ctx.plugins, org, repo)?;
        let pr = &pe.pull_request;
        handle(
            ctx,
            &opts,
            &PrState {
                org,
                repo,
                branch: &pr.base.git_ref,
                number: pe.number.max(pr.number),
                body: pr.body.as_deref().unwrap_or_default(),
                author: &pr.user.login,
                assignees: &pr.assignees,
                html_url: &pr.html_url,
            },
        )
        .await
    }
}

fn at(t: Option<DateTime<Utc>>) -> DateTime<Utc> {
    t.unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

async fn handle(ctx: &PluginContext, opts: &Approve, pr: &PrState<'_>) -> PluginResult {
    let (org, repo, number) = (pr.org, pr.repo, pr.number);
    let fetch_err = |what: &str, e: prow_github::GitHubError| {
        PluginError::Other(format!(
            "failed to get {what} for {org}/{repo}#{number}: {e}"
        ))
    };
    let owners = ctx.load_owners(org, repo, pr.branch).await?;
    let gh = ctx.github.as_ref();
    let changes = gh
        .get_pull_request_changes(org, repo, number)
        .await
        .map_err(|e| fetch_err("PR file changes", e))?;
    let labels = gh
        .get_issue_labels(org, repo, number)
        .await
        .map_err(|e| fetch_err("issue labels", e))?;
    let has_approved = labels.iter().any(|l| l.name == APPROVED);
    let issue_comments = gh
        .list_issue_comments(org, repo, number)
        .await
        .map_err(|e| fetch_err("issue comments", e))?;
    let review_comments = gh
        .list_review_comments(org, repo, number)
        .await
        .map_err(|e| fetch_err("review comments", e))?;
    let reviews = gh
        .list_reviews(org, repo, number)
        .await
        .map_err(|e| fetch_err("reviews", e))?;
    let manually_approved = has_approved && human_added_approved(ctx, org, repo, number).await;

    // Same order as Prow before the stable sort by time: review comments, issue comments, reviews.
    let mut events: Vec<ApprovalEvent> = Vec::new();
    events.extend(
        review_comments
            .iter()
            .map(|c| ApprovalEvent::comment(&c.user.login, &c.body, at(c.created_at), &c.html_url)),
    );
    events.extend(
        issue_comments
            .iter()
            .map(|c| ApprovalEvent::comment(&c.user.login, &c.body, at(c.created_at), &c.html_url)),
    );
    events.extend(reviews.iter().map(|r| {
        let mut ev = ApprovalEvent::review(
            &r.user.login,
            r.body.as_deref().unwrap_or_default(),
            ReviewState::parse(&r.state),
            at(r.submitted_at),
            &r.html_url,
        );
        ev.author_is_bot = r.user.kind == "Bot";
        ev
    }));

    let context = PullRequestContext {
        number,
        org: org.to_owned(),
        author: pr.author.to_owned(),
        body: pr.body.to_owned(),
        html_url: pr.html_url.to_owned(),
        changed_files: changes.into_iter().map(|c| c.filename).collect(),
        assignees: pr.assignees.iter().map(|u| u.login.clone()).collect(),
        bot_login: Some(ctx.bot.login().to_owned()),
        manually_approved,
    };
    let approvers = evaluate(&owners, &context, &events, &opts.decision_config());

    let links = NotificationLinks {
        link_url: if ctx.config.prow.github.link_url.is_empty() {
            "https://github.com".to_owned()
        } else {
            ctx.config.prow.github.link_url.clone()
        },
        command_help_link: opts.command_help_link.clone(),
        pr_process_link: opts.pr_process_link.clone(),
        profile_base_url: "https://github.com".to_owned(),
    };
    let message = render_notification(
        &approvers,
        &links,
        RepoRef {
            org,
            repo,
            branch: pr.branch,
        },
    );
    let notifications: Vec<&IssueComment> = issue_comments
        .iter()
        .filter(|c| ctx.bot.is_bot(&c.user.login) && is_approval_notification(&c.body))
        .collect();
    let latest = notifications.last().map(|c| c.body.as_str());
    if notification_needs_update(latest, &message) {
        for n in &notifications {
            if let Err(err) = gh.delete_comment(org, repo, n.id).await {
                tracing::error!(error = %err, id = n.id, "failed to delete notification comment");
            }
        }
        if let Err(err) = gh.create_comment(org, repo, number, &message).await {
            tracing::error!(error = %err, "failed to create notification comment");
        }
    }

    if !approvers.is_approved() {
        if has_approved && let Err(err) = gh.remove_label(org, repo, number, APPROVED).await {
            tracing::error!(error = %err, "failed to remove {APPROVED:?} label");
        }
    } else if !has_approved
        && let Err(err) = crate::plugins::add_label(gh, org, repo, number, APPROVED).await
    {
        tracing::error!(error = %err, "failed to add {APPROVED:?} label");
    }
    Ok(())
}

/// Whether the last `labeled approved` event was by a human (Prow's `WasLabelAddedByHuman`).
async fn human_added_approved(ctx: &PluginContext, org: &str, repo: &str, number: u64) -> bool {
    match ctx.github.list_issue_events(org, repo, number).await {
        Ok(events) => events
            .iter()
            .rfind(|e| e.event == "labeled" && e.label.as_ref().is_some_and(|l| l.name == APPROVED))
            .is_some_and(|e| !e.actor.login.is_empty() && !ctx.bot.is_bot(&e.actor.login)),
        Err(err) => {
            tracing::error!(error = %err, "failed to check if {APPROVED} label was added by bot");
            false
        }
    }
}
