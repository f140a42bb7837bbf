// DEMO_API_KEY holds every permission and is given in clear: it belongs to the simulator demo.
// Outside simulator mode the relay refuses to start with it (once a seven-character demo key switched
// tenant isolation off on a live relay), and the start banner never prints a key there.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { request } from 'undici';
import { ConfigError, loadConfig } from '../../src/config.js';
import { sha256Hex } from '../../src/http/api-keys.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startBanner } from '../../src/start-banner.js';
import { simulatorEnv } from '../../src/upstream/simulator-env.js';

const LIVE = {
  UPSTREAM: 'live',
  AZURE_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  AZURE_CLIENT_ID: 'c',
  AZURE_CLIENT_SECRET: 's',
  WAIT_URL_SECRET: 'w'.repeat(32),
  ENTRA_AUDIENCE: 'api://relay',
};
const ROOT = new URL('../..', import.meta.url).pathname;

t.test('loadConfig refuses DEMO_API_KEY outside simulator mode and says what to use instead', async (t) => {
  for (const env of [
    { ...LIVE, DEMO_API_KEY: 'seven77' },
    { ...LIVE, DEMO_API_KEY: 'k'.repeat(40), AUTH_MODE: 'apikey', API_KEYS: `ops:${sha256Hex('x'.repeat(40))}:*`, HOST: '0.0.0.0' },
    // Credentials alone select live mode.
    { AZURE_TENANT_ID: LIVE.AZURE_TENANT_ID, AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's', WAIT_URL_SECRET: LIVE.WAIT_URL_SECRET, ENTRA_AUDIENCE: 'x', DEMO_API_KEY: 'k'.repeat(40) },
  ]) {
    const err = t.throws(() => loadConfig(env)) as ConfigError;
    t.type(err, ConfigError);
    t.equal(err.variable, 'DEMO_API_KEY');
    t.match(err.message, /simulator/);
    t.match(err.message, /API_KEYS/);
    t.match(err.message, /npm run hash-key/);
    t.notMatch(err.message, env.DEMO_API_KEY, 'the key itself is not echoed');
  }
  t.equal(loadConfig({ DEMO_API_KEY: 'demo-key' }).demoApiKey, 'demo-key', 'the simulator demo keeps it');
  t.equal(loadConfig({ DEMO_API_KEY: 'demo-key', HOST: '0.0.0.0' }).upstream, 'simulator', 'also in the container demo');
});

t.test('the banner shows a key only in simulator mode', async (t) => {
  const live = startBanner({ upstream: 'live', authMode: 'apikey', demoApiKey: 'leaked-key', publicBaseUrl: 'https://r' }, 'http://0.0.0.0:3000', []);
  t.notMatch(live, 'leaked-key');
  t.match(live, 'X-API-Key: <your key>');
  const demo = startBanner({ upstream: 'simulator', authMode: 'apikey', demoApiKey: 'demo-key', publicBaseUrl: 'http://127.0.0.1:3000' }, 'http://127.0.0.1:3000', []);
  t.match(demo, 'X-API-Key: demo-key');
});

/** Runs src/main.ts; resolves when it exits or once it listens (then it is stopped). */
function runRelay(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', AUDIT_STORE: 'memory', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise<{ code: number | null; output: string; base?: string; stop: () => Promise<void> }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the relay neither started nor exited within 60 s:\n${output}`));
    }, 60_000);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    };
    const onData = (d: Buffer) => {
      output += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      // The banner is written in one piece right after the listening line.
      if (m && /Try it:[\s\S]*tenant-isolation/.test(output)) {
        clearTimeout(timer);
        resolve({ code: null, output, base: m[1], stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stop });
    });
  });
}

t.test('the process: DEMO_API_KEY with UPSTREAM=live stops the start and never prints the key', async (t) => {
  const key = 'seven77';
  const run = await runRelay({ ...LIVE, AUTH_MODE: 'apikey', API_KEYS: `ops:${sha256Hex('x'.repeat(40))}:*`, DEMO_API_KEY: key, HOST: '0.0.0.0' });
  t.teardown(run.stop);
  t.equal(run.code, 1, 'exits with an error instead of listening');
  t.match(run.output, /cannot start: DEMO_API_KEY: .*API_KEYS.*npm run hash-key/);
  t.notMatch(run.output, `X-API-Key: ${key}`);
});

t.test('the process: live mode with hashed API_KEYS starts, works, and prints no key', async (t) => {
  const sim = await startSimulator({ speed: 50 });
  t.teardown(() => sim.close());
  const key = `live-${randomBytes(24).toString('base64url')}`;
  const run = await runRelay({
    ...simulatorEnv(sim),
    UPSTREAM: 'live',
    AUTH_MODE: 'apikey',
    API_KEYS: `flows:${sha256Hex(key)}:packages.read`,
    WAIT_URL_SECRET: randomBytes(32).toString('base64url'),
  });
  t.teardown(run.stop);
  t.ok(run.base, run.output);
  t.match(run.output, 'X-API-Key: <your key>');
  t.notMatch(run.output, key);
  const res = await request(`${run.base}/v1/environments`, { headers: { 'x-api-key': key } });
  t.equal(res.statusCode, 200, await res.body.text());
});
