//! The built-in engine: runs a target over its seed corpus, then over seeded mutations of it,
//! catching panics. Used by `cargo test` (fixed iteration count) and by `prow-fuzz run`
//! (time budget) where AFL++ is not available.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::Target;
use crate::mutate::Mutator;

/// How long to fuzz.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop after this many mutated inputs (the corpus itself always runs first).
    pub iterations: Option<u64>,
    /// Stop mutating after this much wall time (the seeds always run, and at least one
    /// mutated input).
    pub time: Option<Duration>,
}

/// An input that made the target panic.
#[derive(Debug, Clone)]
pub struct Crash {
    /// The input.
    pub input: Vec<u8>,
    /// The panic message with its location.
    pub message: String,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Inputs executed (corpus + mutations).
    pub execs: u64,
    /// Seed inputs.
    pub corpus: usize,
    /// Distinct panics (by message), first input for each.
    pub crashes: Vec<Crash>,
    /// Wall time.
    pub elapsed: Duration,
}

thread_local! {
    /// Set while this thread runs a target: the panic hook records instead of printing.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Targets running now, in any thread.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Panics of other threads (a parser's helper threads) while a target runs, counted so that
/// `exec` can tell whether its run saw one; with several targets running at once a count may
/// be seen by a neighbour, which is fine: any such panic is a bug to look at.
static FOREIGN: AtomicUsize = AtomicUsize::new(0);
static FOREIGN_LAST: Mutex<String> = Mutex::new(String::new());

fn describe(info: &panic::PanicHookInfo<'_>) -> String {
    let msg = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into());
    let loc = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    format!("{msg} (at {loc})")
}

/// Installs, once, a panic hook that records panics of threads running a target (and of
/// threads they spawned) and leaves every other panic to the previous hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let captured = CAPTURE.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        *slot = describe(info);
                        true
                    }
                    None => false,
                }
            });
            if captured {
                return;
            }
            if ACTIVE.load(Ordering::SeqCst) > 0 {
                *FOREIGN_LAST.lock().unwrap_or_else(|p| p.into_inner()) = describe(info);
                FOREIGN.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

/// Runs `target` on one input; `Err` carries the panic message, also for a panic in a thread
/// the target spawned. With `PROW_FUZZ_LAST_INPUT` set to a path, each input is written there
/// first, so a hang or an abort (stack overflow, out of memory) leaves its input behind.
pub fn exec(target: &Target, input: &[u8]) -> Result<(), String> {
    install_hook();
    if let Some(path) = std::env::var_os("PROW_FUZZ_LAST_INPUT") {
        let _ = std::fs::write(path, input);
    }
    CAPTURE.with(|c| *c.borrow_mut() = Some(String::new()));
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    let foreign_before = FOREIGN.load(Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    let foreign = FOREIGN.load(Ordering::SeqCst) != foreign_before;
    ACTIVE.fetch_sub(1, Ordering::SeqCst);
    let msg = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    match result {
        Err(_) => Err(msg),
        Ok(()) if foreign => Err(format!(
            "panic in another thread: {}",
            FOREIGN_LAST.lock().unwrap_or_else(|p| p.into_inner())
        )),
        Ok(()) => Ok(()),
    }
}

/// Reads every regular file of `dir` (sorted by name); a missing directory is an empty corpus.
pub fn load_corpus(dir: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading corpus {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).with_context(|| format!("reading {}", p.display())))
        .collect()
}

/// Runs the corpus, then mutations until the budget is spent. Distinct panics are collected;
/// the run stops early after 20 of them.
pub fn run(target: &Target, corpus: &[Vec<u8>], budget: Budget, seed: u64) -> Report {
    let start = Instant::now();
    let mut report = Report {
        corpus: corpus.len(),
        ..Default::default()
    };
    let note = |input: &[u8], result: Result<(), String>, report: &mut Report| {
        report.execs += 1;
        if let Err(message) = result
            && !report.crashes.iter().any(|c| c.message == message)
        {
            report.crashes.push(Crash {
                input: input.to_vec(),
                message,
            });
        }
    };
    for input in corpus {
        let r = exec(target, input);
        note(input, r, &mut report);
    }
    let mut m = Mutator::new(seed, target.dict);
    let empty = [Vec::new()];
    let bases = if corpus.is_empty() {
        &empty[..]
    } else {
        corpus
    };
    let mut done = 0u64;
    // The time budget is for mutations: a slow machine still gets past the seeds.
    let mutating = Instant::now();
    loop {
        if budget.iterations.is_some_and(|n| done >= n)
            || budget
                .time
                .is_some_and(|t| done > 0 && mutating.elapsed() >= t)
            || report.crashes.len() >= 20
        {
            break;
        }
        let base = &bases[m.below(bases.len())];
        let input = m.mutate(base, bases);
        let r = exec(target, &input);
        note(&input, r, &mut report);
        done += 1;
    }
    report.elapsed = start.elapsed();
    report
}

/// Writes each crash's input to `dir/<target>-<n>` and returns the paths.
pub fn save_crashes(dir: &Path, target: &Target, report: &Report) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    report
        .crashes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = dir.join(format!("{}-{i}", target.name));
            std::fs::write(&p, &c.input).with_context(|| format!("writing {}", p.display()))?;
            Ok(p)
        })
        .collect()
}

/// Printable preview of an input for failure messages.
pub fn preview(input: &[u8]) -> String {
    let s = String::from_utf8_lossy(&input[..input.len().min(400)]);
    format!("{s:?}{}", if input.len() > 400 { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boom(data: &[u8]) {
        if data.windows(4).any(|w| w == b"BOOM") {
            panic!("found the bomb");
        }
    }

    const BOMB: Target = Target {
        name: "bomb",
        about: "test",
        run: boom,
        dict: &["BOOM"],
    };

    #[test]
    fn catches_panics_from_corpus_and_mutations() {
        let r = run(
            &BOMB,
            &[b"a BOOM".to_vec()],
            Budget {
                iterations: Some(0),
                time: None,
            },
            1,
        );
        assert_eq!(r.execs, 1);
        assert_eq!(r.crashes.len(), 1);
        assert!(r.crashes[0].message.contains("found the bomb"));
        assert!(r.crashes[0].message.contains("runner.rs"));

        // The dictionary token gets spliced in by mutation alone.
        let r = run(
            &BOMB,
            &[b"harmless".to_vec()],
            Budget {
                iterations: Some(5000),
                time: None,
            },
            1,
        );
        assert_eq!(r.crashes.len(), 1, "the mutator never produced the token");
        assert!(r.crashes[0].input.windows(4).any(|w| w == b"BOOM"));
    }

    fn spawns_a_panicking_thread(data: &[u8]) {
        if data == b"spawn" {
            let _ = std::thread::spawn(|| panic!("helper thread died")).join();
        }
    }

    #[test]
    fn panics_in_threads_the_target_spawns_count() {
        let t = Target {
            name: "spawner",
            about: "test",
            run: spawns_a_panicking_thread,
            dict: &[],
        };
        assert!(exec(&t, b"quiet").is_ok());
        let err = exec(&t, b"spawn").expect_err("the helper's panic is seen");
        assert!(err.contains("helper thread died"), "{err}");
    }

    #[test]
    fn other_panics_still_reach_the_previous_hook_and_exec_recovers() {
        install_hook();
        assert!(exec(&BOMB, b"fine").is_ok());
        assert!(exec(&BOMB, b"BOOM").is_err());
        assert!(exec(&BOMB, b"fine again").is_ok());
        let outside = std::panic::catch_unwind(|| panic!("not captured"));
        assert!(outside.is_err());
    }
}
