//! Property tests: arbitrary input never panics.

mod common;

use common::{links, t};
use proptest::prelude::*;
use prow_owners::{
    ApprovalEvent, ApproveConfig, LoadOptions, PullRequestContext, RepoOwners, RepoRef,
    ReviewState, evaluate, parse_aliases, parse_md_owners, parse_owners_file, render_notification,
};

/// YAML-ish fragments so generated text reaches deep parser paths.
const TOKENS: &[&str] = &[
    "approvers:",
    "reviewers:",
    "required_reviewers:",
    "labels:",
    "options:",
    "filters:",
    "aliases:",
    "no_parent_owners:",
    "auto_approve_unowned_subfolders:",
    "emeritus_approvers:",
    "\n",
    "\n  ",
    "\n    ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    ": ",
    "~",
    "true",
    "no",
    "123",
    "0x1F",
    "1e400",
    "alice",
    "@Bob",
    "team",
    "\".*\":",
    "\"\\\\.go$\":",
    "\"[\":",
    "\"(\":",
    "&a ",
    "*a",
    "<<: *a",
    "---\n",
    "...\n",
    "!!binary ",
    "!!str ",
    "'q'",
    "\"q\"",
    "#c",
    "\t",
    "? ",
    "|\n  x",
    ">\n  y",
    "%YAML 1.2\n",
    "\u{feff}",
    "é",
    "\r\n",
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|v| v.concat())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![yamlish(), any::<String>()]
}

const PATHS: &[&str] = &[
    "OWNERS",
    "OWNERS_ALIASES",
    "a/OWNERS",
    "a/b/OWNERS",
    "a/README.md",
    "vendor/x/y/OWNERS",
    "c/OWNERS",
];

const FILES: &[&str] = &[
    "",
    ".",
    "/",
    "x.go",
    "a/x.go",
    "a/b/c/d.go",
    "a/README.md",
    "c/z",
    "//a//b",
    "../a",
    "vendor/x/y/z.go",
    "é/ü",
];

proptest! {
    #[test]
    fn parsers_never_panic(s in text()) {
        let _ = parse_owners_file("OWNERS", &s);
        let _ = parse_aliases("OWNERS_ALIASES", &s);
        let _ = parse_md_owners("x.md", &s);
        let _ = parse_md_owners("x.md", &format!("---\n{s}\n---\n"));
    }

    #[test]
    fn load_query_evaluate_render_never_panic(
        contents in prop::collection::vec(text(), PATHS.len()),
        denylist in prop::collection::vec(prop::sample::select(&["(", ".*", "a$", "^$", "b/"][..]), 0..3),
        md in any::<bool>(),
        changed in prop::collection::vec(prop::sample::select(FILES), 0..6),
        comments in prop::collection::vec(
            (prop::sample::select(&["alice", "bob", "author", "team", ""][..]), text(), 0i64..5,
             prop::option::of(prop::sample::select(&[ReviewState::Approved, ReviewState::ChangesRequested, ReviewState::Dismissed][..]))),
            0..6),
        cfg in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        number in any::<u64>(),
        body in text(),
    ) {
        let files: Vec<(&str, &str)> = PATHS.iter().copied().zip(contents.iter().map(String::as_str)).collect();
        let ro = RepoOwners::load(files, &LoadOptions {
            dir_denylist: denylist.iter().map(|s| (*s).to_owned()).collect(),
            enable_md_yaml: md,
            ..LoadOptions::default()
        });
        for f in FILES {
            let _ = ro.approvers(f);
            let _ = ro.leaf_reviewers(f);
            let _ = ro.find_labels_for_file(f);
            let _ = ro.find_approver_owners_for_file(f);
            let _ = ro.required_reviewers(f);
        }
        let _ = ro.top_level_approvers();
        let pr = PullRequestContext {
            number,
            org: "example-org".to_owned(),
            author: "author".to_owned(),
            body,
            changed_files: changed.iter().map(|s| (*s).to_owned()).collect(),
            assignees: vec!["bob".to_owned()],
            ..PullRequestContext::default()
        };
        let events: Vec<ApprovalEvent> = comments
            .iter()
            .map(|(who, text, at, state)| ApprovalEvent {
                review_state: *state,
                ..ApprovalEvent::comment(who, text, t(*at), "")
            })
            .collect();
        let cfg = ApproveConfig {
            issue_required: cfg.0,
            require_self_approval: cfg.1,
            lgtm_acts_as_approve: cfg.2,
            ignore_review_state: cfg.3,
        };
        let ap = evaluate(&ro, &pr, &events, &cfg);
        let msg = render_notification(&ap, &links(), RepoRef { org: "example-org", repo: "repo", branch: "main" });
        prop_assert!(msg.starts_with("[APPROVALNOTIFIER] This PR is **"));
        prop_assert!(msg.ends_with(" -->"));
        // Suggestions come from the PR's leaf approvers, current approvers or
        // assignees, never from thin air.
        let ccs = ap.ccs();
        let potential = ap.owners().all_potential_approvers();
        let current = ap.current_approvers();
        prop_assert!(ccs.iter().all(|c| potential.contains(c)
            || ap.assignees().contains(c)
            || current.contains(c)));
    }
}
