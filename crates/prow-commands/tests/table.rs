//! Table tests: comment body -> commands, as Prow's plugins see them.

use prow_commands::{
    Command as C, LabelCategory as Cat, LifecycleState as L, MilestoneTarget as M, StageName, parse,
};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

fn test(targets: &[&str]) -> C {
    C::Test {
        targets: s(targets),
    }
}

fn add(category: Cat, labels: &[&str]) -> C {
    C::AddLabels {
        category,
        labels: s(labels),
    }
}

fn remove(category: Cat, labels: &[&str]) -> C {
    C::RemoveLabels {
        category,
        labels: s(labels),
    }
}

fn assign(remove: bool, targets: &[&str]) -> C {
    C::Assign {
        remove,
        targets: s(targets),
    }
}

fn cc(remove: bool, targets: &[&str]) -> C {
    C::Cc {
        remove,
        targets: s(targets),
    }
}

fn ctx(v: &[&str]) -> Option<Vec<String>> {
    Some(s(v))
}

const LGTM: C = C::Lgtm { no_issue: false };
const APPROVE: C = C::Approve { no_issue: false };

#[track_caller]
fn check(cases: &[(&str, Vec<C>)]) {
    let mut failures = Vec::new();
    for (body, want) in cases {
        let got = parse(body);
        if &got != want {
            failures.push(format!("body {body:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lgtm() {
    check(&[
        ("", vec![]),
        ("/lgtm", vec![LGTM]),
        ("/LGTM", vec![LGTM]),
        ("/Lgtm no-issue", vec![C::Lgtm { no_issue: true }]),
        // Exactly one space before no-issue.
        ("/lgtm  no-issue", vec![]),
        ("/lgtm foo", vec![]),
        ("/lgtm!", vec![]),
        ("/lgtm   \t", vec![LGTM]),
        ("/lgtm\r\n", vec![LGTM]),
        (" /lgtm", vec![]),
        ("> /lgtm", vec![]),
        ("LGTM /lgtm", vec![]),
        ("/lgtm cancel", vec![C::LgtmCancel]),
        ("/LGTM CANCEL  ", vec![C::LgtmCancel]),
        ("/remove-lgtm", vec![C::LgtmCancel]),
        ("/lgtm\n/lgtm cancel", vec![LGTM, C::LgtmCancel]),
        // Not stripped: the lgtm plugin matches inside code blocks.
        ("```\n/lgtm\n```", vec![LGTM]),
        // Go's \s is ASCII: a trailing NBSP is not whitespace.
        ("/lgtm\u{a0}", vec![]),
    ]);
}

#[test]
fn approve() {
    check(&[
        ("/approve", vec![APPROVE]),
        ("/approve no-issue", vec![C::Approve { no_issue: true }]),
        ("/APPROVE No-Issue", vec![C::Approve { no_issue: true }]),
        ("/approve\tno-issue", vec![C::Approve { no_issue: true }]),
        ("/approve cancel", vec![C::ApproveCancel]),
        ("/approve cancellation", vec![C::ApproveCancel]),
        ("/remove-approve", vec![C::ApproveCancel]),
        ("/remove-approve please", vec![C::ApproveCancel]),
        // Any argument approves.
        ("/approve thanks!", vec![APPROVE]),
        ("/approve.", vec![]),
        ("/approved", vec![]),
        ("/approve\u{a0}no-issue", vec![]),
        (" /approve", vec![]),
        ("/lgtm\n/approve", vec![LGTM, APPROVE]),
    ]);
}

#[test]
fn hold() {
    check(&[
        ("/hold", vec![C::Hold]),
        ("/HOLD", vec![C::Hold]),
        ("/hold until the release is cut", vec![C::Hold]),
        ("/holding", vec![]),
        ("/hold cancel", vec![C::HoldCancel]),
        ("/HOLD Cancel", vec![C::HoldCancel]),
        ("/hold   cancel", vec![C::HoldCancel]),
        ("/unhold", vec![C::HoldCancel]),
        ("/unhold now", vec![C::HoldCancel]),
        ("/remove-hold", vec![C::HoldCancel]),
        ("/hold\n/hold cancel", vec![C::Hold, C::HoldCancel]),
        ("/hold\r\n", vec![C::Hold]),
        ("  /hold", vec![]),
    ]);
}

#[test]
fn trigger() {
    check(&[
        ("/retest", vec![C::Retest]),
        ("/retest   ", vec![C::Retest]),
        ("/retest\r\n", vec![C::Retest]),
        ("/RETEST", vec![]),
        (" /retest", vec![]),
        ("/retest\u{a0}", vec![]),
        (
            "/retest foo",
            vec![C::RetestWithTarget { args: "foo".into() }],
        ),
        ("/retest-required", vec![C::RetestRequired]),
        ("/retest-required please", vec![]),
        ("/test-manual-required", vec![C::TestManualRequired]),
        ("/test all", vec![C::TestAll]),
        ("/test all,", vec![C::TestAll]),
        ("/test all, please", vec![C::TestAll]),
        ("/test all,please", vec![test(&["all,please"])]),
        ("/test allx", vec![test(&["allx"])]),
        ("/test foo", vec![test(&["foo"])]),
        ("/test foo bar baz", vec![test(&["foo", "bar", "baz"])]),
        ("/test foo, bar", vec![test(&["foo", "bar"])]),
        ("/test foo\r\n", vec![test(&["foo"])]),
        ("/test\tfoo", vec![test(&["foo"])]),
        ("/test ?", vec![C::TestHelp]),
        ("/test?", vec![C::TestHelp]),
        ("/test", vec![C::TestWithoutTarget]),
        ("/test   ", vec![C::TestWithoutTarget]),
        ("/Test foo", vec![]),
        ("/testfoo", vec![]),
        ("/ok-to-test", vec![C::OkToTest]),
        ("/ok-to-test cancel", vec![C::OkToTestCancel]),
        ("/ok-to-test \t cancel ", vec![C::OkToTestCancel]),
        ("/OK-TO-TEST", vec![]),
        ("/test foo\n/test bar", vec![test(&["foo"]), test(&["bar"])]),
        ("/test all\n/test foo", vec![C::TestAll, test(&["foo"])]),
        // Code blocks are dropped for trigger commands only.
        ("```\n/retest\n```", vec![]),
        ("```shell\n/test all\n```\n", vec![]),
        ("~~~\n/test all\n~~~\nthen\n/retest", vec![C::Retest]),
        ("```\n/retest\n```\n/lgtm", vec![LGTM]),
        // A closing fence followed by text does not close the block.
        ("```\n/retest\n``` trailing", vec![C::Retest]),
        // CRLF: the closing fence is not alone on its line, block kept.
        ("```\r\n/retest\r\n```\r\nok", vec![C::Retest]),
    ]);
}

#[test]
fn labels() {
    check(&[
        ("/kind bug", vec![add(Cat::Kind, &["kind/bug"])]),
        (
            "/kind bug cleanup",
            vec![add(Cat::Kind, &["kind/bug", "kind/cleanup"])],
        ),
        ("/kind BUG", vec![add(Cat::Kind, &["kind/bug"])]),
        ("/Kind bug", vec![]),
        ("/KIND bug", vec![]),
        ("/remove-kind bug", vec![remove(Cat::Kind, &["kind/bug"])]),
        (
            "/sig node\n/area kubelet",
            vec![
                add(Cat::Sig, &["sig/node"]),
                add(Cat::Area, &["area/kubelet"]),
            ],
        ),
        (
            "/priority critical-urgent",
            vec![add(Cat::Priority, &["priority/critical-urgent"])],
        ),
        (
            "/triage accepted",
            vec![add(Cat::Triage, &["triage/accepted"])],
        ),
        (
            "/committee steering\n/wg batch\n/language go",
            vec![
                add(Cat::Committee, &["committee/steering"]),
                add(Cat::Wg, &["wg/batch"]),
                add(Cat::Language, &["language/go"]),
            ],
        ),
        ("<!-- /kind bug -->", vec![]),
        (
            "<!--\n/kind bug\n-->\n/kind feature",
            vec![add(Cat::Kind, &["kind/feature"])],
        ),
        ("<!-- x -->/kind bug", vec![add(Cat::Kind, &["kind/bug"])]),
        // Prow splits on single spaces.
        ("/kind  bug", vec![add(Cat::Kind, &["kind/", "kind/bug"])]),
        // No space needed after the command name.
        ("/kinda bug", vec![add(Cat::Kind, &["kind/bug"])]),
        ("/kindbug", vec![]),
        ("/kind", vec![]),
        // Whitespace after the command may span lines.
        ("/kind\nfoo bar", vec![add(Cat::Kind, &["kind/bar"])]),
        ("/kind bug\r\n", vec![add(Cat::Kind, &["kind/bug"])]),
        (
            "/label tide/merge-method-squash",
            vec![C::Label {
                label: "tide/merge-method-squash".into(),
                command_text: "/label tide/merge-method-squash".into(),
            }],
        ),
        ("/label a b", vec![]),
        ("/label", vec![]),
        ("/labels foo", vec![]),
        (
            "/remove-label Foo",
            vec![C::RemoveLabel {
                label: "foo".into(),
                command_text: "/remove-label Foo".into(),
            }],
        ),
        ("/Label foo", vec![]),
    ]);
}

#[test]
fn assign_family() {
    check(&[
        ("/assign", vec![assign(false, &[])]),
        ("/ASSIGN", vec![assign(false, &[])]),
        ("/assign @a @b", vec![assign(false, &["a", "b"])]),
        ("/assign a", vec![assign(false, &["a"])]),
        ("/assign @a-b_c ", vec![assign(false, &["a-b_c"])]),
        ("/unassign @a", vec![assign(true, &["a"])]),
        ("/unassign", vec![assign(true, &[])]),
        // Exactly one space between logins for /assign.
        ("/assign  @a", vec![]),
        ("/assign\t@a", vec![]),
        ("/assign @org/team", vec![]),
        ("/assign @a!", vec![]),
        ("/assignee", vec![]),
        // Quirk: "un" is compared case-sensitively.
        ("/UNASSIGN @a", vec![assign(false, &["a"])]),
        ("/cc", vec![cc(false, &[])]),
        ("/cc @org/team", vec![cc(false, &["org/team"])]),
        ("/cc  @a   @b", vec![cc(false, &["a", "b"])]),
        ("/uncc @a", vec![cc(true, &["a"])]),
        ("/uncc", vec![cc(true, &[])]),
        ("/cc @a, @b", vec![]),
        ("/cc @@a", vec![]),
    ]);
}

#[test]
fn lifecycle_and_help() {
    check(&[
        ("/close", vec![C::Close]),
        ("/CLOSE  ", vec![C::Close]),
        ("/close now", vec![]),
        ("/close not-planned", vec![C::CloseNotPlanned]),
        ("/reopen", vec![C::Reopen]),
        ("/lifecycle frozen", vec![C::Lifecycle(L::Frozen)]),
        ("/LIFECYCLE Rotten", vec![C::Lifecycle(L::Rotten)]),
        ("/lifecycle active", vec![C::Lifecycle(L::Active)]),
        (
            "/remove-lifecycle stale",
            vec![C::RemoveLifecycle(L::Stale)],
        ),
        ("/lifecycle  frozen", vec![]),
        ("/lifecycle foo", vec![]),
        ("/lifecycle", vec![]),
        ("/help", vec![C::Help]),
        ("/help me", vec![]),
        ("/remove-help", vec![C::RemoveHelp]),
        ("/good-first-issue", vec![C::GoodFirstIssue]),
        ("/remove-good-first-issue", vec![C::RemoveGoodFirstIssue]),
    ]);
}

#[test]
fn skip_override_retitle_milestone_cherrypick() {
    check(&[
        ("/skip", vec![C::Skip]),
        ("/SKIP ", vec![C::Skip]),
        ("/skip foo", vec![]),
        (
            "/override ci/foo",
            vec![C::Override {
                contexts: ctx(&["ci/foo"]),
            }],
        ),
        (
            "/override \"ci/foo bar\" baz",
            vec![C::Override {
                contexts: ctx(&["ci/foo bar", "baz"]),
            }],
        ),
        ("/override", vec![C::Override { contexts: None }]),
        ("/override ", vec![]),
        (
            "/OVERRIDE a\r\n",
            vec![C::Override {
                contexts: ctx(&["a"]),
            }],
        ),
        (
            "/override-sticky a b",
            vec![C::OverrideSticky {
                contexts: ctx(&["a", "b"]),
            }],
        ),
        (
            "/override-cancel",
            vec![C::OverrideCancel { contexts: None }],
        ),
        (
            "/override-cancel a",
            vec![C::OverrideCancel {
                contexts: ctx(&["a"]),
            }],
        ),
        (
            "/retitle New title ",
            vec![C::Retitle {
                title: "New title".into(),
            }],
        ),
        (
            "/retitle",
            vec![C::Retitle {
                title: String::new(),
            }],
        ),
        (
            "/milestone v1.2",
            vec![C::Milestone(M::Named("v1.2".into()))],
        ),
        ("/milestone clear", vec![C::Milestone(M::Clear)]),
        (
            "/milestone Clear",
            vec![C::Milestone(M::Named("Clear".into()))],
        ),
        ("/milestone", vec![]),
        ("/Milestone v1", vec![]),
        (
            "/cherrypick release-1.0",
            vec![C::CherryPick {
                target: "release-1.0".into(),
                chained: vec![],
            }],
        ),
        (
            "/cherry-pick release-1.0 release-1.1",
            vec![C::CherryPick {
                target: "release-1.0".into(),
                chained: s(&["release-1.1"]),
            }],
        ),
        ("/cherrypick", vec![]),
        ("/CherryPick release-1.0", vec![]),
    ]);
}

#[test]
fn fun_and_misc() {
    check(&[
        (
            "/meow",
            vec![C::Meow {
                movie: false,
                category: None,
            }],
        ),
        (
            "/MEOWVIE grumpy",
            vec![C::Meow {
                movie: true,
                category: Some("grumpy".into()),
            }],
        ),
        ("/woof\n/bark", vec![C::Woof, C::Woof]),
        ("/this-is-fine", vec![C::ThisIsFine]),
        (
            "/pony Twilight Sparkle",
            vec![C::Pony {
                name: Some("Twilight Sparkle".into()),
            }],
        ),
        (
            "/honk\n/shrug\n/unshrug",
            vec![C::Honk, C::Shrug, C::Unshrug],
        ),
        ("/joke", vec![C::Joke]),
        ("/trickortreat", vec![C::TrickOrTreat]),
        ("/trick-or-treat", vec![C::TrickOrTreat]),
        (
            "/stage beta",
            vec![C::Stage {
                remove: false,
                stage: StageName::Beta,
            }],
        ),
        (
            "/remove-stage alpha",
            vec![C::Stage {
                remove: true,
                stage: StageName::Alpha,
            }],
        ),
        ("/release-note-none", vec![C::ReleaseNoteNone]),
        ("/release-note", vec![C::ReleaseNote]),
        ("/auto-cc\n/verify-owners", vec![C::AutoCc, C::VerifyOwners]),
        ("/buildifier\n/buildify", vec![C::Buildify, C::Buildify]),
        ("/bugzilla refresh", vec![C::BugzillaRefresh]),
        (
            "/transfer-issue other-repo",
            vec![C::Transfer {
                destination: "other-repo".into(),
            }],
        ),
        (
            "/link-issue #1 example/repo#2",
            vec![C::LinkIssue {
                refs: s(&["#1", "example/repo#2"]),
            }],
        ),
    ]);
}

#[test]
fn mixed_comments() {
    check(&[
        (
            "/lgtm\n/hold\n/assign @a\n/kind bug",
            vec![
                LGTM,
                C::Hold,
                assign(false, &["a"]),
                add(Cat::Kind, &["kind/bug"]),
            ],
        ),
        (
            "Thanks!\n\n/lgtm\n/approve\n\nSome more text /hold",
            vec![LGTM, APPROVE],
        ),
        (
            "/lgtm\r\n/hold\r\n/retest\r\n",
            vec![LGTM, C::Hold, C::Retest],
        ),
        (
            "Looks good.\r\n/LGTM\r\n/approve no-issue\r\n",
            vec![LGTM, C::Approve { no_issue: true }],
        ),
        (
            "```\n/retest\n/lgtm\n```\n/test all",
            vec![LGTM, C::TestAll],
        ),
        ("no commands at all", vec![]),
        ("http://example.com/lgtm", vec![]),
    ]);
}
