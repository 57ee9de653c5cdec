//! `trigger` plugin commands: running presubmit jobs on demand.
//!
//! # Grammar
//!
//! Every form must start at the beginning of a line; matching is
//! **case-sensitive** (`/RETEST` does nothing) and `\s` means ASCII
//! whitespace.
//!
//! ```text
//! /test <name>[,] ...        run jobs whose `trigger` regex matches (default: see default_trigger_for)
//! /test all[,] [anything]    run every job that does not need an explicit trigger
//! /test ?                    help: list the available /test commands
//! /test                      help: "needs one or more targets"
//! /retest                    rerun failed jobs (trailing whitespace allowed, nothing else)
//! /retest <anything>         help: "/retest does not accept targets"
//! /retest-required           like /retest but only required jobs
//! /test-manual-required      run required jobs that need an explicit trigger
//! /ok-to-test                mark the PR trusted and run /test all
//! /ok-to-test cancel         revoke /ok-to-test
//! ```
//!
//! # Preprocessing
//!
//! Prow's trigger plugin drops fenced code blocks
//! ([`drop_code_blocks`](crate::text::drop_code_blocks)) before deciding
//! whether a comment concerns it, before the `/ok-to-test` checks and before
//! deciding on help replies; [`parse`] does the same. **Prow quirk:** the
//! job *selection* step (`FilterPresubmits`) is then run on the *raw* body,
//! so a comment with `/test foo` outside and `/retest` inside a code block
//! also retests in Prow. Callers that want to reproduce that exactly can
//! run [`parse_text`] on the raw body for the selection step.
//!
//! # Job triggers
//!
//! Whether `/test <name>` selects a particular job is decided by that job's
//! `trigger` regex, not by this module: the targets reported here are only
//! informational. [`default_trigger_for`] builds Prow's default pattern; it
//! inserts the job name **unescaped**, so a `.` in a name matches any
//! character, exactly as in Prow. Compile user-supplied `trigger:` patterns
//! with [`compile_trigger`] so they get Go's regex semantics.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{Located, Preprocessed, builtin, is_go_space};
use crate::{Command, goregex};

/// Go pattern matching `/test all` (Prow `pjutil.TestAllRe`).
pub const TEST_ALL_PATTERN: &str = r"(?m)^/test all,?($|\s.*)";
/// Go pattern for `/retest`.
pub const RETEST_PATTERN: &str = r"(?m)^/retest\s*$";
/// Go pattern for `/retest-required`.
pub const RETEST_REQUIRED_PATTERN: &str = r"(?m)^/retest-required\s*$";
/// Go pattern for `/test-manual-required`.
pub const TEST_MANUAL_REQUIRED_PATTERN: &str = r"(?m)^/test-manual-required\s*$";
/// Go pattern for `/ok-to-test`.
pub const OK_TO_TEST_PATTERN: &str = r"(?m)^/ok-to-test\s*$";
/// Go pattern for `/ok-to-test cancel`.
pub const OK_TO_TEST_CANCEL_PATTERN: &str = r"(?m)^/ok-to-test\s+cancel\s*$";
/// Go pattern for `/test ?`.
pub const TEST_HELP_PATTERN: &str = r"(?m)^/test[ \t]*\?\s*$";
/// Go pattern for a bare `/test`.
pub const EMPTY_TEST_PATTERN: &str = r"(?m)^/test\s*$";
/// Go pattern for `/retest` followed by an argument.
pub const RETEST_WITH_TARGET_PATTERN: &str = r"(?m)^/retest[ \t]+\S+";
/// Go pattern for `/test` followed by any argument.
pub const TEST_WITH_ANY_TARGET_PATTERN: &str = r"(?m)^/test[ \t]+\S+";
/// Go pattern for any `/test…` or `/retest…` word (prunes old help replies).
pub const ANY_TEST_PATTERN: &str = r"(?m)^/(?:re)?test\b";

static TEST_ALL: LazyLock<Regex> = LazyLock::new(|| builtin(TEST_ALL_PATTERN));
static RETEST: LazyLock<Regex> = LazyLock::new(|| builtin(RETEST_PATTERN));
static RETEST_REQUIRED: LazyLock<Regex> = LazyLock::new(|| builtin(RETEST_REQUIRED_PATTERN));
static TEST_MANUAL_REQUIRED: LazyLock<Regex> =
    LazyLock::new(|| builtin(TEST_MANUAL_REQUIRED_PATTERN));
static OK_TO_TEST: LazyLock<Regex> = LazyLock::new(|| builtin(OK_TO_TEST_PATTERN));
static OK_TO_TEST_CANCEL: LazyLock<Regex> = LazyLock::new(|| builtin(OK_TO_TEST_CANCEL_PATTERN));
static TEST_HELP: LazyLock<Regex> = LazyLock::new(|| builtin(TEST_HELP_PATTERN));
static EMPTY_TEST: LazyLock<Regex> = LazyLock::new(|| builtin(EMPTY_TEST_PATTERN));
static RETEST_WITH_TARGET: LazyLock<Regex> = LazyLock::new(|| builtin(RETEST_WITH_TARGET_PATTERN));
static TEST_WITH_ANY_TARGET: LazyLock<Regex> =
    LazyLock::new(|| builtin(TEST_WITH_ANY_TARGET_PATTERN));
static ANY_TEST: LazyLock<Regex> = LazyLock::new(|| builtin(ANY_TEST_PATTERN));

/// Prow's default `trigger` regex (Go syntax) for a presubmit named `job`:
/// `/test` followed somewhere on the line by the name, optionally followed
/// by a comma, then end of line or whitespace. The name is **not** escaped.
#[must_use]
pub fn default_trigger_for(job: &str) -> String {
    format!(r"(?m)^/test( | .* ){job},?($|\s.*)")
}

/// Prow's default `rerun_command` for a presubmit named `job`.
#[must_use]
pub fn default_rerun_command_for(job: &str) -> String {
    format!("/test {job}")
}

/// Compiles a job `trigger` pattern written in Go regex syntax.
///
/// # Errors
///
/// Returns the regex error when the pattern is invalid (for the default
/// trigger this happens when the unescaped job name is not a valid regex).
pub fn compile_trigger(pattern: &str) -> Result<Regex, regex::Error> {
    goregex::compile(pattern)
}

/// Compiles [`default_trigger_for`]`(job)`.
///
/// # Errors
///
/// See [`compile_trigger`].
pub fn default_trigger_regex(job: &str) -> Result<Regex, regex::Error> {
    compile_trigger(&default_trigger_for(job))
}

/// Which help reply the trigger plugin would post, in Prow's priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpNote {
    /// `/test ?`: just list the available commands (no note).
    ListCommands,
    /// Bare `/test`.
    TestWithoutTarget,
    /// `/retest <something>`.
    RetestWithTarget,
    /// `/test all` selected no job.
    NoTestAllJobs,
    /// `/test <x>` selected no job.
    TargetNotFound,
}

impl HelpNote {
    /// The note Prow prepends to the help listing. The texts are part of the
    /// observable contract: Prow later recognises (and prunes) its own help
    /// replies by searching for them.
    #[must_use]
    pub fn note(self) -> &'static str {
        match self {
            Self::ListCommands => "",
            Self::TestWithoutTarget => "The `/test` command needs one or more targets.\n",
            Self::RetestWithTarget => "The `/retest` command does not accept any targets.\n",
            Self::NoTestAllJobs => "No jobs can be run with `/test all`.\n",
            Self::TargetNotFound => "The specified target(s) for `/test` were not found.\n",
        }
    }
}

/// Everything the trigger plugin needs to know about one comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerCommands {
    /// `/test all` present.
    pub test_all: bool,
    /// `/retest` present.
    pub retest: bool,
    /// `/retest-required` present.
    pub retest_required: bool,
    /// `/test-manual-required` present.
    pub test_manual_required: bool,
    /// `/ok-to-test` present.
    pub ok_to_test: bool,
    /// `/ok-to-test cancel` present.
    pub ok_to_test_cancel: bool,
    /// `/test ?` present.
    pub test_help: bool,
    /// Bare `/test` present.
    pub test_without_target: bool,
    /// `/retest <arg>` present.
    pub retest_with_target: bool,
    /// `/test <arg>` present (including `/test all` and `/test ?`).
    pub test_with_target: bool,
    /// Any line starting with `/test` or `/retest` as a word; a successful
    /// run prunes earlier help replies when this is set.
    pub prunes_help: bool,
    /// Words after every `/test` (one trailing comma stripped), in order.
    /// Informational only: jobs are selected by their trigger regexes.
    pub targets: Vec<String>,
}

impl TriggerCommands {
    /// True if one of the help-request forms is present (Prow
    /// `MayNeedHelpComment`).
    #[must_use]
    pub fn may_need_help(&self) -> bool {
        self.test_without_target
            || self.retest_with_target
            || self.test_with_target
            || self.test_help
    }

    /// True if the comment concerns the trigger plugin regardless of job
    /// configuration. The plugin must additionally check every presubmit's
    /// trigger regex against the same text.
    #[must_use]
    pub fn is_relevant(&self) -> bool {
        self.retest
            || self.retest_required
            || self.test_manual_required
            || self.ok_to_test
            || self.ok_to_test_cancel
            || self.test_all
            || self.may_need_help()
    }

    /// True if jobs started by this comment get the `prow.k8s.io/retest`
    /// label.
    #[must_use]
    pub fn is_retest(&self) -> bool {
        self.retest || self.retest_required
    }

    /// The help reply Prow would give, given how many jobs the comment
    /// selected (Prow `ShouldRespondWithHelp`).
    #[must_use]
    pub fn help_response(&self, selected_jobs: usize) -> Option<HelpNote> {
        if self.test_help {
            Some(HelpNote::ListCommands)
        } else if self.test_without_target {
            Some(HelpNote::TestWithoutTarget)
        } else if self.retest_with_target {
            Some(HelpNote::RetestWithTarget)
        } else if selected_jobs == 0 && self.test_all {
            Some(HelpNote::NoTestAllJobs)
        } else if selected_jobs == 0 && self.test_with_target {
            Some(HelpNote::TargetNotFound)
        } else {
            None
        }
    }
}

/// Parses a comment body the way the trigger plugin does: fenced code
/// blocks are dropped first.
#[must_use]
pub fn parse(body: &str) -> TriggerCommands {
    parse_text(&crate::text::drop_code_blocks(body))
}

/// Like [`parse`] but without dropping code blocks.
#[must_use]
pub fn parse_text(text: &str) -> TriggerCommands {
    TriggerCommands {
        test_all: TEST_ALL.is_match(text),
        retest: RETEST.is_match(text),
        retest_required: RETEST_REQUIRED.is_match(text),
        test_manual_required: TEST_MANUAL_REQUIRED.is_match(text),
        ok_to_test: OK_TO_TEST.is_match(text),
        ok_to_test_cancel: OK_TO_TEST_CANCEL.is_match(text),
        test_help: TEST_HELP.is_match(text),
        test_without_target: EMPTY_TEST.is_match(text),
        retest_with_target: RETEST_WITH_TARGET.is_match(text),
        test_with_target: TEST_WITH_ANY_TARGET.is_match(text),
        prunes_help: ANY_TEST.is_match(text),
        targets: TEST_WITH_ANY_TARGET
            .find_iter(text)
            .flat_map(|m| targets_from(&text[m.start()..]))
            .collect(),
    }
}

/// Splits the rest of a `/test …` line into targets.
fn targets_from(line_start: &str) -> Vec<String> {
    let line = line_start.split('\n').next().unwrap_or_default();
    let args = line.strip_prefix("/test").unwrap_or(line);
    args.split(is_go_space)
        .filter(|w| !w.is_empty())
        .map(|w| w.strip_suffix(',').unwrap_or(w).to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Located trigger commands for [`crate::parse_located`].
pub(crate) fn located(body: &str) -> Vec<Located<Command>> {
    let pre = Preprocessed::without_code_blocks(body);
    let text: &str = &pre.text;
    let mut out = Vec::new();
    let simple: [(&Regex, Command); 6] = [
        (&RETEST, Command::Retest),
        (&RETEST_REQUIRED, Command::RetestRequired),
        (&TEST_MANUAL_REQUIRED, Command::TestManualRequired),
        (&OK_TO_TEST, Command::OkToTest),
        (&OK_TO_TEST_CANCEL, Command::OkToTestCancel),
        (&EMPTY_TEST, Command::TestWithoutTarget),
    ];
    for (re, cmd) in simple {
        out.extend(
            re.find_iter(text)
                .map(|m| pre.locate(cmd.clone(), m.range())),
        );
    }
    for m in RETEST_WITH_TARGET.find_iter(text) {
        let line = text[m.start()..].split('\n').next().unwrap_or_default();
        let args = line
            .strip_prefix("/retest")
            .unwrap_or(line)
            .trim_matches(is_go_space);
        out.push(pre.locate(
            Command::RetestWithTarget {
                args: args.to_owned(),
            },
            m.range(),
        ));
    }
    let help: Vec<_> = TEST_HELP.find_iter(text).map(|m| m.range()).collect();
    let all: Vec<_> = TEST_ALL.find_iter(text).map(|m| m.range()).collect();
    for r in &help {
        out.push(pre.locate(Command::TestHelp, r.clone()));
    }
    for r in &all {
        out.push(pre.locate(Command::TestAll, r.clone()));
    }
    for m in TEST_WITH_ANY_TARGET.find_iter(text) {
        // `/test ?` and `/test all` are reported as their dedicated commands.
        if help.iter().chain(&all).any(|r| r.start == m.start()) {
            continue;
        }
        out.push(pre.locate(
            Command::Test {
                targets: targets_from(&text[m.start()..]),
            },
            m.range(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_trigger_matches_like_prow() {
        let re = default_trigger_regex("pull-unit").unwrap();
        for yes in [
            "/test pull-unit",
            "/test pull-unit,",
            "/test pull-unit, pull-e2e",
            "/test a pull-unit b",
            "/test all pull-unit",
            "hi\n/test pull-unit\nbye",
            "/test pull-unit\r\n",
            "/test  pull-unit",
        ] {
            assert!(re.is_match(yes), "{yes:?}");
        }
        for no in [
            "/test pull-unit-2",
            "/test pull-unitx",
            "/test pull-unit,x",
            " /test pull-unit",
            "/TEST pull-unit",
            "/testpull-unit",
        ] {
            assert!(!re.is_match(no), "{no:?}");
        }
    }

    #[test]
    fn default_trigger_is_unescaped() {
        assert_eq!(
            default_trigger_for("a.b"),
            r"(?m)^/test( | .* )a.b,?($|\s.*)"
        );
        let re = default_trigger_regex("a.b").unwrap();
        assert!(re.is_match("/test axb"));
        assert!(default_trigger_regex("bad(").is_err());
        assert_eq!(default_rerun_command_for("x"), "/test x");
    }

    #[test]
    fn help_priority() {
        let c = parse("/test ?\n/test");
        assert_eq!(c.help_response(3), Some(HelpNote::ListCommands));
        let c = parse("/retest foo");
        assert_eq!(c.help_response(3), Some(HelpNote::RetestWithTarget));
        let c = parse("/test all");
        assert_eq!(c.help_response(0), Some(HelpNote::NoTestAllJobs));
        assert_eq!(c.help_response(1), None);
        let c = parse("/test nope");
        assert_eq!(c.help_response(0), Some(HelpNote::TargetNotFound));
        assert!(c.is_relevant());
        assert!(!parse("hello").is_relevant());
        assert!(
            HelpNote::TestWithoutTarget
                .note()
                .contains("needs one or more targets")
        );
    }
}
