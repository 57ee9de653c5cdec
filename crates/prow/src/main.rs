//! The `prow` binary: every control-plane component as a subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// A drop-in Rust re-implementation of Prow.
#[derive(Parser)]
#[command(name = "prow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load and validate config.yaml, job configs and plugins.yaml.
    Checkconfig(cmd::checkconfig::Args),
    /// Print the ProwJob CustomResourceDefinition (YAML).
    Crd,
    /// Benchmarks that print numbers (not tests).
    #[command(subcommand)]
    Bench(cmd::bench::Bench),
    /// The webhook server: validates, durably stores and dispatches GitHub events to plugins.
    Hook(Box<prow_hook::cli::HookArgs>),
    /// Everything in one process: hook, controller (local processes), horologium, sinker,
    /// SQLite job store, artifacts on disk; the GitHub simulator unless credentials are given.
    Local(Box<cmd::local::LocalArgs>),
    /// Prow's plank: runs ProwJobs as decorated Pods in the build clusters.
    Controller(Box<prow_controller::cli::ControllerArgs>),
    /// Creates periodic ProwJobs (interval, cron, minimum_interval).
    Horologium(Box<prow_controller::cli::HorologiumArgs>),
    /// Garbage-collects old ProwJobs and pods.
    Sinker(Box<prow_controller::cli::SinkerArgs>),
    /// Vends monotonically increasing build numbers per job.
    Tot(Box<prow_controller::cli::TotArgs>),
    /// Print the ProwJob for a job (or create it in the all-in-one store with --create).
    Mkpj(Box<cmd::mkpj::MkpjArgs>),
    /// The web UI and its JSON API: jobs, Spyglass, histories, Tide, PR dashboard, rerun/abort.
    Deck(Box<cmd::deck::DeckCmd>),
    /// Reports job states to GitHub (statuses, failure table), Slack and the artifact bucket.
    Crier(Box<prow_crier::cli::CrierArgs>),
    /// Merges PRs that pass their queries and required jobs (pools, batches, `tide` status).
    Tide(Box<prow_tide::cli::TideArgs>),
    /// Triggers, retires and migrates required presubmits when job config changes.
    StatusReconciler(Box<prow_status_reconciler::cli::StatusReconcilerArgs>),
    /// A stateful GitHub simulator (REST, GraphQL, webhooks, real git) for tests and demos.
    FakeGithub(prow_github_fake::FakeGitHubArgs),
}

fn main() -> ExitCode {
    // Go's flag package accepts `-flag`; existing manifests use it, so accept it too.
    let args = normalize_single_dash(std::env::args());
    let cli = Cli::parse_from(args);
    match cli.command {
        Command::Checkconfig(a) => cmd::checkconfig::run(a),
        Command::Crd => cmd::crd::run(),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Hook(a) => block_on(cmd::hook::run(*a)),
        Command::Controller(a) => block_on(cmd::components::controller(*a)),
        Command::Horologium(a) => block_on(cmd::components::horologium(*a)),
        Command::Sinker(a) => block_on(cmd::components::sinker(*a)),
        Command::Tot(a) => block_on(cmd::components::tot(*a)),
        Command::Mkpj(a) => block_on(cmd::mkpj::run(*a)),
        Command::Deck(a) => block_on(cmd::deck::run(*a)),
        Command::Crier(a) => block_on(cmd::merging::crier(*a)),
        Command::Tide(a) => block_on(cmd::merging::tide(*a)),
        Command::StatusReconciler(a) => block_on(cmd::merging::status_reconciler(*a)),
        Command::Local(a) => block_on(cmd::local::run(*a)),
        Command::FakeGithub(a) => block_on(async move {
            prow_runtime::init_tracing(false);
            let shutdown = prow_runtime::shutdown_on_signals();
            prow_github_fake::run(a, async move { shutdown.cancelled().await }).await
        }),
    }
}

/// Runs an async entry point on a multi-threaded runtime and maps errors to exit code 1.
fn block_on(fut: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Rewrite `-config-path=x` to `--config-path=x` (long flags only; `-h` stays as is).
fn normalize_single_dash(args: impl Iterator<Item = String>) -> Vec<String> {
    args.map(|a| {
        let body = a.strip_prefix('-').unwrap_or("");
        let name = body.split('=').next().unwrap_or("");
        if !a.starts_with("--")
            && name.len() > 1
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            format!("-{a}")
        } else {
            a
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_flags() {
        let got = normalize_single_dash(
            [
                "prow",
                "checkconfig",
                "-config-path=x",
                "--strict",
                "-h",
                "-",
                "file",
            ]
            .map(String::from)
            .into_iter(),
        );
        assert_eq!(
            got,
            [
                "prow",
                "checkconfig",
                "--config-path=x",
                "--strict",
                "-h",
                "-",
                "file"
            ]
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
