#![doc = include_str!("../README.md")]

use regex::Regex;

pub mod approve;
pub mod assign;
pub mod cherrypick;
pub mod fun;
pub mod goregex;
pub mod help;
pub mod hold;
pub mod label;
pub mod lgtm;
pub mod lifecycle;
pub mod milestone;
pub mod misc;
pub mod overrides;
pub mod retitle;
pub mod skip;
pub mod text;
pub mod trigger;

pub use label::LabelCategory;
pub use lifecycle::LifecycleState;
pub use milestone::MilestoneTarget;
pub use misc::StageName;
pub use text::Located;

/// The most commands (or values, for commands that take several) of one kind a plugin acts on
/// per comment. Prow has no limit, but one comment can hold thousands of commands (GitHub
/// allows 65 536 characters), and acting on each one is thousands of GitHub calls and a reply
/// listing them all: the family parsers keep the first ones and say they dropped the rest.
pub const MAX_COMMANDS_PER_KIND: usize = 100;

/// The sentence a reply adds, once, when a comment had more than [`MAX_COMMANDS_PER_KIND`]
/// commands of a kind (`what`, e.g. "label commands").
#[must_use]
pub fn truncation_note(what: &str) -> String {
    format!(
        "This comment has more than {MAX_COMMANDS_PER_KIND} {what}; only the first {MAX_COMMANDS_PER_KIND} were acted on."
    )
}

/// Keeps the first [`MAX_COMMANDS_PER_KIND`] items; whether any were dropped.
pub(crate) fn keep_first<T>(items: &mut Vec<T>) -> bool {
    let over = items.len() > MAX_COMMANDS_PER_KIND;
    items.truncate(MAX_COMMANDS_PER_KIND);
    over
}

/// Every chat-ops command this crate recognises.
///
/// Each variant is produced exactly when the owning plugin (see
/// [`Command::plugin`]) would recognise it. For plugin *decisions*, such
/// as whether a comment with both `/hold` and `/hold cancel` holds, use
/// the family module's `parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    // ---- trigger ------------------------------------------------------
    /// `/test <targets…>` (not `all` or `?`). Each target has one trailing
    /// comma removed. Jobs are selected by their trigger regexes; see
    /// [`trigger`].
    Test {
        /// Words after `/test`.
        targets: Vec<String>,
    },
    /// `/test all`.
    TestAll,
    /// `/test ?`: list the available jobs.
    TestHelp,
    /// Bare `/test` (gets a help reply).
    TestWithoutTarget,
    /// `/retest`.
    Retest,
    /// `/retest <args>` (gets a help reply; `/retest` takes no targets).
    RetestWithTarget {
        /// The rest of the line, trimmed.
        args: String,
    },
    /// `/retest-required`.
    RetestRequired,
    /// `/test-manual-required`.
    TestManualRequired,
    /// `/ok-to-test`.
    OkToTest,
    /// `/ok-to-test cancel`.
    OkToTestCancel,

    // ---- lgtm / approve ----------------------------------------------
    /// `/lgtm` or `/lgtm no-issue`.
    Lgtm {
        /// `no-issue` was given.
        no_issue: bool,
    },
    /// `/lgtm cancel` or `/remove-lgtm`.
    LgtmCancel,
    /// `/approve [args]`.
    Approve {
        /// The argument was exactly `no-issue`.
        no_issue: bool,
    },
    /// `/approve …cancel…` or `/remove-approve`.
    ApproveCancel,

    // ---- hold ---------------------------------------------------------
    /// `/hold [anything]`.
    Hold,
    /// `/hold cancel`, `/unhold` or `/remove-hold`.
    HoldCancel,

    // ---- label --------------------------------------------------------
    /// `/<category> <values…>`.
    AddLabels {
        /// The command name.
        category: LabelCategory,
        /// Full label names such as `kind/bug`, lowercased.
        labels: Vec<String>,
    },
    /// `/remove-<category> <values…>`.
    RemoveLabels {
        /// The command name without `remove-`.
        category: LabelCategory,
        /// Full label names such as `kind/bug`, lowercased.
        labels: Vec<String>,
    },
    /// `/label <label>` (exactly one argument).
    Label {
        /// The label, lowercased.
        label: String,
        /// The matched command text, for error replies.
        command_text: String,
    },
    /// `/remove-label <label>` (exactly one argument).
    RemoveLabel {
        /// The label, lowercased.
        label: String,
        /// The matched command text, for error replies.
        command_text: String,
    },

    // ---- assign -------------------------------------------------------
    /// `/assign` or `/unassign`, with optional logins.
    Assign {
        /// `/unassign` (lowercase `un` only).
        remove: bool,
        /// Logins without `@`; empty means the commenter.
        targets: Vec<String>,
    },
    /// `/cc` or `/uncc`, with optional logins or `org/team`s.
    Cc {
        /// `/uncc` (lowercase `un` only).
        remove: bool,
        /// Logins or `org/team` without `@`; empty means the commenter.
        targets: Vec<String>,
    },

    // ---- lifecycle ----------------------------------------------------
    /// `/close`.
    Close,
    /// `/close not-planned`.
    CloseNotPlanned,
    /// `/reopen`.
    Reopen,
    /// `/lifecycle <state>`.
    Lifecycle(LifecycleState),
    /// `/remove-lifecycle <state>`.
    RemoveLifecycle(LifecycleState),

    // ---- help ---------------------------------------------------------
    /// `/help`.
    Help,
    /// `/remove-help`.
    RemoveHelp,
    /// `/good-first-issue`.
    GoodFirstIssue,
    /// `/remove-good-first-issue`.
    RemoveGoodFirstIssue,

    // ---- skip / override ---------------------------------------------
    /// `/skip`.
    Skip,
    /// `/override [contexts…]`; `None` when no argument was given.
    Override {
        /// Contexts to override.
        contexts: Option<Vec<String>>,
    },
    /// `/override-sticky [contexts…]`.
    OverrideSticky {
        /// Contexts to override.
        contexts: Option<Vec<String>>,
    },
    /// `/override-cancel [contexts…]`; `None` cancels every override.
    OverrideCancel {
        /// Contexts whose overrides to cancel.
        contexts: Option<Vec<String>>,
    },

    // ---- retitle / milestone / cherry-pick ---------------------------
    /// `/retitle <title>` (trimmed; may be empty).
    Retitle {
        /// The new title.
        title: String,
    },
    /// `/milestone <name>` or `/milestone clear`.
    Milestone(MilestoneTarget),
    /// `/cherrypick` or `/cherry-pick`.
    CherryPick {
        /// The branch to cherry-pick onto.
        target: String,
        /// Branches to cherry-pick onto afterwards.
        chained: Vec<String>,
    },

    // ---- fun ----------------------------------------------------------
    /// `/meow [category]` or `/meowvie [category]`.
    Meow {
        /// `/meowvie`.
        movie: bool,
        /// Optional category.
        category: Option<String>,
    },
    /// `/woof` or `/bark`.
    Woof,
    /// `/this-is-fine`.
    ThisIsFine,
    /// `/this-is-not-fine`.
    ThisIsNotFine,
    /// `/this-is-unbearable`.
    ThisIsUnbearable,
    /// `/pony [name]`.
    Pony {
        /// Optional pony name.
        name: Option<String>,
    },
    /// `/honk`.
    Honk,
    /// `/shrug`.
    Shrug,
    /// `/unshrug`.
    Unshrug,
    /// `/joke`.
    Joke,
    /// `/trick-or-treat`.
    TrickOrTreat,

    // ---- misc ---------------------------------------------------------
    /// `/stage <stage>` or `/remove-stage <stage>`.
    Stage {
        /// `/remove-stage`.
        remove: bool,
        /// The stage.
        stage: StageName,
    },
    /// `/release-note`.
    ReleaseNote,
    /// `/release-note-none`.
    ReleaseNoteNone,
    /// `/release-note-action-required`.
    ReleaseNoteActionRequired,
    /// `/release-note-edit`.
    ReleaseNoteEdit,
    /// `/auto-cc`.
    AutoCc,
    /// `/verify-owners`.
    VerifyOwners,
    /// `/check-cla`.
    CheckCla,
    /// `/check-dco`.
    CheckDco,
    /// `/lint`.
    Lint,
    /// `/buildify` or `/buildifier`.
    Buildify,
    /// `/check-required-labels`.
    CheckRequiredLabels,
    /// `/refresh`.
    Refresh,
    /// `/bugzilla refresh`.
    BugzillaRefresh,
    /// `/bugzilla assign-qa`.
    BugzillaAssignQa,
    /// `/bugzilla cc-qa`.
    BugzillaCcQa,
    /// `/pin-issue`.
    PinIssue,
    /// `/unpin-issue`.
    UnpinIssue,
    /// `/transfer <repo>` or `/transfer-issue <repo>`; empty when missing.
    Transfer {
        /// Destination repository name, trimmed.
        destination: String,
    },
    /// `/link-issue <refs…>`.
    LinkIssue {
        /// Issue references as typed.
        refs: Vec<String>,
    },
    /// `/unlink-issue <refs…>`.
    UnlinkIssue {
        /// Issue references as typed.
        refs: Vec<String>,
    },
}

impl Command {
    /// The name of the Prow plugin that handles this command (as used in
    /// `plugins.yaml`).
    #[must_use]
    pub fn plugin(&self) -> &'static str {
        match self {
            Self::Test { .. }
            | Self::TestAll
            | Self::TestHelp
            | Self::TestWithoutTarget
            | Self::Retest
            | Self::RetestWithTarget { .. }
            | Self::RetestRequired
            | Self::TestManualRequired
            | Self::OkToTest
            | Self::OkToTestCancel => "trigger",
            Self::Lgtm { .. } | Self::LgtmCancel => "lgtm",
            Self::Approve { .. } | Self::ApproveCancel => "approve",
            Self::Hold | Self::HoldCancel => "hold",
            Self::AddLabels { .. }
            | Self::RemoveLabels { .. }
            | Self::Label { .. }
            | Self::RemoveLabel { .. } => "label",
            Self::Assign { .. } | Self::Cc { .. } => "assign",
            Self::Close
            | Self::CloseNotPlanned
            | Self::Reopen
            | Self::Lifecycle(_)
            | Self::RemoveLifecycle(_) => "lifecycle",
            Self::Help | Self::RemoveHelp | Self::GoodFirstIssue | Self::RemoveGoodFirstIssue => {
                "help"
            }
            Self::Skip => "skip",
            Self::Override { .. } | Self::OverrideSticky { .. } | Self::OverrideCancel { .. } => {
                "override"
            }
            Self::Retitle { .. } => "retitle",
            Self::Milestone(_) => "milestone",
            Self::CherryPick { .. } => "cherrypicker",
            Self::Meow { .. } => "cat",
            Self::Woof | Self::ThisIsFine | Self::ThisIsNotFine | Self::ThisIsUnbearable => "dog",
            Self::Pony { .. } => "pony",
            Self::Honk => "goose",
            Self::Shrug | Self::Unshrug => "shrug",
            Self::Joke => "yuks",
            Self::TrickOrTreat => "trick-or-treat",
            Self::Stage { .. } => "stage",
            Self::ReleaseNote
            | Self::ReleaseNoteNone
            | Self::ReleaseNoteActionRequired
            | Self::ReleaseNoteEdit => "release-note",
            Self::AutoCc => "blunderbuss",
            Self::VerifyOwners => "verify-owners",
            Self::CheckCla => "cla",
            Self::CheckDco => "dco",
            Self::Lint => "golint",
            Self::Buildify => "buildifier",
            Self::CheckRequiredLabels => "require-matching-label",
            Self::Refresh => "refresh",
            Self::BugzillaRefresh | Self::BugzillaAssignQa | Self::BugzillaCcQa => "bugzilla",
            Self::PinIssue
            | Self::UnpinIssue
            | Self::Transfer { .. }
            | Self::LinkIssue { .. }
            | Self::UnlinkIssue { .. } => "issue-management",
        }
    }
}

/// Parses every command in a comment body, in order of appearance.
///
/// Each family applies its own plugin's rules (case sensitivity, allowed
/// trailing text, code-block or HTML-comment stripping), so the result is
/// the union of what every Prow plugin would see.
#[must_use]
pub fn parse(body: &str) -> Vec<Command> {
    parse_located(body).into_iter().map(|l| l.command).collect()
}

/// Like [`parse`], with the byte span of each command in `body`.
///
/// Commands are ordered by start offset; for the same offset, by family in
/// the order trigger, lgtm, approve, hold, label, assign, lifecycle, help,
/// skip, override, retitle, milestone, cherrypick, fun, misc.
#[must_use]
pub fn parse_located(body: &str) -> Vec<Located<Command>> {
    let families: [FamilyParser; 15] = [
        trigger::located,
        lgtm::located,
        approve::located,
        hold::located,
        label::located,
        assign::located,
        lifecycle::located,
        help::located,
        skip::located,
        overrides::located,
        retitle::located,
        milestone::located,
        cherrypick::located,
        fun::located,
        misc::located,
    ];
    // Cheap pre-check: every command contains a `/`. (Not "a line starting
    // with `/`": stripping `<!-- -->` can create one, e.g. `<!-- x -->/kind bug`.)
    if !body.contains('/') {
        return Vec::new();
    }
    let mut all: Vec<Located<Command>> = families.iter().flat_map(|f| f(body)).collect();
    // Stable: ties keep family order.
    all.sort_by_key(|l| l.span.start);
    all
}

/// A family's located parser.
type FamilyParser = fn(&str) -> Vec<Located<Command>>;

/// Finds every match of each regex and reports the paired command.
pub(crate) fn simple_matches(body: &str, table: &[(&Regex, Command)]) -> Vec<Located<Command>> {
    table
        .iter()
        .flat_map(|(re, cmd)| {
            re.find_iter(body)
                .map(|m| Located::new(cmd.clone(), m.range()))
        })
        .collect()
}
