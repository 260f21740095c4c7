// The reliability suite (chaos/) at its short size: every scenario against a real 2-of-3 deployment —
// processes killed, restarted, stopped, cheating, terminated, fuzzed, flooded — and every target
// asserted. `pnpm chaos` runs the same scenarios at full size (RELIABILITY.md).
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_SEED, SCENARIOS, describeTarget, runScenario, servicesFromEnv, type ScenarioContext } from '../../chaos/src/index.js';

// CHAOS_SIGNER_MAIN / CHAOS_COORDINATOR_MAIN run another build (e.g. the code before a fix).
const ctx: ScenarioContext = { seed: DEFAULT_SEED, log: () => {}, services: servicesFromEnv(process.env) };

describe('reliability suite, short runs', () => {
  it.each(SCENARIOS.map((s) => [s.id, s] as const))('%s meets its targets', async (_id, scenario) => {
    const result = await runScenario(scenario, 'short', ctx);
    expect(result.targets.length).toBeGreaterThan(0);
    // The missed targets by name, measured value and bound: the failure message is the figure.
    expect(result.targets.filter((t) => !t.pass).map(describeTarget)).toEqual([]);
  }, 120_000);
});
