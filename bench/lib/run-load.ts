// Starts load-worker.ts in a child process and returns its figures.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LoadResult, LoadSpec } from './load-worker.js';

const run = promisify(execFile);
const WORKER = new URL('./load-worker.ts', import.meta.url).pathname;

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(spec)], {
    timeout: (spec.durationSeconds + 60) * 1000,
    maxBuffer: 1 << 20,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as LoadResult;
}
