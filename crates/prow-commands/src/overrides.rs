//! `override` plugin commands: force failed status contexts to success.
//!
//! (The module is not called `override` because that is a reserved word.)
//!
//! # Grammar
//!
//! Case-insensitive, raw body, one command per line:
//!
//! ```text
//! /override <ctx> [<ctx> ...]          override contexts on the head commit
//! /override-sticky <ctx> [<ctx> ...]   same, and survive /retest on that commit
//! /override-cancel [<ctx> ...]         undo overrides; no contexts = all
//! ctx = word | "quoted context with spaces"
//! ```
//!
//! Exactly one space must follow the command; the rest of the line is
//! split on spaces outside double quotes, and surrounding quotes are
//! removed from each context. `/override` with no argument is recognised
//! (Prow replies that contexts are required), reported as `None`.
//! `/override ` with a single trailing space is not recognised at all.

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static OVERRIDE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/override( ([^\r\n]+))?[\r\n]?$"));
static STICKY: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/override-sticky( ([^\r\n]+))?[\r\n]?$"));
static CANCEL: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/override-cancel( ([^\r\n]+))?[\r\n]?$"));

/// The three override command kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideKind {
    /// `/override`
    Override,
    /// `/override-sticky`
    Sticky,
    /// `/override-cancel`
    Cancel,
}

/// One override-family command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideCommand {
    /// Which command.
    pub kind: OverrideKind,
    /// Contexts named; `None` when the command had no argument.
    pub contexts: Option<Vec<String>>,
}

/// All override-family commands, in order.
#[must_use]
pub fn parse(body: &str) -> Vec<OverrideCommand> {
    let mut all = matches(body);
    all.sort_by_key(|l| l.span.start);
    all.into_iter().map(|l| l.command).collect()
}

/// Splits an argument string into contexts (Prow `parseOverrideInput`).
#[must_use]
pub fn split_contexts(input: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for c in input.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && c == ' ' {
            fields.extend(current.take());
        } else {
            current.get_or_insert_with(String::new).push(c);
        }
    }
    fields.extend(current);
    fields
        .into_iter()
        .map(|f| f.trim().trim_matches('"').to_owned())
        .collect()
}

fn matches(body: &str) -> Vec<Located<OverrideCommand>> {
    let mut out = Vec::new();
    for (re, kind) in [
        (&*OVERRIDE, OverrideKind::Override),
        (&*STICKY, OverrideKind::Sticky),
        (&*CANCEL, OverrideKind::Cancel),
    ] {
        for c in re.captures_iter(body) {
            let Some(m) = c.get(0) else { continue };
            let contexts = c.get(2).map(|a| split_contexts(a.as_str()));
            out.push(Located::new(OverrideCommand { kind, contexts }, m.range()));
        }
    }
    out
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    matches(body)
        .into_iter()
        .map(|l| {
            l.map(|o| match o.kind {
                OverrideKind::Override => Command::Override {
                    contexts: o.contexts,
                },
                OverrideKind::Sticky => Command::OverrideSticky {
                    contexts: o.contexts,
                },
                OverrideKind::Cancel => Command::OverrideCancel {
                    contexts: o.contexts,
                },
            })
        })
        .collect()
}
