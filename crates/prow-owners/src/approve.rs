//! The approve plugin's decision core (Prow `pkg/plugins/approve` and
//! `pkg/plugins/approve/approvers`), without any GitHub calls.
//!
//! Flow: [`evaluate`] takes the repository's [`RepoOwners`], the PR facts
//! ([`PullRequestContext`]) and every comment/review ([`ApprovalEvent`]) and
//! returns an [`Approvers`] value that answers: which OWNERS files are
//! required, who approved what, is the PR approved, whom to suggest. The
//! [`crate::notifier`] module renders it as the bot comment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;

use crate::paths::{clean, owners_file_path, parent};
use crate::repo::RepoOwners;
use crate::shuffle::deterministic_shuffle;

const APPROVE_COMMAND: &str = "APPROVE";
const LGTM_COMMAND: &str = "LGTM";
const REMOVE_APPROVE_COMMAND: &str = "REMOVE-APPROVE";
const CANCEL_ARGUMENT: &str = "cancel";
const NO_ISSUE_ARGUMENT: &str = "no-issue";

/// Any line starting with `/word`, capturing the command and the rest of the
/// line. Whitespace classes are spelled out because Go's `\s` is ASCII-only.
static COMMAND_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^/([^\t\n\x0C\r ]+)[\t ]*([^\n\r]*)").expect("static regex is valid")
});

/// Per-repo `approve` plugin options that affect the decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApproveConfig {
    /// PRs must reference an issue (or get `/approve no-issue`).
    pub issue_required: bool,
    /// The PR author does not implicitly approve their own PR.
    pub require_self_approval: bool,
    /// `/lgtm` also counts as `/approve` (and `/lgtm cancel` cancels).
    pub lgtm_acts_as_approve: bool,
    /// GitHub review states do not count as approve / cancel.
    pub ignore_review_state: bool,
}

/// A GitHub pull-request review state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReviewState {
    /// `APPROVED`: acts as `/approve`.
    Approved,
    /// `CHANGES_REQUESTED`: acts as `/approve cancel`.
    ChangesRequested,
    /// `COMMENTED`.
    Commented,
    /// `DISMISSED`: only the body's commands count.
    Dismissed,
    /// `PENDING`.
    Pending,
    /// Anything else.
    Other,
}

impl ReviewState {
    /// Parses a state case-insensitively (webhooks send lower case, the REST
    /// API upper case).
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "APPROVED" => Self::Approved,
            "CHANGES_REQUESTED" => Self::ChangesRequested,
            "COMMENTED" => Self::Commented,
            "DISMISSED" => Self::Dismissed,
            "PENDING" => Self::Pending,
            _ => Self::Other,
        }
    }
}

/// One issue comment, review comment or review on the PR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalEvent {
    /// Login of the author.
    pub author: String,
    /// Comment or review body; `/approve`-style command lines are read from it.
    pub body: String,
    /// Creation time (review: submission time); events are replayed in this
    /// order, ties keeping input order.
    pub created_at: DateTime<Utc>,
    /// Link shown in the notification's approver list.
    pub html_url: String,
    /// `Some` for reviews.
    pub review_state: Option<ReviewState>,
    /// The author is a bot account (e.g. a review whose user type is `Bot`).
    /// Like Prow, a login flagged once is treated as a bot for all events.
    pub author_is_bot: bool,
}

impl ApprovalEvent {
    /// A plain comment event.
    pub fn comment(author: &str, body: &str, created_at: DateTime<Utc>, html_url: &str) -> Self {
        Self {
            author: author.to_owned(),
            body: body.to_owned(),
            created_at,
            html_url: html_url.to_owned(),
            review_state: None,
            author_is_bot: false,
        }
    }

    /// A review event.
    pub fn review(
        author: &str,
        body: &str,
        state: ReviewState,
        created_at: DateTime<Utc>,
        html_url: &str,
    ) -> Self {
        Self {
            review_state: Some(state),
            ..Self::comment(author, body, created_at, html_url)
        }
    }
}

/// Facts about the PR needed for the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequestContext {
    /// PR number; also seeds the suggestion shuffle.
    pub number: u64,
    /// Organisation (used to recognise `org/<repo>/issues/N` links).
    pub org: String,
    /// PR author login.
    pub author: String,
    /// PR body (searched for an associated issue).
    pub body: String,
    /// PR HTML URL; the author's implicit approval links to `<url>#`.
    pub html_url: String,
    /// Changed file paths.
    pub changed_files: Vec<String>,
    /// Current assignees.
    pub assignees: Vec<String>,
    /// The bot's own login; its comments never count.
    pub bot_login: Option<String>,
    /// The `approved` label is present and was added by a human (Prow then
    /// treats the PR as approved regardless of OWNERS).
    pub manually_approved: bool,
}

/// How an approval was given (the `title` of its link in the notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApprovalHow {
    /// `/approve` or an approving review.
    Approved,
    /// `/lgtm` with `lgtm_acts_as_approve`.
    Lgtm,
    /// Implicit approval by the PR author.
    AuthorSelfApproved,
}

impl ApprovalHow {
    /// The text Prow shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "Approved",
            Self::Lgtm => "LGTM",
            Self::AuthorSelfApproved => "Author self-approved",
        }
    }
}

/// One user's current approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// Login as typed by GitHub (original case).
    pub login: String,
    /// How it was given.
    pub how: ApprovalHow,
    /// Link to the comment/review.
    pub reference: String,
    /// Also waives the associated-issue requirement.
    pub no_issue: bool,
}

impl Approval {
    /// Markdown/HTML link used in the notification.
    pub fn to_markdown(&self) -> String {
        format!(
            r#"*<a href="{}" title="{}">{}</a>*"#,
            self.reference,
            self.how.as_str(),
            self.login
        )
    }
}

/// Approval status of one required OWNERS file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnersFileStatus {
    /// OWNERS directory key (`""` for the root, or a `*.md` file).
    pub dir: String,
    /// Path of the OWNERS file as displayed (`a/OWNERS`, `b/README.md`).
    pub owners_path: String,
    /// Whether every changed file under it has an approval.
    pub approved: bool,
    /// Current approvers (original case, sorted) who can approve it.
    pub approvers: Vec<String>,
}

/// Add or remove the `approved` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LabelChange {
    /// Add `approved`.
    Add,
    /// Remove `approved`.
    Remove,
}

/// Per-file data computed once from the repository.
#[derive(Debug, Clone)]
struct FileOwners {
    owners_dir: String,
    approvers: BTreeSet<String>,
    leaf_approvers: BTreeSet<String>,
}

/// OWNERS view of one PR: which OWNERS files it needs and who can approve.
#[derive(Debug, Clone)]
pub struct Owners<'a> {
    repo: &'a RepoOwners,
    files: Vec<FileOwners>,
    required: BTreeSet<String>,
    seed: u64,
}

impl<'a> Owners<'a> {
    /// Resolves the owners of `changed_files`; `seed` (the PR number) fixes
    /// the suggestion order.
    pub fn new<S: AsRef<str>>(repo: &'a RepoOwners, changed_files: &[S], seed: u64) -> Self {
        let files: Vec<FileOwners> = changed_files
            .iter()
            .map(|f| {
                let f = f.as_ref();
                FileOwners {
                    owners_dir: repo.find_approver_owners_for_file(f),
                    approvers: repo.approvers(f).to_set(),
                    leaf_approvers: repo.leaf_approvers(f),
                }
            })
            .collect();
        let mut required = BTreeSet::new();
        for (f, fo) in changed_files.iter().zip(&files) {
            if !is_auto_approved(repo, f.as_ref(), &fo.owners_dir) {
                required.insert(fo.owners_dir.clone());
            }
        }
        remove_subdirs(repo, &mut required);
        Self {
            repo,
            files,
            required,
            seed,
        }
    }

    /// The repository data.
    pub fn repo(&self) -> &'a RepoOwners {
        self.repo
    }

    /// Whether the PR changes any file.
    pub fn has_files(&self) -> bool {
        !self.files.is_empty()
    }

    /// OWNERS directories that must approve, after collapsing directories
    /// covered by an ancestor in the set (unless `no_parent_owners` cuts the
    /// inheritance) and dropping auto-approved unowned sub-folders.
    pub fn required_owners(&self) -> &BTreeSet<String> {
        &self.required
    }

    /// Required OWNERS directory → everyone able to approve it.
    pub fn approvers_by_owners(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.collect_by_owners(|f| &f.approvers)
    }

    /// Required OWNERS directory → its nearest (leaf) approvers.
    pub fn leaf_approvers_by_owners(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.collect_by_owners(|f| &f.leaf_approvers)
    }

    fn collect_by_owners(
        &self,
        pick: impl Fn(&FileOwners) -> &BTreeSet<String>,
    ) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in &self.files {
            if self.required.contains(&f.owners_dir) {
                out.entry(f.owners_dir.clone())
                    .or_default()
                    .extend(pick(f).iter().cloned());
            }
        }
        out
    }

    /// Leaf approvers of all required OWNERS files, sorted, with a user
    /// repeated once per OWNERS file listing them (as Prow does; repeats
    /// weigh the shuffle).
    pub fn all_potential_approvers(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .leaf_approvers_by_owners()
            .into_values()
            .flatten()
            .collect();
        out.sort();
        out
    }

    /// [`Self::all_potential_approvers`] in the PR-seeded order; see
    /// [`crate::deterministic_shuffle`].
    pub fn shuffled_approvers(&self) -> Vec<String> {
        deterministic_shuffle(&self.all_potential_approvers(), self.seed)
    }

    /// Required OWNERS directories not approved by any of `approvers`
    /// (lower-case logins).
    pub fn unapproved_owners(&self, approvers: &BTreeSet<String>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for f in &self.files {
            if self.required.contains(&f.owners_dir) && f.approvers.is_disjoint(approvers) {
                out.insert(f.owners_dir.clone());
            }
        }
        out
    }

    /// Whether `approvers` approve every required OWNERS file of a non-empty PR.
    fn approved_by(&self, approvers: &BTreeSet<String>) -> bool {
        self.has_files() && self.unapproved_owners(approvers).is_empty()
    }

    /// Greedy set cover: repeatedly take, in `potential` order, the first
    /// candidate covering the most still-unapproved OWNERS files according to
    /// `reverse` (user → OWNERS files), until everything is approved or
    /// nobody helps.
    pub fn suggested_approvers(
        &self,
        reverse: &BTreeMap<String, BTreeSet<String>>,
        potential: &[String],
    ) -> BTreeSet<String> {
        let mut chosen = BTreeSet::new();
        while !self.approved_by(&chosen) {
            let unapproved = self.unapproved_owners(&chosen);
            match most_covering(potential, &chosen, reverse, &unapproved) {
                Some(best) => {
                    chosen.insert(best);
                }
                None => break,
            }
        }
        chosen
    }

    /// Suggestions from `potential` that still help once `known` approvers
    /// are counted.
    pub fn keep_covering_approvers(
        &self,
        reverse: &BTreeMap<String, BTreeSet<String>>,
        known: &BTreeSet<String>,
        potential: &[String],
    ) -> BTreeSet<String> {
        let unapproved = self.unapproved_owners(known);
        self.suggested_approvers(reverse, potential)
            .into_iter()
            .filter(|s| reverse.get(s).is_some_and(|f| !f.is_disjoint(&unapproved)))
            .collect()
    }
}

/// user → OWNERS directories they can approve.
pub fn reverse_map(
    by_owners: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (owners, users) in by_owners {
        for u in users {
            out.entry(u.clone()).or_default().insert(owners.clone());
        }
    }
    out
}

/// Picks the best next approver. Prow compares candidates by how many
/// *unapproved* files they cover but records the winner's *total* file count
/// as the bar to beat; we keep that quirk so suggestions match Prow's choice
/// for a given candidate order.
fn most_covering(
    potential: &[String],
    chosen: &BTreeSet<String>,
    reverse: &BTreeMap<String, BTreeSet<String>>,
    unapproved: &BTreeSet<String>,
) -> Option<String> {
    let mut bar = 0;
    let mut best = None;
    for candidate in potential {
        let Some(files) = reverse.get(candidate) else {
            continue;
        };
        let covers = files.intersection(unapproved).count();
        if covers > bar && !chosen.contains(candidate) {
            bar = files.len();
            best = Some(candidate.clone());
        }
    }
    best
}

/// Prow's auto-approve test: the OWNERS directory enables
/// `auto_approve_unowned_subfolders` and the file sits in a sub-folder of it.
/// Prow checks `strings.Contains(Dir(Dir(file)), ownersDir)`, which for the
/// root OWNERS (`""`) is always true, so with the option set on the root even
/// top-level files are auto-approved. Reproduced deliberately.
fn is_auto_approved(repo: &RepoOwners, file: &str, owners_dir: &str) -> bool {
    if !repo.is_auto_approve_unowned_subfolders(owners_dir) {
        return false;
    }
    let file = clean(file);
    let grandparent = parent(parent(&file));
    let grandparent = if grandparent.is_empty() {
        "."
    } else {
        grandparent
    };
    grandparent.contains(owners_dir)
}

/// Drops directories that have an ancestor in the set, unless a
/// `no_parent_owners` directory lies on the way up (that one stays and stops
/// the walk). Processed in sorted order with live removal, as Prow does.
fn remove_subdirs(repo: &RepoOwners, dirs: &mut BTreeSet<String>) {
    let snapshot: Vec<String> = dirs.iter().cloned().collect();
    for dir in snapshot {
        let mut path = dir.as_str();
        while !repo.is_no_parent_owners(path) && !path.is_empty() {
            path = parent(path);
            if dirs.contains(path) {
                dirs.remove(&dir);
                break;
            }
        }
    }
}

/// The approval state of a PR.
#[derive(Debug, Clone)]
pub struct Approvers<'a> {
    owners: Owners<'a>,
    /// Keyed by lower-cased login.
    approvals: BTreeMap<String, Approval>,
    assignees: BTreeSet<String>,
    /// Issue number referenced by the PR body.
    pub associated_issue: Option<u64>,
    /// `issue_required` is configured.
    pub require_issue: bool,
    /// A human added the `approved` label.
    pub manually_approved: bool,
}

impl<'a> Approvers<'a> {
    /// No approvals yet.
    pub fn new(owners: Owners<'a>) -> Self {
        Self {
            owners,
            approvals: BTreeMap::new(),
            assignees: BTreeSet::new(),
            associated_issue: None,
            require_issue: false,
            manually_approved: false,
        }
    }

    /// The owners view.
    pub fn owners(&self) -> &Owners<'a> {
        &self.owners
    }

    /// A newer approval replaces an older one, except that a `no-issue`
    /// approval is not downgraded by a plain one.
    fn add(&mut self, login: &str, how: ApprovalHow, reference: &str, no_issue: bool) {
        let key = login.to_lowercase();
        if self
            .approvals
            .get(&key)
            .is_some_and(|a| a.no_issue && !no_issue)
        {
            return;
        }
        self.approvals.insert(
            key,
            Approval {
                login: login.to_owned(),
                how,
                reference: reference.to_owned(),
                no_issue,
            },
        );
    }

    /// Records `/approve` (or an approving review).
    pub fn add_approver(&mut self, login: &str, reference: &str, no_issue: bool) {
        self.add(login, ApprovalHow::Approved, reference, no_issue);
    }

    /// Records `/lgtm` acting as approval.
    pub fn add_lgtmer(&mut self, login: &str, reference: &str, no_issue: bool) {
        self.add(login, ApprovalHow::Lgtm, reference, no_issue);
    }

    /// Records the author's implicit approval.
    pub fn add_author_self_approver(&mut self, login: &str, reference: &str, no_issue: bool) {
        self.add(login, ApprovalHow::AuthorSelfApproved, reference, no_issue);
    }

    /// Drops a user's approval.
    pub fn remove_approver(&mut self, login: &str) {
        self.approvals.remove(&login.to_lowercase());
    }

    /// Adds assignees (considered when suggesting approvers).
    pub fn add_assignees<I, S>(&mut self, logins: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.assignees
            .extend(logins.into_iter().map(|l| l.as_ref().to_lowercase()));
    }

    /// Lower-cased assignee logins.
    pub fn assignees(&self) -> &BTreeSet<String> {
        &self.assignees
    }

    /// Lower-cased logins of current approvers.
    pub fn current_approvers(&self) -> BTreeSet<String> {
        self.approvals.keys().cloned().collect()
    }

    /// Logins of current approvers in their original case.
    pub fn current_approvers_cased(&self) -> BTreeSet<String> {
        self.approvals.values().map(|a| a.login.clone()).collect()
    }

    /// Approvals sorted by lower-cased login.
    pub fn list_approvals(&self) -> Vec<&Approval> {
        self.approvals.values().collect()
    }

    /// `no-issue` approvals by users able to approve some required OWNERS file.
    pub fn no_issue_approvals(&self) -> Vec<&Approval> {
        let reverse = reverse_map(&self.owners.approvers_by_owners());
        self.approvals
            .iter()
            .filter(|(login, a)| a.no_issue && reverse.get(*login).is_some_and(|f| !f.is_empty()))
            .map(|(_, a)| a)
            .collect()
    }

    /// Required OWNERS directories still lacking an approval.
    pub fn unapproved_owners(&self) -> BTreeSet<String> {
        self.owners.unapproved_owners(&self.current_approvers())
    }

    /// Every required OWNERS file is approved (a PR without files never is).
    pub fn are_files_approved(&self) -> bool {
        self.owners.has_files() && self.unapproved_owners().is_empty()
    }

    /// Files approved and the issue requirement satisfied.
    pub fn requirements_met(&self) -> bool {
        self.are_files_approved()
            && (!self.require_issue
                || self.associated_issue.is_some()
                || !self.no_issue_approvals().is_empty())
    }

    /// Requirements met, or a human added the `approved` label.
    pub fn is_approved(&self) -> bool {
        self.requirements_met() || self.manually_approved
    }

    /// What to do with the `approved` label given whether it is present.
    pub fn label_change(&self, has_label: bool) -> Option<LabelChange> {
        match (self.is_approved(), has_label) {
            (true, false) => Some(LabelChange::Add),
            (false, true) => Some(LabelChange::Remove),
            _ => None,
        }
    }

    /// Status of every required OWNERS file, sorted by directory.
    pub fn owners_files(&self) -> Vec<OwnersFileStatus> {
        let cased = self.current_approvers_cased();
        let potential = self.owners.approvers_by_owners();
        let unapproved = self.unapproved_owners();
        let owners_name = &self.owners.repo.filenames().owners;
        self.owners
            .required
            .iter()
            .map(|dir| {
                let can = potential.get(dir);
                let approvers = cased
                    .iter()
                    .filter(|l| can.is_some_and(|c| c.contains(&l.to_lowercase())))
                    .cloned()
                    .collect();
                OwnersFileStatus {
                    dir: dir.clone(),
                    owners_path: owners_file_path(dir, owners_name),
                    approved: !unapproved.contains(dir),
                    approvers,
                }
            })
            .collect()
    }

    /// Users to suggest, as Prow's `GetCCs`: a cover of the unapproved OWNERS
    /// files from the shuffled leaf approvers (skipping what current approvers
    /// and assignees already cover), plus assignees that are still useful.
    /// Sorted, lower-case.
    pub fn ccs(&self) -> Vec<String> {
        let randomized = self.owners.shuffled_approvers();
        let current = self.current_approvers();
        let approvers_and_assignees: BTreeSet<String> =
            current.union(&self.assignees).cloned().collect();
        let leaf_reverse = reverse_map(&self.owners.leaf_approvers_by_owners());
        let suggested = self.owners.keep_covering_approvers(
            &leaf_reverse,
            &approvers_and_assignees,
            &randomized,
        );
        let approvers_and_suggested: BTreeSet<String> =
            current.union(&suggested).cloned().collect();
        let everyone: Vec<String> = approvers_and_suggested
            .union(&self.assignees)
            .cloned()
            .collect();
        let full_reverse = reverse_map(&self.owners.approvers_by_owners());
        let keep_assignees =
            self.owners
                .keep_covering_approvers(&full_reverse, &approvers_and_suggested, &everyone);
        suggested.union(&keep_assignees).cloned().collect()
    }

    /// Useful approvers already assigned.
    pub fn assigned_ccs(&self) -> Vec<String> {
        self.ccs()
            .into_iter()
            .filter(|c| self.assignees.contains(c))
            .collect()
    }

    /// Useful approvers not yet assigned.
    pub fn suggested_ccs(&self) -> Vec<String> {
        self.ccs()
            .into_iter()
            .filter(|c| !self.assignees.contains(c))
            .collect()
    }
}

/// The issue the PR body references: the first `#N` or
/// `<org>/<repo>/issues/N`. `None` when absent, `0`, or not a valid number
/// (Prow only looks at the first match).
pub fn find_associated_issue(body: &str, org: &str) -> Option<u64> {
    let re = Regex::new(&format!(
        r"(?:{}/[^/]+/issues/|#)([0-9]+)",
        regex::escape(org)
    ))
    .ok()?;
    let caps = re.captures(body)?;
    // Go's strconv.Atoi limit: anything above i64::MAX is an error there.
    let n: i64 = caps.get(1)?.as_str().parse().ok()?;
    u64::try_from(n).ok().filter(|n| *n != 0)
}

/// Command lines (`/cmd args`) of a body.
fn commands(body: &str) -> impl Iterator<Item = (String, &str)> {
    COMMAND_RE.captures_iter(body).map(|c| {
        (
            c.get(1).map_or("", |m| m.as_str()).to_uppercase(),
            c.get(2).map_or("", |m| m.as_str()),
        )
    })
}

/// Whether `body` carries a command the approve plugin reacts to:
/// `/approve…`, `/remove-approve`, or `/lgtm…` when it acts as approval.
pub fn is_approval_command(body: &str, lgtm_acts_as_approve: bool) -> bool {
    commands(body).any(|(cmd, _)| {
        cmd == APPROVE_COMMAND
            || cmd == REMOVE_APPROVE_COMMAND
            || (lgtm_acts_as_approve && cmd == LGTM_COMMAND)
    })
}

fn is_approval_state(state: Option<ReviewState>, consider_review_state: bool) -> bool {
    consider_review_state
        && matches!(
            state,
            Some(ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed)
        )
}

/// Replays the PR history and returns its approval state.
///
/// Per event (oldest first, bots skipped): an approving review adds, a
/// changes-requested review removes (unless `ignore_review_state`); then each
/// command line applies in order: `/remove-approve` and any `/approve` or
/// `/lgtm` whose argument contains `cancel` remove, `/approve [no-issue]`
/// adds, `/lgtm [no-issue]` adds as LGTM. As in Prow, once an event qualifies
/// (it has an approve command or a review state), *all* its `/lgtm` lines
/// count, even without `lgtm_acts_as_approve`.
pub fn evaluate<'a>(
    repo: &'a RepoOwners,
    pr: &PullRequestContext,
    events: &[ApprovalEvent],
    cfg: &ApproveConfig,
) -> Approvers<'a> {
    let mut ap = Approvers::new(Owners::new(repo, &pr.changed_files, pr.number));
    ap.associated_issue = find_associated_issue(&pr.body, &pr.org);
    ap.require_issue = cfg.issue_required;
    ap.manually_approved = pr.manually_approved;
    if !cfg.require_self_approval {
        ap.add_author_self_approver(&pr.author, &format!("{}#", pr.html_url), false);
    }

    let flagged_bots: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.author_is_bot)
        .map(|e| e.author.as_str())
        .collect();
    let is_bot = |login: &str| {
        flagged_bots.contains(login)
            || pr.bot_login.as_deref().is_some_and(|bot| {
                login == bot || login.strip_suffix("[bot]").is_some_and(|l| l == bot)
            })
    };
    let consider_review_state = !cfg.ignore_review_state;

    let mut ordered: Vec<&ApprovalEvent> = events.iter().collect();
    ordered.sort_by_key(|e| e.created_at);
    for e in ordered {
        if e.author.is_empty() || is_bot(&e.author) {
            continue;
        }
        if !is_approval_command(&e.body, cfg.lgtm_acts_as_approve)
            && !is_approval_state(e.review_state, consider_review_state)
        {
            continue;
        }
        if consider_review_state {
            match e.review_state {
                Some(ReviewState::Approved) => ap.add_approver(&e.author, &e.html_url, false),
                Some(ReviewState::ChangesRequested) => ap.remove_approver(&e.author),
                _ => {}
            }
        }
        for (cmd, args) in commands(&e.body) {
            if cmd == REMOVE_APPROVE_COMMAND {
                ap.remove_approver(&e.author);
                continue;
            }
            if cmd != APPROVE_COMMAND && cmd != LGTM_COMMAND {
                continue;
            }
            let args = args.trim().to_lowercase();
            if args.contains(CANCEL_ARGUMENT) {
                ap.remove_approver(&e.author);
                continue;
            }
            let no_issue = args == NO_ISSUE_ARGUMENT;
            if e.author == pr.author {
                ap.add_author_self_approver(&e.author, &e.html_url, no_issue);
            }
            if cmd == APPROVE_COMMAND {
                ap.add_approver(&e.author, &e.html_url, no_issue);
            } else {
                ap.add_lgtmer(&e.author, &e.html_url, no_issue);
            }
        }
    }
    ap.add_assignees(&pr.assignees);
    ap
}
