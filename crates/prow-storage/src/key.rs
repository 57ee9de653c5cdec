//! Object names every backend accepts, and the pure listing helpers the backends share.

use std::path::PathBuf;

use crate::error::{Result, StorageError};

/// Longest object name GCS and S3 both accept, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Check that `key` is a portable object name: non-empty, at most [`MAX_KEY_LEN`] bytes, no
/// control characters (NUL included), no backslash, no leading or trailing `/`, and no empty,
/// `.` or `..` segments (which a directory cannot represent and which could escape it).
///
/// This is the one check every route that maps a URL or a name to an object or a file goes
/// through (see [`safe_relative_path`] for joining onto a directory).
pub fn validate_key(key: &str) -> Result<()> {
    check_key(key).map_err(|reason| StorageError::InvalidKey {
        key: key.to_string(),
        reason,
    })
}

/// Why a name is refused, before any segment is looked at: control characters and
/// backslashes (which some tools read as separators) are never part of a portable name.
fn check_chars(s: &str) -> Result<(), &'static str> {
    if s.chars().any(|c| c.is_control()) {
        return Err("contains control characters");
    }
    if s.contains('\\') {
        return Err("contains a backslash");
    }
    Ok(())
}

/// Why a run of complete `/`-separated segments is refused.
fn check_segments(s: &str) -> Result<(), &'static str> {
    for seg in s.split('/') {
        match seg {
            "" => return Err("contains an empty path segment"),
            "." | ".." => return Err("contains a '.' or '..' segment"),
            _ => {}
        }
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), &'static str> {
    if key.is_empty() {
        return Err("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return Err("longer than 1024 bytes");
    }
    check_relative_path(key)
}

/// The path rules of [`validate_key`] without its length limit, for URL paths that carry more
/// than a key (a provider and a bucket in front of it): no control characters, no backslash,
/// not absolute, no trailing `/`, no empty, `.` or `..` segment. Returns the reason.
pub fn check_relative_path(path: &str) -> Result<(), &'static str> {
    check_chars(path)?;
    if path.starts_with('/') {
        return Err("is absolute (starts with '/')");
    }
    if path.ends_with('/') {
        return Err("ends with '/'");
    }
    check_segments(path)
}

/// A key as a relative path to join onto a directory: the same rules as [`validate_key`],
/// so the result has only normal components and `dir.join(result)` stays under `dir`
/// (symlinks aside: open it with [`crate::safe_fs::open_beneath`]).
pub fn safe_relative_path(key: &str) -> Result<PathBuf> {
    validate_key(key)?;
    Ok(key.split('/').collect())
}

/// Check a list prefix: may be empty or end in `/` or in a partial name, but every complete
/// segment must be valid as in [`validate_key`].
pub fn validate_prefix(prefix: &str) -> Result<()> {
    let bad = |reason| StorageError::InvalidKey {
        key: prefix.to_string(),
        reason,
    };
    if prefix.len() > MAX_KEY_LEN {
        return Err(bad("longer than 1024 bytes"));
    }
    check_chars(prefix).map_err(bad)?;
    if prefix.starts_with('/') {
        return Err(bad("is absolute (starts with '/')"));
    }
    if let Some((complete, _partial)) = prefix.rsplit_once('/') {
        check_segments(complete).map_err(bad)?;
    }
    Ok(())
}

/// Normalise the path part of a bucket URL into a key prefix: surrounding and repeated
/// slashes are dropped, `.`/`..` segments refused.
pub(crate) fn clean_prefix(raw: &str) -> Result<String, &'static str> {
    check_chars(raw).map_err(|_| "prefix contains control characters or a backslash")?;
    let mut parts = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" => {}
            "." | ".." => return Err("prefix contains a '.' or '..' segment"),
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if joined.len() > MAX_KEY_LEN {
        return Err("prefix longer than 1024 bytes");
    }
    Ok(joined)
}

/// Group sorted keys under `prefix` the way S3 and GCS do for a delimited listing: keys with
/// no `delimiter` after the prefix are objects; the others collapse into their common prefix
/// (ending with the delimiter). Returns `(objects, prefixes)`, both sorted and deduplicated.
pub fn group_by_delimiter<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    prefix: &str,
    delimiter: &str,
) -> (Vec<&'a str>, Vec<String>) {
    let mut objects = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for key in keys {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        match (delimiter.is_empty(), rest.find(delimiter)) {
            (false, Some(i)) => {
                let common = &key[..prefix.len() + i + delimiter.len()];
                if prefixes.last().map(String::as_str) != Some(common) {
                    prefixes.push(common.to_string());
                }
            }
            _ => objects.push(key),
        }
    }
    objects.sort_unstable();
    prefixes.sort_unstable();
    prefixes.dedup();
    (objects, prefixes)
}

/// Strip the store's root prefix (`"a/b"` or empty) from a key returned by a provider.
pub(crate) fn strip_root<'a>(root: &str, full: &'a str) -> Option<&'a str> {
    if root.is_empty() {
        return Some(full);
    }
    full.strip_prefix(root)?.strip_prefix('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in [
            "a",
            "logs/job/1/build-log.txt",
            "pr-logs/pull/org_repo/1/job/2/artifacts/escape%23me/foo",
            "a b/c#d?e",
            ".hidden/x",
            "a/..b",
        ] {
            assert!(validate_key(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_KEY_LEN + 1);
        for bad in [
            "", "/a", "a/", "a//b", "a/./b", "../a", "a/..", "a\nb", &long,
        ] {
            let err = validate_key(bad).unwrap_err();
            assert_eq!(err.metric_label(), "invalid_key", "{bad:?}");
        }
    }

    /// Every form of "outside the bucket" a URL can carry once decoded (axum decodes `%2F`,
    /// `%2e`, `%5C`, `%00` before a handler sees the path, so the decoded forms are what
    /// arrives here); the still-encoded forms are harmless literal names.
    #[test]
    fn attack_table() {
        for bad in [
            "/etc/passwd",
            "//etc/passwd",
            "..",
            ".",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\\..\\b",
            "..\\x",
            "a\u{0}b",
            "a/\u{0}",
            "a\u{7f}b",
            "a/",
            "/",
            "",
        ] {
            let err = validate_key(bad).unwrap_err();
            assert_eq!(err.metric_label(), "invalid_key", "{bad:?}");
            assert!(safe_relative_path(bad).is_err(), "{bad:?}");
        }
        // Literal percent signs are just characters of a name: no path meaning.
        for literal in ["%2Fetc%2Fpasswd", "a%5C..%5Cb", "a%00b", "%2e%2e"] {
            let p = safe_relative_path(literal).unwrap();
            assert_eq!(p.components().count(), 1, "{literal}");
        }
        let p = safe_relative_path("logs/job/1/build-log.txt").unwrap();
        assert!(p.is_relative());
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        );
        assert_eq!(p, std::path::Path::new("logs/job/1/build-log.txt"));
        let reason = validate_key("a\\b").unwrap_err().to_string();
        assert!(reason.contains("backslash"), "{reason}");
        let reason = validate_key("/etc/passwd").unwrap_err().to_string();
        assert!(reason.contains("absolute"), "{reason}");
    }

    #[test]
    fn prefixes() {
        for good in ["", "logs/", "logs/job/12", "logs/job/..", "a/.h"] {
            assert!(validate_prefix(good).is_ok(), "{good}");
        }
        for bad in [
            "/logs",
            "a//b",
            "../x",
            "a/../b/",
            "a\u{0}",
            "a\\..\\b/",
            "\\",
        ] {
            assert!(validate_prefix(bad).is_err(), "{bad}");
        }
        assert_eq!(clean_prefix("/a//b/").unwrap(), "a/b");
        assert_eq!(clean_prefix("").unwrap(), "");
        assert!(clean_prefix("a/../b").is_err());
        assert!(clean_prefix("a\\b").is_err());
    }

    #[test]
    fn grouping() {
        let keys = [
            "logs/job/1/build-log.txt",
            "logs/job/1/finished.json",
            "logs/job/10/started.json",
            "logs/job/2/started.json",
            "logs/job/latest-build.txt",
            "logs/other/x",
        ];
        let (objs, pres) = group_by_delimiter(keys.iter().copied(), "logs/job/", "/");
        assert_eq!(objs, vec!["logs/job/latest-build.txt"]);
        assert_eq!(pres, vec!["logs/job/1/", "logs/job/10/", "logs/job/2/"]);
        // A partial prefix matches names, not only directories.
        let (objs, pres) = group_by_delimiter(keys.iter().copied(), "logs/job/1", "/");
        assert!(objs.is_empty());
        assert_eq!(pres, vec!["logs/job/1/", "logs/job/10/"]);
        // No delimiter: everything under the prefix, flat.
        let (objs, pres) = group_by_delimiter(keys.iter().copied(), "logs/", "");
        assert_eq!(objs.len(), 6);
        assert!(pres.is_empty());
        // Multi-character delimiters work like S3's.
        let (objs, pres) = group_by_delimiter(["a-x-1", "a-x-2", "a-y"], "a-", "-");
        assert_eq!(objs, vec!["a-y"]);
        assert_eq!(pres, vec!["a-x-"]);
    }

    #[test]
    fn root_stripping() {
        assert_eq!(strip_root("", "a/b"), Some("a/b"));
        assert_eq!(strip_root("p/q", "p/q/a"), Some("a"));
        assert_eq!(strip_root("p/q", "p/qa"), None);
        assert_eq!(strip_root("p", "x/a"), None);
    }
}
