//! Typed views of the `plugins.yaml` sections the plugins in this crate read (`triggers`, `lgtm`,
//! `approve`, `owners`, `label`, `size`, `help`), with Prow's lookup rules and defaults.
//!
//! `prow-config` keeps the sections as raw values; each plugin decodes its own section when it
//! runs, so a broken section only fails the plugin that reads it (and [`validate_sections`]
//! reports it up front for `checkconfig`).

use std::collections::{BTreeMap, BTreeSet};

use prow_api::serde_util::nullable;
use prow_config::PluginsConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A `plugins.yaml` section that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid plugins.yaml section {section:?}: {message}")]
pub struct SectionError {
    /// Section name, e.g. `lgtm`.
    pub section: String,
    /// Decoder message.
    pub message: String,
}

/// Decodes section `name` (absent or `null` ⇒ `T::default()`).
pub fn section<T: DeserializeOwned + Default>(
    cfg: &PluginsConfig,
    name: &str,
) -> Result<T, SectionError> {
    match cfg.sections.get(name) {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| SectionError {
            section: name.to_owned(),
            message: e.to_string(),
        }),
    }
}

/// Decodes every section this crate reads and checks Prow's constraints on them; one message per
/// problem.
pub fn validate_sections(cfg: &PluginsConfig) -> Vec<String> {
    let mut errs = Vec::new();
    let mut check = |r: Result<(), SectionError>| {
        if let Err(e) = r {
            errs.push(e.to_string());
        }
    };
    check(section::<Vec<Trigger>>(cfg, "triggers").map(drop));
    check(section::<Vec<Lgtm>>(cfg, "lgtm").map(drop));
    check(section::<Vec<Approve>>(cfg, "approve").map(drop));
    check(section::<Owners>(cfg, "owners").map(drop));
    check(section::<Label>(cfg, "label").map(drop));
    check(section::<Help>(cfg, "help").map(drop));
    match section::<Size>(cfg, "size") {
        Ok(s) if s.s > s.m || s.m > s.l || s.l > s.xl || s.xl > s.xxl => errs.push(
            "invalid size plugin configuration - one of the smaller sizes is bigger than a larger one"
                .to_owned(),
        ),
        Ok(_) => {}
        Err(e) => errs.push(e.to_string()),
    }
    errs
}

/// Whether `list` names `org` or `org/repo`.
fn lists_repo(list: &[String], org: &str, repo: &str) -> bool {
    let full = format!("{org}/{repo}");
    list.iter().any(|e| *e == org || *e == full)
}

/// Prow's list-section lookup: the first entry whose `repos` has `org/repo`, else the first with
/// `org`.
fn pick<'a, T>(
    entries: &'a [T],
    repos: impl Fn(&T) -> &[String],
    org: &str,
    repo: &str,
) -> Option<&'a T> {
    let full = format!("{org}/{repo}");
    entries
        .iter()
        .find(|e| repos(e).contains(&full))
        .or_else(|| entries.iter().find(|e| repos(e).iter().any(|r| r == org)))
}

// ---------------------------------------------------------------------------------------------
// triggers

/// `triggers[].org_invite.prominent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProminentOrgInvite {
    /// Never show the prominent message (and do not search merged PRs).
    pub disabled: bool,
    /// Merged PRs after which the prominent message is shown (default 3).
    pub merged_pr_threshold: Option<u64>,
    /// Custom message; `{join_org_url}` is replaced.
    #[serde(deserialize_with = "nullable")]
    pub message: String,
}

impl ProminentOrgInvite {
    /// The threshold with Prow's default of 3.
    pub fn effective_merged_pr_threshold(&self) -> u64 {
        self.merged_pr_threshold.unwrap_or(3)
    }
}

/// `triggers[].org_invite`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgInvite {
    /// The prominent invitation for repeat contributors.
    pub prominent: ProminentOrgInvite,
}

/// One `triggers` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Trigger {
    /// `org` or `org/repo` entries.
    #[serde(deserialize_with = "nullable")]
    pub repos: Vec<String>,
    /// GitHub App names (without `[bot]`) whose PRs are trusted.
    #[serde(deserialize_with = "nullable")]
    pub trusted_apps: Vec<String>,
    /// A second org whose members are trusted (deprecated in Prow).
    #[serde(deserialize_with = "nullable")]
    pub trusted_org: String,
    /// Where to read about joining the org.
    #[serde(deserialize_with = "nullable")]
    pub join_org_url: String,
    /// Collaborators are not trusted, only org members.
    pub only_org_members: bool,
    /// `/ok-to-test` is ignored.
    pub ignore_ok_to_test: bool,
    /// Re-run failed GitHub Actions workflows on `/retest` and `/test all`.
    pub trigger_github_workflows: bool,
    /// Invitation texts for untrusted authors.
    pub org_invite: OrgInvite,
}

impl Trigger {
    /// Prow's `SetDefaults`: `join_org_url` defaults to the trusted org's people page.
    fn with_defaults(mut self) -> Self {
        if !self.trusted_org.is_empty() && self.join_org_url.is_empty() {
            self.join_org_url = format!("https://github.com/orgs/{}/people", self.trusted_org);
        }
        self
    }

    /// Whether `/ok-to-test` is honoured.
    pub fn honor_ok_to_test(&self) -> bool {
        !self.ignore_ok_to_test
    }
}

/// The trigger settings for `org/repo` (Prow's `TriggerFor`).
pub fn trigger_for(cfg: &PluginsConfig, org: &str, repo: &str) -> Result<Trigger, SectionError> {
    let all: Vec<Trigger> = section(cfg, "triggers")?;
    Ok(pick(&all, |t| &t.repos, org, repo)
        .cloned()
        .unwrap_or_default()
        .with_defaults())
}

// ---------------------------------------------------------------------------------------------
// lgtm

/// One `lgtm` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lgtm {
    /// `org` or `org/repo` entries.
    #[serde(deserialize_with = "nullable")]
    pub repos: Vec<String>,
    /// Approving / changes-requested reviews add / remove LGTM.
    pub review_acts_as_lgtm: bool,
    /// Remember the tree hash so content-preserving pushes keep LGTM.
    pub store_tree_hash: bool,
    /// Team (by name) whose PRs keep LGTM on push.
    #[serde(rename = "trusted_team_for_sticky_lgtm", deserialize_with = "nullable")]
    pub sticky_lgtm_team: String,
}

/// The lgtm settings for `org/repo` (Prow's `LgtmFor`).
pub fn lgtm_for(cfg: &PluginsConfig, org: &str, repo: &str) -> Result<Lgtm, SectionError> {
    let all: Vec<Lgtm> = section(cfg, "lgtm")?;
    Ok(pick(&all, |l| &l.repos, org, repo)
        .cloned()
        .unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// approve

/// Prow's default `commandHelpLink`.
pub const DEFAULT_COMMAND_HELP_LINK: &str = "https://go.k8s.io/bot-commands";
/// Prow's default `pr_process_link`.
pub const DEFAULT_PR_PROCESS_LINK: &str =
    "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process";

/// One `approve` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Approve {
    /// `org` or `org/repo` entries.
    #[serde(deserialize_with = "nullable")]
    pub repos: Vec<String>,
    /// PRs must reference an issue.
    pub issue_required: bool,
    /// The author does not implicitly approve (default false).
    pub require_self_approval: Option<bool>,
    /// `/lgtm` counts as `/approve`.
    pub lgtm_acts_as_approve: bool,
    /// Review states do not count (default false).
    pub ignore_review_state: Option<bool>,
    /// Link to the command help.
    #[serde(rename = "commandHelpLink", deserialize_with = "nullable")]
    pub command_help_link: String,
    /// Link to the review process.
    #[serde(deserialize_with = "nullable")]
    pub pr_process_link: String,
}

impl Approve {
    /// The author implicitly approves (Prow's `HasSelfApproval`).
    pub fn has_self_approval(&self) -> bool {
        !self.require_self_approval.unwrap_or(false)
    }

    /// Review states count (Prow's `ConsiderReviewState`).
    pub fn consider_review_state(&self) -> bool {
        !self.ignore_review_state.unwrap_or(false)
    }

    /// The decision knobs for `prow_owners::evaluate`.
    pub fn decision_config(&self) -> prow_owners::ApproveConfig {
        prow_owners::ApproveConfig {
            issue_required: self.issue_required,
            require_self_approval: !self.has_self_approval(),
            lgtm_acts_as_approve: self.lgtm_acts_as_approve,
            ignore_review_state: !self.consider_review_state(),
        }
    }
}

/// The approve settings for `org/repo` with link defaults (Prow's `ApproveFor`).
pub fn approve_for(cfg: &PluginsConfig, org: &str, repo: &str) -> Result<Approve, SectionError> {
    let all: Vec<Approve> = section(cfg, "approve")?;
    let mut a = pick(&all, |a| &a.repos, org, repo)
        .cloned()
        .unwrap_or_default();
    if a.command_help_link.is_empty() {
        a.command_help_link = DEFAULT_COMMAND_HELP_LINK.to_owned();
    }
    if a.pr_process_link.is_empty() {
        a.pr_process_link = DEFAULT_PR_PROCESS_LINK.to_owned();
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// owners

/// `owners.filenames` values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OwnersFilenames {
    /// OWNERS file name.
    #[serde(deserialize_with = "nullable")]
    pub owners: String,
    /// Aliases file path.
    #[serde(deserialize_with = "nullable")]
    pub owners_aliases: String,
}

/// The `owners` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Owners {
    /// Repos whose `*.md` front matter holds per-file owners.
    #[serde(deserialize_with = "nullable")]
    pub mdyamlrepos: Vec<String>,
    /// Repos where lgtm/approve use only OWNERS, no collaborator checks.
    #[serde(deserialize_with = "nullable")]
    pub skip_collaborators: Vec<String>,
    /// Labels OWNERS files may not set (verify-owners).
    #[serde(deserialize_with = "nullable")]
    pub labels_denylist: Vec<String>,
    /// Per `org`/`org/repo` file names.
    #[serde(deserialize_with = "nullable")]
    pub filenames: BTreeMap<String, OwnersFilenames>,
}

impl Owners {
    /// Whether `org/repo` reads Markdown front matter (Prow's `MDYAMLEnabled`).
    pub fn md_yaml_enabled(&self, org: &str, repo: &str) -> bool {
        lists_repo(&self.mdyamlrepos, org, repo)
    }

    /// Whether `org/repo` skips collaborator checks (Prow's `SkipCollaborators`).
    pub fn skip_collaborators(&self, org: &str, repo: &str) -> bool {
        lists_repo(&self.skip_collaborators, org, repo)
    }

    /// OWNERS file names for `org/repo` (Prow's `OwnersFilenames`; empty fields get defaults).
    pub fn filenames_for(&self, org: &str, repo: &str) -> prow_owners::Filenames {
        let defaults = prow_owners::Filenames::default();
        let Some(f) = self
            .filenames
            .get(&format!("{org}/{repo}"))
            .or_else(|| self.filenames.get(org))
        else {
            return defaults;
        };
        prow_owners::Filenames {
            owners: if f.owners.is_empty() {
                defaults.owners
            } else {
                f.owners.clone()
            },
            owners_aliases: if f.owners_aliases.is_empty() {
                defaults.owners_aliases
            } else {
                f.owners_aliases.clone()
            },
        }
    }
}

/// The `owners` section.
pub fn owners(cfg: &PluginsConfig) -> Result<Owners, SectionError> {
    section(cfg, "owners")
}

// ---------------------------------------------------------------------------------------------
// label

/// `label.restricted_labels[..][].assign_on[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssignOnLabel {
    /// When this label is added, the restricted label's users are assigned.
    pub label: String,
}

/// A label only some users/teams may set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestrictedLabel {
    /// The label.
    pub label: String,
    /// Team slugs allowed to set it.
    #[serde(deserialize_with = "nullable")]
    pub allowed_teams: Vec<String>,
    /// Logins allowed to set it.
    #[serde(deserialize_with = "nullable")]
    pub allowed_users: Vec<String>,
    /// Labels whose addition assigns `allowed_users`.
    #[serde(deserialize_with = "nullable")]
    pub assign_on: Vec<AssignOnLabel>,
}

/// The `label` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Label {
    /// Labels `/label` may set besides the restricted ones.
    #[serde(deserialize_with = "nullable")]
    pub additional_labels: Vec<String>,
    /// Restricted labels per `*`, org or `org/repo`.
    #[serde(deserialize_with = "nullable")]
    pub restricted_labels: BTreeMap<String, Vec<RestrictedLabel>>,
}

impl Label {
    /// Restricted labels for `org/repo`, keyed by lower-cased label; entries for the same label
    /// under `*`, the org and the repo are merged (Prow's `RestrictedLabelsFor`).
    pub fn restricted_labels_for(
        &self,
        org: &str,
        repo: &str,
    ) -> BTreeMap<String, RestrictedLabel> {
        let mut out: BTreeMap<String, RestrictedLabel> = BTreeMap::new();
        for key in ["*".to_owned(), org.to_owned(), format!("{org}/{repo}")] {
            for rl in self.restricted_labels.get(&key).into_iter().flatten() {
                let k = rl.label.to_lowercase();
                match out.get_mut(&k) {
                    None => {
                        out.insert(k, rl.clone());
                    }
                    Some(existing) => {
                        let users: BTreeSet<String> = existing
                            .allowed_users
                            .iter()
                            .chain(&rl.allowed_users)
                            .cloned()
                            .collect();
                        existing.allowed_users = users.into_iter().collect();
                        let teams: BTreeSet<String> = existing
                            .allowed_teams
                            .iter()
                            .chain(&rl.allowed_teams)
                            .cloned()
                            .collect();
                        existing.allowed_teams = teams.into_iter().collect();
                        let assign_on: BTreeSet<String> = existing
                            .assign_on
                            .iter()
                            .chain(&rl.assign_on)
                            .map(|a| a.label.clone())
                            .collect();
                        existing.assign_on = assign_on
                            .into_iter()
                            .map(|label| AssignOnLabel { label })
                            .collect();
                    }
                }
            }
        }
        out
    }
}

/// The `label` section.
pub fn label(cfg: &PluginsConfig) -> Result<Label, SectionError> {
    section(cfg, "label")
}

// ---------------------------------------------------------------------------------------------
// size

/// The `size` section: lower bounds (lines changed) of each size label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Size {
    /// Lower bound of `size/S`.
    pub s: u64,
    /// Lower bound of `size/M`.
    pub m: u64,
    /// Lower bound of `size/L`.
    pub l: u64,
    /// Lower bound of `size/XL`.
    pub xl: u64,
    /// Lower bound of `size/XXL`.
    pub xxl: u64,
}

impl Size {
    /// Prow's defaults: 10/30/100/500/1000.
    pub const DEFAULT: Size = Size {
        s: 10,
        m: 30,
        l: 100,
        xl: 500,
        xxl: 1000,
    };

    /// Zero fields replaced by the defaults (Prow's `sizesOrDefault`).
    pub fn or_default(self) -> Size {
        let d = |v: u64, def: u64| if v == 0 { def } else { v };
        Size {
            s: d(self.s, Size::DEFAULT.s),
            m: d(self.m, Size::DEFAULT.m),
            l: d(self.l, Size::DEFAULT.l),
            xl: d(self.xl, Size::DEFAULT.xl),
            xxl: d(self.xxl, Size::DEFAULT.xxl),
        }
    }
}

/// The `size` section with defaults applied.
pub fn size(cfg: &PluginsConfig) -> Result<Size, SectionError> {
    section::<Size>(cfg, "size").map(Size::or_default)
}

// ---------------------------------------------------------------------------------------------
// help

/// Prow's default `help.help_guidelines_url`.
pub const DEFAULT_HELP_GUIDELINES_URL: &str =
    "https://git.k8s.io/community/contributors/guide/help-wanted.md";

/// The `help` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Help {
    /// Guidelines page.
    #[serde(deserialize_with = "nullable")]
    pub help_guidelines_url: String,
    /// Summary shown in the bot comment.
    #[serde(deserialize_with = "nullable")]
    pub help_guidelines_summary: String,
}

/// The `help` section with the default URL.
pub fn help(cfg: &PluginsConfig) -> Result<Help, SectionError> {
    let mut h: Help = section(cfg, "help")?;
    if h.help_guidelines_url.is_empty() {
        h.help_guidelines_url = DEFAULT_HELP_GUIDELINES_URL.to_owned();
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> PluginsConfig {
        serde_saphyr::from_str(yaml).expect("valid yaml")
    }

    #[test]
    fn repo_entry_wins_over_org_entry() {
        let c = cfg(
            "triggers:\n- repos: [o]\n  trusted_org: t\n- repos: [o/r]\n  only_org_members: true\n",
        );
        let t = trigger_for(&c, "o", "r").unwrap();
        assert!(t.only_org_members);
        assert_eq!(t.trusted_org, "");
        let t = trigger_for(&c, "o", "other").unwrap();
        assert_eq!(t.trusted_org, "t");
        assert_eq!(t.join_org_url, "https://github.com/orgs/t/people");
        assert_eq!(trigger_for(&c, "x", "y").unwrap(), Trigger::default());
    }

    #[test]
    fn approve_defaults() {
        let c = cfg("approve:\n- repos: [o]\n  require_self_approval: true\n");
        let a = approve_for(&c, "o", "r").unwrap();
        assert!(!a.has_self_approval());
        assert!(a.consider_review_state());
        assert_eq!(a.command_help_link, DEFAULT_COMMAND_HELP_LINK);
        assert_eq!(a.pr_process_link, DEFAULT_PR_PROCESS_LINK);
        let a = approve_for(&c, "x", "r").unwrap();
        assert!(a.has_self_approval());
    }

    #[test]
    fn owners_lookups() {
        let c = cfg(
            "owners:\n  mdyamlrepos: [o/md]\n  skip_collaborators: [o]\n  filenames:\n    o/r:\n      owners: OWNERS.prow\n",
        );
        let o = owners(&c).unwrap();
        assert!(o.md_yaml_enabled("o", "md"));
        assert!(!o.md_yaml_enabled("o", "r"));
        assert!(o.skip_collaborators("o", "anything"));
        let f = o.filenames_for("o", "r");
        assert_eq!(f.owners, "OWNERS.prow");
        assert_eq!(f.owners_aliases, "OWNERS_ALIASES");
        assert_eq!(o.filenames_for("o", "x"), prow_owners::Filenames::default());
    }

    #[test]
    fn restricted_labels_merge() {
        let c = cfg(
            "label:\n  restricted_labels:\n    '*':\n    - label: Foo\n      allowed_users: [b]\n    o/r:\n    - label: foo\n      allowed_users: [a]\n      allowed_teams: [t]\n      assign_on: [{label: x}]\n",
        );
        let l = label(&c).unwrap();
        let m = l.restricted_labels_for("o", "r");
        let foo = &m["foo"];
        assert_eq!(foo.allowed_users, vec!["a", "b"]);
        assert_eq!(foo.allowed_teams, vec!["t"]);
        assert_eq!(foo.assign_on.len(), 1);
        assert_eq!(
            l.restricted_labels_for("o", "other")["foo"].allowed_users,
            vec!["b"]
        );
    }

    #[test]
    fn sizes_default_and_validate() {
        let c = cfg("size:\n  s: 5\n");
        assert_eq!(
            size(&c).unwrap(),
            Size {
                s: 5,
                ..Size::DEFAULT
            }
        );
        let bad = cfg("size:\n  s: 50\n  m: 10\n  l: 100\n  xl: 500\n  xxl: 1000\n");
        assert_eq!(validate_sections(&bad).len(), 1);
        let broken = cfg("lgtm: {not: a list}\n");
        assert!(validate_sections(&broken)[0].contains("lgtm"));
    }

    #[test]
    fn help_default_url() {
        assert_eq!(
            help(&cfg("{}")).unwrap().help_guidelines_url,
            DEFAULT_HELP_GUIDELINES_URL
        );
    }
}
