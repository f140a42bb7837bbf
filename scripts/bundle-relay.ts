// `npm run build` ends here: the relay as a bundle in dist/bundle/, which is what `npm start` and the
// container run. A cold start then reads a handful of files instead of about 1,500 modules from
// node_modules: module loading was the largest share of a replica's wake-up (see the README's
// benchmark section).
//
// Three parts: relay-main.cjs (the relay, one CommonJS file so V8 can cache its compiled code),
// relay.js (src/bundle-entry.ts: runs relay-main.cjs from that cache) and the migrations beside
// them. Last, a warm-up run writes the code cache: the bundle started in live mode against the
// simulator, answering the calls a woken replica answers first, then stopped.
//
// Left outside the bundle: packages that find files next to their own code (@fastify/swagger-ui
// serves its static folder, @fastify/swagger reads its package.json, node-pg-migrate loads
// migration files) and pg's optional native binding. Also outside: what Fastify requires only on
// paths the relay never takes (its default Ajv and fast-json-stringify compilers, light-my-request
// for inject()); bundled, their half a megabyte would still be parsed at every start.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { build } from 'esbuild';
import { sha256Hex } from '../src/http/api-keys.js';
import { DEMO_ENVIRONMENTS, startSimulator } from '../src/simulator/index.js';
import { liveRelayProcessEnv } from '../src/upstream/simulator-env.js';

// --outdir=… builds elsewhere (the bundle test builds its own copy).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) || 'dist/bundle';
const MIGRATIONS = 'src/state/postgres/migrations';
const migrationEntries = Object.fromEntries(
  readdirSync(MIGRATIONS)
    .filter((file) => extname(file) === '.ts')
    .map((file) => [`migrations/${basename(file, '.ts')}`, `${MIGRATIONS}/${file}`]),
);
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' } as const;

// A previous build's files (an older layout's chunks, a code cache of other code) must not linger.
rmSync(outdir, { recursive: true, force: true });

await build({
  ...common,
  entryPoints: { 'relay-main': 'src/main.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  external: [
    '@fastify/swagger-ui',
    '@fastify/swagger',
    'node-pg-migrate',
    'pg-native',
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    'light-my-request',
  ],
  // The sources are ES modules; the one use of import.meta (where the migrations are) is the
  // bundle's own location, which in CommonJS is __filename.
  define: { 'import.meta.url': '__relayFileUrl' },
  banner: { js: "var __relayFileUrl = require('node:url').pathToFileURL(__filename).href;" },
});
await build({ ...common, entryPoints: { relay: 'src/bundle-entry.ts' }, outdir, format: 'esm' });
// node-pg-migrate imports each migration as a module of its own.
await build({ ...common, entryPoints: migrationEntries, outdir, format: 'esm' });

await writeCodeCache().catch((err: unknown) => {
  // Only slower without it: the relay compiles its code as it goes, as any Node program does.
  console.warn(`bundle-relay: no code cache written (${err instanceof Error ? err.message : String(err)}); the relay starts without one`);
});

/** Runs the bundle once with --write-code-cache against the simulator; the entry writes the cache at exit. */
async function writeCodeCache(): Promise<void> {
  const sim = await startSimulator({ speed: 1 });
  const apiKey = randomBytes(18).toString('base64url');
  const child = spawn(process.execPath, [join(outdir, 'relay.js'), '--write-code-cache'], {
    env: { ...liveRelayProcessEnv(sim, `warmup:${sha256Hex(apiKey)}:*`), AUDIT_STORE: 'memory' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const base = await listeningOn(child);
    const env = encodeURIComponent(DEMO_ENVIRONMENTS.sales);
    for (const path of ['/v1/environments', `/v1/environments/${env}/packages`]) {
      const res = await fetch(`${base}${path}`, { headers: { 'x-api-key': apiKey } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`the warm-up's GET ${path} answered ${res.status}`);
    }
  } finally {
    await stopped(child);
    await sim.close();
  }
  if (!existsSync(join(outdir, 'relay-main.cjs.code-cache'))) throw new Error('the warm-up run exited without writing it');
}

function listeningOn(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the warm-up run did not listen within 30 s')), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the warm-up run exited (${code}) before listening`));
    });
  });
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // A clean stop writes the cache; one that hangs must not hang the build (no cache is written then).
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
