//! Deck's HTTP API through the router: JSON shapes, badges, rerun/abort decisions, pages.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use common::*;
use http::{HeaderMap, Method, Request, StatusCode};
use prow_api::{ProwJob, ProwJobState, RerunAuthConfig};
use prow_deck::{AuthDecision, DeckAuth, DeckOptions};
use serde_json::Value;
use tower::ServiceExt as _;

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, HeaderMap, String) {
    call(app, Method::GET, uri, &[]).await
}

#[tokio::test]
async fn prowjobs_js_has_prows_shape_and_order() {
    let s = deck().await;
    let app = s.deck.router();
    let (status, headers, body) = get(&app, "/prowjobs.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store, must-revalidate");
    assert_eq!(headers["expires"], "0");
    let v: Value = serde_json::from_str(&body).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    // Newest first.
    assert_eq!(items[0]["metadata"]["name"], "pj-7");
    let pj = items
        .iter()
        .find(|i| i["metadata"]["name"] == "pj-1")
        .unwrap();
    assert_eq!(pj["apiVersion"], "prow.k8s.io/v1");
    assert_eq!(pj["kind"], "ProwJob");
    assert_eq!(pj["spec"]["type"], "presubmit");
    assert_eq!(pj["spec"]["job"], "pull-alpha-unit");
    assert_eq!(pj["spec"]["refs"]["pulls"][0]["author"], "alice");
    assert_eq!(pj["status"]["state"], "success");
    assert_eq!(pj["status"]["startTime"], "2023-11-14T22:13:30Z");
    assert!(pj["status"]["completionTime"].is_string());
    assert_eq!(pj["metadata"]["labels"]["created-by-prow"], "true");
    assert_eq!(
        pj["metadata"]["annotations"]["prow.k8s.io/job"],
        "pull-alpha-unit"
    );
}

#[tokio::test]
async fn prowjobs_js_omit_var_and_filters() {
    let s = deck().await;
    // A job with a pod spec and decoration config, to see them omitted.
    let mut pj = job(
        "pj-pod",
        "pull-pod",
        prow_api::ProwJobType::Presubmit,
        ProwJobState::Pending,
        "acme/alpha",
        5,
    );
    pj.spec.pod_spec = Some(prow_api::k8s_openapi::api::core::v1::PodSpec {
        containers: vec![
            prow_api::k8s_openapi::api::core::v1::Container {
                name: "test".into(),
                image: Some("img".into()),
                ..Default::default()
            },
            prow_api::k8s_openapi::api::core::v1::Container {
                name: "side".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    });
    pj.spec.decoration_config = Some(Default::default());
    s.store.create(pj).await.unwrap();
    let app = s.deck.router();
    wait_for(&s, "pj-pod").await;

    let (_, _, body) = get(
        &app,
        "/prowjobs.js?omit=annotations,labels,decoration_config,pod_spec",
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let pod = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == "pj-pod")
        .unwrap()
        .clone();
    assert!(pod["metadata"].get("labels").is_none());
    assert!(pod["metadata"].get("annotations").is_none());
    assert!(pod["spec"].get("decoration_config").is_none());
    let containers = pod["spec"]["pod_spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2, "one empty container per real one");
    assert!(containers[0].get("image").is_none());

    let (_, _, body) = get(&app, "/prowjobs.js?omit=labels").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let pod = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == "pj-pod")
        .unwrap()
        .clone();
    assert!(pod["metadata"].get("labels").is_none());
    assert!(pod["metadata"].get("annotations").is_some());
    assert_eq!(pod["spec"]["pod_spec"]["containers"][0]["image"], "img");

    let (_, headers, body) = get(&app, "/prowjobs.js?var=allBuilds&repo=beta").await;
    assert_eq!(headers["content-type"], "application/javascript");
    assert!(body.starts_with("var allBuilds = {\"items\":["), "{body}");
    assert!(body.ends_with("]};"));
    let json = body
        .trim_start_matches("var allBuilds = ")
        .trim_end_matches(';');
    let v: Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        2,
        "repo= is Prow's exact repo-name filter"
    );

    let (_, _, body) = get(&app, "/prowjobs.js?org=acme&owner=alice").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 5);

    let (status, _, _) = get(&app, "/prowjobs.js?var=x;alert(1)").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn wait_for(s: &Setup, name: &str) {
    for _ in 0..500 {
        if s.deck.cache().get(name).is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{name} never reached the cache");
}

#[tokio::test]
async fn hidden_repos_are_not_served() {
    let mut cfg = config();
    cfg.prow.deck.hidden_repos = vec!["acme/beta".into()];
    let s = deck_with(cfg.clone(), DeckOptions::default(), None, no_storage()).await;
    let (_, _, body) = get(&s.deck.router(), "/prowjobs.js").await;
    assert!(!body.contains("acme\",\"repo\":\"beta") && !body.contains("pull-beta-unit"));
    let (_, _, page) = get(&s.deck.router(), "/").await;
    assert!(!page.contains("pull-beta-unit"));
    let s = deck_with(
        cfg,
        DeckOptions {
            hidden_only: true,
            ..Default::default()
        },
        None,
        no_storage(),
    )
    .await;
    let (_, _, body) = get(&s.deck.router(), "/prowjobs.js").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn badge_cases() {
    let s = deck().await;
    let app = s.deck.router();
    let (status, _, body) = get(&app, "/badge.svg").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("missing jobs query parameter"));
    let (status, headers, body) = get(&app, "/badge.svg?jobs=post-*").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/svg+xml");
    // post-alpha-build succeeded; post-beta-build is triggered (not a failure).
    assert!(
        body.contains(">passing<") && body.contains("#4c1"),
        "{body}"
    );
    let (_, _, body) = get(&app, "/badge.svg?jobs=pull-*").await;
    assert!(
        body.contains(">failing pull-alpha-lint<") && body.contains("#e05d44"),
        "{body}"
    );
    let (_, _, body) = get(&app, "/badge.svg?jobs=nothing").await;
    assert!(body.contains(">no results<"));
}

#[tokio::test]
async fn prowjob_yaml_and_config() {
    let s = deck().await;
    let app = s.deck.router();
    let (status, headers, body) = get(&app, "/prowjob?prowjob=pj-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/plain");
    assert!(body.contains("job: pull-alpha-unit"), "{body}");
    assert!(body.contains("kind: ProwJob"));
    let (status, _, _) = get(&app, "/prowjob?prowjob=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&app, "/prowjob").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get(&app, "/config").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = get(&app, "/config?key=disabled-clusters").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = get(&app, "/plugin-config").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, headers, _) = get(&app, "/plugin-help").await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(headers["location"], "/command-help");
}

#[tokio::test]
async fn tide_js_is_minified_and_wrapped() {
    let mut cfg = config();
    cfg.prow.tide.queries = vec![prow_config::prow::TideQuery {
        repos: vec!["acme/alpha".into()],
        labels: vec!["lgtm".into()],
        ..Default::default()
    }];
    let s = deck_with(cfg, DeckOptions::default(), None, no_storage()).await;
    let app = s.deck.router();
    let (_, headers, body) = get(&app, "/tide.js?var=tideData").await;
    assert_eq!(headers["content-type"], "application/javascript");
    let v: Value = serde_json::from_str(
        body.trim_start_matches("var tideData = ")
            .trim_end_matches(';'),
    )
    .unwrap();
    assert_eq!(
        v["Queries"][0],
        r#"is:pr state:open archived:false label:"lgtm" repo:"acme/alpha""#
    );
    assert_eq!(v["TideQueries"][0]["repos"][0], "acme/alpha");
    assert_eq!(v["Pools"].as_array().unwrap().len(), 2);
    assert!(v["Pools"][0]["SuccessPRs"][0].get("Body").is_none());
    assert_eq!(v["Pools"][0]["SuccessPRs"][0]["Title"], "Add feature");
    let (_, _, body) = get(&app, "/tide-history.js").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["History"]["acme/alpha:main"].as_array().unwrap().len(), 2);
    let (status, _, page) = get(&app, "/tide").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("acme/alpha") && page.contains("MERGE") && page.contains("#9"));
    let (_, _, page) = get(&app, "/tide-history?action=TRIGGER").await;
    assert!(
        page.contains("TRIGGER") && !page.contains("<b>MERGE</b>"),
        "{page}"
    );
}

#[tokio::test]
async fn jobs_page_renders_and_filters_without_js() {
    let s = deck().await;
    let app = s.deck.router();
    let (status, _, page) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    for j in [
        "pull-alpha-unit",
        "pull-beta-unit",
        "periodic-nightly",
        "batch-alpha-unit",
    ] {
        assert!(page.contains(j), "{j} missing");
    }
    assert!(page.contains(r#"<header class="topbar">"#));
    assert!(page.contains(r#"<a id="login" href="/github-login?dest=%2F">Log in</a>"#));
    let (_, _, page) = get(&app, "/?state=failure").await;
    assert!(page.contains("pull-alpha-lint") && !page.contains("pull-alpha-unit</a>"));
    let (_, _, page) = get(&app, "/?repo=acme/beta&job=unit").await;
    assert!(page.contains("pull-beta-unit") && !page.contains("post-beta-build</a>"));
    let (_, _, page) = get(&app, "/?type=periodic").await;
    assert!(page.contains("periodic-nightly</a>") && !page.contains("pull-alpha-unit</a>"));
}

/// Auth stand-in: header `x-user` is the login, `x-csrf-token: good` passes CSRF, users in
/// `allowed` may rerun.
struct FakeAuth {
    allowed: Vec<String>,
}

#[async_trait]
impl DeckAuth for FakeAuth {
    fn login(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    fn csrf_token(&self, _: &HeaderMap) -> Option<String> {
        Some("good".into())
    }
    fn check_csrf(&self, headers: &HeaderMap, _: Option<&str>) -> Result<(), String> {
        match headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
            Some("good") => Ok(()),
            _ => Err("missing or bad token".into()),
        }
    }
    async fn authorize(&self, _pj: &ProwJob, headers: &HeaderMap) -> AuthDecision {
        match self.login(headers) {
            None => AuthDecision::NeedLogin,
            Some(l) if self.allowed.contains(&l) => AuthDecision::Allowed { login: Some(l) },
            Some(l) => AuthDecision::Denied { login: l },
        }
    }
}

#[tokio::test]
async fn rerun_decisions() {
    let auth: Arc<dyn DeckAuth> = Arc::new(FakeAuth {
        allowed: vec!["alice".into()],
    });
    let opts = DeckOptions {
        rerun_creates_job: true,
        ..Default::default()
    };
    let s = deck_with(config(), opts, Some(auth), no_storage()).await;
    let app = s.deck.router();

    let (status, _, yaml) = get(&app, "/rerun?prowjob=pj-2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        yaml.contains("job: pull-alpha-lint") && yaml.contains("state: triggered"),
        "{yaml}"
    );

    let (status, _, body) = call(&app, Method::POST, "/rerun?prowjob=pj-2", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("CSRF"));
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-2",
        &[("x-csrf-token", "good")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("You need to log in to rerun jobs"));
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-2",
        &[("x-csrf-token", "good"), ("x-user", "mallory")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, "mallory is not allowed to rerun pull-alpha-lint");
    let (status, _, body) = call(
        &app,
        Method::POST,
        "/rerun?prowjob=pj-2",
        &[("x-csrf-token", "good"), ("x-user", "alice")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "Job successfully triggered. Wait 30 seconds and refresh the page for the job to show up."
    );
    let all = s
        .store
        .list(&prow_jobstore::ListParams::all())
        .await
        .unwrap()
        .items;
    let new: Vec<_> = all
        .iter()
        .filter(|j| j.status.description == "alice successfully reran pj-2.")
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].spec.job, "pull-alpha-lint");
    assert_eq!(new[0].status.state, ProwJobState::Triggered);
}

#[tokio::test]
async fn rerun_needs_flag_and_without_oauth_only_allow_anyone() {
    let s = deck().await;
    let (status, _, body) = call(&s.deck.router(), Method::POST, "/rerun?prowjob=pj-1", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        body,
        "Direct rerun feature is not enabled. Enable with the '--rerun-creates-job' flag."
    );

    let opts = DeckOptions {
        rerun_creates_job: true,
        ..Default::default()
    };
    let s = deck_with(config(), opts.clone(), None, no_storage()).await;
    let (status, _, body) = call(&s.deck.router(), Method::POST, "/rerun?prowjob=pj-1", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("allow_anyone"), "{body}");

    let mut cfg = config();
    cfg.prow.deck.rerun_auth_configs.insert(
        "acme/alpha".into(),
        RerunAuthConfig {
            allow_anyone: true,
            ..Default::default()
        },
    );
    let s = deck_with(cfg, opts, None, no_storage()).await;
    let (status, _, _) = call(&s.deck.router(), Method::POST, "/rerun?prowjob=pj-1", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let all = s
        .store
        .list(&prow_jobstore::ListParams::all())
        .await
        .unwrap()
        .items;
    assert!(
        all.iter()
            .any(|j| j.status.description == "Successfully reran pj-1.")
    );
}

#[tokio::test]
async fn abort_decisions() {
    let auth: Arc<dyn DeckAuth> = Arc::new(FakeAuth {
        allowed: vec!["alice".into()],
    });
    let s = deck_with(config(), DeckOptions::default(), Some(auth), no_storage()).await;
    let app = s.deck.router();
    let ok = [("x-csrf-token", "good"), ("x-user", "alice")];
    let (status, _, body) = call(&app, Method::POST, "/abort?prowjob=pj-1", &ok).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, "Cannot abort job with state: \"success\".");
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/abort?prowjob=pj-3",
        &[("x-csrf-token", "good"), ("x-user", "eve")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.store.get("pj-3").await.unwrap().status.state,
        ProwJobState::Pending
    );
    let (status, _, body) = call(&app, Method::POST, "/abort?prowjob=pj-3", &ok).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "Job successfully aborted.");
    let pj = s.store.get("pj-3").await.unwrap();
    assert_eq!(pj.status.state, ProwJobState::Aborted);
    assert_eq!(pj.status.description, "alice successfully aborted pj-3.");
    let (status, _, _) = call(&app, Method::GET, "/abort?prowjob=pj-4", &ok).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn data_js_is_the_legacy_list() {
    let s = deck().await;
    let (_, _, body) = get(&s.deck.router(), "/data.js").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let first = &v[0];
    assert_eq!(first["prow_job"], "pj-7");
    assert_eq!(first["type"], "postsubmit");
    assert_eq!(first["duration"], "1m30s");
    assert_eq!(
        first["refs_key"],
        "main:1111111111111111111111111111111111111111"
    );
    assert_eq!(first["started"], "1700000070");
}

#[tokio::test]
async fn github_links_redirect() {
    let s = deck().await;
    let app = s.deck.router();
    let (status, headers, _) = get(&app, "/github-link?dest=acme/alpha/pull/7").await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers["location"], "https://github.com/acme/alpha/pull/7");
    let (_, headers, _) = get(
        &app,
        "/git-provider-link?target=prcommit&repo='acme/alpha'&number=7&commit=abc",
    )
    .await;
    assert_eq!(
        headers["location"],
        "https://github.com/acme/alpha/pull/7/abc"
    );
    let (_, headers, _) = get(&app, "/git-provider-link?target=author&author=alice").await;
    assert_eq!(headers["location"], "https://github.com/alice");
}

struct FakeHelp;

#[async_trait]
impl prow_deck::PluginHelpSource for FakeHelp {
    async fn help(&self) -> anyhow::Result<Value> {
        Ok(serde_json::json!({
            "AllRepos": ["acme/alpha", "acme/beta"],
            "RepoPlugins": {"acme": ["lgtm"], "acme/beta": ["hold"]},
            "PluginHelp": {
                "lgtm": {"Description": "Adds the lgtm label", "Events": ["issue_comment"],
                         "Commands": [{"Usage": "/lgtm [cancel]", "Featured": true, "Description": "Adds or removes lgtm",
                                       "Examples": ["/lgtm"], "WhoCanUse": "Collaborators"}]},
                "hold": {"Description": "Holds a PR", "Commands": [{"Usage": "/hold [cancel]", "Featured": false,
                         "Description": "Adds do-not-merge/hold", "Examples": ["/hold"], "WhoCanUse": "Anyone"}]}
            }
        }))
    }
}

#[tokio::test]
async fn plugin_help_pages_and_configured_jobs() {
    let mut cfg = config();
    let mut p = prow_config::Presubmit::default();
    p.base.name = "pull-alpha-unit".into();
    p.always_run = true;
    cfg.jobs.presubmits.insert("acme/alpha".into(), vec![p]);
    let store: Arc<dyn prow_jobstore::JobStore> =
        Arc::new(prow_jobstore::memory::MemoryStore::new("default"));
    let deck = prow_deck::Deck::new(
        prow_deck::DeckDeps {
            store,
            config: getter(cfg),
            plugins: None,
            tide: None,
            plugin_help: Some(Arc::new(FakeHelp)),
            storage: no_storage(),
            auth: None,
            spyglass: None,
        },
        DeckOptions::default(),
    );
    deck.start(tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    let app = deck.router();
    let (_, _, body) = get(&app, "/plugin-help.js").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["AllRepos"][1], "acme/beta");
    let (status, _, page) = get(&app, "/command-help").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/lgtm [cancel]") && page.contains("/hold [cancel]"));
    let (_, _, page) = get(&app, "/command-help?repo=acme/alpha").await;
    assert!(
        page.contains("/lgtm [cancel]") && !page.contains("/hold [cancel]"),
        "{page}"
    );
    let (_, _, page) = get(&app, "/plugins").await;
    assert!(page.contains(r#"id="lgtm""#) && page.contains("Adds the lgtm label"));
    let (_, _, page) = get(&app, "/configured-jobs/").await;
    assert!(
        page.contains(r#"href="/configured-jobs/acme/alpha""#),
        "{page}"
    );
    let (_, _, page) = get(&app, "/configured-jobs/acme/alpha").await;
    assert!(page.contains("pull-alpha-unit") && page.contains("always"));
    let (status, _, _) = get(&app, "/configured-jobs/a/b/c").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, _) = get(&app, "/static/deck.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    let (status, _, _) = get(&app, "/favicon.ico").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn gzip_when_asked() {
    let s = deck().await;
    let (status, headers, _) = call(
        &s.deck.router(),
        Method::GET,
        "/prowjobs.js",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
}

#[tokio::test]
async fn jobs_page_cuts_rows_and_links_more() {
    let s = deck().await;
    let app = s.deck.router();
    let (_, _, page) = get(&app, "/?limit=3&state=").await;
    assert_eq!(page.matches("<tr class=\"s-").count(), 3);
    assert!(page.contains(r#"<a id="more" href="/?limit=6">"#), "{page}");
    let (_, _, page) = get(&app, "/?limit=3&repo=acme/alpha").await;
    // askama escapes `&` as `&#38;`.
    assert!(
        page.contains(r#"href="/?repo=acme%2Falpha&#38;limit=6""#),
        "{page}"
    );
    let (_, _, page) = get(&app, "/?limit=50").await;
    assert!(!page.contains(r#"id="more""#));
}
