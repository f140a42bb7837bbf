// THE shared integration harness: the simulator, the real upstream clients over HTTPS, and the
// relay app listening on 127.0.0.1. Every integration test builds on this; keep the API stable.
//
//   const stack = await startStack({ env?, speed?, seed?, simulatorOptions?, logger?, clock? });
//   stack.sim        the running simulator (stack.sim.control: faults, call log, options, tokens)
//   stack.config     the relay Config (loadConfig of simulatorEnv(sim) + defaults + opts.env)
//   stack.upstream   the UpstreamClients the app uses (real @azure/identity + undici)
//   stack.app        the Fastify app (app.metrics is shared with the upstream clients); stack.baseUrl = 'http://127.0.0.1:<port>' (= config.publicBaseUrl)
//   stack.apiKey     the demo key (every permission), sent as X-API-Key by stack.request
//   stack.request(method, path, { body?, headers? }) → { status, headers, body }  (JSON parsed when it is JSON;
//                    pass headers { 'x-api-key': '' } to send no key)
//   await stack.close()   closes app, upstream pools and simulator (call it in t.teardown)
//
// Defaults: simulator speed 50, AUDIT_STORE=memory, LOG_LEVEL=silent, a random WAIT_URL_SECRET and
// DEMO_API_KEY. opts.env overrides any variable (e.g. { AUTH_MODE: 'entra', ENTRA_AUDIENCE: ... }).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { request as undiciRequest } from 'undici';
import { type AppDeps, buildApp, type RelayApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { RelayMetrics } from '../../src/http/metrics.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';
import { createUpstreamClients, type UpstreamClientOptions } from '../../src/upstream/index.js';
import { simulatorEnv as simulatorEnvFor } from '../../src/upstream/simulator-env.js';
import type { UpstreamClients } from '../../src/upstream/types.js';

export interface StackOptions {
  env?: Record<string, string>;
  /** Simulator clock multiplier; default 50 (a demo install takes a fraction of a second). */
  speed?: number;
  seed?: SimulatorOptions['seed'];
  simulatorOptions?: Partial<SimulatorOptions>;
  logger?: Logger;
  /** Clock for the app and the upstream clients (e.g. test/helpers/fast-clock.ts). */
  clock?: Clock;
  /** Extra options for createUpstreamClients (backoff, scopes...). */
  upstreamOptions?: UpstreamClientOptions;
  /** Rollout timing for buildApp (shorter retries and leases in tests). */
  rollouts?: AppDeps['rollouts'];
}

export interface StackResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON-parsed when the response is JSON; `any` so tests can read fields without casts. */
  // biome-ignore lint/suspicious/noExplicitAny: test convenience, documented in the harness API
  body: any;
}

export interface Stack {
  sim: Simulator;
  config: Config;
  upstream: UpstreamClients;
  app: RelayApp;
  baseUrl: string;
  apiKey: string;
  request(method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }): Promise<StackResponse>;
  close(): Promise<void>;
}

/** The env vars that point the relay at this simulator (the same mapping main.ts uses). */
export function simulatorEnv(sim: Simulator): Record<string, string> {
  return simulatorEnvFor(sim);
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const sim = await startSimulator({
    speed: opts.speed ?? 50,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...opts.simulatorOptions,
  });
  const cleanups: Array<() => Promise<unknown>> = [() => sim.close()];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    const apiKey = opts.env?.DEMO_API_KEY ?? `demo-${randomBytes(18).toString('base64url')}`;
    const config = loadConfig({
      ...simulatorEnv(sim),
      WAIT_URL_SECRET: randomBytes(32).toString('base64url'),
      AUDIT_STORE: 'memory',
      DEMO_API_KEY: apiKey,
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      ...opts.env,
    });
    // One metrics object for app and clients, as main.ts does, so /metrics counts upstream calls.
    const metrics = new RelayMetrics({ processMetrics: false });
    const upstream = createUpstreamClients(config, {
      observer: metrics,
      ...opts.upstreamOptions,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    cleanups.push(() => upstream.close());
    const app = await buildApp({ config, upstream, metrics, ...(opts.rollouts ? { rollouts: opts.rollouts } : {}), ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('relay did not listen on a TCP port');
    const baseUrl = `http://127.0.0.1:${address.port}`;
    config.publicBaseUrl = baseUrl;
    config.port = address.port;

    const request: Stack['request'] = async (method, path, init = {}) => {
      const headers: Record<string, string> = { 'x-api-key': apiKey, ...init.headers };
      if (headers['x-api-key'] === '') delete headers['x-api-key'];
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await undiciRequest(`${baseUrl}${path}`, { method: method.toUpperCase() as 'GET', headers, body });
      const text = await res.body.text();
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      let parsed: unknown = text;
      if (text && (flat['content-type'] ?? '').includes('json')) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      } else if (text === '') parsed = undefined;
      return { status: res.statusCode, headers: flat, body: parsed };
    };

    return { sim, config, upstream, app, baseUrl, apiKey, request, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
