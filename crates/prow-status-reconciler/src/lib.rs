//! status-reconciler (Prow's `cmd/status-reconciler`, `pkg/statusreconciler`; spec §9): when the
//! job config changes, open pull requests are brought in line with it.
//!
//! - **Added** blocking presubmits (required and reporting, running without `/test`) are started
//!   on every open, trusted, non-draft, mergeable PR where they should run. "Should run" uses the
//!   PR's actual changed files, so a new `run_if_changed: ^docs/` job starts only on PRs touching
//!   `docs/` (Prow's over-triggering, kubernetes/test-infra#26482, is not reproduced).
//! - **Removed** jobs' contexts still on a PR are set `success` with
//!   `Context retired without replacement.`
//! - **Migrated** contexts (same job name, new context) are copied to the new context (state,
//!   description, target URL) and the old one is retired with
//!   `Context retired. Status moved to "<new>".`
//!
//! Layout: [`delta`](mod@delta) is the pure comparison of two configs (and the denylists);
//! [`reconcile`] is the shell applying a delta through `Arc<dyn GitHub>` and
//! `Arc<dyn JobStore>`, plus the edge-driven loop; [`state`] is the last reconciled config in
//! `--status-path` (a local file replaced atomically, or a `gs://` / `s3://` object, readable
//! from a state Prow wrote); [`cli`] has the flags and `run` for `prow status-reconciler`.
//!
//! In-process use (e.g. `prow local`):
//! ```no_run
//! # async fn demo(deps: prow_status_reconciler::Deps) {
//! use prow_status_reconciler::{Options, StatusReconciler};
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! StatusReconciler::new(deps, Options::default()).run(shutdown).await;
//! # }
//! ```

pub mod cli;
pub mod delta;
pub mod reconcile;
pub mod state;

pub use delta::{Delta, Denylist, Migration, Presubmits, delta, delta_presubmits};
pub use reconcile::{
    Clock, ConfigGetter, Deps, Metrics, Options, PluginsGetter, RETIRED_DESCRIPTION,
    ReconcileError, Report, StatusReconciler, moved_description,
};
pub use state::{Snapshot, StateError, StateLocation};
