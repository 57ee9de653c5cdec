//! `prow bench`: benchmarks that print numbers (not tests). `config` times loading and
//! validating a config tree; `hook` measures webhook acknowledgement latency at a fixed rate.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use prow_config::LoadOptions;

/// Which benchmark.
#[derive(clap::Subcommand, Debug)]
pub enum Bench {
    /// Time loading and validating a config tree.
    Config(ConfigArgs),
    /// Webhook ack latency at a fixed request rate on loopback.
    Hook(HookArgs),
    /// `/test all` webhook sent → its ProwJobs stored (hook + trigger + simulator in-process).
    Trigger(TriggerArgs),
    /// Merge-queue simulation of Tide's real decision core: 30 ready PRs, jobs of fixed length
    /// failing with probability p; merges per hour and CI runs per merge.
    Tide(TideBenchArgs),
}

/// `prow bench tide` flags.
#[derive(clap::Args, Debug)]
pub struct TideBenchArgs {
    /// Job duration T in minutes.
    #[arg(long, default_value_t = 60)]
    pub job_minutes: u64,
    /// Simulated hours.
    #[arg(long, default_value_t = 336)]
    pub hours: u64,
    /// RNG seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Drive the real Tide sync over the GitHub simulator and a job store (virtual clock)
    /// instead of the decision core alone; use ~48–96 hours.
    #[arg(long)]
    pub simulator: bool,
}

/// `prow bench trigger` flags.
#[derive(clap::Args, Debug)]
pub struct TriggerArgs {
    /// Events to send.
    #[arg(long, default_value_t = 1000)]
    pub events: usize,
    /// Events per second.
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// Job store: memory or sqlite.
    #[arg(long, default_value = "sqlite")]
    pub store: String,
}

/// `prow bench hook` flags.
#[derive(clap::Args, Debug)]
pub struct HookArgs {
    /// Requests per second.
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Payload file (default: GitHub's example issue_comment payload, built in).
    #[arg(long)]
    pub payload: Option<PathBuf>,
    /// Event type of the payload.
    #[arg(long, default_value = "issue_comment")]
    pub event_type: String,
    /// Event log durability: full or normal.
    #[arg(long, default_value = "full")]
    pub durability: prow_hook::eventlog::Durability,
    /// Closed loop instead of a fixed rate: send this many events as fast as `--concurrency`
    /// senders can, then check every acknowledged event was handled exactly once.
    #[arg(long)]
    pub events: Option<usize>,
    /// Parallel senders for `--events`.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

/// Dispatch to the chosen benchmark.
pub fn run(b: Bench) -> ExitCode {
    match b {
        Bench::Config(a) => run_config(a),
        Bench::Tide(a) => {
            print!(
                "{}",
                prow_tide::bench::report(a.job_minutes, a.hours, a.seed)
            );
            ExitCode::SUCCESS
        }
        Bench::Trigger(a) => {
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(super::bench_trigger::run(a.events, a.rate, &a.store)) {
                Ok(r) => {
                    println!(
                        "event -> ProwJob ({} store): {} events at {} /s, {} jobs; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                        a.store, r.events, a.rate, r.jobs, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Bench::Hook(a) => match run_hook(a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run_hook(a: HookArgs) -> anyhow::Result<()> {
    let payload = match &a.payload {
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        None => prow_hook::bench::SAMPLE_ISSUE_COMMENT.to_vec(),
    };
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Runtime::new()?;
    if let Some(events) = a.events {
        let r = rt.block_on(prow_hook::bench::max_rate(
            dir.path(),
            &a.event_type,
            payload,
            events,
            a.concurrency,
            a.durability,
        ))?;
        println!(
            "hook max rate ({:?} durability, {} senders): {} sent, {} acked ({:.0}/s), {} errors; ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; handled {} (drained {:.0} ms after the burst), lost {}, handled twice {}",
            a.durability,
            a.concurrency,
            r.sent,
            r.acked,
            r.ack_rate,
            r.errors,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.processed,
            r.drain_ms,
            r.lost,
            r.duplicates
        );
        anyhow::ensure!(
            r.lost == 0,
            "{} acknowledged events were never handled",
            r.lost
        );
        return Ok(());
    }
    let report = rt.block_on(prow_hook::bench::ack_latency(
        dir.path(),
        std::sync::Arc::new(prow_hook::NoPlugins),
        &a.event_type,
        payload,
        a.rate,
        std::time::Duration::from_secs(a.seconds),
        a.durability,
    ))?;
    println!(
        "hook ack latency ({:?} durability): {} requests at {} req/s target ({:.0} achieved), {} errors; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        a.durability,
        report.sent,
        a.rate,
        report.achieved_rate,
        report.errors,
        report.p50_ms,
        report.p90_ms,
        report.p99_ms,
        report.max_ms
    );
    Ok(())
}

/// `prow bench config` flags.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
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
fn run_config(a: ConfigArgs) -> ExitCode {
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
