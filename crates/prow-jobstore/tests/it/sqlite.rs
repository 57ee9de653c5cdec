//! SqliteStore specifics: persistence across reopen, versions and watches that survive it, the
//! bounded event log, lagging watchers, SQL label selectors, indexes, bad rows.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use prow_api::{ProwJob, ProwJobState};
use prow_jobstore::conformance::{describe, next_event};
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::sqlite::{DEFAULT_FILE_NAME, SqliteOptions, SqliteStore};
use prow_jobstore::{JobStore, LabelSelector, ListParams, StoreError, WatchEvent};

fn job(name: &str) -> ProwJob {
    let mut j = ProwJob::default();
    j.metadata.name = Some(name.into());
    j.metadata.labels = Some([("app".to_string(), "unit".to_string())].into());
    j.spec.job = "unit".into();
    j.status.state = ProwJobState::Triggered;
    j
}

fn version(v: &str) -> u64 {
    v.parse().expect("sqlite versions are integers")
}

async fn pend(store: &dyn JobStore, name: &str) -> ProwJob {
    let mut j = store.get(name).await.unwrap();
    j.status.state = ProwJobState::Pending;
    store.update_status(j).await.unwrap()
}

#[tokio::test]
async fn survives_reopen_with_versions_and_watches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("jobs.db");
    let (a, list_before, mid_version) = {
        let store = SqliteStore::open(&path, "prow").await.unwrap();
        store.create(job("a")).await.unwrap();
        let mid = store
            .list(&ListParams::all())
            .await
            .unwrap()
            .resource_version;
        store.create(job("b")).await.unwrap();
        let a = pend(&store, "a").await;
        store.delete("b").await.unwrap();
        (a, store.list(&ListParams::all()).await.unwrap(), mid)
    };
    // Dropping the last handle closes the file; a new store reads the same state back.
    let store = SqliteStore::open(&path, "prow").await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), a);
    assert_eq!(store.get("b").await, Err(StoreError::NotFound("b".into())));
    let list = store.list(&ListParams::all()).await.unwrap();
    assert_eq!(
        list, list_before,
        "same items and same version after reopen"
    );
    assert_eq!(a.metadata.namespace.as_deref(), Some("prow"));

    // A watch from a version handed out before the restart replays what followed it...
    let mut replay = store.watch(&ListParams::all(), &mid_version).await.unwrap();
    // ...and one from the last pre-restart version sees new writes only.
    let mut live = store
        .watch(&ListParams::all(), &list.resource_version)
        .await
        .unwrap();
    let c = store.create(job("c")).await.unwrap();
    assert!(
        version(c.metadata.resource_version.as_deref().unwrap()) > version(&list.resource_version),
        "versions keep increasing across restarts"
    );
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(describe(&next_event(&mut replay).await.unwrap()));
    }
    let want: Vec<(&str, String)> = vec![
        ("ADDED", "b".into()),
        ("MODIFIED", "a".into()),
        ("DELETED", "b".into()),
        ("ADDED", "c".into()),
    ];
    assert_eq!(got, want);
    assert_eq!(
        describe(&next_event(&mut live).await.unwrap()),
        ("ADDED", "c".to_string())
    );
}

#[tokio::test]
async fn trimmed_event_log_answers_gone() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SqliteOptions {
        event_log_capacity: 3,
        ..Default::default()
    };
    let store = SqliteStore::open_with(dir.path().join(DEFAULT_FILE_NAME), "default", opts.clone())
        .await
        .unwrap();
    for name in ["a", "b", "c", "d", "e", "f"] {
        store.create(job(name)).await.unwrap();
    }
    // Versions 1..=6 were written; the log keeps 4..=6.
    assert!(matches!(
        store.watch(&ListParams::all(), "1").await,
        Err(StoreError::Gone(_))
    ));
    assert!(matches!(
        store.watch(&ListParams::all(), "2").await,
        Err(StoreError::Gone(_))
    ));
    let mut w = store.watch(&ListParams::all(), "3").await.unwrap();
    for name in ["d", "e", "f"] {
        assert_eq!(
            describe(&next_event(&mut w).await.unwrap()),
            ("ADDED", name.to_string())
        );
    }
    assert!(matches!(
        store.watch(&ListParams::all(), "x").await,
        Err(StoreError::Invalid(_))
    ));

    // The trimmed point is persisted too.
    drop((w, store));
    let store = SqliteStore::open_with(dir.path().join(DEFAULT_FILE_NAME), "default", opts)
        .await
        .unwrap();
    assert!(matches!(
        store.watch(&ListParams::all(), "2").await,
        Err(StoreError::Gone(_))
    ));
    assert!(store.watch(&ListParams::all(), "3").await.is_ok());
}

#[tokio::test]
async fn lagging_watcher_catches_up_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path(), "default")
        .await
        .unwrap();
    let start = store
        .list(&ListParams::all())
        .await
        .unwrap()
        .resource_version;
    let mut w = store.watch(&ListParams::all(), &start).await.unwrap();
    // More writes than the live channel buffers, while nobody reads the stream.
    let n = 1500;
    let jobs: Vec<ProwJob> = (0..n).map(|i| job(&format!("j{i}"))).collect();
    let writers = jobs.into_iter().map(|j| {
        let s = store.clone();
        async move { s.create(j).await }
    });
    for r in futures::future::join_all(writers).await {
        r.unwrap();
    }
    let mut last = version(&start);
    for _ in 0..n {
        let ev = next_event(&mut w).await.unwrap();
        assert!(matches!(ev, WatchEvent::Added(_)));
        let v = version(ev.job().metadata.resource_version.as_deref().unwrap());
        assert_eq!(v, last + 1, "events arrive in order without gaps");
        last = v;
    }
}

#[tokio::test]
async fn watch_ends_when_the_store_is_dropped_and_file_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path(), "default")
        .await
        .unwrap();
    let err = SqliteStore::open_in_dir(dir.path(), "default")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("already open")),
        "{err:?}"
    );
    let mut w = store.watch(&ListParams::all(), "0").await.unwrap();
    drop(store);
    let end = tokio::time::timeout(Duration::from_secs(30), w.next()).await;
    assert!(matches!(end, Ok(None)), "the stream ends with the store");
    // The file is free again.
    SqliteStore::open_in_dir(dir.path(), "default")
        .await
        .unwrap();
}

#[tokio::test]
async fn list_keeps_creation_order_and_namespaces_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path(), "prow").await.unwrap();
    for name in ["c", "a", "b"] {
        store.create(job(name)).await.unwrap();
    }
    pend(&store, "c").await;
    let names: Vec<String> = store
        .list(&ListParams::all())
        .await
        .unwrap()
        .items
        .iter()
        .map(|j| j.name().to_owned())
        .collect();
    assert_eq!(
        names,
        ["c", "a", "b"],
        "creation order, not name or last-write order"
    );

    let other = ListParams {
        namespace: Some("elsewhere".into()),
        ..Default::default()
    };
    assert!(store.list(&other).await.unwrap().items.is_empty());
    let mut foreign = job("z");
    foreign.metadata.namespace = Some("elsewhere".into());
    assert!(matches!(
        store.create(foreign).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn memory_store_lists_in_creation_order_too() {
    let store = MemoryStore::new("default");
    for name in ["c", "a", "b"] {
        store.create(job(name)).await.unwrap();
    }
    pend(&store, "c").await;
    let names: Vec<String> = store
        .list(&ListParams::all())
        .await
        .unwrap()
        .items
        .iter()
        .map(|j| j.name().to_owned())
        .collect();
    assert_eq!(names, ["c", "a", "b"]);
}

#[tokio::test]
async fn concurrent_writers_share_commits_and_keep_distinct_versions() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path(), "default")
        .await
        .unwrap();
    let creates = (0..200).map(|i| {
        let s = store.clone();
        async move { s.create(job(&format!("w{i}"))).await }
    });
    let mut versions: Vec<u64> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|r| version(r.unwrap().metadata.resource_version.as_deref().unwrap()))
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=200).collect::<Vec<u64>>());
    // A failing request in a batch does not undo its neighbours.
    let mixed = (0..20).map(|i| {
        let s = store.clone();
        // Even ones collide with existing names.
        let name = if i % 2 == 0 {
            format!("w{i}")
        } else {
            format!("n{i}")
        };
        async move { s.create(job(&name)).await }
    });
    let results = futures::future::join_all(mixed).await;
    for (i, r) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert!(matches!(r, Err(StoreError::AlreadyExists(_))), "{i}: {r:?}");
        } else {
            assert!(r.is_ok(), "{i}: {r:?}");
        }
    }
    assert_eq!(
        store.list(&ListParams::all()).await.unwrap().items.len(),
        210
    );
    assert_eq!(
        store
            .list(&ListParams::all())
            .await
            .unwrap()
            .resource_version,
        "210"
    );
}

#[tokio::test]
async fn schema_has_indexes_and_queries_use_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DEFAULT_FILE_NAME);
    drop(SqliteStore::open(&path, "default").await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows.join("; ")
    };
    let p = plan(
        "SELECT object FROM prowjobs WHERE namespace = 'd' AND state = 'pending' ORDER BY created_rv",
    );
    assert!(p.contains("prowjobs_by_state"), "{p}");
    let p =
        plan("SELECT object FROM prowjobs WHERE namespace = 'd' AND job = 'x' ORDER BY created_rv");
    assert!(p.contains("prowjobs_by_job"), "{p}");
    let p = plan(
        "SELECT object FROM prowjobs WHERE namespace = 'd' AND id IN \
         (SELECT job_id FROM prowjob_labels WHERE key = 'k' AND value IN ('v'))",
    );
    assert!(p.contains("prowjob_labels_by_value"), "{p}");
}

#[tokio::test]
async fn a_corrupt_row_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DEFAULT_FILE_NAME);
    {
        let store = SqliteStore::open(&path, "default").await.unwrap();
        store.create(job("a")).await.unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE prowjobs SET object = '{not json' WHERE name = 'a'",
        [],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path, "default").await.unwrap();
    assert!(matches!(store.get("a").await, Err(StoreError::Backend(_))));
    assert!(matches!(
        store.list(&ListParams::all()).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        pend_result(&store).await,
        Err(StoreError::Backend(_))
    ));
    // The store keeps working for other jobs.
    store.create(job("b")).await.unwrap();
}

async fn pend_result(store: &SqliteStore) -> Result<ProwJob, StoreError> {
    let mut j = job("a");
    j.status.state = ProwJobState::Pending;
    store.update_status(j).await
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DEFAULT_FILE_NAME);
    drop(SqliteStore::open(&path, "default").await.unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = SqliteStore::open(&path, "default").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("schema version 99")),
        "{err:?}"
    );
}

mod selectors {
    //! The SQL translation of label selectors agrees with `ListParams::matches`.

    use super::*;
    use proptest::prelude::*;

    const KEYS: [&str; 3] = ["k0", "k1", "k2"];
    const VALUES: [&str; 3] = ["v0", "v1", "v2"];

    /// 27 jobs: every combination of "absent, v0, v1" for k0..k2 (v2 never occurs).
    fn jobs() -> Vec<ProwJob> {
        (0..27)
            .map(|i| {
                let mut j = job(&format!("j{i}"));
                let mut labels = BTreeMap::new();
                let mut rest = i;
                for k in KEYS {
                    match rest % 3 {
                        0 => {}
                        d => {
                            labels.insert(k.to_string(), VALUES[d - 1].to_string());
                        }
                    }
                    rest /= 3;
                }
                j.metadata.labels = Some(labels);
                j
            })
            .collect()
    }

    fn term() -> impl Strategy<Value = String> {
        let key = proptest::sample::select(&KEYS[..]);
        let val = proptest::sample::select(&VALUES[..]);
        let vals = proptest::collection::vec(proptest::sample::select(&VALUES[..]), 0..3);
        prop_oneof![
            (key.clone(), val.clone()).prop_map(|(k, v)| format!("{k}={v}")),
            (key.clone(), val).prop_map(|(k, v)| format!("{k}!={v}")),
            key.clone().prop_map(|k| k.to_string()),
            key.clone().prop_map(|k| format!("!{k}")),
            (key.clone(), vals.clone()).prop_map(|(k, vs)| format!("{k} in ({})", vs.join(","))),
            (key, vals).prop_map(|(k, vs)| format!("{k} notin ({})", vs.join(","))),
        ]
    }

    #[test]
    fn sql_selection_matches_in_memory_selection() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, all) = rt.block_on(async {
            let store = SqliteStore::open_in_dir(dir.path(), "default")
                .await
                .unwrap();
            for j in jobs() {
                store.create(j).await.unwrap();
            }
            let all = store.list(&ListParams::all()).await.unwrap().items;
            (store, all)
        });
        assert_eq!(all.len(), 27);
        let config = ProptestConfig {
            cases: 256,
            ..ProptestConfig::default()
        };
        proptest!(config, |(terms in proptest::collection::vec(term(), 0..4))| {
            let sel = terms.join(",");
            let params = ListParams { labels: LabelSelector::parse(&sel).unwrap(), ..Default::default() };
            let got: Vec<String> = rt
                .block_on(store.list(&params))
                .unwrap()
                .items
                .iter()
                .map(|j| j.name().to_owned())
                .collect();
            let want: Vec<String> =
                all.iter().filter(|j| params.matches(j)).map(|j| j.name().to_owned()).collect();
            prop_assert_eq!(got, want, "selector {:?}", sel);
        });
    }
}
