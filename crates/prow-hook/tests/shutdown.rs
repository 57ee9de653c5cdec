//! Graceful shutdown drains in-flight handlers; events not started stay in the log and are
//! resumed by the next process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use prow_config::plugins::PluginsConfig;
use prow_github::events::Event;
use prow_github::hmac::HmacSecrets;
use prow_hook::{Dispatch, EventLog, HandlerOutcome, Hook, HookMetrics};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// A plugin that blocks until the test releases it, counting finished handlers.
struct Gate {
    started: Arc<Semaphore>,
    release: Arc<Semaphore>,
    finished: Arc<AtomicUsize>,
}

#[async_trait]
impl Dispatch for Gate {
    async fn dispatch(&self, _: &Event, _: &str) -> Vec<HandlerOutcome> {
        self.started.add_permits(1);
        let _p = self.release.acquire().await.unwrap();
        self.finished.fetch_add(1, Ordering::SeqCst);
        Vec::new()
    }
    fn plugin_help(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

fn hook(log: EventLog, gate: Gate) -> Hook {
    Hook::new(
        HmacSecrets::Single("s".into()),
        Arc::new(ArcSwap::from_pointee(PluginsConfig::default())),
        log,
        Arc::new(gate),
        HookMetrics::new(&prometheus::Registry::new()).unwrap(),
    )
}

#[tokio::test]
async fn shutdown_waits_for_running_handlers_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    let log = EventLog::open(&path).unwrap();
    for i in 0..3 {
        log.append(&format!("d{i}"), "ping", vec![], "{\"zen\":\"x\"}".into())
            .await
            .unwrap();
    }
    let started = Arc::new(Semaphore::new(0));
    let release = Arc::new(Semaphore::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let h = hook(
        log.clone(),
        Gate {
            started: started.clone(),
            release: release.clone(),
            finished: finished.clone(),
        },
    );
    assert_eq!(h.resume().await.unwrap(), 3);
    let shutdown = CancellationToken::new();
    // One worker: the first event runs, the other two wait in the queue.
    let proc = tokio::spawn({
        let (h, s) = (h.clone(), shutdown.clone());
        async move { h.process(1, s, Duration::from_secs(30)).await }
    });
    let _ = started.acquire().await.unwrap();
    shutdown.cancel();
    // The processor must not return while the handler runs.
    tokio::task::yield_now().await;
    assert!(!proc.is_finished());
    release.add_permits(1);
    proc.await.unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    let counts = log.counts().await.unwrap();
    assert_eq!((counts.done, counts.pending), (1, 2));
    drop(h);
    drop(log);

    // Next process resumes the two.
    let log = EventLog::open(&path).unwrap();
    let finished2 = Arc::new(AtomicUsize::new(0));
    let release2 = Arc::new(Semaphore::new(100));
    let h = hook(
        log.clone(),
        Gate {
            started: Arc::new(Semaphore::new(0)),
            release: release2,
            finished: finished2.clone(),
        },
    );
    assert_eq!(h.resume().await.unwrap(), 2);
    let shutdown = CancellationToken::new();
    let proc = tokio::spawn({
        let (h, s) = (h.clone(), shutdown.clone());
        async move { h.process(4, s, Duration::from_secs(30)).await }
    });
    for _ in 0..3000 {
        if log.counts().await.unwrap().done == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(finished2.load(Ordering::SeqCst), 2);
    assert_eq!(log.counts().await.unwrap().done, 3);
    shutdown.cancel();
    proc.await.unwrap();
}
