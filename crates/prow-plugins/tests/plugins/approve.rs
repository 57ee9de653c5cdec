//! Port of Prow's `pkg/plugins/approve/approve_test.go` (TestHandle, TestHandleGenericComment,
//! TestHandleReview, TestHandlePullRequest) against FakeGitHub with real OWNERS files.

use std::sync::Arc;

use prow_github::events::{PullRequestEvent, ReviewEvent};
use prow_github::{DraftReview, GitHub, Label, Review, User};
use prow_plugins::Plugin;
use prow_plugins::plugins::approve::ApprovePlugin;

use crate::reclock::Reclock;
use crate::world::{BOT, Spec, World};

const OWNERS_FILES: &str = r#"
    a/OWNERS: "approvers: [alice]\n"
    a/b/OWNERS: "approvers: [bob]\n"
    c/OWNERS: "approvers: [cblecker, cjwagner]\n"
    e/OWNERS: "approvers: [spxtr]\n"
    d/OWNERS: "options: {auto_approve_unowned_subfolders: true}\napprovers: [dee]\n"
    README.md: "hello\n"
"#;

#[derive(Clone)]
struct Setup<'a> {
    branch: &'a str,
    pr_body: &'a str,
    has_label: bool,
    human_approved: bool,
    files: &'a [&'a str],
    self_approve: bool,
    needs_issue: bool,
    lgtm_acts_as_approve: bool,
    review_acts_as_approve: bool,
    link_url: &'a str,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Setup {
            branch: "main",
            pr_body: "",
            has_label: false,
            human_approved: false,
            files: &[],
            self_approve: false,
            needs_issue: false,
            lgtm_acts_as_approve: false,
            review_acts_as_approve: false,
            link_url: "",
        }
    }
}

/// One step of the PR history before the plugin runs.
#[derive(Clone, Copy)]
enum Step<'a> {
    Comment(&'a str, &'a str),
    Review(&'a str, &'a str, &'a str),
}

async fn world(s: &Setup<'_>) -> World {
    let files: String = s
        .files
        .iter()
        .map(|f| format!("{f}: \"changed\\n\", "))
        .collect();
    let labels = if s.has_label && !s.human_approved {
        "[lgtm, approved]"
    } else {
        "[lgtm]"
    };
    let seed = format!(
        "orgs: [{{login: org}}]\nrepos:\n- name: org/repo\n  collaborators: [spxtr, alice, cjwagner, human]\n  branches: {{dev: {{from: main}}}}\n  files:{OWNERS_FILES}pull_requests:\n- {{repo: org/repo, number: 1, author: cjwagner, title: T, head: h, base: {}, body: {:?}, labels: {labels}, assignees: [spxtr], files: {{{files}}}}}\n",
        s.branch, s.pr_body
    );
    let plugins = format!(
        "plugins: {{org/repo: {{plugins: [approve]}}}}\napprove:\n- repos: [org/repo]\n  require_self_approval: {}\n  issue_required: {}\n  lgtm_acts_as_approve: {}\n  ignore_review_state: {}\n",
        !s.self_approve, s.needs_issue, s.lgtm_acts_as_approve, !s.review_acts_as_approve
    );
    let config = if s.link_url.is_empty() {
        String::new()
    } else {
        format!("github:\n  link_url: {}\n", s.link_url)
    };
    let mut w = World::new(Spec {
        seed: &seed,
        plugins: &plugins,
        config: &config,
        wrap: Some(Box::new(|gh| Arc::new(Reclock(gh)) as Arc<dyn GitHub>)),
        ..Default::default()
    })
    .await;
    if s.human_approved {
        w.gh("human")
            .add_labels("org", "repo", 1, &["approved".to_owned()])
            .await
            .expect("human labels");
    }
    w.discard_events();
    w
}

async fn history(w: &mut World, steps: &[Step<'_>]) {
    for step in steps {
        match *step {
            Step::Comment(user, body) => {
                w.gh(user)
                    .create_comment("org", "repo", 1, body)
                    .await
                    .expect("comment");
            }
            Step::Review(user, body, event) => {
                w.gh(user)
                    .create_review(
                        "org",
                        "repo",
                        1,
                        &DraftReview {
                            body: body.to_owned(),
                            event: event.to_owned(),
                            commit_id: None,
                        },
                    )
                    .await
                    .expect("review");
            }
        }
    }
    w.discard_events();
}

async fn pr_event(w: &World, action: &str) -> PullRequestEvent {
    let gh = w.gh(BOT);
    PullRequestEvent {
        action: action.to_owned(),
        number: 1,
        pull_request: gh.get_pull_request("org", "repo", 1).await.expect("PR"),
        repository: gh.get_repo("org", "repo").await.expect("repo"),
        sender: User {
            login: "cjwagner".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn notifications(w: &World) -> Vec<(u64, String)> {
    w.fake
        .issue_comments("org", "repo", 1)
        .into_iter()
        .filter(|c| c.user.login == BOT && c.body.starts_with("[APPROVALNOTIFIER]"))
        .map(|c| (c.id, c.body))
        .collect()
}

fn approved(w: &World) -> bool {
    w.labels("org", "repo", 1).contains(&"approved".to_owned())
}

struct Outcome {
    deleted: bool,
    commented: Option<String>,
    toggled: bool,
}

/// Runs the plugin as a `synchronize` of the PR (Prow's tests call `handle` directly).
async fn poke(w: &mut World) -> Outcome {
    let before = notifications(w);
    let had = approved(w);
    let ev = pr_event(w, "synchronize").await;
    ApprovePlugin
        .handle_pull_request(&w.ctx(None), &ev)
        .await
        .expect("approve handles the event");
    w.discard_events();
    let after = notifications(w);
    Outcome {
        deleted: before
            .iter()
            .any(|(id, _)| !after.iter().any(|(a, _)| a == id)),
        commented: after
            .iter()
            .find(|(id, _)| !before.iter().any(|(b, _)| b == id))
            .map(|(_, body)| body.clone()),
        toggled: approved(w) != had,
    }
}

fn comment_url(w: &World, author: &str) -> String {
    w.fake
        .issue_comments("org", "repo", 1)
        .into_iter()
        .find(|c| c.user.login.eq_ignore_ascii_case(author))
        .map(|c| c.html_url)
        .expect("comment exists")
}

#[tokio::test]
async fn initial_notification_approved_exact_text() {
    let s = Setup {
        files: &["c/c.go"],
        self_approve: true,
        ..Setup::default()
    };
    let mut w = world(&s).await;
    let out = poke(&mut w).await;
    assert!(!out.deleted);
    assert!(out.toggled);
    let pr_url = w.fake.pull_request("org", "repo", 1).expect("PR").html_url;
    let want = format!(
        "[APPROVALNOTIFIER] This PR is **APPROVED**\n\nThis pull-request has been approved by: *<a href=\"{pr_url}#\" title=\"Author self-approved\">cjwagner</a>*\n\nThe full list of commands accepted by this bot can be found [here](https://go.k8s.io/bot-commands?repo=org%2Frepo).\n\nThe pull request process is described [here](https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process)\n\n<details >\nNeeds approval from an approver in each of these files:\n\n- ~~[c/OWNERS](https://github.com/org/repo/blob/main/c/OWNERS)~~ [cjwagner]\n\nApprovers can indicate their approval by writing `/approve` in a comment\nApprovers can cancel approval by writing `/approve cancel` in a comment\n</details>\n<!-- META={{\"approvers\":[]}} -->"
    );
    assert_eq!(out.commented.as_deref(), Some(want.as_str()));
}

#[tokio::test]
async fn no_issue_comment_exact_text() {
    let s = Setup {
        files: &["a/a.go"],
        needs_issue: true,
        ..Setup::default()
    };
    let mut w = world(&s).await;
    history(
        &mut w,
        &[Step::Comment(
            "Alice",
            "stuff\n/approve no-issue \nmore stuff",
        )],
    )
    .await;
    let out = poke(&mut w).await;
    assert!(out.toggled);
    let url = comment_url(&w, "Alice");
    // The fake may normalise the login's case; the notification shows what GitHub reports.
    let login = w.fake.issue_comments("org", "repo", 1)[0]
        .user
        .login
        .clone();
    let want = format!(
        "[APPROVALNOTIFIER] This PR is **APPROVED**\n\nThis pull-request has been approved by: *<a href=\"{url}\" title=\"Approved\">{login}</a>*\n\nAssociated issue requirement bypassed by: *<a href=\"{url}\" title=\"Approved\">{login}</a>*\n\nThe full list of commands accepted by this bot can be found [here](https://go.k8s.io/bot-commands?repo=org%2Frepo).\n\nThe pull request process is described [here](https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process)\n\n<details >\nNeeds approval from an approver in each of these files:\n\n- ~~[a/OWNERS](https://github.com/org/repo/blob/main/a/OWNERS)~~ [{login}]\n\nApprovers can indicate their approval by writing `/approve` in a comment\nApprovers can cancel approval by writing `/approve cancel` in a comment\n</details>\n<!-- META={{\"approvers\":[]}} -->"
    );
    assert_eq!(out.commented.as_deref(), Some(want.as_str()));
}

#[tokio::test]
async fn handle_table() {
    struct Case<'a> {
        name: &'a str,
        setup: Setup<'a>,
        steps: Vec<Step<'a>>,
        /// Bot notifications present before (stale ones).
        stale: &'a [&'a str],
        delete: bool,
        comment: bool,
        toggle: bool,
        /// Substrings the new notification must contain.
        contains: &'a [&'a str],
    }
    let d = Setup::default;
    let cases = vec![
        Case {
            name: "initial notification (unapproved)",
            setup: Setup {
                files: &["c/c.go"],
                ..d()
            },
            steps: vec![],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &[
                "**NOT APPROVED**",
                "please assign [cblecker](https://github.com/cblecker) for approval",
                "<details open>",
                "- **[c/OWNERS](https://github.com/org/repo/blob/main/c/OWNERS)**",
            ],
        },
        Case {
            name: "assignee is also a potential approver",
            setup: Setup {
                files: &["c/c.go", "e/e.go"],
                ..d()
            },
            steps: vec![],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &[
                "please ask for approval from [spxtr](https://github.com/spxtr) and additionally assign [cblecker](https://github.com/cblecker) for approval",
                "<!-- META={\"approvers\":[\"cblecker\",\"spxtr\"]} -->",
            ],
        },
        Case {
            name: "issue provided in PR body",
            setup: Setup {
                files: &["a/a.go"],
                needs_issue: true,
                pr_body: "some changes that fix #42.\n/assign",
                ..d()
            },
            steps: vec![Step::Comment("Alice", "stuff\n/approve")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &["Associated issue: *#42*"],
        },
        Case {
            name: "non-implicit self approve no-issue",
            setup: Setup {
                files: &["a/a.go", "c/c.go"],
                needs_issue: true,
                ..d()
            },
            steps: vec![
                Step::Comment("ALIcE", "stuff\n/approve"),
                Step::Comment("cjwagner", "stuff\n/approve no-issue"),
            ],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &["**APPROVED**"],
        },
        Case {
            name: "implicit self approve, missing issue",
            setup: Setup {
                files: &["a/a.go", "c/c.go"],
                needs_issue: true,
                self_approve: true,
                ..d()
            },
            steps: vec![Step::Comment("ALIcE", "stuff\n/approve")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &[
                "**NOT APPROVED**",
                "*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with `/approve no-issue`",
            ],
        },
        Case {
            name: "remove approval with /approve cancel",
            setup: Setup {
                files: &["a/a.go"],
                has_label: true,
                needs_issue: true,
                self_approve: true,
                ..d()
            },
            steps: vec![
                Step::Comment("Alice", "/approve no-issue"),
                Step::Comment("Alice", "stuff\n/approve cancel \nmore stuff"),
            ],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nblah"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "remove approval with remove-approve",
            setup: Setup {
                files: &["a/a.go"],
                has_label: true,
                needs_issue: true,
                self_approve: true,
                ..d()
            },
            steps: vec![
                Step::Comment("Alice", "/approve no-issue"),
                Step::Comment("Alice", "stuff\n/remove-approve \nmore stuff"),
            ],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nblah"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "remove approval after sync",
            setup: Setup {
                files: &["a/a.go", "b/b.go"],
                has_label: true,
                self_approve: true,
                pr_body: "Changes the thing.\n fixes #42",
                ..d()
            },
            steps: vec![Step::Comment("bOb", "stuff\n/approve \nblah")],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nblah"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "cancel implicit self approve",
            setup: Setup {
                files: &["c/c.go"],
                has_label: true,
                self_approve: true,
                needs_issue: true,
                pr_body: "Changes the thing.\n fixes #42",
                ..d()
            },
            steps: vec![Step::Comment(
                "CJWagner",
                "stuff\n/approve cancel \nmore stuff",
            )],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nblah"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "remove-approve for implicit self approve",
            setup: Setup {
                files: &["c/c.go"],
                has_label: true,
                self_approve: true,
                needs_issue: true,
                pr_body: "Changes the thing.\n fixes #42",
                ..d()
            },
            steps: vec![Step::Comment(
                "CJWagner",
                "stuff\n/remove-approve \nmore stuff",
            )],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nblah"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "cancel implicit self approve (lgtm-after-commit message)",
            setup: Setup {
                files: &["c/c.go"],
                has_label: true,
                self_approve: true,
                needs_issue: true,
                lgtm_acts_as_approve: true,
                pr_body: "Changes the thing.\n fixes #42",
                ..d()
            },
            steps: vec![Step::Comment(
                "CJWagner",
                "/lgtm cancel //PR changed after LGTM, removing LGTM.",
            )],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nblah"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "out of date, poked by pr sync",
            setup: Setup {
                files: &["a/a.go", "a/aa.go"],
                needs_issue: true,
                pr_body: "Finally fixes kubernetes/kubernetes#1\n",
                ..d()
            },
            steps: vec![Step::Comment("alice", "stuff\n/approve\nblah")],
            stale: &["[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nstale"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**APPROVED**", "Associated issue: *#1*"],
        },
        Case {
            name: "human added approve",
            setup: Setup {
                files: &["a/a.go"],
                has_label: true,
                human_approved: true,
                ..d()
            },
            steps: vec![],
            stale: &["[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nstale"],
            delete: true,
            comment: true,
            toggle: false,
            contains: &[
                "[APPROVALNOTIFIER] This PR is **APPROVED**\n\nApproval requirements bypassed by manually added approval.\n\nThis pull-request has been approved by:\n",
            ],
        },
        Case {
            name: "lgtm means approve",
            setup: Setup {
                files: &["a/a.go", "a/aa.go"],
                lgtm_acts_as_approve: true,
                ..d()
            },
            steps: vec![Step::Comment("alice", "stuff\n/lgtm\nblah")],
            stale: &["[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nstale"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["title=\"LGTM\">alice</a>"],
        },
        Case {
            name: "lgtm does not mean approve",
            setup: Setup {
                files: &["a/a.go", "a/aa.go"],
                ..d()
            },
            steps: vec![Step::Comment("alice", "stuff\n/lgtm\nblah")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "approve in review body (comment review)",
            setup: Setup {
                files: &["a/a.go"],
                ..d()
            },
            steps: vec![Step::Review("Alice", "stuff\n/approve", "COMMENT")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &["**APPROVED**"],
        },
        Case {
            name: "approved review but review state ignored",
            setup: Setup {
                files: &["c/c.go"],
                ..d()
            },
            steps: vec![Step::Review("cblecker", "stuff", "APPROVE")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "approved review with reviewActsAsApprove",
            setup: Setup {
                files: &["a/a.go"],
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![Step::Review("Alice", "stuff", "APPROVE")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &["**APPROVED**"],
        },
        Case {
            name: "commented review does not approve",
            setup: Setup {
                files: &["c/c.go"],
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![Step::Review("cblecker", "stuff", "COMMENT")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "request changes review after approval cancels",
            setup: Setup {
                files: &["c/c.go"],
                has_label: true,
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![
                Step::Review("spxtr", "yep", "APPROVE"),
                Step::Review("cblecker", "yep", "APPROVE"),
                Step::Review("cblecker", "nope", "REQUEST_CHANGES"),
            ],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nstale"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "approve cancel command supersedes earlier approved review",
            setup: Setup {
                files: &["c/c.go"],
                has_label: true,
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![
                Step::Review("cblecker", "yep", "APPROVE"),
                Step::Comment("cblecker", "stuff\n/approve cancel \nmore stuff"),
            ],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nstale"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "remove-approve command supersedes earlier approved review",
            setup: Setup {
                files: &["c/c.go"],
                has_label: true,
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![
                Step::Review("cblecker", "yep", "APPROVE"),
                Step::Comment("cblecker", "stuff\n/remove-approve \nmore stuff"),
            ],
            stale: &["[APPROVALNOTIFIER] This PR is **APPROVED**\n\nstale"],
            delete: true,
            comment: true,
            toggle: true,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "approve cancel in body supersedes simultaneous approved review",
            setup: Setup {
                files: &["a/a.go", "c/c.go"],
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![Step::Review("cblecker", "/approve cancel", "APPROVE")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: false,
            contains: &["**NOT APPROVED**"],
        },
        Case {
            name: "approve command supersedes simultaneous changes requested review",
            setup: Setup {
                files: &["a/a.go"],
                review_acts_as_approve: true,
                ..d()
            },
            steps: vec![Step::Review("Alice", "/approve", "REQUEST_CHANGES")],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &["**APPROVED**"],
        },
        Case {
            name: "different branch",
            setup: Setup {
                files: &["c/c.go"],
                self_approve: true,
                branch: "dev",
                ..d()
            },
            steps: vec![],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &[
                "- ~~[c/OWNERS](https://github.com/org/repo/blob/dev/c/OWNERS)~~ [cjwagner]",
            ],
        },
        Case {
            name: "different GitHub link URL",
            setup: Setup {
                files: &["c/c.go"],
                self_approve: true,
                branch: "dev",
                link_url: "https://github.mycorp.com",
                ..d()
            },
            steps: vec![],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &[
                "- ~~[c/OWNERS](https://github.mycorp.com/org/repo/blob/dev/c/OWNERS)~~ [cjwagner]",
            ],
        },
        Case {
            name: "approved because of auto_approve_unowned_subfolders",
            setup: Setup {
                files: &["d/new-folder/new_file.go"],
                ..d()
            },
            steps: vec![],
            stale: &[],
            delete: false,
            comment: true,
            toggle: true,
            contains: &["**APPROVED**"],
        },
    ];
    for c in cases {
        let mut w = world(&c.setup).await;
        history(&mut w, &c.steps).await;
        for s in c.stale {
            w.gh(BOT)
                .create_comment("org", "repo", 1, s)
                .await
                .expect("stale notification");
        }
        w.discard_events();
        let out = poke(&mut w).await;
        assert_eq!(out.deleted, c.delete, "{}: deleted", c.name);
        assert_eq!(out.commented.is_some(), c.comment, "{}: commented", c.name);
        assert_eq!(out.toggled, c.toggle, "{}: toggled", c.name);
        let body = out.commented.unwrap_or_default();
        for want in c.contains {
            assert!(
                body.contains(want),
                "{}: notification lacks {want:?}:\n{body}",
                c.name
            );
        }
    }
}

#[tokio::test]
async fn up_to_date_notification_is_kept() {
    let s = Setup {
        files: &["a/a.go", "a/aa.go"],
        needs_issue: true,
        pr_body: "Finally fixes kubernetes/kubernetes#1\n",
        ..Setup::default()
    };
    let mut w = world(&s).await;
    history(&mut w, &[Step::Comment("alice", "stuff\n/approve\nblah")]).await;
    let first = poke(&mut w).await;
    assert!(first.commented.is_some() && first.toggled);
    let second = poke(&mut w).await;
    assert!(
        !second.deleted && second.commented.is_none() && !second.toggled,
        "nothing changes"
    );
    assert_eq!(notifications(&w).len(), 1);
}

// TestHandleGenericComment: which comments make the plugin evaluate the PR.
#[tokio::test]
async fn generic_comment_table() {
    // (name, body, on_issue, closed, lgtm_acts_as_approve, expect_handled)
    let cases = [
        (
            "valid approve command",
            "/approve",
            false,
            false,
            false,
            true,
        ),
        ("no approve command", "stuff", false, false, false, false),
        (
            "lgtm without lgtmActsAsApprove",
            "/lgtm",
            false,
            false,
            false,
            false,
        ),
        (
            "lgtm with lgtmActsAsApprove",
            "/lgtm",
            false,
            false,
            true,
            true,
        ),
        ("not PR", "/approve", true, false, false, false),
        ("closed PR", "/approve", false, true, false, false),
    ];
    for (name, body, on_issue, closed, lgtm_acts, handled) in cases {
        let s = Setup {
            files: &["a/a.go"],
            lgtm_acts_as_approve: lgtm_acts,
            ..Setup::default()
        };
        let mut w = world(&s).await;
        if closed {
            w.gh("cjwagner")
                .close_issue("org", "repo", 1, None)
                .await
                .expect("close");
        }
        w.discard_events();
        if on_issue {
            // A real issue: generic comments on issues have is_pr = false.
            let mut gc = crate::world::generic_comment("org", "repo", 1, "alice", body);
            gc.is_pr = false;
            ApprovePlugin
                .handle_generic_comment(&w.ctx(None), &gc)
                .await
                .expect("handles");
        } else {
            w.gh("alice")
                .create_comment("org", "repo", 1, body)
                .await
                .expect("comment");
            w.settle_ok().await;
        }
        assert_eq!(!notifications(&w).is_empty(), handled, "{name}");
    }
}

fn review_event(
    pr: prow_github::PullRequest,
    repo: prow_github::Repo,
    action: &str,
    state: &str,
    body: &str,
    login: &str,
    kind: &str,
) -> ReviewEvent {
    ReviewEvent {
        action: action.into(),
        pull_request: pr,
        review: Review {
            body: Some(body.into()),
            state: state.into(),
            user: User {
                login: login.into(),
                kind: kind.into(),
                ..Default::default()
            },
            ..Default::default()
        },
        repository: repo,
        sender: User::default(),
    }
}

// TestHandleReview: which reviews make the plugin evaluate the PR.
#[tokio::test]
async fn review_table() {
    // (name, action, state, body, reviewer, kind, review_acts, expect_handled)
    let cases = [
        (
            "approved state",
            "submitted",
            "approved",
            "",
            "alice",
            "User",
            true,
            true,
        ),
        (
            "changes requested state",
            "submitted",
            "changes_requested",
            "",
            "alice",
            "User",
            true,
            true,
        ),
        (
            "pending review state",
            "submitted",
            "pending",
            "",
            "alice",
            "User",
            true,
            false,
        ),
        (
            "edited review",
            "edited",
            "approved",
            "",
            "alice",
            "User",
            true,
            false,
        ),
        (
            "dismissed review",
            "dismissed",
            "dismissed",
            "",
            "alice",
            "User",
            true,
            true,
        ),
        (
            "approve command",
            "submitted",
            "commented",
            "/approve",
            "alice",
            "User",
            true,
            false,
        ),
        (
            "lgtm command",
            "submitted",
            "commented",
            "/lgtm",
            "alice",
            "User",
            true,
            false,
        ),
        (
            "feature disabled",
            "submitted",
            "approved",
            "",
            "alice",
            "User",
            false,
            false,
        ),
        (
            "app bot approved review",
            "submitted",
            "approved",
            "",
            "some-app[bot]",
            "Bot",
            true,
            false,
        ),
        (
            "app bot changes requested",
            "submitted",
            "changes_requested",
            "",
            "some-app[bot]",
            "Bot",
            true,
            false,
        ),
    ];
    for (name, action, state, body, reviewer, kind, acts, handled) in cases {
        let s = Setup {
            files: &["a/a.go"],
            review_acts_as_approve: acts,
            ..Setup::default()
        };
        let w = world(&s).await;
        let gh = w.gh(BOT);
        let pr = gh.get_pull_request("org", "repo", 1).await.expect("PR");
        let repo = gh.get_repo("org", "repo").await.expect("repo");
        let ev = review_event(pr, repo, action, state, body, reviewer, kind);
        ApprovePlugin
            .handle_review(&w.ctx(None), &ev)
            .await
            .expect("handles");
        assert_eq!(!notifications(&w).is_empty(), handled, "{name}");
    }
}

// TestHandlePullRequest: which PR events make the plugin evaluate the PR.
#[tokio::test]
async fn pull_request_table() {
    // (name, action, label, sender, closed, expect_handled)
    let cases = [
        ("pr opened", "opened", None, "cjwagner", false, true),
        ("pr reopened", "reopened", None, "cjwagner", false, true),
        ("pr sync", "synchronize", None, "cjwagner", false, true),
        (
            "pr labeled approved by human",
            "labeled",
            Some("approved"),
            "human",
            false,
            true,
        ),
        (
            "pr labeled approved by bot",
            "labeled",
            Some("approved"),
            BOT,
            false,
            false,
        ),
        (
            "pr another label",
            "labeled",
            Some("some-label"),
            "human",
            false,
            false,
        ),
        (
            "pr labeled approved on closed PR",
            "labeled",
            Some("approved"),
            "human",
            true,
            false,
        ),
        ("pr closed", "closed", None, "cjwagner", true, false),
        (
            "pr review requested",
            "review_requested",
            None,
            "cjwagner",
            false,
            false,
        ),
    ];
    for (name, action, label, sender, closed, handled) in cases {
        let s = Setup {
            files: &["a/a.go"],
            ..Setup::default()
        };
        let w = world(&s).await;
        let mut ev = pr_event(&w, action).await;
        ev.label = label.map(|l| Label {
            name: l.into(),
            ..Default::default()
        });
        ev.sender.login = sender.into();
        if closed {
            ev.pull_request.state = "closed".into();
        }
        ApprovePlugin
            .handle_pull_request(&w.ctx(None), &ev)
            .await
            .expect("handles");
        assert_eq!(!notifications(&w).is_empty(), handled, "{name}");
    }
}

#[tokio::test]
async fn end_to_end_approve_and_cancel_through_dispatcher() {
    let s = Setup {
        files: &["a/a.go", "c/c.go"],
        ..Setup::default()
    };
    let mut w = world(&s).await;
    w.comment("alice", "org", "repo", 1, "/approve").await;
    assert!(!approved(&w), "c/ still needs approval");
    w.comment("cblecker", "org", "repo", 1, "/approve").await;
    assert!(approved(&w));
    assert_eq!(
        notifications(&w).len(),
        1,
        "old notification replaced, not accumulated"
    );
    w.comment("alice", "org", "repo", 1, "/approve cancel")
        .await;
    assert!(!approved(&w));
    let n = notifications(&w);
    assert_eq!(n.len(), 1);
    assert!(
        n[0].1
            .starts_with("[APPROVALNOTIFIER] This PR is **NOT APPROVED**")
    );
    // The bot's own notification comments never re-trigger evaluation loops.
    let outcomes = w.comment("alice", "org", "repo", 1, "unrelated").await;
    assert!(outcomes.iter().all(|o| o.error.is_none()));
}
