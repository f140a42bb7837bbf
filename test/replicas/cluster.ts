// Several relay replicas as real processes (src/main.ts through tsx, UPSTREAM=live) on one
// simulator running in the test process and one PostgreSQL: what a deployment with replicas is,
// minus the load balancer, whose job the tests do by choosing a replica for each request.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { sha256Hex } from '../../src/http/api-keys.js';
import type { Simulator } from '../../src/simulator/index.js';
import { liveRelayProcessEnv } from '../../src/upstream/simulator-env.js';

export interface Replica {
  name: string;
  baseUrl: string;
  pid: number;
  /** Ends the process: SIGTERM (a graceful stop) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface ReplicaResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience, like the stack harness
  body: any;
}

export interface Cluster {
  replicas: Replica[];
  /** Starts one more replica sharing the cluster's simulator, database and secrets. */
  start(name: string): Promise<Replica>;
  call(replica: Replica | string, method: string, path: string, body?: unknown): Promise<ReplicaResponse>;
  close(): Promise<void>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/** How a replica is run: node's arguments; the default runs the source through tsx. */
const FROM_SOURCE = ['--import', 'tsx', 'src/main.ts'];

export async function startCluster(
  sim: Simulator,
  databaseUrl: string,
  count: number,
  extraEnv: Record<string, string> = {},
  entry: string[] = FROM_SOURCE,
): Promise<Cluster> {
  const apiKey = `replicas-${randomBytes(18).toString('base64url')}`;
  // One environment for every replica: what they must share is the wait URL secret (drawn once
  // here) and the database.
  const env = {
    ...liveRelayProcessEnv(sim, `replicas:${sha256Hex(apiKey)}:*`),
    STATE_STORE: 'postgres',
    DATABASE_URL: databaseUrl,
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...extraEnv,
  };
  const dispatcher = new Agent({ connections: 200, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const children = new Set<ChildProcess>();
  const replicas: Replica[] = [];

  const start = async (name: string): Promise<Replica> => {
    const child = spawn(process.execPath, entry, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => children.delete(child));
    const baseUrl = await listening(child, name);
    const replica: Replica = {
      name,
      baseUrl,
      pid: child.pid ?? 0,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
    };
    replicas.push(replica);
    return replica;
  };

  const call = async (replica: Replica | string, method: string, path: string, body?: unknown): Promise<ReplicaResponse> => {
    const base = typeof replica === 'string' ? '' : replica.baseUrl;
    const res = await request(`${base}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.statusCode, headers: res.headers, body: parsed };
  };

  try {
    await Promise.all(Array.from({ length: count }, (_, i) => start(`replica-${String.fromCharCode(65 + i)}`)));
  } catch (err) {
    for (const child of children) child.kill('SIGKILL');
    throw err;
  }
  // Start order is not name order when they start together.
  replicas.sort((a, b) => a.name.localeCompare(b.name));
  return {
    replicas,
    start,
    call,
    async close() {
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      await dispatcher.close();
    },
  };
}

export function listening(child: ChildProcess, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 90 s:\n${out}`)), 90_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening:\n${out}`));
    });
  });
}
