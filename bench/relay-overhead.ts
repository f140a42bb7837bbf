// Relay overhead: ListPackages through the relay against the same upstream list fetched straight
// from the simulator, and through a bare pass-through proxy (the limit any relay could reach here),
// at several connection counts. All runs hit the same simulator in this process; the relay, the
// pass-through and the load generator each run in their own process.
import { loadavg } from 'node:os';
import { DEMO_ENVIRONMENTS, type Simulator } from '../src/simulator/index.js';
import type { PassthroughProcess } from './lib/passthrough-process.js';
import { cpuMsOf, type RelayProcess } from './lib/relay-process.js';
import type { LoadResult } from './lib/load-worker.js';
import { runLoad } from './lib/run-load.js';

export interface OverheadRow {
  connections: number;
  /** Rounds measured; every figure below is the median over them. */
  rounds: number;
  /** 1-minute load average at the end of the round (median over rounds). */
  loadAverage1m: number;
  relayRps: number;
  directRps: number;
  passthroughRps: number;
  /** relay requests per second / direct requests per second. */
  throughputRatio: number;
  /** relay requests per second / pass-through requests per second. */
  passthroughRatio: number;
  /** pass-through / direct: what forwarding alone costs on this machine. */
  passthroughToDirectRatio: number;
  relayP50Ms: number;
  directP50Ms: number;
  passthroughP50Ms: number;
  addedP50Ms: number;
  relayP99Ms: number;
  directP99Ms: number;
  passthroughP99Ms: number;
  addedP99Ms: number;
  /** CPU (user + system) the relay process spent per answered request, µs; less noisy than req/s on a shared machine. */
  relayCpuUsPerRequest: number;
  passthroughCpuUsPerRequest: number;
  /** relay CPU per request / pass-through CPU per request. */
  cpuPerRequestRatio: number;
  /** Upstream calls (any surface) the relay made per ListPackages it answered; direct is 1. */
  upstreamCallsPerRequest: number;
  failures: number;
  perRound?: Array<{ loadAverage1m: number; throughputRatio: number; passthroughRatio: number; cpuPerRequestRatio: number }>;
}

const ENV = DEMO_ENVIRONMENTS.sales;

export async function measureRelayOverhead(
  sim: Simulator,
  relay: RelayProcess,
  passthrough: PassthroughProcess,
  opts: { connections: number[]; durationSeconds: number; rounds: number; apiVersion: string },
): Promise<OverheadRow[]> {
  const token = await sim.control.mintToken({ audience: 'https://api.powerplatform.com', appid: sim.relayApp.clientId, roles: [] });
  const upstreamPath = `/appmanagement/environments/${ENV}/applicationPackages?api-version=${opts.apiVersion}&appInstallState=All`;
  const direct = { url: `${sim.origin}${upstreamPath}`, headers: { authorization: `Bearer ${token}` } };
  const viaPassthrough = { url: `${passthrough.baseUrl}${upstreamPath}`, headers: { authorization: `Bearer ${token}` } };
  const viaRelay = { url: `${relay.baseUrl}/v1/environments/${ENV}/packages`, headers: { 'x-api-key': relay.apiKey } };

  const rows: OverheadRow[] = [];
  for (const connections of opts.connections) {
    // Warm every path at this concurrency (token cache, keep-alive pools filled, JIT) before measuring.
    for (const target of [viaRelay, direct, viaPassthrough]) await runLoad({ ...target, connections, durationSeconds: 1 });
    // Several rounds, each measuring the three paths back to back, the order turned each round;
    // ratios are taken within a round (same moment, same load from elsewhere) and the median kept.
    const rounds: OverheadRow[] = [];
    for (let i = 0; i < opts.rounds; i++) rounds.push(await oneRound(connections, i));
    rows.push(medianRow(rounds));
  }
  return rows;

  async function oneRound(connections: number, round: number): Promise<OverheadRow> {
    const load = { connections, durationSeconds: opts.durationSeconds };
    let r: LoadResult | undefined;
    let p: LoadResult | undefined;
    let d: LoadResult | undefined;
    let relayCpuMs = 0;
    let passthroughCpuMs = 0;
    let upstreamCalls = 0;
    const steps = [
      async () => {
        const upstreamBefore = sim.control.calls().length;
        const cpu0 = cpuMsOf(relay.pid);
        r = await runLoad({ ...viaRelay, ...load });
        relayCpuMs = cpuMsOf(relay.pid) - cpu0;
        upstreamCalls = sim.control.calls().length - upstreamBefore; // every surface: the list and any lookups
      },
      async () => {
        const cpu0 = cpuMsOf(passthrough.pid);
        p = await runLoad({ ...viaPassthrough, ...load });
        passthroughCpuMs = cpuMsOf(passthrough.pid) - cpu0;
      },
      async () => {
        d = await runLoad({ ...direct, ...load });
      },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(k + round) % steps.length]?.();
    if (!r || !p || !d) throw new Error('a load run did not finish');
    const per = (a: number, b: number) => (b > 0 ? a / b : 0);
    return {
      connections,
      rounds: 1,
      loadAverage1m: loadavg()[0] ?? 0,
      relayRps: r.requestsPerSecond,
      directRps: d.requestsPerSecond,
      passthroughRps: p.requestsPerSecond,
      throughputRatio: per(r.requestsPerSecond, d.requestsPerSecond),
      passthroughRatio: per(r.requestsPerSecond, p.requestsPerSecond),
      passthroughToDirectRatio: per(p.requestsPerSecond, d.requestsPerSecond),
      relayP50Ms: r.p50Ms,
      directP50Ms: d.p50Ms,
      passthroughP50Ms: p.p50Ms,
      addedP50Ms: r.p50Ms - d.p50Ms,
      relayP99Ms: r.p99Ms,
      directP99Ms: d.p99Ms,
      passthroughP99Ms: p.p99Ms,
      addedP99Ms: r.p99Ms - d.p99Ms,
      relayCpuUsPerRequest: per(relayCpuMs * 1000, r.total),
      passthroughCpuUsPerRequest: per(passthroughCpuMs * 1000, p.total),
      cpuPerRequestRatio: per(per(relayCpuMs, r.total), per(passthroughCpuMs, p.total)),
      upstreamCallsPerRequest: per(upstreamCalls, r.total),
      failures: [r, p, d].reduce((n, x) => n + x.non2xx + x.errors + x.timeouts, 0),
    };
  }
}

/** Every figure the median over the rounds (failures summed); the rounds' own ratios kept beside. */
function medianRow(rounds: OverheadRow[]): OverheadRow {
  const m = (k: keyof OverheadRow) => median(rounds.map((x) => Number(x[k])));
  const row = {} as Record<string, unknown>;
  for (const k of Object.keys(rounds[0] ?? {}) as Array<keyof OverheadRow>) row[k] = m(k);
  return {
    ...(row as unknown as OverheadRow),
    rounds: rounds.length,
    failures: rounds.reduce((n, x) => n + x.failures, 0),
    perRound: rounds.map((x) => ({
      loadAverage1m: x.loadAverage1m,
      throughputRatio: x.throughputRatio,
      passthroughRatio: x.passthroughRatio,
      cpuPerRequestRatio: x.cpuPerRequestRatio,
    })),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

