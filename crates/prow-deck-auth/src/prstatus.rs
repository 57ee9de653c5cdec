//! The PR dashboard's data (`/pr-data.js`, Prow's `pkg/prstatus`): the logged-in user's open
//! PRs from a GraphQL search made with *their* token, each with its labels, head status contexts
//! and what every applicable Tide query still wants.
//!
//! The JSON keeps Prow's `UserData` shape (`Login`, `PullRequestsWithContexts[{Contexts,
//! PullRequest}]`) so existing front-ends keep working, and adds `URL` per PR and `TideQueries`
//! (the merge-requirement diff Prow's page computed in the browser).

use std::collections::BTreeSet;

use prow_config::prow::TideQuery;
use serde::{Deserialize, Serialize};

/// The GraphQL search (Prow's `searchQuery` plus `url`, `baseRefName` and the head commit's
/// status contexts, so one request yields everything the page shows).
pub const SEARCH_QUERY: &str = "query($query: String!, $searchCursor: String) { rateLimit { cost remaining } search(type: ISSUE, first: 100, after: $searchCursor, query: $query) { pageInfo { hasNextPage endCursor } nodes { ... on PullRequest { number merged title url author { login } baseRefName headRefOid repository { name nameWithOwner owner { login } } labels(first: 100) { nodes { name } } milestone { title } mergeable commits(last: 1) { nodes { commit { status { contexts { context state description targetUrl } } } } } } } } }";

/// At most this many result pages (100 PRs each) are fetched.
pub const MAX_PAGES: usize = 10;

/// The default search, `is:pr state:open author:<login>`, or the user's override.
/// When the query names no `repo:`/`org:` it is restricted to `repos` (and `orgs`), as Prow does.
pub fn build_search_query(
    login: &str,
    user_query: Option<&str>,
    repos: &BTreeSet<String>,
    orgs: &BTreeSet<String>,
) -> String {
    let mut q = match user_query.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => q.to_string(),
        None => format!("is:pr state:open author:{login}"),
    };
    if !query_constrains_repos(&q) {
        for r in repos {
            q.push_str(&format!(" repo:\"{r}\""));
        }
        for o in orgs {
            q.push_str(&format!(" org:\"{o}\""));
        }
    }
    q
}

/// Whether a search query already names a `repo:` or `org:`.
pub fn query_constrains_repos(q: &str) -> bool {
    q.split_whitespace()
        .any(|t| t.starts_with("repo:") || t.starts_with("org:"))
}

/// Every `org/repo` Prow knows (jobs and Tide queries) and the orgs Tide queries name.
pub fn known_repos(cfg: &prow_config::Config) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut repos: BTreeSet<String> = cfg.jobs.all_repos().into_iter().map(String::from).collect();
    let mut orgs = BTreeSet::new();
    for q in &cfg.prow.tide.queries {
        repos.extend(q.repos.iter().cloned());
        orgs.extend(q.orgs.iter().cloned());
    }
    // Repos inside a listed org are already covered by `org:`.
    repos.retain(|r| !orgs.contains(r.split('/').next().unwrap_or_default()));
    (repos, orgs)
}

// ---- the GraphQL response (lenient: every field optional) ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchData {
    search: SearchResult,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchResult {
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
    nodes: Vec<Option<GqlPr>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageInfo {
    #[serde(rename = "hasNextPage")]
    has_next_page: bool,
    #[serde(rename = "endCursor")]
    end_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Login {
    login: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GqlRepo {
    name: String,
    #[serde(rename = "nameWithOwner")]
    name_with_owner: String,
    owner: Option<Login>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Nodes<T> {
    nodes: Vec<Option<T>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Titled {
    title: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CommitNode {
    commit: Option<CommitStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CommitStatus {
    status: Option<StatusContexts>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatusContexts {
    contexts: Vec<GqlContext>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GqlContext {
    context: String,
    state: String,
    description: Option<String>,
    #[serde(rename = "targetUrl")]
    target_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GqlPr {
    number: u64,
    merged: bool,
    title: String,
    url: String,
    author: Option<Login>,
    #[serde(rename = "baseRefName")]
    base_ref_name: String,
    #[serde(rename = "headRefOid")]
    head_ref_oid: String,
    repository: Option<GqlRepo>,
    labels: Option<Nodes<Named>>,
    milestone: Option<Titled>,
    mergeable: Option<String>,
    commits: Option<Nodes<CommitNode>>,
}

/// One page of search results: the PRs and the cursor of the next page, if any.
pub fn parse_search_page(
    data: &serde_json::Value,
) -> Result<(Vec<PullRequest>, Option<String>), String> {
    if data.is_null() {
        return Ok((Vec::new(), None));
    }
    let parsed: SearchData = serde_json::from_value(data.clone())
        .map_err(|e| format!("unexpected search response: {e}"))?;
    let mut out = Vec::new();
    for n in parsed.search.nodes.into_iter().flatten() {
        let pr = PullRequest::from_gql(n);
        // Prow skips empty nodes (non-PR search hits come back as `{}`).
        if pr.repository.owner.login.is_empty()
            || pr.repository.name.is_empty()
            || pr.head_ref_oid.is_empty()
        {
            continue;
        }
        out.push(pr);
    }
    let next = if parsed.search.page_info.has_next_page {
        parsed.search.page_info.end_cursor
    } else {
        None
    };
    Ok((out, next))
}

// ---- the JSON the page reads (Prow's field names) ----

/// `/pr-data.js` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserData {
    /// Whether the user is logged in.
    #[serde(rename = "Login")]
    pub login: bool,
    /// The search query that was run (empty when logged out).
    #[serde(rename = "Query", default)]
    pub query: String,
    /// The user's PRs.
    #[serde(rename = "PullRequestsWithContexts", default)]
    pub pull_requests_with_contexts: Vec<PullRequestWithContexts>,
}

/// One PR with its head contexts and Tide diff.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PullRequestWithContexts {
    /// Status contexts of the head commit.
    #[serde(rename = "Contexts")]
    pub contexts: Vec<Context>,
    /// The PR.
    #[serde(rename = "PullRequest")]
    pub pull_request: PullRequest,
    /// What each Tide query that covers the PR's repo and branch still requires.
    #[serde(rename = "TideQueries", default)]
    pub tide_queries: Vec<TideQueryDiff>,
}

/// A head status context (state upper-case, as Prow sends it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Context {
    /// Context name.
    #[serde(rename = "Context")]
    pub context: String,
    /// Description.
    #[serde(rename = "Description")]
    pub description: String,
    /// `SUCCESS`, `PENDING`, `FAILURE`, `ERROR`, `EXPECTED`.
    #[serde(rename = "State")]
    pub state: String,
    /// Details link.
    #[serde(rename = "TargetURL", default)]
    pub target_url: String,
}

/// `{Login}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Author {
    /// Login.
    #[serde(rename = "Login")]
    pub login: String,
}

/// `{Name, Prefix}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BaseRef {
    /// Branch name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `refs/heads/`.
    #[serde(rename = "Prefix")]
    pub prefix: String,
}

/// `{Name, NameWithOwner, Owner{Login}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Repository {
    /// Repo name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `org/repo`.
    #[serde(rename = "NameWithOwner")]
    pub name_with_owner: String,
    /// Owner.
    #[serde(rename = "Owner")]
    pub owner: Author,
}

/// `{ID, Name}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Label {
    /// Node ID (empty: not queried).
    #[serde(rename = "ID")]
    pub id: String,
    /// Label name.
    #[serde(rename = "Name")]
    pub name: String,
}

/// `{Label}` (Prow's GraphQL fragment wrapper).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LabelNode {
    /// The label.
    #[serde(rename = "Label")]
    pub label: Label,
}

/// `{Nodes}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Labels {
    /// Label nodes.
    #[serde(rename = "Nodes")]
    pub nodes: Vec<LabelNode>,
}

/// `{Title}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Milestone {
    /// Title.
    #[serde(rename = "Title")]
    pub title: String,
}

/// A PR as Prow's dashboard JSON has it (plus `URL`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PullRequest {
    /// Number.
    #[serde(rename = "Number")]
    pub number: u64,
    /// Merged.
    #[serde(rename = "Merged")]
    pub merged: bool,
    /// Title.
    #[serde(rename = "Title")]
    pub title: String,
    /// Web URL.
    #[serde(rename = "URL", default)]
    pub url: String,
    /// Author.
    #[serde(rename = "Author")]
    pub author: Author,
    /// Base branch.
    #[serde(rename = "BaseRef")]
    pub base_ref: BaseRef,
    /// Head SHA.
    #[serde(rename = "HeadRefOID")]
    pub head_ref_oid: String,
    /// Repository.
    #[serde(rename = "Repository")]
    pub repository: Repository,
    /// Labels.
    #[serde(rename = "Labels")]
    pub labels: Labels,
    /// Milestone.
    #[serde(rename = "Milestone")]
    pub milestone: Milestone,
    /// `MERGEABLE`, `CONFLICTING` or `UNKNOWN`.
    #[serde(rename = "Mergeable")]
    pub mergeable: String,
    /// Head contexts, moved to [`PullRequestWithContexts::contexts`] when assembled.
    #[serde(skip)]
    pub head_contexts: Vec<Context>,
}

impl PullRequest {
    fn from_gql(n: GqlPr) -> Self {
        let repo = n.repository.unwrap_or_default();
        let (owner_from_nwo, name_from_nwo) = repo
            .name_with_owner
            .split_once('/')
            .map(|(o, r)| (o.to_string(), r.to_string()))
            .unwrap_or_default();
        let owner = repo
            .owner
            .map(|o| o.login)
            .filter(|l| !l.is_empty())
            .unwrap_or(owner_from_nwo);
        let name = if repo.name.is_empty() {
            name_from_nwo
        } else {
            repo.name
        };
        let head_contexts = n
            .commits
            .map(|c| c.nodes)
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .filter_map(|c| c.commit.and_then(|c| c.status))
            .flat_map(|s| s.contexts)
            .map(|c| Context {
                context: c.context,
                description: c.description.unwrap_or_default(),
                state: c.state.to_uppercase(),
                target_url: c.target_url.unwrap_or_default(),
            })
            .collect();
        PullRequest {
            number: n.number,
            merged: n.merged,
            title: n.title,
            url: n.url,
            author: Author {
                login: n.author.map(|a| a.login).unwrap_or_default(),
            },
            base_ref: BaseRef {
                name: n.base_ref_name,
                prefix: "refs/heads/".to_string(),
            },
            head_ref_oid: n.head_ref_oid,
            repository: Repository {
                name_with_owner: format!("{owner}/{name}"),
                name,
                owner: Author { login: owner },
            },
            labels: Labels {
                nodes: n
                    .labels
                    .map(|l| l.nodes)
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .map(|l| LabelNode {
                        label: Label {
                            id: String::new(),
                            name: l.name,
                        },
                    })
                    .collect(),
            },
            milestone: Milestone {
                title: n.milestone.map(|m| m.title).unwrap_or_default(),
            },
            mergeable: n.mergeable.unwrap_or_default(),
            head_contexts,
        }
    }

    fn label_names(&self) -> BTreeSet<&str> {
        self.labels
            .nodes
            .iter()
            .map(|l| l.label.name.as_str())
            .collect()
    }
}

/// What one Tide query still wants from a PR.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TideQueryDiff {
    /// Index into `tide.queries`.
    #[serde(rename = "Index")]
    pub index: usize,
    /// Whether the PR satisfies the query (nothing below is listed).
    #[serde(rename = "Matches")]
    pub matches: bool,
    /// Required labels the PR lacks (an entry `a,b` means any one of them).
    #[serde(rename = "MissingLabels")]
    pub missing_labels: Vec<String>,
    /// Forbidden labels the PR carries.
    #[serde(rename = "ForbiddenLabels")]
    pub forbidden_labels: Vec<String>,
    /// The author the query requires, when the PR has another.
    #[serde(
        rename = "WrongAuthor",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub wrong_author: String,
    /// The milestone the query requires, when the PR has another.
    #[serde(
        rename = "WrongMilestone",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub wrong_milestone: String,
    /// Head contexts that are not `SUCCESS` (Tide's own `tide` context excluded).
    #[serde(rename = "FailingContexts")]
    pub failing_contexts: Vec<String>,
}

/// Whether a Tide query covers `org/repo` at `branch`.
pub fn query_applies(q: &TideQuery, org: &str, repo: &str, branch: &str) -> bool {
    let full = format!("{org}/{repo}");
    let repo_ok = q.repos.contains(&full)
        || (q.orgs.iter().any(|o| o == org) && !q.excluded_repos.contains(&full));
    let branch_ok = if q.included_branches.is_empty() {
        !q.excluded_branches.iter().any(|b| b == branch)
    } else {
        q.included_branches.iter().any(|b| b == branch)
    };
    repo_ok && branch_ok
}

/// The requirement diff of every Tide query that covers the PR.
pub fn tide_diffs(
    queries: &[TideQuery],
    pr: &PullRequest,
    contexts: &[Context],
) -> Vec<TideQueryDiff> {
    let labels = pr.label_names();
    let failing: Vec<String> = contexts
        .iter()
        .filter(|c| c.context != "tide" && c.state != "SUCCESS")
        .map(|c| c.context.clone())
        .collect();
    queries
        .iter()
        .enumerate()
        .filter(|(_, q)| {
            query_applies(
                q,
                &pr.repository.owner.login,
                &pr.repository.name,
                &pr.base_ref.name,
            )
        })
        .map(|(index, q)| {
            let missing_labels: Vec<String> = q
                .labels
                .iter()
                .filter(|want| !want.split(',').any(|alt| labels.contains(alt.trim())))
                .cloned()
                .collect();
            let forbidden_labels: Vec<String> = q
                .missing_labels
                .iter()
                .filter(|l| labels.contains(l.as_str()))
                .cloned()
                .collect();
            let wrong_author =
                if !q.author.is_empty() && !q.author.eq_ignore_ascii_case(&pr.author.login) {
                    q.author.clone()
                } else {
                    String::new()
                };
            let wrong_milestone = if !q.milestone.is_empty() && q.milestone != pr.milestone.title {
                q.milestone.clone()
            } else {
                String::new()
            };
            let matches = missing_labels.is_empty()
                && forbidden_labels.is_empty()
                && wrong_author.is_empty()
                && wrong_milestone.is_empty()
                && failing.is_empty();
            TideQueryDiff {
                index,
                matches,
                missing_labels,
                forbidden_labels,
                wrong_author,
                wrong_milestone,
                failing_contexts: failing.clone(),
            }
        })
        .collect()
}

/// Assembles the dashboard entries for `prs` against the Tide queries.
pub fn assemble(queries: &[TideQuery], prs: Vec<PullRequest>) -> Vec<PullRequestWithContexts> {
    prs.into_iter()
        .map(|mut pr| {
            let contexts = std::mem::take(&mut pr.head_contexts);
            let tide_queries = tide_diffs(queries, &pr, &contexts);
            PullRequestWithContexts {
                contexts,
                pull_request: pr,
                tide_queries,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn search_query_restriction() {
        let repos = set(&["acme/widgets", "acme/gadgets"]);
        assert_eq!(
            build_search_query("alice", None, &repos, &set(&["other"])),
            "is:pr state:open author:alice repo:\"acme/gadgets\" repo:\"acme/widgets\" org:\"other\""
        );
        assert_eq!(
            build_search_query("alice", Some("is:pr repo:acme/x"), &repos, &BTreeSet::new()),
            "is:pr repo:acme/x"
        );
        assert_eq!(
            build_search_query("alice", Some("is:pr org:acme"), &repos, &BTreeSet::new()),
            "is:pr org:acme"
        );
        assert_eq!(
            build_search_query("alice", Some("  "), &BTreeSet::new(), &BTreeSet::new()),
            "is:pr state:open author:alice"
        );
        assert!(!query_constrains_repos("is:pr author:repo:x"));
    }

    #[test]
    fn parses_simulator_shape_and_diffs_tide() {
        let data = serde_json::json!({"search": {"pageInfo": {"hasNextPage": true, "endCursor": "c1"}, "nodes": [
            {"number": 7, "title": "Fix", "url": "https://github.example.com/acme/widgets/pull/7",
             "author": {"login": "alice"}, "repository": {"nameWithOwner": "acme/widgets"},
             "baseRefName": "main", "headRefOid": "abc", "labels": {"nodes": [{"name": "lgtm"}, {"name": "do-not-merge/hold"}]},
             "mergeable": "MERGEABLE",
             "commits": {"nodes": [{"commit": {"status": {"contexts": [
                {"context": "unit", "state": "success", "description": "ok", "targetUrl": null},
                {"context": "e2e", "state": "PENDING", "description": null, "targetUrl": "https://prow.example.com/x"},
                {"context": "tide", "state": "PENDING"}]}}}]}},
            {},
            null
        ]}});
        let (prs, next) = parse_search_page(&data).unwrap();
        assert_eq!(next.as_deref(), Some("c1"));
        assert_eq!(prs.len(), 1);
        assert_eq!(prs[0].repository.owner.login, "acme");
        assert_eq!(prs[0].repository.name, "widgets");
        let queries: Vec<TideQuery> = serde_json::from_value(serde_json::json!([
            {"repos": ["acme/widgets"], "labels": ["lgtm", "approved,approved-by-bot"], "missingLabels": ["do-not-merge/hold"]},
            {"orgs": ["acme"], "excludedRepos": ["acme/widgets"], "labels": ["x"]},
            {"orgs": ["acme"], "includedBranches": ["main"]}
        ]))
        .unwrap();
        let out = assemble(&queries, prs);
        let pr = &out[0];
        assert_eq!(pr.contexts.len(), 3);
        assert_eq!(pr.contexts[0].state, "SUCCESS");
        assert_eq!(pr.tide_queries.len(), 2, "excluded repo query skipped");
        let q0 = &pr.tide_queries[0];
        assert_eq!(q0.index, 0);
        assert_eq!(
            q0.missing_labels,
            vec!["approved,approved-by-bot".to_string()]
        );
        assert_eq!(q0.forbidden_labels, vec!["do-not-merge/hold".to_string()]);
        assert_eq!(q0.failing_contexts, vec!["e2e".to_string()]);
        assert!(!q0.matches);
        assert_eq!(pr.tide_queries[1].index, 2);
        let js = serde_json::to_value(pr).unwrap();
        assert_eq!(
            js["PullRequest"]["Labels"]["Nodes"][0]["Label"]["Name"],
            "lgtm"
        );
        assert_eq!(js["PullRequest"]["Author"]["Login"], "alice");
        assert_eq!(js["Contexts"][1]["Context"], "e2e");
    }

    #[test]
    fn bad_search_response_is_an_error_not_a_panic() {
        assert!(parse_search_page(&serde_json::json!({"search": {"nodes": 5}})).is_err());
        let (prs, next) = parse_search_page(&serde_json::json!(null)).unwrap();
        assert!(prs.is_empty() && next.is_none());
    }
}
