//! `retitle` plugin command.
//!
//! # Grammar
//!
//! ```text
//! /retitle <new title>      case-insensitive, raw body; only the first one counts
//! ```
//!
//! No separator is required and the whitespace after the command may span
//! lines, so `/retitlefoo` retitles to `foo` and `/retitle` followed by a
//! line `New title` retitles to `New title` (both as in Prow). The title is
//! trimmed; an empty title is reported as `""` (Prow replies that titles may
//! not be empty).

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static RETITLE: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/retitle\s*(.*)$"));

/// The new title requested by the first `/retitle` in the body, trimmed.
#[must_use]
pub fn parse(body: &str) -> Option<String> {
    located(body).into_iter().find_map(|l| match l.command {
        Command::Retitle { title } => Some(title),
        _ => None,
    })
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    RETITLE
        .captures_iter(body)
        .filter_map(|c| {
            let m = c.get(0)?;
            let title = c.get(1).map_or("", |t| t.as_str()).trim().to_owned();
            Some(Located::new(Command::Retitle { title }, m.range()))
        })
        .collect()
}
