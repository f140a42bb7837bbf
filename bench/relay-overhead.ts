// Relay overhead: ListPackages through the relay against the same upstream list fetched straight
// from the simulator, and through a bare pass-through proxy (the limit any relay could reach here),
// at several connection counts. All runs hit the same simulator in this process; the relay, the
// pass-through and the load generator each run in their own process.
import { DEMO_ENVIRONMENTS, type Simulator } from '../src/simulator/index.js';
import type { PassthroughProcess } from './lib/passthrough-process.js';
import { cpuMsOf, type RelayProcess } from './lib/relay-process.js';
import { runLoad } from './lib/run-load.js';

export interface OverheadRow {
  connections: number;
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
}

const ENV = DEMO_ENVIRONMENTS.sales;

export async function measureRelayOverhead(
  sim: Simulator,
  relay: RelayProcess,
  passthrough: PassthroughProcess,
  opts: { connections: number[]; durationSeconds: number; apiVersion: string },
): Promise<OverheadRow[]> {
  const token = await sim.control.mintToken({ audience: 'https://api.powerplatform.com', appid: sim.relayApp.clientId, roles: [] });
  const upstreamPath = `/appmanagement/environments/${ENV}/applicationPackages?api-version=${opts.apiVersion}&appInstallState=All`;
  const direct = { url: `${sim.origin}${upstreamPath}`, headers: { authorization: `Bearer ${token}` } };
  const viaPassthrough = { url: `${passthrough.baseUrl}${upstreamPath}`, headers: { authorization: `Bearer ${token}` } };
  const viaRelay = { url: `${relay.baseUrl}/v1/environments/${ENV}/packages`, headers: { 'x-api-key': relay.apiKey } };

  const rows: OverheadRow[] = [];
  for (const connections of opts.connections) {
    // Warm both paths at this concurrency (token cache, keep-alive pools filled, JIT) before measuring.
    await runLoad({ ...viaRelay, connections, durationSeconds: 1 });
    await runLoad({ ...direct, connections, durationSeconds: 1 });
    await runLoad({ ...viaPassthrough, connections, durationSeconds: 1 });
    const upstreamBefore = sim.control.calls().length;
    const relayCpu0 = cpuMsOf(relay.pid);
    const r = await runLoad({ ...viaRelay, connections, durationSeconds: opts.durationSeconds });
    const relayCpuMs = cpuMsOf(relay.pid) - relayCpu0;
    const upstreamCalls = sim.control.calls().length - upstreamBefore; // every surface: the list and any lookups
    const passthroughCpu0 = cpuMsOf(passthrough.pid);
    const p = await runLoad({ ...viaPassthrough, connections, durationSeconds: opts.durationSeconds });
    const passthroughCpuMs = cpuMsOf(passthrough.pid) - passthroughCpu0;
    const d = await runLoad({ ...direct, connections, durationSeconds: opts.durationSeconds });
    const per = (a: number, b: number) => (b > 0 ? a / b : 0);
    rows.push({
      connections,
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
      upstreamCallsPerRequest: r.total > 0 ? upstreamCalls / r.total : 0,
      failures: [r, p, d].reduce((n, x) => n + x.non2xx + x.errors + x.timeouts, 0),
    });
  }
  return rows;
}
