//! Tide data for `/tide.js`, `/tide-history.js` and the `/tide` pages: fetched from Tide's
//! `/` and `/history` (through a [`TideSource`]), cached for `deck.tide_update_period`,
//! filtered by hidden repos and tenants, with PRs minified to
//! `{Title, Number, HeadRefOID, Mergeable}` (Prow's `PoolForDeck`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use prow_config::prow::TideQuery;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::filter::Visibility;

/// Where Tide's JSON comes from.
#[async_trait]
pub trait TideSource: Send + Sync {
    /// Tide's `GET /`: the array of pools.
    async fn pools(&self) -> anyhow::Result<Value>;
    /// Tide's `GET /history`: `{"org/repo:branch": [record…]}`.
    async fn history(&self) -> anyhow::Result<Value>;
}

/// A [`TideSource`] over HTTP (`--tide-url`, e.g. `http://tide/`).
#[derive(Clone, Debug)]
pub struct HttpTideSource {
    base: String,
    client: reqwest::Client,
}

impl HttpTideSource {
    /// Tide at `tide_url`.
    pub fn new(tide_url: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(HttpTideSource {
            base: tide_url.trim_end_matches('/').to_owned(),
            client,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self.client.get(&url).send().await?.error_for_status()?;
        Ok(resp.json().await?)
    }
}

#[async_trait]
impl TideSource for HttpTideSource {
    async fn pools(&self) -> anyhow::Result<Value> {
        self.get("/").await
    }
    async fn history(&self) -> anyhow::Result<Value> {
        self.get("/history").await
    }
}

/// Prow's `TideQuery.Query()`: the GitHub search string of one query. Org-scoped parts are
/// ordered by org (Go's map order is random).
pub fn query_string(q: &TideQuery) -> String {
    let mut scoped: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for o in &q.orgs {
        scoped
            .entry(o.as_str())
            .or_insert_with(|| vec![format!("org:\"{o}\"")]);
    }
    for r in &q.repos {
        if let Some((org, _)) = r.split_once('/') {
            scoped.entry(org).or_default().push(format!("repo:\"{r}\""));
        }
    }
    for r in &q.excluded_repos {
        if let Some((org, _)) = r.split_once('/') {
            scoped
                .entry(org)
                .or_default()
                .push(format!("-repo:\"{r}\""));
        }
    }
    let mut toks: Vec<String> = vec!["is:pr".into(), "state:open".into(), "archived:false".into()];
    if !q.author.is_empty() {
        toks.push(format!("author:\"{}\"", q.author));
    }
    toks.extend(q.excluded_branches.iter().map(|b| format!("-base:\"{b}\"")));
    toks.extend(q.included_branches.iter().map(|b| format!("base:\"{b}\"")));
    for l in &q.labels {
        let alts: Vec<String> = l.split(',').map(|a| format!("\"{a}\"")).collect();
        toks.push(format!("label:{}", alts.join(",")));
    }
    toks.extend(q.missing_labels.iter().map(|l| format!("-label:\"{l}\"")));
    if !q.milestone.is_empty() {
        toks.push(format!("milestone:\"{}\"", q.milestone));
    }
    if q.review_approved_required {
        toks.push("review:approved".into());
    }
    let mut out = vec![toks.join(" ")];
    out.extend(scoped.into_values().flatten());
    out.join(" ")
}

fn repo_tenant(cfg: &prow_config::Config, org_repo: &str) -> String {
    prow_config::defaults::prowjob_defaults(&cfg.prow, org_repo, "*")
        .map(|d| d.tenant_id)
        .unwrap_or_default()
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Prow's `filterQueries`: queries whose repos are all hidden disappear, hidden repos are
/// dropped from the rest.
pub fn filter_queries(
    queries: &[TideQuery],
    vis: &Visibility,
    cfg: &prow_config::Config,
) -> Vec<TideQuery> {
    let mut out = Vec::new();
    for q in queries {
        let mut ids: Vec<String> = q
            .orgs
            .iter()
            .chain(q.repos.iter())
            .map(|r| repo_tenant(cfg, r))
            .collect();
        ids.sort();
        ids.dedup();
        ids.retain(|s| !s.is_empty());
        let exposed: Vec<String> = q
            .repos
            .iter()
            .filter(|r| !vis.repo_hidden(r))
            .cloned()
            .collect();
        let mut q = q.clone();
        if exposed.len() < q.repos.len() {
            if vis.shows_tide("", &ids, true) {
                out.push(q);
                continue;
            }
            q.repos = exposed;
        }
        if (!q.repos.is_empty() || !q.orgs.is_empty()) && vis.shows_tide("", &ids, false) {
            out.push(q);
        }
    }
    out
}

/// One PR reduced to what Deck shows.
fn minify_pr(pr: &Value) -> Value {
    let mut m = Map::new();
    for k in ["Title", "Number", "HeadRefOID", "Mergeable"] {
        let v = pr.get(k).cloned().unwrap_or(match k {
            "Number" => Value::from(0),
            _ => Value::from(""),
        });
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

/// Prow's `PoolToPoolForDeck` on one pool (JSON in, JSON out; `null` lists stay `null`).
pub fn minify_pool(pool: &Value) -> Value {
    let mut out = Map::new();
    for k in ["Org", "Repo", "Branch"] {
        out.insert(k.into(), pool.get(k).cloned().unwrap_or(Value::from("")));
    }
    for k in ["SuccessPRs", "PendingPRs", "MissingPRs", "BatchPending"] {
        out.insert(k.into(), minify_list(pool.get(k)));
    }
    out.insert(
        "Action".into(),
        pool.get("Action").cloned().unwrap_or(Value::from("")),
    );
    out.insert("Target".into(), minify_list(pool.get("Target")));
    for k in ["Blockers", "TenantIDs"] {
        out.insert(k.into(), pool.get(k).cloned().unwrap_or(Value::Null));
    }
    out.insert(
        "Error".into(),
        pool.get("Error").cloned().unwrap_or(Value::from("")),
    );
    Value::Object(out)
}

fn minify_list(v: Option<&Value>) -> Value {
    match v.and_then(Value::as_array) {
        Some(a) => Value::Array(a.iter().map(minify_pr).collect()),
        None => Value::Null,
    }
}

/// Visible pools, minified.
pub fn filter_pools(pools: &Value, vis: &Visibility, cfg: &prow_config::Config) -> Vec<Value> {
    let Some(pools) = pools.as_array() else {
        return Vec::new();
    };
    pools
        .iter()
        .filter(|p| {
            let org_repo = format!(
                "{}/{}",
                p.get("Org").and_then(Value::as_str).unwrap_or(""),
                p.get("Repo").and_then(Value::as_str).unwrap_or("")
            );
            let ids = str_list(p.get("TenantIDs"));
            vis.shows_tide(
                &repo_tenant(cfg, &org_repo),
                &ids,
                vis.repo_hidden(&org_repo),
            )
        })
        .map(minify_pool)
        .collect()
}

/// Visible history records per pool; pools left without records disappear.
pub fn filter_history(
    hist: &Value,
    vis: &Visibility,
    cfg: &prow_config::Config,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(hist) = hist.as_object() else {
        return out;
    };
    for (pool, records) in hist {
        let org_repo = pool.split(':').next().unwrap_or(pool);
        let tenant = repo_tenant(cfg, org_repo);
        let hide = vis.repo_hidden(org_repo);
        let kept: Vec<Value> = records
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| vis.shows_tide(&tenant, &str_list(r.get("tenantids")), hide))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !kept.is_empty() {
            out.insert(pool.clone(), Value::Array(kept));
        }
    }
    out
}

/// The `/tide.js` payload.
pub fn tide_js(pools: &Value, vis: &Visibility, cfg: &prow_config::Config) -> Value {
    let queries = filter_queries(&cfg.prow.tide.queries, vis, cfg);
    let strings: Vec<String> = queries.iter().map(query_string).collect();
    serde_json::json!({
        "Queries": strings,
        "TideQueries": queries,
        "Pools": filter_pools(pools, vis, cfg),
    })
}

/// The `/tide-history.js` payload.
pub fn tide_history_js(hist: &Value, vis: &Visibility, cfg: &prow_config::Config) -> Value {
    serde_json::json!({ "History": filter_history(hist, vis, cfg) })
}

#[derive(Default)]
struct Cached {
    pools: Option<(Instant, Value)>,
    history: Option<(Instant, Value)>,
}

/// Caches a [`TideSource`] for a period (Prow polls Tide every `tide_update_period`; we fetch on
/// demand and reuse the answer for that long).
#[derive(Clone)]
pub struct TideCache {
    source: Arc<dyn TideSource>,
    cached: Arc<Mutex<Cached>>,
}

impl TideCache {
    /// Wraps `source`.
    pub fn new(source: Arc<dyn TideSource>) -> Self {
        TideCache {
            source,
            cached: Arc::default(),
        }
    }

    /// Pools, at most `max_age` old. On a fetch error the last answer is kept.
    pub async fn pools(&self, max_age: Duration) -> anyhow::Result<Value> {
        let mut c = self.cached.lock().await;
        if let Some((at, v)) = &c.pools
            && at.elapsed() < max_age
        {
            return Ok(v.clone());
        }
        match self.source.pools().await {
            Ok(v) => {
                c.pools = Some((Instant::now(), v.clone()));
                Ok(v)
            }
            Err(e) => match &c.pools {
                Some((_, v)) => {
                    tracing::warn!(error = %e, "fetching Tide pools failed; serving the last answer");
                    Ok(v.clone())
                }
                None => Err(e),
            },
        }
    }

    /// History, at most `max_age` old.
    pub async fn history(&self, max_age: Duration) -> anyhow::Result<Value> {
        let mut c = self.cached.lock().await;
        if let Some((at, v)) = &c.history
            && at.elapsed() < max_age
        {
            return Ok(v.clone());
        }
        match self.source.history().await {
            Ok(v) => {
                c.history = Some((Instant::now(), v.clone()));
                Ok(v)
            }
            Err(e) => match &c.history {
                Some((_, v)) => {
                    tracing::warn!(error = %e, "fetching Tide history failed; serving the last answer");
                    Ok(v.clone())
                }
                None => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> prow_config::Config {
        let mut c = prow_config::Config {
            prow: Default::default(),
            jobs: Default::default(),
            stats: Default::default(),
        };
        c.prow.deck.hidden_repos = vec!["secret/repo".into()];
        c
    }

    fn vis(c: &prow_config::Config) -> Visibility {
        Visibility::new(&crate::DeckOptions::default(), c)
    }

    #[test]
    fn query_string_matches_prow() {
        let q = TideQuery {
            orgs: vec!["o".into()],
            repos: vec!["p/r".into()],
            excluded_repos: vec!["o/x".into()],
            labels: vec!["lgtm".into(), "a,b".into()],
            missing_labels: vec!["hold".into()],
            review_approved_required: true,
            ..Default::default()
        };
        assert_eq!(
            query_string(&q),
            r#"is:pr state:open archived:false label:"lgtm" label:"a","b" -label:"hold" review:approved org:"o" -repo:"o/x" repo:"p/r""#
        );
    }

    #[test]
    fn pools_are_minified_and_hidden_repos_dropped() {
        let c = cfg();
        let pools = json!([
            {"Org": "o", "Repo": "r", "Branch": "main", "Action": "MERGE",
             "SuccessPRs": [{"Number": 1, "Title": "t", "HeadRefOID": "abc", "Mergeable": "MERGEABLE",
                             "Body": "long body", "Author": "alice", "Org": "o"}],
             "PendingPRs": null, "MissingPRs": [], "BatchPending": null,
             "Target": [{"Number": 1, "Title": "t", "HeadRefOID": "abc", "Mergeable": "MERGEABLE", "Body": "x"}],
             "Blockers": null, "Error": "", "TenantIDs": null},
            {"Org": "secret", "Repo": "repo", "Branch": "main", "Action": "WAIT"}
        ]);
        let out = tide_js(&pools, &vis(&c), &c);
        let pools = out["Pools"].as_array().unwrap();
        assert_eq!(pools.len(), 1);
        assert_eq!(
            pools[0]["SuccessPRs"][0],
            json!({"Title": "t", "Number": 1, "HeadRefOID": "abc", "Mergeable": "MERGEABLE"})
        );
        assert!(pools[0]["PendingPRs"].is_null());
        assert_eq!(pools[0]["MissingPRs"], json!([]));
        assert!(pools[0]["Target"][0].get("Body").is_none());
        assert_eq!(pools[0]["Action"], "MERGE");
    }

    #[test]
    fn history_filters_hidden_pools() {
        let c = cfg();
        let hist = json!({
            "o/r:main": [{"time": "2024-01-01T00:00:00Z", "action": "MERGE", "tenantids": null}],
            "secret/repo:main": [{"time": "2024-01-01T00:00:00Z", "action": "MERGE", "tenantids": null}]
        });
        let out = tide_history_js(&hist, &vis(&c), &c);
        let h = out["History"].as_object().unwrap();
        assert!(h.contains_key("o/r:main"));
        assert!(!h.contains_key("secret/repo:main"));
    }

    #[test]
    fn queries_lose_hidden_repos() {
        let mut c = cfg();
        c.prow.tide.queries = vec![
            TideQuery {
                repos: vec!["o/r".into(), "secret/repo".into()],
                ..Default::default()
            },
            TideQuery {
                repos: vec!["secret/repo".into()],
                ..Default::default()
            },
        ];
        let out = tide_js(&json!([]), &vis(&c), &c);
        assert_eq!(out["TideQueries"].as_array().unwrap().len(), 1);
        assert_eq!(out["TideQueries"][0]["repos"], json!(["o/r"]));
        assert_eq!(
            out["Queries"][0],
            r#"is:pr state:open archived:false repo:"o/r""#
        );
    }
}
