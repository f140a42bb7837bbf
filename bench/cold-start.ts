// Cold start: from spawning `node dist/src/main.js` (simulator mode: the embedded simulator starts
// too) to /readyz answering 200, against a bare `node -e` HTTP server started and probed the same way.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { RELAY_ENTRY, stopChild } from './lib/relay-process.js';

export interface ColdStartResult {
  runs: number;
  relayMedianMs: number;
  bareNodeMedianMs: number;
  /** relay / bare node. */
  ratio: number;
}

const BARE = "require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT),'127.0.0.1')";

export async function measureColdStart(opts: { runs: number }): Promise<ColdStartResult> {
  const relay: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    relay.push(await timeToOk([RELAY_ENTRY], '/readyz'));
    bare.push(await timeToOk(['-e', BARE], '/'));
  }
  const relayMedianMs = median(relay);
  const bareNodeMedianMs = median(bare);
  return { runs: opts.runs, relayMedianMs, bareNodeMedianMs, ratio: relayMedianMs / bareNodeMedianMs };
}

async function timeToOk(args: string[], path: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUDIT_STORE: 'memory' },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode} before answering`);
      if (performance.now() - started > 30_000) throw new Error(`${args.join(' ')} did not answer ${path} within 30 s`);
      const ok = await request(`http://127.0.0.1:${port}${path}`, { headersTimeout: 2000 })
        .then(async (res) => {
          await res.body.dump();
          return res.statusCode === 200;
        })
        .catch(() => false);
      if (ok) return performance.now() - started;
      await sleep(5);
    }
  } finally {
    await stopChild(child);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
