/**
 * The reliability suite: every scenario, in the order `pnpm chaos` runs them. The CI test
 * (tests/e2e/chaos.e2e.test.ts) runs the same scenarios at their short size.
 * @module
 */
import type { Scenario, ScenarioContext } from './scenario.js';
import { signerKilled } from './scenarios/signer-killed.js';
import { signerRestarted } from './scenarios/signer-restarted.js';
import { signerStalled } from './scenarios/signer-stalled.js';
import { cheatingSigner } from './scenarios/cheating-signer.js';
import { coordinatorSigterm } from './scenarios/coordinator-sigterm.js';
import { fuzzing } from './scenarios/fuzzing.js';
import { oversizedMessages } from './scenarios/oversized-messages.js';
import { slowBodies } from './scenarios/slow-bodies.js';
import { soak } from './scenarios/soak.js';

export const SCENARIOS: readonly Scenario<never>[] = [
  signerKilled,
  signerRestarted,
  signerStalled,
  cheatingSigner,
  coordinatorSigterm,
  fuzzing,
  oversizedMessages,
  slowBodies,
  soak,
] as unknown as Scenario<never>[];

/** Seed of the suite's random choices unless CHAOS_SEED says otherwise. */
export const DEFAULT_SEED = 0x5eed2026;

/**
 * Other builds of the services to run instead of the workspace's (CHAOS_SIGNER_MAIN,
 * CHAOS_COORDINATOR_MAIN: paths of their dist/main.js), e.g. an older checkout's, to see a target
 * fail before its fix.
 */
export function servicesFromEnv(env: Record<string, string | undefined>): ScenarioContext['services'] {
  return {
    ...(env.CHAOS_SIGNER_MAIN ? { signerMain: env.CHAOS_SIGNER_MAIN } : {}),
    ...(env.CHAOS_COORDINATOR_MAIN ? { coordinatorMain: env.CHAOS_COORDINATOR_MAIN } : {}),
  };
}

export { runScenario, describeTarget, type Scenario, type ScenarioResult, type Target, type ScenarioContext } from './scenario.js';
