//! AFL++ harness: `PROW_FUZZ_TARGET=<name>` picks the target, AFL++ feeds inputs in persistent
//! mode. Built only by `cargo afl build` (which sets `--cfg fuzzing` and links the AFL++
//! runtime); an ordinary build gets a stub that says so. Driven by `scripts/fuzz.sh`.

#[cfg(fuzzing)]
fn main() {
    let name = std::env::var("PROW_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = prow_fuzz::find(&name) else {
        eprintln!("PROW_FUZZ_TARGET={name:?} is not a target; see `prow-fuzz list`");
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        (target.run)(data);
    });
}

#[cfg(not(fuzzing))]
fn main() {
    eprintln!(
        "prow-fuzz-afl must be built with `cargo afl build` (see scripts/fuzz.sh); \
         use `prow-fuzz replay` to run inputs without AFL++"
    );
    std::process::exit(2);
}
