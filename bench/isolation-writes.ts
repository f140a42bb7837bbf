// Isolation writes: W concurrent writers each add a rule for a tenant of their own and remove it
// again, for a fixed time. Every accepted write is one real change (a locked read-modify-write
// upstream with a read-back); counted: changes per second and upstream isolation calls per change.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import type { Simulator } from '../src/simulator/index.js';
import type { RelayProcess } from './lib/relay-process.js';

export interface IsolationRow {
  writers: number;
  changes: number;
  changesPerSecond: number;
  /** Upstream BAP isolation calls (GET, PUT, operation polls) per applied change. */
  upstreamCallsPerChange: number;
  /** Answers other than 200 with changed: true (e.g. 409 after repeated outside races); should be 0. */
  failures: number;
}

const ISOLATION_ROUTES = ['bap.isolation.get', 'bap.isolation.put', 'bap.isolation.operation'] as const;

export async function measureIsolationWrites(
  sim: Simulator,
  relay: RelayProcess,
  opts: { writers: number[]; durationSeconds: number },
): Promise<IsolationRow[]> {
  const rows: IsolationRow[] = [];
  const agent = new Agent({ connections: 128 });
  try {
    for (const writers of opts.writers) {
      sim.control.reset();
      const upstreamCalls = () => ISOLATION_ROUTES.reduce((sum, route) => sum + sim.control.calls({ route }).length, 0);
      const before = upstreamCalls();
      let changes = 0;
      let failures = 0;
      const started = Date.now();
      const deadline = started + opts.durationSeconds * 1000;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          const tenant = randomUUID();
          const path = `${relay.baseUrl}/v1/tenant-isolation/rules/${tenant}`;
          for (let add = true; Date.now() < deadline; add = !add) {
            const res = await request(path, {
              dispatcher: agent,
              method: add ? 'PUT' : 'DELETE',
              headers: { 'x-api-key': relay.apiKey, ...(add ? { 'content-type': 'application/json' } : {}) },
              ...(add ? { body: JSON.stringify({ direction: 'Both', reason: 'benchmark' }) } : {}),
            });
            const body = (await res.body.json().catch(() => ({}))) as { changed?: boolean };
            if (res.statusCode === 200 && body.changed === true) changes++;
            else {
              failures++;
              add = !add; // retry the same change
            }
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      rows.push({
        writers,
        changes,
        changesPerSecond: changes / seconds,
        upstreamCallsPerChange: changes > 0 ? (upstreamCalls() - before) / changes : 0,
        failures,
      });
    }
  } finally {
    await agent.close();
  }
  return rows;
}
