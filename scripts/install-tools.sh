#!/usr/bin/env bash
# Installs the deployment-check tools (Go programs) into .tools/bin with `go install` from the Go module
# proxy. Idempotent: a tool already at the pinned version is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then echo "install-tools: Go is required in CI" >&2; exit 1; fi
  echo "install-tools: Go not found; the Helm/Kubernetes checks will be SKIPPED (install Go to run them)" >&2
  exit 0
fi
export GOBIN="$PWD/.tools/bin"
mkdir -p "$GOBIN"

HELM_VERSION=v3.19.0
KUBE_SCORE_VERSION=v1.20.0
KUSTOMIZE_VERSION=v5.7.1
KUBE_LINTER_VERSION=v0.7.6

want() { # name version stamp-file
  [ -x "$GOBIN/$1" ] && [ "$(cat "$GOBIN/.$1.version" 2>/dev/null)" = "$2" ] && return 1 || return 0
}
install() { # name version module
  if want "$1" "$2"; then
    echo "installing $1 $2"
    if go install "$3@$2"; then echo "$2" > "$GOBIN/.$1.version"; else echo "could not install $1 $2 from the Go module proxy" >&2; return 1; fi
  fi
}

install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
install kube-score "$KUBE_SCORE_VERSION" github.com/zegl/kube-score/cmd/kube-score
install kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5
# kube-linter: the module proxy answers 403 for golang.stackrox.io/kube-linter on these machines; keep
# trying so that it is used as soon as it is reachable (deploy checks treat it as optional until then).
install kube-linter "$KUBE_LINTER_VERSION" golang.stackrox.io/kube-linter/cmd/kube-linter || true
