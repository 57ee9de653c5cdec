//! The comment command grammar: every family parser over a comment body, spans checked, and
//! the Go-regex translation used for job triggers over the first line.

use prow_commands as c;

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "/lgtm",
    "/lgtm cancel",
    "/approve",
    "/approve no-issue",
    "/remove-approve",
    "/hold",
    "/hold cancel",
    "/unhold",
    "/test ",
    "/test all",
    "/test ?",
    "/retest",
    "/retest-required",
    "/ok-to-test",
    "/label ",
    "/remove-label ",
    "/kind ",
    "/remove-kind ",
    "/area ",
    "/priority ",
    "/assign",
    "/unassign",
    "/cc",
    "/uncc",
    "@",
    "/lifecycle ",
    "rotten",
    "frozen",
    "stale",
    "/remove-lifecycle ",
    "/close",
    "/reopen",
    "/milestone ",
    "/milestone clear",
    "/retitle ",
    "/cherrypick ",
    "/cherry-pick ",
    "/override ",
    "/skip",
    "/help",
    "/remove-help",
    "/good-first-issue",
    "/meow",
    "/woof",
    "/bark",
    "/joke",
    "/shrug",
    "/pony",
    "/jira ",
    "```\n",
    "~~~\n",
    "<!--",
    "-->",
    "\r\n",
    "\u{a0}",
    "é",
    "\u{200b}",
    ",",
    "\"",
    "(?i)",
    "\\",
    "[",
    "]",
    "{2,}",
    "(",
    ")",
    "\\pL",
    "\\x{10FFFF}",
    "$",
    "^",
    "|",
    ".*",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let body = super::text(data);
    let body = body.as_ref();

    let plain = c::parse(body);
    let located = c::parse_located(body);
    assert_eq!(
        plain,
        located
            .iter()
            .map(|l| l.command.clone())
            .collect::<Vec<_>>(),
        "parse and parse_located disagree"
    );
    for l in &located {
        let text = body
            .get(l.span.clone())
            .unwrap_or_else(|| panic!("span {:?} not a char range of the body", l.span));
        assert!(text.starts_with('/'), "span {text:?} is not a command");
        let line = l.line_in(body);
        assert!(line >= 1 && line <= body.lines().count().max(1) + 1);
        let _ = l.command.plugin();
    }
    for l in c::approve::parse_located(body) {
        assert!(
            body.get(l.span.clone()).is_some(),
            "approve span {:?}",
            l.span
        );
    }

    let _ = c::trigger::parse(body).help_response(3);
    let _ = c::label::parse(body);
    let _ = c::approve::parse(body);
    let _ = c::approve::is_approval_command(body, true);
    let _ = c::assign::parse(body);
    let _ = c::assign::has_cc_command(body);
    let _ = c::assign::changes(body, c::assign::AssignKind::Assign, "commenter");
    let _ = c::assign::changes(body, c::assign::AssignKind::Cc, "commenter");
    let _ = c::cherrypick::parse(body);
    let _ = c::help::parse(body);
    let _ = c::hold::parse(body);
    let _ = c::lgtm::parse(body);
    let _ = c::lgtm::has_command(body);
    let _ = c::lifecycle::parse(body);
    let _ = c::milestone::parse(body);
    let _ = c::overrides::parse(body);
    let _ = c::overrides::split_contexts(body);
    let _ = c::retitle::parse(body);
    let _ = c::skip::parse(body);
    let _ = c::text::drop_code_blocks(body);
    let _ = c::text::strip_html_comments(body);

    // Job names and trigger regexes come from config; the first line stands in for one.
    let first = body.lines().next().unwrap_or_default();
    let first = &first[..first.floor_char_boundary(256)];
    let _ = c::goregex::compile(first);
    let _ = c::trigger::compile_trigger(first);
    let _ = c::trigger::default_trigger_regex(first);
    let _ = c::trigger::default_rerun_command_for(first);
}
