// SIGTERM during 200 held long polls: the real process (src/main.ts with its embedded simulator,
// installs slowed so they stay running) answers every held wait with 202 + Location, so the flow
// engine re-polls another replica, and exits 0 before its own hard timeout.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { waitFor } from '../helpers/wait-for.js';

const HELD = 200;
const KEY = 'sigterm-test-key-0123456789abcdef';
const dataDir = mkdtempSync(join(tmpdir(), 'relay-sigterm-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: new URL('../..', import.meta.url).pathname,
  env: {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: '0',
    DEMO_API_KEY: KEY,
    // Installs take minutes at this speed, so every wait stays held until the shutdown.
    SIMULATOR_SPEED: '0.01',
    RATE_LIMIT_PER_MINUTE: '100000',
    AUDIT_STORE: `file:${join(dataDir, 'audit.jsonl')}`,
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
t.teardown(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const base = await new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 30_000);
  const check = () => {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]!);
    }
  };
  child.stdout.on('data', check);
  child.once('exit', () => reject(new Error(`relay exited during start:\n${output}`)));
});

const dispatcher = new Agent({ connections: HELD + 20, headersTimeout: 120_000, bodyTimeout: 120_000 });
t.teardown(() => dispatcher.close());
const call = async (method: 'GET' | 'POST', path: string) => {
  const res = await request(`${base}${path}`, { method, dispatcher, headers: { 'x-api-key': KEY } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
};

const inFlight = async () => {
  const text = (await request(`${base}/metrics`, { dispatcher }).then((r) => r.body.text())) as string;
  return Number(/^relay_http_requests_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
};

t.test('SIGTERM answers every held wait with 202 + Location and exits 0 in bounded time', async (t) => {
  const envs = (await call('GET', '/v1/environments')).body.value as Array<{ id: string; hasDataverse: boolean }>;
  const env = envs.find((e) => e.hasDataverse);
  if (!env) throw new Error('no environment with Dataverse in the demo');
  const pkgs = (await call('GET', `/v1/environments/${env.id}/packages?state=NotInstalled`)).body.value as Array<{ uniqueName: string }>;
  t.ok(pkgs.length > 0, 'a package to install');
  const started = await call('POST', `/v1/environments/${env.id}/packages/${pkgs[0]!.uniqueName}/install`);
  t.equal(started.status, 202, JSON.stringify(started.body));
  const location = new URL(String(started.headers.location));
  // Poll with the key instead of the signature, and ask to be held as long as allowed.
  location.searchParams.delete('sig');
  location.searchParams.set('waitSeconds', '100');
  const waitPath = `${location.pathname}${location.search}`;

  const held = Array.from({ length: HELD }, () => call('GET', waitPath));
  // Wait until the relay holds them all (its own gauge), rather than for a guessed time.
  // The gauge counts the /metrics request that reads it, hence HELD + 1.
  await waitFor(async () => (await inFlight()) >= HELD + 1, `the relay to hold ${HELD} waits`, { everyMs: 50 });
  t.ok((await inFlight()) >= HELD + 1, `the relay holds ${HELD} waits`);

  child.kill('SIGTERM');
  const answers = await Promise.all(held);
  const statuses = new Map<number, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  t.same(Object.fromEntries(statuses), { 202: HELD }, 'every held wait answered 202');
  t.ok(
    answers.every((a) => String(a.headers.location).includes(location.pathname) && a.headers['retry-after']),
    'each with Location and Retry-After',
  );
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 40_000).unref())]);
  if (code !== 0) t.comment(output.slice(-3000));
  t.equal(code, 0, 'the process exits 0 before its 25 s hard timeout');
});
