//! Port of Prow's `pkg/plugins/lgtm/lgtm_test.go`.

use prow_github::events::{Event, PullRequestEvent, ReviewEvent};
use prow_github::{GitHub, Review, User};
use prow_plugins::plugins::lgtm::{LgtmPlugin, REMOVE_LGTM_NOTIFICATION, add_lgtm_notification};
use prow_plugins::{IssueRef, Plugin};

use crate::world::{BOT, Spec, World};

const LGTM_COMMENT_PREFIX: &str = "LGTM label has been added.";

fn seed(has_lgtm: bool, author: &str) -> String {
    let labels = if has_lgtm { "[lgtm]" } else { "[]" };
    format!(
        r#"
orgs:
- login: org
  teams: [{{slug: leads, name: Leads, members: [sig-lead]}}, {{slug: committers, name: Committers, members: [someone]}}]
repos:
- name: org/repo
  collaborators: [collab1, collab2]
  files:
    doc/OWNERS: "approvers: [cjwagner, jessica]\nreviewers: [alice, bob, mark, sam]\n"
    doc/README.md: "old\n"
pull_requests:
- repo: org/repo
  number: 5
  author: {author}
  title: Docs
  head: docs
  labels: {labels}
  assignees: [collab1, assignee1]
  files: {{doc/README.md: "new\n"}}
"#
    )
}

fn plugins_yaml(
    skip_collab: bool,
    store_tree_hash: bool,
    review_acts: bool,
    sticky: &str,
) -> String {
    let mut s = format!(
        "plugins:\n  org/repo:\n    plugins: [lgtm]\nlgtm:\n- repos: [org/repo]\n  store_tree_hash: {store_tree_hash}\n  review_acts_as_lgtm: {review_acts}\n"
    );
    if !sticky.is_empty() {
        s.push_str(&format!("  trusted_team_for_sticky_lgtm: {sticky}\n"));
    }
    if skip_collab {
        s.push_str("owners:\n  skip_collaborators: [org/repo]\n");
    }
    s
}

async fn world(has_lgtm: bool, author: &str, plugins: &str) -> World {
    let seed = seed(has_lgtm, author);
    World::new(Spec {
        seed: &seed,
        plugins,
        ..Default::default()
    })
    .await
}

fn assignees(w: &World) -> Vec<String> {
    w.fake
        .pull_request("org", "repo", 5)
        .expect("PR")
        .assignees
        .into_iter()
        .map(|u| u.login)
        .collect()
}

fn requested(w: &World) -> Vec<String> {
    w.fake
        .pull_request("org", "repo", 5)
        .expect("PR")
        .requested_reviewers
        .into_iter()
        .map(|u| u.login)
        .collect()
}

fn has_lgtm(w: &World) -> bool {
    w.labels("org", "repo", 5).contains(&"lgtm".to_owned())
}

#[tokio::test]
async fn lgtm_comment_table() {
    struct Case {
        name: &'static str,
        body: &'static str,
        commenter: &'static str,
        has_lgtm: bool,
        toggle: bool,
        comment: bool,
        assign: bool,
        skip_collab: bool,
        request: bool,
    }
    let c = |name, body, commenter, has_lgtm, toggle, comment, assign, request| Case {
        name,
        body,
        commenter,
        has_lgtm,
        toggle,
        comment,
        assign,
        skip_collab: false,
        request,
    };
    let mut cases = vec![
        c(
            "non-lgtm comment",
            "uh oh",
            "collab2",
            false,
            false,
            false,
            false,
            false,
        ),
        c(
            "lgtm by reviewer, no lgtm on pr",
            "/lgtm",
            "collab1",
            false,
            true,
            true,
            false,
            false,
        ),
        c(
            "LGTM by reviewer, no lgtm on pr",
            "/LGTM",
            "collab1",
            false,
            true,
            true,
            false,
            false,
        ),
        c(
            "lgtm by reviewer, lgtm on pr",
            "/lgtm",
            "collab1",
            true,
            false,
            false,
            false,
            false,
        ),
        c(
            "lgtm comment by author",
            "/lgtm",
            "author",
            false,
            false,
            true,
            false,
            false,
        ),
        c(
            "lgtm cancel by author",
            "/lgtm cancel",
            "author",
            true,
            true,
            false,
            false,
            true,
        ),
        c(
            "remove lgtm by author",
            "/remove-lgtm",
            "author",
            true,
            true,
            false,
            false,
            true,
        ),
        c(
            "lgtm by non-reviewer",
            "/lgtm",
            "collab2",
            false,
            true,
            true,
            true,
            false,
        ),
        c(
            "lgtm by non-reviewer, trailing space",
            "/lgtm ",
            "collab2",
            false,
            true,
            true,
            true,
            false,
        ),
        c(
            "lgtm by non-reviewer, no-issue",
            "/lgtm no-issue",
            "collab2",
            false,
            true,
            true,
            true,
            false,
        ),
        c(
            "lgtm no-issue, trailing space",
            "/lgtm no-issue \r",
            "collab2",
            false,
            true,
            true,
            true,
            false,
        ),
        c(
            "lgtm comment by rando",
            "/lgtm",
            "not-in-the-org",
            false,
            false,
            true,
            false,
            false,
        ),
        c(
            "lgtm cancel by non-reviewer",
            "/lgtm cancel",
            "collab2",
            true,
            true,
            false,
            true,
            true,
        ),
        c(
            "remove lgtm by non-reviewer",
            "/remove-lgtm",
            "collab2",
            true,
            true,
            false,
            true,
            true,
        ),
        c(
            "lgtm cancel by rando",
            "/lgtm cancel",
            "not-in-the-org",
            true,
            false,
            true,
            false,
            false,
        ),
        c(
            "remove lgtm by rando",
            "/remove-lgtm",
            "not-in-the-org",
            true,
            false,
            true,
            false,
            false,
        ),
        c(
            "lgtm cancel by reviewer",
            "/lgtm cancel",
            "collab1",
            true,
            true,
            false,
            false,
            true,
        ),
        c(
            "remove-lgtm by reviewer",
            "/remove-lgtm",
            "collab1",
            true,
            true,
            false,
            false,
            true,
        ),
        c(
            "lgtm cancel by reviewer, trailing space",
            "/lgtm cancel \r",
            "collab1",
            true,
            true,
            false,
            false,
            true,
        ),
        c(
            "remove lgtm by reviewer, trailing space",
            "/remove-lgtm \r",
            "collab1",
            true,
            true,
            false,
            false,
            true,
        ),
        c(
            "lgtm cancel by reviewer, no lgtm",
            "/lgtm cancel",
            "collab1",
            false,
            false,
            false,
            false,
            false,
        ),
        c(
            "remove lgtm by reviewer, no lgtm",
            "/remove-lgtm",
            "collab1",
            false,
            false,
            false,
            false,
            false,
        ),
        c(
            "lgtm by assignee, but not collab",
            "/lgtm",
            "assignee1",
            false,
            false,
            true,
            false,
            false,
        ),
    ];
    cases.push(Case {
        skip_collab: true,
        ..c(
            "lgtm comment, based off OWNERS only",
            "/lgtm",
            "sam",
            false,
            true,
            true,
            false,
            false,
        )
    });
    cases.push(Case {
        skip_collab: true,
        ..c(
            "lgtm comment, not in OWNERS",
            "/lgtm",
            "collab2",
            false,
            false,
            true,
            false,
            false,
        )
    });

    for tc in cases {
        let plugins = plugins_yaml(tc.skip_collab, true, false, "");
        let mut w = world(tc.has_lgtm, "author", &plugins).await;
        let before = assignees(&w);
        w.comment(tc.commenter, "org", "repo", 5, tc.body).await;
        assert_eq!(
            has_lgtm(&w),
            tc.has_lgtm != tc.toggle,
            "{}: lgtm label",
            tc.name
        );
        let bot = w.bot_comments("org", "repo", 5);
        assert_eq!(
            bot.len(),
            usize::from(tc.comment),
            "{}: bot comments {bot:?}",
            tc.name
        );
        let after = assignees(&w);
        let newly: Vec<&String> = after.iter().filter(|a| !before.contains(a)).collect();
        if tc.assign {
            assert_eq!(newly, vec![tc.commenter], "{}: assignees", tc.name);
        } else {
            assert!(
                newly.is_empty(),
                "{}: unexpected assignees {newly:?}",
                tc.name
            );
        }
        assert_eq!(
            !requested(&w).is_empty(),
            tc.request,
            "{}: requested {:?}",
            tc.name,
            requested(&w)
        );
    }
}

#[tokio::test]
async fn reply_texts_and_tree_hash_comment() {
    let plugins = plugins_yaml(false, true, false, "");
    let mut w = world(false, "author", &plugins).await;
    w.comment("author", "org", "repo", 5, "/lgtm").await;
    let bot = w.bot_comments("org", "repo", 5);
    assert_eq!(bot.len(), 1);
    assert!(
        bot[0].starts_with(
            "@author: you cannot LGTM your own PR.\n\n<details>\n\nIn response to [this]("
        ),
        "{}",
        bot[0]
    );
    assert!(bot[0].contains("):\n\n>/lgtm\n"), "{}", bot[0]);

    w.comment("not-in-the-org", "org", "repo", 5, "/lgtm").await;
    let bot = w.bot_comments("org", "repo", 5);
    assert!(
        bot[1].starts_with("@not-in-the-org: changing LGTM is restricted to collaborators"),
        "{}",
        bot[1]
    );

    w.comment("collab1", "org", "repo", 5, "/lgtm").await;
    let head = w.fake.pull_request("org", "repo", 5).expect("PR").head.sha;
    let tree = w
        .gh(BOT)
        .get_single_commit("org", "repo", &head)
        .await
        .expect("commit")
        .commit
        .tree
        .sha;
    let bot = w.bot_comments("org", "repo", 5);
    assert_eq!(bot.last(), Some(&add_lgtm_notification(&tree)));
}

#[tokio::test]
async fn skip_collaborators_reply_text() {
    let plugins = plugins_yaml(true, false, false, "");
    let mut w = world(false, "author", &plugins).await;
    w.comment("collab2", "org", "repo", 5, "/lgtm").await;
    let bot = w.bot_comments("org", "repo", 5);
    assert_eq!(bot.len(), 1);
    assert!(
        bot[0].starts_with(
            "@collab2: adding LGTM is restricted to approvers and reviewers in OWNERS files."
        ),
        "{}",
        bot[0]
    );
    assert!(!has_lgtm(&w));
}

// TestLGTMCommentWithLGTMNoti: adding LGTM prunes the bot's "LGTM removed" notice.
#[tokio::test]
async fn adding_lgtm_prunes_removed_notification() {
    let cases = [
        ("non-lgtm comment", "uh oh", "collab2", false),
        ("lgtm comment by reviewer", "/lgtm", "collab1", true),
        ("LGTM comment by reviewer", "/LGTM", "collab1", true),
        ("lgtm comment by author", "/lgtm", "author", false),
        ("lgtm comment by non-reviewer", "/lgtm", "collab2", true),
        ("lgtm with trailing space", "/lgtm ", "collab2", true),
        ("lgtm no-issue", "/lgtm no-issue", "collab2", true),
        (
            "lgtm no-issue trailing space",
            "/lgtm no-issue \r",
            "collab2",
            true,
        ),
        ("lgtm comment by rando", "/lgtm", "not-in-the-org", false),
        (
            "lgtm cancel by reviewer, no lgtm",
            "/lgtm cancel",
            "collab1",
            false,
        ),
        (
            "remove-lgtm by reviewer, no lgtm",
            "/remove-lgtm",
            "collab1",
            false,
        ),
    ];
    for (name, body, commenter, should_delete) in cases {
        let plugins = plugins_yaml(false, false, false, "");
        let mut w = world(false, "author", &plugins).await;
        w.gh(BOT)
            .create_comment("org", "repo", 5, REMOVE_LGTM_NOTIFICATION)
            .await
            .expect("bot comments");
        w.discard_events();
        w.comment(commenter, "org", "repo", 5, body).await;
        let still_there = w
            .bot_comments("org", "repo", 5)
            .iter()
            .any(|b| b == REMOVE_LGTM_NOTIFICATION);
        assert_eq!(!still_there, should_delete, "{name}");
    }
}

async fn review_event(
    w: &World,
    action: &str,
    state: &str,
    body: &str,
    reviewer: &str,
    kind: &str,
) -> ReviewEvent {
    let pr = w
        .gh(BOT)
        .get_pull_request("org", "repo", 5)
        .await
        .expect("PR");
    let repo = w.gh(BOT).get_repo("org", "repo").await.expect("repo");
    ReviewEvent {
        action: action.to_owned(),
        pull_request: pr,
        review: Review {
            body: Some(body.to_owned()),
            state: state.to_owned(),
            html_url: "https://github.example.com/org/repo/pull/5#review".to_owned(),
            user: User {
                login: reviewer.to_owned(),
                kind: kind.to_owned(),
                ..Default::default()
            },
            ..Default::default()
        },
        repository: repo,
        sender: User {
            login: reviewer.to_owned(),
            ..Default::default()
        },
    }
}

// TestLGTMFromApproveReview (the review handler alone, as Prow's test calls it).
#[tokio::test]
async fn lgtm_from_review_table() {
    // (name, state, action, body, reviewer, kind, has_lgtm, toggle, comment, assign, store)
    let cases = [
        (
            "edit approve review",
            "approved",
            "edited",
            "",
            "collab1",
            "User",
            false,
            false,
            false,
            false,
            true,
        ),
        (
            "dismiss approve review",
            "approved",
            "dismissed",
            "",
            "collab1",
            "User",
            false,
            false,
            false,
            false,
            true,
        ),
        (
            "request changes, no lgtm",
            "changes_requested",
            "submitted",
            "",
            "collab1",
            "User",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "request changes, lgtm",
            "changes_requested",
            "submitted",
            "",
            "collab1",
            "User",
            true,
            true,
            false,
            false,
            false,
        ),
        (
            "approve, no lgtm",
            "approved",
            "submitted",
            "",
            "collab1",
            "User",
            false,
            true,
            true,
            false,
            true,
        ),
        (
            "approve, no lgtm, no tree hash",
            "approved",
            "submitted",
            "",
            "collab1",
            "User",
            false,
            true,
            false,
            false,
            false,
        ),
        (
            "approve, lgtm on pr",
            "approved",
            "submitted",
            "",
            "collab1",
            "User",
            true,
            false,
            false,
            false,
            false,
        ),
        (
            "approve by non-reviewer",
            "approved",
            "submitted",
            "",
            "collab2",
            "User",
            false,
            true,
            true,
            true,
            true,
        ),
        (
            "request changes by non-reviewer",
            "changes_requested",
            "submitted",
            "",
            "collab2",
            "User",
            false,
            false,
            false,
            true,
            false,
        ),
        (
            "approve by rando",
            "approved",
            "submitted",
            "",
            "not-in-the-org",
            "User",
            false,
            false,
            true,
            false,
            false,
        ),
        (
            "comment review by author",
            "commented",
            "submitted",
            "",
            "author",
            "User",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "/lgtm in comment review body",
            "commented",
            "submitted",
            "/lgtm",
            "collab1",
            "User",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "/lgtm cancel in approve review body",
            "approved",
            "submitted",
            "/lgtm cancel",
            "collab1",
            "User",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "approve by app bot",
            "approved",
            "submitted",
            "",
            "some-app[bot]",
            "Bot",
            false,
            false,
            false,
            false,
            false,
        ),
        (
            "request changes by app bot",
            "changes_requested",
            "submitted",
            "",
            "some-app[bot]",
            "Bot",
            true,
            false,
            false,
            false,
            false,
        ),
    ];
    for (name, state, action, body, reviewer, kind, has, toggle, comment, assign, store) in cases {
        let plugins = plugins_yaml(false, store, true, "");
        let mut w = world(has, "author", &plugins).await;
        let before = assignees(&w);
        let ev = review_event(&w, action, state, body, reviewer, kind).await;
        let ctx = w.ctx(Some(IssueRef {
            org: "org".into(),
            repo: "repo".into(),
            number: 5,
        }));
        LgtmPlugin
            .handle_review(&ctx, &ev)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        w.discard_events();
        assert_eq!(has_lgtm(&w), has != toggle, "{name}: lgtm label");
        assert_eq!(
            w.bot_comments("org", "repo", 5).len(),
            usize::from(comment),
            "{name}: comments"
        );
        let newly: Vec<String> = assignees(&w)
            .into_iter()
            .filter(|a| !before.contains(a))
            .collect();
        assert_eq!(!newly.is_empty(), assign, "{name}: assignees {newly:?}");
    }
}

#[tokio::test]
async fn review_needs_review_acts_as_lgtm() {
    let plugins = plugins_yaml(false, false, false, "");
    let mut w = world(false, "author", &plugins).await;
    let ev = review_event(&w, "submitted", "approved", "", "collab1", "User").await;
    w.dispatcher
        .handle(&Event::PullRequestReview(Box::new(ev)), "d")
        .await;
    w.settle_ok().await;
    assert!(!has_lgtm(&w));
}

#[tokio::test]
async fn real_review_through_dispatcher() {
    let plugins = plugins_yaml(false, false, true, "");
    let mut w = world(false, "author", &plugins).await;
    w.gh("collab1")
        .create_review(
            "org",
            "repo",
            5,
            &prow_github::DraftReview {
                body: "looks fine".into(),
                event: "APPROVE".into(),
                commit_id: None,
            },
        )
        .await
        .expect("review");
    w.settle_ok().await;
    assert!(has_lgtm(&w));
}

async fn synchronize(w: &World, author: &str) -> PullRequestEvent {
    let pr = w
        .gh(BOT)
        .get_pull_request("org", "repo", 5)
        .await
        .expect("PR");
    let repo = w.gh(BOT).get_repo("org", "repo").await.expect("repo");
    let _ = author;
    PullRequestEvent {
        action: "synchronize".into(),
        number: 5,
        pull_request: pr,
        repository: repo,
        ..Default::default()
    }
}

// TestHandlePullRequest: pushes to an LGTM'd PR.
#[tokio::test]
async fn push_removes_lgtm_unless_tree_unchanged_or_sticky() {
    // (name, author, sticky team, bot comment: None | Some(same tree?), expect removed)
    #[derive(Clone, Copy)]
    enum Stored {
        None,
        RemovedNotice,
        SameTree,
        OlderThenSameTree,
        OtherTree,
    }
    let cases = [
        (
            "synchronize removes label",
            "author",
            "",
            Stored::RemovedNotice,
            true,
        ),
        (
            "sticky LGTM for trusted team members",
            "sig-lead",
            "Leads",
            Stored::None,
            false,
        ),
        (
            "not sticky if disabled",
            "sig-lead",
            "",
            Stored::RemovedNotice,
            true,
        ),
        (
            "not sticky for non team member",
            "sig-lead",
            "Committers",
            Stored::RemovedNotice,
            true,
        ),
        (
            "same tree-hash keeps label",
            "author",
            "",
            Stored::SameTree,
            false,
        ),
        (
            "two tree-hash comments, newest same",
            "author",
            "",
            Stored::OlderThenSameTree,
            false,
        ),
        (
            "different tree-hash removes label",
            "author",
            "",
            Stored::OtherTree,
            true,
        ),
    ];
    for (name, author, sticky, stored, removed) in cases {
        let plugins = plugins_yaml(false, true, false, sticky);
        let mut w = world(true, author, &plugins).await;
        let head = w.fake.pull_request("org", "repo", 5).expect("PR").head.sha;
        let tree = w
            .gh(BOT)
            .get_single_commit("org", "repo", &head)
            .await
            .expect("commit")
            .commit
            .tree
            .sha;
        let bot = w.gh(BOT);
        match stored {
            Stored::None => {}
            Stored::RemovedNotice => {
                bot.create_comment("org", "repo", 5, REMOVE_LGTM_NOTIFICATION)
                    .await
                    .expect("c");
            }
            Stored::SameTree => {
                bot.create_comment("org", "repo", 5, &add_lgtm_notification(&tree))
                    .await
                    .expect("c");
            }
            Stored::OlderThenSameTree => {
                bot.create_comment("org", "repo", 5, &add_lgtm_notification("older_tree"))
                    .await
                    .expect("c");
                bot.create_comment("org", "repo", 5, &add_lgtm_notification(&tree))
                    .await
                    .expect("c");
            }
            Stored::OtherTree => {
                bot.create_comment("org", "repo", 5, &add_lgtm_notification("other_tree"))
                    .await
                    .expect("c");
            }
        }
        let comments_before = w.bot_comments("org", "repo", 5).len();
        w.discard_events();
        let ev = synchronize(&w, author).await;
        let ctx = w.ctx(None);
        LgtmPlugin
            .handle_pull_request(&ctx, &ev)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(!has_lgtm(&w), removed, "{name}: label");
        let comments = w.bot_comments("org", "repo", 5);
        if removed {
            assert_eq!(comments.len(), comments_before + 1, "{name}");
            assert_eq!(
                comments.last().map(String::as_str),
                Some(REMOVE_LGTM_NOTIFICATION),
                "{name}"
            );
            assert!(
                !requested(&w).is_empty(),
                "{name}: assignees are re-requested"
            );
        } else {
            assert_eq!(comments.len(), comments_before, "{name}");
        }
    }
}

#[tokio::test]
async fn content_preserving_push_keeps_lgtm_end_to_end() {
    let plugins = plugins_yaml(false, true, false, "");
    let mut w = world(false, "author", &plugins).await;
    w.comment("collab1", "org", "repo", 5, "/lgtm").await;
    assert!(has_lgtm(&w));
    // Same content again: a new commit with the same tree (what a rebase/squash looks like).
    w.fake
        .push_files(
            "author",
            "org",
            "repo",
            "docs",
            crate::world::files(&[("doc/README.md", "new\n")]),
            "squash",
        )
        .expect("push");
    w.settle_ok().await;
    assert!(has_lgtm(&w), "tree unchanged: LGTM stays");
    w.fake
        .push_files(
            "author",
            "org",
            "repo",
            "docs",
            crate::world::files(&[("doc/README.md", "newer\n")]),
            "change",
        )
        .expect("push");
    w.settle_ok().await;
    assert!(!has_lgtm(&w), "content changed: LGTM removed");
    assert_eq!(
        w.bot_comments("org", "repo", 5).last().map(String::as_str),
        Some(REMOVE_LGTM_NOTIFICATION)
    );
    // Re-adding LGTM prunes the removal notice and the old tree-hash comment stays.
    w.comment("collab1", "org", "repo", 5, "/lgtm").await;
    let bot = w.bot_comments("org", "repo", 5);
    assert!(
        !bot.iter().any(|b| b == REMOVE_LGTM_NOTIFICATION),
        "{bot:?}"
    );
    assert_eq!(
        bot.iter()
            .filter(|b| b.starts_with(LGTM_COMMENT_PREFIX))
            .count(),
        2,
        "{bot:?}"
    );
    // Cancelling prunes the tree-hash comments.
    w.comment("collab1", "org", "repo", 5, "/lgtm cancel").await;
    assert!(
        !w.bot_comments("org", "repo", 5)
            .iter()
            .any(|b| b.starts_with(LGTM_COMMENT_PREFIX))
    );
}

// TestAddTreeHashComment: no tree-hash comment when the author has sticky LGTM.
#[tokio::test]
async fn tree_hash_comment_and_sticky_team() {
    for (name, author, sticky, expect) in [
        ("tree sha added", "bob", "", true),
        ("tree sha if sticky off", "sig-lead", "", true),
        ("no tree sha if sticky", "sig-lead", "Leads", false),
    ] {
        let plugins = plugins_yaml(false, true, false, sticky);
        let mut w = world(false, author, &plugins).await;
        w.comment("collab1", "org", "repo", 5, "/lgtm").await;
        assert!(has_lgtm(&w), "{name}");
        let found = w
            .bot_comments("org", "repo", 5)
            .iter()
            .any(|b| b.starts_with(LGTM_COMMENT_PREFIX));
        assert_eq!(found, expect, "{name}");
    }
}

#[tokio::test]
async fn help_lists_config_per_repo() {
    let cfg: prow_config::PluginsConfig = serde_saphyr::from_str(
        "lgtm:\n- repos: [org/repo]\n  review_acts_as_lgtm: true\n  store_tree_hash: true\n  trusted_team_for_sticky_lgtm: Leads\n",
    )
    .expect("yaml");
    let h = LgtmPlugin.help(
        &cfg,
        &[
            prow_plugins::OrgRepo::parse("org/repo"),
            prow_plugins::OrgRepo::parse("org/other"),
        ],
    );
    assert_eq!(
        h.config.get("org/repo").map(String::as_str),
        Some(
            "The plugin has the following configuration:<ul>\n<li>Reviews of \"approve\" or \"request changes\" act as adding or removing LGTM.</li>\n<li>Squashing commits does not remove LGTM.</li>\n<li>Commits from \"Leads\" do not remove LGTM.</li>\n</ul>"
        )
    );
    assert!(!h.config.contains_key("org/other"));
}
