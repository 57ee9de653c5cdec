//! `owners_dir_denylist` from the core config (`config.yaml`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Directory regexes Prow always ignores unless
/// `ignore_preconfigured_defaults` is set.
///
/// Note the third entry: Prow documents it as `vendor/.*/OWNERS`, but the
/// regex actually applied to directories is `vendor/.*/.*`, so
/// `vendor/x/OWNERS` is still read while `vendor/x/y/OWNERS` is not.
pub const PRECONFIGURED_DIR_DENYLIST: [&str; 3] = [r"\.git$", "_output$", "vendor/.*/.*"];

/// Regexes of directories to skip when loading OWNERS files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnersDirDenylist {
    /// Extra patterns per `org` or `org/repo`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub repos: BTreeMap<String, Vec<String>>,
    /// Patterns for every repository.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default: Vec<String>,
    /// Do not add [`PRECONFIGURED_DIR_DENYLIST`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_preconfigured_defaults: bool,
}

impl OwnersDirDenylist {
    /// Patterns for `org/repo`, in Prow's order: defaults, org entries,
    /// repo entries, then the preconfigured patterns.
    pub fn list_ignored_dirs(&self, org: &str, repo: &str) -> Vec<String> {
        let mut out = self.default.clone();
        if let Some(p) = self.repos.get(org) {
            out.extend(p.iter().cloned());
        }
        if let Some(p) = self.repos.get(&format!("{org}/{repo}")) {
            out.extend(p.iter().cloned());
        }
        if !self.ignore_preconfigured_defaults {
            out.extend(PRECONFIGURED_DIR_DENYLIST.iter().map(|s| (*s).to_owned()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_defaults() {
        let d = OwnersDirDenylist {
            repos: BTreeMap::from([
                ("org".to_owned(), vec!["o".to_owned()]),
                ("org/repo".to_owned(), vec!["r".to_owned()]),
            ]),
            default: vec!["d".to_owned()],
            ignore_preconfigured_defaults: false,
        };
        assert_eq!(
            d.list_ignored_dirs("org", "repo"),
            vec!["d", "o", "r", r"\.git$", "_output$", "vendor/.*/.*"]
        );
        assert_eq!(d.list_ignored_dirs("other", "x").len(), 4);
        let none = OwnersDirDenylist {
            ignore_preconfigured_defaults: true,
            ..Default::default()
        };
        assert!(none.list_ignored_dirs("a", "b").is_empty());
    }
}
