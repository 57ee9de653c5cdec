//! Deck inside `prow local`: Tide's pools and the hook's plugin help are read in-process, every
//! bucket maps to the local `file://` bucket, and GitHub login goes to the simulator (or to
//! GitHub with `--github-oauth-config-file`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use prow_controller::controller::ConfigGetter;
use prow_deck::{Deck, DeckAuth, DeckDeps, DeckOptions, PluginHelpSource, TideSource};
use prow_github::GitHub;
use prow_jobstore::JobStore;
use prow_storage::Storage;
use serde_json::Value;

/// Tide's `/` and `/history`, straight from the running Tide.
struct LocalTide(prow_tide::Tide);

#[async_trait]
impl TideSource for LocalTide {
    async fn pools(&self) -> anyhow::Result<Value> {
        Ok(self.0.pools_json())
    }
    async fn history(&self) -> anyhow::Result<Value> {
        Ok(self.0.history_json())
    }
}

/// The hook's `/plugin-help` document, in-process.
struct LocalHelp(prow_hook::Hook);

#[async_trait]
impl PluginHelpSource for LocalHelp {
    async fn help(&self) -> anyhow::Result<Value> {
        Ok(self.0.plugin_help())
    }
}

/// What Deck needs from the rest of `prow local`.
pub struct LocalDeck<'a> {
    pub data: &'a Path,
    pub store: Arc<dyn JobStore>,
    pub config: ConfigGetter,
    pub plugins: Arc<dyn Fn() -> Arc<prow_config::PluginsConfig> + Send + Sync>,
    pub tide: prow_tide::Tide,
    pub hook: prow_hook::Hook,
    pub bucket: Arc<dyn Storage>,
    pub github: Arc<dyn GitHub>,
    pub fake: Option<&'a prow_github_fake::FakeGitHub>,
    /// `--github-oauth-config-file` (real GitHub).
    pub oauth_file: Option<&'a Path>,
    /// The GitHub API base (real GitHub mode).
    pub github_api: String,
    pub dry_run: bool,
    /// Warning in every page's header (jobs unsandboxed or refused).
    pub banner: Option<String>,
}

/// A 32-byte cookie secret kept in the data dir, so sessions survive restarts.
fn cookie_secret(data: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data.join("cookie-secret");
    if let Ok(s) = prow_deck_auth::read_cookie_secret(&path) {
        return Ok(s);
    }
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(raw))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(raw.to_vec())
}

/// Builds Deck (with Spyglass and login) and starts following the job store.
pub async fn deck(
    l: LocalDeck<'_>,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Deck> {
    let secret = cookie_secret(l.data)?;
    let mut auth_cfg = prow_deck_auth::AuthConfig {
        oauth: None,
        cookie_secret: Some(secret),
        allow_insecure: true,
        ..Default::default()
    };
    if let Some(fake) = l.fake {
        // The simulator's OAuth app; host-relative addresses keep the browser on whatever host
        // name it used for this listener.
        let client_secret = uuid::Uuid::new_v4().to_string();
        fake.register_oauth_app("prow-local-deck", &client_secret, Some("Prow (local)"));
        auth_cfg.oauth = Some(prow_deck_auth::OAuthConfig {
            client_id: "prow-local-deck".into(),
            client_secret,
            redirect_url: "/github-login/redirect".into(),
            scopes: vec![],
            final_redirect_url: String::new(),
        });
        auth_cfg.github_web_base = "/fake-github".into();
        auth_cfg.github_api_base = l.github_api.clone();
    } else if let Some(file) = l.oauth_file {
        auth_cfg.oauth = Some(prow_deck_auth::OAuthConfig::from_file(file)?);
        auth_cfg.github_api_base = l.github_api.clone();
    }
    let auth = prow_deck_auth::Auth::new(auth_cfg, Some(l.github.clone()), l.config.clone())?
        .with_plugins(l.plugins.clone());
    let auth: Arc<dyn DeckAuth> = Arc::new(auth);

    let bucket = l.bucket.clone();
    let storage: prow_deck::StorageResolver =
        Arc::new(move |_provider: &str, _b: &str| Ok(bucket.clone()));
    let spyglass =
        prow_spyglass::Spyglass::new(l.config.clone(), storage.clone(), Some(l.store.clone()))
            .router();
    let deck = Deck::new(
        DeckDeps {
            store: l.store,
            config: l.config,
            plugins: Some(l.plugins),
            tide: Some(Arc::new(LocalTide(l.tide))),
            plugin_help: Some(Arc::new(LocalHelp(l.hook))),
            storage,
            auth: Some(auth),
            spyglass: Some(spyglass),
        },
        DeckOptions {
            rerun_creates_job: !l.dry_run,
            allow_insecure: true,
            spyglass: true,
            warning_banner: l.banner.clone(),
            ..Default::default()
        },
    );
    let d = deck.clone();
    tokio::spawn(async move {
        if let Err(e) = d.start(shutdown).await {
            tracing::error!(error = %e, "deck stopped following the job store");
        }
    });
    Ok(deck)
}
