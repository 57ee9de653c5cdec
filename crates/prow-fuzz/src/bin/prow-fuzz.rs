//! `prow-fuzz`: list the targets, fuzz them with the built-in mutator, replay inputs, or write
//! AFL dictionaries. See `docs/fuzzing.md`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use prow_fuzz::runner::{self, Budget};

#[derive(Parser)]
#[command(about = "Fuzz Prow's input parsers on stable Rust")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the targets.
    List,
    /// Fuzz targets with the built-in (coverage-less) mutator.
    Run {
        /// Targets to run (default: all).
        targets: Vec<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Stop after this many mutated inputs per target instead.
        #[arg(long)]
        iterations: Option<u64>,
        /// Random seed (the run is deterministic for a seed and an iteration count).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where crashing inputs are written.
        #[arg(long, default_value = "target/fuzz-crashes")]
        crashes: PathBuf,
    },
    /// Run a target on files (e.g. crashes found by AFL++) and report each outcome.
    Replay {
        /// The target.
        target: String,
        /// Input files.
        files: Vec<PathBuf>,
    },
    /// Write `<dir>/<target>.dict` AFL++ dictionaries.
    Dicts {
        /// Output directory.
        dir: PathBuf,
    },
}

fn target(name: &str) -> anyhow::Result<&'static prow_fuzz::Target> {
    prow_fuzz::find(name).with_context(|| {
        let names: Vec<_> = prow_fuzz::all().iter().map(|t| t.name).collect();
        format!("unknown target {name:?} (known: {})", names.join(", "))
    })
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::List => {
            for t in prow_fuzz::all() {
                println!("{:<14} {}", t.name, t.about);
            }
        }
        Cmd::Run {
            targets,
            seconds,
            iterations,
            seed,
            crashes,
        } => {
            let chosen: Vec<_> = if targets.is_empty() {
                prow_fuzz::all().iter().collect()
            } else {
                targets
                    .iter()
                    .map(|n| target(n))
                    .collect::<Result<_, _>>()?
            };
            let budget = Budget {
                iterations,
                time: iterations.is_none().then(|| Duration::from_secs(seconds)),
            };
            println!("| target | execs | execs/s | corpus | crashes |");
            println!("|---|---:|---:|---:|---:|");
            let mut found = 0;
            for t in chosen {
                let corpus = runner::load_corpus(&prow_fuzz::corpus_root().join(t.name))?;
                let r = runner::run(t, &corpus, budget, seed);
                let rate = r.execs as f64 / r.elapsed.as_secs_f64().max(1e-9);
                println!(
                    "| {} | {} | {:.0} | {} | {} |",
                    t.name,
                    r.execs,
                    rate,
                    r.corpus,
                    r.crashes.len()
                );
                for (c, path) in r.crashes.iter().zip(runner::save_crashes(&crashes, t, &r)?) {
                    eprintln!("CRASH {}: {} -> {}", t.name, c.message, path.display());
                }
                found += r.crashes.len();
            }
            if found > 0 {
                bail!("{found} crashing inputs found");
            }
        }
        Cmd::Replay {
            target: name,
            files,
        } => {
            let t = target(&name)?;
            let mut failed = 0;
            for f in files {
                let input =
                    std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
                match runner::exec(t, &input) {
                    Ok(()) => println!("ok     {}", f.display()),
                    Err(msg) => {
                        failed += 1;
                        println!("PANIC  {}: {msg}", f.display());
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} inputs panicked");
            }
        }
        Cmd::Dicts { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for t in prow_fuzz::all() {
                let text: String = t
                    .dict
                    .iter()
                    .map(|tok| {
                        let escaped: String = tok
                            .bytes()
                            .map(|b| match b {
                                b'"' | b'\\' => format!("\\{}", b as char),
                                0x20..=0x7e => (b as char).to_string(),
                                _ => format!("\\x{b:02x}"),
                            })
                            .collect();
                        format!("\"{escaped}\"\n")
                    })
                    .collect();
                let p = dir.join(format!("{}.dict", t.name));
                std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            }
        }
    }
    Ok(())
}
