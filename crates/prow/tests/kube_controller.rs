//! The controller in Kubernetes mode against the in-repo fake API server (a test double, not a
//! real cluster): ProwJobs in the CRD store, decorated Pods created by the Kubernetes executor,
//! pod phases followed to final states, `max_concurrency` enforced, evicted pods revived up to
//! `max_revivals`.

use std::sync::Arc;
use std::time::Duration;

use prow_api::{ProwJob, ProwJobState};
use prow_controller::buildid::Snowflake;
use prow_controller::controller::{self, Context, ControllerOptions, fixed_config};
use prow_executor::kube::KubeExecutor;
use prow_jobstore::JobStore;
use prow_kube_fake::FakeKube;
use tokio_util::sync::CancellationToken;

const CONFIG: &str = r#"
prowjob_namespace: prow
pod_namespace: test-pods
plank:
  max_concurrency: 2
  max_revivals: 1
  default_decoration_config_entries:
  - config:
      timeout: 1h
      grace_period: 15s
      utility_images:
        clonerefs: example.com/clonerefs:v1
        initupload: example.com/initupload:v1
        entrypoint: example.com/entrypoint:v1
        sidecar: example.com/sidecar:v1
      gcs_configuration: {bucket: example-bucket, path_strategy: explicit}
      gcs_credentials_secret: gcs-credentials
"#;

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-unit
    always_run: true
    decorate: true
    spec: {containers: [{image: example.com/test:v1, command: [make, test]}]}
"#;

fn config() -> prow_config::Config {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yaml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("jobs.yaml"), JOBS).unwrap();
    prow_config::load(&prow_config::LoadOptions {
        config_path: dir.path().join("config.yaml"),
        job_config_path: Some(dir.path().join("jobs.yaml")),
        ..Default::default()
    })
    .unwrap()
}

fn job(cfg: &prow_config::Config, pr: u64) -> ProwJob {
    let p = &cfg.jobs.presubmits["acme/widgets"][0];
    let refs = prow_config::pjutil::PullRequestRefs {
        org: "acme".into(),
        repo: "widgets".into(),
        repo_link: "https://github.example.com/acme/widgets".into(),
        base_ref: "main".into(),
        number: pr,
        author: "alice".into(),
        head_sha: format!("{pr:040x}"),
        ..Default::default()
    };
    prow_config::pjutil::new_presubmit(
        &refs,
        "b".repeat(40).as_str(),
        p,
        &format!("event-{pr}"),
        &Default::default(),
        chrono::Utc::now(),
    )
}

fn assert_subset(at: &str, want: &serde_json::Value, got: &serde_json::Value) {
    use serde_json::Value;
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                assert_subset(&format!("{at}.{k}"), v, g.get(k).unwrap_or(&Value::Null));
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            assert_eq!(w.len(), g.len(), "{at}: length");
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                assert_subset(&format!("{at}[{i}]"), a, b);
            }
        }
        (w, g) => assert_eq!(w, g, "{at}"),
    }
}

async fn wait<T, F: AsyncFnMut() -> Option<T>>(what: &str, mut f: F) -> T {
    for _ in 0..1200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_runs_decorated_pods_in_the_fake_api_server() {
    let fake = FakeKube::builder()
        .prowjob_status_subresource(false)
        .build();
    let cfg = config();
    let store: Arc<dyn JobStore> =
        Arc::new(prow_jobstore::kube::KubeStore::new(fake.client(), "prow"));
    let executor = Arc::new(KubeExecutor::new("test-pods").with_cluster("default", fake.client()));
    let ctx = Context::new(
        store.clone(),
        executor.clone(),
        Arc::new(Snowflake::default()),
        fixed_config(cfg.clone()),
    )
    .with_options(ControllerOptions {
        pending_poll: Duration::from_millis(100),
        ..Default::default()
    });
    let token = CancellationToken::new();
    tokio::spawn(controller::run(Arc::new(ctx), token.clone()));

    let mut names = Vec::new();
    for pr in 1..=3 {
        names.push(store.create(job(&cfg, pr)).await.unwrap().name().to_owned());
    }
    let pods = |fake: &FakeKube| -> Vec<serde_json::Value> {
        fake.objects()
            .into_iter()
            .filter(|o| o.object["kind"] == "Pod")
            .map(|o| o.object)
            .collect()
    };

    // max_concurrency: 2 → exactly two pods, the third job waits in `triggered`.
    wait("two pods", async || (pods(&fake).len() == 2).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pods(&fake).len(), 2, "max_concurrency must hold");
    let jobs: Vec<ProwJob> = futures::future::join_all(names.iter().map(|n| store.get(n)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let pending: Vec<&ProwJob> = jobs
        .iter()
        .filter(|j| j.status.state == ProwJobState::Pending)
        .collect();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        jobs.iter()
            .filter(|j| j.status.state == ProwJobState::Triggered)
            .count(),
        1
    );

    // The created pod is exactly the decorated rendering (golden-tested in prow-executor).
    let first = pending[0];
    let pod: k8s_openapi::api::core::v1::Pod = fake
        .get_as(Some("test-pods"), first.name())
        .expect("pod exists");
    let want = executor.render_pod(first, &first.status.build_id).unwrap();
    // The API server adds defaults (imagePullPolicy, dnsPolicy, …); everything we rendered must
    // be there unchanged.
    assert_subset(
        "spec",
        &serde_json::to_value(&want.spec).unwrap(),
        &serde_json::to_value(&pod.spec).unwrap(),
    );
    assert_eq!(pod.metadata.labels, want.metadata.labels);
    let spec = pod.spec.unwrap();
    let init: Vec<&str> = spec
        .init_containers
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(init, ["clonerefs", "initupload", "place-entrypoint"]);
    assert!(spec.containers.iter().any(|c| c.name == "sidecar"));

    // Phases → final states.
    fake.set_pod_succeeded("test-pods", pending[0].name())
        .unwrap();
    fake.set_pod_failed("test-pods", pending[1].name(), 1, "Error")
        .unwrap();
    let (a, b) = (pending[0].name().to_owned(), pending[1].name().to_owned());
    wait("success and failure", async || {
        let (ja, jb) = (store.get(&a).await.ok()?, store.get(&b).await.ok()?);
        (ja.status.state == ProwJobState::Success && jb.status.state == ProwJobState::Failure)
            .then_some(())
    })
    .await;

    // The third job starts once a slot is free; evicted once → revived; evicted again → error.
    let third = jobs
        .iter()
        .find(|j| j.status.state == ProwJobState::Triggered)
        .unwrap()
        .name()
        .to_owned();
    wait("third pending", async || {
        (store.get(&third).await.ok()?.status.state == ProwJobState::Pending).then_some(())
    })
    .await;
    wait("third pod", async || {
        fake.get_as::<k8s_openapi::api::core::v1::Pod>(Some("test-pods"), &third)
    })
    .await;
    fake.evict_pod("test-pods", &third).unwrap();
    let revived = wait("revival", async || {
        let j = store.get(&third).await.ok()?;
        (j.status.pod_revival_count == 1 && j.status.state == ProwJobState::Pending).then_some(j)
    })
    .await;
    wait("revived pod", async || {
        let p = fake.get_as::<k8s_openapi::api::core::v1::Pod>(Some("test-pods"), &third)?;
        (p.status.as_ref().and_then(|s| s.reason.as_deref()) != Some("Evicted")).then_some(())
    })
    .await;
    fake.evict_pod("test-pods", &third).unwrap();
    let errored = wait("error after max_revivals", async || {
        let j = store.get(&third).await.ok()?;
        (j.status.state == ProwJobState::Error).then_some(j)
    })
    .await;
    assert!(revived.status.pod_revival_count == 1);
    assert!(
        errored.status.description.contains("evicted"),
        "{}",
        errored.status.description
    );
    assert!(errored.status.completion_time.is_some());
    token.cancel();
}
