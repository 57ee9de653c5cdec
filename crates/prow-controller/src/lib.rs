//! The job controller (Prow's plank) and its neighbours: horologium (periodic jobs), sinker
//! (garbage collection) and tot (build numbers).
//!
//! Pure cores, thin shells:
//! * [`plank`]: what to do with a ProwJob given its run's phase and the time;
//! * [`controller`]: the reconcile loop carrying it out against a
//!   [`prow_jobstore::JobStore`] and a [`prow_executor::Executor`];
//! * [`joburl`], [`buildid`], [`metrics`]: job URLs, build IDs, Prow's job metrics;
//! * [`fake`]: a stateful fake executor for tests and benchmarks.

pub mod buildid;
pub mod cli;
pub mod controller;
pub mod fake;
pub mod horologium;
pub mod joburl;
pub mod leader;
pub mod metrics;
pub mod plank;
pub mod sinker;
pub mod tot;
