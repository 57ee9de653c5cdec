//! OWNERS handling. Input: up to three parts separated by a `#====` line: the root `OWNERS`,
//! `OWNERS_ALIASES`, and a file used both as `sub/OWNERS` and as `sub/doc.md` (front matter).
//! Each file is parsed alone, then the tree is loaded and queried the way the approve and
//! blunderbuss plugins query it.

use prow_owners as o;

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "\n#====\n",
    "approvers:\n",
    "reviewers:\n",
    "required_reviewers:\n",
    "labels:\n",
    "emeritus_approvers:\n",
    "options:\n  no_parent_owners: true\n",
    "  auto_approve_unowned_subfolders: true\n",
    "filters:\n",
    "  \".*\":\n",
    "  \"\\\\.go$\":\n",
    "  \"[\":\n",
    "aliases:\n",
    "  team:\n",
    "- ",
    "  - ",
    "    - ",
    "alice",
    "@Bob",
    "team",
    "sig-x-leads",
    "---\n",
    "\n---\n",
    "&a ",
    "*a",
    "<<: *a",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "~",
    "true",
    "(?i)",
    "\\pL",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = super::text(data);
    let parts = crate::split_parts(&text, 3);
    let owners = parts[0];
    let aliases = parts.get(1).copied().unwrap_or("");
    let sub = parts.get(2).copied().unwrap_or("");

    let _ = o::parse_owners_file("OWNERS", owners);
    let _ = o::parse_simple_config("OWNERS", owners);
    let _ = o::parse_full_config("OWNERS", owners);
    if let Ok(a) = o::parse_aliases("OWNERS_ALIASES", aliases) {
        let _ = a.expand_all();
    }
    if let Some(front) = o::md_front_matter(sub) {
        // The front matter is a slice of the document.
        assert!(front.len() <= sub.len());
    }
    let _ = o::parse_md_owners("sub/doc.md", sub);

    for enable_md_yaml in [false, true] {
        let opts = o::LoadOptions {
            enable_md_yaml,
            ..Default::default()
        };
        let repo = o::RepoOwners::load(
            [
                ("OWNERS", owners),
                ("OWNERS_ALIASES", aliases),
                ("sub/OWNERS", sub),
                ("sub/doc.md", sub),
            ],
            &opts,
        );
        for path in ["sub/doc.md", "sub/x/y.go", "README.md", "", "sub"] {
            let _ = repo.approvers(path);
            let _ = repo.reviewers(path);
            let _ = repo.leaf_approvers(path);
            let _ = repo.leaf_reviewers(path);
            let _ = repo.required_reviewers(path);
            let _ = repo.find_labels_for_file(path);
            let _ = repo.find_approver_owners_for_file(path);
            let _ = repo.find_reviewers_owners_for_file(path);
            let _ = repo.is_no_parent_owners(path);
            let _ = repo.dir_options(path);
        }
        let _ = repo.warnings();
    }
}
