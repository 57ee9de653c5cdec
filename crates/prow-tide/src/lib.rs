//! Tide, Prow's merge automation (spec §7): GitHub searches built from `tide.queries`, pools keyed
//! `org/repo:branch`, serial retests and batch testing, merging with the configured merge
//! method, the `tide` status context, blocker issues, `GET /` and `GET /history`.
//!
//! Layout (pure cores, thin shells):
//! - [`query`]: query → search string, requirement diff (pure);
//! - [`policy`]: config lookups and the context policy (pure);
//! - [`core`]: filter, accumulate and choose an [`core::Action`] for one subpool (pure;
//!   the action choice is the replaceable [`core::ActionSelector`]);
//! - [`status`]: the `tide` context text (pure);
//! - [`github`]: GraphQL search, merges, statuses, blockers (I/O);
//! - [`sync`]: the sync and status controllers, history, metrics;
//! - [`http`]: `GET /` and `GET /history`; [`cli`]: `prow tide`;
//! - [`bench`](mod@bench): a merge-queue simulation driving the real core; [`bench::e2e`] runs it through
//!   the whole shell over the GitHub simulator.

pub mod bench;
pub mod cli;
pub mod core;
pub mod gitbatch;
pub mod github;
pub mod history;
pub mod http;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod query;
pub mod status;
pub mod sync;

pub use core::{Action, ActionSelector, BatchPicker, TideSelector};
pub use sync::{ConfigGetter, PoolView, Tide, TideDeps, TideOptions, run};
