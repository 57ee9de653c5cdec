//! Repositories and git data: refs, commits, trees, contents, branches and pushes.

use prow_github::GitHubError;
use serde_json::{Value, json};

use crate::git::{self, ZERO_SHA};
use crate::render;
use crate::state::{RepoRec, State, now, repo_key};

use super::{Changes, Core, R};

/// At most this many commits are listed in a push payload, like GitHub.
const PUSH_COMMITS_LIMIT: usize = 20;

/// A contents-API write (`PUT`/`DELETE /contents/{path}`).
#[derive(Debug, Clone, Default)]
pub(crate) struct FileWrite {
    pub message: String,
    /// New content; `None` deletes the file.
    pub content: Option<Vec<u8>>,
    /// Target branch (default branch when absent).
    pub branch: Option<String>,
    /// Blob SHA of the file being replaced; required when it exists.
    pub sha: Option<String>,
    /// Explicit author `(name, email)`.
    pub author: Option<(String, String)>,
}

impl State {
    /// The repository as `actor` sees it: private repositories are invisible (404) to users
    /// without access, as on GitHub.
    pub(crate) fn visible_repo(&self, actor: &str, org: &str, repo: &str) -> R<&RepoRec> {
        let r = self.repo(org, repo)?;
        if r.private && !self.can_push(r, actor) {
            return Err(GitHubError::NotFound(format!("repository {org}/{repo}")));
        }
        Ok(r)
    }
}

/// The 12-character abbreviation GitHub uses in compare URLs.
fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// `heads/main`, `refs/heads/main` → `refs/heads/main`.
fn full_ref(git_ref: &str) -> String {
    let r = git_ref.trim_start_matches('/');
    if r.starts_with("refs/") {
        r.to_owned()
    } else {
        format!("refs/{r}")
    }
}

fn resolve(repo: &RepoRec, git_ref: &str) -> R<String> {
    repo.git.resolve(git_ref).ok_or_else(|| {
        GitHubError::NotFound(format!(
            "no commit found for {git_ref:?} in {}",
            repo.full_name()
        ))
    })
}

/// The SHA `refname` points at; 422 like GitHub when there is no such ref.
fn ref_target(r: &RepoRec, refname: &str) -> R<String> {
    r.git
        .list_refs()?
        .into_iter()
        .find(|(n, _)| n == refname)
        .map(|(_, s)| s)
        .ok_or_else(|| GitHubError::Unprocessable("Reference does not exist".into()))
}

impl Core {
    pub fn get_repo(&self, actor: &str, org: &str, repo: &str) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(render::repo(&st, r))
    }

    /// `GET /git/ref(s)/{ref}`: the exact ref as an object, or else every ref starting with it
    /// as an array (GitHub's legacy `refs` matching).
    pub fn get_ref(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        git_ref: &str,
        allow_prefix: bool,
    ) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let want = full_ref(git_ref);
        let refs = r.git.list_refs()?;
        if let Some((name, sha)) = refs.iter().find(|(n, _)| *n == want) {
            return Ok(render::git_ref(&st, r, name, sha));
        }
        let matching: Vec<Value> = refs
            .iter()
            .filter(|(n, _)| allow_prefix && n.starts_with(&want))
            .map(|(n, s)| render::git_ref(&st, r, n, s))
            .collect();
        if matching.is_empty() {
            Err(GitHubError::NotFound(format!(
                "ref {want} in {}",
                r.full_name()
            )))
        } else {
            Ok(Value::Array(matching))
        }
    }

    /// `POST /git/refs`.
    pub fn create_ref(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        refname: &str,
        sha: &str,
    ) -> R<Value> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let refname = refname.to_owned();
        if !refname.starts_with("refs/")
            || refname.matches('/').count() < 2
            || !git::valid_ref_name(&refname)
        {
            return Err(GitHubError::Unprocessable(
                "Reference name is invalid".into(),
            ));
        }
        if r.git.list_refs()?.iter().any(|(n, _)| *n == refname) {
            return Err(GitHubError::Unprocessable(
                "Reference already exists".into(),
            ));
        }
        let target = r
            .git
            .resolve(sha)
            .filter(|s| s.starts_with(&sha.to_ascii_lowercase()))
            .ok_or_else(|| GitHubError::Unprocessable("Object does not exist".into()))?;
        let key = repo_key(org, repo);
        self.apply_push(&mut st, &key, actor, &refname, None, Some(target.clone()))?;
        let r = st.repo(org, repo)?;
        Ok(render::git_ref(&st, r, &refname, &target))
    }

    /// `PATCH /git/refs/{ref}`: moves a ref; without `force` only fast-forwards.
    pub fn update_ref(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        git_ref: &str,
        sha: &str,
        force: bool,
    ) -> R<Value> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let refname = full_ref(git_ref);
        let current = ref_target(r, &refname)?;
        let target = r
            .git
            .resolve(sha)
            .filter(|s| s.starts_with(&sha.to_ascii_lowercase()))
            .ok_or_else(|| GitHubError::Unprocessable("Object does not exist".into()))?;
        if !force && !r.git.is_ancestor(&current, &target) {
            return Err(GitHubError::Unprocessable(
                "Update is not a fast forward".into(),
            ));
        }
        if current != target {
            let key = repo_key(org, repo);
            self.apply_push(
                &mut st,
                &key,
                actor,
                &refname,
                Some(current),
                Some(target.clone()),
            )?;
        }
        let r = st.repo(org, repo)?;
        Ok(render::git_ref(&st, r, &refname, &target))
    }

    /// `DELETE /git/refs/{ref}`.
    pub fn delete_ref(&self, actor: &str, org: &str, repo: &str, git_ref: &str) -> R<()> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let refname = full_ref(git_ref);
        let current = ref_target(r, &refname)?;
        if refname == format!("refs/heads/{}", r.default_branch) {
            return Err(GitHubError::Unprocessable(
                "Cannot delete the default branch".into(),
            ));
        }
        let key = repo_key(org, repo);
        self.apply_push(&mut st, &key, actor, &refname, Some(current), None)
    }

    /// `GET /commits/{ref}`.
    pub fn get_commit(&self, actor: &str, org: &str, repo: &str, git_ref: &str) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let sha = resolve(r, git_ref)?;
        let info = r.git.commit_info(&sha)?;
        let files = r.git.diff(info.parents.first().map(String::as_str), &sha)?;
        Ok(render::commit(&st, r, &info, &files))
    }

    /// `GET /contents/{path}?ref=`: a file (with base64 content) or a directory listing.
    pub fn get_contents(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: Option<&str>,
    ) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let path = path.trim_matches('/');
        if !path.is_empty() && !git::valid_path(path) {
            return Err(GitHubError::NotFound(format!("path {path:?}")));
        }
        let git_ref = git_ref
            .filter(|g| !g.is_empty())
            .unwrap_or(&r.default_branch)
            .to_owned();
        let sha = resolve(r, &git_ref)?;
        let not_found =
            || GitHubError::NotFound(format!("{path} at {git_ref} in {}", r.full_name()));
        let item = r.git.entry(&sha, path)?.ok_or_else(not_found)?;
        match item.kind.as_str() {
            "blob" => {
                let bytes = r.git.read_blob(&item.sha)?;
                Ok(render::content_file(&st, r, &git_ref, &item, &bytes))
            }
            "tree" => {
                let items = r.git.list_dir(&sha, path)?;
                Ok(Value::Array(
                    items
                        .iter()
                        .map(|i| render::content_entry(&st, r, &git_ref, i))
                        .collect(),
                ))
            }
            _ => Ok(render::content_entry(&st, r, &git_ref, &item)),
        }
    }

    /// `GET /git/trees/{tree_ish}[?recursive=1]`.
    pub fn get_tree(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        tree_ish: &str,
        recursive: bool,
    ) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        // A tree SHA is accepted as is; anything else must name a commit.
        let (sha, items) = match r.git.resolve(tree_ish) {
            Some(commit) => {
                let tree = r.git.commit_info(&commit)?.tree;
                let items = r.git.ls_tree(&commit, None, recursive)?;
                (tree, items)
            }
            None if tree_ish.len() == 40 && tree_ish.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let items = r
                    .git
                    .ls_tree(tree_ish, None, recursive)
                    .map_err(|_| GitHubError::NotFound(format!("tree {tree_ish}")))?;
                (tree_ish.to_owned(), items)
            }
            None => return Err(GitHubError::NotFound(format!("tree {tree_ish}"))),
        };
        Ok(render::tree(&st, r, &sha, &items))
    }

    /// `GET /branches/{branch}`.
    pub fn get_branch(&self, actor: &str, org: &str, repo: &str, branch: &str) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let sha = r.git.branch_sha(branch).ok_or_else(|| {
            GitHubError::NotFound(format!("branch {branch} in {}", r.full_name()))
        })?;
        let info = r.git.commit_info(&sha)?;
        let files = r.git.diff(info.parents.first().map(String::as_str), &sha)?;
        Ok(render::branch(&st, r, branch, &info, &files))
    }

    /// `GET /branches`.
    pub fn list_branches(&self, actor: &str, org: &str, repo: &str) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(r.git
            .list_refs()?
            .iter()
            .filter_map(|(n, s)| {
                n.strip_prefix("refs/heads/")
                    .map(|b| render::short_branch(&st, r, b, s))
            })
            .collect())
    }

    /// The tip of `branch` (inspection).
    pub fn branch_sha(&self, org: &str, repo: &str, branch: &str) -> Option<String> {
        let st = self.lock();
        st.repo(org, repo).ok()?.git.branch_sha(branch)
    }

    /// `PUT`/`DELETE /contents/{path}`: one commit on the branch, then the push webhooks.
    /// Returns whether the file was created, and GitHub's `{content, commit}` body.
    pub fn write_file(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        path: &str,
        w: FileWrite,
    ) -> R<(bool, Value)> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let path = path.trim_matches('/').to_owned();
        if !git::valid_path(&path) {
            return Err(GitHubError::Unprocessable(format!("invalid path {path:?}")));
        }
        if w.message.trim().is_empty() {
            return Err(GitHubError::Unprocessable(
                "Invalid request.\n\n\"message\" wasn't supplied.".into(),
            ));
        }
        let branch = w.branch.clone().unwrap_or_else(|| r.default_branch.clone());
        let parent = r
            .git
            .branch_sha(&branch)
            .ok_or_else(|| GitHubError::NotFound(format!("Branch {branch} not found")))?;
        let existing = r.git.entry(&parent, &path)?.filter(|e| e.kind == "blob");
        match (&existing, &w.sha) {
            (Some(_), None) => {
                return Err(GitHubError::Unprocessable(
                    "Invalid request.\n\n\"sha\" wasn't supplied.".into(),
                ));
            }
            (Some(e), Some(sha)) if !e.sha.eq_ignore_ascii_case(sha) => {
                return Err(GitHubError::Status {
                    status: 409,
                    message: format!("{path} does not match {sha}"),
                });
            }
            (None, _) if w.content.is_none() => {
                return Err(GitHubError::NotFound(format!("{path} on {branch}")));
            }
            _ => {}
        }
        let when = now();
        let author = match &w.author {
            Some((name, email)) => git::Signature {
                name: name.clone(),
                email: email.clone(),
                when,
            },
            None => st.signature(actor, when),
        };
        let committer = st.signature(actor, when);
        let deleting = w.content.is_none();
        let changes: Changes = [(path.clone(), w.content)].into_iter().collect();
        let sha =
            Self::commit_changes(r, Some(&parent), &changes, &w.message, &author, &committer)?;
        let key = repo_key(org, repo);
        self.apply_push(
            &mut st,
            &key,
            actor,
            &format!("refs/heads/{branch}"),
            Some(parent),
            Some(sha.clone()),
        )?;

        let r = st.repo(org, repo)?;
        let info = r.git.commit_info(&sha)?;
        let content = if deleting {
            Value::Null
        } else {
            match r.git.entry(&sha, &path)? {
                Some(item) => render::content_entry(&st, r, &branch, &item),
                None => Value::Null,
            }
        };
        let commit_json = render::file_commit(&st, r, &info);
        Ok((
            existing.is_none(),
            json!({"content": content, "commit": commit_json}),
        ))
    }

    /// Fake-only: commits `files` to `branch` (created from the default branch when missing) as
    /// `pusher`, then emits `push` and `pull_request` `synchronize` for PRs with that head.
    pub fn push_files(
        &self,
        pusher: &str,
        org: &str,
        repo: &str,
        branch: &str,
        files: Changes,
        message: &str,
    ) -> R<String> {
        let mut st = self.lock();
        let pusher = st.ensure_user(pusher);
        if !git::valid_ref_name(branch) {
            return Err(GitHubError::Unprocessable(format!(
                "invalid branch name {branch:?}"
            )));
        }
        let r = st.repo(org, repo)?;
        let before = r.git.branch_sha(branch);
        let parent = match &before {
            Some(b) => b.clone(),
            None => r.git.branch_sha(&r.default_branch).ok_or_else(|| {
                GitHubError::NotFound(format!("default branch of {}", r.full_name()))
            })?,
        };
        let sig = st.signature(&pusher, now());
        let sha = Self::commit_changes(r, Some(&parent), &files, message, &sig, &sig)?;
        let key = repo_key(org, repo);
        self.apply_push(
            &mut st,
            &key,
            &pusher,
            &format!("refs/heads/{branch}"),
            before,
            Some(sha.clone()),
        )?;
        Ok(sha)
    }

    /// Moves `refname` from `before` (`None`: create) to `after` (`None`: delete), then emits
    /// `push` and, for branches that are the head of open pull requests, `synchronize`.
    pub(super) fn apply_push(
        &self,
        st: &mut State,
        key: &str,
        pusher: &str,
        refname: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> R<()> {
        let r = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(format!("repository {key}")))?;
        match &after {
            Some(a) => r.git.update_ref(refname, a, before.as_deref())?,
            None => r.git.delete_ref(refname)?,
        }
        let branch = refname.strip_prefix("refs/heads/").map(str::to_owned);
        let forced = match (&before, &after) {
            (Some(b), Some(a)) => !r.git.is_ancestor(b, a),
            _ => false,
        };
        let new_commits: Vec<String> = match (&before, &after) {
            (_, None) => Vec::new(),
            (Some(b), Some(a)) => {
                let from = if forced {
                    r.git.merge_base(b, a)
                } else {
                    Some(b.clone())
                };
                r.git.commits_between(from.as_deref(), a, false)?
            }
            (None, Some(a)) => {
                // A new branch lists what the default branch does not have yet.
                let default_tip = r.git.branch_sha(&r.default_branch).filter(|d| d != a);
                match default_tip.and_then(|d| r.git.merge_base(&d, a)) {
                    Some(mb) => r.git.commits_between(Some(&mb), a, false)?,
                    None if branch.as_deref() == Some(&r.default_branch) => {
                        r.git.commits_between(None, a, false)?
                    }
                    None => Vec::new(),
                }
            }
        };
        let shown = &new_commits[new_commits.len().saturating_sub(PUSH_COMMITS_LIMIT)..];
        let mut commits = Vec::new();
        for sha in shown {
            let info = r.git.commit_info(sha)?;
            let files = r.git.diff(info.parents.first().map(String::as_str), sha)?;
            commits.push(render::push_commit(st, r, &info, &files));
        }
        let head_commit = match (&after, commits.last()) {
            (None, _) => Value::Null,
            (Some(_), Some(last)) => last.clone(),
            (Some(a), None) => {
                let info = r.git.commit_info(a)?;
                let files = r.git.diff(info.parents.first().map(String::as_str), a)?;
                render::push_commit(st, r, &info, &files)
            }
        };
        let before_sha = before.clone().unwrap_or_else(|| ZERO_SHA.to_owned());
        let after_sha = after.clone().unwrap_or_else(|| ZERO_SHA.to_owned());
        let web = format!("{}/{}", st.urls.web, r.full_name());
        let compare = if before.is_none() {
            format!("{web}/commit/{}", short(&after_sha))
        } else {
            format!(
                "{web}/compare/{}...{}",
                short(&before_sha),
                short(&after_sha)
            )
        };
        let pusher_sig = st.signature(pusher, now());
        let push_payload = json!({
            "ref": refname,
            "before": before_sha,
            "after": after_sha,
            "created": before.is_none(),
            "deleted": after.is_none(),
            "forced": forced,
            "base_ref": null,
            "compare": compare,
            "commits": commits,
            "head_commit": head_commit,
            "pusher": {"name": st.display_login(pusher), "email": pusher_sig.email},
        });
        let mut payload = render::payload(st, r, pusher, push_payload);
        if let Value::Object(m) = &mut payload {
            m.insert("repository".into(), render::push_repo(st, r));
        }
        let full_name = r.full_name();
        let prs = match (&branch, &after) {
            (Some(b), Some(_)) => r.open_prs_with_head(b),
            _ => Vec::new(),
        };
        if let Some(r) = st.repos.get_mut(key) {
            r.pushed_at = now();
        }
        self.hooks.emit("push", Some(&full_name), &payload);

        let Some(after) = after else { return Ok(()) };
        for number in prs {
            let when = now();
            let Some(r) = st.repos.get_mut(key) else {
                break;
            };
            let Some(issue) = r.issues.get_mut(&number) else {
                continue;
            };
            let Some(pr) = issue.pr.as_mut() else {
                continue;
            };
            if pr.head_sha == after {
                continue;
            }
            let old = std::mem::replace(&mut pr.head_sha, after.clone());
            issue.updated_at = when;
            let Some(r) = st.repos.get(key) else { break };
            let Some(issue) = r.issues.get(&number) else {
                continue;
            };
            let pr_json = self.pr_json(st, r, issue);
            self.emit(
                st,
                r,
                "pull_request",
                pusher,
                json!({"action": "synchronize", "number": number, "pull_request": pr_json, "before": old, "after": after}),
            );
        }
        Ok(())
    }
}
