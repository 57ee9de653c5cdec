//! `lifecycle` plugin commands: closing, reopening and `lifecycle/*` labels.
//!
//! # Grammar
//!
//! Case-insensitive, whole line (trailing whitespace only), raw body:
//!
//! ```text
//! /close                     close the issue or PR
//! /close not-planned         close an issue as "not planned" (PRs get an error reply)
//! /reopen                    reopen
//! /lifecycle <state>         add `lifecycle/<state>`, removing other lifecycle labels
//! /remove-lifecycle <state>  remove `lifecycle/<state>`
//! state = active | frozen | stale | rotten        (exactly one space before it)
//! ```
//!
//! If both `/close` and `/close not-planned` appear, not-planned wins.
//!
//! # Quirk
//!
//! Prow builds the label from the text as typed, so `/lifecycle FROZEN`
//! targets `lifecycle/FROZEN` and slips past the "frozen cannot be applied
//! to pull requests" check, which compares case-sensitively. We report the
//! normalised [`LifecycleState`]; a plugin that wants the quirk can look at
//! the original text via the command's span.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static CLOSE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/close\s*$"));
static CLOSE_NOT_PLANNED: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/close not-planned\s*$"));
static REOPEN: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/reopen\s*$"));
static LIFECYCLE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/(remove-)?lifecycle (active|frozen|stale|rotten)\s*$"));

/// A `lifecycle/*` state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleState {
    /// `lifecycle/active`
    Active,
    /// `lifecycle/frozen`
    Frozen,
    /// `lifecycle/stale`
    Stale,
    /// `lifecycle/rotten`
    Rotten,
}

impl LifecycleState {
    /// The state name, e.g. `stale`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Frozen => "frozen",
            Self::Stale => "stale",
            Self::Rotten => "rotten",
        }
    }

    /// The label, e.g. `lifecycle/stale`.
    #[must_use]
    pub fn label(self) -> String {
        format!("lifecycle/{}", self.as_str())
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Frozen, Self::Stale, Self::Rotten]
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

/// How to close an issue or PR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// `/close`
    Completed,
    /// `/close not-planned`
    NotPlanned,
}

/// Everything the lifecycle plugin reads from one comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleCommands {
    /// `/reopen` present.
    pub reopen: bool,
    /// `/close` or `/close not-planned` present (not-planned wins).
    pub close: Option<CloseKind>,
    /// `(remove, state)` for every `/[remove-]lifecycle` command, in order.
    pub labels: Vec<(bool, LifecycleState)>,
}

/// Parses a comment body the way the lifecycle plugin does.
#[must_use]
pub fn parse(body: &str) -> LifecycleCommands {
    let close = if CLOSE_NOT_PLANNED.is_match(body) {
        Some(CloseKind::NotPlanned)
    } else if CLOSE.is_match(body) {
        Some(CloseKind::Completed)
    } else {
        None
    };
    LifecycleCommands {
        reopen: REOPEN.is_match(body),
        close,
        // Only eight states exist; more commands than that only repeat them.
        labels: lifecycle_matches(body)
            .map(|l| l.command)
            .take(crate::MAX_COMMANDS_PER_KIND)
            .collect(),
    }
}

fn lifecycle_matches(body: &str) -> impl Iterator<Item = Located<(bool, LifecycleState)>> + '_ {
    LIFECYCLE.captures_iter(body).filter_map(|c| {
        let m = c.get(0)?;
        let state = LifecycleState::parse(c.get(2)?.as_str())?;
        Some(Located::new((c.get(1).is_some(), state), m.range()))
    })
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let mut out: Vec<_> = CLOSE
        .find_iter(body)
        .map(|m| Located::new(Command::Close, m.range()))
        .chain(
            CLOSE_NOT_PLANNED
                .find_iter(body)
                .map(|m| Located::new(Command::CloseNotPlanned, m.range())),
        )
        .chain(
            REOPEN
                .find_iter(body)
                .map(|m| Located::new(Command::Reopen, m.range())),
        )
        .collect();
    out.extend(lifecycle_matches(body).map(|l| {
        l.map(|(remove, state)| {
            if remove {
                Command::RemoveLifecycle(state)
            } else {
                Command::Lifecycle(state)
            }
        })
    }));
    out
}
