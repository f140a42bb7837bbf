import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { Agent, request } from 'undici';

// `npm run simulator` runs src/simulator/cli.ts through tsx; run the same file the same way.
t.test('the CLI starts alone, prints where it runs, answers, and stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/cli.ts', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const origin = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  const caPath = /CA certificate:\s+(\S+)/.exec(out)?.[1];
  t.ok(origin, 'prints the origin');
  t.ok(caPath && existsSync(caPath), 'prints an existing CA certificate path');
  t.match(out, /AZURE_CLIENT_ID=[0-9a-f-]{36}/);
  t.match(out, /AZURE_CLIENT_SECRET=\S+/);

  const agent = new Agent({ connect: { ca: readFileSync(caPath!, 'utf8') } });
  const res = await request(`${origin}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`, {
    dispatcher: agent,
  });
  t.equal(res.statusCode, 200);
  await res.body.json();
  await agent.close();

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exits cleanly');
  t.notOk(existsSync(caPath!), 'temporary files removed');
});

t.test('the CLI refuses a bad --port with a message', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/cli.ts', '--port', 'http'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 2);
  t.match(err, /--port must be a port number/);
});
