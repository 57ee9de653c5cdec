//! Job and PR history over a file:// bucket laid out with prow-pod-utils' own path functions.

mod common;

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use common::*;
use http::{Request, StatusCode};
use prow_api::{DecorationConfig, GcsConfiguration, ProwJobType, Pull, Refs};
use prow_deck::{DeckOptions, StorageResolver};
use prow_pod_utils::gcs::{alias_for_spec, full_build_path, latest_build_for_spec, paths_for_job};
use prow_pod_utils::{Finished, JobSpec, Started};
use prow_storage::{PutOptions, Storage};
use tower::ServiceExt as _;

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn gcs() -> GcsConfiguration {
    GcsConfiguration {
        bucket: "gs://test-bucket".into(),
        path_strategy: "explicit".into(),
        ..Default::default()
    }
}

async fn put(s: &dyn Storage, key: &str, data: impl Into<Vec<u8>>) {
    s.put(key, Bytes::from(data.into()), &PutOptions::default())
        .await
        .unwrap();
}

/// Uploads one build the way initupload/sidecar do: started/finished.json in the build dir,
/// latest-build.txt pointers and the presubmit alias file.
async fn upload_build(
    s: &dyn Storage,
    job: &str,
    job_type: ProwJobType,
    build: u64,
    sha: &str,
    result: Option<&str>,
) {
    let refs = Refs {
        org: "acme".into(),
        repo: "alpha".into(),
        base_ref: "main".into(),
        base_sha: "1111111111111111111111111111111111111111".into(),
        pulls: if job_type == ProwJobType::Presubmit {
            vec![Pull {
                number: 12,
                sha: sha.into(),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let spec = JobSpec {
        job_type: Some(job_type),
        job: job.into(),
        build_id: build.to_string(),
        refs: Some(refs),
        ..Default::default()
    };
    let paths = paths_for_job(&gcs(), &spec, "").unwrap();
    let dir = paths.job_base_path.clone();
    let started = Started {
        timestamp: 1_700_000_000 + build as i64 * 100,
        pull: if job_type == ProwJobType::Presubmit {
            format!("main:1111111111111111111111111111111111111111,12:{sha}")
        } else {
            String::new()
        },
        ..Default::default()
    };
    put(
        s,
        &format!("{dir}/started.json"),
        serde_json::to_vec(&started).unwrap(),
    )
    .await;
    if let Some(r) = result {
        let finished = Finished {
            timestamp: Some(started.timestamp + 125),
            passed: Some(r == "SUCCESS"),
            result: r.into(),
            revision: if job_type == ProwJobType::Presubmit {
                sha.into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        put(
            s,
            &format!("{dir}/finished.json"),
            serde_json::to_vec(&finished).unwrap(),
        )
        .await;
    }
    for latest in latest_build_for_spec(&spec, paths.builder.as_ref()) {
        put(s, &latest, build.to_string()).await;
    }
    if let Some(alias) = alias_for_spec(&spec) {
        put(s, &alias, full_build_path(&gcs().bucket, &dir).unwrap()).await;
    }
}

async fn bucket() -> (tempfile::TempDir, Arc<dyn Storage>, StorageResolver) {
    let dir = tempfile::tempdir().unwrap();
    let storage = prow_storage::open(
        &format!("file://{}", dir.path().display()),
        &Default::default(),
    )
    .unwrap();
    let s2 = storage.clone();
    let resolver: StorageResolver = Arc::new(move |provider: &str, bucket: &str| {
        anyhow::ensure!(
            provider == "gs" && bucket == "test-bucket",
            "unexpected bucket {provider}/{bucket}"
        );
        Ok(s2.clone())
    });
    (dir, storage, resolver)
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[tokio::test]
async fn periodic_job_history_pages() {
    let (_dir, storage, resolver) = bucket().await;
    for b in 1..=25u64 {
        let result = if b == 25 {
            None
        } else if b % 5 == 0 {
            Some("FAILURE")
        } else {
            Some("SUCCESS")
        };
        upload_build(
            storage.as_ref(),
            "ci-nightly",
            ProwJobType::Periodic,
            b,
            "",
            result,
        )
        .await;
    }
    let s = deck_with(config(), DeckOptions::default(), None, resolver).await;
    let app = s.deck.router();
    let (status, page) = get(&app, "/job-history/gs/test-bucket/logs/ci-nightly").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("20 of 25 builds"), "{page}");
    assert!(page.contains(r#"href="/view/gs/test-bucket/logs/ci-nightly/25""#));
    assert!(
        page.contains(">Pending<"),
        "the unfinished newest build is pending"
    );
    assert!(page.contains(">FAILURE<") && page.contains(">SUCCESS<"));
    assert!(page.contains("2m5s"));
    assert!(
        !page.contains("/logs/ci-nightly/5\""),
        "build 5 is on the older page"
    );
    assert!(
        page.contains(r#"href="/job-history/gs/test-bucket/logs/ci-nightly?buildId=5">Older"#),
        "{page}"
    );
    // Legacy URL without a provider, older page.
    let (status, page) = get(&app, "/job-history/test-bucket/logs/ci-nightly?buildId=5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&page, "<tr class=\"s-"), 5);
    assert!(page.contains("Latest") && page.contains("Newer"));
    let (status, _) = get(&app, "/job-history/gs/test-bucket/logs/missing-job").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &app,
        "/job-history/gs/test-bucket/logs/ci-nightly?buildId=x",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn presubmit_history_and_pr_history() {
    let (_dir, storage, resolver) = bucket().await;
    upload_build(
        storage.as_ref(),
        "pull-alpha-unit",
        ProwJobType::Presubmit,
        101,
        SHA_A,
        Some("FAILURE"),
    )
    .await;
    upload_build(
        storage.as_ref(),
        "pull-alpha-unit",
        ProwJobType::Presubmit,
        102,
        SHA_B,
        Some("SUCCESS"),
    )
    .await;
    upload_build(
        storage.as_ref(),
        "pull-alpha-lint",
        ProwJobType::Presubmit,
        103,
        SHA_B,
        None,
    )
    .await;

    let mut cfg = config();
    for name in ["pull-alpha-unit", "pull-alpha-lint"] {
        let mut p = prow_config::Presubmit::default();
        p.base.name = name.into();
        p.base.utility.decoration_config = Some(DecorationConfig {
            gcs_configuration: Some(gcs()),
            ..Default::default()
        });
        cfg.jobs
            .presubmits
            .entry("acme/alpha".into())
            .or_default()
            .push(p);
    }
    let s = deck_with(cfg, DeckOptions::default(), None, resolver).await;
    let app = s.deck.router();

    let (status, page) = get(
        &app,
        "/job-history/gs/test-bucket/pr-logs/directory/pull-alpha-unit",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(
            r#"href="/view/gs/test-bucket/pr-logs/pull/acme_alpha/12/pull-alpha-unit/102""#
        ),
        "{page}"
    );
    assert!(page.contains("bbbbbbb"));
    assert_eq!(count(&page, "<tr class=\"s-"), 2);

    let (status, page) = get(&app, "/pr-history?org=acme&repo=alpha&pr=12").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("acme/alpha #12"));
    assert!(
        page.contains(r#"href="/job-history/gs/test-bucket/pr-logs/directory/pull-alpha-lint""#)
    );
    // Grouped by head SHA, newest commit first.
    let b = page.find(">bbbbbbb<").expect("commit b");
    let a = page.find(">aaaaaaa<").expect("commit a");
    assert!(b < a, "newest commit first");
    assert!(
        page.contains(
            r#"href="/view/gs/test-bucket/pr-logs/pull/acme_alpha/12/pull-alpha-lint/103""#
        )
    );
    assert!(page.contains(">Pending<"));
    let (status, _) = get(&app, "/pr-history?org=acme&repo=alpha&pr=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&app, "/pr-history?org=acme&repo=unknown&pr=1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bucket_validation_when_enabled() {
    let (_dir, storage, resolver) = bucket().await;
    upload_build(
        storage.as_ref(),
        "ci-nightly",
        ProwJobType::Periodic,
        1,
        "",
        Some("SUCCESS"),
    )
    .await;
    let mut cfg = config();
    cfg.prow.deck.skip_storage_path_validation = Some(false);
    let s = deck_with(cfg.clone(), DeckOptions::default(), None, resolver.clone()).await;
    let (status, _) = get(
        &s.deck.router(),
        "/job-history/gs/test-bucket/logs/ci-nightly",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    cfg.prow.deck.additional_allowed_buckets = vec!["test-bucket".into()];
    let s = deck_with(cfg, DeckOptions::default(), None, resolver).await;
    let (status, _) = get(
        &s.deck.router(),
        "/job-history/gs/test-bucket/logs/ci-nightly",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
