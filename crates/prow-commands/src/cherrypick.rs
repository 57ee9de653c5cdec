//! `cherrypicker` external plugin command.
//!
//! # Grammar
//!
//! ```text
//! /cherrypick <branch> [<branch> ...]
//! /cherry-pick <branch> [<branch> ...]
//! ```
//!
//! **Case-sensitive**, raw body. The first branch is the target; further
//! branches are "chained": after the first cherry-pick merges, the bot
//! cherry-picks onward to them. Whitespace after the command may span a
//! newline. A match with only whitespace as argument (which crashes Prow's
//! handler) is ignored.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static CHERRY_PICK: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?m)^(?:/cherrypick|/cherry-pick)\s+(.+)$"));

/// One cherry-pick request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CherryPick {
    /// Branch to cherry-pick onto.
    pub target: String,
    /// Branches to continue to afterwards.
    pub chained: Vec<String>,
}

/// All cherry-pick requests, in order.
#[must_use]
pub fn parse(body: &str) -> Vec<CherryPick> {
    located(body)
        .into_iter()
        .filter_map(|l| match l.command {
            Command::CherryPick { target, chained } => Some(CherryPick { target, chained }),
            _ => None,
        })
        .collect()
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    CHERRY_PICK
        .captures_iter(body)
        .filter_map(|c| {
            let m = c.get(0)?;
            let mut branches = c.get(1)?.as_str().split_whitespace().map(str::to_owned);
            let target = branches.next()?;
            Some(Located::new(
                Command::CherryPick {
                    target,
                    chained: branches.collect(),
                },
                m.range(),
            ))
        })
        .collect()
}
