//! Ports of Prow's tests for `wip`, `lifecycle`, `help`, `assign` and `size`.

use prow_github::events::PullRequestEvent;
use prow_github::{GitHub, User};
use prow_github_fake::NewPullRequest;
use prow_plugins::Plugin;
use prow_plugins::plugins::size::SizePlugin;
use prow_plugins::plugins::wip::WipPlugin;

use crate::world::{BOT, Spec, World, files};

async fn pr_event(w: &World, action: &str, number: u64) -> PullRequestEvent {
    let gh = w.gh(BOT);
    PullRequestEvent {
        action: action.into(),
        number,
        pull_request: gh
            .get_pull_request("org", "repo", number)
            .await
            .expect("PR"),
        repository: gh.get_repo("org", "repo").await.expect("repo"),
        sender: User::default(),
        ..Default::default()
    }
}

// ---- wip (wip-label_test.go) ----

#[tokio::test]
async fn wip_table() {
    const WIP: &str = "do-not-merge/work-in-progress";
    // (name, title, draft, has_label, want_label)
    let cases = [
        ("regular PR, need nothing", "title", false, false, false),
        (
            "wip title PR, needs label",
            "[WIP] title",
            false,
            false,
            true,
        ),
        ("draft PR, needs label", "title", true, false, true),
        ("regular PR, remove label", "title", false, true, false),
        (
            "wip title PR, nothing to do",
            "[WIP] title",
            false,
            true,
            true,
        ),
        ("draft PR, nothing to do", "title", true, true, true),
    ];
    for (name, title, draft, has, want) in cases {
        let labels = if has { format!("[{WIP}]") } else { "[]".into() };
        let seed = format!(
            "repos: [{{name: org/repo, files: {{a: b}}}}]\npull_requests: [{{repo: org/repo, number: 1, author: alice, title: '{title}', head: h, draft: {draft}, labels: {labels}, files: {{c: d}}}}]\n"
        );
        let w = World::new(Spec {
            seed: &seed,
            plugins: "plugins: {org: {plugins: [wip]}}\n",
            ..Default::default()
        })
        .await;
        for action in ["opened", "edited"] {
            let ev = pr_event(&w, action, 1).await;
            WipPlugin
                .handle_pull_request(&w.ctx(None), &ev)
                .await
                .expect("ok");
            assert_eq!(
                w.labels("org", "repo", 1).contains(&WIP.to_owned()),
                want,
                "{name} ({action})"
            );
        }
        // Other actions are ignored.
        let ev = pr_event(&w, "synchronize", 1).await;
        let ctx = w.ctx(None);
        WipPlugin.handle_pull_request(&ctx, &ev).await.expect("ok");
        assert!(!ctx.took_action(), "{name}: synchronize is ignored");
    }
}

#[tokio::test]
async fn wip_end_to_end_draft() {
    let mut w = World::new(Spec {
        seed: "repos: [{name: org/repo, files: {a: b}}]\n",
        plugins: "plugins: {org/repo: {plugins: [wip]}}\n",
        ..Default::default()
    })
    .await;
    let n = w
        .open_pr(
            "alice",
            "org",
            "repo",
            NewPullRequest {
                title: "WIP: thing".into(),
                base: "main".into(),
                head: "x".into(),
                files: files(&[("x", "y")]),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        w.labels("org", "repo", n),
        vec!["do-not-merge/work-in-progress"]
    );
}

// ---- lifecycle (close_test.go, reopen_test.go, lifecycle_test.go) ----

fn lifecycle_seed(closed: bool, labels: &str) -> String {
    format!(
        "repos: [{{name: org/repo, collaborators: [collaborator], files: {{a: b}}}}]\nissues: [{{repo: org/repo, number: 1, author: author, title: I, closed: {closed}, labels: {labels}}}]\npull_requests: [{{repo: org/repo, number: 2, author: author, title: P, head: h, labels: {labels}, files: {{c: d}}}}]\n"
    )
}

async fn lifecycle_world(closed: bool, labels: &str) -> World {
    World::new(Spec {
        seed: &lifecycle_seed(closed, labels),
        plugins: "plugins: {org: {plugins: [lifecycle]}}\n",
        ..Default::default()
    })
    .await
}

async fn issue_state(w: &World, n: u64) -> String {
    w.gh(BOT)
        .get_issue("org", "repo", n)
        .await
        .expect("issue")
        .state
}

#[tokio::test]
async fn close_table() {
    // (name, state, body, commenter, labels, should_close, reply contains)
    let cases: &[(&str, bool, &str, &str, &str, bool, Option<&str>)] = &[
        (
            "non-close comment",
            false,
            "uh oh",
            "random-person",
            "[]",
            false,
            None,
        ),
        (
            "close by author",
            false,
            "/close",
            "author",
            "[]",
            true,
            Some("Closing this issue."),
        ),
        (
            "close by author, trailing space",
            false,
            "/close \r",
            "author",
            "[]",
            true,
            Some("Closing this issue."),
        ),
        (
            "close by collaborator",
            false,
            "/close",
            "collaborator",
            "[]",
            true,
            Some("Closing this issue."),
        ),
        (
            "close by author on closed issue",
            true,
            "/close",
            "author",
            "[]",
            false,
            None,
        ),
        (
            "close by non-collaborator on active issue",
            false,
            "/close",
            "non-collaborator",
            "[]",
            false,
            Some(
                "You can't close an active issue/PR unless you authored it or you are a collaborator.",
            ),
        ),
        (
            "close by non-collaborator on stale issue",
            false,
            "/close",
            "non-collaborator",
            "[lifecycle/stale]",
            true,
            Some("Closing this issue."),
        ),
        (
            "close by non-collaborator on rotten issue",
            false,
            "/close",
            "non-collaborator",
            "[lifecycle/rotten]",
            true,
            Some("Closing this issue."),
        ),
        (
            "close by author as not planned",
            false,
            "/close not-planned",
            "author",
            "[]",
            true,
            Some("Closing this issue, marking it as \"Not Planned\"."),
        ),
    ];
    for (name, closed, body, who, labels, should_close, reply) in cases {
        let mut w = lifecycle_world(*closed, labels).await;
        w.comment(who, "org", "repo", 1, body).await;
        let state = issue_state(&w, 1).await;
        let want = if *should_close || *closed {
            "closed"
        } else {
            "open"
        };
        assert_eq!(state, want, "{name}");
        let bot = w.bot_comments("org", "repo", 1);
        match reply {
            None => assert!(bot.is_empty(), "{name}: {bot:?}"),
            Some(text) => {
                assert_eq!(bot.len(), 1, "{name}: {bot:?}");
                assert!(
                    bot[0].starts_with(&format!("@{who}: {text}")),
                    "{name}: {}",
                    bot[0]
                );
            }
        }
    }
}

#[tokio::test]
async fn close_pr_texts() {
    let mut w = lifecycle_world(false, "[]").await;
    w.comment("author", "org", "repo", 2, "/close not-planned")
        .await;
    assert_eq!(issue_state(&w, 2).await, "open");
    assert!(
        w.bot_comments("org", "repo", 2)[0]
            .starts_with("@author: PRs cannot be closed as Not Planned.")
    );
    w.comment("collaborator", "org", "repo", 2, "/close").await;
    assert_eq!(issue_state(&w, 2).await, "closed");
    assert!(w.bot_comments("org", "repo", 2)[1].starts_with("@collaborator: Closed this PR."));
    w.comment("author", "org", "repo", 2, "/reopen").await;
    assert_eq!(issue_state(&w, 2).await, "open");
    assert!(w.bot_comments("org", "repo", 2)[2].starts_with("@author: Reopened this PR."));
}

#[tokio::test]
async fn reopen_table() {
    // (name, closed, body, commenter, should_reopen, reply)
    let cases: &[(&str, bool, &str, &str, bool, Option<&str>)] = &[
        (
            "non-open comment",
            true,
            "does this work",
            "random-person",
            false,
            None,
        ),
        (
            "re-open by author",
            true,
            "/reopen",
            "author",
            true,
            Some("Reopened this issue."),
        ),
        (
            "re-open by author, trailing space",
            true,
            "/reopen \r",
            "author",
            true,
            Some("Reopened this issue."),
        ),
        (
            "re-open by collaborator",
            true,
            "/reopen",
            "collaborator",
            true,
            Some("Reopened this issue."),
        ),
        (
            "re-open on open issue",
            false,
            "/reopen",
            "author",
            false,
            None,
        ),
        (
            "re-open by non-collaborator, cannot reopen",
            true,
            "/reopen",
            "non-collaborator",
            false,
            Some("You can't reopen an issue/PR unless you authored it or you are a collaborator."),
        ),
    ];
    for (name, closed, body, who, reopen, reply) in cases {
        let mut w = lifecycle_world(*closed, "[]").await;
        w.comment(who, "org", "repo", 1, body).await;
        let want = if *reopen || !*closed {
            "open"
        } else {
            "closed"
        };
        assert_eq!(issue_state(&w, 1).await, want, "{name}");
        let bot = w.bot_comments("org", "repo", 1);
        match reply {
            None => assert!(bot.is_empty(), "{name}: {bot:?}"),
            Some(text) => assert!(
                bot.len() == 1 && bot[0].starts_with(&format!("@{who}: {text}")),
                "{name}: {bot:?}"
            ),
        }
    }
}

#[tokio::test]
async fn lifecycle_label_table() {
    // (name, body, is_pr, labels, want labels, reply)
    let cases: &[(&str, &str, bool, &str, &[&str], bool)] = &[
        ("random command", "/random-command", false, "[]", &[], false),
        (
            "remove lifecycle but don't specify state",
            "/remove-lifecycle",
            false,
            "[]",
            &[],
            false,
        ),
        (
            "add lifecycle but don't specify state",
            "/lifecycle",
            false,
            "[]",
            &[],
            false,
        ),
        (
            "add lifecycle random",
            "/lifecycle random",
            false,
            "[]",
            &[],
            false,
        ),
        (
            "remove lifecycle nothing",
            "/remove-lifecycle frozen",
            false,
            "[]",
            &[],
            false,
        ),
        (
            "add lifecycle to empty",
            "/lifecycle frozen",
            false,
            "[]",
            &["lifecycle/frozen"],
            false,
        ),
        (
            "add lifecycle to empty, trailing space",
            "/lifecycle frozen \r",
            false,
            "[]",
            &["lifecycle/frozen"],
            false,
        ),
        (
            "add frozen to PR is refused",
            "/lifecycle frozen",
            true,
            "[]",
            &[],
            true,
        ),
        (
            "add stale to PR",
            "/lifecycle stale",
            true,
            "[]",
            &["lifecycle/stale"],
            false,
        ),
        (
            "add lifecycle to non-empty",
            "/lifecycle active",
            false,
            "[kind/bug]",
            &["kind/bug", "lifecycle/active"],
            false,
        ),
        (
            "add lifecycle to already present",
            "/lifecycle frozen",
            false,
            "[lifecycle/frozen]",
            &["lifecycle/frozen"],
            false,
        ),
        (
            "add lifecycle removes others",
            "/lifecycle rotten",
            false,
            "[lifecycle/frozen, lifecycle/stale]",
            &["lifecycle/rotten"],
            false,
        ),
        (
            "remove lifecycle",
            "/remove-lifecycle frozen",
            false,
            "[lifecycle/frozen]",
            &[],
            false,
        ),
        (
            "remove lifecycle, trailing space",
            "/remove-lifecycle frozen \r",
            false,
            "[lifecycle/frozen]",
            &[],
            false,
        ),
        (
            "add and remove",
            "/lifecycle rotten\n/remove-lifecycle frozen",
            false,
            "[lifecycle/frozen]",
            &["lifecycle/rotten"],
            false,
        ),
    ];
    for (name, body, is_pr, labels, want, reply) in cases {
        let mut w = lifecycle_world(false, labels).await;
        let n = if *is_pr { 2 } else { 1 };
        w.comment("someone", "org", "repo", n, body).await;
        let want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(w.labels("org", "repo", n), want, "{name}");
        let bot = w.bot_comments("org", "repo", n);
        assert_eq!(!bot.is_empty(), *reply, "{name}: {bot:?}");
        if *reply {
            assert!(
                bot[0].starts_with(
                    "@someone: The `lifecycle/frozen` label cannot be applied to Pull Requests."
                ),
                "{}",
                bot[0]
            );
        }
    }
}

// ---- help (help_test.go) ----

#[tokio::test]
async fn help_table() {
    const HELP: &str = "help wanted";
    const GFI: &str = "good first issue";
    // (name, body, is_pr, closed, labels, want labels)
    let cases: &[(&str, &str, bool, bool, &[&str], &[&str])] = &[
        (
            "ignore an unrelated comment",
            "irrelelvant",
            false,
            false,
            &[],
            &[],
        ),
        ("ignore a PR", "/help", true, false, &[], &[]),
        ("ignore a closed issue", "/help", false, true, &[], &[]),
        ("want help", "/help", false, false, &[], &[HELP]),
        (
            "want help, already have it",
            "/help",
            false,
            false,
            &[HELP],
            &[HELP],
        ),
        (
            "remove help, have it",
            "/remove-help",
            false,
            false,
            &[HELP],
            &[],
        ),
        (
            "remove help, don't have it",
            "/remove-help",
            false,
            false,
            &[],
            &[],
        ),
        (
            "remove help and good first issue",
            "/remove-help",
            false,
            false,
            &[HELP, GFI],
            &[],
        ),
        (
            "add good first issue and help",
            "/good-first-issue",
            false,
            false,
            &[],
            &[GFI, HELP],
        ),
        (
            "add good first issue, have help",
            "/good-first-issue",
            false,
            false,
            &[HELP],
            &[GFI, HELP],
        ),
        (
            "add good first issue, have both",
            "/good-first-issue",
            false,
            false,
            &[HELP, GFI],
            &[GFI, HELP],
        ),
        (
            "remove good first issue, have both",
            "/remove-good-first-issue",
            false,
            false,
            &[HELP, GFI],
            &[HELP],
        ),
        (
            "remove good first issue, have it",
            "/remove-good-first-issue",
            false,
            false,
            &[GFI],
            &[],
        ),
        (
            "remove good first issue, have help only",
            "/remove-good-first-issue",
            false,
            false,
            &[HELP],
            &[HELP],
        ),
        (
            "remove good first issue, have none",
            "/remove-good-first-issue",
            false,
            false,
            &[],
            &[],
        ),
    ];
    for (name, body, is_pr, closed, labels, want) in cases {
        let l = format!("[{}]", labels.join(", "));
        let seed = format!(
            "repos: [{{name: org/repo, labels: ['{HELP}', '{GFI}'], files: {{a: b}}}}]\nissues: [{{repo: org/repo, number: 1, author: author, title: I, closed: {closed}, labels: {l}}}]\npull_requests: [{{repo: org/repo, number: 2, author: author, title: P, head: h, labels: {l}, files: {{c: d}}}}]\n"
        );
        let mut w = World::new(Spec {
            seed: &seed,
            plugins: "plugins: {org: {plugins: [help]}}\n",
            ..Default::default()
        })
        .await;
        let n = if *is_pr { 2 } else { 1 };
        w.comment("someone", "org", "repo", n, body).await;
        let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(w.labels("org", "repo", n), want, "{name}");
    }
}

#[tokio::test]
async fn help_comment_texts_and_pruning() {
    let mut w = World::new(Spec {
        seed: "repos: [{name: org/repo, files: {a: b}}]\nissues: [{repo: org/repo, number: 1, author: author, title: I}]\n",
        plugins: "plugins: {org: {plugins: [help]}}\nhelp:\n  help_guidelines_summary: 'Be nice.'\n",
        ..Default::default()
    })
    .await;
    w.comment("someone", "org", "repo", 1, "/good-first-issue")
        .await;
    let bot = w.bot_comments("org", "repo", 1);
    assert_eq!(bot.len(), 1);
    assert!(bot[0].starts_with("@someone: \n\tThis request has been marked as suitable for new contributors.\n\n### Guidelines\nBe nice.\n\nFor more details on the requirements of such an issue, please see [here](https://git.k8s.io/community/contributors/guide/help-wanted.md#good-first-issue) and ensure that they are met.\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-good-first-issue` command.\n\n\n<details>\n\nIn response to [this]("), "{}", bot[0]);
    w.comment("someone", "org", "repo", 1, "/remove-help").await;
    assert!(w.labels("org", "repo", 1).is_empty());
    assert!(
        w.bot_comments("org", "repo", 1).is_empty(),
        "guideline comments are pruned"
    );
}

// ---- assign (assign_test.go) ----

#[tokio::test]
async fn assign_table() {
    // (name, body, commenter, initial assignees, want assignees, comment)
    let cases: &[(&str, &str, &str, &[&str], &[&str], bool)] = &[
        ("unrelated comment", "uh oh", "o", &[], &[], false),
        ("assign me", "/assign", "rando", &[], &["rando"], false),
        (
            "unassign myself",
            "/unassign",
            "rando",
            &["rando"],
            &[],
            false,
        ),
        (
            "tab completion",
            "/assign @fejta ",
            "rando",
            &[],
            &["fejta"],
            false,
        ),
        (
            "no @ works too",
            "/assign fejta",
            "rando",
            &[],
            &["fejta"],
            false,
        ),
        (
            "multi commands",
            "/assign @fejta\n/unassign @spxtr",
            "rando",
            &["spxtr"],
            &["fejta"],
            false,
        ),
        (
            "interesting names",
            "/assign @hello-world @allow_underscore",
            "rando",
            &[],
            &["allow_underscore", "hello-world"],
            false,
        ),
        (
            "bad login",
            "/assign @Invalid$User",
            "rando",
            &[],
            &[],
            false,
        ),
        (
            "bad login, no @",
            "/assign Invalid$User",
            "rando",
            &[],
            &[],
            false,
        ),
        (
            "assign friends",
            "/assign @bert @ernie",
            "rando",
            &[],
            &["bert", "ernie"],
            false,
        ),
        (
            "unassign buddies",
            "/unassign @ashitaka @eboshi",
            "san",
            &["ashitaka", "eboshi"],
            &[],
            false,
        ),
        (
            "unassign buddies, trailing space",
            "/unassign @ashitaka @eboshi \r",
            "san",
            &["ashitaka", "eboshi"],
            &[],
            false,
        ),
        (
            "evil commenter",
            "/assign @merlin",
            "evil",
            &[],
            &["merlin"],
            false,
        ),
        (
            "evil commenter self assign",
            "/assign",
            "evil",
            &[],
            &[],
            true,
        ),
        (
            "evil assignee",
            "/assign @evil @evil @evil @evil @merlin",
            "innocent",
            &[],
            &["merlin"],
            true,
        ),
        (
            "evil unassignee",
            "/unassign @evil @merlin",
            "innocent",
            &["merlin"],
            &[],
            false,
        ),
    ];
    let collabs = "[rando, fejta, spxtr, hello-world, allow_underscore, bert, ernie, ashitaka, eboshi, merlin, san, innocent]";
    for (name, body, who, initial, want, comment) in cases {
        let seed = format!(
            "repos: [{{name: org/repo, collaborators: {collabs}, files: {{a: b}}}}]\nissues: [{{repo: org/repo, number: 1, author: author, title: I, assignees: [{}]}}]\n",
            initial.join(", ")
        );
        let mut w = World::new(Spec {
            seed: &seed,
            plugins: "plugins: {org: {plugins: [assign]}}\n",
            ..Default::default()
        })
        .await;
        w.comment(who, "org", "repo", 1, body).await;
        let mut got: Vec<String> = w
            .gh(BOT)
            .get_issue("org", "repo", 1)
            .await
            .expect("issue")
            .assignees
            .into_iter()
            .map(|u| u.login)
            .collect();
        got.sort();
        assert_eq!(
            got,
            want.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            "{name}"
        );
        let bot = w.bot_comments("org", "repo", 1);
        assert_eq!(!bot.is_empty(), *comment, "{name}: {bot:?}");
        if *comment {
            assert!(bot[0].starts_with(&format!("@{who}: GitHub didn't allow me to assign the following users: evil.\n\nNote that only [org members](https://github.com/orgs/org/people) with read permissions, repo collaborators and people who have commented on this issue/PR can be assigned.")), "{}", bot[0]);
        }
    }
}

#[tokio::test]
async fn cc_table() {
    // (name, body, commenter, initially requested, want requested, comment)
    let cases: &[(&str, &str, &str, &[&str], &[&str], bool)] = &[
        (
            "review on open",
            "/cc @merlin",
            "rando",
            &[],
            &["merlin"],
            false,
        ),
        (
            "tab completion",
            "/cc @cjwagner ",
            "rando",
            &[],
            &["cjwagner"],
            false,
        ),
        (
            "no @ works too",
            "/cc cjwagner ",
            "rando",
            &[],
            &["cjwagner"],
            false,
        ),
        (
            "multi commands",
            "/cc @cjwagner\n/uncc @spxtr",
            "rando",
            &["spxtr"],
            &["cjwagner"],
            false,
        ),
        (
            "interesting names",
            "/cc @hello-world @allow_underscore",
            "rando",
            &[],
            &["allow_underscore", "hello-world"],
            false,
        ),
        ("bad login", "/cc @Invalid$User", "rando", &[], &[], false),
        (
            "request multiple",
            "/cc @cjwagner @merlin",
            "rando",
            &[],
            &["cjwagner", "merlin"],
            false,
        ),
        (
            "unrequest buddies",
            "/uncc @ashitaka @eboshi",
            "san",
            &["ashitaka", "eboshi"],
            &[],
            false,
        ),
        (
            "evil reviewer requested",
            "/cc @evil @merlin",
            "innocent",
            &[],
            &["merlin"],
            true,
        ),
    ];
    let collabs = "[rando, cjwagner, spxtr, hello-world, allow_underscore, merlin, ashitaka, eboshi, san, innocent]";
    for (name, body, who, initial, want, comment) in cases {
        let seed = format!(
            "orgs: [{{login: org, teams: [{{slug: reviewers, members: [merlin]}}]}}]\nrepos: [{{name: org/repo, collaborators: {collabs}, files: {{a: b}}}}]\npull_requests: [{{repo: org/repo, number: 1, author: author, title: P, head: h, files: {{c: d}}}}]\n"
        );
        let mut w = World::new(Spec {
            seed: &seed,
            plugins: "plugins: {org: {plugins: [assign]}}\n",
            ..Default::default()
        })
        .await;
        if !initial.is_empty() {
            let initial: Vec<String> = initial.iter().map(|s| (*s).to_owned()).collect();
            w.gh(BOT)
                .request_review("org", "repo", 1, &initial)
                .await
                .expect("request");
            w.discard_events();
        }
        w.comment(who, "org", "repo", 1, body).await;
        let mut got: Vec<String> = w
            .fake
            .pull_request("org", "repo", 1)
            .expect("PR")
            .requested_reviewers
            .into_iter()
            .map(|u| u.login)
            .collect();
        got.sort();
        assert_eq!(
            got,
            want.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            "{name}"
        );
        let bot = w.bot_comments("org", "repo", 1);
        assert_eq!(!bot.is_empty(), *comment, "{name}: {bot:?}");
        if *comment {
            assert!(bot[0].starts_with(&format!("@{who}: GitHub didn't allow me to request PR reviews from the following users: evil.\n\nNote that only [org members](https://github.com/orgs/org/people) and repo collaborators can review this PR, and authors cannot review their own PRs.")), "{}", bot[0]);
        }
    }
}

// ---- size (size_test.go) ----

fn lines(n: usize) -> String {
    (0..n).map(|i| format!("line {i}\n")).collect()
}

#[tokio::test]
async fn size_table() {
    struct Case {
        name: &'static str,
        base_files: Vec<(&'static str, String)>,
        pr_files: Vec<(&'static str, String)>,
        initial: &'static str,
        action: &'static str,
        sizes: &'static str,
        want: &'static [&'static str],
    }
    let cases = vec![
        Case {
            name: "simple size/S, no .generated_files",
            base_files: vec![],
            pr_files: vec![("foobar", lines(5)), ("barfoo", lines(5))],
            initial: "[]",
            action: "opened",
            sizes: "",
            want: &["size/S"],
        },
        Case {
            name: "simple size/M, with .generated_files",
            base_files: vec![(".generated_files", "path-prefix generated\n".into())],
            pr_files: vec![
                ("foobar", lines(10)),
                ("barfoo", lines(20)),
                ("generated/what.txt", lines(30)),
                ("generated/my/file.txt", lines(300)),
            ],
            initial: "[]",
            action: "opened",
            sizes: "",
            want: &["size/M"],
        },
        Case {
            name: "simple size/M, with .gitattributes",
            base_files: vec![(
                ".gitattributes",
                "# comment\n\ngenerated/**/*.txt linguist-generated=true\n".into(),
            )],
            pr_files: vec![
                ("foobar", lines(10)),
                ("barfoo", lines(20)),
                ("generated/what.txt", lines(30)),
                ("generated/my/file.txt", lines(300)),
            ],
            initial: "[]",
            action: "opened",
            sizes: "",
            want: &["size/M"],
        },
        Case {
            name: "simple size/XS, with .generated_files and paths-from-repo",
            base_files: vec![
                (
                    ".generated_files",
                    "# Comments\nfile-name foobar\n\npath-from-repo-typo x\n".into(),
                ),
                ("docs/.generated_docs", "mypath1\nmydir/mypath2\n".into()),
            ],
            pr_files: vec![("foobar", lines(10)), ("barfoo", lines(2))],
            initial: "[]",
            action: "opened",
            sizes: "",
            // The bad line stops parsing; rules before it still apply (Prow logs and continues).
            want: &["size/XS"],
        },
        Case {
            name: "paths-from-repo",
            base_files: vec![
                (
                    ".generated_files",
                    "paths-from-repo docs/.generated_docs\n".into(),
                ),
                (
                    "docs/.generated_docs",
                    "# Comments\nmypath1\nmydir/mypath3\n".into(),
                ),
            ],
            pr_files: vec![
                ("foobar", lines(5)),
                ("mypath1", lines(300)),
                ("mydir/mypath3", lines(300)),
            ],
            initial: "[]",
            action: "synchronize",
            sizes: "",
            want: &["size/XS"],
        },
        Case {
            name: "pr closed event",
            base_files: vec![],
            pr_files: vec![("foobar", lines(50))],
            initial: "[]",
            action: "closed",
            sizes: "",
            want: &[],
        },
        Case {
            name: "XS -> S transition",
            base_files: vec![],
            pr_files: vec![("foobar", lines(10)), ("barfoo", lines(5))],
            initial: "[size/XS]",
            action: "synchronize",
            sizes: "",
            want: &["size/S"],
        },
        Case {
            name: "pull request reopened",
            base_files: vec![],
            pr_files: vec![("foobar", lines(10)), ("barfoo", lines(5))],
            initial: "[]",
            action: "reopened",
            sizes: "",
            want: &["size/S"],
        },
        Case {
            name: "pull request edited",
            base_files: vec![],
            pr_files: vec![("foobar", lines(30))],
            initial: "[size/XS]",
            action: "edited",
            sizes: "",
            want: &["size/M"],
        },
        Case {
            name: "different label constraints",
            base_files: vec![],
            pr_files: vec![("foobar", lines(15)), ("barfoo", lines(5))],
            initial: "[]",
            action: "opened",
            sizes: "size: {s: 12, m: 15, l: 17, xl: 19, xxl: 20}\n",
            want: &["size/XXL"],
        },
    ];
    for c in cases {
        let base: String = c
            .base_files
            .iter()
            .map(|(p, t)| format!("{p}: {t:?}, "))
            .collect();
        let pr: String = c
            .pr_files
            .iter()
            .map(|(p, t)| format!("{p}: {t:?}, "))
            .collect();
        let seed = format!(
            "repos: [{{name: org/repo, files: {{README.md: x, {base}}}}}]\npull_requests: [{{repo: org/repo, number: 1, author: alice, title: P, head: h, labels: {}, files: {{{pr}}}}}]\n",
            c.initial
        );
        let plugins = format!("plugins: {{org: {{plugins: [size]}}}}\n{}", c.sizes);
        let w = World::new(Spec {
            seed: &seed,
            plugins: &plugins,
            ..Default::default()
        })
        .await;
        let ev = pr_event(&w, c.action, 1).await;
        SizePlugin
            .handle_pull_request(&w.ctx(None), &ev)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let want: Vec<String> = c.want.iter().map(|s| (*s).to_owned()).collect();
        let want = if c.action == "closed" {
            // Closed events do nothing: the initial labels stay.
            w.labels("org", "repo", 1)
        } else {
            want
        };
        assert_eq!(w.labels("org", "repo", 1), want, "{}", c.name);
    }
}
