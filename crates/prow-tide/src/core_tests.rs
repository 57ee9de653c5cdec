//! Tables ported from Prow's `tide_test.go` (TestTakeActionV2, TestAccumulate,
//! TestAccumulateBatch, TestFilterSubpool, TestPickBatch…), adapted to the pure core.

use std::collections::BTreeMap;

use prow_api::{ProwJob, ProwJobSpec, ProwJobState, ProwJobStatus, ProwJobType, Pull, Refs};

use super::*;
use crate::model::{Blocker, Context, CtxState, Pr};

const BASE: &str = "basesha";

fn pr(n: u64) -> Pr {
    Pr {
        org: "o".into(),
        repo: "r".into(),
        number: n,
        base_ref: "main".into(),
        head_sha: format!("head{n}"),
        mergeable: "MERGEABLE".into(),
        contexts: Some(vec![]),
        ..Default::default()
    }
}

fn job(name: &str) -> RequiredJob {
    RequiredJob {
        name: name.into(),
        context: name.into(),
    }
}

fn pj(
    ty: ProwJobType,
    ctx: &str,
    pulls: &[(u64, &str)],
    base: &str,
    state: ProwJobState,
) -> ProwJob {
    let mut j = ProwJob::new(
        Default::default(),
        ProwJobSpec {
            job_type: Some(ty),
            job: ctx.into(),
            context: ctx.into(),
            refs: Some(Refs {
                org: "o".into(),
                repo: "r".into(),
                base_ref: "main".into(),
                base_sha: base.into(),
                pulls: pulls
                    .iter()
                    .map(|(n, sha)| Pull {
                        number: *n,
                        sha: (*sha).into(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ProwJobStatus {
            state,
            ..Default::default()
        },
    );
    j.metadata.labels = Some(BTreeMap::new());
    j
}

fn subpool(prs: Vec<Pr>, presubmits: &[(u64, &[&str])]) -> Subpool {
    Subpool {
        org: "o".into(),
        repo: "r".into(),
        branch: "main".into(),
        base_sha: BASE.into(),
        prs,
        presubmits: presubmits
            .iter()
            .map(|(n, jobs)| (*n, jobs.iter().map(|j| job(j)).collect()))
            .collect(),
        knobs: Knobs {
            prioritize_existing_batches: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn take_action_table() {
    struct Case {
        name: &'static str,
        prs: Vec<u64>,
        presubmits: Vec<(u64, &'static [&'static str])>,
        batch_pending: Vec<u64>,
        success: Vec<u64>,
        pending: Vec<u64>,
        missing: Vec<u64>,
        batch_merge: Vec<u64>,
        batch_limit: i64,
        want: Action,
        targets: Vec<u64>,
        jobs: usize,
    }
    let foo: &'static [&'static str] = &["foo"];
    let two: &'static [&'static str] = &["foo", "if-changed"];
    let cases = vec![
        Case {
            name: "no prs to test, should do nothing",
            prs: vec![0],
            presubmits: vec![(0, foo)],
            batch_pending: vec![0],
            success: vec![],
            pending: vec![],
            missing: vec![],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Wait,
            targets: vec![],
            jobs: 0,
        },
        Case {
            name: "pending batch, pending serial, nothing to do",
            prs: vec![0, 1],
            presubmits: vec![(0, foo), (1, foo)],
            batch_pending: vec![0],
            success: vec![],
            pending: vec![1],
            missing: vec![0],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Wait,
            targets: vec![],
            jobs: 0,
        },
        Case {
            name: "pending batch, successful serial, nothing to do",
            prs: vec![0, 1],
            presubmits: vec![(0, foo), (1, foo)],
            batch_pending: vec![0],
            success: vec![1],
            pending: vec![],
            missing: vec![0],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Wait,
            targets: vec![],
            jobs: 0,
        },
        Case {
            name: "pending batch, should trigger serial",
            prs: vec![0, 1],
            presubmits: vec![(0, foo), (1, foo)],
            batch_pending: vec![0],
            success: vec![],
            pending: vec![],
            missing: vec![0, 1],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Trigger,
            targets: vec![0],
            jobs: 1,
        },
        Case {
            name: "no pending batch, should trigger batch",
            prs: vec![0, 1, 2],
            presubmits: vec![(0, foo), (1, foo), (2, foo)],
            batch_pending: vec![],
            success: vec![],
            pending: vec![0],
            missing: vec![1, 2],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::TriggerBatch,
            targets: vec![0, 1, 2],
            jobs: 1,
        },
        Case {
            name: "batch size limit caps the batch",
            prs: vec![0, 1, 2],
            presubmits: vec![(0, foo), (1, foo), (2, foo)],
            batch_pending: vec![],
            success: vec![],
            pending: vec![],
            missing: vec![0, 1, 2],
            batch_merge: vec![],
            batch_limit: 2,
            want: Action::TriggerBatch,
            targets: vec![0, 1],
            jobs: 1,
        },
        Case {
            name: "batches disabled, trigger serial",
            prs: vec![0, 1],
            presubmits: vec![(0, foo), (1, foo)],
            batch_pending: vec![],
            success: vec![],
            pending: vec![],
            missing: vec![0, 1],
            batch_merge: vec![],
            batch_limit: -1,
            want: Action::Trigger,
            targets: vec![0],
            jobs: 1,
        },
        Case {
            name: "one PR, should not trigger batch",
            prs: vec![0],
            presubmits: vec![(0, foo)],
            batch_pending: vec![],
            success: vec![],
            pending: vec![],
            missing: vec![0],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Trigger,
            targets: vec![0],
            jobs: 1,
        },
        Case {
            name: "successful PR, should merge",
            prs: vec![0],
            presubmits: vec![(0, foo)],
            batch_pending: vec![],
            success: vec![0],
            pending: vec![],
            missing: vec![],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Merge,
            targets: vec![0],
            jobs: 0,
        },
        Case {
            name: "successful batch, should merge",
            prs: vec![0, 1, 2, 3, 6, 7, 8],
            presubmits: vec![(0, foo)],
            batch_pending: vec![],
            success: vec![0, 1],
            pending: vec![2, 3],
            missing: vec![],
            batch_merge: vec![6, 7, 8],
            batch_limit: 0,
            want: Action::MergeBatch,
            targets: vec![6, 7, 8],
            jobs: 0,
        },
        Case {
            name: "one PR that triggers RunIfChangedJob",
            prs: vec![100],
            presubmits: vec![(100, two)],
            batch_pending: vec![],
            success: vec![],
            pending: vec![],
            missing: vec![100],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Trigger,
            targets: vec![100],
            jobs: 2,
        },
        Case {
            name: "no presubmits, merge",
            prs: vec![4, 5],
            presubmits: vec![],
            batch_pending: vec![],
            success: vec![5, 4],
            pending: vec![],
            missing: vec![],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Merge,
            targets: vec![4],
            jobs: 0,
        },
        Case {
            name: "no presubmits, wait",
            prs: vec![4, 5],
            presubmits: vec![],
            batch_pending: vec![],
            success: vec![],
            pending: vec![],
            missing: vec![],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::Wait,
            targets: vec![],
            jobs: 0,
        },
        Case {
            name: "no pending serial or batch, should trigger batch",
            prs: vec![0, 1],
            presubmits: vec![(0, two), (1, foo)],
            batch_pending: vec![],
            success: vec![],
            pending: vec![],
            missing: vec![0, 1],
            batch_merge: vec![],
            batch_limit: 0,
            want: Action::TriggerBatch,
            targets: vec![0, 1],
            jobs: 2,
        },
    ];
    for c in cases {
        let mut sp = subpool(c.prs.iter().map(|n| pr(*n)).collect(), &c.presubmits);
        sp.knobs.batch_size_limit = c.batch_limit;
        let mut acc = Accumulated {
            success: c.success,
            pending: c.pending,
            missing: c.missing.clone(),
            batch_merge: c.batch_merge,
            batch_pending: c.batch_pending,
            ..Default::default()
        };
        for n in &c.missing {
            acc.missing_tests
                .insert(*n, sp.presubmits.get(n).cloned().unwrap_or_default());
        }
        let (action, targets, jobs) = TideSelector.select(&sp, &acc, &mut MergeableBatchPicker);
        assert_eq!(action, c.want, "{}", c.name);
        assert_eq!(targets, c.targets, "{}", c.name);
        assert_eq!(jobs.len(), c.jobs, "{}", c.name);
    }
}

#[test]
fn accumulate_table() {
    // After Prow's TestAccumulate.
    let prs: Vec<Pr> = (1..=7).map(pr).collect();
    let mut sp = subpool(
        prs,
        &[
            (1, &["job1", "job2"]),
            (2, &["job1", "job2"]),
            (3, &["job1", "job2"]),
            (4, &["job1", "job2"]),
            (5, &["job1", "job2"]),
            (6, &["job1"]),
            (7, &["job1"]),
        ],
    );
    use ProwJobState::*;
    use ProwJobType::Presubmit;
    sp.jobs = vec![
        pj(Presubmit, "job1", &[(1, "head1")], BASE, Success),
        pj(Presubmit, "job2", &[(1, "head1")], BASE, Pending),
        pj(Presubmit, "job1", &[(2, "head2")], BASE, Success),
        pj(Presubmit, "job2", &[(2, "head2")], BASE, Failure),
        pj(Presubmit, "job2", &[(2, "head2")], BASE, Success),
        pj(Presubmit, "job1", &[(3, "head3")], BASE, Failure),
        pj(Presubmit, "job2", &[(3, "head3")], BASE, Success),
        pj(Presubmit, "job1", &[(4, "head4")], BASE, Success),
        pj(Presubmit, "job2", &[(4, "old")], BASE, Success),
        pj(Presubmit, "job1", &[(5, "head5")], "oldbase", Success),
        pj(Presubmit, "job2", &[(5, "head5")], BASE, Success),
        pj(Presubmit, "job1", &[(6, "head6")], BASE, Triggered),
        pj(Presubmit, "job1", &[(7, "head7")], BASE, Error),
    ];
    // A successful context reported for the current base counts although the job is gone.
    let sha = "b".repeat(40);
    sp.base_sha = sha.clone();
    for j in sp.jobs.iter_mut() {
        if let Some(r) = j.spec.refs.as_mut()
            && r.base_sha == BASE
        {
            r.base_sha = sha.clone();
        }
    }
    sp.prs[4].contexts = Some(vec![Context {
        context: "job1".into(),
        state: CtxState::Success,
        description: format!("Job succeeded. BaseSHA:{sha}"),
        target_url: String::new(),
    }]);
    sp.prs[6].contexts = Some(vec![Context {
        context: "job1".into(),
        state: CtxState::Success,
        description: "[prow:skip-retest]".into(),
        target_url: String::new(),
    }]);
    let acc = accumulate(&sp);
    assert_eq!(acc.success, vec![2, 5, 7]);
    assert_eq!(acc.pending, vec![1, 6]);
    assert_eq!(acc.missing, vec![3, 4]);
    assert_eq!(acc.missing_tests[&3], vec![job("job1")]);
    assert_eq!(acc.missing_tests[&4], vec![job("job2")]);
}

#[test]
fn accumulate_batch_table() {
    use ProwJobState::*;
    use ProwJobType::Batch;
    let mk = |jobs: Vec<ProwJob>| {
        let mut sp = subpool(
            vec![pr(1), pr(2), pr(3)],
            &[(1, &["foo", "bar"]), (2, &["foo", "bar"]), (3, &["foo"])],
        );
        sp.jobs = jobs;
        accumulate(&sp)
    };
    let both = [(1, "head1"), (2, "head2")];
    // Passing batch.
    let acc = mk(vec![
        pj(Batch, "foo", &both, BASE, Success),
        pj(Batch, "bar", &both, BASE, Success),
    ]);
    assert_eq!(
        (acc.batch_merge.clone(), acc.batch_pending.clone()),
        (vec![1, 2], vec![])
    );
    // One job still running ⇒ pending.
    let acc = mk(vec![
        pj(Batch, "foo", &both, BASE, Success),
        pj(Batch, "bar", &both, BASE, Pending),
    ]);
    assert_eq!(
        (acc.batch_merge.clone(), acc.batch_pending.clone()),
        (vec![], vec![1, 2])
    );
    // A required job missing from the batch ⇒ neither.
    let acc = mk(vec![pj(Batch, "foo", &both, BASE, Success)]);
    assert!(acc.batch_merge.is_empty() && acc.batch_pending.is_empty());
    // Failed then retried successfully: best result wins.
    let acc = mk(vec![
        pj(Batch, "foo", &both, BASE, Failure),
        pj(Batch, "foo", &both, BASE, Success),
        pj(Batch, "bar", &both, BASE, Success),
    ]);
    assert_eq!(acc.batch_merge, vec![1, 2]);
    // Failure ⇒ nothing.
    let acc = mk(vec![
        pj(Batch, "foo", &both, BASE, Failure),
        pj(Batch, "bar", &both, BASE, Success),
    ]);
    assert!(acc.batch_merge.is_empty() && acc.batch_pending.is_empty());
    // PR head changed or PR left the pool ⇒ batch invalid.
    let moved = [(1, "head1"), (2, "other")];
    let acc = mk(vec![
        pj(Batch, "foo", &moved, BASE, Success),
        pj(Batch, "bar", &moved, BASE, Success),
    ]);
    assert!(acc.batch_merge.is_empty());
    let gone = [(1, "head1"), (9, "head9")];
    let acc = mk(vec![
        pj(Batch, "foo", &gone, BASE, Success),
        pj(Batch, "bar", &gone, BASE, Success),
    ]);
    assert!(acc.batch_merge.is_empty());
    // Old base ⇒ ignored.
    let acc = mk(vec![
        pj(Batch, "foo", &both, "old", Success),
        pj(Batch, "bar", &both, "old", Success),
    ]);
    assert!(acc.batch_merge.is_empty());
    // Batch of PR 3 alone only needs foo.
    let acc = mk(vec![
        pj(Batch, "foo", &[(1, "head1"), (3, "head3")], BASE, Success),
        pj(Batch, "bar", &[(1, "head1"), (3, "head3")], BASE, Success),
    ]);
    assert_eq!(acc.batch_merge, vec![1, 3]);
}

#[test]
fn filter_pr_table() {
    let mut sp = subpool(vec![], &[(1, &["prow-job"])]);
    sp.knobs.merge_blocks = Some(MergeBlocksPolicy::Block);
    sp.policy.optional.insert("optional-ctx".into());
    let with = |f: &dyn Fn(&mut Pr)| {
        let mut p = pr(1);
        f(&mut p);
        p
    };
    let cases: Vec<(&str, Pr, Option<MergeMethod>, bool)> = vec![
        ("clean", with(&|_| {}), Some(MergeMethod::Merge), false),
        (
            "conflict",
            with(&|p| p.mergeable = "CONFLICTING".into()),
            Some(MergeMethod::Merge),
            true,
        ),
        ("conflicting labels", with(&|_| {}), None, true),
        (
            "rebase not possible",
            with(&|_| {}),
            Some(MergeMethod::Rebase),
            true,
        ),
        (
            "rebase possible",
            with(&|p| p.can_be_rebased = true),
            Some(MergeMethod::Rebase),
            false,
        ),
        (
            "failing context",
            with(&|p| p.contexts = Some(vec![Context::new("ci", CtxState::Failure)])),
            Some(MergeMethod::Merge),
            true,
        ),
        (
            "pending non-prow context",
            with(&|p| p.contexts = Some(vec![Context::new("ci", CtxState::Pending)])),
            Some(MergeMethod::Merge),
            true,
        ),
        (
            "pending prow context",
            with(&|p| p.contexts = Some(vec![Context::new("prow-job", CtxState::Pending)])),
            Some(MergeMethod::Merge),
            false,
        ),
        (
            "failing optional context",
            with(&|p| p.contexts = Some(vec![Context::new("optional-ctx", CtxState::Failure)])),
            Some(MergeMethod::Merge),
            false,
        ),
        (
            "pending tide context",
            with(&|p| p.contexts = Some(vec![Context::new("tide", CtxState::Pending)])),
            Some(MergeMethod::Merge),
            false,
        ),
        (
            "blocked with block policy",
            with(&|p| p.merge_state_status = "BLOCKED".into()),
            Some(MergeMethod::Merge),
            true,
        ),
    ];
    for (name, p, method, want) in cases {
        sp.merge_methods.insert(1, method);
        assert_eq!(filter_reason(&sp, &p).is_some(), want, "{name}");
    }
    sp.allowed.squash = false;
    sp.merge_methods.insert(1, Some(MergeMethod::Squash));
    assert_eq!(
        filter_reason(&sp, &pr(1)).as_deref(),
        Some("Merge type \"squash\" disallowed by repo settings")
    );
    sp.policy.required.insert("must".into());
    sp.merge_methods.insert(1, Some(MergeMethod::Merge));
    assert!(
        filter_reason(&sp, &pr(1)).is_some(),
        "missing required context"
    );
}

#[test]
fn retest_eligibility_and_existing_batches() {
    use ProwJobState::*;
    let mut sp = subpool(
        vec![pr(1), pr(2), pr(3)],
        &[(1, &["foo"]), (2, &["foo"]), (3, &["foo"])],
    );
    // PR 2 has a pending job context that Tide started; PR 3's pending context is someone else's.
    sp.prs[1].contexts = Some(vec![Context::new("foo", CtxState::Pending)]);
    sp.prs[2].contexts = Some(vec![Context::new("foo", CtxState::Pending)]);
    let mut by_tide = pj(
        ProwJobType::Presubmit,
        "foo",
        &[(2, "head2")],
        BASE,
        Pending,
    );
    by_tide
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(prow_api::labels::CREATED_BY_TIDE.into(), "true".into());
    sp.jobs = vec![
        by_tide,
        pj(
            ProwJobType::Presubmit,
            "foo",
            &[(3, "head3")],
            BASE,
            Pending,
        ),
    ];
    assert!(retest_eligible(&sp, &sp.prs[0]));
    assert!(retest_eligible(&sp, &sp.prs[1]));
    assert!(!retest_eligible(&sp, &sp.prs[2]));
    assert_eq!(pick_batch(&sp, &mut MergeableBatchPicker), vec![1, 2]);

    // An existing batch with the most successful jobs is reused.
    sp.prs[2].contexts = Some(vec![]);
    sp.jobs.push(pj(
        ProwJobType::Batch,
        "foo",
        &[(2, "head2"), (3, "head3")],
        BASE,
        Success,
    ));
    sp.jobs.push(pj(
        ProwJobType::Batch,
        "bar",
        &[(2, "head2"), (3, "head3")],
        BASE,
        Success,
    ));
    sp.jobs.push(pj(
        ProwJobType::Batch,
        "foo",
        &[(1, "head1"), (3, "head3")],
        BASE,
        Success,
    ));
    assert_eq!(pick_batch(&sp, &mut MergeableBatchPicker), vec![2, 3]);
    sp.knobs.batch_size_limit = 1;
    assert_eq!(
        pick_batch(&sp, &mut MergeableBatchPicker),
        vec![1],
        "existing batches above the limit are ignored"
    );
    sp.knobs.batch_size_limit = 0;
    sp.knobs.prioritize_existing_batches = false;
    assert_eq!(pick_batch(&sp, &mut MergeableBatchPicker), vec![1, 2, 3]);
}

#[test]
fn priority_labels() {
    let mut a = pr(5);
    a.labels = vec!["kind/bug".into()];
    let mut b = pr(9);
    b.labels = vec!["urgent".into()];
    let c = pr(1);
    let prs = vec![&a, &b, &c];
    let prio = vec![
        vec!["critical,urgent".to_owned()],
        vec!["kind/bug".to_owned()],
    ];
    assert_eq!(highest_priority(&prs, &prio, |_| true), Some(9));
    assert_eq!(highest_priority(&prs, &prio, |p| p.number != 9), Some(5));
    assert_eq!(highest_priority(&prs, &[], |_| true), Some(1));
    assert_eq!(highest_priority(&prs, &prio, |_| false), None);
}

#[test]
fn whole_subpool_sync() {
    let mut sp = subpool(vec![pr(1), pr(2)], &[(1, &["foo"]), (2, &["foo"])]);
    sp.prs[0].mergeable = "CONFLICTING".into();
    let out = sync_subpool(&sp, &mut MergeableBatchPicker);
    assert_eq!(
        out.filtered,
        vec![(1, "PR has a merge conflict.".to_owned())]
    );
    assert_eq!(out.pool, vec![2]);
    assert_eq!(
        (out.action, out.targets.clone()),
        (Action::Trigger, vec![2])
    );
    assert_eq!(out.trigger, vec![job("foo")]);

    sp.blockers = vec![Blocker {
        number: 4,
        title: "freeze".into(),
        url: "u".into(),
    }];
    let out = sync_subpool(&sp, &mut MergeableBatchPicker);
    assert_eq!(out.action, Action::Blocked);
    assert!(out.targets.is_empty());
    assert_eq!(
        serde_json::to_value(Action::TriggerBatch).ok(),
        Some(serde_json::json!("TRIGGER_BATCH"))
    );
}
