// Shared by the rollout tests: a stack over a simulated fleet, and reading the simulator's call
// log per environment (how many install POSTs each got).
import { FLEET_PACKAGE, fleetEnvironmentId } from '../../src/simulator/index.js';
import { type Stack, type StackOptions, startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

export { FLEET_PACKAGE, fleetEnvironmentId };

/** Retries and leases in milliseconds, not the production seconds. */
export const FAST_ROLLOUTS = { retryDelayCapMs: 150, leaseTtlMs: 3_000, adoptEveryMs: 500 };

export function startFleet(environments: number, opts: StackOptions = {}): Promise<Stack> {
  return startStack({ ...opts, simulatorOptions: { environments, ...opts.simulatorOptions }, rollouts: { ...FAST_ROLLOUTS, ...opts.rollouts } });
}

/** Install POSTs upstream accepted (202) per environment id. */
export function acceptedPosts(stack: Stack): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of stack.sim.control.calls({ method: 'POST', route: 'ppapi.install' })) {
    if (c.status < 200 || c.status >= 300) continue;
    const env = /environments\/([^/]+)\//.exec(c.path)?.[1] ?? '?';
    counts.set(env, (counts.get(env) ?? 0) + 1);
  }
  return counts;
}

// biome-ignore lint/suspicious/noExplicitAny: the rollout as the API answers it
export async function rolloutEnded(stack: Stack, id: string): Promise<any> {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  let last: any;
  await waitFor(async () => {
    last = (await stack.request('GET', `/v1/rollouts/${id}`)).body;
    return last.status !== 'Running';
  }, `rollout ${id} to end`, { timeoutMs: 60_000, everyMs: 50 });
  return last;
}

// biome-ignore lint/suspicious/noExplicitAny: rows as the API answers them
export const row = (r: any, i: number) => r.environments.find((e: { environmentId: string }) => e.environmentId === fleetEnvironmentId(i));
