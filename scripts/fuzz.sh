#!/usr/bin/env bash
# Fuzz every prow-fuzz target for SECONDS each (per target, not in total).
#
#   scripts/fuzz.sh SECONDS [TARGET...]
#
# Engine: AFL++ through cargo-afl (coverage-guided, stable Rust), installed from crates.io when
# missing; FUZZ_ENGINE=builtin uses the crate's own seeded mutator instead (no install, no
# coverage). Output goes to target/fuzz/<target>/ (AFL++ state, crashes, hangs); a Markdown
# table of execs, corpus size, crashes and hangs per target is printed at the end and written to
# target/fuzz/summary.md. Exits 1 when any target crashed. Replay a crash with
#   cargo run -p prow-fuzz --bin prow-fuzz -- replay TARGET FILE...
set -euo pipefail

cd "$(dirname "$0")/.."
secs="${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}"
shift
engine="${FUZZ_ENGINE:-afl}"
out=target/fuzz
mkdir -p "$out"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(webhook commands config owners gotemplate junit spyglass_key storage_key)
fi

if [ "$engine" = builtin ]; then
  cargo build --release -p prow-fuzz --bin prow-fuzz
  target/release/prow-fuzz run --seconds "$secs" --crashes "$out/crashes" "${targets[@]}" \
    | tee "$out/summary.md"
  exit "${PIPESTATUS[0]}"
fi

if ! cargo afl --version >/dev/null 2>&1; then
  echo "cargo-afl not found; installing it from crates.io (builds AFL++ too)" >&2
  cargo install cargo-afl --locked
fi
# Builds AFL++'s runtime for this rustc if it is not there yet (a no-op otherwise).
cargo afl config --build >/dev/null 2>&1 || true

# An instrumented release build in its own target dir, so it never invalidates target/.
CARGO_TARGET_DIR=target/afl cargo afl build --release -p prow-fuzz --bin prow-fuzz-afl
cargo build -p prow-fuzz --bin prow-fuzz
target/debug/prow-fuzz dicts "$out/dicts"

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# A shared machine: do not let AFL++ abort when another fuzzer or build holds the cores.
export AFL_TRY_AFFINITY=1

status=0
{
  echo "| target | execs | execs/s | seeds | corpus after | crashes | hangs |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$out/summary.md"
for t in "${targets[@]}"; do
  rm -rf "$out/$t"
  seeds=$(find "crates/prow-fuzz/corpus/$t" -type f | wc -l)
  PROW_FUZZ_TARGET="$t" cargo afl fuzz -V "$secs" -t 2000 \
    -i "crates/prow-fuzz/corpus/$t" -o "$out/$t" -x "$out/dicts/$t.dict" \
    -- target/afl/release/prow-fuzz-afl >"$out/$t.log" 2>&1 || {
      echo "afl-fuzz failed for $t; see $out/$t.log" >&2
      tail -20 "$out/$t.log" >&2
      status=1
      continue
    }
  stats="$out/$t/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  echo "| $t | $(get execs_done) | $(get execs_per_sec) | $seeds | $(get corpus_count) | $(get saved_crashes) | $(get saved_hangs) |" \
    >>"$out/summary.md"
  if [ "$(get saved_crashes)" != 0 ]; then
    status=1
    echo "CRASHES in $t: $out/$t/default/crashes/" >&2
  fi
done
cat "$out/summary.md"
exit "$status"
