//! Port of Prow's `pkg/plugins/label/label_test.go` (TestHandleComment, TestHandleLabelAdd).

use std::collections::BTreeSet;

use prow_github::events::PullRequestEvent;
use prow_github::{GitHub, Label, User};
use prow_plugins::plugins::label::LabelPlugin;
use prow_plugins::{CommentAction, Plugin};

use crate::world::{BOT, Spec, World, generic_comment};

const MEMBER: &str = "Alice";
const MEMBER_ALT: &str = "Mallory";
const NON_MEMBER: &str = "Bob";

struct C {
    name: &'static str,
    body: &'static str,
    commenter: &'static str,
    extra: &'static [&'static str],
    restricted: &'static str,
    repo_labels: &'static [&'static str],
    issue_labels: &'static [&'static str],
    added: &'static [&'static str],
    removed: &'static [&'static str],
    /// `None`: no reply; `Some("")`: some reply; `Some(text)`: a reply containing `text`.
    reply: Option<&'static str>,
    edited: bool,
}

const fn c(
    name: &'static str,
    body: &'static str,
    repo: &'static [&'static str],
    issue: &'static [&'static str],
) -> C {
    C {
        name,
        body,
        commenter: MEMBER,
        extra: &[],
        restricted: "",
        repo_labels: repo,
        issue_labels: issue,
        added: &[],
        removed: &[],
        reply: None,
        edited: false,
    }
}

fn yaml_list(items: &[&str]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

async fn run(tc: &C) {
    let seed = format!(
        "orgs: [{{login: org, members: [{MEMBER}, {MEMBER_ALT}], teams: [{{slug: privileged-group, members: [{MEMBER}]}}]}}]\nrepos: [{{name: org/repo, labels: {}}}]\nissues: [{{repo: org/repo, number: 1, author: someone, title: I, labels: {}}}]\n",
        yaml_list(tc.repo_labels),
        yaml_list(tc.issue_labels)
    );
    let mut plugins = format!(
        "plugins: {{org: {{plugins: [label]}}}}\nlabel:\n  additional_labels: {}\n",
        yaml_list(tc.extra)
    );
    if !tc.restricted.is_empty() {
        plugins.push_str(&format!("  restricted_labels:\n{}", tc.restricted));
    }
    let mut w = World::new(Spec {
        seed: &seed,
        plugins: &plugins,
        ..Default::default()
    })
    .await;
    let before: BTreeSet<String> = w.labels("org", "repo", 1).into_iter().collect();
    if tc.edited {
        let mut gc = generic_comment("org", "repo", 1, tc.commenter, tc.body);
        gc.action = CommentAction::Edited;
        gc.is_pr = false;
        LabelPlugin
            .handle_generic_comment(&w.ctx(None), &gc)
            .await
            .expect("ok");
    } else {
        let out = w.comment(tc.commenter, "org", "repo", 1, tc.body).await;
        assert!(
            out.iter().all(|o| o.error.is_none()),
            "{}: {out:?}",
            tc.name
        );
    }
    let after: BTreeSet<String> = w.labels("org", "repo", 1).into_iter().collect();
    let added: BTreeSet<&str> = after.difference(&before).map(String::as_str).collect();
    let removed: BTreeSet<&str> = before.difference(&after).map(String::as_str).collect();
    assert_eq!(
        added,
        tc.added.iter().copied().collect(),
        "{}: added",
        tc.name
    );
    assert_eq!(
        removed,
        tc.removed.iter().copied().collect(),
        "{}: removed",
        tc.name
    );
    let replies = w.bot_comments("org", "repo", 1);
    match tc.reply {
        None => assert!(replies.is_empty(), "{}: unexpected {replies:?}", tc.name),
        Some(text) => {
            assert_eq!(replies.len(), 1, "{}: {replies:?}", tc.name);
            assert!(
                replies[0].contains(text),
                "{}: {:?} lacks {text:?}",
                tc.name,
                replies[0]
            );
        }
    }
}

const TRIAGE_ACCEPTED_MSG: &str = "The label `triage/accepted` cannot be applied. Only GitHub organization members can add the label.";

#[tokio::test]
async fn handle_comment_table() {
    let cases = [
        c("Irrelevant comment", "irrelelvant", &[], &[]),
        c("Empty Area", "/area", &["area/infra"], &["area/infra"]),
        C {
            added: &["area/infra"],
            ..c("Add Single Area Label", "/area infra", &["area/infra"], &[])
        },
        c(
            "Add Single Area Label when already present",
            "/area infra",
            &["area/infra"],
            &["area/infra"],
        ),
        C {
            added: &["priority/critical"],
            ..c(
                "Add Single Priority Label",
                "/priority critical",
                &["area/infra", "priority/critical"],
                &[],
            )
        },
        C {
            added: &["kind/bug"],
            ..c(
                "Add Single Kind Label",
                "/kind bug",
                &["area/infra", "priority/critical", "kind/bug"],
                &[],
            )
        },
        C {
            added: &["triage/needs-information"],
            ..c(
                "Add Single Triage Label",
                "/triage needs-information",
                &["area/infra", "triage/needs-information"],
                &["area/infra"],
            )
        },
        C {
            added: &["triage/accepted"],
            ..c(
                "Org member can add triage/accepted",
                "/triage accepted",
                &["triage/accepted"],
                &[],
            )
        },
        C {
            commenter: NON_MEMBER,
            reply: Some(TRIAGE_ACCEPTED_MSG),
            ..c(
                "Non org member cannot add triage/accepted",
                "/triage accepted",
                &["triage/accepted", "kind/bug"],
                &["kind/bug"],
            )
        },
        C {
            commenter: NON_MEMBER,
            added: &["triage/needs-information"],
            ..c(
                "Non org member can add triage/needs-information",
                "/triage needs-information",
                &["area/infra", "triage/needs-information"],
                &["area/infra"],
            )
        },
        C {
            added: &["kind/bug"],
            ..c(
                "Adding labels is case insensitive",
                "/kind BuG",
                &["area/infra", "priority/critical", "kind/bug"],
                &[],
            )
        },
        C {
            reply: Some(
                "The label(s) `priority/critical` cannot be applied, because the repository doesn't have them.",
            ),
            ..c(
                "Can't add non existent label",
                "/priority critical",
                &["area/infra"],
                &[],
            )
        },
        C {
            commenter: NON_MEMBER,
            added: &["area/infra"],
            ..c(
                "Non org member can add",
                "/area infra",
                &["area/infra", "priority/critical", "kind/bug"],
                &[],
            )
        },
        c(
            "Command must start at the beginning of the line",
            " /area infra",
            &["area/infra", "area/api"],
            &[],
        ),
        C {
            reply: Some(
                "The label(s) `area/lgtm` cannot be applied, because the repository doesn't have them.",
            ),
            ..c(
                "Can't add non existing labels",
                "/area lgtm",
                &["area/infra", "area/api", "priority/critical"],
                &[],
            )
        },
        C {
            added: &["area/api", "area/infra"],
            ..c(
                "Add multiple area labels",
                "/area api infra",
                &["area/infra", "area/api", "priority/critical"],
                &[],
            )
        },
        C {
            added: &["area/infra"],
            ..c(
                "Add multiple, one already present",
                "/area api infra",
                &["area/infra", "area/api"],
                &["area/api"],
            )
        },
        C {
            added: &["priority/critical", "priority/important"],
            ..c(
                "Add multiple priority labels",
                "/priority critical important",
                &["priority/critical", "priority/important"],
                &[],
            )
        },
        C {
            added: &["area/api", "area/infra"],
            ..c(
                "Add multiple with trailing whitespace",
                "/area api infra ",
                &["area/infra", "area/api"],
                &[],
            )
        },
        C {
            reply: Some(
                "The label(s) `area/urgent` cannot be applied, because the repository doesn't have them.",
            ),
            ..c(
                "Label prefix must match command (area-priority)",
                "/area urgent",
                &["area/infra", "priority/urgent"],
                &[],
            )
        },
        C {
            added: &["area/infra"],
            reply: Some(
                "The label(s) `area/lgtm` cannot be applied, because the repository doesn't have them.",
            ),
            ..c(
                "Add multiple area labels (some valid)",
                "/area lgtm infra",
                &["area/infra", "area/api"],
                &[],
            )
        },
        C {
            added: &["committee/steering"],
            reply: Some(
                "The label(s) `committee/calamity` cannot be applied, because the repository doesn't have them.",
            ),
            ..c(
                "Add multiple committee labels (some valid)",
                "/committee steering calamity",
                &["committee/conduct", "committee/steering"],
                &[],
            )
        },
        C {
            commenter: NON_MEMBER,
            added: &["triage/needs-information"],
            reply: Some(TRIAGE_ACCEPTED_MSG),
            ..c(
                "Non member adds multiple triage labels (some valid)",
                "/triage needs-information accepted",
                &["triage/needs-information", "triage/accepted"],
                &[],
            )
        },
        C {
            added: &["priority/urgent", "area/infra"],
            ..c(
                "Multiple types on different lines",
                "/priority urgent\n/area infra",
                &["area/infra", "priority/urgent"],
                &[],
            )
        },
        C {
            reply: Some("Those labels are not set on the issue: `area/infra`"),
            ..c(
                "Remove area label when not in repo",
                "/remove-area infra",
                &[],
                &[],
            )
        },
        C {
            reply: Some(""),
            ..c(
                "Remove area label when not on issue",
                "/remove-area infra",
                &["area/infra"],
                &[],
            )
        },
        C {
            removed: &["area/infra"],
            ..c(
                "Remove Area Label",
                "/remove-area infra",
                &["area/infra"],
                &["area/infra"],
            )
        },
        C {
            removed: &["committee/infinite-monkeys"],
            ..c(
                "Remove Committee Label",
                "/remove-committee infinite-monkeys",
                &["area/infra", "sig/testing", "committee/infinite-monkeys"],
                &["area/infra", "sig/testing", "committee/infinite-monkeys"],
            )
        },
        C {
            added: &["needs-kind"],
            removed: &["kind/api-server"],
            ..c(
                "Remove Kind Label re-adds needs-kind",
                "/remove-kind api-server",
                &[
                    "area/infra",
                    "priority/high",
                    "kind/api-server",
                    "needs-kind",
                ],
                &["area/infra", "priority/high", "kind/api-server"],
            )
        },
        C {
            added: &["needs-priority"],
            removed: &["priority/high"],
            ..c(
                "Remove Priority Label",
                "/remove-priority high",
                &["area/infra", "priority/high", "needs-priority"],
                &["area/infra", "priority/high"],
            )
        },
        C {
            added: &["needs-sig"],
            removed: &["sig/testing"],
            ..c(
                "Remove SIG Label",
                "/remove-sig testing",
                &["area/infra", "sig/testing", "needs-sig"],
                &["area/infra", "sig/testing"],
            )
        },
        C {
            removed: &["sig/testing"],
            ..c(
                "Remove one of many SIG labels",
                "/remove-sig testing",
                &[
                    "area/infra",
                    "sig/testing",
                    "sig/node",
                    "sig/auth",
                    "needs-sig",
                ],
                &["area/infra", "sig/testing", "sig/node", "sig/auth"],
            )
        },
        C {
            added: &["sig/node"],
            removed: &["sig/testing"],
            ..c(
                "Add and remove SIG label",
                "/remove-sig testing\n/sig node",
                &["area/infra", "sig/testing", "sig/node", "needs-sig"],
                &["area/infra", "sig/testing"],
            )
        },
        C {
            removed: &["wg/policy"],
            ..c(
                "Remove WG Policy",
                "/remove-wg policy",
                &["area/infra", "wg/policy"],
                &["area/infra", "wg/policy"],
            )
        },
        C {
            added: &["needs-triage"],
            removed: &["triage/needs-information", "triage/accepted"],
            ..c(
                "Remove Triage Label",
                "/remove-triage needs-information accepted",
                &[
                    "area/infra",
                    "triage/needs-information",
                    "triage/accepted",
                    "needs-triage",
                ],
                &["area/infra", "triage/needs-information", "triage/accepted"],
            )
        },
        C {
            removed: &[
                "priority/low",
                "priority/high",
                "kind/api-server",
                "area/infra",
            ],
            reply: Some("Those labels are not set on the issue: `area/`"),
            ..c(
                "Remove multiple labels (double space quirk)",
                "/remove-priority low high\n/remove-kind api-server\n/remove-area  infra",
                &[
                    "area/infra",
                    "priority/high",
                    "priority/low",
                    "kind/api-server",
                ],
                &[
                    "area/infra",
                    "priority/high",
                    "priority/low",
                    "kind/api-server",
                ],
            )
        },
        C {
            added: &["area/test"],
            removed: &["area/infra"],
            ..c(
                "Add and remove at the same time",
                "/remove-area infra\n/area test",
                &["area/infra", "area/test"],
                &["area/infra"],
            )
        },
        C {
            removed: &["area/infra"],
            ..c(
                "Add and remove the same label",
                "/remove-area infra\n/area infra",
                &["area/infra"],
                &["area/infra"],
            )
        },
        C {
            added: &["area/go", "kind/cli", "priority/h"],
            removed: &["area/ruby", "kind/srv", "priority/l", "priority/m"],
            ..c(
                "Multiple add and delete labels",
                "/remove-area ruby\n/remove-kind srv\n/remove-priority l m\n/area go\n/kind cli\n/priority h",
                &[
                    "area/go",
                    "area/ruby",
                    "kind/cli",
                    "kind/srv",
                    "priority/h",
                    "priority/m",
                    "priority/l",
                ],
                &["area/ruby", "kind/srv", "priority/l", "priority/m"],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            ..c(
                "Do nothing with empty /label",
                "/label",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            ..c(
                "Do nothing with empty /remove-label",
                "/remove-label",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            added: &["orchestrator/foo"],
            ..c(
                "Add custom label",
                "/label orchestrator/foo",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            added: &["orchestrator/foo"],
            ..c(
                "Add custom label trailing space",
                "/label orchestrator/foo ",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            added: &["orchestrator/foo"],
            ..c(
                "Add custom label trailing LF",
                "/label orchestrator/foo\n",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            added: &["orchestrator/foo"],
            ..c(
                "Add custom label trailing CRLF",
                "/label orchestrator/foo\r\n",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/jar", "orchestrator/bar"],
            reply: Some(
                "The label(s) `/label orchestrator/foo` cannot be applied. These labels are supported: `orchestrator/jar, orchestrator/bar`. Is this label configured under `labels -> additional_labels` or `labels -> restricted_labels` in `plugin.yaml`?",
            ),
            ..c(
                "Cannot add missing custom label",
                "/label orchestrator/foo",
                &["orchestrator/foo"],
                &[],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            removed: &["orchestrator/foo"],
            ..c(
                "Remove custom label",
                "/remove-label orchestrator/foo",
                &["orchestrator/foo"],
                &["orchestrator/foo"],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            removed: &["orchestrator/foo"],
            ..c(
                "Remove custom label CRLF",
                "/remove-label orchestrator/foo\r\n",
                &["orchestrator/foo"],
                &["orchestrator/foo"],
            )
        },
        C {
            extra: &["orchestrator/foo", "orchestrator/bar"],
            reply: Some(
                "The label(s) `/remove-label orchestrator/jar` cannot be applied. These labels are supported: `orchestrator/foo, orchestrator/bar`",
            ),
            ..c(
                "Cannot remove missing custom label",
                "/remove-label orchestrator/jar",
                &["orchestrator/foo"],
                &["orchestrator/foo"],
            )
        },
        C {
            edited: true,
            ..c(
                "Don't take action while editing body",
                "/kind bug",
                &["kind/bug"],
                &[],
            )
        },
        C {
            added: &["kind/cleanup"],
            ..c(
                "Strip markdown comments",
                "\n<!--\n/kind bug\n-->\n/kind cleanup",
                &["kind/bug", "kind/cleanup"],
                &[],
            )
        },
        C {
            restricted: "    org: [{label: restricted-label, allowed_users: [Mallory]}]\n",
            reply: Some(
                "The label(s) `restricted-label` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user. Consider assigning one of the following members: Mallory",
            ),
            ..c(
                "Restricted label addition, user not allowed",
                "/label restricted-label",
                &["restricted-label"],
                &[],
            )
        },
        C {
            restricted: "    org: [{label: restricted-label, allowed_teams: [privileged-group]}]\n",
            added: &["restricted-label"],
            ..c(
                "Restricted label addition, user in allowed_teams",
                "/label restricted-label",
                &["restricted-label"],
                &[],
            )
        },
        C {
            restricted: "    org: [{label: restricted-label, allowed_users: [Alice]}]\n",
            added: &["restricted-label"],
            ..c(
                "Restricted label addition, user in allowed_users",
                "/label restricted-label",
                &["restricted-label"],
                &[],
            )
        },
        C {
            restricted: "    org: [{label: restricted-label, allowed_teams: [privileged-group]}]\n",
            commenter: MEMBER_ALT,
            reply: Some(
                "The label(s) `restricted-label` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user. Must be a member of one of these teams: privileged-group",
            ),
            ..c(
                "Restricted label removal, user not in allowed_teams",
                "/remove-label restricted-label",
                &["restricted-label"],
                &["restricted-label"],
            )
        },
        C {
            restricted: "    org: [{label: restricted-label, allowed_teams: [privileged-group]}]\n",
            removed: &["restricted-label"],
            ..c(
                "Restricted label removal, user in allowed_teams",
                "/remove-label restricted-label",
                &["restricted-label"],
                &["restricted-label"],
            )
        },
    ];
    for tc in &cases {
        run(tc).await;
    }
}

#[tokio::test]
async fn assign_on_restricted_label() {
    // Prow's TestHandleLabelAdd: adding `other-label` assigns the restricted label's users.
    let w = World::new(Spec {
        seed: "orgs: [{login: org, members: [alice, bob]}]\nrepos: [{name: org/repo, files: {a: b}}]\npull_requests: [{repo: org/repo, number: 1, author: carol, title: T, head: h, files: {c: d}}]\n",
        plugins: "plugins: {org: {plugins: [label]}}\nlabel:\n  restricted_labels:\n    '*': [{label: restricted-label, allowed_users: [alice, bob], assign_on: [{label: other-label}]}]\n",
        ..Default::default()
    })
    .await;
    let gh = w.gh(BOT);
    for (label, want) in [("unrelated", vec![]), ("Other-Label", vec!["alice", "bob"])] {
        let ev = PullRequestEvent {
            action: "labeled".into(),
            number: 1,
            pull_request: gh.get_pull_request("org", "repo", 1).await.expect("PR"),
            repository: gh.get_repo("org", "repo").await.expect("repo"),
            label: Some(Label {
                name: label.into(),
                ..Default::default()
            }),
            sender: User::default(),
            ..Default::default()
        };
        LabelPlugin
            .handle_pull_request(&w.ctx(None), &ev)
            .await
            .expect("ok");
        let mut assignees: Vec<String> = w
            .fake
            .pull_request("org", "repo", 1)
            .expect("PR")
            .assignees
            .into_iter()
            .map(|u| u.login)
            .collect();
        assignees.sort();
        assert_eq!(assignees, want, "{label}");
    }
}

/// A comment of the largest size GitHub takes, made of thousands of `/label` lines: the bot
/// acts on a bounded number of them, says so once, and its reply fits GitHub's limit.
#[tokio::test]
async fn thousands_of_label_commands_give_one_bounded_reply() {
    use prow_commands::MAX_COMMANDS_PER_KIND;
    use prow_github::limits::MAX_BODY_CHARS;
    let seed = format!(
        "orgs: [{{login: org, members: [{MEMBER}]}}]\nrepos: [{{name: org/repo, labels: [kind/bug]}}]\nissues: [{{repo: org/repo, number: 1, author: someone, title: I}}]\n"
    );
    let mut w = World::new(Spec {
        seed: &seed,
        plugins: "plugins: {org: {plugins: [label]}}\n",
        ..Default::default()
    })
    .await;
    let mut body = String::new();
    while body.len() < MAX_BODY_CHARS - 100 {
        body.push_str(&format!("/label not-configured-{:06}\n", body.len()));
    }
    body.push_str("/kind bug\n");
    let out = w.comment(MEMBER, "org", "repo", 1, &body).await;
    assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
    assert_eq!(w.labels("org", "repo", 1), ["kind/bug"]);
    let replies = w.bot_comments("org", "repo", 1);
    assert_eq!(replies.len(), 1, "{replies:?}");
    let reply = &replies[0];
    assert!(reply.chars().count() <= MAX_BODY_CHARS);
    assert_eq!(
        reply.matches("/label not-configured-").count() - body_quotes(reply),
        MAX_COMMANDS_PER_KIND,
        "the list names only the commands acted on"
    );
    assert_eq!(
        reply
            .matches(&format!(
                "only the first {MAX_COMMANDS_PER_KIND} were acted on"
            ))
            .count(),
        1
    );
}

/// Quoted lines of the original comment (`>/label …`) in a reply.
fn body_quotes(reply: &str) -> usize {
    reply.matches(">/label not-configured-").count()
}
