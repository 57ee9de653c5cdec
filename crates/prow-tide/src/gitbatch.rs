//! Batch composition with a real checkout (Prow's `pickNewBatch`): clone the repository, check
//! out the base SHA and merge candidates one by one with their merge method, keeping those that
//! apply cleanly. Uses the `git` CLI; the clone source is injected (a local bare repository or a
//! URL), so tests can point it at the simulator's repositories.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::core::{BatchPicker, MergeableBatchPicker, Subpool};
use crate::model::Pr;
use crate::policy::MergeMethod;

/// `(org, repo) → clone source` (path or URL); `None` = no checkout available for that repo.
pub type CloneSource = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// Picks batches by test-merging in a temporary clone; falls back to GitHub's `mergeable` when
/// there is no clone source or git fails.
pub struct GitBatchPicker {
    source: CloneSource,
}

impl GitBatchPicker {
    /// A picker cloning from `source`.
    pub fn new(source: CloneSource) -> GitBatchPicker {
        GitBatchPicker { source }
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Tries to apply `pr` on the current HEAD; on conflict restores HEAD and returns `false`.
fn try_apply(dir: &Path, pr: &Pr, method: MergeMethod) -> Result<bool, String> {
    // Make sure the head commit is present (PR heads of forks live under refs/pull/N/head).
    if git(
        dir,
        &["cat-file", "-e", &format!("{}^{{commit}}", pr.head_sha)],
    )
    .is_err()
    {
        let _ = git(
            dir,
            &[
                "fetch",
                "--quiet",
                "origin",
                &format!("pull/{}/head", pr.number),
            ],
        );
        if git(
            dir,
            &["cat-file", "-e", &format!("{}^{{commit}}", pr.head_sha)],
        )
        .is_err()
        {
            return Ok(false);
        }
    }
    let ok = match method {
        MergeMethod::Merge => git(
            dir,
            &["merge", "--no-ff", "--no-stat", "-m", "merge", &pr.head_sha],
        )
        .is_ok(),
        // Rebase conflicts are approximated by squash conflicts: both replay the PR's changes
        // onto the tip.
        MergeMethod::Squash | MergeMethod::Rebase => {
            git(dir, &["merge", "--squash", "--no-stat", &pr.head_sha]).is_ok()
                && git(dir, &["commit", "--quiet", "--allow-empty", "-m", "squash"]).is_ok()
        }
    };
    if !ok {
        let _ = git(dir, &["merge", "--abort"]);
        git(dir, &["reset", "--quiet", "--hard", "HEAD"])?;
    }
    Ok(ok)
}

fn pick_with_git(
    src: &str,
    sp: &Subpool,
    candidates: &[&Pr],
    limit: i64,
) -> Result<Vec<u64>, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = tmp.path();
    git(dir, &["clone", "--quiet", "--no-checkout", src, "."])?;
    git(dir, &["config", "user.name", "prow"])?;
    git(dir, &["config", "user.email", "prow@localhost"])?;
    git(dir, &["config", "commit.gpgsign", "false"])?;
    git(dir, &["checkout", "--quiet", "--detach", &sp.base_sha])?;
    let mut res = Vec::new();
    for pr in candidates {
        let Some(Some(method)) = sp
            .merge_methods
            .get(&pr.number)
            .copied()
            .or(Some(Some(MergeMethod::Merge)))
        else {
            continue;
        };
        if try_apply(dir, pr, method)? {
            res.push(pr.number);
            if limit > 0 && res.len() as i64 >= limit {
                break;
            }
        }
    }
    Ok(res)
}

impl BatchPicker for GitBatchPicker {
    fn pick(&mut self, sp: &Subpool, candidates: &[&Pr], limit: i64) -> Vec<u64> {
        let Some(src) = (self.source)(&sp.org, &sp.repo) else {
            return MergeableBatchPicker.pick(sp, candidates, limit);
        };
        match pick_with_git(&src, sp, candidates, limit) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(org = %sp.org, repo = %sp.repo, error = %e, "git batch check failed, using GitHub's mergeable");
                MergeableBatchPicker.pick(sp, candidates, limit)
            }
        }
    }
}
