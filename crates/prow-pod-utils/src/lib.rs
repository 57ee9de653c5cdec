//! Prow's pod utilities, re-implemented: the programs plank puts into every decorated job pod.
//!
//! * [`clonerefs`] clones the refs under test (init container `clonerefs`).
//! * [`initupload`] uploads `started.json` and the clone log (init container `initupload`).
//! * [`entrypoint`] wraps the test command: timeout, log tee, exit-code marker file.
//! * [`sidecar`] waits for the markers, censors secrets, uploads logs, artifacts and
//!   `finished.json`.
//!
//! They share the downward API ([`downwardapi`]: `JOB_SPEC` and the job environment), the bucket
//! layout ([`gcs`]), the `started.json`/`finished.json` formats ([`metadata`]) and a small upload
//! abstraction ([`upload`]). Option structs read the same `*_OPTIONS` JSON as Prow's Go programs,
//! so pods decorated by Prow's plank run these binaries unchanged and vice versa.
//!
//! The library is synchronous on purpose: the utilities are short-lived processes in a pod and
//! need nothing more than threads.

pub mod censor;
pub mod cli;
pub mod clone;
pub mod clonerefs;
pub mod downwardapi;
pub mod entrypoint;
pub mod flags;
pub mod gcs;
pub mod gotime;
pub mod initupload;
pub mod log;
pub mod metadata;
pub mod sidecar;
pub mod signals;
pub mod upload;
pub mod wrapper;

pub use downwardapi::JobSpec;
pub use metadata::{Finished, Started};
pub use upload::{LocalUploader, Uploader};
