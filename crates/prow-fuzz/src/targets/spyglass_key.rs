//! `/view/<key>` (and the same key in `/spyglass/lens/...` requests): parsed against a bucket
//! policy with local buckets, known buckets and an alias. An accepted key must name a build
//! directory with no way out of its bucket, and its canonical form must parse back to it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use prow_spyglass::key::path_info;
use prow_spyglass::{BucketPolicy, StorageSrc, ViewKey};
use prow_storage::Provider;

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "gs/",
    "gcs/",
    "s3/",
    "file/",
    "prowjob/",
    "bucket/",
    "s3b/",
    "alias/",
    "var/prow/artifacts/",
    "tmp/a/",
    "tmp/a/b/",
    "pr-logs/pull/",
    "org_repo/",
    "logs/",
    "job/",
    "123",
    "/",
    "//",
    ".",
    "..",
    "\\",
    "%2F",
    "%2e%2e",
    "\0",
    "\u{202e}",
    "~",
];

fn policies() -> [BucketPolicy; 2] {
    let lenient = BucketPolicy {
        known: BTreeMap::from([
            ("bucket".to_owned(), Provider::Gcs),
            ("s3b".to_owned(), Provider::S3),
        ]),
        file_roots: BTreeSet::from([
            "/var/prow/artifacts".to_owned(),
            "/tmp/a".to_owned(),
            "/tmp/a/b".to_owned(),
        ]),
        validate: false,
        aliases: BTreeMap::from([("alias".to_owned(), "bucket".to_owned())]),
    };
    let strict = BucketPolicy {
        validate: true,
        ..lenient.clone()
    };
    [lenient, strict]
}

static POLICIES: LazyLock<[BucketPolicy; 2]> = LazyLock::new(policies);

/// Runs one input.
pub fn run(data: &[u8]) {
    let raw = super::text(data);
    for policy in POLICIES.iter() {
        match policy.parse(&raw) {
            Ok(ViewKey::Storage(src)) => check_storage(policy, &src),
            Ok(ViewKey::ProwJob { job, build }) => {
                assert!(!job.is_empty() && !build.is_empty());
                assert!(!job.contains('/') && !build.contains('/'));
            }
            Err(e) => {
                assert!(e.status().is_client_error(), "{e} maps to {}", e.status());
            }
        }
    }
}

fn check_storage(policy: &BucketPolicy, src: &StorageSrc) {
    assert!(
        !src.path.starts_with('/'),
        "absolute build path {:?}",
        src.path
    );
    for seg in src.path.split('/') {
        assert!(
            !matches!(seg, "" | "." | ".."),
            "build path {:?} has segment {seg:?}",
            src.path
        );
    }
    assert!(
        !src.path.contains('\\') && !src.path.chars().any(char::is_control),
        "build path {:?}",
        src.path
    );
    if src.provider == Provider::File {
        assert!(
            policy.file_roots.contains(&src.bucket),
            "local bucket {:?} is not configured",
            src.bucket
        );
    }
    let again = policy.parse(&src.src());
    assert_eq!(
        again,
        Ok(ViewKey::Storage(src.clone())),
        "canonical form {:?} does not parse back",
        src.src()
    );
    let _ = (
        src.view_path(),
        src.job_name(),
        src.build_id(),
        src.run_path(),
    );
    let _ = path_info(src, "org", "repo");
}
