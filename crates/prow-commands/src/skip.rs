//! `skip` plugin command.
//!
//! # Grammar
//!
//! ```text
//! /skip          case-insensitive, alone on its line (trailing whitespace ok)
//! ```
//!
//! Marks failed, non-required (optional or non-reporting) job contexts as
//! skipped. Raw body.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static SKIP: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/skip\s*$"));

/// True if the body contains `/skip`.
#[must_use]
pub fn parse(body: &str) -> bool {
    SKIP.is_match(body)
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    crate::simple_matches(body, &[(&SKIP, Command::Skip)])
}
