//! Webhook fan-out: every event goes to the in-process tap ([`Hooks::subscribe`]) and, once a
//! target is set, to one background worker that POSTs deliveries in order, retrying failures.
//!
//! The worker is a dedicated thread with its own single-threaded runtime, so delivery works no
//! matter which runtime (if any) the caller of an API method runs on, and never blocks it.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use prow_github::hmac::HmacSecrets;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

/// One webhook delivery, as POSTed to the webhook URL and seen by [`crate::FakeGitHub::subscribe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Event`, e.g. `issue_comment`.
    pub event_type: String,
    /// `X-GitHub-Delivery`: a fresh UUID.
    pub delivery_id: String,
    /// The JSON payload, byte for byte as delivered (and signed).
    pub body: Bytes,
}

/// How many attempts a delivery gets before it is dropped (GitHub itself never retries; the
/// fake is kinder so that a receiver that is still starting up does not lose events).
const ATTEMPTS: u32 = 4;
/// Events buffered per subscriber before it starts lagging.
const TAP_CAPACITY: usize = 4096;

struct Outgoing {
    url: String,
    signature: Option<String>,
    delivery: Delivery,
}

struct Target {
    url: String,
    secrets: HmacSecrets,
}

pub(crate) struct Hooks {
    tap: broadcast::Sender<Delivery>,
    target: Mutex<Option<Target>>,
    worker: Mutex<Option<mpsc::UnboundedSender<Outgoing>>>,
}

impl Hooks {
    pub fn new() -> Self {
        Hooks {
            tap: broadcast::channel(TAP_CAPACITY).0,
            target: Mutex::new(None),
            worker: Mutex::new(None),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.tap.subscribe()
    }

    /// Sends every later event to `url`, signed with the token `secrets` select for the event's
    /// repository.
    pub fn set_target(&self, url: &str, secrets: HmacSecrets) {
        *self.target.lock().unwrap_or_else(PoisonError::into_inner) = Some(Target {
            url: url.to_owned(),
            secrets,
        });
        let mut worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        if worker.is_none() {
            *worker = spawn_worker();
        }
    }

    /// Publishes one event. Callers hold the state lock, which is what orders deliveries.
    pub fn emit(&self, event_type: &str, repo_full_name: Option<&str>, payload: &Value) {
        let body = match serde_json::to_vec(payload) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                tracing::error!(error = %e, event = event_type, "cannot serialize webhook payload");
                return;
            }
        };
        let delivery = Delivery {
            event_type: event_type.to_owned(),
            delivery_id: uuid::Uuid::new_v4().to_string(),
            body,
        };
        // No subscribers is fine.
        let _ = self.tap.send(delivery.clone());

        let target = self.target.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(target) = target.as_ref() else {
            return;
        };
        let org = repo_full_name.and_then(|r| r.split('/').next());
        let signature = target
            .secrets
            .tokens_for(repo_full_name, org)
            .first()
            .map(|token| prow_github::hmac::sign(token.as_bytes(), &delivery.body));
        if signature.is_none() {
            tracing::warn!(
                repo = repo_full_name.unwrap_or_default(),
                "no HMAC token for this repository; delivering unsigned"
            );
        }
        let worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = worker.as_ref() {
            let _ = tx.send(Outgoing {
                url: target.url.clone(),
                signature,
                delivery,
            });
        }
    }
}

fn spawn_worker() -> Option<mpsc::UnboundedSender<Outgoing>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("fake-github-webhooks".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(deliver_all(rx)),
                Err(e) => tracing::error!(error = %e, "cannot start webhook delivery runtime"),
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::error!(error = %e, "cannot start webhook delivery thread");
            None
        }
    }
}

/// Delivers queued events one at a time until every sender is gone (the fake was dropped).
async fn deliver_all(mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build webhook HTTP client");
            return;
        }
    };
    while let Some(out) = rx.recv().await {
        let mut backoff = Duration::from_millis(100);
        for attempt in 1..=ATTEMPTS {
            let mut req = client
                .post(&out.url)
                .header("X-GitHub-Event", &out.delivery.event_type)
                .header("X-GitHub-Delivery", &out.delivery.delivery_id)
                .header("Content-Type", "application/json")
                .header("User-Agent", "GitHub-Hookshot/fake")
                .header("X-GitHub-Hook-ID", "1")
                .header("X-GitHub-Hook-Installation-Target-Type", "repository")
                .body(out.delivery.body.clone());
            if let Some(sig) = &out.signature {
                req = req.header("X-Hub-Signature-256", sig);
            }
            let error = match req.send().await {
                Ok(resp) if resp.status().is_success() => break,
                Ok(resp) => format!("HTTP {}", resp.status()),
                Err(e) => e.to_string(),
            };
            if attempt == ATTEMPTS {
                tracing::warn!(
                    event = %out.delivery.event_type,
                    delivery = %out.delivery.delivery_id,
                    %error,
                    "webhook delivery failed; giving up"
                );
            } else {
                tracing::debug!(event = %out.delivery.event_type, attempt, %error, "webhook delivery failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 4;
            }
        }
    }
}
