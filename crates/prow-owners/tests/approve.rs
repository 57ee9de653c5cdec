//! Approval decisions.

mod common;

use common::{approvers_tree, repo, set, t};
use prow_owners::{
    ApprovalEvent, ApprovalHow, ApproveConfig, Approvers, LabelChange, Owners, PullRequestContext,
    RepoOwners, ReviewState, evaluate, find_associated_issue, is_approval_command, reverse_map,
};

fn pr(files: &[&str]) -> PullRequestContext {
    PullRequestContext {
        number: 1,
        org: "example-org".to_owned(),
        author: "author".to_owned(),
        body: String::new(),
        html_url: "https://git.example.com/example-org/repo/pull/1".to_owned(),
        changed_files: files.iter().map(|s| (*s).to_owned()).collect(),
        assignees: Vec::new(),
        bot_login: Some("example-bot".to_owned()),
        manually_approved: false,
    }
}

fn no_self() -> ApproveConfig {
    ApproveConfig {
        require_self_approval: true,
        ..ApproveConfig::default()
    }
}

fn c(secs: i64, author: &str, body: &str) -> ApprovalEvent {
    ApprovalEvent::comment(
        author,
        body,
        t(secs),
        &format!("https://git.example.com/c/{secs}"),
    )
}

fn r(secs: i64, author: &str, body: &str, state: ReviewState) -> ApprovalEvent {
    ApprovalEvent::review(author, body, state, t(secs), "")
}

/// The repo used by most decision tests.
fn tree() -> RepoOwners {
    approvers_tree(&[
        ("", &["root1", "root2"]),
        ("a", &["alice"]),
        ("a/b", &["bob"]),
        ("c", &["carl", "cora"]),
        ("e", &["eve"]),
    ])
}

#[test]
fn required_owners_collapse() {
    let ro = repo(&[
        ("OWNERS", "approvers: [root]\n"),
        ("a/OWNERS", "approvers: [alice]\n"),
        ("a/combo/OWNERS", "approvers: [carol]\n"),
        ("a/d/OWNERS", "approvers: [dan]\n"),
        ("b/OWNERS", "approvers: [bill]\n"),
        ("np/OWNERS", "approvers: [nick]\n"),
        (
            "np/sub/OWNERS",
            "options: {no_parent_owners: true}\napprovers: [sam]\n",
        ),
        ("np/sub/deeper/OWNERS", "approvers: [deb]\n"),
        ("mid/OWNERS", "approvers: [mia]\n"),
        (
            "mid/cut/OWNERS",
            "options: {no_parent_owners: true}\nreviewers: [rev]\n",
        ),
        ("mid/cut/leaf/OWNERS", "approvers: [leo]\n"),
    ]);
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["x.go", "a/x.go"], &[""]),
        (
            &["a/combo/x.go", "a/d/y.go", "b/z.go"],
            &["a/combo", "a/d", "b"],
        ),
        (&["a/x.go", "a/combo/x.go", "a/d/y.go"], &["a"]),
        // A no_parent_owners directory is never collapsed into its parent...
        (&["np/x", "np/sub/y"], &["np", "np/sub"]),
        // ...and its children collapse into it, not further up.
        (&["np/x", "np/sub/y", "np/sub/deeper/z"], &["np", "np/sub"]),
        (&["np/x", "np/sub/deeper/z"], &["np", "np/sub/deeper"]),
        // no_parent_owners on an intermediate (approver-less) dir also cuts.
        (&["mid/x", "mid/cut/leaf/y"], &["mid", "mid/cut/leaf"]),
    ];
    for (files, want) in cases {
        let owners = Owners::new(&ro, files, 0);
        assert_eq!(owners.required_owners(), &set(want), "{files:?}");
    }
}

#[test]
fn auto_approve_unowned_subfolders() {
    let ro = repo(&[
        ("OWNERS", "approvers: [root]\n"),
        (
            "a/OWNERS",
            "options: {auto_approve_unowned_subfolders: true}\napprovers: [art]\n",
        ),
        ("a/d/OWNERS", "approvers: [dan]\n"),
        ("b/OWNERS", "approvers: [bill]\n"),
    ]);
    let cases: &[(&str, &[&str], &[&str], bool)] = &[
        ("file directly in folder", &["a/test.go"], &[], false),
        ("new subfolder", &["a/new/test.go"], &[], true),
        ("nested new subfolder", &["a/new/x/y/test.go"], &[], true),
        ("owned subfolder", &["a/d/new.go"], &[], false),
        (
            "plus unapproved file",
            &["b/x.go", "a/new/test.go"],
            &[],
            false,
        ),
        (
            "plus approved file",
            &["b/x.go", "a/new/test.go"],
            &["bill"],
            true,
        ),
    ];
    for (name, files, approvers, want) in cases {
        let mut ap = Approvers::new(Owners::new(&ro, files, 0));
        for a in *approvers {
            ap.add_approver(a, "", false);
        }
        assert_eq!(ap.is_approved(), *want, "{name}");
    }

    // Quirk kept from Prow: on the root OWNERS the option also auto-approves
    // top-level files, because Prow tests `Contains(Dir(Dir(f)), "")`.
    let root = repo(&[(
        "OWNERS",
        "options: {auto_approve_unowned_subfolders: true}\napprovers: [root]\n",
    )]);
    let ap = Approvers::new(Owners::new(&root, &["top.go"], 0));
    assert!(ap.is_approved());
    assert!(ap.owners().required_owners().is_empty());
}

#[test]
fn latest_command_per_user_wins() {
    let ro = tree();
    struct Case {
        name: &'static str,
        events: Vec<ApprovalEvent>,
        cfg: ApproveConfig,
        approvers: &'static [&'static str],
    }
    let cases = vec![
        Case {
            name: "approve",
            events: vec![c(1, "alice", "stuff\n/approve\nmore")],
            cfg: no_self(),
            approvers: &["alice"],
        },
        Case {
            name: "approve then cancel",
            events: vec![c(1, "alice", "/approve"), c(2, "alice", "/approve cancel")],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "input order does not matter, time does",
            events: vec![c(2, "alice", "/approve"), c(1, "alice", "/approve cancel")],
            cfg: no_self(),
            approvers: &["alice"],
        },
        Case {
            name: "remove-approve",
            events: vec![c(1, "Alice", "/approve"), c(2, "alice", "/remove-approve")],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "lines within one comment apply in order",
            events: vec![c(1, "alice", "/approve cancel\n/approve")],
            cfg: no_self(),
            approvers: &["alice"],
        },
        Case {
            name: "cancel anywhere in the argument",
            events: vec![
                c(1, "alice", "/approve"),
                c(2, "alice", "/APPROVE please-CANCEL-it"),
            ],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "commands must start a line",
            events: vec![c(1, "alice", "please /approve")],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "approving review",
            events: vec![r(1, "alice", "", ReviewState::Approved)],
            cfg: no_self(),
            approvers: &["alice"],
        },
        Case {
            name: "approving review ignored with ignore_review_state",
            events: vec![r(1, "alice", "", ReviewState::Approved)],
            cfg: ApproveConfig {
                ignore_review_state: true,
                ..no_self()
            },
            approvers: &[],
        },
        Case {
            name: "changes requested cancels",
            events: vec![
                c(1, "alice", "/approve"),
                r(2, "alice", "", ReviewState::ChangesRequested),
            ],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "dismissed does not cancel",
            events: vec![
                c(1, "alice", "/approve"),
                r(2, "alice", "", ReviewState::Dismissed),
            ],
            cfg: no_self(),
            approvers: &["alice"],
        },
        Case {
            name: "body cancel beats simultaneous approving review",
            events: vec![r(1, "alice", "/approve cancel", ReviewState::Approved)],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "body approve beats simultaneous changes requested",
            events: vec![r(1, "alice", "/approve", ReviewState::ChangesRequested)],
            cfg: no_self(),
            approvers: &["alice"],
        },
        Case {
            name: "lgtm does not approve by default",
            events: vec![c(1, "alice", "/lgtm")],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "lgtm acts as approve",
            events: vec![c(1, "alice", "/lgtm")],
            cfg: ApproveConfig {
                lgtm_acts_as_approve: true,
                ..no_self()
            },
            approvers: &["alice"],
        },
        Case {
            name: "lgtm cancel cancels when lgtm acts as approve",
            events: vec![c(1, "alice", "/approve"), c(2, "alice", "/lgtm cancel")],
            cfg: ApproveConfig {
                lgtm_acts_as_approve: true,
                ..no_self()
            },
            approvers: &[],
        },
        Case {
            name: "bots never count",
            events: vec![
                c(1, "example-bot", "/approve"),
                c(2, "example-bot[bot]", "/approve"),
                ApprovalEvent {
                    author_is_bot: true,
                    ..r(3, "app-bot", "", ReviewState::Approved)
                },
                c(4, "app-bot", "/approve"),
            ],
            cfg: no_self(),
            approvers: &[],
        },
        Case {
            name: "author implicitly approves",
            events: vec![],
            cfg: ApproveConfig::default(),
            approvers: &["author"],
        },
        Case {
            name: "author cancels implicit approval",
            events: vec![c(1, "author", "/approve cancel")],
            cfg: ApproveConfig::default(),
            approvers: &[],
        },
        Case {
            name: "require_self_approval: author must approve explicitly",
            events: vec![c(1, "author", "/approve")],
            cfg: no_self(),
            approvers: &["author"],
        },
    ];
    for case in cases {
        let ap = evaluate(&ro, &pr(&["a/x.go"]), &case.events, &case.cfg);
        assert_eq!(ap.current_approvers(), set(case.approvers), "{}", case.name);
    }
}

#[test]
fn approval_kinds_and_no_issue_stickiness() {
    let ro = tree();
    let events = vec![
        c(1, "Alice", "/approve no-issue"),
        c(2, "alice", "/approve"),
        c(3, "carl", "/approve\n/lgtm"),
        // Alone, /lgtm does not qualify without lgtm_acts_as_approve.
        c(4, "cora", "/lgtm"),
        r(5, "eve", "", ReviewState::Approved),
    ];
    let ap = evaluate(&ro, &pr(&["a/x.go"]), &events, &ApproveConfig::default());
    let list = ap.list_approvals();
    let summary: Vec<(&str, ApprovalHow, bool)> = list
        .iter()
        .map(|a| (a.login.as_str(), a.how, a.no_issue))
        .collect();
    assert_eq!(
        summary,
        vec![
            // A plain /approve does not downgrade a no-issue approval.
            ("Alice", ApprovalHow::Approved, true),
            ("author", ApprovalHow::AuthorSelfApproved, false),
            // The event qualified via /approve, so its /lgtm applies too.
            ("carl", ApprovalHow::Lgtm, false),
            ("eve", ApprovalHow::Approved, false),
        ]
    );
    assert_eq!(
        list[1].reference,
        "https://git.example.com/example-org/repo/pull/1#"
    );
    assert_eq!(list[0].reference, "https://git.example.com/c/1");
}

#[test]
fn files_approved_via_owners_or_ancestors() {
    let ro = tree();
    let cases: &[(&[&str], &[&str], bool)] = &[
        (&[], &["root1"], false), // a PR without files is never approved
        (&["a/b/x.go"], &["bob"], true),
        (&["a/b/x.go"], &["alice"], true), // ancestor approver
        (&["a/b/x.go"], &["root2"], true),
        (&["a/x.go"], &["bob"], false), // child approver cannot approve parent
        (&["a/x.go", "c/y.go"], &["alice"], false),
        (&["a/x.go", "c/y.go"], &["alice", "CORA"], true),
        (&["top.go", "a/x.go"], &["alice"], false),
        (&["top.go", "a/x.go"], &["root1"], true),
    ];
    for (files, approvers, want) in cases {
        let mut ap = Approvers::new(Owners::new(&ro, files, 0));
        for a in *approvers {
            ap.add_approver(a, "", false);
        }
        assert_eq!(ap.are_files_approved(), *want, "{files:?} by {approvers:?}");
        assert_eq!(ap.is_approved(), *want, "{files:?} by {approvers:?}");
    }
    // Unowned repo: everything falls to the root key with nobody to approve.
    let empty = RepoOwners::default();
    let mut ap = Approvers::new(Owners::new(&empty, &["x"], 0));
    ap.add_approver("anyone", "", false);
    assert!(!ap.is_approved());
    assert_eq!(ap.unapproved_owners(), set(&[""]));
}

#[test]
fn issue_requirement() {
    let ro = tree();
    let cfg = ApproveConfig {
        issue_required: true,
        ..no_self()
    };
    let with_body = |body: &str| PullRequestContext {
        body: body.to_owned(),
        ..pr(&["a/x.go"])
    };
    type IssueCase = (&'static str, &'static [(&'static str, &'static str)], bool);
    let cases: &[IssueCase] = &[
        ("no issue", &[("alice", "/approve")], false),
        ("hash reference", &[("alice", "/approve")], true),
        (
            "no-issue by approver",
            &[("alice", "/approve no-issue")],
            true,
        ),
        (
            "no-issue by someone who cannot approve any file",
            &[("alice", "/approve"), ("zed", "/approve no-issue")],
            false,
        ),
        (
            "no-issue by an approver of another required file",
            &[("alice", "/approve"), ("root1", "/approve no-issue ")],
            true,
        ),
        (
            "lgtm no-issue counts when lgtm counts",
            &[("alice", "/lgtm no-issue")],
            false,
        ),
    ];
    for (i, (name, comments, want)) in cases.iter().enumerate() {
        let body = if *name == "hash reference" {
            "fixes #42"
        } else {
            ""
        };
        let events: Vec<ApprovalEvent> = comments
            .iter()
            .enumerate()
            .map(|(j, (who, text))| c(j as i64, who, text))
            .collect();
        let ap = evaluate(&ro, &with_body(body), &events, &cfg);
        assert_eq!(ap.is_approved(), *want, "case {i}: {name}");
        assert!(ap.are_files_approved() || *name == "lgtm no-issue counts when lgtm counts");
    }
    let lgtm_cfg = ApproveConfig {
        lgtm_acts_as_approve: true,
        ..cfg
    };
    let ap = evaluate(
        &ro,
        &with_body(""),
        &[c(1, "alice", "/lgtm no-issue")],
        &lgtm_cfg,
    );
    assert!(ap.is_approved());
    // Manual approval bypasses everything.
    let manual = PullRequestContext {
        manually_approved: true,
        ..with_body("")
    };
    let ap = evaluate(&ro, &manual, &[], &cfg);
    assert!(ap.is_approved() && !ap.requirements_met());
}

#[test]
fn associated_issue_detection() {
    let cases: &[(&str, Option<u64>)] = &[
        ("", None),
        ("fixes #42.", Some(42)),
        ("see example-org/other/issues/7 and #9", Some(7)),
        ("see other-org/repo/issues/7", None),
        ("#0 then #5", None), // only the first match counts
        ("#99999999999999999999", None),
        ("issue#12", Some(12)),
    ];
    for (body, want) in cases {
        assert_eq!(find_associated_issue(body, "example-org"), *want, "{body}");
    }
}

#[test]
fn approval_command_detection() {
    assert!(is_approval_command("/approve", false));
    assert!(is_approval_command("x\n/Approve no-issue", false));
    assert!(is_approval_command("/remove-approve", false));
    assert!(!is_approval_command("/approved", false));
    assert!(!is_approval_command("/lgtm", false));
    assert!(is_approval_command("/lgtm", true));
    assert!(!is_approval_command(" /approve", false));
}

#[test]
fn label_changes() {
    let ro = tree();
    let approved = evaluate(
        &ro,
        &pr(&["a/x.go"]),
        &[c(1, "alice", "/approve")],
        &no_self(),
    );
    assert_eq!(approved.label_change(false), Some(LabelChange::Add));
    assert_eq!(approved.label_change(true), None);
    let not = evaluate(&ro, &pr(&["a/x.go"]), &[], &no_self());
    assert_eq!(not.label_change(true), Some(LabelChange::Remove));
    assert_eq!(not.label_change(false), None);
}

#[test]
fn suggestions_cover_unapproved_files() {
    let ro = repo(&[
        ("OWNERS", "approvers: [alice, bob]\n"),
        ("a/OWNERS", "approvers: [art, anne]\n"),
        ("b/OWNERS", "approvers: [bill, ben, barbara]\n"),
        ("c/OWNERS", "approvers: [chris, carol]\n"),
        ("a/d/OWNERS", "approvers: [david, dan, debbie]\n"),
        (
            "a/combo/OWNERS",
            "approvers: [eve, erin, david, dan, debbie, chris, carol]\n",
        ),
    ]);
    let cases: &[&[&str]] = &[
        &["kubernetes.go"],
        &["a/combo/test.go", "b/test.go"],
        &["a/combo/test.go", "a/d/test.go"],
        &["a/x.go", "b/x.go", "c/x.go", "a/d/x.go", "a/combo/x.go"],
    ];
    for files in cases {
        for seed in 0..25 {
            let owners = Owners::new(&ro, files, seed);
            let ap = Approvers::new(owners.clone());
            let ccs = ap.ccs();
            // Deterministic for a given PR number.
            assert_eq!(ccs, Approvers::new(Owners::new(&ro, files, seed)).ccs());
            // The suggestions alone approve the PR.
            let mut check = Approvers::new(owners.clone());
            for cc in &ccs {
                check.add_approver(cc, "", false);
            }
            assert!(check.is_approved(), "{files:?} seed {seed}: {ccs:?}");
            // Every suggestion is a leaf approver of some required OWNERS file.
            let leaf = reverse_map(&owners.leaf_approvers_by_owners());
            assert!(ccs.iter().all(|cc| leaf.contains_key(cc)), "{ccs:?}");
        }
    }
    // Combo + d: someone in both sets covers everything alone.
    let ap = Approvers::new(Owners::new(&ro, &["a/combo/test.go", "a/d/test.go"], 3));
    let ccs = ap.ccs();
    assert_eq!(ccs.len(), 1, "{ccs:?}");
    assert!(["david", "dan", "debbie"].contains(&ccs[0].as_str()));
    // Potential approvers repeat per OWNERS file, as in Prow.
    let owners = Owners::new(&ro, &["a/combo/test.go", "a/d/test.go"], 0);
    assert_eq!(owners.all_potential_approvers().len(), 10);
    assert_eq!(owners.shuffled_approvers().len(), 10);
}

#[test]
fn suggestions_skip_what_is_covered_and_use_assignees() {
    let ro = tree();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/x.go", "e/y.go"], 1));
    ap.add_approver("alice", "", false);
    assert_eq!(ap.ccs(), vec!["eve"]);
    assert_eq!(ap.suggested_ccs(), vec!["eve"]);
    ap.add_assignees(["EVE"]);
    assert_eq!(ap.assigned_ccs(), vec!["eve"]);
    assert!(ap.suggested_ccs().is_empty());
    // A root approver who is assigned is kept: they cover what is left.
    let mut ap = Approvers::new(Owners::new(&ro, &["a/x.go", "c/y.go"], 1));
    ap.add_assignees(["root2"]);
    assert_eq!(ap.assigned_ccs(), vec!["root2"]);
    ap.add_approver("root2", "", false);
    assert!(ap.ccs().is_empty());
}

#[test]
fn owners_file_status() {
    let ro = tree();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/x.go", "c/y.go", "top"], 0));
    ap.add_approver("Alice", "", false);
    let files = ap.owners_files();
    let got: Vec<(&str, &str, bool, Vec<String>)> = files
        .iter()
        .map(|f| {
            (
                f.dir.as_str(),
                f.owners_path.as_str(),
                f.approved,
                f.approvers.clone(),
            )
        })
        .collect();
    // Root collapses a and c; only files owned by the root itself are
    // checked, and alice cannot approve `top`.
    assert_eq!(got, vec![("", "OWNERS", false, vec![])]);
    ap.add_approver("Root1", "", false);
    let files = ap.owners_files();
    assert!(files[0].approved);
    assert_eq!(files[0].approvers, vec!["Root1".to_owned()]);
}
