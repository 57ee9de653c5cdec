//! RepoOwners loading and queries.

mod common;

use common::{repo, set};
use prow_owners::{
    Filenames, LoadOptions, OwnersDirDenylist, OwnersError, PRECONFIGURED_DIR_DENYLIST, RepoOwners,
};

/// A small repository exercising most features.
fn fixture() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "OWNERS_ALIASES",
            "aliases:\n  Core-Team:\n  - Ann\n  - '@ben'\n",
        ),
        (
            "OWNERS",
            "approvers: [root-approver]\nreviewers: [Alice, bob]\nrequired_reviewers: [chris]\nlabels: [EVERYTHING]\n",
        ),
        ("src/OWNERS", "approvers: [core-team]\n"),
        (
            "src/dir/OWNERS",
            "approvers: [bob]\nreviewers: [alice, '@CJ', jay]\nrequired_reviewers: [ben]\nlabels: [src-code]\n",
        ),
        (
            "src/dir/subdir/OWNERS",
            "approvers: [bob, alice]\nreviewers: [bob, alice]\n",
        ),
        (
            "src/dir/conformance/OWNERS",
            "options:\n  no_parent_owners: true\n  auto_approve_unowned_subfolders: true\napprovers: [mel]\n",
        ),
        (
            "docs/file.md",
            "---\napprovers:\n- ALICE\nlabels:\n- docs\n---\n",
        ),
        ("vendor/OWNERS", "approvers: [vera]\n"),
        ("vendor/example.com/lib/OWNERS", "approvers: [vic]\n"),
        ("_output/OWNERS", "approvers: [otto]\n"),
        ("src/main.go", "package main\n"),
    ]
}

fn load(opts: &LoadOptions) -> RepoOwners {
    RepoOwners::load(fixture(), opts)
}

#[test]
fn approvers_for_nested_files() {
    let ro = load(&LoadOptions::default());
    assert!(ro.warnings().is_empty(), "{:?}", ro.warnings());
    // (file, nearest approver OWNERS, leaf approvers, all approvers)
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        ("README", "", &["root-approver"], &["root-approver"]),
        (
            "src/main.go",
            "src",
            &["ann", "ben"],
            &["ann", "ben", "root-approver"],
        ),
        (
            "src/dir/x.go",
            "src/dir",
            &["bob"],
            &["ann", "ben", "bob", "root-approver"],
        ),
        (
            "src/dir/subdir/deep/y.go",
            "src/dir/subdir",
            &["alice", "bob"],
            &["alice", "ann", "ben", "bob", "root-approver"],
        ),
        // no_parent_owners stops inheritance.
        (
            "src/dir/conformance/c.go",
            "src/dir/conformance",
            &["mel"],
            &["mel"],
        ),
        (
            "unknown/dir/z.go",
            "",
            &["root-approver"],
            &["root-approver"],
        ),
        // Messy spellings are cleaned.
        (
            "./src//dir/x.go",
            "src/dir",
            &["bob"],
            &["ann", "ben", "bob", "root-approver"],
        ),
    ];
    for (file, owners, leaf, all) in cases {
        assert_eq!(ro.find_approver_owners_for_file(file), *owners, "{file}");
        assert_eq!(ro.leaf_approvers(file), set(leaf), "{file}");
        assert_eq!(ro.approvers(file).to_set(), set(all), "{file}");
    }
    // Layers: nearest first (layer 0 is the file itself).
    let layered = ro.approvers("src/dir/x.go");
    assert_eq!(layered.layers()[1], set(&["bob"]));
    assert_eq!(layered.layers()[2], set(&["ann", "ben"]));
    assert_eq!(layered.layers()[3], set(&["root-approver"]));
}

#[test]
fn reviewers_labels_required_and_top_level() {
    let ro = load(&LoadOptions::default());
    assert_eq!(
        ro.leaf_reviewers("src/dir/x.go"),
        set(&["alice", "cj", "jay"])
    );
    assert_eq!(
        ro.reviewers("src/dir/x.go").to_set(),
        set(&["alice", "bob", "cj", "jay"])
    );
    assert_eq!(ro.find_reviewers_owners_for_file("src/main.go"), "");
    assert_eq!(
        ro.required_reviewers("src/dir/x.go"),
        set(&["ben", "chris"])
    );
    assert_eq!(ro.required_reviewers("src/x.go"), set(&["chris"]));
    assert_eq!(
        ro.find_labels_for_file("src/dir/x.go"),
        set(&["EVERYTHING", "src-code"])
    );
    assert_eq!(ro.find_labels_for_file("."), set(&["EVERYTHING"]));
    assert_eq!(ro.find_labels_for_file(""), set(&["EVERYTHING"]));
    assert_eq!(ro.top_level_approvers(), set(&["root-approver"]));
    assert!(ro.is_no_parent_owners("src/dir/conformance"));
    assert!(ro.is_auto_approve_unowned_subfolders("src/dir/conformance"));
    assert!(!ro.is_no_parent_owners("src/dir"));
    assert!(ro.all_approvers().contains("mel"));
    assert!(ro.all_reviewers().contains("cj"));
    assert_eq!(
        ro.all_owners().len(),
        ro.all_approvers().union(&ro.all_reviewers()).count()
    );
    let for_lgtm = ro.reviewers_and_approvers_for_files(["src/dir/x.go"]);
    assert!(for_lgtm.contains("jay") && for_lgtm.contains("root-approver"));
}

#[test]
fn markdown_owners_only_when_enabled() {
    let off = load(&LoadOptions::default());
    assert_eq!(off.leaf_approvers("docs/file.md"), set(&["root-approver"]));
    let on = load(&LoadOptions {
        enable_md_yaml: true,
        ..LoadOptions::default()
    });
    assert_eq!(
        on.find_approver_owners_for_file("docs/file.md"),
        "docs/file.md"
    );
    assert_eq!(on.leaf_approvers("docs/file.md"), set(&["alice"]));
    assert_eq!(
        on.approvers("docs/file.md").to_set(),
        set(&["alice", "root-approver"])
    );
    assert_eq!(
        on.find_labels_for_file("docs/file.md"),
        set(&["EVERYTHING", "docs"])
    );
    // Other files in the directory are unaffected.
    assert_eq!(on.leaf_approvers("docs/other.md"), set(&["root-approver"]));
}

#[test]
fn denylist_table() {
    struct Case {
        name: &'static str,
        denylist: OwnersDirDenylist,
        included: &'static [&'static str],
        excluded: &'static [&'static str],
    }
    let by_repo = |key: &str, pats: &[&str]| OwnersDirDenylist {
        repos: [(
            key.to_owned(),
            pats.iter().map(|s| (*s).to_owned()).collect(),
        )]
        .into(),
        ..Default::default()
    };
    let default = |pats: &[&str]| OwnersDirDenylist {
        default: pats.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    };
    let cases = [
        Case {
            name: "by org",
            denylist: by_repo("example-org", &["src"]),
            included: &["", "vendor"],
            excluded: &["src", "src/dir", "src/dir/subdir", "src/dir/conformance"],
        },
        Case {
            name: "by org/repo",
            denylist: by_repo("example-org/repo", &["src"]),
            included: &[""],
            excluded: &["src", "src/dir"],
        },
        Case {
            name: "other repo",
            denylist: by_repo("example-org/other", &["src"]),
            included: &["", "src", "src/dir"],
            excluded: &[],
        },
        Case {
            name: "subdir name",
            denylist: default(&["dir"]),
            included: &["", "src"],
            excluded: &["src/dir", "src/dir/subdir", "src/dir/conformance"],
        },
        Case {
            name: "regexp",
            denylist: default(&["src/dir/."]),
            included: &["", "src", "src/dir"],
            excluded: &["src/dir/subdir", "src/dir/conformance"],
        },
        Case {
            name: "unanchored substring",
            denylist: default(&["/c"]),
            included: &["src/dir", "src/dir/subdir"],
            excluded: &["src/dir/conformance"],
        },
        Case {
            name: "non-matching",
            denylist: default(&["sr$"]),
            included: &["src", "src/dir"],
            excluded: &[],
        },
        Case {
            // `vendor/.*/.*` is matched against directories: vendor/OWNERS
            // stays, deeper vendored OWNERS go; `_output$` drops _output.
            name: "preconfigured",
            denylist: OwnersDirDenylist::default(),
            included: &["", "vendor"],
            excluded: &["vendor/example.com/lib", "_output"],
        },
        Case {
            name: "ignore preconfigured",
            denylist: OwnersDirDenylist {
                ignore_preconfigured_defaults: true,
                ..Default::default()
            },
            included: &["vendor", "vendor/example.com/lib", "_output"],
            excluded: &[],
        },
    ];
    for c in cases {
        let ro = load(&LoadOptions {
            dir_denylist: c.denylist.list_ignored_dirs("example-org", "repo"),
            ..LoadOptions::default()
        });
        for dir in c.included {
            let probe = if dir.is_empty() {
                "f".to_owned()
            } else {
                format!("{dir}/f")
            };
            assert_eq!(
                ro.find_approver_owners_for_file(&probe),
                *dir,
                "{}: {dir}",
                c.name
            );
        }
        for dir in c.excluded {
            let probe = format!("{dir}/f");
            assert_ne!(
                ro.find_approver_owners_for_file(&probe),
                *dir,
                "{}: {dir}",
                c.name
            );
        }
    }
    assert_eq!(
        LoadOptions::default().dir_denylist,
        PRECONFIGURED_DIR_DENYLIST.to_vec()
    );
}

#[test]
fn denylisted_root_skips_everything() {
    let ro = RepoOwners::load(
        fixture(),
        &LoadOptions {
            dir_denylist: vec!["^\\.$".to_owned(), "(".to_owned()],
            ..LoadOptions::default()
        },
    );
    assert!(ro.all_approvers().is_empty());
    assert!(matches!(
        ro.warnings(),
        [OwnersError::InvalidDenylistRegex { pattern, .. }] if pattern == "("
    ));
}

#[test]
fn filters_and_options() {
    let ro = repo(&[
        (
            "re/OWNERS",
            "filters:\n  \".*\":\n    labels: [re/all]\n  \"\\\\.go$\":\n    labels: [re/go]\n    approvers: [gopher]\n",
        ),
        (
            "re/a/OWNERS",
            "filters:\n  \"\\\\.md$\":\n    labels: [re/md-in-a]\n  \"\\\\.go$\":\n    labels: [re/go-in-a]\n  \"[\":\n    labels: [broken]\n",
        ),
        (
            "np/OWNERS",
            "options: {no_parent_owners: true}\nfilters:\n  \"\\\\.txt$\": {approvers: [flex]}\n",
        ),
        ("OWNERS", "approvers: [root]\n"),
    ]);
    let labels: &[(&str, &[&str])] = &[
        ("re/a/go.go", &["re/all", "re/go", "re/go-in-a"]),
        ("re/a/md.md", &["re/all", "re/md-in-a"]),
        ("re/a/txt.txt", &["re/all"]),
        ("re/go.go", &["re/all", "re/go"]),
        ("re/b/md.md", &["re/all"]),
    ];
    for (file, want) in labels {
        assert_eq!(ro.find_labels_for_file(file), set(want), "{file}");
    }
    // Filter regexes match the path relative to the OWNERS directory.
    assert_eq!(ro.find_approver_owners_for_file("re/a/x.go"), "re");
    assert_eq!(ro.find_approver_owners_for_file("re/x.txt"), "");
    assert_eq!(ro.find_approver_owners_for_file("np/x.txt"), "np");
    assert_eq!(ro.approvers("np/x.txt").to_set(), set(&["flex"]));
    // A file the no-parent filter does not match still inherits.
    assert_eq!(ro.approvers("np/x.go").to_set(), set(&["root"]));
    assert!(matches!(
        ro.warnings(),
        [OwnersError::InvalidFilterRegex { path, pattern, .. }] if path == "re/a/OWNERS" && pattern == "["
    ));
}

#[test]
fn aliases_and_custom_filenames() {
    let files = [
        ("TEAMS", "aliases:\n  devs: [Dana, '@eli']\n"),
        ("OWNERS", "approvers: [nobody]\n"),
        ("OWNERS.yaml", "approvers: [devs, solo]\n"),
        ("pkg/OWNERS.yaml", "reviewers: [DEVS]\n"),
    ];
    let ro = RepoOwners::load(
        files,
        &LoadOptions {
            filenames: Filenames {
                owners: "OWNERS.yaml".to_owned(),
                owners_aliases: "TEAMS".to_owned(),
            },
            ..LoadOptions::default()
        },
    );
    assert_eq!(ro.top_level_approvers(), set(&["dana", "eli", "solo"]));
    assert_eq!(ro.leaf_reviewers("pkg/a"), set(&["dana", "eli"]));
    assert_eq!(ro.filenames().owners, "OWNERS.yaml");
}

#[test]
fn malformed_files_are_skipped_with_warnings() {
    let ro = repo(&[
        ("OWNERS_ALIASES", "aliases:\n  good: [a]\n  bad: b\n"),
        ("OWNERS", "approvers: [good]\n"),
        ("x/OWNERS", "approvers: [\n"),
        ("y/OWNERS", "approvers: yolo\n"),
    ]);
    assert_eq!(ro.top_level_approvers(), set(&["a"]));
    assert_eq!(ro.find_approver_owners_for_file("x/f"), "");
    assert_eq!(ro.find_approver_owners_for_file("y/f"), "");
    let paths: Vec<_> = ro.warnings().iter().filter_map(|w| w.path()).collect();
    assert_eq!(paths, vec!["OWNERS_ALIASES", "x/OWNERS", "y/OWNERS"]);
}

#[test]
fn collaborator_filtering() {
    let ro = load(&LoadOptions::default()).filter_collaborators(["BOB", "alice"]);
    assert_eq!(ro.leaf_approvers("src/dir/x.go"), set(&["bob"]));
    // Filtered-out approvers leave the directory without approvers.
    assert_eq!(ro.find_approver_owners_for_file("src/x.go"), "");
    assert_eq!(
        ro.reviewers("src/dir/x.go").to_set(),
        set(&["alice", "bob"])
    );
    // Required reviewers are not filtered (as in Prow).
    assert_eq!(
        ro.required_reviewers("src/dir/x.go"),
        set(&["ben", "chris"])
    );
}
