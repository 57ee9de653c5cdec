//! Single-purpose commands of the remaining plugins: `stage`,
//! `release-note`, `blunderbuss`/`rifle`, `verify-owners`, `cla`, `dco`,
//! `golint`, `buildifier`, `require-matching-label`, `bugzilla`,
//! `issue-management` and the `refresh` external plugin.
//!
//! # Grammar
//!
//! Case-insensitive, raw body, alone on the line (trailing whitespace
//! allowed) unless an argument is shown:
//!
//! ```text
//! /stage alpha|beta|stable   /remove-stage alpha|beta|stable   (one space before the stage)
//! /release-note   /release-note-none   /release-note-action-required   /release-note-edit
//! /auto-cc                   request reviews from OWNERS (blunderbuss, rifle)
//! /verify-owners   /check-cla   /check-dco   /lint   /buildify   /buildifier
//! /check-required-labels     /refresh
//! /bugzilla refresh   /bugzilla assign-qa   /bugzilla cc-qa
//! /pin-issue   /unpin-issue
//! /transfer <repo>   /transfer-issue <repo>      (Prow rejects a missing or repeated destination)
//! /link-issue <ref> [<ref> ...]   /unlink-issue <ref> [...]   (at least one whitespace before the refs)
//! ```

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static STAGE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/(remove-)?stage (alpha|beta|stable)\s*$"));
static RELEASE_NOTE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/release-note\s*$"));
static RELEASE_NOTE_NONE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/release-note-none\s*$"));
static RELEASE_NOTE_ACTION_REQUIRED: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/release-note-action-required\s*$"));
static RELEASE_NOTE_EDIT: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/release-note-edit\s*$"));
static AUTO_CC: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/auto-cc\s*$"));
static VERIFY_OWNERS: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/verify-owners\s*$"));
static CHECK_CLA: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/check-cla\s*$"));
static CHECK_DCO: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/check-dco\s*$"));
static LINT: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/lint\s*$"));
static BUILDIFY: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/buildif(y|ier)\s*$"));
static CHECK_REQUIRED_LABELS: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/check-required-labels\s*$"));
static REFRESH: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/refresh\s*$"));
static BUGZILLA_REFRESH: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/bugzilla refresh\s*$"));
static BUGZILLA_ASSIGN_QA: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/bugzilla assign-qa\s*$"));
static BUGZILLA_CC_QA: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/bugzilla cc-qa\s*$"));
static PIN: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/pin-issue\s*$"));
static UNPIN: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/unpin-issue\s*$"));
static TRANSFER: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/transfer(?:-issue)?(?: +(.*))?$"));
static LINK_ISSUE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/link-issue\s+(.+)$"));
static UNLINK_ISSUE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/unlink-issue\s+(.+)$"));

/// A feature stage for the `stage/*` labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageName {
    /// `stage/alpha`
    Alpha,
    /// `stage/beta`
    Beta,
    /// `stage/stable`
    Stable,
}

impl StageName {
    /// The stage name, e.g. `beta`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alpha => "alpha",
            Self::Beta => "beta",
            Self::Stable => "stable",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Alpha, Self::Beta, Self::Stable]
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let mut out = crate::simple_matches(
        body,
        &[
            (&RELEASE_NOTE, Command::ReleaseNote),
            (&RELEASE_NOTE_NONE, Command::ReleaseNoteNone),
            (
                &RELEASE_NOTE_ACTION_REQUIRED,
                Command::ReleaseNoteActionRequired,
            ),
            (&RELEASE_NOTE_EDIT, Command::ReleaseNoteEdit),
            (&AUTO_CC, Command::AutoCc),
            (&VERIFY_OWNERS, Command::VerifyOwners),
            (&CHECK_CLA, Command::CheckCla),
            (&CHECK_DCO, Command::CheckDco),
            (&LINT, Command::Lint),
            (&BUILDIFY, Command::Buildify),
            (&CHECK_REQUIRED_LABELS, Command::CheckRequiredLabels),
            (&REFRESH, Command::Refresh),
            (&BUGZILLA_REFRESH, Command::BugzillaRefresh),
            (&BUGZILLA_ASSIGN_QA, Command::BugzillaAssignQa),
            (&BUGZILLA_CC_QA, Command::BugzillaCcQa),
            (&PIN, Command::PinIssue),
            (&UNPIN, Command::UnpinIssue),
        ],
    );
    for c in STAGE.captures_iter(body) {
        let (Some(m), Some(stage)) = (
            c.get(0),
            c.get(2).and_then(|s| StageName::parse(s.as_str())),
        ) else {
            continue;
        };
        out.push(Located::new(
            Command::Stage {
                remove: c.get(1).is_some(),
                stage,
            },
            m.range(),
        ));
    }
    for c in TRANSFER.captures_iter(body) {
        let Some(m) = c.get(0) else { continue };
        let destination = c.get(1).map_or("", |d| d.as_str()).trim().to_owned();
        out.push(Located::new(Command::Transfer { destination }, m.range()));
    }
    for (re, unlink) in [(&*LINK_ISSUE, false), (&*UNLINK_ISSUE, true)] {
        for c in re.captures_iter(body) {
            let Some(m) = c.get(0) else { continue };
            let refs = c
                .get(1)
                .map_or("", |r| r.as_str())
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            let cmd = if unlink {
                Command::UnlinkIssue { refs }
            } else {
                Command::LinkIssue { refs }
            };
            out.push(Located::new(cmd, m.range()));
        }
    }
    out
}
