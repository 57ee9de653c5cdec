//! Runs the enabled plugins for one webhook event (Prow's `pkg/hook/events.go`): every enabled
//! plugin with a handler for the event's kind, plus every enabled generic-comment handler when
//! the event carries user text, each in its own task with its own span, errors and panics caught
//! per plugin.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prow_github::events::Event;
use tracing::Instrument;

use crate::event::{
    EventKind, GenericCommentEvent, event_action, event_number, event_org_repo, event_type,
};
use crate::framework::{IssueRef, Plugin, PluginContext, PluginDeps};

/// The result of one plugin handler run; hook turns these into
/// `prow_plugin_handle_duration_seconds` and `prow_plugin_handle_errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginOutcome {
    /// Plugin name.
    pub plugin: String,
    /// Which handler ran.
    pub handler: EventKind,
    /// `X-GitHub-Event` of the webhook (also for generic-comment handlers, as in Prow).
    pub event_type: String,
    /// The event's action; the normalised one for generic comments; `none` for push/status.
    pub action: String,
    /// The handler talked to GitHub or wrote ProwJobs.
    pub took_action: bool,
    /// The handler's error, or the panic message.
    pub error: Option<String>,
    /// Wall time of the handler.
    pub duration: Duration,
}

/// Dispatches events to the registered plugins.
#[derive(Clone)]
pub struct Dispatcher {
    deps: Arc<PluginDeps>,
    plugins: Arc<BTreeMap<&'static str, Arc<dyn Plugin>>>,
}

struct Job {
    plugin: Arc<dyn Plugin>,
    kind: EventKind,
    action: String,
}

impl Dispatcher {
    /// A dispatcher over `registry` (see [`crate::registry`]).
    pub fn new(deps: PluginDeps, registry: Vec<Arc<dyn Plugin>>) -> Self {
        let plugins = registry.into_iter().map(|p| (p.name(), p)).collect();
        Dispatcher {
            deps: Arc::new(deps),
            plugins: Arc::new(plugins),
        }
    }

    /// The shared dependencies.
    pub fn deps(&self) -> &PluginDeps {
        &self.deps
    }

    /// The registered plugins, by name.
    pub fn plugins(&self) -> Vec<Arc<dyn Plugin>> {
        self.plugins.values().cloned().collect()
    }

    /// Runs every enabled handler for `event` concurrently and waits for all of them.
    pub async fn handle(&self, event: &Event, delivery_id: &str) -> Vec<PluginOutcome> {
        let Some((org, repo)) = event_org_repo(event) else {
            tracing::debug!(
                event_type = event_type(event),
                "event without repository; no plugins"
            );
            return Vec::new();
        };
        let plugins_cfg = self.deps.plugins.load_full();
        let config = self.deps.config.config();

        let mut seen = BTreeSet::new();
        let enabled: Vec<Arc<dyn Plugin>> = plugins_cfg
            .enabled_for(&org, &repo)
            .into_iter()
            .filter(|name| seen.insert(*name))
            .filter_map(|name| {
                let p = self.plugins.get(name).cloned();
                if p.is_none() {
                    tracing::debug!(
                        plugin = name,
                        "plugin enabled in plugins.yaml is not built in here"
                    );
                }
                p
            })
            .collect();

        let kind = match event {
            Event::Issues(_) => Some(EventKind::Issue),
            Event::IssueComment(_) => Some(EventKind::IssueComment),
            Event::PullRequest(_) => Some(EventKind::PullRequest),
            Event::Push(_) => Some(EventKind::Push),
            Event::PullRequestReview(_) => Some(EventKind::Review),
            Event::PullRequestReviewComment(_) => Some(EventKind::ReviewComment),
            Event::Status(_) => Some(EventKind::Status),
            Event::Other { .. } => None,
        };
        let mut jobs = Vec::new();
        if let Some(kind) = kind {
            for p in &enabled {
                if p.event_kinds().contains(&kind) {
                    jobs.push(Job {
                        plugin: Arc::clone(p),
                        kind,
                        action: event_action(event).to_owned(),
                    });
                }
            }
        }
        let generic = GenericCommentEvent::from_event(event, delivery_id).map(Arc::new);
        if let Some(gc) = &generic {
            for p in &enabled {
                if p.event_kinds().contains(&EventKind::GenericComment) {
                    jobs.push(Job {
                        plugin: Arc::clone(p),
                        kind: EventKind::GenericComment,
                        action: gc.action.as_str().to_owned(),
                    });
                }
            }
        }
        if jobs.is_empty() {
            return Vec::new();
        }

        let event = Arc::new(event.clone());
        let etype = event_type(&event).to_owned();
        let number = event_number(&event);
        let full = format!("{org}/{repo}");
        let mut handles = Vec::with_capacity(jobs.len());
        for job in jobs {
            let issue = number.map(|n| IssueRef {
                org: generic
                    .as_ref()
                    .map_or_else(|| org.clone(), |g| g.org().to_owned()),
                repo: generic
                    .as_ref()
                    .map_or_else(|| repo.clone(), |g| g.repo_name().to_owned()),
                number: n,
            });
            let ctx = PluginContext::new(
                &self.deps,
                Arc::clone(&config),
                Arc::clone(&plugins_cfg),
                delivery_id,
                issue,
            );
            let span = tracing::info_span!(
                "plugin",
                repo = %full,
                pr = number,
                plugin = job.plugin.name(),
                event_type = %etype,
                delivery = delivery_id,
            );
            let event = Arc::clone(&event);
            let generic = generic.clone();
            let plugin = Arc::clone(&job.plugin);
            let kind = job.kind;
            let start = Instant::now();
            let task = tokio::spawn(
                async move {
                    let result =
                        run_handler(plugin.as_ref(), &ctx, kind, &event, generic.as_deref()).await;
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "error handling event");
                    }
                    (result.err().map(|e| e.to_string()), ctx.took_action())
                }
                .instrument(span),
            );
            handles.push((job, start, task));
        }

        let mut outcomes = Vec::with_capacity(handles.len());
        for (job, start, task) in handles {
            let (error, took_action) = match task.await {
                Ok(r) => r,
                Err(join) => {
                    let msg = panic_message(join);
                    tracing::error!(plugin = job.plugin.name(), error = %msg, "plugin panicked");
                    // A panicking handler may have acted before dying; report conservatively.
                    (Some(msg), true)
                }
            };
            outcomes.push(PluginOutcome {
                plugin: job.plugin.name().to_owned(),
                handler: job.kind,
                event_type: etype.clone(),
                action: job.action,
                took_action,
                error,
                duration: start.elapsed(),
            });
        }
        outcomes
    }
}

async fn run_handler(
    plugin: &dyn Plugin,
    ctx: &PluginContext,
    kind: EventKind,
    event: &Event,
    generic: Option<&GenericCommentEvent>,
) -> crate::PluginResult {
    match (kind, event) {
        (EventKind::GenericComment, _) => match generic {
            Some(gc) => plugin.handle_generic_comment(ctx, gc).await,
            None => Ok(()),
        },
        (EventKind::Issue, Event::Issues(e)) => plugin.handle_issue(ctx, e).await,
        (EventKind::IssueComment, Event::IssueComment(e)) => {
            plugin.handle_issue_comment(ctx, e).await
        }
        (EventKind::PullRequest, Event::PullRequest(e)) => plugin.handle_pull_request(ctx, e).await,
        (EventKind::Push, Event::Push(e)) => plugin.handle_push(ctx, e).await,
        (EventKind::Review, Event::PullRequestReview(e)) => plugin.handle_review(ctx, e).await,
        (EventKind::ReviewComment, Event::PullRequestReviewComment(e)) => {
            plugin.handle_review_comment(ctx, e).await
        }
        (EventKind::Status, Event::Status(e)) => plugin.handle_status(ctx, e).await,
        _ => Ok(()),
    }
}

fn panic_message(err: tokio::task::JoinError) -> String {
    if err.is_cancelled() {
        return "plugin task was cancelled".to_owned();
    }
    match err.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            format!("panic caught: {text}")
        }
        Err(e) => format!("plugin task failed: {e}"),
    }
}
