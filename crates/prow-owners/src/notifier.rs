//! The `[APPROVALNOTIFIER]` bot comment.
//!
//! This is a wire format: people read it, and tools (e.g. the `META` line,
//! historically consumed by Gubernator) parse it, so the text, blank lines and
//! link shapes follow Prow byte for byte.

use std::sync::LazyLock;

use regex::Regex;

use crate::approve::{Approval, Approvers};

/// Name in the notification tag (rendered upper-case).
pub const APPROVAL_NOTIFICATION_NAME: &str = "ApprovalNotifier";

static NOTIFICATION_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\A\[{APPROVAL_NOTIFICATION_NAME}\]")).expect("static regex is valid")
});

/// Links used by the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationLinks {
    /// `github.link_url` (only scheme and host are used, as in Prow).
    pub link_url: String,
    /// `approve[].commandHelpLink`.
    pub command_help_link: String,
    /// `approve[].pr_process_link`.
    pub pr_process_link: String,
    /// Base of user profile links in suggestions. Prow hard-codes
    /// `https://github.com` here even on GitHub Enterprise.
    pub profile_base_url: String,
}

/// Where to link: `org/repo` at `branch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepoRef<'a> {
    /// Organisation.
    pub org: &'a str,
    /// Repository.
    pub repo: &'a str,
    /// Base branch (OWNERS links point at it).
    pub branch: &'a str,
}

/// Whether a comment body is an approve notification (the caller also checks
/// that the bot wrote it).
pub fn is_approval_notification(body: &str) -> bool {
    NOTIFICATION_RE.is_match(body)
}

/// Whether to replace the notification: Prow re-posts (deleting the old ones)
/// unless the latest existing notification already contains the new text.
pub fn notification_needs_update(latest: Option<&str>, new_message: &str) -> bool {
    !latest.is_some_and(|l| l.contains(new_message))
}

/// `scheme://host/org/repo`, replacing any path of `link_url`.
fn repo_base_url(link_url: &str, org: &str, repo: &str) -> String {
    match link_url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{host}/{org}/{repo}")
        }
        // Go parses a scheme-less URL as a bare path, which is then replaced.
        None => format!("{org}/{repo}"),
    }
}

/// JSON as Go's `encoding/json` writes it, which escapes HTML-significant
/// characters and line/paragraph separators.
fn go_json(value: &[String]) -> String {
    let raw = serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned());
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn approval_list(approvals: &[&Approval]) -> String {
    let mut s = String::new();
    for (i, a) in approvals.iter().enumerate() {
        s.push_str(if i == 0 { " " } else { ", " });
        s.push_str(&a.to_markdown());
    }
    s
}

fn user_links(users: &[String], profile_base: &str) -> String {
    users
        .iter()
        .map(|u| format!("[{u}]({profile_base}/{u})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders the full notification comment for `ap`.
pub fn render_notification(
    ap: &Approvers<'_>,
    links: &NotificationLinks,
    at: RepoRef<'_>,
) -> String {
    let manually = ap.manually_approved;
    let files_approved = ap.are_files_approved();
    let requirements_met = ap.requirements_met();
    let open_details = !files_approved && !manually;
    let ccs = ap.ccs();
    let assignees_of = |want: bool| -> Vec<String> {
        ccs.iter()
            .filter(|c| ap.assignees().contains(*c) == want)
            .cloned()
            .collect()
    };
    let assigned = assignees_of(true);
    let suggested = assignees_of(false);
    let profile = links.profile_base_url.trim_end_matches('/');
    let process = &links.pr_process_link;

    let mut m = String::new();
    if !requirements_met && manually {
        m.push_str("\nApproval requirements bypassed by manually added approval.\n\n");
    }
    m.push_str("This pull-request has been approved by:");
    m.push_str(&approval_list(&ap.list_approvals()));
    if open_details {
        m.push('\n');
        let tail = format!(" For more information see [the Code Review Process]({process}).");
        let lead = "**Once this PR has been reviewed and has the lgtm label**, please ";
        match (suggested.is_empty(), assigned.is_empty()) {
            (false, false) => m.push_str(&format!(
                "{lead}ask for approval from {} and additionally assign {} for approval.{tail}",
                user_links(&assigned, profile),
                user_links(&suggested, profile)
            )),
            (false, true) => m.push_str(&format!(
                "{lead}assign {} for approval.{tail}",
                user_links(&suggested, profile)
            )),
            (true, false) => m.push_str(&format!(
                "{lead}ask for approval from {}.{tail}",
                user_links(&assigned, profile)
            )),
            (true, true) => {}
        }
    }
    m.push_str("\n\n");

    if ap.require_issue {
        let no_issue = ap.no_issue_approvals();
        if let Some(issue) = ap.associated_issue {
            m.push_str(&format!("Associated issue: *#{issue}*\n\n"));
        } else if !no_issue.is_empty() {
            m.push_str("Associated issue requirement bypassed by:");
            m.push_str(&approval_list(&no_issue));
            m.push_str("\n\n");
        } else if manually {
            m.push_str(
                "*No associated issue*. Requirement bypassed by manually added approval.\n\n",
            );
        } else {
            m.push_str(
                "*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with `/approve no-issue`\n\n",
            );
        }
    }

    m.push_str(&format!(
        "The full list of commands accepted by this bot can be found [here]({}?repo={}%2F{}).\n\n",
        links.command_help_link, at.org, at.repo
    ));
    if files_approved || manually {
        m.push_str(&format!(
            "The pull request process is described [here]({process})\n\n"
        ));
    }

    m.push_str(if open_details {
        "<details open>\n"
    } else {
        "<details >\n"
    });
    m.push_str("Needs approval from an approver in each of these files:\n\n");
    let base = repo_base_url(&links.link_url, at.org, at.repo);
    for f in ap.owners_files() {
        let link = format!("{base}/blob/{}/{}", at.branch, f.owners_path);
        let who = f.approvers.join(",");
        if f.approved {
            m.push_str(&format!("- ~~[{}]({link})~~ [{who}]\n", f.owners_path));
        } else if f.approvers.is_empty() {
            m.push_str(&format!("- **[{}]({link})**\n", f.owners_path));
        } else {
            m.push_str(&format!(
                "- **[{}]({link})** [{who}]\n  > Need more approvers for rest parts.\n",
                f.owners_path
            ));
        }
    }
    m.push_str("\nApprovers can indicate their approval by writing `/approve` in a comment\n");
    m.push_str("Approvers can cancel approval by writing `/approve cancel` in a comment\n");
    m.push_str("</details>");
    m.push_str(&format!(
        "\n<!-- META={{\"approvers\":{}}} -->",
        go_json(&ccs)
    ));

    let title = if ap.is_approved() {
        "This PR is **APPROVED**"
    } else {
        "This PR is **NOT APPROVED**"
    };
    let mut out = format!("[{}] {title}", APPROVAL_NOTIFICATION_NAME.to_uppercase());
    let body = m.trim();
    if !body.is_empty() {
        out.push_str("\n\n");
        out.push_str(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            repo_base_url("https://ghe.example.com/some/path", "o", "r"),
            "https://ghe.example.com/o/r"
        );
        assert_eq!(repo_base_url("example.com", "o", "r"), "o/r");
        assert_eq!(
            go_json(&["a<b>&".to_owned(), "\u{2028}".to_owned()]),
            r#"["a\u003cb\u003e\u0026","\u2028"]"#
        );
        assert_eq!(go_json(&[]), "[]");
        assert!(is_approval_notification("[APPROVALNOTIFIER] This PR is"));
        assert!(is_approval_notification("[ApprovalNotifier]x"));
        assert!(!is_approval_notification(" [APPROVALNOTIFIER]"));
        assert!(notification_needs_update(None, "x"));
        assert!(!notification_needs_update(Some("prefix x suffix"), "x"));
        assert!(notification_needs_update(Some("y"), "x"));
    }
}
