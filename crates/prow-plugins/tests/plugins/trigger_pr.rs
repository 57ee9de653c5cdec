//! Ports of Prow's trigger tests for trust (`TestTrustedUser`, `TestTrusted`), pull request
//! events (`TestHandlePullRequest`), aborting (`TestAbortAllJobs`) and pushes (`TestHandlePE`,
//! `TestCreateRefs`), plus end-to-end texts.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prow_api::{ProwJob, ProwJobSpec, ProwJobState, ProwJobStatus, ProwJobType};
use prow_github::events::{PullRequestEvent, PushCommit, PushEvent, PushRepo};
use prow_github::{GitHub, Label, User};
use prow_github_fake::NewPullRequest;
use prow_jobstore::JobStore;
use prow_plugins::config::Trigger;
use prow_plugins::plugins::trigger::{TriggerPlugin, trusted_pull_request, trusted_user};
use prow_plugins::{BotIdentity, Plugin};

use crate::jobs::{J, presubmits};
use crate::world::{BOT, Spec, World, files};

fn not_member() -> &'static str {
    "User is not a member of the org. Satisfy at least one of these conditions to make the user trusted."
}

#[tokio::test]
async fn trusted_user_table() {
    let w = World::new(Spec {
        seed: "orgs: [{login: kubernetes, members: [test]}, {login: kubernetes-sigs}]\nrepos: [{name: kubernetes/kubernetes, collaborators: [test-collaborator]}]\n",
        ..Default::default()
    })
    .await;
    let gh = w.gh(BOT);
    let bot = BotIdentity::new(BOT);
    let nm_nc = "User is not a member of the org. User is not a collaborator. Satisfy at least one of these conditions to make the user trusted.";
    // (name, only_org_members, trusted_apps, trusted_org, user, trusted, reason)
    let cases: &[(&str, bool, &[&str], &str, &str, bool, &str)] = &[
        (
            "user is member of trusted org",
            false,
            &[],
            "",
            "test",
            true,
            "",
        ),
        ("member, only org members", true, &[], "", "test", true, ""),
        (
            "user is collaborator",
            false,
            &[],
            "",
            "test-collaborator",
            true,
            "",
        ),
        (
            "collaborator, only org members",
            true,
            &[],
            "",
            "test-collaborator",
            false,
            not_member(),
        ),
        (
            "user is trusted org member",
            false,
            &[],
            "kubernetes",
            "test",
            true,
            "",
        ),
        (
            "user is not org member",
            false,
            &[],
            "",
            "test-2",
            false,
            nm_nc,
        ),
        (
            "not org member or trusted org member",
            false,
            &[],
            "kubernetes-sigs",
            "test-2",
            false,
            "User is not a member of the org. User is not a collaborator. User is not a member of the trusted secondary org. Satisfy at least one of these conditions to make the user trusted.",
        ),
        (
            "not org member or trusted org member, only org members",
            true,
            &[],
            "kubernetes-sigs",
            "test-2",
            false,
            "User is not a member of the org. User is not a member of the trusted secondary org. Satisfy at least one of these conditions to make the user trusted.",
        ),
        ("self as bot is trusted", false, &[], "", BOT, true, ""),
        (
            "self as app is trusted",
            false,
            &[],
            "",
            "k8s-ci-robot[bot]",
            true,
            "",
        ),
        (
            "app in trusted list",
            false,
            &["github-app"],
            "",
            "github-app[bot]",
            true,
            "",
        ),
        (
            "app not in trusted list",
            false,
            &["other-app"],
            "",
            "github-app[bot]",
            false,
            nm_nc,
        ),
        (
            "app name without [bot] is not trusted",
            false,
            &["github-app"],
            "",
            "github-app",
            false,
            nm_nc,
        ),
        (
            "[bot] not as suffix is not trusted",
            false,
            &["github-app"],
            "",
            "github-app[bot]suffix",
            false,
            nm_nc,
        ),
    ];
    for (name, only, apps, org, user, trusted, reason) in cases {
        let t = Trigger {
            only_org_members: *only,
            trusted_apps: apps.iter().map(|s| (*s).to_owned()).collect(),
            trusted_org: (*org).to_owned(),
            ..Default::default()
        };
        let r = trusted_user(&gh, &bot, &t, user, "kubernetes", "kubernetes")
            .await
            .expect("no error");
        assert_eq!(r.is_trusted, *trusted, "{name}");
        assert_eq!(r.reason, *reason, "{name}");
    }
}

#[tokio::test]
async fn trusted_pull_request_table() {
    // Prow's TestTrusted: trusted_org kubernetes, repo in kubernetes-sigs.
    let mut w = World::new(Spec {
        seed: "orgs: [{login: kubernetes, members: [trusted-org-member]}, {login: kubernetes-sigs, members: [org-member]}]\nrepos: [{name: kubernetes-sigs/random-repo, collaborators: [repo-collaborator], files: {a: b}}]\npull_requests: [{repo: kubernetes-sigs/random-repo, number: 1, author: random-person, title: T, head: h, files: {c: d}}]\n",
        ..Default::default()
    })
    .await;
    let t = Trigger {
        trusted_org: "kubernetes".into(),
        ..Default::default()
    };
    let bot = BotIdentity::new(BOT);
    let cases: &[(&str, &str, &[&str], bool)] = &[
        ("trust org member", "org-member", &[], true),
        (
            "trust member of other trusted org",
            "trusted-org-member",
            &[],
            true,
        ),
        (
            "accept random PR with ok-to-test",
            "random-person",
            &["ok-to-test"],
            true,
        ),
        (
            "accept random PR with both labels",
            "random-person",
            &["ok-to-test", "needs-ok-to-test"],
            true,
        ),
        (
            "reject random PR with needs-ok-to-test",
            "random-person",
            &["needs-ok-to-test"],
            false,
        ),
        (
            "reject random PR with no label",
            "random-person",
            &[],
            false,
        ),
    ];
    for (name, author, labels, want) in cases {
        let gh = w.gh(BOT);
        for l in w.labels("kubernetes-sigs", "random-repo", 1) {
            gh.remove_label("kubernetes-sigs", "random-repo", 1, &l)
                .await
                .expect("rm");
        }
        let labels: Vec<String> = labels.iter().map(|s| (*s).to_owned()).collect();
        if !labels.is_empty() {
            gh.add_labels("kubernetes-sigs", "random-repo", 1, &labels)
                .await
                .expect("add");
        }
        w.discard_events();
        let (_, got) =
            trusted_pull_request(&gh, &bot, &t, author, "kubernetes-sigs", "random-repo", 1)
                .await
                .expect("no error");
        assert_eq!(got, *want, "{name}");
    }
}

fn job_to_abort() -> ProwJob {
    let labels = BTreeMap::from([
        ("prow.k8s.io/refs.org".to_owned(), "org".to_owned()),
        ("prow.k8s.io/refs.repo".to_owned(), "repo".to_owned()),
        ("prow.k8s.io/refs.pull".to_owned(), "1".to_owned()),
        ("prow.k8s.io/type".to_owned(), "presubmit".to_owned()),
    ]);
    ProwJob::new(
        ObjectMeta {
            name: Some("old-job".into()),
            labels: Some(labels),
            ..Default::default()
        },
        ProwJobSpec {
            job: "jib".into(),
            job_type: Some(ProwJobType::Presubmit),
            ..Default::default()
        },
        ProwJobStatus {
            state: ProwJobState::Pending,
            ..Default::default()
        },
    )
}

struct PrCase {
    name: &'static str,
    author: &'static str,
    action: &'static str,
    build: bool,
    comment: bool,
    ok_to_test: bool,
    draft: bool,
    label: &'static str,
    changes: bool,
    sender: &'static str,
    abort: bool,
    added_labels: &'static [&'static str],
}

fn pr(name: &'static str, author: &'static str, action: &'static str, build: bool) -> PrCase {
    PrCase {
        name,
        author,
        action,
        build,
        comment: false,
        ok_to_test: false,
        draft: false,
        label: "",
        changes: false,
        sender: "",
        abort: false,
        added_labels: &[],
    }
}

#[tokio::test]
async fn pull_request_table() {
    let cases = vec![
        pr("trusted user open PR should build", "t", "opened", true),
        PrCase {
            draft: true,
            comment: true,
            ..pr(
                "trusted user open draft PR comments, no build",
                "t",
                "opened",
                false,
            )
        },
        PrCase {
            comment: true,
            ok_to_test: true,
            ..pr(
                "untrusted open PR with ok-to-test: no needs-ok-to-test",
                "u",
                "opened",
                false,
            )
        },
        PrCase {
            comment: true,
            added_labels: &["needs-ok-to-test"],
            ..pr("untrusted open PR without ok-to-test", "u", "opened", false)
        },
        PrCase {
            comment: true,
            draft: true,
            added_labels: &["needs-ok-to-test"],
            ..pr("untrusted open draft PR", "u", "opened", false)
        },
        pr("trusted user reopen PR should build", "t", "reopened", true),
        PrCase {
            draft: true,
            ..pr(
                "trusted user reopen draft PR should not build",
                "t",
                "reopened",
                false,
            )
        },
        pr(
            "trusted user ready_for_review should build",
            "t",
            "ready_for_review",
            true,
        ),
        pr(
            "untrusted user ready_for_review should not build",
            "u",
            "ready_for_review",
            false,
        ),
        PrCase {
            ok_to_test: true,
            ..pr(
                "untrusted ready_for_review with ok-to-test builds",
                "u",
                "ready_for_review",
                true,
            )
        },
        PrCase {
            ok_to_test: true,
            ..pr(
                "untrusted reopen with ok-to-test builds",
                "u",
                "reopened",
                true,
            )
        },
        pr(
            "untrusted reopen without ok-to-test",
            "u",
            "reopened",
            false,
        ),
        PrCase {
            draft: true,
            ..pr("untrusted reopen draft", "u", "reopened", false)
        },
        PrCase {
            changes: true,
            ..pr("trusted edit with base changes builds", "t", "edited", true)
        },
        PrCase {
            changes: true,
            draft: true,
            ..pr("trusted edit draft with base changes", "t", "edited", false)
        },
        pr("trusted edit without base changes", "t", "edited", false),
        pr(
            "untrusted edit without changes or ok-to-test",
            "u",
            "edited",
            false,
        ),
        PrCase {
            changes: true,
            ..pr(
                "untrusted edit with changes, no ok-to-test",
                "u",
                "edited",
                false,
            )
        },
        PrCase {
            ok_to_test: true,
            ..pr(
                "untrusted edit without changes, ok-to-test",
                "u",
                "edited",
                false,
            )
        },
        PrCase {
            ok_to_test: true,
            changes: true,
            ..pr(
                "untrusted edit with changes and ok-to-test",
                "u",
                "edited",
                true,
            )
        },
        pr("trusted sync builds", "t", "synchronize", true),
        pr(
            "untrusted sync without ok-to-test",
            "u",
            "synchronize",
            false,
        ),
        PrCase {
            ok_to_test: true,
            ..pr(
                "untrusted sync with ok-to-test builds",
                "u",
                "synchronize",
                true,
            )
        },
        PrCase {
            label: "lgtm",
            ..pr("trusted labeled lgtm does not build", "t", "labeled", false)
        },
        PrCase {
            label: "lgtm",
            ..pr("untrusted labeled lgtm builds", "u", "labeled", true)
        },
        PrCase {
            label: "test",
            ..pr("untrusted labeled other", "u", "labeled", false)
        },
        pr("trusted closed PR should not build", "t", "closed", false),
        PrCase {
            label: "ok-to-test",
            sender: "not-k8s-ci-robot",
            ..pr("trusted labeled ok-to-test builds", "t", "labeled", true)
        },
        PrCase {
            label: "ok-to-test",
            sender: "not-k8s-ci-robot",
            ..pr("untrusted labeled ok-to-test builds", "u", "labeled", true)
        },
        PrCase {
            label: "ok-to-test",
            sender: BOT,
            ..pr("ok-to-test added by the bot", "u", "labeled", false)
        },
        PrCase {
            ok_to_test: true,
            abort: true,
            ..pr("abort jobs if PR is closed", "t", "closed", false)
        },
        PrCase {
            ok_to_test: true,
            abort: true,
            ..pr(
                "abort jobs if PR is converted to draft",
                "t",
                "converted_to_draft",
                false,
            )
        },
        PrCase {
            ok_to_test: true,
            abort: true,
            ..pr("abort old jobs and build on push", "t", "synchronize", true)
        },
    ];
    let jobs = presubmits("org/repo", &[J::std("jib").always_run()]);
    for tc in cases {
        let labels = if tc.ok_to_test { "[ok-to-test]" } else { "[]" };
        let seed = format!(
            "orgs: [{{login: org, members: [t]}}]\nrepos: [{{name: org/repo, default_branch: master, files: {{a: b}}}}]\npull_requests: [{{repo: org/repo, number: 1, author: {}, title: T, base: master, head: h, draft: {}, labels: {labels}, files: {{c: d}}}}]\n",
            tc.author, tc.draft
        );
        let w = World::new(Spec {
            seed: &seed,
            plugins: "plugins: {org: {plugins: [trigger]}}\ntriggers:\n- repos: [org]\n  trusted_org: org\n  only_org_members: true\n",
            jobs: &jobs,
            ..Default::default()
        })
        .await;
        if tc.abort {
            w.jobs.create(job_to_abort()).await.expect("seed job");
        }
        let before = w.labels("org", "repo", 1);
        let gh = w.gh(BOT);
        let ev = PullRequestEvent {
            action: tc.action.into(),
            number: 1,
            pull_request: gh.get_pull_request("org", "repo", 1).await.expect("PR"),
            repository: gh.get_repo("org", "repo").await.expect("repo"),
            sender: User {
                login: if tc.sender.is_empty() {
                    tc.author
                } else {
                    tc.sender
                }
                .into(),
                ..Default::default()
            },
            label: (!tc.label.is_empty()).then(|| Label {
                name: tc.label.into(),
                ..Default::default()
            }),
            changes: tc.changes.then(
                || serde_json::json!({"base": {"ref": {"from": "REF"}, "sha": {"from": "SHA"}}}),
            ),
            ..Default::default()
        };
        TriggerPlugin
            .handle_pull_request(&w.ctx(None), &ev)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", tc.name));
        let created: Vec<ProwJob> = w
            .prowjobs()
            .await
            .into_iter()
            .filter(|j| j.name() != "old-job")
            .collect();
        assert_eq!(
            !created.is_empty(),
            tc.build,
            "{}: built {}",
            tc.name,
            created.len()
        );
        assert_eq!(
            !w.bot_comments("org", "repo", 1).is_empty(),
            tc.comment,
            "{}: comment",
            tc.name
        );
        if tc.abort {
            let old = w.jobs.get("old-job").await.expect("old job");
            assert_eq!(old.status.state, ProwJobState::Aborted, "{}", tc.name);
            assert_eq!(
                old.status.description, "Aborted by trigger plugin.",
                "{}",
                tc.name
            );
            assert!(
                !old.complete(),
                "{}: plank completes aborted jobs, not trigger",
                tc.name
            );
        }
        let after = w.labels("org", "repo", 1);
        let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
        let want: Vec<String> = tc.added_labels.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            added,
            want.iter().collect::<Vec<_>>(),
            "{}: added labels",
            tc.name
        );
    }
}

#[tokio::test]
async fn abort_only_touches_unfinished_presubmits_of_the_pr() {
    let jobs = presubmits("org/repo", &[J::std("jib").always_run()]);
    let w = World::new(Spec {
        seed: "orgs: [{login: org, members: [t]}]\nrepos: [{name: org/repo, files: {a: b}}]\npull_requests: [{repo: org/repo, number: 1, author: t, title: T, head: h, files: {c: d}}]\n",
        plugins: "plugins: {org: {plugins: [trigger]}}\n",
        jobs: &jobs,
        ..Default::default()
    })
    .await;
    let mut done = job_to_abort();
    done.metadata.name = Some("done".into());
    done.status.state = ProwJobState::Success;
    done.status.completion_time = Some(chrono::Utc::now());
    let mut other_pr = job_to_abort();
    other_pr.metadata.name = Some("other-pr".into());
    other_pr
        .metadata
        .labels
        .as_mut()
        .expect("labels")
        .insert("prow.k8s.io/refs.pull".into(), "2".into());
    let mut postsubmit = job_to_abort();
    postsubmit.metadata.name = Some("post".into());
    postsubmit
        .metadata
        .labels
        .as_mut()
        .expect("labels")
        .insert("prow.k8s.io/type".into(), "postsubmit".into());
    for j in [job_to_abort(), done, other_pr, postsubmit] {
        w.jobs.create(j).await.expect("seed");
    }
    let gh = w.gh(BOT);
    let ev = PullRequestEvent {
        action: "closed".into(),
        number: 1,
        pull_request: gh.get_pull_request("org", "repo", 1).await.expect("PR"),
        repository: gh.get_repo("org", "repo").await.expect("repo"),
        ..Default::default()
    };
    TriggerPlugin
        .handle_pull_request(&w.ctx(None), &ev)
        .await
        .expect("ok");
    for (name, want) in [
        ("old-job", ProwJobState::Aborted),
        ("done", ProwJobState::Success),
        ("other-pr", ProwJobState::Pending),
        ("post", ProwJobState::Pending),
    ] {
        assert_eq!(
            w.jobs.get(name).await.expect("job").status.state,
            want,
            "{name}"
        );
    }
}

fn push(org: &str, repo: &str, git_ref: &str, commits: Vec<PushCommit>) -> PushEvent {
    PushEvent {
        git_ref: git_ref.into(),
        after: "abcdef".into(),
        compare: format!("https://github.example.com/{org}/{repo}/compare/abcdee...abcdef"),
        commits,
        repository: PushRepo {
            name: repo.into(),
            full_name: format!("{org}/{repo}"),
            html_url: format!("https://github.example.com/{org}/{repo}"),
            owner: User {
                name: Some(org.into()),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

fn commit(added: &[&str], modified: &[&str]) -> PushCommit {
    PushCommit {
        added: added.iter().map(|s| (*s).to_owned()).collect(),
        modified: modified.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn push_table() {
    let jobs = "postsubmits:\n  org/repo:\n  - name: pass-butter\n    run_if_changed: '\\.sh$'\n    spec: {containers: [{image: registry.example.com/x}]}\n  org2/repo2:\n  - name: pass-salt\n    spec: {containers: [{image: registry.example.com/x}]}\n  org3/repo3:\n  - name: pass-pepper\n    branches: [release/v1.14]\n    spec: {containers: [{image: registry.example.com/x}]}\n";
    let cases = vec![
        (
            "branch deleted",
            PushEvent {
                deleted: true,
                ..push(
                    "org",
                    "repo",
                    "refs/heads/master",
                    vec![commit(&["hack.sh"], &[])],
                )
            },
            0,
        ),
        (
            "null after sha",
            PushEvent {
                after: "0000000000000000000000000000000000000000".into(),
                ..push(
                    "org",
                    "repo",
                    "refs/heads/master",
                    vec![commit(&["hack.sh"], &[])],
                )
            },
            0,
        ),
        (
            "no matching files",
            push(
                "org",
                "repo",
                "refs/heads/master",
                vec![commit(&["example.txt"], &[])],
            ),
            0,
        ),
        (
            "one matching file",
            push(
                "org",
                "repo",
                "refs/heads/master",
                vec![commit(&["example.txt"], &["hack.sh"])],
            ),
            1,
        ),
        (
            "no change matcher",
            push(
                "org2",
                "repo2",
                "refs/heads/master",
                vec![commit(&["example.txt"], &[])],
            ),
            1,
        ),
        (
            "branch name with a slash",
            push(
                "org3",
                "repo3",
                "refs/heads/release/v1.14",
                vec![commit(&["hack.sh"], &[])],
            ),
            1,
        ),
    ];
    for (name, ev, want) in cases {
        let w = World::new(Spec {
            plugins: "plugins: {org: {plugins: [trigger]}}\n",
            jobs,
            ..Default::default()
        })
        .await;
        TriggerPlugin
            .handle_push(&w.ctx(None), &ev)
            .await
            .expect("ok");
        let created = w.prowjobs().await;
        assert_eq!(created.len(), want, "{name}");
        for j in created {
            // Prow's TestCreateRefs.
            let refs = j.spec.refs.clone().expect("refs");
            assert_eq!(refs.base_sha, "abcdef", "{name}");
            assert_eq!(refs.base_link, ev.compare, "{name}");
            assert_eq!(refs.repo_link, ev.repository.html_url, "{name}");
            assert_eq!(refs.org, ev.org(), "{name}");
            assert_eq!(j.spec.job_type, Some(ProwJobType::Postsubmit), "{name}");
            assert_eq!(j.label("event-GUID"), Some("test-delivery"), "{name}");
        }
    }
}

#[tokio::test]
async fn push_end_to_end_creates_postsubmit() {
    let jobs = "postsubmits:\n  org/repo:\n  - name: post-sh\n    run_if_changed: '\\.sh$'\n    branches: ['^main$']\n    spec: {containers: [{image: registry.example.com/x}]}\n  - name: post-docs\n    run_if_changed: '^docs/'\n    spec: {containers: [{image: registry.example.com/x}]}\n";
    let mut w = World::new(Spec {
        seed: "orgs: [{login: org, members: [alice]}]\nrepos: [{name: org/repo, files: {README.md: x}}]\n",
        plugins: "plugins: {org/repo: {plugins: [trigger]}}\n",
        jobs,
        ..Default::default()
    })
    .await;
    let sha = w
        .fake
        .push_files(
            "alice",
            "org",
            "repo",
            "main",
            files(&[("hack/build.sh", "#!/bin/sh\n")]),
            "build script",
        )
        .expect("push");
    w.settle_ok().await;
    let jobs = w.prowjobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].spec.job, "post-sh");
    let refs = jobs[0].spec.refs.as_ref().expect("refs");
    assert_eq!(
        (refs.base_ref.as_str(), refs.base_sha.as_str()),
        ("main", sha.as_str())
    );
}

#[tokio::test]
async fn untrusted_author_gets_exact_welcome_message() {
    let jobs = presubmits("org/repo", &[J::std("jib").always_run()]);
    let mut w = World::new(Spec {
        seed: "orgs: [{login: org, members: [maintainer]}]\nrepos: [{name: org/repo, files: {README.md: x}}]\n",
        plugins: "plugins: {org: {plugins: [trigger]}}\n",
        jobs: &jobs,
        ..Default::default()
    })
    .await;
    let n = w
        .open_pr(
            "newcomer",
            "org",
            "repo",
            NewPullRequest {
                title: "Fix typo".into(),
                base: "main".into(),
                head: "typo".into(),
                files: files(&[("README.md", "y")]),
                ..Default::default()
            },
        )
        .await;
    assert!(w.prowjobs().await.is_empty());
    assert_eq!(w.labels("org", "repo", n), vec!["needs-ok-to-test"]);
    let about = prow_plugins::respond::ABOUT_THIS_BOT_WITHOUT_COMMANDS;
    let want = format!(
        "Hi @newcomer. Thanks for your PR.\n\nI'm waiting for a [org](https://github.com/orgs/org/people) member to verify that this patch is reasonable to test. If it is, they should reply with `/ok-to-test` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work.\n\nRegular contributors should [join the org](https://github.com/orgs/org/people) to skip this step.\n\nOnce the patch is verified, the new status will be reflected by the `ok-to-test` label.\n\nI understand the commands that are listed [here](https://go.k8s.io/bot-commands?repo=org%2Frepo).\n\n<details>\n\n{about}\n</details>\n"
    );
    assert_eq!(w.bot_comments("org", "repo", n), vec![want]);

    // The untrusted author cannot /test; a member's /ok-to-test trusts the PR and runs tests.
    w.comment("newcomer", "org", "repo", n, "/test all").await;
    assert!(w.prowjobs().await.is_empty());
    w.comment("maintainer", "org", "repo", n, "/ok-to-test")
        .await;
    assert_eq!(w.labels("org", "repo", n), vec!["ok-to-test"]);
    assert_eq!(w.job_names().await, vec!["jib"]);
    // A push to the trusted PR aborts the running job and starts a new one.
    w.fake
        .push_files(
            "newcomer",
            "org",
            "repo",
            "typo",
            files(&[("README.md", "z")]),
            "again",
        )
        .expect("push");
    w.settle_ok().await;
    let jobs = w.prowjobs().await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs.iter()
            .filter(|j| j.status.state == ProwJobState::Aborted)
            .count(),
        1
    );
}

#[tokio::test]
async fn ignore_ok_to_test_welcome_and_draft_texts() {
    let jobs = presubmits("org/repo", &[J::std("jib").always_run()]);
    let mut w = World::new(Spec {
        seed: "orgs: [{login: org, members: [maintainer]}]\nrepos: [{name: org/repo, files: {README.md: x}}]\n",
        plugins: "plugins: {org: {plugins: [trigger]}}\ntriggers:\n- repos: [org/repo]\n  ignore_ok_to_test: true\n",
        jobs: &jobs,
        ..Default::default()
    })
    .await;
    let n = w
        .open_pr(
            "newcomer",
            "org",
            "repo",
            NewPullRequest {
                title: "x".into(),
                base: "main".into(),
                head: "a".into(),
                files: files(&[("a", "b")]),
                ..Default::default()
            },
        )
        .await;
    let bot = w.bot_comments("org", "repo", n);
    assert_eq!(bot.len(), 1);
    assert!(bot[0].starts_with("Hi @newcomer. Thanks for your PR.\n\nPRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test all`.\n\nI understand the commands"), "{}", bot[0]);
    assert!(
        w.labels("org", "repo", n).is_empty(),
        "no needs-ok-to-test with ignore_ok_to_test"
    );

    let d = w
        .open_pr(
            "maintainer",
            "org",
            "repo",
            NewPullRequest {
                title: "d".into(),
                base: "main".into(),
                head: "d".into(),
                draft: true,
                files: files(&[("d", "e")]),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        w.bot_comments("org", "repo", d),
        vec!["Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`".to_owned()]
    );
    assert!(w.prowjobs().await.is_empty());
}

#[tokio::test]
async fn unmergeable_pr_creates_no_jobs() {
    let jobs = presubmits("org/repo", &[J::std("jib").always_run()]);
    let mut w = World::new(Spec {
        seed: "orgs: [{login: org, members: [maintainer]}]\nrepos: [{name: org/repo, files: {README.md: \"base\\n\"}}]\npull_requests: [{repo: org/repo, number: 1, author: maintainer, title: T, head: h, files: {README.md: \"mine\\n\"}}]\n",
        plugins: "plugins: {org: {plugins: [trigger]}}\n",
        jobs: &jobs,
        ..Default::default()
    })
    .await;
    w.fake
        .push_files(
            "maintainer",
            "org",
            "repo",
            "main",
            files(&[("README.md", "theirs\n")]),
            "conflict",
        )
        .expect("push");
    w.discard_events();
    assert_eq!(
        w.fake.pull_request("org", "repo", 1).expect("PR").mergeable,
        Some(false)
    );
    w.comment("maintainer", "org", "repo", 1, "/test all").await;
    assert!(w.prowjobs().await.is_empty());
}
