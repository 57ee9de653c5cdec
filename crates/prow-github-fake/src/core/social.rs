//! People (users, orgs, teams, collaborators) and commit statuses.

use prow_github::{GitHubError, Status};
use serde_json::{Value, json};

use crate::render;
use crate::state::{OrgRec, State, StatusRec, TeamRec, now};

use super::{Core, R};

/// GitHub rejects longer status descriptions.
const MAX_STATUS_DESCRIPTION: usize = 140;

/// The org and team `org/slug` (slug matched case-insensitively); 404 when either is missing.
fn find_team<'a>(st: &'a State, org: &str, slug: &str) -> R<(&'a OrgRec, &'a TeamRec)> {
    let o = st
        .org(org)
        .ok_or_else(|| GitHubError::NotFound(format!("org {org}")))?;
    let t = o
        .teams
        .iter()
        .find(|t| t.slug.eq_ignore_ascii_case(slug))
        .ok_or_else(|| GitHubError::NotFound(format!("team {org}/{slug}")))?;
    Ok((o, t))
}

impl Core {
    /// The login behind an API token.
    pub fn login_for_token(&self, token: &str) -> Option<String> {
        let st = self.lock();
        let key = st.tokens.get(token)?;
        st.users.get(key).map(|u| u.login.clone())
    }

    /// Makes sure `login` exists (in-process clients may act as anyone).
    pub fn ensure_user(&self, login: &str) -> String {
        let mut st = self.lock();
        let key = st.ensure_user(login);
        st.display_login(&key).to_owned()
    }

    /// `GET /user`.
    pub fn authenticated_user(&self, actor: &str) -> R<Value> {
        let st = self.lock();
        let u = st
            .user(actor)
            .ok_or_else(|| GitHubError::Unauthorized("Bad credentials".into()))?;
        Ok(render::full_user(&st, u))
    }

    /// `GET /users/{login}`.
    pub fn get_user(&self, login: &str) -> R<Value> {
        let st = self.lock();
        if let Some(o) = st.org(login) {
            return Ok(render::user(&st, &o.login));
        }
        let u = st
            .user(login)
            .ok_or_else(|| GitHubError::NotFound(format!("user {login}")))?;
        Ok(render::full_user(&st, u))
    }

    /// `GET /orgs/{org}/members/{user}`; an unknown org is `NotFound`.
    pub fn is_member(&self, org: &str, user: &str) -> R<bool> {
        let st = self.lock();
        st.org(org)
            .ok_or_else(|| GitHubError::NotFound(format!("org {org}")))?;
        Ok(st.is_member(org, user))
    }

    /// `GET /orgs/{org}/members`.
    pub fn list_members(&self, org: &str) -> R<Vec<Value>> {
        let st = self.lock();
        let o = st
            .org(org)
            .ok_or_else(|| GitHubError::NotFound(format!("org {org}")))?;
        Ok(o.members.iter().map(|m| render::user(&st, m)).collect())
    }

    /// `GET /repos/{o}/{r}/collaborators/{user}`.
    pub fn is_collaborator(&self, actor: &str, org: &str, repo: &str, user: &str) -> R<bool> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        Ok(st.is_collaborator(r, user))
    }

    /// `GET /repos/{o}/{r}/collaborators`: owner, org members and explicit collaborators.
    pub fn list_collaborators(&self, actor: &str, org: &str, repo: &str) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let mut logins: Vec<String> = r.collaborators.iter().cloned().collect();
        if let Some(o) = st.org(&r.owner) {
            logins.extend(o.members.iter().cloned());
        } else {
            logins.push(r.owner.to_ascii_lowercase());
        }
        logins.sort();
        logins.dedup();
        Ok(logins.iter().map(|l| render::user(&st, l)).collect())
    }

    /// `GET /orgs/{org}/teams`.
    pub fn list_teams(&self, org: &str) -> R<Vec<Value>> {
        let st = self.lock();
        let o = st
            .org(org)
            .ok_or_else(|| GitHubError::NotFound(format!("org {org}")))?;
        Ok(o.teams.iter().map(|t| render::team(&st, o, t)).collect())
    }

    /// `GET /orgs/{org}/teams/{slug}`.
    pub fn get_team(&self, org: &str, slug: &str) -> R<Value> {
        let st = self.lock();
        let (o, t) = find_team(&st, org, slug)?;
        Ok(render::team_full(&st, o, t))
    }

    /// `GET /orgs/{org}/teams/{slug}/members`.
    pub fn list_team_members(&self, org: &str, slug: &str) -> R<Vec<Value>> {
        let st = self.lock();
        let (_, t) = find_team(&st, org, slug)?;
        Ok(t.members.iter().map(|m| render::user(&st, m)).collect())
    }

    // ---- statuses ----

    /// `POST /statuses/{sha}`: records the status and emits `status`.
    pub fn create_status(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        sha: &str,
        status: &Status,
    ) -> R<Value> {
        let mut st = self.lock();
        let actor = st.ensure_user(actor);
        let r = st.visible_repo(&actor, org, repo)?;
        st.require_push(r, &actor)?;
        if !matches!(
            status.state.as_str(),
            "pending" | "success" | "failure" | "error"
        ) {
            return Err(GitHubError::Unprocessable(format!(
                "Validation Failed: state {:?} is not included in the list",
                status.state
            )));
        }
        if status
            .description
            .as_deref()
            .is_some_and(|d| d.chars().count() > MAX_STATUS_DESCRIPTION)
        {
            return Err(GitHubError::Unprocessable(format!(
                "Validation Failed: description is too long (maximum is {MAX_STATUS_DESCRIPTION} characters)"
            )));
        }
        let full = r
            .git
            .resolve(sha)
            .ok_or_else(|| GitHubError::Unprocessable(format!("No commit found for SHA: {sha}")))?;
        let context = if status.context.is_empty() {
            "default".to_owned()
        } else {
            status.context.clone()
        };
        let id = st.id();
        let rec = StatusRec {
            id,
            state: status.state.clone(),
            target_url: status.target_url.clone().filter(|u| !u.is_empty()),
            description: status.description.clone(),
            context,
            creator: actor.clone(),
            created_at: now(),
        };
        let r = st.repo_mut(org, repo)?;
        r.statuses
            .entry(full.clone())
            .or_default()
            .push(rec.clone());

        let r = st.repo(org, repo)?;
        let info = r.git.commit_info(&full)?;
        let mut commit = render::commit(&st, r, &info, &[]);
        if let Value::Object(m) = &mut commit {
            m.remove("files");
            m.remove("stats");
        }
        let branches: Vec<Value> = r
            .git
            .list_refs()?
            .iter()
            .filter(|(_, s)| *s == full)
            .filter_map(|(n, s)| {
                n.strip_prefix("refs/heads/")
                    .map(|b| render::short_branch(&st, r, b, s))
            })
            .collect();
        let fields = json!({
            "id": rec.id,
            "avatar_url": format!("{}/avatars/u/{}", st.urls.web, st.user(&actor).map_or(0, |u| u.id)),
            "sha": full,
            "name": r.full_name(),
            "target_url": rec.target_url,
            "context": rec.context,
            "description": rec.description,
            "state": rec.state,
            "commit": commit,
            "branches": branches,
            "created_at": render::ts(rec.created_at),
            "updated_at": render::ts(rec.created_at),
        });
        self.emit(&st, r, "status", &actor, fields);
        Ok(render::status(&st, r, &full, &rec))
    }

    /// `GET /commits/{ref}/status`.
    pub fn combined_status(&self, actor: &str, org: &str, repo: &str, git_ref: &str) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let sha = r
            .git
            .resolve(git_ref)
            .ok_or_else(|| GitHubError::NotFound(format!("no commit found for {git_ref:?}")))?;
        Ok(render::combined_status(&st, r, &sha))
    }

    /// `GET /commits/{ref}/statuses`: every status, newest first.
    pub fn list_statuses(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> R<Vec<Value>> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let sha = r
            .git
            .resolve(git_ref)
            .ok_or_else(|| GitHubError::NotFound(format!("no commit found for {git_ref:?}")))?;
        Ok(r.statuses
            .get(&sha)
            .map(|list| {
                list.iter()
                    .rev()
                    .map(|s| render::status(&st, r, &sha, s))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The statuses on `sha` as typed entries, oldest first (inspection).
    pub fn statuses_of(&self, org: &str, repo: &str, sha: &str) -> Vec<Value> {
        let st = self.lock();
        let Ok(r) = st.repo(org, repo) else {
            return Vec::new();
        };
        let Some(full) = r.git.resolve(sha) else {
            return Vec::new();
        };
        r.statuses
            .get(&full)
            .map(|list| {
                list.iter()
                    .map(|s| render::status(&st, r, &full, s))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every status on the repository as `(sha, status JSON)`, in write order (ids grow).
    pub fn status_history(&self, org: &str, repo: &str) -> Vec<(String, Value)> {
        let st = self.lock();
        let Ok(r) = st.repo(org, repo) else {
            return Vec::new();
        };
        let mut all: Vec<(&String, &crate::state::StatusRec)> = r
            .statuses
            .iter()
            .flat_map(|(sha, list)| list.iter().map(move |s| (sha, s)))
            .collect();
        all.sort_by_key(|(_, s)| s.id);
        all.into_iter()
            .map(|(sha, s)| (sha.clone(), render::status(&st, r, sha, s)))
            .collect()
    }

    /// `GET /repos/{o}/{r}/collaborators/{user}/permission`: `admin` for the owning user,
    /// `write` for anyone with push access (collaborators, org members, bots), else `read` on
    /// public and `none` on private repositories. Unknown users are 404.
    pub fn collaborator_permission(
        &self,
        actor: &str,
        org: &str,
        repo: &str,
        user: &str,
    ) -> R<Value> {
        let st = self.lock();
        let r = st.visible_repo(actor, org, repo)?;
        let u = st
            .user(user)
            .ok_or_else(|| GitHubError::NotFound(format!("user {user}")))?;
        let permission = if r.owner.eq_ignore_ascii_case(&u.login) {
            "admin"
        } else if st.can_push(r, &u.login) {
            "write"
        } else if r.private {
            "none"
        } else {
            "read"
        };
        let mut user_json = render::user(&st, &u.login);
        user_json["permissions"] = json!({
            "admin": permission == "admin",
            "maintain": permission == "admin",
            "push": matches!(permission, "admin" | "write"),
            "triage": matches!(permission, "admin" | "write"),
            "pull": permission != "none",
        });
        user_json["role_name"] = json!(permission);
        Ok(json!({"permission": permission, "role_name": permission, "user": user_json}))
    }

    /// `GET /orgs/{org}/teams/{slug}/memberships/{user}`: an active `member` membership, or 404.
    pub fn team_membership(&self, org: &str, slug: &str, user: &str) -> R<Value> {
        let st = self.lock();
        let (o, t) = find_team(&st, org, slug)?;
        let login = user.to_ascii_lowercase();
        if !t.members.contains(&login) {
            return Err(GitHubError::NotFound(format!(
                "{user} in team {org}/{slug}"
            )));
        }
        Ok(json!({
            "url": format!("{}/organizations/{}/team/{}/memberships/{}", st.urls.api, o.id, t.id, st.display_login(&login)),
            "role": "member",
            "state": "active",
        }))
    }
}
