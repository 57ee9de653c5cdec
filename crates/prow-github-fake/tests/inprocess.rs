//! The in-process client: trait calls as different users, state inspection, permissions, and
//! the webhooks each change emits (decoded with `prow_github::events::parse`).

mod common;

use prow_github::events::{Event, parse};
use prow_github::{DraftReview, GitHub, GitHubError, Status};
use prow_github_fake::{FakeGitHub, SeedError};

const O: &str = "acme";
const R: &str = "widgets";

#[tokio::test]
async fn comments_and_labels_as_different_users() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let alice = fake.client("alice");
    let bot = fake.client("prow-bot");

    let c = alice
        .create_comment(O, R, 2, "/lgtm")
        .await
        .expect("comment");
    assert_eq!(c.user.login, "alice");
    assert_eq!(c.author_association, "MEMBER");
    bot.add_labels(O, R, 2, &["lgtm".into(), "Approved".into()])
        .await
        .expect("labels");
    // Label names keep the repository's spelling; adding twice is a no-op.
    bot.add_labels(O, R, 2, &["LGTM".into()])
        .await
        .expect("labels again");
    assert_eq!(
        fake.issue_labels(O, R, 2),
        vec!["needs-ok-to-test", "lgtm", "approved"]
    );
    bot.remove_label(O, R, 2, "needs-ok-to-test")
        .await
        .expect("remove");
    assert_eq!(
        bot.remove_label(O, R, 2, "needs-ok-to-test").await,
        Err(GitHubError::NotFound("Label does not exist".into()))
    );
    // Unknown labels are created on the repository.
    bot.add_labels(O, R, 2, &["size/XS".into()])
        .await
        .expect("new label");
    let repo_labels = bot.get_repo_labels(O, R).await.expect("repo labels");
    assert!(
        repo_labels
            .iter()
            .any(|l| l.name == "size/XS" && l.color == "ededed")
    );
    let hold = repo_labels
        .iter()
        .find(|l| l.name == "do-not-merge/hold")
        .expect("hold");
    assert_eq!(hold.color, "e11d21");

    alice
        .edit_comment(O, R, c.id, "/lgtm cancel")
        .await
        .expect("edit");
    let comments = fake.issue_comments(O, R, 2);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "/lgtm cancel");
    alice.delete_comment(O, R, c.id).await.expect("delete");
    assert!(fake.issue_comments(O, R, 2).is_empty());

    let deliveries = common::drain(&mut rx);
    let kinds = common::kinds(&deliveries);
    let expected: Vec<(String, String)> = [
        ("issue_comment", "created"),
        ("pull_request", "labeled"),
        ("pull_request", "labeled"),
        ("pull_request", "unlabeled"),
        ("pull_request", "labeled"),
        ("issue_comment", "edited"),
        ("issue_comment", "deleted"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(kinds, expected);
    // Every delivery decodes into the typed event with the acting user as sender.
    for d in &deliveries {
        match parse(&d.event_type, &d.body).expect("parses") {
            Event::IssueComment(e) => {
                assert_eq!(e.sender.login, "alice");
                assert!(e.issue.is_pull_request());
                assert_eq!(e.repository.full_name, "acme/widgets");
                assert_eq!(e.comment.id, c.id);
                if e.action == "edited" {
                    let from = e.comment.body.clone();
                    assert_eq!(from, "/lgtm cancel");
                }
            }
            Event::PullRequest(e) => {
                assert_eq!(e.sender.login, "prow-bot");
                assert_eq!(e.number, 2);
                assert!(e.label.is_some());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(d.delivery_id.len(), 36, "UUID delivery id");
    }
    let edited: serde_json::Value = serde_json::from_slice(&deliveries[5].body).unwrap();
    assert_eq!(edited["changes"]["body"]["from"], "/lgtm");
}

#[tokio::test]
async fn permissions_follow_github() {
    let fake = common::example();
    let dave = fake.client("dave"); // no access to acme
    let carol = fake.client("carol"); // explicit collaborator
    let alice = fake.client("alice");

    // Anyone can comment on a public repository…
    let c = alice
        .create_comment(O, R, 1, "mine")
        .await
        .expect("comment");
    dave.create_comment(O, R, 1, "drive-by")
        .await
        .expect("outsider comment");
    // …but only authors and pushers edit, and only pushers label.
    assert!(matches!(
        dave.edit_comment(O, R, c.id, "hacked").await,
        Err(GitHubError::Forbidden(_))
    ));
    assert!(matches!(
        dave.add_labels(O, R, 1, &["lgtm".into()]).await,
        Err(GitHubError::Forbidden(_))
    ));
    carol
        .add_labels(O, R, 1, &["lgtm".into()])
        .await
        .expect("collaborator labels");
    assert!(matches!(
        dave.create_status(
            O,
            R,
            "main",
            &Status {
                state: "success".into(),
                context: "x".into(),
                ..Default::default()
            }
        )
        .await,
        Err(GitHubError::Forbidden(_))
    ));

    // Membership and collaboration as the API reports them.
    let bot = fake.client("prow-bot");
    assert!(bot.is_member(O, "alice").await.unwrap());
    assert!(!bot.is_member(O, "carol").await.unwrap());
    assert!(!bot.is_member("no-such-org", "alice").await.unwrap());
    assert!(bot.is_collaborator(O, R, "carol").await.unwrap());
    assert!(
        bot.is_collaborator(O, R, "bob").await.unwrap(),
        "org members are collaborators"
    );
    assert!(!bot.is_collaborator(O, R, "dave").await.unwrap());
    assert!(
        !bot.is_collaborator(O, R, "prow-bot").await.unwrap(),
        "bots push without being collaborators"
    );
    let team: Vec<String> = bot
        .list_team_members(O, "reviewers")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.login)
        .collect();
    assert_eq!(team, vec!["alice", "bob"]);
    assert!(
        bot.list_team_members(O, "nope")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Private repositories are invisible without access.
    assert!(
        dave.get_repo(O, "private-things")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        alice
            .get_repo(O, "private-things")
            .await
            .unwrap()
            .default_branch,
        "master"
    );
}

#[tokio::test]
async fn assignment_and_review_requests_report_who_was_skipped() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let bot = fake.client("prow-bot");
    let missing = bot
        .assign_issue(
            O,
            R,
            1,
            &[
                "alice".into(),
                "Carol".into(),
                "dave".into(),
                "ghost".into(),
            ],
        )
        .await
        .expect("assign");
    assert_eq!(missing, vec!["dave", "ghost"]);
    let issue = bot.get_issue(O, R, 1).await.unwrap();
    let assignees: Vec<&str> = issue.assignees.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(assignees, vec!["bob", "alice", "carol"]);
    bot.unassign_issue(O, R, 1, &["bob".into()])
        .await
        .expect("unassign");
    // An outsider's assignment request silently does nothing.
    let missing = fake
        .client("dave")
        .assign_issue(O, R, 1, &["bob".into()])
        .await
        .expect("no error");
    assert_eq!(missing, vec!["bob"]);

    // dave authored PR 2, so he cannot be requested; ghost is no collaborator.
    let missing = bot
        .request_review(O, R, 2, &["bob".into(), "dave".into(), "ghost".into()])
        .await
        .expect("request");
    assert_eq!(missing, vec!["dave", "ghost"]);
    let pr = fake.pull_request(O, R, 2).unwrap();
    assert_eq!(
        pr.requested_reviewers
            .iter()
            .map(|u| u.login.as_str())
            .collect::<Vec<_>>(),
        vec!["bob"]
    );
    // Reviewing fulfils the request.
    let review = fake
        .client("bob")
        .create_review(
            O,
            R,
            2,
            &DraftReview {
                body: String::new(),
                event: "APPROVE".into(),
                commit_id: None,
            },
        )
        .await
        .expect("review");
    assert_eq!(review.state, "APPROVED");
    assert!(
        fake.pull_request(O, R, 2)
            .unwrap()
            .requested_reviewers
            .is_empty()
    );

    let kinds = common::kinds(&common::drain(&mut rx));
    let actions: Vec<String> = kinds.iter().map(|(e, a)| format!("{e}/{a}")).collect();
    assert_eq!(
        actions,
        vec![
            "issues/assigned",
            "issues/assigned",
            "issues/unassigned",
            "pull_request/review_requested",
            "pull_request_review/submitted"
        ]
    );
}

#[tokio::test]
async fn reviews_are_upper_case_in_rest_and_lower_case_in_webhooks() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let alice = fake.client("alice");
    let dave = fake.client("dave");
    let draft = |event: &str, body: &str| DraftReview {
        body: body.into(),
        event: event.into(),
        commit_id: None,
    };
    assert_eq!(
        dave.create_review(O, R, 2, &draft("APPROVE", "")).await,
        Err(GitHubError::Unprocessable(
            "Can not approve your own pull request".into()
        ))
    );
    assert!(matches!(
        alice
            .create_review(O, R, 2, &draft("REQUEST_CHANGES", ""))
            .await,
        Err(GitHubError::Unprocessable(_))
    ));
    alice
        .create_review(O, R, 2, &draft("REQUEST_CHANGES", "please fix"))
        .await
        .expect("changes");
    alice
        .create_review(O, R, 2, &draft("COMMENT", "/lgtm"))
        .await
        .expect("comment");
    let reviews = alice.list_reviews(O, R, 2).await.unwrap();
    let states: Vec<&str> = reviews.iter().map(|r| r.state.as_str()).collect();
    assert_eq!(states, vec!["CHANGES_REQUESTED", "COMMENTED"]);
    let head = fake.pull_request(O, R, 2).unwrap().head.sha;
    assert!(reviews.iter().all(|r| r.commit_id == head));

    let states: Vec<String> = common::drain(&mut rx)
        .iter()
        .map(|d| match parse(&d.event_type, &d.body).unwrap() {
            Event::PullRequestReview(e) => {
                assert_eq!(e.pull_request.number, 2);
                e.review.state
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(states, vec!["changes_requested", "commented"]);
}

#[tokio::test]
async fn statuses_combine_like_github() {
    let fake = common::example();
    let bot = fake.client("prow-bot");
    let head = fake.pull_request(O, R, 2).unwrap().head.sha;
    let status = |state: &str, context: &str| Status {
        state: state.into(),
        context: context.into(),
        description: Some(format!("{context} is {state}")),
        target_url: Some("https://prow.example.com/view/1".into()),
    };
    assert_eq!(
        bot.get_combined_status(O, R, &head).await.unwrap().state,
        "pending"
    );
    bot.create_status(O, R, &head, &status("pending", "unit"))
        .await
        .unwrap();
    bot.create_status(O, R, &head[..10], &status("success", "lint"))
        .await
        .unwrap();
    assert_eq!(
        bot.get_combined_status(O, R, &head).await.unwrap().state,
        "pending"
    );
    bot.create_status(O, R, &head, &status("success", "unit"))
        .await
        .unwrap();
    let combined = bot.get_combined_status(O, R, "shiny").await.unwrap();
    assert_eq!(combined.sha, head);
    assert_eq!(combined.state, "success");
    assert_eq!(combined.total_count, 2);
    bot.create_status(O, R, &head, &status("failure", "lint"))
        .await
        .unwrap();
    assert_eq!(
        bot.get_combined_status(O, R, &head).await.unwrap().state,
        "failure"
    );
    assert_eq!(
        fake.pull_request(O, R, 2)
            .unwrap()
            .mergeable_state
            .as_deref(),
        Some("unstable")
    );
    let all = fake.statuses(O, R, &head);
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[0].creator.as_ref().map(|u| u.login.as_str()),
        Some("prow-bot")
    );
    assert!(matches!(
        bot.create_status(O, R, &head, &status("bogus", "x")).await,
        Err(GitHubError::Unprocessable(_))
    ));
    assert!(matches!(
        bot.create_status(O, R, "0000000", &status("success", "x"))
            .await,
        Err(GitHubError::Unprocessable(_))
    ));
    let long = Status {
        description: Some("x".repeat(141)),
        ..status("success", "x")
    };
    assert!(matches!(
        bot.create_status(O, R, &head, &long).await,
        Err(GitHubError::Unprocessable(_))
    ));
}

#[tokio::test]
async fn git_data_reads_are_real() {
    let fake = common::example();
    let bot = fake.client("prow-bot");
    let main = fake.branch_sha(O, R, "main").expect("main");
    assert_eq!(bot.get_ref(O, R, "heads/main").await.unwrap(), main);
    assert!(
        bot.get_ref(O, R, "heads/nope")
            .await
            .unwrap_err()
            .is_not_found()
    );

    let owners = bot.get_file(O, R, "OWNERS", None).await.expect("OWNERS");
    assert_eq!(
        String::from_utf8(owners).unwrap(),
        "approvers:\n  - alice\nreviewers:\n  - bob\n"
    );
    let version = bot
        .get_file(O, R, "VERSION", Some("release-1.0"))
        .await
        .expect("VERSION");
    assert_eq!(version, b"1.0.0\n");
    assert!(
        bot.get_file(O, R, "VERSION", None)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        bot.get_file(O, R, "src", None).await.is_err(),
        "a directory is not a file"
    );
    let shiny = bot
        .get_file(O, R, "src/widget.go", Some("shiny"))
        .await
        .unwrap();
    assert!(String::from_utf8(shiny).unwrap().contains("shiny widget"));

    let tree = bot.get_tree_recursive(O, R, "main").await.unwrap();
    let paths: Vec<&str> = tree.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "OWNERS",
            "OWNERS_ALIASES",
            "README.md",
            "src",
            "src/widget.go"
        ]
    );
    assert_eq!(tree[3].kind, "tree");
    assert_eq!(tree[4].kind, "blob");

    let commit = bot.get_single_commit(O, R, &main).await.unwrap();
    assert_eq!(commit.sha, main);
    assert!(commit.parents.is_empty());
    assert_eq!(commit.commit.message, "Initial commit");
    assert_eq!(commit.commit.tree.sha.len(), 40);
    assert_eq!(commit.files.len(), 4);
    let head = fake.pull_request(O, R, 2).unwrap().head.sha;
    let head_commit = bot.get_single_commit(O, R, &head).await.unwrap();
    assert_eq!(
        head_commit
            .parents
            .iter()
            .map(|p| p.sha.as_str())
            .collect::<Vec<_>>(),
        vec![main.as_str()]
    );
    assert_eq!(
        head_commit.author.as_ref().map(|u| u.login.as_str()),
        Some("dave")
    );

    let changes = bot.get_pull_request_changes(O, R, 2).await.unwrap();
    let summary: Vec<(&str, &str, u64, u64)> = changes
        .iter()
        .map(|c| {
            (
                c.filename.as_str(),
                c.status.as_str(),
                c.additions,
                c.deletions,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("docs/shiny.md", "added", 1, 0),
            ("src/widget.go", "modified", 1, 1)
        ]
    );
    assert!(
        changes[1]
            .patch
            .as_deref()
            .unwrap()
            .contains("+func Widget() string { return \"shiny widget\" }")
    );
    let pr = bot.get_pull_request(O, R, 2).await.unwrap();
    assert_eq!(
        (pr.additions, pr.deletions, pr.changed_files, pr.commits),
        (2, 1, 2, 1)
    );
    assert_eq!(pr.base.sha, main);
    assert_eq!(pr.head.git_ref, "shiny");
    assert_eq!(pr.mergeable, Some(true));
    assert_eq!(
        pr.labels
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>(),
        vec!["needs-ok-to-test"]
    );
    assert_eq!(
        pr.assignees
            .iter()
            .map(|u| u.login.as_str())
            .collect::<Vec<_>>(),
        vec!["alice"]
    );
    let open: Vec<u64> = bot
        .list_open_pull_requests(O, R)
        .await
        .unwrap()
        .iter()
        .map(|p| p.number)
        .collect();
    assert_eq!(open, vec![2]);
}

#[tokio::test]
async fn issues_close_reopen_and_record_events() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let bot = fake.client("prow-bot");
    bot.add_labels(O, R, 1, &["lgtm".into()]).await.unwrap();
    bot.close_issue(O, R, 1, Some("not_planned")).await.unwrap();
    let issue = bot.get_issue(O, R, 1).await.unwrap();
    assert_eq!(issue.state, "closed");
    assert!(issue.closed_at.is_some());
    bot.reopen_issue(O, R, 1).await.unwrap();
    assert_eq!(bot.get_issue(O, R, 1).await.unwrap().state, "open");
    let events: Vec<(String, String)> = bot
        .list_issue_events(O, R, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.actor.login))
        .collect();
    assert_eq!(
        events,
        vec![
            ("labeled".to_owned(), "prow-bot".to_owned()),
            ("closed".to_owned(), "prow-bot".to_owned()),
            ("reopened".to_owned(), "prow-bot".to_owned())
        ]
    );
    let labeled = &bot.list_issue_events(O, R, 1).await.unwrap()[0];
    assert_eq!(
        labeled.label.as_ref().map(|l| l.name.as_str()),
        Some("lgtm")
    );
    let deliveries = common::drain(&mut rx);
    let payloads: Vec<_> = deliveries
        .iter()
        .map(|d| parse(&d.event_type, &d.body).unwrap())
        .collect();
    let actions: Vec<&str> = payloads
        .iter()
        .map(|e| match e {
            Event::Issues(i) => i.action.as_str(),
            _ => "other",
        })
        .collect();
    assert_eq!(actions, vec!["labeled", "closed", "reopened"]);
    let Event::Issues(closed) = &payloads[1] else {
        unreachable!()
    };
    assert_eq!(closed.issue.state, "closed");

    // An outsider cannot close someone else's issue; the author can close their own.
    assert!(matches!(
        fake.client("dave").close_issue(O, R, 1, None).await,
        Err(GitHubError::Forbidden(_))
    ));
    fake.client("carol")
        .close_issue(O, R, 1, None)
        .await
        .expect("author closes");
}

#[tokio::test]
async fn identity_and_graphql() {
    let fake = common::example();
    let bot = fake.client("prow-bot");
    let me = bot.bot_user().await.unwrap();
    assert_eq!((me.login.as_str(), me.kind.as_str()), ("prow-bot", "Bot"));
    assert_eq!(me.name.as_deref(), Some("Prow Bot"));
    let data = bot
        .graphql(O, "query { viewer { login } }", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(data, serde_json::json!({"viewer": {"login": "prow-bot"}}));
    let err = bot
        .graphql(
            O,
            "{ repository(owner: \"a\", name: \"b\") { id } }",
            serde_json::json!({}),
        )
        .await;
    assert!(
        matches!(err, Err(GitHubError::GraphQl(ref m)) if m.len() == 1),
        "{err:?}"
    );
    // An undeclared login gets a plain account.
    let ghost = fake.client("ghost").bot_user().await.unwrap();
    assert_eq!(
        (ghost.login.as_str(), ghost.kind.as_str()),
        ("ghost", "User")
    );
}

#[tokio::test]
async fn deleting_a_branch_emits_a_deleting_push() {
    let fake = common::example();
    let mut rx = fake.subscribe();
    let bot = fake.client("prow-bot");
    let before = fake.branch_sha(O, R, "release-1.0").unwrap();
    bot.delete_ref(O, R, "heads/release-1.0").await.unwrap();
    assert_eq!(fake.branch_sha(O, R, "release-1.0"), None);
    assert!(matches!(
        bot.delete_ref(O, R, "heads/main").await,
        Err(GitHubError::Unprocessable(_))
    ));
    let d = common::drain(&mut rx);
    assert_eq!(d.len(), 1);
    let Event::Push(push) = parse("push", &d[0].body).unwrap() else {
        panic!()
    };
    assert!(push.deleted && !push.created);
    assert_eq!(push.before, before);
    assert_eq!(push.after, "0000000000000000000000000000000000000000");
    assert_eq!(push.branch(), Some("release-1.0"));
    assert_eq!(push.org(), "acme");
    assert!(push.head_commit.is_none());
}

#[test]
fn seed_errors_are_reported() {
    let invalid = |yaml: &str| match FakeGitHub::from_seed_yaml(yaml) {
        Err(SeedError::Invalid(m)) => m,
        Err(other) => panic!("expected Invalid, got {other}"),
        Ok(_) => panic!("seed accepted: {yaml}"),
    };
    assert!(invalid("users: [{login: a}, {login: A}]").contains("twice"));
    assert!(invalid("repos: [{name: nope}]").contains("org/repo"));
    assert!(
        invalid("pull_requests: [{repo: a/b, author: x, title: t, head: h}]")
            .contains("unknown repository")
    );
    assert!(invalid("repos: [{name: a/b, labels: [{name: x, color: purple}]}]").contains("color"));
    assert!(
        invalid("repos: [{name: a/b}]\npull_requests: [{repo: a/b, author: x, title: t, head: h}]")
            .contains("no commits")
    );
    assert!(invalid("repos: [{name: a/b, files: {../x: y}}]").contains("path"));
    assert!(invalid("users: [{login: a, token: t}, {login: b, token: t}]").contains("token"));
    assert!(invalid("repos: [{name: a/b}]\nissues: [{repo: a/b, number: 1, author: x, title: t}, {repo: a/b, number: 1, author: x, title: u}]").contains("twice"));
    assert!(matches!(
        FakeGitHub::from_seed_yaml("users: [{login: a, colour: red}]"),
        Err(SeedError::Yaml(_))
    ));
    assert!(matches!(
        FakeGitHub::from_seed_yaml("repos: {"),
        Err(SeedError::Yaml(_))
    ));
}

#[test]
fn seed_numbers_avoid_explicit_ones() {
    let fake = FakeGitHub::from_seed_yaml(
        "repos: [{name: a/b, files: {f: x}}]\n\
         issues: [{repo: a/b, author: x, title: auto}, {repo: a/b, number: 1, author: x, title: one}]\n\
         pull_requests: [{repo: a/b, author: x, title: pr, head: h, files: {f: y}}]",
    )
    .expect("seed");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let c = fake.client("x");
    let titles: Vec<String> = (1..=3)
        .map(|n| {
            rt.block_on(c.get_issue("a", "b", n))
                .map(|i| i.title)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(titles, vec!["one", "pr", "auto"]);
    // The undeclared owner became an org; the undeclared author a user.
    assert!(rt.block_on(c.get_repo("a", "b")).unwrap().owner.kind == "Organization");
}
