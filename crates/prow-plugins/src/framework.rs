//! The plugin contract: the [`Plugin`] trait with one optional handler per event kind, the
//! shared [`PluginDeps`], the per-invocation [`PluginContext`] and the [`CommentPruner`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use prow_config::{Config, ConfigAgent, PluginsConfig};
use prow_github::events::{
    IssueCommentEvent, IssueEvent, PullRequestEvent, PushEvent, ReviewCommentEvent, ReviewEvent,
    StatusEvent,
};
use prow_github::{GitHub, GitHubError, IssueComment};
use prow_jobstore::{JobStore, StoreError};
use prow_owners::RepoOwners;
use tokio::sync::Mutex;

use crate::bot::BotIdentity;
use crate::config::SectionError;
use crate::event::{EventKind, GenericCommentEvent};
use crate::help::{OrgRepo, PluginHelp};
use crate::owners::{OwnersLoadError, OwnersLoader, load_options};
use crate::tracked::TrackedGitHub;

/// Why a plugin handler failed. The hook only logs it and counts it in
/// `prow_plugin_handle_errors`; the variants let tests and callers tell causes apart.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// A GitHub call failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// A ProwJob store call failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plugin's `plugins.yaml` section is invalid.
    #[error(transparent)]
    Config(#[from] SectionError),
    /// OWNERS could not be loaded.
    #[error(transparent)]
    Owners(#[from] OwnersLoadError),
    /// Several independent steps failed (Prow's aggregate errors).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Multiple(Vec<PluginError>),
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

impl PluginError {
    /// Folds a list of errors: none ⇒ `Ok`, one ⇒ itself, more ⇒ [`PluginError::Multiple`].
    pub fn aggregate(mut errs: Vec<PluginError>) -> PluginResult {
        match errs.len() {
            0 => Ok(()),
            1 => Err(errs.remove(0)),
            _ => Err(PluginError::Multiple(errs)),
        }
    }
}

/// What every handler returns.
pub type PluginResult = Result<(), PluginError>;

/// A hook plugin. Implement the handlers for the kinds listed by [`Plugin::event_kinds`]; the
/// others are never called.
#[async_trait]
pub trait Plugin: Send + Sync + 'static {
    /// The name used in `plugins.yaml`.
    fn name(&self) -> &'static str;

    /// The handler kinds this plugin implements (also listed as `Events` in plugin help).
    fn event_kinds(&self) -> &'static [EventKind];

    /// Help for `/plugin-help`, given the config and the repos the plugin is enabled for.
    fn help(&self, cfg: &PluginsConfig, enabled_repos: &[OrgRepo]) -> PluginHelp;

    /// `issues` events.
    async fn handle_issue(&self, _ctx: &PluginContext, _e: &IssueEvent) -> PluginResult {
        Ok(())
    }
    /// `issue_comment` events.
    async fn handle_issue_comment(
        &self,
        _ctx: &PluginContext,
        _e: &IssueCommentEvent,
    ) -> PluginResult {
        Ok(())
    }
    /// `pull_request` events.
    async fn handle_pull_request(
        &self,
        _ctx: &PluginContext,
        _e: &PullRequestEvent,
    ) -> PluginResult {
        Ok(())
    }
    /// `push` events.
    async fn handle_push(&self, _ctx: &PluginContext, _e: &PushEvent) -> PluginResult {
        Ok(())
    }
    /// `pull_request_review` events.
    async fn handle_review(&self, _ctx: &PluginContext, _e: &ReviewEvent) -> PluginResult {
        Ok(())
    }
    /// `pull_request_review_comment` events.
    async fn handle_review_comment(
        &self,
        _ctx: &PluginContext,
        _e: &ReviewCommentEvent,
    ) -> PluginResult {
        Ok(())
    }
    /// `status` events.
    async fn handle_status(&self, _ctx: &PluginContext, _e: &StatusEvent) -> PluginResult {
        Ok(())
    }
    /// Generic comments synthesized from any event carrying user text.
    async fn handle_generic_comment(
        &self,
        _ctx: &PluginContext,
        _e: &GenericCommentEvent,
    ) -> PluginResult {
        Ok(())
    }
}

/// Long-lived dependencies shared by all plugin invocations.
#[derive(Clone)]
pub struct PluginDeps {
    /// GitHub client.
    pub github: Arc<dyn GitHub>,
    /// Where ProwJobs are created.
    pub jobs: Arc<dyn JobStore>,
    /// Core and job config (live).
    pub config: Arc<ConfigAgent>,
    /// `plugins.yaml` (live; swapped by the hook's reloader).
    pub plugins: Arc<ArcSwap<PluginsConfig>>,
    /// OWNERS loader with its cache.
    pub owners: Arc<OwnersLoader>,
    /// The bot account.
    pub bot: BotIdentity,
}

impl PluginDeps {
    /// Dependencies with the bot resolved once through `GET /user`.
    pub async fn new(
        github: Arc<dyn GitHub>,
        jobs: Arc<dyn JobStore>,
        config: Arc<ConfigAgent>,
        plugins: Arc<ArcSwap<PluginsConfig>>,
    ) -> Result<Self, GitHubError> {
        let bot = BotIdentity::new(&github.bot_user().await?.login);
        Ok(PluginDeps {
            github,
            jobs,
            config,
            plugins,
            owners: Arc::new(OwnersLoader::new()),
            bot,
        })
    }
}

/// Where an event happened, for the comment pruner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    /// Organisation.
    pub org: String,
    /// Repository.
    pub repo: String,
    /// Issue or PR number.
    pub number: u64,
}

/// Everything one handler invocation sees: config snapshots taken when the event arrived, a
/// GitHub client that records use (for `took_action`), the delivery ID and the comment pruner.
pub struct PluginContext {
    /// GitHub client (usage-tracking wrapper around [`PluginDeps::github`]).
    pub github: Arc<dyn GitHub>,
    /// ProwJob store.
    pub jobs: Arc<dyn JobStore>,
    /// Core and job config snapshot.
    pub config: Arc<Config>,
    /// `plugins.yaml` snapshot.
    pub plugins: Arc<PluginsConfig>,
    /// OWNERS loader.
    pub owners: Arc<OwnersLoader>,
    /// The bot.
    pub bot: BotIdentity,
    /// `X-GitHub-Delivery` of the webhook (Prow's event GUID).
    pub delivery_id: String,
    pruner: Option<CommentPruner>,
    took_action: Arc<AtomicBool>,
}

impl PluginContext {
    /// A context for one invocation. `issue` enables the comment pruner.
    pub fn new(
        deps: &PluginDeps,
        config: Arc<Config>,
        plugins: Arc<PluginsConfig>,
        delivery_id: &str,
        issue: Option<IssueRef>,
    ) -> Self {
        let took_action = Arc::new(AtomicBool::new(false));
        let github: Arc<dyn GitHub> = Arc::new(TrackedGitHub::new(
            Arc::clone(&deps.github),
            Arc::clone(&took_action),
        ));
        let pruner = issue.map(|i| CommentPruner::new(Arc::clone(&github), deps.bot.clone(), i));
        PluginContext {
            github,
            jobs: Arc::clone(&deps.jobs),
            config,
            plugins,
            owners: Arc::clone(&deps.owners),
            bot: deps.bot.clone(),
            delivery_id: delivery_id.to_owned(),
            pruner,
            took_action,
        }
    }

    /// Whether the handler called GitHub or wrote ProwJobs so far.
    pub fn took_action(&self) -> bool {
        self.took_action.load(Ordering::Relaxed)
    }

    /// Records an action not visible to the GitHub wrapper (e.g. a ProwJob write).
    pub fn mark_action(&self) {
        self.took_action.store(true, Ordering::Relaxed);
    }

    /// The pruner for the event's issue/PR (Prow's `CommentPruner()`; an error for events that
    /// have no issue, such as pushes).
    pub fn pruner(&self) -> Result<&CommentPruner, PluginError> {
        self.pruner
            .as_ref()
            .ok_or_else(|| PluginError::Other("comment pruner client never initialized".into()))
    }

    /// OWNERS of `org/repo` at `branch`, with this config's file names, denylist and Markdown
    /// settings.
    pub async fn load_owners(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Arc<RepoOwners>, PluginError> {
        let owners_cfg = crate::config::owners(&self.plugins)?;
        let opts = load_options(
            &owners_cfg,
            &self.config.prow.owners_dir_denylist,
            org,
            repo,
        );
        Ok(self
            .owners
            .load(self.github.as_ref(), org, repo, branch, &opts)
            .await?)
    }
}

/// Deletes the bot's earlier comments on one issue/PR that match a predicate (Prow's
/// `commentpruner`): the bot's comments are listed once per invocation, deleted ones are
/// forgotten.
pub struct CommentPruner {
    github: Arc<dyn GitHub>,
    bot: BotIdentity,
    issue: IssueRef,
    comments: Mutex<Option<Vec<IssueComment>>>,
}

impl CommentPruner {
    /// A pruner for `issue`.
    pub fn new(github: Arc<dyn GitHub>, bot: BotIdentity, issue: IssueRef) -> Self {
        CommentPruner {
            github,
            bot,
            issue,
            comments: Mutex::new(None),
        }
    }

    /// Deletes the bot's comments for which `should_prune` is true. Failures are logged, as in
    /// Prow, since pruning is cosmetic.
    pub async fn prune(&self, should_prune: impl Fn(&IssueComment) -> bool + Send) {
        let IssueRef { org, repo, number } = &self.issue;
        let mut guard = self.comments.lock().await;
        if guard.is_none() {
            let listed = match self.github.list_issue_comments(org, repo, *number).await {
                Ok(cs) => cs,
                Err(e) => {
                    tracing::error!(error = %e, "failed to list comments for {org}/{repo}#{number}");
                    Vec::new()
                }
            };
            *guard = Some(
                listed
                    .into_iter()
                    .filter(|c| self.bot.is_bot(&c.user.login))
                    .collect(),
            );
        }
        let Some(comments) = guard.as_mut() else {
            return;
        };
        let mut remaining = Vec::with_capacity(comments.len());
        for c in comments.drain(..) {
            if should_prune(&c) {
                match self.github.delete_comment(org, repo, c.id).await {
                    Ok(()) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, id = c.id, "failed to delete stale comment")
                    }
                }
            }
            remaining.push(c);
        }
        *comments = remaining;
    }
}
