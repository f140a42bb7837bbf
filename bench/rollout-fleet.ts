// Rollout benchmark: one rollout of the fleet package over N simulated environments (the
// simulator's --environments fleet) with maxConcurrent 10, the relay in this process.
// Printed: upstream install POSTs per environment (exactly 1 where an install was needed, 0 where
// it was current), upstream status calls per installed environment, and the rollout's duration ÷
// (waves × one install's duration), where one install's duration is a single InstallPackage
// through the same relay, waited on, measured just before, and waves = ceil(installs ÷ maxConcurrent).
// The simulated clock is moved past the fleet's busy windows first: busy environments are
// the rollout tests' subject; here they would measure upstream's lock, not the rollout's pacing.
// Run alone: npx tsx bench/rollout-fleet.ts [--quick]
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { FLEET_PACKAGE, fleetEnvironmentId, startSimulator } from '../src/simulator/index.js';
import { createUpstreamClients } from '../src/upstream/index.js';
import { simulatorEnv } from '../src/upstream/simulator-env.js';

export interface RolloutBenchResult {
  environments: number;
  maxConcurrent: number;
  simulatorSpeed: number;
  installsNeeded: number;
  skippedCurrent: number;
  skippedOther: number;
  succeeded: number;
  failed: number;
  postsPerInstalledEnvironment: { min: number; max: number };
  postsWhereCurrent: number;
  statusCallsPerInstalledEnvironment: { mean: number; max: number };
  oneInstallMs: number;
  waves: number;
  rolloutMs: number;
  durationRatio: number;
}

export async function measureRolloutFleet(o: { environments: number; maxConcurrent: number; speed: number }): Promise<RolloutBenchResult> {
  const sim = await startSimulator({ speed: o.speed, environments: o.environments });
  const apiKey = `bench-${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    ...simulatorEnv(sim),
    WAIT_URL_SECRET: randomBytes(32).toString('base64url'),
    AUDIT_STORE: 'memory',
    DEMO_API_KEY: apiKey,
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    RATE_LIMIT_PER_MINUTE: '100000',
  });
  const upstream = createUpstreamClients(config);
  const app = await buildApp({ config, upstream });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const base = `http://127.0.0.1:${address.port}`;
  config.publicBaseUrl = base;
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await request(`${base}${path}`, {
      method,
      headers: { 'x-api-key': apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the relay's JSON answer
    return { status: res.statusCode, body: (await res.body.json()) as any };
  };
  try {
    sim.control.advanceClock(10 * 60_000);
    // One install's duration through the relay, on an environment that needs it (1: Production,
    // Dataverse, offered, not installed); the rollout then finds it current.
    const single0 = Date.now();
    const single = await call('POST', `/v1/environments/${fleetEnvironmentId(1)}/packages/${FLEET_PACKAGE}/install?waitSeconds=100`);
    const oneInstallMs = Date.now() - single0;
    if (single.status !== 200) throw new Error(`the single install answered ${single.status}: ${JSON.stringify(single.body)}`);
    // Back to the seeded fleet (environment 1 not installed again, call log cleared), so the
    // rollout's plan and counts are those of a fresh fleet.
    sim.control.reset();
    sim.control.advanceClock(10 * 60_000);
    const started = await call('POST', '/v1/rollouts?failOnError=false', {
      packageUniqueName: FLEET_PACKAGE,
      filter: { displayNamePattern: 'Fleet *' },
      maxConcurrent: o.maxConcurrent,
      reason: 'benchmark',
    });
    if (started.status !== 202) throw new Error(`StartRollout answered ${started.status}: ${JSON.stringify(started.body)}`);
    const id = started.body.rolloutId;
    // biome-ignore lint/suspicious/noExplicitAny: the relay's JSON answer
    let r: any;
    for (;;) {
      r = (await call('GET', `/v1/rollouts/${id}`)).body;
      if (r.status !== 'Running') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const posts = new Map<string, number>();
    const statusCalls = new Map<string, number>();
    for (const c of sim.control.calls({ route: 'ppapi.install' })) {
      const env = /environments\/([^/]+)\//.exec(c.path)?.[1] ?? '?';
      posts.set(env, (posts.get(env) ?? 0) + 1);
    }
    for (const c of sim.control.calls({ route: 'ppapi.operation' })) {
      const env = /environments\/([^/]+)\//.exec(c.path)?.[1] ?? '?';
      statusCalls.set(env, (statusCalls.get(env) ?? 0) + 1);
    }
    // biome-ignore lint/suspicious/noExplicitAny: rows of the answer
    const rows: any[] = r.environments;
    const installed = rows.filter((e) => e.status === 'Succeeded' || e.status === 'Failed');
    const current = rows.filter((e) => e.skipReason === 'AlreadyCurrent');
    const postsInstalled = installed.map((e) => posts.get(e.environmentId) ?? 0);
    const statusInstalled = installed.map((e) => statusCalls.get(e.environmentId) ?? 0);
    const waves = Math.ceil(installed.length / o.maxConcurrent);
    const rolloutMs = Date.parse(r.endedAt) - Date.parse(r.createdAt);
    return {
      environments: o.environments,
      maxConcurrent: o.maxConcurrent,
      simulatorSpeed: o.speed,
      installsNeeded: installed.length,
      skippedCurrent: current.length,
      skippedOther: rows.filter((e) => e.status === 'Skipped').length - current.length,
      succeeded: r.counts.succeeded,
      failed: r.counts.failed,
      postsPerInstalledEnvironment: { min: Math.min(...postsInstalled), max: Math.max(...postsInstalled) },
      postsWhereCurrent: current.reduce((n, e) => n + (posts.get(e.environmentId) ?? 0), 0),
      statusCallsPerInstalledEnvironment: {
        mean: statusInstalled.reduce((a, b) => a + b, 0) / Math.max(1, statusInstalled.length),
        max: Math.max(...statusInstalled),
      },
      oneInstallMs,
      waves,
      rolloutMs,
      durationRatio: rolloutMs / (waves * oneInstallMs),
    };
  } finally {
    await app.close();
    await upstream.close();
    await sim.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  console.log(await measureRolloutFleet({ environments: quick ? 60 : 200, maxConcurrent: 10, speed: 2 }));
}
