//! `impl GitHub for Client`: each method is one documented route (or a paginated walk of one).
//! Status handling follows Prow's client; dry-run writes answer with plausible values.

use std::borrow::Cow;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Client;
use super::core::{ACCEPT_RAW, AuthFor, Req, Resp, Target};
use super::errmap::Route;
use super::paths::{encode_path, encode_segment as enc, with_query};
use crate::limits::cap_body;
use crate::{
    BranchProtection, CombinedStatus, DraftReview, GitHub, GitHubError, GitObject, Issue,
    IssueComment, IssueEvent, Label, MergeDetails, PullRequest, PullRequestChange, Repo,
    RepositoryCommit, Result, Review, ReviewComment, Status, TreeEntry, User,
};

fn repo_path(org: &str, repo: &str) -> String {
    format!("/repos/{}/{}", enc(org), enc(repo))
}

/// The decoded bytes of a contents-API answer; `Ok(None)` when GitHub left the content out
/// (files over 1 MB: `encoding: "none"`) and it must be fetched raw.
fn decode_contents(resp: &Resp) -> Result<Option<Vec<u8>>> {
    if !resp.content_type().contains("json") {
        // Served raw (an `Accept: …raw` answer, or a proxy that rewrote it).
        return Ok(Some(resp.body.to_vec()));
    }
    #[derive(Deserialize)]
    struct Content {
        #[serde(default)]
        encoding: Option<String>,
        #[serde(default)]
        content: Option<String>,
    }
    let value: Value = resp.json()?;
    if value.is_array() {
        return Err(GitHubError::Decode(format!(
            "{}: is a directory, not a file",
            resp.what
        )));
    }
    let content: Content = serde_json::from_value(value)
        .map_err(|e| GitHubError::Decode(format!("{}: {e}", resp.what)))?;
    match (content.encoding.as_deref(), content.content) {
        (Some("base64"), Some(text)) => {
            // GitHub wraps the base64 at 60 columns.
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map(Some)
                .map_err(|e| GitHubError::Decode(format!("{}: bad base64 content: {e}", resp.what)))
        }
        _ => Ok(None),
    }
}

/// Whether a GraphQL document is a mutation (dry-run must not send it).
fn is_mutation(query: &str) -> bool {
    let body = query
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    body.strip_prefix("mutation")
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

/// Splits reviewer logins into users and `org/team` slugs; teams of another org are invalid.
fn reviewers_body(org: &str, logins: &[String]) -> (Value, Vec<String>) {
    let mut users = Vec::new();
    let mut teams = Vec::new();
    let mut invalid = Vec::new();
    for login in logins {
        match login.split_once('/') {
            Some((team_org, slug)) if team_org.eq_ignore_ascii_case(org) && !slug.is_empty() => {
                teams.push(slug.to_string())
            }
            Some(_) => invalid.push(login.clone()),
            None => users.push(login.clone()),
        }
    }
    (
        json!({"reviewers": users, "team_reviewers": teams}),
        invalid,
    )
}

/// The `state` a review gets from its submit `event`.
fn review_state(event: &str) -> &'static str {
    match event {
        "APPROVE" => "APPROVED",
        "REQUEST_CHANGES" => "CHANGES_REQUESTED",
        "COMMENT" => "COMMENTED",
        _ => "PENDING",
    }
}

impl Client {
    async fn write(
        &self,
        method: Method,
        org: &str,
        path: String,
        route: &'static str,
        body: Option<Value>,
    ) -> Result<Resp> {
        let req = Req {
            method,
            target: Target::Rest(path),
            route: Cow::Borrowed(route),
            auth: AuthFor::Org(org),
            body: body.map(|b| b.to_string().into_bytes()),
            accept: super::core::ACCEPT_JSON,
            retry_404: false,
            always_send: false,
        };
        self.inner.send(req).await
    }

    /// [`Self::write`] whose answer must have one of the `ok` statuses.
    async fn write_checked(
        &self,
        method: Method,
        org: &str,
        path: String,
        route: &'static str,
        body: Option<Value>,
        ok: &[u16],
    ) -> Result<Resp> {
        self.write(method, org, path, route, body)
            .await?
            .check(ok, Route::Default)
    }

    /// A write whose answer carries nothing the caller needs beyond an accepted status.
    async fn write_unit(
        &self,
        method: Method,
        org: &str,
        path: String,
        route: &'static str,
        body: Option<Value>,
        ok: &[u16],
    ) -> Result<()> {
        self.write_checked(method, org, path, route, body, ok)
            .await?;
        Ok(())
    }

    async fn try_request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: Value,
    ) -> Result<Resp> {
        let path = format!(
            "{}/pulls/{number}/requested_reviewers",
            repo_path(org, repo)
        );
        let route = "/repos/:owner/:repo/pulls/:pullId/requested_reviewers";
        self.write_checked(Method::POST, org, path, route, Some(body), &[201])
            .await
    }
}

#[async_trait]
impl GitHub for Client {
    async fn bot_user(&self) -> Result<User> {
        self.inner.bot_user().await
    }

    async fn get_repo(&self, org: &str, repo: &str) -> Result<Repo> {
        self.inner
            .get_json(org, repo_path(org, repo), "/repos/:owner/:repo")
            .await
    }

    async fn get_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Ref {
            #[serde(rename = "ref")]
            name: String,
            object: GitObject,
        }
        let short = git_ref.strip_prefix("refs/").unwrap_or(git_ref);
        let path = format!("{}/git/refs/{}", repo_path(org, repo), encode_path(short));
        let resp = self
            .inner
            .send_ok(Req::get(org, path, "/repos/:owner/:repo/git/refs/:ref"))
            .await?;
        match resp.json::<Value>()? {
            // No exact match: GitHub lists the refs that start with the name instead.
            Value::Array(items) => {
                let full = format!("refs/{short}");
                let refs: Vec<Ref> = serde_json::from_value(Value::Array(items))
                    .map_err(|e| GitHubError::Decode(format!("{}: {e}", resp.what)))?;
                refs.into_iter()
                    .find(|r| r.name == full)
                    .map(|r| r.object.sha)
                    .ok_or_else(|| {
                        GitHubError::NotFound(format!(
                            "{}: no ref named {full}, only refs with that prefix",
                            resp.what
                        ))
                    })
            }
            other => serde_json::from_value::<Ref>(other)
                .map(|r| r.object.sha)
                .map_err(|e| GitHubError::Decode(format!("{}: {e}", resp.what))),
        }
    }

    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        let short = git_ref.strip_prefix("refs/").unwrap_or(git_ref);
        let path = format!("{}/git/refs/{}", repo_path(org, repo), encode_path(short));
        self.write_unit(
            Method::DELETE,
            org,
            path,
            "/repos/:owner/:repo/git/refs/:ref",
            None,
            &[200, 204],
        )
        .await
    }

    async fn get_single_commit(
        &self,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<RepositoryCommit> {
        let path = format!("{}/commits/{}", repo_path(org, repo), enc(sha));
        self.inner
            .get_json(org, path, "/repos/:owner/:repo/commits/:sha")
            .await
    }

    async fn get_file(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<u8>> {
        const ROUTE: &str = "/repos/:owner/:repo/contents/:path";
        let mut url = format!(
            "{}/contents/{}",
            repo_path(org, repo),
            encode_path(path.trim_start_matches('/'))
        );
        if let Some(r) = git_ref.filter(|r| !r.is_empty()) {
            url = with_query(&url, "ref", r);
        }
        // A missing file is an ordinary answer here (optional OWNERS, in-repo config): no retry.
        let resp = self
            .inner
            .send_ok(Req::get(org, url.clone(), ROUTE).no_404_retry())
            .await?;
        if let Some(bytes) = decode_contents(&resp)? {
            return Ok(bytes);
        }
        let raw = Req {
            accept: ACCEPT_RAW,
            ..Req::get(org, url, ROUTE).no_404_retry()
        };
        let resp = self.inner.send_ok(raw).await?;
        Ok(resp.body.to_vec())
    }

    async fn get_tree_recursive(
        &self,
        org: &str,
        repo: &str,
        tree_ish: &str,
    ) -> Result<Vec<TreeEntry>> {
        #[derive(Deserialize)]
        struct Tree {
            #[serde(default)]
            tree: Vec<TreeEntry>,
            #[serde(default)]
            truncated: bool,
        }
        let path = format!(
            "{}/git/trees/{}?recursive=1",
            repo_path(org, repo),
            encode_path(tree_ish)
        );
        let tree: Tree = self
            .inner
            .get_json(org, path, "/repos/:owner/:repo/git/trees/:sha")
            .await?;
        if tree.truncated {
            tracing::warn!(
                org,
                repo,
                tree_ish,
                entries = tree.tree.len(),
                "GitHub truncated the recursive tree"
            );
        }
        Ok(tree.tree)
    }

    async fn get_issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        let path = format!("{}/issues/{number}", repo_path(org, repo));
        self.inner
            .get_json(org, path, "/repos/:owner/:repo/issues/:issueId")
            .await
    }

    async fn get_pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        let path = format!("{}/pulls/{number}", repo_path(org, repo));
        self.inner
            .get_json(org, path, "/repos/:owner/:repo/pulls/:pullId")
            .await
    }

    async fn list_open_pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        let path = format!("{}/pulls?state=open", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/pulls")
            .await
    }

    async fn get_pull_request_changes(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestChange>> {
        let path = format!("{}/pulls/{number}/files", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/pulls/:pullId/files")
            .await
    }

    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        state_reason: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({"state": "closed"});
        if let Some(reason) = state_reason {
            body["state_reason"] = json!(reason);
        }
        let path = format!("{}/issues/{number}", repo_path(org, repo));
        self.write_unit(
            Method::PATCH,
            org,
            path,
            "/repos/:owner/:repo/issues/:issueId",
            Some(body),
            &[200],
        )
        .await
    }

    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        let path = format!("{}/issues/{number}", repo_path(org, repo));
        self.write_unit(
            Method::PATCH,
            org,
            path,
            "/repos/:owner/:repo/issues/:issueId",
            Some(json!({"state": "open"})),
            &[200],
        )
        .await
    }

    async fn merge_pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> Result<()> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct MergeResult {
            merged: Option<bool>,
            message: String,
        }
        let body = serde_json::to_value(details)
            .map_err(|e| GitHubError::Decode(format!("encoding merge: {e}")))?;
        let path = format!("{}/pulls/{number}/merge", repo_path(org, repo));
        let resp = self
            .write(
                Method::PUT,
                org,
                path,
                "/repos/:owner/:repo/pulls/:pullId/merge",
                Some(body),
            )
            .await?
            .check(&[200], Route::Merge)?;
        if resp.dry_run {
            return Ok(());
        }
        let result: MergeResult = serde_json::from_slice(&resp.body).unwrap_or_default();
        if result.merged == Some(false) {
            return Err(GitHubError::UnmergeablePr(result.message));
        }
        Ok(())
    }

    async fn list_issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueComment>> {
        let path = format!("{}/issues/{number}/comments", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/issues/:issueId/comments")
            .await
    }

    async fn create_comment(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<IssueComment> {
        let body = &*cap_body(body);
        let path = format!("{}/issues/{number}/comments", repo_path(org, repo));
        let resp = self
            .write_checked(
                Method::POST,
                org,
                path,
                "/repos/:owner/:repo/issues/:issueId/comments",
                Some(json!({"body": body})),
                &[201],
            )
            .await?;
        if resp.dry_run {
            return Ok(IssueComment {
                body: body.to_string(),
                ..IssueComment::default()
            });
        }
        resp.json()
    }

    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        let body = &*cap_body(body);
        let path = format!("{}/issues/comments/{id}", repo_path(org, repo));
        self.write_unit(
            Method::PATCH,
            org,
            path,
            "/repos/:owner/:repo/issues/comments/:commentId",
            Some(json!({"body": body})),
            &[200],
        )
        .await
    }

    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        let path = format!("{}/issues/comments/{id}", repo_path(org, repo));
        self.write_unit(
            Method::DELETE,
            org,
            path,
            "/repos/:owner/:repo/issues/comments/:commentId",
            None,
            &[200, 204],
        )
        .await
    }

    async fn list_reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        let path = format!("{}/pulls/{number}/reviews", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/pulls/:pullId/reviews")
            .await
    }

    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<Review> {
        let capped;
        let review = match cap_body(&review.body) {
            Cow::Borrowed(_) => review,
            Cow::Owned(b) => {
                capped = DraftReview {
                    body: b,
                    ..review.clone()
                };
                &capped
            }
        };
        let body = serde_json::to_value(review)
            .map_err(|e| GitHubError::Decode(format!("encoding review: {e}")))?;
        let path = format!("{}/pulls/{number}/reviews", repo_path(org, repo));
        let resp = self
            .write_checked(
                Method::POST,
                org,
                path,
                "/repos/:owner/:repo/pulls/:pullId/reviews",
                Some(body),
                &[200],
            )
            .await?;
        if resp.dry_run {
            return Ok(Review {
                body: Some(review.body.clone()),
                state: review_state(&review.event).to_string(),
                commit_id: review.commit_id.clone().unwrap_or_default(),
                ..Review::default()
            });
        }
        resp.json()
    }

    async fn list_review_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<ReviewComment>> {
        let path = format!("{}/pulls/{number}/comments", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/pulls/:pullId/comments")
            .await
    }

    async fn list_issue_events(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueEvent>> {
        let path = format!("{}/issues/{number}/events", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/issues/:issueId/events")
            .await
    }

    async fn get_repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        let path = format!("{}/labels", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/labels")
            .await
    }

    async fn get_issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        let path = format!("{}/issues/{number}/labels", repo_path(org, repo));
        self.inner
            .get_paged(org, path, "/repos/:owner/:repo/issues/:issueId/labels")
            .await
    }

    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        if labels.is_empty() {
            return Ok(());
        }
        let path = format!("{}/issues/{number}/labels", repo_path(org, repo));
        self.write_unit(
            Method::POST,
            org,
            path,
            "/repos/:owner/:repo/issues/:issueId/labels",
            Some(json!({"labels": labels})),
            &[200],
        )
        .await
    }

    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        let path = format!(
            "{}/issues/{number}/labels/{}",
            repo_path(org, repo),
            enc(label)
        );
        self.write_unit(
            Method::DELETE,
            org,
            path,
            "/repos/:owner/:repo/issues/:issueId/labels/:labelId",
            None,
            &[200, 204],
        )
        .await
    }

    async fn assign_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        if logins.is_empty() {
            return Ok(Vec::new());
        }
        let path = format!("{}/issues/{number}/assignees", repo_path(org, repo));
        let resp = self
            .write_checked(
                Method::POST,
                org,
                path,
                "/repos/:owner/:repo/issues/:issueId/assignees",
                Some(json!({"assignees": logins})),
                &[201],
            )
            .await?;
        if resp.dry_run {
            return Ok(Vec::new());
        }
        // GitHub silently skips logins it cannot assign; they are the ones missing afterwards.
        let issue: Issue = resp.json()?;
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
        if logins.is_empty() {
            return Ok(());
        }
        let path = format!("{}/issues/{number}/assignees", repo_path(org, repo));
        self.write_unit(
            Method::DELETE,
            org,
            path,
            "/repos/:owner/:repo/issues/:issueId/assignees",
            Some(json!({"assignees": logins})),
            &[200],
        )
        .await
    }

    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<Vec<String>> {
        let (body, mut missing) = reviewers_body(org, logins);
        let valid: Vec<String> = logins
            .iter()
            .filter(|l| !missing.contains(l))
            .cloned()
            .collect();
        if valid.is_empty() {
            return Ok(missing);
        }
        match self.try_request_review(org, repo, number, body).await {
            Ok(_) => Ok(missing),
            // One invalid reviewer fails the whole request without saying which; like Prow,
            // retry one by one to find out.
            Err(GitHubError::Unprocessable(_)) if valid.len() > 1 => {
                for login in valid {
                    let (body, _) = reviewers_body(org, std::slice::from_ref(&login));
                    match self.try_request_review(org, repo, number, body).await {
                        Ok(_) => {}
                        Err(GitHubError::Unprocessable(_)) => missing.push(login),
                        Err(e) => return Err(e),
                    }
                }
                Ok(missing)
            }
            Err(GitHubError::Unprocessable(_)) => {
                missing.extend(valid);
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
        let (body, _) = reviewers_body(org, logins);
        if logins.is_empty() {
            return Ok(());
        }
        let path = format!(
            "{}/pulls/{number}/requested_reviewers",
            repo_path(org, repo)
        );
        self.write_unit(
            Method::DELETE,
            org,
            path,
            "/repos/:owner/:repo/pulls/:pullId/requested_reviewers",
            Some(body),
            &[200],
        )
        .await
    }

    async fn is_collaborator(&self, org: &str, repo: &str, user: &str) -> Result<bool> {
        let path = format!("{}/collaborators/{}", repo_path(org, repo), enc(user));
        let resp = self
            .inner
            .send(
                Req::get(
                    org,
                    path,
                    "/repos/:owner/:repo/collaborators/:collaboratorId",
                )
                .no_404_retry(),
            )
            .await?
            .check(&[204, 404], Route::Default)?;
        Ok(resp.status == 204)
    }

    async fn is_member(&self, org: &str, user: &str) -> Result<bool> {
        if org.eq_ignore_ascii_case(user) {
            // A personal account "belongs to" itself, so plugins work on personal repos (Prow).
            return Ok(true);
        }
        let path = format!("/orgs/{}/members/{}", enc(org), enc(user));
        let resp = self
            .inner
            .send(Req::get(org, path, "/orgs/:orgname/members/:login").no_404_retry())
            .await?
            .check(&[204, 404, 302], Route::Default)?;
        Ok(resp.status == 204)
    }

    async fn list_team_members(&self, org: &str, team_slug: &str) -> Result<Vec<User>> {
        let path = format!("/orgs/{}/teams/{}/members", enc(org), enc(team_slug));
        self.inner
            .get_paged(org, path, "/orgs/:orgname/teams/:team/members")
            .await
    }

    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        // Absent optional fields are left out rather than sent as null.
        let mut body = json!({"state": status.state});
        if let Some(url) = &status.target_url {
            body["target_url"] = json!(url);
        }
        if let Some(d) = &status.description {
            body["description"] = json!(d);
        }
        body["context"] = json!(status.context);
        let path = format!("{}/statuses/{}", repo_path(org, repo), enc(sha));
        self.write_unit(
            Method::POST,
            org,
            path,
            "/repos/:owner/:repo/statuses/:statusId",
            Some(body),
            &[201],
        )
        .await
    }

    async fn get_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<BranchProtection>> {
        let path = format!(
            "{}/branches/{}/protection",
            repo_path(org, repo),
            encode_path(branch)
        );
        let resp = self
            .inner
            .send_ok(Req::get(
                org,
                path,
                "/repos/:owner/:repo/branches/:branch/protection",
            ))
            .await;
        match resp {
            Ok(resp) => Ok(Some(resp.json()?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn get_combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        let path = format!(
            "{}/commits/{}/status",
            repo_path(org, repo),
            encode_path(git_ref)
        );
        let mut combined: Option<CombinedStatus> = None;
        for page in self
            .inner
            .get_pages(org, path, "/repos/:owner/:repo/commits/:sha/status")
            .await?
        {
            let page: CombinedStatus = page.json()?;
            match combined.as_mut() {
                None => combined = Some(page),
                Some(c) => c.statuses.extend(page.statuses),
            }
        }
        Ok(combined.unwrap_or_default())
    }

    async fn graphql(&self, org: &str, query: &str, variables: Value) -> Result<Value> {
        #[derive(Deserialize)]
        struct GqlError {
            #[serde(default)]
            message: String,
            #[serde(default, rename = "type")]
            kind: Option<String>,
        }
        #[derive(Deserialize)]
        struct GqlResponse {
            #[serde(default)]
            data: Option<Value>,
            #[serde(default)]
            errors: Option<Vec<GqlError>>,
        }
        let mutation = is_mutation(query);
        let mut body = json!({"query": query});
        if !variables.is_null() {
            body["variables"] = variables;
        }
        let req = Req {
            method: Method::POST,
            target: Target::Url(self.inner.graphql_url.clone()),
            route: Cow::Borrowed("/graphql"),
            auth: AuthFor::Org(org),
            body: Some(body.to_string().into_bytes()),
            accept: super::core::ACCEPT_JSON,
            retry_404: false,
            // A query is a read even though it is a POST.
            always_send: !mutation,
        };
        let resp = self.inner.send_ok(req).await?;
        if resp.dry_run {
            return Ok(Value::Object(Default::default()));
        }
        let parsed: GqlResponse = resp.json()?;
        let errors = parsed.errors.unwrap_or_default();
        if errors
            .iter()
            .any(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
        {
            return Err(GitHubError::RateLimited {
                retry_after_secs: None,
            });
        }
        if !errors.is_empty() {
            return Err(GitHubError::GraphQl(
                errors.into_iter().map(|e| e.message).collect(),
            ));
        }
        Ok(parsed.data.unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

    use super::*;

    fn resp(content_type: &'static str, body: &'static str) -> Resp {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Resp {
            status: 200,
            headers,
            body: Bytes::from_static(body.as_bytes()),
            dry_run: false,
            what: "GET /c".into(),
        }
    }

    #[test]
    fn contents_decoding() {
        let b64 = resp(
            "application/json; charset=utf-8",
            r#"{"type":"file","encoding":"base64","content":"IyBoZWxs\nby13b3Js\nZA==\n"}"#,
        );
        assert_eq!(
            decode_contents(&b64).expect("decodes"),
            Some(b"# hello-world".to_vec())
        );
        let big = resp(
            "application/json",
            r#"{"type":"file","encoding":"none","content":""}"#,
        );
        assert_eq!(decode_contents(&big).expect("no content"), None);
        let raw = resp("application/vnd.github.raw; charset=utf-8", "# hi");
        assert_eq!(decode_contents(&raw).expect("raw"), Some(b"# hi".to_vec()));
        let dir = resp(
            "application/json",
            r#"[{"type":"file","name":"README.md"}]"#,
        );
        assert!(
            matches!(decode_contents(&dir), Err(GitHubError::Decode(m)) if m.contains("directory"))
        );
        let bad = resp(
            "application/json",
            r#"{"encoding":"base64","content":"!!!"}"#,
        );
        assert!(matches!(decode_contents(&bad), Err(GitHubError::Decode(_))));
    }

    #[test]
    fn mutation_detection() {
        assert!(is_mutation(
            "mutation { addStar(input: {}) { clientMutationId } }"
        ));
        assert!(is_mutation("# comment\n  mutation Merge($id: ID!) { x }"));
        assert!(!is_mutation("query { viewer { login } }"));
        assert!(!is_mutation("{ viewer { login } }"));
        assert!(!is_mutation("mutationish { x }"));
    }

    #[test]
    fn reviewer_split() {
        let logins = vec![
            "alice".to_string(),
            "k8s/sig-testing".to_string(),
            "other/team".to_string(),
        ];
        let (body, invalid) = reviewers_body("K8S", &logins);
        assert_eq!(
            body,
            json!({"reviewers": ["alice"], "team_reviewers": ["sig-testing"]})
        );
        assert_eq!(invalid, vec!["other/team".to_string()]);
    }

    #[test]
    fn review_states() {
        assert_eq!(review_state("APPROVE"), "APPROVED");
        assert_eq!(review_state("REQUEST_CHANGES"), "CHANGES_REQUESTED");
        assert_eq!(review_state("COMMENT"), "COMMENTED");
        assert_eq!(review_state(""), "PENDING");
    }
}
