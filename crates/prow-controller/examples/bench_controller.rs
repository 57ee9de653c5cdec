//! Jobs per second the plank controller takes from `triggered` to `pending`.
//!
//! ```text
//! cargo run --release -p prow-controller --example bench_controller -- [N]
//! ```
//!
//! N triggered jobs (default 5000) are created first; the time measured runs from the
//! controller's start (list + watch) until all N are `pending`. The executor is the instant
//! in-memory fake, so the numbers measure the controller and the store. The Kubernetes store runs
//! against the in-repo fake API server (in-process, no socket), not a real cluster.

use std::sync::Arc;

use prow_controller::controller::bench_triggered_to_pending;
use prow_controller::fake::FakeExecutor;
use prow_jobstore::JobStore;
use prow_jobstore::bench::per_second;
use prow_jobstore::kube::KubeStore;
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::sqlite::SqliteStore;

async fn run(
    label: &str,
    store: Arc<dyn JobStore>,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let (elapsed, done) =
        bench_triggered_to_pending(store, Arc::new(FakeExecutor::instant()), n).await?;
    println!(
        "{label:<24} {done:>6}/{n} pending in {:>8.1} ms = {:>8.0} jobs/s",
        elapsed.as_secs_f64() * 1e3,
        per_second(done, elapsed)
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5000);
    run("memory", Arc::new(MemoryStore::new("default")), n).await?;
    let dir = tempfile::tempdir()?;
    let sqlite = SqliteStore::open(dir.path().join("bench.sqlite3"), "default").await?;
    run("sqlite (WAL)", Arc::new(sqlite), n).await?;
    let fake = prow_kube_fake::FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    run(
        "kube (in-process fake)",
        Arc::new(KubeStore::new(fake.client(), "default")),
        n,
    )
    .await?;
    Ok(())
}
