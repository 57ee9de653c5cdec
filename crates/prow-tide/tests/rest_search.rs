//! A `GitHub` wrapper around the simulator that answers Tide's PR search from REST state
//! (open PRs, labels, combined status) and can inject merge failures. It cross-checks the
//! simulator's GraphQL search and drives Tide's merge retry/abort paths.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use prow_api::ProwJobState;
use prow_github::*;
use prow_github_fake::{FakeClient, FakeGitHub, NewPullRequest};
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::{JobStore, ListParams};
use prow_tide::{Tide, TideDeps, TideOptions};
use serde_json::{Value, json};

/// Which merge failure to inject.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Inject {
    None,
    /// "Base branch was modified" this many times, then pass through.
    BaseModified(usize),
    /// 403 on every merge.
    Forbidden,
}

struct RestSearch {
    inner: FakeClient,
    inject: Inject,
    merge_calls: AtomicUsize,
}

impl RestSearch {
    /// Answers `repo:"o/r"` + `label:"x"` + `-label:"y"` searches from REST.
    async fn search(&self, query: &str) -> Result<Value> {
        let toks: Vec<&str> = query.split_whitespace().collect();
        let unq = |t: &str, p: &str| t.strip_prefix(p).map(|v| v.trim_matches('"').to_owned());
        let mut nodes = Vec::new();
        for repo in toks.iter().filter_map(|t| unq(t, "repo:")) {
            let Some((o, r)) = repo.split_once('/') else {
                continue;
            };
            for pr in self.inner.list_open_pull_requests(o, r).await? {
                let labels: Vec<String> = pr.labels.iter().map(|l| l.name.clone()).collect();
                let ok = toks.iter().all(|t| {
                    if let Some(l) = unq(t, "-label:") {
                        return !labels.contains(&l);
                    }
                    if let Some(l) = t.strip_prefix("label:") {
                        return l
                            .split(',')
                            .any(|alt| labels.contains(&alt.trim_matches('"').to_owned()));
                    }
                    true
                });
                if !ok {
                    continue;
                }
                let combined = self.inner.get_combined_status(o, r, &pr.head.sha).await?;
                let contexts: Vec<Value> = combined
                    .statuses
                    .iter()
                    .map(|s| json!({"context": s.context, "state": s.state.to_uppercase(), "description": s.description, "targetUrl": s.target_url}))
                    .collect();
                nodes.push(json!({
                    "__typename": "PullRequest", "number": pr.number, "title": pr.title, "body": pr.body,
                    "url": pr.html_url, "author": {"login": pr.user.login, "__typename": "User"},
                    "baseRef": {"name": pr.base.git_ref, "prefix": "refs/heads/"},
                    "headRefName": pr.head.git_ref, "headRefOid": pr.head.sha,
                    "mergeable": if pr.mergeable == Some(false) { "CONFLICTING" } else { "MERGEABLE" },
                    "mergeStateStatus": "CLEAN", "canBeRebased": true,
                    "repository": {"name": r, "nameWithOwner": repo, "owner": {"login": o}},
                    "labels": {"nodes": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()},
                    "commits": {"nodes": [{"commit": {"oid": pr.head.sha, "status": {"contexts": contexts}}}]},
                }));
            }
        }
        Ok(json!({"rateLimit": {"cost": 1, "remaining": 4999},
            "search": {"issueCount": nodes.len(), "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": nodes}}))
    }
}

#[async_trait]
impl Forward for RestSearch {
    fn target(&self) -> &dyn GitHub {
        &self.inner
    }
    async fn merge_pull_request(&self, o: &str, r: &str, n: u64, d: &MergeDetails) -> Result<()> {
        let call = self.merge_calls.fetch_add(1, Ordering::SeqCst);
        match self.inject {
            Inject::BaseModified(k) if call < k => Err(GitHubError::UnmergeablePr(
                "Base branch was modified. Review and try the merge again.".into(),
            )),
            Inject::Forbidden => Err(GitHubError::Forbidden(
                "Resource not accessible by integration".into(),
            )),
            _ => self.inner.merge_pull_request(o, r, n, d).await,
        }
    }
    async fn graphql(&self, org: &str, query: &str, variables: Value) -> Result<Value> {
        if query.contains("... on PullRequest") {
            return self
                .search(variables["query"].as_str().unwrap_or_default())
                .await;
        }
        self.inner.graphql(org, query, variables).await
    }
}

const SEED: &str = r#"
users:
  - {login: prow-bot, type: Bot}
  - {login: alice}
orgs:
  - {login: acme, members: [alice]}
repos:
  - name: acme/widgets
    labels: [lgtm, approved, do-not-merge/hold]
    files: {README.md: "hi\n"}
"#;

const CONFIG: &str = r#"
tide:
  queries:
  - repos: [acme/widgets]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold]
presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec:
      containers:
      - image: alpine
"#;

struct World {
    fake: FakeGitHub,
    gh: Arc<RestSearch>,
    store: Arc<MemoryStore>,
    tide: Tide,
    _dir: tempfile::TempDir,
}

fn world(inject: Inject) -> World {
    let fake = FakeGitHub::from_seed_yaml(SEED).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, CONFIG).unwrap_or_else(|e| panic!("{e}"));
    let cfg = Arc::new(
        prow_config::load(&prow_config::LoadOptions {
            config_path: path,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let gh = Arc::new(RestSearch {
        inner: fake.client("prow-bot"),
        inject,
        merge_calls: AtomicUsize::new(0),
    });
    let store = Arc::new(MemoryStore::default());
    let tide = Tide::new(
        TideDeps {
            github: gh.clone(),
            store: store.clone(),
            config: Arc::new(move || cfg.clone()),
            registry: prometheus::Registry::new(),
        },
        TideOptions {
            sleep: Arc::new(|_| Box::pin(async {})),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    World {
        fake,
        gh,
        store,
        tide,
        _dir: dir,
    }
}

impl World {
    async fn ready_pr(&self, head: &str, labels: &[&str]) -> (u64, String) {
        let mut files = BTreeMap::new();
        files.insert(format!("{head}.txt"), Some("x\n".to_owned()));
        let n = self
            .fake
            .open_pull_request(
                "alice",
                "acme",
                "widgets",
                NewPullRequest {
                    title: head.into(),
                    body: String::new(),
                    base: "main".into(),
                    head: head.into(),
                    draft: false,
                    files,
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let l: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        GitHub::add_labels(&*self.gh, "acme", "widgets", n, &l)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let sha = self
            .fake
            .pull_request("acme", "widgets", n)
            .map(|p| p.head.sha)
            .unwrap_or_default();
        let st = Status {
            state: "success".into(),
            target_url: None,
            description: Some("ok".into()),
            context: "unit".into(),
        };
        GitHub::create_status(&*self.gh, "acme", "widgets", &sha, &st)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (n, sha)
    }

    async fn pass_all(&self) {
        for mut j in self
            .store
            .list(&ListParams::all())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
        {
            j.status.state = ProwJobState::Success;
            let refs = j.spec.refs.clone().unwrap_or_default();
            for p in &refs.pulls {
                let st = Status {
                    state: "success".into(),
                    target_url: None,
                    description: Some(format!("ok BaseSHA:{}", refs.base_sha)),
                    context: "unit".into(),
                };
                GitHub::create_status(&*self.gh, "acme", "widgets", &p.sha, &st)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            self.store
                .update_status(j)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    fn merged(&self, n: u64) -> bool {
        self.fake
            .pull_request("acme", "widgets", n)
            .is_some_and(|p| p.merged)
    }
}

#[tokio::test]
async fn rest_answers_match_the_simulator_search() {
    let w = world(Inject::None);
    let (a, _) = w.ready_pr("a", &["lgtm", "approved"]).await;
    let (_b, _) = w
        .ready_pr("b", &["lgtm", "approved", "do-not-merge/hold"])
        .await;
    let (_c, _) = w.ready_pr("c", &["lgtm"]).await;
    let q = r#"is:pr state:open archived:false label:"lgtm" label:"approved" -label:"do-not-merge/hold" repo:"acme/widgets""#;
    let ours = prow_tide::github::search_prs(w.gh.as_ref(), "acme", q)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sim = prow_tide::github::search_prs(&w.fake.client("prow-bot"), "acme", q)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let key = |v: &[prow_tide::model::Pr]| -> Vec<(u64, String, Vec<String>, usize)> {
        let mut k: Vec<_> = v
            .iter()
            .map(|p| {
                let mut l = p.labels.clone();
                l.sort();
                (p.number, p.head_sha.clone(), l, p.head_contexts().len())
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        key(&ours),
        key(&sim),
        "REST-derived search equals the simulator's GraphQL search"
    );
    assert_eq!(ours.iter().map(|p| p.number).collect::<Vec<_>>(), vec![a]);
}

#[tokio::test]
async fn base_modified_is_retried() {
    let w = world(Inject::BaseModified(2));
    let (n, _) = w.ready_pr("a", &["lgtm", "approved"]).await;
    w.tide.sync().await.unwrap_or_else(|e| panic!("{e}"));
    w.pass_all().await;
    w.tide.sync().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.merged(n), "merged on the third attempt");
    assert_eq!(w.gh.merge_calls.load(Ordering::SeqCst), 3);
    assert_eq!(w.tide.pools_json()[0]["Error"], "");
}

#[tokio::test]
async fn forbidden_merge_stops_the_batch_and_is_recorded() {
    let w = world(Inject::Forbidden);
    let (a, _) = w.ready_pr("a", &["lgtm", "approved"]).await;
    let (b, _) = w.ready_pr("b", &["lgtm", "approved"]).await;
    w.tide.sync().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.tide.pools_json()[0]["Action"], "TRIGGER_BATCH");
    w.pass_all().await;
    w.tide.sync().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!w.merged(a) && !w.merged(b));
    assert_eq!(
        w.gh.merge_calls.load(Ordering::SeqCst),
        1,
        "the batch stops after the first refusal"
    );
    let err = w.tide.pools_json()[0]["Error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        err.starts_with(&format!("failed merging [{a}] from batch [{a} {b}]: #{a}: branch needs to be configured to allow this robot to push")),
        "{err}"
    );
    let hist = w.tide.history_json();
    assert_eq!(hist["acme/widgets:main"][0]["action"], "MERGE_BATCH");
    assert_eq!(hist["acme/widgets:main"][0]["err"], err.as_str());
}
