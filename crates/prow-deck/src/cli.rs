//! `prow deck`: Prow's Deck flags and the standalone entry point. The binary builds the job
//! store (and, when OAuth is configured, the auth layer and Spyglass router from their crates)
//! and passes them in, like `prow controller` does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use prow_jobstore::JobStore;
use prow_runtime::{GitHubArgs, InstrumentationArgs, Readiness, spawn_side_ports};
use tokio_util::sync::CancellationToken;

use crate::{
    ConfigGetter, Deck, DeckAuth, DeckDeps, DeckOptions, HttpPluginHelpSource, HttpTideSource,
    PluginsGetter, StorageResolver,
};

pub use prow_runtime::ConfigArgs;

/// `prow deck` flags (Prow's names and defaults).
#[derive(Debug, Clone, clap::Args)]
pub struct DeckArgs {
    /// Config files.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// GitHub client flags (team checks, PR data).
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Health and metrics ports.
    #[command(flatten)]
    pub instrumentation: InstrumentationArgs,
    /// `plugins.yaml`, served at `/plugin-config`.
    #[arg(long)]
    pub plugin_config: Option<PathBuf>,
    /// Port Deck serves on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Tide's URL (e.g. `http://tide/`); empty = no Tide data.
    #[arg(long, default_value = "")]
    pub tide_url: String,
    /// Hook's plugin-help URL (e.g. `http://hook:8888/plugin-help`).
    #[arg(long, default_value = "")]
    pub hook_url: String,
    /// Path of the user dashboard endpoint; enables OAuth (e.g. `/github-login`).
    #[arg(long, default_value = "")]
    pub oauth_url: String,
    /// GitHub OAuth app config (YAML).
    #[arg(long, default_value = "/etc/github/secret")]
    pub github_oauth_config_file: PathBuf,
    /// Cookie secret file (base64 of 32 bytes).
    #[arg(long, default_value = "")]
    pub cookie_secret: String,
    /// Host to redirect http→https to when `X-Forwarded-Proto: http`.
    #[arg(long, default_value = "")]
    pub redirect_http_to: String,
    /// Show only hidden jobs.
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub hidden_only: bool,
    /// Show hidden jobs too.
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub show_hidden: bool,
    /// Tenant IDs whose jobs this Deck shows (repeatable).
    #[arg(long = "tenant-id")]
    pub tenant_id: Vec<String>,
    /// Serve Spyglass (`/view/…`).
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub spyglass: bool,
    /// `POST /rerun` creates the job.
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub rerun_creates_job: bool,
    /// Allow insecure cookies (http).
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub allow_insecure: bool,
    /// Accepted for compatibility (GCS cookie auth links).
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub gcs_cookie_auth: bool,
    /// Whether to avoid mutating GitHub calls.
    #[arg(long, value_parser = prow_runtime::parse_go_bool, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub dry_run: bool,
    /// S3 credentials file.
    #[arg(long, default_value = "")]
    pub s3_credentials_file: String,
    /// GCS credentials file.
    #[arg(long, default_value = "")]
    pub gcs_credentials_file: String,
    /// Accepted for compatibility; assets are built in.
    #[arg(long, default_value = "/static")]
    pub static_files_location: String,
    /// Accepted for compatibility; templates are built in.
    #[arg(long, default_value = "/template")]
    pub template_files_location: String,
    /// Accepted for compatibility; lens assets are built in.
    #[arg(long, default_value = "/lenses")]
    pub spyglass_files_location: String,
}

impl DeckArgs {
    /// Checks flag combinations Prow rejects.
    pub fn validate(&self) -> anyhow::Result<()> {
        let exclusive = [
            self.hidden_only,
            self.show_hidden,
            !self.tenant_id.is_empty(),
        ];
        if exclusive.iter().filter(|b| **b).count() > 1 {
            anyhow::bail!(
                "'--hidden-only', '--tenant-id', and '--show-hidden' are mutually exclusive, \
                 the first one shows only hidden job, the second one shows specific tenants \
                 and the last one shows all jobs"
            );
        }
        Ok(())
    }

    /// Deck's options from the flags.
    pub fn options(&self) -> DeckOptions {
        DeckOptions {
            hidden_only: self.hidden_only,
            show_hidden: self.show_hidden,
            tenant_ids: self.tenant_id.clone(),
            rerun_creates_job: self.rerun_creates_job,
            allow_insecure: self.allow_insecure,
            github_host: self.github.github_host.clone(),
            spyglass: self.spyglass,
            page_rows: 0,
            refresh_secs: 0,
            warning_banner: None,
        }
    }
}

/// A [`StorageResolver`] opening `<provider>://<bucket>` with `creds`, each bucket once.
pub fn storage_resolver(creds: prow_storage::Credentials) -> StorageResolver {
    let opened: Mutex<HashMap<(String, String), Arc<dyn prow_storage::Storage>>> =
        Mutex::new(HashMap::new());
    Arc::new(move |provider: &str, bucket: &str| {
        let key = (provider.to_owned(), bucket.to_owned());
        if let Ok(m) = opened.lock()
            && let Some(s) = m.get(&key)
        {
            return Ok(s.clone());
        }
        let url = match provider {
            "gs" | "gcs" => format!("gs://{bucket}"),
            "s3" => format!("s3://{bucket}"),
            // For `file` the "bucket" is an absolute directory.
            "file" => format!("file://{bucket}"),
            other => anyhow::bail!("unsupported storage provider {other:?}"),
        };
        let s = prow_storage::open(&url, &creds)?;
        if let Ok(mut m) = opened.lock() {
            m.insert(key, s.clone());
        }
        Ok(s)
    })
}

/// Builds `prow-deck-auth`'s layer from the flags: OAuth when `--oauth-url` is set, CSRF when
/// `--cookie-secret` is, the bot client from the GitHub flags for org/team checks. `None` when
/// neither OAuth nor a cookie secret is configured (then only `allow_anyone` jobs can be rerun).
pub fn auth_from_flags(
    args: &DeckArgs,
    config: ConfigGetter,
    plugins: Option<PluginsGetter>,
    registry: &prometheus::Registry,
) -> anyhow::Result<Option<Arc<dyn DeckAuth>>> {
    let cookie_secret = if args.cookie_secret.is_empty() {
        None
    } else {
        Some(
            prow_deck_auth::read_cookie_secret(args.cookie_secret.as_ref())
                .context("reading --cookie-secret")?,
        )
    };
    prow_deck_auth::validate_rerun_setup(
        args.rerun_creates_job,
        cookie_secret.as_deref(),
        &config(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let oauth = if args.oauth_url.is_empty() {
        None
    } else {
        Some(
            prow_deck_auth::OAuthConfig::from_file(&args.github_oauth_config_file)
                .context("reading --github-oauth-config-file")?,
        )
    };
    if oauth.is_none() && cookie_secret.is_none() {
        return Ok(None);
    }
    let bot: Option<Arc<dyn prow_github::GitHub>> =
        if args.github.github_token_path.is_some() || args.github.github_app_id.is_some() {
            Some(Arc::new(args.github.client(
                args.dry_run,
                "deck",
                registry,
            )?))
        } else {
            None
        };
    let cfg = prow_deck_auth::AuthConfig {
        oauth,
        cookie_secret,
        allow_insecure: args.allow_insecure,
        github_web_base: format!("https://{}", args.github.github_host),
        // The user's own calls go to GitHub itself (the last endpoint is the direct one).
        github_api_base: args
            .github
            .github_endpoint
            .last()
            .cloned()
            .unwrap_or_else(|| prow_github::client::DEFAULT_ENDPOINT.to_owned()),
    };
    let mut auth = prow_deck_auth::Auth::new(cfg, bot, config)?;
    if let Some(p) = plugins {
        auth = auth.with_plugins(p);
    }
    Ok(Some(Arc::new(auth)))
}

/// What `run` needs besides flags (built by the binary).
pub struct DeckRunDeps {
    /// Where ProwJobs live.
    pub store: Arc<dyn JobStore>,
    /// Login/CSRF/authorization; `None` builds it from the flags ([`auth_from_flags`]).
    pub auth: Option<Arc<dyn DeckAuth>>,
    /// The Spyglass router; `None` builds `prow-spyglass`'s when `--spyglass` is set.
    pub spyglass: Option<axum::Router>,
    /// Where metrics are registered.
    pub registry: prometheus::Registry,
}

/// `prow deck`: serves until `shutdown`.
pub async fn run(
    args: DeckArgs,
    deps: DeckRunDeps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    args.validate()?;
    let agent = prow_config::ConfigAgent::start(args.config.load_options())
        .map_err(|e| anyhow::anyhow!("loading config: {e}"))?;
    // Reloads keep running until this handle drops at the end of `run`.
    let _watch = agent.watch(std::time::Duration::from_secs(10));
    let config: ConfigGetter = {
        let agent = agent.clone();
        Arc::new(move || agent.config())
    };
    let plugins: Option<PluginsGetter> = match &args.plugin_config {
        Some(p) => {
            let pc = Arc::new(
                prow_config::load_plugins(p, false)
                    .map_err(|e| anyhow::anyhow!("loading plugin config: {e}"))?,
            );
            Some(Arc::new(move || pc.clone()))
        }
        None => None,
    };
    let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
    let creds = prow_storage::Credentials::load(
        path(&args.gcs_credentials_file).as_deref(),
        path(&args.s3_credentials_file).as_deref(),
    )
    .context("loading storage credentials")?
    .with_env(prow_storage::Env::from_process());
    let auth = match deps.auth {
        Some(a) => Some(a),
        None => auth_from_flags(&args, config.clone(), plugins.clone(), &deps.registry)?,
    };
    if args.rerun_creates_job && auth.is_none() {
        tracing::warn!(
            "--rerun-creates-job without OAuth: only jobs with allow_anyone can be rerun"
        );
    }
    let storage = storage_resolver(creds);
    let spyglass = match deps.spyglass {
        Some(r) => Some(r),
        None if args.spyglass => {
            let mut sg = prow_spyglass::Spyglass::new(
                config.clone(),
                storage.clone(),
                Some(deps.store.clone()),
            );
            if let Some(a) = auth.clone() {
                sg = sg.with_user_lookup(Arc::new(move |h: &http::HeaderMap| a.login(h)));
            }
            Some(sg.router())
        }
        None => None,
    };
    let deck_deps = DeckDeps {
        store: deps.store,
        config,
        plugins,
        tide: (!args.tide_url.is_empty())
            .then(|| HttpTideSource::new(&args.tide_url))
            .transpose()?
            .map(|t| Arc::new(t) as Arc<dyn crate::TideSource>),
        plugin_help: (!args.hook_url.is_empty())
            .then(|| HttpPluginHelpSource::new(&args.hook_url))
            .transpose()?
            .map(|h| Arc::new(h) as Arc<dyn crate::PluginHelpSource>),
        storage,
        auth,
        spyglass,
    };
    let deck = Deck::new(deck_deps, args.options());
    let ready = Readiness::new();
    spawn_side_ports(
        &args.instrumentation,
        ready.clone(),
        deps.registry,
        shutdown.clone(),
    )
    .await
    .context("binding the health and metrics ports")?;
    deck.start(shutdown.clone())
        .await
        .context("listing ProwJobs")?;
    let app = deck.router();
    let app = if args.redirect_http_to.is_empty() {
        app
    } else {
        redirect_http(app, args.redirect_http_to.clone())
    };
    let addr = SocketAddr::from(([0, 0, 0, 0], args.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    ready.set_ready();
    tracing::info!(%addr, "deck serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

/// `--redirect-http-to`: 301 to `https://<host><uri>` when `X-Forwarded-Proto: http`.
fn redirect_http(app: axum::Router, host: String) -> axum::Router {
    app.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let host = host.clone();
            async move {
                let plain = req
                    .headers()
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    == Some("http");
                if plain {
                    let target = format!("https://{host}{}", req.uri());
                    return axum::response::Redirect::permanent(&target).into_response();
                }
                next.run(req).await
            }
        },
    ))
}

use axum::response::IntoResponse as _;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        deck: DeckArgs,
    }

    #[test]
    fn flags_parse_like_prow() {
        let c = Cli::try_parse_from([
            "deck",
            "--config-path=/etc/config/config.yaml",
            "--tide-url=http://tide/",
            "--hook-url=http://hook:8888/plugin-help",
            "--rerun-creates-job",
            "--spyglass=true",
            "--tenant-id=a",
            "--tenant-id=b",
        ])
        .unwrap();
        assert_eq!(c.deck.port, 8080);
        assert!(c.deck.rerun_creates_job && c.deck.spyglass);
        assert_eq!(c.deck.tenant_id, ["a", "b"]);
        assert_eq!(
            c.deck.github_oauth_config_file,
            PathBuf::from("/etc/github/secret")
        );
        assert!(c.deck.validate().is_ok());
        let bad = Cli::try_parse_from(["deck", "--hidden-only", "--show-hidden"]).unwrap();
        assert!(bad.deck.validate().is_err());
    }
}
