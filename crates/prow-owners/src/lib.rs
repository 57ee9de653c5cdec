//! Pure, I/O-free core of Prow's OWNERS handling and of the `approve` plugin.
//!
//! The crate mirrors the observable behaviour of Prow's `pkg/repoowners` and
//! `pkg/plugins/approve` (see `docs/spec.md` §5.4):
//!
//! * [`config`] parses `OWNERS` files (simple and filter form), `OWNERS_ALIASES`
//!   and Markdown YAML front matter.
//! * [`RepoOwners`] is built from an in-memory snapshot of a repository's files
//!   (the caller does the git work) and answers "who owns this path" queries.
//! * [`approve`] computes which OWNERS files a PR needs, who approved them,
//!   whether the PR is approved and whom to suggest.
//! * [`notifier`] renders the `[APPROVALNOTIFIER]` bot comment, a wire format
//!   parsed by humans and tools alike.
//!
//! Nothing here performs I/O, spawns tasks or panics on untrusted input.
//!
//! ```
//! use prow_owners::{
//!     ApproveConfig, ApprovalEvent, LoadOptions, NotificationLinks, PullRequestContext,
//!     RepoOwners, RepoRef, evaluate, render_notification,
//! };
//!
//! let repo = RepoOwners::load(
//!     [("OWNERS", "approvers: [root]\n"), ("docs/OWNERS", "approvers: ['@Doc']\n")],
//!     &LoadOptions::default(),
//! );
//! let pr = PullRequestContext {
//!     number: 7,
//!     org: "example-org".into(),
//!     author: "contributor".into(),
//!     changed_files: vec!["docs/guide.md".into()],
//!     ..Default::default()
//! };
//! let when = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
//! let events = [ApprovalEvent::comment("doc", "/approve", when, "https://example.com/c/1")];
//! let ap = evaluate(&repo, &pr, &events, &ApproveConfig::default());
//! assert!(ap.is_approved());
//!
//! let links = NotificationLinks {
//!     link_url: "https://git.example.com".into(),
//!     command_help_link: "https://prow.example.com/command-help".into(),
//!     pr_process_link: "https://docs.example.com/review".into(),
//!     profile_base_url: "https://git.example.com".into(),
//! };
//! let at = RepoRef { org: "example-org", repo: "docs", branch: "main" };
//! let comment = render_notification(&ap, &links, at);
//! assert!(comment.starts_with("[APPROVALNOTIFIER] This PR is **APPROVED**"));
//! ```

#![warn(missing_docs)]

pub mod approve;
pub mod config;
pub mod denylist;
pub mod error;
mod layered;
mod login;
pub mod notifier;
mod paths;
mod repo;
mod shuffle;

pub use approve::{
    Approval, ApprovalEvent, ApprovalHow, ApproveConfig, Approvers, LabelChange, Owners,
    OwnersFileStatus, PullRequestContext, ReviewState, evaluate, find_associated_issue,
    is_approval_command, reverse_map,
};
pub use config::{
    DirOptions, FullConfig, OwnersConfig, RepoAliases, RoleConfig, SimpleConfig, md_front_matter,
    parse_aliases, parse_full_config, parse_md_owners, parse_owners_file, parse_simple_config,
};
pub use denylist::{OwnersDirDenylist, PRECONFIGURED_DIR_DENYLIST};
pub use error::OwnersError;
pub use layered::LayeredSet;
pub use login::{norm_login, norm_logins};
pub use notifier::{
    APPROVAL_NOTIFICATION_NAME, NotificationLinks, RepoRef, is_approval_notification,
    notification_needs_update, render_notification,
};
pub use repo::{Filenames, LoadOptions, RepoOwners};
pub use shuffle::deterministic_shuffle;
