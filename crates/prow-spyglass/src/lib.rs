//! Spyglass: Deck's artifact viewer for one build (`/view/...`), re-implemented.
//!
//! [`Spyglass::router`] serves
//! * `GET /view/{gs|gcs|s3|file|prowjob}/...` — the build page: job, build, state, links to
//!   job/PR history and artifacts, then one section per applicable lens (configured in
//!   `deck.spyglass.lenses`, legacy `viewers`, or the defaults metadata / buildlog / junit /
//!   podinfo / links), then the artifact list. Lenses are rendered server-side into the page
//!   (Prow uses one iframe per lens); see [`key`] for the accepted paths and bucket checks.
//! * `GET /spyglass/buildlog/range?src=&artifact=&start=&end=[&line=&count=]&dir=down|up|all&n=`
//!   — an HTML fragment revealing part of a folded build-log run (the expanders).
//! * `GET|POST /spyglass/lens/{lens}/{initial|rerender|callback}?req=<json>` — Prow's lens
//!   endpoint, kept for compatibility (`callback` is the buildlog line loader).
//! * `GET /spyglass/raw?src=&file=` — one artifact, streamed.
//! * `GET /spyglass/static/{spyglass.css,spyglass.js}`.
//!
//! Large build logs are never read whole: see [`buildlog`] for the window design and its
//! line-numbering rules.
//!
//! Dependencies come in as a [`ConfigGetter`], a [`StorageResolver`] (bucket → store) and an
//! optional job store (for `/view/prowjob/<job>/<build>` and the ProwJob state and links).

pub mod ansi;
pub mod buildlog;
pub mod html;
pub mod junit;
pub mod key;
pub mod lens;
pub mod links;
pub mod metadata;
pub mod podinfo;
mod server;
pub mod view;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use key::{BucketPolicy, KeyError, StorageSrc, ViewKey};
pub use server::{BenchReport, ViewError, ViewResponse, bench_first_screen};

/// The current config (shared alias across Deck crates).
pub type ConfigGetter = Arc<dyn Fn() -> Arc<prow_config::Config> + Send + Sync>;

/// Opens the store of a bucket: `(provider, bucket)` with provider `gs`, `s3` or `file` (for
/// `file`, the bucket is the absolute directory). Production:
/// `prow_storage::open(&format!("{provider}://{bucket}"), &creds)`.
pub type StorageResolver =
    Arc<dyn Fn(&str, &str) -> anyhow::Result<Arc<dyn prow_storage::Storage>> + Send + Sync>;

/// Current time (injected so elapsed times are testable).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Who is logged in, from the request headers (for the top bar only; no authorization is
/// derived from it). The default reads Prow's plain `github_login` cookie.
pub type UserLookup = Arc<dyn Fn(&http::HeaderMap) -> Option<String> + Send + Sync>;

/// The Spyglass service; cheap to clone.
#[derive(Clone)]
pub struct Spyglass {
    pub(crate) config: ConfigGetter,
    pub(crate) storage: StorageResolver,
    pub(crate) jobs: Option<Arc<dyn prow_jobstore::JobStore>>,
    pub(crate) clock: Clock,
    pub(crate) user: UserLookup,
}

impl std::fmt::Debug for Spyglass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spyglass")
            .field("jobs", &self.jobs.is_some())
            .finish_non_exhaustive()
    }
}

/// The `github_login` cookie value, if any (Prow sets it at login).
pub fn github_login_cookie(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "github_login")
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 39
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl Spyglass {
    /// A Spyglass over the given config, buckets and (optionally) job store.
    pub fn new(
        config: ConfigGetter,
        storage: StorageResolver,
        jobs: Option<Arc<dyn prow_jobstore::JobStore>>,
    ) -> Self {
        Spyglass {
            config,
            storage,
            jobs,
            clock: Arc::new(Utc::now),
            user: Arc::new(github_login_cookie),
        }
    }

    /// Use `clock` for "now".
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Use `user` to show the login state (e.g. Deck's session lookup).
    pub fn with_user_lookup(mut self, user: UserLookup) -> Self {
        self.user = user;
        self
    }

    /// The HTTP routes (see the crate docs).
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_cookie() {
        let mut h = http::HeaderMap::new();
        assert_eq!(github_login_cookie(&h), None);
        h.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("a=b; github_login=octo-cat; c=d"),
        );
        assert_eq!(github_login_cookie(&h).as_deref(), Some("octo-cat"));
        h.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("github_login=<script>"),
        );
        assert_eq!(github_login_cookie(&h), None);
    }
}
