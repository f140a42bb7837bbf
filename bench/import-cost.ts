// What loading each package costs a fresh process: `import()` of one package (or relay module) in
// its own `node` process, the median of several, against an empty `node -e`. Packages share
// dependencies, so the figures overlap and do not add up; they say which imports are worth deferring.
import { execFileSync } from 'node:child_process';
import { median } from './cold-start.js';

export const RELAY_IMPORTS = [
  'fastify',
  'fastify-type-provider-zod',
  'zod',
  'pino',
  'undici',
  '@fastify/rate-limit',
  'helmet',
  'prom-client',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@azure/identity',
  'jose',
  'selfsigned',
  'pg',
  'node-pg-migrate',
  './dist/src/config.js',
  './dist/src/upstream/index.js',
  './dist/src/state/stores.js',
  './dist/src/simulator/index.js',
  './dist/src/connector-definition/docs-plugin.js',
  './dist/src/app.js',
];

/** Median ms, or NaN when the module cannot be imported (relay paths move as src/ is reorganised). */
export function importCostMs(specifier: string, runs: number): number {
  const code = `const t=performance.now();await import(${JSON.stringify(specifier)});process.stdout.write(String(performance.now()-t))`;
  const xs: number[] = [];
  try {
    for (let i = 0; i < runs; i++) xs.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })));
  } catch {
    return Number.NaN;
  }
  return median(xs);
}
