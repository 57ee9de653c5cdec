//! Object keys and list prefixes (every backend checks them before touching a path or an
//! object) and bucket URLs. Input: first line a bucket URL, the rest a key; each is also tried
//! as the other. An accepted key joined under a directory must stay inside it.

use std::path::{Component, Path};

use prow_storage::StorageUrl;
use prow_storage::key::{group_by_delimiter, validate_key, validate_prefix};

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "gs://",
    "s3://",
    "file://",
    "file:///",
    "/",
    "//",
    ".",
    "..",
    "./",
    "../",
    "\\",
    "..\\",
    "\0",
    "\n",
    "%2F",
    "bucket",
    "logs/job/1",
    "pr-logs/pull/org_repo/1/job/2",
    "~",
    "\u{2215}",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = super::text(data);
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    for key in [rest, first, text.as_ref()] {
        check_key(key);
    }
    for raw in [first, rest] {
        if let Ok(url) = StorageUrl::parse(raw) {
            let shown = url.to_string();
            let again = StorageUrl::parse(&shown)
                .unwrap_or_else(|e| panic!("{shown:?} (from {raw:?}) does not parse: {e}"));
            assert_eq!(again, url, "{shown:?} parses differently from {raw:?}");
            let _ = url.bucket_key(rest);
            let _ = url.object_url(rest);
        }
    }
}

fn check_key(key: &str) {
    if validate_key(key).is_ok() {
        let base = Path::new("/srv/bucket");
        let joined = base.join(key);
        assert!(
            joined.starts_with(base),
            "key {key:?} leaves the bucket: {}",
            joined.display()
        );
        assert!(
            joined
                .components()
                .skip(base.components().count())
                .all(|c| matches!(c, Component::Normal(_))),
            "key {key:?} has a non-normal component"
        );
        assert!(!key.contains('\0'));
        // A valid key is a valid prefix, and a valid key's parent is one too.
        assert!(
            validate_prefix(key).is_ok(),
            "key {key:?} is not a valid prefix"
        );
        if let Some((parent, _)) = key.rsplit_once('/') {
            assert!(validate_prefix(&format!("{parent}/")).is_ok());
        }
    }
    let _ = validate_prefix(key);
    let mut keys = ["a/b", "a/c/d", key, "a/b/c"];
    keys.sort_unstable();
    let (objects, prefixes) = group_by_delimiter(keys, "a/", "/");
    for p in &prefixes {
        assert!(p.ends_with('/') && p.starts_with("a/"));
    }
    assert!(objects.iter().all(|o| o.starts_with("a/")));
}
