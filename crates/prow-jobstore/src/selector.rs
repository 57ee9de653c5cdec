//! Kubernetes-style equality label selectors and the field selectors Prow uses.

use std::collections::BTreeMap;

use prow_api::ProwJob;

use crate::StoreError;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` / `key==value`.
    Equals(String, String),
    /// `key!=value`.
    NotEquals(String, String),
    /// `key`.
    Exists(String),
    /// `!key`.
    NotExists(String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)`.
    NotIn(String, Vec<String>),
}

/// A parsed label selector (all requirements must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    /// Parses `a=b,c!=d,e,!f,g in (x,y)`.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let mut reqs = Vec::new();
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0usize, 0usize);
        for (i, ch) in s.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || StoreError::Invalid(format!("bad label selector term {part:?}"));
            let set = |rest: &str| -> Result<Vec<String>, StoreError> {
                let rest = rest.trim();
                let inner = rest
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(bad)?;
                Ok(inner
                    .split(',')
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect())
            };
            let req = if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(k.trim().into(), set(rest)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Requirement::In(k.trim().into(), set(rest)?)
            } else if let Some(k) = part.strip_prefix('!') {
                Requirement::NotExists(k.trim().into())
            } else if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                Requirement::Exists(part.into())
            } else {
                return Err(bad());
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
        })
    }

    /// Back to selector syntax (for the Kubernetes backend).
    pub fn to_query(&self) -> String {
        self.0
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::Exists(k) => k.clone(),
                Requirement::NotExists(k) => format!("!{k}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What to list or watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Namespace; `None` = the store's default namespace.
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: LabelSelector,
    /// Only jobs with `spec.job` equal to this.
    pub job_name: Option<String>,
    /// Only jobs with `status.state` equal to this (e.g. `triggered`).
    pub state: Option<String>,
}

impl ListParams {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }
    /// With a label selector (panics are impossible: a bad selector is an error).
    pub fn with_labels(selector: &str) -> Result<Self, StoreError> {
        Ok(ListParams {
            labels: LabelSelector::parse(selector)?,
            ..Default::default()
        })
    }
    /// Whether `job` is selected (namespace is the backend's business).
    pub fn matches(&self, job: &ProwJob) -> bool {
        self.labels.matches(job.metadata.labels.as_ref())
            && self.job_name.as_deref().is_none_or(|n| job.spec.job == n)
            && self
                .state
                .as_deref()
                .is_none_or(|s| job.status.state.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_parse_and_match() {
        let s = LabelSelector::parse("a=1, b!=2,c,!d,e in (x, y),f notin (z)").unwrap();
        let mut l = BTreeMap::new();
        for (k, v) in [("a", "1"), ("b", "3"), ("c", ""), ("e", "y")] {
            l.insert(k.to_string(), v.to_string());
        }
        assert!(s.matches(Some(&l)));
        l.insert("d".into(), "".into());
        assert!(!s.matches(Some(&l)));
        assert!(LabelSelector::parse("a in x").is_err());
        assert!(LabelSelector::parse("").unwrap().matches(None));
        assert_eq!(LabelSelector::parse(&s.to_query()).unwrap(), s);
    }
}
