//! `help` plugin commands: the `help wanted` and `good first issue` labels.
//!
//! # Grammar
//!
//! Case-insensitive, whole line (trailing whitespace only), raw body:
//!
//! ```text
//! /help                        add `help wanted` (+ guidelines comment)
//! /remove-help                 remove `help wanted` (and `good first issue`)
//! /good-first-issue            add `good first issue` and `help wanted`
//! /remove-good-first-issue     remove `good first issue`
//! ```
//!
//! The plugin only acts on open issues (not PRs). Which form wins when a
//! comment has several depends on the issue's current labels: Prow applies
//! the first applicable one in the order `/remove-help` (if `help wanted`
//! is present), `/good-first-issue` (if absent), `/help` (if absent),
//! `/remove-good-first-issue` (if present). That decision needs the labels,
//! so [`parse`] just reports which forms are present.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static HELP: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/help\s*$"));
static REMOVE_HELP: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/remove-help\s*$"));
static GOOD_FIRST_ISSUE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/good-first-issue\s*$"));
static REMOVE_GOOD_FIRST_ISSUE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/remove-good-first-issue\s*$"));

/// Which help-plugin commands a comment contains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HelpCommands {
    /// `/help`
    pub help: bool,
    /// `/remove-help`
    pub remove_help: bool,
    /// `/good-first-issue`
    pub good_first_issue: bool,
    /// `/remove-good-first-issue`
    pub remove_good_first_issue: bool,
}

/// Parses a comment body the way the help plugin does.
#[must_use]
pub fn parse(body: &str) -> HelpCommands {
    HelpCommands {
        help: HELP.is_match(body),
        remove_help: REMOVE_HELP.is_match(body),
        good_first_issue: GOOD_FIRST_ISSUE.is_match(body),
        remove_good_first_issue: REMOVE_GOOD_FIRST_ISSUE.is_match(body),
    }
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let table: [(&Regex, Command); 4] = [
        (&HELP, Command::Help),
        (&REMOVE_HELP, Command::RemoveHelp),
        (&GOOD_FIRST_ISSUE, Command::GoodFirstIssue),
        (&REMOVE_GOOD_FIRST_ISSUE, Command::RemoveGoodFirstIssue),
    ];
    crate::simple_matches(body, &table)
}
