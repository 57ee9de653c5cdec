//! Label and field selectors with the API server's syntax.

use serde_json::Value;

use crate::resource::ResourceDef;
use crate::status::ApiError;

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed `labelSelector` (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<LabelReq>,
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn bad(sel: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "unable to parse requirement: {why} (selector {sel:?})"
    ))
}

/// Parses `key in (a,b)` / `key notin (a,b)`; returns `None` when `req` has no set operator.
fn parse_set(req: &str) -> Option<Result<LabelReq, ApiError>> {
    let open = req.find('(')?;
    let head = req[..open].trim();
    let (key, negate) = if let Some(k) = head.strip_suffix(" notin") {
        (k.trim(), true)
    } else if let Some(k) = head.strip_suffix(" in") {
        (k.trim(), false)
    } else {
        return Some(Err(bad(req, "expected 'in' or 'notin'")));
    };
    let Some(body) = req[open + 1..].trim_end().strip_suffix(')') else {
        return Some(Err(bad(req, "missing ')'")));
    };
    let values: Vec<String> = body
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if !valid_key(key) || values.iter().any(|v| !valid_value(v)) {
        return Some(Err(bad(req, "invalid key or value")));
    }
    if values.is_empty() && !negate {
        return Some(Err(bad(
            req,
            "for 'in', 'notin' operators, values set can't be empty",
        )));
    }
    Some(Ok(if negate {
        LabelReq::NotIn(key.to_string(), values)
    } else {
        LabelReq::In(key.to_string(), values)
    }))
}

impl LabelSelector {
    /// Parses the selector; an empty string selects everything.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector { reqs });
        }
        for raw in split_top_level(s) {
            let req = raw.trim();
            if req.is_empty() {
                return Err(bad(s, "empty requirement"));
            }
            if let Some(set) = parse_set(req) {
                reqs.push(set?);
                continue;
            }
            let parsed = if let Some(key) = req.strip_prefix('!') {
                LabelReq::NotExists(key.trim().to_string())
            } else if let Some((k, v)) = req.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = req.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = req.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = req.split_once('>') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(s, "'>' needs an integer"))?;
                LabelReq::Gt(k.trim().to_string(), n)
            } else if let Some((k, v)) = req.split_once('<') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(s, "'<' needs an integer"))?;
                LabelReq::Lt(k.trim().to_string(), n)
            } else {
                LabelReq::Exists(req.to_string())
            };
            let ok = match &parsed {
                LabelReq::Eq(k, v) | LabelReq::NotEq(k, v) => valid_key(k) && valid_value(v),
                LabelReq::Exists(k)
                | LabelReq::NotExists(k)
                | LabelReq::Gt(k, _)
                | LabelReq::Lt(k, _) => valid_key(k),
                LabelReq::In(..) | LabelReq::NotIn(..) => true,
            };
            if !ok {
                return Err(bad(s, "invalid label key or value"));
            }
            reqs.push(parsed);
        }
        Ok(LabelSelector { reqs })
    }

    /// Whether the object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
            LabelReq::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            LabelReq::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

/// A parsed `fieldSelector` (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses the selector and checks that `res` supports every field, like the real server.
    pub fn parse(s: &str, res: &ResourceDef) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector { reqs });
        }
        for raw in s.split(',') {
            let req = raw.trim();
            let (key, eq, value) = if let Some((k, v)) = req.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = req.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = req.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{req}'"
                )));
            };
            let key = key.trim();
            if !res.supports_field(key) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {key}"
                )));
            }
            reqs.push((key.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector { reqs })
    }

    /// Whether the object satisfies every requirement (missing fields compare as "").
    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(key, eq, want)| {
            let mut cur = obj;
            for part in key.split('.') {
                cur = &cur[part];
            }
            let got = match cur {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (got == *want) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "web", "tier": "fe", "n": "5"}));
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web, db)", true),
            ("app notin (web)", false),
            ("missing notin (x)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (fe),!x", true),
            ("n>4", true),
            ("n<5", false),
            ("", true),
        ];
        for (sel, want) in cases {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
        assert!(LabelSelector::parse("app in (").is_err());
        assert!(LabelSelector::parse("a=b,,c").is_err());
        assert!(LabelSelector::parse("a=b c").is_err());
    }

    #[test]
    fn field_selectors() {
        let pods = ResourceDef::pods();
        let o = obj(json!({}));
        assert!(
            FieldSelector::parse("status.phase=Running", &pods)
                .unwrap()
                .matches(&o)
        );
        assert!(
            !FieldSelector::parse("status.phase!=Running", &pods)
                .unwrap()
                .matches(&o)
        );
        assert!(
            FieldSelector::parse("metadata.name==a,spec.nodeName=", &pods)
                .unwrap()
                .matches(&o)
        );
        let err = FieldSelector::parse("spec.foo=x", &pods).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(FieldSelector::parse("status.phase=x", &ResourceDef::configmaps()).is_err());
    }
}
