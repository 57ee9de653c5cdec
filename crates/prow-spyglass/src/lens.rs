//! Which lenses exist, which are configured, and which apply to a build's artifacts.

use prow_config::prow::{LensConfig, LensFileConfig, Spyglass as SpyglassConfig};
use regex::Regex;
use serde_json::Value;

/// A built-in lens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LensKind {
    /// `metadata`.
    Metadata,
    /// `buildlog`.
    Buildlog,
    /// `junit`.
    Junit,
    /// `podinfo`.
    Podinfo,
    /// `links`.
    Links,
}

impl LensKind {
    /// By configured name (legacy viewer names included).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "metadata" | "metadata-viewer" => LensKind::Metadata,
            "buildlog" | "build-log-viewer" => LensKind::Buildlog,
            "junit" | "junit-viewer" => LensKind::Junit,
            "podinfo" => LensKind::Podinfo,
            "links" => LensKind::Links,
            _ => return None,
        })
    }

    /// Canonical name (used in `/spyglass/lens/<name>/...`).
    pub fn name(self) -> &'static str {
        match self {
            LensKind::Metadata => "metadata",
            LensKind::Buildlog => "buildlog",
            LensKind::Junit => "junit",
            LensKind::Podinfo => "podinfo",
            LensKind::Links => "links",
        }
    }

    /// Section title (Prow's).
    pub fn title(self) -> &'static str {
        match self {
            LensKind::Metadata => "Metadata",
            LensKind::Buildlog => "Build Log",
            LensKind::Junit => "JUnit",
            LensKind::Podinfo => "Job Pod Info",
            LensKind::Links => "Debugging links",
        }
    }

    /// Ordering priority (lower first), as in Prow.
    pub fn priority(self) -> u32 {
        match self {
            LensKind::Metadata => 0,
            LensKind::Junit => 5,
            LensKind::Buildlog => 10,
            LensKind::Podinfo | LensKind::Links => 20,
        }
    }

    /// Whether the page hides the section title (Prow hides metadata's).
    pub fn hide_title(self) -> bool {
        self == LensKind::Metadata
    }
}

/// A configured lens ready to match artifacts.
#[derive(Debug, Clone)]
pub struct ConfiguredLens {
    /// Index in the effective lens list (what `/spyglass/lens` requests carry).
    pub index: usize,
    /// The lens.
    pub kind: LensKind,
    /// Lens-specific settings.
    pub config: Option<Value>,
    required: Vec<Regex>,
    optional: Vec<Regex>,
}

impl ConfiguredLens {
    /// The artifacts this lens gets, or `None` when a required pattern matches nothing.
    /// Patterns are unanchored, as Go's `MatchString`.
    pub fn matching(&self, names: &[&str]) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for re in &self.required {
            let hits: Vec<&str> = names.iter().copied().filter(|n| re.is_match(n)).collect();
            if hits.is_empty() {
                return None;
            }
            out.extend(hits.into_iter().map(str::to_string));
        }
        for re in &self.optional {
            out.extend(
                names
                    .iter()
                    .filter(|n| re.is_match(n))
                    .map(|n| n.to_string()),
            );
        }
        out.sort();
        out.dedup();
        Some(out)
    }
}

fn lfc(name: &str, required: &[&str], optional: &[&str]) -> LensFileConfig {
    LensFileConfig {
        lens: LensConfig {
            name: name.into(),
            config: None,
        },
        required_files: required.iter().map(|s| s.to_string()).collect(),
        optional_files: optional.iter().map(|s| s.to_string()).collect(),
        remote_config: None,
    }
}

/// The lenses used when `deck.spyglass.lenses` and `viewers` are both empty.
pub fn default_lenses() -> Vec<LensFileConfig> {
    vec![
        lfc(
            "metadata",
            &[r"^(?:started|finished)\.json$"],
            &[r"^(?:podinfo|prowjob)\.json$"],
        ),
        lfc("buildlog", &[r"^(?:.*-)?build-log\.txt$"], &[]),
        lfc("junit", &[r"^artifacts/(?:.*/)?junit.*\.xml$"], &[]),
        lfc("podinfo", &[r"^podinfo\.json$"], &[r"^prowjob\.json$"]),
        lfc("links", &[r"^artifacts/.*\.link\.txt$"], &[]),
    ]
}

/// The effective lens list: `lenses`, then the legacy `viewers` map (each regex → viewer,
/// sorted by name, as Prow's config loading does), or the defaults when both are empty.
pub fn effective_lenses(cfg: &SpyglassConfig) -> Vec<LensFileConfig> {
    let mut out = cfg.lenses.clone();
    let mut old: Vec<LensFileConfig> = cfg
        .viewers
        .iter()
        .flat_map(|(re, viewers)| viewers.iter().map(move |v| lfc(v, &[re.as_str()], &[])))
        .collect();
    old.sort_by(|a, b| a.lens.name.cmp(&b.lens.name));
    out.extend(old);
    if out.is_empty() {
        return default_lenses();
    }
    out
}

/// Compile the effective lenses, ordered by priority then name. Unknown lenses and bad
/// patterns are reported as warnings and left out.
pub fn configured_lenses(cfg: &SpyglassConfig) -> (Vec<ConfiguredLens>, Vec<String>) {
    let mut lenses = Vec::new();
    let mut warnings = Vec::new();
    for (index, l) in effective_lenses(cfg).into_iter().enumerate() {
        let Some(kind) = LensKind::from_name(&l.lens.name) else {
            warnings.push(format!(
                "Lens {:?} is not available in this Deck; it was skipped.",
                l.lens.name
            ));
            continue;
        };
        let compile = |pats: &[String], warnings: &mut Vec<String>| -> Option<Vec<Regex>> {
            let mut v = Vec::new();
            for p in pats {
                match Regex::new(p) {
                    Ok(r) => v.push(r),
                    Err(e) => {
                        warnings.push(format!(
                            "Lens {:?}: bad file pattern {p:?}: {e}",
                            l.lens.name
                        ));
                        return None;
                    }
                }
            }
            Some(v)
        };
        let (Some(required), Some(optional)) = (
            compile(&l.required_files, &mut warnings),
            compile(&l.optional_files, &mut warnings),
        ) else {
            continue;
        };
        lenses.push(ConfiguredLens {
            index,
            kind,
            config: l.lens.config.clone(),
            required,
            optional,
        });
    }
    lenses.sort_by(|a, b| {
        (a.kind.priority(), a.kind.name()).cmp(&(b.kind.priority(), b.kind.name()))
    });
    (lenses, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_pod_utils_layout() {
        let (lenses, warnings) = configured_lenses(&SpyglassConfig::default());
        assert!(warnings.is_empty());
        let names = [
            "started.json",
            "finished.json",
            "build-log.txt",
            "prowjob.json",
            "podinfo.json",
            "artifacts/junit_01.xml",
            "artifacts/e2e/junit_runner.xml",
            "artifacts/dashboard.link.txt",
            "clone-log.txt",
        ];
        let got: Vec<(&str, Vec<String>)> = lenses
            .iter()
            .filter_map(|l| l.matching(&names).map(|m| (l.kind.name(), m)))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "metadata",
                    vec![
                        "finished.json".to_string(),
                        "podinfo.json".into(),
                        "prowjob.json".into(),
                        "started.json".into()
                    ]
                ),
                (
                    "junit",
                    vec![
                        "artifacts/e2e/junit_runner.xml".to_string(),
                        "artifacts/junit_01.xml".into()
                    ]
                ),
                ("buildlog", vec!["build-log.txt".to_string()]),
                ("links", vec!["artifacts/dashboard.link.txt".to_string()]),
                (
                    "podinfo",
                    vec!["podinfo.json".to_string(), "prowjob.json".into()]
                ),
            ]
        );
        // A required pattern without a match disables the lens.
        assert!(
            lenses
                .iter()
                .all(|l| l.matching(&["clone-log.txt"]).is_none())
        );
    }

    #[test]
    fn configured_and_legacy() {
        let cfg: SpyglassConfig = serde_json::from_value(serde_json::json!({
            "lenses": [
                {"lens": {"name": "buildlog", "config": {"highlight_regexes": ["SUSPICIOUS:"]}},
                 "required_files": ["build-log.txt"]},
                {"lens": {"name": "coverage"}, "required_files": ["artifacts/filtered.cov"]},
                {"lens": {"name": "junit"}, "required_files": ["("]},
            ],
            "viewers": {"started.json|finished.json": ["metadata-viewer"]}
        }))
        .unwrap();
        let (lenses, warnings) = configured_lenses(&cfg);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let kinds: Vec<(LensKind, usize)> = lenses.iter().map(|l| (l.kind, l.index)).collect();
        assert_eq!(
            kinds,
            vec![(LensKind::Metadata, 3), (LensKind::Buildlog, 0)]
        );
        assert!(lenses[1].config.is_some());
    }
}
