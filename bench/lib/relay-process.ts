// Runs the built relay (dist/bundle/relay.js, what npm start runs) as its own process against a
// simulator running in the benchmark process, so its resident memory and CPU are its own and the load generator does not
// share its event loop. UPSTREAM=live with the simulator's endpoints: the relay cannot tell it apart.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../../src/http/api-keys.js';
import type { Simulator } from '../../src/simulator/index.js';
import { liveRelayProcessEnv } from '../../src/upstream/simulator-env.js';

export interface RelayProcess {
  baseUrl: string;
  apiKey: string;
  pid: number;
  /** Resident set size in bytes, read from /proc (Linux). */
  rssBytes(): number;
  stop(): Promise<void>;
}

export const RELAY_ENTRY = 'dist/bundle/relay.js';

/** What the benchmark's relay runs with: live mode against the simulator's endpoints, one hashed API key. */
export function liveRelayEnv(sim: Simulator, apiKey: string): Record<string, string> {
  return {
    ...liveRelayProcessEnv(sim, `bench:${sha256Hex(apiKey)}:*`),
    AUDIT_STORE: 'memory',
    // The benchmark is one caller sending far more than a flow would; the limiter is not under test.
    RATE_LIMIT_PER_MINUTE: '100000000',
  };
}

export function newApiKey(): string {
  return `bench-${randomBytes(18).toString('base64url')}`;
}

export async function startRelayProcess(sim: Simulator, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<RelayProcess> {
  const apiKey = newApiKey();
  const child = spawn(process.execPath, [...nodeArgs, RELAY_ENTRY], {
    env: { ...liveRelayEnv(sim, apiKey), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const baseUrl = await listeningAddress(child);
  const pid = child.pid ?? 0;
  return {
    baseUrl,
    apiKey,
    pid,
    rssBytes: () => rssOf(pid),
    stop: () => stopChild(child),
  };
}

/** main.ts prints "Admin Relay listening on http://127.0.0.1:<port>" once it listens (the pass-through proxy the same). */
export function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the relay did not start within 30 s:\n${out}\n${err}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1].replace('0.0.0.0', '127.0.0.1'));
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/** CPU time (user + system) the process has used, in ms, from /proc (Linux; 100 ticks a second). */
export function cpuMsOf(pid: number): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
