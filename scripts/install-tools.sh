#!/usr/bin/env bash
# Installs the deployment-check tools into .tools/: the Go programs (helm, kube-score, kustomize,
# kube-linter) into .tools/bin with `go install` from the Go module proxy, and checkov (PyPI) into its own
# virtual environment .tools/checkov. Idempotent: a tool already at the pinned version is kept.
# Also a Redis-protocol server for the relay's replicated tests when none is installed (valkey-server or
# redis-server): Debian's redis packages unpacked into .tools/redis, without root.
# In CI (CI=true) a missing toolchain (Go, Python 3) fails; locally it is reported and the checks that need
# it are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.19.0
KUBE_SCORE_VERSION=v1.20.0
KUSTOMIZE_VERSION=v5.7.1
KUBE_LINTER_VERSION=v0.7.6
CHECKOV_VERSION=3.3.30

TOOLS="$PWD/.tools"
missing() { # toolchain purpose
  if [ "${CI:-}" = "true" ]; then echo "install-tools: $1 is required in CI ($2)" >&2; exit 1; fi
  echo "install-tools: $1 not found; $2 will be SKIPPED (install $1 to run them)" >&2
}

install_go_tools() {
  export GOBIN="$TOOLS/bin"
  mkdir -p "$GOBIN"
  want() { # name version
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
}

# checkov lives in its own venv so its many Python dependencies never touch the system or user site.
# The venv is rebuilt from scratch when the pinned version changes.
install_checkov() {
  local venv="$TOOLS/checkov" stamp="$TOOLS/checkov/.version"
  if [ -x "$venv/bin/checkov" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$CHECKOV_VERSION" ]; then return 0; fi
  echo "installing checkov $CHECKOV_VERSION"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  echo "$CHECKOV_VERSION" > "$stamp"
}

# The relay's tests start a real Redis-protocol server. Without one installed, Debian's packages are
# downloaded (`apt-get download` needs no root) and unpacked (`dpkg -x`) into .tools/redis; .tools/bin/
# redis-server runs it with its two libraries. Debian's redis-server is redis-check-rdb under another name.
install_redis() {
  if command -v valkey-server >/dev/null 2>&1 || command -v redis-server >/dev/null 2>&1 || [ -x "$TOOLS/bin/redis-server" ]; then return 0; fi
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    missing "valkey-server or redis-server" "the relay's Redis-protocol tests"
    return 0
  fi
  echo "installing redis-server (Debian packages, unpacked into .tools/redis)"
  local dl root="$TOOLS/redis"
  dl=$(mktemp -d)
  if ! (cd "$dl" && apt-get download redis-tools liblzf1 libjemalloc2 >/dev/null); then
    rm -rf "$dl"
    missing "valkey-server or redis-server (apt-get download failed)" "the relay's Redis-protocol tests"
    return 0
  fi
  rm -rf "$root"
  mkdir -p "$root" "$TOOLS/bin"
  for deb in "$dl"/*.deb; do dpkg -x "$deb" "$root"; done
  rm -rf "$dl"
  ln -sf redis-check-rdb "$root/usr/bin/redis-server"
  cat > "$TOOLS/bin/redis-server" <<WRAPPER
#!/bin/sh
LD_LIBRARY_PATH="$root/usr/lib/$(uname -m)-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$root/usr/bin/redis-server" "\$@"
WRAPPER
  chmod +x "$TOOLS/bin/redis-server"
  "$TOOLS/bin/redis-server" --version
}

if command -v go >/dev/null 2>&1; then install_go_tools; else missing Go "the Helm/Kubernetes checks"; fi
install_redis
if command -v python3 >/dev/null 2>&1; then install_checkov; else missing "Python 3" "the checkov checks"; fi
