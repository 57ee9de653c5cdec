//! `--strict`: report YAML keys our types do not know, with their line and column.
//!
//! Serde silently drops unknown keys (Prow's loader does too, unless strict). To find them we
//! parse the file a second time into a position-carrying tree and walk it against the JSON schema
//! derived from the same Rust types, so the list of known fields cannot drift from the code.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::error::ConfigError;

/// A YAML node with positions on every child.
#[derive(Debug)]
pub(crate) enum Node {
    Scalar(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Scalar(v.to_string()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
                Ok(Node::Scalar(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar(String::new()))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = a.next_element::<Spanned<Node>>()? {
                    items.push(x);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = a.next_entry::<Spanned<Node>, Spanned<Node>>()? {
                    entries.push((k, v));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
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
    node: &Spanned<Node>,
    file: &str,
    path: &str,
    out: &mut Vec<ConfigError>,
) {
    match &node.value {
        Node::Scalar(_) => {}
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
                let key = match &k.value {
                    Node::Scalar(text) => text.as_str(),
                    _ => continue,
                };
                let child_path = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
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
                        line: k.referenced.line(),
                        col: k.referenced.column(),
                        message: format!("unknown field \"{key}\" (at {child_path})"),
                    });
                }
            }
        }
    }
}

/// Every key in `text` that the schema does not declare.
pub(crate) fn unknown_fields(schema: &Value, file: &str, text: &str) -> Vec<ConfigError> {
    let node: Spanned<Node> = match serde_saphyr::from_str(text) {
        Ok(n) => n,
        // Syntax errors are reported by the typed parse; nothing more to add here.
        Err(_) => return Vec::new(),
    };
    let mut out = Vec::new();
    walk(schema, schema, &node, file, "", &mut out);
    out
}
