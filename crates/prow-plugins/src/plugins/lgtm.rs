//! `lgtm`: `/lgtm`, `/lgtm cancel`, `/remove-lgtm` and (with `review_acts_as_lgtm`) GitHub
//! reviews manage the `lgtm` label; pushes remove it unless the tree is unchanged
//! (`store_tree_hash`) or the author is in the sticky team (Prow's `pkg/plugins/lgtm`, spec §5.3).

use std::sync::LazyLock;

use async_trait::async_trait;
use prow_commands::lgtm::{self as cmd, LgtmAction};
use prow_config::PluginsConfig;
use prow_github::events::{PullRequestEvent, ReviewEvent};
use prow_github::{IssueComment, Repo, User, has_label};
use regex::Regex;

use crate::config::{Lgtm, lgtm_for};
use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::LGTM;
use crate::respond::format_response_raw;
use crate::{Plugin, PluginContext, PluginError, PluginResult};

/// Comment storing the tree hash when LGTM is added with `store_tree_hash`.
pub fn add_lgtm_notification(tree_hash: &str) -> String {
    format!("LGTM label has been added.  <details>Git tree hash: {tree_hash}</details>")
}

/// Comment posted when a push removes LGTM.
pub const REMOVE_LGTM_NOTIFICATION: &str = "New changes are detected. LGTM label has been removed.";

static ADD_NOTIFICATION_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"LGTM label has been added\.  <details>Git tree hash: (.*)</details>").ok()
});

/// The tree hash stored in an LGTM notification, if `body` is one.
pub fn stored_tree_hash(body: &str) -> Option<&str> {
    let re = ADD_NOTIFICATION_RE.as_ref()?;
    re.captures(body).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// The tree hash in the newest unedited bot notification (Prow walks comments backwards and
/// ignores edited ones so a forged hash cannot be planted by editing).
pub fn last_lgtm_tree_hash(
    comments: &[IssueComment],
    is_bot: impl Fn(&str) -> bool,
) -> Option<String> {
    comments.iter().rev().find_map(|c| {
        let unedited = c.updated_at == c.created_at;
        if is_bot(&c.user.login) && unedited {
            stored_tree_hash(&c.body).map(str::to_owned)
        } else {
            None
        }
    })
}

/// The plugin.
pub struct LgtmPlugin;

/// Who asked for what, on which PR.
struct ReviewCtx<'a> {
    author: &'a str,
    issue_author: &'a str,
    body: &'a str,
    html_url: &'a str,
    repo: &'a Repo,
    assignees: &'a [User],
    number: u64,
}

#[async_trait]
impl Plugin for LgtmPlugin {
    fn name(&self) -> &'static str {
        "lgtm"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[
            EventKind::PullRequest,
            EventKind::Review,
            EventKind::GenericComment,
        ]
    }

    fn help(&self, cfg: &PluginsConfig, repos: &[OrgRepo]) -> PluginHelp {
        let mut h = PluginHelp::new(
            "The lgtm plugin manages the application and removal of the 'lgtm' (Looks Good To Me) label which is typically used to gate merging.",
        );
        for r in repos {
            let Ok(opts) = lgtm_for(cfg, &r.org, &r.repo) else {
                continue;
            };
            let mut items = Vec::new();
            if opts.review_acts_as_lgtm {
                items.push(r#"<li>Reviews of "approve" or "request changes" act as adding or removing LGTM.</li>"#.to_owned());
            }
            if opts.store_tree_hash {
                items.push("<li>Squashing commits does not remove LGTM.</li>".to_owned());
            }
            if !opts.sticky_lgtm_team.is_empty() {
                items.push(format!(
                    r#"<li>Commits from "{}" do not remove LGTM.</li>"#,
                    opts.sticky_lgtm_team
                ));
            }
            if !items.is_empty() {
                let mut lines = vec!["The plugin has the following configuration:<ul>".to_owned()];
                lines.extend(items);
                lines.push("</ul>".to_owned());
                h.config.insert(r.to_string(), lines.join("\n"));
            }
        }
        h.snippet = "lgtm:\n- repos:\n  - kubernetes/test-infra\n  review_acts_as_lgtm: true\n  store_tree_hash: true\n  trusted_team_for_sticky_lgtm: team1\n".to_owned();
        h.add_command(Command::new(
            "/[remove-]lgtm [cancel] or GitHub Review action",
            "Adds or removes the 'lgtm' label which is typically used to gate merging.",
            true,
            "Collaborators on the repository. '/lgtm cancel' can be used additionally by the PR author.",
            &[
                "/lgtm",
                "/lgtm cancel",
                "/remove-lgtm",
                "<a href=\"https://help.github.com/articles/about-pull-request-reviews/\">'Approve' or 'Request Changes'</a>",
            ],
        ));
        h
    }

    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        e: &GenericCommentEvent,
    ) -> PluginResult {
        if !e.is_pr || e.issue_state != "open" || e.action != CommentAction::Created {
            return Ok(());
        }
        let Some(action) = cmd::parse(&e.body) else {
            return Ok(());
        };
        let rc = ReviewCtx {
            author: &e.user.login,
            issue_author: &e.issue_author.login,
            body: &e.body,
            html_url: &e.html_url,
            repo: &e.repo,
            assignees: &e.assignees,
            number: e.number,
        };
        handle(ctx, action == LgtmAction::Add, &rc).await
    }

    async fn handle_review(&self, ctx: &PluginContext, e: &ReviewEvent) -> PluginResult {
        let opts = lgtm_for(&ctx.plugins, &e.repository.owner.login, &e.repository.name)?;
        if !opts.review_acts_as_lgtm || e.action != "submitted" {
            return Ok(());
        }
        let reviewer = &e.review.user;
        if ctx.bot.is_bot(&reviewer.login) || reviewer.kind == "Bot" {
            return Ok(());
        }
        let body = e.review.body.as_deref().unwrap_or_default();
        // An explicit command in the review body is handled as a generic comment instead.
        if cmd::has_command(body) {
            return Ok(());
        }
        let want = if e.review.state_is("APPROVED") {
            true
        } else if e.review.state_is("CHANGES_REQUESTED") {
            false
        } else {
            return Ok(());
        };
        let rc = ReviewCtx {
            author: &reviewer.login,
            issue_author: &e.pull_request.user.login,
            body,
            html_url: &e.review.html_url,
            repo: &e.repository,
            assignees: &e.pull_request.assignees,
            number: e.pull_request.number,
        };
        handle(ctx, want, &rc).await
    }

    async fn handle_pull_request(
        &self,
        ctx: &PluginContext,
        pe: &PullRequestEvent,
    ) -> PluginResult {
        if pe.pull_request.merged || pe.action != "synchronize" {
            return Ok(());
        }
        let (org, repo) = crate::plugins::base_org_repo(pe);
        let (org, repo) = (org.as_str(), repo.as_str());
        let number = pe.pull_request.number;
        let opts = lgtm_for(&ctx.plugins, org, repo)?;
        if sticky_lgtm(ctx, &opts, &pe.pull_request.user.login, org).await {
            return Ok(());
        }
        let labels = match ctx.github.get_issue_labels(org, repo, number).await {
            Ok(l) => l,
            Err(err) => {
                tracing::error!(error = %err, "failed to get labels");
                Vec::new()
            }
        };
        if !has_label(&labels, LGTM) {
            return Ok(());
        }
        if opts.store_tree_hash {
            let comments = match ctx.github.list_issue_comments(org, repo, number).await {
                Ok(c) => c,
                Err(err) => {
                    tracing::error!(error = %err, "failed to get issue comments");
                    Vec::new()
                }
            };
            if let Some(last) = last_lgtm_tree_hash(&comments, |l| ctx.bot.is_bot(l)) {
                match ctx
                    .github
                    .get_single_commit(org, repo, &pe.pull_request.head.sha)
                    .await
                {
                    Ok(commit) if commit.commit.tree.sha == last => {
                        tracing::info!(tree = %last, "keeping LGTM label as the tree-hash remained the same");
                        return Ok(());
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::error!(error = %err, sha = %pe.pull_request.head.sha, "failed to get commit")
                    }
                }
            }
        }
        let logins: Vec<String> = pe
            .pull_request
            .assignees
            .iter()
            .map(|u| u.login.clone())
            .collect();
        remove_lgtm_and_request_review(ctx, org, repo, number, &logins, opts.store_tree_hash)
            .await
            .map_err(|e| PluginError::Other(format!("failed removing lgtm label: {e}")))?;
        ctx.github
            .create_comment(org, repo, number, REMOVE_LGTM_NOTIFICATION)
            .await?;
        Ok(())
    }
}

async fn reply(ctx: &PluginContext, rc: &ReviewCtx<'_>, msg: &str) -> PluginResult {
    let body = format_response_raw(rc.body, rc.html_url, rc.author, msg);
    ctx.github
        .create_comment(&rc.repo.owner.login, &rc.repo.name, rc.number, &body)
        .await?;
    Ok(())
}

async fn handle(ctx: &PluginContext, want_lgtm: bool, rc: &ReviewCtx<'_>) -> PluginResult {
    let (org, repo) = (rc.repo.owner.login.as_str(), rc.repo.name.as_str());
    let number = rc.number;
    let is_author = rc.author == rc.issue_author;
    if is_author && want_lgtm {
        return reply(ctx, rc, "you cannot LGTM your own PR.").await;
    }
    let is_assignee = rc.assignees.iter().any(|a| a.login == rc.author);
    let owners_cfg = crate::config::owners(&ctx.plugins)?;
    let skip_collaborators = owners_cfg.skip_collaborators(org, repo);
    // Prow aborts when collaborator status is unknown.
    let is_collaborator = ctx.github.is_collaborator(org, repo, rc.author).await?;
    if !is_author && !skip_collaborators && !is_collaborator {
        return reply(ctx, rc, "changing LGTM is restricted to collaborators").await;
    }
    if !is_author && !is_assignee && !skip_collaborators {
        tracing::info!("assigning {org}/{repo}#{number} to {}", rc.author);
        if let Err(err) = ctx
            .github
            .assign_issue(org, repo, number, &[rc.author.to_owned()])
            .await
        {
            tracing::error!(error = %err, "failed to assign {org}/{repo}#{number} to {}", rc.author);
        }
    } else if !is_author && skip_collaborators {
        let pr = ctx.github.get_pull_request(org, repo, number).await?;
        let owners = ctx.load_owners(org, repo, &pr.base.git_ref).await?;
        let files: Vec<String> = ctx
            .github
            .get_pull_request_changes(org, repo, number)
            .await
            .map_err(|_| {
                PluginError::Other(format!("cannot get PR changes for {org}/{repo}#{number}"))
            })?
            .into_iter()
            .map(|c| c.filename)
            .collect();
        let author = prow_owners::norm_login(rc.author);
        let allowed = files.iter().any(|f| {
            owners.approvers(f).contains(&author) || owners.reviewers(f).contains(&author)
        });
        if !allowed {
            return reply(
                ctx,
                rc,
                "adding LGTM is restricted to approvers and reviewers in OWNERS files.",
            )
            .await;
        }
    }

    let labels = match ctx.github.get_issue_labels(org, repo, number).await {
        Ok(l) => l,
        Err(err) => {
            tracing::error!(error = %err, "failed to get issue labels");
            Vec::new()
        }
    };
    let has_lgtm = has_label(&labels, LGTM);
    let opts = lgtm_for(&ctx.plugins, org, repo)?;
    if has_lgtm && !want_lgtm {
        tracing::info!("removing LGTM label");
        let logins: Vec<String> = rc.assignees.iter().map(|u| u.login.clone()).collect();
        remove_lgtm_and_request_review(ctx, org, repo, number, &logins, opts.store_tree_hash)
            .await?;
        if opts.store_tree_hash {
            ctx.pruner()?
                .prune(|c| stored_tree_hash(&c.body).is_some())
                .await;
        }
    } else if !has_lgtm && want_lgtm {
        tracing::info!("adding LGTM label");
        crate::plugins::add_label(ctx.github.as_ref(), org, repo, number, LGTM).await?;
        if !sticky_lgtm(ctx, &opts, rc.issue_author, org).await {
            if opts.store_tree_hash {
                store_tree_hash(ctx, org, repo, number).await;
            }
            ctx.pruner()?
                .prune(|c| c.body.contains(REMOVE_LGTM_NOTIFICATION))
                .await;
        }
    }
    Ok(())
}

/// Posts the tree-hash comment; failures are logged only, as in Prow.
async fn store_tree_hash(ctx: &PluginContext, org: &str, repo: &str, number: u64) {
    let pr = match ctx.github.get_pull_request(org, repo, number).await {
        Ok(pr) => pr,
        Err(err) => {
            tracing::error!(error = %err, "failed to get pull request");
            return;
        }
    };
    let tree = match ctx.github.get_single_commit(org, repo, &pr.head.sha).await {
        Ok(c) => c.commit.tree.sha,
        Err(err) => {
            tracing::error!(error = %err, sha = %pr.head.sha, "failed to get commit");
            String::new()
        }
    };
    tracing::info!(tree = %tree, "adding comment to store tree-hash");
    if let Err(err) = ctx
        .github
        .create_comment(org, repo, number, &add_lgtm_notification(&tree))
        .await
    {
        tracing::error!(error = %err, "failed to add comment");
    }
}

async fn remove_lgtm_and_request_review(
    ctx: &PluginContext,
    org: &str,
    repo: &str,
    number: u64,
    logins: &[String],
    store_tree_hash: bool,
) -> PluginResult {
    ctx.github
        .remove_label(org, repo, number, LGTM)
        .await
        .map_err(|e| PluginError::Other(format!("failed removing lgtm label: {e}")))?;
    if store_tree_hash {
        ctx.github
            .request_review(org, repo, number, logins)
            .await
            .map_err(|_| PluginError::Other("failed to re-request review".into()))?;
    }
    Ok(())
}

/// Whether `author` belongs to the configured sticky-LGTM team. Prow looks the team up by name
/// among the org's teams; the GitHub trait lists members by slug, so the slug GitHub derives from
/// the name (lower case, runs of other characters as `-`) is used.
async fn sticky_lgtm(ctx: &PluginContext, opts: &Lgtm, author: &str, org: &str) -> bool {
    if opts.sticky_lgtm_team.is_empty() {
        return false;
    }
    let slug = team_slug(&opts.sticky_lgtm_team);
    match ctx.github.list_team_members(org, &slug).await {
        Ok(members) => members.iter().any(|m| m.login == author),
        Err(err) => {
            tracing::error!(
                error = %err,
                "the configured trusted_team_for_sticky_lgtm ({:?}) was not found in the org {org:?}",
                opts.sticky_lgtm_team
            );
            false
        }
    }
}

/// GitHub's slug for a team name.
pub fn team_slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn tree_hash_round_trip() {
        let body = add_lgtm_notification("deadbeef");
        assert_eq!(
            body,
            "LGTM label has been added.  <details>Git tree hash: deadbeef</details>"
        );
        assert_eq!(stored_tree_hash(&body), Some("deadbeef"));
        assert_eq!(stored_tree_hash("LGTM label has been added."), None);
    }

    #[test]
    fn last_unedited_bot_hash_wins() {
        let t0 = Utc.timestamp_opt(1_000, 0).single();
        let t1 = Utc.timestamp_opt(2_000, 0).single();
        let c = |login: &str, body: String, edited: bool| IssueComment {
            user: User {
                login: login.into(),
                ..Default::default()
            },
            body,
            created_at: t0,
            updated_at: if edited { t1 } else { t0 },
            ..Default::default()
        };
        let comments = vec![
            c("bot", add_lgtm_notification("old"), false),
            c("bot", add_lgtm_notification("new"), false),
            c("bot", add_lgtm_notification("edited"), true),
            c("mallory", add_lgtm_notification("forged"), false),
        ];
        assert_eq!(
            last_lgtm_tree_hash(&comments, |l| l == "bot"),
            Some("new".into())
        );
        assert_eq!(last_lgtm_tree_hash(&comments[2..], |l| l == "bot"), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(team_slug("team1"), "team1");
        assert_eq!(team_slug("Sticky LGTM Team"), "sticky-lgtm-team");
        assert_eq!(team_slug("a.b_c"), "a-b_c");
    }
}
