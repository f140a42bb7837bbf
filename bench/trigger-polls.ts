// Trigger polls: what one check of "When the tenant isolation policy changes" costs upstream, for
// policies of growing size, both when nothing changed (the common case) and when an outside writer
// changed the policy before every check. Counted: every upstream call the simulator saw, per check.
import { request } from 'undici';
import type { Simulator } from '../src/simulator/index.js';
import type { RelayProcess } from './lib/relay-process.js';

export interface TriggerPollRow {
  rules: number;
  polls: number;
  /** All upstream calls (any route) per check when the policy did not change. */
  upstreamCallsPerQuietPoll: number;
  /** The same when every check finds one outside change. */
  upstreamCallsPerChangedPoll: number;
  /** Checks that answered something other than expected (202 quiet, 200 with one item changed). */
  failures: number;
  medianPollMs: number;
}

const guid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

export async function measureTriggerPolls(
  sim: Simulator,
  relay: RelayProcess,
  opts: { ruleCounts: number[]; polls: number },
): Promise<TriggerPollRow[]> {
  const rows: TriggerPollRow[] = [];
  const home = sim.tenantId;
  const check = async (url: string) => {
    const started = performance.now();
    const res = await request(url, { headers: { 'x-api-key': relay.apiKey } });
    const body = (await res.body.json()) as { value?: unknown[] };
    return { status: res.statusCode, items: body.value?.length ?? 0, location: String(res.headers.location ?? ''), ms: performance.now() - started };
  };
  for (const rules of opts.ruleCounts) {
    sim.control.reset();
    const allowedTenants = Array.from({ length: rules }, (_, i) => ({ tenantId: guid(i + 1), direction: { inbound: true, outbound: i % 2 === 0 } }));
    sim.control.setPolicy(home, { properties: { tenantId: home, isDisabled: false, allowedTenants } });
    let next = (await check(`${relay.baseUrl}/v1/tenant-isolation/trigger/changes?pollSeconds=60`)).location;
    let failures = 0;
    const times: number[] = [];
    const quietBefore = sim.control.calls().length;
    for (let i = 0; i < opts.polls; i++) {
      const r = await check(next);
      if (r.status !== 202) failures++;
      times.push(r.ms);
      next = r.location;
    }
    const quietCalls = sim.control.calls().length - quietBefore;
    let changedCalls = 0;
    for (let i = 0; i < opts.polls; i++) {
      const raw = sim.control.getPolicy(home) as { properties: { isDisabled: boolean } };
      sim.control.setPolicy(home, { properties: { ...raw.properties, isDisabled: !raw.properties.isDisabled } });
      const before = sim.control.calls().length;
      const r = await check(next);
      changedCalls += sim.control.calls().length - before;
      if (r.status !== 200 || r.items !== 1) failures++;
      times.push(r.ms);
      next = r.location;
    }
    times.sort((a, b) => a - b);
    rows.push({
      rules,
      polls: opts.polls,
      upstreamCallsPerQuietPoll: quietCalls / opts.polls,
      upstreamCallsPerChangedPoll: changedCalls / opts.polls,
      failures,
      medianPollMs: times[Math.floor(times.length / 2)] ?? Number.NaN,
    });
  }
  return rows;
}
