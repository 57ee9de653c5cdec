//! Reads are answered from the in-memory ref map and object caches; these tests warm every cache
//! first, then change the repository (push, merge, ref create/delete) and check that the next
//! answers follow, comparing with what `git` itself says about the bare repository.

use std::collections::BTreeMap;
use std::process::Command;

use prow_github::{GitHub, GitHubError, MergeDetails};
use prow_github_fake::{FakeGitHub, NewPullRequest};

const O: &str = "acme";
const R: &str = "widgets";

const SEED: &str = r#"
users: [{login: bot, type: Bot}]
orgs: [{login: acme, members: [alice]}]
repos:
  - name: acme/widgets
    files: {README.md: "one\ntwo\nthree\n", src/a.go: "package a\n"}
pull_requests:
  - {repo: acme/widgets, number: 1, author: alice, title: Fix, head: fix, files: {src/a.go: "package a // fixed\n"}}
"#;

fn files(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.map(str::to_owned)))
        .collect()
}

/// Every ref of the bare repository according to git itself (`for-each-ref`).
fn git_refs(fake: &FakeGitHub) -> BTreeMap<String, String> {
    let dir = fake.git_dir(O, R).expect("git dir");
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(&dir)
        .args(["for-each-ref", "--format=%(refname) %(objectname)", "refs/"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(out.status.success(), "for-each-ref failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, s)| (n.to_owned(), s.to_owned()))
        .collect()
}

/// Asserts the fake's answers for every branch git knows (and for `gone`) match git's.
async fn assert_refs_match_git(fake: &FakeGitHub, gone: &[&str]) {
    let bot = fake.client("bot");
    let truth = git_refs(fake);
    for (name, sha) in &truth {
        let short = name.strip_prefix("refs/").expect("under refs/");
        assert_eq!(
            &bot.get_ref(O, R, short).await.expect("get_ref"),
            sha,
            "{name}"
        );
        if let Some(branch) = short.strip_prefix("heads/") {
            assert_eq!(fake.branch_sha(O, R, branch).as_ref(), Some(sha), "{name}");
        }
    }
    for branch in gone {
        assert!(!truth.contains_key(&format!("refs/heads/{branch}")));
        assert_eq!(fake.branch_sha(O, R, branch), None, "{branch}");
        assert!(matches!(
            bot.get_ref(O, R, &format!("heads/{branch}")).await,
            Err(GitHubError::NotFound(_))
        ));
    }
}

async fn changed_files(fake: &FakeGitHub, number: u64) -> Vec<String> {
    let mut names: Vec<String> = fake
        .client("bot")
        .get_pull_request_changes(O, R, number)
        .await
        .expect("changes")
        .into_iter()
        .map(|c| c.filename)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn push_to_head_updates_refs_changes_and_contents() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let bot = fake.client("bot");
    // Warm every cache.
    assert_refs_match_git(&fake, &[]).await;
    assert_eq!(changed_files(&fake, 1).await, ["src/a.go"]);
    let before = bot.get_pull_request(O, R, 1).await.expect("pr");
    assert_eq!((before.changed_files, before.commits), (1, 1));
    assert_eq!(
        bot.get_file(O, R, "src/a.go", Some("fix"))
            .await
            .expect("file"),
        b"package a // fixed\n"
    );

    let new_head = fake
        .push_files(
            "alice",
            O,
            R,
            "fix",
            files(&[
                ("src/a.go", Some("package a // v2\n")),
                ("docs/x.md", Some("x\n")),
            ]),
            "more",
        )
        .expect("push");

    assert_refs_match_git(&fake, &[]).await;
    assert_eq!(bot.get_ref(O, R, "heads/fix").await.expect("ref"), new_head);
    assert_eq!(changed_files(&fake, 1).await, ["docs/x.md", "src/a.go"]);
    let after = bot.get_pull_request(O, R, 1).await.expect("pr");
    assert_eq!(after.head.sha, new_head);
    assert_eq!((after.changed_files, after.commits), (2, 2));
    assert_eq!(
        bot.get_file(O, R, "src/a.go", Some("fix"))
            .await
            .expect("file"),
        b"package a // v2\n"
    );
    // The old commit's contents are still what they were.
    assert_eq!(
        bot.get_file(O, R, "src/a.go", Some(&before.head.sha))
            .await
            .expect("old file"),
        b"package a // fixed\n"
    );
}

#[tokio::test]
async fn base_moves_update_mergeability_and_merges_update_refs() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let bot = fake.client("bot");
    let pr = bot.get_pull_request(O, R, 1).await.expect("pr");
    assert_eq!(pr.mergeable, Some(true));
    assert_eq!(pr.mergeable_state.as_deref(), Some("clean"));

    // A second pull request, merged: main moves to the merge commit.
    let n = fake
        .open_pull_request(
            "alice",
            O,
            R,
            NewPullRequest {
                title: "Docs".into(),
                base: "main".into(),
                head: "docs".into(),
                files: files(&[("README.md", Some("one\nTWO\nthree\n"))]),
                ..NewPullRequest::default()
            },
        )
        .expect("open");
    assert_refs_match_git(&fake, &[]).await;
    assert_eq!(changed_files(&fake, n).await, ["README.md"]);
    let old_main = bot.get_ref(O, R, "heads/main").await.expect("main");
    bot.merge_pull_request(O, R, n, &MergeDetails::default())
        .await
        .expect("merge");
    let new_main = bot.get_ref(O, R, "heads/main").await.expect("main");
    assert_ne!(new_main, old_main);
    assert_eq!(
        bot.get_pull_request(O, R, n)
            .await
            .expect("pr")
            .merge_commit_sha
            .as_deref(),
        Some(new_main.as_str())
    );
    assert_refs_match_git(&fake, &[]).await;
    // PR 1 is now compared with the new main: still only its own file, still mergeable.
    assert_eq!(changed_files(&fake, 1).await, ["src/a.go"]);
    let pr = bot.get_pull_request(O, R, 1).await.expect("pr");
    assert_eq!(pr.base.sha, new_main);
    assert_eq!(pr.mergeable, Some(true));

    // A conflicting change on main makes PR 1 unmergeable.
    fake.push_files(
        "alice",
        O,
        R,
        "main",
        files(&[("src/a.go", Some("package a // conflict\n"))]),
        "conflict",
    )
    .expect("push main");
    let pr = bot.get_pull_request(O, R, 1).await.expect("pr");
    assert_eq!(pr.mergeable, Some(false));
    assert_eq!(pr.mergeable_state.as_deref(), Some("dirty"));
    assert_refs_match_git(&fake, &[]).await;

    // Deleting the merged branch removes it from every answer.
    bot.delete_ref(O, R, "heads/docs").await.expect("delete");
    assert_refs_match_git(&fake, &["docs"]).await;
}

#[test]
fn same_seed_gives_same_shas() {
    let seed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/seed.yaml"))
        .unwrap();
    let a = prow_github_fake::FakeGitHub::from_seed_yaml(&seed).unwrap();
    let b = prow_github_fake::FakeGitHub::from_seed_yaml(&seed).unwrap();
    for (repo, branch) in [
        ("widgets", "main"),
        ("widgets", "shiny"),
        ("widgets", "release-1.0"),
    ] {
        let sa = a.branch_sha("acme", repo, branch);
        assert!(sa.is_some(), "{repo}@{branch}");
        assert_eq!(sa, b.branch_sha("acme", repo, branch), "{repo}@{branch}");
    }
}
