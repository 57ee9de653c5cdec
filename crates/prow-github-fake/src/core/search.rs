//! GraphQL `search(type: ISSUE, …)` over the fake's state: filtering with [`crate::search`],
//! ordering, paging, and the `PullRequest` / `Issue` nodes Tide and Deck read.

use serde_json::{Value, json};

use crate::render;
use crate::search::{Item, SearchQuery, Sort};
use crate::state::{IssueRec, RepoRec, State};

use super::{Blocked, Core, merge_blocker, review_decision};

/// One page of search results.
#[derive(Debug, Clone)]
pub(crate) struct SearchPage {
    /// All matches (GraphQL `issueCount`).
    pub total: usize,
    /// The page's nodes, in order.
    pub nodes: Vec<Value>,
}

/// A match: its sort key and where it lives.
struct Hit {
    at: chrono::DateTime<chrono::Utc>,
    repo: String,
    number: u64,
}

/// The login GraphQL shows: app bots appear without their `[bot]` suffix.
fn graphql_login(st: &State, login: &str) -> (String, &'static str) {
    let display = st.display_login(login);
    match st.user(login) {
        Some(u) if u.bot => (
            display.strip_suffix("[bot]").unwrap_or(display).to_owned(),
            "Bot",
        ),
        _ => (display.to_owned(), "User"),
    }
}

fn actor_json(st: &State, login: &str) -> Value {
    let (login, kind) = graphql_login(st, login);
    json!({"login": login, "__typename": kind})
}

fn repository_json(st: &State, r: &RepoRec) -> Value {
    json!({
        "name": r.name,
        "nameWithOwner": r.full_name(),
        "owner": {"login": r.owner},
        "url": format!("{}/{}", st.urls.web, r.full_name()),
        "isPrivate": r.private,
    })
}

fn labels_json(r: &RepoRec, names: &[String]) -> Value {
    let nodes: Vec<Value> = names
        .iter()
        .map(|n| {
            let color = r.label(n).map_or("ededed", |l| l.color.as_str());
            json!({"name": n, "color": color})
        })
        .collect();
    json!({"nodes": nodes})
}

fn milestone_json(i: &IssueRec) -> Value {
    i.milestone
        .as_ref()
        .map_or(Value::Null, |m| json!({"title": m}))
}

/// The head commit with GitHub's combined status (latest status per context, upper-case states).
fn head_commit_json(r: &RepoRec, sha: &str) -> Value {
    let mut latest = render::latest_statuses(r, sha);
    latest.sort_by(|a, b| a.context.cmp(&b.context));
    let status = if latest.is_empty() {
        Value::Null
    } else {
        let contexts: Vec<Value> = latest
            .iter()
            .map(|s| {
                json!({
                    "context": s.context,
                    "state": s.state.to_ascii_uppercase(),
                    "description": s.description.clone().unwrap_or_default(),
                    "targetUrl": s.target_url,
                })
            })
            .collect();
        json!({
            "state": render::combined_status_state(r, sha).to_ascii_uppercase(),
            "contexts": contexts,
        })
    };
    json!({"nodes": [{"commit": {"oid": sha, "status": status, "statusCheckRollup": null}}]})
}

impl Core {
    /// Runs a parsed search as `actor` (private repositories only with access) and renders
    /// `first` results after the first `offset`.
    pub fn search(&self, actor: &str, q: &SearchQuery, first: usize, offset: usize) -> SearchPage {
        let (total, page, warm) = {
            let st = self.lock();
            let mut hits = Vec::new();
            for (key, r) in &st.repos {
                if r.private && !st.can_push(r, actor) {
                    continue;
                }
                for i in r.issues.values() {
                    if let Some(at) = Self::search_hit(&st, r, i, q) {
                        hits.push(Hit {
                            at,
                            repo: key.clone(),
                            number: i.number,
                        });
                    }
                }
            }
            hits.sort_by(|a, b| (a.at, &a.repo, a.number).cmp(&(b.at, &b.repo, b.number)));
            if matches!(q.sort, Sort::CreatedDesc | Sort::UpdatedDesc) {
                hits.reverse();
            }
            let total = hits.len();
            let page: Vec<Hit> = hits.into_iter().skip(offset).take(first).collect();
            // Git facts of the page's pull requests, computed below without the lock.
            let warm: Vec<_> = page
                .iter()
                .filter_map(|h| {
                    let r = st.repos.get(&h.repo)?;
                    let i = r.issues.get(&h.number)?;
                    let pr = i.pr.as_ref()?;
                    Some((
                        r.id,
                        r.git.clone(),
                        Self::base_sha(r, i),
                        pr.head_sha.clone(),
                    ))
                })
                .collect();
            (total, page, warm)
        };
        for (id, g, base, head) in warm {
            self.pr_git_facts(id, &g, &base, &head);
        }
        let st = self.lock();
        let nodes = page
            .iter()
            .filter_map(|h| {
                let r = st.repos.get(&h.repo)?;
                let i = r.issues.get(&h.number)?;
                Some(if i.pr.is_some() {
                    self.pr_node(&st, r, i)
                } else {
                    issue_node(&st, r, i)
                })
            })
            .collect();
        SearchPage { total, nodes }
    }

    /// The sort time of `i` if it matches `q`.
    fn search_hit(
        st: &State,
        r: &RepoRec,
        i: &IssueRec,
        q: &SearchQuery,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let pr = i.pr.as_ref();
        let decision = pr.and_then(|_| review_decision(st, r, i));
        let status = pr
            .filter(|p| r.statuses.get(&p.head_sha).is_some_and(|l| !l.is_empty()))
            .map(|p| render::combined_status_state(r, &p.head_sha));
        let item = Item {
            owner: &r.owner,
            repo: &r.name,
            is_pr: pr.is_some(),
            open: i.open,
            merged: pr.is_some_and(|p| p.merged),
            draft: pr.is_some_and(|p| p.draft),
            author: st.display_login(&i.author),
            author_is_bot: st.user(&i.author).is_some_and(|u| u.bot),
            assignees: &i.assignees,
            base: pr.map(|p| p.base_ref.as_str()),
            head: pr.map(|p| p.head_ref.as_str()),
            labels: &i.labels,
            milestone: i.milestone.as_deref(),
            review_decision: decision,
            reviewed: pr.is_some_and(|p| p.reviews.iter().any(|rv| rv.state != "PENDING")),
            status,
            created: i.created_at,
            updated: i.updated_at,
            title: &i.title,
            body: i.body.as_deref().unwrap_or_default(),
        };
        q.matches(&item).then_some(match q.sort {
            Sort::UpdatedAsc | Sort::UpdatedDesc => i.updated_at,
            Sort::CreatedAsc | Sort::CreatedDesc => i.created_at,
        })
    }

    /// A `PullRequest` node with every field Tide's and Deck's queries select.
    fn pr_node(&self, st: &State, r: &RepoRec, i: &IssueRec) -> Value {
        let Some(pr) = &i.pr else {
            return issue_node(st, r, i);
        };
        let info = self.pr_info(r, i);
        let state = if pr.merged {
            "MERGED"
        } else if i.open {
            "OPEN"
        } else {
            "CLOSED"
        };
        let mergeable = match (i.open, info.mergeable) {
            (true, Some(true)) => "MERGEABLE",
            (true, Some(false)) => "CONFLICTING",
            _ => "UNKNOWN",
        };
        let merge_state = if !i.open {
            "UNKNOWN"
        } else if info.mergeable == Some(false) {
            "DIRTY"
        } else {
            match merge_blocker(st, r, i) {
                Some(Blocked::Behind) => "BEHIND",
                Some(_) => "BLOCKED",
                None => "CLEAN",
            }
        };
        let author = actor_json(st, &i.author);
        json!({
            "__typename": "PullRequest",
            "id": render::node_id("PR_", i.id),
            "number": i.number,
            "title": i.title,
            "body": i.body.clone().unwrap_or_default(),
            "url": format!("{}/{}/pull/{}", st.urls.web, r.full_name(), i.number),
            "state": state,
            "merged": pr.merged,
            "isDraft": pr.draft,
            "createdAt": render::ts(i.created_at),
            "updatedAt": render::ts(i.updated_at),
            "author": author,
            "authorMetadata": {"__typename": author["__typename"].clone()},
            "baseRef": {"name": pr.base_ref, "prefix": "refs/heads/"},
            "baseRefName": pr.base_ref,
            "baseRefOid": Self::base_sha(r, i),
            "headRefName": pr.head_ref,
            "headRefOid": pr.head_sha,
            "mergeable": mergeable,
            "mergeStateStatus": merge_state,
            "canBeRebased": i.open && info.mergeable == Some(true) && r.allow_rebase_merge,
            "repository": repository_json(st, r),
            "reviewDecision": review_decision(st, r, i),
            "labels": labels_json(r, &i.labels),
            "milestone": milestone_json(i),
            "commits": head_commit_json(r, &pr.head_sha),
        })
    }
}

/// An `Issue` node.
fn issue_node(st: &State, r: &RepoRec, i: &IssueRec) -> Value {
    json!({
        "__typename": "Issue",
        "id": render::node_id("I_", i.id),
        "number": i.number,
        "title": i.title,
        "body": i.body.clone().unwrap_or_default(),
        "url": format!("{}/{}/issues/{}", st.urls.web, r.full_name(), i.number),
        "state": if i.open { "OPEN" } else { "CLOSED" },
        "createdAt": render::ts(i.created_at),
        "updatedAt": render::ts(i.updated_at),
        "author": actor_json(st, &i.author),
        "repository": repository_json(st, r),
        "labels": labels_json(r, &i.labels),
        "milestone": milestone_json(i),
    })
}
