// `npm run bench:heap`: what one held wait keeps alive in the relay. Holds N long polls on one
// install's wait URL (as the wait-coalescing benchmark does), takes a heap snapshot of the relay
// while they are held (SIGUSR2, --heapsnapshot-signal), for two values of N; the difference
// divided by the difference in waits is the heap cost of one held wait, by object kind.
//   --waits=1000,10000   the two N (default); --out=dir for snapshots (default /tmp/relay-heap)
//   --no-build as in run.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { DEMO_ENVIRONMENTS, type Simulator, startSimulator } from '../src/simulator/index.js';
import { perUnit, type Tally, tallyHeap } from './lib/heap-snapshot-summary.js';
import { reRunWithRaisedFileLimit } from './lib/raise-nofile.js';
import { RELAY_ENTRY, type RelayProcess, startRelayProcess } from './lib/relay-process.js';

reRunWithRaisedFileLimit();

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const [small, large] = (arg('waits') ?? '1000,10000').split(',').map(Number) as [number, number];
const out = arg('out') ?? '/tmp/relay-heap';
const ENV = DEMO_ENVIRONMENTS.sales;
const PACKAGE = 'msdyn_ContosoSurveysAnchor';

if (!process.argv.includes('--no-build')) {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0 && !existsSync(RELAY_ENTRY)) throw new Error('the build failed and there is no dist/ to run');
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const sim = await startSimulator({ speed: 1 });
const tallies: Array<{ waits: number; heap: Map<string, Tally>; rss: number; heapBytes: number }> = [];
try {
  for (const n of [small, large]) {
    // A fresh relay for each N: writing a snapshot leaves the process's resident memory grown.
    const relay = await startRelayProcess(sim, {}, ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${out}`]);
    try {
      const r = await holdAndSnapshot(sim, relay, n);
      console.log(`${n} waits held: relay RSS ${(r.rss / 2 ** 20).toFixed(1)} MiB, heap objects ${(r.heapBytes / 2 ** 20).toFixed(1)} MiB; load average ${(loadavg()[0] ?? 0).toFixed(2)}`);
      tallies.push({ waits: n, ...r });
    } finally {
      await relay.stop();
    }
  }
} finally {
  await sim.close();
}

const [a, b] = tallies as [(typeof tallies)[0], (typeof tallies)[0]];
const units = b.waits - a.waits;
const rows = perUnit(a.heap, b.heap, units);
const heapPerWait = (b.heapBytes - a.heapBytes) / units;
const rssPerWait = (b.rss - a.rss) / units;
console.log(`\nper held wait (${a.waits} → ${b.waits}): RSS ${(rssPerWait / 1024).toFixed(1)} KB, JS heap objects ${(heapPerWait / 1024).toFixed(1)} KB; the rest is native (sockets, parsers, malloc)`);
console.log(`${'count'.padStart(6)} ${'bytes'.padStart(7)}  kind name`);
for (const r of rows.slice(0, 70)) console.log(`${r.countPerUnit.toFixed(2).padStart(6)} ${r.bytesPerUnit.toFixed(0).padStart(7)}  ${r.key}`);

async function holdAndSnapshot(sim: Simulator, relay: RelayProcess, n: number) {
  sim.control.reset();
  sim.control.setSpeed(1e-9); // frozen: the install completes only when the clock is advanced
  const started = await request(`${relay.baseUrl}/v1/environments/${ENV}/packages/${PACKAGE}/install`, { method: 'POST', headers: { 'x-api-key': relay.apiKey } });
  await started.body.dump();
  const location = started.headers.location;
  if (started.statusCode !== 202 || typeof location !== 'string') throw new Error(`the install did not start (${started.statusCode})`);
  const waitUrl = new URL(`${location}&waitSeconds=90`);
  const pool = new Pool(waitUrl.origin, { connections: n, pipelining: 1, headersTimeout: 300_000, bodyTimeout: 300_000, connectTimeout: 60_000 });
  const all = Array.from({ length: n }, () =>
    pool
      .request({ method: 'GET', path: `${waitUrl.pathname}${waitUrl.search}` })
      .then((res) => res.body.dump())
      .catch(() => undefined),
  );
  const t0 = Date.now();
  while ((await inFlight(relay)) < n && Date.now() - t0 < 60_000) await sleep(250);
  await sleep(500);
  const rss = relay.rssBytes();
  const before = new Set(readdirSync(out));
  process.kill(relay.pid, 'SIGUSR2');
  const file = await snapshotWritten(before, relay);
  const heap = tallyHeap(readFileSync(file, 'utf8'));
  let heapBytes = 0;
  for (const t of heap.values()) heapBytes += t.bytes;
  sim.control.advanceClock(3_600_000);
  await Promise.all(all);
  await pool.close();
  await sleep(1000);
  return { heap, rss, heapBytes };
}

/** The new .heapsnapshot in `out`, once written: the relay writes it on its main thread, so it is
 *  complete when the relay answers again. Writing one takes tens of seconds, and a request that
 *  waited through it may be dropped by the server's header timeout check: asked again then. */
async function snapshotWritten(before: Set<string>, relay: RelayProcess): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const f = readdirSync(out).find((x) => x.endsWith('.heapsnapshot') && !before.has(x));
    if (f && (await answers(relay))) return join(out, f);
    if (Date.now() - t0 > 300_000) throw new Error('no heap snapshot within 300 s');
    await sleep(250);
  }
}

function answers(relay: RelayProcess): Promise<boolean> {
  return inFlight(relay).then(
    () => true,
    () => false,
  );
}

async function inFlight(relay: RelayProcess): Promise<number> {
  const res = await request(`${relay.baseUrl}/metrics`, { headers: { 'x-api-key': relay.apiKey } });
  const m = /^relay_http_requests_in_flight(?:\{[^}]*\})?\s+(\d+)/m.exec(await res.body.text());
  return Math.max(0, Number(m?.[1] ?? 0) - 1);
}
