// `npm run bench`: every figure measured in this one run, printed as a table and written to
// bench/results.json. Ratios are labelled `ratio`; the rest are counts or measured differences.
//   --quick       smaller loads (a smoke run, figures not for the README)
//   --only=a,b    sections: overhead, waits, isolation, triggers, coldstart, replicas, rollouts
//   --no-build    run dist/ as it is (e.g. to measure an experiment)
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadConfig } from '../src/config.js';
import { startSimulator } from '../src/simulator/index.js';
import { measureColdStart } from './cold-start.js';
import { measureIsolationWrites } from './isolation-writes.js';
import { startPassthrough } from './lib/passthrough-process.js';
import { reRunWithRaisedFileLimit } from './lib/raise-nofile.js';
import { RELAY_ENTRY, startRelayProcess } from './lib/relay-process.js';
import { measureRelayOverhead } from './relay-overhead.js';
import { measureReplicas } from './replicas.js';
import { measureTriggerPolls } from './trigger-polls.js';
import { measureRolloutFleet } from './rollout-fleet.js';
import { measureWaitCoalescing } from './wait-coalescing.js';
import { measureHeldFloor } from './held-floor.js';

reRunWithRaisedFileLimit();

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const want = (s: string) => !only || only.includes(s);
const t0 = Date.now();

if (!process.argv.includes('--no-build')) {
  console.log('building (npm run build) ...');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0 && !existsSync(RELAY_ENTRY)) throw new Error('the build failed and there is no dist/ to run');
}

const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  openFileLimit: Number(spawnSync('bash', ['-c', 'ulimit -n']).stdout.toString().trim()),
};
const results: Record<string, unknown> = { at: new Date().toISOString(), quick, machine };

// The machine is shared: each section records the 1-minute load average before and after it.
const loadAverage1m: Record<string, [number, number]> = {};
results.loadAverage1m = loadAverage1m;
async function section<T>(name: string, run: () => Promise<T>): Promise<T> {
  const before = loadavg()[0] ?? 0;
  const r = await run();
  loadAverage1m[name] = [before, loadavg()[0] ?? 0];
  return r;
}

const sim = await startSimulator({ speed: 1 });
try {
  const relay = await startRelayProcess(sim);
  const passthrough = await startPassthrough(sim);
  try {
    if (want('overhead')) {
      results.relayOverhead = await section('overhead', () =>
        measureRelayOverhead(sim, relay, passthrough, {
          connections: [1, 32, 256],
          durationSeconds: quick ? 2 : 4,
          rounds: quick ? 1 : 3,
          apiVersion: loadConfig({}).ppapiApiVersion,
        }),
      );
    }
    if (want('waits')) {
      results.waitCoalescing = await section('waits', () =>
        measureWaitCoalescing(sim, relay, {
          waiters: quick ? [1, 100, 1000] : [1, 100, 1000, 10_000],
          completeAfterMs: quick ? 4000 : 12_000,
        }),
      );
      results.heldFloor = await section('heldFloor', () => measureHeldFloor(quick ? 1000 : 10_000));
    }
    if (want('isolation')) {
      results.isolationWrites = await section('isolation', () =>
        measureIsolationWrites(sim, relay, { writers: [1, 16, 64], durationSeconds: quick ? 2 : 5 }),
      );
    }
    if (want('triggers')) {
      results.triggerPolls = await section('triggers', () =>
        measureTriggerPolls(sim, relay, { ruleCounts: [3, 100, 1000], polls: quick ? 10 : 50 }),
      );
    }
  } finally {
    await relay.stop();
    await passthrough.stop();
  }
  // Live-mode wake-up needs the simulator still running, as a real upstream would be.
  if (want('coldstart')) results.coldStart = await section('coldstart', () => measureColdStart({ runs: quick ? 1 : 5, sim }));
  if (want('replicas'))
    results.replicas = await section('replicas', () =>
      measureReplicas(sim, { waiters: [1, 1000], completeAfterMs: quick ? 4000 : 8000, writers: 16, isolationSeconds: quick ? 2 : 5, coldStarts: quick ? 1 : 5 }),
    );
} finally {
  await sim.close();
}
// A simulator of its own: the fleet of environments.
if (want('rollouts')) {
  results.rolloutFleet = await section('rollouts', () => measureRolloutFleet({ environments: quick ? 60 : 200, maxConcurrent: 10, speed: 2 }));
}
results.totalSeconds = (Date.now() - t0) / 1000;

writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(renderTable(results));
console.log('written: bench/results.json');

// biome-ignore lint/suspicious/noExplicitAny: the results object is built above, rows read by name
function renderTable(r: Record<string, any>): string {
  const lines: string[] = [];
  const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
  const kb = (bytes: number) => `${f(bytes / 1024, 0)} KB`;
  const la = (x?: [number, number]) => (x ? `${f(x[0])} → ${f(x[1])}` : '–');
  lines.push(`machine: ${r.machine.cores} cores (${r.machine.cpu}), node ${r.machine.node}, open-file limit ${r.machine.openFileLimit}`);
  if (r.relayOverhead) {
    lines.push('', 'relay overhead: ListPackages via relay vs the same list straight from the simulator');
    lines.push(`(and through a bare pass-through proxy, the limit of any relay here); median of ${r.relayOverhead[0]?.rounds} rounds; load average ${la(r.loadAverage1m.overhead)}`);
    lines.push(
      'connections | ratio relay/direct | ratio relay/pass-through | ratio pass-through/direct | relay req/s | pass-through req/s | direct req/s | CPU µs/request relay · pass-through (ratio) | added p50 ms | added p99 ms | upstream calls per request | failures',
    );
    for (const x of r.relayOverhead)
      lines.push(
        `${x.connections} | ratio ${f(x.throughputRatio)} | ratio ${f(x.passthroughRatio)} | ratio ${f(x.passthroughToDirectRatio)} | ${f(x.relayRps, 0)} | ${f(x.passthroughRps, 0)} | ${f(x.directRps, 0)} | ${f(x.relayCpuUsPerRequest, 0)} · ${f(x.passthroughCpuUsPerRequest, 0)} (ratio ${f(x.cpuPerRequestRatio)}) | ${f(x.addedP50Ms, 1)} | ${f(x.addedP99Ms, 1)} | ${f(x.upstreamCallsPerRequest)} | ${x.failures}`,
      );
  }
  if (r.waitCoalescing) {
    lines.push('', `wait coalescing: N concurrent long polls on one install operation; load average ${la(r.loadAverage1m.waits)}`);
    lines.push('waiters | held | upstream status calls | status calls ratio vs 1 waiter | answered 200 | other | detect-to-last-answer ms | completion-to-last-answer ms | relay RSS per 1,000 waits');
    for (const x of r.waitCoalescing)
      lines.push(
        `${x.waiters} | ${x.heldAtCompletion} | ${x.statusCalls} | ratio ${f(x.statusCallsRatio)} | ${x.answered200} | ${x.otherAnswers} | ${x.detectToLastAnswerMs} | ${x.completionToLastAnswerMs} | ${x.waiters >= 1000 ? kb(x.rssPer1000WaitsBytes) : '– (too few to measure)'}`,
      );
  }
  if (r.heldFloor) {
    const floor = r.heldFloor;
    lines.push(
      `floor, a bare Fastify server holding ${floor.held} requests from the same client (load average ${la(r.loadAverage1m.heldFloor)}): release → last answer ${floor.releaseToLastAnswerMs} ms, RSS per 1,000 held ${kb(floor.rssPer1000HeldBytes)}`,
    );
    const relay = r.waitCoalescing?.find((x: { waiters: number }) => x.waiters === floor.held);
    if (relay)
      lines.push(
        `relay ÷ floor at ${floor.held}: detect-to-last-answer ratio ${f(relay.detectToLastAnswerMs / floor.releaseToLastAnswerMs)}, RSS per held wait ratio ${f(relay.rssPer1000WaitsBytes / floor.rssPer1000HeldBytes)}`,
      );
  }
  if (r.isolationWrites) {
    lines.push('', `isolation writes: one-rule changes (add/remove) by concurrent writers; load average ${la(r.loadAverage1m.isolation)}`);
    lines.push('writers | changes | changes/s | upstream calls per change | failures');
    for (const x of r.isolationWrites) lines.push(`${x.writers} | ${x.changes} | ${f(x.changesPerSecond, 1)} | ${f(x.upstreamCallsPerChange)} | ${x.failures}`);
  }
  if (r.triggerPolls) {
    lines.push('', `trigger polls: "When the tenant isolation policy changes", upstream calls per check; load average ${la(r.loadAverage1m.triggers)}`);
    lines.push('rules | checks | upstream calls per quiet check | upstream calls per check with a change | median check ms | failures');
    for (const x of r.triggerPolls)
      lines.push(`${x.rules} | ${x.polls} | ${f(x.upstreamCallsPerQuietPoll)} | ${f(x.upstreamCallsPerChangedPoll)} | ${f(x.medianPollMs, 1)} | ${x.failures}`);
  }
  if (r.coldStart) {
    const c = r.coldStart;
    lines.push('', `cold start, median of ${c.runs}; bare node -e server to its first answer ${f(c.bareNodeMedianMs, 0)} ms; load average ${la(r.loadAverage1m.coldstart)}`);
    lines.push(`(CPU the process used by then: bare node ${f(c.cpuMedianMs.bare, 0)} ms)`);
    lines.push(`simulator mode to /readyz 200: ${f(c.relayMedianMs, 0)} ms, ratio ${f(c.ratio)} to bare node; CPU ${f(c.cpuMedianMs.readyz, 0)} ms, ratio ${f(c.cpuRatio.readyz)}`);
    lines.push(
      `simulator mode to first GET /v1/environments 200: ${f(c.simulatorModeFirstV1MedianMs, 0)} ms, ratio ${f(c.simulatorModeFirstV1Ratio)}; CPU ${f(c.cpuMedianMs.simulatorFirstV1, 0)} ms, ratio ${f(c.cpuRatio.simulatorFirstV1)}`,
    );
    lines.push(
      `live mode (simulator already running) to first GET /v1/environments 200: ${f(c.liveModeFirstV1MedianMs, 0)} ms, ratio ${f(c.liveModeFirstV1Ratio)}; CPU ${f(c.cpuMedianMs.liveFirstV1, 0)} ms, ratio ${f(c.cpuRatio.liveFirstV1)}`,
    );
  }
  if (r.replicas) {
    const x = r.replicas;
    lines.push('', `${x.replicas} replicas on one PostgreSQL (STATE_STORE=postgres); load average ${la(r.loadAverage1m.replicas)}`);
    lines.push('held waits spread over the replicas | upstream status calls | status calls ratio vs 1 waiter | answered 200 | completion-to-last-answer ms');
    for (const w of x.waits) lines.push(`${w.waiters} | ${w.statusCalls} | ratio ${f(w.statusCallsRatio)} | ${w.answered200} | ${w.completionToLastAnswerMs}`);
    for (const i of x.isolation) lines.push(`isolation one-rule changes/s, ${i.replicas} replica(s), ${i.writers} writers: ${f(i.changesPerSecond, 1)} (failures ${i.failures})`);
    lines.push(`isolation changes/s 3 replicas vs 1: ratio ${f(x.isolationRatio3to1)}`);
    lines.push(`cold start of one more replica (database running) to /readyz 200: median ${f(x.coldStartMedianMs, 0)} ms (${x.coldStartMs.join(', ')})`);
  }
  if (r.rolloutFleet) {
    const x = r.rolloutFleet;
    lines.push('', `rollout: one package over ${x.environments} simulated environments, maxConcurrent ${x.maxConcurrent}, simulator speed ${x.simulatorSpeed}; load average ${la(r.loadAverage1m.rollouts)}`);
    lines.push('installs needed | skipped current · other | succeeded · failed | POSTs per installed env (min–max) | POSTs where current | status calls per installed env (mean · max) | one install ms | waves | rollout ms | duration ÷ (waves × one install)');
    lines.push(
      `${x.installsNeeded} | ${x.skippedCurrent} · ${x.skippedOther} | ${x.succeeded} · ${x.failed} | ${x.postsPerInstalledEnvironment.min}–${x.postsPerInstalledEnvironment.max} | ${x.postsWhereCurrent} | ${f(x.statusCallsPerInstalledEnvironment.mean, 1)} · ${x.statusCallsPerInstalledEnvironment.max} | ${x.oneInstallMs} | ${x.waves} | ${x.rolloutMs} | ratio ${f(x.durationRatio)}`,
    );
  }
  lines.push('', `total ${f(r.totalSeconds, 0)} s`);
  return lines.join('\n');
}
