//! Bot replies, byte for byte as Prow's `pkg/plugins/respond.go` writes them (spec §1.3). Users
//! and tools recognise bot comments by these shapes, so they are part of the contract.

/// Footer explaining how to interact with the bot (Prow's `AboutThisBotWithoutCommands`).
pub const ABOUT_THIS_BOT_WITHOUT_COMMANDS: &str = "Instructions for interacting with me using PR comments are available [here](https://git.k8s.io/community/contributors/guide/pull-requests.md).  If you have questions or suggestions related to my behavior, please file an issue against the [kubernetes-sigs/prow](https://github.com/kubernetes-sigs/prow/issues/new?title=Prow%20issue:) repository.";

/// Pointer at the command help (Prow's `AboutThisBotCommands`).
pub const ABOUT_THIS_BOT_COMMANDS: &str =
    "I understand the commands that are listed [here](https://go.k8s.io/bot-commands).";

/// Both texts (Prow's `AboutThisBot`).
pub fn about_this_bot() -> String {
    format!("{ABOUT_THIS_BOT_WITHOUT_COMMANDS} {ABOUT_THIS_BOT_COMMANDS}")
}

/// A reply to `to` with `message`, explaining `reason` in a collapsed details block (Prow's
/// `FormatResponse`).
pub fn format_response(to: &str, message: &str, reason: &str) -> String {
    format!(
        "@{to}: {message}\n\n<details>\n\n{reason}\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>"
    )
}

/// A reply without a quoted reason (Prow's `FormatSimpleResponse`).
pub fn format_simple_response(message: &str) -> String {
    format!("{message}\n\n<details>\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>")
}

/// A reply to `login` that quotes the text at `body_url` line by line (Prow's
/// `FormatResponseRaw`).
pub fn format_response_raw(body: &str, body_url: &str, login: &str, reply: &str) -> String {
    let quoted: Vec<String> = body.split('\n').map(|l| format!(">{l}")).collect();
    let reason = format!(
        "In response to [this]({body_url}):\n\n{}\n",
        quoted.join("\n")
    );
    format_response(login, reply, &reason)
}

/// A reply to an issue comment (Prow's `FormatICResponse`).
pub fn format_ic_response(comment: &prow_github::IssueComment, reply: &str) -> String {
    format_response_raw(&comment.body, &comment.html_url, &comment.user.login, reply)
}

/// Go's `url.QueryEscape`: spaces become `+`, everything outside `[A-Za-z0-9-_.~]` is
/// percent-encoded (used for `?repo=org%2Frepo` links).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_with_quote_matches_prow() {
        let got = format_response_raw(
            "/lgtm\nthanks",
            "https://example.com/c/1",
            "alice",
            "you cannot LGTM your own PR.",
        );
        let want = "@alice: you cannot LGTM your own PR.\n\n<details>\n\nIn response to [this](https://example.com/c/1):\n\n>/lgtm\n>thanks\n\n\n".to_owned()
            + ABOUT_THIS_BOT_WITHOUT_COMMANDS
            + "\n</details>";
        assert_eq!(got, want);
    }

    #[test]
    fn simple_response_matches_prow() {
        assert_eq!(
            format_simple_response("hello"),
            format!("hello\n\n<details>\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>")
        );
        assert!(about_this_bot().ends_with("(https://go.k8s.io/bot-commands)."));
    }

    #[test]
    fn ic_response_quotes_comment() {
        let c = prow_github::IssueComment {
            body: "/retest foo".into(),
            html_url: "https://example.com/c/2".into(),
            user: prow_github::User {
                login: "bob".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let got = format_ic_response(&c, "msg");
        assert!(got.starts_with("@bob: msg\n\n<details>\n\nIn response to [this](https://example.com/c/2):\n\n>/retest foo\n"));
    }

    #[test]
    fn query_escape_like_go() {
        assert_eq!(query_escape("org/repo"), "org%2Frepo");
        assert_eq!(query_escape("a b+c"), "a+b%2Bc");
        assert_eq!(query_escape("x-y_z.w~"), "x-y_z.w~");
    }
}
