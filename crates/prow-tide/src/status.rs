//! The `tide` status context (spec §7.3, Prow's `expectedStatus`, `retestingStatus`,
//! `targetURL`): pure functions of the PR, its pool membership and the queries.

use prow_config::prow::{Tide, TideQuery};

use crate::model::{Blocker, Pr};
use crate::policy::{ContextPolicy, MergeBlocksPolicy};
use crate::query::requirement_diff;

/// `In merge pool.`
pub const IN_POOL: &str = "In merge pool.";
/// `In merge pool (despite BLOCKED).`
pub const IN_POOL_DESPITE_BLOCKED: &str = "In merge pool (despite BLOCKED).";
/// GitHub's limit on status descriptions.
pub const MAX_DESCRIPTION: usize = 140;

fn not_in_pool(reason: &str) -> String {
    format!("Not mergeable.{reason}")
}

/// What the status controller knows about one PR.
#[derive(Clone, Debug)]
pub struct StatusInput<'a> {
    /// The PR.
    pub pr: &'a Pr,
    /// It is in a pool after the last sync.
    pub in_pool: bool,
    /// Reason from the merge check, when it cannot merge.
    pub merge_reason: Option<String>,
    /// Queries that apply to the PR's repo.
    pub queries: Vec<&'a TideQuery>,
    /// Context policy (plus the PR's required job contexts).
    pub policy: &'a ContextPolicy,
    /// Blockers applicable to its branch.
    pub blockers: &'a [Blocker],
    /// Contexts of jobs that passed for (current base, head).
    pub passing_contexts: Vec<String>,
    /// `display_all_tide_queries_in_status`.
    pub display_all: bool,
    /// `github_merge_blocks_policy`.
    pub merge_blocks: MergeBlocksPolicy,
}

/// The (state, description) Tide wants on the PR; descriptions are cut to 140 characters.
pub fn expected_status(i: &StatusInput<'_>) -> (&'static str, String) {
    let (state, desc) = expected_status_raw(i);
    (state, truncate_description(desc))
}

/// Cuts a description to GitHub's limit with `...`.
pub fn truncate_description(desc: String) -> String {
    if desc.chars().count() > MAX_DESCRIPTION {
        let cut: String = desc.chars().take(MAX_DESCRIPTION - 3).collect();
        format!("{cut}...")
    } else {
        desc
    }
}

fn pool_status(pr: &Pr, mb: MergeBlocksPolicy) -> String {
    if mb == MergeBlocksPolicy::Permit && pr.merge_state_status == "BLOCKED" {
        IN_POOL_DESPITE_BLOCKED.into()
    } else {
        IN_POOL.into()
    }
}

fn expected_status_raw(i: &StatusInput<'_>) -> (&'static str, String) {
    if let Some(reason) = &i.merge_reason {
        return ("error", not_in_pool(&format!(" {reason}")));
    }
    if !i.in_pool {
        if !i.blockers.is_empty() {
            let nums: Vec<String> = i.blockers.iter().map(|b| b.number.to_string()).collect();
            let s = if nums.len() > 1 { "s" } else { "" };
            return (
                "error",
                not_in_pool(&format!(
                    " Merging is blocked by issue{s} {}.",
                    nums.join(", ")
                )),
            );
        }
        let mut fulfilled = false;
        let mut min_count: Option<u32> = None;
        let mut min_diff = String::new();
        for q in &i.queries {
            let (diff, count) = requirement_diff(i.pr, q, i.policy, i.merge_blocks);
            if count == 0 {
                fulfilled = true;
                break;
            } else if i.display_all {
                if count >= 2000 {
                    continue;
                }
                if !min_diff.is_empty() {
                    min_diff = format!("{} OR", min_diff.trim_end_matches('.'));
                }
                min_diff.push_str(&diff);
            } else if min_count.is_none_or(|m| count < m) {
                min_count = Some(count);
                min_diff = diff;
            }
        }
        if i.display_all && min_diff.is_empty() {
            min_diff = format!(" No Tide query for branch {} found.", i.pr.base_ref);
        }
        if !fulfilled {
            return ("pending", not_in_pool(&min_diff));
        }
    }
    let missing = i
        .policy
        .missing_required(i.passing_contexts.iter().map(String::as_str));
    if !missing.is_empty() {
        return ("pending", retesting_status(missing));
    }
    ("success", pool_status(i.pr, i.merge_blocks))
}

/// `Not mergeable. Retesting: a b` or `Not mergeable. Retesting N job(s).` when too long.
pub fn retesting_status(mut retested: Vec<String>) -> String {
    retested.sort();
    let all = not_in_pool(&format!(" Retesting: {}", retested.join(" ")));
    if all.len() > MAX_DESCRIPTION {
        let s = if retested.len() > 1 { "s" } else { "" };
        return not_in_pool(&format!(" Retesting {} job{s}.", retested.len()));
    }
    all
}

/// Prow's `targetURL`: `target_urls`/`target_url`, else the PR dashboard link.
pub fn target_url(t: &Tide, pr: &Pr) -> String {
    let base = crate::policy::target_url_base(t, &pr.org, &pr.repo);
    if !base.is_empty() {
        return base;
    }
    let base = crate::policy::pr_status_base_url(t, &pr.org, &pr.repo);
    if base.is_empty() {
        return String::new();
    }
    let mut author = pr.author.clone();
    if pr.author_is_bot && !author.starts_with("app/") {
        author = format!("app/{author}");
    }
    let query = format!(
        "is:pr repo:{} author:{} head:{}",
        pr.name_with_owner(),
        author,
        pr.head_ref
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}query={}", form_encode(&query))
}

/// `application/x-www-form-urlencoded` like Go's `url.Values.Encode`.
fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Context, CtxState};

    fn q(json: &str) -> TideQuery {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pr(labels: &[&str]) -> Pr {
        Pr {
            org: "o".into(),
            repo: "r".into(),
            number: 7,
            author: "alice".into(),
            base_ref: "main".into(),
            head_ref: "feature".into(),
            head_sha: "h".into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            contexts: Some(vec![]),
            ..Default::default()
        }
    }

    #[test]
    fn expected_status_cases() {
        // Cases after Prow's TestExpectedStatus.
        let hold = q(
            r#"{"repos":["o/r"],"labels":["lgtm","approved"],"missingLabels":["do-not-merge/hold"]}"#,
        );
        let other = q(r#"{"repos":["o/r"],"labels":["lgtm"],"includedBranches":["dev"]}"#);
        let cp = ContextPolicy::default();
        let p = pr(&["lgtm", "approved", "do-not-merge/hold"]);
        let base = StatusInput {
            pr: &p,
            in_pool: false,
            merge_reason: None,
            queries: vec![&hold, &other],
            policy: &cp,
            blockers: &[],
            passing_contexts: vec![],
            display_all: false,
            merge_blocks: MergeBlocksPolicy::Permit,
        };
        assert_eq!(
            expected_status(&base),
            (
                "pending",
                "Not mergeable. Should not have do-not-merge/hold label.".into()
            )
        );
        let p2 = pr(&[]);
        let i = StatusInput {
            pr: &p2,
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            (
                "pending",
                "Not mergeable. Needs approved, lgtm labels.".into()
            )
        );
        let i = StatusInput {
            pr: &p2,
            display_all: true,
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            (
                "pending",
                "Not mergeable. Needs approved, lgtm labels.".into()
            )
        );
        let i = StatusInput {
            pr: &p2,
            display_all: true,
            queries: vec![&other],
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            (
                "pending",
                "Not mergeable. No Tide query for branch main found.".into()
            )
        );
        let i = StatusInput {
            merge_reason: Some("PR has a merge conflict.".into()),
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            ("error", "Not mergeable. PR has a merge conflict.".into())
        );
        let blockers = vec![
            Blocker {
                number: 1,
                title: "a".into(),
                url: "u".into(),
            },
            Blocker {
                number: 2,
                title: "b".into(),
                url: "u".into(),
            },
        ];
        let i = StatusInput {
            blockers: &blockers,
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            (
                "error",
                "Not mergeable. Merging is blocked by issues 1, 2.".into()
            )
        );
        let i = StatusInput {
            in_pool: true,
            ..base.clone()
        };
        assert_eq!(expected_status(&i), ("success", "In merge pool.".into()));

        let mut cp2 = cp.clone();
        cp2.required.insert("unit".into());
        cp2.required.insert("e2e".into());
        let i = StatusInput {
            in_pool: true,
            policy: &cp2,
            passing_contexts: vec!["unit".into()],
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            ("pending", "Not mergeable. Retesting: e2e".into())
        );
        let mut blocked = pr(&[]);
        blocked.merge_state_status = "BLOCKED".into();
        let i = StatusInput {
            pr: &blocked,
            in_pool: true,
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            ("success", "In merge pool (despite BLOCKED).".into())
        );
        // A PR matching a query but missing from the pool falls through to the job check.
        let ok = pr(&["lgtm", "approved"]);
        let i = StatusInput {
            pr: &ok,
            ..base.clone()
        };
        assert_eq!(expected_status(&i), ("success", "In merge pool.".into()));
        let mut failing = pr(&["lgtm", "approved"]);
        failing.contexts = Some(vec![Context::new("ci", CtxState::Failure)]);
        let i = StatusInput {
            pr: &failing,
            ..base.clone()
        };
        assert_eq!(
            expected_status(&i),
            ("pending", "Not mergeable. Job ci has not succeeded.".into())
        );
    }

    #[test]
    fn retesting_and_truncation() {
        let many: Vec<String> = (0..20)
            .map(|i| format!("pull-kubernetes-job-{i}"))
            .collect();
        assert_eq!(retesting_status(many), "Not mergeable. Retesting 20 jobs.");
        assert_eq!(
            retesting_status(vec!["b".into(), "a".into()]),
            "Not mergeable. Retesting: a b"
        );
        let long = "x".repeat(200);
        let t = truncate_description(long);
        assert_eq!(t.len(), 140);
        assert!(t.ends_with("..."));
    }

    #[test]
    fn target_urls() {
        let t: Tide = serde_json::from_str(
            r#"{"pr_status_base_urls": {"*": "https://prow.example.com/pr"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut p = pr(&[]);
        assert_eq!(
            target_url(&t, &p),
            "https://prow.example.com/pr?query=is%3Apr+repo%3Ao%2Fr+author%3Aalice+head%3Afeature"
        );
        p.author_is_bot = true;
        assert!(target_url(&t, &p).contains("author%3Aapp%2Falice"));
        let t: Tide = serde_json::from_str(r#"{"target_url": "https://tide.example.com"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target_url(&t, &p), "https://tide.example.com");
    }
}
