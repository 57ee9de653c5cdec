//! Port of Prow's `pkg/plugins/hold/hold_test.go` (TestHandle).

use crate::world::{Spec, World};

const HOLD: &str = "do-not-merge/hold";

fn seed(has_label: bool) -> String {
    let labels = if has_label {
        format!("[{HOLD}]")
    } else {
        "[]".into()
    };
    format!(
        "orgs: [{{login: org, members: [alice]}}]\nrepos: [{{name: org/repo, files: {{README.md: hi}}}}]\npull_requests: [{{repo: org/repo, number: 1, author: alice, title: T, head: h, labels: {labels}, files: {{a.txt: x}}}}]\nissues: [{{repo: org/repo, number: 2, author: alice, title: I, labels: {labels}}}]\n"
    )
}

#[tokio::test]
async fn hold_table() {
    // (name, body, has_label, want_label, is_pr)
    let cases = [
        ("nothing to do", "noise", false, false, true),
        ("quoted hold in a reply", "> /hold", false, false, true),
        ("requested hold", "/hold", false, true, true),
        (
            "requested hold with reason",
            "/hold for further review",
            false,
            true,
            true,
        ),
        (
            "requested hold, label already exists",
            "/hold",
            true,
            true,
            true,
        ),
        (
            "requested hold with reason, label exists",
            "/hold for further review",
            true,
            true,
            true,
        ),
        ("requested hold cancel", "/hold cancel", true, false, true),
        (
            "requested hold cancel with a reason",
            "/hold   cancel  further review has happened and I have whitespace",
            true,
            false,
            true,
        ),
        (
            "requested hold cancel, label already gone",
            "/hold cancel",
            false,
            false,
            true,
        ),
        ("requested unhold", "/unhold", true, false, true),
        (
            "requested unhold with a reason",
            "/unhold   further review has happened and I have whitespace",
            true,
            false,
            true,
        ),
        (
            "requested unhold, label already gone",
            "/unhold",
            false,
            false,
            true,
        ),
        ("requested hold for issues", "/hold", false, false, false),
        ("requested unhold for issues", "/unhold", true, true, false),
        (
            "requested remove hold label",
            "/remove-hold",
            true,
            false,
            true,
        ),
        (
            "remove hold with whitespace in between",
            "/remove -    hold",
            false,
            false,
            true,
        ),
        (
            "remove hold with no separating hyphen",
            "/removehold",
            false,
            false,
            true,
        ),
    ];
    for (name, body, has, want, is_pr) in cases {
        let seed = seed(has);
        let mut w = World::new(Spec {
            seed: &seed,
            plugins: "plugins:\n  org:\n    plugins: [hold]\n",
            ..Default::default()
        })
        .await;
        let number = if is_pr { 1 } else { 2 };
        let outcomes = w.comment("bob", "org", "repo", number, body).await;
        assert!(
            outcomes.iter().all(|o| o.error.is_none()),
            "{name}: {outcomes:?}"
        );
        let labels = w.labels("org", "repo", number);
        assert_eq!(
            labels.contains(&HOLD.to_owned()),
            want,
            "{name}: labels {labels:?}"
        );
    }
}
