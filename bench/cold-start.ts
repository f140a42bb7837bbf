// Wake-up: from spawning a process to its first good answer, each the median of several runs,
// against a bare `node -e` HTTP server started and probed the same way.
//   - simulator mode (what `npm start` does: the embedded simulator and its certificate too), to
//     /readyz 200 and to the first `GET /v1/environments` 200 with the demo key;
//   - live mode against the simulator already running in this process (what a replica scaled to
//     zero does on the first flow call): to the first `GET /v1/environments` 200 with an API key,
//     which includes the relay's first token from Entra and its first upstream call.
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Simulator } from '../src/simulator/index.js';
import { cpuMsOf, liveRelayEnv, newApiKey, RELAY_ENTRY, stopChild } from './lib/relay-process.js';

export interface ColdStartResult {
  runs: number;
  /** 1-minute load average when the runs started and ended. */
  loadAverage1m: [number, number];
  bareNodeMedianMs: number;
  /** Simulator mode, to /readyz 200 (the figure kept from earlier runs). */
  relayMedianMs: number;
  /** relayMedianMs / bare node. */
  ratio: number;
  simulatorModeFirstV1MedianMs: number;
  simulatorModeFirstV1Ratio: number;
  liveModeFirstV1MedianMs: number;
  liveModeFirstV1Ratio: number;
  samplesMs: Samples;
  /** CPU (user + system) each process used up to its first answer, ms (medians): steadier than
   *  wall time when other work shares the machine, though it leaves out time spent waiting. */
  cpuMedianMs: { bare: number; readyz: number; simulatorFirstV1: number; liveFirstV1: number };
  cpuRatio: { readyz: number; simulatorFirstV1: number; liveFirstV1: number };
}

type Samples = { bare: number[]; readyz: number[]; simulatorFirstV1: number[]; liveFirstV1: number[] };

const BARE = "require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT),'127.0.0.1')";
const DEMO_KEY = 'bench-cold-start-demo-key-0123456789';

export interface Probe {
  args: string[];
  path: string;
  env?: Record<string, string>;
  headers?: Record<string, string>;
}

export const bareProbe = (): Probe => ({ args: ['-e', BARE], path: '/' });
export const simulatorModeProbe = (path: '/readyz' | '/v1/environments'): Probe => ({
  args: [RELAY_ENTRY],
  path,
  env: { DEMO_API_KEY: DEMO_KEY },
  headers: path === '/readyz' ? {} : { 'x-api-key': DEMO_KEY },
});
export function liveModeProbe(sim: Simulator): Probe {
  const apiKey = newApiKey();
  return { args: [RELAY_ENTRY], path: '/v1/environments', env: liveRelayEnv(sim, apiKey), headers: { 'x-api-key': apiKey } };
}

export async function measureColdStart(opts: { runs: number; sim: Simulator }): Promise<ColdStartResult> {
  const load0 = loadavg()[0] ?? 0;
  const s: Samples = { bare: [], readyz: [], simulatorFirstV1: [], liveFirstV1: [] };
  const cpu: Samples = { bare: [], readyz: [], simulatorFirstV1: [], liveFirstV1: [] };
  const probes: Record<keyof Samples, () => Probe> = {
    bare: bareProbe,
    readyz: () => simulatorModeProbe('/readyz'),
    simulatorFirstV1: () => simulatorModeProbe('/v1/environments'),
    liveFirstV1: () => liveModeProbe(opts.sim),
  };
  // Interleaved, so a burst of load elsewhere on the machine falls on every kind alike.
  for (let i = 0; i < opts.runs; i++) {
    for (const k of Object.keys(probes) as Array<keyof Samples>) {
      const r = await timeToFirstOk(probes[k]());
      s[k].push(r.ms);
      cpu[k].push(r.cpuMs);
    }
  }
  const bare = median(s.bare);
  const ratioTo = (xs: number[]) => median(xs) / bare;
  const cpuBare = median(cpu.bare);
  const cpuRatioTo = (xs: number[]) => median(xs) / cpuBare;
  return {
    runs: opts.runs,
    loadAverage1m: [load0, loadavg()[0] ?? 0],
    bareNodeMedianMs: bare,
    relayMedianMs: median(s.readyz),
    ratio: ratioTo(s.readyz),
    simulatorModeFirstV1MedianMs: median(s.simulatorFirstV1),
    simulatorModeFirstV1Ratio: ratioTo(s.simulatorFirstV1),
    liveModeFirstV1MedianMs: median(s.liveFirstV1),
    liveModeFirstV1Ratio: ratioTo(s.liveFirstV1),
    samplesMs: s,
    cpuMedianMs: { bare: cpuBare, readyz: median(cpu.readyz), simulatorFirstV1: median(cpu.simulatorFirstV1), liveFirstV1: median(cpu.liveFirstV1) },
    cpuRatio: { readyz: cpuRatioTo(cpu.readyz), simulatorFirstV1: cpuRatioTo(cpu.simulatorFirstV1), liveFirstV1: cpuRatioTo(cpu.liveFirstV1) },
  };
}

/** Spawns `node [nodeArgs] args` and polls `path` every 5 ms until it answers 200: ms from spawn,
 *  when the 200 came on the monotonic clock (µs, as in a .cpuprofile), and the CPU the process had
 *  used by then. */
export async function timeToFirstOk(probe: Probe, nodeArgs: string[] = []): Promise<{ ms: number; answeredAtUs: number; cpuMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...probe.args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', AUDIT_STORE: 'memory', ...probe.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const what = `${probe.args.join(' ')} ${probe.path}`;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${what}: exited with ${child.exitCode} before answering`);
      if (performance.now() - started > 30_000) throw new Error(`${what}: no 200 within 30 s`);
      const ok = await request(`http://127.0.0.1:${port}${probe.path}`, { headers: probe.headers ?? {}, headersTimeout: 10_000 })
        .then(async (res) => {
          await res.body.dump();
          return res.statusCode === 200;
        })
        .catch(() => false);
      if (ok) return { ms: performance.now() - started, answeredAtUs: Number(process.hrtime.bigint() / 1000n), cpuMs: cpuMsOf(child.pid ?? 0) };
      await sleep(5);
    }
  } finally {
    await stopChild(child);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
