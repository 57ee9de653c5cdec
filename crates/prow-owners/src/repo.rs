//! [`RepoOwners`]: the parsed OWNERS tree of one repository at one SHA.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::config::{
    DirOptions, OwnersConfig, RepoAliases, RoleConfig, parse_aliases_lenient, parse_md_owners,
    parse_owners_file, parse_simple_config,
};
use crate::denylist::PRECONFIGURED_DIR_DENYLIST;
use crate::error::OwnersError;
use crate::layered::LayeredSet;
use crate::login::norm_logins;
use crate::paths::{clean, parent, rel};

/// Names of the OWNERS and aliases files (`owners.filenames` in
/// `plugins.yaml` can override them per repo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filenames {
    /// Per-directory owners file name, default `OWNERS`.
    pub owners: String,
    /// Root aliases file path, default `OWNERS_ALIASES`.
    pub owners_aliases: String,
}

impl Default for Filenames {
    fn default() -> Self {
        Self {
            owners: "OWNERS".to_owned(),
            owners_aliases: "OWNERS_ALIASES".to_owned(),
        }
    }
}

/// How to build a [`RepoOwners`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// File names to look for.
    pub filenames: Filenames,
    /// Directory regexes to skip (usually
    /// [`crate::OwnersDirDenylist::list_ignored_dirs`]). A directory is
    /// skipped, with everything below it, when a pattern matches anywhere in
    /// its repo-relative path; the root is tested as `.`.
    pub dir_denylist: Vec<String>,
    /// Read YAML front matter of `*.md` files as per-file owners
    /// (`owners.mdyamlrepos`).
    pub enable_md_yaml: bool,
}

impl Default for LoadOptions {
    /// Prow's behaviour with no `owners_dir_denylist` configured.
    fn default() -> Self {
        Self {
            filenames: Filenames::default(),
            dir_denylist: PRECONFIGURED_DIR_DENYLIST
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            enable_md_yaml: false,
        }
    }
}

/// One role entry of an OWNERS directory; `pattern: None` applies to all
/// files (simple form or the `.*` filter).
#[derive(Debug, Clone)]
struct Rule {
    pattern: Option<Regex>,
    users: BTreeSet<String>,
}

type RuleMap = BTreeMap<String, Vec<Rule>>;

/// Parsed OWNERS data of a repository. Directory keys are repo-relative with
/// the root spelled `""`; Markdown front-matter owners are keyed by the file.
#[derive(Debug, Clone, Default)]
pub struct RepoOwners {
    aliases: RepoAliases,
    approvers: RuleMap,
    reviewers: RuleMap,
    required_reviewers: RuleMap,
    labels: RuleMap,
    options: BTreeMap<String, DirOptions>,
    enable_md_yaml: bool,
    filenames: Filenames,
    warnings: Vec<OwnersError>,
}

impl RepoOwners {
    /// Builds the OWNERS tree from `(path, contents)` pairs of the repository
    /// at the base SHA. Only the aliases file, OWNERS files and (with
    /// `enable_md_yaml`) `*.md` files matter; other entries are ignored.
    ///
    /// Like Prow, malformed files never fail the load: they are skipped and
    /// reported through [`RepoOwners::warnings`].
    pub fn load<I, P, C>(files: I, opts: &LoadOptions) -> RepoOwners
    where
        I: IntoIterator<Item = (P, C)>,
        P: AsRef<str>,
        C: AsRef<str>,
    {
        // Sorted like a directory walk; a repeated path keeps its last content.
        let files: BTreeMap<String, C> = files
            .into_iter()
            .map(|(p, c)| (clean(p.as_ref()), c))
            .collect();

        let mut o = RepoOwners {
            enable_md_yaml: opts.enable_md_yaml,
            filenames: opts.filenames.clone(),
            ..RepoOwners::default()
        };

        let aliases_path = clean(&opts.filenames.owners_aliases);
        if let Some(text) = files.get(&aliases_path) {
            let (aliases, errors) = parse_aliases_lenient(&aliases_path, text.as_ref());
            o.aliases = aliases;
            o.warnings.extend(errors);
        }

        let mut deny = Vec::new();
        for pattern in &opts.dir_denylist {
            match Regex::new(pattern) {
                Ok(re) => deny.push(re),
                Err(e) => o.warnings.push(OwnersError::InvalidDenylistRegex {
                    pattern: pattern.clone(),
                    message: e.to_string(),
                }),
            }
        }
        let mut denied_cache: HashMap<String, bool> = HashMap::new();

        for (path, text) in &files {
            let text = text.as_ref();
            let dir = parent(path);
            if is_denied(dir, &deny, &mut denied_cache) {
                continue;
            }
            let filename = path.rsplit('/').next().unwrap_or(path);
            if o.enable_md_yaml && filename.ends_with(".md") {
                // Front-matter owners apply to this file only.
                match parse_md_owners(path, text) {
                    Ok(simple) => {
                        o.apply_roles(path, None, &simple.config);
                        o.apply_options(path, simple.options);
                    }
                    Err(e) => o.warnings.push(e),
                }
                continue;
            }
            if filename != opts.filenames.owners {
                continue;
            }
            match parse_owners_file(path, text) {
                Ok(OwnersConfig::Simple(simple)) => {
                    o.apply_roles(dir, None, &simple.config);
                    o.apply_options(dir, simple.options);
                }
                Ok(OwnersConfig::Full(full)) => {
                    if full.filters.is_empty()
                        && let Err(e) = parse_simple_config(path, text)
                    {
                        // Prow silently falls back to the (empty) full form,
                        // e.g. for `approvers: alice`; surface why.
                        o.warnings.push(e);
                    }
                    for (pattern, roles) in &full.filters {
                        if pattern == ".*" {
                            o.apply_roles(dir, None, roles);
                            continue;
                        }
                        match Regex::new(pattern) {
                            Ok(re) => o.apply_roles(dir, Some(re), roles),
                            Err(e) => o.warnings.push(OwnersError::InvalidFilterRegex {
                                path: path.clone(),
                                pattern: pattern.clone(),
                                message: e.to_string(),
                            }),
                        }
                    }
                    o.apply_options(dir, full.options);
                }
                Err(e) => o.warnings.push(e),
            }
        }
        o
    }

    fn apply_roles(&mut self, key: &str, pattern: Option<Regex>, roles: &RoleConfig) {
        let expand = |list: &[String]| self.aliases.expand_aliases(&norm_logins(list));
        let mut updates = Vec::new();
        if !roles.approvers.is_empty() {
            updates.push((Role::Approvers, expand(&roles.approvers)));
        }
        if !roles.reviewers.is_empty() {
            updates.push((Role::Reviewers, expand(&roles.reviewers)));
        }
        if !roles.required_reviewers.is_empty() {
            updates.push((Role::Required, expand(&roles.required_reviewers)));
        }
        if !roles.labels.is_empty() {
            // Labels are not logins: no normalisation, no alias expansion.
            updates.push((Role::Labels, roles.labels.iter().cloned().collect()));
        }
        for (role, users) in updates {
            let map = match role {
                Role::Approvers => &mut self.approvers,
                Role::Reviewers => &mut self.reviewers,
                Role::Required => &mut self.required_reviewers,
                Role::Labels => &mut self.labels,
            };
            let rules = map.entry(key.to_owned()).or_default();
            // The catch-all entry is unique per directory; a later one replaces it.
            if pattern.is_none() {
                rules.retain(|r| r.pattern.is_some());
            }
            rules.push(Rule {
                pattern: pattern.clone(),
                users,
            });
        }
    }

    fn apply_options(&mut self, key: &str, opts: DirOptions) {
        if opts != DirOptions::default() {
            self.options.insert(key.to_owned(), opts);
        }
    }

    /// Non-fatal problems met while loading (malformed files, bad regexes).
    pub fn warnings(&self) -> &[OwnersError] {
        &self.warnings
    }

    /// The aliases in effect.
    pub fn aliases(&self) -> &RepoAliases {
        &self.aliases
    }

    /// The file names in effect.
    pub fn filenames(&self) -> &Filenames {
        &self.filenames
    }

    /// Whether Markdown front-matter owners were read.
    pub fn md_yaml_enabled(&self) -> bool {
        self.enable_md_yaml
    }

    /// Nearest directory (or front-matter file) above `path` whose OWNERS has
    /// approvers applying to it; `""` for the root or when none exists.
    ///
    /// As in Prow this ignores `no_parent_owners` and never inspects the root
    /// itself (the root answer is `""` either way).
    pub fn find_approver_owners_for_file(&self, path: &str) -> String {
        find_owners_for_file(path, &self.approvers)
    }

    /// Like [`Self::find_approver_owners_for_file`] for reviewers.
    pub fn find_reviewers_owners_for_file(&self, path: &str) -> String {
        find_owners_for_file(path, &self.reviewers)
    }

    /// Labels from every OWNERS file covering `path`.
    pub fn find_labels_for_file(&self, path: &str) -> BTreeSet<String> {
        self.entries_for_file(path, &self.labels, false).to_set()
    }

    /// Whether the OWNERS at `dir` sets `no_parent_owners`.
    pub fn is_no_parent_owners(&self, dir: &str) -> bool {
        self.options
            .get(&clean(dir))
            .is_some_and(|o| o.no_parent_owners)
    }

    /// Whether the OWNERS at `dir` sets `auto_approve_unowned_subfolders`.
    pub fn is_auto_approve_unowned_subfolders(&self, dir: &str) -> bool {
        self.options
            .get(&clean(dir))
            .is_some_and(|o| o.auto_approve_unowned_subfolders)
    }

    /// Options of the OWNERS at `dir` (defaults when none).
    pub fn dir_options(&self, dir: &str) -> DirOptions {
        self.options.get(&clean(dir)).copied().unwrap_or_default()
    }

    /// Approvers of the nearest OWNERS with approvers for `path`.
    pub fn leaf_approvers(&self, path: &str) -> BTreeSet<String> {
        self.entries_for_file(path, &self.approvers, true).to_set()
    }

    /// All approvers of `path`, nearest layer first, inheriting from parents
    /// until a `no_parent_owners` directory (once someone was found).
    pub fn approvers(&self, path: &str) -> LayeredSet {
        self.entries_for_file(path, &self.approvers, false)
    }

    /// Reviewers of the nearest OWNERS with reviewers for `path`.
    pub fn leaf_reviewers(&self, path: &str) -> BTreeSet<String> {
        self.entries_for_file(path, &self.reviewers, true).to_set()
    }

    /// All reviewers of `path`, layered like [`Self::approvers`].
    pub fn reviewers(&self, path: &str) -> LayeredSet {
        self.entries_for_file(path, &self.reviewers, false)
    }

    /// All required reviewers of `path`.
    pub fn required_reviewers(&self, path: &str) -> BTreeSet<String> {
        self.entries_for_file(path, &self.required_reviewers, false)
            .to_set()
    }

    /// Approvers of the root OWNERS (filters are matched against `.`).
    pub fn top_level_approvers(&self) -> BTreeSet<String> {
        self.entries_for_file(".", &self.approvers, true).to_set()
    }

    /// Every approver anywhere in the repository.
    pub fn all_approvers(&self) -> BTreeSet<String> {
        all_users(&self.approvers)
    }

    /// Every reviewer anywhere in the repository.
    pub fn all_reviewers(&self) -> BTreeSet<String> {
        all_users(&self.reviewers)
    }

    /// Every approver or reviewer anywhere in the repository.
    pub fn all_owners(&self) -> BTreeSet<String> {
        let mut s = self.all_approvers();
        s.extend(self.all_reviewers());
        s
    }

    /// Approvers and reviewers of all `files` (lgtm's check for repos in
    /// `owners.skip_collaborators`).
    pub fn reviewers_and_approvers_for_files<I, S>(&self, files: I) -> LayeredSet
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = LayeredSet::new();
        for f in files {
            out = out
                .union(&self.approvers(f.as_ref()))
                .union(&self.reviewers(f.as_ref()));
        }
        out
    }

    /// A copy keeping only approvers and reviewers who are repository
    /// collaborators (Prow does this unless the repo skips collaborator
    /// checks). Required reviewers and labels are untouched, as in Prow.
    pub fn filter_collaborators<I, S>(&self, collaborators: I) -> RepoOwners
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let keep = norm_logins(collaborators);
        let filter = |m: &RuleMap| -> RuleMap {
            m.iter()
                .map(|(k, rules)| {
                    let rules = rules
                        .iter()
                        .map(|r| Rule {
                            pattern: r.pattern.clone(),
                            users: r.users.intersection(&keep).cloned().collect(),
                        })
                        .collect();
                    (k.clone(), rules)
                })
                .collect()
        };
        RepoOwners {
            approvers: filter(&self.approvers),
            reviewers: filter(&self.reviewers),
            ..self.clone()
        }
    }

    /// Walks from `path` up to the root collecting matching entries, one
    /// layer per directory level (layer 0 is `path` itself, which only has
    /// entries for front-matter owners).
    fn entries_for_file(&self, path: &str, map: &RuleMap, leaf_only: bool) -> LayeredSet {
        let path = clean(path);
        let mut out = LayeredSet::new();
        let mut d: &str = &path;
        let mut layer = 0;
        loop {
            let relative = rel(d, &path);
            for r in map.get(d).into_iter().flatten() {
                if r.pattern.as_ref().is_none_or(|re| re.is_match(relative)) {
                    out.insert(layer, &r.users);
                }
            }
            if leaf_only && !out.is_empty() {
                break;
            }
            if d.is_empty() {
                break;
            }
            if self.is_no_parent_owners(d) && !out.is_empty() {
                break;
            }
            d = parent(d);
            layer += 1;
        }
        out
    }
}

#[derive(Clone, Copy)]
enum Role {
    Approvers,
    Reviewers,
    Required,
    Labels,
}

fn all_users(m: &RuleMap) -> BTreeSet<String> {
    m.values()
        .flatten()
        .flat_map(|r| r.users.iter().cloned())
        .collect()
}

fn find_owners_for_file(path: &str, map: &RuleMap) -> String {
    let path = clean(path);
    let mut d: &str = &path;
    while !d.is_empty() {
        let relative = rel(d, &path);
        for r in map.get(d).into_iter().flatten() {
            if let Some(re) = &r.pattern
                && !re.is_match(relative)
            {
                continue;
            }
            if !r.users.is_empty() {
                return d.to_owned();
            }
        }
        d = parent(d);
    }
    String::new()
}

/// Whether `dir` or any ancestor directory matches the denylist, emulating a
/// directory walk that prunes matching directories (root tested as `.`).
fn is_denied(dir: &str, deny: &[Regex], cache: &mut HashMap<String, bool>) -> bool {
    if deny.is_empty() {
        return false;
    }
    let matches = |d: &str| {
        let shown = if d.is_empty() { "." } else { d };
        deny.iter().any(|re| re.is_match(shown))
    };
    // Iterative (no recursion) so absurdly deep paths cannot exhaust the stack.
    let mut chain = Vec::new();
    let mut d = dir;
    let mut denied = loop {
        if let Some(v) = cache.get(d) {
            break *v;
        }
        chain.push(d);
        if d.is_empty() {
            break false;
        }
        d = parent(d);
    };
    for d in chain.into_iter().rev() {
        denied = denied || matches(d);
        cache.insert(d.to_owned(), denied);
    }
    denied
}
