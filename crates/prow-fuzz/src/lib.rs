//! Fuzz targets for every surface of Prow that parses untrusted input, and a small
//! coverage-less mutation runner that drives them on stable Rust.
//!
//! Each [`Target`] takes raw bytes and calls the real entry points of the crate that owns the
//! parser; it panics only when an invariant breaks (a panic inside the parser, or a property
//! such as "an accepted storage key stays inside its bucket" failing). Two engines run them:
//!
//! * [`runner`]: seeded random mutation of the seed corpus (`corpus/<target>/`), no
//!   instrumentation. Deterministic for a seed, so a short run is part of `cargo test`.
//! * AFL++ through `cargo afl` (binary `prow-fuzz-afl`, compiled only under `cfg(fuzzing)`):
//!   coverage-guided, for long runs (`scripts/fuzz.sh`). See `docs/fuzzing.md`.

pub mod mutate;
pub mod runner;
pub mod targets;

/// One fuzz target: a name (also its corpus directory), the function under test and a
/// dictionary of tokens the mutators splice in so random bytes reach deep parser states.
#[derive(Clone, Copy)]
pub struct Target {
    /// Short name, used for `corpus/<name>/` and on the command line.
    pub name: &'static str,
    /// What the target feeds, for `prow-fuzz list`.
    pub about: &'static str,
    /// Runs one input; panics on a bug.
    pub run: fn(&[u8]),
    /// Tokens for the mutator (also written as an AFL dictionary).
    pub dict: &'static [&'static str],
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).finish()
    }
}

/// Every target, in a stable order.
pub fn all() -> &'static [Target] {
    targets::ALL
}

/// The target called `name`.
pub fn find(name: &str) -> Option<&'static Target> {
    all().iter().find(|t| t.name == name)
}

/// The directory holding the committed seed corpora (`crates/prow-fuzz/corpus`).
pub fn corpus_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Splits an input into at most `n` parts at the line `#====` (a separator that no seed uses
/// for anything else, so multi-file targets keep a readable, text corpus).
pub fn split_parts(data: &str, n: usize) -> Vec<&str> {
    data.splitn(n, "\n#====\n").collect()
}
