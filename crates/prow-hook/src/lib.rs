//! hook: the front door. GitHub webhooks come in on `POST /hook`, are validated (spec §1.3),
//! committed to a durable on-disk log and acknowledged; a worker pool then runs the in-process
//! plugins and forwards the raw event to external plugins. Unprocessed events survive restarts
//! and crashes and are resumed on start; redelivered delivery IDs are not processed twice.

pub mod bench;
pub mod budget;
pub mod cli;
pub mod dispatch;
pub mod eventlog;
pub mod intake;
pub mod metrics;
pub mod server;

pub use dispatch::{Dispatch, HandlerOutcome, NoPlugins, PluginDispatch};
pub use eventlog::{Appended, Durability, EventLog, EventRecord, LogError, StoredEvent};
pub use metrics::HookMetrics;
pub use server::Hook;
