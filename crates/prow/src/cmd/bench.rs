//! `prow bench config`: time loading and validating a config tree (a benchmark, not a test).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use prow_config::LoadOptions;

/// Benchmark flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Path to config.yaml.
    #[arg(long)]
    pub config_path: PathBuf,
    /// Path to the job config directory.
    #[arg(long)]
    pub job_config_path: Option<PathBuf>,
    /// Number of timed loads.
    #[arg(long, default_value_t = 5)]
    pub iterations: u32,
    /// Also check unknown fields.
    #[arg(long)]
    pub strict: bool,
}

/// Load the config `iterations` times and print min/median/max wall time.
pub fn run(a: Args) -> ExitCode {
    let opts = LoadOptions {
        config_path: a.config_path,
        job_config_path: a.job_config_path,
        strict: a.strict,
        ..Default::default()
    };
    let mut times = Vec::new();
    for _ in 0..a.iterations.max(1) {
        let start = Instant::now();
        match prow_config::load(&opts) {
            Ok(cfg) => std::hint::black_box(cfg),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "config load+validate (strict={}): min {:.1} ms, median {:.1} ms, max {:.1} ms over {} runs",
        a.strict,
        times[0],
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    ExitCode::SUCCESS
}
