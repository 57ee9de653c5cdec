//! The GitHub shell: GraphQL search for PRs and blocker issues (paged, one search per org
//! shard), head contexts fallback over REST, merges with retries, and the merge commit
//! templates. Responses are decoded leniently: missing fields take defaults.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use prow_config::prow::TideMergeCommitTemplate;
use prow_github::{GitHub, GitHubError, MergeDetails};
use serde_json::{Value, json};

use crate::model::{BlockerIssue, Context, CtxState, Pr, check_runs_to_contexts};
use crate::policy::MergeMethod;

/// Page size of searches.
pub const PAGE_SIZE: u32 = 100;
/// Safety cap on pages per search (10k results; GitHub itself stops at 1000).
const MAX_PAGES: usize = 100;

/// The PR search query (the shape Prow's `searchQuery` asks for).
pub const PR_SEARCH_QUERY: &str = r#"query($query: String!, $searchCursor: String) {
  rateLimit { cost remaining }
  search(type: ISSUE, first: 100, after: $searchCursor, query: $query) {
    issueCount
    pageInfo { hasNextPage endCursor }
    nodes {
      __typename
      ... on PullRequest {
        number title body url state isDraft createdAt updatedAt
        author { login __typename }
        baseRef { name prefix }
        baseRefName headRefName headRefOid
        mergeable mergeStateStatus canBeRebased
        repository { name nameWithOwner owner { login } }
        reviewDecision
        labels(first: 100) { nodes { name } }
        milestone { title }
        commits(last: 4) { nodes { commit {
          oid
          status { contexts { context state description targetUrl } }
          statusCheckRollup { contexts(last: 100) { nodes { __typename ... on CheckRun { name conclusion status } } } }
        } } }
      }
    }
  }
}"#;

/// The blocker issue search query.
pub const ISSUE_SEARCH_QUERY: &str = r#"query($query: String!, $searchCursor: String) {
  rateLimit { cost remaining }
  search(type: ISSUE, first: 100, after: $searchCursor, query: $query) {
    issueCount
    pageInfo { hasNextPage endCursor }
    nodes {
      __typename
      ... on Issue {
        number title url
        labels(first: 100) { nodes { name } }
        repository { name owner { login } }
      }
    }
  }
}"#;

fn s(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_owned()
}

fn nodes<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return &[],
        }
    }
    cur.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Splits `https://host/org/repo/...` into (org, repo) when the node lacks `repository`.
fn org_repo_from_url(url: &str) -> Option<(String, String)> {
    let rest = url.split("://").nth(1)?;
    let mut it = rest.split('/').skip(1);
    Some((it.next()?.to_owned(), it.next()?.to_owned()))
}

/// Decodes one search node into a PR (`None` for non-PR nodes).
pub fn pr_from_node(n: &Value) -> Option<Pr> {
    if n.get("__typename")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "PullRequest")
    {
        return None;
    }
    let number = n.get("number").and_then(Value::as_u64)?;
    let url = s(n, &["url"]);
    let (mut org, mut repo) = (
        s(n, &["repository", "owner", "login"]),
        s(n, &["repository", "name"]),
    );
    if (org.is_empty() || repo.is_empty())
        && let Some((o, r)) = org_repo_from_url(&url)
    {
        (org, repo) = (o, r);
    }
    let head_sha = s(n, &["headRefOid"]);
    let mut base_ref = s(n, &["baseRef", "name"]);
    if base_ref.is_empty() {
        base_ref = s(n, &["baseRefName"]);
    }
    let mut prefix = s(n, &["baseRef", "prefix"]);
    if prefix.is_empty() {
        prefix = "refs/heads/".into();
    }
    let type_name = {
        let t = s(n, &["author", "__typename"]);
        if t.is_empty() {
            s(n, &["authorMetadata", "__typename"])
        } else {
            t
        }
    };
    let mut contexts = None;
    for c in nodes(n, &["commits", "nodes"]) {
        let commit = c.get("commit").unwrap_or(&Value::Null);
        if s(commit, &["oid"]) != head_sha {
            continue;
        }
        let mut ctx: Vec<Context> = nodes(commit, &["status", "contexts"])
            .iter()
            .map(|x| Context {
                context: s(x, &["context"]),
                state: CtxState::parse(&s(x, &["state"])),
                description: s(x, &["description"]),
                target_url: s(x, &["targetUrl"]),
            })
            .collect();
        let runs: Vec<(String, String, String)> =
            nodes(commit, &["statusCheckRollup", "contexts", "nodes"])
                .iter()
                .filter(|x| {
                    x.get("__typename")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t == "CheckRun")
                })
                .map(|x| (s(x, &["name"]), s(x, &["status"]), s(x, &["conclusion"])))
                .collect();
        ctx.extend(check_runs_to_contexts(&runs));
        contexts = Some(ctx);
    }
    let review = s(n, &["reviewDecision"]);
    let milestone = s(n, &["milestone", "title"]);
    Some(Pr {
        org,
        repo,
        number,
        title: s(n, &["title"]),
        body: s(n, &["body"]),
        url,
        author: s(n, &["author", "login"]),
        author_is_bot: type_name == "Bot",
        base_ref,
        base_ref_prefix: prefix,
        head_ref: s(n, &["headRefName"]),
        head_sha,
        mergeable: s(n, &["mergeable"]),
        merge_state_status: s(n, &["mergeStateStatus"]),
        can_be_rebased: n
            .get("canBeRebased")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        review_decision: (!review.is_empty()).then_some(review),
        labels: nodes(n, &["labels", "nodes"])
            .iter()
            .map(|l| s(l, &["name"]))
            .collect(),
        milestone: (!milestone.is_empty()).then_some(milestone),
        contexts,
        updated_at: n
            .get("updatedAt")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
    })
}

/// Runs a paged search and returns every node.
async fn search_nodes(
    gh: &dyn GitHub,
    org: &str,
    graphql: &str,
    query: &str,
) -> Result<Vec<Value>, GitHubError> {
    let mut out = Vec::new();
    let mut cursor: Value = Value::Null;
    for _ in 0..MAX_PAGES {
        let data = gh
            .graphql(
                org,
                graphql,
                json!({"query": query, "searchCursor": cursor}),
            )
            .await?;
        let search = data.get("search").cloned().unwrap_or(Value::Null);
        out.extend(nodes(&search, &["nodes"]).iter().cloned());
        let more = search
            .get("pageInfo")
            .and_then(|p| p.get("hasNextPage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let next = search
            .get("pageInfo")
            .and_then(|p| p.get("endCursor"))
            .cloned()
            .unwrap_or(Value::Null);
        if !more || next.is_null() || next == cursor {
            break;
        }
        cursor = next;
    }
    Ok(out)
}

/// Searches PRs for one org shard.
#[tracing::instrument(skip(gh), fields(org = %org))]
pub async fn search_prs(gh: &dyn GitHub, org: &str, query: &str) -> Result<Vec<Pr>, GitHubError> {
    Ok(search_nodes(gh, org, PR_SEARCH_QUERY, query)
        .await?
        .iter()
        .filter_map(pr_from_node)
        .collect())
}

/// Open issues labelled `label` in the given org/repo tokens (`org:"o"`, `repo:"o/r"`), one
/// search per org.
pub async fn search_blockers(
    gh: &dyn GitHub,
    label: &str,
    tokens_by_org: &BTreeMap<String, String>,
) -> Result<Vec<BlockerIssue>, GitHubError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (org, tokens) in tokens_by_org {
        let q = format!("is:issue state:open label:\"{label}\" {tokens}");
        for n in search_nodes(gh, org, ISSUE_SEARCH_QUERY, &q).await? {
            if n.get("__typename")
                .and_then(Value::as_str)
                .is_some_and(|t| t != "Issue")
            {
                continue;
            }
            let Some(number) = n.get("number").and_then(Value::as_u64) else {
                continue;
            };
            let url = s(&n, &["url"]);
            let (mut o, mut r) = (
                s(&n, &["repository", "owner", "login"]),
                s(&n, &["repository", "name"]),
            );
            if (o.is_empty() || r.is_empty())
                && let Some((uo, ur)) = org_repo_from_url(&url)
            {
                (o, r) = (uo, ur);
            }
            if seen.insert((o.clone(), r.clone(), number)) {
                out.push(BlockerIssue {
                    org: o,
                    repo: r,
                    number,
                    title: s(&n, &["title"]),
                    url,
                });
            }
        }
    }
    Ok(out)
}

/// Head contexts over REST when the search did not include the head commit.
pub async fn rest_contexts(gh: &dyn GitHub, pr: &Pr) -> Result<Vec<Context>, GitHubError> {
    let combined = gh
        .get_combined_status(&pr.org, &pr.repo, &pr.head_sha)
        .await?;
    Ok(combined
        .statuses
        .iter()
        .map(|st| Context {
            context: st.context.clone(),
            state: CtxState::parse(&st.state),
            description: st.description.clone().unwrap_or_default(),
            target_url: st.target_url.clone().unwrap_or_default(),
        })
        .collect())
}

fn go_str(v: &str) -> gtmpl::Value {
    gtmpl::Value::String(v.to_owned())
}

/// The PR as the template sees it (Prow's `CodeReviewCommon` field names).
fn template_value(pr: &Pr) -> gtmpl::Value {
    let mut m: HashMap<String, gtmpl::Value> = HashMap::new();
    m.insert("Number".into(), gtmpl::Value::from(pr.number));
    m.insert("Title".into(), go_str(&pr.title));
    m.insert("Body".into(), go_str(&pr.body));
    m.insert("Org".into(), go_str(&pr.org));
    m.insert("Repo".into(), go_str(&pr.repo));
    m.insert("NameWithOwner".into(), go_str(&pr.name_with_owner()));
    m.insert("BaseRefName".into(), go_str(&pr.base_ref));
    m.insert("HeadRefName".into(), go_str(&pr.head_ref));
    m.insert("HeadRefOID".into(), go_str(&pr.head_sha));
    m.insert("AuthorLogin".into(), go_str(&pr.author));
    m.insert("Mergeable".into(), go_str(&pr.mergeable));
    let mut author = HashMap::new();
    author.insert("Login".to_owned(), go_str(&pr.author));
    let mut ghm: HashMap<String, gtmpl::Value> = HashMap::new();
    ghm.insert("Number".into(), gtmpl::Value::from(pr.number));
    ghm.insert("Title".into(), go_str(&pr.title));
    ghm.insert("Body".into(), go_str(&pr.body));
    ghm.insert("Author".into(), gtmpl::Value::Object(author));
    ghm.insert("HeadRefName".into(), go_str(&pr.head_ref));
    ghm.insert("HeadRefOID".into(), go_str(&pr.head_sha));
    m.insert("GitHub".into(), gtmpl::Value::Object(ghm));
    gtmpl::Value::Object(m)
}

fn render(tmpl: &str, pr: &Pr) -> Result<Option<String>, String> {
    if tmpl.is_empty() {
        return Ok(None);
    }
    // gtmpl hangs or panics on some malformed text; refuse that first.
    prow_config::gotemplate::check_template_text(tmpl)?;
    let mut t = gtmpl::Template::default();
    t.parse(tmpl).map_err(|e| e.to_string())?;
    t.render(&gtmpl::Context::from(template_value(pr)))
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Prow's `prepareMergeDetails`: head SHA, method and rendered title/body (a template that
/// fails to render is left out, as Prow does).
pub fn merge_details(
    pr: &Pr,
    method: MergeMethod,
    tmpl: Option<&TideMergeCommitTemplate>,
) -> MergeDetails {
    let mut d = MergeDetails {
        sha: Some(pr.head_sha.clone()),
        merge_method: Some(method.as_str().to_owned()),
        ..Default::default()
    };
    if let Some(t) = tmpl {
        match render(&t.title, pr) {
            Ok(v) => d.commit_title = v,
            Err(e) => tracing::warn!(pr = pr.number, error = %e, "merge commit title template"),
        }
        match render(&t.body, pr) {
            Ok(v) => d.commit_message = v,
            Err(e) => tracing::warn!(pr = pr.number, error = %e, "merge commit body template"),
        }
    }
    d
}

/// How one merge attempt ended, for the batch loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// Merged.
    Merged,
    /// Failed; keep merging the rest of a batch.
    Failed(String),
    /// Failed in a way that will fail every other merge too (permissions, repo settings).
    Abort(String),
}

fn is_base_modified(e: &GitHubError) -> bool {
    let m = e.to_string().to_lowercase();
    m.contains("base branch was modified")
}

/// Prow's `tryMerge`: up to 3 attempts, backing off `backoff`, ×2, on "base branch was
/// modified"; stops a batch on permission or merge-method errors. `sleep` is injected so tests
/// do not wait.
pub async fn try_merge<F, Fut>(
    gh: &dyn GitHub,
    pr: &Pr,
    details: &MergeDetails,
    backoff: Duration,
    sleep: F,
) -> MergeOutcome
where
    F: Fn(Duration) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut wait = backoff;
    let mut last = String::new();
    for attempt in 0..3 {
        match gh
            .merge_pull_request(&pr.org, &pr.repo, pr.number, details)
            .await
        {
            Ok(()) => return MergeOutcome::Merged,
            Err(GitHubError::ModifiedHead(m)) => {
                return MergeOutcome::Failed(format!("PR was modified: {m}"));
            }
            Err(e) if is_base_modified(&e) => {
                last = format!("base branch was modified: {e}");
                if attempt < 2 {
                    sleep(wait).await;
                    wait *= 2;
                }
            }
            Err(e @ (GitHubError::Forbidden(_) | GitHubError::Unauthorized(_))) => {
                return MergeOutcome::Abort(format!(
                    "branch needs to be configured to allow this robot to push: {e}"
                ));
            }
            Err(GitHubError::UnmergeablePr(m))
                if m.to_lowercase().contains("merge commits are not allowed") =>
            {
                return MergeOutcome::Abort(format!(
                    "Tide needs to be configured to use the 'rebase' merge method for this repo or the repo needs to allow merge commits: {m}"
                ));
            }
            Err(GitHubError::UnmergeablePr(m)) => {
                return MergeOutcome::Failed(format!(
                    "PR is unmergable. Do the Tide merge requirements match the GitHub settings for the repo? {m}"
                ));
            }
            Err(e) => return MergeOutcome::Failed(e.to_string()),
        }
    }
    MergeOutcome::Failed(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_contract_node() {
        let n = json!({"__typename":"PullRequest","number":3,"title":"T","body":"B","url":"https://github.example.com/o/r/pull/3",
            "state":"OPEN","isDraft":false,"author":{"login":"bot","__typename":"Bot"},
            "baseRef":{"name":"main","prefix":"refs/heads/"},"baseRefName":"main","headRefName":"f","headRefOid":"abc",
            "mergeable":"MERGEABLE","mergeStateStatus":"CLEAN","canBeRebased":true,
            "repository":{"name":"r","nameWithOwner":"o/r","owner":{"login":"o"}},"reviewDecision":null,
            "labels":{"nodes":[{"name":"lgtm"}]},"milestone":null,
            "commits":{"nodes":[{"commit":{"oid":"old","status":null,"statusCheckRollup":null}},
                {"commit":{"oid":"abc","status":{"contexts":[{"context":"ci","state":"SUCCESS","description":"ok","targetUrl":"u"}]},
                 "statusCheckRollup":{"contexts":{"nodes":[{"__typename":"CheckRun","name":"gha","conclusion":null,"status":"IN_PROGRESS"},
                 {"__typename":"StatusContext"}]}}}}]}});
        let pr = pr_from_node(&n).unwrap_or_else(|| panic!("not decoded"));
        assert_eq!(
            (pr.org.as_str(), pr.repo.as_str(), pr.number),
            ("o", "r", 3)
        );
        assert!(pr.author_is_bot);
        assert_eq!(pr.review_decision, None);
        assert_eq!(pr.labels, vec!["lgtm"]);
        let ctx = pr.contexts.unwrap_or_default();
        assert_eq!(ctx.len(), 2);
        assert_eq!(ctx[1].state, CtxState::Pending);
        // Missing everything but a number still decodes; an issue does not.
        let min = pr_from_node(&json!({"number": 1, "url": "https://h/x/y/pull/1"}))
            .unwrap_or_else(|| panic!("min"));
        assert_eq!((min.org.as_str(), min.repo.as_str()), ("x", "y"));
        assert!(min.contexts.is_none());
        assert!(pr_from_node(&json!({"__typename":"Issue","number":1})).is_none());
    }

    #[test]
    fn merge_details_render_templates() {
        let pr = Pr {
            number: 5,
            title: "Fix it".into(),
            head_sha: "h".into(),
            org: "o".into(),
            repo: "r".into(),
            ..Default::default()
        };
        let t = TideMergeCommitTemplate {
            title: "{{ .Title }} (#{{ .Number }})".into(),
            body: "{{ .Org }}/{{ .Repo }}".into(),
        };
        let d = merge_details(&pr, MergeMethod::Squash, Some(&t));
        assert_eq!(d.commit_title.as_deref(), Some("Fix it (#5)"));
        assert_eq!(d.commit_message.as_deref(), Some("o/r"));
        assert_eq!(d.merge_method.as_deref(), Some("squash"));
        assert_eq!(d.sha.as_deref(), Some("h"));
        let d = merge_details(&pr, MergeMethod::Merge, None);
        assert_eq!(d.commit_title, None);
    }
}
