//! Pull requests: opening, editing, files and commits, real merges, reviews, review comments
//! and review requests.

use prow_github::{GitHubError, MergeDetails};
use serde_json::{Value, json};

use crate::git;
use crate::render;
use crate::state::{IssueRec, PrRec, ReviewCommentRec, ReviewRec, State, now, repo_key};

use super::issues::Edit;
use super::{Changes, Core, R, check_body_len};

/// `POST /repos/{o}/{r}/pulls`.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewPr {
    pub title: String,
    pub body: Option<String>,
    /// `branch` or `owner:branch` (same repository only).
    pub head: String,
    pub base: String,
    pub draft: bool,
}

/// `PATCH /repos/{o}/{r}/pulls/{n}`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrPatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub state: Option<String>,
    pub base: Option<String>,
}

/// A comment on a diff line, alone or as part of a review.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewReviewComment {
    pub body: String,
    pub path: String,
    pub position: Option<u64>,
    pub line: Option<u64>,
    /// `LEFT` or `RIGHT` (default).
    pub side: Option<String>,
    pub commit_id: Option<String>,
    pub in_reply_to: Option<u64>,
}

/// `POST /pulls/{n}/reviews`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReviewInput {
    pub body: String,
    /// `APPROVE`, `REQUEST_CHANGES`, `COMMENT`, or empty for a pending review.
    pub event: String,
    pub commit_id: Option<String>,
    pub comments: Vec<NewReviewComment>,
}

/// Where a comment lands in a file's patch: (position, line, diff hunk up to that line).
fn locate_in_patch(
    patch: &str,
    position: Option<u64>,
    line: Option<u64>,
    left: bool,
) -> Option<(u64, Option<u64>, String)> {
    let lines: Vec<&str> = patch.lines().collect();
    let (mut old, mut new) = (0u64, 0u64);
    let mut hunk_start = 0;
    for (i, l) in lines.iter().enumerate() {
        let this_line;
        if let Some(header) = l.strip_prefix("@@ ") {
            // "@@ -a,b +c,d @@": the next lines are old line a and new line c.
            let mut parts = header.split_whitespace();
            let parse = |p: Option<&str>, sign: char| -> u64 {
                p.and_then(|s| s.strip_prefix(sign))
                    .and_then(|s| s.split(',').next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1)
            };
            old = parse(parts.next(), '-').saturating_sub(1);
            new = parse(parts.next(), '+').saturating_sub(1);
            hunk_start = i;
            this_line = None;
        } else if l.starts_with('+') {
            new += 1;
            this_line = (!left).then_some(new);
        } else if l.starts_with('-') {
            old += 1;
            this_line = left.then_some(old);
        } else {
            old += 1;
            new += 1;
            this_line = Some(if left { old } else { new });
        }
        // Position counts lines below the file's first hunk header.
        let pos = i as u64;
        let hit = match (position, line) {
            (Some(p), _) => p == pos && i > 0,
            (None, Some(want)) => this_line == Some(want),
            (None, None) => false,
        };
        if hit {
            return Some((pos, this_line, lines[hunk_start..=i].join("\n")));
        }
    }
    None
}

fn review_state(event: &str) -> R<&'static str> {
    match event.to_ascii_uppercase().as_str() {
        "APPROVE" => Ok("APPROVED"),
        "REQUEST_CHANGES" => Ok("CHANGES_REQUESTED"),
        "COMMENT" => Ok("COMMENTED"),
        "" | "PENDING" => Ok("PENDING"),
        other => Err(GitHubError::Unprocessable(format!(
            "invalid review event {other:?}"
        ))),
    }
}

impl Core {
    pub fn get_pull(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<Value> {
        self.warm_pull(org, repo, number);
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(self.pr_json(&st, r, r.pull(number)?))
    }

    /// `GET /pulls?state=&base=&head=`: newest first.
    pub fn list_pulls(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        state: &str,
        base: Option<&str>,
        head: Option<&str>,
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let head = head.map(|h| h.split_once(':').map_or(h, |(_, b)| b));
        Ok(r.issues
            .values()
            .rev()
            .filter(|i| i.in_state(state))
            .filter(|i| {
                i.pr.as_ref().is_some_and(|p| {
                    base.is_none_or(|b| p.base_ref == b) && head.is_none_or(|h| p.head_ref == h)
                })
            })
            .map(|i| self.pr_json(&st, r, i))
            .collect())
    }

    /// `POST /pulls`: opens a pull request from an existing branch of the same repository.
    pub fn create_pull(&self, actor: &str, org: &str, repo: &str, new: NewPr) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let key = repo_key(org, repo);
        let number = self.create_pull_inner(&mut st, &key, &actor, new)?;
        let r = st.repo(org, repo)?;
        Ok(self.pr_json(&st, r, r.pull(number)?))
    }

    fn create_pull_inner(&self, st: &mut State, key: &str, actor: &str, new: NewPr) -> R<u64> {
        check_body_len(new.body.as_deref().unwrap_or(""))?;
        let r = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        if r.private && !st.can_push(r, actor) {
            return Err(GitHubError::NotFound(key.to_owned()));
        }
        let head =
            match new.head.split_once(':') {
                Some((owner, branch)) if owner.eq_ignore_ascii_case(&r.owner) => branch.to_owned(),
                Some(_) => return Err(GitHubError::Unprocessable(
                    "Validation Failed: head (cross-repository pull requests are not simulated)"
                        .into(),
                )),
                None => new.head.clone(),
            };
        if new.title.trim().is_empty() {
            return Err(GitHubError::Unprocessable(
                "Validation Failed: title missing".into(),
            ));
        }
        let base_sha = r
            .git
            .branch_sha(&new.base)
            .ok_or_else(|| GitHubError::Unprocessable("Validation Failed: base invalid".into()))?;
        let head_sha = r
            .git
            .branch_sha(&head)
            .ok_or_else(|| GitHubError::Unprocessable("Validation Failed: head invalid".into()))?;
        if r.issues.values().any(|i| {
            i.open
                && i.pr
                    .as_ref()
                    .is_some_and(|p| p.head_ref == head && p.base_ref == new.base)
        }) {
            return Err(GitHubError::Unprocessable(format!(
                "A pull request already exists for {}:{head}.",
                r.owner
            )));
        }
        if r.git.is_ancestor(&head_sha, &base_sha) {
            return Err(GitHubError::Unprocessable(format!(
                "No commits between {} and {head}",
                new.base
            )));
        }
        let id = st.id();
        let when = now();
        let r = st
            .repos
            .get_mut(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            IssueRec::opened(
                id,
                number,
                new.title,
                new.body,
                actor.to_ascii_lowercase(),
                when,
                Some(PrRec::opened(head, new.base, head_sha, base_sha, new.draft)),
            ),
        );
        self.emit_issue(st, key, number, actor, "opened", json!({}));
        Ok(number)
    }

    /// Fake-only: `author` pushes `files` to `head` (created from `base` when missing) and opens
    /// a pull request from it.
    pub fn open_pull_request(
        &self,
        author: &str,
        org: &str,
        repo: &str,
        new: NewPr,
        files: Changes,
    ) -> R<u64> {
        // Before the push, so a refused pull request leaves no branch behind.
        check_body_len(new.body.as_deref().unwrap_or(""))?;
        let mut st = self.lock();
        let author = st.ensure_user(author);
        let key = repo_key(org, repo);
        if !git::valid_ref_name(&new.head) {
            return Err(GitHubError::Unprocessable(format!(
                "invalid head branch {:?}",
                new.head
            )));
        }
        let r = st.repo(org, repo)?;
        let before = r.git.branch_sha(&new.head);
        if !files.is_empty() {
            let parent = match &before {
                Some(b) => b.clone(),
                None => r.git.branch_sha(&new.base).ok_or_else(|| {
                    GitHubError::Unprocessable("Validation Failed: base invalid".into())
                })?,
            };
            let sig = st.signature(&author, now());
            let sha = Self::commit_changes(r, Some(&parent), &files, &new.title, &sig, &sig)?;
            self.apply_push(
                &mut st,
                &key,
                &author,
                &format!("refs/heads/{}", new.head),
                before,
                Some(sha),
            )?;
        } else if before.is_none() {
            let base = r.git.branch_sha(&new.base).ok_or_else(|| {
                GitHubError::Unprocessable("Validation Failed: base invalid".into())
            })?;
            self.apply_push(
                &mut st,
                &key,
                &author,
                &format!("refs/heads/{}", new.head),
                None,
                Some(base),
            )?;
        }
        self.create_pull_inner(&mut st, &key, &author, new)
    }

    /// `PATCH /pulls/{n}`: title/body/base edits (one `edited` webhook) and close/reopen.
    pub fn update_pull(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        patch: PrPatch,
    ) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        let issue = r.pull(number)?;
        if !st.can_push(r, &actor) && issue.author != actor {
            return Err(GitHubError::Forbidden(format!(
                "{} cannot edit {}#{number}",
                st.display_login(&actor),
                r.full_name()
            )));
        }
        let key = repo_key(org, repo);
        let mut base_change = None;
        if let Some(base) = patch.base.as_deref() {
            let pr = issue
                .pr
                .as_ref()
                .ok_or_else(|| GitHubError::NotFound(format!("pull {number}")))?;
            if base != pr.base_ref {
                let new_sha = r.git.branch_sha(base).ok_or_else(|| {
                    GitHubError::Unprocessable("Validation Failed: base invalid".into())
                })?;
                let old_sha = Self::base_sha(r, issue);
                base_change =
                    Some(json!({"base": {"ref": {"from": pr.base_ref}, "sha": {"from": old_sha}}}));
                let r = st.repo_mut(org, repo)?;
                if let Some(pr) = r.issue_mut(number)?.pr.as_mut() {
                    pr.base_ref = base.to_owned();
                    pr.base_sha = new_sha;
                }
            }
        }
        let edit = Edit {
            title: patch.title,
            body: patch.body,
            base_change,
        };
        self.edit_title_body(&mut st, &key, number, &actor, edit)?;
        match patch.state.as_deref() {
            Some("closed") => self.close_inner(&mut st, &key, number, &actor, None)?,
            Some("open") => self.reopen_inner(&mut st, &key, number, &actor)?,
            Some(other) => {
                return Err(GitHubError::Unprocessable(format!(
                    "invalid state {other:?}"
                )));
            }
            None => {}
        }
        let r = st.repo(org, repo)?;
        Ok(self.pr_json(&st, r, r.pull(number)?))
    }

    /// `GET /pulls/{n}/files`: the diff from the merge base to the head.
    pub fn pull_files(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<Vec<Value>> {
        self.warm_pull(org, repo, number);
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let issue = r.pull(number)?;
        let Some(pr) = &issue.pr else {
            return Ok(Vec::new());
        };
        let base = Self::base_sha(r, issue);
        let merge_base = r.git.merge_base(&base, &pr.head_sha);
        let diff = r.git.diff(merge_base.as_deref(), &pr.head_sha)?;
        Ok(diff
            .iter()
            .map(|d| render::diff_entry(&st, r, &pr.head_sha, d))
            .collect())
    }

    /// `GET /pulls/{n}/commits`: oldest first.
    pub fn pull_commits(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<Vec<Value>> {
        self.warm_pull(org, repo, number);
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let issue = r.pull(number)?;
        let Some(pr) = &issue.pr else {
            return Ok(Vec::new());
        };
        let base = Self::base_sha(r, issue);
        let merge_base = r.git.merge_base(&base, &pr.head_sha);
        let mut out = Vec::new();
        for sha in r
            .git
            .commits_between(merge_base.as_deref(), &pr.head_sha, false)?
        {
            let info = r.git.commit_info(&sha)?;
            let mut v = render::commit(&st, r, &info, &[]);
            if let Value::Object(m) = &mut v {
                m.remove("files");
                m.remove("stats");
            }
            out.push(v);
        }
        Ok(out)
    }

    /// `GET /pulls/{n}/merge`.
    pub fn is_merged(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<bool> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(r.pull(number)?.pr.as_ref().is_some_and(|p| p.merged))
    }

    /// `PUT /pulls/{n}/merge`: really merges with git (merge commit, squash or rebase), moves
    /// the base branch, closes the pull request and emits `push` then `pull_request` `closed`.
    pub fn merge_pull(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        details: &MergeDetails,
    ) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        st.require_push(r, &actor)?;
        let issue = r.pull(number)?;
        let pr = issue
            .pr
            .as_ref()
            .ok_or_else(|| GitHubError::NotFound(format!("pull {number}")))?;
        if !issue.open || pr.merged {
            return Err(GitHubError::UnmergeablePr(
                "Pull Request is not mergeable".into(),
            ));
        }
        if pr.draft {
            return Err(GitHubError::UnmergeablePr(
                "Pull Request is still a draft".into(),
            ));
        }
        if let Some(sha) = details.sha.as_deref()
            && !sha.eq_ignore_ascii_case(&pr.head_sha)
        {
            return Err(GitHubError::ModifiedHead(
                "Head branch was modified. Review and try the merge again.".into(),
            ));
        }
        let method = details.merge_method.as_deref().unwrap_or("merge");
        let allowed = match method {
            "merge" => r.allow_merge_commit,
            "squash" => r.allow_squash_merge,
            "rebase" => r.allow_rebase_merge,
            other => {
                return Err(GitHubError::Unprocessable(format!(
                    "Invalid merge_method {other:?}"
                )));
            }
        };
        if !allowed {
            let what = match method {
                "merge" => "Merge commits are",
                "squash" => "Squash merges are",
                _ => "Rebase merges are",
            };
            return Err(GitHubError::UnmergeablePr(format!(
                "{what} not allowed on this repository."
            )));
        }
        if let Some(blocked) = super::merge_blocker(&st, r, issue) {
            return Err(GitHubError::UnmergeablePr(blocked.message()));
        }
        let base_tip = r
            .git
            .branch_sha(&pr.base_ref)
            .ok_or_else(|| GitHubError::UnmergeablePr("Base branch was deleted".into()))?;
        let head = pr.head_sha.clone();
        let Some(tree) = r.git.merge_trees(&base_tip, &head, None)? else {
            return Err(GitHubError::UnmergeablePr(
                "Pull Request is not mergeable".into(),
            ));
        };
        let when = now();
        let committer = State::web_committer(when);
        let merger = st.signature(&actor, when);
        let title = details.commit_title.clone();
        let message = details.commit_message.clone();
        let new_tip = match method {
            "merge" => {
                let title = title.unwrap_or_else(|| {
                    format!(
                        "Merge pull request #{number} from {}/{}",
                        r.owner, pr.head_ref
                    )
                });
                let body = message.unwrap_or_else(|| issue.title.clone());
                let full = if body.is_empty() {
                    title
                } else {
                    format!("{title}\n\n{body}")
                };
                r.git
                    .commit_tree(&tree, &[&base_tip, &head], &full, &merger, &committer)?
            }
            "squash" => {
                let merge_base = r.git.merge_base(&base_tip, &head);
                let commits = r.git.commits_between(merge_base.as_deref(), &head, false)?;
                let title = title.unwrap_or_else(|| format!("{} (#{number})", issue.title));
                let body = match message {
                    Some(m) => m,
                    None => {
                        let mut lines = Vec::new();
                        for c in &commits {
                            lines.push(format!("* {}", r.git.commit_info(c)?.message));
                        }
                        lines.join("\n\n")
                    }
                };
                let full = if body.is_empty() {
                    title
                } else {
                    format!("{title}\n\n{body}")
                };
                let author = st.signature(&issue.author, when);
                r.git
                    .commit_tree(&tree, &[&base_tip], &full, &author, &committer)?
            }
            _ => {
                // Replay each commit of the branch onto the base, keeping its author.
                let merge_base = r.git.merge_base(&base_tip, &head);
                let mut onto = base_tip.clone();
                for c in r.git.commits_between(merge_base.as_deref(), &head, true)? {
                    let info = r.git.commit_info(&c)?;
                    let parent = info.parents.first().cloned();
                    let Some(t) = r.git.merge_trees(&onto, &c, parent.as_deref())? else {
                        return Err(GitHubError::UnmergeablePr(
                            "This branch can't be rebased".into(),
                        ));
                    };
                    onto =
                        r.git
                            .commit_tree(&t, &[&onto], &info.message, &info.author, &committer)?;
                }
                onto
            }
        };
        let base_ref = pr.base_ref.clone();
        let key = repo_key(org, repo);
        self.apply_push(
            &mut st,
            &key,
            &actor,
            &format!("refs/heads/{base_ref}"),
            Some(base_tip.clone()),
            Some(new_tip.clone()),
        )?;

        let r = st.repo_mut(org, repo)?;
        let issue = r.issue_mut(number)?;
        issue.open = false;
        issue.closed_at = Some(when);
        issue.closed_by = Some(actor.clone());
        issue.updated_at = when;
        if let Some(pr) = issue.pr.as_mut() {
            pr.merged = true;
            pr.merged_at = Some(when);
            pr.merged_by = Some(actor.clone());
            pr.merge_commit_sha = Some(new_tip.clone());
            pr.base_sha = base_tip;
        }
        Self::record_event(&mut st, &key, number, "merged", &actor, |e| {
            e.commit_id = Some(new_tip.clone())
        });
        Self::record_event(&mut st, &key, number, "closed", &actor, |_| {});
        self.emit_issue(&st, &key, number, &actor, "closed", json!({}));
        Ok(json!({"sha": new_tip, "merged": true, "message": "Pull Request successfully merged"}))
    }

    // ---- reviews ----

    /// `GET /pulls/{n}/reviews`: submitted reviews plus the caller's own pending one.
    pub fn list_reviews(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let pr = r
            .pull(number)?
            .pr
            .as_ref()
            .ok_or_else(|| GitHubError::NotFound(format!("pull {number}")))?;
        let me = actor.to_ascii_lowercase();
        Ok(pr
            .reviews
            .iter()
            .filter(|rv| rv.state != "PENDING" || rv.author == me)
            .map(|rv| render::review(&st, r, number, rv, false))
            .collect())
    }

    /// Builds a review comment record, resolving its place in the diff.
    fn build_review_comment(
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        review_id: u64,
        c: &NewReviewComment,
    ) -> R<ReviewCommentRec> {
        let id = st.id();
        let r = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let issue = r.pull(number)?;
        let pr = issue
            .pr
            .as_ref()
            .ok_or_else(|| GitHubError::NotFound(format!("pull {number}")))?;
        if c.body.trim().is_empty() {
            return Err(GitHubError::Unprocessable(
                "Validation Failed: body missing".into(),
            ));
        }
        let when = now();
        if let Some(parent_id) = c.in_reply_to {
            let parent = pr
                .review_comments
                .iter()
                .find(|x| x.id == parent_id)
                .ok_or_else(|| GitHubError::NotFound(format!("review comment {parent_id}")))?;
            return Ok(ReviewCommentRec {
                id,
                review_id,
                author: actor.to_ascii_lowercase(),
                body: c.body.clone(),
                in_reply_to: Some(parent_id),
                created_at: when,
                updated_at: when,
                ..parent.clone()
            });
        }
        let commit_id = c.commit_id.clone().unwrap_or_else(|| pr.head_sha.clone());
        let base = Self::base_sha(r, issue);
        let merge_base = r.git.merge_base(&base, &commit_id);
        let diff = r.git.diff(merge_base.as_deref(), &commit_id)?;
        let file = diff.iter().find(|d| d.filename == c.path).ok_or_else(|| {
            GitHubError::Unprocessable("Validation Failed: path could not be resolved".into())
        })?;
        let left = c
            .side
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("LEFT"));
        let (position, line, hunk) = file
            .patch
            .as_deref()
            .and_then(|p| locate_in_patch(p, c.position, c.line, left))
            .ok_or_else(|| {
                GitHubError::Unprocessable(
                    "Validation Failed: line must be part of the diff".into(),
                )
            })?;
        Ok(ReviewCommentRec {
            id,
            review_id,
            author: actor.to_ascii_lowercase(),
            body: c.body.clone(),
            path: c.path.clone(),
            commit_id,
            position: Some(position),
            line,
            side: if left { "LEFT".into() } else { "RIGHT".into() },
            in_reply_to: None,
            diff_hunk: hunk,
            created_at: when,
            updated_at: when,
        })
    }

    /// `POST /pulls/{n}/reviews`.
    pub fn create_review(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        input: ReviewInput,
    ) -> R<Value> {
        check_body_len(&input.body)?;
        for c in &input.comments {
            check_body_len(&c.body)?;
        }
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        let issue = r.pull(number)?;
        let pr = issue
            .pr
            .as_ref()
            .ok_or_else(|| GitHubError::NotFound(format!("pull {number}")))?;
        let state = review_state(&input.event)?;
        if issue.author == actor && state == "APPROVED" {
            return Err(GitHubError::Unprocessable(
                "Can not approve your own pull request".into(),
            ));
        }
        if issue.author == actor && state == "CHANGES_REQUESTED" {
            return Err(GitHubError::Unprocessable(
                "Can not request changes on your own pull request".into(),
            ));
        }
        if matches!(state, "CHANGES_REQUESTED" | "COMMENTED")
            && input.body.trim().is_empty()
            && input.comments.is_empty()
        {
            return Err(GitHubError::Unprocessable(format!(
                "Body is required for event {}",
                input.event
            )));
        }
        if state != "PENDING"
            && pr
                .reviews
                .iter()
                .any(|rv| rv.author == actor && rv.state == "PENDING")
        {
            return Err(GitHubError::Unprocessable(
                "User can only have one pending review per pull request".into(),
            ));
        }
        let commit_id = match input.commit_id.as_deref() {
            Some(c) => r.git.resolve(c).ok_or_else(|| {
                GitHubError::Unprocessable(format!("commit_id {c} is not part of the pull request"))
            })?,
            None => pr.head_sha.clone(),
        };
        let key = repo_key(org, repo);
        let review_id = st.id();
        let mut comments = Vec::new();
        for c in &input.comments {
            let c = NewReviewComment {
                commit_id: Some(commit_id.clone()),
                ..c.clone()
            };
            comments.push(Self::build_review_comment(
                &mut st, &key, number, &actor, review_id, &c,
            )?);
        }
        let when = now();
        let submitted = state != "PENDING";
        let review = ReviewRec {
            id: review_id,
            author: actor.clone(),
            body: input.body,
            state: state.to_owned(),
            commit_id,
            submitted_at: submitted.then_some(when),
        };
        let r = st.repo_mut(org, repo)?;
        let issue = r.issue_mut(number)?;
        issue.updated_at = when;
        let Some(pr) = issue.pr.as_mut() else {
            return Err(GitHubError::NotFound(format!("pull {number}")));
        };
        pr.reviews.push(review.clone());
        let comment_ids: Vec<u64> = comments.iter().map(|c| c.id).collect();
        pr.review_comments.extend(comments);
        if submitted {
            // Reviewing fulfils a pending review request.
            pr.requested_reviewers.retain(|l| *l != actor);
            self.emit_review(&st, &key, number, &actor, review_id);
            for id in comment_ids {
                self.emit_review_comment(&st, &key, number, &actor, id);
            }
        }
        let r = st.repo(org, repo)?;
        Ok(render::review(&st, r, number, &review, false))
    }

    fn emit_review(&self, st: &State, key: &str, number: u64, sender: &str, review_id: u64) {
        let Some(r) = st.repos.get(key) else { return };
        let Some(issue) = r.issues.get(&number) else {
            return;
        };
        let Some(rv) = issue
            .pr
            .as_ref()
            .and_then(|p| p.reviews.iter().find(|x| x.id == review_id))
        else {
            return;
        };
        let fields = json!({
            "action": "submitted",
            "review": render::review(st, r, number, rv, true),
            "pull_request": self.pr_json(st, r, issue),
        });
        self.emit(st, r, "pull_request_review", sender, fields);
    }

    fn emit_review_comment(
        &self,
        st: &State,
        key: &str,
        number: u64,
        sender: &str,
        comment_id: u64,
    ) {
        let Some(r) = st.repos.get(key) else { return };
        let Some(issue) = r.issues.get(&number) else {
            return;
        };
        let Some(c) = issue
            .pr
            .as_ref()
            .and_then(|p| p.review_comments.iter().find(|x| x.id == comment_id))
        else {
            return;
        };
        let fields = json!({
            "action": "created",
            "comment": render::review_comment(st, r, number, c),
            "pull_request": self.pr_json(st, r, issue),
        });
        self.emit(st, r, "pull_request_review_comment", sender, fields);
    }

    pub fn list_review_comments(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let pr = r
            .pull(number)?
            .pr
            .as_ref()
            .ok_or_else(|| GitHubError::NotFound(format!("pull {number}")))?;
        let pending: Vec<u64> = pr
            .reviews
            .iter()
            .filter(|rv| rv.state == "PENDING" && rv.author != actor.to_ascii_lowercase())
            .map(|rv| rv.id)
            .collect();
        Ok(pr
            .review_comments
            .iter()
            .filter(|c| !pending.contains(&c.review_id))
            .map(|c| render::review_comment(&st, r, number, c))
            .collect())
    }

    /// `POST /pulls/{n}/comments`: a single diff comment, which GitHub wraps in a `COMMENTED`
    /// review of its own (both webhooks are sent).
    pub fn create_review_comment(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        input: NewReviewComment,
    ) -> R<Value> {
        check_body_len(&input.body)?;
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        st.visible_repo(&actor, org, repo)?.pull(number)?;
        let key = repo_key(org, repo);
        let review_id = st.id();
        let comment = Self::build_review_comment(&mut st, &key, number, &actor, review_id, &input)?;
        let comment_id = comment.id;
        let when = now();
        let r = st.repo_mut(org, repo)?;
        let issue = r.issue_mut(number)?;
        issue.updated_at = when;
        let Some(pr) = issue.pr.as_mut() else {
            return Err(GitHubError::NotFound(format!("pull {number}")));
        };
        pr.reviews.push(ReviewRec {
            id: review_id,
            author: actor.clone(),
            body: String::new(),
            state: "COMMENTED".into(),
            commit_id: comment.commit_id.clone(),
            submitted_at: Some(when),
        });
        pr.review_comments.push(comment);
        self.emit_review_comment(&st, &key, number, &actor, comment_id);
        self.emit_review(&st, &key, number, &actor, review_id);
        let r = st.repo(org, repo)?;
        let c = r
            .pull(number)?
            .pr
            .as_ref()
            .and_then(|p| p.review_comments.iter().find(|c| c.id == comment_id))
            .ok_or_else(|| GitHubError::NotFound(format!("review comment {comment_id}")))?;
        Ok(render::review_comment(&st, r, number, c))
    }

    // ---- review requests ----

    /// `POST /pulls/{n}/requested_reviewers`: all-or-nothing like GitHub (422 when any user is
    /// not a collaborator or is the author).
    pub fn request_reviewers(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
        teams: &[String],
    ) -> R<Value> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let issue = r.pull(number)?;
        for login in logins {
            if login.eq_ignore_ascii_case(&issue.author) {
                return Err(GitHubError::Unprocessable(
                    "Review cannot be requested from pull request author.".into(),
                ));
            }
            if !st.is_collaborator(r, login) {
                return Err(GitHubError::Unprocessable(format!(
                    "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the {} repository.",
                    r.full_name()
                )));
            }
        }
        let org_rec = st.org(&r.owner);
        for slug in teams {
            if !org_rec.is_some_and(|o| o.teams.iter().any(|t| t.slug.eq_ignore_ascii_case(slug))) {
                return Err(GitHubError::Unprocessable(format!(
                    "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the {} repository.",
                    r.full_name()
                )));
            }
        }
        let key = repo_key(org, repo);
        for login in logins {
            let lower = login.to_ascii_lowercase();
            let r = st.repo_mut(org, repo)?;
            let Some(pr) = r.issue_mut(number)?.pr.as_mut() else {
                continue;
            };
            if pr.requested_reviewers.contains(&lower) {
                continue;
            }
            pr.requested_reviewers.push(lower.clone());
            Self::record_event(&mut st, &key, number, "review_requested", actor, |e| {
                e.requested_reviewer = Some(lower.clone())
            });
            let reviewer = render::user(&st, &lower);
            self.emit_issue(
                &st,
                &key,
                number,
                actor,
                "review_requested",
                json!({"requested_reviewer": reviewer}),
            );
        }
        for slug in teams {
            let slug = slug.to_ascii_lowercase();
            let r = st.repo_mut(org, repo)?;
            let Some(pr) = r.issue_mut(number)?.pr.as_mut() else {
                continue;
            };
            if pr.requested_teams.contains(&slug) {
                continue;
            }
            pr.requested_teams.push(slug.clone());
            let team = st.org(org).and_then(|o| {
                o.teams
                    .iter()
                    .find(|t| t.slug.eq_ignore_ascii_case(&slug))
                    .map(|t| render::team(&st, o, t))
            });
            self.emit_issue(
                &st,
                &key,
                number,
                actor,
                "review_requested",
                json!({"requested_team": team}),
            );
        }
        let r = st.repo(org, repo)?;
        Ok(self.pr_json(&st, r, r.pull(number)?))
    }

    /// `DELETE /pulls/{n}/requested_reviewers`: removes what is there, ignores the rest.
    pub fn unrequest_reviewers(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
        teams: &[String],
    ) -> R<Value> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        r.pull(number)?;
        let key = repo_key(org, repo);
        for login in logins {
            let lower = login.to_ascii_lowercase();
            let r = st.repo_mut(org, repo)?;
            let Some(pr) = r.issue_mut(number)?.pr.as_mut() else {
                continue;
            };
            let Some(pos) = pr.requested_reviewers.iter().position(|l| *l == lower) else {
                continue;
            };
            pr.requested_reviewers.remove(pos);
            Self::record_event(
                &mut st,
                &key,
                number,
                "review_request_removed",
                actor,
                |e| e.requested_reviewer = Some(lower.clone()),
            );
            let reviewer = render::user(&st, &lower);
            self.emit_issue(
                &st,
                &key,
                number,
                actor,
                "review_request_removed",
                json!({"requested_reviewer": reviewer}),
            );
        }
        for slug in teams {
            let r = st.repo_mut(org, repo)?;
            if let Some(pr) = r.issue_mut(number)?.pr.as_mut() {
                pr.requested_teams.retain(|t| !t.eq_ignore_ascii_case(slug));
            }
        }
        let r = st.repo(org, repo)?;
        Ok(self.pr_json(&st, r, r.pull(number)?))
    }

    /// The pull request JSON without visibility checks (inspection).
    pub fn pull_json(&self, org: &str, repo: &str, number: u64) -> Option<Value> {
        let st = self.lock();
        let r = st.repo(org, repo).ok()?;
        let issue = r.pull(number).ok()?;
        Some(self.pr_json(&st, r, issue))
    }
}

#[cfg(test)]
mod tests {
    use super::locate_in_patch;

    const PATCH: &str = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+c\n d";

    #[test]
    fn positions_and_lines_map_onto_the_patch() {
        // Position 1 is the first line below the hunk header.
        let (pos, line, hunk) = locate_in_patch(PATCH, Some(1), None, false).unwrap();
        assert_eq!((pos, line), (1, Some(1)));
        assert_eq!(hunk, "@@ -1,3 +1,4 @@\n a");
        // New line 3 ("c") is position 4 on the right side.
        let (pos, line, _) = locate_in_patch(PATCH, None, Some(3), false).unwrap();
        assert_eq!((pos, line), (4, Some(3)));
        // Old line 2 ("b") only exists on the left.
        assert_eq!(locate_in_patch(PATCH, None, Some(2), true).unwrap().0, 2);
        assert!(locate_in_patch(PATCH, Some(9), None, false).is_none());
        assert!(locate_in_patch(PATCH, None, Some(40), false).is_none());
    }
}
