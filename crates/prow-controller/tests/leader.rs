//! Leader election over a Kubernetes Lease in the fake API server: one holder at a time, and a
//! takeover once the holder stops renewing.

#![cfg(feature = "kube")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType};
use prow_controller::buildid::Snowflake;
use prow_controller::controller::{self, Context, ControllerOptions, fixed_config};
use prow_controller::fake::FakeExecutor;
use prow_controller::leader::{LeaderError, LeaderLock, LeaderTiming, LeaseLock, run_as_leader};
use prow_executor::RunPhase;
use prow_jobstore::JobStore;
use prow_jobstore::memory::MemoryStore;
use prow_kube_fake::FakeKube;
use tokio_util::sync::CancellationToken;

fn clock(t: Arc<Mutex<DateTime<Utc>>>) -> prow_controller::controller::Clock {
    Arc::new(move || *t.lock().unwrap_or_else(|p| p.into_inner()))
}

#[tokio::test]
async fn lease_has_one_holder_and_expires() {
    let fake = FakeKube::new();
    let t = Arc::new(Mutex::new(Utc::now()));
    let lock = |id: &str| {
        LeaseLock::new(
            fake.client(),
            "prow",
            "plank-lock",
            id,
            Duration::from_secs(15),
        )
        .with_clock(clock(t.clone()))
    };
    let (a, b) = (lock("a"), lock("b"));
    assert!(a.try_acquire_or_renew().await.unwrap_or(false));
    assert!(!b.try_acquire_or_renew().await.unwrap_or(true));
    *t.lock().unwrap_or_else(|p| p.into_inner()) += chrono::Duration::seconds(10);
    assert!(a.try_acquire_or_renew().await.unwrap_or(false), "renewal");
    *t.lock().unwrap_or_else(|p| p.into_inner()) += chrono::Duration::seconds(10);
    assert!(
        !b.try_acquire_or_renew().await.unwrap_or(true),
        "renewed 10s ago, still valid"
    );
    *t.lock().unwrap_or_else(|p| p.into_inner()) += chrono::Duration::seconds(6);
    assert!(
        b.try_acquire_or_renew().await.unwrap_or(false),
        "a stopped renewing"
    );
    assert!(!a.try_acquire_or_renew().await.unwrap_or(true));

    let lease: serde_json::Value = fake
        .objects()
        .into_iter()
        .find(|o| o.key.name == "plank-lock")
        .map(|o| o.object)
        .unwrap_or_default();
    assert_eq!(lease["spec"]["holderIdentity"], "b");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 15);
    assert_eq!(lease["spec"]["leaseTransitions"], 1);

    b.release().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        a.try_acquire_or_renew().await.unwrap_or(false),
        "released: no waiting"
    );
}

#[tokio::test]
async fn racing_candidates_cannot_both_win() {
    let fake = FakeKube::new();
    for round in 0..5 {
        let name = format!("race-{round}");
        let locks: Vec<LeaseLock> = (0..4)
            .map(|i| {
                LeaseLock::new(
                    fake.client(),
                    "prow",
                    &name,
                    &format!("c{i}"),
                    Duration::from_secs(15),
                )
            })
            .collect();
        let results =
            futures::future::join_all(locks.iter().map(|l| l.try_acquire_or_renew())).await;
        let winners = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
    }
}

/// A lock that can be cut off from the API server (renewals fail, nothing is released).
struct Severable {
    inner: LeaseLock,
    cut: AtomicBool,
}

#[async_trait]
impl LeaderLock for Severable {
    async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(LeaderError::Backend("connection refused".into()));
        }
        self.inner.try_acquire_or_renew().await
    }
    async fn release(&self) -> Result<(), LeaderError> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(LeaderError::Backend("connection refused".into()));
        }
        self.inner.release().await
    }
    fn identity(&self) -> &str {
        self.inner.identity()
    }
}

fn job(name: &str) -> ProwJob {
    let mut j = ProwJob::default();
    j.metadata.name = Some(name.into());
    j.spec.job = "ci-job".into();
    j.spec.job_type = Some(ProwJobType::Periodic);
    j.status.state = ProwJobState::Triggered;
    j.status.start_time = Some(Utc::now());
    j
}

async fn wait(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    for _ in 0..2000 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Two plank replicas share one store; each has its own executor, so the executor a job ran on
/// shows which replica acted. Only the lease holder acts; after it stops renewing the other
/// takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_controller_replicas_never_both_act() {
    let fake = FakeKube::new();
    let store = Arc::new(MemoryStore::default());
    let timing = LeaderTiming {
        renew_every: Duration::from_millis(100),
        retry_every: Duration::from_millis(100),
    };
    let acting = Arc::new(AtomicUsize::new(0));
    let max_acting = Arc::new(AtomicUsize::new(0));
    let mut replicas = Vec::new();
    for id in ["a", "b"] {
        let exec = Arc::new(FakeExecutor::new());
        let lock = Arc::new(Severable {
            inner: LeaseLock::new(
                fake.client(),
                "prow",
                "prow-controller-manager",
                id,
                Duration::from_secs(1),
            ),
            cut: AtomicBool::new(false),
        });
        let shutdown = CancellationToken::new();
        let (store, exec2, lock2, shutdown2) =
            (store.clone(), exec.clone(), lock.clone(), shutdown.clone());
        let (acting, max_acting) = (acting.clone(), max_acting.clone());
        let task = tokio::spawn(async move {
            run_as_leader(lock2.as_ref(), timing, shutdown2, move |token| {
                let ctx = Arc::new(
                    Context::new(
                        store.clone(),
                        exec2.clone(),
                        Arc::new(Snowflake::default()),
                        fixed_config(prow_config::Config::default()),
                    )
                    .with_options(ControllerOptions {
                        workers: 2,
                        pending_poll: Duration::from_millis(20),
                        metrics_period: Duration::from_secs(3600),
                    }),
                );
                let (acting, max_acting) = (acting.clone(), max_acting.clone());
                async move {
                    let now = acting.fetch_add(1, Ordering::SeqCst) + 1;
                    max_acting.fetch_max(now, Ordering::SeqCst);
                    controller::run(ctx, token).await;
                    acting.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .await;
        });
        replicas.push((exec, lock, shutdown, task));
    }

    for i in 0..10 {
        store
            .create(job(&format!("first{i}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    wait("first jobs pending", async || {
        let list = store.list(&prow_jobstore::ListParams::all()).await;
        list.is_ok_and(|l| {
            l.items
                .iter()
                .all(|j| j.status.state == ProwJobState::Pending)
        })
    })
    .await;
    let starts: Vec<usize> = replicas.iter().map(|r| r.0.starts().len()).collect();
    assert!(
        starts == vec![10, 0] || starts == vec![0, 10],
        "one replica acted: {starts:?}"
    );
    let leader = usize::from(starts[0] == 0);
    let follower = 1 - leader;
    for i in 0..10 {
        replicas[leader]
            .0
            .set_phase(&format!("first{i}"), RunPhase::Succeeded);
    }
    wait("first jobs complete", async || {
        let list = store.list(&prow_jobstore::ListParams::all()).await;
        list.is_ok_and(|l| l.items.iter().all(ProwJob::complete))
    })
    .await;

    // The leader loses the API server: it stops acting, and the other replica takes over once
    // the lease expires.
    replicas[leader].1.cut.store(true, Ordering::SeqCst);
    wait("the old leader to stop", async || {
        acting.load(Ordering::SeqCst) == 0
    })
    .await;
    for i in 0..5 {
        store
            .create(job(&format!("second{i}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    wait("second jobs pending", async || {
        let list = store.list(&prow_jobstore::ListParams::all()).await;
        list.is_ok_and(|l| {
            l.items
                .iter()
                .all(|j| j.complete() || j.status.state == ProwJobState::Pending)
        })
    })
    .await;
    assert_eq!(
        replicas[leader].0.starts().len(),
        10,
        "the old leader started nothing more"
    );
    assert_eq!(replicas[follower].0.starts().len(), 5);
    assert_eq!(
        max_acting.load(Ordering::SeqCst),
        1,
        "never two leaders at once"
    );

    for (_, _, shutdown, task) in replicas {
        shutdown.cancel();
        let _ = task.await;
    }
}
