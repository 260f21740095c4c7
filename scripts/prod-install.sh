#!/usr/bin/env bash
# The production install of each deployable, exactly as the images run it: a pruned, production-only
# dependency tree per service (pnpm deploy), from an already built workspace.
#   scripts/prod-install.sh OUT_DIR   ->  OUT_DIR/{coordinator,signer,frostctl}
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: prod-install.sh OUT_DIR}"
rm -rf "$out"
mkdir -p "$out"
# --legacy: deploy from the workspace's own links (no inject-workspace-packages needed).
pnpm --filter @hoarfrost/coordinator deploy --prod --legacy --offline "$out/coordinator"
pnpm --filter @hoarfrost/signer deploy --prod --legacy --offline "$out/signer"
pnpm --filter @hoarfrost/cli deploy --prod --legacy --offline "$out/frostctl"
# Sources, maps and type declarations are not needed at run time, nor other platforms' prebuilt addons.
find "$out" \( -name '*.ts' -o -name '*.map' -o -name '*.tsbuildinfo' \) -type f -delete
platform=$(node -p 'process.platform + "-" + process.arch')
find "$out" -path '*/prebuilds/*' -type f -not -path "*/prebuilds/$platform/*" -delete
