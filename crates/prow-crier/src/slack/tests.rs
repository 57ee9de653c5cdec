//! Ports of Prow's `pkg/crier/reporters/slack/reporter_test.go`.

use super::*;
use prow_api::{ProwJobState as S, ProwJobType as T, ReporterConfig};

fn global(types: Vec<T>, states: Option<Vec<S>>, report: Option<bool>) -> SlackReporter {
    SlackReporter {
        job_types_to_report: types,
        config: SlackReporterConfig {
            job_states_to_report: states,
            report,
            ..Default::default()
        },
    }
}

fn job(ty: T, state: S, slack: Option<SlackReporterConfig>) -> ProwJob {
    let mut pj = ProwJob::default();
    pj.spec.job_type = Some(ty);
    pj.status.state = state;
    pj.spec.reporter_config = slack.map(|s| ReporterConfig { slack: Some(s) });
    pj
}

fn job_cfg(channel: &str, states: Option<Vec<S>>) -> SlackReporterConfig {
    SlackReporterConfig {
        channel: channel.into(),
        job_states_to_report: states,
        ..Default::default()
    }
}

#[test]
fn should_report_cases() {
    let cases: Vec<(&str, SlackReporter, ProwJob, bool)> = vec![
        (
            "presubmit should report",
            global(vec![T::Presubmit], Some(vec![S::Success]), None),
            job(T::Presubmit, S::Success, None),
            true,
        ),
        (
            "wrong type should not report",
            global(vec![T::Postsubmit], Some(vec![S::Success]), None),
            job(T::Presubmit, S::Success, None),
            false,
        ),
        (
            "successful job should report",
            global(vec![T::Postsubmit], Some(vec![S::Success]), None),
            job(T::Postsubmit, S::Success, None),
            true,
        ),
        (
            "report:false should not report",
            global(vec![T::Postsubmit], Some(vec![S::Success]), Some(false)),
            job(T::Postsubmit, S::Success, None),
            false,
        ),
        (
            "report:true should report",
            global(vec![T::Postsubmit], Some(vec![S::Success]), Some(true)),
            job(T::Postsubmit, S::Success, None),
            true,
        ),
        (
            "empty job states negate global",
            global(vec![T::Postsubmit], Some(vec![S::Success]), None),
            job(T::Postsubmit, S::Success, Some(job_cfg("", Some(vec![])))),
            false,
        ),
        (
            "nil job states do not negate global",
            global(vec![T::Postsubmit], Some(vec![S::Success]), None),
            job(T::Postsubmit, S::Success, Some(job_cfg("", None))),
            true,
        ),
        (
            "state not listed",
            global(vec![T::Postsubmit], Some(vec![S::Pending]), None),
            job(T::Postsubmit, S::Success, None),
            false,
        ),
        (
            "job channel ignores job types",
            global(vec![], Some(vec![S::Success]), None),
            job(
                T::Postsubmit,
                S::Success,
                Some(job_cfg("whatever-channel", None)),
            ),
            true,
        ),
        (
            "job states override global",
            global(vec![], Some(vec![S::Success]), None),
            job(
                T::Postsubmit,
                S::Failure,
                Some(job_cfg(
                    "whatever-channel",
                    Some(vec![S::Failure, S::Pending]),
                )),
            ),
            true,
        ),
        (
            "job channel but state not in global",
            global(vec![], Some(vec![S::Success]), None),
            job(
                T::Postsubmit,
                S::Pending,
                Some(job_cfg("whatever-channel", None)),
            ),
            false,
        ),
        (
            "job channel and states, state not matching",
            global(vec![], Some(vec![S::Success]), None),
            job(
                T::Postsubmit,
                S::Success,
                Some(job_cfg(
                    "whatever-channel",
                    Some(vec![S::Failure, S::Pending]),
                )),
            ),
            false,
        ),
        (
            "empty config should not report",
            SlackReporter::default(),
            job(T::Postsubmit, S::Success, None),
            false,
        ),
    ];
    for (name, g, pj, want) in cases {
        let cfgs = BTreeMap::from([("*".to_owned(), g)]);
        assert_eq!(should_report(&pj, &cfgs), want, "{name}");
    }
}

fn channel_cfg(host: &str, channel: &str) -> SlackReporter {
    SlackReporter {
        job_types_to_report: vec![],
        config: SlackReporterConfig {
            host: host.into(),
            channel: channel.into(),
            ..Default::default()
        },
    }
}

fn with_refs(org: &str, repo: &str, extra: bool) -> ProwJob {
    let mut pj = ProwJob::default();
    let r = Refs {
        org: org.into(),
        repo: repo.into(),
        ..Default::default()
    };
    if extra {
        pj.spec.extra_refs = vec![r];
    } else {
        pj.spec.refs = Some(r);
    }
    pj
}

#[test]
fn channel_resolution() {
    let cfgs = BTreeMap::from([
        (
            "*".to_owned(),
            channel_cfg("global-default-host", "global-default"),
        ),
        ("istio".to_owned(), channel_cfg("", "org-config")),
        ("istio/proxy".to_owned(), channel_cfg("", "org-repo-config")),
    ]);
    let r = resolve(&ProwJob::default(), &cfgs);
    assert_eq!(
        (r.host.as_str(), r.channel.as_str()),
        ("global-default-host", "global-default")
    );
    let r = resolve(&with_refs("istio", "proxy", false), &cfgs);
    assert_eq!(
        (r.host.as_str(), r.channel.as_str()),
        ("*", "org-repo-config")
    );
    let r = resolve(&with_refs("istio", "other", false), &cfgs);
    assert_eq!(r.channel, "org-config");
    // Extra refs stand in for missing refs.
    let r = resolve(&with_refs("istio", "proxy", true), &cfgs);
    assert_eq!(r.channel, "org-repo-config");
    // Job-level settings win.
    let mut pj = with_refs("istio", "proxy", false);
    pj.spec.reporter_config = Some(ReporterConfig {
        slack: Some(SlackReporterConfig {
            host: "job-host".into(),
            channel: "team-a".into(),
            ..Default::default()
        }),
    });
    let r = resolve(&pj, &cfgs);
    assert_eq!(
        (r.host.as_str(), r.channel.as_str()),
        ("job-host", "team-a")
    );
    assert_eq!(r.report_template, DEFAULT_REPORT_TEMPLATE);
}

#[test]
fn renders_default_and_custom_templates() {
    let mut pj = job(T::Postsubmit, S::Failure, None);
    pj.spec.job = "post-widgets".into();
    pj.status.url = "https://prow.example.com/view/1".into();
    let cfgs = BTreeMap::from([("*".to_owned(), channel_cfg("", "ci"))]);
    let m = message_for(&pj, &cfgs).unwrap();
    assert_eq!(m.channel, "ci");
    assert_eq!(m.host, "*");
    assert_eq!(
        m.text,
        "Job post-widgets of type postsubmit ended with state failure. <https://prow.example.com/view/1|View logs>"
    );
    pj.spec.reporter_config = Some(ReporterConfig {
        slack: Some(SlackReporterConfig {
            report_template: "{{.Spec.Job}} is {{.Status.State}}{{if .Spec.Refs}} on refs{{end}}"
                .into(),
            ..Default::default()
        }),
    });
    assert_eq!(
        message_for(&pj, &cfgs).unwrap().text,
        "post-widgets is failure"
    );
    pj.spec.reporter_config = Some(ReporterConfig {
        slack: Some(SlackReporterConfig {
            report_template: "{{.Spec.Job".into(),
            ..Default::default()
        }),
    });
    assert!(message_for(&pj, &cfgs).is_err());
}

#[test]
fn token_flag_forms() {
    assert_eq!(
        parse_token_file_flag("/etc/slack/token"),
        ("*".to_owned(), "/etc/slack/token".to_owned())
    );
    assert_eq!(
        parse_token_file_flag("ws=/etc/slack/token"),
        ("ws".to_owned(), "/etc/slack/token".to_owned())
    );
}
