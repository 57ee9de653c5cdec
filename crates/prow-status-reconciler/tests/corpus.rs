//! prow.k8s.io's real job config: the stored state round-trips everything the delta needs.

use std::path::{Path, PathBuf};

use prow_config::LoadOptions;
use prow_status_reconciler::{Snapshot, delta_presubmits};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        p.join("kubernetes-test-infra/config/jobs").is_dir(),
        "test corpus missing at {} (shared/ must sit beside the checkout; see shared/corpus/README)",
        p.display()
    );
    p
}

#[test]
fn real_job_config_round_trips_through_the_state_file() {
    let root = corpus().join("kubernetes-test-infra/config");
    let cfg = match prow_config::load(&LoadOptions {
        config_path: root.join("prow/config.yaml"),
        job_config_path: Some(root.join("jobs")),
        ..Default::default()
    }) {
        Ok(c) => c,
        Err(e) => panic!("corpus config does not load: {e}"),
    };
    let live = &cfg.jobs.presubmits;
    assert!(live.values().map(Vec::len).sum::<usize>() > 2000);

    let snapshot = Snapshot::of(live);
    let text = match snapshot.to_yaml() {
        Ok(t) => t,
        Err(e) => panic!("encode: {e}"),
    };
    let back = match Snapshot::parse(&text, Path::new("state")) {
        Ok(s) => s,
        Err(e) => panic!("decode: {e}"),
    };
    assert_eq!(back, snapshot);
    let restored = back.to_presubmits();
    let same = delta_presubmits(&restored, live);
    assert!(
        same.is_empty(),
        "restored state differs: {:?}",
        same.counts()
    );

    // Branch filters survive with their regexes compiled: every job that ran on a branch still
    // runs there after the round trip.
    for (repo, jobs) in live {
        for (a, b) in jobs.iter().zip(&restored[repo]) {
            for branch in ["master", "main", "release-1.30", "feature-x"] {
                assert_eq!(
                    a.could_run(branch),
                    b.could_run(branch),
                    "{repo} {}",
                    a.base.name
                );
            }
        }
    }

    // Dropping one repository's jobs retires each of their contexts.
    let mut edited = live.clone();
    let (repo, dropped) = match live.iter().find(|(_, v)| v.len() > 3) {
        Some((r, v)) => (r.clone(), v.len()),
        None => panic!("no repo with several presubmits"),
    };
    edited.insert(repo.clone(), Vec::new());
    let d = delta_presubmits(&restored, &edited);
    assert_eq!(d.removed.get(&repo).map(Vec::len), Some(dropped));
    assert!(d.added.is_empty() && d.migrated.is_empty());
}
