#!/usr/bin/env bash
# Applies Prow's control plane to the current kubectl context.
#   deploy/deploy.sh CONFIG_YAML JOB_CONFIG_DIR PLUGINS_YAML
# Secrets (create them first, spec §11.1): hmac-token (hmac), oauth-token (oauth), and optionally
# github-oauth-config (secret), cookie (secret), s3-credentials (service-account.json),
# slack-token (token), kubeconfig (for build clusters other than the service cluster).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
config="${1:?config.yaml}"; jobs="${2:?job config dir}"; plugins="${3:?plugins.yaml}"
prow="${PROW:-prow}"

# Refuse to deploy a config Prow would reject.
"$prow" checkconfig --config-path "$config" --job-config-path "$jobs" --plugin-config "$plugins"

kubectl apply -f "$here/kubernetes/00-namespaces.yaml"
# The ProwJob CRD has a large schema: server-side apply, as Prow requires.
"$prow" crd | kubectl apply --server-side -f -
kubectl apply -f "$here/kubernetes/10-rbac.yaml"
kubectl -n prow create configmap config --from-file=config.yaml="$config" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n prow create configmap plugins --from-file=plugins.yaml="$plugins" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n prow create configmap job-config --from-file="$jobs" --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f "$here/kubernetes/20-components.yaml"
kubectl -n prow rollout status deployment --timeout=5m
