//! Test harness: a FakeGitHub world, a MemoryStore, a config dir on disk and the real
//! dispatcher, wired like hook wires them. Actions are taken as users through the fake, whose
//! webhooks are fed to the dispatcher until the world is quiet.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use prow_config::{ConfigAgent, LoadOptions, PluginsConfig};
use prow_github::GitHub;
use prow_github::events::Event;
use prow_github_fake::{
    Delivery, FakeClient, FakeGitHub, NewPullRequest, Seed, SeedUser, UserKind,
};
use prow_jobstore::memory::MemoryStore;
use prow_jobstore::{JobStore, ListParams};
use prow_plugins::{
    BotIdentity, Dispatcher, GenericCommentEvent, IssueRef, Plugin, PluginContext, PluginDeps,
    PluginOutcome,
};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::TryRecvError;

/// The bot account of every world.
pub const BOT: &str = "k8s-ci-robot";

/// Everything a test needs.
pub struct World {
    pub fake: FakeGitHub,
    pub jobs: MemoryStore,
    pub dispatcher: Dispatcher,
    pub deps: PluginDeps,
    _dir: tempfile::TempDir,
    events: Receiver<Delivery>,
}

/// What a world is made of.
#[derive(Default)]
pub struct Spec<'a> {
    /// FakeGitHub seed YAML (the bot user is added).
    pub seed: &'a str,
    /// plugins.yaml.
    pub plugins: &'a str,
    /// Job config YAML (presubmits/postsubmits).
    pub jobs: &'a str,
    /// config.yaml.
    pub config: &'a str,
    /// Plugins to register instead of the crate registry.
    pub registry: Option<Vec<Arc<dyn Plugin>>>,
    /// Wraps the bot's GitHub client (e.g. [`crate::reclock::Reclock`]).
    pub wrap: Option<Wrap>,
}

/// A wrapper around the bot's client.
pub type Wrap = Box<dyn FnOnce(Arc<dyn GitHub>) -> Arc<dyn GitHub>>;

impl World {
    pub async fn new(spec: Spec<'_>) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, spec.config).expect("write config");
        let jobs_dir = dir.path().join("jobs");
        std::fs::create_dir(&jobs_dir).expect("jobs dir");
        std::fs::write(jobs_dir.join("jobs.yaml"), spec.jobs).expect("write jobs");
        let agent = ConfigAgent::start(LoadOptions {
            config_path,
            job_config_path: Some(jobs_dir),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("config does not load: {e}"));
        let plugins: PluginsConfig = if spec.plugins.trim().is_empty() {
            PluginsConfig::default()
        } else {
            serde_saphyr::from_str(spec.plugins).expect("plugins.yaml parses")
        };
        let errs = prow_plugins::config::validate_sections(&plugins);
        assert!(errs.is_empty(), "plugins.yaml sections: {errs:?}");

        let mut seed = if spec.seed.trim().is_empty() {
            Seed::default()
        } else {
            Seed::from_yaml(spec.seed).expect("seed parses")
        };
        // A Bot account has write access everywhere, like Prow's bot installed as an app.
        seed.users.push(SeedUser {
            login: BOT.to_owned(),
            kind: UserKind::Bot,
            ..Default::default()
        });
        let fake = FakeGitHub::from_seed(seed).expect("seed loads");
        let events = fake.subscribe();
        let jobs = MemoryStore::new("default");
        let mut github: Arc<dyn GitHub> = Arc::new(fake.client(BOT));
        if let Some(wrap) = spec.wrap {
            github = wrap(github);
        }
        let deps = PluginDeps::new(
            github,
            Arc::new(jobs.clone()),
            agent,
            Arc::new(ArcSwap::from_pointee(plugins)),
        )
        .await
        .expect("bot user resolves");
        assert_eq!(deps.bot, BotIdentity::new(BOT));
        let registry = spec.registry.unwrap_or_else(prow_plugins::registry);
        let dispatcher = Dispatcher::new(deps.clone(), registry);
        World {
            fake,
            jobs,
            dispatcher,
            deps,
            _dir: dir,
            events,
        }
    }

    /// A GitHub client acting as `login`.
    pub fn gh(&self, login: &str) -> FakeClient {
        self.fake.client(login)
    }

    /// Drops every pending webhook (setup actions that should not reach plugins).
    pub fn discard_events(&mut self) {
        while self.events.try_recv().is_ok() {}
    }

    /// Feeds every pending webhook to the dispatcher, including the ones plugins cause, until
    /// none is left. Returns every outcome.
    pub async fn settle(&mut self) -> Vec<PluginOutcome> {
        let mut outcomes = Vec::new();
        for _ in 0..200 {
            let d = match self.events.try_recv() {
                Ok(d) => d,
                Err(TryRecvError::Empty) => return outcomes,
                Err(e) => panic!("event tap: {e}"),
            };
            let ev =
                prow_github::events::parse(&d.event_type, &d.body).expect("fake webhook parses");
            outcomes.extend(self.dispatcher.handle(&ev, &d.delivery_id).await);
        }
        panic!("webhooks did not settle after 200 deliveries (feedback loop?)");
    }

    /// Like [`World::settle`], failing the test if any plugin errored.
    pub async fn settle_ok(&mut self) -> Vec<PluginOutcome> {
        let out = self.settle().await;
        let errs: Vec<&PluginOutcome> = out.iter().filter(|o| o.error.is_some()).collect();
        assert!(errs.is_empty(), "plugin errors: {errs:#?}");
        out
    }

    /// `login` comments `body` on `org/repo#number`; the webhooks are dispatched.
    pub async fn comment(
        &mut self,
        login: &str,
        org: &str,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Vec<PluginOutcome> {
        self.gh(login)
            .create_comment(org, repo, number, body)
            .await
            .expect("comment is created");
        self.settle().await
    }

    /// Opens a PR through the fake (push + `opened`), dispatching the webhooks.
    pub async fn open_pr(
        &mut self,
        author: &str,
        org: &str,
        repo: &str,
        pr: NewPullRequest,
    ) -> u64 {
        let n = self
            .fake
            .open_pull_request(author, org, repo, pr)
            .expect("PR opens");
        self.settle_ok().await;
        n
    }

    /// A context as the dispatcher would build it, for calling handlers directly.
    pub fn ctx(&self, issue: Option<IssueRef>) -> PluginContext {
        PluginContext::new(
            &self.deps,
            self.deps.config.config(),
            self.deps.plugins.load_full(),
            "test-delivery",
            issue,
        )
    }

    /// Label names on an issue/PR, sorted.
    pub fn labels(&self, org: &str, repo: &str, number: u64) -> Vec<String> {
        let mut l = self.fake.issue_labels(org, repo, number);
        l.sort();
        l
    }

    /// Bodies of the bot's comments.
    pub fn bot_comments(&self, org: &str, repo: &str, number: u64) -> Vec<String> {
        self.fake
            .issue_comments(org, repo, number)
            .into_iter()
            .filter(|c| c.user.login == BOT)
            .map(|c| c.body)
            .collect()
    }

    /// Every ProwJob in the store.
    pub async fn prowjobs(&self) -> Vec<prow_api::ProwJob> {
        self.jobs
            .list(&ListParams::all())
            .await
            .expect("list jobs")
            .items
    }

    /// Names of the jobs in the store, sorted.
    pub async fn job_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .prowjobs()
            .await
            .into_iter()
            .map(|j| j.spec.job)
            .collect();
        v.sort();
        v
    }
}

/// Builds a generic comment event by hand (for cases the fake cannot produce, e.g. edits).
#[allow(dead_code, reason = "used by some test modules only")]
pub fn generic_comment(
    org: &str,
    repo: &str,
    number: u64,
    author: &str,
    body: &str,
) -> GenericCommentEvent {
    let ev = serde_json::json!({
        "action": "created",
        "issue": {"number": number, "state": "open", "user": {"login": author},
                  "pull_request": {"url": ""}, "html_url": format!("https://github.example.com/{org}/{repo}/pull/{number}")},
        "comment": {"id": 1, "body": body, "user": {"login": author}, "html_url": "https://github.example.com/c/1"},
        "repository": {"name": repo, "full_name": format!("{org}/{repo}"), "owner": {"login": org}},
    });
    let ev =
        prow_github::events::parse("issue_comment", ev.to_string().as_bytes()).expect("parses");
    GenericCommentEvent::from_event(&ev, "guid").expect("generic comment")
}

/// `files` map for [`NewPullRequest`].
pub fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(p, c)| ((*p).to_owned(), Some((*c).to_owned())))
        .collect()
}

/// Reads a corpus path, failing clearly when the corpus is missing.
#[allow(dead_code, reason = "used by some test modules only")]
pub fn corpus(rel: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        root.is_dir(),
        "test corpus missing at {} (shared/ must sit beside the checkout)",
        root.display()
    );
    root.join(rel)
}

#[allow(dead_code, reason = "handy when debugging a test")]
pub fn event_of(d: &Delivery) -> Event {
    prow_github::events::parse(&d.event_type, &d.body).expect("parses")
}
