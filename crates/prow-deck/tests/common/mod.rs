//! Shared fixtures: a seeded store, a fixed config, a fake Tide and a Deck over them.
#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType, Pull, Refs};
use prow_deck::{ConfigGetter, Deck, DeckAuth, DeckDeps, DeckOptions, StorageResolver, TideSource};
use prow_jobstore::JobStore;
use prow_jobstore::memory::MemoryStore;
use serde_json::{Value, json};

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).single().unwrap()
}

/// A job of `job_type`/`state` on `org/repo` (PR `pr` by `author` for presubmits).
pub fn job(
    name: &str,
    job: &str,
    job_type: ProwJobType,
    state: ProwJobState,
    org_repo: &str,
    start: i64,
) -> ProwJob {
    let (org, repo) = org_repo.split_once('/').unwrap();
    let mut pj = ProwJob::default();
    pj.metadata.name = Some(name.into());
    pj.metadata.labels = Some([("created-by-prow".to_string(), "true".to_string())].into());
    pj.metadata.annotations = Some([("prow.k8s.io/job".to_string(), job.to_string())].into());
    pj.spec.job = job.into();
    pj.spec.job_type = Some(job_type);
    pj.spec.cluster = "default".into();
    if job_type != ProwJobType::Periodic {
        pj.spec.refs = Some(Refs {
            org: org.into(),
            repo: repo.into(),
            base_ref: "main".into(),
            base_sha: "1111111111111111111111111111111111111111".into(),
            pulls: if matches!(job_type, ProwJobType::Presubmit | ProwJobType::Batch) {
                vec![Pull {
                    number: 7,
                    author: "alice".into(),
                    sha: "2222222222222222222222222222222222222222".into(),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            ..Default::default()
        });
    } else {
        pj.spec.extra_refs = vec![Refs {
            org: org.into(),
            repo: repo.into(),
            base_ref: "main".into(),
            ..Default::default()
        }];
    }
    pj.status.state = state;
    pj.status.start_time = Some(t(start));
    if state.is_final() {
        pj.status.completion_time = Some(t(start + 90));
    }
    pj.status.url = format!("/view/gs/bucket/logs/{job}/{start}");
    pj.status.build_id = start.to_string();
    pj
}

/// Jobs of every state and type over two repos.
pub fn seed_jobs() -> Vec<ProwJob> {
    use ProwJobState::*;
    use ProwJobType::*;
    vec![
        job(
            "pj-1",
            "pull-alpha-unit",
            Presubmit,
            Success,
            "acme/alpha",
            10,
        ),
        job(
            "pj-2",
            "pull-alpha-lint",
            Presubmit,
            Failure,
            "acme/alpha",
            20,
        ),
        job(
            "pj-3",
            "pull-beta-unit",
            Presubmit,
            Pending,
            "acme/beta",
            30,
        ),
        job(
            "pj-4",
            "post-beta-build",
            Postsubmit,
            Triggered,
            "acme/beta",
            40,
        ),
        job(
            "pj-5",
            "periodic-nightly",
            Periodic,
            Aborted,
            "acme/alpha",
            50,
        ),
        job("pj-6", "batch-alpha-unit", Batch, Error, "acme/alpha", 60),
        job(
            "pj-7",
            "post-alpha-build",
            Postsubmit,
            Success,
            "acme/alpha",
            70,
        ),
    ]
}

pub fn config() -> prow_config::Config {
    prow_config::Config {
        prow: Default::default(),
        jobs: Default::default(),
        stats: Default::default(),
    }
}

pub fn getter(cfg: prow_config::Config) -> ConfigGetter {
    let cfg = Arc::new(cfg);
    Arc::new(move || cfg.clone())
}

pub struct FakeTide;

#[async_trait]
impl TideSource for FakeTide {
    async fn pools(&self) -> anyhow::Result<Value> {
        Ok(json!([
            {"Org": "acme", "Repo": "alpha", "Branch": "main", "Action": "MERGE",
             "SuccessPRs": [{"Number": 7, "Title": "Add feature", "HeadRefOID": "abc", "Mergeable": "MERGEABLE", "Body": "secret body"}],
             "PendingPRs": [{"Number": 8, "Title": "Pending change", "HeadRefOID": "def", "Mergeable": "MERGEABLE"}],
             "MissingPRs": [{"Number": 9, "Title": "Needs tests", "HeadRefOID": "fed", "Mergeable": "CONFLICTING"}],
             "BatchPending": null,
             "Target": [{"Number": 7, "Title": "Add feature", "HeadRefOID": "abc", "Mergeable": "MERGEABLE"}],
             "Blockers": null, "Error": "", "TenantIDs": null},
            {"Org": "acme", "Repo": "beta", "Branch": "main", "Action": "WAIT",
             "SuccessPRs": null, "PendingPRs": null, "MissingPRs": null, "BatchPending": null,
             "Target": null, "Blockers": null, "Error": "", "TenantIDs": null}
        ]))
    }
    async fn history(&self) -> anyhow::Result<Value> {
        Ok(json!({
            "acme/alpha:main": [
                {"time": "2024-01-01T10:00:00Z", "action": "MERGE", "baseSHA": "1111111111111111111111111111111111111111",
                 "target": [{"number": 7, "author": "alice", "sha": "abc", "title": "Add feature"}], "tenantids": null},
                {"time": "2024-01-01T09:00:00Z", "action": "TRIGGER", "tenantids": null}
            ]
        }))
    }
}

/// Moves every time of `pj` by `by`.
pub fn shift(mut pj: ProwJob, by: chrono::Duration) -> ProwJob {
    pj.status.start_time = pj.status.start_time.map(|t| t + by);
    pj.status.completion_time = pj.status.completion_time.map(|t| t + by);
    pj
}

pub fn no_storage() -> StorageResolver {
    Arc::new(|_: &str, _: &str| anyhow::bail!("no storage in this test"))
}

pub struct Setup {
    pub store: Arc<dyn JobStore>,
    pub deck: Deck,
    pub token: tokio_util::sync::CancellationToken,
}

/// A started Deck over the seeded jobs.
pub async fn deck_with(
    cfg: prow_config::Config,
    opts: DeckOptions,
    auth: Option<Arc<dyn DeckAuth>>,
    storage: StorageResolver,
) -> Setup {
    deck_with_jobs(cfg, opts, auth, storage, seed_jobs()).await
}

/// A started Deck over `jobs`.
pub async fn deck_with_jobs(
    cfg: prow_config::Config,
    opts: DeckOptions,
    auth: Option<Arc<dyn DeckAuth>>,
    storage: StorageResolver,
    jobs: Vec<ProwJob>,
) -> Setup {
    let store: Arc<dyn JobStore> = Arc::new(MemoryStore::new("default"));
    for j in jobs {
        store.create(j).await.unwrap();
    }
    let deck = Deck::new(
        DeckDeps {
            store: store.clone(),
            config: getter(cfg),
            plugins: None,
            tide: Some(Arc::new(FakeTide)),
            plugin_help: None,
            storage,
            auth,
            spyglass: None,
        },
        opts,
    )
    .with_clock(Arc::new(|| t(1000)));
    let token = tokio_util::sync::CancellationToken::new();
    deck.start(token.clone()).await.unwrap();
    Setup { store, deck, token }
}

pub async fn deck() -> Setup {
    deck_with(config(), DeckOptions::default(), None, no_storage()).await
}
