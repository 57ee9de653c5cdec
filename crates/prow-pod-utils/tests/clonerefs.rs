//! clonerefs and initupload against local bare repositories (no network).

use std::fs;
use std::path::Path;
use std::process::Command;

use prow_api::{Pull, Refs};
use prow_pod_utils::clone::Record;
use prow_pod_utils::clonerefs::{CloneRefsOptions, RunSettings, run};
use prow_pod_utils::initupload::{self, InitUploadOptions};
use prow_pod_utils::log::Logger;
use prow_pod_utils::upload::{GcsUploadOptions, LocalUploader};
use prow_pod_utils::{JobSpec, clone};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Upstream {
    _tmp: tempfile::TempDir,
    uri: String,
    base: String,
    pr1: String,
    pr2: String,
}

/// A bare repo with `main` and two PR heads at `refs/pull/N/head`.
fn upstream() -> Upstream {
    let tmp = tempfile::tempdir().unwrap();
    let bare = tmp.path().join("upstream.git");
    let work = tmp.path().join("work");
    fs::create_dir_all(&work).unwrap();
    git(tmp.path(), &["init", "--bare", bare.to_str().unwrap()]);
    git(&work, &["init"]);
    fs::write(work.join("README"), "base\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-m", "base"]);
    let base = git(&work, &["rev-parse", "HEAD"]);
    git(
        &work,
        &["push", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    );
    git(&work, &["checkout", "-b", "pr1"]);
    fs::write(work.join("one.txt"), "1\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-m", "pr1"]);
    let pr1 = git(&work, &["rev-parse", "HEAD"]);
    git(
        &work,
        &["push", bare.to_str().unwrap(), "HEAD:refs/pull/1/head"],
    );
    git(&work, &["checkout", "main"]);
    git(&work, &["checkout", "-b", "pr2"]);
    fs::write(work.join("two.txt"), "2\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-m", "pr2"]);
    let pr2 = git(&work, &["rev-parse", "HEAD"]);
    git(
        &work,
        &["push", bare.to_str().unwrap(), "HEAD:refs/pull/2/head"],
    );
    Upstream {
        uri: format!("file://{}", bare.display()),
        _tmp: tmp,
        base,
        pr1,
        pr2,
    }
}

fn refs(u: &Upstream, pulls: Vec<Pull>) -> Refs {
    Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        base_sha: u.base.clone(),
        pulls,
        clone_uri: u.uri.clone(),
        ..Default::default()
    }
}

fn options(src: &Path, log: &Path, refs: Vec<Refs>) -> CloneRefsOptions {
    CloneRefsOptions {
        src_root: src.display().to_string(),
        log: log.display().to_string(),
        git_user_name: "ci-robot".into(),
        git_user_email: "ci-robot@example.com".into(),
        refs,
        ..Default::default()
    }
}

fn quick() -> RunSettings {
    RunSettings {
        fetch_retries: Vec::new(),
        ..Default::default()
    }
}

#[test]
fn clones_base_and_merges_pulls() {
    let u = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("go");
    let log_file = tmp.path().join("clone.json");
    let pulls = vec![
        Pull {
            number: 1,
            sha: u.pr1.clone(),
            ..Default::default()
        },
        // No SHA: fetched as pull/2/head and merged from FETCH_HEAD.
        Pull {
            number: 2,
            ..Default::default()
        },
    ];
    let mut aliased = refs(&u, Vec::new());
    aliased.path_alias = "example.com/alias".into();
    aliased.base_sha.clear();
    aliased.skip_submodules = true;
    let o = options(&src, &log_file, vec![refs(&u, pulls), aliased]);
    o.validate(&Logger::silent("t")).unwrap();
    let records = run(&o, &quick(), &Logger::silent("t")).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0], Record::default());
    let r = &records[1];
    assert!(!r.failed, "{}", clone::format_record(r));
    let repo = src.join("src/github.com/org/repo");
    assert!(repo.join("one.txt").exists() && repo.join("two.txt").exists());
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), r.final_sha);
    assert_eq!(git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    // Two --no-ff merges on top of the base.
    let parents = git(&repo, &["log", "--format=%P", "-n", "1"]);
    assert_eq!(parents.split(' ').count(), 2);
    let name = Command::new("git")
        .args(["config", "--local", "user.name"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&name.stdout).trim(), "ci-robot");
    // The commands are rendered like Prow's.
    assert_eq!(
        r.commands[0].command,
        format!("PWD=/  mkdir -p {}", repo.display())
    );
    assert_eq!(
        r.commands[1].command,
        format!("PWD={}  git init", repo.display())
    );
    assert!(r.commands.iter().any(|c| {
        c.command
            .ends_with(&format!("git fetch {} pull/2/head", u.uri))
    }));
    assert!(
        r.commands
            .iter()
            .any(|c| c.command.contains("GIT_AUTHOR_DATE="))
    );
    assert!(
        r.commands
            .last()
            .unwrap()
            .command
            .ends_with("git submodule update --init --recursive")
    );
    // Aliased repo checked out from the branch, without submodule update.
    let alias = &records[2];
    assert!(!alias.failed, "{}", clone::format_record(alias));
    assert_eq!(alias.final_sha, u.base);
    assert!(src.join("src/example.com/alias/README").exists());
    assert!(
        !alias
            .commands
            .iter()
            .any(|c| c.command.contains("submodule"))
    );

    // The records file is Prow's JSON and feeds started.json.
    let written: Vec<Record> = serde_json::from_slice(&fs::read(&log_file).unwrap()).unwrap();
    assert_eq!(written, records);
    let spec = JobSpec {
        job_type: Some(prow_api::ProwJobType::Presubmit),
        job: "pull-test".into(),
        build_id: "1".into(),
        refs: Some(o.refs[0].clone()),
        ..Default::default()
    };
    let started = prow_pod_utils::downwardapi::spec_to_started(&spec, &written, 5);
    assert_eq!(started.repo_commit, r.final_sha);
    assert_eq!(started.pull, "1");
    let _ = u.pr2;
}

#[test]
fn failed_clone_is_recorded_and_fails_initupload() {
    let u = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("go");
    let log_file = tmp.path().join("clone.json");
    let bad = refs(
        &u,
        vec![Pull {
            number: 99,
            ..Default::default()
        }],
    );
    let o = options(&src, &log_file, vec![bad]);
    let records = run(&o, &quick(), &Logger::silent("t")).unwrap();
    assert!(records[1].failed);
    let last = records[1].commands.last().unwrap();
    assert!(last.command.ends_with("pull/99/head"));
    assert_eq!(last.error, "exit status 128");
    assert!(records[1].final_sha.is_empty());

    // With `fail`, clonerefs itself fails (after writing the records).
    let mut strict = o.clone();
    strict.fail = true;
    assert_eq!(
        run(&strict, &quick(), &Logger::silent("t")).unwrap_err(),
        "1 clone records failed"
    );
    assert!(log_file.exists());

    // initupload uploads the clone log, a failing finished.json, and fails.
    let out = tmp.path().join("out");
    let init = InitUploadOptions {
        gcs: GcsUploadOptions {
            gcs_configuration: prow_api::GcsConfiguration {
                bucket: format!("file://{}", out.display()),
                path_strategy: "explicit".into(),
                ..Default::default()
            },
            ..Default::default()
        },
        log: log_file.display().to_string(),
    };
    init.validate().unwrap();
    let spec = JobSpec {
        job_type: Some(prow_api::ProwJobType::Presubmit),
        job: "pull-test".into(),
        build_id: "55".into(),
        refs: Some(o.refs[0].clone()),
        ..Default::default()
    };
    let up = LocalUploader::new(&out);
    let err = initupload::run(&init, &spec, &up, &Logger::silent("t"), 1000).unwrap_err();
    assert_eq!(err, "cloning the appropriate refs failed");
    let dir = out.join("pr-logs/pull/org_repo/99/pull-test/55");
    let finished = fs::read_to_string(dir.join("finished.json")).unwrap();
    assert_eq!(
        finished,
        r#"{"timestamp":1000,"passed":false,"result":"FAILURE"}"#
    );
    let clone_log = fs::read_to_string(dir.join("clone-log.txt")).unwrap();
    assert!(clone_log.starts_with("Environment setup\n"), "{clone_log}");
    assert!(clone_log.contains("# FAILED\n# Cloning org/repo at main("));
    assert_eq!(
        fs::read_to_string(dir.join("build-log.txt")).unwrap(),
        clone_log
    );
    assert_eq!(
        fs::read(dir.join("clone-records.json")).unwrap(),
        fs::read(&log_file).unwrap()
    );
    let started = fs::read_to_string(dir.join("started.json")).unwrap();
    assert!(
        started.starts_with(r#"{"timestamp":1000,"pull":"99""#),
        "{started}"
    );
    // Pointers and alias at the bucket root.
    assert_eq!(
        fs::read_to_string(out.join("pr-logs/directory/pull-test/55.txt")).unwrap(),
        format!(
            "file://{}/pr-logs/pull/org_repo/99/pull-test/55",
            out.display()
        )
    );
    assert_eq!(
        fs::read_to_string(out.join("pr-logs/directory/pull-test/latest-build.txt")).unwrap(),
        "55"
    );
    assert_eq!(
        fs::read_to_string(out.join("pr-logs/pull/org_repo/99/pull-test/latest-build.txt"))
            .unwrap(),
        "55"
    );

    // A missing clone log is an error before anything is uploaded.
    let mut missing = init.clone();
    missing.log = tmp.path().join("nope.json").display().to_string();
    assert!(
        initupload::run(&missing, &spec, &up, &Logger::silent("t"), 1)
            .unwrap_err()
            .starts_with("could not read clone log")
    );
}
