//! The targets, one module per input surface.

use crate::Target;

pub mod commands;
pub mod config;
pub mod gotemplate;
pub mod junit;
pub mod owners;
pub mod spyglass_key;
pub mod storage_key;
pub mod webhook;

/// Every target (see [`crate::all`]).
pub const ALL: &[Target] = &[
    Target {
        name: "webhook",
        about: "hook intake: X-GitHub-Event + headers + JSON body (prow_hook::intake::validate, prow_github::events::parse)",
        run: webhook::run,
        dict: webhook::DICT,
    },
    Target {
        name: "commands",
        about: "comment command grammar (prow_commands::*), Go regex translation",
        run: commands::run,
        dict: commands::DICT,
    },
    Target {
        name: "config",
        about: "config.yaml + job config + plugins.yaml (prow_config::load, load_plugins)",
        run: config::run,
        dict: config::DICT,
    },
    Target {
        name: "owners",
        about: "OWNERS, OWNERS_ALIASES and *.md front matter (prow_owners)",
        run: owners::run,
        dict: owners::DICT,
    },
    Target {
        name: "gotemplate",
        about: "plank.job_url_template: Go template parse + render over a ProwJob",
        run: gotemplate::run,
        dict: gotemplate::DICT,
    },
    Target {
        name: "junit",
        about: "JUnit XML (prow_spyglass::junit::parse, dedupe, view render)",
        run: junit::run,
        dict: junit::DICT,
    },
    Target {
        name: "spyglass_key",
        about: "/view/<key> parsing (prow_spyglass::BucketPolicy::parse, path_info)",
        run: spyglass_key::run,
        dict: spyglass_key::DICT,
    },
    Target {
        name: "storage_key",
        about: "object keys and prefixes (prow_storage::key::validate_key, validate_prefix)",
        run: storage_key::run,
        dict: storage_key::DICT,
    },
];

/// Byte-exact UTF-8 view of the input: invalid sequences become U+FFFD, so every input
/// reaches the text parsers (the HTTP layers reject non-UTF-8 earlier or decode lossily too).
pub(crate) fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}
