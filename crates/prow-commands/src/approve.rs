//! `approve` plugin commands.
//!
//! # Grammar
//!
//! The approve plugin does not use per-command patterns. It scans every
//! line that starts with `/`, takes the word up to the first whitespace as
//! the command name (compared case-insensitively) and the rest of the line,
//! after spaces/tabs, as the argument. Raw body; code blocks are not skipped.
//!
//! ```text
//! /approve [args]            approve; `no-issue` (exactly, any case) waives the linked-issue requirement
//! /approve <..cancel..>      any argument *containing* `cancel` withdraws the approval
//! /remove-approve [args]     withdraw the approval (arguments ignored)
//! /lgtm [args]               same as /approve, but only with `lgtm_acts_as_approve`
//! ```
//!
//! # Why this is looser than the other plugins
//!
//! Because any argument is accepted, `/approve thanks` approves and
//! `/approve cancellation-not-needed` *cancels*. The command name ends at
//! whitespace, so `/approve.` is not a command. This disagrees with the
//! `lgtm` plugin, which requires `/lgtm` to be alone on its line:
//! `/lgtm thanks` approves (with `lgtm_acts_as_approve`) but does not add
//! the `lgtm` label. Likewise a `/lgtm cancel` withdraws an approval made in
//! the same comment even without `lgtm_acts_as_approve` (Prow only checks
//! the option when deciding whether a comment is approval-related at all).

use std::sync::LazyLock;

use regex::Regex;

use crate::Command;
use crate::text::{Located, builtin, go_lower};

static COMMAND: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?m)^/([^\s]+)[\t ]*([^\n\r]*)"));

/// One approval-related command as the approve plugin interprets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApproveCommand {
    /// `/approve [no-issue|…]`.
    Approve {
        /// The argument was exactly `no-issue`.
        no_issue: bool,
    },
    /// `/approve …cancel…`.
    ApproveCancel,
    /// `/remove-approve`.
    RemoveApprove,
    /// `/lgtm […]`: approval only when `lgtm_acts_as_approve` is enabled.
    Lgtm {
        /// The argument was exactly `no-issue`.
        no_issue: bool,
    },
    /// `/lgtm …cancel…`: withdraws the commenter's approval.
    LgtmCancel,
}

impl ApproveCommand {
    /// True if this command is a `/lgtm` form.
    #[must_use]
    pub fn is_lgtm(self) -> bool {
        matches!(self, Self::Lgtm { .. } | Self::LgtmCancel)
    }
}

/// All approval-related commands in the body, in order.
#[must_use]
pub fn parse(body: &str) -> Vec<ApproveCommand> {
    parse_located(body).into_iter().map(|l| l.command).collect()
}

/// Like [`parse`], with positions.
#[must_use]
pub fn parse_located(body: &str) -> Vec<Located<ApproveCommand>> {
    COMMAND
        .captures_iter(body)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let name = c.get(1)?.as_str();
            let args = go_lower(c.get(2).map_or("", |m| m.as_str()).trim());
            let cancel = args.contains("cancel");
            let no_issue = args == "no-issue";
            let cmd = if name.eq_ignore_ascii_case("remove-approve") {
                ApproveCommand::RemoveApprove
            } else if name.eq_ignore_ascii_case("approve") {
                if cancel {
                    ApproveCommand::ApproveCancel
                } else {
                    ApproveCommand::Approve { no_issue }
                }
            } else if name.eq_ignore_ascii_case("lgtm") {
                if cancel {
                    ApproveCommand::LgtmCancel
                } else {
                    ApproveCommand::Lgtm { no_issue }
                }
            } else {
                return None;
            };
            Some(Located::new(cmd, whole.range()))
        })
        .collect()
}

/// Whether the approve plugin treats the comment as approval-related and
/// re-evaluates the PR (Prow `isApprovalCommand`).
#[must_use]
pub fn is_approval_command(body: &str, lgtm_acts_as_approve: bool) -> bool {
    parse(body)
        .into_iter()
        .any(|c| lgtm_acts_as_approve || !c.is_lgtm())
}

pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    parse_located(body)
        .into_iter()
        .filter_map(|l| {
            let cmd = match l.command {
                ApproveCommand::Approve { no_issue } => Command::Approve { no_issue },
                ApproveCommand::ApproveCancel | ApproveCommand::RemoveApprove => {
                    Command::ApproveCancel
                }
                // `/lgtm` lines are reported by the lgtm family.
                ApproveCommand::Lgtm { .. } | ApproveCommand::LgtmCancel => return None,
            };
            Some(l.map(|_| cmd))
        })
        .collect()
}
