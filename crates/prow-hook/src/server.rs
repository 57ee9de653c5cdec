//! The HTTP front (`POST /hook`, `GET /plugin-help`, `/`) and the processor that works through
//! the durable log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use prow_config::plugins::PluginsConfig;
use prow_github::events::{self, Event};
use prow_github::hmac::HmacSecrets;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::budget::{BodyBudget, MAX_BODY};
use crate::dispatch::{Dispatch, external_targets, forward_external};
use crate::eventlog::{Appended, EventLog, StoredEvent};
use crate::intake::{self, ACCEPTED_BODY};
use crate::metrics::HookMetrics;

/// Everything the hook needs at run time.
#[derive(Clone)]
pub struct Hook {
    inner: Arc<Inner>,
}

struct Inner {
    secrets: ArcSwap<HmacSecrets>,
    plugins: Arc<ArcSwap<PluginsConfig>>,
    log: EventLog,
    dispatcher: Arc<dyn Dispatch>,
    metrics: HookMetrics,
    http: reqwest::Client,
    queue: mpsc::UnboundedSender<Work>,
    queue_rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Work>>>,
    budget: BodyBudget,
}

/// A stored event waiting for processing, with its decoded form when we already have it.
struct Work {
    stored: StoredEvent,
    event: Option<Event>,
}

impl Hook {
    /// Builds a hook over an opened log.
    pub fn new(
        secrets: HmacSecrets,
        plugins: Arc<ArcSwap<PluginsConfig>>,
        log: EventLog,
        dispatcher: Arc<dyn Dispatch>,
        metrics: HookMetrics,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Hook {
            inner: Arc::new(Inner {
                secrets: ArcSwap::from_pointee(secrets),
                plugins,
                log,
                dispatcher,
                metrics,
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(60))
                    .build()
                    .unwrap_or_default(),
                queue: tx,
                queue_rx: std::sync::Mutex::new(Some(rx)),
                budget: BodyBudget::default(),
            }),
        }
    }

    /// Replaces the limits on webhook bodies (size, bytes in flight); before serving.
    pub fn with_body_budget(self, budget: BodyBudget) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.budget = budget;
                Hook {
                    inner: Arc::new(inner),
                }
            }
            Err(inner) => {
                tracing::warn!("body budget not replaced: the hook is already shared");
                Hook { inner }
            }
        }
    }

    /// Replaces the HMAC secrets (the secret file changed).
    pub fn set_secrets(&self, secrets: HmacSecrets) {
        self.inner.secrets.store(Arc::new(secrets));
    }

    /// The durable log.
    pub fn log(&self) -> &EventLog {
        &self.inner.log
    }

    /// The router: `POST <webhook_path>`, `GET /plugin-help`, `GET /` (empty, like Prow).
    pub fn router(&self, webhook_path: &str) -> Router {
        self.routes(webhook_path).route("/", get(|| async { "" }))
    }

    /// The webhook and `/plugin-help` only, to merge into another server.
    pub fn routes(&self, webhook_path: &str) -> Router {
        Router::new()
            .route(webhook_path, any(handle_hook))
            .route("/plugin-help", get(plugin_help))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self.clone())
    }

    /// The webhook alone (all-in-one mode, where Deck owns `/plugin-help` and reads
    /// [`Hook::plugin_help`] in-process).
    pub fn webhook_routes(&self, webhook_path: &str) -> Router {
        Router::new()
            .route(webhook_path, any(handle_hook))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self.clone())
    }

    /// The `/plugin-help` document of the configured plugins.
    pub fn plugin_help(&self) -> serde_json::Value {
        self.inner.dispatcher.plugin_help()
    }

    /// Queues every unprocessed event from the log (call before serving), returns how many.
    pub async fn resume(&self) -> anyhow::Result<usize> {
        let pending = self.inner.log.pending().await?;
        let n = pending.len();
        for stored in pending {
            self.inner.metrics.pending.inc();
            let _ = self.inner.queue.send(Work {
                stored,
                event: None,
            });
        }
        if n > 0 {
            tracing::info!(
                events = n,
                "resuming unprocessed webhook events from the log"
            );
        }
        Ok(n)
    }

    /// Processes queued events with at most `workers` in flight until `shutdown`; then waits up
    /// to `grace` for in-flight handlers (events not started stay in the log for next start).
    pub async fn process(&self, workers: usize, shutdown: CancellationToken, grace: Duration) {
        let Some(mut rx) = self.inner.queue_rx.lock().ok().and_then(|mut g| g.take()) else {
            tracing::error!("hook processor started twice");
            return;
        };
        let limit = Arc::new(Semaphore::new(workers.max(1)));
        let tracker = TaskTracker::new();
        loop {
            let work = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                w = rx.recv() => match w { Some(w) => w, None => break },
            };
            let permit = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            };
            let hook = self.clone();
            tracker.spawn(async move {
                hook.process_one(work).await;
                drop(permit);
            });
        }
        tracker.close();
        if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
            tracing::warn!(
                ?grace,
                "grace period over with handlers still running; they resume on next start"
            );
        }
    }

    async fn process_one(&self, work: Work) {
        let Work { stored, event } = work;
        let event = match event {
            Some(e) => e,
            None => match events::parse(&stored.event_type, &stored.body) {
                Ok(e) => e,
                Err(e) => {
                    // Validated before it was stored, so only a format change could get here.
                    tracing::error!(delivery = %stored.delivery_id, error = %e, "stored event no longer parses");
                    let _ = self.inner.log.mark_done(stored.seq, 1).await;
                    self.inner.metrics.pending.dec();
                    return;
                }
            },
        };
        let span = event_span(&event, &stored);
        async {
            let plugins = self.inner.plugins.load_full();
            let targets = external_targets(&plugins, &event, &stored.event_type);
            let (outcomes, failed) = tokio::join!(
                self.inner.dispatcher.dispatch(&event, &stored.delivery_id),
                forward_external(&self.inner.http, &targets, &stored),
            );
            for o in &outcomes {
                let took = if o.took_action { "true" } else { "false" };
                let labels = [
                    o.event_type.as_str(),
                    o.action.as_str(),
                    o.plugin.as_str(),
                    took,
                ];
                self.inner
                    .metrics
                    .plugin_duration
                    .with_label_values(&labels)
                    .observe(o.duration.as_secs_f64());
                if let Some(err) = &o.error {
                    self.inner
                        .metrics
                        .plugin_errors
                        .with_label_values(&labels)
                        .inc();
                    tracing::warn!(plugin = %o.plugin, error = %err, "plugin failed");
                }
            }
            if !failed.is_empty() {
                tracing::warn!(plugins = ?failed, "external plugins did not accept the event");
            }
            if let Err(e) = self.inner.log.mark_done(stored.seq, 1).await {
                tracing::error!(error = %e, "could not mark event processed; it will be replayed");
            }
            self.inner.metrics.pending.dec();
        }
        .instrument(span)
        .await
    }
}

fn event_span(event: &Event, stored: &StoredEvent) -> tracing::Span {
    let repo = event.repo_full_name().unwrap_or_default();
    let pr = match event {
        Event::IssueComment(e) => e.issue.number,
        Event::Issues(e) => e.issue.number,
        Event::PullRequest(e) => e.number,
        Event::PullRequestReview(e) => e.pull_request.number,
        Event::PullRequestReviewComment(e) => e.pull_request.number,
        _ => 0,
    };
    tracing::info_span!("event", event_type = %stored.event_type, delivery = %stored.delivery_id, repo = %repo, pr)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn refused(hook: &Hook, status: StatusCode, message: &str) -> Response {
    hook.inner
        .metrics
        .response_codes
        .with_label_values(&[status.as_str()])
        .inc();
    tracing::debug!(%status, %message, "webhook refused");
    // Like Go's http.Error: message plus newline.
    text(status, format!("{message}\n"))
}

async fn handle_hook(State(hook): State<Hook>, req: Request) -> Response {
    let started = Instant::now();
    let inner = &hook.inner;
    let (parts, body) = req.into_parts();
    // Headers first: a request they refuse is answered without reading its body.
    let head = match intake::check_head(&parts.method, &parts.headers) {
        Ok(h) => h,
        Err(rej) => return refused(&hook, rej.status, &rej.message),
    };
    // Then the body, within the size limit and the budget of bytes in flight.
    let bounded = match inner.budget.read(&parts.headers, body).await {
        Ok(b) => b,
        Err(e) => {
            let mut resp = refused(&hook, e.status(), &e.to_string());
            if e.status() == StatusCode::SERVICE_UNAVAILABLE {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
            }
            // Do not leave a large unread body for the connection to drain.
            resp.headers_mut()
                .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            return resp;
        }
    };
    let body = bounded.bytes.clone();
    let secrets = inner.secrets.load();
    let accepted = match intake::check_body(head, &body, &secrets) {
        Ok(a) => a,
        Err(rej) => return refused(&hook, rej.status, &rej.message),
    };
    let appended = inner
        .log
        .append(
            &accepted.delivery_id,
            &accepted.event_type,
            accepted.headers.clone(),
            body.clone(),
        )
        .await;
    match appended {
        Ok(Appended::New(seq)) => {
            inner
                .metrics
                .webhook_counter
                .with_label_values(&[&accepted.event_type])
                .inc();
            inner.metrics.pending.inc();
            let stored = StoredEvent {
                seq,
                delivery_id: accepted.delivery_id,
                event_type: accepted.event_type,
                headers: accepted.headers,
                body,
            };
            let _ = inner.queue.send(Work {
                stored,
                event: Some(accepted.event),
            });
        }
        Ok(Appended::Duplicate) => {
            tracing::info!(delivery = %accepted.delivery_id, "duplicate delivery acknowledged, not processed again");
        }
        Err(e) => {
            // Not stored, so not acknowledged: GitHub will show the failure and can redeliver.
            tracing::error!(error = %e, "could not store webhook event");
            inner
                .metrics
                .response_codes
                .with_label_values(&["500"])
                .inc();
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error: could not store event\n".into(),
            );
        }
    }
    inner
        .metrics
        .response_codes
        .with_label_values(&["200"])
        .inc();
    tracing::trace!(elapsed = ?started.elapsed(), "webhook acknowledged");
    text(StatusCode::OK, ACCEPTED_BODY.into())
}

async fn plugin_help(State(hook): State<Hook>) -> Response {
    axum::Json(hook.inner.dispatcher.plugin_help()).into_response()
}
