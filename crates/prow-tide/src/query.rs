//! Tide queries → GitHub search strings (spec §7.1, Prow's `TideQuery.constructQuery`), which
//! queries apply to a repo, and the "what is missing" diff behind the `tide` status (spec §7.3,
//! Prow's `requirementDiff`).

use std::collections::{BTreeMap, BTreeSet};

use prow_config::prow::TideQuery;

use crate::model::{CtxState, Pr};
use crate::policy::{ContextPolicy, MergeBlocksPolicy};

fn split_org_repo(s: &str) -> Option<(&str, &str)> {
    let mut it = s.split('/');
    match (it.next(), it.next(), it.next()) {
        (Some(o), Some(r), None) => Some((o, r)),
        _ => None,
    }
}

/// The org-independent part of the search (`is:pr state:open archived:false …`).
pub fn base_query(q: &TideQuery) -> String {
    let mut toks: Vec<String> = vec!["is:pr".into(), "state:open".into(), "archived:false".into()];
    if !q.author.is_empty() {
        toks.push(format!("author:\"{}\"", q.author));
    }
    for b in &q.excluded_branches {
        toks.push(format!("-base:\"{b}\""));
    }
    for b in &q.included_branches {
        toks.push(format!("base:\"{b}\""));
    }
    for l in &q.labels {
        let alts: Vec<String> = l.split(',').map(|a| format!("\"{a}\"")).collect();
        toks.push(format!("label:{}", alts.join(",")));
    }
    for l in &q.missing_labels {
        toks.push(format!("-label:\"{l}\""));
    }
    if !q.milestone.is_empty() {
        toks.push(format!("milestone:\"{}\"", q.milestone));
    }
    if q.review_approved_required {
        toks.push("review:approved".into());
    }
    toks.join(" ")
}

/// The `org:`/`repo:`/`-repo:` tokens of a query, grouped by org (insertion order kept).
fn org_scoped(q: &TideQuery) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in &q.orgs {
        m.entry(o.clone())
            .or_insert_with(|| vec![format!("org:\"{o}\"")]);
    }
    for r in &q.repos {
        if let Some((o, _)) = split_org_repo(r) {
            m.entry(o.to_owned())
                .or_default()
                .push(format!("repo:\"{r}\""));
        }
    }
    for r in &q.excluded_repos {
        if let Some((o, _)) = split_org_repo(r) {
            m.entry(o.to_owned())
                .or_default()
                .push(format!("-repo:\"{r}\""));
        }
    }
    m
}

/// One search string per org (Prow's `OrgQueries`): the base query plus that org's tokens.
pub fn org_queries(q: &TideQuery) -> BTreeMap<String, String> {
    let base = base_query(q);
    org_scoped(q)
        .into_iter()
        .map(|(org, toks)| (org, format!("{base} {}", toks.join(" "))))
        .collect()
}

/// The whole query as one search string (Prow's `Query`, shown by Deck).
pub fn query_string(q: &TideQuery) -> String {
    let mut toks = vec![base_query(q)];
    for (_, ids) in org_scoped(q) {
        toks.extend(ids);
    }
    toks.join(" ")
}

/// Prow's `TideQuery.ForRepo`.
pub fn query_for_repo(q: &TideQuery, org: &str, repo: &str) -> bool {
    let full = format!("{org}/{repo}");
    if q.orgs.iter().any(|o| o == org) {
        return !q.excluded_repos.contains(&full);
    }
    q.repos.contains(&full)
}

/// The queries that apply to `org/repo`.
pub fn queries_for_repo<'a>(qs: &'a [TideQuery], org: &str, repo: &str) -> Vec<&'a TideQuery> {
    qs.iter().filter(|q| query_for_repo(q, org, repo)).collect()
}

/// Orgs (without exceptions) and single repos covered by any query, for the status
/// controller's open-PR search (Prow's `OrgExceptionsAndRepos`).
pub fn orgs_and_repos(qs: &[TideQuery]) -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let mut orgs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for q in qs {
        for o in &q.orgs {
            let excluded: BTreeSet<String> = q
                .excluded_repos
                .iter()
                .filter(|r| r.starts_with(&format!("{o}/")))
                .cloned()
                .collect();
            match orgs.get_mut(o) {
                // A repo is only excepted when every query over the org excepts it.
                Some(existing) => *existing = existing.intersection(&excluded).cloned().collect(),
                None => {
                    orgs.insert(o.clone(), excluded);
                }
            }
        }
    }
    let mut repos = BTreeSet::new();
    for q in qs {
        for r in &q.repos {
            if let Some((o, _)) = split_org_repo(r) {
                if orgs.get(o).is_some_and(|ex| !ex.contains(r)) {
                    continue;
                }
                repos.insert(r.clone());
            }
        }
    }
    // Repos listed explicitly are no longer excepted.
    for (o, ex) in orgs.iter_mut() {
        ex.retain(|r| !repos.contains(r) || !r.starts_with(&format!("{o}/")));
    }
    (orgs, repos)
}

/// Prow's `requirementDiff`: the first unmet requirement as ` <sentence>` and a weight (0 ⇒ the
/// PR matches the query). Weights: wrong branch 2000, wrong author 1000, milestone 100, missing
/// review 50, GitHub BLOCKED under `block` 100, one per label or context.
pub fn requirement_diff(
    pr: &Pr,
    q: &TideQuery,
    cp: &ContextPolicy,
    merge_blocks: MergeBlocksPolicy,
) -> (String, u32) {
    const MAX_LABEL_CHARS: usize = 50;
    let mut desc = String::new();
    let mut diff = 0u32;
    let truncate = |labels: &[String]| -> Vec<String> {
        let mut i = 1;
        let mut chars = labels[0].len();
        while i < labels.len() {
            if chars + labels[i].len() > MAX_LABEL_CHARS {
                break;
            }
            chars += labels[i].len() + 2;
            i += 1;
        }
        labels[..i].to_vec()
    };

    let denied = q.excluded_branches.contains(&pr.base_ref);
    let allowed = q.included_branches.is_empty() || q.included_branches.contains(&pr.base_ref);
    if denied || !allowed {
        diff += 2000;
        if desc.is_empty() {
            desc = format!(" Merging to branch {} is forbidden.", pr.base_ref);
        }
    }

    let norm = |s: &str| s.trim_start_matches('@').to_lowercase();
    let q_author = norm(&q.author);
    if !q_author.is_empty() && norm(&pr.author) != q_author {
        diff += 1000;
        if desc.is_empty() {
            desc = format!(" Must be by author {q_author}.");
        }
    }

    if !q.milestone.is_empty() && pr.milestone.as_deref() != Some(q.milestone.as_str()) {
        diff += 100;
        if desc.is_empty() {
            desc = format!(" Must be in milestone {}.", q.milestone);
        }
    }

    let mut missing: Vec<String> = Vec::new();
    for l in &q.labels {
        if !l.split(',').any(|alt| pr.has_label(alt)) {
            missing.push(l.replace(',', " or "));
        }
    }
    diff += missing.len() as u32;
    if desc.is_empty() && !missing.is_empty() {
        missing.sort();
        let t = truncate(&missing);
        desc = if t.len() == 1 {
            format!(" Needs {} label.", t[0])
        } else {
            format!(" Needs {} labels.", t.join(", "))
        };
    }

    let mut present: Vec<String> = q
        .missing_labels
        .iter()
        .filter(|l| pr.has_label(l))
        .cloned()
        .collect();
    diff += present.len() as u32;
    if desc.is_empty() && !present.is_empty() {
        present.sort();
        let t = truncate(&present);
        desc = if t.len() == 1 {
            format!(" Should not have {} label.", t[0])
        } else {
            format!(" Should not have {} labels.", t.join(", "))
        };
    }

    let mut contexts: Vec<String> = unsuccessful_contexts(pr.head_contexts(), cp)
        .into_iter()
        .map(|c| c.context)
        .collect();
    contexts.extend(cp.missing_required(pr.head_contexts().iter().map(|c| c.context.as_str())));
    diff += contexts.len() as u32;
    if desc.is_empty() && !contexts.is_empty() {
        contexts.sort();
        contexts.dedup();
        let t = truncate(&contexts);
        desc = if t.len() == 1 {
            format!(" Job {} has not succeeded.", t[0])
        } else {
            format!(" Jobs {} have not succeeded.", t.join(", "))
        };
    }

    if q.review_approved_required && pr.review_decision.as_deref() != Some("APPROVED") {
        diff += 50;
        if desc.is_empty() {
            desc = " PullRequest is missing sufficient approving GitHub review(s)".into();
        }
    }
    if merge_blocks == MergeBlocksPolicy::Block && pr.merge_state_status == "BLOCKED" {
        diff += 100;
        if desc.is_empty() {
            desc = " Blocked by GitHub (branch rulesets or protection)".into();
        }
    }
    (desc, diff)
}

/// Prow's `unsuccessfulContexts`: non-optional contexts (other than `tide`) that are not
/// successful, plus required contexts that are absent (as `EXPECTED`).
pub fn unsuccessful_contexts(
    contexts: &[crate::model::Context],
    cp: &ContextPolicy,
) -> Vec<crate::model::Context> {
    let mut failed: Vec<crate::model::Context> = contexts
        .iter()
        .filter(|c| c.context != crate::model::STATUS_CONTEXT)
        .filter(|c| !cp.is_optional(&c.context))
        .filter(|c| c.state != CtxState::Success)
        .cloned()
        .collect();
    for c in cp.missing_required(contexts.iter().map(|c| c.context.as_str())) {
        failed.push(crate::model::Context::new(&c, CtxState::Expected));
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Context;

    fn q(json: &str) -> TideQuery {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn search_strings_match_prow() {
        // Cases from Prow's TestOrgQueries / TestQuery.
        let tq = q(
            r#"{"orgs": ["org"], "repos": ["k8s/k8s", "k8s/t-i"], "excludedRepos": ["org/repo"],
            "labels": ["lgtm", "approved"], "missingLabels": ["foo"], "author": "batman",
            "milestone": "milestone", "excludedBranches": ["dev"], "includedBranches": ["main"],
            "reviewApprovedRequired": true}"#,
        );
        let base = r#"is:pr state:open archived:false author:"batman" -base:"dev" base:"main" label:"lgtm" label:"approved" -label:"foo" milestone:"milestone" review:approved"#;
        let m = org_queries(&tq);
        assert_eq!(m.len(), 2);
        assert_eq!(m["org"], format!(r#"{base} org:"org" -repo:"org/repo""#));
        assert_eq!(m["k8s"], format!(r#"{base} repo:"k8s/k8s" repo:"k8s/t-i""#));
        let or = q(r#"{"repos": ["o/r"], "labels": ["a,b", "c"]}"#);
        assert_eq!(
            query_string(&or),
            r#"is:pr state:open archived:false label:"a","b" label:"c" repo:"o/r""#
        );
        assert!(query_for_repo(&tq, "org", "x"));
        assert!(!query_for_repo(&tq, "org", "repo"));
        assert!(query_for_repo(&tq, "k8s", "k8s"));
        assert!(!query_for_repo(&tq, "k8s", "other"));
    }

    #[test]
    fn orgs_and_repos_coverage() {
        let qs = vec![
            q(r#"{"orgs": ["o"], "excludedRepos": ["o/a", "o/b"]}"#),
            q(r#"{"orgs": ["o"], "excludedRepos": ["o/a"]}"#),
            q(r#"{"repos": ["p/x", "o/c"]}"#),
        ];
        let (orgs, repos) = orgs_and_repos(&qs);
        assert_eq!(orgs["o"].iter().collect::<Vec<_>>(), vec!["o/a"]);
        assert_eq!(
            repos.iter().collect::<Vec<_>>(),
            vec!["p/x"],
            "o/c is covered by org o"
        );
    }

    fn pr() -> Pr {
        Pr {
            org: "o".into(),
            repo: "r".into(),
            number: 1,
            author: "alice".into(),
            base_ref: "main".into(),
            head_sha: "h".into(),
            contexts: Some(vec![]),
            ..Default::default()
        }
    }

    #[test]
    fn requirement_diff_table() {
        // Ported from Prow's TestExpectedStatus/TestRequirementDiff descriptions.
        let cp = ContextPolicy::default();
        let permit = MergeBlocksPolicy::Permit;
        type Mutate = Box<dyn Fn(&mut Pr)>;
        let cases: Vec<(&str, Mutate, &str, u32)> = vec![
            (
                r#"{"repos":["o/r"],"labels":["lgtm","approved"]}"#,
                Box::new(|_| {}),
                " Needs approved, lgtm labels.",
                2,
            ),
            (
                r#"{"repos":["o/r"],"labels":["lgtm","approved"]}"#,
                Box::new(|p| p.labels = vec!["lgtm".into()]),
                " Needs approved label.",
                1,
            ),
            (
                r#"{"repos":["o/r"],"labels":["a,b"]}"#,
                Box::new(|_| {}),
                " Needs a or b label.",
                1,
            ),
            (
                r#"{"repos":["o/r"],"missingLabels":["do-not-merge/hold"]}"#,
                Box::new(|p| p.labels = vec!["do-not-merge/hold".into()]),
                " Should not have do-not-merge/hold label.",
                1,
            ),
            (
                r#"{"repos":["o/r"],"includedBranches":["dev"]}"#,
                Box::new(|_| {}),
                " Merging to branch main is forbidden.",
                2000,
            ),
            (
                r#"{"repos":["o/r"],"excludedBranches":["main"],"labels":["x"]}"#,
                Box::new(|_| {}),
                " Merging to branch main is forbidden.",
                2001,
            ),
            (
                r#"{"repos":["o/r"],"author":"Bob"}"#,
                Box::new(|_| {}),
                " Must be by author bob.",
                1000,
            ),
            (
                r#"{"repos":["o/r"],"milestone":"v1"}"#,
                Box::new(|_| {}),
                " Must be in milestone v1.",
                100,
            ),
            (
                r#"{"repos":["o/r"],"reviewApprovedRequired":true}"#,
                Box::new(|_| {}),
                " PullRequest is missing sufficient approving GitHub review(s)",
                50,
            ),
            (
                r#"{"repos":["o/r"],"reviewApprovedRequired":true}"#,
                Box::new(|p| p.review_decision = Some("APPROVED".into())),
                "",
                0,
            ),
            (
                r#"{"repos":["o/r"]}"#,
                Box::new(|p| {
                    p.contexts = Some(vec![
                        Context::new("ci", CtxState::Failure),
                        Context::new("tide", CtxState::Pending),
                    ])
                }),
                " Job ci has not succeeded.",
                1,
            ),
            (
                r#"{"repos":["o/r"]}"#,
                Box::new(|p| {
                    p.contexts = Some(vec![
                        Context::new("b", CtxState::Failure),
                        Context::new("a", CtxState::Error),
                    ])
                }),
                " Jobs a, b have not succeeded.",
                2,
            ),
        ];
        for (i, (query, mutate, want, weight)) in cases.into_iter().enumerate() {
            let mut p = pr();
            mutate(&mut p);
            let (d, w) = requirement_diff(&p, &q(query), &cp, permit);
            assert_eq!((d.as_str(), w), (want, weight), "case {i}: {query}");
        }
        // Labels are truncated to about 50 characters, keeping at least one.
        let long = q(
            r#"{"repos":["o/r"],"labels":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","c"]}"#,
        );
        let (d, w) = requirement_diff(&pr(), &long, &cp, permit);
        assert_eq!(
            (d.as_str(), w),
            (" Needs aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa label.", 3)
        );
        let mut blocked = pr();
        blocked.merge_state_status = "BLOCKED".into();
        let (d, w) = requirement_diff(
            &blocked,
            &q(r#"{"repos":["o/r"]}"#),
            &cp,
            MergeBlocksPolicy::Block,
        );
        assert_eq!(
            (d.as_str(), w),
            (" Blocked by GitHub (branch rulesets or protection)", 100)
        );
        let (_, w) = requirement_diff(&blocked, &q(r#"{"repos":["o/r"]}"#), &cp, permit);
        assert_eq!(w, 0);
    }

    #[test]
    fn missing_required_context_counts() {
        let mut cp = ContextPolicy::default();
        cp.required.insert("unit".into());
        let (d, w) = requirement_diff(
            &pr(),
            &q(r#"{"repos":["o/r"]}"#),
            &cp,
            MergeBlocksPolicy::Permit,
        );
        // Prow counts an absent required context twice (unsuccessful + missing) but names it once.
        assert_eq!((d.as_str(), w), (" Job unit has not succeeded.", 2));
    }
}
