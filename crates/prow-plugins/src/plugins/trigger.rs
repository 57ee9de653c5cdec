//! `trigger`: starts presubmits on pull request events and `/test`-style comments, postsubmits on
//! pushes, and manages `ok-to-test` trust (Prow's `pkg/plugins/trigger`, spec §3.6).
//!
//! Job selection uses `prow_config::select` (Prow's `pjutil` filters) and ProwJobs are built by
//! `prow_config::pjutil`, so every job creator in the system produces the same objects.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::Utc;
use prow_api::labels as pjlabels;
use prow_api::{ProwJob, ProwJobState, Refs};
use prow_commands::text::drop_code_blocks;
use prow_commands::trigger::{self as cmd, HelpNote, TriggerCommands};
use prow_config::pjutil::{PullRequestRefs, new_postsubmit, new_presubmit};
use prow_config::{Filter, PluginsConfig, Presubmit, filter_postsubmits, filter_presubmits};
use prow_github::events::{PullRequestEvent, PushEvent};
use prow_github::{GitHub, GitHubError, Label, PullRequest, User, has_label};
use prow_jobstore::{ListParams, StoreError};

use crate::bot::BotIdentity;
use crate::config::{Trigger, trigger_for};
use crate::event::{CommentAction, EventKind, GenericCommentEvent};
use crate::help::{Command, OrgRepo, PluginHelp};
use crate::labels::{LGTM, NEEDS_OK_TO_TEST, OK_TO_TEST};
use crate::respond::{ABOUT_THIS_BOT_WITHOUT_COMMANDS, format_response_raw, query_escape};
use crate::{Plugin, PluginContext, PluginError, PluginResult};

/// Description set on presubmits aborted by a push, close or conversion to draft.
pub const ABORTED_DESCRIPTION: &str = "Aborted by trigger plugin.";
/// Reply to untrusted users on untrusted PRs.
pub const UNTRUSTED_REPLY: &str = "Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message.";
/// Reply to untrusted users when `ignore_ok_to_test` is set.
pub const UNTRUSTED_IGNORE_OK_TO_TEST_REPLY: &str = "PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test`.";
/// Reply when an untrusted user tries `/ok-to-test cancel`.
pub const ONLY_TRUSTED_CAN_REVOKE: &str = "Only trusted users can revoke `/ok-to-test`.";
/// Comment on draft PRs opened by trusted authors.
pub const DRAFT_MESSAGE: &str = "Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`";

const AVAILABLE_REQUIRED_TESTS_NOTE: &str =
    "The following commands are available to trigger required jobs:";
const AVAILABLE_OPTIONAL_TESTS_NOTE: &str =
    "The following commands are available to trigger optional jobs:";
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

// ---------------------------------------------------------------------------------------------
// trust

/// The outcome of a trust check (Prow's `TrustedUserResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedUserResponse {
    /// The user is trusted.
    pub is_trusted: bool,
    /// Why not, when not.
    pub reason: String,
}

const NOT_MEMBER: u8 = 1;
const NOT_COLLABORATOR: u8 = 2;
const NOT_SECONDARY_MEMBER: u8 = 4;

fn untrusted_reason(bits: u8) -> String {
    let mut s = String::new();
    if bits & NOT_MEMBER != 0 {
        s.push_str("User is not a member of the org. ");
    }
    if bits & NOT_COLLABORATOR != 0 {
        s.push_str("User is not a collaborator. ");
    }
    if bits & NOT_SECONDARY_MEMBER != 0 {
        s.push_str("User is not a member of the trusted secondary org. ");
    }
    s.push_str("Satisfy at least one of these conditions to make the user trusted.");
    s
}

/// Whether `user` may start tests on `org/repo` (Prow's `TrustedUser`): the bot, org members,
/// collaborators (unless `only_org_members`), trusted GitHub Apps, members of `trusted_org`.
pub async fn trusted_user(
    gh: &dyn GitHub,
    bot: &BotIdentity,
    trigger: &Trigger,
    user: &str,
    org: &str,
    repo: &str,
) -> Result<TrustedUserResponse, GitHubError> {
    let ok = TrustedUserResponse {
        is_trusted: true,
        reason: String::new(),
    };
    let not = |bits| TrustedUserResponse {
        is_trusted: false,
        reason: untrusted_reason(bits),
    };
    if bot.is_bot(user) || gh.is_member(org, user).await? {
        return Ok(ok);
    }
    if !trigger.only_org_members && gh.is_collaborator(org, repo, user).await? {
        return Ok(ok);
    }
    if let Some(app) = user.strip_suffix("[bot]")
        && trigger.trusted_apps.iter().any(|a| a == app)
    {
        return Ok(ok);
    }
    if trigger.trusted_org.is_empty() || trigger.trusted_org == org {
        return Ok(if trigger.only_org_members {
            not(NOT_MEMBER)
        } else {
            not(NOT_MEMBER | NOT_COLLABORATOR)
        });
    }
    if gh.is_member(&trigger.trusted_org, user).await? {
        return Ok(ok);
    }
    Ok(if trigger.only_org_members {
        not(NOT_MEMBER | NOT_SECONDARY_MEMBER)
    } else {
        not(NOT_MEMBER | NOT_SECONDARY_MEMBER | NOT_COLLABORATOR)
    })
}

/// Whether a PR is trusted: its author is, or it carries `ok-to-test` (Prow's
/// `TrustedPullRequest`). Returns the labels when they had to be fetched.
pub async fn trusted_pull_request(
    gh: &dyn GitHub,
    bot: &BotIdentity,
    trigger: &Trigger,
    author: &str,
    org: &str,
    repo: &str,
    number: u64,
) -> Result<(Option<Vec<Label>>, bool), PluginError> {
    let resp = trusted_user(gh, bot, trigger, author, org, repo)
        .await
        .map_err(|e| PluginError::Other(format!("error checking {author} for trust: {e}")))?;
    if resp.is_trusted {
        return Ok((None, true));
    }
    let labels = gh.get_issue_labels(org, repo, number).await?;
    let trusted = has_label(&labels, OK_TO_TEST);
    Ok((Some(labels), trusted))
}

// ---------------------------------------------------------------------------------------------
// help replies

/// Whether a bot comment is one of trigger's help replies (pruned after a successful `/test`).
pub fn is_help_comment(body: &str) -> bool {
    [
        HelpNote::TestWithoutTarget.note(),
        HelpNote::RetestWithTarget.note(),
        HelpNote::TargetNotFound.note(),
        HelpNote::NoTestAllJobs.note(),
        AVAILABLE_REQUIRED_TESTS_NOTE,
        AVAILABLE_OPTIONAL_TESTS_NOTE,
    ]
    .iter()
    .any(|n| body.contains(n))
}

/// The `/test ?` listing (Prow's `HelpMessage`).
pub fn help_message(
    org: &str,
    repo: &str,
    branch: &str,
    note: &str,
    test_all_names: &BTreeSet<String>,
    optional_commands: &BTreeSet<String>,
    required_commands: &BTreeSet<String>,
) -> String {
    if test_all_names.len() + optional_commands.len() + required_commands.len() == 0 {
        return format!("No presubmit jobs available for {org}/{repo}@{branch}");
    }
    let list = |names: &BTreeSet<String>| -> String {
        names.iter().map(|n| format!("\n```\n{n}\n```")).collect()
    };
    let mut resp = note.to_owned();
    if !required_commands.is_empty() {
        resp.push_str(AVAILABLE_REQUIRED_TESTS_NOTE);
        resp.push_str(&list(required_commands));
        resp.push_str("\n\n");
    }
    if !optional_commands.is_empty() {
        resp.push_str(AVAILABLE_OPTIONAL_TESTS_NOTE);
        resp.push_str(&list(optional_commands));
        resp.push_str("\n\n");
    }
    if test_all_names.len() == optional_commands.len() + required_commands.len() {
        resp.push_str("Use `/test all` to run all jobs.\n");
    } else if !test_all_names.is_empty() {
        resp.push_str(&format!(
            "Use `/test all` to run the following jobs that were automatically triggered:{}\n\n",
            list(test_all_names)
        ));
    }
    resp
}

/// Job names `/test all` would run, and the rerun commands of jobs runnable by their trigger,
/// split optional/required (Prow's `AvailablePresubmits`).
pub fn available_presubmits(
    changes: &[String],
    branch: &str,
    presubmits: &[Presubmit],
) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut provider = || Ok::<_, std::convert::Infallible>(changes.to_vec());
    let test_all: BTreeSet<String> =
        filter_presubmits(&Filter::TestAll, &mut provider, branch, presubmits)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.base.name.clone())
            .collect();
    let by_trigger = Filter::Aggregate(
        presubmits
            .iter()
            .map(|p| Filter::Command(p.rerun_command.clone()))
            .collect(),
    );
    let mut optional = BTreeSet::new();
    let mut required = BTreeSet::new();
    for p in filter_presubmits(&by_trigger, &mut provider, branch, presubmits).unwrap_or_default() {
        if p.optional {
            optional.insert(p.rerun_command.clone());
        } else {
            required.insert(p.rerun_command.clone());
        }
    }
    (test_all, optional, required)
}

/// Whether selecting with `filter` may need the PR's changed files: some job passes the filter
/// and the branch, is not forced and has a change filter. Used to fetch the files only when
/// `filter_presubmits` would ask for them.
fn needs_changes(filter: &Filter, branch: &str, presubmits: &[Presubmit]) -> bool {
    presubmits.iter().any(|p| {
        let (matches, forced, _) = filter.should_run(p);
        matches && p.could_run(branch) && !p.always_run && !forced && p.changes.could_run()
    })
}

/// Selects presubmits, fetching changed files first if the selection needs them.
async fn select_presubmits<'a>(
    gh: &dyn GitHub,
    filter: &Filter,
    org: &str,
    repo: &str,
    number: u64,
    branch: &str,
    presubmits: &'a [Presubmit],
) -> Result<Vec<&'a Presubmit>, PluginError> {
    let changes = if needs_changes(filter, branch, presubmits) {
        changed_files(gh, org, repo, number).await?
    } else {
        Vec::new()
    };
    let mut provider = || Ok::<_, std::convert::Infallible>(changes.clone());
    Ok(filter_presubmits(filter, &mut provider, branch, presubmits).unwrap_or_default())
}

async fn changed_files(
    gh: &dyn GitHub,
    org: &str,
    repo: &str,
    number: u64,
) -> Result<Vec<String>, PluginError> {
    Ok(gh
        .get_pull_request_changes(org, repo, number)
        .await?
        .into_iter()
        .map(|c| c.filename)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// the plugin

/// The plugin.
pub struct TriggerPlugin;

#[async_trait]
impl Plugin for TriggerPlugin {
    fn name(&self) -> &'static str {
        "trigger"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[
            EventKind::PullRequest,
            EventKind::Push,
            EventKind::GenericComment,
        ]
    }

    fn help(&self, cfg: &PluginsConfig, repos: &[OrgRepo]) -> PluginHelp {
        let mut h = PluginHelp::new(
            "The trigger plugin starts jobs in reaction to various events.\n<br>Presubmit jobs are run automatically on pull requests that are trusted and not in a draft state with file changes matching the file filters and targeting a branch matching the branch filters.\n<br>A pull request is considered trusted if the author is a member of the 'trusted organization' for the repository or if such a member has left an '/ok-to-test' command on the PR.\n<br>Trusted status granted by '/ok-to-test' can be revoked by a trusted user with '/ok-to-test cancel', which restores the 'needs-ok-to-test' label.\n<br>Trigger will not automatically start jobs for a PR in draft state, and if a PR is changed to draft it cancels pending jobs.\n<br>If jobs are not run automatically for a PR because it is not trusted or is in draft state, a trusted user can still start jobs manually via the '/test' command.\n<br>The '/retest' command can be used to rerun jobs that have reported failure.\n<br>The '/test-manual-required' command can be used to start required manually triggered presubmit jobs.\n<br>Trigger starts postsubmit jobs when commits are pushed if the filters on the job match files and branches affected by that push.",
        );
        for r in repos {
            let t = trigger_for(cfg, &r.org, &r.repo).unwrap_or_default();
            let org = if t.trusted_org.is_empty() {
                &r.org
            } else {
                &t.trusted_org
            };
            h.config.insert(
                r.to_string(),
                format!("The trusted GitHub organization for this repository is {org:?}."),
            );
        }
        h.snippet = "triggers:\n- repos:\n  - org/repo1\n  - org/repo2\n  join_org_url: https://github.com/kubernetes/community/blob/master/community-membership.md\n  only_org_members: true\n  ignore_ok_to_test: true\n".to_owned();
        let who = "Anyone can trigger this command on a trusted PR.";
        h.add_command(Command::new(
            "/ok-to-test",
            "Marks a PR as 'trusted' and starts tests.",
            false,
            "Members of the trusted organization for the repo.",
            &["/ok-to-test"],
        ));
        h.add_command(Command::new(
            "/ok-to-test cancel",
            "Revokes trusted status previously granted by '/ok-to-test', removing the 'ok-to-test' label and restoring 'needs-ok-to-test'.",
            false,
            "Members of the trusted organization for the repo.",
            &["/ok-to-test cancel"],
        ));
        h.add_command(Command::new(
            "/test [<job name>|all]",
            "Manually starts a/all automatically triggered test job(s). Lists all possible job(s) when no jobs/an invalid job are specified.",
            true,
            who,
            &["/test all", "/test pull-bazel-test"],
        ));
        h.add_command(Command::new(
            "/retest",
            "Rerun test jobs that have failed.",
            true,
            who,
            &["/retest"],
        ));
        h.add_command(Command::new(
            "/test-manual-required",
            "Manually starts required presubmit jobs that require an explicit trigger and do not use file change conditions.",
            true,
            who,
            &["/test-manual-required"],
        ));
        h.add_command(Command::new(
            "/test ?",
            "List available test job(s) for a trusted PR.",
            true,
            who,
            &["/test ?"],
        ));
        h
    }

    async fn handle_pull_request(
        &self,
        ctx: &PluginContext,
        pe: &PullRequestEvent,
    ) -> PluginResult {
        let (org, repo) = crate::plugins::base_org_repo(pe);
        let trigger = trigger_for(&ctx.plugins, &org, &repo)?;
        handle_pr(ctx, &trigger, pe, &org, &repo).await
    }

    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        gc: &GenericCommentEvent,
    ) -> PluginResult {
        let trigger = trigger_for(&ctx.plugins, gc.org(), gc.repo_name())?;
        handle_generic_comment(ctx, &trigger, gc).await
    }

    async fn handle_push(&self, ctx: &PluginContext, pe: &PushEvent) -> PluginResult {
        handle_push(ctx, pe).await
    }
}

// ---------------------------------------------------------------------------------------------
// job creation and abortion

fn pr_refs(pr: &PullRequest, org: &str, repo: &str) -> PullRequestRefs {
    let repo_link = pr
        .base
        .repo
        .as_ref()
        .map(|r| r.html_url.clone())
        .unwrap_or_default();
    PullRequestRefs {
        org: org.to_owned(),
        repo: repo.to_owned(),
        repo_link,
        base_ref: pr.base.git_ref.clone(),
        number: pr.number,
        author: pr.user.login.clone(),
        author_link: pr.user.html_url.clone(),
        head_sha: pr.head.sha.clone(),
        head_ref: pr.head.git_ref.clone(),
        title: pr.title.clone(),
        link: pr.html_url.clone(),
    }
}

/// Whether `scheduler.enabled` is set in the core config (new jobs then start in `scheduling`).
fn scheduling_enabled(ctx: &PluginContext) -> bool {
    ctx.config
        .prow
        .scheduler
        .as_ref()
        .and_then(|s| s.get("enabled"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Creates a job, retrying transient store failures; an existing job of the same name counts as
/// created (Prow's `createWithRetry`).
async fn create_with_retry(ctx: &PluginContext, job: ProwJob) -> Result<(), StoreError> {
    ctx.mark_action();
    let mut delay = std::time::Duration::from_millis(250);
    let mut attempt = 0;
    loop {
        match ctx.jobs.create(job.clone()).await {
            Ok(_) | Err(StoreError::AlreadyExists(_)) => return Ok(()),
            Err(e @ (StoreError::Backend(_) | StoreError::Conflict(_))) if attempt < 4 => {
                tracing::warn!(error = %e, "failed to create prowjob; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The pull request jobs are being created for.
struct Target<'a> {
    pr: &'a PullRequest,
    org: &'a str,
    repo: &'a str,
    base_sha: &'a str,
    /// Delivery ID of the triggering webhook (the `event-GUID` label).
    guid: &'a str,
}

/// Creates ProwJobs for `jobs` on the PR unless GitHub says it cannot merge (Prow's
/// `RunRequested`).
async fn run_requested(
    ctx: &PluginContext,
    t: &Target<'_>,
    jobs: &[&Presubmit],
    extra_labels: &BTreeMap<String, String>,
) -> PluginResult {
    if t.pr.mergeable == Some(false) {
        return Ok(());
    }
    let refs = pr_refs(t.pr, t.org, t.repo);
    let scheduling = scheduling_enabled(ctx);
    let mut errs = Vec::new();
    for job in jobs {
        tracing::info!(job = %job.base.name, "starting build");
        let mut pj = new_presubmit(&refs, t.base_sha, job, t.guid, extra_labels, Utc::now());
        if scheduling {
            pj.status.state = ProwJobState::Scheduling;
        }
        tracing::info!(prowjob = pj.name(), job = %job.base.name, "creating a new prowjob");
        if let Err(e) = create_with_retry(ctx, pj).await {
            tracing::error!(error = %e, "failed to create prowjob");
            errs.push(e.into());
        }
    }
    PluginError::aggregate(errs)
}

/// Marks every unfinished presubmit of the PR aborted (Prow's `abortAllJobs`).
async fn abort_all_jobs(ctx: &PluginContext, org: &str, repo: &str, number: u64) -> PluginResult {
    let selector = format!(
        "{}={org},{}={repo},{}={number},{}=presubmit",
        pjlabels::ORG,
        pjlabels::REPO,
        pjlabels::PULL,
        pjlabels::PROW_JOB_TYPE
    );
    let params = ListParams::with_labels(&selector)
        .map_err(|e| PluginError::Other(format!("failed to construct label selector: {e}")))?;
    let jobs = ctx
        .jobs
        .list(&params)
        .await
        .map_err(|e| PluginError::Other(format!("failed to list prowjobs for pr: {e}")))?;
    let mut errs = Vec::new();
    for mut job in jobs.items {
        if job.complete() {
            continue;
        }
        job.status.state = ProwJobState::Aborted;
        job.status.description = ABORTED_DESCRIPTION.to_owned();
        ctx.mark_action();
        match ctx.jobs.update(job.clone()).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => errs.push(PluginError::Other(format!(
                "failed to abort job {}: {e}",
                job.name()
            ))),
        }
    }
    PluginError::aggregate(errs)
}

// ---------------------------------------------------------------------------------------------
// pull request events

async fn handle_pr(
    ctx: &PluginContext,
    trigger: &Trigger,
    pe: &PullRequestEvent,
    org: &str,
    repo: &str,
) -> PluginResult {
    let presubmits = ctx.config.jobs.presubmits_for(&format!("{org}/{repo}"));
    if presubmits.is_empty() {
        return Ok(());
    }
    let pr = &pe.pull_request;
    let gh = ctx.github.as_ref();
    let base_sha = gh
        .get_ref(org, repo, &format!("heads/{}", pr.base.git_ref))
        .await
        .map_err(|e| PluginError::Other(format!("failed to get baseSHA: {e}")))?;
    let author = pr.user.login.as_str();
    let target = Target {
        pr,
        org,
        repo,
        base_sha: &base_sha,
        guid: &ctx.delivery_id,
    };

    match pe.action.as_str() {
        "opened" => {
            let resp = trusted_user(gh, &ctx.bot, trigger, author, org, repo)
                .await
                .map_err(|e| PluginError::Other(format!("could not check membership: {e}")))?;
            if resp.is_trusted {
                if pr.draft {
                    tracing::info!("skipping all jobs for draft PR");
                    gh.create_comment(org, repo, pr.number, DRAFT_MESSAGE)
                        .await?;
                    return Ok(());
                }
                tracing::info!("starting all jobs for new PR");
                return build_all_but_drafts(ctx, &target, presubmits).await;
            }
            tracing::info!("welcome message to PR author {author:?}");
            welcome_msg(ctx, trigger, pr, org, repo).await.map_err(|e| {
                PluginError::Other(format!("could not welcome non-org member {author:?}: {e}"))
            })
        }
        "reopened" | "ready_for_review" => {
            build_all_if_trusted(ctx, trigger, &target, presubmits).await
        }
        "edited" => {
            let changed = |field: &str| {
                pe.changes
                    .as_ref()
                    .and_then(|c| c.pointer(&format!("/base/{field}/from")))
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            if changed("ref") || changed("sha") {
                return build_all_if_trusted(ctx, trigger, &target, presubmits).await;
            }
            Ok(())
        }
        "synchronize" => {
            let mut errs = Vec::new();
            if let Err(e) = abort_all_jobs(ctx, org, repo, pr.number).await {
                errs.push(PluginError::Other(format!("failed to abort jobs: {e}")));
            }
            if let Err(e) = build_all_if_trusted(ctx, trigger, &target, presubmits).await {
                errs.push(e);
            }
            PluginError::aggregate(errs)
        }
        "labeled" => {
            let label = pe
                .label
                .as_ref()
                .map(|l| l.name.as_str())
                .unwrap_or_default();
            if label == LGTM {
                let (_, trusted) =
                    trusted_pull_request(gh, &ctx.bot, trigger, author, org, repo, pr.number)
                        .await
                        .map_err(|e| PluginError::Other(format!("could not validate PR: {e}")))?;
                if !trusted {
                    tracing::info!("starting all jobs for untrusted PR with LGTM");
                    return build_all_but_drafts(ctx, &target, presubmits).await;
                }
            }
            if label == OK_TO_TEST {
                if ctx.bot.is_bot(&pe.sender.login) {
                    tracing::debug!("label added by the bot, skipping");
                    return Ok(());
                }
                return build_all_but_drafts(ctx, &target, presubmits).await;
            }
            Ok(())
        }
        "closed" | "converted_to_draft" => abort_all_jobs(ctx, org, repo, pr.number).await,
        _ => Ok(()),
    }
}

async fn build_all_if_trusted(
    ctx: &PluginContext,
    trigger: &Trigger,
    t: &Target<'_>,
    presubmits: &[Presubmit],
) -> PluginResult {
    let gh = ctx.github.as_ref();
    let (labels, trusted) = trusted_pull_request(
        gh,
        &ctx.bot,
        trigger,
        &t.pr.user.login,
        t.org,
        t.repo,
        t.pr.number,
    )
    .await
    .map_err(|e| PluginError::Other(format!("could not validate PR: {e}")))?;
    if !trusted {
        return Ok(());
    }
    // Prow checks the labels it fetched (none when the author is trusted by membership).
    if labels
        .as_deref()
        .is_some_and(|l| has_label(l, NEEDS_OK_TO_TEST))
    {
        gh.remove_label(t.org, t.repo, t.pr.number, NEEDS_OK_TO_TEST)
            .await?;
    }
    tracing::info!("starting all jobs for updated PR");
    build_all_but_drafts(ctx, t, presubmits).await
}

async fn build_all_but_drafts(
    ctx: &PluginContext,
    t: &Target<'_>,
    presubmits: &[Presubmit],
) -> PluginResult {
    if t.pr.draft {
        tracing::info!("skipping all jobs for draft PR");
        return Ok(());
    }
    let to_test = select_presubmits(
        ctx.github.as_ref(),
        &Filter::TestAll,
        t.org,
        t.repo,
        t.pr.number,
        &t.pr.base.git_ref,
        presubmits,
    )
    .await?;
    run_requested(ctx, t, &to_test, &BTreeMap::new()).await
}

/// The comment for untrusted PR authors.
pub fn welcome_message(
    trigger: &Trigger,
    org: &str,
    author: &str,
    repo_full_name: &str,
    membership_guidance: &str,
) -> String {
    let encoded = query_escape(repo_full_name);
    if trigger.ignore_ok_to_test {
        return format!(
            "Hi @{author}. Thanks for your PR.\n\nPRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test all`.\n\nI understand the commands that are listed [here](https://go.k8s.io/bot-commands?repo={encoded}).\n\n<details>\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>\n"
        );
    }
    let more = if !trigger.trusted_org.is_empty() && trigger.trusted_org != org {
        format!(
            "or [{0}](https://github.com/orgs/{0}/people) ",
            trigger.trusted_org
        )
    } else {
        String::new()
    };
    format!(
        "Hi @{author}. Thanks for your PR.\n\nI'm waiting for a [{org}](https://github.com/orgs/{org}/people) {more}member to verify that this patch is reasonable to test. If it is, they should reply with `/ok-to-test` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work.\n\n{membership_guidance}\n\nOnce the patch is verified, the new status will be reflected by the `{OK_TO_TEST}` label.\n\nI understand the commands that are listed [here](https://go.k8s.io/bot-commands?repo={encoded}).\n\n<details>\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>\n"
    )
}

/// The join-the-org sentence; the prominent variant for repeat contributors.
pub fn org_invitation_guidance(trigger: &Trigger, join_org_url: &str, prominent: bool) -> String {
    let p = &trigger.org_invite.prominent;
    if !p.disabled && prominent {
        if !p.message.is_empty() {
            return p.message.replace("{join_org_url}", join_org_url);
        }
        return format!(
            ">[!TIP]\n>**We noticed you've done this a few times! Consider [joining the org]({join_org_url}) to skip this step and gain `/lgtm` and other bot rights.** We recommend asking approvers on your previous PRs to sponsor you."
        );
    }
    format!("Regular contributors should [join the org]({join_org_url}) to skip this step.")
}

/// Whether `author` has at least the configured number of merged PRs in `org` (GitHub search via
/// GraphQL; failures mean "no", as in Prow).
async fn should_highlight_join_org(
    gh: &dyn GitHub,
    org: &str,
    author: &User,
    trigger: &Trigger,
) -> bool {
    if author.kind == "Bot" {
        return false;
    }
    let query = "query($q: String!) { search(type: ISSUE, query: $q, first: 1) { issueCount } }";
    let q = format!("type:pr is:merged org:{org} author:{}", author.login);
    match gh.graphql(org, query, serde_json::json!({ "q": q })).await {
        Ok(data) => data
            .pointer("/search/issueCount")
            .and_then(serde_json::Value::as_u64)
            .is_some_and(|n| n >= trigger.org_invite.prominent.effective_merged_pr_threshold()),
        Err(e) => {
            tracing::debug!(error = %e, author = %author.login, "failed to query merged PRs for join-org guidance");
            false
        }
    }
}

async fn welcome_msg(
    ctx: &PluginContext,
    trigger: &Trigger,
    pr: &PullRequest,
    org: &str,
    repo: &str,
) -> PluginResult {
    let gh = ctx.github.as_ref();
    let full_name = pr
        .base
        .repo
        .as_ref()
        .map(|r| r.full_name.clone())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| format!("{org}/{repo}"));
    let mut errs = Vec::new();
    let comment = if trigger.ignore_ok_to_test {
        welcome_message(trigger, org, &pr.user.login, &full_name, "")
    } else {
        let join_org_url = if trigger.join_org_url.is_empty() {
            format!("https://github.com/orgs/{org}/people")
        } else {
            trigger.join_org_url.clone()
        };
        let prominent = !trigger.org_invite.prominent.disabled
            && should_highlight_join_org(gh, org, &pr.user, trigger).await;
        let guidance = org_invitation_guidance(trigger, &join_org_url, prominent);
        let msg = welcome_message(trigger, org, &pr.user.login, &full_name, &guidance);
        match gh.get_issue_labels(org, repo, pr.number).await {
            Err(e) => errs.push(e.into()),
            Ok(l) if !has_label(&l, OK_TO_TEST) => {
                if let Err(e) =
                    crate::plugins::add_label(gh, org, repo, pr.number, NEEDS_OK_TO_TEST).await
                {
                    errs.push(e.into());
                }
            }
            Ok(_) => {}
        }
        msg
    };
    if let Err(e) = gh.create_comment(org, repo, pr.number, &comment).await {
        errs.push(e.into());
    }
    PluginError::aggregate(errs)
}

// ---------------------------------------------------------------------------------------------
// comments

/// Whether the comment concerns trigger at all (Prow's `commentMatchesTrigger`).
pub fn comment_matches_trigger(
    cmds: &TriggerCommands,
    text: &str,
    presubmits: &[Presubmit],
) -> bool {
    cmds.is_relevant() || presubmits.iter().any(|p| p.trigger_matches(text))
}

/// Failed and all contexts of a combined status (Prow's `getContexts`).
fn contexts(status: &prow_github::CombinedStatus) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut failed = BTreeSet::new();
    let mut all = BTreeSet::new();
    for s in &status.statuses {
        all.insert(s.context.clone());
        if s.state == "error" || s.state == "failure" {
            failed.insert(s.context.clone());
        }
    }
    (failed, all)
}

async fn handle_generic_comment(
    ctx: &PluginContext,
    trigger: &Trigger,
    gc: &GenericCommentEvent,
) -> PluginResult {
    if gc.action != CommentAction::Created || !gc.is_pr || gc.issue_state != "open" {
        return Ok(());
    }
    let (org, repo, number) = (gc.org(), gc.repo_name(), gc.number);
    let commenter = gc.user.login.as_str();
    if ctx.bot.is_bot(commenter) {
        tracing::debug!("comment is made by the bot, skipping");
        return Ok(());
    }
    let presubmits = ctx.config.jobs.presubmits_for(&format!("{org}/{repo}"));
    let text = drop_code_blocks(&gc.body);
    let cmds = cmd::parse_text(&text);
    if !comment_matches_trigger(&cmds, &text, presubmits) {
        tracing::debug!("comment doesn't match any triggering regex, skipping");
        return Ok(());
    }
    let gh = ctx.github.as_ref();
    let reply = |msg: &str| format_response_raw(&gc.body, &gc.html_url, commenter, msg);

    let commenter_trust = trusted_user(gh, &ctx.bot, trigger, commenter, org, repo)
        .await
        .map_err(|e| PluginError::Other(format!("error checking trust of {commenter}: {e}")))?;
    let mut labels = None;
    if !commenter_trust.is_trusted {
        let (l, trusted) = trusted_pull_request(
            gh,
            &ctx.bot,
            trigger,
            &gc.issue_author.login,
            org,
            repo,
            number,
        )
        .await?;
        if !trusted {
            let msg = if trigger.ignore_ok_to_test {
                UNTRUSTED_IGNORE_OK_TO_TEST_REPLY
            } else {
                UNTRUSTED_REPLY
            };
            tracing::info!("commenting {msg:?}");
            gh.create_comment(org, repo, number, &reply(msg)).await?;
            return Ok(());
        }
        labels = l;
    }
    let labels = match labels {
        Some(l) => l,
        None => gh.get_issue_labels(org, repo, number).await?,
    };

    let is_ok_to_test = trigger.honor_ok_to_test() && cmds.ok_to_test;
    if is_ok_to_test && !has_label(&labels, OK_TO_TEST) {
        crate::plugins::add_label(gh, org, repo, number, OK_TO_TEST).await?;
    }
    if (is_ok_to_test || has_label(&labels, OK_TO_TEST)) && has_label(&labels, NEEDS_OK_TO_TEST) {
        gh.remove_label(org, repo, number, NEEDS_OK_TO_TEST).await?;
    }
    if trigger.honor_ok_to_test() && cmds.ok_to_test_cancel {
        if !commenter_trust.is_trusted {
            gh.create_comment(org, repo, number, &reply(ONLY_TRUSTED_CAN_REVOKE))
                .await?;
            return Ok(());
        }
        if has_label(&labels, OK_TO_TEST) {
            gh.remove_label(org, repo, number, OK_TO_TEST).await?;
        }
        if !has_label(&labels, NEEDS_OK_TO_TEST) {
            crate::plugins::add_label(gh, org, repo, number, NEEDS_OK_TO_TEST).await?;
        }
        return Ok(());
    }

    let pr = gh.get_pull_request(org, repo, number).await?;
    let branch = pr.base.git_ref.as_str();
    let base_sha = gh.get_ref(org, repo, &format!("heads/{branch}")).await?;
    if trigger.trigger_github_workflows {
        tracing::debug!(
            "trigger_github_workflows is set but GitHub Actions re-runs are not supported by this client"
        );
    }

    // Prow selects on the raw body (code blocks included), see prow_commands::trigger docs.
    let raw = cmd::parse_text(&gc.body);
    let (failed, all) = if raw.retest || raw.retest_required {
        contexts(&gh.get_combined_status(org, repo, &pr.head.sha).await?)
    } else {
        Default::default()
    };
    let mut ctx_provider = || Ok::<_, std::convert::Infallible>((failed.clone(), all.clone()));
    let filter = Filter::for_comment(trigger.honor_ok_to_test(), &gc.body, &mut ctx_provider)
        .unwrap_or(Filter::Aggregate(Vec::new()));
    let to_test = select_presubmits(gh, &filter, org, repo, number, branch, presubmits).await?;

    if let Some(note) = cmds.help_response(to_test.len()) {
        let changes = changed_files(gh, org, repo, number).await?;
        let (test_all, optional, required) = available_presubmits(&changes, branch, presubmits);
        let msg = help_message(
            org,
            repo,
            branch,
            note.note(),
            &test_all,
            &optional,
            &required,
        );
        gh.create_comment(org, repo, number, &reply(&msg)).await?;
        return Ok(());
    }
    let mut extra = BTreeMap::new();
    if cmds.is_retest() {
        extra.insert(pjlabels::RETEST.to_owned(), "true".to_owned());
    }
    if cmds.prunes_help {
        ctx.pruner()?.prune(|c| is_help_comment(&c.body)).await;
    }
    {
        let target = Target {
            pr: &pr,
            org,
            repo,
            base_sha: &base_sha,
            guid: &gc.guid,
        };
        run_requested(ctx, &target, &to_test, &extra).await
    }
}

// ---------------------------------------------------------------------------------------------
// push

/// Branch (or tag) name of a push ref (Prow's `PushEvent.Branch`).
fn push_branch(git_ref: &str) -> &str {
    let r = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
    r.strip_prefix("refs/tags/").unwrap_or(r)
}

/// Files touched by the pushed commits, de-duplicated and sorted.
pub fn push_changes(pe: &PushEvent) -> Vec<String> {
    let set: BTreeSet<&String> = pe
        .commits
        .iter()
        .flat_map(|c| c.added.iter().chain(&c.removed).chain(&c.modified))
        .collect();
    set.into_iter().cloned().collect()
}

async fn handle_push(ctx: &PluginContext, pe: &PushEvent) -> PluginResult {
    if pe.deleted || pe.after == ZERO_SHA {
        return Ok(());
    }
    let org = pe.org();
    let repo = pe.repository.name.as_str();
    let branch = push_branch(&pe.git_ref);
    let postsubmits = ctx.config.jobs.postsubmits_for(&format!("{org}/{repo}"));
    let changes = push_changes(pe);
    for job in filter_postsubmits(branch, &changes, postsubmits) {
        let refs = Refs {
            org: org.to_owned(),
            repo: repo.to_owned(),
            repo_link: pe.repository.html_url.clone(),
            base_ref: branch.to_owned(),
            base_sha: pe.after.clone(),
            base_link: pe.compare.clone(),
            ..Default::default()
        };
        let mut pj = new_postsubmit(job, refs, &ctx.delivery_id, Utc::now());
        if scheduling_enabled(ctx) {
            pj.status.state = ProwJobState::Scheduling;
        }
        tracing::info!(prowjob = pj.name(), job = %job.base.name, "creating a new prowjob");
        create_with_retry(ctx, pj).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    // Cases from Prow's pkg/pjutil/help_test.go (TestHelpMessage).
    #[test]
    fn help_message_like_prow() {
        let (org, repo, branch) = ("org", "repo", "main");
        assert_eq!(
            help_message(org, repo, branch, "", &set(&[]), &set(&[]), &set(&[])),
            "No presubmit jobs available for org/repo@main"
        );
        assert_eq!(
            help_message(
                org,
                repo,
                branch,
                "",
                &set(&["job1"]),
                &set(&["/test job1"]),
                &set(&[])
            ),
            "The following commands are available to trigger optional jobs:\n```\n/test job1\n```\n\nUse `/test all` to run all jobs.\n"
        );
        assert_eq!(
            help_message(
                org,
                repo,
                branch,
                "",
                &set(&["job1", "job2"]),
                &set(&[]),
                &set(&["/test job1", "/test job2"])
            ),
            "The following commands are available to trigger required jobs:\n```\n/test job1\n```\n```\n/test job2\n```\n\nUse `/test all` to run all jobs.\n"
        );
        assert_eq!(
            help_message(
                org,
                repo,
                branch,
                HelpNote::TargetNotFound.note(),
                &set(&["job1"]),
                &set(&["/test job2"]),
                &set(&["/test job1", "/test job3"])
            ),
            "The specified target(s) for `/test` were not found.\nThe following commands are available to trigger required jobs:\n```\n/test job1\n```\n```\n/test job3\n```\n\nThe following commands are available to trigger optional jobs:\n```\n/test job2\n```\n\nUse `/test all` to run the following jobs that were automatically triggered:\n```\njob1\n```\n\n"
        );
    }

    #[test]
    fn help_comment_recognition() {
        assert!(is_help_comment(
            "x The following commands are available to trigger required jobs: y"
        ));
        assert!(is_help_comment(HelpNote::RetestWithTarget.note()));
        assert!(!is_help_comment("LGTM"));
    }

    #[test]
    fn untrusted_reasons() {
        assert_eq!(
            untrusted_reason(NOT_MEMBER | NOT_COLLABORATOR),
            "User is not a member of the org. User is not a collaborator. Satisfy at least one of these conditions to make the user trusted."
        );
    }

    #[test]
    fn push_refs_and_changes() {
        assert_eq!(push_branch("refs/heads/main"), "main");
        assert_eq!(push_branch("refs/tags/v1.0"), "v1.0");
        let pe = PushEvent {
            commits: vec![
                prow_github::events::PushCommit {
                    added: vec!["b".into()],
                    modified: vec!["a".into()],
                    ..Default::default()
                },
                prow_github::events::PushCommit {
                    removed: vec!["a".into(), "c".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(push_changes(&pe), vec!["a", "b", "c"]);
    }

    #[test]
    fn guidance_texts() {
        let t = Trigger::default();
        assert_eq!(
            org_invitation_guidance(&t, "https://example.com/join", false),
            "Regular contributors should [join the org](https://example.com/join) to skip this step."
        );
        assert!(org_invitation_guidance(&t, "u", true).starts_with(">[!TIP]\n>**We noticed"));
        let mut custom = Trigger::default();
        custom.org_invite.prominent.message = "Join at {join_org_url}!".into();
        assert_eq!(org_invitation_guidance(&custom, "u", true), "Join at u!");
        custom.org_invite.prominent.disabled = true;
        assert!(org_invitation_guidance(&custom, "u", true).starts_with("Regular contributors"));
    }
}
