//! Cases from Prow's `pkg/crier/reporters/gcs` tests.

use super::*;
use prow_api::{DecorationConfig, ProwJobType, Pull, Refs};

fn job(build_id: &str, state: ProwJobState) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.metadata.name = Some("abc-123".into());
    pj.spec.job = "pull-widgets-test".into();
    pj.spec.job_type = Some(ProwJobType::Presubmit);
    pj.spec.refs = Some(Refs {
        org: "acme".into(),
        repo: "widgets".into(),
        base_ref: "main".into(),
        base_sha: "base".into(),
        pulls: vec![Pull {
            number: 7,
            sha: "head".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    pj.spec.decoration_config = Some(DecorationConfig {
        gcs_configuration: Some(GcsConfiguration {
            bucket: "my-bucket".into(),
            path_strategy: "explicit".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    pj.status.build_id = build_id.into();
    pj.status.state = state;
    if state.is_final() {
        pj.status.completion_time = chrono::DateTime::from_timestamp(1_700_000_000, 0);
    }
    pj
}

#[test]
fn destination_follows_pod_utils_layout() {
    let cfg = ProwConfig::default();
    let pj = job("42", ProwJobState::Pending);
    let (bucket, dir) = job_destination(&cfg, &pj).unwrap();
    assert_eq!(bucket, "my-bucket");
    assert_eq!(dir, "pr-logs/pull/acme_widgets/7/pull-widgets-test/42");
    assert_eq!(
        job_destination(&cfg, &job("", ProwJobState::Pending)),
        Err(DestinationError::NoBuildId)
    );
    let mut undecorated = job("1", ProwJobState::Pending);
    undecorated.spec.decoration_config = None;
    assert!(matches!(
        job_destination(&cfg, &undecorated),
        Err(DestinationError::NoConfig(_))
    ));
}

#[test]
fn finished_only_for_complete_jobs() {
    assert!(finished_for(&job("1", ProwJobState::Pending)).is_none());
    let f = finished_for(&job("1", ProwJobState::Error)).unwrap();
    assert_eq!(f.passed, Some(false));
    assert_eq!(f.result, "error");
    assert_eq!(f.timestamp, Some(1_700_000_000));
    let text = String::from_utf8(to_tab_json(&f).unwrap()).unwrap();
    assert!(text.contains("\n\t\"passed\": false"), "{text}");
    assert!(text.contains("\"uploader\": \"crier\""), "{text}");
    let f = finished_for(&job("1", ProwJobState::Success)).unwrap();
    assert_eq!(f.passed, Some(true));
}

fn started(uploader: Option<&str>, commit: &str) -> Started {
    Started {
        repo_commit: commit.into(),
        metadata: uploader.map(|u| {
            let mut m = prow_pod_utils::metadata::Metadata::new();
            m.insert("uploader".into(), u.into());
            m
        }),
        ..Default::default()
    }
}

#[test]
fn started_decisions() {
    let pj = job("1", ProwJobState::Pending);
    // Absent: write without overwriting.
    match started_action(&pj, None, &[]) {
        StartedAction::Write { started, overwrite } => {
            assert!(!overwrite);
            assert_eq!(
                started.metadata.as_ref().and_then(|m| m.get("uploader")),
                Some(&serde_json::Value::from("crier"))
            );
        }
        StartedAction::Skip => panic!("expected a write"),
    }
    // Written by the pod utilities (no uploader): never touched.
    assert_eq!(
        started_action(&pj, Some(&started(None, "head")), &[]),
        StartedAction::Skip
    );
    assert_eq!(
        started_action(&pj, Some(&started(Some("initupload"), "")), &[]),
        StartedAction::Skip
    );
    // Crier's own, commit not resolved yet: overwritten.
    assert!(matches!(
        started_action(&pj, Some(&started(Some("crier"), "head")), &[]),
        StartedAction::Write {
            overwrite: true,
            ..
        }
    ));
    // Crier's own with a resolved commit differing from the static revision: kept.
    assert_eq!(
        started_action(&pj, Some(&started(Some("crier"), "merged-sha")), &[]),
        StartedAction::Skip
    );
    // No refs: nothing to say.
    let mut periodic = pj.clone();
    periodic.spec.refs = None;
    assert_eq!(started_action(&periodic, None, &[]), StartedAction::Skip);
}

/// Prow's `TestReportJobStarted` "overwrite-crier-uploaded" and "no-cloneref-self-update", with
/// the destination from plank's default decoration config (legacy strategy, path prefix).
#[test]
fn started_from_clone_records_with_default_decoration() {
    let mut cfg = ProwConfig::default();
    cfg.plank.default_decoration_config_entries.push(
        prow_config::prow::DefaultDecorationConfigEntry {
            org_repo: "*".into(),
            cluster: String::new(),
            config: Some(DecorationConfig {
                gcs_configuration: Some(GcsConfiguration {
                    bucket: "kubernetes-jenkins".into(),
                    path_prefix: "some-prefix".into(),
                    path_strategy: "legacy".into(),
                    default_org: "kubernetes".into(),
                    default_repo: "kubernetes".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        },
    );
    let refs = Refs {
        org: "kubernetes".into(),
        repo: "test-infra".into(),
        base_ref: "main".into(),
        pulls: vec![Pull {
            number: 12345,
            sha: "def456".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut pj = ProwJob::default();
    pj.spec.job_type = Some(ProwJobType::Presubmit);
    pj.spec.job = "my-little-job".into();
    pj.spec.refs = Some(refs.clone());
    pj.status.state = ProwJobState::Success;
    pj.status.build_id = "123".into();
    pj.status.start_time = chrono::DateTime::from_timestamp(1_286_735_400, 0);
    let (bucket, dir) = job_destination(&cfg, &pj).unwrap();
    assert_eq!(bucket, "kubernetes-jenkins");
    assert_eq!(
        dir,
        "some-prefix/pr-logs/pull/test-infra/12345/my-little-job/123"
    );

    let mut existing = started(Some("crier"), "def456");
    existing.timestamp = 1_286_735_400;
    let records = vec![Record {
        refs,
        final_sha: "abc123".into(),
        ..Default::default()
    }];
    match started_action(&pj, Some(&existing), &records) {
        StartedAction::Write { started, overwrite } => {
            assert!(overwrite);
            assert_eq!(started.repo_commit, "abc123");
            assert_eq!(started.repo_version, "abc123");
            assert_eq!(started.pull, "12345");
            assert_eq!(started.timestamp, 1_286_735_400);
        }
        StartedAction::Skip => panic!("crier's own started.json is refreshed"),
    }
    // no-cloneref-self-update: crier's file already names a resolved commit ("main", not the
    // static revision def456), so it is left alone.
    let mut own = started(Some("crier"), "main");
    own.timestamp = 100;
    assert_eq!(started_action(&pj, Some(&own), &[]), StartedAction::Skip);
}
