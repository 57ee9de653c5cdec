//! In-memory [`JobStore`]: Kubernetes semantics (resource versions, conflicts, watches from a
//! version with a bounded history) without persistence.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use prow_api::ProwJob;
use tokio::sync::broadcast;

use crate::{JobList, JobStore, ListParams, Result, StoreError, WatchEvent};

/// How many past events a watch can resume from.
const HISTORY: usize = 10_000;

#[derive(Default)]
struct State {
    version: u64,
    jobs: BTreeMap<String, ProwJob>,
    /// The version each job was created at, so lists come out oldest first even when several
    /// jobs share a creationTimestamp second.
    created: BTreeMap<String, u64>,
    history: VecDeque<(u64, WatchEvent)>,
}

/// A process-local store. Cheap to clone (shared state).
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    tx: broadcast::Sender<(u64, WatchEvent)>,
    namespace: String,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new("default")
    }
}

impl MemoryStore {
    /// An empty store whose jobs live in `namespace`.
    pub fn new(namespace: &str) -> Self {
        let (tx, _) = broadcast::channel(4096);
        MemoryStore {
            state: Arc::new(Mutex::new(State::default())),
            tx,
            namespace: namespace.to_owned(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-written (each write is one
        // insert), so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, st: &mut State, ev: WatchEvent) {
        st.history.push_back((st.version, ev.clone()));
        if st.history.len() > HISTORY {
            st.history.pop_front();
        }
        let _ = self.tx.send((st.version, ev));
    }

    fn write(&self, mut job: ProwJob, status_only: bool) -> Result<ProwJob> {
        let mut st = self.lock();
        let name = job.metadata.name.clone().unwrap_or_default();
        let Some(current) = st.jobs.get(&name) else {
            return Err(StoreError::NotFound(name));
        };
        if let Some(rv) = job.metadata.resource_version.as_deref()
            && !rv.is_empty()
            && Some(rv) != current.metadata.resource_version.as_deref()
        {
            return Err(StoreError::Conflict(name));
        }
        if status_only {
            let status = job.status;
            job = current.clone();
            job.status = status;
        } else {
            job.metadata.creation_timestamp = current.metadata.creation_timestamp.clone();
            job.metadata.uid = current.metadata.uid.clone();
            job.metadata.namespace = current.metadata.namespace.clone();
            crate::fill_type_meta(&mut job);
        }
        st.version += 1;
        job.metadata.resource_version = Some(st.version.to_string());
        st.jobs.insert(name, job.clone());
        self.record(&mut st, WatchEvent::Modified(job.clone()));
        Ok(job)
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn create(&self, mut job: ProwJob) -> Result<ProwJob> {
        let mut st = self.lock();
        let name = match job.metadata.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        if st.jobs.contains_key(&name) {
            return Err(StoreError::AlreadyExists(name));
        }
        st.version += 1;
        crate::fill_type_meta(&mut job);
        job.metadata.name = Some(name.clone());
        if job.metadata.namespace.is_none() {
            job.metadata.namespace = Some(self.namespace.clone());
        }
        job.metadata.resource_version = Some(st.version.to_string());
        job.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
        // Whole seconds, like every persisted backend returns (Kubernetes' Time format).
        job.metadata.creation_timestamp = Some(crate::now_time());
        let version = st.version;
        st.created.insert(name.clone(), version);
        st.jobs.insert(name, job.clone());
        self.record(&mut st, WatchEvent::Added(job.clone()));
        Ok(job)
    }

    async fn get(&self, name: &str) -> Result<ProwJob> {
        self.lock()
            .jobs
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(name.to_owned()))
    }

    async fn list(&self, params: &ListParams) -> Result<JobList> {
        let st = self.lock();
        let mut items: Vec<(u64, ProwJob)> = st
            .jobs
            .iter()
            .filter(|(_, j)| params.matches(j))
            .map(|(n, j)| (st.created.get(n).copied().unwrap_or(0), j.clone()))
            .collect();
        // Creation order, not last-write order: an update must not move a job to the end.
        items.sort_by_key(|(created, _)| *created);
        let items = items.into_iter().map(|(_, j)| j).collect();
        Ok(JobList {
            items,
            resource_version: st.version.to_string(),
        })
    }

    async fn update(&self, job: ProwJob) -> Result<ProwJob> {
        self.write(job, false)
    }

    async fn update_status(&self, job: ProwJob) -> Result<ProwJob> {
        self.write(job, true)
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let mut st = self.lock();
        let Some(mut job) = st.jobs.remove(name) else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        st.created.remove(name);
        st.version += 1;
        job.metadata.resource_version = Some(st.version.to_string());
        self.record(&mut st, WatchEvent::Deleted(job));
        Ok(())
    }

    async fn watch(
        &self,
        params: &ListParams,
        resource_version: &str,
    ) -> Result<BoxStream<'static, Result<WatchEvent>>> {
        let from: u64 = resource_version.parse().map_err(|_| {
            StoreError::Invalid(format!("bad resource version {resource_version:?}"))
        })?;
        // Subscribe before reading history so nothing falls between the two.
        let rx = self.tx.subscribe();
        let backlog: Vec<(u64, WatchEvent)> = {
            let st = self.lock();
            let oldest = st
                .history
                .front()
                .map(|(v, _)| *v)
                .unwrap_or(st.version + 1);
            if from + 1 < oldest && from < st.version {
                return Err(StoreError::Gone(resource_version.to_owned()));
            }
            st.history
                .iter()
                .filter(|(v, _)| *v > from)
                .cloned()
                .collect()
        };
        let last = backlog.last().map(|(v, _)| *v).unwrap_or(from);
        let params = params.clone();
        let p2 = params.clone();
        let live = stream::unfold((rx, last), |(mut rx, last)| async move {
            loop {
                match rx.recv().await {
                    Ok((v, ev)) if v > last => return Some((Ok((v, ev)), (rx, v))),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((Err(StoreError::Gone(last.to_string())), (rx, last)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        let s = stream::iter(backlog.into_iter().map(Ok))
            .chain(live)
            .filter_map(move |r| {
                let keep = match &r {
                    Ok((_, ev)) => p2.matches(ev.job()),
                    Err(_) => true,
                };
                futures::future::ready(keep.then(|| r.map(|(_, ev)| ev)))
            });
        let _ = params;
        Ok(s.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::ProwJobState;

    fn job(name: &str) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.name = Some(name.into());
        j.spec.job = "unit".into();
        j.status.state = ProwJobState::Triggered;
        j
    }

    #[tokio::test]
    async fn crud_conflict_and_watch() {
        let s = MemoryStore::default();
        let created = s.create(job("a")).await.unwrap();
        assert_eq!(created.metadata.resource_version.as_deref(), Some("1"));
        assert_eq!(
            s.create(job("a")).await.unwrap_err(),
            StoreError::AlreadyExists("a".into())
        );
        let list = s.list(&ListParams::all()).await.unwrap();
        assert_eq!(list.items.len(), 1);
        let mut w = s
            .watch(&ListParams::all(), &list.resource_version)
            .await
            .unwrap();

        let mut upd = created.clone();
        upd.status.state = ProwJobState::Pending;
        let upd = s.update_status(upd).await.unwrap();
        // Stale version conflicts.
        let mut stale = created.clone();
        stale.status.state = ProwJobState::Success;
        assert_eq!(
            s.update_status(stale).await.unwrap_err(),
            StoreError::Conflict("a".into())
        );
        let ev = w.next().await.unwrap().unwrap();
        assert!(
            matches!(ev, WatchEvent::Modified(ref j) if j.status.state == ProwJobState::Pending)
        );
        s.delete("a").await.unwrap();
        assert!(matches!(
            w.next().await.unwrap().unwrap(),
            WatchEvent::Deleted(_)
        ));
        assert!(s.get("a").await.unwrap_err() == StoreError::NotFound("a".into()));
        let _ = upd;

        // A watch from version 0 replays everything.
        let all: Vec<_> = s
            .watch(&ListParams::all(), "0")
            .await
            .unwrap()
            .take(3)
            .collect()
            .await;
        assert_eq!(all.len(), 3);
    }

    #[tokio::test]
    async fn list_filters() {
        let s = MemoryStore::default();
        let mut a = job("a");
        a.metadata.labels =
            Some([("prow.k8s.io/type".to_string(), "presubmit".to_string())].into());
        s.create(a).await.unwrap();
        s.create(job("b")).await.unwrap();
        let p = ListParams::with_labels("prow.k8s.io/type=presubmit").unwrap();
        assert_eq!(s.list(&p).await.unwrap().items.len(), 1);
        let p = ListParams {
            state: Some("triggered".into()),
            ..Default::default()
        };
        assert_eq!(s.list(&p).await.unwrap().items.len(), 2);
        let unnamed = s.create(ProwJob::default()).await.unwrap();
        assert_eq!(unnamed.metadata.name.unwrap().len(), 36);
    }
}
