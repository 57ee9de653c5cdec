//! What Deck needs from the login/CSRF/authorization layer, as a small trait so the rerun and
//! abort endpoints do not depend on how sessions are stored. `prow-deck-auth`'s `Auth`
//! implements it through an adapter; without any ([`crate::DeckDeps::auth`] = `None`) only jobs
//! whose rerun auth config says `allow_anyone` may be rerun or aborted, as in Prow without
//! OAuth.

use async_trait::async_trait;
use http::HeaderMap;
use prow_api::{ProwJob, RerunAuthConfig};

/// Result of an authorization check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthDecision {
    /// Go ahead; `login` is the acting user when known.
    Allowed {
        /// The GitHub login, if logged in.
        login: Option<String>,
    },
    /// Not logged in and the job is not open to anyone.
    NeedLogin,
    /// Logged in but not allowed.
    Denied {
        /// The GitHub login.
        login: String,
    },
    /// The check itself failed (GitHub unreachable…).
    Error(String),
}

/// Login state, CSRF and rerun authorization.
#[async_trait]
pub trait DeckAuth: Send + Sync {
    /// The logged-in GitHub login, if any.
    fn login(&self, headers: &HeaderMap) -> Option<String>;
    /// The CSRF token to embed in pages; `None` when CSRF is disabled.
    fn csrf_token(&self, headers: &HeaderMap) -> Option<String>;
    /// Checks a POST's CSRF token (header `X-CSRF-Token` or the form field).
    fn check_csrf(&self, headers: &HeaderMap, form_token: Option<&str>) -> Result<(), String>;
    /// May the requester rerun/abort `pj` (spec §10.4)?
    async fn authorize(&self, pj: &ProwJob, headers: &HeaderMap) -> AuthDecision;
    /// Routes the auth layer serves (`/github-login`, `/pr`, …), merged into Deck's router.
    fn router(&self) -> Option<axum::Router> {
        None
    }
    /// Wraps Deck's whole router (e.g. to hand out CSRF nonce cookies on every page).
    fn wrap(&self, router: axum::Router) -> axum::Router {
        router
    }
}

/// `prow-deck-auth`'s [`prow_deck_auth::Auth`] as Deck's auth layer.
#[async_trait]
impl DeckAuth for prow_deck_auth::Auth {
    fn login(&self, headers: &HeaderMap) -> Option<String> {
        self.user(headers).map(|u| u.login)
    }
    fn csrf_token(&self, headers: &HeaderMap) -> Option<String> {
        prow_deck_auth::Auth::csrf_token(self, headers)
    }
    fn check_csrf(&self, headers: &HeaderMap, form_token: Option<&str>) -> Result<(), String> {
        prow_deck_auth::Auth::check_csrf(self, headers, form_token).map_err(|e| e.to_string())
    }
    async fn authorize(&self, pj: &ProwJob, headers: &HeaderMap) -> AuthDecision {
        use prow_deck_auth::AuthError;
        let user = self.user(headers);
        match prow_deck_auth::Auth::authorize(self, pj, user.as_ref()).await {
            Ok(a) => AuthDecision::Allowed { login: a.login },
            Err(AuthError::NotLoggedIn) => AuthDecision::NeedLogin,
            Err(AuthError::Forbidden { login, .. }) => AuthDecision::Denied { login },
            Err(e) => AuthDecision::Error(e.to_string()),
        }
    }
    fn router(&self) -> Option<axum::Router> {
        Some(prow_deck_auth::Auth::router(self))
    }
    fn wrap(&self, router: axum::Router) -> axum::Router {
        prow_deck_auth::Auth::wrap(self, router)
    }
}

/// The primary `org/repo` of a job (refs, else the first extra refs), `""` for none.
pub fn job_org_repo(pj: &ProwJob) -> String {
    pj.spec
        .refs
        .as_ref()
        .or(pj.spec.extra_refs.first())
        .map(|r| format!("{}/{}", r.org, r.repo))
        .unwrap_or_default()
}

/// The config-level rerun auth config for a job: the last matching
/// `deck.default_rerun_auth_configs` entry, or the most specific `deck.rerun_auth_configs`
/// key (`org/repo`, `org`, `*`), as Prow converts the map form.
pub fn config_rerun_auth<'a>(
    cfg: &'a prow_config::Config,
    pj: &ProwJob,
) -> Option<&'a RerunAuthConfig> {
    let deck = &cfg.prow.deck;
    let org_repo = job_org_repo(pj);
    if !deck.default_rerun_auth_configs.is_empty() {
        return deck
            .default_rerun_auth_configs
            .iter()
            .rev()
            .find(|e| {
                prow_config::defaults::entry_matches(
                    &e.org_repo,
                    &e.cluster,
                    &org_repo,
                    &pj.spec.cluster,
                )
            })
            .and_then(|e| e.rerun_auth_configs.as_ref());
    }
    let org = org_repo.split('/').next().unwrap_or("");
    deck.rerun_auth_configs
        .get(&org_repo)
        .or_else(|| deck.rerun_auth_configs.get(org))
        .or_else(|| deck.rerun_auth_configs.get("*"))
}

/// Whether anyone (even logged out) may rerun/abort the job.
pub fn allows_anyone(cfg: &prow_config::Config, pj: &ProwJob) -> bool {
    config_rerun_auth(cfg, pj).is_some_and(|c| c.allow_anyone)
        || pj
            .spec
            .rerun_auth_config
            .as_ref()
            .is_some_and(|c| c.allow_anyone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::Refs;

    fn cfg() -> prow_config::Config {
        prow_config::Config {
            prow: Default::default(),
            jobs: Default::default(),
            stats: Default::default(),
        }
    }

    fn pj(org: &str, repo: &str) -> ProwJob {
        let mut p = ProwJob::default();
        p.spec.refs = Some(Refs {
            org: org.into(),
            repo: repo.into(),
            ..Default::default()
        });
        p
    }

    #[test]
    fn most_specific_map_key_wins() {
        let mut c = cfg();
        c.prow.deck.rerun_auth_configs.insert(
            "*".into(),
            RerunAuthConfig {
                allow_anyone: true,
                ..Default::default()
            },
        );
        c.prow.deck.rerun_auth_configs.insert(
            "o/locked".into(),
            RerunAuthConfig {
                github_users: vec!["admin".into()],
                ..Default::default()
            },
        );
        assert!(allows_anyone(&c, &pj("o", "r")));
        assert!(!allows_anyone(&c, &pj("o", "locked")));
    }

    #[test]
    fn job_level_allow_anyone() {
        let c = cfg();
        let mut p = pj("o", "r");
        assert!(!allows_anyone(&c, &p));
        p.spec.rerun_auth_config = Some(RerunAuthConfig {
            allow_anyone: true,
            ..Default::default()
        });
        assert!(allows_anyone(&c, &p));
    }
}
