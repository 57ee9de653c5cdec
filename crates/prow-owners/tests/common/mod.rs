//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use prow_owners::{LoadOptions, NotificationLinks, RepoOwners};

/// Loads a repository from `(path, contents)` pairs with default options.
pub fn repo(files: &[(&str, &str)]) -> RepoOwners {
    RepoOwners::load(files.iter().copied(), &LoadOptions::default())
}

/// A repository whose `dir/OWNERS` files list the given approvers (simple form).
pub fn approvers_tree(dirs: &[(&str, &[&str])]) -> RepoOwners {
    let files: Vec<(String, String)> = dirs
        .iter()
        .map(|(dir, users)| {
            let path = if dir.is_empty() {
                "OWNERS".to_owned()
            } else {
                format!("{dir}/OWNERS")
            };
            (path, format!("approvers: [{}]\n", users.join(", ")))
        })
        .collect();
    RepoOwners::load(files, &LoadOptions::default())
}

/// A fixed instant `secs` seconds after an arbitrary epoch.
pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or_default()
}

/// Links on example.com hosts.
pub fn links() -> NotificationLinks {
    NotificationLinks {
        link_url: "https://git.example.com".to_owned(),
        command_help_link: "https://prow.example.com/command-help".to_owned(),
        pr_process_link: "https://docs.example.com/owners.md#the-code-review-process".to_owned(),
        profile_base_url: "https://git.example.com".to_owned(),
    }
}

/// Sorted owned strings.
pub fn set(items: &[&str]) -> std::collections::BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
