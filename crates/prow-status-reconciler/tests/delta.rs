//! Prow's `controller_test.go` tables for the three delta functions, plus the cases where this
//! implementation deliberately differs, and the denylists.

use std::collections::BTreeMap;

use prow_config::{JobConfig, ProwConfig};
use prow_status_reconciler::{Delta, Denylist, Presubmits, delta_presubmits};

fn parse(yaml: &str) -> Presubmits {
    let presubmits: Presubmits = match serde_saphyr::from_str(yaml) {
        Ok(p) => p,
        Err(e) => panic!("test yaml does not parse: {e}\n{yaml}"),
    };
    let mut jobs = JobConfig {
        presubmits,
        ..Default::default()
    };
    // Compiles branch/change regexes, as loading a config does.
    let _ = prow_config::validate::validate(&ProwConfig::default(), &mut jobs, "test");
    jobs.presubmits
}

fn d(old: &str, new: &str) -> Delta {
    delta_presubmits(&parse(old), &parse(new))
}

/// `repo -> [job name / context]` of a delta part.
fn names(m: &BTreeMap<String, Vec<prow_config::Presubmit>>) -> BTreeMap<String, Vec<String>> {
    m.iter()
        .map(|(r, v)| {
            (
                r.clone(),
                v.iter()
                    .map(|p| format!("{}/{}", p.base.name, p.reporter.context))
                    .collect(),
            )
        })
        .collect()
}

fn one(repo: &str, entries: &[&str]) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        repo.to_owned(),
        entries.iter().map(|s| (*s).to_owned()).collect(),
    )])
}

fn none() -> BTreeMap<String, Vec<String>> {
    BTreeMap::new()
}

const BASE: &str = r#""org/repo":
- name: old-job
  context: old-context
  always_run: true"#;

// ---- TestAddedBlockingPresubmits -------------------------------------------------------------

#[test]
fn added_no_change() {
    assert_eq!(names(&d(BASE, BASE).added), none());
}

#[test]
fn added_optional_is_not_blocking() {
    let new = format!(
        "{BASE}\n- name: new-job\n  context: new-context\n  always_run: true\n  optional: true"
    );
    assert_eq!(names(&d(BASE, &new).added), none());
}

#[test]
fn added_non_reporting_is_not_blocking() {
    let new = format!(
        "{BASE}\n- name: new-job\n  context: new-context\n  always_run: true\n  skip_report: true"
    );
    assert_eq!(names(&d(BASE, &new).added), none());
}

#[test]
fn added_manual_trigger_is_not_blocking() {
    let new = format!("{BASE}\n- name: new-job\n  context: new-context\n  always_run: false");
    assert_eq!(names(&d(BASE, &new).added), none());
}

#[test]
fn added_required_is_blocking() {
    let new = format!("{BASE}\n- name: new-job\n  context: new-context\n  always_run: true");
    let delta = d(BASE, &new);
    assert_eq!(
        names(&delta.added),
        one("org/repo", &["new-job/new-context"])
    );
    let job = &delta.added["org/repo"][0];
    assert!(job.always_run && !job.optional && !job.reporter.skip_report);
}

#[test]
fn added_optional_to_required_needs_nothing() {
    let old = r#""org/repo":
- name: old-job
  context: old-context
  always_run: true
  optional: true"#;
    assert_eq!(names(&d(old, BASE).added), none());
}

#[test]
fn added_non_reporting_to_required() {
    let old = r#""org/repo":
- name: old-job
  context: old-context
  always_run: true
  skip_report: true"#;
    assert_eq!(
        names(&d(old, BASE).added),
        one("org/repo", &["old-job/old-context"])
    );
}

#[test]
fn added_required_run_if_changed_changed() {
    let old =
        "\"org/repo\":\n- name: old-job\n  context: old-context\n  run_if_changed: old-changes";
    let new =
        "\"org/repo\":\n- name: old-job\n  context: old-context\n  run_if_changed: new-changes";
    let delta = d(old, new);
    assert_eq!(
        names(&delta.added),
        one("org/repo", &["old-job/old-context"])
    );
    assert_eq!(
        delta.added["org/repo"][0].changes.run_if_changed,
        "new-changes"
    );
}

#[test]
fn added_optional_run_if_changed_changed_is_not_blocking() {
    let old = "\"org/repo\":\n- name: old-job\n  context: old-context\n  run_if_changed: old-changes\n  optional: true";
    let new = "\"org/repo\":\n- name: old-job\n  context: old-context\n  run_if_changed: new-changes\n  optional: true";
    assert_eq!(names(&d(old, new).added), none());
}

#[test]
fn added_optional_to_required_run_if_changed() {
    let old = "\"org/repo\":\n- name: old-job\n  context: old-context\n  always_run: true\n  optional: true";
    let new = "\"org/repo\":\n- name: old-job\n  context: old-context\n  run_if_changed: changes";
    let delta = d(old, new);
    assert_eq!(
        names(&delta.added),
        one("org/repo", &["old-job/old-context"])
    );
    assert_eq!(delta.added["org/repo"][0].changes.run_if_changed, "changes");
}

#[test]
fn added_context_change_is_a_migration_not_an_addition() {
    let new = "\"org/repo\":\n- name: old-job\n  context: new-context\n  always_run: true";
    assert_eq!(names(&d(BASE, new).added), none());
}

// Deviations from Prow.

#[test]
fn added_manual_job_turning_automatic_is_blocking() {
    // Prow misses this: PRs would wait for a required context nobody starts.
    let old = "\"org/repo\":\n- name: old-job\n  context: old-context";
    assert_eq!(
        names(&d(old, BASE).added),
        one("org/repo", &["old-job/old-context"])
    );
}

#[test]
fn added_only_for_repos_in_the_old_config() {
    // Like Prow: onboarding a repository does not start its jobs on all open PRs.
    let new = format!("{BASE}\n\"org/other\":\n- name: x\n  context: x\n  always_run: true");
    assert_eq!(names(&d(BASE, &new).added), none());
}

#[test]
fn added_once_when_both_reporting_and_files_changed() {
    let old = "\"org/repo\":\n- name: j\n  context: j\n  run_if_changed: a\n  skip_report: true";
    let new = "\"org/repo\":\n- name: j\n  context: j\n  run_if_changed: b";
    assert_eq!(names(&d(old, new).added), one("org/repo", &["j/j"]));
}

// ---- TestRemovedPresubmits -------------------------------------------------------------------

const OLD_REQ: &str = "\"org/repo\":\n- name: old-job\n  context: old-context";

#[test]
fn removed_no_change() {
    assert_eq!(names(&d(OLD_REQ, OLD_REQ).removed), none());
}

#[test]
fn removed_optional() {
    let old = format!("{OLD_REQ}\n  optional: true");
    let delta = d(&old, "\"org/repo\": []");
    assert_eq!(
        names(&delta.removed),
        one("org/repo", &["old-job/old-context"])
    );
    assert!(delta.removed["org/repo"][0].optional);
}

#[test]
fn removed_non_reporting() {
    let old = format!("{OLD_REQ}\n  skip_report: true");
    let delta = d(&old, "\"org/repo\": []");
    assert_eq!(
        names(&delta.removed),
        one("org/repo", &["old-job/old-context"])
    );
    assert!(delta.removed["org/repo"][0].reporter.skip_report);
}

#[test]
fn removed_required() {
    assert_eq!(
        names(&d(OLD_REQ, "\"org/repo\": []").removed),
        one("org/repo", &["old-job/old-context"])
    );
}

#[test]
fn removed_required_to_optional_is_not_removed() {
    let new = format!("{OLD_REQ}\n  optional: true");
    assert_eq!(names(&d(OLD_REQ, &new).removed), none());
}

#[test]
fn removed_reporting_to_non_reporting_is_not_removed() {
    let new = format!("{OLD_REQ}\n  skip_report: true");
    assert_eq!(names(&d(OLD_REQ, &new).removed), none());
}

#[test]
fn removed_all_presubmits() {
    assert_eq!(
        names(&d(OLD_REQ, "{}").removed),
        one("org/repo", &["old-job/old-context"])
    );
}

#[test]
fn removed_context_change_is_not_removed() {
    let new = "\"org/repo\":\n- name: old-job\n  context: new-context";
    assert_eq!(names(&d(OLD_REQ, new).removed), none());
}

#[test]
fn removed_run_if_changed_change_is_not_removed() {
    let old = format!("{OLD_REQ}\n  run_if_changed: old-changes");
    let new = format!("{OLD_REQ}\n  run_if_changed: new-changes");
    assert_eq!(names(&d(&old, &new).removed), none());
}

#[test]
fn removed_optional_to_required_run_if_changed_is_not_removed() {
    let old = format!("{OLD_REQ}\n  optional: true");
    let new = format!("{OLD_REQ}\n  run_if_changed: changes");
    assert_eq!(names(&d(&old, &new).removed), none());
}

#[test]
fn removed_job_whose_context_lives_on_is_not_retired() {
    // Deviation: Prow retires by name and would paint the renamed job's context green.
    let new = "\"org/repo\":\n- name: renamed-job\n  context: old-context";
    let delta = d(OLD_REQ, new);
    assert_eq!(names(&delta.removed), none());
    // ... while a non-reporting job with that context does not keep it alive.
    let new = "\"org/repo\":\n- name: renamed-job\n  context: old-context\n  skip_report: true";
    assert_eq!(
        names(&d(OLD_REQ, new).removed),
        one("org/repo", &["old-job/old-context"])
    );
}

// ---- TestMigratedBlockingPresubmits ----------------------------------------------------------

fn migrations(delta: &Delta) -> BTreeMap<String, Vec<String>> {
    delta
        .migrated
        .iter()
        .map(|(r, v)| {
            (
                r.clone(),
                v.iter()
                    .map(|m| {
                        format!(
                            "{}:{}->{}:{}",
                            m.from.base.name,
                            m.from.reporter.context,
                            m.to.base.name,
                            m.to.reporter.context
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn migrated_none_cases() {
    let cases = [
        ("no change", OLD_REQ.to_owned(), OLD_REQ.to_owned()),
        (
            "removed optional",
            format!("{OLD_REQ}\n  optional: true"),
            "\"org/repo\": []".to_owned(),
        ),
        (
            "removed non-reporting",
            format!("{OLD_REQ}\n  skip_report: true"),
            "\"org/repo\": []".to_owned(),
        ),
        (
            "removed required",
            OLD_REQ.to_owned(),
            "\"org/repo\": []".to_owned(),
        ),
        (
            "required to optional",
            OLD_REQ.to_owned(),
            format!("{OLD_REQ}\n  optional: true"),
        ),
        (
            "reporting to non-reporting",
            OLD_REQ.to_owned(),
            format!("{OLD_REQ}\n  skip_report: true"),
        ),
        ("all removed", OLD_REQ.to_owned(), "{}".to_owned()),
        (
            "run_if_changed changed",
            format!("{OLD_REQ}\n  run_if_changed: old-changes"),
            format!("{OLD_REQ}\n  run_if_changed: new-changes"),
        ),
        (
            "optional to required run_if_changed",
            format!("{OLD_REQ}\n  optional: true"),
            format!("{OLD_REQ}\n  run_if_changed: changes"),
        ),
    ];
    for (name, old, new) in cases {
        assert_eq!(migrations(&d(&old, &new)), none(), "{name}");
    }
}

#[test]
fn migrated_context_change() {
    let new = "\"org/repo\":\n- name: old-job\n  context: new-context";
    assert_eq!(
        migrations(&d(OLD_REQ, new)),
        one("org/repo", &["old-job:old-context->old-job:new-context"])
    );
}

// ---- the combined table of TestControllerReconcile ---------------------------------------------

const CONTROLLER_OLD: &str = r#""org/repo":
- name: required-job
  context: required-job
  always_run: true
- name: other-required-job
  context: other-required-job
  always_run: true"#;

const CONTROLLER_NEW: &str = r#""org/repo":
- name: other-required-job
  context: new-context
  always_run: true
- name: new-required-job
  context: new-required-context
  always_run: true
  branches:
  - base
- name: run-on-changes-job
  context: run-on-changes-job
  run_if_changed: "^mychange""#;

#[test]
fn controller_delta_and_denylists() {
    let delta = d(CONTROLLER_OLD, CONTROLLER_NEW);
    assert_eq!(
        names(&delta.added),
        one(
            "org/repo",
            &[
                "new-required-job/new-required-context",
                "run-on-changes-job/run-on-changes-job"
            ]
        )
    );
    assert_eq!(
        names(&delta.removed),
        one("org/repo", &["required-job/required-job"])
    );
    assert_eq!(
        migrations(&delta),
        one(
            "org/repo",
            &["other-required-job:other-required-job->other-required-job:new-context"]
        )
    );
    assert_eq!(delta.counts(), (2, 1, 1));

    // --denylist (org or org/repo): no triggering, retire and migrate still happen.
    for entry in ["org", "org/repo"] {
        let f = delta
            .clone()
            .apply_denylist(&Denylist::new([entry], Vec::<String>::new()));
        assert!(f.added.is_empty(), "{entry}");
        assert_eq!(f.counts(), (0, 1, 1), "{entry}");
    }
    // --denylist-all: nothing at all.
    for entry in ["org", "org/repo"] {
        let f = delta
            .clone()
            .apply_denylist(&Denylist::new(Vec::<String>::new(), [entry]));
        assert!(f.is_empty(), "{entry}");
    }
    // Other orgs and prefixes of the name are not matched.
    let f = delta
        .clone()
        .apply_denylist(&Denylist::new(["or", "org/rep", "other"], ["org/repo2"]));
    assert_eq!(f.counts(), (2, 1, 1));
}
