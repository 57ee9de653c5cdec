//! Job history (`/job-history/<gs|s3>/<bucket>/{logs/<job>|pr-logs/directory/<job>}`) and PR
//! history (`/pr-history?org=&repo=&pr=`) read from the artifact bucket laid out by the pod
//! utilities (`prow_pod_utils::gcs`), as Prow's `job_history.go` and `pr_history.go` do.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use prow_api::{ProwJobType, Pull, Refs};
use prow_pod_utils::gcs::{self as layout, LATEST_BUILD_FILE, NON_PR_LOGS};
use prow_pod_utils::metadata::{FINISHED_FILE, Finished, STARTED_FILE, Started};
use prow_pod_utils::{JobSpec, gcs::paths_for_job};
use prow_storage::Storage;

use crate::StorageResolver;

/// Builds per page.
pub const RESULTS_PER_PAGE: usize = 20;

/// Errors the handlers map to status codes.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The URL is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The bucket is not allowed (403).
    #[error("{0}")]
    NotAllowed(String),
    /// Nothing found (404).
    #[error("{0}")]
    NotFound(String),
    /// Storage failed (500).
    #[error("{0}")]
    Storage(String),
}

/// A parsed job-history URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobHistoryUrl {
    /// `gs` or `s3`.
    pub provider: String,
    /// Bucket name.
    pub bucket: String,
    /// `logs/<job>` or `pr-logs/directory/<job>`.
    pub root: String,
    /// Newest build to show (`buildId`), `None` = latest.
    pub build_id: Option<u64>,
}

/// Parses the path after `/job-history/` and the `buildId` query value (legacy paths without
/// a provider mean `gs`).
pub fn parse_job_history(
    rest: &str,
    build_id: Option<&str>,
) -> Result<JobHistoryUrl, HistoryError> {
    let rest = rest.trim_start_matches('/');
    let full = if rest.starts_with("gs/") || rest.starts_with("s3/") {
        rest.to_owned()
    } else {
        format!("gs/{rest}")
    };
    let mut parts = full.splitn(3, '/');
    let (Some(provider), Some(bucket), Some(root)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(HistoryError::BadRequest(format!(
            "invalid path (expected either /job-history/<gcs-path> or /job-history/<storage-type>/<storage-path>): /job-history/{rest}"
        )));
    };
    if bucket.is_empty() {
        return Err(HistoryError::BadRequest(format!(
            "missing bucket name: /job-history/{rest}"
        )));
    }
    let root = root.trim_end_matches('/');
    // The shared storage-key rules (no dots, empty segments, control characters or
    // backslashes), for the bucket name and the root alike, before anything is opened.
    if let Err(reason) = prow_storage::key::check_relative_path(bucket)
        .and_then(|()| prow_storage::key::check_relative_path(root))
    {
        return Err(HistoryError::BadRequest(format!(
            "invalid path for job: /job-history/{rest}: {reason}"
        )));
    }

    let build_id = match build_id.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(0) => {
                return Err(HistoryError::BadRequest(format!(
                    "invalid value buildId = {s}"
                )));
            }
            Ok(n) => Some(n),
            Err(e) => {
                return Err(HistoryError::BadRequest(format!(
                    "invalid value for buildId: {e}"
                )));
            }
        },
    };
    Ok(JobHistoryUrl {
        provider: provider.to_owned(),
        bucket: bucket.to_owned(),
        root: root.to_owned(),
        build_id,
    })
}

/// One build row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Build {
    /// Build ID.
    pub id: String,
    /// Link to Spyglass.
    pub spyglass_link: String,
    /// Start time.
    pub started: Option<DateTime<Utc>>,
    /// Seconds from start to finish (or to now while running).
    pub duration_secs: Option<i64>,
    /// `SUCCESS`, `FAILURE`, `ABORTED`, `Pending`, `Unknown`…
    pub result: String,
    /// Head commit (from started.json's pull or finished.json's revision).
    pub commit: String,
    /// Job name (PR history).
    pub job: String,
}

/// A job-history page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobHistory {
    /// The root shown as title.
    pub name: String,
    /// Provider, bucket.
    pub provider: String,
    /// Bucket.
    pub bucket: String,
    /// `buildId` of the newer page (`Some(None)` = the latest page).
    pub newer: Option<Option<u64>>,
    /// `buildId` of the older page.
    pub older: Option<u64>,
    /// Link target for "latest" when not on the first page.
    pub latest: bool,
    /// Builds shown, newest first.
    pub builds: Vec<Build>,
    /// Builds in total.
    pub total: usize,
}

/// Prow's `cropResults`: up to a page of IDs `<= top` from `ids` (sorted newest first), with the
/// indexes of the first and last shown.
pub fn crop(ids: &[u64], top: u64) -> (Vec<u64>, Option<usize>, usize) {
    let mut res = Vec::new();
    let mut first = None;
    let mut last = 0;
    for (i, &v) in ids.iter().enumerate() {
        if v <= top {
            res.push(v);
            first.get_or_insert(i);
            last = i;
            if res.len() >= RESULTS_PER_PAGE {
                break;
            }
        }
    }
    (res, first, last)
}

/// Paging links of a page: (newer, older) in Prow's rules.
pub fn paging(
    ids: &[u64],
    first: Option<usize>,
    last: usize,
) -> (Option<Option<u64>>, Option<u64>) {
    let newer = match first {
        Some(f) if f > 0 => Some(f.checked_sub(RESULTS_PER_PAGE).map(|i| ids[i])),
        _ => None,
    };
    let older = if !ids.is_empty() && last < ids.len() - 1 {
        Some(ids[last + 1])
    } else {
        None
    };
    (newer, older)
}

fn storage_err(e: prow_storage::StorageError) -> HistoryError {
    if e.is_not_found() {
        HistoryError::NotFound(e.to_string())
    } else {
        HistoryError::Storage(e.to_string())
    }
}

async fn read(storage: &dyn Storage, key: &str) -> Result<Vec<u8>, HistoryError> {
    prow_storage::upload::read_decoded(storage, key)
        .await
        .map(|b| b.to_vec())
        .map_err(storage_err)
}

fn is_known_bucket(cfg: &prow_config::Config, bucket: &str) -> bool {
    let strip = |b: &str| -> String {
        b.split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(b)
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned()
    };
    let deck = &cfg.prow.deck;
    if deck.additional_allowed_buckets.iter().any(|b| b == bucket) {
        return true;
    }
    let decos = cfg
        .prow
        .plank
        .default_decoration_config_entries
        .iter()
        .filter_map(|e| e.config.as_ref())
        .chain(
            cfg.jobs
                .presubmits
                .values()
                .flatten()
                .filter_map(|p| p.base.utility.decoration_config.as_ref()),
        )
        .chain(
            cfg.jobs
                .postsubmits
                .values()
                .flatten()
                .filter_map(|p| p.base.utility.decoration_config.as_ref()),
        )
        .chain(
            cfg.jobs
                .periodics
                .iter()
                .filter_map(|p| p.base.utility.decoration_config.as_ref()),
        );
    decos
        .filter_map(|d| d.gcs_configuration.as_ref())
        .any(|g| strip(&g.bucket) == bucket)
}

/// Prow's `ValidateStorageBucket` (only when `deck.skip_storage_path_validation: false`), after
/// resolving `deck.spyglass.bucket_aliases`. Returns the bucket to open.
pub fn resolve_bucket(cfg: &prow_config::Config, bucket: &str) -> Result<String, HistoryError> {
    let bucket = cfg
        .prow
        .deck
        .spyglass
        .bucket_aliases
        .get(bucket)
        .cloned()
        .unwrap_or_else(|| bucket.to_owned());
    if cfg.prow.deck.skip_storage_path_validation == Some(false) && !is_known_bucket(cfg, &bucket) {
        return Err(HistoryError::NotAllowed(format!(
            "bucket {bucket:?} not in allowed list"
        )));
    }
    Ok(bucket)
}

/// The commit of a `started.json` pull string `branch:sha,N:sha`.
fn pull_commit(pull: &str) -> Option<String> {
    let (_, rest) = pull.split_once(',')?;
    let (_, sha) = rest.split_once(':')?;
    (sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit())).then(|| sha.to_owned())
}

/// Reads started/finished.json of one build directory.
pub async fn build_data(storage: &dyn Storage, dir: &str, now: DateTime<Utc>) -> Build {
    let mut b = Build {
        result: "Unknown".into(),
        ..Default::default()
    };
    let started: Started = match read(storage, &layout::join(&[dir, STARTED_FILE])).await {
        Ok(raw) => match serde_json::from_slice(&raw) {
            Ok(s) => s,
            Err(_) => return b,
        },
        Err(_) => return b,
    };
    b.started = DateTime::from_timestamp(started.timestamp, 0);
    let mut pull = started.pull.clone();
    let finished: Option<Finished> = read(storage, &layout::join(&[dir, FINISHED_FILE]))
        .await
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok());
    if finished.is_none() {
        b.result = "Pending".into();
        // An unfinished presubmit's pull number is completed from the repos map.
        if let Some(r) = started
            .repos
            .values()
            .find(|r| r.contains(&format!(",{}:", started.pull)))
        {
            pull.clone_from(r);
        }
    }
    if let Some(c) = pull_commit(&pull) {
        b.commit = c;
    }
    if let Some(f) = &finished {
        if !f.revision.is_empty() {
            b.commit.clone_from(&f.revision);
        }
        if !f.result.is_empty() {
            b.result.clone_from(&f.result);
        }
    }
    b.duration_secs = match finished.as_ref().and_then(|f| f.timestamp) {
        Some(ts) => Some(ts - started.timestamp),
        None => Some(now.timestamp() - started.timestamp),
    };
    b
}

/// Build IDs under a job-history root, unsorted.
async fn list_build_ids(storage: &dyn Storage, root: &str) -> Result<Vec<u64>, HistoryError> {
    let prefix = format!("{root}/");
    if root.starts_with(NON_PR_LOGS) {
        let listing = storage
            .list(&prefix, Some("/"))
            .await
            .map_err(storage_err)?;
        Ok(listing
            .prefixes
            .iter()
            .filter_map(|p| p.trim_end_matches('/').rsplit('/').next()?.parse().ok())
            .collect())
    } else {
        let listing = storage.list(&prefix, None).await.map_err(storage_err)?;
        Ok(listing
            .objects
            .iter()
            .filter_map(|o| o.name().strip_suffix(".txt")?.parse().ok())
            .collect())
    }
}

/// The build directory of `id` under `root`: `root/id` for `logs/`, the target of the alias
/// file `root/<id>.txt` for presubmits.
async fn build_dir(storage: &dyn Storage, root: &str, id: u64) -> Result<String, HistoryError> {
    if root.starts_with(NON_PR_LOGS) {
        return Ok(format!("{root}/{id}"));
    }
    let raw = read(storage, &format!("{root}/{id}.txt")).await?;
    let link = String::from_utf8_lossy(&raw).trim().to_owned();
    // `gs://bucket/path` → `path`.
    let path = link
        .split_once("://")
        .map(|(_, rest)| rest.split_once('/').map(|(_, p)| p).unwrap_or(""))
        .unwrap_or(&link);
    Ok(path.trim_matches('/').to_owned())
}

/// Loads one job-history page.
pub async fn job_history(
    resolver: &StorageResolver,
    cfg: &prow_config::Config,
    url: &JobHistoryUrl,
    now: DateTime<Utc>,
) -> Result<JobHistory, HistoryError> {
    let bucket = resolve_bucket(cfg, &url.bucket)?;
    let storage = resolver(&url.provider, &bucket)
        .map_err(|e| HistoryError::Storage(format!("opening bucket: {e:#}")))?;
    let latest_raw = read(
        storage.as_ref(),
        &format!("{}/{LATEST_BUILD_FILE}", url.root),
    )
    .await
    .map_err(|e| HistoryError::NotFound(format!("failed to locate build data: {e}")))?;
    let latest: u64 = String::from_utf8_lossy(&latest_raw)
        .trim()
        .parse()
        .map_err(|e| HistoryError::NotFound(format!("failed to parse latest-build.txt: {e}")))?;
    let top = match url.build_id {
        Some(id) if id <= latest => id,
        _ => latest,
    };
    let mut ids = list_build_ids(storage.as_ref(), &url.root).await?;
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    let (shown, first, last) = crop(&ids, top);
    let (newer, older) = paging(&ids, first, last);
    let builds = join_all(shown.iter().map(|&id| {
        let storage = storage.clone();
        let (provider, bucket, root) = (&url.provider, &bucket, &url.root);
        async move {
            let dir = match build_dir(storage.as_ref(), root, id).await {
                Ok(d) => d,
                Err(_) => {
                    return Build {
                        id: id.to_string(),
                        result: "Unknown".into(),
                        ..Default::default()
                    };
                }
            };
            let mut b = build_data(storage.as_ref(), &dir, now).await;
            b.id = id.to_string();
            b.spyglass_link = format!("/view/{provider}/{bucket}/{dir}");
            b
        }
    }))
    .await;
    Ok(JobHistory {
        name: url.root.clone(),
        provider: url.provider.clone(),
        bucket: url.bucket.clone(),
        newer,
        older,
        latest: top != latest,
        builds,
        total: ids.len(),
    })
}

/// A PR-history page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrHistory {
    /// `org/repo #N`.
    pub name: String,
    /// Link to the PR on GitHub.
    pub link: String,
    /// Jobs with their history links, sorted by name.
    pub jobs: Vec<(String, String)>,
    /// Commits, newest activity first: (sha, short, link, builds per job name).
    pub commits: Vec<PrCommit>,
}

/// One commit of a PR and the builds that ran on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrCommit {
    /// Full SHA (or `Unknown`).
    pub hash: String,
    /// Short SHA for display.
    pub short: String,
    /// GitHub link (empty for unknown).
    pub link: String,
    /// Builds per job name, newest first.
    pub builds: BTreeMap<String, Vec<Build>>,
    latest: Option<DateTime<Utc>>,
}

/// The bucket (`gs://x` / `s3://x`) and PR directory for each presubmit of a repo (Prow's
/// `getStorageDirsForPR`): a job's own `gcs_configuration` or the default decoration config.
pub fn storage_dirs_for_pr(
    cfg: &prow_config::Config,
    org: &str,
    repo: &str,
    pr: u64,
) -> Result<BTreeMap<String, BTreeSet<String>>, HistoryError> {
    let org_repo = format!("{org}/{repo}");
    let presubmits = cfg.jobs.presubmits_for(&org_repo);
    if presubmits.is_empty() {
        return Err(HistoryError::NotFound(format!(
            "couldn't find presubmits for {org_repo:?} in config"
        )));
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in presubmits {
        let gcs = p
            .base
            .utility
            .decoration_config
            .as_ref()
            .and_then(|d| d.gcs_configuration.clone())
            .or_else(|| {
                prow_config::defaults::decoration_defaults(&cfg.prow, &org_repo, &p.base.cluster)
                    .and_then(|d| d.gcs_configuration)
            });
        let Some(gcs) = gcs else {
            return Err(HistoryError::NotFound(format!(
                "no gcs configuration for job {:?}",
                p.base.name
            )));
        };
        let spec = JobSpec {
            job_type: Some(ProwJobType::Presubmit),
            job: p.base.name.clone(),
            refs: Some(Refs {
                org: org.to_owned(),
                repo: repo.to_owned(),
                pulls: vec![Pull {
                    number: pr,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let Ok(paths) = paths_for_job(&gcs, &spec, "") else {
            continue;
        };
        // `…/<pr>/<job>/<build>` with an empty build → the PR directory.
        let dir = layout::clean(&paths.job_base_path);
        let dir = layout::split(&dir).0.trim_end_matches('/').to_owned();
        let bucket = if gcs.bucket.contains("://") {
            gcs.bucket.clone()
        } else {
            format!("gs://{}", gcs.bucket)
        };
        out.entry(bucket).or_default().insert(dir);
    }
    Ok(out)
}

/// Loads the PR history of `org/repo#pr`.
pub async fn pr_history(
    resolver: &StorageResolver,
    cfg: &prow_config::Config,
    github_host: &str,
    org: &str,
    repo: &str,
    pr: u64,
    now: DateTime<Utc>,
) -> Result<PrHistory, HistoryError> {
    let mut out = PrHistory {
        name: format!("{org}/{repo} #{pr}"),
        link: format!("https://{github_host}/{org}/{repo}/pull/{pr}"),
        ..Default::default()
    };
    let dirs = storage_dirs_for_pr(cfg, org, repo, pr)?;
    let mut builds: Vec<Build> = Vec::new();
    let mut jobs: BTreeMap<String, String> = BTreeMap::new();
    for (bucket_url, paths) in dirs {
        let (provider, rest) = bucket_url.split_once("://").unwrap_or(("gs", &bucket_url));
        let bucket = rest.split('/').next().unwrap_or(rest).to_owned();
        let storage: Arc<dyn Storage> = resolver(provider, &bucket)
            .map_err(|e| HistoryError::Storage(format!("opening bucket: {e:#}")))?;
        for path in paths {
            let listing = storage
                .list(&format!("{path}/"), Some("/"))
                .await
                .map_err(storage_err)?;
            for job_prefix in listing.prefixes {
                let job = job_prefix
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                jobs.insert(
                    job.clone(),
                    format!("/job-history/{provider}/{bucket}/pr-logs/directory/{job}"),
                );
                let build_dirs = storage
                    .list(&job_prefix, Some("/"))
                    .await
                    .map(|l| l.prefixes)
                    .unwrap_or_default();
                let loaded = join_all(build_dirs.into_iter().map(|dir| {
                    let storage = storage.clone();
                    let (job, provider, bucket) = (job.clone(), provider, bucket.clone());
                    async move {
                        let dir = dir.trim_end_matches('/').to_owned();
                        let mut b = build_data(storage.as_ref(), &dir, now).await;
                        b.id = dir.rsplit('/').next().unwrap_or("").to_owned();
                        b.spyglass_link = format!("/view/{provider}/{bucket}/{dir}");
                        b.job = job;
                        b
                    }
                }))
                .await;
                builds.extend(loaded);
            }
        }
    }
    let mut commits: HashMap<String, PrCommit> = HashMap::new();
    for b in builds {
        let hash = if b.commit.is_empty() {
            "Unknown".to_owned()
        } else {
            b.commit.clone()
        };
        let c = commits.entry(hash.clone()).or_insert_with(|| PrCommit {
            short: if hash.len() == 40 {
                hash[..7].to_owned()
            } else {
                hash.clone()
            },
            link: if hash.len() == 40 {
                format!("https://{github_host}/{org}/{repo}/commit/{hash}")
            } else {
                String::new()
            },
            hash: hash.clone(),
            ..Default::default()
        });
        if b.started > c.latest {
            c.latest = b.started;
        }
        c.builds.entry(b.job.clone()).or_default().push(b);
    }
    let mut commits: Vec<PrCommit> = commits.into_values().collect();
    for c in &mut commits {
        for v in c.builds.values_mut() {
            v.sort_by_key(|b| std::cmp::Reverse(b.started));
        }
    }
    // Newest activity first; unknown commits last (Prow's `latestCommit` reversed).
    commits.sort_by(|a, b| {
        (b.hash.len() == 40)
            .cmp(&(a.hash.len() == 40))
            .then_with(|| b.latest.cmp(&a.latest))
    });
    out.commits = commits;
    out.jobs = jobs.into_iter().collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_urls() {
        let u = parse_job_history("s3/b/logs/ci-job", Some("42")).unwrap();
        assert_eq!(
            u,
            JobHistoryUrl {
                provider: "s3".into(),
                bucket: "b".into(),
                root: "logs/ci-job".into(),
                build_id: Some(42)
            }
        );
        let legacy =
            parse_job_history("kubernetes-jenkins/pr-logs/directory/pull-x", None).unwrap();
        assert_eq!(legacy.provider, "gs");
        assert_eq!(legacy.bucket, "kubernetes-jenkins");
        assert_eq!(legacy.root, "pr-logs/directory/pull-x");
        assert!(parse_job_history("gs/b", None).is_err());
        assert!(parse_job_history("gs/b/logs/x", Some("0")).is_err());
        assert!(parse_job_history("gs/b/logs/x", Some("abc")).is_err());
        assert!(parse_job_history("gs/b/../etc", None).is_err());
        // The shared attack table: every decoded escape is a 400 before any bucket is opened.
        for bad in [
            "gs/b//etc/passwd",
            "gs/b/logs//x",
            "gs/b/logs/./x",
            "gs/b/a/../../x",
            "gs/b/logs\\..\\x",
            "gs/b/logs/a\u{0}b",
            "gs/../logs/x",
            "gs/b\\c/logs/x",
            "s3/b/..",
        ] {
            assert!(
                matches!(
                    parse_job_history(bad, None),
                    Err(HistoryError::BadRequest(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn crop_and_paging() {
        let ids: Vec<u64> = (1..=45).rev().collect(); // 45..1
        let (shown, first, last) = crop(&ids, 45);
        assert_eq!(shown.len(), 20);
        assert_eq!(shown[0], 45);
        assert_eq!(paging(&ids, first, last), (None, Some(25)));
        let (shown, first, last) = crop(&ids, 25);
        assert_eq!(shown[0], 25);
        // Newer page starts 20 entries before: index 0 → the latest page.
        assert_eq!(paging(&ids, first, last), (Some(Some(45)), Some(5)));
        let (shown, first, last) = crop(&ids, 5);
        assert_eq!(shown, [5, 4, 3, 2, 1]);
        assert_eq!(paging(&ids, first, last), (Some(Some(25)), None));
        let (_, first, last) = crop(&ids, 40);
        assert_eq!(paging(&ids, first, last), (Some(None), Some(20)));
    }

    #[test]
    fn pull_commit_parses_refs_string() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            pull_commit(&format!("main:{sha},12:{sha}")),
            Some(sha.to_owned())
        );
        assert_eq!(pull_commit("12"), None);
    }
}
