// `npm run bench:profile`: where the relay's own CPU goes, from V8 CPU profiles of the built relay.
//   --load[=seconds]   the relay (live mode, against the simulator in this process) under the
//                      32-connection ListPackages load of `npm run bench`; CPU per request by group
//   --cold=simulator|live   from process start to the first GET /v1/environments 200
//   --imports          the cost of importing each dependency and relay module in a fresh process
//   --file=x.cpuprofile [--from=µs] [--to=µs] [--requests=n] [--timeline]   summarise a profile you have
//   --out=dir          where profiles are written (default /tmp/relay-profiles); --no-build as in run.ts
// With no mode, --load and both --cold runs. Only the window of interest is summarised: the load,
// or start to first answer (a profile's clock is the same monotonic clock as process.hrtime).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DEMO_ENVIRONMENTS, type Simulator, startSimulator } from '../src/simulator/index.js';
import { liveModeProbe, simulatorModeProbe, timeToFirstOk } from './cold-start.js';
import { importCostMs, RELAY_IMPORTS } from './import-cost.js';
import { type CpuProfile, renderSummary, summarise } from './lib/cpuprofile-summary.js';
import { RELAY_ENTRY, startRelayProcess } from './lib/relay-process.js';
import { runLoad } from './lib/run-load.js';

const arg = (name: string) => process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ?? (process.argv.includes(`--${name}`) ? '' : undefined);
const out = arg('out') || '/tmp/relay-profiles';
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const load1m = () => (loadavg()[0] ?? 0).toFixed(2);

if (arg('file') !== undefined) {
  const file = arg('file') ?? '';
  const s = summarise(readProfile(file), { fromUs: num(arg('from')), toUs: num(arg('to')) });
  console.log(renderSummary(s, { perRequestOf: num(arg('requests')), timeline: process.argv.includes('--timeline') }));
  process.exit(0);
}

const modes = { load: arg('load'), cold: arg('cold'), imports: arg('imports') };
const all = modes.load === undefined && modes.cold === undefined && modes.imports === undefined;
if (!process.argv.includes('--no-build')) {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0 && !existsSync(RELAY_ENTRY)) throw new Error('the build failed and there is no dist/ to run');
}

const sim = await startSimulator({ speed: 1 });
try {
  if (all || modes.load !== undefined) await profileLoad(sim, Number(modes.load) || 10);
  const cold = all ? ['simulator', 'live'] : modes.cold !== undefined ? [modes.cold || 'simulator'] : [];
  for (const mode of cold) await profileColdStart(sim, mode === 'live' ? 'live' : 'simulator');
  if (all || modes.imports !== undefined) {
    console.log(`\n== import cost in a fresh process (median of 3, overlapping); load average ${load1m()}`);
    for (const m of RELAY_IMPORTS) {
      const ms = importCostMs(m, 3);
      console.log(`${Number.isNaN(ms) ? '     –   ' : `${ms.toFixed(0).padStart(6)} ms`}  ${m}${Number.isNaN(ms) ? ' (cannot be imported: moved?)' : ''}`);
    }
  }
} finally {
  await sim.close();
}

async function profileLoad(sim: Simulator, seconds: number) {
  const dir = freshDir(`load-${Date.now()}`);
  const relay = await startRelayProcess(sim, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const env = DEMO_ENVIRONMENTS.sales;
  const spec = { url: `${relay.baseUrl}/v1/environments/${env}/packages`, headers: { 'x-api-key': relay.apiKey }, connections: 32 };
  let from = 0;
  let to = 0;
  let requests = 0;
  const loadBefore = load1m();
  try {
    await runLoad({ ...spec, durationSeconds: 2 }); // warm: token, pools, JIT
    from = nowUs();
    const r = await runLoad({ ...spec, durationSeconds: seconds });
    to = nowUs();
    requests = r.total;
    console.log(`\n== relay under 32-connection ListPackages load, ${seconds} s: ${r.requestsPerSecond.toFixed(0)} req/s, ${r.non2xx + r.errors} failures; load average ${loadBefore} → ${load1m()}`);
  } finally {
    await relay.stop();
  }
  const file = newestProfile(dir);
  console.log(`profile: ${file} (--from=${from} --to=${to} --requests=${requests})`);
  console.log(renderSummary(summarise(readProfile(file), { fromUs: from, toUs: to }), { perRequestOf: requests }));
}

async function profileColdStart(sim: Simulator, mode: 'simulator' | 'live') {
  const dir = freshDir(`cold-${mode}-${Date.now()}`);
  const probe = mode === 'live' ? liveModeProbe(sim) : simulatorModeProbe('/v1/environments');
  const loadBefore = load1m();
  const { ms, answeredAtUs } = await timeToFirstOk(probe, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const file = newestProfile(dir);
  console.log(`\n== cold start, ${mode} mode, to the first GET /v1/environments 200: ${ms.toFixed(0)} ms (profiling on); load average ${loadBefore} → ${load1m()}`);
  console.log(`profile: ${file} (--to=${answeredAtUs})`);
  console.log(renderSummary(summarise(readProfile(file), { toUs: answeredAtUs, bucketMs: 100 }), { top: 25, timeline: true }));
}

function freshDir(name: string): string {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${dir}: did the relay exit cleanly on SIGTERM?`);
  return files[0];
}

function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

function num(x: string | undefined): number | undefined {
  return x === undefined || x === '' ? undefined : Number(x);
}
