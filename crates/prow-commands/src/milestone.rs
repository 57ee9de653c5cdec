//! `milestone` plugin command.
//!
//! # Grammar
//!
//! ```text
//! /milestone <name>     set the milestone (name is the rest of the line, trimmed)
//! /milestone clear      remove the milestone
//! ```
//!
//! **Case-sensitive** (`/Milestone v1` does nothing, and only lowercase
//! `clear` clears). Raw body; only the first `/milestone` in a comment is
//! used. At least one whitespace character must follow the command, and it
//! may be a newline (`/milestone` then `v1.0` on the next line sets `v1.0`).

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static MILESTONE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?m)^/milestone\s+(.+?)\s*$"));

/// The requested milestone change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneTarget {
    /// `/milestone clear`
    Clear,
    /// `/milestone <name>`
    Named(String),
}

/// The milestone requested by the first `/milestone` command.
#[must_use]
pub fn parse(body: &str) -> Option<MilestoneTarget> {
    located(body).into_iter().find_map(|l| match l.command {
        Command::Milestone(t) => Some(t),
        _ => None,
    })
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    MILESTONE
        .captures_iter(body)
        .filter_map(|c| {
            let m = c.get(0)?;
            let name = c.get(1)?.as_str();
            let target = if name == "clear" {
                MilestoneTarget::Clear
            } else {
                MilestoneTarget::Named(name.to_owned())
            };
            Some(Located::new(Command::Milestone(target), m.range()))
        })
        .collect()
}
