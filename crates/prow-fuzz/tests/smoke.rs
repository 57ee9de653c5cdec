//! The short fuzz run that `cargo test` (and so CI) does: every target over its seed corpus,
//! then a fixed number of seeded mutations. Deterministic, so a failure reproduces with the
//! same seed; `prow-fuzz run` and `scripts/fuzz.sh` do the long runs.

use prow_fuzz::runner::{self, Budget};

/// Mutations per target; override with `PROW_FUZZ_ITERATIONS` for a longer local run.
const ITERATIONS: u64 = 2000;
/// Wall-time cap per target, so a loaded machine or a debug build keeps `cargo test` short;
/// override with `PROW_FUZZ_SECONDS`.
const SECONDS: u64 = 5;

fn smoke(name: &str) {
    let target = prow_fuzz::find(name).expect("target exists");
    let corpus = runner::load_corpus(&prow_fuzz::corpus_root().join(name)).expect("corpus");
    assert!(
        corpus.len() >= 3,
        "corpus/{name} has {} seeds; seeds are what make coverage-less fuzzing work",
        corpus.len()
    );
    let iterations = std::env::var("PROW_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ITERATIONS);
    let seconds = std::env::var("PROW_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SECONDS);
    let report = runner::run(
        target,
        &corpus,
        Budget {
            iterations: Some(iterations),
            time: Some(std::time::Duration::from_secs(seconds)),
        },
        0x5eed,
    );
    eprintln!(
        "{name}: {} execs ({} seeds) in {:.1?}",
        report.execs, report.corpus, report.elapsed
    );
    assert!(report.execs > corpus.len() as u64, "no mutated input ran");
    if let Some(c) = report.crashes.first() {
        panic!(
            "{name}: {} crashing inputs; first: {}\ninput: {}",
            report.crashes.len(),
            c.message,
            runner::preview(&c.input)
        );
    }
}

#[test]
fn every_target_has_a_smoke_test() {
    let tested = [
        "webhook",
        "commands",
        "config",
        "owners",
        "gotemplate",
        "junit",
        "spyglass_key",
        "storage_key",
    ];
    let all: Vec<_> = prow_fuzz::all().iter().map(|t| t.name).collect();
    assert_eq!(all, tested);
}

#[test]
fn webhook() {
    smoke("webhook");
}

#[test]
fn commands() {
    smoke("commands");
}

#[test]
fn config() {
    smoke("config");
}

#[test]
fn owners() {
    smoke("owners");
}

#[test]
fn gotemplate() {
    smoke("gotemplate");
}

#[test]
fn junit() {
    smoke("junit");
}

#[test]
fn spyglass_key() {
    smoke("spyglass_key");
}

#[test]
fn storage_key() {
    smoke("storage_key");
}
