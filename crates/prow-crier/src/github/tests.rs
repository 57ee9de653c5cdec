//! Ports of Prow's `pkg/github/report/report_test.go` and `pkg/crier/reporters/github` cases.

use super::*;
use prow_api::{ProwJobAgent, Pull};
use prow_github::User;
use std::collections::BTreeMap;

const BOT: &str = "k8s-ci-robot";

fn comment(id: u64, login: &str, body: &str) -> IssueComment {
    IssueComment {
        id,
        user: User {
            login: login.into(),
            ..Default::default()
        },
        body: body.into(),
        ..Default::default()
    }
}

fn presubmit(context: &str, state: ProwJobState, optional: bool) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.metadata.labels = Some(BTreeMap::from([(
        labels::IS_OPTIONAL.to_owned(),
        optional.to_string(),
    )]));
    pj.spec.job_type = Some(ProwJobType::Presubmit);
    pj.spec.context = context.into();
    pj.spec.report = true;
    pj.spec.refs = Some(Refs {
        pulls: vec![Pull::default()],
        ..Default::default()
    });
    pj.status.state = state;
    pj
}

fn entry(context: &str, required: bool) -> String {
    format!("{context} |  | [link]() | {required} | ``")
}

struct ParseCase {
    name: &'static str,
    context: &'static str,
    state: ProwJobState,
    optional: bool,
    comments: Vec<IssueComment>,
    deletes: Vec<u64>,
    entries: Vec<String>,
    update: Option<u64>,
}

#[test]
fn parse_issue_comments_cases() {
    let tag = COMMENT_TAG;
    let cases = vec![
        ParseCase {
            name: "should create a new comment",
            context: "bla test",
            state: ProwJobState::Failure,
            optional: false,
            comments: vec![],
            deletes: vec![],
            entries: vec![entry("bla test", true)],
            update: None,
        },
        ParseCase {
            name: "should create a new optional comment",
            context: "bla test",
            state: ProwJobState::Failure,
            optional: true,
            comments: vec![],
            deletes: vec![],
            entries: vec![entry("bla test", false)],
            update: None,
        },
        ParseCase {
            name: "should not delete an up-to-date comment",
            context: "bla test",
            state: ProwJobState::Success,
            optional: false,
            comments: vec![comment(
                0,
                BOT,
                "--- | --- | ---\nfoo test | something | or other\n\n",
            )],
            deletes: vec![],
            entries: vec![],
            update: None,
        },
        ParseCase {
            name: "should delete when all tests pass",
            context: "bla test",
            state: ProwJobState::Success,
            optional: false,
            comments: vec![comment(
                123,
                BOT,
                &format!("--- | --- | ---\nbla test | something | or other\n\n{tag}"),
            )],
            deletes: vec![123],
            entries: vec![],
            update: None,
        },
        ParseCase {
            name: "should delete a passing test with \\r",
            context: "bla test",
            state: ProwJobState::Success,
            optional: false,
            comments: vec![comment(
                123,
                BOT,
                &format!("--- | --- | ---\r\nbla test | something | or other\r\n\r\n{tag}"),
            )],
            deletes: vec![123],
            entries: vec![],
            update: None,
        },
        ParseCase {
            name: "should update a failed test",
            context: "bla test",
            state: ProwJobState::Failure,
            optional: false,
            comments: vec![comment(
                123,
                BOT,
                &format!("--- | --- | ---\nbla test | something | or other\n\n{tag}"),
            )],
            deletes: vec![123],
            entries: vec![entry("bla test", true)],
            update: None,
        },
        ParseCase {
            name: "should preserve old results when updating",
            context: "bla test",
            state: ProwJobState::Failure,
            optional: false,
            comments: vec![comment(
                123,
                BOT,
                &format!(
                    "--- | --- | ---\nbla test | something | or other\nfoo test | wow | aye\n\n{tag}"
                ),
            )],
            deletes: vec![123],
            entries: vec!["foo test | wow | aye".into(), entry("bla test", true)],
            update: None,
        },
        ParseCase {
            name: "should merge duplicates",
            context: "bla test",
            state: ProwJobState::Failure,
            optional: false,
            comments: vec![
                comment(
                    123,
                    BOT,
                    &format!(
                        "--- | --- | ---\nbla test | something | or other\nfoo test | wow such\n\n{tag}"
                    ),
                ),
                comment(
                    124,
                    BOT,
                    &format!("--- | --- | ---\nfoo test | beep | boop\n\n{tag}"),
                ),
            ],
            deletes: vec![123, 124],
            entries: vec!["foo test | beep | boop".into(), entry("bla test", true)],
            update: None,
        },
        ParseCase {
            name: "should update an old comment when a test passes",
            context: "bla test",
            state: ProwJobState::Success,
            optional: false,
            comments: vec![comment(
                123,
                BOT,
                &format!(
                    "--- | --- | ---\nbla test | something | or other\nfoo test | wow | aye\n\n{tag}"
                ),
            )],
            deletes: vec![],
            entries: vec!["foo test | wow | aye".into()],
            update: Some(123),
        },
        ParseCase {
            name: "comments by others are ignored",
            context: "bla test",
            state: ProwJobState::Success,
            optional: false,
            comments: vec![comment(
                7,
                "mallory",
                &format!("--- | --- | ---\nfoo test | wow | aye\n\n{tag}"),
            )],
            deletes: vec![],
            entries: vec![],
            update: None,
        },
    ];
    for c in cases {
        let pj = presubmit(c.context, c.state, c.optional);
        let plan = parse_issue_comments(&[pj], |l| l == BOT, &c.comments);
        assert_eq!(plan.deletes, c.deletes, "{}: deletes", c.name);
        assert_eq!(plan.entries, c.entries, "{}: entries", c.name);
        assert_eq!(plan.update_id, c.update, "{}: update", c.name);
    }
}

#[test]
fn create_entry_required_column() {
    let mut pj = presubmit("ctx", ProwJobState::Failure, false);
    pj.spec.rerun_command = "/test ctx".into();
    pj.status.url = "https://prow.example.com/view/1".into();
    if let Some(r) = pj.spec.refs.as_mut() {
        r.pulls[0].sha = "abc123".into();
    }
    assert_eq!(
        create_entry(&pj),
        "ctx | abc123 | [link](https://prow.example.com/view/1) | true | `/test ctx`"
    );
    pj.metadata.labels = None;
    assert!(create_entry(&pj).contains("| unknown |"));
    pj.spec.job_type = Some(ProwJobType::Postsubmit);
    pj.metadata.labels = Some(BTreeMap::from([(
        labels::IS_OPTIONAL.to_owned(),
        "true".to_owned(),
    )]));
    assert!(create_entry(&pj).contains("| unknown |"));
}

fn shout(i: usize) -> String {
    if i == 0 {
        "start".into()
    } else {
        format!("{} part{i}", shout(i - 1))
    }
}

fn status_job(state: ProwJobState, report: bool, ty: ProwJobType, desc: &str) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.status.state = state;
    pj.status.description = desc.into();
    pj.status.url = "http://mytest.example.com".into();
    pj.spec.job = "job-name".into();
    pj.spec.job_type = Some(ty);
    pj.spec.context = "parent".into();
    pj.spec.report = report;
    pj.spec.refs = Some(Refs {
        org: "k8s".into(),
        repo: "test-infra".into(),
        pulls: vec![Pull {
            author: "me".into(),
            number: 1,
            sha: "abcdef".into(),
            head_ref: "fixes-123".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    pj
}

#[test]
fn report_status_cases() {
    let cfg = GitHubReporterConfig::default();
    let cases: Vec<(&str, ProwJobState, bool, ProwJobType, Option<&str>)> = vec![
        (
            "success presubmit",
            ProwJobState::Success,
            true,
            ProwJobType::Presubmit,
            Some("success"),
        ),
        (
            "report false",
            ProwJobState::Success,
            false,
            ProwJobType::Presubmit,
            None,
        ),
        (
            "pending",
            ProwJobState::Pending,
            true,
            ProwJobType::Presubmit,
            Some("pending"),
        ),
        (
            "aborted is failure",
            ProwJobState::Aborted,
            true,
            ProwJobType::Presubmit,
            Some("failure"),
        ),
        (
            "triggered is pending",
            ProwJobState::Triggered,
            true,
            ProwJobType::Presubmit,
            Some("pending"),
        ),
        (
            "error",
            ProwJobState::Error,
            true,
            ProwJobType::Presubmit,
            Some("error"),
        ),
        (
            "failure",
            ProwJobState::Failure,
            true,
            ProwJobType::Presubmit,
            Some("failure"),
        ),
        (
            "postsubmit",
            ProwJobState::Success,
            true,
            ProwJobType::Postsubmit,
            Some("success"),
        ),
        (
            "periodic not by default",
            ProwJobState::Success,
            true,
            ProwJobType::Periodic,
            None,
        ),
        (
            "batch never",
            ProwJobState::Success,
            true,
            ProwJobType::Batch,
            None,
        ),
    ];
    for (name, state, report, ty, want) in cases {
        let pj = status_job(state, report, ty, "default-message");
        let got = status_for(&pj, &cfg);
        assert_eq!(
            got.as_ref().map(|w| w.status.state.as_str()),
            want,
            "{name}"
        );
        if let Some(w) = got {
            assert_eq!(w.sha, "abcdef", "{name}");
            assert_eq!(w.status.context, "parent");
            assert_eq!(w.status.description.as_deref(), Some("default-message"));
            assert_eq!(
                w.status.target_url.as_deref(),
                Some("http://mytest.example.com")
            );
        }
    }
    // Long descriptions are elided to fit.
    let long = shout(140);
    let pj = status_job(ProwJobState::Triggered, true, ProwJobType::Presubmit, &long);
    let w = status_for(&pj, &cfg).unwrap();
    let d = w.status.description.unwrap();
    assert_eq!(d, context_description_with_base_sha(&long, ""));
    assert!(d.len() <= 140 && d.contains(" ... "), "{d}");
    assert!(d.starts_with("start part1") && d.ends_with("part140"));
}

#[test]
fn status_sha_and_batch_choice() {
    let cfg = GitHubReporterConfig {
        job_types_to_report: Some(vec![ProwJobType::Presubmit, ProwJobType::Batch]),
        ..Default::default()
    };
    let mut pj = status_job(ProwJobState::Success, true, ProwJobType::Presubmit, "");
    let base = "8d287a3aeae90fd0aef4a70009c715712ff302cd";
    if let Some(r) = pj.spec.refs.as_mut() {
        r.base_sha = base.into();
    }
    let w = status_for(&pj, &cfg).unwrap();
    assert_eq!(w.sha, "abcdef");
    assert_eq!(
        base_sha_from_context_description(w.status.description.as_deref().unwrap()),
        base
    );
    // No pulls: the base SHA carries the status (postsubmit-style).
    if let Some(r) = pj.spec.refs.as_mut() {
        r.pulls.clear();
    }
    assert_eq!(status_for(&pj, &cfg).unwrap().sha, base);
    // Two pulls (a batch) never get a status, even when the type is configured.
    pj.spec.job_type = Some(ProwJobType::Batch);
    if let Some(r) = pj.spec.refs.as_mut() {
        r.pulls = vec![Pull::default(), Pull::default()];
    }
    assert!(status_for(&pj, &cfg).is_none());
}

#[test]
fn description_padding_and_round_trip() {
    let sha = "8d287a3aeae90fd0aef4a70009c715712ff302cd";
    for human in [
        "",
        "Job succeeded.",
        &shout(10),
        &shout(200),
        "ünïcödé ✓ ".repeat(30).as_str(),
    ] {
        let d = context_description_with_base_sha(human, sha);
        assert!(d.len() <= 140, "{} bytes: {d:?}", d.len());
        assert_eq!(base_sha_from_context_description(&d), sha, "{d:?}");
        assert!(d.ends_with(&format!(" BaseSHA:{sha}")));
    }
    // Go's loop: padding stops once human + suffix (3 bytes per U+2001) reach 140 bytes.
    let d = context_description_with_base_sha("Job succeeded.", sha);
    let pads = d.matches('\u{2001}').count();
    assert_eq!(pads, 20, "{d:?}");
    assert!(d.starts_with("Job succeeded.\u{2001}"));
    // An invalid SHA is not read back; the legacy delimiter still is.
    assert_eq!(
        base_sha_from_context_description(&context_description_with_base_sha("x", "abc")),
        ""
    );
    assert_eq!(
        base_sha_from_context_description(&format!("x Basesha:{sha}")),
        sha
    );
    assert_eq!(context_description_with_base_sha("plain", ""), "plain");
}

#[test]
fn should_report_filters() {
    let mut pj = status_job(ProwJobState::Success, true, ProwJobType::Presubmit, "");
    assert!(should_report(&pj, None));
    pj.spec.agent = Some(ProwJobAgent::Kubernetes);
    assert!(should_report(&pj, Some("kubernetes")));
    assert!(!should_report(&pj, Some("jenkins")));
    pj.spec.job_type = Some(ProwJobType::Periodic);
    assert!(!should_report(&pj, None));
    pj.spec.job_type = Some(ProwJobType::Postsubmit);
    assert!(should_report(&pj, None));
    pj.metadata.labels = Some(BTreeMap::from([(
        labels::GERRIT_REPORT_LABEL.to_owned(),
        "Verified".to_owned(),
    )]));
    assert!(!should_report(&pj, None));
    pj.metadata.labels = None;
    pj.spec.report = false;
    assert!(!should_report(&pj, None));

    // Prow's TestShouldReport (type filter).
    let mut p = ProwJob::default();
    p.spec.job_type = Some(ProwJobType::Presubmit);
    assert!(!type_should_report(&p, &[ProwJobType::Presubmit]));
    p.spec.report = true;
    assert!(type_should_report(&p, &[ProwJobType::Presubmit]));
    p.spec.job_type = Some(ProwJobType::Postsubmit);
    assert!(!type_should_report(&p, &[ProwJobType::Presubmit]));
    assert!(type_should_report(
        &p,
        &[ProwJobType::Presubmit, ProwJobType::Postsubmit]
    ));
}

fn about() -> String {
    prow_plugins::respond::about_this_bot()
}

fn author_job(job: &str) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.spec.job = job.into();
    pj.spec.refs = Some(Refs {
        pulls: vec![Pull {
            author: "chaodaig".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    pj
}

#[test]
fn create_comment_cases() {
    let head = "@chaodaig: The following test **failed**, say `/retest` to rerun all failed tests or `/retest-required` to rerun all mandatory failed tests:";
    let table =
        "Test name | Commit | Details | Required | Rerun command\n--- | --- | --- | --- | ---";
    let tail = format!("<details>\n\n{}\n</details>\n<!-- test report -->", about());

    // single-job-single-failure, with an empty (but set) template.
    let empty = parse_template("").unwrap();
    let got = create_comment(
        Some(&empty),
        &[author_job("")],
        &["aaa | bbb | ccc | ddd | eee".into()],
    )
    .unwrap();
    assert_eq!(
        got,
        format!("{head}\n\n{table}\naaa | bbb | ccc | ddd | eee\n\n\n\n{tail}")
    );

    // single-job-multiple-failures: plural.
    let got = create_comment(
        Some(&empty),
        &[author_job("")],
        &[
            "aaa | bbb | ccc | ddd | eee".into(),
            "fff | ggg | hhh | iii | jjj".into(),
        ],
    )
    .unwrap();
    let plural = head.replace("test **failed**", "tests **failed**");
    assert_eq!(
        got,
        format!(
            "{plural}\n\n{table}\naaa | bbb | ccc | ddd | eee\nfff | ggg | hhh | iii | jjj\n\n\n\n{tail}"
        )
    );

    // multiple-job-only-use-first-one.
    let t = parse_template("{{.Spec.Job}}").unwrap();
    let got = create_comment(
        Some(&t),
        &[author_job("job-a"), author_job("job-b")],
        &["aaa | bbb | ccc | ddd | eee".into()],
    )
    .unwrap();
    assert_eq!(
        got,
        format!("{head}\n\n{table}\naaa | bbb | ccc | ddd | eee\n\njob-a\n\n{tail}")
    );

    // multiple-job-all-passed (no template).
    let got = create_comment(None, &[author_job("job-a"), author_job("job-b")], &[]).unwrap();
    assert_eq!(got, format!("@chaodaig: all tests **passed!**\n\n\n{tail}"));

    assert_eq!(create_comment(None, &[], &[]).unwrap(), "");
}

#[test]
fn report_template_resolution() {
    let mut plank = Plank::default();
    let refs = Refs {
        org: "acme".into(),
        repo: "widgets".into(),
        ..Default::default()
    };
    assert_eq!(report_template_for_repo(&plank, Some(&refs)), None);
    plank.report_templates.insert("*".into(), "star".into());
    assert_eq!(report_template_for_repo(&plank, Some(&refs)), Some("star"));
    plank.report_templates.insert("acme".into(), "org".into());
    assert_eq!(report_template_for_repo(&plank, Some(&refs)), Some("org"));
    plank
        .report_templates
        .insert("acme/widgets".into(), "repo".into());
    assert_eq!(report_template_for_repo(&plank, Some(&refs)), Some("repo"));
    assert_eq!(report_template_for_repo(&plank, None), Some("star"));
}

#[test]
fn summary_waits_for_all_and_takes_latest() {
    use prow_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use prow_api::k8s_openapi::jiff::Timestamp;
    let mk = |job: &str, state: ProwJobState, secs: i64| {
        let mut pj = presubmit(job, state, false);
        pj.spec.job = job.into();
        pj.metadata.creation_timestamp = Some(Time(Timestamp::from_second(secs).unwrap()));
        pj.status.completion_time = state.is_final().then(chrono::Utc::now);
        pj
    };
    let running = vec![
        mk("a", ProwJobState::Success, 1),
        mk("b", ProwJobState::Pending, 2),
    ];
    assert!(summary_jobs(&running).is_empty());
    let done = vec![
        mk("a", ProwJobState::Failure, 1),
        mk("a", ProwJobState::Success, 5),
        mk("b", ProwJobState::Success, 2),
    ];
    let got = summary_jobs(&done);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|j| j.status.state == ProwJobState::Success));
}

#[test]
fn unrecoverable_status_errors() {
    assert!(is_unrecoverable_status_error(&GitHubError::NotFound(
        "Not Found".into()
    )));
    assert!(is_unrecoverable_status_error(&GitHubError::Unprocessable(
        "This SHA and context has reached the maximum number of statuses.".into()
    )));
    assert!(is_unrecoverable_status_error(&GitHubError::Unprocessable(
        "No commit found for SHA: abc".into()
    )));
    assert!(!is_unrecoverable_status_error(&GitHubError::Forbidden(
        "no".into()
    )));
}

fn failed_row(context: &str, url: &str) -> ProwJob {
    let mut pj = presubmit(context, ProwJobState::Failure, false);
    pj.status.url = url.into();
    pj
}

/// What a report would write given `comments`, after dropping what is already there.
fn comment_writes(pj: &ProwJob, comments: &[IssueComment]) -> (CommentPlan, Option<String>) {
    let is_bot = |l: &str| l == BOT;
    let pjs = std::slice::from_ref(pj);
    let mut plan = parse_issue_comments(pjs, is_bot, comments);
    let mut body =
        (!plan.entries.is_empty()).then(|| create_comment(None, pjs, &plan.entries).unwrap());
    skip_repeated_writes(
        &mut plan,
        &mut body,
        latest_report_comment(comments, is_bot),
    );
    (plan, body)
}

#[test]
fn repeated_failure_report_leaves_comment_alone() {
    let a = failed_row("pull-a", "https://prow.example.com/view/a-1");
    let x = failed_row("pull-x", "https://prow.example.com/view/x-1");

    // First report of x: a new comment.
    let (plan, body) = comment_writes(&x, &[]);
    assert_eq!((plan.deletes.as_slice(), plan.update_id), (&[][..], None));
    let first = comment(7, BOT, &body.expect("a comment for a new failure"));

    // The same report again (crash before it was recorded): nothing to write.
    let (plan, body) = comment_writes(&x, std::slice::from_ref(&first));
    assert_eq!(body, None);
    assert!(plan.deletes.is_empty(), "{plan:?}");

    // A crash between posting [a, x] and deleting the old [a]: the repeat only cleans up.
    let old = comment(
        3,
        BOT,
        &create_comment(None, std::slice::from_ref(&a), &[create_entry(&a)]).unwrap(),
    );
    let new = comment(
        9,
        BOT,
        &create_comment(
            None,
            std::slice::from_ref(&x),
            &[create_entry(&a), create_entry(&x)],
        )
        .unwrap(),
    );
    let (plan, body) = comment_writes(&x, &[old.clone(), new.clone()]);
    assert_eq!(body, None);
    assert_eq!(plan.deletes, vec![3]);

    // Rows in another order are still the same rows.
    let reordered = comment(
        9,
        BOT,
        &create_comment(
            None,
            std::slice::from_ref(&x),
            &[create_entry(&x), create_entry(&a)],
        )
        .unwrap(),
    );
    let (plan, body) = comment_writes(&x, &[reordered]);
    assert_eq!((body, plan.deletes), (None, vec![]));

    // A genuinely new failure (another run: another URL) is re-posted as Prow does.
    let x2 = failed_row("pull-x", "https://prow.example.com/view/x-2");
    let (plan, body) = comment_writes(&x2, &[old, new]);
    assert_eq!(plan.deletes, vec![3, 9]);
    assert_eq!(plan.update_id, None);
    let body = body.expect("re-posted");
    assert!(body.contains("view/x-2") && body.contains("view/a-1") && !body.contains("view/x-1"));

    // Another user's comment with the same rows is not ours to keep.
    let (plan, body) = comment_writes(&x, &[comment(5, "someone", &first.body)]);
    assert!(body.is_some() && plan.deletes.is_empty());
}

#[test]
fn edit_to_identical_body_is_dropped() {
    let a = failed_row("pull-a", "https://prow.example.com/view/a-1");
    let mut ok = presubmit("pull-b", ProwJobState::Success, false);
    ok.status.url = "https://prow.example.com/view/b-1".into();
    // The comment as the success of pull-b leaves it (pull-b had no row).
    let existing = comment(
        4,
        BOT,
        &create_comment(None, &[ok.clone()], &[create_entry(&a)]).unwrap(),
    );
    let (plan, body) = comment_writes(&ok, std::slice::from_ref(&existing));
    assert_eq!(plan.update_id, Some(4));
    assert_eq!(body, None, "editing to the same text is a no-op");
    // A different body (another template rendering) is still edited.
    let mut other = existing;
    other.body = other.body.replacen("@", "@x", 1);
    let (plan, body) = comment_writes(&ok, &[other]);
    assert_eq!(plan.update_id, Some(4));
    assert!(body.is_some());
}

#[test]
fn status_already_set_compares_state_text_and_url() {
    let pj = status_job(ProwJobState::Success, true, ProwJobType::Presubmit, "done");
    let w = status_for(&pj, &GitHubReporterConfig::default()).unwrap();
    let entry =
        |ctx: &str, state: &str, desc: Option<&str>, url: Option<&str>| prow_github::StatusEntry {
            context: ctx.into(),
            state: state.into(),
            description: desc.map(Into::into),
            target_url: url.map(Into::into),
            ..Default::default()
        };
    let combined = |s: Vec<prow_github::StatusEntry>| prow_github::CombinedStatus {
        statuses: s,
        ..Default::default()
    };
    let url = Some("http://mytest.example.com");
    let same = entry("parent", "success", Some("done"), url);
    assert!(status_already_set(&combined(vec![same.clone()]), &w));
    assert!(!status_already_set(&combined(vec![]), &w));
    for other in [
        entry("other", "success", Some("done"), url),
        entry("parent", "pending", Some("done"), url),
        entry("parent", "success", Some("done!"), url),
        entry(
            "parent",
            "success",
            Some("done"),
            Some("http://other.example.com"),
        ),
        entry("parent", "success", Some("done"), None),
    ] {
        assert!(
            !status_already_set(&combined(vec![other.clone()]), &w),
            "{other:?}"
        );
    }
    // Missing and empty texts are the same to GitHub.
    let mut empty = w.clone();
    empty.status.target_url = Some(String::new());
    assert!(status_already_set(
        &combined(vec![entry("parent", "success", Some("done"), None)]),
        &empty
    ));
}

#[test]
fn recent_statuses_are_bounded_and_keep_recent_use() {
    let w = |i: usize| StatusWrite {
        org: "o".into(),
        repo: "r".into(),
        sha: format!("{i}"),
        status: Status::default(),
    };
    let mut r = RecentStatuses::default();
    r.insert("kept", w(0));
    for i in 1..RECENT_STATUSES_PER_GENERATION {
        r.insert(&format!("job-{i}"), w(i));
    }
    // The generation is full; the next insert starts a new one, the old stays readable.
    r.insert("next", w(1));
    assert_eq!(r.get("kept"), Some(w(0)), "promoted to the new generation");
    for i in 0..RECENT_STATUSES_PER_GENERATION {
        r.insert(&format!("more-{i}"), w(i));
    }
    assert_eq!(
        r.get("kept"),
        Some(w(0)),
        "recently used: survived one more turnover"
    );
    assert_eq!(
        r.get("job-1"),
        None,
        "unused for two generations: forgotten"
    );
    assert!(r.current.len() + r.previous.len() <= 2 * RECENT_STATUSES_PER_GENERATION);
}

const FAKE_SEED: &str = r#"
users: [{login: bot, type: Bot}, {login: alice}]
repos: [{name: acme/widgets, files: {README.md: "hi\n"}}]
pull_requests: [{repo: acme/widgets, author: alice, title: Fix, head: fix, files: {README.md: "hello\n"}}]
"#;

#[tokio::test]
async fn repeated_report_by_a_new_process_writes_nothing() {
    let fake = prow_github_fake::FakeGitHub::from_seed_yaml(FAKE_SEED).unwrap();
    let head = fake.pull_request("acme", "widgets", 1).unwrap().head.sha;
    let reporter = || {
        GitHubReporter::new(
            Arc::new(fake.client("bot")),
            prow_controller::controller::fixed_config(prow_config::Config::default()),
            Arc::new(prow_jobstore::memory::MemoryStore::new("default")),
            None,
            false,
        )
    };
    let mut pj = presubmit("pull-x", ProwJobState::Pending, false);
    pj.metadata.name = Some("x-1".into());
    pj.status.url = "https://prow.example.com/view/x-1".into();
    pj.status.description = "Job running.".into();
    pj.spec.refs = Some(Refs {
        org: "acme".into(),
        repo: "widgets".into(),
        pulls: vec![Pull {
            number: 1,
            author: "alice".into(),
            sha: head.clone(),
            ..Default::default()
        }],
        ..Default::default()
    });
    let history = || {
        fake.status_history("acme", "widgets")
            .into_iter()
            .map(|(_, s)| s.state)
            .collect::<Vec<_>>()
    };
    let report_comments = || {
        fake.issue_comments("acme", "widgets", 1)
            .into_iter()
            .filter(|c| c.body.contains(COMMENT_TAG))
            .map(|c| (c.id, c.body))
            .collect::<Vec<_>>()
    };

    let first = reporter();
    first.report(&pj).await.unwrap();
    assert_eq!(history(), ["pending"]);
    // The same process retrying the same state (e.g. recording failed) writes nothing.
    first.report(&pj).await.unwrap();
    assert_eq!(history(), ["pending"]);

    pj.status.state = ProwJobState::Failure;
    pj.status.description = "Job failed.".into();
    pj.status.completion_time = Some(chrono::Utc::now());
    first.report(&pj).await.unwrap();
    assert_eq!(history(), ["pending", "failure"]);
    let comments = report_comments();
    assert_eq!(comments.len(), 1);

    // A new process reporting the same state again (the first died before recording it).
    let second = reporter();
    second.report(&pj).await.unwrap();
    assert_eq!(history(), ["pending", "failure"]);
    assert_eq!(report_comments(), comments, "same comment, unchanged");

    // Someone else changed the status since: a new process writes it back.
    fake.client("bot")
        .create_status(
            "acme",
            "widgets",
            &head,
            &Status {
                state: "pending".into(),
                context: "pull-x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    reporter().report(&pj).await.unwrap();
    assert_eq!(history(), ["pending", "failure", "pending", "failure"]);
    assert_eq!(report_comments(), comments);
}
