//! `label` plugin commands.
//!
//! # Grammar
//!
//! **Case-sensitive** command names (`/Kind bug` does nothing), values are
//! lowercased. HTML comments are removed first, so commands inside
//! `<!-- … -->` (e.g. in PR templates) are ignored; code blocks are *not*
//! skipped.
//!
//! ```text
//! /<category> <v1> [<v2> ...]          add `<category>/<v>` for each value
//! /remove-<category> <v1> [...]        remove `<category>/<v>` for each value
//! /label <label>                       add a configured additional/restricted label
//! /remove-label <label>                remove it
//! category = area | committee | kind | language | priority | sig | triage | wg
//! ```
//!
//! # Quirks reproduced from Prow
//!
//! Values are separated by single spaces, so `/kind  bug` (two spaces)
//! yields `kind/` and `kind/bug`. The pattern lets whitespace after the
//! command span a newline, so a bare `/kind` followed by `foo bar` on the
//! next line yields `kind/bar`. `/kindbug` yields nothing, but because no
//! whitespace is required after the command name, `/kinda bug` yields
//! `kind/bug` and `/sigh, oh well` yields `sig/oh` and `sig/well` (which
//! Prow then rejects as labels the repository does not have). `/label` accepts
//! exactly one argument; `/label a b` is silently ignored.
//!
//! # Why this plugin differs
//!
//! `label` is the only plugin that is case-sensitive for its command names
//! and the only one that strips HTML comments.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::Command;
use crate::text::{Located, Preprocessed, builtin, go_lower};

const CATEGORIES: &str = "area|committee|kind|language|priority|sig|triage|wg";

static ADD: LazyLock<Regex> =
    LazyLock::new(|| builtin(&format!(r"(?m)^/({CATEGORIES})\s*(.*?)\s*$")));
static REMOVE: LazyLock<Regex> =
    LazyLock::new(|| builtin(&format!(r"(?m)^/remove-({CATEGORIES})\s*(.*?)\s*$")));
static CUSTOM_ADD: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?m)^/label\s*(.*?)\s*$"));
static CUSTOM_REMOVE: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?m)^/remove-label\s*(.*?)\s*$"));

/// A `/label` or `/remove-label` command with exactly one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomLabel {
    /// The label, lowercased.
    pub label: String,
    /// The whole matched command text, which Prow quotes when it rejects a
    /// label that is not configured.
    pub command_text: String,
}

/// Everything the label plugin reads from one comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelCommands {
    /// Labels to add from `/<category> …` commands, lowercased, in order.
    pub add: Vec<String>,
    /// Labels to remove from `/remove-<category> …` commands.
    pub remove: Vec<String>,
    /// `/label <l>` commands. Prow only honours labels listed under
    /// `additional_labels` or `restricted_labels`.
    pub custom_add: Vec<CustomLabel>,
    /// `/remove-label <l>` commands (same restriction).
    pub custom_remove: Vec<CustomLabel>,
    /// One of the lists had more than [`crate::MAX_COMMANDS_PER_KIND`] entries and was cut.
    pub truncated: bool,
}

impl LabelCommands {
    /// True if no label command was found.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.add.is_empty()
            && self.remove.is_empty()
            && self.custom_add.is_empty()
            && self.custom_remove.is_empty()
    }
}

/// Parses a comment body the way the label plugin does, keeping at most
/// [`crate::MAX_COMMANDS_PER_KIND`] labels in each list.
#[must_use]
pub fn parse(body: &str) -> LabelCommands {
    let mut out = LabelCommands::default();
    for l in located(body) {
        match l.command {
            Command::AddLabels { labels, .. } => out.add.extend(labels),
            Command::RemoveLabels { labels, .. } => out.remove.extend(labels),
            Command::Label {
                label,
                command_text,
            } => out.custom_add.push(CustomLabel {
                label,
                command_text,
            }),
            Command::RemoveLabel {
                label,
                command_text,
            } => out.custom_remove.push(CustomLabel {
                label,
                command_text,
            }),
            _ => {}
        }
    }
    // Bitwise `|`: every list is cut, not only the first one over.
    out.truncated = crate::keep_first(&mut out.add)
        | crate::keep_first(&mut out.remove)
        | crate::keep_first(&mut out.custom_add)
        | crate::keep_first(&mut out.custom_remove);
    out
}

/// The label families that have a `/<category>` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelCategory {
    /// `/area`
    Area,
    /// `/committee`
    Committee,
    /// `/kind`
    Kind,
    /// `/language`
    Language,
    /// `/priority`
    Priority,
    /// `/sig`
    Sig,
    /// `/triage`
    Triage,
    /// `/wg`
    Wg,
}

impl LabelCategory {
    /// Every category, in Prow's order.
    pub const ALL: [Self; 8] = [
        Self::Area,
        Self::Committee,
        Self::Kind,
        Self::Language,
        Self::Priority,
        Self::Sig,
        Self::Triage,
        Self::Wg,
    ];

    /// The command name and label prefix, e.g. `kind`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Area => "area",
            Self::Committee => "committee",
            Self::Kind => "kind",
            Self::Language => "language",
            Self::Priority => "priority",
            Self::Sig => "sig",
            Self::Triage => "triage",
            Self::Wg => "wg",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for LabelCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Prow `getLabelsFromREMatches`: words of the whole match after the first,
/// split on single spaces, each prefixed with the category.
fn prefixed(c: &Captures<'_>) -> Option<(LabelCategory, Vec<String>)> {
    let whole = c.get(0)?.as_str();
    let category = LabelCategory::from_name(c.get(1)?.as_str())?;
    let labels = whole
        .trim()
        .split(' ')
        .skip(1)
        .map(|v| go_lower(&format!("{category}/{}", v.trim())))
        .collect();
    Some((category, labels))
}

/// Prow `getLabelsFromGenericMatches`: exactly `/label <one-word>`.
fn custom(c: &Captures<'_>, command: &str) -> Option<(String, String)> {
    let whole = c.get(0)?.as_str();
    let parts: Vec<&str> = whole.trim().split(' ').collect();
    match parts.as_slice() {
        [cmd, label] if *cmd == command => Some((go_lower(label), whole.to_owned())),
        _ => None,
    }
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let pre = Preprocessed::without_html_comments(body);
    let text: &str = &pre.text;
    let mut out = Vec::new();
    // Matches that yield no value (`/kind`, `/kindbug`) do nothing in Prow
    // and are not reported.
    for c in ADD.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if let Some((category, labels)) = prefixed(&c).filter(|(_, l)| !l.is_empty()) {
            out.push(pre.locate(Command::AddLabels { category, labels }, m.range()));
        }
    }
    for c in REMOVE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if let Some((category, labels)) = prefixed(&c).filter(|(_, l)| !l.is_empty()) {
            out.push(pre.locate(Command::RemoveLabels { category, labels }, m.range()));
        }
    }
    for c in CUSTOM_ADD.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if let Some((label, command_text)) = custom(&c, "/label") {
            out.push(pre.locate(
                Command::Label {
                    label,
                    command_text,
                },
                m.range(),
            ));
        }
    }
    for c in CUSTOM_REMOVE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if let Some((label, command_text)) = custom(&c, "/remove-label") {
            out.push(pre.locate(
                Command::RemoveLabel {
                    label,
                    command_text,
                },
                m.range(),
            ));
        }
    }
    out
}
