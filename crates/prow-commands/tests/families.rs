//! Per-plugin decision helpers and positions.

use prow_commands::approve::{self, ApproveCommand};
use prow_commands::assign::{self, AssignChanges, AssignKind};
use prow_commands::hold::{self, HoldAction};
use prow_commands::label::{self, LabelCommands};
use prow_commands::lgtm::{self, LgtmAction};
use prow_commands::lifecycle::{self, CloseKind};
use prow_commands::trigger;
use prow_commands::{
    Command, LifecycleState, MilestoneTarget, cherrypick, help, milestone, overrides,
    parse_located, retitle, skip,
};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

#[test]
fn lgtm_add_wins_over_cancel() {
    assert_eq!(lgtm::parse("/lgtm cancel\n/lgtm"), Some(LgtmAction::Add));
    assert_eq!(lgtm::parse("/remove-lgtm"), Some(LgtmAction::Remove));
    assert_eq!(lgtm::parse("/lgtm please"), None);
    assert!(lgtm::has_command("LGTM\n/lgtm"));
}

#[test]
fn hold_cancel_wins() {
    assert_eq!(hold::parse("/hold\n/unhold"), Some(HoldAction::Remove));
    assert_eq!(hold::parse("/hold"), Some(HoldAction::Add));
    // `\s+` before `cancel` may be a newline.
    assert_eq!(hold::parse("/hold\ncancel"), Some(HoldAction::Remove));
    assert_eq!(hold::parse("hold"), None);
}

#[test]
fn approve_view_of_lgtm() {
    assert_eq!(
        approve::parse("/approve\n/lgtm cancel"),
        vec![
            ApproveCommand::Approve { no_issue: false },
            ApproveCommand::LgtmCancel
        ]
    );
    assert_eq!(
        approve::parse("/lgtm thanks"),
        vec![ApproveCommand::Lgtm { no_issue: false }]
    );
    assert!(!approve::is_approval_command("/lgtm", false));
    assert!(approve::is_approval_command("/lgtm", true));
    assert!(approve::is_approval_command("/remove-approve", false));
    assert!(!approve::is_approval_command("/hold", true));
}

#[test]
fn assign_last_mention_wins() {
    assert_eq!(
        assign::changes("/assign @a @b\n/unassign @a", AssignKind::Assign, "me"),
        AssignChanges {
            add: s(&["b"]),
            remove: s(&["a"]),
            truncated: false,
        }
    );
    assert_eq!(
        assign::changes("/assign\n/cc @x", AssignKind::Assign, "me"),
        AssignChanges {
            add: s(&["me"]),
            remove: vec![],
            truncated: false,
        }
    );
    assert_eq!(
        assign::changes("/assign\n/uncc @x", AssignKind::Cc, "me"),
        AssignChanges {
            add: vec![],
            remove: s(&["x"]),
            truncated: false,
        }
    );
    assert!(assign::has_cc_command("Fixes stuff\n/cc @org/team"));
    let all = assign::parse("/cc @a\n/assign");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].kind, AssignKind::Cc);
}

#[test]
fn label_summary() {
    let got = label::parse("/kind bug\n/remove-kind feature\n/label foo\n/remove-label bar");
    assert_eq!(got.add, s(&["kind/bug"]));
    assert_eq!(got.remove, s(&["kind/feature"]));
    assert_eq!(got.custom_add[0].label, "foo");
    assert_eq!(got.custom_remove[0].command_text, "/remove-label bar");
    assert!(label::parse("nothing").is_empty());
    assert_eq!(label::parse("hi"), LabelCommands::default());
}

#[test]
fn trigger_summary() {
    let c = trigger::parse("/test all foo");
    assert!(c.test_all && c.test_with_target);
    assert_eq!(c.targets, s(&["all", "foo"]));

    // Code blocks are ignored by `parse`, but Prow's job selection sees the
    // raw body; `parse_text` reproduces that step.
    let body = "/test foo\n```\n/retest\n```";
    assert!(!trigger::parse(body).retest);
    assert!(trigger::parse_text(body).retest);

    let c = trigger::parse("/retest-required");
    assert!(c.retest_required && c.is_retest() && c.prunes_help && !c.retest);
    assert!(trigger::parse("/test-manual-required").prunes_help);
    assert!(!trigger::parse("/testing").prunes_help);
    assert!(trigger::parse("/ok-to-test").is_relevant());
    assert_eq!(
        trigger::parse("/test").help_response(0),
        Some(trigger::HelpNote::TestWithoutTarget)
    );
}

#[test]
fn trigger_constants_match_prow_text() {
    assert_eq!(trigger::TEST_ALL_PATTERN, r"(?m)^/test all,?($|\s.*)");
    assert_eq!(
        trigger::default_trigger_for("pull-e2e"),
        r"(?m)^/test( | .* )pull-e2e,?($|\s.*)"
    );
    let re = trigger::compile_trigger(trigger::TEST_ALL_PATTERN).unwrap();
    assert!(re.is_match("/test all,"));
    assert!(!re.is_match("/test all,x"));
}

#[test]
fn lifecycle_summary() {
    let c = lifecycle::parse("/close\n/close not-planned\n/reopen\n/remove-lifecycle rotten");
    assert_eq!(c.close, Some(CloseKind::NotPlanned));
    assert!(c.reopen);
    assert_eq!(c.labels, vec![(true, LifecycleState::Rotten)]);
    assert_eq!(LifecycleState::Frozen.label(), "lifecycle/frozen");
}

#[test]
fn single_value_helpers() {
    assert_eq!(
        retitle::parse("/retitle\nNew title"),
        Some("New title".into())
    );
    assert_eq!(retitle::parse("/retitlefoo"), Some("foo".into()));
    assert_eq!(retitle::parse("/retitle a\n/retitle b"), Some("a".into()));
    assert_eq!(
        milestone::parse("/milestone\nv1.0"),
        Some(MilestoneTarget::Named("v1.0".into()))
    );
    assert_eq!(
        milestone::parse("/milestone a\n/milestone clear"),
        Some(MilestoneTarget::Named("a".into()))
    );
    let picks = cherrypick::parse("/cherrypick\nrelease-1.0");
    assert_eq!(picks[0].target, "release-1.0");
    assert!(skip::parse("/skip"));
    assert!(help::parse("/good-first-issue").good_first_issue);
}

#[test]
fn override_contexts() {
    assert_eq!(overrides::split_contexts("a b"), s(&["a", "b"]));
    assert_eq!(
        overrides::split_contexts("\"a b\"  c\t d"),
        s(&["a b", "c", "d"])
    );
    assert_eq!(overrides::split_contexts("\"\""), s(&[""]));
    assert_eq!(overrides::split_contexts("a\"b c\"d"), s(&["a\"b c\"d"]));
    let all = overrides::parse("/override-cancel\n/override x");
    assert_eq!(all[0].kind, overrides::OverrideKind::Cancel);
    assert_eq!(all[1].contexts, Some(s(&["x"])));
}

#[test]
fn spans_point_into_the_original_body() {
    let body = "hi\n/lgtm\n<!-- note -->\n/kind bug";
    let found = parse_located(body);
    assert_eq!(found.len(), 2);
    assert_eq!(&body[found[0].span.clone()], "/lgtm");
    assert_eq!(found[0].line_in(body), 2);
    assert_eq!(&body[found[1].span.clone()], "/kind bug");
    assert_eq!(found[1].line_in(body), 4);

    let body = "```\nx\n```\n/retest";
    let found = parse_located(body);
    assert_eq!(found[0].command, Command::Retest);
    assert_eq!(&body[found[0].span.clone()], "/retest");
}

#[test]
fn plugin_names() {
    assert_eq!(Command::Retest.plugin(), "trigger");
    assert_eq!(Command::HoldCancel.plugin(), "hold");
    assert_eq!(Command::Skip.plugin(), "skip");
    assert_eq!(Command::Close.plugin(), "lifecycle");
}

#[test]
fn commands_per_comment_are_bounded() {
    use prow_commands::MAX_COMMANDS_PER_KIND as MAX;
    // 100 000 `/label` lines: only the first MAX are kept, and the cut is reported.
    let body = (0..100_000)
        .map(|i| format!("/label l{i}\n"))
        .collect::<String>();
    let l = label::parse(&body);
    assert_eq!(l.custom_add.len(), MAX);
    assert_eq!(l.custom_add[0].label, "l0");
    assert_eq!(l.custom_add[MAX - 1].label, format!("l{}", MAX - 1));
    assert!(l.truncated);
    // Each kind has its own budget: a `/kind` after thousands of `/label`s still counts.
    let l = label::parse(&format!("{body}/kind bug\n"));
    assert_eq!(l.add, s(&["kind/bug"]));
    // Many values on one line count one by one.
    let many = format!(
        "/kind {}",
        (0..500)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let l = label::parse(&many);
    assert_eq!((l.add.len(), l.truncated), (MAX, true));
    // Exactly MAX is not a cut.
    let exact = (0..MAX)
        .map(|i| format!("/label l{i}\n"))
        .collect::<String>();
    assert!(!label::parse(&exact).truncated);

    // Assign: distinct logins are bounded (and resolving them is linear, not quadratic).
    let logins = (0..50_000)
        .map(|i| format!("u{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let started = std::time::Instant::now();
    let c = assign::changes(&format!("/assign {logins}"), AssignKind::Assign, "me");
    assert_eq!((c.add.len(), c.truncated), (MAX, true));
    assert_eq!(c.add[0], "u0");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // A login already kept still changes direction after the cap is reached.
    let c = assign::changes(
        &format!("/assign {logins}\n/unassign @u0"),
        AssignKind::Assign,
        "me",
    );
    assert_eq!(c.remove, s(&["u0"]));
    assert_eq!(c.add.len(), MAX - 1);

    // Lifecycle: repeated commands are bounded.
    let body = "/lifecycle stale\n".repeat(10_000);
    assert_eq!(lifecycle::parse(&body).labels.len(), MAX);
    assert!(prow_commands::truncation_note("label commands").contains("first 100"));
}
