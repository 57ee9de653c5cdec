//! `prow crier` with Prow's flag names.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use prow_jobstore::JobStore;
use prow_runtime::{ConfigArgs, GitHubArgs, InstrumentationArgs, Readiness, parse_go_bool};
use prow_storage::Storage;
use tokio_util::sync::CancellationToken;

use crate::blob::StorageResolver;
use crate::slack::{DEFAULT_API_BASE, SlackClient, parse_token_file_flag};
use crate::{CrierDeps, CrierOptions, Timing};

fn go_bool(s: &str) -> Result<bool, String> {
    parse_go_bool(s)
}

/// `prow crier`.
#[derive(Debug, Clone, clap::Args)]
pub struct CrierArgs {
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// GitHub flags.
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
    /// Number of GitHub report workers (0 disables the GitHub reporter).
    #[arg(long, default_value_t = 0)]
    pub github_workers: usize,
    /// Number of Slack report workers (0 disables the Slack reporter).
    #[arg(long, default_value_t = 0)]
    pub slack_workers: usize,
    /// Slack token file: `path` (default workspace) or `host=path`; repeatable.
    #[arg(long = "slack-token-file")]
    pub slack_token_file: Vec<String>,
    /// Extra Slack token files, `host=path`; repeatable.
    #[arg(long = "additional-slack-token-files")]
    pub additional_slack_token_files: Vec<String>,
    /// Slack Web API base URL.
    #[arg(long, default_value = DEFAULT_API_BASE, hide = true)]
    pub slack_api_url: String,
    /// Number of blob storage report workers (0 disables the gcsreporter).
    #[arg(long, default_value_t = 0)]
    pub blob_storage_workers: usize,
    /// GCS credentials file for the blob reporter.
    #[arg(long, default_value = "")]
    pub gcs_credentials_file: String,
    /// S3 credentials file for the blob reporter.
    #[arg(long, default_value = "")]
    pub s3_credentials_file: String,
    /// Only report jobs of this agent (GitHub and Slack); empty reports all.
    #[arg(long, default_value = "")]
    pub report_agent: String,
    /// Log instead of reporting.
    #[arg(long, default_value = "false", value_parser = go_bool, num_args = 0..=1, default_missing_value = "true")]
    pub dry_run: bool,
    /// Enabled GitHub org (repeatable); when any enabled org/repo is given, others are ignored.
    #[arg(long = "github-enabled-org")]
    pub github_enabled_org: Vec<String>,
    /// Enabled GitHub repo, `org/repo` (repeatable).
    #[arg(long = "github-enabled-repo")]
    pub github_enabled_repo: Vec<String>,
    /// Disabled GitHub org (repeatable).
    #[arg(long = "github-disabled-org")]
    pub github_disabled_org: Vec<String>,
    /// Disabled GitHub repo, `org/repo` (repeatable).
    #[arg(long = "github-disabled-repo")]
    pub github_disabled_repo: Vec<String>,
    /// Where ProwJobs live: `sqlite:PATH` or `memory` here; `kube` stores are opened by the
    /// binary and passed to [`run_with_store`].
    #[arg(long, default_value = "kube")]
    pub job_store: String,
    /// Kubeconfig for the `kube` job store.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

impl CrierArgs {
    /// The reporter options these flags describe.
    pub fn options(&self) -> CrierOptions {
        CrierOptions {
            github_workers: self.github_workers,
            slack_workers: self.slack_workers,
            blob_storage_workers: self.blob_storage_workers,
            report_agent: (!self.report_agent.is_empty()).then(|| self.report_agent.clone()),
            dry_run: self.dry_run,
            enablement: crate::Enablement {
                enabled_orgs: self.github_enabled_org.clone(),
                enabled_repos: self.github_enabled_repo.clone(),
                disabled_orgs: self.github_disabled_org.clone(),
                disabled_repos: self.github_disabled_repo.clone(),
            },
            timing: Timing::default(),
        }
    }

    /// Reads the Slack token files into a host → token map.
    pub fn slack_tokens(&self) -> anyhow::Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        for v in self
            .slack_token_file
            .iter()
            .chain(&self.additional_slack_token_files)
        {
            let (host, path) = parse_token_file_flag(v);
            let token = std::fs::read_to_string(&path)
                .with_context(|| format!("could not read slack token {path}"))?;
            out.insert(host, token.trim().to_owned());
        }
        Ok(out)
    }
}

/// A resolver opening each bucket once with `creds`.
pub fn storage_resolver(creds: prow_storage::Credentials) -> StorageResolver {
    let cache: Mutex<HashMap<String, Arc<dyn Storage>>> = Mutex::default();
    Arc::new(move |bucket: &str| {
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = c.get(bucket) {
            return Ok(s.clone());
        }
        let s = prow_storage::open(bucket, &creds)
            .with_context(|| format!("opening bucket {bucket}"))?;
        c.insert(bucket.to_owned(), s.clone());
        Ok(s)
    })
}

/// `prow crier`: opens the job store (`memory` or `sqlite:PATH`) and runs until SIGTERM/SIGINT.
pub async fn run(args: CrierArgs) -> anyhow::Result<()> {
    let store: Arc<dyn JobStore> = if args.job_store == "memory" {
        Arc::new(prow_jobstore::memory::MemoryStore::new("default"))
    } else if let Some(path) = args.job_store.strip_prefix("sqlite:") {
        Arc::new(
            prow_jobstore::sqlite::SqliteStore::open(path, "default")
                .await
                .map_err(|e| anyhow::anyhow!("opening job store {path}: {e}"))?,
        )
    } else {
        anyhow::bail!(
            "--job-store {:?}: this entry opens memory or sqlite:PATH; the prow binary opens kube stores",
            args.job_store
        );
    };
    run_with_store(args, store, prow_runtime::shutdown_on_signals()).await
}

/// `prow crier` over an already-opened job store.
pub async fn run_with_store(
    args: CrierArgs,
    store: Arc<dyn JobStore>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let opts = args.options();
    let registry = prow_runtime::new_registry();
    let agent = prow_config::ConfigAgent::start(args.config.load_options())
        .map_err(|e| anyhow::anyhow!("error starting config agent: {e}"))?;
    let _watch = agent.watch(Duration::from_secs(60));
    let config = prow_controller::controller::config_from_agent(agent);

    let github: Option<Arc<dyn prow_github::GitHub>> = if opts.github_workers > 0 {
        Some(Arc::new(
            args.github
                .client(args.dry_run, "crier", &registry)
                .context("building the GitHub client")?,
        ))
    } else {
        None
    };
    let slack = if opts.slack_workers > 0 {
        let tokens = args.slack_tokens()?;
        if tokens.is_empty() {
            anyhow::bail!(
                "one of --slack-token-file or --additional-slack-token-files must be set"
            );
        }
        Some(Arc::new(SlackClient::new(&args.slack_api_url, tokens)))
    } else {
        None
    };
    let storage = if opts.blob_storage_workers > 0 {
        let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
        let creds = prow_storage::Credentials::load(
            path(&args.gcs_credentials_file).as_deref(),
            path(&args.s3_credentials_file).as_deref(),
        )
        .context("loading storage credentials")?
        .with_env(prow_storage::Env::from_process());
        Some(storage_resolver(creds))
    } else {
        None
    };

    let ready = Readiness::new();
    prow_runtime::spawn_side_ports(
        &args.instrumentation,
        ready.clone(),
        registry.clone(),
        shutdown.clone(),
    )
    .await
    .context("binding the health and metrics ports")?;
    ready.set_ready();
    crate::run(
        CrierDeps {
            store,
            config,
            registry,
            github,
            slack,
            storage,
        },
        opts,
        shutdown,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: CrierArgs,
    }

    #[test]
    fn parses_prow_flags() {
        let c = Cmd::try_parse_from([
            "crier",
            "--github-workers=5",
            "--slack-workers",
            "2",
            "--slack-token-file=/etc/slack/token",
            "--additional-slack-token-files=other=/etc/other/token",
            "--blob-storage-workers=1",
            "--report-agent=kubernetes",
            "--dry-run",
            "--config-path=/etc/config/config.yaml",
            "--job-store=sqlite:/tmp/x.db",
        ])
        .unwrap();
        let o = c.args.options();
        assert_eq!(
            (o.github_workers, o.slack_workers, o.blob_storage_workers),
            (5, 2, 1)
        );
        assert_eq!(o.report_agent.as_deref(), Some("kubernetes"));
        assert!(o.dry_run);
        assert_eq!(c.args.job_store, "sqlite:/tmp/x.db");
        let d = Cmd::try_parse_from(["crier", "--dry-run=false"]).unwrap();
        assert!(!d.args.options().dry_run);
        assert_eq!(d.args.options().github_workers, 0);
    }

    #[test]
    fn reads_slack_tokens_per_host() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "tok-a\n").unwrap();
        std::fs::write(&b, "tok-b").unwrap();
        let c = Cmd::try_parse_from([
            "crier",
            &format!("--slack-token-file={}", a.display()),
            &format!("--slack-token-file=ws2={}", b.display()),
        ])
        .unwrap();
        let t = c.args.slack_tokens().unwrap();
        assert_eq!(t.get("*").map(String::as_str), Some("tok-a"));
        assert_eq!(t.get("ws2").map(String::as_str), Some("tok-b"));
    }
}
