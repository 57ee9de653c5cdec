//! The built-in plugins, one module each, named as in `plugins.yaml`.

pub mod approve;
pub mod assign;
pub mod help;
pub mod hold;
pub mod label;
pub mod lgtm;
pub mod lifecycle;
pub mod size;
pub mod trigger;
pub mod wip;

use prow_github::events::PullRequestEvent;
use prow_github::{GitHub, GitHubError, PullRequest};

/// Org and repo of a pull request's base repository, falling back to the event's repository
/// (Prow reads `pull_request.base.repo.owner.login`).
pub(crate) fn base_org_repo(pe: &PullRequestEvent) -> (String, String) {
    pr_org_repo(&pe.pull_request, &pe.repository)
}

pub(crate) fn pr_org_repo(pr: &PullRequest, fallback: &prow_github::Repo) -> (String, String) {
    match &pr.base.repo {
        Some(r) if !r.name.is_empty() && !r.owner.login.is_empty() => {
            (r.owner.login.clone(), r.name.clone())
        }
        _ => (fallback.owner.login.clone(), fallback.name.clone()),
    }
}

/// Adds one label.
pub(crate) async fn add_label(
    gh: &dyn GitHub,
    org: &str,
    repo: &str,
    number: u64,
    label: &str,
) -> Result<(), GitHubError> {
    gh.add_labels(org, repo, number, &[label.to_owned()]).await
}
