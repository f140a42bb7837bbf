// npm run hash-key: what it prints goes straight into API_KEYS, and the key then works.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { createApiKeyVerifier } from '../../src/http/api-keys.js';

const run = (...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/hash-key.ts', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    encoding: 'utf8',
  }).trim();

t.test('prints the SHA-256 of the key, or a whole API_KEYS entry', async (t) => {
  const key = 'k3y-with spaces & symbols ✓';
  t.equal(run(key), createHash('sha256').update(key, 'utf8').digest('hex'));
  const entry = run(key, 'flows', 'packages.read+packages.install');
  const config = loadConfig({ UPSTREAM: 'simulator', API_KEYS: entry });
  const match = createApiKeyVerifier(config.apiKeys).verify(key);
  t.equal(match?.name, 'flows');
  t.same([...(match?.permissions ?? [])].sort(), ['packages.install', 'packages.read']);
  t.equal(createApiKeyVerifier(config.apiKeys).verify(`${key} `), undefined);
});

t.test('without a key it explains the usage and fails', async (t) => {
  t.throws(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/hash-key.ts'], { cwd: new URL('../..', import.meta.url).pathname, stdio: 'pipe' }));
});
