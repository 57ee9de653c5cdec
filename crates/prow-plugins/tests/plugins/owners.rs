//! The OWNERS loader over the GitHub API: file names, directory denylist, Markdown front matter,
//! aliases, and the per-SHA cache.

use std::sync::Arc;

use crate::world::{Spec, World, files};

const SEED: &str = r#"
repos:
- name: org/repo
  files:
    OWNERS: "approvers: [root]\n"
    OWNERS_ALIASES: "aliases:\n  team: [teammate]\n"
    a/OWNERS: "approvers: [team]\n"
    vendor/x/y/OWNERS: "approvers: [vendored]\n"
    docs/guide.md: "---\napprovers: [docwriter]\n---\n# Guide\n"
- name: org/custom
  files:
    OWNERS: "approvers: [root]\n"
    custom/OWNERS.prow: "approvers: [custom-owner]\n"
    custom/OWNERS: "approvers: [ignored]\n"
"#;

async fn world(plugins: &str, config: &str) -> World {
    World::new(Spec {
        seed: SEED,
        plugins,
        config,
        ..Default::default()
    })
    .await
}

fn has(set: &prow_owners::LayeredSet, login: &str) -> bool {
    set.contains(login)
}

#[tokio::test]
async fn defaults_aliases_and_preconfigured_denylist() {
    let w = world("", "").await;
    let o = w
        .ctx(None)
        .load_owners("org", "repo", "main")
        .await
        .expect("loads");
    let a = o.approvers("a/file.go");
    assert!(has(&a, "teammate") && has(&a, "root"), "{:?}", a.to_list());
    let v = o.approvers("vendor/x/y/file.go");
    assert!(
        !has(&v, "vendored"),
        "vendor/*/* is denylisted by default: {:?}",
        v.to_list()
    );
    assert!(
        !has(&o.approvers("docs/guide.md"), "docwriter"),
        "front matter needs mdyamlrepos"
    );
}

#[tokio::test]
async fn mdyamlrepos_filenames_and_configured_denylist() {
    let w = world(
        "owners:\n  mdyamlrepos: [org/repo]\n  filenames:\n    org/custom: {owners: OWNERS.prow}\n",
        "owners_dir_denylist:\n  repos:\n    org/repo: ['^a$']\n",
    )
    .await;
    let ctx = w.ctx(None);
    let o = ctx.load_owners("org", "repo", "main").await.expect("loads");
    assert!(has(&o.approvers("docs/guide.md"), "docwriter"));
    assert!(
        !has(&o.approvers("a/file.go"), "teammate"),
        "a/ is denylisted for org/repo"
    );
    let c = ctx
        .load_owners("org", "custom", "main")
        .await
        .expect("loads");
    let custom = c.approvers("custom/file.go");
    assert!(
        has(&custom, "custom-owner") && !has(&custom, "ignored"),
        "{:?}",
        custom.to_list()
    );
}

#[tokio::test]
async fn cached_per_sha_and_refreshed_on_push() {
    let mut w = world("", "").await;
    let ctx = w.ctx(None);
    let first = ctx.load_owners("org", "repo", "main").await.expect("loads");
    let again = ctx.load_owners("org", "repo", "main").await.expect("loads");
    assert!(
        Arc::ptr_eq(&first, &again),
        "same SHA is served from the cache"
    );
    w.fake
        .push_files(
            "root",
            "org",
            "repo",
            "main",
            files(&[("a/OWNERS", "approvers: [newcomer]\n")]),
            "owners",
        )
        .expect("push");
    w.discard_events();
    let fresh = w
        .ctx(None)
        .load_owners("org", "repo", "main")
        .await
        .expect("loads");
    assert!(has(&fresh.approvers("a/file.go"), "newcomer"));
    assert!(!Arc::ptr_eq(&first, &fresh));
    let missing = w
        .ctx(None)
        .load_owners("org", "repo", "no-such-branch")
        .await;
    assert!(
        matches!(
            missing,
            Err(prow_plugins::PluginError::Owners(
                prow_plugins::OwnersLoadError::BranchNotFound { .. }
            ))
        ),
        "{missing:?}"
    );
}
