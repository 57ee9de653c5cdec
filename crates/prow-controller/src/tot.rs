//! tot (Prow's `cmd/tot`): vends increasing build numbers per job name.
//!
//! * `GET /vend/<job>`: increments and returns the new number as plain text;
//! * `HEAD /vend/<job>`: the current number, unchanged;
//! * `POST /vend/<job>` with body `<n>`: sets it.
//!
//! State is the JSON file `--storage` (`{"Number": {"job": n}}`, Prow's format), rewritten
//! atomically (temp file + rename) after every change. With `--fallback`, a job tot has never
//! seen starts from the `latest-build.txt` found at `--fallback-url-template` (`%s` = job) or,
//! with `--fallback-bucket`, at the job's latest-build path in that bucket.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// Errors loading or saving the store.
#[derive(Debug, thiserror::Error)]
pub enum TotError {
    /// Reading or writing the storage file failed.
    #[error("tot storage {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The storage file is not tot's JSON.
    #[error("tot storage {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The parse error.
        message: String,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    #[serde(rename = "Number", default)]
    number: BTreeMap<String, i64>,
}

/// Where a never-seen job's count starts.
#[async_trait::async_trait]
pub trait Fallback: Send + Sync {
    /// The last build number of `job` elsewhere (0 when unknown).
    async fn last_build(&self, job: &str) -> i64;
}

/// `--fallback-url-template` / `--fallback-bucket` lookups over HTTP.
#[derive(Debug, Clone)]
pub struct HttpFallback {
    /// How to build the URL for a job.
    pub url_for: FallbackUrl,
    http: reqwest::Client,
}

/// How [`HttpFallback`] finds a job's `latest-build.txt`.
#[derive(Debug, Clone)]
pub enum FallbackUrl {
    /// A template with one `%s` for the job name.
    Template(String),
    /// `<bucket>/<latest-build path of the job>`; the map gives each known job's type.
    Bucket {
        /// Bucket URL (e.g. `https://storage.example.com/bucket`).
        bucket: String,
        /// Job name → type, from the config.
        jobs: BTreeMap<String, prow_api::ProwJobType>,
    },
}

impl HttpFallback {
    /// A fallback using `url_for`.
    pub fn new(url_for: FallbackUrl) -> Self {
        HttpFallback {
            url_for,
            http: reqwest::Client::new(),
        }
    }

    /// The URL to read for `job`, or `None` for a job the config does not know.
    pub fn url(&self, job: &str) -> Option<String> {
        match &self.url_for {
            FallbackUrl::Template(t) => Some(t.replacen("%s", job, 1)),
            FallbackUrl::Bucket { bucket, jobs } => {
                let spec = prow_pod_utils::downwardapi::JobSpec {
                    job_type: Some(*jobs.get(job)?),
                    job: job.to_owned(),
                    ..Default::default()
                };
                let paths = prow_pod_utils::gcs::latest_build_for_spec(&spec, None);
                match paths.as_slice() {
                    [one] => Some(format!("{}/{one}", bucket.trim_end_matches('/'))),
                    _ => None,
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Fallback for HttpFallback {
    async fn last_build(&self, job: &str) -> i64 {
        let Some(url) = self.url(job) else {
            tracing::error!(job, "requested job is unknown to prow");
            return 0;
        };
        for _ in 0..10 {
            match self.http.get(&url).send().await {
                Ok(r) if r.status() == reqwest::StatusCode::OK => {
                    let body = r.text().await.unwrap_or_default();
                    return body.trim().parse().unwrap_or(0);
                }
                Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return 0,
                Ok(r) => tracing::warn!(%url, status = %r.status(), "fallback lookup failed"),
                Err(e) => tracing::warn!(%url, error = %e, "fallback lookup failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        0
    }
}

/// The build-number store.
pub struct TotStore {
    path: PathBuf,
    numbers: Mutex<BTreeMap<String, i64>>,
    fallback: Option<Arc<dyn Fallback>>,
}

impl std::fmt::Debug for TotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TotStore {
    /// Loads `path` (a missing file is an empty store).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TotError> {
        let path = path.as_ref().to_path_buf();
        let numbers = match std::fs::read(&path) {
            Ok(buf) => {
                serde_json::from_slice::<Persisted>(&buf)
                    .map_err(|e| TotError::Format {
                        path: path.clone(),
                        message: e.to_string(),
                    })?
                    .number
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(TotError::Io { path, source }),
        };
        Ok(TotStore {
            path,
            numbers: Mutex::new(numbers),
            fallback: None,
        })
    }

    /// Uses `fallback` for jobs not in the store.
    pub fn with_fallback(mut self, fallback: Arc<dyn Fallback>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    fn save(&self, numbers: &BTreeMap<String, i64>) -> Result<(), TotError> {
        let io = |source| TotError::Io {
            path: self.path.clone(),
            source,
        };
        let buf = serde_json::to_vec(&Persisted {
            number: numbers.clone(),
        })
        .map_err(|e| io(std::io::Error::other(e)))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, buf).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// Increments and returns the job's number (Prow logs, rather than fails, a failed save).
    pub async fn vend(&self, job: &str) -> i64 {
        let mut numbers = self.numbers.lock().await;
        let current = match numbers.get(job) {
            Some(n) => *n,
            None => match &self.fallback {
                Some(f) => f.last_build(job).await,
                None => 0,
            },
        };
        let n = current.saturating_add(1);
        numbers.insert(job.to_owned(), n);
        if let Err(e) = self.save(&numbers) {
            tracing::error!(error = %e, "saving tot state failed");
        }
        n
    }

    /// The job's current number.
    pub async fn peek(&self, job: &str) -> i64 {
        self.numbers.lock().await.get(job).copied().unwrap_or(0)
    }

    /// Sets the job's number.
    pub async fn set(&self, job: &str, n: i64) {
        let mut numbers = self.numbers.lock().await;
        numbers.insert(job.to_owned(), n);
        if let Err(e) = self.save(&numbers) {
            tracing::error!(error = %e, "saving tot state failed");
        }
    }
}

/// The `/vend/<job>` router.
pub fn router(store: Arc<TotStore>) -> Router {
    async fn vend(State(s): State<Arc<TotStore>>, UrlPath(job): UrlPath<String>) -> String {
        let n = s.vend(&job).await;
        tracing::info!(job, n, "vending");
        n.to_string()
    }
    async fn peek(State(s): State<Arc<TotStore>>, UrlPath(job): UrlPath<String>) -> String {
        s.peek(&job).await.to_string()
    }
    async fn set(
        State(s): State<Arc<TotStore>>,
        UrlPath(job): UrlPath<String>,
        body: String,
    ) -> StatusCode {
        match body.trim().parse::<i64>() {
            Ok(n) => {
                tracing::info!(job, n, "setting");
                s.set(&job, n).await;
                StatusCode::OK
            }
            Err(_) => {
                tracing::error!(job, "unable to parse number");
                StatusCode::OK
            }
        }
    }
    Router::new()
        .route("/vend/{*job}", get(vend).head(peek).post(set))
        .with_state(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn vend_persists_and_resumes() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("tot.json");
        let s = TotStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.vend("a").await, 1);
        assert_eq!(s.vend("a").await, 2);
        assert_eq!(s.vend("b").await, 1);
        s.set("c", 41).await;
        assert_eq!(s.peek("a").await, 2);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(text, r#"{"Number":{"a":2,"b":1,"c":41}}"#);
        drop(s);
        let s = TotStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.vend("c").await, 42);
        assert_eq!(s.peek("missing").await, 0);

        std::fs::write(&path, "not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            TotStore::open(&path),
            Err(TotError::Format { .. })
        ));
    }

    struct Fixed;
    #[async_trait::async_trait]
    impl Fallback for Fixed {
        async fn last_build(&self, _job: &str) -> i64 {
            100
        }
    }

    #[tokio::test]
    async fn fallback_for_unknown_jobs_only() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = TotStore::open(dir.path().join("t.json"))
            .unwrap_or_else(|e| panic!("{e}"))
            .with_fallback(Arc::new(Fixed));
        s.set("known", 5).await;
        assert_eq!(s.vend("known").await, 6);
        assert_eq!(s.vend("new").await, 101);
        assert_eq!(s.vend("new").await, 102);
    }

    #[test]
    fn fallback_urls() {
        let t = HttpFallback::new(FallbackUrl::Template(
            "https://storage.example.com/logs/%s/latest-build.txt".into(),
        ));
        assert_eq!(
            t.url("ci-x").as_deref(),
            Some("https://storage.example.com/logs/ci-x/latest-build.txt")
        );
        let b = HttpFallback::new(FallbackUrl::Bucket {
            bucket: "https://storage.example.com/bucket/".into(),
            jobs: [
                ("pull-x".to_string(), prow_api::ProwJobType::Presubmit),
                ("ci-y".to_string(), prow_api::ProwJobType::Periodic),
            ]
            .into(),
        });
        assert_eq!(
            b.url("pull-x").as_deref(),
            Some("https://storage.example.com/bucket/pr-logs/directory/pull-x/latest-build.txt")
        );
        assert_eq!(
            b.url("ci-y").as_deref(),
            Some("https://storage.example.com/bucket/logs/ci-y/latest-build.txt")
        );
        assert_eq!(b.url("unknown"), None);
    }

    #[tokio::test]
    async fn http_round_trip_with_client() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store =
            Arc::new(TotStore::open(dir.path().join("tot.json")).unwrap_or_else(|e| panic!("{e}")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let token = tokio_util::sync::CancellationToken::new();
        let server = tokio::spawn(prow_runtime::serve_on(
            listener,
            router(store.clone()),
            token.clone(),
        ));
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let post = http
            .post(format!("{base}/vend/ci-job"))
            .body("10")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(post.status(), reqwest::StatusCode::OK);
        let head = http
            .head(format!("{base}/vend/ci-job"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(head.status(), reqwest::StatusCode::OK);
        assert_eq!(store.peek("ci-job").await, 10, "HEAD does not increment");

        use crate::buildid::{BuildIds, TotClient};
        let client = TotClient::new(&base).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(client.next("ci-job").await.ok().as_deref(), Some("11"));
        assert_eq!(client.next("ci-job").await.ok().as_deref(), Some("12"));
        token.cancel();
        let _ = server.await;
    }
}
