// The bundle that `npm start` and the container run (scripts/bundle-relay.ts), as a real process:
// in simulator mode it answers a flow call, serves Swagger UI and a definition with every operation
// of the committed one, starting from the code cache the build wrote (and without it when the
// cache does not fit, saying so); in live mode on PostgreSQL it migrates an empty database from
// the migrations emitted beside it and keeps the audit trail there.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { request } from 'undici';
import { startSimulator } from '../../src/simulator/index.js';
import { startPostgres } from '../helpers/postgres.js';
import { listening, startCluster } from '../replicas/cluster.js';

const ROOT = new URL('../..', import.meta.url).pathname;
// Inside the project, so the packages left outside the bundle resolve from node_modules.
const outdir = `dist/bundle-test-${process.pid}`;
t.teardown(() => rmSync(join(ROOT, outdir), { recursive: true, force: true }));
const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bundle-relay.ts', `--outdir=${outdir}`], { cwd: ROOT, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`the bundle did not build:\n${built.stdout}${built.stderr}`);
const entry = `${outdir}/relay.js`;

const operationIds = (definition: { paths: Record<string, Record<string, { operationId?: string }>> }) =>
  Object.values(definition.paths)
    .flatMap((methods) => Object.values(methods).map((op) => op.operationId))
    .filter((id): id is string => typeof id === 'string')
    .sort();

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const key = 'bundle-test-demo-key-0123456789';

/** The bundle in simulator mode, with what it writes to stderr. */
async function startBundle(t: { teardown(fn: () => unknown): void }) {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DEMO_API_KEY: key, HOST: '127.0.0.1', PORT: '0', AUDIT_STORE: 'memory', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const base = await listening(child, 'the bundled relay');
  return { child, base, stderr: () => stderr };
}

t.test('the build wrote a code cache', async (t) => {
  t.ok(readFileSync(join(ROOT, outdir, 'relay-main.cjs.code-cache')).length > 100_000, 'relay-main.cjs.code-cache, from the warm-up run');
});

t.test('simulator mode: a flow call, Swagger UI and the whole definition', async (t) => {
  const { child, base, stderr } = await startBundle(t);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${base}${path}`, { headers });
    return { status: res.statusCode, text: await res.body.text() };
  };

  const environments = await get('/v1/environments', { 'x-api-key': key });
  t.equal(environments.status, 200, environments.text);
  t.ok(JSON.parse(environments.text).value.length > 0, 'the simulator seeds environments');

  const page = await get('/docs/');
  t.equal(page.status, 200);
  t.match(page.text, /swagger/i);
  t.equal((await get('/docs/static/swagger-ui.css')).status, 200, "Swagger UI's own files are found next to its package");

  const served = await get('/apiDefinition.swagger.json');
  t.equal(served.status, 200);
  const committed = JSON.parse(readFileSync(join(ROOT, 'apiDefinition.swagger.json'), 'utf8'));
  t.same(operationIds(JSON.parse(served.text)), operationIds(committed), 'every operation of the committed definition');

  child.kill('SIGTERM');
  t.equal(await exited(child), 0, 'a clean stop');
  t.notMatch(stderr(), /CodeCacheWarning/, 'the code cache fitted this build and this Node');
});

t.test('a code cache that does not fit is passed over, with a warning', async (t) => {
  const cacheFile = join(ROOT, outdir, 'relay-main.cjs.code-cache');
  const good = readFileSync(cacheFile);
  t.teardown(() => writeFileSync(cacheFile, good));
  writeFileSync(cacheFile, Buffer.alloc(good.length, 7));
  const { child, base, stderr } = await startBundle(t);
  const res = await request(`${base}/v1/environments`, { headers: { 'x-api-key': key } });
  t.equal(res.statusCode, 200, await res.body.text());
  child.kill('SIGTERM');
  t.equal(await exited(child), 0, 'a clean stop');
  t.match(stderr(), /CodeCacheWarning: .*relay-main\.cjs\.code-cache was not used/, 'the warning names the cache and why');
});

t.test('live mode on PostgreSQL: migrations from beside the bundle, audit trail in the database', async (t) => {
  const sim = await startSimulator({ speed: 1000 });
  t.teardown(() => sim.close());
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const admin = new pg.Client(server.url);
  await admin.connect();
  await admin.query('create database bundle_test');
  await admin.end();
  const url = server.url.replace(/\/postgres$/, '/bundle_test');

  const cluster = await startCluster(sim, url, 1, {}, [entry]);
  t.teardown(() => cluster.close());
  const [relay] = cluster.replicas;
  if (!relay) throw new Error('no replica started');
  const tenant = '4d7c1a2b-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
  const put = await cluster.call(relay, 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { direction: 'Both' });
  t.equal(put.status, 200, JSON.stringify(put.body));
  const changes = await cluster.call(relay, 'GET', '/v1/tenant-isolation/changes');
  t.equal(changes.status, 200);
  t.ok(
    changes.body.value.some((c: { ruleTenantId?: string; outcome?: string }) => c.ruleTenantId === tenant && c.outcome === 'applied'),
    'the change is in the audit trail',
  );

  const db = new pg.Client(url);
  await db.connect();
  t.teardown(() => db.end());
  const applied = (await db.query('select name from relay_migrations order by name')).rows.map((r) => r.name);
  const shipped = readdirSync(join(ROOT, 'src/state/postgres/migrations'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
  t.same(applied, shipped, 'every migration ran from the bundle');
  t.equal((await db.query('select count(*)::int as n from relay_audit')).rows[0].n, 1, 'the audit row is in PostgreSQL');
});
