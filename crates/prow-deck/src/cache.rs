//! The in-memory job snapshot behind `/`, `/prowjobs.js`, `/data.js` and `/badge.svg`
//! (Prow's `JobAgent`, but fed by a watch instead of relisting every 30 s).
//!
//! One list at start, then [`JobStore::watch`] events update a name-indexed map. Readers get
//! an `Arc` of the jobs sorted newest first; the sort is redone lazily after a change, and each
//! job's JSON in the form the jobs page asks for (`omit=annotations,labels,decoration_config,
//! pod_spec`) is rendered once and reused until the job changes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use prow_api::ProwJob;
use prow_jobstore::{JobStore, ListParams, StoreError, WatchEvent};
use tokio_util::sync::CancellationToken;

/// One cached job.
#[derive(Debug)]
pub struct CachedJob {
    /// The job as stored (managedFields stripped).
    pub job: ProwJob,
    /// Lazily rendered JSON with every omittable field omitted.
    slim_json: OnceLock<Bytes>,
}

impl CachedJob {
    fn new(mut job: ProwJob) -> Self {
        job.metadata.managed_fields = None;
        CachedJob {
            job,
            slim_json: OnceLock::new(),
        }
    }

    /// JSON of the job with `annotations`, `labels`, `decoration_config` and `pod_spec`
    /// omitted exactly like Prow's `/prowjobs.js?omit=…` (the jobs page's own request).
    pub fn slim_json(&self) -> &Bytes {
        self.slim_json.get_or_init(|| {
            let slim = crate::web::omit_fields(&self.job, &crate::web::Omit::all());
            Bytes::from(serde_json::to_vec(&slim).unwrap_or_default())
        })
    }
}

#[derive(Default)]
struct State {
    by_name: HashMap<String, Arc<CachedJob>>,
    sorted: Option<Arc<Vec<Arc<CachedJob>>>>,
    synced: bool,
}

/// Cached jobs, kept current by [`JobCache::run`].
#[derive(Clone, Default)]
pub struct JobCache {
    state: Arc<RwLock<State>>,
}

/// Prow's order: newest start time first, then job name.
fn newest_first(a: &Arc<CachedJob>, b: &Arc<CachedJob>) -> std::cmp::Ordering {
    b.job
        .status
        .start_time
        .cmp(&a.job.status.start_time)
        .then_with(|| a.job.spec.job.cmp(&b.job.spec.job))
        .then_with(|| a.job.name().cmp(b.job.name()))
}

impl JobCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the first list has completed.
    pub fn synced(&self) -> bool {
        self.state.read().map(|s| s.synced).unwrap_or(false)
    }

    /// All jobs, newest first.
    pub fn jobs(&self) -> Arc<Vec<Arc<CachedJob>>> {
        if let Ok(s) = self.state.read()
            && let Some(sorted) = &s.sorted
        {
            return sorted.clone();
        }
        let Ok(mut s) = self.state.write() else {
            return Arc::default();
        };
        if let Some(sorted) = &s.sorted {
            return sorted.clone();
        }
        let mut v: Vec<Arc<CachedJob>> = s.by_name.values().cloned().collect();
        v.sort_by(newest_first);
        let v = Arc::new(v);
        s.sorted = Some(v.clone());
        v
    }

    /// One job by name.
    pub fn get(&self, name: &str) -> Option<Arc<CachedJob>> {
        self.state.read().ok()?.by_name.get(name).cloned()
    }

    fn replace_all(&self, jobs: Vec<ProwJob>) {
        if let Ok(mut s) = self.state.write() {
            s.by_name = jobs
                .into_iter()
                .map(|j| (j.name().to_owned(), Arc::new(CachedJob::new(j))))
                .collect();
            s.sorted = None;
            s.synced = true;
        }
    }

    /// Applies one watch event.
    pub fn apply(&self, ev: WatchEvent) {
        let Ok(mut s) = self.state.write() else {
            return;
        };
        match ev {
            WatchEvent::Added(j) | WatchEvent::Modified(j) => {
                s.by_name
                    .insert(j.name().to_owned(), Arc::new(CachedJob::new(j)));
            }
            WatchEvent::Deleted(j) => {
                s.by_name.remove(j.name());
            }
        }
        s.sorted = None;
    }

    /// Lists the store once (so the cache is usable when this returns) and returns the version
    /// to watch from.
    pub async fn initial_sync(&self, store: &dyn JobStore) -> Result<String, StoreError> {
        let list = store.list(&ListParams::all()).await?;
        self.replace_all(list.items);
        Ok(list.resource_version)
    }

    /// Keeps the cache current until `shutdown`: watches from `version`, relisting when the
    /// watch ends or its version is gone.
    pub async fn run(
        &self,
        store: Arc<dyn JobStore>,
        mut version: String,
        shutdown: CancellationToken,
    ) {
        loop {
            match store.watch(&ListParams::all(), &version).await {
                Ok(mut stream) => loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        ev = stream.next() => match ev {
                            Some(Ok(ev)) => {
                                if let Some(rv) = &ev.job().metadata.resource_version {
                                    version.clone_from(rv);
                                }
                                self.apply(ev);
                            }
                            Some(Err(e)) => {
                                tracing::info!(error = %e, "job watch failed; relisting");
                                break;
                            }
                            None => break,
                        },
                    }
                },
                Err(e) => tracing::warn!(error = %e, "starting the job watch failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            match self.initial_sync(store.as_ref()).await {
                Ok(v) => version = v,
                Err(e) => tracing::warn!(error = %e, "relisting jobs failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use prow_jobstore::memory::MemoryStore;

    fn job(name: &str, job: &str, start: i64) -> ProwJob {
        let mut pj = ProwJob::default();
        pj.metadata.name = Some(name.into());
        pj.spec.job = job.into();
        pj.status.start_time = Utc.timestamp_opt(start, 0).single();
        pj
    }

    #[tokio::test]
    async fn sorted_newest_first_and_follows_watch() {
        let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
        store.create(job("a", "x", 100)).await.unwrap();
        store.create(job("b", "y", 300)).await.unwrap();
        store.create(job("c", "a", 300)).await.unwrap();
        let cache = JobCache::new();
        let rv = cache.initial_sync(store.as_ref()).await.unwrap();
        let names: Vec<_> = cache
            .jobs()
            .iter()
            .map(|j| j.job.name().to_owned())
            .collect();
        assert_eq!(names, ["c", "b", "a"]);

        let token = CancellationToken::new();
        let task = tokio::spawn({
            let (cache, store, token) = (cache.clone(), store.clone(), token.clone());
            async move { cache.run(store, rv, token).await }
        });
        store.create(job("d", "z", 500)).await.unwrap();
        store.delete("a").await.unwrap();
        for _ in 0..200 {
            if cache.get("d").is_some() && cache.get("a").is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let names: Vec<_> = cache
            .jobs()
            .iter()
            .map(|j| j.job.name().to_owned())
            .collect();
        assert_eq!(names, ["d", "c", "b"]);
        token.cancel();
        task.await.unwrap();
    }
}
