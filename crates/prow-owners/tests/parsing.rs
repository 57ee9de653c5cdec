//! OWNERS / OWNERS_ALIASES / front-matter parsing.

use prow_owners::{
    DirOptions, OwnersConfig, OwnersError, RoleConfig, md_front_matter, parse_aliases,
    parse_full_config, parse_md_owners, parse_owners_file, parse_simple_config,
};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn simple_form_table() {
    struct Case {
        name: &'static str,
        text: &'static str,
        options: DirOptions,
        approvers: &'static [&'static str],
        reviewers: &'static [&'static str],
        required: &'static [&'static str],
        labels: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "all fields",
            text: "options:\n  no_parent_owners: true\napprovers:\n- Alice\n- '@bob'\nreviewers: [carol]\nrequired_reviewers: [dave]\nlabels: [sig/foo]\nemeritus_approvers: [old]\n",
            options: DirOptions {
                no_parent_owners: true,
                auto_approve_unowned_subfolders: false,
            },
            approvers: &["Alice", "@bob"],
            reviewers: &["carol"],
            required: &["dave"],
            labels: &["sig/foo"],
        },
        Case {
            name: "auto approve option only",
            text: "options: {auto_approve_unowned_subfolders: true}\n",
            options: DirOptions {
                no_parent_owners: false,
                auto_approve_unowned_subfolders: true,
            },
            approvers: &[],
            reviewers: &[],
            required: &[],
            labels: &[],
        },
        Case {
            name: "empty file",
            text: "",
            options: DirOptions::default(),
            approvers: &[],
            reviewers: &[],
            required: &[],
            labels: &[],
        },
        Case {
            name: "keys match case-insensitively and scalars become strings",
            text: "Approvers: [123, true]\n",
            options: DirOptions::default(),
            approvers: &["123", "true"],
            reviewers: &[],
            required: &[],
            labels: &[],
        },
    ];
    for c in cases {
        let got =
            parse_simple_config("x/OWNERS", c.text).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(got.options, c.options, "{}", c.name);
        assert_eq!(
            got.config,
            RoleConfig {
                approvers: strings(c.approvers),
                reviewers: strings(c.reviewers),
                required_reviewers: strings(c.required),
                labels: strings(c.labels),
            },
            "{}",
            c.name
        );
    }
}

#[test]
fn full_form() {
    let text = r#"
options:
  no_parent_owners: true
filters:
  ".*":
    approvers: [root-ish]
  "\\.go$":
    approvers: [gopher]
    labels: [lang/go]
  "docs/.*": ~
"#;
    let full = parse_full_config("pkg/OWNERS", text).unwrap();
    assert!(full.options.no_parent_owners);
    assert_eq!(full.filters.len(), 3);
    assert_eq!(full.filters[".*"].approvers, strings(&["root-ish"]));
    assert_eq!(full.filters["\\.go$"].labels, strings(&["lang/go"]));
    assert_eq!(full.filters["docs/.*"], RoleConfig::default());

    // The loader's combined reading: no roles at top level ⇒ full form.
    match parse_owners_file("pkg/OWNERS", text).unwrap() {
        OwnersConfig::Full(f) => assert_eq!(f, full),
        other => panic!("expected full form, got {other:?}"),
    }
    match parse_owners_file(
        "OWNERS",
        "approvers: [a]\nfilters: {'.*': {approvers: [b]}}\n",
    )
    .unwrap()
    {
        OwnersConfig::Simple(s) => assert_eq!(s.config.approvers, strings(&["a"])),
        other => panic!("simple form wins when it has roles, got {other:?}"),
    }
}

#[test]
fn errors_carry_the_path() {
    let cases: &[(&str, &str)] = &[
        ("bad yaml", "approvers: [a\n"),
        ("scalar approvers", "approvers: alice\n"),
        ("mapping approvers", "approvers: {a: b}\n"),
        ("options not a map", "options: [1]\n"),
        ("non-bool option", "options: {no_parent_owners: \"true\"}\n"),
        ("document is a list", "- a\n- b\n"),
        ("duplicate keys", "approvers: [a]\napprovers: [b]\n"),
    ];
    for (name, text) in cases {
        let err = parse_simple_config("dir/OWNERS", text).expect_err(name);
        assert_eq!(err.path(), Some("dir/OWNERS"), "{name}");
        assert!(err.to_string().starts_with("dir/OWNERS: "), "{name}: {err}");
    }
    // `approvers: alice` fails the simple form but, as in Prow, reads fine as
    // an (empty) full form.
    assert!(matches!(
        parse_owners_file("OWNERS", "approvers: alice\n"),
        Ok(OwnersConfig::Full(f)) if f.filters.is_empty()
    ));
    assert!(matches!(
        parse_full_config("OWNERS", "filters: {'.*': [a]}\n"),
        Err(OwnersError::Schema { .. })
    ));
}

#[test]
fn aliases() {
    let text = "aliases:\n  Sig-Foo:\n  - Alice\n  - '@BOB'\n  empty:\n  flow: {carol, dave}\n";
    let a = parse_aliases("OWNERS_ALIASES", text).unwrap();
    assert_eq!(
        a.expand_alias("sig-foo").cloned(),
        Some(common_set(&["alice", "bob"]))
    );
    assert_eq!(a.expand_alias("@SIG-FOO").map(|s| s.len()), Some(2));
    assert_eq!(a.expand_alias("empty").map(|s| s.len()), Some(0));
    assert_eq!(
        a.expand_alias("flow").cloned(),
        Some(common_set(&["carol", "dave"]))
    );
    assert_eq!(
        a.expand_all(),
        common_set(&["alice", "bob", "carol", "dave"])
    );
    let expanded = a.expand_aliases(&common_set(&["sig-foo", "eve"]));
    assert_eq!(expanded, common_set(&["alice", "bob", "eve"]));

    for bad in [
        "aliases: {g: alice}\n",
        "aliases: {g: [1]}\n",
        "aliases: [a]\n",
        "aliases: {g: 3}\n",
    ] {
        let e = parse_aliases("OWNERS_ALIASES", bad).expect_err(bad);
        assert_eq!(e.path(), Some("OWNERS_ALIASES"));
    }
    assert!(parse_aliases("OWNERS_ALIASES", "").unwrap().is_empty());
}

fn common_set(v: &[&str]) -> std::collections::BTreeSet<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn markdown_front_matter() {
    let md = "---\napprovers:\n- Doc\nlabels: [area/docs]\n---\n# Title\n\n---\nrule\n---\n";
    assert_eq!(
        md_front_matter(md),
        Some("approvers:\n- Doc\nlabels: [area/docs]\n")
    );
    let cfg = parse_md_owners("docs/README.md", md).unwrap();
    assert_eq!(cfg.config.approvers, strings(&["Doc"]));
    // No front matter (or not at the very start) ⇒ empty config, not an error.
    assert!(
        parse_md_owners("a.md", "# t\n---\nx: 1\n---\n")
            .unwrap()
            .is_empty()
    );
    assert!(
        parse_md_owners("a.md", "---\r\nx: 1\r\n---\r\n")
            .unwrap()
            .is_empty()
    );
    assert!(parse_md_owners("a.md", "---\napprovers: x\n---\n").is_err());
}
