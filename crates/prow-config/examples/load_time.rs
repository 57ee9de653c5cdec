//! Times `prow_config::load` (what every component runs on start and on each reload).
//!
//! `cargo run -p prow-config --example load_time -- CONFIG JOB_DIR [RUNS] [--strict]`
//! prints each run's wall time and the median.

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strict = args.iter().any(|a| a == "--strict");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (Some(config), Some(jobs)) = (pos.first(), pos.get(1)) else {
        return Err("usage: load_time CONFIG JOB_DIR [RUNS] [--strict]".into());
    };
    let runs: usize = pos.get(2).map(|r| r.parse()).transpose()?.unwrap_or(5);
    let opts = prow_config::LoadOptions {
        config_path: PathBuf::from(config),
        job_config_path: Some(PathBuf::from(jobs)),
        strict,
        ..Default::default()
    };
    let mut times = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let cfg = prow_config::load(&opts).map_err(|e| format!("{e:?}"))?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        drop(cfg);
        println!("run {i}: {ms:.0} ms");
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median {:.0} ms over {runs} runs (strict={strict})",
        times[times.len() / 2]
    );
    Ok(())
}
