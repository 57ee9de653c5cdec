//! `prow fake-github`: serve a seeded fake over HTTP and deliver its webhooks.

use std::future::Future;
use std::path::PathBuf;

use anyhow::Context;
use prow_github::hmac::HmacSecrets;

use crate::{FakeGitHub, Seed};

/// Command-line flags of the fake GitHub server.
#[derive(Debug, Clone, clap::Args)]
pub struct FakeGitHubArgs {
    /// Address to listen on (REST, GraphQL and git smart HTTP).
    #[arg(long, default_value = "127.0.0.1:8888")]
    pub listen: String,
    /// Seed YAML describing users, orgs, repositories, pull requests and issues.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Where to POST webhooks (e.g. hook's `http://127.0.0.1:8888/hook`).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Prow HMAC secret file (one token, or the `'*'`/org/repo map) used to sign webhooks.
    #[arg(long)]
    pub hmac_secret_file: Option<PathBuf>,
}

/// Loads the seed, binds, wires the webhook target and serves until `shutdown` completes.
/// Base URLs not set by the seed point at the listen address, so `html_url`/`clone_url` work.
pub async fn run(
    args: FakeGitHubArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let seed = match &args.seed {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading seed {}", path.display()))?;
            Seed::from_yaml(&text).with_context(|| format!("seed {}", path.display()))?
        }
        None => Seed::default(),
    };
    let urls_from_seed = (seed.urls.web.clone(), seed.urls.api.clone());
    let fake = FakeGitHub::from_seed(seed).context("building the fake GitHub")?;

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let here = format!("http://{addr}");
    fake.set_base_urls(
        &urls_from_seed.0.unwrap_or_else(|| here.clone()),
        &urls_from_seed.1.unwrap_or_else(|| here.clone()),
    );

    match (&args.webhook_url, &args.hmac_secret_file) {
        (Some(url), Some(file)) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading HMAC secret {}", file.display()))?;
            let secrets = HmacSecrets::parse(&text)
                .map_err(|e| anyhow::anyhow!("HMAC secret {}: {e}", file.display()))?;
            fake.set_webhook_secrets(url, secrets);
            tracing::info!(webhook_url = %url, "delivering webhooks");
        }
        (Some(_), None) => {
            anyhow::bail!("--webhook-url needs --hmac-secret-file (Prow rejects unsigned webhooks)")
        }
        (None, Some(_)) => anyhow::bail!("--hmac-secret-file needs --webhook-url"),
        (None, None) => {
            tracing::info!("no --webhook-url: events are only visible to in-process subscribers")
        }
    }

    tracing::info!(address = %addr, "fake GitHub listening");
    crate::serve(listener, fake, shutdown)
        .await
        .context("serving")?;
    Ok(())
}
