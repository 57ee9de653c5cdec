//! The behaviour every [`JobStore`] backend must show (feature `conformance`).
//!
//! Each case is a public async function that panics with a description of the first broken
//! expectation, so a backend's tests call [`run_conformance`] (or single cases) from a
//! `#[tokio::test]`. Cases tag their jobs with a random run label and only look at jobs carrying
//! it, so they can share one store (and one another's leftovers).
//!
//! Where backends legitimately differ the cases accept every allowed answer:
//! * a watch from an old version may replay the missed events or fail with
//!   [`StoreError::Gone`] (from the call or as the stream's first item);
//! * list order is checked as "creationTimestamp never decreases"; stores with finer creation
//!   order (memory, SQLite) check exact order in their own tests;
//! * a write that changes nothing may or may not produce a new resourceVersion, so no case
//!   makes one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use prow_api::{ProwJob, ProwJobState};

use crate::{JobStore, LabelSelector, ListParams, Result, StoreError, WatchEvent};

/// Label every conformance job carries; its value is the case's run id.
pub const RUN_LABEL: &str = "jobstore-conformance.prow.example/run";
/// Label the list and watch cases select on.
pub const GROUP_LABEL: &str = "jobstore-conformance.prow.example/group";

/// How long a case waits for an expected watch event before failing (a missing event would
/// otherwise hang the test; nothing asserts on speed).
const EVENT_WAIT: Duration = Duration::from_secs(30);

/// Runs every case against `store`.
pub async fn run_conformance(store: Arc<dyn JobStore>) {
    create_and_get(store.as_ref()).await;
    list_filters_and_order(store.as_ref()).await;
    update_with_optimistic_concurrency(store.as_ref()).await;
    update_status_keeps_spec(store.as_ref()).await;
    delete_removes(store.as_ref()).await;
    watch_from_list_version(store.as_ref()).await;
    watch_from_old_version_replays_or_is_gone(store.as_ref()).await;
    concurrent_status_updates(store).await;
}

/// Names and labels unique to one case run.
#[derive(Debug, Clone)]
pub struct Fixture {
    run: String,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// A fresh run id.
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Fixture {
            run: id[..10].to_string(),
        }
    }

    /// A job name unique to this run (a valid Kubernetes name).
    pub fn name(&self, suffix: &str) -> String {
        format!("cf-{}-{suffix}", self.run)
    }

    /// A triggered job named `suffix` with `spec.job = job_name`, in label group `group`.
    pub fn job(&self, suffix: &str, job_name: &str, group: &str) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.name = Some(self.name(suffix));
        j.metadata.labels = Some(
            [
                (RUN_LABEL.to_string(), self.run.clone()),
                (GROUP_LABEL.to_string(), group.to_string()),
            ]
            .into(),
        );
        j.spec.job = job_name.into();
        j.spec.context = format!("ci/{job_name}");
        j.status.state = ProwJobState::Triggered;
        j.status.description = "Job triggered.".into();
        j
    }

    /// Params selecting this run's jobs plus `extra` (selector syntax, may be empty).
    pub fn params(&self, extra: &str) -> ListParams {
        let sel = if extra.is_empty() {
            format!("{RUN_LABEL}={}", self.run)
        } else {
            format!("{RUN_LABEL}={},{extra}", self.run)
        };
        match LabelSelector::parse(&sel) {
            Ok(labels) => ListParams {
                labels,
                ..Default::default()
            },
            Err(e) => panic!("conformance selector {sel:?} does not parse: {e}"),
        }
    }
}

fn ok<T>(what: &str, r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error {e:?}"),
    }
}

fn rv(job: &ProwJob) -> String {
    job.metadata.resource_version.clone().unwrap_or_default()
}

fn names(items: &[ProwJob]) -> BTreeSet<String> {
    items.iter().map(|j| j.name().to_owned()).collect()
}

async fn list_names(store: &dyn JobStore, params: &ListParams) -> BTreeSet<String> {
    names(&ok("list", store.list(params).await).items)
}

/// The next watch event, failing the test if none comes.
pub async fn next_event(stream: &mut BoxStream<'static, Result<WatchEvent>>) -> Result<WatchEvent> {
    match tokio::time::timeout(EVENT_WAIT, stream.next()).await {
        Ok(Some(ev)) => ev,
        Ok(None) => panic!("watch stream ended while an event was expected"),
        Err(_) => panic!("no watch event within {EVENT_WAIT:?}"),
    }
}

/// `("ADDED" | "MODIFIED" | "DELETED", name)` of an event.
pub fn describe(ev: &WatchEvent) -> (&'static str, String) {
    let kind = match ev {
        WatchEvent::Added(_) => "ADDED",
        WatchEvent::Modified(_) => "MODIFIED",
        WatchEvent::Deleted(_) => "DELETED",
    };
    (kind, ev.job().name().to_owned())
}

/// Create fills in name (a UUID when empty), namespace, uid, creationTimestamp and
/// resourceVersion; get returns what create returned; duplicates are AlreadyExists; a missing
/// name is NotFound.
pub async fn create_and_get(store: &dyn JobStore) {
    let fx = Fixture::new();
    let input = fx.job("a", "unit", "g1");
    let created = ok("create", store.create(input.clone()).await);
    assert_eq!(created.name(), fx.name("a"));
    assert_eq!(
        (created.api_version.as_str(), created.kind.as_str()),
        ("prow.k8s.io/v1", "ProwJob")
    );
    assert!(!rv(&created).is_empty(), "create must set resourceVersion");
    assert!(
        created
            .metadata
            .uid
            .as_deref()
            .is_some_and(|u| !u.is_empty()),
        "create must set uid"
    );
    assert!(
        created.metadata.creation_timestamp.is_some(),
        "create must set creationTimestamp"
    );
    assert!(
        created
            .metadata
            .namespace
            .as_deref()
            .is_some_and(|n| !n.is_empty()),
        "create must set the namespace"
    );
    assert_eq!(created.spec, input.spec);
    assert_eq!(created.status, input.status);
    assert_eq!(created.metadata.labels, input.metadata.labels);
    assert_eq!(ok("get", store.get(&fx.name("a")).await), created);

    assert_eq!(
        store.create(input.clone()).await,
        Err(StoreError::AlreadyExists(fx.name("a")))
    );
    // A copy of a stored job (with its resourceVersion and uid) under a new name is a new job.
    let mut copy = created.clone();
    copy.metadata.name = Some(fx.name("copy"));
    let copy = ok("create copy", store.create(copy).await);
    assert_ne!(copy.metadata.uid, created.metadata.uid, "uid is per object");

    let mut unnamed = fx.job("x", "unit", "g1");
    unnamed.metadata.name = None;
    let unnamed = ok("create unnamed", store.create(unnamed).await);
    assert!(
        uuid::Uuid::parse_str(unnamed.name()).is_ok() && unnamed.name().len() == 36,
        "an unnamed job gets a UUID name, got {:?}",
        unnamed.name()
    );
    assert_eq!(ok("get unnamed", store.get(unnamed.name()).await), unnamed);

    let missing = fx.name("missing");
    assert_eq!(
        store.get(&missing).await,
        Err(StoreError::NotFound(missing.clone()))
    );
}

/// Label selectors (=, !=, in, notin, exists, !exists), `job_name` and `state` filters, alone
/// and combined; creationTimestamp never decreases along a list.
pub async fn list_filters_and_order(store: &dyn JobStore) {
    let fx = Fixture::new();
    let spec = [
        ("a", "job-x", "presubmit", true, ProwJobState::Triggered),
        ("b", "job-y", "postsubmit", true, ProwJobState::Pending),
        ("c", "job-x", "presubmit", true, ProwJobState::Triggered),
        ("d", "job-y", "periodic", false, ProwJobState::Success),
    ];
    for (suffix, job, ty, has_pull, state) in spec {
        let mut j = fx.job(suffix, job, "g1");
        let labels = j.metadata.labels.get_or_insert_with(Default::default);
        labels.insert("prow.k8s.io/type".into(), ty.into());
        if has_pull {
            labels.insert("prow.k8s.io/refs.pull".into(), "7".into());
        }
        j.status.state = state;
        ok("create", store.create(j).await);
    }
    let set = |s: &[&str]| -> BTreeSet<String> { s.iter().map(|x| fx.name(x)).collect() };

    let all = ok("list all", store.list(&fx.params("")).await);
    assert!(
        !all.resource_version.is_empty(),
        "list must return a resourceVersion"
    );
    assert_eq!(names(&all.items), set(&["a", "b", "c", "d"]));
    let times: Vec<_> = all
        .items
        .iter()
        .map(|j| j.metadata.creation_timestamp.clone())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "list must be oldest first: {times:?}"
    );

    /// Label selector, `job_name`, `state`, expected job suffixes.
    type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [&'a str]);
    let cases: [Case; 11] = [
        ("prow.k8s.io/type=presubmit", None, None, &["a", "c"]),
        ("prow.k8s.io/type!=presubmit", None, None, &["b", "d"]),
        (
            "prow.k8s.io/type in (postsubmit, periodic)",
            None,
            None,
            &["b", "d"],
        ),
        (
            "prow.k8s.io/type notin (presubmit)",
            None,
            None,
            &["b", "d"],
        ),
        ("prow.k8s.io/refs.pull", None, None, &["a", "b", "c"]),
        ("!prow.k8s.io/refs.pull", None, None, &["d"]),
        ("", Some("job-x"), None, &["a", "c"]),
        ("", None, Some("triggered"), &["a", "c"]),
        ("", Some("job-y"), Some("success"), &["d"]),
        ("prow.k8s.io/type=presubmit", None, Some("pending"), &[]),
        (
            "prow.k8s.io/type=presubmit,prow.k8s.io/refs.pull=7",
            Some("job-x"),
            None,
            &["a", "c"],
        ),
    ];
    for (sel, job, state, want) in cases {
        let mut p = fx.params(sel);
        p.job_name = job.map(str::to_owned);
        p.state = state.map(str::to_owned);
        assert_eq!(
            list_names(store, &p).await,
            set(want),
            "selector {sel:?}, job {job:?}, state {state:?}"
        );
    }
}

/// update replaces spec, labels and status, keeps identity, bumps the version; a stale
/// resourceVersion conflicts, an empty one is unconditional; missing jobs are NotFound.
pub async fn update_with_optimistic_concurrency(store: &dyn JobStore) {
    let fx = Fixture::new();
    let v1 = ok("create", store.create(fx.job("a", "unit", "g1")).await);

    let mut change = v1.clone();
    change.spec.job = "renamed".into();
    change
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("extra".into(), "yes".into());
    change.status.state = ProwJobState::Pending;
    let v2 = ok("update", store.update(change).await);
    assert_ne!(rv(&v2), rv(&v1), "update must change resourceVersion");
    assert_eq!(v2.spec.job, "renamed");
    assert_eq!(v2.status.state, ProwJobState::Pending);
    assert_eq!(v2.label("extra"), Some("yes"));
    assert_eq!(v2.metadata.uid, v1.metadata.uid, "update keeps uid");
    assert_eq!(
        v2.metadata.creation_timestamp,
        v1.metadata.creation_timestamp
    );
    assert_eq!(ok("get", store.get(v1.name()).await), v2);

    let mut stale = v1.clone();
    stale.spec.job = "lost".into();
    assert_eq!(
        store.update(stale.clone()).await,
        Err(StoreError::Conflict(fx.name("a")))
    );
    stale.status.state = ProwJobState::Failure;
    assert_eq!(
        store.update_status(stale).await,
        Err(StoreError::Conflict(fx.name("a")))
    );
    assert_eq!(
        ok("get", store.get(v1.name()).await),
        v2,
        "conflicting writes change nothing"
    );

    let mut blind = v1.clone();
    blind.metadata.resource_version = None;
    blind.spec.job = "blind".into();
    let v3 = ok("unconditional update", store.update(blind).await);
    assert_eq!(v3.spec.job, "blind");
    let mut blind = v1.clone();
    blind.metadata.resource_version = Some(String::new());
    blind.status.state = ProwJobState::Success;
    let v4 = ok(
        "unconditional update_status",
        store.update_status(blind).await,
    );
    assert_eq!(v4.status.state, ProwJobState::Success);
    assert_eq!(v4.spec.job, "blind");

    let mut missing = fx.job("missing", "unit", "g1");
    missing.metadata.resource_version = Some(rv(&v4));
    assert_eq!(
        store.update(missing.clone()).await,
        Err(StoreError::NotFound(fx.name("missing")))
    );
    assert_eq!(
        store.update_status(missing).await,
        Err(StoreError::NotFound(fx.name("missing")))
    );
}

/// update_status writes the status and nothing else.
pub async fn update_status_keeps_spec(store: &dyn JobStore) {
    let fx = Fixture::new();
    let created = ok("create", store.create(fx.job("a", "unit", "g1")).await);
    let mut change = created.clone();
    change.spec.job = "must-not-stick".into();
    change.spec.context = "must-not-stick".into();
    change.metadata.labels = None;
    change.status.state = ProwJobState::Pending;
    change.status.description = "Job running.".into();
    change.status.pod_name = created.name().to_owned();
    let updated = ok("update_status", store.update_status(change).await);
    assert_eq!(
        updated.spec, created.spec,
        "update_status must not change the spec"
    );
    assert_eq!(
        updated.metadata.labels, created.metadata.labels,
        "nor the labels"
    );
    assert_eq!(updated.status.state, ProwJobState::Pending);
    assert_eq!(updated.status.description, "Job running.");
    assert_ne!(rv(&updated), rv(&created));
    assert_eq!(ok("get", store.get(created.name()).await), updated);

    // Fields the new status leaves out are gone afterwards (the status is replaced, not merged).
    let mut change = updated.clone();
    change.status.description = String::new();
    change.status.pod_name = String::new();
    change.status.state = ProwJobState::Success;
    let done = ok("update_status", store.update_status(change).await);
    assert_eq!(done.status.description, "");
    assert_eq!(done.status.pod_name, "");
    assert_eq!(
        ok("get", store.get(created.name()).await).status,
        done.status
    );
}

/// delete removes the job; deleting or reading it again is NotFound.
pub async fn delete_removes(store: &dyn JobStore) {
    let fx = Fixture::new();
    ok("create", store.create(fx.job("a", "unit", "g1")).await);
    ok("create", store.create(fx.job("b", "unit", "g1")).await);
    ok("delete", store.delete(&fx.name("a")).await);
    assert_eq!(
        store.get(&fx.name("a")).await,
        Err(StoreError::NotFound(fx.name("a")))
    );
    assert_eq!(
        store.delete(&fx.name("a")).await,
        Err(StoreError::NotFound(fx.name("a")))
    );
    assert_eq!(
        list_names(store, &fx.params("")).await,
        BTreeSet::from([fx.name("b")])
    );
}

/// A watch from a list's version sees later writes to matching jobs, in order, and nothing
/// about jobs the params exclude (by label or by `job_name`).
pub async fn watch_from_list_version(store: &dyn JobStore) {
    let fx = Fixture::new();
    let before = ok("create", store.create(fx.job("p", "job-w", "a")).await);
    let mut params = fx.params(&format!("{GROUP_LABEL}=a"));
    let list = ok("list", store.list(&params).await);
    assert_eq!(names(&list.items), BTreeSet::from([fx.name("p")]));
    params.job_name = Some("job-w".into());
    let mut w = ok("watch", store.watch(&params, &list.resource_version).await);

    ok(
        "create other group",
        store.create(fx.job("b", "job-w", "b")).await,
    );
    let a1 = ok("create", store.create(fx.job("a1", "job-w", "a")).await);
    ok(
        "create other job",
        store.create(fx.job("a2", "job-other", "a")).await,
    );
    let mut pending = a1.clone();
    pending.status.state = ProwJobState::Pending;
    ok("update_status a1", store.update_status(pending).await);
    let mut p = before.clone();
    p.status.state = ProwJobState::Pending;
    ok("update_status p", store.update_status(p).await);
    let mut b = ok("get b", store.get(&fx.name("b")).await);
    b.status.state = ProwJobState::Pending;
    ok("update_status b", store.update_status(b).await);
    ok("delete a1", store.delete(&fx.name("a1")).await);
    // A last matching write: if any excluded event leaked it would show up before this one.
    ok(
        "create sentinel",
        store.create(fx.job("s", "job-w", "a")).await,
    );

    let want = [
        ("ADDED", "a1"),
        ("MODIFIED", "a1"),
        ("MODIFIED", "p"),
        ("DELETED", "a1"),
        ("ADDED", "s"),
    ];
    for (i, (kind, suffix)) in want.into_iter().enumerate() {
        let ev = ok("watch event", next_event(&mut w).await);
        assert_eq!(describe(&ev), (kind, fx.name(suffix)), "event #{i}");
        if i == 1 || i == 2 {
            assert_eq!(
                ev.job().status.state,
                ProwJobState::Pending,
                "event #{i} carries the new state"
            );
        }
    }
}

/// A watch from a version older than some writes either replays exactly those writes in order
/// or reports [`StoreError::Gone`] (from the call or as the first item).
pub async fn watch_from_old_version_replays_or_is_gone(store: &dyn JobStore) {
    let fx = Fixture::new();
    let params = fx.params("");
    let start = ok("list", store.list(&params).await).resource_version;
    let x1 = ok("create", store.create(fx.job("x1", "unit", "g1")).await);
    let mut running = x1.clone();
    running.status.state = ProwJobState::Pending;
    ok("update_status", store.update_status(running).await);
    ok("create", store.create(fx.job("x2", "unit", "g1")).await);
    ok("delete", store.delete(&fx.name("x1")).await);

    let mut w = match store.watch(&params, &start).await {
        Err(StoreError::Gone(_)) => return,
        other => ok("watch from old version", other),
    };
    let want = [
        ("ADDED", "x1"),
        ("MODIFIED", "x1"),
        ("ADDED", "x2"),
        ("DELETED", "x1"),
    ];
    for (i, (kind, suffix)) in want.into_iter().enumerate() {
        match next_event(&mut w).await {
            Err(StoreError::Gone(_)) if i == 0 => return,
            ev => assert_eq!(
                describe(&ok("replayed event", ev)),
                (kind, fx.name(suffix)),
                "event #{i}"
            ),
        }
    }
}

/// Two writers racing on one version: exactly one wins, the other gets Conflict. Writers that
/// retry on conflict lose no update.
pub async fn concurrent_status_updates(store: Arc<dyn JobStore>) {
    let fx = Fixture::new();
    let created = ok("create", store.create(fx.job("race", "unit", "g1")).await);

    for round in 0..10 {
        let base = ok("get", store.get(created.name()).await);
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let mut handles = Vec::new();
        for writer in 0..2 {
            let (store, barrier, mut job) = (store.clone(), barrier.clone(), base.clone());
            job.status.description = format!("round {round} writer {writer}");
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                store.update_status(job).await
            }));
        }
        let mut wins = Vec::new();
        for h in handles {
            match h.await {
                Ok(Ok(job)) => wins.push(job),
                Ok(Err(StoreError::Conflict(_))) => {}
                Ok(Err(e)) => panic!("round {round}: unexpected error {e:?}"),
                Err(e) => panic!("round {round}: writer task failed: {e}"),
            }
        }
        assert_eq!(
            wins.len(),
            1,
            "round {round}: exactly one writer must win a version"
        );
        assert_eq!(ok("get", store.get(created.name()).await), wins[0]);
    }

    // Read-modify-write with retries: every increment lands exactly once.
    const TASKS: usize = 4;
    const EACH: u32 = 10;
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let store = store.clone();
        let name = created.name().to_owned();
        handles.push(tokio::spawn(async move {
            let mut versions = Vec::new();
            for _ in 0..EACH {
                loop {
                    let mut job = store.get(&name).await?;
                    job.status.pod_revival_count += 1;
                    match store.update_status(job).await {
                        Ok(j) => {
                            versions.push(rv(&j));
                            break;
                        }
                        Err(StoreError::Conflict(_)) => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok::<_, StoreError>(versions)
        }));
    }
    let mut versions = BTreeSet::new();
    for h in handles {
        match h.await {
            Ok(Ok(v)) => versions.extend(v),
            Ok(Err(e)) => panic!("increment failed: {e:?}"),
            Err(e) => panic!("increment task failed: {e}"),
        }
    }
    let total = TASKS as u32 * EACH;
    assert_eq!(
        versions.len(),
        total as usize,
        "every successful write has its own version"
    );
    let last = ok("get", store.get(created.name()).await);
    assert_eq!(
        last.status.pod_revival_count, total,
        "no update may be lost"
    );
}
