//! `prow status-reconciler`: Prow's flags and the standalone entry point. The binary opens the
//! job store named by `--job-store` (it needs crates this one does not depend on) and passes it
//! in, as for `prow controller`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use prow_config::{ConfigAgent, PluginsConfig};
use prow_jobstore::JobStore;
use prow_runtime::{ConfigArgs, GitHubArgs, InstrumentationArgs, Readiness, parse_go_bool};
use tokio_util::sync::CancellationToken;

use crate::delta::Denylist;
use crate::reconcile::{Deps, Metrics, Options, PluginsGetter, StatusReconciler};
use crate::state::StateLocation;

/// Prow's client-side GitHub throttle for status-reconciler (`ThrottlerDefaults(300, 100)`),
/// applied when neither throttle flag is given.
pub const DEFAULT_HOURLY_TOKENS: u32 = 300;
/// See [`DEFAULT_HOURLY_TOKENS`].
pub const DEFAULT_ALLOWED_BURST: u32 = 100;

/// How often config and plugin files are checked for changes.
const RELOAD_PERIOD: Duration = Duration::from_secs(5);

/// Flags of `prow status-reconciler`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusReconcilerArgs {
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Path to plugins.yaml (the trigger plugin's trust settings).
    #[arg(long, default_value = "/etc/plugins/plugins.yaml")]
    pub plugin_config: PathBuf,
    /// GitHub flags.
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Where the last reconciled config is kept: a local path, `gs://bucket/object` or
    /// `s3://bucket/object` (empty: memory only, so every start records the config without
    /// acting).
    #[arg(long, default_value = "")]
    pub status_path: String,
    /// GCS credentials for a `gs://` `--status-path`.
    #[arg(long)]
    pub gcs_credentials_file: Option<PathBuf>,
    /// S3 credentials for an `s3://` `--status-path`.
    #[arg(long)]
    pub s3_credentials_file: Option<PathBuf>,
    /// Keep going when a repository, PR or context fails.
    #[arg(long, default_value = "false", value_parser = parse_go_bool, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub continue_on_error: bool,
    /// Org or org/repo for which new presubmits are not triggered (repeatable).
    #[arg(long = "denylist")]
    pub denylist: Vec<String>,
    /// Org or org/repo that is not reconciled at all (repeatable).
    #[arg(long = "denylist-all")]
    pub denylist_all: Vec<String>,
    /// Make no mutating calls (Prow's default is true; production passes `--dry-run=false`).
    #[arg(long, default_value = "true", value_parser = parse_go_bool, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub dry_run: bool,
    /// Where ProwJobs are created: `kube`, `sqlite:PATH` or `memory` (opened by the binary).
    #[arg(long, default_value = "kube")]
    pub job_store: String,
    /// Kubeconfig for the `kube` job store (default: $KUBECONFIG, then in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
}

impl StatusReconcilerArgs {
    /// The reconciler options these flags describe (reads the storage credentials files).
    pub fn options(&self) -> anyhow::Result<Options> {
        let creds = prow_storage::Credentials::load(
            self.gcs_credentials_file.as_deref(),
            self.s3_credentials_file.as_deref(),
        )
        .context("reading storage credentials")?
        .with_env(prow_storage::Env::from_process());
        Ok(Options {
            state: StateLocation::parse(&self.status_path, &creds)?,
            denylist: Denylist::new(self.denylist.clone(), self.denylist_all.clone()),
            continue_on_error: self.continue_on_error,
            dry_run: self.dry_run,
            ..Options::default()
        })
    }
}

/// What `run` needs besides flags.
pub struct RunDeps {
    /// Where ProwJobs are created (from `--job-store`).
    pub store: Arc<dyn JobStore>,
    /// Where metrics are registered (served on `--metrics-port`).
    pub registry: prometheus::Registry,
}

/// `prow status-reconciler`: loads config and plugins (reloading both on change), builds the
/// GitHub client, serves health and metrics, and reconciles until `shutdown`.
pub async fn run(
    args: StatusReconcilerArgs,
    deps: RunDeps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let opts = args.options()?;
    let agent = ConfigAgent::start(args.config.load_options())
        .map_err(|e| anyhow::anyhow!("error starting config agent: {e}"))?;
    let _watch = agent.watch(RELOAD_PERIOD);
    let plugins = plugins_getter(&args.plugin_config, shutdown.clone())?;

    let mut github = args.github.clone();
    if github.github_hourly_tokens == 0 && github.github_allowed_burst == 0 {
        github.github_hourly_tokens = DEFAULT_HOURLY_TOKENS;
        github.github_allowed_burst = DEFAULT_ALLOWED_BURST;
    }
    let client = github
        .client(args.dry_run, "status-reconciler", &deps.registry)
        .context("error getting GitHub client")?;
    let metrics = Metrics::new(&deps.registry).context("registering metrics")?;

    let ready = Readiness::new();
    prow_runtime::spawn_side_ports(
        &args.instrumentation,
        ready.clone(),
        deps.registry.clone(),
        shutdown.clone(),
    )
    .await
    .context("binding the health and metrics ports")?;
    let agent_for_getter = agent.clone();
    let reconciler = StatusReconciler::new(
        Deps {
            github: Arc::new(client),
            jobs: deps.store,
            config: Arc::new(move || agent_for_getter.config()),
            plugins,
            clock: Arc::new(chrono::Utc::now),
        },
        opts,
    )
    .with_metrics(metrics);
    ready.set_ready();
    tracing::info!(dry_run = args.dry_run, "status-reconciler started");
    reconciler.run(shutdown).await;
    Ok(())
}

/// Loads plugins.yaml now (failing if it does not load) and reloads it in the background when
/// its modification time changes, keeping the last good version on errors.
fn plugins_getter(path: &Path, shutdown: CancellationToken) -> anyhow::Result<PluginsGetter> {
    let load = |p: &Path| {
        prow_config::load_plugins(p, false)
            .map_err(|e| anyhow::anyhow!("error loading plugin config {}: {e}", p.display()))
    };
    let current = Arc::new(RwLock::new(Arc::new(load(path)?)));
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let (watched, path_owned) = (current.clone(), path.to_owned());
    tokio::spawn(async move {
        let mut last: Option<SystemTime> = mtime(&path_owned);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(RELOAD_PERIOD) => {}
            }
            let now = mtime(&path_owned);
            if now == last {
                continue;
            }
            last = now;
            match load(&path_owned) {
                Ok(cfg) => {
                    if let Ok(mut g) = watched.write() {
                        *g = Arc::new(cfg);
                    }
                    tracing::info!(path = %path_owned.display(), "plugin config reloaded");
                }
                Err(e) => {
                    tracing::error!(error = %e, "plugin config reload failed; keeping the previous one")
                }
            }
        }
    });
    Ok(Arc::new(move || -> Arc<PluginsConfig> {
        current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        args: StatusReconcilerArgs,
    }

    #[test]
    fn prow_flags_and_defaults() {
        let a = Cmd::try_parse_from(["x"]).map(|c| c.args);
        let Ok(a) = a else {
            panic!("defaults parse: {:?}", a.err())
        };
        assert!(a.dry_run, "Prow defaults --dry-run to true");
        assert!(!a.continue_on_error);
        assert_eq!(a.status_path, "");
        assert_eq!(a.plugin_config, PathBuf::from("/etc/plugins/plugins.yaml"));
        assert_eq!(
            a.config.config_path,
            PathBuf::from("/etc/config/config.yaml")
        );
        assert!(a.options().is_ok_and(|o| o.state.is_none()));

        let a = Cmd::try_parse_from([
            "x",
            "--status-path=/var/state/status.yaml",
            "--continue-on-error=true",
            "--denylist=acme",
            "--denylist",
            "acme/widgets",
            "--denylist-all=other/repo",
            "--dry-run=false",
            "--job-store=sqlite:/tmp/x.db",
        ])
        .map(|c| c.args);
        let Ok(a) = a else {
            panic!("flags parse: {:?}", a.err())
        };
        assert!(!a.dry_run);
        assert!(a.continue_on_error);
        let Ok(o) = a.options() else {
            panic!("options")
        };
        assert!(
            matches!(&o.state, Some(StateLocation::File(p)) if p == Path::new("/var/state/status.yaml"))
        );
        assert!(o.denylist.blocks_added("acme/anything"));
        assert!(!o.denylist.blocks_all("acme/widgets"));
        assert!(o.denylist.blocks_all("other/repo"));
        assert!(o.continue_on_error && !o.dry_run);
    }

    #[test]
    fn bucket_status_paths_open_the_object() {
        let a = Cmd::try_parse_from([
            "x",
            "--status-path=s3://status-reconciler/status-reconciler-status",
        ])
        .map(|c| c.args);
        let Ok(a) = a else { panic!("parse") };
        let o = a.options();
        let Ok(Options {
            state: Some(StateLocation::Object { storage, key }),
            ..
        }) = o
        else {
            panic!("expected an object location: {:?}", o.err())
        };
        assert_eq!(key, "status-reconciler-status");
        assert_eq!(
            storage.object_url(&key),
            "s3://status-reconciler/status-reconciler-status"
        );
        let a = Cmd::try_parse_from(["x", "--status-path=gs://bucket"]).map(|c| c.args);
        let Ok(a) = a else { panic!("parse") };
        let err = a.options().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("<bucket>/<object>"), "{err}");
    }
}
