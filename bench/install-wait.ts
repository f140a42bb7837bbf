// Install wait benchmark: 1, 100 and 1,000 requests long-poll the same install's signed wait URL.
// The simulator's clock is frozen while they gather, then advanced past the install's end, so every
// round has the same timeline. Printed per round: upstream status calls (must not grow with the
// number of waiters; ratio to the 1-waiter round), answers, and the time from upstream completion
// (and from the status call that saw it) to the last waiter's answer.
// Run: npx tsx bench/install-wait.ts            (relay and simulator in this process)
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DEMO_ENVIRONMENTS, startSimulator } from '../src/simulator/index.js';
import { createUpstreamClients } from '../src/upstream/index.js';
import { simulatorEnv } from '../src/upstream/simulator-env.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const PACKAGE = 'msdyn_ContosoSurveysAnchor';
const WAITERS = [1, 100, 1000];
/** How long after the install starts the simulator lets it finish. */
const COMPLETE_AFTER_MS = 6_000;

interface Round {
  waiters: number;
  statusCalls: number;
  statusCallsRatio: number;
  answered200: number;
  otherAnswers: number;
  completionToLastAnswerMs: number;
  detectToLastAnswerMs: number;
}

async function round(waiters: number): Promise<Round> {
  const sim = await startSimulator({ speed: 1 });
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
  config.publicBaseUrl = `http://127.0.0.1:${address.port}`;
  try {
    sim.control.setSpeed(1e-9); // frozen: the install ends only when the clock is advanced
    const started = await request(`${config.publicBaseUrl}/v1/environments/${ENV}/packages/${PACKAGE}/install`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey },
    });
    await started.body.dump();
    const location = started.headers.location;
    if (started.statusCode !== 202 || typeof location !== 'string') throw new Error(`install did not start: ${started.statusCode}`);
    const startedAt = Date.now();
    const url = new URL(`${location}&waitSeconds=90`);

    // One connection per waiter (a held long poll occupies its connection); no credentials, only the signed URL.
    const pool = new Pool(url.origin, { connections: waiters, headersTimeout: 120_000, bodyTimeout: 120_000 });
    const answers: Array<{ status: number; at: number }> = [];
    const all = Array.from({ length: waiters }, () =>
      pool
        .request({ method: 'GET', path: `${url.pathname}${url.search}` })
        .then(async (res) => {
          await res.body.dump();
          answers.push({ status: res.statusCode, at: Date.now() });
        })
        .catch(() => answers.push({ status: 0, at: Date.now() })),
    );
    await sleep(Math.max(0, COMPLETE_AFTER_MS - (Date.now() - startedAt)));
    const completedAt = Date.now();
    sim.control.advanceClock(60_000);
    await Promise.all(all);
    await pool.close();

    const calls = sim.control.calls({ route: 'ppapi.operation' });
    const detectedAt = calls.find((c) => c.at >= completedAt)?.at ?? completedAt;
    const lastAnswer = Math.max(...answers.map((a) => a.at));
    const ok = answers.filter((a) => a.status === 200).length;
    return {
      waiters,
      statusCalls: calls.length,
      statusCallsRatio: 1,
      answered200: ok,
      otherAnswers: answers.length - ok,
      completionToLastAnswerMs: lastAnswer - completedAt,
      detectToLastAnswerMs: lastAnswer - detectedAt,
    };
  } finally {
    await app.close();
    await upstream.close();
    await sim.close();
  }
}

const rows: Round[] = [];
for (const n of WAITERS) {
  const r = await round(n);
  r.statusCallsRatio = rows[0] ? r.statusCalls / Math.max(1, rows[0].statusCalls) : 1;
  rows.push(r);
}

console.log(`install wait: ${WAITERS.join(' / ')} concurrent long polls on one operation (relay and simulator in one process)`);
console.log('waiters  status calls  ratio vs 1  200 answers  other  completion→last answer ms  status call→last answer ms');
for (const r of rows) {
  console.log(
    [
      String(r.waiters).padStart(7),
      String(r.statusCalls).padStart(13),
      r.statusCallsRatio.toFixed(2).padStart(11),
      String(r.answered200).padStart(12),
      String(r.otherAnswers).padStart(6),
      String(r.completionToLastAnswerMs).padStart(26),
      String(r.detectToLastAnswerMs).padStart(27),
    ].join(' '),
  );
}
console.log('completion→last answer includes the wait for the next status poll (the poll interval); status call→last answer is the relay fanning the result out.');
console.log(JSON.stringify({ bench: 'install-wait', rows }));
