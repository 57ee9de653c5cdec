//! `lgtm` plugin commands.
//!
//! # Grammar
//!
//! Case-insensitive, whole line, raw body (code blocks are *not* skipped):
//!
//! ```text
//! /lgtm [no-issue]          add the `lgtm` label (exactly one space before no-issue)
//! /lgtm cancel              remove it
//! /remove-lgtm              remove it
//! ```
//!
//! Only trailing whitespace may follow, so `/lgtm foo`, `/lgtm!` and
//! ` /lgtm` (leading space) are not commands.
//!
//! # Precedence
//!
//! When a comment contains both forms, *adding* wins regardless of order
//! (Prow checks the add pattern first). See [`parse`].
//!
//! # Disagreement with `approve`
//!
//! With `lgtm_acts_as_approve`, the approve plugin uses a much looser
//! grammar for `/lgtm` (any trailing text, e.g. `/lgtm thanks!`, counts as
//! approval, and any argument containing `cancel` cancels). Use
//! [`approve::parse`](crate::approve::parse) for the approve view of `/lgtm`.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static LGTM: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/lgtm( no-issue)?\s*$"));
static LGTM_CANCEL: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/(remove-lgtm|lgtm cancel)\s*$"));

/// What the lgtm plugin does for a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LgtmAction {
    /// Add the `lgtm` label.
    Add,
    /// Remove the `lgtm` label.
    Remove,
}

/// The lgtm plugin's decision for a comment body (add wins over cancel).
#[must_use]
pub fn parse(body: &str) -> Option<LgtmAction> {
    if LGTM.is_match(body) {
        Some(LgtmAction::Add)
    } else if LGTM_CANCEL.is_match(body) {
        Some(LgtmAction::Remove)
    } else {
        None
    }
}

/// True if the body contains any lgtm command. With `review_acts_as_lgtm`
/// Prow ignores a review's state when its body contains one.
#[must_use]
pub fn has_command(body: &str) -> bool {
    parse(body).is_some()
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let adds = LGTM.captures_iter(body).filter_map(|c| {
        let m = c.get(0)?;
        let no_issue = c.get(1).is_some();
        Some(Located::new(Command::Lgtm { no_issue }, m.range()))
    });
    let cancels = LGTM_CANCEL
        .find_iter(body)
        .map(|m| Located::new(Command::LgtmCancel, m.range()));
    adds.chain(cancels).collect()
}
