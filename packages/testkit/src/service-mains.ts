/**
 * The services' entry points, found the way Node finds any dependency: through this package's
 * dependencies on @hoarfrost/signer and @hoarfrost/coordinator and their `./main` exports. No path
 * into the repository is assumed, so the kit works wherever the workspace links it (tests, bench,
 * `pnpm start`).
 * @module
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function resolveMain(specifier: string): string {
  try {
    return require.resolve(specifier);
  } catch (e) {
    // The export points into dist/: an unbuilt workspace is the usual cause, so say so.
    throw new Error(`cannot resolve ${specifier} (is the workspace built? run \`pnpm build\`): ${(e as Error).message}`, { cause: e });
  }
}

// Resolved when a process is started, not at import: unit tests import the kit from an unbuilt checkout.

/** Absolute path of the built signer entry point (`@hoarfrost/signer/main`). */
export const signerMain = (): string => resolveMain('@hoarfrost/signer/main');
/** Absolute path of the built coordinator entry point (`@hoarfrost/coordinator/main`). */
export const coordinatorMain = (): string => resolveMain('@hoarfrost/coordinator/main');
