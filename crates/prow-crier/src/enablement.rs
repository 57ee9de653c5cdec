//! `--github-enabled-org`/`-repo` and `--github-disabled-org`/`-repo` (Prow's
//! `GitHubEnablementOptions`): which repositories' jobs crier handles at all.

use prow_api::ProwJob;

/// Allow and deny lists of orgs and `org/repo`s. Empty allow lists allow everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enablement {
    /// `--github-enabled-org`.
    pub enabled_orgs: Vec<String>,
    /// `--github-enabled-repo` (`org/repo`).
    pub enabled_repos: Vec<String>,
    /// `--github-disabled-org`.
    pub disabled_orgs: Vec<String>,
    /// `--github-disabled-repo` (`org/repo`).
    pub disabled_repos: Vec<String>,
}

impl Enablement {
    /// Whether `org/repo` is enabled.
    pub fn allows(&self, org: &str, repo: &str) -> bool {
        let full = format!("{org}/{repo}");
        let has = |l: &[String], v: &str| l.iter().any(|x| x == v);
        if (!self.enabled_orgs.is_empty() || !self.enabled_repos.is_empty())
            && !has(&self.enabled_orgs, org)
            && !has(&self.enabled_repos, &full)
        {
            return false;
        }
        !has(&self.disabled_orgs, org) && !has(&self.disabled_repos, &full)
    }

    /// Whether crier handles `pj`: jobs without refs always; otherwise when any of its refs or
    /// extra refs is enabled (reporting twice beats not reporting).
    pub fn handles(&self, pj: &ProwJob) -> bool {
        let mut refs = pj
            .spec
            .extra_refs
            .iter()
            .chain(pj.spec.refs.as_ref())
            .peekable();
        if refs.peek().is_none() {
            return true;
        }
        refs.any(|r| self.allows(&r.org, &r.repo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::Refs;

    fn refs(org: &str, repo: &str) -> Refs {
        Refs {
            org: org.into(),
            repo: repo.into(),
            ..Default::default()
        }
    }

    #[test]
    fn allow_and_deny_lists() {
        let all = Enablement::default();
        assert!(all.allows("acme", "widgets"));
        let e = Enablement {
            enabled_orgs: vec!["acme".into()],
            enabled_repos: vec!["other/one".into()],
            disabled_repos: vec!["acme/secret".into()],
            ..Default::default()
        };
        assert!(e.allows("acme", "widgets"));
        assert!(e.allows("other", "one"));
        assert!(!e.allows("other", "two"));
        assert!(!e.allows("acme", "secret"));
        let d = Enablement {
            disabled_orgs: vec!["evil".into()],
            ..Default::default()
        };
        assert!(!d.allows("evil", "x"));

        let mut pj = ProwJob::default();
        assert!(e.handles(&pj), "no refs: always handled");
        pj.spec.refs = Some(refs("other", "two"));
        assert!(!e.handles(&pj));
        pj.spec.extra_refs = vec![refs("acme", "widgets")];
        assert!(e.handles(&pj));
    }
}
