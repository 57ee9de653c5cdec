//! GitHub's JSON shapes for the fake's records. REST responses and webhook payloads are both
//! built here, so the in-process client (which decodes these values) and HTTP clients see exactly
//! the same objects. Field sets follow GitHub's OpenAPI description (`api.github.com.json`).

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::git::{CommitInfo, FileDiff, TreeItem};
use crate::state::{
    CommentRec, EventRec, IssueRec, LabelRec, OrgRec, RepoRec, ReviewCommentRec, ReviewRec, State,
    StatusRec, TeamRec, UserRec,
};

/// RFC 3339 with whole seconds and `Z`, as GitHub prints timestamps.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

/// Opaque GraphQL-style node id.
pub(crate) fn node_id(kind: &str, id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}{id}"))
}

/// Percent-encodes one URL path segment (label names may contain spaces, `/`, `:`…).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn empty_reactions(url: &str) -> Value {
    json!({
        "url": format!("{url}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
        "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
    })
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

/// Repository-relative URL roots.
struct RepoUrls {
    api: String,
    web: String,
}

fn repo_urls(st: &State, repo: &RepoRec) -> RepoUrls {
    RepoUrls {
        api: format!("{}/repos/{}/{}", st.urls.api, repo.owner, repo.name),
        web: format!("{}/{}/{}", st.urls.web, repo.owner, repo.name),
    }
}

// ---- users and orgs ----

fn user_record_json(st: &State, u: &UserRec, kind: &str) -> Value {
    let api = format!("{}/users/{}", st.urls.api, u.login);
    json!({
        "login": u.login,
        "id": u.id,
        "node_id": node_id(if kind == "Organization" { "O_" } else { "U_" }, u.id),
        "avatar_url": format!("{}/avatars/u/{}", st.urls.web, u.id),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("{}/{}", st.urls.web, u.login),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false
    })
}

/// `simple-user` for a login (a minimal record when the login is unknown).
pub(crate) fn user(st: &State, login: &str) -> Value {
    if let Some(org) = st.org(login) {
        return org_as_user(st, org);
    }
    match st.user(login) {
        Some(u) => user_record_json(st, u, if u.bot { "Bot" } else { "User" }),
        None => {
            let placeholder = UserRec {
                login: login.to_owned(),
                id: 0,
                name: None,
                email: None,
                bot: false,
                created_at: chrono::DateTime::UNIX_EPOCH,
            };
            user_record_json(st, &placeholder, "User")
        }
    }
}

fn org_as_user(st: &State, org: &OrgRec) -> Value {
    let rec = UserRec {
        login: org.login.clone(),
        id: org.id,
        name: None,
        email: None,
        bot: false,
        created_at: chrono::DateTime::UNIX_EPOCH,
    };
    user_record_json(st, &rec, "Organization")
}

/// `GET /user` and `GET /users/{login}`: the simple fields plus the profile ones.
pub(crate) fn full_user(st: &State, u: &UserRec) -> Value {
    merge(
        user(st, &u.login),
        json!({
            "name": u.name, "email": u.email, "company": null, "blog": "", "location": null,
            "hireable": null, "bio": null, "twitter_username": null, "public_repos": 0,
            "public_gists": 0, "followers": 0, "following": 0,
            "created_at": ts(u.created_at), "updated_at": ts(u.created_at),
            "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0,
            "disk_usage": 0, "collaborators": 0, "two_factor_authentication": false
        }),
    )
}

/// The `organization` object of webhook payloads.
pub(crate) fn org(st: &State, o: &OrgRec) -> Value {
    let api = format!("{}/orgs/{}", st.urls.api, o.login);
    json!({
        "login": o.login,
        "id": o.id,
        "node_id": node_id("O_", o.id),
        "url": api,
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events"),
        "hooks_url": format!("{api}/hooks"),
        "issues_url": format!("{api}/issues"),
        "members_url": format!("{api}/members{{/member}}"),
        "public_members_url": format!("{api}/public_members{{/member}}"),
        "avatar_url": format!("{}/avatars/u/{}", st.urls.web, o.id),
        "description": null
    })
}

pub(crate) fn team(st: &State, o: &OrgRec, t: &TeamRec) -> Value {
    let api = format!("{}/orgs/{}/teams/{}", st.urls.api, o.login, t.slug);
    json!({
        "id": t.id,
        "node_id": node_id("T_", t.id),
        "url": api,
        "html_url": format!("{}/orgs/{}/teams/{}", st.urls.web, o.login, t.slug),
        "name": t.name,
        "slug": t.slug,
        "description": null,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{api}/members{{/member}}"),
        "repositories_url": format!("{api}/repos"),
        "type": "organization",
        "organization_id": o.id,
        "parent": null
    })
}

/// `GET /orgs/{org}/teams/{slug}` (`team-full`): the team plus counts and its organization.
pub(crate) fn team_full(st: &State, o: &OrgRec, t: &TeamRec) -> Value {
    let epoch = ts(chrono::DateTime::UNIX_EPOCH);
    let organization = merge(
        org(st, o),
        json!({
            "name": o.login, "html_url": format!("{}/{}", st.urls.web, o.login),
            "has_organization_projects": false, "has_repository_projects": false,
            "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
            "type": "Organization", "created_at": epoch, "updated_at": epoch, "archived_at": null
        }),
    );
    merge(
        team(st, o, t),
        json!({
            "members_count": t.members.len(), "repos_count": 0,
            "created_at": epoch, "updated_at": epoch, "organization": organization
        }),
    )
}

// ---- repositories ----

/// `*_url` fields of a repository: name and suffix after the repository's API URL.
const REPO_URL_TEMPLATES: &[(&str, &str)] = &[
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
];

/// The `repository` object (webhooks, `head.repo`) and `GET /repos/{o}/{r}` (full-repository).
pub(crate) fn repo(st: &State, r: &RepoRec) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let open_issues = r.issues.values().filter(|i| i.open).count();
    let mut v = json!({
        "id": r.id,
        "node_id": node_id("R_", r.id),
        "name": r.name,
        "full_name": r.full_name(),
        "private": r.private,
        "owner": user(st, &r.owner),
        "html_url": web,
        "description": null,
        "fork": false,
        "url": api,
        "created_at": ts(r.created_at),
        "updated_at": ts(r.pushed_at),
        "pushed_at": ts(r.pushed_at),
        "git_url": format!("{}.git", web.replacen("http", "git", 1)),
        "ssh_url": format!("git@{}:{}.git", host_of(&st.urls.web), r.full_name()),
        "clone_url": format!("{web}.git"),
        "svn_url": web,
    });
    let counts = json!({
        "homepage": null,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": null,
        "has_issues": true,
        "has_projects": true,
        "has_downloads": true,
        "has_wiki": true,
        "has_pages": false,
        "has_discussions": false,
        "forks_count": 0,
        "mirror_url": null,
        "archived": false,
        "disabled": false,
        "open_issues_count": open_issues,
        "license": null,
        "allow_forking": true,
        "is_template": false,
        "web_commit_signoff_required": false,
        "topics": [],
        "visibility": if r.private { "private" } else { "public" },
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "default_branch": r.default_branch,
        "allow_merge_commit": r.allow_merge_commit,
        "allow_squash_merge": r.allow_squash_merge,
        "allow_rebase_merge": r.allow_rebase_merge,
        "network_count": 0,
        "subscribers_count": 0,
        "custom_properties": {}
    });
    v = merge(v, counts);
    if let Value::Object(m) = &mut v {
        for (name, suffix) in REPO_URL_TEMPLATES {
            m.insert((*name).to_owned(), json!(format!("{api}{suffix}")));
        }
    }
    v
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// The repository object of `push` payloads: owner carries `name`/`email`, and `created_at` and
/// `pushed_at` are Unix seconds (GitHub's long-standing quirk).
pub(crate) fn push_repo(st: &State, r: &RepoRec) -> Value {
    let mut v = repo(st, r);
    if let Value::Object(m) = &mut v {
        let owner_user = st.user(&r.owner);
        if let Some(Value::Object(owner)) = m.get_mut("owner") {
            owner.insert(
                "name".into(),
                json!(
                    owner_user
                        .and_then(|u| u.name.clone())
                        .unwrap_or_else(|| r.owner.clone())
                ),
            );
            owner.insert(
                "email".into(),
                json!(owner_user.and_then(|u| u.email.clone())),
            );
        }
        m.insert("created_at".into(), json!(r.created_at.timestamp()));
        m.insert("pushed_at".into(), json!(r.pushed_at.timestamp()));
        m.insert("url".into(), json!(repo_urls(st, r).web));
        m.insert("stargazers".into(), json!(0));
        m.insert("master_branch".into(), json!(r.default_branch));
    }
    v
}

/// `minimal-repository` (inside combined statuses).
pub(crate) fn minimal_repo(st: &State, r: &RepoRec) -> Value {
    repo(st, r)
}

// ---- labels ----

pub(crate) fn label(st: &State, r: &RepoRec, l: &LabelRec) -> Value {
    json!({
        "id": l.id,
        "node_id": node_id("LA_", l.id),
        "url": format!("{}/labels/{}", repo_urls(st, r).api, encode_segment(&l.name)),
        "name": l.name,
        "color": l.color,
        "default": l.default,
        "description": l.description
    })
}

/// A milestone by title. The fake keeps only titles on issues, so the number is the title's rank
/// among the repository's milestone titles and the counts are computed on the fly.
pub(crate) fn milestone(st: &State, r: &RepoRec, title: Option<&str>) -> Value {
    let Some(title) = title else {
        return Value::Null;
    };
    let mut titles: Vec<&str> = r
        .issues
        .values()
        .filter_map(|i| i.milestone.as_deref())
        .collect();
    titles.sort_unstable();
    titles.dedup();
    let number = titles.iter().position(|t| *t == title).map_or(1, |p| p + 1) as u64;
    let of_it = r
        .issues
        .values()
        .filter(|i| i.milestone.as_deref() == Some(title));
    let open = of_it.clone().filter(|i| i.open).count();
    let closed = of_it.filter(|i| !i.open).count();
    let RepoUrls { api, web } = repo_urls(st, r);
    let url = format!("{api}/milestones/{number}");
    json!({
        "url": url,
        "html_url": format!("{web}/milestone/{number}"),
        "labels_url": format!("{url}/labels"),
        "id": r.id * 1000 + number,
        "node_id": node_id("MI_", r.id * 1000 + number),
        "number": number,
        "title": title,
        "description": null,
        "creator": user(st, &r.owner),
        "open_issues": open,
        "closed_issues": closed,
        "state": "open",
        "created_at": ts(r.created_at),
        "updated_at": ts(r.created_at),
        "closed_at": null,
        "due_on": null
    })
}

/// Labels of an issue, looked up on the repository (a label deleted from the repository is
/// rendered with defaults rather than dropped).
pub(crate) fn issue_labels(st: &State, r: &RepoRec, names: &[String]) -> Vec<Value> {
    names
        .iter()
        .map(|n| match r.label(n) {
            Some(l) => label(st, r, l),
            None => label(
                st,
                r,
                &LabelRec {
                    id: 0,
                    name: n.clone(),
                    color: "ededed".into(),
                    description: None,
                    default: false,
                },
            ),
        })
        .collect()
}

// ---- issues ----

pub(crate) fn issue(st: &State, r: &RepoRec, i: &IssueRec) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let url = format!("{api}/issues/{}", i.number);
    let is_pr = i.pr.is_some();
    let html = if is_pr {
        format!("{web}/pull/{}", i.number)
    } else {
        format!("{web}/issues/{}", i.number)
    };
    let assignees: Vec<Value> = i.assignees.iter().map(|a| user(st, a)).collect();
    let comments = r.comments.values().filter(|c| c.issue == i.number).count();
    let mut v = json!({
        "url": url,
        "repository_url": api,
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": html,
        "id": i.id,
        "node_id": node_id(if is_pr { "PR_" } else { "I_" }, i.id),
        "number": i.number,
        "title": i.title,
        "user": user(st, &i.author),
        "labels": issue_labels(st, r, &i.labels),
        "state": i.state(),
        "state_reason": i.state_reason,
        "locked": i.locked,
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "assignees": assignees,
        "milestone": milestone(st, r, i.milestone.as_deref()),
        "comments": comments,
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "closed_at": ts_opt(i.closed_at),
        "closed_by": i.closed_by.as_deref().map_or(Value::Null, |c| user(st, c)),
        "author_association": st.association(r, &i.author),
        "active_lock_reason": null,
        "body": i.body,
        "reactions": empty_reactions(&url),
        "timeline_url": format!("{url}/timeline"),
        "performed_via_github_app": null
    });
    if let Value::Object(m) = &mut v {
        m.insert(
            "draft".into(),
            json!(i.pr.as_ref().is_some_and(|p| p.draft)),
        );
    }
    if let (Some(pr), Value::Object(m)) = (&i.pr, &mut v) {
        m.insert(
            "pull_request".into(),
            json!({
                "url": format!("{api}/pulls/{}", i.number),
                "html_url": html,
                "diff_url": format!("{html}.diff"),
                "patch_url": format!("{html}.patch"),
                "merged_at": ts_opt(pr.merged_at)
            }),
        );
    }
    v
}

/// Git-derived facts about a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PrGitInfo {
    pub base_sha: String,
    pub commits: u64,
    pub additions: u64,
    pub deletions: u64,
    pub changed_files: u64,
    /// `None` for closed pull requests (GitHub stops computing it).
    pub mergeable: Option<bool>,
    pub mergeable_state: String,
}

fn branch_side(st: &State, r: &RepoRec, git_ref: &str, sha: &str) -> Value {
    json!({
        "label": format!("{}:{}", r.owner, git_ref),
        "ref": git_ref,
        "sha": sha,
        "user": user(st, &r.owner),
        "repo": repo(st, r)
    })
}

pub(crate) fn pull_request(st: &State, r: &RepoRec, i: &IssueRec, info: &PrGitInfo) -> Value {
    let Some(pr) = &i.pr else {
        return issue(st, r, i);
    };
    let RepoUrls { api, web } = repo_urls(st, r);
    let url = format!("{api}/pulls/{}", i.number);
    let html = format!("{web}/pull/{}", i.number);
    let issue_url = format!("{api}/issues/{}", i.number);
    let statuses_url = format!("{api}/statuses/{}", pr.head_sha);
    let assignees: Vec<Value> = i.assignees.iter().map(|a| user(st, a)).collect();
    let comments = r.comments.values().filter(|c| c.issue == i.number).count();
    let teams: Vec<Value> = st
        .org(&r.owner)
        .map(|o| {
            pr.requested_teams
                .iter()
                .filter_map(|slug| {
                    o.teams
                        .iter()
                        .find(|t| &t.slug == slug)
                        .map(|t| team(st, o, t))
                })
                .collect()
        })
        .unwrap_or_default();
    let links = json!({
        "self": {"href": url},
        "html": {"href": html},
        "issue": {"href": issue_url},
        "comments": {"href": format!("{issue_url}/comments")},
        "review_comments": {"href": format!("{url}/comments")},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{url}/commits")},
        "statuses": {"href": statuses_url}
    });
    let head = branch_side(st, r, &pr.head_ref, &pr.head_sha);
    let base = branch_side(st, r, &pr.base_ref, &info.base_sha);
    let mut v = json!({
        "url": url,
        "id": i.id,
        "node_id": node_id("PR_", i.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue_url,
        "number": i.number,
        "state": i.state(),
        "locked": i.locked,
        "title": i.title,
        "user": user(st, &i.author),
        "body": i.body,
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "closed_at": ts_opt(i.closed_at),
        "merged_at": ts_opt(pr.merged_at),
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "assignees": assignees,
        "requested_reviewers": pr.requested_reviewers.iter().map(|l| user(st, l)).collect::<Vec<_>>(),
        "requested_teams": teams,
        "labels": issue_labels(st, r, &i.labels),
        "milestone": milestone(st, r, i.milestone.as_deref()),
        "draft": pr.draft,
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue_url}/comments"),
        "statuses_url": statuses_url,
    });
    let tail = json!({
        "author_association": st.association(r, &i.author),
        "auto_merge": null,
        "active_lock_reason": null,
        "merged": pr.merged,
        "mergeable": info.mergeable,
        "rebaseable": info.mergeable,
        "mergeable_state": info.mergeable_state,
        "merged_by": pr.merged_by.as_deref().map_or(Value::Null, |m| user(st, m)),
        "comments": comments,
        "review_comments": pr.review_comments.len(),
        "maintainer_can_modify": false,
        "commits": info.commits,
        "additions": info.additions,
        "deletions": info.deletions,
        "changed_files": info.changed_files
    });
    v = merge(v, tail);
    if let Value::Object(m) = &mut v {
        m.insert("_links".into(), links);
        m.insert("head".into(), head);
        m.insert("base".into(), base);
    }
    v
}

// ---- comments and reviews ----

pub(crate) fn comment(st: &State, r: &RepoRec, c: &CommentRec) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let is_pr = r.issues.get(&c.issue).is_some_and(|i| i.pr.is_some());
    let url = format!("{api}/issues/comments/{}", c.id);
    json!({
        "url": url,
        "html_url": format!("{web}/{}/{}#issuecomment-{}", if is_pr { "pull" } else { "issues" }, c.issue, c.id),
        "issue_url": format!("{api}/issues/{}", c.issue),
        "id": c.id,
        "node_id": node_id("IC_", c.id),
        "user": user(st, &c.author),
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "author_association": st.association(r, &c.author),
        "body": c.body,
        "reactions": empty_reactions(&url),
        "performed_via_github_app": null
    })
}

/// A review; `webhook` selects the lower-case state spelling webhooks use.
pub(crate) fn review(st: &State, r: &RepoRec, number: u64, rv: &ReviewRec, webhook: bool) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let html = format!("{web}/pull/{number}#pullrequestreview-{}", rv.id);
    let pr_url = format!("{api}/pulls/{number}");
    let state = if webhook {
        rv.state.to_ascii_lowercase()
    } else {
        rv.state.clone()
    };
    json!({
        "id": rv.id,
        "node_id": node_id("PRR_", rv.id),
        "user": user(st, &rv.author),
        "body": if rv.body.is_empty() && webhook { Value::Null } else { json!(rv.body) },
        "state": state,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": st.association(r, &rv.author),
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": ts_opt(rv.submitted_at),
        "commit_id": rv.commit_id
    })
}

pub(crate) fn review_comment(st: &State, r: &RepoRec, number: u64, c: &ReviewCommentRec) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let url = format!("{api}/pulls/comments/{}", c.id);
    let html = format!("{web}/pull/{number}#discussion_r{}", c.id);
    let pr_url = format!("{api}/pulls/{number}");
    let mut v = json!({
        "url": url,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": node_id("PRRC_", c.id),
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "position": c.position,
        "original_position": c.position,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": user(st, &c.author),
        "body": c.body,
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": st.association(r, &c.author),
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pr_url}},
        "reactions": empty_reactions(&url),
        "start_line": null,
        "original_start_line": null,
        "start_side": null,
        "line": c.line,
        "original_line": c.line,
        "side": c.side,
        "subject_type": "line"
    });
    if let (Some(reply), Value::Object(m)) = (c.in_reply_to, &mut v) {
        m.insert("in_reply_to_id".into(), json!(reply));
    }
    v
}

pub(crate) fn issue_event(st: &State, r: &RepoRec, e: &EventRec) -> Value {
    let RepoUrls { api, .. } = repo_urls(st, r);
    let mut v = json!({
        "id": e.id,
        "node_id": node_id("E_", e.id),
        "url": format!("{api}/issues/events/{}", e.id),
        "actor": user(st, &e.actor),
        "event": e.event,
        "commit_id": e.commit_id,
        "commit_url": e.commit_id.as_deref().map(|c| format!("{api}/commits/{c}")),
        "created_at": ts(e.created_at),
        "performed_via_github_app": null
    });
    let Value::Object(m) = &mut v else { return v };
    if let Some(l) = &e.label {
        let color = r.label(l).map_or("ededed".to_owned(), |x| x.color.clone());
        m.insert("label".into(), json!({"name": l, "color": color}));
    }
    if let Some(a) = &e.assignee {
        m.insert("assignee".into(), user(st, a));
        m.insert("assigner".into(), user(st, &e.actor));
    }
    if let Some(rr) = &e.requested_reviewer {
        m.insert("requested_reviewer".into(), user(st, rr));
        m.insert("review_requester".into(), user(st, &e.actor));
    }
    v
}

// ---- statuses ----

pub(crate) fn status(st: &State, r: &RepoRec, sha: &str, s: &StatusRec) -> Value {
    json!({
        "url": format!("{}/statuses/{sha}", repo_urls(st, r).api),
        "avatar_url": format!("{}/avatars/u/{}", st.urls.web, st.user(&s.creator).map_or(0, |u| u.id)),
        "id": s.id,
        "node_id": node_id("SC_", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": ts(s.created_at),
        "updated_at": ts(s.created_at),
        "creator": user(st, &s.creator)
    })
}

/// `GET /commits/{ref}/status`: the newest status per context, combined like GitHub: any
/// `error`/`failure` fails, otherwise any `pending` (or no status at all) is pending.
pub(crate) fn combined_status(st: &State, r: &RepoRec, sha: &str) -> Value {
    let latest = latest_statuses(r, sha);
    let state = combine(&latest);
    let api = repo_urls(st, r).api;
    let statuses: Vec<Value> = latest
        .iter()
        .map(|s| {
            let mut v = status(st, r, sha, s);
            if let Value::Object(m) = &mut v {
                m.remove("creator");
                m.insert("required".into(), Value::Null);
            }
            v
        })
        .collect();
    json!({
        "state": state,
        "statuses": statuses,
        "sha": sha,
        "total_count": latest.len(),
        "repository": minimal_repo(st, r),
        "commit_url": format!("{api}/commits/{sha}"),
        "url": format!("{api}/commits/{sha}/status")
    })
}

/// The newest status of each context on `sha`, newest first.
pub(crate) fn latest_statuses<'a>(r: &'a RepoRec, sha: &str) -> Vec<&'a StatusRec> {
    let mut latest: Vec<&StatusRec> = Vec::new();
    if let Some(list) = r.statuses.get(sha) {
        for s in list.iter().rev() {
            if !latest.iter().any(|l| l.context == s.context) {
                latest.push(s);
            }
        }
    }
    latest
}

fn combine(latest: &[&StatusRec]) -> &'static str {
    if latest
        .iter()
        .any(|s| s.state == "error" || s.state == "failure")
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    }
}

/// The combined state of `sha` (`success`, `pending` or `failure`).
pub(crate) fn combined_status_state(r: &RepoRec, sha: &str) -> &'static str {
    combine(&latest_statuses(r, sha))
}

// ---- git data ----

fn git_person(sig: &crate::git::Signature) -> Value {
    json!({"name": sig.name, "email": sig.email, "date": ts(sig.when)})
}

/// The GitHub account behind a commit identity, if any user uses that email.
fn account_for(st: &State, sig: &crate::git::Signature) -> Value {
    st.users
        .values()
        .find(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&sig.email))
                || format!("{}@users.noreply.example.com", u.login).eq_ignore_ascii_case(&sig.email)
        })
        .map_or(Value::Null, |u| user(st, &u.login))
}

/// The `commit` part shared by REST commits and contents-API responses.
pub(crate) fn git_commit(st: &State, r: &RepoRec, c: &CommitInfo) -> Value {
    let api = repo_urls(st, r).api;
    json!({
        "url": format!("{api}/git/commits/{}", c.sha),
        "author": git_person(&c.author),
        "committer": git_person(&c.committer),
        "message": c.message,
        "tree": {"sha": c.tree, "url": format!("{api}/git/trees/{}", c.tree)},
        "comment_count": 0,
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
    })
}

pub(crate) fn diff_entry(st: &State, r: &RepoRec, commit: &str, d: &FileDiff) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let mut v = json!({
        "sha": d.blob_sha,
        "filename": d.filename,
        "status": d.status,
        "additions": d.additions,
        "deletions": d.deletions,
        "changes": d.additions + d.deletions,
        "blob_url": format!("{web}/blob/{commit}/{}", d.filename),
        "raw_url": format!("{web}/raw/{commit}/{}", d.filename),
        "contents_url": format!("{api}/contents/{}?ref={commit}", d.filename)
    });
    if let Value::Object(m) = &mut v {
        if let Some(p) = &d.patch {
            m.insert("patch".into(), json!(p));
        }
        if let Some(p) = &d.previous_filename {
            m.insert("previous_filename".into(), json!(p));
        }
    }
    v
}

/// `GET /repos/{o}/{r}/commits/{sha}`.
pub(crate) fn commit(st: &State, r: &RepoRec, c: &CommitInfo, files: &[FileDiff]) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let (additions, deletions) = files
        .iter()
        .fold((0, 0), |(a, d), f| (a + f.additions, d + f.deletions));
    json!({
        "url": format!("{api}/commits/{}", c.sha),
        "sha": c.sha,
        "node_id": node_id("C_", u64::from_str_radix(&c.sha[..c.sha.len().min(12)], 16).unwrap_or(0)),
        "html_url": format!("{web}/commit/{}", c.sha),
        "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "commit": git_commit(st, r, c),
        "author": account_for(st, &c.author),
        "committer": account_for(st, &c.committer),
        "parents": c.parents.iter().map(|p| json!({
            "sha": p, "url": format!("{api}/commits/{p}"), "html_url": format!("{web}/commit/{p}")
        })).collect::<Vec<_>>(),
        "stats": {"additions": additions, "deletions": deletions, "total": additions + deletions},
        "files": files.iter().map(|f| diff_entry(st, r, &c.sha, f)).collect::<Vec<_>>()
    })
}

/// The `commit` of contents-API write responses (`file-commit`).
pub(crate) fn file_commit(st: &State, r: &RepoRec, c: &CommitInfo) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    merge(
        git_commit(st, r, c),
        json!({
            "sha": c.sha,
            "node_id": node_id("C_", u64::from_str_radix(&c.sha[..c.sha.len().min(12)], 16).unwrap_or(0)),
            "html_url": format!("{web}/commit/{}", c.sha),
            "parents": c.parents.iter().map(|p| json!({
                "sha": p, "url": format!("{api}/git/commits/{p}"), "html_url": format!("{web}/commit/{p}")
            })).collect::<Vec<_>>()
        }),
    )
}

/// One commit of a `push` payload.
pub(crate) fn push_commit(st: &State, r: &RepoRec, c: &CommitInfo, files: &[FileDiff]) -> Value {
    let web = repo_urls(st, r).web;
    let person = |sig: &crate::git::Signature| {
        let mut v = json!({"name": sig.name, "email": sig.email});
        if let (Some(login), Value::Object(m)) =
            (account_for(st, sig).get("login").cloned(), &mut v)
        {
            m.insert("username".into(), login);
        }
        v
    };
    let pick = |statuses: &[&str]| -> Vec<String> {
        files
            .iter()
            .filter(|f| statuses.contains(&f.status.as_str()))
            .map(|f| f.filename.clone())
            .collect()
    };
    let mut removed = pick(&["removed"]);
    removed.extend(
        files
            .iter()
            .filter(|f| f.status == "renamed")
            .filter_map(|f| f.previous_filename.clone()),
    );
    json!({
        "id": c.sha,
        "tree_id": c.tree,
        "distinct": true,
        "message": c.message,
        "timestamp": c.committer.when.to_rfc3339_opts(SecondsFormat::Secs, false),
        "url": format!("{web}/commit/{}", c.sha),
        "author": person(&c.author),
        "committer": person(&c.committer),
        "added": pick(&["added", "renamed", "copied"]),
        "removed": removed,
        "modified": pick(&["modified", "changed"])
    })
}

pub(crate) fn git_ref(st: &State, r: &RepoRec, refname: &str, sha: &str) -> Value {
    let api = repo_urls(st, r).api;
    json!({
        "ref": refname,
        "node_id": node_id("REF_", sha.bytes().fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)))),
        "url": format!("{api}/git/{refname}"),
        "object": {"type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}")}
    })
}

pub(crate) fn branch(
    st: &State,
    r: &RepoRec,
    name: &str,
    head: &CommitInfo,
    files: &[FileDiff],
) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let protection = r.protection.get(name);
    let contexts: Vec<String> = protection
        .and_then(|p| p.status_checks.as_ref())
        .map(|c| c.contexts.clone())
        .unwrap_or_default();
    let checks: Vec<Value> = contexts
        .iter()
        .map(|c| json!({"context": c, "app_id": null}))
        .collect();
    let level = if protection.and_then(|p| p.status_checks.as_ref()).is_some() {
        "non_admins"
    } else {
        "off"
    };
    json!({
        "name": name,
        "commit": commit(st, r, head, files),
        "_links": {"self": format!("{api}/branches/{name}"), "html": format!("{web}/tree/{name}")},
        "protected": protection.is_some(),
        "protection": {"enabled": protection.is_some(), "required_status_checks": {"enforcement_level": level, "contexts": contexts, "checks": checks}},
        "protection_url": format!("{api}/branches/{name}/protection")
    })
}

/// `GET /branches/{b}/protection` of a protected branch.
pub(crate) fn branch_protection(
    st: &State,
    r: &RepoRec,
    name: &str,
    p: &crate::state::ProtectionRec,
) -> Value {
    let url = format!("{}/branches/{name}/protection", repo_urls(st, r).api);
    let enabled = |on: bool| json!({"enabled": on});
    let mut out = json!({
        "url": url,
        "enforce_admins": {"url": format!("{url}/enforce_admins"), "enabled": false},
        "required_linear_history": enabled(false),
        "allow_force_pushes": enabled(false),
        "allow_deletions": enabled(false),
        "block_creations": enabled(false),
        "required_conversation_resolution": enabled(false),
        "lock_branch": enabled(false),
        "allow_fork_syncing": enabled(false),
        "required_signatures": {"url": format!("{url}/required_signatures"), "enabled": false}
    });
    if let Some(c) = &p.status_checks {
        out["required_status_checks"] = json!({
            "url": format!("{url}/required_status_checks"),
            "strict": c.strict,
            "contexts": c.contexts,
            "contexts_url": format!("{url}/required_status_checks/contexts"),
            "checks": c.contexts.iter().map(|x| json!({"context": x, "app_id": null})).collect::<Vec<_>>()
        });
    }
    if let Some(n) = p.required_approving_review_count {
        out["required_pull_request_reviews"] = json!({
            "url": format!("{url}/required_pull_request_reviews"),
            "dismiss_stale_reviews": false,
            "require_code_owner_reviews": false,
            "require_last_push_approval": false,
            "required_approving_review_count": n
        });
    }
    out
}

pub(crate) fn short_branch(st: &State, r: &RepoRec, name: &str, sha: &str) -> Value {
    let api = repo_urls(st, r).api;
    json!({
        "name": name,
        "commit": {"sha": sha, "url": format!("{api}/commits/{sha}")},
        "protected": r.protection.contains_key(name)
    })
}

pub(crate) fn tree(st: &State, r: &RepoRec, sha: &str, items: &[TreeItem]) -> Value {
    let api = repo_urls(st, r).api;
    let entries: Vec<Value> = items
        .iter()
        .map(|e| {
            let mut v = json!({
                "path": e.path, "mode": e.mode, "type": e.kind, "sha": e.sha,
                "url": format!("{api}/git/{}s/{}", if e.kind == "tree" { "tree" } else { "blob" }, e.sha)
            });
            if let (Some(size), Value::Object(m)) = (e.size, &mut v) {
                m.insert("size".into(), json!(size));
            }
            v
        })
        .collect();
    json!({"sha": sha, "url": format!("{api}/git/trees/{sha}"), "tree": entries, "truncated": false})
}

/// A contents-API entry (file, dir or submodule) without `content`.
pub(crate) fn content_entry(st: &State, r: &RepoRec, git_ref: &str, item: &TreeItem) -> Value {
    let RepoUrls { api, web } = repo_urls(st, r);
    let kind = match item.kind.as_str() {
        "tree" => "dir",
        "commit" => "submodule",
        _ => "file",
    };
    let name = item.path.rsplit('/').next().unwrap_or(&item.path);
    let self_url = format!("{api}/contents/{}?ref={git_ref}", item.path);
    let git_url = format!(
        "{api}/git/{}s/{}",
        if kind == "dir" { "tree" } else { "blob" },
        item.sha
    );
    let html_url = format!(
        "{web}/{}/{git_ref}/{}",
        if kind == "dir" { "tree" } else { "blob" },
        item.path
    );
    json!({
        "type": kind,
        "size": item.size.unwrap_or(0),
        "name": name,
        "path": item.path,
        "sha": item.sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": if kind == "file" { json!(format!("{web}/raw/{git_ref}/{}", item.path)) } else { Value::Null },
        "_links": {"self": self_url, "git": git_url, "html": html_url}
    })
}

/// `GET /contents/{path}` for a file: base64 wrapped at 60 columns with newlines, like GitHub.
pub(crate) fn content_file(
    st: &State,
    r: &RepoRec,
    git_ref: &str,
    item: &TreeItem,
    bytes: &[u8],
) -> Value {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut wrapped = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        wrapped.push_str(&String::from_utf8_lossy(chunk));
        wrapped.push('\n');
    }
    let mut v = content_entry(st, r, git_ref, item);
    if let Value::Object(m) = &mut v {
        m.insert("size".into(), json!(bytes.len()));
        m.insert("content".into(), json!(wrapped));
        m.insert("encoding".into(), json!("base64"));
    }
    v
}

/// The fields every webhook carries: `repository`, `sender` and, for org-owned repositories,
/// `organization`, merged into `fields`.
pub(crate) fn payload(st: &State, r: &RepoRec, sender: &str, fields: Value) -> Value {
    let mut m = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("repository".into(), repo(st, r));
    m.insert("sender".into(), user(st, sender));
    if let Some(o) = st.org(&r.owner) {
        m.insert("organization".into(), org(st, o));
    }
    Value::Object(m)
}
