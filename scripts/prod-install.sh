#!/usr/bin/env bash
# The production install of each deployable, exactly as the images run it: a pruned, production-only
# dependency tree per service (pnpm deploy), from an already built workspace.
#   scripts/prod-install.sh OUT_DIR   ->  OUT_DIR/{coordinator,signer,relay,frostctl}
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: prod-install.sh OUT_DIR}"
rm -rf "$out"
mkdir -p "$out"
# Deploy from the shared lockfile: exactly the locked versions, offline from the store, so it works
# after a lockfile-only install (CI's --frozen-lockfile, the image's `pnpm fetch`). The legacy deploy
# resolves every dependency again, which needs registry metadata even with --offline and can pick
# other transitive versions. Injecting workspace packages is set for the deploy only (it copies their
# published files, dist/ and the native addon); the workspace itself keeps its links.
deploy() {
  pnpm --filter "$1" deploy --prod --offline --config.inject-workspace-packages=true "$2"
}
deploy @hoarfrost/coordinator "$out/coordinator"
deploy @hoarfrost/signer "$out/signer"
deploy @hoarfrost/relay "$out/relay"
deploy @hoarfrost/cli "$out/frostctl"
# Sources, maps and type declarations are not needed at run time, nor other platforms' prebuilt addons.
find "$out" \( -name '*.ts' -o -name '*.map' -o -name '*.tsbuildinfo' \) -type f -delete
platform=$(node -p 'process.platform + "-" + process.arch')
find "$out" -path '*/prebuilds/*' -type f -not -path "*/prebuilds/$platform/*" -delete
