//! Issues (and the issue side of pull requests): state, comments, labels, assignees, events.

use prow_github::GitHubError;
use serde_json::{Value, json};

use crate::render;
use crate::state::{CommentRec, EventRec, IssueRec, LabelRec, State, now, repo_key};

use super::{Core, R, check_body_len};

/// GitHub keeps at most this many assignees per issue.
const MAX_ASSIGNEES: usize = 10;

/// `POST /repos/{o}/{r}/issues`.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewIssue {
    pub title: String,
    pub body: Option<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
}

/// `PATCH /repos/{o}/{r}/issues/{n}`; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub(crate) struct IssuePatch {
    pub title: Option<String>,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: Option<String>,
    pub state_reason: Option<String>,
    /// Replaces all labels.
    pub labels: Option<Vec<String>>,
    /// Replaces all assignees.
    pub assignees: Option<Vec<String>>,
}

/// Title/body edits plus, for pull requests, the `changes.base` entry of a base change.
#[derive(Debug, Default)]
pub(super) struct Edit {
    pub title: Option<String>,
    pub body: Option<String>,
    pub base_change: Option<Value>,
}

fn comment_not_found(id: u64) -> GitHubError {
    GitHubError::NotFound(format!("comment {id}"))
}

/// [`Core::assign_inner`] or [`Core::unassign_inner`]: `(state, repo key, number, actor, logins)`.
type AssigneeChange = fn(&Core, &mut State, &str, u64, &str, &[String]) -> R<()>;

impl Core {
    /// Emits `issues` (or `pull_request` for pull requests) with `action` and `extra` fields.
    pub(super) fn emit_issue(
        &self,
        st: &State,
        key: &str,
        number: u64,
        sender: &str,
        action: &str,
        extra: Value,
    ) {
        let Some(r) = st.repos.get(key) else { return };
        let Some(issue) = r.issues.get(&number) else {
            return;
        };
        let mut fields = if issue.pr.is_some() {
            json!({"action": action, "number": number, "pull_request": self.pr_json(st, r, issue)})
        } else {
            json!({"action": action, "issue": render::issue(st, r, issue)})
        };
        if let (Value::Object(f), Value::Object(e)) = (&mut fields, extra) {
            f.extend(e);
        }
        let event = if issue.pr.is_some() {
            "pull_request"
        } else {
            "issues"
        };
        self.emit(st, r, event, sender, fields);
    }

    /// Appends an entry to the issue's event timeline.
    pub(super) fn record_event(
        st: &mut State,
        key: &str,
        number: u64,
        event: &str,
        actor: &str,
        fill: impl FnOnce(&mut EventRec),
    ) {
        let mut rec = EventRec {
            id: st.id(),
            event: event.to_owned(),
            actor: actor.to_ascii_lowercase(),
            label: None,
            assignee: None,
            requested_reviewer: None,
            commit_id: None,
            created_at: now(),
        };
        fill(&mut rec);
        if let Some(issue) = st
            .repos
            .get_mut(key)
            .and_then(|r| r.issues.get_mut(&number))
        {
            issue.updated_at = rec.created_at;
            issue.events.push(rec);
        }
    }

    fn issue_json(&self, st: &State, key: &str, number: u64) -> R<Value> {
        let r = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        Ok(render::issue(st, r, r.issue(number)?))
    }

    pub fn get_issue(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(render::issue(&st, r, r.issue(number)?))
    }

    /// `GET /repos/{o}/{r}/issues`: newest first, pull requests included (as on GitHub).
    pub fn list_issues(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        state: &str,
        labels: &[String],
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(r.issues
            .values()
            .rev()
            .filter(|i| i.in_state(state))
            .filter(|i| {
                labels
                    .iter()
                    .all(|l| i.labels.iter().any(|x| x.eq_ignore_ascii_case(l)))
            })
            .map(|i| render::issue(&st, r, i))
            .collect())
    }

    /// `POST /repos/{o}/{r}/issues`. Labels and assignees are dropped silently unless the
    /// author has push access, like GitHub.
    pub fn create_issue(&self, actor: &str, org: &str, repo: &str, new: NewIssue) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        check_body_len(new.body.as_deref().unwrap_or(""))?;
        if new.title.trim().is_empty() {
            return Err(GitHubError::Unprocessable(
                "Invalid request.\n\n\"title\" wasn't supplied.".into(),
            ));
        }
        let can_push = st.can_push(r, &actor);
        let key = repo_key(org, repo);
        let id = st.id();
        let when = now();
        let r = st.repo_mut(org, repo)?;
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            IssueRec::opened(id, number, new.title, new.body, actor.clone(), when, None),
        );
        self.emit_issue(&st, &key, number, &actor, "opened", json!({}));
        if can_push {
            for l in &new.labels {
                self.add_label_inner(&mut st, &key, number, &actor, l)?;
            }
            self.assign_inner(&mut st, &key, number, &actor, &new.assignees)?;
        }
        self.issue_json(&st, &key, number)
    }

    /// `PATCH /repos/{o}/{r}/issues/{n}`: title/body edits, close/reopen, label and assignee
    /// replacement, with the matching webhooks.
    pub fn update_issue(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        patch: IssuePatch,
    ) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        let issue = r.issue(number)?;
        let can_push = st.can_push(r, &actor);
        if !can_push && issue.author != actor {
            return Err(GitHubError::Forbidden(format!(
                "{} cannot edit {}#{number}",
                st.display_login(&actor),
                r.full_name()
            )));
        }
        let key = repo_key(org, repo);
        let edit = Edit {
            title: patch.title,
            body: patch.body,
            base_change: None,
        };
        self.edit_title_body(&mut st, &key, number, &actor, edit)?;
        if let Some(state) = patch.state.as_deref() {
            match state {
                "closed" => {
                    self.close_inner(&mut st, &key, number, &actor, patch.state_reason.as_deref())?
                }
                "open" => self.reopen_inner(&mut st, &key, number, &actor)?,
                other => {
                    return Err(GitHubError::Unprocessable(format!(
                        "invalid state {other:?}"
                    )));
                }
            }
        }
        if can_push {
            if let Some(labels) = patch.labels {
                self.set_labels_inner(&mut st, &key, number, &actor, &labels)?;
            }
            if let Some(assignees) = patch.assignees {
                let current = st.repo(org, repo)?.issue(number)?.assignees.clone();
                let drop: Vec<String> = current
                    .iter()
                    .filter(|c| !assignees.iter().any(|a| a.eq_ignore_ascii_case(c)))
                    .cloned()
                    .collect();
                self.unassign_inner(&mut st, &key, number, &actor, &drop)?;
                self.assign_inner(&mut st, &key, number, &actor, &assignees)?;
            }
        }
        self.issue_json(&st, &key, number)
    }

    /// Applies title/body changes and emits one `edited` carrying every change (`base` change
    /// from pull request edits included when given).
    pub(super) fn edit_title_body(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        edit: Edit,
    ) -> R<()> {
        let Edit {
            title,
            body,
            base_change,
        } = edit;
        check_body_len(body.as_deref().unwrap_or(""))?;
        let r = st
            .repos
            .get_mut(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let issue = r.issue_mut(number)?;
        let mut changes = serde_json::Map::new();
        if let Some(t) = title
            && t != issue.title
        {
            if t.trim().is_empty() {
                return Err(GitHubError::Unprocessable("title cannot be blank".into()));
            }
            changes.insert(
                "title".into(),
                json!({"from": std::mem::replace(&mut issue.title, t)}),
            );
        }
        if let Some(b) = body
            && Some(&b) != issue.body.as_ref()
        {
            let old = issue.body.replace(b);
            changes.insert("body".into(), json!({"from": old.unwrap_or_default()}));
        }
        if let Some(Value::Object(base)) = base_change {
            changes.extend(base);
        }
        if changes.is_empty() {
            return Ok(());
        }
        issue.updated_at = now();
        self.emit_issue(
            st,
            key,
            number,
            actor,
            "edited",
            json!({"changes": changes}),
        );
        Ok(())
    }

    pub(super) fn close_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        reason: Option<&str>,
    ) -> R<()> {
        let r = st
            .repos
            .get_mut(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let base_tip = {
            let issue = r.issue(number)?;
            if !issue.open {
                return Ok(());
            }
            Core::base_sha(r, issue)
        };
        let issue = r.issue_mut(number)?;
        let when = now();
        issue.open = false;
        issue.closed_at = Some(when);
        issue.closed_by = Some(actor.to_ascii_lowercase());
        issue.state_reason = if issue.pr.is_some() {
            None
        } else {
            Some(
                reason
                    .filter(|r| !r.is_empty())
                    .unwrap_or("completed")
                    .to_owned(),
            )
        };
        if let Some(pr) = issue.pr.as_mut() {
            // Freeze the base so a closed pull request keeps describing what it was.
            pr.base_sha = base_tip;
        }
        Self::record_event(st, key, number, "closed", actor, |_| {});
        self.emit_issue(st, key, number, actor, "closed", json!({}));
        Ok(())
    }

    pub(super) fn reopen_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
    ) -> R<()> {
        let r = st
            .repos
            .get_mut(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let head_gone = {
            let issue = r.issue(number)?;
            if issue.open {
                return Ok(());
            }
            match &issue.pr {
                Some(pr) if pr.merged => {
                    return Err(GitHubError::Unprocessable(
                        "state cannot be changed. The pull request has been merged.".into(),
                    ));
                }
                Some(pr) => r.git.branch_sha(&pr.head_ref).is_none(),
                None => false,
            }
        };
        if head_gone {
            return Err(GitHubError::Unprocessable(
                "state cannot be changed. The head branch was deleted.".into(),
            ));
        }
        let head_tip = r
            .issue(number)?
            .pr
            .as_ref()
            .and_then(|pr| r.git.branch_sha(&pr.head_ref));
        let issue = r.issue_mut(number)?;
        issue.open = true;
        issue.closed_at = None;
        issue.closed_by = None;
        issue.state_reason = issue.pr.is_none().then(|| "reopened".to_owned());
        if let (Some(pr), Some(tip)) = (issue.pr.as_mut(), head_tip) {
            pr.head_sha = tip;
        }
        Self::record_event(st, key, number, "reopened", actor, |_| {});
        self.emit_issue(st, key, number, actor, "reopened", json!({}));
        Ok(())
    }

    // ---- comments ----

    pub fn list_issue_comments(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        r.issue(number)?;
        Ok(r.comments
            .values()
            .filter(|c| c.issue == number)
            .map(|c| render::comment(&st, r, c))
            .collect())
    }

    pub fn get_comment(&self, actor: &str, org: &str, repo: &str, id: u64) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let c = r.comments.get(&id).ok_or_else(|| comment_not_found(id))?;
        Ok(render::comment(&st, r, c))
    }

    /// `POST /issues/{n}/comments`; anyone who can see the repository may comment unless the
    /// issue is locked.
    pub fn create_comment(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        let issue = r.issue(number)?;
        if issue.locked && !st.can_push(r, &actor) {
            return Err(GitHubError::Forbidden("issue is locked".into()));
        }
        if body.trim().is_empty() {
            return Err(GitHubError::Unprocessable(
                "Invalid request.\n\n\"body\" wasn't supplied.".into(),
            ));
        }
        check_body_len(body)?;
        let id = st.id();
        let when = now();
        let key = repo_key(org, repo);
        let r = st.repo_mut(org, repo)?;
        r.comments.insert(
            id,
            CommentRec {
                id,
                issue: number,
                author: actor.clone(),
                body: body.to_owned(),
                created_at: when,
                updated_at: when,
            },
        );
        r.issue_mut(number)?.updated_at = when;
        self.emit_comment(&st, &key, id, &actor, "created", None);
        let r = st.repo(org, repo)?;
        let c = r.comments.get(&id).ok_or_else(|| comment_not_found(id))?;
        Ok(render::comment(&st, r, c))
    }

    fn emit_comment(
        &self,
        st: &State,
        key: &str,
        id: u64,
        sender: &str,
        action: &str,
        from: Option<String>,
    ) {
        let Some(r) = st.repos.get(key) else { return };
        let Some(c) = r.comments.get(&id) else { return };
        let Some(issue) = r.issues.get(&c.issue) else {
            return;
        };
        let mut fields = json!({
            "action": action,
            "issue": render::issue(st, r, issue),
            "comment": render::comment(st, r, c),
        });
        if let (Some(from), Value::Object(m)) = (from, &mut fields) {
            m.insert("changes".into(), json!({"body": {"from": from}}));
        }
        self.emit(st, r, "issue_comment", sender, fields);
    }

    fn require_comment_owner(st: &State, org: &str, repo: &str, id: u64, actor: &str) -> R<()> {
        let r = st.visible_repo(actor, org, repo)?;
        let c = r.comments.get(&id).ok_or_else(|| comment_not_found(id))?;
        if c.author != actor.to_ascii_lowercase() && !st.can_push(r, actor) {
            return Err(GitHubError::Forbidden(format!(
                "{} cannot modify comment {id}",
                st.display_login(actor)
            )));
        }
        Ok(())
    }

    /// `PATCH /issues/comments/{id}`: the author or anyone with push access.
    pub fn edit_comment(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        id: u64,
        body: &str,
    ) -> R<Value> {
        let mut st = self.lock();
        Self::require_comment_owner(&st, org, repo, id, actor)?;
        if body.trim().is_empty() {
            return Err(GitHubError::Unprocessable(
                "Invalid request.\n\n\"body\" wasn't supplied.".into(),
            ));
        }
        check_body_len(body)?;
        let key = repo_key(org, repo);
        let r = st.repo_mut(org, repo)?;
        let c = r
            .comments
            .get_mut(&id)
            .ok_or_else(|| comment_not_found(id))?;
        let old = std::mem::replace(&mut c.body, body.to_owned());
        c.updated_at = now();
        if old != body {
            self.emit_comment(&st, &key, id, actor, "edited", Some(old));
        }
        let r = st.repo(org, repo)?;
        let c = r.comments.get(&id).ok_or_else(|| comment_not_found(id))?;
        Ok(render::comment(&st, r, c))
    }

    /// `DELETE /issues/comments/{id}`.
    pub fn delete_comment(&self, actor: &str, org: &str, repo: &str, id: u64) -> R<()> {
        let mut st = self.lock();
        Self::require_comment_owner(&st, org, repo, id, actor)?;
        let key = repo_key(org, repo);
        // The payload shows the comment as it was, so emit before removing it.
        self.emit_comment(&st, &key, id, actor, "deleted", None);
        st.repo_mut(org, repo)?.comments.remove(&id);
        Ok(())
    }

    pub fn list_issue_events(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let issue = r.issue(number)?;
        Ok(issue
            .events
            .iter()
            .map(|e| render::issue_event(&st, r, e))
            .collect())
    }

    // ---- labels ----

    pub fn list_repo_labels(&self, actor: &str, org: &str, repo: &str) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(r.labels.iter().map(|l| render::label(&st, r, l)).collect())
    }

    pub fn get_label(&self, actor: &str, org: &str, repo: &str, name: &str) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let l = r
            .label(name)
            .ok_or_else(|| GitHubError::NotFound(format!("label {name}")))?;
        Ok(render::label(&st, r, l))
    }

    /// `POST /repos/{o}/{r}/labels`.
    pub fn create_label(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        name: &str,
        color: Option<&str>,
        description: Option<String>,
    ) -> R<Value> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        if name.trim().is_empty() {
            return Err(GitHubError::Unprocessable("name is missing".into()));
        }
        if r.label(name).is_some() {
            return Err(GitHubError::Unprocessable(
                "Validation Failed: already_exists".into(),
            ));
        }
        let color = super::seeding::normalize_color(color).map_err(GitHubError::Unprocessable)?;
        let id = st.id();
        let r = st.repo_mut(org, repo)?;
        r.labels.push(LabelRec {
            id,
            name: name.to_owned(),
            color,
            description,
            default: false,
        });
        let r = st.repo(org, repo)?;
        let l = r
            .label(name)
            .ok_or_else(|| GitHubError::NotFound(format!("label {name}")))?;
        Ok(render::label(&st, r, l))
    }

    /// `DELETE /repos/{o}/{r}/labels/{name}`: also removes it from every issue (silently, as
    /// GitHub sends no per-issue webhooks for that).
    pub fn delete_label(&self, actor: &str, org: &str, repo: &str, name: &str) -> R<()> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let r = st.repo_mut(org, repo)?;
        let before = r.labels.len();
        r.labels.retain(|l| !l.name.eq_ignore_ascii_case(name));
        if r.labels.len() == before {
            return Err(GitHubError::NotFound(format!("label {name}")));
        }
        for issue in r.issues.values_mut() {
            issue.labels.retain(|l| !l.eq_ignore_ascii_case(name));
        }
        Ok(())
    }

    pub fn get_issue_labels(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(render::issue_labels(&st, r, &r.issue(number)?.labels))
    }

    fn labels_json(st: &State, key: &str, number: u64) -> R<Vec<Value>> {
        let r = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        Ok(render::issue_labels(st, r, &r.issue(number)?.labels))
    }

    /// Adds one label (creating it on the repository when missing, as GitHub does); emits
    /// `labeled` when it was not there yet.
    fn add_label_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        name: &str,
    ) -> R<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(GitHubError::Unprocessable(
                "label name cannot be blank".into(),
            ));
        }
        let label_id = st.id();
        let r = st
            .repos
            .get_mut(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        r.issue(number)?;
        if r.label(name).is_none() {
            r.labels.push(LabelRec {
                id: label_id,
                name: name.to_owned(),
                color: "ededed".into(),
                description: None,
                default: false,
            });
        }
        let canonical = r
            .label(name)
            .map_or_else(|| name.to_owned(), |l| l.name.clone());
        let issue = r.issue_mut(number)?;
        if issue
            .labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&canonical))
        {
            return Ok(());
        }
        issue.labels.push(canonical.clone());
        Self::record_event(st, key, number, "labeled", actor, |e| {
            e.label = Some(canonical.clone())
        });
        let label_json = st
            .repos
            .get(key)
            .and_then(|r| r.label(&canonical).map(|l| render::label(st, r, l)));
        self.emit_issue(
            st,
            key,
            number,
            actor,
            "labeled",
            json!({"label": label_json}),
        );
        Ok(())
    }

    /// Removes one label; `NotFound` when the issue does not carry it.
    fn remove_label_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        name: &str,
    ) -> R<()> {
        let r = st
            .repos
            .get_mut(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let issue = r.issue_mut(number)?;
        let Some(pos) = issue
            .labels
            .iter()
            .position(|l| l.eq_ignore_ascii_case(name))
        else {
            return Err(GitHubError::NotFound("Label does not exist".into()));
        };
        let removed = issue.labels.remove(pos);
        Self::record_event(st, key, number, "unlabeled", actor, |e| {
            e.label = Some(removed.clone())
        });
        let r = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
        let label_json = match r.label(&removed) {
            Some(l) => render::label(st, r, l),
            None => render::issue_labels(st, r, std::slice::from_ref(&removed))
                .pop()
                .unwrap_or(Value::Null),
        };
        self.emit_issue(
            st,
            key,
            number,
            actor,
            "unlabeled",
            json!({"label": label_json}),
        );
        Ok(())
    }

    fn set_labels_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        labels: &[String],
    ) -> R<()> {
        let current = st
            .repos
            .get(key)
            .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?
            .issue(number)?
            .labels
            .clone();
        for c in &current {
            if !labels.iter().any(|l| l.trim().eq_ignore_ascii_case(c)) {
                self.remove_label_inner(st, key, number, actor, c)?;
            }
        }
        for l in labels {
            self.add_label_inner(st, key, number, actor, l)?;
        }
        Ok(())
    }

    /// `POST /issues/{n}/labels`: returns all labels of the issue.
    pub fn add_labels(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> R<Vec<Value>> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        r.issue(number)?;
        let key = repo_key(org, repo);
        for l in labels {
            self.add_label_inner(&mut st, &key, number, actor, l)?;
        }
        Self::labels_json(&st, &key, number)
    }

    /// `PUT /issues/{n}/labels`: replaces the labels.
    pub fn set_labels(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> R<Vec<Value>> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        r.issue(number)?;
        let key = repo_key(org, repo);
        self.set_labels_inner(&mut st, &key, number, actor, labels)?;
        Self::labels_json(&st, &key, number)
    }

    /// `DELETE /issues/{n}/labels/{name}`: returns the remaining labels.
    pub fn remove_label(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        label: &str,
    ) -> R<Vec<Value>> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        let key = repo_key(org, repo);
        self.remove_label_inner(&mut st, &key, number, actor, label)?;
        Self::labels_json(&st, &key, number)
    }

    /// `DELETE /issues/{n}/labels`.
    pub fn remove_all_labels(&self, actor: &str, org: &str, repo: &str, number: u64) -> R<()> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        st.require_push(r, actor)?;
        r.issue(number)?;
        let key = repo_key(org, repo);
        self.set_labels_inner(&mut st, &key, number, actor, &[])
    }

    /// Label names of an issue (inspection).
    pub fn issue_label_names(&self, org: &str, repo: &str, number: u64) -> Vec<String> {
        let st = self.lock();
        st.repo(org, repo)
            .ok()
            .and_then(|r| r.issues.get(&number))
            .map(|i| i.labels.clone())
            .unwrap_or_default()
    }

    // ---- assignees ----

    /// Assigns the assignable logins (collaborators), silently skipping the others.
    fn assign_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        logins: &[String],
    ) -> R<()> {
        for login in logins {
            let r = st
                .repos
                .get(key)
                .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
            let issue = r.issue(number)?;
            let lower = login.to_ascii_lowercase();
            if !st.is_collaborator(r, &lower)
                || issue.assignees.contains(&lower)
                || issue.assignees.len() >= MAX_ASSIGNEES
            {
                continue;
            }
            let r = st
                .repos
                .get_mut(key)
                .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
            r.issue_mut(number)?.assignees.push(lower.clone());
            Self::record_event(st, key, number, "assigned", actor, |e| {
                e.assignee = Some(lower.clone())
            });
            let assignee = render::user(st, &lower);
            self.emit_issue(
                st,
                key,
                number,
                actor,
                "assigned",
                json!({"assignee": assignee}),
            );
        }
        Ok(())
    }

    fn unassign_inner(
        &self,
        st: &mut State,
        key: &str,
        number: u64,
        actor: &str,
        logins: &[String],
    ) -> R<()> {
        for login in logins {
            let lower = login.to_ascii_lowercase();
            let r = st
                .repos
                .get_mut(key)
                .ok_or_else(|| GitHubError::NotFound(key.to_owned()))?;
            let issue = r.issue_mut(number)?;
            let Some(pos) = issue.assignees.iter().position(|a| *a == lower) else {
                continue;
            };
            issue.assignees.remove(pos);
            Self::record_event(st, key, number, "unassigned", actor, |e| {
                e.assignee = Some(lower.clone())
            });
            let assignee = render::user(st, &lower);
            self.emit_issue(
                st,
                key,
                number,
                actor,
                "unassigned",
                json!({"assignee": assignee}),
            );
        }
        Ok(())
    }

    /// `POST /issues/{n}/assignees`: returns the issue. Without push access nothing changes.
    pub fn assign(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> R<Value> {
        self.change_assignees(actor, org, repo, number, logins, Self::assign_inner)
    }

    /// `DELETE /issues/{n}/assignees`: returns the issue.
    pub fn unassign(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> R<Value> {
        self.change_assignees(actor, org, repo, number, logins, Self::unassign_inner)
    }

    /// Applies `change` (assign or unassign) when `actor` may push; returns the issue.
    fn change_assignees(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
        change: AssigneeChange,
    ) -> R<Value> {
        let mut st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        r.issue(number)?;
        let key = repo_key(org, repo);
        if st.can_push(r, actor) {
            change(self, &mut st, &key, number, actor, logins)?;
        }
        self.issue_json(&st, &key, number)
    }

    /// Comments on an issue as the typed objects (inspection).
    pub fn comments_of(&self, org: &str, repo: &str, number: u64) -> Vec<Value> {
        let st = self.lock();
        let Ok(r) = st.repo(org, repo) else {
            return Vec::new();
        };
        r.comments
            .values()
            .filter(|c| c.issue == number)
            .map(|c| render::comment(&st, r, c))
            .collect()
    }
}
