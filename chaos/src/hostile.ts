/**
 * A second, hostile caller of the coordinator: its own client certificate (from the CA that issued
 * the environment's caller certificate) and its own entry in the coordinator's allowlist, so that
 * what it does can be told apart from the normal caller — and so that a limit per principal can
 * protect the normal caller from it.
 * @module
 */
import { certificateSans, issueCallerIdentity, type CallerIdentity, type ClusterOptions, type DevEnvironment } from '@hoarfrost/testkit';

export const HOSTILE_CALLER = 'chaos-hostile';

/** Issues the hostile caller's certificate; cluster options that allow it next to the normal caller. */
export async function withHostileCaller(env: DevEnvironment, extraEnv: Record<string, string> = {}): Promise<{ hostile: CallerIdentity; options: ClusterOptions }> {
  const hostile = await issueCallerIdentity(env, HOSTILE_CALLER);
  const allowed = [...certificateSans(env.clientCertFile), hostile.san].join(',');
  return { hostile, options: { coordinatorExtraEnv: { COORDINATOR_ALLOWED_CLIENT_SANS: allowed, ...extraEnv } } };
}
