#!/usr/bin/env bash
# Fresh-machine demo: builds `prow`, validates the example deployment in examples/, then runs the
# GitHub simulator and hook on localhost and plays a review through the simulator's REST API:
# /lgtm, /approve, /hold and /test all, printing what the plugins did.
# (The all-in-one `prow local` replaces the two processes as the job runner lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
for tool in curl git; do
  command -v "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool"; }
done
cargo build --release -p prow
PROW=./target/release/prow

echo "== prow checkconfig --strict (examples/)"
$PROW checkconfig --strict --config-path examples/config.yaml \
  --job-config-path examples/jobs --plugin-config examples/plugins.yaml

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
printf 'demo-hmac-secret' > "$WORK/hmac"
printf 'demo-token-bot' > "$WORK/token"
GH=127.0.0.1:18880
HOOK=18888

$PROW fake-github --listen $GH --seed examples/fake-github-seed.yaml \
  --webhook-url http://127.0.0.1:$HOOK/hook --hmac-secret-file "$WORK/hmac" 2> "$WORK/fake-github.log" &
$PROW hook --port $HOOK --health-port 18881 --metrics-port 18890 \
  --config-path examples/config.yaml --job-config-path examples/jobs \
  --plugin-config examples/plugins.yaml --hmac-secret-file "$WORK/hmac" \
  --github-endpoint http://$GH --github-token-path "$WORK/token" \
  --job-store "sqlite:$WORK/prowjobs.sqlite" --event-log-path "$WORK/events.sqlite" \
  --dry-run=false 2> "$WORK/hook.log" &
for _ in $(seq 100); do curl -sf http://127.0.0.1:18881/healthz/ready >/dev/null && break; sleep 0.1; done

api() { curl -sf -H "Authorization: token demo-token-$1" "${@:2}"; }
comment() {
  echo "-- $1 comments: $2"
  api "$1" -X POST -d "{\"body\": \"$2\"}" http://$GH/repos/example-org/example-repo/issues/1/comments >/dev/null
  sleep 1
}
labels() {
  api alice http://$GH/repos/example-org/example-repo/issues/1/labels | grep -o '"name": *"[^"]*"' | sed 's/"name": *//' | tr '\n' ' '
  echo
}

echo "== PR #1 by dave, labels: $(labels)"
comment bob "/lgtm"
comment alice "/approve"
comment alice "/hold"
comment alice "/test all"
echo "== labels now: $(labels)"
echo "== bot comments:"
api alice http://$GH/repos/example-org/example-repo/issues/1/comments | grep -o '"body": *"[^"]\{0,100\}' | sed 's/"body": *"/   /'
echo "== ProwJobs created by trigger (job store $WORK/prowjobs.sqlite):"
grep 'creating a new prowjob' "$WORK/hook.log" | grep -o '"job":"[^"]*"' | sed 's/^/   /' || echo "   (none)"
echo "== hook metrics:"
curl -s http://127.0.0.1:18890/metrics | grep -E '^prow_webhook_(counter|response_codes)' | sed 's/^/   /'
