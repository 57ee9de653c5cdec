//! `hold` plugin commands.
//!
//! # Grammar
//!
//! Case-insensitive, raw body:
//!
//! ```text
//! /hold [anything]                       add `do-not-merge/hold`
//! /hold cancel [anything]                remove it (any whitespace, even a newline, before `cancel`)
//! /unhold [anything]                     remove it
//! /remove-hold [anything]                remove it
//! ```
//!
//! Unlike most commands, trailing text is allowed after whitespace:
//! `/hold until the release is cut` holds. `/holding` is not a command.
//!
//! # Precedence
//!
//! If any cancel form is present the label is removed, regardless of order
//! and of any `/hold` in the same comment (Prow checks cancel first). This
//! is the opposite of `lgtm`, where adding wins.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static HOLD: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/hold(\s.*)?$"));
static HOLD_CANCEL: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/(remove-hold|hold\s+cancel|unhold)(\s.*)?$"));

/// What the hold plugin does for a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldAction {
    /// Add `do-not-merge/hold`.
    Add,
    /// Remove `do-not-merge/hold`.
    Remove,
}

/// The hold plugin's decision for a comment body (cancel wins).
#[must_use]
pub fn parse(body: &str) -> Option<HoldAction> {
    if HOLD_CANCEL.is_match(body) {
        Some(HoldAction::Remove)
    } else if HOLD.is_match(body) {
        Some(HoldAction::Add)
    } else {
        None
    }
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let cancels: Vec<_> = HOLD_CANCEL
        .find_iter(body)
        .map(|m| Located::new(Command::HoldCancel, m.range()))
        .collect();
    // `/hold cancel` also matches the hold pattern; report it once.
    let holds: Vec<_> = HOLD
        .find_iter(body)
        .filter(|m| !cancels.iter().any(|c| c.span.start == m.start()))
        .map(|m| Located::new(Command::Hold, m.range()))
        .collect();
    cancels.into_iter().chain(holds).collect()
}
