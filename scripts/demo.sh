#!/usr/bin/env bash
# Fresh-machine demo: builds `prow`, validates the example deployment in examples/, then starts
# the all-in-one `prow local` on its embedded default (GitHub simulator, hook + plugins, job
# controller running jobs as local processes, crier, tide, Deck, SQLite store, artifacts on disk)
# and plays a review through the simulator's REST API: /lgtm, /approve, /hold, /test all, then
# /hold cancel so Tide merges the PR. It prints what the plugins did, the jobs that ran, the
# commit statuses crier wrote and the merge, then keeps serving Deck at http://127.0.0.1:8080/
# until Ctrl-C (DEMO_EXIT=1 stops right away instead).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
for tool in curl git; do
  command -v "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool"; }
done
# `prow local` runs jobs only in a bubblewrap sandbox (and refuses them without one).
command -v bwrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap; }
if [ -n "${PROW_BIN:-}" ]; then
  PROW=$PROW_BIN   # an already-built binary (used to check this script quickly)
else
  cargo build --release -p prow
  PROW=./target/release/prow
fi
PORT=${PORT:-8080}

echo "== prow checkconfig --strict (examples/)"
$PROW checkconfig --strict --config-path examples/config.yaml \
  --job-config-path examples/jobs --plugin-config examples/plugins.yaml

DATA=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DATA"' EXIT
$PROW local --data-dir "$DATA" --port "$PORT" --health-port 18081 --metrics-port 18090 2> "$DATA/prow-local.log" &
for _ in $(seq 200); do curl -sf http://127.0.0.1:18081/healthz/ready >/dev/null && break; sleep 0.1; done

GH=http://127.0.0.1:$PORT/fake-github
api() { curl -sf -H "Authorization: token demo-token-$1" "${@:2}"; }
comment() {
  echo "-- $1 comments: $2"
  api "$1" -X POST -d "{\"body\": \"$2\"}" "$GH/repos/example-org/example-repo/issues/1/comments" >/dev/null
  sleep 1
}
labels() {
  api alice "$GH/repos/example-org/example-repo/issues/1/labels" | grep -o '"name": *"[^"]*"' | sed 's/"name": *//' | tr '\n' ' '
  echo
}

echo "== PR #1 by dave (an outside contributor), labels: $(labels)"
comment bob "/lgtm"
comment alice "/approve"
comment alice "/hold"
comment alice "/test all"
echo "== labels now: $(labels)"
echo "== bot comments:"
api alice "$GH/repos/example-org/example-repo/issues/1/comments" | grep -o '"body": *"[^"]\{0,90\}' | sed 's/"body": *"/   /'
echo "== jobs (waiting for them to finish):"
jobs_json() { curl -s "http://127.0.0.1:$PORT/prowjobs.js"; }
for _ in $(seq 60); do
  jobs_json | grep -q '"state":"\(triggered\|pending\)"' || break
  sleep 1
done
jobs_json | grep -o '"job":"[^"]*"\|"state":"[^"]*"' | sed 's/"job":"//; s/"state":"//; s/"$//' | paste - - | sed 's/^/   /'
comment alice "/hold cancel"
echo "== waiting for Tide to merge PR #1 (sync every 30s)..."
merged=no
for _ in $(seq 120); do
  if api alice "$GH/repos/example-org/example-repo/pulls/1" | grep -q '"merged": *true'; then merged=yes; break; fi
  sleep 1
done
echo "   merged: $merged"
head_sha=$(api alice "$GH/repos/example-org/example-repo/pulls/1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["head"]["sha"])')
echo "== commit statuses on the PR head (written by crier and tide):"
api alice "$GH/repos/example-org/example-repo/commits/$head_sha/status" | python3 -c '
import json, sys
for st in json.load(sys.stdin).get("statuses", []):
    print("   %-20s %-8s %s" % (st["context"], st["state"], st["description"].replace("\u2001", "").strip()))
' || true
echo "== artifacts (Prow's bucket layout, file://$DATA/artifacts):"
(cd "$DATA/artifacts" && find pr-logs logs -type f 2>/dev/null | sort | sed 's/^/   /' | head -20)
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
echo
echo "prow local is serving Deck at http://127.0.0.1:$PORT/ (jobs, Spyglass, /tide, /pr after"
echo "logging in as a seeded user through the simulator, /command-help, /artifacts/);"
echo "the simulated GitHub is at $GH (tokens in examples/fake-github-seed.yaml). Ctrl-C to stop."
wait
