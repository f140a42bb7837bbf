// A lighter fixture than stack.ts for tests of the upstream clients alone: the simulator plus
// createUpstreamClients pointed at it (real @azure/identity, real undici, HTTPS), with a
// FastClock so retry waits are recorded instead of slept.
import { randomUUID } from 'node:crypto';
import { type Config, loadConfig } from '../../src/config.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';
import { createUpstreamClients, type UpstreamClientOptions } from '../../src/upstream/index.js';
import { simulatorEnv } from '../../src/upstream/simulator-env.js';
import type { CallContext, UpstreamClients } from '../../src/upstream/types.js';
import { FastClock } from './fast-clock.js';

export interface UpstreamFixture {
  sim: Simulator;
  config: Config;
  upstream: UpstreamClients;
  clock: FastClock;
  /** A fresh call context (new correlation id) with an optional deadline in clock time. */
  ctx(extra?: Partial<CallContext>): CallContext;
  /** New clients (fresh token cache) on the same simulator, e.g. with other env. */
  clients(env?: Record<string, string>, opts?: UpstreamClientOptions): UpstreamClients;
  close(): Promise<void>;
}

export async function startUpstreamFixture(
  opts: { env?: Record<string, string>; speed?: number; simulatorOptions?: Partial<SimulatorOptions> } = {},
): Promise<UpstreamFixture> {
  const sim = await startSimulator({ speed: opts.speed ?? 50, ...opts.simulatorOptions });
  const clock = new FastClock();
  const opened: UpstreamClients[] = [];
  const makeConfig = (env: Record<string, string> = {}) =>
    loadConfig({ ...simulatorEnv(sim), AUDIT_STORE: 'memory', LOG_LEVEL: 'silent', ...opts.env, ...env });
  const clients = (env?: Record<string, string>, o?: UpstreamClientOptions) => {
    const c = createUpstreamClients(makeConfig(env), { clock, ...o });
    opened.push(c);
    return c;
  };
  const config = makeConfig();
  const upstream = clients();
  return {
    sim,
    config,
    upstream,
    clock,
    ctx: (extra = {}) => ({ correlationId: randomUUID(), ...extra }),
    clients,
    async close() {
      await Promise.allSettled(opened.map((c) => c.close()));
      await sim.close();
    },
  };
}
