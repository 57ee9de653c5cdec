//! What Tide and Deck read: GraphQL `search` (filters, paging, node fields), branch protection
//! (REST, trait, merge enforcement), `reviewDecision` and `mergeStateStatus` — in process and
//! through the real `prow_github::Client` over loopback HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use prow_github::client::TokenSource;
use prow_github::{
    Auth, BranchProtection, Client, ClientConfig, DraftReview, GitHub, GitHubError, MergeDetails,
    RequiredStatusChecks, Status,
};
use prow_github_fake::{FakeGitHub, serve};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const SEED: &str = r#"
users:
  - {login: prow-bot, token: t-bot, type: Bot}
  - {login: alice, token: t-alice}
  - {login: carol, token: t-carol}
  - {login: "renovate[bot]", type: Bot}
orgs:
  - {login: acme, members: [alice, bob]}
repos:
  - name: acme/widgets
    labels: [lgtm, approved, do-not-merge/hold]
    files: {README.md: "hi\n", a.txt: "a\n"}
    branches: {release-1.0: {from: main}}
    branch_protection:
      main: {required_status_checks: {contexts: [ci/test], strict: false}}
  - {name: acme/gadgets, files: {README.md: "g\n"}}
  - {name: other/thing, files: {README.md: "o\n"}}
  - {name: acme/secret, private: true, files: {README.md: "s\n"}}
pull_requests:
  - {repo: acme/widgets, number: 1, author: bob, title: One, head: one, labels: [lgtm, approved], files: {one.txt: "1\n"}}
  - {repo: acme/widgets, number: 2, author: bob, title: Two held, head: two, labels: [lgtm, approved, do-not-merge/hold], files: {two.txt: "2\n"}}
  - {repo: acme/widgets, number: 3, author: bob, title: Three release, head: three, base: release-1.0, labels: [lgtm], files: {three.txt: "3\n"}}
  - {repo: acme/widgets, number: 4, author: alice, title: Conflict, head: conflict, files: {a.txt: "conflict\n"}}
  - {repo: acme/gadgets, number: 1, author: "renovate[bot]", title: Bump, head: bump, labels: [lgtm], milestone: v1.0, files: {dep.txt: "2\n"}}
  - {repo: acme/gadgets, number: 2, author: bob, title: Draft, head: draft, draft: true, labels: [lgtm], files: {d.txt: "d\n"}}
  - {repo: other/thing, number: 1, author: bob, title: Other, head: o, labels: [lgtm], files: {o.txt: "o\n"}}
  - {repo: acme/secret, number: 1, author: bob, title: Secret, head: s, labels: [lgtm], files: {s.txt: "s\n"}}
issues:
  - {repo: acme/widgets, number: 5, author: alice, title: An issue, labels: [lgtm]}
"#;

/// Tide's query document (as Prow's Go client sends it).
const TIDE_QUERY: &str = r#"query($query: String!, $searchCursor: String) {
  rateLimit { cost remaining }
  search(type: ISSUE, first: $first, after: $searchCursor, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { ... on PullRequest { number } }
  }
}"#;

const TIDE_SEARCH: &str = r#"is:pr state:open archived:false label:"lgtm" -label:"do-not-merge/hold" org:"acme" sort:updated-asc"#;

fn world() -> FakeGitHub {
    FakeGitHub::from_seed_yaml(SEED).expect("seed loads")
}

async fn search(gh: &dyn GitHub, q: &str, first: u64, after: Option<&str>) -> Value {
    gh.graphql(
        "acme",
        TIDE_QUERY,
        json!({"query": q, "first": first, "searchCursor": after}),
    )
    .await
    .unwrap_or_else(|e| panic!("search {q}: {e}"))
}

/// Every `owner/repo#n` a query returns, walking all pages of `first`.
async fn all_hits(gh: &dyn GitHub, q: &str, first: u64) -> (Vec<String>, Vec<u64>) {
    let mut out = Vec::new();
    let mut counts = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let data = search(gh, q, first, cursor.as_deref()).await;
        let s = &data["search"];
        counts.push(s["issueCount"].as_u64().expect("issueCount"));
        for n in s["nodes"].as_array().expect("nodes") {
            out.push(format!(
                "{}#{}",
                n["repository"]["nameWithOwner"].as_str().expect("repo"),
                n["number"]
            ));
        }
        if s["pageInfo"]["hasNextPage"] != json!(true) {
            return (out, counts);
        }
        cursor = Some(
            s["pageInfo"]["endCursor"]
                .as_str()
                .expect("endCursor")
                .to_owned(),
        );
    }
    panic!("paging did not end");
}

async fn node(gh: &dyn GitHub, repo: &str, number: u64) -> Value {
    let q = format!(r#"is:pr repo:"{repo}""#);
    let data = search(gh, &q, 100, None).await;
    data["search"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["number"] == json!(number))
        .cloned()
        .unwrap_or_else(|| panic!("{repo}#{number} not found"))
}

fn status(state: &str, context: &str) -> Status {
    Status {
        state: state.into(),
        target_url: Some("https://prow.example.com/view/1".into()),
        description: Some(format!("{context} is {state}")),
        context: context.into(),
    }
}

fn review(event: &str) -> DraftReview {
    DraftReview {
        body: "review".into(),
        event: event.into(),
        commit_id: None,
    }
}

#[tokio::test]
async fn tide_search_filters_sorts_and_pages() {
    let fake = world();
    let bot = fake.client("prow-bot");
    // Touch widgets#1 (seeded items date from 2024) so updated-asc puts it last.
    bot.create_comment("acme", "widgets", 1, "touch")
        .await
        .unwrap();

    let (hits, counts) = all_hits(&bot, TIDE_SEARCH, 2).await;
    // Seeded items share a timestamp; ties go by repository then number.
    assert_eq!(
        hits,
        [
            "acme/gadgets#1",
            "acme/gadgets#2",
            "acme/secret#1",
            "acme/widgets#3",
            "acme/widgets#1"
        ]
    );
    assert_eq!(counts, [5, 5, 5]);

    // Someone without access to acme/secret does not see it.
    let carol = fake.client("carol");
    let (hits, _) = all_hits(&carol, TIDE_SEARCH, 100).await;
    assert!(
        !hits.iter().any(|h| h.starts_with("acme/secret")),
        "{hits:?}"
    );

    // Tide's repo sharding: union of scopes, exclusions, branch filters.
    let (hits, _) = all_hits(
        &bot,
        r#"is:pr state:open repo:"acme/widgets" repo:"other/thing" -base:"release-1.0" label:"lgtm""#,
        100,
    )
    .await;
    assert_eq!(
        hits,
        ["other/thing#1", "acme/widgets#2", "acme/widgets#1"],
        "newest first without sort:, ties by repository and number descending"
    );
    let (hits, _) = all_hits(
        &bot,
        r#"org:"acme" -repo:"acme/widgets" -repo:"acme/secret" is:pr -is:draft"#,
        100,
    )
    .await;
    assert_eq!(hits, ["acme/gadgets#1"]);
    let (hits, _) = all_hits(&bot, r#"is:pr base:"release-1.0""#, 100).await;
    assert_eq!(hits, ["acme/widgets#3"]);
    let (hits, _) = all_hits(&bot, r#"is:pr author:app/renovate milestone:"v1.0""#, 100).await;
    assert_eq!(hits, ["acme/gadgets#1"]);
    let (hits, _) = all_hits(
        &bot,
        r#"is:issue label:"lgtm","nope" repo:acme/widgets"#,
        100,
    )
    .await;
    assert_eq!(hits, ["acme/widgets#5"]);

    // updated: with a timestamp only finds what changed since.
    let since = fake
        .pull_request("acme", "widgets", 1)
        .and_then(|p| p.updated_at)
        .expect("updated_at")
        .to_rfc3339();
    let (hits, _) = all_hits(&bot, &format!("is:pr updated:>={since}"), 100).await;
    assert_eq!(hits, ["acme/widgets#1"]);
}

#[tokio::test]
async fn pull_request_nodes_carry_tide_fields() {
    let fake = world();
    let bot = fake.client("prow-bot");
    let n = node(&bot, "acme/widgets", 1).await;
    let head = fake.pull_request("acme", "widgets", 1).unwrap().head.sha;
    assert_eq!(n["__typename"], "PullRequest");
    assert_eq!(n["state"], "OPEN");
    assert_eq!(n["isDraft"], false);
    assert_eq!(n["author"], json!({"login": "bob", "__typename": "User"}));
    assert_eq!(
        n["baseRef"],
        json!({"name": "main", "prefix": "refs/heads/"})
    );
    assert_eq!(n["baseRefName"], "main");
    assert_eq!(n["headRefName"], "one");
    assert_eq!(n["headRefOid"], json!(head));
    assert_eq!(n["mergeable"], "MERGEABLE");
    // main requires ci/test, which has not reported.
    assert_eq!(n["mergeStateStatus"], "BLOCKED");
    assert_eq!(n["reviewDecision"], Value::Null);
    assert_eq!(n["repository"]["nameWithOwner"], "acme/widgets");
    assert_eq!(n["repository"]["owner"]["login"], "acme");
    assert_eq!(n["milestone"], Value::Null);
    let labels: Vec<&str> = n["labels"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["lgtm", "approved"]);
    assert_eq!(n["commits"]["nodes"][0]["commit"]["oid"], json!(head));
    assert_eq!(n["commits"]["nodes"][0]["commit"]["status"], Value::Null);
    assert_eq!(n["url"], "https://github.example.com/acme/widgets/pull/1");

    // Statuses: the latest per context, upper-case, like the combined status.
    for (state, ctx) in [
        ("pending", "ci/test"),
        ("failure", "ci/lint"),
        ("success", "ci/test"),
    ] {
        bot.create_status("acme", "widgets", &head, &status(state, ctx))
            .await
            .unwrap();
    }
    let n = node(&bot, "acme/widgets", 1).await;
    let contexts = &n["commits"]["nodes"][0]["commit"]["status"]["contexts"];
    assert_eq!(
        contexts,
        &json!([
            {"context": "ci/lint", "state": "FAILURE", "description": "ci/lint is failure", "targetUrl": "https://prow.example.com/view/1"},
            {"context": "ci/test", "state": "SUCCESS", "description": "ci/test is success", "targetUrl": "https://prow.example.com/view/1"}
        ])
    );
    // Only ci/test is required.
    assert_eq!(n["mergeStateStatus"], "CLEAN");

    let bump = node(&bot, "acme/gadgets", 1).await;
    assert_eq!(
        bump["author"],
        json!({"login": "renovate", "__typename": "Bot"})
    );
    assert_eq!(bump["authorMetadata"], json!({"__typename": "Bot"}));
    assert_eq!(bump["milestone"], json!({"title": "v1.0"}));
    assert_eq!(node(&bot, "acme/gadgets", 2).await["isDraft"], true);

    // Conflicts.
    fake.push_files(
        "alice",
        "acme",
        "widgets",
        "main",
        BTreeMap::from([("a.txt".to_owned(), Some("main moved\n".to_owned()))]),
        "Change a",
    )
    .unwrap();
    let c = node(&bot, "acme/widgets", 4).await;
    assert_eq!(c["mergeable"], "CONFLICTING");
    assert_eq!(c["mergeStateStatus"], "DIRTY");
    assert_eq!(c["canBeRebased"], false);
}

#[tokio::test]
async fn review_decision_follows_reviews_and_protection() {
    let fake = world();
    let bot = fake.client("prow-bot");
    let alice = fake.client("alice");
    let decision = |n: Value| n["reviewDecision"].clone();

    alice
        .create_review("acme", "widgets", 1, &review("APPROVE"))
        .await
        .unwrap();
    assert_eq!(decision(node(&bot, "acme/widgets", 1).await), "APPROVED");
    let (hits, _) = all_hits(&bot, "is:pr review:approved", 100).await;
    assert_eq!(hits, ["acme/widgets#1"]);
    // A later comment does not revoke the approval.
    alice
        .create_review("acme", "widgets", 1, &review("COMMENT"))
        .await
        .unwrap();
    assert_eq!(decision(node(&bot, "acme/widgets", 1).await), "APPROVED");

    // Two approvals required on main: one is not enough; unreviewed PRs need review.
    fake.set_required_approving_reviews("acme", "widgets", "main", Some(2))
        .unwrap();
    assert_eq!(
        decision(node(&bot, "acme/widgets", 1).await),
        "REVIEW_REQUIRED"
    );
    assert_eq!(
        decision(node(&bot, "acme/widgets", 2).await),
        "REVIEW_REQUIRED"
    );
    // release-1.0 is not protected.
    assert_eq!(decision(node(&bot, "acme/widgets", 3).await), Value::Null);
    let (hits, _) = all_hits(&bot, "is:pr review:required repo:acme/widgets", 100).await;
    assert_eq!(hits.len(), 3, "{hits:?}");

    bot.create_review("acme", "widgets", 1, &review("REQUEST_CHANGES"))
        .await
        .unwrap();
    assert_eq!(
        decision(node(&bot, "acme/widgets", 1).await),
        "CHANGES_REQUESTED"
    );
    bot.create_review("acme", "widgets", 1, &review("APPROVE"))
        .await
        .unwrap();
    assert_eq!(decision(node(&bot, "acme/widgets", 1).await), "APPROVED");
}

#[tokio::test]
async fn protected_branches_refuse_merges_like_github() {
    let fake = world();
    let bot = fake.client("prow-bot");
    let head = fake.pull_request("acme", "widgets", 1).unwrap().head.sha;
    let details = MergeDetails::default();
    let merge = || bot.merge_pull_request("acme", "widgets", 1, &details);

    match merge().await {
        Err(GitHubError::UnmergeablePr(m)) => {
            assert_eq!(m, "Required status check \"ci/test\" is expected.")
        }
        other => panic!("unexpected {other:?}"),
    }
    bot.create_status("acme", "widgets", &head, &status("failure", "ci/test"))
        .await
        .unwrap();
    match merge().await {
        Err(GitHubError::UnmergeablePr(m)) => assert!(m.contains("is failing"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    bot.create_status("acme", "widgets", &head, &status("success", "ci/test"))
        .await
        .unwrap();
    fake.set_required_approving_reviews("acme", "widgets", "main", Some(1))
        .unwrap();
    match merge().await {
        Err(GitHubError::UnmergeablePr(m)) => assert_eq!(
            m,
            "At least 1 approving review is required by reviewers with write access."
        ),
        other => panic!("unexpected {other:?}"),
    }
    fake.client("alice")
        .create_review("acme", "widgets", 1, &review("APPROVE"))
        .await
        .unwrap();
    merge().await.expect("merges once checks and reviews pass");
    let (merged, sha) = fake.merge_state("acme", "widgets", 1).unwrap();
    assert!(merged);
    assert_eq!(sha, fake.branch_sha("acme", "widgets", "main"));

    // Unprotected: no checks needed. Protection can be removed at runtime.
    fake.set_branch_protection("acme", "widgets", "main", None)
        .unwrap();
    bot.merge_pull_request("acme", "widgets", 2, &MergeDetails::default())
        .await
        .expect("unprotected merge");

    // Strict checks: a head behind the base is BEHIND and cannot merge.
    fake.set_branch_protection(
        "acme",
        "widgets",
        "release-1.0",
        Some(BranchProtection {
            required_status_checks: Some(RequiredStatusChecks {
                strict: true,
                contexts: vec!["ci/test".into()],
            }),
        }),
    )
    .unwrap();
    let head3 = fake.pull_request("acme", "widgets", 3).unwrap().head.sha;
    bot.create_status("acme", "widgets", &head3, &status("success", "ci/test"))
        .await
        .unwrap();
    assert_eq!(
        node(&bot, "acme/widgets", 3).await["mergeStateStatus"],
        "CLEAN"
    );
    fake.push_files(
        "alice",
        "acme",
        "widgets",
        "release-1.0",
        BTreeMap::from([("later.txt".to_owned(), Some("x\n".to_owned()))]),
        "Move release",
    )
    .unwrap();
    assert_eq!(
        node(&bot, "acme/widgets", 3).await["mergeStateStatus"],
        "BEHIND"
    );
    assert!(matches!(
        bot.merge_pull_request("acme", "widgets", 3, &MergeDetails::default())
            .await,
        Err(GitHubError::UnmergeablePr(_))
    ));
}

#[tokio::test]
async fn search_errors_are_graphql_errors() {
    let fake = world();
    let bot = fake.client("prow-bot");
    let err = |r: prow_github::Result<Value>| match r {
        Err(GitHubError::GraphQl(m)) => m.join("; "),
        other => panic!("expected a GraphQL error, got {other:?}"),
    };
    let m = err(bot
        .graphql(
            "acme",
            TIDE_QUERY,
            json!({"query": "is:pr involves:alice", "first": 10}),
        )
        .await);
    assert!(m.contains("involves"), "{m}");
    let m = err(bot
        .graphql("acme", TIDE_QUERY, json!({"query": "is:pr", "first": null}))
        .await);
    assert!(m.contains("first"), "{m}");
    let m = err(bot
        .graphql("acme", TIDE_QUERY, json!({"query": "is:pr", "first": 101}))
        .await);
    assert!(m.contains("limit of 100"), "{m}");
    let m = err(bot
        .graphql(
            "acme",
            TIDE_QUERY,
            json!({"query": "is:pr", "first": 1, "searchCursor": "bogus"}),
        )
        .await);
    assert!(m.contains("cursor"), "{m}");
}

/// A served fake; stops when dropped.
struct Server {
    base: String,
    _stop: oneshot::Sender<()>,
}

async fn start(fake: &FakeGitHub) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let fake = fake.clone();
    tokio::spawn(async move {
        let _ = serve(listener, fake, async {
            let _ = stopped.await;
        })
        .await;
    });
    Server { base, _stop: stop }
}

fn real_client(base: &str, token: &str) -> Client {
    let mut c = ClientConfig::new(Auth::Token(TokenSource::Literal(token.into())));
    c.endpoints = vec![base.to_owned()];
    c.max_retries = 0;
    c.max_404_retries = 0;
    c.initial_backoff = Duration::from_millis(5);
    c.request_timeout = Duration::from_secs(20);
    Client::new(c, None).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_client_sees_the_same_search_and_protection() {
    let fake = world();
    let server = start(&fake).await;
    let real = real_client(&server.base, "t-bot");
    let inproc = fake.client("prow-bot");

    let over_http = search(&real, TIDE_SEARCH, 100, None).await;
    let in_process = search(&inproc, TIDE_SEARCH, 100, None).await;
    assert_eq!(over_http["search"], in_process["search"]);
    assert_eq!(over_http["rateLimit"]["cost"], 1);
    assert_eq!(over_http["rateLimit"]["remaining"], 4999);

    // viewer + search in one document, and rateLimit alone.
    let both = real
        .graphql(
            "acme",
            "query($q: String!) { viewer { login } search(type: ISSUE, first: 5, query: $q) { issueCount } }",
            json!({"q": "is:pr author:bob repo:acme/widgets"}),
        )
        .await
        .unwrap();
    assert_eq!(both["viewer"]["login"], "prow-bot");
    assert_eq!(both["search"]["issueCount"], 3);
    let inline = real
        .graphql(
            "acme",
            r#"{ search(type: ISSUE, first: 1, query: "is:pr repo:\"other/thing\"") { issueCount } }"#,
            Value::Null,
        )
        .await
        .unwrap();
    assert_eq!(inline["search"]["issueCount"], 1);
    let rl = real
        .graphql("acme", "{ rateLimit { cost remaining } }", Value::Null)
        .await
        .unwrap();
    assert_eq!(rl["rateLimit"]["remaining"], 4999);

    // Branch protection through the real client's REST route and the in-process trait.
    let want = Some(BranchProtection {
        required_status_checks: Some(RequiredStatusChecks {
            strict: false,
            contexts: vec!["ci/test".into()],
        }),
    });
    assert_eq!(
        real.get_branch_protection("acme", "widgets", "main")
            .await
            .unwrap(),
        want
    );
    assert_eq!(
        inproc
            .get_branch_protection("acme", "widgets", "main")
            .await
            .unwrap(),
        want
    );
    assert_eq!(fake.branch_protection("acme", "widgets", "main"), want);
    assert_eq!(
        real.get_branch_protection("acme", "widgets", "release-1.0")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        inproc
            .get_branch_protection("acme", "widgets", "release-1.0")
            .await
            .unwrap(),
        None
    );
    let http = reqwest::Client::new();
    let resp = http
        .get(format!(
            "{}/repos/acme/widgets/branches/release-1.0/protection",
            server.base
        ))
        .header("Authorization", "token t-bot")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Branch not protected");
    let branch: Value = http
        .get(format!("{}/repos/acme/widgets/branches/main", server.base))
        .header("Authorization", "token t-bot")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(branch["protected"], true);
    assert_eq!(
        branch["protection"]["required_status_checks"]["contexts"],
        json!(["ci/test"])
    );

    // A merge refused by protection is a 405 the real client maps to UnmergeablePr.
    match real
        .merge_pull_request("acme", "widgets", 1, &MergeDetails::default())
        .await
    {
        Err(GitHubError::UnmergeablePr(m)) => assert!(m.contains("ci/test"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
}
