//! `assign` plugin commands (assignees and review requests).
//!
//! # Grammar
//!
//! Case-insensitive, whole line, raw body:
//!
//! ```text
//! /assign [[@]<login> ...]            assign; no logins = the commenter
//! /unassign [[@]<login> ...]          unassign
//! /cc [[@]<login>|[@]<org>/<team> ...]    request review; no logins = the commenter
//! /uncc [...]                          withdraw review request
//! ```
//!
//! Logins are `[-\w]` words. For `/assign` they must be separated by
//! *exactly one* space (`/assign  @a` is not a command, neither is
//! `/assign @org/team`); `/cc` allows several spaces and `/` for teams.
//! Only trailing whitespace may follow.
//!
//! # Quirks reproduced from Prow
//!
//! The "un" prefix is detected case-sensitively after a case-insensitive
//! match, so `/UNASSIGN @a` *assigns* `a` and `/UNCC` requests a review.
//! When a login appears in several commands, the last one wins (see
//! [`changes`]).

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin};

static ASSIGN: LazyLock<Regex> =
    LazyLock::new(|| builtin(r"(?mi)^/(un)?assign(( @?[-\w]+?)*)\s*$"));
static CC: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$"));

/// Which of the two command pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignKind {
    /// `/assign`, `/unassign`: issue/PR assignees.
    Assign,
    /// `/cc`, `/uncc`: PR review requests.
    Cc,
}

/// One assign-family command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignCommand {
    /// Assignees or reviewers.
    pub kind: AssignKind,
    /// `/unassign` or `/uncc`.
    pub remove: bool,
    /// Logins (or `org/team`) without `@`; empty means the commenter.
    pub targets: Vec<String>,
}

/// All `/assign`, `/unassign`, `/cc` and `/uncc` commands, in order.
#[must_use]
pub fn parse(body: &str) -> Vec<AssignCommand> {
    let mut all = located(body);
    all.sort_by_key(|l| l.span.start);
    all.into_iter()
        .filter_map(|l| match l.command {
            Command::Assign { remove, targets } => Some(AssignCommand {
                kind: AssignKind::Assign,
                remove,
                targets,
            }),
            Command::Cc { remove, targets } => Some(AssignCommand {
                kind: AssignKind::Cc,
                remove,
                targets,
            }),
            _ => None,
        })
        .collect()
}

/// True if the body contains any `/cc` or `/uncc` command; blunderbuss
/// skips automatic review requests for PRs whose body has one.
#[must_use]
pub fn has_cc_command(body: &str) -> bool {
    CC.is_match(body)
}

/// Net effect of a comment for one kind, as the plugin applies it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignChanges {
    /// Logins to add, in first-mention order.
    pub add: Vec<String>,
    /// Logins to remove, in first-mention order.
    pub remove: Vec<String>,
    /// The comment named more than [`crate::MAX_COMMANDS_PER_KIND`] logins; the rest were
    /// dropped.
    pub truncated: bool,
}

/// Resolves all commands of `kind` in `body` into logins to add and remove.
/// `commenter` stands in for commands without arguments. A login mentioned
/// several times takes the direction of its last mention (logins are
/// compared exactly, as in Prow). At most [`crate::MAX_COMMANDS_PER_KIND`]
/// distinct logins are kept.
#[must_use]
pub fn changes(body: &str, kind: AssignKind, commenter: &str) -> AssignChanges {
    // Login → index in `seen`: a comment can name tens of thousands of logins.
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut seen: Vec<(String, bool)> = Vec::new();
    let mut truncated = false;
    for cmd in parse(body).into_iter().filter(|c| c.kind == kind) {
        let logins = if cmd.targets.is_empty() {
            vec![commenter.to_owned()]
        } else {
            cmd.targets
        };
        for login in logins {
            match index.get(&login) {
                Some(&i) => seen[i].1 = !cmd.remove,
                None if seen.len() >= crate::MAX_COMMANDS_PER_KIND => truncated = true,
                None => {
                    index.insert(login.clone(), seen.len());
                    seen.push((login, !cmd.remove));
                }
            }
        }
    }
    let (add, remove): (Vec<_>, Vec<_>) = seen.into_iter().partition(|(_, add)| *add);
    AssignChanges {
        add: add.into_iter().map(|(l, _)| l).collect(),
        remove: remove.into_iter().map(|(l, _)| l).collect(),
        truncated,
    }
}

/// Prow `parseLogins`: split on single spaces, trim `@` and spaces.
fn logins(text: &str) -> Vec<String> {
    text.split(' ')
        .map(|p| p.trim_matches(|c| c == '@' || c == ' '))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let mut out = Vec::new();
    for (re, is_cc) in [(&*ASSIGN, false), (&*CC, true)] {
        for c in re.captures_iter(body) {
            let Some(m) = c.get(0) else { continue };
            // Case-sensitive on purpose: `/UNASSIGN` assigns in Prow.
            let remove = c.get(1).is_some_and(|u| u.as_str() == "un");
            let targets = logins(c.get(2).map_or("", |g| g.as_str()));
            let cmd = if is_cc {
                Command::Cc { remove, targets }
            } else {
                Command::Assign { remove, targets }
            };
            out.push(Located::new(cmd, m.range()));
        }
    }
    out
}
