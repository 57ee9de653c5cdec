//! Port of Prow's `pkg/plugins/trigger/generic-comment_test.go` (TestHandleGenericComment),
//! through FakeGitHub, the dispatcher and a MemoryStore.

use std::collections::BTreeSet;

use prow_github::{GitHub, Status};

use crate::jobs::{J, presubmits};
use crate::world::{BOT, Spec, World};

const HELP_COMMENT: &str = "The following commands are available to trigger required jobs:\n```\n/test jib\n```\n```\n/test job\n```\n\n";
const HELP_TEST_ALL_WITH_JOBS: &str = "Use `/test all` to run the following jobs that were automatically triggered:\n```\njob\n```\n\n";
const TEST_WITHOUT_TARGET: &str = "The `/test` command needs one or more targets.\n";
const RETEST_WITH_TARGET: &str = "The `/retest` command does not accept any targets.\n";
const TARGET_NOT_FOUND: &str = "The specified target(s) for `/test` were not found.\n";
const NO_TEST_ALL_JOBS: &str = "No jobs can be run with `/test all`.\n";
/// A help reply from an earlier run; deleted when a later command prunes help.
const OLD_HELP: &str =
    "The following commands are available to trigger required jobs:\n```\n/test old\n```\n\n";

fn code_block(text: &str, newline: bool) -> String {
    format!("```\n{text}\n```{}", if newline { "\n" } else { "" })
}

#[derive(Clone)]
enum Reply {
    Unchecked,
    None,
    Contains(String),
}

#[derive(Clone)]
struct C {
    name: String,
    author: &'static str,
    pr_author: &'static str,
    body: String,
    closed: bool,
    is_pr: bool,
    branch: &'static str,
    build: bool,
    exactly: Option<&'static str>,
    labels: Vec<&'static str>,
    added: Vec<&'static str>,
    removed: Vec<&'static str>,
    jobs: Option<Vec<J>>,
    ignore_ok_to_test: bool,
    reply: Reply,
    prune: bool,
}

fn c(name: &str, author: &'static str, body: &str) -> C {
    C {
        name: name.to_owned(),
        author,
        pr_author: "contributor",
        body: body.to_owned(),
        closed: false,
        is_pr: true,
        branch: "master",
        build: false,
        exactly: None,
        labels: vec![],
        added: vec![],
        removed: vec![],
        jobs: None,
        ignore_ok_to_test: false,
        reply: Reply::Unchecked,
        prune: false,
    }
}

impl C {
    fn builds(mut self) -> C {
        self.build = true;
        self
    }
    fn exactly(mut self, ctx: &'static str) -> C {
        self.build = true;
        self.exactly = Some(ctx);
        self
    }
    fn prunes(mut self) -> C {
        self.prune = true;
        self
    }
    fn jobs(mut self, jobs: Vec<J>) -> C {
        self.jobs = Some(jobs);
        self
    }
    fn labels(mut self, l: &[&'static str]) -> C {
        self.labels = l.to_vec();
        self
    }
    fn added(mut self, l: &[&'static str]) -> C {
        self.added = l.to_vec();
        self
    }
    fn removed(mut self, l: &[&'static str]) -> C {
        self.removed = l.to_vec();
        self
    }
    fn reply(mut self, text: &str) -> C {
        self.reply = Reply::Contains(text.to_owned());
        self
    }
    fn no_reply(mut self) -> C {
        self.reply = Reply::None;
        self
    }
}

fn default_jobs() -> Vec<J> {
    vec![
        J::std("job").always_run().branches(&["master"]),
        J::std("jib"),
    ]
}

async fn run(tc: &C) {
    let jobs = presubmits("org/repo", tc.jobs.as_deref().unwrap_or(&default_jobs()));
    let labels: String = tc.labels.join(", ");
    let seed = format!(
        r#"
orgs: [{{login: org, members: [trusted-member]}}]
repos:
- name: org/repo
  default_branch: master
  files: {{README.md: "hello\n"}}
  branches: {{other: {{from: master}}, branch: {{from: master}}}}
pull_requests:
- {{repo: org/repo, number: 1, author: {}, title: T, base: {}, head: feature, labels: [{labels}], files: {{CHANGED: "x\n"}}}}
issues:
- {{repo: org/repo, number: 2, author: someone, title: I}}
"#,
        tc.pr_author, tc.branch
    );
    let plugins = format!(
        "plugins: {{org: {{plugins: [trigger]}}}}\ntriggers:\n- repos: [org]\n  ignore_ok_to_test: {}\n",
        tc.ignore_ok_to_test
    );
    let mut w = World::new(Spec {
        seed: &seed,
        plugins: &plugins,
        jobs: &jobs,
        ..Default::default()
    })
    .await;
    let bot = w.gh(BOT);
    let head = w.fake.pull_request("org", "repo", 1).expect("PR").head.sha;
    for (state, context) in [
        ("pending", "pull-job"),
        ("failure", "pull-jib"),
        ("success", "pull-jub"),
    ] {
        bot.create_status(
            "org",
            "repo",
            &head,
            &Status {
                state: state.into(),
                context: context.into(),
                ..Default::default()
            },
        )
        .await
        .expect("status");
    }
    let old_help = bot
        .create_comment("org", "repo", 1, OLD_HELP)
        .await
        .expect("old help")
        .id;
    if tc.closed {
        bot.close_issue("org", "repo", 1, None)
            .await
            .expect("close");
    }
    w.discard_events();
    let before: BTreeSet<String> = w.labels("org", "repo", 1).into_iter().collect();

    let number = if tc.is_pr { 1 } else { 2 };
    let outcomes = w.comment(tc.author, "org", "repo", number, &tc.body).await;
    let errors: Vec<_> = outcomes.iter().filter_map(|o| o.error.as_ref()).collect();
    assert!(errors.is_empty(), "{}: {errors:?}", tc.name);

    let contexts: BTreeSet<String> = w
        .prowjobs()
        .await
        .into_iter()
        .map(|j| j.spec.context)
        .collect();
    assert_eq!(
        !contexts.is_empty(),
        tc.build,
        "{}: started {contexts:?}",
        tc.name
    );
    if let Some(ctx) = tc.exactly {
        assert_eq!(contexts, BTreeSet::from([ctx.to_owned()]), "{}", tc.name);
    }
    let after: BTreeSet<String> = w.labels("org", "repo", 1).into_iter().collect();
    let added: Vec<&String> = after.difference(&before).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    assert_eq!(
        added,
        tc.added
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>(),
        "{}: added labels",
        tc.name
    );
    assert_eq!(
        removed,
        tc.removed
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>(),
        "{}: removed labels",
        tc.name
    );

    let comments = w.fake.issue_comments("org", "repo", number);
    let new_bot: Vec<&String> = comments
        .iter()
        .filter(|c| c.user.login == BOT && c.id != old_help)
        .map(|c| &c.body)
        .collect();
    match &tc.reply {
        Reply::Unchecked => {}
        Reply::None => assert!(
            new_bot.is_empty(),
            "{}: unexpected replies {new_bot:?}",
            tc.name
        ),
        Reply::Contains(text) => {
            assert!(
                !new_bot.is_empty(),
                "{}: expected a reply containing {text:?}",
                tc.name
            );
            for b in &new_bot {
                assert!(
                    b.contains(text.as_str()),
                    "{}: reply {b:?} lacks {text:?}",
                    tc.name
                );
            }
        }
    }
    let old_help_exists = w
        .fake
        .issue_comments("org", "repo", 1)
        .iter()
        .any(|c| c.id == old_help);
    assert_eq!(!old_help_exists, tc.prune, "{}: old help pruned?", tc.name);
}

fn cases() -> Vec<C> {
    let tm = "trusted-member";
    let um = "untrusted-member";
    let std_help = format!("{HELP_COMMENT}{HELP_TEST_ALL_WITH_JOBS}");
    let sharded = vec![
        J::std("jab").branches(&["master"]),
        J::std("jab").branches(&["release"]),
    ];
    vec![
        C { is_pr: false, ..c("Not a PR.", tm, "/ok-to-test") },
        C { closed: true, ..c("Closed PR.", tm, "/ok-to-test") },
        c("Comment by a bot.", BOT, "/ok-to-test"),
        c("Irrelevant comment leads to no action.", tm, "Nice weather outside, right?"),
        c("Non-trusted member's ok to test.", um, "/ok-to-test"),
        C { pr_author: tm, ..c("accept /test from non-trusted member if PR author is trusted", um, "/test all") }.builds().prunes(),
        C { pr_author: um, ..c("reject /test from non-trusted member when PR author is untrusted", um, "/test all") }
            .reply("Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message."),
        c("Non-trusted member after /ok-to-test", um, "/test all").labels(&["ok-to-test"]).builds().prunes(),
        c("Non-trusted member after /ok-to-test, needs-ok-to-test label wasn't deleted", um, "/test all")
            .labels(&["needs-ok-to-test", "ok-to-test"])
            .removed(&["needs-ok-to-test"])
            .builds()
            .prunes(),
        C { ignore_ok_to_test: true, ..c("Trusted member's ok to test, IgnoreOkToTest", tm, "/ok-to-test") },
        c("Trusted member's ok to test", tm, "looks great, thanks!\n/ok-to-test").builds().added(&["ok-to-test"]),
        c("Trusted member's ok to test, trailing space.", tm, "looks great, thanks!\n/ok-to-test \r").builds().added(&["ok-to-test"]),
        c("Trusted member's not ok to test.", tm, "not /ok-to-test"),
        c("Trusted member's test this.", tm, "/test all").builds().prunes(),
        C { branch: "other", ..c("Wrong branch", tm, "/test all") },
        c("Retest with one running and one failed", tm, "/retest").exactly("pull-jib").prunes(),
        c("Retest with one running and one failed, trailing space.", tm, "/retest \r").exactly("pull-jib").prunes(),
        c("test of silly regex job", tm, "Nice weather outside, right?")
            .jobs(vec![J::std("jab").branches(&["master"]).trigger("Nice weather outside, right?", "Nice weather outside, right?")])
            .exactly("pull-jab"),
        c("needs-ok-to-test label is removed when no presubmit runs by default", tm, "/ok-to-test")
            .jobs(vec![J::std("job"), J::std("jib")])
            .labels(&["needs-ok-to-test"])
            .added(&["ok-to-test"])
            .removed(&["needs-ok-to-test"]),
        C { branch: "other", ..c("Wrong branch w/ SkipReport", tm, "/test all") }
            .jobs(vec![J::std("job").always_run().skip_report().branches(&["master"])]),
        c("Retest of run_if_changed job that hasn't run. Changes require job", tm, "/retest")
            .jobs(vec![J::std("jab").run_if_changed("CHANGED").skip_report()])
            .exactly("pull-jab")
            .prunes(),
        c("Retest of skip_if_only_changed job that hasn't run. Changes require job", tm, "/retest")
            .jobs(vec![J::std("jab").skip_if_only_changed("CHANGED2").skip_report()])
            .exactly("pull-jab")
            .prunes(),
        c("Retest of run_if_changed job that failed. Changes require job", tm, "/retest")
            .jobs(vec![J::std("jib").run_if_changed("CHANGED")])
            .exactly("pull-jib")
            .prunes(),
        c("Retest of skip_if_only_changed job that failed. Changes require job", tm, "/retest")
            .jobs(vec![J::std("jib").skip_if_only_changed("CHANGED2")])
            .exactly("pull-jib")
            .prunes(),
        c("/test of run_if_changed job that has passed", tm, "/test jub")
            .jobs(vec![J::std("jub").run_if_changed("CHANGED")])
            .exactly("pull-jub")
            .prunes(),
        c("/test of skip_if_only_changed job that has passed", tm, "/test jub")
            .jobs(vec![J::std("jub").skip_if_only_changed("CHANGED2")])
            .exactly("pull-jub")
            .prunes(),
        c("Retest triggers failed job", tm, "/retest").jobs(vec![J::std("jib")]).builds().prunes(),
        c("Retest triggers failed job that is optional", tm, "/retest").jobs(vec![J::std("jib").optional()]).builds().prunes(),
        c("Retest-Required triggers failed required job", tm, "/retest-required").jobs(vec![J::std("jib")]).builds().prunes(),
        c("Retest-Required doesn't trigger failed job that is optional", tm, "/retest-required")
            .jobs(vec![J::std("jib").optional()])
            .prunes(),
        c("Test-Manual-Required triggers missing required manual job", tm, "/test-manual-required")
            .jobs(vec![J::std("jab")])
            .exactly("pull-jab")
            .prunes(),
        c("Test-Manual-Required doesn't trigger missing optional job", tm, "/test-manual-required")
            .jobs(vec![J::std("jab").optional()])
            .prunes(),
        c("Test-Manual-Required does not trigger always_run or conditional jobs", tm, "/test-manual-required")
            .jobs(vec![J::std("always-run").always_run(), J::std("conditional").run_if_changed("CHANGED")])
            .prunes(),
        c("Retest of run_if_changed job that failed. Changes do not require the job", tm, "/retest")
            .jobs(vec![J::std("jib").run_if_changed("CHANGED2")])
            .builds()
            .prunes(),
        c("Retest of skip_if_only_changed job that failed. Changes do not require the job", tm, "/retest")
            .jobs(vec![J::std("jib").skip_if_only_changed("CHANGED")])
            .builds()
            .prunes(),
        c("Run if changed job triggered by /ok-to-test", tm, "/ok-to-test")
            .jobs(vec![J::std("jab").run_if_changed("CHANGED")])
            .exactly("pull-jab")
            .labels(&["needs-ok-to-test"])
            .added(&["ok-to-test"])
            .removed(&["needs-ok-to-test"]),
        c("Run if non-skipped job triggered by /ok-to-test", tm, "/ok-to-test")
            .jobs(vec![J::std("jab").skip_if_only_changed("CHANGED2")])
            .exactly("pull-jab")
            .labels(&["needs-ok-to-test"])
            .added(&["ok-to-test"])
            .removed(&["needs-ok-to-test"]),
        c("/test of branch-sharded job", tm, "/test jab").jobs(sharded.clone()).exactly("pull-jab").prunes(),
        C { branch: "branch", ..c("branch-sharded job. no shard matches base branch", tm, "/test jab") }.jobs(sharded),
        c("/retest of RunIfChanged job that doesn't need to run and hasn't run", tm, "/retest")
            .jobs(vec![J::std("jeb").run_if_changed("CHANGED2")])
            .prunes(),
        c("/retest of SkipIfOnlyChanged job that doesn't need to run and hasn't run", tm, "/retest")
            .jobs(vec![J::std("jeb").skip_if_only_changed("CHANGED")])
            .prunes(),
        c("explicit /test for RunIfChanged job that doesn't need to run", tm, "/test pull-jeb")
            .jobs(vec![J::std("jeb").run_if_changed("CHANGED2")]),
        c("explicit /test for SkipIfOnlyChanged job that doesn't need to run", tm, "/test pull-jeb")
            .jobs(vec![J::std("jeb").skip_if_only_changed("CHANGED")]),
        c("/test all of run_if_changed job that has passed and needs to run", tm, "/test all")
            .jobs(vec![J::std("jub").run_if_changed("CHANGED")])
            .exactly("pull-jub")
            .prunes(),
        c("/test all of skip_if_only_changed job that has passed and needs to run", tm, "/test all")
            .jobs(vec![J::std("jub").skip_if_only_changed("CHANGED2")])
            .exactly("pull-jub")
            .prunes(),
        c("/test all of run_if_changed job that has passed and doesn't need to run", tm, "/test all")
            .jobs(vec![J::std("jub").run_if_changed("CHANGED2")]),
        c("/test all of skip_if_only_changed job that has passed and doesn't need to run", tm, "/test all")
            .jobs(vec![J::std("jub").skip_if_only_changed("CHANGED")]),
        C { pr_author: tm, ..c("accept /test all from trusted user", tm, "/test all") }.builds().prunes(),
        C { pr_author: um, ..c("Non-trusted member after /lgtm and /approve", um, "/retest") }.labels(&["approved", "lgtm"]),
        c("help command /test ? lists available presubmits", tm, "/test ?")
            .jobs(vec![J::std("job").always_run(), J::std("jib").always_run()])
            .reply(&format!("{HELP_COMMENT}Use `/test all` to run all jobs.")),
        c("ignore /test ? in code block", tm, &code_block("/test ?", false))
            .jobs(vec![J::std("job").always_run(), J::std("jib").always_run()])
            .no_reply(),
        c("help command /test ? uses unique RerunCommand field of presubmits", tm, "/test ?")
            .jobs(vec![
                J::std("jub").always_run().trigger("/rerun_command", "/rerun_command"),
                J::std("jib").always_run().trigger("/command_foo", "/command_foo"),
                J::std("jab").trigger("/rerun_command", "/rerun_command"),
            ])
            .reply("@trusted-member: The following commands are available to trigger required jobs:\n```\n/command_foo\n```\n```\n/rerun_command\n```\n\nUse `/test all` to run all jobs."),
        c("/test with no target results in a help message", tm, "/test").reply(&format!("{TEST_WITHOUT_TARGET}{std_help}")),
        c("ignore /test with no target in a code block", tm, "```\n/test\n```").no_reply(),
        c("ignore /test with no target in a tilde code block", tm, "~~~\n/test\n~~~").no_reply(),
        c("/test with no target but ? in the next line", tm, "/test \r\n?").reply(&format!("{TEST_WITHOUT_TARGET}{std_help}")),
        c("/retest with trailing words results in a help message", tm, "/retest FOO").reply(&format!("{RETEST_WITH_TARGET}{std_help}")),
        c("/retest with trailing words in a code block", tm, &code_block("/retest FOO", false)).no_reply(),
        c("/retest without target but with lines following it, is valid", tm, "/retest \r\n/other-command").exactly("pull-jib").prunes(),
        c("/test with unknown target results in a help message", tm, "/test FOO").reply(&format!("{TARGET_NOT_FOUND}{std_help}")),
        c("/test with unknown target in code block", tm, &code_block("/test FOO", false)).no_reply(),
        c("two /test with unknown target, one in a code block", tm, &format!("{}/test BAR", code_block("/test FOO", true)))
            .reply(&format!("{TARGET_NOT_FOUND}{std_help}")),
        c("two /test with unknown target, second in a code block", tm, &format!("/test FOO\n{}", code_block("/test BAR", false)))
            .reply(&format!("{TARGET_NOT_FOUND}{std_help}")),
        c(
            "multiple code blocks; should be ignored",
            tm,
            &format!("{}{}{}", code_block("/test FOO", true), code_block("/test BAR", true), code_block("/test BAZ", false)),
        )
        .no_reply(),
        c(
            "/test mixed with multiple code blocks",
            tm,
            &format!(
                "{}{}/test BAZ\nWill trigger the help message.\n{}",
                code_block("/test FOO", true),
                code_block("/test BAR", true),
                code_block("/test QUX", false)
            ),
        )
        .reply(&format!("{TARGET_NOT_FOUND}{std_help}")),
        c("help comment should list only eligible jobs under /test all", tm, "/test ?")
            .jobs(vec![J::std("job").always_run().trigger("(?m)^/test job$", "/test job"), J::std("jib")])
            .reply(&std_help),
        c("when no jobs can be run with /test all, respond accordingly", tm, "/test all")
            .jobs(vec![J::std("job").trigger("(?m)^/test job$", "/test job"), J::std("jib").trigger("(?m)^/test jib$", "/test jib")])
            .reply(&format!("{NO_TEST_ALL_JOBS}{HELP_COMMENT}")),
        c("when no jobs can be run with /test all, ignore if inside a code block", tm, &code_block("/test all", false))
            .jobs(vec![J::std("job").trigger("(?m)^/test job$", "/test job"), J::std("jib").trigger("(?m)^/test jib$", "/test jib")])
            .no_reply(),
        c("available presubmits should not list those excluded by branch", tm, "/test ?")
            .jobs(vec![
                J::std("job-excluded-by-brancher").skip_branches(&["master"]).always_run().trigger("(?m)^/test job-excluded$", "/test job-excluded"),
                J::std("job").always_run().trigger("(?m)^/test job$", "/test job"),
                J::std("jib"),
            ])
            .reply(&std_help),
        c("help command /test ? differs between optional and required jobs", tm, "/test ?")
            .jobs(vec![J::std("job").always_run(), J::std("jib").always_run(), J::std("jub").always_run().optional()])
            .reply(&format!(
                "{HELP_COMMENT}The following commands are available to trigger optional jobs:\n```\n/test jub\n```\n\nUse `/test all` to run all jobs."
            )),
        // Not in Prow's table: texts and trust details from spec §3.6.
        C { ignore_ok_to_test: true, pr_author: um, ..c("untrusted with ignore_ok_to_test gets the collaborator text", um, "/test all") }
            .reply("PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test`."),
        c("ok-to-test cancel by trusted user", tm, "/ok-to-test cancel")
            .labels(&["ok-to-test"])
            .added(&["needs-ok-to-test"])
            .removed(&["ok-to-test"])
            .no_reply(),
        c("ok-to-test cancel by untrusted user on a trusted PR", um, "/ok-to-test cancel")
            .labels(&["ok-to-test"])
            .reply("Only trusted users can revoke `/ok-to-test`."),
    ]
}

#[tokio::test]
async fn generic_comment_table() {
    for tc in cases() {
        run(&tc).await;
    }
}

#[tokio::test]
async fn retest_jobs_are_labelled_and_carry_pr_refs() {
    let tc = c("retest labels", "trusted-member", "/retest");
    let jobs = presubmits("org/repo", &default_jobs());
    let _ = tc;
    let mut w = World::new(Spec {
        seed: "orgs: [{login: org, members: [trusted-member]}]\nrepos: [{name: org/repo, default_branch: master, files: {README.md: x}}]\npull_requests: [{repo: org/repo, number: 1, author: trusted-member, title: Fix things, base: master, head: feature, files: {CHANGED: x}}]\n",
        plugins: "plugins: {org: {plugins: [trigger]}}\n",
        jobs: &jobs,
        ..Default::default()
    })
    .await;
    w.settle_ok().await;
    let pr = w.fake.pull_request("org", "repo", 1).expect("PR");
    w.gh(BOT)
        .create_status(
            "org",
            "repo",
            &pr.head.sha,
            &Status {
                state: "failure".into(),
                context: "pull-jib".into(),
                ..Default::default()
            },
        )
        .await
        .expect("status");
    w.discard_events();
    w.comment("trusted-member", "org", "repo", 1, "/retest")
        .await;
    let jobs = w.prowjobs().await;
    // pull-job has no status yet (never ran) and is not manual, so /retest runs it too.
    let names: BTreeSet<&str> = jobs.iter().map(|j| j.spec.job.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["jib", "job"]));
    let base = w.fake.branch_sha("org", "repo", "master").expect("master");
    for j in &jobs {
        assert_eq!(j.label("prow.k8s.io/retest"), Some("true"));
        assert_eq!(j.label("prow.k8s.io/refs.pull"), Some("1"));
        assert_eq!(j.label("prow.k8s.io/type"), Some("presubmit"));
        assert_eq!(j.label("prow.k8s.io/is-optional"), Some("false"));
        assert!(j.label("event-GUID").is_some_and(|g| !g.is_empty()));
        let refs = j.spec.refs.as_ref().expect("refs");
        assert_eq!(
            (
                refs.org.as_str(),
                refs.repo.as_str(),
                refs.base_ref.as_str()
            ),
            ("org", "repo", "master")
        );
        assert_eq!(refs.base_sha, base);
        assert_eq!(refs.pulls[0].sha, pr.head.sha);
        assert_eq!(refs.pulls[0].author, "trusted-member");
        assert_eq!(refs.pulls[0].title, "Fix things");
        assert_eq!(j.status.state, prow_api::ProwJobState::Triggered);
    }
    // A plain /test does not carry the retest label.
    w.comment("trusted-member", "org", "repo", 1, "/test jib")
        .await;
    let plain: Vec<_> = w
        .prowjobs()
        .await
        .into_iter()
        .filter(|j| j.label("prow.k8s.io/retest").is_none())
        .collect();
    assert_eq!(plain.len(), 1);
}
