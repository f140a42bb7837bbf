// Starts passthrough-proxy.ts in its own process (like the relay), pointed at the simulator.
import { spawn } from 'node:child_process';
import type { Simulator } from '../../src/simulator/index.js';
import type { PassthroughSpec } from './passthrough-proxy.js';
import { listeningAddress, stopChild } from './relay-process.js';

export interface PassthroughProcess {
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

const ENTRY = new URL('./passthrough-proxy.ts', import.meta.url).pathname;

export async function startPassthrough(sim: Simulator): Promise<PassthroughProcess> {
  const spec: PassthroughSpec = { upstreamOrigin: sim.origin, caCertPath: sim.caCertPath };
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(spec)], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const baseUrl = await listeningAddress(child);
  return { baseUrl, pid: child.pid ?? 0, stop: () => stopChild(child) };
}
