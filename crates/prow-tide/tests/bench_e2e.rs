//! The end-to-end merge-queue benchmark over the simulator: with jobs that never fail, PRs merge
//! and no PR needs more than one CI run.

use prow_tide::bench::{BenchParams, E2eParams, simulate_e2e};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_queue_merges_without_retests_when_nothing_fails() {
    for batch_size_limit in [5, -1] {
        let params = E2eParams {
            bench: BenchParams {
                queue: 8,
                p: 0.0,
                job_minutes: 30,
                batch_size_limit,
                hours: 4,
                ..Default::default()
            },
            status_every_minutes: 5,
            skip_idle: false,
        };
        let r = simulate_e2e(&params)
            .await
            .unwrap_or_else(|e| panic!("simulation: {e:#}"));
        assert!(r.merges >= 4, "limit {batch_size_limit}: {r:?}");
        assert!(r.ci_runs >= 1, "{r:?}");
        assert!(
            r.ci_runs_per_merge <= 1.0,
            "limit {batch_size_limit}: {r:?}"
        );
        if batch_size_limit == 5 {
            // Batches of up to 5 beat one PR per T (4 h / 30 min = 8 serial merges at most).
            assert!(r.merges > 8, "{r:?}");
        }
    }
}

/// Jumping over idle minutes is an optimisation only: with flaky jobs the counts equal those of
/// stepping every minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_idle_minutes_changes_nothing() {
    let run = |skip_idle| async move {
        simulate_e2e(&E2eParams {
            bench: BenchParams {
                queue: 6,
                p: 0.2,
                job_minutes: 20,
                batch_size_limit: 3,
                hours: 3,
                seed: 7,
                ..Default::default()
            },
            status_every_minutes: 0,
            skip_idle,
        })
        .await
        .unwrap_or_else(|e| panic!("simulation: {e:#}"))
    };
    let stepped = run(false).await;
    let skipped = run(true).await;
    assert!(stepped.merges > 0, "{stepped:?}");
    assert_eq!(
        (stepped.merges, stepped.ci_runs),
        (skipped.merges, skipped.ci_runs)
    );
}
