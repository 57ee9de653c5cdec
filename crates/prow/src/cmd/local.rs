//! `prow local`: the all-in-one mode. Every component in one process over one SQLite job store:
//! hook (with the plugins), the controller (plank) running jobs as local processes, horologium,
//! sinker; artifacts in a `file://` bucket under `--data-dir`; one HTTP listener routed like
//! Prow's ingress (`POST /hook` → hook, the rest → the job list and artifacts).
//!
//! Without GitHub credentials it runs the GitHub simulator in-process (seeded from `--seed`, or
//! the embedded example world) and serves it under `/fake-github/`, so a fresh machine gets a
//! working forge, webhooks and all, with no setup.
//!
//! Jobs run in a bubblewrap sandbox that hides the data dir, the secret files and the config
//! paths given here (see `prow_executor::local::sandbox`). Without a working bubblewrap every job
//! ends in `error` saying how to fix it, unless `--unsafe-unsandboxed-jobs` is given, which is
//! logged as a warning at start and shown in Deck's header.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use prow_config::{ConfigAgent, LoadOptions, PluginsConfig, load_plugins};
use prow_controller::buildid::Snowflake;
use prow_controller::controller::{self, ConfigGetter, Context};
use prow_controller::leader::{FileLock, LeaderTiming, run_as_leader};
use prow_executor::Executor;
use prow_executor::local::{LocalExecutor, LocalOptions, SandboxMode};
use prow_github::GitHub;
use prow_github::hmac::HmacSecrets;
use prow_hook::{EventLog, Hook, HookMetrics, PluginDispatch};
use prow_jobstore::JobStore;
use prow_plugins::{Dispatcher, PluginDeps};
use prow_runtime::{GitHubArgs, InstrumentationArgs, Readiness};
use tokio_util::sync::CancellationToken;

const DEMO_CONFIG: &str = include_str!("../../../../examples/config.yaml");
const DEMO_JOBS: &str = include_str!("../../../../examples/jobs/example-repo.yaml");
const DEMO_PLUGINS: &str = include_str!("../../../../examples/plugins.yaml");
const DEMO_SEED: &str = include_str!("../../../../examples/fake-github-seed.yaml");

/// Flags of `prow local`.
#[derive(Debug, Clone, clap::Args)]
pub struct LocalArgs {
    /// config.yaml (default: the embedded example deployment).
    #[arg(long)]
    pub config_path: Option<PathBuf>,
    /// Job config file or directory.
    #[arg(long)]
    pub job_config_path: Option<PathBuf>,
    /// plugins.yaml.
    #[arg(long)]
    pub plugin_config: Option<PathBuf>,
    /// Where the job store, event log, run directories and artifacts live.
    #[arg(long, default_value = "prow-data")]
    pub data_dir: PathBuf,
    /// The one HTTP port: `POST /hook` and the web pages.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind (the main port, and the health and metrics ports).
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Another host name the web listener answers to (repeatable; `name` or `name:port`, `*`
    /// for any). By default only `localhost`, `127.0.0.1`, `[::1]` and `--address` are
    /// served, against DNS rebinding; `POST /hook` answers to any name.
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// HMAC secret file (real GitHub mode); the simulator mode generates one.
    #[arg(long)]
    pub hmac_secret_file: Option<PathBuf>,
    /// GitHub OAuth app for Deck's login (real GitHub mode; the simulator provides its own).
    #[arg(long)]
    pub github_oauth_config_file: Option<PathBuf>,
    /// Seed for the in-process GitHub simulator (used when no GitHub credentials are given).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Jobs running at once.
    #[arg(long, default_value_t = 4)]
    pub max_parallel: usize,
    /// Run jobs WITHOUT a sandbox, as plain processes with this user's rights: they can read
    /// the data dir and every secret, write wherever this user can and reach every local port.
    /// Only for machines where bubblewrap cannot work; logged at start and shown in Deck.
    #[arg(long)]
    pub unsafe_unsandboxed_jobs: bool,
    /// The bubblewrap binary sandboxing jobs (default: `bwrap` on PATH).
    #[arg(long)]
    pub bwrap_path: Option<PathBuf>,
    /// Mutations for real (`--dry-run=true` makes GitHub read-only).
    #[arg(long, default_value = "false", num_args = 0..=1, default_missing_value = "true",
          require_equals = true, value_parser = prow_runtime::parse_go_bool)]
    pub dry_run: bool,
    /// GitHub flags (give a token or App to use real GitHub instead of the simulator).
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
}

struct Paths {
    config: PathBuf,
    jobs: Option<PathBuf>,
    plugins: PathBuf,
}

/// Writes the embedded demo deployment under the data dir (so the config agent reloads edits).
fn demo_files(data: &Path) -> anyhow::Result<Paths> {
    let dir = data.join("demo-config");
    std::fs::create_dir_all(dir.join("jobs"))?;
    let write = |p: PathBuf, text: &str| -> anyhow::Result<PathBuf> {
        if !p.exists() {
            std::fs::write(&p, text)?;
        }
        Ok(p)
    };
    Ok(Paths {
        config: write(dir.join("config.yaml"), DEMO_CONFIG)?,
        jobs: Some({
            write(dir.join("jobs/example-repo.yaml"), DEMO_JOBS)?;
            dir.join("jobs")
        }),
        plugins: write(dir.join("plugins.yaml"), DEMO_PLUGINS)?,
    })
}

/// `prow local`.
pub async fn run(a: LocalArgs) -> anyhow::Result<()> {
    prow_runtime::init_tracing(false);
    let shutdown = prow_runtime::shutdown_on_signals();
    run_with_shutdown(a, shutdown).await
}

/// `prow local` until `shutdown`.
pub async fn run_with_shutdown(a: LocalArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    let data = a.data_dir.clone();
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let data = data.canonicalize()?;
    let paths = match &a.config_path {
        Some(c) => Paths {
            config: c.clone(),
            jobs: a.job_config_path.clone(),
            plugins: a
                .plugin_config
                .clone()
                .unwrap_or_else(|| data.join("no-plugins.yaml")),
        },
        None => demo_files(&data)?,
    };
    if !paths.plugins.exists() {
        std::fs::write(&paths.plugins, "{}\n")?;
    }
    let registry = prow_runtime::new_registry();
    let agent = ConfigAgent::start(LoadOptions {
        config_path: paths.config.clone(),
        job_config_path: paths.jobs.clone(),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let _watch = agent.watch(Duration::from_secs(5));
    let namespace = agent.config().prow.prowjob_namespace.clone();
    let store: Arc<dyn JobStore> = Arc::new(
        prow_jobstore::sqlite::SqliteStore::open_in_dir(&data, &namespace)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );

    // GitHub: real when credentials are given, else the simulator, served on this listener.
    let sim_base = format!("http://127.0.0.1:{}/fake-github", a.port);
    let real = a.github.github_token_path.is_some() || a.github.github_app_id.is_some();
    let (github, secrets, fake): (
        Arc<dyn GitHub>,
        HmacSecrets,
        Option<prow_github_fake::FakeGitHub>,
    ) = if real {
        let file = a
            .hmac_secret_file
            .as_ref()
            .context("--hmac-secret-file is required with real GitHub credentials")?;
        let secrets = prow_hook::cli::read_secrets(file)?;
        (
            Arc::new(a.github.client(a.dry_run, "local", &registry)?),
            secrets,
            None,
        )
    } else {
        let seed = match &a.seed {
            Some(p) => {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
            }
            None => DEMO_SEED.to_owned(),
        };
        let parsed = prow_github_fake::Seed::from_yaml(&seed)?;
        let bot = parsed
            .users
            .iter()
            .find(|u| u.kind == prow_github_fake::UserKind::Bot)
            .map(|u| u.login.clone())
            .context("the simulator seed needs a user with `type: Bot` for Prow")?;
        let fake = prow_github_fake::FakeGitHub::from_seed(parsed)?;
        let secret = uuid::Uuid::new_v4().to_string();
        fake.set_webhook(&format!("http://127.0.0.1:{}/hook", a.port), &secret);
        fake.set_base_urls(&sim_base, &sim_base);
        (
            Arc::new(fake.client(&bot)),
            HmacSecrets::Single(secret),
            Some(fake),
        )
    };

    // hook.
    let plugins_cfg: PluginsConfig =
        load_plugins(&paths.plugins, false).map_err(|e| anyhow::anyhow!("{e}"))?;
    let plugins = Arc::new(ArcSwap::from_pointee(plugins_cfg));
    {
        let p = plugins.clone();
        prow_hook::cli::watch_file(
            paths.plugins.clone(),
            Duration::from_secs(5),
            shutdown.clone(),
            |path| load_plugins(path, false).map_err(|e| anyhow::anyhow!("{e}")),
            move |cfg| p.store(Arc::new(cfg)),
        );
    }
    let deps = PluginDeps::new(
        github.clone(),
        store.clone(),
        agent.clone(),
        plugins.clone(),
    )
    .await?;
    let hook = Hook::new(
        secrets,
        plugins.clone(),
        EventLog::open(&data.join("hook-events.sqlite"))?,
        Arc::new(PluginDispatch(Dispatcher::new(
            deps,
            prow_plugins::registry(),
        ))),
        HookMetrics::new(&registry)?,
    );
    hook.resume().await?;

    // Executor: local processes, artifacts in a file:// bucket.
    let artifacts = data.join("artifacts");
    std::fs::create_dir_all(&artifacts)?;
    let storage = prow_storage::open(
        &format!("file://{}", artifacts.display()),
        &Default::default(),
    )?;
    let mut opts = LocalOptions::new(data.join("runs"), storage.clone());
    opts.max_parallel = a.max_parallel.max(1);
    opts.sandbox = match (&a.bwrap_path, a.unsafe_unsandboxed_jobs) {
        (_, true) => SandboxMode::Unsandboxed,
        (Some(p), false) => SandboxMode::BubblewrapAt(p.clone()),
        (None, false) => SandboxMode::Bubblewrap,
    };
    opts.hidden_paths
        .extend(hidden_from_jobs(&a, &data, &paths));
    if let Some(fake) = &fake {
        let fake = fake.clone();
        opts.clone_base = Arc::new(move |org: &str, repo: &str| {
            fake.git_dir(org, repo)
                .map(|p| p.to_string_lossy().into_owned())
        });
    }
    let hidden = opts.hidden_paths.clone();
    let local_executor = LocalExecutor::new(opts);
    let banner = sandbox_banner(&local_executor, &hidden);
    let executor: Arc<dyn Executor> = Arc::new(local_executor);

    let config: ConfigGetter = {
        let agent = agent.clone();
        Arc::new(move || agent.config())
    };
    let metrics = Arc::new(prow_controller::metrics::JobMetrics::new(&registry)?);
    let ctx = Arc::new(
        Context::new(
            store.clone(),
            executor.clone(),
            Arc::new(Snowflake::default()),
            config.clone(),
        )
        .with_metrics(metrics),
    );

    // tide: merges from the same store; batches are test-merged in clones of the simulator's repos.
    let tide = {
        let mut opts = prow_tide::TideOptions {
            dry_run: a.dry_run,
            history_path: Some(data.join("tide-history.json")),
            status_path: Some(data.join("tide-status.json")),
            ..Default::default()
        };
        if let Some(fake) = &fake {
            let fake = fake.clone();
            opts.clone_source = Some(Arc::new(move |org: &str, repo: &str| {
                fake.git_dir(org, repo)
                    .map(|p| p.to_string_lossy().into_owned())
            }));
        }
        prow_tide::run(
            prow_tide::TideDeps {
                github: github.clone(),
                store: store.clone(),
                config: config.clone(),
                registry: registry.clone(),
            },
            opts,
            shutdown.clone(),
        )
        .await?
    };
    // Deck (with Spyglass and login) on the same listener.
    let deck = super::local_web::deck(
        super::local_web::LocalDeck {
            data: &data,
            store: store.clone(),
            config: config.clone(),
            plugins: {
                let plugins = plugins.clone();
                Arc::new(move || plugins.load_full())
            },
            tide: tide.clone(),
            hook: hook.clone(),
            bucket: storage.clone(),
            github: github.clone(),
            fake: fake.as_ref(),
            oauth_file: a.github_oauth_config_file.as_deref(),
            github_api: match &fake {
                Some(_) => sim_base.clone(),
                None => a
                    .github
                    .github_endpoint
                    .first()
                    .cloned()
                    .unwrap_or_else(|| prow_github::client::DEFAULT_ENDPOINT.to_owned()),
            },
            dry_run: a.dry_run,
            banner,
        },
        shutdown.clone(),
    )
    .await?;

    // HTTP: one listener routed like Prow's ingress.
    let mut app = hook
        .webhook_routes("/hook")
        .merge(deck.router())
        .merge(super::local_artifacts::router(artifacts.clone()));
    // Tide's own `/` and `/history` (Deck reads them in-process).
    app = app.nest("/tide-api", prow_tide::http::router(tide.clone()));
    if let Some(fake) = &fake {
        app = app.nest("/fake-github", prow_github_fake::router(fake.clone()));
    }
    // Only the configured host names (DNS rebinding), then CSP/nosniff/no-framing on every
    // answer, with the sandbox policy for the raw artifacts.
    let allowed = Arc::new(super::local_host::AllowedHosts::new(
        &a.address,
        &a.allowed_hosts,
    ));
    let app = app.layer(axum::middleware::from_fn(move |req, next| {
        super::local_host::guard(allowed.clone(), req, next)
    }));
    let app = prow_runtime::headers::with_security_headers(app, &["/artifacts"]);
    let listener = tokio::net::TcpListener::bind((a.address.as_str(), a.port))
        .await
        .with_context(|| format!("binding {}:{}", a.address, a.port))?;
    let ready = Readiness::new();
    prow_runtime::spawn_side_ports_on(
        &a.address,
        &a.instrumentation,
        ready.clone(),
        registry.clone(),
        shutdown.clone(),
    )
    .await?;

    let mut tasks = tokio::task::JoinSet::new();
    {
        let s = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = prow_runtime::serve_on(listener, app, s).await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
    }
    {
        let (h, s) = (hook.clone(), shutdown.clone());
        tasks.spawn(async move { h.process(64, s, Duration::from_secs(30)).await });
    }
    {
        // One controller per data dir, even if two `prow local` are started on it.
        let lock = FileLock::new(
            data.join("controller.lock"),
            &uuid::Uuid::new_v4().to_string(),
        );
        let s = shutdown.clone();
        tasks.spawn(async move {
            run_as_leader(&lock, LeaderTiming::default(), s, move |token| {
                controller::run(ctx.clone(), token)
            })
            .await
        });
    }
    tasks.spawn(prow_controller::horologium::run(
        store.clone(),
        config.clone(),
        false,
        shutdown.clone(),
    ));
    tasks.spawn(prow_controller::sinker::run(
        store.clone(),
        executor.clone(),
        config.clone(),
        None,
        false,
        false,
        shutdown.clone(),
    ));
    // crier: GitHub statuses and the failure table, plus started/finished/prowjob.json for jobs
    // that never ran, into the local bucket.
    {
        let bucket = storage.clone();
        let deps = prow_crier::CrierDeps {
            store: store.clone(),
            config: config.clone(),
            registry: registry.clone(),
            github: Some(github.clone()),
            slack: None,
            storage: Some(Arc::new(move |_bucket: &str| Ok(bucket.clone()))),
        };
        let opts = prow_crier::CrierOptions {
            github_workers: 4,
            blob_storage_workers: 1,
            dry_run: a.dry_run,
            ..Default::default()
        };
        let s = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = prow_crier::run(deps, opts, s).await {
                tracing::error!(error = %e, "crier failed");
            }
        });
    }
    // status-reconciler: reacts to job-config edits under the data dir's config.
    {
        let plugins = plugins.clone();
        let reconciler = prow_status_reconciler::StatusReconciler::new(
            prow_status_reconciler::Deps {
                github: github.clone(),
                jobs: store.clone(),
                config: config.clone(),
                plugins: Arc::new(move || plugins.load_full()),
                clock: Arc::new(chrono::Utc::now),
            },
            prow_status_reconciler::Options {
                state: Some(prow_status_reconciler::StateLocation::File(
                    data.join("status-reconciler.yaml"),
                )),
                continue_on_error: true,
                dry_run: a.dry_run,
                ..Default::default()
            },
        );
        tasks.spawn(reconciler.run(shutdown.clone()));
    }
    ready.set_ready();
    tracing::info!(
        url = %format!("http://{}:{}/", a.address, a.port),
        data_dir = %data.display(),
        github = if real { "real" } else { "simulator at /fake-github" },
        "prow local is up"
    );
    shutdown.cancelled().await;
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// What jobs must not see: the data dir (store, event log, cookie secret, run directories of
/// other jobs), every secret file and every config path this process was given.
fn hidden_from_jobs(a: &LocalArgs, data: &Path, paths: &Paths) -> Vec<PathBuf> {
    let mut out = vec![
        data.to_path_buf(),
        paths.config.clone(),
        paths.plugins.clone(),
    ];
    out.extend(
        [
            &paths.jobs,
            &a.seed,
            &a.hmac_secret_file,
            &a.github_oauth_config_file,
            &a.github.github_token_path,
            &a.github.github_app_private_key_path,
        ]
        .into_iter()
        .flatten()
        .cloned(),
    );
    out
}

/// Logs how jobs will run, loudly when they are unsandboxed or refused, and returns Deck's
/// header warning for those two cases.
fn sandbox_banner(executor: &LocalExecutor, hidden: &[PathBuf]) -> Option<String> {
    match executor.sandbox_status() {
        Ok(Some(b)) => {
            tracing::info!(
                bwrap = %b.program.display(),
                hidden = ?hidden,
                "jobs run in a bubblewrap sandbox: no network unless they ask, only their run \
                 directory writable, these paths hidden"
            );
            None
        }
        Ok(None) => {
            tracing::warn!(
                "UNSAFE: --unsafe-unsandboxed-jobs: jobs run WITHOUT a sandbox, as plain \
                 processes with this user's rights; any job can read the data dir and every \
                 secret, write wherever this user can and reach every local port"
            );
            Some(
                "Unsafe: jobs run without a sandbox (--unsafe-unsandboxed-jobs). Any job can \
                 read this machine's files and Prow's secrets, write where Prow can and reach \
                 every local port."
                    .into(),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "no sandbox for jobs: every job will end in error");
            Some(format!("Jobs are not run: {e}"))
        }
    }
}
