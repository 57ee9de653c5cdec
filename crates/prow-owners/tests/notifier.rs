//! The `[APPROVALNOTIFIER]` comment, byte for byte.

mod common;

use common::{approvers_tree, links, repo, t};
use prow_owners::{
    ApprovalEvent, ApproveConfig, Approvers, LoadOptions, Owners, PullRequestContext, RepoOwners,
    RepoRef, evaluate, is_approval_notification, notification_needs_update, render_notification,
};

const AT: RepoRef<'static> = RepoRef {
    org: "example-org",
    repo: "repo",
    branch: "main",
};

fn a_b() -> RepoOwners {
    approvers_tree(&[("a", &["Alice"]), ("b", &["Bill"])])
}

fn render(ap: &Approvers<'_>) -> String {
    render_notification(ap, &links(), AT)
}

const FOOTER: &str = "Approvers can indicate their approval by writing `/approve` in a comment
Approvers can cancel approval by writing `/approve cancel` in a comment
</details>";

#[test]
fn not_approved_missing_issue() {
    let ro = a_b();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go", "b/b.go"], 0));
    ap.require_issue = true;
    ap.add_approver("Bill", "REFERENCE", false);
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **NOT APPROVED**

This pull-request has been approved by: *<a href="REFERENCE" title="Approved">Bill</a>*
**Once this PR has been reviewed and has the lgtm label**, please assign [alice](https://git.example.com/alice) for approval. For more information see [the Code Review Process](https://docs.example.com/owners.md#the-code-review-process).

*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with `/approve no-issue`

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

<details open>
Needs approval from an approver in each of these files:

- **[a/OWNERS](https://git.example.com/example-org/repo/blob/dev/a/OWNERS)**
- ~~[b/OWNERS](https://git.example.com/example-org/repo/blob/dev/b/OWNERS)~~ [Bill]

{FOOTER}
<!-- META={{"approvers":["alice"]}} -->"#
    );
    let got = render_notification(
        &ap,
        &links(),
        RepoRef {
            branch: "dev",
            ..AT
        },
    );
    assert_eq!(got, want);
}

#[test]
fn files_approved_but_issue_missing() {
    let ro = a_b();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go", "b/b.go"], 0));
    ap.require_issue = true;
    ap.add_approver("Alice", "REFERENCE", false);
    ap.add_lgtmer("Bill", "REFERENCE", false);
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **NOT APPROVED**

This pull-request has been approved by: *<a href="REFERENCE" title="Approved">Alice</a>*, *<a href="REFERENCE" title="LGTM">Bill</a>*

*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with `/approve no-issue`

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

The pull request process is described [here](https://docs.example.com/owners.md#the-code-review-process)

<details >
Needs approval from an approver in each of these files:

- ~~[a/OWNERS](https://git.example.com/example-org/repo/blob/main/a/OWNERS)~~ [Alice]
- ~~[b/OWNERS](https://git.example.com/example-org/repo/blob/main/b/OWNERS)~~ [Bill]

{FOOTER}
<!-- META={{"approvers":[]}} -->"#
    );
    assert_eq!(render(&ap), want);
}

#[test]
fn assignee_is_useful_approver() {
    let ro = a_b();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go", "b/b.go"], 0));
    ap.add_assignees(["Bill"]);
    ap.add_approver("Alice", "REFERENCE", false);
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **NOT APPROVED**

This pull-request has been approved by: *<a href="REFERENCE" title="Approved">Alice</a>*
**Once this PR has been reviewed and has the lgtm label**, please ask for approval from [bill](https://git.example.com/bill). For more information see [the Code Review Process](https://docs.example.com/owners.md#the-code-review-process).

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

<details open>
Needs approval from an approver in each of these files:

- ~~[a/OWNERS](https://git.example.com/example-org/repo/blob/main/a/OWNERS)~~ [Alice]
- **[b/OWNERS](https://git.example.com/example-org/repo/blob/main/b/OWNERS)**

{FOOTER}
<!-- META={{"approvers":["bill"]}} -->"#
    );
    assert_eq!(render(&ap), want);
}

#[test]
fn assigned_and_suggested() {
    let ro = approvers_tree(&[("c", &["carl"]), ("e", &["eve"])]);
    let mut ap = Approvers::new(Owners::new(&ro, &["c/c.go", "e/e.go"], 0));
    ap.add_assignees(["eve"]);
    let got = render(&ap);
    assert!(got.contains(
        "\nThis pull-request has been approved by:\n**Once this PR has been reviewed and has the lgtm label**, please ask for approval from [eve](https://git.example.com/eve) and additionally assign [carl](https://git.example.com/carl) for approval. For more information see [the Code Review Process](https://docs.example.com/owners.md#the-code-review-process).\n\nThe full list"
    ), "{got}");
    assert!(got.ends_with("<!-- META={\"approvers\":[\"carl\",\"eve\"]} -->"));
}

#[test]
fn approved_with_issue() {
    let ro = a_b();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go", "b/b.go"], 0));
    ap.require_issue = true;
    ap.associated_issue = Some(12345);
    ap.add_author_self_approver("John", "REFERENCE", false);
    ap.add_approver("Bill", "REFERENCE", false);
    ap.add_approver("Alice", "REFERENCE", false);
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **APPROVED**

This pull-request has been approved by: *<a href="REFERENCE" title="Approved">Alice</a>*, *<a href="REFERENCE" title="Approved">Bill</a>*, *<a href="REFERENCE" title="Author self-approved">John</a>*

Associated issue: *#12345*

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

The pull request process is described [here](https://docs.example.com/owners.md#the-code-review-process)

<details >
Needs approval from an approver in each of these files:

- ~~[a/OWNERS](https://git.example.com/example-org/repo/blob/main/a/OWNERS)~~ [Alice]
- ~~[b/OWNERS](https://git.example.com/example-org/repo/blob/main/b/OWNERS)~~ [Bill]

{FOOTER}
<!-- META={{"approvers":[]}} -->"#
    );
    assert_eq!(render(&ap), want);
}

#[test]
fn no_issue_bypass() {
    let ro = a_b();
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go", "b/b.md"], 0));
    ap.require_issue = true;
    ap.add_author_self_approver("John", "REFERENCE", false);
    ap.add_approver("Bill", "REFERENCE", true);
    ap.add_approver("Alice", "REFERENCE", true);
    let got = render(&ap);
    assert!(got.starts_with("[APPROVALNOTIFIER] This PR is **APPROVED**\n\n"));
    assert!(got.contains(
        "\n\nAssociated issue requirement bypassed by: *<a href=\"REFERENCE\" title=\"Approved\">Alice</a>*, *<a href=\"REFERENCE\" title=\"Approved\">Bill</a>*\n\nThe full list"
    ), "{got}");
}

#[test]
fn markdown_owners() {
    let ro = RepoOwners::load(
        [
            ("a/OWNERS", "approvers: [Alice]\n"),
            ("b/OWNERS", "approvers: [Bill]\n"),
            ("b/README.md", "---\napprovers: [Doctor]\n---\n# Read me\n"),
        ],
        &LoadOptions {
            enable_md_yaml: true,
            ..LoadOptions::default()
        },
    );
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go", "b/README.md"], 0));
    ap.require_issue = true;
    ap.add_author_self_approver("John", "REFERENCE", false);
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **NOT APPROVED**

This pull-request has been approved by: *<a href="REFERENCE" title="Author self-approved">John</a>*
**Once this PR has been reviewed and has the lgtm label**, please assign [alice](https://git.example.com/alice), [doctor](https://git.example.com/doctor) for approval. For more information see [the Code Review Process](https://docs.example.com/owners.md#the-code-review-process).

*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with `/approve no-issue`

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

<details open>
Needs approval from an approver in each of these files:

- **[a/OWNERS](https://ghe.example.com/example-org/repo/blob/main/a/OWNERS)**
- **[b/README.md](https://ghe.example.com/example-org/repo/blob/main/b/README.md)**

{FOOTER}
<!-- META={{"approvers":["alice","doctor"]}} -->"#
    );
    let mut l = links();
    // Only scheme and host of the link URL are used.
    l.link_url = "https://ghe.example.com/ignored/path".to_owned();
    assert_eq!(render_notification(&ap, &l, AT), want);
}

#[test]
fn manually_approved() {
    let ro = approvers_tree(&[("a", &["alice"])]);
    let mut ap = Approvers::new(Owners::new(&ro, &["a/a.go"], 1));
    ap.manually_approved = true;
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **APPROVED**

Approval requirements bypassed by manually added approval.

This pull-request has been approved by:

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

The pull request process is described [here](https://docs.example.com/owners.md#the-code-review-process)

<details >
Needs approval from an approver in each of these files:

- **[a/OWNERS](https://git.example.com/example-org/repo/blob/main/a/OWNERS)**

{FOOTER}
<!-- META={{"approvers":["alice"]}} -->"#
    );
    assert_eq!(render(&ap), want);

    ap.require_issue = true;
    assert!(render(&ap).contains(
        "approved by:\n\n*No associated issue*. Requirement bypassed by manually added approval.\n\nThe full list"
    ));
}

#[test]
fn partially_approved_owners_file() {
    let ro = repo(&[(
        "a/OWNERS",
        "filters:\n  \"\\\\.go$\": {approvers: [gary]}\n  \"\\\\.md$\": {approvers: [Mark]}\n",
    )]);
    let mut ap = Approvers::new(Owners::new(&ro, &["a/x.go", "a/y.md"], 0));
    ap.add_approver("Mark", "REF", false);
    let got = render(&ap);
    assert!(got.contains(
        "\n\n- **[a/OWNERS](https://git.example.com/example-org/repo/blob/main/a/OWNERS)** [Mark]\n  > Need more approvers for rest parts.\n\nApprovers can"
    ), "{got}");
    // As in Prow, the cover is computed from scratch, so Mark (who already
    // approved part of the file) is suggested again alongside Gary.
    assert!(got.contains(
        "please assign [gary](https://git.example.com/gary), [mark](https://git.example.com/mark) for approval."
    ), "{got}");
}

#[test]
fn no_suggestions_possible() {
    // Nobody can approve: the suggestion line is empty, leaving a blank line.
    let ro = RepoOwners::default();
    let ap = Approvers::new(Owners::new(&ro, &["x.go"], 0));
    let got = render(&ap);
    assert!(got.contains(
        "approved by:\n\n\nThe full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).\n\n<details open>\nNeeds approval from an approver in each of these files:\n\n- **[OWNERS](https://git.example.com/example-org/repo/blob/main/OWNERS)**\n\nApprovers"
    ), "{got}");
}

#[test]
fn full_flow_self_approved() {
    let ro = approvers_tree(&[("c", &["cjw", "cbl"])]);
    let pr = PullRequestContext {
        number: 1,
        org: "example-org".to_owned(),
        author: "cjw".to_owned(),
        html_url: "https://git.example.com/example-org/repo/pull/1".to_owned(),
        changed_files: vec!["c/c.go".to_owned()],
        bot_login: Some("example-bot".to_owned()),
        ..PullRequestContext::default()
    };
    let events = [ApprovalEvent::comment(
        "example-bot",
        "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nblah",
        t(0),
        "",
    )];
    let ap = evaluate(&ro, &pr, &events, &ApproveConfig::default());
    let got = render(&ap);
    let want = format!(
        r#"[APPROVALNOTIFIER] This PR is **APPROVED**

This pull-request has been approved by: *<a href="https://git.example.com/example-org/repo/pull/1#" title="Author self-approved">cjw</a>*

The full list of commands accepted by this bot can be found [here](https://prow.example.com/command-help?repo=example-org%2Frepo).

The pull request process is described [here](https://docs.example.com/owners.md#the-code-review-process)

<details >
Needs approval from an approver in each of these files:

- ~~[c/OWNERS](https://git.example.com/example-org/repo/blob/main/c/OWNERS)~~ [cjw]

{FOOTER}
<!-- META={{"approvers":[]}} -->"#
    );
    assert_eq!(got, want);
    assert!(is_approval_notification(&events[0].body));
    assert!(notification_needs_update(Some(&events[0].body), &got));
    assert!(!notification_needs_update(Some(&got), &got));
}
