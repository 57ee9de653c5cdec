//! Label names the plugins in this crate manage (Prow's `pkg/labels`).

/// Set by the approve plugin.
pub const APPROVED: &str = "approved";
/// Set by the lgtm plugin.
pub const LGTM: &str = "lgtm";
/// Set by `/hold`.
pub const HOLD: &str = "do-not-merge/hold";
/// Set by the wip plugin.
pub const WORK_IN_PROGRESS: &str = "do-not-merge/work-in-progress";
/// Untrusted PR waiting for `/ok-to-test`.
pub const NEEDS_OK_TO_TEST: &str = "needs-ok-to-test";
/// PR trusted by `/ok-to-test`.
pub const OK_TO_TEST: &str = "ok-to-test";
/// Set by `/help`.
pub const HELP_WANTED: &str = "help wanted";
/// Set by `/good-first-issue`.
pub const GOOD_FIRST_ISSUE: &str = "good first issue";
/// Only org members may add it.
pub const TRIAGE_ACCEPTED: &str = "triage/accepted";
/// `/lifecycle active`.
pub const LIFECYCLE_ACTIVE: &str = "lifecycle/active";
/// `/lifecycle frozen`.
pub const LIFECYCLE_FROZEN: &str = "lifecycle/frozen";
/// `/lifecycle stale`.
pub const LIFECYCLE_STALE: &str = "lifecycle/stale";
/// `/lifecycle rotten`.
pub const LIFECYCLE_ROTTEN: &str = "lifecycle/rotten";
