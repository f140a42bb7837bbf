// Several replicas on one PostgreSQL (STATE_STORE=postgres), each a relay process against the
// simulator: upstream status calls for N held waits spread over 3 replicas ÷ those for 1 waiter
// (one poller per operation across replicas: target 1.0), upstream completion → last waiter
// answered on any replica (target ≤ 1 s), one-rule isolation changes per second with 3 replicas vs 1,
// and the cold start of one more replica against the already running, already migrated database.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Pool, request } from 'undici';
import { DEMO_ENVIRONMENTS, type Simulator } from '../src/simulator/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { type RelayProcess, startRelayProcess } from './lib/relay-process.js';

export interface ReplicaWaitRow {
  waiters: number;
  statusCalls: number;
  statusCallsRatio: number;
  answered200: number;
  completionToLastAnswerMs: number;
}

export interface ReplicasResult {
  replicas: number;
  waits: ReplicaWaitRow[];
  isolation: { replicas: number; writers: number; changesPerSecond: number; failures: number }[];
  isolationRatio3to1: number;
  coldStartMs: number[];
  coldStartMedianMs: number;
}

const ENV = DEMO_ENVIRONMENTS.sales;
const PACKAGE = 'msdyn_ContosoSurveysAnchor';

export async function measureReplicas(
  sim: Simulator,
  opts: { waiters: number[]; completeAfterMs: number; writers: number; isolationSeconds: number; coldStarts: number },
): Promise<ReplicasResult> {
  const db = await startPostgres();
  const env = {
    STATE_STORE: 'postgres',
    DATABASE_URL: db.url,
    WAIT_URL_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'error',
  };
  const replicas: RelayProcess[] = [];
  try {
    // The first start migrates; the others find the schema current.
    replicas.push(await startRelayProcess(sim, env));
    replicas.push(...(await Promise.all([startRelayProcess(sim, env), startRelayProcess(sim, env)])));
    const waits: ReplicaWaitRow[] = [];
    for (const n of opts.waiters) {
      const row = await waitRound(sim, replicas, n, opts.completeAfterMs);
      row.statusCallsRatio = waits[0] && waits[0].statusCalls > 0 ? row.statusCalls / waits[0].statusCalls : 1;
      waits.push(row);
    }
    sim.control.reset();
    const one = await isolationRound(sim, replicas.slice(0, 1), opts.writers, opts.isolationSeconds);
    const three = await isolationRound(sim, replicas, opts.writers, opts.isolationSeconds);
    const coldStartMs: number[] = [];
    for (let i = 0; i < opts.coldStarts; i++) coldStartMs.push(await coldStart(sim, env));
    const sorted = [...coldStartMs].sort((a, b) => a - b);
    return {
      replicas: replicas.length,
      waits,
      isolation: [one, three],
      isolationRatio3to1: one.changesPerSecond > 0 ? three.changesPerSecond / one.changesPerSecond : 0,
      coldStartMs,
      coldStartMedianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
    };
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await db.stop();
  }
}

async function waitRound(sim: Simulator, replicas: RelayProcess[], n: number, completeAfterMs: number): Promise<ReplicaWaitRow> {
  sim.control.reset();
  sim.control.setSpeed(1e-9); // frozen: the install completes only when the clock is advanced
  const callsBefore = sim.control.calls({ route: 'ppapi.operation' }).length;
  const first = replicas[0]!;
  const started = await request(`${first.baseUrl}/v1/environments/${ENV}/packages/${PACKAGE}/install`, {
    method: 'POST',
    headers: { 'x-api-key': first.apiKey },
  });
  await started.body.dump();
  const location = started.headers.location;
  if (started.statusCode !== 202 || typeof location !== 'string') throw new Error(`the install did not start (${started.statusCode})`);
  const startedAt = Date.now();
  const wait = new URL(`${location}&waitSeconds=90`);
  const path = `${wait.pathname}${wait.search}`;
  // The waits spread over the replicas as a load balancer would spread the engine's polls.
  const pools = replicas.map((r) => new Pool(r.baseUrl, { connections: Math.ceil(n / replicas.length), headersTimeout: 180_000, bodyTimeout: 180_000 }));
  const answers: Array<{ status: number; at: number }> = [];
  const all = Array.from({ length: n }, (_, i) =>
    pools[i % pools.length]!
      .request({ method: 'GET', path })
      .then(async (res) => {
        await res.body.dump();
        answers.push({ status: res.statusCode, at: Date.now() });
      })
      .catch(() => answers.push({ status: 0, at: Date.now() })),
  );
  await sleep(Math.max(0, completeAfterMs - (Date.now() - startedAt)));
  const completedAt = Date.now();
  sim.control.advanceClock(60_000);
  await Promise.all(all);
  await Promise.all(pools.map((p) => p.close()));
  sim.control.setSpeed(1);
  return {
    waiters: n,
    statusCalls: sim.control.calls({ route: 'ppapi.operation' }).length - callsBefore,
    statusCallsRatio: 1,
    answered200: answers.filter((a) => a.status === 200).length,
    completionToLastAnswerMs: Math.max(...answers.map((a) => a.at)) - completedAt,
  };
}

async function isolationRound(sim: Simulator, replicas: RelayProcess[], writers: number, seconds: number) {
  const agent = new Agent({ connections: 128 });
  let changes = 0;
  let failures = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const tenant = randomUUID();
        let add = true;
        for (let i = w; Date.now() < deadline; i++) {
          const relay = replicas[i % replicas.length]!;
          const res = await request(`${relay.baseUrl}/v1/tenant-isolation/rules/${tenant}`, {
            method: add ? 'PUT' : 'DELETE',
            dispatcher: agent,
            headers: { 'x-api-key': relay.apiKey, ...(add ? { 'content-type': 'application/json' } : {}) },
            ...(add ? { body: JSON.stringify({ direction: 'Inbound' }) } : {}),
          });
          await res.body.dump();
          if (res.statusCode === 200) changes++;
          else failures++;
          add = !add;
        }
      }),
    );
  } finally {
    await agent.close();
  }
  void sim;
  return { replicas: replicas.length, writers, changesPerSecond: changes / ((Date.now() - started) / 1000), failures };
}

/** From spawning one more replica to its first /readyz 200 (database reachable, notices listening). */
async function coldStart(sim: Simulator, env: Record<string, string>): Promise<number> {
  const t0 = Date.now();
  const relay = await startRelayProcess(sim, env);
  try {
    for (;;) {
      const res = await request(`${relay.baseUrl}/readyz`).catch(() => undefined);
      await res?.body.dump();
      if (res?.statusCode === 200) return Date.now() - t0;
      await sleep(5);
    }
  } finally {
    await relay.stop();
  }
}
