//! Building the initial world from a [`Seed`]. Seeding writes state directly: no permission
//! checks and no webhooks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use crate::git;
use crate::seed::{Seed, SeedError, SeedLabel, UserKind};
use crate::state::{
    IssueRec, LabelRec, OAuthAppRec, OrgRec, PrRec, ProtectionRec, RepoRec, State, TeamRec, Urls,
    UserRec, now, repo_key,
};
use crate::webhook::Hooks;

use super::{Changes, Core};

fn invalid(msg: impl Into<String>) -> SeedError {
    SeedError::Invalid(msg.into())
}

/// GitHub logins: alphanumerics and single hyphens; app bots end in `[bot]`.
fn valid_login(login: &str) -> bool {
    let core = login.strip_suffix("[bot]").unwrap_or(login);
    !core.is_empty()
        && core.len() <= 39
        && !core.starts_with('-')
        && core
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn valid_repo_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Splits `org/repo`.
pub(crate) fn split_full_name(full: &str) -> Option<(&str, &str)> {
    let (org, repo) = full.split_once('/')?;
    (valid_login(org) && valid_repo_name(repo)).then_some((org, repo))
}

/// A label color as GitHub stores it: six lower-case hex digits without `#`.
pub(crate) fn normalize_color(color: Option<&str>) -> Result<String, String> {
    let c = color
        .unwrap_or("ededed")
        .trim_start_matches('#')
        .to_ascii_lowercase();
    if c.len() == 6 && c.chars().all(|ch| ch.is_ascii_hexdigit()) {
        Ok(c)
    } else {
        Err(format!("invalid label color {c:?}"))
    }
}

fn to_changes(files: &BTreeMap<String, Option<String>>) -> Changes {
    files
        .iter()
        .map(|(p, c)| (p.clone(), c.as_ref().map(|c| c.as_bytes().to_vec())))
        .collect()
}

impl Core {
    /// Builds the world described by `seed`.
    pub fn from_seed(seed: Seed) -> Result<Core, SeedError> {
        let root = tempfile::Builder::new()
            .prefix("fake-github-")
            .tempdir()
            .map_err(|e| SeedError::Storage(e.to_string()))?;
        let git_bin = git::git_binary();
        let mut st = State::default();
        let defaults = Urls::default();
        st.urls = Urls {
            web: seed
                .urls
                .web
                .clone()
                .unwrap_or(defaults.web)
                .trim_end_matches('/')
                .to_owned(),
            api: seed
                .urls
                .api
                .clone()
                .unwrap_or(defaults.api)
                .trim_end_matches('/')
                .to_owned(),
        };

        for u in &seed.users {
            if !valid_login(&u.login) {
                return Err(invalid(format!("invalid user login {:?}", u.login)));
            }
            let key = u.login.to_ascii_lowercase();
            if st.users.contains_key(&key) {
                return Err(invalid(format!("user {} listed twice", u.login)));
            }
            if let Some(token) = &u.token {
                if token.is_empty() {
                    return Err(invalid(format!("user {} has an empty token", u.login)));
                }
                if st.tokens.insert(token.clone(), key.clone()).is_some() {
                    return Err(invalid(format!(
                        "token of {} is used by another user",
                        u.login
                    )));
                }
            }
            let id = st.id();
            st.users.insert(
                key,
                UserRec {
                    login: u.login.clone(),
                    id,
                    name: u.name.clone(),
                    email: u.email.clone(),
                    bot: u.kind == UserKind::Bot,
                    created_at: now(),
                },
            );
        }

        for o in &seed.orgs {
            if !valid_login(&o.login) {
                return Err(invalid(format!("invalid org login {:?}", o.login)));
            }
            let key = o.login.to_ascii_lowercase();
            if st.orgs.contains_key(&key) || st.users.contains_key(&key) {
                return Err(invalid(format!(
                    "org {} clashes with another org or user",
                    o.login
                )));
            }
            let members: BTreeSet<String> = o.members.iter().map(|m| st.ensure_user(m)).collect();
            let mut teams = Vec::new();
            for t in &o.teams {
                if t.slug.is_empty() || teams.iter().any(|x: &TeamRec| x.slug == t.slug) {
                    return Err(invalid(format!(
                        "org {}: empty or duplicate team slug {:?}",
                        o.login, t.slug
                    )));
                }
                let team_members = t.members.iter().map(|m| st.ensure_user(m)).collect();
                teams.push(TeamRec {
                    id: st.id(),
                    slug: t.slug.clone(),
                    name: t.name.clone().unwrap_or_else(|| t.slug.clone()),
                    members: team_members,
                });
            }
            let id = st.id();
            st.orgs.insert(
                key,
                OrgRec {
                    login: o.login.clone(),
                    id,
                    members,
                    teams,
                },
            );
        }

        for r in &seed.repos {
            let (owner, name) = split_full_name(&r.name)
                .ok_or_else(|| invalid(format!("repository name {:?} is not org/repo", r.name)))?;
            let key = repo_key(owner, name);
            if st.repos.contains_key(&key) {
                return Err(invalid(format!("repository {} listed twice", r.name)));
            }
            if !git::valid_ref_name(&r.default_branch) {
                return Err(invalid(format!(
                    "{}: invalid default branch {:?}",
                    r.name, r.default_branch
                )));
            }
            // An owner nobody declared is an org without members.
            let owner_login = if let Some(o) = st.org(owner) {
                o.login.clone()
            } else if let Some(u) = st.user(owner) {
                u.login.clone()
            } else {
                let id = st.id();
                st.orgs.insert(
                    owner.to_ascii_lowercase(),
                    OrgRec {
                        login: owner.to_owned(),
                        id,
                        members: BTreeSet::new(),
                        teams: Vec::new(),
                    },
                );
                owner.to_owned()
            };
            let id = st.id();
            let dir = root.path().join(format!("{id}.git"));
            let repo_git = git::Repo::init(&git_bin, &dir, &r.default_branch)
                .map_err(|e| SeedError::Storage(e.to_string()))?;
            let mut labels = Vec::new();
            for l in &r.labels {
                if l.name().is_empty()
                    || labels
                        .iter()
                        .any(|x: &LabelRec| x.name.eq_ignore_ascii_case(l.name()))
                {
                    return Err(invalid(format!(
                        "{}: empty or duplicate label {:?}",
                        r.name,
                        l.name()
                    )));
                }
                let (color, description) = match l {
                    SeedLabel::Name(_) => (None, None),
                    SeedLabel::Full(f) => (f.color.as_deref(), f.description.clone()),
                };
                labels.push(LabelRec {
                    id: st.id(),
                    name: l.name().to_owned(),
                    color: normalize_color(color)
                        .map_err(|e| invalid(format!("{}: label {}: {e}", r.name, l.name())))?,
                    description,
                    default: false,
                });
            }
            let collaborators = r.collaborators.iter().map(|c| st.ensure_user(c)).collect();
            // Seeded history uses a fixed time so the same seed always yields the same commit
            // SHAs: a restarted all-in-one process finds the refs its stored jobs point at.
            let created = seed_time();
            let mut repo = RepoRec {
                id,
                owner: owner_login.clone(),
                name: name.to_owned(),
                default_branch: r.default_branch.clone(),
                private: r.private,
                allow_merge_commit: r.allow_merge_commit,
                allow_squash_merge: r.allow_squash_merge,
                allow_rebase_merge: r.allow_rebase_merge,
                collaborators,
                labels,
                issues: BTreeMap::new(),
                comments: BTreeMap::new(),
                statuses: BTreeMap::new(),
                protection: BTreeMap::new(),
                next_number: 1,
                created_at: created,
                pushed_at: created,
                git: repo_git,
            };
            let sig = st.signature(&owner_login, created);
            let files: Changes = r
                .files
                .iter()
                .map(|(p, c)| (p.clone(), Some(c.as_bytes().to_vec())))
                .collect();
            let initial = Core::commit_changes(&repo, None, &files, "Initial commit", &sig, &sig)
                .map_err(|e| invalid(format!("{}: {e}", r.name)))?;
            repo.git
                .update_ref(&format!("refs/heads/{}", r.default_branch), &initial, None)
                .map_err(|e| SeedError::Storage(e.to_string()))?;
            for (branch, spec) in &r.branches {
                if !git::valid_ref_name(branch) || repo.git.branch_sha(branch).is_some() {
                    return Err(invalid(format!(
                        "{}: invalid or duplicate branch {branch:?}",
                        r.name
                    )));
                }
                let from = spec.from.as_deref().unwrap_or(&r.default_branch);
                let parent = repo.git.branch_sha(from).ok_or_else(|| {
                    invalid(format!(
                        "{}: branch {branch} starts from unknown branch {from}",
                        r.name
                    ))
                })?;
                let sha = if spec.files.is_empty() {
                    parent
                } else {
                    Core::commit_changes(
                        &repo,
                        Some(&parent),
                        &to_changes(&spec.files),
                        &format!("Create {branch}"),
                        &sig,
                        &sig,
                    )
                    .map_err(|e| invalid(format!("{}: branch {branch}: {e}", r.name)))?
                };
                repo.git
                    .update_ref(&format!("refs/heads/{branch}"), &sha, None)
                    .map_err(|e| SeedError::Storage(e.to_string()))?;
            }
            for (branch, p) in &r.branch_protection {
                if !git::valid_ref_name(branch) {
                    return Err(invalid(format!(
                        "{}: invalid protected branch {branch:?}",
                        r.name
                    )));
                }
                repo.protection.insert(
                    branch.clone(),
                    ProtectionRec {
                        status_checks: p.required_status_checks.as_ref().map(|c| {
                            prow_github::RequiredStatusChecks {
                                strict: c.strict,
                                contexts: c.contexts.clone(),
                            }
                        }),
                        required_approving_review_count: p.required_approving_review_count,
                    },
                );
            }
            st.repos.insert(key, repo);
        }

        for app in &seed.oauth_apps {
            if app.client_id.is_empty() || app.client_secret.is_empty() {
                return Err(invalid("oauth app needs a client_id and a client_secret"));
            }
            let rec = OAuthAppRec {
                client_secret: app.client_secret.clone(),
                name: app.name.clone().unwrap_or_else(|| app.client_id.clone()),
            };
            if st.oauth_apps.insert(app.client_id.clone(), rec).is_some() {
                return Err(invalid(format!("oauth app {} listed twice", app.client_id)));
            }
        }

        // Numbers given explicitly are reserved before automatic ones are handed out.
        let mut explicit: HashMap<String, BTreeSet<u64>> = HashMap::new();
        let numbered = seed
            .pull_requests
            .iter()
            .map(|p| (&p.repo, p.number))
            .chain(seed.issues.iter().map(|i| (&i.repo, i.number)));
        for (repo, number) in numbered {
            if let Some(n) = number
                && (n == 0
                    || !explicit
                        .entry(repo.to_ascii_lowercase())
                        .or_default()
                        .insert(n))
            {
                return Err(invalid(format!("{repo}: number {n} is zero or used twice")));
            }
        }
        let mut next_auto: HashMap<String, u64> = HashMap::new();
        let mut take_number = |repo: &str, wanted: Option<u64>| -> u64 {
            if let Some(n) = wanted {
                return n;
            }
            let key = repo.to_ascii_lowercase();
            let reserved = explicit.get(&key).cloned().unwrap_or_default();
            let next = next_auto.entry(key).or_insert(1);
            while reserved.contains(next) {
                *next += 1;
            }
            let n = *next;
            *next += 1;
            n
        };

        for p in &seed.pull_requests {
            let (org, name) = split_full_name(&p.repo).ok_or_else(|| {
                invalid(format!("pull request repo {:?} is not org/repo", p.repo))
            })?;
            if !st.repos.contains_key(&repo_key(org, name)) {
                return Err(invalid(format!(
                    "pull request in unknown repository {}",
                    p.repo
                )));
            }
            if p.author.is_empty() || p.head.is_empty() || !git::valid_ref_name(&p.head) {
                return Err(invalid(format!(
                    "{}: pull request needs an author and a valid head branch",
                    p.repo
                )));
            }
            let author = st.ensure_user(&p.author);
            let number = take_number(&p.repo, p.number);
            let when = seed_time();
            let sig = st.signature(&author, when);
            let id = st.id();
            let repo = st
                .repos
                .get(&repo_key(org, name))
                .ok_or_else(|| invalid("repository vanished"))?;
            let base = p
                .base
                .clone()
                .unwrap_or_else(|| repo.default_branch.clone());
            let base_sha = repo.git.branch_sha(&base).ok_or_else(|| {
                invalid(format!("{}#{number}: unknown base branch {base}", p.repo))
            })?;
            let head_start = repo.git.branch_sha(&p.head);
            let parent = head_start.clone().unwrap_or_else(|| base_sha.clone());
            let head_sha = if p.files.is_empty() {
                parent
            } else {
                Core::commit_changes(
                    repo,
                    Some(&parent),
                    &to_changes(&p.files),
                    &p.title,
                    &sig,
                    &sig,
                )
                .map_err(|e| invalid(format!("{}#{number}: {e}", p.repo)))?
            };
            if head_sha == base_sha || repo.git.is_ancestor(&head_sha, &base_sha) {
                return Err(invalid(format!(
                    "{}#{number}: no commits between {base} and {}",
                    p.repo, p.head
                )));
            }
            repo.git
                .update_ref(
                    &format!("refs/heads/{}", p.head),
                    &head_sha,
                    head_start.as_deref(),
                )
                .map_err(|e| SeedError::Storage(e.to_string()))?;
            let assignees = p
                .assignees
                .iter()
                .filter(|a| st.is_collaborator(repo, a))
                .map(|a| a.to_ascii_lowercase())
                .collect::<Vec<_>>();
            let issue = IssueRec {
                assignees,
                milestone: p.milestone.clone(),
                ..IssueRec::opened(
                    id,
                    number,
                    p.title.clone(),
                    p.body.clone(),
                    author,
                    when,
                    Some(PrRec::opened(
                        p.head.clone(),
                        base,
                        head_sha,
                        base_sha,
                        p.draft,
                    )),
                )
            };
            insert_issue(&mut st, org, name, issue, &p.labels)?;
        }

        for i in &seed.issues {
            let (org, name) = split_full_name(&i.repo)
                .ok_or_else(|| invalid(format!("issue repo {:?} is not org/repo", i.repo)))?;
            if !st.repos.contains_key(&repo_key(org, name)) {
                return Err(invalid(format!("issue in unknown repository {}", i.repo)));
            }
            if i.author.is_empty() {
                return Err(invalid(format!("{}: issue needs an author", i.repo)));
            }
            let author = st.ensure_user(&i.author);
            let number = take_number(&i.repo, i.number);
            let when = now();
            let id = st.id();
            let repo = st
                .repos
                .get(&repo_key(org, name))
                .ok_or_else(|| invalid("repository vanished"))?;
            let assignees = i
                .assignees
                .iter()
                .filter(|a| st.is_collaborator(repo, a))
                .map(|a| a.to_ascii_lowercase())
                .collect::<Vec<_>>();
            let issue = IssueRec {
                assignees,
                open: !i.closed,
                state_reason: i.closed.then(|| "completed".to_owned()),
                closed_at: i.closed.then_some(when),
                milestone: i.milestone.clone(),
                ..IssueRec::opened(
                    id,
                    number,
                    i.title.clone(),
                    i.body.clone(),
                    author,
                    when,
                    None,
                )
            };
            insert_issue(&mut st, org, name, issue, &i.labels)?;
        }

        for repo in st.repos.values_mut() {
            repo.next_number = repo.issues.keys().max().map_or(1, |n| n + 1);
        }

        Ok(Core {
            state: Mutex::new(st),
            _root: root,
            pr_cache: Mutex::new(HashMap::new()),
            hooks: Hooks::new(),
        })
    }
}

/// Adds a seeded issue with its labels (created on the repository when missing).
fn insert_issue(
    st: &mut State,
    org: &str,
    name: &str,
    mut issue: IssueRec,
    labels: &[String],
) -> Result<(), SeedError> {
    let mut label_ids = Vec::new();
    for _ in labels {
        label_ids.push(st.id());
    }
    let repo = st
        .repos
        .get_mut(&repo_key(org, name))
        .ok_or_else(|| invalid("repository vanished"))?;
    for (l, id) in labels.iter().zip(label_ids) {
        let canonical = match repo.label(l) {
            Some(existing) => existing.name.clone(),
            None => {
                if l.is_empty() {
                    return Err(invalid(format!(
                        "{org}/{name}#{}: empty label",
                        issue.number
                    )));
                }
                repo.labels.push(LabelRec {
                    id,
                    name: l.clone(),
                    color: "ededed".into(),
                    description: None,
                    default: false,
                });
                l.clone()
            }
        };
        if !issue
            .labels
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&canonical))
        {
            issue.labels.push(canonical);
        }
    }
    if repo.issues.insert(issue.number, issue).is_some() {
        return Err(invalid(format!("{org}/{name}: duplicate issue number")));
    }
    Ok(())
}

/// The commit time of everything a seed creates (see the repository seeding above).
fn seed_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_704_067_200, 0).unwrap_or_default()
}
