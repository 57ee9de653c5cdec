//! Loads a repository's OWNERS data through the [`GitHub`] API (Prow clones the repo instead):
//! the base branch's tree is listed once, then only OWNERS files, the aliases file and — for
//! `owners.mdyamlrepos` repos — Markdown files are fetched. Results are cached per base SHA and
//! load options, so every event on a busy repo after the first costs one `get_ref` call.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use prow_github::{GitHub, GitHubError};
use prow_owners::{LoadOptions, RepoOwners};
use regex::Regex;

use crate::config::Owners;

/// How many `(repo, sha, options)` entries are kept.
const DEFAULT_CAPACITY: usize = 128;
/// Files fetched concurrently per load.
const FETCH_CONCURRENCY: usize = 8;

/// Why OWNERS could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnersLoadError {
    /// The base branch does not exist.
    #[error("branch {branch:?} of {org}/{repo} not found")]
    BranchNotFound {
        /// Organisation.
        org: String,
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
    },
    /// Any other GitHub failure.
    #[error("loading OWNERS of {org}/{repo}: {source}")]
    GitHub {
        /// Organisation.
        org: String,
        /// Repository.
        repo: String,
        /// The failure.
        source: GitHubError,
    },
}

type CacheKey = (String, String, String, String);

#[derive(Default)]
struct Cache {
    map: HashMap<CacheKey, Arc<RepoOwners>>,
    order: VecDeque<CacheKey>,
}

/// OWNERS loader with a small per-SHA cache. Share one per process.
pub struct OwnersLoader {
    cache: Mutex<Cache>,
    capacity: usize,
}

impl Default for OwnersLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl OwnersLoader {
    /// An empty loader.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty loader keeping at most `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        OwnersLoader {
            cache: Mutex::new(Cache::default()),
            capacity: capacity.max(1),
        }
    }

    /// OWNERS of `org/repo` at the tip of `branch` (Prow's `LoadRepoOwners`).
    pub async fn load(
        &self,
        github: &dyn GitHub,
        org: &str,
        repo: &str,
        branch: &str,
        opts: &LoadOptions,
    ) -> Result<Arc<RepoOwners>, OwnersLoadError> {
        let sha = github
            .get_ref(org, repo, &format!("heads/{branch}"))
            .await
            .map_err(|e| match e {
                GitHubError::NotFound(_) => OwnersLoadError::BranchNotFound {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    branch: branch.to_owned(),
                },
                source => OwnersLoadError::GitHub {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    source,
                },
            })?;
        self.load_sha(github, org, repo, &sha, opts).await
    }

    /// OWNERS of `org/repo` at commit `sha`.
    pub async fn load_sha(
        &self,
        github: &dyn GitHub,
        org: &str,
        repo: &str,
        sha: &str,
        opts: &LoadOptions,
    ) -> Result<Arc<RepoOwners>, OwnersLoadError> {
        let key: CacheKey = (
            org.to_owned(),
            repo.to_owned(),
            sha.to_owned(),
            format!("{opts:?}"),
        );
        if let Some(hit) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.map.get(&key).cloned())
        {
            return Ok(hit);
        }
        let gh_err = |source| OwnersLoadError::GitHub {
            org: org.to_owned(),
            repo: repo.to_owned(),
            source,
        };
        let tree = github
            .get_tree_recursive(org, repo, sha)
            .await
            .map_err(gh_err)?;
        let denylist: Vec<Regex> = opts
            .dir_denylist
            .iter()
            .filter_map(|p| Regex::new(p).ok())
            .collect();
        let wanted: Vec<String> = tree
            .into_iter()
            .filter(|e| e.kind == "blob")
            .map(|e| e.path)
            .filter(|p| is_owners_input(p, opts) && !in_denied_dir(p, &denylist))
            .collect();
        let fetched: Vec<(String, Result<Vec<u8>, GitHubError>)> = futures::stream::iter(wanted)
            .map(|path| async move {
                let r = github.get_file(org, repo, &path, Some(sha)).await;
                (path, r)
            })
            .buffer_unordered(FETCH_CONCURRENCY)
            .collect()
            .await;
        let mut files = Vec::with_capacity(fetched.len());
        for (path, r) in fetched {
            match r {
                // Non-UTF-8 files cannot be OWNERS YAML; skip them like unparsable ones.
                Ok(bytes) => {
                    if let Ok(text) = String::from_utf8(bytes) {
                        files.push((path, text));
                    }
                }
                // Deleted between listing and fetching: treat as absent.
                Err(GitHubError::NotFound(_)) => {}
                Err(e) => return Err(gh_err(e)),
            }
        }
        let owners = Arc::new(RepoOwners::load(files, opts));
        for w in owners.warnings() {
            tracing::warn!(org, repo, sha, warning = %w, "problem in OWNERS data");
        }
        if let Ok(mut c) = self.cache.lock() {
            if c.map.insert(key.clone(), Arc::clone(&owners)).is_none() {
                c.order.push_back(key);
            }
            while c.order.len() > self.capacity {
                if let Some(old) = c.order.pop_front() {
                    c.map.remove(&old);
                }
            }
        }
        Ok(owners)
    }
}

/// Load options for `org/repo` from the `owners` plugin section and the core config's
/// `owners_dir_denylist`.
pub fn load_options(
    owners: &Owners,
    denylist: &prow_config::prow::OwnersDirDenylist,
    org: &str,
    repo: &str,
) -> LoadOptions {
    let dl = prow_owners::OwnersDirDenylist {
        repos: denylist.repos.clone(),
        default: denylist.default.clone(),
        ignore_preconfigured_defaults: denylist.ignore_preconfigured_defaults,
    };
    LoadOptions {
        filenames: owners.filenames_for(org, repo),
        dir_denylist: dl.list_ignored_dirs(org, repo),
        enable_md_yaml: owners.md_yaml_enabled(org, repo),
    }
}

fn is_owners_input(path: &str, opts: &LoadOptions) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    path == opts.filenames.owners_aliases
        || base == opts.filenames.owners
        || (opts.enable_md_yaml && path.ends_with(".md"))
}

/// Whether any directory above `path` matches a denylist pattern (the root is tested as `.`),
/// the rule `RepoOwners::load` applies; checked here to avoid fetching files it would skip.
fn in_denied_dir(path: &str, denylist: &[Regex]) -> bool {
    if denylist.iter().any(|re| re.is_match(".")) {
        return true;
    }
    let Some((dir, _)) = path.rsplit_once('/') else {
        return false;
    };
    let mut prefix = String::new();
    for part in dir.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        if denylist.iter().any(|re| re.is_match(&prefix)) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_and_denylist() {
        let opts = LoadOptions::default();
        assert!(is_owners_input("OWNERS", &opts));
        assert!(is_owners_input("a/b/OWNERS", &opts));
        assert!(is_owners_input("OWNERS_ALIASES", &opts));
        assert!(!is_owners_input("a/OWNERS_ALIASES", &opts));
        assert!(!is_owners_input("README.md", &opts));
        let md = LoadOptions {
            enable_md_yaml: true,
            ..LoadOptions::default()
        };
        assert!(is_owners_input("docs/README.md", &md));

        let dl: Vec<Regex> = opts
            .dir_denylist
            .iter()
            .map(|p| Regex::new(p).unwrap())
            .collect();
        assert!(!in_denied_dir("OWNERS", &dl));
        assert!(in_denied_dir("vendor/x/y/OWNERS", &dl));
        assert!(!in_denied_dir("vendor/x/OWNERS", &dl));
        assert!(in_denied_dir("_output/OWNERS", &dl));
        let root = vec![Regex::new(r"^\.$").unwrap()];
        assert!(in_denied_dir("OWNERS", &root));
    }
}
