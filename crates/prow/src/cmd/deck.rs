//! `prow deck`: Prow's Deck flags plus where the ProwJobs live (`--job-store`).

use std::path::PathBuf;

/// Flags of `prow deck`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeckCmd {
    /// Prow's Deck flags.
    #[command(flatten)]
    pub deck: prow_deck::cli::DeckArgs,
    /// Where ProwJobs live: `kube` (the CRD), `sqlite:PATH` or `memory`.
    #[arg(long, default_value = "kube")]
    pub job_store: String,
    /// Kubeconfig for the `kube` job store (default: $KUBECONFIG, then in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// `prow deck`.
pub async fn run(a: DeckCmd) -> anyhow::Result<()> {
    prow_runtime::init_tracing(true);
    let shutdown = prow_runtime::shutdown_on_signals();
    let ns = super::jobstore::namespace(&a.deck.config)?;
    let store = super::jobstore::open(&a.job_store, &ns, a.kubeconfig.as_deref()).await?;
    let deps = prow_deck::cli::DeckRunDeps {
        store,
        auth: None,
        spyglass: None,
        registry: prow_runtime::new_registry(),
    };
    prow_deck::cli::run(a.deck, deps, shutdown).await
}
