//! Measures create + `triggered` → `pending` transitions per second for every backend.
//!
//! ```text
//! cargo run --release -p prow-jobstore --features kube --example bench_transitions -- [N] [TASKS]
//! ```
//!
//! N transitions (default 5000) run one after another, then again spread over TASKS concurrent
//! tasks (default 8). SQLite runs in a temporary directory with the default options
//! (WAL, synchronous=NORMAL) and again with synchronous=FULL. The Kubernetes backend runs against
//! the in-repo fake API server (in-process, no socket): its number measures the client path and
//! the fake, not a real cluster.

use std::sync::Arc;

use prow_jobstore::JobStore;
use prow_jobstore::bench::{bench_transitions, bench_transitions_concurrent, per_second};
use prow_jobstore::kube::KubeStore;
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::sqlite::{SqliteOptions, SqliteStore};

async fn run(
    label: &str,
    store: Arc<dyn JobStore>,
    n: usize,
    tasks: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let seq = bench_transitions(store.as_ref(), n).await?;
    let conc = bench_transitions_concurrent(store.clone(), n, tasks).await?;
    println!(
        "{label:<28} sequential {:>9.0}/s ({:>7.1} ms)   {tasks} tasks {:>9.0}/s ({:>7.1} ms)",
        per_second(n, seq),
        seq.as_secs_f64() * 1e3,
        per_second(n, conc),
        conc.as_secs_f64() * 1e3,
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5000);
    let tasks: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(8);
    println!("{n} transitions (create + status update) per run");

    run("memory", Arc::new(MemoryStore::new("default")), n, tasks).await?;

    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path().join("normal.sqlite3"), "default").await?;
    run("sqlite (WAL, sync=NORMAL)", Arc::new(store), n, tasks).await?;
    let full = SqliteOptions {
        synchronous_full: true,
        ..Default::default()
    };
    let store = SqliteStore::open_with(dir.path().join("full.sqlite3"), "default", full).await?;
    run("sqlite (WAL, sync=FULL)", Arc::new(store), n, tasks).await?;

    let fake = prow_kube_fake::FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    run(
        "kube (in-process fake)",
        Arc::new(KubeStore::new(fake.client(), "default")),
        n,
        tasks,
    )
    .await?;
    Ok(())
}
