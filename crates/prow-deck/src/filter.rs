//! Which jobs and Tide pools this Deck instance shows (`--hidden-only`, `--show-hidden`,
//! `--tenant-id`, `deck.hidden_repos`), as Prow's `filteringProwJobLister` and `tideAgent`
//! decide.

use std::collections::BTreeSet;

use prow_api::ProwJob;

/// Prow's tenant ID of jobs without one.
pub const DEFAULT_TENANT_ID: &str = "GlobalDefaultID";

/// The visibility rules of one Deck instance.
#[derive(Clone, Debug, Default)]
pub struct Visibility {
    /// `deck.hidden_repos` (`org` or `org/repo`).
    pub hidden_repos: BTreeSet<String>,
    /// `--hidden-only`.
    pub hidden_only: bool,
    /// `--show-hidden`.
    pub show_hidden: bool,
    /// `--tenant-id`.
    pub tenant_ids: Vec<String>,
}

impl Visibility {
    /// Rules from the options and the current config.
    pub fn new(opts: &crate::DeckOptions, cfg: &prow_config::Config) -> Self {
        Visibility {
            hidden_repos: cfg.prow.deck.hidden_repos.iter().cloned().collect(),
            hidden_only: opts.hidden_only,
            show_hidden: opts.show_hidden,
            tenant_ids: opts.tenant_ids.clone(),
        }
    }

    /// Whether `org/repo` (or its org) is listed in `hidden_repos`.
    pub fn repo_hidden(&self, org_repo: &str) -> bool {
        let org = org_repo.split('/').next().unwrap_or(org_repo);
        self.hidden_repos.contains(org_repo) || self.hidden_repos.contains(org)
    }

    fn job_has_hidden_refs(&self, pj: &ProwJob) -> bool {
        if self.hidden_repos.is_empty() {
            return false;
        }
        pj.spec
            .refs
            .iter()
            .chain(pj.spec.extra_refs.iter())
            .any(|r| self.repo_hidden(&format!("{}/{}", r.org, r.repo)))
    }

    /// Whether the job is shown (Prow's `ListProwJobs` filter).
    pub fn shows_job(&self, pj: &ProwJob) -> bool {
        let tenant = pj
            .spec
            .prowjob_defaults
            .as_ref()
            .map(|d| d.tenant_id.as_str())
            .unwrap_or("");
        if !self.tenant_ids.is_empty() {
            return pj.spec.prowjob_defaults.is_some()
                && self.tenant_ids.iter().any(|t| t == tenant);
        }
        let hide = pj.spec.hidden || self.job_has_hidden_refs(pj);
        if hide {
            self.show_hidden || self.hidden_only
        } else {
            !self.hidden_only && (tenant.is_empty() || tenant == DEFAULT_TENANT_ID)
        }
    }

    /// Prow's `tideAgent.filter`: the pool/record's tenant IDs plus the repo's configured one.
    pub fn shows_tide(&self, repo_tenant: &str, ids: &[String], needs_hide: bool) -> bool {
        let mut cur: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        if !repo_tenant.is_empty() && repo_tenant != DEFAULT_TENANT_ID {
            cur.insert(repo_tenant);
        }
        if cur.is_empty() {
            cur.insert(DEFAULT_TENANT_ID);
        }
        if !self.tenant_ids.is_empty() {
            return cur.iter().all(|id| self.tenant_ids.iter().any(|t| t == id));
        }
        if needs_hide {
            return self.show_hidden || self.hidden_only;
        }
        !self.hidden_only
            && cur
                .iter()
                .all(|id| id.is_empty() || *id == DEFAULT_TENANT_ID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::{ProwJobDefault, Refs};

    fn job(org: &str, repo: &str, hidden: bool, tenant: Option<&str>) -> ProwJob {
        let mut pj = ProwJob::default();
        pj.spec.refs = Some(Refs {
            org: org.into(),
            repo: repo.into(),
            ..Default::default()
        });
        pj.spec.hidden = hidden;
        pj.spec.prowjob_defaults = tenant.map(|t| ProwJobDefault {
            tenant_id: t.into(),
            ..Default::default()
        });
        pj
    }

    fn vis(hidden_only: bool, show_hidden: bool, tenants: &[&str]) -> Visibility {
        Visibility {
            hidden_repos: ["secret-org".to_string(), "o/private".to_string()]
                .into_iter()
                .collect(),
            hidden_only,
            show_hidden,
            tenant_ids: tenants.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn default_hides_hidden_repos_and_jobs() {
        let v = vis(false, false, &[]);
        assert!(v.shows_job(&job("o", "r", false, None)));
        assert!(!v.shows_job(&job("o", "private", false, None)));
        assert!(!v.shows_job(&job("secret-org", "x", false, None)));
        assert!(!v.shows_job(&job("o", "r", true, None)));
        assert!(!v.shows_job(&job("o", "r", false, Some("tenant-a"))));
        assert!(v.shows_job(&job("o", "r", false, Some(DEFAULT_TENANT_ID))));
    }

    #[test]
    fn hidden_only_and_show_hidden() {
        let only = vis(true, false, &[]);
        assert!(!only.shows_job(&job("o", "r", false, None)));
        assert!(only.shows_job(&job("o", "private", false, None)));
        let all = vis(false, true, &[]);
        assert!(all.shows_job(&job("o", "r", false, None)));
        assert!(all.shows_job(&job("o", "private", false, None)));
    }

    #[test]
    fn tenant_ids_select_only_their_jobs() {
        let v = vis(false, false, &["tenant-a"]);
        assert!(v.shows_job(&job("o", "private", false, Some("tenant-a"))));
        assert!(!v.shows_job(&job("o", "r", false, None)));
        assert!(!v.shows_job(&job("o", "r", false, Some("tenant-b"))));
    }

    #[test]
    fn tide_filter() {
        let v = vis(false, false, &[]);
        assert!(v.shows_tide("", &[], false));
        assert!(!v.shows_tide("", &[], true));
        assert!(!v.shows_tide("tenant-a", &[], false));
        let t = vis(false, false, &["tenant-a"]);
        assert!(t.shows_tide("tenant-a", &[], false));
        assert!(!t.shows_tide("", &[], false));
    }
}
