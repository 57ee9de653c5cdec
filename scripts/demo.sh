#!/usr/bin/env bash
# Builds `prow` and runs it on the example config shipped in examples/.
# (The all-in-one `prow local` demo replaces this as the job runner lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p prow
./target/release/prow checkconfig --strict \
  --config-path examples/config.yaml \
  --job-config-path examples/jobs \
  --plugin-config examples/plugins.yaml
