//! Tide's config lookups (merge method, batch size, context policy, target URL…), as pure
//! functions of `prow_config::prow::Tide` and the job config. Names follow Prow's
//! `pkg/config/tide.go`.

use std::collections::BTreeSet;

use prow_config::Presubmit;
use prow_config::prow::{
    Tide, TideContextPolicy, TideContextPolicyOptions, TideMergeCommitTemplate,
};
use regex::Regex;

/// A merge method (`PUT /pulls/{n}/merge` `merge_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MergeMethod {
    /// Merge commit.
    Merge,
    /// Squash.
    Squash,
    /// Rebase.
    Rebase,
}

impl MergeMethod {
    /// Parses `merge`, `squash`, `rebase`.
    pub fn parse(s: &str) -> Option<MergeMethod> {
        match s {
            "merge" => Some(MergeMethod::Merge),
            "squash" => Some(MergeMethod::Squash),
            "rebase" => Some(MergeMethod::Rebase),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

/// What Tide does when GitHub says `mergeStateStatus: BLOCKED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeBlocksPolicy {
    /// Merge anyway, status says "despite BLOCKED" (default).
    Permit,
    /// Keep the PR out of the pool.
    Block,
    /// Pretend GitHub said nothing.
    Ignore,
}

fn lookup<'a, T>(
    m: &'a std::collections::BTreeMap<String, T>,
    org: &str,
    repo: &str,
) -> Option<&'a T> {
    m.get(&format!("{org}/{repo}"))
        .or_else(|| m.get(org))
        .or_else(|| m.get("*"))
}

/// `batch_size_limit` for a repo: 0 unlimited, -1 batches disabled.
pub fn batch_size_limit(t: &Tide, org: &str, repo: &str) -> i64 {
    lookup(&t.batch_size_limit, org, repo).copied().unwrap_or(0)
}

/// `prioritize_existing_batches` for a repo (default true).
pub fn prioritize_existing_batches(t: &Tide, org: &str, repo: &str) -> bool {
    lookup(&t.prioritize_existing_batches, org, repo)
        .copied()
        .unwrap_or(true)
}

/// `github_merge_blocks_policy` for a repo (default permit; unknown values are treated as permit).
pub fn merge_blocks_policy(t: &Tide, org: &str, repo: &str) -> MergeBlocksPolicy {
    match lookup(&t.github_merge_blocks_policy, org, repo).map(String::as_str) {
        Some("block") => MergeBlocksPolicy::Block,
        Some("ignore") => MergeBlocksPolicy::Ignore,
        _ => MergeBlocksPolicy::Permit,
    }
}

/// `merge_commit_template` for a repo (org/repo, else org).
pub fn merge_commit_template<'a>(
    t: &'a Tide,
    org: &str,
    repo: &str,
) -> Option<&'a TideMergeCommitTemplate> {
    t.merge_commit_template
        .get(&format!("{org}/{repo}"))
        .or_else(|| t.merge_commit_template.get(org))
}

/// `target_urls` (most specific), else the deprecated `target_url`.
pub fn target_url_base(t: &Tide, org: &str, repo: &str) -> String {
    lookup(&t.target_urls, org, repo)
        .cloned()
        .unwrap_or_else(|| t.target_url.clone())
}

/// `pr_status_base_urls` (org/repo, org, `*`), else the deprecated `pr_status_base_url`.
pub fn pr_status_base_url(t: &Tide, org: &str, repo: &str) -> String {
    lookup(&t.pr_status_base_urls, org, repo)
        .cloned()
        .unwrap_or_else(|| t.pr_status_base_url.clone())
}

fn method_of(v: &serde_json::Value) -> Option<MergeMethod> {
    v.as_str().and_then(MergeMethod::parse)
}

/// Prow's `OrgRepoBranchMergeMethod`: `org/repo@branch`, branch regexes under the org's repo (or
/// `*`), `org/repo`, the repo entry, the org entry, else `merge`.
pub fn configured_merge_method(t: &Tide, org: &str, repo: &str, branch: &str) -> MergeMethod {
    let mm = &t.merge_method;
    if let Some(m) = mm
        .get(&format!("{org}/{repo}@{branch}"))
        .and_then(method_of)
    {
        return m;
    }
    let org_entry = mm.get(org);
    let repo_entry = org_entry
        .and_then(|o| o.as_object())
        .and_then(|o| o.get(repo).or_else(|| o.get("*")));
    if let Some(branches) = repo_entry.and_then(|r| r.as_object()) {
        // BTreeMap-like deterministic order: sort keys as Prow does.
        let mut keys: Vec<&String> = branches.keys().collect();
        keys.sort();
        for k in keys {
            if let Ok(re) = Regex::new(k)
                && re.is_match(branch)
                && let Some(m) = branches.get(k).and_then(method_of)
            {
                return m;
            }
        }
    }
    if let Some(m) = mm.get(&format!("{org}/{repo}")).and_then(method_of) {
        return m;
    }
    if let Some(m) = repo_entry.and_then(method_of) {
        return m;
    }
    if let Some(m) = org_entry.and_then(method_of) {
        return m;
    }
    MergeMethod::Merge
}

/// The merge method for a PR after label overrides; `None` when it carries more than one of
/// `squash_label`/`rebase_label`/`merge_label` ("conflicting merge method override labels").
pub fn pr_merge_method(
    t: &Tide,
    org: &str,
    repo: &str,
    branch: &str,
    labels: &[String],
) -> Option<MergeMethod> {
    let mut method = configured_merge_method(t, org, repo, branch);
    let mut count = 0;
    for l in labels {
        if l.is_empty() {
            continue;
        }
        let m = if *l == t.squash_label {
            MergeMethod::Squash
        } else if *l == t.rebase_label {
            MergeMethod::Rebase
        } else if *l == t.merge_label {
            MergeMethod::Merge
        } else {
            continue;
        };
        method = m;
        count += 1;
        if count > 1 {
            return None;
        }
    }
    Some(method)
}

/// Which contexts must pass for a PR (Prow's `TideContextPolicy` after `GetTideContextPolicy`).
#[derive(Clone, Debug, Default)]
pub struct ContextPolicy {
    /// Must be present and successful.
    pub required: BTreeSet<String>,
    /// Must be successful when present.
    pub required_if_present: BTreeSet<String>,
    /// Ignored.
    pub optional: BTreeSet<String>,
    /// Ignored when matching.
    pub optional_re: Vec<Regex>,
    /// Unknown contexts are optional.
    pub skip_unknown: bool,
    /// After a batch passes, write success over pending per-PR contexts.
    pub overwrite_pending: bool,
}

/// The context policy is inconsistent (Prow's `TideContextPolicy.Validate`).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// A context is both required and required-if-present, or optional and required.
    #[error("invalid tide context policy: {0}")]
    Invalid(String),
}

fn merge_policy(a: &TideContextPolicy, b: &TideContextPolicy) -> TideContextPolicy {
    let union = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter()
            .chain(y)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    TideContextPolicy {
        skip_unknown_contexts: b.skip_unknown_contexts.or(a.skip_unknown_contexts),
        required_contexts: union(&a.required_contexts, &b.required_contexts),
        required_if_present_contexts: union(
            &a.required_if_present_contexts,
            &b.required_if_present_contexts,
        ),
        optional_contexts: union(&a.optional_contexts, &b.optional_contexts),
        optional_regex_contexts: union(&a.optional_regex_contexts, &b.optional_regex_contexts),
        from_branch_protection: b.from_branch_protection.or(a.from_branch_protection),
        overwrite_pending_contexts: b
            .overwrite_pending_contexts
            .or(a.overwrite_pending_contexts),
    }
}

/// Prow's `ParseTideContextPolicyOptions`: global, then org, repo, branch levels merged.
pub fn context_options(
    opts: &TideContextPolicyOptions,
    org: &str,
    repo: &str,
    branch: &str,
) -> TideContextPolicy {
    let mut p = opts.policy.clone();
    if let Some(o) = opts.orgs.get(org) {
        p = merge_policy(&p, &o.policy);
        if let Some(r) = o.repos.get(repo) {
            p = merge_policy(&p, &r.policy);
            if let Some(b) = r.branches.get(branch) {
                p = merge_policy(&p, b);
            }
        }
    }
    p
}

/// Prow's `BranchRequirements`: (required, required-if-present, optional) job contexts.
pub fn branch_requirements(
    branch: &str,
    presubmits: &[Presubmit],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut req, mut rip, mut opt) = (Vec::new(), Vec::new(), Vec::new());
    for j in presubmits {
        if !j.could_run(branch) {
            continue;
        }
        let ctx = j.reporter.context.clone();
        if j.context_required() {
            if j.triggers_conditionally() {
                rip.push(ctx);
            } else {
                req.push(ctx);
            }
        } else {
            opt.push(ctx);
        }
    }
    (req, rip, opt)
}

impl ContextPolicy {
    /// Prow's `GetTideContextPolicy`: configured contexts, plus branch-protection required
    /// contexts when `from-branch-protection` is set (`protection_contexts`, read by the caller
    /// from GitHub), plus the repo's presubmits.
    pub fn build(
        t: &Tide,
        org: &str,
        repo: &str,
        branch: &str,
        presubmits: &[Presubmit],
        protection_contexts: Option<&[String]>,
    ) -> Result<ContextPolicy, PolicyError> {
        let opts = context_options(&t.context_options, org, repo, branch);
        let mut required: BTreeSet<String> = opts.required_contexts.iter().cloned().collect();
        let mut rip: BTreeSet<String> = opts.required_if_present_contexts.iter().cloned().collect();
        let mut optional: BTreeSet<String> = opts.optional_contexts.iter().cloned().collect();
        if opts.from_branch_protection == Some(true)
            && let Some(ctx) = protection_contexts
        {
            required.extend(ctx.iter().cloned());
        }
        let (r, p, o) = branch_requirements(branch, presubmits);
        required.extend(r);
        rip.extend(p);
        optional.extend(o);
        let mut optional_re = Vec::new();
        for re in &opts.optional_regex_contexts {
            optional_re.push(Regex::new(re).map_err(|e| {
                PolicyError::Invalid(format!("optional context regex {re:?}: {e}"))
            })?);
        }
        let cp = ContextPolicy {
            required,
            required_if_present: rip,
            optional,
            optional_re,
            skip_unknown: opts.skip_unknown_contexts == Some(true),
            overwrite_pending: opts.overwrite_pending_contexts == Some(true),
        };
        cp.validate()?;
        Ok(cp)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if let Some(c) = self.required.intersection(&self.required_if_present).next() {
            return Err(PolicyError::Invalid(format!(
                "contexts {c:?} are defined as required and required if present"
            )));
        }
        if let Some(c) = self.optional.intersection(&self.required).next() {
            return Err(PolicyError::Invalid(format!(
                "contexts {c:?} are defined as required and optional"
            )));
        }
        if let Some(c) = self.optional.intersection(&self.required_if_present).next() {
            return Err(PolicyError::Invalid(format!(
                "contexts {c:?} are defined as optional and required if present"
            )));
        }
        Ok(())
    }

    /// Prow's `IsOptional`.
    pub fn is_optional(&self, c: &str) -> bool {
        if self.optional.contains(c) || self.optional_re.iter().any(|re| re.is_match(c)) {
            return true;
        }
        if self.required.contains(c) || self.required_if_present.contains(c) {
            return false;
        }
        self.skip_unknown
    }

    /// Required contexts absent from `present`, sorted.
    pub fn missing_required<'a>(&self, present: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let present: BTreeSet<&str> = present.into_iter().collect();
        self.required
            .iter()
            .filter(|c| !present.contains(c.as_str()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tide(yaml: &str) -> Tide {
        serde_saphyr_free(yaml)
    }

    // The config crate's YAML reader is serde-saphyr; JSON is a subset of YAML, and the tests
    // write JSON so they need no YAML dependency.
    fn serde_saphyr_free(json: &str) -> Tide {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("bad test config: {e}"))
    }

    #[test]
    fn merge_method_precedence() {
        let t = tide(
            r#"{"merge_method": {
                "k8s/infra@main": "rebase",
                "k8s": {"infra": {"ma(ster|in)": "squash", "rel.+": "merge"}, "other": "rebase"},
                "k8s/third": "squash",
                "acme": "squash"
            }, "squash_label": "tide/merge-method-squash", "merge_label": "tide/merge-method-merge"}"#,
        );
        assert_eq!(
            configured_merge_method(&t, "k8s", "infra", "main"),
            MergeMethod::Rebase
        );
        assert_eq!(
            configured_merge_method(&t, "k8s", "infra", "master"),
            MergeMethod::Squash
        );
        assert_eq!(
            configured_merge_method(&t, "k8s", "infra", "release-1"),
            MergeMethod::Merge
        );
        assert_eq!(
            configured_merge_method(&t, "k8s", "other", "x"),
            MergeMethod::Rebase
        );
        assert_eq!(
            configured_merge_method(&t, "k8s", "third", "x"),
            MergeMethod::Squash
        );
        assert_eq!(
            configured_merge_method(&t, "acme", "x", "y"),
            MergeMethod::Squash
        );
        assert_eq!(
            configured_merge_method(&t, "nobody", "x", "y"),
            MergeMethod::Merge
        );
        let labels = vec!["tide/merge-method-merge".to_owned()];
        assert_eq!(
            pr_merge_method(&t, "acme", "x", "y", &labels),
            Some(MergeMethod::Merge)
        );
        let both = vec![
            "tide/merge-method-merge".to_owned(),
            "tide/merge-method-squash".to_owned(),
        ];
        assert_eq!(pr_merge_method(&t, "acme", "x", "y", &both), None);
    }

    #[test]
    fn lookups_by_specificity() {
        let t = tide(
            r#"{"batch_size_limit": {"*": 5, "o": -1, "o/r": 2},
                "prioritize_existing_batches": {"o": false},
                "github_merge_blocks_policy": {"o/r": "block", "*": "ignore"},
                "target_url": "https://tide.example.com", "target_urls": {"o/r": "https://r.example.com"}}"#,
        );
        assert_eq!(batch_size_limit(&t, "o", "r"), 2);
        assert_eq!(batch_size_limit(&t, "o", "x"), -1);
        assert_eq!(batch_size_limit(&t, "p", "x"), 5);
        assert!(!prioritize_existing_batches(&t, "o", "r"));
        assert!(prioritize_existing_batches(&t, "p", "r"));
        assert_eq!(merge_blocks_policy(&t, "o", "r"), MergeBlocksPolicy::Block);
        assert_eq!(merge_blocks_policy(&t, "o", "x"), MergeBlocksPolicy::Ignore);
        assert_eq!(target_url_base(&t, "o", "r"), "https://r.example.com");
        assert_eq!(target_url_base(&t, "o", "x"), "https://tide.example.com");
    }

    #[test]
    fn context_policy_levels_and_validation() {
        let t = tide(
            r#"{"context_options": {
                "required-contexts": ["global"],
                "orgs": {"o": {"optional-contexts": ["org-opt"], "repos": {"r": {
                    "skip-unknown-contexts": true,
                    "branches": {"main": {"required-contexts": ["main-only"]}}}}}}}}"#,
        );
        let cp =
            ContextPolicy::build(&t, "o", "r", "main", &[], None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cp.required.iter().cloned().collect::<Vec<_>>(),
            vec!["global", "main-only"]
        );
        assert!(cp.is_optional("org-opt"));
        assert!(cp.is_optional("whatever"), "skip-unknown-contexts");
        assert!(!cp.is_optional("global"));
        assert_eq!(
            cp.missing_required(["global"]),
            vec!["main-only".to_owned()]
        );
        let cp =
            ContextPolicy::build(&t, "o", "x", "main", &[], None).unwrap_or_else(|e| panic!("{e}"));
        assert!(!cp.is_optional("whatever"));

        let bad = tide(
            r#"{"context_options": {"required-contexts": ["a"], "required-if-present-contexts": ["a"]}}"#,
        );
        assert!(ContextPolicy::build(&bad, "o", "r", "main", &[], None).is_err());

        let bp = tide(r#"{"context_options": {"from-branch-protection": true}}"#);
        let cp = ContextPolicy::build(&bp, "o", "r", "main", &[], Some(&["bp-check".to_owned()]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cp.required.contains("bp-check"));
        let cp = ContextPolicy::build(&t, "o", "r", "main", &[], Some(&["bp-check".to_owned()]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !cp.required.contains("bp-check"),
            "only with from-branch-protection"
        );
    }
}
