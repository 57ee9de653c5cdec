//! Dispatcher behaviour: enablement, concurrency isolation, outcomes, generic comments, and
//! `/plugin-help` generated from the registry.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use prow_config::PluginsConfig;
use prow_github::GitHub;
use prow_github::events::{Event, IssueCommentEvent, PushEvent};
use prow_plugins::{
    CommentAction, EventKind, GenericCommentEvent, OrgRepo, Plugin, PluginContext, PluginError,
    PluginHelp, PluginOutcome, PluginResult, build_help, plugin_help_json, registry,
};

use crate::world::{BOT, Spec, World, corpus};

type Log = Arc<Mutex<Vec<(String, EventKind, String)>>>;

#[derive(Clone, Copy)]
enum Behaviour {
    Ok,
    CallGitHub,
    Fail,
    Panic,
}

struct Probe {
    name: &'static str,
    behaviour: Behaviour,
    log: Log,
}

impl Probe {
    fn record(&self, kind: EventKind, action: &str) {
        if let Ok(mut l) = self.log.lock() {
            l.push((self.name.to_owned(), kind, action.to_owned()));
        }
    }

    async fn act(&self, ctx: &PluginContext) -> PluginResult {
        match self.behaviour {
            Behaviour::Ok => Ok(()),
            Behaviour::CallGitHub => {
                ctx.github.get_repo("org", "repo").await?;
                Ok(())
            }
            Behaviour::Fail => Err(PluginError::Other("probe failed on purpose".into())),
            Behaviour::Panic => panic!("probe panicked on purpose"),
        }
    }
}

#[async_trait]
impl Plugin for Probe {
    fn name(&self) -> &'static str {
        self.name
    }
    fn event_kinds(&self) -> &'static [EventKind] {
        &[
            EventKind::IssueComment,
            EventKind::Push,
            EventKind::GenericComment,
        ]
    }
    fn help(&self, _cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        PluginHelp::new("probe")
    }
    async fn handle_issue_comment(
        &self,
        ctx: &PluginContext,
        e: &IssueCommentEvent,
    ) -> PluginResult {
        self.record(EventKind::IssueComment, &e.action);
        self.act(ctx).await
    }
    async fn handle_push(&self, ctx: &PluginContext, _e: &PushEvent) -> PluginResult {
        self.record(EventKind::Push, "");
        self.act(ctx).await
    }
    async fn handle_generic_comment(
        &self,
        ctx: &PluginContext,
        e: &GenericCommentEvent,
    ) -> PluginResult {
        self.record(EventKind::GenericComment, e.action.as_str());
        self.act(ctx).await
    }
}

fn probes(log: &Log) -> Vec<Arc<dyn Plugin>> {
    let p = |name, behaviour| {
        Arc::new(Probe {
            name,
            behaviour,
            log: Arc::clone(log),
        }) as Arc<dyn Plugin>
    };
    vec![
        p("alpha", Behaviour::Ok),
        p("beta", Behaviour::CallGitHub),
        p("failing", Behaviour::Fail),
        p("panicking", Behaviour::Panic),
    ]
}

const SEED: &str = "repos: [{name: org/repo, files: {a: b}}, {name: org/skipped, files: {a: b}}, {name: other/repo, files: {a: b}}]\nissues: [{repo: org/repo, number: 1, author: alice, title: I}, {repo: org/skipped, number: 1, author: alice, title: I}, {repo: other/repo, number: 1, author: alice, title: I}]\n";

async fn world(plugins: &str, log: &Log) -> World {
    World::new(Spec {
        seed: SEED,
        plugins,
        registry: Some(probes(log)),
        ..Default::default()
    })
    .await
}

fn ran(log: &Log) -> BTreeSet<(String, EventKind)> {
    log.lock()
        .map(|l| l.iter().map(|(n, k, _)| (n.clone(), *k)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn enablement_org_repo_and_exclusions() {
    let log: Log = Arc::default();
    let cfg = "plugins:\n  org:\n    excluded_repos: [skipped]\n    plugins: [alpha, cat]\n  org/repo:\n    plugins: [beta]\n  org/skipped:\n    plugins: [beta]\n  other/repo:\n    plugins: [alpha]\n";
    let mut w = world(cfg, &log).await;

    w.comment("alice", "org", "repo", 1, "hello").await;
    let want: BTreeSet<(String, EventKind)> = [
        ("alpha".to_owned(), EventKind::IssueComment),
        ("alpha".to_owned(), EventKind::GenericComment),
        ("beta".to_owned(), EventKind::IssueComment),
        ("beta".to_owned(), EventKind::GenericComment),
    ]
    .into();
    assert_eq!(
        ran(&log),
        want,
        "org plugins plus repo plugins; unknown `cat` ignored"
    );

    log.lock().expect("lock").clear();
    w.comment("alice", "org", "skipped", 1, "hello").await;
    let want: BTreeSet<(String, EventKind)> = [
        ("beta".to_owned(), EventKind::IssueComment),
        ("beta".to_owned(), EventKind::GenericComment),
    ]
    .into();
    assert_eq!(ran(&log), want, "excluded repo gets only its own plugins");

    log.lock().expect("lock").clear();
    w.comment("alice", "other", "repo", 1, "hello").await;
    let want: BTreeSet<(String, EventKind)> = [
        ("alpha".to_owned(), EventKind::IssueComment),
        ("alpha".to_owned(), EventKind::GenericComment),
    ]
    .into();
    assert_eq!(ran(&log), want);
}

#[tokio::test]
async fn duplicate_enablement_runs_once() {
    let log: Log = Arc::default();
    let mut w = world(
        "plugins:\n  org: {plugins: [alpha]}\n  org/repo: {plugins: [alpha]}\n",
        &log,
    )
    .await;
    w.comment("alice", "org", "repo", 1, "hi").await;
    assert_eq!(
        log.lock().expect("lock").len(),
        2,
        "one issue_comment + one generic comment run"
    );
}

#[tokio::test]
async fn failures_and_panics_are_isolated_and_reported() {
    let log: Log = Arc::default();
    let mut w = world(
        "plugins:\n  org/repo:\n    plugins: [panicking, failing, alpha, beta]\n",
        &log,
    )
    .await;
    let outcomes = w.comment("alice", "org", "repo", 1, "hello").await;
    assert_eq!(outcomes.len(), 8, "{outcomes:#?}");
    let by: BTreeMap<(String, EventKind), &PluginOutcome> = outcomes
        .iter()
        .map(|o| ((o.plugin.clone(), o.handler), o))
        .collect();
    for kind in [EventKind::IssueComment, EventKind::GenericComment] {
        let alpha = by[&("alpha".to_owned(), kind)];
        assert_eq!(alpha.error, None);
        assert!(!alpha.took_action, "alpha made no calls");
        let beta = by[&("beta".to_owned(), kind)];
        assert_eq!(beta.error, None);
        assert!(beta.took_action, "beta called GitHub");
        let failing = by[&("failing".to_owned(), kind)];
        assert_eq!(failing.error.as_deref(), Some("probe failed on purpose"));
        let panicking = by[&("panicking".to_owned(), kind)];
        assert!(
            panicking
                .error
                .as_deref()
                .is_some_and(|e| e.contains("panic caught: probe panicked on purpose")),
            "{panicking:?}"
        );
    }
    for o in &outcomes {
        assert_eq!(o.event_type, "issue_comment");
        assert_eq!(o.action, "created");
    }
}

#[tokio::test]
async fn push_has_action_none_and_no_generic_comment() {
    let log: Log = Arc::default();
    let mut w = world("plugins:\n  org: {plugins: [alpha]}\n", &log).await;
    w.fake
        .push_files(
            "alice",
            "org",
            "repo",
            "main",
            crate::world::files(&[("x", "y")]),
            "m",
        )
        .expect("push");
    let outcomes = w.settle().await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].handler, EventKind::Push);
    assert_eq!(outcomes[0].event_type, "push");
    assert_eq!(outcomes[0].action, "none");
}

#[tokio::test]
async fn edited_comments_are_generalized_as_edited() {
    let log: Log = Arc::default();
    let mut w = world("plugins:\n  org: {plugins: [alpha]}\n", &log).await;
    let c = w
        .gh("alice")
        .create_comment("org", "repo", 1, "first")
        .await
        .expect("comment");
    w.discard_events();
    w.gh("alice")
        .edit_comment("org", "repo", c.id, "second")
        .await
        .expect("edit");
    let outcomes = w.settle().await;
    let gc = outcomes
        .iter()
        .find(|o| o.handler == EventKind::GenericComment)
        .expect("generic comment ran");
    assert_eq!(gc.action, "edited");
    let ic = outcomes
        .iter()
        .find(|o| o.handler == EventKind::IssueComment)
        .expect("issue comment ran");
    assert_eq!(ic.action, "edited");
}

#[tokio::test]
async fn corpus_payloads_generalize_like_prow() {
    // (event type, file, expected generic comment action)
    let cases = [
        (
            "issue_comment",
            "created.payload.json",
            Some(CommentAction::Created),
        ),
        (
            "issue_comment",
            "edited.payload.json",
            Some(CommentAction::Edited),
        ),
        (
            "issue_comment",
            "deleted.payload.json",
            Some(CommentAction::Deleted),
        ),
        (
            "issues",
            "opened.payload.json",
            Some(CommentAction::Created),
        ),
        ("issues", "edited.payload.json", Some(CommentAction::Edited)),
        ("issues", "labeled.payload.json", None),
        (
            "pull_request",
            "opened.payload.json",
            Some(CommentAction::Created),
        ),
        (
            "pull_request",
            "opened.with-null-body.json",
            Some(CommentAction::Created),
        ),
        ("pull_request", "labeled.payload.json", None),
        ("pull_request", "closed.payload.json", None),
        (
            "pull_request_review",
            "submitted.payload.json",
            Some(CommentAction::Created),
        ),
        (
            "pull_request_review_comment",
            "created.payload.json",
            Some(CommentAction::Created),
        ),
        ("push", "payload.json", None),
    ];
    for (event_type, file, want) in cases {
        let path = corpus(&format!(
            "github-webhooks/payload-examples/{event_type}/{file}"
        ));
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ev = prow_github::events::parse(event_type, &body).expect("corpus payload parses");
        let gc = GenericCommentEvent::from_event(&ev, "guid");
        assert_eq!(gc.as_ref().map(|g| g.action), want, "{event_type}/{file}");
        if let Some(gc) = gc {
            assert!(
                !gc.repo.name.is_empty() && gc.number > 0,
                "{event_type}/{file}"
            );
            if matches!(
                ev,
                Event::PullRequest(_)
                    | Event::PullRequestReview(_)
                    | Event::PullRequestReviewComment(_)
            ) {
                assert!(gc.is_pr && gc.head_sha.is_some(), "{event_type}/{file}");
            }
        }
    }
}

#[tokio::test]
async fn bot_identity_is_resolved_once_from_github() {
    let log: Log = Arc::default();
    let w = world("", &log).await;
    assert_eq!(w.deps.bot.login(), BOT);
    assert!(w.gh(BOT).bot_user().await.is_ok());
}

#[test]
fn plugin_help_lists_exactly_the_registry() {
    let cfg: PluginsConfig = serde_saphyr::from_str(
        "plugins:\n  org:\n    plugins: [trigger, lgtm, approve]\n  org/repo:\n    plugins: [hold]\n  other/repo:\n    plugins: [size]\nexternal_plugins:\n  org:\n  - name: needs-rebase\n    events: [pull_request]\n  org/repo:\n  - name: cherrypicker\ntriggers:\n- repos: [org]\n  trusted_org: trusted\n",
    )
    .expect("yaml");
    let org_repos = BTreeMap::from([(
        "org".to_owned(),
        BTreeSet::from(["org/repo".to_owned(), "org/other".to_owned()]),
    )]);
    let external = BTreeMap::from([
        ("needs-rebase".to_owned(), PluginHelp::new("rebases")),
        ("not-configured".to_owned(), PluginHelp::new("ignored")),
    ]);
    let reg = registry();
    let names: BTreeSet<String> = reg.iter().map(|p| p.name().to_owned()).collect();
    let help = build_help(&reg, &cfg, &org_repos, &external);

    assert_eq!(
        help.repo_plugins[""]
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>(),
        names
    );
    assert_eq!(
        help.plugin_help.keys().cloned().collect::<BTreeSet<_>>(),
        names
    );
    assert_eq!(help.repo_plugins["org/repo"], vec!["hold"]);
    assert_eq!(help.all_repos, vec!["org/other", "org/repo", "other/repo"]);
    assert_eq!(
        help.repo_external_plugins[""],
        vec!["cherrypicker", "needs-rebase"]
    );
    assert_eq!(help.repo_external_plugins["org/repo"], vec!["cherrypicker"]);
    assert_eq!(help.external_plugin_help.len(), 1);
    assert_eq!(
        help.external_plugin_help["needs-rebase"].events,
        vec!["pull_request"]
    );

    for p in &reg {
        let h = &help.plugin_help[p.name()];
        assert!(!h.description.is_empty(), "{}", p.name());
        let events: Vec<&str> = p.event_kinds().iter().map(|k| k.help_name()).collect();
        assert_eq!(h.events, events, "{}", p.name());
    }
    let trigger = &help.plugin_help["trigger"];
    let usages: Vec<&str> = trigger.commands.iter().map(|c| c.usage.as_str()).collect();
    assert_eq!(
        usages,
        vec![
            "/ok-to-test",
            "/ok-to-test cancel",
            "/test [<job name>|all]",
            "/retest",
            "/test-manual-required",
            "/test ?"
        ]
    );
    assert_eq!(
        trigger.config.get("org/other").map(String::as_str),
        Some("The trusted GitHub organization for this repository is \"trusted\".")
    );
    assert_eq!(help.plugin_help["wip"].commands.len(), 0);
    assert_eq!(
        help.plugin_help["hold"].events,
        vec!["GenericCommentEvent (any event for user text)"]
    );

    // The JSON uses Go's field names, as deck and external tools expect.
    let json = plugin_help_json(&reg, &cfg, &org_repos, &external);
    for key in [
        "AllRepos",
        "RepoPlugins",
        "RepoExternalPlugins",
        "PluginHelp",
        "ExternalPluginHelp",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let cmd = &json["PluginHelp"]["lgtm"]["Commands"][0];
    for key in ["Usage", "Featured", "Description", "Examples", "WhoCanUse"] {
        assert!(cmd.get(key).is_some(), "{key} in {cmd}");
    }
    assert_eq!(
        json["PluginHelp"]["approve"]["Events"],
        serde_json::json!([
            "pull_request",
            "pull_request_review",
            "GenericCommentEvent (any event for user text)"
        ])
    );
}
