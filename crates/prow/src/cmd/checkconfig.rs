//! `prow checkconfig`: load everything a deployment would load and report every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use prow_config::{Config, ConfigError, ConfigErrors, LoadOptions};

/// Flags as Prow's checkconfig names them.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Path to config.yaml.
    #[arg(long)]
    pub config_path: PathBuf,
    /// Path to a job config file or directory.
    #[arg(long)]
    pub job_config_path: Option<PathBuf>,
    /// Path to plugins.yaml.
    #[arg(long)]
    pub plugin_config: Option<PathBuf>,
    /// Directory with supplemental prow config files (repeatable).
    #[arg(long)]
    pub supplemental_prow_config_dir: Vec<PathBuf>,
    /// Suffix of supplemental prow config files.
    #[arg(long, default_value = "_prowconfig.yaml")]
    pub supplemental_prow_configs_filename_suffix: String,
    /// Also reject unknown fields.
    #[arg(long)]
    pub strict: bool,
}

/// The counts line printed on success.
pub fn summary(cfg: &Config) -> String {
    format!(
        "checkconfig: OK: {} job files, {} presubmits, {} postsubmits, {} periodics, {} repos",
        cfg.stats.job_files,
        cfg.jobs.presubmit_count(),
        cfg.jobs.postsubmit_count(),
        cfg.jobs.periodics.len(),
        cfg.jobs.all_repos().len()
    )
}

/// Load config and plugins with these flags. On success, also the unknown keys (warnings;
/// with `--strict` they are errors instead).
pub fn check(a: &Args) -> Result<(Config, Vec<ConfigError>), ConfigErrors> {
    let opts = LoadOptions {
        config_path: a.config_path.clone(),
        job_config_path: a.job_config_path.clone(),
        supplemental_prow_config_dirs: a.supplemental_prow_config_dir.clone(),
        supplemental_suffix: Some(a.supplemental_prow_configs_filename_suffix.clone()),
        strict: a.strict,
    };
    let cfg = prow_config::load(&opts);
    let plugins = a
        .plugin_config
        .as_ref()
        .map(|p| prow_config::load_plugins_with_warnings(p, a.strict));
    match (cfg, plugins) {
        (Ok(cfg), None) => {
            let warnings = cfg.stats.unknown_fields.clone();
            Ok((cfg, warnings))
        }
        (Ok(cfg), Some(Ok((_, plugin_warnings)))) => {
            let mut warnings = cfg.stats.unknown_fields.clone();
            warnings.extend(plugin_warnings);
            Ok((cfg, warnings))
        }
        (Ok(_), Some(Err(e))) => Err(e),
        (Err(e), None | Some(Ok(_))) => Err(e),
        (Err(mut e), Some(Err(p))) => {
            e.0.extend(p.0);
            Err(e)
        }
    }
}

/// Run the subcommand: exit 0 with the counts line, or 1 with every problem.
pub fn run(a: Args) -> ExitCode {
    match check(&a) {
        Ok((cfg, warnings)) => {
            for w in &warnings {
                eprintln!("warning: {w} (ignored; --strict rejects it)");
            }
            for f in &cfg.stats.ignored_files {
                println!("checkconfig: ignored by .prowignore: {}", f.display());
            }
            println!("{}", summary(&cfg));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            eprintln!("checkconfig: {} problem(s) found", errors.0.len());
            ExitCode::FAILURE
        }
    }
}
