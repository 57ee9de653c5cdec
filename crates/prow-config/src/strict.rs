//! `--strict`: report YAML keys our types do not know, with their line and column.
//!
//! Serde silently drops unknown keys (Prow's loader does too, unless strict). To find them we
//! parse the file a second time into a tree of keys with their positions (straight from the YAML
//! parser's events, which is cheap enough to do on every load) and walk it against the JSON
//! schema derived from the same Rust types, so the list of known fields cannot drift from the
//! code. Without `--strict` what is found is logged as warnings.

use schemars::JsonSchema;
use serde_json::Value;

use crate::error::ConfigError;

/// A map key: its text when it is a scalar (`None` for a sequence or map used as a key), and
/// where it starts (1-based line and column, as in the loader's other errors).
#[derive(Clone, Debug)]
pub(crate) struct Key {
    text: Option<String>,
    line: u64,
    col: u64,
}

/// A YAML node as the walk needs it: the tree's shape, and for map keys their text and
/// position. Values' text is not kept.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Scalar,
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// Deeper documents are not checked (real configs nest ~15 levels; the walk recurses).
const MAX_DEPTH: usize = 256;
/// Nodes aliases may copy in one document (YAML "billion laughs"); beyond it, not checked.
const MAX_ALIAS_NODES: usize = 1_000_000;

enum Frame {
    Seq {
        anchor: usize,
        size: usize,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        size: usize,
        entries: Vec<(Key, Node)>,
        key: Option<Key>,
    },
}

/// A finished node on its way to its parent.
struct Done {
    node: Node,
    /// The text, for a scalar that becomes a key.
    text: Option<String>,
    /// Nodes in the subtree.
    size: usize,
}

/// The first document of `text` as a [`Node`] tree, straight from the YAML parser's events:
/// aliases are expanded and `<<` merge keys merged as serde-saphyr does for the typed parse.
/// (Through serde, with positions, this second parse cost as much as the typed one; the events
/// cost a fraction of it, and it runs on every load.) `None` for a syntax error (the typed
/// parse reports those), or a document too deep or too alias-heavy to walk.
pub(crate) fn parse_tree(text: &str) -> Option<Node> {
    use granit_parser::{Event, Parser};
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: std::collections::HashMap<usize, (Node, Option<String>, usize)> =
        std::collections::HashMap::new();
    let mut copied = 0usize;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.ok()?;
        let line = span.start.line() as u64;
        let col = span.start.col() as u64 + 1;
        let done = match ev {
            Event::Scalar(value, _, anchor, _) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                let text = (is_key || anchor != 0).then(|| value.into_owned());
                if anchor != 0 {
                    anchors.insert(anchor, (Node::Scalar, text.clone(), 1));
                }
                Done {
                    node: Node::Scalar,
                    text,
                    size: 1,
                }
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        anchor,
                        size: 1,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        anchor,
                        size: 1,
                        entries: Vec::new(),
                        key: None,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, size) = match stack.pop()? {
                    Frame::Seq {
                        anchor,
                        size,
                        items,
                    } => (Node::Seq(items), anchor, size),
                    Frame::Map {
                        anchor,
                        size,
                        entries,
                        ..
                    } => (Node::Map(entries), anchor, size),
                };
                if anchor != 0 {
                    anchors.insert(anchor, (node.clone(), None, size));
                }
                Done {
                    node,
                    text: None,
                    size,
                }
            }
            Event::Alias(id) => {
                let (node, text, size) =
                    anchors.get(&id).cloned().unwrap_or((Node::Scalar, None, 1));
                copied += size;
                if copied > MAX_ALIAS_NODES {
                    return None;
                }
                Done { node, text, size }
            }
            _ => continue,
        };
        match stack.last_mut() {
            // The first document's root: done.
            None => return Some(done.node),
            Some(Frame::Seq { items, size, .. }) => {
                *size += done.size;
                items.push(done.node);
            }
            Some(Frame::Map {
                entries, key, size, ..
            }) => {
                *size += done.size;
                match key.take() {
                    None => {
                        *key = Some(Key {
                            text: done.text,
                            line,
                            col,
                        });
                    }
                    // `<<: *base` / `<<: [*a, *b]`: the anchored maps' keys belong here.
                    Some(k) if k.text.as_deref() == Some("<<") => match done.node {
                        Node::Map(merged) => entries.extend(merged),
                        Node::Seq(list) if list.iter().all(|n| matches!(n, Node::Map(_))) => {
                            for n in list {
                                if let Node::Map(merged) = n {
                                    entries.extend(merged);
                                }
                            }
                        }
                        other => entries.push((k, other)),
                    },
                    Some(k) => entries.push((k, done.node)),
                }
            }
        }
    }
    None
}

/// The schema of the main config file, built once per process (the loader runs on every
/// reload).
pub(crate) fn config_file_schema() -> &'static Value {
    static S: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    S.get_or_init(schema_for::<crate::ConfigFileSchema>)
}

/// The schema of a job-config file, built once per process.
pub(crate) fn job_file_schema() -> &'static Value {
    static S: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    S.get_or_init(schema_for::<crate::jobs::JobConfig>)
}

/// The schema of `plugins.yaml`, built once per process.
fn plugins_schema() -> &'static Value {
    static S: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    S.get_or_init(schema_for::<crate::plugins::PluginsConfig>)
}

/// The schema of `T` with definitions kept separate so `$ref`s can be followed.
pub(crate) fn schema_for<T: JsonSchema>() -> Value {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    serde_json::to_value(schema).unwrap_or(Value::Bool(true))
}

fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    // Follow `$ref` chains (bounded, in case of a cycle).
    for _ in 0..16 {
        let Some(r) = s.get("$ref").and_then(Value::as_str) else {
            return s;
        };
        let Some(name) = r.strip_prefix("#/$defs/") else {
            return s;
        };
        match root.get("$defs").and_then(|d| d.get(name)) {
            Some(next) => s = next,
            None => return s,
        }
    }
    s
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Map,
    Seq,
}

fn accepts(root: &Value, s: &Value, kind: Kind) -> bool {
    let s = resolve(root, s);
    let ty = s.get("type");
    let has = |t: &str| match ty {
        Some(Value::String(x)) => x == t,
        Some(Value::Array(xs)) => xs.iter().any(|x| x == t),
        _ => false,
    };
    match kind {
        Kind::Map => {
            has("object")
                || s.get("properties").is_some()
                || s.get("additionalProperties").is_some()
        }
        Kind::Seq => has("array") || s.get("items").is_some(),
    }
}

/// Properties (with `allOf` merged) and whether unknown keys are allowed.
fn object_shape<'a>(
    root: &'a Value,
    s: &'a Value,
) -> (Vec<(&'a str, &'a Value)>, Option<&'a Value>, bool) {
    let s = resolve(root, s);
    let mut props = Vec::new();
    let mut additional = None;
    let mut open = false;
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        props.extend(p.iter().map(|(k, v)| (k.as_str(), v)));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(true)) => open = true,
        Some(v @ Value::Object(_)) => additional = Some(v),
        _ => {}
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            let (p, a, o) = object_shape(root, sub);
            props.extend(p);
            additional = additional.or(a);
            open |= o;
        }
    }
    if props.is_empty() && additional.is_none() {
        // A schema that lists no properties at all (e.g. `true`, opaque values) is open.
        open = true;
    }
    (props, additional, open)
}

fn branch<'a>(root: &'a Value, s: &'a Value, kind: Kind) -> Option<&'a Value> {
    let s = resolve(root, s);
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            return alts.iter().find(|a| accepts(root, a, kind));
        }
    }
    Some(s)
}

fn walk(
    root: &Value,
    schema: &Value,
    node: &Node,
    file: &str,
    path: &str,
    out: &mut Vec<ConfigError>,
) {
    match node {
        Node::Scalar => {}
        Node::Seq(items) => {
            let Some(s) = branch(root, schema, Kind::Seq) else {
                return;
            };
            let s = resolve(root, s);
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(root, item_schema, item, file, &format!("{path}[{i}]"), out);
                }
            }
        }
        Node::Map(entries) => {
            let Some(s) = branch(root, schema, Kind::Map) else {
                return;
            };
            let (props, additional, open) = object_shape(root, s);
            for (k, v) in entries {
                let Some(key) = k.text.as_deref() else {
                    continue;
                };
                // Built per key: walking a large job config makes many of these, so keep it
                // one allocation (no `format!` machinery).
                let child_path = if path.is_empty() {
                    key.to_string()
                } else {
                    let mut p = String::with_capacity(path.len() + 1 + key.len());
                    p.push_str(path);
                    p.push('.');
                    p.push_str(key);
                    p
                };
                // Go's encoding/json (under Prow's YAML loader) matches field names
                // case-insensitively, so `NAME:` is a known field to Prow's strict mode too.
                let found = props.iter().find(|(name, _)| *name == key).or_else(|| {
                    props
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(key))
                });
                if let Some((_, ps)) = found {
                    walk(root, ps, v, file, &child_path, out);
                } else if let Some(a) = additional {
                    walk(root, a, v, file, &child_path, out);
                } else if !open {
                    out.push(ConfigError {
                        file: file.to_string(),
                        line: k.line,
                        col: k.col,
                        message: format!("unknown field \"{key}\" (at {child_path})"),
                    });
                }
            }
        }
    }
}

/// Every key in `text` that the schema does not declare.
pub(crate) fn unknown_fields(schema: &Value, file: &str, text: &str) -> Vec<ConfigError> {
    // Syntax errors are reported by the typed parse; nothing more to add here.
    let Some(node) = parse_tree(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(schema, schema, &node, file, "", &mut out);
    out
}

/// Looks for unknown keys on a second thread while the caller does the typed parse, so a load
/// on two or more cores takes no longer for it. Falls back to checking inline when no thread
/// can be started.
pub(crate) struct Checker {
    tx: Option<std::sync::mpsc::Sender<(&'static Value, String, std::sync::Arc<str>)>>,
    worker: Option<std::thread::JoinHandle<Vec<ConfigError>>>,
    inline: Vec<ConfigError>,
}

impl Checker {
    pub(crate) fn start() -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<(&'static Value, String, std::sync::Arc<str>)>();
        let worker = std::thread::Builder::new()
            .name("config-unknown-fields".into())
            .spawn(move || {
                let mut out = Vec::new();
                for (schema, file, text) in rx {
                    out.extend(unknown_fields(schema, &file, &text));
                }
                out
            })
            .ok();
        Checker {
            tx: worker.is_some().then_some(tx),
            worker,
            inline: Vec::new(),
        }
    }

    /// Queues `text` (of `file`) to be checked against `schema`.
    pub(crate) fn check(&mut self, schema: &'static Value, file: &str, text: &std::sync::Arc<str>) {
        let queued = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send((schema, file.to_owned(), text.clone())).is_ok());
        if !queued {
            self.inline.extend(unknown_fields(schema, file, text));
        }
    }

    /// Every unknown key found, in the order the files were queued.
    pub(crate) fn finish(mut self) -> Vec<ConfigError> {
        drop(self.tx.take());
        let mut out = self
            .worker
            .take()
            .and_then(|w| w.join().ok())
            .unwrap_or_default();
        out.append(&mut self.inline);
        out
    }
}

/// Unknown keys of `plugins.yaml`: top-level sections Prow does not know (the per-plugin
/// sections are kept as opaque YAML), and unknown keys inside the typed parts (`plugins`,
/// `external_plugins`).
pub(crate) fn unknown_plugin_fields(file: &str, text: &str) -> Vec<ConfigError> {
    let Some(node) = parse_tree(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let schema = plugins_schema();
    walk(schema, schema, &node, file, "", &mut out);
    if let Node::Map(entries) = &node {
        for (k, _) in entries {
            let Some(key) = &k.text else {
                continue;
            };
            let known = matches!(key.as_str(), "plugins" | "external_plugins")
                || crate::plugins::KNOWN_SECTIONS.contains(&key.as_str());
            if !known {
                out.push(ConfigError {
                    file: file.to_string(),
                    line: k.line,
                    col: k.col,
                    message: format!("unknown field \"{key}\""),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_merge_keys_are_followed() {
        let text = "periodics:\n- &p\n  name: a\n  interval: 1h\n  typo_one: x\n\
                    - <<: *p\n  name: b\n  typo_two: y\n";
        let shown: Vec<String> = unknown_fields(job_file_schema(), "j.yaml", text)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "j.yaml:5:3: unknown field \"typo_one\" (at periodics[0].typo_one)",
                "j.yaml:5:3: unknown field \"typo_one\" (at periodics[1].typo_one)",
                "j.yaml:8:3: unknown field \"typo_two\" (at periodics[1].typo_two)",
            ],
            "{shown:#?}"
        );
    }

    #[test]
    fn hostile_documents_are_skipped_not_expanded() {
        // Ten levels of ten aliases each: 10^10 nodes if expanded.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let list = [prev.as_str(); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{list}]\n"));
        }
        let t = std::time::Instant::now();
        assert!(parse_tree(&bomb).is_none());
        assert!(t.elapsed() < std::time::Duration::from_secs(30));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_tree(&deep).is_none());
        assert!(unknown_fields(job_file_schema(), "d.yaml", &deep).is_empty());
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_tree(&ok).is_some());
    }

    #[test]
    fn plugin_sections_and_typed_parts_are_checked_with_positions() {
        let text = "plugins:\n  acme:\n    plugins: [lgtm]\n    plugins_typo: [x]\n\
                    lgtm:\n- repos: [acme]\nbogus_section: {}\n";
        let errs = unknown_plugin_fields("plugins.yaml", text);
        let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "plugins.yaml:4:5: unknown field \"plugins_typo\" (at plugins.acme.plugins_typo)",
                "plugins.yaml:7:1: unknown field \"bogus_section\"",
            ],
            "{shown:#?}"
        );
        assert!(unknown_plugin_fields("p.yaml", "plugins: {}\nlgtm: []\n").is_empty());
        assert!(unknown_plugin_fields("p.yaml", "plugins: [unclosed").is_empty());
    }
}
