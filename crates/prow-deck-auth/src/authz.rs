//! Rerun/abort authorization (Prow's `cmd/deck/rerun.go` + `RerunAuthConfig.IsAuthorized`).
//!
//! Order of checks (spec §10.4): the job-level or config-level config allows anyone (no login
//! needed); otherwise a logged-in user must be listed in, or belong to an org/team of, first the
//! config-level entry and then the job's own `rerun_auth_config`; finally, for a presubmit with
//! a PR, the user passes when `/test` would trust them (trigger's `TrustedPullRequest`).

use std::sync::Arc;

use prow_api::{ProwJob, ProwJobSpec, ProwJobType, RerunAuthConfig};
use prow_config::PluginsConfig;
use prow_config::prow::Deck;
use prow_github::GitHub;
use prow_plugins::BotIdentity;

use crate::AuthError;

/// Plugin configuration source, for the `/test` trust check (`plugins.yaml` `triggers`).
pub type PluginsGetter = Arc<dyn Fn() -> Arc<PluginsConfig> + Send + Sync>;

/// `refs` org/repo, else the first extra ref's, else empty (Prow's choice for periodics).
fn job_org_repo(spec: &ProwJobSpec) -> (String, String) {
    spec.refs
        .as_ref()
        .or(spec.extra_refs.first())
        .map(|r| (r.org.clone(), r.repo.clone()))
        .unwrap_or_default()
}

/// The config-level rerun auth config for a job at `org_repo` on `cluster` (Prow's
/// `Deck.GetRerunAuthConfig`): the last matching `default_rerun_auth_configs` entry, or when
/// that list is empty the legacy `rerun_auth_configs` map ordered `""`, `*`, orgs, repos so the
/// most specific key wins.
pub fn config_level_entry(deck: &Deck, org_repo: &str, cluster: &str) -> Option<RerunAuthConfig> {
    let mut found: Option<&RerunAuthConfig> = None;
    if !deck.default_rerun_auth_configs.is_empty() {
        for e in &deck.default_rerun_auth_configs {
            // A matching entry without a config resets to "none", like Prow's nil pointer.
            if prow_config::defaults::entry_matches(&e.org_repo, &e.cluster, org_repo, cluster) {
                found = e.rerun_auth_configs.as_ref();
            }
        }
        return found.cloned();
    }
    let map = &deck.rerun_auth_configs;
    let rank = |k: &str| match k {
        "" => 0,
        "*" => 1,
        k if !k.contains('/') => 2,
        _ => 3,
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| rank(k));
    for k in keys {
        if prow_config::defaults::entry_matches(k, "", org_repo, cluster) {
            found = map.get(k);
        }
    }
    found.cloned()
}

/// The config-level entry for a job spec.
pub fn config_level_for_spec(deck: &Deck, spec: &ProwJobSpec) -> Option<RerunAuthConfig> {
    let (org, repo) = job_org_repo(spec);
    let org_repo = if org.is_empty() && repo.is_empty() {
        String::new()
    } else {
        format!("{org}/{repo}")
    };
    config_level_entry(deck, &org_repo, &spec.cluster)
}

/// Whether anyone may rerun the job without logging in.
pub fn allows_anyone(deck: &Deck, pj: &ProwJob) -> bool {
    pj.spec
        .rerun_auth_config
        .as_ref()
        .is_some_and(|c| c.allow_anyone)
        || config_level_for_spec(deck, &pj.spec).is_some_and(|c| c.allow_anyone)
}

/// GitHub login comparison (Prow's `NormLogin`: case-insensitive, leading `@` ignored).
pub fn norm_login(l: &str) -> String {
    l.trim().trim_start_matches('@').to_lowercase()
}

/// Prow's `RerunAuthConfig.IsAuthorized`: listed user, else (with a bot client) member of a
/// listed org, team ID (in the job's `org`) or team slug.
pub async fn is_authorized(
    rac: Option<&RerunAuthConfig>,
    org: &str,
    user: &str,
    gh: Option<&dyn GitHub>,
) -> Result<bool, AuthError> {
    let Some(rac) = rac else { return Ok(false) };
    if rac.allow_anyone {
        return Ok(true);
    }
    let me = norm_login(user);
    if rac.github_users.iter().any(|u| norm_login(u) == me) {
        return Ok(true);
    }
    // Without a bot token nobody can look up memberships.
    let Some(gh) = gh else { return Ok(false) };
    for o in &rac.github_orgs {
        if gh.is_member(o, user).await.map_err(|e| {
            AuthError::GitHub(format!("GitHub failed to fetch members of org {o}: {e}"))
        })? {
            return Ok(true);
        }
    }
    for id in &rac.github_team_ids {
        let slug = team_slug_for_id(gh, org, *id).await.map_err(|e| {
            AuthError::GitHub(format!(
                "GitHub failed to fetch members of team {id}, verify that you have the correct team number and access token: {e}"
            ))
        })?;
        if let Some(slug) = slug
            && team_has_member(gh, org, &slug, user).await.map_err(|e| {
                AuthError::GitHub(format!(
                    "GitHub failed to fetch members of team {id}, verify that you have the correct team number and access token: {e}"
                ))
            })?
        {
            return Ok(true);
        }
    }
    for t in &rac.github_team_slugs {
        if team_has_member(gh, &t.org, &t.slug, user)
            .await
            .map_err(|e| {
                AuthError::GitHub(format!(
                    "GitHub failed to check if team with slug {} has member {user}: {e}",
                    t.slug
                ))
            })?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn team_has_member(
    gh: &dyn GitHub,
    org: &str,
    slug: &str,
    user: &str,
) -> Result<bool, prow_github::GitHubError> {
    let me = norm_login(user);
    Ok(gh
        .list_team_members(org, slug)
        .await?
        .iter()
        .any(|m| norm_login(&m.login) == me))
}

/// Team IDs are only reachable by slug through the `GitHub` trait, so the ID is mapped to a slug
/// with GraphQL (`Team.databaseId`).
async fn team_slug_for_id(
    gh: &dyn GitHub,
    org: &str,
    id: i64,
) -> Result<Option<String>, prow_github::GitHubError> {
    const Q: &str = "query($org: String!, $cursor: String) { organization(login: $org) { teams(first: 100, after: $cursor) { nodes { databaseId slug } pageInfo { hasNextPage endCursor } } } }";
    let mut cursor = serde_json::Value::Null;
    // Bounded: 50 pages of 100 teams is far beyond any real org.
    for _ in 0..50 {
        let data = gh
            .graphql(
                org,
                Q,
                serde_json::json!({"org": org, "cursor": cursor.clone()}),
            )
            .await?;
        let teams = &data["organization"]["teams"];
        if let Some(nodes) = teams["nodes"].as_array() {
            for n in nodes {
                if n["databaseId"].as_i64() == Some(id)
                    && let Some(slug) = n["slug"].as_str()
                {
                    return Ok(Some(slug.to_string()));
                }
            }
        }
        if teams["pageInfo"]["hasNextPage"].as_bool() != Some(true) {
            break;
        }
        cursor = teams["pageInfo"]["endCursor"].clone();
    }
    Ok(None)
}

/// The login-required part of Prow's `canTriggerJob`.
pub async fn can_trigger_job(
    login: &str,
    pj: &ProwJob,
    config_level: Option<&RerunAuthConfig>,
    gh: Option<&dyn GitHub>,
    plugins: Option<&PluginsConfig>,
) -> Result<bool, AuthError> {
    let (org, repo) = job_org_repo(&pj.spec);
    if is_authorized(config_level, &org, login, gh).await? {
        return Ok(true);
    }
    if is_authorized(pj.spec.rerun_auth_config.as_ref(), &org, login, gh).await? {
        return Ok(true);
    }
    let Some(gh) = gh else {
        tracing::warn!("no GitHub token was provided, so GitHub teams cannot be checked");
        return Ok(false);
    };
    let Some(refs) = pj.spec.refs.as_ref() else {
        return Ok(false);
    };
    if pj.spec.job_type != Some(ProwJobType::Presubmit) {
        return Ok(false);
    }
    let Some(pull) = refs.pulls.first() else {
        return Ok(false);
    };
    let Some(plugins) = plugins else {
        tracing::info!("no plugin config, so /test permissions cannot be checked");
        return Ok(false);
    };
    let trigger = prow_plugins::config::trigger_for(plugins, &refs.org, &refs.repo)
        .map_err(|e| AuthError::GitHub(format!("reading the trigger config: {e}")))?;
    let bot = match gh.bot_user().await {
        Ok(u) => BotIdentity::new(&u.login),
        // The bot check only short-cuts the bot itself; without it the other checks still apply.
        Err(_) => BotIdentity::new(""),
    };
    // Like Prow, the *rerunning user* stands in for the PR author: trusted when they could
    // `/test`, or when the PR carries `ok-to-test`.
    let (_, trusted) = prow_plugins::plugins::trigger::trusted_pull_request(
        gh,
        &bot,
        &trigger,
        login,
        &refs.org,
        &repo_or(&refs.repo, &repo),
        pull.number,
    )
    .await
    .map_err(|e| AuthError::GitHub(e.to_string()))?;
    Ok(trusted)
}

fn repo_or(a: &str, b: &str) -> String {
    if a.is_empty() { b } else { a }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(u: &[&str]) -> RerunAuthConfig {
        RerunAuthConfig {
            github_users: u.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn logins(c: Option<RerunAuthConfig>) -> Vec<String> {
        c.map(|c| c.github_users).unwrap_or_default()
    }

    #[test]
    fn legacy_map_most_specific_wins() {
        let mut d = Deck::default();
        d.rerun_auth_configs.insert("*".into(), users(&["star"]));
        d.rerun_auth_configs
            .insert("org".into(), users(&["orgwide"]));
        d.rerun_auth_configs
            .insert("org/repo".into(), users(&["repo"]));
        assert_eq!(
            logins(config_level_entry(&d, "org/repo", "default")),
            ["repo"]
        );
        assert_eq!(
            logins(config_level_entry(&d, "org/other", "default")),
            ["orgwide"]
        );
        assert_eq!(
            logins(config_level_entry(&d, "else/x", "default")),
            ["star"]
        );
        assert_eq!(logins(config_level_entry(&d, "", "")), ["star"]);
    }

    #[test]
    fn default_entries_last_match_by_repo_and_cluster() {
        let d: Deck = serde_json::from_value(serde_json::json!({
            "default_rerun_auth_configs": [
                {"repo": "*", "rerun_auth_configs": {"github_users": ["a"]}},
                {"repo": "org", "cluster": "trusted", "rerun_auth_configs": {"github_users": ["b"]}},
                {"repo": "org/repo", "rerun_auth_configs": {"github_users": ["c"]}},
                {"repo": "org/nil"}
            ]
        }))
        .unwrap();
        assert_eq!(logins(config_level_entry(&d, "org/repo", "default")), ["c"]);
        assert_eq!(logins(config_level_entry(&d, "org/x", "trusted")), ["b"]);
        assert_eq!(logins(config_level_entry(&d, "org/x", "default")), ["a"]);
        // A matching entry without settings resets to none.
        assert!(config_level_entry(&d, "org/nil", "default").is_none());
        // Periodic without refs: only the catch-all applies.
        assert_eq!(logins(config_level_entry(&d, "", "default")), ["a"]);
    }

    #[test]
    fn job_org_repo_falls_back_to_extra_refs() {
        let spec: ProwJobSpec = serde_json::from_value(serde_json::json!({
            "type": "periodic", "job": "p", "cluster": "trusted",
            "extra_refs": [{"org": "org", "repo": "x", "base_ref": "main"}]
        }))
        .unwrap();
        assert_eq!(job_org_repo(&spec), ("org".to_string(), "x".to_string()));
        let mut d = Deck::default();
        d.rerun_auth_configs.insert("org/x".into(), users(&["x"]));
        assert_eq!(logins(config_level_for_spec(&d, &spec)), ["x"]);
        assert_eq!(norm_login("@Alice "), "alice");
    }
}
