// The floor for the wait-coalescing figures, measured in the same run: a bare Fastify server
// (lib/held-floor-server.ts) holding N requests from the same client set-up as the relay's waits.
// Reported: its resident memory per held request, and the time from its release to the last
// answer, the part of "completion → last waiter answered" no relay on Node's HTTP server gets under.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { listeningAddress, rssOf, stopChild } from './lib/relay-process.js';

export interface HeldFloorRow {
  held: number;
  releaseToLastAnswerMs: number;
  rssPer1000HeldBytes: number;
}

const ENTRY = new URL('./lib/held-floor-server.ts', import.meta.url).pathname;

export async function measureHeldFloor(n: number): Promise<HeldFloorRow> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const base = await listeningAddress(child);
    const pid = child.pid ?? 0;
    await sleep(1000); // as for the relay: let start-up garbage settle before reading RSS
    const rssBefore = rssOf(pid);
    const pool = new Pool(base, { connections: n, pipelining: 1, headersTimeout: 180_000, bodyTimeout: 180_000, connectTimeout: 60_000 });
    let lastAnswer = 0;
    const all = Array.from({ length: n }, () =>
      pool
        .request({ method: 'GET', path: '/hold' })
        .then(async (res) => {
          await res.body.dump();
          lastAnswer = Date.now();
        })
        .catch(() => undefined),
    );
    const t0 = Date.now();
    while ((await heldCount(base)) < n && Date.now() - t0 < 60_000) await sleep(250);
    await sleep(300);
    const rssHeld = rssOf(pid);
    const held = await heldCount(base);
    const releasedAt = Date.now();
    await (await request(`${base}/release`, { method: 'POST' })).body.dump();
    await Promise.all(all);
    await pool.close();
    return { held, releaseToLastAnswerMs: lastAnswer - releasedAt, rssPer1000HeldBytes: held > 0 ? ((rssHeld - rssBefore) / held) * 1000 : 0 };
  } finally {
    await stopChild(child);
  }
}

async function heldCount(base: string): Promise<number> {
  const res = await request(`${base}/held`);
  return ((await res.body.json()) as { held: number }).held;
}
