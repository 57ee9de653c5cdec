//! [`FakeClient`]: the [`GitHub`] trait over the fake's state, in process.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use prow_github::limits::cap_body;
use prow_github::{
    BranchProtection, CombinedStatus, DraftReview, GitHub, GitHubError, Issue, IssueComment,
    IssueEvent, Label, MergeDetails, PullRequest, PullRequestChange, Repo, RepositoryCommit,
    Result, Review, ReviewComment, Status, TreeEntry, User,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::core::{Core, IssuePatch, ReviewInput};

/// A [`GitHub`] client acting as one user of a [`crate::FakeGitHub`]. It calls the same
/// operations as the HTTP routes and decodes the same JSON, so it behaves exactly like the real
/// client talking to [`crate::router`]; like the real client, it cuts bodies it writes to
/// GitHub's limit ([`prow_github::limits::cap_body`]), which the simulator enforces.
#[derive(Clone)]
pub struct FakeClient {
    core: Arc<Core>,
    login: String,
}

fn decode<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| GitHubError::Decode(e.to_string()))
}

fn decode_list<T: DeserializeOwned>(v: Vec<Value>) -> Result<Vec<T>> {
    v.into_iter().map(decode).collect()
}

/// What the real client treats a 404 on a yes/no endpoint as.
fn not_found_is_false(r: Result<bool>) -> Result<bool> {
    match r {
        Err(GitHubError::NotFound(_)) => Ok(false),
        other => other,
    }
}

impl FakeClient {
    pub(crate) fn new(core: Arc<Core>, login: String) -> Self {
        FakeClient { core, login }
    }

    /// The login this client acts as.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// [`Self::call`] for an operation on `org/repo` (owned copies move into the task).
    async fn in_repo<T, F>(&self, org: &str, repo: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &str, &str, &str) -> Result<T> + Send + 'static,
    {
        let (o, r) = (own(org), own(repo));
        self.call(move |c, me| f(c, me, &o, &r)).await
    }

    /// Runs `f` as this user off the async executor (operations may run git).
    async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &str) -> Result<T> + Send + 'static,
    {
        let core = self.core.clone();
        let login = self.login.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || f(&core, &login))
                .await
                .map_err(|e| GitHubError::Transport(format!("fake GitHub task failed: {e}")))?,
            Err(_) => f(&core, &login),
        }
    }
}

fn own(s: &str) -> String {
    s.to_owned()
}

#[async_trait]
impl GitHub for FakeClient {
    async fn bot_user(&self) -> Result<User> {
        self.call(|c, me| c.authenticated_user(me))
            .await
            .and_then(decode)
    }

    async fn get_repo(&self, org: &str, repo: &str) -> Result<Repo> {
        self.in_repo(org, repo, move |c, me, o, r| c.get_repo(me, o, r))
            .await
            .and_then(decode)
    }

    async fn get_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        let g = own(git_ref);
        let v = self
            .in_repo(org, repo, move |c, me, o, r| c.get_ref(me, o, r, &g, true))
            .await?;
        match v.pointer("/object/sha").and_then(Value::as_str) {
            Some(sha) => Ok(sha.to_owned()),
            None => Err(GitHubError::Unprocessable(format!(
                "ref {git_ref} matched several refs, not one"
            ))),
        }
    }

    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        let g = own(git_ref);
        self.in_repo(org, repo, move |c, me, o, r| c.delete_ref(me, o, r, &g))
            .await
    }

    async fn get_single_commit(
        &self,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<RepositoryCommit> {
        let s = own(sha);
        self.in_repo(org, repo, move |c, me, o, r| c.get_commit(me, o, r, &s))
            .await
            .and_then(decode)
    }

    async fn get_file(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<u8>> {
        let (p, g) = (own(path), git_ref.map(own));
        let v = self
            .in_repo(org, repo, move |c, me, o, r| {
                c.get_contents(me, o, r, &p, g.as_deref())
            })
            .await?;
        let Some(content) = v.get("content").and_then(Value::as_str) else {
            return Err(GitHubError::Decode(format!("{path} is not a file")));
        };
        let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| GitHubError::Decode(e.to_string()))
    }

    async fn get_tree_recursive(
        &self,
        org: &str,
        repo: &str,
        tree_ish: &str,
    ) -> Result<Vec<TreeEntry>> {
        let t = own(tree_ish);
        let v = self
            .in_repo(org, repo, move |c, me, o, r| c.get_tree(me, o, r, &t, true))
            .await?;
        decode(v.get("tree").cloned().unwrap_or(Value::Array(Vec::new())))
    }

    async fn get_issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        self.in_repo(org, repo, move |c, me, o, r| c.get_issue(me, o, r, number))
            .await
            .and_then(decode)
    }

    async fn get_pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        self.in_repo(org, repo, move |c, me, o, r| c.get_pull(me, o, r, number))
            .await
            .and_then(decode)
    }

    async fn list_open_pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        self.in_repo(org, repo, move |c, me, o, r| {
            c.list_pulls(me, o, r, "open", None, None)
        })
        .await
        .and_then(decode_list)
    }

    async fn get_pull_request_changes(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestChange>> {
        self.in_repo(org, repo, move |c, me, o, r| c.pull_files(me, o, r, number))
            .await
            .and_then(decode_list)
    }

    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        state_reason: Option<&str>,
    ) -> Result<()> {
        let patch = IssuePatch {
            state: Some("closed".into()),
            state_reason: state_reason.map(own),
            ..IssuePatch::default()
        };
        self.in_repo(org, repo, move |c, me, o, r| {
            c.update_issue(me, o, r, number, patch)
        })
        .await
        .map(|_| ())
    }

    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        let patch = IssuePatch {
            state: Some("open".into()),
            ..IssuePatch::default()
        };
        self.in_repo(org, repo, move |c, me, o, r| {
            c.update_issue(me, o, r, number, patch)
        })
        .await
        .map(|_| ())
    }

    async fn merge_pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> Result<()> {
        let d = details.clone();
        self.in_repo(org, repo, move |c, me, o, r| {
            c.merge_pull(me, o, r, number, &d)
        })
        .await
        .map(|_| ())
    }

    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>> {
        self.in_repo(org, repo, move |c, me, o, r| {
            c.list_issue_comments(me, o, r, number)
        })
        .await
        .and_then(decode_list)
    }

    async fn create_comment(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        // Like the real client: cut to GitHub's limit rather than have the write refused.
        let b = cap_body(body).into_owned();
        self.in_repo(org, repo, move |c, me, o, r| {
            c.create_comment(me, o, r, number, &b)
        })
        .await
        .and_then(decode)
    }

    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        let b = cap_body(body).into_owned();
        self.in_repo(org, repo, move |c, me, o, r| {
            c.edit_comment(me, o, r, id, &b)
        })
        .await
        .map(|_| ())
    }

    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        self.in_repo(org, repo, move |c, me, o, r| c.delete_comment(me, o, r, id))
            .await
    }

    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        self.in_repo(org, repo, move |c, me, o, r| {
            c.list_reviews(me, o, r, number)
        })
        .await
        .and_then(decode_list)
    }

    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<Review> {
        let input = ReviewInput {
            body: cap_body(&review.body).into_owned(),
            event: review.event.clone(),
            commit_id: review.commit_id.clone(),
            comments: Vec::new(),
        };
        self.in_repo(org, repo, move |c, me, o, r| {
            c.create_review(me, o, r, number, input)
        })
        .await
        .and_then(decode)
    }

    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>> {
        self.in_repo(org, repo, move |c, me, o, r| {
            c.list_review_comments(me, o, r, number)
        })
        .await
        .and_then(decode_list)
    }

    async fn list_issue_events(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueEvent>> {
        self.in_repo(org, repo, move |c, me, o, r| {
            c.list_issue_events(me, o, r, number)
        })
        .await
        .and_then(decode_list)
    }

    async fn get_repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        self.in_repo(org, repo, move |c, me, o, r| c.list_repo_labels(me, o, r))
            .await
            .and_then(decode_list)
    }

    async fn get_issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        self.in_repo(org, repo, move |c, me, o, r| {
            c.get_issue_labels(me, o, r, number)
        })
        .await
        .and_then(decode_list)
    }

    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        let l = labels.to_vec();
        self.in_repo(org, repo, move |c, me, o, r| {
            c.add_labels(me, o, r, number, &l)
        })
        .await
        .map(|_| ())
    }

    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        let l = own(label);
        self.in_repo(org, repo, move |c, me, o, r| {
            c.remove_label(me, o, r, number, &l)
        })
        .await
        .map(|_| ())
    }

    async fn assign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        let l = logins.to_vec();
        let issue: Issue = self
            .in_repo(org, repo, move |c, me, o, r| c.assign(me, o, r, number, &l))
            .await
            .and_then(decode)?;
        // Like Prow's client: whoever is not an assignee afterwards could not be assigned.
        Ok(logins
            .iter()
            .filter(|l| !issue.is_assignee(l))
            .cloned()
            .collect())
    }

    async fn unassign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let l = logins.to_vec();
        self.in_repo(org, repo, move |c, me, o, r| {
            c.unassign(me, o, r, number, &l)
        })
        .await
        .map(|_| ())
    }

    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        let l = logins.to_vec();
        match self
            .in_repo(org, repo, move |c, me, o, r| {
                c.request_reviewers(me, o, r, number, &l, &[])
            })
            .await
        {
            Ok(_) => Ok(Vec::new()),
            // GitHub rejects the whole request when one login is not requestable; retry one by
            // one to learn which, as Prow's client does.
            Err(GitHubError::Unprocessable(_)) => {
                let mut missing = Vec::new();
                for login in logins {
                    let l = vec![login.clone()];
                    match self
                        .in_repo(org, repo, move |c, me, o, r| {
                            c.request_reviewers(me, o, r, number, &l, &[])
                        })
                        .await
                    {
                        Ok(_) => {}
                        Err(GitHubError::Unprocessable(_)) => missing.push(login.clone()),
                        Err(e) => return Err(e),
                    }
                }
                Ok(missing)
            }
            Err(e) => Err(e),
        }
    }

    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let l = logins.to_vec();
        self.in_repo(org, repo, move |c, me, o, r| {
            c.unrequest_reviewers(me, o, r, number, &l, &[])
        })
        .await
        .map(|_| ())
    }

    async fn is_collaborator(&self, org: &str, repo: &str, user: &str) -> Result<bool> {
        let u = own(user);
        not_found_is_false(
            self.in_repo(org, repo, move |c, me, o, r| {
                c.is_collaborator(me, o, r, &u)
            })
            .await,
        )
    }

    async fn is_member(&self, org: &str, user: &str) -> Result<bool> {
        let (o, u) = (own(org), own(user));
        not_found_is_false(self.call(move |c, _| c.is_member(&o, &u)).await)
    }

    async fn list_team_members(&self, org: &str, team_slug: &str) -> Result<Vec<User>> {
        let (o, t) = (own(org), own(team_slug));
        self.call(move |c, _| c.list_team_members(&o, &t))
            .await
            .and_then(decode_list)
    }

    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        let (s, st) = (own(sha), status.clone());
        self.in_repo(org, repo, move |c, me, o, r| {
            c.create_status(me, o, r, &s, &st)
        })
        .await
        .map(|_| ())
    }

    async fn get_combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        let g = own(git_ref);
        self.in_repo(org, repo, move |c, me, o, r| {
            c.combined_status(me, o, r, &g)
        })
        .await
        .and_then(decode)
    }

    async fn get_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<BranchProtection>> {
        let b = own(branch);
        let found = self
            .in_repo(org, repo, move |c, me, o, r| {
                c.get_branch_protection(me, o, r, &b)
            })
            .await;
        match found {
            Ok(v) => decode(v).map(Some),
            // Like the real client: GitHub's 404 means "not protected".
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn graphql(&self, _org: &str, query: &str, variables: Value) -> Result<Value> {
        let q = own(query);
        let response = self
            .call(move |c, me| Ok(crate::graphql::execute(c, me, &q, &variables)))
            .await?;
        if let Some(errors) = response
            .get("errors")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            return Err(GitHubError::GraphQl(
                errors
                    .iter()
                    .map(|e| {
                        e.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown error")
                            .to_owned()
                    })
                    .collect(),
            ));
        }
        Ok(response.get("data").cloned().unwrap_or(Value::Null))
    }
}
