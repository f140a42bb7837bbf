// Wait coalescing: N requests hold the same install's wait URL (long poll, waitSeconds) while the
// simulator's clock is frozen; at a fixed time after the install started the install completes.
// Counted: upstream status calls over the whole operation (the same timeline for every N, so they
// must not grow with N), the time from the status call that saw the completion to the last
// waiter's answer, and the relay's resident memory while the waits are held.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { DEMO_ENVIRONMENTS, type Simulator } from '../src/simulator/index.js';
import type { RelayProcess } from './lib/relay-process.js';

export interface WaitRow {
  waiters: number;
  /** Waits the relay held when the install completed (from its in-flight gauge). */
  heldAtCompletion: number;
  /** Upstream operation status calls from the install POST to the last answer. */
  statusCalls: number;
  /** statusCalls / statusCalls of the 1-waiter run. */
  statusCallsRatio: number;
  answered200: number;
  otherAnswers: number;
  /** From the status call that first saw Succeeded to the last waiter's answer. */
  detectToLastAnswerMs: number;
  /** From the upstream completion (clock advanced) to the last answer: includes the poll interval. */
  completionToLastAnswerMs: number;
  relayRssBeforeBytes: number;
  relayRssHeldBytes: number;
  /** (held − before) / waits held × 1,000. */
  rssPer1000WaitsBytes: number;
}

const ENV = DEMO_ENVIRONMENTS.sales;
const PACKAGE = 'msdyn_ContosoSurveysAnchor';

export async function measureWaitCoalescing(
  sim: Simulator,
  relay: RelayProcess,
  opts: { waiters: number[]; completeAfterMs: number },
): Promise<WaitRow[]> {
  const rows: WaitRow[] = [];
  for (const n of opts.waiters) {
    const row = await oneRound(sim, relay, n, opts.completeAfterMs);
    row.statusCallsRatio = rows[0] && rows[0].statusCalls > 0 ? row.statusCalls / rows[0].statusCalls : 1;
    rows.push(row);
  }
  return rows;
}

async function oneRound(sim: Simulator, relay: RelayProcess, n: number, completeAfterMs: number): Promise<WaitRow> {
  sim.control.reset();
  sim.control.setSpeed(1e-9); // frozen: the install completes only when the clock is advanced
  await sleep(1000); // let the relay's previous connections and garbage settle before reading RSS
  const rssBefore = relay.rssBytes();

  const callsBefore = sim.control.calls({ route: 'ppapi.operation' }).length;
  const started = await request(`${relay.baseUrl}/v1/environments/${ENV}/packages/${PACKAGE}/install`, {
    method: 'POST',
    headers: { 'x-api-key': relay.apiKey },
  });
  const body = (await started.body.json()) as { statusUrl?: string };
  const location = started.headers.location;
  if (started.statusCode !== 202 || typeof location !== 'string') {
    throw new Error(`the install did not start (${started.statusCode}): ${JSON.stringify(body)}`);
  }
  const startedAt = Date.now();
  const waitUrl = new URL(`${location}&waitSeconds=90`);

  // One connection per waiter: a held long poll occupies its connection.
  const pool = new Pool(waitUrl.origin, { connections: n, pipelining: 1, headersTimeout: 180_000, bodyTimeout: 180_000, connectTimeout: 60_000 });
  const answers: Array<{ status: number; at: number }> = [];
  const all = Array.from({ length: n }, () =>
    pool
      .request({ method: 'GET', path: `${waitUrl.pathname}${waitUrl.search}` })
      .then(async (res) => {
        await res.body.dump();
        answers.push({ status: res.statusCode, at: Date.now() });
      })
      .catch(() => {
        answers.push({ status: 0, at: Date.now() });
      }),
  );

  // Wait until the relay holds them all (or the completion time comes).
  let held = 0;
  while (Date.now() - startedAt < completeAfterMs - 500) {
    held = await inFlight(relay);
    if (held >= n) break;
    await sleep(250);
  }
  await sleep(300);
  const rssHeld = relay.rssBytes();
  held = await inFlight(relay);
  const remaining = completeAfterMs - (Date.now() - startedAt);
  if (remaining > 0) await sleep(remaining);

  const completedAt = Date.now();
  sim.control.advanceClock(60_000); // well past the package's install time: the next status call says Succeeded
  await Promise.all(all);
  await pool.close();

  const statusCalls = sim.control.calls({ route: 'ppapi.operation' });
  const detected = statusCalls.find((c) => c.at >= completedAt)?.at ?? completedAt;
  const lastAnswer = Math.max(...answers.map((a) => a.at));
  const ok = answers.filter((a) => a.status === 200).length;
  return {
    waiters: n,
    heldAtCompletion: Math.min(held, n),
    statusCalls: statusCalls.length - callsBefore,
    statusCallsRatio: 1,
    answered200: ok,
    otherAnswers: answers.length - ok,
    detectToLastAnswerMs: lastAnswer - detected,
    completionToLastAnswerMs: lastAnswer - completedAt,
    relayRssBeforeBytes: rssBefore,
    relayRssHeldBytes: rssHeld,
    rssPer1000WaitsBytes: held > 0 ? ((rssHeld - rssBefore) / held) * 1000 : 0,
  };
}

/** The relay's own gauge of requests in flight (minus this scrape). */
async function inFlight(relay: RelayProcess): Promise<number> {
  const res = await request(`${relay.baseUrl}/metrics`, { headers: { 'x-api-key': relay.apiKey } });
  const text = await res.body.text();
  const m = /^relay_http_requests_in_flight(?:\{[^}]*\})?\s+(\d+)/m.exec(text);
  return Math.max(0, Number(m?.[1] ?? 0) - 1);
}
