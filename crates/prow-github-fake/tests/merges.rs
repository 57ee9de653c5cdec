//! Real git behind pull requests: merges, squashes, rebases, conflicts, moved heads, pushes.

mod common;

use std::collections::BTreeMap;

use prow_github::events::{Event, parse};
use prow_github::{GitHub, GitHubError, MergeDetails};
use prow_github_fake::{FakeGitHub, NewPullRequest};

const O: &str = "acme";
const R: &str = "widgets";

fn files(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.map(str::to_owned)))
        .collect()
}

fn pr(title: &str, head: &str, changes: &[(&str, Option<&str>)]) -> NewPullRequest {
    NewPullRequest {
        title: title.into(),
        body: format!("{title} body"),
        base: "main".into(),
        head: head.into(),
        draft: false,
        files: files(changes),
    }
}

fn method(m: &str) -> MergeDetails {
    MergeDetails {
        merge_method: Some(m.into()),
        ..MergeDetails::default()
    }
}

#[tokio::test]
async fn merge_commit_moves_base_and_closes_the_pull_request() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let bot = fake.client("prow-bot");
    let old_main = fake.branch_sha(O, R, "main").unwrap();
    let head = fake.pull_request(O, R, 2).unwrap().head.sha;

    bot.merge_pull_request(
        O,
        R,
        2,
        &MergeDetails {
            sha: Some(head.clone()),
            ..method("merge")
        },
    )
    .await
    .expect("merge");

    let new_main = fake.branch_sha(O, R, "main").unwrap();
    assert_ne!(new_main, old_main);
    let commit = bot.get_single_commit(O, R, &new_main).await.unwrap();
    let parents: Vec<&str> = commit.parents.iter().map(|p| p.sha.as_str()).collect();
    assert_eq!(parents, vec![old_main.as_str(), head.as_str()]);
    assert!(
        commit
            .commit
            .message
            .starts_with("Merge pull request #2 from acme/shiny")
    );
    assert_eq!(commit.commit.committer.name, "GitHub");
    // The PR's content is now on main.
    let widget = String::from_utf8(
        bot.get_file(O, R, "src/widget.go", Some("main"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(widget.contains("shiny widget"));
    assert_eq!(
        bot.get_file(O, R, "docs/shiny.md", None).await.unwrap(),
        b"Shiny!\n"
    );

    let merged = fake.pull_request(O, R, 2).unwrap();
    assert!(merged.merged);
    assert_eq!(merged.state, "closed");
    assert_eq!(merged.merge_commit_sha.as_deref(), Some(new_main.as_str()));
    assert_eq!(merged.mergeable, None);
    // A merged PR keeps describing what it changed.
    assert_eq!(
        (
            merged.base.sha.as_str(),
            merged.commits,
            merged.changed_files
        ),
        (old_main.as_str(), 1, 2)
    );
    assert!(bot.list_open_pull_requests(O, R).await.unwrap().is_empty());
    assert!(matches!(
        bot.merge_pull_request(O, R, 2, &method("merge")).await,
        Err(GitHubError::UnmergeablePr(_))
    ));
    // The author is a contributor now.
    assert_eq!(
        bot.get_issue(O, R, 2).await.unwrap().author_association,
        "CONTRIBUTOR"
    );

    let deliveries = common::drain(&mut rx);
    assert_eq!(
        common::kinds(&deliveries),
        vec![
            ("push".into(), String::new()),
            ("pull_request".into(), "closed".into())
        ]
    );
    let Event::Push(push) = parse("push", &deliveries[0].body).unwrap() else {
        panic!()
    };
    assert_eq!(
        (push.before.as_str(), push.after.as_str()),
        (old_main.as_str(), new_main.as_str())
    );
    assert_eq!(push.git_ref, "refs/heads/main");
    assert!(!push.forced && !push.created);
    assert_eq!(push.sender.login, "prow-bot");
    let ids: Vec<&str> = push.commits.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec![head.as_str(), new_main.as_str()]);
    assert_eq!(
        push.head_commit.as_ref().map(|c| c.id.as_str()),
        Some(new_main.as_str())
    );
    let Event::PullRequest(closed) = parse("pull_request", &deliveries[1].body).unwrap() else {
        panic!()
    };
    assert!(closed.pull_request.merged);
    assert_eq!(closed.number, 2);
}

#[tokio::test]
async fn conflicting_pull_requests_are_not_mergeable() {
    let fake = common::example();
    let bot = fake.client("prow-bot");
    let a = fake
        .open_pull_request(
            "alice",
            O,
            R,
            pr(
                "Readme A",
                "readme-a",
                &[("README.md", Some("# widgets\nVersion A\n"))],
            ),
        )
        .unwrap();
    let b = fake
        .open_pull_request(
            "bob",
            O,
            R,
            pr(
                "Readme B",
                "readme-b",
                &[("README.md", Some("# widgets\nVersion B\n"))],
            ),
        )
        .unwrap();
    assert_eq!((a, b), (3, 4));
    assert_eq!(
        fake.pull_request(O, R, b).unwrap().mergeable,
        Some(true),
        "conflicts only appear once A lands"
    );
    bot.merge_pull_request(O, R, a, &method("merge"))
        .await
        .expect("merge A");
    let pr_b = bot.get_pull_request(O, R, b).await.unwrap();
    assert_eq!(pr_b.mergeable, Some(false));
    assert_eq!(pr_b.mergeable_state.as_deref(), Some("dirty"));
    let before = fake.branch_sha(O, R, "main");
    assert!(matches!(
        bot.merge_pull_request(O, R, b, &method("squash")).await,
        Err(GitHubError::UnmergeablePr(_))
    ));
    assert_eq!(
        fake.branch_sha(O, R, "main"),
        before,
        "a refused merge changes nothing"
    );
    // PR 2 touches other files and still merges on top.
    bot.merge_pull_request(O, R, 2, &method("merge"))
        .await
        .expect("merge 2");
}

#[tokio::test]
async fn moved_head_is_refused_until_the_new_sha_is_given() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let bot = fake.client("prow-bot");
    let old_head = fake.pull_request(O, R, 2).unwrap().head.sha;
    let new_head = fake
        .push_files(
            "dave",
            O,
            R,
            "shiny",
            files(&[
                ("docs/shiny.md", Some("Shinier!\n")),
                ("src/extra.go", Some("package widgets\n")),
            ]),
            "More shine",
        )
        .unwrap();
    assert_eq!(fake.pull_request(O, R, 2).unwrap().head.sha, new_head);

    let deliveries = common::drain(&mut rx);
    assert_eq!(
        common::kinds(&deliveries),
        vec![
            ("push".into(), String::new()),
            ("pull_request".into(), "synchronize".into())
        ]
    );
    let Event::Push(push) = parse("push", &deliveries[0].body).unwrap() else {
        panic!()
    };
    assert_eq!(push.branch(), Some("shiny"));
    assert_eq!(push.commits.len(), 1);
    assert_eq!(push.commits[0].added, vec!["src/extra.go"]);
    assert_eq!(push.commits[0].modified, vec!["docs/shiny.md"]);
    assert_eq!(push.commits[0].author.username.as_deref(), Some("dave"));
    let Event::PullRequest(sync) = parse("pull_request", &deliveries[1].body).unwrap() else {
        panic!()
    };
    assert_eq!(
        (sync.before.as_deref(), sync.after.as_deref()),
        (Some(old_head.as_str()), Some(new_head.as_str()))
    );
    assert_eq!(sync.pull_request.head.sha, new_head);
    assert_eq!(sync.pull_request.commits, 2);

    let stale = MergeDetails {
        sha: Some(old_head),
        ..method("merge")
    };
    assert!(matches!(
        bot.merge_pull_request(O, R, 2, &stale).await,
        Err(GitHubError::ModifiedHead(_))
    ));
    let fresh = MergeDetails {
        sha: Some(new_head),
        ..method("merge")
    };
    bot.merge_pull_request(O, R, 2, &fresh)
        .await
        .expect("merge with current sha");
    let changes = bot.get_pull_request_changes(O, R, 2).await.unwrap();
    assert_eq!(changes.len(), 3);
}

#[tokio::test]
async fn squash_makes_one_single_parent_commit() {
    let fake = common::example();
    let bot = fake.client("prow-bot");
    fake.push_files(
        "dave",
        O,
        R,
        "shiny",
        files(&[("second.txt", Some("2\n"))]),
        "Second commit",
    )
    .unwrap();
    let old_main = fake.branch_sha(O, R, "main").unwrap();
    bot.merge_pull_request(O, R, 2, &method("squash"))
        .await
        .expect("squash");
    let new_main = fake.branch_sha(O, R, "main").unwrap();
    let commit = bot.get_single_commit(O, R, &new_main).await.unwrap();
    assert_eq!(
        commit
            .parents
            .iter()
            .map(|p| p.sha.as_str())
            .collect::<Vec<_>>(),
        vec![old_main.as_str()]
    );
    assert!(
        commit
            .commit
            .message
            .starts_with("Make widgets shinier (#2)\n\n* Make widgets shinier")
    );
    assert!(commit.commit.message.contains("* Second commit"));
    assert_eq!(
        commit.commit.author.name, "dave",
        "squash commits are authored by the PR author"
    );
    let names: Vec<&str> = commit.files.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(names, vec!["docs/shiny.md", "second.txt", "src/widget.go"]);
}

#[tokio::test]
async fn rebase_replays_each_commit_linearly() {
    let fake = common::example();
    let bot = fake.client("prow-bot");
    fake.push_files(
        "dave",
        O,
        R,
        "shiny",
        files(&[("second.txt", Some("2\n"))]),
        "Second commit",
    )
    .unwrap();
    // Move main so the rebase is not a fast-forward.
    fake.push_files(
        "alice",
        O,
        R,
        "main",
        files(&[("NEWS", Some("news\n"))]),
        "News",
    )
    .unwrap();
    let old_main = fake.branch_sha(O, R, "main").unwrap();
    bot.merge_pull_request(O, R, 2, &method("rebase"))
        .await
        .expect("rebase");
    let tip = bot.get_single_commit(O, R, "main").await.unwrap();
    assert_eq!(tip.commit.message, "Second commit");
    assert_eq!(tip.commit.author.name, "dave");
    assert_eq!(tip.commit.committer.name, "GitHub");
    let first = bot
        .get_single_commit(O, R, &tip.parents[0].sha)
        .await
        .unwrap();
    assert_eq!(first.commit.message, "Make widgets shinier");
    assert_eq!(
        first
            .parents
            .iter()
            .map(|p| p.sha.as_str())
            .collect::<Vec<_>>(),
        vec![old_main.as_str()]
    );
    assert_eq!(bot.get_file(O, R, "NEWS", None).await.unwrap(), b"news\n");
    assert_eq!(
        bot.get_file(O, R, "second.txt", None).await.unwrap(),
        b"2\n"
    );
}

#[tokio::test]
async fn merge_rules_of_the_repository_apply() {
    let fake = FakeGitHub::from_seed_yaml(
        "users: [{login: bot, type: Bot}]\n\
         repos: [{name: o/r, allow_rebase_merge: false, files: {a: \"1\\n\"}}]\n\
         pull_requests:\n\
         - {repo: o/r, author: x, title: T, head: h, files: {b: \"2\\n\"}}\n\
         - {repo: o/r, author: x, title: D, head: d, draft: true, files: {c: \"3\\n\"}}",
    )
    .unwrap();
    let bot = fake.client("bot");
    assert!(
        matches!(bot.merge_pull_request("o", "r", 1, &method("rebase")).await, Err(GitHubError::UnmergeablePr(m)) if m.contains("Rebase"))
    );
    assert!(matches!(
        bot.merge_pull_request("o", "r", 1, &method("octopus"))
            .await,
        Err(GitHubError::Unprocessable(_))
    ));
    assert!(
        matches!(bot.merge_pull_request("o", "r", 2, &method("merge")).await, Err(GitHubError::UnmergeablePr(m)) if m.contains("draft"))
    );
    assert!(matches!(
        fake.client("x")
            .merge_pull_request("o", "r", 1, &method("merge"))
            .await,
        Err(GitHubError::Forbidden(_))
    ));
    bot.merge_pull_request("o", "r", 1, &MergeDetails::default())
        .await
        .expect("default method is merge");
    assert_eq!(
        bot.get_single_commit("o", "r", "main")
            .await
            .unwrap()
            .parents
            .len(),
        2
    );
}

#[tokio::test]
async fn opening_a_pull_request_pushes_then_opens() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let n = fake
        .open_pull_request(
            "carol",
            O,
            R,
            pr(
                "Add docs",
                "docs",
                &[("docs/index.md", Some("Docs\n")), ("README.md", None)],
            ),
        )
        .unwrap();
    let deliveries = common::drain(&mut rx);
    assert_eq!(
        common::kinds(&deliveries),
        vec![
            ("push".into(), String::new()),
            ("pull_request".into(), "opened".into())
        ]
    );
    let Event::Push(push) = parse("push", &deliveries[0].body).unwrap() else {
        panic!()
    };
    assert!(push.created);
    assert_eq!(push.commits[0].removed, vec!["README.md"]);
    let Event::PullRequest(opened) = parse("pull_request", &deliveries[1].body).unwrap() else {
        panic!()
    };
    assert_eq!(opened.number, n);
    assert_eq!(opened.pull_request.user.login, "carol");
    assert_eq!(opened.pull_request.author_association, "COLLABORATOR");
    assert_eq!(opened.pull_request.body.as_deref(), Some("Add docs body"));
    let statuses: Vec<String> = fake
        .client("carol")
        .get_pull_request_changes(O, R, n)
        .await
        .unwrap()
        .into_iter()
        .map(|c| format!("{}:{}", c.filename, c.status))
        .collect();
    assert_eq!(statuses, vec!["README.md:removed", "docs/index.md:added"]);

    // The same head and base cannot have two open pull requests, and empty ones are refused.
    assert!(matches!(
        fake.open_pull_request("carol", O, R, pr("Again", "docs", &[])),
        Err(GitHubError::Unprocessable(_))
    ));
    assert!(
        matches!(fake.open_pull_request("carol", O, R, pr("Empty", "empty", &[])), Err(GitHubError::Unprocessable(m)) if m.contains("No commits"))
    );
}
