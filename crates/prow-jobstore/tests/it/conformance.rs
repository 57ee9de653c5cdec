//! The shared conformance suite against MemoryStore, SqliteStore and KubeStore (the latter on the
//! in-repo fake API server, configured like upstream's CRD: no status subresource).

use std::sync::Arc;

use prow_jobstore::conformance::{
    concurrent_status_updates, create_and_get, delete_removes, list_filters_and_order,
    run_conformance, update_status_keeps_spec, update_with_optimistic_concurrency,
};
use prow_jobstore::kube::KubeStore;
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::sqlite::SqliteStore;
use prow_kube_fake::FakeKube;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    run_conformance(Arc::new(MemoryStore::new("default"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path(), "default")
        .await
        .unwrap();
    run_conformance(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_store_conforms_without_status_subresource() {
    let fake = FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    run_conformance(Arc::new(KubeStore::new(fake.client(), "default"))).await;
}

/// With a `/status` subresource (not upstream's CRD) create and update write the status with a
/// second request, so watchers see an extra MODIFIED; every non-watch case holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_store_with_status_subresource_passes_non_watch_cases() {
    let fake = FakeKube::builder().prowjob_status_subresource(true).build();
    let store = KubeStore::new(fake.client(), "default").with_status_subresource(true);
    create_and_get(&store).await;
    list_filters_and_order(&store).await;
    update_with_optimistic_concurrency(&store).await;
    update_status_keeps_spec(&store).await;
    delete_removes(&store).await;
    concurrent_status_updates(Arc::new(store)).await;
}
