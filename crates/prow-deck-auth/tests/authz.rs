//! Rerun/abort authorization against the GitHub simulator: Prow's `rerun_test.go` cases
//! (`TestRerun` authorization outcomes, `TestCanTriggerJob`) plus the §10.4 edge cases.

use std::sync::Arc;

use prow_api::{ProwJob, RerunAuthConfig};
use prow_deck_auth::{Auth, AuthConfig, AuthError, ConfigGetter, OAuthConfig, SessionUser};
use prow_github_fake::FakeGitHub;

#[path = "support/teamids.rs"]
mod teamids;

const SEED: &str = r#"
users:
  - {login: bot, type: Bot, token: bot-token}
  - {login: authorized}
  - {login: alsoauthorized}
  - {login: sig-lead}
  - {login: org-member}
  - {login: random-dude}
  - {login: collab}
  - {login: outsider}
  - {login: other-member}
orgs:
  - login: org
    members: [org-member]
    teams:
      - {slug: sig-leads, name: SIG leads, members: [sig-lead]}
  - login: sigs
    members: []
    teams:
      - {slug: sig-leads, name: SIG leads, members: [sig-lead]}
  - login: other-org
    members: [other-member]
repos:
  - name: org/repo
    collaborators: [collab]
    files: {README.md: "hi\n"}
pull_requests:
  - {repo: org/repo, number: 1, author: outsider, title: Change, head: change, files: {a.txt: "a\n"}}
  - {repo: org/repo, number: 2, author: outsider, title: Other, head: other, labels: [ok-to-test], files: {b.txt: "b\n"}}
"#;

fn rac(v: serde_json::Value) -> RerunAuthConfig {
    serde_json::from_value(v).expect("valid rerun auth config")
}

fn presubmit(pr: u64, job_rac: Option<serde_json::Value>) -> ProwJob {
    let mut spec = serde_json::json!({
        "type": "presubmit", "job": "whoa", "cluster": "default",
        "refs": {"org": "org", "repo": "repo", "base_ref": "main",
                 "pulls": [{"number": pr, "author": "outsider", "sha": "abc"}]}
    });
    if let Some(r) = job_rac {
        spec["rerun_auth_config"] = r;
    }
    serde_json::from_value(serde_json::json!({"metadata": {"name": "wowsuch"}, "spec": spec}))
        .expect("valid prowjob")
}

fn periodic(job_rac: Option<serde_json::Value>) -> ProwJob {
    let mut spec = serde_json::json!({"type": "periodic", "job": "nightly", "cluster": "default"});
    if let Some(r) = job_rac {
        spec["rerun_auth_config"] = r;
    }
    serde_json::from_value(serde_json::json!({"metadata": {"name": "per"}, "spec": spec}))
        .expect("valid prowjob")
}

fn periodic_in_org(job_rac: serde_json::Value) -> ProwJob {
    serde_json::from_value(serde_json::json!({"metadata": {"name": "per"}, "spec": {
        "type": "periodic", "job": "nightly", "cluster": "default",
        "extra_refs": [{"org": "org", "repo": "repo", "base_ref": "main"}],
        "rerun_auth_config": job_rac}}))
    .expect("valid prowjob")
}

fn config(global: Option<serde_json::Value>) -> ConfigGetter {
    let mut c = prow_config::Config::default();
    if let Some(g) = global {
        c.prow.deck.rerun_auth_configs.insert("*".into(), rac(g));
    }
    let c = Arc::new(c);
    Arc::new(move || c.clone())
}

fn oauth_cfg() -> AuthConfig {
    AuthConfig {
        oauth: Some(OAuthConfig {
            client_id: "id".into(),
            client_secret: "secret".into(),
            redirect_url: "http://127.0.0.1:1/github-login/redirect".into(),
            ..Default::default()
        }),
        cookie_secret: Some(vec![5u8; 32]),
        allow_insecure: true,
        ..AuthConfig::default()
    }
}

fn user(login: &str) -> SessionUser {
    SessionUser {
        login: login.into(),
        token: "t".into(),
    }
}

fn auth(fake: &FakeGitHub, global: Option<serde_json::Value>, with_bot: bool) -> Auth {
    let bot: Option<Arc<dyn prow_github::GitHub>> = if with_bot {
        Some(Arc::new(teamids::TeamIds(Arc::new(fake.client("bot")))))
    } else {
        None
    };
    let plugins: prow_config::PluginsConfig =
        serde_saphyr::from_str("triggers:\n- repos: [org]\n").expect("plugins yaml");
    let plugins = Arc::new(plugins);
    Auth::new(oauth_cfg(), bot, config(global))
        .expect("auth")
        .with_plugins(Arc::new(move || plugins.clone()))
}

/// Outcome in a comparable form: `Some(login)`/`None` for allowed, the error's variant name.
fn outcome(r: Result<prow_deck_auth::Authorized, AuthError>) -> String {
    match r {
        Ok(a) => format!("allowed:{}", a.login.unwrap_or_else(|| "-".into())),
        Err(AuthError::NotLoggedIn) => "need-login".into(),
        Err(AuthError::Forbidden { login, job }) => format!("forbidden:{login}:{job}"),
        Err(AuthError::OAuthNotConfigured) => "no-oauth".into(),
        Err(e) => format!("error:{e}"),
    }
}

#[tokio::test]
async fn authorization_table() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let users = serde_json::json!({"github_users": ["authorized", "alsoauthorized"]});
    let job_users = Some(serde_json::json!({"github_users": ["authorized", "alsoauthorized"]}));
    let anyone = serde_json::json!({"allow_anyone": true});
    let empty = serde_json::json!({});

    struct Case {
        name: &'static str,
        global: Option<serde_json::Value>,
        pj: ProwJob,
        user: Option<&'static str>,
        bot: bool,
        want: &'static str,
    }
    let cases = vec![
        // rerun_test.go TestRerun
        Case {
            name: "Handler returns ProwJob (config-level user)",
            global: Some(users.clone()),
            pj: presubmit(1, None),
            user: Some("authorized"),
            bot: true,
            want: "allowed:authorized",
        },
        Case {
            name: "User not authorized to create prow job",
            global: Some(users.clone()),
            pj: presubmit(1, job_users.clone()),
            user: Some("random-dude"),
            bot: true,
            want: "forbidden:random-dude:whoa",
        },
        Case {
            name: "Allow anyone set to true (config level), no login needed",
            global: Some(anyone.clone()),
            pj: presubmit(1, None),
            user: None,
            bot: true,
            want: "allowed:-",
        },
        Case {
            name: "User permitted on specific job",
            global: Some(empty.clone()),
            pj: presubmit(1, job_users.clone()),
            user: Some("authorized"),
            bot: true,
            want: "allowed:authorized",
        },
        Case {
            name: "User on permitted team (slug)",
            global: Some(empty.clone()),
            pj: periodic(Some(
                serde_json::json!({"github_team_slugs": [{"org": "sigs", "slug": "sig-leads"}]}),
            )),
            user: Some("sig-lead"),
            bot: true,
            want: "allowed:sig-lead",
        },
        Case {
            name: "Org member permitted for presubmits (/test trust)",
            global: Some(empty.clone()),
            pj: presubmit(1, job_users.clone()),
            user: Some("org-member"),
            bot: true,
            want: "allowed:org-member",
        },
        Case {
            name: "User on permitted team (ID 42, in the job's org)",
            global: None,
            pj: periodic_in_org(serde_json::json!({"github_team_ids": [42]})),
            user: Some("sig-lead"),
            bot: true,
            want: "allowed:sig-lead",
        },
        Case {
            name: "team ID: non-member refused",
            global: None,
            pj: periodic_in_org(serde_json::json!({"github_team_ids": [42]})),
            user: Some("random-dude"),
            bot: true,
            want: "forbidden:random-dude:nightly",
        },
        Case {
            name: "unknown team ID grants nothing",
            global: None,
            pj: periodic_in_org(serde_json::json!({"github_team_ids": [99]})),
            user: Some("sig-lead"),
            bot: true,
            want: "forbidden:sig-lead:nightly",
        },
        // rerun_test.go TestCanTriggerJob
        Case {
            name: "CanTriggerJob: untrusted user can not rerun",
            global: None,
            pj: presubmit(1, None),
            user: Some("random-dude"),
            bot: true,
            want: "forbidden:random-dude:whoa",
        },
        Case {
            name: "CanTriggerJob: trusted (org member) can rerun",
            global: None,
            pj: presubmit(1, None),
            user: Some("org-member"),
            bot: true,
            want: "allowed:org-member",
        },
        // §10.4 edges
        Case {
            name: "job-level allow_anyone, logged out",
            global: None,
            pj: periodic(Some(anyone.clone())),
            user: None,
            bot: false,
            want: "allowed:-",
        },
        Case {
            name: "login required when not open to anyone",
            global: Some(users.clone()),
            pj: presubmit(1, None),
            user: None,
            bot: true,
            want: "need-login",
        },
        Case {
            name: "collaborator passes the /test trust check",
            global: None,
            pj: presubmit(1, None),
            user: Some("collab"),
            bot: true,
            want: "allowed:collab",
        },
        Case {
            name: "ok-to-test PR: any logged-in user passes (Prow's TrustedPullRequest)",
            global: None,
            pj: presubmit(2, None),
            user: Some("random-dude"),
            bot: true,
            want: "allowed:random-dude",
        },
        Case {
            name: "periodics get no /test trust check",
            global: None,
            pj: periodic(None),
            user: Some("org-member"),
            bot: true,
            want: "forbidden:org-member:nightly",
        },
        Case {
            name: "github_orgs membership",
            global: Some(serde_json::json!({"github_orgs": ["other-org"]})),
            pj: periodic(None),
            user: Some("other-member"),
            bot: true,
            want: "allowed:other-member",
        },
        Case {
            name: "team slug: non-member refused",
            global: None,
            pj: periodic(Some(
                serde_json::json!({"github_team_slugs": [{"org": "sigs", "slug": "sig-leads"}]}),
            )),
            user: Some("random-dude"),
            bot: true,
            want: "forbidden:random-dude:nightly",
        },
        Case {
            name: "logins compare case-insensitively",
            global: Some(serde_json::json!({"github_users": ["@Authorized"]})),
            pj: periodic(None),
            user: Some("AUTHORIZED"),
            bot: false,
            want: "allowed:AUTHORIZED",
        },
        Case {
            name: "without a bot token org membership cannot be checked",
            global: Some(serde_json::json!({"github_orgs": ["other-org"]})),
            pj: presubmit(1, None),
            user: Some("other-member"),
            bot: false,
            want: "forbidden:other-member:whoa",
        },
    ];
    let mut failures = Vec::new();
    for c in cases {
        let a = auth(&fake, c.global, c.bot);
        let u = c.user.map(user);
        let got = outcome(a.authorize(&c.pj, u.as_ref()).await);
        if got != c.want {
            failures.push(format!("{}: got {got}, want {}", c.name, c.want));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn without_oauth_only_allow_anyone_works() {
    let fake = FakeGitHub::from_seed_yaml(SEED).expect("seed");
    let cfg = AuthConfig::default();
    let a = Auth::new(cfg, Some(Arc::new(fake.client("bot"))), config(None)).expect("auth");
    assert_eq!(
        outcome(a.authorize(&presubmit(1, None), None).await),
        "no-oauth"
    );
    let e = a.authorize(&presubmit(1, None), None).await.unwrap_err();
    assert_eq!(e.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        outcome(
            a.authorize(
                &periodic(Some(serde_json::json!({"allow_anyone": true}))),
                None
            )
            .await
        ),
        "allowed:-"
    );
    assert_eq!(
        AuthError::NotLoggedIn.status(),
        http::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        AuthError::Forbidden {
            login: "a".into(),
            job: "j".into()
        }
        .to_string(),
        "a is not allowed to rerun j"
    );
}
