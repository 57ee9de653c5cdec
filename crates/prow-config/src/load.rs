//! Reading config files from disk: the main config, a job-config file or directory (recursive,
//! `.yaml`/`.yml`, unique basenames, `.prowignore`, gzip), supplemental config dirs and
//! `plugins.yaml`. Then defaulting and validation of the whole.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;

use crate::error::{ConfigError, ConfigErrors};
use crate::jobs::{JobConfig, Periodic, Postsubmit, Preset, Presubmit, Source};
use crate::plugins::PluginsConfig;
use crate::prow::ProwConfig;
use crate::strict;
use prow_api::serde_util::nullable;

/// Where the config lives and how strictly to read it.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `config.yaml`.
    pub config_path: PathBuf,
    /// Job config file or directory.
    pub job_config_path: Option<PathBuf>,
    /// Directories with `*<suffix>` files merged into the main config.
    pub supplemental_prow_config_dirs: Vec<PathBuf>,
    /// Suffix of supplemental config files (default `_prowconfig.yaml`).
    pub supplemental_suffix: Option<String>,
    /// Reject unknown fields (without it they are logged as warnings).
    pub strict: bool,
}

/// A loaded, defaulted and validated configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Everything but jobs.
    pub prow: ProwConfig,
    /// All jobs (main config plus job-config path).
    pub jobs: JobConfig,
    /// What the loader saw.
    pub stats: LoadStats,
}

/// Counts from a load, for `checkconfig` and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// YAML files found under the job-config path (loaded or ignored).
    pub job_files: usize,
    /// Files skipped because a `.prowignore` matched them.
    pub ignored_files: Vec<PathBuf>,
    /// Keys our types do not know, with their positions: warnings (logged on every load)
    /// unless `strict`, where they are errors instead.
    pub unknown_fields: Vec<ConfigError>,
}

/// The job part of one file, with each job's position.
#[derive(Deserialize, Default)]
struct RawJobFile {
    #[serde(default, deserialize_with = "nullable")]
    presets: Vec<Preset>,
    #[serde(default, deserialize_with = "nullable")]
    presubmits: BTreeMap<String, Vec<Spanned<Presubmit>>>,
    #[serde(default, deserialize_with = "nullable")]
    postsubmits: BTreeMap<String, Vec<Spanned<Postsubmit>>>,
    #[serde(default, deserialize_with = "nullable")]
    periodics: Vec<Spanned<Periodic>>,
    #[serde(default, deserialize_with = "nullable")]
    decorate_all_jobs: bool,
}

/// Read a file, transparently gunzipping it (Prow allows gzipped job configs).
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::file(&display, format!("cannot read: {e}")))?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| ConfigError::file(&display, format!("cannot gunzip: {e}")))?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|e| ConfigError::file(&display, format!("not UTF-8: {e}")))
}

fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    // Go's yaml.v2 (under sigs.k8s.io/yaml) reads `0644` as octal 420; Kubernetes volume
    // `defaultMode` values in real configs depend on it.
    o.legacy_octal_numbers = true;
    o.with_snippet = false;
    o
}

/// Parse YAML into `T`, mapping errors to `file:line:col: message`.
pub fn parse_yaml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    if text.trim().is_empty() {
        // An empty file is an empty config in Go; serde would call it a missing document.
        return serde_saphyr::from_str_with_options("{}", yaml_options())
            .map_err(|e| ConfigError::file(file, e.to_string()));
    }
    serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| {
        let (line, col) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let message = clean_message(&e.to_string());
        ConfigError {
            file: file.to_string(),
            line,
            col,
            message,
        }
    })
}

/// serde-saphyr appends its own position; we print ours in front, so drop the duplicate.
fn clean_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg).trim();
    let mut s = first.to_string();
    if let Some(i) = s.rfind(" at line ") {
        s.truncate(i);
    }
    s.trim_start_matches("error: ").to_string()
}

fn source(file: &Arc<str>, loc: &serde_saphyr::Location) -> Source {
    Source {
        file: file.clone(),
        line: loc.line(),
        col: loc.column(),
    }
}

/// Add the jobs of one parsed file to `into`, recording where each job was defined.
fn merge_raw(into: &mut JobConfig, raw: RawJobFile, file: &Arc<str>) {
    into.presets.extend(raw.presets);
    for (repo, jobs) in raw.presubmits {
        let list = into.presubmits.entry(repo).or_default();
        for j in jobs {
            let mut p = j.value;
            p.base.source = source(file, &j.referenced);
            list.push(p);
        }
    }
    for (repo, jobs) in raw.postsubmits {
        let list = into.postsubmits.entry(repo).or_default();
        for j in jobs {
            let mut p = j.value;
            p.base.source = source(file, &j.referenced);
            list.push(p);
        }
    }
    for j in raw.periodics {
        let mut p = j.value;
        p.base.source = source(file, &j.referenced);
        into.periodics.push(p);
    }
    into.decorate_all_jobs |= raw.decorate_all_jobs;
}

/// Job-config files under `dir` in lexical walk order, and the ones `.prowignore` excludes.
fn job_files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let is_yaml = |p: &Path| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    let walk = |with_ignore: bool| {
        let mut b = ignore::WalkBuilder::new(dir);
        b.standard_filters(false)
            .follow_links(true)
            .sort_by_file_name(|a, b| a.cmp(b))
            // Kubernetes ConfigMap mounts keep real files under `..data`-style dirs.
            .filter_entry(|e| !e.file_name().to_string_lossy().starts_with(".."));
        if with_ignore {
            b.add_custom_ignore_filename(".prowignore");
        }
        b.build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && is_yaml(e.path()))
            .map(|e| e.into_path())
            .collect::<Vec<_>>()
    };
    let kept = walk(true);
    let all = walk(false);
    let ignored = all.into_iter().filter(|p| !kept.contains(p)).collect();
    (kept, ignored)
}

/// Load, merge, default and validate everything `opts` names.
pub fn load(opts: &LoadOptions) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let main_file = opts.config_path.display().to_string();
    let main_text: Arc<str> = read_text(&opts.config_path)?.into();
    // Unknown keys are looked for on every load (errors under `strict`, warnings otherwise), on
    // a second thread alongside the typed parse.
    let config_schema = strict::config_file_schema();
    let job_schema = strict::job_file_schema();
    let mut checker = strict::Checker::start();
    checker.check(config_schema, &main_file, &main_text);

    let mut prow: ProwConfig = parse_yaml(&main_file, &main_text)?;
    let mut jobs = JobConfig::default();
    let main_arc: Arc<str> = main_file.clone().into();
    match parse_yaml::<RawJobFile>(&main_file, &main_text) {
        Ok(raw) => merge_raw(&mut jobs, raw, &main_arc),
        Err(e) => errors.push(e),
    }

    // Supplemental configs merge into the main one.
    let suffix = opts
        .supplemental_suffix
        .as_deref()
        .unwrap_or("_prowconfig.yaml");
    for dir in &opts.supplemental_prow_config_dirs {
        let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        files.sort();
        for f in files {
            let name = f.display().to_string();
            let text: Arc<str> = match read_text(&f) {
                Ok(t) => t.into(),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            checker.check(config_schema, &name, &text);
            match parse_yaml::<ProwConfig>(&name, &text) {
                Ok(sup) => {
                    if let Err(msg) = crate::defaults::merge_supplemental(&mut prow, sup) {
                        errors.push(ConfigError::file(&name, msg));
                    }
                }
                Err(e) => errors.push(e),
            }
        }
    }

    let mut stats = LoadStats::default();
    if let Some(path) = &opts.job_config_path {
        let (files, ignored) = if path.is_dir() {
            job_files(path)
        } else if path.exists() {
            (vec![path.clone()], Vec::new())
        } else {
            errors.push(ConfigError::file(
                path.display().to_string(),
                "job config path does not exist",
            ));
            (Vec::new(), Vec::new())
        };
        stats.job_files = files.len() + ignored.len();
        stats.ignored_files = ignored;
        let mut basenames: BTreeMap<std::ffi::OsString, PathBuf> = BTreeMap::new();
        for f in files {
            let name = f.display().to_string();
            if let Some(base) = f.file_name() {
                if let Some(prev) = basenames.get(base) {
                    errors.push(ConfigError::file(
                        &name,
                        format!(
                            "duplicated basename is not allowed: {} (also {})",
                            base.to_string_lossy(),
                            prev.display()
                        ),
                    ));
                    continue;
                }
                basenames.insert(base.to_owned(), f.clone());
            }
            let text: Arc<str> = match read_text(&f) {
                Ok(t) => t.into(),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            checker.check(job_schema, &name, &text);
            match parse_yaml::<RawJobFile>(&name, &text) {
                Ok(raw) => merge_raw(&mut jobs, raw, &name.clone().into()),
                Err(e) => errors.push(e),
            }
        }
    }
    let mut unknown = checker.finish();
    if opts.strict {
        errors.append(&mut unknown);
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    stats.unknown_fields = unknown;
    prow.config_version_sha = read_version_file(&opts.config_path).unwrap_or_default();
    crate::defaults::default_prow_config(&mut prow);
    if let Err(mut errs) = crate::defaults::default_jobs(&prow, &mut jobs, &main_file) {
        errors.append(&mut errs);
    }
    errors.extend(crate::validate::validate(&prow, &mut jobs, &main_file));
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    warn_unknown(&stats.unknown_fields);
    Ok(Config { prow, jobs, stats })
}

/// Logs each unknown key of a non-strict load (Prow ignores them silently; a typo such as
/// `alwaysrun:` would otherwise go unnoticed).
fn warn_unknown(unknown: &[ConfigError]) {
    for w in unknown {
        tracing::warn!(
            file = %w.file,
            line = w.line,
            col = w.col,
            "{w} (ignored; --strict rejects it)"
        );
    }
}

/// Prow reads an optional `VERSION` file next to the main config.
fn read_version_file(config_path: &Path) -> Option<String> {
    let dir = config_path.parent()?;
    let v = std::fs::read_to_string(dir.join("VERSION")).ok()?;
    Some(v.trim().to_string())
}

/// Load and validate `plugins.yaml`; unknown keys are errors under `strict`, else logged as
/// warnings.
pub fn load_plugins(path: &Path, strict: bool) -> Result<PluginsConfig, ConfigErrors> {
    let (cfg, unknown) = load_plugins_with_warnings(path, strict)?;
    warn_unknown(&unknown);
    Ok(cfg)
}

/// [`load_plugins`] without logging: the unknown keys of a non-strict load are returned
/// (`prow checkconfig` prints them).
pub fn load_plugins_with_warnings(
    path: &Path,
    strict: bool,
) -> Result<(PluginsConfig, Vec<ConfigError>), ConfigErrors> {
    let name = path.display().to_string();
    let text = read_text(path)?;
    let cfg: PluginsConfig = parse_yaml(&name, &text)?;
    // Unknown sections are found with their positions below, so validate without `strict`.
    let mut errors: Vec<ConfigError> = cfg
        .validate(false)
        .into_iter()
        .map(|m| ConfigError::file(&name, m))
        .collect();
    let mut unknown = strict::unknown_plugin_fields(&name, &text);
    if strict {
        errors.append(&mut unknown);
    }
    if errors.is_empty() {
        Ok((cfg, unknown))
    } else {
        Err(ConfigErrors(errors))
    }
}
