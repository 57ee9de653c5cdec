//! Parsing of `OWNERS`, `OWNERS_ALIASES` and Markdown front-matter owners.
//!
//! Prow decodes these files with `sigs.k8s.io/yaml` (YAML → JSON →
//! `encoding/json`), which shapes what is accepted: unknown keys are ignored
//! (so `emeritus_approvers` is silently dropped), keys match field names
//! case-insensitively, and scalar list items such as `123` or `true` become
//! strings. We reproduce that by decoding into a generic value and walking it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::OwnersError;
use crate::login::{norm_login, norm_logins};

/// Per-directory options of an OWNERS file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DirOptions {
    /// Stop inheriting approvers/reviewers from parent directories.
    pub no_parent_owners: bool,
    /// Changes in sub-directories without their own OWNERS need no approval.
    pub auto_approve_unowned_subfolders: bool,
}

/// Roles and labels as written in an OWNERS file (before normalisation and
/// alias expansion).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleConfig {
    /// Users or aliases allowed to `/approve`.
    pub approvers: Vec<String>,
    /// Users or aliases suggested for review.
    pub reviewers: Vec<String>,
    /// Users or aliases that must review.
    pub required_reviewers: Vec<String>,
    /// Labels applied to PRs touching the covered files.
    pub labels: Vec<String>,
}

/// The simple OWNERS form: one role set for the whole directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimpleConfig {
    /// Directory options.
    pub options: DirOptions,
    /// Roles for every file under the directory.
    pub config: RoleConfig,
}

impl SimpleConfig {
    /// Prow treats a simple config without any role or label as "maybe the
    /// full form" and re-parses it as such.
    pub fn is_empty(&self) -> bool {
        self.config.approvers.is_empty()
            && self.config.reviewers.is_empty()
            && self.config.required_reviewers.is_empty()
            && self.config.labels.is_empty()
    }
}

/// The full OWNERS form: role sets keyed by a regex on the path relative to
/// the OWNERS directory (`.*` means "every file").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FullConfig {
    /// Directory options.
    pub options: DirOptions,
    /// Pattern → roles.
    pub filters: BTreeMap<String, RoleConfig>,
}

/// An OWNERS file in whichever form Prow would have read it as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OwnersConfig {
    /// Simple form (has at least one role or label).
    Simple(SimpleConfig),
    /// Full (filters) form, also used for option-only files.
    Full(FullConfig),
}

impl OwnersConfig {
    /// The directory options, whatever the form.
    pub fn options(&self) -> DirOptions {
        match self {
            Self::Simple(s) => s.options,
            Self::Full(f) => f.options,
        }
    }
}

/// Named groups of users from `OWNERS_ALIASES`, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepoAliases(BTreeMap<String, BTreeSet<String>>);

impl RepoAliases {
    /// Aliases from an explicit map; names and members are normalised.
    pub fn from_map<I, S, M>(groups: I) -> Self
    where
        I: IntoIterator<Item = (S, M)>,
        S: AsRef<str>,
        M: IntoIterator,
        M::Item: AsRef<str>,
    {
        Self(
            groups
                .into_iter()
                .map(|(k, v)| (norm_login(k.as_ref()), norm_logins(v)))
                .collect(),
        )
    }

    /// Members of `alias`, if it is one.
    pub fn expand_alias(&self, alias: &str) -> Option<&BTreeSet<String>> {
        self.0.get(&norm_login(alias))
    }

    /// Replaces every alias in `logins` by its members (one level, as Prow:
    /// aliases do not nest).
    pub fn expand_aliases(&self, logins: &BTreeSet<String>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for login in logins {
            match self.expand_alias(login) {
                Some(members) => out.extend(members.iter().cloned()),
                None => {
                    out.insert(login.clone());
                }
            }
        }
        out
    }

    /// Union of all alias members.
    pub fn expand_all(&self) -> BTreeSet<String> {
        self.0.values().flatten().cloned().collect()
    }

    /// The alias map.
    pub fn groups(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.0
    }

    /// Whether no alias is defined.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ---------------------------------------------------------------------------
// Generic YAML access
// ---------------------------------------------------------------------------

/// Decodes one YAML document into a generic value. Only the first document
/// counts, as with Go's yaml decoder.
fn load_yaml(path: &str, text: &str) -> Result<Value, OwnersError> {
    let yaml_err = |message: String| OwnersError::Yaml {
        path: path.to_owned(),
        message,
    };
    let mut opts = serde_saphyr::Options::default();
    opts.with_snippet = false;
    // Keep `0123`/`1_000` spellings as written: they are logins, not numbers.
    opts.leading_zero_numbers_as_strings = true;
    opts.underscored_numbers_as_strings = true;
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, opts)
        .map_err(|e| yaml_err(e.to_string()))?;
    Ok(docs.into_iter().next().unwrap_or(Value::Null))
}

fn schema(path: &str, message: String) -> OwnersError {
    OwnersError::Schema {
        path: path.to_owned(),
        message,
    }
}

/// A JSON-ish object or null (`None`); anything else is a type error.
fn as_object<'a>(
    path: &str,
    what: &str,
    v: &'a Value,
) -> Result<Option<&'a Map<String, Value>>, OwnersError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        other => Err(schema(
            path,
            format!("{what}: expected a mapping, found {}", kind(other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Field lookup as `encoding/json` does it: exact key first, then ASCII
/// case-insensitive.
fn field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A list of strings; scalars are stringified and null items become `""`
/// like `sigs.k8s.io/yaml` does for string targets.
fn string_list(path: &str, what: &str, v: Option<&Value>) -> Result<Vec<String>, OwnersError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Null => Ok(String::new()),
                other => Err(schema(
                    path,
                    format!("{what}: list items must be strings, found {}", kind(other)),
                )),
            })
            .collect(),
        Some(other) => Err(schema(
            path,
            format!("{what}: expected a list, found {}", kind(other)),
        )),
    }
}

fn bool_field(path: &str, what: &str, v: Option<&Value>) -> Result<bool, OwnersError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(schema(
            path,
            format!("{what}: expected a boolean, found {}", kind(other)),
        )),
    }
}

fn parse_options(path: &str, m: &Map<String, Value>) -> Result<DirOptions, OwnersError> {
    let Some(opts) = field(m, "options") else {
        return Ok(DirOptions::default());
    };
    let Some(opts) = as_object(path, "options", opts)? else {
        return Ok(DirOptions::default());
    };
    Ok(DirOptions {
        no_parent_owners: bool_field(
            path,
            "options.no_parent_owners",
            field(opts, "no_parent_owners"),
        )?,
        auto_approve_unowned_subfolders: bool_field(
            path,
            "options.auto_approve_unowned_subfolders",
            field(opts, "auto_approve_unowned_subfolders"),
        )?,
    })
}

fn parse_roles(
    path: &str,
    prefix: &str,
    m: &Map<String, Value>,
) -> Result<RoleConfig, OwnersError> {
    let list = |name: &str| string_list(path, &format!("{prefix}{name}"), field(m, name));
    Ok(RoleConfig {
        approvers: list("approvers")?,
        reviewers: list("reviewers")?,
        required_reviewers: list("required_reviewers")?,
        labels: list("labels")?,
    })
}

// ---------------------------------------------------------------------------
// Public parsers
// ---------------------------------------------------------------------------

/// Parses `text` strictly as the simple OWNERS form. `path` only labels errors.
pub fn parse_simple_config(path: &str, text: &str) -> Result<SimpleConfig, OwnersError> {
    let v = load_yaml(path, text)?;
    let Some(m) = as_object(path, "document", &v)? else {
        return Ok(SimpleConfig::default());
    };
    Ok(SimpleConfig {
        options: parse_options(path, m)?,
        config: parse_roles(path, "", m)?,
    })
}

/// Parses `text` strictly as the full (filters) OWNERS form.
pub fn parse_full_config(path: &str, text: &str) -> Result<FullConfig, OwnersError> {
    let v = load_yaml(path, text)?;
    let Some(m) = as_object(path, "document", &v)? else {
        return Ok(FullConfig::default());
    };
    let options = parse_options(path, m)?;
    let mut filters = BTreeMap::new();
    if let Some(f) = field(m, "filters")
        && let Some(f) = as_object(path, "filters", f)?
    {
        for (pattern, roles) in f {
            let what = format!("filters[{pattern:?}]");
            let roles = match as_object(path, &what, roles)? {
                Some(r) => parse_roles(path, &format!("{what}."), r)?,
                None => RoleConfig::default(),
            };
            filters.insert(pattern.clone(), roles);
        }
    }
    Ok(FullConfig { options, filters })
}

/// Parses an OWNERS file the way Prow's loader does: as the simple form, and
/// if that fails or yields no roles/labels, as the full form. The error is the
/// full-form error when neither reading works.
pub fn parse_owners_file(path: &str, text: &str) -> Result<OwnersConfig, OwnersError> {
    match parse_simple_config(path, text) {
        Ok(simple) if !simple.is_empty() => Ok(OwnersConfig::Simple(simple)),
        _ => parse_full_config(path, text).map(OwnersConfig::Full),
    }
}

/// Parses `OWNERS_ALIASES`, failing on the first malformed group.
pub fn parse_aliases(path: &str, text: &str) -> Result<RepoAliases, OwnersError> {
    let (aliases, errors) = parse_aliases_lenient(path, text);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(aliases),
    }
}

/// Parses `OWNERS_ALIASES`, keeping every well-formed group and reporting the
/// malformed ones. Prow keeps whatever it decoded before hitting an error (in
/// random map order); keeping all valid groups is the deterministic superset.
pub(crate) fn parse_aliases_lenient(path: &str, text: &str) -> (RepoAliases, Vec<OwnersError>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let v = match load_yaml(path, text) {
        Ok(v) => v,
        Err(e) => return (RepoAliases(out), vec![e]),
    };
    let groups = match as_object(path, "document", &v)
        .map(|m| m.and_then(|m| field(m, "aliases")))
        .and_then(|g| match g {
            Some(g) => as_object(path, "aliases", g),
            None => Ok(None),
        }) {
        Ok(Some(g)) => g,
        Ok(None) => return (RepoAliases(out), errors),
        Err(e) => return (RepoAliases(out), vec![e]),
    };
    for (alias, members) in groups {
        let parsed: Result<BTreeSet<String>, OwnersError> = match members {
            Value::Array(items) => items
                .iter()
                .map(|m| match m {
                    Value::String(s) => Ok(norm_login(s)),
                    other => Err(schema(
                        path,
                        format!(
                            "alias group '{alias}': unexpected member type {}",
                            kind(other)
                        ),
                    )),
                })
                .collect(),
            // Flow style `{a, b}` is a mapping whose keys are the members.
            Value::Object(m) => Ok(m.keys().map(|k| norm_login(k)).collect()),
            Value::Null => Ok(BTreeSet::new()),
            Value::String(_) => Err(schema(
                path,
                format!("alias group '{alias}' must contain a list of members"),
            )),
            other => Err(schema(
                path,
                format!("alias group '{alias}': unexpected type {}", kind(other)),
            )),
        };
        match parsed {
            Ok(set) => {
                out.insert(norm_login(alias), set);
            }
            Err(e) => errors.push(e),
        }
    }
    (RepoAliases(out), errors)
}

/// The YAML front matter of a Markdown file, if it has one.
///
/// Prow matches `^---\n(.|\n)*\n---` and decodes the first YAML document of
/// the match. We return that first document's body: the text after the
/// opening `---` line up to the next document marker.
pub fn md_front_matter(text: &str) -> Option<&str> {
    let body = text.strip_prefix("---\n")?;
    // The regex needs a later "\n---" whose newline is not the opening one.
    body.find("\n---")?;
    let mut end = body.len();
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let is_marker = content == "..."
            || content
                .strip_prefix("---")
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']));
        if is_marker {
            end = offset;
            break;
        }
        offset += line.len();
    }
    Some(&body[..end])
}

/// Parses the front-matter owners of a Markdown file (simple form only).
/// A file without front matter yields an empty config, as in Prow.
pub fn parse_md_owners(path: &str, text: &str) -> Result<SimpleConfig, OwnersError> {
    match md_front_matter(text) {
        Some(meta) => parse_simple_config(path, meta),
        None => Ok(SimpleConfig::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_edge_cases() {
        assert_eq!(load_yaml("p", "").unwrap(), Value::Null);
        assert_eq!(load_yaml("p", "# only a comment\n").unwrap(), Value::Null);
        let v = load_yaml("p", "a: [yes, 0123, 1_0, 12]\n---\nb: 1\n").unwrap();
        assert_eq!(v, serde_json::json!({"a": [true, "0123", "1_0", 12]}));
        assert!(load_yaml("p", "a: b\na: c\n").is_err());
        assert!(load_yaml("p", "a: [").is_err());
    }

    #[test]
    fn front_matter() {
        assert_eq!(
            md_front_matter("---\napprovers: [a]\n---\n# t\n"),
            Some("approvers: [a]\n")
        );
        assert_eq!(md_front_matter("# title\n---\n"), None);
        assert_eq!(md_front_matter("---\nno close"), None);
        // Later horizontal rules do not extend the document.
        assert_eq!(
            md_front_matter("---\nx: 1\n---\ntext\n---\nmore"),
            Some("x: 1\n")
        );
    }
}
