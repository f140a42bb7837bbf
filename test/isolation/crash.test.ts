// A real crash: the relay runs in a child process against the simulator, a rule change is sent,
// and the process is SIGKILLed once the audit intent is on disk while the (slow) upstream PUT is
// still in flight. A relay started afterwards on the same audit file shows the change with outcome
// "unknown" — the honest answer, since the PUT may still land — rather than nothing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startSimulator } from '../../src/simulator/index.js';
import { createUpstreamClients } from '../../src/upstream/index.js';
import { simulatorEnv } from '../../src/upstream/simulator-env.js';

const OTHER = 'aaaaaaaa-1111-4222-8333-444444444444';

t.test('SIGKILL between the audit intent and the end of the PUT leaves an "unknown" record', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isolation-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const auditFile = join(dir, 'audit.jsonl');
  const sim = await startSimulator({ speed: 50 });
  t.teardown(() => sim.close());
  sim.control.setOption('slowPutMs', 1500);

  const apiKey = `key-${randomBytes(12).toString('hex')}`;
  const env: Record<string, string> = {
    ...simulatorEnv(sim),
    AUDIT_STORE: `file:${auditFile}`,
    DEMO_API_KEY: apiKey,
    WAIT_URL_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
  };
  const src = (p: string) => JSON.stringify(resolve('src', p));
  const code = `
    const { loadConfig } = await import(${src('config.ts')});
    const { buildApp } = await import(${src('app.ts')});
    const { createUpstreamClients } = await import(${src('upstream/index.ts')});
    const config = loadConfig(process.env);
    const app = await buildApp({ config, upstream: createUpstreamClients(config) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write('PORT ' + app.server.address().port + '\\n');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolvePort(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`relay child exited early (${c})`)));
  });

  const write = request(`http://127.0.0.1:${port}/v1/tenant-isolation/rules/${OTHER}`, {
    method: 'PUT',
    headers: {
      'x-api-key': apiKey,
      'content-type': 'application/json',
      'x-correlation-id': 'corr-crash-real',
    },
    body: JSON.stringify({ direction: 'Both', reason: 'about to crash' }),
  }).then(
    (r) => r.statusCode,
    () => 'connection lost',
  );

  // Wait for the intent on disk and the PUT to reach upstream, then kill the relay mid-PUT.
  const started = Date.now();
  const intentOnDisk = () =>
    existsSync(auditFile) && readFileSync(auditFile, 'utf8').includes('"kind":"intent"');
  while (
    !(intentOnDisk() && sim.control.calls({ route: 'bap.isolation.put' }).length > 0) &&
    Date.now() - started < 20_000
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(intentOnDisk(), 'the intent was durable before the PUT');
  t.notOk(
    readFileSync(auditFile, 'utf8').includes('"kind":"completion"'),
    'no completion yet: the PUT is still running',
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.equal(await write, 'connection lost', 'the caller never got an answer');

  // A new relay on the same audit file.
  const config = loadConfig({ ...env, AUDIT_STORE: `file:${auditFile}` });
  const upstream = createUpstreamClients(config);
  t.teardown(() => upstream.close());
  const app = await buildApp({ config, upstream });
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'GET',
    url: '/v1/tenant-isolation/changes',
    headers: { 'x-api-key': apiKey },
  });
  t.equal(res.statusCode, 200);
  const [record] = res.json().value;
  t.match(record, {
    action: 'upsertRule',
    ruleTenantId: OTHER,
    reason: 'about to crash',
    correlationId: 'corr-crash-real',
    outcome: 'unknown',
    completedAt: null,
  });
  t.ok(
    record.after.rules.some((r: { tenantId: string }) => r.tenantId === OTHER),
    'the record says what was about to be written',
  );
});
