//! Contract tests: our client replays real GitHub exchanges recorded by octokit/fixtures
//! (`shared/corpus/github-api/fixtures`). The replay server checks method, path and query (minus
//! `per_page`), JSON body and our standard headers of every request, in recorded order, and
//! answers with the recorded status, headers and body.
//!
//! Scenarios (or entries) whose operation the `GitHub` trait lacks are not replayed:
//! `add-labels-to-issue` #0 (create issue), `labels` #1–4 (create/get/update/delete a repo label),
//! `create-status` #2 (list statuses), `git-refs` #0–3 (list/create/update refs),
//! `add-and-remove-repository-collaborator` (invite, list collaborators; `is_collaborator` is
//! covered in `behaviour.rs`), `paginate-issues` (repository issue listing; pagination is covered
//! in `behaviour.rs`). The `errors` scenario's label creation goes through the generic
//! `Client::request_json`, which shares the engine and error mapping.

mod common;

use prow_github::client::Method;
use prow_github::{Client, GitHub, GitHubError, Label, Repo, Status};

use common::{Replay, config, replay};

fn client(r: &Replay) -> Client {
    Client::new(config(vec![r.base.clone()]), None).expect("client builds")
}

const ORG: &str = "octokit-fixture-org";

#[tokio::test]
async fn add_labels_to_issue() {
    let r = replay("add-labels-to-issue", &[1]).await;
    let labels: Vec<String> = r.request_body(0)["labels"]
        .as_array()
        .expect("recorded labels")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(labels.len(), 3);
    client(&r)
        .add_labels(ORG, "add-labels-to-issue", 1, &labels)
        .await
        .expect("labels added");
    r.finish();
}

#[tokio::test]
async fn list_repository_labels() {
    let r = replay("labels", &[0]).await;
    let got = client(&r)
        .get_repo_labels(ORG, "labels")
        .await
        .expect("labels listed");
    let recorded: Vec<Label> =
        serde_json::from_value(r.response(0).clone()).expect("recorded labels decode");
    assert_eq!(got, recorded);
    assert_eq!(got.len(), 9);
    let gfi = got
        .iter()
        .find(|l| l.name == "good first issue")
        .expect("label with spaces");
    assert_eq!(gfi.color, "7057ff");
    assert_eq!(gfi.description.as_deref(), Some("Good for newcomers"));
    assert!(gfi.default);
    r.finish();
}

#[tokio::test]
async fn create_status_and_read_combined_status() {
    let r = replay("create-status", &[0, 1, 3]).await;
    let c = client(&r);
    let sha = "0000000000000000000000000000000000000001";
    for i in 0..2 {
        let status: Status =
            serde_json::from_value(r.request_body(i).clone()).expect("recorded status");
        c.create_status(ORG, "create-status", sha, &status)
            .await
            .expect("status created");
    }
    let combined = c
        .get_combined_status(ORG, "create-status", sha)
        .await
        .expect("combined status");
    assert_eq!(combined.sha, sha);
    assert_eq!(combined.state, "failure");
    assert_eq!(combined.total_count, 2);
    let contexts: Vec<&str> = combined
        .statuses
        .iter()
        .map(|s| s.context.as_str())
        .collect();
    assert_eq!(contexts, ["example/1", "example/2"]);
    assert_eq!(
        combined.statuses[0].target_url.as_deref(),
        Some("https://example.com")
    );
    r.finish();
}

#[tokio::test]
async fn validation_error_maps_to_unprocessable() {
    let r = replay("errors", &[0]).await;
    let body = r.request_body(0).clone();
    let err = client(&r)
        .request_json(
            Some(ORG),
            Method::POST,
            "/repos/octokit-fixture-org/errors/labels",
            Some(&body),
        )
        .await
        .expect_err("422");
    assert_eq!(
        err,
        GitHubError::Unprocessable("Validation Failed: Label.color invalid".into())
    );
    r.finish();
}

#[tokio::test]
async fn get_content_file_and_directory() {
    let r = replay("get-content", &[0, 1]).await;
    let c = client(&r);
    // Entry 0 lists the root directory: not a file.
    let err = c
        .get_file(ORG, "hello-world", "", None)
        .await
        .expect_err("directory");
    assert!(
        matches!(&err, GitHubError::Decode(m) if m.contains("directory")),
        "{err:?}"
    );
    // Entry 1 was recorded with a raw media type; the bytes come through unchanged.
    let bytes = c
        .get_file(ORG, "hello-world", "README.md", None)
        .await
        .expect("file");
    assert_eq!(bytes, b"# hello-world");
    r.finish();
}

#[tokio::test]
async fn delete_git_ref() {
    let r = replay("git-refs", &[4]).await;
    client(&r)
        .delete_ref(ORG, "git-refs", "refs/heads/test")
        .await
        .expect("ref deleted");
    r.finish();
}

#[tokio::test]
async fn get_repository() {
    let r = replay("get-repository", &[0]).await;
    let repo = client(&r).get_repo(ORG, "hello-world").await.expect("repo");
    let recorded: Repo =
        serde_json::from_value(r.response(0).clone()).expect("recorded repo decodes");
    assert_eq!(repo, recorded);
    assert_eq!(repo.full_name, "octokit-fixture-org/hello-world");
    assert_eq!(repo.default_branch, "master");
    assert_eq!(repo.owner.login, ORG);
    assert!(!repo.private && !repo.archived);
    r.finish();
}

#[tokio::test]
async fn replay_detects_a_wrong_request() {
    // Guard for the harness itself: a request that differs from the recording is reported.
    let r = replay("get-repository", &[0]).await;
    let err = client(&r)
        .get_repo(ORG, "other-repo")
        .await
        .expect_err("mismatch answered with 418");
    assert!(
        matches!(err, GitHubError::Status { status: 418, .. }),
        "{err:?}"
    );
    let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.finish()));
    assert!(finished.is_err(), "finish() must fail on a mismatch");
}
