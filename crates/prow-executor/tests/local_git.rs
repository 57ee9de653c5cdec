//! Local executor: refs cloned with the real git, the PR merged like clonerefs does.

mod local_common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use local_common::*;
use prow_executor::local::LocalExecutor;
use prow_executor::{Executor, RunPhase};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repo with `main` (base.txt) and a PR head (pr.txt) at `refs/pull/7/head`.
/// Returns (bare path, base sha, PR head sha).
fn seed(root: &Path) -> (std::path::PathBuf, String, String) {
    let work = root.join("seed");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("base.txt"), "base\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "base"]);
    git(&work, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(work.join("pr.txt"), "pr\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "pr change"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["checkout", "-q", "main"]);
    // Move main on, so the PR really needs a merge.
    std::fs::write(work.join("later.txt"), "later\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "later on main"]);
    let base_now = git(&work, &["rev-parse", "HEAD"]);
    let bare = root.join("origin.git");
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    git(&bare, &["update-ref", "refs/pull/7/head", &head]);
    (bare, base_now, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_base_and_merges_the_pull() {
    let env = Env::new();
    let (bare, base_sha, head_sha) = seed(env.tmp.path());
    // Like the fake GitHub's repositories, no ref names the PR head: it is fetched by SHA.
    git(&bare, &["update-ref", "-d", "refs/pull/7/head"]);
    git(&bare, &["update-ref", "-d", "refs/heads/feature"]);
    let mut opts = env.options();
    let bare_str = bare.to_string_lossy().into_owned();
    opts.clone_base =
        Arc::new(move |org, repo| (org == "org" && repo == "repo").then(|| bare_str.clone()));
    let ex = LocalExecutor::new(opts);
    let job = presubmit(
        "run-git",
        r#"test -f base.txt && test -f later.txt && test -f pr.txt && git rev-list --parents -n 1 HEAD > "$ARTIFACTS/parents.txt""#,
        7,
        &base_sha,
        &head_sha,
    );
    ex.start(&job, "11").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(
        st.phase,
        RunPhase::Succeeded,
        "{st:?}\n{:?}",
        ex.logs(&job).await
    );
    let run = ex.run_dir(&job);
    let parents = std::fs::read_to_string(run.join("artifacts/parents.txt")).unwrap();
    let parents: Vec<&str> = parents.split_whitespace().collect();
    assert_eq!(parents.len(), 3, "HEAD is a merge commit: {parents:?}");
    assert_eq!(parents[1], base_sha);
    assert_eq!(parents[2], head_sha);
    let clone_dir = run.join("src/github.com/org/repo");
    assert_eq!(
        git(&clone_dir, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );

    let dir = "pr-logs/pull/org_repo/7/local-test-job/11";
    let started = env.json(&format!("{dir}/started.json")).await;
    assert_eq!(started["repo-commit"], parents[0]);
    let clone_log = env.object(&format!("{dir}/clone-log.txt")).await;
    assert!(clone_log.contains("git merge --no-ff"), "{clone_log}");
    let records = env.json(&format!("{dir}/clone-records.json")).await;
    assert_eq!(records[0]["final_sha"], parents[0]);
    assert_eq!(
        env.json(&format!("{dir}/finished.json")).await["passed"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_fetched_by_ref_when_no_sha() {
    let env = Env::new();
    let (bare, base_sha, head_sha) = seed(env.tmp.path());
    let mut opts = env.options();
    let bare_str = bare.to_string_lossy().into_owned();
    opts.clone_base = Arc::new(move |_, _| Some(bare_str.clone()));
    let ex = LocalExecutor::new(opts);
    // Without a SHA clonerefs fetches pull/<n>/head.
    let job = presubmit("run-git-ref", "test -f pr.txt", 7, &base_sha, "");
    ex.start(&job, "12").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(
        st.phase,
        RunPhase::Succeeded,
        "{st:?}\n{:?}",
        ex.logs(&job).await
    );
    let clone_dir = ex.run_dir(&job).join("src/github.com/org/repo");
    let parents = git(&clone_dir, &["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert!(parents.ends_with(&head_sha), "{parents}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_failure_fails_the_run_like_initupload() {
    let env = Env::new();
    let mut opts = env.options();
    let missing = env.tmp.path().join("no-such-repo.git");
    let missing = missing.to_string_lossy().into_owned();
    opts.clone_base = Arc::new(move |_, _| Some(missing.clone()));
    let ex = LocalExecutor::new(opts);
    let job = presubmit("run-noclone", "echo should not run", 3, "abc", "def");
    ex.start(&job, "13").await.unwrap();
    let st = wait_done(&ex, &job).await;
    assert_eq!(st.phase, RunPhase::Failed);
    assert_eq!(
        st.message.as_deref(),
        Some("cloning the appropriate refs failed")
    );
    let dir = "pr-logs/pull/org_repo/3/local-test-job/13";
    let finished = env.json(&format!("{dir}/finished.json")).await;
    assert_eq!(finished["passed"], false);
    assert_eq!(finished["result"], "FAILURE");
    let log = env.object(&format!("{dir}/build-log.txt")).await;
    assert!(log.contains("# FAILED"), "{log}");
    assert!(!log.contains("should not run"));
    assert!(env.exists(&format!("{dir}/started.json")).await);
    assert!(ex.logs(&job).await.unwrap().unwrap().contains("# FAILED"));
}
