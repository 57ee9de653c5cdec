//! Prow's API types: the `prow.k8s.io/v1` ProwJob, its refs and decoration settings, the label
//! keys Prow uses, and Go-compatible durations.
//!
//! Everything here is plain data with serde names identical to Prow's Go types, so objects we
//! write are read by Prow's own tools and vice versa. There is no I/O in this crate.

#[cfg(feature = "crd")]
pub mod crd;
pub mod decoration;
pub mod duration;
pub mod labels;
pub mod prowjob;
pub mod serde_util;
pub mod storage;

pub use decoration::{
    CensoringOptions, DecorationConfig, GcsConfiguration, Resources, SchedulingOptions,
    SecretKeyRef, UtilityImages,
};
pub use duration::{Duration, DurationParseError};
pub use k8s_openapi;
pub use prowjob::{
    GitHubTeamSlug, JenkinsSpec, ProwJob, ProwJobAgent, ProwJobDefault, ProwJobSpec, ProwJobState,
    ProwJobStatus, ProwJobType, Pull, Refs, ReporterConfig, RerunAuthConfig, ResultStoreConfig,
    SlackReporterConfig,
};
pub use storage::StoragePath;
